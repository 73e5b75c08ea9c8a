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

/* ---- bf16 / fp16 matrix multiply and conversions (gemm_bf16.c) ----
   bf16 values are raw uint16_t bit patterns (the upper half of an IEEE float); matrices are
   row-major. Every function runs on any x86-64 CPU: the AVX512-BF16 path is chosen at run time,
   otherwise a portable (slow) C path runs. */

/* 1 when the CPU executes AVX512-BF16 (and AVX512 F/BW/VL), checked once at run time. */
int ck_has_avx512_bf16(void);

/* C[M x N] (fp32, row stride ldc) = alpha op(A) op(B), or C += alpha op(A) op(B) when accumulate != 0.
   op(A) is M x K: A stored M x K (A[m*lda + k]) when trans_a == 0, else stored K x M (A[k*lda + m]).
   op(B) is K x N: B stored K x N (B[k*ldb + n]) when trans_b == 0, else stored N x K (B[n*ldb + k]).
   Products are exact in fp32 and summed in fp32. Single-threaded: callers split work over threads
   by handing disjoint blocks of C (offset pointers). Packing buffers are per thread and reused. */
void ck_gemm_bf16(int trans_a, int trans_b, long M, long N, long K, float alpha,
                  const uint16_t *A, long lda, const uint16_t *B, long ldb,
                  float *C, long ldc, int accumulate);

/* The same product written as bf16 (round to nearest even) after adding bias[n] (fp32, may be NULL):
   C[m*ldc + n] = bf16(bias[n] + sum_k op(A)[m,k] op(B)[k,n]). Rounds in the kernel's store. */
void ck_gemm_bf16_out_bf16(int trans_a, int trans_b, long M, long N, long K,
                           const uint16_t *A, long lda, const uint16_t *B, long ldb,
                           uint16_t *C, long ldc, const float *bias);

/* Runs `iterations` rounds of 12 independent 16-lane VDPBF16PS chains (12 x 16 x 2 multiply-adds per
   round) for measuring the bf16 peak; returns their sum (so nothing is optimised away), or 0 without
   AVX512-BF16. */
float ck_bf16_dot_chains(long iterations);

/* float -> bf16, round to nearest even (subnormals kept); NaN stays (quiet) NaN, inf stays inf.
   Returns how many nonzero finite inputs became +-0 (only fp32 subnormals below 2^-133 do). */
long ck_f32_to_bf16(const float *x, uint16_t *y, long n);
/* bf16 -> float (exact). */
void ck_bf16_to_f32(const uint16_t *x, float *y, long n);
/* float -> IEEE half, round to nearest even (overflow to inf, gradual underflow). Returns how many
   nonzero finite inputs became +-0 (values flushed by fp16's range). */
long ck_f32_to_f16(const float *x, uint16_t *y, long n);
/* IEEE half -> float (exact). */
void ck_f16_to_f32(const uint16_t *x, float *y, long n);

/* The portable paths of the functions above, whatever the CPU; for tests that compare both paths. */
void ck_gemm_bf16_portable(int trans_a, int trans_b, long M, long N, long K, float alpha,
                           const uint16_t *A, long lda, const uint16_t *B, long ldb,
                           float *C, long ldc, int accumulate);
void ck_gemm_bf16_out_bf16_portable(int trans_a, int trans_b, long M, long N, long K,
                                    const uint16_t *A, long lda, const uint16_t *B, long ldb,
                                    uint16_t *C, long ldc, const float *bias);
long ck_f32_to_bf16_portable(const float *x, uint16_t *y, long n);
void ck_bf16_to_f32_portable(const uint16_t *x, float *y, long n);
long ck_f32_to_f16_portable(const float *x, uint16_t *y, long n);
void ck_f16_to_f32_portable(const uint16_t *x, float *y, long n);

/* ---- fp32 matrix multiply (gemm_f32.c) ---- */

/* 1 when the CPU executes AVX-512 F/BW/VL, checked once at run time. */
int ck_has_avx512(void);

/* C[M x N] = alpha op(A) op(B) + beta C, all row-major; beta must be 0 or 1 (beta = 0 never reads C,
   so C may hold garbage or NaN). op(A) is M x K: A stored M x K (A[m*lda + k]) when trans_a == 0,
   else stored K x M (A[k*lda + m]). op(B) is K x N: B stored K x N (B[k*ldb + n]) when trans_b == 0,
   else stored N x K (B[n*ldb + k]). Single-threaded, meant for small and mid-sized products (it
   packs only B; A is read in place). Packing buffers are per thread and reused. AVX-512 when the
   CPU has it, else the portable loops. */
void ck_sgemm(int trans_a, int trans_b, long M, long N, long K, float alpha, const float *A, long lda,
              const float *B, long ldb, float beta, float *C, long ldc);

/* The plain-loop path of ck_sgemm (fp32 sums in k order), whatever the CPU; for tests. */
void ck_sgemm_portable(int trans_a, int trans_b, long M, long N, long K, float alpha, const float *A, long lda,
                       const float *B, long ldb, float beta, float *C, long ldc);

/* Quantized products (quant_gemm.c): weight rows output-major in GGUF blocks (or f16/bf16 values,
   or int8 codes followed by an fp32 scale), activations quantized per row by ck_quantize_activations
   into the layout the weight type multiplies with (8-bit blocks of 32 with an fp32 scale, the block's
   scaled code sum and its integer code sum, for the offset or minimum of the 4- and 5-bit types;
   int8 with a per-row scale for int8; fp32 for f16/bf16).
   Weight type ids are GGUF's ggml_type ids where GGUF has the type. */
enum { CK_F16 = 1, CK_Q4_0 = 2, CK_Q4_1 = 3, CK_Q5_0 = 6, CK_Q5_1 = 7, CK_Q8_0 = 8, CK_BF16 = 30, CK_INT8 = 1000 };
/* Bytes of one quantized activation row of k values for weights of type wtype. */
long ck_qact_row_bytes(int wtype, long k);
/* Quantizes `rows` rows of k floats (row stride k) into `out` (row stride ck_qact_row_bytes). */
void ck_quantize_activations(int wtype, const float *x, long rows, long k, void *out);
/* y[r*ldy + o] (+)= dot(weight row o, activation row r) for o in [o0, o1) and r in [0, n); weight rows
   are `wrow` bytes apart, activation rows `arow`. AVX2 when the CPU has it, else the scalar twin. */
void ck_qgemm(int wtype, long n, long o0, long o1, long k, const void *w, long wrow,
              const void *a, long arow, float *y, long ldy, int accumulate);
/* ck_qgemm's packed-panel path for the block types (q8_0, q5_0, q5_1, q4_0, q4_1) whatever the row
   count (ck_qgemm takes it from 2 activation rows on); other types, or no AVX2, run ck_qgemm. For tests. */
void ck_qgemm_panel(int wtype, long n, long o0, long o1, long k, const void *w, long wrow,
                    const void *a, long arow, float *y, long ldy, int accumulate);
/* The scalar twin of ck_qgemm (same arithmetic; the tests compare the two). */
void ck_qgemm_reference(int wtype, long n, long o0, long o1, long k, const void *w, long wrow,
                        const void *a, long arow, float *y, long ldy, int accumulate);
/* Whether ck_qgemm runs its AVX2 path on this CPU. */
int ck_qgemm_has_avx2(void);
/* The scalar twin of ck_quantize_activations (identical bytes; for tests). */
void ck_quantize_activations_reference(int wtype, const float *x, long rows, long k, void *out);
/* y[r*ldy + o] (+)= x_r · W_o for r < n, o < m: quantizes x's n rows (k floats each) into `scratch`
   (n·ck_qact_row_bytes bytes; unused for f16/bf16 weights), then multiplies, both split over
   `threads` threads of the pool (ck_parallel). */
void ck_qgemm_threaded(int wtype, long n, long m, long k, const void *w, long wrow, const float *x, void *scratch,
                       float *y, long ldy, int accumulate, int threads);

/* A small pool of persistent worker threads (thread_pool.c): runs fn(context, part, parts) for part
   in [0, parts), part 0 on the calling thread; returns when all are done. Workers spin briefly
   between calls (a decode step makes dozens of calls a millisecond), then sleep. A call made while
   another thread's call is running runs its parts one after another on the caller. */
typedef void (*ck_task)(void *context, int part, int parts);
void ck_parallel(int parts, ck_task fn, void *context);

/* fp32 products of a few rows with an input-major W[k, m] (gemv_f32.c), for decode:
   y[r*ldy + o] += Σ_i x[r*k + i]·w[i*ldw + o] for r < n, o in [o0, o1). One row: W's rows streamed
   eight at a time; more rows: AVX2 panels of 32 outputs; the portable loop for the rest.
   ck_sgemv_threaded (ldw = ldy = m) sums two halves of W's rows for one row and m ≤ 2048 (the same
   result for every thread count), else splits the panels over the pool. */
void ck_sgemv(long n, long o0, long o1, long k, const float *x, const float *w, long ldw, float *y, long ldy);
void ck_sgemv_reference(long n, long o0, long o1, long k, const float *x, const float *w, long ldw, float *y, long ldy);
void ck_sgemv_threaded(long n, long m, long k, const float *x, const float *w, float *y, int threads);

/* Causal self-attention of an inference prefill into an empty cache (attention_f32.c): qkv [T, 3A]
   (q | k | v, heads side by side), out [T, A], query t over keys 0...t, split over `threads` threads
   of the pool by head and query block; no probabilities kept. Each output is computed the same way
   whatever the thread count. Only when ck_attention_supported(head width) (AVX2 + FMA, head width a
   multiple of 8); the Swift Attention.forward is its twin. Returns 0 when a thread could not allocate
   its scratch (the output is then incomplete: the caller runs the twin instead). */
int ck_attention_supported(long head_width);
int ck_attention_prefill(long T, long A, long heads, const float *qkv, float *out, int threads);

/* 16-bit weights (CK_F16, CK_BF16) against n fp32 activation rows on packed fp32 panels of 16 outputs
   (half_panel.c): the same contract as ck_qgemm; returns 0 (nothing done) for other types, without
   AVX2/FMA/F16C, or when the panel's scratch cannot be allocated. ck_qgemm uses it from HALF_PANEL_MIN_ROWS rows on. */
int ck_half_panel_gemm(int wtype, long n, long o0, long o1, long k, const void *w, long wrow, const void *a, long arow,
                       float *y, long ldy, int accumulate);

#endif
