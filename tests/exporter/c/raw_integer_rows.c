/* NAME_predict_q on raw integer readings against NAME_predict on the same values as floats (m.h: prefix
 * dg, 64 int8 inputs). rows.h (written by the test) holds N_ROWS and R, the readings. Prints each row's
 * class index; exit 1 at the first row where the two entry points differ. */
#include <stdio.h>
#include "m.h"
#include "rows.h"
int main(void) {
    int i, k;
    for (i = 0; i < N_ROWS; i++) {
        float x[64];
        for (k = 0; k < 64; k++) x[k] = (float)R[i][k];
        if (dg_predict_q(R[i]) != dg_predict(x)) return 1;
        printf("%d\n", (int)dg_predict_q(R[i]));
    }
    return 0;
}
