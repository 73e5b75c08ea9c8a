/* Helpers shared by the kernel benchmarks (bench/sgemm.c, bench/bf16_gemm.c). */
#ifndef BENCH_SUPPORT_H
#define BENCH_SUPPORT_H
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* This thread's CPU time in seconds: on a shared machine, time spent descheduled does not count
   (every benchmarked kernel runs single-threaded in the calling thread). */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Uniform in [-1, 1) from a fixed-seed xorshift64, so every run sees the same operands. */
static uint64_t rng = 88172645463325252ull;
static float uniform(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * 0x1p-53) * 2.0f - 1.0f;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of n values (sorts them in place). */
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp_double); return v[n / 2]; }
#endif
