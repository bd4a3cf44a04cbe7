/* AVR fault-injection firmware: saves/loads through mlrn_persist_avr_eeprom.h. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include "mlrn_persist.h"
#include "mlrn_persist_avr_eeprom.h"

#ifndef REGION_BASE
#define REGION_BASE 64
#endif
#ifndef REGION_SIZE
#define REGION_SIZE 256
#endif

static void out(char c) { GPIOR2 = (uint8_t)c; }
static void outs(const char *s) { while (*s) out(*s++); }
static void out_u32(uint32_t v) {
    char b[11];
    int i = 10;
    b[i] = 0;
    do { b[--i] = (char)('0' + (v % 10u)); v /= 10u; } while (v);
    outs(&b[i]);
}
static void out_i(int v) { if (v < 0) { out('-'); v = -v; } out_u32((uint32_t)v); }
static int in(void) {
    GPIOR0 = 1;
    if (GPIOR0 != 0) return -1;
    return GPIOR1;
}
static void halt(void) {
    cli();
    SMCR = (uint8_t)(_BV(SM1) | _BV(SE));
    for (;;) __asm__ __volatile__("sleep");
}

static uint32_t pay_len(uint32_t k, uint32_t cap) { return (37u + 29u * k) % (cap + 1u); }
static uint8_t pay_byte(uint32_t k, uint32_t i) { return (uint8_t)(k * 131u + i * 7u + (i >> 3) + 1u); }

static mlrn_status src_cb(void *ctx, uint32_t off, uint8_t *b, uint16_t n) {
    uint32_t k = *(const uint32_t *)ctx;
    uint16_t i;
    for (i = 0; i < n; i++) b[i] = pay_byte(k, off + i);
    return MLRN_OK;
}

int main(void) {
    static mlrn_persist_avr_eeprom ee;
    mlrn_storage st;
    int c;
    if (mlrn_persist_avr_eeprom_bind(&ee, &st, REGION_BASE, REGION_SIZE) != MLRN_OK) { outs("bind failed\n"); halt(); }
    while ((c = in()) >= 0) {
        if (c == 's') {
            uint32_t k = (uint32_t)in();
            mlrn_status s = mlrn_persist_save_from(&st, (uint16_t)(0x100u + k), pay_len(k, mlrn_persist_capacity(&st)), src_cb, &k);
            outs("save ");
            out_i(s);
            out('\n');
        } else if (c == 'l') {
            mlrn_persist_info info;
            mlrn_status s = mlrn_persist_find(&st, &info);
            outs("load ");
            out_i(s);
            if (s == MLRN_OK) {
                /* stream the payload: compare against version (tag - 0x100) byte by byte */
                uint32_t k = (uint32_t)info.tag - 0x100u, i, bad = 0;
                uint8_t b[8];
                if (info.len != pay_len(k, mlrn_persist_capacity(&st))) bad = 1;
                for (i = 0; i < info.len && !bad; i += 8u) {
                    uint16_t n = (uint16_t)(info.len - i < 8u ? info.len - i : 8u), j;
                    if (mlrn_persist_read(&st, &info, i, b, n) != MLRN_OK) bad = 2;
                    for (j = 0; j < n; j++) if (b[j] != pay_byte(k, i + j)) bad = 3;
                }
                out(' '); out_u32(info.slot);
                out(' '); out_u32(info.seq);
                out(' '); out_u32(k);
                out(' '); out_u32(info.len);
                out(' '); out_u32(bad);
            }
            out('\n');
        }
    }
    halt();
    return 0;
}
