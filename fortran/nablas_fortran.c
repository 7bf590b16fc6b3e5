/* The calls of the Fortran module (nablas.f90) that are not bound to the C API directly:
   those taking option structs that later versions extend (training's nb_train_opts, the
   derivative context's nb_deriv_opts) or a struct that grows with the file format (nb_model).
   The module passes the few options it sets and these start from the defaults. */
#include <stdlib.h>

#include "nablas.h"

nb_status nb_fortran_train(nb_net *net, const nb_tensor *X, const nb_tensor *T, int loss,
                           size_t epochs, size_t batch_size, float lr, uint64_t seed,
                           double *last_loss);

/* loss < 0, epochs 0, batch_size 0 and lr < 0 mean: the default. */
nb_status nb_fortran_train(nb_net *net, const nb_tensor *X, const nb_tensor *T, int loss,
                           size_t epochs, size_t batch_size, float lr, uint64_t seed,
                           double *last_loss)
{
    nb_train_opts o = nb_train_opts_default();
    if (loss >= 0)
        o.loss = (nb_loss)loss;
    if (epochs)
        o.epochs = epochs;
    if (batch_size)
        o.batch_size = batch_size;
    if (lr >= 0)
        o.lr = lr;
    o.seed = seed;
    nb_train_report r;
    nb_status st = nb_net_train(net, X, T, &o, &r);
    if (st == NB_OK && last_loss)
        *last_loss = r.last_loss;
    return st;
}

/* Model files through nb_model (whose struct grows with the format): the network, its loss and
   both standardisations, so that Fortran predicts in the targets' units. */
nb_status nb_fortran_load(nb_net **net, int *loss, nb_norm **norm, nb_norm **target_norm,
                          const char *path);
nb_status nb_fortran_save(const nb_net *net, int loss, const nb_norm *norm,
                          const nb_norm *target_norm, const char *path);

/* Hands what Fortran keeps of a loaded model to it (names are not kept). */
static nb_status take_model(nb_status st, nb_model *m, nb_net **net, int *loss, nb_norm **norm,
                            nb_norm **target_norm)
{
    if (st != NB_OK)
        return st;
    *net = m->net;
    *loss = (int)m->loss;
    *norm = m->norm;
    *target_norm = m->target_norm;
    m->net = NULL;
    m->norm = NULL;
    m->target_norm = NULL;
    nb_model_free(m);
    return NB_OK;
}

nb_status nb_fortran_load(nb_net **net, int *loss, nb_norm **norm, nb_norm **target_norm,
                          const char *path)
{
    if (!net || !loss || !norm || !target_norm)
        return NB_ERR_NULL;
    nb_model m;
    return take_model(nb_model_load(&m, path), &m, net, loss, norm, target_norm);
}

/* ONNX files (nb_onnx_load / nb_onnx_save): NB_ERR_UNSUPPORTED in a build without ONNX. */
nb_status nb_fortran_load_onnx(nb_net **net, int *loss, nb_norm **norm, nb_norm **target_norm,
                               const char *path);
nb_status nb_fortran_save_onnx(const nb_net *net, int loss, const nb_norm *norm,
                               const nb_norm *target_norm, const char *path);
int nb_fortran_onnx_available(void);

nb_status nb_fortran_load_onnx(nb_net **net, int *loss, nb_norm **norm, nb_norm **target_norm,
                               const char *path)
{
    if (!net || !loss || !norm || !target_norm)
        return NB_ERR_NULL;
    nb_model m;
    return take_model(nb_onnx_load(&m, path, NULL), &m, net, loss, norm, target_norm);
}

nb_status nb_fortran_save_onnx(const nb_net *net, int loss, const nb_norm *norm,
                               const nb_norm *target_norm, const char *path)
{
    nb_model m = {.net = (nb_net *)net, .loss = (nb_loss)loss, .norm = (nb_norm *)norm,
                  .target_norm = (nb_norm *)target_norm};
    return nb_onnx_save(&m, path);
}

int nb_fortran_onnx_available(void)
{
    return nb_onnx_available();
}

nb_status nb_fortran_save(const nb_net *net, int loss, const nb_norm *norm,
                          const nb_norm *target_norm, const char *path)
{
    nb_model m = {.net = (nb_net *)net, .loss = (nb_loss)loss, .norm = (nb_norm *)norm,
                  .target_norm = (nb_norm *)target_norm};
    return nb_model_save(&m, path);
}

/* A derivative context (nablas/deriv.h) for the network and its standardisations;
   probabilities: 0 or 1; mode: an nb_deriv_mode. */
nb_status nb_fortran_deriv_create(nb_deriv_ctx **ctx, const nb_net *net, const nb_norm *norm,
                                  const nb_norm *target_norm, int probabilities, int mode,
                                  size_t max_batch);

nb_status nb_fortran_deriv_create(nb_deriv_ctx **ctx, const nb_net *net, const nb_norm *norm,
                                  const nb_norm *target_norm, int probabilities, int mode,
                                  size_t max_batch)
{
    nb_deriv_opts o = nb_deriv_opts_default();
    o.norm = norm;
    o.target_norm = target_norm;
    o.probabilities = probabilities != 0;
    o.mode = (nb_deriv_mode)mode;
    return nb_deriv_ctx_create(ctx, net, &o, max_batch);
}

/* A whole model (nb_model, whose struct grows with the format) behind a pointer, for the
   predictor: the network, its standardisations, loss and class names stay together. */
nb_status nb_fortran_model_load(nb_model **out, const char *path);
void nb_fortran_model_free(nb_model *m);
void nb_fortran_model_info(const nb_model *m, size_t *inputs, size_t *outputs, size_t *classes,
                           int *loss);
const char *nb_fortran_class_name(const nb_model *m, size_t k);

nb_status nb_fortran_model_load(nb_model **out, const char *path)
{
    if (!out || !path)
        return NB_ERR_NULL;
    nb_model *m = malloc(sizeof *m);
    if (!m)
        return NB_ERR_NOMEM;
    nb_status st = nb_model_load(m, path);
    if (st != NB_OK) {
        free(m);
        return st;
    }
    *out = m;
    return NB_OK;
}

void nb_fortran_model_free(nb_model *m)
{
    nb_model_free(m);
    free(m);
}

void nb_fortran_model_info(const nb_model *m, size_t *inputs, size_t *outputs, size_t *classes,
                           int *loss)
{
    *inputs = m ? nb_net_inputs(m->net) : 0;
    *outputs = m ? nb_net_outputs(m->net) : 0;
    *classes = m && m->class_names ? m->n_classes : 0;
    *loss = m ? (int)m->loss : 0;
}

/* The name of class k (0-based; NUL-terminated as loaded), or NULL. */
const char *nb_fortran_class_name(const nb_model *m, size_t k)
{
    if (!m || !m->class_names || k >= m->n_classes)
        return NULL;
    return m->class_names[k];
}
