/* nablas info: what a model file holds, after the loader has verified it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/train_record.h"

static cli_opt opts[] = {
    {"features", "N", "show the standardisation of up to N features (default 8)", NULL},
};

static const char help[] =
    "Verifies a model file (format, sizes, CRC-32 checksum) and prints its "
    "architecture,\nparameter count, loss, input standardisation and class names. "
    "A damaged file is reported\nwith the reason and exit status 1.";

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

/* A checkpoint (nablas train --checkpoint): where its run stands and the options it records
   (the lines of its note that start with "--").  Nothing for a plain model, nor for a pipe or
   a device (read once already: a second read would wait for more bytes). */
static int show_checkpoint(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return CLI_OK;
    nb_model m;
    nb_trainer *tr;
    char *note;
    nb_status st = nb_checkpoint_load(&m, &tr, &note, path);
    if (st == NB_ERR_ARG)
        return CLI_OK; /* no training state: a plain model */
    if (st != NB_OK)
        return cli_error("info", "%s: its training state cannot be read: %s", path,
                         nb_status_str(st));
    nb_train_position pos;
    nb_trainer_position(tr, &pos);
    char *total = cli_run_value(note, "epochs"); /* NULL: not written by nablas train */
    printf("checkpoint     %llu%s%s epochs done, %llu steps", (unsigned long long)pos.epochs_done,
           total ? " of " : "", total ? total : "", (unsigned long long)pos.steps_done);
    free(total);
    if (pos.best_epoch)
        printf("; best epoch %zu (validation loss %.6g), then %zu without a lower one",
               pos.best_epoch, pos.best_val_loss, pos.bad_epochs);
    printf("%s\n", pos.stopped ? "; stopped early" : "");
    bool first = true;
    for (const char *p = note; p && *p;) {
        const char *end = strchr(p, '\n');
        int n = end ? (int)(end - p) : (int)strlen(p);
        if (n > 2 && p[0] == '-' && p[1] == '-') {
            printf("%s%.*s\n", first ? "train options  " : "               ", n, p);
            first = false;
        }
        p = end ? end + 1 : NULL;
    }
    nb_trainer_free(tr); /* before the model: it borrows m.net */
    nb_model_free(&m);
    free(note);
    return CLI_OK;
}

int cmd_info(int argc, char **argv)
{
    cli_cmd cmd = {"info", "MODEL", help, opts, sizeof opts / sizeof *opts, "MODEL", NULL};
    int rc;
    if (!cli_begin(&cmd, argc, argv, &rc))
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
    return show_checkpoint(cmd.pos_value);
}
