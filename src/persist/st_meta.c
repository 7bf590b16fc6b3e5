/* safetensors metadata of a model, both ways: the loss, the input and target standardisations
   (JSON arrays of numbers, 17 significant digits: a float reads back bit for bit) and the
   class, feature and target names (JSON arrays of strings), each a nablas.* entry, since the
   format's metadata maps strings to strings. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "persist/st_meta.h"

static const char *const loss_names[NB_LOSS_COUNT] = {"mse", "bce", "softmax-ce"};
static const char *const norm_keys[4] = {"nablas.feature_mean", "nablas.feature_std",
                                         "nablas.target_mean", "nablas.target_std"};
static const char *const name_keys[3] = {"nablas.class_names", "nablas.feature_names",
                                         "nablas.target_names"};

/* Sets meta[key] to the compact JSON text of a (stolen); false without memory. */
static bool put_json(json_t *meta, const char *key, json_t *a)
{
    char *text = a ? json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(a);
    bool ok = text && json_object_set_new(meta, key, json_string(text)) == 0;
    free(text);
    return ok;
}

static nb_status put_floats(json_t *meta, const char *key, const float *v, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < n; k++)
        if (json_array_append_new(a, json_real(v[k])) != 0) {
            json_decref(a);
            a = NULL;
        }
    return put_json(meta, key, a) ? NB_OK : NB_ERR_NOMEM;
}

static nb_status put_names(json_t *meta, const char *key, char *const *names, size_t n)
{
    json_t *a = json_array();
    if (!a)
        return NB_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        json_t *s = names[k] ? json_string(names[k]) : NULL; /* NULL: not UTF-8 */
        if (!s || json_array_append_new(a, s) != 0) {
            json_decref(a);
            return NB_ERR_UNSUPPORTED;
        }
    }
    return put_json(meta, key, a) ? NB_OK : NB_ERR_NOMEM;
}

nb_status nb__st_meta_put(json_t *meta, const nb_model *m, bool with_norms)
{
    size_t in = nb_net_inputs(m->net), out = nb_net_outputs(m->net);
    if ((unsigned)m->loss >= NB_LOSS_COUNT)
        return NB_ERR_ARG;
    if ((m->norm && nb_norm_features(m->norm) != in)
        || (m->target_norm && nb_norm_features(m->target_norm) != out)
        || (m->n_classes && (m->n_classes != out || !m->class_names))
        || (m->n_feature_names && (m->n_feature_names != in || !m->feature_names))
        || (m->n_target_names && !m->target_names)
        || (m->n_target_names && m->n_target_names != out && m->n_target_names != 1))
        return NB_ERR_SHAPE;
    if (json_object_set_new(meta, "nablas.loss", json_string(loss_names[m->loss])) != 0)
        return NB_ERR_NOMEM;
    const nb_norm *norms[2] = {m->norm, m->target_norm};
    for (int k = 0; k < 2 && with_norms; k++)
        if (norms[k]) {
            size_t n = nb_norm_features(norms[k]);
            NB_TRY(put_floats(meta, norm_keys[2 * k], nb_norm_mean(norms[k]), n));
            NB_TRY(put_floats(meta, norm_keys[2 * k + 1], nb_norm_std(norms[k]), n));
        }
    size_t counts[3] = {m->n_classes, m->n_feature_names, m->n_target_names};
    char **lists[3] = {m->class_names, m->feature_names, m->target_names};
    for (int k = 0; k < 3; k++)
        if (counts[k])
            NB_TRY(put_names(meta, name_keys[k], lists[k], counts[k]));
    return NB_OK;
}

bool nb__st_meta_has_norm(const nb__st_file *f)
{
    for (int k = 0; k < 4; k++)
        if (nb__st_meta(f, norm_keys[k]))
            return true;
    return false;
}

/* A JSON array of n finite numbers within float's range (std: each > 0) into v. */
static nb_status get_floats(const char *key, const char *text, size_t n, bool positive,
                            float *v, nb_st_error *err)
{
    json_t *a = json_loads(text, 0, NULL);
    nb_status st = NB_OK;
    if (!json_is_array(a) || json_array_size(a) != n)
        st = nb__st_fail(err, NB_ERR_CORRUPT, key, "metadata '%s' is not a JSON array of %zu "
                         "numbers (the network's width)", key, n);
    for (size_t k = 0; k < n && st == NB_OK; k++) {
        json_t *x = json_array_get(a, k);
        double d = json_is_number(x) ? json_number_value(x) : NAN;
        if (!(fabs(d) <= FLT_MAX) || (positive && !((float)d > 0.0f)))
            st = nb__st_fail(err, NB_ERR_CORRUPT, key, "metadata '%s': value %zu is not a "
                             "finite number%s", key, k + 1, positive ? " > 0" : "");
        else
            v[k] = (float)d;
    }
    json_decref(a);
    return st;
}

/* The standardisation k (0 inputs, 1 targets) of width n, or none when neither entry is there. */
static nb_status get_norm(const nb__st_file *f, int k, size_t n, nb_norm **out, nb_st_error *err)
{
    const char *mean = nb__st_meta(f, norm_keys[2 * k]), *sd = nb__st_meta(f, norm_keys[2 * k + 1]);
    if (!mean && !sd)
        return NB_OK;
    if (!mean || !sd)
        return nb__st_fail(err, NB_ERR_CORRUPT, mean ? norm_keys[2 * k + 1] : norm_keys[2 * k],
                           "metadata '%s' is missing (it goes with '%s')",
                           mean ? norm_keys[2 * k + 1] : norm_keys[2 * k],
                           mean ? norm_keys[2 * k] : norm_keys[2 * k + 1]);
    float *v = malloc(2 * n * sizeof *v);
    if (!v)
        return NB_ERR_NOMEM;
    nb_status st = get_floats(norm_keys[2 * k], mean, n, false, v, err);
    if (st == NB_OK)
        st = get_floats(norm_keys[2 * k + 1], sd, n, true, v + n, err);
    if (st == NB_OK)
        st = nb_norm_create(out, n, v, v + n);
    free(v);
    return st;
}

void nb__meta_names_free(char **names, size_t n)
{
    for (size_t k = 0; names && k < n; k++)
        free(names[k]);
    free(names);
}

nb_status nb__meta_names_copy(const json_t *a, size_t n, char ***out, size_t *bad)
{
    char **names = calloc(n, sizeof *names);
    nb_status st = names ? NB_OK : NB_ERR_NOMEM;
    for (size_t k = 0; k < n && st == NB_OK; k++) {
        const json_t *s = json_array_get(a, k);
        size_t len = json_is_string(s) ? json_string_length(s) : 0;
        if (!len || len > NB_MODEL_MAX_NAME || strlen(json_string_value(s)) != len) {
            *bad = k;
            st = NB_ERR_CORRUPT;
        } else if ((names[k] = malloc(len + 1))) {
            memcpy(names[k], json_string_value(s), len + 1);
        } else {
            st = NB_ERR_NOMEM;
        }
    }
    if (st != NB_OK) {
        nb__meta_names_free(names, n);
        return st;
    }
    *out = names;
    return NB_OK;
}

/* A JSON array of want (or alt) strings of 1..NB_MODEL_MAX_NAME bytes without NUL. */
static nb_status get_names(const char *key, const char *text, size_t want, size_t alt,
                           size_t *n_out, char ***out, nb_st_error *err)
{
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    if (!n || (n != want && n != alt)) {
        json_decref(a);
        return nb__st_fail(err, NB_ERR_CORRUPT, key, "metadata '%s' is not a JSON array of %zu "
                           "names (the network's width)", key, want);
    }
    size_t bad = 0;
    nb_status st = nb__meta_names_copy(a, n, out, &bad);
    json_decref(a);
    if (st == NB_ERR_CORRUPT)
        return nb__st_fail(err, NB_ERR_CORRUPT, key, "metadata '%s': name %zu is not a "
                           "string of 1 to %u bytes without NUL", key, bad + 1, NB_MODEL_MAX_NAME);
    if (st == NB_OK)
        *n_out = n;
    return st;
}

static nb_status get_all(nb_model *m, const nb__st_file *f, nb_st_error *err)
{
    size_t in = nb_net_inputs(m->net), out = nb_net_outputs(m->net);
    const char *loss = nb__st_meta(f, "nablas.loss");
    m->loss = NB_LOSS_MSE;
    if (loss) {
        int l = 0;
        while (l < NB_LOSS_COUNT && strcmp(loss, loss_names[l]) != 0)
            l++;
        if (l == NB_LOSS_COUNT)
            return nb__st_fail(err, NB_ERR_CORRUPT, "nablas.loss", "metadata 'nablas.loss' is "
                               "'%s', not mse, bce or softmax-ce", loss);
        m->loss = (nb_loss)l;
    }
    NB_TRY(get_norm(f, 0, in, &m->norm, err));
    NB_TRY(get_norm(f, 1, out, &m->target_norm, err));
    if (m->target_norm && m->loss != NB_LOSS_MSE)
        return nb__st_fail(err, NB_ERR_CORRUPT, "nablas.target_mean", "metadata "
                           "'nablas.target_mean': a target standardisation goes only with the "
                           "mse loss, and 'nablas.loss' is %s", loss_names[m->loss]);
    const char *text;
    if ((text = nb__st_meta(f, name_keys[0])))
        NB_TRY(get_names(name_keys[0], text, out, out, &m->n_classes, &m->class_names, err));
    if ((text = nb__st_meta(f, name_keys[1])))
        NB_TRY(get_names(name_keys[1], text, in, in, &m->n_feature_names, &m->feature_names, err));
    if ((text = nb__st_meta(f, name_keys[2])))
        NB_TRY(get_names(name_keys[2], text, out, m->n_classes ? 1 : out, &m->n_target_names,
                         &m->target_names, err));
    return NB_OK;
}

nb_status nb__st_meta_get(nb_model *m, const nb__st_file *f, nb_st_error *err)
{
    nb_status st = get_all(m, f, err);
    if (st != NB_OK) {
        nb_norm_free(m->norm);
        nb_norm_free(m->target_norm);
        nb__meta_names_free(m->class_names, m->n_classes);
        nb__meta_names_free(m->feature_names, m->n_feature_names);
        nb__meta_names_free(m->target_names, m->n_target_names);
        nb_net *net = m->net;
        memset(m, 0, sizeof *m);
        m->net = net;
    }
    return st;
}
