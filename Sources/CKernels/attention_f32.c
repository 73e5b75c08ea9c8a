/* Causal self-attention of an inference prefill (every query attends over the keys up to its own
   position, nothing cached before), split over the pool by head and by blocks of query rows. The
   training forward keeps Attention.forward (per-head sgemm calls and a saved T × T probability matrix
   for backward); a prefill needs neither the probabilities nor OpenBLAS's threads, and its ~13 ms of
   attention, LayerNorm and GELU used to run on one thread while the other waited.

   One item = one head × one block of query rows (four blocks at √-spaced rows when threaded, so the
   causal work is even); the pool's threads claim items from a shared counter. An item transposes the head's keys up to its last row
   into Kt[d][j] (16 keys padded with zeros), then for every four query rows: scores against 16 keys
   at a time (broadcast q[t][d], two 8-key FMAs per row), softmax on the row's causal prefix (exp as
   in FastMath.exp, same polynomial), and the weighted sum of value rows (broadcast p[t][j], FMAs over
   the head's columns). Every output element is computed by the same arithmetic whatever the number
   of items, so a threaded prefill equals a one-thread prefill bit for bit. The plain twin is
   Attention.forward / AttentionReference in Swift; the tests compare with them. */
#include "ckernels.h"
#include "scratch_buffer.h"
#include "avx2_helpers.h"
#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#define CK_AVX2 __attribute__((target("avx2,fma")))
#define ROWS 4   /* query rows per tile */
#define KEYS 16  /* keys per score tile */

static _Thread_local void *attention_buffer;
static _Thread_local size_t attention_capacity;

/* This thread's scratch (see scratch_buffer.h); NULL if it cannot be allocated. */
static float *attention_storage(size_t floats) {
    return ck_grow_scratch(&attention_buffer, &attention_capacity, floats * sizeof(float));
}

/* e^x as FastMath.exp: clamp, x = n·ln2 + r (Cody–Waite), degree-6 Taylor polynomial, 2^n by the exponent. */
CK_AVX2 static inline __m256 exp_avx2(__m256 x) {
    const __m256 shifter = _mm256_set1_ps(12582912.0f);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), shifter);
    __m256 n = _mm256_sub_ps(t, shifter);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.69314575f)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(1.4286068e-6f)));
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(shifter)), _mm256_set1_epi32(127));
    return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23)));
}

CK_AVX2 static inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

typedef struct {
    long T, A, hs, heads, blocks;
    float scale;
    const float *qkv;
    float *out;
    atomic_long next;   /* the next unclaimed (head, block) item */
    atomic_int failed;  /* a thread could not allocate its scratch: the caller falls back */
} attention_job;

/* Scores of NR rows q, q + 3A, … against keys [0, keys) (keys a multiple of KEYS) into S (stride ls).
   NR is a constant where it is inlined, so the accumulators stay in registers. */
CK_AVX2 static inline __attribute__((always_inline))
void scores_tile(const int NR, const attention_job *job, const float *q, const float *Kt, long kstride, long keys,
                 float *S, long ls) {
    const long hs = job->hs, rs = 3 * job->A;
    const __m256 scale = _mm256_set1_ps(job->scale);
    for (long j = 0; j < keys; j += KEYS) {
        __m256 acc[ROWS][2];
        for (int i = 0; i < NR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        for (long d = 0; d < hs; d++) {
            __m256 k0 = _mm256_load_ps(Kt + d * kstride + j), k1 = _mm256_load_ps(Kt + d * kstride + j + 8);
            for (int i = 0; i < NR; i++) {
                __m256 x = _mm256_broadcast_ss(q + i * rs + d);
                acc[i][0] = _mm256_fmadd_ps(x, k0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(x, k1, acc[i][1]);
            }
        }
        for (int i = 0; i < NR; i++) {
            _mm256_store_ps(S + i * ls + j, _mm256_mul_ps(acc[i][0], scale));
            _mm256_store_ps(S + i * ls + j + 8, _mm256_mul_ps(acc[i][1], scale));
        }
    }
}

/* Softmax of row S over its first `count` entries; entries from count up to `padded` become 0. */
CK_AVX2 static void softmax_row(float *S, long count, long padded) {
    long full = count & ~7L;
    __m256 m = _mm256_set1_ps(-INFINITY);
    for (long j = 0; j < full; j += 8) m = _mm256_max_ps(m, _mm256_load_ps(S + j));
    float maximum = hmax(m);
    for (long j = full; j < count; j++) maximum = S[j] > maximum ? S[j] : maximum;
    for (long j = count; j < padded; j++) S[j] = -INFINITY;   /* exp → 0 */
    __m256 mx = _mm256_set1_ps(maximum), sum = _mm256_setzero_ps();
    for (long j = 0; j < padded; j += 8) {
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_load_ps(S + j), mx));
        e = _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(_mm256_load_ps(S + j), _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ));
        _mm256_store_ps(S + j, e);
        sum = _mm256_add_ps(sum, e);
    }
    __m256 inverse = _mm256_set1_ps(1 / ck_hsum8(sum));
    for (long j = 0; j < padded; j += 8) _mm256_store_ps(S + j, _mm256_mul_ps(_mm256_load_ps(S + j), inverse));
}

/* y[i] (row i of the tile, stride A) = Σ_{j < keys} S[i][j] · v_j over the head's columns, NV vectors
   of 8 from column c0; NR and NV are constants where it is inlined. */
CK_AVX2 static inline __attribute__((always_inline))
void values_columns(const int NR, const int NV, const attention_job *job, const float *v, const float *S, long ls,
                    long keys, long c0, float *y) {
    const long rs = 3 * job->A;
    __m256 acc[ROWS][2];
    for (int i = 0; i < NR; i++)
        for (int c = 0; c < NV; c++) acc[i][c] = _mm256_setzero_ps();
    for (long j = 0; j < keys; j++) {
        const float *vr = v + j * rs + c0;
        __m256 vv[2];
        for (int c = 0; c < NV; c++) vv[c] = _mm256_loadu_ps(vr + 8 * c);
        for (int i = 0; i < NR; i++) {
            __m256 p = _mm256_broadcast_ss(S + i * ls + j);
            for (int c = 0; c < NV; c++) acc[i][c] = _mm256_fmadd_ps(p, vv[c], acc[i][c]);
        }
    }
    for (int i = 0; i < NR; i++)
        for (int c = 0; c < NV; c++) _mm256_storeu_ps(y + i * job->A + c0 + 8 * c, acc[i][c]);
}

/* One tile of NR query rows from t0: scores, softmax of each row's causal prefix, weighted values. */
CK_AVX2 static inline __attribute__((always_inline))
void attention_tile(const int NR, const attention_job *job, const float *q, const float *v, const float *Kt,
                    long kstride, float *S, long t0, float *y) {
    const long hs = job->hs, keys = t0 + NR, padded = (keys + KEYS - 1) / KEYS * KEYS;
    scores_tile(NR, job, q + t0 * 3 * job->A, Kt, kstride, padded, S, kstride);
    for (int i = 0; i < NR; i++) softmax_row(S + i * kstride, t0 + i + 1, padded);
    long c0 = 0;
    for (; c0 + 16 <= hs; c0 += 16) values_columns(NR, 2, job, v, S, kstride, keys, c0, y);   /* 4 × 2 accumulators */
    for (; c0 < hs; c0 += 8) values_columns(NR, 1, job, v, S, kstride, keys, c0, y);
}

/* Kt[d·kstride + j] = k[j·rs + d] for j < keys, 0 for keys ≤ j < kstride (kstride, hs multiples of 8). */
CK_AVX2 static void transpose_keys(const float *k, long rs, long keys, long hs, float *Kt, long kstride) {
    for (long j = 0; j < kstride; j += 8) {
        for (long d = 0; d < hs; d += 8) {
            __m256 R[8];
            for (int r = 0; r < 8; r++) R[r] = j + r < keys ? _mm256_loadu_ps(k + (j + r) * rs + d) : _mm256_setzero_ps();
            ck_store_transposed8(R, Kt + d * kstride + j, kstride);
        }
    }
}

/* Item = (head, block of query rows). Blocks split the causal work (∝ t) into equal shares. */
CK_AVX2 static void attention_item(attention_job *job, long part) {
    const long T = job->T, A = job->A, hs = job->hs, rs = 3 * A;
    const long h = part / job->blocks, block = part % job->blocks;
    /* Row range of this block: r = T·sqrt(b / blocks), rounded to whole tiles. */
    long r0 = (long)(T * sqrt((double)block / job->blocks)) / ROWS * ROWS;
    long r1 = block + 1 == job->blocks ? T : (long)(T * sqrt((double)(block + 1) / job->blocks)) / ROWS * ROWS;
    if (r0 >= r1) return;
    const long kstride = (r1 + KEYS - 1) / KEYS * KEYS;   /* keys up to r1, padded */
    float *Kt = attention_storage((size_t)(hs * kstride + ROWS * kstride) + 16);
    if (!Kt) { atomic_store(&job->failed, 1); return; }
    float *S = Kt + hs * kstride;
    const float *q = job->qkv + h * hs, *k = q + A, *v = q + 2 * A;
    transpose_keys(k, rs, r1, hs, Kt, kstride);
    long t0 = r0;
    for (; t0 + ROWS <= r1; t0 += ROWS) attention_tile(ROWS, job, q, v, Kt, kstride, S, t0, job->out + t0 * A + h * hs);
    switch (r1 - t0) {
    case 3: attention_tile(3, job, q, v, Kt, kstride, S, t0, job->out + t0 * A + h * hs); break;
    case 2: attention_tile(2, job, q, v, Kt, kstride, S, t0, job->out + t0 * A + h * hs); break;
    case 1: attention_tile(1, job, q, v, Kt, kstride, S, t0, job->out + t0 * A + h * hs); break;
    default: break;
    }
}

/* One thread of the pool: claims items until none is left (a parked thread delays only its own item). */
static void attention_thread(void *context, int part, int parts) {
    (void)part; (void)parts;
    attention_job *job = context;
    long items = job->heads * job->blocks;
    for (long item; (item = atomic_fetch_add(&job->next, 1)) < items;) attention_item(job, item);
}

int ck_attention_supported(long head_width) {
    static int has = -1;
    if (has < 0) { __builtin_cpu_init(); has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
    return has && head_width > 0 && head_width % 8 == 0;
}

int ck_attention_prefill(long T, long A, long heads, const float *qkv, float *out, int threads) {
    attention_job job = {T, A, A / heads, heads, 1, 0, qkv, out, 0, 0};
    job.scale = 1.0f / sqrtf((float)job.hs);
    /* Enough items for the threads to balance, few enough to reuse each key transpose. */
    job.blocks = threads <= 1 ? 1 : (T >= 64 ? 4 : 1);
    if (threads < 1) threads = 1;
    if (threads > heads * job.blocks) threads = (int)(heads * job.blocks);
    ck_parallel(threads, attention_thread, &job);
    return !atomic_load(&job.failed);
}
