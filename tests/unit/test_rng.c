/* The generator: xoshiro256** seeded by splitmix64 (checked against an independent rendering of
   the published algorithms), determinism and the distributions' statistics. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common.h"

/* The reference: splitmix64 fills the four words, then xoshiro256** (Blackman & Vigna). */
typedef struct { uint64_t s[4]; } ref_rng;

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void ref_seed(ref_rng *r, uint64_t x)
{
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15u;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        r->s[i] = z ^ (z >> 31);
    }
}

static uint64_t ref_next(ref_rng *r)
{
    uint64_t *s = r->s, out = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

TestSuite(rng, .fini = tc_leak_check);

Test(rng, matches_reference_sequence)
{
    uint64_t seeds[] = {0, 1, 42, 0xdeadbeefcafef00du, UINT64_MAX};
    for (size_t k = 0; k < sizeof seeds / sizeof *seeds; k++) {
        nb_rng a;
        ref_rng b;
        nb_rng_seed(&a, seeds[k]);
        ref_seed(&b, seeds[k]);
        for (int i = 0; i < 1000; i++)
            cr_assert_eq(nb_rng_next(&a), ref_next(&b), "seed %zu, draw %d", k, i);
    }
}

Test(rng, uniform_uses_top_53_bits)
{
    nb_rng a;
    ref_rng b;
    nb_rng_seed(&a, 7);
    ref_seed(&b, 7);
    for (int i = 0; i < 1000; i++) {
        double u = nb_rng_uniform(&a);
        cr_assert_eq(u, (double)(ref_next(&b) >> 11) * 0x1.0p-53, "draw %d", i);
        cr_assert(u >= 0.0 && u < 1.0);
    }
}

Test(rng, seeding_is_deterministic_and_seed_dependent)
{
    nb_rng a, b, c;
    nb_rng_seed(&a, 123);
    nb_rng_seed(&b, 123);
    nb_rng_seed(&c, 124);
    int same_ac = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = nb_rng_next(&a);
        cr_assert_eq(x, nb_rng_next(&b));
        same_ac += x == nb_rng_next(&c);
    }
    cr_assert_eq(same_ac, 0, "seeds 123 and 124 share draws");
    nb_rng_seed(NULL, 1); /* a NULL generator is ignored */
}

Test(rng, null_generator_draws_zero)
{
    /* every function answers NULL alike: no write, no read, 0 */
    nb_rng_seed(NULL, 7);
    cr_assert_eq(nb_rng_next(NULL), 0);
    cr_assert_eq(nb_rng_uniform(NULL), 0.0);
    cr_assert_eq(nb_rng_normal(NULL), 0.0);
    cr_assert_eq(nb_rng_below(NULL, 10), 0);
    cr_assert_eq(nb_rng_below(NULL, 0), 0);
}

Test(rng, uniform_and_normal_statistics)
{
    enum { N = 200000 };
    nb_rng r;
    nb_rng_seed(&r, 2024);
    double s = 0, s2 = 0;
    for (int i = 0; i < N; i++) {
        double u = nb_rng_uniform(&r);
        s += u;
        s2 += u * u;
    }
    double mean = s / N, var = s2 / N - mean * mean;
    cr_assert_lt(fabs(mean - 0.5), 0.005, "uniform mean %g", mean);
    cr_assert_lt(fabs(var - 1.0 / 12), 0.002, "uniform variance %g", var);

    s = s2 = 0;
    double s4 = 0;
    for (int i = 0; i < N; i++) {
        double z = nb_rng_normal(&r);
        cr_assert(isfinite(z));
        s += z;
        s2 += z * z;
        s4 += z * z * z * z;
    }
    mean = s / N;
    var = s2 / N - mean * mean;
    cr_assert_lt(fabs(mean), 0.01, "normal mean %g", mean);
    cr_assert_lt(fabs(var - 1.0), 0.02, "normal variance %g", var);
    cr_assert_lt(fabs(s4 / N - 3.0), 0.1, "normal fourth moment %g (3 expected)", s4 / N);
}

Test(rng, below_is_in_range_and_unbiased)
{
    nb_rng r;
    nb_rng_seed(&r, 99);
    cr_assert_eq(nb_rng_below(&r, 0), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(nb_rng_below(&r, 1), 0);

    /* chi-square over 6 buckets, 5 degrees of freedom: 25 is far beyond the 99.99th percentile */
    enum { K = 6, N = 60000 };
    size_t count[K] = {0};
    for (int i = 0; i < N; i++) {
        uint64_t x = nb_rng_below(&r, K);
        cr_assert_lt(x, K);
        count[x]++;
    }
    double chi2 = 0;
    for (int k = 0; k < K; k++)
        chi2 += ((double)count[k] - N / K) * ((double)count[k] - N / K) / (N / K);
    cr_assert_lt(chi2, 25.0, "chi-square %g", chi2);

    /* a bound just above 2^63 rejects almost half the draws: still in range */
    uint64_t big = (UINT64_C(1) << 63) + 1;
    for (int i = 0; i < 1000; i++)
        cr_assert_lt(nb_rng_below(&r, big), big);
}

/* nb_rng_shuffle: a permutation, a pure function of (seed, epoch), different across epochs
   and seeds; seed == epoch must not cancel out (a zero state would make the generator stall). */
Test(rng, shuffle_is_a_permutation_of_seed_and_epoch)
{
    enum { N = 50 };
    size_t a[N], b[N], c[N], d[N];
    for (uint64_t seed = 0; seed < 5; seed++)
        for (uint64_t epoch = 0; epoch < 5; epoch++) {
            cr_assert_eq(nb_rng_shuffle(a, N, seed, epoch), NB_OK);
            cr_assert_eq(nb_rng_shuffle(b, N, seed, epoch), NB_OK);
            cr_assert_eq(memcmp(a, b, sizeof a), 0, "not a function of (seed, epoch)");
            bool seen[N] = {false};
            for (size_t i = 0; i < N; i++) {
                cr_assert_lt(a[i], N);
                cr_assert_not(seen[a[i]], "index %zu twice", a[i]);
                seen[a[i]] = true;
            }
        }
    nb_rng_shuffle(a, N, 7, 0);
    nb_rng_shuffle(b, N, 7, 1);
    nb_rng_shuffle(c, N, 8, 0);
    nb_rng_shuffle(d, N, 7, 7);
    cr_assert_neq(memcmp(a, b, sizeof a), 0, "epochs 0 and 1 alike");
    cr_assert_neq(memcmp(a, c, sizeof a), 0, "seeds 7 and 8 alike");
    cr_assert_neq(memcmp(b, d, sizeof a), 0, "epochs 1 and 7 alike");
    cr_assert_eq(nb_rng_shuffle(NULL, 0, 1, 1), NB_OK);
    cr_assert_eq(nb_rng_shuffle(NULL, 3, 1, 1), NB_ERR_NULL);
    size_t one = 9;
    cr_assert_eq(nb_rng_shuffle(&one, 1, 1, 1), NB_OK);
    cr_assert_eq(one, 0);
}

/* Every position is equally likely for every index: 20000 shuffles of 4, chi-square-free
   bound of 4 standard deviations on each of the 16 counts. */
Test(rng, shuffle_is_uniform)
{
    enum { N = 4, DRAWS = 20000 };
    size_t count[N][N] = {{0}}, p[N];
    for (uint64_t e = 0; e < DRAWS; e++) {
        nb_rng_shuffle(p, N, 123, e);
        for (size_t i = 0; i < N; i++)
            count[i][p[i]]++;
    }
    double mean = DRAWS / (double)N, sd = sqrt(DRAWS * (1.0 / N) * (1.0 - 1.0 / N));
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            cr_assert_lt(fabs((double)count[i][j] - mean), 4 * sd, "position %zu holds %zu %zu "
                         "times", i, j, count[i][j]);
}
