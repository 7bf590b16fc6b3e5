/* Determinism: with one BLAS thread, the same seed gives bit-identical parameters after
   training, run after run.  (With several threads OpenBLAS may split a matrix product's
   inner dimension differently, which changes the summation order and so the last bits; see
   docs/numerics.md.) */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"

enum { ROWS = 300, IN = 48, OUT = 5 };

/* Data, network and shuffled mini-batch training all drawn from seed; returns the final
   parameters (malloc'd) and their count. */
static float *train_once(uint64_t seed, size_t *n)
{
    static float X[ROWS * IN], T[ROWS * OUT];
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (size_t i = 0; i < ROWS * IN; i++)
        X[i] = (float)nb_rng_normal(&r);
    memset(T, 0, sizeof T);
    for (size_t i = 0; i < ROWS; i++)
        T[i * OUT + nb_rng_below(&r, OUT)] = 1.0f;
    const nb_layer_spec layers[] = {{64, NB_ACT_RELU, 0}, {32, NB_ACT_TANH, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, IN, layers, 3, seed), NB_OK);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.batch_size = 32; /* the last batch is partial: 300 = 9 x 32 + 12 */
    o.epochs = 4;
    o.lr = 0.05f;
    o.seed = seed;
    o.shuffle = true;
    cr_assert_eq(nb_net_train(net, &(nb_tensor){ROWS, IN, X, NULL}, &(nb_tensor){ROWS, OUT, T, NULL}, &o,
                              NULL), NB_OK);
    *n = nb_net_num_params(net);
    float *p = malloc(*n * sizeof *p);
    cr_assert(p);
    memcpy(p, nb_net_params(net), *n * sizeof *p);
    nb_net_free(net);
    return p;
}

Test(determinism, one_blas_thread_same_seed_gives_bit_identical_parameters)
{
    cr_assert_eq(nb_set_threads(1), NB_OK);
    size_t n1, n2, n3;
    float *a = train_once(2024, &n1), *b = train_once(2024, &n2), *c = train_once(2025, &n3);
    cr_assert_eq(n1, n2);
    cr_expect(memcmp(a, b, n1 * sizeof *a) == 0, "two runs with the same seed differ");
    cr_expect(memcmp(a, c, n1 * sizeof *a) != 0, "a different seed gave the same parameters");
    free(a);
    free(b);
    free(c);
}
