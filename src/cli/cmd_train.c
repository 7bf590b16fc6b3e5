/* nablas train: read a table, build a network, train it with progress, save the model
   (atomically) and optionally the loss curve. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/layers.h"
#include "cli/memory.h"
#include "cli/mpi_cli.h"
#include "cli/plot.h"
#include "cli/progress.h"
#include "cli/train_ckpt.h"
#include "cli/train_fullbatch.h"
#include "cli/train_record.h"

/* --epochs at most this: a run that long is a typo (the history grows as epochs pass) */
#define CLI_MAX_EPOCHS ((size_t)1000000000)

static cli_opt opts[] = {
    CLI_DATA_OPTS,
    {"layers", "SPEC",
     "layers UNITS[:ACT[:DROPOUT]],...; e.g. 64:relu:0.2,32:relu,3 (hidden default relu, last "
     "identity; dropout in [0, 1), hidden layers only)", NULL},
    {"dropout", "P", "dropout probability for every hidden layer whose spec gives none "
     "(default 0; in [0, 1))", NULL},
    {"patience", "N", "early stopping: stop after N epochs without a lower validation loss and "
     "keep the best epoch's parameters (needs --validation)", NULL},
    {"loss", "NAME", "mse, bce or softmax-ce (default: softmax-ce for class labels, else mse)", NULL},
    {"epochs", "N", "passes over the training rows (default 20)", NULL},
    {"batch", "N", "rows per gradient step (default 32)", NULL},
    {"lr", "X", "learning rate (default 0.01; adam and adamw 0.001)", NULL},
    CLI_OPTIM_OPTS,
    {"seed", "N", "seed for initialisation, shuffling and the validation split (default 0)", NULL},
    {"validation", "FRACTION", "hold out this fraction of the rows, e.g. 0.2 (default 0)", NULL},
    {"standardize", NULL, "standardise every feature with the training rows' mean and std", NULL},
    {"standardize-targets", NULL, "regression: also standardise the targets (stored in the "
     "model; eval and predict answer in the targets' units)", NULL},
    {"out", "MODEL", "where to write the model (required)", NULL},
    {"plot", "FILE.svg", "also write the training/validation loss curves as an SVG image", NULL},
    {"checkpoint", "FILE", "after every epoch, save the run (model, optimizer state, position) "
     "to FILE, atomically", NULL},
    {"resume", "FILE", "continue the run a --checkpoint FILE saved, given the same data and "
     "options (--epochs is the run's total; with --checkpoint FILE it goes on saving)", NULL},
    CLI_FULLBATCH_OPTS,
    {"precision", "P", "fp32 or bf16: bf16 inputs, fp32 sums in the training products (default fp32)",
     NULL},
};

typedef struct run {
    nb_net *net;
    nb_loss loss;
    nb_tensor Xv, Tv;   /* validation rows (data NULL if none) */
    bool classify;
    double *train_loss, *val_loss; /* per epoch, grown as the epochs come (history_cap) */
    size_t history_cap, ran; /* ran: epochs recorded */
    bool no_memory;
    progress prog;
    bool diverged;
    /* --checkpoint: saved after every epoch from on_epoch */
    const char *ck_path;
    nb_trainer *tr;
    const nb_model *model; /* as the final save will write it */
    cli_note note;         /* the record of the options and the losses (train_record.h) */
    bool ck_failed;
    size_t stop_after;     /* tests only: NABLAS_TEST_STOP_AFTER (see stop_after_env) */
} run;

/* The loss history grows with the epochs run, so that a huge --epochs allocates nothing up
   front. */
static bool grow_history(run *r, size_t need)
{
    size_t cap = r->history_cap ? r->history_cap : 64;
    while (cap < need)
        cap *= 2;
    double *t = realloc(r->train_loss, cap * sizeof *t);
    if (t)
        r->train_loss = t;
    double *v = t ? realloc(r->val_loss, cap * sizeof *v) : NULL;
    if (v)
        r->val_loss = v;
    if (!t || !v)
        return false;
    r->history_cap = cap;
    return true;
}

static int on_epoch(const nb_epoch_info *info, void *user)
{
    run *r = user;
    double vl = -1, va = -1;
    if (info->epoch > r->history_cap && !grow_history(r, info->epoch)) {
        r->no_memory = true;
        return 1;
    }
    for (size_t e = r->ran; e + 1 < info->epoch; e++) /* before a resume: not known here */
        r->train_loss[e] = r->val_loss[e] = NAN;
    r->train_loss[info->epoch - 1] = info->loss;
    r->val_loss[info->epoch - 1] = -1;
    r->ran = info->epoch;
    if (r->Xv.data) {
        nb_eval ev;
        if (nb_net_evaluate(r->net, &r->Xv, &r->Tv, r->loss, &ev) == NB_OK) {
            vl = ev.loss;
            va = r->classify ? ev.accuracy : -1;
        }
        r->val_loss[info->epoch - 1] = vl;
    }
    progress_epoch(&r->prog, info->epoch, info->epochs, info->loss, vl, va);
    if (!isfinite(info->loss)) {
        r->diverged = true;
        return 1;
    }
    if (r->ck_path)
        cli_note_add(&r->note, info->epoch, info->loss, vl);
    /* under mpirun rank 0 writes, and every rank learns whether it could */
    if (r->ck_path && cli_mpi_any(cli_mpi_rank() == 0 &&
                                  cli_ckpt_save(r->tr, r->model, r->note.s, r->ck_path) != CLI_OK)) {
        r->ck_failed = true;
        return 1;
    }
    if (r->stop_after && info->epoch == r->stop_after) { /* a run killed after this epoch */
        fflush(NULL);
        raise(SIGKILL);
    }
    return 0;
}

/* NABLAS_TEST_STOP_AFTER=N (tests only, with --checkpoint): the process kills itself with
   SIGKILL right after the checkpoint of epoch N is written, as a run interrupted there would
   be; the tests then resume it.  0 or unset: off. */
static size_t stop_after_env(void)
{
    const char *v = getenv("NABLAS_TEST_STOP_AFTER");
    return v ? (size_t)strtoull(v, NULL, 10) : 0;
}

static bool parse_loss(const char *s, nb_loss *out)
{
    if (strcmp(s, "mse") == 0)
        *out = NB_LOSS_MSE;
    else if (strcmp(s, "bce") == 0)
        *out = NB_LOSS_BCE;
    else if (strcmp(s, "softmax-ce") == 0 || strcmp(s, "softmax_ce") == 0)
        *out = NB_LOSS_SOFTMAX_CE;
    else
        return false;
    return true;
}

static int write_plot(const char *path, const run *r, size_t epochs, const char *data_path)
{
    char title[256];
    snprintf(title, sizeof title, "nablas train on %s", data_path);
    size_t len;
    char *svg = plot_loss_svg(r->train_loss, r->Xv.data ? r->val_loss : NULL, epochs, title,
                              cli_loss_name(r->loss), &len);
    if (!svg) {
        cli_error("train", "the model was saved, but the loss curve could not be made: out of "
                           "memory");
        return CLI_PLOT_FAIL;
    }
    errno = 0;
    nb_status st = nb_write_file_atomic(path, svg, len);
    int e = errno;
    free(svg);
    if (st != NB_OK) {
        cli_error("train", "the model was saved, but the loss curve could not be written to "
                           "%s: %s", path, e ? strerror(e) : nb_status_str(st));
        return CLI_PLOT_FAIL;
    }
    return CLI_OK;
}

static int check_arch(const nb_dataset *d, const nb_layer_spec *L, size_t n, nb_loss loss)
{
    size_t outs = L[n - 1].units, targets = d->T.cols;
    if (outs != targets) {
        if (d->n_classes)
            return cli_usage_error("train", "the last layer has %zu outputs but the data have %zu "
                                            "classes: make it --layers ...,%zu", outs, targets, targets);
        return cli_usage_error("train", "the last layer has %zu outputs but the data have %zu "
                                        "target columns", outs, targets);
    }
    if (loss == NB_LOSS_SOFTMAX_CE && L[n - 1].act != NB_ACT_IDENTITY)
        return cli_usage_error("train", "--loss softmax-ce takes logits: the last layer's "
                                        "activation must be identity, not %s",
                               nb_act_name(L[n - 1].act));
    return CLI_OK;
}

/* The model as nb_model_save writes it: the network with its standardisation and names. */
static nb_model model_of(nb_net *net, nb_loss loss, nb_norm *norm, nb_norm *tnorm,
                         const nb_dataset *d)
{
    nb_model m = {.net = net, .loss = loss, .norm = norm, .n_classes = d->n_classes,
                  .class_names = d->class_names, .target_norm = tnorm};
    if (cli_names_storable(d->feature_names, d->n_features)) { /* the model remembers them */
        m.n_feature_names = d->n_features;
        m.feature_names = d->feature_names;
    }
    if (cli_names_storable(d->target_names, d->n_target_names)) {
        m.n_target_names = d->n_target_names;
        m.target_names = d->target_names;
    }
    return m;
}

static int train(cli_cmd *cmd, nb_dataset *d, nb_layer_spec *L, size_t n_layers, nb_loss loss)
{
    size_t epochs, batch;
    double frac;
    uint64_t seed;
    if (!cli_size_range(cmd, "epochs", 20, 1, CLI_MAX_EPOCHS, &epochs)
        || !cli_size(cmd, "batch", 32, 1, &batch)
        || !cli_u64(cmd, "seed", 0, &seed)
        || !cli_double(cmd, "validation", 0.0, 0.0, 0.9, &frac))
        return CLI_USAGE;
    size_t patience;
    if (!cli_size(cmd, "patience", 0, 1, &patience))
        return CLI_USAGE;
    if (patience > 0 && frac == 0.0)
        return cli_usage_error("train", "--patience needs a validation split (--validation)");
    if (patience > 0 && cli_fullbatch_is(cli_get(cmd, "optimizer")))
        return cli_usage_error("train", "--patience is for the mini-batch optimizers, not --optimizer %s",
                               cli_get(cmd, "optimizer"));
    cli_train_optim_t to; /* --optimizer, --lr, --schedule, --warmup, --clip-norm, ... */
    int rc = cli_train_optim(cmd, &to);
    if (rc != CLI_OK || (rc = check_arch(d, L, n_layers, loss)) != CLI_OK)
        return rc;
    const char *optimizer = cli_get(cmd, "optimizer");
    /* before anything of the network is allocated; each rank knows only its own memory */
    if ((rc = cli_mpi_agree("train", cli_check_memory(cmd, d->X.cols, L, n_layers,
                                                      cli_fullbatch_is(optimizer) || batch > d->X.rows
                                                          ? d->X.rows : batch,
                                                      to.use_optim ? &to.optim : NULL,
                                                      optimizer && !strcmp(optimizer, "lm"))))
        != CLI_OK)
        return rc;
    const char *ck_path = cli_get(cmd, "checkpoint"), *resume = cli_get(cmd, "resume");
    if ((ck_path || resume) && (rc = cli_ckpt_usable(cmd, optimizer)) != CLI_OK)
        return rc;
    cli_fb fb;
    if (cli_fullbatch_is(optimizer) && cli_mpi_size() > 1) /* the same answer on every rank */
        return cli_usage_error("train", "--optimizer %s runs in one process, not over MPI",
                               optimizer);
    if (cli_fullbatch_is(optimizer)
        && (rc = cli_fullbatch_parse(cmd, optimizer, epochs, loss, &fb)) != CLI_OK)
        return rc;
    size_t rows = d->X.rows, n_val = (size_t)llround(frac * (double)rows);
    if (frac > 0 && (n_val == 0 || n_val >= rows))
        return cli_usage_error("train", "--validation %g of %zu rows leaves no %s rows", frac,
                               rows, n_val == 0 ? "validation" : "training");
    char *record = NULL; /* the checkpoint's note */
    if (ck_path || resume) {
        record = cli_ckpt_record(cmd, d, L, n_layers, loss, batch, epochs, patience, frac, n_val,
                                 seed, &to);
        if (!record)
            return cli_error("train", "out of memory");
    }
    cli_ckpt ck; /* --resume: the run to continue */
    memset(&ck, 0, sizeof ck);
    if (resume) /* under mpirun every rank reads it; all go on or none */
        rc = cli_mpi_agree("train", cli_ckpt_load(&ck, resume));
    if (rc != CLI_OK) {
        cli_ckpt_free(&ck);
        free(record);
        return rc;
    }
    nb_tensor Xt = d->X, Tt = d->T, Xv = {0, 0, NULL}, Tv = {0, 0, NULL};
    bool owned = n_val > 0;
    if (owned && nb_split_rows(&Xt, &Tt, &Xv, &Tv, &d->X, &d->T, n_val, seed) != NB_OK) {
        cli_ckpt_free(&ck);
        free(record);
        return cli_error("train", "out of memory");
    }
    nb_norm *norm = NULL;
    run r = {NULL, loss, Xv, Tv, d->n_classes > 0 || loss != NB_LOSS_MSE, NULL, NULL, 0, 0,
             false, {0}, false, ck_path, NULL, NULL, {NULL, 0, false}, false, 0};
    nb_status st = NB_OK;
    if (ck_path && !cli_note_init(&r.note, record, ck.note, ck.pos.epochs_done))
        st = NB_ERR_NOMEM;
    if (st == NB_OK && cli_flag(cmd, "standardize")) {
        st = nb_norm_fit(&norm, &Xt);
        if (st == NB_OK)
            st = nb_norm_apply(norm, &Xt);
        if (st == NB_OK && Xv.data)
            st = nb_norm_apply(norm, &Xv);
    }
    nb_norm *tnorm = NULL;
    if (st == NB_OK && cli_flag(cmd, "standardize-targets")) {
        st = nb_norm_fit(&tnorm, &Tt);
        if (st == NB_OK)
            st = nb_norm_apply(tnorm, &Tt);
        if (st == NB_OK && Tv.data)
            st = nb_norm_apply(tnorm, &Tv);
        if (st == NB_OK)
            printf("targets standardised (mean and std stored in the model): losses below are in "
                   "standardised units\n");
    }
    if (st == NB_OK && resume) /* the checkpoint's network, standardisation and names */
        rc = cli_ckpt_check(&ck, record, epochs, &to, norm, tnorm, d);
    nb_trainer *tr = NULL;
    if (st == NB_OK && rc == CLI_OK && resume) {
        r.net = ck.m.net;
        tr = ck.tr;
    } else if (st == NB_OK && rc == CLI_OK) {
        st = nb_net_create(&r.net, Xt.cols, L, n_layers, seed);
        /* a trainer that --checkpoint can save (also under mpirun) */
        if (st == NB_OK && !cli_fullbatch_is(optimizer))
            st = nb_trainer_create(&tr, r.net);
    }
    nb_precision prec = NB_PRECISION_FP32; /* the name was checked in cmd_train */
    nb_status pst = NB_OK;
    if (st == NB_OK && rc == CLI_OK && cli_get(cmd, "precision")
        && nb_precision_parse(&prec, cli_get(cmd, "precision")) == NB_OK
        && (pst = nb_net_set_precision(r.net, prec)) != NB_OK)
        rc = cli_error("train", "--precision %s: %s", nb_precision_name(prec), nb_status_str(pst));
    nb_model m = model_of(r.net, loss, norm, tnorm, d);
    if (resume) { /* what the checkpoint holds (the checks above found it equal) */
        m = ck.m;
        m.net = r.net;
    }
    r.tr = tr;
    r.model = &m;
    if (cli_mpi_active()) { /* under mpirun every rank trains, or none: a failure above on one
                               rank must not leave the others in the training's collectives */
        int mine = rc != CLI_OK ? rc : st != NB_OK ? cli_error("train", "%s", nb_status_str(st))
                                                   : CLI_OK;
        if ((rc = cli_mpi_agree("train", mine)) != CLI_OK)
            goto done; /* every rank: said above, no model */
    }
    if (st == NB_OK && rc == CLI_OK) {
        nb_train_opts o = nb_train_opts_default();
        o.loss = loss;
        o.batch_size = batch;
        o.epochs = epochs;
        o.lr = (float)to.optim.lr;
        o.optim = to.use_optim ? &to.optim : NULL;
        o.schedule = to.use_schedule ? &to.schedule : NULL;
        o.clip_norm = to.clip_norm;
        o.seed = seed;
        o.on_epoch = on_epoch;
        o.user = &r;
        o.resume = resume != NULL;
        if (patience > 0) { /* early stopping on the validation rows, best epoch kept */
            o.X_val = &Xv;
            o.T_val = &Tv;
            o.patience = patience;
            o.restore_best = true;
        }
        if (ck_path)
            r.stop_after = stop_after_env();
        nb_train_report rep = {0, 0, NAN, false, 0, NAN, false};
        printf("training %zu-%s network on %zu rows (%zu for validation), %zu parameters\n",
               Xt.cols, cli_get(cmd, "layers"), Xt.rows, n_val, nb_net_num_params(r.net));
        if (o.optim || o.schedule || o.clip_norm > 0.0)
            printf("optimizer %s, lr %g, schedule %s%s, %s\n",
                   cli_get(cmd, "optimizer") ? cli_get(cmd, "optimizer") : "sgd", to.optim.lr,
                   cli_get(cmd, "schedule") ? cli_get(cmd, "schedule") : "constant",
                   to.schedule.warmup_steps ? " after a linear warm-up" : "",
                   o.clip_norm > 0.0 ? "gradient norm clipped" : "no clipping");
        size_t done = (size_t)ck.pos.epochs_done;
        if (resume) {
            printf("resuming %s: %zu of %zu epochs done (%llu steps)\n", resume, done, epochs,
                   (unsigned long long)ck.pos.steps_done);
            int was = cli_run_threads(ck.note), now = nb_get_threads();
            if (was > 0 && was != now)
                printf("note: the checkpoint was written with %d threads, this run has %d: the "
                       "result may differ from an uninterrupted run's in the last bits\n", was,
                       now);
            if (ck.pos.stopped && cli_mpi_rank() == 0)
                fprintf(stderr, "nablas train: --resume %s: early stopping ended this run after "
                                "epoch %zu: nothing to train; --out gets its final model\n",
                        resume, done);
            else if (done == epochs && cli_mpi_rank() == 0)
                fprintf(stderr, "nablas train: --resume %s: all %zu epochs are done: nothing to "
                                "train; --out gets its final model\n", resume, done);
            if (done > 0 && !grow_history(&r, done))
                r.no_memory = true;
            for (size_t e = 0; !r.no_memory && e < done; e++) /* unknown unless in the note */
                r.train_loss[e] = r.val_loss[e] = NAN;
            if (!r.no_memory)
                cli_note_losses(ck.note, done, r.train_loss, r.val_loss);
            r.ran = r.no_memory ? 0 : done;
        }
        progress_begin(&r.prog, stdout, Xt.rows);
        r.prog.epoch0 = done;
        if (cli_mpi_active())
            r.prog.tty = false; /* mpirun hands rank 0 a pty whatever the final output is */
        if (r.no_memory) {
            st = NB_ERR_NOMEM;
        } else if (cli_fullbatch_is(optimizer)) {
            if (cli_get(cmd, "batch"))
                printf("note: --batch is ignored: --optimizer %s trains on the full batch\n",
                       optimizer);
            st = cli_fullbatch_train(&fb, r.net, &Xt, &Tt, Xv.data ? &Xv : NULL, &Tv, on_epoch, &r);
        } else {
            st = cli_mpi_trainer_run(tr, &Xt, &Tt, &o, &rep); /* over all ranks under mpirun */
        }
        progress_end(&r.prog);
        if (st == NB_OK && patience > 0)
            printf("early stopping: %s after epoch %zu; best epoch %zu (validation loss %.6g), "
                   "its parameters kept\n", rep.stopped_early ? "stopped" : "ran to the end",
                   rep.epochs_run, rep.best_epoch, rep.best_val_loss);
        if (st == NB_ERR_NONFINITE) { /* the library stopped before a non-finite update */
            r.diverged = true;
            st = NB_OK;
        }
    }
    if (r.ck_failed)
        rc = CLI_FAIL; /* said in on_epoch */
    else if (r.no_memory)
        rc = cli_error("train", "out of memory for the loss history; no model written");
    else if (st != NB_OK && resume && st == NB_ERR_ARG)
        rc = cli_usage_error("train", "--resume %s: the run recorded in the checkpoint has "
                                      "other options than this one", resume);
    else if (st != NB_OK)
        rc = cli_error("train", "%s", nb_status_str(st));
    else if (r.diverged)
        rc = cli_error("train", "training diverged (the loss is not finite); try a smaller --lr "
                                "or --standardize; no model written");
    if (rc == CLI_OK && cli_mpi_rank() == 0) { /* under mpirun, rank 0 writes */
        const char *out = cli_get(cmd, "out");
        errno = 0;
        st = nb_model_save(&m, out);
        if (st == NB_ERR_NONFINITE)
            rc = cli_error("train", "the trained parameters are not all finite (NaN or "
                                    "infinity); no model written");
        else if (st == NB_ERR_IO)
            rc = cli_error("train", "cannot write %s: %s", out,
                           errno ? strerror(errno) : nb_status_str(st));
        else if (st != NB_OK)
            rc = cli_error("train", "cannot write %s: %s", out, nb_status_str(st));
        else
            printf("model saved to %s\n", out);
    }
    const char *plot = cli_get(cmd, "plot");
    if (rc == CLI_OK && cli_mpi_rank() == 0 && plot &&
        (rc = write_plot(plot, &r, r.ran, cli_get(cmd, "data"))) == CLI_OK)
        printf("loss curve saved to %s\n", plot);
    rc = cli_mpi_agree("train", rc); /* every rank exits as rank 0 wrote */
done:
    free(r.train_loss);
    free(r.val_loss);
    if (resume) {
        cli_ckpt_free(&ck); /* the trainer, then the network it borrowed */
    } else {
        nb_trainer_free(tr);
        nb_net_free(r.net);
    }
    free(record);
    cli_note_free(&r.note);
    nb_norm_free(norm);
    nb_norm_free(tnorm);
    if (owned) {
        nb_tensor_free(&Xt);
        nb_tensor_free(&Tt);
        nb_tensor_free(&Xv);
        nb_tensor_free(&Tv);
    }
    return rc;
}

static int train_cmd(int argc, char **argv);

int cmd_train(int argc, char **argv)
{
    if (!cli_mpi_begin(&argc, &argv))
        return cli_error("train", "MPI failed to start");
    int rc = cli_mpi_join("train", train_cmd(argc, argv)); /* every rank, however it ended */
    cli_mpi_end();
    return rc;
}

static int train_cmd(int argc, char **argv)
{
    cli_cmd cmd = {"train", "--data FILE (--label-column C | --target-columns LIST | --targets "
                   "T.npy) --layers SPEC --out MODEL [options]",
                   "Trains a network of dense layers on a table and saves it as a model file.\n"
                   "Classification: --label-column names the column of class labels; the last "
                   "layer needs one\noutput per class. Regression: --target-columns lists the "
                   "target columns. Every other column\nis a feature. Progress goes to stdout."
                   CLI_MPI_HELP,
                   opts, sizeof opts / sizeof *opts, NULL, NULL};
    bool help;
    int rc = cli_parse(&cmd, argc, argv, &help);
    if (rc != CLI_OK || help)
        return rc;
    const char *spec = cli_get(&cmd, "layers"), *out = cli_get(&cmd, "out");
    if (!spec)
        return cli_usage_error("train", "--layers SPEC is required, e.g. --layers 64:relu,3");
    if (!out)
        return cli_usage_error("train", "--out MODEL is required");
    const char *inputs[] = {cli_get(&cmd, "data"), cli_get(&cmd, "targets"),
                            cli_get(&cmd, "resume")};
    cli_output outs[] = {{"out", out}, {"plot", cli_get(&cmd, "plot")},
                         {"checkpoint", cli_get(&cmd, "checkpoint")}};
    /* --checkpoint may be the --resume file (the run goes on saving where it was saved);
       --out and --plot may not */
    if ((rc = cli_check_outputs("train", outs, 3, inputs, 2)) != CLI_OK ||
        (rc = cli_check_outputs("train", outs, 2, inputs, 3)) != CLI_OK)
        return rc;
    nb_loss loss = NB_LOSS_MSE; /* the default depends on the data: see below */
    const char *ls = cli_get(&cmd, "loss");
    if (ls && !parse_loss(ls, &loss))
        return cli_usage_error("train", "--loss: unknown loss '%s' (mse, bce, softmax-ce)", ls);
    nb_precision prec;
    const char *ps = cli_get(&cmd, "precision");
    if (ps && nb_precision_parse(&prec, ps) != NB_OK)
        return cli_usage_error("train", "--precision: unknown precision '%s' (fp32, bf16)", ps);
    nb_layer_spec *L;
    size_t n_layers;
    char why[200];
    if (!cli_parse_layers(spec, &L, &n_layers, why, sizeof why))
        return cli_usage_error("train", "--layers: %s", why);
    double drop = 0.0;
    bool drop_ok = cli_double(&cmd, "dropout", 0.0, 0.0, 1.0, &drop);
    if (drop_ok && drop >= 1.0)
        drop_ok = cli_usage_error("train", "--dropout must be at least 0 and below 1") == CLI_OK;
    else if (drop_ok && (float)drop >= 1.0f) /* the check above passed in double */
        drop_ok = cli_usage_error("train", "--dropout %s rounds to 1 in single precision: give "
                                           "at most 0.9999999", cli_get(&cmd, "dropout")) == CLI_OK;
    if (!drop_ok) {
        free(L);
        return CLI_USAGE;
    }
    for (size_t l = 0; l + 1 < n_layers; l++) /* hidden layers the spec left without dropout */
        if (L[l].dropout == 0.0f)
            L[l].dropout = (float)drop;
    cli_data_req req = {true, L[n_layers - 1].units, NULL, 0, NULL};
    nb_dataset d;
    rc = cli_load_data(&cmd, &req, &d);
    const char *label = cli_get(&cmd, "label-column");
    if (rc == CLI_OK && label && d.n_classes > 0)
        rc = cli_check_label_column("train", label, &d);
    rc = cli_mpi_agree("train", rc); /* a rank that cannot read the data stops all */
    if (rc == CLI_OK && !ls && d.n_classes > 0)
        loss = NB_LOSS_SOFTMAX_CE; /* classes: softmax cross-entropy unless told otherwise */
    if (rc == CLI_OK && cli_flag(&cmd, "standardize-targets") && (d.n_classes || loss != NB_LOSS_MSE))
        rc = cli_usage_error("train", "--standardize-targets is for regression targets "
                                      "(--target-columns with --loss mse)");
    if (rc == CLI_OK)
        rc = train(&cmd, &d, L, n_layers, loss);
    nb_dataset_free(&d);
    free(L);
    return rc;
}
