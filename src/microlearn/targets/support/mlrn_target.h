/* mlrn_target.h: the only way a driver program talks to the world.
 * Each target (host, avr, cortex-m) provides mlrn_target.c implementing it, so
 * one driver source runs unchanged everywhere. Measurement happens between
 * mlrn_target_mark_begin() and mlrn_target_mark_end(): wall time on the host,
 * exact cycles on simavr, executed instructions on qemu. */
#ifndef MLRN_TARGET_H
#define MLRN_TARGET_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void mlrn_target_init(void);
int mlrn_target_getc(void);          /* next input byte, or -1 at end of input */
void mlrn_target_putc(char c);
void mlrn_target_mark_begin(void);   /* keep measured code behind a call: no work may move across */
void mlrn_target_mark_end(void);
#if defined(__GNUC__)
#define MLRN_NORETURN __attribute__((noreturn))
#else
#define MLRN_NORETURN
#endif
MLRN_NORETURN void mlrn_target_exit(int code);  /* flushes output, ends the program; never returns */

#ifdef __cplusplus
}
#endif

/* Small I/O helpers on top of getc/putc: binary little-endian input, text output
 * without printf (printf of floats costs 1.6 KB of flash on AVR). */
static inline void mlrn_io_puts(const char *s) { while (*s) mlrn_target_putc(*s++); }

static inline void mlrn_io_put_u32(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = '\0';
    do { buf[--i] = (char)('0' + (v % 10u)); v /= 10u; } while (v && i > 0);
    mlrn_io_puts(&buf[i]);
}

static inline void mlrn_io_put_i32(int32_t v) {
    if (v < 0) { mlrn_target_putc('-'); mlrn_io_put_u32((uint32_t)(-(v + 1)) + 1u); }
    else mlrn_io_put_u32((uint32_t)v);
}

static inline void mlrn_io_put_hex32(uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    int s;
    for (s = 28; s >= 0; s -= 4) mlrn_target_putc(digits[(v >> s) & 0xfu]);
}

/* A float printed as its IEEE-754 bits in hex: exact, and no float printf needed. */
static inline void mlrn_io_put_f32bits(float f) {
    union { float f; uint32_t u; } c;
    c.f = f;
    mlrn_io_put_hex32(c.u);
}

/* Returns 0 on success, -1 if input ended early. */
static inline int mlrn_io_read_bytes(void *dst, uint16_t n) {
    uint8_t *p = (uint8_t *)dst;
    uint16_t i;
    for (i = 0; i < n; i++) {
        int c = mlrn_target_getc();
        if (c < 0) return -1;
        p[i] = (uint8_t)c;
    }
    return 0;
}

static inline int mlrn_io_read_f32(float *out) {
    uint8_t b[4];
    union { float f; uint32_t u; } c;
    if (mlrn_io_read_bytes(b, 4)) return -1;
    c.u = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    *out = c.f;
    return 0;
}

#endif
