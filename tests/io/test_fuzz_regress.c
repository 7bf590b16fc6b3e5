/* Every input in the fuzz corpora (tests/fuzz/corpus/<target>/) and every crash the fuzzers
   ever found (tests/fuzz/regressions/<target>/) goes through its reader here, in the normal
   and the ASan build, so that a fixed crash stays fixed. */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_common.h"
#include "../fuzz/fuzz_targets.h"

static size_t run_dir(const char *sub, const char *target, void (*fn)(const uint8_t *, size_t))
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s/%s", NB_FUZZ_DIR, sub, target);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t size;
        void *data = io_read(io_path(dir, e->d_name), &size);
        cr_assert_not_null(data);
        fn(data, size);
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

Test(fuzz_regress, model_inputs)
{
    cr_assert_gt(run_dir("corpus", "model", nb_fuzz_model) + run_dir("regressions", "model", nb_fuzz_model), 0);
}

Test(fuzz_regress, csv_inputs)
{
    cr_assert_gt(run_dir("corpus", "csv", nb_fuzz_csv) + run_dir("regressions", "csv", nb_fuzz_csv), 0);
}

Test(fuzz_regress, npy_inputs)
{
    cr_assert_gt(run_dir("corpus", "npy", nb_fuzz_npy) + run_dir("regressions", "npy", nb_fuzz_npy), 0);
}

Test(fuzz_regress, safetensors_inputs)
{
    cr_assert_gt(run_dir("corpus", "safetensors", nb_fuzz_safetensors)
                 + run_dir("regressions", "safetensors", nb_fuzz_safetensors), 0);
}

Test(fuzz_regress, onnx_inputs)
{
    cr_assert_gt(run_dir("corpus", "onnx", nb_fuzz_onnx) + run_dir("regressions", "onnx", nb_fuzz_onnx), 0);
}
