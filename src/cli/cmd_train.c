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
    bool own_val;       /* the full-batch trainers: no validation figures in the epoch info */
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
        nb_eval ev = {info->val_loss, info->val_accuracy, r->Xv.rows};
        /* the mini-batch trainer evaluated them for this epoch's information */
        bool ok = !r->own_val || nb_net_evaluate(r->net, &r->Xv, &r->Tv, r->loss, &ev) == NB_OK;
        if (ok) {
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

/* Everything one `nablas train` holds from setup to finish (zeros: nothing yet). */
typedef struct job {
    cli_cmd *cmd;
    nb_dataset *d;
    const nb_layer_spec *L;
    size_t n_layers;
    nb_loss loss;
    size_t epochs, batch, patience, n_val;
    uint64_t seed;
    double frac;
    cli_train_optim_t to; /* --optimizer, --lr, --schedule, --warmup, --clip-norm, ... */
    cli_fb fb;            /* --optimizer lm|lbfgs */
    const char *optimizer, *ck_path, *resume;
    char *record;         /* the checkpoint's note */
    cli_ckpt ck;          /* --resume: the run to continue */
    nb_tensor Xt, Tt, Xv, Tv;
    bool owned;           /* the split made Xt..Tv */
    nb_norm *norm, *tnorm;
    nb_trainer *tr;
    nb_model m;           /* as the final save writes it */
    run r;
    nb_status st;
} job;

/* The numbers and choices of the options; CLI_USAGE (said) when one is wrong. */
static int read_options(job *j)
{
    cli_cmd *cmd = j->cmd;
    if (!cli_size_range(cmd, "epochs", 20, 1, CLI_MAX_EPOCHS, &j->epochs)
        || !cli_size(cmd, "batch", 32, 1, &j->batch)
        || !cli_u64(cmd, "seed", 0, &j->seed)
        || !cli_double(cmd, "validation", 0.0, 0.0, 0.9, &j->frac)
        || !cli_size(cmd, "patience", 0, 1, &j->patience))
        return CLI_USAGE;
    j->optimizer = cli_get(cmd, "optimizer");
    if (j->patience > 0 && j->frac == 0.0)
        return cli_usage_error("train", "--patience needs a validation split (--validation)");
    if (j->patience > 0 && cli_fullbatch_is(j->optimizer))
        return cli_usage_error("train", "--patience is for the mini-batch optimizers, not --optimizer %s",
                               j->optimizer);
    int rc = cli_train_optim(cmd, &j->to);
    if (rc != CLI_OK || (rc = check_arch(j->d, j->L, j->n_layers, j->loss)) != CLI_OK)
        return rc;
    /* before anything of the network is allocated; each rank knows only its own memory */
    size_t mem_batch = cli_fullbatch_is(j->optimizer) || j->batch > j->d->X.rows ? j->d->X.rows
                                                                                  : j->batch;
    if ((rc = cli_mpi_agree("train", cli_check_memory(cmd, j->d->X.cols, j->L, j->n_layers,
                                                      mem_batch,
                                                      j->to.use_optim ? &j->to.optim : NULL,
                                                      j->optimizer && !strcmp(j->optimizer, "lm"))))
        != CLI_OK)
        return rc;
    j->ck_path = cli_get(cmd, "checkpoint");
    j->resume = cli_get(cmd, "resume");
    if ((j->ck_path || j->resume) && (rc = cli_ckpt_usable(cmd, j->optimizer)) != CLI_OK)
        return rc;
    if (cli_fullbatch_is(j->optimizer) && cli_mpi_size() > 1) /* the same answer on every rank */
        return cli_usage_error("train", "--optimizer %s runs in one process, not over MPI",
                               j->optimizer);
    if (cli_fullbatch_is(j->optimizer)
        && (rc = cli_fullbatch_parse(cmd, j->optimizer, j->epochs, j->loss, &j->fb)) != CLI_OK)
        return rc;
    size_t rows = j->d->X.rows;
    j->n_val = (size_t)llround(j->frac * (double)rows);
    if (j->frac > 0 && (j->n_val == 0 || j->n_val >= rows))
        return cli_usage_error("train", "--validation %g of %zu rows leaves no %s rows", j->frac,
                               rows, j->n_val == 0 ? "validation" : "training");
    return CLI_OK;
}

/* The checkpoint's record, the run to resume, the validation split; an error is said. */
static int load_inputs(job *j)
{
    int rc = CLI_OK;
    if (j->ck_path || j->resume || cli_mpi_active()) { /* under mpirun: compared with rank 0's */
        j->record = cli_ckpt_record(j->cmd, j->d, j->L, j->n_layers, j->loss, j->batch,
                                    j->epochs, j->patience, j->frac, j->n_val, j->seed, &j->to);
        /* every rank: the same data and options, or none trains */
        if ((rc = cli_mpi_same_run("train", j->record, j->ck_path, j->resume)) != CLI_OK)
            return rc;
        if (!j->record)
            return cli_error("train", "out of memory");
    }
    if (j->resume) /* under mpirun every rank reads it; all go on or none */
        rc = cli_mpi_agree("train", cli_ckpt_load(&j->ck, j->resume));
    if (rc != CLI_OK)
        return rc;
    j->Xt = j->d->X;
    j->Tt = j->d->T;
    j->owned = j->n_val > 0;
    if (j->owned && nb_split_rows(&j->Xt, &j->Tt, &j->Xv, &j->Tv, &j->d->X, &j->d->T, j->n_val,
                                  j->seed) != NB_OK) {
        j->owned = false;
        return cli_error("train", "out of memory");
    }
    return CLI_OK;
}

/* --standardize and --standardize-targets: fitted on the training rows (j->st). */
static void standardize(job *j)
{
    if (j->st == NB_OK && cli_flag(j->cmd, "standardize")) {
        j->st = nb_norm_fit(&j->norm, &j->Xt);
        if (j->st == NB_OK)
            j->st = nb_norm_apply(j->norm, &j->Xt);
        if (j->st == NB_OK && j->Xv.data)
            j->st = nb_norm_apply(j->norm, &j->Xv);
    }
    if (j->st == NB_OK && cli_flag(j->cmd, "standardize-targets")) {
        j->st = nb_norm_fit(&j->tnorm, &j->Tt);
        if (j->st == NB_OK)
            j->st = nb_norm_apply(j->tnorm, &j->Tt);
        if (j->st == NB_OK && j->Tv.data)
            j->st = nb_norm_apply(j->tnorm, &j->Tv);
        if (j->st == NB_OK)
            printf("targets standardised (mean and std stored in the model): losses below are in "
                   "standardised units\n");
    }
}

/* The network and the trainer (new, or the checkpoint's), its precision and the model; a
   library failure goes to j->st, a usage or checkpoint mismatch to the result (said). */
static int make_network(job *j)
{
    int rc = CLI_OK;
    if (j->st == NB_OK && j->resume) /* the checkpoint's network, standardisation and names */
        rc = cli_ckpt_check(&j->ck, j->record, j->epochs, &j->to, j->norm, j->tnorm, j->d);
    if (j->st == NB_OK && rc == CLI_OK && j->resume) {
        j->r.net = j->ck.m.net;
        j->tr = j->ck.tr;
    } else if (j->st == NB_OK && rc == CLI_OK) {
        j->st = nb_net_create(&j->r.net, j->Xt.cols, j->L, j->n_layers, j->seed);
        /* a trainer that --checkpoint can save (also under mpirun) */
        if (j->st == NB_OK && !cli_fullbatch_is(j->optimizer))
            j->st = nb_trainer_create(&j->tr, j->r.net);
    }
    nb_precision prec = NB_PRECISION_FP32; /* the name was checked in cmd_train */
    nb_status pst = NB_OK;
    const char *ps = cli_get(j->cmd, "precision");
    if (j->st == NB_OK && rc == CLI_OK && ps && nb_precision_parse(&prec, ps) == NB_OK
        && (pst = nb_net_set_precision(j->r.net, prec)) != NB_OK)
        rc = cli_error("train", "--precision %s: %s", nb_precision_name(prec), nb_status_str(pst));
    j->m = model_of(j->r.net, j->loss, j->norm, j->tnorm, j->d);
    if (j->resume) { /* what the checkpoint holds (the checks above found it equal) */
        j->m = j->ck.m;
        j->m.net = j->r.net;
    }
    j->r.tr = j->tr;
    j->r.model = &j->m;
    return rc;
}

/* What follows the inputs: the history's owner, the note, standardisation, the network
   (CLI_OK, or a failure said; a library failure may still be in j->st). */
static int setup(job *j)
{
    j->r = (run){.loss = j->loss, .Xv = j->Xv, .Tv = j->Tv,
                 .own_val = cli_fullbatch_is(j->optimizer),
                 .classify = j->d->n_classes > 0 || j->loss != NB_LOSS_MSE,
                 .ck_path = j->ck_path};
    if (j->ck_path && !cli_note_init(&j->r.note, j->record, j->ck.note, j->ck.pos.epochs_done))
        j->st = NB_ERR_NOMEM;
    standardize(j);
    return make_network(j);
}

/* The training options the library gets. */
static nb_train_opts train_opts(job *j)
{
    nb_train_opts o = nb_train_opts_default();
    o.loss = j->loss;
    o.batch_size = j->batch;
    o.epochs = j->epochs;
    o.lr = (float)j->to.optim.lr; /* the run record keeps the rate in float */
    o.optim = &j->to.optim; /* plain SGD: the trainer takes its fused step */
    o.schedule = j->to.use_schedule ? &j->to.schedule : NULL;
    o.clip_norm = j->to.clip_norm;
    o.seed = j->seed;
    o.on_epoch = on_epoch;
    o.user = &j->r;
    o.resume = j->resume != NULL;
    if (j->Xv.data) { /* evaluated by the trainer after every epoch (nb_epoch_info) */
        o.X_val = &j->Xv;
        o.T_val = &j->Tv;
    }
    if (j->patience > 0) { /* early stopping on the validation rows, best epoch kept */
        o.patience = j->patience;
        o.restore_best = true;
    }
    return o;
}

/* --resume: where the run stands, said; the loss history of the epochs done. */
static size_t resume_point(job *j)
{
    run *r = &j->r;
    size_t done = (size_t)j->ck.pos.epochs_done;
    printf("resuming %s: %zu of %zu epochs done (%llu steps)\n", j->resume, done, j->epochs,
           (unsigned long long)j->ck.pos.steps_done);
    int was = cli_run_threads(j->ck.note), now = nb_get_threads();
    if (was > 0 && was != now)
        printf("note: the checkpoint was written with %d threads, this run has %d: the "
               "result may differ from an uninterrupted run's in the last bits\n", was, now);
    if (j->ck.pos.stopped && cli_mpi_rank() == 0)
        fprintf(stderr, "nablas train: --resume %s: early stopping ended this run after "
                        "epoch %zu: nothing to train; --out gets its final model\n",
                j->resume, done);
    else if (done == j->epochs && cli_mpi_rank() == 0)
        fprintf(stderr, "nablas train: --resume %s: all %zu epochs are done: nothing to "
                        "train; --out gets its final model\n", j->resume, done);
    if (done > 0 && !grow_history(r, done))
        r->no_memory = true;
    for (size_t e = 0; !r->no_memory && e < done; e++) /* unknown unless in the note */
        r->train_loss[e] = r->val_loss[e] = NAN;
    if (!r->no_memory)
        cli_note_losses(j->ck.note, done, r->train_loss, r->val_loss);
    r->ran = r->no_memory ? 0 : done;
    return done;
}

/* The training itself, with progress (j->st). */
static void run_training(job *j)
{
    run *r = &j->r;
    nb_train_opts o = train_opts(j);
    if (j->ck_path)
        r->stop_after = stop_after_env();
    nb_train_report rep = {0, 0, NAN, false, 0, NAN, false};
    printf("training %zu-%s network on %zu rows (%zu for validation), %zu parameters\n",
           j->Xt.cols, cli_get(j->cmd, "layers"), j->Xt.rows, j->n_val, nb_net_num_params(r->net));
    if (j->to.use_optim || o.schedule || o.clip_norm > 0.0)
        printf("optimizer %s, lr %g, schedule %s%s, %s\n", j->optimizer ? j->optimizer : "sgd",
               j->to.optim.lr,
               cli_get(j->cmd, "schedule") ? cli_get(j->cmd, "schedule") : "constant",
               j->to.schedule.warmup_steps ? " after a linear warm-up" : "",
               o.clip_norm > 0.0 ? "gradient norm clipped" : "no clipping");
    size_t done = j->resume ? resume_point(j) : 0;
    progress_begin(&r->prog, stdout, j->Xt.rows);
    r->prog.epoch0 = done;
    if (cli_mpi_active())
        r->prog.tty = false; /* mpirun hands rank 0 a pty whatever the final output is */
    if (r->no_memory) {
        j->st = NB_ERR_NOMEM;
    } else if (cli_fullbatch_is(j->optimizer)) {
        if (cli_get(j->cmd, "batch"))
            printf("note: --batch is ignored: --optimizer %s trains on the full batch\n",
                   j->optimizer);
        j->st = cli_fullbatch_train(&j->fb, r->net, &j->Xt, &j->Tt, j->Xv.data ? &j->Xv : NULL,
                                    &j->Tv, on_epoch, r);
    } else {
        j->st = cli_mpi_trainer_run(j->tr, &j->Xt, &j->Tt, &o, &rep); /* all ranks under mpirun */
    }
    progress_end(&r->prog);
    if (j->st == NB_OK && j->patience > 0)
        printf("early stopping: %s after epoch %zu; best epoch %zu (validation loss %.6g), "
               "its parameters kept\n", rep.stopped_early ? "stopped" : "ran to the end",
               rep.epochs_run, rep.best_epoch, rep.best_val_loss);
    if (j->st == NB_ERR_NONFINITE) { /* the library stopped before a non-finite update */
        r->diverged = true;
        j->st = NB_OK;
    }
}

/* The model file (rank 0 writes under mpirun); CLI_OK or the failure, said. */
static int save_model(job *j)
{
    const char *out = cli_get(j->cmd, "out");
    errno = 0;
    nb_status st = nb_model_save(&j->m, out);
    if (st == NB_ERR_NONFINITE)
        return cli_error("train", "the trained parameters are not all finite (NaN or "
                                  "infinity); no model written");
    if (st == NB_ERR_IO)
        return cli_error("train", "cannot write %s: %s", out,
                         errno ? strerror(errno) : nb_status_str(st));
    if (st != NB_OK)
        return cli_error("train", "cannot write %s: %s", out, nb_status_str(st));
    printf("model saved to %s\n", out);
    return CLI_OK;
}

/* What the run ended with, said; the model and the loss curve written. */
static int finish(job *j, int rc)
{
    const run *r = &j->r;
    if (r->ck_failed)
        rc = CLI_FAIL; /* said in on_epoch */
    else if (r->no_memory)
        rc = cli_error("train", "out of memory for the loss history; no model written");
    else if (j->st == NB_ERR_ARG && cli_mpi_size() > 1) /* what the record cannot show */
        rc = cli_error("train", "the ranks do not run the same training (another network, data "
                                "shape or --resume position on some rank): every rank must be "
                                "given the same data, options and checkpoint");
    else if (j->st != NB_OK && j->resume && j->st == NB_ERR_ARG)
        rc = cli_usage_error("train", "--resume %s: the run recorded in the checkpoint has "
                                      "other options than this one", j->resume);
    else if (j->st != NB_OK)
        rc = cli_error("train", "%s", nb_status_str(j->st));
    else if (r->diverged)
        rc = cli_error("train", "training diverged (the loss is not finite); try a smaller --lr "
                                "or --standardize; no model written");
    if (rc == CLI_OK && cli_mpi_rank() == 0)
        rc = save_model(j);
    const char *plot = cli_get(j->cmd, "plot");
    if (rc == CLI_OK && cli_mpi_rank() == 0 && plot &&
        (rc = write_plot(plot, r, r->ran, cli_get(j->cmd, "data"))) == CLI_OK)
        printf("loss curve saved to %s\n", plot);
    return cli_mpi_agree("train", rc); /* every rank exits as rank 0 wrote */
}

static void job_free(job *j)
{
    free(j->r.train_loss);
    free(j->r.val_loss);
    if (j->resume) {
        cli_ckpt_free(&j->ck); /* the trainer, then the network it borrowed */
    } else {
        nb_trainer_free(j->tr);
        nb_net_free(j->r.net);
    }
    free(j->record);
    cli_note_free(&j->r.note);
    nb_norm_free(j->norm);
    nb_norm_free(j->tnorm);
    if (j->owned) {
        nb_tensor_free(&j->Xt);
        nb_tensor_free(&j->Tt);
        nb_tensor_free(&j->Xv);
        nb_tensor_free(&j->Tv);
    }
}

static int train(cli_cmd *cmd, nb_dataset *d, nb_layer_spec *L, size_t n_layers, nb_loss loss)
{
    job j;
    memset(&j, 0, sizeof j);
    j.cmd = cmd;
    j.d = d;
    j.L = L;
    j.n_layers = n_layers;
    j.loss = loss;
    int rc = read_options(&j);
    if (rc == CLI_OK && (rc = load_inputs(&j)) == CLI_OK) { /* setup */
        rc = setup(&j);
        bool go = true;
        if (cli_mpi_active()) { /* under mpirun every rank trains, or none: a failure above on
                                   one rank must not leave the others in the collectives */
            int mine = rc != CLI_OK  ? rc
                       : j.st != NB_OK ? cli_error("train", "%s", nb_status_str(j.st))
                                       : CLI_OK;
            go = (rc = cli_mpi_agree("train", mine)) == CLI_OK; /* else: said, no model */
        }
        if (go && j.st == NB_OK && rc == CLI_OK) /* train */
            run_training(&j);
        if (go) /* finish */
            rc = finish(&j, rc);
    }
    job_free(&j);
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
