/* simavr_runner: run an AVR ELF under libsimavr with exact measurements.
 *
 * usage: simavr_runner MCU CLOCK_HZ MAX_CYCLES FIRMWARE.elf INPUT_FILE [EXIT_LOOP_ADDR|- [MAX_OUTPUT]]
 *
 * The firmware's UART0 output goes to stdout as raw bytes. Input bytes are fed
 * into UART0 RX one at a time, when the firmware asks for one by writing GPIOR2
 * (see support/avr/mlrn_target.c); when none are left GPIOR2 reads back 0xFF.
 * The last line on stderr is the report, one "key=value" list:
 *   @mlrn-simavr status=S exit_code=N cycles=N marked_total=N marked_pairs=N marked_span=N
 *                marked_unpaired=N total_cycles=N min_sp=N ramend=N stack_bytes=N pc=0xN
 * status: exit (cli+sleep: mlrn_target_exit), exit_loop (returned from main into
 * avr-libc's "cli; rjmp ." loop at
 * EXIT_LOOP_ADDR, the byte address of __stop_program; any other endless loop runs to the limit), crash (bad opcode, bad address...),
 * cycle_limit (MAX_CYCLES reached), output_limit (the firmware wrote more than MAX_OUTPUT bytes,
 * default 16 MB: the run stops at the byte past the limit), bad_elf (refused before loading, see
 * below: no report line then, exit status 2). cycles = cycles between the last begin and
 * end markers (GPIOR1 = 1 / 2), -1 when the markers were not both seen; marked_total = the sum
 * over every begin..end pair, marked_pairs = their number, marked_span = from the first pair's
 * begin to the last pair's end (-1 if none). Pairing: a begin opens a region, the next end closes
 * it. A begin while a region is open restarts it (the earlier begin is dropped and counted in
 * marked_unpaired), an end with no open region is ignored, a region open at exit is not counted
 * (also in marked_unpaired).
 * stack_bytes = ramend - min_sp: bytes below the top of RAM the stack ever took,
 * SP sampled after every instruction from reset on, except while a two-byte SP
 * update (out SPH; out SREG; out SPL) is half done: SPH's new value with SPL's old
 * one can point up to 255 bytes too low.
 *
 * The firmware is untrusted. Before simavr parses it, its .mmcu section is checked
 * (mlrn_mmcu_check.h: simavr copies its strings unbounded) and the runner confines itself with
 * Landlock to reading the ELF (when the kernel has Landlock; microlearn also starts it under
 * mlrn_confine). The ELF's requests for host side effects are cleared: a VCD trace file at any
 * path, traced signals, command and console registers. simavr's real-time pacing of sleep is
 * switched off: a sleeping firmware runs to MAX_CYCLES at full speed instead of in host time. */
#define _GNU_SOURCE /* O_PATH, for mlrn_landlock.h */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_irq.h>

#include "mlrn_untrusted_elf.h"

/* Data-space addresses (I/O address + 0x20), the same on the ATmega328P and ATmega2560. */
#define ADDR_GPIOR0 0x3E
#define ADDR_GPIOR1 0x4A
#define ADDR_GPIOR2 0x4B
#define EOF_REPLY 0xFF

static uint8_t *input;
static size_t input_len, input_pos;
static avr_irq_t *uart_rx;
static avr_cycle_count_t mark_begin_cycle, region_cycles;
static avr_cycle_count_t marked_total, first_begin_cycle, last_end_cycle;
static unsigned long long marked_pairs, marked_unpaired;
static int seen_begin, seen_end, in_region, exit_code = -1;
static int sp_half_written; /* one byte of SP written, the other not yet */
static unsigned long long out_bytes, max_output = 16ull << 20;
static int output_over;

static void on_uart_out(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    (void)param;
    if (out_bytes++ >= max_output) {
        output_over = 1;
        return;
    }
    putchar((int)(value & 0xFF));
}


static void on_marker(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    avr->data[addr] = v;
    if (v == 1) {
        if (in_region) marked_unpaired++;
        mark_begin_cycle = avr->cycle;
        seen_begin = in_region = 1;
    } else if (v == 2 && seen_begin) {
        /* `cycles` (region_cycles) keeps its historical meaning: last end minus last begin. */
        region_cycles = avr->cycle - mark_begin_cycle;
        seen_end = 1;
        if (in_region) {
            marked_total += region_cycles;
            if (marked_pairs == 0) first_begin_cycle = mark_begin_cycle;
            last_end_cycle = avr->cycle;
            marked_pairs++;
            in_region = 0; /* the next pair needs a new begin */
        }
    }
}

static void on_input_request(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    if (v != 1) {
        avr->data[addr] = v;
        return;
    }
    if (input_pos < input_len) {
        avr->data[addr] = v;
        avr_raise_irq(uart_rx, input[input_pos++]);
    } else {
        avr->data[addr] = EOF_REPLY;
    }
}

static void on_exit_code(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    avr->data[addr] = v;
    exit_code = v;
}

static void on_sp_write(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    avr->data[addr] = v;
    sp_half_written ^= 1; /* compilers write both bytes, one right after the other */
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    if (!f) return NULL;
    buf = mlrn_read_all(f, len);
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    elf_firmware_t fw;
    avr_t *avr;
    uint32_t flags = 0;
    unsigned long long max_cycles;
    uint16_t sp, min_sp;
    avr_flashaddr_t exit_loop_pc;
    avr_cycle_count_t drain_until = 0;
    const char *status;
    if (argc < 6 || argc > 8) {
        fprintf(stderr, "usage: %s MCU CLOCK_HZ MAX_CYCLES FIRMWARE.elf INPUT_FILE [EXIT_LOOP_ADDR|- [MAX_OUTPUT]]\n",
                argv[0]);
        return 2;
    }
    max_cycles = strtoull(argv[3], NULL, 10);
    exit_loop_pc = argc >= 7 && strcmp(argv[6], "-") != 0 ? (avr_flashaddr_t)strtoul(argv[6], NULL, 0)
                                                           : (avr_flashaddr_t)-1;
    if (argc == 8) max_output = strtoull(argv[7], NULL, 10);
    input = read_file(argv[5], &input_len);
    if (!input) {
        fprintf(stderr, "simavr_runner: cannot read input file %s\n", argv[5]);
        return 2;
    }
    avr = mlrn_untrusted_avr_load("simavr_runner", argv[1], argv[2], argv[4], &fw);
    if (!avr) return 2;

    /* No console echo, and no usleep() when the firmware polls the UART. */
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart_rx = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_out, NULL);
    avr_register_io_write(avr, ADDR_GPIOR1, on_marker, NULL);
    avr_register_io_write(avr, ADDR_GPIOR2, on_input_request, NULL);
    avr_register_io_write(avr, ADDR_GPIOR0, on_exit_code, NULL);
    avr_register_io_write(avr, R_SPL, on_sp_write, NULL);
    avr_register_io_write(avr, R_SPH, on_sp_write, NULL);

    min_sp = (uint16_t)(avr->data[R_SPL] | (avr->data[R_SPH] << 8));
    status = "cycle_limit";
    for (;;) {
        avr_flashaddr_t pc = avr->pc;
        int state = avr_run(avr);
        sp = (uint16_t)(avr->data[R_SPL] | (avr->data[R_SPH] << 8));
        if (sp < min_sp && !sp_half_written) min_sp = sp;
        if (state == cpu_Done) {
            status = "exit";
            break;
        }
        if (state == cpu_Crashed) {
            status = "crash";
            break;
        }
        /* avr-libc's _exit after main returns: "cli; rjmp ." can never leave. Run on for a
         * few thousand cycles so the UART finishes the bytes still in flight. */
        if (avr->pc == exit_loop_pc && pc == exit_loop_pc && !avr->sreg[S_I]) {
            if (drain_until == 0) drain_until = avr->cycle + 5000;
            if (avr->cycle >= drain_until) {
                status = "exit_loop";
                exit_code = avr->data[24] | (avr->data[25] << 8); /* main's return value, still in r24:r25 */
                break;
            }
        }
        if (output_over) {
            status = "output_limit";
            break;
        }
        if (avr->cycle >= max_cycles) break;
    }
    fflush(stdout);
    fprintf(stderr, "\n@mlrn-simavr status=%s exit_code=%d cycles=%lld marked_total=%llu marked_pairs=%llu "
            "marked_span=%lld marked_unpaired=%llu total_cycles=%llu min_sp=%u ramend=%u stack_bytes=%u pc=0x%lx\n",
            status, exit_code, seen_end ? (long long)region_cycles : -1LL, (unsigned long long)marked_total,
            marked_pairs, marked_pairs ? (long long)(last_end_cycle - first_begin_cycle) : -1LL,
            marked_unpaired + (unsigned long long)in_region, (unsigned long long)avr->cycle,
            (unsigned)min_sp, (unsigned)avr->ramend, (unsigned)(avr->ramend - min_sp), (unsigned long)avr->pc);
    avr_terminate(avr);
    return 0;
}
