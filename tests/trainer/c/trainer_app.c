/* A user's application of an exported trainer (trainer.h, prefix iris): set up, add six samples of two
 * classes, train, predict them back; every refused call is its own exit code. Prints the rows predicted
 * right, the iterations and IRIS_BUFFER_BYTES. Built with -DNO_STDIO (the AVR size check) it prints nothing
 * and links no stdio. */
#ifndef NO_STDIO
#include <stdio.h>
#endif
#include "trainer.h"
int main(void) {
    static const float X[6][2] = {{0,0},{1,0},{0,1},{3,3},{4,3},{3,4}};
    float out[1];
    uint32_t it = 0;
    int i, ok = 0;
    if (iris_setup() != MLRN_OK) return 1;
    if (iris_predict(X[0]) != MLRN_ERR_UNTRAINED) return 2;
    for (i = 0; i < 6; i++) if (iris_add_sample(X[i], (uint8_t)(i >= 3)) != MLRN_OK) return 3;
    if (iris_add_sample(X[0], 0) != MLRN_ERR_FULL) return 4;
    if (iris_train(&it) != MLRN_OK) return 5;
    for (i = 0; i < 6; i++) ok += iris_predict(X[i]) == (i >= 3);
    if (iris_decision_function(X[3], out) != MLRN_OK || !(out[0] > 0.0f)) return 6;
#ifndef NO_STDIO
    printf("%d %u %u\n", ok, (unsigned)it, (unsigned)IRIS_BUFFER_BYTES);
#else
    (void)ok;
#endif
    return 0;
}
