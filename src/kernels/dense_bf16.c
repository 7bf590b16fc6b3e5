/* Mixed-precision dense products through oneDNN's bf16 matmul (see dense_bf16.h). oneDNN
   picks its AVX512-BF16 or AMX kernels at run time; nablas converts the inputs to bf16 itself
   (one pass, nearest even), keeps weights, gradients and updates in fp32, and caches one
   primitive per layer, product, batch size and thread count, created before the steps that
   use it, so a step allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "core/threads.h"
#include "kernels/dense_bf16.h"

#if defined(NB_HAVE_DNNL) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

static inline uint16_t bf16_rne(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a (quiet) NaN */
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

NB_CLONES
void nb__to_bf16(const float *x, uint16_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = bf16_rne(x[i]);
}

NB_CLONES
void nb__to_bf16_t(const float *x, uint16_t *y, size_t rows, size_t cols)
{
    enum { TB = 32 }; /* tiles, so that both sides stay in cache */
    for (size_t i0 = 0; i0 < rows; i0 += TB)
        for (size_t j0 = 0; j0 < cols; j0 += TB) {
            size_t i1 = i0 + TB < rows ? i0 + TB : rows, j1 = j0 + TB < cols ? j0 + TB : cols;
            for (size_t j = j0; j < j1; j++)
                for (size_t i = i0; i < i1; i++)
                    y[j * rows + i] = bf16_rne(x[i * cols + j]);
        }
}

#ifdef NB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

/* AVX512-BF16 (cpuid leaf 7, sub-leaf 1, EAX bit 5) with AVX-512 state enabled by the OS. */
static bool cpu_has_bf16(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
        return false;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0xe6u) != 0xe6u) /* SSE, AVX, opmask and both ZMM state components */
        return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 16)) || a < 1) /* AVX512F */
        return false;
    __get_cpuid_count(7, 1, &a, &b, &c, &d);
    return (a & (1u << 5)) != 0;
#else
    return false;
#endif
}

#ifdef NB_HAVE_GOMP
/* OpenMP's API, from the libgomp oneDNN runs on (declared here: the library is not built with
   -fopenmp, it only sets how many threads oneDNN's parallel regions use) */
void omp_set_num_threads(int n);
#endif

enum prod { P_FWD, P_DX, P_XTG, P_COUNT };

typedef struct prim {
    size_t l, m;
    int prod, nthr;
    dnnl_primitive_t p;
    dnnl_memory_t src, wei, dst, bias, pad; /* pad: the scratchpad, NULL if none is needed */
    size_t pad_bytes;
} prim;

struct nb__bf16 {
    size_t n_layers, *width, max_w, max_wt; /* max_wt: largest in * out */
    dnnl_engine_t eng;
    dnnl_stream_t st;
    prim *prims;
    size_t n_prims, cap_prims, cap_batch;
    uint16_t *xb, *gb, *wb; /* bf16 copies of a layer's input (or its transpose), G and W */
    float *dw, *db;         /* fp32 scratch: a weight gradient and a bias gradient */
    void *pad;              /* oneDNN's scratchpad, owned here so that a product allocates nothing */
    size_t pad_cap;
};

nb_status nb__bf16_available(void) { return cpu_has_bf16() ? NB_OK : NB_ERR_CPU; }

static void free_prim(prim *q)
{
    dnnl_primitive_destroy(q->p);
    dnnl_memory_destroy(q->src);
    dnnl_memory_destroy(q->wei);
    dnnl_memory_destroy(q->dst);
    if (q->bias)
        dnnl_memory_destroy(q->bias);
    if (q->pad)
        dnnl_memory_destroy(q->pad);
}

void nb__bf16_free(nb__bf16 *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_prims; i++)
        free_prim(&h->prims[i]);
    free(h->prims);
    if (h->st)
        dnnl_stream_destroy(h->st);
    if (h->eng)
        dnnl_engine_destroy(h->eng);
    free(h->width);
    free(h->xb);
    free(h->gb);
    free(h->wb);
    free(h->dw);
    free(h->db);
    free(h->pad);
    free(h);
}

nb_status nb__bf16_create(nb__bf16 **out, const size_t *width, size_t n_layers)
{
    NB_TRY(nb__bf16_available());
    nb__bf16 *h = calloc(1, sizeof *h);
    if (!h)
        return NB_ERR_NOMEM;
    h->n_layers = n_layers;
    h->width = malloc((n_layers + 1) * sizeof *h->width);
    if (!h->width) {
        nb__bf16_free(h);
        return NB_ERR_NOMEM;
    }
    for (size_t l = 0; l <= n_layers; l++) {
        h->width[l] = width[l];
        h->max_w = width[l] > h->max_w ? width[l] : h->max_w;
        if (l < n_layers && width[l] * width[l + 1] > h->max_wt)
            h->max_wt = width[l] * width[l + 1];
    }
    h->wb = malloc(h->max_wt * sizeof *h->wb);
    h->dw = nb__alloc_floats(h->max_wt);
    h->db = nb__alloc_floats(h->max_w);
    if (!h->wb || !h->dw || !h->db
        || dnnl_engine_create(&h->eng, dnnl_cpu, 0) != dnnl_success
        || dnnl_stream_create(&h->st, h->eng, dnnl_stream_default_flags) != dnnl_success) {
        nb__bf16_free(h);
        return NB_ERR_NOMEM;
    }
    *out = h;
    return NB_OK;
}

/* rows x cols row-major (strides cols, 1), or its transpose view when `t` (strides 1, rows) */
static dnnl_status_t md2(dnnl_memory_desc_t *md, size_t rows, size_t cols, dnnl_data_type_t dt,
                         bool t)
{
    dnnl_dims_t dims = {(dnnl_dim_t)rows, (dnnl_dim_t)cols};
    dnnl_dims_t strides = {t ? 1 : (dnnl_dim_t)cols, t ? (dnnl_dim_t)rows : 1};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides);
}

/* The m x n x k shape (dst m x n) of a product of layer l for a batch of `batch` rows. */
static void shape(const nb__bf16 *h, size_t l, int prod, size_t batch, size_t *m, size_t *n,
                  size_t *k)
{
    size_t in = h->width[l], out = h->width[l + 1];
    if (prod == P_FWD)
        *m = batch, *n = out, *k = in;
    else if (prod == P_DX)
        *m = batch, *n = in, *k = out;
    else
        *m = in, *n = out, *k = batch;
}

static void set_threads(int nthr)
{
#ifdef NB_HAVE_GOMP
    omp_set_num_threads(nthr);
#else
    (void)nthr;
#endif
}

static nb_status make_prim(nb__bf16 *h, size_t l, int prod, size_t batch, int nthr, prim *q)
{
    size_t m, n, k;
    shape(h, l, prod, batch, &m, &n, &k);
    dnnl_memory_desc_t src, wei, dst, bias;
    /* DX multiplies by W^T: W (in x out) seen as out x in with strides (1, out) */
    bool ok = md2(&src, m, k, dnnl_bf16, false) == dnnl_success
              && md2(&wei, k, n, dnnl_bf16, prod == P_DX) == dnnl_success
              && md2(&dst, m, n, dnnl_f32, false) == dnnl_success
              && md2(&bias, 1, n, dnnl_f32, false) == dnnl_success;
    dnnl_matmul_desc_t desc;
    if (!ok || dnnl_matmul_desc_init(&desc, &src, &wei, prod == P_FWD ? &bias : NULL, &dst)
                   != dnnl_success)
        return NB_ERR_UNSUPPORTED;
    memset(q, 0, sizeof *q);
    q->l = l, q->m = batch, q->prod = prod, q->nthr = nthr;
    set_threads(nthr); /* oneDNN sizes its work split at creation */
    /* the scratchpad is ours (user mode): otherwise oneDNN may allocate it in every call */
    dnnl_primitive_attr_t attr;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success)
        return NB_ERR_NOMEM;
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&pd, &desc, attr, h->eng, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return NB_ERR_UNSUPPORTED;
    const dnnl_memory_desc_t *pad_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    q->pad_bytes = pad_md ? dnnl_memory_desc_get_size(pad_md) : 0;
    if (q->pad_bytes
        && dnnl_memory_create(&q->pad, pad_md, h->eng, DNNL_MEMORY_NONE) != dnnl_success) {
        dnnl_primitive_desc_destroy(pd);
        return NB_ERR_NOMEM;
    }
    s = dnnl_primitive_create(&q->p, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) {
        if (q->pad)
            dnnl_memory_destroy(q->pad);
        return NB_ERR_NOMEM;
    }
    ok = dnnl_memory_create(&q->src, &src, h->eng, DNNL_MEMORY_NONE) == dnnl_success
         && dnnl_memory_create(&q->wei, &wei, h->eng, DNNL_MEMORY_NONE) == dnnl_success
         && dnnl_memory_create(&q->dst, &dst, h->eng, DNNL_MEMORY_NONE) == dnnl_success
         && (prod != P_FWD
             || dnnl_memory_create(&q->bias, &bias, h->eng, DNNL_MEMORY_NONE) == dnnl_success);
    if (!ok) {
        free_prim(q);
        return NB_ERR_NOMEM;
    }
    return NB_OK;
}

static prim *find(nb__bf16 *h, size_t l, int prod, size_t batch)
{
    size_t m, n, k;
    shape(h, l, prod, batch, &m, &n, &k);
    int nthr = nb__threads_for(m, n, k);
    for (size_t i = 0; i < h->n_prims; i++) {
        prim *q = &h->prims[i];
        if (q->l == l && q->prod == prod && q->m == batch && q->nthr == nthr)
            return q;
    }
    return NULL;
}

nb_status nb__bf16_prepare(nb__bf16 *h, size_t batch)
{
    if (batch > h->cap_batch) {
        if (batch > SIZE_MAX / sizeof(uint16_t) / h->max_w)
            return NB_ERR_OVERFLOW;
        uint16_t *xb = malloc(batch * h->max_w * sizeof *xb);
        uint16_t *gb = malloc(batch * h->max_w * sizeof *gb);
        if (!xb || !gb) {
            free(xb);
            free(gb);
            return NB_ERR_NOMEM;
        }
        free(h->xb);
        free(h->gb);
        h->xb = xb;
        h->gb = gb;
        h->cap_batch = batch;
    }
    for (size_t l = 0; l < h->n_layers; l++)
        for (int p = 0; p < P_COUNT; p++) {
            if (find(h, l, p, batch))
                continue;
            if (h->n_prims == h->cap_prims) {
                size_t cap = h->cap_prims ? 2 * h->cap_prims : 16;
                prim *np = realloc(h->prims, cap * sizeof *np);
                if (!np)
                    return NB_ERR_NOMEM;
                h->prims = np;
                h->cap_prims = cap;
            }
            size_t m, n, k;
            shape(h, l, p, batch, &m, &n, &k);
            prim *q = &h->prims[h->n_prims];
            NB_TRY(make_prim(h, l, p, batch, nb__threads_for(m, n, k), q));
            h->n_prims++;
            if (q->pad_bytes > h->pad_cap) {
                size_t bytes = (q->pad_bytes + 63) / 64 * 64;
                void *pad = aligned_alloc(64, bytes);
                if (!pad)
                    return NB_ERR_NOMEM;
                free(h->pad);
                h->pad = pad;
                h->pad_cap = bytes;
            }
        }
    return NB_OK;
}

/* dst = src wei (+ bias): false if oneDNN failed (the caller then computes in fp32) */
static bool run(nb__bf16 *h, prim *q, const void *src, const void *wei, float *dst,
                const float *bias)
{
    dnnl_memory_set_data_handle(q->src, (void *)src);
    dnnl_memory_set_data_handle(q->wei, (void *)wei);
    dnnl_memory_set_data_handle(q->dst, dst);
    dnnl_exec_arg_t args[5] = {
        {DNNL_ARG_SRC, q->src}, {DNNL_ARG_WEIGHTS, q->wei}, {DNNL_ARG_DST, q->dst}};
    int n = 3;
    if (q->bias) {
        dnnl_memory_set_data_handle(q->bias, (void *)bias);
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, q->bias};
    }
    if (q->pad) {
        dnnl_memory_set_data_handle(q->pad, h->pad);
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, q->pad};
    }
    set_threads(q->nthr);
    return dnnl_primitive_execute(q->p, h->st, n, args) == dnnl_success
           && dnnl_stream_wait(h->st) == dnnl_success;
}

/* Z = bf16(X) bf16(W) + b; false if not prepared for this batch */
static bool fwd_bf16(nb__bf16 *h, size_t l, const float *X, const float *W, const float *b,
                     float *Z, size_t batch, size_t in, size_t out)
{
    prim *q = batch <= h->cap_batch ? find(h, l, P_FWD, batch) : NULL;
    if (!q || !b)
        return false;
    nb__to_bf16(X, h->xb, batch * in);
    nb__to_bf16(W, h->wb, in * out);
    return run(h, q, h->xb, h->wb, Z, b);
}

/* dX = bf16(G) bf16(W)^T */
static bool dx_bf16(nb__bf16 *h, size_t l, const float *G, const float *W, float *dX,
                    size_t batch, size_t in, size_t out)
{
    prim *q = batch <= h->cap_batch ? find(h, l, P_DX, batch) : NULL;
    if (!q)
        return false;
    nb__to_bf16(G, h->gb, batch * out);
    nb__to_bf16(W, h->wb, in * out);
    return run(h, q, h->gb, h->wb, dX, NULL);
}

/* dW = bf16(X)^T bf16(G): X transposed while it is rounded, so that oneDNN reads both
   operands in their natural order (its AMX and AVX512-BF16 kernels want that) */
static bool xtg_bf16(nb__bf16 *h, size_t l, const float *X, const float *G, float *dW,
                     size_t batch, size_t in, size_t out)
{
    prim *q = batch <= h->cap_batch ? find(h, l, P_XTG, batch) : NULL;
    if (!q)
        return false;
    nb__to_bf16_t(X, h->xb, batch, in);
    nb__to_bf16(G, h->gb, batch * out);
    return run(h, q, h->xb, h->gb, dW, NULL);
}

void nb__dense_act_fwd_p(nb__bf16 *h, size_t l, const float *X, const float *W, const float *b,
                         float *Z, size_t batch, size_t in, size_t out, nb_act act)
{
    if (h && fwd_bf16(h, l, X, W, b, Z, batch, in, out))
        nb__act_fwd(act, Z, batch, out);
    else
        nb__dense_act_fwd(X, W, b, Z, batch, in, out, act);
}

void nb__dense_dx_p(nb__bf16 *h, size_t l, const float *G, const float *W, float *dX,
                    size_t batch, size_t in, size_t out)
{
    if (!h || !dx_bf16(h, l, G, W, dX, batch, in, out))
        nb__dense_dx(G, W, dX, batch, in, out);
}

void nb__dense_update_p(nb__bf16 *h, size_t l, const float *X, const float *G, float *W,
                        float *b, size_t batch, size_t in, size_t out, float lr)
{
    if (!h || !xtg_bf16(h, l, X, G, h->dw, batch, in, out)) {
        nb__dense_update(X, G, W, b, batch, in, out, lr);
        return;
    }
    /* the update in fp32, as the fused fp32 path computes it: W -= lr dW, b -= lr colsum */
    nb__sgd(W, h->dw, in * out, lr);
    nb__colsum(G, batch, out, h->db);
    nb__sgd(b, h->db, out, lr);
}

void nb__dense_bwd_p(nb__bf16 *h, size_t l, const float *X, const float *W, const float *G,
                     float *dW, float *db, float *dX, size_t batch, size_t in, size_t out)
{
    if (!h || !xtg_bf16(h, l, X, G, dW, batch, in, out)
        || (dX && !dx_bf16(h, l, G, W, dX, batch, in, out))) {
        nb__dense_bwd(X, W, G, dW, db, dX, batch, in, out);
        return;
    }
    if (db)
        nb__colsum(G, batch, out, db);
}

#else /* built without oneDNN: every product in fp32, and bf16 is refused up front */

struct nb__bf16 {
    int unused;
};

nb_status nb__bf16_available(void) { return NB_ERR_UNSUPPORTED; }

nb_status nb__bf16_create(nb__bf16 **out, const size_t *width, size_t n_layers)
{
    (void)out, (void)width, (void)n_layers;
    return NB_ERR_UNSUPPORTED;
}

void nb__bf16_free(nb__bf16 *h) { free(h); }

nb_status nb__bf16_prepare(nb__bf16 *h, size_t batch)
{
    (void)h, (void)batch;
    return NB_ERR_UNSUPPORTED;
}

void nb__dense_act_fwd_p(nb__bf16 *h, size_t l, const float *X, const float *W, const float *b,
                         float *Z, size_t batch, size_t in, size_t out, nb_act act)
{
    (void)h, (void)l;
    nb__dense_act_fwd(X, W, b, Z, batch, in, out, act);
}

void nb__dense_dx_p(nb__bf16 *h, size_t l, const float *G, const float *W, float *dX,
                    size_t batch, size_t in, size_t out)
{
    (void)h, (void)l;
    nb__dense_dx(G, W, dX, batch, in, out);
}

void nb__dense_update_p(nb__bf16 *h, size_t l, const float *X, const float *G, float *W,
                        float *b, size_t batch, size_t in, size_t out, float lr)
{
    (void)h, (void)l;
    nb__dense_update(X, G, W, b, batch, in, out, lr);
}

void nb__dense_bwd_p(nb__bf16 *h, size_t l, const float *X, const float *W, const float *G,
                     float *dW, float *db, float *dX, size_t batch, size_t in, size_t out)
{
    (void)h, (void)l;
    nb__dense_bwd(X, W, G, dW, db, dX, batch, in, out);
}
#endif
