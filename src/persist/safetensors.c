/* Networks and models to and from safetensors files holding a PyTorch state_dict of nn.Linear
   (conventions in include/nablas/safetensors.h; the container itself in st_format.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "net/network.h"
#include "core/file_io.h"
#include "core/le_codec.h"
#include "persist/st_meta.h"

#define MAX_FILE (SIZE_MAX / 2)

/* ---- import --------------------------------------------------------------------------------- */

/* The refusal of tensor t's values (nb__st_to_f32's status st). */
static nb_status value_error(nb_st_error *err, nb_status st, const nb__st_tensor *t)
{
    if (st == NB_ERR_NONFINITE)
        return nb__st_fail(err, st, t->name, "key '%s' holds a NaN, an infinity or a value "
                           "outside float's range", t->name);
    if (st == NB_ERR_UNSUPPORTED)
        return nb__st_fail(err, st, t->name, "key '%s' has a dtype nablas does not convert "
                           "(F32, F16, BF16 and F64 are read)", t->name);
    return st;
}

/* Converts every layer into a new parameter buffer of net's layout, then replaces net's. */
static nb_status assign(nb_net *net, const nb__st_file *f, const nb__st_layer *L, nb_st_error *err)
{
    size_t max_w = 0;
    for (size_t l = 0; l < net->n_layers; l++)
        max_w = L[l].in * L[l].out > max_w ? L[l].in * L[l].out : max_w;
    float *p = malloc(net->n_params * sizeof *p), *tmp = malloc(max_w * sizeof *tmp);
    nb_status st = p && tmp ? NB_OK : NB_ERR_NOMEM;
    for (size_t l = 0; l < net->n_layers && st == NB_OK; l++) {
        const nb_layer *ly = &net->layers[l];
        if ((st = nb__st_to_f32(f, L[l].w, tmp)) != NB_OK) {
            st = value_error(err, st, L[l].w);
            break;
        }
        for (size_t o = 0; o < ly->out; o++) /* out x in (PyTorch) -> in x out */
            for (size_t i = 0; i < ly->in; i++)
                p[ly->w_off + i * ly->out + o] = tmp[o * ly->in + i];
        if (L[l].b && (st = nb__st_to_f32(f, L[l].b, p + ly->b_off)) != NB_OK)
            st = value_error(err, st, L[l].b);
        else if (!L[l].b)
            memset(p + ly->b_off, 0, ly->out * sizeof *p);
    }
    if (st == NB_OK) {
        memcpy(net->params, p, net->n_params * sizeof *p);
        net->ready = false; /* new parameters: a backward needs a new forward */
    }
    free(p);
    free(tmp);
    return st;
}

/* The layers nablas' exporter described in the metadata ("relu,relu,identity"): units 0 (the
   file's), no dropout.  NB_ERR_ARG when the file does not say (a file from elsewhere: the
   caller must give the layers), NB_ERR_CORRUPT for a name nablas does not know. */
static nb_status layers_from_file(const nb__st_file *f, nb_layer_spec **out, size_t *n_out)
{
    const char *s = nb__st_meta(f, "nablas.activations");
    if (!s || !*s)
        return NB_ERR_ARG;
    size_t n = 1;
    for (const char *c = s; *c; c++)
        n += *c == ',';
    if (n > NB_MODEL_MAX_LAYERS)
        return NB_ERR_CORRUPT;
    nb_layer_spec *spec = calloc(n, sizeof *spec);
    if (!spec)
        return NB_ERR_NOMEM;
    for (size_t l = 0; l < n; l++) {
        size_t len = strcspn(s, ",");
        int a = 0;
        while (a < NB_ACT_COUNT && (strlen(nb_act_name((nb_act)a)) != len
                                    || strncmp(s, nb_act_name((nb_act)a), len) != 0))
            a++;
        if (a == NB_ACT_COUNT) {
            free(spec);
            return NB_ERR_CORRUPT;
        }
        spec[l].act = (nb_act)a;
        s += len + (s[len] == ',');
    }
    *out = spec;
    *n_out = n;
    return NB_OK;
}

/* The network of f: layers (NULL: the activations in f's metadata) found as names says. */
static nb_status build_net(nb_net **net, const nb__st_file *f, const nb_layer_spec *layers,
                           size_t n_layers, const nb_st_names *names, nb_st_error *err)
{
    nb__st_layer *L = NULL;
    size_t n = 0;
    nb_layer_spec *spec = NULL, *described = NULL;
    nb_net *made = NULL;
    nb_status st = NB_OK;
    if (!layers && (st = layers_from_file(f, &described, &n_layers)) == NB_OK)
        layers = described;
    if (st == NB_ERR_ARG)
        nb__st_fail(err, st, "nablas.activations", "the file does not name its activations "
                    "(metadata 'nablas.activations', written by nablas): give the layers");
    else if (st == NB_ERR_CORRUPT)
        nb__st_fail(err, st, "nablas.activations", "metadata 'nablas.activations' names an "
                    "activation nablas does not know");
    if (st == NB_OK)
        st = nb__st_layers(f, names, n_layers, &L, &n, err);
    if (st == NB_OK && !(spec = malloc(n_layers * sizeof *spec)))
        st = NB_ERR_NOMEM;
    for (size_t l = 0; l < n_layers && st == NB_OK; l++) {
        if (layers[l].units != 0 && layers[l].units != L[l].out)
            st = nb__st_fail(err, NB_ERR_SHAPE, L[l].w->name, "key '%s' has %zu outputs, the "
                             "layers given say %zu units for layer %zu", L[l].w->name, L[l].out,
                             layers[l].units, l + 1);
        spec[l].units = L[l].out;
        spec[l].act = layers[l].act;
        spec[l].dropout = layers[l].dropout;
    }
    if (st == NB_OK)
        st = nb_net_create(&made, L[0].in, spec, n_layers, 0);
    if (st == NB_OK)
        st = assign(made, f, L, err);
    if (st == NB_OK)
        *net = made;
    else
        nb_net_free(made);
    free(spec);
    free(described);
    free(L);
    return st;
}

static nb_status check_specs(const nb_layer_spec *layers, size_t n_layers)
{
    if (n_layers > NB_MODEL_MAX_LAYERS || (layers && n_layers == 0))
        return NB_ERR_ARG;
    for (size_t l = 0; l < n_layers; l++)
        if ((unsigned)layers[l].act >= NB_ACT_COUNT)
            return NB_ERR_ARG;
    return NB_OK;
}

nb_status nb_safetensors_load_mem(nb_net **net, const void *data, size_t size,
                                  const nb_layer_spec *layers, size_t n_layers)
{
    if (!net || !data || (!layers && n_layers))
        return NB_ERR_NULL;
    NB_TRY(check_specs(layers, n_layers));
    nb__st_file f;
    NB_TRY(nb__st_parse(&f, data, size));
    nb_status st = nb__st_meta_has_norm(&f) ? NB_ERR_UNSUPPORTED
                                            : build_net(net, &f, layers, n_layers, NULL, NULL);
    nb__st_free(&f);
    return st;
}

nb_status nb_safetensors_load_model_mem(nb_model *m, const void *data, size_t size,
                                        const nb_layer_spec *layers, size_t n_layers,
                                        const nb_st_names *names, nb_st_error *err)
{
    if (err)
        err->key[0] = err->reason[0] = '\0';
    if (!m || !data || (!layers && n_layers))
        return NB_ERR_NULL;
    NB_TRY(check_specs(layers, n_layers));
    nb__st_file f;
    nb_status st = nb__st_parse(&f, data, size);
    if (st != NB_OK)
        return nb__st_fail(err, st, "", "%s", nb_status_str(st));
    nb_model made = {0};
    st = build_net(&made.net, &f, layers, n_layers, names, err);
    if (st == NB_OK && (st = nb__st_meta_get(&made, &f, err)) != NB_OK)
        nb_net_free(made.net);
    nb__st_free(&f);
    if (st == NB_OK)
        *m = made;
    return st;
}

nb_status nb_safetensors_fill_mem(nb_net *net, const void *data, size_t size)
{
    if (!net || !data)
        return NB_ERR_NULL;
    nb__st_file f;
    NB_TRY(nb__st_parse(&f, data, size));
    nb__st_layer *L = NULL;
    size_t n = 0;
    nb_status st = nb__st_meta_has_norm(&f) ? NB_ERR_UNSUPPORTED
                                            : nb__st_layers(&f, NULL, net->n_layers, &L, &n, NULL);
    if (st == NB_OK && L[0].in != net->inputs)
        st = NB_ERR_SHAPE;
    for (size_t l = 0; l < net->n_layers && st == NB_OK; l++)
        if (L[l].out != net->layers[l].out)
            st = NB_ERR_SHAPE;
    if (st == NB_OK)
        st = assign(net, &f, L, NULL);
    free(L);
    nb__st_free(&f);
    return st;
}

/* The bounded reader's check (file_io.h): the 8-byte header length and the header's first
   byte are judged as soon as they arrive (so /dev/zero fails at once); once the header is
   complete, the size it declares bounds the read: a byte past it is refused at once (a pipe
   of zeros after a valid header, a sparse file larger than its header says), so that no more
   is read than the header declares and a chunk. */
typedef struct st_read {
    bool known;
    uint64_t total; /* the declared size, once known */
} st_read;

static nb_status st_prefix(const unsigned char *b, size_t n, bool eof, void *ctx)
{
    st_read *r = ctx;
    if (n >= 8) {
        uint64_t hlen = nb__le_get_u64(b); /* in nb__st_parse's order */
        if (hlen > NB__ST_MAX_HEADER)
            return NB_ERR_LIMIT;
        if (hlen == 0 || (n > 8 && b[8] != '{'))
            return NB_ERR_CORRUPT;
    }
    if (!r->known) {
        nb_status st = nb__st_declared_size(b, n, &r->total);
        if (st != NB_OK && st != NB_ERR_TRUNCATED)
            return st;
        r->known = st == NB_OK;
    }
    if (r->known && r->total > MAX_FILE)
        return NB_ERR_LIMIT;
    if (r->known && n > r->total)
        return NB_ERR_CORRUPT; /* trailing bytes: the ranges must tile the rest exactly */
    return eof ? NB_OK : NB_ERR_TRUNCATED; /* nb__st_parse judges the whole file */
}

typedef struct load_args {
    nb_net **net;
    const nb_layer_spec *layers;
    size_t n_layers;
} load_args;

static nb_status decode_load(void *obj, const unsigned char *data, size_t size)
{
    const load_args *a = obj;
    return nb_safetensors_load_mem(a->net, data, size, a->layers, a->n_layers);
}

nb_status nb_safetensors_load(nb_net **net, const char *path, const nb_layer_spec *layers,
                              size_t n_layers)
{
    if (!net || !path || (!layers && n_layers))
        return NB_ERR_NULL;
    load_args a = {net, layers, n_layers};
    st_read r = {false, 0};
    return nb__load_decoded(path, MAX_FILE, st_prefix, &r, decode_load, &a);
}

typedef struct model_args {
    nb_model *m;
    const nb_layer_spec *layers;
    size_t n_layers;
    const nb_st_names *names;
    nb_st_error *err;
} model_args;

static nb_status decode_model(void *obj, const unsigned char *data, size_t size)
{
    const model_args *a = obj;
    return nb_safetensors_load_model_mem(a->m, data, size, a->layers, a->n_layers, a->names,
                                         a->err);
}

nb_status nb_safetensors_load_model(nb_model *m, const char *path, const nb_layer_spec *layers,
                                    size_t n_layers, const nb_st_names *names, nb_st_error *err)
{
    if (err)
        err->key[0] = err->reason[0] = '\0';
    if (!m || !path || (!layers && n_layers))
        return NB_ERR_NULL;
    model_args a = {m, layers, n_layers, names, err};
    st_read r = {false, 0};
    nb_status st = nb__load_decoded(path, MAX_FILE, st_prefix, &r, decode_model, &a);
    if (st != NB_OK && err && !err->reason[0]) /* refused before the decoder ran */
        nb__st_fail(err, st, "", "%s", nb_status_str(st));
    return st;
}

static nb_status decode_fill(void *net, const unsigned char *data, size_t size)
{
    return nb_safetensors_fill_mem(net, data, size);
}

nb_status nb_safetensors_fill(nb_net *net, const char *path)
{
    st_read r = {false, 0};
    return nb__load_decoded(path, MAX_FILE, st_prefix, &r, decode_fill, net);
}

/* ---- export --------------------------------------------------------------------------------- */

/* Layer l's weight out x in (PyTorch's layout) and bias, with the input standardisation folded
   into the first layer, W'[o][i] = W[i][o] / sd[i], b'[o] = b[o] - sum_i mean[i] / sd[i] W[i][o],
   and the target standardisation into the last, W'' = W' tsd[o], b'' = b' tsd[o] + tmean[o]
   (all in double, rounded once). */
static nb_status export_layer(const nb_net *net, const nb_norm *norm, const nb_norm *tnorm,
                              size_t l, float *w, float *b)
{
    const nb_layer *ly = &net->layers[l];
    const float *W = net->params + ly->w_off, *B = net->params + ly->b_off;
    bool fold_in = norm && l == 0, fold_out = tnorm && l + 1 == net->n_layers;
    const float *mean = fold_in ? nb_norm_mean(norm) : NULL, *sd = fold_in ? nb_norm_std(norm) : NULL;
    bool finite = true;
    for (size_t o = 0; o < ly->out; o++) {
        double scale = fold_out ? nb_norm_std(tnorm)[o] : 1.0;
        double acc = B[o];
        for (size_t i = 0; i < ly->in; i++) {
            double x = W[i * ly->out + o];
            if (fold_in) {
                x /= sd[i];
                acc -= (double)mean[i] * x;
            }
            w[o * ly->in + i] = (float)(x * scale);
            finite = finite && isfinite(w[o * ly->in + i]);
        }
        b[o] = (float)(fold_out ? acc * scale + nb_norm_mean(tnorm)[o] : acc);
        finite = finite && isfinite(b[o]);
    }
    return finite ? NB_OK : NB_ERR_NONFINITE;
}

static const char *act_list(const nb_net *net, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t l = 0; l < net->n_layers && at < cap; l++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%s", l ? "," : "", nb_act_name(net->layers[l].act));
    return at < cap ? buf : "";
}

/* Header: {"__metadata__": {...}, "0.weight": {...}, "0.bias": {...}, ...}. */
static json_t *make_header(const nb_net *net, const nb_model *m, bool with_norms, nb_status *why)
{
    json_t *root = json_object(), *meta = json_object();
    if (!root || !meta || json_object_set_new(root, "__metadata__", meta) != 0) {
        json_decref(root);
        return NULL;
    }
    char acts[64 * 16];
    int bad = json_object_set_new(meta, "format", json_string("pt"));
    if (m && !bad && (*why = nb__st_meta_put(meta, m, with_norms)) != NB_OK) {
        json_decref(root);
        return NULL;
    }
    if (net->n_layers <= 64)
        bad |= json_object_set_new(meta, "nablas.activations",
                                   json_string(act_list(net, acts, sizeof acts)));
    uint64_t off = 0, index = 0;
    for (size_t l = 0; l < net->n_layers && !bad; l++) {
        const nb_layer *ly = &net->layers[l];
        for (int part = 0; part < 2 && !bad; part++) {
            char name[32];
            snprintf(name, sizeof name, "%llu.%s", (unsigned long long)index, part ? "bias" : "weight");
            uint64_t bytes = 4 * (uint64_t)(part ? ly->out : ly->in * ly->out);
            json_t *shape = part ? json_pack("[I]", (json_int_t)ly->out)
                                 : json_pack("[II]", (json_int_t)ly->out, (json_int_t)ly->in);
            json_t *t = json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", shape,
                                  "data_offsets", (json_int_t)off, (json_int_t)(off + bytes));
            bad |= !t || json_object_set_new(root, name, t) != 0;
            off += bytes;
        }
        index += 1 + (ly->act != NB_ACT_IDENTITY); /* the activation module takes an index */
    }
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* The file of net with norm and target_norm folded in and m's metadata (m may be NULL). */
static nb_status save_mem(void **data, size_t *size, const nb_net *net, const nb_norm *norm,
                          const nb_norm *target_norm, const nb_model *m, bool with_norms)
{
    if ((norm && nb_norm_features(norm) != net->inputs)
        || (target_norm && nb_norm_features(target_norm) != nb_net_outputs(net)))
        return NB_ERR_SHAPE;
    if (target_norm && net->layers[net->n_layers - 1].act != NB_ACT_IDENTITY)
        return NB_ERR_UNSUPPORTED; /* y * std + mean does not pass through the activation */
    if (net->n_params > (SIZE_MAX - 4096) / 8)
        return NB_ERR_OVERFLOW;
    nb_status why = NB_ERR_NOMEM;
    json_t *root = make_header(net, m, with_norms, &why);
    char *json = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!json)
        return why;
    size_t jlen = strlen(json), hlen = (jlen + 7) / 8 * 8; /* padded with spaces, as the
                                                              reference writer aligns data */
    size_t total = 8 + hlen + 4 * net->n_params;
    size_t max_w = 0, max_b = 0; /* each <= n_params */
    for (size_t l = 0; l < net->n_layers; l++) {
        const nb_layer *ly = &net->layers[l];
        max_w = ly->in * ly->out > max_w ? ly->in * ly->out : max_w;
        max_b = ly->out > max_b ? ly->out : max_b;
    }
    uint8_t *out = malloc(total);
    float *w = malloc(max_w * sizeof *w), *b = malloc(max_b * sizeof *b);
    nb_status st = out && w && b ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK) {
        nb__le_put_u64(out, hlen);
        memcpy(out + 8, json, jlen);
        memset(out + 8 + jlen, ' ', hlen - jlen);
    }
    uint8_t *p = out + 8 + hlen;
    for (size_t l = 0; l < net->n_layers && st == NB_OK; l++) {
        const nb_layer *ly = &net->layers[l];
        if ((st = export_layer(net, norm, target_norm, l, w, b)) != NB_OK)
            break;
        nb__le_put_f32s(p, w, ly->in * ly->out);
        p += 4 * ly->in * ly->out;
        nb__le_put_f32s(p, b, ly->out);
        p += 4 * ly->out;
    }
    free(json);
    free(w);
    free(b);
    if (st != NB_OK) {
        free(out);
        return st;
    }
    *data = out;
    *size = total;
    return NB_OK;
}

nb_status nb_safetensors_save_mem(void **data, size_t *size, const nb_net *net, const nb_norm *norm,
                                  const nb_norm *target_norm)
{
    if (!data || !size || !net)
        return NB_ERR_NULL;
    return save_mem(data, size, net, norm, target_norm, NULL, false);
}

nb_status nb_safetensors_save_model_mem(void **data, size_t *size, const nb_model *m, bool fold)
{
    if (!data || !size || !m || !m->net)
        return NB_ERR_NULL;
    return save_mem(data, size, m->net, fold ? m->norm : NULL, fold ? m->target_norm : NULL, m,
                    !fold);
}

nb_status nb_safetensors_save_model(const nb_model *m, bool fold, const char *path)
{
    if (!m || !path)
        return NB_ERR_NULL;
    void *data;
    size_t size;
    NB_TRY(nb_safetensors_save_model_mem(&data, &size, m, fold));
    nb_status st = nb_write_file_atomic(path, data, size);
    free(data);
    return st;
}

nb_status nb_safetensors_save(const nb_net *net, const nb_norm *norm, const nb_norm *target_norm,
                              const char *path)
{
    if (!net || !path)
        return NB_ERR_NULL;
    void *data;
    size_t size;
    NB_TRY(nb_safetensors_save_mem(&data, &size, net, norm, target_norm));
    nb_status st = nb_write_file_atomic(path, data, size);
    free(data);
    return st;
}
