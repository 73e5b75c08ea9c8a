/* bf16 matrix multiply with fp32 accumulation, and bf16/fp16 conversions; see ckernels.h.

   Fast path (AVX512-BF16, chosen at run time): VDPBF16PS multiplies pairs of bf16 values and adds
   both products to one fp32 lane:  c[i] += a[2i]*b[2i] + a[2i+1]*b[2i+1].  The kernel therefore
   works on k-pairs. Both operands are packed (BLIS-style) into "pair words": one uint32 holding
   (x[k] in the low half, x[k+1] in the high half), with a zero high half when K is odd.

     packed B: panels of NR = 32 columns (the last one 16 wide when at most 16 columns remain);
               per k-pair one row of NR pair words = two zmm registers.
     packed A: panels of MR = 8 rows, each pair word broadcast to 16 lanes; pair-major (per k-pair
               MR words) when A is stored K x M, row-major (a plain copy) when stored M x K.

   The microkernel keeps an 8x32 fp32 tile in 16 zmm accumulators (16 independent chains cover
   VDPBF16PS's ~6-cycle latency at one per cycle) and per k-pair issues 2 loads of B, 8 broadcasts
   of A and 16 VDPBF16PS (in L1 this runs at the bf16 peak, ~230 GFLOP/s at 3.6 GHz). Loop order
   (outer to inner): column blocks of NC, k blocks of KC (B block packed, in L2/L3), row blocks of
   MC (A block packed, in L2), 32-column micro-panels, 8-row micro-panels. KC is large (1536), so
   both micro-panels stream from L2; fewer k blocks mean fewer passes over the fp32 C, which
   measured more important than keeping the B micro-panel in L1. Full shapes reach 87-95% of peak.

   Every entry point dispatches to a portable C path when the CPU lacks AVX512-BF16; the AVX-512
   code is compiled with a target attribute so the file builds for any x86-64 level. */
#include "ckernels.h"
#include "scratch_buffer.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* Blocking (in elements of K, rows of M, columns of N); overridable for benchmarking. */
/* A large k block measured best (K = 1536: 207 GFLOP/s vs 162 at 384): each k block is one more
   read-modify-write pass over the fp32 C, which for M = 16384 lives in DRAM. The B micro-panel
   (KC x 32 bf16 = 96 KiB) then streams from L2 like the A micro-panels. */
#ifndef CK_BF16_KC
#define CK_BF16_KC 1536
#endif
#ifndef CK_BF16_MC
#define CK_BF16_MC 192
#endif
#ifndef CK_BF16_NC
#define CK_BF16_NC 3072
#endif
/* Bounds on the packed blocks' bytes (the row block shrinks for a large k block). When the output
   is bf16 the whole K is one block: the sum must be complete before rounding. */
#define CK_BF16_A_BYTES (320L * 1024)
#define CK_BF16_B_BYTES (4L * 1024 * 1024)

enum { MR = 8, NR = 32 };

static inline long round_up(long x, long to) { return (x + to - 1) / to * to; }
static inline long min_l(long a, long b) { return a < b ? a : b; }

/* ---------------------------------------------------------------------------------------------
   Scalar helpers (shared by both paths). */

static inline float bf16_to_f32_scalar(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Round to nearest even; a NaN keeps its sign and top payload bits and is made quiet. */
static inline uint16_t f32_to_bf16_scalar(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* IEEE half to float, exact (subnormal halves become normal floats). */
static inline float f16_to_f32_scalar(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        u = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
        u = sign;
    } else {
        /* Subnormal: man * 2^-24, exact in float. */
        float f = (float)man * 0x1p-24f;
        u = f32_bits(f) | sign;
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Float to IEEE half, round to nearest even (overflow to inf, underflow through subnormals). */
static inline uint16_t f32_to_f16_scalar(float f) {
    const uint32_t u = f32_bits(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* quiet NaN */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (a >= 0x38800000u) {                                 /* normal half: |f| >= 2^-14 */
        uint32_t r = a - 0x38000000u;                        /* rebias exponent 127 -> 15 */
        r += 0x0fffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    if (a < 0x33000000u) return sign; /* below half the smallest subnormal (2^-25): zero */
    /* Subnormal half: value = q * 2^-24, q = round(|f| * 2^24) (exact scaling, RNE in the add). */
    const uint32_t e = a >> 23, man = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e; /* |f| = man * 2^(e-150); q = man >> (126 - e) rounded */
    const uint32_t q = man >> shift, rem = man & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    const uint32_t rounded = q + (rem > half || (rem == half && (q & 1u)));
    return (uint16_t)(sign | rounded);
}

/* op(A)[m,k] and op(B)[k,n] as floats. */
static inline float load_a(int trans, const uint16_t *A, long lda, long m, long k) {
    return bf16_to_f32_scalar(trans ? A[k * lda + m] : A[m * lda + k]);
}
static inline float load_b(int trans, const uint16_t *B, long ldb, long k, long n) {
    return bf16_to_f32_scalar(trans ? B[n * ldb + k] : B[k * ldb + n]);
}

/* ---------------------------------------------------------------------------------------------
   Portable path: plain loops, fp32 sums (each product of two bf16 values is exact in fp32). */

static void gemm_portable(int trans_a, int trans_b, long M, long N, long K, float alpha, const uint16_t *A,
                          long lda, const uint16_t *B, long ldb, float *C, uint16_t *C16, long ldc, int accumulate,
                          const float *bias) {
    for (long m = 0; m < M; m++) {
        for (long n = 0; n < N; n++) {
            float sum = 0.0f;
            for (long k = 0; k < K; k++) sum += load_a(trans_a, A, lda, m, k) * load_b(trans_b, B, ldb, k, n);
            if (C16) {
                C16[m * ldc + n] = f32_to_bf16_scalar((bias ? bias[n] : 0.0f) + sum);
            } else {
                C[m * ldc + n] = accumulate ? C[m * ldc + n] + alpha * sum : alpha * sum;
            }
        }
    }
}

void ck_gemm_bf16_portable(int trans_a, int trans_b, long M, long N, long K, float alpha, const uint16_t *A,
                           long lda, const uint16_t *B, long ldb, float *C, long ldc, int accumulate) {
    gemm_portable(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, C, NULL, ldc, accumulate, NULL);
}

void ck_gemm_bf16_out_bf16_portable(int trans_a, int trans_b, long M, long N, long K, const uint16_t *A,
                                    long lda, const uint16_t *B, long ldb, uint16_t *C, long ldc,
                                    const float *bias) {
    gemm_portable(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, NULL, C, ldc, 0, bias);
}

/* Whether rounding the finite nonzero `x` gave the 16-bit zero `h` (a value the format flushed). */
static inline int flushed_to_zero(float x, uint16_t h) {
    const uint32_t a = f32_bits(x) & 0x7fffffffu;
    return a != 0 && a < 0x7f800000u && (h & 0x7fffu) == 0;
}

long ck_f32_to_bf16_portable(const float *x, uint16_t *y, long n) {
    long flushed = 0;
    for (long i = 0; i < n; i++) {
        y[i] = f32_to_bf16_scalar(x[i]);
        flushed += flushed_to_zero(x[i], y[i]);
    }
    return flushed;
}

void ck_bf16_to_f32_portable(const uint16_t *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = bf16_to_f32_scalar(x[i]);
}

long ck_f32_to_f16_portable(const float *x, uint16_t *y, long n) {
    long flushed = 0;
    for (long i = 0; i < n; i++) {
        y[i] = f32_to_f16_scalar(x[i]);
        flushed += flushed_to_zero(x[i], y[i]);
    }
    return flushed;
}

void ck_f16_to_f32_portable(const uint16_t *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = f16_to_f32_scalar(x[i]);
}

/* ---------------------------------------------------------------------------------------------
   Run-time dispatch. */

int ck_has_avx512_bf16(void) {
    static int cached = -1;
    int has = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
        __atomic_store_n(&cached, has, __ATOMIC_RELAXED);
    }
    return has;
}

/* ---------------------------------------------------------------------------------------------
   AVX-512 path: packing. */

/* A pair word from a row where the pair (k, k+1) is contiguous; k + 1 may equal K (odd K). */
static inline uint32_t pair_contiguous(const uint16_t *row, long k, long K) {
    if (k + 1 < K) {
        uint32_t w;
        memcpy(&w, row + k, sizeof w);
        return w;
    }
    return row[k];
}

/* Interleaves 16-bit lanes of two vectors: out0 = lo[0],hi[0],...,lo[15],hi[15]; out1 the rest. */
CK_AVX512 static inline void interleave32(__m512i lo, __m512i hi, __m512i *out0, __m512i *out1) {
    const __m512i idx0 = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8,
                                          39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i idx1 = _mm512_add_epi16(idx0, _mm512_set1_epi16(16));
    *out0 = _mm512_permutex2var_epi16(lo, idx0, hi);
    *out1 = _mm512_permutex2var_epi16(lo, idx1, hi);
}

/* Packs op(B)[k0 : k0+kc, j0 : j0+nc] into micro-panels of width NR (the last one 16 when it
   holds at most 16 columns). Panel at column jr starts at out + jr * kp. */
CK_AVX512 static void pack_b(int trans_b, const uint16_t *B, long ldb, long K, long k0, long kc, long j0,
                             long nc, uint32_t *out) {
    const long kp = (kc + 1) / 2;
    for (long jr = 0; jr < nc; jr += NR) {
        const long n = nc - jr < NR ? nc - jr : NR;
        const long width = n > 16 ? NR : 16;
        uint32_t *panel = out + jr * kp;
        if (!trans_b) {
            /* B stored K x N: rows k and k+1 interleave 16-bit lane by lane. */
            const __mmask32 mask = n >= 32 ? 0xffffffffu : (__mmask32)((1ull << n) - 1);
            for (long p = 0; p < kp; p++) {
                const long k = k0 + 2 * p;
                const uint16_t *row = B + k * ldb + j0 + jr;
                const __m512i lo = _mm512_maskz_loadu_epi16(mask, row);
                const __m512i hi = k + 1 < K ? _mm512_maskz_loadu_epi16(mask, row + ldb) : _mm512_setzero_si512();
                __m512i out0, out1;
                interleave32(lo, hi, &out0, &out1);
                _mm512_storeu_si512(panel + p * width, out0);
                if (width == NR) _mm512_storeu_si512(panel + p * width + 16, out1);
            }
        } else {
            /* B stored N x K: each column's pair is contiguous. */
            for (long p = 0; p < kp; p++) {
                const long k = k0 + 2 * p;
                uint32_t *dst = panel + p * width;
                long j = 0;
                for (; j < n; j++) dst[j] = pair_contiguous(B + (j0 + jr + j) * ldb, k, K);
                for (; j < width; j++) dst[j] = 0;
            }
        }
    }
}

/* One pair-major A panel of m <= MR rows from A stored K x M: rows k and k+1 hold the MR consecutive
   values of m; interleaving them gives the pair words. */
CK_AVX512 static inline void pack_a_pairs_panel(const uint16_t *A, long lda, long K, long k0, long kp, long i0,
                                                long m, uint32_t *panel) {
    const __mmask8 mask = (__mmask8)((1u << m) - 1);
    for (long p = 0; p < kp; p++) {
        const long k = k0 + 2 * p;
        const uint16_t *row = A + k * lda + i0;
        const __m128i lo = _mm_maskz_loadu_epi16(mask, row);
        const __m128i hi = k + 1 < K ? _mm_maskz_loadu_epi16(mask, row + lda) : _mm_setzero_si128();
        _mm_storeu_si128((__m128i *)(panel + p * MR), _mm_unpacklo_epi16(lo, hi));
        _mm_storeu_si128((__m128i *)(panel + p * MR + 4), _mm_unpackhi_epi16(lo, hi));
    }
}

/* Packs op(A)[i0 : i0+mc, k0 : k0+kc] into micro-panels of MR rows (zero rows past mc); the panel
   at row ir starts at out + ir * kp. Two layouts, whichever packs without a transpose:
     A stored K x M (trans_a): pair-major, word (p, r) at panel[p * MR + r] (two rows interleave);
     A stored M x K: row-major, word (p, r) at panel[r * kp + p] (each row is a plain copy). */
CK_AVX512 static void pack_a(int trans_a, const uint16_t *A, long lda, long K, long k0, long kc, long i0,
                             long mc, uint32_t *out) {
    const long kp = (kc + 1) / 2;
    if (trans_a) {
        /* 32 rows (four panels) at a time, in blocks of 16 k-pairs: the 32 source rows stay in L1
           while each of the four panels gets 512 consecutive bytes. (Pair by pair across all of mc
           instead, the panels' 4 KiB-multiple stride aliases in L1: 10% slower at M = 256.) */
        const long wide = mc / 32 * 32;
        for (long p0 = 0; p0 < kp; p0 += 16) {
            const long p1 = min_l(p0 + 16, kp);
            for (long ir = 0; ir < wide; ir += 32) {
                for (long p = p0; p < p1; p++) {
                    const long k = k0 + 2 * p;
                    const uint16_t *row = A + k * lda + i0 + ir;
                    const __m512i lo = _mm512_loadu_si512(row);
                    const __m512i hi = k + 1 < K ? _mm512_loadu_si512(row + lda) : _mm512_setzero_si512();
                    __m512i out0, out1;
                    interleave32(lo, hi, &out0, &out1);
                    uint32_t *dst = out + ir * kp + p * MR;
                    _mm256_storeu_si256((__m256i *)dst, _mm512_castsi512_si256(out0));
                    _mm256_storeu_si256((__m256i *)(dst + 8 * kp), _mm512_extracti64x4_epi64(out0, 1));
                    _mm256_storeu_si256((__m256i *)(dst + 16 * kp), _mm512_castsi512_si256(out1));
                    _mm256_storeu_si256((__m256i *)(dst + 24 * kp), _mm512_extracti64x4_epi64(out1, 1));
                }
            }
        }
        for (long ir = wide; ir < mc; ir += MR)
            pack_a_pairs_panel(A, lda, K, k0, kp, i0 + ir, mc - ir < MR ? mc - ir : MR, out + ir * kp);
        return;
    }
    for (long ir = 0; ir < mc; ir += MR) {
        const long m = mc - ir < MR ? mc - ir : MR;
        uint32_t *panel = out + ir * kp;
        for (long r = 0; r < MR; r++) {
            uint16_t *dst = (uint16_t *)(panel + r * kp);
            if (r < m) {
                memcpy(dst, A + (i0 + ir + r) * lda + k0, (size_t)kc * sizeof(uint16_t));
                if (kc & 1) dst[kc] = 0;
            } else {
                memset(dst, 0, (size_t)kp * sizeof(uint32_t));
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
   AVX-512 path: microkernel and stores. */

enum store_mode { STORE_SET, STORE_ADD, STORE_BF16 };

typedef struct {
    enum store_mode mode;
    float *c;        /* fp32 output (STORE_SET, STORE_ADD) */
    uint16_t *c16;   /* bf16 output (STORE_BF16) */
    long ldc;
    const float *bias; /* STORE_BF16 only; may be NULL */
    float alpha;       /* fp32 output: the product's scale */
} ck_out;

/* Round 16 floats to bf16 (nearest even, NaN kept quiet) and store the lanes in `mask`. */
CK_AVX512 static inline void store_bf16x16(uint16_t *dst, __m512 v, __mmask16 mask) {
    const __m512i u = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    r = _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x00400000));
    _mm256_mask_storeu_epi16(dst, mask, _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
}

CK_AVX512 static inline void store_tile_vector(const ck_out *out, long row, long col, __m512 acc, __mmask16 mask) {
    if (out->mode == STORE_BF16) {
        if (out->bias) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(mask, out->bias + col));
        store_bf16x16(out->c16 + row * out->ldc + col, acc, mask);
    } else {
        float *dst = out->c + row * out->ldc + col;
        if (out->alpha != 1.0f) acc = _mm512_mul_ps(acc, _mm512_set1_ps(out->alpha));
        if (out->mode == STORE_ADD) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(mask, dst));
        _mm512_mask_storeu_ps(dst, mask, acc);
    }
}

/* The MR x (16*NV) tile: kp k-pairs of packed A (MR pair words each, word (p, r) at A_AT(p, r))
   and packed B (16*NV pair words each); stores rows < mr and columns < nr at (row, col). */
#define DEFINE_KERNEL(NAME, NV, A_AT)                                                                  \
    CK_AVX512 static void NAME(long kp, const uint32_t *restrict ap, const uint32_t *restrict bp, \
                                        long mr, long nr, const ck_out *out, long row, long col) {     \
        /* Start fetching the output tile; the k loop hides the latency. */                            \
        if (out->mode != STORE_BF16)                                                                   \
            for (long r = 0; r < mr; r++) {                                                           \
                const char *p = (const char *)(out->c + (row + r) * out->ldc + col);                   \
                _mm_prefetch(p, _MM_HINT_T0);                                                          \
                if (NV == 2) _mm_prefetch(p + 64, _MM_HINT_T0);                                        \
            }                                                                                          \
        __m512 acc[MR][NV];                                                                            \
        _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)                                           \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();      \
        for (long p = 0; p < kp; p++) {                                                                \
            __m512bh b[NV];                                                                            \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                       \
                b[v] = (__m512bh)_mm512_loadu_si512(bp + (p * NV + v) * 16);                           \
            _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                                     \
                const __m512bh a = (__m512bh)_mm512_set1_epi32((int)ap[A_AT(p, r)]);                   \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                   \
                    acc[r][v] = _mm512_dpbf16_ps(acc[r][v], a, b[v]);                                  \
            }                                                                                          \
        }                                                                                              \
        __mmask16 mask[NV];                                                                            \
        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) {                                         \
            const long cols = nr - 16 * v;                                                             \
            mask[v] = cols >= 16 ? (__mmask16)0xffff : cols <= 0 ? 0 : (__mmask16)((1u << cols) - 1);  \
        }                                                                                              \
        _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                                         \
            if (r >= mr) break;                                                                        \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                       \
                if (mask[v]) store_tile_vector(out, row + r, col + 16 * v, acc[r][v], mask[v]);        \
        }                                                                                              \
    }
#define PAIR_MAJOR(p, r) ((p) * MR + (r))
#define ROW_MAJOR(p, r) ((r) * kp + (p))
DEFINE_KERNEL(kernel_8x32_pairs, 2, PAIR_MAJOR)
DEFINE_KERNEL(kernel_8x16_pairs, 1, PAIR_MAJOR)
DEFINE_KERNEL(kernel_8x32_rows, 2, ROW_MAJOR)
DEFINE_KERNEL(kernel_8x16_rows, 1, ROW_MAJOR)

/* ---------------------------------------------------------------------------------------------
   AVX-512 path: blocking driver. */

/* Per-thread packing buffers (see scratch_buffer.h). */
static _Thread_local void *tl_apack, *tl_bpack;
static _Thread_local size_t tl_acap, tl_bcap;

static uint32_t *grow(void **buf, size_t *cap, size_t count) {
    return ck_grow_scratch(buf, cap, count * sizeof(uint32_t));
}


CK_AVX512 static void gemm_avx512(int trans_a, int trans_b, long M, long N, long K, const uint16_t *A,
                                  long lda, const uint16_t *B, long ldb, ck_out out, int accumulate) {
    const int bf16_out = out.mode == STORE_BF16;
    const long kc_max = bf16_out ? round_up(K, 2) : min_l(CK_BF16_KC, round_up(K, 2));
    /* Shrink the row and column blocks so the packed blocks stay cache-sized. */
    long mc_max = min_l(CK_BF16_MC, CK_BF16_A_BYTES / (kc_max * 2) / MR * MR);
    long nc_max = min_l(CK_BF16_NC, CK_BF16_B_BYTES / (kc_max * 2) / NR * NR);
    if (mc_max < MR) mc_max = MR;
    if (nc_max < NR) nc_max = NR;
    const long kp_max = kc_max / 2;
    uint32_t *ap = grow(&tl_apack, &tl_acap, (size_t)(round_up(min_l(M, mc_max), MR) * kp_max));
    uint32_t *bp = grow(&tl_bpack, &tl_bcap, (size_t)(round_up(min_l(N, nc_max), NR) * kp_max));
    if (!ap || !bp) { /* out of memory: the slow path needs no buffers */
        gemm_portable(trans_a, trans_b, M, N, K, out.alpha, A, lda, B, ldb, out.c, out.c16, out.ldc, accumulate, out.bias);
        return;
    }
    for (long jc = 0; jc < N; jc += nc_max) {
        const long nc = min_l(nc_max, N - jc);
        for (long k0 = 0; k0 < K; k0 += kc_max) {
            const long kc = min_l(kc_max, K - k0), kp = (kc + 1) / 2;
            pack_b(trans_b, B, ldb, K, k0, kc, jc, nc, bp);
            ck_out pass = out;
            if (!bf16_out) pass.mode = (k0 > 0 || accumulate) ? STORE_ADD : STORE_SET;
            for (long ic = 0; ic < M; ic += mc_max) {
                const long mc = min_l(mc_max, M - ic);
                pack_a(trans_a, A, lda, K, k0, kc, ic, mc, ap);
                for (long jr = 0; jr < nc; jr += NR) {
                    const long nr = min_l(NR, nc - jr);
                    for (long ir = 0; ir < mc; ir += MR) {
                        const long mr = min_l(MR, mc - ir);
                        const uint32_t *a = ap + ir * kp, *b = bp + jr * kp;
                        if (trans_a) {
                            if (nr > 16) kernel_8x32_pairs(kp, a, b, mr, nr, &pass, ic + ir, jc + jr);
                            else kernel_8x16_pairs(kp, a, b, mr, nr, &pass, ic + ir, jc + jr);
                        } else {
                            if (nr > 16) kernel_8x32_rows(kp, a, b, mr, nr, &pass, ic + ir, jc + jr);
                            else kernel_8x16_rows(kp, a, b, mr, nr, &pass, ic + ir, jc + jr);
                        }
                    }
                }
            }
        }
    }
}

/* K == 0: the product is zero. */
static void gemm_empty(long M, long N, ck_out out, int accumulate) {
    for (long m = 0; m < M; m++)
        for (long n = 0; n < N; n++) {
            if (out.mode == STORE_BF16)
                out.c16[m * out.ldc + n] = f32_to_bf16_scalar(out.bias ? out.bias[n] : 0.0f);
            else if (!accumulate)
                out.c[m * out.ldc + n] = 0.0f;
        }
}

void ck_gemm_bf16(int trans_a, int trans_b, long M, long N, long K, float alpha, const uint16_t *A, long lda,
                  const uint16_t *B, long ldb, float *C, long ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    const ck_out out = {accumulate ? STORE_ADD : STORE_SET, C, NULL, ldc, NULL, alpha};
    if (K <= 0) gemm_empty(M, N, out, accumulate);
    else if (ck_has_avx512_bf16()) gemm_avx512(trans_a, trans_b, M, N, K, A, lda, B, ldb, out, accumulate);
    else gemm_portable(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, C, NULL, ldc, accumulate, NULL);
}

void ck_gemm_bf16_out_bf16(int trans_a, int trans_b, long M, long N, long K, const uint16_t *A, long lda,
                           const uint16_t *B, long ldb, uint16_t *C, long ldc, const float *bias) {
    if (M <= 0 || N <= 0) return;
    const ck_out out = {STORE_BF16, NULL, C, ldc, bias, 1.0f};
    if (K <= 0) gemm_empty(M, N, out, 0);
    else if (ck_has_avx512_bf16()) gemm_avx512(trans_a, trans_b, M, N, K, A, lda, B, ldb, out, 0);
    else gemm_portable(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, NULL, C, ldc, 0, bias);
}

/* ---------------------------------------------------------------------------------------------
   Conversions. */

CK_AVX512 static long f32_to_bf16_avx512(const float *x, uint16_t *y, long n) {
    long flushed = 0;
    /* A nonzero input flushes to bf16 zero only below bf16's smallest subnormal, 2^-133, i.e. when it
       is an fp32 subnormal with magnitude bits below 0x8000 (ties at 0x8000 round to even, to zero). */
    const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), limit = _mm512_set1_epi32(0x8000);
    for (long i = 0; i < n; i += 16) {
        const __mmask16 mask = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
        store_bf16x16(y + i, v, mask);
        const __m512i a = _mm512_and_si512(_mm512_castps_si512(v), abs_mask);
        const __mmask16 tiny = _mm512_mask_cmple_epi32_mask(_mm512_test_epi32_mask(a, a), a, limit);
        flushed += __builtin_popcount((unsigned)(tiny & mask));
    }
    return flushed;
}

CK_AVX512 static void bf16_to_f32_avx512(const uint16_t *x, float *y, long n) {
    for (long i = 0; i < n; i += 16) {
        const __mmask16 mask = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, x + i));
        _mm512_mask_storeu_ps(y + i, mask, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)));
    }
}

CK_AVX512 static long f32_to_f16_avx512(const float *x, uint16_t *y, long n) {
    long flushed = 0;
    const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    for (long i = 0; i < n; i += 16) {
        const __mmask16 mask = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
        const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(y + i, mask, h);
        /* Flushed: a nonzero finite input whose half is +-0. */
        const __m512i a = _mm512_and_si512(_mm512_castps_si512(v), abs_mask);
        const __mmask16 nonzero_finite =
            _mm512_mask_cmplt_epi32_mask(_mm512_test_epi32_mask(a, a), a, inf);
        const __mmask16 zero_half =
            _mm256_testn_epi16_mask(h, _mm256_set1_epi16(0x7fff));
        flushed += __builtin_popcount((unsigned)(nonzero_finite & zero_half & mask));
    }
    return flushed;
}

CK_AVX512 static void f16_to_f32_avx512(const uint16_t *x, float *y, long n) {
    for (long i = 0; i < n; i += 16) {
        const __mmask16 mask = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, mask, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, x + i)));
    }
}

long ck_f32_to_bf16(const float *x, uint16_t *y, long n) {
    if (ck_has_avx512_bf16()) return f32_to_bf16_avx512(x, y, n);
    return ck_f32_to_bf16_portable(x, y, n);
}

void ck_bf16_to_f32(const uint16_t *x, float *y, long n) {
    if (ck_has_avx512_bf16()) bf16_to_f32_avx512(x, y, n);
    else ck_bf16_to_f32_portable(x, y, n);
}

long ck_f32_to_f16(const float *x, uint16_t *y, long n) {
    if (ck_has_avx512_bf16()) return f32_to_f16_avx512(x, y, n);
    return ck_f32_to_f16_portable(x, y, n);
}

void ck_f16_to_f32(const uint16_t *x, float *y, long n) {
    if (ck_has_avx512_bf16()) f16_to_f32_avx512(x, y, n);
    else ck_f16_to_f32_portable(x, y, n);
}

/* ---------------------------------------------------------------------------------------------
   Peak measurement: the bf16 ceiling that MFU of a bf16 run is reported against. */

CK_AVX512 static float bf16_dot_chains_avx512(long iterations) {
    /* 12 independent accumulators hide VDPBF16PS's ~7-cycle latency at one instruction per cycle.
       Inputs are 2^-10 each: every step adds 2 * 2^-20 per lane, far from overflow or subnormals. */
    const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3a80), b = a;
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    __m512 c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (long i = 0; i < iterations; i++) {
        c0 = _mm512_dpbf16_ps(c0, a, b); c1 = _mm512_dpbf16_ps(c1, a, b); c2 = _mm512_dpbf16_ps(c2, a, b);
        c3 = _mm512_dpbf16_ps(c3, a, b); c4 = _mm512_dpbf16_ps(c4, a, b); c5 = _mm512_dpbf16_ps(c5, a, b);
        c6 = _mm512_dpbf16_ps(c6, a, b); c7 = _mm512_dpbf16_ps(c7, a, b); c8 = _mm512_dpbf16_ps(c8, a, b);
        c9 = _mm512_dpbf16_ps(c9, a, b); c10 = _mm512_dpbf16_ps(c10, a, b); c11 = _mm512_dpbf16_ps(c11, a, b);
    }
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                                     _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)),
                                                   _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11))));
    return _mm512_reduce_add_ps(sum);
}

float ck_bf16_dot_chains(long iterations) {
    return ck_has_avx512_bf16() ? bf16_dot_chains_avx512(iterations) : 0.0f;
}
