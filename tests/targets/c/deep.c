/* Recursion as deep as the first input byte, 64 bytes of locals a level: the stack high-water mark grows
 * by one frame a level. */
#include "mlrn_target.h"
__attribute__((noinline)) static uint32_t rec(uint32_t n) {
    volatile uint8_t pad[64];
    pad[0] = (uint8_t)n;
    return n ? rec(n - 1) + pad[0] : 0;
}
int main(void) {
    uint8_t d = 0;
    int c;
    mlrn_target_init();
    if ((c = mlrn_target_getc()) >= 0) d = (uint8_t)c;
    mlrn_io_put_u32(rec(d));
    mlrn_target_exit(0);
    return 0;
}
