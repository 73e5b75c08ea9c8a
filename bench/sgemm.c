/* Single-thread benchmark of ck_sgemm against OpenBLAS cblas_sgemm on Whittle's fp32 shapes.
   Build and run (from the package root; clang is the compiler SwiftPM uses for CKernels):
     make bench-kernels && .build/bench/sgemm
   Arguments: [repetitions (default 7) [name filter]]; prints per shape the median microseconds per
   call and GFLOP/s of each library, interleaved, timed in thread CPU time. The "recipe" shapes carry
   their calls per worker step (shakespeare-char-cpu: 4 layers, 384 rows per worker), and the last
   line sums them into an estimated matmul time per step for each library.
   `.build/bench/sgemm check` instead compares ck_sgemm with a double-precision reference on random shapes. */
#include "bench_support.h"
#include "ckernels.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

/* per_step: calls per worker step in the recipe (0 for shapes outside it). */
typedef struct { const char *name; int ta, tb; long M, N, K, lda, ldb, ldc; float alpha, beta; int per_step; } shape;

static double step_ck, step_blas;

static void bench(shape s, int reps) {
    const long M = s.M, N = s.N, K = s.K;
    const long lda = s.lda ? s.lda : (s.ta ? M : K), ldb = s.ldb ? s.ldb : (s.tb ? K : N);
    const long ldc = s.ldc ? s.ldc : N;
    const long arows = s.ta ? K : M, brows = s.tb ? N : K;
    float *A = malloc(sizeof(float) * arows * lda), *B = malloc(sizeof(float) * brows * ldb);
    float *C = malloc(sizeof(float) * M * ldc);
    for (long i = 0; i < arows * lda; i++) A[i] = uniform();
    for (long i = 0; i < brows * ldb; i++) B[i] = uniform();
    memset(C, 0, sizeof(float) * M * ldc);
    const double flops = 2.0 * M * N * K;
    /* Enough calls per timing to take >= ~20 ms. */
    const int calls = (int)(0.02 * 80e9 / flops) + 1;
    double tc[64], tb[64];
    for (int r = 0; r < reps; r++) { /* interleave the two libraries */
        double t0 = now();
        for (int c = 0; c < calls; c++) ck_sgemm(s.ta, s.tb, M, N, K, s.alpha, A, lda, B, ldb, s.beta, C, ldc);
        tc[r] = (now() - t0) / calls;
        t0 = now();
        for (int c = 0; c < calls; c++)
            cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, M, N, K,
                        s.alpha, A, lda, B, ldb, s.beta, C, ldc);
        tb[r] = (now() - t0) / calls;
    }
    const double mc = median(tc, reps), mb = median(tb, reps);
    step_ck += mc * s.per_step;
    step_blas += mb * s.per_step;
    printf("%-18s %5ld x%5ld x%5ld ta=%d tb=%d x%-3d| ck %9.2f us %6.1f GF/s | openblas %9.2f us %6.1f GF/s | speedup %.2f\n",
           s.name, M, N, K, s.ta, s.tb, s.per_step, mc * 1e6, flops / mc * 1e-9, mb * 1e6, flops / mb * 1e-9, mb / mc);
    fflush(stdout);
    free(A); free(B); free(C);
}

/* Random shapes (padded strides, both betas, alpha != 1) against a double reference; C starts as
   NaN where beta = 0, and the padding past N in each row must stay untouched. */
static int check(void) {
    int bad = 0;
    const int trials = 600;
    for (int t = 0; t < trials; t++) {
        const int ta = t & 1, tb = (t >> 1) & 1;
        const float beta = (t >> 2) & 1 ? 1.0f : 0.0f, alpha = (t >> 3) & 1 ? 0.37f : 1.0f;
        const long M = 1 + rand() % 140, N = 1 + rand() % 140, K = 1 + rand() % (t % 5 == 0 ? 1200 : 140);
        const long lda = (ta ? M : K) + rand() % 3, ldb = (tb ? K : N) + rand() % 3, ldc = N + rand() % 3;
        const long an = (ta ? K : M) * lda, bn = (tb ? N : K) * ldb;
        float *A = malloc(sizeof(float) * an), *B = malloc(sizeof(float) * bn);
        float *C = malloc(sizeof(float) * M * ldc), *C0 = malloc(sizeof(float) * M * ldc);
        for (long i = 0; i < an; i++) A[i] = uniform();
        for (long i = 0; i < bn; i++) B[i] = uniform();
        for (long i = 0; i < M * ldc; i++) C0[i] = C[i] = (beta == 0 && i % ldc < N) ? NAN : uniform();
        ck_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        double err = 0;
        for (long m = 0; m < M; m++) {
            for (long n = 0; n < ldc; n++) {
                const float got = C[m * ldc + n];
                if (n >= N) { /* padding */
                    if (memcmp(&got, &C0[m * ldc + n], sizeof got)) err = INFINITY;
                    continue;
                }
                double sum = 0;
                for (long k = 0; k < K; k++)
                    sum += (double)(ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
                const double want = alpha * sum + (beta != 0 ? C0[m * ldc + n] : 0);
                const double d = fabs(got - want);
                if (!(d <= err)) err = d;
            }
        }
        if (!(err < 1e-6 * K + 1e-6)) {
            printf("mismatch ta=%d tb=%d alpha=%g beta=%g M=%ld N=%ld K=%ld: %g\n", ta, tb, alpha, beta, M, N, K, err);
            bad++;
        }
        free(A); free(B); free(C); free(C0);
    }
    printf("check: %d bad of %d (avx512: %d)\n", bad, trials, ck_has_avx512());
    return bad != 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "check")) return check();
    const int reps = argc > 1 ? atoi(argv[1]) : 7;
    const char *only = argc > 2 ? argv[2] : NULL;
    openblas_set_num_threads(1);
    printf("avx512: %d\n", ck_has_avx512());
    /* Per worker step of the recipe: 4 layers; attention has 6 sequences x 4 heads x 2 row blocks
       (rows 0..31 against 32 keys, rows 32..63 against 64 keys), strides into the [T, 3C] qkv buffer. */
    const shape shapes[] = {
        {"fwd qkv", 0, 0, 384, 384, 128, 0, 0, 0, 1, 1, 4},
        {"fwd attproj", 0, 0, 384, 128, 128, 0, 0, 0, 1, 1, 4},
        {"fwd fc", 0, 0, 384, 512, 128, 0, 0, 0, 1, 1, 4},
        {"fwd fcproj", 0, 0, 384, 128, 512, 0, 0, 0, 1, 1, 4},
        {"fwd lmhead", 0, 1, 384, 65, 128, 0, 0, 0, 1, 0, 1},
        {"bwd dinp qkv", 0, 1, 384, 128, 384, 0, 0, 0, 1, 0, 4},
        {"bwd dinp attproj", 0, 1, 384, 128, 128, 0, 0, 0, 1, 0, 4},
        {"bwd dinp fc", 0, 1, 384, 128, 512, 0, 0, 0, 1, 0, 4},
        {"bwd dinp fcproj", 0, 1, 384, 512, 128, 0, 0, 0, 1, 0, 4},
        {"bwd dinp lmhead", 0, 0, 384, 128, 65, 0, 0, 0, 1, 0, 1},
        {"bwd dW qkv", 1, 0, 128, 384, 384, 0, 0, 0, 1, 1, 4},
        {"bwd dW attproj", 1, 0, 128, 128, 384, 0, 0, 0, 1, 1, 4},
        {"bwd dW fc", 1, 0, 128, 512, 384, 0, 0, 0, 1, 1, 4},
        {"bwd dW fcproj", 1, 0, 512, 128, 384, 0, 0, 0, 1, 1, 4},
        {"bwd dW lmhead", 1, 0, 65, 128, 384, 0, 0, 0, 1, 1, 1},
        {"att QK^T 32", 0, 1, 32, 32, 32, 384, 384, 64, 0.17677670f, 0, 96},
        {"att QK^T 64", 0, 1, 32, 64, 32, 384, 384, 64, 0.17677670f, 0, 96},
        {"att PV 32", 0, 0, 32, 32, 32, 64, 384, 128, 1, 0, 96},
        {"att PV 64", 0, 0, 32, 32, 64, 64, 384, 128, 1, 0, 96},
        {"att dP 32", 0, 1, 32, 32, 32, 128, 384, 64, 1, 0, 96},
        {"att dP 64", 0, 1, 32, 64, 32, 128, 384, 64, 1, 0, 96},
        {"att dV 32", 1, 0, 32, 32, 32, 64, 128, 384, 1, 1, 96},
        {"att dV 64", 1, 0, 64, 32, 32, 64, 128, 384, 1, 1, 96},
        {"att dQ 32", 0, 0, 32, 32, 32, 64, 384, 384, 1, 0, 96},
        {"att dQ 64", 0, 0, 32, 32, 64, 64, 384, 384, 1, 0, 96},
        {"att dK 32", 1, 0, 32, 32, 32, 64, 384, 384, 1, 1, 96},
        {"att dK 64", 1, 0, 64, 32, 32, 64, 384, 384, 1, 1, 96},
        /* Larger shapes (baby-gpt: width 384, 16384 rows over the BLAS threads; per thread 8192). */
        {"big fwd qkv", 0, 0, 8192, 1152, 384, 0, 0, 0, 1, 1, 0},
        {"big dinp fc", 0, 1, 8192, 384, 1536, 0, 0, 0, 1, 0, 0},
        {"big dW fc", 1, 0, 384, 1536, 8192, 0, 0, 0, 1, 1, 0},
        {"big 1024 NN", 0, 0, 1024, 1024, 1024, 0, 0, 0, 1, 0, 0},
        {"mid 2048x384x384", 0, 0, 2048, 384, 384, 0, 0, 0, 1, 1, 0},
        {"mid dW 384x384x2048", 1, 0, 384, 384, 2048, 0, 0, 0, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!only || strstr(shapes[i].name, only)) bench(shapes[i], reps);
    printf("recipe matmuls per worker step (estimate): ck %.2f ms, openblas %.2f ms, speedup %.2f\n",
           step_ck * 1e3, step_blas * 1e3, step_blas / step_ck);
    return 0;
}
