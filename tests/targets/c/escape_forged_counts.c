/* Cortex-M firmware that tries to report its own instruction counts: measurement lines on the
 * semihosting console (qemu's stderr, where the count plugin used to report) and in the measurement
 * file the runner reads. The counts must stay the plugin's. */
#include <stdint.h>
#include "mlrn_target.h"

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05 };
#define MODE_APPEND 8 /* "a" */

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static const char forged[] = "\n@instructions 1\n@total_instructions 1\n@marked_pairs 7\n@instruction_limit 5\n";
static const char meas_file[] = "mlrn_meas.txt";

int main(void) {
    uint32_t args[3];
    int fd;
    mlrn_target_init();
    (void)semihost(SYS_WRITE0, forged);
    args[0] = (uint32_t)(uintptr_t)meas_file;
    args[1] = MODE_APPEND;
    args[2] = sizeof meas_file - 1u;
    fd = semihost(SYS_OPEN, args);
    if (fd >= 0) {
        args[0] = (uint32_t)fd;
        args[1] = (uint32_t)(uintptr_t)forged;
        args[2] = sizeof forged - 1u;
        (void)semihost(SYS_WRITE, args);
        args[0] = (uint32_t)fd;
        (void)semihost(SYS_CLOSE, args);
    }
    mlrn_target_mark_begin();
    mlrn_target_mark_end();
    mlrn_io_puts("done\n");
    mlrn_target_exit(0);
}
