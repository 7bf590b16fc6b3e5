/* nablas export: a model's network as a PyTorch-style safetensors file, or the whole model as
   an ONNX file (chosen by the .onnx extension). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static bool is_onnx(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".onnx") == 0;
}

static int export_onnx(const nb_model *m, const char *model_path, const char *path)
{
    nb_status st = nb_onnx_save(m, path);
    if (st == NB_OK) {
        printf("exported %zu layers (%zu parameters%s%s) to %s as ONNX opset %d\n",
               nb_net_num_layers(m->net), nb_net_num_params(m->net),
               m->norm ? ", input standardisation as Sub/Div" : "",
               m->target_norm ? ", target standardisation as Mul/Add" : "", path, NB_ONNX_OPSET);
        return CLI_OK;
    }
    if (st == NB_ERR_UNSUPPORTED && !nb_onnx_available())
        return cli_error("export", "this build of nablas has no ONNX support (configure with "
                         "-Donnx=enabled and libprotobuf-c-dev, protobuf-c-compiler)");
    if (st == NB_ERR_UNSUPPORTED)
        return cli_error("export", "%s: a class or column name is not UTF-8 (ONNX metadata "
                         "holds them as JSON)", model_path);
    if (st == NB_ERR_IO)
        return cli_error("export", "cannot write %s", path);
    return cli_error("export", "%s: %s", path, nb_status_str(st));
}

static cli_opt opts[] = {
    {"fold", NULL, "safetensors: fold the standardisations into the first and last layers, so "
                   "that PyTorch's Sequential takes raw inputs and answers in the targets' units "
                   "(nablas import then predicts to float rounding, not bit for bit)", NULL},
};

/* The safetensors file of m: its own weights and the standardisations in the metadata, or
   (fold) the standardisations folded into the weights. */
static int export_st(const nb_model *m, bool fold, const char *model_path, const char *path)
{
    errno = 0;
    nb_status st = nb_safetensors_save_model(m, fold, path);
    int e = errno; /* the writer's reason (no space left, read-only, ...) */
    if (st == NB_OK) {
        size_t idx = 0;
        const char *in = !m->norm ? "" : fold ? ", standardisation folded into layer 0"
                                              : ", input standardisation in the metadata";
        const char *out = !m->target_norm ? ""
                          : fold ? ", target standardisation folded into the last layer"
                                 : ", target standardisation in the metadata";
        printf("exported %zu layers (%zu parameters%s%s) to %s as", nb_net_num_layers(m->net),
               nb_net_num_params(m->net), in, out, path);
        for (size_t l = 0; l < nb_net_num_layers(m->net); l++) {
            nb_layer_spec s;
            nb_net_layer(m->net, l, &s);
            printf(" %zu.*", idx);
            idx += 1 + (s.act != NB_ACT_IDENTITY);
        }
        putchar('\n');
        return CLI_OK;
    }
    if (st == NB_ERR_UNSUPPORTED && fold && m->target_norm)
        return cli_error("export", "%s: its target standardisation cannot be folded into a last "
                         "layer whose activation is not identity (export without --fold)",
                         model_path);
    if (st == NB_ERR_UNSUPPORTED)
        return cli_error("export", "%s: a class or column name is not UTF-8 (safetensors "
                         "metadata holds them as JSON)", model_path);
    if (st == NB_ERR_IO)
        return cli_error("export", "cannot write %s: %s", path, e ? strerror(e) : nb_status_str(st));
    return cli_error("export", "%s: %s", path, nb_status_str(st));
}

int cmd_export(int argc, char **argv)
{
    /* Two positional arguments and no valued options: every word not starting with '-' is one. */
    const char *pos[2] = {NULL, NULL};
    char *rest[64];
    int n_rest = 0, n_pos = 0;
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            if (n_rest == 64)
                return cli_usage_error("export", "too many options");
            rest[n_rest++] = argv[i];
        } else if (n_pos < 2) {
            pos[n_pos++] = argv[i];
        } else {
            return cli_usage_error("export", "unexpected argument '%s' (see nablas export --help)",
                                   argv[i]);
        }
    }
    cli_cmd cmd = {"export", "MODEL FILE.safetensors|FILE.onnx [--fold]",
                   "With FILE.onnx, writes the whole model as ONNX (opset 13): Sub/Div for the "
                   "input\nstandardisation, Gemm and an activation node per layer, Mul/Add for "
                   "the target\nstandardisation, so the graph takes and returns your units; "
                   "loss, class and column\nnames in its metadata (docs/onnx.md).  Otherwise "
                   "writes MODEL (atomically) as a safetensors\nfile that PyTorch loads into an "
                   "nn.Sequential of nn.Linear layers with one activation\nmodule after each "
                   "layer whose activation is not identity: a 4-16:relu,3 network becomes\n"
                   "0.weight (16 x 4), 0.bias (16), 2.weight (3 x 16), 2.bias (3), all F32, "
                   "weights out x in\nas nn.Linear holds them.  The header's __metadata__ holds "
                   "the activations, the loss, the\nclass and column names and the "
                   "standardisations (nablas.feature_mean, nablas.feature_std,\n"
                   "nablas.target_mean, nablas.target_std: JSON arrays), so that nablas import "
                   "gives back a\nmodel that predicts bit for bit as MODEL; the weights then "
                   "take standardised inputs.\nWith --fold, the input standardisation is folded "
                   "into the first layer (W / std, b - mean /\nstd W) and the target "
                   "standardisation into the last (which must be identity), so that\nthe "
                   "Sequential takes raw inputs and answers in the targets' units.",
                   opts, sizeof opts / sizeof *opts, NULL, NULL};
    int rc;
    if (!cli_begin(&cmd, n_rest, rest, &rc))
        return rc;
    if (n_pos != 2)
        return cli_usage_error("export", "usage: nablas export MODEL FILE.safetensors|FILE.onnx");
    const char *inputs[] = {pos[0]};
    cli_output outs[] = {{NULL, pos[1]}};
    if ((rc = cli_check_outputs("export", outs, 1, inputs, 1)) != CLI_OK)
        return rc;
    nb_model m;
    if ((rc = cli_load_model("export", pos[0], &m)) != CLI_OK)
        return rc;
    if (is_onnx(pos[1]) && cli_flag(&cmd, "fold"))
        rc = cli_usage_error("export", "--fold is for safetensors files: ONNX keeps the "
                                       "standardisations as Sub/Div and Mul/Add nodes");
    else if (is_onnx(pos[1]))
        rc = export_onnx(&m, pos[0], pos[1]);
    else
        rc = export_st(&m, cli_flag(&cmd, "fold"), pos[0], pos[1]);
    nb_model_free(&m);
    return rc;
}
