/* The double-precision derivative calls (nb_deriv_*_f64): on float-representable inputs the
   float calls' results widened, bit for bit (Jacobian in both layouts, JVP, VJP; with
   standardisations, probabilities, chunks); every error path before any output is written;
   no allocation after the context is made (one BLAS thread); two threads, two contexts. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "nablas.h"

enum { N = 3, M = 4, ROWS = 45 };

typedef struct fixture {
    nb_net *net;
    nb_norm *norm, *tnorm;
    nb_deriv_ctx *ctx;
    float xf[ROWS * N], vf[ROWS * N], uf[ROWS * M];
    double x[ROWS * N], v[ROWS * N], u[ROWS * M];
} fixture;

static fixture *make(bool probs, nb_deriv_mode mode, size_t max_batch)
{
    fixture *f = calloc(1, sizeof *f);
    cr_assert(f);
    nb_layer_spec spec[] = {{7, NB_ACT_TANH, 0}, {6, NB_ACT_GELU, 0}, {M, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_net_create(&f->net, N, spec, 3, 5), NB_OK);
    const float mx[N] = {1, -2, 0.5f}, sx[N] = {2, 0.25f, 3}, my[M] = {10, 0, -3, 1},
                sy[M] = {4, 0.5f, 2, 1};
    cr_assert_eq(nb_norm_create(&f->norm, N, mx, sx), NB_OK);
    if (!probs)
        cr_assert_eq(nb_norm_create(&f->tnorm, M, my, sy), NB_OK);
    for (size_t i = 0; i < ROWS * N; i++) {
        f->xf[i] = mx[i % N] + sx[i % N] * (float)sin(0.61 * (double)i);
        f->vf[i] = (float)cos(0.3 * (double)i);
        f->x[i] = f->xf[i], f->v[i] = f->vf[i];
    }
    for (size_t i = 0; i < ROWS * M; i++)
        f->u[i] = f->uf[i] = (float)((i * 5 % 11) / 11.0 - 0.3);
    nb_deriv_opts o = {f->norm, f->tnorm, probs, mode};
    cr_assert_eq(nb_deriv_ctx_create(&f->ctx, f->net, &o, max_batch), NB_OK);
    return f;
}

static void drop(fixture *f)
{
    nb_deriv_ctx_free(f->ctx);
    nb_net_free(f->net);
    nb_norm_free(f->norm);
    nb_norm_free(f->tnorm);
    free(f);
}

static void same_widened(const float *a, const double *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double w = a[i];
        cr_assert_eq(memcmp(&w, &b[i], sizeof w), 0, "%s[%zu]: %.9g vs %.9g", what, i, w, b[i]);
    }
}

static void compare(bool probs, nb_deriv_mode mode, size_t max_batch)
{
    fixture *f = make(probs, mode, max_batch);
    static float J[ROWS * M * N], Yf[ROWS * M], JV[ROWS * M], UJ[ROWS * N];
    static double Jd[ROWS * M * N], Yd[ROWS * M], JVd[ROWS * M], UJd[ROWS * N];
    nb_tensor X = nb_tensor_view(f->xf, ROWS, N), V = nb_tensor_view(f->vf, ROWS, N);
    nb_tensor U = nb_tensor_view(f->uf, ROWS, M), Y = nb_tensor_view(Yf, ROWS, M);
    nb_tensor TJ = nb_tensor_view(J, ROWS, M * N), TJV = nb_tensor_view(JV, ROWS, M);
    nb_tensor TUJ = nb_tensor_view(UJ, ROWS, N);

    cr_assert_eq(nb_deriv_jacobian(f->ctx, &X, &TJ, &Y), NB_OK);
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, f->x, ROWS, Jd, Yd), NB_OK);
    same_widened(J, Jd, ROWS * M * N, "J");
    same_widened(Yf, Yd, ROWS * M, "y");
    cr_assert_eq(nb_deriv_jacobian_t(f->ctx, &X, &TJ, NULL), NB_OK);
    cr_assert_eq(nb_deriv_jacobian_t_f64(f->ctx, f->x, ROWS, Jd, NULL), NB_OK);
    same_widened(J, Jd, ROWS * M * N, "JT");
    cr_assert_eq(nb_deriv_jvp(f->ctx, &X, &V, &TJV, &Y), NB_OK);
    memset(Yd, 0, sizeof Yd);
    cr_assert_eq(nb_deriv_jvp_f64(f->ctx, f->x, f->v, ROWS, JVd, Yd), NB_OK);
    same_widened(JV, JVd, ROWS * M, "jv");
    same_widened(Yf, Yd, ROWS * M, "y of jvp");
    cr_assert_eq(nb_deriv_vjp(f->ctx, &X, &U, &TUJ, NULL), NB_OK);
    cr_assert_eq(nb_deriv_vjp_f64(f->ctx, f->x, f->u, ROWS, UJd, NULL), NB_OK);
    same_widened(UJ, UJd, ROWS * N, "uj");
    drop(f);
}

Test(deriv_f64, equals_the_float_calls)
{
    compare(false, NB_DERIV_AUTO, 16); /* 3 chunks, the last one short */
    compare(false, NB_DERIV_REVERSE, ROWS);
    compare(true, NB_DERIV_FORWARD, 7);
    compare(true, NB_DERIV_AUTO, 100);
}

Test(deriv_f64, errors_write_nothing)
{
    fixture *f = make(false, NB_DERIV_AUTO, 8);
    static double J[ROWS * M * N], y[ROWS * M], jv[ROWS * M], buf[ROWS * (N + M)];
    for (size_t i = 0; i < ROWS * M * N; i++)
        J[i] = -2.5;
    for (size_t i = 0; i < ROWS * M; i++)
        y[i] = jv[i] = -2.5;
    cr_assert_eq(nb_deriv_jacobian_f64(NULL, f->x, ROWS, J, y), NB_ERR_NULL);
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, NULL, ROWS, J, y), NB_ERR_NULL);
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, f->x, ROWS, NULL, y), NB_ERR_NULL);
    cr_assert_eq(nb_deriv_jvp_f64(f->ctx, f->x, NULL, ROWS, jv, y), NB_ERR_NULL);
    cr_assert_eq(nb_deriv_vjp_f64(f->ctx, f->x, NULL, ROWS, jv, y), NB_ERR_NULL);
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, f->x, 0, J, y), NB_ERR_SHAPE);
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, f->x, SIZE_MAX / 4, J, y), NB_ERR_OVERFLOW);
    /* overlaps: an output on an input, on the other output */
    memcpy(buf, f->x, sizeof f->x);
    cr_assert_eq(nb_deriv_jvp_f64(f->ctx, buf, f->v, ROWS, buf + ROWS * N - 1, NULL),
                 NB_ERR_ALIAS);
    cr_assert_eq(nb_deriv_jvp_f64(f->ctx, f->x, buf, ROWS, buf, NULL), NB_ERR_ALIAS);
    cr_assert_eq(nb_deriv_jvp_f64(f->ctx, f->x, f->v, ROWS, jv, jv + 1), NB_ERR_ALIAS);
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, f->x, ROWS, J, J + 5), NB_ERR_ALIAS);
    cr_assert_eq(nb_deriv_vjp_f64(f->ctx, f->x, f->u, ROWS, y, f->u), NB_ERR_ALIAS);
    /* a bad value in the last chunk: refused before the first chunk is written */
    double x[ROWS * N];
    memcpy(x, f->x, sizeof x);
    x[ROWS * N - 1] = NAN;
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, x, ROWS, J, y), NB_ERR_NONFINITE);
    x[ROWS * N - 1] = 0x1.ffffffp127; /* rounds to a float infinity */
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, x, ROWS, J, y), NB_ERR_NONFINITE);
    x[ROWS * N - 1] = -INFINITY;
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, x, ROWS, J, y), NB_ERR_NONFINITE);
    double v[ROWS * N];
    memcpy(v, f->v, sizeof v);
    v[ROWS * N - 1] = 1e300;
    cr_assert_eq(nb_deriv_jvp_f64(f->ctx, f->x, v, ROWS, jv, y), NB_ERR_NONFINITE);
    for (size_t i = 0; i < ROWS * M * N; i++)
        cr_assert_eq(J[i], -2.5, "J[%zu] written", i);
    for (size_t i = 0; i < ROWS * M; i++)
        cr_assert(y[i] == -2.5 && jv[i] == -2.5, "y or jv [%zu] written", i);
    /* the largest double that rounds to FLT_MAX is accepted */
    x[ROWS * N - 1] = 0x1.fffffefffffffp127;
    cr_assert_eq(nb_deriv_jacobian_f64(f->ctx, x, ROWS, J, y), NB_OK);
    drop(f);
}

Test(deriv_f64, no_allocation_after_create)
{
    cr_assert_eq(nb_set_threads(1), NB_OK); /* OpenBLAS's threaded driver may allocate */
    fixture *f = make(true, NB_DERIV_AUTO, 10);
    static double J[ROWS * M * N], y[ROWS * M], jv[ROWS * M], uj[ROWS * N];
    alloc_count_start();
    nb_status s1 = nb_deriv_jacobian_f64(f->ctx, f->x, ROWS, J, y);
    nb_status s2 = nb_deriv_jacobian_t_f64(f->ctx, f->x, ROWS, J, NULL);
    nb_status s3 = nb_deriv_jvp_f64(f->ctx, f->x, f->v, ROWS, jv, y);
    nb_status s4 = nb_deriv_vjp_f64(f->ctx, f->x, f->u, ROWS, uj, NULL);
    size_t n = alloc_count_stop();
    cr_assert(s1 == NB_OK && s2 == NB_OK && s3 == NB_OK && s4 == NB_OK);
    cr_assert_eq(n, 0, "%zu allocations", n);
    drop(f);
}

struct job {
    fixture *f;
    double J[ROWS * M * N];
    nb_status st;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    for (int k = 0; k < 20 && j->st == NB_OK; k++)
        j->st = nb_deriv_jacobian_f64(j->f->ctx, j->f->x, ROWS, j->J, NULL);
    return NULL;
}

Test(deriv_f64, two_threads_two_contexts)
{
    static struct job a, b;
    a.f = make(false, NB_DERIV_AUTO, 16);
    b.f = make(false, NB_DERIV_AUTO, 16);
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, run_job, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, run_job, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert(a.st == NB_OK && b.st == NB_OK);
    static double alone[ROWS * M * N];
    cr_assert_eq(nb_deriv_jacobian_f64(a.f->ctx, a.f->x, ROWS, alone, NULL), NB_OK);
    cr_assert_eq(memcmp(a.J, alone, sizeof alone), 0);
    cr_assert_eq(memcmp(b.J, alone, sizeof alone), 0);
    drop(a.f);
    drop(b.f);
}
