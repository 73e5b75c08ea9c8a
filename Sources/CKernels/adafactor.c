/* Adafactor update loops; see ckernels.h. Sums run in double so the row/column means and the
   update RMS do not depend on the matrix size's rounding. */
#include "ckernels.h"
#include <math.h>

void ck_adafactor_factored(float *restrict p, const float *restrict g, float *restrict row, float *restrict col,
                           size_t rows, size_t cols, float beta2t, float eps1, float clip, float lr,
                           float decay, float *restrict scratch) {
    const float keep = 1.0f - beta2t;
    /* Column sums of g^2 + eps1 accumulate in scratch (float, row by row: vectorises). */
    for (size_t j = 0; j < cols; j++) scratch[j] = 0.0f;
    double row_total = 0.0;
    for (size_t i = 0; i < rows; i++) {
        const float *gi = g + i * cols;
        double sum = 0.0;
        for (size_t j = 0; j < cols; j++) {
            const float s = gi[j] * gi[j] + eps1;
            scratch[j] += s;
            sum += s;
        }
        row[i] = beta2t * row[i] + keep * (float)(sum / (double)cols);
        row_total += row[i];
    }
    for (size_t j = 0; j < cols; j++) col[j] = beta2t * col[j] + keep * (scratch[j] / (float)rows);
    const float row_mean = (float)(row_total / (double)rows);
    /* scratch := 1/sqrt(c_j); the row factor is 1/sqrt(r_i / mean(r)). */
    for (size_t j = 0; j < cols; j++) scratch[j] = 1.0f / sqrtf(col[j]);
    double squares = 0.0;
    for (size_t i = 0; i < rows; i++) {
        const float r = 1.0f / sqrtf(row[i] / row_mean);
        const float *gi = g + i * cols;
        double sum = 0.0;
        for (size_t j = 0; j < cols; j++) {
            const float u = gi[j] * r * scratch[j];
            sum += u * u;
        }
        squares += sum;
    }
    const float rms = (float)sqrt(squares / (double)(rows * cols));
    const float divisor = fmaxf(1.0f, rms / clip);
    const float scale = lr / divisor;
    for (size_t i = 0; i < rows; i++) {
        const float r = 1.0f / sqrtf(row[i] / row_mean);
        const float *gi = g + i * cols;
        float *pi = p + i * cols;
        for (size_t j = 0; j < cols; j++) pi[j] = pi[j] * decay - scale * (gi[j] * r * scratch[j]);
    }
}

void ck_adafactor_vector(float *restrict p, const float *restrict g, float *restrict v, size_t n,
                         float beta2t, float eps1, float clip, float lr, float decay) {
    const float keep = 1.0f - beta2t;
    double squares = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float vi = beta2t * v[i] + keep * (g[i] * g[i] + eps1);
        v[i] = vi;
        const float u = g[i] / sqrtf(vi);
        squares += u * u;
    }
    const float rms = (float)sqrt(squares / (double)n);
    const float scale = lr / fmaxf(1.0f, rms / clip);
    for (size_t i = 0; i < n; i++) p[i] = p[i] * decay - scale * (g[i] / sqrtf(v[i]));
}
