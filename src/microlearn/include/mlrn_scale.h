/* mlrn_scale.h: per-feature input scaling applied in generated code, in scikit-learn's
 * operation order so that the float32 results stay as close as possible to a
 * float32 pipeline: StandardScaler and MaxAbsScaler (x - offset) / div, MinMaxScaler
 * x * mul + add. x and out may be the same buffer. */
#ifndef MLRN_SCALE_H
#define MLRN_SCALE_H
#include "mlrn.h"

MLRN_FP_EXACT_BEGIN

static inline void mlrn_scale_muladd(const float *mul_flash, const float *add_flash, uint16_t d, const float *x,
                                     float *out) {
    uint16_t k;
    for (k = 0; k < d; k++) out[k] = x[k] * mlrn_flash_f32(&mul_flash[k]) + mlrn_flash_f32(&add_flash[k]);
}

/* out[k] = (x[k] - offset[k]) / div[k]: scikit-learn's StandardScaler order (divides). */
static inline void mlrn_scale_div(const float *offset_flash, const float *div_flash, uint16_t d, const float *x,
                                  float *out) {
    uint16_t k;
    for (k = 0; k < d; k++) out[k] = (x[k] - mlrn_flash_f32(&offset_flash[k])) / mlrn_flash_f32(&div_flash[k]);
}

MLRN_FP_EXACT_END

#endif /* MLRN_SCALE_H */
