/* Small C kernels for loops Swift cannot vectorise. Swift's Float.squareRoot() lowers to a
   libm call with errno semantics, which blocks vectorisation; compiled here with
   -fno-math-errno, sqrtf becomes vsqrtps. Each kernel has a Swift reference the tests compare against. */
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>

/* One AdamW update (PyTorch's form) of n parameters:
   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
   p = p * decay - step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps). */
void ck_adamw_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                     size_t n, float beta1, float beta2, float eps, float step_size,
                     float inv_sqrt_bc2, float decay);

#endif
