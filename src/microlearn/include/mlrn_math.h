/* mlrn_math.h: float32 math that gives the same bits on every target.
 *
 * libm's expf differs between glibc, newlib and avr-libc by an ulp here and there,
 * which would make RBF training diverge between host, device and the Python
 * reference. mlrn_expf uses only +,-,*, float<->int conversion and exponent bit
 * construction, each exact or correctly rounded in IEEE-754, so every target
 * (and numpy, which microlearn.estimators._f32 mirrors op by op) gets identical
 * results. Accuracy: within 2 ulp of the true exp over [-87, 88]. */
#ifndef MLRN_MATH_H
#define MLRN_MATH_H
#include "mlrn.h"

/* 2^k as a float for -126 <= k <= 127 (exact). */
static inline float mlrn_pow2i(int32_t k) {
    union { uint32_t u; float f; } c;
    c.u = (uint32_t)(k + 127) << 23;
    return c.f;
}

/* floor() for |x| < 2^30 without libm. */
static inline int32_t mlrn_floor_i32(float x) {
    int32_t k = (int32_t)x;            /* truncates toward zero */
    if ((float)k > x) k--;
    return k;
}

static inline float mlrn_expf(float x) {
    int32_t k;
    float kf, r, p;
    if (!(x > -87.0f)) return 0.0f;    /* below the normal range (or NaN): 0, never UB in the int conversion */
    if (x > 88.0f) x = 88.0f;          /* saturate below FLT_MAX instead of overflowing to inf */
    k = mlrn_floor_i32(x * 1.44269504f + 0.5f);   /* nearest integer to x / ln 2 */
    kf = (float)k;
    /* Cody-Waite reduction: ln2_hi has 9 significant bits, so kf * ln2_hi is exact. */
    r = (x - kf * 0.693359375f) - kf * -2.12194440e-4f;
    /* Taylor series of e^r to degree 7, |r| <= 0.35: truncation error < 3e-9. */
    p = 1.98412698e-4f;
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    if (k > 127) return (p * mlrn_pow2i(127)) * 2.0f;
    if (k < -126) return (p * mlrn_pow2i(-126)) * mlrn_pow2i(k + 126);
    return p * mlrn_pow2i(k);
}

/* base^degree by repeated multiplication (integer degree, as libsvm's powi). */
static inline float mlrn_powi(float base, uint8_t degree) {
    float p = 1.0f;
    uint8_t i;
    for (i = 0; i < degree; i++) p = p * base;
    return p;
}

/* tanh through mlrn_expf: tanh(z) = sign(z) (1 - 2 / (e^(2|z|) + 1)).
 * Absolute error about 1e-7 (relative error grows for |z| < 1e-3). */
static inline float mlrn_tanhf(float z) {
    float a = z < 0.0f ? -z : z;
    float t = 1.0f - 2.0f / (mlrn_expf(2.0f * a) + 1.0f);
    return z < 0.0f ? -t : t;
}

#endif /* MLRN_MATH_H */
