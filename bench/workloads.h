/* The benchmark workloads W1-W4 of ../shared/workloads.md: networks, hyper-parameters and data
   generated from fixed seeds, shared by the train benchmark and (through .npy files) the peers. */
#ifndef NB_BENCH_WORKLOADS_H
#define NB_BENCH_WORKLOADS_H

#include <stdbool.h>
#include "nablas.h"

enum { BW_MAX_LAYERS = 3, BW_COUNT = 4 };

typedef struct bw_workload {
    const char *name, *desc;
    size_t rows, inputs, n_layers;
    nb_layer_spec layers[BW_MAX_LAYERS];
    nb_loss loss;
    float lr;
    size_t batch;
    bool shuffle;       /* reshuffled every epoch */
    size_t run_epochs;  /* epochs of the workload as defined (W4: 125), for the total */
    double mflop_epoch; /* forward + both gradients, minus layer 0's input gradient */
    float *X, *T;       /* rows x inputs, rows x outputs, after bw_generate */
} bw_workload;

/* The i-th workload (0..BW_COUNT-1), data not yet generated. */
bw_workload bw_get(size_t i);
size_t bw_outputs(const bw_workload *w);
void bw_generate(bw_workload *w); /* fills X and T from the workload's fixed seed */
void bw_free(bw_workload *w);

/* Writes a rows x cols float32 matrix as NumPy .npy (version 1.0); 0 on success. */
int bw_write_npy(const char *path, const float *p, size_t rows, size_t cols);

#endif
