/* The two peers of nablas-bench-latency: a plain C loop (latency_plain.c, built for this
   machine) and FANN 2.2 (latency_fann.c, only when libfann-dev is found). Not the library. */
#ifndef NB_BENCH_LATENCY_PEERS_H
#define NB_BENCH_LATENCY_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "nablas.h"

/* A network as plain arrays: layer l maps width[l] inputs to width[l + 1] outputs with
   W[l] (row-major, width[l] x width[l + 1]), b[l] and activation act[l]. */
typedef struct lat_net {
    size_t n_layers;
    size_t width[4];
    const float *W[3], *b[3];
    nb_act act[3];
} lat_net;

/* y = the network's output for one row x; scratch holds 2 x the widest layer. */
void lat_plain_run(const lat_net *n, const float *x, float *y, float *scratch);

typedef struct lat_fann lat_fann;
/* A FANN network of the same shape and weights: tanh layers become FANN_SIGMOID_SYMMETRIC
   with steepness 1 (tanh exactly), identity FANN_LINEAR, and ReLU, which FANN 2.2 lacks,
   FANN_LINEAR_PIECE (x clamped to [0, 1]: the same cost, another function). NULL if FANN is
   not built in or fails. */
lat_fann *lat_fann_create(const lat_net *n);
void lat_fann_free(lat_fann *f);
/* fann_run on one row; returns FANN's output buffer. */
const float *lat_fann_run(lat_fann *f, float *x);
bool lat_fann_available(void);

#endif
