/* Shared pieces of the `nablas` command: option parsing, error reporting, data loading. */
#ifndef NB_CLI_CLI_H
#define NB_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nablas.h"

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2,
       CLI_PLOT_FAIL = 3 /* train: the model was saved, the loss curve could not be */ };

/* ---- options (opts.c) ---------------------------------------------------------------------- */

typedef struct cli_opt {
    const char *name;    /* long name without "--" */
    const char *metavar; /* NULL for a flag */
    const char *help;
    const char *value;   /* after parsing: the value, or "1" for a given flag, or NULL */
} cli_opt;

typedef struct cli_cmd {
    const char *name;     /* "train" */
    const char *usage;    /* the synopsis after "nablas NAME " */
    const char *summary;  /* one paragraph printed by --help */
    cli_opt *opts;
    size_t n_opts;
    const char *positional; /* metavar of a single positional argument, or NULL */
    const char *pos_value;  /* after parsing */
} cli_cmd;

/* Parses argv (after the subcommand name).  Returns CLI_OK, or CLI_USAGE after printing an
   error; *help_shown is set when --help printed the help (the caller then exits 0). */
int cli_parse(cli_cmd *cmd, int argc, char **argv, bool *help_shown);
/* Whether a cli_parse of this process showed --help (the command then ends without running:
   under mpirun, cli_mpi_join tells the other ranks). */
bool cli_help_was_shown(void);
/* cli_parse for a command's first lines: true when the command goes on, false when it ends
   here, with *rc its exit status (CLI_OK after --help, CLI_USAGE after a usage error). */
bool cli_begin(cli_cmd *cmd, int argc, char **argv, int *rc);
const char *cli_get(const cli_cmd *cmd, const char *name);
bool cli_flag(const cli_cmd *cmd, const char *name);
/* Value parsers: print an error naming the option and return false on bad input. */
bool cli_size(const cli_cmd *cmd, const char *name, size_t dflt, size_t min, size_t *out);
/* As cli_size with an upper bound; out of range is "--NAME V is out of range: give MIN to MAX". */
bool cli_size_range(const cli_cmd *cmd, const char *name, size_t dflt, size_t min, size_t max,
                    size_t *out);
bool cli_double(const cli_cmd *cmd, const char *name, double dflt, double min, double max, double *out);
bool cli_u64(const cli_cmd *cmd, const char *name, uint64_t dflt, uint64_t *out);

/* Prints "nablas CMD: MESSAGE" to stderr (one line) and returns CLI_FAIL / CLI_USAGE. */
int cli_error(const char *cmd, const char *fmt, ...);
int cli_usage_error(const char *cmd, const char *fmt, ...);
bool cli_ends_with(const char *s, const char *suffix);

/* ---- data (data_load.c) -------------------------------------------------------------------- */

/* The options every data-reading subcommand shares. */
#define CLI_DATA_OPTS                                                                          \
    {"data", "FILE", "input table: a .csv file (or .csv.gz), or a .npy array of features; - "  \
     "reads standard input", NULL},                                                           \
    {"label-column", "NAME|INDEX", "CSV column of class labels (one-hot targets)", NULL},      \
    {"target-columns", "LIST", "comma-separated CSV columns of numeric targets", NULL},        \
    {"targets", "FILE.npy", "targets for .npy data: n x k as is, or n x 1 class indices", NULL}, \
    {"delimiter", "CHAR", "CSV field delimiter (default ','; 'tab' for a tab)", NULL},         \
    {"no-header", NULL, "the CSV has no header row (columns by 0-based index only)", NULL}

typedef struct cli_data_req {
    bool need_targets;          /* train/eval: targets are required */
    size_t outputs;             /* the network's outputs (for NPY class indices), or 0 */
    const char *const *classes; /* fixed classes (from a model), or NULL */
    size_t n_classes;
    /* The model the data are for (eval, predict), or NULL: its feature names are checked
       against the header, and its target columns are found without being named. */
    const nb_model *model;
} cli_data_req;

/* Loads --data (and --targets) as the options say.  Prints the error and returns CLI_FAIL or
   CLI_USAGE on failure. */
int cli_load_data(const cli_cmd *cmd, const cli_data_req *req, nb_dataset *out);

/* ---- column names (columns.c) --------------------------------------------------------------- */

/* True if every name can go into a model file (1..NB_MODEL_MAX_NAME bytes). */
bool cli_names_storable(char *const *names, size_t n);
/* "a,b,c" malloc'd, or NULL (no memory, or a name holds a comma). */
char *cli_join_names(char *const *names, size_t n);
/* The data's feature columns are the model's, by name and order (when both have names);
   otherwise prints an error naming the first mismatch. */
int cli_check_columns(const char *cmd, const char *path, const nb_model *m, const nb_dataset *d);
/* Refuses a label column that looks like a regression target (non-integer numbers, or more
   distinct values than half the rows), pointing to --target-columns. */
int cli_check_label_column(const char *cmd, const char *column, const nb_dataset *d);

/* Rows per inference pass for a table of `rows` rows: 256, or fewer when there are fewer rows
   (the workspace is rows x the widest layer: 3 rows of a million columns need 3 rows' worth). */
static inline size_t cli_infer_batch(size_t rows) { return rows < 1 ? 1 : rows < 256 ? rows : 256; }

/* Loads a model, printing the error on failure. */
int cli_load_model(const char *cmd, const char *path, nb_model *m);

/* Names of the loss for --loss and messages. */
const char *cli_loss_name(nb_loss l);

/* ---- outputs (outputs.c) ------------------------------------------------------------------ */

/* An output path and the option that named it (for messages; NULL for a positional argument);
   path NULL: not given. */
typedef struct cli_output {
    const char *option;
    const char *path;
} cli_output;

/* Checks every output before any work (docs/cli.md, "Output files"): a regular file or a new
   name in an existing, writable directory, a name that fits NAME_MAX, not the same file as an
   input or another output.  Prints the error; CLI_USAGE for a refused path, CLI_FAIL for an OS
   error (with its strerror). */
int cli_check_outputs(const char *cmd, const cli_output *outs, size_t n_out,
                      const char *const *inputs, size_t n_in);
/* As cli_check_outputs, for data outputs (predictions): each may also be `-` or /dev/stdout
   (standard output), a FIFO or a character device, which cli_write_output writes directly.
   cli_check_outputs (models, checkpoints, plots: files replaced atomically) refuses `-`. */
int cli_check_data_outputs(const char *cmd, const cli_output *outs, size_t n_out,
                           const char *const *inputs, size_t n_in);
/* Whether an output path means standard output (`-` or /dev/stdout). */
bool cli_is_stdout(const char *path);
/* How messages name an output or input path: "stdout" / "<stdin>" for `-`, else the path. */
const char *cli_out_name(const char *path);
const char *cli_in_name(const char *path);
/* Whether a checked stream output is written directly (standard output, a FIFO, a character
   device) rather than atomically: a command then says its "written to" line on stderr, so
   that stdout carries only the data. */
bool cli_output_direct(const char *path);
/* Writes data to a checked output: standard output, a FIFO or a character device directly,
   anything else atomically (nb_write_file_atomic).  CLI_OK, or CLI_FAIL after saying "cannot
   write PATH: why". */
int cli_write_output(const char *cmd, const char *path, const void *data, size_t len);
/* SIGINT/SIGTERM remove the temporary file of an atomic write in progress, then end the
   process by the same signal. */
void cli_signals_install(void);
/* on: the first SIGINT/SIGTERM is only recorded (cli_signal_caught), so that training can end
   at an epoch's end (on a terminal, stderr says so at once); a second one ends the process as
   above.  off: every signal does. */
void cli_signals_defer(bool on);
/* The signal recorded while deferring (SIGINT or SIGTERM), or 0. */
int cli_signal_caught(void);
/* ---- optimizer, schedule, clipping options of train (train_optim.c) ----------------------- */

#define CLI_OPTIM_OPTS                                                                         \
    {"optimizer", "NAME", "adam (default), sgd, adamw or rmsprop (PyTorch's defaults); or full "   \
                          "batch: lm (Levenberg-Marquardt, MSE) or lbfgs (L-BFGS); with lm/lbfgs " \
                          "--epochs counts iterations", NULL},                                 \
    {"momentum", "X", "momentum in [0, 1) (sgd, rmsprop; default 0)", NULL},                   \
    {"dampening", "X", "momentum dampening in [0, 1] (sgd; default 0)", NULL},                 \
    {"nesterov", NULL, "Nesterov momentum (sgd; needs --momentum)", NULL},                     \
    {"weight-decay", "X", "L2 weight decay; decoupled for adamw (default 0, adamw 0.01)", NULL}, \
    {"beta1", "X", "first-moment decay in [0, 1) (adam, adamw; default 0.9)", NULL},           \
    {"beta2", "X", "second-moment decay in [0, 1) (adam, adamw; default 0.999)", NULL},        \
    {"eps", "X", "denominator term (adam, adamw, rmsprop; default 1e-8)", NULL},               \
    {"amsgrad", NULL, "AMSGrad variant (adam, adamw)", NULL},                                  \
    {"alpha", "X", "squared-gradient smoothing in [0, 1] (rmsprop; default 0.99)", NULL},      \
    {"centered", NULL, "centered RMSprop (rmsprop)", NULL},                                    \
    {"schedule", "NAME", "learning rate: constant, step, cosine, linear or onecycle "          \
                         "(default constant)", NULL},                                          \
    {"step-size", "STEPS", "step: multiply the rate by --gamma every STEPS steps (default 1)", \
     NULL},                                                                                    \
    {"gamma", "X", "step: decay factor (default 0.1)", NULL},                                  \
    {"min-lr", "X", "cosine: the floor; linear: the final rate (default 0)", NULL},            \
    {"warmup", "STEPS", "rise linearly to the rate over the first STEPS optimizer steps "       \
                        "(batches, not epochs; default 0)", NULL},                                                                                    \
    {"clip-norm", "X", "clip the gradient's global L2 norm to X (default: no clipping)", NULL}

typedef struct cli_train_optim_t {
    nb_optim_opts optim;  /* lr from --lr (or the optimizer's PyTorch default) */
    bool use_optim;       /* an optimizer or its options named (false: "plain SGD") */
    nb_schedule schedule; /* base_lr = optim.lr; total_steps left 0 (the whole run) */
    bool use_schedule;
    double clip_norm;     /* 0: none */
} cli_train_optim_t;

/* Parses and checks the CLI_OPTIM_OPTS of cmd (and --lr).  CLI_OK or CLI_USAGE (printed). */
int cli_train_optim(const cli_cmd *cmd, cli_train_optim_t *out);

/* ---- subcommands --------------------------------------------------------------------------- */

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif
