/* ONNX persistence: the model's loss and its class, feature and target names in the model's
   metadata_props (JSON arrays of strings), both ways. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "persist/onnx_tensor.h"
#include "persist/st_meta.h"

static const char *const loss_names[NB_LOSS_COUNT] = {"mse", "bce", "softmax-ce"};

static const char *const keys[3] = {"nablas.class_names", "nablas.feature_names",
                                    "nablas.target_names"};

static char *names_json(size_t n, char *const *names)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < n; k++) {
        /* a name that is not UTF-8 has no JSON string: refused, not mangled */
        json_t *s = names[k] ? json_string(names[k]) : NULL;
        if (!s || json_array_append_new(a, s) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    char *out = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return out;
}

static char *dup_str(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    return d ? strcpy(d, s) : NULL;
}

void nb__onnx_meta_free(NbOnnx__StringStringEntryProto *e, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        free(e[k].key);
        free(e[k].value);
    }
}

nb_status nb__onnx_meta_put(const nb_model *m, NbOnnx__StringStringEntryProto *e, size_t *n)
{
    size_t counts[3] = {m->n_classes, m->n_feature_names, m->n_target_names};
    char **lists[3] = {m->class_names, m->feature_names, m->target_names};
    size_t k = 0;
    nb_status st = NB_OK;
    nb_onnx__string_string_entry_proto__init(&e[k]);
    e[k].key = dup_str("nablas.loss");
    e[k].value = dup_str(loss_names[m->loss]);
    if (!e[k].key || !e[k].value)
        st = NB_ERR_NOMEM;
    k++;
    for (int l = 0; l < 3 && st == NB_OK; l++) {
        if (!counts[l] || !lists[l])
            continue;
        nb_onnx__string_string_entry_proto__init(&e[k]);
        e[k].key = dup_str(keys[l]);
        e[k].value = names_json(counts[l], lists[l]);
        k++;
        if (!e[k - 1].key)
            st = NB_ERR_NOMEM;
        else if (!e[k - 1].value)
            st = NB_ERR_UNSUPPORTED; /* not UTF-8 (or no memory) */
    }
    if (st != NB_OK) {
        nb__onnx_meta_free(e, k);
        return st;
    }
    *n = k;
    return NB_OK;
}

/* A JSON array of want (or alt) strings of 1..NB_MODEL_MAX_NAME bytes without NUL. */
static nb_status parse_names(const char *text, size_t want, size_t alt, size_t *n_out,
                             char ***out)
{
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    if (!n || (n != want && n != alt)) {
        json_decref(a);
        return NB_ERR_CORRUPT;
    }
    size_t bad;
    nb_status st = nb__meta_names_copy(a, n, out, &bad);
    json_decref(a);
    if (st == NB_OK)
        *n_out = n;
    return st;
}

bool nb__onnx_meta_softmax_ce(const NbOnnx__ModelProto *mp)
{
    for (size_t k = 0; k < mp->n_metadata_props; k++) {
        const NbOnnx__StringStringEntryProto *e = mp->metadata_props[k];
        if (e->key && e->value && strcmp(e->key, "nablas.loss") == 0)
            return strcmp(e->value, loss_names[NB_LOSS_SOFTMAX_CE]) == 0;
    }
    return false;
}

nb_status nb__onnx_meta_get(nb_model *m, const NbOnnx__ModelProto *mp, bool *loss_given)
{
    size_t in = nb_net_inputs(m->net), out = nb_net_outputs(m->net);
    *loss_given = false;
    for (size_t k = 0; k < mp->n_metadata_props; k++) {
        const NbOnnx__StringStringEntryProto *e = mp->metadata_props[k];
        if (!e->key || strncmp(e->key, "nablas.", 7) != 0)
            continue; /* another producer's: not ours to judge */
        const char *v = e->value ? e->value : "";
        if (strcmp(e->key, "nablas.loss") == 0) {
            int l = 0;
            while (l < NB_LOSS_COUNT && strcmp(v, loss_names[l]) != 0)
                l++;
            if (l == NB_LOSS_COUNT || *loss_given)
                return NB_ERR_CORRUPT;
            m->loss = (nb_loss)l;
            *loss_given = true;
        } else if (strcmp(e->key, keys[0]) == 0) {
            if (m->class_names)
                return NB_ERR_CORRUPT;
            NB_TRY(parse_names(v, out, out, &m->n_classes, &m->class_names));
        } else if (strcmp(e->key, keys[1]) == 0) {
            if (m->feature_names)
                return NB_ERR_CORRUPT;
            NB_TRY(parse_names(v, in, in, &m->n_feature_names, &m->feature_names));
        } else if (strcmp(e->key, keys[2]) == 0) {
            if (m->target_names)
                return NB_ERR_CORRUPT;
            NB_TRY(parse_names(v, out, 1, &m->n_target_names, &m->target_names));
        }
    }
    /* one target name goes only with class names (the label column) */
    if (m->n_target_names == 1 && out != 1 && !m->n_classes)
        return NB_ERR_CORRUPT;
    return NB_OK;
}
