/* Training parity: nablas trains the same networks from the same initial weights on the same
   fixed batches as PyTorch (torch.nn.Linear + torch.optim.SGD, tests/data/traj), and every
   layer's W and b must match PyTorch's after every step.

   Tolerance 1e-4 relative, in the max norm of each W and each b.  nablas computes in float32
   and the references (a)-(c) in float64, (d) in float32 with another summation order: each step
   adds rounding differences of a few 1e-7, and the steps carry them forward (amplified by
   lr times the loss curvature), so after 10-20 steps we expect around 1e-6; 1e-4 leaves two
   decades of margin while a wrong gradient formula, scale or update moves parameters by
   1e-2 or more.  Each trajectory runs twice: forward + backward + sgd_step (gradients
   visible) and the fused nb_net_train_step. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"
#include "parity_util.h"

#define TRAJ_TOL 1e-4
#define LOSS_TOL 1e-5 /* the loss of each step: one rounded forward pass */

typedef struct traj {
    const char *name;
    nb_act acts[3];
    nb_loss loss;
} traj;

/* Runs one trajectory; returns its worst parameter error over all steps. */
static double run(const traj *t, int fused, char *where, size_t where_len)
{
    char name[96];
    npy_array meta, X, T, P, losses;
    snprintf(name, sizeof name, "%s_meta", t->name);
    meta = parity_load("traj", name);
    snprintf(name, sizeof name, "%s_X", t->name);
    X = parity_load("traj", name);
    snprintf(name, sizeof name, "%s_T", t->name);
    T = parity_load("traj", name);
    snprintf(name, sizeof name, "%s_params", t->name);
    P = parity_load("traj", name);
    snprintf(name, sizeof name, "%s_losses", t->name);
    losses = parity_load("traj", name);

    /* meta: batch, steps, lr, layer sizes (inputs first) */
    size_t batch = (size_t)meta.data[0], steps = (size_t)meta.data[1];
    float lr = (float)meta.data[2];
    size_t n_layers = meta.n - 4, inputs = (size_t)meta.data[3];
    nb_layer_spec specs[3];
    cr_assert(n_layers <= 3);
    for (size_t l = 0; l < n_layers; l++)
        specs[l] = (nb_layer_spec){(size_t)meta.data[4 + l], t->acts[l], 0};
    size_t outputs = specs[n_layers - 1].units, rows = X.shape[0];

    nb_net *net;
    cr_assert_eq(nb_net_create(&net, inputs, specs, n_layers, 1), NB_OK);
    size_t np = nb_net_num_params(net);
    cr_assert_eq(P.shape[0], steps + 1);
    cr_assert_eq(P.shape[1], np);
    float *p = nb_net_params(net); /* start from PyTorch's initial weights */
    for (size_t i = 0; i < np; i++)
        p[i] = (float)P.data[i];
    float *xf = parity_floats(&X), *tf = parity_floats(&T);

    double worst = 0.0;
    char w[64] = "";
    for (size_t s = 0; s < steps; s++) {
        size_t lo = (s * batch) % rows;
        nb_tensor xb = nb_tensor_view(xf + lo * inputs, batch, inputs);
        nb_tensor tb = nb_tensor_view(tf + lo * outputs, batch, outputs);
        float loss;
        if (fused) {
            cr_assert_eq(nb_net_train_step(net, &xb, &tb, t->loss, lr, &loss), NB_OK);
        } else {
            cr_assert_eq(nb_net_forward(net, &xb, NULL), NB_OK);
            cr_assert_eq(nb_net_backward(net, t->loss, &tb, &loss), NB_OK);
            cr_assert_eq(nb_net_sgd_step(net, lr), NB_OK);
        }
        double le = fabs(loss - losses.data[s]) / fabs(losses.data[s]);
        cr_expect(le <= LOSS_TOL, "%s step %zu: loss %.9g vs %.9g", t->name, s + 1,
                  (double)loss, losses.data[s]);
        double e = parity_params_err(net, P.data + (s + 1) * np, w, sizeof w);
        cr_expect(e <= TRAJ_TOL, "%s step %zu %s: relative error %.3e > %.0e", t->name, s + 1,
                  w, e, TRAJ_TOL);
        if (e >= worst) {
            worst = e;
            snprintf(where, where_len, "%s (%s) step %zu %s", t->name,
                     fused ? "train_step" : "forward/backward/sgd", s + 1, w);
        }
    }
    nb_net_free(net);
    free(xf);
    free(tf);
    npy_free(&meta);
    npy_free(&X);
    npy_free(&T);
    npy_free(&P);
    npy_free(&losses);
    return worst;
}

static void check(const traj *t)
{
    char where[2][160];
    double e0 = run(t, 0, where[0], sizeof where[0]);
    double e1 = run(t, 1, where[1], sizeof where[1]);
    parity_report(t->name, where[e1 > e0], fmax(e0, e1), TRAJ_TOL);
}

Test(parity_trajectories, a_4_16_8_3_relu_relu_sigmoid_mse)
{
    check(&(traj){"a_relu_sigmoid_mse", {NB_ACT_RELU, NB_ACT_RELU, NB_ACT_SIGMOID}, NB_LOSS_MSE});
}

Test(parity_trajectories, b_64_32_10_relu_softmax_ce)
{
    check(&(traj){"b_relu_softmax_ce", {NB_ACT_RELU, NB_ACT_IDENTITY, 0}, NB_LOSS_SOFTMAX_CE});
}

Test(parity_trajectories, c_house_4_8_4_1_linear_full_batch)
{
    check(&(traj){"c_house_linear", {NB_ACT_IDENTITY, NB_ACT_IDENTITY, NB_ACT_IDENTITY},
                  NB_LOSS_MSE});
}

Test(parity_trajectories, d_tanh_leaky_relu_sigmoid_bce_float32)
{
    check(&(traj){"d_tanh_leaky_bce_f32", {NB_ACT_TANH, NB_ACT_LEAKY_RELU, NB_ACT_SIGMOID},
                  NB_LOSS_BCE});
}
