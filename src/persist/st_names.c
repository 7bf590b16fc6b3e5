/* safetensors import: the dense layers of an ordinary PyTorch state_dict found in its tensor
   names ("net.0.weight", "fc1.bias", "encoder.fc1.weight"): tensors grouped by module, modules
   ordered by natural order of their names or by a given order, shapes checked as a chain.
   Every refusal names the key. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "persist/st_names.h"

nb_status nb__st_fail(nb_st_error *err, nb_status st, const char *key, const char *fmt, ...)
{
    if (err) {
        snprintf(err->key, sizeof err->key, "%s", key ? key : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->reason, sizeof err->reason, fmt, ap);
        va_end(ap);
    }
    return st;
}

typedef struct entry {
    const char *mod; /* the key; the module name is its first mlen bytes */
    size_t mlen;
    int bias;        /* 0 weight, 1 bias: a module's weight sorts first */
    long rank;       /* place in the given order, or -1 */
    const nb__st_tensor *t;
} entry;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Natural order: digit runs compare as numbers (leading zeros aside: 2 < 10), other bytes as
   bytes, a prefix first; names equal so (0 and 00) fall back to bytes, so the order is total. */
static int natural_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            size_t ie = i, je = j;
            while (ie < na && is_digit(a[ie]))
                ie++;
            while (je < nb && is_digit(b[je]))
                je++;
            while (i + 1 < ie && a[i] == '0')
                i++;
            while (j + 1 < je && b[j] == '0')
                j++;
            if (ie - i != je - j)
                return ie - i < je - j ? -1 : 1;
            int c = memcmp(a + i, b + j, ie - i);
            if (c)
                return c;
            i = ie;
            j = je;
        } else if (a[i] != b[j]) {
            return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
        } else {
            i++;
            j++;
        }
    }
    if (i < na || j < nb)
        return i < na ? 1 : -1;
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static int by_module(const void *pa, const void *pb)
{
    const entry *x = pa, *y = pb;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    int c = natural_cmp(x->mod, x->mlen, y->mod, y->mlen);
    return c ? c : x->bias - y->bias;
}

/* "M.weight" / "M.bias" with M non-empty and no empty component, or a lone module's "weight" /
   "bias" (M empty). */
static bool split_key(const char *key, size_t *mlen, int *bias)
{
    size_t n = strlen(key), tail;
    if (n >= 6 && strcmp(key + n - 6, "weight") == 0)
        tail = 6, *bias = 0;
    else if (n >= 4 && strcmp(key + n - 4, "bias") == 0)
        tail = 4, *bias = 1;
    else
        return false;
    if (n == tail) {
        *mlen = 0;
        return true;
    }
    if (n < tail + 2 || key[n - tail - 1] != '.')
        return false;
    *mlen = n - tail - 1;
    for (size_t i = 0; i < *mlen; i++)
        if (key[i] == '.' && (i == 0 || key[i - 1] == '.' || i + 1 == *mlen))
            return false;
    return key[0] != '.';
}

static bool skipped(const char *key, const nb_st_names *nm)
{
    for (size_t s = 0; nm && s < nm->n_skip; s++) {
        size_t n = strlen(nm->skip[s]);
        if (strncmp(key, nm->skip[s], n) == 0 && (key[n] == '\0' || key[n] == '.'))
            return true;
    }
    return false;
}

static long rank_of(const entry *e, const nb_st_names *nm)
{
    for (size_t r = 0; nm && r < nm->n_order; r++)
        if (strlen(nm->order[r]) == e->mlen && strncmp(nm->order[r], e->mod, e->mlen) == 0)
            return (long)r;
    return -1;
}

/* What a key that is not a layer's probably is, for the refusal. */
static const char *guess(const char *key)
{
    if (strstr(key, "running_mean") || strstr(key, "running_var") || strstr(key, "num_batches_tracked"))
        return " (BatchNorm statistics: nablas has no batch normalisation)";
    return "";
}

static nb_status check_names(const nb_st_names *nm, nb_st_error *err)
{
    if (!nm)
        return NB_OK;
    if ((nm->n_order && !nm->order) || (nm->n_skip && !nm->skip))
        return NB_ERR_NULL;
    for (size_t r = 0; r < nm->n_order; r++) {
        if (!nm->order[r])
            return NB_ERR_NULL;
        if (!*nm->order[r])
            return nb__st_fail(err, NB_ERR_ARG, "", "an entry of the order is empty");
        for (size_t q = 0; q < r; q++)
            if (strcmp(nm->order[q], nm->order[r]) == 0)
                return nb__st_fail(err, NB_ERR_ARG, nm->order[r], "module '%s' is given twice "
                                   "in the order", nm->order[r]);
    }
    for (size_t s = 0; s < nm->n_skip; s++) {
        if (!nm->skip[s])
            return NB_ERR_NULL;
        if (!*nm->skip[s])
            return nb__st_fail(err, NB_ERR_ARG, "", "an entry to skip is empty");
    }
    return NB_OK;
}

/* The file's tensors that are not skipped, as layer entries; each key checked. */
static nb_status collect(const nb__st_file *f, const nb_st_names *nm, entry *e, size_t *n,
                         nb_st_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        const char *key = f->t[i].name;
        if (skipped(key, nm))
            continue;
        if (!split_key(key, &e[k].mlen, &e[k].bias))
            return nb__st_fail(err, NB_ERR_UNSUPPORTED, key, "key '%s' is not the weight or "
                               "bias of a Linear layer%s: skip it by name", key, guess(key));
        e[k].mod = key;
        e[k].t = &f->t[i];
        e[k].rank = rank_of(&e[k], nm);
        if (nm && nm->n_order && e[k].rank < 0)
            return nb__st_fail(err, NB_ERR_UNSUPPORTED, key, "key '%s' belongs to module "
                               "'%.*s', which is not in the order given: add it, or skip it",
                               key, (int)e[k].mlen, key);
        k++;
    }
    *n = k;
    return NB_OK;
}

static void shape_str(const nb__st_tensor *t, char *buf, size_t cap)
{
    size_t at = (size_t)snprintf(buf, cap, "[");
    for (size_t d = 0; d < t->ndim && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%llu", d ? "," : "",
                               (unsigned long long)t->shape[d]);
    if (at < cap)
        snprintf(buf + at, cap - at, "]");
}

/* Groups sorted entries into layers; *k layers made. */
static nb_status group(const entry *e, size_t n, nb__st_layer *L, size_t *k, nb_st_error *err)
{
    *k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && e[i].mlen == e[i - 1].mlen && memcmp(e[i].mod, e[i - 1].mod, e[i].mlen) == 0) {
            L[*k - 1].b = e[i].t; /* the bias after its weight (keys are unique) */
            continue;
        }
        if (e[i].bias)
            return nb__st_fail(err, NB_ERR_SHAPE, e[i].mod, "key '%s' is a bias without a "
                               "weight ('%.*s%sweight')", e[i].mod, (int)e[i].mlen, e[i].mod,
                               e[i].mlen ? "." : "");
        L[(*k)++].w = e[i].t;
    }
    return NB_OK;
}

/* Each layer's weight 2-D and within bounds, its bias fitting it, its width the last one's. */
static nb_status check_chain(nb__st_layer *L, size_t k, nb_st_error *err)
{
    char s1[200], s2[200];
    for (size_t l = 0; l < k; l++) {
        const nb__st_tensor *w = L[l].w, *b = L[l].b;
        shape_str(w, s1, sizeof s1);
        if (w->ndim != 2 || w->shape[0] == 0 || w->shape[1] == 0)
            return nb__st_fail(err, NB_ERR_SHAPE, w->name, "key '%s' has shape %s: a Linear "
                               "weight is 2-D (out x in) and not empty%s", w->name, s1,
                               w->ndim == 1 ? " (a BatchNorm or LayerNorm weight? skip its "
                                              "module)" : "");
        if (w->shape[0] > NB_MODEL_MAX_WIDTH || w->shape[1] > NB_MODEL_MAX_WIDTH)
            return nb__st_fail(err, NB_ERR_SHAPE, w->name, "key '%s' has shape %s: wider than "
                               "%u", w->name, s1, NB_MODEL_MAX_WIDTH);
        L[l].out = (size_t)w->shape[0];
        L[l].in = (size_t)w->shape[1];
        if (b && (b->ndim != 1 || b->shape[0] != L[l].out)) {
            shape_str(b, s2, sizeof s2);
            return nb__st_fail(err, NB_ERR_SHAPE, b->name, "key '%s' has shape %s, its weight "
                               "'%s' %s has %zu outputs", b->name, s2, w->name, s1, L[l].out);
        }
        if (l > 0 && L[l].in != L[l - 1].out) {
            shape_str(L[l - 1].w, s2, sizeof s2);
            return nb__st_fail(err, NB_ERR_SHAPE, w->name, "key '%s' has shape %s, which does "
                               "not follow '%s' %s (layer %zu takes %zu inputs, layer %zu gives "
                               "%zu; another order?)", w->name, s1, L[l - 1].w->name, s2, l + 1,
                               L[l].in, l, L[l - 1].out);
        }
    }
    return NB_OK;
}

nb_status nb__st_layers(const nb__st_file *f, const nb_st_names *nm, size_t n_layers,
                        nb__st_layer **L_out, size_t *n_out, nb_st_error *err)
{
    NB_TRY(check_names(nm, err));
    entry *e = malloc((f->n ? f->n : 1) * sizeof *e);
    if (!e)
        return NB_ERR_NOMEM;
    size_t n = 0, k = 0;
    nb_status st = collect(f, nm, e, &n, err);
    nb__st_layer *L = NULL;
    if (st == NB_OK && n == 0)
        st = nb__st_fail(err, NB_ERR_SHAPE, "", "no layer tensors (M.weight) in the file");
    if (st == NB_OK && n > 2 * (size_t)NB_MODEL_MAX_LAYERS)
        st = nb__st_fail(err, NB_ERR_SHAPE, "", "%zu layer tensors: more than %u layers", n,
                         NB_MODEL_MAX_LAYERS);
    if (st == NB_OK && !(L = calloc(n, sizeof *L)))
        st = NB_ERR_NOMEM;
    if (st == NB_OK) {
        qsort(e, n, sizeof *e, by_module);
        st = group(e, n, L, &k, err);
    }
    for (size_t r = 0; st == NB_OK && nm && r < nm->n_order; r++) {
        /* every order entry names a module with a weight */
        size_t len = strlen(nm->order[r]), l = 0;
        while (l < k && !(strlen(L[l].w->name) == len + 7
                          && strncmp(L[l].w->name, nm->order[r], len) == 0))
            l++;
        if (l == k)
            st = nb__st_fail(err, NB_ERR_SHAPE, nm->order[r], "the order names module '%s', "
                             "which has no '%s.weight' in the file", nm->order[r], nm->order[r]);
    }
    if (st == NB_OK) /* the file's own chain first: its refusal says more than a count */
        st = check_chain(L, k, err);
    if (st == NB_OK && n_layers && k != n_layers)
        st = nb__st_fail(err, NB_ERR_SHAPE, "", "the file has %zu layers (first '%s', last "
                         "'%s'), the layers given are %zu", k, L[0].w->name, L[k - 1].w->name,
                         n_layers);
    free(e);
    if (st != NB_OK) {
        free(L);
        return st;
    }
    *L_out = L;
    *n_out = k;
    return NB_OK;
}
