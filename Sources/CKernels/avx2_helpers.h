/* Small AVX2 building blocks more than one kernel file uses: the horizontal sum of eight floats (one
   fixed order, so every caller's result is reproducible) and the 8 × 8 float transpose. */
#ifndef CK_AVX2_HELPERS_H
#define CK_AVX2_HELPERS_H
#include <immintrin.h>

/* ((v0+v4) + (v2+v6)) + ((v1+v5) + (v3+v7)). */
__attribute__((target("avx2,fma"))) static inline float ck_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/* Stores the transpose of eight 8-float rows: out[s·stride + r] = R[r][s] (out and stride 32-byte aligned). */
__attribute__((target("avx2,fma"))) static inline void ck_store_transposed8(const __m256 R[8], float *out, long stride) {
    __m256 t0 = _mm256_unpacklo_ps(R[0], R[1]), t1 = _mm256_unpackhi_ps(R[0], R[1]);
    __m256 t2 = _mm256_unpacklo_ps(R[2], R[3]), t3 = _mm256_unpackhi_ps(R[2], R[3]);
    __m256 t4 = _mm256_unpacklo_ps(R[4], R[5]), t5 = _mm256_unpackhi_ps(R[4], R[5]);
    __m256 t6 = _mm256_unpacklo_ps(R[6], R[7]), t7 = _mm256_unpackhi_ps(R[6], R[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_store_ps(out + 0 * stride, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_store_ps(out + 1 * stride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_store_ps(out + 2 * stride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_store_ps(out + 3 * stride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_store_ps(out + 4 * stride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_store_ps(out + 5 * stride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_store_ps(out + 6 * stride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_store_ps(out + 7 * stride, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif
