/* Stores one word at STORE_ADDR (-D): the address just past the board's SRAM, or its flash. On the RISC-V
 * boards start-up's PMP makes both a store access fault. Prints "before" first: the output up to the
 * fault must reach the caller. */
#include "mlrn_target.h"
int main(void) {
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)STORE_ADDR;
    mlrn_target_init();
    mlrn_io_puts("before\n");
    *p = 0x12345678u;
    mlrn_io_puts("after\n");
    mlrn_target_exit(0);
    return 0;
}
