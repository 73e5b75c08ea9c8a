/* The weight products of one decode token of nanoGPT's baby shape (6 blocks of qkv 384→1152, attention
   projection 384→384, MLP up 384→1536, MLP down 1536→384; one activation row) over model-sized
   weights, cycled as a decoder cycles them, so the caches see what they see in `whittle bench infer`:
   ms per token (median, p10, p90 of the tokens). fp32 runs ck_sgemv_threaded on input-major weights,
   the other types ck_qgemm_threaded on output-major rows (random codes: speed does not depend on them).

     make bench-kernels                     # or the clang line for decode_products in the Makefile
     .build/bench/decode_products f32 2          # type (f32 f16 q8_0 q5_0 q4_0), threads, [tokens]
     CPUTIME=1 .build/bench/decode_products f16 1  # this thread's CPU time instead of wall time (one thread only)
     BLOCKS=1 .build/bench/decode_products f32 1   # fewer blocks: weights that stay in the last-level cache
*/
#include "ckernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_now(void) {
    struct timespec t;
    clock_gettime(getenv("CPUTIME") ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "f32";
    int threads = argc > 2 ? atoi(argv[2]) : 1, tokens = argc > 3 ? atoi(argv[3]) : 200;
    int blocks = getenv("BLOCKS") ? atoi(getenv("BLOCKS")) : 6;
    if (blocks < 1 || blocks > 6 || tokens < 1) { fprintf(stderr, "BLOCKS is 1-6, tokens ≥ 1\n"); return 1; }
    const long K[4] = {384, 384, 384, 1536}, M[4] = {1152, 384, 1536, 384};
    int type = -1;
    long blockBytes = 0;
    if (!strcmp(name, "f16")) type = CK_F16;
    else if (!strcmp(name, "q8_0")) { type = CK_Q8_0; blockBytes = 34; }
    else if (!strcmp(name, "q5_0")) { type = CK_Q5_0; blockBytes = 22; }
    else if (!strcmp(name, "q4_0")) { type = CK_Q4_0; blockBytes = 18; }
    else if (strcmp(name, "f32")) { fprintf(stderr, "type: f32 f16 q8_0 q5_0 q4_0\n"); return 1; }
    long rowBytes[4];
    for (int j = 0; j < 4; j++) rowBytes[j] = type < 0 ? K[j] * 4 : type == CK_F16 ? K[j] * 2 : K[j] / 32 * blockBytes;
    void *w[6][4];
    for (int l = 0; l < blocks; l++)
        for (int j = 0; j < 4; j++) {
            size_t bytes = (size_t)(M[j] * rowBytes[j]);
            uint8_t *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
            if (type == CK_F16) for (size_t i = 0; i < bytes / 2; i++) ((uint16_t *)p)[i] = (uint16_t)(0x2000 + i % 1000);
            else if (type < 0) for (size_t i = 0; i < bytes / 4; i++) ((float *)p)[i] = (float)(i % 1000) * 1e-4f;
            else {
                for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)((i * 2654435761u) >> 13);
                for (size_t i = 0; i < bytes; i += blockBytes) { p[i] = 0; p[i + 1] = 0x20; }   /* scale 2^-7 */
            }
            w[l][j] = p;
        }
    float *x = aligned_alloc(64, 4 * 1536), *y = aligned_alloc(64, 4 * 1536);
    void *scratch = aligned_alloc(64, 1 << 16);
    for (int i = 0; i < 1536; i++) x[i] = (float)(i % 7) * 0.01f - 0.03f;
    double *times = malloc(sizeof(double) * tokens);
    for (int t = -5; t < tokens; t++) {   /* five warm-up tokens */
        double start = clock_now();
        for (int l = 0; l < blocks; l++)
            for (int j = 0; j < 4; j++) {
                memset(y, 0, 4 * M[j]);
                if (type < 0) ck_sgemv_threaded(1, M[j], K[j], x, w[l][j], y, threads);
                else ck_qgemm_threaded(type, 1, M[j], K[j], w[l][j], rowBytes[j], x, type == CK_F16 ? NULL : scratch,
                                       y, M[j], 1, threads);
            }
        if (t >= 0) times[t] = clock_now() - start;
    }
    qsort(times, tokens, sizeof(double), compare);
    printf("%s, %d block(s), %d thread(s): median %.3f ms/token, p10 %.3f, p90 %.3f\n", name, blocks, threads,
           times[tokens / 2] * 1e3, times[tokens / 10] * 1e3, times[tokens * 9 / 10] * 1e3);
    return 0;
}
