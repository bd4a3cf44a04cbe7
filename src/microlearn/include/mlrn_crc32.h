/* mlrn_crc32.h: CRC-32 (IEEE 802.3, the zlib/PNG one), incremental.
 *
 * Polynomial 0x04C11DB7 reflected (0xEDB88320), init 0xFFFFFFFF, final xor 0xFFFFFFFF:
 * mlrn_crc32("123456789", 9) == 0xCBF43926 == Python's zlib.crc32(b"123456789").
 *
 * Two variants, same results:
 *   default            a 16-entry nibble table (64 bytes, in flash on AVR), 2 lookups per byte
 *   MLRN_CRC32_BITWISE table-less, 8 shift/xor steps per byte: smallest flash, ~3x slower
 *
 * Incremental use (no need to hold the whole message in RAM):
 *   uint32_t c = mlrn_crc32_init();
 *   c = mlrn_crc32_update(c, part1, n1);
 *   c = mlrn_crc32_update(c, part2, n2);
 *   crc = mlrn_crc32_final(c);
 */
#ifndef MLRN_CRC32_H
#define MLRN_CRC32_H
#include "mlrn.h"

MLRN_FP_EXACT_BEGIN

#define MLRN_CRC32_POLY 0xEDB88320u

static inline uint32_t mlrn_crc32_init(void) { return 0xFFFFFFFFu; }

static inline uint32_t mlrn_crc32_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }

#if defined(MLRN_CRC32_BITWISE)

static inline uint32_t mlrn_crc32_byte(uint32_t state, uint8_t b) {
    uint8_t k;
    state ^= b;
    for (k = 0; k < 8; k++) state = (state >> 1) ^ (MLRN_CRC32_POLY & (0u - (state & 1u)));
    return state;
}

#else

/* Entry i: the state i pushed through 4 bitwise steps (the classic 256-entry table, one nibble at a time). */
static const uint32_t mlrn_crc32_nibble_table[16] MLRN_FLASH = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

static inline uint32_t mlrn_crc32_byte(uint32_t state, uint8_t b) {
    state ^= b;
    state = (state >> 4) ^ mlrn_flash_u32(&mlrn_crc32_nibble_table[state & 0x0Fu]);
    state = (state >> 4) ^ mlrn_flash_u32(&mlrn_crc32_nibble_table[state & 0x0Fu]);
    return state;
}

#endif

/* Feed n bytes into a running state (from mlrn_crc32_init or a previous update). */
static inline uint32_t mlrn_crc32_update(uint32_t state, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    size_t i;
    if (p == NULL) return state;
    for (i = 0; i < n; i++) state = mlrn_crc32_byte(state, p[i]);
    return state;
}

/* One-shot CRC-32 of a buffer. */
static inline uint32_t mlrn_crc32(const void *data, size_t n) {
    return mlrn_crc32_final(mlrn_crc32_update(mlrn_crc32_init(), data, n));
}

MLRN_FP_EXACT_END

#endif /* MLRN_CRC32_H */
