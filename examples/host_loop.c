/* A host code that trains as it runs: a simulation of a damped pendulum produces its states
   step by step, and a network learns to predict the next state from the current one, batch by
   batch, through the trainer's stages (docs/training.md).  Adam with a cosine schedule and
   gradient clipping; after every epoch the validation loss on states of other swings. */
#include <math.h>
#include <stdio.h>

#include "nablas.h"

enum { BATCH = 32, EPOCH_ROWS = 512, EPOCHS = 30, VAL_ROWS = 256 };
static const float DT = 0.05f;

/* One step of the simulation: angle and angular velocity of a damped pendulum. */
static void advance(float s[2])
{
    float a = s[0], w = s[1];
    s[1] = w + DT * (-9.81f * sinf(a) - 0.1f * w);
    s[0] = a + DT * s[1];
}

/* The next n states of the simulation: x the state, t the state one step later. */
static void simulate(float *state, float *x, float *t, size_t n, nb_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        if (i % 64 == 0) { /* a new swing now and then, from a random start */
            state[0] = (float)nb_rng_uniform(rng) * 3.0f - 1.5f;
            state[1] = (float)nb_rng_uniform(rng) * 2.0f - 1.0f;
        }
        x[2 * i] = state[0];
        x[2 * i + 1] = state[1];
        advance(state);
        t[2 * i] = state[0];
        t[2 * i + 1] = state[1];
    }
}

int main(void)
{
    const nb_layer_spec layers[] = {{32, NB_ACT_TANH, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    nb_trainer *tr;
    if (nb_net_create(&net, 2, layers, 2, 1) != NB_OK || nb_trainer_create(&tr, net) != NB_OK)
        return 1;
    nb_rng rng;
    nb_rng_seed(&rng, 7);
    float state[2] = {0}, xv[VAL_ROWS * 2], tv[VAL_ROWS * 2], xb[BATCH * 2], tb[BATCH * 2];
    simulate(state, xv, tv, VAL_ROWS, &rng); /* held out: swings the training never sees */
    nb_tensor Xv = nb_tensor_view(xv, VAL_ROWS, 2), Tv = nb_tensor_view(tv, VAL_ROWS, 2);

    nb_optim_opts adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    adam.lr = 0.01;
    nb_schedule cosine = nb_schedule_default(NB_SCHED_COSINE);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = BATCH;
    o.epochs = EPOCHS;
    o.optim = &adam;
    o.schedule = &cosine;
    o.clip_norm = 1.0;
    o.X_val = &Xv;
    o.T_val = &Tv;
    nb_status st = nb_trainer_begin(tr, EPOCH_ROWS, &o);
    nb_epoch_info info = {0};
    double first = NAN;
    bool stop = false;
    while (st == NB_OK && !stop) {
        for (size_t done = 0; st == NB_OK && done < EPOCH_ROWS; done += BATCH) {
            simulate(state, xb, tb, BATCH, &rng); /* the data of this batch, made now */
            nb_tensor X = nb_tensor_view(xb, BATCH, 2), T = nb_tensor_view(tb, BATCH, 2);
            st = nb_trainer_step(tr, &X, &T, NULL);
        }
        if (st == NB_OK)
            st = nb_trainer_end_epoch(tr, &info, &stop);
        if (st == NB_OK && info.epoch % 10 == 0)
            printf("epoch %2zu  training MSE %.6f  validation MSE %.6f\n", info.epoch, info.loss,
                   info.val_loss);
        if (info.epoch == 1)
            first = info.val_loss;
    }
    nb_status end = nb_trainer_end(tr, NULL);
    if (st == NB_OK)
        st = end;
    nb_trainer_free(tr);
    nb_net_free(net);
    if (st != NB_OK) {
        fprintf(stderr, "training failed: %s\n", nb_status_str(st));
        return 1;
    }
    return info.val_loss < 0.5 * first ? 0 : 1; /* it learned the dynamics */
}
