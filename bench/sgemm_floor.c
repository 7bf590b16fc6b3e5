/* sgemm replay of one epoch; see sgemm_floor.h.  Gradients are fixed small values in their own
   buffers so that repeated epochs stay finite and free of denormals. */
#include <cblas.h>
#include <stdlib.h>

#include "bench_util.h"
#include "sgemm_floor.h"

struct sgemm_floor {
    const bw_workload *w;
    float *W[BW_MAX_LAYERS], *A[BW_MAX_LAYERS], *G[BW_MAX_LAYERS], *dX[BW_MAX_LAYERS];
};

sgemm_floor *floor_create(const bw_workload *w)
{
    sgemm_floor *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->w = w;
    size_t in = w->inputs;
    for (size_t l = 0; l < w->n_layers; l++) {
        size_t out = w->layers[l].units;
        f->W[l] = bu_alloc(in * out);
        bu_fill_uniform(f->W[l], in * out, 11 + l, -0.05f, 0.05f);
        f->A[l] = bu_alloc(w->batch * out);
        f->G[l] = bu_alloc(w->batch * out);
        bu_fill_uniform(f->G[l], w->batch * out, 21 + l, -1e-4f, 1e-4f);
        f->dX[l] = bu_alloc(w->batch * in);
        in = out;
    }
    return f;
}

void floor_free(sgemm_floor *f)
{
    if (!f)
        return;
    for (size_t l = 0; l < f->w->n_layers; l++) {
        free(f->W[l]);
        free(f->A[l]);
        free(f->G[l]);
        free(f->dX[l]);
    }
    free(f);
}

double floor_epoch_time(sgemm_floor *f)
{
    const bw_workload *w = f->w;
    size_t L = w->n_layers;
    double t0 = bu_now();
    for (size_t start = 0; start < w->rows; start += w->batch) {
        int m = (int)(w->rows - start < w->batch ? w->rows - start : w->batch);
        const float *X = w->X + start * w->inputs;
        for (size_t l = 0; l < L; l++) {
            int in = (int)(l ? w->layers[l - 1].units : w->inputs), out = (int)w->layers[l].units;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, out, in, 1.0f,
                        l ? f->A[l - 1] : X, in, f->W[l], out, 1.0f, f->A[l], out);
        }
        for (size_t l = L; l-- > 0;) {
            int in = (int)(l ? w->layers[l - 1].units : w->inputs), out = (int)w->layers[l].units;
            if (l)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, in, out, 1.0f,
                            f->G[l], out, f->W[l], out, 0.0f, f->dX[l], in);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, m, -w->lr,
                        l ? f->A[l - 1] : X, in, f->G[l], out, 1.0f, f->W[l], out);
        }
    }
    return bu_now() - t0;
}
