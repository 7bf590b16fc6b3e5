/* Writes the checkpoint seeds of the model fuzz corpus (tests/fuzz/corpus/model/):
     make_fuzz_seeds DIR
   DIR/checkpoint_adam.nbm: Adam with amsgrad (three state buffers), a warm-up + cosine
   schedule, clipping, dropout, restore_best on validation rows (best parameters kept) and a
   note; DIR/checkpoint_plain.nbm: plain fused SGD (no optimizer: section 16 says none), no
   schedule, no note.  Both small (the fuzzer's inputs stay under 4 KiB) and deterministic.
   The checkpoint suite checks that the committed seeds still load as checkpoints. */
#include <stdio.h>
#include <string.h>

#include "nablas.h"

static int seed(const char *dir, const char *name, bool adam)
{
    enum { ROWS = 10, IN = 2 };
    float x[ROWS * IN], t[ROWS];
    for (int i = 0; i < ROWS; i++) {
        x[2 * i] = (float)i / ROWS - 0.5f;
        x[2 * i + 1] = (float)(i % 3) - 1.0f;
        t[i] = x[2 * i] * x[2 * i + 1];
    }
    nb_tensor X = nb_tensor_view(x, ROWS, IN), T = nb_tensor_view(t, ROWS, 1);
    nb_tensor Xv = nb_tensor_view(x, 4, IN), Tv = nb_tensor_view(t, 4, 1);
    nb_layer_spec L[] = {{3, NB_ACT_RELU, adam ? 0.5f : 0.0f}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    nb_trainer *tr;
    if (nb_net_create(&net, IN, L, 2, 3) != NB_OK || nb_trainer_create(&tr, net) != NB_OK)
        return 1;
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 4; /* 10 rows: a last partial batch */
    o.epochs = 2;
    nb_optim_opts ao = nb_optim_opts_default(NB_OPTIM_ADAM);
    ao.amsgrad = true;
    nb_schedule s = nb_schedule_default(NB_SCHED_COSINE);
    s.warmup_steps = 2;
    if (adam) {
        o.optim = &ao;
        o.schedule = &s;
        o.clip_norm = 1.0;
        o.X_val = &Xv;
        o.T_val = &Tv;
        o.patience = 5;
        o.restore_best = true;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    nb_model m = {.net = net, .loss = NB_LOSS_MSE};
    nb_status st = nb_trainer_run(tr, &X, &T, &o, NULL);
    if (st == NB_OK)
        st = nb_checkpoint_save(tr, &m, adam ? "nablas train --optimizer adam" : NULL, path);
    nb_trainer_free(tr);
    nb_net_free(net);
    if (st != NB_OK) {
        fprintf(stderr, "make_fuzz_seeds: %s: %s\n", path, nb_status_str(st));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_fuzz_seeds DIR\n");
        return 2;
    }
    return seed(argv[1], "checkpoint_adam.nbm", true)
           || seed(argv[1], "checkpoint_plain.nbm", false);
}
