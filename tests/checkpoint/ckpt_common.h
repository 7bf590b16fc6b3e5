/* Shared by the checkpoint suite: a small regression problem with a last partial batch and
   validation rows, a network with dropout on a hidden layer, and the training options of each
   optimizer case (shuffle, warm-up + cosine schedule, clipping; optionally patience and
   restore_best). */
#ifndef NB_TEST_CKPT_COMMON_H
#define NB_TEST_CKPT_COMMON_H

#include <stdbool.h>
#include "nablas.h"

enum { CK_ROWS = 100, CK_VAL = 30, CK_IN = 5, CK_OUT = 3, CK_BATCH = 16 }; /* 100 % 16 = 4 */

typedef enum ck_optim {
    CK_PLAIN,      /* plain SGD, fused (no clipping) */
    CK_PLAIN_CLIP, /* plain SGD through the optimizer: clipping needs the gradient */
    CK_SGD,        /* momentum + Nesterov + weight decay */
    CK_ADAM,       /* amsgrad */
    CK_ADAMW,
    CK_RMSPROP,    /* centered + momentum */
    CK_OPTIM_COUNT
} ck_optim;

extern nb_tensor ck_X, ck_T, ck_Xv, ck_Tv;

void ck_data(void); /* fills the tensors above (idempotent) */
nb_net *ck_net(void); /* a fresh network, always the same parameters */

/* Everything an nb_train_opts points to, kept together. */
typedef struct ck_run {
    nb_train_opts o;
    nb_optim_opts optim;
    nb_schedule sched;
} ck_run;

/* Options for optimizer case k; validation: patience 2 and restore_best on the validation
   rows.  epochs: the total.  Fix the pointers with ck_fix after copying a ck_run. */
void ck_opts(ck_run *r, ck_optim k, bool validation, size_t epochs);
void ck_fix(ck_run *r);

const char *ck_name(ck_optim k);

#endif
