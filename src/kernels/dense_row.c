/* The dense layer's few-rows path: z = x W + b for one row at a time, reading W where it is.
   W is in x out row-major, so row k of W holds the weights of input k for every output:
   z[panel] += x[k] * W[k][panel] needs one vector load per k and panel and no repacking (the
   small path packs W into panels first, which for one row costs as much as the product, and
   an sgemm call's fixed cost depends on the BLAS kernel set).  Four panels of 16 outputs are
   summed at once so that their FMA chains overlap. */
#include <string.h>

#include "kernels/dense_row.h"

#ifdef NB_HAVE_ROW_PATH

#pragma GCC diagnostic ignored "-Wpsabi" /* vector helpers are always inlined (NB_INLINE) */
#pragma GCC optimize("fp-contract=fast") /* a * b + c as one FMA where the ISA has it */

enum { VW = 16 }; /* floats per vector: one AVX-512 register, two AVX2 ones */
typedef float vec __attribute__((vector_size(VW * sizeof(float))));

bool nb__dense_row(size_t batch, size_t in, size_t out)
{
    /* each row reads all of W: more than one row only while W stays in cache */
    return batch == 1 || (batch <= NB_ROW_MAX && in * out <= NB_ROW_MAX_W);
}

/* The VW floats at p (of a buffer of `avail` floats from p on): one unaligned load, or the
   available ones and zeros at the buffer's end.  Lanes past a row hold the next row's values;
   they only reach lanes that are never stored. */
NB_INLINE vec load(const float *p, size_t avail)
{
    vec v = {0};
    if (avail >= VW) {
        memcpy(&v, p, sizeof v);
    } else {
        float t[VW] = {0};
        memcpy(t, p, avail * sizeof(float));
        memcpy(&v, t, sizeof v);
    }
    return v;
}

NB_INLINE void store(float *dst, vec v, size_t n, bool relu)
{
    if (relu) { /* z < 0 ? +0 : z, NaN and -0 kept, as nb__act_fwd */
        const vec zero = {0};
        v = (vec)((__typeof__(v < zero))v & ~(v < zero));
    }
    if (n == VW) {
        memcpy(dst, &v, sizeof v);
        return;
    }
    float t[VW];
    memcpy(t, &v, sizeof t);
    memcpy(dst, t, n * sizeof(float));
}

/* Outputs [j0, j0 + 4 VW) of one row (j0 + 4 VW <= out). */
NB_INLINE void block4(const float *x, const float *W, const float *b, float *z, size_t in,
                      size_t out, size_t j0, bool relu)
{
    vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (size_t k = 0; k < in; k++) { /* the four panels lie inside row k of W */
        const float *w = W + k * out + j0;
        float xk = x[k];
        vec w0, w1, w2, w3;
        memcpy(&w0, w, sizeof w0);
        memcpy(&w1, w + VW, sizeof w1);
        memcpy(&w2, w + 2 * VW, sizeof w2);
        memcpy(&w3, w + 3 * VW, sizeof w3);
        s0 += xk * w0;
        s1 += xk * w1;
        s2 += xk * w2;
        s3 += xk * w3;
    }
    if (b) {
        vec b0, b1, b2, b3;
        memcpy(&b0, b + j0, sizeof b0);
        memcpy(&b1, b + j0 + VW, sizeof b1);
        memcpy(&b2, b + j0 + 2 * VW, sizeof b2);
        memcpy(&b3, b + j0 + 3 * VW, sizeof b3);
        s0 += b0;
        s1 += b1;
        s2 += b2;
        s3 += b3;
    }
    store(z + j0, s0, VW, relu);
    store(z + j0 + VW, s1, VW, relu);
    store(z + j0 + 2 * VW, s2, VW, relu);
    store(z + j0 + 3 * VW, s3, VW, relu);
}

/* Outputs [j0, j0 + n) of one row, n <= VW. */
NB_INLINE void block1(const float *x, const float *W, const float *b, float *z, size_t in,
                      size_t out, size_t j0, size_t n, bool relu)
{
    vec s = {0};
    size_t total = in * out;
    for (size_t k = 0; k < in; k++)
        s += x[k] * load(W + k * out + j0, total - k * out - j0);
    if (b)
        s += load(b + j0, out - j0);
    store(z + j0, s, n, relu);
}

/* One output (out == 1: W is a column, contiguous): a dot product over k in VW lanes, the
   lanes then added in order, then the tail of k, then the bias. */
NB_INLINE float dot1(const float *x, const float *W, const float *b, size_t in)
{
    vec s = {0};
    size_t k = 0;
    for (; k + VW <= in; k += VW) {
        vec xv, wv;
        memcpy(&xv, x + k, sizeof xv);
        memcpy(&wv, W + k, sizeof wv);
        s += xv * wv;
    }
    float lanes[VW], z = 0.0f;
    memcpy(lanes, &s, sizeof lanes);
    for (int l = 0; l < VW; l++)
        z += lanes[l];
    for (; k < in; k++)
        z += x[k] * W[k];
    return b ? z + b[0] : z;
}

NB_CLONES
static void row_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                    size_t in, size_t out, bool relu_out)
{
    for (size_t i = 0; i < batch; i++) {
        const float *x = X + i * in;
        float *z = Z + i * out;
        if (out == 1) {
            float v = dot1(x, W, b, in);
            z[0] = relu_out && v < 0.0f ? 0.0f : v;
            continue;
        }
        size_t j0 = 0;
        for (; j0 + 4 * VW <= out; j0 += 4 * VW)
            block4(x, W, b, z, in, out, j0, relu_out);
        for (; j0 < out; j0 += VW)
            block1(x, W, b, z, in, out, j0, out - j0 < VW ? out - j0 : VW, relu_out);
    }
}

void nb__row_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                 size_t in, size_t out, bool relu_out)
{
    row_fwd(X, W, b, Z, batch, in, out, relu_out);
}

#else /* without GCC's vector extensions the products go to BLAS */

bool nb__dense_row(size_t batch, size_t in, size_t out)
{
    (void)batch;
    (void)in;
    (void)out;
    return false;
}

void nb__row_fwd(const float *X, const float *W, const float *b, float *Z, size_t batch,
                 size_t in, size_t out, bool relu_out)
{
    (void)X, (void)W, (void)b, (void)Z, (void)batch, (void)in, (void)out, (void)relu_out;
}

#endif
