/* The running library's version (nablas/version.h, generated from meson.build's version). */
#include "nablas/version.h"

const char *nb_version(void) { return NB_VERSION_STRING; }
