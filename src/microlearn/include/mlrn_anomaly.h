/* mlrn_anomaly.h: anomaly scores of exported detectors over const tables (flash; PROGMEM on AVR).
 *
 * EllipticEnvelope (Mahalanobis distance): the squared distance (x - loc)' P (x - loc) is computed as the sum
 * of squares of y = U x + c, U the transposed Cholesky factor of the precision matrix P = U'U (upper
 * triangular: row i holds columns i..d-1, packed), with location and any scalers folded into U and c by the
 * exporter. Each y_i is mlrn_linear_value's sum (acc = c_i; acc = acc + U_ij x_j in index order), then
 * m = 0; m = m + y_i * y_i in row order (the Python mirror: microlearn.exporter.anomaly).
 *
 * IsolationForest: the sum over the trees, in tree order, of the float32 value of the leaf each tree sends x to
 * (the leaf's depth + c(n_samples of the leaf) - 1, scikit-learn's path length), walked on tree records
 * (mlrn_tree_rec_leaf, mlrn_tree.h); the score -2^(-sum / (n_trees c(max_samples))) is then one
 * mlrn_math_exp2_16 call, and predict needs no exponential at all (a threshold on the sum). */
#ifndef MLRN_ANOMALY_H
#define MLRN_ANOMALY_H
#include "mlrn.h"
#include "mlrn_linear.h"
#include "mlrn_tree.h"

MLRN_FP_EXACT_BEGIN

/* Sum of squares of the rows of an upper-triangular packed U (d x d: row i is d - i values) applied to x. */
static inline float mlrn_anomaly_sq_tri(const float *U_flash, const float *c_flash, uint16_t d, const float *x) {
    float m = 0.0f;
    uint16_t i;
    for (i = 0; i < d; i++) {
        float y = mlrn_linear_value(U_flash, mlrn_flash_f32(&c_flash[i]), (uint16_t)(d - i), &x[i]);
        U_flash += d - i;
        m = m + y * y;
    }
    return m;
}

/* The same for a full rows x d matrix (row-major). */
static inline float mlrn_anomaly_sq_full(const float *U_flash, const float *c_flash, uint16_t rows, uint16_t d,
                                         const float *x) {
    float m = 0.0f;
    uint16_t i;
    for (i = 0; i < rows; i++) {
        float y = mlrn_linear_value(&U_flash[(uint32_t)i * d], mlrn_flash_f32(&c_flash[i]), d, x);
        m = m + y * y;
    }
    return m;
}

/* Sum of the leaf values of n_trees trees stored as one record table (roots: each tree's byte offset). */
static inline float mlrn_anomaly_path_sum(const uint8_t *nodes_flash, const uint16_t *roots_flash,
                                          const float *leaf_flash, uint16_t n_trees, const float *x) {
    float s = 0.0f;
    uint16_t t;
    for (t = 0; t < n_trees; t++)
        s = s + mlrn_flash_f32(&leaf_flash[mlrn_tree_rec_leaf(nodes_flash, mlrn_flash_u16(&roots_flash[t]), x)]);
    return s;
}

MLRN_FP_EXACT_END

#endif /* MLRN_ANOMALY_H */
