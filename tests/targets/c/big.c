/* A static array of BIG bytes (-D), filled and summed at run time: the SRAM a build needs grows with BIG. */
#include "mlrn_target.h"
/* volatile and written at run time: gcc cannot move it to flash (see emulation facts). */
static volatile uint8_t big[BIG];
int main(void) {
    uint32_t i, s = 0;
    mlrn_target_init();
    for (i = 0; i < BIG; i++) big[i] = (uint8_t)i;
    for (i = 0; i < BIG; i++) s += big[i];
    mlrn_io_put_u32(s);
    mlrn_target_exit(0);
    return 0;
}
