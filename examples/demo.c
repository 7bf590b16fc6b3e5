/* nablas demo: the house-price network of the from-scratch tutorial, trained by full-batch
   gradient descent on data it generates itself, printed beside the closed-form least-squares
   optimum (LAPACKE), or by Levenberg–Marquardt with --optimizer lm; or, with --task xor, the
   classic XOR classifier. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "house_data.h"
#include "nablas.h"

typedef struct options {
    const char *task, *optimizer;
    size_t epochs, batch, every;
    float lr;
    uint64_t seed;
} options;

static void usage(FILE *f)
{
    fputs("usage: nablas-demo [--task house|xor] [--epochs N] [--lr X] [--seed N] [--batch N]\n"
          "                   [--every N] [--optimizer gd|lm]\n"
          "  house (default): 1000 generated houses, 4-8-4-1 linear network, MSE, gradient\n"
          "                   descent; defaults --epochs 125 --lr 0.01 --batch 1000 (full batch,\n"
          "                   workload W4)\n"
          "  xor:             2-4-1 tanh/sigmoid network, binary cross-entropy;\n"
          "                   defaults --epochs 1000 --lr 0.5 --batch 4\n"
          "  --every N        print the loss every N epochs (default 20)\n"
          "  --optimizer lm   house: Levenberg-Marquardt on the full batch instead of gradient\n"
          "                   descent (--epochs = iterations, default 100; --lr, --batch unused)\n",
          f);
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    o->task = "house";
    o->optimizer = "gd";
    o->epochs = o->batch = 0; /* 0: the task's default */
    o->every = 20;
    o->lr = -1.0f;
    o->seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "nablas-demo: unknown option or missing value: %s\n", a);
            return -1;
        }
        i++;
        size_t n = 0;
        char *end;
        if (!strcmp(a, "--task") && (!strcmp(v, "house") || !strcmp(v, "xor")))
            o->task = v;
        else if (!strcmp(a, "--optimizer") && (!strcmp(v, "gd") || !strcmp(v, "lm")))
            o->optimizer = v;
        else if (!strcmp(a, "--epochs") && !parse_size(v, &n))
            o->epochs = n;
        else if (!strcmp(a, "--batch") && !parse_size(v, &n))
            o->batch = n;
        else if (!strcmp(a, "--every") && !parse_size(v, &n))
            o->every = n;
        else if (!strcmp(a, "--seed") && (parse_size(v, &n) == 0 || !strcmp(v, "0")))
            o->seed = n;
        else if (!strcmp(a, "--lr") && (o->lr = strtof(v, &end), end != v && !*end && o->lr > 0.0f))
            ;
        else {
            fprintf(stderr, "nablas-demo: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    return 0;
}

typedef struct progress {
    size_t every;
    double optimum; /* < 0: none to show */
} progress;

static int print_epoch(const nb_epoch_info *e, void *user)
{
    const progress *p = user;
    if (e->epoch % p->every == 0 || e->epoch == 1 || e->epoch == e->epochs) {
        if (p->optimum > 0)
            printf("%7zu  %12.6f  %12.6f  %8.3f\n", e->epoch, e->loss, p->optimum,
                   e->loss / p->optimum);
        else
            printf("%7zu  %12.6f\n", e->epoch, e->loss);
    }
    return 0;
}

static int fail(const char *what, nb_status s)
{
    fprintf(stderr, "nablas-demo: %s: %s\n", what, nb_status_str(s));
    return 1;
}

static int report_house(nb_net *net, double optimum, nb_tensor *X, nb_tensor *y);

typedef struct lm_progress {
    double optimum;
} lm_progress;

static int print_lm_iteration(const nb_fb_info *i, void *user)
{
    const lm_progress *p = user;
    printf("%7zu  %12.6f  %12.6f  %8.3f  %9.0e\n", i->iteration, i->loss, p->optimum,
           i->loss / p->optimum, i->mu);
    return 0;
}

/* The house network by Levenberg–Marquardt: a handful of iterations to the optimum. */
static nb_status train_house_lm(nb_net *net, const options *o, double optimum, nb_tensor *X,
                                nb_tensor *y)
{
    nb_lm_opts t = nb_lm_opts_default();
    t.iterations = o->epochs ? o->epochs : 100;
    lm_progress p = {optimum};
    t.on_iteration = print_lm_iteration;
    t.user = &p;
    printf("Levenberg-Marquardt, full batch, at most %zu iterations, seed %llu\n\n", t.iterations,
           (unsigned long long)o->seed);
    printf("%7s  %12s  %12s  %8s  %9s\n", "iter", "loss", "lstsq opt", "ratio", "mu");
    nb_lm_report r;
    nb_status s = nb_net_train_lm(net, X, y, &t, &r);
    if (s == NB_OK)
        printf("\nstopped: %s after %zu iterations (%zu Cholesky solves)\n",
               nb_fb_stop_name(r.stop), r.iterations, r.solves);
    return s;
}

static int run_house(const options *o)
{
    enum { N = 1000 };
    static float X[N * HOUSE_FEATURES], y[N];
    house_generate(N, o->seed, X, y);
    double optimum = house_lstsq_mse(N, HOUSE_FEATURES, X, y);
    if (optimum <= 0) {
        fputs("nablas-demo: LAPACKE_dgels failed\n", stderr);
        return 1;
    }
    const nb_layer_spec layers[] = {{8, NB_ACT_IDENTITY, 0}, {4, NB_ACT_IDENTITY, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    nb_status s = nb_net_create(&net, HOUSE_FEATURES, layers, 3, o->seed);
    if (s)
        return fail("creating the network", s);

    printf("house prices: %d houses, 4-8-4-1 linear network, MSE (standardised units)\n", N);
    nb_tensor Xv = nb_tensor_view(X, N, HOUSE_FEATURES), yv = nb_tensor_view(y, N, 1);
    if (!strcmp(o->optimizer, "lm")) {
        s = train_house_lm(net, o, optimum, &Xv, &yv);
        if (s) {
            nb_net_free(net);
            return fail("training", s);
        }
        return report_house(net, optimum, &Xv, &yv);
    }

    nb_train_opts t = nb_train_opts_default();
    t.loss = NB_LOSS_MSE;
    t.epochs = o->epochs ? o->epochs : 125;
    t.batch_size = o->batch ? o->batch : N;
    t.lr = o->lr > 0 ? o->lr : 0.01f;
    t.seed = o->seed;
    t.shuffle = t.batch_size < N;
    progress p = {o->every, optimum};
    t.on_epoch = print_epoch;
    t.user = &p;

    printf("epochs %zu, batch %zu, lr %g, seed %llu\n\n", t.epochs, t.batch_size, (double)t.lr,
           (unsigned long long)o->seed);
    printf("%7s  %12s  %12s  %8s\n", "epoch", "loss", "lstsq opt", "ratio");
    nb_train_report r;
    s = nb_net_train(net, &Xv, &yv, &t, &r);
    if (s) {
        nb_net_free(net);
        return fail("training", s);
    }
    return report_house(net, optimum, &Xv, &yv);
}

/* Prints the final MSE beside the optimum and frees the network. */
static int report_house(nb_net *net, double optimum, nb_tensor *X, nb_tensor *y)
{
    nb_eval ev;
    nb_status s = nb_net_evaluate(net, X, y, NB_LOSS_MSE, &ev);
    nb_net_free(net);
    if (s)
        return fail("evaluating", s);
    double gap = (ev.loss / optimum - 1.0) * 100.0;
    if (fabs(gap) < 0.005)
        gap = 0.0; /* float32 rounding may land a hair below the double optimum: no "-0.00%" */
    printf("\nfinal MSE %.6f vs least-squares optimum %.6f (LAPACKE_dgels): %+.2f%%\n", ev.loss,
           optimum, gap);
    return 0;
}

static int run_xor(const options *o)
{
    float X[] = {0, 0, 0, 1, 1, 0, 1, 1}, T[] = {0, 1, 1, 0};
    const nb_layer_spec layers[] = {{4, NB_ACT_TANH, 0}, {1, NB_ACT_SIGMOID, 0}};
    nb_net *net;
    nb_status s = nb_net_create(&net, 2, layers, 2, o->seed);
    if (s)
        return fail("creating the network", s);
    nb_train_opts t = nb_train_opts_default();
    t.loss = NB_LOSS_BCE;
    t.epochs = o->epochs ? o->epochs : 1000;
    t.batch_size = o->batch ? o->batch : 4;
    t.lr = o->lr > 0 ? o->lr : 0.5f;
    t.seed = o->seed;
    progress p = {o->every > 1 ? o->every * 5 : 1, -1.0};
    t.on_epoch = print_epoch;
    t.user = &p;
    printf("XOR: 2-4-1 tanh/sigmoid network, binary cross-entropy\n");
    printf("epochs %zu, batch %zu, lr %g, seed %llu\n\n%7s  %12s\n", t.epochs, t.batch_size,
           (double)t.lr, (unsigned long long)o->seed, "epoch", "loss");
    nb_tensor Xv = nb_tensor_view(X, 4, 2), Tv = nb_tensor_view(T, 4, 1);
    float Y[4];
    nb_tensor Yv = nb_tensor_view(Y, 4, 1);
    nb_eval ev;
    if ((s = nb_net_train(net, &Xv, &Tv, &t, NULL)) || (s = nb_net_predict(net, &Xv, &Yv))
        || (s = nb_net_evaluate(net, &Xv, &Tv, NB_LOSS_BCE, &ev))) {
        nb_net_free(net);
        return fail("training", s);
    }
    nb_net_free(net);
    printf("\n  x1 x2   target  output\n");
    for (int i = 0; i < 4; i++)
        printf("  %2.0f %2.0f   %6.0f  %6.3f\n", X[2 * i], X[2 * i + 1], T[i], Y[i]);
    printf("\naccuracy %.0f%%, loss %.5f\n", ev.accuracy * 100.0, ev.loss);
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    return !strcmp(o.task, "xor") ? run_xor(&o) : run_house(&o);
}
