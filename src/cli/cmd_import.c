/* nablas import: a PyTorch state_dict in a safetensors file (its dense layers found in the key
   names) or an ONNX file (chosen by the .onnx extension) as a model. */
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
    {"loss", "NAME", "the model's loss for eval: mse, bce or softmax-ce (default: the file's "
                     "metadata, else mse; ONNX: softmax-ce after a final LogSoftmax)", NULL},
    {"order", "LIST", "the layers' modules in order, e.g. encoder.fc1,decoder.fc1 (default: "
                      "natural order of the names, net.2 before net.10)", NULL},
    {"skip", "LIST", "modules or keys to leave out, e.g. bn1,emb (BatchNorm statistics, "
                     "embeddings; refused by name otherwise)", NULL},
};

static const char help[] =
    "Builds a model from an ONNX file (by its .onnx extension: the layers, activations,\n"
    "standardisations, names and loss come from the file; docs/onnx.md says what is read) or\n"
    "from a PyTorch state_dict in a safetensors file.  Its dense layers are the modules with\n"
    "M.weight (out x in) and optionally M.bias: 0.weight, net.0.weight, model.layers.3.weight,\n"
    "fc1.weight, encoder.fc1.weight.  They are taken in natural order of the module names\n"
    "(digit runs as numbers: net.2 before net.10, fc2 before fc10), or as --order says; any\n"
    "other key (BatchNorm statistics, an embedding) is refused by name unless --skip names it.\n"
    "The input width comes from the first weight; --layers gives each layer's units (checked\n"
    "against the file) and activation; without it the activations come from the file's\n"
    "metadata, which nablas export writes (PyTorch's weights alone do not say them), as do the\n"
    "loss, the standardisations and the class and column names.  F32, F16, BF16 and F64\n"
    "tensors are read.  A file from elsewhere gives a model on raw inputs (no standardisation).";

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

/* The message for a failed import of path: the library's sentence, which names the key. */
static int load_error(const char *path, nb_status st, const nb_st_error *err, const char *spec)
{
    if (st == NB_ERR_SHAPE && spec && strstr(err->reason, "the layers given"))
        return cli_error("import", "%s: %s (--layers %s)", path, err->reason, spec);
    if (st == NB_ERR_IO)
        return cli_error("import", "cannot read %s", path);
    if (st == NB_ERR_LIMIT)
        return cli_error("import", "%s: its header length exceeds 100000000 bytes (not a "
                         "safetensors file, or damaged)", path);
    if (st == NB_ERR_ARG && strcmp(err->key, "nablas.activations") == 0)
        return cli_error("import", "%s does not name its activations (it was not written by "
                         "nablas export): give --layers", path);
    if (err->key[0])
        return cli_error("import", "%s: %s", path, err->reason);
    return cli_error("import", "%s: %s", path, nb_status_str(st));
}

/* Saves the imported model m at out and says what it holds and where it came from. */
static int save(const nb_model *m, const char *from, const char *out)
{
    errno = 0;
    nb_status st = nb_model_save(m, out);
    int e = errno; /* the writer's reason (no space left, read-only, ...) */
    if (st != NB_OK)
        return cli_error("import", "cannot save %s: %s", out,
                         st == NB_ERR_IO && e ? strerror(e) : nb_status_str(st));
    printf("imported %zu-", nb_net_inputs(m->net));
    for (size_t l = 0; l < nb_net_num_layers(m->net); l++) {
        nb_layer_spec s;
        nb_net_layer(m->net, l, &s);
        printf("%s%zu:%s", l ? "," : "", s.units, nb_act_name(s.act));
    }
    const char *has[4] = {m->norm ? "an input standardisation" : NULL,
                          m->target_norm ? "a target standardisation" : NULL,
                          m->n_classes ? "class names" : NULL,
                          m->n_feature_names || m->n_target_names ? "column names" : NULL};
    printf(" network (%zu parameters)", nb_net_num_params(m->net));
    for (int k = 0, first = 1; k < 4; k++)
        if (has[k]) {
            printf("%s%s", first ? " with " : ", ", has[k]);
            first = 0;
        }
    printf(" from %s; model saved to %s\n", from, out);
    return CLI_OK;
}

/* --loss over the file's: refused where it cannot hold (logits, target standardisation). */
static int set_loss(nb_model *m, const char *loss_opt, nb_loss loss)
{
    if (!loss_opt)
        return CLI_OK;
    nb_layer_spec last;
    nb_net_layer(m->net, nb_net_num_layers(m->net) - 1, &last);
    if (loss == NB_LOSS_SOFTMAX_CE && last.act != NB_ACT_IDENTITY)
        return cli_usage_error("import", "--loss softmax-ce takes logits: the last layer's "
                                         "activation must be identity");
    if (loss != NB_LOSS_MSE && m->target_norm)
        return cli_usage_error("import", "--loss %s: the file has a target standardisation, "
                                         "which goes only with mse", loss_opt);
    m->loss = loss;
    return CLI_OK;
}

/* A comma-separated list as n strings pointing into *buf (a malloc'd copy of s). */
static bool split_list(const char *s, char **buf, const char ***items, size_t *n)
{
    size_t count = 1;
    for (const char *c = s; *c; c++)
        count += *c == ',';
    *buf = malloc(strlen(s) + 1);
    *items = malloc(count * sizeof **items);
    if (!*buf || !*items) {
        free(*buf);
        free((void *)*items);
        return false;
    }
    strcpy(*buf, s);
    char *at = *buf;
    for (size_t k = 0; k < count; k++) {
        (*items)[k] = at;
        at += strcspn(at, ",");
        if (*at)
            *at++ = '\0';
    }
    *n = count;
    return true;
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
    int rc = set_loss(&m, loss_opt, loss);
    if (rc == CLI_OK)
        rc = save(&m, path, out);
    nb_model_free(&m);
    return rc;
}

/* A safetensors file: the names as --order and --skip say, the rest from the file. */
static int import_st(const char *path, const char *out, const char *spec,
                     const nb_layer_spec *L, size_t n,
                     const char *order, const char *skip, const char *loss_opt, nb_loss loss)
{
    char *obuf = NULL, *sbuf = NULL;
    nb_st_names names = {NULL, 0, NULL, 0};
    if ((order && !split_list(order, &obuf, (const char ***)&names.order, &names.n_order))
        || (skip && !split_list(skip, &sbuf, (const char ***)&names.skip, &names.n_skip))) {
        free(obuf);
        free((void *)names.order);
        return cli_error("import", "out of memory");
    }
    nb_model m;
    nb_st_error err;
    nb_status st = nb_safetensors_load_model(&m, path, L, n, &names, &err);
    int rc;
    if (st == NB_ERR_ARG && strcmp(err.key, "nablas.activations") != 0)
        rc = cli_usage_error("import", "%s", err.reason); /* --order or --skip */
    else if (st != NB_OK)
        rc = load_error(path, st, &err, spec);
    else if ((rc = set_loss(&m, loss_opt, loss)) == CLI_OK)
        rc = save(&m, path, out);
    if (st == NB_OK)
        nb_model_free(&m);
    free(obuf);
    free(sbuf);
    free((void *)names.order);
    free((void *)names.skip);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    cli_cmd cmd = {"import", "FILE.safetensors|FILE.onnx --out MODEL [--layers SPEC] [--order LIST] [options]",
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
        if (spec || cli_get(&cmd, "order") || cli_get(&cmd, "skip"))
            return cli_usage_error("import", "--%s is for safetensors files: an ONNX file "
                                             "describes its layers",
                                   spec ? "layers" : cli_get(&cmd, "order") ? "order" : "skip");
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
    rc = import_st(cmd.pos_value, out, spec, L, n, cli_get(&cmd, "order"), cli_get(&cmd, "skip"), ls,
                   loss);
    free(L);
    return rc;
}
