/* EEPROM.h of microlearn's Arduino shim: the Arduino EEPROM library's basics (read, write, update,
 * length, get, put, EEPROM[i]) for sketches run on the emulated Cortex-M boards.
 *
 * The real parts have no EEPROM: the nRF52840 and SAMD21 Arduino cores emulate it in flash (SAMD21:
 * FlashStorage's FlashAsEEPROM, nRF52: a file of the internal file system). Here it is a RAM image of
 * MLRN_SHIM_EEPROM_BYTES bytes (build_arm gives 1 KB for samd21, like FlashAsEEPROM's default, 4 KB for
 * nrf52840, 1 KB otherwise) that starts erased (0xFF) and, under the emulator, is loaded from the file
 * mlrn_eeprom.bin of the run's directory at the first access, and written back byte for byte as the
 * sketch changes it (through semihosting), so a second run of the firmware with that file sees what the
 * first one left, as after a power cycle. An address outside [0, length()) reads 0xFF and is not
 * written (the AVR library does not check). */
#ifndef MLRN_SHIM_EEPROM_H
#define MLRN_SHIM_EEPROM_H

#include <stddef.h>
#include <stdint.h>

#ifndef MLRN_SHIM_EEPROM_BYTES
#define MLRN_SHIM_EEPROM_BYTES 1024
#endif

extern "C" {
uint8_t mlrn_shim_eeprom_read(int idx);
void mlrn_shim_eeprom_update(int idx, uint8_t value);
}

/* Address idx + i, or -1 (outside the EEPROM) without overflowing an int for any idx. */
static inline int mlrn_shim_eeprom_at(int idx, size_t i) {
    if (idx < 0 || (size_t)idx + i >= (size_t)MLRN_SHIM_EEPROM_BYTES) return -1;
    return idx + (int)i;
}

/* EEPROM[i]: a reference to one cell (what the Arduino library's EERef does for reads and assignment). */
struct MlrnShimEERef {
    int index;
    operator uint8_t() const { return mlrn_shim_eeprom_read(index); }
    uint8_t operator*() const { return mlrn_shim_eeprom_read(index); }
    MlrnShimEERef &operator=(uint8_t value) {
        mlrn_shim_eeprom_update(index, value);
        return *this;
    }
    MlrnShimEERef &update(uint8_t value) { return *this = value; }
};

class MlrnShimEEPROM {
public:
    uint8_t read(int idx) { return mlrn_shim_eeprom_read(idx); }
    /* A file-backed cell is rewritten only when it changes: write and update do the same here. */
    void write(int idx, uint8_t value) { mlrn_shim_eeprom_update(idx, value); }
    void update(int idx, uint8_t value) { mlrn_shim_eeprom_update(idx, value); }
    uint16_t length(void) { return (uint16_t)MLRN_SHIM_EEPROM_BYTES; }
    /* FlashAsEEPROM (SAMD) writes its flash page on commit(); here every change is already in the file. */
    void commit(void) {}
    MlrnShimEERef operator[](int idx) {
        MlrnShimEERef r = {idx};
        return r;
    }
    template <typename T> T &get(int idx, T &t) {
        uint8_t *p = (uint8_t *)&t;
        for (size_t i = 0; i < sizeof(T); i++) p[i] = mlrn_shim_eeprom_read(mlrn_shim_eeprom_at(idx, i));
        return t;
    }
    template <typename T> const T &put(int idx, const T &t) {
        const uint8_t *p = (const uint8_t *)&t;
        for (size_t i = 0; i < sizeof(T); i++) mlrn_shim_eeprom_update(mlrn_shim_eeprom_at(idx, i), p[i]);
        return t;
    }
};

extern MlrnShimEEPROM EEPROM;

#endif /* MLRN_SHIM_EEPROM_H */
