/* The payloads of the checkpoint sections of model files (tags 16 and 17; 18, the note, is
   raw bytes).  docs/model-format.md gives their bytes.  The decoders are strict and bounded:
   they read only inside the payload, check every count against it and every value's range,
   and accept exactly one encoding of a given state (so a decoded checkpoint re-encodes to the
   same bytes).  Cross-checks between the two sections are checkpoint.c's. */
#ifndef NB_PERSIST_CHECKPOINT_CODEC_H
#define NB_PERSIST_CHECKPOINT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "nablas/checkpoint.h"
#include "train/trainer.h"

enum { NB__CKPT_PAYLOAD_VERSION = 1 };

/* ---- section 16: the optimizer state ---- */

/* Bytes of the payload for opt (NULL: none, the fused plain SGD).  NB_ERR_OVERFLOW if it
   would not fit size_t. */
nb_status nb__ckpt_optim_size(const nb_optim *opt, size_t *bytes);
/* Writes it (p holds nb__ckpt_optim_size bytes).  NB_ERR_NONFINITE (nothing useful written)
   if a state value is not finite. */
nb_status nb__ckpt_optim_put(uint8_t *p, nb_optim *opt);
/* Decodes a payload of n bytes for a network of n_params parameters: *opt becomes a new
   optimizer holding the options, step count and state, or NULL when the payload says none.
   NB_ERR_CORRUPT for anything out of range or inconsistent, NB_ERR_NOMEM. */
nb_status nb__ckpt_optim_get(nb_optim **opt, const uint8_t *p, size_t n, size_t n_params);

/* ---- section 17: the training position, the recorded options, dropout, best parameters ---- */

typedef struct nb__ckpt_run {
    nb_train_position pos;
    double last_loss;
    nb__run_record rec;
    const uint8_t *dropout; /* f32 rate per layer, inside the payload */
    const uint8_t *best;    /* f32 best parameters inside the payload, or NULL */
} nb__ckpt_run;

/* Bytes of the payload for a trainer's recorded run (nb__trainer_state_get). */
nb_status nb__ckpt_run_size(const nb__trainer_state *s, size_t *bytes);
/* Writes it.  NB_ERR_NONFINITE if the best parameters are not finite. */
nb_status nb__ckpt_run_put(uint8_t *p, const nb__trainer_state *s);
/* Decodes a payload of n bytes for net (layers and parameter count): NB_ERR_CORRUPT for
   anything out of range, inconsistent or left over. */
nb_status nb__ckpt_run_get(nb__ckpt_run *r, const uint8_t *p, size_t n, const nb_net *net);

#endif
