// A small persistent thread pool for the kernels' parallel loops. A decoding pass runs ~60 short
// parallel loops (every matrix product and attention of every layer); waking sleeping threads for each
// costs more than the work on a 2-core machine, so workers spin for a while after a job before sleeping.
#include "ckernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 64
#define SPIN_ROUNDS 4000  /* ~ 50 microseconds of pause before sleeping (or yielding, for the caller) */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int threads = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t callers = PTHREAD_MUTEX_INITIALIZER;  /* one job at a time: callers queue here */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

/* The current job. Its fields are published by the release store of `claim`; an index is claimed by a
   compare-and-swap on `claim`, which holds (job number << 32) | next index, so a worker that is late from
   an earlier job can never claim (or count) an index of the next one: its swap fails once the job
   number has changed, and it rereads the new job's fields. Before a caller changes the fields it closes
   the claim word (new job number, index CLOSED); a worker that read the new `job_count` (acquire) then
   also sees the closed word, so it cannot pair a stale index of the old job with the new job's count
   and claim an index that does not exist (which ran a task twice and let its caller return early). */
#define CLOSED 0xffffffffULL
static _Atomic(zipar_task) job_task;
static _Atomic(void *) job_context;
static atomic_llong job_count;
static uint32_t job_number;      /* the caller's (under `callers`) */
static atomic_ullong claim;
static atomic_long generation;   /* bumped for each job: wakes the workers */
static atomic_llong finished;    /* indices done in this job */

static void run_indices(void) {
    unsigned long long v = atomic_load_explicit(&claim, memory_order_acquire);
    for (;;) {
        long long i = (long long)(v & 0xffffffffu);
        if (i >= atomic_load_explicit(&job_count, memory_order_acquire)) return;
        if (!atomic_compare_exchange_weak_explicit(&claim, &v, v + 1, memory_order_acq_rel, memory_order_acquire))
            continue;  /* v now holds the current word, perhaps of a newer job */
        zipar_task task = atomic_load_explicit(&job_task, memory_order_relaxed);
        task(atomic_load_explicit(&job_context, memory_order_relaxed), i);
        atomic_fetch_add_explicit(&finished, 1, memory_order_release);
        v = atomic_load_explicit(&claim, memory_order_acquire);
    }
}

static void *worker(void *arg) {
    (void)arg;
    long seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&generation, memory_order_acquire) == seen) {
            if (++spins < SPIN_ROUNDS) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&lock);
            while (atomic_load_explicit(&generation, memory_order_acquire) == seen) pthread_cond_wait(&wake, &lock);
            pthread_mutex_unlock(&lock);
        }
        seen = atomic_load_explicit(&generation, memory_order_acquire);
        run_indices();
    }
    return 0;
}

static void start(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
    for (int t = 1; t < threads; t++) {
        pthread_t id;
        if (pthread_create(&id, 0, worker, 0) != 0) { threads = t; break; }
        pthread_detach(id);
    }
}

int zipar_pool_threads(void) {
    pthread_once(&once, start);
    return threads;
}

void zipar_parallel_for(int64_t count, zipar_task task, void *context) {
    pthread_once(&once, start);
    if (count <= 0) return;
    if (threads == 1 || count == 1 || count >= (long long)CLOSED) {
        for (int64_t i = 0; i < count; i++) task(context, i);
        return;
    }
    pthread_mutex_lock(&callers);
    job_number++;
    atomic_store_explicit(&claim, ((unsigned long long)job_number << 32) | CLOSED, memory_order_relaxed);
    atomic_store_explicit(&job_task, task, memory_order_relaxed);
    atomic_store_explicit(&job_context, context, memory_order_relaxed);
    atomic_store_explicit(&job_count, count, memory_order_release);  /* after the closed word */
    atomic_store_explicit(&finished, 0, memory_order_relaxed);
    atomic_store_explicit(&claim, (unsigned long long)job_number << 32, memory_order_release);  /* publishes the job */
    pthread_mutex_lock(&lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    run_indices();
    for (int spins = 0; atomic_load_explicit(&finished, memory_order_acquire) < count; spins++) {
        if (spins < SPIN_ROUNDS) CPU_RELAX(); else sched_yield();  /* a worker may be descheduled */
    }
    pthread_mutex_unlock(&callers);
}
