/* Single-thread benchmark of ck_gemm_bf16 against OpenBLAS cblas_sgemm on Whittle's shapes.
   Build and run (from the package root): make bench-kernels && .build/bench/bf16_gemm
   Optional argument: a number of repetitions (default 5); prints the median GFLOP/s of each.
   `.build/bench/bf16_gemm check` instead compares the fast path with the portable one on random shapes. */
#include "bench_support.h"
#include "ckernels.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

typedef struct { const char *name; int ta, tb; long M, N, K, lda, ldb; int acc, out16; } shape;

static void bench(shape s, int reps) {
    const long M = s.M, N = s.N, K = s.K;
    const long lda = s.lda ? s.lda : (s.ta ? M : K), ldb = s.ldb ? s.ldb : (s.tb ? K : N);
    const long arows = s.ta ? K : M, brows = s.tb ? N : K;
    float *Af = malloc(sizeof(float) * arows * lda), *Bf = malloc(sizeof(float) * brows * ldb);
    uint16_t *A = malloc(2 * arows * lda), *B = malloc(2 * brows * ldb);
    float *C = malloc(sizeof(float) * M * N);
    uint16_t *C16 = malloc(2 * M * N);
    for (long i = 0; i < arows * lda; i++) Af[i] = uniform();
    for (long i = 0; i < brows * ldb; i++) Bf[i] = uniform();
    ck_f32_to_bf16(Af, A, arows * lda);
    ck_f32_to_bf16(Bf, B, brows * ldb);
    memset(C, 0, sizeof(float) * M * N);
    const double flops = 2.0 * M * N * K;
    /* Enough calls per timing to take >= ~50 ms. */
    int calls = (int)(0.05 * 150e9 / flops) + 1;
    double tb[64], ts[64];
    for (int r = 0; r < reps; r++) { /* interleave the two libraries */
        double t0 = now();
        for (int c = 0; c < calls; c++) {
            if (s.out16) ck_gemm_bf16_out_bf16(s.ta, s.tb, M, N, K, A, lda, B, ldb, C16, N, NULL);
            else ck_gemm_bf16(s.ta, s.tb, M, N, K, 1.0f, A, lda, B, ldb, C, N, s.acc);
        }
        tb[r] = flops * calls / (now() - t0) * 1e-9;
        t0 = now();
        for (int c = 0; c < calls; c++)
            cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, M, N, K,
                        1.0f, Af, lda, Bf, ldb, s.acc ? 1.0f : 0.0f, C, N);
        ts[r] = flops * calls / (now() - t0) * 1e-9;
    }
    const double mb = median(tb, reps), ms = median(ts, reps);
    double xb = 0, xs = 0;
    for (int r = 0; r < reps; r++) { xb = tb[r] > xb ? tb[r] : xb; xs = ts[r] > xs ? ts[r] : xs; }
    printf("%-20s M=%5ld N=%5ld K=%5ld ta=%d tb=%d | bf16 %6.1f (max %6.1f) | sgemm %6.1f (max %6.1f) | ratio %.2f\n",
           s.name, M, N, K, s.ta, s.tb, mb, xb, ms, xs, mb / ms);
    fflush(stdout);
    free(Af); free(Bf); free(A); free(B); free(C); free(C16);
}

static int check(void) {
    int bad = 0;
    for (int t = 0; t < 400; t++) {
        const int ta = t & 1, tb = (t >> 1) & 1, acc = (t >> 2) & 1, out16 = (t >> 3) & 1;
        const long M = 1 + rand() % 70, N = 1 + rand() % 90, K = 1 + rand() % (t % 5 == 0 ? 900 : 70);
        const long lda = (ta ? M : K) + rand() % 3, ldb = (tb ? K : N) + rand() % 3, ldc = N + rand() % 3;
        const long an = (ta ? K : M) * lda, bn = (tb ? N : K) * ldb;
        float *f = malloc(sizeof(float) * (an > bn ? an : bn));
        uint16_t *A = malloc(2 * an), *B = malloc(2 * bn);
        for (long i = 0; i < an; i++) f[i] = uniform();
        ck_f32_to_bf16(f, A, an);
        for (long i = 0; i < bn; i++) f[i] = uniform();
        ck_f32_to_bf16(f, B, bn);
        float *C1 = malloc(sizeof(float) * M * ldc), *C2 = malloc(sizeof(float) * M * ldc);
        uint16_t *D1 = malloc(2 * M * ldc), *D2 = malloc(2 * M * ldc);
        float *bias = malloc(sizeof(float) * N);
        for (long i = 0; i < N; i++) bias[i] = uniform();
        for (long i = 0; i < M * ldc; i++) C1[i] = C2[i] = uniform(), D1[i] = D2[i] = 7;
        double err = 0;
        if (out16) {
            ck_gemm_bf16_out_bf16(ta, tb, M, N, K, A, lda, B, ldb, D1, ldc, acc ? bias : NULL);
            ck_gemm_bf16_out_bf16_portable(ta, tb, M, N, K, A, lda, B, ldb, D2, ldc, acc ? bias : NULL);
            for (long i = 0; i < M * ldc; i++) {
                const int d = abs((int)(int16_t)D1[i] - (int)(int16_t)D2[i]);
                if (d > err) err = d;
            }
            if (err > 1) { printf("out16 mismatch ta=%d tb=%d M=%ld N=%ld K=%ld: %g ulp\n", ta, tb, M, N, K, err); bad++; }
        } else {
            ck_gemm_bf16(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, C1, ldc, acc);
            ck_gemm_bf16_portable(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, C2, ldc, acc);
            for (long i = 0; i < M * ldc; i++) {
                const double d = fabs(C1[i] - C2[i]);
                if (!(d <= err)) err = d;
            }
            if (!(err < 1e-5 * sqrt(K) * 4)) { printf("mismatch ta=%d tb=%d acc=%d M=%ld N=%ld K=%ld: %g\n", ta, tb, acc, M, N, K, err); bad++; }
        }
        free(f); free(A); free(B); free(C1); free(C2); free(D1); free(D2); free(bias);
    }
    printf("check: %d bad of 400\n", bad);
    return bad != 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "check")) return check();
    const int reps = argc > 1 ? atoi(argv[1]) : 5;
    const char *only = argc > 2 ? argv[2] : NULL;
    openblas_set_num_threads(1);
    printf("avx512_bf16: %d\n", ck_has_avx512_bf16());
    const shape shapes[] = {
        {"fwd qkv", 0, 0, 16384, 1152, 384, 0, 0, 0, 0},
        {"fwd proj", 0, 0, 16384, 384, 384, 0, 0, 0, 0},
        {"fwd fc", 0, 0, 16384, 1536, 384, 0, 0, 0, 0},
        {"fwd fcproj", 0, 0, 16384, 384, 1536, 0, 0, 0, 0},
        {"fwd fc out_bf16", 0, 0, 16384, 1536, 384, 0, 0, 0, 1},
        {"fwd fcproj out_bf16", 0, 0, 16384, 384, 1536, 0, 0, 0, 1},
        {"bwd dinp qkv", 0, 1, 16384, 384, 1152, 0, 0, 0, 0},
        {"bwd dinp proj", 0, 1, 16384, 384, 384, 0, 0, 0, 0},
        {"bwd dinp fc", 0, 1, 16384, 384, 1536, 0, 0, 0, 0},
        {"bwd dinp fcproj", 0, 1, 16384, 1536, 384, 0, 0, 0, 0},
        {"bwd dW qkv", 1, 0, 384, 1152, 16384, 0, 0, 1, 0},
        {"bwd dW proj", 1, 0, 384, 384, 16384, 0, 0, 1, 0},
        {"bwd dW fc", 1, 0, 384, 1536, 16384, 0, 0, 1, 0},
        {"bwd dW fcproj", 1, 0, 1536, 384, 16384, 0, 0, 1, 0},
        {"attn QK^T", 0, 1, 256, 256, 64, 1152, 1152, 0, 0},
        {"attn PV", 0, 0, 256, 64, 256, 0, 1152, 0, 0},
        {"attn dP=dO V^T", 0, 1, 256, 256, 64, 384, 1152, 0, 0},
        {"attn dV=P^T dO", 1, 0, 256, 64, 256, 0, 384, 0, 0},
        {"attn dQ=dS K", 0, 0, 256, 64, 256, 0, 1152, 0, 0},
        {"attn dK=dS^T Q", 1, 0, 256, 64, 256, 0, 1152, 0, 0},
        {"lm head", 0, 1, 16384, 65, 384, 0, 0, 0, 0},
        {"lm head dW", 1, 0, 65, 384, 16384, 0, 0, 1, 0},
        /* Diagnostics: the same product through the other packing routines. */
        {"diag proj ta=1", 1, 0, 16384, 384, 384, 0, 0, 0, 0},
        {"diag proj tb=1", 0, 1, 16384, 384, 384, 0, 0, 0, 0},
        {"diag proj ta=1 tb=1", 1, 1, 16384, 384, 384, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (only ? strstr(shapes[i].name, only) != NULL : strncmp(shapes[i].name, "diag", 4) != 0) bench(shapes[i], reps);
    return 0;
}
