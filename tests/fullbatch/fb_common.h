/* Shared pieces of the full-batch tests: a small smooth regression problem and a double
   reference forward pass. */
#ifndef NABLAS_TESTS_FB_COMMON_H
#define NABLAS_TESTS_FB_COMMON_H

#include "nablas.h"

/* A 2-8-8-1 tanh network on `rows` points (x, y) U[-3, 3)^2 with target sin(x) cos(y), all
   drawn from `seed`. */
typedef struct fb_problem {
    nb_net *net;
    nb_tensor X, T;
} fb_problem;
fb_problem fb_surrogate(size_t rows, uint64_t seed);
void fb_free(fb_problem *p);
/* The MSE of a fresh fb_surrogate(rows, seed) before any training. */
double fb_initial_loss(size_t rows, uint64_t seed);
/* A malloc'd copy of the network's parameters. */
float *fb_params_copy(nb_net *net);

enum { FB_MAX_LAYERS = 4 };
typedef struct fb_ref_net {
    size_t inputs, n_layers;
    nb_layer_spec layers[FB_MAX_LAYERS];
} fb_ref_net;
fb_ref_net fb_ref_net_of(const nb_net *net);
/* y = the network's output for one row x, in double, from params in nablas' layout
   (any activation of the library; widths up to 16). */
void fb_ref_forward(const fb_ref_net *rn, const double *params, const float *x, double *y);

#endif
