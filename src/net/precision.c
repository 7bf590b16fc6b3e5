/* The precision of a network's training products (nablas/precision.h): bf16 keeps a oneDNN
   context beside the network (kernels/dense_bf16.c); fp32 has none. */
#include <stdlib.h>
#include <string.h>

#include "nablas/precision.h"
#include "net/network.h"

static const char *const names[NB_PRECISION_COUNT] = {"fp32", "bf16"};

const char *nb_precision_name(nb_precision p)
{
    return (unsigned)p < (unsigned)NB_PRECISION_COUNT ? names[p] : NULL;
}

nb_status nb_precision_parse(nb_precision *out, const char *name)
{
    if (!out || !name)
        return NB_ERR_NULL;
    for (int p = 0; p < NB_PRECISION_COUNT; p++)
        if (!strcmp(name, names[p])) {
            *out = (nb_precision)p;
            return NB_OK;
        }
    return NB_ERR_ARG;
}

nb_status nb_precision_available(nb_precision p)
{
    if (p == NB_PRECISION_FP32)
        return NB_OK;
    if (p == NB_PRECISION_BF16)
        return nb__bf16_available();
    return NB_ERR_ARG;
}

nb_status nb_net_set_precision(nb_net *net, nb_precision p)
{
    if (!net)
        return NB_ERR_NULL;
    NB_TRY(nb_precision_available(p));
    if (p == NB_PRECISION_FP32) {
        nb__bf16_free(net->bf16);
        net->bf16 = NULL;
        return NB_OK;
    }
    if (net->bf16)
        return NB_OK;
    size_t *width = malloc((net->n_layers + 1) * sizeof *width);
    if (!width)
        return NB_ERR_NOMEM;
    width[0] = net->inputs;
    for (size_t l = 0; l < net->n_layers; l++)
        width[l + 1] = net->layers[l].out;
    nb_status s = nb__bf16_create(&net->bf16, width, net->n_layers);
    free(width);
    return s;
}

nb_precision nb_net_precision(const nb_net *net)
{
    return net && net->bf16 ? NB_PRECISION_BF16 : NB_PRECISION_FP32;
}
