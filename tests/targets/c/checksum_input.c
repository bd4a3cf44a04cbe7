/* Reads the whole input and prints its FNV-1a hash and length: every byte must arrive, in order. */
#include "mlrn_target.h"
int main(void) {
    uint32_t h = 2166136261u, n = 0;
    int c;
    mlrn_target_init();
    while ((c = mlrn_target_getc()) >= 0) { h = (h ^ (uint8_t)c) * 16777619u; n++; }
    mlrn_io_put_hex32(h); mlrn_io_puts(" "); mlrn_io_put_u32(n); mlrn_io_puts("\n");
    mlrn_target_exit(0);
    return 0;
}
