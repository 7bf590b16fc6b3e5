/* nablas-bench-train: workloads W1-W4 end to end.  Per workload and thread count: nablas'
   time per epoch (median after warm-up), samples/s, the ratio to the sgemm calls the same
   steps make (replayed in the same run), and the speed-up over a naive-loop trainer. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "core/threads.h" /* nb__thread_policy, for --policy-ab */
#include "naive_train.h"
#include "sgemm_floor.h"
#include "split_ab.h"
#include "workloads.h"

typedef struct options {
    int threads[8];
    size_t n_threads, repeats; /* repeats 0: per-workload default */
    const char *workloads, *json, *dump, *optimizers;
    bool quick, naive, bf16, policy_ab, split_ab, split_sweep;
} options;

static void usage(FILE *f)
{
    fputs("usage: nablas-bench-train [--workload W1,W2,W3,W4] [--threads 1,2] [--repeats N]\n"
          "                          [--quick] [--no-naive] [--json FILE] [--dump-data DIR]\n"
          "  Trains each workload (docs/performance.md) and prints per epoch: nablas' median\n"
          "  time, samples/s, the ratio to the sgemm calls of the same steps (replayed in this run)\n"
          "  and the speed-up over a naive-loop trainer (also in this run; W3's naive trainer is\n"
          "  timed on a few batches and scaled to the epoch).\n"
          "  --threads LIST  BLAS thread counts to run (default 1 and all cores)\n"
          "  --repeats N     timed epochs after warm-up (default per workload: 200/60/3/400)\n"
          "  --quick         fewer repeats (the meson benchmark run)\n"
          "  --dump-data DIR write each workload's data as DIR/W?_X.npy and DIR/W?_T.npy\n"
          "  --bf16          only compare bf16 training products with fp32 (nablas/precision.h):\n"
          "                  epoch times alternating, and the loss after 20 epochs (default W2,W3)\n"
          "  --optimizer LIST W2 and W3 also with adam (lr 1e-3) and/or adamw (lr 1e-3, weight\n"
          "                  decay 0.01), epochs alternating with plain SGD's; prints the ratio\n"
          "  --policy-ab     only compare nablas' per-product thread counts with OpenBLAS's own\n"
          "                  split and with one thread (docs/performance.md)\n"
          "  --split-ab      only compare the batch split across threads (nablas' rule) with\n"
          "                  unsplit steps at the same thread count and with one thread\n"
          "  --split-sweep   only time forced-split vs unsplit steps over networks and batch\n"
          "                  sizes: the measurements behind the split rule\n", f);
}

static int parse(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->naive = true;
    long cores = 2;
#ifdef _SC_NPROCESSORS_ONLN
    cores = sysconf(_SC_NPROCESSORS_ONLN);
#endif
    o->threads[o->n_threads++] = 1;
    if (cores > 1)
        o->threads[o->n_threads++] = (int)cores;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--quick")) {
            o->quick = true;
        } else if (!strcmp(a, "--no-naive")) {
            o->naive = false;
        } else if (!strcmp(a, "--bf16")) {
            o->bf16 = true;
        } else if (!strcmp(a, "--policy-ab")) {
            o->policy_ab = true;
        } else if (!strcmp(a, "--split-ab")) {
            o->split_ab = true;
        } else if (!strcmp(a, "--split-sweep")) {
            o->split_sweep = true;
        } else if (v && !strcmp(a, "--threads")) {
            if (!(o->n_threads = bu_parse_int_list(v, o->threads, 8)))
                return -1;
            i++;
        } else if (v && !strcmp(a, "--repeats")) {
            o->repeats = strtoul(v, NULL, 10);
            if (!o->repeats)
                return -1;
            i++;
        } else if (v && !strcmp(a, "--workload")) {
            o->workloads = v;
            i++;
        } else if (v && !strcmp(a, "--json")) {
            o->json = v;
            i++;
        } else if (v && !strcmp(a, "--optimizer")) {
            o->optimizers = v;
            i++;
        } else if (v && !strcmp(a, "--dump-data")) {
            o->dump = v;
            i++;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Seconds for one epoch of plain SGD: trainer_epoch (below) without an optimizer. */
static double trainer_epoch(nb_trainer *tr, const bw_workload *w, uint64_t seed,
                            const nb_optim_opts *optim, double *loss);
static double nablas_epoch(nb_trainer *tr, const bw_workload *w, uint64_t seed, double *loss)
{
    return trainer_epoch(tr, w, seed, NULL, loss);
}

/* nablas, the sgemm floor and (if nv) the naive trainer, epoch after epoch in alternation so
   that all see the same machine load; medians of `repeats` epochs after `warm`. */
static void timed_set(const bw_workload *w, size_t warm, size_t repeats, naive_net *nv,
                      double *e, double *f, double *naive, double *loss)
{
    nb_net *net;
    nb_trainer *tr;
    if (nb_net_create(&net, w->inputs, w->layers, w->n_layers, 1) != NB_OK
        || nb_trainer_create(&tr, net) != NB_OK)
        exit(2);
    sgemm_floor *fl = floor_create(w);
    double *d = malloc(3 * repeats * sizeof *d);
    for (size_t i = 0; i < warm + repeats; i++) {
        double a = nablas_epoch(tr, w, i, loss), b = floor_epoch_time(fl);
        double c = nv ? naive_epoch_time(nv, w, 0) : 0.0;
        if (i >= warm) {
            d[i - warm] = a;
            d[repeats + i - warm] = b;
            d[2 * repeats + i - warm] = c;
        }
    }
    *e = bu_median(d, repeats);
    *f = bu_median(d + repeats, repeats);
    if (nv)
        *naive = bu_median(d + 2 * repeats, repeats);
    free(d);
    floor_free(fl);
    nb_trainer_free(tr);
    nb_net_free(net);
}

/* Seconds for one epoch of a training run: nb_trainer_run with epochs = 1 on a trainer kept
   across calls, as the epochs of one nb_net_train run share one (the shuffle seed varies per
   call; an optimizer keeps its state), with the given optimizer or plain SGD (NULL). */
static double trainer_epoch(nb_trainer *tr, const bw_workload *w, uint64_t seed,
                            const nb_optim_opts *optim, double *loss)
{
    nb_tensor X = nb_tensor_view(w->X, w->rows, w->inputs);
    nb_tensor T = nb_tensor_view(w->T, w->rows, bw_outputs(w));
    nb_train_opts o = nb_train_opts_default();
    o.loss = w->loss;
    o.batch_size = w->batch;
    o.lr = w->lr;
    o.shuffle = w->shuffle;
    o.epochs = 1;
    o.seed = seed;
    o.optim = optim;
    nb_train_report rep;
    double t0 = bu_now();
    if (nb_trainer_run(tr, &X, &T, &o, &rep) != NB_OK) {
        fprintf(stderr, "nablas-bench-train: nb_trainer_run failed\n");
        exit(2);
    }
    double t = bu_now() - t0;
    *loss = rep.last_loss;
    return t;
}

/* The workload with an optimizer and with plain SGD, epoch for epoch in alternation (two
   networks from the same initialisation); medians of `repeats` epochs after `warm`. */
static void optim_set(const bw_workload *w, const nb_optim_opts *optim, size_t warm,
                      size_t repeats, double *e_opt, double *e_sgd, double *loss)
{
    nb_net *a, *b;
    nb_trainer *ta, *tb;
    if (nb_net_create(&a, w->inputs, w->layers, w->n_layers, 1) != NB_OK ||
        nb_net_create(&b, w->inputs, w->layers, w->n_layers, 1) != NB_OK ||
        nb_trainer_create(&ta, a) != NB_OK || nb_trainer_create(&tb, b) != NB_OK)
        exit(2);
    double *d = malloc(2 * repeats * sizeof *d), l2;
    for (size_t i = 0; i < warm + repeats; i++) {
        double x = trainer_epoch(ta, w, i, optim, loss), y = trainer_epoch(tb, w, i, NULL, &l2);
        if (i >= warm) {
            d[i - warm] = x;
            d[repeats + i - warm] = y;
        }
    }
    *e_opt = bu_median(d, repeats);
    *e_sgd = bu_median(d + repeats, repeats);
    free(d);
    nb_trainer_free(ta);
    nb_trainer_free(tb);
    nb_net_free(a);
    nb_net_free(b);
}

/* The naive trainer of a big workload (W3, ~17 s per epoch): a few steps, scaled. */
static double naive_scaled(const bw_workload *w, bool quick, size_t *steps_timed)
{
    naive_net *n = naive_create(w, 3);
    size_t all = (w->rows + w->batch - 1) / w->batch, steps = quick ? 1 : 3;
    naive_epoch_time(n, w, 1); /* warm-up */
    double t = naive_epoch_time(n, w, steps) * (double)all / (double)steps;
    naive_free(n);
    *steps_timed = steps;
    return t;
}

static size_t default_repeats(const bw_workload *w, bool quick)
{
    static const size_t full[BW_COUNT] = {200, 60, 3, 400};
    size_t i = (size_t)(w->name[1] - '1');
    size_t r = full[i < BW_COUNT ? i : 0];
    return quick ? (r > 3 ? r / 4 : 2) : r;
}

static void dump(const bw_workload *w, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_X.npy", dir, w->name);
    int rc = bw_write_npy(path, w->X, w->rows, w->inputs);
    snprintf(path, sizeof path, "%s/%s_T.npy", dir, w->name);
    rc |= bw_write_npy(path, w->T, w->rows, bw_outputs(w));
    if (rc) {
        fprintf(stderr, "nablas-bench-train: cannot write %s\n", path);
        exit(2);
    }
}

/* --bf16: the same network from the same start in fp32 and in bf16, epoch after epoch in
   alternation (same shuffles); median epoch times and each one's loss after epoch 20 (or the
   last). */
static void bf16_compare(const bw_workload *w, int threads, size_t epochs, bu_json *js)
{
    nb_net *net[2];
    nb_trainer *tr[2];
    for (int p = 0; p < 2; p++)
        if (nb_net_create(&net[p], w->inputs, w->layers, w->n_layers, 1) != NB_OK
            || nb_net_set_precision(net[p], p ? NB_PRECISION_BF16 : NB_PRECISION_FP32) != NB_OK
            || nb_trainer_create(&tr[p], net[p]) != NB_OK)
            exit(2);
    double *d = malloc(2 * epochs * sizeof *d), loss20[2] = {NAN, NAN}, loss;
    size_t at = epochs < 20 ? epochs : 20;
    for (size_t i = 0; i < epochs; i++)
        for (int k = 0; k < 2; k++) {
            int p = (int)((i + (size_t)k) % 2); /* who goes first alternates */
            d[p * epochs + i] = nablas_epoch(tr[p], w, i, &loss);
            if (i + 1 == at)
                loss20[p] = loss;
        }
    size_t warm = epochs > 4 ? 1 : 0; /* the first epoch creates oneDNN's kernels */
    double t32 = bu_median(d + warm, epochs - warm), t16 = bu_median(d + epochs + warm, epochs - warm);
    printf("%-4s %3d %9.4g ms %9.4g ms %9.3fx %6zu %10.5f %10.5f %+8.2f%%\n", w->name, threads,
           t32 * 1e3, t16 * 1e3, t16 / t32, at, loss20[0], loss20[1],
           100.0 * (loss20[1] - loss20[0]) / loss20[0]);
    bu_json_row(js);
    bu_json_str(js, "workload", w->name);
    bu_json_num(js, "threads", threads);
    bu_json_num(js, "fp32_epoch_s", t32);
    bu_json_num(js, "bf16_epoch_s", t16);
    bu_json_num(js, "loss_epoch", (double)at);
    bu_json_num(js, "fp32_loss", loss20[0]);
    bu_json_num(js, "bf16_loss", loss20[1]);
    free(d);
    for (int p = 0; p < 2; p++) {
        nb_trainer_free(tr[p]);
        nb_net_free(net[p]);
    }
}

static int run_bf16(const options *o)
{
    nb_status av = nb_precision_available(NB_PRECISION_BF16);
    if (av != NB_OK) {
        printf("bf16: not available here: %s\n", nb_status_str(av));
        return 0;
    }
    bu_json *js = bu_json_open(o->json, "nablas-bench-train --bf16");
    printf("bf16 vs fp32 training products (oneDNN bf16 matmul, fp32 accumulation), same start, "
           "epochs alternating\n%-4s %3s %12s %12s %10s %6s %10s %10s %9s\n", "wl", "thr",
           "fp32 epoch", "bf16 epoch", "bf16/fp32", "epoch", "fp32 loss", "bf16 loss", "diff");
    for (size_t i = 0; i < BW_COUNT; i++) {
        bw_workload w = bw_get(i);
        if (!bu_in_list(o->workloads ? o->workloads : "W2,W3", w.name))
            continue;
        bw_generate(&w);
        size_t epochs = o->repeats ? o->repeats : w.mflop_epoch > 10000.0 ? (o->quick ? 2 : 5)
                                                                          : (o->quick ? 5 : 21);
        for (size_t t = 0; t < o->n_threads; t++) {
            nb_set_threads(o->threads[t]);
            bf16_compare(&w, o->threads[t], epochs, js);
        }
        bw_free(&w);
    }
    printf("bf16/fp32: median epoch time ratio (below 1: bf16 faster); loss: the epoch's mean "
           "training loss at that epoch.\n");
    bu_json_close(js);
    return 0;
}

/* --policy-ab: nablas' per-product thread counts (core/threads.h) against every product on all
   threads with OpenBLAS's own split, the same network from the same start, epochs alternating. */
static int run_policy_ab(const options *o)
{
    int thr = o->threads[o->n_threads - 1];
    nb_set_threads(thr);
    bu_json *js = bu_json_open(o->json, "nablas-bench-train --policy-ab");
    printf("thread policy at %d threads: nablas' crossover vs OpenBLAS's own split, epochs "
           "alternating\n%-4s %14s %14s %9s %14s %9s\n", thr, "wl", "policy epoch",
           "openblas epoch", "ratio", "1-thread epoch", "2t/1t");
    for (size_t i = 0; i < BW_COUNT; i++) {
        bw_workload w = bw_get(i);
        if (!bu_in_list(o->workloads, w.name))
            continue;
        bw_generate(&w);
        size_t reps = o->repeats ? o->repeats : default_repeats(&w, o->quick);
        nb_net *net[3];
        nb_trainer *tr[3];
        for (int v = 0; v < 3; v++)
            if (nb_net_create(&net[v], w.inputs, w.layers, w.n_layers, 1) != NB_OK
                || nb_trainer_create(&tr[v], net[v]) != NB_OK)
                exit(2);
        double *d = malloc(3 * reps * sizeof *d), loss;
        for (size_t r = 0; r < reps + 1; r++)
            for (int k = 0; k < 3; k++) {
                int v = (int)((r + (size_t)k) % 3); /* 0 policy, 1 OpenBLAS split, 2 one thread */
                nb__thread_policy(v != 1);
                nb_set_threads(v == 2 ? 1 : thr);
                bu_pool_warm(v == 2 ? 1 : thr); /* workers made outside the epoch */
                double t = nablas_epoch(tr[v], &w, r, &loss);
                if (r > 0)
                    d[v * reps + r - 1] = t;
            }
        nb__thread_policy(true);
        nb_set_threads(thr);
        double tp = bu_median(d, reps), to = bu_median(d + reps, reps);
        double t1 = bu_median(d + 2 * reps, reps);
        printf("%-4s %11.4g ms %11.4g ms %8.3fx %11.4g ms %8.3fx\n", w.name, tp * 1e3, to * 1e3,
               tp / to, t1 * 1e3, tp / t1);
        bu_json_row(js);
        bu_json_str(js, "workload", w.name);
        bu_json_num(js, "threads", thr);
        bu_json_num(js, "policy_epoch_s", tp);
        bu_json_num(js, "openblas_split_epoch_s", to);
        bu_json_num(js, "one_thread_epoch_s", t1);
        for (int v = 0; v < 3; v++) {
            nb_trainer_free(tr[v]);
            nb_net_free(net[v]);
        }
        free(d);
        bw_free(&w);
    }
    printf("ratio = policy / OpenBLAS split (below 1: the policy is faster); 2t/1t = policy at %d "
           "threads / one thread.\n", thr);
    bu_json_close(js);
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    bu_print_header(stdout, "nablas-bench-train");
    if (o.bf16)
        return run_bf16(&o);
    if (o.policy_ab)
        return run_policy_ab(&o);
    if (o.split_ab || o.split_sweep) {
        bu_json *js = bu_json_open(o.json, o.split_ab ? "nablas-bench-train --split-ab"
                                                      : "nablas-bench-train --split-sweep");
        int thr = o.threads[o.n_threads - 1];
        int rc = o.split_ab ? split_ab(o.workloads, thr, o.repeats, o.quick, js)
                            : split_sweep(thr, o.repeats, js);
        bu_json_close(js);
        return rc;
    }
    bu_json *js = bu_json_open(o.json, "nablas-bench-train");
    printf("%-4s %3s %12s %12s %10s %12s %9s %12s %9s %8s\n", "wl", "thr", "epoch", "samples/s",
           "GFLOP/s", "sgemm floor", "vs floor", "naive", "speedup", "loss");
    for (size_t i = 0; i < BW_COUNT; i++) {
        bw_workload w = bw_get(i);
        if (!bu_in_list(o.workloads, w.name))
            continue;
        bw_generate(&w);
        if (o.dump)
            dump(&w, o.dump);
        size_t reps = o.repeats ? o.repeats : default_repeats(&w, o.quick);
        size_t warm = reps > 10 ? reps / 10 : 1;
        size_t all = (w.rows + w.batch - 1) / w.batch, timed = all;
        bool big = w.mflop_epoch > 10000.0;
        double naive = NAN;
        if (o.naive && big)
            naive = naive_scaled(&w, o.quick, &timed);
        for (size_t t = 0; t < o.n_threads; t++) {
            nb_set_threads(o.threads[t]);
            naive_net *nt = o.naive && !big ? naive_create(&w, 3) : NULL;
            double loss = NAN, e, f;
            timed_set(&w, warm, reps, nt, &e, &f, &naive, &loss);
            naive_free(nt);
            char nv[32] = "-", sp[32] = "-";
            if (o.naive) {
                snprintf(nv, sizeof nv, "%.4g ms%s", naive * 1e3, timed < all ? "*" : "");
                snprintf(sp, sizeof sp, "%.2fx", naive / e);
            }
            printf("%-4s %3d %9.4g ms %12.0f %10.2f %9.4g ms %8.3fx %12s %9s %8.4f\n", w.name,
                   o.threads[t], e * 1e3, (double)w.rows / e, w.mflop_epoch * 1e-3 / e, f * 1e3,
                   e / f, nv, sp, loss);
            bu_json_row(js);
            bu_json_str(js, "workload", w.name);
            bu_json_num(js, "threads", o.threads[t]);
            bu_json_num(js, "epoch_s", e);
            bu_json_num(js, "samples_per_s", (double)w.rows / e);
            bu_json_num(js, "gflops", w.mflop_epoch * 1e-3 / e);
            bu_json_num(js, "sgemm_floor_s", f);
            bu_json_num(js, "ratio_to_floor", e / f);
            bu_json_num(js, "naive_epoch_s", o.naive ? naive : NAN);
            bu_json_num(js, "naive_steps_timed", (double)timed);
            bu_json_num(js, "steps_per_epoch", (double)((w.rows + w.batch - 1) / w.batch));
            bu_json_num(js, "speedup_vs_naive", o.naive ? naive / e : NAN);
            bu_json_num(js, "repeats", (double)reps);
            bu_json_num(js, "last_loss", loss);
            for (int k = 0; k < 2; k++) { /* the workloads' optimizer variants */
                const char *name = k ? "adamw" : "adam";
                if (!o.optimizers || !bu_in_list(o.optimizers, name) ||
                    (strcmp(w.name, "W2") && strcmp(w.name, "W3")))
                    continue; /* the optimizer variants are W2's and W3's */
                nb_optim_opts op = nb_optim_opts_default(k ? NB_OPTIM_ADAMW : NB_OPTIM_ADAM);
                op.lr = 1e-3; /* AdamW: weight decay 0.01, its default */
                double eo, es, lo = NAN;
                optim_set(&w, &op, warm, reps, &eo, &es, &lo);
                printf("%-4s %3d %9.4g ms %12.0f  with %-5s: plain SGD %.4g ms in the same run, "
                       "%s / SGD %.3fx %8.4f\n", w.name, o.threads[t], eo * 1e3,
                       (double)w.rows / eo, name, es * 1e3, name, eo / es, lo);
                bu_json_row(js);
                bu_json_str(js, "workload", w.name);
                bu_json_str(js, "optimizer", name);
                bu_json_num(js, "threads", o.threads[t]);
                bu_json_num(js, "epoch_s", eo);
                bu_json_num(js, "sgd_epoch_s", es);
                bu_json_num(js, "ratio_to_sgd", eo / es);
                bu_json_num(js, "repeats", (double)reps);
                bu_json_num(js, "last_loss", lo);
            }
        }
        if (o.naive && timed < all)
            printf("     * naive %s: %zu of %zu batches timed, scaled to the epoch\n", w.name,
                   timed, all);
        if (w.run_epochs > 1)
            printf("     (%s runs %zu epochs: multiply the epoch time for the whole run)\n",
                   w.name, w.run_epochs);
        bw_free(&w);
    }
    printf("vs floor = nablas epoch / time of the sgemm calls of the same steps (1.00 = nothing\n"
           "but sgemm); below 1 where nablas' own small-size path replaces those calls.\n"
           "speedup = naive-loop trainer epoch / nablas epoch.\n");
    bu_json_close(js);
    return 0;
}
