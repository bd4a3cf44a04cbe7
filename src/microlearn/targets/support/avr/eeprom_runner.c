/* eeprom_runner: run an AVR ELF under libsimavr with a preloaded EEPROM image and
 * an injected power cut after N EEPROM byte writes (fault-injection tests of
 * mlrn_persist.h on the real avr-libc EEPROM path).
 *
 * usage: eeprom_runner MCU CLOCK_HZ MAX_CYCLES FIRMWARE.elf EEPROM_IN EEPROM_OUT CUT MODE GARBAGE
 *   EEPROM_IN   file with the initial EEPROM image ("-": all 0xFF, an erased part);
 *               shorter than the EEPROM: the rest is 0xFF
 *   EEPROM_OUT  file that receives the whole EEPROM after the run
 *   CUT         -1: no cut; N >= 0: the power fails when the firmware starts its
 *               (N+1)-th EEPROM byte write: N writes land, the CPU stops there.
 *               Then the power comes back: the MCU is reset (EEPROM kept) and the
 *               firmware boots again, reading the rest of the input (e.g. a "load")
 *   MODE        what the cell being written when the power fails holds afterwards:
 *               clean (old value), erased (0xFF: cut between the erase and write
 *               phases of an atomic write), garbage (the GARBAGE byte)
 *   GARBAGE     byte value for MODE garbage (decimal or 0x..)
 *
 * A "write" is an EEPE strobe that changes a cell (eeprom_update_* skips equal
 * bytes, so every strobe of the persist layer changes one): the runner chains a
 * handler after simavr's EEPROM module on EECR and compares the EEPROM with a
 * shadow copy.
 *
 * Firmware I/O (own side channel, no UART, so it costs almost no cycles):
 *   write GPIOR2 = c      -> byte c goes to stdout
 *   write GPIOR0 = 1      -> input request: GPIOR1 = next stdin byte and GPIOR0 = 0,
 *                            or GPIOR0 = 0xFF at end of input
 *   cli + sleep           -> end of the program (simavr's graceful stop)
 * Report, last line on stderr:
 *   @eeprom status=exit|crash|cycle_limit|output_limit cut=0|1 writes=N cycles=N
 * (status of the last boot; writes = EEPROM bytes that landed, over all boots; output_limit: the
 * firmware wrote more than 16 MB to stdout and was stopped)
 *
 * The firmware is untrusted (see simavr_runner.c): its .mmcu section is checked before simavr
 * parses it, the runner opens its input and output files first and then confines itself with
 * Landlock to reading the ELF (on kernels with Landlock), and the ELF's requests for host side
 * effects (VCD file, traces, command/console registers) are cleared.
 */
#define _GNU_SOURCE /* O_PATH, for mlrn_landlock.h */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simavr/avr_eeprom.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_io.h>

#include "mlrn_untrusted_elf.h"

#define MAX_OUTPUT (16ul << 20)

/* Data-space addresses on the ATmega328P (also ATmega2560). */
#define ADDR_GPIOR0 0x3E
#define ADDR_GPIOR1 0x4A
#define ADDR_GPIOR2 0x4B
#define ADDR_EECR 0x3F
#define ADDR_EEDR 0x40
#define ADDR_EEARL 0x41
#define ADDR_EEARH 0x42

static uint8_t *input;
static size_t input_len, input_pos;
static uint8_t *ee;          /* simavr's EEPROM array */
static uint8_t *shadow;      /* what the EEPROM held after the last counted write */
static uint32_t ee_size;
static long cut = -1;
static int cut_mode;         /* 0 clean, 1 erased, 2 garbage */
static uint8_t garbage;
static unsigned long writes;
static int cut_done, rebooted;
static unsigned long out_bytes;
static int output_over;

static void on_out(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    avr->data[addr] = v;
    if (out_bytes++ >= MAX_OUTPUT) {
        output_over = 1;
        return;
    }
    putchar(v);
}


static void on_in_request(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    if (v != 1) {
        avr->data[addr] = v;
        return;
    }
    if (input_pos < input_len) {
        avr->data[ADDR_GPIOR1] = input[input_pos++];
        avr->data[addr] = 0;
    } else {
        avr->data[addr] = 0xFF;
    }
}

/* Runs after simavr's own EECR handler (simavr chains handlers of one register). */
static void on_eecr(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param) {
    uint32_t a;
    (void)addr;
    (void)v;
    (void)param;
    if (cut_done) return;
    a = (uint32_t)(avr->data[ADDR_EEARL] | (avr->data[ADDR_EEARH] << 8));
    if (a >= ee_size || ee[a] == shadow[a]) return;
    if (cut >= 0 && (long)writes >= cut) {
        ee[a] = cut_mode == 0 ? shadow[a] : cut_mode == 1 ? 0xFF : garbage;
        cut_done = 1;
        avr->state = cpu_Done;
        return;
    }
    shadow[a] = ee[a];
    writes++;
}

int main(int argc, char **argv) {
    elf_firmware_t fw;
    avr_t *avr;
    avr_eeprom_desc_t d;
    unsigned long long max_cycles;
    const char *status = "cycle_limit";
    FILE *f, *out;
    uint8_t *img = NULL;
    size_t img_len = 0;
    if (argc != 10) {
        fprintf(stderr, "usage: %s MCU CLOCK_HZ MAX_CYCLES FIRMWARE.elf EEPROM_IN EEPROM_OUT CUT MODE GARBAGE\n",
                argv[0]);
        return 2;
    }
    max_cycles = strtoull(argv[3], NULL, 10);
    cut = strtol(argv[7], NULL, 10);
    cut_mode = strcmp(argv[8], "erased") == 0 ? 1 : strcmp(argv[8], "garbage") == 0 ? 2 : 0;
    garbage = (uint8_t)strtoul(argv[9], NULL, 0);
    input = mlrn_read_all(stdin, &input_len);
    if (strcmp(argv[5], "-") != 0) {
        f = fopen(argv[5], "rb");
        if (!f) {
            fprintf(stderr, "eeprom_runner: cannot read %s\n", argv[5]);
            return 2;
        }
        img = mlrn_read_all(f, &img_len);
        fclose(f);
    }
    out = fopen(argv[6], "wb");
    if (!out) {
        fprintf(stderr, "eeprom_runner: cannot write %s\n", argv[6]);
        return 2;
    }
    avr = mlrn_untrusted_avr_load("eeprom_runner", argv[1], argv[2], argv[4], &fw);
    if (!avr) return 2;

    /* Direct access to the EEPROM array: AVR_IOCTL_EEPROM_GET with ee == NULL hands
     * out simavr's own buffer. simavr 1.6 quirks: the ioctl returns -1 even on success
     * (so test d.ee instead), it rejects offset + size >= the EEPROM size (so the whole
     * array cannot be copied in one call), and EEPROM_SET prints to stdout (which
     * carries the firmware's output): the image is therefore loaded through the pointer. */
    memset(&d, 0, sizeof d);
    d.size = 1;
    avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d);
    if (d.ee == NULL) {
        fprintf(stderr, "eeprom_runner: this MCU has no EEPROM\n");
        return 2;
    }
    ee = d.ee;
    ee_size = (uint32_t)(avr->e2end + 1);
    memset(ee, 0xFF, ee_size);
    if (img) {
        memcpy(ee, img, img_len < ee_size ? img_len : ee_size);
        free(img);
    }
    shadow = malloc(ee_size);
    if (!shadow) return 3;
    memcpy(shadow, ee, ee_size);

    avr_register_io_write(avr, ADDR_GPIOR2, on_out, NULL);
    avr_register_io_write(avr, ADDR_GPIOR0, on_in_request, NULL);
    avr_register_io_write(avr, ADDR_EECR, on_eecr, NULL);

    for (;;) {
        int state = avr_run(avr);
        if (cut_done && !rebooted) {
            /* power comes back: reset the MCU (the EEPROM keeps its contents) and let
             * the firmware boot again on the rest of the input */
            rebooted = 1;
            avr_reset(avr);
            avr->state = cpu_Running;
            continue;
        }
        if (state == cpu_Done) {
            status = "exit";
            break;
        }
        if (state == cpu_Crashed) {
            status = "crash";
            break;
        }
        if (output_over) {
            status = "output_limit";
            break;
        }
        if (avr->cycle >= max_cycles) break;
    }
    fflush(stdout);
    if (fwrite(ee, 1, ee_size, out) != ee_size || fclose(out) != 0) {
        fprintf(stderr, "eeprom_runner: cannot write %s\n", argv[6]);
        return 2;
    }
    fprintf(stderr, "\n@eeprom status=%s cut=%d writes=%lu cycles=%llu\n", status, cut_done, writes,
            (unsigned long long)avr->cycle);
    avr_terminate(avr);
    return 0;
}
