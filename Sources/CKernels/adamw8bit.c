/* 8-bit AdamW with block-wise quantized moments; see ckernels.h. */
#include "ckernels.h"
#include <math.h>

/* Branchless: i counts the codes below x in eight halving steps (no mispredicted branches, and the
   requantization loop can vectorise with gathers), then the nearer of codes i-1 and i. */
static inline uint8_t nearest_code(const float *restrict map, float x) {
    unsigned i = 0;
    for (unsigned half = 128; half > 0; half >>= 1) i += (map[i + half - 1] < x) ? half : 0;
    const unsigned hi = i > 255 ? 255 : i, lo = i > 0 ? i - 1 : 0;
    return (uint8_t)((i > 0 && (i > 255 || x - map[lo] <= map[hi] - x)) ? lo : hi);
}

uint8_t ck_quantize_nearest(const float *restrict map, float x) { return nearest_code(map, x); }

void ck_adamw8bit_update(float *restrict p, const float *restrict g, uint8_t *restrict mq, float *restrict mscale,
                         uint8_t *restrict vq, float *restrict vscale, size_t n, size_t block,
                         const float *restrict smap, const float *restrict umap,
                         float beta1, float beta2, float eps, float step_size, float inv_sqrt_bc2, float decay) {
    const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
    float m[2048], v[2048];
    for (size_t start = 0, b = 0; start < n; start += block, b++) {
        const size_t count = n - start < block ? n - start : block;
        const float ms = mscale[b], vs = vscale[b];
        float mmax = 0.0f, vmax = 0.0f;
        for (size_t k = 0; k < count; k++) {
            const size_t i = start + k;
            const float gi = g[i];
            const float mi = beta1 * (smap[mq[i]] * ms) + one_minus_b1 * gi;
            const float vi = beta2 * (umap[vq[i]] * vs) + one_minus_b2 * gi * gi;
            m[k] = mi;
            v[k] = vi;
            p[i] = p[i] * decay - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
            mmax = fmaxf(mmax, fabsf(mi));
            vmax = fmaxf(vmax, vi);
        }
        mscale[b] = mmax;
        vscale[b] = vmax;
        const float minv = mmax > 0.0f ? 1.0f / mmax : 0.0f, vinv = vmax > 0.0f ? 1.0f / vmax : 0.0f;
        for (size_t k = 0; k < count; k++) {
            mq[start + k] = nearest_code(smap, m[k] * minv);
            vq[start + k] = nearest_code(umap, v[k] * vinv);
        }
    }
}
