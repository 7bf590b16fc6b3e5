/* The double interface of a predictor (nb_predictor_run_f64, nb_predictor_classes_f64): on
   float-representable inputs the float path's answers widened, bit for bit, for regression
   (target standardisation undone) and softmax classifiers, in chunks and not; doubles beyond
   float's range mapped to infinity in their row only; NULLs, zero rows, aliasing, the widths,
   and two threads with two predictors on one model. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "nablas.h"

enum { IN = 3, OUT = 4, ROWS = 203 };

static const float im[IN] = {1, -2, 30}, is[IN] = {2, 0.5f, 40};

static nb_model model_of(nb_loss loss, bool target_norm)
{
    nb_model m = {0};
    nb_layer_spec spec[] = {{8, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_net_create(&m.net, IN, spec, 2, 3), NB_OK);
    m.loss = loss;
    /* larger last-layer weights, so that rows fall in different classes */
    nb_tensor W, b;
    cr_assert_eq(nb_net_layer_params(m.net, 1, &W, &b), NB_OK);
    for (size_t i = 0; i < W.rows * W.cols; i++)
        W.data[i] *= 8.0f;
    const float tm[OUT] = {100, -5, 0, 7}, ts[OUT] = {10, 0.1f, 1, 3};
    cr_assert_eq(nb_norm_create(&m.norm, IN, im, is), NB_OK);
    if (target_norm)
        cr_assert_eq(nb_norm_create(&m.target_norm, OUT, tm, ts), NB_OK);
    return m;
}

static void model_drop(nb_model *m)
{
    nb_net_free(m->net);
    nb_norm_free(m->norm);
    nb_norm_free(m->target_norm);
}

/* Float inputs, different per row, around the input standardisation's means, and the same
   values as doubles. */
static void inputs(float *xf, double *xd)
{
    for (size_t i = 0; i < ROWS * IN; i++) {
        xf[i] = im[i % IN] + is[i % IN] * 2.0f * (float)sin(0.37 * (double)i);
        xd[i] = xf[i];
    }
}

static void same_as_float_path(nb_loss loss, bool target_norm, size_t max_batch)
{
    nb_model m = model_of(loss, target_norm);
    static float xf[ROWS * IN], yf[ROWS * OUT];
    static double xd[ROWS * IN], yd[ROWS * OUT];
    inputs(xf, xd);
    nb_predictor *p;
    cr_assert_eq(nb_predictor_create(&p, &m, max_batch), NB_OK);
    cr_assert_eq(nb_predictor_inputs(p), IN);
    cr_assert_eq(nb_predictor_outputs(p), OUT);
    nb_tensor X = nb_tensor_view(xf, ROWS, IN), Y = nb_tensor_view(yf, ROWS, OUT);
    cr_assert_eq(nb_predictor_run(p, &X, &Y), NB_OK);
    cr_assert_eq(nb_predictor_run_f64(p, xd, ROWS, yd), NB_OK);
    for (size_t i = 0; i < ROWS * OUT; i++) {
        double w = yf[i];
        cr_assert_eq(memcmp(&w, &yd[i], sizeof w), 0, "entry %zu: %.9g vs %.9g", i, w, yd[i]);
    }
    if (loss == NB_LOSS_SOFTMAX_CE) {
        for (size_t r = 0; r < ROWS; r++) {
            double s = 0;
            for (size_t o = 0; o < OUT; o++)
                s += yd[r * OUT + o];
            cr_assert_float_eq(s, 1.0, 1e-6, "row %zu sums to %g", r, s);
        }
        static size_t cf[ROWS], cd[ROWS];
        cr_assert_eq(nb_predictor_classes(p, &X, cf), NB_OK);
        memset(cd, 0xff, sizeof cd);
        cr_assert_eq(nb_predictor_classes_f64(p, xd, ROWS, cd), NB_OK);
        cr_assert_eq(memcmp(cf, cd, sizeof cf), 0);
        bool varied = false;
        for (size_t r = 1; r < ROWS; r++)
            varied |= cd[r] != cd[0];
        cr_assert(varied, "all rows in one class: the test would not see a row mix-up");
    } else if (target_norm) {
        double mean0 = 0;
        for (size_t r = 0; r < ROWS; r++)
            mean0 += yd[r * OUT] / ROWS;
        cr_assert_gt(mean0, 50.0, "output 0 in the targets' units (mean 100, sd 10)");
    }
    nb_predictor_free(p);
    model_drop(&m);
}

Test(predict_f64, regression_equals_the_float_path)
{
    same_as_float_path(NB_LOSS_MSE, true, 64); /* 4 chunks, the last one short */
    same_as_float_path(NB_LOSS_MSE, true, ROWS);
    same_as_float_path(NB_LOSS_MSE, false, 1);
}

Test(predict_f64, classifier_equals_the_float_path)
{
    same_as_float_path(NB_LOSS_SOFTMAX_CE, false, 50);
    same_as_float_path(NB_LOSS_SOFTMAX_CE, false, 1000);
}

Test(predict_f64, beyond_float_range_is_infinity_in_its_row_only)
{
    nb_model m = model_of(NB_LOSS_MSE, false);
    double x[3 * IN] = {1, 2, 3, 1e300, 2, 3, 1, 2, 3}, y[3 * OUT];
    float xf[3 * IN], yf[3 * OUT];
    for (size_t i = 0; i < 3 * IN; i++)
        xf[i] = i / IN == 1 && i % IN == 0 ? INFINITY : (float)x[i];
    nb_predictor *p;
    cr_assert_eq(nb_predictor_create(&p, &m, 2), NB_OK);
    nb_tensor X = nb_tensor_view(xf, 3, IN), Y = nb_tensor_view(yf, 3, OUT);
    cr_assert_eq(nb_predictor_run(p, &X, &Y), NB_OK);
    cr_assert_eq(nb_predictor_run_f64(p, x, 3, y), NB_OK);
    for (size_t o = 0; o < OUT; o++) {
        cr_assert(isfinite(y[o]) && isfinite(y[2 * OUT + o]), "rows 0 and 2 finite");
        cr_assert_eq(y[o], (double)yf[o]);
        cr_assert_eq(y[2 * OUT + o], (double)yf[2 * OUT + o]);
        /* row 1 is what an infinite float input gives */
        double w = yf[OUT + o];
        cr_assert_eq(memcmp(&w, &y[OUT + o], sizeof w), 0);
    }
    /* the largest double that rounds to FLT_MAX, and the first that rounds to infinity */
    double edge[IN] = {0x1.fffffefffffffp127, 0, 0}, inf[IN] = {0x1.ffffffp127, 0, 0};
    float ef[IN] = {FLT_MAX, 0, 0}, inff[IN] = {INFINITY, 0, 0}, yef[OUT], yif[OUT];
    double ye[OUT], yi[OUT];
    X = nb_tensor_view(ef, 1, IN), Y = nb_tensor_view(yef, 1, OUT);
    cr_assert_eq(nb_predictor_run(p, &X, &Y), NB_OK);
    X = nb_tensor_view(inff, 1, IN), Y = nb_tensor_view(yif, 1, OUT);
    cr_assert_eq(nb_predictor_run(p, &X, &Y), NB_OK);
    cr_assert_eq(nb_predictor_run_f64(p, edge, 1, ye), NB_OK);
    cr_assert_eq(nb_predictor_run_f64(p, inf, 1, yi), NB_OK);
    for (size_t o = 0; o < OUT; o++) {
        double a = yef[o], b = yif[o];
        cr_assert_eq(memcmp(&a, &ye[o], sizeof a), 0);
        cr_assert_eq(memcmp(&b, &yi[o], sizeof b), 0);
    }
    nb_predictor_free(p);
    model_drop(&m);
}

Test(predict_f64, errors_leave_the_output_untouched)
{
    nb_model m = model_of(NB_LOSS_MSE, true);
    nb_predictor *p;
    cr_assert_eq(nb_predictor_create(&p, &m, 4), NB_OK);
    double x[2 * IN] = {0}, y[2 * OUT], buf[2 * IN + 2 * OUT] = {0};
    size_t cls[2] = {7, 7};
    for (size_t i = 0; i < 2 * OUT; i++)
        y[i] = -1.5;
    cr_assert_eq(nb_predictor_run_f64(NULL, x, 2, y), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_run_f64(p, NULL, 2, y), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_run_f64(p, x, 2, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_run_f64(p, x, 0, y), NB_OK, "no rows: nothing to do");
    cr_assert_eq(nb_predictor_run_f64(p, NULL, 0, NULL), NB_OK);
    cr_assert_eq(nb_predictor_run_f64(p, x, SIZE_MAX / 2, y), NB_ERR_OVERFLOW);
    /* in place, or y starting inside x: refused */
    cr_assert_eq(nb_predictor_run_f64(p, buf, 2, buf), NB_ERR_ALIAS);
    cr_assert_eq(nb_predictor_run_f64(p, buf, 2, buf + 2 * IN - 1), NB_ERR_ALIAS);
    cr_assert_eq(nb_predictor_run_f64(p, buf, 2, buf + 2 * IN), NB_OK, "adjacent is fine");
    for (size_t i = 0; i < 2 * OUT; i++)
        cr_assert_eq(y[i], -1.5);
    cr_assert_eq(nb_predictor_classes_f64(p, x, 2, cls), NB_ERR_STATE, "regression");
    cr_assert_eq(nb_predictor_classes_f64(NULL, x, 2, cls), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_classes_f64(p, x, 2, NULL), NB_ERR_NULL);
    cr_assert_eq(cls[0], 7);
    cr_assert_eq(nb_predictor_inputs(NULL), 0);
    cr_assert_eq(nb_predictor_outputs(NULL), 0);
    nb_predictor_free(p);
    model_drop(&m);
}

struct job {
    nb_predictor *p;
    const double *x;
    double *y;
    nb_status st;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    for (int k = 0; k < 20 && j->st == NB_OK; k++)
        j->st = nb_predictor_run_f64(j->p, j->x, ROWS, j->y);
    return NULL;
}

Test(predict_f64, two_threads_two_predictors)
{
    nb_model m = model_of(NB_LOSS_MSE, true);
    static float xf[ROWS * IN], yf[ROWS * OUT];
    static double xd[ROWS * IN], y1[ROWS * OUT], y2[ROWS * OUT];
    inputs(xf, xd);
    nb_predictor *p1, *p2;
    cr_assert_eq(nb_predictor_create(&p1, &m, 16), NB_OK);
    cr_assert_eq(nb_predictor_create(&p2, &m, 37), NB_OK);
    struct job a = {p1, xd, y1, NB_OK}, b = {p2, xd, y2, NB_OK};
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, run_job, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, run_job, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.st, NB_OK);
    cr_assert_eq(b.st, NB_OK);
    /* each against its own predictor's float path (the same chunks) */
    nb_tensor X = nb_tensor_view(xf, ROWS, IN), Y = nb_tensor_view(yf, ROWS, OUT);
    cr_assert_eq(nb_predictor_run(p1, &X, &Y), NB_OK);
    for (size_t i = 0; i < ROWS * OUT; i++)
        cr_assert_eq(y1[i], (double)yf[i]);
    cr_assert_eq(nb_predictor_run(p2, &X, &Y), NB_OK);
    for (size_t i = 0; i < ROWS * OUT; i++)
        cr_assert_eq(y2[i], (double)yf[i]);
    nb_predictor_free(p1);
    nb_predictor_free(p2);
    model_drop(&m);
}
