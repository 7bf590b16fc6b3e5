/* --layers: "128:relu,64:relu,10" -> layer specs.  Hidden layers without an activation get
   relu, the last layer identity. */
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
            if (*stop != ':' || !act_by_name(stop + 1, len - used - 1, &L[i].act)) {
                snprintf(why, why_len, "layer %zu: '%.*s' is not UNITS or UNITS:ACTIVATION "
                         "(identity, relu, leaky_relu, sigmoid, tanh, softmax)", i + 1, (int)len, s);
                free(L);
                return false;
            }
        }
        s = end ? end + 1 : s + len;
    }
    *out = L;
    *n = count;
    return true;
}
