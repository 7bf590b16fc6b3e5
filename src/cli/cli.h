/* Shared pieces of the `nablas` command: option parsing, error reporting, data loading. */
#ifndef NB_CLI_CLI_H
#define NB_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nablas.h"

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

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
const char *cli_get(const cli_cmd *cmd, const char *name);
bool cli_flag(const cli_cmd *cmd, const char *name);
/* Value parsers: print an error naming the option and return false on bad input. */
bool cli_size(const cli_cmd *cmd, const char *name, size_t dflt, size_t min, size_t *out);
bool cli_double(const cli_cmd *cmd, const char *name, double dflt, double min, double max, double *out);
bool cli_u64(const cli_cmd *cmd, const char *name, uint64_t dflt, uint64_t *out);

/* Prints "nablas CMD: MESSAGE" to stderr (one line) and returns CLI_FAIL / CLI_USAGE. */
int cli_error(const char *cmd, const char *fmt, ...);
int cli_usage_error(const char *cmd, const char *fmt, ...);
bool cli_ends_with(const char *s, const char *suffix);

/* ---- data (data_load.c) -------------------------------------------------------------------- */

/* The options every data-reading subcommand shares. */
#define CLI_DATA_OPTS                                                                          \
    {"data", "FILE", "input table: a .csv file, or a .npy array of features", NULL},           \
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

/* Loads a model, printing the error on failure. */
int cli_load_model(const char *cmd, const char *path, nb_model *m);

/* Names of the loss for --loss and messages. */
const char *cli_loss_name(nb_loss l);

/* ---- subcommands --------------------------------------------------------------------------- */

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif
