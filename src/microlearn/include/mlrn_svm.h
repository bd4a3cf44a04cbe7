/* mlrn_svm.h: kernel SVM inference from flash tables (binary, one-vs-one, one-vs-rest).
 *
 * Sign convention (microlearn's; scikit-learn's binary SVC has the same, libsvm's raw
 * one-vs-one values are the negation): sub-problem (p, q), p < q,
 *     f = (sum over support vectors s, in table order, of coef[s] * K(sv_s, x)) + b
 * computed as acc = 0.0f; acc = acc + coef * K; f = acc + b; predict q if f >= 0 else p.
 * One-vs-one voting: argmax of votes, ties to the lowest class index (libsvm's rule).
 * One-vs-rest: argmax of f_k, first maximum.
 *
 * Tables: sv (n_sv x d floats, row-major, grouped by class for one-vs-one),
 * coef (one-vs-one: libsvm layout, (n_classes-1) x n_sv; one-vs-rest: n_classes x n_sv),
 * b (one per sub-problem; one-vs-one pairs in the order (0,1),(0,2)..(0,n-1),(1,2)..),
 * sv_start (one-vs-one: n_classes+1 offsets of each class's support vectors).
 */
#ifndef MLRN_SVM_H
#define MLRN_SVM_H
#include "mlrn.h"
#include "mlrn_kernel.h"

MLRN_FP_EXACT_BEGIN

/* One-vs-one pair indices, pair counts and loop counters are uint16_t (cheap on AVR): the
 * n*(n-1)/2 pairs must fit, so at most 362 classes (363 gives 65,703 pairs). The exporter refuses
 * more before writing a header, and every generated one-vs-one header checks it at compile time.
 * Per-vector class labels (the _labeled variant) are uint8_t: at most 256 classes there. */
#define MLRN_SVM_OVO_MAX_CLASSES 362u
#define MLRN_SVM_LABELED_MAX_CLASSES 256u

/* acc + coef * k with coef read from flash. On soft-float targets a coefficient of exactly +1 or -1
 * (a bounded vector with C = 1, scikit-learn's default: most of them) costs an addition, not a
 * multiplication too; the result is bit-identical (1 * k and -1 * k are exact). */
static inline float mlrn_svm__axpy(float acc, const float *coef_flash, float k) {
#if MLRN_SOFT_FLOAT
    union { float f; uint32_t u; } c;
    c.f = mlrn_flash_f32(coef_flash);
    if (c.u == 0x3f800000u) return acc + k;
    if (c.u == 0xbf800000u) return acc - k;
    return acc + c.f * k;
#else
    return acc + mlrn_flash_f32(coef_flash) * k;
#endif
}

/* Index of pair (p, q), p < q, among the n*(n-1)/2 one-vs-one sub-problems. */
static inline uint16_t mlrn_svm_pair_index(uint16_t p, uint16_t q, uint16_t n_classes) {
    return (uint16_t)((uint32_t)p * (uint32_t)(2u * n_classes - p - 1u) / 2u + (uint32_t)(q - p - 1u));
}

static inline float mlrn_svm_binary_decision(const mlrn_kernel_params *kp, const float *sv_flash,
                                             const float *coef_flash, float b, uint16_t n_sv, uint16_t d,
                                             const float *x) {
    float acc = 0.0f;
    uint16_t s;
    for (s = 0; s < n_sv; s++, sv_flash += d) {
        float k = mlrn_kernel_eval_flash(kp, sv_flash, x, d);
        acc = mlrn_svm__axpy(acc, &coef_flash[s], k);
    }
    return acc + b;
}

/* Adds k * coef to the n_classes-1 pairs of a support vector of class c. Its coefficient rows
 * i = 0..n-2 are n_sv floats apart (coef_flash points at row 0): row i < c is pair (i, c), row
 * i >= c is pair (c, i+1). Pair indices are stepped, not recomputed: (0, c) is c-1, (i+1, c)
 * follows (i, c) at distance n-i-2, the step past the last one lands one short of (c, c+1)
 * (which is (c-1, c) + n-c), and (c, i+2) follows (c, i+1). No multiplications or 32-bit index
 * products per vector (on AVR they cost more than the float work of a small model). */
static inline void mlrn_svm__ovo_add(float *f, const float *coef_flash, uint16_t n_sv, uint16_t n_classes,
                                     uint16_t c, float k) {
    uint16_t i, pair = (uint16_t)(c - 1u);      /* c = 0: wraps, and the ++ below makes it pair (0, 1) */
    for (i = 0; i < c; i++, coef_flash += n_sv) {
        f[pair] = mlrn_svm__axpy(f[pair], coef_flash, k);
        pair = (uint16_t)((unsigned)pair + (unsigned)n_classes - (unsigned)i - 2u);
    }
    pair++;
    for (; (unsigned)i + 1u < n_classes; i++, coef_flash += n_sv, pair++)
        f[pair] = mlrn_svm__axpy(f[pair], coef_flash, k);
}

/* f[pair] for every pair; each kernel value is computed once and added to the n_classes-1
 * pairs its support vector takes part in, so every pair still sums in support-vector order. */
static inline void mlrn_svm_ovo_decisions(const mlrn_kernel_params *kp, const float *sv_flash,
                                          const float *coef_flash, const float *b_flash,
                                          const uint16_t *sv_start_flash, uint16_t n_classes, uint16_t n_sv,
                                          uint16_t d, const float *x, float *f) {
    uint16_t n_pairs = (uint16_t)(n_classes * (n_classes - 1u) / 2u);
    uint16_t c = 0, i, s, end = mlrn_flash_u16(&sv_start_flash[1]);
    for (i = 0; i < n_pairs; i++) f[i] = 0.0f;
    for (s = 0; s < n_sv; s++, sv_flash += d) {
        while (s >= end) { c++; end = mlrn_flash_u16(&sv_start_flash[c + 1u]); }
        mlrn_svm__ovo_add(f, &coef_flash[s], n_sv, n_classes, c, mlrn_kernel_eval_flash(kp, sv_flash, x, d));
    }
    for (i = 0; i < n_pairs; i++) f[i] = f[i] + mlrn_flash_f32(&b_flash[i]);
}

/* As mlrn_svm_ovo_decisions for support vectors in any class order: sv_class[s] is the class
 * of vector s (uint8 table). Each pair still sums over its vectors in table order. */
static inline void mlrn_svm_ovo_decisions_labeled(const mlrn_kernel_params *kp, const float *sv_flash,
                                                  const float *coef_flash, const float *b_flash,
                                                  const uint8_t *sv_class_flash, uint16_t n_classes,
                                                  uint16_t n_sv, uint16_t d, const float *x, float *f) {
    uint16_t n_pairs = (uint16_t)(n_classes * (n_classes - 1u) / 2u);
    uint16_t i, s;
    for (i = 0; i < n_pairs; i++) f[i] = 0.0f;
    for (s = 0; s < n_sv; s++, sv_flash += d)
        mlrn_svm__ovo_add(f, &coef_flash[s], n_sv, n_classes, mlrn_flash_u8(&sv_class_flash[s]),
                          mlrn_kernel_eval_flash(kp, sv_flash, x, d));
    for (i = 0; i < n_pairs; i++) f[i] = f[i] + mlrn_flash_f32(&b_flash[i]);
}

/* Votes from the pair decisions (f >= 0 -> q); returns the winner, ties to the lowest index.
 * votes: n_classes counters (scratch). */
static inline int32_t mlrn_svm_ovo_vote(const float *f, uint16_t n_classes, uint16_t *votes) {
    uint16_t p, q, k = 0, best = 0;
    for (p = 0; p < n_classes; p++) votes[p] = 0;
    for (p = 0; p < n_classes; p++)
        for (q = (uint16_t)(p + 1u); q < n_classes; q++, k++) {
            if (f[k] >= 0.0f) votes[q]++;
            else votes[p]++;
        }
    for (p = 1; p < n_classes; p++)
        if (votes[p] > votes[best]) best = p;
    return (int32_t)best;
}

/* scikit-learn's decision_function_shape='ovr' from the pair decisions f (microlearn sign):
 * votes + sum_of_confidences / (3 (|sum_of_confidences| + 1)), a vote to q when f > 0. */
static inline void mlrn_svm_ovo_to_ovr(const float *f, uint16_t n_classes, float *out) {
    uint16_t p, q, k = 0;
    for (p = 0; p < n_classes; p++) out[p] = 0.0f;
    for (p = 0; p < n_classes; p++)
        for (q = (uint16_t)(p + 1u); q < n_classes; q++, k++) {
            out[p] = out[p] - f[k];
            out[q] = out[q] + f[k];
        }
    for (p = 0; p < n_classes; p++) {
        float a = out[p] < 0.0f ? -out[p] : out[p];
        out[p] = out[p] / (3.0f * (a + 1.0f));
    }
    k = 0;
    for (p = 0; p < n_classes; p++)
        for (q = (uint16_t)(p + 1u); q < n_classes; q++, k++) {
            if (f[k] > 0.0f) out[q] = out[q] + 1.0f;
            else out[p] = out[p] + 1.0f;
        }
}

/* f[r] for the n_rows one-vs-rest sub-problems sharing one set of support vectors. */
static inline void mlrn_svm_ovr_decisions(const mlrn_kernel_params *kp, const float *sv_flash,
                                          const float *coef_flash, const float *b_flash, uint16_t n_rows,
                                          uint16_t n_sv, uint16_t d, const float *x, float *f) {
    uint16_t r, s;
    for (r = 0; r < n_rows; r++) f[r] = 0.0f;
    for (s = 0; s < n_sv; s++, sv_flash += d) {
        float k = mlrn_kernel_eval_flash(kp, sv_flash, x, d);
        const float *cf = &coef_flash[s];
        for (r = 0; r < n_rows; r++, cf += n_sv) f[r] = mlrn_svm__axpy(f[r], cf, k);
    }
    for (r = 0; r < n_rows; r++) f[r] = f[r] + mlrn_flash_f32(&b_flash[r]);
}

MLRN_FP_EXACT_END

#endif /* MLRN_SVM_H */
