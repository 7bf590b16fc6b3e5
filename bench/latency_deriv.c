/* nablas-bench-latency's derivative rows (latency_deriv.h).  Each pair of variants takes turns
   call by call on the same rows, every call timed on its own, so that the ratio is measured in
   one run under the same load. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "latency_deriv.h"
#include "nablas.h"

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double p99_of(double *v, size_t n) /* v sorted */
{
    size_t k = (size_t)ceil(0.99 * (double)n);
    return v[k ? k - 1 : 0];
}

static volatile float sink;

static void row(bu_json *js, const char *bench, const char *variant, double med, double p99,
                double ratio)
{
    bu_json_row(js);
    bu_json_str(js, "bench", bench);
    bu_json_str(js, "variant", variant);
    bu_json_num(js, "median_ns", med);
    bu_json_num(js, "p99_ns", p99);
    bu_json_num(js, "vs_forward", ratio);
}

int lat_deriv_j1(size_t calls, bu_json *js)
{
    enum { N = 4, POOL = 256 };
    nb_layer_spec s[] = {{32, NB_ACT_TANH, 0}, {32, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    nb_infer_ctx *inf = NULL;
    nb_deriv_ctx *der = NULL;
    if (nb_net_create(&net, N, s, 3, 42) != NB_OK || nb_infer_ctx_create(&inf, net, NULL, 1) != NB_OK
        || nb_deriv_ctx_create(&der, net, NULL, 1) != NB_OK) {
        fprintf(stderr, "bench-latency: cannot make the J1 network or contexts\n");
        return 1;
    }
    float *pool = bu_alloc(POOL * N), y[1], j[N];
    bu_fill_uniform(pool, POOL * N, 7, -1.0f, 1.0f);
    double *t[2] = {malloc(calls * sizeof(double)), malloc(calls * sizeof(double))};
    size_t warm = calls / 10 + 100;
    for (size_t i = 0; i < warm + calls; i++) {
        nb_tensor X = nb_tensor_view(pool + (i % POOL) * N, 1, N), Y = nb_tensor_view(y, 1, 1),
                  J = nb_tensor_view(j, 1, N);
        for (int k = 0; k < 2; k++) {
            int v = (int)((i + (size_t)k) % 2); /* alternate which goes first */
            long long t0 = now_ns();
            if (v == 0)
                nb_infer_predict(inf, &X, &Y);
            else
                nb_deriv_jacobian(der, &X, &J, NULL);
            long long t1 = now_ns();
            if (i >= warm)
                t[v][i - warm] = (double)(t1 - t0);
        }
        sink += y[0] + j[0];
    }
    double mi = bu_median(t[0], calls), pi = p99_of(t[0], calls);
    double mj = bu_median(t[1], calls), pj = p99_of(t[1], calls);
    printf("%-10s %-17s %12.0f %12.0f %10s\n", "J1", "nb_infer_predict", mi, pi, "1.00x");
    printf("%-10s %-17s %12.0f %12.0f %9.2fx   (target: within 4x one-row inference)\n", "J1",
           "nb_deriv_jacobian", mj, pj, mj / mi);
    row(js, "J1 surrogate 4-32-32-1 tanh, one row", "nb_infer_predict", mi, pi, 1.0);
    row(js, "J1 surrogate 4-32-32-1 tanh, one row", "nb_deriv_jacobian", mj, pj, mj / mi);
    free(t[0]);
    free(t[1]);
    free(pool);
    nb_deriv_ctx_free(der);
    nb_infer_ctx_free(inf);
    nb_net_free(net);
    return 0;
}

int lat_deriv_j2(size_t reps, bu_json *js)
{
    enum { B = 1024, N = 64, M = 10 };
    nb_layer_spec s[] = {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {M, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    nb_infer_ctx *inf = NULL;
    nb_deriv_ctx *der = NULL;
    if (nb_net_create(&net, N, s, 3, 42) != NB_OK || nb_infer_ctx_create(&inf, net, NULL, B) != NB_OK
        || nb_deriv_ctx_create(&der, net, NULL, B) != NB_OK) {
        fprintf(stderr, "bench-latency: cannot make the J2 network or contexts\n");
        return 1;
    }
    float *x = bu_alloc(B * N), *y = bu_alloc(B * M), *j = bu_alloc((size_t)B * M * N);
    bu_fill_uniform(x, B * N, 11, 0.0f, 1.0f);
    nb_tensor X = nb_tensor_view(x, B, N), Y = nb_tensor_view(y, B, M),
              J = nb_tensor_view(j, B, M * N);
    double *t[2] = {malloc(reps * sizeof(double)), malloc(reps * sizeof(double))};
    size_t warm = reps / 10 + 3;
    for (size_t i = 0; i < warm + reps; i++)
        for (int k = 0; k < 2; k++) {
            int v = (int)((i + (size_t)k) % 2);
            long long t0 = now_ns();
            if (v == 0)
                nb_infer_predict(inf, &X, &Y);
            else
                nb_deriv_jacobian(der, &X, &J, NULL);
            long long t1 = now_ns();
            if (i >= warm)
                t[v][i - warm] = (double)(t1 - t0);
            sink += y[0] + j[0];
        }
    double mf = bu_median(t[0], reps), pf = p99_of(t[0], reps);
    double mj = bu_median(t[1], reps), pj = p99_of(t[1], reps);
    /* the fastest calls too: a call of milliseconds on a loaded machine is more often
       preempted than one of a fraction, which biases the ratio of medians */
    printf("%-10s %-17s %12.0f %12.0f %10s   (fastest %.0f ns)\n", "J2", "nb_infer_predict", mf,
           pf, "1.00x", t[0][0]);
    printf("%-10s %-17s %12.0f %12.0f %9.2fx   (fastest %.0f ns, %.2fx; target: within %dx one "
           "forward)\n", "J2", "nb_deriv_jacobian", mj, pj, mj / mf, t[1][0], t[1][0] / t[0][0],
           M + 1);
    row(js, "J2 W2 64-128-64-10 relu, 1024 rows", "nb_infer_predict", mf, pf, 1.0);
    row(js, "J2 W2 64-128-64-10 relu, 1024 rows", "nb_deriv_jacobian", mj, pj, mj / mf);
    free(t[0]);
    free(t[1]);
    free(x);
    free(y);
    free(j);
    nb_deriv_ctx_free(der);
    nb_infer_ctx_free(inf);
    nb_net_free(net);
    return 0;
}
