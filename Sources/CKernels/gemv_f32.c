/* fp32 products of a few activation rows (decode: one) with an input-major weight matrix W[k, m]
   (Hugging Face's Conv1D layout, the training arena's): y[r, o] += Σ_i x[r, i]·W[i, o]. A decode
   step is a matrix-vector product that streams W once; a GEMM library packs W first (reads and
   writes it again) and hands small calls to its own threads. Here column panels of 32 are split over
   the pool (ck_parallel); with two rows each panel keeps its sums in registers while it walks down
   the rows of W, with one row (decode) W's rows are streamed eight at a time (rows_avx2).
   The portable loop is the twin the tests compare with (same k order per output). */
#include "ckernels.h"
#include <immintrin.h>

#define CK_AVX2 __attribute__((target("avx2,fma")))
#define PANEL 32

void ck_sgemv_reference(long n, long o0, long o1, long k, const float *x, const float *w, long ldw, float *y, long ldy) {
    for (long r = 0; r < n; r++)
        for (long o = o0; o < o1; o++) {
            float s = 0;
            for (long i = 0; i < k; i++) s += x[r * k + i] * w[i * ldw + o];
            y[r * ldy + o] += s;
        }
}

CK_AVX2 static void panel_avx2(long n, long o, long k, const float *x, const float *w, long ldw, float *y, long ldy) {
    for (long r = 0; r < n; r += 2) {
        int two = r + 1 < n;
        const float *x0 = x + r * k, *x1 = x + (two ? r + 1 : r) * k;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (long i = 0; i < k; i++) {
            const float *row = w + i * ldw + o;
            __m256 w0 = _mm256_loadu_ps(row), w1 = _mm256_loadu_ps(row + 8), w2 = _mm256_loadu_ps(row + 16), w3 = _mm256_loadu_ps(row + 24);
            __m256 s = _mm256_broadcast_ss(x0 + i), t = _mm256_broadcast_ss(x1 + i);
            a0 = _mm256_fmadd_ps(s, w0, a0); a1 = _mm256_fmadd_ps(s, w1, a1);
            a2 = _mm256_fmadd_ps(s, w2, a2); a3 = _mm256_fmadd_ps(s, w3, a3);
            b0 = _mm256_fmadd_ps(t, w0, b0); b1 = _mm256_fmadd_ps(t, w1, b1);
            b2 = _mm256_fmadd_ps(t, w2, b2); b3 = _mm256_fmadd_ps(t, w3, b3);
        }
        float *y0 = y + r * ldy + o;
        _mm256_storeu_ps(y0, _mm256_add_ps(_mm256_loadu_ps(y0), a0));
        _mm256_storeu_ps(y0 + 8, _mm256_add_ps(_mm256_loadu_ps(y0 + 8), a1));
        _mm256_storeu_ps(y0 + 16, _mm256_add_ps(_mm256_loadu_ps(y0 + 16), a2));
        _mm256_storeu_ps(y0 + 24, _mm256_add_ps(_mm256_loadu_ps(y0 + 24), a3));
        if (two) {
            float *y1 = y0 + ldy;
            _mm256_storeu_ps(y1, _mm256_add_ps(_mm256_loadu_ps(y1), b0));
            _mm256_storeu_ps(y1 + 8, _mm256_add_ps(_mm256_loadu_ps(y1 + 8), b1));
            _mm256_storeu_ps(y1 + 16, _mm256_add_ps(_mm256_loadu_ps(y1 + 16), b2));
            _mm256_storeu_ps(y1 + 24, _mm256_add_ps(_mm256_loadu_ps(y1 + 24), b3));
        }
    }
}

/* One activation row, streaming W's rows: ROWS rows of W at a time (one x broadcast per row held in a
   register), each met across the whole column range with sums kept in a small L1 buffer, so memory is
   read as ROWS sequential streams instead of a 128-byte strip of every row (a new 4 KB page at every
   step, which the hardware prefetchers do not follow). Each sum still takes its k terms in order,
   one FMA each from zero, exactly as panel_avx2 does: the two give the same bits. */
#define ROWS 8
#define SPAN 1024   /* columns per pass: the sums (4 KB) stay in L1 */
/* Software prefetch of the next rows measured no faster (the streams are long and sequential). */

CK_AVX2 static void rows_avx2(long o0, long o1, long k, const float *x, const float *w, long ldw, float *y) {
    float sums[SPAN] __attribute__((aligned(32)));
    for (long s0 = o0; s0 < o1; s0 += SPAN) {
        long width = o1 - s0 < SPAN ? o1 - s0 : SPAN, vec = width & ~7L;
        for (long c = 0; c < width; c++) sums[c] = 0;
        long i = 0;
        for (; i + ROWS <= k; i += ROWS) {
            const float *r = w + i * ldw + s0;
            __m256 x0 = _mm256_broadcast_ss(x + i), x1 = _mm256_broadcast_ss(x + i + 1);
            __m256 x2 = _mm256_broadcast_ss(x + i + 2), x3 = _mm256_broadcast_ss(x + i + 3);
            __m256 x4 = _mm256_broadcast_ss(x + i + 4), x5 = _mm256_broadcast_ss(x + i + 5);
            __m256 x6 = _mm256_broadcast_ss(x + i + 6), x7 = _mm256_broadcast_ss(x + i + 7);
            long c = 0;
            for (; c + 16 <= vec; c += 16) {
                __m256 a = _mm256_load_ps(sums + c), b = _mm256_load_ps(sums + c + 8);
#define STEP(j, xj) a = _mm256_fmadd_ps(xj, _mm256_loadu_ps(r + (j) * ldw + c), a); \
                    b = _mm256_fmadd_ps(xj, _mm256_loadu_ps(r + (j) * ldw + c + 8), b);
                STEP(0, x0) STEP(1, x1) STEP(2, x2) STEP(3, x3) STEP(4, x4) STEP(5, x5) STEP(6, x6) STEP(7, x7)
#undef STEP
                _mm256_store_ps(sums + c, a);
                _mm256_store_ps(sums + c + 8, b);
            }
            for (; c < vec; c += 8) {
                __m256 a = _mm256_load_ps(sums + c);
                a = _mm256_fmadd_ps(x0, _mm256_loadu_ps(r + c), a);
                a = _mm256_fmadd_ps(x1, _mm256_loadu_ps(r + ldw + c), a);
                a = _mm256_fmadd_ps(x2, _mm256_loadu_ps(r + 2 * ldw + c), a);
                a = _mm256_fmadd_ps(x3, _mm256_loadu_ps(r + 3 * ldw + c), a);
                a = _mm256_fmadd_ps(x4, _mm256_loadu_ps(r + 4 * ldw + c), a);
                a = _mm256_fmadd_ps(x5, _mm256_loadu_ps(r + 5 * ldw + c), a);
                a = _mm256_fmadd_ps(x6, _mm256_loadu_ps(r + 6 * ldw + c), a);
                a = _mm256_fmadd_ps(x7, _mm256_loadu_ps(r + 7 * ldw + c), a);
                _mm256_store_ps(sums + c, a);
            }
        }
        for (; i < k; i++) {
            const float *r = w + i * ldw + s0;
            __m256 xi = _mm256_broadcast_ss(x + i);
            for (long c = 0; c < vec; c += 8)
                _mm256_store_ps(sums + c, _mm256_fmadd_ps(xi, _mm256_loadu_ps(r + c), _mm256_load_ps(sums + c)));
        }
        for (long c = 0; c < vec; c++) y[s0 + c] += sums[c];
        ck_sgemv_reference(1, s0 + vec, s0 + width, k, x, w, ldw, y, 0);
    }
}

static int has_avx2(void) {
    static int has = -1;
    if (has < 0) { __builtin_cpu_init(); has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
    return has;
}

void ck_sgemv(long n, long o0, long o1, long k, const float *x, const float *w, long ldw, float *y, long ldy) {
    long o = o0;
    if (has_avx2() && n == 1) return rows_avx2(o0, o1, k, x, w, ldw, y);
    if (has_avx2())
        for (; o + PANEL <= o1; o += PANEL) panel_avx2(n, o, k, x, w, ldw, y, ldy);
    ck_sgemv_reference(n, o, o1, k, x, w, ldw, y, ldy);
}

typedef struct { long n, m, k; const float *x, *w; float *y; } gemv_job;

static void gemv_part(void *context, int part, int parts) {
    const gemv_job *job = context;
    long panels = (job->m + PANEL - 1) / PANEL;
    long o0 = panels * part / parts * PANEL, o1 = panels * (part + 1) / parts * PANEL;
    if (o1 > job->m) o1 = job->m;
    if (o0 < o1) ck_sgemv(job->n, o0, o1, job->k, job->x, job->w, job->m, job->y, job->m);
}

#ifndef NARROW
#define NARROW 2048       /* one-row products with at most this many outputs split W's rows, not its columns */
#endif
#define ROW_HALVES 2

typedef struct { long m, k; const float *x, *w; float *partial; } halves_job;

static void half_part(void *context, int part, int parts) {
    const halves_job *job = context;
    long i0 = job->k * part / parts, i1 = job->k * (part + 1) / parts;
    float *sums = job->partial + part * job->m;
    for (long o = 0; o < job->m; o++) sums[o] = 0;
    ck_sgemv(1, 0, job->m, i1 - i0, job->x + i0, job->w + i0 * job->m, job->m, sums, job->m);
}

void ck_sgemv_threaded(long n, long m, long k, const float *x, const float *w, float *y, int threads) {
    if (n == 1 && m <= NARROW && k >= 64) {
        /* Halves of the columns would give each thread a piece of every row (768 bytes for c_proj's
           384 outputs); halves of the rows are two long sequential runs of memory. Always two halves,
           whatever the thread count, summed in one order: the result does not depend on the threads. */
        float partial[ROW_HALVES * NARROW] __attribute__((aligned(32)));
        halves_job job = {m, k, x, w, partial};
        if (threads > 1) ck_parallel(ROW_HALVES, half_part, &job);
        else for (int part = 0; part < ROW_HALVES; part++) half_part(&job, part, ROW_HALVES);
        for (long o = 0; o < m; o++) y[o] += partial[o] + partial[m + o];
        return;
    }
    gemv_job job = {n, m, k, x, w, y};
    long panels = (m + PANEL - 1) / PANEL;
    int parts = threads < 1 ? 1 : threads;
    if (parts > panels) parts = (int)panels;
    ck_parallel(parts < 1 ? 1 : parts, gemv_part, &job);
}
