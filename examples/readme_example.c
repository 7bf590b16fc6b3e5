/* Learn y = 2 x1 - 3 x2 + 1 with a two-layer network; check one dense layer by hand. */
#include <stdio.h>
#include <nablas.h>

int main(void)
{
    /* 1. The kernels: Z = X W + b on a 2 x 3 batch. */
    float x[] = {1, 2, 3, 4, 5, 6}, w[] = {1, 0, 0, 1, 1, 1}, b[] = {0.5f, -0.5f}, z[4];
    nb_tensor X = nb_tensor_view(x, 2, 3), W = nb_tensor_view(w, 3, 2);
    nb_tensor B = nb_tensor_view(b, 1, 2), Z = nb_tensor_view(z, 2, 2);
    nb_status s = nb_dense_forward(&X, &W, &B, &Z);
    if (s != NB_OK) {
        fprintf(stderr, "dense: %s\n", nb_status_str(s));
        return 1;
    }
    printf("Z = [%g %g; %g %g]\n", z[0], z[1], z[2], z[3]); /* [4.5 4.5; 10.5 10.5] */

    /* 2. A network: 2 inputs -> 16 tanh -> 1 linear output, trained with mini-batch SGD. */
    enum { N = 256 };
    float in[N * 2], target[N];
    nb_rng rng;
    nb_rng_seed(&rng, 7);
    for (int i = 0; i < N; i++) {
        in[2 * i] = (float)nb_rng_uniform(&rng);
        in[2 * i + 1] = (float)nb_rng_uniform(&rng);
        target[i] = 2 * in[2 * i] - 3 * in[2 * i + 1] + 1;
    }
    nb_layer_spec layers[] = {{16, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    if ((s = nb_net_create(&net, 2, layers, 2, 42)) != NB_OK) {
        fprintf(stderr, "create: %s\n", nb_status_str(s));
        return 1;
    }
    nb_tensor Xs = nb_tensor_view(in, N, 2), Ts = nb_tensor_view(target, N, 1);
    nb_train_opts opts = nb_train_opts_default(); /* MSE, batch 32, shuffled */
    opts.epochs = 200;
    opts.lr = 0.1f;
    nb_train_report report;
    s = nb_net_train(net, &Xs, &Ts, &opts, &report);
    if (s == NB_OK)
        printf("after %zu epochs: mean loss %.2e\n", report.epochs_run, report.last_loss);
    nb_net_free(net);
    return s == NB_OK && report.last_loss < 1e-3 ? 0 : 1;
}
