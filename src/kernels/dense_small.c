/* The dense layer's small-size path: for layers so small that an OpenBLAS call costs more than
   its arithmetic (the tiny networks of workloads W1 and W4), and the few-rows path for a
   batch of a few rows through any layer (single-row inference).  Weights are repacked into panels
   of 4, 8 or 16 columns (the narrowest that holds a row, else 16) padded with zeros, and the
   loops are written on GCC vectors of that many floats (dense_small_w.h, once per width):
   loops with a short run-time trip count are otherwise vectorised badly or not at all, and a
   16-wide vector over 3 outputs would do 16 lanes of work for 3.  Four rows run at once so
   that four FMA chains overlap.  Sums run over the inner dimension in order, in float, like
   sgemm; padded lanes are computed and never stored. */
#include <stdint.h>
#include <string.h>

#include "kernels/dense_small.h"
#include "nablas/threads.h"

#ifdef NB_HAVE_SMALL_PATH

/* Helpers taking vectors are always inlined into the cloned kernels (NB_INLINE), so the
   warning that an out-of-line call would pass them differently under each ISA's ABI does not
   apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
/* a * b + c as one fused multiply-add, as sgemm does (ISO C mode leaves contraction off) */
#ifdef NB_GCC_VECTORS
#pragma GCC optimize("fp-contract=fast")
#endif

static size_t panels(size_t n) { return (n + NB_SMALL_CW - 1) / NB_SMALL_CW; }

bool nb__dense_small(size_t batch, size_t in, size_t out)
{
    return panels(out) * NB_SMALL_CW * in <= NB_SMALL_MAX_W
           && panels(in) * NB_SMALL_CW * out <= NB_SMALL_MAX_W
           && batch * in * out <= NB_SMALL_MAX_MNK;
}

#define CW 4
#define FN(name) name##_w4
#include "kernels/dense_small_w.h"
#undef CW
#undef FN
#define CW 8
#define FN(name) name##_w8
#include "kernels/dense_small_w.h"
#undef CW
#undef FN
#define CW NB_SMALL_CW
#define FN(name) name##_w16
#include "kernels/dense_small_w.h"
#undef CW
#undef FN

/* the vector width for rows of n floats: the narrowest that holds them, else 16 */
static int width(size_t n) { return n <= 4 ? 4 : n <= 8 ? 8 : 16; }

void nb__small_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                   size_t in, size_t out, bool relu_out)
{
    switch (width(out)) {
    case 4: fwd_w4(X, W, b, Z, batch, in, out, relu_out); break;
    case 8: fwd_w8(X, W, b, Z, batch, in, out, relu_out); break;
    default: fwd_w16(X, W, b, Z, batch, in, out, relu_out); break;
    }
}

/* Whether OpenBLAS runs its AVX-512 kernels: their sgemm beats the row path from two rows on,
   where the AVX2 (Haswell) and older kernels lose to it up to four rows and more
   (nablas-bench-kernels --row-crossover under both, docs/performance.md).  Read once. */
static bool blas_avx512(void)
{
    static _Atomic int known = -1; /* a benign race: every thread computes the same answer */
    int v = known;
    if (v < 0) {
        const char *c = nb_blas_corename();
        v = c && (strstr(c, "SkylakeX") || strstr(c, "Cooperlake") || strstr(c, "SapphireRapids"));
        known = v;
    }
    return v;
}

bool nb__dense_row(size_t batch, size_t in, size_t out)
{
    /* each row reads all of W: more than one row only while W stays in cache */
    return batch == 1
           || (batch <= NB_ROW_MAX && in * out <= NB_ROW_MAX_W && !blas_avx512());
}

void nb__row_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                 size_t in, size_t out, bool relu_out)
{
    switch (width(out)) {
    case 4: row_w4(X, W, b, Z, batch, in, out, relu_out); break;
    case 8: row_w8(X, W, b, Z, batch, in, out, relu_out); break;
    default: row_w16(X, W, b, Z, batch, in, out, relu_out); break;
    }
}

void nb__small_dx(const float *G, const float *W, float *dX, size_t batch, size_t in, size_t out)
{
    switch (width(in)) {
    case 4: dx_w4(G, W, dX, batch, in, out); break;
    case 8: dx_w8(G, W, dX, batch, in, out); break;
    default: dx_w16(G, W, dX, batch, in, out); break;
    }
}

static void xtg_any(const float *X, const float *G, float *C, size_t batch, size_t in,
                    size_t out, float alpha, bool accumulate)
{
    switch (width(out)) {
    case 4: xtg_w4(X, G, C, batch, in, out, alpha, accumulate); break;
    case 8: xtg_w8(X, G, C, batch, in, out, alpha, accumulate); break;
    default: xtg_w16(X, G, C, batch, in, out, alpha, accumulate); break;
    }
}

/* vector multiply-adds per batch row of xtg_any with vectors along n_vec, broadcasts along
   n_bc */
static size_t xtg_cost(size_t n_bc, size_t n_vec)
{
    size_t w = (size_t)width(n_vec);
    return n_bc * ((n_vec + w - 1) / w);
}

void nb__small_xtg(const float *X, const float *G, float *C, size_t batch, size_t in, size_t out,
                   float alpha, bool accumulate)
{
    if (xtg_cost(out, in) >= xtg_cost(in, out)) {
        xtg_any(X, G, C, batch, in, out, alpha, accumulate);
        return;
    }
    /* fewer outputs than inputs: vectors along the inputs, C^T = G^T X into a buffer, then
       transposed into C (the same sums in the same order, so the same values) */
    float Ct[NB_SMALL_MAX_W];
    xtg_any(G, X, Ct, batch, out, in, 1.0f, false);
    for (size_t k = 0; k < in; k++)
        for (size_t j = 0; j < out; j++) {
            if (accumulate)
                C[k * out + j] += alpha * Ct[j * in + k];
            else
                C[k * out + j] = alpha * Ct[j * in + k];
        }
}

void nb__small_colsum(const float *G, size_t batch, size_t out, float *b, float lr, bool update)
{
    switch (width(out)) {
    case 4: colsum_w4(G, batch, out, b, lr, update); break;
    case 8: colsum_w8(G, batch, out, b, lr, update); break;
    default: colsum_w16(G, batch, out, b, lr, update); break;
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
    (void)X, (void)W, (void)b, (void)Z, (void)batch, (void)in, (void)out, (void)relu_out;
}
bool nb__dense_row(size_t batch, size_t in, size_t out)
{
    (void)batch, (void)in, (void)out;
    return false;
}
void nb__row_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                 size_t in, size_t out, bool relu_out)
{
    (void)X, (void)W, (void)b, (void)Z, (void)batch, (void)in, (void)out, (void)relu_out;
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
