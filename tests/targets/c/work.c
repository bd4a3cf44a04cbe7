/* Reads a 2-byte iteration count then data bytes; checksums the data (FNV-1a), then runs `iters` float32
 * steps between the markers and prints both (the float as its bits). N_DATA (-D): the bytes of the input
 * window it keeps. */
#include "mlrn_target.h"
static uint8_t data[N_DATA];   /* a window of the input (the uno has 2 KB of SRAM) */
static uint16_t n_data;

__attribute__((noinline)) static float work(uint16_t iters) {
    float s = 0.0f;
    uint16_t i;
    for (i = 0; i < iters; i++) s = s * 0.96875f + (float)data[i % n_data] * 0.5f - 1.25f;
    return s;
}

int main(void) {
    uint8_t hdr[2] = {0, 0}; /* avr-gcc 5.4 cannot see that mlrn_target_exit does not return */
    uint16_t iters;
    uint32_t h = 2166136261u;
    int c;
    float r;
    mlrn_target_init();
    if (mlrn_io_read_bytes(hdr, 2)) mlrn_target_exit(2);
    iters = (uint16_t)(hdr[0] | (hdr[1] << 8));
    while ((c = mlrn_target_getc()) >= 0) {
        if (n_data < N_DATA) data[n_data++] = (uint8_t)c;
        h = (h ^ (uint8_t)c) * 16777619u;
    }
    mlrn_target_mark_begin();
    r = work(iters);
    mlrn_target_mark_end();
    mlrn_io_puts("fnv ");
    mlrn_io_put_hex32(h);
    mlrn_io_puts(" n ");
    mlrn_io_put_u32(n_data);
    mlrn_io_puts(" f ");
    mlrn_io_put_f32bits(r);
    mlrn_io_puts("\n");
    mlrn_target_exit(0);
    return 0;
}
