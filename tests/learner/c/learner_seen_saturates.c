/* The reservoir's sample counters near 2^32: seen_train starts at 2^32 - 3 with a full store, then 8
 * rows go in. The counter must stop at 2^32 - 1 (a wrap to 0 made the next draw divide by zero) and the
 * reservoir keeps drawing. Prints the counter and the draws' outcome (1 kept, 0 discarded) per row,
 * for the Python reference to reproduce. */
#include <stdio.h>
#include "mlrn_learner.h"

#define D 2
#define NC 2
MLRN_LEARNER_DEFINE(L, D, NC, 4, 0, 1, 0)

int main(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    float x[D];
    int i;
    p.replace = MLRN_LEARNER_RESERVOIR;
    p.holdout_every = 0;
    p.window = 0;
    p.k_mistakes = 0;
    p.seed = 7u;
    if (L_init(&p) != MLRN_OK) return 1;
    for (i = 0; i < 4; i++) {
        x[0] = (float)i; x[1] = (float)-i;
        (void)mlrn_learner__insert(&L, x, (uint8_t)(i & 1));
    }
    L.seen_train = 0xFFFFFFFDu;
    for (i = 0; i < 8; i++) {
        uint8_t where;
        x[0] = (float)(10 + i); x[1] = 1.0f;
        where = mlrn_learner__insert(&L, x, (uint8_t)(i & 1));
        printf("%lu %u\n", (unsigned long)L.seen_train, (unsigned)where);
    }
    return 0;
}
