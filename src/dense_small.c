/* The dense layer's small-size path: for layers so small that an OpenBLAS call costs more than
   its arithmetic (the tiny networks of workloads W1 and W4).  Weights are repacked into panels
   of NB_SMALL_CW columns padded with zeros, and the loops are written on GCC vectors of
   NB_SMALL_CW floats (one zmm register with AVX-512, two ymm with AVX2, four xmm otherwise):
   loops with a short run-time trip count are otherwise vectorised badly or not at all.
   Four rows run at once so that four FMA chains overlap.  Sums run over the inner dimension
   in order, in float, like sgemm; padded lanes are computed and never stored. */
#include <stdint.h>
#include <string.h>

#include "dense_small.h"

#ifdef NB_HAVE_SMALL_PATH

#define CW NB_SMALL_CW
typedef float vec __attribute__((vector_size(CW * sizeof(float))));
typedef int32_t ivec __attribute__((vector_size(CW * sizeof(float))));
/* Helpers taking vectors are always inlined into the cloned kernels, so the warning that an
   out-of-line call would pass them differently under each ISA's ABI does not apply. */
#define NB_INLINE static inline __attribute__((always_inline))
#pragma GCC diagnostic ignored "-Wpsabi"
/* a * b + c as one fused multiply-add, as sgemm does (ISO C mode leaves contraction off) */
#pragma GCC optimize("fp-contract=fast")

static size_t panels(size_t n) { return (n + CW - 1) / CW; }

bool nb__dense_small(size_t batch, size_t in, size_t out)
{
    return panels(out) * CW * in <= NB_SMALL_MAX_W && panels(in) * CW * out <= NB_SMALL_MAX_W
           && batch * in * out <= NB_SMALL_MAX_MNK;
}

/* dst[c * rows + r] = panel c of row r of the rows x cols matrix M (column stride ld, element
   stride es): covers W (ld = out, es = 1) and W^T (ld = 1, es = out). */
static void pack(vec *dst, const float *M, size_t rows, size_t cols, size_t ld, size_t es)
{
    for (size_t c = 0; c < panels(cols); c++)
        for (size_t r = 0; r < rows; r++) {
            float p[CW];
            for (size_t jj = 0; jj < CW; jj++) {
                size_t j = c * CW + jj;
                p[jj] = j < cols ? M[r * ld + j * es] : 0.0f;
            }
            memcpy(&dst[c * rows + r], p, sizeof p);
        }
}

NB_INLINE void store(float *dst, vec v, size_t n)
{
    if (n == CW) {
        memcpy(dst, &v, sizeof v); /* one vector store */
        return;
    }
    float t[CW];
    memcpy(t, &v, sizeof t);
    for (size_t jj = 0; jj < n; jj++)
        dst[jj] = t[jj];
}

/* ReLU as z > 0 ? z : +0 (NaN and -0 give +0, as nb__act_fwd does), on a whole vector. */
NB_INLINE vec relu(vec s, bool on)
{
    const vec zero = {0};
    return on ? (vec)((ivec)s & (s > zero)) : s;
}

/* R = A P for a batch x inner matrix A (row stride inner) and packed panels P (inner rows
   each), R batch x n_out, optionally + bias panels, optionally through ReLU. */
NB_CLONES
static void panel_product(const float *restrict A, const vec *restrict P, const vec *bias,
                          float *restrict R, size_t batch, size_t inner, size_t n_out, bool rl)
{
    size_t np = panels(n_out), i = 0;
    for (; i + 4 <= batch; i += 4) {
        const float *a0 = A + i * inner, *a1 = a0 + inner, *a2 = a1 + inner, *a3 = a2 + inner;
        for (size_t c = 0; c < np; c++) {
            const vec *p = P + c * inner;
            vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            for (size_t k = 0; k < inner; k++) {
                s0 += a0[k] * p[k];
                s1 += a1[k] * p[k];
                s2 += a2[k] * p[k];
                s3 += a3[k] * p[k];
            }
            if (bias) {
                s0 += bias[c];
                s1 += bias[c];
                s2 += bias[c];
                s3 += bias[c];
            }
            size_t j0 = c * CW, n = n_out - j0 < CW ? n_out - j0 : CW;
            store(R + i * n_out + j0, relu(s0, rl), n);
            store(R + (i + 1) * n_out + j0, relu(s1, rl), n);
            store(R + (i + 2) * n_out + j0, relu(s2, rl), n);
            store(R + (i + 3) * n_out + j0, relu(s3, rl), n);
        }
    }
    for (; i < batch; i++) {
        const float *a = A + i * inner;
        for (size_t c = 0; c < np; c++) {
            const vec *p = P + c * inner;
            vec s = {0};
            for (size_t k = 0; k < inner; k++)
                s += a[k] * p[k];
            if (bias)
                s += bias[c];
            size_t j0 = c * CW;
            store(R + i * n_out + j0, relu(s, rl), n_out - j0 < CW ? n_out - j0 : CW);
        }
    }
}

void nb__small_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                   size_t in, size_t out, bool relu_out)
{
    vec Wp[NB_SMALL_MAX_W / CW], bp[NB_SMALL_MAX_W / CW];
    pack(Wp, W, in, out, out, 1);
    if (b)
        pack(bp, b, 1, out, out, 1);
    panel_product(X, Wp, b ? bp : NULL, Z, batch, in, out, relu_out);
}

void nb__small_dx(const float *G, const float *W, float *dX, size_t batch, size_t in, size_t out)
{
    vec Wt[NB_SMALL_MAX_W / CW];
    pack(Wt, W, out, in, 1, out); /* W^T: out rows of in columns */
    panel_product(G, Wt, NULL, dX, batch, out, in, false);
}

/* Panel c of row i of the rows x out matrix G: lanes past `out` hold the next row's values (or
   zeros at the very end of G); they only ever reach padded lanes, which are never stored. */
NB_INLINE vec g_panel(const float *G, size_t total, size_t out, size_t i, size_t c)
{
    size_t off = i * out + c * CW;
    vec g = {0};
    if (off + CW <= total) {
        memcpy(&g, G + off, sizeof g); /* one unaligned vector load */
    } else {
        float t[CW] = {0};
        for (size_t jj = 0; jj < total - off; jj++)
            t[jj] = G[off + jj];
        memcpy(&g, t, sizeof g);
    }
    return g;
}

NB_INLINE void put_row(float *restrict ck, vec s, size_t n, float alpha, bool accumulate)
{
    if (n == CW) { /* a whole panel: vector load, update, store */
        vec c = {0};
        if (accumulate)
            memcpy(&c, ck, sizeof c);
        c += alpha * s;
        memcpy(ck, &c, sizeof c);
        return;
    }
    float row[CW];
    memcpy(row, &s, sizeof row);
    if (accumulate)
        for (size_t j = 0; j < n; j++)
            ck[j] += alpha * row[j];
    else
        for (size_t j = 0; j < n; j++)
            ck[j] = alpha * row[j];
}

NB_CLONES
void nb__small_xtg(const float *restrict X, const float *restrict G, float *restrict C,
                   size_t batch, size_t in, size_t out, float alpha, bool accumulate)
{
    /* C[k][panel c] = alpha sum_i X[i][k] G[i][panel c]: four rows k at a time in registers,
       summed over i in order */
    size_t np = panels(out), total = batch * out;
    for (size_t c = 0; c < np; c++) {
        size_t j0 = c * CW, n = out - j0 < CW ? out - j0 : CW, k = 0;
        for (; k + 4 <= in; k += 4) {
            vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            for (size_t i = 0; i < batch; i++) {
                vec g = g_panel(G, total, out, i, c);
                const float *x = X + i * in + k;
                s0 += x[0] * g;
                s1 += x[1] * g;
                s2 += x[2] * g;
                s3 += x[3] * g;
            }
            put_row(C + k * out + j0, s0, n, alpha, accumulate);
            put_row(C + (k + 1) * out + j0, s1, n, alpha, accumulate);
            put_row(C + (k + 2) * out + j0, s2, n, alpha, accumulate);
            put_row(C + (k + 3) * out + j0, s3, n, alpha, accumulate);
        }
        for (; k < in; k++) {
            vec s = {0};
            for (size_t i = 0; i < batch; i++)
                s += X[i * in + k] * g_panel(G, total, out, i, c);
            put_row(C + k * out + j0, s, n, alpha, accumulate);
        }
    }
}

/* Column sums of G in double, in row order, as colsum() in dense.c computes them, but on whole
   panels (a loop over a short run-time width costs more in set-up than in work here). */
NB_CLONES
void nb__small_colsum(const float *restrict G, size_t batch, size_t out, float *restrict b,
                      float lr, bool update)
{
    typedef double dvec __attribute__((vector_size(CW * sizeof(double))));
    size_t total = batch * out;
    for (size_t c = 0; c < panels(out); c++) {
        dvec acc = {0};
        for (size_t i = 0; i < batch; i++)
            acc += __builtin_convertvector(g_panel(G, total, out, i, c), dvec);
        double sum[CW];
        memcpy(sum, &acc, sizeof sum);
        size_t j0 = c * CW, n = out - j0 < CW ? out - j0 : CW;
        for (size_t jj = 0; jj < n; jj++) {
            if (update)
                b[j0 + jj] -= lr * (float)sum[jj];
            else
                b[j0 + jj] = (float)sum[jj];
        }
    }
}

#else /* no vector extensions: the BLAS path for every size */

bool nb__dense_small(size_t batch, size_t in, size_t out)
{
    (void)batch, (void)in, (void)out;
    return false;
}
void nb__small_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                   size_t in, size_t out, bool relu_out)
{
    (void)X, (void)W, (void)b, (void)Z, (void)batch, (void)in, (void)out;
}
void nb__small_dx(const float *G, const float *W, float *dX, size_t batch, size_t in, size_t out)
{
    (void)G, (void)W, (void)dX, (void)batch, (void)in, (void)out;
}
void nb__small_xtg(const float *X, const float *G, float *C, size_t batch, size_t in, size_t out,
                   float alpha, bool accumulate)
{
    (void)X, (void)G, (void)C, (void)batch, (void)in, (void)out, (void)alpha, (void)accumulate;
}
void nb__small_colsum(const float *G, size_t batch, size_t out, float *b, float lr, bool update)
{
    (void)G, (void)batch, (void)out, (void)b, (void)lr, (void)update;
}
#endif
