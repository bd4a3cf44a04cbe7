/* mlrn_drift.h's DDM over seeded outcome sequences, one line per configuration: the levels as a string
 * (0 none, 1 warning, 2 drift; the detector reset after each drift, as the learners do) and the final
 * state. tests/learner/test_drift_online.py runs microlearn.learner.drift.Ddm over the same sequences. */
#include <stdio.h>
#include "mlrn_drift.h"
#include "mlrn_rng.h"

/* Outcome t of a sequence: wrong with probability pct/100 (a percentage that changes at `at`). */
static uint8_t outcome(uint32_t *rng, uint32_t t, uint32_t at, uint32_t pct0, uint32_t pct1) {
    return (uint8_t)(mlrn_rng_next(rng) % 100u < (t < at ? pct0 : pct1));
}

static void run(uint32_t seed, uint32_t n, uint32_t at, uint32_t pct0, uint32_t pct1, uint16_t min_rows,
                uint8_t warn_k10, uint8_t drift_k10, int print_levels) {
    mlrn_ddm d;
    uint32_t rng = mlrn_rng_seed(seed), t, drifts = 0, warnings = 0;
    mlrn_ddm_reset(&d);
    printf("RUN %lu %lu %lu %lu %lu %u %u %u ", (unsigned long)seed, (unsigned long)n, (unsigned long)at,
           (unsigned long)pct0, (unsigned long)pct1, (unsigned)min_rows, (unsigned)warn_k10, (unsigned)drift_k10);
    for (t = 0; t < n; t++) {
        uint8_t lv = mlrn_ddm_update(&d, outcome(&rng, t, at, pct0, pct1), min_rows, warn_k10, drift_k10);
        if (print_levels) putchar('0' + lv);
        if (lv == MLRN_DDM_DRIFT) { drifts++; mlrn_ddm_reset(&d); }
        else if (lv == MLRN_DDM_WARNING) warnings++;
    }
    printf(" %lu %lu %u %u %lu %lu %u\n", (unsigned long)drifts, (unsigned long)warnings, (unsigned)d.n, (unsigned)d.e,
           (unsigned long)d.q_min, (unsigned long)d.s_min, (unsigned)d.warn);
}

int main(void) {
    uint32_t v, bad = 0;
    for (v = 0; v < 200000u; v++) {   /* isqrt: floor(sqrt(v)) exactly, and at the uint32 edges */
        uint32_t r = mlrn_ddm_isqrt(v);
        if (r * r > v || (r + 1u) * (r + 1u) <= v) bad++;
    }
    if (mlrn_ddm_isqrt(0xFFFFFFFFu) != 65535u || mlrn_ddm_isqrt(1073741824u) != 32768u) bad++;
    printf("ISQRT bad=%lu\n", (unsigned long)bad);
    run(1, 3000, 1500, 30, 30, 30, 20, 30, 1);    /* stationary, 30 % errors */
    run(2, 3000, 1000, 10, 60, 30, 20, 30, 1);    /* abrupt switch */
    run(3, 3000, 1000, 0, 20, 30, 20, 30, 1);     /* an error-free start (Laplace's estimate) */
    run(4, 2000, 800, 25, 45, 50, 25, 40, 1);
    run(5, 140000, 70000, 20, 20, 30, 20, 30, 0); /* past n = 65535: the halving */
    return bad ? 1 : 0;
}
