/* ONNX export: a model as a graph of Sub/Div (input standardisation), Gemm and activation
   nodes per layer, Mul/Add (target standardisation), float32 initializers in raw_data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/file_io.h"
#include "core/le_codec.h"
#include "net/network.h"
#include "persist/model_meta.h"
#include "persist/onnx_tensor.h"

#define IR_VERSION 7 /* the IR version of opset 13 (ONNX 1.8) */
#define NAME_LEN 48

/* Everything the packed message points to, allocated up front (sizes from the layer count). */
typedef struct out_graph {
    size_t n_nodes, n_inits;
    NbOnnx__NodeProto *nodes;
    NbOnnx__NodeProto **node_ptrs;
    NbOnnx__TensorProto *inits;
    NbOnnx__TensorProto **init_ptrs;
    int64_t (*dims)[2];
    char (*names)[NAME_LEN]; /* value names: 4 per node (inputs and output) + 1 per initializer */
    size_t n_names;
    char **strs;             /* each node's input/output name arrays */
    size_t n_strs;
    NbOnnx__AttributeProto *attrs;
    NbOnnx__AttributeProto **attr_ptrs;
    size_t n_attrs;
} out_graph;

static char *name(out_graph *g, const char *fmt, size_t i)
{
    char *s = g->names[g->n_names++];
    snprintf(s, NAME_LEN, fmt, i);
    return s;
}

/* A float32 initializer of 1 or 2 dims (d1 == 0: one; d0 == 0: a scalar) from n floats. */
static nb_status add_init(out_graph *g, const char *nm, const float *v, size_t d0, size_t d1)
{
    size_t n = d0 == 0 ? 1 : d1 ? d0 * d1 : d0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return NB_ERR_NONFINITE;
    NbOnnx__TensorProto *t = &g->inits[g->n_inits];
    nb_onnx__tensor_proto__init(t);
    int64_t *dims = g->dims[g->n_inits];
    dims[0] = (int64_t)d0;
    dims[1] = (int64_t)d1;
    t->n_dims = d0 == 0 ? 0 : d1 ? 2 : 1;
    t->dims = dims;
    t->has_data_type = 1;
    t->data_type = NB__ONNX_FLOAT;
    t->name = (char *)nm;
    t->has_raw_data = 1;
    t->raw_data.len = 4 * n;
    if (!(t->raw_data.data = malloc(4 * n)))
        return NB_ERR_NOMEM;
    nb__le_put_f32s(t->raw_data.data, v, n);
    g->init_ptrs[g->n_inits++] = t;
    return NB_OK;
}

/* A node op(in0[, in1[, in2]]) -> out. */
static NbOnnx__NodeProto *add_node(out_graph *g, const char *op, const char *nm, const char *out,
                                   const char *in0, const char *in1, const char *in2)
{
    NbOnnx__NodeProto *n = &g->nodes[g->n_nodes];
    nb_onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)nm;
    n->input = &g->strs[g->n_strs];
    const char *ins[3] = {in0, in1, in2};
    for (int k = 0; k < 3 && ins[k]; k++)
        g->strs[g->n_strs + n->n_input++] = (char *)ins[k];
    g->n_strs += n->n_input;
    n->output = &g->strs[g->n_strs];
    g->strs[g->n_strs++] = (char *)out;
    n->n_output = 1;
    g->node_ptrs[g->n_nodes++] = n;
    return n;
}

static void add_attr(out_graph *g, NbOnnx__NodeProto *n, const char *nm, bool is_int, int64_t i,
                     float f)
{
    NbOnnx__AttributeProto *a = &g->attrs[g->n_attrs];
    nb_onnx__attribute_proto__init(a);
    a->name = (char *)nm;
    a->has_type = 1;
    a->type = is_int ? 2 : 1; /* AttributeProto.AttributeType INT, FLOAT */
    if (is_int) {
        a->has_i = 1;
        a->i = i;
    } else {
        a->has_f = 1;
        a->f = f;
    }
    g->attr_ptrs[g->n_attrs++] = a;
    if (!n->attribute)
        n->attribute = &g->attr_ptrs[g->n_attrs - 1];
    n->n_attribute++;
}

static const char *act_op(nb_act a)
{
    switch (a) {
    case NB_ACT_RELU:
        return "Relu";
    case NB_ACT_LEAKY_RELU:
        return "LeakyRelu";
    case NB_ACT_SIGMOID:
        return "Sigmoid";
    case NB_ACT_TANH:
        return "Tanh";
    case NB_ACT_SOFTMAX:
        return "Softmax";
    case NB_ACT_SOFTPLUS:
        return "Softplus";
    case NB_ACT_ELU:
        return "Elu";
    default:
        return NULL;
    }
}

/* The scalar constants of the GELU and SiLU patterns, written once. */
static nb_status pattern_consts(out_graph *g, const nb_net *net)
{
    bool erf = false, tanh_form = false;
    for (size_t l = 0; l < net->n_layers; l++) {
        erf = erf || net->layers[l].act == NB_ACT_GELU;
        tanh_form = tanh_form || net->layers[l].act == NB_ACT_GELU_TANH;
    }
    static const float one = 1.0f, half = 0.5f, sqrt2 = 1.41421356f, kappa = 0.044715f,
                       beta = 0.797884561f; /* sqrt(2 / pi) */
    if (erf || tanh_form) {
        NB_TRY(add_init(g, "gelu.one", &one, 0, 0));
        NB_TRY(add_init(g, "gelu.half", &half, 0, 0));
    }
    if (erf)
        NB_TRY(add_init(g, "gelu.sqrt2", &sqrt2, 0, 0));
    if (tanh_form) {
        NB_TRY(add_init(g, "gelu.kappa", &kappa, 0, 0));
        NB_TRY(add_init(g, "gelu.beta", &beta, 0, 0));
    }
    return NB_OK;
}

/* GELU, its tanh form and SiLU as torch.onnx.export writes them before opset 20 (nodes
   "act{l}.*"), from z into h. */
static void pattern_nodes(out_graph *g, nb_act act, size_t l, const char *z, const char *h)
{
    if (act == NB_ACT_SILU) {
        const char *s = name(g, "dense%zu.sigmoid", l);
        add_node(g, "Sigmoid", name(g, "act%zu.sigmoid", l), s, z, NULL, NULL);
        add_node(g, "Mul", name(g, "act%zu.mul", l), h, z, s, NULL);
        return;
    }
    if (act == NB_ACT_GELU) { /* z * (erf(z / sqrt 2) + 1) * 0.5 */
        const char *a = name(g, "dense%zu.div", l), *e = name(g, "dense%zu.erf", l),
                   *p = name(g, "dense%zu.add", l), *m = name(g, "dense%zu.mul", l);
        add_node(g, "Div", name(g, "act%zu.div", l), a, z, "gelu.sqrt2", NULL);
        add_node(g, "Erf", name(g, "act%zu.erf", l), e, a, NULL, NULL);
        add_node(g, "Add", name(g, "act%zu.add", l), p, e, "gelu.one", NULL);
        add_node(g, "Mul", name(g, "act%zu.mul", l), m, z, p, NULL);
        add_node(g, "Mul", name(g, "act%zu.half", l), h, m, "gelu.half", NULL);
        return;
    }
    /* z * (tanh(sqrt(2 / pi) (z + 0.044715 z^3)) + 1) * 0.5 */
    const char *sq = name(g, "dense%zu.sq", l), *cu = name(g, "dense%zu.cube", l),
               *kc = name(g, "dense%zu.kcube", l), *in = name(g, "dense%zu.inner", l),
               *sc = name(g, "dense%zu.scaled", l), *th = name(g, "dense%zu.tanh", l),
               *p1 = name(g, "dense%zu.add", l), *m = name(g, "dense%zu.mul", l);
    add_node(g, "Mul", name(g, "act%zu.sq", l), sq, z, z, NULL);
    add_node(g, "Mul", name(g, "act%zu.cube", l), cu, z, sq, NULL);
    add_node(g, "Mul", name(g, "act%zu.kcube", l), kc, "gelu.kappa", cu, NULL);
    add_node(g, "Add", name(g, "act%zu.inner", l), in, z, kc, NULL);
    add_node(g, "Mul", name(g, "act%zu.scaled", l), sc, "gelu.beta", in, NULL);
    add_node(g, "Tanh", name(g, "act%zu.tanh", l), th, sc, NULL, NULL);
    add_node(g, "Add", name(g, "act%zu.add", l), p1, "gelu.one", th, NULL);
    add_node(g, "Mul", name(g, "act%zu.mul", l), m, z, p1, NULL);
    add_node(g, "Mul", name(g, "act%zu.half", l), h, "gelu.half", m, NULL);
}

static bool is_pattern(nb_act a)
{
    return a == NB_ACT_GELU || a == NB_ACT_GELU_TANH || a == NB_ACT_SILU;
}

static nb_status build_graph(out_graph *g, const nb_model *m)
{
    NB_TRY(pattern_consts(g, m->net));
    const nb_net *net = m->net;
    const char *cur = "input";
    size_t in = net->inputs;
    if (m->norm) {
        NB_TRY(add_init(g, "input_mean", nb_norm_mean(m->norm), in, 0));
        NB_TRY(add_init(g, "input_std", nb_norm_std(m->norm), in, 0));
        add_node(g, "Sub", "input_sub", "input_centred", cur, "input_mean", NULL);
        add_node(g, "Div", "input_div", "input_standardised", "input_centred", "input_std", NULL);
        cur = "input_standardised";
    }
    for (size_t l = 0; l < net->n_layers; l++) {
        const nb_layer *ly = &net->layers[l];
        bool last = l + 1 == net->n_layers;
        const char *wn = name(g, "dense%zu.weight", l), *bn = name(g, "dense%zu.bias", l);
        NB_TRY(add_init(g, wn, net->params + ly->w_off, ly->in, ly->out));
        NB_TRY(add_init(g, bn, net->params + ly->b_off, ly->out, 0));
        const char *op = is_pattern(ly->act) ? "pattern" : act_op(ly->act);
        /* a softmax-ce model's network gives logits: the graph gives what nablas predict
           does, the probabilities */
        if (last && m->loss == NB_LOSS_SOFTMAX_CE && ly->act == NB_ACT_IDENTITY)
            op = act_op(NB_ACT_SOFTMAX);
        const char *z = last && !op && !m->target_norm ? "output" : name(g, "dense%zu.z", l);
        add_node(g, "Gemm", name(g, "dense%zu", l), z, cur, wn, bn);
        cur = z;
        if (op) {
            const char *h = last && !m->target_norm ? "output" : name(g, "dense%zu.act", l);
            if (is_pattern(ly->act)) {
                pattern_nodes(g, ly->act, l, cur, h);
                cur = h;
                continue;
            }
            NbOnnx__NodeProto *n = add_node(g, op, name(g, "act%zu", l), h, cur, NULL, NULL);
            if (ly->act == NB_ACT_ELU)
                add_attr(g, n, "alpha", false, 0, 1.0f);
            if (ly->act == NB_ACT_LEAKY_RELU)
                add_attr(g, n, "alpha", false, 0, 0.01f);
            if (strcmp(op, "Softmax") == 0)
                add_attr(g, n, "axis", true, 1, 0.0f);
            cur = h;
        }
    }
    if (m->target_norm) {
        size_t out = nb_net_outputs(net);
        NB_TRY(add_init(g, "target_std", nb_norm_std(m->target_norm), out, 0));
        NB_TRY(add_init(g, "target_mean", nb_norm_mean(m->target_norm), out, 0));
        add_node(g, "Mul", "target_mul", "target_scaled", cur, "target_std", NULL);
        add_node(g, "Add", "target_add", "output", "target_scaled", "target_mean", NULL);
    }
    return NB_OK;
}

static void free_graph(out_graph *g)
{
    for (size_t k = 0; g->inits && k < g->n_inits; k++)
        free(g->inits[k].raw_data.data);
    free(g->nodes);
    free(g->node_ptrs);
    free(g->inits);
    free(g->init_ptrs);
    free(g->dims);
    free(g->names);
    free(g->strs);
    free(g->attrs);
    free(g->attr_ptrs);
}

static nb_status check_model(const nb_model *m)
{
    if (!m->net)
        return NB_ERR_NULL;
    if ((unsigned)m->loss >= NB_LOSS_COUNT)
        return NB_ERR_ARG;
    size_t in = nb_net_inputs(m->net), out = nb_net_outputs(m->net);
    if (m->norm && nb_norm_features(m->norm) != in)
        return NB_ERR_SHAPE;
    if (m->n_classes) {
        if (!m->class_names)
            return NB_ERR_NULL;
        if (m->n_classes != out)
            return NB_ERR_SHAPE;
        NB_TRY(nb__names_check((const char *const *)m->class_names, m->n_classes, NULL));
    }
    return nb__meta_check(m);
}

/* One value's type: float32 [batch, width], batch symbolic. */
static void tensor_type(NbOnnx__ValueInfoProto *v, NbOnnx__TypeProto *t,
                        NbOnnx__TypeProto__Tensor *tt, NbOnnx__TensorShapeProto *sh,
                        NbOnnx__TensorShapeProto__Dimension *d, NbOnnx__TensorShapeProto__Dimension **dp,
                        const char *nm, size_t width)
{
    nb_onnx__value_info_proto__init(v);
    nb_onnx__type_proto__init(t);
    nb_onnx__type_proto__tensor__init(tt);
    nb_onnx__tensor_shape_proto__init(sh);
    nb_onnx__tensor_shape_proto__dimension__init(&d[0]);
    nb_onnx__tensor_shape_proto__dimension__init(&d[1]);
    d[0].value_case = NB_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d[0].dim_param = "batch";
    d[1].value_case = NB_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d[1].dim_value = (int64_t)width;
    dp[0] = &d[0];
    dp[1] = &d[1];
    sh->n_dim = 2;
    sh->dim = dp;
    tt->has_elem_type = 1;
    tt->elem_type = NB__ONNX_FLOAT;
    tt->shape = sh;
    t->value_case = NB_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->name = (char *)nm;
    v->type = t;
}

/* The graph's arrays for a network of L layers: per layer a Gemm and up to 9 activation nodes
   (GELU's tanh form), 2 initializers, 32 names; 4 nodes and 4 initializers of the
   standardisations, 5 pattern constants.  NB_ERR_NOMEM (free_graph frees what was made). */
static nb_status alloc_graph(out_graph *g, size_t L)
{
    size_t nodes = 10 * L + 4, inits = 2 * L + 9;
    g->nodes = calloc(nodes, sizeof *g->nodes);
    g->node_ptrs = calloc(nodes, sizeof *g->node_ptrs);
    g->inits = calloc(inits, sizeof *g->inits);
    g->init_ptrs = calloc(inits, sizeof *g->init_ptrs);
    g->dims = calloc(inits, sizeof *g->dims);
    g->names = calloc(32 * L + 4, sizeof *g->names);
    g->strs = calloc(4 * nodes, sizeof *g->strs);
    g->attrs = calloc(L + 1, sizeof *g->attrs);
    g->attr_ptrs = calloc(L + 1, sizeof *g->attr_ptrs);
    return g->nodes && g->node_ptrs && g->inits && g->init_ptrs && g->dims && g->names && g->strs
                   && g->attrs && g->attr_ptrs
               ? NB_OK
               : NB_ERR_NOMEM;
}

/* The ModelProto around graph g (input and output float32 [batch, width], opset, metadata),
   packed into a malloc'd *buf of *len bytes. */
static nb_status pack_model(const out_graph *g, const nb_model *m,
                            NbOnnx__StringStringEntryProto **meta_ptrs, size_t n_meta,
                            uint8_t **buf, size_t *len)
{
    NbOnnx__ValueInfoProto vin, vout, *vin_p = &vin, *vout_p = &vout;
    NbOnnx__TypeProto tin, tout;
    NbOnnx__TypeProto__Tensor ttin, ttout;
    NbOnnx__TensorShapeProto shin, shout;
    NbOnnx__TensorShapeProto__Dimension din[2], dout[2], *dinp[2], *doutp[2];
    tensor_type(&vin, &tin, &ttin, &shin, din, dinp, "input", m->net->inputs);
    tensor_type(&vout, &tout, &ttout, &shout, dout, doutp, "output", nb_net_outputs(m->net));

    NbOnnx__GraphProto graph;
    nb_onnx__graph_proto__init(&graph);
    graph.name = "nablas";
    graph.n_node = g->n_nodes;
    graph.node = g->node_ptrs;
    graph.n_initializer = g->n_inits;
    graph.initializer = g->init_ptrs;
    graph.n_input = 1;
    graph.input = &vin_p;
    graph.n_output = 1;
    graph.output = &vout_p;

    NbOnnx__OperatorSetIdProto opset, *opset_p = &opset;
    nb_onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1;
    opset.version = NB_ONNX_OPSET;

    NbOnnx__ModelProto model;
    nb_onnx__model_proto__init(&model);
    model.has_ir_version = 1;
    model.ir_version = IR_VERSION;
    model.producer_name = "nablas";
    model.graph = &graph;
    model.n_opset_import = 1;
    model.opset_import = &opset_p;
    model.n_metadata_props = n_meta;
    model.metadata_props = meta_ptrs;

    *len = nb_onnx__model_proto__get_packed_size(&model);
    *buf = *len <= NB_ONNX_MAX_FILE ? malloc(*len ? *len : 1) : NULL;
    if (!*buf)
        return *len > NB_ONNX_MAX_FILE ? NB_ERR_LIMIT : NB_ERR_NOMEM;
    nb_onnx__model_proto__pack(&model, *buf);
    return NB_OK;
}

nb_status nb_onnx_save_mem(void **data, size_t *size, const nb_model *m)
{
    if (!data || !size || !m)
        return NB_ERR_NULL;
    NB_TRY(check_model(m));
    out_graph g = {0};
    nb_status st = alloc_graph(&g, m->net->n_layers);
    if (st == NB_OK)
        st = build_graph(&g, m);
    NbOnnx__StringStringEntryProto meta[4], *meta_ptrs[4];
    size_t n_meta = 0;
    if (st == NB_OK)
        st = nb__onnx_meta_put(m, meta, &n_meta);
    if (st != NB_OK) {
        free_graph(&g);
        return st;
    }
    for (size_t k = 0; k < n_meta; k++)
        meta_ptrs[k] = &meta[k];
    uint8_t *buf = NULL;
    size_t len = 0;
    st = pack_model(&g, m, meta_ptrs, n_meta, &buf, &len);
    nb__onnx_meta_free(meta, n_meta);
    free_graph(&g);
    if (st != NB_OK)
        return st;
    *data = buf;
    *size = len;
    return NB_OK;
}

static nb_status encode(const void *obj, void **data, size_t *size)
{
    return nb_onnx_save_mem(data, size, obj);
}

nb_status nb_onnx_save(const nb_model *m, const char *path)
{
    if (!m || !path)
        return NB_ERR_NULL;
    return nb__save_encoded(path, encode, m);
}
