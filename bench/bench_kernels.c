/* nablas-bench-kernels: every kernel over a range of shapes, against the plain loop a user
   would write and against what bounds it: the bare sgemm calls (dense layers) or memcpy of the
   same number of bytes (element-wise kernels, losses, SGD). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "bench_util.h"
#include "core/threads.h"        /* nb__blas_threads_for, as nb__dense_fwd calls it */

#include "kernels/dense_small.h" /* the library's internal small-size kernels, for --crossover */
#include "naive_kernels.h"

typedef struct ctx {
    const char *kernel;
    int variant; /* 0 nablas, 1 naive, 2 reference (sgemm or memcpy) */
    size_t rows, cols, in; /* dense: batch = rows, out = cols */
    nb_act act;
    nb_loss loss;
    float *a, *b, *c, *d, *e, *f; /* buffers, each large enough */
    size_t copy_bytes;            /* memcpy reference: bytes to copy */
} ctx;

static volatile float sink;

static void run_dense_fwd(ctx *k)
{
    size_t nB = k->rows, nI = k->in, nO = k->cols;
    if (k->variant == 0) {
        nb_tensor X = nb_tensor_view(k->a, nB, nI), W = nb_tensor_view(k->b, nI, nO);
        nb_tensor b = nb_tensor_view(k->c, 1, nO), Z = nb_tensor_view(k->d, nB, nO);
        nb_dense_forward(&X, &W, &b, &Z);
    } else if (k->variant == 1) {
        naive_dense_fwd(k->a, k->b, k->c, k->d, nB, nI, nO);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nB, (int)nO, (int)nI, 1.0f,
                    k->a, (int)nI, k->b, (int)nO, 0.0f, k->d, (int)nO);
    }
}

static void run_dense_bwd(ctx *k)
{
    size_t nB = k->rows, nI = k->in, nO = k->cols;
    if (k->variant == 0) {
        nb_tensor X = nb_tensor_view(k->a, nB, nI), W = nb_tensor_view(k->b, nI, nO);
        nb_tensor G = nb_tensor_view(k->c, nB, nO), dW = nb_tensor_view(k->d, nI, nO);
        nb_tensor db = nb_tensor_view(k->e, 1, nO), dX = nb_tensor_view(k->f, nB, nI);
        nb_dense_backward(&X, &W, &G, &dW, &db, &dX);
    } else if (k->variant == 1) {
        naive_dense_bwd(k->a, k->b, k->c, k->d, k->e, k->f, nB, nI, nO);
    } else {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nI, (int)nO, (int)nB, 1.0f,
                    k->a, (int)nI, k->c, (int)nO, 0.0f, k->d, (int)nO);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nB, (int)nI, (int)nO, 1.0f,
                    k->c, (int)nO, k->b, (int)nO, 0.0f, k->f, (int)nI);
    }
}

static void run_elementwise(ctx *k)
{
    nb_tensor A = nb_tensor_view(k->a, k->rows, k->cols), G = nb_tensor_view(k->b, k->rows, k->cols);
    nb_tensor T = nb_tensor_view(k->c, k->rows, k->cols);
    float l = 0.0f;
    if (k->variant == 2) {
        memcpy(k->e, k->f, k->copy_bytes);
        return;
    }
    bool nb = k->variant == 0;
    size_t n = k->rows * k->cols;
    if (!strcmp(k->kernel, "act_fwd")) {
        if (nb)
            nb_act_forward(k->act, &G);
        else
            naive_act_fwd(k->act, k->b, k->rows, k->cols);
    } else if (!strcmp(k->kernel, "act_bwd")) {
        if (nb) /* Z (c) is read only by the activations that need it */
            nb_act_backward_z(k->act, &T, &A, &G);
        else
            naive_act_bwd(k->act, k->c, k->a, k->b, k->rows, k->cols);
    } else if (!strcmp(k->kernel, "loss_fwd")) {
        if (nb)
            nb_loss_forward(k->loss, &A, &T, &l);
        else
            l = naive_loss_fwd(k->loss, k->a, k->c, k->rows, k->cols);
        sink = l;
    } else if (!strcmp(k->kernel, "loss_bwd")) {
        if (nb)
            nb_loss_backward(k->loss, &A, &T, &G);
        else
            naive_loss_bwd(k->loss, k->a, k->c, k->b, k->rows, k->cols);
    } else { /* sgd */
        nb_tensor P = nb_tensor_view(k->b, 1, n), dP = nb_tensor_view(k->a, 1, n);
        if (nb)
            nb_sgd_step(&P, &dP, 1e-3f);
        else
            naive_sgd(k->b, k->a, n, 1e-3f);
    }
}

static void run(ctx *k)
{
    if (!strcmp(k->kernel, "dense_fwd"))
        run_dense_fwd(k);
    else if (!strcmp(k->kernel, "dense_bwd"))
        run_dense_bwd(k);
    else
        run_elementwise(k);
}

enum { SAMPLES = 5 };

/* Calls per sample of one variant, so that a sample lasts about min_s / SAMPLES. */
static size_t calibrate(ctx *k, double min_s)
{
    run(k); /* warm: caches, OpenBLAS's buffers and threads */
    double t0 = bu_now();
    run(k);
    double once = bu_now() - t0;
    return once > 0 ? (size_t)(min_s / SAMPLES / once) + 1 : 1000;
}

/* Median seconds per call of each variant (nablas, naive, reference).  The variants take turns
   sample by sample, so that all three see the same machine load: on a shared machine it
   drifts within seconds, and timing one variant after the other would measure the drift. */
static void time_variants(ctx *k, double min_s, double t[3])
{
    size_t reps[3];
    double s[3][SAMPLES];
    for (int v = 0; v < 3; v++) {
        k->variant = v;
        reps[v] = calibrate(k, min_s);
    }
    for (int i = 0; i < SAMPLES; i++)
        for (int v = 0; v < 3; v++) {
            k->variant = v;
            double t0 = bu_now();
            for (size_t r = 0; r < reps[v]; r++)
                run(k);
            s[v][i] = (bu_now() - t0) / (double)reps[v];
        }
    for (int v = 0; v < 3; v++)
        t[v] = bu_median(s[v], SAMPLES);
}

typedef struct options {
    const char *json, *only;
    double min_s;
    bool crossover, thread_crossover, row_crossover;
} options;

/* One layer's three products of a training step (forward, input gradient, fused weight
   update), by the small-size path or by sgemm. */
static void step_products(ctx *k)
{
    size_t nB = k->rows, nI = k->in, nO = k->cols;
    if (k->variant == 0) {
        nb__small_fwd(k->a, k->b, NULL, k->d, nB, nI, nO, false);
        nb__small_dx(k->c, k->b, k->f, nB, nI, nO);
        nb__small_xtg(k->a, k->c, k->b, nB, nI, nO, -1e-6f, true);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nB, (int)nO, (int)nI, 1.0f,
                    k->a, (int)nI, k->b, (int)nO, 0.0f, k->d, (int)nO);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nB, (int)nI, (int)nO, 1.0f,
                    k->c, (int)nO, k->b, (int)nO, 0.0f, k->f, (int)nI);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nI, (int)nO, (int)nB, -1e-6f,
                    k->a, (int)nI, k->c, (int)nO, 1.0f, k->b, (int)nO);
    }
}

/* --crossover: where sgemm starts to beat the small path (sets NB_SMALL_MAX_MNK). */
static void crossover(bu_json *js, double min_s)
{
    static const size_t shapes[][3] = {
        {32, 4, 16}, {32, 16, 8}, {32, 16, 16}, {32, 32, 32}, {64, 32, 32}, {32, 64, 32},
        {64, 64, 10}, {64, 64, 16}, {128, 32, 32}, {64, 64, 32}, {256, 16, 16}, {1000, 4, 8},
        {64, 64, 64}, {128, 64, 32}, {256, 32, 32}, {128, 64, 64}, {256, 64, 32}};
    printf("\ncrossover: one layer's forward + input gradient + weight update, small path vs "
           "sgemm\n%-14s %10s %12s %12s %9s\n", "batch x in x out", "MNK", "small us",
           "sgemm us", "sgemm/small");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t nB = shapes[s][0], nI = shapes[s][1], nO = shapes[s][2];
        if (!nb__dense_small(1, nI, nO))
            continue;
        ctx k = {"step", 0, nB, nO, nI, NB_ACT_IDENTITY, NB_LOSS_MSE, bu_alloc(nB * nI),
                 bu_alloc(nI * nO), bu_alloc(nB * nO), bu_alloc(nB * nO), NULL, bu_alloc(nB * nI), 0};
        bu_fill_uniform(k.a, nB * nI, 1, -1, 1);
        bu_fill_uniform(k.b, nI * nO, 2, -0.1f, 0.1f);
        bu_fill_uniform(k.c, nB * nO, 3, -0.1f, 0.1f);
        double t[2];
        for (int v = 0; v < 2; v++) {
            k.variant = v;
            step_products(&k);
            double t0 = bu_now();
            size_t reps = 0;
            while (bu_now() - t0 < min_s / 4) {
                step_products(&k);
                reps++;
            }
            t[v] = (bu_now() - t0) / (double)reps;
        }
        char shape[48];
        snprintf(shape, sizeof shape, "%zux%zux%zu", nB, nI, nO);
        printf("%-16s %8zu %12.3f %12.3f %9.2f\n", shape, nB * nI * nO, t[0] * 1e6, t[1] * 1e6,
               t[0] / t[1] > 0 ? t[1] / t[0] : 0.0);
        bu_json_row(js);
        bu_json_str(js, "kernel", "crossover");
        bu_json_str(js, "shape", shape);
        bu_json_num(js, "mnk", (double)(nB * nI * nO));
        bu_json_num(js, "small_s", t[0]);
        bu_json_num(js, "sgemm_s", t[1]);
        free(k.a), free(k.b), free(k.c), free(k.d), free(k.f);
    }
}

/* One forward product Z = X W + b of a few rows: 0 the few-rows path, 1 the small path, 2 the
   bias broadcast and a beta = 1 sgemm (nb__dense_fwd's three ways). */
static void fwd_by(int way, const float *X, const float *W, const float *b, float *Z, size_t nB,
                   size_t nI, size_t nO)
{
    if (way == 0) {
        nb__row_fwd(X, W, b, Z, nB, nI, nO, false);
    } else if (way == 1) {
        nb__small_fwd(X, W, b, Z, nB, nI, nO, false);
    } else {
        for (size_t i = 0; i < nB; i++)
            memcpy(Z + i * nO, b, nO * sizeof(float));
        nb__blas_threads_for(nB, nO, nI); /* the library's thread rule for this product */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nB, (int)nO, (int)nI, 1.0f,
                    X, (int)nI, W, (int)nO, 1.0f, Z, (int)nO);
    }
}

/* --row-crossover: a few rows' forward product by the few-rows path, the small path (where it
   applies) and sgemm, the three taking turns sample by sample (sets NB_ROW_MAX in
   src/kernels/dense_small.h).  Run it under each OPENBLAS_CORETYPE: sgemm's fixed cost is the
   kernel set's. */
static void row_crossover(bu_json *js, double min_s)
{
    static const size_t layers[][2] = {{4, 32}, {32, 32}, {32, 1}, {64, 128}, {128, 64},
                                       {64, 10}, {784, 1024}};
    static const size_t batches[] = {1, 2, 3, 4, 6, 8, 12, 16};
    enum { SAMPLES = 15 };
    const char *core = getenv("OPENBLAS_CORETYPE");
    printf("\nrow crossover: forward Z = X W + b of a few rows (OpenBLAS core %s, "
           "OPENBLAS_CORETYPE=%s), median ns of %d interleaved samples; row path used up to "
           "batch %d\n%-14s %6s %10s %10s %10s %-6s\n", nb_blas_corename(), core ? core : "(unset)",
           SAMPLES, (int)NB_ROW_MAX, "in x out", "batch", "row", "small", "sgemm", "best");
    for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
        size_t nI = layers[l][0], nO = layers[l][1], mB = batches[sizeof batches / sizeof *batches - 1];
        float *X = bu_alloc(mB * nI), *W = bu_alloc(nI * nO), *b = bu_alloc(nO), *Z = bu_alloc(mB * nO);
        bu_fill_uniform(X, mB * nI, 1, -1, 1);
        bu_fill_uniform(W, nI * nO, 2, -0.1f, 0.1f);
        bu_fill_uniform(b, nO, 3, -0.1f, 0.1f);
        for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++) {
            size_t nB = batches[bi];
            bool small = nb__dense_small(nB, nI, nO);
            double s[3][SAMPLES], t[3] = {0, 0, 0};
            size_t reps[3] = {1, 1, 1};
            for (int w = 0; w < 3; w++) { /* repetitions filling min_s / 3 / SAMPLES each */
                if (w == 1 && !small)
                    continue;
                double t0 = bu_now();
                while (bu_now() - t0 < min_s / 3 / SAMPLES) {
                    fwd_by(w, X, W, b, Z, nB, nI, nO);
                    reps[w]++;
                }
            }
            for (int i = 0; i < SAMPLES; i++)
                for (int w = 0; w < 3; w++) {
                    if (w == 1 && !small)
                        continue;
                    double t0 = bu_now();
                    for (size_t r = 0; r < reps[w]; r++)
                        fwd_by(w, X, W, b, Z, nB, nI, nO);
                    s[w][i] = (bu_now() - t0) / (double)reps[w];
                }
            int best = 0;
            for (int w = 0; w < 3; w++)
                if (w != 1 || small) {
                    t[w] = bu_median(s[w], SAMPLES);
                    if (t[w] < t[best])
                        best = w;
                }
            static const char *way[] = {"row", "small", "sgemm"};
            char shape[32], tsmall[16] = "-";
            snprintf(shape, sizeof shape, "%zux%zu", nI, nO);
            if (small)
                snprintf(tsmall, sizeof tsmall, "%.0f", t[1] * 1e9);
            printf("%-14s %6zu %10.0f %10s %10.0f %-6s\n", shape, nB, t[0] * 1e9, tsmall,
                   t[2] * 1e9, way[best]);
            bu_json_row(js);
            bu_json_str(js, "kernel", "row_crossover");
            bu_json_str(js, "shape", shape);
            bu_json_num(js, "batch", (double)nB);
            bu_json_num(js, "row_s", t[0]);
            bu_json_num(js, "small_s", small ? t[1] : -1.0);
            bu_json_num(js, "sgemm_s", t[2]);
        }
        free(X), free(W), free(b), free(Z);
    }
}

static void sgemm_product(int which, const float *X, float *W, const float *G, float *Z, float *dX,
                          size_t nB, size_t nI, size_t nO)
{
    if (which == 0) /* forward: Z = X W */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nB, (int)nO, (int)nI, 1.0f, X,
                    (int)nI, W, (int)nO, 0.0f, Z, (int)nO);
    else if (which == 1) /* input gradient: dX = G W^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nB, (int)nI, (int)nO, 1.0f, G,
                    (int)nO, W, (int)nO, 0.0f, dX, (int)nI);
    else /* fused weight update: W -= 1e-6 X^T G */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nI, (int)nO, (int)nB, -1e-6f, X,
                    (int)nI, G, (int)nO, 1.0f, W, (int)nO);
}

/* --thread-crossover: each training product by sgemm on 1 and on 2 OpenBLAS threads, taking
   turns sample by sample (sets NB_THREADS_MIN_MNK in src/core/threads.h). */
static void thread_crossover(bu_json *js, double min_s)
{
    static const size_t shapes[][3] = {
        {64, 64, 128}, {64, 128, 64}, {128, 128, 128}, {256, 1024, 10}, {256, 128, 128},
        {128, 256, 256}, {256, 256, 256}, {256, 512, 256}, {256, 512, 512}, {256, 784, 1024},
        {256, 1024, 1024}};
    static const char *pname[3] = {"fwd", "dx", "xtg"};
    enum { TS = 11 };
    printf("\nthread crossover: sgemm on 1 vs 2 OpenBLAS threads (median of %d interleaved "
           "samples)\n%-16s %-4s %11s %12s %12s %8s\n", TS, "batch x in x out", "prod", "MNK",
           "1 thread us", "2 threads us", "1t/2t");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t nB = shapes[s][0], nI = shapes[s][1], nO = shapes[s][2];
        float *X = bu_alloc(nB * nI), *W = bu_alloc(nI * nO), *G = bu_alloc(nB * nO);
        float *Z = bu_alloc(nB * nO), *dX = bu_alloc(nB * nI);
        bu_fill_uniform(X, nB * nI, 1, -1, 1);
        bu_fill_uniform(W, nI * nO, 2, -0.1f, 0.1f);
        bu_fill_uniform(G, nB * nO, 3, -0.1f, 0.1f);
        for (int p = 0; p < 3; p++) {
            double smp[2][TS];
            size_t reps = 1;
            openblas_set_num_threads(1);
            double t0 = bu_now();
            sgemm_product(p, X, W, G, Z, dX, nB, nI, nO);
            double one = bu_now() - t0;
            reps = (size_t)(min_s / TS / 2 / (one > 1e-7 ? one : 1e-7)) + 1;
            for (int i = 0; i < TS; i++)
                for (int th = 0; th < 2; th++) {
                    openblas_set_num_threads(th + 1);
                    sgemm_product(p, X, W, G, Z, dX, nB, nI, nO);
                    t0 = bu_now();
                    for (size_t r = 0; r < reps; r++)
                        sgemm_product(p, X, W, G, Z, dX, nB, nI, nO);
                    smp[th][i] = (bu_now() - t0) / (double)reps;
                }
            double t1 = bu_median(smp[0], TS), t2 = bu_median(smp[1], TS);
            char shape[48];
            snprintf(shape, sizeof shape, "%zux%zux%zu", nB, nI, nO);
            printf("%-16s %-4s %11zu %12.2f %12.2f %8.2f\n", shape, pname[p], nB * nI * nO,
                   t1 * 1e6, t2 * 1e6, t1 / t2);
            bu_json_row(js);
            bu_json_str(js, "kernel", "thread_crossover");
            bu_json_str(js, "shape", shape);
            bu_json_str(js, "product", pname[p]);
            bu_json_num(js, "mnk", (double)(nB * nI * nO));
            bu_json_num(js, "t1_s", t1);
            bu_json_num(js, "t2_s", t2);
        }
        free(X), free(W), free(G), free(Z), free(dX);
    }
    nb_set_threads(nb_get_threads()); /* back to the setting */
}

static void usage(FILE *f)
{
    fputs("usage: nablas-bench-kernels [--kernel NAME,...] [--threads N] [--min-time S] [--quick]\n"
          "                            [--json FILE]\n"
          "  kernels: dense_fwd dense_bwd act_fwd act_bwd loss_fwd loss_bwd sgd\n"
          "  Dense: GFLOP/s of nablas, the naive loop and the bare sgemm calls (no bias, no\n"
          "  column sums).  Element-wise: GB/s (bytes read + written) of nablas, the naive loop\n"
          "  and memcpy of the same bytes.  Ratios are nablas / reference and nablas / naive.\n"
          "  --min-time S    seconds per measurement (default 0.25; --quick 0.05)\n"
          "  --crossover     also time the small-size path against sgemm around its threshold\n"
          "  --thread-crossover  also time each training product's sgemm on 1 and 2 threads\n"
          "  --row-crossover also time a few rows' forward by the few-rows path, the small path\n"
          "                  and sgemm (batches 1-16)\n", f);
}

static void report(bu_json *js, const ctx *k, const char *what, const char *shape, double amount,
                   const char *unit, double t_nb, double t_naive, double t_ref)
{
    double r = amount / t_nb, n = amount / t_naive, f = amount / t_ref;
    printf("%-9s %-11s %-16s %9.2f %9.2f %9.2f %s %8.2f %8.2f\n", k->kernel, what, shape, r, n,
           f, unit, t_ref / t_nb, t_naive / t_nb);
    bu_json_row(js);
    bu_json_str(js, "kernel", k->kernel);
    bu_json_str(js, "variant", what);
    bu_json_str(js, "shape", shape);
    bu_json_str(js, "unit", unit);
    bu_json_num(js, "nablas", r);
    bu_json_num(js, "naive", n);
    bu_json_num(js, "reference", f);
    bu_json_num(js, "ratio_to_reference", t_ref / t_nb);
    bu_json_num(js, "speedup_vs_naive", t_naive / t_nb);
}

static void measure(bu_json *js, ctx *k, const char *what, const char *shape, double amount,
                    const char *unit, double min_s)
{
    double t[3];
    time_variants(k, min_s, t);
    report(js, k, what, shape, amount, unit, t[0], t[1], t[2]);
}

static void dense(bu_json *js, const char *kernel, double min_s)
{
    static const size_t shapes[][3] = {/* batch, in, out: the layers of W1-W4 and more */
        {32, 4, 16}, {32, 16, 8}, {32, 8, 3}, {64, 64, 128}, {64, 128, 64}, {64, 64, 10},
        {1000, 4, 8}, {256, 784, 1024}, {256, 1024, 1024}, {256, 1024, 10}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t nB = shapes[s][0], nI = shapes[s][1], nO = shapes[s][2];
        ctx k = {kernel, 0, nB, nO, nI, NB_ACT_IDENTITY, NB_LOSS_MSE, bu_alloc(nB * nI), bu_alloc(nI * nO),
                 bu_alloc(nB * nO), bu_alloc(nI * nO > nB * nO ? nI * nO : nB * nO), bu_alloc(nO), bu_alloc(nB * nI), 0};
        bu_fill_uniform(k.a, nB * nI, 1, -1, 1);
        bu_fill_uniform(k.b, nI * nO, 2, -0.1f, 0.1f);
        bu_fill_uniform(k.c, nB * nO, 3, -0.1f, 0.1f);
        char shape[48];
        snprintf(shape, sizeof shape, "%zux%zux%zu", nB, nI, nO);
        double flop = (strcmp(kernel, "dense_fwd") ? 4.0 : 2.0) * (double)(nB * nI * nO);
        measure(js, &k, "-", shape, flop * 1e-9, "GFLOP/s", min_s);
        free(k.a), free(k.b), free(k.c), free(k.d), free(k.e), free(k.f);
    }
}

/* Element-wise kernel over rows x cols; `arrays_rw`: arrays read + written per element. */
static void elementwise(bu_json *js, const char *kernel, const char *what, nb_act act,
                        nb_loss loss, size_t rows, size_t cols, double arrays_rw, double min_s)
{
    size_t n = rows * cols;
    double bytes = arrays_rw * 4.0 * (double)n;
    ctx k = {kernel, 0, rows, cols, 0, act, loss, bu_alloc(n), bu_alloc(n), bu_alloc(n), NULL,
             bu_alloc(n * 2), bu_alloc(n * 2), (size_t)(bytes / 2)};
    bu_fill_uniform(k.a, n, 4, 0.05f, 0.95f); /* valid activations / probabilities */
    bu_fill_uniform(k.b, n, 5, -1, 1);
    bu_fill_uniform(k.c, n, 6, 0, 1);
    bu_fill_uniform(k.f, n * 2, 7, -1, 1);
    char shape[48];
    snprintf(shape, sizeof shape, "%zux%zu", rows, cols);
    measure(js, &k, what, shape, bytes * 1e-9, "GB/s", min_s);
    free(k.a), free(k.b), free(k.c), free(k.e), free(k.f);
}

int main(int argc, char **argv)
{
    options o = {NULL, NULL, 0.25, false, false, false};
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            o.min_s = 0.05;
        } else if (!strcmp(a, "--crossover")) {
            o.crossover = true;
        } else if (!strcmp(a, "--thread-crossover")) {
            o.thread_crossover = true;
        } else if (!strcmp(a, "--row-crossover")) {
            o.row_crossover = true;
        } else if (v && !strcmp(a, "--json")) {
            o.json = argv[++i];
        } else if (v && !strcmp(a, "--kernel")) {
            o.only = argv[++i];
        } else if (v && !strcmp(a, "--min-time")) {
            o.min_s = atof(argv[++i]);
        } else if (v && !strcmp(a, "--threads")) {
            threads = atoi(argv[++i]);
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (threads > 0 && nb_set_threads(threads) != NB_OK)
        return 2;
#if defined(__x86_64__) || defined(__i386__)
    /* Repeated in-place kernels (leaky ReLU, sigmoid backward) drive values towards zero:
       flush denormals so that no measurement is of the denormal slow path. */
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
    bu_print_header(stdout, "nablas-bench-kernels");
    bu_json *js = bu_json_open(o.json, "nablas-bench-kernels");
    printf("%-9s %-11s %-16s %9s %9s %9s %-7s %8s %8s\n", "kernel", "variant", "shape", "nablas",
           "naive", "ref", "unit", "vs ref", "vs naive");
    if (bu_in_list(o.only, "dense_fwd"))
        dense(js, "dense_fwd", o.min_s);
    if (bu_in_list(o.only, "dense_bwd"))
        dense(js, "dense_bwd", o.min_s);
    /* Shapes: a W1 batch (call overhead), 1 MiB per array (inside L2), 16 MiB (beyond L2). */
    static const size_t ew[][2] = {{32, 16}, {256, 1024}, {2048, 2048}};
    static const size_t soft[][2] = {{64, 10}, {256, 10}, {409600, 10}};
    for (int dir = 0; dir < 2; dir++) {
        const char *kn = dir ? "act_bwd" : "act_fwd";
        if (!bu_in_list(o.only, kn))
            continue;
        for (int a = NB_ACT_RELU; a < NB_ACT_COUNT; a++)
            for (size_t s = 0; s < 3; s++) {
                const size_t *sh = a == NB_ACT_SOFTMAX ? soft[s] : ew[s];
                /* backward reads A or Z, and G, and writes G; GELU's reads both Z and A */
                elementwise(js, kn, nb_act_name((nb_act)a), (nb_act)a, NB_LOSS_MSE, sh[0], sh[1],
                            dir ? (a == NB_ACT_GELU ? 4.0 : 3.0) : 2.0, o.min_s);
            }
    }
    for (int dir = 0; dir < 2; dir++) {
        const char *kn = dir ? "loss_bwd" : "loss_fwd";
        if (!bu_in_list(o.only, kn))
            continue;
        for (int l = 0; l < NB_LOSS_COUNT; l++)
            for (size_t s = 0; s < 3; s++) {
                const size_t *sh = l == NB_LOSS_SOFTMAX_CE ? soft[s] : ew[s];
                elementwise(js, kn, nb_loss_name((nb_loss)l), NB_ACT_IDENTITY, (nb_loss)l, sh[0],
                            sh[1], dir ? 3.0 : 2.0, o.min_s);
            }
    }
    if (bu_in_list(o.only, "sgd")) {
        static const size_t sgd[] = {243, 17226, 1863690, 4194304}; /* W1, W2, W3 params; 16 MiB */
        for (size_t s = 0; s < 4; s++)
            elementwise(js, "sgd", "-", NB_ACT_IDENTITY, NB_LOSS_MSE, 1, sgd[s], 3.0, o.min_s);
    }
    if (o.crossover)
        crossover(js, o.min_s);
    if (o.thread_crossover)
        thread_crossover(js, o.min_s);
    if (o.row_crossover)
        row_crossover(js, o.min_s);
    printf("vs ref: nablas speed / (sgemm calls | memcpy of the same bytes); vs naive: nablas "
           "speed / naive loop speed.\n");
    bu_json_close(js);
    return 0;
}
