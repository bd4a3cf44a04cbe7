/* RISC-V (qemu virt) implementation of mlrn_target.h.
 *
 * I/O uses RISC-V semihosting (the ARM semihosting operations, trapped by the sequence
 * "slli zero,zero,0x1f; ebreak; srai zero,zero,7", which qemu serves on the host): the same file
 * protocol as the Cortex-M boards (support/cortexm/mlrn_target.c). Input is read in blocks from
 * mlrn_input.bin, output is buffered and written to mlrn_output.bin, measurements ("@stack_bytes N",
 * "@fault ...") go to mlrn_meas.txt, all in qemu's working directory.
 * The run ends through the virt machine's SiFive test finisher, not semihosting: qemu 7.2 does not end
 * on a RISC-V semihosting exit. The markers are empty noinline functions whose addresses the TCG plugin
 * (support/cortexm/count_plugin.c) watches. */
#include <stdint.h>

#include "mlrn_riscv.h"

enum { SYS_OPEN = 0x01, SYS_WRITE = 0x05, SYS_READ = 0x06 };
enum { OPEN_MODE_RB = 1, OPEN_MODE_WB = 5 }; /* semihosting SYS_OPEN modes: "rb", "wb" */
#define STACK_PAINT 0xC5C5C5C5u
/* Bytes per semihosting read/write. The two buffers are the harness's, not a real program's: 64 B keeps
 * them at 128 B of the CH32V003's 2 KB (a trap per 64 bytes costs host time, not guest instructions). */
#define IO_BLOCK 64u
/* The test finisher: writing PASS ends qemu with status 0, (code << 16) | FAIL with status `code`. */
#define FINISHER ((volatile uint32_t *)(uintptr_t)MLRN_RV_FINISHER_BASE)
#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u
#define FINISHER_CODE_SHIFT 16u
#define EXIT_STATUS_MASK 0xFFu /* a process exit status keeps 8 bits */
#define FAULT_EXIT_CODE 134    /* as the Cortex-M fault handler (and an abort) */

extern uint32_t __stack_top;

/* The three instructions must be uncompressed and on one page (qemu checks both): 16-byte alignment
 * keeps the 12 bytes together. */
static __attribute__((noinline)) int semihost(int op, const void *arg) {
    register int a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n.option norvc\n.balign 16\n"
                     "slli zero, zero, 0x1f\nebreak\nsrai zero, zero, 7\n.option pop"
                     : "+r"(a0)
                     : "r"(a1)
                     : "memory");
    return a0;
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

static uint8_t in_buf[IO_BLOCK], out_buf[IO_BLOCK];
static uint32_t in_len, in_pos, out_len;
static int in_fd = -2, out_fd = -2; /* -2: not opened yet, -1: open failed */
static int meas_mode;                /* set at exit: putc then writes the measurement file */
static int faulting;                 /* a fault while reporting a fault ends the run at once */

void mlrn_target_init(void) {}

int mlrn_target_getc(void) {
    if (in_pos == in_len) {
        uint32_t args[3];
        if (in_fd == -2) in_fd = open_file("mlrn_input.bin", OPEN_MODE_RB);
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
    if (out_fd == -2) out_fd = open_file(meas_mode ? "mlrn_meas.txt" : "mlrn_output.bin", OPEN_MODE_WB);
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

/* Stack high-water mark: start-up fills the free RAM between the heap and the current SP with a
 * pattern; the lowest overwritten word is the deepest the stack went. */
void mlrn_paint_stack(void) {
    uint32_t *p = (uint32_t *)(uintptr_t)mlrn_heap_break();
    uint32_t *sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    sp -= 16; /* stay clear of this function's own frame */
    while (p < sp) *p++ = STACK_PAINT;
}

static uint32_t stack_high_water(void) {
    uint32_t *p = (uint32_t *)(((uintptr_t)mlrn_heap_break() + 3u) & ~(uintptr_t)3u);
    while (p < &__stack_top && *p == STACK_PAINT) p++;
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

/* End qemu with the exit status `code` (its low 8 bits; a non-zero code whose low bits are 0 is 1). */
static __attribute__((noreturn)) void stop(int code) {
    uint32_t status = (uint32_t)code & EXIT_STATUS_MASK;
    if (code != 0 && status == 0) status = 1;
    *FINISHER = status ? (status << FINISHER_CODE_SHIFT) | FINISHER_FAIL : FINISHER_PASS;
    for (;;) {
    }
}

static __attribute__((noreturn)) void finish(int code) {
    flush_output();
    stop(code);
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

void mlrn_report_fault(uint32_t pc, uint32_t cause, uint32_t tval) {
    if (faulting) stop(FAULT_EXIT_CODE); /* the report itself faulted: end without it */
    faulting = 1;
    start_measurements();
    mlrn_io_puts("@fault pc=0x");
    mlrn_io_put_hex32(pc);
    mlrn_io_puts(" mcause=");
    mlrn_io_put_u32(cause);
    mlrn_io_puts(" mtval=0x");
    mlrn_io_put_hex32(tval);
    mlrn_io_puts("\n");
    finish(FAULT_EXIT_CODE);
}
