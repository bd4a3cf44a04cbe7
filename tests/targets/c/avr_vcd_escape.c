/* AVR firmware whose .mmcu section asks simavr to write a VCD trace to a host path (VCD_PATH, from -D):
 * the runner must ignore it. Otherwise an ordinary program that prints "ok". */
#include <avr/io.h>
#include <avr/avr_mcu_section.h>   /* simavr's, from /usr/include/simavr (given with -I) */
#include "mlrn_target.h"

AVR_MCU(16000000, "atmega328p");
AVR_MCU_VCD_FILE(VCD_PATH, 1000);
const struct avr_mmcu_vcd_trace_t _mytrace[] _MMCU_ = {   /* a traced register: simavr opens the file */
    { AVR_MCU_VCD_SYMBOL("GPIOR1"), .what = (void *)&GPIOR1, },
};

int main(void) {
    mlrn_target_init();
    mlrn_io_puts("ok\n");
    mlrn_target_exit(0);
}
