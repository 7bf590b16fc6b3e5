/* House-price data generator and its closed-form least-squares answer. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#include "house_data.h"
#include "nablas.h"

/* Standardise column c of a (n x stride) float matrix in place, in double. */
static void standardise(float *a, size_t n, size_t stride, size_t c)
{
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += a[i * stride + c];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = a[i * stride + c] - mean;
        var += d * d;
    }
    double sd = sqrt(var / (double)n);
    if (sd == 0.0)
        sd = 1.0;
    for (size_t i = 0; i < n; i++)
        a[i * stride + c] = (float)((a[i * stride + c] - mean) / sd);
}

void house_generate(size_t n, uint64_t seed, float *X, float *y)
{
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        double size = 500.0 + 3000.0 * nb_rng_uniform(&rng);
        double bedrooms = 1.0 + (double)nb_rng_below(&rng, 5);
        double age = 50.0 * nb_rng_uniform(&rng);
        double distance = 0.5 + 29.5 * nb_rng_uniform(&rng);
        double price = 600.0 * size + 5.0 * bedrooms + 15.0 * age + 12.0 * distance
                       + 50000.0 * nb_rng_normal(&rng);
        float *x = X + i * HOUSE_FEATURES;
        x[0] = (float)size;
        x[1] = (float)bedrooms;
        x[2] = (float)age;
        x[3] = (float)distance;
        y[i] = (float)price;
    }
    for (size_t c = 0; c < HOUSE_FEATURES; c++)
        standardise(X, n, HOUSE_FEATURES, c);
    standardise(y, n, 1, 0);
}

double house_lstsq_mse(size_t n, size_t features, const float *X, const float *y)
{
    size_t k = features + 1; /* one column of ones for the intercept */
    double *A = malloc(n * k * sizeof *A), *b = malloc(n * sizeof *b);
    double mse = -1.0;
    if (A && b) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < features; j++)
                A[i * k + j] = X[i * features + j];
            A[i * k + features] = 1.0;
            b[i] = y[i];
        }
        /* dgels overwrites A, and b with the solution: keep the data to compute residuals */
        lapack_int info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', (lapack_int)n, (lapack_int)k, 1,
                                        A, (lapack_int)k, b, 1);
        if (info == 0) {
            double sum = 0.0;
            for (size_t i = 0; i < n; i++) {
                double pred = b[features];
                for (size_t j = 0; j < features; j++)
                    pred += b[j] * X[i * features + j];
                double r = pred - y[i];
                sum += r * r;
            }
            mse = sum / (double)n;
        }
    }
    free(A);
    free(b);
    return mse;
}
