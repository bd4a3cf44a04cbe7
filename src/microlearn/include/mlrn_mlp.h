/* mlrn_mlp.h: multi-layer perceptrons (scikit-learn's MLPClassifier / MLPRegressor) over flash tables.
 *
 * A network is a chain of dense layers, each out[j] = act(b[j] + sum_k W[j][k] in[k]); the exported
 * header calls one mlrn_mlp_dense* per layer, alternating between two caller-owned buffers (ping-pong:
 * layer 0 reads the input and writes buffer A, layer 1 reads A and writes B, layer 2 writes A again...),
 * so the activations need the widest even layer plus the widest odd layer, never the sum of all layers.
 * No malloc: the generated NAME_WORK_FLOATS / NAME_WORK_BYTES say how much the caller owns.
 *
 * float32 (mlrn_mlp_dense_<act>; shared with the Python mirror microlearn.exporter.mlp, operation for operation):
 *   acc = b[j]; acc = acc + W[j][k] * in[k] for k = 0..n_in-1 in index order; out[j] = act(acc)
 *   with act: identity; relu (acc > 0 ? acc : 0); tanh (mlrn_math_tanhf); logistic (mlrn_linear_expit).
 * W is stored row by row per output unit (the transpose of scikit-learn's coefs_[i]).
 *
 * int8 (mlrn_mlp_dense_q8_*): int8 weights, int8 activations, int32 accumulators (mlrn_mlp__dot_q8:
 * acc = bq[j] + sum_k Wq[j][k] q[k], exact), then one float32 multiplier per output unit m[j]
 * (per-output-channel; a per-layer scale is the same table with m_stride 0):
 *   relu / identity:   q_out = round(float(acc) * m[j])  clamped to [0, Q] / [-Q, Q]
 *   tanh / logistic:   q_out = round(act(float(acc) * m[j]) * Q)   (the activation's range onto [-Q, Q])
 * with Q = MLRN_MLP_Q8_MAX and round = mlrn_quant_round (half up). The last layer gives float32 values
 * float(acc) * m[j] (mlrn_mlp_dense_q8_out). docs/export.md has how the exporter chooses the scales. */
#ifndef MLRN_MLP_H
#define MLRN_MLP_H
#include "mlrn.h"
#include "mlrn_math.h"
#include "mlrn_linear.h"
#include "mlrn_quant.h"

MLRN_FP_EXACT_BEGIN

/* Activation functions (scikit-learn's names: identity, relu, tanh, logistic). */
#define MLRN_MLP_IDENTITY 0
#define MLRN_MLP_RELU 1
#define MLRN_MLP_TANH 2
#define MLRN_MLP_LOGISTIC 3

/* int8 activations and weights span [-MLRN_MLP_Q8_MAX, MLRN_MLP_Q8_MAX] (symmetric: -128 is never used). */
#define MLRN_MLP_Q8_MAX 127

/* scikit-learn's logistic activation, 1 / (1 + e^-v), as mlrn_linear_expit computes it. */
static inline float mlrn_mlp_logistic(float v) { return mlrn_linear_expit(v); }
static inline float mlrn_mlp_identity(float v) { return v; }
static inline float mlrn_mlp_relu(float v) { return v > 0.0f ? v : 0.0f; }
static inline float mlrn_mlp_tanh(float v) { return mlrn_math_tanhf(v); }

/* One float32 layer, one function per activation (what an exported header calls: a network without tanh or
 * logistic units links no exponential): out[j] = act(b[j] + W[j] . in) for j < n_out (in and out must not
 * overlap). */
#define MLRN_MLP__DENSE_F32(ACT)                                                                             \
    static inline void mlrn_mlp_dense_##ACT(const float *W_flash, const float *b_flash, uint16_t n_in,       \
                                            uint16_t n_out, const float *in, float *out) {                   \
        uint16_t j, k;                                                                                       \
        for (j = 0; j < n_out; j++) {                                                                        \
            float acc = mlrn_flash_f32(&b_flash[j]);                                                         \
            for (k = 0; k < n_in; k++, W_flash++) acc = acc + mlrn_flash_f32(W_flash) * in[k];               \
            out[j] = mlrn_mlp_##ACT(acc);                                                                    \
        }                                                                                                    \
    }
MLRN_MLP__DENSE_F32(identity)
MLRN_MLP__DENSE_F32(relu)
MLRN_MLP__DENSE_F32(tanh)
MLRN_MLP__DENSE_F32(logistic)

/* The same with the activation as a run-time MLRN_MLP_* value (links every activation). */
static inline void mlrn_mlp_dense(const float *W_flash, const float *b_flash, uint16_t n_in, uint16_t n_out,
                                  const float *in, float *out, uint8_t act) {
    switch (act) {
    case MLRN_MLP_RELU: mlrn_mlp_dense_relu(W_flash, b_flash, n_in, n_out, in, out); break;
    case MLRN_MLP_TANH: mlrn_mlp_dense_tanh(W_flash, b_flash, n_in, n_out, in, out); break;
    case MLRN_MLP_LOGISTIC: mlrn_mlp_dense_logistic(W_flash, b_flash, n_in, n_out, in, out); break;
    default: mlrn_mlp_dense_identity(W_flash, b_flash, n_in, n_out, in, out); break;
    }
}

/* acc + sum_k w[k] q[k] of int8 rows, exact in int32 (|w|, |q| <= 127; the exporter bounds acc). The
 * products of int8 values fit int16: on AVR 8 x 8 -> 16-bit multiplies; on cores with the DSP extension
 * (Cortex-M4/M7/M33: __ARM_FEATURE_SIMD32) four bytes at a time, two signed halfword pairs multiplied and
 * added per SMLAD; elsewhere a plain loop unrolled by four. Integer sums are exact: every variant gives
 * the same value. -DMLRN_MLP_NO_SIMD keeps the plain loop on DSP cores. */
#if defined(__ARM_FEATURE_SIMD32) && !defined(MLRN_MLP_NO_SIMD) && !defined(__AVR__)
#include <arm_acle.h>
MLRN_HOT int32_t mlrn_mlp__dot_q8(const int8_t *w_flash, int32_t acc, uint16_t n, const int8_t *q) {
    uint16_t k;
    for (k = (uint16_t)(n >> 2); k; k--, w_flash += 4, q += 4) {
        int32_t w, x;
        __builtin_memcpy(&w, w_flash, sizeof w);     /* one unaligned word load (M3/M4/M7/M33 allow it) */
        __builtin_memcpy(&x, q, sizeof x);
        acc = __smlad(__sxtb16(w), __sxtb16(x), acc);     /* bytes 0 and 2 */
        acc = __smlad(__sxtb16((int32_t)((uint32_t)w >> 8)), __sxtb16((int32_t)((uint32_t)x >> 8)), acc);  /* 1, 3 */
    }
    for (k = (uint16_t)(n & 3u); k; k--) acc += (int32_t)*w_flash++ * (int32_t)*q++;
    return acc;
}
#elif defined(__AVR__)
static inline int32_t mlrn_mlp__dot_q8(const int8_t *w_flash, int32_t acc, uint16_t n, const int8_t *q) {
    uint16_t k;
    for (k = 0; k < n; k++) acc += (int16_t)((int16_t)mlrn_flash_i8(&w_flash[k]) * (int16_t)q[k]);
    return acc;
}
#else
MLRN_HOT int32_t mlrn_mlp__dot_q8(const int8_t *w_flash, int32_t acc, uint16_t n, const int8_t *q) {
    uint16_t k = 0;
    for (; (uint16_t)(k + 4u) <= n; k = (uint16_t)(k + 4u))
        acc += (int32_t)w_flash[k] * q[k] + (int32_t)w_flash[k + 1u] * q[k + 1u] +
               (int32_t)w_flash[k + 2u] * q[k + 2u] + (int32_t)w_flash[k + 3u] * q[k + 3u];
    for (; k < n; k++) acc += (int32_t)w_flash[k] * (int32_t)q[k];
    return acc;
}
#endif

/* Requantisation of one hidden unit: v = float(acc) * m -> int8 (see the top of this file). relu: an
 * accumulator <= 0 gives 0 without the float operations (m > 0, so v <= 0 there: the same result). */
static inline int8_t mlrn_mlp__q8_identity(int32_t acc, float m) {
    return (int8_t)mlrn_quant_round((float)acc * m, MLRN_MLP_Q8_MAX);
}
static inline int8_t mlrn_mlp__q8_relu(int32_t acc, float m) {
    float v;
    if (acc <= 0) return 0;
    v = (float)acc * m;
    if (v > (float)MLRN_MLP_Q8_MAX) return (int8_t)MLRN_MLP_Q8_MAX;
    return (int8_t)((int32_t)(v + ((float)MLRN_MLP_Q8_MAX + 0.5f)) - MLRN_MLP_Q8_MAX);   /* mlrn_quant_round */
}
/* tanh and logistic: the activation times Q lies in [-Q, Q] (|mlrn_math_tanhf| <= 1, 0 <= expit <= 1, NaN
 * inputs included), so mlrn_quant_round's clamps never act and are left out: the same value. */
static inline int8_t mlrn_mlp__q8_unit(float v) {
    return (int8_t)((int32_t)(v * (float)MLRN_MLP_Q8_MAX + ((float)MLRN_MLP_Q8_MAX + 0.5f)) - MLRN_MLP_Q8_MAX);
}
static inline int8_t mlrn_mlp__q8_tanh(int32_t acc, float m) { return mlrn_mlp__q8_unit(mlrn_mlp_tanh((float)acc * m)); }
static inline int8_t mlrn_mlp__q8_logistic(int32_t acc, float m) {
    return mlrn_mlp__q8_unit(mlrn_mlp_logistic((float)acc * m));
}

/* One int8 hidden layer per activation: q_out[j] from acc = bq[j] + Wq[j] . q_in (int32) and the multiplier
 * m[j * m_stride] (m_stride 1: per output channel; 0: one scale for the layer). */
#define MLRN_MLP__DENSE_Q8(ACT)                                                                              \
    static inline void mlrn_mlp_dense_q8_##ACT(const int8_t *W_flash, const int32_t *b_flash,                \
                                               const float *m_flash, uint8_t m_stride, uint16_t n_in,        \
                                               uint16_t n_out, const int8_t *in, int8_t *out) {              \
        uint16_t j;                                                                                          \
        for (j = 0; j < n_out; j++) {                                                                        \
            int32_t acc = mlrn_mlp__dot_q8(&W_flash[(uint32_t)j * n_in], mlrn_flash_i32(&b_flash[j]), n_in, in); \
            out[j] = mlrn_mlp__q8_##ACT(acc, mlrn_flash_f32(&m_flash[(uint32_t)j * m_stride]));             \
        }                                                                                                    \
    }
MLRN_MLP__DENSE_Q8(identity)
MLRN_MLP__DENSE_Q8(relu)
MLRN_MLP__DENSE_Q8(tanh)
MLRN_MLP__DENSE_Q8(logistic)

/* The same with the activation as a run-time MLRN_MLP_* value. */
static inline void mlrn_mlp_dense_q8(const int8_t *W_flash, const int32_t *b_flash, const float *m_flash,
                                     uint8_t m_stride, uint16_t n_in, uint16_t n_out, const int8_t *in, int8_t *out,
                                     uint8_t act) {
    switch (act) {
    case MLRN_MLP_RELU: mlrn_mlp_dense_q8_relu(W_flash, b_flash, m_flash, m_stride, n_in, n_out, in, out); break;
    case MLRN_MLP_TANH: mlrn_mlp_dense_q8_tanh(W_flash, b_flash, m_flash, m_stride, n_in, n_out, in, out); break;
    case MLRN_MLP_LOGISTIC:
        mlrn_mlp_dense_q8_logistic(W_flash, b_flash, m_flash, m_stride, n_in, n_out, in, out);
        break;
    default: mlrn_mlp_dense_q8_identity(W_flash, b_flash, m_flash, m_stride, n_in, n_out, in, out); break;
    }
}

/* The int8 network's last layer: float32 values out[j] = float(bq[j] + Wq[j] . q_in) * m[j * m_stride]
 * (logits, or a regressor's values). */
static inline void mlrn_mlp_dense_q8_out(const int8_t *W_flash, const int32_t *b_flash, const float *m_flash,
                                         uint8_t m_stride, uint16_t n_in, uint16_t n_out, const int8_t *in,
                                         float *out) {
    uint16_t j;
    for (j = 0; j < n_out; j++) {
        int32_t acc = mlrn_mlp__dot_q8(&W_flash[(uint32_t)j * n_in], mlrn_flash_i32(&b_flash[j]), n_in, in);
        out[j] = (float)acc * mlrn_flash_f32(&m_flash[(uint32_t)j * m_stride]);
    }
}

/* Class index of a classifier's output layer: one logistic unit (binary: z > 0, i.e. probability > 1/2)
 * or the first maximum of n logits (softmax is monotone: the same class as the largest probability). */
static inline int32_t mlrn_mlp_class(const float *z, uint16_t n) {
    if (n == 1) return z[0] > 0.0f ? 1 : 0;
    return mlrn_linear_argmax_f32(z, n);
}

/* A classifier's probabilities from its output layer z (n units) into out: one logistic unit gives
 * out[0] = 1 - p, out[1] = p (n_classes 2); more units the softmax (mlrn_linear_softmax). */
static inline void mlrn_mlp_proba(const float *z, uint16_t n, float *out) {
    uint16_t i;
    if (n == 1) {
        float p = mlrn_linear_expit(z[0]);
        out[0] = 1.0f - p;
        out[1] = p;
        return;
    }
    for (i = 0; i < n; i++) out[i] = z[i];
    mlrn_linear_softmax(out, n);
}

MLRN_FP_EXACT_END

#endif /* MLRN_MLP_H */
