/* xoshiro256** seeded through splitmix64: small, fast, identical on every platform. */
#include <math.h>

#include "nablas/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nb_rng_seed(nb_rng *r, uint64_t seed)
{
    if (!r)
        return;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t nb_rng_next(nb_rng *r)
{
    if (!r)
        return 0;
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nb_rng_uniform(nb_rng *r)
{
    return r ? (double)(nb_rng_next(r) >> 11) * 0x1.0p-53 : 0.0;
}

double nb_rng_normal(nb_rng *r)
{
    if (!r)
        return 0.0;
    double u1 = 1.0 - nb_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = nb_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t nb_rng_below(nb_rng *r, uint64_t n)
{
    if (!r || n == 0)
        return 0;
    uint64_t limit = -n % n; /* reject the low values that would bias the modulo */
    uint64_t x;
    do
        x = nb_rng_next(r);
    while (x < limit);
    return x % n;
}

nb_status nb_rng_shuffle(size_t *perm, size_t n, uint64_t seed, uint64_t epoch)
{
    if (!perm)
        return n ? NB_ERR_NULL : NB_OK;
    nb_rng r;
    nb_rng_seed(&r, seed);
    if (epoch) {
        /* a second stream, from the epoch through an odd multiplier (so that seed == epoch does
           not cancel out), mixed into the state; xoshiro needs a state that is not all zero */
        uint64_t x = epoch * 0x9e6c63d0676a9a99u, any = 0;
        for (int i = 0; i < 4; i++)
            any |= (r.s[i] ^= splitmix64(&x));
        if (!any)
            r.s[0] = 1;
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    /* front to back, so that a prefix of k entries is already a uniform k-subset */
    for (size_t i = 0; i + 1 < n; i++) {
        size_t j = i + (size_t)nb_rng_below(&r, n - i), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return NB_OK;
}
