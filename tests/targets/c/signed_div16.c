/* Signed 16-bit division by 16, which avr-gcc compiles to `sbrc r25,7; adiw r24,15`: a sequence simavr 1.6
 * mis-executes (microlearn.targets.simavr_quirks). With -DUNSIGNED_DIV the same numbers divide unsigned,
 * without the sequence. Prints "v/q" for each value. */
#include "mlrn_target.h"
volatile int16_t in[6] = {-33, -16, -1, 0, 17, 100};

int main(void) {
    uint8_t i;
    mlrn_target_init();
    for (i = 0; i < 6; i++) {
        int16_t v = in[i];
#if UNSIGNED_DIV
        int16_t q = (int16_t)((uint16_t)(v + 48) / 16u) - 3;   /* the same floor for v >= -48 */
#else
        int16_t q = (int16_t)(v / 16);
#endif
        mlrn_io_put_i32(v); mlrn_target_putc('/'); mlrn_io_put_i32(q); mlrn_target_putc(' ');
    }
    mlrn_target_putc('\n');
    return 0;
}
