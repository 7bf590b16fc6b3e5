/* A network's training memory estimated from its layer specs, before anything is allocated:
   the same buffers nb_net_create, the workspace, the optimizer and the trainer allocate. */
#include <stdint.h>

#include "net/network.h"
#include "optim/optim.h"

/* Saturating arithmetic: a size that does not fit is SIZE_MAX, which no limit admits. */
static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static size_t sat_mul(size_t a, size_t b)
{
    return a != 0 && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

nb_status nb_net_memory_estimate(nb_net_memory *out, size_t inputs, const nb_layer_spec *layers,
                                 size_t n_layers, size_t batch, const nb_optim_opts *optim)
{
    if (!out || !layers)
        return NB_ERR_NULL;
    if (inputs == 0 || n_layers == 0 || batch == 0)
        return NB_ERR_SHAPE;
    if (optim && (unsigned)optim->kind >= NB_OPTIM_KIND_COUNT)
        return NB_ERR_ARG;
    size_t n_params = 0, per_row = 0, z_per_row = 0, max_width = inputs, in = inputs;
    bool dropout = false;
    for (size_t l = 0; l < n_layers; l++) {
        size_t u = layers[l].units;
        if (u == 0)
            return NB_ERR_SHAPE;
        n_params = sat_add(n_params, sat_mul(sat_add(in, 1), u));
        per_row = sat_add(per_row, u);
        if ((unsigned)layers[l].act < NB_ACT_COUNT && nb__act_needs_z(layers[l].act))
            z_per_row = sat_add(z_per_row, u); /* its pre-activations are kept too */
        max_width = u > max_width ? u : max_width;
        dropout |= layers[l].dropout > 0.0f;
        in = u;
    }
    size_t f = sizeof(float), outputs = layers[n_layers - 1].units;
    nb_net_memory m;
    m.params = sat_mul(n_params, f);
    m.grads = m.params;
    /* each state buffer starts on a whole 16-float line (optim.c) */
    size_t stride = sat_mul(sat_add(n_params, 15) / 16, 16);
    m.optimizer = optim ? sat_mul(sat_mul(stride, nb__optim_state_count(optim)), f) : 0;
    m.trainer = sat_add(m.params, sat_mul(sat_mul(batch, sat_add(inputs, outputs)), f));
    size_t acts = sat_mul(sat_mul(batch, per_row), f);
    m.activations = sat_add(sat_add(acts, sat_mul(sat_mul(batch, max_width), 2 * f)),
                            sat_add(dropout ? acts : 0, sat_mul(sat_mul(batch, z_per_row), f)));
    m.total = sat_add(sat_add(sat_add(m.params, m.grads), sat_add(m.optimizer, m.trainer)),
                      m.activations);
    *out = m;
    return NB_OK;
}
