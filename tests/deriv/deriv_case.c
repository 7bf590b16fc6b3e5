/* Loading the derivative reference cases (deriv_case.h). */
#include "deriv_case.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parity_util.h"

const char *const deriv_cases[] = {
    "tanh_4_16_16_3", "tanh_4_16_16_3_norm", "sigmoid_5_12_4", "sigmoid_5_12_4_norm",
    "relu_6_16_8_3", "relu_6_16_8_3_norm", "leaky_3_10_7", "leaky_3_10_7_norm",
    "identity_4_5_6", "identity_4_5_6_norm", "softmax_out_5_8_4", "softmax_out_5_8_4_norm",
    "logits_6_12_5", "logits_6_12_5_norm", "probs_6_12_5", "probs_6_12_5_norm",
    "tanh_2_9_8", "mixed_9_8_7_1", "gelu_5_12_3", "gelu_5_12_3_norm", "gelu_tanh_5_12_3",
    "gelu_tanh_5_12_3_norm", "silu_4_10_6", "silu_4_10_6_norm", "softplus_6_9_2",
    "softplus_6_9_2_norm", "elu_3_11_4", "elu_3_11_4_norm", "gelu_silu_probs_7_10_8_4", NULL,
};

static npy_array load(const char *tag, const char *what)
{
    char name[256];
    snprintf(name, sizeof name, "%s_%s", tag, what);
    return parity_load("deriv", name);
}

static nb_tensor tensor_of(const char *tag, const char *what, size_t rows, size_t cols)
{
    npy_array a = load(tag, what);
    cr_assert_eq(a.n, rows * cols, "%s_%s: %zu values", tag, what, a.n);
    nb_tensor t;
    cr_assert_eq(nb_tensor_alloc(&t, rows, cols), NB_OK);
    for (size_t i = 0; i < a.n; i++)
        t.data[i] = (float)a.data[i];
    npy_free(&a);
    return t;
}

void deriv_case_load(deriv_case *c, const char *tag)
{
    memset(c, 0, sizeof *c);
    npy_array meta = load(tag, "meta");
    size_t L = (size_t)meta.data[0];
    c->probs = meta.data[1] != 0.0;
    bool norm = meta.data[2] != 0.0;
    const double *sizes = meta.data + 3, *acts = meta.data + 4 + L;
    nb_layer_spec spec[8];
    cr_assert(L <= 8);
    for (size_t l = 0; l < L; l++)
        spec[l] = (nb_layer_spec){(size_t)sizes[l + 1], (nb_act)(int)acts[l], 0.0f};
    c->n = (size_t)sizes[0];
    c->m = (size_t)sizes[L];
    cr_assert_eq(nb_net_create(&c->net, c->n, spec, L, 1), NB_OK);
    bool classifier = c->probs || spec[L - 1].act == NB_ACT_SOFTMAX;
    npy_free(&meta);

    npy_array p = load(tag, "params");
    cr_assert_eq(p.n, nb_net_num_params(c->net));
    float *params = nb_net_params(c->net);
    for (size_t i = 0; i < p.n; i++)
        params[i] = (float)p.data[i];
    npy_free(&p);

    npy_array x = load(tag, "X");
    c->rows = x.shape[0];
    npy_free(&x);
    c->X = tensor_of(tag, "X", c->rows, c->n);
    c->V = tensor_of(tag, "V", c->rows, c->n);
    c->U = tensor_of(tag, "U", c->rows, c->m);
    if (norm) {
        nb_tensor mx = tensor_of(tag, "mx", 1, c->n), sx = tensor_of(tag, "sx", 1, c->n);
        cr_assert_eq(nb_norm_create(&c->norm, c->n, mx.data, sx.data), NB_OK);
        nb_tensor_free(&mx);
        nb_tensor_free(&sx);
        if (!classifier) {
            nb_tensor my = tensor_of(tag, "my", 1, c->m), sy = tensor_of(tag, "sy", 1, c->m);
            cr_assert_eq(nb_norm_create(&c->target_norm, c->m, my.data, sy.data), NB_OK);
            nb_tensor_free(&my);
            nb_tensor_free(&sy);
        }
    }
    c->Y = load(tag, "Y");
    c->J = load(tag, "J");
    c->JV = load(tag, "JV");
    c->UJ = load(tag, "UJ");
    cr_assert_eq(c->J.n, c->rows * c->m * c->n);
}

void deriv_case_free(deriv_case *c)
{
    nb_net_free(c->net);
    nb_norm_free(c->norm);
    nb_norm_free(c->target_norm);
    nb_tensor_free(&c->X);
    nb_tensor_free(&c->V);
    nb_tensor_free(&c->U);
    npy_free(&c->Y);
    npy_free(&c->J);
    npy_free(&c->JV);
    npy_free(&c->UJ);
}

nb_deriv_opts deriv_case_opts(const deriv_case *c, nb_deriv_mode mode)
{
    nb_deriv_opts o = nb_deriv_opts_default();
    o.norm = c->norm;
    o.target_norm = c->target_norm;
    o.probabilities = c->probs;
    o.mode = mode;
    return o;
}
