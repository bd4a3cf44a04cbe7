/* mlrn_quant.h: quantized (int8 / int16) inference for exported models.
 *
 * Inputs: per-feature affine quantization q[k] = clamp(round(x[k] * a[k] + c[k]), -Q, Q), with
 * a, c float32 tables (the exporter's calibration), computed in float32 as
 *     v = x*a + c;  v <= -Q (or NaN) -> -Q;  v > Q -> Q;  else q = (int32)(v + (Q + 0.5f)) - Q
 * (round half up; the Python mirror in microlearn.exporter.quant does the same operations).
 * A feature whose calibration data are integers that fit the type gets a = 1, c = 0: raw integer
 * sensor values can be passed to the _q entry points directly.
 *
 * Integer kernels: dot products and squared distances of int8/int16 rows accumulate in int32 /
 * uint32 exactly (the exporter limits the value range so that no sum can overflow). */
#ifndef MLRN_QUANT_H
#define MLRN_QUANT_H
#include "mlrn.h"
#include "mlrn_kernel.h"

MLRN_FP_EXACT_BEGIN

static inline int32_t mlrn_quant_round(float v, int32_t Q) {
    float lim = (float)Q;
    if (!(v > -lim)) return -Q;
    if (v > lim) return Q;
    return (int32_t)(v + (lim + 0.5f)) - Q;
}

static inline void mlrn_quant_to_i8(const float *a_flash, const float *c_flash, uint16_t d, int32_t Q,
                                    const float *x, int8_t *q) {
    uint16_t k;
    for (k = 0; k < d; k++)
        q[k] = (int8_t)mlrn_quant_round(x[k] * mlrn_flash_f32(&a_flash[k]) + mlrn_flash_f32(&c_flash[k]), Q);
}

static inline void mlrn_quant_to_i16(const float *a_flash, const float *c_flash, uint16_t d, int32_t Q,
                                     const float *x, int16_t *q) {
    uint16_t k;
    for (k = 0; k < d; k++)
        q[k] = (int16_t)mlrn_quant_round(x[k] * mlrn_flash_f32(&a_flash[k]) + mlrn_flash_f32(&c_flash[k]), Q);
}

/* sum_k w[k] * q[k] + b in int32 (w: flash table). */
static inline int32_t mlrn_quant_q8_dot(const int8_t *w_flash, int32_t b, uint16_t d, const int8_t *q) {
    int32_t acc = b;
    uint16_t k;
    for (k = 0; k < d; k++) acc += (int16_t)((int16_t)mlrn_flash_i8(&w_flash[k]) * (int16_t)q[k]);
    return acc;
}

static inline int32_t mlrn_quant_q16_dot(const int16_t *w_flash, int32_t b, uint16_t d, const int16_t *q) {
    int32_t acc = b;
    uint16_t k;
    for (k = 0; k < d; k++) acc += (int32_t)mlrn_flash_i16(&w_flash[k]) * (int32_t)q[k];
    return acc;
}

/* sum_k (s[k] - q[k])^2 in uint32. */
static inline uint32_t mlrn_quant_q8_sqdist(const int8_t *s_flash, uint16_t d, const int8_t *q) {
    uint32_t acc = 0;
    uint16_t k;
    for (k = 0; k < d; k++) {
        int16_t t = (int16_t)((int16_t)mlrn_flash_i8(&s_flash[k]) - (int16_t)q[k]);
        uint16_t u = (uint16_t)(t < 0 ? -t : t);
        acc += (uint16_t)(u * u);
    }
    return acc;
}

static inline uint32_t mlrn_quant_q16_sqdist(const int16_t *s_flash, uint16_t d, const int16_t *q) {
    uint32_t acc = 0;
    uint16_t k;
    for (k = 0; k < d; k++) {
        int32_t t = (int32_t)mlrn_flash_i16(&s_flash[k]) - (int32_t)q[k];
        uint32_t u = (uint32_t)(t < 0 ? -t : t);
        acc += u * u;
    }
    return acc;
}

/* Kernel of a quantized support vector: kp->gamma is gamma * step^2 (the exporter folds the
 * quantization step in), the integer dot product / squared distance is converted to float32. */
static inline float mlrn_quant_kernel_i8(const mlrn_kernel_params *kp, const int8_t *sv_flash, uint16_t d,
                                    const int8_t *q) {
    if (kp->type == MLRN_KERNEL_RBF) return mlrn_kernel_finish(kp, (float)mlrn_quant_q8_sqdist(sv_flash, d, q));
    return mlrn_kernel_finish(kp, (float)mlrn_quant_q8_dot(sv_flash, 0, d, q));
}

static inline float mlrn_quant_kernel_i16(const mlrn_kernel_params *kp, const int16_t *sv_flash, uint16_t d,
                                     const int16_t *q) {
    if (kp->type == MLRN_KERNEL_RBF) return mlrn_kernel_finish(kp, (float)mlrn_quant_q16_sqdist(sv_flash, d, q));
    return mlrn_kernel_finish(kp, (float)mlrn_quant_q16_dot(sv_flash, 0, d, q));
}

/* Kernel values of support vectors s0 .. s0+n-1 are consumed one at a time by the SVM sums in
 * mlrn_quant_svm_* below, in the same order and float32 arithmetic as mlrn_svm.h. */
#define MLRN_QUANT_SVM_DEFINE(S, QT)                                                                          \
    static inline float mlrn_quant_svm_binary_##S(const mlrn_kernel_params *kp, const QT *sv_flash,            \
                                             const float *coef_flash, float b, uint16_t n_sv, uint16_t d, \
                                             const QT *q) {                                               \
        float acc = 0.0f;                                                                                 \
        uint16_t s;                                                                                       \
        for (s = 0; s < n_sv; s++)                                                                        \
            acc = acc + mlrn_flash_f32(&coef_flash[s]) * mlrn_quant_kernel_##S(kp, &sv_flash[(uint32_t)s * d], d, q); \
        return acc + b;                                                                                   \
    }                                                                                                     \
    static inline void mlrn_quant_svm_ovo_##S(const mlrn_kernel_params *kp, const QT *sv_flash,                \
                                         const float *coef_flash, const float *b_flash,                   \
                                         const uint8_t *sv_class_flash, uint16_t n_classes, uint16_t n_sv, \
                                         uint16_t d, const QT *q, float *f) {                             \
        uint16_t n_pairs = (uint16_t)(n_classes * (n_classes - 1u) / 2u);                                 \
        uint16_t i, s;                                                                                    \
        for (i = 0; i < n_pairs; i++) f[i] = 0.0f;                                                        \
        for (s = 0; s < n_sv; s++) {                                                                      \
            uint16_t c = mlrn_flash_u8(&sv_class_flash[s]);                                               \
            float k = mlrn_quant_kernel_##S(kp, &sv_flash[(uint32_t)s * d], d, q);                             \
            for (i = 0; i < n_classes; i++) {                                                             \
                uint16_t pair, row;                                                                       \
                if (i == c) continue;                                                                     \
                if (i > c) { pair = mlrn_svm_pair_index(c, i, n_classes); row = (uint16_t)(i - 1u); }     \
                else { pair = mlrn_svm_pair_index(i, c, n_classes); row = i; }                            \
                f[pair] = f[pair] + mlrn_flash_f32(&coef_flash[(uint32_t)row * n_sv + s]) * k;            \
            }                                                                                             \
        }                                                                                                 \
        for (i = 0; i < n_pairs; i++) f[i] = f[i] + mlrn_flash_f32(&b_flash[i]);                          \
    }                                                                                                     \
    static inline void mlrn_quant_svm_ovr_##S(const mlrn_kernel_params *kp, const QT *sv_flash,                \
                                         const float *coef_flash, const float *b_flash, uint16_t n_rows,  \
                                         uint16_t n_sv, uint16_t d, const QT *q, float *f) {              \
        uint16_t r, s;                                                                                    \
        for (r = 0; r < n_rows; r++) f[r] = 0.0f;                                                         \
        for (s = 0; s < n_sv; s++) {                                                                      \
            float k = mlrn_quant_kernel_##S(kp, &sv_flash[(uint32_t)s * d], d, q);                             \
            for (r = 0; r < n_rows; r++) f[r] = f[r] + mlrn_flash_f32(&coef_flash[(uint32_t)r * n_sv + s]) * k; \
        }                                                                                                 \
        for (r = 0; r < n_rows; r++) f[r] = f[r] + mlrn_flash_f32(&b_flash[r]);                           \
    }

#include "mlrn_svm.h"
MLRN_QUANT_SVM_DEFINE(i8, int8_t)
MLRN_QUANT_SVM_DEFINE(i16, int16_t)

/* Gaussian naive Bayes on quantized inputs: jll = (sum_k float(|q[k] - theta[k]|^2) * w[k]) + cst,
 * the squared difference exact in uint32, the weighted sum in float32 from 0.0f in k order. */
static inline float mlrn_quant_nb_jll_i8(const int8_t *theta_flash, const float *w_flash, float cst, uint16_t d,
                                     const int8_t *q) {
    float acc = 0.0f;
    uint16_t k;
    for (k = 0; k < d; k++) {
        int16_t t = (int16_t)((int16_t)q[k] - (int16_t)mlrn_flash_i8(&theta_flash[k]));
        uint16_t u = (uint16_t)(t < 0 ? -t : t);
        acc = acc + (float)(uint16_t)(u * u) * mlrn_flash_f32(&w_flash[k]);
    }
    return acc + cst;
}

static inline float mlrn_quant_nb_jll_i16(const int16_t *theta_flash, const float *w_flash, float cst, uint16_t d,
                                      const int16_t *q) {
    float acc = 0.0f;
    uint16_t k;
    for (k = 0; k < d; k++) {
        int32_t t = (int32_t)q[k] - (int32_t)mlrn_flash_i16(&theta_flash[k]);
        uint32_t u = (uint32_t)(t < 0 ? -t : t);
        acc = acc + (float)(u * u) * mlrn_flash_f32(&w_flash[k]);
    }
    return acc + cst;
}

MLRN_FP_EXACT_END

#endif /* MLRN_QUANT_H */
