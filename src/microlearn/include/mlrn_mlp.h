/* mlrn_mlp.h: multi-layer perceptrons (scikit-learn's MLPClassifier / MLPRegressor) over flash tables.
 *
 * A network is a chain of dense layers, each out[j] = act(b[j] + sum_k W[j][k] in[k]); the exported
 * header calls one mlrn_mlp_dense* per layer, alternating between two caller-owned buffers (ping-pong:
 * layer 0 reads the input and writes buffer A, layer 1 reads A and writes B, layer 2 writes A again...),
 * so the activations need the widest even layer plus the widest odd layer, never the sum of all layers.
 * No malloc: the generated NAME_WORK_FLOATS / NAME_WORK_BYTES say how much the caller owns.
 *
 * float32 (shared with the Python mirror microlearn.exporter.mlp, operation for operation):
 *   acc = b[j]; acc = acc + W[j][k] * in[k] for k = 0..n_in-1 in index order; out[j] = act(acc)
 *   with act: identity; relu (acc > 0 ? acc : 0); tanh (mlrn_math_tanhf); logistic (mlrn_linear_expit).
 * W is stored row by row per output unit (the transpose of scikit-learn's coefs_[i]).
 *
 * int8 (mlrn_mlp_dense_q8): int8 weights, int8 activations, int32 accumulators (mlrn_quant_q8_dot:
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

static inline float mlrn_mlp_activate(float v, uint8_t act) {
    switch (act) {
    case MLRN_MLP_RELU: return v > 0.0f ? v : 0.0f;
    case MLRN_MLP_TANH: return mlrn_math_tanhf(v);
    case MLRN_MLP_LOGISTIC: return mlrn_mlp_logistic(v);
    default: return v;
    }
}

/* One float32 layer: out[j] = act(b[j] + W[j] . in) for j < n_out (in and out must not overlap). */
static inline void mlrn_mlp_dense(const float *W_flash, const float *b_flash, uint16_t n_in, uint16_t n_out,
                                  const float *in, float *out, uint8_t act) {
    uint16_t j, k;
    for (j = 0; j < n_out; j++) {
        float acc = mlrn_flash_f32(&b_flash[j]);
        for (k = 0; k < n_in; k++, W_flash++) acc = acc + mlrn_flash_f32(W_flash) * in[k];
        out[j] = mlrn_mlp_activate(acc, act);
    }
}

/* One int8 hidden layer: q_out[j] from acc = bq[j] + Wq[j] . q_in (int32), multiplier m[j * m_stride]
 * (m_stride 1: per output channel; 0: one scale for the layer). */
static inline void mlrn_mlp_dense_q8(const int8_t *W_flash, const int32_t *b_flash, const float *m_flash,
                                     uint8_t m_stride, uint16_t n_in, uint16_t n_out, const int8_t *in, int8_t *out,
                                     uint8_t act) {
    uint16_t j;
    for (j = 0; j < n_out; j++) {
        int32_t acc = mlrn_quant_q8_dot(&W_flash[(uint32_t)j * n_in], mlrn_flash_i32(&b_flash[j]), n_in, in);
        float v = (float)acc * mlrn_flash_f32(&m_flash[(uint32_t)j * m_stride]);
        int32_t q;
        if (act == MLRN_MLP_TANH || act == MLRN_MLP_LOGISTIC)
            v = mlrn_mlp_activate(v, act) * (float)MLRN_MLP_Q8_MAX;
        q = mlrn_quant_round(v, MLRN_MLP_Q8_MAX);
        if (act == MLRN_MLP_RELU && q < 0) q = 0;
        out[j] = (int8_t)q;
    }
}

/* The int8 network's last layer: float32 values out[j] = float(bq[j] + Wq[j] . q_in) * m[j * m_stride]
 * (logits, or a regressor's values). */
static inline void mlrn_mlp_dense_q8_out(const int8_t *W_flash, const int32_t *b_flash, const float *m_flash,
                                         uint8_t m_stride, uint16_t n_in, uint16_t n_out, const int8_t *in,
                                         float *out) {
    uint16_t j;
    for (j = 0; j < n_out; j++) {
        int32_t acc = mlrn_quant_q8_dot(&W_flash[(uint32_t)j * n_in], mlrn_flash_i32(&b_flash[j]), n_in, in);
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
