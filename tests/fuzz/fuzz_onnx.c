/* libFuzzer entry point for the ONNX importer (see fuzz_targets.c). */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nb_fuzz_onnx(data, size);
    return 0;
}
