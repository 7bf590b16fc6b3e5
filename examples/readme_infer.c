/* Save a trained model, load it once, then predict from four threads, each with its own context. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <nablas.h>

enum { ROWS = 1000, THREADS = 4 };
static float X[ROWS * 3], T[ROWS * 2], Y[THREADS][ROWS * 2];

typedef struct job {
    const nb_net *net;
    const nb_norm *norm;
    float *out;
    nb_status status;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    nb_infer_ctx *ctx; /* this thread's workspace: nothing is allocated after this */
    j->status = nb_infer_ctx_create(&ctx, j->net, j->norm, 256);
    if (j->status != NB_OK)
        return NULL;
    nb_tensor in = nb_tensor_view(X, ROWS, 3), out = nb_tensor_view(j->out, ROWS, 2);
    j->status = nb_infer_predict(ctx, &in, &out); /* standardises, then runs the network */
    nb_infer_ctx_free(ctx);
    return NULL;
}

int main(void)
{
    /* Two classes: is x0 + x1 > x2?  Features on different scales, so standardise them. */
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    for (int i = 0; i < ROWS; i++) {
        float *x = X + 3 * i;
        x[0] = (float)nb_rng_uniform(&rng) * 100;
        x[1] = (float)nb_rng_uniform(&rng);
        x[2] = (float)nb_rng_uniform(&rng) * 50;
        int c = x[0] / 100 + x[1] > x[2] / 50;
        T[2 * i + c] = 1, T[2 * i + 1 - c] = 0;
    }
    nb_tensor Xs = nb_tensor_view(X, ROWS, 3), Ts = nb_tensor_view(T, ROWS, 2), Xn = {0};
    nb_norm *norm = NULL;
    nb_net *net = NULL;
    nb_layer_spec layers[] = {{16, NB_ACT_RELU, 0}, {2, NB_ACT_IDENTITY, 0}};
    nb_train_opts opts = nb_train_opts_default();
    opts.loss = NB_LOSS_SOFTMAX_CE;
    opts.epochs = 30;
    opts.lr = 0.1f;
    nb_status s = nb_norm_fit(&norm, &Xs);
    if (s == NB_OK)
        s = nb_tensor_alloc(&Xn, ROWS, 3);
    if (s == NB_OK)
        s = nb_norm_apply_to(norm, &Xs, &Xn); /* train on standardised copies */
    if (s == NB_OK)
        s = nb_net_create(&net, 3, layers, 2, 1);
    if (s == NB_OK)
        s = nb_net_train(net, &Xn, &Ts, &opts, NULL);
    if (s == NB_OK) /* atomic: a failed save leaves any previous file intact */
        s = nb_net_save(net, NB_LOSS_SOFTMAX_CE, norm, "classifier.nbm");
    nb_tensor_free(&Xn);
    nb_norm_free(norm);
    nb_net_free(net);
    if (s != NB_OK) {
        fprintf(stderr, "training: %s\n", nb_status_str(s));
        return 1;
    }

    /* Load once (every byte is validated and the CRC-32 checked), share read-only. */
    nb_loss loss;
    if ((s = nb_net_load(&net, &loss, &norm, "classifier.nbm")) != NB_OK) {
        fprintf(stderr, "load: %s\n", nb_status_str(s));
        return 1;
    }
    pthread_t tid[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){net, norm, Y[t], NB_ERR_STATE};
        pthread_create(&tid[t], NULL, worker, &jobs[t]);
    }
    int ok = 1;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
        ok &= jobs[t].status == NB_OK && memcmp(Y[t], Y[0], sizeof Y[0]) == 0;
    }
    int right = 0; /* logits: class 1 when its output is the larger */
    for (int i = 0; i < ROWS; i++)
        right += (Y[0][2 * i + 1] > Y[0][2 * i]) == (T[2 * i + 1] == 1);
    printf("%d threads agree: %s; accuracy %.1f%%\n", THREADS, ok ? "yes" : "no",
           100.0 * right / ROWS);
    nb_net_free(net);
    nb_norm_free(norm);
    return ok && right > ROWS * 9 / 10 ? 0 : 1;
}
