/* The thread pool (src/core/pool.h) and the batch split running on it: every part runs once
   per run, nested runs and runs from several threads at once, resizing through
   nb_set_threads, a fork()ed child, and split training that gives the same bits run after run.
   Built twice: with Criterion (unit suite) and as a plain program (tests/io/plain) for
   ThreadSanitizer (tools/tsan.sh), whose runtime Criterion's runner does not start under. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/pool.h"
#include "net/network.h"
#include "nablas.h"

enum { RUNS = 500 };

typedef struct count_ctx {
    atomic_int hits[NB_POOL_MAX];
    atomic_int inside_ok;
    int parts_seen;
} count_ctx;

static void count_part(void *p, int k, int parts)
{
    count_ctx *c = p;
    atomic_fetch_add(&c->hits[k], 1);
    if (nb__pool_inside() && parts == c->parts_seen)
        atomic_fetch_add(&c->inside_ok, 1);
}

/* runs of `parts` parts, RUNS times: each part exactly once per run, always "inside" */
static int check_runs(int parts)
{
    count_ctx c; /* one per call: several threads run this at once */
    memset(&c, 0, sizeof c);
    c.parts_seen = parts;
    for (int r = 0; r < RUNS; r++)
        nb__pool_run(count_part, &c, parts);
    for (int k = 0; k < parts; k++)
        if (atomic_load(&c.hits[k]) != RUNS)
            return 0;
    return atomic_load(&c.inside_ok) == RUNS * parts && !nb__pool_inside();
}

Test(pool, every_part_once)
{
    cr_assert_eq(nb_set_threads(4), NB_OK);
    cr_assert(nb__pool_reserve(4) >= 1);
    for (int parts = 1; parts <= 9; parts++)
        cr_assert(check_runs(parts), "parts %d", parts);
    cr_assert_eq(nb_set_threads(2), NB_OK); /* joins two workers */
    cr_assert(check_runs(2));
    cr_assert(check_runs(5));
    cr_assert_eq(nb_set_threads(1), NB_OK); /* joins the last one: runs on the caller alone */
    cr_assert(check_runs(3));
    cr_assert_eq(nb_set_threads(2), NB_OK); /* made again on first use */
    cr_assert(check_runs(2));
}

/* a part that starts a run of its own: that one runs on its thread, part after part */
static void nested_part(void *p, int k, int parts)
{
    (void)parts;
    count_ctx *c = p;
    static count_ctx inner[2];
    memset(&inner[k], 0, sizeof inner[k]);
    inner[k].parts_seen = 3;
    nb__pool_run(count_part, &inner[k], 3);
    if (atomic_load(&inner[k].hits[0]) == 1 && atomic_load(&inner[k].hits[1]) == 1
        && atomic_load(&inner[k].hits[2]) == 1)
        atomic_fetch_add(&c->hits[k], 1);
}

Test(pool, nested)
{
    cr_assert_eq(nb_set_threads(2), NB_OK);
    static count_ctx c;
    memset(&c, 0, sizeof c);
    for (int r = 0; r < 50; r++)
        nb__pool_run(nested_part, &c, 2);
    cr_assert_eq(atomic_load(&c.hits[0]), 50);
    cr_assert_eq(atomic_load(&c.hits[1]), 50);
}

static void *caller_thread(void *arg)
{
    int *ok = arg;
    *ok = check_runs(2);
    return NULL;
}

/* three threads run at once: one has the pool, the others run their parts themselves */
Test(pool, concurrent_callers)
{
    cr_assert_eq(nb_set_threads(2), NB_OK);
    pthread_t t[3];
    int ok[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, caller_thread, &ok[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    cr_assert(ok[0] && ok[1] && ok[2]);
}

/* a child of fork() has no workers: its first run makes them */
Test(pool, fork_child)
{
#ifdef NB_TSAN /* its runtime refuses new threads in a child of a multi-threaded fork */
    return;
#endif
    cr_assert_eq(nb_set_threads(2), NB_OK);
    cr_assert(check_runs(2));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0)
        _exit(check_runs(2) && check_runs(2) ? 0 : 3);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert(check_runs(2));
}

/* Split training: a W2-shaped network, dropout on, shuffled, 3 epochs at 2 threads, twice:
   the same bits (the parts' buffers are summed in part order, whatever the timing). */
static void train(float *params_out, int threads)
{
    enum { ROWS = 200, IN = 16, OUT = 4 };
    static float x[ROWS * IN], t[ROWS * OUT];
    nb_rng r;
    nb_rng_seed(&r, 9);
    for (size_t i = 0; i < ROWS * IN; i++)
        x[i] = (float)nb_rng_uniform(&r);
    for (size_t i = 0; i < ROWS; i++)
        for (size_t j = 0; j < OUT; j++)
            t[i * OUT + j] = (float)(j == i % OUT);
    const nb_layer_spec layers[] = {{64, NB_ACT_RELU, 0.2f}, {32, NB_ACT_TANH, 0},
                                    {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, layers, 3, 5), NB_OK);
    cr_assert_eq(nb_set_threads(threads), NB_OK);
    nb_tensor X = nb_tensor_view(x, ROWS, IN), T = nb_tensor_view(t, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.batch_size = 64;
    o.epochs = 3;
    o.lr = 0.1f;
    o.seed = 4;
    cr_assert_eq(nb_net_train(net, &X, &T, &o, NULL), NB_OK);
    memcpy(params_out, nb_net_params(net), nb_net_num_params(net) * sizeof(float));
    nb_net_free(net);
}

Test(pool, split_training_repeats_bits)
{
    nb__split_policy(NB_SPLIT_ALWAYS); /* whatever the rule says of this size */
    static float a[16 * 64 + 64 + 64 * 32 + 32 + 32 * 4 + 4], b[sizeof a / sizeof a[0]];
    train(a, 2);
    train(b, 2);
    nb__split_policy(NB_SPLIT_AUTO);
    cr_assert(memcmp(a, b, sizeof a) == 0, "two 2-thread runs differ");
}

/* An optimizer update of a large buffer runs as ranges on the pool (optim/optim.c): the same
   bits as at one thread. */
Test(pool, optimizer_ranges)
{
    enum { N = 300000 };
    static float p[2][N], g[N];
    nb_rng r;
    nb_rng_seed(&r, 6);
    for (size_t i = 0; i < N; i++) {
        p[0][i] = p[1][i] = (float)nb_rng_uniform(&r);
        g[i] = (float)nb_rng_uniform(&r) - 0.5f;
    }
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_ADAM);
    nb_optim *opt[2];
    for (int v = 0; v < 2; v++) {
        cr_assert_eq(nb_optim_create(&opt[v], N, &o), NB_OK);
        cr_assert_eq(nb_set_threads(v ? 2 : 1), NB_OK);
        for (int s = 0; s < 3; s++)
            cr_assert_eq(nb_optim_step(opt[v], p[v], g), NB_OK);
        nb_optim_free(opt[v]);
    }
    cr_assert(memcmp(p[0], p[1], sizeof p[0]) == 0, "2-thread update differs");
}
