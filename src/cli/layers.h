#ifndef NB_CLI_LAYERS_H
#define NB_CLI_LAYERS_H

#include <stdbool.h>
#include "nablas.h"

/* Parses a --layers value into a malloc'd array; on failure writes the reason to why. */
bool cli_parse_layers(const char *spec, nb_layer_spec **out, size_t *n, char *why, size_t why_len);

#endif
