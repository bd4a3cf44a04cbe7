/* Firmware that tries to reach the host through semihosting (qemu serves ARM's "bkpt 0xab", and RISC-V's
 * "slli zero,zero,0x1f; ebreak; srai zero,zero,7" with the same operations, on the host):
 * write a file outside its run directory, run a shell command, read /etc/passwd. Each attempt's result
 * is printed: "open_write=<handle or -1> system=<status> open_read=<handle or -1>". Under the sandbox
 * every one must fail (and the marker files must not exist afterwards). ESCAPE_FILE and (optional)
 * SYSTEM_CMD come from -D defines. */
#include <stdint.h>
#include "mlrn_target.h"

enum { SYS_OPEN = 0x01, SYS_WRITE = 0x05, SYS_SYSTEM = 0x12 };
#define MODE_READ 0      /* "r" */
#define MODE_WRITE 4     /* "w" */

#if defined(__riscv)
static __attribute__((noinline)) int semihost(int op, const void *arg) {
    register int a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n.option norvc\n.balign 16\nslli zero, zero, 0x1f\nebreak\nsrai zero, zero, 7\n"
                     ".option pop" : "+r"(a0) : "r"(a1) : "memory");
    return a0;
}
#else
static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#endif

static uint32_t length(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

static int open_file(const char *name, int mode) {
    uint32_t args[3];
    args[0] = (uint32_t)(uintptr_t)name;
    args[1] = (uint32_t)mode;
    args[2] = length(name);
    return semihost(SYS_OPEN, args);
}

static void put_int(const char *label, int v) {
    mlrn_io_puts(label);
    if (v < 0) { mlrn_target_putc('-'); v = -v; }
    mlrn_io_put_u32((uint32_t)v);
    mlrn_target_putc(' ');
}

int main(void) {
    static const char text[] = "escaped\n";
    uint32_t args[3];
    int fd, st;
    mlrn_target_init();
    fd = open_file(ESCAPE_FILE, MODE_WRITE);
    if (fd >= 0) {
        args[0] = (uint32_t)fd;
        args[1] = (uint32_t)(uintptr_t)text;
        args[2] = sizeof text - 1u;
        (void)semihost(SYS_WRITE, args);
    }
    put_int("open_write=", fd);
#ifdef SYSTEM_CMD
    args[0] = (uint32_t)(uintptr_t)SYSTEM_CMD;
    args[1] = length(SYSTEM_CMD);
    st = semihost(SYS_SYSTEM, args);   /* under qemu's seccomp sandbox the emulator is stopped here */
#else
    st = -1;
#endif
    put_int("system=", st);
    put_int("open_read=", open_file("/etc/passwd", MODE_READ));
    mlrn_target_putc('\n');
    mlrn_target_exit(0);
}
