/* Data-parallel training under mpirun -np P: the parameters match one process training on the
   whole data (P = 1, 2, 3: uneven slices, empty slices, a last partial batch, with and without
   shuffling, every loss), every rank ends bit-identical, and an error on one rank reaches all
   ranks as the same status without a hang.  A plain program, not Criterion: Criterion's forked
   workers do not mix with MPI.  Exit 0 on every rank when all checks pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nablas.h"
#include "nablas/mpi.h"
#include "mpi_check.h"
#include "mpi/train_mpi.h" /* the ways of summing gradients, to test each */

enum { ROWS = 23, IN = 5, OUT = 3 };

static float X[ROWS * IN], T_reg[ROWS * OUT], T_cls[ROWS * OUT];

static void make_data(void)
{
    nb_rng g;
    nb_rng_seed(&g, 42);
    for (size_t i = 0; i < ROWS * IN; i++)
        X[i] = (float)(2.0 * nb_rng_uniform(&g) - 1.0);
    for (size_t i = 0; i < ROWS; i++) {
        size_t k = (size_t)nb_rng_below(&g, OUT);
        for (size_t j = 0; j < OUT; j++) {
            T_reg[i * OUT + j] = (float)nb_rng_uniform(&g);
            T_cls[i * OUT + j] = j == k ? 1.0f : 0.0f;
        }
    }
}

static float hidden_dropout; /* dropout of the hidden layers of the nets below (0: none) */

static nb_net *make_net(nb_act out_act, uint64_t seed)
{
    nb_layer_spec L[] = {{7, NB_ACT_TANH, hidden_dropout}, {6, NB_ACT_RELU, hidden_dropout},
                         {OUT, out_act, 0}};
    nb_net *net = NULL;
    if (nb_net_create(&net, IN, L, 3, seed) != NB_OK)
        fail("nb_net_create");
    return net;
}

/* max |a - b| / max |b|: the parameters' difference relative to their scale (an element-wise
   ratio would divide by parameters that happen to pass near 0). */
static double max_rel(const float *a, const float *b, size_t n)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= diff))
            diff = d; /* NaN propagates */
        scale = fmax(scale, fabs((double)b[i]));
    }
    return diff / scale;
}

static double worst_seen = 0.0;
static int early_stops; /* cases where patience ended the run (so early stopping is exercised) */

/* The default (NULL), per-layer sums overlapped with backward (with and without progress
   calls between the products), and both cut into pieces of a few floats, so that every way of
   summing is checked. */
static const nb__mpi_cfg cfgs[] = {
    {.overlap = false, .bucket = 0}, {.overlap = true, .bucket = 0},
    {.overlap = true, .bucket = 7}, {.overlap = false, .bucket = 5},
    {.overlap = true, .bucket = 0, .progress = true}, /* MPI_Testall between the products */
};
static const nb__mpi_cfg *cfg = NULL;

static nb_status train_cfg(nb_net *net, const nb_tensor *X, const nb_tensor *T, size_t rows,
                           bool local, const nb_train_opts *o, nb_train_report *rep)
{
    return nb__mpi_train_cfg(net, MPI_COMM_WORLD, X, T, rows, local, o, rep, cfg);
}

static void exactness_case(nb_loss loss, size_t batch, bool shuffle)
{
    nb_act out_act = loss == NB_LOSS_SOFTMAX_CE ? NB_ACT_IDENTITY
                     : loss == NB_LOSS_BCE      ? NB_ACT_SIGMOID
                                                : NB_ACT_IDENTITY;
    float *T = loss == NB_LOSS_MSE ? T_reg : T_cls;
    nb_tensor x = nb_tensor_view(X, ROWS, IN), t = nb_tensor_view(T, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.loss = loss;
    o.batch_size = batch;
    o.epochs = 3;
    o.lr = 0.1f;
    o.seed = 7;
    o.shuffle = shuffle;

    nb_net *single = make_net(out_act, 1), *dist = make_net(out_act, 1 + (uint64_t)rank);
    nb_train_report r1, rp;
    nb_status s1 = nb_net_train(single, &x, &t, &o, &r1);
    nb_status sp = cfg ? train_cfg(dist, &x, &t, ROWS, false, &o, &rp)
                       : nb_mpi_train(dist, MPI_COMM_WORLD, &x, &t, &o, &rp);
    char what[128];
    snprintf(what, sizeof what, "loss %d batch %zu shuffle %d overlap %d bucket %zu", (int)loss,
             batch, shuffle, cfg ? cfg->overlap : 0, cfg ? cfg->bucket : 0);
    CHECK(s1 == NB_OK && sp == NB_OK, "%s: status %d / %d", what, s1, sp);
    size_t n = nb_net_num_params(single);
    double rel = max_rel(nb_net_params(dist), nb_net_params(single), n);
    if (rel > worst_seen)
        worst_seen = rel;
    CHECK(rel <= 1e-6, "%s: parameters %.3g relative from one process's", what, rel);
    CHECK(rp.steps == r1.steps && rp.epochs_run == r1.epochs_run, "%s: steps %zu vs %zu", what,
          rp.steps, r1.steps);
    CHECK(fabs(rp.last_loss - r1.last_loss) <= 1e-5 * fabs(r1.last_loss), "%s: loss %.9g vs %.9g",
          what, rp.last_loss, r1.last_loss);
    check_same_on_all(dist, what);

    if (!shuffle) { /* each rank holding only its own rows trains the same network */
        size_t m = 0;
        CHECK(nb_mpi_local_rows(&m, NULL, ROWS, batch, rank, size) == NB_OK, "local_rows");
        size_t *idx = malloc((m ? m : 1) * sizeof *idx);
        float *xl = malloc((m ? m : 1) * IN * sizeof *xl), *tl = malloc((m ? m : 1) * OUT * sizeof *tl);
        nb_mpi_local_rows(&m, idx, ROWS, batch, rank, size);
        for (size_t i = 0; i < m; i++) {
            memcpy(xl + i * IN, X + idx[i] * IN, IN * sizeof *xl);
            memcpy(tl + i * OUT, T + idx[i] * OUT, OUT * sizeof *tl);
        }
        nb_net *loc = make_net(out_act, 1);
        nb_tensor xv = nb_tensor_view(xl, m, IN), tv = nb_tensor_view(tl, m, OUT);
        nb_status sl = cfg ? train_cfg(loc, &xv, &tv, ROWS, true, &o, NULL)
                           : nb_mpi_train_local(loc, MPI_COMM_WORLD, &xv, &tv, ROWS, &o, NULL);
        CHECK(sl == NB_OK, "%s: local rows: status %d", what, sl);
        CHECK(memcmp(nb_net_params(loc), nb_net_params(dist), n * sizeof(float)) == 0,
              "%s: local rows give other parameters than the whole data", what);
        nb_net_free(loc);
        free(idx);
        free(xl);
        free(tl);
    }
    nb_net_free(single);
    nb_net_free(dist);
}

/* ---- every optimizer: the same summed gradients, the same update on every rank --------- */

static void optimizer_case(const nb_optim_opts *oo, const char *name, bool shuffle,
                           const nb_schedule *sched, double clip, size_t patience)
{
    nb_tensor x = nb_tensor_view(X, ROWS, IN), t = nb_tensor_view(T_cls, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.loss = NB_LOSS_SOFTMAX_CE;
    o.batch_size = 5; /* 23 rows: slices 2, 2, 1 of 5 and 1, 1, 1 of the last 3 at P = 3 */
    o.epochs = 3;
    o.seed = 11;
    o.shuffle = shuffle;
    o.optim = oo;
    o.schedule = sched;
    o.clip_norm = clip;
    /* early stopping: every rank evaluates the same parameters on the whole validation set */
    nb_tensor xv = nb_tensor_view(X, 9, IN), tv = nb_tensor_view(T_cls, 9, OUT);
    if (patience) {
        o.epochs = 12;
        o.X_val = &xv;
        o.T_val = &tv;
        o.patience = patience;
        o.restore_best = true;
    }
    nb_net *single = make_net(NB_ACT_IDENTITY, 1), *dist = make_net(NB_ACT_IDENTITY, 1 + (uint64_t)rank);
    size_t n = nb_net_num_params(single);
    nb_train_report r1, rp;
    nb_status s1 = nb_net_train(single, &x, &t, &o, &r1);
    nb_status sp = train_cfg(dist, &x, &t, ROWS, false, &o, &rp);
    char what[160];
    snprintf(what, sizeof what, "%s shuffle %d overlap %d bucket %zu", name, shuffle,
             cfg ? cfg->overlap : 0, cfg ? cfg->bucket : 0);
    CHECK(s1 == NB_OK && sp == NB_OK, "%s: status %d / %d", what, s1, sp);
    double rel = max_rel(nb_net_params(dist), nb_net_params(single), n);
    if (rel > worst_seen)
        worst_seen = rel;
    CHECK(rel <= 1e-6, "%s: parameters %.3g relative from one process's", what, rel);
    CHECK(rp.steps == r1.steps && rp.epochs_run == r1.epochs_run &&
              rp.best_epoch == r1.best_epoch && rp.restored == r1.restored &&
              rp.stopped_early == r1.stopped_early,
          "%s: steps %zu vs %zu, epochs %zu vs %zu, best %zu vs %zu", what, rp.steps, r1.steps,
          rp.epochs_run, r1.epochs_run, rp.best_epoch, r1.best_epoch);
    CHECK(fabs(rp.last_loss - r1.last_loss) <= 1e-5 * fabs(r1.last_loss), "%s: loss %.9g vs %.9g",
          what, rp.last_loss, r1.last_loss);
    check_same_on_all(dist, what);
    early_stops += patience && r1.stopped_early;
    nb_net_free(single);
    nb_net_free(dist);
}

static void test_optimizers(void)
{
    nb_optim_opts sgd = nb_optim_opts_default(NB_OPTIM_SGD);
    sgd.lr = 0.05;
    sgd.momentum = 0.9;
    sgd.nesterov = true;
    sgd.weight_decay = 1e-3;
    nb_optim_opts adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    adam.lr = 0.01;
    adam.amsgrad = true;
    nb_optim_opts adamw = nb_optim_opts_default(NB_OPTIM_ADAMW);
    adamw.lr = 0.01;
    nb_optim_opts rms = nb_optim_opts_default(NB_OPTIM_RMSPROP);
    rms.momentum = 0.5;
    rms.centered = true;
    const struct { nb_optim_opts o; const char *name; } all[] = {
        {nb_optim_opts_default(NB_OPTIM_SGD), "sgd"}, {sgd, "sgd nesterov wd"},
        {nb_optim_opts_default(NB_OPTIM_ADAM), "adam"}, {adam, "adam amsgrad"},
        {adamw, "adamw"}, {nb_optim_opts_default(NB_OPTIM_RMSPROP), "rmsprop"},
        {rms, "rmsprop centered momentum"},
    };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        for (int sh = 0; sh < 2; sh++)
            optimizer_case(&all[i].o, all[i].name, sh, NULL, 0.0, 0);
    /* a schedule (cosine with warm-up) and gradient clipping on the summed gradient */
    nb_schedule cos = nb_schedule_default(NB_SCHED_COSINE);
    cos.warmup_steps = 3;
    optimizer_case(&adam, "adam, cosine schedule, clipping", true, &cos, 0.5, 0);
    optimizer_case(NULL, "plain sgd (fused in one process)", true, NULL, 0.0, 0);
    /* early stopping with restore_best, with each kind of optimizer */
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        optimizer_case(&all[i].o, all[i].name, true, NULL, 0.0, 2);
    optimizer_case(NULL, "plain sgd, early stopping", false, NULL, 0.0, 1);
    /* dropout: each rank draws the single process's masks for its rows */
    hidden_dropout = 0.3f;
    optimizer_case(&adam, "adam with dropout", true, &cos, 0.5, 0);
    optimizer_case(NULL, "plain sgd with dropout", true, NULL, 0.0, 0);
    hidden_dropout = 0.0f;
}

static void test_slices(void)
{
    for (int P = 1; P <= 5; P++)
        for (size_t n = 0; n <= 11; n++) {
            size_t next = 0;
            for (int r = 0; r < P; r++) {
                size_t first = 99, count = 99;
                CHECK(nb_mpi_slice(&first, &count, n, r, P) == NB_OK, "slice");
                CHECK(first == next, "slice %zu of %d: rank %d starts at %zu", n, P, r, first);
                CHECK(count + 1 >= n / (size_t)P && count <= n / (size_t)P + 1, "slice balance");
                next = first + count;
            }
            CHECK(next == n, "slices of %zu over %d ranks cover %zu", n, P, next);
        }
    size_t f, c, total = 0;
    CHECK(nb_mpi_slice(NULL, &c, 4, 0, 1) == NB_ERR_NULL, "slice NULL");
    CHECK(nb_mpi_slice(&f, &c, 4, 2, 2) == NB_ERR_ARG, "slice rank out of range");
    CHECK(nb_mpi_slice(&f, &c, 4, 0, 0) == NB_ERR_ARG, "slice size 0");
    CHECK(nb_mpi_local_rows(&c, NULL, 10, 0, 0, 1) == NB_ERR_ARG, "local_rows batch 0");
    CHECK(nb_mpi_local_rows(NULL, NULL, 10, 3, 0, 1) == NB_ERR_NULL, "local_rows NULL");
    /* the ranks' rows partition the data set */
    int seen[ROWS] = {0};
    for (int r = 0; r < 3; r++) {
        size_t idx[ROWS];
        nb_mpi_local_rows(&c, idx, ROWS, 4, r, 3);
        total += c;
        for (size_t i = 0; i < c; i++)
            seen[idx[i]]++;
    }
    CHECK(total == ROWS, "local rows total %zu", total);
    for (size_t i = 0; i < ROWS; i++)
        CHECK(seen[i] == 1, "row %zu held %d times", i, seen[i]);
}

static int stop_at_2(const nb_epoch_info *info, void *user)
{
    (void)user;
    return rank == size - 1 && info->epoch == 2;
}

static void test_errors(void)
{
    nb_tensor x = nb_tensor_view(X, ROWS, IN), t = nb_tensor_view(T_reg, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 4;
    o.epochs = 3;
    o.shuffle = false;
    nb_net *net = make_net(NB_ACT_IDENTITY, 1);
    size_t n = nb_net_num_params(net);
    float *before = malloc(n * sizeof *before);
    memcpy(before, nb_net_params(net), n * sizeof *before);
    bool last = rank == size - 1;

    /* bad shape on the last rank only: every rank refuses, nothing changes */
    nb_tensor xs = nb_tensor_view(X, last ? ROWS - 1 : ROWS, IN);
    nb_status s = nb_mpi_train(net, MPI_COMM_WORLD, &xs, &t, &o, NULL);
    CHECK(s == NB_ERR_SHAPE, "bad shape on one rank: status %d", s);
    CHECK(memcmp(before, nb_net_params(net), n * sizeof *before) == 0, "bad shape: params changed");

    /* other options on one rank */
    nb_train_opts o2 = o;
    if (last)
        o2.lr = 0.02f;
    s = nb_mpi_train(net, MPI_COMM_WORLD, &x, &t, &o2, NULL);
    CHECK(s == (size > 1 ? NB_ERR_ARG : NB_OK), "options differing on one rank: status %d", s);
    memcpy(nb_net_params(net), before, n * sizeof *before);
    o2 = o;
    if (last)
        o2.batch_size = 0;
    s = nb_mpi_train(net, MPI_COMM_WORLD, &x, &t, &o2, NULL);
    CHECK(s == NB_ERR_ARG, "bad option on one rank: status %d", s);
    s = nb_mpi_train(net, MPI_COMM_WORLD, &x, &t, last ? NULL : &o, NULL);
    CHECK(s == NB_ERR_NULL, "NULL options on one rank: status %d", s);
    o2 = o;
    o2.shuffle = true;
    s = nb_mpi_train_local(net, MPI_COMM_WORLD, &x, &t, ROWS, &o2, NULL);
    CHECK(s == NB_ERR_ARG, "local rows with shuffling: status %d", s);
    s = nb_mpi_train(net, MPI_COMM_NULL, &x, &t, &o, NULL);
    CHECK(s == NB_ERR_ARG, "MPI_COMM_NULL: status %d", s);
    CHECK(memcmp(before, nb_net_params(net), n * sizeof *before) == 0, "refused: params changed");

    /* a NaN in a row only the last rank computes (batch 2, the end of its slice): every rank
       stops with NB_ERR_NONFINITE after the same step, finite and identical */
    float *xbad = malloc(sizeof X);
    memcpy(xbad, X, sizeof X);
    if (last)
        xbad[(2 * 4 + 3) * IN + 1] = NAN;
    nb_tensor xb = nb_tensor_view(xbad, ROWS, IN);
    nb_train_report rep = {0};
    s = train_cfg(net, &xb, &t, ROWS, false, &o, &rep);
    CHECK(s == NB_ERR_NONFINITE, "NaN on one rank: status %d", s);
    CHECK(rep.steps == 2 && rep.epochs_run == 0, "NaN on one rank: %zu steps, %zu epochs",
          rep.steps, rep.epochs_run);
    float *p = nb_net_params(net);
    bool finite = true;
    for (size_t i = 0; i < n; i++)
        finite = finite && isfinite(p[i]);
    CHECK(finite, "NaN on one rank: the network holds a non-finite parameter");
    check_same_on_all(net, "after a NaN");
    free(xbad);

    /* rank 0's parameters (broadcast to all) are not finite: every rank refuses to start */
    float keep = nb_net_params(net)[3];
    if (rank == 0)
        nb_net_params(net)[3] = INFINITY;
    rep = (nb_train_report){0};
    s = train_cfg(net, &x, &t, ROWS, false, &o, &rep);
    CHECK(s == NB_ERR_NONFINITE && rep.steps == 0, "non-finite start: status %d", s);
    nb_net_params(net)[3] = keep;
    check_same_on_all(net, "after a refused start");

    /* the callback stops training on one rank: all stop after the same epoch */
    o2 = o;
    o2.on_epoch = stop_at_2;
    s = train_cfg(net, &x, &t, ROWS, false, &o2, &rep);
    CHECK(s == NB_OK && rep.epochs_run == 2 && rep.stopped_early, "stop on one rank: %d, %zu", s,
          rep.epochs_run);
    nb_net_free(net);
    free(before);
}

int main(int argc, char **argv)
{
    mpi_check_init(&argc, &argv);
    make_data();
    test_slices();
    const size_t batches[] = {1, 2, 4, 5, 23, 64};
    const nb_loss losses[] = {NB_LOSS_MSE, NB_LOSS_SOFTMAX_CE, NB_LOSS_BCE};
    for (size_t c = 0; c <= sizeof cfgs / sizeof *cfgs; c++) {
        cfg = c ? &cfgs[c - 1] : NULL;
        for (size_t l = 0; l < 3; l++)
            for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
                for (int sh = 0; sh < 2; sh++)
                    exactness_case(losses[l], batches[b], sh);
        test_optimizers();
        test_errors();
    }
    CHECK(early_stops > 0, "no run stopped early: early stopping untested");
    double worst = 0.0;
    MPI_Reduce(&worst_seen, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    int any = mpi_check_any_failed();
    if (rank == 0)
        printf("mpi train, %d rank(s): %s, worst parameter difference from one process %.3g "
               "relative; %d runs stopped early\n", size, any ? "FAILED" : "all checks passed",
               worst, early_stops);
    MPI_Finalize();
    return any != 0;
}
