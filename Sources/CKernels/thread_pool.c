/* A small pool of persistent worker threads for fine-grained parallel loops (the quantized products:
   a decode step makes about 25 of them, each tens of microseconds long, where a GCD dispatch would
   cost as much as the work). The caller runs part 0 itself; workers wait for the next call by
   spinning for a while (about 0.1 ms), then sleep on a condition variable. One call at a time: a
   call that finds the pool busy (another thread's call) runs its parts on the caller. */
#include "ckernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <immintrin.h>

#define MAX_WORKERS 63
#define SPINS 4000        /* pause loops before a worker sleeps (a pause is ~20-70 cycles) */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_int busy;              /* a call is running */
static atomic_uint generation;       /* incremented by every call */
static atomic_int sleepers;          /* workers waiting on `wake` */
static atomic_int remaining;         /* workers that have not yet finished the current call */
static int started;                  /* workers running (guarded by `lock`) */
static unsigned first_generation[MAX_WORKERS];   /* the generation before a worker's first call */
static ck_task job_fn;
static void *job_context;
static int job_parts;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

/* Every worker acknowledges every call (participating or not), so the caller never rewrites the job
   while a worker may still read it. */
static void *worker(void *arg) {
    int index = (int)(long)arg;   /* runs part index + 1 */
    unsigned seen = first_generation[index], now;
    for (;;) {
        int spins = 0;
        while ((now = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < SPINS) { cpu_relax(); continue; }
            pthread_mutex_lock(&lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&lock);
            spins = 0;
        }
        seen = now;
        int parts = job_parts;
        if (index + 1 < parts) job_fn(job_context, index + 1, parts);
        atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
    }
    return NULL;
}

/* Starts workers until `count` run; returns how many do. */
static int ensure_workers(int count) {
    if (count > MAX_WORKERS) count = MAX_WORKERS;
    pthread_mutex_lock(&lock);
    while (started < count) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        first_generation[started] = atomic_load(&generation);
        int failed = pthread_create(&thread, &attributes, worker, (void *)(long)started);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        started++;
    }
    int running = started;
    pthread_mutex_unlock(&lock);
    return running;
}

void ck_parallel(int parts, ck_task fn, void *context) {
    if (parts <= 1) { if (parts == 1) fn(context, 0, 1); return; }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (int part = 0; part < parts; part++) fn(context, part, parts);
        return;
    }
    int workers = ensure_workers(parts - 1);
    if (workers < parts - 1) parts = workers + 1;   /* a thread could not start: fewer, larger parts */
    job_fn = fn;
    job_context = context;
    job_parts = parts;
    atomic_store(&remaining, workers);
    atomic_fetch_add(&generation, 1);              /* publishes the job (sequentially consistent) */
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    fn(context, 0, parts);
    int spins = 0;
    while (atomic_load_explicit(&remaining, memory_order_acquire) > 0) {
        if (++spins < SPINS) cpu_relax();
        else sched_yield();
    }
    atomic_store(&busy, 0);
}
