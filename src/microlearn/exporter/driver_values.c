#include "mlrn_target.h"
#include "model.h"

/* A regressor's driver (runner.py fills in NAME_): the same input protocol as driver.c (a 5-byte header:
 * row count, flags; then float32 rows), one line per row with the predicted values as float32 bits. Only
 * the first row's call is marked, so the emulators measure one prediction. */
int main(void) {
    float x[NAME_N_FEATURES];
    float out[NAME_N_OUTPUTS];
    uint8_t hdr[5];
    uint32_t n, r;
    uint16_t k;
    mlrn_target_init();
    if (mlrn_io_read_bytes(hdr, 5)) mlrn_target_exit(3);
    n = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) | ((uint32_t)hdr[2] << 16) | ((uint32_t)hdr[3] << 24);
    for (r = 0; r < n; r++) {
        for (k = 0; k < NAME_N_FEATURES; k++)
            if (mlrn_io_read_f32(&x[k])) mlrn_target_exit(4);
        if (r == 0) mlrn_target_mark_begin();
#if NAME_N_OUTPUTS == 1
        out[0] = NAME_predict_value(x);
#else
        NAME_predict_values(x, out);
#endif
        if (r == 0) mlrn_target_mark_end();
        for (k = 0; k < NAME_N_OUTPUTS; k++) {
            if (k) mlrn_target_putc(' ');
            mlrn_io_put_f32bits(out[k]);
        }
        mlrn_target_putc('\n');
    }
    mlrn_target_exit(0);
    return 0;
}
