/* nablas: the command-line front end.  Dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mpi_cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *what;
} commands[] = {
    {"train", cmd_train, "train a network on a CSV or NPY table and save the model"},
    {"eval", cmd_eval, "loss, accuracy and confusion matrix of a model on labelled data"},
    {"predict", cmd_predict, "write a model's predictions for a table as CSV or NPY"},
    {"info", cmd_info, "verify a model file and show what it holds"},
    {"export", cmd_export, "write a model's network as PyTorch-style safetensors"},
    {"import", cmd_import, "build a model from PyTorch-style safetensors"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: nablas COMMAND [options]   (nablas COMMAND --help for its options)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("nablas %s\n", nb_version());
        return CLI_OK;
    }
    cli_signals_install();
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "nablas: unknown command '%s' (try nablas --help)\n", argv[1]);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "train") == 0) {
        cli_signals_install();
        return cmd_train(argc - 2, argv + 2);
    }
    /* under mpirun, `nablas train` ranks must learn that this one will not train */
    return cli_mpi_aside(dispatch, argc, argv);
}
