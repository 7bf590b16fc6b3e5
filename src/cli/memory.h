/* `nablas train`'s memory rule: a network whose training cannot fit is refused before
   anything of it is allocated (docs/cli.md, "Memory"). */
#ifndef NB_CLI_MEMORY_H
#define NB_CLI_MEMORY_H

#include "cli/cli.h"

/* Bytes of memory available to a new allocation: MemAvailable of /proc/meminfo (else
   sysinfo's free and buffer RAM), lowered to the address-space limit (ulimit -v) if one is
   set; *source names where the figure came from.  0: unknown.  NABLAS_TEST_MEM_AVAILABLE
   (MiB; tests only) replaces it, so that a test is the same on every machine. */
size_t cli_mem_available(const char **source);

/* Estimates the memory of training a network of these layers on `inputs` features with
   batches of `batch` rows and the optimizer `optim` (NULL: plain SGD); `lm` adds
   Levenberg-Marquardt's J^T J and its factor.  Refuses (prints the size needed, its parts and
   the size available; returns CLI_FAIL) when it exceeds --max-mem MIB if given, else the
   memory available; CLI_USAGE for a bad --max-mem. */
int cli_check_memory(const cli_cmd *cmd, size_t inputs, const nb_layer_spec *layers,
                     size_t n_layers, size_t batch, const nb_optim_opts *optim, bool lm);

/* "12.3 GiB", "512 KiB", "17 B" into buf. */
const char *cli_bytes(size_t bytes, char *buf, size_t size);

#endif
