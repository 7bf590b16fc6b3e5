/* Benchmark helpers: see bench_util.h. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bench_util.h"
#include "nablas.h"
#include "core/pool.h"    /* bu_pool_warm */
#include "core/threads.h" /* NB_THREADS_MIN_MNK, for the header line */

double bu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bu_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

float *bu_alloc(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu floats)\n", n);
        exit(2);
    }
    memset(p, 0, bytes);
    return p;
}

void bu_fill_uniform(float *p, size_t n, unsigned long long seed, float lo, float hi)
{
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (float)nb_rng_uniform(&r);
}

void bu_print_header(FILE *f, const char *prog)
{
    const char *env = getenv("OPENBLAS_CORETYPE");
    fprintf(f, "%s: OpenBLAS core %s (OPENBLAS_CORETYPE=%s), threads up to %d (nb_get_threads: "
               "products from %.0fM multiply-adds use them all, smaller ones one; nablas' own "
               "kernels run on the calling thread)\n",
            prog, nb_blas_corename(), env && *env ? env : "unset", nb_get_threads(),
            NB_THREADS_MIN_MNK / 1e6);
}

size_t bu_parse_int_list(const char *s, int *out, size_t max)
{
    size_t n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 1024 || n == max)
            return 0;
        out[n++] = (int)v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return 0;
    }
    return n;
}

bool bu_in_list(const char *list, const char *name)
{
    if (!list)
        return true;
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == len && !strncmp(p, name, l))
            return true;
        p += l + (c != NULL);
    }
    return false;
}

static void json_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

bu_json *bu_json_open(const char *path, const char *prog)
{
    if (!path)
        return NULL;
    bu_json *j = calloc(1, sizeof *j);
    if (!j || !(j->f = fopen(path, "w"))) {
        fprintf(stderr, "%s: cannot write %s\n", prog, path);
        exit(2);
    }
    const char *env = getenv("OPENBLAS_CORETYPE");
    fprintf(j->f, "{\"header\": {\"program\": ");
    json_escaped(j->f, prog);
    fprintf(j->f, ", \"corename\": ");
    json_escaped(j->f, nb_blas_corename());
    fprintf(j->f, ", \"openblas_coretype_env\": ");
    json_escaped(j->f, env ? env : "");
    fprintf(j->f, ", \"blas_threads\": %d, \"nablas_threads\": %d},\n \"rows\": [",
            openblas_get_num_threads(), nb_get_threads());
    return j;
}

void bu_json_row(bu_json *j)
{
    if (!j)
        return;
    fprintf(j->f, "%s\n  {", j->rows ? "}," : "");
    j->rows++;
    j->fields = 0;
}

void bu_json_str(bu_json *j, const char *key, const char *val)
{
    if (!j)
        return;
    fprintf(j->f, "%s", j->fields++ ? ", " : "");
    json_escaped(j->f, key);
    fputs(": ", j->f);
    json_escaped(j->f, val);
}

void bu_json_num(bu_json *j, const char *key, double val)
{
    if (!j)
        return;
    fprintf(j->f, "%s", j->fields++ ? ", " : "");
    json_escaped(j->f, key);
    if (isfinite(val))
        fprintf(j->f, ": %.9g", val);
    else
        fputs(": null", j->f);
}

void bu_json_close(bu_json *j)
{
    if (!j)
        return;
    fprintf(j->f, "%s\n]}\n", j->rows ? "}" : "");
    fclose(j->f);
    free(j);
}

/* Part 0 of the warming run waits until every other part has started on a worker. */
typedef struct warm_ctx {
    double t0;
    atomic_int started;
} warm_ctx;

static void warm_part(void *ctx, int k, int parts)
{
    warm_ctx *w = ctx;
    if (k > 0) {
        atomic_fetch_add(&w->started, 1);
        return;
    }
    while (atomic_load(&w->started) < parts - 1 && bu_now() - w->t0 < 0.05)
        ;
}

void bu_pool_warm(int threads)
{
    nb__pool_reserve(threads);
    warm_ctx w = {bu_now(), 0};
    nb__pool_run(warm_part, &w, threads);
    /* then idle past the workers' spin, so that they sleep as after any pause in a program
       (a spinning worker would take a busy machine's core from a variant that never uses it) */
    struct timespec pause = {0, 300000};
    nanosleep(&pause, NULL);
}
