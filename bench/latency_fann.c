/* FANN 2.2 as the single-row peer: the same weights copied into FANN's connection array. */
#include <floatfann.h>
#include <stdlib.h>

#include "latency_peers.h"

struct lat_fann {
    struct fann *ann;
};

bool lat_fann_available(void) { return true; }

lat_fann *lat_fann_create(const lat_net *n)
{
    unsigned sizes[4];
    for (size_t l = 0; l <= n->n_layers; l++)
        sizes[l] = (unsigned)n->width[l];
    struct fann *ann = fann_create_standard_array((unsigned)n->n_layers + 1, sizes);
    if (!ann)
        return NULL;
    fann_set_activation_steepness_hidden(ann, 1.0f);
    fann_set_activation_steepness_output(ann, 1.0f);
    for (size_t l = 0; l < n->n_layers; l++) {
        enum fann_activationfunc_enum f = n->act[l] == NB_ACT_TANH  ? FANN_SIGMOID_SYMMETRIC
                                          : n->act[l] == NB_ACT_RELU ? FANN_LINEAR_PIECE
                                                                     : FANN_LINEAR;
        fann_set_activation_function_layer(ann, f, (int)l + 1);
    }
    /* FANN numbers the neurons layer by layer, each layer followed by its bias neuron */
    unsigned start[5] = {0};
    for (size_t l = 0; l <= n->n_layers; l++)
        start[l + 1] = start[l] + sizes[l] + 1;
    unsigned nc = fann_get_total_connections(ann);
    struct fann_connection *c = malloc(nc * sizeof *c);
    if (!c) {
        fann_destroy(ann);
        return NULL;
    }
    fann_get_connection_array(ann, c);
    for (unsigned k = 0; k < nc; k++) {
        size_t l = 0;
        while (c[k].from_neuron >= start[l + 1])
            l++;
        unsigned i = c[k].from_neuron - start[l], j = c[k].to_neuron - start[l + 1];
        size_t no = n->width[l + 1];
        c[k].weight = i == sizes[l] ? n->b[l][j] : n->W[l][(size_t)i * no + j];
    }
    fann_set_weight_array(ann, c, nc);
    free(c);
    lat_fann *f = malloc(sizeof *f);
    if (!f) {
        fann_destroy(ann);
        return NULL;
    }
    f->ann = ann;
    return f;
}

void lat_fann_free(lat_fann *f)
{
    if (f) {
        fann_destroy(f->ann);
        free(f);
    }
}

const float *lat_fann_run(lat_fann *f, float *x) { return fann_run(f->ann, x); }
