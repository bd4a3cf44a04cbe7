/* mlrn_drift.h: drift detection that measures change (DDM, Gama et al. 2004), in integers.
 *
 * A model that errs on 30 % of the rows is not drifting: it is as good as it gets on that concept. DDM
 * compares the learner's error rate since the last drift (since its first model, at the start) with the
 * best rate it showed in that time: with n rows and e errors, p = e/n and s = sqrt(p(1-p)/n); it keeps the
 * minimum of p + s (p_min, s_min at that row) and signals
 *   warning  when p + s >= p_min + 2 s_min   (the rows from here on may be a new concept: mark them)
 *   drift    when p + s >= p_min + 3 s_min   (they are: forget what came before the warning)
 * after min_rows rows. The multipliers are parameters in tenths: 25 and 40 by default, above Gama's 2 and 3,
 * because with 2 and 3 the loop signalled about once per 10,000 rows of a stationary stream with 30 % label
 * noise (a retrained model that is a little worse than its predecessor looks like a change to DDM); with
 * 2.5 and 4 it signalled none in 30,000 such rows, at the price of later detection (docs/self-learning.md).
 * An accepted retrain does not restart the detector: an accepted model is strictly better on the held-out
 * store, so on a stable concept the error does not rise, and what DDM assumes holds. Restarting it at every
 * acceptance was tried: the frequent restarts kept n under min_rows after a switch, and 5 of 12 abrupt
 * drifts (3 seeds) went unsignalled (benchmarks/bench_streams.py, docs/self-learning.md).
 *
 * Fixed point, so that every target (8-bit AVR, Cortex-M, host) decides the same row bit for bit,
 * with no float and no sqrt from the C library:
 *   p  = floor(((e + 1) << 16) / (n + 2))          Q16 (1.0 = 65536). Laplace's estimate: a model with no
 *                                                  error yet would have s = 0 and signal on its first error.
 *   s  = isqrt(floor(p * (65536 - p) / (n + 2)))   Q16; p (65536 - p) <= 2^30: uint32, no overflow
 *   q  = p + s                                     <= 98304
 *   level >= k  iff  10 q >= 10 q_min + (k10 - 10) s_min   (q_min = p_min + s_min; all < 2^21)
 * n and e are uint16: at n = 65535 both are halved (the rate stays, the detector keeps working).
 * State: 13 bytes. The Python twin is microlearn.learner.drift.Ddm: change both or neither. */
#ifndef MLRN_DRIFT_H
#define MLRN_DRIFT_H
#include "mlrn.h"

#define MLRN_DRIFT_WINDOW 0 /* error share of the last `window` rows above drift_pct (the old detector) */
#define MLRN_DRIFT_DDM 1    /* DDM in fixed point (this header) */

#define MLRN_DDM_NONE 0     /* levels mlrn_ddm_update returns */
#define MLRN_DDM_WARNING 1
#define MLRN_DDM_DRIFT 2

#define MLRN_DDM_MIN_ROWS 30u  /* defaults: rows before the detector judges (Gama et al.: 30) */
#define MLRN_DDM_WARN_K10 25u  /* warning at p_min + 2.5 s_min (Gama et al.: 2.0; see below) */
#define MLRN_DDM_DRIFT_K10 40u /* drift at p_min + 4.0 s_min (Gama et al.: 3.0) */
#define MLRN_DDM_Q_BITS 16u    /* fixed-point scale of p and s: 1.0 = 1 << 16 */
#define MLRN_DDM_NO_MIN 0xFFFFFFFFu /* q_min before the detector's first judged row */

typedef struct {
    uint16_t n, e;     /* rows and errors since the model was accepted (or the last drift) */
    uint32_t q_min;    /* minimum of p + s (Q16) over the judged rows, MLRN_DDM_NO_MIN before */
    uint32_t s_min;    /* s at that row */
    uint8_t warn;      /* 1 while at or above the warning level */
} mlrn_ddm;

static inline void mlrn_ddm_reset(mlrn_ddm *d) {
    d->n = 0; d->e = 0; d->q_min = MLRN_DDM_NO_MIN; d->s_min = 0; d->warn = 0;
}

/* floor(sqrt(v)), bit by bit (no library, the same on every target). */
static inline uint32_t mlrn_ddm_isqrt(uint32_t v) {
    uint32_t r = 0, bit = (uint32_t)1u << 30;
    while (bit > v) bit >>= 2;
    while (bit) {
        if (v >= r + bit) { v -= r + bit; r = (r >> 1) + bit; }
        else r >>= 1;
        bit >>= 2;
    }
    return r;
}

/* One row's outcome (wrong 0/1). Returns MLRN_DDM_DRIFT, _WARNING or _NONE; d->warn follows the warning
 * level (the caller sees a new warning as warn going 0 -> 1). The caller resets the detector on drift and
 * when a new model is accepted. */
static inline uint8_t mlrn_ddm_update(mlrn_ddm *d, uint8_t wrong, uint16_t min_rows, uint8_t warn_k10,
                                      uint8_t drift_k10) {
    uint32_t p, s, q, n2;
    if (d->n == 0xFFFFu) { d->n = (uint16_t)(d->n >> 1); d->e = (uint16_t)(d->e >> 1); }
    d->n++;
    d->e = (uint16_t)(d->e + (wrong ? 1u : 0u));
    if (d->n < min_rows) return MLRN_DDM_NONE;
    n2 = (uint32_t)d->n + 2u;
    p = (((uint32_t)d->e + 1u) << MLRN_DDM_Q_BITS) / n2;
    s = mlrn_ddm_isqrt(p * (((uint32_t)1u << MLRN_DDM_Q_BITS) - p) / n2);
    q = p + s;
    if (q < d->q_min) { d->q_min = q; d->s_min = s; }
    if (10u * q >= 10u * d->q_min + (uint32_t)(drift_k10 - 10u) * d->s_min) { d->warn = 1; return MLRN_DDM_DRIFT; }
    if (10u * q >= 10u * d->q_min + (uint32_t)(warn_k10 - 10u) * d->s_min) { d->warn = 1; return MLRN_DDM_WARNING; }
    d->warn = 0;
    return MLRN_DDM_NONE;
}

#endif /* MLRN_DRIFT_H */
