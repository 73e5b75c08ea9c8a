/* Products of activations with quantized weights, the way llama.cpp runs them: activation rows are
   quantized on the fly to 8-bit blocks of 32 (one fp32 scale each, and for the weight types with a
   minimum also the block's scaled sum), then every weight block is multiplied with the matching
   activation block in integer arithmetic and scaled once. Weights are output-major rows of GGUF
   blocks (see docs/DECISIONS.md). Decode and short prompts run row tiles (a few weight rows against
   a few activation rows, every block's dot product scaled on its own); from PANEL_MIN_ROWS activation
   rows on, the block types run on panels of eight weight rows unpacked per call, whose eight dot
   products of a block come out of one integer vector (see "Prefill on packed weight panels").
   f16/bf16 weights are widened to fp32 and multiplied with fp32 activations; int8 rows (a scale per
   output channel) meet int8 activation rows (a scale per token: W8A8).

   Every path has a scalar twin doing the same arithmetic (ck_qgemm_reference); the AVX2 path is
   chosen at run time. Integer sums are exact in both; only the order of the fp32 accumulation of
   block results differs, so the two agree to float rounding. */
#include "ckernels.h"
#include "scratch_buffer.h"
#include "avx2_helpers.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))
#define QK 32

/* ---- Activation rows ----
   Block types: a row of nb = k/32 blocks is [nb fp32 scales d][nb fp32 scaled sums s = d·Σq][nb int32
   code sums Σq], padded to 32 bytes, then the nb blocks of 32 int8 codes (x ≈ d·q), so the codes of every block start 32 bytes
   apart from an aligned row start. The sums carry the weights' offset or minimum: Σ(q_w − 8)·q_a = Σq_w·q_a −
   8·Σq_a, so unsigned weight codes meet the activations directly and the offset costs one multiply
   per block at the end of a row, not one per weight. int8 rows: k codes, then the fp32 scale.
   f16/bf16 weights read the fp32 rows as they are. */

static inline long blocks_header(long nb) { return ((nb * 12) + 31) & ~31L; }

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
typedef enum { ACT_BLOCKS, ACT_INT8_ROW, ACT_F32 } act_kind;

static act_kind act_kind_for(int wtype) {
    switch (wtype) {
    case CK_INT8: return ACT_INT8_ROW;
    case CK_F16: case CK_BF16: return ACT_F32;
    default: return ACT_BLOCKS;
    }
}

long ck_qact_row_bytes(int wtype, long k) {
    switch (act_kind_for(wtype)) {
    case ACT_BLOCKS: return blocks_header(k / QK) + k;
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
    long nb = k / QK;
    float *scales = (float *)out, *sums = scales + nb;
    int8_t *codes = (int8_t *)(out + blocks_header(nb));
    int32_t *codeSums = (int32_t *)(sums + nb);
    memset(codeSums + nb, 0, (size_t)(blocks_header(nb) - nb * 12));   /* the padding, so rows repeat byte for byte */
    for (long b = 0; b < nb; b++) {
        const float *v = x + b * QK;
        float amax = 0;
        for (int i = 0; i < QK; i++) amax = fmaxf(amax, fabsf(v[i]));
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        int sum = 0;
        for (int i = 0; i < QK; i++) { int8_t q = (int8_t)lrintf(v[i] * id); codes[b * QK + i] = q; sum += q; }
        scales[b] = d;
        sums[b] = d * (float)sum;
        codeSums[b] = sum;
    }
}

/* The AVX2 twin of quantize_row for block rows: the same operations (|x| max, d = max/127, x·(1/d)
   rounded to nearest even), so the bytes are identical. */
CK_AVX2 static void quantize_blocks_avx2(const float *x, long k, uint8_t *out) {
    long nb = k / QK;
    float *scales = (float *)out, *sums = scales + nb;
    int8_t *codes = (int8_t *)(out + blocks_header(nb));
    int32_t *codeSums = (int32_t *)(sums + nb);
    memset(codeSums + nb, 0, (size_t)(blocks_header(nb) - nb * 12));
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    for (long b = 0; b < nb; b++) {
        const float *v = x + b * QK;
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, absMask), _mm256_and_ps(v1, absMask)),
                                 _mm256_max_ps(_mm256_and_ps(v2, absMask), _mm256_and_ps(v3, absMask)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        __m256 mul = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        /* int32 → int8 in order: packs work per 128-bit lane, a permute restores the order. */
        __m256i p16 = _mm256_packs_epi32(i0, i1), q16 = _mm256_packs_epi32(i2, i3);
        __m256i p8 = _mm256_packs_epi16(p16, q16);
        p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(codes + b * QK), p8);
        scales[b] = d;
        sums[b] = d * (float)_mm_cvtsi128_si32(s4);
        codeSums[b] = _mm_cvtsi128_si32(s4);
    }
}

int ck_qgemm_has_avx2(void);

static void quantize_rows(int wtype, const float *x, long r0, long r1, long k, void *out, int fast) {
    act_kind kind = act_kind_for(wtype);
    long stride = ck_qact_row_bytes(wtype, k);
    for (long r = r0; r < r1; r++) {
        uint8_t *row = (uint8_t *)out + r * stride;
        if (fast && kind == ACT_BLOCKS) quantize_blocks_avx2(x + r * k, k, row);
        else quantize_row(kind, x + r * k, k, row);
    }
}

void ck_quantize_activations(int wtype, const float *x, long rows, long k, void *out) {
    quantize_rows(wtype, x, 0, rows, k, out, ck_qgemm_has_avx2());
}

void ck_quantize_activations_reference(int wtype, const float *x, long rows, long k, void *out) {
    quantize_rows(wtype, x, 0, rows, k, out, 0);
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

/* What the codes of a type are offset by (q4_0 stores q + 8, q5_0 q + 16), and whether it has a minimum. */
static int weight_offset(int wtype) { return wtype == CK_Q4_0 ? 8 : wtype == CK_Q5_0 ? 16 : 0; }
static int weight_has_minimum(int wtype) { return wtype == CK_Q4_1 || wtype == CK_Q5_1; }

/* The 32 stored codes of one weight block (unsigned for the 4- and 5-bit types, as stored; signed for
   Q8_0), its scale d and minimum m (0 for the types without one). */
static void decode_block(int wtype, const uint8_t *w, int q[QK], float *d, float *m) {
    *d = half_to_float(load_u16(w));
    *m = 0;
    switch (wtype) {
    case CK_Q8_0:
        for (int j = 0; j < QK; j++) q[j] = (int8_t)w[2 + j];
        return;
    case CK_Q4_0: case CK_Q4_1: {
        const uint8_t *qs = w + (wtype == CK_Q4_0 ? 2 : 4);
        if (wtype == CK_Q4_1) *m = half_to_float(load_u16(w + 2));
        for (int j = 0; j < 16; j++) { q[j] = qs[j] & 15; q[j + 16] = qs[j] >> 4; }
        return;
    }
    case CK_Q5_0: case CK_Q5_1: {
        int hasMinimum = wtype == CK_Q5_1;
        if (hasMinimum) *m = half_to_float(load_u16(w + 2));
        uint32_t qh = load_u32(w + (hasMinimum ? 4 : 2));
        const uint8_t *qs = w + (hasMinimum ? 8 : 6);
        for (int j = 0; j < 16; j++) {
            q[j] = (qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            q[j + 16] = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
        }
        return;
    }
    default:
        return;
    }
}

/* ---- Scalar path (the reference twin) ----
   Per block: the integer dot product of the stored codes with the activation codes, scaled by d·d_a;
   the offset or minimum meets the block's scaled sum s: − offset·d·s (q4_0, q5_0) or + m·s (q4_1, q5_1).
   The AVX2 path does the same products; it adds the offset terms of a row after its blocks. */

static float ref_dot_blocks(int wtype, const uint8_t *w, const uint8_t *a, long nb) {
    long wb = weight_block_bytes(wtype);
    const float *scales = (const float *)a, *sums = scales + nb;
    const int8_t *codes = (const int8_t *)(a + blocks_header(nb));
    float sum = 0, offsetSum = 0;
    int offset = weight_offset(wtype);
    for (long b = 0; b < nb; b++) {
        int q[QK];
        float d, m;
        decode_block(wtype, w + b * wb, q, &d, &m);
        int dot = 0;
        for (int i = 0; i < QK; i++) dot += q[i] * codes[b * QK + i];
        sum += d * scales[b] * (float)dot;
        offsetSum += (offset ? d * (float)offset : -m) * sums[b];
    }
    return sum - offsetSum;
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

/* ---- AVX2 path ----
   A tile is MR weight rows × NR activation rows, its MR·NR sums in 8-lane fp32 accumulators (reduced
   once at the end). Per block each weight row is decoded once (nibbles unpacked, fifth bits merged,
   scale converted with F16C) and each activation block loaded once, so a decoded block serves NR
   dot products and an activation block MR: prefill runs 2 × 3 tiles, decode 4 × 1. Unsigned codes
   (4- and 5-bit types) go straight into maddubs (u8 × s8, pairs cannot saturate: 2·31·127 < 2^15);
   Q8_0's signed codes take llama.cpp's sign trick (|w| × a·sign(w)). */

#define MAX_MR 4
#define MAX_NR 4
#define DECODE_PREFETCH 2048   /* bytes ahead that one-row products fetch their weights (bench: 1-8 KB alike, none ~1.3x slower for f16) */
#ifndef PREFILL_NR
#define PREFILL_NR 3   /* activation rows of a prefill tile of the block types: 2 × 3 measured ~10% faster than 2 × 4 (fewer spills) */
#endif
#define OFFSET_CHUNK 32   /* blocks whose weight scales are kept for the offset terms */

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

/* One weight block's stored codes as 32 bytes (unsigned, or signed for Q8_0). */
CK_AVX2 static inline __attribute__((always_inline)) __m256i block_codes(const int wtype, const uint8_t *w) {
    switch (wtype) {
    case CK_Q8_0: return _mm256_loadu_si256((const __m256i *)(w + 2));
    case CK_Q4_0: return unpack_nibbles(w + 2);
    case CK_Q4_1: return unpack_nibbles(w + 4);
    case CK_Q5_0: return _mm256_or_si256(unpack_nibbles(w + 6), fifth_bits(load_u32(w + 2)));
    default: /* CK_Q5_1 */ return _mm256_or_si256(unpack_nibbles(w + 8), fifth_bits(load_u32(w + 4)));
    }
}

CK_AVX2 static inline float f16c_half(const uint8_t *p) { return _cvtsh_ss(load_u16(p)); }

/* Σ over a chunk of blocks of scale[b]·sum[b], 8 blocks at a time. */
CK_AVX2 static inline float scaled_sum(const float *scale, const float *sum, long count) {
    __m256 acc = _mm256_setzero_ps();
    long b = 0;
    for (; b + 8 <= count; b += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(scale + b), _mm256_loadu_ps(sum + b), acc);
    float s = ck_hsum8(acc);
    for (; b < count; b++) s += scale[b] * sum[b];
    return s;
}

/* The MR × NR tile of block type `wtype` at weight rows w, w + wrow, … and activation rows a, a + arow, …
   (nb blocks each), added to or stored in y[j*ldy + i]. MR, NR and wtype are constants where it is inlined. */
CK_AVX2 static inline __attribute__((always_inline))
void block_tile(const int wtype, const int MR, const int NR, const uint8_t *w, long wrow, const uint8_t *a, long arow,
                long nb, float *y, long ldy, int accumulate) {
    const long wb = weight_block_bytes(wtype), header = blocks_header(nb);
    const int offset = weight_offset(wtype), hasMinimum = weight_has_minimum(wtype);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[MAX_MR][MAX_NR];
    float corr[MAX_MR][MAX_NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) { acc[i][j] = _mm256_setzero_ps(); corr[i][j] = 0; }
    float kept[MAX_MR][OFFSET_CHUNK];   /* d (offset types) or m (types with a minimum) of the chunk's blocks */
    for (long b0 = 0; b0 < nb; b0 += OFFSET_CHUNK) {
        long b1 = b0 + OFFSET_CHUNK < nb ? b0 + OFFSET_CHUNK : nb;
        for (long b = b0; b < b1; b++) {
            __m256i q[MAX_MR], magnitude[MAX_MR];
            __m256 dw[MAX_MR];
            if (NR == 1) {   /* decode: the MR rows are one run of memory, MR · wb bytes a step (see half_tile) */
                const char *ahead = (const char *)w + DECODE_PREFETCH + b * wb * MR;
                _mm_prefetch(ahead, _MM_HINT_T0);
                if (MR * wb > 64) _mm_prefetch(ahead + 64, _MM_HINT_T0);
                if (MR * wb > 128) _mm_prefetch(ahead + 128, _MM_HINT_T0);
            }
            for (int i = 0; i < MR; i++) {
                const uint8_t *blk = w + i * wrow + b * wb;
                q[i] = block_codes(wtype, blk);
                if (wtype == CK_Q8_0) magnitude[i] = _mm256_sign_epi8(q[i], q[i]);
                float d = f16c_half(blk);
                dw[i] = _mm256_set1_ps(d);
                /* Opaque to the compiler: otherwise it multiplies the scales as scalars and broadcasts
                   every product (two instructions per dot product instead of one vector multiply). */
                __asm__("" : "+x"(dw[i]));
                if (offset) kept[i][b - b0] = d;
                if (hasMinimum) kept[i][b - b0] = f16c_half(blk + 2);
            }
            for (int j = 0; j < NR; j++) {
                const uint8_t *row = a + j * arow;
                __m256i x = _mm256_loadu_si256((const __m256i *)(row + header + b * QK));
                __m256 da = _mm256_broadcast_ss((const float *)row + b);
                for (int i = 0; i < MR; i++) {
                    __m256i products = wtype == CK_Q8_0
                        ? _mm256_maddubs_epi16(magnitude[i], _mm256_sign_epi8(x, q[i]))
                        : _mm256_maddubs_epi16(q[i], x);
                    __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(products, ones));
                    acc[i][j] = _mm256_fmadd_ps(dot, _mm256_mul_ps(dw[i], da), acc[i][j]);
                }
            }
        }
        if (offset || hasMinimum) {
            for (int j = 0; j < NR; j++) {
                const float *sums = (const float *)(a + j * arow) + nb + b0;
                for (int i = 0; i < MR; i++) corr[i][j] += scaled_sum(kept[i], sums, b1 - b0);
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            float v = ck_hsum8(acc[i][j]);
            if (offset) v -= (float)offset * corr[i][j];
            if (hasMinimum) v += corr[i][j];
            float *out = y + j * ldy + i;
            *out = accumulate ? *out + v : v;
        }
}

/* Decode: four weight rows against one activation row, the four rows' block results as one vector.
   Per block the four rows' int32 lanes (madd) are summed across lanes with three hadds, so the four
   integer dot products leave as one int32 × 4 (one convert, one FMA with the four d·d_a, where
   block_tile pays a convert, a multiply and an FMA per row); the four scales are converted together
   and the offset or minimum terms accumulate as one vector with the activation block's scaled sum. */
CK_AVX2 static inline __attribute__((always_inline))
void block_rows4(const int wtype, const uint8_t *w, long wrow, const uint8_t *a, long nb, float *y, int accumulate) {
    const long wb = weight_block_bytes(wtype), header = blocks_header(nb);
    const int offset = weight_offset(wtype), hasMinimum = weight_has_minimum(wtype);
    const float *scales = (const float *)a, *sums = scales + nb;
    const uint8_t *codes = a + header;
    const __m256i ones = _mm256_set1_epi16(1);
    __m128 acc = _mm_setzero_ps(), corr = _mm_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const uint8_t *blk = w + b * wb;
        const char *ahead = (const char *)w + DECODE_PREFETCH + b * wb * 4;
        _mm_prefetch(ahead, _MM_HINT_T0);
        if (4 * wb > 64) _mm_prefetch(ahead + 64, _MM_HINT_T0);
        if (4 * wb > 128) _mm_prefetch(ahead + 128, _MM_HINT_T0);
        __m256i x = _mm256_loadu_si256((const __m256i *)(codes + b * QK));
        __m256i p[4];
        for (int i = 0; i < 4; i++) {
            __m256i q = block_codes(wtype, blk + i * wrow);
            __m256i products = wtype == CK_Q8_0 ? _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(x, q))
                                                : _mm256_maddubs_epi16(q, x);
            p[i] = _mm256_madd_epi16(products, ones);
        }
        __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
        __m128i dots = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        __m128i hd = _mm_cvtsi32_si128(load_u16(blk));
        hd = _mm_insert_epi16(hd, load_u16(blk + wrow), 1);
        hd = _mm_insert_epi16(hd, load_u16(blk + 2 * wrow), 2);
        hd = _mm_insert_epi16(hd, load_u16(blk + 3 * wrow), 3);
        __m128 d = _mm_cvtph_ps(hd);
        acc = _mm_fmadd_ps(_mm_cvtepi32_ps(dots), _mm_mul_ps(d, _mm_broadcast_ss(scales + b)), acc);
        if (offset) corr = _mm_fmadd_ps(d, _mm_broadcast_ss(sums + b), corr);
        if (hasMinimum) {
            __m128i hm = _mm_cvtsi32_si128(load_u16(blk + 2));
            hm = _mm_insert_epi16(hm, load_u16(blk + wrow + 2), 1);
            hm = _mm_insert_epi16(hm, load_u16(blk + 2 * wrow + 2), 2);
            hm = _mm_insert_epi16(hm, load_u16(blk + 3 * wrow + 2), 3);
            corr = _mm_fmadd_ps(_mm_cvtph_ps(hm), _mm_broadcast_ss(sums + b), corr);
        }
    }
    if (offset) acc = _mm_fnmadd_ps(_mm_set1_ps((float)offset), corr, acc);
    if (hasMinimum) acc = _mm_add_ps(acc, corr);
    if (accumulate) acc = _mm_add_ps(acc, _mm_loadu_ps(y));
    _mm_storeu_ps(y, acc);
}

/* Rows [0, n) × outputs [o0, o1) of one block type: 2 × PREFILL_NR tiles (block_rows4 when n is 1), then the edges. */
CK_AVX2 static inline __attribute__((always_inline))
void blocks_gemm(const int wtype, long n, long o0, long o1, long k, const uint8_t *w, long wrow,
                 const uint8_t *a, long arow, float *y, long ldy, int accumulate) {
    long nb = k / QK;
#define TILE(MR, NR) block_tile(wtype, MR, NR, w + o * wrow, wrow, a + r * arow, arow, nb, y + r * ldy + o, ldy, accumulate)
    if (n == 1) {
        long r = 0, o = o0;
        for (; o + 4 <= o1; o += 4) block_rows4(wtype, w + o * wrow, wrow, a, nb, y + o, accumulate);
        for (; o < o1; o++) TILE(1, 1);
        return;
    }
    for (long r = 0; r < n; r += PREFILL_NR) {
        long rows = n - r < PREFILL_NR ? n - r : PREFILL_NR;
        long o = o0;
        switch (rows) {
        case 4: for (; o + 2 <= o1; o += 2) TILE(2, 4); for (; o < o1; o++) TILE(1, 4); break;
        case 3: for (; o + 2 <= o1; o += 2) TILE(2, 3); for (; o < o1; o++) TILE(1, 3); break;
        case 2: for (; o + 2 <= o1; o += 2) TILE(2, 2); for (; o < o1; o++) TILE(1, 2); break;
        default: for (; o + 4 <= o1; o += 4) TILE(4, 1); for (; o < o1; o++) TILE(1, 1); break;
        }
    }
#undef TILE
}

CK_AVX2 static void gemm_q8_0(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    blocks_gemm(CK_Q8_0, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void gemm_q4_0(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    blocks_gemm(CK_Q4_0, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void gemm_q4_1(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    blocks_gemm(CK_Q4_1, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void gemm_q5_0(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    blocks_gemm(CK_Q5_0, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void gemm_q5_1(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    blocks_gemm(CK_Q5_1, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}

/* ---- Prefill on packed weight panels (the block types, n ≥ PANEL_MIN_ROWS activation rows) ----
   The tiles above convert, scale and add every (weight row, activation row, block) dot product in
   fp32: per 32 MACs a maddubs, a madd, a convert, a multiply and an FMA. Here eight weight rows are
   first unpacked into a panel where one 32-byte vector holds four codes of each of the eight rows
   (lane r = row r, codes 4s … 4s + 3 of a block at step s), with the rows' scales as fp32. An
   activation row then meets all eight rows at once: four of its codes broadcast to every lane,
   one maddubs per step, and the eight steps of a block summed in int16 lanes (4-bit codes: 8 · 2 ·
   15 · 127 < 2^15; 5-bit codes flush to int32 every four steps; Q8_0 keeps llama.cpp's sign trick
   and widens every step), so the block's eight dot products come out in one int32 vector: one
   convert and one FMA per eight (row, block) pairs instead of one per pair. The panel is built per
   call and per group of eight outputs (a few ns per block, spread over all activation rows), in a
   per-thread buffer, so weights stay as GGUF stores them and decode (one row) keeps the row tiles. */

#ifndef PANEL_MIN_ROWS
#define PANEL_MIN_ROWS 2   /* panels are no slower from 2 rows on (bench/qgemm.c q4_0 2: 1.0–1.2 vs 1.2–1.4 ns per
                              32 MACs, q8_0 even); -DPANEL_MIN_ROWS=100000 brings back the row tiles to compare */
#endif
#ifndef HALF_PANEL_MIN_ROWS
#define HALF_PANEL_MIN_ROWS 24   /* 16-bit weights: packed fp32 panels (half_panel.c) from this many rows on (bench/qgemm.c f16: even at 16 rows, 1.6× slower at 4) */
#endif
#ifndef PANEL_NR
#define PANEL_NR 3   /* activation rows per panel tile */
#endif

/* Bytes of one block of a panel: the 8 scales (and 8 minimums), then 8 steps of 32 code bytes. */
static inline long panel_block_bytes(int wtype) { return (weight_has_minimum(wtype) ? 64 : 32) + 8 * 32; }

static _Thread_local void *panel_buffer;
static _Thread_local size_t panel_capacity;

/* This thread's panel (see scratch_buffer.h); NULL if it cannot be allocated. */
static uint8_t *panel_storage(size_t bytes) { return ck_grow_scratch(&panel_buffer, &panel_capacity, bytes); }

/* Stores the 8 × 8 transpose of 32-bit groups: out[s] lane r = R[r] group s. */
CK_AVX2 static inline __attribute__((always_inline)) void store_transposed(const __m256i R[8], __m256i *out) {
    __m256i t0 = _mm256_unpacklo_epi32(R[0], R[1]), t1 = _mm256_unpackhi_epi32(R[0], R[1]);
    __m256i t2 = _mm256_unpacklo_epi32(R[2], R[3]), t3 = _mm256_unpackhi_epi32(R[2], R[3]);
    __m256i t4 = _mm256_unpacklo_epi32(R[4], R[5]), t5 = _mm256_unpackhi_epi32(R[4], R[5]);
    __m256i t6 = _mm256_unpacklo_epi32(R[6], R[7]), t7 = _mm256_unpackhi_epi32(R[6], R[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    _mm256_store_si256(out + 0, _mm256_permute2x128_si256(u0, u4, 0x20));
    _mm256_store_si256(out + 1, _mm256_permute2x128_si256(u1, u5, 0x20));
    _mm256_store_si256(out + 2, _mm256_permute2x128_si256(u2, u6, 0x20));
    _mm256_store_si256(out + 3, _mm256_permute2x128_si256(u3, u7, 0x20));
    _mm256_store_si256(out + 4, _mm256_permute2x128_si256(u0, u4, 0x31));
    _mm256_store_si256(out + 5, _mm256_permute2x128_si256(u1, u5, 0x31));
    _mm256_store_si256(out + 6, _mm256_permute2x128_si256(u2, u6, 0x31));
    _mm256_store_si256(out + 7, _mm256_permute2x128_si256(u3, u7, 0x31));
}

/* Rows w, w + wrow, … (`rows` ≤ 8 of them; missing rows are zeros) of nb blocks into `panel`. */
CK_AVX2 static inline __attribute__((always_inline))
void pack_panel(const int wtype, const uint8_t *w, long wrow, int rows, long nb, uint8_t *panel) {
    const long wb = weight_block_bytes(wtype), pb = panel_block_bytes(wtype);
    const int hasMinimum = weight_has_minimum(wtype);
    for (long b = 0; b < nb; b++) {
        uint8_t *out = panel + b * pb;
        __m256i *codes = (__m256i *)(out + (hasMinimum ? 64 : 32));
        __m256i R[8];
        float d[8], m[8];
        for (int r = 0; r < 8; r++) {
            if (r < rows) {
                const uint8_t *blk = w + r * wrow + b * wb;
                R[r] = block_codes(wtype, blk);
                d[r] = f16c_half(blk);
                m[r] = hasMinimum ? f16c_half(blk + 2) : 0;
            } else {
                R[r] = _mm256_setzero_si256();
                d[r] = m[r] = 0;
            }
        }
        memcpy(out, d, 32);
        if (hasMinimum) memcpy(out + 32, m, 32);
        store_transposed(R, codes);
    }
}

/* One panel (8 weight rows, `rows` of them real) against NR activation rows a, a + arow, …: y[j*ldy + i]. */
CK_AVX2 static inline __attribute__((always_inline))
void panel_tile(const int wtype, const int NR, const uint8_t *panel, int rows, const uint8_t *a, long arow,
                long nb, float *y, long ldy, int accumulate) {
    const long pb = panel_block_bytes(wtype), header = blocks_header(nb);
    const int hasMinimum = weight_has_minimum(wtype);
    const int signTrick = wtype == CK_Q8_0, fiveBit = wtype == CK_Q5_0 || wtype == CK_Q5_1;
    const int offsetShift = weight_offset(wtype) == 8 ? 3 : weight_offset(wtype) == 16 ? 4 : 0;   /* · the code sum */
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[PANEL_NR];
    for (int j = 0; j < NR; j++) acc[j] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const uint8_t *blk = panel + b * pb;
        const __m256i *codes = (const __m256i *)(blk + (hasMinimum ? 64 : 32));
        __m256i sum32[PANEL_NR], sum16[PANEL_NR];
        for (int j = 0; j < NR; j++) sum32[j] = sum16[j] = _mm256_setzero_si256();
        for (int s = 0; s < 8; s++) {
            __m256i W = _mm256_load_si256(codes + s);
            __m256i magnitude = signTrick ? _mm256_sign_epi8(W, W) : W;
            for (int j = 0; j < NR; j++) {
                __m256i x = _mm256_set1_epi32((int)load_u32(a + j * arow + header + b * QK + 4 * s));
                if (signTrick) {
                    __m256i p = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(x, W));
                    sum32[j] = _mm256_add_epi32(sum32[j], _mm256_madd_epi16(p, ones));
                } else {
                    sum16[j] = _mm256_add_epi16(sum16[j], _mm256_maddubs_epi16(W, x));
                    if (fiveBit && s == 3) {
                        sum32[j] = _mm256_madd_epi16(sum16[j], ones);
                        sum16[j] = _mm256_setzero_si256();
                    }
                }
            }
        }
        __m256 dw = _mm256_load_ps((const float *)blk);
        __m256 mw = hasMinimum ? _mm256_load_ps((const float *)blk + 8) : _mm256_setzero_ps();
        for (int j = 0; j < NR; j++) {
            const float *row = (const float *)(a + j * arow);
            __m256i dot = sum32[j];
            if (!signTrick) dot = _mm256_add_epi32(dot, _mm256_madd_epi16(sum16[j], ones));
            if (offsetShift) {
                __m256i codeSum = _mm256_set1_epi32(((const int32_t *)(row + 2 * nb))[b]);
                dot = _mm256_sub_epi32(dot, _mm256_slli_epi32(codeSum, offsetShift));
            }
            __m256 scale = _mm256_mul_ps(dw, _mm256_broadcast_ss(row + b));
            acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, acc[j]);
            if (hasMinimum) acc[j] = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(row + nb + b), acc[j]);
        }
    }
    for (int j = 0; j < NR; j++) {
        float *out = y + j * ldy;
        if (rows == 8) {
            __m256 v = accumulate ? _mm256_add_ps(acc[j], _mm256_loadu_ps(out)) : acc[j];
            _mm256_storeu_ps(out, v);
        } else {
            float v[8];
            _mm256_storeu_ps(v, acc[j]);
            for (int i = 0; i < rows; i++) out[i] = accumulate ? out[i] + v[i] : v[i];
        }
    }
}

CK_AVX2 static inline __attribute__((always_inline))
void panel_gemm(const int wtype, uint8_t *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow,
                const uint8_t *a, long arow, float *y, long ldy, int accumulate) {
    long nb = k / QK;
    for (long o = o0; o < o1; o += 8) {
        int rows = o1 - o < 8 ? (int)(o1 - o) : 8;
        pack_panel(wtype, w + o * wrow, wrow, rows, nb, panel);
        long r = 0;
        for (; r + PANEL_NR <= n; r += PANEL_NR)
            panel_tile(wtype, PANEL_NR, panel, rows, a + r * arow, arow, nb, y + r * ldy + o, ldy, accumulate);
        switch (n - r) {
#if PANEL_NR > 5
        case 5: panel_tile(wtype, 5, panel, rows, a + r * arow, arow, nb, y + r * ldy + o, ldy, accumulate); break;
#endif
#if PANEL_NR > 4
        case 4: panel_tile(wtype, 4, panel, rows, a + r * arow, arow, nb, y + r * ldy + o, ldy, accumulate); break;
#endif
#if PANEL_NR > 3
        case 3: panel_tile(wtype, 3, panel, rows, a + r * arow, arow, nb, y + r * ldy + o, ldy, accumulate); break;
#endif
        case 2: panel_tile(wtype, 2, panel, rows, a + r * arow, arow, nb, y + r * ldy + o, ldy, accumulate); break;
        case 1: panel_tile(wtype, 1, panel, rows, a + r * arow, arow, nb, y + r * ldy + o, ldy, accumulate); break;
        default: break;
        }
    }
}

CK_AVX2 static void panel_q8_0(uint8_t *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    panel_gemm(CK_Q8_0, panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void panel_q4_0(uint8_t *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    panel_gemm(CK_Q4_0, panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void panel_q4_1(uint8_t *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    panel_gemm(CK_Q4_1, panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void panel_q5_0(uint8_t *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    panel_gemm(CK_Q5_0, panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void panel_q5_1(uint8_t *panel, long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    panel_gemm(CK_Q5_1, panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}

/* The panel path for the block types (1 when it ran). */
static int panel_dispatch(int wtype, long n, long o0, long o1, long k, const uint8_t *w, long wrow,
                          const uint8_t *a, long arow, float *y, long ldy, int accumulate) {
    if (wtype != CK_Q8_0 && wtype != CK_Q4_0 && wtype != CK_Q4_1 && wtype != CK_Q5_0 && wtype != CK_Q5_1) return 0;
    uint8_t *panel = panel_storage((size_t)((k / QK) * panel_block_bytes(wtype)) + 64);
    if (!panel) return 0;   /* the row-tile kernels need no scratch */
    switch (wtype) {
    case CK_Q8_0: panel_q8_0(panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); return 1;
    case CK_Q4_0: panel_q4_0(panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); return 1;
    case CK_Q4_1: panel_q4_1(panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); return 1;
    case CK_Q5_0: panel_q5_0(panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); return 1;
    case CK_Q5_1: panel_q5_1(panel, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); return 1;
    default: return 0;
    }
}

/* 16-bit weights: MR weight rows widened once per 8 values, NR fp32 activation rows. */
CK_AVX2 static inline __attribute__((always_inline))
void half_tile(const int wtype, const int MR, const int NR, const uint16_t *w, long wstride, const float *a, long astride,
               long k, float *y, long ldy, int accumulate) {
    __m256 acc[MAX_MR][MAX_NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_ps();
    long c = 0;
    if (NR == 1) {
        /* Decode: two sums per row (steps of 16 values) so that 2·MR FMA chains hide the FMA latency. */
        __m256 odd[MAX_MR];
        for (int i = 0; i < MR; i++) odd[i] = _mm256_setzero_ps();
        for (; c + 16 <= k; c += 16) {
            _mm_prefetch((const char *)w + DECODE_PREFETCH + c * 2 * MR, _MM_HINT_T0);
            _mm_prefetch((const char *)w + DECODE_PREFETCH + c * 2 * MR + 64, _MM_HINT_T0);
            __m256 x0 = _mm256_loadu_ps(a + c), x1 = _mm256_loadu_ps(a + c + 8);
            for (int i = 0; i < MR; i++) {
                const uint16_t *r = w + i * wstride + c;
                __m128i h0 = _mm_loadu_si128((const __m128i *)r), h1 = _mm_loadu_si128((const __m128i *)(r + 8));
                __m256 v0 = wtype == CK_F16 ? _mm256_cvtph_ps(h0) : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h0), 16));
                __m256 v1 = wtype == CK_F16 ? _mm256_cvtph_ps(h1) : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h1), 16));
                acc[i][0] = _mm256_fmadd_ps(v0, x0, acc[i][0]);
                odd[i] = _mm256_fmadd_ps(v1, x1, odd[i]);
            }
        }
        for (int i = 0; i < MR; i++) acc[i][0] = _mm256_add_ps(acc[i][0], odd[i]);
    }
    for (; c + 8 <= k; c += 8) {
        __m256 v[MAX_MR];
        /* Decode: the MR rows are one contiguous run of memory read as MR short streams (a row is
           k · 2 bytes), which the hardware prefetchers follow late; fetch the run ahead, one line
           per step (MR · 16 bytes are consumed per step). */
        if (NR == 1) _mm_prefetch((const char *)w + DECODE_PREFETCH + c * 2 * MR, _MM_HINT_T0);
        for (int i = 0; i < MR; i++) {
            __m128i h = _mm_loadu_si128((const __m128i *)(w + i * wstride + c));
            v[i] = wtype == CK_F16 ? _mm256_cvtph_ps(h) : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
        }
        for (int j = 0; j < NR; j++) {
            __m256 x = _mm256_loadu_ps(a + j * astride + c);
            for (int i = 0; i < MR; i++) acc[i][j] = _mm256_fmadd_ps(v[i], x, acc[i][j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            float s = ck_hsum8(acc[i][j]);
            const uint16_t *wr = w + i * wstride;
            const float *x = a + j * astride;
            for (long t = c; t < k; t++) {
                float v;
                if (wtype == CK_F16) v = _cvtsh_ss(wr[t]);
                else { uint32_t bits = (uint32_t)wr[t] << 16; memcpy(&v, &bits, 4); }
                s += v * x[t];
            }
            float *out = y + j * ldy + i;
            *out = accumulate ? *out + s : s;
        }
}

CK_AVX2 static inline __attribute__((always_inline))
void half_gemm(const int wtype, long n, long o0, long o1, long k, const uint8_t *w, long wrow,
               const uint8_t *a, long arow, float *y, long ldy, int accumulate) {
    long ws = wrow / 2, as = arow / 4;
#define TILE(MR, NR) half_tile(wtype, MR, NR, (const uint16_t *)(w + o * wrow), ws, (const float *)(a + r * arow), as, k, y + r * ldy + o, ldy, accumulate)
    if (n == 1) {
        long r = 0, o = o0;
        for (; o + 4 <= o1; o += 4) TILE(4, 1);
        for (; o < o1; o++) TILE(1, 1);
        return;
    }
    for (long r = 0; r < n; r += 4) {
        long rows = n - r < 4 ? n - r : 4;
        long o = o0;
        switch (rows) {
        case 4: for (; o + 2 <= o1; o += 2) TILE(2, 4); for (; o < o1; o++) TILE(1, 4); break;
        case 3: for (; o + 2 <= o1; o += 2) TILE(2, 3); for (; o < o1; o++) TILE(1, 3); break;
        case 2: for (; o + 2 <= o1; o += 2) TILE(2, 2); for (; o < o1; o++) TILE(1, 2); break;
        default: for (; o + 4 <= o1; o += 4) TILE(4, 1); for (; o < o1; o++) TILE(1, 1); break;
        }
    }
#undef TILE
}

CK_AVX2 static void gemm_f16(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    half_gemm(CK_F16, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}
CK_AVX2 static void gemm_bf16(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow, float *y, long ldy, int acc) {
    half_gemm(CK_BF16, n, o0, o1, k, w, wrow, a, arow, y, ldy, acc);
}

/* int8 rows (one scale per output) against int8 activation rows (one scale per token): 2 × 4 tiles
   of exact int32 sums. */
CK_AVX2 static inline __attribute__((always_inline))
void int8_tile(const int MR, const int NR, const int8_t *w, long wrow, const uint8_t *a, long arow, long k,
               float *y, long ldy, int accumulate) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[MAX_MR][MAX_NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_si256();
    long c = 0;
    for (; c + 32 <= k; c += 32) {
        __m256i q[MAX_MR], magnitude[MAX_MR];
        for (int i = 0; i < MR; i++) {
            q[i] = _mm256_loadu_si256((const __m256i *)(w + i * wrow + c));
            magnitude[i] = _mm256_sign_epi8(q[i], q[i]);
        }
        for (int j = 0; j < NR; j++) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(a + j * arow + c));
            for (int i = 0; i < MR; i++) {
                __m256i products = _mm256_maddubs_epi16(magnitude[i], _mm256_sign_epi8(x, q[i]));
                acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(products, ones));
            }
        }
    }
    for (int i = 0; i < MR; i++) {
        const int8_t *wr = w + i * wrow;
        float sw;
        memcpy(&sw, wr + k, 4);
        for (int j = 0; j < NR; j++) {
            const int8_t *x = (const int8_t *)(a + j * arow);
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc[i][j]), _mm256_extracti128_si256(acc[i][j], 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            int64_t dot = _mm_cvtsi128_si32(s4);
            for (long t = c; t < k; t++) dot += wr[t] * x[t];
            float sa;
            memcpy(&sa, (const uint8_t *)x + k, 4);
            float v = sw * sa * (float)dot;
            float *out = y + j * ldy + i;
            *out = accumulate ? *out + v : v;
        }
    }
}

CK_AVX2 static void gemm_int8(long n, long o0, long o1, long k, const uint8_t *w, long wrow, const uint8_t *a, long arow,
                              float *y, long ldy, int accumulate) {
#define TILE(MR, NR) int8_tile(MR, NR, (const int8_t *)(w + o * wrow), wrow, a + r * arow, arow, k, y + r * ldy + o, ldy, accumulate)
    if (n == 1) {
        long r = 0, o = o0;
        for (; o + 4 <= o1; o += 4) TILE(4, 1);
        for (; o < o1; o++) TILE(1, 1);
        return;
    }
    for (long r = 0; r < n; r += 4) {
        long rows = n - r < 4 ? n - r : 4;
        long o = o0;
        switch (rows) {
        case 4: for (; o + 2 <= o1; o += 2) TILE(2, 4); for (; o < o1; o++) TILE(1, 4); break;
        case 3: for (; o + 2 <= o1; o += 2) TILE(2, 3); for (; o < o1; o++) TILE(1, 3); break;
        case 2: for (; o + 2 <= o1; o += 2) TILE(2, 2); for (; o < o1; o++) TILE(1, 2); break;
        default: for (; o + 4 <= o1; o += 4) TILE(4, 1); for (; o < o1; o++) TILE(1, 1); break;
        }
    }
#undef TILE
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
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)a;
    if (!ck_qgemm_has_avx2()) {
        ck_qgemm_reference(wtype, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate);
        return;
    }
    if (n >= PANEL_MIN_ROWS && panel_dispatch(wtype, n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate)) return;
    if (n >= HALF_PANEL_MIN_ROWS && ck_half_panel_gemm(wtype, n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate)) return;
    switch (wtype) {
    case CK_Q8_0: gemm_q8_0(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    case CK_Q4_0: gemm_q4_0(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    case CK_Q4_1: gemm_q4_1(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    case CK_Q5_0: gemm_q5_0(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    case CK_Q5_1: gemm_q5_1(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    case CK_F16: gemm_f16(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    case CK_BF16: gemm_bf16(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    case CK_INT8: gemm_int8(n, o0, o1, k, wb, wrow, ab, arow, y, ldy, accumulate); break;
    default: ck_qgemm_reference(wtype, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate); break;
    }
}

void ck_qgemm_panel(int wtype, long n, long o0, long o1, long k, const void *w, long wrow,
                    const void *a, long arow, float *y, long ldy, int accumulate) {
    if (ck_qgemm_has_avx2() && panel_dispatch(wtype, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate)) return;
    ck_qgemm(wtype, n, o0, o1, k, w, wrow, a, arow, y, ldy, accumulate);
}

/* ---- Threads ----
   One call quantizes the activation rows (rows split over the threads), then multiplies (outputs
   split over the threads, in multiples of 4 so every part runs whole tiles) on CKernels' pool. */

typedef struct {
    int wtype;
    long n, m, k, wrow, arow, ldy;
    const void *w;
    const float *x;
    const void *a;
    void *scratch;
    float *y;
    int accumulate;
} qgemm_job;

static void quantize_part(void *context, int part, int parts) {
    const qgemm_job *job = context;
    long r0 = job->n * part / parts, r1 = job->n * (part + 1) / parts;
    quantize_rows(job->wtype, job->x, r0, r1, job->k, job->scratch, ck_qgemm_has_avx2());
}

static void multiply_part(void *context, int part, int parts) {
    const qgemm_job *job = context;
    long units = (job->m + 3) / 4;
    long o0 = units * part / parts * 4, o1 = units * (part + 1) / parts * 4;
    if (o1 > job->m) o1 = job->m;
    if (o0 < o1) ck_qgemm(job->wtype, job->n, o0, o1, job->k, job->w, job->wrow, job->a, job->arow, job->y, job->ldy, job->accumulate);
}

void ck_qgemm_threaded(int wtype, long n, long m, long k, const void *w, long wrow, const float *x, void *scratch,
                       float *y, long ldy, int accumulate, int threads) {
    qgemm_job job = {wtype, n, m, k, wrow, ck_qact_row_bytes(wtype, k), ldy, w, x, NULL, scratch, y, accumulate};
    if (threads < 1) threads = 1;
    if (act_kind_for(wtype) == ACT_F32) {
        job.a = x;
    } else {
        int quantizers = n >= 2 * threads ? threads : 1;
        ck_parallel(quantizers, quantize_part, &job);
        job.a = scratch;
    }
    long units = (m + 3) / 4;
    int parts = units < threads ? (int)units : threads;
    ck_parallel(parts < 1 ? 1 : parts, multiply_part, &job);
}
