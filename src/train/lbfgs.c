/* Full-batch L-BFGS: the algorithm of torch.optim.LBFGS.step (PyTorch 1.13) with its defaults,
   its two-loop recursion, first-step scaling, stopping rules and strong-Wolfe line search
   (cubic interpolation, bracketing then zoom), on a float32 network.  Vectors are float32 as
   torch keeps them; dot products and scalars are double. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "net/network.h"
#include "train/fullbatch.h"

#define LB_C1 1e-4      /* sufficient decrease (torch's _strong_wolfe) */
#define LB_C2 0.9       /* curvature */
#define LB_MAX_LS 25    /* evaluations of one line search */
#define LB_MIN_YS 1e-10 /* curvature pairs with y.s below this are skipped */

nb_lbfgs_opts nb_lbfgs_opts_default(void)
{
    nb_lbfgs_opts o = {
        .loss = NB_LOSS_MSE, .iterations = 20, .max_eval = 0, .lr = 1.0,
        .tolerance_grad = 1e-7, .tolerance_change = 1e-9, .history = 100,
        .line_search = NB_LINE_SEARCH_NONE, .on_iteration = NULL, .user = NULL,
    };
    return o;
}

typedef struct lb {
    nb_net *net;
    const nb_tensor *X, *T;
    nb_loss loss;
    size_t P, hist, evals;
    float *params;
    float *x0;           /* parameters where the iteration started */
    float *g, *g_prev;   /* gradient now and at the previous iterate */
    float *d;            /* search direction */
    float *ytmp, *stmp;  /* a candidate curvature pair */
    float *Y, *S;        /* history ring, hist x P each; entry j (0 oldest) at (head + j) % hist */
    double *ro, *al;
    float *g_new, *g_ls, *bg[2]; /* line search: trial, previous trial, bracket gradients */
    size_t head, n_old;
} lb;

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i]));
    return m;
}

static void axpy(float *y, double a, const float *x, size_t n) /* y += a x, torch's add_(alpha) */
{
    float af = (float)a;
    for (size_t i = 0; i < n; i++)
        y[i] += af * x[i];
}

/* The closure: loss and gradient (into g_out) at the current parameters. */
static double evaluate(lb *c, float *g_out)
{
    float lf = NAN;
    c->evals++;
    if (nb_net_forward(c->net, c->X, NULL) != NB_OK
        || nb_net_backward(c->net, c->loss, c->T, &lf) != NB_OK)
        return NAN; /* cannot happen after the checks; reads as a non-finite loss */
    memcpy(g_out, nb_net_grads(c->net), c->P * sizeof(float));
    return lf;
}

/* Loss and gradient at x0 + t d. */
static double dir_eval(lb *c, double t, float *g_out)
{
    memcpy(c->params, c->x0, c->P * sizeof(float));
    axpy(c->params, t, c->d, c->P);
    return evaluate(c, g_out);
}

static double cubic(double x1, double f1, double g1, double x2, double f2, double g2,
                    const double *bounds)
{
    double lo = bounds ? bounds[0] : fmin(x1, x2), hi = bounds ? bounds[1] : fmax(x1, x2);
    double d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2), d2sq = d1 * d1 - g1 * g2;
    if (!(d2sq >= 0.0))
        return (lo + hi) / 2.0;
    double d2 = sqrt(d2sq), p;
    if (x1 <= x2)
        p = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2));
    else
        p = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2));
    return fmin(fmax(p, lo), hi);
}

static void copy(float *dst, const float *src, size_t n) { memcpy(dst, src, n * sizeof *dst); }

/* Strong-Wolfe line search from x0 along d (torch's _strong_wolfe, c1 1e-4, c2 0.9, 25
   evaluations).  In: *t the first trial step, f and c->g at x0, gtd = g.d.  Out: *t, the loss
   (returned) and its gradient in c->g. */
static double strong_wolfe(lb *c, double *t_io, double f, double gtd, double tol_change)
{
    size_t P = c->P;
    double t = *t_io, d_norm = max_abs(c->d, P);
    double f_new = dir_eval(c, t, c->g_new), gtd_new = dot(c->g_new, c->d, P);
    double t_prev = 0.0, f_prev = f, gtd_prev = gtd;
    copy(c->g_ls, c->g, P); /* g_prev of the bracketing phase */
    double b[2] = {0, 0}, bf[2] = {0, 0}, bgtd[2] = {0, 0};
    bool done = false;
    size_t it = 0;
    while (it < LB_MAX_LS) {
        bool armijo_fail = f_new > f + LB_C1 * t * gtd || (it > 1 && f_new >= f_prev);
        if (armijo_fail || (!(fabs(gtd_new) <= -LB_C2 * gtd) && gtd_new >= 0.0)) {
            b[0] = t_prev, b[1] = t, bf[0] = f_prev, bf[1] = f_new;
            bgtd[0] = gtd_prev, bgtd[1] = gtd_new;
            copy(c->bg[0], c->g_ls, P);
            copy(c->bg[1], c->g_new, P);
            break;
        }
        if (fabs(gtd_new) <= -LB_C2 * gtd) {
            b[0] = b[1] = t, bf[0] = bf[1] = f_new; /* one point: the search is done */
            copy(c->bg[0], c->g_new, P);
            done = true;
            break;
        }
        double bounds[2] = {t + 0.01 * (t - t_prev), t * 10.0}, tmp = t;
        t = cubic(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds);
        t_prev = tmp, f_prev = f_new, gtd_prev = gtd_new;
        copy(c->g_ls, c->g_new, P);
        f_new = dir_eval(c, t, c->g_new);
        gtd_new = dot(c->g_new, c->d, P);
        it++;
    }
    if (it == LB_MAX_LS) {
        b[0] = 0.0, b[1] = t, bf[0] = f, bf[1] = f_new;
        copy(c->bg[0], c->g, P);
        copy(c->bg[1], c->g_new, P);
    }

    /* Zoom: shrink the bracket until a point satisfies the conditions. */
    bool insuf = false;
    int low = bf[0] <= bf[1] ? 0 : 1, high = 1 - low;
    while (!done && it < LB_MAX_LS) {
        if (fabs(b[1] - b[0]) * d_norm < tol_change)
            break;
        t = cubic(b[0], bf[0], bgtd[0], b[1], bf[1], bgtd[1], NULL);
        double bmax = fmax(b[0], b[1]), bmin = fmin(b[0], b[1]), eps = 0.1 * (bmax - bmin);
        if (fmin(bmax - t, t - bmin) < eps) { /* too close to an end of the bracket */
            if (insuf || t >= bmax || t <= bmin) {
                t = fabs(t - bmax) < fabs(t - bmin) ? bmax - eps : bmin + eps;
                insuf = false;
            } else {
                insuf = true;
            }
        } else {
            insuf = false;
        }
        f_new = dir_eval(c, t, c->g_new);
        gtd_new = dot(c->g_new, c->d, P);
        it++;
        if (f_new > f + LB_C1 * t * gtd || f_new >= bf[low]) {
            b[high] = t, bf[high] = f_new, bgtd[high] = gtd_new;
            copy(c->bg[high], c->g_new, P);
            low = bf[0] <= bf[1] ? 0 : 1;
            high = 1 - low;
        } else {
            if (fabs(gtd_new) <= -LB_C2 * gtd) {
                done = true;
            } else if (gtd_new * (b[high] - b[low]) >= 0.0) { /* the old low becomes high */
                b[high] = b[low], bf[high] = bf[low], bgtd[high] = bgtd[low];
                copy(c->bg[high], c->bg[low], P);
            }
            b[low] = t, bf[low] = f_new, bgtd[low] = gtd_new;
            copy(c->bg[low], c->g_new, P);
        }
    }
    *t_io = b[low];
    copy(c->g, c->bg[low], P);
    return bf[low];
}

/* d = -H g by the two-loop recursion over the stored pairs, H_0 = h_diag I. */
static void direction(lb *c, double h_diag)
{
    size_t P = c->P;
    for (size_t i = 0; i < P; i++)
        c->d[i] = -c->g[i];
    for (size_t j = c->n_old; j-- > 0;) {
        size_t k = (c->head + j) % c->hist;
        c->al[k] = dot(c->S + k * P, c->d, P) * c->ro[k];
        axpy(c->d, -c->al[k], c->Y + k * P, P);
    }
    float hd = (float)h_diag;
    for (size_t i = 0; i < P; i++)
        c->d[i] *= hd;
    for (size_t j = 0; j < c->n_old; j++) {
        size_t k = (c->head + j) % c->hist;
        double be = dot(c->Y + k * P, c->d, P) * c->ro[k];
        axpy(c->d, c->al[k] - be, c->S + k * P, P);
    }
}

/* Stores the pair (y, s) = (g - g_prev, t d) if y.s > 1e-10; returns the new H_diag. */
static double update_memory(lb *c, double t, double h_diag)
{
    size_t P = c->P;
    float tf = (float)t;
    for (size_t i = 0; i < P; i++) {
        c->ytmp[i] = c->g[i] - c->g_prev[i];
        c->stmp[i] = c->d[i] * tf;
    }
    double ys = dot(c->ytmp, c->stmp, P);
    if (!(ys > LB_MIN_YS))
        return h_diag;
    if (c->n_old == c->hist) { /* drop the oldest pair */
        c->head = (c->head + 1) % c->hist;
        c->n_old--;
    }
    size_t k = (c->head + c->n_old) % c->hist;
    copy(c->Y + k * P, c->ytmp, P);
    copy(c->S + k * P, c->stmp, P);
    c->ro[k] = 1.0 / ys;
    c->n_old++;
    return ys / dot(c->ytmp, c->ytmp, P);
}

/* The search direction of iteration n_iter (1-based: the steepest descent first, then the
   two-loop recursion over the memory) and its first trial step. */
static double start_iteration(lb *c, const nb_lbfgs_opts *o, size_t n_iter, double t,
                              double *h_diag)
{
    size_t P = c->P;
    if (n_iter == 1) {
        for (size_t i = 0; i < P; i++)
            c->d[i] = -c->g[i];
    } else {
        *h_diag = update_memory(c, t, *h_diag);
        direction(c, *h_diag);
    }
    copy(c->g_prev, c->g, P);
    if (n_iter > 1)
        return o->lr;
    double s = 0.0;
    for (size_t i = 0; i < P; i++)
        s += fabs((double)c->g[i]);
    return fmin(1.0, 1.0 / s) * o->lr;
}

/* Why the run stops after iteration n_iter (torch's order of tests), or false to go on. */
static bool stops_after(const lb *c, const nb_lbfgs_opts *o, size_t n_iter, size_t max_eval,
                        bool opt, double t, double loss_change, nb_fb_stop *stop)
{
    if (n_iter == o->iterations)
        *stop = NB_FB_STOP_ITERATIONS;
    else if (c->evals >= max_eval)
        *stop = NB_FB_STOP_EVALS;
    else if (opt)
        *stop = NB_FB_STOP_GRADIENT;
    else if (max_abs(c->d, c->P) * fabs(t) <= o->tolerance_change
             || loss_change < o->tolerance_change)
        *stop = NB_FB_STOP_CHANGE;
    else
        return false;
    return true;
}

static nb_status run(lb *c, const nb_lbfgs_opts *o, nb_lbfgs_report *r)
{
    size_t P = c->P, max_eval = o->max_eval ? o->max_eval : o->iterations * 5 / 4;
    double loss = evaluate(c, c->g), t = 0.0, h_diag = 1.0;
    if (!isfinite(loss) || !isfinite(max_abs(c->g, P)))
        return NB_ERR_NONFINITE;
    r->stop = NB_FB_STOP_GRADIENT;
    size_t n_iter = 0;
    bool opt = max_abs(c->g, P) <= o->tolerance_grad;
    while (!opt && n_iter < o->iterations) {
        n_iter++;
        t = start_iteration(c, o, n_iter, t, &h_diag);
        double prev_loss = loss;
        double gtd = dot(c->g, c->d, P);
        if (gtd > -o->tolerance_change) {
            n_iter--; /* no step was taken */
            r->stop = NB_FB_STOP_DIRECTION;
            break;
        }
        copy(c->x0, c->params, P);
        if (o->line_search == NB_LINE_SEARCH_STRONG_WOLFE) {
            loss = strong_wolfe(c, &t, loss, gtd, o->tolerance_change);
            copy(c->params, c->x0, P);
            axpy(c->params, t, c->d, P);
        } else {
            axpy(c->params, t, c->d, P);
            loss = evaluate(c, c->g); /* torch skips this after the last iteration; the report
                                         needs it */
        }
        double gmax = max_abs(c->g, P);
        if (!isfinite(loss) || !isfinite(gmax)) {
            copy(c->params, c->x0, P);
            r->iterations = n_iter - 1;
            return NB_ERR_NONFINITE;
        }
        opt = gmax <= o->tolerance_grad;
        r->iterations = n_iter;
        r->loss = loss;
        r->grad_norm = gmax;
        r->step = t;
        if (o->on_iteration) {
            nb_fb_info info = {n_iter, o->iterations, loss, NAN, gmax, 0.0, t, c->evals};
            if (o->on_iteration(&info, o->user)) {
                r->stop = NB_FB_STOP_CALLBACK;
                break;
            }
        }
        if (stops_after(c, o, n_iter, max_eval, opt, t, fabs(loss - prev_loss), &r->stop))
            break;
    }
    r->iterations = n_iter;
    r->loss = loss;
    r->grad_norm = max_abs(c->g, P);
    r->step = t;
    r->evals = c->evals;
    return NB_OK;
}

/* The data, then the options; the loss must fit the output activation. */
static nb_status check_args(const nb_net *net, const nb_tensor *X, const nb_tensor *T,
                            const nb_lbfgs_opts *o)
{
    NB_TRY(nb__fb_check_data(net, X, T));
    if (!nb__loss_valid(o->loss) || o->iterations == 0 || !isfinite(o->lr) || o->lr <= 0.0
        || !isfinite(o->tolerance_grad) || o->tolerance_grad < 0.0
        || !isfinite(o->tolerance_change) || o->tolerance_change < 0.0 || o->history == 0
        || (unsigned)o->line_search >= (unsigned)NB_LINE_SEARCH_COUNT)
        return NB_ERR_ARG;
    return nb__net_check_loss(net, o->loss);
}

nb_status nb_net_train_lbfgs(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                             const nb_lbfgs_opts *opts, nb_lbfgs_report *rep)
{
    const nb_lbfgs_opts dflt = nb_lbfgs_opts_default(), *o = opts ? opts : &dflt;
    NB_TRY(check_args(net, X, T, o));
    size_t P = nb_net_num_params(net), h = o->history;
    if (h > (SIZE_MAX / sizeof(float) / 4) / P - 16)
        return NB_ERR_OVERFLOW;
    lb c = {0};
    c.net = net, c.X = X, c.T = T, c.loss = o->loss, c.P = P, c.hist = h;
    c.params = nb_net_params(net);
    /* one block: x0 g g_prev d ytmp stmp g_new g_ls bg0 bg1, then Y and S */
    size_t nvec = 10 + 2 * h;
    float *block = nb__alloc_floats(nvec * P);
    c.ro = calloc(h, sizeof(double));
    c.al = calloc(h, sizeof(double));
    nb_status st = block && c.ro && c.al ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK)
        st = nb_net_reserve(net, X->rows);
    if (st == NB_OK) {
        float **v[] = {&c.x0, &c.g, &c.g_prev, &c.d, &c.ytmp, &c.stmp, &c.g_new, &c.g_ls,
                       &c.bg[0], &c.bg[1]};
        for (size_t i = 0; i < 10; i++)
            *v[i] = block + i * P;
        c.Y = block + 10 * P;
        c.S = c.Y + h * P;
        nb_lbfgs_report r = {0};
        r.bytes = nvec * P * sizeof(float) + 2 * h * sizeof(double);
        st = run(&c, o, &r);
        if (rep && st == NB_OK)
            *rep = r;
    }
    free(block);
    free(c.ro);
    free(c.al);
    return st;
}
