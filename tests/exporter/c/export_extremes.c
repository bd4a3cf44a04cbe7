/* Extreme inputs through an exported model "m" (model.h), built with -fsanitize=undefined and
 * float-cast-overflow: quantized entry points with every code at the type's ends (also one past the
 * documented +-127 for int8, i.e. -128) and float inputs at +-3e38 / +-1e30. Any signed overflow or
 * out-of-range conversion stops the program (no recovery). Q_TYPE, Q_LO, Q_HI come from -D.
 * Prints the sum of the predicted indices (to keep the calls). */
#include <stdio.h>
#include "model.h"

int main(void) {
    Q_TYPE q[m_N_FEATURES];
    float x[m_N_FEATURES];
    int i, k;
    long s = 0;
    for (k = 0; k < 4; k++) {
        for (i = 0; i < m_N_FEATURES; i++)
            q[i] = k == 0 ? Q_LO : k == 1 ? Q_HI : ((i % 2) == (k % 2) ? Q_LO : Q_HI);
        s += m_predict_q(q);
    }
    for (k = 0; k < 4; k++) {
        for (i = 0; i < m_N_FEATURES; i++)
            x[i] = k == 0 ? 3e38f : k == 1 ? -3e38f : ((i % 2) == (k % 2) ? 1e30f : -3e38f);
        m_quantize(x, q);
        s += m_predict_q(q) + m_predict(x);
    }
    printf("%ld\n", s);
    return 0;
}
