/* nablas: full-batch second-order training for small networks: Levenberg–Marquardt (MATLAB's
   trainlm rules) and L-BFGS (torch.optim.LBFGS's algorithm and defaults).  See docs/fullbatch.md.

   Both trainers take the whole training set at every iteration and suit networks of up to a
   few thousand parameters (surrogates of a few inputs, hidden layers of 10-100 units, a smooth
   target).  Each call allocates its whole workspace before the first iteration and nothing
   during the iterations.  Bad arguments return a status and leave the network untouched.

   Threads.  One network must not be used from two threads at once. */
#ifndef NABLAS_FULLBATCH_H
#define NABLAS_FULLBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a full-batch trainer stopped. */
typedef enum nb_fb_stop {
    NB_FB_STOP_ITERATIONS, /* the iteration limit was reached */
    NB_FB_STOP_GOAL,       /* LM: the training loss reached the goal */
    NB_FB_STOP_GRADIENT,   /* LM: gradient norm < min_grad; L-BFGS: max |g| <= tolerance_grad */
    NB_FB_STOP_MU_MAX,     /* LM: mu exceeded mu_max (no damping made the loss fall) */
    NB_FB_STOP_VALIDATION, /* LM: max_fail epochs in a row without a better validation loss */
    NB_FB_STOP_CHANGE,     /* L-BFGS: the step or the loss change fell below tolerance_change */
    NB_FB_STOP_DIRECTION,  /* L-BFGS: the directional derivative is above -tolerance_change */
    NB_FB_STOP_EVALS,      /* L-BFGS: max_eval loss evaluations were spent */
    NB_FB_STOP_CALLBACK,   /* the iteration callback returned non-zero */
    NB_FB_STOP_COUNT       /* number of reasons; not a reason */
} nb_fb_stop;

/* Lower-case name ("iterations", "goal", "gradient", "mu_max", ...), or NULL if unknown. */
const char *nb_fb_stop_name(nb_fb_stop stop);

/* What the callback sees after every iteration. */
typedef struct nb_fb_info {
    size_t iteration;  /* 1-based */
    size_t iterations; /* the limit */
    double loss;       /* training loss at the new parameters */
    double val_loss;   /* LM: validation MSE at the new parameters; NaN without validation */
    double grad_norm;  /* LM: ||grad MSE||_2; L-BFGS: max |g| (torch's optimality measure) */
    double mu;         /* LM: the damping for the next iteration; L-BFGS: 0 */
    double step;       /* L-BFGS: the step length t taken; LM: 0 */
    size_t evals;      /* loss evaluations so far (LM: trial solves; L-BFGS: closure calls) */
} nb_fb_info;

/* Called after every iteration; return non-zero to stop. */
typedef int (*nb_fb_fn)(const nb_fb_info *info, void *user);

/* ---- Levenberg–Marquardt ------------------------------------------------------------------- */

/* Minimises the MSE of the network's outputs against the targets.  One iteration: the Jacobian
   J of the residuals (rows*outputs x P) is built in chunks of rows and never held whole,
   J^T J and J^T e are accumulated in double, and (J^T J + mu I) d = J^T e is solved by
   Cholesky; the step is taken if the loss falls (then mu *= mu_dec), else mu *= mu_inc and the
   system is solved again, until mu > mu_max.  Workspace: about 16 P^2 + 8 P chunk_rows bytes
   (J^T J and its factor, one chunk of J), checked against max_bytes before anything is
   allocated. */
typedef struct nb_lm_opts {
    size_t iterations; /* >= 1 (MATLAB's epochs; default 1000) */
    double mu;         /* initial damping, finite, > 0 (default 0.001) */
    double mu_dec;     /* in (0, 1) (default 0.1) */
    double mu_inc;     /* finite, > 1 (default 10) */
    double mu_max;     /* finite, > 0 (default 1e10) */
    double goal;       /* stop when the training MSE <= goal; finite, >= 0 (default 0) */
    double min_grad;   /* stop when ||grad MSE||_2 < min_grad; finite, >= 0 (default 1e-7) */
    /* Validation rows (both NULL for none): training stops after max_fail iterations in a row
       whose validation MSE is above the best seen, and the network ends with the parameters of
       the best validation MSE (MATLAB restores them whatever the stop reason; so does this). */
    const nb_tensor *X_val, *T_val;
    size_t max_fail;   /* >= 1 (default 6) */
    size_t chunk_rows; /* rows per Jacobian chunk; 0 picks one (about 4 MiB of J) */
    size_t max_bytes;  /* workspace limit in bytes (default 256 MiB): NB_ERR_LIMIT above it */
    nb_fb_fn on_iteration; /* may be NULL */
    void *user;
} nb_lm_opts;

/* The defaults above (MATLAB's trainlm, with epochs 1000), no validation, no callback. */
nb_lm_opts nb_lm_opts_default(void);

typedef struct nb_lm_report {
    size_t iterations;     /* iterations run (Jacobians computed: iterations + 1) */
    size_t solves;         /* Cholesky solves, failed factorisations included */
    size_t chol_failures;  /* factorisations that failed (each raised mu) */
    double mu;             /* final damping */
    double loss;           /* final training MSE */
    double grad_norm;      /* ||grad MSE||_2 at the final parameters */
    double val_loss;       /* final validation MSE; NaN without validation */
    size_t best_iteration; /* iteration whose parameters were kept (validation), else iterations */
    size_t bytes;          /* workspace allocated by the call */
    nb_fb_stop stop;
} nb_lm_report;

/* The bytes nb_net_train_lm would allocate for net, `rows` being the larger of the training and
   validation row counts, with chunk_rows rows per chunk (0: the automatic choice); SIZE_MAX if
   that does not fit size_t, 0 if net is NULL or rows is 0. */
size_t nb_lm_workspace_bytes(const nb_net *net, size_t rows, size_t chunk_rows);

/* Trains net on X (rows x inputs) and T (rows x outputs) by Levenberg–Marquardt.  o may be
   NULL (defaults); rep may be NULL.  NB_ERR_LIMIT (nothing allocated, network untouched) when
   the workspace exceeds o->max_bytes; NB_ERR_NONFINITE if the loss or Jacobian at the start is
   not finite. */
nb_status nb_net_train_lm(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                          const nb_lm_opts *o, nb_lm_report *rep);

/* ---- L-BFGS --------------------------------------------------------------------------------- */

typedef enum nb_line_search {
    NB_LINE_SEARCH_NONE,         /* fixed step lr (torch's line_search_fn=None) */
    NB_LINE_SEARCH_STRONG_WOLFE, /* torch's 'strong_wolfe' (c1 1e-4, c2 0.9, 25 evaluations) */
    NB_LINE_SEARCH_COUNT
} nb_line_search;

/* One call is one torch.optim.LBFGS.step(closure) on the full batch, with max_iter =
   iterations.  Parameters, directions and history are float32 as torch keeps them for a
   float32 network; dot products and scalars are double. */
typedef struct nb_lbfgs_opts {
    nb_loss loss;            /* default NB_LOSS_MSE */
    size_t iterations;       /* max_iter, >= 1 (torch's default 20) */
    size_t max_eval;         /* 0: iterations * 5 / 4 (torch's default) */
    double lr;               /* finite, > 0 (default 1) */
    double tolerance_grad;   /* finite, >= 0 (default 1e-7) */
    double tolerance_change; /* finite, >= 0 (default 1e-9) */
    size_t history;          /* >= 1 (default 100) */
    nb_line_search line_search; /* default NB_LINE_SEARCH_NONE */
    nb_fb_fn on_iteration;   /* may be NULL */
    void *user;
} nb_lbfgs_opts;

nb_lbfgs_opts nb_lbfgs_opts_default(void);

typedef struct nb_lbfgs_report {
    size_t iterations; /* iterations run */
    size_t evals;      /* loss and gradient evaluations (torch's func_evals) */
    double loss;       /* training loss at the final parameters */
    double grad_norm;  /* max |g| at the final parameters */
    double step;       /* the last step length */
    size_t bytes;      /* workspace allocated by the call */
    nb_fb_stop stop;
} nb_lbfgs_report;

/* Trains net on X and T by full-batch L-BFGS.  o may be NULL (defaults); rep may be NULL.
   A non-finite loss or gradient stops training with NB_ERR_NONFINITE and the parameters the
   iteration started from. */
nb_status nb_net_train_lbfgs(nb_net *net, const nb_tensor *X, const nb_tensor *T,
                             const nb_lbfgs_opts *o, nb_lbfgs_report *rep);

#ifdef __cplusplus
}
#endif
#endif
