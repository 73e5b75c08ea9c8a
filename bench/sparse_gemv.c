/* Does a sparse kernel beat the dense one for a pruned matrix on this CPU? Single-thread decode
   products y = W·x (W output-major, [out, in]) at 50% unstructured sparsity and at 2:4, against
   OpenBLAS's dense cblas_sgemv over the same matrix (zeros included):
     csr     kept values + int32 column per row (the usual sparse format);
     bitmap  the model.sparse.safetensors layout: one bit per weight, kept values in order;
     2:4     two kept values per group of four inputs + their positions (one byte each).
   Build and run (from the package root):
     make bench-kernels && .build/bench/sparse_gemv [repetitions (default 201)]
   Prints per shape the median microseconds per product of each kernel (thread CPU time,
   interleaved) and its speed against dense; each sparse result is checked against dense. */
#include "bench_support.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int);

typedef struct { const char *name; int out, in; } shape;

static void csr_gemv(int out, const int *starts, const int *cols, const float *vals, const float *x, float *y) {
    for (int r = 0; r < out; r++) {
        float sum = 0;
        for (int i = starts[r]; i < starts[r + 1]; i++) sum += vals[i] * x[cols[i]];
        y[r] = sum;
    }
}

static void bitmap_gemv(int out, int in, const uint8_t *bits, const float *vals, const float *x, float *y) {
    const float *v = vals;
    for (int r = 0; r < out; r++) {
        float sum = 0;
        const uint8_t *row = bits + (size_t)r * in / 8;
        for (int b = 0; b < in / 8; b++) {
            unsigned word = row[b];
            while (word) {
                int j = __builtin_ctz(word);
                sum += *v++ * x[b * 8 + j];
                word &= word - 1;
            }
        }
        y[r] = sum;
    }
}

static void nm24_gemv(int out, int in, const float *vals, const uint8_t *pos, const float *x, float *y) {
    const int groups = in / 4;
    for (int r = 0; r < out; r++) {
        const float *v = vals + (size_t)r * groups * 2;
        const uint8_t *p = pos + (size_t)r * groups * 2;
        float sum = 0;
        for (int g = 0; g < groups; g++) sum += v[2 * g] * x[4 * g + p[2 * g]] + v[2 * g + 1] * x[4 * g + p[2 * g + 1]];
        y[r] = sum;
    }
}

static double max_error(const float *a, const float *b, int n) {
    double worst = 0;
    for (int i = 0; i < n; i++) { double e = fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i])); if (e > worst) worst = e; }
    return worst;
}

static void bench(shape s, int reps) {
    const int out = s.out, in = s.in;
    float *unstructured = malloc(sizeof(float) * out * in), *pattern = malloc(sizeof(float) * out * in);
    float *x = malloc(sizeof(float) * in), *y = malloc(sizeof(float) * out), *ref = malloc(sizeof(float) * out);
    for (int k = 0; k < in; k++) x[k] = uniform();
    /* 50% unstructured: each weight kept with probability 1/2; 2:4: two of each group of four. */
    for (long i = 0; i < (long)out * in; i++) { float w = uniform(); unstructured[i] = uniform() > 0 ? w : 0; }
    for (long g = 0; g < (long)out * in / 4; g++) {
        int a = (int)((uniform() + 1) * 2) & 3, b = (a + 1 + ((int)((uniform() + 1) * 1.5) % 3)) & 3;
        for (int j = 0; j < 4; j++) pattern[g * 4 + j] = (j == a || j == b) ? uniform() : 0;
    }
    int *starts = malloc(sizeof(int) * (out + 1)), *cols = malloc(sizeof(int) * out * in);
    float *vals = malloc(sizeof(float) * out * in), *bvals = malloc(sizeof(float) * out * in);
    uint8_t *bits = calloc((size_t)out * in / 8, 1);
    int n = 0, m = 0;
    for (int r = 0; r < out; r++) {
        starts[r] = n;
        for (int k = 0; k < in; k++) {
            float w = unstructured[(long)r * in + k];
            if (w != 0) { cols[n] = k; vals[n++] = w; bits[((long)r * in + k) / 8] |= 1u << (k % 8); bvals[m++] = w; }
        }
    }
    starts[out] = n;
    float *nvals = malloc(sizeof(float) * out * in / 2);
    uint8_t *npos = malloc((size_t)out * in / 2);
    long q = 0;
    for (long g = 0; g < (long)out * in / 4; g++)
        for (int j = 0; j < 4; j++) if (pattern[g * 4 + j] != 0) { nvals[q] = pattern[g * 4 + j]; npos[q++] = (uint8_t)j; }

    double *t_dense = malloc(sizeof(double) * reps), *t_csr = malloc(sizeof(double) * reps), *t_bit = malloc(sizeof(double) * reps);
    double *t_dense24 = malloc(sizeof(double) * reps), *t_24 = malloc(sizeof(double) * reps);
    double err = 0;
    for (int i = 0; i < reps; i++) {
        double t0 = now();
        cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1, unstructured, in, x, 1, 0, ref, 1);
        double t1 = now();
        csr_gemv(out, starts, cols, vals, x, y);
        double t2 = now();
        if (i == 0) err = fmax(err, max_error(y, ref, out));
        bitmap_gemv(out, in, bits, bvals, x, y);
        double t3 = now();
        if (i == 0) err = fmax(err, max_error(y, ref, out));
        cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1, pattern, in, x, 1, 0, ref, 1);
        double t4 = now();
        nm24_gemv(out, in, nvals, npos, x, y);
        double t5 = now();
        if (i == 0) err = fmax(err, max_error(y, ref, out));
        t_dense[i] = t1 - t0; t_csr[i] = t2 - t1; t_bit[i] = t3 - t2; t_dense24[i] = t4 - t3; t_24[i] = t5 - t4;
    }
    double d = median(t_dense, reps), c = median(t_csr, reps), b = median(t_bit, reps), d24 = median(t_dense24, reps), p = median(t_24, reps);
    printf("%-22s %5d x %-5d  dense %7.2f us | csr %7.2f us (%.2fx) | bitmap %7.2f us (%.2fx) || dense %7.2f us | 2:4 %7.2f us (%.2fx)  err %.1e\n",
           s.name, out, in, d * 1e6, c * 1e6, d / c, b * 1e6, d / b, d24 * 1e6, p * 1e6, d24 / p, err);
    free(unstructured); free(pattern); free(x); free(y); free(ref); free(starts); free(cols); free(vals); free(bvals);
    free(bits); free(nvals); free(npos); free(t_dense); free(t_csr); free(t_bit); free(t_dense24); free(t_24);
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 201;
    openblas_set_num_threads(1);
    shape shapes[] = {
        {"small c_attn", 576, 192}, {"small attn c_proj", 192, 192}, {"small c_fc", 768, 192}, {"small mlp c_proj", 192, 768},
        {"baby c_attn", 1152, 384}, {"baby attn c_proj", 384, 384}, {"baby c_fc", 1536, 384}, {"baby mlp c_proj", 384, 1536},
    };
    for (unsigned i = 0; i < sizeof shapes / sizeof *shapes; i++) bench(shapes[i], reps);
    return 0;
}
