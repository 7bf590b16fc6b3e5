/* libFuzzer entry point for the csv reader (see fuzz_targets.c). */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nb_fuzz_csv(data, size);
    return 0;
}
