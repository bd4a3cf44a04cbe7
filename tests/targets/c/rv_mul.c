/* Executes one MUL (RISC-V M extension), encoded by hand so that an -march without M still assembles it:
 * an RV32E/RV32I part without M must fault on it. Prints the product when the core has M. */
#include "mlrn_target.h"
#define MUL_A0_A0_A1 0x02b50533u /* mul a0, a0, a1 */
static uint32_t mul(uint32_t x, uint32_t y) {
    register uint32_t a0 __asm__("a0") = x; /* the encoding names a0 and a1 */
    register uint32_t a1 __asm__("a1") = y;
    __asm__ volatile(".word %2" : "+r"(a0) : "r"(a1), "i"(MUL_A0_A0_A1));
    return a0;
}

int main(void) {
    mlrn_target_init();
    mlrn_io_puts("before\n");
    mlrn_io_put_u32(mul(6u, 7u));
    mlrn_io_puts("\n");
    mlrn_target_exit(0);
    return 0;
}
