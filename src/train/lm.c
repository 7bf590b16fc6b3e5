/* Levenberg–Marquardt for MSE networks with MATLAB trainlm's rules: the normal equations
   J^T J, J^T e accumulated chunk by chunk in double (dsyrk, dgemv), the damped system solved by
   Cholesky (LAPACK's dposv: a well-kept library instead of a hand-written factorisation). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/jacobian.h"
#include "train/fullbatch.h"

enum {
    LM_CHUNK_TARGET = 4 << 20, /* bytes of one Jacobian chunk when chunk_rows is 0 */
    LM_CHUNK_MIN = 32,
    LM_CHUNK_MAX = 4096,
};
#define LM_MU_FLOOR 1e-20 /* trainlm keeps mu from underflowing */

nb_lm_opts nb_lm_opts_default(void)
{
    nb_lm_opts o = {
        .iterations = 1000, .mu = 1e-3, .mu_dec = 0.1, .mu_inc = 10.0, .mu_max = 1e10,
        .goal = 0.0, .min_grad = 1e-7, .X_val = NULL, .T_val = NULL, .max_fail = 6,
        .chunk_rows = 0, .max_bytes = (size_t)256 << 20, .on_iteration = NULL, .user = NULL,
    };
    return o;
}

typedef struct lm_ws {
    size_t P, m, width, chunk;
    double *H, *A; /* J^T J (lower triangle, column-major P x P) and its damped factor */
    double *J;     /* one chunk: chunk x P, row-major (= P x chunk column-major) */
    double *g, *d, *e; /* J^T e, the step, one chunk's residuals of one output */
    float *G0, *G1;    /* backward scratch, chunk x width each */
    float *p_save, *p_best;
} lm_ws;

static size_t pick_chunk(size_t P, size_t rows, size_t requested)
{
    size_t c = requested;
    if (!c) {
        c = LM_CHUNK_TARGET / (sizeof(double) * P);
        c = c < LM_CHUNK_MIN ? LM_CHUNK_MIN : c > LM_CHUNK_MAX ? LM_CHUNK_MAX : c;
    }
    return c < rows ? c : rows;
}

/* Workspace bytes, SIZE_MAX on overflow. */
static size_t ws_bytes(size_t P, size_t m, size_t width, size_t chunk)
{
    (void)m;
    if (P > 0x10000000u || chunk > SIZE_MAX / 64 / (P + width + 1))
        return SIZE_MAX;
    size_t PP = P * P;
    if (PP > (SIZE_MAX / 4) / (2 * sizeof(double)))
        return SIZE_MAX;
    return 2 * PP * sizeof(double) + chunk * P * sizeof(double) + (2 * P + chunk) * sizeof(double)
           + 2 * chunk * width * sizeof(float) + 2 * P * sizeof(float);
}

size_t nb_lm_workspace_bytes(const nb_net *net, size_t rows, size_t chunk_rows)
{
    if (!net || !rows)
        return 0;
    size_t P = nb_net_num_params(net);
    return ws_bytes(P, nb_net_outputs(net), nb__net_max_width(net), pick_chunk(P, rows, chunk_rows));
}

static void ws_free(lm_ws *w)
{
    free(w->H);
    free(w->A);
    free(w->J);
    free(w->g);
    free(w->d);
    free(w->e);
    free(w->G0);
    free(w->G1);
    free(w->p_save);
    free(w->p_best);
}

static nb_status ws_alloc(lm_ws *w)
{
    size_t P = w->P;
    w->H = malloc(P * P * sizeof(double));
    w->A = malloc(P * P * sizeof(double));
    w->J = malloc(w->chunk * P * sizeof(double));
    w->g = malloc(P * sizeof(double));
    w->d = malloc(P * sizeof(double));
    w->e = malloc(w->chunk * sizeof(double));
    w->G0 = nb__alloc_floats(w->chunk * w->width);
    w->G1 = nb__alloc_floats(w->chunk * w->width);
    w->p_save = nb__alloc_floats(P);
    w->p_best = nb__alloc_floats(P);
    if (!w->H || !w->A || !w->J || !w->g || !w->d || !w->e || !w->G0 || !w->G1 || !w->p_save
        || !w->p_best)
        return NB_ERR_NOMEM;
    return NB_OK;
}

static bool finite_pos(double x) { return isfinite(x) && x > 0.0; }

/* The data, then the options (the validation rows checked as the data are). */
static nb_status check_args(const nb_net *net, const nb_tensor *X, const nb_tensor *T,
                            const nb_lm_opts *o)
{
    NB_TRY(nb__fb_check_data(net, X, T));
    if (o->iterations == 0 || !finite_pos(o->mu) || !finite_pos(o->mu_dec) || o->mu_dec >= 1.0
        || !isfinite(o->mu_inc) || o->mu_inc <= 1.0 || !finite_pos(o->mu_max)
        || !isfinite(o->goal) || o->goal < 0.0 || !isfinite(o->min_grad) || o->min_grad < 0.0
        || o->max_fail == 0)
        return NB_ERR_ARG;
    if (!o->X_val != !o->T_val)
        return NB_ERR_NULL;
    if (o->X_val)
        NB_TRY(nb__fb_check_data(net, o->X_val, o->T_val));
    return NB_OK;
}

/* J^T J into H, J^T e into g over all rows; returns the sum of squared errors. */
static double normal_equations(lm_ws *w, nb_net *net, const float *X, const float *T, size_t rows)
{
    size_t P = w->P, m = w->m, in = nb_net_inputs(net);
    memset(w->H, 0, P * P * sizeof(double));
    memset(w->g, 0, P * sizeof(double));
    double sse = 0.0;
    for (size_t s = 0; s < rows; s += w->chunk) {
        size_t n = rows - s < w->chunk ? rows - s : w->chunk;
        const float *Xc = X + s * in, *Tc = T + s * m;
        const float *Y = nb__net_forward_rows(net, Xc, n);
        for (size_t k = 0; k < m; k++) {
            for (size_t i = 0; i < n; i++) {
                w->e[i] = (double)Tc[i * m + k] - (double)Y[i * m + k];
                sse += w->e[i] * w->e[i];
            }
            nb__net_jacobian_rows(net, Xc, n, k, w->J, w->G0, w->G1);
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)P, (int)n, 1.0, w->J,
                        (int)P, 1.0, w->H, (int)P);
            cblas_dgemv(CblasColMajor, CblasNoTrans, (int)P, (int)n, 1.0, w->J, (int)P, w->e, 1,
                        1.0, w->g, 1);
        }
    }
    return sse;
}

/* d = (H + mu I)^-1 g; false if the factorisation fails (not positive definite in floating
   point) or the step is not finite. */
static bool solve(lm_ws *w, double mu)
{
    size_t P = w->P;
    memcpy(w->A, w->H, P * P * sizeof(double));
    for (size_t i = 0; i < P; i++)
        w->A[i * P + i] += mu;
    memcpy(w->d, w->g, P * sizeof(double));
    /* the _work variant in column-major order calls LAPACK directly: no allocation */
    lapack_int info = LAPACKE_dposv_work(LAPACK_COL_MAJOR, 'L', (lapack_int)P, 1, w->A,
                                         (lapack_int)P, w->d, (lapack_int)P);
    return info == 0 && nb__fb_finite(w->d, P);
}

static double grad_norm(const lm_ws *w, double n_el)
{
    return 2.0 * cblas_dnrm2((int)w->P, w->g, 1) / n_el; /* grad MSE = -2 J^T e / N */
}

typedef struct lm_data {
    const float *X, *T, *Xv, *Tv;
    size_t rows, rows_val;
} lm_data;

/* Where a run stands: the current loss, gradient and damping, and the best validation point. */
typedef struct lm_state {
    double sse, gnorm, mu, vloss, vbest, best_loss, best_grad;
    size_t it, fails, best_it;
} lm_state;

/* Why the run stops before the next iteration, or false to go on. */
static bool should_stop(const lm_state *s, const nb_lm_opts *o, double n_el, bool val,
                        nb_fb_stop *stop)
{
    if (s->sse / n_el <= o->goal)
        *stop = NB_FB_STOP_GOAL;
    else if (s->mu > o->mu_max)
        *stop = NB_FB_STOP_MU_MAX;
    else if (s->gnorm < o->min_grad)
        *stop = NB_FB_STOP_GRADIENT;
    else if (s->it == o->iterations)
        *stop = NB_FB_STOP_ITERATIONS;
    else if (val && s->fails >= o->max_fail)
        *stop = NB_FB_STOP_VALIDATION;
    else
        return false;
    return true;
}

/* Raises mu until a step lowers the loss (the parameters moved, mu lowered; true), or mu
   passes mu_max (the parameters as they were; false). */
static bool damped_step(lm_ws *w, nb_net *net, const lm_data *D, const nb_lm_opts *o,
                        lm_state *s, nb_lm_report *r)
{
    float *params = nb_net_params(net);
    memcpy(w->p_save, params, w->P * sizeof(float));
    while (s->mu <= o->mu_max) {
        r->solves++;
        if (solve(w, s->mu)) {
            for (size_t i = 0; i < w->P; i++)
                params[i] = w->p_save[i] + (float)w->d[i];
            double trial = nb__net_sse(net, D->X, D->T, D->rows, w->chunk);
            if (trial < s->sse) { /* false for NaN */
                s->mu = fmax(s->mu * o->mu_dec, LM_MU_FLOOR);
                return true;
            }
            memcpy(params, w->p_save, w->P * sizeof(float));
        } else {
            r->chol_failures++;
        }
        s->mu *= o->mu_inc;
    }
    return false;
}

/* The validation loss after an iteration; a lower one becomes the best point. */
static void track_validation(lm_ws *w, nb_net *net, const lm_data *D, lm_state *s, double n_el,
                             double nv_el)
{
    s->vloss = nb__net_sse(net, D->Xv, D->Tv, D->rows_val, w->chunk) / nv_el;
    if (s->vloss < s->vbest) {
        s->vbest = s->vloss;
        s->fails = 0;
        s->best_it = s->it;
        s->best_loss = s->sse / n_el;
        s->best_grad = s->gnorm;
        memcpy(w->p_best, nb_net_params(net), w->P * sizeof(float));
    } else if (s->vloss > s->vbest) {
        s->fails++;
    }
}

/* The report of the run; trainlm returns the best validation net, so with validation (and
   no failure) the best point's parameters and figures come back. */
static void report(lm_ws *w, nb_net *net, const lm_state *s, double n_el, bool best,
                   nb_lm_report *r)
{
    r->iterations = s->it;
    r->mu = s->mu;
    if (best) {
        memcpy(nb_net_params(net), w->p_best, w->P * sizeof(float));
        r->best_iteration = s->best_it;
        r->loss = s->best_loss;
        r->grad_norm = s->best_grad;
        r->val_loss = s->vbest;
    } else {
        r->best_iteration = s->it;
        r->loss = s->sse / n_el;
        r->grad_norm = s->gnorm;
        r->val_loss = s->vloss;
    }
}

static nb_status run(lm_ws *w, nb_net *net, const lm_data *D, const nb_lm_opts *o,
                     nb_lm_report *r)
{
    size_t P = w->P;
    double n_el = (double)D->rows * (double)w->m, nv_el = (double)D->rows_val * (double)w->m;
    lm_state s = {0};
    s.sse = normal_equations(w, net, D->X, D->T, D->rows);
    if (!isfinite(s.sse) || !nb__fb_finite(w->g, P))
        return NB_ERR_NONFINITE;
    s.gnorm = grad_norm(w, n_el);
    s.mu = o->mu;
    s.vloss = NAN;
    s.vbest = INFINITY;
    s.best_loss = s.sse / n_el;
    s.best_grad = s.gnorm;
    bool val = D->Xv != NULL;
    if (val) {
        s.vbest = s.vloss = nb__net_sse(net, D->Xv, D->Tv, D->rows_val, w->chunk) / nv_el;
        memcpy(w->p_best, nb_net_params(net), P * sizeof(float));
    }
    nb_fb_stop stop;
    nb_status status = NB_OK;
    while (!should_stop(&s, o, n_el, val, &stop)) {
        bool moved = damped_step(w, net, D, o, &s, r);
        s.it++;
        if (moved) {
            s.sse = normal_equations(w, net, D->X, D->T, D->rows);
            if (!isfinite(s.sse) || !nb__fb_finite(w->g, P)) {
                memcpy(nb_net_params(net), w->p_save, P * sizeof(float));
                status = NB_ERR_NONFINITE;
                stop = NB_FB_STOP_ITERATIONS;
                break;
            }
            s.gnorm = grad_norm(w, n_el);
        }
        if (val)
            track_validation(w, net, D, &s, n_el, nv_el);
        if (o->on_iteration) {
            nb_fb_info info = {s.it, o->iterations, s.sse / n_el, s.vloss, s.gnorm, s.mu, 0.0,
                               r->solves};
            if (o->on_iteration(&info, o->user)) {
                stop = NB_FB_STOP_CALLBACK;
                break;
            }
        }
    }
    report(w, net, &s, n_el, val && status == NB_OK && s.best_it != s.it, r);
    r->stop = stop;
    return status;
}

nb_status nb_net_train_lm(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                          const nb_lm_opts *opts, nb_lm_report *rep)
{
    const nb_lm_opts dflt = nb_lm_opts_default(), *o = opts ? opts : &dflt;
    NB_TRY(check_args(net, X, T, o));
    lm_ws w = {0};
    w.P = nb_net_num_params(net);
    w.m = nb_net_outputs(net);
    w.width = nb__net_max_width(net);
    size_t rows_val = o->X_val ? o->X_val->rows : 0;
    w.chunk = pick_chunk(w.P, X->rows > rows_val ? X->rows : rows_val, o->chunk_rows);
    NB_TRY(nb__check_blas_dims(w.P, w.chunk, 0));
    size_t bytes = ws_bytes(w.P, w.m, w.width, w.chunk);
    if (bytes > o->max_bytes)
        return NB_ERR_LIMIT;
    nb_status st = ws_alloc(&w);
    if (st == NB_OK)
        st = nb_net_reserve(net, w.chunk);
    if (st == NB_OK) {
        nb_lm_report r = {0};
        r.bytes = bytes;
        lm_data D = {X->data, T->data, o->X_val ? o->X_val->data : NULL,
                     o->T_val ? o->T_val->data : NULL, X->rows, rows_val};
        st = run(&w, net, &D, o, &r);
        nb__net_invalidate(net); /* the last forward ran on a chunk of the caller's rows */
        if (rep && st == NB_OK)
            *rep = r;
    }
    ws_free(&w);
    return st;
}
