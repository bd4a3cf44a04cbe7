/* mlrn_persist_avr_eeprom.h: mlrn_storage callbacks for the AVR's internal EEPROM (avr-libc).
 *
 *   static mlrn_persist_avr_eeprom ee;        // must outlive st (it is the callbacks' ctx)
 *   mlrn_storage st;
 *   mlrn_persist_avr_eeprom_bind(&ee, &st, 0, 1024);   // the whole 1 KB of an ATmega328P
 *   mlrn_persist_save(&st, MY_TAG, buf, n);
 *
 * Writes use eeprom_update_block: a byte that already holds the value is not
 * rewritten (saves time, ~3.4 ms per written byte, and wear, 100k cycles per cell).
 * No erase callback: an EEPROM cell erases itself as part of each byte write.
 * Only available when compiling for AVR (__AVR__). */
#ifndef MLRN_PERSIST_AVR_EEPROM_H
#define MLRN_PERSIST_AVR_EEPROM_H
#include "mlrn.h"
#include "mlrn_persist.h"

#if defined(__AVR__)
#include <avr/eeprom.h>
#include <avr/io.h>

typedef struct mlrn_persist_avr_eeprom {
    uint16_t base; /* first EEPROM address of the region given to mlrn_persist */
} mlrn_persist_avr_eeprom;

static inline mlrn_status mlrn_persist_avr_eeprom_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
    const mlrn_persist_avr_eeprom *e = (const mlrn_persist_avr_eeprom *)ctx;
    uint32_t a;
    if (e == NULL || (buf == NULL && len > 0u)) return MLRN_ERR_ARG;
    a = (uint32_t)e->base + addr;
    if (a + len > (uint32_t)E2END + 1u) return MLRN_ERR_ARG;
    eeprom_read_block(buf, (const void *)(uintptr_t)a, len);
    return MLRN_OK;
}

static inline mlrn_status mlrn_persist_avr_eeprom_write(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len) {
    const mlrn_persist_avr_eeprom *e = (const mlrn_persist_avr_eeprom *)ctx;
    uint32_t a;
    if (e == NULL || (buf == NULL && len > 0u)) return MLRN_ERR_ARG;
    a = (uint32_t)e->base + addr;
    if (a + len > (uint32_t)E2END + 1u) return MLRN_ERR_ARG;
    eeprom_update_block(buf, (void *)(uintptr_t)a, len);
    return MLRN_OK;
}

/* Describe EEPROM bytes [base, base+size) as *st (two slots of size/2). */
static inline mlrn_status mlrn_persist_avr_eeprom_bind(mlrn_persist_avr_eeprom *e, mlrn_storage *st, uint16_t base, uint16_t size) {
    if (e == NULL || st == NULL || (uint32_t)base + size > (uint32_t)E2END + 1u ||
        size / 2u < MLRN_PERSIST_HEADER)
        return MLRN_ERR_ARG;
    e->base = base;
    st->read = mlrn_persist_avr_eeprom_read;
    st->write = mlrn_persist_avr_eeprom_write;
    st->erase = NULL;
    st->ctx = e;
    st->size = size;
    st->program_word = 0u;   /* EEPROM: byte-writable */
    return MLRN_OK;
}

#endif /* __AVR__ */
#endif /* MLRN_PERSIST_AVR_EEPROM_H */
