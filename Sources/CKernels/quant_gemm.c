/* Products of activations with quantized weights, the way llama.cpp runs them: activation rows are
   quantized on the fly to 8-bit blocks of 32 (one fp32 scale each, and for the weight types with a
   minimum also the block's scaled sum), then every weight block is multiplied with the matching
   activation block in integer arithmetic and scaled once. Weights are output-major rows of GGUF
   blocks (see docs/DECISIONS.md). One tile is one weight row against up to four activation rows, so
   a decoded (unpacked) weight block serves four dot products in prefill; decode is the one-row case.
   f16/bf16 weights are widened to fp32 and multiplied with fp32 activations; int8 rows (a scale per
   output channel) meet int8 activation rows (a scale per token: W8A8).

   Every path has a scalar twin doing the same arithmetic (ck_qgemm_reference); the AVX2 path is
   chosen at run time. Integer sums are exact in both; only the order of the fp32 accumulation of
   block results differs, so the two agree to float rounding. */
#include "ckernels.h"
#include <math.h>
#include <string.h>
#include <immintrin.h>

#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))
#define QK 32

/* ---- Activation blocks (internal layouts, fp32 scales) ---- */

typedef struct { float d; int8_t q[QK]; } act_q8;              /* x ≈ d·q */
typedef struct { float d; float s; int8_t q[QK]; } act_q8s;     /* and s = d·Σq, for weights with a minimum */

/* IEEE half to float, portable (the scalar path must not need F16C). */
static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        float f = ldexpf((float)mantissa, -24);   /* zero or subnormal: exact */
        memcpy(&bits, &f, 4);
        bits |= sign;
    } else if (exponent == 31) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The activation layout a weight type multiplies with. */
typedef enum { ACT_Q8, ACT_Q8S, ACT_INT8_ROW, ACT_F32 } act_kind;

static act_kind act_kind_for(int wtype) {
    switch (wtype) {
    case CK_Q4_1: case CK_Q5_1: return ACT_Q8S;
    case CK_INT8: return ACT_INT8_ROW;
    case CK_F16: case CK_BF16: return ACT_F32;
    default: return ACT_Q8;
    }
}

long ck_qact_row_bytes(int wtype, long k) {
    switch (act_kind_for(wtype)) {
    case ACT_Q8: return (k / QK) * (long)sizeof(act_q8);
    case ACT_Q8S: return (k / QK) * (long)sizeof(act_q8s);
    case ACT_INT8_ROW: return k + 4;
    case ACT_F32: return k * 4;
    }
    return 0;
}

/* Quantizes one activation row (round to nearest even, as ggml's AVX2 quantizer does). */
static void quantize_row(act_kind kind, const float *x, long k, uint8_t *out) {
    if (kind == ACT_F32) { memcpy(out, x, (size_t)k * 4); return; }
    if (kind == ACT_INT8_ROW) {
        float amax = 0;
        for (long i = 0; i < k; i++) amax = fmaxf(amax, fabsf(x[i]));
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        int8_t *q = (int8_t *)out;
        for (long i = 0; i < k; i++) q[i] = (int8_t)lrintf(x[i] * id);
        memcpy(out + k, &d, 4);
        return;
    }
    for (long b = 0; b < k / QK; b++) {
        const float *v = x + b * QK;
        float amax = 0;
        for (int i = 0; i < QK; i++) amax = fmaxf(amax, fabsf(v[i]));
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        int8_t q[QK];
        int sum = 0;
        for (int i = 0; i < QK; i++) { q[i] = (int8_t)lrintf(v[i] * id); sum += q[i]; }
        if (kind == ACT_Q8) {
            act_q8 *a = (act_q8 *)out + b;
            a->d = d;
            memcpy(a->q, q, QK);
        } else {
            act_q8s *a = (act_q8s *)out + b;
            a->d = d;
            a->s = d * (float)sum;
            memcpy(a->q, q, QK);
        }
    }
}

void ck_quantize_activations(int wtype, const float *x, long rows, long k, void *out) {
    act_kind kind = act_kind_for(wtype);
    long stride = ck_qact_row_bytes(wtype, k);
    for (long r = 0; r < rows; r++) quantize_row(kind, x + r * k, k, (uint8_t *)out + r * stride);
}

/* ---- Weight blocks: bytes per block and the scalar decoding of codes ---- */

static long weight_block_bytes(int wtype) {
    switch (wtype) {
    case CK_Q8_0: return 34;
    case CK_Q5_1: return 24;
    case CK_Q5_0: return 22;
    case CK_Q4_1: return 20;
    case CK_Q4_0: return 18;
    default: return 0;
    }
}

/* The 32 integer codes of one weight block (signed types centred), its scale d and minimum m. */
static void decode_block(int wtype, const uint8_t *w, int8_t q[QK], float *d, float *m) {
    *d = half_to_float(load_u16(w));
    *m = 0;
    switch (wtype) {
    case CK_Q8_0:
        memcpy(q, w + 2, QK);
        return;
    case CK_Q4_0:
        for (int j = 0; j < 16; j++) { q[j] = (int8_t)((w[2 + j] & 15) - 8); q[j + 16] = (int8_t)((w[2 + j] >> 4) - 8); }
        return;
    case CK_Q4_1:
        *m = half_to_float(load_u16(w + 2));
        for (int j = 0; j < 16; j++) { q[j] = (int8_t)(w[4 + j] & 15); q[j + 16] = (int8_t)(w[4 + j] >> 4); }
        return;
    case CK_Q5_0: {
        uint32_t qh = load_u32(w + 2);
        for (int j = 0; j < 16; j++) {
            q[j] = (int8_t)(((w[6 + j] & 15) | ((qh >> j) & 1) << 4) - 16);
            q[j + 16] = (int8_t)(((w[6 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - 16);
        }
        return;
    }
    case CK_Q5_1: {
        *m = half_to_float(load_u16(w + 2));
        uint32_t qh = load_u32(w + 4);
        for (int j = 0; j < 16; j++) {
            q[j] = (int8_t)((w[8 + j] & 15) | ((qh >> j) & 1) << 4);
            q[j + 16] = (int8_t)((w[8 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4);
        }
        return;
    }
    default:
        return;
    }
}

/* ---- Scalar path (the reference twin) ---- */

static float ref_dot_blocks(int wtype, const uint8_t *w, const uint8_t *a, long blocks) {
    long wb = weight_block_bytes(wtype);
    float sum = 0;
    for (long b = 0; b < blocks; b++) {
        int8_t q[QK];
        float d, m;
        decode_block(wtype, w + b * wb, q, &d, &m);
        if (act_kind_for(wtype) == ACT_Q8S) {
            const act_q8s *x = (const act_q8s *)a + b;
            int dot = 0;
            for (int i = 0; i < QK; i++) dot += q[i] * x->q[i];
            sum += d * x->d * (float)dot + m * x->s;
        } else {
            const act_q8 *x = (const act_q8 *)a + b;
            int dot = 0;
            for (int i = 0; i < QK; i++) dot += q[i] * x->q[i];
            sum += d * x->d * (float)dot;
        }
    }
    return sum;
}

static float ref_dot(int wtype, const uint8_t *w, const uint8_t *a, long k) {
    switch (wtype) {
    case CK_F16: case CK_BF16: {
        const uint16_t *h = (const uint16_t *)w;
        const float *x = (const float *)a;
        float sum = 0;
        for (long i = 0; i < k; i++) {
            float v;
            if (wtype == CK_F16) v = half_to_float(h[i]);
            else { uint32_t bits = (uint32_t)h[i] << 16; memcpy(&v, &bits, 4); }
            sum += v * x[i];
        }
        return sum;
    }
    case CK_INT8: {
        const int8_t *q = (const int8_t *)w, *x = (const int8_t *)a;
        int64_t dot = 0;
        for (long i = 0; i < k; i++) dot += q[i] * x[i];
        float sw, sa;
        memcpy(&sw, w + k, 4);
        memcpy(&sa, a + k, 4);
        return sw * sa * (float)dot;
    }
    default:
        return ref_dot_blocks(wtype, w, a, k / QK);
    }
}

void ck_qgemm_reference(int wtype, long n, long o0, long o1, long k, const void *w, long wrow,
                        const void *a, long arow, float *y, long ldy, int accumulate) {
    for (long o = o0; o < o1; o++) {
        const uint8_t *wr = (const uint8_t *)w + o * wrow;
        for (long r = 0; r < n; r++) {
            float v = ref_dot(wtype, wr, (const uint8_t *)a + r * arow, k);
            y[r * ldy + o] = accumulate ? y[r * ldy + o] + v : v;
        }
    }
}

/* ---- AVX2 path ---- */

CK_AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 16 bytes of nibbles → 32 bytes 0..15: low nibbles (weights 0..15), then high nibbles (16..31). */
CK_AVX2 static inline __m256i unpack_nibbles(const uint8_t *p) {
    __m128i bytes = _mm_loadu_si128((const __m128i *)p);
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

/* Bit j of `bits` → byte j is 0x10 when set, else 0 (the fifth bit of a Q5 code). */
CK_AVX2 static inline __m256i fifth_bits(uint32_t bits) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, select), select);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

/* One weight block's codes as 32 int8 (centred for the signed types). */
CK_AVX2 static inline __m256i block_codes(int wtype, const uint8_t *w) {
    switch (wtype) {
    case CK_Q8_0: return _mm256_loadu_si256((const __m256i *)(w + 2));
    case CK_Q4_0: return _mm256_sub_epi8(unpack_nibbles(w + 2), _mm256_set1_epi8(8));
    case CK_Q4_1: return unpack_nibbles(w + 4);
    case CK_Q5_0: return _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles(w + 6), fifth_bits(load_u32(w + 2))), _mm256_set1_epi8(16));
    default: /* CK_Q5_1 */ return _mm256_or_si256(unpack_nibbles(w + 8), fifth_bits(load_u32(w + 4)));
    }
}

/* Σ w_i·a_i over 32 int8 pairs as 8 fp32 lanes. Signed w: |w| times a·sign(w) (maddubs takes u8 × s8). */
CK_AVX2 static inline __m256 dot_signed(__m256i w, __m256i a) {
    __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(products, _mm256_set1_epi16(1)));
}

/* Unsigned w (0..31). */
CK_AVX2 static inline __m256 dot_unsigned(__m256i w, __m256i a) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)));
}

/* One weight row against `rows` (1..4) activation rows of a block type. */
CK_AVX2 static void avx2_blocks(int wtype, const uint8_t *w, const uint8_t *a, long arow, int rows, long blocks,
                                float out[4]) {
    long wb = weight_block_bytes(wtype);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float minimum[4] = {0, 0, 0, 0};
    int withMinimum = act_kind_for(wtype) == ACT_Q8S;
    int isUnsigned = wtype == CK_Q4_1 || wtype == CK_Q5_1;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *wblock = w + b * wb;
        __m256i q = block_codes(wtype, wblock);
        float d = half_to_float(load_u16(wblock));
        float m = withMinimum ? half_to_float(load_u16(wblock + 2)) : 0;
        for (int r = 0; r < rows; r++) {
            const uint8_t *row = a + r * arow;
            float da, sa = 0;
            __m256i x;
            if (withMinimum) {
                const act_q8s *blk = (const act_q8s *)row + b;
                da = blk->d; sa = blk->s;
                x = _mm256_loadu_si256((const __m256i *)blk->q);
            } else {
                const act_q8 *blk = (const act_q8 *)row + b;
                da = blk->d;
                x = _mm256_loadu_si256((const __m256i *)blk->q);
            }
            __m256 dot = isUnsigned ? dot_unsigned(q, x) : dot_signed(q, x);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * da), dot, acc[r]);
            minimum[r] += m * sa;
        }
    }
    for (int r = 0; r < rows; r++) out[r] = hsum(acc[r]) + minimum[r];
}

CK_AVX2 static void avx2_half(int wtype, const uint16_t *w, const uint8_t *a, long arow, int rows, long k, float out[4]) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    long i = 0;
    for (; i + 8 <= k; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(w + i));
        __m256 v = wtype == CK_F16 ? _mm256_cvtph_ps(h)
                                   : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
        for (int r = 0; r < rows; r++)
            acc[r] = _mm256_fmadd_ps(v, _mm256_loadu_ps((const float *)(a + r * arow) + i), acc[r]);
    }
    for (int r = 0; r < rows; r++) {
        float s = hsum(acc[r]);
        const float *x = (const float *)(a + r * arow);
        for (long j = i; j < k; j++) {
            float v;
            if (wtype == CK_F16) v = half_to_float(w[j]);
            else { uint32_t bits = (uint32_t)w[j] << 16; memcpy(&v, &bits, 4); }
            s += v * x[j];
        }
        out[r] = s;
    }
}

CK_AVX2 static void avx2_int8(const int8_t *w, const uint8_t *a, long arow, int rows, long k, float out[4]) {
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    long i = 0;
    for (; i + 32 <= k; i += 32) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(w + i));
        __m256i magnitude = _mm256_sign_epi8(q, q);
        for (int r = 0; r < rows; r++) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(a + r * arow + i));
            __m256i products = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(x, q));
            acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(products, _mm256_set1_epi16(1)));
        }
    }
    float sw;
    memcpy(&sw, w + k, 4);
    for (int r = 0; r < rows; r++) {
        const int8_t *x = (const int8_t *)(a + r * arow);
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc[r]), _mm256_extracti128_si256(acc[r], 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        int64_t dot = _mm_cvtsi128_si32(s4);
        for (long j = i; j < k; j++) dot += w[j] * x[j];
        float sa;
        memcpy(&sa, (const uint8_t *)x + k, 4);
        out[r] = sw * sa * (float)dot;
    }
}

CK_AVX2 static void qgemm_avx2(int wtype, long n, long o0, long o1, long k, const void *w, long wrow,
                               const void *a, long arow, float *y, long ldy, int accumulate) {
    for (long r0 = 0; r0 < n; r0 += 4) {
        int rows = n - r0 < 4 ? (int)(n - r0) : 4;
        const uint8_t *ar = (const uint8_t *)a + r0 * arow;
        for (long o = o0; o < o1; o++) {
            const uint8_t *wr = (const uint8_t *)w + o * wrow;
            float v[4];
            switch (wtype) {
            case CK_F16: case CK_BF16: avx2_half(wtype, (const uint16_t *)wr, ar, arow, rows, k, v); break;
            case CK_INT8: avx2_int8((const int8_t *)wr, ar, arow, rows, k, v); break;
            default: avx2_blocks(wtype, wr, ar, arow, rows, k / QK, v); break;
            }
            for (int r = 0; r < rows; r++) {
                float *out = y + (r0 + r) * ldy + o;
                *out = accumulate ? *out + v[r] : v[r];
            }
        }
    }
}

int ck_qgemm_has_avx2(void) {
    static int has = -1;
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return has;
}

void ck_qgemm(int wtype, long n, long o0, long o1, long k, const void *w, long wrow,
              const void *a, long arow, float *y, long ldy, int accumulate) {
    if (ck_qgemm_has_avx2()) qgemm_avx2(wtype, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate);
    else ck_qgemm_reference(wtype, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate);
}
