/* Forged optimizer state with a valid checksum: every buffer value finite, yet not a state the
   recorded run can reach (a negative squared average, an AMSGrad maximum below exp_avg_sq, a
   step count other than the position's, non-zero buffers before the first step) is refused
   as corrupt on load, and never written by nb_checkpoint_save.  The untouched and the harmless
   forgeries (another first moment) still load.  Links the section framework to forge files. */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_common.h"
#include "core/le_codec.h"
#include "persist/model_sections.h"

enum { STATE_AT = 104, STEPS_AT = 80, POS_EPOCHS_AT = 8, POS_STEPS_AT = 16, LAST_LOSS_AT = 48 };

typedef struct trained {
    nb_net *net;
    nb_trainer *tr;
    nb_model m;
    ck_run r;
    void *buf;
    size_t size;
} trained;

static void train(trained *t, ck_optim k, size_t epochs)
{
    ck_data();
    memset(t, 0, sizeof *t);
    t->net = ck_net();
    cr_assert_not_null(t->net);
    cr_assert_eq(nb_trainer_create(&t->tr, t->net), NB_OK);
    ck_opts(&t->r, k, false, epochs);
    cr_assert_eq(nb_trainer_run(t->tr, &ck_X, &ck_T, &t->r.o, NULL), NB_OK);
    t->m.net = t->net;
    t->m.loss = t->r.o.loss;
    cr_assert_eq(nb_checkpoint_save_mem(&t->buf, &t->size, t->tr, &t->m, NULL), NB_OK);
}

static void untrain(trained *t)
{
    free(t->buf);
    nb_trainer_free(t->tr);
    nb_net_free(t->net);
}

/* Copies of the payloads of sections 16 and 17 (malloc'd). */
static void payloads(const trained *t, uint8_t *p[2], size_t n[2])
{
    nb__section want[2] = {{NB__TAG_OPTIM_STATE, 0, NULL, 0},
                           {NB__TAG_TRAIN_POSITION, 0, NULL, 0}};
    nb_model m;
    cr_assert_eq(nb__model_load_mem_ext(&m, t->buf, t->size, want, 2), NB_OK);
    nb_model_free(&m);
    for (int s = 0; s < 2; s++) {
        n[s] = want[s].size;
        p[s] = malloc(n[s]);
        cr_assert_not_null(p[s]);
        memcpy(p[s], want[s].data, n[s]);
    }
}

/* Saves the model with the (forged) payloads, a valid checksum, and loads it. */
static nb_status load_forged(const trained *t, uint8_t *p[2], size_t n[2])
{
    nb__section s[2] = {{NB__TAG_OPTIM_STATE, 0, p[0], n[0]},
                        {NB__TAG_TRAIN_POSITION, 0, p[1], n[1]}};
    void *out;
    size_t out_size;
    cr_assert_eq(nb__model_save_mem_ext(&out, &out_size, &t->m, s, 2), NB_OK);
    nb_model m;
    nb_trainer *tr = NULL;
    nb_status st = nb_checkpoint_load_mem(&m, &tr, NULL, out, out_size);
    if (st == NB_OK) {
        nb_trainer_free(tr);
        nb_model_free(&m);
    }
    free(out);
    free(p[0]);
    free(p[1]);
    return st;
}

/* Float j of state buffer i of section 16. */
static float get_state(const uint8_t *p16, size_t n_params, size_t i, size_t j)
{
    return nb__le_get_f32(p16 + STATE_AT + 4 * (n_params * i + j));
}

static void set_state(uint8_t *p16, size_t n_params, size_t i, size_t j, float v)
{
    nb__le_put_f32(p16 + STATE_AT + 4 * (n_params * i + j), v);
}

/* buffer i, element j set to v: the load's status */
static nb_status forge_state(const trained *t, size_t i, size_t j, float v)
{
    uint8_t *p[2];
    size_t n[2];
    payloads(t, p, n);
    set_state(p[0], nb_net_num_params(t->net), i, j, v);
    return load_forged(t, p, n);
}

Test(state, untouched_checkpoints_load)
{
    for (int k = 0; k < CK_OPTIM_COUNT; k++) {
        trained t;
        train(&t, (ck_optim)k, 2);
        uint8_t *p[2];
        size_t n[2];
        payloads(&t, p, n);
        cr_expect_eq(load_forged(&t, p, n), NB_OK, "%s", ck_name((ck_optim)k));
        untrain(&t);
    }
}

Test(state, adam_negative_second_moment)
{
    for (int k = CK_ADAM; k <= CK_ADAMW; k++) {
        trained t;
        train(&t, (ck_optim)k, 2);
        size_t P = nb_net_num_params(t.net);
        cr_expect_eq(forge_state(&t, 1, 0, -1e-3f), NB_ERR_CORRUPT, "%s: exp_avg_sq < 0",
                     ck_name((ck_optim)k));
        cr_expect_eq(forge_state(&t, 1, P - 1, -INFINITY), NB_ERR_CORRUPT, "%s: -inf",
                     ck_name((ck_optim)k));
        cr_expect_eq(forge_state(&t, 1, 3, NAN), NB_ERR_CORRUPT, "%s: NaN", ck_name((ck_optim)k));
        /* the first moment may have either sign: a harmless forgery loads */
        cr_expect_eq(forge_state(&t, 0, 0, -0.5f), NB_OK, "%s: exp_avg", ck_name((ck_optim)k));
        cr_expect_eq(forge_state(&t, 1, 0, 0.0f), NB_OK, "%s: exp_avg_sq 0",
                     ck_name((ck_optim)k));
        untrain(&t);
    }
}

Test(state, amsgrad_maximum_below_second_moment)
{
    trained t;
    train(&t, CK_ADAM, 2); /* amsgrad: buffer 2 is the running maximum of buffer 1 */
    size_t P = nb_net_num_params(t.net);
    uint8_t *p[2];
    size_t n[2];
    payloads(&t, p, n);
    size_t j = 0;
    while (j < P && !(get_state(p[0], P, 1, j) > 0.0f))
        j++;
    cr_assert_lt(j, P, "the fixture needs a positive exp_avg_sq");
    float v = get_state(p[0], P, 1, j);
    free(p[0]);
    free(p[1]);
    cr_expect_eq(forge_state(&t, 2, j, v * 0.5f), NB_ERR_CORRUPT, "max_exp_avg_sq < exp_avg_sq");
    cr_expect_eq(forge_state(&t, 2, j, -v), NB_ERR_CORRUPT, "negative max_exp_avg_sq");
    cr_expect_eq(forge_state(&t, 2, j, v * 2.0f), NB_OK, "a larger maximum is reachable");
    untrain(&t);
}

Test(state, rmsprop_negative_square_average)
{
    trained t;
    train(&t, CK_RMSPROP, 2); /* centered + momentum: 0 square_avg, 1 momentum, 2 grad_avg */
    size_t P = nb_net_num_params(t.net);
    cr_expect_eq(forge_state(&t, 0, P / 2, -1.0f), NB_ERR_CORRUPT, "square_avg < 0");
    cr_expect_eq(forge_state(&t, 0, 0, -INFINITY), NB_ERR_CORRUPT, "square_avg -inf");
    cr_expect_eq(forge_state(&t, 1, 0, -1.0f), NB_OK, "a momentum buffer may be negative");
    cr_expect_eq(forge_state(&t, 2, 0, -1.0f), NB_OK, "a gradient average may be negative");
    untrain(&t);
}

Test(state, step_count_disagrees_with_position)
{
    for (int k = CK_PLAIN_CLIP; k < CK_OPTIM_COUNT; k++) {
        trained t;
        train(&t, (ck_optim)k, 2);
        uint8_t *p[2];
        size_t n[2];
        payloads(&t, p, n);
        uint64_t steps = nb__le_get_u64(p[0] + STEPS_AT);
        cr_assert_eq(steps, nb__le_get_u64(p[1] + POS_STEPS_AT), "%s", ck_name((ck_optim)k));
        cr_assert_gt(steps, 0);
        free(p[0]);
        free(p[1]);
        const uint64_t forged[] = {steps + 1, steps - 1, 0, 1000000};
        for (size_t f = 0; f < sizeof forged / sizeof *forged; f++) {
            payloads(&t, p, n);
            nb__le_put_u64(p[0] + STEPS_AT, forged[f]);
            cr_expect_eq(load_forged(&t, p, n), NB_ERR_CORRUPT, "%s: %llu steps for %llu",
                         ck_name((ck_optim)k), (unsigned long long)forged[f],
                         (unsigned long long)steps);
        }
        untrain(&t);
    }
}

/* A position at epoch 0 (no step yet): the optimizer must be a new one, all zeros. */
Test(state, state_before_the_first_step)
{
    trained t;
    train(&t, CK_ADAM, 1);
    size_t P = nb_net_num_params(t.net);
    for (int zero = 0; zero < 2; zero++) {
        uint8_t *p[2];
        size_t n[2];
        payloads(&t, p, n);
        nb__le_put_u64(p[0] + STEPS_AT, 0);
        nb__le_put_u64(p[1] + POS_EPOCHS_AT, 0);
        nb__le_put_u64(p[1] + POS_STEPS_AT, 0);
        nb__le_put_f64(p[1] + LAST_LOSS_AT, NAN);
        if (zero)
            memset(p[0] + STATE_AT, 0, 4 * 3 * P);
        cr_expect_eq(load_forged(&t, p, n), zero ? NB_OK : NB_ERR_CORRUPT,
                     "epoch 0 with %s state", zero ? "zero" : "non-zero");
    }
    untrain(&t);
}

/* A fresh run on a trainer keeps its optimizer (and its step count): the state no longer
   matches the new run's position, so nb_checkpoint_save refuses to write what the loader
   would refuse. */
Test(state, save_refuses_a_disagreeing_state)
{
    trained t;
    train(&t, CK_ADAM, 2);
    cr_assert_eq(nb_trainer_run(t.tr, &ck_X, &ck_T, &t.r.o, NULL), NB_OK); /* again, fresh */
    void *buf = NULL;
    size_t size = 0;
    cr_expect_eq(nb_checkpoint_save_mem(&buf, &size, t.tr, &t.m, NULL), NB_ERR_STATE);
    cr_expect_null(buf);
    untrain(&t);
}
