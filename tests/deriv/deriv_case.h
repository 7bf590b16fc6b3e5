/* The networks of tests/data/deriv (tools/make_reference.py, make_deriv) loaded into nablas,
   shared by the derivative tests. */
#ifndef DERIV_CASE_H
#define DERIV_CASE_H

#include "nablas.h"
#include "npy_read.h"

typedef struct deriv_case {
    nb_net *net;
    nb_norm *norm, *target_norm;
    bool probs;
    size_t n, m, rows;
    nb_tensor X, V, U;
    npy_array Y, J, JV, UJ; /* PyTorch's, float64 */
} deriv_case;

/* Every case's tag, NULL-terminated. */
extern const char *const deriv_cases[];

void deriv_case_load(deriv_case *c, const char *tag);
void deriv_case_free(deriv_case *c);
/* Options for the case's standardisations and output. */
nb_deriv_opts deriv_case_opts(const deriv_case *c, nb_deriv_mode mode);

#endif
