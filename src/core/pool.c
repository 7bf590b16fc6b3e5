/* The thread pool (core/pool.h).  A run is published in one atomic word; a worker that
   finished recently is still spinning on it and starts within a few hundred nanoseconds (a
   training step of a small network lasts tens of microseconds, a condition-variable round trip
   costs about as much); one idle for longer sleeps on a condition variable and is woken by a
   broadcast.  The caller waits for the last part the same way.  No allocation after the
   workers exist. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "core/pool.h"
#include "core/threads.h"
#include "nablas/threads.h"

/* How long a worker (or a waiting caller) spins before it sleeps: a few steps of a small
   network, so that consecutive steps never pay a wake-up (about 50 us on our VM, whose idle
   vCPU halts), while an idle pool costs at most this much CPU per run.  The caller's wait only
   pauses: with sched_yield in it, a caller on a busy machine handed its core to other
   processes for whole time slices (W2's split epochs took 2.7-5.6 ms with it and 1.5-1.9 ms
   without, at a load of 8-9 on 2 cores).  A worker's spin does yield (spin_new_run). */
#define NB_POOL_SPIN_NS 100000L

/* A run's state in one word: run number (bits 16 on), parts (bits 8-15) and the next part
   not yet claimed (bits 0-7).  Whoever claims part k (compare-and-swap of next) runs it, the
   caller included: a worker the scheduler has not given a core yet leaves its part to the
   others instead of holding up the step.  Results depend on k only. */
#define PARTS(s) ((int)(((s) >> 8) & 0xff))
#define NEXT(s) ((int)((s) & 0xff))

/* A run is late when the caller, once its own part is done, waits longer than 1.5 times that
   part plus 5 us: the workers had no core (a busy machine).  Two late runs in a row and the
   next `backoff` runs (64, doubling up to 8192 while it goes on) take their parts on the
   caller alone: the same parts, so the same results, at the cost of one thread instead of
   waiting for threads the machine does not give. */
#define LATE_SLACK_NS 5000LL
enum { BACKOFF_MIN = 64, BACKOFF_MAX = 8192 };

typedef struct worker {
    int index;
    uint64_t run0; /* the run number when it was made */
    pthread_t tid;
} worker;

static struct {
    pthread_mutex_t run_mu; /* held across a run, a resize and fork() */
    pthread_mutex_t sleep_mu;
    pthread_cond_t wake; /* sleeping workers */
    pthread_cond_t done; /* a sleeping caller */
    int n_workers;       /* under run_mu */
    /* the run: written before state is published, read only by whoever claimed a part of
       it (the caller rewrites them only once every part has finished) */
    nb__pool_fn fn;
    void *ctx;
    _Alignas(64) _Atomic uint64_t state;
    _Alignas(64) atomic_int finished; /* parts of the run finished */
    atomic_int sleepers;              /* workers about to sleep or sleeping */
    atomic_bool caller_sleeps;
    atomic_int keep; /* workers with index >= keep exit */
    /* Late workers (under run_mu): late runs in a row, runs still to take on the caller alone,
       and how many the next back-off takes (see nb__pool_run). */
    int late;
    long serial_left, backoff;
    worker w[NB_POOL_MAX - 1];
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
       PTHREAD_COND_INITIALIZER, 0, NULL, NULL, 0, 0, 0, false, NB_POOL_MAX, 0, 0,
       BACKOFF_MIN, {{0}}};

static _Thread_local bool inside;

bool nb__pool_inside(void) { return inside; }

void nb__pool_range(size_t n, size_t block, int k, int parts, size_t *lo, size_t *hi)
{
    size_t blocks = (n + block - 1) / block, q = blocks / (size_t)parts, r = blocks % (size_t)parts;
    size_t uk = (size_t)k, b0 = uk * q + (uk < r ? uk : r), b1 = b0 + q + (uk < r);
    *lo = b0 * block < n ? b0 * block : n;
    *hi = b1 * block < n ? b1 * block : n;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Spins until the run number differs from run's (true) or the spin budget is spent.  Now and
   then the worker offers its core to any other thread that waits for one: on a busy machine
   that may be the caller itself, whose work between steps a spinning worker would slow. */
static bool spin_new_run(uint64_t run)
{
    long long end = 0;
    for (unsigned i = 1;; i++) {
        if ((atomic_load_explicit(&P.state, memory_order_acquire) >> 16) != run)
            return true;
        cpu_relax();
        if (i % 64 == 0) { /* the clock (vDSO, ~20 ns) only now and then */
            sched_yield();
            long long t = now_ns();
            if (end == 0)
                end = t + NB_POOL_SPIN_NS;
            else if (t > end)
                return false;
        }
    }
}

static bool spin_finished(int parts)
{
    long long end = 0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&P.finished, memory_order_acquire) == parts)
            return true;
        cpu_relax();
        if (i % 64 == 0) {
            long long t = now_ns();
            if (end == 0)
                end = t + NB_POOL_SPIN_NS;
            else if (t > end)
                return false;
        }
    }
}

/* Claims and runs parts of run `run` until none is left. */
static void claim_parts(uint64_t run, bool worker)
{
    uint64_t s = atomic_load_explicit(&P.state, memory_order_acquire);
    for (;;) {
        if ((s >> 16) != run || NEXT(s) >= PARTS(s))
            return;
        if (!atomic_compare_exchange_weak_explicit(&P.state, &s, s + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* s reloaded */
        P.fn(P.ctx, NEXT(s), PARTS(s));
        int parts = PARTS(s);
        /* the last part out wakes a sleeping caller (the handshake of worker_main) */
        if (atomic_fetch_add(&P.finished, 1) + 1 == parts && worker
            && atomic_load(&P.caller_sleeps)) {
            pthread_mutex_lock(&P.sleep_mu);
            pthread_cond_broadcast(&P.done);
            pthread_mutex_unlock(&P.sleep_mu);
        }
        s = atomic_load_explicit(&P.state, memory_order_acquire);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    uint64_t run = w->run0;
    inside = true; /* a worker only ever runs parts */
    for (;;) {
        if (!spin_new_run(run)) {
            /* Sleep.  sleepers is raised before the state is read again, and the caller
               publishes a run before it reads sleepers (both sequentially consistent): either
               this thread sees the run or the caller sees a sleeper and broadcasts, which it
               can do only once this thread waits (it holds sleep_mu until then). */
            pthread_mutex_lock(&P.sleep_mu);
            atomic_fetch_add(&P.sleepers, 1);
            while ((atomic_load(&P.state) >> 16) == run)
                pthread_cond_wait(&P.wake, &P.sleep_mu);
            atomic_fetch_sub(&P.sleepers, 1);
            pthread_mutex_unlock(&P.sleep_mu);
        }
        run = atomic_load_explicit(&P.state, memory_order_acquire) >> 16;
        if (w->index >= atomic_load(&P.keep))
            return NULL;
        claim_parts(run, true);
    }
}

static void wake_sleepers(void)
{
    if (atomic_load(&P.sleepers) > 0) {
        pthread_mutex_lock(&P.sleep_mu);
        pthread_cond_broadcast(&P.wake);
        pthread_mutex_unlock(&P.sleep_mu);
    }
}

/* fork(): the child has only the forking thread, so it forgets the workers (it makes new
   ones when it needs them); the parent's state is consistent because fork waits for any run
   (prepare takes run_mu). */
static void fork_prepare(void) { pthread_mutex_lock(&P.run_mu); }
static void fork_parent(void) { pthread_mutex_unlock(&P.run_mu); }
static void fork_child(void)
{
    pthread_mutex_init(&P.sleep_mu, NULL);
    pthread_cond_init(&P.wake, NULL);
    pthread_cond_init(&P.done, NULL);
    P.n_workers = 0;
    atomic_store(&P.sleepers, 0);
    atomic_store(&P.caller_sleeps, false);
    P.late = 0;
    P.serial_left = 0;
    P.backoff = BACKOFF_MIN;
    pthread_mutex_unlock(&P.run_mu);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* Under run_mu: grows the pool to n workers (as many as can be made). */
static void grow(int n)
{
    pthread_once(&atfork_once, register_atfork);
    n = n > NB_POOL_MAX - 1 ? NB_POOL_MAX - 1 : n;
    sigset_t all, old; /* workers take no signals: they belong to the caller's threads */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    atomic_store(&P.keep, NB_POOL_MAX);
    while (P.n_workers < n) {
        worker *w = &P.w[P.n_workers];
        w->index = P.n_workers;
        w->run0 = atomic_load(&P.state) >> 16;
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0)
            break;
        P.n_workers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Under run_mu: joins the workers from index n on (woken by an empty run). */
static void shrink(int n)
{
    n = n < 0 ? 0 : n;
    if (P.n_workers <= n)
        return;
    atomic_store(&P.keep, n);
    uint64_t s = atomic_load(&P.state);
    atomic_store(&P.state, ((s >> 16) + 1) << 16); /* a run of no parts */
    wake_sleepers();
    for (int i = n; i < P.n_workers; i++)
        pthread_join(P.w[i].tid, NULL);
    P.n_workers = n;
    atomic_store(&P.keep, NB_POOL_MAX);
}

int nb__pool_reserve(int parts)
{
    if (parts <= 1)
        return 1;
    parts = parts < nb_get_threads() ? parts : nb_get_threads();
    pthread_mutex_lock(&P.run_mu);
    if (P.n_workers < parts - 1)
        grow(parts - 1);
    int n = P.n_workers + 1;
    pthread_mutex_unlock(&P.run_mu);
    return n < parts ? n : parts;
}

void nb__pool_resize(int threads)
{
    pthread_mutex_lock(&P.run_mu);
    shrink(threads - 1);
    pthread_mutex_unlock(&P.run_mu);
}

/* The library unloaded, or the process exiting: the workers must not outlive its code.  A
   run still in flight (exit() from a signal handler or another thread mid-step) keeps them:
   waiting for it could deadlock, and the process is ending anyway. */
__attribute__((destructor)) static void pool_fini(void)
{
    if (pthread_mutex_trylock(&P.run_mu) != 0)
        return;
    shrink(0);
    pthread_mutex_unlock(&P.run_mu);
}

static void run_serial(nb__pool_fn fn, void *ctx, int parts)
{
    bool was = inside;
    if (!was)
        nb__blas_threads_one(); /* as in a pool run: the parts' products on one thread */
    inside = true;
    for (int k = 0; k < parts; k++)
        fn(ctx, k, parts);
    inside = was;
}

void nb__pool_run(nb__pool_fn fn, void *ctx, int parts)
{
    if (parts <= 1 || inside || parts > NB_POOL_MAX || pthread_mutex_trylock(&P.run_mu) != 0) {
        run_serial(fn, ctx, parts);
        return;
    }
    if (P.serial_left > 0) { /* backing off from late workers */
        P.serial_left--;
        pthread_mutex_unlock(&P.run_mu);
        run_serial(fn, ctx, parts);
        return;
    }
    int want = parts < nb_get_threads() ? parts : nb_get_threads();
    if (P.n_workers < want - 1) /* not reserved: created now, once */
        grow(want - 1);
    nb__blas_threads_one(); /* before any part runs: their products stay on one thread */
    P.fn = fn;
    P.ctx = ctx;
    atomic_store_explicit(&P.finished, 0, memory_order_relaxed);
    uint64_t run = (atomic_load(&P.state) >> 16) + 1;
    /* part 0 is the caller's: published as already claimed */
    atomic_store(&P.state, run << 16 | (uint64_t)parts << 8 | 1u); /* sequentially consistent */
    wake_sleepers();
    inside = true;
    long long t0 = now_ns();
    fn(ctx, 0, parts);
    long long t1 = now_ns();
    atomic_fetch_add(&P.finished, 1);
    claim_parts(run, false); /* whatever no worker has started yet */
    inside = false;
    if (!spin_finished(parts)) {
        pthread_mutex_lock(&P.sleep_mu);
        atomic_store(&P.caller_sleeps, true);
        while (atomic_load(&P.finished) != parts)
            pthread_cond_wait(&P.done, &P.sleep_mu);
        atomic_store(&P.caller_sleeps, false);
        pthread_mutex_unlock(&P.sleep_mu);
    }
    long long own = t1 - t0, after = now_ns() - t1;
    if (after > own + own / 2 + LATE_SLACK_NS) {
        if (++P.late >= 2) {
            P.late = 0;
            P.serial_left = P.backoff;
            P.backoff = P.backoff * 2 < BACKOFF_MAX ? P.backoff * 2 : BACKOFF_MAX;
        }
    } else {
        P.late = 0;
        if (P.backoff > BACKOFF_MIN) /* on time again: the back-off shrinks slowly */
            P.backoff -= P.backoff / 16 > 0 ? P.backoff / 16 : 1;
    }
    pthread_mutex_unlock(&P.run_mu);
}
