/* Two constant tables of TABLE_BYTES each (-D), kept in flash and both read: more than half a board's flash
 * each, so together they do not fit. */
#include "mlrn_target.h"
#ifdef __AVR__
#include <avr/pgmspace.h>
#define IN_FLASH PROGMEM   /* without it avr-gcc copies const data to SRAM */
#else
#define IN_FLASH
#endif
static const uint8_t t1[TABLE_BYTES] IN_FLASH = {1};
static const uint8_t t2[TABLE_BYTES] IN_FLASH = {2};
int main(void) {
    volatile uint16_t i = 7;  /* unknown index: the tables must stay */
    mlrn_target_init();
    mlrn_io_put_u32((uint32_t)(t1[i] + t2[i]));
    mlrn_target_exit(0);
    return 0;
}
