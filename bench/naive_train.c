/* Naive-loop trainer: straightforward row-major loops (i-k-j order, so that the compiler can
   vectorise the inner loop, as a careful user would write them), float accumulation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "naive_train.h"

struct naive_net {
    const bw_workload *w;
    size_t in[BW_MAX_LAYERS], out[BW_MAX_LAYERS];
    float *W[BW_MAX_LAYERS], *b[BW_MAX_LAYERS], *dW[BW_MAX_LAYERS], *db[BW_MAX_LAYERS];
    float *A[BW_MAX_LAYERS], *D, *Dprev, *xb, *tb;
    size_t *perm;
};

naive_net *naive_create(const bw_workload *w, uint64_t seed)
{
    naive_net *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->w = w;
    nb_rng r;
    nb_rng_seed(&r, seed);
    size_t in = w->inputs, widest = in;
    for (size_t l = 0; l < w->n_layers; l++) {
        size_t out = w->layers[l].units;
        n->in[l] = in;
        n->out[l] = out;
        n->W[l] = bu_alloc(in * out);
        n->dW[l] = bu_alloc(in * out);
        n->b[l] = bu_alloc(out);
        n->db[l] = bu_alloc(out);
        n->A[l] = bu_alloc(w->batch * out);
        float a = sqrtf(6.0f / (float)(in + out));
        for (size_t i = 0; i < in * out; i++)
            n->W[l][i] = a * (2.0f * (float)nb_rng_uniform(&r) - 1.0f);
        widest = out > widest ? out : widest;
        in = out;
    }
    n->D = bu_alloc(w->batch * widest);
    n->Dprev = bu_alloc(w->batch * widest);
    n->xb = bu_alloc(w->batch * w->inputs);
    n->tb = bu_alloc(w->batch * bw_outputs(w));
    n->perm = malloc(w->rows * sizeof *n->perm);
    for (size_t i = 0; i < w->rows; i++)
        n->perm[i] = i;
    return n;
}

void naive_free(naive_net *n)
{
    if (!n)
        return;
    for (size_t l = 0; l < n->w->n_layers; l++) {
        free(n->W[l]);
        free(n->dW[l]);
        free(n->b[l]);
        free(n->db[l]);
        free(n->A[l]);
    }
    free(n->D);
    free(n->Dprev);
    free(n->xb);
    free(n->tb);
    free(n->perm);
    free(n);
}

static float act(nb_act a, float z)
{
    switch (a) {
    case NB_ACT_RELU: return z > 0.0f ? z : 0.0f;
    case NB_ACT_SIGMOID: return 1.0f / (1.0f + expf(-z));
    default: return z;
    }
}

static float act_grad(nb_act a, float y) /* derivative from the activation's output */
{
    switch (a) {
    case NB_ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case NB_ACT_SIGMOID: return y * (1.0f - y);
    default: return 1.0f;
    }
}

double naive_step(naive_net *n, const float *X, const float *T, size_t batch)
{
    const bw_workload *w = n->w;
    size_t L = w->n_layers;
    const float *x = X;
    for (size_t l = 0; l < L; l++) { /* forward */
        size_t in = n->in[l], out = n->out[l];
        float *A = n->A[l];
        for (size_t i = 0; i < batch; i++) {
            float *z = A + i * out;
            for (size_t j = 0; j < out; j++)
                z[j] = n->b[l][j];
            for (size_t k = 0; k < in; k++)
                for (size_t j = 0; j < out; j++)
                    z[j] += x[i * in + k] * n->W[l][k * out + j];
            for (size_t j = 0; j < out; j++)
                z[j] = act(w->layers[l].act, z[j]);
        }
        x = A;
    }
    size_t out = n->out[L - 1];
    const float *Y = n->A[L - 1];
    double loss = 0.0;
    for (size_t i = 0; i < batch; i++) { /* loss and its gradient */
        const float *y = Y + i * out, *t = T + i * out;
        float *d = n->D + i * out;
        if (w->loss == NB_LOSS_MSE) {
            for (size_t j = 0; j < out; j++) {
                float e = y[j] - t[j];
                loss += e * e;
                d[j] = 2.0f * e / (float)(batch * out);
            }
        } else { /* softmax cross-entropy on logits */
            float m = y[0], s = 0.0f;
            for (size_t j = 1; j < out; j++)
                m = y[j] > m ? y[j] : m;
            for (size_t j = 0; j < out; j++)
                s += expf(y[j] - m);
            for (size_t j = 0; j < out; j++) {
                float p = expf(y[j] - m) / s;
                loss -= t[j] * logf(p);
                d[j] = (p - t[j]) / (float)batch;
            }
        }
    }
    loss /= w->loss == NB_LOSS_MSE ? (double)(batch * out) : (double)batch;
    for (size_t l = L; l-- > 0;) { /* backward and update */
        size_t in = n->in[l];
        out = n->out[l];
        const float *A = n->A[l], *Ap = l ? n->A[l - 1] : X;
        for (size_t i = 0; i < batch * out; i++)
            n->D[i] *= act_grad(w->layers[l].act, A[i]);
        memset(n->dW[l], 0, in * out * sizeof(float));
        memset(n->db[l], 0, out * sizeof(float));
        for (size_t i = 0; i < batch; i++) {
            for (size_t k = 0; k < in; k++)
                for (size_t j = 0; j < out; j++)
                    n->dW[l][k * out + j] += Ap[i * in + k] * n->D[i * out + j];
            for (size_t j = 0; j < out; j++)
                n->db[l][j] += n->D[i * out + j];
        }
        if (l) {
            for (size_t i = 0; i < batch; i++)
                for (size_t k = 0; k < in; k++) {
                    float s = 0.0f;
                    for (size_t j = 0; j < out; j++)
                        s += n->D[i * out + j] * n->W[l][k * out + j];
                    n->Dprev[i * in + k] = s;
                }
            float *t = n->D;
            n->D = n->Dprev;
            n->Dprev = t;
        }
        for (size_t i = 0; i < in * out; i++)
            n->W[l][i] -= w->lr * n->dW[l][i];
        for (size_t j = 0; j < out; j++)
            n->b[l][j] -= w->lr * n->db[l][j];
    }
    return loss;
}

double naive_epoch_time(naive_net *n, const bw_workload *w, size_t steps)
{
    size_t in = w->inputs, out = bw_outputs(w), bs = w->batch;
    size_t total = (w->rows + bs - 1) / bs;
    if (steps == 0 || steps > total)
        steps = total;
    double t0 = bu_now();
    if (w->shuffle) /* the library's shuffle: the same work as nablas' epoch */
        nb_rng_shuffle(n->perm, w->rows, 7, 0);
    for (size_t s = 0; s < steps; s++) {
        size_t start = s * bs, m = w->rows - start < bs ? w->rows - start : bs;
        const float *x = w->X + start * in, *t = w->T + start * out;
        if (w->shuffle) {
            for (size_t i = 0; i < m; i++) {
                memcpy(n->xb + i * in, w->X + n->perm[start + i] * in, in * sizeof(float));
                memcpy(n->tb + i * out, w->T + n->perm[start + i] * out, out * sizeof(float));
            }
            x = n->xb;
            t = n->tb;
        }
        naive_step(n, x, t, m);
    }
    return bu_now() - t0;
}
