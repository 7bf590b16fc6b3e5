/* The bodies of the fuzz targets, shared by the libFuzzer entry points (fuzz_*.c) and the
   regression test that replays the corpora (tests/io/test_fuzz_regress.c).  Each one feeds the
   bytes to a reader and, when they are accepted, checks invariants; a violated invariant
   aborts, which both libFuzzer and Criterion report as a crash. */
#ifndef NB_FUZZ_TARGETS_H
#define NB_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

void nb_fuzz_model(const uint8_t *data, size_t size);
void nb_fuzz_csv(const uint8_t *data, size_t size);
void nb_fuzz_npy(const uint8_t *data, size_t size);
void nb_fuzz_safetensors(const uint8_t *data, size_t size);
void nb_fuzz_onnx(const uint8_t *data, size_t size);

#endif
