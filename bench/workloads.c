/* Workload definitions and data generators: see workloads.h and the table in docs/performance.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "house_data.h"
#include "workloads.h"

static double mflop(size_t inputs, const nb_layer_spec *L, size_t n, size_t rows)
{
    double f = 0.0;
    size_t in = inputs;
    for (size_t l = 0; l < n; l++) {
        f += (l ? 6.0 : 4.0) * (double)in * (double)L[l].units * (double)rows;
        in = L[l].units;
    }
    return f * 1e-6;
}

bw_workload bw_get(size_t i)
{
    static const bw_workload defs[BW_COUNT] = {
        {"W1", "tiny 4-16-8-3, batch 32", 4096, 4, 3,
         {{16, NB_ACT_RELU, 0}, {8, NB_ACT_RELU, 0}, {3, NB_ACT_SIGMOID, 0}},
         NB_LOSS_MSE, 0.1f, 32, false, 1, 0, NULL, NULL},
        {"W2", "mid 64-128-64-10, batch 64", 1500, 64, 3,
         {{128, NB_ACT_RELU, 0}, {64, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}},
         NB_LOSS_SOFTMAX_CE, 0.05f, 64, true, 1, 0, NULL, NULL},
        {"W3", "wide 784-1024-1024-10, batch 256", 16384, 784, 3,
         {{1024, NB_ACT_RELU, 0}, {1024, NB_ACT_RELU, 0}, {10, NB_ACT_IDENTITY, 0}},
         NB_LOSS_SOFTMAX_CE, 0.01f, 256, false, 1, 0, NULL, NULL},
        {"W4", "house 4-8-4-1, full batch", 1000, 4, 3,
         {{8, NB_ACT_IDENTITY, 0}, {4, NB_ACT_IDENTITY, 0}, {1, NB_ACT_IDENTITY, 0}},
         NB_LOSS_MSE, 0.01f, 1000, false, 125, 0, NULL, NULL},
    };
    bw_workload w = defs[i < BW_COUNT ? i : 0];
    w.mflop_epoch = mflop(w.inputs, w.layers, w.n_layers, w.rows);
    return w;
}

size_t bw_outputs(const bw_workload *w) { return w->layers[w->n_layers - 1].units; }

/* One-hot targets of uniformly random classes. */
static void one_hot(float *T, size_t rows, size_t classes, nb_rng *r)
{
    memset(T, 0, rows * classes * sizeof *T);
    for (size_t i = 0; i < rows; i++)
        T[i * classes + nb_rng_below(r, classes)] = 1.0f;
}

void bw_generate(bw_workload *w)
{
    size_t out = bw_outputs(w), nx = w->rows * w->inputs;
    w->X = bu_alloc(nx);
    w->T = bu_alloc(w->rows * out);
    nb_rng r;
    if (!strcmp(w->name, "W1")) {
        nb_rng_seed(&r, 101);
        for (size_t i = 0; i < nx; i++)
            w->X[i] = (float)nb_rng_uniform(&r);
        for (size_t i = 0; i < w->rows * out; i++)
            w->T[i] = (float)nb_rng_uniform(&r);
    } else if (!strcmp(w->name, "W2")) {
        nb_rng_seed(&r, 102);
        for (size_t i = 0; i < nx; i++)
            w->X[i] = (float)nb_rng_uniform(&r);
        one_hot(w->T, w->rows, out, &r);
    } else if (!strcmp(w->name, "W3")) {
        nb_rng_seed(&r, 103);
        for (size_t i = 0; i < nx; i++)
            w->X[i] = (float)nb_rng_normal(&r);
        one_hot(w->T, w->rows, out, &r);
    } else {
        house_generate(w->rows, 42, w->X, w->T);
    }
}

void bw_free(bw_workload *w)
{
    free(w->X);
    free(w->T);
    w->X = w->T = NULL;
}

int bw_write_npy(const char *path, const float *p, size_t rows, size_t cols)
{
    char hdr[128];
    int n = snprintf(hdr, sizeof hdr,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", rows, cols);
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64; /* header ends on 64 bytes */
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    unsigned short hlen = (unsigned short)((size_t)n + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && fwrite(p, sizeof *p, rows * cols, f) == rows * cols;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}
