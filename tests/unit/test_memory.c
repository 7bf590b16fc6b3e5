/* nb_net_memory_estimate: each part against the buffers a network of those specs has, the
   optimizers' state counts, saturation for sizes beyond size_t, and the error paths. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "nablas.h"

Test(memory, parts_match_the_network)
{
    nb_layer_spec L[3] = {{7, NB_ACT_RELU, 0.0f}, {5, NB_ACT_TANH, 0.25f}, {3, NB_ACT_IDENTITY, 0.0f}};
    nb_net_memory m;
    cr_assert_eq(nb_net_memory_estimate(&m, 4, L, 3, 10, NULL), NB_OK);
    nb_net *net;
    cr_assert_eq(nb_net_create(&net, 4, L, 3, 1), NB_OK);
    size_t P = nb_net_num_params(net), f = sizeof(float);
    cr_assert_eq(P, (4 + 1) * 7 + (7 + 1) * 5 + (5 + 1) * 3);
    cr_assert_eq(m.params, P * f);
    cr_assert_eq(m.grads, P * f);
    cr_assert_eq(m.optimizer, 0, "plain SGD keeps no state");
    cr_assert_eq(m.trainer, P * f + 10 * (4 + 3) * f);
    /* outputs of every layer, two gradient buffers of the widest layer, dropped outputs */
    size_t acts = 10 * (7 + 5 + 3) * f;
    cr_assert_eq(m.activations, acts + 2 * 10 * 7 * f + acts);
    cr_assert_eq(m.total, m.params + m.grads + m.optimizer + m.trainer + m.activations);
    nb_net_free(net);

    /* without dropout no dropped copy; the input may be the widest */
    nb_layer_spec S[2] = {{2, NB_ACT_RELU, 0.0f}, {1, NB_ACT_IDENTITY, 0.0f}};
    cr_assert_eq(nb_net_memory_estimate(&m, 9, S, 2, 4, NULL), NB_OK);
    cr_assert_eq(m.activations, 4 * 3 * f + 2 * 4 * 9 * f);

    /* GELU and ELU layers keep their pre-activations for backward (softplus does not) */
    nb_layer_spec G[3] = {{6, NB_ACT_GELU, 0.0f}, {5, NB_ACT_SOFTPLUS, 0.0f}, {2, NB_ACT_ELU, 0.0f}};
    cr_assert_eq(nb_net_memory_estimate(&m, 3, G, 3, 8, NULL), NB_OK);
    cr_assert_eq(m.activations, 8 * (6 + 5 + 2) * f + 2 * 8 * 6 * f + 8 * (6 + 2) * f);
}

Test(memory, optimizer_state)
{
    nb_layer_spec L[1] = {{3, NB_ACT_IDENTITY, 0.0f}};
    size_t P = (20 + 1) * 3, stride = (P + 15) / 16 * 16; /* 63 -> 64 floats per buffer */
    struct { nb_optim_kind kind; double momentum; bool amsgrad, centered; size_t buffers; } c[] = {
        {NB_OPTIM_SGD, 0.0, false, false, 0},    {NB_OPTIM_SGD, 0.9, false, false, 1},
        {NB_OPTIM_ADAM, 0.0, false, false, 2},   {NB_OPTIM_ADAMW, 0.0, true, false, 3},
        {NB_OPTIM_RMSPROP, 0.0, false, false, 1}, {NB_OPTIM_RMSPROP, 0.9, false, true, 3},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        nb_optim_opts o = nb_optim_opts_default(c[i].kind);
        o.momentum = c[i].momentum;
        o.amsgrad = c[i].amsgrad;
        o.centered = c[i].centered;
        nb_net_memory m;
        cr_assert_eq(nb_net_memory_estimate(&m, 20, L, 1, 1, &o), NB_OK);
        cr_assert_eq(m.optimizer, c[i].buffers * stride * sizeof(float), "case %zu", i);
        nb_optim *opt;
        cr_assert_eq(nb_optim_create(&opt, P, &o), NB_OK);
        cr_assert_eq(nb_optim_state_count(opt), c[i].buffers, "case %zu", i);
        nb_optim_free(opt);
    }
}

Test(memory, huge_networks_are_estimated_not_allocated)
{
    /* the 100000000:relu,3 on 7 inputs, batch 32: 3.2 GB of parameters alone */
    nb_layer_spec L[2] = {{100000000, NB_ACT_RELU, 0.0f}, {3, NB_ACT_IDENTITY, 0.0f}};
    nb_net_memory m;
    cr_assert_eq(nb_net_memory_estimate(&m, 7, L, 2, 32, NULL), NB_OK);
    cr_assert_eq(m.params, (size_t)(8 * 100000000 + 100000001 * 3) * 4);
    cr_assert_gt(m.total, (size_t)40 << 30);
    /* sizes beyond size_t saturate rather than wrap */
    nb_layer_spec B[2] = {{SIZE_MAX / 4, NB_ACT_RELU, 0.0f}, {SIZE_MAX / 4, NB_ACT_IDENTITY, 0.0f}};
    cr_assert_eq(nb_net_memory_estimate(&m, SIZE_MAX / 2, B, 2, SIZE_MAX, NULL), NB_OK);
    cr_assert_eq(m.params, SIZE_MAX);
    cr_assert_eq(m.activations, SIZE_MAX);
    cr_assert_eq(m.total, SIZE_MAX);
}

Test(memory, errors_leave_out_alone)
{
    nb_layer_spec L[2] = {{4, NB_ACT_RELU, 0.0f}, {1, NB_ACT_IDENTITY, 0.0f}};
    nb_net_memory m, before;
    memset(&m, 0xA5, sizeof m);
    before = m;
    cr_assert_eq(nb_net_memory_estimate(NULL, 3, L, 2, 8, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_net_memory_estimate(&m, 3, NULL, 2, 8, NULL), NB_ERR_NULL);
    cr_assert_eq(nb_net_memory_estimate(&m, 0, L, 2, 8, NULL), NB_ERR_SHAPE);
    cr_assert_eq(nb_net_memory_estimate(&m, 3, L, 0, 8, NULL), NB_ERR_SHAPE);
    cr_assert_eq(nb_net_memory_estimate(&m, 3, L, 2, 0, NULL), NB_ERR_SHAPE);
    nb_layer_spec Z[2] = {{0, NB_ACT_RELU, 0.0f}, {1, NB_ACT_IDENTITY, 0.0f}};
    cr_assert_eq(nb_net_memory_estimate(&m, 3, Z, 2, 8, NULL), NB_ERR_SHAPE);
    nb_optim_opts o = nb_optim_opts_default(NB_OPTIM_ADAM);
    o.kind = NB_OPTIM_KIND_COUNT;
    cr_assert_eq(nb_net_memory_estimate(&m, 3, L, 2, 8, &o), NB_ERR_ARG);
    cr_assert_eq(memcmp(&m, &before, sizeof m), 0);
}
