/* An exported MLP (model "m" in m.h, rows in rows.h) run through its caller-owned API: the activations in
 * a heap block of exactly m_WORK_BYTES (under AddressSanitizer a byte past it is an error), the output
 * layer printed as float32 bits, one row per line, after a first line with m_WORK_BYTES and m_RAM_BYTES.
 * MLRN_TEST_INT8: the int8 API (m_quantize, m_forward_q); else the float32 one (m_forward). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "m.h"
#include "rows.h"

static unsigned long bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (unsigned long)u;
}

int main(void) {
    unsigned r, j;
    printf("%lu %lu\n", (unsigned long)m_WORK_BYTES, (unsigned long)m_RAM_BYTES);
    for (r = 0; r < N_ROWS; r++) {
#ifdef MLRN_TEST_INT8
        int8_t *q = (int8_t *)malloc(m_N_FEATURES);
        int8_t *work = (int8_t *)malloc(m_WORK_BYTES);
        float z[m_N_OUT_UNITS];
        if (!q || !work) return 2;
        m_quantize(rows[r], q);
        m_forward_q(q, work, z);
        for (j = 0; j < m_N_OUT_UNITS; j++) printf("%lu ", bits(z[j]));
        free(q);
        free(work);
#else
        float *work = (float *)malloc(m_WORK_BYTES);
        const float *z;
        if (!work) return 2;
        z = m_forward(rows[r], work);
        for (j = 0; j < m_N_OUT_UNITS; j++) printf("%lu ", bits(z[j]));
        free(work);
#endif
        printf("\n");
    }
    return 0;
}
