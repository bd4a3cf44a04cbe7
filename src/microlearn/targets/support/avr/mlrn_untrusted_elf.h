/* mlrn_untrusted_elf.h: how both simavr runners (simavr_runner.c, eeprom_runner.c) take a firmware
 * they must not trust: one copy of the steps, so the runners cannot drift apart.
 *
 *   mlrn_untrusted_elf_open(who, path)  check the .mmcu section before simavr parses it
 *                                       (mlrn_mmcu_check.h), then confine this process with Landlock
 *                                       to reading that file (when the kernel has Landlock; microlearn
 *                                       also starts the runner under mlrn_confine). 0, or 2 after one
 *                                       line on stderr ("<who>: ...").
 *   mlrn_untrusted_elf_strip(fw)        after elf_read_firmware: drop the ELF's requests for host
 *                                       side effects (a VCD trace file at any path, traced signals,
 *                                       port pulls, command and console registers).
 *   mlrn_untrusted_no_host_sleep        avr->sleep: simavr paces sleep in host time; a sleeping
 *                                       firmware then runs to the cycle limit at full speed.
 *   mlrn_untrusted_avr_load(who, mcu, clock, path, fw)
 *                                       all of the above in order, then the core made, initialised
 *                                       and loaded at the clock: the avr_t, or NULL after one line.
 *                                       simavr's log goes to stderr, errors only (stdout carries
 *                                       the UART).
 *   mlrn_read_all(f, &len)              a whole stream in one buffer (the runners' inputs). */
#ifndef MLRN_UNTRUSTED_ELF_H
#define MLRN_UNTRUSTED_ELF_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>

#include "../sandbox/mlrn_landlock.h"
#include "mlrn_mmcu_check.h"

static int mlrn_untrusted_elf_open(const char *who, const char *path) {
    struct mlrn_ll ll;
    char why[160];
    if (mlrn_mmcu_check(path, why, sizeof why) != 0) {
        fprintf(stderr, "%s: firmware refused: %s\n", who, why);
        return 2;
    }
    if (mlrn_ll_begin(&ll) == 0 && (mlrn_ll_allow(&ll, path, 0) < 0 || mlrn_ll_enforce(&ll) != 0)) {
        fprintf(stderr, "%s: cannot confine itself\n", who);
        return 2;
    }
    return 0;
}

static void mlrn_untrusted_elf_strip(elf_firmware_t *fw) {
    fw->tracename[0] = '\0';
    fw->traceperiod = 0;
    fw->tracecount = 0;
    fw->command_register_addr = 0;
    fw->console_register_addr = 0;
    memset(fw->external_state, 0, sizeof fw->external_state);
}

static void mlrn_untrusted_no_host_sleep(avr_t *avr, avr_cycle_count_t how_long) {
    (void)avr;
    (void)how_long;
}

/* simavr logs ("Loaded 1578 .text ...") to stdout, which carries the UART: errors to stderr, drop the rest. */
static void mlrn_untrusted_logger(avr_t *avr, const int level, const char *format, va_list ap) {
    (void)avr;
    if (level <= LOG_ERROR) vfprintf(stderr, format, ap);
}

static uint8_t *mlrn_read_all(FILE *f, size_t *len) {
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            if (!buf) exit(3);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    *len = n;
    return buf;
}

static avr_t *mlrn_untrusted_avr_load(const char *who, const char *mcu, const char *clock_hz, const char *path,
                                      elf_firmware_t *fw) {
    avr_t *avr;
    avr_global_logger_set(mlrn_untrusted_logger);
    if (mlrn_untrusted_elf_open(who, path) != 0) return NULL;
    memset(fw, 0, sizeof *fw);
    if (elf_read_firmware(path, fw) != 0) {
        fprintf(stderr, "%s: cannot read firmware %s\n", who, path);
        return NULL;
    }
    avr = avr_make_mcu_by_name(mcu);
    if (!avr) {
        fprintf(stderr, "%s: unknown MCU %s\n", who, mcu);
        return NULL;
    }
    avr_init(avr);
    avr->sleep = mlrn_untrusted_no_host_sleep;
    /* The firmware is untrusted: its .mmcu section may ask simavr to write a VCD trace to any host path
     * (AVR_MCU_VCD_FILE), or to take commands and console output through registers. None of that. */
    mlrn_untrusted_elf_strip(fw);
    avr_load_firmware(avr, fw);
    avr->frequency = (uint32_t)strtoul(clock_hz, NULL, 10);
    return avr;
}

#endif
