/* ONNX: round trips through the C API, and a crafted file for every bound of the reader (each
   claim of a tensor, the counts, the graph's structure) and every refusal naming its node.
   Files are encoded here field by field (protobuf's wire format), so that any claim can be
   made false.  Real exporters and ONNX Runtime are in tests/interop. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"

/* ---- a protobuf encoder ------------------------------------------------------------------ */

typedef struct pb {
    uint8_t *b;
    size_t n, cap;
} pb;

static void pb_raw(pb *p, const void *d, size_t n)
{
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + 64;
        p->b = realloc(p->b, p->cap);
        cr_assert_not_null(p->b);
    }
    if (n)
        memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void pb_varint(pb *p, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        pb_raw(p, &c, 1);
    } while (v);
}

static void pb_key(pb *p, unsigned field, unsigned wire) { pb_varint(p, (uint64_t)field << 3 | wire); }
static void pb_int(pb *p, unsigned f, int64_t v) { pb_key(p, f, 0); pb_varint(p, (uint64_t)v); }
static void pb_f32(pb *p, unsigned f, float v) { pb_key(p, f, 5); pb_raw(p, &v, 4); }

static void pb_bytes(pb *p, unsigned f, const void *d, size_t n)
{
    pb_key(p, f, 2);
    pb_varint(p, n);
    pb_raw(p, d, n);
}

static void pb_str(pb *p, unsigned f, const char *s) { pb_bytes(p, f, s, strlen(s)); }

/* Appends sub as field f and frees it. */
static void pb_msg(pb *p, unsigned f, pb *sub)
{
    pb_bytes(p, f, sub->b, sub->n);
    free(sub->b);
    *sub = (pb){0};
}

/* ---- ONNX messages (field numbers of onnx.proto) --------------------------------------------- */

enum { T_FLOAT = 1, T_INT8 = 3, T_INT64 = 7, T_FLOAT16 = 10, T_DOUBLE = 11 };

/* A TensorProto with dims and raw data (raw NULL: none). */
static pb tensor_raw(const char *name, const int64_t *dims, size_t nd, int type, const void *raw,
                     size_t rawlen)
{
    pb t = {0};
    for (size_t d = 0; d < nd; d++)
        pb_int(&t, 1, dims[d]);
    pb_int(&t, 2, type);
    pb_str(&t, 8, name);
    if (raw)
        pb_bytes(&t, 9, raw, rawlen);
    return t;
}

/* A float TensorProto with n values in float_data (packed). */
static pb tensor_floats(const char *name, const int64_t *dims, size_t nd, const float *v, size_t n)
{
    pb t = tensor_raw(name, dims, nd, T_FLOAT, NULL, 0);
    pb_bytes(&t, 4, v, 4 * n);
    return t;
}

static pb attr_int(const char *name, int64_t v)
{
    pb a = {0};
    pb_str(&a, 1, name);
    pb_int(&a, 3, v);
    pb_int(&a, 20, 2);
    return a;
}

static pb attr_float(const char *name, float v)
{
    pb a = {0};
    pb_str(&a, 1, name);
    pb_f32(&a, 2, v);
    pb_int(&a, 20, 1);
    return a;
}

/* A node; ins NULL-terminated; attr may be NULL. */
static pb node(const char *name, const char *op, const char *const *ins, const char *out, pb *attr)
{
    pb n = {0};
    for (size_t k = 0; ins[k]; k++)
        pb_str(&n, 1, ins[k]);
    pb_str(&n, 2, out);
    if (name)
        pb_str(&n, 3, name);
    pb_str(&n, 4, op);
    if (attr)
        pb_msg(&n, 5, attr);
    return n;
}

/* A float tensor value of shape [batch, width] (width 0: no shape; rank 3 when rank3). */
static pb value(const char *name, int64_t width, bool rank3)
{
    pb dim0 = {0}, dim1 = {0}, shape = {0}, tt = {0}, type = {0}, v = {0};
    pb_str(&dim0, 2, "batch");
    pb_int(&dim1, 1, width);
    pb_msg(&shape, 1, &dim0);
    if (rank3) {
        pb d = {0};
        pb_int(&d, 1, 1);
        pb_msg(&shape, 1, &d);
    }
    pb_msg(&shape, 1, &dim1);
    pb_int(&tt, 1, T_FLOAT);
    if (width)
        pb_msg(&tt, 2, &shape);
    else
        free(shape.b);
    pb_msg(&type, 1, &tt);
    pb_str(&v, 1, name);
    pb_msg(&v, 2, &type);
    return v;
}

/* The model: ir_version 7, opset (domain "", version; 0: no opset_import), then the graph last,
   so that every proper prefix cuts the graph. */
static uint8_t *model(pb *graph, int64_t opset, size_t *size)
{
    pb m = {0};
    pb_int(&m, 1, 7);
    if (opset) {
        pb o = {0};
        pb_str(&o, 1, "");
        pb_int(&o, 2, opset);
        pb_msg(&m, 8, &o);
    }
    if (graph)
        pb_msg(&m, 7, graph);
    *size = m.n;
    return m.b;
}

/* The baseline: input x [batch, 3], Gemm(x, W 3x2, b 2) -> z, Relu -> y. */
static const float W[6] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f}, B[2] = {0.1f, -0.2f};
static const int64_t WD[2] = {3, 2}, BD[1] = {2};

typedef struct graph_parts {
    pb w, b;          /* the two initializers */
    pb extra_init;    /* another one, or empty */
    pb nodes[4];
    size_t n_nodes;
    pb in, in2, out, out2;
} graph_parts;

static graph_parts baseline(void)
{
    graph_parts g = {0};
    g.w = tensor_raw("W", WD, 2, T_FLOAT, W, sizeof W);
    g.b = tensor_floats("b", BD, 1, B, 2);
    g.nodes[0] = node("gemm", "Gemm", (const char *[]){"x", "W", "b", NULL}, "z", NULL);
    g.nodes[1] = node("relu", "Relu", (const char *[]){"z", NULL}, "y", NULL);
    g.n_nodes = 2;
    g.in = value("x", 3, false);
    g.out = value("y", 2, false);
    return g;
}

static pb assemble(graph_parts *g)
{
    pb gr = {0};
    for (size_t k = 0; k < g->n_nodes; k++)
        pb_msg(&gr, 1, &g->nodes[k]);
    pb_str(&gr, 2, "g");
    if (g->w.n)
        pb_msg(&gr, 5, &g->w);
    if (g->b.n)
        pb_msg(&gr, 5, &g->b);
    if (g->extra_init.n)
        pb_msg(&gr, 5, &g->extra_init);
    if (g->in.n)
        pb_msg(&gr, 11, &g->in);
    if (g->in2.n)
        pb_msg(&gr, 11, &g->in2);
    if (g->out.n)
        pb_msg(&gr, 12, &g->out);
    if (g->out2.n)
        pb_msg(&gr, 12, &g->out2);
    return gr;
}

/* Loads g (opset 13) and expects want; the model must be untouched on failure and err must
   name `where` (a node, or NULL for none). */
static void expect(graph_parts *g, int64_t opset, nb_status want, const char *where)
{
    pb gr = assemble(g);
    size_t size;
    uint8_t *data = model(&gr, opset, &size);
    nb_model m, sentinel;
    memset(&sentinel, 0x5a, sizeof sentinel);
    m = sentinel;
    nb_onnx_error err;
    nb_status st = nb_onnx_load_mem(&m, data, size, &err);
    cr_expect_eq(st, want, "status %s (%s), want %s: %s", nb_status_str(st), err.node,
                 nb_status_str(want), err.reason);
    if (st == NB_OK) {
        nb_model_free(&m);
    } else {
        cr_expect_eq(memcmp(&m, &sentinel, sizeof m), 0, "the model was changed on failure");
        cr_expect_neq(err.reason[0], '\0', "no reason given");
        if (where)
            cr_expect_str_eq(err.node, where);
    }
    free(data);
}

/* ---- bounds ----------------------------------------------------------------------------------- */

Test(onnx_bounds, baseline_loads_and_predicts)
{
    graph_parts g = baseline();
    pb gr = assemble(&g);
    size_t size;
    uint8_t *data = model(&gr, 13, &size);
    nb_model m;
    cr_assert_eq(nb_onnx_load_mem(&m, data, size, NULL), NB_OK);
    cr_assert_eq(nb_net_inputs(m.net), 3);
    cr_assert_eq(nb_net_outputs(m.net), 2);
    nb_layer_spec s;
    nb_net_layer(m.net, 0, &s);
    cr_assert_eq(s.act, NB_ACT_RELU);
    cr_assert_eq(m.loss, NB_LOSS_MSE);
    cr_assert_null(m.norm);
    float x[3] = {1.0f, -2.0f, 0.5f}, y[2];
    nb_tensor X = nb_tensor_view(x, 1, 3), Y = nb_tensor_view(y, 1, 2);
    cr_assert_eq(nb_net_predict(m.net, &X, &Y), NB_OK);
    for (int o = 0; o < 2; o++) {
        double z = B[o];
        for (int i = 0; i < 3; i++)
            z += (double)x[i] * W[i * 2 + o];
        cr_expect_float_eq(y[o], z > 0 ? z : 0.0, 1e-6);
    }
    nb_model_free(&m);
    free(data);
}

Test(onnx_bounds, every_proper_prefix_fails_and_changes_nothing)
{
    graph_parts g = baseline();
    pb gr = assemble(&g);
    size_t size;
    uint8_t *data = model(&gr, 13, &size);
    for (size_t n = 0; n < size; n++) {
        nb_model m, sentinel;
        memset(&sentinel, 0x33, sizeof sentinel);
        m = sentinel;
        nb_status st = nb_onnx_load_mem(&m, data, n, NULL);
        cr_assert_neq(st, NB_OK, "prefix of %zu of %zu bytes loaded", n, size);
        cr_assert_eq(memcmp(&m, &sentinel, sizeof m), 0);
    }
    free(data);
}

Test(onnx_bounds, not_protobuf_and_size_limit)
{
    nb_model m;
    nb_onnx_error err;
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    cr_expect_eq(nb_onnx_load_mem(&m, junk, sizeof junk, &err), NB_ERR_CORRUPT);
    /* a length-delimited field longer than the file */
    const uint8_t longer[] = {0x3a, 0x7f, 0x00};
    cr_expect_eq(nb_onnx_load_mem(&m, longer, sizeof longer, &err), NB_ERR_CORRUPT);
    /* an empty buffer is an empty model: no graph */
    cr_expect_eq(nb_onnx_load_mem(&m, junk, 0, &err), NB_ERR_CORRUPT);
    cr_expect_str_eq(err.node, "");
    /* the size is judged before a byte is read */
    cr_expect_eq(nb_onnx_load_mem(&m, junk, (size_t)NB_ONNX_MAX_FILE + 1, &err), NB_ERR_LIMIT);
    cr_expect_eq(nb_onnx_load(&m, io_path(io_tmpdir(), "missing.onnx"), &err), NB_ERR_IO);
    cr_expect_eq(nb_onnx_load(&m, NULL, &err), NB_ERR_NULL);
    cr_expect_eq(nb_onnx_load_mem(NULL, junk, 1, &err), NB_ERR_NULL);
    cr_expect_eq(nb_onnx_load_mem(&m, NULL, 1, NULL), NB_ERR_NULL);
}

/* The weight W replaced by t. */
static void expect_weight(pb t, nb_status want)
{
    graph_parts g = baseline();
    free(g.w.b);
    g.w = t;
    expect(&g, 13, want, NULL);
}

Test(onnx_bounds, tensor_data_must_match_its_dims)
{
    expect_weight(tensor_raw("W", WD, 2, T_FLOAT, W, sizeof W - 4), NB_ERR_CORRUPT); /* short */
    float more[7] = {0};
    expect_weight(tensor_raw("W", WD, 2, T_FLOAT, more, sizeof more), NB_ERR_CORRUPT); /* long */
    expect_weight(tensor_floats("W", WD, 2, W, 5), NB_ERR_CORRUPT);
    expect_weight(tensor_raw("W", WD, 2, T_FLOAT, NULL, 0), NB_ERR_CORRUPT); /* no data */
    /* raw and typed data together */
    pb both = tensor_raw("W", WD, 2, T_FLOAT, W, sizeof W);
    pb_bytes(&both, 4, W, sizeof W);
    expect_weight(both, NB_ERR_CORRUPT);
    /* typed data of another type's field */
    pb other = tensor_raw("W", WD, 2, T_FLOAT, NULL, 0);
    double d[6] = {0};
    pb_bytes(&other, 10, d, sizeof d);
    expect_weight(other, NB_ERR_CORRUPT);
    expect_weight(tensor_floats("W", WD, 2, W, 6), NB_OK); /* typed float_data is read */
}

Test(onnx_bounds, dims_are_bounded)
{
    const int64_t neg[2] = {-3, -2}, huge[2] = {3, (int64_t)1 << 31};
    expect_weight(tensor_raw("W", neg, 2, T_FLOAT, W, sizeof W), NB_ERR_CORRUPT);
    expect_weight(tensor_raw("W", huge, 2, T_FLOAT, W, sizeof W), NB_ERR_CORRUPT);
    /* a product of dims beyond any size: refused before anything is allocated */
    const int64_t big[5] = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    expect_weight(tensor_raw("W", big, 5, T_FLOAT, W, sizeof W), NB_ERR_CORRUPT);
    const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 3, 2};
    expect_weight(tensor_raw("W", nine, 9, T_FLOAT, W, sizeof W), NB_ERR_UNSUPPORTED);
    const int64_t three[3] = {1, 3, 2};
    expect_weight(tensor_raw("W", three, 3, T_FLOAT, W, sizeof W), NB_ERR_UNSUPPORTED); /* not 2-D */
    const int64_t other[2] = {4, 2};
    float w8[8] = {0};
    expect_weight(tensor_raw("W", other, 2, T_FLOAT, w8, sizeof w8), NB_ERR_SHAPE);
}

Test(onnx_bounds, data_types_and_locations)
{
    int8_t i8[6] = {0};
    expect_weight(tensor_raw("W", WD, 2, T_INT8, i8, sizeof i8), NB_ERR_UNSUPPORTED);
    expect_weight(tensor_raw("W", WD, 2, 0, W, sizeof W), NB_ERR_UNSUPPORTED); /* undefined */
    pb ext = tensor_raw("W", WD, 2, T_FLOAT, NULL, 0);
    pb entry = {0};
    pb_str(&entry, 1, "location");
    pb_str(&entry, 2, "weights.bin");
    pb_msg(&ext, 13, &entry);
    pb_int(&ext, 14, 1);
    expect_weight(ext, NB_ERR_UNSUPPORTED);
    pb loc = tensor_raw("W", WD, 2, T_FLOAT, W, sizeof W);
    pb_int(&loc, 14, 1);
    expect_weight(loc, NB_ERR_UNSUPPORTED);
    int64_t ints[6] = {1, 2, 3, 4, 5, 6};
    expect_weight(tensor_raw("W", WD, 2, T_INT64, ints, sizeof ints), NB_ERR_UNSUPPORTED);
    /* float16 bits travel in int32_data: each must fit 16 bits */
    pb h = tensor_raw("W", WD, 2, T_FLOAT16, NULL, 0);
    pb packed = {0};
    for (int k = 0; k < 6; k++)
        pb_varint(&packed, k == 4 ? 0x10000 : 0x3c00);
    pb_msg(&h, 5, &packed);
    expect_weight(h, NB_ERR_CORRUPT);
    pb h1 = tensor_raw("W", WD, 2, T_FLOAT16, NULL, 0);
    for (int k = 0; k < 6; k++)
        pb_varint(&packed, 0x3c00);
    pb_msg(&h1, 5, &packed);
    expect_weight(h1, NB_OK);
    double d[6] = {1, 2, 3, 4, 5, 6};
    expect_weight(tensor_raw("W", WD, 2, T_DOUBLE, d, sizeof d), NB_OK);
}

Test(onnx_bounds, non_finite_values)
{
    float bad[6] = {0, 0, NAN, 0, 0, 0};
    expect_weight(tensor_raw("W", WD, 2, T_FLOAT, bad, sizeof bad), NB_ERR_NONFINITE);
    bad[2] = INFINITY;
    expect_weight(tensor_floats("W", WD, 2, bad, 6), NB_ERR_NONFINITE);
    double big[6] = {0, 0, 1e300, 0, 0, 0}; /* finite, but not in float */
    expect_weight(tensor_raw("W", WD, 2, T_DOUBLE, big, sizeof big), NB_ERR_NONFINITE);
    /* Gemm's alpha scales a finite weight out of float's range */
    graph_parts g = baseline();
    free(g.nodes[0].b);
    pb a = attr_float("alpha", 3e38f);
    float w[6] = {1e38f, 0, 0, 0, 0, 0};
    free(g.w.b);
    g.w = tensor_raw("W", WD, 2, T_FLOAT, w, sizeof w);
    g.nodes[0] = node("gemm", "Gemm", (const char *[]){"x", "W", "b", NULL}, "z", &a);
    expect(&g, 13, NB_ERR_NONFINITE, NULL);
}

Test(onnx_bounds, node_count_limit)
{
    /* NB_ONNX_MAX_NODES + 1 Identity nodes: refused by count, before any is walked */
    pb gr = {0};
    size_t n = NB_ONNX_MAX_NODES + 1;
    for (size_t k = 0; k < n; k++) {
        char in[16], out[16];
        snprintf(in, sizeof in, "v%zu", k);
        snprintf(out, sizeof out, "v%zu", k + 1);
        pb nd = node(NULL, "Identity", (const char *[]){k ? in : "x", NULL}, out, NULL);
        pb_msg(&gr, 1, &nd);
    }
    pb in = value("x", 3, false), out = value("y", 2, false);
    pb_msg(&gr, 11, &in);
    pb_msg(&gr, 12, &out);
    size_t size;
    uint8_t *data = model(&gr, 13, &size);
    nb_model m;
    nb_onnx_error err;
    cr_expect_eq(nb_onnx_load_mem(&m, data, size, &err), NB_ERR_LIMIT);
    free(data);
}

Test(onnx_bounds, graph_structure)
{
    graph_parts g = baseline();
    pb gr = assemble(&g);
    size_t size;
    uint8_t *data = model(NULL, 13, &size); /* no graph */
    nb_model m;
    cr_expect_eq(nb_onnx_load_mem(&m, data, size, NULL), NB_ERR_CORRUPT);
    free(data);
    free(gr.b);

    g = baseline(); /* no opset of ONNX's domain, or one newer than nablas reads */
    expect(&g, 0, NB_ERR_UNSUPPORTED, NULL);
    g = baseline();
    expect(&g, 99, NB_ERR_UNSUPPORTED, NULL);

    g = baseline(); /* two initializers with one name */
    g.extra_init = tensor_floats("b", BD, 1, B, 2);
    expect(&g, 13, NB_ERR_CORRUPT, NULL);

    g = baseline(); /* two inputs */
    g.in2 = value("x2", 3, false);
    expect(&g, 13, NB_ERR_UNSUPPORTED, NULL);
    g = baseline(); /* two outputs */
    g.out2 = value("z", 2, false);
    expect(&g, 13, NB_ERR_UNSUPPORTED, NULL);
    g = baseline(); /* no input */
    free(g.in.b);
    g.in = (pb){0};
    expect(&g, 13, NB_ERR_UNSUPPORTED, NULL);
    g = baseline(); /* rank 3 */
    free(g.in.b);
    g.in = value("x", 3, true);
    expect(&g, 13, NB_ERR_UNSUPPORTED, NULL);
    g = baseline(); /* the stated width disagrees with the weight */
    free(g.in.b);
    g.in = value("x", 4, false);
    expect(&g, 13, NB_ERR_SHAPE, NULL);
    g = baseline(); /* a huge stated width with no weight to back it */
    free(g.in.b);
    g.in = value("x", 0x7fffffff, false);
    free(g.w.b);
    const int64_t empty[2] = {0x7fffffff, 0};
    g.w = tensor_raw("W", empty, 2, T_FLOAT, NULL, 0);
    expect(&g, 13, NB_ERR_SHAPE, "gemm");
    g = baseline(); /* no stated width: the first Gemm's */
    free(g.in.b);
    g.in = value("x", 0, false);
    expect(&g, 13, NB_OK, NULL);
    g = baseline(); /* the output is not the end of the chain */
    free(g.out.b);
    g.out = value("z", 2, false);
    expect(&g, 13, NB_ERR_UNSUPPORTED, NULL);
    g = baseline(); /* a weight that is not a constant */
    free(g.nodes[0].b);
    g.nodes[0] = node("gemm", "Gemm", (const char *[]){"x", "Wmissing", "b", NULL}, "z", NULL);
    expect(&g, 13, NB_ERR_UNSUPPORTED, "gemm");
    g = baseline(); /* a node whose output is a constant's name */
    free(g.nodes[1].b);
    g.nodes[1] = node("relu", "Relu", (const char *[]){"z", NULL}, "W", NULL);
    expect(&g, 13, NB_ERR_CORRUPT, "relu");
}

Test(onnx_bounds, refusals_name_the_node)
{
    graph_parts g = baseline(); /* an op nablas does not read, unnamed: "#k" */
    free(g.nodes[1].b);
    g.nodes[1] = node(NULL, "Conv", (const char *[]){"z", NULL}, "y", NULL);
    expect(&g, 13, NB_ERR_UNSUPPORTED, "#1");
    g = baseline(); /* another domain */
    free(g.nodes[1].b);
    g.nodes[1] = node("relu", "Relu", (const char *[]){"z", NULL}, "y", NULL);
    pb_str(&g.nodes[1], 7, "com.microsoft");
    expect(&g, 13, NB_ERR_UNSUPPORTED, "relu");
    g = baseline(); /* an attribute Gemm does not have */
    free(g.nodes[0].b);
    pb a = attr_int("transC", 1);
    g.nodes[0] = node("gemm", "Gemm", (const char *[]){"x", "W", "b", NULL}, "z", &a);
    expect(&g, 13, NB_ERR_UNSUPPORTED, "gemm");
    g = baseline(); /* LeakyRelu with another slope */
    free(g.nodes[1].b);
    pb al = attr_float("alpha", 0.2f);
    g.nodes[1] = node("lrelu", "LeakyRelu", (const char *[]){"z", NULL}, "y", &al);
    expect(&g, 13, NB_ERR_UNSUPPORTED, "lrelu");
    g = baseline(); /* LeakyRelu 0.01: read */
    free(g.nodes[1].b);
    pb ok = attr_float("alpha", 0.01f);
    g.nodes[1] = node("lrelu", "LeakyRelu", (const char *[]){"z", NULL}, "y", &ok);
    expect(&g, 13, NB_OK, NULL);
    g = baseline(); /* Softmax over the batch at either opset */
    free(g.nodes[1].b);
    pb ax = attr_int("axis", 0);
    g.nodes[1] = node("sm", "Softmax", (const char *[]){"z", NULL}, "y", &ax);
    expect(&g, 11, NB_ERR_UNSUPPORTED, "sm");
    g = baseline(); /* Softmax without axis: row-wise by default at opsets 11 and 13 */
    free(g.nodes[1].b);
    g.nodes[1] = node("sm", "Softmax", (const char *[]){"z", NULL}, "y", NULL);
    expect(&g, 11, NB_OK, NULL);
    g = baseline();
    free(g.nodes[1].b);
    g.nodes[1] = node("sm", "Softmax", (const char *[]){"z", NULL}, "y", NULL);
    expect(&g, 13, NB_OK, NULL);
}

static pb attr_str(const char *name, const char *v)
{
    pb a = {0};
    pb_str(&a, 1, name);
    pb_str(&a, 4, v);
    pb_int(&a, 20, 3);
    return a;
}

/* The baseline's Relu replaced by op (with attr, may be NULL) at opset; the layer's activation
   must come out as act, or the load fail with want naming "act". */
static void expect_act(const char *op, pb *attr, int64_t opset, nb_status want, nb_act act)
{
    graph_parts g = baseline();
    free(g.nodes[1].b);
    g.nodes[1] = node("act", op, (const char *[]){"z", NULL}, "y", attr);
    if (want != NB_OK) {
        expect(&g, opset, want, "act");
        return;
    }
    pb gr = assemble(&g);
    size_t size;
    uint8_t *data = model(&gr, opset, &size);
    nb_model m;
    cr_assert_eq(nb_onnx_load_mem(&m, data, size, NULL), NB_OK, "%s", op);
    nb_layer_spec s;
    nb_net_layer(m.net, 0, &s);
    cr_expect_eq(s.act, act, "%s: %s", op, nb_act_name(s.act));
    nb_model_free(&m);
    free(data);
}

Test(onnx_bounds, single_node_activations)
{
    expect_act("Softplus", NULL, 13, NB_OK, NB_ACT_SOFTPLUS);
    expect_act("Elu", NULL, 13, NB_OK, NB_ACT_ELU);
    pb a1 = attr_float("alpha", 1.0f), a2 = attr_float("alpha", 0.5f);
    expect_act("Elu", &a1, 13, NB_OK, NB_ACT_ELU);
    expect_act("Elu", &a2, 13, NB_ERR_UNSUPPORTED, NB_ACT_ELU); /* nablas' ELU has alpha 1 */
    /* Gelu (opset 20): both forms, and no other */
    expect_act("Gelu", NULL, 20, NB_OK, NB_ACT_GELU);
    pb none = attr_str("approximate", "none"), tanh_form = attr_str("approximate", "tanh"),
       other = attr_str("approximate", "fast");
    expect_act("Gelu", &none, 20, NB_OK, NB_ACT_GELU);
    expect_act("Gelu", &tanh_form, 20, NB_OK, NB_ACT_GELU_TANH);
    expect_act("Gelu", &other, 20, NB_ERR_UNSUPPORTED, NB_ACT_GELU);
    /* Erf alone is not an activation nablas has */
    expect_act("Erf", NULL, 13, NB_ERR_UNSUPPORTED, NB_ACT_GELU);
}

/* GELU as torch writes it (Div, Erf, Add, Mul, Mul) with constant c in place of sqrt 2: read as
   GELU when c is sqrt 2 within 1e-6; otherwise the Div is an affine map and Erf is refused. */
static pb const_node(const char *name, float v)
{
    const int64_t none[1] = {0};
    pb t = tensor_raw(name, none, 0, T_FLOAT, &v, 4), a = {0};
    pb_str(&a, 1, "value");
    pb_msg(&a, 5, &t);
    pb_int(&a, 20, 4);
    return node(NULL, "Constant", (const char *[]){NULL}, name, &a);
}

static void gelu_pattern(float c, nb_status want)
{
    /* Constant nodes between the pattern's nodes, as torch writes them */
    pb nodes[] = {
        node("gemm", "Gemm", (const char *[]){"x", "W", "b", NULL}, "z", NULL),
        const_node("c", c),
        node("div", "Div", (const char *[]){"z", "c", NULL}, "d", NULL),
        node("erf", "Erf", (const char *[]){"d", NULL}, "e", NULL),
        const_node("one", 1.0f),
        node("add", "Add", (const char *[]){"e", "one", NULL}, "f", NULL),
        node("mul", "Mul", (const char *[]){"z", "f", NULL}, "m", NULL),
        const_node("half", 0.5f),
        node("half_mul", "Mul", (const char *[]){"m", "half", NULL}, "y", NULL),
    };
    pb gr = {0};
    for (size_t k = 0; k < sizeof nodes / sizeof *nodes; k++)
        pb_msg(&gr, 1, &nodes[k]);
    pb w = tensor_raw("W", WD, 2, T_FLOAT, W, sizeof W), b = tensor_floats("b", BD, 1, B, 2);
    pb in = value("x", 3, false), out = value("y", 2, false);
    pb_msg(&gr, 5, &w);
    pb_msg(&gr, 5, &b);
    pb_msg(&gr, 11, &in);
    pb_msg(&gr, 12, &out);
    size_t size;
    uint8_t *data = model(&gr, 13, &size);
    nb_model m;
    nb_onnx_error err;
    nb_status st = nb_onnx_load_mem(&m, data, size, &err);
    cr_expect_eq(st, want, "c = %g: %s (%s: %s)", c, nb_status_str(st), err.node, err.reason);
    if (st == NB_OK) {
        nb_layer_spec s;
        nb_net_layer(m.net, 0, &s);
        cr_expect_eq(s.act, NB_ACT_GELU);
        cr_expect_eq(nb_net_num_layers(m.net), 1);
        nb_model_free(&m);
    } else {
        cr_expect_str_eq(err.node, "erf");
    }
    free(data);
}

Test(onnx_bounds, gelu_pattern_constants)
{
    gelu_pattern(1.41421356f, NB_OK);
    gelu_pattern(1.4142135f, NB_OK); /* float's rounding of sqrt 2 */
    gelu_pattern(1.5f, NB_ERR_UNSUPPORTED);
}

Test(onnx, every_activation_round_trips)
{
    for (int a = 0; a < NB_ACT_COUNT; a++) {
        nb_layer_spec spec[2] = {{5, (nb_act)a, 0}, {3, (nb_act)a, 0}};
        nb_net *net;
        cr_assert_eq(nb_net_create(&net, 4, spec, 2, 11), NB_OK);
        nb_model m = {.net = net, .loss = NB_LOSS_MSE};
        void *data;
        size_t size;
        cr_assert_eq(nb_onnx_save_mem(&data, &size, &m), NB_OK, "%s", nb_act_name((nb_act)a));
        nb_model b;
        nb_onnx_error err;
        cr_assert_eq(nb_onnx_load_mem(&b, data, size, &err), NB_OK, "%s: %s: %s",
                     nb_act_name((nb_act)a), err.node, err.reason);
        for (size_t l = 0; l < 2; l++) {
            nb_layer_spec s;
            nb_net_layer(b.net, l, &s);
            cr_expect_eq(s.act, (nb_act)a, "%s came back as %s", nb_act_name((nb_act)a),
                         nb_act_name(s.act));
        }
        size_t np = nb_net_num_params(net);
        cr_expect_eq(memcmp(nb_net_params(b.net), nb_net_params(net), np * sizeof(float)), 0);
        nb_model_free(&b);
        free(data);
        nb_net_free(net);
    }
}

/* ---- round trips ------------------------------------------------------------------------------- */

static char *names3[] = {"alpha", "beta", "gamma"}, *names2[] = {"u", "v"};

Test(onnx, round_trip_keeps_everything)
{
    nb_net *net = io_small_net(7); /* 3-5-4-2 */
    float mean[3] = {1, -2, 0.5f}, sd[3] = {2, 0.5f, 3}, tm[2] = {100, -3}, ts[2] = {20, 0.25f};
    nb_norm *norm, *tnorm;
    cr_assert_eq(nb_norm_create(&norm, 3, mean, sd), NB_OK);
    cr_assert_eq(nb_norm_create(&tnorm, 2, tm, ts), NB_OK);
    nb_model m = {.net = net, .loss = NB_LOSS_MSE, .norm = norm, .target_norm = tnorm,
                  .n_feature_names = 3, .feature_names = names3, .n_target_names = 2,
                  .target_names = names2};
    void *data;
    size_t size;
    cr_assert_eq(nb_onnx_save_mem(&data, &size, &m), NB_OK);
    nb_model b;
    cr_assert_eq(nb_onnx_load_mem(&b, data, size, NULL), NB_OK);
    size_t np = nb_net_num_params(net);
    cr_assert_eq(nb_net_num_params(b.net), np);
    cr_expect_eq(memcmp(nb_net_params(b.net), nb_net_params(net), np * sizeof(float)), 0);
    for (size_t l = 0; l < 3; l++) {
        nb_layer_spec s1, s2;
        nb_net_layer(net, l, &s1);
        nb_net_layer(b.net, l, &s2);
        cr_expect_eq(s1.units, s2.units);
        cr_expect_eq(s1.act, s2.act);
    }
    cr_assert_not_null(b.norm);
    cr_assert_not_null(b.target_norm);
    cr_expect_eq(memcmp(nb_norm_mean(b.norm), mean, sizeof mean), 0);
    cr_expect_eq(memcmp(nb_norm_std(b.norm), sd, sizeof sd), 0);
    cr_expect_eq(memcmp(nb_norm_mean(b.target_norm), tm, sizeof tm), 0);
    cr_expect_eq(memcmp(nb_norm_std(b.target_norm), ts, sizeof ts), 0);
    cr_assert_eq(b.n_feature_names, 3);
    cr_assert_eq(b.n_target_names, 2);
    for (int k = 0; k < 3; k++)
        cr_expect_str_eq(b.feature_names[k], names3[k]);
    cr_expect_str_eq(b.target_names[1], "v");
    cr_expect_eq(b.n_classes, 0);
    nb_model_free(&b);
    free(data);

    /* a classifier: class names, softmax-ce; the file ends in Softmax, the model has logits */
    nb_model c = {.net = net, .loss = NB_LOSS_SOFTMAX_CE, .n_classes = 2, .class_names = names2,
                  .n_target_names = 1, .target_names = names3};
    cr_assert_eq(nb_onnx_save_mem(&data, &size, &c), NB_OK);
    cr_assert_eq(nb_onnx_load_mem(&b, data, size, NULL), NB_OK);
    cr_expect_eq(b.loss, NB_LOSS_SOFTMAX_CE);
    nb_layer_spec last;
    nb_net_layer(b.net, 2, &last);
    cr_expect_eq(last.act, NB_ACT_IDENTITY);
    cr_assert_eq(b.n_classes, 2);
    cr_expect_str_eq(b.class_names[0], "u");
    cr_expect_eq(memcmp(nb_net_params(b.net), nb_net_params(net), np * sizeof(float)), 0);
    nb_model_free(&b);
    free(data);
    nb_norm_free(norm);
    nb_norm_free(tnorm);
    nb_net_free(net);
}

Test(onnx, save_errors_write_nothing)
{
    nb_net *net = io_small_net(8);
    const char *dir = io_tmpdir(), *path = io_path(dir, "m.onnx");
    nb_model m = {.net = net, .loss = NB_LOSS_MSE};
    void *data;
    size_t size;
    cr_expect_eq(nb_onnx_save(NULL, path), NB_ERR_NULL);
    cr_expect_eq(nb_onnx_save(&m, NULL), NB_ERR_NULL);
    cr_expect_eq(nb_onnx_save_mem(NULL, &size, &m), NB_ERR_NULL);
    nb_model empty = {0};
    cr_expect_eq(nb_onnx_save_mem(&data, &size, &empty), NB_ERR_NULL);
    nb_model bad_loss = {.net = net, .loss = NB_LOSS_COUNT};
    cr_expect_eq(nb_onnx_save(&bad_loss, path), NB_ERR_ARG);
    nb_norm *norm;
    float mean[2] = {0, 0}, sd[2] = {1, 1};
    cr_assert_eq(nb_norm_create(&norm, 2, mean, sd), NB_OK);
    nb_model wrong = {.net = net, .norm = norm}; /* 2 features for 3 inputs */
    cr_expect_eq(nb_onnx_save(&wrong, path), NB_ERR_SHAPE);
    nb_model names = {.net = net, .n_classes = 3, .class_names = names3}; /* 3 for 2 outputs */
    cr_expect_eq(nb_onnx_save(&names, path), NB_ERR_SHAPE);
    char bad_utf8[] = "\xff\xfe", *bad[2] = {bad_utf8, "ok"};
    nb_model not_utf8 = {.net = net, .n_classes = 2, .class_names = bad};
    cr_expect_eq(nb_onnx_save(&not_utf8, path), NB_ERR_UNSUPPORTED);
    nb_net_params(net)[3] = NAN;
    cr_expect_eq(nb_onnx_save(&m, path), NB_ERR_NONFINITE);
    cr_expect_eq(io_count_entries(dir), 0, "a failed save left a file");
    nb_net_params(net)[3] = 0.5f;
    cr_expect_eq(nb_onnx_save(&m, path), NB_OK);
    nb_model b;
    cr_expect_eq(nb_onnx_load(&b, path, NULL), NB_OK);
    nb_model_free(&b);
    nb_norm_free(norm);
    nb_net_free(net);
}

Test(onnx, available)
{
    cr_expect(nb_onnx_available());
}
