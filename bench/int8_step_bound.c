/* The floor of an 8-bit × 8-bit dot product on AVX2 without VNNI: the instruction sequence the q8_0
   and int8 kernels need per 32 multiply-adds (vpsignb ×2, vpmaddubsw, vpmaddwd, vpaddd), on registers
   only (no loads), with eight independent accumulators so only throughput counts. Prints ns per 32
   multiply-adds on one thread (this thread's CPU time, median of 9 runs).

     clang -O2 -march=native bench/int8_step_bound.c -o .build/bench/int8_step_bound && .build/bench/int8_step_bound
*/
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define CHAINS 8

int main(void) {
    const long steps = 50 * 1000 * 1000;   /* 32 MACs each */
    __m256i w[CHAINS], x[CHAINS], acc[CHAINS];
    for (int c = 0; c < CHAINS; c++) {
        w[c] = _mm256_set1_epi8((char)(c * 7 - 20));
        x[c] = _mm256_set1_epi8((char)(c * 3 + 1));
        acc[c] = _mm256_setzero_si256();
    }
    const __m256i ones = _mm256_set1_epi16(1);
    double runs[9];
    for (int run = 0; run < 9; run++) {
        double t0 = cpu_seconds();
        for (long s = 0; s < steps; s += CHAINS) {
            for (int c = 0; c < CHAINS; c++) {
                __m256i ax = _mm256_sign_epi8(x[c], x[c]);          /* |x| */
                __m256i sw = _mm256_sign_epi8(w[c], x[c]);          /* w with x's sign */
                __m256i p16 = _mm256_maddubs_epi16(ax, sw);         /* pairs → int16 */
                acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(p16, ones));   /* → int32 */
            }
            __asm__ volatile("" : "+x"(w[0]), "+x"(x[0]), "+x"(w[1]), "+x"(x[1]));   /* no hoisting */
        }
        runs[run] = (cpu_seconds() - t0) / steps * 1e9;
    }
    qsort(runs, 9, sizeof runs[0], compare);
    int check = 0;
    for (int c = 0; c < CHAINS; c++) check += _mm256_extract_epi32(acc[c], 0);
    printf("int8 step (sign, sign, maddubs, madd, add): %.3f ns per 32 MACs (median of 9; min %.3f, max %.3f) [%d]\n",
           runs[4], runs[0], runs[8], check & 1);
    return 0;
}
