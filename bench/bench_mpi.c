/* nablas-bench-mpi: data-parallel training on one host, run as
       mpirun --allow-run-as-root --oversubscribe -np 2 nablas-bench-mpi [options]
   For W2 and W3 (docs/performance.md) it alternates, round by round in the same run:
     1x2  rank 0 alone trains the whole batch with nb_net_train on 2 BLAS threads (the other
          ranks sleep, polling a barrier every millisecond so that they leave the cores free);
     Px1  every rank trains its slice with nb_mpi_train on 1 BLAS thread;
   and prints the median time per epoch of each, their ratio, and for Px1 the time spent inside
   MPI_Allreduce (transfer, reduction and waiting for the slowest rank) as a share of the
   epoch, measured through MPI's profiling interface (PMPI) around nablas' own calls. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "nablas/mpi.h"
#include "workloads.h"

/* ---- PMPI: time inside the collectives nablas calls ---------------------------------------- */

static double t_coll;   /* seconds inside MPI_Allreduce / MPI_Wait* since the last reset */
static long n_coll;

int MPI_Allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                  MPI_Comm comm)
{
    double t = MPI_Wtime();
    int rc = PMPI_Allreduce(sbuf, rbuf, count, type, op, comm);
    t_coll += MPI_Wtime() - t;
    n_coll++;
    return rc;
}

int MPI_Wait(MPI_Request *req, MPI_Status *st)
{
    double t = MPI_Wtime();
    int rc = PMPI_Wait(req, st);
    t_coll += MPI_Wtime() - t;
    return rc;
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status sts[])
{
    double t = MPI_Wtime();
    int rc = PMPI_Waitall(n, reqs, sts);
    t_coll += MPI_Wtime() - t;
    return rc;
}

/* ---- options ------------------------------------------------------------------------------- */

typedef struct options {
    const char *workloads;
    size_t rounds, epochs;
} options;

static int rank, size;

static void usage(FILE *f)
{
    fputs("usage: mpirun -np P nablas-bench-mpi [--workload W2,W3] [--rounds N] [--epochs N]\n"
          "                                      [--quick]\n"
          "  Alternates rank 0 alone on 2 BLAS threads (nb_net_train) with P ranks on 1 thread\n"
          "  each (nb_mpi_train) and prints the median epoch time of each, their ratio, and the\n"
          "  share of the epoch spent in MPI_Allreduce (transfer, reduction and waiting).\n"
          "  --rounds N   alternations (default 3); --epochs N  timed epochs per round after one\n"
          "  warm-up epoch (default: W2 20, W3 2); --quick  1 round, fewer epochs.\n", f);
}

static int parse(int argc, char **argv, options *o)
{
    o->workloads = "W2,W3";
    o->rounds = 3;
    o->epochs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (rank == 0)
                usage(stdout);
            return 1;
        } else if (!strcmp(a, "--quick")) {
            o->rounds = 1;
            o->epochs = 1;
        } else if (v && !strcmp(a, "--workload")) {
            o->workloads = argv[++i];
        } else if (v && !strcmp(a, "--rounds") && atoi(v) > 0) {
            o->rounds = (size_t)atoi(argv[++i]);
        } else if (v && !strcmp(a, "--epochs") && atoi(v) > 0) {
            o->epochs = (size_t)atoi(argv[++i]);
        } else {
            if (rank == 0)
                usage(stderr);
            return 2;
        }
    }
    return 0;
}

/* ---- timing -------------------------------------------------------------------------------- */

typedef struct clock_rec {
    double last, *times; /* seconds per epoch */
    double coll_at_first; /* t_coll when the first (warm-up) epoch ended */
} clock_rec;

static int on_epoch(const nb_epoch_info *info, void *user)
{
    clock_rec *c = user;
    double now = bu_now();
    c->times[info->epoch - 1] = now - c->last;
    c->last = now;
    if (info->epoch == 1)
        c->coll_at_first = t_coll;
    return 0;
}

/* Sleeps until every rank reaches it, polling every millisecond (MPI_Barrier would spin). */
static void idle_barrier(void)
{
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    while (!done) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

/* One variant, one round: median seconds per timed epoch; *coll gets the share of the timed
   epochs spent inside the collectives (largest over ranks). */
static double run_variant(bw_workload *w, bool distributed, size_t epochs, double *coll)
{
    nb_net *net = NULL;
    nb_net_create(&net, w->inputs, w->layers, w->n_layers, 1);
    nb_tensor X = nb_tensor_view(w->X, w->rows, w->inputs);
    nb_tensor T = nb_tensor_view(w->T, w->rows, bw_outputs(w));
    nb_train_opts o = nb_train_opts_default();
    o.loss = w->loss;
    o.batch_size = w->batch;
    o.epochs = epochs + 1;
    o.lr = w->lr;
    o.shuffle = w->shuffle;
    o.on_epoch = on_epoch;
    double times[64];
    clock_rec c = {bu_now(), times, 0};
    o.user = &c;
    double med = 0.0, per = 0.0;
    MPI_Barrier(MPI_COMM_WORLD);
    t_coll = 0;
    if (distributed) {
        nb_set_threads(1);
        c.last = bu_now();
        if (nb_mpi_train(net, MPI_COMM_WORLD, &X, &T, &o, NULL) != NB_OK && rank == 0)
            fprintf(stderr, "nb_mpi_train failed\n");
        double total = 0;
        for (size_t e = 1; e <= epochs; e++)
            total += times[e];
        per = (t_coll - c.coll_at_first) / total; /* a share of the same epochs' time */
        med = bu_median(times + 1, epochs);
    } else if (rank == 0) {
        nb_set_threads(2);
        c.last = bu_now();
        nb_net_train(net, &X, &T, &o, NULL);
        med = bu_median(times + 1, epochs);
    }
    if (!distributed)
        idle_barrier();
    nb_net_free(net);
    double all = 0;
    PMPI_Allreduce(&per, &all, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    *coll = all;
    PMPI_Bcast(&med, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    return med;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    options o;
    int rc = parse(argc, argv, &o);
    if (rc) {
        MPI_Finalize();
        return rc == 1 ? 0 : 2;
    }
    if (rank == 0) {
        bu_print_header(stdout, "nablas-bench-mpi");
        printf("ranks %d; 1x2 = rank 0 alone, 2 BLAS threads; %dx1 = %d ranks, 1 thread each\n\n",
               size, size, size);
        printf("%-4s %6s %12s %12s %9s %14s %10s\n", "", "round", "1x2 s/epoch", "Px1 s/epoch",
               "Px1/1x2", "allreduce s/ep", "share");
    }
    for (size_t i = 0; i < BW_COUNT; i++) {
        bw_workload w = bw_get(i);
        if (!bu_in_list(o.workloads, w.name))
            continue;
        bw_generate(&w);
        size_t epochs = o.epochs ? o.epochs : !strcmp(w.name, "W3") ? 2 : 20;
        if (epochs > 63)
            epochs = 63;
        double a[16], b[16], s[16];
        size_t rounds = o.rounds < 16 ? o.rounds : 16;
        for (size_t r = 0; r < rounds; r++) { /* alternate, so that drifting load hits both */
            double share = 0;
            a[r] = run_variant(&w, false, epochs, &share);
            b[r] = run_variant(&w, true, epochs, &share);
            s[r] = share;
            if (rank == 0)
                printf("%-4s %6zu %12.4f %12.4f %9.3f %14.4f %9.1f%%\n", w.name, r + 1, a[r], b[r],
                       b[r] / a[r], share * b[r], 100.0 * s[r]);
        }
        double ma = bu_median(a, rounds), mb = bu_median(b, rounds), ms = bu_median(s, rounds);
        if (rank == 0)
            printf("%-4s %6s %12.4f %12.4f %9.3f %14s %9.1f%%\n\n", w.name, "median", ma, mb,
                   mb / ma, "", 100.0 * ms);
        bw_free(&w);
    }
    MPI_Finalize();
    return 0;
}
