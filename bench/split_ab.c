/* nablas-bench-train --split-ab and --split-sweep: the batch split of the training step
   (net/split.c) against unsplit steps at the same thread count and against one thread, and
   the sweep over networks and batch sizes that sets the split rule (NB_SPLIT_MIN_MAC,
   NB_SPLIT_MIN_ROWS).  Variants take turns epoch by epoch, so they see the same load. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "core/pool.h"
#include "net/network.h" /* nb__split_policy, the rule's constants */
#include "split_ab.h"
#include "workloads.h"

typedef struct variant {
    int threads, policy;
    bool serial; /* the parts one after the other on the calling thread (the split's cost) */
} variant;

typedef struct serial_epoch {
    nb_trainer *tr;
    const bw_workload *w;
    size_t batch;
    uint64_t seed;
    double t;
} serial_epoch;

static double epoch_time(nb_trainer *tr, const bw_workload *w, size_t batch, uint64_t seed);

/* Inside a pool part, the step's own pool runs take their parts one after the other. */
static void serial_part(void *ctx, int k, int parts)
{
    (void)k, (void)parts;
    serial_epoch *e = ctx;
    e->t = epoch_time(e->tr, e->w, e->batch, e->seed);
}

static double epoch_time(nb_trainer *tr, const bw_workload *w, size_t batch, uint64_t seed)
{
    nb_tensor X = nb_tensor_view(w->X, w->rows, w->inputs);
    nb_tensor T = nb_tensor_view(w->T, w->rows, bw_outputs(w));
    nb_train_opts o = nb_train_opts_default();
    o.loss = w->loss;
    o.batch_size = batch;
    o.lr = w->lr;
    o.shuffle = w->shuffle;
    o.epochs = 1;
    o.seed = seed;
    double t0 = bu_now();
    if (nb_trainer_run(tr, &X, &T, &o, NULL) != NB_OK) {
        fprintf(stderr, "nablas-bench-train: nb_trainer_run failed\n");
        exit(2);
    }
    return bu_now() - t0;
}

/* Median epoch times of nv variants of the same network from the same start.  The variants
   take turns in blocks of BLOCK consecutive epochs (who goes first rotates), and the first
   epoch of each block is not counted: training runs its epochs back to back, with the pool's
   workers still spinning from the last step, while a switch of variant finds them asleep
   (nb_set_threads(1) even joins them).  One warm-up round. */
enum { BLOCK = 4 };

static void compare(const bw_workload *w, size_t batch, const variant *v, int nv, size_t reps,
                    double *med)
{
    nb_net *net[4];
    nb_trainer *tr[4];
    for (int k = 0; k < nv; k++)
        if (nb_net_create(&net[k], w->inputs, w->layers, w->n_layers, 1) != NB_OK
            || nb_trainer_create(&tr[k], net[k]) != NB_OK)
            exit(2);
    size_t per = reps * (BLOCK - 1); /* counted epochs per variant */
    double *d = malloc((size_t)nv * per * sizeof *d);
    for (size_t r = 0; r < reps + 1; r++)
        for (int j = 0; j < nv; j++) {
            int k = (int)((r + (size_t)j) % (size_t)nv);
            nb_set_threads(v[k].threads); /* lowering the count joins the pool's workers */
            bu_pool_warm(v[k].threads);   /* so they are made again here, not in the epoch */
            nb__split_policy(v[k].policy);
            for (size_t b = 0; b < BLOCK; b++) {
                uint64_t seed = r * BLOCK + b; /* the same shuffles for every variant */
                double t;
                if (v[k].serial) {
                    serial_epoch e = {tr[k], w, batch, seed, 0.0};
                    nb__pool_run(serial_part, &e, 1);
                    t = e.t;
                } else {
                    t = epoch_time(tr[k], w, batch, seed);
                }
                if (r > 0 && b > 0)
                    d[(size_t)k * per + (r - 1) * (BLOCK - 1) + b - 1] = t;
            }
        }
    for (int k = 0; k < nv; k++) {
        med[k] = bu_median(d + (size_t)k * per, per);
        nb_trainer_free(tr[k]);
        nb_net_free(net[k]);
    }
    nb__split_policy(NB_SPLIT_AUTO);
    free(d);
}

static void empty_part(void *ctx, int k, int parts)
{
    (void)parts;
    ((volatile int *)ctx)[k]++;
}

/* The pool's fork-join cost: runs of `parts` empty parts back to back, median of 11 batches
   of 2000 runs, in microseconds per run (the caller claims the parts no worker took yet). */
static double pool_round_trip(int parts)
{
    volatile int touched[NB_POOL_MAX] = {0};
    double t[11];
    nb__pool_reserve(parts);
    for (int b = 0; b < 11; b++) {
        double t0 = bu_now();
        for (int i = 0; i < 2000; i++)
            nb__pool_run(empty_part, (void *)touched, parts);
        t[b] = (bu_now() - t0) / 2000.0 * 1e6;
    }
    return bu_median(t, 11);
}

/* Part 0 waits (up to 20 ms) until a worker starts part 1: the time from the run's start to
   that, i.e. a worker's wake-up. */
typedef struct wake_ctx {
    double t0;
    _Atomic double started;
} wake_ctx;

static void wake_part(void *ctx, int k, int parts)
{
    (void)parts;
    wake_ctx *w = ctx;
    if (k == 1) {
        w->started = bu_now();
        return;
    }
    while (w->started == 0.0 && bu_now() - w->t0 < 0.02)
        ;
}

/* Medians of 51 wake-ups of a worker asleep (2 ms idle before each) and of one still
   spinning (right after a run), in microseconds. */
static void pool_wake(double *asleep, double *spinning)
{
    double a[51], s[51];
    nb__pool_reserve(2);
    for (int i = 0; i < 51; i++)
        for (int hot = 0; hot < 2; hot++) {
            wake_ctx w = {0.0, 0.0};
            if (hot) {
                wake_ctx pre = {bu_now(), 0.0};
                nb__pool_run(wake_part, &pre, 2);
            } else {
                double until = bu_now() + 0.002;
                while (bu_now() < until)
                    ;
            }
            w.t0 = bu_now();
            nb__pool_run(wake_part, &w, 2);
            (hot ? s : a)[i] = (w.started > 0.0 ? w.started - w.t0 : 0.02) * 1e6;
        }
    *asleep = bu_median(a, 51);
    *spinning = bu_median(s, 51);
}

int split_ab(const char *workloads, int thr, size_t repeats, bool quick, bu_json *js)
{
    nb_set_threads(thr);
    double rt = pool_round_trip(thr), asleep = NAN, spinning = NAN;
    if (thr > 1)
        pool_wake(&asleep, &spinning);
    printf("thread pool: %.3f us per run of %d empty parts back to back; a worker starts its part "
           "%.1f us after the run begins when spinning, %.1f us when asleep (medians)\n", rt, thr,
           spinning, asleep);
    bu_json_row(js);
    bu_json_num(js, "pool_round_trip_us", rt);
    bu_json_num(js, "pool_wake_spinning_us", spinning);
    bu_json_num(js, "pool_wake_asleep_us", asleep);
    printf("batch split at %d threads: the split rule vs unsplit steps (BLAS policy alone) vs "
           "one thread, epochs alternating\n%-4s %6s %13s %13s %13s %9s %9s\n", thr, "wl",
           "parts", "split epoch", "unsplit epoch", "1-thr epoch", "1t/split", "1t/unspl");
    for (size_t i = 0; i < BW_COUNT; i++) {
        bw_workload w = bw_get(i);
        if (!bu_in_list(workloads, w.name))
            continue;
        bw_generate(&w);
        static const size_t full[BW_COUNT] = {200, 60, 3, 400};
        size_t reps = repeats ? repeats : quick ? (full[i] > 3 ? full[i] / 4 : 2) : full[i];
        nb_net *probe;
        if (nb_net_create(&probe, w.inputs, w.layers, w.n_layers, 1) != NB_OK)
            exit(2);
        nb_set_threads(thr);
        int parts = nb__split_parts(probe, w.batch < w.rows ? w.batch : w.rows);
        nb_net_free(probe);
        variant v[3] = {{thr, NB_SPLIT_AUTO, false}, {thr, NB_SPLIT_OFF, false},
                        {1, NB_SPLIT_AUTO, false}};
        double m[3];
        compare(&w, w.batch, v, 3, reps, m);
        printf("%-4s %6d %10.4g ms %10.4g ms %10.4g ms %8.3fx %8.3fx\n", w.name, parts,
               m[0] * 1e3, m[1] * 1e3, m[2] * 1e3, m[2] / m[0], m[2] / m[1]);
        bu_json_row(js);
        bu_json_str(js, "workload", w.name);
        bu_json_num(js, "threads", thr);
        bu_json_num(js, "parts", parts);
        bu_json_num(js, "split_epoch_s", m[0]);
        bu_json_num(js, "unsplit_epoch_s", m[1]);
        bu_json_num(js, "one_thread_epoch_s", m[2]);
        bw_free(&w);
    }
    nb_set_threads(thr);
    printf("1t/split = one-thread epoch / epoch with the split rule (above 1: the second thread "
           "pays); parts = the rule's parts per step (1: not split).\n");
    return 0;
}

int split_sweep(int thr, size_t repeats, bu_json *js)
{
    /* the workloads' shapes and two more, on random data of 2048 rows (shuffled) */
    static const struct {
        const char *name;
        size_t inputs, n;
        nb_layer_spec l[3];
        nb_loss loss;
    } nets[] = {
        {"4-16-8-3", 4, 3, {{16, NB_ACT_RELU, 0}, {8, NB_ACT_RELU, 0}, {3, NB_ACT_SIGMOID, 0}},
         NB_LOSS_MSE},
        {"4-32-32-1", 4, 3, {{32, NB_ACT_TANH, 0}, {32, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}},
         NB_LOSS_MSE},
        {"32-64-64-10", 32, 3, {{64, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}},
         NB_LOSS_SOFTMAX_CE},
        {"64-128-64-10", 64, 3, {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}},
         NB_LOSS_SOFTMAX_CE},
        {"256-256-256-10", 256, 3, {{256, NB_ACT_RELU, 0}, {256, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}},
         NB_LOSS_SOFTMAX_CE},
    };
    static const size_t batches[] = {8, 16, 32, 64, 128, 256, 1024};
    size_t reps = repeats ? repeats : 15;
    printf("split sweep at %d threads: forced split (every step over %d parts) vs unsplit, "
           "epochs of 2048 rows alternating\n%-15s %6s %12s %5s %12s %12s %12s %9s %9s\n", thr,
           thr, "network", "batch", "fwd MAC", "rule", "split step", "unspl step", "serial step",
           "gain", "cost");
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        bw_workload w = bw_get(1);
        w.name = nets[i].name;
        w.inputs = nets[i].inputs;
        w.n_layers = nets[i].n;
        for (size_t l = 0; l < w.n_layers; l++)
            w.layers[l] = nets[i].l[l];
        w.loss = nets[i].loss;
        w.rows = 2048;
        w.shuffle = true;
        w.lr = 0.01f;
        size_t out = bw_outputs(&w);
        w.X = bu_alloc(w.rows * w.inputs);
        w.T = bu_alloc(w.rows * out);
        nb_rng r;
        nb_rng_seed(&r, 5);
        for (size_t k = 0; k < w.rows * w.inputs; k++)
            w.X[k] = (float)nb_rng_uniform(&r);
        for (size_t k = 0; k < w.rows; k++)
            for (size_t j = 0; j < out; j++)
                w.T[k * out + j] = w.loss == NB_LOSS_MSE ? (float)nb_rng_uniform(&r)
                                                         : (float)(j == k % out);
        double mac = 0.0;
        size_t in = w.inputs;
        for (size_t l = 0; l < w.n_layers; l++) {
            mac += (double)in * (double)w.layers[l].units;
            in = w.layers[l].units;
        }
        nb_net *probe;
        if (nb_net_create(&probe, w.inputs, w.layers, w.n_layers, 1) != NB_OK)
            exit(2);
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            size_t bs = batches[b], steps = (w.rows + bs - 1) / bs;
            nb_set_threads(thr);
            int rule = nb__split_parts(probe, bs);
            variant v[3] = {{thr, NB_SPLIT_ALWAYS, false}, {thr, NB_SPLIT_OFF, false},
                            {thr, NB_SPLIT_ALWAYS, true}};
            double m[3];
            compare(&w, bs, v, 3, reps, m);
            printf("%-15s %6zu %12.0f %5d %9.3f us %9.3f us %9.3f us %8.3fx %8.3fx\n", w.name,
                   bs, mac * (double)bs, rule, m[0] / (double)steps * 1e6,
                   m[1] / (double)steps * 1e6, m[2] / (double)steps * 1e6, m[1] / m[0],
                   m[2] / m[1]);
            bu_json_row(js);
            bu_json_str(js, "network", w.name);
            bu_json_num(js, "batch", (double)bs);
            bu_json_num(js, "fwd_mac", mac * (double)bs);
            bu_json_num(js, "rule_parts", rule);
            bu_json_num(js, "split_step_s", m[0] / (double)steps);
            bu_json_num(js, "unsplit_step_s", m[1] / (double)steps);
            bu_json_num(js, "split_serial_step_s", m[2] / (double)steps);
        }
        nb_net_free(probe);
        free(w.X);
        free(w.T);
    }
    nb_set_threads(thr);
    printf("gain = unsplit step / split step (above 1: splitting pays); cost = the split's "
           "parts run one after the other on one thread / unsplit step (the extra work the\n"
           "split adds); rule = the parts nablas' rule picks (1: no split); fwd MAC = "
           "multiply-adds of the step's forward.\n");
    return 0;
}
