/* AdamW update loop; see ckernels.h. */
#include "ckernels.h"
#include <math.h>

void ck_adamw_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                     size_t n, float beta1, float beta2, float eps, float step_size,
                     float inv_sqrt_bc2, float decay) {
    const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
    for (size_t i = 0; i < n; i++) {
        const float gi = g[i];
        const float mi = beta1 * m[i] + one_minus_b1 * gi;
        const float vi = beta2 * v[i] + one_minus_b2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

void ck_adam_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                    size_t n, float beta1, float beta2, float eps, float step_size,
                    float inv_sqrt_bc2, float l2) {
    const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
    for (size_t i = 0; i < n; i++) {
        const float gi = g[i] + l2 * p[i];
        const float mi = beta1 * m[i] + one_minus_b1 * gi;
        const float vi = beta2 * v[i] + one_minus_b2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}
