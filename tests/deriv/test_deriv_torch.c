/* Input derivatives against PyTorch (tests/data/deriv: torch.autograd.functional.jacobian,
   jvp and vjp in float64): every activation (GELU in both forms, SiLU, softplus and ELU
   included), with and without the standardisations,
   classifier logits and probabilities, each Jacobian mode, chunked and whole batches.  Each
   row's result must be within 1e-5 of PyTorch's, relative to that row's largest value. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "deriv_case.h"
#include "parity_util.h"

#define TOL 1e-5

/* worst over rows of max_k |c - r| / max_k |r| (rows of w values) */
static double row_err(const float *c, const double *r, size_t rows, size_t w)
{
    double worst = 0.0;
    for (size_t b = 0; b < rows; b++) {
        double d = 0.0, s = parity_max_abs(r + b * w, w);
        for (size_t k = 0; k < w; k++) {
            double e = fabs((double)c[b * w + k] - r[b * w + k]);
            d = isnan(e) ? INFINITY : fmax(d, e);
        }
        worst = fmax(worst, s > 0.0 ? d / s : (d > 0.0 ? INFINITY : 0.0));
    }
    return worst;
}

static void check_case(const char *tag)
{
    deriv_case c;
    deriv_case_load(&c, tag);
    size_t n = c.n, m = c.m, B = c.rows;
    nb_tensor J, JT, JV, UJ, Y;
    cr_assert_eq(nb_tensor_alloc(&J, B, m * n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&JT, B, n * m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&JV, B, m), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&UJ, B, n), NB_OK);
    cr_assert_eq(nb_tensor_alloc(&Y, B, m), NB_OK);
    double *jt_ref = malloc(B * m * n * sizeof *jt_ref);
    for (size_t b = 0; b < B; b++)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                jt_ref[(b * n + j) * m + i] = c.J.data[(b * m + i) * n + j];
    const nb_deriv_mode modes[] = {NB_DERIV_AUTO, NB_DERIV_FORWARD, NB_DERIV_REVERSE};
    const size_t batches[] = {B, 3, 1};
    for (size_t mi = 0; mi < 3; mi++)
        for (size_t bi = 0; bi < 3; bi++) {
            nb_deriv_opts o = deriv_case_opts(&c, modes[mi]);
            nb_deriv_ctx *ctx;
            cr_assert_eq(nb_deriv_ctx_create(&ctx, c.net, &o, batches[bi]), NB_OK, "%s", tag);
            cr_assert_eq(nb_deriv_jacobian(ctx, &c.X, &J, &Y), NB_OK);
            double e = row_err(J.data, c.J.data, B, m * n);
            cr_expect(e <= TOL, "%s mode %zu batch %zu: J error %.3g", tag, mi, batches[bi], e);
            e = row_err(Y.data, c.Y.data, B, m);
            cr_expect(e <= TOL, "%s: Y error %.3g", tag, e);
            cr_assert_eq(nb_deriv_jacobian_t(ctx, &c.X, &JT, NULL), NB_OK);
            e = row_err(JT.data, jt_ref, B, m * n);
            cr_expect(e <= TOL, "%s mode %zu batch %zu: JT error %.3g", tag, mi, batches[bi], e);
            cr_assert_eq(nb_deriv_jvp(ctx, &c.X, &c.V, &JV, NULL), NB_OK);
            e = row_err(JV.data, c.JV.data, B, m);
            cr_expect(e <= TOL, "%s batch %zu: JV error %.3g", tag, batches[bi], e);
            cr_assert_eq(nb_deriv_vjp(ctx, &c.X, &c.U, &UJ, NULL), NB_OK);
            e = row_err(UJ.data, c.UJ.data, B, n);
            cr_expect(e <= TOL, "%s batch %zu: UJ error %.3g", tag, batches[bi], e);
            nb_deriv_ctx_free(ctx);
        }
    free(jt_ref);
    nb_tensor_free(&J);
    nb_tensor_free(&JT);
    nb_tensor_free(&JV);
    nb_tensor_free(&UJ);
    nb_tensor_free(&Y);
    deriv_case_free(&c);
}

Test(deriv_torch, every_case)
{
    size_t count = 0;
    for (const char *const *t = deriv_cases; *t; t++, count++)
        check_case(*t);
    cr_assert(count >= 29);
}

/* The Jacobian of y = softmax(logits) rows sums to zero over the outputs (probabilities sum to
   one whatever x): a property PyTorch's numbers also show, checked on nablas' own. */
Test(deriv_torch, probabilities_columns_sum_to_zero)
{
    deriv_case c;
    deriv_case_load(&c, "probs_6_12_5_norm");
    nb_tensor J;
    cr_assert_eq(nb_tensor_alloc(&J, c.rows, c.m * c.n), NB_OK);
    nb_deriv_opts o = deriv_case_opts(&c, NB_DERIV_AUTO);
    nb_deriv_ctx *ctx;
    cr_assert_eq(nb_deriv_ctx_create(&ctx, c.net, &o, 4), NB_OK);
    cr_assert_eq(nb_deriv_jacobian(ctx, &c.X, &J, NULL), NB_OK);
    for (size_t b = 0; b < c.rows; b++)
        for (size_t j = 0; j < c.n; j++) {
            double s = 0.0, a = 0.0;
            for (size_t i = 0; i < c.m; i++) {
                s += J.data[(b * c.m + i) * c.n + j];
                a += fabs(J.data[(b * c.m + i) * c.n + j]);
            }
            cr_expect(fabs(s) <= 1e-6 * a + 1e-9, "row %zu input %zu: %g", b, j, s);
        }
    nb_deriv_ctx_free(ctx);
    nb_tensor_free(&J);
    deriv_case_free(&c);
}
