/* 8-bit AdamW with block-wise quantized moments; see ckernels.h. */
#include "ckernels.h"
#include <math.h>

#include <string.h>

static const uint32_t smallest_bits = 0x33800000u;   /* 2^-24 */

void ck_build_code_index(const float *restrict map, ck_code_index *restrict index) {
    for (int k = 0; k < 256; k++) index->map[k] = map[k];
    index->map[256] = INFINITY;
    for (uint32_t b = 0; b < CK_CODE_BUCKETS; b++) {
        const uint32_t start_bits = ((smallest_bits >> 15) + b) << 15, end_bits = ((smallest_bits >> 15) + b + 1) << 15;
        float start, end;
        memcpy(&start, &start_bits, 4);
        memcpy(&end, &end_bits, 4);
        /* Bucket 0 also takes |x| < 2^-24 (and 0): count from 0 for x >= 0. */
        const float low_positive = b == 0 ? 0.0f : start;
        uint16_t positive = 0, negative = 0;
        for (int k = 0; k < 256; k++) {
            positive += map[k] < low_positive;
            negative += map[k] < -end;
        }
        index->below_positive[b] = positive;
        index->below_negative[b] = negative;
    }
}

/* Codes below x from the bucket's count plus two compares, then the nearer of codes i-1 and i.
   Branch-free, so the requantization loop vectorises. */
static inline uint8_t nearest_code(const ck_code_index *restrict index, float x) {
    float a = fabsf(x);
    a = fminf(fmaxf(a, 0x1p-24f), 0x1.fffffep0f);
    uint32_t bits;
    memcpy(&bits, &a, 4);
    const uint32_t b = (bits >> 15) - (smallest_bits >> 15);
    unsigned i = x < 0.0f ? index->below_negative[b] : index->below_positive[b];
    i += index->map[i] < x;
    i += index->map[i] < x;
    const unsigned hi = i > 255 ? 255 : i, lo = i > 0 ? i - 1 : 0;
    return (uint8_t)((i > 0 && (i > 255 || x - index->map[lo] <= index->map[hi] - x)) ? lo : hi);
}

uint8_t ck_quantize_nearest(const ck_code_index *restrict index, float x) { return nearest_code(index, x); }

void ck_adamw8bit_update(float *restrict p, const float *restrict g, uint8_t *restrict mq, float *restrict mscale,
                         uint8_t *restrict vq, float *restrict vscale, size_t n, size_t block,
                         const ck_code_index *restrict smap, const ck_code_index *restrict umap,
                         float beta1, float beta2, float eps, float step_size, float inv_sqrt_bc2, float decay) {
    const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
    float m[2048], v[2048];
    for (size_t start = 0, b = 0; start < n; start += block, b++) {
        const size_t count = n - start < block ? n - start : block;
        const float ms = mscale[b], vs = vscale[b];
        float *restrict pb = p + start;
        const float *restrict gb = g + start;
        const uint8_t *restrict mqb = mq + start, *restrict vqb = vq + start;
        /* The update (vectorises: no reduction in this loop). */
        for (size_t k = 0; k < count; k++) {
            const float gi = gb[k];
            const float mi = beta1 * (smap->map[mqb[k]] * ms) + one_minus_b1 * gi;
            const float vi = beta2 * (umap->map[vqb[k]] * vs) + one_minus_b2 * gi * gi;
            m[k] = mi;
            v[k] = vi;
            pb[k] = pb[k] * decay - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
        }
        /* Block absmax / max as integers: non-negative floats order like their bit patterns, and an
           integer max reduction vectorises (a float one does not without fast-math). */
        uint32_t mbits = 0, vbits = 0;
        for (size_t k = 0; k < count; k++) {
            uint32_t a, c;
            memcpy(&a, &m[k], 4);
            memcpy(&c, &v[k], 4);
            a &= 0x7fffffffu;
            c &= 0x7fffffffu;
            mbits = a > mbits ? a : mbits;
            vbits = c > vbits ? c : vbits;
        }
        float mmax, vmax;
        memcpy(&mmax, &mbits, 4);
        memcpy(&vmax, &vbits, 4);
        mscale[b] = mmax;
        vscale[b] = vmax;
        const float minv = mmax > 0.0f ? 1.0f / mmax : 0.0f, vinv = vmax > 0.0f ? 1.0f / vmax : 0.0f;
        for (size_t k = 0; k < count; k++) {
            mq[start + k] = nearest_code(smap, m[k] * minv);
            vq[start + k] = nearest_code(umap, v[k] * vinv);
        }
    }
}
