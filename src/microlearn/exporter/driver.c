
#include "mlrn_target.h"
#include "model.h"

#define OUT_N ((NAME_N_CLASSES > NAME_N_DECISION_OR_0) ? NAME_N_CLASSES : NAME_N_DECISION_OR_0)

int main(void) {
    float x[NAME_N_FEATURES];
    float out[OUT_N];
    uint8_t hdr[5];
    uint32_t n, r;
    uint16_t k;
    mlrn_target_init();
    if (mlrn_io_read_bytes(hdr, 5)) mlrn_target_exit(3);
    n = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) | ((uint32_t)hdr[2] << 16) | ((uint32_t)hdr[3] << 24);
    for (r = 0; r < n; r++) {
        int32_t c;
        for (k = 0; k < NAME_N_FEATURES; k++)
            if (mlrn_io_read_f32(&x[k])) mlrn_target_exit(4);
        if (r == 0) mlrn_target_mark_begin();
        c = NAME_predict(x);
        if (r == 0) mlrn_target_mark_end();
        mlrn_io_put_i32(c);
#if HAS_DECISION
        if (hdr[4] & 2) {
            NAME_decision_function(x, out);
            for (k = 0; k < NAME_N_DECISION_OR_0; k++) { mlrn_target_putc(' '); mlrn_io_put_f32bits(out[k]); }
        }
#endif
#if HAS_PROBA
        if (hdr[4] & 4) {
            mlrn_target_putc(';');
            NAME_predict_proba(x, out);
            for (k = 0; k < NAME_N_CLASSES; k++) { mlrn_target_putc(' '); mlrn_io_put_f32bits(out[k]); }
        }
#endif
        mlrn_target_putc('\n');
    }
    (void)out;
    mlrn_target_exit(0);
    return 0;
}
