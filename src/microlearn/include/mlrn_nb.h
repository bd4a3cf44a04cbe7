/* mlrn_nb.h: Gaussian naive Bayes joint log-likelihoods from flash tables.
 *
 * jll[c] = (sum_k ((x[k] - theta[c,k])^2) * nhiv[c,k]) + cst[c]   (sum from 0.0f in k order)
 * with nhiv = -0.5 / var and cst = log(prior) - 0.5 * sum_k log(2 pi var[c,k]) precomputed
 * in float64 by the exporter and rounded to float32. */
#ifndef MLRN_NB_H
#define MLRN_NB_H
#include "mlrn.h"

MLRN_FP_EXACT_BEGIN

static inline float mlrn_nb_jll(const float *theta_flash, const float *nhiv_flash, float cst, uint16_t d,
                                 const float *x) {
    float acc = 0.0f;
    uint16_t k;
    for (k = 0; k < d; k++) {
        float t = x[k] - mlrn_flash_f32(&theta_flash[k]);
        acc = acc + (t * t) * mlrn_flash_f32(&nhiv_flash[k]);
    }
    return acc + cst;
}

static inline void mlrn_nb_jlls(const float *theta_flash, const float *nhiv_flash, const float *cst_flash,
                                 uint16_t n_classes, uint16_t d, const float *x, float *out) {
    uint16_t c;
    for (c = 0; c < n_classes; c++)
        out[c] = mlrn_nb_jll(&theta_flash[(uint32_t)c * d], &nhiv_flash[(uint32_t)c * d],
                              mlrn_flash_f32(&cst_flash[c]), d, x);
}

static inline int32_t mlrn_nb_argmax(const float *theta_flash, const float *nhiv_flash, const float *cst_flash,
                                      uint16_t n_classes, uint16_t d, const float *x) {
    int32_t best = 0;
    float best_f = 0.0f;
    uint16_t c;
    for (c = 0; c < n_classes; c++) {
        float f = mlrn_nb_jll(&theta_flash[(uint32_t)c * d], &nhiv_flash[(uint32_t)c * d],
                               mlrn_flash_f32(&cst_flash[c]), d, x);
        if (c == 0 || f > best_f) { best_f = f; best = (int32_t)c; }
    }
    return best;
}

MLRN_FP_EXACT_END

#endif /* MLRN_NB_H */
