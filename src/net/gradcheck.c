/* Gradient check: nb_net_backward's gradients against central finite differences of the loss.
   Built on the public network API (and the network's own argument checks); the loss comes from
   nb_net_evaluate, summed in double. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "net/network.h"
#include "nablas/gradcheck.h"
#include "nablas/rng.h"

nb_gradcheck_opts nb_gradcheck_opts_default(void)
{
    nb_gradcheck_opts o = {.step = 1e-2, .max_params = 0, .seed = 0, .floor = 1e-3};
    return o;
}

static nb_status check_args(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                            const nb_gradcheck_opts *o, const nb_gradcheck_result *out)
{
    if (!net || !out)
        return NB_ERR_NULL;
    NB_TRY(nb__check_tensor(X));
    if (X->cols != nb_net_inputs(net))
        return NB_ERR_SHAPE;
    NB_TRY(nb__net_check_targets(net, loss, T, X->rows)); /* and the loss against the output */
    if (!isfinite(o->step) || o->step <= 0.0 || !isfinite(o->floor) || o->floor < 0.0)
        return NB_ERR_ARG;
    return NB_OK;
}

/* The parameters to check: all, or the first max_params of a seeded shuffle (distinct; the
   order does not matter: each is checked independently). */
static size_t *pick(size_t n, const nb_gradcheck_opts *o, size_t *count)
{
    size_t k = o->max_params && o->max_params < n ? o->max_params : n;
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx)
        return NULL;
    if (k < n)
        nb_rng_shuffle(idx, n, o->seed, 0);
    else
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
    *count = k;
    return idx;
}

static nb_status loss_at(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                         double *value)
{
    nb_eval ev;
    NB_TRY(nb_net_evaluate(net, X, T, loss, &ev));
    *value = ev.loss;
    return NB_OK;
}

nb_status nb_net_gradcheck_grads(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                                 nb_loss loss, const float *grads,
                                 const nb_gradcheck_opts *opts, nb_gradcheck_result *out)
{
    nb_gradcheck_opts o = opts ? *opts : nb_gradcheck_opts_default();
    NB_TRY(check_args(net, X, T, loss, &o, out));
    if (!grads)
        return NB_ERR_NULL;
    size_t n = nb_net_num_params(net);
    float *p = nb_net_params(net);
    uintptr_t ga = (uintptr_t)grads, pa = (uintptr_t)p, bytes = n * sizeof(float);
    if (ga < pa + bytes && pa < ga + bytes) /* the perturbations would change the gradients */
        return NB_ERR_ALIAS;

    size_t count;
    size_t *idx = pick(n, &o, &count);
    if (!idx)
        return NB_ERR_NOMEM;
    double scale = 0.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs((double)grads[i]));
    nb_gradcheck_result r = {0.0, 0, 0.0, 0.0, count}; /* the first check fills it */
    nb_status s = NB_OK;
    for (size_t c = 0; c < count && s == NB_OK; c++) {
        size_t i = idx[c];
        float p0 = p[i];
        double h = o.step * fmax(1.0, fabs((double)p0));
        /* the steps actually taken are the float32 neighbours, not p0 +- h */
        float up = (float)((double)p0 + h), down = (float)((double)p0 - h);
        double lu = 0.0, ld = 0.0;
        p[i] = up;
        s = loss_at(net, X, T, loss, &lu);
        p[i] = down;
        if (s == NB_OK)
            s = loss_at(net, X, T, loss, &ld);
        p[i] = p0; /* restored bit for bit, also on failure */
        if (s != NB_OK)
            break;
        double num = up != down ? (lu - ld) / ((double)up - (double)down) : 0.0;
        double ana = grads[i], diff = fabs(ana - num);
        double den = fmax(fmax(fabs(ana), fabs(num)), o.floor * scale);
        double rel = diff == 0.0 ? 0.0 : den > 0.0 ? diff / den : INFINITY;
        if (isnan(rel)) /* a non-finite loss or gradient is a failed check */
            rel = INFINITY;
        if (c == 0 || rel > r.max_rel_err) {
            r.max_rel_err = rel;
            r.worst = i;
            r.analytic = ana;
            r.numeric = num;
        }
    }
    free(idx);
    if (s == NB_OK)
        *out = r;
    return s;
}

nb_status nb_net_gradcheck(nb_net *net, const nb_tensor *X, const nb_tensor *T, nb_loss loss,
                           const nb_gradcheck_opts *opts, nb_gradcheck_result *out)
{
    nb_gradcheck_opts o = opts ? *opts : nb_gradcheck_opts_default();
    NB_TRY(check_args(net, X, T, loss, &o, out));
    NB_TRY(nb_net_forward(net, X, NULL));
    NB_TRY(nb_net_backward(net, loss, T, NULL));
    return nb_net_gradcheck_grads(net, X, T, loss, nb_net_grads(net), &o, out);
}
