/* nb_net_clone: a deep copy of a network's description, parameters and gradients. */
#include <stdlib.h>
#include <string.h>

#include "nablas/precision.h"
#include "net/network.h"

nb_status nb_net_clone(nb_net **out, const nb_net *src)
{
    if (!out || !src)
        return NB_ERR_NULL;
    nb_net *net = calloc(1, sizeof *net);
    if (!net)
        return NB_ERR_NOMEM;
    size_t n = src->n_layers;
    net->layers = malloc(n * sizeof *net->layers);
    net->act_off = malloc(n * sizeof *net->act_off);
    net->params = nb__alloc_floats(src->n_params);
    net->grads = nb__alloc_floats(src->n_params);
    if (!net->layers || !net->act_off || !net->params || !net->grads) {
        nb_net_free(net);
        return NB_ERR_NOMEM;
    }
    memcpy(net->layers, src->layers, n * sizeof *net->layers);
    memcpy(net->act_off, src->act_off, n * sizeof *net->act_off);
    memcpy(net->params, src->params, src->n_params * sizeof(float));
    memcpy(net->grads, src->grads, src->n_params * sizeof(float));
    net->inputs = src->inputs;
    net->n_layers = n;
    net->n_params = src->n_params;
    net->max_width = src->max_width;
    net->z_per_row = src->z_per_row; /* the layers' z_off came with the layers */
    net->any_dropout = src->any_dropout;
    net->masks = src->masks;
    /* The workspace, the split shards and the last forward pass are not copied: the copy
       allocates its own on first use, as a new network does. */
    nb_status s = nb_net_set_precision(net, nb_net_precision(src));
    if (s != NB_OK) {
        nb_net_free(net);
        return s;
    }
    *out = net;
    return NB_OK;
}
