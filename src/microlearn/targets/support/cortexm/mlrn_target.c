/* Cortex-M (qemu) implementation of mlrn_target.h.
 *
 * I/O uses ARM semihosting (a "bkpt 0xab" trap that qemu serves on the host):
 * input is read in blocks from the file mlrn_input.bin and output is buffered and
 * written to mlrn_output.bin, both in qemu's working directory, so a byte of I/O
 * is a few instructions and a trap happens only once per block. Measurements
 * ("@stack_bytes N", "@fault ...") go to mlrn_meas.txt so the output stays exactly
 * what the program printed.
 * The markers are empty noinline functions: the TCG plugin (count_plugin.c) watches
 * their addresses and counts the guest instructions executed in between. */
#include <stdint.h>

#include "mlrn_cortexm.h"

enum { SYS_OPEN = 0x01, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_EXIT_EXTENDED = 0x20 };
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define STACK_PAINT 0xC5C5C5C5u

extern uint32_t __stack_top;

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static int open_file(const char *name, int mode) {
    uint32_t len = 0;
    uint32_t args[3];
    while (name[len]) len++;
    args[0] = (uint32_t)(uintptr_t)name;
    args[1] = (uint32_t)mode;
    args[2] = len;
    return semihost(SYS_OPEN, args);
}

static uint8_t in_buf[256], out_buf[256];
static uint32_t in_len, in_pos, out_len;
static int in_fd = -2, out_fd = -2; /* -2: not opened yet, -1: open failed */
static int meas_mode;                /* set at exit: putc then writes the measurement file */

void mlrn_target_init(void) {}

int mlrn_target_getc(void) {
    if (in_pos == in_len) {
        uint32_t args[3];
        if (in_fd == -2) in_fd = open_file("mlrn_input.bin", 1 /* "rb" */);
        if (in_fd < 0) return -1;
        args[0] = (uint32_t)in_fd;
        args[1] = (uint32_t)(uintptr_t)in_buf;
        args[2] = sizeof in_buf;
        in_len = sizeof in_buf - (uint32_t)semihost(SYS_READ, args); /* SYS_READ returns bytes NOT read */
        in_pos = 0;
        if (in_len == 0) return -1;
    }
    return in_buf[in_pos++];
}

static void flush_output(void) {
    uint32_t args[3];
    if (out_len == 0) return;
    if (out_fd == -2) out_fd = open_file(meas_mode ? "mlrn_meas.txt" : "mlrn_output.bin", 5 /* "wb" */);
    if (out_fd >= 0) {
        args[0] = (uint32_t)out_fd;
        args[1] = (uint32_t)(uintptr_t)out_buf;
        args[2] = out_len;
        (void)semihost(SYS_WRITE, args);
    }
    out_len = 0;
}

void mlrn_target_putc(char c) {
    if (out_len == sizeof out_buf) flush_output();
    out_buf[out_len++] = (uint8_t)c;
}

__attribute__((noinline)) void mlrn_target_mark_begin(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void mlrn_target_mark_end(void) { __asm__ volatile("" ::: "memory"); }

/* Stack high-water mark: start-up fills the free RAM between the heap and the
 * current SP with a pattern; the lowest overwritten word is the deepest the stack
 * went. Built with -fno-tree-loop-distribute-patterns (the loop must not become memset). */
void mlrn_paint_stack(void) {
    uint32_t *p = (uint32_t *)(uintptr_t)mlrn_heap_break();
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    sp -= 16; /* stay clear of this function's own frame */
    while (p < sp) *p++ = STACK_PAINT;
}

static uint32_t stack_high_water(void) {
    uint32_t *p = (uint32_t *)(((uintptr_t)mlrn_heap_break() + 3u) & ~(uintptr_t)3u);
    while (p < &__stack_top && *p == STACK_PAINT) p++;
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

static __attribute__((noreturn)) void finish(int code) {
    uint32_t args[2];
    flush_output();
    args[0] = ADP_STOPPED_APPLICATION_EXIT;
    args[1] = (uint32_t)code; /* becomes qemu's exit status */
    (void)semihost(SYS_EXIT_EXTENDED, args);
    for (;;) {
    }
}

/* Flush the program's output, then send what follows to the measurement file. */
static void start_measurements(void) {
    flush_output();
    out_fd = -2;
    meas_mode = 1;
}

void mlrn_target_exit(int code) {
    uint32_t stack = stack_high_water();
    start_measurements();
    mlrn_io_puts("@stack_bytes ");
    mlrn_io_put_u32(stack);
    mlrn_io_puts("\n");
    finish(code);
}

void mlrn_report_fault(uint32_t pc, uint32_t lr) {
    start_measurements();
    mlrn_io_puts("@fault pc=0x");
    mlrn_io_put_hex32(pc);
    mlrn_io_puts(" lr=0x");
    mlrn_io_put_hex32(lr);
    mlrn_io_puts("\n");
    finish(134);
}
