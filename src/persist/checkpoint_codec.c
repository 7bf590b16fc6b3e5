/* Encoding and strict decoding of the checkpoint payloads (sections 16 and 17; the byte
   tables are in docs/model-format.md).  Fixed-size blocks keep every offset constant; a block
   a run does not use (no optimizer options, no schedule) is written as zeros and must read
   as zeros, so that each state has one encoding. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "persist/checkpoint_codec.h"
#include "core/le_codec.h"

enum {
    OPTS_BYTES = 72,    /* the optimizer options block */
    SCHED_BYTES = 112,  /* the schedule block */
    OPTIM_HEAD = 104,   /* section 16 up to its state buffers */
    RUN_HEAD = 300,     /* section 17 up to its dropout rates */
    OPT_NESTEROV = 1u, OPT_AMSGRAD = 2u, OPT_CENTERED = 4u,
    RUN_STOPPED = 1u, RUN_SHUFFLE = 2u, RUN_OPTIM = 4u, RUN_SCHEDULE = 8u,
    RUN_RESTORE_BEST = 16u, RUN_BEST = 32u, RUN_FLAGS = 63u,
};

/* ---- a bounded reader: every read past the end marks it bad and yields zero ---- */

typedef struct reader {
    const uint8_t *p;
    size_t left;
    bool bad;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

/* The next n (<= 8) bytes, or zeros past the end (the reader is then bad). */
static const uint8_t *next(reader *r, size_t n)
{
    static const uint8_t zeros[8];
    const uint8_t *p = take(r, n);
    return p ? p : zeros;
}

static uint32_t get_u32(reader *r) { return nb__le_get_u32(next(r, 4)); }
static uint64_t get_u64(reader *r) { return nb__le_get_u64(next(r, 8)); }
static double get_f64(reader *r) { return nb__le_get_f64(next(r, 8)); }
static float get_f32(reader *r) { return nb__le_get_f32(next(r, 4)); }

/* A u64 that must fit size_t. */
static size_t get_size(reader *r)
{
    uint64_t v = get_u64(r);
    if (v > SIZE_MAX)
        r->bad = true;
    return (size_t)v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    nb__le_put_u32(p, v);
    return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
    nb__le_put_u64(p, v);
    return p + 8;
}

static uint8_t *put_f64(uint8_t *p, double v)
{
    nb__le_put_f64(p, v);
    return p + 8;
}

/* The 8-byte members of a block, in their order: u64 or f64 (both stored little-endian). */
typedef struct field {
    size_t off;
    bool f64;
} field;

static uint8_t *put_fields(uint8_t *p, const void *obj, const field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u; /* an f64 goes as its bits */
        const unsigned char *m = (const unsigned char *)obj + f[i].off;
        if (f[i].f64) {
            double v;
            memcpy(&v, m, sizeof v);
            memcpy(&u, &v, sizeof u);
        } else {
            memcpy(&u, m, sizeof u);
        }
        p = put_u64(p, u);
    }
    return p;
}

static void get_fields(reader *r, void *obj, const field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char *m = (unsigned char *)obj + f[i].off;
        if (f[i].f64) {
            double v = get_f64(r);
            memcpy(m, &v, sizeof v);
        } else {
            uint64_t v = get_u64(r);
            memcpy(m, &v, sizeof v);
        }
    }
}

#define F64(T, m) {offsetof(T, m), true}
#define U64(T, m) {offsetof(T, m), false}
static const field OPT_FIELDS[] = {
    F64(nb_optim_opts, lr),    F64(nb_optim_opts, momentum), F64(nb_optim_opts, dampening),
    F64(nb_optim_opts, weight_decay), F64(nb_optim_opts, beta1), F64(nb_optim_opts, beta2),
    F64(nb_optim_opts, eps),   F64(nb_optim_opts, alpha),
};
static const field SCHED_FIELDS[] = {
    F64(nb_schedule, base_lr),   U64(nb_schedule, total_steps),
    U64(nb_schedule, warmup_steps), F64(nb_schedule, warmup_start_factor),
    U64(nb_schedule, step_size), F64(nb_schedule, gamma), F64(nb_schedule, eta_min),
    F64(nb_schedule, start_factor), F64(nb_schedule, end_factor), F64(nb_schedule, pct_start),
    F64(nb_schedule, div_factor), F64(nb_schedule, final_div_factor),
};
#undef F64
#undef U64
#define N_FIELDS(t) (sizeof t / sizeof t[0])

static bool finite_floats(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

/* ---- the optimizer options block (72 bytes) ---- */

static uint8_t *put_opts(uint8_t *p, const nb_optim_opts *o)
{
    p = put_u32(p, (uint32_t)o->kind);
    p = put_u32(p, (o->nesterov ? OPT_NESTEROV : 0u) | (o->amsgrad ? OPT_AMSGRAD : 0u)
                       | (o->centered ? OPT_CENTERED : 0u));
    return put_fields(p, o, OPT_FIELDS, N_FIELDS(OPT_FIELDS));
}

/* Reads the block; ranges are nb_optim_create's to check (kind must be in range here). */
static void get_opts(reader *r, nb_optim_opts *o)
{
    uint32_t kind = get_u32(r), flags = get_u32(r);
    if (kind >= (uint32_t)NB_OPTIM_KIND_COUNT || (flags & ~(uint32_t)7u))
        r->bad = true;
    o->kind = r->bad ? NB_OPTIM_SGD : (nb_optim_kind)kind;
    o->nesterov = flags & OPT_NESTEROV;
    o->amsgrad = flags & OPT_AMSGRAD;
    o->centered = flags & OPT_CENTERED;
    get_fields(r, o, OPT_FIELDS, N_FIELDS(OPT_FIELDS));
}

/* ---- section 16 ---- */

nb_status nb__ckpt_optim_size(const nb_optim *opt, size_t *bytes)
{
    if (!opt) {
        *bytes = 8;
        return NB_OK;
    }
    uint64_t n = nb_optim_num_params(opt), k = nb_optim_state_count(opt);
    if (n > (SIZE_MAX - OPTIM_HEAD) / 4 / (k ? k : 1))
        return NB_ERR_OVERFLOW;
    *bytes = OPTIM_HEAD + (size_t)(4 * n * k);
    return NB_OK;
}

nb_status nb__ckpt_optim_put(uint8_t *p, nb_optim *opt)
{
    p = put_u32(p, NB__CKPT_PAYLOAD_VERSION);
    p = put_u32(p, opt != NULL);
    if (!opt)
        return NB_OK;
    nb_optim_opts o;
    NB_TRY(nb_optim_get_opts(opt, &o));
    size_t n = nb_optim_num_params(opt), k = nb_optim_state_count(opt);
    for (size_t i = 0; i < k; i++)
        if (!finite_floats(nb_optim_state(opt, i), n))
            return NB_ERR_NONFINITE;
    p = put_opts(p, &o);
    p = put_u64(p, nb_optim_steps(opt));
    p = put_u64(p, n);
    p = put_u32(p, (uint32_t)k);
    p = put_u32(p, 0);
    for (size_t i = 0; i < k; i++, p += 4 * n)
        nb__le_put_f32s(p, nb_optim_state(opt, i), n);
    return NB_OK;
}

nb_status nb__ckpt_optim_get(nb_optim **out, const uint8_t *p, size_t size, size_t n_params)
{
    reader r = {p, size, false};
    uint32_t version = get_u32(&r), present = get_u32(&r);
    if (r.bad || version != NB__CKPT_PAYLOAD_VERSION || present > 1)
        return NB_ERR_CORRUPT;
    if (!present) {
        if (r.left)
            return NB_ERR_CORRUPT;
        *out = NULL;
        return NB_OK;
    }
    nb_optim_opts o;
    get_opts(&r, &o);
    uint64_t steps = get_u64(&r), n = get_u64(&r);
    uint32_t k = get_u32(&r), reserved = get_u32(&r);
    if (r.bad || n != n_params || reserved != 0 || k > 3)
        return NB_ERR_CORRUPT;
    /* exactly k buffers of n floats left (n <= 2^40 as a model's, k <= 3: no overflow) */
    if ((uint64_t)r.left != 4 * n * k)
        return NB_ERR_CORRUPT;
    nb_optim *opt;
    nb_status st = nb_optim_create(&opt, n_params, &o);
    if (st != NB_OK)
        return st == NB_ERR_ARG ? NB_ERR_CORRUPT : st;
    if (nb_optim_state_count(opt) != k) {
        nb_optim_free(opt);
        return NB_ERR_CORRUPT;
    }
    for (size_t i = 0; i < k; i++) {
        float *s = nb_optim_state(opt, i);
        nb__le_get_f32s(r.p + 4 * n_params * i, s, n_params);
        if (!finite_floats(s, n_params)) {
            nb_optim_free(opt);
            return NB_ERR_CORRUPT;
        }
    }
    if (nb_optim_set_steps(opt, steps) != NB_OK) { /* UINT64_MAX: the next step would wrap */
        nb_optim_free(opt);
        return NB_ERR_CORRUPT;
    }
    *out = opt;
    return NB_OK;
}

/* ---- section 17 ---- */

static uint8_t *put_sched(uint8_t *p, const nb_schedule *s)
{
    p = put_u32(p, (uint32_t)s->kind);
    p = put_u32(p, (uint32_t)s->anneal);
    p = put_u32(p, s->three_phase);
    p = put_u32(p, 0);
    return put_fields(p, s, SCHED_FIELDS, N_FIELDS(SCHED_FIELDS));
}

static void get_sched(reader *r, nb_schedule *s)
{
    uint32_t kind = get_u32(r), anneal = get_u32(r), three = get_u32(r), reserved = get_u32(r);
    if (kind >= (uint32_t)NB_SCHED_KIND_COUNT || anneal >= (uint32_t)NB_ANNEAL_COUNT
        || three > 1 || reserved != 0)
        r->bad = true;
    s->kind = r->bad ? NB_SCHED_CONSTANT : (nb_schedule_kind)kind;
    s->anneal = r->bad ? NB_ANNEAL_COS : (nb_anneal)anneal;
    s->three_phase = three;
    get_fields(r, s, SCHED_FIELDS, N_FIELDS(SCHED_FIELDS));
}

nb_status nb__ckpt_run_size(const nb__trainer_state *s, size_t *bytes)
{
    const nb_net *net = s->net;
    uint64_t b = RUN_HEAD + 4 * (uint64_t)net->n_layers;
    if (s->best)
        b += 4 * (uint64_t)net->n_params;
    if (b > SIZE_MAX)
        return NB_ERR_OVERFLOW;
    *bytes = (size_t)b;
    return NB_OK;
}

nb_status nb__ckpt_run_put(uint8_t *p, const nb__trainer_state *s)
{
    const nb_net *net = s->net;
    const nb__run_record *rec = &s->rec;
    const nb_train_position *pos = &s->pos;
    bool best = s->best != NULL;
    if (best && !finite_floats(s->best, net->n_params))
        return NB_ERR_NONFINITE;
    p = put_u32(p, NB__CKPT_PAYLOAD_VERSION);
    p = put_u32(p, (pos->stopped ? RUN_STOPPED : 0u) | (rec->shuffle ? RUN_SHUFFLE : 0u)
                       | (rec->has_optim ? RUN_OPTIM : 0u)
                       | (rec->has_schedule ? RUN_SCHEDULE : 0u)
                       | (rec->restore_best ? RUN_RESTORE_BEST : 0u) | (best ? RUN_BEST : 0u));
    p = put_u64(p, pos->epochs_done);
    p = put_u64(p, pos->steps_done);
    p = put_u64(p, pos->best_epoch);
    p = put_f64(p, pos->best_val_loss);
    p = put_u64(p, pos->bad_epochs);
    p = put_f64(p, s->last_loss);
    p = put_u32(p, (uint32_t)rec->loss);
    nb__le_put_f32(p, rec->lr);
    p += 4;
    p = put_u64(p, rec->batch_size);
    p = put_u64(p, rec->seed);
    p = put_u64(p, rec->rows);
    p = put_u64(p, rec->val_rows);
    p = put_u64(p, rec->patience);
    p = put_f64(p, rec->clip_norm);
    p = put_opts(p, &rec->optim); /* zeros without an optimizer (the record holds zeros) */
    p = put_sched(p, &rec->schedule);
    p = put_u32(p, (uint32_t)net->n_layers);
    for (size_t l = 0; l < net->n_layers; l++, p += 4)
        nb__le_put_f32(p, net->layers[l].dropout);
    if (best)
        nb__le_put_f32s(p, s->best, net->n_params);
    return NB_OK;
}

/* The recorded options: ranges, and what they imply for each other. */
static bool record_ok(const nb__run_record *rec, const nb_net *net)
{
    if ((unsigned)rec->loss >= (unsigned)NB_LOSS_COUNT || !isfinite(rec->lr) || rec->lr < 0.0f
        || rec->batch_size == 0 || rec->rows == 0 || !isfinite(rec->clip_norm)
        || rec->clip_norm < 0.0)
        return false;
    if (rec->loss == NB_LOSS_SOFTMAX_CE && net->layers[net->n_layers - 1].act != NB_ACT_IDENTITY)
        return false;
    if ((rec->patience > 0 || rec->restore_best) && rec->val_rows == 0)
        return false;
    if (rec->has_optim && !(isfinite(rec->optim.lr) && rec->optim.lr >= 0.0))
        return false; /* the other options are checked against section 16's */
    if (rec->has_schedule) { /* resolved as the trainer resolves it */
        double base = rec->has_optim ? rec->optim.lr : (double)rec->lr;
        if (nb_schedule_check(&rec->schedule) != NB_OK || rec->schedule.total_steps == 0
            || rec->schedule.base_lr != base)
            return false;
    }
    return true;
}

/* The position: what a run of these options can have reached at an epoch's end. */
static bool position_ok(const nb__ckpt_run *r)
{
    const nb_train_position *pos = &r->pos;
    const nb__run_record *rec = &r->rec;
    size_t bs = rec->batch_size < rec->rows ? rec->batch_size : rec->rows;
    uint64_t batches = rec->rows / bs + (rec->rows % bs != 0); /* rows + bs - 1 may wrap */
    if (pos->epochs_done > SIZE_MAX || pos->epochs_done > UINT64_MAX / batches
        || pos->steps_done != pos->epochs_done * batches)
        return false;
    if (pos->best_epoch > pos->epochs_done || (pos->best_epoch == 0) != isnan(pos->best_val_loss))
        return false;
    if (rec->val_rows == 0 ? pos->best_epoch != 0 || pos->bad_epochs != 0
                           : pos->bad_epochs != pos->epochs_done - pos->best_epoch)
        return false;
    if (pos->stopped && pos->epochs_done == 0)
        return false;
    return pos->epochs_done == 0 ? isnan(r->last_loss) : isfinite(r->last_loss);
}

nb_status nb__ckpt_run_get(nb__ckpt_run *out, const uint8_t *p, size_t size, const nb_net *net)
{
    reader r = {p, size, false};
    nb__ckpt_run c;
    memset(&c, 0, sizeof c);
    nb__run_record *rec = &c.rec;
    uint32_t version = get_u32(&r), flags = get_u32(&r);
    if (version != NB__CKPT_PAYLOAD_VERSION || (flags & ~(uint32_t)RUN_FLAGS))
        return NB_ERR_CORRUPT;
    c.pos.stopped = flags & RUN_STOPPED;
    rec->shuffle = flags & RUN_SHUFFLE;
    rec->has_optim = flags & RUN_OPTIM;
    rec->has_schedule = flags & RUN_SCHEDULE;
    rec->restore_best = flags & RUN_RESTORE_BEST;
    c.pos.epochs_done = get_u64(&r);
    c.pos.steps_done = get_u64(&r);
    c.pos.best_epoch = get_size(&r);
    c.pos.best_val_loss = get_f64(&r);
    c.pos.bad_epochs = get_size(&r);
    c.last_loss = get_f64(&r);
    uint32_t loss = get_u32(&r);
    rec->loss = loss < (uint32_t)NB_LOSS_COUNT ? (nb_loss)loss : NB_LOSS_COUNT;
    rec->lr = get_f32(&r);
    rec->batch_size = get_size(&r);
    rec->seed = get_u64(&r);
    rec->rows = get_size(&r);
    rec->val_rows = get_size(&r);
    rec->patience = get_size(&r);
    rec->clip_norm = get_f64(&r);
    const uint8_t *block = r.p;
    get_opts(&r, &rec->optim);
    if (!r.bad && !rec->has_optim) {
        if (!all_zero(block, OPTS_BYTES))
            return NB_ERR_CORRUPT;
        memset(&rec->optim, 0, sizeof rec->optim);
    }
    block = r.p;
    get_sched(&r, &rec->schedule);
    if (!r.bad && !rec->has_schedule) {
        if (!all_zero(block, SCHED_BYTES))
            return NB_ERR_CORRUPT;
        memset(&rec->schedule, 0, sizeof rec->schedule);
    }
    uint32_t n_layers = get_u32(&r);
    if (r.bad || n_layers != net->n_layers || !record_ok(rec, net) || !position_ok(&c))
        return NB_ERR_CORRUPT;
    c.dropout = take(&r, 4 * (size_t)n_layers);
    for (size_t l = 0; c.dropout && l < n_layers; l++) {
        float q = nb__le_get_f32(c.dropout + 4 * l);
        if (!(q >= 0.0f && q < 1.0f) || (q > 0.0f && l + 1 == n_layers))
            return NB_ERR_CORRUPT;
    }
    bool best = flags & RUN_BEST;
    if (best != (rec->restore_best && c.pos.best_epoch > 0))
        return NB_ERR_CORRUPT;
    if (best) {
        if (r.left / 4 < net->n_params)
            return NB_ERR_CORRUPT;
        c.best = take(&r, 4 * net->n_params);
        for (size_t i = 0; c.best && i < net->n_params; i++)
            if (!isfinite(nb__le_get_f32(c.best + 4 * i)))
                return NB_ERR_CORRUPT;
    }
    if (r.bad || r.left != 0)
        return NB_ERR_CORRUPT;
    *out = c;
    return NB_OK;
}
