/* `nablas train`'s memory rule: the library's estimate of a network's training memory against
   the memory available (or --max-mem), checked before the network is created. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/sysinfo.h>
#endif

#include "cli/memory.h"

/* Levenberg-Marquardt's J^T J and its Cholesky factor: two P x P matrices of doubles. */
static size_t lm_bytes(size_t params)
{
    return params > 0 && params > SIZE_MAX / 16 / params ? SIZE_MAX : 16 * params * params;
}

static size_t meminfo_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return kib > SIZE_MAX / 1024 ? SIZE_MAX : (size_t)kib * 1024;
}

size_t cli_mem_available(const char **source)
{
    const char *t = getenv("NABLAS_TEST_MEM_AVAILABLE");
    if (t && *t) {
        *source = "NABLAS_TEST_MEM_AVAILABLE";
        unsigned long long mib = strtoull(t, NULL, 10);
        return mib > SIZE_MAX >> 20 ? SIZE_MAX : (size_t)mib << 20;
    }
    *source = "MemAvailable in /proc/meminfo";
    size_t avail = meminfo_available();
#ifdef __linux__
    struct sysinfo si;
    if (avail == 0 && sysinfo(&si) == 0) { /* kernels before 3.14 have no MemAvailable */
        *source = "free RAM";
        unsigned long long b = ((unsigned long long)si.freeram + si.bufferram) * si.mem_unit;
        avail = b > SIZE_MAX ? SIZE_MAX : (size_t)b;
    }
#endif
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
        && (avail == 0 || (unsigned long long)rl.rlim_cur < avail)) {
        *source = "the address-space limit (ulimit -v)";
        avail = (unsigned long long)rl.rlim_cur > SIZE_MAX ? SIZE_MAX : (size_t)rl.rlim_cur;
    }
    return avail;
}

const char *cli_bytes(size_t bytes, char *buf, size_t size)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes == SIZE_MAX) {
        snprintf(buf, size, "more than %s", "16 EiB");
        return buf;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

static size_t add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

int cli_check_memory(const cli_cmd *cmd, size_t inputs, const nb_layer_spec *layers,
                     size_t n_layers, size_t batch, const nb_optim_opts *optim, bool lm)
{
    size_t mib = 0;
    bool given = cli_get(cmd, "max-mem") != NULL;
    if (!cli_size(cmd, "max-mem", 0, 1, &mib))
        return CLI_USAGE;
    if (given && mib > SIZE_MAX >> 20)
        return cli_usage_error(cmd->name, "--max-mem %zu MiB is too large", mib);
    nb_net_memory m;
    nb_status st = nb_net_memory_estimate(&m, inputs, layers, n_layers, batch, optim);
    if (st != NB_OK)
        return cli_error(cmd->name, "cannot estimate the network's memory: %s",
                         nb_status_str(st));
    char a[48], b[48], c[48], d[48], e[48], f[48], g[48];
    if (lm) {
        /* lm's own limit is --max-mem, or 256 MiB (cli_fullbatch_parse), on J^T J alone */
        size_t P = m.params / sizeof(float), need = lm_bytes(P);
        size_t lim = given ? mib << 20 : (size_t)256 << 20;
        if (need > lim)
            return cli_error(cmd->name, "--optimizer lm needs %s for J^T J and its Cholesky "
                                        "factor (16 bytes x %zu parameters squared) but "
                                        "--max-mem %s %zu MiB: give --max-mem %zu or more, or "
                                        "use fewer parameters", cli_bytes(need, a, sizeof a), P,
                             given ? "allows" : "defaults to", lim >> 20,
                             need == SIZE_MAX ? SIZE_MAX >> 20 : (need + (1u << 20) - 1) >> 20);
        m.total = add(m.total, need);
    }
    const char *source = "--max-mem";
    size_t limit = given ? mib << 20 : cli_mem_available(&source);
    if (limit == 0 || m.total <= limit) /* 0: unknown, nothing to compare with */
        return CLI_OK;
    return cli_error(cmd->name, "the network needs about %s to train (parameters %s, gradients "
                                "%s, optimizer state %s, batch buffers %s, activations %s%s) but "
                                "%s %s%s%s%s: make it smaller (--layers, --batch) or raise the "
                                "limit with --max-mem %zu (MiB)",
                     cli_bytes(m.total, a, sizeof a), cli_bytes(m.params, b, sizeof b),
                     cli_bytes(m.grads, c, sizeof c), cli_bytes(m.optimizer, d, sizeof d),
                     cli_bytes(m.trainer, e, sizeof e), cli_bytes(m.activations, f, sizeof f),
                     lm ? ", J^T J" : "", given ? "--max-mem allows" : "the memory available is",
                     cli_bytes(limit, g, sizeof g), given ? "" : " (", given ? "" : source,
                     given ? "" : ")",
                     m.total == SIZE_MAX ? SIZE_MAX >> 20 : (m.total + (1u << 20) - 1) >> 20);
}
