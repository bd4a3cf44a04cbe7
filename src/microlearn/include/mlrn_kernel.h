/* mlrn_kernel.h: SVM kernels over float32 rows, in one fixed arithmetic order.
 *
 * Every sum runs sequentially from 0.0f over the features in index order; the
 * Python reference (microlearn.core.f32) reproduces exactly this order.
 * `_flash` variants read their first row from a const table (PROGMEM on AVR). */
#ifndef MLRN_KERNEL_H
#define MLRN_KERNEL_H
#include "mlrn.h"
#include "mlrn_math.h"

MLRN_FP_EXACT_BEGIN

#define MLRN_KERNEL_LINEAR 0
#define MLRN_KERNEL_RBF 1      /* exp(-gamma |a-b|^2), computed as 2^(|a-b|^2 (-gamma 16/ln 2) / 16) */
#define MLRN_KERNEL_POLY 2     /* (gamma a.b + coef0)^degree */
#define MLRN_KERNEL_SIGMOID 3  /* tanh(gamma a.b + coef0) */

/* MLRN_KERNELS: the kernel types mlrn_kernel_finish compiles (bit k for type k; default: all). A
 * generated trainer or learner header defines it to its own kernel before its first include, so a
 * linear trainer does not link the exponential and the power/tanh code (~1 KB of AVR flash).
 * Headers that need a kernel check MLRN_KERNEL_COMPILED and #error when it was left out. */
#ifndef MLRN_KERNELS
#define MLRN_KERNELS 0xfu
#endif
#define MLRN_KERNEL_COMPILED(k) ((MLRN_KERNELS >> (k)) & 1u)

typedef struct {
    uint8_t type;
    uint8_t degree;
    float gamma;
    float coef0;
} mlrn_kernel_params;

static inline float mlrn_kernel_dot(const float *a, const float *b, uint16_t d) {
    float acc = 0.0f;
    uint16_t k;
    for (k = 0; k < d; k++) acc = acc + a[k] * b[k];
    return acc;
}

static inline float mlrn_kernel_sqdist(const float *a, const float *b, uint16_t d) {
    float acc = 0.0f;
    uint16_t k;
    for (k = 0; k < d; k++) {
        float t = a[k] - b[k];
        acc = acc + t * t;
    }
    return acc;
}

static inline float mlrn_kernel_dot_flash(const float *a_flash, const float *b, uint16_t d) {
    float acc = 0.0f;
    uint16_t k;
    for (k = 0; k < d; k++) acc = acc + mlrn_flash_f32(&a_flash[k]) * b[k];
    return acc;
}

/* The exported models' distance starts from the first square instead of 0.0f + it: the same bits
 * (a square is never -0, and 0 + s == s), one soft-float addition less per kernel value on AVR.
 * The trainer's mlrn_kernel_sqdist keeps the plain loop: inlined into its hot loop, the longer body cost
 * 2-3% more instructions on the Cortex-M4F even for the linear kernel. */
static inline float mlrn_kernel_sqdist_flash(const float *a_flash, const float *b, uint16_t d) {
    float acc, t;
    uint16_t k;
    if (d == 0) return 0.0f;
    t = mlrn_flash_f32(&a_flash[0]) - b[0];
    acc = t * t;
    for (k = 1; k < d; k++) {
        t = mlrn_flash_f32(&a_flash[k]) - b[k];
        acc = acc + t * t;
    }
    return acc;
}

/* The kernel value from the dot product (linear, poly, sigmoid) or squared distance (rbf).
 * rbf: gamma * (-16/ln 2) is one float32 product (folded at compile time when kp is a constant),
 * so each kernel value costs one multiplication and mlrn_math_exp2_16 (see mlrn_math.h). */
static inline float mlrn_kernel_finish(const mlrn_kernel_params *kp, float dot_or_sqdist) {
    switch (kp->type) {
#if MLRN_KERNEL_COMPILED(1)
    case MLRN_KERNEL_RBF: return mlrn_math_exp2_16(dot_or_sqdist * (kp->gamma * -23.0831203f));
#endif
#if MLRN_KERNEL_COMPILED(2)
    case MLRN_KERNEL_POLY: return mlrn_math_powi(kp->gamma * dot_or_sqdist + kp->coef0, kp->degree);
#endif
#if MLRN_KERNEL_COMPILED(3)
    case MLRN_KERNEL_SIGMOID: return mlrn_math_tanhf(kp->gamma * dot_or_sqdist + kp->coef0);
#endif
    default: return dot_or_sqdist;   /* linear (others are refused by mlrn_smo_init) */
    }
}

static inline float mlrn_kernel_eval(const mlrn_kernel_params *kp, const float *a, const float *b, uint16_t d) {
    return mlrn_kernel_finish(kp, kp->type == MLRN_KERNEL_RBF ? mlrn_kernel_sqdist(a, b, d) : mlrn_kernel_dot(a, b, d));
}

static inline float mlrn_kernel_eval_flash(const mlrn_kernel_params *kp, const float *a_flash, const float *b,
                                           uint16_t d) {
    return mlrn_kernel_finish(kp, kp->type == MLRN_KERNEL_RBF ? mlrn_kernel_sqdist_flash(a_flash, b, d)
                                                              : mlrn_kernel_dot_flash(a_flash, b, d));
}

MLRN_FP_EXACT_END

#endif /* MLRN_KERNEL_H */
