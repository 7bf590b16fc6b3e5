/* Checkpoints over MPI, under mpirun -np P: training N epochs with a checkpoint saved on rank 0
   from the epoch callback, then loading it (rank 0 reads and broadcasts) and resuming to N + M
   epochs gives the parameters of the run of N + M epochs never interrupted, bit for bit, on
   every rank (SGD, momentum, Adam with a schedule and clipping, shuffling, dropout, early
   stopping); within 1e-6 of one process training N + M epochs.  A failing save or load, and
   ranks standing at different positions, give every rank the same status, without a hang.
   A plain program, not Criterion (its forked workers do not mix with MPI). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nablas.h"
#include "nablas/mpi.h"
#include "mpi_check.h"

enum { ROWS = 37, IN = 4, OUT = 3, VAL = 9, N = 3, M = 4 };

static float X[ROWS * IN], T[ROWS * OUT], Xv[VAL * IN], Tv[VAL * OUT];

static void make_data(void)
{
    nb_rng g;
    nb_rng_seed(&g, 11);
    for (size_t i = 0; i < ROWS * IN; i++)
        X[i] = (float)(2.0 * nb_rng_uniform(&g) - 1.0);
    for (size_t i = 0; i < VAL * IN; i++)
        Xv[i] = (float)(2.0 * nb_rng_uniform(&g) - 1.0);
    for (size_t i = 0; i < ROWS * OUT; i++)
        T[i] = (float)nb_rng_uniform(&g);
    for (size_t i = 0; i < VAL * OUT; i++)
        Tv[i] = (float)nb_rng_uniform(&g);
}

static nb_net *make_net(float dropout)
{
    nb_layer_spec L[] = {{9, NB_ACT_TANH, dropout}, {6, NB_ACT_RELU, 0}, {OUT, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    if (nb_net_create(&net, IN, L, 3, 5) != NB_OK)
        fail("nb_net_create");
    return net;
}

/* Every rank's statuses are the same. */
static void check_same_status(nb_status s, const char *what)
{
    int lo = (int)s, hi = (int)s, min = 0, max = 0;
    MPI_Allreduce(&lo, &min, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&hi, &max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(min == max, "%s: the ranks' statuses differ (%d..%d)", what, min, max);
}

/* The on_epoch callback of the interrupted run: a checkpoint on every epoch (rank 0 writes),
   so the file ends up holding epoch N. */
typedef struct saver {
    nb_trainer *tr;
    nb_model m;
    const char *path;
    nb_status status; /* the last save's, the same on every rank */
    size_t saves;
} saver;

static int save_each(const nb_epoch_info *info, void *user)
{
    saver *sv = user;
    (void)info;
    sv->status = nb_mpi_checkpoint_save(sv->tr, &sv->m, MPI_COMM_WORLD, "mpi test", sv->path);
    sv->saves++;
    return sv->status != NB_OK; /* a failed save stops the run on every rank */
}

static char path[256];

static void resume_case(const char *name, const nb_optim_opts *optim,
                        const nb_schedule *schedule, double clip, bool shuffle, float dropout,
                        size_t patience)
{
    nb_tensor x = nb_tensor_view(X, ROWS, IN), t = nb_tensor_view(T, ROWS, OUT);
    nb_tensor xv = nb_tensor_view(Xv, VAL, IN), tv = nb_tensor_view(Tv, VAL, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 8;
    o.epochs = N + M;
    o.lr = 0.05f;
    o.seed = 3;
    o.shuffle = shuffle;
    o.optim = optim;
    o.schedule = schedule;
    o.clip_norm = clip;
    if (patience) {
        o.X_val = &xv;
        o.T_val = &tv;
        o.patience = patience;
        o.restore_best = true;
    }

    /* the run never interrupted, over MPI and in one process */
    nb_net *whole = make_net(dropout), *single = make_net(dropout);
    nb_trainer *tw = NULL, *ts = NULL;
    nb_train_report rw, rs, rr;
    CHECK(nb_trainer_create(&tw, whole) == NB_OK && nb_trainer_create(&ts, single) == NB_OK,
          "%s: trainers", name);
    nb_status s = nb_mpi_trainer_run(tw, MPI_COMM_WORLD, &x, &t, &o, &rw);
    CHECK(s == NB_OK, "%s: uninterrupted run: %s", name, nb_status_str(s));
    CHECK(nb_trainer_run(ts, &x, &t, &o, &rs) == NB_OK, "%s: single process", name);

    /* N epochs with a checkpoint after each, then a resume to N + M from the file */
    nb_net *part = make_net(dropout);
    saver sv = {NULL, {.net = part, .loss = o.loss}, path, NB_OK, 0};
    CHECK(nb_trainer_create(&sv.tr, part) == NB_OK, "%s: trainer", name);
    nb_train_opts o1 = o;
    o1.epochs = N;
    o1.on_epoch = save_each;
    o1.user = &sv;
    s = nb_mpi_trainer_run(sv.tr, MPI_COMM_WORLD, &x, &t, &o1, NULL);
    CHECK(s == NB_OK && sv.status == NB_OK && sv.saves == N, "%s: run with checkpoints: %s, %s",
          name, nb_status_str(s), nb_status_str(sv.status));
    nb_trainer_free(sv.tr);
    nb_net_free(part);

    nb_model m;
    nb_trainer *tr = NULL;
    char *note = NULL;
    s = nb_mpi_checkpoint_load(&m, &tr, &note, MPI_COMM_WORLD, rank == 0 ? path : NULL);
    CHECK(s == NB_OK, "%s: load: %s", name, nb_status_str(s));
    if (s != NB_OK)
        goto out;
    CHECK(note && !strcmp(note, "mpi test"), "%s: note", name);
    nb_train_position pos;
    nb_trainer_position(tr, &pos);
    CHECK(pos.epochs_done == N, "%s: the checkpoint stands at epoch %llu", name,
          (unsigned long long)pos.epochs_done);
    nb_train_opts o2 = o;
    o2.resume = true;
    s = nb_mpi_trainer_run(tr, MPI_COMM_WORLD, &x, &t, &o2, &rr);
    CHECK(s == NB_OK, "%s: resume: %s", name, nb_status_str(s));
    size_t np = nb_net_num_params(whole);
    CHECK(nb_net_num_params(m.net) == np &&
              memcmp(nb_net_params(m.net), nb_net_params(whole), np * sizeof(float)) == 0,
          "%s: resumed parameters differ from the uninterrupted run's", name);
    CHECK(rr.epochs_run == rw.epochs_run && rr.stopped_early == rw.stopped_early &&
              rr.best_epoch == rw.best_epoch,
          "%s: reports differ: epochs %zu/%zu, best %zu/%zu", name, rr.epochs_run, rw.epochs_run,
          rr.best_epoch, rw.best_epoch);
    check_same_on_all(m.net, name);
    if (patience) /* the early stop must fall in the resumed part, where it is decided anew */
        CHECK(rw.stopped_early && rw.epochs_run > N && rw.epochs_run < N + M,
              "%s: no early stop after the checkpoint (%zu epochs)", name, rw.epochs_run);
    /* and the single process's, to rounding (another order of the sums) */
    const float *a = nb_net_params(m.net), *b = nb_net_params(single);
    double diff = 0, scale = 0;
    for (size_t i = 0; i < np; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    CHECK(diff <= 1e-6 * scale && rs.epochs_run == rr.epochs_run,
          "%s: %.3g relative from one process (epochs %zu/%zu)", name, diff / scale,
          rr.epochs_run, rs.epochs_run);

    /* nothing left to run: every rank returns at once */
    s = nb_mpi_trainer_run(tr, MPI_COMM_WORLD, &x, &t, &o2, &rr);
    CHECK(s == NB_OK && rr.epochs_run == rw.epochs_run, "%s: a resume with nothing left: %s",
          name, nb_status_str(s));
    nb_trainer_free(tr);
    nb_model_free(&m);
    free(note);
out:
    nb_trainer_free(tw);
    nb_trainer_free(ts);
    nb_net_free(whole);
    nb_net_free(single);
}

static void errors(void)
{
    nb_tensor x = nb_tensor_view(X, ROWS, IN), t = nb_tensor_view(T, ROWS, OUT);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 8;
    o.epochs = 3;
    o.lr = 0.05f;

    /* rank 0 cannot write: every rank learns it from the save and the run stops after the
       first epoch on all */
    nb_net *net = make_net(0);
    saver sv = {NULL, {.net = net, .loss = o.loss}, "/nonexistent-dir/ckpt.nbm", NB_OK, 0};
    nb_trainer_create(&sv.tr, net);
    nb_train_opts o1 = o;
    o1.on_epoch = save_each;
    o1.user = &sv;
    nb_train_report rep;
    nb_status s = nb_mpi_trainer_run(sv.tr, MPI_COMM_WORLD, &x, &t, &o1, &rep);
    CHECK(s == NB_OK && sv.status == NB_ERR_IO && sv.saves == 1 && rep.epochs_run == 1,
          "failed save: run %s, save %s, %zu saves, %zu epochs", nb_status_str(s),
          nb_status_str(sv.status), sv.saves, rep.epochs_run);
    check_same_status(sv.status, "failed save");

    /* a missing file: the same status everywhere, outputs untouched */
    nb_model m = {.net = net};
    nb_trainer *tr = sv.tr;
    char *note = (char *)"untouched";
    s = nb_mpi_checkpoint_load(&m, &tr, &note, MPI_COMM_WORLD, "/nonexistent-dir/ckpt.nbm");
    CHECK(s == NB_ERR_IO && m.net == net && tr == sv.tr && !strcmp(note, "untouched"),
          "missing checkpoint: %s", nb_status_str(s));
    check_same_status(s, "missing checkpoint");
    /* rank 0 passes no path: NB_ERR_NULL on every rank */
    s = nb_mpi_checkpoint_load(&m, &tr, NULL, MPI_COMM_WORLD, NULL);
    CHECK(s == NB_ERR_NULL, "no path: %s", nb_status_str(s));

    /* a NULL trainer on the last rank: every rank refuses, none hangs */
    s = nb_mpi_trainer_run(rank == size - 1 ? NULL : sv.tr, MPI_COMM_WORLD, &x, &t, &o, NULL);
    CHECK(s == NB_ERR_NULL, "a NULL trainer on one rank: %s", nb_status_str(s));

    /* ranks at different positions (the last rank resumes a fresh trainer, the others one that
       has run 1 of 3 epochs): NB_ERR_ARG on every rank, before any step */
    nb_trainer *t1 = NULL, *fresh = NULL;
    nb_trainer_create(&t1, net);
    nb_trainer_create(&fresh, net);
    nb_train_opts o1b = o;
    o1b.epochs = 1; /* (epochs is not part of the record: the run may go on to 3) */
    s = nb_mpi_trainer_run(t1, MPI_COMM_WORLD, &x, &t, &o1b, &rep);
    CHECK(s == NB_OK && rep.epochs_run == 1, "1 epoch: %s", nb_status_str(s));
    nb_train_opts o2 = o;
    o2.resume = true;
    if (size > 1) {
        s = nb_mpi_trainer_run(rank == size - 1 ? fresh : t1, MPI_COMM_WORLD, &x, &t, &o2, NULL);
        CHECK(s == NB_ERR_ARG, "different positions: %s", nb_status_str(s));
    }
    /* the trainer is usable after MPI runs: one process saves and continues it */
    nb_model mt = {.net = net, .loss = o.loss};
    void *bytes = NULL;
    size_t n = 0;
    CHECK(nb_checkpoint_save_mem(&bytes, &n, t1, &mt, NULL) == NB_OK, "save after MPI");
    free(bytes);
    s = nb_trainer_run(t1, &x, &t, &o2, &rep);
    CHECK(s == NB_OK && rep.epochs_run == 3, "one process after MPI: %s, %zu epochs",
          nb_status_str(s), rep.epochs_run);
    nb_trainer_free(t1);
    nb_trainer_free(fresh);
    nb_trainer_free(sv.tr);
    nb_net_free(net);
}

int main(int argc, char **argv)
{
    mpi_check_init(&argc, &argv);
    make_data();
    /* one file for the run, named by rank 0 */
    unsigned long id = (unsigned long)getpid();
    MPI_Bcast(&id, 1, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
    snprintf(path, sizeof path, "/tmp/nablas-mpi-ckpt-%lu.nbm", id);

    nb_optim_opts momentum = nb_optim_opts_default(NB_OPTIM_SGD);
    momentum.momentum = 0.9;
    nb_optim_opts adam = nb_optim_opts_default(NB_OPTIM_ADAM);
    nb_schedule cosine = nb_schedule_default(NB_SCHED_COSINE);
    cosine.warmup_steps = 3;
    cosine.total_steps = (N + M) * ((ROWS + 7) / 8); /* the whole run's, not the first N's */
    resume_case("sgd", NULL, NULL, 0.0, false, 0.0f, 0);
    resume_case("sgd shuffled, dropout", NULL, NULL, 0.0, true, 0.3f, 0);
    resume_case("momentum", &momentum, NULL, 0.0, true, 0.0f, 0);
    resume_case("adam, cosine, clipping", &adam, &cosine, 0.5, true, 0.0f, 0);
    nb_optim_opts fast = adam; /* a rate at which the validation loss turns within the run */
    fast.lr = 0.04; /* patience 2 stops at epoch 5 or 6 of 7 (and does so from 0.03 to 0.05) */
    resume_case("adam, early stopping", &fast, NULL, 0.0, true, 0.0f, 2);
    errors();
    if (rank == 0)
        remove(path);

    int any = mpi_check_any_failed();
    if (rank == 0)
        printf("mpi checkpoints, %d rank(s): %s\n", size, any ? "FAILED" : "all checks passed");
    MPI_Finalize();
    return any != 0;
}
