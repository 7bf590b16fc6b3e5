/* Exact resume: for every optimizer (with shuffling, a warm-up + cosine schedule, dropout,
   clipping, a last partial batch; with and without patience + restore_best on validation
   rows), training N + M epochs in one go gives bit-identical parameters, reports and
   positions to training with epochs = N + M stopped after N by the callback (which saves the
   checkpoint to memory, as the CLI does), loaded into a fresh model and trainer and run with
   resume = true.  Also: a trainer whose position says stopped (the callback's stop) runs no
   epoch when resumed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_common.h"

enum { TOTAL = 7 };

typedef struct saver {
    nb_trainer *tr;
    nb_model *m;
    size_t stop_at; /* the callback stops training after this epoch */
    void *buf;      /* the checkpoint of the last epoch it saw, up to stop_at */
    size_t size;
    size_t calls;
} saver;

static int save_cb(const nb_epoch_info *info, void *user)
{
    saver *s = user;
    s->calls++;
    if (info->epoch > s->stop_at)
        return 1;
    free(s->buf);
    s->buf = NULL;
    if (nb_checkpoint_save_mem(&s->buf, &s->size, s->tr, s->m, "resume test") != NB_OK)
        return 2;
    return info->epoch == s->stop_at;
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void same_report(const nb_train_report *a, const nb_train_report *b, const char *what)
{
    cr_expect_eq(a->epochs_run, b->epochs_run, "%s: epochs_run %zu vs %zu", what, a->epochs_run,
                 b->epochs_run);
    cr_expect_eq(a->steps, b->steps, "%s: steps %zu vs %zu", what, a->steps, b->steps);
    cr_expect(same_double(a->last_loss, b->last_loss), "%s: last_loss %.9g vs %.9g", what,
              a->last_loss, b->last_loss);
    cr_expect_eq(a->stopped_early, b->stopped_early, "%s: stopped_early", what);
    cr_expect_eq(a->best_epoch, b->best_epoch, "%s: best_epoch", what);
    cr_expect(same_double(a->best_val_loss, b->best_val_loss), "%s: best_val_loss", what);
    cr_expect_eq(a->restored, b->restored, "%s: restored", what);
}

static void same_position(const nb_trainer *a, const nb_trainer *b, const char *what)
{
    nb_train_position p, q;
    cr_assert_eq(nb_trainer_position(a, &p), NB_OK);
    cr_assert_eq(nb_trainer_position(b, &q), NB_OK);
    cr_expect_eq(p.epochs_done, q.epochs_done, "%s: epochs_done", what);
    cr_expect_eq(p.steps_done, q.steps_done, "%s: steps_done", what);
    cr_expect_eq(p.best_epoch, q.best_epoch, "%s: best_epoch", what);
    cr_expect(same_double(p.best_val_loss, q.best_val_loss), "%s: best_val_loss", what);
    cr_expect_eq(p.bad_epochs, q.bad_epochs, "%s: bad_epochs", what);
    cr_expect_eq(p.stopped, q.stopped, "%s: stopped", what);
}

static void same_params(nb_net *a, nb_net *b, const char *what)
{
    size_t n = nb_net_num_params(a);
    cr_assert_eq(n, nb_net_num_params(b));
    cr_expect(memcmp(nb_net_params(a), nb_net_params(b), n * sizeof(float)) == 0,
              "%s: parameters differ", what);
}

/* One case: the run in one go, then the interrupted run resumed from its checkpoint. */
static void resume_case(ck_optim k, bool validation, size_t patience, size_t split)
{
    char what[96];
    snprintf(what, sizeof what, "%s%s patience %zu split %zu", ck_name(k),
             validation ? "+val" : "", patience, split);
    ck_run r;
    ck_opts(&r, k, validation, TOTAL);
    r.o.patience = patience;

    nb_net *net_a = ck_net();
    nb_trainer *tr_a;
    cr_assert_eq(nb_trainer_create(&tr_a, net_a), NB_OK);
    nb_train_report ra;
    cr_assert_eq(nb_trainer_run(tr_a, &ck_X, &ck_T, &r.o, &ra), NB_OK, "%s", what);
    if (validation) { /* the fixture's validation rows make both features act (ckpt_common.c) */
        cr_assert(ra.restored && ra.best_epoch < ra.epochs_run, "%s: best epoch %zu of %zu",
                  what, ra.best_epoch, ra.epochs_run);
        cr_assert_eq(ra.stopped_early, patience > 0, "%s: stopped early", what);
    }

    nb_net *net_b = ck_net();
    nb_trainer *tr_b;
    cr_assert_eq(nb_trainer_create(&tr_b, net_b), NB_OK);
    nb_model mb;
    memset(&mb, 0, sizeof mb);
    mb.net = net_b;
    mb.loss = r.o.loss;
    saver s = {tr_b, &mb, split, NULL, 0, 0};
    ck_run rb = r;
    ck_fix(&rb);
    rb.o.on_epoch = save_cb;
    rb.o.user = &s;
    nb_train_report rep_b;
    cr_assert_eq(nb_trainer_run(tr_b, &ck_X, &ck_T, &rb.o, &rep_b), NB_OK, "%s", what);
    cr_assert_not_null(s.buf, "%s: no checkpoint saved", what);

    nb_model mc;
    nb_trainer *tr_c;
    char *note;
    cr_assert_eq(nb_checkpoint_load_mem(&mc, &tr_c, &note, s.buf, s.size), NB_OK, "%s", what);
    cr_expect_str_eq(note, "resume test");
    free(note);
    ck_run rc = r;
    ck_fix(&rc);
    rc.o.resume = true;
    nb_train_report rep_c;
    cr_assert_eq(nb_trainer_run(tr_c, &ck_X, &ck_T, &rc.o, &rep_c), NB_OK, "%s", what);
    same_params(net_a, mc.net, what);
    same_report(&ra, &rep_c, what);
    same_position(tr_a, tr_c, what);

    /* the interrupted trainer's own position says the callback stopped it: resuming it runs
       no epoch (patience may have stopped it before the callback could) */
    nb_train_position pb;
    cr_assert_eq(nb_trainer_position(tr_b, &pb), NB_OK);
    cr_expect_eq(pb.stopped, pb.epochs_done < TOTAL, "%s", what);
    float *before = malloc(nb_net_num_params(net_b) * sizeof(float));
    cr_assert_not_null(before);
    memcpy(before, nb_net_params(net_b), nb_net_num_params(net_b) * sizeof(float));
    rb.o.on_epoch = NULL;
    rb.o.resume = true;
    nb_train_report rep_b2;
    cr_assert_eq(nb_trainer_run(tr_b, &ck_X, &ck_T, &rb.o, &rep_b2), NB_OK, "%s", what);
    cr_expect_eq(rep_b2.epochs_run, pb.epochs_done, "%s", what);
    cr_expect_eq(rep_b2.steps, pb.steps_done, "%s", what);
    cr_expect_eq(rep_b2.stopped_early, pb.stopped, "%s", what);
    if (!validation) /* nothing ran, nothing to restore */
        cr_expect(memcmp(before, nb_net_params(net_b), nb_net_num_params(net_b) * sizeof(float))
                  == 0, "%s", what);
    free(before);

    free(s.buf);
    nb_trainer_free(tr_c);
    nb_model_free(&mc);
    nb_trainer_free(tr_b);
    nb_net_free(net_b);
    nb_trainer_free(tr_a);
    nb_net_free(net_a);
}

static void each_split(ck_optim k, bool validation)
{
    ck_data();
    /* splits 1, 4, 7 (nothing left to run); with validation rows, patience 2 (runs stop at
       epoch 3 to 6, some before the split: their checkpoint says stopped) and 0 (to the end,
       then restore_best goes back to an epoch before the split) */
    for (size_t patience = 0; patience <= (validation ? 2u : 0u); patience += 2)
        for (size_t split = 1; split <= TOTAL; split += 3)
            resume_case(k, validation, validation ? patience : 0, split);
}

Test(resume, plain_fused) { each_split(CK_PLAIN, false); }
Test(resume, plain_fused_validation) { each_split(CK_PLAIN, true); }
Test(resume, plain_clip) { each_split(CK_PLAIN_CLIP, false); }
Test(resume, plain_clip_validation) { each_split(CK_PLAIN_CLIP, true); }
Test(resume, sgd_momentum_nesterov_wd) { each_split(CK_SGD, false); }
Test(resume, sgd_validation) { each_split(CK_SGD, true); }
Test(resume, adam_amsgrad) { each_split(CK_ADAM, false); }
Test(resume, adam_validation) { each_split(CK_ADAM, true); }
Test(resume, adamw) { each_split(CK_ADAMW, false); }
Test(resume, adamw_validation) { each_split(CK_ADAMW, true); }
Test(resume, rmsprop_centered_momentum) { each_split(CK_RMSPROP, false); }
Test(resume, rmsprop_validation) { each_split(CK_RMSPROP, true); }

/* The position the callback sees is that of the epoch just completed, in global numbers also
   in a resumed run; patience is decided before the callback. */
typedef struct watch {
    nb_trainer *tr;
    size_t calls, bad;
} watch;

static int watch_cb(const nb_epoch_info *info, void *user)
{
    watch *w = user;
    nb_train_position p;
    w->calls++;
    if (nb_trainer_position(w->tr, &p) != NB_OK || p.epochs_done != info->epoch
        || p.steps_done != info->steps || p.steps_done != 7 * info->epoch
        || p.best_epoch > p.epochs_done || p.bad_epochs != p.epochs_done - p.best_epoch
        || p.stopped != (p.bad_epochs >= 2))
        w->bad++;
    return 0;
}

Test(resume, position_before_each_callback)
{
    ck_data();
    ck_run r;
    ck_opts(&r, CK_ADAM, true, TOTAL);
    nb_net *net = ck_net();
    nb_trainer *tr;
    cr_assert_eq(nb_trainer_create(&tr, net), NB_OK);
    watch w = {tr, 0, 0};
    r.o.on_epoch = watch_cb;
    r.o.user = &w;
    r.o.epochs = 2;
    r.sched.total_steps = 7 * TOTAL;
    nb_train_report rep;
    cr_assert_eq(nb_trainer_run(tr, &ck_X, &ck_T, &r.o, &rep), NB_OK);
    cr_assert_eq(w.calls, 2);
    r.o.resume = true;
    r.o.epochs = TOTAL;
    cr_assert_eq(nb_trainer_run(tr, &ck_X, &ck_T, &r.o, &rep), NB_OK);
    cr_assert_eq(w.calls, rep.epochs_run, "one call per epoch, numbered globally");
    cr_assert(rep.stopped_early && rep.epochs_run > 2 && rep.epochs_run < TOTAL);
    cr_assert_eq(w.bad, 0);
    nb_train_position p;
    cr_assert_eq(nb_trainer_position(tr, &p), NB_OK);
    cr_assert(p.stopped && p.epochs_done == rep.epochs_run && p.steps_done == rep.steps);
    nb_trainer_free(tr);
    nb_net_free(net);
}
