/* The network's workspace for a batch: activations, the kept pre-activations, the two gradient
   buffers of the backward pass and the dropped outputs, grown to the largest batch asked for and kept. */
#include <stdint.h>
#include <stdlib.h>

#include "net/network.h"

void nb__net_free_workspace(nb_net *net)
{
    free(net->acts);
    free(net->gbuf[0]);
    free(net->gbuf[1]);
    free(net->drop);
    free(net->pre);
    net->acts = net->gbuf[0] = net->gbuf[1] = net->drop = net->pre = NULL;
    net->cap_batch = net->drop_cap = 0;
    net->ready = false;
}

/* The dropped outputs, laid out as the activations, when a layer has dropout. */
static nb_status reserve_drop(nb_net *net, size_t batch, size_t per_row)
{
    if (!net->any_dropout || batch <= net->drop_cap)
        return NB_OK;
    float *d = nb__alloc_floats(batch * per_row);
    if (!d)
        return NB_ERR_NOMEM;
    free(net->drop);
    net->drop = d;
    net->drop_cap = batch;
    return NB_OK;
}

nb_status nb__net_reserve(nb_net *net, size_t batch)
{
    size_t per_row = net->act_off[net->n_layers - 1] + net->layers[net->n_layers - 1].out;
    if (batch <= net->cap_batch)
        return reserve_drop(net, net->cap_batch, per_row);
    if (batch > SIZE_MAX / sizeof(float) / per_row || batch > SIZE_MAX / sizeof(float) / net->max_width)
        return NB_ERR_OVERFLOW;
    float *acts = nb__alloc_floats(batch * per_row);
    float *g0 = nb__alloc_floats(batch * net->max_width);
    float *g1 = nb__alloc_floats(batch * net->max_width);
    /* z_per_row <= per_row: no overflow */
    float *pre = net->z_per_row ? nb__alloc_floats(batch * net->z_per_row) : NULL;
    if (!acts || !g0 || !g1 || (net->z_per_row && !pre)) {
        free(acts);
        free(g0);
        free(g1);
        free(pre);
        return NB_ERR_NOMEM; /* the old workspace stays as it was */
    }
    nb__net_free_workspace(net);
    net->acts = acts;
    net->pre = pre;
    net->gbuf[0] = g0;
    net->gbuf[1] = g1;
    net->cap_batch = batch;
    return reserve_drop(net, batch, per_row);
}

nb_status nb_net_reserve(nb_net *net, size_t max_batch)
{
    if (!net)
        return NB_ERR_NULL;
    if (max_batch == 0)
        return NB_ERR_SHAPE;
    return nb__net_reserve(net, max_batch);
}
