/* The small-path kernels for one vector width, included by dense_small.c once per width:
   CW (floats per vector) and FN(name) (name with the width's suffix) are defined there.
   Narrow layers use narrow vectors: a panel's padded lanes cost as much as the used ones. */
typedef float FN(vec) __attribute__((vector_size(CW * sizeof(float))));
typedef int32_t FN(ivec) __attribute__((vector_size(CW * sizeof(float))));
typedef double FN(dvec) __attribute__((vector_size(CW * sizeof(double))));
#define vec FN(vec)
#define ivec FN(ivec)
#define dvec FN(dvec)

NB_INLINE ivec FN(lane_index)(void)
{
    ivec idx;
    for (int l = 0; l < CW; l++)
        idx[l] = l;
    return idx;
}

/* dst[c * rows + r] = panel c of row r of the rows x cols matrix M (column stride ld, element
   stride es): covers W (ld = out, es = 1) and W^T (ld = 1, es = out). */
NB_INLINE void FN(pack)(vec *dst, const float *M, size_t rows, size_t cols, size_t ld, size_t es)
{
    size_t np = (cols + CW - 1) / CW;
    if (np == 1 && es == 1 && cols == CW) { /* rows are panels already */
        memcpy(dst, M, rows * sizeof(vec));
        return;
    }
    if (np == 1 && es == 1) { /* one narrow panel: a whole-vector load per row, masked */
        const ivec idx = FN(lane_index)();
        const ivec keep = idx < (int32_t)cols;
        size_t r = 0, extent = (rows - 1) * ld + cols; /* floats of M */
        for (; r < rows && r * ld + CW <= extent; r++) {
            vec v;
            memcpy(&v, M + r * ld, sizeof v); /* lanes past the row: the next rows' values */
            dst[r] = (vec)((ivec)v & keep);
        }
        for (; r < rows; r++) {
            float p[CW] = {0};
            for (size_t jj = 0; jj < cols; jj++)
                p[jj] = M[r * ld + jj];
            memcpy(&dst[r], p, sizeof p);
        }
        return;
    }
    for (size_t c = 0; c < np; c++)
        for (size_t r = 0; r < rows; r++) {
            float p[CW] = {0};
            size_t j0 = c * CW, n = cols - j0 < CW ? cols - j0 : CW;
            for (size_t jj = 0; jj < n; jj++)
                p[jj] = M[r * ld + (j0 + jj) * es];
            memcpy(&dst[c * rows + r], p, sizeof p);
        }
}

NB_INLINE void FN(store)(float *dst, vec v, size_t n)
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

/* ReLU as z < 0 ? +0 : z (NaN and -0 stay, as in nb__act_fwd and PyTorch), on a whole vector. */
NB_INLINE vec FN(relu)(vec s, bool on)
{
    const vec zero = {0};
    return on ? (vec)((ivec)s & ~(s < zero)) : s;
}

/* R = A P for a batch x inner matrix A (row stride inner) and packed panels P (inner rows
   each), R batch x n_out, optionally + bias panels, optionally through ReLU. */
NB_CLONES
static void FN(panel_product)(const float *restrict A, const vec *restrict P, const vec *bias,
                              float *restrict R, size_t batch, size_t inner, size_t n_out,
                              bool rl)
{
    size_t np = (n_out + CW - 1) / CW, i = 0;
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
            FN(store)(R + i * n_out + j0, FN(relu)(s0, rl), n);
            FN(store)(R + (i + 1) * n_out + j0, FN(relu)(s1, rl), n);
            FN(store)(R + (i + 2) * n_out + j0, FN(relu)(s2, rl), n);
            FN(store)(R + (i + 3) * n_out + j0, FN(relu)(s3, rl), n);
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
            FN(store)(R + i * n_out + j0, FN(relu)(s, rl), n_out - j0 < CW ? n_out - j0 : CW);
        }
    }
}

static void FN(fwd)(const float *X, const float *W, const float *b, float *Z, size_t batch,
                    size_t in, size_t out, bool relu_out)
{
    vec Wp[NB_SMALL_MAX_W / CW], bp[NB_SMALL_MAX_W / CW];
    FN(pack)(Wp, W, in, out, out, 1);
    if (b)
        FN(pack)(bp, b, 1, out, out, 1);
    FN(panel_product)(X, Wp, b ? bp : NULL, Z, batch, in, out, relu_out);
}

static void FN(dx)(const float *G, const float *W, float *dX, size_t batch, size_t in,
                   size_t out)
{
    vec Wt[NB_SMALL_MAX_W / CW];
    FN(pack)(Wt, W, out, in, 1, out); /* W^T: out rows of in columns */
    FN(panel_product)(G, Wt, NULL, dX, batch, out, in, false);
}

/* Panel c of row i of the rows x out matrix G: lanes past `out` hold the next row's values (or
   zeros at the very end of G); they only ever reach padded lanes, which are never stored. */
NB_INLINE vec FN(g_panel)(const float *G, size_t total, size_t out, size_t i, size_t c)
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

NB_INLINE void FN(put_row)(float *restrict ck, vec s, size_t n, float alpha, bool accumulate)
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
static void FN(xtg)(const float *restrict X, const float *restrict G, float *restrict C,
                    size_t batch, size_t in, size_t out, float alpha, bool accumulate)
{
    /* C[k][panel c] = alpha sum_i X[i][k] G[i][panel c]: four rows k at a time in registers,
       summed over i in order */
    size_t np = (out + CW - 1) / CW, total = batch * out;
    for (size_t c = 0; c < np; c++) {
        size_t j0 = c * CW, n = out - j0 < CW ? out - j0 : CW, k = 0;
        for (; k + 4 <= in; k += 4) {
            vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            for (size_t i = 0; i < batch; i++) {
                vec g = FN(g_panel)(G, total, out, i, c);
                const float *x = X + i * in + k;
                s0 += x[0] * g;
                s1 += x[1] * g;
                s2 += x[2] * g;
                s3 += x[3] * g;
            }
            FN(put_row)(C + k * out + j0, s0, n, alpha, accumulate);
            FN(put_row)(C + (k + 1) * out + j0, s1, n, alpha, accumulate);
            FN(put_row)(C + (k + 2) * out + j0, s2, n, alpha, accumulate);
            FN(put_row)(C + (k + 3) * out + j0, s3, n, alpha, accumulate);
        }
        for (; k < in; k++) {
            vec s = {0};
            for (size_t i = 0; i < batch; i++)
                s += X[i * in + k] * FN(g_panel)(G, total, out, i, c);
            FN(put_row)(C + k * out + j0, s, n, alpha, accumulate);
        }
    }
}

/* Column sums of G in double, in row order, as colsum() in dense.c computes them, but on whole
   panels (a loop over a short run-time width costs more in set-up than in work here). */
NB_CLONES
static void FN(colsum)(const float *restrict G, size_t batch, size_t out, float *restrict b,
                       float lr, bool update)
{
    size_t total = batch * out;
    for (size_t c = 0; c < (out + CW - 1) / CW; c++) {
        dvec acc = {0};
        for (size_t i = 0; i < batch; i++)
            acc += __builtin_convertvector(FN(g_panel)(G, total, out, i, c), dvec);
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

/* The few-rows path: Z = X W (+ b) one row at a time, W read where it lies (its row k holds the
   weights of input k for every output: panel c of it is one vector load, lanes past `out`
   from the next row, zeros at W's end), so nothing is packed.  Each element is computed as
   panel_product computes it (a sum over k in order from zero, then the bias, the same vector
   expressions), so a row gives the same bits here as on the small path; four panels at a time
   so that their chains overlap. */
/* Panel c of row k of W, wholly inside that row (c * CW + CW <= out): one vector load. */
NB_INLINE vec FN(w_panel)(const float *W, size_t out, size_t k, size_t c)
{
    vec w;
    memcpy(&w, W + k * out + c * CW, sizeof w);
    return w;
}

NB_CLONES
static void FN(row)(const float *restrict X, const float *restrict W, const float *restrict b,
                    float *restrict Z, size_t batch, size_t in, size_t out, bool rl)
{
    size_t np = (out + CW - 1) / CW, full = out / CW, total = in * out;
    for (size_t i = 0; i < batch; i++) {
        const float *a = X + i * in;
        float *z = Z + i * out;
        size_t c = 0;
        for (; c + 4 <= full; c += 4) { /* four whole panels */
            vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            for (size_t k = 0; k < in; k++) {
                s0 += a[k] * FN(w_panel)(W, out, k, c);
                s1 += a[k] * FN(w_panel)(W, out, k, c + 1);
                s2 += a[k] * FN(w_panel)(W, out, k, c + 2);
                s3 += a[k] * FN(w_panel)(W, out, k, c + 3);
            }
            if (b) {
                s0 += FN(w_panel)(b, out, 0, c);
                s1 += FN(w_panel)(b, out, 0, c + 1);
                s2 += FN(w_panel)(b, out, 0, c + 2);
                s3 += FN(w_panel)(b, out, 0, c + 3);
            }
            FN(store)(z + c * CW, FN(relu)(s0, rl), CW);
            FN(store)(z + (c + 1) * CW, FN(relu)(s1, rl), CW);
            FN(store)(z + (c + 2) * CW, FN(relu)(s2, rl), CW);
            FN(store)(z + (c + 3) * CW, FN(relu)(s3, rl), CW);
        }
        for (; c < full; c++) { /* whole panels one at a time */
            vec s = {0};
            for (size_t k = 0; k < in; k++)
                s += a[k] * FN(w_panel)(W, out, k, c);
            if (b)
                s += FN(w_panel)(b, out, 0, c);
            FN(store)(z + c * CW, FN(relu)(s, rl), CW);
        }
        if (c < np) { /* the last, partial panel: lanes past out from the next row of W */
            vec s = {0};
            for (size_t k = 0; k < in; k++)
                s += a[k] * FN(g_panel)(W, total, out, k, c);
            if (b)
                s += FN(g_panel)(b, out, out, 0, c);
            FN(store)(z + c * CW, FN(relu)(s, rl), out - c * CW);
        }
    }
}

#undef vec
#undef ivec
#undef dvec
