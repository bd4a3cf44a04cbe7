/* mlrn_linear.h: linear decision functions w.x + b over flash tables, argmax, softmax.
 *
 * Arithmetic order (shared with the Python mirror microlearn.exporter.linear):
 *   acc = 0.0f; acc = acc + w[k] * x[k] for k = 0..d-1 in index order; f = acc + b.
 * Tables W (rows x d, row-major) and b (rows) are const tables (PROGMEM on AVR). */
#ifndef MLRN_LINEAR_H
#define MLRN_LINEAR_H
#include "mlrn.h"
#include "mlrn_math.h"

MLRN_FP_EXACT_BEGIN

static inline float mlrn_linear_score(const float *w_flash, float b, uint16_t d, const float *x) {
    float acc = 0.0f;
    uint16_t k;
    for (k = 0; k < d; k++) acc = acc + mlrn_flash_f32(&w_flash[k]) * x[k];
    return acc + b;
}

/* out[r] = W[r].x + b[r] for r < rows. */
static inline void mlrn_linear_scores(const float *W_flash, const float *b_flash, uint16_t rows, uint16_t d,
                                      const float *x, float *out) {
    uint16_t r;
    for (r = 0; r < rows; r++)
        out[r] = mlrn_linear_score(&W_flash[(uint32_t)r * d], mlrn_flash_f32(&b_flash[r]), d, x);
}

/* A linear regressor's value: acc = b; acc = acc + w[k] * x[k] for k = 0..d-1 in index order (the Python
 * mirror: microlearn.exporter.regress.values_mirror). Starting from b instead of 0 saves the addition of
 * 0 + w[0] x[0] (a soft-float addition on AVR, ~100 cycles); the weights are read by a stepped pointer. */
static inline float mlrn_linear_value(const float *w_flash, float b, uint16_t d, const float *x) {
    float acc = b;
    uint16_t k;
    for (k = 0; k < d; k++, w_flash++) acc = acc + mlrn_flash_f32(w_flash) * x[k];
    return acc;
}

/* out[r] = mlrn_linear_value(W[r], b[r]) for r < rows (multi-output linear regressors). */
static inline void mlrn_linear_values(const float *W_flash, const float *b_flash, uint16_t rows, uint16_t d,
                                      const float *x, float *out) {
    uint16_t r;
    for (r = 0; r < rows; r++) out[r] = mlrn_linear_value(&W_flash[(uint32_t)r * d], mlrn_flash_f32(&b_flash[r]), d, x);
}

/* argmax over the rows without storing the scores: first maximum wins (numpy's argmax). */
static inline int32_t mlrn_linear_argmax(const float *W_flash, const float *b_flash, uint16_t rows, uint16_t d,
                                         const float *x) {
    int32_t best = 0;
    float best_f = 0.0f;
    uint16_t r;
    for (r = 0; r < rows; r++) {
        float f = mlrn_linear_score(&W_flash[(uint32_t)r * d], mlrn_flash_f32(&b_flash[r]), d, x);
        if (r == 0 || f > best_f) { best_f = f; best = (int32_t)r; }
    }
    return best;
}

/* argmax over n_rows + 1 classes given difference rows D[r] = W[r+1] - W[0], c[r] = b[r+1] - b[0]:
 * class 0 scores 0, class r+1 scores D[r].x + c[r]; first maximum wins (ties go to class 0). */
static inline int32_t mlrn_linear_argmax_vs0(const float *D_flash, const float *c_flash, uint16_t n_rows,
                                             uint16_t d, const float *x) {
    int32_t best = 0;
    float best_f = 0.0f;
    uint16_t r;
    for (r = 0; r < n_rows; r++) {
        float f = mlrn_linear_score(&D_flash[(uint32_t)r * d], mlrn_flash_f32(&c_flash[r]), d, x);
        if (f > best_f) { best_f = f; best = (int32_t)r + 1; }
    }
    return best;
}

/* First index of the maximum of v[0..n-1]. */
static inline int32_t mlrn_linear_argmax_f32(const float *v, uint16_t n) {
    int32_t best = 0;
    uint16_t i;
    for (i = 1; i < n; i++)
        if (v[i] > v[best]) best = (int32_t)i;
    return best;
}

static inline int32_t mlrn_linear_argmax_u16(const uint16_t *v, uint16_t n) {
    int32_t best = 0;
    uint16_t i;
    for (i = 1; i < n; i++)
        if (v[i] > v[best]) best = (int32_t)i;
    return best;
}

/* Probabilities stay out of float32's subnormal range (below 1.2e-38), where soft-float libraries
 * (avr-libc) round differently from IEEE hardware: so every target gives the same bits.
 * Exponentials below e^-80 (1.8e-35) are floored (expit) or zero (softmax); a normalised value
 * then stays normal for up to 1,500 classes. */
#define MLRN_LINEAR_PROBA_MIN_LOG (-80.0f)

/* Largest finite float32 (float.h is not needed for one constant). */
#define MLRN_FLT_MAX 3.40282347e+38f

/* A decision value as the probability functions take it: a finite input far beyond the training data
 * can make one infinite, or NaN (inf - inf in a dot product, or -inf - -inf in softmax): NaN counts as
 * the lowest value and infinities as +-MLRN_FLT_MAX, so probabilities are never NaN. Finite values
 * pass unchanged (the same bits as before for every ordinary input). */
static inline float mlrn_linear__proba_arg(float f) {
    if (f != f) return -MLRN_FLT_MAX;
    if (f > MLRN_FLT_MAX) return MLRN_FLT_MAX;
    if (f < -MLRN_FLT_MAX) return -MLRN_FLT_MAX;
    return f;
}

/* 1 / (1 + e^-f); f below -80 counts as -80 (and NaN as below it). */
static inline float mlrn_linear_expit(float f) {
    f = mlrn_linear__proba_arg(f);
    if (f < MLRN_LINEAR_PROBA_MIN_LOG) f = MLRN_LINEAR_PROBA_MIN_LOG;
    return 1.0f / (1.0f + mlrn_math_expf(-f));
}

/* In place: v[i] = e^(v[i] - max) / sum_j e^(v[j] - max); terms below e^-80 are 0. */
static inline void mlrn_linear_softmax(float *v, uint16_t n) {
    float m, s = 0.0f;
    uint16_t i;
    for (i = 0; i < n; i++) v[i] = mlrn_linear__proba_arg(v[i]);
    m = v[0];
    for (i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    for (i = 0; i < n; i++) {
        float d = v[i] - m;
        v[i] = d < MLRN_LINEAR_PROBA_MIN_LOG ? 0.0f : mlrn_math_expf(d);
        s = s + v[i];
    }
    for (i = 0; i < n; i++) v[i] = v[i] / s;
}

/* In place: v[i] = expit(v[i]) / sum_j expit(v[j]) (scikit-learn's one-vs-rest probabilities). */
static inline void mlrn_linear_ovr_proba(float *v, uint16_t n) {
    float s = 0.0f;
    uint16_t i;
    for (i = 0; i < n; i++) {
        v[i] = mlrn_linear_expit(v[i]);
        s = s + v[i];
    }
    for (i = 0; i < n; i++) v[i] = v[i] / s;
}

MLRN_FP_EXACT_END

#endif /* MLRN_LINEAR_H */
