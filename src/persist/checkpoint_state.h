/* The checks of a checkpoint's optimizer state that need more than the value's own range: the
   values the optimizer's formulas can produce, and a step count that agrees with the position. */
#ifndef NB_PERSIST_CHECKPOINT_STATE_H
#define NB_PERSIST_CHECKPOINT_STATE_H

#include <stdbool.h>

#include "train/trainer.h"

/* Whether opt (NULL: the fused plain SGD, no state) holds a state that a run of its options
   can reach after `steps` updates (pos->steps_done):
   - its step count is that of the position (every step of the recorded run updates it once);
   - with no step taken, every buffer is zero (a new optimizer's);
   - a squared average (Adam's and AdamW's exp_avg_sq and max_exp_avg_sq, RMSprop's
     square_avg) is not negative, and AMSGrad's running maximum is at least exp_avg_sq.
   Finiteness is the decoder's check.  A forged value with a valid checksum otherwise reaches
   a square root or a division in the next update. */
bool nb__ckpt_state_ok(nb_optim *opt, const nb_train_position *pos);

#endif
