/* Helpers of the parity tests. */
#include "parity_util.h"

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

npy_array parity_load(const char *sub, const char *name)
{
    const char *dir = getenv("NABLAS_PARITY_DATA");
    cr_assert(dir != NULL, "NABLAS_PARITY_DATA is not set (run the tests through meson test)");
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/%s/%s.npy", dir, sub, name);
    cr_assert(len > 0 && (size_t)len < sizeof path, "path too long");
    npy_array a;
    cr_assert(npy_read(path, &a) == 0, "cannot read reference file %s", path);
    return a;
}

float *parity_floats(const npy_array *a)
{
    float *f = malloc((a->n ? a->n : 1) * sizeof *f);
    cr_assert(f != NULL);
    for (size_t i = 0; i < a->n; i++)
        f[i] = (float)a->data[i];
    return f;
}

double parity_max_abs(const double *r, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(r[i]));
    return m;
}

double parity_rel_err(const float *c, const double *r, size_t n, double floor)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)c[i] - r[i]);
        if (d == 0.0)
            continue;
        double den = fmax(fabs(r[i]), floor);
        worst = fmax(worst, den > 0.0 ? d / den : INFINITY);
        if (isnan(c[i]))
            return INFINITY;
    }
    return worst;
}

double parity_norm_err(const float *c, const double *r, size_t n)
{
    return parity_rel_err(c, r, n, parity_max_abs(r, n));
}

double parity_elem_err(const float *c, const double *r, size_t n)
{
    return parity_rel_err(c, r, n, DBL_MIN);
}

void parity_report(const char *group, const char *worst_case, double err, double tol)
{
    fprintf(stderr, "parity %-28s worst rel err %.3e (tolerance %.0e) in %s\n", group, err, tol,
            worst_case);
}

double parity_params_err(nb_net *net, const double *ref, char *where, size_t where_len)
{
    double worst = 0.0;
    const float *p = nb_net_params(net);
    size_t off = 0;
    for (size_t l = 0; l < nb_net_num_layers(net); l++) {
        nb_tensor W, b;
        cr_assert_eq(nb_net_layer_params(net, l, &W, &b), NB_OK);
        size_t nw = W.rows * W.cols, nbias = b.cols;
        double ew = parity_norm_err(p + off, ref + off, nw);
        double eb = parity_norm_err(p + off + nw, ref + off + nw, nbias);
        if (fmax(ew, eb) >= worst) {
            worst = fmax(ew, eb);
            snprintf(where, where_len, "layer %zu %s", l, ew >= eb ? "W" : "b");
        }
        off += nw + nbias;
    }
    cr_assert_eq(off, nb_net_num_params(net));
    return worst;
}
