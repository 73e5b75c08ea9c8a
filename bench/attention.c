/* Single-thread speed of the prefill attention kernel (Sources/CKernels/attention_f32.c) on nanoGPT's
   baby shape (256 positions, width 384, 6 heads of 64): this thread's CPU time per layer (median of 21
   calls), ns per 32 causal MACs (q·k and p·v over keys 0...t), and the largest difference from a plain
   loop (double-checked softmax with expf).

     clang -O3 -march=native -fno-math-errno -ISources/CKernels/include bench/attention.c \
         Sources/CKernels/attention_f32.c Sources/CKernels/thread_pool.c -lm -lpthread -o .build/attention
     .build/attention        # one thread
     .build/attention 2      # on the pool's 2 threads (CPU time is still the caller's only)
*/
#include "ckernels.h"
#include "bench_support.h"
#include <math.h>
#include <stdio.h>

static void plain(long T, long A, long H, const float *qkv, float *out) {
    long hs = A / H;
    float scale = 1 / sqrtf((float)hs), *p = malloc((size_t)T * 4);
    for (long h = 0; h < H; h++)
        for (long t = 0; t < T; t++) {
            const float *q = qkv + t * 3 * A + h * hs;
            float m = -INFINITY, sum = 0;
            for (long j = 0; j <= t; j++) {
                const float *k = qkv + j * 3 * A + A + h * hs;
                float s = 0;
                for (long d = 0; d < hs; d++) s += q[d] * k[d];
                p[j] = s * scale;
                if (p[j] > m) m = p[j];
            }
            for (long j = 0; j <= t; j++) { p[j] = expf(p[j] - m); sum += p[j]; }
            for (long d = 0; d < hs; d++) {
                float y = 0;
                for (long j = 0; j <= t; j++) y += p[j] / sum * qkv[j * 3 * A + 2 * A + h * hs + d];
                out[t * A + h * hs + d] = y;
            }
        }
    free(p);
}

int main(int argc, char **argv) {
    const long T = 256, A = 384, H = 6;
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    float *qkv = malloc((size_t)(T * 3 * A) * 4), *y = malloc((size_t)(T * A) * 4), *z = malloc((size_t)(T * A) * 4);
    for (long i = 0; i < T * 3 * A; i++) qkv[i] = uniform() * 2;
    double times[21];
    for (int r = 0; r < 21; r++) {
        double t0 = now();
        ck_attention_prefill(T, A, H, qkv, y, threads);
        times[r] = now() - t0;
    }
    plain(T, A, H, qkv, z);
    double worst = 0;
    for (long i = 0; i < T * A; i++) {
        double e = fabs((double)y[i] - z[i]) / fmax(1, fabs(z[i]));
        if (e > worst) worst = e;
    }
    double t = median(times, 21), macs = 2.0 * H * (double)(T * (T + 1) / 2) * (double)(A / H);
    printf("attention T=%ld A=%ld heads=%ld threads=%d: %.3f ms, %.2f ns per 32 causal MACs, max rel diff %.1e\n",
           T, A, H, threads, t * 1e3, t * 1e9 / (macs / 32), worst);
    return 0;
}
