/* A regressor's header m.h used as an application would: C99 or C++11 with the project's warnings and
 * -pedantic. Calls the entry point on zeros (and the _q variant of a quantized export); exit 0 when every
 * value is finite. */
#include "m.h"

static int finite(float v) { return v == v && v - v == 0.0f; }

int main(void) {
    float x[m_N_FEATURES] = {0};
    int ok = 1;
#if m_N_OUTPUTS == 1
    ok = finite(m_predict_value(x));
#else
    float out[m_N_OUTPUTS];
    int k;
    m_predict_values(x, out);
    for (k = 0; k < m_N_OUTPUTS; k++) ok = ok && finite(out[k]);
#endif
#ifdef m_QUANT_MAX
    {
        MLRN_TEST_QTYPE q[m_N_FEATURES];
        m_quantize(x, q);
#if m_N_OUTPUTS == 1
        ok = ok && finite(m_predict_value_q(q));
#else
        m_predict_values_q(q, out);
        ok = ok && finite(out[0]);
#endif
    }
#endif
    return ok ? 0 : 1;
}
