/* Checkpoints: a model file (format version 2) plus the optional sections 16 (optimizer
   state), 17 (training position, recorded options, dropout rates, best parameters) and 18
   (note), written and read through the model files' section framework. */
#include <stdlib.h>
#include <string.h>

#include "persist/checkpoint_codec.h"
#include "persist/checkpoint_state.h"
#include "core/file_io.h"
#include "core/le_codec.h"
#include "persist/model_sections.h"

/* ---- saving ---- */

/* The optimizer the recorded run uses (NULL for the fused plain SGD); NB_ERR_STATE if the
   trainer does not hold it. */
static nb_status run_optim(const nb__trainer_state *s, nb_optim **opt)
{
    const nb__run_record *rec = &s->rec;
    nb_optim_opts want, have;
    *opt = NULL;
    if (!nb__run_optim(rec->has_optim ? &rec->optim : NULL, rec->clip_norm, rec->lr, &want))
        return NB_OK;
    if (!s->optim || nb_optim_num_params(s->optim) != s->net->n_params
        || nb_optim_get_opts(s->optim, &have) != NB_OK
        || !nb__optim_opts_equal(&have, &want, false))
        return NB_ERR_STATE;
    *opt = s->optim;
    return NB_OK;
}

nb_status nb_checkpoint_save_mem(void **data, size_t *size, const nb_trainer *tr,
                                 const nb_model *m, const char *note)
{
    if (!data || !size || !tr || !m)
        return NB_ERR_NULL;
    nb__trainer_state state;
    nb_status got = nb__trainer_state_get(tr, &state);
    if (m->net != state.net)
        return NB_ERR_ARG;
    size_t note_len = 0; /* bounded: a string without its NUL is never read past the limit */
    while (note && note_len <= NB_CHECKPOINT_MAX_NOTE && note[note_len])
        note_len++;
    if (note_len > NB_CHECKPOINT_MAX_NOTE)
        return NB_ERR_ARG;
    NB_TRY(got);
    nb_optim *opt;
    NB_TRY(run_optim(&state, &opt));
    if (!nb__ckpt_state_ok(opt, &state.pos)) /* the loader would refuse it */
        return NB_ERR_STATE;
    size_t n16, n17;
    NB_TRY(nb__ckpt_optim_size(opt, &n16));
    NB_TRY(nb__ckpt_run_size(&state, &n17));
    uint8_t *p16 = malloc(n16), *p17 = malloc(n17);
    nb_status st = p16 && p17 ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK)
        st = nb__ckpt_optim_put(p16, opt);
    if (st == NB_OK)
        st = nb__ckpt_run_put(p17, &state);
    if (st == NB_OK) {
        nb__section s[3] = {{NB__TAG_OPTIM_STATE, 0, p16, n16},
                            {NB__TAG_TRAIN_POSITION, 0, p17, n17},
                            {NB__TAG_NOTE, 0, (const uint8_t *)note, note_len}};
        st = nb__model_save_mem_ext(data, size, m, s, note ? 3 : 2);
    }
    free(p16);
    free(p17);
    return st;
}

typedef struct save_args {
    const nb_trainer *tr;
    const nb_model *m;
    const char *note;
} save_args;

static nb_status encode(const void *obj, void **data, size_t *size)
{
    const save_args *a = obj;
    return nb_checkpoint_save_mem(data, size, a->tr, a->m, a->note);
}

nb_status nb_checkpoint_save(const nb_trainer *tr, const nb_model *m, const char *note,
                             const char *path)
{
    if (!tr || !m || !path)
        return NB_ERR_NULL;
    save_args a = {tr, m, note};
    return nb__save_encoded(path, encode, &a);
}

/* ---- loading ---- */

/* Section 16 against the options section 17 recorded: the optimizer they call for, with
   those options (its learning rate is the last step's, which a schedule moves). */
static bool optim_matches(const nb_optim *opt, const nb__run_record *rec)
{
    nb_optim_opts want, have;
    if (!nb__run_optim(rec->has_optim ? &rec->optim : NULL, rec->clip_norm, rec->lr, &want))
        return opt == NULL;
    return opt && nb_optim_get_opts(opt, &have) == NB_OK
           && nb__optim_opts_equal(&have, &want, false);
}

/* A trainer on net holding the decoded run and optimizer (taken over). */
static nb_status build_trainer(nb_trainer **out, nb_net *net, const nb__ckpt_run *run,
                               nb_optim *opt)
{
    nb__trainer_state s = {net, run->pos, run->rec, run->last_loss, opt, NULL};
    float *best = NULL;
    if (run->best) {
        if (!(best = nb__alloc_floats(net->n_params)))
            return NB_ERR_NOMEM;
        nb__le_get_f32s(run->best, best, net->n_params);
        s.best = best;
    }
    nb_trainer *tr;
    nb_status st = nb_trainer_create(&tr, net);
    if (st == NB_OK && (st = nb__trainer_state_restore(tr, &s)) != NB_OK)
        nb_trainer_free(tr);
    free(best);
    if (st == NB_OK)
        *out = tr;
    return st;
}

nb_status nb_checkpoint_load_mem(nb_model *m, nb_trainer **tr, char **note, const void *data,
                                 size_t size)
{
    if (!m || !tr)
        return NB_ERR_NULL;
    nb__section want[3] = {{NB__TAG_OPTIM_STATE, 0, NULL, 0},
                           {NB__TAG_TRAIN_POSITION, 0, NULL, 0},
                           {NB__TAG_NOTE, 0, NULL, 0}};
    nb_model model;
    NB_TRY(nb__model_load_mem_ext(&model, data, size, want, 3));
    nb_net *net = model.net;
    nb__ckpt_run run;
    nb_optim *opt = NULL;
    nb_trainer *t = NULL;
    char *copy = NULL;
    nb_status st = NB_OK;
    if (!want[0].data && !want[1].data) /* a model, not a checkpoint */
        st = want[2].data ? NB_ERR_CORRUPT : NB_ERR_ARG;
    else if (!want[0].data || !want[1].data)
        st = NB_ERR_CORRUPT;
    if (st == NB_OK)
        st = nb__ckpt_run_get(&run, want[1].data, want[1].size, net);
    if (st == NB_OK)
        st = nb__ckpt_optim_get(&opt, want[0].data, want[0].size, net->n_params);
    if (st == NB_OK && (!optim_matches(opt, &run.rec) || !nb__ckpt_state_ok(opt, &run.pos)))
        st = NB_ERR_CORRUPT;
    if (st == NB_OK && want[2].data) {
        size_t n = want[2].size;
        if (n > NB_CHECKPOINT_MAX_NOTE || memchr(want[2].data, '\0', n))
            st = NB_ERR_CORRUPT;
        else if (note && !(copy = malloc(n + 1)))
            st = NB_ERR_NOMEM;
        else if (copy) {
            memcpy(copy, want[2].data, n);
            copy[n] = '\0';
        }
    }
    if (st == NB_OK)
        st = build_trainer(&t, net, &run, opt);
    if (st != NB_OK) {
        nb_optim_free(opt);
        free(copy);
        nb_model_free(&model);
        return st;
    }
    for (size_t l = 0; l < net->n_layers; l++) /* checked by the decoder: cannot fail */
        nb_net_set_dropout(net, l, nb__le_get_f32(run.dropout + 4 * l));
    *m = model;
    *tr = t;
    if (note)
        *note = copy;
    return NB_OK;
}

nb_status nb_checkpoint_load(nb_model *m, nb_trainer **tr, char **note, const char *path)
{
    if (!m || !tr || !path)
        return NB_ERR_NULL;
    unsigned char *data;
    size_t size;
    NB_TRY(nb__model_read(path, &data, &size));
    nb_status st = nb_checkpoint_load_mem(m, tr, note, data, size);
    free(data);
    return st == NB_ERR_OVERFLOW ? NB_ERR_CORRUPT : st;
}
