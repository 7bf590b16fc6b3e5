/* For the Fortran test: a model with input and target standardisation made and run by the C
   API, so that the test compares Fortran's predictions with C's for the same file. */
#include <stddef.h>
#include "nablas.h"

int nbf_test_make_model(const char *path, const float *x, size_t rows, float *y);

/* Saves a 3-4:tanh-2 model with both standardisations to path and writes C's predictions in
   the targets' units for x (rows x 3, row-major) to y (rows x 2). */
int nbf_test_make_model(const char *path, const float *x, size_t rows, float *y)
{
    static const float im[3] = {1, 2, 3}, is[3] = {2, 0.5f, 4}, tm[2] = {100, -5}, ts[2] = {10, 0.1f};
    nb_layer_spec spec[2] = {{4, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    nb_norm *norm = NULL, *tnorm = NULL;
    nb_tensor X = {0}, Y = nb_tensor_view(y, rows, 2);
    nb_status st = nb_net_create(&net, 3, spec, 2, 9);
    if (st == NB_OK)
        st = nb_norm_create(&norm, 3, im, is);
    if (st == NB_OK)
        st = nb_norm_create(&tnorm, 2, tm, ts);
    if (st == NB_OK)
        st = nb_tensor_alloc(&X, rows, 3);
    if (st == NB_OK)
        st = nb_norm_apply_to(norm, &(nb_tensor){rows, 3, (float *)x, NULL}, &X);
    if (st == NB_OK)
        st = nb_net_predict(net, &X, &Y);
    for (size_t i = 0; st == NB_OK && i < rows; i++)
        for (size_t o = 0; o < 2; o++)
            y[i * 2 + o] = y[i * 2 + o] * ts[o] + tm[o];
    if (st == NB_OK) {
        nb_model m = {.net = net, .loss = NB_LOSS_MSE, .norm = norm, .target_norm = tnorm};
        st = nb_model_save(&m, path);
    }
    nb_tensor_free(&X);
    nb_norm_free(tnorm);
    nb_norm_free(norm);
    nb_net_free(net);
    return (int)st;
}

int nbf_test_predict_file(const char *path, const float *x, size_t rows, size_t inputs, float *y,
                          size_t outputs, int *classes);

/* C's answer for the model file at path: y (rows x outputs) from nb_model_predict, and, when
   classes is not NULL, the 1-based classes from nb_predictor_classes. */
int nbf_test_predict_file(const char *path, const float *x, size_t rows, size_t inputs, float *y,
                          size_t outputs, int *classes)
{
    nb_model m;
    nb_status st = nb_model_load(&m, path);
    if (st != NB_OK)
        return (int)st;
    nb_tensor X = {rows, inputs, (float *)x, NULL}, Y = {rows, outputs, y, NULL};
    st = nb_model_predict(&m, &X, &Y);
    nb_predictor *p = NULL;
    if (st == NB_OK && classes)
        st = nb_predictor_create(&p, &m, 16);
    for (size_t i = 0; st == NB_OK && classes && i < rows; i++) {
        size_t c;
        nb_tensor Xi = {1, inputs, (float *)x + i * inputs, NULL};
        st = nb_predictor_classes(p, &Xi, &c);
        classes[i] = (int)c + 1;
    }
    nb_predictor_free(p);
    nb_model_free(&m);
    return (int)st;
}
