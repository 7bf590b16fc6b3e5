/* Save a checkpoint after every epoch, stop after 4 of 10, resume from the file: the
   parameters come out bit-identical to those of 10 epochs without a break. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nablas.h>

enum { N = 200, EPOCHS = 10 };
static float in[N * 2], target[N];

typedef struct run { nb_trainer *tr; nb_model *model; } run;

static int save_and_maybe_stop(const nb_epoch_info *info, void *user)
{
    run *r = user; /* called after every epoch: the position is that epoch's end */
    if (nb_checkpoint_save(r->tr, r->model, "example", "example.nbc") != NB_OK)
        return 1;
    return info->epoch == 4; /* pretend the machine went down after epoch 4 */
}

static nb_train_opts options(void)
{
    static nb_optim_opts adam;
    static nb_schedule cosine;
    adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    cosine = nb_schedule_default(NB_SCHED_COSINE);
    cosine.warmup_steps = 5;
    nb_train_opts o = nb_train_opts_default();
    o.epochs = EPOCHS; /* the total, also when resuming */
    o.optim = &adam;
    o.schedule = &cosine;
    return o;
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        in[2 * i] = (float)i / N;
        in[2 * i + 1] = (float)(i % 7) / 7.0f;
        target[i] = in[2 * i] * in[2 * i + 1];
    }
    nb_tensor X = nb_tensor_view(in, N, 2), T = nb_tensor_view(target, N, 1);
    nb_layer_spec layers[] = {{16, NB_ACT_TANH, 0.1f}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *whole, *net;
    nb_trainer *tr;
    if (nb_net_create(&whole, 2, layers, 2, 7) != NB_OK
        || nb_net_create(&net, 2, layers, 2, 7) != NB_OK || nb_trainer_create(&tr, net) != NB_OK)
        return 1;
    nb_train_opts o = options();
    nb_status s = nb_net_train(whole, &X, &T, &o, NULL); /* 10 epochs in one go */

    nb_model model = {.net = net, .loss = o.loss};
    run r = {tr, &model};
    o.on_epoch = save_and_maybe_stop;
    o.user = &r;
    if (s == NB_OK)
        s = nb_trainer_run(tr, &X, &T, &o, NULL); /* stops after epoch 4 */
    nb_trainer_free(tr);
    nb_net_free(net);

    nb_model loaded;
    nb_trainer *resumed;
    char *note;
    if (s == NB_OK)
        s = nb_checkpoint_load(&loaded, &resumed, &note, "example.nbc");
    if (s != NB_OK) {
        fprintf(stderr, "checkpoint: %s\n", nb_status_str(s));
        return 1;
    }
    nb_train_position pos;
    nb_trainer_position(resumed, &pos);
    o = options();
    o.resume = true; /* epochs 5 .. 10, same data and options */
    nb_train_report rep;
    s = nb_trainer_run(resumed, &X, &T, &o, &rep);
    int same = s == NB_OK && memcmp(nb_net_params(whole), nb_net_params(loaded.net),
                                    nb_net_num_params(whole) * sizeof(float)) == 0;
    printf("note \"%s\", resumed after epoch %llu, ran to epoch %zu: parameters %s\n", note,
           (unsigned long long)pos.epochs_done, rep.epochs_run, same ? "identical" : "DIFFER");
    free(note);
    nb_trainer_free(resumed); /* before the model whose network it borrows */
    nb_model_free(&loaded);
    nb_net_free(whole);
    return same ? 0 : 1;
}
