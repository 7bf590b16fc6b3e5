/* nablas import: a PyTorch-style safetensors file (nn.Sequential of nn.Linear) as a model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/layers.h"

static cli_opt opts[] = {
    {"layers", "SPEC", "the layers as for train, e.g. 16:relu,3 (required): the file holds no "
                       "activations", NULL},
    {"out", "MODEL", "where to write the model (required)", NULL},
    {"loss", "NAME", "the model's loss for eval: mse, bce or softmax-ce (default mse)", NULL},
};

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

int cmd_import(int argc, char **argv)
{
    cli_cmd cmd = {"import", "FILE.safetensors --layers SPEC --out MODEL [options]",
                   "Builds a model from a safetensors file laid out as a PyTorch nn.Sequential "
                   "of nn.Linear\nlayers: {i}.weight (out x in) and {i}.bias for increasing "
                   "indices i (activation modules\nmay take indices in between).  The input "
                   "width comes from the first weight; --layers\ngives each layer's units "
                   "(checked against the file) and activation.  F32, F16, BF16 and\nF64 "
                   "tensors are read.  The model takes raw inputs (no standardisation).",
                   opts, sizeof opts / sizeof *opts, "FILE.safetensors", NULL};
    bool help;
    int rc = cli_parse(&cmd, argc, argv, &help);
    if (rc != CLI_OK || help)
        return rc;
    const char *spec = cli_get(&cmd, "layers"), *out = cli_get(&cmd, "out"),
               *ls = cli_get(&cmd, "loss");
    if (!cmd.pos_value || !spec || !out)
        return cli_usage_error("import", "usage: nablas import FILE.safetensors --layers SPEC "
                                         "--out MODEL");
    const char *inputs[] = {cmd.pos_value};
    cli_output outs[] = {{"out", out}};
    if ((rc = cli_check_outputs("import", outs, 1, inputs, 1)) != CLI_OK)
        return rc;
    nb_loss loss = NB_LOSS_MSE;
    if (ls && !parse_loss(ls, &loss))
        return cli_usage_error("import", "--loss: unknown loss '%s' (mse, bce, softmax-ce)", ls);
    nb_layer_spec *L;
    size_t n;
    char why[200];
    if (!cli_parse_layers(spec, &L, &n, why, sizeof why))
        return cli_usage_error("import", "--layers: %s", why);
    if (loss == NB_LOSS_SOFTMAX_CE && L[n - 1].act != NB_ACT_IDENTITY) {
        free(L);
        return cli_usage_error("import", "--loss softmax-ce takes logits: the last layer's "
                                         "activation must be identity");
    }
    nb_net *net = NULL;
    nb_status st = nb_safetensors_load(&net, cmd.pos_value, L, n);
    free(L);
    if (st == NB_ERR_IO)
        return cli_error("import", "cannot read %s", cmd.pos_value);
    if (st == NB_ERR_SHAPE)
        return cli_error("import", "%s: its tensors do not fit --layers %s (number of layers or "
                         "units differ, or a weight is not 2-D)", cmd.pos_value, spec);
    if (st == NB_ERR_LIMIT)
        return cli_error("import", "%s: its header length exceeds 100000000 bytes (not a "
                         "safetensors file, or damaged)", cmd.pos_value);
    if (st == NB_ERR_UNSUPPORTED)
        return cli_error("import", "%s: %s (only {i}.weight / {i}.bias tensors of F32, F16, "
                         "BF16 or F64)", cmd.pos_value, nb_status_str(st));
    if (st != NB_OK)
        return cli_error("import", "%s: %s", cmd.pos_value, nb_status_str(st));
    nb_model m = {.net = net, .loss = loss};
    st = nb_model_save(&m, out);
    if (st == NB_OK) {
        printf("imported %zu-", nb_net_inputs(net));
        for (size_t l = 0; l < nb_net_num_layers(net); l++) {
            nb_layer_spec s;
            nb_net_layer(net, l, &s);
            printf("%s%zu:%s", l ? "," : "", s.units, nb_act_name(s.act));
        }
        printf(" network (%zu parameters) from %s; model saved to %s\n", nb_net_num_params(net),
               cmd.pos_value, out);
    } else {
        rc = cli_error("import", "cannot save %s: %s", out, nb_status_str(st));
    }
    nb_net_free(net);
    return rc;
}
