/* Small C kernels for loops Swift cannot vectorise. Swift's Float.squareRoot() lowers to a
   libm call with errno semantics, which blocks vectorisation; compiled here with
   -fno-math-errno, sqrtf becomes vsqrtps. Each kernel has a Swift reference the tests compare against. */
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/* One AdamW update (PyTorch's form) of n parameters:
   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
   p = p * decay - step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps). */
void ck_adamw_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                     size_t n, float beta1, float beta2, float eps, float step_size,
                     float inv_sqrt_bc2, float decay);

/* One Adam update with coupled L2 weight decay (torch.optim.Adam): g' = g + l2 p, then as
   ck_adamw_update with decay = 1. */
void ck_adam_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                    size_t n, float beta1, float beta2, float eps, float step_size,
                    float inv_sqrt_bc2, float l2);

/* Adafactor (Shazeer & Stern 2018, Hugging Face's form, no first moment) on a rows x cols matrix:
   r_i = b2t r_i + (1-b2t) mean_j(g^2 + eps1);  c_j = b2t c_j + (1-b2t) mean_i(g^2 + eps1);
   u_ij = g_ij / sqrt(r_i / mean(r)) / sqrt(c_j);  u /= max(1, rms(u) / clip);
   p = p * decay - lr u.  `scratch` holds cols floats. */
void ck_adafactor_factored(float *restrict p, const float *restrict g, float *restrict row, float *restrict col,
                           size_t rows, size_t cols, float beta2t, float eps1, float clip, float lr,
                           float decay, float *restrict scratch);

/* Adafactor on a vector: v = b2t v + (1-b2t)(g^2 + eps1); u = g / sqrt(v); u /= max(1, rms(u)/clip);
   p = p * decay - lr u. */
void ck_adafactor_vector(float *restrict p, const float *restrict g, float *restrict v, size_t n,
                         float beta2t, float eps1, float clip, float lr, float decay);

/* A 256-code quantization map with a lookup index for nearest-code search: `map` holds the sorted
   codes and +inf at [256]; `below_positive[b]` / `below_negative[b]` count the codes below the start
   of bucket b (for x >= 0) or below -(end of bucket b) (for x < 0), where the buckets split |x| in
   [2^-24, 2) by exponent and the top 8 mantissa bits. No bucket holds two codes of the dynamic maps
   (their smallest relative gap, 0.7%, exceeds a bucket's 0.4%), so two compares finish the count. */
#define CK_CODE_BUCKETS 6400
typedef struct {
    float map[257];
    uint16_t below_positive[CK_CODE_BUCKETS];
    uint16_t below_negative[CK_CODE_BUCKETS];
} ck_code_index;

/* Fills `index` for the sorted 256-entry `map`. */
void ck_build_code_index(const float *restrict map, ck_code_index *restrict index);

/* 8-bit AdamW (block-wise dynamic quantization, as bitsandbytes' blockwise optimizers): per block
   of `block` (<= 2048) values, m = smap[mq] * mscale, v = umap[vq] * vscale; the AdamW update as
   ck_adamw_update; then each block is requantized to the nearest code of its map after scaling
   by the block's new absmax (m) and max (v). The maps are 256 sorted codes in [-1, 1] / [0, 1]. */
void ck_adamw8bit_update(float *restrict p, const float *restrict g, uint8_t *restrict mq, float *restrict mscale,
                         uint8_t *restrict vq, float *restrict vscale, size_t n, size_t block,
                         const ck_code_index *restrict smap, const ck_code_index *restrict umap,
                         float beta1, float beta2, float eps, float step_size, float inv_sqrt_bc2, float decay);

/* Index of the code nearest to x (ties go to the lower code). */
uint8_t ck_quantize_nearest(const ck_code_index *restrict index, float x);

#endif
