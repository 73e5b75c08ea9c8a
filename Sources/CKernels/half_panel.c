/* Prefill products with 16-bit weights (f16, bf16) on packed fp32 panels: y[r, o] (+)= x_r · w_o for
   fp32 activation rows x and output-major 16-bit weight rows w (GGUF's layout). The row tiles of
   quant_gemm.c widen every weight row again for every few activation rows and end each dot product
   with a horizontal sum; here sixteen weight rows are widened once per call into a k-major fp32
   panel (panel[k·16 + i] = w_{o+i}[k], as a BLAS packs its B operand), and tiles of 6 activation rows
   × 16 outputs keep their 12 accumulators in registers: per k two panel loads, six broadcasts of
   x[r][k], twelve FMAs, the AVX2 sgemm microkernel's shape. Each output is summed in k order, so a
   result does not depend on how the outputs are split over threads. The panel (16·k floats: 96 KB
   for k = 1536) stays in L2 while every activation row passes it.

   The scalar twin is ck_qgemm_reference (same products, plain loops); the tests compare the two. */
#include "ckernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include "scratch_buffer.h"
#include "avx2_helpers.h"

#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))
#define PANEL_WIDTH 16
#define TILE_ROWS 6

static _Thread_local void *half_panel_buffer;
static _Thread_local size_t half_panel_capacity;

/* This thread's panel (see scratch_buffer.h); NULL if it cannot be allocated. */
static float *half_panel_storage(size_t floats) {
    return ck_grow_scratch(&half_panel_buffer, &half_panel_capacity, floats * sizeof(float));
}

CK_AVX2 static inline __m256 widen8(const int wtype, const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return wtype == CK_F16 ? _mm256_cvtph_ps(h) : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

CK_AVX2 static inline float widen1(const int wtype, uint16_t h) {
    if (wtype == CK_F16) return _cvtsh_ss(h);
    uint32_t bits = (uint32_t)h << 16;
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* Weight rows w, w + ws, … (`rows` ≤ 16; missing ones are zeros) widened into panel[k·16 + i]. */
CK_AVX2 static inline __attribute__((always_inline))
void pack_half_panel(const int wtype, const uint16_t *w, long ws, int rows, long k, float *panel) {
    long c = 0;
    for (; c + 8 <= k; c += 8) {
        for (int half = 0; half < 2; half++) {
            __m256 R[8];
            for (int r = 0; r < 8; r++) {
                int i = half * 8 + r;
                R[r] = i < rows ? widen8(wtype, w + i * ws + c) : _mm256_setzero_ps();
            }
            ck_store_transposed8(R, panel + c * PANEL_WIDTH + half * 8, PANEL_WIDTH);
        }
    }
    for (; c < k; c++)
        for (int i = 0; i < PANEL_WIDTH; i++) panel[c * PANEL_WIDTH + i] = i < rows ? widen1(wtype, w[i * ws + c]) : 0;
}

/* NR activation rows (x, x + xs, …) × the panel's 16 outputs (`cols` of them real) into y. */
CK_AVX2 static inline __attribute__((always_inline))
void half_panel_tile(const int NR, const float *panel, int cols, const float *x, long xs, long k, float *y, long ldy,
                     int accumulate) {
    __m256 acc[TILE_ROWS][2];
    for (int j = 0; j < NR; j++) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    for (long c = 0; c < k; c++) {
        __m256 b0 = _mm256_load_ps(panel + c * PANEL_WIDTH), b1 = _mm256_load_ps(panel + c * PANEL_WIDTH + 8);
        for (int j = 0; j < NR; j++) {
            __m256 a = _mm256_broadcast_ss(x + j * xs + c);
            acc[j][0] = _mm256_fmadd_ps(a, b0, acc[j][0]);
            acc[j][1] = _mm256_fmadd_ps(a, b1, acc[j][1]);
        }
    }
    for (int j = 0; j < NR; j++) {
        float *out = y + j * ldy;
        if (cols == PANEL_WIDTH) {
            if (accumulate) {
                acc[j][0] = _mm256_add_ps(acc[j][0], _mm256_loadu_ps(out));
                acc[j][1] = _mm256_add_ps(acc[j][1], _mm256_loadu_ps(out + 8));
            }
            _mm256_storeu_ps(out, acc[j][0]);
            _mm256_storeu_ps(out + 8, acc[j][1]);
        } else {
            float v[PANEL_WIDTH];
            _mm256_storeu_ps(v, acc[j][0]);
            _mm256_storeu_ps(v + 8, acc[j][1]);
            for (int i = 0; i < cols; i++) out[i] = accumulate ? out[i] + v[i] : v[i];
        }
    }
}

CK_AVX2 static inline __attribute__((always_inline))
void half_panel_gemm(const int wtype, float *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a,
                     long arow, float *y, long ldy, int accumulate) {
    const long ws = wrow / 2, xs = arow / 4;
    for (long o = o0; o < o1; o += PANEL_WIDTH) {
        int cols = o1 - o < PANEL_WIDTH ? (int)(o1 - o) : PANEL_WIDTH;
        pack_half_panel(wtype, (const uint16_t *)(w + o * wrow), ws, cols, k, panel);
        const float *x = (const float *)a;
        long r = 0;
        for (; r + TILE_ROWS <= n; r += TILE_ROWS)
            half_panel_tile(TILE_ROWS, panel, cols, x + r * xs, xs, k, y + r * ldy + o, ldy, accumulate);
        switch (n - r) {
        case 5: half_panel_tile(5, panel, cols, x + r * xs, xs, k, y + r * ldy + o, ldy, accumulate); break;
        case 4: half_panel_tile(4, panel, cols, x + r * xs, xs, k, y + r * ldy + o, ldy, accumulate); break;
        case 3: half_panel_tile(3, panel, cols, x + r * xs, xs, k, y + r * ldy + o, ldy, accumulate); break;
        case 2: half_panel_tile(2, panel, cols, x + r * xs, xs, k, y + r * ldy + o, ldy, accumulate); break;
        case 1: half_panel_tile(1, panel, cols, x + r * xs, xs, k, y + r * ldy + o, ldy, accumulate); break;
        default: break;
        }
    }
}

CK_AVX2 static void half_panel_f16(float *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a,
                                   long arow, float *y, long ldy, int accumulate) {
    half_panel_gemm(CK_F16, panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate);
}
CK_AVX2 static void half_panel_bf16(float *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a,
                                    long arow, float *y, long ldy, int accumulate) {
    half_panel_gemm(CK_BF16, panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate);
}

int ck_half_panel_gemm(int wtype, long n, long o0, long o1, long k, const void *w, long wrow, const void *a, long arow,
                       float *y, long ldy, int accumulate) {
    if (!ck_qgemm_has_avx2() || (wtype != CK_F16 && wtype != CK_BF16)) return 0;
    float *panel = half_panel_storage((size_t)(k * PANEL_WIDTH));
    if (!panel) return 0;
    switch (wtype) {
    case CK_F16: half_panel_f16(panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); return 1;
    case CK_BF16: half_panel_bf16(panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); return 1;
    default: return 0;
    }
}
