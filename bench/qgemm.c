/* Single-thread speed of the quantized products (Sources/CKernels/quant_gemm.c) on the linear layers of
   nanoGPT's baby shape (width 384: qkv 1152×384, attention projection 384×384, MLP up 1536×384, MLP
   down 384×1536), for prefill (256 activation rows) and decode (1 row): GMAC/s from this thread's CPU
   time (median of the repetitions), and the largest difference from the scalar twin.

     clang -O3 -march=native -fno-math-errno -ISources/CKernels/include bench/qgemm.c \
         Sources/CKernels/quant_gemm.c Sources/CKernels/half_panel.c Sources/CKernels/thread_pool.c -lm -lpthread -o .build/qgemm
     .build/qgemm            # every type
     .build/qgemm q4_0 256   # one type, one row count (under callgrind: build with -gdwarf-4)
     .build/qgemm q4_0 8     # any row count: from 2 rows on the block types run on packed panels
     .build/qgemm f16 256    # 16-bit weights: packed fp32 panels from 24 rows on (half_panel.c)
*/
#include "ckernels.h"
#include "bench_support.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct { const char *name; int type; long block, bytes; } format;
static const format formats[] = {
    {"q8_0", CK_Q8_0, 32, 34}, {"q5_0", CK_Q5_0, 32, 22}, {"q4_0", CK_Q4_0, 32, 18}, {"q4_1", CK_Q4_1, 32, 20},
    {"f16", CK_F16, 1, 2}, {"int8", CK_INT8, 0, 0},
};

/* Random weight rows of a format: codes and scales drawn directly (the products do not care how
   they were rounded). */
static void fill_weights(const format *f, uint8_t *w, long m, long k, long wrow) {
    for (long o = 0; o < m; o++) {
        uint8_t *row = w + o * wrow;
        if (f->type == CK_F16) {
            for (long i = 0; i < k; i++) { _Float16 h = (_Float16)(uniform() * 0.1f); memcpy(row + 2 * i, &h, 2); }
        } else if (f->type == CK_INT8) {
            for (long i = 0; i < k; i++) row[i] = (uint8_t)(int8_t)(uniform() * 127);
            float s = 0.001f;
            memcpy(row + k, &s, 4);
        } else {
            for (long b = 0; b < k / 32; b++) {
                uint8_t *blk = row + b * f->bytes;
                for (long i = 0; i < f->bytes; i++) blk[i] = (uint8_t)(uniform() * 128 + 128);
                _Float16 d = (_Float16)(0.001f + 0.01f * fabsf(uniform()));
                memcpy(blk, &d, 2);
                if (f->type == CK_Q4_1) memcpy(blk + 2, &d, 2);
            }
        }
    }
}

static void run(const format *f, long n, long m, long k, int reps) {
    long wrow = f->type == CK_INT8 ? k + 4 : k / (f->block ? f->block : 1) * f->bytes;
    if (f->type == CK_F16) wrow = 2 * k;
    uint8_t *w = aligned_alloc(64, (size_t)(m * wrow + 64));
    float *x = aligned_alloc(64, (size_t)(n * k * 4 + 64));
    long arow = ck_qact_row_bytes(f->type, k);
    uint8_t *a = aligned_alloc(64, (size_t)(n * arow + 64));
    float *y = aligned_alloc(64, (size_t)(n * m * 4 + 64)), *z = aligned_alloc(64, (size_t)(n * m * 4 + 64));
    fill_weights(f, w, m, k, wrow);
    for (long i = 0; i < n * k; i++) x[i] = uniform();
    const void *act = a;
    if (f->type == CK_F16) act = x; else ck_quantize_activations(f->type, x, n, k, a);
    double times[64];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        ck_qgemm(f->type, n, 0, m, k, w, wrow, act, arow, y, m, 0);
        times[r] = now() - t0;
    }
    ck_qgemm_reference(f->type, n, 0, m, k, w, wrow, act, arow, z, m, 0);
    double worst = 0;
    for (long i = 0; i < n * m; i++) {
        double e = fabs((double)y[i] - z[i]) / fmax(1, fabs(z[i]));
        if (e > worst) worst = e;
    }
    double t = median(times, reps), macs = (double)n * m * k;
    printf("%-5s n=%-4ld %5ld×%-5ld  %8.1f µs  %6.1f GMAC/s  %5.2f ns/(32 MAC)  max rel diff %.1e\n", f->name, n, m, k,
           t * 1e6, macs / t * 1e-9, t * 1e9 / (macs / 32), worst);
    free(w); free(x); free(a); free(y); free(z);
}

int main(int argc, char **argv) {
    static const long shapes[][2] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};
    long rows[] = {256, 1};
    int rowCounts = 2;
    if (argc > 2) { rows[0] = atol(argv[2]); rowCounts = 1; }   /* any row count (8, 16: short prompts) */
    for (size_t fi = 0; fi < sizeof formats / sizeof *formats; fi++) {
        if (argc > 1 && strcmp(argv[1], formats[fi].name) != 0) continue;
        for (int ri = 0; ri < rowCounts; ri++) {
            for (int s = 0; s < 4; s++) run(&formats[fi], rows[ri], shapes[s][0], shapes[s][1], rows[ri] < 64 ? 41 : 5);
        }
    }
    return 0;
}
