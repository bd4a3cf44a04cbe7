/* Calls into memory that holds no code (BAD_ADDR, -D): unprogrammed flash (0xFFFF) on AVR, nothing on
 * Cortex-M. Prints "before" first: the output up to the crash must reach the caller. */
#include "mlrn_target.h"
typedef void (*fn_t)(void);
int main(void) {
    volatile uintptr_t bad = BAD_ADDR;
    mlrn_target_init();
    mlrn_io_puts("before\n");
    ((fn_t)bad)();
    mlrn_io_puts("after\n");
    mlrn_target_exit(0);
    return 0;
}
