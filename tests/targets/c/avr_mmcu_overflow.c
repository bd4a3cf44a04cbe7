/* AVR firmware whose .mmcu section carries a VCD file name tag with no NUL inside it: simavr's
 * elf_read_firmware() strcpy()s it into a 128-byte field and keeps copying through the rest of the
 * section (here over 1 KB), past the end of its elf_firmware_t. The runners must refuse the ELF before
 * simavr parses it. Link with -Wl,--undefined=_mmcu,--section-start=.mmcu=0x910000. */
#include <stdint.h>
#include "mlrn_target.h"

#define TAG_VCD_FILENAME 12 /* AVR_MMCU_TAG_VCD_FILENAME in simavr's avr_mcu_section.h */
#define S4(s) s s s s
#define S64(s) S4(S4(S4(s)))
#define S1024 S4(S64("AAAA"))

struct evil {
    uint8_t tag, len;
    char name[1024]; /* 1024 'A's, no NUL (the initializer fills the array exactly) */
};

const struct evil _mmcu __attribute__((section(".mmcu"), used)) = {TAG_VCD_FILENAME, 255, S1024};

int main(void) {
    mlrn_target_init();
    mlrn_io_puts("ok\n");
    mlrn_target_exit(0);
}
