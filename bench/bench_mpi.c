/* nablas-bench-mpi: data-parallel training on one host, run as
       mpirun --allow-run-as-root --oversubscribe -np 2 nablas-bench-mpi [options]
   Part 1 (--allreduce REPS): the gradient sum alone, W3's 1,863,690 floats (7.45 MB), each
   repetition started together on every rank (a barrier first, so no waiting is counted):
   memcpy and y += x of the same bytes (what the sum costs a CPU at least) beside
   MPI_Allreduce in place and from a separate buffer, under each of Open MPI's tuned
   algorithms, and MPI_Iallreduce + MPI_Wait under each of libnbc's.  Variants alternate
   within every repetition, so that drifting load hits them all.
   Part 2: for W2 and W3 (docs/performance.md) it alternates, round by round in the same run:
     1x2      rank 0 alone trains the whole batch with nb_net_train on 2 BLAS threads (the
              other ranks sleep, polling a barrier every millisecond, leaving the cores free);
     and P ranks on 1 BLAS thread each (nb_mpi_train) summing the gradients
     flat       in one MPI_Allreduce over the whole buffer after backward (the default);
     split      the same, after an MPI_Barrier timed apart: the barrier's time is the waiting
                for the slower rank, the allreduce's the sum itself;
     ring, rd, rab  split under Open MPI's tuned ring, recursive doubling and Rabenseifner
                algorithms (needs --mca coll_tuned_use_dynamic_rules 1; else skipped);
     4MiB, 1MiB split, in blocking pieces of that size;
     overlap    one MPI_Iallreduce per layer started as backward writes it (MPI_Testall only
                as each starts), waited for before the update;
     ovl+test   the same with MPI_Testall also between backward's products;
     ovl+ring   ovl+test under libnbc's ring algorithm;
   and prints the median time per epoch of each and its ratio to 1x2, and per step (medians
   over the timed steps, and 10% quantiles: the steps the load left alone) the step's time,
   the time inside nablas' MPI calls (MPI_Allreduce, MPI_Iallreduce, MPI_Testall, MPI_Wait*,
   timed through MPI's profiling interface, PMPI) and its share, split into waiting and sum
   where the variant allows.  Algorithms are switched through MPI_T control variables, which Open MPI
   reads when a communicator is created (nb_mpi_train duplicates the caller's). */
#define _GNU_SOURCE /* sched_getaffinity: is rank 0 bound to one core? */
#include <math.h>
#include <sched.h>
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
static double t_wait; /* split variants: seconds in the barrier before a gradient sum */
static bool split;
enum { SPLIT_MIN = 4096 }; /* floats: a gradient sum, not the loss and status */

/* Per step of the distributed variants: a step ends with the sum of the loss and the failure
   count (two doubles), the last collective of nablas' hook; from there to the next is one step
   (update, forward, backward, the gradient sum). */
enum { MAX_STEPS = 8192 };
static bool recording;
static size_t n_steps;
static double step_end, mpi_at_end, wait_at_end;
static double st_step[MAX_STEPS], st_mpi[MAX_STEPS], st_wait[MAX_STEPS];

static void step_done(void)
{
    double now = MPI_Wtime();
    if (recording && n_steps < MAX_STEPS) {
        st_step[n_steps] = now - step_end;
        st_mpi[n_steps] = t_coll + t_wait - mpi_at_end;
        st_wait[n_steps] = t_wait - wait_at_end;
        n_steps++;
    }
    step_end = now;
    mpi_at_end = t_coll + t_wait;
    wait_at_end = t_wait;
}

static void wait_apart(MPI_Comm comm)
{
    double t = MPI_Wtime();
    PMPI_Barrier(comm);
    t_wait += MPI_Wtime() - t;
}

int MPI_Allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
                  MPI_Comm comm)
{
    if (split && count >= SPLIT_MIN)
        wait_apart(comm);
    double t = MPI_Wtime();
    int rc = PMPI_Allreduce(sbuf, rbuf, count, type, op, comm);
    t_coll += MPI_Wtime() - t;
    if (count == 2 && type == MPI_DOUBLE)
        step_done();
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

/* ---- MPI_T: Open MPI's algorithm choices ---------------------------------------------------- */

static bool mpit_ok;

/* Sets the integer control variable `name`; false if it does not exist or cannot be set. */
static bool cvar_set(const char *name, int value)
{
    int idx, count;
    MPI_T_cvar_handle h;
    if (!mpit_ok || MPI_T_cvar_get_index(name, &idx) != MPI_SUCCESS ||
        MPI_T_cvar_handle_alloc(idx, NULL, &h, &count) != MPI_SUCCESS)
        return false;
    bool ok = count == 1 && MPI_T_cvar_write(h, &value) == MPI_SUCCESS;
    MPI_T_cvar_handle_free(&h);
    return ok;
}

static int cvar_get(const char *name)
{
    int idx, count, value = 0;
    MPI_T_cvar_handle h;
    if (!mpit_ok || MPI_T_cvar_get_index(name, &idx) != MPI_SUCCESS ||
        MPI_T_cvar_handle_alloc(idx, NULL, &h, &count) != MPI_SUCCESS)
        return 0;
    if (count != 1 || MPI_T_cvar_read(h, &value) != MPI_SUCCESS)
        value = 0;
    MPI_T_cvar_handle_free(&h);
    return value;
}

/* Open MPI's tuned algorithm for the communicators created from now on (0: its own choice);
   libnbc's for the non-blocking calls made from now on.  Only with dynamic rules on. */
static bool tuned_ok;
static bool set_algorithms(int tuned, int nbc)
{
    if (tuned && !tuned_ok)
        return false;
    bool a = !tuned_ok || cvar_set("coll_tuned_allreduce_algorithm", tuned);
    bool b = cvar_set("coll_libnbc_iallreduce_algorithm", nbc) || nbc == 0;
    return a && b;
}

/* ---- options ------------------------------------------------------------------------------- */

typedef struct options {
    const char *workloads, *variants;
    size_t rounds, epochs, reps, batch;
} options;

static int rank, size;

static void usage(FILE *f)
{
    fputs("usage: mpirun --bind-to none -np P nablas-bench-mpi [--workload W2,W3|none] [--rounds N] [--epochs N]\n"
          "                 [--variants LIST] [--allreduce REPS] [--batch N] [--quick]\n"
          "  --allreduce REPS  first time W3's gradient sum alone (MPI_Allreduce in place and\n"
          "     from a separate buffer, MPI_Iallreduce, each algorithm) beside memcpy (default\n"
          "     15 repetitions; 0: skip).\n"
          "  Then alternates rank 0 alone on 2 BLAS threads (nb_net_train) with P ranks on 1\n"
          "  thread each (nb_mpi_train) summing gradients in the variants of LIST (default all:\n"
          "  1x2,flat,split,ring,rd,rab,4MiB,1MiB,overlap,ovl+test,ovl+ring) and prints each\n"
          "  one's epoch time, its ratio to 1x2, and per step the share in nablas' MPI calls\n"
          "  (split variants: waiting for the slower rank + the sum itself).  ring, rd and rab\n"
          "  need `mpirun --mca coll_tuned_use_dynamic_rules 1`.\n"
          "  --rounds N   alternations (default 3); --epochs N  timed epochs per round after one\n"
          "  warm-up epoch (default: W2 20, W3 2); --batch N  global batch instead of the\n"
          "  workload's (the sum's share falls as the rows per rank grow); --quick  1 round,\n"
          "  fewer epochs, 3 repetitions.\n",
          f);
}

static int parse(int argc, char **argv, options *o)
{
    o->workloads = "W2,W3";
    o->variants = NULL;
    o->rounds = 3;
    o->epochs = 0;
    o->reps = 15;
    o->batch = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (rank == 0)
                usage(stdout);
            return 1;
        } else if (!strcmp(a, "--quick")) {
            o->rounds = 1;
            o->epochs = 1;
            o->reps = 3;
        } else if (v && !strcmp(a, "--workload")) {
            o->workloads = argv[++i];
        } else if (v && !strcmp(a, "--variants")) {
            o->variants = argv[++i];
        } else if (v && !strcmp(a, "--rounds") && atoi(v) > 0) {
            o->rounds = (size_t)atoi(argv[++i]);
        } else if (v && !strcmp(a, "--epochs") && atoi(v) > 0) {
            o->epochs = (size_t)atoi(argv[++i]);
        } else if (v && !strcmp(a, "--batch") && atoi(v) > 0) {
            o->batch = (size_t)atoi(argv[++i]);
        } else if (v && !strcmp(a, "--allreduce") && atoi(v) >= 0) {
            o->reps = (size_t)atoi(argv[++i]);
        } else {
            if (rank == 0)
                usage(stderr);
            return 2;
        }
    }
    return 0;
}

/* ---- part 1: the sum alone ------------------------------------------------------------------ */

enum { N_MICRO_MAX = 24, MAX_REPS = 64 };

typedef enum { M_MEMCPY, M_ADD, M_ALLREDUCE, M_IALLREDUCE } micro_kind;

typedef struct micro {
    char name[40];
    micro_kind kind;
    bool in_place;
    MPI_Comm comm; /* created under its algorithm */
    int nbc;       /* libnbc's algorithm for M_IALLREDUCE */
} micro;

static double micro_once(const micro *m, float *g, float *tmp, size_t n)
{
    PMPI_Barrier(MPI_COMM_WORLD); /* all start together: no waiting counted */
    if (m->kind == M_IALLREDUCE)
        cvar_set("coll_libnbc_iallreduce_algorithm", m->nbc);
    double t = MPI_Wtime();
    if (m->kind == M_MEMCPY) {
        memcpy(tmp, g, n * sizeof *g);
    } else if (m->kind == M_ADD) {
        for (size_t i = 0; i < n; i++)
            tmp[i] += g[i];
    } else if (m->kind == M_ALLREDUCE) {
        if (m->in_place)
            PMPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, m->comm);
        else
            PMPI_Allreduce(g, tmp, (int)n, MPI_FLOAT, MPI_SUM, m->comm);
    } else {
        MPI_Request req;
        PMPI_Iallreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, m->comm, &req);
        PMPI_Wait(&req, MPI_STATUS_IGNORE);
    }
    t = MPI_Wtime() - t;
    if (m->kind == M_IALLREDUCE)
        cvar_set("coll_libnbc_iallreduce_algorithm", 0);
    double slowest = 0;
    PMPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return slowest;
}

static void bench_allreduce(size_t n, size_t reps)
{
    static const struct { const char *name; int alg; } tuned[] = {
        {"basic linear", 1}, {"reduce+bcast", 2}, {"recursive doubling", 3},
        {"ring", 4}, {"segmented ring", 5}, {"Rabenseifner", 6},
    };
    static const struct { const char *name; int alg; } nbc[] = {
        {"ring", 1}, {"binomial", 2}, {"Rabenseifner", 3}, {"recursive doubling", 4},
    };
    micro m[N_MICRO_MAX];
    size_t k = 0;
    m[k++] = (micro){"memcpy", M_MEMCPY, false, MPI_COMM_NULL, 0};
    m[k++] = (micro){"y += x", M_ADD, false, MPI_COMM_NULL, 0};
    set_algorithms(0, 0);
    MPI_Comm dflt;
    MPI_Comm_dup(MPI_COMM_WORLD, &dflt);
    m[k++] = (micro){"Allreduce in place, default", M_ALLREDUCE, true, dflt, 0};
    m[k++] = (micro){"Allreduce 2 buffers, default", M_ALLREDUCE, false, dflt, 0};
    for (size_t a = 0; tuned_ok && a < sizeof tuned / sizeof *tuned; a++) {
        MPI_Comm c;
        set_algorithms(tuned[a].alg, 0);
        MPI_Comm_dup(MPI_COMM_WORLD, &c);
        m[k] = (micro){"", M_ALLREDUCE, true, c, 0};
        snprintf(m[k].name, sizeof m[k].name, "Allreduce in place, %s", tuned[a].name);
        k++;
        if (tuned[a].alg == 4 || tuned[a].alg == 6) {
            m[k] = (micro){"", M_ALLREDUCE, false, c, 0};
            snprintf(m[k].name, sizeof m[k].name, "Allreduce 2 buffers, %s", tuned[a].name);
            k++;
        }
    }
    set_algorithms(0, 0);
    m[k++] = (micro){"Iallreduce+Wait, default", M_IALLREDUCE, true, dflt, 0};
    for (size_t a = 0; mpit_ok && a < sizeof nbc / sizeof *nbc; a++) {
        m[k] = (micro){"", M_IALLREDUCE, true, dflt, nbc[a].alg};
        snprintf(m[k].name, sizeof m[k].name, "Iallreduce+Wait, %s", nbc[a].name);
        k++;
    }
    float *g = bu_alloc(n), *tmp = bu_alloc(n);
    bu_fill_uniform(g, n, 1, -1e-3f, 1e-3f);
    bu_fill_uniform(tmp, n, 2, -1e-3f, 1e-3f);
    static double t[N_MICRO_MAX][MAX_REPS];
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    for (size_t r = 0; r < reps + 1; r++) /* the first repetition warms up, untimed */
        for (size_t i = 0; i < k; i++) {
            double s = micro_once(&m[i], g, tmp, n);
            if (r)
                t[i][r - 1] = s;
        }
    double bytes = (double)n * sizeof(float), mc = 0;
    if (rank == 0) {
        printf("the gradient sum alone: %zu floats (%.2f MB) on %d ranks, median of %zu "
               "repetitions started together (time of the slowest rank)%s\n", n, bytes / 1e6, size, reps,
               tuned_ok ? "" : "; tuned algorithms: run with --mca coll_tuned_use_dynamic_rules 1");
        printf("  %-40s %9s %9s %12s %10s   (least: the undisturbed repetitions)\n", "",
               "least ms", "median ms", "GB/s of G", "x memcpy");
    }
    for (size_t i = 0; i < k; i++) {
        double med = bu_median(t[i], reps), least = t[i][0]; /* sorted by bu_median */
        if (i == 0)
            mc = least;
        if (rank == 0)
            printf("  %-40s %9.3f %9.3f %12.2f %10.2f\n", m[i].name, least * 1e3, med * 1e3,
                   bytes / least / 1e9, least / mc);
    }
    if (rank == 0)
        printf("\n");
    for (size_t i = 0; i < k; i++) /* each communicator once */
        if (m[i].comm != MPI_COMM_NULL && m[i].comm != dflt &&
            (i == 0 || m[i].comm != m[i - 1].comm))
            MPI_Comm_free(&m[i].comm);
    MPI_Comm_free(&dflt);
    free(g);
    free(tmp);
}

/* ---- part 2: training ---------------------------------------------------------------------- */

typedef struct clock_rec {
    double last, *times; /* seconds per epoch */
} clock_rec;

static int on_epoch(const nb_epoch_info *info, void *user)
{
    clock_rec *c = user;
    double now = bu_now();
    c->times[info->epoch - 1] = now - c->last;
    c->last = now;
    if (info->epoch == 1)
        n_steps = 0; /* the first epoch warms up */
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
    bool distributed, split;
    nb__mpi_cfg cfg;
    int tuned, nbc; /* Open MPI's algorithms (0: its own choice) */
} variant;

static const variant variants[] = {
    {"1x2", false, false, {false, 0, false}, 0, 0},
    {"flat", true, false, {false, 0, false}, 0, 0},
    {"split", true, true, {false, 0, false}, 0, 0},
    {"ring", true, true, {false, 0, false}, 4, 0},
    {"rd", true, true, {false, 0, false}, 3, 0},
    {"rab", true, true, {false, 0, false}, 6, 0},
    {"4MiB", true, true, {false, 1u << 20, false}, 0, 0},
    {"1MiB", true, true, {false, 1u << 18, false}, 0, 0},
    {"overlap", true, false, {true, 0, false}, 0, 0},
    {"ovl+test", true, false, {true, 0, true}, 0, 0},
    {"ovl+ring", true, false, {true, 0, true}, 0, 1},
};
enum { N_VARIANTS = sizeof variants / sizeof *variants, MAX_ROUNDS = 16 };

typedef struct result {
    double epoch;           /* median seconds per epoch */
    double step, mpi, wait; /* medians over the steps of seconds per step, in MPI, waiting */
    double step10, mpi10;   /* their 10% quantiles: the steps the load left alone */
} result;

/* The q quantile of v[0..n) (sorted in place). */
static double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    bu_median(v, n); /* sorts */
    return v[(size_t)(q * (double)(n - 1))];
}

/* One variant, one round. */
static result run_variant(bw_workload *w, const variant *v, size_t epochs)
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
    clock_rec c = {bu_now(), times};
    o.user = &c;
    double mine[6] = {0, 0, 0, 0, 0, 0};
    set_algorithms(v->tuned, v->nbc);
    MPI_Barrier(MPI_COMM_WORLD);
    t_coll = t_wait = 0;
    split = v->split;
    recording = v->distributed;
    n_steps = 0;
    if (v->distributed) {
        nb_set_threads(1);
        c.last = bu_now();
        if (nb__mpi_train_cfg(net, MPI_COMM_WORLD, &X, &T, w->rows, false, &o, NULL, &v->cfg) !=
                NB_OK && rank == 0)
            fprintf(stderr, "nb_mpi_train failed\n");
        /* medians over the epochs: a rank the shared machine put aside for a while makes its
           peers wait in MPI for that epoch only */
        mine[0] = bu_median(times + 1, epochs);
        mine[1] = bu_median(st_step, n_steps);
        mine[2] = bu_median(st_mpi, n_steps);
        mine[3] = bu_median(st_wait, n_steps);
        mine[4] = quantile(st_step, n_steps, 0.1);
        mine[5] = quantile(st_mpi, n_steps, 0.1);
    } else if (rank == 0) {
        nb_set_threads(2);
        c.last = bu_now();
        nb_net_train(net, &X, &T, &o, NULL);
        mine[0] = bu_median(times + 1, epochs);
        mine[1] = mine[4] = mine[0] / (double)((w->rows + w->batch - 1) / w->batch);
    }
    recording = false;
    split = false;
    set_algorithms(0, 0);
    if (!v->distributed)
        idle_barrier();
    nb_net_free(net);
    double sum[6]; /* the mean over the ranks (1x2: rank 0's) */
    PMPI_Allreduce(mine, sum, 6, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    double d = v->distributed ? size : 1;
    return (result){sum[0] / d, sum[1] / d, sum[2] / d, sum[3] / d, sum[4] / d, sum[5] / d};
}

static void print_row(const char *wl, const char *round, const variant *v, const result *r,
                      double ratio)
{
    printf("%-4s %-6s %-9s %9.4f %7.3f %8.3f", wl, round, v->name, r->epoch, ratio, 1e3 * r->step);
    if (!v->distributed) {
        printf("\n");
        return;
    }
    printf(" %8.3f %7.1f%% %8.3f %8.3f %7.1f%%", 1e3 * r->mpi, 100.0 * r->mpi / r->step,
           1e3 * r->step10, 1e3 * r->mpi10, 100.0 * r->mpi10 / r->step10);
    if (v->split)
        printf(" %8.3f %8.3f", 1e3 * r->wait, 1e3 * (r->mpi - r->wait));
    printf("\n");
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init(&argc, &argv);
    mpit_ok = MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) == MPI_SUCCESS;
    tuned_ok = cvar_get("coll_tuned_use_dynamic_rules") != 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    options o;
    int rc = parse(argc, argv, &o);
    if (rc) {
        if (mpit_ok)
            MPI_T_finalize();
        MPI_Finalize();
        return rc == 1 ? 0 : 2;
    }
    if (rank == 0)
        bu_print_header(stdout, "nablas-bench-mpi");
    if (o.reps) {
        bw_workload w3 = bw_get(2); /* W3's gradient: its parameter count */
        size_t n = 0, in = w3.inputs;
        for (size_t l = 0; l < w3.n_layers; l++) {
            n += in * w3.layers[l].units + w3.layers[l].units;
            in = w3.layers[l].units;
        }
        bench_allreduce(n, o.reps);
    }
    bool want[N_VARIANTS];
    for (size_t k = 0; k < N_VARIANTS; k++)
        want[k] = (k == 0 || bu_in_list(o.variants, variants[k].name)) &&
                  (variants[k].tuned == 0 || tuned_ok);
    if (rank == 0 && !tuned_ok)
        printf("(ring, rd, rab skipped: run with --mca coll_tuned_use_dynamic_rules 1)\n");
    if (rank == 0 && o.batch && strcmp(o.workloads, "none"))
        printf("global batch %zu rows instead of the workloads' own\n", o.batch);
    if (rank == 0 && strcmp(o.workloads, "none")) {
        /* mpirun binds each rank to one core by default (np <= 2): 1x2's two threads would share
           it, and 1x2 would be a one-thread run */
        cpu_set_t cpus;
        if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) < 2)
            printf("WARNING: rank 0 may run on %d core only, so 1x2 is really 1x1: run mpirun "
                   "with --bind-to none\n", CPU_COUNT(&cpus));
    }
    if (rank == 0 && strcmp(o.workloads, "none"))
        printf("ranks %d; 1x2 = rank 0 alone on 2 BLAS threads; the others: %d ranks on 1 thread "
               "each\nratio: median time per epoch / 1x2's in the same round; per step (medians "
               "over the timed steps; MPI columns: mean of the ranks' medians): its time, the "
               "time inside nablas' MPI calls and its share of the step; split variants: of "
               "which waiting for the slower rank, and the sum itself; p10: the 10%% quantiles "
               "of the step and of its MPI time (the steps the load left alone)\n\n"
               "%-4s %-6s %-9s %9s %7s %8s %8s %8s %8s %8s %8s %8s %8s\n", size, size, "",
               "round", "variant", "s/epoch", "ratio", "step ms", "MPI ms", "share", "p10 step",
               "p10 MPI", "share", "wait ms", "sum ms");
    for (size_t i = 0; i < BW_COUNT; i++) {
        bw_workload w = bw_get(i);
        if (!bu_in_list(o.workloads, w.name))
            continue;
        bw_generate(&w);
        if (o.batch)
            w.batch = o.batch;
        size_t epochs = o.epochs ? o.epochs : !strcmp(w.name, "W3") ? 2 : 20;
        if (epochs > 63)
            epochs = 63;
        static result res[N_VARIANTS][MAX_ROUNDS];
        size_t rounds = o.rounds < MAX_ROUNDS ? o.rounds : MAX_ROUNDS;
        for (size_t r = 0; r < rounds; r++) { /* alternate, so that drifting load hits all */
            char round[16];
            snprintf(round, sizeof round, "%zu", r + 1);
            for (size_t k = 0; k < N_VARIANTS; k++) {
                if (!want[k])
                    continue;
                res[k][r] = run_variant(&w, &variants[k], epochs);
                if (rank == 0)
                    print_row(w.name, round, &variants[k], &res[k][r],
                              res[k][r].epoch / res[0][r].epoch);
            }
        }
        for (size_t k = 0; k < N_VARIANTS && rank == 0; k++) {
            if (!want[k])
                continue;
            double ratio[MAX_ROUNDS], col[6][MAX_ROUNDS];
            for (size_t r = 0; r < rounds; r++) {
                ratio[r] = res[k][r].epoch / res[0][r].epoch; /* the load drifts between rounds */
                const result *x = &res[k][r];
                double v6[6] = {x->epoch, x->step, x->mpi, x->wait, x->step10, x->mpi10};
                for (size_t j = 0; j < 6; j++)
                    col[j][r] = v6[j];
            }
            result med = {bu_median(col[0], rounds), bu_median(col[1], rounds),
                          bu_median(col[2], rounds), bu_median(col[3], rounds),
                          bu_median(col[4], rounds), bu_median(col[5], rounds)};
            print_row(w.name, "median", &variants[k], &med, bu_median(ratio, rounds));
        }
        if (rank == 0)
            printf("\n");
        bw_free(&w);
    }
    if (mpit_ok)
        MPI_T_finalize();
    MPI_Finalize();
    return 0;
}
