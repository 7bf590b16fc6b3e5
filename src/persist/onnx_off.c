/* ONNX in a build without the onnx feature (protobuf-c): every call says so. */
#include "nablas.h"

bool nb_onnx_available(void)
{
    return false;
}

nb_status nb_onnx_save(const nb_model *m, const char *path)
{
    (void)m;
    (void)path;
    return NB_ERR_UNSUPPORTED;
}

nb_status nb_onnx_save_mem(void **data, size_t *size, const nb_model *m)
{
    (void)data;
    (void)size;
    (void)m;
    return NB_ERR_UNSUPPORTED;
}

nb_status nb_onnx_load(nb_model *m, const char *path, nb_onnx_error *err)
{
    (void)m;
    (void)path;
    if (err)
        *err = (nb_onnx_error){.reason = "this build of nablas has no ONNX support (-Donnx)"};
    return NB_ERR_UNSUPPORTED;
}

nb_status nb_onnx_load_mem(nb_model *m, const void *data, size_t size, nb_onnx_error *err)
{
    (void)m;
    (void)data;
    (void)size;
    if (err)
        *err = (nb_onnx_error){.reason = "this build of nablas has no ONNX support (-Donnx)"};
    return NB_ERR_UNSUPPORTED;
}
