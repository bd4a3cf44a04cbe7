/* mlrn_persist.h: power-safe persistence of an opaque payload in two A/B slots.
 *
 * The storage is reached only through user callbacks (mlrn_storage): read/write
 * bytes at an address, optional erase (flash). Ready-made ones:
 * mlrn_persist_avr_eeprom.h (AVR EEPROM) and mlrn_persist_ram.h (RAM fake with a
 * power-cut injector, for tests). The payload is opaque (a serialised model, a
 * sample store...): this layer only stores it, and never hands back bytes that
 * were not written completely by one save.
 *
 * Layout: the storage [0, size) is cut into two slots of size/2 bytes: A at 0,
 * B at size/2. Each slot: a 20-byte header then the payload. All integers little-endian.
 *   off len field
 *    0   4  magic "MLPS" (4D 4C 50 53)             written LAST: the commit mark
 *    4   1  format version (MLRN_PERSIST_VERSION)
 *    5   1  header size (20)
 *    6   2  tag: the caller's payload schema id (e.g. its model format version)
 *    8   4  sequence number (serial-number arithmetic: newer(a,b) <=> (int32_t)(a-b) > 0)
 *   12   4  payload length in bytes
 *   16   4  CRC-32 (IEEE) over header bytes 4..15 followed by the payload
 *   20   -  payload
 * A slot is valid when the magic, version and header size match, the length fits
 * the slot and the CRC matches. load() returns the valid slot with the newest
 * sequence number (A when both carry the same number); none valid -> MLRN_ERR_CRC.
 *
 * Save writes into the slot that does NOT hold the newest valid copy, in this order:
 *   1. invalidate: with an erase callback, erase the slot; else, if its magic is
 *      valid, overwrite magic byte 0 with 0x00 (one byte)
 *   2. payload bytes (streamed, any chunk sizes)
 *   3. header bytes 4..19 (version, header size, tag, sequence+1, length, CRC)
 *   4. read back bytes 4..end and check the CRC (a failed write never gets committed)
 *   5. magic bytes 0..3: the slot becomes valid only once the last differing magic
 *      byte is written, i.e. after every other byte of the save
 * A power cut at any byte leaves the target slot with a non-matching magic (so it
 * is ignored even before the CRC is looked at) and the other slot untouched: the
 * device boots with the previous copy. The CRC is the second line of defence:
 * bit rot, torn erases, stray writes.
 *
 * RAM: no copy of the payload is needed. Save with the streaming writer
 * (save_begin / save_chunk... / save_end) or with save_from (a source callback
 * fills a MLRN_PERSIST_BUF-byte stack buffer); load validates through the same
 * small buffer and mlrn_persist_read() then fetches any part of the payload.
 * Stack use is about MLRN_PERSIST_BUF + 40 bytes. */
#ifndef MLRN_PERSIST_H
#define MLRN_PERSIST_H
#include "mlrn.h"
#include "mlrn_crc32.h"

#define MLRN_PERSIST_VERSION 1
#define MLRN_PERSIST_HEADER 20u
#define MLRN_PERSIST_MAGIC0 0x4Du /* 'M' */
#define MLRN_PERSIST_MAGIC1 0x4Cu /* 'L' */
#define MLRN_PERSIST_MAGIC2 0x50u /* 'P' */
#define MLRN_PERSIST_MAGIC3 0x53u /* 'S' */
#define MLRN_PERSIST_FIRST_SEQ 1u /* sequence number of the first save on blank storage */

#ifndef MLRN_PERSIST_BUF
#define MLRN_PERSIST_BUF 16 /* bytes of stack used to stream payloads through */
#endif

/* Largest program word a storage may state (mlrn_storage.program_word): the writer keeps one word in
 * its struct. AVR EEPROM is byte-writable, so only 1 byte there unless asked for. */
#ifndef MLRN_PERSIST_MAX_WORD
#if defined(__AVR__)
#define MLRN_PERSIST_MAX_WORD 1
#else
#define MLRN_PERSIST_MAX_WORD 16
#endif
#endif
MLRN_STATIC_ASSERT(MLRN_PERSIST_BUF >= 4 && MLRN_PERSIST_BUF <= 255, persist_buf_size);

/* Storage callbacks. Each returns MLRN_OK (0) or a negative status; any error is
 * reported to the caller as MLRN_ERR_IO. Addresses are relative to the region
 * given to mlrn_persist (0..size-1); the layer never asks for bytes outside it.
 * write: must accept any address/length (buffer internally if the medium programs
 * in words). erase: optional (NULL for EEPROM/RAM); when given, it is called once
 * per save on the whole target slot, which must then read back as all 0xFF; with
 * erase, size/2 must be a multiple of the erase sector. */
typedef mlrn_status (*mlrn_storage_read_fn)(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len);
typedef mlrn_status (*mlrn_storage_write_fn)(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len);
typedef mlrn_status (*mlrn_storage_erase_fn)(void *ctx, uint32_t addr, uint32_t len);

typedef struct mlrn_storage {
    mlrn_storage_read_fn read;
    mlrn_storage_write_fn write;
    mlrn_storage_erase_fn erase; /* optional */
    void *ctx;                   /* passed to every callback */
    uint32_t size;               /* bytes of the region; two slots of size/2 each */
    /* Program-word size of the medium: 0 or 1 = byte-writable (EEPROM, RAM, most NOR flash); 2, 4, 8 or
     * 16 = flash that programs whole words once between erases (ECC flash: STM32L4/G4 8, H7 32 is not
     * supported). With a word > 1 every write is whole, aligned words, each written once after the
     * erase (which is then required), and the slot layout puts the commit mark in a word of its own
     * (see "Layout"). Last field: initialisers written before it existed mean 0, byte-writable. */
    uint8_t program_word;
} mlrn_storage;

/* What load/find report about the slot they picked. */
typedef struct mlrn_persist_info {
    uint32_t seq;    /* its sequence number */
    uint32_t len;    /* payload length */
    uint32_t addr;   /* address of the slot (its header) */
    uint32_t crc;    /* its CRC (header fields + payload): load checks the bytes it copied against it */
    uint16_t tag;    /* the tag given to save */
    uint8_t slot;    /* 0 = A, 1 = B */
} mlrn_persist_info;

/* A save in progress (streaming). Treat as opaque. */
typedef struct mlrn_persist_writer {
    const mlrn_storage *st;
    uint32_t addr;     /* target slot */
    uint32_t seq;
    uint32_t len;      /* declared payload length */
    uint32_t written;  /* payload bytes written so far */
    uint32_t crc;      /* running CRC state */
    uint16_t tag;
    uint8_t open;      /* 1 between a successful begin and end/abort */
    uint8_t fill;      /* payload bytes waiting in word[] (program_word > 1) */
    uint8_t word[MLRN_PERSIST_MAX_WORD];
} mlrn_persist_writer;

/* Source callback of save_from: fill buf with payload bytes [offset, offset+n). */
typedef mlrn_status (*mlrn_persist_source_fn)(void *ctx, uint32_t offset, uint8_t *buf, uint16_t n);

/* ---- small helpers ---- */

/* 1 if sequence number a is newer than b (RFC 1982 style, wraps at 2^32). */
static inline int mlrn_persist_seq_newer(uint32_t a, uint32_t b) {
    uint32_t d = a - b;
    return d != 0u && d < 0x80000000u;
}

static inline uint32_t mlrn_persist__rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void mlrn_persist__wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Program word in bytes (1 for byte-writable storage). */
static inline uint8_t mlrn_persist__word(const mlrn_storage *st) {
    return st->program_word > 1u ? st->program_word : (uint8_t)1u;
}

/* Offset of header bytes 4..19 (version .. CRC) in a slot: right after the magic, or after the
 * magic's own word when words are wider than the magic. */
static inline uint32_t mlrn_persist__fields_off(const mlrn_storage *st) {
    return mlrn_persist__word(st) > 4u ? mlrn_persist__word(st) : 4u;
}

/* Offset of the payload in a slot (the header size stored in byte 5): 20 for words of 1, 2 or 4 bytes. */
static inline uint32_t mlrn_persist__payload_off(const mlrn_storage *st) {
    return mlrn_persist__fields_off(st) + (MLRN_PERSIST_HEADER - 4u);
}

static inline int mlrn_persist__storage_ok(const mlrn_storage *st) {
    uint8_t w;
    if (st == NULL || st->read == NULL || st->write == NULL) return 0;
    w = mlrn_persist__word(st);
    if (w > 1u && (w > MLRN_PERSIST_MAX_WORD || (w & (uint8_t)(w - 1u)) != 0u || w > 16u || st->erase == NULL ||
                   (st->size / 2u) % w != 0u))
        return 0;   /* words: a power of two this build holds, an erase, slots starting on a word */
    return st->size / 2u >= mlrn_persist__payload_off(st);
}

static inline uint32_t mlrn_persist__slot_addr(const mlrn_storage *st, uint8_t slot) {
    return slot ? st->size / 2u : 0u;
}

/* Payload bytes one slot can hold; 0 if the storage description is invalid. */
static inline uint32_t mlrn_persist_capacity(const mlrn_storage *st) {
    if (!mlrn_persist__storage_ok(st)) return 0u;
    return st->size / 2u - mlrn_persist__payload_off(st);
}

static inline mlrn_status mlrn_persist__read(const mlrn_storage *st, uint32_t addr, uint8_t *buf, uint16_t n) {
    if (addr > st->size || n > st->size - addr) return MLRN_ERR_ARG;
    return st->read(st->ctx, addr, buf, n) < 0 ? MLRN_ERR_IO : MLRN_OK;
}

static inline mlrn_status mlrn_persist__write(const mlrn_storage *st, uint32_t addr, const uint8_t *buf, uint16_t n) {
    if (addr > st->size || n > st->size - addr) return MLRN_ERR_ARG;
    if (n == 0u) return MLRN_OK;
    return st->write(st->ctx, addr, buf, n) < 0 ? MLRN_ERR_IO : MLRN_OK;
}

/* Header bytes 4..19 (the CRC field is written by the caller). */
static inline void mlrn_persist__header(uint8_t h[MLRN_PERSIST_HEADER], uint16_t tag, uint32_t seq, uint32_t len,
                                        uint8_t header_size) {
    h[0] = MLRN_PERSIST_MAGIC0;
    h[1] = MLRN_PERSIST_MAGIC1;
    h[2] = MLRN_PERSIST_MAGIC2;
    h[3] = MLRN_PERSIST_MAGIC3;
    h[4] = MLRN_PERSIST_VERSION;
    h[5] = header_size;
    h[6] = (uint8_t)tag;
    h[7] = (uint8_t)(tag >> 8);
    mlrn_persist__wr32(&h[8], seq);
    mlrn_persist__wr32(&h[12], len);
    mlrn_persist__wr32(&h[16], 0u);
}

/* CRC state over `len` bytes read from storage at addr, through a small stack buffer. */
static inline mlrn_status mlrn_persist__crc_range(const mlrn_storage *st, uint32_t addr, uint32_t len, uint32_t *state) {
    uint8_t buf[MLRN_PERSIST_BUF];
    while (len > 0u) {
        uint16_t n = len > (uint32_t)MLRN_PERSIST_BUF ? (uint16_t)MLRN_PERSIST_BUF : (uint16_t)len;
        mlrn_status s = mlrn_persist__read(st, addr, buf, n);
        if (s < 0) return s;
        *state = mlrn_crc32_update(*state, buf, n);
        addr += n;
        len -= n;
    }
    return MLRN_OK;
}

/* ---- validation and load ---- */

/* Check one slot (0 = A, 1 = B). MLRN_OK and *info filled if it is valid,
 * MLRN_ERR_CRC if it is not (blank, torn, corrupted, other version), MLRN_ERR_IO
 * if a callback failed, MLRN_ERR_ARG on bad arguments. info may be NULL. */
static inline mlrn_status mlrn_persist_check_slot(const mlrn_storage *st, uint8_t slot, mlrn_persist_info *info) {
    uint8_t h[MLRN_PERSIST_HEADER];
    uint32_t addr, len, crc, state;
    mlrn_status s;
    if (!mlrn_persist__storage_ok(st) || slot > 1u) return MLRN_ERR_ARG;
    addr = mlrn_persist__slot_addr(st, slot);
    s = mlrn_persist__read(st, addr, h, 4u);
    if (s == MLRN_OK)
        s = mlrn_persist__read(st, addr + mlrn_persist__fields_off(st), &h[4], (uint16_t)(MLRN_PERSIST_HEADER - 4u));
    if (s < 0) return s;
    if (h[0] != MLRN_PERSIST_MAGIC0 || h[1] != MLRN_PERSIST_MAGIC1 || h[2] != MLRN_PERSIST_MAGIC2 ||
        h[3] != MLRN_PERSIST_MAGIC3 || h[4] != MLRN_PERSIST_VERSION || h[5] != mlrn_persist__payload_off(st))
        return MLRN_ERR_CRC;
    len = mlrn_persist__rd32(&h[12]);
    if (len > mlrn_persist_capacity(st)) return MLRN_ERR_CRC;
    crc = mlrn_persist__rd32(&h[16]);
    state = mlrn_crc32_update(mlrn_crc32_init(), &h[4], 12u);
    s = mlrn_persist__crc_range(st, addr + mlrn_persist__payload_off(st), len, &state);
    if (s < 0) return s;
    if (mlrn_crc32_final(state) != crc) return MLRN_ERR_CRC;
    if (info != NULL) {
        info->seq = mlrn_persist__rd32(&h[8]);
        info->len = len;
        info->addr = addr;
        info->tag = (uint16_t)(h[6] | (h[7] << 8));
        info->crc = crc;
        info->slot = slot;
    }
    return MLRN_OK;
}

/* Find the newest valid slot. MLRN_OK with *info; MLRN_ERR_CRC if no slot is
 * valid (blank or both damaged); MLRN_ERR_IO if a callback failed; MLRN_ERR_ARG. */
static inline mlrn_status mlrn_persist_find(const mlrn_storage *st, mlrn_persist_info *info) {
    mlrn_persist_info a, b;
    mlrn_status sa, sb;
    if (!mlrn_persist__storage_ok(st) || info == NULL) return MLRN_ERR_ARG;
    sa = mlrn_persist_check_slot(st, 0u, &a);
    if (sa < 0 && sa != MLRN_ERR_CRC) return sa;
    sb = mlrn_persist_check_slot(st, 1u, &b);
    if (sb < 0 && sb != MLRN_ERR_CRC) return sb;
    if (sa == MLRN_OK && (sb != MLRN_OK || !mlrn_persist_seq_newer(b.seq, a.seq))) {
        *info = a;
        return MLRN_OK;
    }
    if (sb == MLRN_OK) {
        *info = b;
        return MLRN_OK;
    }
    return MLRN_ERR_CRC;
}

/* Read payload bytes [offset, offset+n) of the slot described by info (from find/load). */
static inline mlrn_status mlrn_persist_read(const mlrn_storage *st, const mlrn_persist_info *info, uint32_t offset,
                                            uint8_t *buf, uint16_t n) {
    if (!mlrn_persist__storage_ok(st) || info == NULL || (buf == NULL && n > 0u)) return MLRN_ERR_ARG;
    if (info->len > mlrn_persist_capacity(st) || offset > info->len || n > info->len - offset) return MLRN_ERR_ARG;
    if (n == 0u) return MLRN_OK;
    return mlrn_persist__read(st, info->addr + mlrn_persist__payload_off(st) + offset, buf, n);
}

/* CRC state over the header fields of the slot described by info; mlrn_persist_load continues it over
 * the bytes it copied, so what is checked is what was copied, not what was read when the slot was
 * validated (a storage that returns other bytes the second time, or a bit flip during the copy,
 * would otherwise pass unnoticed). */
static inline uint32_t mlrn_persist__crc_head(const mlrn_storage *st, const mlrn_persist_info *info) {
    uint8_t h[12];
    h[0] = MLRN_PERSIST_VERSION;
    h[1] = (uint8_t)mlrn_persist__payload_off(st);
    h[2] = (uint8_t)info->tag;
    h[3] = (uint8_t)(info->tag >> 8);
    mlrn_persist__wr32(&h[4], info->seq);
    mlrn_persist__wr32(&h[8], info->len);
    return mlrn_crc32_update(mlrn_crc32_init(), h, 12u);
}

/* Load the newest valid payload into buf (capacity cap bytes). On MLRN_OK, buf holds
 * exactly the saved bytes and *info (may be NULL) says how many. MLRN_ERR_CRC: no
 * valid slot, or the bytes copied into buf differ from the ones validated (buf then holds
 * garbage: do not use it); MLRN_ERR_BUFFER: cap < payload length (buf untouched, info filled);
 * MLRN_ERR_IO; MLRN_ERR_ARG. The payload is read after validation in chunks of at most
 * 65535 bytes, and its copy is checked against the slot's CRC. */
static inline mlrn_status mlrn_persist_load(const mlrn_storage *st, uint8_t *buf, uint32_t cap,
                                            mlrn_persist_info *info) {
    mlrn_persist_info tmp;
    mlrn_status s;
    uint32_t off = 0u, state;
    if (!mlrn_persist__storage_ok(st) || (buf == NULL && cap > 0u)) return MLRN_ERR_ARG;
    if (info == NULL) info = &tmp;
    s = mlrn_persist_find(st, info);
    if (s < 0) return s;
    if (info->len > cap) return MLRN_ERR_BUFFER;
    state = mlrn_persist__crc_head(st, info);
    while (off < info->len) {
        uint32_t left = info->len - off;
        uint16_t n = left > 0xFFFFu ? (uint16_t)0xFFFFu : (uint16_t)left;
        s = mlrn_persist_read(st, info, off, buf + off, n);
        if (s < 0) return s;
        state = mlrn_crc32_update(state, buf + off, n);
        off += n;
    }
    return mlrn_crc32_final(state) == info->crc ? MLRN_OK : MLRN_ERR_CRC;
}

/* ---- save ---- */

/* Start a save of exactly `len` payload bytes with the caller's `tag`. Picks the
 * target slot and invalidates it (see the write order above). MLRN_ERR_BUFFER if
 * len exceeds mlrn_persist_capacity(); MLRN_ERR_IO; MLRN_ERR_ARG. */
static inline mlrn_status mlrn_persist_save_begin(mlrn_persist_writer *w, const mlrn_storage *st, uint16_t tag,
                                                  uint32_t len) {
    mlrn_persist_info newest;
    uint8_t magic[4];
    uint8_t h[MLRN_PERSIST_HEADER];
    mlrn_status s;
    if (w == NULL) return MLRN_ERR_ARG;
    w->st = st;
    w->addr = 0u;
    w->seq = 0u;
    w->len = 0u;
    w->written = 0u;
    w->crc = 0u;
    w->tag = 0u;
    w->open = 0u;
    w->fill = 0u;
    if (!mlrn_persist__storage_ok(st)) return MLRN_ERR_ARG;
    if (len > mlrn_persist_capacity(st)) return MLRN_ERR_BUFFER;
    s = mlrn_persist_find(st, &newest);
    if (s == MLRN_OK) {
        w->addr = mlrn_persist__slot_addr(st, (uint8_t)(newest.slot ^ 1u));
        w->seq = newest.seq + 1u;
    } else if (s == MLRN_ERR_CRC) {
        w->addr = 0u;
        w->seq = MLRN_PERSIST_FIRST_SEQ;
    } else {
        return s;
    }
    /* 1. invalidate the target slot */
    if (st->erase != NULL) {
        if (st->erase(st->ctx, w->addr, st->size / 2u) < 0) return MLRN_ERR_IO;
    } else {
        s = mlrn_persist__read(st, w->addr, magic, 4u);
        if (s < 0) return s;
        if (magic[0] == MLRN_PERSIST_MAGIC0 && magic[1] == MLRN_PERSIST_MAGIC1 && magic[2] == MLRN_PERSIST_MAGIC2 &&
            magic[3] == MLRN_PERSIST_MAGIC3) {
            magic[0] = 0u;
            s = mlrn_persist__write(st, w->addr, magic, 1u);
            if (s < 0) return s;
        }
    }
    w->len = len;
    w->tag = tag;
    mlrn_persist__header(h, tag, w->seq, len, (uint8_t)mlrn_persist__payload_off(st));
    w->crc = mlrn_crc32_update(mlrn_crc32_init(), &h[4], 12u);
    w->open = 1u;
    return MLRN_OK;
}

/* 2. Append payload bytes (any chunking). Writing past the declared length is MLRN_ERR_ARG. */
static inline mlrn_status mlrn_persist_save_chunk(mlrn_persist_writer *w, const uint8_t *data, uint16_t n) {
    mlrn_status s;
    if (w == NULL || !w->open || (data == NULL && n > 0u)) return MLRN_ERR_ARG;
    if (n > w->len - w->written) {
        w->open = 0u;
        return MLRN_ERR_ARG;
    }
    w->crc = mlrn_crc32_update(w->crc, data, n);
#if MLRN_PERSIST_MAX_WORD > 1
    if (mlrn_persist__word(w->st) > 1u) {   /* whole words only, each written once */
        uint8_t word = mlrn_persist__word(w->st), i;
        while (n > 0u) {
            uint8_t take = (uint8_t)(word - w->fill);
            if ((uint16_t)take > n) take = (uint8_t)n;
            for (i = 0; i < take; i++) w->word[w->fill + i] = data[i];
            w->fill = (uint8_t)(w->fill + take);
            w->written += take;
            data += take;
            n = (uint16_t)(n - take);
            if (w->fill == word) {
                s = mlrn_persist__write(w->st, w->addr + mlrn_persist__payload_off(w->st) + w->written - word,
                                        w->word, word);
                w->fill = 0u;
                if (s < 0) {
                    w->open = 0u;
                    return s;
                }
            }
        }
        return MLRN_OK;
    }
#endif
    s = mlrn_persist__write(w->st, w->addr + mlrn_persist__payload_off(w->st) + w->written, data, n);
    if (s < 0) {
        w->open = 0u;
        return s;
    }
    w->written += n;
    return MLRN_OK;
}

/* 3-5. Write the header, verify, commit. MLRN_ERR_ARG if fewer bytes than declared
 * were written (nothing committed); MLRN_ERR_IO if a callback failed or the
 * read-back did not match (nothing committed: the previous copy stays the newest). */
static inline mlrn_status mlrn_persist_save_end(mlrn_persist_writer *w) {
    uint8_t h[MLRN_PERSIST_HEADER];
    uint32_t crc, state;
    mlrn_status s;
    const mlrn_storage *st;
    if (w == NULL || !w->open) return MLRN_ERR_ARG;
    w->open = 0u;
    st = w->st;
    if (w->written != w->len) return MLRN_ERR_ARG;
#if MLRN_PERSIST_MAX_WORD > 1
    if (w->fill > 0u) {   /* the last, partial word: padded with the erased value */
        uint8_t word = mlrn_persist__word(st), i;
        for (i = w->fill; i < word; i++) w->word[i] = 0xFFu;
        s = mlrn_persist__write(st, w->addr + mlrn_persist__payload_off(st) + w->written - w->fill, w->word, word);
        if (s < 0) return s;
    }
#endif
    crc = mlrn_crc32_final(w->crc);
    mlrn_persist__header(h, w->tag, w->seq, w->len, (uint8_t)mlrn_persist__payload_off(st));
    mlrn_persist__wr32(&h[16], crc);
    s = mlrn_persist__write(st, w->addr + mlrn_persist__fields_off(st), &h[4], (uint16_t)(MLRN_PERSIST_HEADER - 4u));
    if (s < 0) return s;
    /* 4. read back everything but the magic */
    state = mlrn_crc32_init();
    s = mlrn_persist__crc_range(st, w->addr + mlrn_persist__fields_off(st), 12u, &state);
    if (s < 0) return s;
    s = mlrn_persist__crc_range(st, w->addr + mlrn_persist__payload_off(st), w->len, &state);
    if (s < 0) return s;
    if (mlrn_crc32_final(state) != crc) return MLRN_ERR_IO;
    {
        uint8_t back[4];
        s = mlrn_persist__read(st, w->addr + mlrn_persist__fields_off(st) + 12u, back, 4u);
        if (s < 0) return s;
        if (mlrn_persist__rd32(back) != crc) return MLRN_ERR_IO;
    }
    /* 5. commit: the magic, in a word of its own when words are wider (padding: the erased value) */
#if MLRN_PERSIST_MAX_WORD > 4
    if (mlrn_persist__word(st) > 4u) {
        uint8_t word = mlrn_persist__word(st), i;
        for (i = 0; i < word; i++) w->word[i] = i < 4u ? h[i] : 0xFFu;
        s = mlrn_persist__write(st, w->addr, w->word, word);
    } else
#endif
    {
        s = mlrn_persist__write(st, w->addr, h, 4u);
    }
    if (s < 0) return s;
    return mlrn_persist_check_slot(st, (uint8_t)(w->addr != 0u), NULL) == MLRN_OK ? MLRN_OK : MLRN_ERR_IO;
}

/* Give up a save: the target slot stays invalid, the previous copy stays the newest. */
static inline mlrn_status mlrn_persist_save_abort(mlrn_persist_writer *w) {
    if (w == NULL) return MLRN_ERR_ARG;
    w->open = 0u;
    return MLRN_OK;
}

/* Save `len` bytes produced by `source` (called with offsets 0, B, 2B... and
 * n <= MLRN_PERSIST_BUF); the payload never needs to exist in RAM as a whole. */
static inline mlrn_status mlrn_persist_save_from(const mlrn_storage *st, uint16_t tag, uint32_t len,
                                                 mlrn_persist_source_fn source, void *ctx) {
    mlrn_persist_writer w;
    uint8_t buf[MLRN_PERSIST_BUF];
    mlrn_status s;
    if (source == NULL) return MLRN_ERR_ARG;
    s = mlrn_persist_save_begin(&w, st, tag, len);
    if (s < 0) return s;
    while (w.written < len) {
        uint32_t left = len - w.written;
        uint16_t n = left > (uint32_t)MLRN_PERSIST_BUF ? (uint16_t)MLRN_PERSIST_BUF : (uint16_t)left;
        s = source(ctx, w.written, buf, n);
        if (s < 0) {
            w.open = 0u;
            return s;
        }
        s = mlrn_persist_save_chunk(&w, buf, n);
        if (s < 0) return s;
    }
    return mlrn_persist_save_end(&w);
}

/* Save a payload held in RAM. */
static inline mlrn_status mlrn_persist_save(const mlrn_storage *st, uint16_t tag, const uint8_t *data, uint32_t len) {
    mlrn_persist_writer w;
    mlrn_status s;
    if (data == NULL && len > 0u) return MLRN_ERR_ARG;
    s = mlrn_persist_save_begin(&w, st, tag, len);
    if (s < 0) return s;
    while (w.written < len) {
        uint32_t left = len - w.written;
        uint16_t n = left > 0xFFFFu ? (uint16_t)0xFFFFu : (uint16_t)left;
        s = mlrn_persist_save_chunk(&w, data + w.written, n);
        if (s < 0) return s;
    }
    return mlrn_persist_save_end(&w);
}

/* Forget every saved copy (factory reset): clears magic byte 0 of both slots.
 * A cut in the middle leaves at most one slot valid, never a damaged one. */
static inline mlrn_status mlrn_persist_wipe(const mlrn_storage *st) {
    uint8_t zero = 0u;
    uint8_t slot;
    mlrn_status s;
    if (!mlrn_persist__storage_ok(st)) return MLRN_ERR_ARG;
    for (slot = 0u; slot < 2u; slot++) {
        uint32_t addr = mlrn_persist__slot_addr(st, slot);
        if (st->erase != NULL) {
            if (st->erase(st->ctx, addr, st->size / 2u) < 0) return MLRN_ERR_IO;
        } else {
            s = mlrn_persist__write(st, addr, &zero, 1u);
            if (s < 0) return s;
        }
    }
    return MLRN_OK;
}

#endif /* MLRN_PERSIST_H */
