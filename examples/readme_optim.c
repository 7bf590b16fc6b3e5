/* Train with AdamW, a warm-up then cosine schedule and gradient clipping, step by step. */
#include <math.h>
#include <stdio.h>
#include <nablas.h>

int main(void)
{
    enum { N = 512, BATCH = 64, EPOCHS = 300 };
    static float in[N * 2], target[N];
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    for (int i = 0; i < N; i++) { /* an unscaled target, on which plain SGD at lr 0.1 diverges */
        float a = (float)nb_rng_uniform(&rng), b = (float)nb_rng_uniform(&rng);
        in[2 * i] = a;
        in[2 * i + 1] = b;
        target[i] = 40.0f * sinf(3.0f * a) - 25.0f * b + 60.0f;
    }
    nb_layer_spec layers[] = {{32, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    nb_optim *opt;
    nb_status s = nb_net_create(&net, 2, layers, 2, 42);
    if (s != NB_OK) {
        fprintf(stderr, "create: %s\n", nb_status_str(s));
        return 1;
    }
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_ADAMW); /* torch.optim.AdamW's defaults */
    o.lr = 0.05;
    if ((s = nb_optim_create(&opt, nb_net_num_params(net), &o)) != NB_OK) {
        fprintf(stderr, "optimizer: %s\n", nb_status_str(s));
        return 1;
    }
    nb_schedule sched = nb_schedule_default(NB_SCHED_COSINE);
    sched.base_lr = o.lr;
    sched.total_steps = EPOCHS * (N / BATCH);
    sched.warmup_steps = 50;
    float loss = 0.0f;
    for (uint64_t step = 0; step < sched.total_steps && s == NB_OK; step++) {
        size_t at = (size_t)(step % (N / BATCH)) * BATCH;
        nb_tensor X = nb_tensor_view(in + 2 * at, BATCH, 2), T = nb_tensor_view(target + at, BATCH, 1);
        double norm;
        if ((s = nb_net_forward(net, &X, NULL)) == NB_OK &&
            (s = nb_net_backward(net, NB_LOSS_MSE, &T, &loss)) == NB_OK &&
            (s = nb_clip_grad_norm(nb_net_grads(net), nb_net_num_params(net), 100.0, &norm)) == NB_OK &&
            (s = nb_optim_set_lr(opt, nb_schedule_lr(&sched, step))) == NB_OK)
            s = nb_optim_step(opt, nb_net_params(net), nb_net_grads(net));
    }
    if (s == NB_OK)
        printf("AdamW, %llu steps: last batch loss %.3g (target variance 177)\n",
               (unsigned long long)nb_optim_steps(opt), loss);
    else
        fprintf(stderr, "training: %s\n", nb_status_str(s));
    nb_optim_free(opt);
    nb_net_free(net);
    return s == NB_OK && loss < 1.0f ? 0 : 1;
}
