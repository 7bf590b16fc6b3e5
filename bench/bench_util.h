/* Shared helpers of the benchmark programs: clock, statistics, the run header, option lists
   and a minimal JSON writer.  Not part of the library. */
#ifndef NB_BENCH_UTIL_H
#define NB_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

double bu_now(void);                   /* monotonic seconds */
double bu_median(double *v, size_t n); /* sorts v in place; 0 for n == 0 */
/* Makes nablas' pool workers for `threads` threads (nb_set_threads joins them when it lowers
   the count) and waits until they have run and gone to sleep, so that a timed region that
   follows sees them as a program that never changes its thread count would after a pause (a
   new thread takes 0.3-0.6 ms to start on our VM). */
void bu_pool_warm(int threads);
float *bu_alloc(size_t n);             /* 64-byte aligned floats or exits: a bench, not the library */
void bu_fill_uniform(float *p, size_t n, unsigned long long seed, float lo, float hi);

/* Prints the OpenBLAS core type, OPENBLAS_CORETYPE, BLAS threads and nablas threads. */
void bu_print_header(FILE *f, const char *prog);

/* Parses "1,2,4" into at most max positive ints; returns the count, 0 on error. */
size_t bu_parse_int_list(const char *s, int *out, size_t max);
/* True if `name` is in the comma-separated list (NULL list: everything is). */
bool bu_in_list(const char *list, const char *name);

/* JSON: one object {"header":{...},"rows":[{...},...]}; every call is a no-op on NULL. */
typedef struct bu_json { FILE *f; int rows; int fields; } bu_json;
bu_json *bu_json_open(const char *path, const char *prog); /* NULL path: returns NULL */
void bu_json_row(bu_json *j);
void bu_json_str(bu_json *j, const char *key, const char *val);
void bu_json_num(bu_json *j, const char *key, double val); /* non-finite: null */
void bu_json_close(bu_json *j);

#endif
