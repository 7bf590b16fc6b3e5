#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fb_common.h"

fb_problem fb_surrogate(size_t rows, uint64_t seed)
{
    fb_problem p;
    const nb_layer_spec L[] = {{8, NB_ACT_TANH, 0}, {8, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    cr_assert_eq(nb_net_create(&p.net, 2, L, 3, seed), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&p.X, rows, 2), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&p.T, rows, 1), NB_OK);
    nb_rng r;
    nb_rng_seed(&r, seed + 1000);
    for (size_t i = 0; i < rows; i++) {
        double x = 6.0 * nb_rng_uniform(&r) - 3.0, y = 6.0 * nb_rng_uniform(&r) - 3.0;
        p.X.data[2 * i] = (float)x;
        p.X.data[2 * i + 1] = (float)y;
        p.T.data[i] = (float)(sin(x) * cos(y));
    }
    return p;
}

void fb_free(fb_problem *p)
{
    nb_net_free(p->net);
    nb_tensor_free(&p->X);
    nb_tensor_free(&p->T);
}

double fb_initial_loss(size_t rows, uint64_t seed)
{
    fb_problem p = fb_surrogate(rows, seed);
    nb_eval ev;
    cr_assert_eq(nb_net_evaluate(p.net, &p.X, &p.T, NB_LOSS_MSE, &ev), NB_OK);
    fb_free(&p);
    return ev.loss;
}

float *fb_params_copy(nb_net *net)
{
    size_t P = nb_net_num_params(net);
    float *c = malloc(P * sizeof *c);
    cr_assert(c);
    memcpy(c, nb_net_params(net), P * sizeof *c);
    return c;
}

fb_ref_net fb_ref_net_of(const nb_net *net)
{
    fb_ref_net rn = {nb_net_inputs(net), nb_net_num_layers(net), {{0, NB_ACT_IDENTITY, 0}}};
    cr_assert_leq(rn.n_layers, FB_MAX_LAYERS);
    for (size_t l = 0; l < rn.n_layers; l++)
        cr_assert_eq(nb_net_layer(net, l, &rn.layers[l]), NB_OK);
    return rn;
}

void fb_ref_forward(const fb_ref_net *rn, const double *params, const float *x, double *y)
{
    double a[16], z[16];
    size_t in = rn->inputs, off = 0;
    for (size_t j = 0; j < in; j++)
        a[j] = x[j];
    for (size_t l = 0; l < rn->n_layers; l++) {
        size_t out = rn->layers[l].units;
        const double *W = params + off, *b = W + in * out;
        double zmax = -INFINITY;
        for (size_t q = 0; q < out; q++) {
            double s = b[q];
            for (size_t p = 0; p < in; p++)
                s += a[p] * W[p * out + q];
            switch (rn->layers[l].act) {
            case NB_ACT_TANH: z[q] = tanh(s); break;
            case NB_ACT_SIGMOID: z[q] = 1.0 / (1.0 + exp(-s)); break;
            case NB_ACT_RELU: z[q] = s > 0 ? s : 0.0; break;
            case NB_ACT_LEAKY_RELU: z[q] = s > 0 ? s : 0.01 * s; break;
            default: z[q] = s; break;
            }
            zmax = fmax(zmax, z[q]);
        }
        if (rn->layers[l].act == NB_ACT_SOFTMAX) {
            double sum = 0.0;
            for (size_t q = 0; q < out; q++)
                sum += z[q] = exp(z[q] - zmax);
            for (size_t q = 0; q < out; q++)
                z[q] /= sum;
        }
        memcpy(a, z, out * sizeof *a);
        off += (in + 1) * out;
        in = out;
    }
    memcpy(y, a, in * sizeof *y);
}
