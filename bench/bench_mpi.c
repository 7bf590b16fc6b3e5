/* nablas-bench-mpi: data-parallel training on one host, run as
       mpirun --allow-run-as-root --oversubscribe -np 2 nablas-bench-mpi [options]
   For W2 and W3 (docs/performance.md) it alternates, round by round in the same run:
     1x2      rank 0 alone trains the whole batch with nb_net_train on 2 BLAS threads (the
              other ranks sleep, polling a barrier every millisecond, leaving the cores free);
     flat     every rank trains its slice on 1 BLAS thread (nb_mpi_train): the gradients are
              summed after backward in one MPI_Allreduce over the whole buffer (the default);
     pieces   the same in pieces of 256 Ki floats (1 MiB);
     overlap  one MPI_Iallreduce per layer, started as backward writes it, waited for before
              the update;
   and prints the median time per epoch of each, its ratio to 1x2, and the time spent inside
   nablas' MPI calls (MPI_Allreduce, MPI_Iallreduce, MPI_Testall, MPI_Wait*: transfer,
   reduction and waiting for the slowest rank) as a share of the epoch, measured through MPI's
   profiling interface (PMPI). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "mpi/train_mpi.h"
#include "nablas/mpi.h"
#include "workloads.h"

/* ---- PMPI: time inside the collectives nablas calls ---------------------------------------- */

static double t_coll; /* seconds inside the MPI calls of a step: MPI_Allreduce, MPI_Iallreduce,
                         MPI_Testall, MPI_Wait* (transfer, reduction, waiting for the others) */
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

int MPI_Iallreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                   MPI_Comm comm, MPI_Request *req)
{
    double t = MPI_Wtime();
    int rc = PMPI_Iallreduce(sbuf, rbuf, count, type, op, comm, req);
    t_coll += MPI_Wtime() - t;
    return rc;
}

int MPI_Testall(int n, MPI_Request reqs[], int *flag, MPI_Status sts[])
{
    double t = MPI_Wtime();
    int rc = PMPI_Testall(n, reqs, flag, sts);
    t_coll += MPI_Wtime() - t;
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
          "  each (nb_mpi_train: gradients summed after backward in one call or in 1 MiB pieces,\n"
          "  or per layer overlapped with backward) and prints each one's epoch time, its ratio\n"
          "  to the first, and the share of the epoch spent in nablas' MPI calls.\n"
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
    double coll_last, *shares; /* t_coll at the last epoch's end; share of each epoch in MPI */
} clock_rec;

static int on_epoch(const nb_epoch_info *info, void *user)
{
    clock_rec *c = user;
    double now = bu_now();
    c->times[info->epoch - 1] = now - c->last;
    c->shares[info->epoch - 1] = (t_coll - c->coll_last) / (now - c->last);
    c->last = now;
    c->coll_last = t_coll;
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

typedef struct variant {
    const char *name;
    bool distributed;
    nb__mpi_cfg cfg;
} variant;

static const variant variants[] = {
    {"1x2", false, {.overlap = false, .bucket = 0}},
    {"flat", true, {.overlap = false, .bucket = 0}},
    {"pieces", true, {.overlap = false, .bucket = 262144}},
    {"overlap", true, {.overlap = true, .bucket = 0}},
};
enum { N_VARIANTS = sizeof variants / sizeof *variants, MAX_ROUNDS = 16 };

/* One variant, one round: median seconds per timed epoch; *share gets the median share of an
   epoch spent inside the collectives (largest over ranks). */
static double run_variant(bw_workload *w, const variant *v, size_t epochs, double *share)
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
    double times[64], shares[64];
    clock_rec c = {bu_now(), times, 0, shares};
    o.user = &c;
    double med = 0.0, per = 0.0;
    MPI_Barrier(MPI_COMM_WORLD);
    t_coll = 0;
    if (v->distributed) {
        nb_set_threads(1);
        c.last = bu_now();
        c.coll_last = t_coll;
        if (nb__mpi_train_cfg(net, MPI_COMM_WORLD, &X, &T, w->rows, false, &o, NULL, &v->cfg) !=
                NB_OK && rank == 0)
            fprintf(stderr, "nb_mpi_train failed\n");
        /* medians over the epochs: a rank the shared machine put aside for a while makes its
           peers wait in MPI for that epoch only */
        per = bu_median(shares + 1, epochs);
        med = bu_median(times + 1, epochs);
    } else if (rank == 0) {
        nb_set_threads(2);
        c.last = bu_now();
        nb_net_train(net, &X, &T, &o, NULL);
        med = bu_median(times + 1, epochs);
    }
    if (!v->distributed)
        idle_barrier();
    nb_net_free(net);
    double all = 0;
    PMPI_Allreduce(&per, &all, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    *share = all;
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
        printf("ranks %d; 1x2 = rank 0 alone on 2 BLAS threads; the others: %d ranks on 1 thread "
               "each\n(ratio: time per epoch / 1x2's; in MPI: share of the epoch inside "
               "nablas' MPI calls)\n\n", size, size);
        printf("%-4s %-6s", "", "round");
        for (size_t k = 0; k < N_VARIANTS; k++)
            printf(" %10s", variants[k].name);
        printf("   (s/epoch)");
        for (size_t k = 1; k < N_VARIANTS; k++)
            printf(" %8s", variants[k].name);
        printf("   (ratio)");
        for (size_t k = 1; k < N_VARIANTS; k++)
            printf(" %8s", variants[k].name);
        printf("   (in MPI)\n");
    }
    for (size_t i = 0; i < BW_COUNT; i++) {
        bw_workload w = bw_get(i);
        if (!bu_in_list(o.workloads, w.name))
            continue;
        bw_generate(&w);
        size_t epochs = o.epochs ? o.epochs : !strcmp(w.name, "W3") ? 2 : 20;
        if (epochs > 63)
            epochs = 63;
        double t[N_VARIANTS][MAX_ROUNDS], sh[N_VARIANTS][MAX_ROUNDS];
        size_t rounds = o.rounds < MAX_ROUNDS ? o.rounds : MAX_ROUNDS;
        for (size_t r = 0; r < rounds; r++) { /* alternate, so that drifting load hits all */
            for (size_t k = 0; k < N_VARIANTS; k++)
                t[k][r] = run_variant(&w, &variants[k], epochs, &sh[k][r]);
            if (rank == 0) {
                printf("%-4s %-6zu", w.name, r + 1);
                for (size_t k = 0; k < N_VARIANTS; k++)
                    printf(" %10.4f", t[k][r]);
                printf("            ");
                for (size_t k = 1; k < N_VARIANTS; k++)
                    printf(" %8.3f", t[k][r] / t[0][r]);
                printf("          ");
                for (size_t k = 1; k < N_VARIANTS; k++)
                    printf(" %7.1f%%", 100.0 * sh[k][r]);
                printf("\n");
            }
        }
        double med[N_VARIANTS], msh[N_VARIANTS];
        for (size_t k = 0; k < N_VARIANTS; k++) {
            double ratio[MAX_ROUNDS];
            for (size_t r = 0; r < rounds; r++)
                ratio[r] = t[k][r] / t[0][r]; /* within a round: the load drifts between rounds */
            med[k] = bu_median(ratio, rounds);
            msh[k] = bu_median(sh[k], rounds);
        }
        if (rank == 0) {
            printf("%-4s %-6s %10.4f", w.name, "median", bu_median(t[0], rounds));
            for (size_t k = 1; k < N_VARIANTS; k++)
                printf(" %10s", "");
            printf("            ");
            for (size_t k = 1; k < N_VARIANTS; k++)
                printf(" %8.3f", med[k]);
            printf("          ");
            for (size_t k = 1; k < N_VARIANTS; k++)
                printf(" %7.1f%%", 100.0 * msh[k]);
            printf("\n\n");
        }
        bw_free(&w);
    }
    MPI_Finalize();
    return 0;
}
