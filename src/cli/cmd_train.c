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
#include "cli/log.h"
#include "cli/memory.h"
#include "cli/mpi_cli.h"
#include "cli/plot.h"
#include "cli/progress.h"
#include "cli/threads_opt.h"
#include "cli/train_ckpt.h"
#include "cli/train_fullbatch.h"
#include "cli/train_record.h"

/* --epochs at most this: a run that long is a typo (the history grows as epochs pass) */
#define CLI_MAX_EPOCHS ((size_t)1000000000)

static cli_opt opts[] = {
    CLI_DATA_OPTS,
    {"layers", "SPEC",
     "layers UNITS[:ACT[:DROPOUT]],...; e.g. 64:relu:0.2,32:relu,3 (hidden default relu, last "
     "identity; dropout in [0, 1), hidden layers only; default 100:relu and one output per "
     "class or target column)", NULL},
    {"dropout", "P", "dropout probability for every hidden layer whose spec gives none "
     "(default 0; in [0, 1))", NULL},
    {"patience", "N", "early stopping: stop after N epochs without a lower validation loss and "
     "keep the best epoch's parameters (needs --validation)", NULL},
    {"loss", "NAME", "mse, bce or softmax-ce (default: softmax-ce for class labels, else mse)", NULL},
    {"epochs", "N", "passes over the training rows (default: up to 200, stopping once the "
     "training loss has not improved by 1e-4 for 10 epochs; lm and lbfgs 20)", NULL},
    {"batch", "N", "rows per gradient step (default min(200, ceil(rows / 2)): two steps an "
     "epoch at least)", NULL},
    {"lr", "X", "learning rate (default 0.001 for adam and adamw, else 0.01)", NULL},
    CLI_OPTIM_OPTS,
    {"seed", "N", "seed for initialisation, shuffling and the validation split (default 0)", NULL},
    {"validation", "FRACTION", "hold out this fraction of the rows, e.g. 0.2 (default 0)", NULL},
    {"standardize", NULL, "standardise every feature with the training rows' mean and std "
     "(the default)", NULL},
    {"no-standardize", NULL, "train on the features as they are", NULL},
    {"standardize-targets", NULL, "regression: also standardise the targets (stored in the "
     "model; eval and predict answer in the targets' units; the default for regression)", NULL},
    {"no-standardize-targets", NULL, "regression: train on the targets as they are", NULL},
    {"out", "MODEL", "where to write the model (required)", NULL},
    {"plot", "FILE.svg", "also write the training/validation loss curves as an SVG image", NULL},
    {"checkpoint", "FILE", "after every epoch, save the run (model, optimizer state, position) "
     "to FILE, atomically", NULL},
    {"resume", "FILE", "continue the run a --checkpoint FILE saved, given the same data and "
     "options (--epochs is the run's total; with --checkpoint FILE it goes on saving)", NULL},
    CLI_FULLBATCH_OPTS,
    {"precision", "P", "fp32 or bf16: bf16 inputs, fp32 sums in the training products (default fp32)",
     NULL},
    /* the run's CSV log and thread count */
    CLI_LOG_OPT,
    CLI_THREADS_OPT,
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
    size_t interrupted;    /* SIGINT/SIGTERM ended the run after this epoch (0: not) */
    /* no --epochs: stop once the training loss stalls (CLI_STOP_TOL, CLI_STOP_EPOCHS) */
    bool stop_on_loss, stalled;
    double best_loss;
    size_t no_gain;
    cli_log log;           /* --log (path NULL: none) */
    nb_schedule sched;     /* the rate of each step, when a schedule or warm-up changes it */
    bool show_lr;
} run;

/* One epoch's training loss through the stop rule; true once it says stop.  scikit-learn's
   rule: an epoch that does not beat the best by the tolerance counts, any other resets. */
static bool stalls(run *r, double loss)
{
    if (!(loss <= r->best_loss - CLI_STOP_TOL))
        r->no_gain++;
    else
        r->no_gain = 0;
    if (loss < r->best_loss)
        r->best_loss = loss;
    return r->no_gain >= CLI_STOP_EPOCHS;
}

/* The rate of the last step taken (steps >= 1), or -1 when it does not change. */
static double epoch_lr(const run *r, size_t steps)
{
    return r->show_lr && steps > 0 ? nb_schedule_lr(&r->sched, steps - 1) : -1.0;
}

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
    double lr = epoch_lr(r, info->steps);
    progress_epoch(&r->prog, info->epoch, info->epochs, info->loss, vl, va, lr);
    if (cli_mpi_rank() == 0)
        cli_log_row(&r->log, info->epoch, info->loss, vl, va, lr);
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
    /* Ctrl-C or SIGTERM: stop after this epoch, which the checkpoint above holds (every rank
       alike under mpirun); at the last epoch the run is complete anyway */
    if (info->epoch < info->epochs && cli_mpi_any(cli_signal_caught() != 0)) {
        r->interrupted = info->epoch;
        return 1;
    }
    if (r->stop_after && info->epoch == r->stop_after) { /* a run killed after this epoch */
        fflush(NULL);
        raise(SIGKILL);
    }
    if (r->stop_on_loss && stalls(r, info->loss)) {
        r->stalled = true;
        return 1;
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
    /* the defaults (docs/cli.md): scikit-learn's MLP's, but lm and lbfgs keep their 20 */
    size_t rows = j->d->X.rows;
    size_t epochs0 = cli_fullbatch_is(cli_get(cmd, "optimizer")) ? 20 : CLI_STOP_MAX_EPOCHS;
    if (!cli_size_range(cmd, "epochs", epochs0, 1, CLI_MAX_EPOCHS, &j->epochs)
        || !cli_size(cmd, "batch", (rows + 1) / 2 < 200 ? (rows + 1) / 2 : 200, 1, &j->batch)
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
                 .ck_path = j->ck_path, .best_loss = INFINITY};
    /* as the record says (cli_ckpt_record) */
    j->r.stop_on_loss = !cli_get(j->cmd, "epochs") && j->patience == 0
                        && !cli_fullbatch_is(j->optimizer);
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
    /* the stop rule where the run stood (an epoch whose loss the note lacks is skipped) */
    for (size_t e = 0; r->stop_on_loss && !r->no_memory && e < done && !r->stalled; e++)
        if (!isnan(r->train_loss[e]))
            r->stalled = stalls(r, r->train_loss[e]);
    if (r->stalled && cli_mpi_rank() == 0)
        fprintf(stderr, "nablas train: --resume %s: the training loss had stopped improving "
                        "after epoch %zu: nothing to train; --out gets its final model\n",
                j->resume, done);
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
    cli_signals_defer(true); /* the first Ctrl-C ends the run at the epoch's end (on_epoch) */
    r->prog.epoch0 = done;
    r->prog.epochs = j->epochs;
    if (cli_fullbatch_is(j->optimizer))
        r->prog.unit = "iter"; /* --epochs counts their iterations */
    if (o.schedule) { /* the rate each step takes, as the trainer computes it */
        r->sched = *o.schedule;
        if (r->sched.total_steps == 0)
            r->sched.total_steps = (uint64_t)j->epochs * ((j->Xt.rows + j->batch - 1) / j->batch);
        r->show_lr = true;
    }
    if (!cli_log_begin(&r->log, cli_mpi_rank() == 0 ? cli_get(j->cmd, "log") : NULL,
                       cli_fullbatch_is(j->optimizer)))
        r->no_memory = true;
    if (cli_mpi_active())
        r->prog.tty = false; /* mpirun hands rank 0 a pty whatever the final output is */
    if (r->no_memory) {
        j->st = NB_ERR_NOMEM;
    } else if (r->stalled) { /* resumed after the stop rule ended the run */
    } else if (cli_fullbatch_is(j->optimizer)) {
        if (cli_get(j->cmd, "batch"))
            printf("note: --batch is ignored: --optimizer %s trains on the full batch\n",
                   j->optimizer);
        j->st = cli_fullbatch_train(&j->fb, r->net, &j->Xt, &j->Tt, j->Xv.data ? &j->Xv : NULL,
                                    &j->Tv, on_epoch, r);
    } else {
        j->st = cli_mpi_trainer_run(j->tr, &j->Xt, &j->Tt, &o, &rep); /* all ranks under mpirun */
    }
    cli_signals_defer(false);
    progress_end(&r->prog);
    if (j->st == NB_OK && r->stalled && r->ran > done)
        printf("stopped after epoch %zu: the training loss did not improve by %g for %d "
               "epochs (give --epochs N to train N epochs)\n", r->ran, CLI_STOP_TOL,
               CLI_STOP_EPOCHS);
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

/* The command line as given (for the resume hint). */
static int cmd_argc;
static char **cmd_argv;

/* A word as a POSIX shell reads it back: as it is, or in single quotes. */
static void put_word(FILE *f, const char *w)
{
    if (*w && !w[strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                           "_-./:=,+@%")]) {
        fputs(w, f);
        return;
    }
    fputc('\'', f);
    for (; *w; w++) {
        if (*w == '\'')
            fputs("'\\''", f); /* close, an escaped quote, reopen */
        else
            fputc(*w, f);
    }
    fputc('\'', f);
}

/* SIGINT/SIGTERM ended the run: one line on stderr, no model (the run did not finish: --out
   keeps what it held); the exit status is the shell's for that signal (130 for SIGINT). */
static int interrupted(const job *j)
{
    const run *r = &j->r;
    int sig = cli_signal_caught();
    if (cli_mpi_rank() != 0)
        return 128 + sig;
    fprintf(stderr, "nablas train: interrupted after epoch %zu of %zu; no model written; ",
            r->interrupted, j->epochs);
    if (!j->ck_path && cli_fullbatch_is(j->optimizer)) {
        fprintf(stderr, "the run is lost (--optimizer %s runs keep no checkpoint)\n",
                j->optimizer);
        return 128 + sig;
    }
    if (!j->ck_path) {
        fprintf(stderr, "the run is lost: --checkpoint FILE would have kept it for --resume\n");
        return 128 + sig;
    }
    fputs("resume with: nablas train", stderr);
    for (int i = 0; i < cmd_argc; i++) {
        if (!strcmp(cmd_argv[i], "--resume") && i + 1 < cmd_argc) {
            i++;
            continue;
        }
        if (!strncmp(cmd_argv[i], "--resume=", 9))
            continue;
        fputc(' ', stderr);
        put_word(stderr, cmd_argv[i]);
    }
    fputs(" --resume ", stderr);
    put_word(stderr, j->ck_path);
    fputc('\n', stderr);
    return 128 + sig;
}

/* The flag most likely to help a run that ended badly, as a hint ("" if none): flags the user
   turned off first, then the rate, the length and the optimizer; never one already given. */
static void bad_run_hint(const job *j, bool diverged, char *buf, size_t len)
{
    const cli_cmd *cmd = j->cmd;
    double tstd = 0.0; /* the targets' largest std: large targets want standardising */
    for (size_t c = 0; !j->tnorm && j->Tt.data && c < j->Tt.cols; c++) {
        double m = 0.0, v = 0.0;
        for (size_t i = 0; i < j->Tt.rows; i++)
            m += j->Tt.data[i * j->Tt.cols + c];
        m /= (double)j->Tt.rows;
        for (size_t i = 0; i < j->Tt.rows; i++) {
            double e = j->Tt.data[i * j->Tt.cols + c] - m;
            v += e * e;
        }
        v = sqrt(v / (double)j->Tt.rows);
        tstd = fmax(tstd, fabs(m) > v ? fabs(m) : v);
    }
    const char *lr = cli_get(cmd, "lr"), *ep = cli_get(cmd, "epochs");
    const char *opt = cli_get(cmd, "optimizer");
    if (cli_flag(cmd, "no-standardize-targets") && tstd > 10.0)
        snprintf(buf, len, "the targets are large (up to %.3g) and not standardised: try "
                           "--standardize-targets in place of --no-standardize-targets", tstd);
    else if (cli_flag(cmd, "no-standardize"))
        snprintf(buf, len, "the features are not standardised: try --standardize in place of "
                           "--no-standardize");
    else if (diverged && lr)
        snprintf(buf, len, "try a --lr below the %s given", lr);
    else if (diverged)
        snprintf(buf, len, "try --lr %g (a tenth of the default)", j->to.optim.lr / 10.0);
    else if (ep && j->r.ran == j->epochs)
        snprintf(buf, len, "try more --epochs than the %s given", ep);
    else if (opt && strcmp(opt, "adam") != 0 && !cli_fullbatch_is(opt))
        snprintf(buf, len, "try --optimizer adam (the default) in place of --optimizer %s", opt);
    else if (!lr)
        snprintf(buf, len, "try --lr %g or a wider --layers", j->to.optim.lr * 3.0);
    else if (j->to.optim.lr > nb_optim_opts_default(j->to.optim.kind).lr)
        snprintf(buf, len, "try a --lr below the %s given", lr);
    else
        snprintf(buf, len, "try a --lr above the %s given, or a wider --layers", lr);
}

/* A run that ends no better than the baseline (the targets' mean for regression, the most
   frequent class for classification) on its own training rows is said on stderr, with a hint;
   the model is still written and the exit status stays 0 (docs/cli.md, "A bad run"). */
static void check_run(job *j)
{
    run *r = &j->r;
    if (cli_mpi_rank() != 0 || !r->net || !j->Xt.data || !j->Tt.data)
        return;
    char what[160] = "", hint[240];
    if (!r->classify) {
        nb_regression_metrics m = {0};
        /* R² does not change under the targets' standardisation: the training units do */
        if (nb_net_evaluate_regression(r->net, NULL, NULL, &j->Xt, &j->Tt, &m) != NB_OK)
            return;
        if (m.r2_all < 0.0)
            snprintf(what, sizeof what, "R² %.3g on the training rows: worse than predicting "
                                        "the targets' mean", m.r2_all);
        nb_regression_metrics_free(&m);
    } else {
        nb_eval ev;
        if (nb_net_evaluate(r->net, &j->Xt, &j->Tt, j->loss, &ev) != NB_OK)
            return;
        size_t k = j->Tt.cols, n = j->Tt.rows, best = 0;
        for (size_t c = 0; c < (k == 1 ? 2 : k); c++) { /* rows of class c (one output: t >= 0.5) */
            size_t count = 0;
            for (size_t i = 0; i < n; i++) {
                const float *t = j->Tt.data + i * k;
                size_t arg = 0;
                for (size_t q = 1; q < k; q++)
                    if (t[q] > t[arg])
                        arg = q;
                count += k == 1 ? (size_t)((t[0] >= 0.5f) == (c == 1)) : (size_t)(arg == c);
            }
            best = count > best ? count : best;
        }
        double base = (double)best / (double)n;
        if (!(ev.accuracy > base))
            snprintf(what, sizeof what, "accuracy %.4g on the training rows: not above the "
                                        "%.4g of always answering the most frequent class",
                     ev.accuracy, base);
    }
    if (!what[0])
        return;
    bad_run_hint(j, false, hint, sizeof hint);
    progress_break();
    fprintf(stderr, "nablas train: warning: a bad model: %s; %s\n", what, hint);
}

/* What the run ended with, said; the model and the loss curve written. */
static int finish(job *j, int rc)
{
    const run *r = &j->r;
    if (r->interrupted && !r->ck_failed)
        return cli_mpi_agree("train", interrupted(j));
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
    else if (r->diverged) {
        char hint[240];
        bad_run_hint(j, true, hint, sizeof hint);
        rc = cli_error("train", "training diverged (the loss is not finite): %s; no model "
                                "written", hint);
    }
    if (rc == CLI_OK)
        check_run(j);
    if (rc == CLI_OK && cli_mpi_rank() == 0)
        rc = save_model(j);
    const char *plot = cli_get(j->cmd, "plot");
    if (rc == CLI_OK && cli_mpi_rank() == 0 && plot &&
        (rc = write_plot(plot, r, r->ran, cli_get(j->cmd, "data"))) == CLI_OK)
        printf("loss curve saved to %s\n", plot);
    if (r->log.path && cli_log_end(&j->r.log) != CLI_OK && rc == CLI_OK)
        rc = CLI_PLOT_FAIL; /* the model was saved; the log's failure was said */
    else if (r->log.path && rc == CLI_OK)
        printf("log saved to %s\n", r->log.path);
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
    cli_log_free(&j->r.log);
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

/* Gives option `name` the value a default chose, so that the rest of the run (its record, its
   messages) sees the effective value as if it had been given. */
static void set_default(cli_cmd *cmd, const char *name, const char *value)
{
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (strcmp(cmd->opts[i].name, name) == 0 && !cmd->opts[i].value)
            cmd->opts[i].value = value;
}

/* The defaults that do not depend on the data; a usage error (said) for a contradiction. */
static int optimizer_default(cli_cmd *cmd)
{
    static const char *const pair[][2] = {{"standardize", "no-standardize"},
                                          {"standardize-targets", "no-standardize-targets"}};
    for (size_t i = 0; i < 2; i++)
        if (cli_flag(cmd, pair[i][0]) && cli_flag(cmd, pair[i][1]))
            return cli_usage_error("train", "--%s and --%s contradict each other", pair[i][0],
                                   pair[i][1]);
    if (cli_get(cmd, "optimizer"))
        return CLI_OK;
    /* options that only plain SGD took before adam became the default: said, not refused as
       "not for adam" */
    static const char *const sgd_only[] = {"momentum", "dampening", "nesterov"};
    for (size_t i = 0; i < 3; i++)
        if (cli_get(cmd, sgd_only[i]))
            return cli_usage_error("train", "--%s is for --optimizer sgd or rmsprop, and the "
                                            "default optimizer is adam: add --optimizer sgd",
                                   sgd_only[i]);
    set_default(cmd, "optimizer", "adam");
    return CLI_OK;
}

int cmd_train(int argc, char **argv)
{
    if (!cli_mpi_begin(&argc, &argv))
        return cli_error("train", "MPI failed to start");
    int rc = cli_mpi_join("train", train_cmd(argc, argv)); /* every rank, however it ended */
    cli_mpi_end();
    return rc;
}

/* --out, --resume and the output paths against the inputs; a usage error (said) otherwise. */
static int check_paths(const cli_cmd *cmd)
{
    const char *out = cli_get(cmd, "out");
    if (!out)
        return cli_usage_error("train", "--out MODEL is required");
    if (cli_get(cmd, "resume") && !strcmp(cli_get(cmd, "resume"), "-"))
        return cli_usage_error("train", "--resume -: a checkpoint is read from a file, not from "
                                        "standard input: name the file (./- for a file named '-')");
    const char *inputs[] = {cli_get(cmd, "data"), cli_get(cmd, "targets"),
                            cli_get(cmd, "resume")};
    cli_output outs[] = {{"out", out}, {"plot", cli_get(cmd, "plot")},
                         {"log", cli_get(cmd, "log")},
                         {"checkpoint", cli_get(cmd, "checkpoint")}};
    /* --checkpoint may be the --resume file (the run goes on saving where it was saved);
       --out, --plot and --log may not */
    int rc = cli_check_outputs("train", outs, 4, inputs, 2);
    return rc != CLI_OK ? rc : cli_check_outputs("train", outs, 3, inputs, 3);
}

/* --threads, --loss (into *loss when given), --precision and the optimizer's defaults. */
static int check_options(cli_cmd *cmd, nb_loss *loss)
{
    if (!cli_threads_apply(cmd))
        return CLI_USAGE;
    const char *ls = cli_get(cmd, "loss");
    if (ls && !parse_loss(ls, loss))
        return cli_usage_error("train", "--loss: unknown loss '%s' (mse, bce, softmax-ce)", ls);
    nb_precision prec;
    const char *ps = cli_get(cmd, "precision");
    if (ps && nb_precision_parse(&prec, ps) != NB_OK)
        return cli_usage_error("train", "--precision: unknown precision '%s' (fp32, bf16)", ps);
    return optimizer_default(cmd);
}

/* --dropout into *drop: false after a usage error (said). */
static bool parse_dropout(const cli_cmd *cmd, double *drop)
{
    bool ok = cli_double(cmd, "dropout", 0.0, 0.0, 1.0, drop);
    if (ok && *drop >= 1.0)
        ok = cli_usage_error("train", "--dropout must be at least 0 and below 1") == CLI_OK;
    else if (ok && (float)*drop >= 1.0f) /* the check above passed in double */
        ok = cli_usage_error("train", "--dropout %s rounds to 1 in single precision: give "
                                      "at most 0.9999999", cli_get(cmd, "dropout")) == CLI_OK;
    return ok;
}

/* The hidden layers the spec left without dropout get --dropout. */
static void fill_dropout(nb_layer_spec *L, size_t n_layers, double drop)
{
    for (size_t l = 0; L && l + 1 < n_layers; l++)
        if (L[l].dropout == 0.0f)
            L[l].dropout = (float)drop;
}

/* Without --layers: scikit-learn's one hidden layer of 100 relu, written into spec0 (which
   becomes the option's value, so it outlives the run) for outputs outputs. */
static int default_layers(cli_cmd *cmd, size_t outputs, double drop, char *spec0, size_t size,
                          nb_layer_spec **L, size_t *n_layers)
{
    char why[200];
    int rc = CLI_OK;
    snprintf(spec0, size, "100:relu,%zu", outputs);
    if (!cli_parse_layers(spec0, L, n_layers, why, sizeof why))
        rc = cli_error("train", "--layers %s: %s", spec0, why);
    fill_dropout(*L, *n_layers, drop);
    set_default(cmd, "layers", spec0);
    return rc;
}

/* The defaults that depend on the data: the loss and the standardisations. */
static int data_defaults(cli_cmd *cmd, const nb_dataset *d, nb_loss *loss)
{
    if (!cli_get(cmd, "loss") && d->n_classes > 0)
        *loss = NB_LOSS_SOFTMAX_CE; /* classes: softmax cross-entropy unless told otherwise */
    bool regression = !d->n_classes && *loss == NB_LOSS_MSE;
    if (cli_flag(cmd, "standardize-targets") && !regression)
        return cli_usage_error("train", "--standardize-targets is for regression targets "
                                        "(--target-columns with --loss mse)");
    if (!cli_flag(cmd, "no-standardize")) /* the defaults: both standardised */
        set_default(cmd, "standardize", "1");
    if (regression && !cli_flag(cmd, "no-standardize-targets"))
        set_default(cmd, "standardize-targets", "1");
    return CLI_OK;
}

static int train_cmd(int argc, char **argv)
{
    cli_cmd cmd = {"train", "--data FILE (--label-column C | --target-columns LIST | --targets "
                   "T.npy) --out MODEL [--layers SPEC] [options]",
                   "Trains a network of dense layers on a table and saves it as a model file.\n"
                   "Classification: --label-column names the column of class labels; the last "
                   "layer needs one\noutput per class. Regression: --target-columns lists the "
                   "target columns. Every other column\nis a feature. Without --layers: one "
                   "hidden layer of 100 relu units. Progress goes to stdout."
                   CLI_MPI_HELP,
                   opts, sizeof opts / sizeof *opts, NULL, NULL};
    bool help;
    cmd_argc = argc;
    cmd_argv = argv;
    int rc = cli_parse(&cmd, argc, argv, &help);
    if (rc != CLI_OK || help)
        return rc;
    nb_loss loss = NB_LOSS_MSE; /* the default depends on the data: see data_defaults */
    if ((rc = check_paths(&cmd)) != CLI_OK || (rc = check_options(&cmd, &loss)) != CLI_OK)
        return rc;
    const char *spec = cli_get(&cmd, "layers");
    nb_layer_spec *L = NULL; /* without --layers: made once the data say how many outputs */
    size_t n_layers = 0;
    char why[200];
    if (spec && !cli_parse_layers(spec, &L, &n_layers, why, sizeof why))
        return cli_usage_error("train", "--layers: %s", why);
    double drop = 0.0;
    if (!parse_dropout(&cmd, &drop)) {
        free(L);
        return CLI_USAGE;
    }
    fill_dropout(L, n_layers, drop);
    cli_data_req req = {true, L ? L[n_layers - 1].units : 0, NULL, 0, NULL};
    nb_dataset d;
    rc = cli_load_data(&cmd, &req, &d);
    char spec0[64]; /* the default --layers, the option's value from here on */
    if (rc == CLI_OK && !L)
        rc = default_layers(&cmd, d.T.cols, drop, spec0, sizeof spec0, &L, &n_layers);
    const char *label = cli_get(&cmd, "label-column");
    if (rc == CLI_OK && label && d.n_classes > 0)
        rc = cli_check_label_column("train", label, &d);
    rc = cli_mpi_agree("train", rc); /* a rank that cannot read the data stops all */
    if (rc == CLI_OK)
        rc = data_defaults(&cmd, &d, &loss);
    if (rc == CLI_OK)
        rc = train(&cmd, &d, L, n_layers, loss);
    nb_dataset_free(&d);
    free(L);
    return rc;
}
