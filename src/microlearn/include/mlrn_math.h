/* mlrn_math.h: float32 math that gives the same bits on every target.
 *
 * libm's expf differs between glibc, newlib and avr-libc by an ulp here and there,
 * which would make RBF training diverge between host, device and the Python
 * reference. mlrn_math_expf uses only +,-,*, float<->int conversion and exponent bit
 * construction, each exact or correctly rounded in IEEE-754, so every target
 * (and numpy, which microlearn.core.f32 mirrors op by op) gets identical
 * results. Accuracy: within 2 ulp of the true exp over [-87, 88] (measured: 1.8). */
#ifndef MLRN_MATH_H
#define MLRN_MATH_H
#include "mlrn.h"

MLRN_FP_EXACT_BEGIN

/* floor() for |x| < 2^30 without libm. */
static inline int32_t mlrn_math_floor_i32(float x) {
    int32_t k = (int32_t)x;            /* truncates toward zero */
    if ((float)k > x) k--;
    return k;
}

/* 2^(j/16), j = 0..15, rounded to float32: the table both exponentials scale by. */
static const float mlrn_math__exp2_16ths[16] MLRN_FLASH = {
    1.0f, 1.04427373f, 1.09050775f, 1.13878858f, 1.18920708f, 1.24185777f, 1.29683959f, 1.35425556f,
    1.41421354f, 1.47682619f, 1.54221082f, 1.61049032f, 1.68179286f, 1.75625217f, 1.83400810f, 1.91520655f};

/* p * 2^(k/16) for k in [-2008, 2031] and p within a few percent of 1: p times the table entry,
 * then the whole octaves added to the exponent bits (exact: the callers' results are normal). */
static inline float mlrn_math__exp_scale(float p, int32_t k) {
    union { float f; uint32_t u; } c;
    uint16_t u = (uint16_t)(k + 2048);      /* k = 16 (u/16 - 128) + u%16, no signed shifts */
    c.f = p * mlrn_flash_f32(&mlrn_math__exp2_16ths[u & 15u]);
    c.u += (uint32_t)((int32_t)(u >> 4) - 128) << 23;
    return c.f;
}

/* e^x. Table-driven: k = nearest integer to 16 x / ln 2, r = x - k ln2/16 (Cody-Waite: ln2/16 split
 * so that k * hi is exact, 8 + 11 significant bits), e^r by Taylor to degree 3 (|r| <= ln2/32:
 * truncation below 1e-8), times 2^(k/16). A third of the float operations of a plain degree-7
 * series (AVR: about 2,300 cycles instead of 3,300). Within 1.8 ulp of the true exp on [-87, 88]. */
static inline float mlrn_math_expf(float x) {
    int32_t k;
    float kf, r, p;
    if (!(x > -87.0f)) return 0.0f;    /* below the normal range (or NaN): 0, never UB in the int conversion */
    if (x > 88.0f) x = 88.0f;          /* saturate below FLT_MAX instead of overflowing to inf */
    k = mlrn_math_floor_i32(x * 23.0831203f + 0.5f);
    kf = (float)k;
    r = (x - kf * 0.043212890625f) - kf * 1.08808162e-4f;
    p = r * 0.166666667f + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return mlrn_math__exp_scale(p, k);
}

/* 2^(j/32) in Q30 (rounded), j = 0..31: mlrn_math_exp2_16's table. */
static const uint32_t mlrn__exp2_32nds_q30[32] MLRN_FLASH = {
    1073741824u, 1097253708u, 1121280436u, 1145833280u, 1170923762u, 1196563654u, 1222764986u, 1249540052u,
    1276901417u, 1304861917u, 1333434672u, 1362633090u, 1392470869u, 1422962010u, 1454120821u, 1485961921u,
    1518500250u, 1551751076u, 1585730000u, 1620452965u, 1655936265u, 1692196547u, 1729250827u, 1767116489u,
    1805811301u, 1845353420u, 1885761398u, 1927054196u, 1969251188u, 2012372174u, 2056437387u, 2101467502u};

/* 16 x 16 -> 32-bit product (one hardware multiply sequence on AVR, one instruction on ARM). */
static inline uint32_t mlrn_math__mul16(uint32_t a, uint32_t b) { return (uint32_t)(uint16_t)a * (uint16_t)b; }

/* 2^(y/16), the RBF kernel's exponential: exp(-gamma d) = 2^(y/16) with y = d * (-gamma 16/ln 2),
 * so the kernel needs no reduction multiplications. Integer arithmetic after one float-to-int
 * conversion (soft-float operations cost ~150 cycles each on AVR), written so that every shift
 * is by a multiple of 8 bits or a small count (avr-gcc turns other 32-bit shifts into loops):
 *   M = |y| 2^20 rounded (half up); U = 2^31 +- M = (y + 2048) 2^20 > 0; U >> 19 = 32 (octave + 128) + j;
 *   the low 19 bits F give f = F 2^-20 ln2/16 < 0.0217 in Q32, e^f = 1 + q with
 *   q = f + f (f/2 + f^2/6) (Taylor degree 3: truncation < 1e-8) from 16-bit products;
 *   R = T[j] (1 + q) in Q30, rounded to 24 bits, with the octave as exponent.
 * Within 1.5 ulp of 2^(y/16) (measured over [-2008, 2031]); the rounding of the folded factor
 * -gamma 16/ln 2 adds at most |y| ln2/16 * 2^-24 relative, the size of the rounding of gamma * d
 * that exp(-gamma d) has anyway. 0 for y <= -2008 (e^-87) and NaN; saturates at y = 2031. */
static inline float mlrn_math_exp2_16(float y) {
    union { float f; uint32_t u; } c;
    uint32_t m, U, f, q, T, R;
    uint16_t k, f21, t16, u21;
    uint8_t fh, neg;
    c.f = y;
    neg = (uint8_t)(c.u >> 24) & 0x80u;
    if ((c.u & 0x7fffffffu) > 0x7f800000u) return 0.0f;           /* NaN */
    if (c.u >= 0xc4fb0000u) return 0.0f;                          /* y <= -2008 */
    if (c.u < 0x80000000u && c.u > 0x44fde000u) c.u = 0x44fde000u; /* y > 2031 -> 2031 */
    m = c.u & 0x7fffffffu;
    if (m >= 0x34800000u) {                       /* |y| >= 2^-22: |y| 2^21 by the exponent bits */
        c.u = m + 0x0a800000u;                   /* + 21 in the exponent field */
        m = ((uint32_t)c.f + 1u) >> 1;            /* |y| 2^21 < 2^32: truncated, then halved rounding */
    } else {
        m = 0;
    }
    U = neg ? 0x80000000u - m : 0x80000000u + m;
    k = (uint16_t)((uint16_t)(U >> 16) >> 3);
    fh = (uint8_t)((uint8_t)(U >> 16) & 7u);
    /* f = F ln2/16 2^12 in Q32, F = fh 2^16 + (uint16_t)U; ln2/16 2^28 = 177 2^16 + 29208 */
    f = ((uint32_t)mlrn_math__mul16(fh, 177u) << 16) + mlrn_math__mul16(fh, 29208u) + mlrn_math__mul16(U, 177u) +
        (mlrn_math__mul16(U, 29208u) >> 16);
    f21 = (uint16_t)(((f + 1024u) << 5) >> 16);                             /* f in Q21 */
    t16 = (uint16_t)(32768u + ((uint16_t)(mlrn_math__mul16(f21, 10923u) >> 16) >> 5));   /* 1/2 + f/6, Q16 */
    u21 = (uint16_t)(mlrn_math__mul16(f21, t16) >> 16);                          /* f (1/2 + f/6), Q21 */
    q = f + (mlrn_math__mul16(f21, u21) >> 10);                                  /* Q42 -> Q32 */
    T = mlrn_flash_u32(&mlrn__exp2_32nds_q30[k & 31u]);
    R = T + mlrn_math__mul16(T >> 16, q >> 16) + ((mlrn_math__mul16(T >> 16, q) + mlrn_math__mul16(T, q >> 16)) >> 16);
    k = (uint16_t)(k >> 5);                                                 /* octave + 128 */
    if (R >= 0x80000000u) { k++; R = (R + 128u) >> 8; }                      /* T (1 + q) reached 2 */
    else R = ((R + 64u) << 1) >> 8;
    c.u = ((uint32_t)(uint16_t)((uint16_t)(k - 1u) << 7) << 16) + R - 0x800000u;   /* exponent field k - 1 */
    return c.f;
}

/* base^degree by repeated multiplication (integer degree, as libsvm's powi). */
static inline float mlrn_math_powi(float base, uint8_t degree) {
    float p = 1.0f;
    uint8_t i;
    for (i = 0; i < degree; i++) p = p * base;
    return p;
}

/* tanh through mlrn_math_expf: tanh(z) = sign(z) (1 - 2 / (e^(2|z|) + 1)).
 * Absolute error about 1e-7 (relative error grows for |z| < 1e-3). */
static inline float mlrn_math_tanhf(float z) {
    float a = z < 0.0f ? -z : z;
    float t = 1.0f - 2.0f / (mlrn_math_expf(2.0f * a) + 1.0f);
    return z < 0.0f ? -t : t;
}

MLRN_FP_EXACT_END

#endif /* MLRN_MATH_H */
