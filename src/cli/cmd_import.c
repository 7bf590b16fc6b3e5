/* nablas import: a PyTorch-style safetensors file (nn.Sequential of nn.Linear) or an ONNX file
   (chosen by the .onnx extension) as a model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/layers.h"

static cli_opt opts[] = {
    {"layers", "SPEC", "the layers as for train, e.g. 16:relu,3 (default: the activations "
                       "nablas export wrote in the file's metadata)", NULL},
    {"out", "MODEL", "where to write the model (required)", NULL},
    {"loss", "NAME", "the model's loss for eval: mse, bce or softmax-ce (default mse; ONNX: "
                     "the file's, softmax-ce after a final LogSoftmax)", NULL},
};

static const char help[] =
    "Builds a model from an ONNX file (by its .onnx extension: the layers, "
    "activations,\nstandardisations, names and loss come from the file; "
    "docs/onnx.md says what is read)\nor from a safetensors file laid out as a PyTorch nn.Sequential "
    "of nn.Linear\nlayers: {i}.weight (out x in) and {i}.bias for increasing "
    "indices i (activation modules\nmay take indices in between).  The input "
    "width comes from the first weight; --layers\ngives each layer's units "
    "(checked against the file) and activation; without it the\nactivations "
    "come from the file's metadata, which nablas export writes (PyTorch's\n"
    "weights alone do not say them).  F32, F16, BF16 and F64 tensors are read.  The model takes raw inputs (no standardisation).";

static bool parse_loss(const char *s, nb_loss *out)
{
    for (int l = 0; l < NB_LOSS_COUNT; l++)
        if (strcmp(s, cli_loss_name((nb_loss)l)) == 0) {
            *out = (nb_loss)l;
            return true;
        }
    if (strcmp(s, "softmax_ce") != 0)
        return false;
    *out = NB_LOSS_SOFTMAX_CE;
    return true;
}

/* The file does not fit --layers: say which layer, when the file itself is a chain of layers
   (loaded again with every width taken from it). */
static int shape_error(const char *path, const char *spec, const nb_layer_spec *L, size_t n)
{
    nb_layer_spec *any = malloc(n * sizeof *any);
    nb_net *net = NULL;
    nb_status st = NB_ERR_NOMEM;
    if (any) {
        for (size_t l = 0; l < n; l++)
            any[l] = (nb_layer_spec){0, L[l].act, 0.0f};
        st = nb_safetensors_load(&net, path, any, n);
        free(any);
    }
    int rc;
    if (st != NB_OK) {
        rc = cli_error("import", "%s: its tensors do not fit --layers %s (number of layers "
                       "differs, or a weight is not 2-D)", path, spec);
    } else {
        size_t l = 0;
        nb_layer_spec s = {0, NB_ACT_IDENTITY, 0.0f};
        for (; l < n; l++) {
            nb_net_layer(net, l, &s);
            if (s.units != L[l].units)
                break;
        }
        rc = cli_error("import", "%s: layer %zu has %zu units in the file, --layers %s says %zu",
                       path, l + 1, s.units, spec, L[l < n ? l : n - 1].units);
    }
    nb_net_free(net);
    return rc;
}

/* The message for a failed nb_safetensors_load of path (with_layers: --layers was given). */
static int load_error(const char *path, nb_status st, bool with_layers)
{
    if (st == NB_ERR_IO)
        return cli_error("import", "cannot read %s", path);
    if (st == NB_ERR_ARG && !with_layers)
        return cli_error("import", "%s does not name its activations (it was not written by "
                         "nablas export): give --layers", path);
    if (st == NB_ERR_SHAPE)
        return cli_error("import", "%s: its tensors are not a chain of layers (a weight is not "
                         "2-D, or widths do not follow)", path);
    if (st == NB_ERR_LIMIT)
        return cli_error("import", "%s: its header length exceeds 100000000 bytes (not a "
                         "safetensors file, or damaged)", path);
    if (st == NB_ERR_UNSUPPORTED)
        return cli_error("import", "%s: %s (only {i}.weight / {i}.bias tensors of F32, F16, "
                         "BF16 or F64)", path, nb_status_str(st));
    return cli_error("import", "%s: %s", path, nb_status_str(st));
}

/* What the imported network holds, where it came from and where it went. */
static void summary(const nb_net *net, const char *from, const char *out)
{
    printf("imported %zu-", nb_net_inputs(net));
    for (size_t l = 0; l < nb_net_num_layers(net); l++) {
        nb_layer_spec s;
        nb_net_layer(net, l, &s);
        printf("%s%zu:%s", l ? "," : "", s.units, nb_act_name(s.act));
    }
    printf(" network (%zu parameters) from %s; model saved to %s\n", nb_net_num_params(net),
           from, out);
}

/* Saves the imported network as a model file at out and says what it holds. */
static int save(nb_net *net, nb_loss loss, const char *from, const char *out)
{
    nb_model m = {.net = net, .loss = loss};
    errno = 0;
    nb_status st = nb_model_save(&m, out);
    int e = errno; /* the writer's reason (no space left, read-only, ...) */
    if (st == NB_OK)
        summary(net, from, out);
    return st == NB_OK ? CLI_OK
                       : cli_error("import", "cannot save %s: %s", out,
                                   st == NB_ERR_IO && e ? strerror(e) : nb_status_str(st));
}

static bool is_onnx(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".onnx") == 0;
}

/* An ONNX file: the model (network, standardisations, names, loss) comes from the file. */
static int import_onnx(const char *path, const char *out, const char *loss_opt, nb_loss loss)
{
    nb_model m;
    nb_onnx_error err;
    nb_status st = nb_onnx_load(&m, path, &err);
    if (st == NB_ERR_UNSUPPORTED && !nb_onnx_available())
        return cli_error("import", "this build of nablas has no ONNX support (configure with "
                         "-Donnx=enabled and libprotobuf-c-dev, protobuf-c-compiler)");
    if (st == NB_ERR_IO)
        return cli_error("import", "cannot read %s", path);
    if (st != NB_OK && err.node[0])
        return cli_error("import", "%s: node '%s' (%s): %s", path, err.node, err.op_type,
                         err.reason);
    if (st != NB_OK)
        return cli_error("import", "%s: %s (%s)", path, err.reason[0] ? err.reason : "cannot be "
                         "imported", nb_status_str(st));
    if (loss_opt) {
        nb_layer_spec last;
        nb_net_layer(m.net, nb_net_num_layers(m.net) - 1, &last);
        if (loss == NB_LOSS_SOFTMAX_CE && last.act != NB_ACT_IDENTITY) {
            nb_model_free(&m);
            return cli_usage_error("import", "--loss softmax-ce takes logits: the last layer's "
                                             "activation must be identity");
        }
        if (loss != NB_LOSS_MSE && m.target_norm) {
            nb_model_free(&m);
            return cli_usage_error("import", "--loss %s: the file has a target "
                                   "standardisation, which goes only with mse", loss_opt);
        }
        m.loss = loss;
    }
    int rc = CLI_OK;
    errno = 0;
    st = nb_model_save(&m, out);
    int e = errno; /* the writer's reason (no space left, read-only, ...) */
    if (st == NB_OK) {
        printf("imported %zu-", nb_net_inputs(m.net));
        for (size_t l = 0; l < nb_net_num_layers(m.net); l++) {
            nb_layer_spec s;
            nb_net_layer(m.net, l, &s);
            printf("%s%zu:%s", l ? "," : "", s.units, nb_act_name(s.act));
        }
        printf(" network (%zu parameters%s%s) from %s; model saved to %s\n",
               nb_net_num_params(m.net), m.norm ? ", input standardisation" : "",
               m.target_norm ? ", target standardisation" : "", path, out);
    } else {
        rc = cli_error("import", "cannot save %s: %s", out,
                       st == NB_ERR_IO && e ? strerror(e) : nb_status_str(st));
    }
    nb_model_free(&m);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    cli_cmd cmd = {"import", "FILE.safetensors|FILE.onnx --out MODEL [--layers SPEC] [options]",
                   help, opts, sizeof opts / sizeof *opts, "FILE.safetensors", NULL};
    int rc;
    if (!cli_begin(&cmd, argc, argv, &rc))
        return rc;
    const char *spec = cli_get(&cmd, "layers"), *out = cli_get(&cmd, "out"),
               *ls = cli_get(&cmd, "loss");
    if (!cmd.pos_value || !out)
        return cli_usage_error("import", "usage: nablas import FILE.safetensors --out MODEL "
                                         "[--layers SPEC]");
    const char *inputs[] = {cmd.pos_value};
    cli_output outs[] = {{"out", out}};
    if ((rc = cli_check_outputs("import", outs, 1, inputs, 1)) != CLI_OK)
        return rc;
    nb_loss loss = NB_LOSS_MSE;
    if (ls && !parse_loss(ls, &loss))
        return cli_usage_error("import", "--loss: unknown loss '%s' (mse, bce, softmax-ce)", ls);
    if (is_onnx(cmd.pos_value)) {
        if (spec)
            return cli_usage_error("import", "--layers is for safetensors files: an ONNX file "
                                             "describes its layers");
        return import_onnx(cmd.pos_value, out, ls, loss);
    }
    nb_layer_spec *L = NULL;
    size_t n = 0;
    char why[200];
    if (spec && !cli_parse_layers(spec, &L, &n, why, sizeof why))
        return cli_usage_error("import", "--layers: %s", why);
    if (L && loss == NB_LOSS_SOFTMAX_CE && L[n - 1].act != NB_ACT_IDENTITY) {
        free(L);
        return cli_usage_error("import", "--loss softmax-ce takes logits: the last layer's "
                                         "activation must be identity");
    }
    nb_net *net = NULL;
    nb_status st = nb_safetensors_load(&net, cmd.pos_value, L, n);
    if (st == NB_ERR_SHAPE && L) {
        rc = shape_error(cmd.pos_value, spec, L, n);
        free(L);
        return rc;
    }
    free(L);
    if (st != NB_OK)
        return load_error(cmd.pos_value, st, spec != NULL);
    nb_layer_spec last;
    nb_net_layer(net, nb_net_num_layers(net) - 1, &last);
    if (loss == NB_LOSS_SOFTMAX_CE && last.act != NB_ACT_IDENTITY) {
        nb_net_free(net);
        return cli_usage_error("import", "--loss softmax-ce takes logits: the last layer's "
                                         "activation must be identity");
    }
    rc = save(net, loss, cmd.pos_value, out);
    nb_net_free(net);
    return rc;
}
