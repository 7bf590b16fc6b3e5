/* nablas train --checkpoint / --resume: loading a checkpoint, proving it is this run's, and
   writing one.  The rules are in docs/cli.md, "Checkpoints and resume". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/mpi_cli.h"
#include "cli/train_ckpt.h"
#include "cli/train_fullbatch.h"
#include "cli/train_record.h"

int cli_ckpt_load(cli_ckpt *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    errno = 0;
    nb_status st = nb_checkpoint_load(&c->m, &c->tr, &c->note, path);
    int e = errno;
    if (st == NB_ERR_IO)
        return cli_error("train", "--resume %s: cannot read it: %s", path,
                         e ? strerror(e) : nb_status_str(st));
    if (st == NB_ERR_ARG)
        return cli_error("train", "--resume %s: a model without training state, not a "
                                  "checkpoint (nablas train --checkpoint FILE writes one)", path);
    if (st != NB_OK)
        return cli_error("train", "--resume %s: %s", path, nb_status_str(st));
    if (nb_trainer_position(c->tr, &c->pos) != NB_OK) {
        cli_ckpt_free(c);
        return cli_error("train", "--resume %s: the checkpoint's position cannot be read", path);
    }
    return CLI_OK;
}

void cli_ckpt_free(cli_ckpt *c)
{
    nb_trainer_free(c->tr); /* it borrows m.net */
    c->tr = NULL;
    nb_model_free(&c->m);
    free(c->note);
    c->note = NULL;
}

/* Schedules whose length is the run's: another --epochs would be another schedule. */
static bool length_matters(const cli_train_optim_t *to)
{
    nb_schedule_kind k = to->schedule.kind;
    return to->use_schedule && to->schedule.total_steps == 0 &&
           (k == NB_SCHED_COSINE || k == NB_SCHED_LINEAR || k == NB_SCHED_ONECYCLE);
}

/* The standardisation stored in the checkpoint is the one recomputed from the data, bit for
   bit (it is, when the data are: this catches a library that computes it otherwise). */
static int same_norm(const char *path, const char *what, const nb_norm *kept,
                     const nb_norm *now, char *const *names)
{
    size_t n = nb_norm_features(now);
    if (nb_norm_features(kept) != n)
        return cli_error("train", "--resume %s: the checkpoint's %s standardisation has %zu "
                                  "columns, the data's %zu", path, what, nb_norm_features(kept), n);
    const float *m0 = nb_norm_mean(kept), *m1 = nb_norm_mean(now);
    const float *s0 = nb_norm_std(kept), *s1 = nb_norm_std(now);
    for (size_t j = 0; j < n; j++) {
        if (memcmp(&m0[j], &m1[j], sizeof *m0) == 0 && memcmp(&s0[j], &s1[j], sizeof *s0) == 0)
            continue;
        char col[300];
        if (names)
            snprintf(col, sizeof col, "'%s'", names[j]);
        else
            snprintf(col, sizeof col, "%zu", j + 1);
        return cli_error("train", "--resume %s: the %s standardisation of column %s differs "
                                  "(checkpoint mean %.9g std %.9g, recomputed from the data "
                                  "mean %.9g std %.9g)", path, what, col, (double)m0[j],
                         (double)s0[j], (double)m1[j], (double)s1[j]);
    }
    return CLI_OK;
}

int cli_ckpt_check(const cli_ckpt *c, const char *now, size_t epochs,
                   const cli_train_optim_t *to, const nb_norm *norm, const nb_norm *tnorm,
                   const nb_dataset *d)
{
    int rc = cli_run_compare(c->note, now, c->path);
    if (rc != CLI_OK)
        return rc;
    unsigned long long done = (unsigned long long)c->pos.epochs_done;
    if ((unsigned long long)epochs < done)
        return cli_usage_error("train", "--resume: --epochs %zu is fewer than the %llu epochs "
                                        "the checkpoint has done (--epochs is the run's total)",
                               epochs, done);
    char *was = cli_run_value(c->note, "epochs");
    char nowv[32];
    snprintf(nowv, sizeof nowv, "%zu", epochs);
    if (was && strcmp(was, nowv) != 0 && length_matters(to))
        rc = cli_usage_error("train", "--resume: --epochs differs (checkpoint %s, now %zu): the "
                                      "%s schedule's length depends on it", was, epochs,
                             cli_schedule_name(to->schedule.kind));
    free(was);
    if (rc != CLI_OK)
        return rc;
    if (norm && (rc = same_norm(c->path, "feature", c->m.norm, norm, d->feature_names)) != CLI_OK)
        return rc;
    if (tnorm && (rc = same_norm(c->path, "target", c->m.target_norm, tnorm, d->target_names))
                     != CLI_OK)
        return rc;
    return cli_check_columns("train", c->path, &c->m, d);
}

int cli_ckpt_save(const nb_trainer *tr, const nb_model *m, const char *note, const char *path)
{
    errno = 0;
    nb_status st = nb_checkpoint_save(tr, m, note, path);
    int e = errno;
    if (st == NB_OK)
        return CLI_OK;
    if (st == NB_ERR_IO)
        return cli_error("train", "--checkpoint %s: cannot write it: %s; training stopped, no "
                                  "model written", path, e ? strerror(e) : nb_status_str(st));
    return cli_error("train", "--checkpoint %s: %s; training stopped, no model written", path,
                     nb_status_str(st));
}

/* --checkpoint / --resume need a trainer: a mini-batch optimizer (in one process or under
   mpirun). */
int cli_ckpt_usable(const cli_cmd *cmd, const char *optimizer)
{
    const char *which = cli_get(cmd, "resume") ? "--resume" : "--checkpoint";
    if (cli_fullbatch_is(optimizer))
        return cli_usage_error("train", "%s is for the mini-batch optimizers, not --optimizer %s",
                               which, optimizer);
    return CLI_OK;
}

/* The record of this run's options, the checkpoint's note (train_record.h). */
char *cli_ckpt_record(const cli_cmd *cmd, const nb_dataset *d, const nb_layer_spec *L,
                      size_t n_layers, nb_loss loss, size_t batch, size_t epochs,
                      size_t patience, double frac, size_t n_val, uint64_t seed,
                      const cli_train_optim_t *to)
{
    const char *topt = cli_get(cmd, "label-column")     ? "label-column"
                       : cli_get(cmd, "target-columns") ? "target-columns" : "targets";
    char *joined = NULL; /* the columns by name when the header names them */
    if (d->target_names && d->n_target_names && strcmp(topt, "targets") != 0)
        joined = cli_join_names(d->target_names, d->n_target_names);
    nb_precision prec = NB_PRECISION_FP32;
    if (cli_get(cmd, "precision"))
        nb_precision_parse(&prec, cli_get(cmd, "precision"));
    const char *tval = joined ? joined : cli_get(cmd, topt);
    if (!joined && strcmp(topt, "targets") == 0) /* by content (in --data's line), not path */
        tval = tval ? "from a .npy file" : NULL;
    cli_run_desc desc = {d, topt, tval, L, n_layers, loss,
                         batch, epochs, patience, n_val, frac, seed, to,
                         cli_flag(cmd, "standardize"), cli_flag(cmd, "standardize-targets"),
                         !cli_get(cmd, "epochs") && patience == 0, prec, nb_get_threads()};
    char *rec = cli_run_record(&desc);
    free(joined);
    return rec;
}
