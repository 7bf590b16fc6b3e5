/* nablas info: what a model file holds, after the loader has verified it. */
#include <stdio.h>
#include <sys/stat.h>

#include "cli/cli.h"

static cli_opt opts[] = {
    {"features", "N", "show the standardisation of up to N features (default 8)", NULL},
};

static void show_names(const char *label, char *const *names, size_t n, size_t max)
{
    if (!n)
        return;
    printf("%s %zu:", label, n);
    for (size_t k = 0; k < n && k < max; k++)
        printf("%s %s", k ? "," : "", names[k]);
    printf("%s\n", n > max ? ", ..." : "");
}

static void show(const char *path, const nb_model *m, size_t max_features)
{
    struct stat st;
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    const nb_net *net = m->net;
    printf("model          %s (%lld bytes, format version %u)\n", path, bytes, m->version);
    printf("checksum       OK (crc32 %08x)\n", m->crc32);
    if (m->skipped_sections)
        printf("sections       %zu optional section%s this version does not know (skipped)\n",
               m->skipped_sections, m->skipped_sections == 1 ? "" : "s");
    printf("inputs         %zu\n", nb_net_inputs(net));
    printf("layers         %zu\n", nb_net_num_layers(net));
    size_t in = nb_net_inputs(net);
    for (size_t l = 0; l < nb_net_num_layers(net); l++) {
        nb_layer_spec s;
        nb_net_layer(net, l, &s);
        printf("  %2zu  dense %6zu -> %-6zu %-11s %zu parameters\n", l + 1, in, s.units,
               nb_act_name(s.act), (in + 1) * s.units);
        in = s.units;
    }
    printf("parameters     %zu\n", nb_net_num_params(net));
    printf("loss           %s\n", cli_loss_name(m->loss));
    if (m->norm) {
        size_t n = nb_norm_features(m->norm);
        printf("normalisation  standardised inputs: (x - mean) / std per feature\n");
        const float *mean = nb_norm_mean(m->norm), *sd = nb_norm_std(m->norm);
        for (size_t j = 0; j < n && j < max_features; j++)
            printf("  feature %-4zu mean %-12.6g std %.6g\n", j, (double)mean[j], (double)sd[j]);
        if (n > max_features)
            printf("  ... %zu more features\n", n - max_features);
    } else {
        printf("normalisation  none\n");
    }
    if (m->target_norm) {
        size_t n = nb_norm_features(m->target_norm);
        const float *mean = nb_norm_mean(m->target_norm), *sd = nb_norm_std(m->target_norm);
        printf("targets        standardised: the outputs y' mean y = y' * std + mean\n");
        for (size_t j = 0; j < n && j < max_features; j++)
            printf("  output %-5zu mean %-12.6g std %.6g\n", j, (double)mean[j], (double)sd[j]);
        if (n > max_features)
            printf("  ... %zu more outputs\n", n - max_features);
    }
    show_names("feature names ", m->feature_names, m->n_feature_names, max_features);
    show_names("target names  ", m->target_names, m->n_target_names, max_features);
    if (m->n_classes) {
        printf("classes        %zu:", m->n_classes);
        for (size_t k = 0; k < m->n_classes; k++)
            printf("%s %s", k ? "," : "", m->class_names[k]);
        putchar('\n');
    } else {
        printf("classes        none (regression or unnamed outputs)\n");
    }
}

int cmd_info(int argc, char **argv)
{
    cli_cmd cmd = {"info", "MODEL",
                   "Verifies a model file (format, sizes, CRC-32 checksum) and prints its "
                   "architecture,\nparameter count, loss, input standardisation and class names. "
                   "A damaged file is reported\nwith the reason and exit status 1.",
                   opts, sizeof opts / sizeof *opts, "MODEL", NULL};
    bool help;
    int rc = cli_parse(&cmd, argc, argv, &help);
    if (rc != CLI_OK || help)
        return rc;
    if (!cmd.pos_value)
        return cli_usage_error("info", "which model? usage: nablas info MODEL");
    size_t maxf;
    if (!cli_size(&cmd, "features", 8, 0, &maxf))
        return CLI_USAGE;
    nb_model m;
    if ((rc = cli_load_model("info", cmd.pos_value, &m)) != CLI_OK)
        return rc;
    show(cmd.pos_value, &m, maxf);
    nb_model_free(&m);
    return CLI_OK;
}
