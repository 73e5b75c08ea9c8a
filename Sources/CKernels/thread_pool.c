/* A small pool of persistent worker threads for fine-grained parallel loops (the quantized products:
   a decode step makes about 25 of them, each tens of microseconds long, where a GCD dispatch would
   cost as much as the work). Parts are claimed, not assigned: the caller and every awake worker take
   the next unclaimed part until none is left, so a worker the scheduler has parked (a shared machine)
   delays nothing it has not started. Workers wait for the next call by spinning for a while (about
   0.1 ms), then sleep on a condition variable. One call at a time: a call that finds the pool busy
   (another thread's call) runs its parts on the caller. */
#include "ckernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <immintrin.h>

#define MAX_WORKERS 63
#define SPINS 4000        /* pause loops before a worker sleeps (a pause is ~20-70 cycles) */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_int busy;              /* a call is running */
/* The current call: generation (high 32 bits), part count (bits 16-31), next unclaimed part (0-15).
   A part is claimed by a compare-and-swap that also checks the generation, so a late worker never
   claims a part of a call that has ended or reads its job fields. */
static _Atomic uint64_t call;
static atomic_int sleepers;          /* workers waiting on `wake` */
static atomic_int finished;          /* parts of the current call finished */
static int started;                  /* workers running (guarded by `lock`) */
static ck_task job_fn;
static void *job_context;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

static inline uint32_t generation_of(uint64_t v) { return (uint32_t)(v >> 32); }

/* Claims and runs parts of generation g until none is left. */
static void run_parts(uint32_t g) {
    uint64_t v = atomic_load(&call);
    for (;;) {
        int parts = (int)((v >> 16) & 0xFFFF), next = (int)(v & 0xFFFF);
        if (generation_of(v) != g || next >= parts) return;
        if (!atomic_compare_exchange_weak(&call, &v, v + 1)) continue;   /* v reloaded */
        job_fn(job_context, next, parts);
        atomic_fetch_add_explicit(&finished, 1, memory_order_release);
        v = atomic_load(&call);
    }
}

static void *worker(void *arg) {
    uint32_t seen = (uint32_t)(uintptr_t)arg, now;
    for (;;) {
        int spins = 0;
        while ((now = generation_of(atomic_load_explicit(&call, memory_order_acquire))) == seen) {
            if (++spins < SPINS) { cpu_relax(); continue; }
            pthread_mutex_lock(&lock);
            atomic_fetch_add(&sleepers, 1);
            while (generation_of(atomic_load(&call)) == seen) pthread_cond_wait(&wake, &lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&lock);
            spins = 0;
        }
        seen = now;
        run_parts(now);
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
        uintptr_t current = generation_of(atomic_load(&call));
        int failed = pthread_create(&thread, &attributes, worker, (void *)current);
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
    if (parts > 0xFFFF) parts = 0xFFFF;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (int part = 0; part < parts; part++) fn(context, part, parts);
        return;
    }
    ensure_workers(parts - 1);   /* with fewer workers the caller simply claims more parts */
    job_fn = fn;
    job_context = context;
    atomic_store(&finished, 0);
    uint32_t g = generation_of(atomic_load(&call)) + 1;
    atomic_store(&call, ((uint64_t)g << 32) | ((uint64_t)parts << 16));   /* publishes the job */
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    run_parts(g);
    int spins = 0;
    while (atomic_load_explicit(&finished, memory_order_acquire) < parts) {
        if (++spins < SPINS) cpu_relax();
        else sched_yield();
    }
    atomic_store(&busy, 0);
}
