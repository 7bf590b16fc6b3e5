/* One-call prediction on a model (include/nablas/predict.h): the same numbers as the inference
   context followed by what the model says to do with them (softmax, the target
   standardisation undone), classes as nb_class_of, a saved and loaded model alike, many
   threads alike, and every error path leaving the output untouched. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "io_common.h"

enum { ROWS = 300 };

/* A 3-input, 2-output model with an input standardisation; loss and target norm as asked. */
static nb_model model_of(nb_loss loss, bool target_norm, bool classes)
{
    nb_model m = {0};
    m.net = io_small_net(3);
    m.loss = loss;
    nb_tensor X = io_random(50, 3, 11), T = io_random(50, 2, 12);
    for (size_t i = 0; i < 50 * 2; i++)
        T.data[i] = 100.0f + 40.0f * T.data[i];
    cr_assert_eq(nb_norm_fit(&m.norm, &X), NB_OK);
    if (target_norm)
        cr_assert_eq(nb_norm_fit(&m.target_norm, &T), NB_OK);
    if (classes) {
        static char a[] = "left", b[] = "right";
        static char *names[] = {a, b};
        m.n_classes = 2;
        m.class_names = names;
    }
    nb_tensor_free(&X);
    nb_tensor_free(&T);
    return m;
}

static void model_drop(nb_model *m)
{
    nb_net_free(m->net);
    nb_norm_free(m->norm);
    nb_norm_free(m->target_norm);
}

/* The inference context's outputs for X (input standardisation applied). */
static nb_tensor raw_outputs(const nb_model *m, const nb_tensor *X)
{
    nb_infer_ctx *ctx;
    nb_tensor Y;
    cr_assert_eq(nb_tensor_alloc(&Y, X->rows, 2), NB_OK);
    cr_assert_eq(nb_infer_ctx_create(&ctx, m->net, m->norm, 64), NB_OK);
    cr_assert_eq(nb_infer_predict(ctx, X, &Y), NB_OK);
    nb_infer_ctx_free(ctx);
    return Y;
}

Test(predictor, regression_answers_in_the_targets_units)
{
    nb_model m = model_of(NB_LOSS_MSE, true, false);
    nb_tensor X = io_random(ROWS, 3, 5), Y, R = raw_outputs(&m, &X);
    cr_assert_eq(nb_tensor_alloc(&Y, ROWS, 2), NB_OK);
    cr_assert_eq(nb_model_predict(&m, &X, &Y), NB_OK);
    cr_assert_eq(nb_norm_unapply(m.target_norm, &R), NB_OK);
    cr_assert_eq(memcmp(Y.data, R.data, ROWS * 2 * sizeof(float)), 0);
    /* in the targets' units: around 100, not around 0 */
    double mean = 0;
    for (size_t i = 0; i < ROWS * 2; i++)
        mean += Y.data[i] / (ROWS * 2);
    cr_assert_gt(mean, 50.0);
    size_t cls[ROWS];
    nb_predictor *p;
    cr_assert_eq(nb_predictor_create(&p, &m, 7), NB_OK);
    cr_assert_eq(nb_predictor_classes(p, &X, cls), NB_ERR_STATE, "regression has no classes");
    nb_predictor_free(p);
    nb_tensor_free(&X), nb_tensor_free(&Y), nb_tensor_free(&R);
    model_drop(&m);
}

Test(predictor, softmax_classifier_gives_probabilities_and_classes)
{
    nb_model m = model_of(NB_LOSS_SOFTMAX_CE, false, true);
    nb_tensor X = io_random(ROWS, 3, 6), Y, R = raw_outputs(&m, &X);
    cr_assert_eq(nb_tensor_alloc(&Y, ROWS, 2), NB_OK);
    nb_predictor *p;
    cr_assert_eq(nb_predictor_create(&p, &m, 7), NB_OK); /* chunks of 7 rows, a partial last */
    cr_assert_eq(nb_predictor_run(p, &X, &Y), NB_OK);
    size_t cls[ROWS];
    cr_assert_eq(nb_predictor_classes(p, &X, cls), NB_OK);
    for (size_t i = 0; i < ROWS; i++) {
        const float *y = Y.data + 2 * i, *r = R.data + 2 * i;
        double e0 = exp((double)r[0]), e1 = exp((double)r[1]);
        cr_assert_float_eq(y[0], e0 / (e0 + e1), 1e-6, "row %zu", i);
        cr_assert_float_eq(y[0] + y[1], 1.0, 1e-6);
        cr_assert_eq(cls[i], nb_argmax(r, 2), "row %zu", i);
    }
    nb_predictor_free(p);
    nb_tensor_free(&X), nb_tensor_free(&Y), nb_tensor_free(&R);
    model_drop(&m);
}

Test(predictor, a_saved_and_loaded_model_predicts_the_same)
{
    nb_model m = model_of(NB_LOSS_MSE, true, false), back;
    const char *path = io_path(io_tmpdir(), "pred.nbm");
    cr_assert_eq(nb_model_save(&m, path), NB_OK);
    cr_assert_eq(nb_model_load(&back, path), NB_OK);
    nb_tensor X = io_random(ROWS, 3, 8), Y1, Y2;
    cr_assert_eq(nb_tensor_alloc(&Y1, ROWS, 2), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&Y2, ROWS, 2), NB_OK);
    cr_assert_eq(nb_model_predict(&m, &X, &Y1), NB_OK);
    cr_assert_eq(nb_model_predict(&back, &X, &Y2), NB_OK);
    cr_assert_eq(memcmp(Y1.data, Y2.data, ROWS * 2 * sizeof(float)), 0);
    nb_model_free(&back);
    nb_tensor_free(&X), nb_tensor_free(&Y1), nb_tensor_free(&Y2);
    model_drop(&m);
}

typedef struct job {
    const nb_model *m;
    const nb_tensor *X;
    nb_tensor Y;
    nb_status st;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    nb_predictor *p;
    j->st = nb_predictor_create(&p, j->m, 16);
    if (j->st == NB_OK) {
        j->st = nb_predictor_run(p, j->X, &j->Y);
        nb_predictor_free(p);
    }
    return NULL;
}

Test(predictor, four_threads_on_one_model_agree_bit_for_bit)
{
    nb_model m = model_of(NB_LOSS_SOFTMAX_CE, false, true);
    nb_tensor X = io_random(ROWS, 3, 9);
    job jobs[4];
    pthread_t tid[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (job){&m, &X, {0}, NB_ERR_STATE};
        cr_assert_eq(nb_tensor_alloc(&jobs[t].Y, ROWS, 2), NB_OK);
        cr_assert_eq(pthread_create(&tid[t], NULL, run_job, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(tid[t], NULL);
        cr_assert_eq(jobs[t].st, NB_OK);
        cr_assert_eq(memcmp(jobs[t].Y.data, jobs[0].Y.data, ROWS * 2 * sizeof(float)), 0);
    }
    for (int t = 0; t < 4; t++)
        nb_tensor_free(&jobs[t].Y);
    nb_tensor_free(&X);
    model_drop(&m);
}

Test(predictor, bad_arguments_are_refused_and_leave_the_output_alone)
{
    nb_model m = model_of(NB_LOSS_MSE, true, false), empty = {0};
    nb_predictor *p = NULL;
    cr_assert_eq(nb_predictor_create(NULL, &m, 4), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_create(&p, NULL, 4), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_create(&p, &empty, 4), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_create(&p, &m, 0), NB_ERR_SHAPE);
    cr_assert_eq(nb_predictor_create(&p, &m, SIZE_MAX / 2), NB_ERR_OVERFLOW);
    cr_assert_null(p);
    cr_assert_eq(nb_predictor_create(&p, &m, 4), NB_OK);
    nb_tensor X = io_random(5, 3, 1), Xw = io_random(5, 4, 2), Y, Yw;
    cr_assert_eq(nb_tensor_alloc(&Y, 5, 2), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&Yw, 5, 3), NB_OK);
    for (size_t i = 0; i < 10; i++)
        Y.data[i] = 42.0f;
    size_t cls[5];
    cr_assert_eq(nb_predictor_run(NULL, &X, &Y), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_run(p, NULL, &Y), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_run(p, &X, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_run(p, &Xw, &Y), NB_ERR_SHAPE);
    cr_assert_eq(nb_predictor_run(p, &X, &Yw), NB_ERR_SHAPE);
    nb_tensor alias = nb_tensor_view(X.data, 5, 2);
    cr_assert_eq(nb_predictor_run(p, &X, &alias), NB_ERR_ALIAS);
    cr_assert_eq(nb_predictor_classes(p, &X, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_predictor_classes(p, &Xw, cls), NB_ERR_SHAPE);
    cr_assert_eq(nb_model_predict(NULL, &X, &Y), NB_ERR_NULL);
    for (size_t i = 0; i < 10; i++)
        cr_assert_eq(Y.data[i], 42.0f, "output written by a refused call");
    nb_predictor_free(p);
    nb_predictor_free(NULL);
    nb_tensor_free(&X), nb_tensor_free(&Xw), nb_tensor_free(&Y), nb_tensor_free(&Yw);
    model_drop(&m);
}
