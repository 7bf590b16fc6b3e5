/* Stand-in for latency_fann.c when libfann-dev is not installed: no FANN column. */
#include <stddef.h>

#include "latency_peers.h"

bool lat_fann_available(void) { return false; }
lat_fann *lat_fann_create(const lat_net *n) { (void)n; return NULL; }
void lat_fann_free(lat_fann *f) { (void)f; }
const float *lat_fann_run(lat_fann *f, float *x) { (void)f; (void)x; return NULL; }
