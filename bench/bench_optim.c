/* nablas-bench-optim: every optimizer's step (and gradient clipping) on a flat buffer of 10^7
   parameters, in GB/s of the bytes it must read and write, beside memcpy moving the same
   bytes in the same run (the samples of the two alternate).  An update streams its arrays
   once, so memcpy's bandwidth is its bound; the target is >= 60% of it for every update. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "bench_util.h"
#include "nablas.h"
#include "optim/optim.h" /* NB_OPTIM_SPLIT_MIN, for --threads-ab */

typedef struct variant {
    const char *name;
    nb_optim_kind kind;
    double momentum;
    bool nesterov, amsgrad, centered, clip;
    double arrays; /* float arrays read + written per parameter */
} variant;

static const variant VARIANTS[] = {
    /* p, g read; p written */
    {"sgd", NB_OPTIM_SGD, 0.0, false, false, false, false, 3},
    /* + momentum buffer read and written */
    {"sgd_momentum", NB_OPTIM_SGD, 0.9, false, false, false, false, 5},
    {"sgd_nesterov", NB_OPTIM_SGD, 0.9, true, false, false, false, 5},
    /* p, g, m, v read; p, m, v written: 7 (amsgrad: + vmax read and written) */
    {"adam", NB_OPTIM_ADAM, 0.0, false, false, false, false, 7},
    {"adam_amsgrad", NB_OPTIM_ADAM, 0.0, false, true, false, false, 9},
    {"adamw", NB_OPTIM_ADAMW, 0.0, false, false, false, false, 7},
    {"rmsprop", NB_OPTIM_RMSPROP, 0.0, false, false, false, false, 5},
    {"rmsprop_momentum", NB_OPTIM_RMSPROP, 0.9, false, false, false, false, 7},
    {"rmsprop_centered", NB_OPTIM_RMSPROP, 0.0, false, false, true, false, 7},
    {"rmsprop_mom_centered", NB_OPTIM_RMSPROP, 0.9, false, false, true, false, 9},
    /* the norm reads g once (when it clips, one more pass reads and writes g) */
    {"clip_grad_norm", NB_OPTIM_SGD, 0.0, false, false, false, true, 1},
};
enum { N_VARIANTS = sizeof VARIANTS / sizeof VARIANTS[0], MAX_SAMPLES = 64 };

static void usage(FILE *f)
{
    fputs("usage: nablas-bench-optim [--optimizer NAME,...] [--params N] [--samples S] [--quick]\n"
          "                          [--threads-ab] [--json FILE]\n"
          "  One step of each optimizer on N parameters (default 10^7), S samples (default 9;\n"
          "  --quick 3) alternating with memcpy of the same number of bytes.  Prints GB/s of\n"
          "  bytes read + written for both and the ratio optimizer / memcpy (target >= 0.60).\n"
          "  optimizers: sgd sgd_momentum sgd_nesterov adam adam_amsgrad adamw rmsprop\n"
          "              rmsprop_momentum rmsprop_centered rmsprop_mom_centered clip_grad_norm\n"
          "  --threads-ab  instead: each step at one thread and at all threads (nb_get_threads at\n"
          "                start) alternating, and the ratio (above 1: the threads pay)\n",
          f);
}

int main(int argc, char **argv)
{
    const char *only = NULL, *json = NULL;
    bool threads_ab = false;
    size_t n = 10000000, samples = 9;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            samples = 3;
        } else if (!strcmp(a, "--threads-ab")) {
            threads_ab = true;
        } else if (v && !strcmp(a, "--optimizer")) {
            only = argv[++i];
        } else if (v && !strcmp(a, "--params")) {
            n = strtoull(argv[++i], NULL, 10);
        } else if (v && !strcmp(a, "--samples")) {
            samples = strtoull(argv[++i], NULL, 10);
        } else if (v && !strcmp(a, "--json")) {
            json = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (n == 0 || samples == 0 || samples > MAX_SAMPLES) {
        usage(stderr);
        return 2;
    }
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(_mm_getcsr() | 0x8040); /* no measurement of the denormal slow path */
#endif
    bu_print_header(stdout, "nablas-bench-optim");
    int all = nb_get_threads();
    printf("%zu parameters (%.0f MB per array), %zu samples, medians; one step per sample\n", n,
           4e-6 * (double)n, samples);
    bu_json *js = bu_json_open(json, "nablas-bench-optim");
    float *p = bu_alloc(n), *g = bu_alloc(n);
    size_t copy_max = (size_t)(9.0 / 2.0 * (double)n) + 1;
    float *src = bu_alloc(copy_max), *dst = bu_alloc(copy_max);
    bu_fill_uniform(p, n, 1, -1, 1);
    bu_fill_uniform(g, n, 2, -1, 1);
    bu_fill_uniform(src, copy_max, 3, -1, 1);
    memcpy(dst, src, copy_max * sizeof(float)); /* touch every page before timing */
    if (threads_ab)
        printf("%-22s %7s %12s %12s %8s\n", "optimizer", "arrays", "1 thread", "threads", "1t/nt");
    else
        printf("%-22s %7s %10s %10s %8s\n", "optimizer", "arrays", "GB/s", "memcpy", "ratio");
    double worst = 1e300;
    for (size_t v = 0; v < N_VARIANTS; v++) {
        const variant *V = &VARIANTS[v];
        if (!bu_in_list(only, V->name))
            continue;
        nb_optim_opts o = nb_optim_opts_default(V->kind);
        o.momentum = V->momentum;
        o.nesterov = V->nesterov;
        o.amsgrad = V->amsgrad;
        o.centered = V->centered;
        if (V->kind == NB_OPTIM_SGD)
            o.lr = 1e-4;
        nb_optim *opt;
        if (nb_optim_create(&opt, n, &o) != NB_OK) {
            fprintf(stderr, "nablas-bench-optim: cannot create %s\n", V->name);
            return 1;
        }
        double bytes = V->arrays * 4.0 * (double)n;
        size_t copy = (size_t)(bytes / 2.0); /* memcpy reads and writes each byte it copies */
        double t_opt[MAX_SAMPLES], t_cpy[MAX_SAMPLES];
        double total = 0.0;
        nb_optim_step(opt, p, g); /* first step: SGD momentum's buffer copy; pages touched */
        if (threads_ab && V->clip) { /* the norm is a reduction: it stays on one thread */
            nb_optim_free(opt);
            continue;
        }
        if (threads_ab) { /* one thread vs all, samples alternating */
            for (size_t s = 0; s < samples; s++)
                for (int k = 0; k < 2; k++) {
                    int which = (int)((s + (size_t)k) % 2);
                    nb_set_threads(which ? all : 1); /* 1 joins the pool's workers: */
                    bu_pool_warm(which ? all : 1);   /* made again here, not in the step */
                    double t0 = bu_now();
                    nb_optim_step(opt, p, g);
                    (which ? t_cpy : t_opt)[s] = bu_now() - t0;
                }
            nb_set_threads(all);
            double a = bu_median(t_opt, samples), c = bu_median(t_cpy, samples);
            printf("%-22s %7.0f %9.3f ms %9.3f ms %8.2f\n", V->name, V->arrays, a * 1e3, c * 1e3,
                   a / c);
            bu_json_row(js);
            bu_json_str(js, "optimizer", V->name);
            bu_json_num(js, "threads", all);
            bu_json_num(js, "one_thread_s", a);
            bu_json_num(js, "threads_s", c);
            nb_optim_free(opt);
            continue;
        }
        for (size_t s = 0; s < samples; s++) {
            double t0 = bu_now();
            if (V->clip)
                nb_clip_grad_norm(g, n, 1e30, &total); /* the norm alone: nothing to scale */
            else
                nb_optim_step(opt, p, g);
            double t1 = bu_now();
            memcpy(dst, src, copy);
            double t2 = bu_now();
            t_opt[s] = t1 - t0;
            t_cpy[s] = t2 - t1;
        }
        double a = bu_median(t_opt, samples), c = bu_median(t_cpy, samples);
        double arrays = V->arrays, gbs = bytes / a * 1e-9, mgbs = bytes / c * 1e-9, ratio = c / a;
        printf("%-22s %7.0f %10.2f %10.2f %8.2f\n", V->name,
               arrays, gbs, mgbs, ratio);
        if (ratio < worst)
            worst = ratio;
        bu_json_row(js);
        bu_json_str(js, "optimizer", V->name);
        bu_json_num(js, "arrays", arrays);
        bu_json_num(js, "gbs", gbs);
        bu_json_num(js, "memcpy_gbs", mgbs);
        bu_json_num(js, "ratio", ratio);
        nb_optim_free(opt);
        (void)total;
    }
    if (threads_ab)
        printf("1t/nt: step time at one thread / at %d threads (ranges of the parameters on nablas' "
               "pool from %d parameters up)\n", all, NB_OPTIM_SPLIT_MIN);
    else
        printf("ratio: optimizer GB/s / memcpy GB/s (same bytes, alternating samples); worst "
               "%.2f (target >= 0.60)\n", worst);
    bu_json_close(js);
    free(p), free(g), free(src), free(dst);
    return 0;
}
