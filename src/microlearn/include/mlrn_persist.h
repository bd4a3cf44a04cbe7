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
 *    5   1  header size (20): the payload's offset in the slot
 *    6   2  tag: the caller's payload schema id (e.g. its model format version)
 *    8   4  sequence number (serial-number arithmetic: newer(a,b) <=> (int32_t)(a-b) > 0)
 *   12   4  payload length in bytes
 *   16   4  CRC-32 (IEEE) over header bytes 4..15 followed by the payload
 *   20   -  payload
 * Flash that programs whole words of W > 4 bytes (mlrn_storage.program_word, see there) gives the magic a
 * word of its own and the header fields (the 16 bytes 4..19 above) whole words: fields at max(4, W),
 * payload at max(4, W) + max(16, W) (stored in the header-size byte: 24 for W = 8, 32 for 16, 64 for 32),
 * unused bytes of those words and of the payload's last word are 0xFF (erased) and not in the CRC.
 * W = 1, 2, 4 (and byte-writable storage) keep the 20-byte layout above, byte for byte.
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
 * Reads: every byte that is used is read once, and checked as read. mlrn_persist_load copies the slot
 * straight into the caller's buffer and checks the CRC over that copy (never "validate, then read
 * again"); the streaming reader (read_begin / read_chunk... / read_end) does the same for payloads that
 * are consumed in pieces. A slot whose reads fail (MLRN_ERR_IO, e.g. an ECC error on a flash word torn by
 * a power cut) is treated like an invalid one when the other slot can be used.
 *
 * RAM: no copy of the payload is needed. Save with the streaming writer
 * (save_begin / save_chunk... / save_end) or with save_from (a source callback
 * fills a MLRN_PERSIST_BUF-byte stack buffer). Stack use is about MLRN_PERSIST_BUF + 60 bytes; the
 * writer holds one program word (MLRN_PERSIST_MAX_WORD bytes: 1 on AVR, 32 elsewhere). */
#ifndef MLRN_PERSIST_H
#define MLRN_PERSIST_H
#include "mlrn.h"
#include "mlrn_crc32.h"

MLRN_FP_EXACT_BEGIN

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

/* Largest program word a storage may state (mlrn_storage.program_word): the writer keeps one word in its
 * struct (the stack of a save). AVR EEPROM is byte-writable: 1 there unless asked for (-DMLRN_PERSIST_MAX_WORD=8
 * costs 7 more bytes of stack during a save). A storage with a larger word is refused (MLRN_ERR_ARG). */
#ifndef MLRN_PERSIST_MAX_WORD
#if defined(__AVR__)
#define MLRN_PERSIST_MAX_WORD 1
#else
#define MLRN_PERSIST_MAX_WORD 32
#endif
#endif
MLRN_STATIC_ASSERT(MLRN_PERSIST_BUF >= 4 && MLRN_PERSIST_BUF <= 255, persist_buf_size);
MLRN_STATIC_ASSERT(MLRN_PERSIST_MAX_WORD >= 1 && MLRN_PERSIST_MAX_WORD <= 32 &&
                       (MLRN_PERSIST_MAX_WORD & (MLRN_PERSIST_MAX_WORD - 1)) == 0,
                   persist_max_word_power_of_two_up_to_32);

/* Storage callbacks. Each returns MLRN_OK (0) or a negative status; any error is
 * reported to the caller as MLRN_ERR_IO. Addresses are relative to the region
 * given to mlrn_persist (0..size-1); the layer never asks for bytes outside it.
 * read: any address/length. write: any address/length for byte-writable storage (program_word 0 or 1);
 * whole aligned program words only, each once between erases, for program_word > 1. erase: optional
 * (NULL for EEPROM/RAM); when given, it is called once per save on the whole target slot, which must then
 * read back as all 0xFF; with erase, size/2 must be a multiple of the erase sector. */
typedef mlrn_status (*mlrn_storage_read_fn)(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len);
typedef mlrn_status (*mlrn_storage_write_fn)(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len);
typedef mlrn_status (*mlrn_storage_erase_fn)(void *ctx, uint32_t addr, uint32_t len);

typedef struct mlrn_storage {
    mlrn_storage_read_fn read;
    mlrn_storage_write_fn write;
    mlrn_storage_erase_fn erase; /* optional */
    void *ctx;                   /* passed to every callback */
    uint32_t size;               /* bytes of the region; two slots of size/2 each */
    /* Program-word size of the medium: 0 or 1 = byte-writable (EEPROM, RAM, most NOR flash); 2, 4, 8, 16
     * or 32 = flash that programs whole words once between erases (ECC flash: STM32L4/G4/WB/U5 8 bytes,
     * STM32H7 32 or 16). With a word > 1 every write is whole, aligned words, each written once after the
     * erase (which is then required, and size/2 must be a multiple of the word), and the slot layout gives
     * the commit mark a word of its own (see "Layout"). Last field: a static or zero-initialised struct
     * written before it existed means 0, byte-writable; an automatic one filled field by field must set it. */
    uint8_t program_word;
} mlrn_storage;

/* What load/find report about the slot they picked. */
typedef struct mlrn_persist_info {
    uint32_t seq;    /* its sequence number */
    uint32_t len;    /* payload length */
    uint32_t addr;   /* address of the slot (its header) */
    uint32_t crc;    /* its CRC (header fields + payload) */
    uint16_t tag;    /* the tag given to save */
    uint8_t slot;    /* 0 = A, 1 = B */
} mlrn_persist_info;

/* A save in progress (streaming). Treat as opaque. */
typedef struct mlrn_persist_writer {
    const mlrn_storage *st;
    uint32_t addr;     /* target slot */
    uint32_t seq;
    uint32_t len;      /* declared payload length */
    uint32_t written;  /* payload bytes accepted so far (the last `fill` of them wait in word[]) */
    uint32_t crc;      /* running CRC state */
    uint16_t tag;
    uint8_t open;      /* 1 between a successful begin and end/abort */
    uint8_t fill;      /* payload bytes waiting in word[] (program_word > 1) */
    uint8_t word[MLRN_PERSIST_MAX_WORD];
} mlrn_persist_writer;

/* A checked read in progress (streaming): the header as read once by read_begin, and the CRC of every
 * payload byte handed out so far. Treat as opaque. */
typedef struct mlrn_persist_reader {
    const mlrn_storage *st;
    mlrn_persist_info info; /* the slot, from its header */
    uint32_t pos;           /* payload bytes consumed */
    uint32_t state;         /* running CRC state */
    uint8_t open;           /* 1 between a successful begin and end */
    uint8_t head;           /* 1 once begin read a valid header (info is usable) */
} mlrn_persist_reader;

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
#if MLRN_PERSIST_MAX_WORD > 1
    return st->program_word > 1u ? st->program_word : (uint8_t)1u;
#else
    (void)st;   /* a build for byte-writable storage only (AVR): the layout is a constant */
    return 1u;
#endif
}

/* Offset of header bytes 4..19 (version .. CRC) in a slot: right after the magic, or after the
 * magic's own word when words are wider than the magic. */
static inline uint32_t mlrn_persist__fields_off(const mlrn_storage *st) {
    return mlrn_persist__word(st) > 4u ? mlrn_persist__word(st) : 4u;
}

/* Offset of the payload in a slot (the header size stored in byte 5): 20 for words of 1, 2 or 4 bytes,
 * then the fields' own whole words: 24 for 8, 32 for 16, 64 for 32. */
static inline uint32_t mlrn_persist__payload_off(const mlrn_storage *st) {
    uint8_t w = mlrn_persist__word(st);
    return mlrn_persist__fields_off(st) + (w > 16u ? w : (MLRN_PERSIST_HEADER - 4u));
}

static inline int mlrn_persist__storage_ok(const mlrn_storage *st) {
    if (st == NULL || st->read == NULL || st->write == NULL || st->program_word > MLRN_PERSIST_MAX_WORD) return 0;
#if MLRN_PERSIST_MAX_WORD > 1
    {
        uint8_t w = mlrn_persist__word(st);
        if (w > 1u && ((w & (uint8_t)(w - 1u)) != 0u || st->erase == NULL || (st->size / 2u) % w != 0u))
            return 0;   /* words: a power of two this build holds, an erase, slots starting on a word */
    }
#endif
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

/* Header bytes 0..19 (the CRC field is written by the caller). */
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

/* CRC state over the header fields (bytes 4..15) of the slot described by info, rebuilt from info. */
static inline uint32_t mlrn_persist__crc_head(const mlrn_storage *st, const mlrn_persist_info *info) {
    uint8_t h[MLRN_PERSIST_HEADER];
    mlrn_persist__header(h, info->tag, info->seq, info->len, (uint8_t)mlrn_persist__payload_off(st));
    return mlrn_crc32_update(mlrn_crc32_init(), &h[4], 12u);
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

/* ---- checked reads ---- */

/* Start a checked read of one slot (0 = A, 1 = B): reads its header once and checks magic, version, header
 * size and that the length fits the slot (r->info is then filled from those very bytes). MLRN_OK;
 * MLRN_ERR_CRC if the header is not a valid one (blank, torn, other version...); MLRN_ERR_IO; MLRN_ERR_ARG.
 * The payload's CRC is checked by read_end. */
static inline mlrn_status mlrn_persist_read_begin(mlrn_persist_reader *r, const mlrn_storage *st, uint8_t slot) {
    uint8_t h[MLRN_PERSIST_HEADER];
    uint32_t addr;
    mlrn_status s;
    if (r == NULL) return MLRN_ERR_ARG;
    r->st = st;
    r->pos = 0u;
    r->state = 0u;
    r->open = 0u;
    r->head = 0u;
    r->info.seq = r->info.len = r->info.addr = r->info.crc = 0u;
    r->info.tag = 0u;
    r->info.slot = slot;
    if (!mlrn_persist__storage_ok(st) || slot > 1u) return MLRN_ERR_ARG;
    addr = mlrn_persist__slot_addr(st, slot);
    s = mlrn_persist__read(st, addr, h, 4u);   /* the commit mark first: a torn slot's other words are never read */
    if (s < 0) return s;
    if (h[0] != MLRN_PERSIST_MAGIC0 || h[1] != MLRN_PERSIST_MAGIC1 || h[2] != MLRN_PERSIST_MAGIC2 ||
        h[3] != MLRN_PERSIST_MAGIC3)
        return MLRN_ERR_CRC;
    s = mlrn_persist__read(st, addr + mlrn_persist__fields_off(st), &h[4], (uint16_t)(MLRN_PERSIST_HEADER - 4u));
    if (s < 0) return s;
    if (h[4] != MLRN_PERSIST_VERSION || h[5] != mlrn_persist__payload_off(st)) return MLRN_ERR_CRC;
    r->info.len = mlrn_persist__rd32(&h[12]);
    if (r->info.len > mlrn_persist_capacity(st)) {
        r->info.len = 0u;
        return MLRN_ERR_CRC;
    }
    r->info.seq = mlrn_persist__rd32(&h[8]);
    r->info.addr = addr;
    r->info.crc = mlrn_persist__rd32(&h[16]);
    r->info.tag = (uint16_t)(h[6] | (h[7] << 8));
    r->state = mlrn_crc32_update(mlrn_crc32_init(), &h[4], 12u);
    r->open = 1u;
    r->head = 1u;
    return MLRN_OK;
}

/* The next n payload bytes, in order, into buf (read once, added to the CRC). Asking past the payload's
 * length is MLRN_ERR_ARG. The bytes are only known good once read_end returned MLRN_OK. */
static inline mlrn_status mlrn_persist_read_chunk(mlrn_persist_reader *r, uint8_t *buf, uint16_t n) {
    mlrn_status s;
    if (r == NULL || !r->open || (buf == NULL && n > 0u)) return MLRN_ERR_ARG;
    if (n > r->info.len - r->pos) return MLRN_ERR_ARG;
    if (n == 0u) return MLRN_OK;
    s = mlrn_persist__read(r->st, r->info.addr + mlrn_persist__payload_off(r->st) + r->pos, buf, n);
    if (s < 0) {
        r->open = 0u;
        return s;
    }
    r->state = mlrn_crc32_update(r->state, buf, n);
    r->pos += n;
    return MLRN_OK;
}

/* Skip n payload bytes (read through a MLRN_PERSIST_BUF stack buffer: they still count for the CRC). */
static inline mlrn_status mlrn_persist_read_skip(mlrn_persist_reader *r, uint32_t n) {
    mlrn_status s;
    if (r == NULL || !r->open || n > r->info.len - r->pos) return MLRN_ERR_ARG;
    s = mlrn_persist__crc_range(r->st, r->info.addr + mlrn_persist__payload_off(r->st) + r->pos, n, &r->state);
    if (s < 0) {
        r->open = 0u;
        return s;
    }
    r->pos += n;
    return MLRN_OK;
}

/* Finish: reads (CRC only) whatever was not consumed, then checks the CRC over the header and every payload
 * byte as it was read. MLRN_OK: every byte handed out is the saved one; MLRN_ERR_CRC: the slot is damaged,
 * or the storage answered differently than when it was written (do not use what was read); MLRN_ERR_IO. */
static inline mlrn_status mlrn_persist_read_end(mlrn_persist_reader *r) {
    mlrn_status s;
    if (r == NULL || !r->open) return MLRN_ERR_ARG;
    s = mlrn_persist_read_skip(r, r->info.len - r->pos);
    r->open = 0u;
    if (s < 0) return s;
    return mlrn_crc32_final(r->state) == r->info.crc ? MLRN_OK : MLRN_ERR_CRC;
}

/* Another pass over the slot read_begin opened, from payload byte 0, without reading its header again (its
 * fields come from r->info, as validated by read_begin). */
static inline mlrn_status mlrn_persist__read_rewind(mlrn_persist_reader *r) {
    if (r == NULL || !r->head) return MLRN_ERR_ARG;
    r->pos = 0u;
    r->state = mlrn_persist__crc_head(r->st, &r->info);
    r->open = 1u;
    return MLRN_OK;
}

/* Consume n payload bytes the caller already holds from an earlier pass at this very position (read
 * once, then): they enter the CRC, the storage is not read. */
static inline mlrn_status mlrn_persist__read_held(mlrn_persist_reader *r, const uint8_t *held, uint16_t n) {
    if (r == NULL || !r->open || (held == NULL && n > 0u) || n > r->info.len - r->pos) return MLRN_ERR_ARG;
    r->state = mlrn_crc32_update(r->state, held, n);
    r->pos += n;
    return MLRN_OK;
}

/* ---- validation and load ---- */

/* Check one slot (0 = A, 1 = B). MLRN_OK and *info filled if it is valid (read once through),
 * MLRN_ERR_CRC if it is not (blank, torn, corrupted, other version), MLRN_ERR_IO
 * if a callback failed, MLRN_ERR_ARG on bad arguments. info may be NULL. */
static inline mlrn_status mlrn_persist_check_slot(const mlrn_storage *st, uint8_t slot, mlrn_persist_info *info) {
    mlrn_persist_reader r;
    mlrn_status s = mlrn_persist_read_begin(&r, st, slot);
    if (s == MLRN_OK) s = mlrn_persist_read_end(&r);
    if (info != NULL) *info = r.info;   /* meaningful when MLRN_OK */
    return s;
}

/* The newest valid slot into *info (always written; meaningful when MLRN_OK), and how many slots could not
 * be read (*unreadable: 0..2). MLRN_OK, MLRN_ERR_CRC (no valid slot), MLRN_ERR_ARG. */
static inline mlrn_status mlrn_persist__newest(const mlrn_storage *st, mlrn_persist_info *info, uint8_t *unreadable) {
    mlrn_persist_info b;
    mlrn_status sa, sb;
    sa = mlrn_persist_check_slot(st, 0u, info);
    sb = mlrn_persist_check_slot(st, 1u, &b);
    *unreadable = (uint8_t)((sa == MLRN_ERR_IO) + (sb == MLRN_ERR_IO));
    if (sa == MLRN_ERR_ARG) return sa;
    if (sb == MLRN_OK && (sa != MLRN_OK || mlrn_persist_seq_newer(b.seq, info->seq))) {
        *info = b;
        return MLRN_OK;
    }
    return sa == MLRN_OK ? MLRN_OK : MLRN_ERR_CRC;
}

/* Find the newest valid slot (reads both whole slots). MLRN_OK with *info; MLRN_ERR_CRC if no slot is
 * valid (blank, torn or damaged; a slot whose reads fail counts as invalid); MLRN_ERR_IO if neither slot
 * could be read; MLRN_ERR_ARG. */
static inline mlrn_status mlrn_persist_find(const mlrn_storage *st, mlrn_persist_info *info) {
    uint8_t unreadable;
    mlrn_status s;
    if (info == NULL) return MLRN_ERR_ARG;
    s = mlrn_persist__newest(st, info, &unreadable);
    return s == MLRN_ERR_CRC && unreadable == 2u ? MLRN_ERR_IO : s;
}

/* The slots worth trying, newest first, from their headers only (the CRC is checked by whoever reads the
 * slot): order[0..n-1], n returned (0, 1 or 2); *unreadable: how many headers could not be read. A loader
 * adds the candidates whose reads then fail, and answers MLRN_ERR_IO when that makes 2, else MLRN_ERR_CRC. */
static inline uint8_t mlrn_persist__candidates(const mlrn_storage *st, uint8_t order[2], uint8_t *unreadable) {
    mlrn_persist_reader r;
    mlrn_status s[2];
    uint32_t seq[2];
    uint8_t k, n = 0;
    *unreadable = 0u;
    for (k = 0; k < 2u; k++) {
        s[k] = mlrn_persist_read_begin(&r, st, k);
        seq[k] = r.info.seq;
        if (s[k] != MLRN_OK && s[k] != MLRN_ERR_CRC) (*unreadable)++;
    }
    if (s[0] == MLRN_OK) order[n++] = 0u;
    if (s[1] == MLRN_OK) {
        if (n == 1u && mlrn_persist_seq_newer(seq[1], seq[0])) {
            order[1] = 0u;
            order[0] = 1u;
            n = 2u;
        } else {
            order[n++] = 1u;
        }
    }
    return n;
}

/* Read payload bytes [offset, offset+n) of the slot described by info (from find/check_slot), unchecked:
 * these bytes are read again after find validated the slot and are NOT checked against its CRC (a flip
 * during this read goes unnoticed). For bytes that will be used, prefer mlrn_persist_load or the checked
 * reader (mlrn_persist_read_begin / read_chunk / read_end). */
static inline mlrn_status mlrn_persist_read(const mlrn_storage *st, const mlrn_persist_info *info, uint32_t offset,
                                            uint8_t *buf, uint16_t n) {
    if (!mlrn_persist__storage_ok(st) || info == NULL || (buf == NULL && n > 0u)) return MLRN_ERR_ARG;
    if (info->len > mlrn_persist_capacity(st) || info->slot > 1u ||
        info->addr != mlrn_persist__slot_addr(st, info->slot) || offset > info->len || n > info->len - offset)
        return MLRN_ERR_ARG;
    if (n == 0u) return MLRN_OK;
    return mlrn_persist__read(st, info->addr + mlrn_persist__payload_off(st) + offset, buf, n);
}

/* Load the newest valid payload into buf (capacity cap bytes). Each byte is read once, straight into buf,
 * and the CRC is checked over that copy: on MLRN_OK, buf holds exactly the saved bytes and *info (may be
 * NULL) says how many. If the newest slot's copy fails its CRC (damaged slot, or a read that returned other
 * bytes), the other slot is copied instead. MLRN_ERR_CRC: no valid slot (buf may hold garbage: do not use
 * it); MLRN_ERR_BUFFER: cap < the newest valid payload's length (buf untouched, info filled); MLRN_ERR_IO:
 * neither slot could be read; MLRN_ERR_ARG. */
static inline mlrn_status mlrn_persist_load(const mlrn_storage *st, uint8_t *buf, uint32_t cap,
                                            mlrn_persist_info *info) {
    mlrn_persist_reader r;
    mlrn_status s;
    uint8_t order[2], n, k, unreadable;
    if (!mlrn_persist__storage_ok(st) || (buf == NULL && cap > 0u)) return MLRN_ERR_ARG;
    n = mlrn_persist__candidates(st, order, &unreadable);
    for (k = 0; k < n; k++) {
        s = mlrn_persist_read_begin(&r, st, order[k]);
        if (s == MLRN_OK && r.info.len <= cap) {
            uint32_t off = 0u;
            while (s == MLRN_OK && off < r.info.len) {
                uint32_t left = r.info.len - off;
                uint16_t c = left > 0xFFFFu ? (uint16_t)0xFFFFu : (uint16_t)left;
                s = mlrn_persist_read_chunk(&r, buf + off, c);
                off += c;
            }
        }
        if (s == MLRN_OK) s = mlrn_persist_read_end(&r);   /* too large for buf: checked without a copy */
        if (s == MLRN_OK) {
            if (info != NULL) *info = r.info;
            return r.info.len <= cap ? MLRN_OK : MLRN_ERR_BUFFER;
        }
        if (s != MLRN_ERR_CRC) unreadable++;
    }
    return unreadable >= 2u ? MLRN_ERR_IO : MLRN_ERR_CRC;
}

/* ---- save ---- */

/* Start a save of exactly `len` payload bytes with the caller's `tag`. Picks the
 * target slot and invalidates it (see the write order above). MLRN_ERR_BUFFER if
 * len exceeds mlrn_persist_capacity(); MLRN_ERR_IO (also when neither slot can be read); MLRN_ERR_ARG. */
static inline mlrn_status mlrn_persist_save_begin(mlrn_persist_writer *w, const mlrn_storage *st, uint16_t tag,
                                                  uint32_t len) {
    mlrn_persist_info newest;
    mlrn_status s;
    uint8_t h[MLRN_PERSIST_HEADER], unreadable;
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
    /* the newest valid copy is kept; a slot that cannot be read (an ECC error in a word a power cut tore)
     * is invalid, and the target: its erase repairs it. Neither slot readable: the storage is broken. */
    s = mlrn_persist__newest(st, &newest, &unreadable);
    if (s == MLRN_OK) {
        w->addr = mlrn_persist__slot_addr(st, (uint8_t)(newest.slot ^ 1u));
        w->seq = newest.seq + 1u;
    } else if (s == MLRN_ERR_CRC && unreadable < 2u) {
        w->addr = 0u;
        w->seq = MLRN_PERSIST_FIRST_SEQ;
    } else {
        return s == MLRN_ERR_CRC ? MLRN_ERR_IO : s;
    }
    /* 1. invalidate the target slot */
    if (st->erase != NULL) {
        if (st->erase(st->ctx, w->addr, st->size / 2u) < 0) return MLRN_ERR_IO;
    } else {
        s = mlrn_persist__read(st, w->addr, h, 4u);
        if (s < 0) return s;
        if (h[0] == MLRN_PERSIST_MAGIC0 && h[1] == MLRN_PERSIST_MAGIC1 && h[2] == MLRN_PERSIST_MAGIC2 &&
            h[3] == MLRN_PERSIST_MAGIC3) {
            h[0] = 0u;
            s = mlrn_persist__write(st, w->addr, h, 1u);
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

/* 2. Append payload bytes (any chunking). Writing past the declared length is MLRN_ERR_ARG. With program
 * words, whole words of the caller's data are written straight from it, the rest waits in the writer. */
static inline mlrn_status mlrn_persist_save_chunk(mlrn_persist_writer *w, const uint8_t *data, uint16_t n) {
    mlrn_status s;
    if (w == NULL || !w->open || (data == NULL && n > 0u)) return MLRN_ERR_ARG;
    if (n > w->len - w->written) {
        w->open = 0u;
        return MLRN_ERR_ARG;
    }
    w->crc = mlrn_crc32_update(w->crc, data, n);
#if MLRN_PERSIST_MAX_WORD > 1
    if (mlrn_persist__word(w->st) > 1u) {   /* whole aligned words only, each written once */
        uint8_t word = mlrn_persist__word(w->st), i;
        uint32_t base = w->addr + mlrn_persist__payload_off(w->st);
        while (n > 0u) {
            if (w->fill == 0u && n >= word) {
                uint16_t run = (uint16_t)(n & (uint16_t)~(uint16_t)(word - 1u));
                s = mlrn_persist__write(w->st, base + w->written, data, run);
                if (s < 0) {
                    w->open = 0u;
                    return s;
                }
                w->written += run;
                data += run;
                n = (uint16_t)(n - run);
            } else {
                uint8_t take = (uint8_t)(word - w->fill);
                if ((uint16_t)take > n) take = (uint8_t)n;
                for (i = 0; i < take; i++) w->word[w->fill + i] = data[i];
                w->fill = (uint8_t)(w->fill + take);
                w->written += take;
                data += take;
                n = (uint16_t)(n - take);
                if (w->fill == word) {
                    w->fill = 0u;
                    s = mlrn_persist__write(w->st, base + w->written - word, w->word, word);
                    if (s < 0) {
                        w->open = 0u;
                        return s;
                    }
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

/* Writes n bytes of h at addr, as whole program words padded with the erased value 0xFF (n <= word). */
static inline mlrn_status mlrn_persist__write_padded(mlrn_persist_writer *w, uint32_t addr, const uint8_t *h,
                                                     uint8_t n) {
#if MLRN_PERSIST_MAX_WORD > 1
    uint8_t word = mlrn_persist__word(w->st), i;
    if (word > n) {
        for (i = 0; i < word; i++) w->word[i] = i < n ? h[i] : 0xFFu;
        return mlrn_persist__write(w->st, addr, w->word, word);
    }
#endif
    return mlrn_persist__write(w->st, addr, h, n);
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
    if (w->fill > 0u) {   /* the last, partial word: padded with the erased value (not in the CRC) */
        uint8_t n = w->fill;
        w->fill = 0u;
        s = mlrn_persist__write_padded(w, w->addr + mlrn_persist__payload_off(st) + w->written - n, w->word, n);
        if (s < 0) return s;
    }
#endif
    crc = mlrn_crc32_final(w->crc);
    mlrn_persist__header(h, w->tag, w->seq, w->len, (uint8_t)mlrn_persist__payload_off(st));
    mlrn_persist__wr32(&h[16], crc);
    s = mlrn_persist__write_padded(w, w->addr + mlrn_persist__fields_off(st), &h[4], (uint8_t)(MLRN_PERSIST_HEADER - 4u));
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
    /* 5. commit: the magic (in a word of its own when words are wider) */
    s = mlrn_persist__write_padded(w, w->addr, h, 4u);
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

/* Forget every saved copy (factory reset): clears magic byte 0 of both slots (erases them, with an erase
 * callback). A cut in the middle leaves at most one slot valid, never a damaged one. */
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

MLRN_FP_EXACT_END

#endif /* MLRN_PERSIST_H */
