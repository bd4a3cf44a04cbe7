/* mlrn_knn.h: k nearest neighbours over a const table of training rows (flash; PROGMEM on AVR).
 *
 * The caller owns the work buffer: uint32_t work[2 k] (MLRN_KNN_WORK_WORDS(k) words, 8 k bytes on every
 * target). work[0..k) holds the distance keys of the k nearest rows, work[k..2k) their row indices: during
 * the search a max-heap (scikit-learn's, see mlrn_knn_push), afterwards sorted by key. A float32
 * distance's key is its bit pattern: for non-negative floats the unsigned order of the bits is the order of
 * the values (NaN bits sort after +inf), so comparisons are integer compares (no soft-float compare on AVR).
 *
 * Tie rule: scikit-learn's brute-force search (its heap: which of several rows at the k-th distance are kept
 * is what scikit-learn keeps). Rows whose partial distance already reaches the heap's largest key are
 * abandoned early: the partial sums of non-negative terms never decrease in float32 (nor in integers), and a
 * row at or above the largest key is never pushed, so this changes no result.
 *
 * Distances (the Python mirror: microlearn.exporter.knn, the same operations in the same order):
 *   float32 euclidean: acc = 0; t = x[j] - row[j]; acc = acc + t * t for j = 0..d-1 (squared distance;
 *                      the square root, when needed, is mlrn_knn_sqrtf: correctly rounded);
 *   float32 manhattan: acc = acc + |x[j] - row[j]|;
 *   int8 / int16 codes (rows and the quantized input on one grid step for every feature): the exact
 *   integer sum of squared (or absolute) code differences in uint32 (the exporter bounds the codes so
 *   that no sum overflows). */
#ifndef MLRN_KNN_H
#define MLRN_KNN_H
#include "mlrn.h"

MLRN_FP_EXACT_BEGIN

/* Words of the caller's work buffer for k neighbours. */
#define MLRN_KNN_WORK_WORDS(k) (2u * (uint32_t)(k))

/* The ordered key of a non-negative float32 (its bits) and back. */
static inline uint32_t mlrn_knn_key(float v) {
    union { float f; uint32_t u; } c;
    c.f = v;
    return c.u;
}

static inline float mlrn_knn_key_f32(uint32_t u) {
    union { float f; uint32_t u; } c;
    c.u = u;
    return c.f;
}

/* The selection is scikit-learn's own (sklearn.utils._heap.heap_push, used by its brute-force ArgKmin): a max-heap
 * of k (key, row) pairs, work[0] the largest key, started full of MLRN_KNN_EMPTY keys; a row is pushed only
 * when its key is strictly below the largest, which it replaces before sifting down with scikit-learn's
 * comparisons. So among rows at equal distance the same rows are kept as scikit-learn keeps (the rows are met
 * in index order, as its search meets them). mlrn_knn_sort then orders the k pairs by key (stable). */
#define MLRN_KNN_EMPTY (~(uint32_t)0)

static inline void mlrn_knn_clear(uint32_t *work, uint16_t k) {
    uint16_t i;
    for (i = 0; i < k; i++) {
        work[i] = MLRN_KNN_EMPTY;
        work[k + i] = 0u;
    }
}

static inline void mlrn_knn_push(uint32_t *work, uint16_t k, uint32_t key, uint16_t row) {
    uint32_t cur = 0, left, right, swap;
    uint32_t *idx = &work[k];
    if (key >= work[0]) return;
    for (;;) {
        left = 2u * cur + 1u;
        right = left + 1u;
        if (left >= k) break;
        if (right >= k) {
            if (work[left] > key) swap = left;
            else break;
        } else if (work[left] >= work[right]) {
            if (key < work[left]) swap = left;
            else break;
        } else {
            if (key < work[right]) swap = right;
            else break;
        }
        work[cur] = work[swap];
        idx[cur] = idx[swap];
        cur = swap;
    }
    work[cur] = key;
    idx[cur] = row;
}

/* The k pairs in ascending key order (insertion sort: stable, k is small); returns k. */
static inline uint16_t mlrn_knn_sort(uint32_t *work, uint16_t k) {
    uint16_t i, j;
    for (i = 1; i < k; i++) {
        uint32_t key = work[i], row = work[k + i];
        for (j = i; j > 0u && work[j - 1u] > key; j--) {
            work[j] = work[j - 1u];
            work[k + j] = work[k + j - 1u];
        }
        work[j] = key;
        work[k + j] = row;
    }
    return k;
}

/* The k (<= n_rows) nearest rows of the float input x, rows n_rows x d row-major, by squared euclidean
 * (acc = acc + t * t) or manhattan (acc = acc + |t|) distance, t = x[j] - row[j] in float32. Variants by the
 * rows' storage, all giving _f32's bits (the stored values are the float32 rows exactly):
 *   _f32      float rows;
 *   _f32_i16, _f32_i8   rows whose values are all integers that fit int16 / int8 (converted exactly);
 *   _f32_p8   uint8 codes into a palette of at most 256 float32 values (rows with few distinct values:
 *             one flash read more per value, a quarter of the bytes). */
#define MLRN_KNN__COMMA ,
#define MLRN_KNN__F32(p) mlrn_flash_f32(p)
#define MLRN_KNN__I16(p) ((float)mlrn_flash_i16(p))
#define MLRN_KNN__I8(p) ((float)mlrn_flash_i8(p))
#define MLRN_KNN__P8(p) mlrn_flash_f32(&palette_flash[mlrn_flash_u8(p)])
#define MLRN_KNN_DEFINE_F(S, RT, PALETTE, VALUE)                                                               \
    static inline uint16_t mlrn_knn_nearest_sqeuclid_##S(const RT *rows_flash, PALETTE uint16_t n_rows,       \
                                                         uint16_t d, const float *x, uint16_t k,            \
                                                         uint32_t *work) {                                  \
        uint16_t r, j;                                                                                     \
        mlrn_knn_clear(work, k);                                                                           \
        for (r = 0; r < n_rows; r++) {                                                                     \
            const RT *row = &rows_flash[(uint32_t)r * d];                                                  \
            float acc = 0.0f;                                                                              \
            for (j = 0; j < d; j++) {                                                                      \
                float t = x[j] - VALUE(&row[j]);                                                           \
                acc = acc + t * t;                                                                         \
                if (mlrn_knn_key(acc) >= work[0]) break;                                                   \
            }                                                                                              \
            if (j == d) mlrn_knn_push(work, k, mlrn_knn_key(acc), r);                                      \
        }                                                                                                  \
        return mlrn_knn_sort(work, k);                                                                     \
    }                                                                                                      \
    static inline uint16_t mlrn_knn_nearest_manhattan_##S(const RT *rows_flash, PALETTE uint16_t n_rows,      \
                                                          uint16_t d, const float *x, uint16_t k,           \
                                                          uint32_t *work) {                                 \
        uint16_t r, j;                                                                                     \
        mlrn_knn_clear(work, k);                                                                           \
        for (r = 0; r < n_rows; r++) {                                                                     \
            const RT *row = &rows_flash[(uint32_t)r * d];                                                  \
            float acc = 0.0f;                                                                              \
            for (j = 0; j < d; j++) {                                                                      \
                float t = x[j] - VALUE(&row[j]);                                                           \
                acc = acc + (t < 0.0f ? -t : t);                                                           \
                if (mlrn_knn_key(acc) >= work[0]) break;                                                   \
            }                                                                                              \
            if (j == d) mlrn_knn_push(work, k, mlrn_knn_key(acc), r);                                      \
        }                                                                                                  \
        return mlrn_knn_sort(work, k);                                                                     \
    }

MLRN_KNN_DEFINE_F(f32, float, , MLRN_KNN__F32)
MLRN_KNN_DEFINE_F(f32_i16, int16_t, , MLRN_KNN__I16)
MLRN_KNN_DEFINE_F(f32_i8, int8_t, , MLRN_KNN__I8)
MLRN_KNN_DEFINE_F(f32_p8, uint8_t, const float *palette_flash MLRN_KNN__COMMA, MLRN_KNN__P8)

/* Integer codes: int8 or int16 rows and quantized input q; squared (SQ = 1) or absolute (SQ = 0) code
 * differences summed in uint32. */
#define MLRN_KNN_DEFINE_Q(S, QT, READ)                                                                        \
    static inline uint16_t mlrn_knn_nearest_sqeuclid_##S(const QT *rows_flash, uint16_t n_rows, uint16_t d, \
                                                         const QT *q, uint16_t k, uint32_t *work) {        \
        uint16_t r, j;                                                                                    \
        mlrn_knn_clear(work, k);                                                                          \
        for (r = 0; r < n_rows; r++) {                                                                    \
            const QT *row = &rows_flash[(uint32_t)r * d];                                                 \
            uint32_t acc = 0;                                                                             \
            for (j = 0; j < d; j++) {                                                                     \
                int32_t t = (int32_t)q[j] - (int32_t)READ(&row[j]);                                       \
                uint32_t a = (uint32_t)(t < 0 ? -t : t);                                                  \
                acc += a * a;                                                                             \
                if (acc >= work[0]) break;                                                                \
            }                                                                                             \
            if (j == d) mlrn_knn_push(work, k, acc, r);                                                   \
        }                                                                                                 \
        return mlrn_knn_sort(work, k);                                                                    \
    }                                                                                                     \
    static inline uint16_t mlrn_knn_nearest_manhattan_##S(const QT *rows_flash, uint16_t n_rows, uint16_t d, \
                                                          const QT *q, uint16_t k, uint32_t *work) {       \
        uint16_t r, j;                                                                                    \
        mlrn_knn_clear(work, k);                                                                          \
        for (r = 0; r < n_rows; r++) {                                                                    \
            const QT *row = &rows_flash[(uint32_t)r * d];                                                 \
            uint32_t acc = 0;                                                                             \
            for (j = 0; j < d; j++) {                                                                     \
                int32_t t = (int32_t)q[j] - (int32_t)READ(&row[j]);                                       \
                acc += (uint32_t)(t < 0 ? -t : t);                                                        \
                if (acc >= work[0]) break;                                                                \
            }                                                                                             \
            if (j == d) mlrn_knn_push(work, k, acc, r);                                                   \
        }                                                                                                 \
        return mlrn_knn_sort(work, k);                                                                    \
    }

MLRN_KNN_DEFINE_Q(q8, int8_t, mlrn_flash_i8)
MLRN_KNN_DEFINE_Q(q16, int16_t, mlrn_flash_i16)

/* Correctly rounded square root of a float32 (IEEE-754 sqrt: what numpy's float32 sqrt gives), by the
 * classic bit-by-bit integer method (fdlibm's e_sqrtf), so that every target gives the same bits without
 * libm. Negative (and -NaN) inputs give NaN, +inf gives +inf, -0 gives -0. */
static inline float mlrn_knn_sqrtf(float x) {
    union { float f; uint32_t u; } c;
    uint32_t ix, q, s, t, r;
    int32_t m;
    c.f = x;
    ix = c.u;
    if ((ix & 0x7f800000u) == 0x7f800000u) {
        if (ix == 0x7f800000u) return x;          /* +inf */
        c.u = 0x7fc00000u;                         /* NaN, -inf */
        return c.f;
    }
    if ((ix & 0x7fffffffu) == 0u) return x;        /* +-0 */
    if (ix & 0x80000000u) {
        c.u = 0x7fc00000u;
        return c.f;
    }
    m = (int32_t)(ix >> 23);
    if (m == 0) {                                  /* subnormal: normalise */
        while ((ix & 0x00800000u) == 0u) {
            ix <<= 1;
            m--;
        }
        m++;
    }
    m -= 127;
    ix = (ix & 0x007fffffu) | 0x00800000u;
    if (m & 1) {                                   /* odd exponent: double the mantissa */
        ix += ix;
        m -= 1;
    }
    m /= 2;                                        /* m is even: exact, no signed shift */
    ix += ix;
    q = s = 0;
    r = 0x01000000u;
    while (r != 0u) {
        t = s + r;
        if (t <= ix) {
            s = t + r;
            ix -= t;
            q += r;
        }
        ix += ix;
        r >>= 1;
    }
    if (ix != 0u) q += q & 1u;                     /* round to nearest (no exact halfway case exists) */
    c.u = (q >> 1) + 0x3f000000u + ((uint32_t)m << 23);
    return c.f;
}

/* Weight of a neighbour for weights='distance' from its key: 1 / distance (euclidean: the key is the squared
 * distance, so 1 / sqrt). Zero distances are handled by the callers (scikit-learn: then only the neighbours
 * at distance 0 count, each with weight 1). */
static inline float mlrn_knn_inv_dist(uint32_t key, uint8_t squared, uint8_t integer) {
    float v = integer ? (float)key : mlrn_knn_key_f32(key);
    return 1.0f / (squared ? mlrn_knn_sqrtf(v) : v);
}

/* weights='distance': replaces the n sorted keys in work by the bits of their float weights (1 / distance; when
 * the nearest is at distance 0, 1 for the neighbours at distance 0 and 0 for the others, as scikit-learn). */
static inline void mlrn_knn_weigh(uint32_t *work, uint16_t n, uint8_t squared, uint8_t integer) {
    uint16_t i;
    uint8_t exact = (uint8_t)(n > 0u && work[0] == 0u);
    for (i = 0; i < n; i++)
        work[i] = mlrn_knn_key(exact ? (work[i] == 0u ? 1.0f : 0.0f) : mlrn_knn_inv_dist(work[i], squared, integer));
}

/* The vote of class c: the number of the n neighbours labelled c (uniform), or the float32 sum of their weights
 * in neighbour order (after mlrn_knn_weigh). labels_flash[row] is each training row's class index (uint8). */
static inline float mlrn_knn_class_vote(const uint32_t *work, uint16_t k, uint16_t n, const uint8_t *labels_flash,
                                        uint8_t c, uint8_t weighted) {
    float v = 0.0f;
    uint16_t i, count = 0;
    for (i = 0; i < n; i++) {
        if (mlrn_flash_u8(&labels_flash[work[k + i]]) != c) continue;
        if (weighted) v = v + mlrn_knn_key_f32(work[i]);
        else count++;
    }
    return weighted ? v : (float)count;
}

/* The predicted class: the first class of the largest vote (numpy argmax: ties go to the lowest index). */
static inline int32_t mlrn_knn_vote(uint32_t *work, uint16_t k, uint16_t n, const uint8_t *labels_flash,
                                    uint16_t n_classes, uint8_t weighted, uint8_t squared, uint8_t integer) {
    int32_t best = 0;
    float best_v = 0.0f;
    uint16_t c;
    if (weighted) mlrn_knn_weigh(work, n, squared, integer);
    for (c = 0; c < n_classes; c++) {
        float v = mlrn_knn_class_vote(work, k, n, labels_flash, (uint8_t)c, weighted);
        if (c == 0u || v > best_v) {
            best_v = v;
            best = (int32_t)c;
        }
    }
    return best;
}

/* scikit-learn's predict_proba: each class's vote over the sum of the votes (summed in class order). */
static inline void mlrn_knn_proba(uint32_t *work, uint16_t k, uint16_t n, const uint8_t *labels_flash,
                                  uint16_t n_classes, uint8_t weighted, uint8_t squared, uint8_t integer, float *out) {
    float s = 0.0f;
    uint16_t c;
    if (weighted) mlrn_knn_weigh(work, n, squared, integer);
    for (c = 0; c < n_classes; c++) {
        out[c] = mlrn_knn_class_vote(work, k, n, labels_flash, (uint8_t)c, weighted);
        s = s + out[c];
    }
    for (c = 0; c < n_classes; c++) out[c] = out[c] / s;
}

/* A regressor's value: uniform, the sum of the neighbours' y in neighbour order divided by n; by distance,
 * sum(w y) / sum(w) with w = 1 / distance (only the neighbours at distance 0, weight 1, when there are any). */
static inline float mlrn_knn_value(const uint32_t *work, uint16_t k, uint16_t n, const float *y_flash,
                                   uint8_t weighted, uint8_t squared, uint8_t integer) {
    float num = 0.0f, den = 0.0f;
    uint16_t i;
    uint8_t exact = (uint8_t)(weighted && n > 0u && work[0] == 0u);
    for (i = 0; i < n; i++) {
        float y = mlrn_flash_f32(&y_flash[work[k + i]]);
        if (!weighted) {
            num = num + y;
        } else if (exact) {
            if (work[i] == 0u) {
                num = num + y;
                den = den + 1.0f;
            }
        } else {
            float w = mlrn_knn_inv_dist(work[i], squared, integer);
            num = num + w * y;
            den = den + w;
        }
    }
    return weighted ? num / den : num / (float)n;
}

MLRN_FP_EXACT_END

#endif /* MLRN_KNN_H */
