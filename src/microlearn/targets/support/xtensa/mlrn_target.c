/* ESP8266 (qemu-system-xtensa -M sim -cpu lx106) implementation of mlrn_target.h.
 *
 * I/O uses the sim machine's semihosting (the `simcall` instruction: a2 = call number, a3..a5 its
 * arguments, the result in a2; qemu serves open/read/write/exit with the host's own open flags): the
 * same file protocol as the Cortex-M and RISC-V boards. Input is read in blocks from mlrn_input.bin,
 * output is buffered and written to mlrn_output.bin, measurements ("@stack_bytes N", "@fault ...") go to
 * mlrn_meas.txt, all in qemu's working directory. The run ends with the exit call, whose code becomes
 * qemu's exit status. The markers are empty noinline functions whose addresses the TCG plugin
 * (support/cortexm/count_plugin.c) watches. */
#include <stdint.h>

#include "mlrn_xtensa.h"

enum { SIM_EXIT = 1, SIM_READ = 3, SIM_WRITE = 4, SIM_OPEN = 5 };
/* Linux open flags: qemu passes them to the host's open() unchanged. */
#define OPEN_READ 0x000
#define OPEN_WRITE_CREATE_TRUNCATE (0x001 | 0x040 | 0x200) /* O_WRONLY | O_CREAT | O_TRUNC */
#define OPEN_FILE_MODE 0644
#define STACK_PAINT 0xC5C5C5C5u
#define IO_BLOCK 256u
#define EXIT_STATUS_MASK 0xFFu
#define FAULT_EXIT_CODE 134 /* as the Cortex-M and RISC-V fault handlers (and an abort) */

extern uint32_t __stack_top;

static int simcall(int call, int a, int b, int c) {
    register int a2 __asm__("a2") = call;
    register int a3 __asm__("a3") = a;
    register int a4 __asm__("a4") = b;
    register int a5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

static uint8_t in_buf[IO_BLOCK], out_buf[IO_BLOCK];
static uint32_t in_len, in_pos, out_len;
static int in_fd = -2, out_fd = -2; /* -2: not opened yet, -1: open failed */
static int meas_mode;                /* set at exit: putc then writes the measurement file */
static int faulting;                 /* a fault while reporting a fault ends the run at once */

void mlrn_target_init(void) {}

int mlrn_target_getc(void) {
    if (in_pos == in_len) {
        int n;
        if (in_fd == -2) in_fd = simcall(SIM_OPEN, (int)(uintptr_t) "mlrn_input.bin", OPEN_READ, 0);
        if (in_fd < 0) return -1;
        n = simcall(SIM_READ, in_fd, (int)(uintptr_t)in_buf, (int)sizeof in_buf);
        in_len = n > 0 ? (uint32_t)n : 0u;
        in_pos = 0;
        if (in_len == 0) return -1;
    }
    return in_buf[in_pos++];
}

static void flush_output(void) {
    if (out_len == 0) return;
    if (out_fd == -2)
        out_fd = simcall(SIM_OPEN, (int)(uintptr_t)(meas_mode ? "mlrn_meas.txt" : "mlrn_output.bin"),
                         OPEN_WRITE_CREATE_TRUNCATE, OPEN_FILE_MODE);
    if (out_fd >= 0) (void)simcall(SIM_WRITE, out_fd, (int)(uintptr_t)out_buf, (int)out_len);
    out_len = 0;
}

void mlrn_target_putc(char c) {
    if (out_len == sizeof out_buf) flush_output();
    out_buf[out_len++] = (uint8_t)c;
}

__attribute__((noinline)) void mlrn_target_mark_begin(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void mlrn_target_mark_end(void) { __asm__ volatile("" ::: "memory"); }

/* Stack high-water mark: start-up fills the free RAM between static data and the current SP with a
 * pattern; the lowest overwritten word is the deepest the stack went. */
void mlrn_paint_stack(void) {
    uint32_t *p = (uint32_t *)(((uintptr_t)mlrn_heap_break() + 3u) & ~(uintptr_t)3u);
    uint32_t *sp;
    __asm__ volatile("mov %0, a1" : "=r"(sp));
    sp -= 16; /* stay clear of this function's own frame */
    while (p < sp) *p++ = STACK_PAINT;
}

static uint32_t stack_high_water(void) {
    uint32_t *p = (uint32_t *)(((uintptr_t)mlrn_heap_break() + 3u) & ~(uintptr_t)3u);
    while (p < &__stack_top && *p == STACK_PAINT) p++;
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

static __attribute__((noreturn)) void stop(int code) {
    uint32_t status = (uint32_t)code & EXIT_STATUS_MASK;
    if (code != 0 && status == 0) status = 1; /* a non-zero code whose low bits are 0 still fails */
    (void)simcall(SIM_EXIT, (int)status, 0, 0);
    for (;;) {
    }
}

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
    flush_output();
    stop(code);
}

void mlrn_report_fault(uint32_t pc, uint32_t cause, uint32_t vaddr) {
    if (faulting) stop(FAULT_EXIT_CODE); /* the report itself faulted: end without it */
    faulting = 1;
    start_measurements();
    mlrn_io_puts("@fault pc=0x");
    mlrn_io_put_hex32(pc);
    mlrn_io_puts(" exccause=");
    mlrn_io_put_u32(cause);
    mlrn_io_puts(" excvaddr=0x");
    mlrn_io_put_hex32(vaddr);
    mlrn_io_puts("\n");
    flush_output();
    stop(FAULT_EXIT_CODE);
}
