/* mlrn_persist_ram.h: a RAM array as mlrn_storage, with a power-cut injector (tests).
 *
 *   uint8_t mem[512];
 *   mlrn_persist_ram ram;
 *   mlrn_storage st;
 *   mlrn_persist_ram_init(&ram, mem, sizeof mem, 0xFF);   // blank, like erased EEPROM
 *   mlrn_persist_ram_bind(&ram, &st);                     // st now reads/writes mem
 *   mlrn_persist_ram_cut_after(&ram, 37, MLRN_PERSIST_RAM_CUT_GARBAGE);
 *   mlrn_persist_save(&st, ...);     // byte 38 gets garbage, the rest is not written: MLRN_ERR_IO
 *   mlrn_persist_ram_power_on(&ram); // "reboot": storage works again (the cut is disarmed)
 *
 * A cut after N bytes: the first N bytes written (counted over all write and erase
 * calls since the cut was armed) land; the byte at the cut is left as it was
 * (MLRN_PERSIST_RAM_CUT_CLEAN), replaced by a garbage value (MLRN_PERSIST_RAM_CUT_GARBAGE) or
 * erased to 0xFF (MLRN_PERSIST_RAM_CUT_ERASED, an EEPROM cell cut between its erase and
 * write phases); every later byte, and every call, fails with MLRN_ERR_IO until
 * mlrn_persist_ram_power_on(), like a CPU that lost power.
 * Flash mode (mlrn_persist_ram_flash): writes can only clear bits (NOR), and an
 * erase callback sets bytes to 0xFF, one cut-counted byte at a time. */
#ifndef MLRN_PERSIST_RAM_H
#define MLRN_PERSIST_RAM_H
#include "mlrn.h"
#include "mlrn_persist.h"

MLRN_FP_EXACT_BEGIN

#define MLRN_PERSIST_RAM_CUT_CLEAN 0
#define MLRN_PERSIST_RAM_CUT_GARBAGE 1
#define MLRN_PERSIST_RAM_CUT_ERASED 2

typedef struct mlrn_persist_ram {
    uint8_t *mem;
    uint32_t size;
    uint32_t bytes_written; /* bytes written or erased since init (counts every byte, also unchanged ones) */
    uint32_t write_calls;
    uint32_t cut_budget;    /* bytes that still land before the cut (when armed) */
    uint8_t cut_armed;
    uint8_t cut_mode;
    uint8_t garbage;        /* value written at the cut in MLRN_PERSIST_RAM_CUT_GARBAGE mode */
    uint8_t powered;        /* 0 after a cut, until power_on */
    uint8_t flash;          /* 1: NOR semantics + erase callback */
} mlrn_persist_ram;

static inline mlrn_status mlrn_persist_ram_init(mlrn_persist_ram *r, uint8_t *mem, uint32_t size, uint8_t fill) {
    uint32_t i;
    if (r == NULL || mem == NULL || size == 0u) return MLRN_ERR_ARG;
    r->mem = mem;
    r->size = size;
    for (i = 0; i < size; i++) mem[i] = fill;
    r->bytes_written = 0u;
    r->write_calls = 0u;
    r->cut_budget = 0u;
    r->cut_armed = 0u;
    r->cut_mode = MLRN_PERSIST_RAM_CUT_CLEAN;
    r->garbage = 0xA5u;
    r->powered = 1u;
    r->flash = 0u;
    return MLRN_OK;
}

/* Arm a power cut after n more written bytes. */
static inline mlrn_status mlrn_persist_ram_cut_after(mlrn_persist_ram *r, uint32_t n, uint8_t mode) {
    if (r == NULL || mode > MLRN_PERSIST_RAM_CUT_ERASED) return MLRN_ERR_ARG;
    r->cut_budget = n;
    r->cut_mode = mode;
    r->cut_armed = 1u;
    return MLRN_OK;
}

/* Power back on: storage answers again, the cut is disarmed. */
static inline mlrn_status mlrn_persist_ram_power_on(mlrn_persist_ram *r) {
    if (r == NULL) return MLRN_ERR_ARG;
    r->powered = 1u;
    r->cut_armed = 0u;
    return MLRN_OK;
}

/* Store one byte under the cut rules; returns 0 if power is gone. */
static inline int mlrn_persist_ram__put(mlrn_persist_ram *r, uint32_t addr, uint8_t v, int erase) {
    if (!r->powered) return 0;
    if (r->cut_armed) {
        if (r->cut_budget == 0u) {
            if (r->cut_mode == MLRN_PERSIST_RAM_CUT_GARBAGE) r->mem[addr] = r->garbage;
            else if (r->cut_mode == MLRN_PERSIST_RAM_CUT_ERASED) r->mem[addr] = 0xFFu;
            r->powered = 0u;
            r->cut_armed = 0u;
            return 0;
        }
        r->cut_budget--;
    }
    if (erase) r->mem[addr] = 0xFFu;
    else if (r->flash) r->mem[addr] = (uint8_t)(r->mem[addr] & v);
    else r->mem[addr] = v;
    r->bytes_written++;
    return 1;
}

static inline mlrn_status mlrn_persist_ram_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
    mlrn_persist_ram *r = (mlrn_persist_ram *)ctx;
    uint16_t i;
    if (r == NULL || (buf == NULL && len > 0u) || addr > r->size || len > r->size - addr) return MLRN_ERR_ARG;
    if (!r->powered) return MLRN_ERR_IO;
    for (i = 0; i < len; i++) buf[i] = r->mem[addr + i];
    return MLRN_OK;
}

static inline mlrn_status mlrn_persist_ram_write(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len) {
    mlrn_persist_ram *r = (mlrn_persist_ram *)ctx;
    uint16_t i;
    if (r == NULL || (buf == NULL && len > 0u) || addr > r->size || len > r->size - addr) return MLRN_ERR_ARG;
    r->write_calls++;
    for (i = 0; i < len; i++)
        if (!mlrn_persist_ram__put(r, addr + i, buf[i], 0)) return MLRN_ERR_IO;
    return MLRN_OK;
}

static inline mlrn_status mlrn_persist_ram_erase(void *ctx, uint32_t addr, uint32_t len) {
    mlrn_persist_ram *r = (mlrn_persist_ram *)ctx;
    uint32_t i;
    if (r == NULL || addr > r->size || len > r->size - addr) return MLRN_ERR_ARG;
    for (i = 0; i < len; i++)
        if (!mlrn_persist_ram__put(r, addr + i, 0xFFu, 1)) return MLRN_ERR_IO;
    return MLRN_OK;
}

/* Fill *st so that it uses this RAM storage (EEPROM-like: no erase callback). */
static inline mlrn_status mlrn_persist_ram_bind(mlrn_persist_ram *r, mlrn_storage *st) {
    if (r == NULL || st == NULL) return MLRN_ERR_ARG;
    st->read = mlrn_persist_ram_read;
    st->write = mlrn_persist_ram_write;
    st->erase = r->flash ? mlrn_persist_ram_erase : NULL;
    st->ctx = r;
    st->size = r->size;
    st->program_word = 0u;   /* byte-writable */
    return MLRN_OK;
}

/* Switch to flash semantics (writes AND into the cell, erase callback provided); call before bind. */
static inline mlrn_status mlrn_persist_ram_flash(mlrn_persist_ram *r, uint8_t on) {
    if (r == NULL) return MLRN_ERR_ARG;
    r->flash = on ? 1u : 0u;
    return MLRN_OK;
}

MLRN_FP_EXACT_END

#endif /* MLRN_PERSIST_RAM_H */
