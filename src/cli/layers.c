/* --layers: "128:relu:0.2,64:relu,10" -> layer specs (units, activation, dropout).  Hidden
   layers without an activation get relu, the last layer identity; no dropout by default. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/layers.h"

static bool act_by_name(const char *s, size_t len, nb_act *out)
{
    for (int a = 0; a < NB_ACT_COUNT; a++) {
        const char *name = nb_act_name((nb_act)a);
        if (strlen(name) == len && strncmp(name, s, len) == 0) {
            *out = (nb_act)a;
            return true;
        }
    }
    if (len == 10 && strncmp(s, "leaky-relu", 10) == 0) {
        *out = NB_ACT_LEAKY_RELU;
        return true;
    }
    return false;
}

bool cli_parse_layers(const char *spec, nb_layer_spec **out, size_t *n, char *why, size_t why_len)
{
    size_t count = 1;
    for (const char *p = spec; *p; p++)
        count += *p == ',';
    if (count > NB_MODEL_MAX_LAYERS) { /* it could train, but never be saved */
        snprintf(why, why_len, "%zu layers: a model file holds at most %u", count,
                 NB_MODEL_MAX_LAYERS);
        return false;
    }
    nb_layer_spec *L = calloc(count, sizeof *L);
    if (!L) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    const char *s = spec;
    for (size_t i = 0; i < count; i++) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char *stop;
        errno = 0;
        unsigned long long units = strtoull(s, &stop, 10);
        if (stop == s || *s == '-' || units == 0 || units > 0x7fffffff || errno) {
            snprintf(why, why_len, "layer %zu: '%.*s' does not start with a number of units >= 1",
                     i + 1, (int)len, s);
            free(L);
            return false;
        }
        L[i].units = (size_t)units;
        L[i].act = i + 1 == count ? NB_ACT_IDENTITY : NB_ACT_RELU;
        size_t used = (size_t)(stop - s);
        if (used < len) {
            /* UNITS:ACTIVATION or UNITS:ACTIVATION:DROPOUT */
            const char *act = stop + 1, *colon = memchr(act, ':', len - used - 1);
            size_t act_len = colon ? (size_t)(colon - act) : len - used - 1;
            if (*stop != ':' || !act_by_name(act, act_len, &L[i].act)) {
                snprintf(why, why_len, "layer %zu: '%.*s' is not UNITS, UNITS:ACTIVATION or "
                         "UNITS:ACTIVATION:DROPOUT (activations identity, relu, leaky_relu, "
                         "sigmoid, tanh, softmax, gelu, gelu_tanh, silu, softplus, elu)",
                         i + 1, (int)len, s);
                free(L);
                return false;
            }
            if (colon) {
                char num[32], *e;
                size_t nl = len - used - 1 - act_len - 1;
                double p = -1.0;
                if (nl > 0 && nl < sizeof num) {
                    memcpy(num, colon + 1, nl);
                    num[nl] = '\0';
                    p = strtod(num, &e);
                    if (*e || strpbrk(num, "xX")) /* no hexadecimal floats */
                        p = -1.0;
                }
                /* (float)p is what trains: a p just below 1 may round up to 1 */
                if (!(p >= 0.0 && (float)p < 1.0f) || (p > 0.0 && i + 1 == count)) {
                    snprintf(why, why_len, "layer %zu: '%.*s': dropout must be a number in "
                             "[0, 1), on hidden layers only", i + 1, (int)len, s);
                    free(L);
                    return false;
                }
                L[i].dropout = (float)p;
            }
        }
        s = end ? end + 1 : s + len;
    }
    *out = L;
    *n = count;
    return true;
}
