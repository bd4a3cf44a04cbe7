/* The target twin of math_dump.c: reads float32 values through mlrn_target_getc and prints the bits of
 * mlrn_math_expf, mlrn_math_exp2_16 and mlrn_math_tanhf of each as decimal words, one line per value
 * (test_runtime_math.py runs it on the emulated ATmega328P: 16-bit int, avr-gcc's float library). */
#include "mlrn_target.h"
#include "mlrn_math.h"
int main(void) {
    float v = 0.0f;
    mlrn_target_init();
    while (!mlrn_io_read_f32(&v)) {
        union { float f; uint32_t u; } o[3];
        uint8_t i;
        o[0].f = mlrn_math_expf(v); o[1].f = mlrn_math_exp2_16(v); o[2].f = mlrn_math_tanhf(v);
        for (i = 0; i < 3; i++) { mlrn_io_put_u32(o[i].u); mlrn_target_putc(' '); }
        mlrn_target_putc('\n');
    }
    mlrn_target_exit(0);
    return 0;
}
