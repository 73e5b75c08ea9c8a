/* fp32 matrix multiply for small and mid-sized products; see ckernels.h (ck_sgemm).

   Why: the engine's per-worker products are small (a few hundred rows, K of 32..512), where a
   general BLAS spends much of each call packing both operands and dispatching. This routine packs
   only B and reads A in place.

   Fast path (AVX-512, chosen at run time). The microkernel keeps an 8 x 32 tile of C in 16 zmm
   accumulators and per k issues 2 loads of B (one 32-float row of a packed panel) and 8 broadcasts
   of A, each feeding 2 VFMADD231PS: 16 independent chains cover the FMA latency. A is never packed:
   its 8 values for one k are read straight from the caller's matrix, either 8 rows apart
   (A stored M x K) or 8 consecutive floats (A stored K x M). Only a partial row panel (fewer than 8
   rows left) is copied into a small zero-padded buffer, so the kernel never reads past A.

     packed B: panels of NR = 32 columns (the last one 16 wide when at most 16 columns remain),
               k-major: panel[k * width + j]. B stored N x K is transposed 16 x 16 at a time.

   Loop order (outer to inner): column blocks of NC, k blocks of KC (B block packed, L2), row blocks
   of MC, 32-column micro-panels (the B micro-panel stays in L1), 8-row micro-panels (A from L2).
   alpha scales the tile when it is stored; beta (0 or 1) applies to the first k block only, later
   k blocks add onto C.

   The AVX-512 code is compiled with a target attribute so the file builds for any x86-64 level;
   ck_sgemm_portable is the plain-loop path used on other CPUs and by the tests. */
#include "ckernels.h"
#include "scratch_buffer.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

/* Blocking, overridable for benchmarking (-DCK_F32_KC=...). */
#ifndef CK_F32_KC
#define CK_F32_KC 512
#endif
#ifndef CK_F32_MC
#define CK_F32_MC 384
#endif
#ifndef CK_F32_NC
#define CK_F32_NC 1024
#endif

enum { MR = 8, NR = 32 };

static inline long min_l(long a, long b) { return a < b ? a : b; }
static inline long round_up(long x, long to) { return (x + to - 1) / to * to; }

/* ---------------------------------------------------------------------------------------------
   Portable path: plain loops, fp32 sums in k order. */

static inline float op_a(int trans, const float *A, long lda, long m, long k) {
    return trans ? A[k * lda + m] : A[m * lda + k];
}
static inline float op_b(int trans, const float *B, long ldb, long k, long n) {
    return trans ? B[n * ldb + k] : B[k * ldb + n];
}

void ck_sgemm_portable(int trans_a, int trans_b, long M, long N, long K, float alpha, const float *A, long lda,
                       const float *B, long ldb, float beta, float *C, long ldc) {
    for (long m = 0; m < M; m++) {
        for (long n = 0; n < N; n++) {
            float sum = 0.0f;
            for (long k = 0; k < K; k++) sum += op_a(trans_a, A, lda, m, k) * op_b(trans_b, B, ldb, k, n);
            float *c = C + m * ldc + n;
            *c = beta == 0.0f ? alpha * sum : alpha * sum + beta * *c;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
   Run-time dispatch. */

int ck_has_avx512(void) {
    static int cached = -1;
    int has = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vl");
        __atomic_store_n(&cached, has, __ATOMIC_RELAXED);
    }
    return has;
}

/* ---------------------------------------------------------------------------------------------
   AVX-512 path: packing B. */

static inline __mmask16 lanes(long n) { return n >= 16 ? (__mmask16)0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

/* Transposes a 16 x 16 block held in r[0..15] (row i in r[i]) in place: afterwards r[j] holds
   column j. Four rounds, each swapping ever larger sub-blocks: single floats, pairs, quads (within
   128-bit lanes), then 128-bit lanes across registers. */
CK_AVX512 static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    /* Round 1: interleave floats of row pairs (2i, 2i+1). */
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* Round 2: interleave float pairs of t (4i + j, 4i + j + 2), j = 0, 1. Each 128-bit lane of
       r[4i + q] now holds column (lane*4 + q) of rows 4i..4i+3. */
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 2; j++) {
            const __m512 a = t[4 * i + j], b = t[4 * i + j + 2];
            r[4 * i + 2 * j] = _mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0));
            r[4 * i + 2 * j + 1] = _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2));
        }
    }
    /* Rounds 3 and 4: move 128-bit lanes. Register 4g + q holds, in lane l, rows 4g..4g+3 (row
       group g) of column 4l + q. Round 3 pairs row groups 0/1 and 2/3: t[i] (i < 4) holds lanes
       (g0 col i, g0 col 8+i, g1 col i, g1 col 8+i), t[i+4] the same for columns 4+i and 12+i, and
       t[8..15] likewise for groups 2/3. Round 4 pairs t[i] with t[i+8], which leaves column i in
       r[i] for every i. */
    for (int i = 0; i < 4; i++) {
        for (int g = 0; g < 2; g++) {
            const __m512 a = r[i + 8 * g], b = r[i + 4 + 8 * g];
            t[i + 8 * g] = _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0));     /* lanes 0,2 | 0,2 */
            t[i + 4 + 8 * g] = _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)); /* lanes 1,3 | 1,3 */
        }
    }
    for (int i = 0; i < 8; i++) {
        const __m512 a = t[i], b = t[i + 8];
        r[i] = _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        r[i + 8] = _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    }
}

/* Packs op(B)[k0 : k0+kc, j0 : j0+nc] into micro-panels of width NR (the last one 16 when it holds
   at most 16 columns), zero-padded to the panel width. Panel at column jr starts at out + jr * kc. */
CK_AVX512 static void pack_b(int trans_b, const float *B, long ldb, long k0, long kc, long j0, long nc, float *out) {
    for (long jr = 0; jr < nc; jr += NR) {
        const long n = min_l(nc - jr, NR);
        const long width = n > 16 ? NR : 16;
        float *panel = out + jr * kc;
        if (!trans_b) {
            /* B stored K x N: each k is one row segment. */
            const __mmask16 m0 = lanes(n), m1 = lanes(n - 16);
            const float *src = B + k0 * ldb + j0 + jr;
            for (long k = 0; k < kc; k++, src += ldb) {
                _mm512_storeu_ps(panel + k * width, _mm512_maskz_loadu_ps(m0, src));
                if (width == NR) _mm512_storeu_ps(panel + k * width + 16, _mm512_maskz_loadu_ps(m1, src + 16));
            }
            continue;
        }
        /* B stored N x K: column j of op(B) is row j of B; transpose 16 columns x 16 k at a time. */
        for (long g = 0; g < width; g += 16) {
            const long rows = n - g; /* valid rows of B in this group (may be <= 0: zero padding) */
            for (long kk = 0; kk < kc; kk += 16) {
                const __mmask16 kmask = lanes(kc - kk);
                __m512 r[16];
                for (int i = 0; i < 16; i++)
                    r[i] = i < rows ? _mm512_maskz_loadu_ps(kmask, B + (j0 + jr + g + i) * ldb + k0 + kk)
                                    : _mm512_setzero_ps();
                transpose16(r);
                const long kn = min_l(16, kc - kk);
                for (long i = 0; i < kn; i++) _mm512_storeu_ps(panel + (kk + i) * width + g, r[i]);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
   AVX-512 path: microkernel. */

/* How the tile's result meets C: C = alpha*acc (beta 0, C never read) or C = alpha*acc + C. */
CK_AVX512 static inline void store_vector(float *dst, __m512 acc, __m512 alpha, int add, __mmask16 mask) {
    acc = add ? _mm512_fmadd_ps(acc, alpha, _mm512_maskz_loadu_ps(mask, dst)) : _mm512_mul_ps(acc, alpha);
    _mm512_mask_storeu_ps(dst, mask, acc);
}

/* The MR x (16*NV) tile over kc values of k: A value (r, k) at a[A_AT(r, k)], packed B row k at
   bp + k * 16*NV. Stores rows < mr and columns < nr of the tile at c (row stride ldc). */
#define DEFINE_KERNEL(NAME, NV, A_AT)                                                                   \
    CK_AVX512 static void NAME(long kc, const float *restrict a, long lda, const float *restrict bp,   \
                               long mr, long nr, float *c, long ldc, float alpha, int add) {           \
        /* Start fetching the output tile when it is read; the k loop hides the latency. */             \
        if (add)                                                                                        \
            for (long r = 0; r < mr; r++) {                                                             \
                _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);                                 \
                if (NV == 2) _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0);               \
            }                                                                                           \
        __m512 acc[MR][NV];                                                                             \
        _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)                                            \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();       \
        for (long k = 0; k < kc; k++) {                                                                 \
            __m512 b[NV];                                                                               \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_ps(bp + (k * NV + v) * 16); \
            _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                                      \
                const __m512 x = _mm512_set1_ps(a[A_AT(r, k)]);                                         \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                    \
                    acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);                                    \
            }                                                                                           \
        }                                                                                               \
        const __m512 scale = _mm512_set1_ps(alpha);                                                     \
        __mmask16 mask[NV];                                                                             \
        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) mask[v] = lanes(nr - 16 * v);              \
        _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                                          \
            if (r >= mr) break;                                                                         \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                        \
                if (mask[v]) store_vector(c + r * ldc + 16 * v, acc[r][v], scale, add, mask[v]);        \
        }                                                                                               \
    }
/* A stored M x K (rows of A are rows of the tile) or K x M (8 consecutive floats per k). */
#define A_ROWS(r, k) ((r) * lda + (k))
#define A_COLS(r, k) ((k) * lda + (r))
DEFINE_KERNEL(kernel_8x32_rows, 2, A_ROWS)
DEFINE_KERNEL(kernel_8x16_rows, 1, A_ROWS)
DEFINE_KERNEL(kernel_8x32_cols, 2, A_COLS)
DEFINE_KERNEL(kernel_8x16_cols, 1, A_COLS)

/* ---------------------------------------------------------------------------------------------
   AVX-512 path: blocking driver. */

/* Per-thread packing buffers (see scratch_buffer.h). */
static _Thread_local void *tl_bpack, *tl_aedge;
static _Thread_local size_t tl_bcap, tl_aedge_cap;

static float *grow(void **buf, size_t *cap, size_t count) {
    return ck_grow_scratch(buf, cap, count * sizeof(float));
}

/* Copies the last mr < MR rows of op(A)[i0.., k0 : k0+kc] into `out` as an MR-wide, k-major panel
   (A_COLS layout with lda = MR), rows past mr zero. */
static void pack_a_edge(int trans_a, const float *A, long lda, long i0, long mr, long k0, long kc, float *out) {
    for (long k = 0; k < kc; k++)
        for (long r = 0; r < MR; r++)
            out[k * MR + r] = r < mr ? op_a(trans_a, A, lda, i0 + r, k0 + k) : 0.0f;
}

/* One MR-row micro-panel against one packed B micro-panel. */
CK_AVX512 static inline void micro_panel(int trans_a, const float *A, long lda, long i, long k0, long kc,
                                         long mr, const float *bp, long nr, float *c, long ldc, float alpha,
                                         int add, float *aedge) {
    if (mr < MR) {
        pack_a_edge(trans_a, A, lda, i, mr, k0, kc, aedge);
        if (nr > 16) kernel_8x32_cols(kc, aedge, MR, bp, mr, nr, c, ldc, alpha, add);
        else kernel_8x16_cols(kc, aedge, MR, bp, mr, nr, c, ldc, alpha, add);
    } else if (trans_a) {
        const float *a = A + k0 * lda + i;
        if (nr > 16) kernel_8x32_cols(kc, a, lda, bp, mr, nr, c, ldc, alpha, add);
        else kernel_8x16_cols(kc, a, lda, bp, mr, nr, c, ldc, alpha, add);
    } else {
        const float *a = A + i * lda + k0;
        if (nr > 16) kernel_8x32_rows(kc, a, lda, bp, mr, nr, c, ldc, alpha, add);
        else kernel_8x16_rows(kc, a, lda, bp, mr, nr, c, ldc, alpha, add);
    }
}

CK_AVX512 static void sgemm_avx512(int trans_a, int trans_b, long M, long N, long K, float alpha, const float *A,
                                   long lda, const float *B, long ldb, float beta, float *C, long ldc) {
    const long kc_max = min_l(CK_F32_KC, K), nc_max = CK_F32_NC, mc_max = CK_F32_MC;
    float *bp = grow(&tl_bpack, &tl_bcap, (size_t)(round_up(min_l(N, nc_max), NR) * kc_max));
    float *aedge = grow(&tl_aedge, &tl_aedge_cap, (size_t)(MR * kc_max));
    if (!bp || !aedge) { /* out of memory: the plain loops need no buffers */
        ck_sgemm_portable(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    for (long jc = 0; jc < N; jc += nc_max) {
        const long nc = min_l(nc_max, N - jc);
        for (long k0 = 0; k0 < K; k0 += kc_max) {
            const long kc = min_l(kc_max, K - k0);
            pack_b(trans_b, B, ldb, k0, kc, jc, nc, bp);
            const int add = k0 > 0 || beta != 0.0f;
            for (long ic = 0; ic < M; ic += mc_max) {
                const long mc = min_l(mc_max, M - ic);
                for (long jr = 0; jr < nc; jr += NR) {
                    const long nr = min_l(NR, nc - jr);
                    for (long ir = 0; ir < mc; ir += MR)
                        micro_panel(trans_a, A, lda, ic + ir, k0, kc, min_l(MR, mc - ir), bp + jr * kc, nr,
                                    C + (ic + ir) * ldc + jc + jr, ldc, alpha, add, aedge);
                }
            }
        }
    }
}

void ck_sgemm(int trans_a, int trans_b, long M, long N, long K, float alpha, const float *A, long lda,
              const float *B, long ldb, float beta, float *C, long ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) { /* no product: C = beta * C */
        if (beta == 0.0f)
            for (long m = 0; m < M; m++) memset(C + m * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    if (ck_has_avx512()) sgemm_avx512(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else ck_sgemm_portable(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
