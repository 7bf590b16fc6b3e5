/* FANN peer of nablas-bench-train: trains one workload's data (the .npy files written by
   nablas-bench-train --dump-data) with FANN 2.2 in its closest configuration and prints one
   JSON line with the median time per epoch.
   Deviations, all forced by FANN 2.2: no ReLU (sigmoid hidden layers instead), no softmax or
   cross-entropy (sigmoid outputs with FANN's MSE instead), no mini-batches: W1-W3 train
   per sample (FANN_TRAIN_INCREMENTAL, the same number of weight updates per row as the
   workloads' SGD does per batch times the batch), W4 full batch (FANN_TRAIN_BATCH, exactly the
   workload's gradient descent), identity layers as FANN_LINEAR.  The work per epoch (forward,
   both gradients) is the same multiply-adds per row as nablas'. */
#define _POSIX_C_SOURCE 200809L
#include <floatfann.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Reads a little-endian float32 2-D .npy as written by bench/workloads.c. */
static float *read_npy(const char *path, size_t *rows, size_t *cols)
{
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    if (!f || fread(pre, 1, 10, f) != 10 || memcmp(pre + 1, "NUMPY", 5)) {
        fprintf(stderr, "fann_peer: cannot read %s\n", path);
        exit(2);
    }
    size_t hlen = pre[8] | (size_t)pre[9] << 8;
    char *hdr = calloc(1, hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen || !strstr(hdr, "'<f4'")) {
        fprintf(stderr, "fann_peer: %s is not float32\n", path);
        exit(2);
    }
    const char *s = strstr(hdr, "'shape': (");
    if (!s || sscanf(s, "'shape': (%zu, %zu)", rows, cols) != 2) {
        fprintf(stderr, "fann_peer: %s has no 2-D shape\n", path);
        exit(2);
    }
    free(hdr);
    float *p = malloc(*rows * *cols * sizeof *p);
    if (!p || fread(p, sizeof *p, *rows * *cols, f) != *rows * *cols) {
        fprintf(stderr, "fann_peer: %s is truncated\n", path);
        exit(2);
    }
    fclose(f);
    return p;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[1], "--help")) {
        fputs("usage: nablas-fann-peer W1|W2|W3|W4 DATA_DIR [repeats]\n", argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    const char *w = argv[1];
    int repeats = argc > 3 ? atoi(argv[3]) : 5;
    char px[4096], pt[4096];
    snprintf(px, sizeof px, "%s/%s_X.npy", argv[2], w);
    snprintf(pt, sizeof pt, "%s/%s_T.npy", argv[2], w);
    size_t rows, in, rows_t, out;
    float *X = read_npy(px, &rows, &in), *T = read_npy(pt, &rows_t, &out);

    unsigned h1, h2;
    float lr;
    int hidden_sigmoid = 1, output_sigmoid = 1, batch = 0;
    size_t timed = rows; /* W3 per sample would take minutes: a slice, scaled to the epoch */
    if (!strcmp(w, "W1")) {
        h1 = 16, h2 = 8, lr = 0.1f;
    } else if (!strcmp(w, "W2")) {
        h1 = 128, h2 = 64, lr = 0.05f;
    } else if (!strcmp(w, "W3")) {
        h1 = 1024, h2 = 1024, lr = 0.01f, timed = 512;
    } else {
        h1 = 8, h2 = 4, lr = 0.01f, hidden_sigmoid = output_sigmoid = 0, batch = 1;
    }
    struct fann *ann = fann_create_standard(4, (unsigned)in, h1, h2, (unsigned)out);
    fann_set_activation_function_hidden(ann, hidden_sigmoid ? FANN_SIGMOID : FANN_LINEAR);
    fann_set_activation_function_output(ann, output_sigmoid ? FANN_SIGMOID : FANN_LINEAR);
    fann_set_training_algorithm(ann, batch ? FANN_TRAIN_BATCH : FANN_TRAIN_INCREMENTAL);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    fann_set_learning_rate(ann, lr);
    fann_set_learning_momentum(ann, 0.0f);
    fann_randomize_weights(ann, -0.1f, 0.1f);

    struct fann_train_data *d = fann_create_train((unsigned)timed, (unsigned)in, (unsigned)out);
    for (size_t i = 0; i < timed; i++) {
        memcpy(d->input[i], X + i * in, in * sizeof(float));
        memcpy(d->output[i], T + i * out, out * sizeof(float));
    }
    if (repeats < 1)
        repeats = 1;
    double *t = malloc((size_t)repeats * sizeof *t), mse = 0.0;
    fann_train_epoch(ann, d); /* warm-up */
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        mse = fann_train_epoch(ann, d);
        t[r] = (now() - t0) * (double)rows / (double)timed;
    }
    qsort(t, (size_t)repeats, sizeof *t, cmp);
    printf("{\"workload\": \"%s\", \"epoch_s\": %.9g, \"rows_timed\": %zu, \"rows\": %zu, "
           "\"algorithm\": \"%s\", \"mse\": %.6g}\n",
           w, t[repeats / 2], timed, rows, batch ? "batch" : "incremental", mse);
    fann_destroy_train(d);
    fann_destroy(ann);
    free(t);
    free(X);
    free(T);
    return 0;
}
