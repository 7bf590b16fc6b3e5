/* The canonical record of a training run's options (the checkpoint's note, followed there by
   the losses of every epoch for --plot) and its comparison on --resume.  Values are the
   effective ones (defaults filled in, --dropout merged into the layers, numbers in their
   shortest exact form), so that two spellings of the same run compare equal and a difference
   is named by its option. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli/train_record.h"

typedef struct buf {
    char *s;
    size_t len, cap;
    bool nomem;
} buf;

static void put(buf *b, const char *fmt, ...)
{
    if (b->nomem)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->nomem = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 1024;
        while (cap <= b->len + (size_t)n)
            cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->nomem = true;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
}

/* The shortest %g form that reads back as x (so 0.1 is "0.1", and equal records mean equal
   values). */
static const char *num(char out[32], double x)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, 32, "%.*g", p, x);
        if (strtod(out, NULL) == x)
            break;
    }
    return out;
}

/* As num, for a float (a dropout rate): "0.1", not the double 0.10000000149011612. */
static const char *numf(char out[32], float x)
{
    for (int p = 1; p <= 9; p++) {
        snprintf(out, 32, "%.*g", p, (double)x);
        if (strtof(out, NULL) == x)
            break;
    }
    return out;
}

static const char *yes(bool b) { return b ? "yes" : "no"; }

/* A value taken from the user or the data (a column name, an option as given) on one line of
   the record: a backslash becomes \\, a newline \n, a carriage return \r, a tab \t and any
   other control byte \xHH, so that a name can never start a line of its own (an option line
   the comparison would read) and the record reads back to the same name (unescape). */
static void put_escaped(buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\')
            put(b, "\\\\");
        else if (c == '\n')
            put(b, "\\n");
        else if (c == '\r')
            put(b, "\\r");
        else if (c == '\t')
            put(b, "\\t");
        else if (c < 0x20 || c == 0x7f)
            put(b, "\\x%02x", c);
        else
            put(b, "%c", c);
    }
}

/* The inverse of put_escaped, in place (the result is never longer). */
static void unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '\\' || !r[1]) {
            *w++ = *r;
            continue;
        }
        r++;
        unsigned hi, lo;
        if (*r == 'n')
            *w++ = '\n';
        else if (*r == 'r')
            *w++ = '\r';
        else if (*r == 't')
            *w++ = '\t';
        else if (*r == 'x' && r[1] && r[2] && sscanf(r + 1, "%1x%1x", &hi, &lo) == 2) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else
            *w++ = *r; /* \\ and anything else: the character itself */
    }
    *w = '\0';
}

static uint32_t crc_bytes(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n > 0) { /* zlib takes at most UINT_MAX bytes a call */
        uInt k = n > 0x40000000u ? 0x40000000u : (uInt)n;
        crc = (uint32_t)crc32(crc, c, k);
        c += k;
        n -= k;
    }
    return crc;
}

static uint32_t crc_u64(uint32_t crc, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) /* little-endian, whatever the machine */
        b[i] = (unsigned char)(v >> (8 * i));
    return crc_bytes(crc, b, 8);
}

static uint32_t crc_names(uint32_t crc, char *const *names, size_t n)
{
    crc = crc_u64(crc, names ? n : 0);
    for (size_t i = 0; names && i < n; i++) {
        size_t len = strlen(names[i]);
        crc = crc_u64(crc, len);
        crc = crc_bytes(crc, names[i], len);
    }
    return crc;
}

static uint32_t crc_tensor(uint32_t crc, const nb_tensor *t)
{
    crc = crc_u64(crc, t->data ? t->rows : 0);
    crc = crc_u64(crc, t->data ? t->cols : 0);
    if (t->data) /* the floats as the machine holds them: a checkpoint is resumed on its kind */
        crc = crc_bytes(crc, t->data, t->rows * t->cols * sizeof *t->data);
    return crc;
}

uint32_t cli_data_crc(const nb_dataset *d)
{
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    crc = crc_tensor(crc, &d->X);
    crc = crc_tensor(crc, &d->T);
    crc = crc_names(crc, d->class_names, d->n_classes);
    crc = crc_names(crc, d->feature_names, d->n_features);
    crc = crc_names(crc, d->target_names, d->n_target_names);
    return crc;
}

static const char *optim_name(nb_optim_kind k)
{
    switch (k) {
    case NB_OPTIM_SGD: return "sgd";
    case NB_OPTIM_ADAM: return "adam";
    case NB_OPTIM_ADAMW: return "adamw";
    case NB_OPTIM_RMSPROP: return "rmsprop";
    default: return "?";
    }
}

const char *cli_schedule_name(nb_schedule_kind k)
{
    switch (k) {
    case NB_SCHED_CONSTANT: return "constant";
    case NB_SCHED_STEP: return "step";
    case NB_SCHED_COSINE: return "cosine";
    case NB_SCHED_LINEAR: return "linear";
    case NB_SCHED_ONECYCLE: return "onecycle";
    default: return "?";
    }
}

char *cli_run_record(const cli_run_desc *r)
{
    buf b = {0};
    char n1[32];
    const nb_dataset *d = r->data;
    put(&b, "%s\n", CLI_RECORD_HEADER);
    /* what the targets are, then the data as loaded (every data option acts through them) */
    put(&b, "--%s ", r->target_option);
    put_escaped(&b, r->target_value ? r->target_value : "none");
    put(&b, "\n");
    put(&b, "--data %zu rows, %zu features, %zu targets, crc32 %08lx\n", d->X.rows, d->X.cols,
        d->T.data ? d->T.cols : 0, (unsigned long)cli_data_crc(d));
    put(&b, "--layers ");
    for (size_t l = 0; l < r->n_layers; l++)
        put(&b, "%s%zu:%s:%s", l ? "," : "", r->layers[l].units, nb_act_name(r->layers[l].act),
            numf(n1, r->layers[l].dropout));
    put(&b, "\n--loss %s\n", cli_loss_name(r->loss));
    put(&b, "--batch %zu\n", r->batch);
    const cli_train_optim_t *t = r->optim;
    const nb_optim_opts *o = &t->optim;
    put(&b, "--optimizer %s\n", t->use_optim ? optim_name(o->kind) : "none (plain SGD)");
    put(&b, "--lr %s\n", num(n1, o->lr));
    put(&b, "--momentum %s\n", num(n1, o->momentum));
    put(&b, "--dampening %s\n", num(n1, o->dampening));
    put(&b, "--nesterov %s\n", yes(o->nesterov));
    put(&b, "--weight-decay %s\n", num(n1, o->weight_decay));
    put(&b, "--beta1 %s\n", num(n1, o->beta1));
    put(&b, "--beta2 %s\n", num(n1, o->beta2));
    put(&b, "--eps %s\n", num(n1, o->eps));
    put(&b, "--amsgrad %s\n", yes(o->amsgrad));
    put(&b, "--alpha %s\n", num(n1, o->alpha));
    put(&b, "--centered %s\n", yes(o->centered));
    const nb_schedule *s = &t->schedule;
    put(&b, "--schedule %s\n", t->use_schedule ? cli_schedule_name(s->kind) : "constant");
    put(&b, "--step-size %llu\n", (unsigned long long)s->step_size);
    put(&b, "--gamma %s\n", num(n1, s->gamma));
    put(&b, "--min-lr %s\n", num(n1, s->eta_min));
    put(&b, "--warmup %llu\n", (unsigned long long)s->warmup_steps);
    put(&b, "--clip-norm %s\n", t->clip_norm > 0.0 ? num(n1, t->clip_norm) : "none");
    put(&b, "--seed %llu\n", (unsigned long long)r->seed);
    put(&b, "--shuffle yes\n"); /* nablas train always shuffles */
    put(&b, "--validation %s (%zu rows)\n", num(n1, r->validation), r->n_val);
    put(&b, "--standardize %s\n", yes(r->standardize));
    put(&b, "--standardize-targets %s\n", yes(r->standardize_targets));
    if (r->patience > 0)
        put(&b, "--patience %zu\n", r->patience);
    else
        put(&b, "--patience none\n");
    put(&b, "--restore-best %s\n", yes(r->patience > 0));
    if (r->stop_on_loss)
        put(&b, "--stop-on-training-loss tol %g for %d epochs\n", CLI_STOP_TOL, CLI_STOP_EPOCHS);
    else
        put(&b, "--stop-on-training-loss none\n");
    put(&b, "--precision %s\n", nb_precision_name(r->precision));
    put(&b, "--epochs %zu\n", r->epochs);
    /* Not compared: another thread count continues the same run, but its sums may be taken in
       another order, so the result may differ from an uninterrupted run in the last bits. */
    put(&b, "# threads %d\n", r->threads);
    if (b.nomem) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* The line of `rec` for option `name` (after its "--name "), and its length; NULL if none. */
static const char *find_line(const char *rec, const char *name, size_t name_len, size_t *len)
{
    for (const char *p = rec; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > name_len + 3 && p[0] == '-' && p[1] == '-' && strncmp(p + 2, name, name_len) == 0
            && p[2 + name_len] == ' ') {
            *len = n - name_len - 3;
            return p + name_len + 3;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

char *cli_run_value(const char *record, const char *name)
{
    size_t len;
    const char *v = record ? find_line(record, name, strlen(name), &len) : NULL;
    if (!v)
        return NULL;
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, v, len);
        s[len] = '\0';
        unescape(s);
    }
    return s;
}

int cli_run_compare(const char *note, const char *now, const char *resume_path)
{
    size_t hl = strlen(CLI_RECORD_HEADER);
    if (!note || strncmp(note, CLI_RECORD_HEADER, hl) != 0 || note[hl] != '\n')
        return cli_error("train", "--resume %s: the checkpoint holds no options of nablas "
                                  "train (it was not written by nablas train --checkpoint)",
                         resume_path);
    for (const char *p = now; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *sp = memchr(p, ' ', n);
        if (n > 2 && p[0] == '-' && p[1] == '-' && sp) {
            size_t name_len = (size_t)(sp - p) - 2, vlen = n - name_len - 3, clen = 0;
            const char *v = sp + 1, *c = find_line(note, p + 2, name_len, &clen);
            bool epochs = name_len == 6 && strncmp(p + 2, "epochs", 6) == 0; /* the caller's */
            if (!epochs && (!c || clen != vlen || memcmp(c, v, vlen) != 0))
                return cli_usage_error("train", "--resume: --%.*s differs (checkpoint %.*s, now "
                                                "%.*s)", (int)name_len, p + 2,
                                       c ? (int)clen : 4, c ? c : "none", (int)vlen, v);
        }
        p = end ? end + 1 : p + n;
    }
    return CLI_OK;
}

int cli_run_threads(const char *record)
{
    const char *p = record ? strstr(record, "\n# threads ") : NULL;
    return p ? atoi(p + 11) : -1;
}

/* ---- the note: the record and the loss history ------------------------------------------- */

#define LOSS_LINE "# loss "

bool cli_note_init(cli_note *n, const char *record, const char *old, uint64_t upto)
{
    n->len = 0;
    n->full = false;
    n->s = malloc(NB_CHECKPOINT_MAX_NOTE + 1);
    size_t rl = strlen(record);
    if (!n->s || rl > NB_CHECKPOINT_MAX_NOTE) {
        cli_note_free(n);
        return false;
    }
    memcpy(n->s, record, rl + 1);
    n->len = rl;
    for (const char *p = old; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
        unsigned long long e;
        if (strncmp(p, LOSS_LINE, strlen(LOSS_LINE)) == 0 &&
            sscanf(p + strlen(LOSS_LINE), "%llu", &e) == 1 && e >= 1 && e <= upto && end) {
            if (n->full || n->len + len > NB_CHECKPOINT_MAX_NOTE) {
                n->full = true;
            } else {
                memcpy(n->s + n->len, p, len);
                n->len += len;
                n->s[n->len] = '\0';
            }
        }
        p += len;
    }
    return true;
}

void cli_note_add(cli_note *n, size_t epoch, double train, double val)
{
    char line[96];
    int k = snprintf(line, sizeof line, LOSS_LINE "%zu %.17g %.17g\n", epoch, train, val);
    if (n->full || k <= 0 || (size_t)k >= sizeof line ||
        n->len + (size_t)k > NB_CHECKPOINT_MAX_NOTE) {
        n->full = true;
        return;
    }
    memcpy(n->s + n->len, line, (size_t)k + 1);
    n->len += (size_t)k;
}

void cli_note_free(cli_note *n)
{
    free(n->s);
    n->s = NULL;
    n->len = 0;
}

void cli_note_losses(const char *note, uint64_t upto, double *train, double *val)
{
    for (const char *p = note; p && *p;) {
        const char *end = strchr(p, '\n');
        unsigned long long e;
        double t, v;
        if (strncmp(p, LOSS_LINE, strlen(LOSS_LINE)) == 0 &&
            sscanf(p + strlen(LOSS_LINE), "%llu %lf %lf", &e, &t, &v) == 3 && e >= 1 &&
            e <= upto) {
            train[e - 1] = t;
            val[e - 1] = v;
        }
        p = end ? end + 1 : NULL;
    }
}
