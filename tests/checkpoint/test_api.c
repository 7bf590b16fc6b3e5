/* The checkpoint API: files and their round trips, the recorded options a resumed run must
   repeat, every error path of nb_checkpoint_save(_mem), nb_checkpoint_load(_mem) and
   nb_trainer_position, and the strict decoder: every proper prefix of a checkpoint fails,
   every flipped byte (checksum fixed) is refused as corrupt or loads cleanly, and each rule of
   sections 16 and 17 (docs/model-format.md) has a forged payload that breaks it.  Links the
   library's internals (the section framework) to forge files. */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ckpt_common.h"
#include "core/le_codec.h"
#include "persist/model_sections.h"

/* ---- helpers ---- */

typedef struct trained {
    nb_net *net;
    nb_trainer *tr;
    nb_model m;
    ck_run r;
} trained;

/* A trainer after `epochs` epochs of case k (validation: patience and restore_best). */
static void train(trained *t, ck_optim k, bool validation, size_t epochs)
{
    ck_data();
    memset(t, 0, sizeof *t);
    t->net = ck_net();
    cr_assert_not_null(t->net);
    cr_assert_eq(nb_trainer_create(&t->tr, t->net), NB_OK);
    ck_opts(&t->r, k, validation, epochs); /* t->r's pointers point into t->r */
    t->r.o.patience = validation ? 50 : 0; /* no early stop: the position stays resumable */
    cr_assert_eq(nb_trainer_run(t->tr, &ck_X, &ck_T, &t->r.o, NULL), NB_OK);
    t->m.net = t->net;
    t->m.loss = t->r.o.loss;
}

static void untrain(trained *t)
{
    nb_trainer_free(t->tr);
    nb_net_free(t->net);
}

static void save(const trained *t, const char *note, void **buf, size_t *size)
{
    cr_assert_eq(nb_checkpoint_save_mem(buf, size, t->tr, &t->m, note), NB_OK);
}

static const char *tmp_path(const char *name)
{
    static char dir[64], buf[256];
    if (!dir[0]) {
        strcpy(dir, "/tmp/nablas-ckpt-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
    }
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void fix_crc(uint8_t *b, size_t size)
{
    nb__le_put_u32(b + size - 4, (uint32_t)crc32(0L, b, (uInt)(size - 4)));
}

/* Loads with sentinels in every output; on failure they must be untouched. */
static nb_status load_checked(const void *buf, size_t size)
{
    nb_model m;
    memset(&m, 0x5a, sizeof m);
    nb_model before = m;
    nb_trainer *tr = (nb_trainer *)&before;
    char *note = (char *)&before;
    nb_status st = nb_checkpoint_load_mem(&m, &tr, &note, buf, size);
    if (st != NB_OK) {
        cr_assert(memcmp(&m, &before, sizeof m) == 0, "model touched on failure");
        cr_assert(tr == (nb_trainer *)&before && note == (char *)&before,
                  "outputs touched on failure");
        return st;
    }
    free(note);
    nb_trainer_free(tr);
    nb_model_free(&m);
    return st;
}

/* ---- round trips ---- */

Test(api, memory_round_trip_is_byte_exact)
{
    for (int k = 0; k < CK_OPTIM_COUNT; k++)
        for (int val = 0; val < 2; val++) {
            trained t;
    train(&t, (ck_optim)k, val, 3);
            void *a, *b;
            size_t na, nb;
            save(&t, val ? "a note" : NULL, &a, &na);
            nb_model m;
            nb_trainer *tr;
            char *note = (char *)&m;
            cr_assert_eq(nb_checkpoint_load_mem(&m, &tr, &note, a, na), NB_OK, "%s",
                         ck_name((ck_optim)k));
            if (val)
                cr_assert_str_eq(note, "a note");
            else
                cr_assert_null(note);
            cr_assert_eq(nb_checkpoint_save_mem(&b, &nb, tr, &m, note), NB_OK);
            cr_assert(na == nb && memcmp(a, b, na) == 0, "%s: re-encoding differs",
                      ck_name((ck_optim)k));
            /* the loaded trainer: position, optimizer state, dropout back on the network */
            nb_train_position p, q;
            cr_assert_eq(nb_trainer_position(t.tr, &p), NB_OK);
            cr_assert_eq(nb_trainer_position(tr, &q), NB_OK);
            cr_assert_eq(p.epochs_done, 3);
            cr_assert(p.epochs_done == q.epochs_done && p.steps_done == q.steps_done
                      && p.best_epoch == q.best_epoch && p.bad_epochs == q.bad_epochs
                      && p.stopped == q.stopped);
            cr_assert_eq(p.steps_done, 3 * 7);
            nb_layer_spec spec;
            cr_assert_eq(nb_net_layer(m.net, 0, &spec), NB_OK);
            cr_assert_eq(spec.dropout, 0.25f);
            nb_optim *o1, *o2;
            cr_assert_eq(nb_trainer_optim(t.tr, &t.r.o, &o1), NB_OK);
            cr_assert_eq(nb_trainer_optim(tr, &t.r.o, &o2), NB_OK);
            cr_assert_eq(o1 == NULL, k == CK_PLAIN);
            if (o1) {
                cr_assert_eq(nb_optim_steps(o1), nb_optim_steps(o2));
                cr_assert_eq(nb_optim_state_count(o1), nb_optim_state_count(o2));
                for (size_t i = 0; i < nb_optim_state_count(o1); i++)
                    cr_assert(memcmp(nb_optim_state(o1, i), nb_optim_state(o2, i),
                                     nb_net_num_params(t.net) * sizeof(float)) == 0);
            }
            free(note);
            free(a);
            free(b);
            nb_trainer_free(tr);
            nb_model_free(&m);
            untrain(&t);
        }
}

Test(api, file_round_trip_and_plain_model_load)
{
    trained t;
    train(&t, CK_ADAM, true, 3);
    const char *path = tmp_path("adam.nbc");
    char p[256];
    snprintf(p, sizeof p, "%s", path);
    cr_assert_eq(nb_checkpoint_save(t.tr, &t.m, "cli: --epochs 6", p), NB_OK);
    /* a plain model loader takes the checkpoint silently: same network */
    nb_model m;
    cr_assert_eq(nb_model_load(&m, p), NB_OK);
    cr_assert_eq(m.version, 2u);
    cr_assert_eq(m.skipped_sections, 0);
    cr_assert_eq(nb_net_num_params(m.net), nb_net_num_params(t.net));
    cr_assert(memcmp(nb_net_params(m.net), nb_net_params(t.net),
                     nb_net_num_params(t.net) * sizeof(float)) == 0);
    nb_model_free(&m);
    /* the file holds the same bytes as save_mem */
    void *a, *b;
    size_t na, nb;
    save(&t, "cli: --epochs 6", &a, &na);
    nb_trainer *tr;
    char *note;
    cr_assert_eq(nb_checkpoint_load(&m, &tr, &note, p), NB_OK);
    cr_assert_str_eq(note, "cli: --epochs 6");
    cr_assert_eq(nb_checkpoint_save_mem(&b, &nb, tr, &m, note), NB_OK);
    cr_assert(na == nb && memcmp(a, b, na) == 0);
    free(b);
    free(note);
    nb_trainer_free(tr);
    nb_model_free(&m);
    /* note not wanted */
    cr_assert_eq(nb_checkpoint_load(&m, &tr, NULL, p), NB_OK);
    nb_trainer_free(tr);
    nb_model_free(&m);
    free(a);
    untrain(&t);
}

/* Without its optimizer's state the resumed run is not the same: the state is what matters
   (a control for the resume identity tests). */
Test(api, optimizer_state_matters)
{
    trained t;
    train(&t, CK_ADAM, false, 2);
    void *buf;
    size_t size;
    save(&t, NULL, &buf, &size);
    nb_model m;
    nb_trainer *tr;
    cr_assert_eq(nb_checkpoint_load_mem(&m, &tr, NULL, buf, size), NB_OK);
    ck_run r0 = t.r;
    ck_fix(&r0);
    r0.o.resume = true;
    r0.o.epochs = 5;
    /* total_steps 0 resolves with the epochs: the 2-epoch run's schedule was over 14 steps */
    cr_assert_eq(nb_trainer_run(tr, &ck_X, &ck_T, &r0.o, NULL), NB_ERR_ARG);
    nb_trainer_free(tr);
    nb_model_free(&m);
    free(buf);
    untrain(&t);

    /* with an explicit total: 2 epochs then 3 more == 5 in one go, unless the state is reset */
    ck_data();
    ck_run r;
    ck_opts(&r, CK_ADAM, false, 5);
    r.sched.total_steps = 35;
    nb_net *one = ck_net();
    cr_assert_eq(nb_net_train(one, &ck_X, &ck_T, &r.o, NULL), NB_OK);
    for (int reset = 0; reset < 2; reset++) {
        nb_net *net = ck_net();
        nb_trainer *tr;
        cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
        r.o.epochs = 2;
        cr_assert_eq(nb_trainer_run(tr, &ck_X, &ck_T, &r.o, NULL), NB_OK);
        nb_model m = {.net = net, .loss = r.o.loss};
        cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, tr, &m, NULL), NB_OK);
        nb_trainer_free(tr);
        nb_net_free(net);
        nb_trainer *tc;
        cr_assert_eq(nb_checkpoint_load_mem(&m, &tc, NULL, buf, size), NB_OK);
        free(buf);
        r.o.epochs = 5;
        r.o.resume = true;
        nb_optim *opt;
        cr_assert_eq(nb_trainer_optim(tc, &r.o, &opt), NB_OK);
        cr_assert_eq(nb_optim_steps(opt), 14);
        if (reset)
            cr_assert_eq(nb_optim_reset(opt), NB_OK);
        cr_assert_eq(nb_trainer_run(tc, &ck_X, &ck_T, &r.o, NULL), NB_OK);
        bool same = memcmp(nb_net_params(one), nb_net_params(m.net),
                           nb_net_num_params(one) * sizeof(float)) == 0;
        cr_assert_eq(same, !reset, "reset %d", reset);
        r.o.resume = false;
        nb_trainer_free(tc);
        nb_model_free(&m);
    }
    nb_net_free(one);
}

/* ---- recorded options ---- */

enum { N_CHANGES = 25 };

/* Change number i of the options (a copy of base); false when it does not apply. */
static bool change(ck_run *r, int i, nb_tensor *X, nb_tensor *T, nb_tensor *Xv, nb_tensor *Tv)
{
    bool optim = r->o.optim != NULL;
    switch (i) {
    case 0: r->o.loss = NB_LOSS_SOFTMAX_CE; return true;
    case 1: r->o.batch_size++; return true;
    case 2: r->o.seed++; return true;
    case 3: r->o.shuffle = false; return true;
    case 4: *X = nb_tensor_rows(&ck_X, 0, CK_ROWS - 1);
            *T = nb_tensor_rows(&ck_T, 0, CK_ROWS - 1); return true;
    case 5: r->o.lr *= 2.0f; return true;
    case 6: /* optimizer given / not given */
        if (optim)
            r->o.optim = NULL;
        else {
            r->optim = nb_optim_opts_default(NB_OPTIM_SGD);
            r->o.optim = &r->optim;
        }
        return true;
    case 7: r->optim.lr *= 2.0; return optim;
    case 8: r->optim.momentum = 0.8; return optim;
    case 9: r->optim.nesterov = false; return optim;
    case 10: r->optim.weight_decay = 0.0; return optim;
    case 11: r->optim.dampening = 0.1; r->optim.nesterov = false; return optim;
    case 12: r->optim.kind = NB_OPTIM_RMSPROP; r->optim.nesterov = false; return optim;
    case 13: r->o.schedule = NULL; return true;
    case 14: r->sched.warmup_steps++; return true;
    case 15: r->sched.eta_min = 0.0; return true;
    case 16: r->sched.total_steps++; return true;
    case 17: r->sched.kind = NB_SCHED_LINEAR; return true;
    case 18: r->o.clip_norm = r->o.clip_norm > 0.0 ? 0.0 : 1.0; return true;
    case 19: r->o.patience++; return true;
    case 20: r->o.restore_best = false; return true;
    case 21: *Xv = nb_tensor_rows(&ck_Xv, 0, CK_VAL - 1);
             *Tv = nb_tensor_rows(&ck_Tv, 0, CK_VAL - 1);
             r->o.X_val = Xv;
             r->o.T_val = Tv;
             return true;
    case 22: r->o.X_val = r->o.T_val = NULL; r->o.patience = 0; r->o.restore_best = false;
             return true;
    case 23: r->o.epochs = 2; return true; /* fewer than the 3 done */
    case 24: r->optim.amsgrad = true; return false; /* SGD cannot: nb_optim_create's business */
    default: return false;
    }
}

static void mismatches(ck_optim k)
{
    trained t;
    train(&t, k, true, 3);
    /* with an explicit schedule length, more epochs are a legal continuation */
    ck_run base = t.r;
    ck_fix(&base);
    void *before, *after;
    size_t nb, na;
    save(&t, NULL, &before, &nb); /* recorded total_steps: 3 epochs of 7 */
    base.o.resume = true;
    base.o.epochs = 3;
    nb_train_report rep;
    /* the same options: runs nothing, changes nothing */
    cr_assert_eq(nb_trainer_run(t.tr, &ck_X, &ck_T, &base.o, &rep), NB_OK);
    cr_assert_eq(rep.epochs_run, 3);
    save(&t, NULL, &after, &na);
    cr_assert(na == nb && memcmp(before, after, nb) == 0);
    free(after);
    int refused = 0;
    for (int i = 0; i < N_CHANGES; i++) {
        ck_run r = base;
        ck_fix(&r);
        r.sched.total_steps = 21; /* the resolved length, as recorded */
        nb_tensor X = ck_X, T = ck_T, Xv, Tv;
        if (!change(&r, i, &X, &T, &Xv, &Tv))
            continue;
        nb_status st = nb_trainer_run(t.tr, &X, &T, &r.o, &rep);
        cr_expect_eq(st, NB_ERR_ARG, "%s: change %d: %s", ck_name(k), i, nb_status_str(st));
        save(&t, NULL, &after, &na);
        cr_expect(na == nb && memcmp(before, after, nb) == 0, "%s: change %d changed the run",
                  ck_name(k), i);
        free(after);
        refused++;
    }
    cr_assert_geq(refused, k == CK_PLAIN ? 17 : 23);
    /* and the unchanged options still continue it: with the schedule's length given, past the
       epochs first planned */
    ck_run more = base;
    ck_fix(&more);
    more.sched.total_steps = 21;
    more.o.epochs = 4;
    cr_assert_eq(nb_trainer_run(t.tr, &ck_X, &ck_T, &more.o, &rep), NB_OK);
    cr_assert_eq(rep.epochs_run, 4);
    cr_assert_eq(rep.steps, 28);
    free(before);
    untrain(&t);
}

Test(api, every_recorded_option_must_match_sgd) { mismatches(CK_SGD); }
Test(api, every_recorded_option_must_match_plain) { mismatches(CK_PLAIN); }

Test(api, resume_needs_a_run)
{
    ck_data();
    nb_net *net = ck_net();
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    nb_train_position p;
    cr_assert_eq(nb_trainer_position(tr, &p), NB_OK);
    cr_assert(p.epochs_done == 0 && p.steps_done == 0 && p.best_epoch == 0 && isnan(p.best_val_loss)
              && p.bad_epochs == 0 && !p.stopped);
    ck_run r;
    ck_opts(&r, CK_ADAM, false, 2);
    r.o.resume = true;
    cr_assert_eq(nb_trainer_run(tr, &ck_X, &ck_T, &r.o, NULL), NB_ERR_STATE);
    nb_model m = {.net = net, .loss = NB_LOSS_MSE};
    void *buf;
    size_t size;
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, tr, &m, NULL), NB_ERR_STATE);
    /* a failed run leaves nothing to continue either */
    r.o.resume = false;
    cr_assert_eq(nb_trainer_run(tr, &ck_X, &ck_T, &r.o, NULL), NB_OK);
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, tr, &m, NULL), NB_OK);
    free(buf);
    float *x = malloc(CK_ROWS * CK_IN * sizeof(float));
    cr_assert_not_null(x);
    memcpy(x, ck_X.data, CK_ROWS * CK_IN * sizeof(float));
    x[7] = NAN;
    nb_tensor Xn = nb_tensor_view(x, CK_ROWS, CK_IN);
    cr_assert_eq(nb_trainer_run(tr, &Xn, &ck_T, &r.o, NULL), NB_ERR_NONFINITE);
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, tr, &m, NULL), NB_ERR_STATE);
    r.o.resume = true;
    cr_assert_eq(nb_trainer_run(tr, &ck_X, &ck_T, &r.o, NULL), NB_ERR_STATE);
    free(x);
    nb_trainer_free(tr);
    nb_net_free(net);
}

/* ---- error paths ---- */

Test(api, save_errors)
{
    trained t;
    train(&t, CK_SGD, false, 1);
    void *buf = (void *)&t;
    size_t size = 7;
    cr_assert_eq(nb_checkpoint_save_mem(NULL, &size, t.tr, &t.m, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_save_mem(&buf, NULL, t.tr, &t.m, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, NULL, &t.m, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, NULL, NULL), NB_ERR_NULL);
    nb_net *other = ck_net();
    nb_model mo = {.net = other, .loss = NB_LOSS_MSE}, mn = {.net = NULL, .loss = NB_LOSS_MSE};
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, &mo, NULL), NB_ERR_ARG);
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, &mn, NULL), NB_ERR_ARG);
    /* the note: up to NB_CHECKPOINT_MAX_NOTE bytes */
    char *note = malloc(NB_CHECKPOINT_MAX_NOTE + 2);
    cr_assert_not_null(note);
    memset(note, 'n', NB_CHECKPOINT_MAX_NOTE + 1);
    note[NB_CHECKPOINT_MAX_NOTE + 1] = '\0';
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, &t.m, note), NB_ERR_ARG);
    cr_assert(buf == (void *)&t && size == 7, "outputs touched on failure");
    note[NB_CHECKPOINT_MAX_NOTE] = '\0';
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, &t.m, note), NB_OK);
    char *back;
    nb_model m;
    nb_trainer *tr;
    cr_assert_eq(nb_checkpoint_load_mem(&m, &tr, &back, buf, size), NB_OK);
    cr_assert_eq(strlen(back), NB_CHECKPOINT_MAX_NOTE);
    free(back);
    nb_trainer_free(tr);
    nb_model_free(&m);
    free(buf);
    /* an empty note is kept as one */
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, &t.m, ""), NB_OK);
    cr_assert_eq(nb_checkpoint_load_mem(&m, &tr, &back, buf, size), NB_OK);
    cr_assert_str_eq(back, "");
    free(back);
    nb_trainer_free(tr);
    nb_model_free(&m);
    free(buf);
    /* non-finite parameters: nothing is written */
    float keep = nb_net_params(t.net)[3];
    nb_net_params(t.net)[3] = INFINITY;
    cr_assert_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, &t.m, NULL), NB_ERR_NONFINITE);
    nb_net_params(t.net)[3] = keep;
    /* the file functions */
    cr_assert_eq(nb_checkpoint_save(NULL, &t.m, NULL, tmp_path("x")), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_save(t.tr, NULL, NULL, tmp_path("x")), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_save(t.tr, &t.m, NULL, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_save(t.tr, &mo, NULL, tmp_path("x")), NB_ERR_ARG);
    cr_assert_eq(nb_checkpoint_save(t.tr, &t.m, NULL, "/nonexistent-dir/x.nbc"), NB_ERR_IO);
    /* nb_trainer_position */
    nb_train_position p;
    cr_assert_eq(nb_trainer_position(NULL, &p), NB_ERR_NULL);
    cr_assert_eq(nb_trainer_position(t.tr, NULL), NB_ERR_NULL);
    free(note);
    nb_net_free(other);
    untrain(&t);
}

Test(api, load_errors)
{
    trained t;
    train(&t, CK_RMSPROP, true, 2);
    void *buf;
    size_t size;
    save(&t, "n", &buf, &size);
    nb_model m;
    nb_trainer *tr;
    char *note;
    cr_assert_eq(nb_checkpoint_load_mem(NULL, &tr, &note, buf, size), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_load_mem(&m, NULL, &note, buf, size), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_load_mem(&m, &tr, &note, NULL, size), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_load(NULL, &tr, &note, "x"), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_load(&m, NULL, &note, "x"), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_load(&m, &tr, &note, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_checkpoint_load(&m, &tr, &note, "/nonexistent-dir/x.nbc"), NB_ERR_IO);
    cr_assert_eq(nb_checkpoint_load(&m, &tr, &note, "/tmp"), NB_ERR_IO);
    /* a plain model is not a checkpoint */
    void *plain;
    size_t psize;
    cr_assert_eq(nb_model_save_mem(&plain, &psize, &t.m), NB_OK);
    cr_assert_eq(load_checked(plain, psize), NB_ERR_ARG);
    char p[256];
    snprintf(p, sizeof p, "%s", tmp_path("plain.nbm"));
    cr_assert_eq(nb_model_save(&t.m, p), NB_OK);
    cr_assert_eq(nb_checkpoint_load(&m, &tr, &note, p), NB_ERR_ARG);
    free(plain);
    /* not a model file at all */
    cr_assert_eq(load_checked("NABLASXX....", 12), NB_ERR_BAD_MAGIC);
    cr_assert_eq(load_checked(buf, 0), NB_ERR_TRUNCATED);
    free(buf);
    untrain(&t);
}

/* Every proper prefix of a checkpoint fails (and leaves the outputs alone). */
Test(api, every_prefix_fails)
{
    trained t;
    train(&t, CK_ADAM, true, 2);
    void *buf;
    size_t size;
    save(&t, "prefix", &buf, &size);
    for (size_t n = 0; n < size; n++) {
        nb_status st = load_checked(buf, n);
        cr_assert_neq(st, NB_OK, "prefix of %zu bytes loaded", n);
    }
    cr_assert_eq(load_checked(buf, size), NB_OK);
    free(buf);
    untrain(&t);
}

/* Where the payloads of sections 16, 17 and 18 lie in a checkpoint's bytes. */
static void payloads(const void *buf, size_t size, nb__section want[3])
{
    want[0] = (nb__section){NB__TAG_OPTIM_STATE, 0, NULL, 0};
    want[1] = (nb__section){NB__TAG_TRAIN_POSITION, 0, NULL, 0};
    want[2] = (nb__section){NB__TAG_NOTE, 0, NULL, 0};
    nb_model m;
    cr_assert_eq(nb__model_load_mem_ext(&m, buf, size, want, 3), NB_OK);
    nb_model_free(&m);
}

/* Every byte flipped (three ways), the checksum fixed: refused or loaded, never a crash;
   inside the checkpoint payloads, refused as corrupt or loaded. */
static void flips(ck_optim k, bool validation)
{
    trained t;
    train(&t, k, validation, 2);
    void *buf;
    size_t size;
    save(&t, "flip", &buf, &size);
    nb__section want[3];
    payloads(buf, size, want);
    uint8_t *copy = malloc(size);
    cr_assert_not_null(copy);
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    size_t loaded = 0, refused = 0;
    for (size_t i = 0; i + 4 < size; i++)
        for (size_t j = 0; j < sizeof masks; j++) {
            memcpy(copy, buf, size);
            copy[i] ^= masks[j];
            fix_crc(copy, size);
            nb_status st = load_checked(copy, size);
            bool in_payload = false;
            for (int s = 0; s < 3; s++) {
                size_t off = (size_t)(want[s].data - (const uint8_t *)buf);
                in_payload |= i >= off && i < off + want[s].size;
            }
            if (in_payload)
                cr_assert(st == NB_OK || st == NB_ERR_CORRUPT, "byte %zu ^ %02x: %s", i,
                          masks[j], nb_status_str(st));
            st == NB_OK ? loaded++ : refused++;
        }
    cr_assert_gt(refused, 0);
    cr_assert_gt(loaded, 0); /* a parameter's bits, a state value, the note's text */
    free(copy);
    free(buf);
    untrain(&t);
}

Test(api, flipped_bytes_adam) { flips(CK_ADAM, true); }
Test(api, flipped_bytes_plain) { flips(CK_PLAIN, false); }
Test(api, flipped_bytes_rmsprop) { flips(CK_RMSPROP, true); }

/* ---- forged payloads: one rule each ---- */

typedef struct forge {
    int section;    /* 0: 16, 1: 17 */
    size_t off;     /* byte offset in the payload */
    int kind;       /* 0 u32, 1 u64, 2 f64, 3 f32, 4 add one byte at the end, 5 drop 4 bytes */
    uint64_t u;
    double f;
    const char *what;
} forge;

/* Re-saves the checkpoint's model with the two payloads, one of them forged. */
static nb_status forged(const trained *t, const void *buf, size_t size, const forge *f)
{
    nb__section want[3];
    payloads(buf, size, want);
    uint8_t *p[2];
    size_t n[2];
    for (int s = 0; s < 2; s++) {
        n[s] = want[s].size;
        p[s] = malloc(n[s] + 1);
        cr_assert_not_null(p[s]);
        memcpy(p[s], want[s].data, n[s]);
    }
    uint8_t *q = p[f->section];
    switch (f->kind) {
    case 0: nb__le_put_u32(q + f->off, (uint32_t)f->u); break;
    case 1: nb__le_put_u64(q + f->off, f->u); break;
    case 2: nb__le_put_f64(q + f->off, f->f); break;
    case 3: nb__le_put_f32(q + f->off, (float)f->f); break;
    case 4: q[n[f->section]++] = 0; break;
    default: n[f->section] -= 4; break;
    }
    nb__section s[2] = {{NB__TAG_OPTIM_STATE, 0, p[0], n[0]},
                        {NB__TAG_TRAIN_POSITION, 0, p[1], n[1]}};
    void *out;
    size_t out_size;
    cr_assert_eq(nb__model_save_mem_ext(&out, &out_size, &t->m, s, 2), NB_OK);
    nb_status st = load_checked(out, out_size);
    free(out);
    free(p[0]);
    free(p[1]);
    return st;
}

static uint64_t u64_at(const void *buf, size_t size, int section, size_t off)
{
    nb__section want[3];
    payloads(buf, size, want);
    return nb__le_get_u64(want[section].data + off);
}

Test(api, forged_payloads_are_corrupt)
{
    trained t;
    train(&t, CK_SGD, true, 3); /* momentum: one state buffer; best parameters */
    void *buf;
    size_t size;
    save(&t, NULL, &buf, &size);
    uint64_t epochs = u64_at(buf, size, 1, 8), best = u64_at(buf, size, 1, 24);
    uint64_t params = nb_net_num_params(t.net);
    cr_assert_eq(epochs, 3);
    cr_assert_gt(best, 0, "the fixture needs a best epoch");
    const forge cases[] = {
        /* section 16 */
        {0, 0, 0, 2, 0, "16 payload version"},
        {0, 4, 0, 2, 0, "16 present flag"},
        {0, 8, 0, NB_OPTIM_KIND_COUNT, 0, "16 kind out of range"},
        {0, 12, 0, 8, 0, "16 unknown option flag"},
        {0, 12, 0, 2, 0, "16 amsgrad on SGD"},
        {0, 16, 2, 0, -1.0, "16 negative lr"},
        {0, 24, 2, 0, NAN, "16 NaN momentum"},
        {0, 24, 2, 0, 0.0, "16 momentum off: no buffer, options differ from 17's"},
        {0, 40, 2, 0, 0.5, "16 weight decay differs from 17's"},
        {0, 80, 1, UINT64_MAX, 0, "16 step count that would wrap"},
        {0, 88, 1, params + 1, 0, "16 parameter count"},
        {0, 96, 0, 2, 0, "16 buffer count"},
        {0, 100, 0, 1, 0, "16 reserved"},
        {0, 104, 3, 0, NAN, "16 NaN state"},
        {0, 104 + 4 * (params - 1), 3, 0, INFINITY, "16 infinite state"},
        {0, 0, 4, 0, 0, "16 trailing byte"},
        {0, 0, 5, 0, 0, "16 short"},
        /* section 17 */
        {1, 0, 0, 0, 0, "17 payload version"},
        {1, 4, 0, 64 | 2 | 4 | 8 | 16 | 32, 0, "17 unknown flag"},
        {1, 4, 0, 1 | 2 | 4 | 8 | 16 | 32, 0, "17 stopped: fine (a callback may stop a run)"},
        {1, 4, 0, 4 | 8 | 16 | 32, 0, "17 shuffle off: fine in itself"},
        {1, 4, 0, 2 | 8 | 16 | 32, 0, "17 without optimizer but 16 has one"},
        {1, 4, 0, 2 | 4 | 16 | 32, 0, "17 schedule flag off, block not zero"},
        {1, 4, 0, 2 | 4 | 8 | 32, 0, "17 best without restore_best"},
        {1, 4, 0, 2 | 4 | 8 | 16, 0, "17 restore_best with a best epoch but no best"},
        {1, 8, 1, epochs + 1, 0, "17 epochs without their steps"},
        {1, 16, 1, 3 * 7 + 1, 0, "17 steps not whole epochs"},
        {1, 24, 1, epochs + 1, 0, "17 best epoch after the epochs"},
        {1, 24, 1, 0, 0, "17 no best epoch but a best loss"},
        {1, 32, 2, 0, NAN, "17 best epoch without a loss"},
        {1, 40, 1, 5, 0, "17 bad epochs inconsistent"},
        {1, 48, 2, 0, NAN, "17 NaN last loss after epochs"},
        {1, 48, 2, 0, INFINITY, "17 infinite last loss"},
        {1, 56, 0, NB_LOSS_COUNT, 0, "17 loss out of range"},
        {1, 56, 0, NB_LOSS_SOFTMAX_CE, 0.0, "17 softmax CE is fine here (identity output)"},
        {1, 60, 3, 0, -1.0, "17 negative lr"},
        {1, 60, 3, 0, NAN, "17 NaN lr"},
        {1, 64, 1, 0, 0, "17 batch size 0"},
        {1, 80, 1, 0, 0, "17 rows 0"},
        {1, 80, 1, 113, 0, "17 rows: 8 batches an epoch, steps no longer whole epochs"},
        {1, 88, 1, 0, 0, "17 patience without validation rows"},
        {1, 104, 2, 0, -1.0, "17 negative clip norm"},
        {1, 104, 2, 0, NAN, "17 NaN clip norm"},
        {1, 112, 0, NB_OPTIM_ADAM, 0, "17 optimizer kind differs from 16's"},
        {1, 116, 0, 8, 0, "17 unknown optimizer flag"},
        {1, 120, 2, 0, -0.5, "17 negative optimizer lr"},
        {1, 128, 2, 0, 0.5, "17 momentum differs from 16's"},
        {1, 184, 0, NB_SCHED_KIND_COUNT, 0, "17 schedule kind"},
        {1, 188, 0, NB_ANNEAL_COUNT, 0, "17 anneal"},
        {1, 192, 0, 2, 0, "17 three_phase not a flag"},
        {1, 196, 0, 1, 0, "17 schedule reserved"},
        {1, 200, 2, 0, 0.125, "17 schedule base lr not the run's"},
        {1, 208, 1, 0, 0, "17 schedule total unresolved"},
        {1, 216, 1, 1000, 0, "17 warm-up longer than the schedule"},
        {1, 248, 2, 0, -1.0, "17 negative eta_min"},
        {1, 296, 0, 4, 0, "17 layer count"},
        {1, 300, 3, 0, 1.0, "17 dropout 1"},
        {1, 300, 3, 0, -0.25, "17 negative dropout"},
        {1, 300, 3, 0, NAN, "17 NaN dropout"},
        {1, 308, 3, 0, 0.5, "17 dropout on the output layer"},
        {1, 312, 3, 0, NAN, "17 NaN best parameter"},
        {1, 0, 4, 0, 0, "17 trailing byte"},
        {1, 0, 5, 0, 0, "17 short"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nb_status st = forged(&t, buf, size, &cases[i]);
        bool ok_expected = strstr(cases[i].what, "fine") != NULL;
        cr_expect_eq(st, ok_expected ? NB_OK : NB_ERR_CORRUPT, "%s: %s", cases[i].what,
                     nb_status_str(st));
    }
    /* a checkpoint missing one of its two sections; a note without them */
    nb__section want[3];
    payloads(buf, size, want);
    const uint8_t note[] = {'a', 0, 'b'};
    nb__section only16[1] = {want[0]}, only17[1] = {want[1]},
                note_only[1] = {{NB__TAG_NOTE, 0, note, 1}},
                nul_note[3] = {want[0], want[1], {NB__TAG_NOTE, 0, note, 3}};
    struct {
        nb__section *s;
        size_t n;
        nb_status want;
        const char *what;
    } partial[] = {{only16, 1, NB_ERR_CORRUPT, "16 alone"},
                   {only17, 1, NB_ERR_CORRUPT, "17 alone"},
                   {note_only, 1, NB_ERR_CORRUPT, "note alone"},
                   {nul_note, 3, NB_ERR_CORRUPT, "note with a NUL"}};
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++) {
        void *out;
        size_t out_size;
        cr_assert_eq(nb__model_save_mem_ext(&out, &out_size, &t.m, partial[i].s, partial[i].n),
                     NB_OK);
        cr_expect_eq(load_checked(out, out_size), partial[i].want, "%s", partial[i].what);
        /* the plain loader takes them all without counting them as skipped */
        nb_model m;
        cr_assert_eq(nb_model_load_mem(&m, out, out_size), NB_OK);
        cr_expect_eq(m.skipped_sections, 0);
        nb_model_free(&m);
        free(out);
    }
    free(buf);
    untrain(&t);
}

/* The fuzz corpus's checkpoint seeds (tests/checkpoint/make_fuzz_seeds.c) are checkpoints. */
Test(api, fuzz_seeds_are_checkpoints)
{
    static const char *const names[] = {"checkpoint_adam.nbm", "checkpoint_plain.nbm"};
    for (size_t i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/corpus/model/%s", NB_FUZZ_DIR, names[i]);
        nb_model m;
        nb_trainer *tr;
        char *note;
        cr_assert_eq(nb_checkpoint_load(&m, &tr, &note, path), NB_OK, "%s", path);
        cr_assert_eq(note != NULL, i == 0);
        nb_train_position p;
        cr_assert_eq(nb_trainer_position(tr, &p), NB_OK);
        cr_assert_eq(p.epochs_done, 2);
        cr_assert_eq(p.steps_done, 6);
        free(note);
        nb_trainer_free(tr);
        nb_model_free(&m);
    }
}

/* The model's own fields (input standardisation, column names) travel with the checkpoint as
   with nb_model_save. */
Test(api, model_fields_round_trip)
{
    trained t;
    train(&t, CK_ADAMW, false, 1);
    const float mean[CK_IN] = {0, 1, 2, 3, 4}, sd[CK_IN] = {1, 2, 3, 4, 5};
    cr_assert_eq(nb_norm_create(&t.m.norm, CK_IN, mean, sd), NB_OK);
    char *names[CK_IN] = {"a", "b", "c", "d", "e"};
    t.m.n_feature_names = CK_IN;
    t.m.feature_names = names;
    void *buf;
    size_t size;
    save(&t, NULL, &buf, &size);
    nb_model m;
    nb_trainer *tr;
    cr_assert_eq(nb_checkpoint_load_mem(&m, &tr, NULL, buf, size), NB_OK);
    cr_assert_not_null(m.norm);
    cr_assert(memcmp(nb_norm_std(m.norm), sd, sizeof sd) == 0);
    cr_assert_eq(m.n_feature_names, CK_IN);
    cr_assert_str_eq(m.feature_names[4], "e");
    cr_assert_eq(m.skipped_sections, 0);
    nb_trainer_free(tr);
    nb_model_free(&m);
    free(buf);
    nb_norm_free(t.m.norm);
    untrain(&t);
}
