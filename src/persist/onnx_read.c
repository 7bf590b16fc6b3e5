/* ONNX import: a graph's chain of nodes read as dense layers, activations and
   standardisations (what is read and refused: include/nablas/onnx.h, docs/onnx.md). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/file_io.h"
#include "net/network.h"
#include "persist/onnx_tensor.h"

#define MAX_OPSET 21 /* the newest opset whose ops nablas reads as documented */

typedef struct layer_out {
    size_t in, out;
    nb_act act;
    double *W, *b; /* in x out, out */
} layer_out;

/* The walk along the chain.  What follows the last emitted layer is a pending linear map
   (W, b: lin_in x width) when have_lin, then an element-wise affine map x * a + c (width). */
typedef struct walk {
    nb__onnx_const *consts;
    size_t n_consts;
    nb_onnx_error *err;
    size_t width;
    double *a, *c;
    bool started;     /* a Gemm or MatMul was seen: affine maps are no longer the input's */
    bool have_lin;    /* a linear map not yet closed by an activation */
    bool bias_done;   /* the pending linear map has its bias (an Add after a MatMul) */
    bool tail_ops;    /* element-wise maps after the bias: a target standardisation at the end */
    bool transposed;  /* the current value is [width, batch] (a Transpose before a Gemm) */
    bool log_softmax; /* the chain ended with LogSoftmax */
    size_t lin_in;
    double *W, *b;
    double *in_a, *in_c; /* the input's affine map, when the graph started with one */
    size_t n_in;
    layer_out *layers;
    size_t n_layers, cap_layers;
} walk;

static int by_name(const void *x, const void *y)
{
    return strcmp(((const nb__onnx_const *)x)->name, ((const nb__onnx_const *)y)->name);
}

static const nb__onnx_const *find_const(const walk *w, const char *name)
{
    if (!name || !w->n_consts)
        return NULL;
    nb__onnx_const key = {.name = name};
    return bsearch(&key, w->consts, w->n_consts, sizeof key, by_name);
}

static const NbOnnx__AttributeProto *attr(const NbOnnx__NodeProto *nd, const char *name)
{
    for (size_t k = 0; k < nd->n_attribute; k++)
        if (nd->attribute[k]->name && strcmp(nd->attribute[k]->name, name) == 0)
            return nd->attribute[k];
    return NULL;
}

/* The first attribute not in allowed (NULL-terminated), or NULL. */
static const char *unknown_attr(const NbOnnx__NodeProto *nd, const char *const *allowed)
{
    for (size_t k = 0; k < nd->n_attribute; k++) {
        const char *n = nd->attribute[k]->name ? nd->attribute[k]->name : "";
        size_t j = 0;
        while (allowed[j] && strcmp(allowed[j], n) != 0)
            j++;
        if (!allowed[j])
            return n;
    }
    return NULL;
}

static int64_t attr_int(const NbOnnx__NodeProto *nd, const char *name, int64_t dflt, bool *ok)
{
    const NbOnnx__AttributeProto *a = attr(nd, name);
    if (!a)
        return dflt;
    if (!a->has_i)
        *ok = false;
    return a->i;
}

static double attr_float(const NbOnnx__NodeProto *nd, const char *name, double dflt, bool *ok)
{
    const NbOnnx__AttributeProto *a = attr(nd, name);
    if (!a)
        return dflt;
    if (!a->has_f)
        *ok = false;
    return a->f;
}

static double *alloc_d(size_t n)
{
    return malloc((n ? n : 1) * sizeof(double));
}

/* A fresh identity affine map of width n. */
static nb_status reset_affine(walk *w, size_t n)
{
    double *a = alloc_d(n), *c = alloc_d(n);
    if (!a || !c) {
        free(a);
        free(c);
        return NB_ERR_NOMEM;
    }
    for (size_t j = 0; j < n; j++) {
        a[j] = 1.0;
        c[j] = 0.0;
    }
    free(w->a);
    w->a = a;
    free(w->c);
    w->c = c;
    w->width = n;
    return NB_OK;
}

static bool affine_is_identity(const walk *w)
{
    for (size_t j = 0; j < w->width; j++)
        if (w->a[j] != 1.0 || w->c[j] != 0.0)
            return false;
    return true;
}

/* W, b <- W diag(a), b a + c: the pending affine map folded into the pending linear map.  An
   identity part is skipped, not applied: -0 + 0 would turn a bias of -0 into +0, and the
   import of an export must give back every bit. */
static void fold_affine(walk *w)
{
    for (size_t o = 0; o < w->width; o++) {
        if (w->a[o] != 1.0) {
            for (size_t i = 0; i < w->lin_in; i++)
                w->W[i * w->width + o] *= w->a[o];
            w->b[o] *= w->a[o];
        }
        if (w->c[o] != 0.0)
            w->b[o] += w->c[o];
    }
}

/* Twice the room for layers (8 at first). */
static nb_status grow_layers(walk *w)
{
    size_t cap = w->cap_layers ? 2 * w->cap_layers : 8;
    layer_out *l = realloc(w->layers, cap * sizeof *l);
    if (l) {
        w->layers = l;
        w->cap_layers = cap;
    }
    return l ? NB_OK : NB_ERR_NOMEM;
}

static nb_status push_layer(walk *w, nb_act act)
{
    if (w->n_layers == NB_MODEL_MAX_LAYERS)
        return NB_ERR_LIMIT;
    if (w->n_layers == w->cap_layers)
        NB_TRY(grow_layers(w));
    w->layers[w->n_layers++] = (layer_out){w->lin_in, w->width, act, w->W, w->b};
    w->W = w->b = NULL;
    w->have_lin = false;
    return NB_OK;
}

/* Closes the pending linear map with activation act. */
static nb_status emit(walk *w, nb_act act)
{
    fold_affine(w);
    NB_TRY(push_layer(w, act));
    w->tail_ops = false;
    return reset_affine(w, w->width);
}

/* A new linear map x Wn + bn (Wn K x out, both malloc'd; taken over) after what is pending. */
static nb_status add_linear(walk *w, double *Wn, double *bn, size_t K, size_t out, bool has_bias)
{
    size_t n_in = w->width;
    if (w->have_lin) { /* two linear maps in a row: a layer with the identity activation */
        nb_status st = emit(w, NB_ACT_IDENTITY);
        if (st != NB_OK) {
            free(Wn);
            free(bn);
            return st;
        }
    }
    if (!w->started) {
        w->in_a = w->a; /* the affine map before the first layer: the input's */
        w->in_c = w->c;
        w->n_in = n_in;
        w->a = w->c = NULL;
        w->W = Wn;
        w->b = bn;
        w->lin_in = K;
        w->started = true;
    } else { /* after an activation: the affine map scales the rows of the new weight */
        for (size_t k = 0; k < K; k++)
            for (size_t o = 0; o < out; o++) {
                if (w->c[k] != 0.0) /* (skipped when 0: see fold_affine) */
                    bn[o] += w->c[k] * Wn[k * out + o];
                Wn[k * out + o] *= w->a[k];
            }
        w->W = Wn;
        w->b = bn;
        w->lin_in = K;
    }
    w->have_lin = true;
    w->bias_done = has_bias;
    w->tail_ops = false;
    return reset_affine(w, out);
}

static bool broadcasts(const nb__onnx_const *k, size_t width)
{
    if (k->n == 1 && k->ndim <= 2)
        return true; /* a scalar, [1] or [1, 1] */
    if (k->n != width)
        return false;
    return k->ndim == 1 || (k->ndim == 2 && k->dims[0] == 1);
}

#define FAIL(st, ...) nb__onnx_fail(w->err, nd, idx, st, __VA_ARGS__)

/* Add, Sub, Mul, Div with one constant operand. */
static nb_status elementwise(walk *w, const NbOnnx__NodeProto *nd, size_t idx, const char *op,
                             const char *cur)
{
    if (nd->n_input != 2)
        return FAIL(NB_ERR_CORRUPT, "takes 2 inputs, has %zu", nd->n_input);
    bool data_first = nd->input[0] && strcmp(nd->input[0], cur) == 0;
    const nb__onnx_const *k = find_const(w, nd->input[data_first ? 1 : 0]);
    if (!k)
        return FAIL(NB_ERR_UNSUPPORTED, "needs one constant operand and the previous node's "
                                        "output (nablas reads a chain of layers)");
    if (w->transposed)
        return FAIL(NB_ERR_UNSUPPORTED, "on a transposed value");
    if (!broadcasts(k, w->width))
        return FAIL(NB_ERR_UNSUPPORTED, "constant '%s' is not a scalar or one value per "
                                        "column (width %zu)", k->name, w->width);
    bool add = strcmp(op, "Add") == 0, sub = strcmp(op, "Sub") == 0, mul = strcmp(op, "Mul") == 0;
    if (strcmp(op, "Div") == 0 && !data_first)
        return FAIL(NB_ERR_UNSUPPORTED, "a constant divided by the data is not affine");
    if (w->have_lin && !w->bias_done && (add || (sub && data_first))) {
        for (size_t j = 0; j < w->width; j++) /* the bias of a MatMul */
            w->b[j] += (add ? 1 : -1) * k->v[k->n == 1 ? 0 : j];
        w->bias_done = true;
        return NB_OK;
    }
    for (size_t j = 0; j < w->width; j++) {
        double v = k->v[k->n == 1 ? 0 : j];
        if (add) {
            w->c[j] += v;
        } else if (sub) {
            if (data_first) {
                w->c[j] -= v;
            } else {
                w->a[j] = -w->a[j];
                w->c[j] = v - w->c[j];
            }
        } else if (mul) {
            w->a[j] *= v;
            w->c[j] *= v;
        } else {
            if (v == 0.0)
                return FAIL(NB_ERR_UNSUPPORTED, "divides by zero (constant '%s')", k->name);
            w->a[j] /= v;
            w->c[j] /= v;
        }
        if (!isfinite(w->a[j]) || !isfinite(w->c[j]))
            return FAIL(NB_ERR_NONFINITE, "overflows with constant '%s'", k->name);
    }
    if (w->started) {
        w->bias_done = true;
        w->tail_ops = true;
    }
    return NB_OK;
}

/* Gemm (A = the data) or MatMul with a constant weight. */
static nb_status linear(walk *w, const NbOnnx__NodeProto *nd, size_t idx, bool gemm)
{
    static const char *const gemm_attrs[] = {"alpha", "beta", "transA", "transB", "broadcast",
                                             NULL};
    static const char *const none[] = {NULL};
    const char *bad = unknown_attr(nd, gemm ? gemm_attrs : none);
    if (bad)
        return FAIL(NB_ERR_UNSUPPORTED, "attribute '%s' is not read", bad);
    bool ok = true;
    double alpha = gemm ? attr_float(nd, "alpha", 1.0, &ok) : 1.0;
    double beta = gemm ? attr_float(nd, "beta", 1.0, &ok) : 1.0;
    int64_t ta = gemm ? attr_int(nd, "transA", 0, &ok) : 0;
    int64_t tb = gemm ? attr_int(nd, "transB", 0, &ok) : 0;
    if (!ok || (ta != 0 && ta != 1) || (tb != 0 && tb != 1))
        return FAIL(NB_ERR_CORRUPT, "malformed attribute");
    if (!isfinite(alpha) || !isfinite(beta))
        return FAIL(NB_ERR_NONFINITE, "alpha or beta is not finite");
    if ((ta == 1) != w->transposed)
        return FAIL(NB_ERR_UNSUPPORTED, "transA=%lld on a %s input: nablas' batch is the rows "
                    "(transA=1 only after a Transpose)", (long long)ta,
                    w->transposed ? "transposed" : "row-major");
    w->transposed = false;
    if (nd->n_input < 2 || nd->n_input > (gemm ? 3u : 2u))
        return FAIL(NB_ERR_CORRUPT, "has %zu inputs", nd->n_input);
    const nb__onnx_const *B = find_const(w, nd->input[1]);
    bool has_c = gemm && nd->n_input == 3 && nd->input[2] && nd->input[2][0];
    const nb__onnx_const *C = has_c ? find_const(w, nd->input[2]) : NULL;
    if (!B || (has_c && !C))
        return FAIL(NB_ERR_UNSUPPORTED, "its weight and bias must be constants (initializers "
                                        "or Constant nodes)");
    if (B->ndim != 2 || B->is_int)
        return FAIL(NB_ERR_UNSUPPORTED, "weight '%s' is not a 2-D float tensor", B->name);
    size_t K = (size_t)(tb ? B->dims[1] : B->dims[0]), out = (size_t)(tb ? B->dims[0] : B->dims[1]);
    if (K != w->width || out == 0)
        return FAIL(NB_ERR_SHAPE, "weight '%s' is %lld x %lld: takes %zu columns, the data "
                    "has %zu", B->name, (long long)B->dims[0], (long long)B->dims[1], K, w->width);
    if (out > NB_MODEL_MAX_WIDTH)
        return FAIL(NB_ERR_LIMIT, "more than %u outputs", NB_MODEL_MAX_WIDTH);
    if (C && (C->is_int || !broadcasts(C, out)))
        return FAIL(NB_ERR_UNSUPPORTED, "bias '%s' is not a float scalar or one value per "
                                        "output (%zu)", C->name, out);
    double *Wn = alloc_d(K * out), *bn = alloc_d(out);
    if (!Wn || !bn) {
        free(Wn);
        free(bn);
        return NB_ERR_NOMEM;
    }
    for (size_t k = 0; k < K; k++)
        for (size_t o = 0; o < out; o++)
            Wn[k * out + o] = alpha * B->v[tb ? o * K + k : k * out + o];
    for (size_t o = 0; o < out; o++)
        bn[o] = C ? beta * C->v[C->n == 1 ? 0 : o] : 0.0;
    nb_status st = add_linear(w, Wn, bn, K, out, gemm);
    return st == NB_ERR_LIMIT ? FAIL(st, "more than %u layers", NB_MODEL_MAX_LAYERS) : st;
}

/* Softmax / LogSoftmax over the columns of [batch, width]: axis 1 or -1.  (Before opset 13
   the input was flattened to 2-D at axis, default 1; from 13 the axis alone counts, default
   -1: on 2-D data both read a row at a time.) */
static nb_status softmax_axis(walk *w, const NbOnnx__NodeProto *nd, size_t idx, int opset)
{
    static const char *const allowed[] = {"axis", NULL};
    const char *bad = unknown_attr(nd, allowed);
    if (bad)
        return FAIL(NB_ERR_UNSUPPORTED, "attribute '%s' is not read", bad);
    bool ok = true;
    int64_t axis = attr_int(nd, "axis", opset >= 13 ? -1 : 1, &ok);
    if (!ok)
        return FAIL(NB_ERR_CORRUPT, "malformed attribute");
    if (axis != 1 && axis != -1)
        return FAIL(NB_ERR_UNSUPPORTED, "axis %lld: nablas normalises each row (axis 1 of "
                    "[batch, width])", (long long)axis);
    return NB_OK;
}

static nb_status activation(walk *w, const NbOnnx__NodeProto *nd, size_t idx, nb_act act)
{
    if (nd->n_input != 1)
        return FAIL(NB_ERR_CORRUPT, "takes 1 input, has %zu", nd->n_input);
    if (!w->have_lin || w->transposed)
        return FAIL(NB_ERR_UNSUPPORTED, "an activation must follow a dense layer (Gemm or "
                                        "MatMul): nablas applies one per layer");
    nb_status st = emit(w, act);
    return st == NB_ERR_LIMIT ? FAIL(st, "more than %u layers", NB_MODEL_MAX_LAYERS) : st;
}

/* Dropout, Flatten, Reshape, Identity, Transpose: checked to leave [batch, width] alone. */
static nb_status no_op(walk *w, const NbOnnx__NodeProto *nd, size_t idx, const char *op)
{
    if (strcmp(op, "Identity") == 0) {
        if (nd->n_attribute)
            return FAIL(NB_ERR_UNSUPPORTED, "has attributes");
        return NB_OK;
    }
    bool ok = true;
    if (strcmp(op, "Dropout") == 0) {
        static const char *const allowed[] = {"ratio", "seed", "is_test", NULL};
        const char *bad = unknown_attr(nd, allowed);
        if (bad)
            return FAIL(NB_ERR_UNSUPPORTED, "attribute '%s' is not read", bad);
        if (nd->n_input > 3)
            return FAIL(NB_ERR_CORRUPT, "has %zu inputs", nd->n_input);
        if (nd->n_input == 3 && nd->input[2] && nd->input[2][0]) {
            const nb__onnx_const *t = find_const(w, nd->input[2]);
            if (!t || t->n != 1 || t->v[0] != 0.0)
                return FAIL(NB_ERR_UNSUPPORTED, "training_mode must be a constant false "
                                                "(nablas reads inference graphs)");
        }
        return NB_OK;
    }
    if (w->transposed && strcmp(op, "Transpose") != 0)
        return FAIL(NB_ERR_UNSUPPORTED, "on a transposed value");
    if (strcmp(op, "Flatten") == 0) {
        static const char *const allowed[] = {"axis", NULL};
        const char *bad = unknown_attr(nd, allowed);
        if (bad)
            return FAIL(NB_ERR_UNSUPPORTED, "attribute '%s' is not read", bad);
        int64_t axis = attr_int(nd, "axis", 1, &ok);
        if (!ok || (axis != 1 && axis != -1))
            return FAIL(NB_ERR_UNSUPPORTED, "axis %lld would not keep [batch, width]",
                        (long long)axis);
        return NB_OK;
    }
    if (strcmp(op, "Transpose") == 0) {
        static const char *const allowed[] = {"perm", NULL};
        const char *bad = unknown_attr(nd, allowed);
        if (bad)
            return FAIL(NB_ERR_UNSUPPORTED, "attribute '%s' is not read", bad);
        const NbOnnx__AttributeProto *p = attr(nd, "perm");
        if (p && (p->n_ints != 2 || p->ints[0] != 1 || p->ints[1] != 0))
            return FAIL(NB_ERR_UNSUPPORTED, "perm is not (1, 0)");
        w->transposed = !w->transposed;
        return NB_OK;
    }
    /* Reshape: the shape from its second input (or the attribute before opset 5) */
    static const char *const allowed[] = {"allowzero", "shape", NULL};
    const char *bad = unknown_attr(nd, allowed);
    if (bad)
        return FAIL(NB_ERR_UNSUPPORTED, "attribute '%s' is not read", bad);
    int64_t allowzero = attr_int(nd, "allowzero", 0, &ok);
    const NbOnnx__AttributeProto *sa = attr(nd, "shape");
    double s[2];
    if (nd->n_input == 2 && !sa) {
        const nb__onnx_const *t = find_const(w, nd->input[1]);
        if (!t || !t->is_int || t->ndim != 1 || t->n != 2)
            return FAIL(NB_ERR_UNSUPPORTED, "its shape must be a constant of 2 integers");
        s[0] = t->v[0];
        s[1] = t->v[1];
    } else if (nd->n_input == 1 && sa && sa->n_ints == 2) {
        s[0] = (double)sa->ints[0];
        s[1] = (double)sa->ints[1];
    } else {
        return FAIL(NB_ERR_UNSUPPORTED, "its shape must be a constant of 2 integers");
    }
    bool keep0 = (s[0] == 0 && !allowzero) || s[0] == -1;
    bool keep1 = s[1] == (double)w->width || (s[1] == -1 && s[0] == 0 && !allowzero);
    if (!ok || !keep0 || !keep1)
        return FAIL(NB_ERR_UNSUPPORTED, "shape (%g, %g) would not keep [batch, %zu]", s[0], s[1],
                    w->width);
    return NB_OK;
}

/* ---- activations written as several nodes ---------------------------------------------------- */

/* An operand of a pattern step: the pattern's input, the output of an earlier step, or a scalar
   constant (within 1e-6 relative: exporters round them to float). */
enum { OP_X = -1, OP_K = -2, OP_NONE = -3 };

typedef struct pstep {
    const char *op;
    int a, b;       /* operands: OP_X, OP_K, OP_NONE (unary) or a step index */
    double ka, kb;  /* the constants of OP_K operands */
} pstep;

/* torch.onnx.export's GELU before opset 20: x * (erf(x / sqrt 2) + 1) * 0.5 */
static const pstep GELU_ERF[] = {
    {"Div", OP_X, OP_K, 0, 1.4142135623730951}, {"Erf", 0, OP_NONE, 0, 0},
    {"Add", 1, OP_K, 0, 1.0}, {"Mul", OP_X, 2, 0, 0}, {"Mul", 3, OP_K, 0, 0.5}};
/* its tanh form: x * (tanh(sqrt(2 / pi) (x + 0.044715 x^3)) + 1) * 0.5 */
static const pstep GELU_TANH[] = {
    {"Mul", OP_X, OP_X, 0, 0}, {"Mul", OP_X, 0, 0, 0}, {"Mul", OP_K, 1, 0.044715, 0},
    {"Add", OP_X, 2, 0, 0}, {"Mul", OP_K, 3, 0.7978845608028654, 0}, {"Tanh", 4, OP_NONE, 0, 0},
    {"Add", OP_K, 5, 1.0, 0}, {"Mul", OP_X, 6, 0, 0}, {"Mul", OP_K, 7, 0.5, 0}};
/* SiLU: x * sigmoid(x) */
static const pstep SILU[] = {{"Sigmoid", OP_X, OP_NONE, 0, 0}, {"Mul", OP_X, 0, 0, 0}};

static bool operand_is(const walk *w, const char *in, int code, double k, const char *x,
                       const NbOnnx__NodeProto *const *steps)
{
    if (!in)
        return false;
    if (code == OP_X)
        return strcmp(in, x) == 0;
    if (code == OP_K) {
        const nb__onnx_const *c = find_const(w, in);
        return c && c->n == 1 && !c->is_int && fabs(c->v[0] - k) <= 1e-6 * fabs(k);
    }
    return strcmp(in, steps[code]->output[0]) == 0;
}

/* True when the nodes at order[p..] are pattern pat (n steps) on the value x; the commutative
   Add and Mul match either order of their operands. */
static bool match(const walk *w, const NbOnnx__GraphProto *g, const size_t *order, size_t n_order,
                  size_t p, const pstep *pat, size_t n, const char *x)
{
    const NbOnnx__NodeProto *steps[16];
    if (p + n > n_order)
        return false;
    for (size_t i = 0; i < n; i++) {
        const NbOnnx__NodeProto *nd = g->node[order[p + i]];
        const pstep *s = &pat[i];
        bool unary = s->b == OP_NONE;
        if (!nd->op_type || strcmp(nd->op_type, s->op) != 0 || nd->n_attribute
            || nd->n_output != 1 || !nd->output[0] || !nd->output[0][0]
            || nd->n_input != (unary ? 1u : 2u) || (nd->domain && nd->domain[0]))
            return false;
        steps[i] = nd;
        bool comm = s->op[0] == 'A' || s->op[0] == 'M';
        if (unary ? !operand_is(w, nd->input[0], s->a, s->ka, x, steps)
                  : !((operand_is(w, nd->input[0], s->a, s->ka, x, steps)
                       && operand_is(w, nd->input[1], s->b, s->kb, x, steps))
                      || (comm && operand_is(w, nd->input[0], s->b, s->kb, x, steps)
                          && operand_is(w, nd->input[1], s->a, s->ka, x, steps))))
            return false;
    }
    return true;
}

/* A multi-node activation at order[*p] on *cur: advances *p past it, 0 when there is none. */
static nb_status patterns(walk *w, const NbOnnx__GraphProto *g, const size_t *order,
                          size_t n_order, size_t *p, const char **cur, bool *matched)
{
    static const struct {
        const pstep *pat;
        size_t n;
        nb_act act;
    } all[] = {{GELU_ERF, 5, NB_ACT_GELU}, {GELU_TANH, 9, NB_ACT_GELU_TANH}, {SILU, 2, NB_ACT_SILU}};
    *matched = false;
    for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
        if (!match(w, g, order, n_order, *p, all[k].pat, all[k].n, *cur))
            continue;
        const NbOnnx__NodeProto *nd = g->node[order[*p]], *last = g->node[order[*p + all[k].n - 1]];
        size_t idx = order[*p];
        if (w->log_softmax)
            return FAIL(NB_ERR_UNSUPPORTED, "follows LogSoftmax, which nablas reads only as the "
                                            "last node of a classifier");
        if (find_const(w, last->output[0]))
            return FAIL(NB_ERR_CORRUPT, "output '%s' is also a constant", last->output[0]);
        if (!w->have_lin || w->transposed)
            return FAIL(NB_ERR_UNSUPPORTED, "an activation (%s) must follow a dense layer (Gemm "
                        "or MatMul): nablas applies one per layer", nb_act_name(all[k].act));
        nb_status st = emit(w, all[k].act);
        if (st != NB_OK)
            return st == NB_ERR_LIMIT ? FAIL(st, "more than %u layers", NB_MODEL_MAX_LAYERS) : st;
        *cur = last->output[0];
        *p += all[k].n;
        *matched = true;
        return NB_OK;
    }
    return NB_OK;
}

/* The checks every node of the chain passes: ONNX's domain, not after LogSoftmax, the chain's
   value as its input (every other input a constant or omitted), one output that is no constant.
   *elem: an element-wise op, the one kind that may take the chain's value as its second input. */
static nb_status chain_node(walk *w, const NbOnnx__NodeProto *nd, size_t idx, const char *op,
                            const char *cur, bool *elem)
{
    if (nd->domain && nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0)
        return FAIL(NB_ERR_UNSUPPORTED, "domain '%s' is not ONNX's", nd->domain);
    if (w->log_softmax)
        return FAIL(NB_ERR_UNSUPPORTED, "follows LogSoftmax, which nablas reads only as the "
                                        "last node of a classifier");
    bool uses_cur = false;
    for (size_t k = 0; k < nd->n_input; k++) {
        const char *in = nd->input[k] ? nd->input[k] : "";
        if (strcmp(in, cur) == 0)
            uses_cur = true;
        else if (in[0] && !find_const(w, in))
            return FAIL(NB_ERR_UNSUPPORTED, "input '%s' is neither the previous node's output "
                        "nor a constant (nablas reads a chain of layers)", in);
    }
    if (!uses_cur)
        return FAIL(NB_ERR_UNSUPPORTED, "does not take the previous node's output '%s' (nablas "
                                        "reads a chain of layers)", cur);
    bool is_dropout = strcmp(op, "Dropout") == 0;
    if (nd->n_output < 1 || nd->n_output > (is_dropout ? 2u : 1u) || !nd->output[0]
        || !nd->output[0][0])
        return FAIL(NB_ERR_UNSUPPORTED, "has %zu outputs", nd->n_output);
    if (find_const(w, nd->output[0]))
        return FAIL(NB_ERR_CORRUPT, "output '%s' is also a constant", nd->output[0]);
    *elem = strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0 || strcmp(op, "Mul") == 0
            || strcmp(op, "Div") == 0;
    if (!*elem && strcmp(nd->input[0] ? nd->input[0] : "", cur) != 0)
        return FAIL(NB_ERR_UNSUPPORTED, "takes the previous node's output as a weight");
    return NB_OK;
}

/* Elu and LeakyRelu: read only with nablas' own alpha (dflt, ONNX's default too). */
static nb_status fixed_alpha(walk *w, const NbOnnx__NodeProto *nd, size_t idx, double dflt,
                             const char *what, nb_act act)
{
    static const char *const allowed[] = {"alpha", NULL};
    bool ok = true;
    double alpha = attr_float(nd, "alpha", dflt, &ok);
    if (unknown_attr(nd, allowed) || !ok)
        return FAIL(NB_ERR_UNSUPPORTED, "attributes other than alpha");
    if ((float)alpha != (float)dflt)
        return FAIL(NB_ERR_UNSUPPORTED, "alpha %g: %s", alpha, what);
    return activation(w, nd, idx, act);
}

/* Gelu (opset 20): its approximate attribute, "none" or "tanh". */
static nb_status gelu(walk *w, const NbOnnx__NodeProto *nd, size_t idx)
{
    static const char *const allowed[] = {"approximate", NULL};
    const NbOnnx__AttributeProto *a = attr(nd, "approximate");
    bool tanh_form = a && a->has_s && a->s.len == 4 && memcmp(a->s.data, "tanh", 4) == 0;
    bool none = !a || (a->has_s && a->s.len == 4 && memcmp(a->s.data, "none", 4) == 0);
    if (unknown_attr(nd, allowed) || (!tanh_form && !none))
        return FAIL(NB_ERR_UNSUPPORTED, "approximate must be \"none\" or \"tanh\"");
    return activation(w, nd, idx, tanh_form ? NB_ACT_GELU_TANH : NB_ACT_GELU);
}

/* An activation node without attributes: Relu, Sigmoid, Tanh, Softplus; Erf alone is refused. */
static nb_status plain_activation(walk *w, const NbOnnx__NodeProto *nd, size_t idx,
                                  const char *op)
{
    if (op[0] == 'E')
        return FAIL(NB_ERR_UNSUPPORTED, "Erf outside the GELU pattern x * (erf(x / sqrt 2) + "
                                        "1) * 0.5");
    if (nd->n_attribute)
        return FAIL(NB_ERR_UNSUPPORTED, "has attributes");
    nb_act act = op[0] == 'R' ? NB_ACT_RELU : op[0] == 'S' && op[1] == 'i' ? NB_ACT_SIGMOID
                 : op[0] == 'T' ? NB_ACT_TANH : NB_ACT_SOFTPLUS;
    return activation(w, nd, idx, act);
}

/* The node by its op: a switch over the ops nablas reads. */
static nb_status dispatch(walk *w, const NbOnnx__NodeProto *nd, size_t idx, const char *op,
                          bool elem, const char *cur, int opset)
{
    if (elem)
        return elementwise(w, nd, idx, op, cur);
    if (strcmp(op, "Gemm") == 0 || strcmp(op, "MatMul") == 0)
        return linear(w, nd, idx, op[0] == 'G');
    if (strcmp(op, "Relu") == 0 || strcmp(op, "Sigmoid") == 0 || strcmp(op, "Tanh") == 0
        || strcmp(op, "Softplus") == 0 || strcmp(op, "Erf") == 0)
        return plain_activation(w, nd, idx, op);
    if (strcmp(op, "Elu") == 0)
        return fixed_alpha(w, nd, idx, 1.0, "nablas' ELU has alpha 1", NB_ACT_ELU);
    if (strcmp(op, "Gelu") == 0)
        return gelu(w, nd, idx);
    if (strcmp(op, "LeakyRelu") == 0)
        return fixed_alpha(w, nd, idx, 0.01, "nablas' leaky ReLU has slope 0.01",
                           NB_ACT_LEAKY_RELU);
    if (strcmp(op, "Softmax") == 0 || strcmp(op, "LogSoftmax") == 0) {
        bool log = op[0] == 'L';
        nb_status st = softmax_axis(w, nd, idx, opset);
        if (st == NB_OK)
            st = activation(w, nd, idx, log ? NB_ACT_IDENTITY : NB_ACT_SOFTMAX);
        if (log)
            w->log_softmax = st == NB_OK;
        return st;
    }
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0 || strcmp(op, "Flatten") == 0
        || strcmp(op, "Reshape") == 0 || strcmp(op, "Transpose") == 0)
        return no_op(w, nd, idx, op);
    return FAIL(NB_ERR_UNSUPPORTED, "op '%s' is not read (docs/onnx.md lists those that are)", op);
}

/* One node of the chain; *cur becomes its output. */
static nb_status step(walk *w, const NbOnnx__NodeProto *nd, size_t idx, const char **cur, int opset)
{
    const char *op = nd->op_type ? nd->op_type : "";
    bool elem = false;
    NB_TRY(chain_node(w, nd, idx, op, *cur, &elem));
    nb_status st = dispatch(w, nd, idx, op, elem, *cur, opset);
    if (st == NB_OK)
        *cur = nd->output[0];
    return st;
}

#undef FAIL

/* ---- constants ------------------------------------------------------------------------------ */

/* A Constant node's value as a constant. */
static nb_status constant_node(nb__onnx_const *c, const NbOnnx__NodeProto *nd)
{
    if (nd->n_attribute != 1 || nd->n_input != 0 || nd->n_output != 1 || !nd->output[0]
        || !nd->output[0][0])
        return NB_ERR_UNSUPPORTED;
    const NbOnnx__AttributeProto *a = nd->attribute[0];
    const char *n = a->name ? a->name : "";
    if (strcmp(n, "value") == 0) {
        if (!a->t)
            return NB_ERR_CORRUPT;
        return nb__onnx_const_decode(c, a->t, nd->output[0]);
    }
    memset(c, 0, sizeof *c);
    c->name = nd->output[0];
    bool list = strcmp(n, "value_floats") == 0 || strcmp(n, "value_ints") == 0;
    bool ints = strcmp(n, "value_int") == 0 || strcmp(n, "value_ints") == 0;
    if (!list && !ints && strcmp(n, "value_float") != 0)
        return NB_ERR_UNSUPPORTED;
    size_t cnt = list ? (ints ? a->n_ints : a->n_floats) : 1;
    if (!list && !(ints ? a->has_i : a->has_f))
        return NB_ERR_CORRUPT;
    c->ndim = list;
    c->dims[0] = (int64_t)cnt;
    c->n = cnt;
    c->is_int = ints;
    if (!(c->v = alloc_d(cnt)))
        return NB_ERR_NOMEM;
    for (size_t k = 0; k < cnt; k++) {
        c->v[k] = list ? (ints ? (double)a->ints[k] : a->floats[k]) : (ints ? (double)a->i : a->f);
        if (!isfinite(c->v[k])) {
            free(c->v);
            c->v = NULL;
            return NB_ERR_NONFINITE;
        }
    }
    return NB_OK;
}

static bool is_constant(const NbOnnx__NodeProto *nd)
{
    return nd->op_type && strcmp(nd->op_type, "Constant") == 0
           && (!nd->domain || !nd->domain[0] || strcmp(nd->domain, "ai.onnx") == 0);
}

static nb_status collect_consts(walk *w, const NbOnnx__GraphProto *g)
{
    size_t n = g->n_initializer;
    for (size_t k = 0; k < g->n_node; k++)
        n += is_constant(g->node[k]);
    w->consts = calloc(n ? n : 1, sizeof *w->consts);
    if (!w->consts)
        return NB_ERR_NOMEM;
    for (size_t k = 0; k < g->n_initializer; k++) {
        const NbOnnx__TensorProto *t = g->initializer[k];
        if (!t->name || !t->name[0])
            return nb__onnx_fail(w->err, NULL, 0, NB_ERR_CORRUPT, "initializer %zu has no name", k);
        nb_status st = nb__onnx_const_decode(&w->consts[w->n_consts], t, t->name);
        if (st != NB_OK)
            return nb__onnx_fail(w->err, NULL, 0, st, "initializer '%s': %s", t->name,
                                 st == NB_ERR_UNSUPPORTED ? "external data, more than 8 dims or "
                                 "a data type other than float, float16, bfloat16, double, "
                                 "int32, int64" : nb_status_str(st));
        w->n_consts++;
    }
    for (size_t k = 0; k < g->n_node; k++) {
        if (!is_constant(g->node[k]))
            continue;
        nb_status st = constant_node(&w->consts[w->n_consts], g->node[k]);
        if (st != NB_OK)
            return nb__onnx_fail(w->err, g->node[k], k, st, "a Constant with one attribute "
                                 "value, value_float(s) or value_int(s) and one output: %s",
                                 nb_status_str(st));
        w->n_consts++;
    }
    qsort(w->consts, w->n_consts, sizeof *w->consts, by_name);
    for (size_t k = 1; k < w->n_consts; k++)
        if (strcmp(w->consts[k].name, w->consts[k - 1].name) == 0)
            return nb__onnx_fail(w->err, NULL, 0, NB_ERR_CORRUPT, "two constants are named '%s'",
                                 w->consts[k].name);
    return NB_OK;
}

/* ---- the graph ------------------------------------------------------------------------------ */

static void walk_free(walk *w)
{
    for (size_t k = 0; k < w->n_consts; k++)
        free(w->consts[k].v);
    free(w->consts);
    free(w->a);
    free(w->c);
    free(w->W);
    free(w->b);
    free(w->in_a);
    free(w->in_c);
    for (size_t l = 0; l < w->n_layers; l++) {
        free(w->layers[l].W);
        free(w->layers[l].b);
    }
    free(w->layers);
}

static int opset_of(const NbOnnx__ModelProto *mp)
{
    int64_t v = -1;
    for (size_t k = 0; k < mp->n_opset_import; k++) {
        const char *d = mp->opset_import[k]->domain;
        if ((!d || !d[0] || strcmp(d, "ai.onnx") == 0) && mp->opset_import[k]->has_version)
            v = mp->opset_import[k]->version;
    }
    return v < 1 || v > MAX_OPSET ? -1 : (int)v;
}

/* The one graph input that is not an initializer; its width when the file states it (0 if
   not). */
static nb_status graph_input(walk *w, const NbOnnx__GraphProto *g, const char **name,
                             size_t *width)
{
    *name = NULL;
    *width = 0;
    for (size_t k = 0; k < g->n_input; k++) {
        const NbOnnx__ValueInfoProto *v = g->input[k];
        if (!v->name || !v->name[0])
            return nb__onnx_fail(w->err, NULL, 0, NB_ERR_CORRUPT, "graph input %zu has no name", k);
        if (find_const(w, v->name))
            continue; /* an initializer listed as an input (IR version 3) */
        if (*name)
            return nb__onnx_fail(w->err, NULL, 0, NB_ERR_UNSUPPORTED, "the graph has more than "
                                 "one input ('%s', '%s'): nablas takes one matrix", *name, v->name);
        *name = v->name;
        const NbOnnx__TypeProto *t = v->type;
        if (!t)
            continue;
        if (t->value_case != NB_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
            return nb__onnx_fail(w->err, NULL, 0, NB_ERR_UNSUPPORTED, "input '%s' is not a "
                                 "tensor", v->name);
        const NbOnnx__TypeProto__Tensor *tt = t->tensor_type;
        int32_t e = tt->has_elem_type ? tt->elem_type : NB__ONNX_FLOAT;
        if (e != NB__ONNX_FLOAT && e != NB__ONNX_DOUBLE && e != NB__ONNX_FLOAT16)
            return nb__onnx_fail(w->err, NULL, 0, NB_ERR_UNSUPPORTED, "input '%s' has data "
                                 "type %d (float, float16 or double are read)", v->name, (int)e);
        if (!tt->shape)
            continue;
        if (tt->shape->n_dim != 2)
            return nb__onnx_fail(w->err, NULL, 0, NB_ERR_UNSUPPORTED, "input '%s' has %zu "
                                 "dimensions: nablas takes [batch, features]", v->name,
                                 tt->shape->n_dim);
        const NbOnnx__TensorShapeProto__Dimension *d = tt->shape->dim[1];
        if (d->value_case == NB_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value <= 0 || d->dim_value > (int64_t)NB_MODEL_MAX_WIDTH)
                return nb__onnx_fail(w->err, NULL, 0, NB_ERR_CORRUPT, "input '%s' has %lld "
                                     "features", v->name, (long long)d->dim_value);
            *width = (size_t)d->dim_value;
        }
    }
    if (!*name)
        return nb__onnx_fail(w->err, NULL, 0, NB_ERR_UNSUPPORTED, "the graph has no input "
                             "besides its initializers");
    return NB_OK;
}

/* The input width from the first Gemm or MatMul when the input does not state it. */
static size_t first_width(const walk *w, const NbOnnx__GraphProto *g)
{
    for (size_t k = 0; k < g->n_node; k++) {
        const NbOnnx__NodeProto *nd = g->node[k];
        const char *op = nd->op_type ? nd->op_type : "";
        bool gemm = strcmp(op, "Gemm") == 0;
        if ((!gemm && strcmp(op, "MatMul") != 0) || nd->n_input < 2)
            continue;
        const nb__onnx_const *B = find_const(w, nd->input[1]);
        if (!B || B->ndim != 2 || B->dims[0] == 0 || B->dims[1] == 0)
            return 0;
        bool ok = true;
        bool tb = gemm && attr_int(nd, "transB", 0, &ok) == 1;
        return (size_t)B->dims[tb ? 1 : 0];
    }
    return 0;
}

/* The layers in float into a new network; *net set on success. */
static nb_status build_net(nb_net **net, const walk *w, size_t inputs, nb_onnx_error *err)
{
    nb_layer_spec *spec = malloc(w->n_layers * sizeof *spec);
    if (!spec)
        return NB_ERR_NOMEM;
    for (size_t l = 0; l < w->n_layers; l++)
        spec[l] = (nb_layer_spec){w->layers[l].out, w->layers[l].act, 0.0f};
    nb_net *made = NULL;
    nb_status st = nb_net_create(&made, inputs, spec, w->n_layers, 0);
    free(spec);
    if (st != NB_OK)
        return nb__onnx_fail(err, NULL, 0, st, "the network cannot be made: %s",
                             nb_status_str(st));
    for (size_t l = 0; l < w->n_layers; l++) {
        const layer_out *L = &w->layers[l];
        const nb_layer *ly = &made->layers[l];
        for (size_t i = 0; i < L->in * L->out + L->out; i++) {
            double v = i < L->in * L->out ? L->W[i] : L->b[i - L->in * L->out];
            if (!(fabs(v) <= FLT_MAX)) { /* converting it to float would be undefined */
                nb_net_free(made);
                return nb__onnx_fail(err, NULL, 0, NB_ERR_NONFINITE, "layer %zu: a parameter "
                                     "does not fit in float", l + 1);
            }
            made->params[i < L->in * L->out ? ly->w_off + i : ly->b_off + i - L->in * L->out]
                = (float)v;
        }
    }
    made->ready = false;
    *net = made;
    return NB_OK;
}

/* An affine map x a + c as a standardisation ((x - mean) / std: std = 1 / a, mean = -c / a;
   inverse: y a + c, std = a, mean = c); false when it is none (a <= 0 or out of range). */
static bool as_norm(const double *a, const double *c, size_t n, bool inverse, float *mean,
                    float *std)
{
    for (size_t j = 0; j < n; j++) {
        double s = inverse ? a[j] : 1.0 / a[j], m = inverse ? c[j] : -c[j] / a[j];
        if (!(a[j] > 0) || !(s <= FLT_MAX) || !(fabs(m) <= FLT_MAX))
            return false;
        std[j] = (float)s;
        mean[j] = (float)m;
        if (!(std[j] > 0.0f))
            return false;
    }
    return true;
}

static nb_status make_norm(nb_norm **out, const double *a, const double *c, size_t n,
                           bool inverse, bool *made)
{
    *made = false;
    float *mean = malloc((n ? n : 1) * sizeof *mean), *std = malloc((n ? n : 1) * sizeof *std);
    nb_status st = mean && std ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK && as_norm(a, c, n, inverse, mean, std)) {
        st = nb_norm_create(out, n, mean, std);
        *made = st == NB_OK;
    }
    free(mean);
    free(std);
    return st;
}

/* The end of the chain: the pending map, the input and target standardisations. */
static nb_status finish(walk *w, nb_model *m, nb_onnx_error *err)
{
    if (w->transposed)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_UNSUPPORTED, "the output is transposed");
    if (!w->started)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_UNSUPPORTED, "the graph has no dense layer "
                             "(Gemm or MatMul)");
    bool tail = !affine_is_identity(w);
    nb_status st = NB_OK;
    bool made = false;
    if (tail && (w->tail_ops || !w->have_lin)) /* y a + c after the last layer */
        st = make_norm(&m->target_norm, w->a, w->c, w->width, true, &made);
    if (st != NB_OK)
        return st;
    if (tail && !made && !w->have_lin)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_UNSUPPORTED, "the graph ends in an affine map "
                             "after an activation that is not a standardisation (a scale <= 0)");
    if (made)
        NB_TRY(reset_affine(w, w->width));
    if (w->have_lin) {
        st = emit(w, NB_ACT_IDENTITY);
        if (st != NB_OK)
            return st == NB_ERR_LIMIT ? nb__onnx_fail(err, NULL, 0, st, "more than %u layers",
                                                      NB_MODEL_MAX_LAYERS)
                                      : st;
    }
    /* the input's affine map: a standardisation, or folded into the first layer */
    if (w->in_a) {
        bool identity = true;
        for (size_t j = 0; j < w->n_in; j++)
            identity = identity && w->in_a[j] == 1.0 && w->in_c[j] == 0.0;
        if (!identity)
            NB_TRY(make_norm(&m->norm, w->in_a, w->in_c, w->n_in, false, &made));
        if (!identity && !made) {
            layer_out *L = &w->layers[0];
            for (size_t i = 0; i < L->in; i++)
                for (size_t o = 0; o < L->out; o++) {
                    if (w->in_c[i] != 0.0)
                        L->b[o] += w->in_c[i] * L->W[i * L->out + o];
                    L->W[i * L->out + o] *= w->in_a[i];
                }
        }
    }
    return NB_OK;
}

static nb_status load_model(nb_model *m, const NbOnnx__ModelProto *mp, nb_onnx_error *err)
{
    const NbOnnx__GraphProto *g = mp->graph;
    if (!g)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_CORRUPT, "the model has no graph");
    int opset = opset_of(mp);
    if (opset < 0)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_UNSUPPORTED, "no ONNX opset between 1 and %d "
                             "is imported", MAX_OPSET);
    if (g->n_node > NB_ONNX_MAX_NODES || g->n_initializer > NB_ONNX_MAX_NODES)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_LIMIT, "more than %u nodes or initializers",
                             NB_ONNX_MAX_NODES);
    if (g->n_output != 1 || !g->output[0]->name || !g->output[0]->name[0])
        return nb__onnx_fail(err, NULL, 0, NB_ERR_UNSUPPORTED, "the graph has %zu outputs: "
                             "nablas gives one matrix", g->n_output);
    walk w = {.err = err};
    const char *cur = NULL;
    size_t width = 0;
    nb_status st = collect_consts(&w, g);
    if (st == NB_OK)
        st = graph_input(&w, g, &cur, &width);
    /* the width comes from the first weight, whose values are in the file: a stated width
       alone could claim any size.  Without one (0), the walk refuses the first node that
       needs a width, by name. */
    size_t first = st == NB_OK ? first_width(&w, g) : 0;
    if (st == NB_OK && first && width && width != first)
        st = nb__onnx_fail(err, NULL, 0, NB_ERR_SHAPE, "the input has %zu features, the first "
                           "weight takes %zu", width, first);
    width = first;
    size_t inputs = width;
    if (st == NB_OK)
        st = reset_affine(&w, width);
    size_t *order = malloc((g->n_node ? g->n_node : 1) * sizeof *order), n_order = 0;
    if (st == NB_OK && !order)
        st = NB_ERR_NOMEM;
    for (size_t k = 0; k < g->n_node && st == NB_OK; k++)
        if (!is_constant(g->node[k]))
            order[n_order++] = k;
    for (size_t p = 0; p < n_order && st == NB_OK;) {
        bool matched;
        st = patterns(&w, g, order, n_order, &p, &cur, &matched);
        if (st == NB_OK && !matched) {
            st = step(&w, g->node[order[p]], order[p], &cur, opset);
            p++;
        }
    }
    free(order);
    if (st == NB_OK && strcmp(cur, g->output[0]->name) != 0)
        st = nb__onnx_fail(err, NULL, 0, NB_ERR_UNSUPPORTED, "the graph's output '%s' is not "
                           "the end of its chain of nodes ('%s')", g->output[0]->name, cur);
    nb_model made = {.loss = NB_LOSS_MSE};
    if (st == NB_OK)
        st = finish(&w, &made, err);
    /* nablas' export of a softmax-ce model: the graph gives probabilities, the model logits */
    if (st == NB_OK && !made.target_norm && w.layers[w.n_layers - 1].act == NB_ACT_SOFTMAX
        && nb__onnx_meta_softmax_ce(mp))
        w.layers[w.n_layers - 1].act = NB_ACT_IDENTITY;
    if (st == NB_OK)
        st = build_net(&made.net, &w, inputs, err);
    bool loss_given = false;
    if (st == NB_OK && (st = nb__onnx_meta_get(&made, mp, &loss_given)) != NB_OK)
        nb__onnx_fail(err, NULL, 0, st, "malformed nablas metadata (loss or names)");
    if (st == NB_OK && w.log_softmax) {
        if (loss_given && made.loss != NB_LOSS_SOFTMAX_CE)
            st = nb__onnx_fail(err, NULL, 0, NB_ERR_CORRUPT, "LogSoftmax with a loss other "
                               "than softmax-ce in the metadata");
        made.loss = NB_LOSS_SOFTMAX_CE; /* the network gives the logits */
    }
    if (st == NB_OK && made.target_norm && made.loss != NB_LOSS_MSE)
        st = nb__onnx_fail(err, NULL, 0, NB_ERR_UNSUPPORTED, "a target standardisation with "
                           "a loss other than MSE");
    walk_free(&w);
    if (st != NB_OK) {
        nb_model_free(&made);
        return st;
    }
    *m = made;
    return NB_OK;
}

nb_status nb_onnx_load_mem(nb_model *m, const void *data, size_t size, nb_onnx_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!m || !data)
        return NB_ERR_NULL;
    if (size > NB_ONNX_MAX_FILE)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_LIMIT, "larger than %u bytes", NB_ONNX_MAX_FILE);
    NbOnnx__ModelProto *mp = nb_onnx__model_proto__unpack(NULL, size, data);
    if (!mp)
        return nb__onnx_fail(err, NULL, 0, NB_ERR_CORRUPT, "not a valid ONNX (protobuf) model");
    nb_status st = load_model(m, mp, err);
    nb_onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}

nb_status nb_onnx_load(nb_model *m, const char *path, nb_onnx_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!m || !path)
        return NB_ERR_NULL;
    unsigned char *data;
    size_t size;
    nb_status st = nb__read_checked(path, NB_ONNX_MAX_FILE, NULL, NULL, &data, &size);
    if (st == NB_ERR_LIMIT)
        return nb__onnx_fail(err, NULL, 0, st, "larger than %u bytes", NB_ONNX_MAX_FILE);
    if (st != NB_OK)
        return nb__onnx_fail(err, NULL, 0, st, "cannot be read");
    st = nb_onnx_load_mem(m, data, size, err);
    free(data);
    return st;
}

bool nb_onnx_available(void)
{
    return true;
}
