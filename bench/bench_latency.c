/* nablas-bench-latency: one row at a time through W2's network (64-128-64-10, ReLU) and a
   4-32-32-1 tanh surrogate, as an embedded model inside a solver loop is called. nablas'
   inference context (nb_infer_predict) and nb_net_predict against FANN's fann_run and the plain
   loop a user would write, every call timed on its own, the variants taking turns call by call
   on the same input rows.  Then the input derivatives (latency_deriv.c): J1, one row's Jacobian
   of the surrogate beside one-row inference, and J2, the Jacobian of 1,024 rows of W2's network
   beside one batched forward of the same rows. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "latency_deriv.h"
#include "latency_peers.h"

enum { V_INFER, V_PREDICT, V_FANN, V_PLAIN, V_TIMER, NV };
static const char *vname[NV] = {"nb_infer_predict", "nb_net_predict", "fann_run", "plain loop",
                                "(clock only)"};
enum { POOL = 256 }; /* distinct input rows, cycled */

static void usage(FILE *f)
{
    fputs("usage: nablas-bench-latency [--calls N] [--reps N] [--quick] [--deriv-only] [--json FILE]\n"
          "  --calls N     timed calls per variant and network (default 100000; J1 too)\n"
          "  --reps N      timed batched calls of J2 (default 200)\n"
          "  --quick       10000 calls, 20 J2 calls (the meson benchmark run)\n"
          "  --deriv-only  only the derivative rows J1 and J2\n"
          "  --json FILE   also write the rows as JSON\n",
          f);
}

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double percentile(double *v, size_t n, double p) /* v sorted */
{
    size_t k = (size_t)ceil(p * (double)n);
    return v[k ? k - 1 : 0];
}

typedef struct wl {
    const char *name;
    size_t inputs, n_layers;
    nb_layer_spec spec[3];
    float lo, hi; /* input range */
} wl;

static volatile float sink;

static int run_net(const wl *w, size_t calls, bu_json *js)
{
    nb_net *net = NULL;
    if (nb_net_create(&net, w->inputs, w->spec, w->n_layers, 42) != NB_OK) {
        fprintf(stderr, "bench-latency: cannot create %s\n", w->name);
        return 1;
    }
    lat_net ln = {.n_layers = w->n_layers, .width = {w->inputs}};
    size_t wmax = w->inputs;
    for (size_t l = 0; l < w->n_layers; l++) {
        nb_tensor W, b;
        nb_net_layer_params(net, l, &W, &b);
        ln.width[l + 1] = w->spec[l].units;
        ln.W[l] = W.data;
        ln.b[l] = b.data;
        ln.act[l] = w->spec[l].act;
        wmax = w->spec[l].units > wmax ? w->spec[l].units : wmax;
    }
    size_t out = nb_net_outputs(net);
    nb_infer_ctx *ctx = NULL;
    if (nb_infer_ctx_create(&ctx, net, NULL, 1) != NB_OK || nb_net_reserve(net, 1) != NB_OK) {
        fprintf(stderr, "bench-latency: cannot create the inference context\n");
        return 1;
    }
    lat_fann *fann = lat_fann_create(&ln);
    float *pool = bu_alloc(POOL * w->inputs), *xf = bu_alloc(w->inputs);
    float *y[NV], *scratch = bu_alloc(2 * wmax);
    for (int v = 0; v < NV; v++)
        y[v] = bu_alloc(out);
    bu_fill_uniform(pool, POOL * w->inputs, 7, w->lo, w->hi);
    double *t[NV];
    for (int v = 0; v < NV; v++)
        t[v] = malloc(calls * sizeof(double));

    /* agreement first: nablas against the plain loop (and FANN where it computes the same) */
    double dev_plain = 0.0, dev_fann = 0.0;
    for (size_t r = 0; r < POOL; r++) {
        float *x = pool + r * w->inputs;
        nb_tensor X = nb_tensor_view(x, 1, w->inputs), Y = nb_tensor_view(y[V_INFER], 1, out);
        nb_infer_predict(ctx, &X, &Y);
        lat_plain_run(&ln, x, y[V_PLAIN], scratch);
        for (size_t j = 0; j < out; j++)
            dev_plain = fmax(dev_plain, fabs((double)y[V_INFER][j] - y[V_PLAIN][j]));
        if (fann) {
            memcpy(xf, x, w->inputs * sizeof(float));
            const float *yf = lat_fann_run(fann, xf);
            for (size_t j = 0; j < out; j++)
                dev_fann = fmax(dev_fann, fabs((double)y[V_INFER][j] - yf[j]));
        }
    }

    size_t warm = calls / 10 + 100;
    for (size_t i = 0; i < warm + calls; i++) {
        float *x = pool + (i % POOL) * w->inputs;
        for (int k = 0; k < NV; k++) {
            int v = (int)((i + (size_t)k) % NV); /* rotate the order call by call */
            long long t0, t1;
            if (v == V_INFER) {
                t0 = now_ns();
                nb_tensor X = nb_tensor_view(x, 1, w->inputs), Y = nb_tensor_view(y[v], 1, out);
                nb_infer_predict(ctx, &X, &Y);
                t1 = now_ns();
            } else if (v == V_PREDICT) {
                t0 = now_ns();
                nb_tensor X = nb_tensor_view(x, 1, w->inputs), Y = nb_tensor_view(y[v], 1, out);
                nb_net_predict(net, &X, &Y);
                t1 = now_ns();
            } else if (v == V_FANN) {
                if (!fann)
                    continue;
                memcpy(xf, x, w->inputs * sizeof(float)); /* fann_run takes a non-const row */
                t0 = now_ns();
                const float *yf = lat_fann_run(fann, xf);
                t1 = now_ns();
                y[v][0] = yf[0];
            } else if (v == V_PLAIN) {
                t0 = now_ns();
                lat_plain_run(&ln, x, y[v], scratch);
                t1 = now_ns();
            } else {
                t0 = now_ns();
                t1 = now_ns();
            }
            sink += y[v][0];
            if (i >= warm)
                t[v][i - warm] = (double)(t1 - t0);
        }
    }

    double med[NV], p99[NV];
    for (int v = 0; v < NV; v++) {
        if (v == V_FANN && !fann)
            continue;
        double m = bu_median(t[v], calls); /* sorts */
        med[v] = m;
        p99[v] = percentile(t[v], calls, 0.99);
    }
    for (int v = 0; v < NV; v++) {
        if (v == V_FANN && !fann) {
            printf("%-10s %-17s %12s %12s %10s %10s\n", w->name, vname[v], "-", "-", "-", "-");
            continue;
        }
        char vp[32] = "-", vf[32] = "-";
        if (v != V_TIMER) {
            snprintf(vp, sizeof vp, "%.2fx", med[v] / med[V_PLAIN]);
            if (fann)
                snprintf(vf, sizeof vf, "%.2fx", med[v] / med[V_FANN]);
        }
        printf("%-10s %-17s %12.0f %12.0f %10s %10s\n", w->name, vname[v], med[v], p99[v], vp, vf);
        bu_json_row(js);
        bu_json_str(js, "net", w->name);
        bu_json_str(js, "variant", vname[v]);
        bu_json_num(js, "median_ns", med[v]);
        bu_json_num(js, "p99_ns", p99[v]);
        bu_json_num(js, "vs_plain", med[v] / med[V_PLAIN]);
        bu_json_num(js, "vs_fann", fann ? med[v] / med[V_FANN] : NAN);
    }
    printf("%-10s max |nablas - plain loop| = %.2g", w->name, dev_plain);
    if (fann)
        printf(", |nablas - FANN| = %.2g%s", dev_fann,
               w->spec[0].act == NB_ACT_RELU ? " (FANN runs another activation)" : "");
    printf("\n");

    for (int v = 0; v < NV; v++) {
        free(t[v]);
        free(y[v]);
    }
    free(pool);
    free(xf);
    free(scratch);
    lat_fann_free(fann);
    nb_infer_ctx_free(ctx);
    nb_net_free(net);
    return 0;
}

int main(int argc, char **argv)
{
    size_t calls = 100000, reps = 200;
    bool deriv_only = false;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            calls = 10000;
            reps = 20;
        } else if (!strcmp(a, "--deriv-only")) {
            deriv_only = true;
        } else if (v && !strcmp(a, "--reps")) {
            char *end;
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || n < 5) {
                fprintf(stderr, "nablas-bench-latency: --reps needs a number >= 5\n");
                return 2;
            }
            reps = (size_t)n;
            i++;
        } else if (v && !strcmp(a, "--calls")) {
            char *end;
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || n < 100) {
                fprintf(stderr, "nablas-bench-latency: --calls needs a number >= 100\n");
                return 2;
            }
            calls = (size_t)n;
            i++;
        } else if (v && !strcmp(a, "--json")) {
            json = v;
            i++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    bu_print_header(stdout, "nablas-bench-latency");
    printf("one row per call, %zu timed calls per variant, taking turns call by call; "
           "FANN %s; times in ns\n",
           calls, lat_fann_available() ? "2.2 (fann_run)" : "not built (no libfann-dev)");
    printf("%-10s %-17s %12s %12s %10s %10s\n", "net", "variant", "median ns", "p99 ns",
           "vs plain", "vs FANN");
    bu_json *js = bu_json_open(json, "nablas-bench-latency");
    const wl nets[] = {
        {"W2", 64, 3, {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}}, 0.0f, 1.0f},
        {"surrogate", 4, 3, {{32, NB_ACT_TANH, 0}, {32, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}}, -1.0f,
         1.0f},
    };
    int rc = 0;
    for (size_t k = 0; k < sizeof nets / sizeof nets[0] && !deriv_only; k++)
        rc |= run_net(&nets[k], calls, js);
    printf("input derivatives (nb_deriv_jacobian), each beside the forward it extends; J1 %zu "
           "one-row calls, J2 %zu calls on 1024 rows\n", calls, reps);
    printf("%-10s %-17s %12s %12s %10s\n", "bench", "variant", "median ns", "p99 ns",
           "vs forward");
    rc |= lat_deriv_j1(calls, js);
    rc |= lat_deriv_j2(reps, js);
    bu_json_close(js);
    return rc;
}
