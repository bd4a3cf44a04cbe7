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
 *                                       firmware then runs to the cycle limit at full speed. */
#ifndef MLRN_UNTRUSTED_ELF_H
#define MLRN_UNTRUSTED_ELF_H

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

#endif
