/* Inference contexts: several threads predicting at once give results bit-identical to
   nb_net_predict, with and without standardisation; errors are reported. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"

enum { THREADS = 6, ROUNDS = 25, ROWS = 300, BATCH = 64 };

typedef struct job {
    const nb_net *net;
    const nb_norm *norm;
    const nb_tensor *X;
    const float *want;
    int mismatches;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    nb_infer_ctx *ctx;
    if (nb_infer_ctx_create(&ctx, j->net, j->norm, BATCH) != NB_OK) {
        j->mismatches = -1;
        return NULL;
    }
    size_t out = nb_net_outputs(j->net);
    float *y = malloc(ROWS * out * sizeof(float));
    nb_tensor Y = nb_tensor_view(y, ROWS, out);
    for (int r = 0; r < ROUNDS; r++) {
        memset(y, 0, ROWS * out * sizeof(float));
        if (nb_infer_predict(ctx, j->X, &Y) != NB_OK
            || memcmp(y, j->want, ROWS * out * sizeof(float)) != 0)
            j->mismatches++;
    }
    free(y);
    nb_infer_ctx_free(ctx);
    return NULL;
}

static void run(bool with_norm)
{
    nb_layer_spec specs[] = {{32, NB_ACT_RELU, 0}, {16, NB_ACT_SIGMOID, 0}, {3, NB_ACT_SOFTMAX, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 8, specs, 3, 42), NB_OK);
    nb_tensor X = io_random(ROWS, 8, 1), Xn = io_random(ROWS, 8, 1), Y;
    nb_norm *norm = NULL;
    if (with_norm) {
        cr_assert_eq(nb_norm_fit(&norm, &X), NB_OK);
        cr_assert_eq(nb_norm_apply(norm, &Xn), NB_OK);
    }
    cr_assert_eq(nb_tensor_alloc(&Y, ROWS, 3), NB_OK);
    cr_assert_eq(nb_net_reserve(net, BATCH), NB_OK); /* same chunking as the contexts */
    cr_assert_eq(nb_net_predict(net, &Xn, &Y), NB_OK);
    pthread_t th[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){net, norm, &X, Y.data, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(jobs[i].mismatches, 0, "thread %d", i);
    }
    nb_norm_free(norm);
    nb_tensor_free(&X);
    nb_tensor_free(&Xn);
    nb_tensor_free(&Y);
    nb_net_free(net);
}

Test(infer, threads_match_nb_net_predict) { run(false); }
Test(infer, threads_match_with_standardisation) { run(true); }

/* NaN inputs and parameters flow through every activation as NaN, without undefined
   behaviour (the fuzzer once found a signed overflow in the vectorised exp for NaN). */
Test(infer, nan_inputs_and_parameters)
{
    for (int act = 0; act < NB_ACT_COUNT; act++) {
        nb_layer_spec specs[] = {{4, (nb_act)act, 0}, {2, (nb_act)act, 0}};
        nb_net *net;
        cr_assert_eq(nb_net_create(&net, 3, specs, 2, 1), NB_OK);
        nb_net_params(net)[0] = NAN;
        nb_infer_ctx *ctx;
        cr_assert_eq(nb_infer_ctx_create(&ctx, net, NULL, 4), NB_OK);
        float x[6] = {NAN, 1, -1, INFINITY, -INFINITY, 1e30f}, y[4];
        nb_tensor X = nb_tensor_view(x, 2, 3), Y = nb_tensor_view(y, 2, 2);
        cr_assert_eq(nb_infer_predict(ctx, &X, &Y), NB_OK);
        nb_infer_ctx_free(ctx);
        nb_net_free(net);
    }
}

Test(infer, errors)
{
    nb_net *net = io_small_net(1);
    nb_infer_ctx *ctx = (nb_infer_ctx *)&net;
    cr_assert_eq(nb_infer_ctx_create(&ctx, NULL, NULL, 4), NB_ERR_NULL);
    cr_assert_eq(nb_infer_ctx_create(&ctx, net, NULL, 0), NB_ERR_SHAPE);
    cr_assert_eq(nb_infer_ctx_create(NULL, net, NULL, 4), NB_ERR_NULL);
    float one[4] = {1, 1, 1, 1};
    nb_norm *wrong;
    cr_assert_eq(nb_norm_create(&wrong, 4, one, one), NB_OK);
    cr_assert_eq(nb_infer_ctx_create(&ctx, net, wrong, 4), NB_ERR_SHAPE);
    cr_assert_eq(ctx, (nb_infer_ctx *)&net);
    cr_assert_eq(nb_infer_ctx_create(&ctx, net, NULL, 4), NB_OK);
    float x[6] = {0}, y[4] = {9, 9, 9, 9};
    nb_tensor X = nb_tensor_view(x, 2, 3), Y = nb_tensor_view(y, 2, 2), Ybad = nb_tensor_view(y, 2, 1);
    cr_assert_eq(nb_infer_predict(ctx, &X, &Ybad), NB_ERR_SHAPE);
    nb_tensor Xbad = nb_tensor_view(x, 3, 2);
    cr_assert_eq(nb_infer_predict(ctx, &Xbad, &Y), NB_ERR_SHAPE);
    nb_tensor Yal = nb_tensor_view(x, 2, 2);
    cr_assert_eq(nb_infer_predict(ctx, &X, &Yal), NB_ERR_ALIAS);
    cr_assert_eq(nb_infer_predict(NULL, &X, &Y), NB_ERR_NULL);
    cr_assert_eq(y[0], 9.0f);
    cr_assert_eq(nb_infer_predict(ctx, &X, &Y), NB_OK);
    nb_infer_ctx_free(ctx);
    nb_infer_ctx_free(NULL);
    nb_norm_free(wrong);
    nb_net_free(net);
}
