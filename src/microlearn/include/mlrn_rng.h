/* mlrn_rng.h: the seeded PRNG shared by the C runtime and the Python reference
 * (microlearn.core.rng): xorshift32, so both draw the same j in the simplified SMO. */
#ifndef MLRN_RNG_H
#define MLRN_RNG_H
#include "mlrn.h"

MLRN_FP_EXACT_BEGIN

static inline uint32_t mlrn_rng_seed(uint32_t seed) {
    uint32_t s = seed ^ 0x6D2B79F5u;   /* any seed, including 0, gives a non-zero state */
    return s ? s : 0x6D2B79F5u;
}

static inline uint32_t mlrn_rng_next(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

MLRN_FP_EXACT_END

#endif
