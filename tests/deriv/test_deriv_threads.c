/* Two threads, each on its own context over one shared network, give the same bits as one
   thread running both jobs in turn (the network is only read; each context has its own
   workspace). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "nablas.h"

enum { B = 300, N = 8, M = 4 };

typedef struct job {
    nb_deriv_ctx *ctx;
    const nb_tensor *X, *V, *U;
    nb_tensor J, JV, UJ, Y;
    nb_status st;
} job;

static void *run(void *p)
{
    job *j = p;
    for (int rep = 0; rep < 5 && j->st == NB_OK; rep++) {
        j->st = nb_deriv_jacobian(j->ctx, j->X, &j->J, &j->Y);
        if (j->st == NB_OK)
            j->st = nb_deriv_jvp(j->ctx, j->X, j->V, &j->JV, NULL);
        if (j->st == NB_OK)
            j->st = nb_deriv_vjp(j->ctx, j->X, j->U, &j->UJ, NULL);
    }
    return NULL;
}

static void job_init(job *j, nb_deriv_ctx *ctx, const nb_tensor *X, const nb_tensor *V,
                     const nb_tensor *U)
{
    memset(j, 0, sizeof *j);
    j->ctx = ctx;
    j->X = X;
    j->V = V;
    j->U = U;
    cr_assert_eq(nb_tensor_alloc(&j->J, B, M * N), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&j->JV, B, M), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&j->UJ, B, N), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&j->Y, B, M), NB_OK);
}

static bool same(const nb_tensor *a, const nb_tensor *b)
{
    return memcmp(a->data, b->data, a->rows * a->cols * sizeof(float)) == 0;
}

Test(deriv_threads, two_contexts_same_bits)
{
    nb_layer_spec s[] = {{64, NB_ACT_TANH, 0}, {64, NB_ACT_SIGMOID, 0}, {M, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, N, s, 3, 11), NB_OK);
    nb_tensor X[2], V, U;
    nb_rng r;
    nb_rng_seed(&r, 5);
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(nb_tensor_alloc(&X[t], B, N), NB_OK);
        for (size_t i = 0; i < B * N; i++)
            X[t].data[i] = (float)(2.0 * nb_rng_uniform(&r) - 1.0);
    }
    cr_assert_eq(nb_tensor_alloc(&V, B, N), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&U, B, M), NB_OK);
    for (size_t i = 0; i < B * N; i++)
        V.data[i] = (float)nb_rng_uniform(&r);
    for (size_t i = 0; i < B * M; i++)
        U.data[i] = (float)nb_rng_uniform(&r);
    nb_deriv_ctx *ctx[3];
    for (int c = 0; c < 3; c++)
        cr_assert_eq(nb_deriv_ctx_create(&ctx[c], net, NULL, 64), NB_OK);
    job one[2], two[2];
    for (int t = 0; t < 2; t++) {
        job_init(&one[t], ctx[2], &X[t], &V, &U);
        run(&one[t]);
        cr_assert_eq(one[t].st, NB_OK);
        job_init(&two[t], ctx[t], &X[t], &V, &U);
    }
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, run, &two[t]), 0);
    for (int t = 0; t < 2; t++)
        cr_assert_eq(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(two[t].st, NB_OK);
        cr_expect(same(&one[t].J, &two[t].J), "thread %d: Jacobian differs", t);
        cr_expect(same(&one[t].Y, &two[t].Y), "thread %d: outputs differ", t);
        cr_expect(same(&one[t].JV, &two[t].JV), "thread %d: JVP differs", t);
        cr_expect(same(&one[t].UJ, &two[t].UJ), "thread %d: VJP differs", t);
        nb_tensor *ts[] = {&one[t].J, &one[t].JV, &one[t].UJ, &one[t].Y,
                           &two[t].J, &two[t].JV, &two[t].UJ, &two[t].Y, &X[t]};
        for (size_t k = 0; k < sizeof ts / sizeof *ts; k++)
            nb_tensor_free(ts[k]);
    }
    for (int c = 0; c < 3; c++)
        nb_deriv_ctx_free(ctx[c]);
    nb_tensor_free(&V);
    nb_tensor_free(&U);
    nb_net_free(net);
}
