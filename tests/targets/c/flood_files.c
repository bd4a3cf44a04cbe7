/* Cortex-M firmware that fills its run directory through semihosting: file after file, each as large
 * as one file may grow (RLIMIT_FSIZE), so no single file trips the output limit. The runner must stop
 * it by the run directory's total size. */
#include <stdint.h>
#include "mlrn_target.h"

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05 };
#define MODE_WRITE_BINARY 5 /* "wb" */

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char chunk[4096];

int main(void) {
    char name[] = "fill_0000.bin";
    uint32_t args[3], n, i;
    int fd;
    mlrn_target_init();
    for (i = 0; i < sizeof chunk; i++) chunk[i] = (char)i;
    for (n = 0;; n++) {
        name[5] = (char)('0' + n / 1000 % 10);
        name[6] = (char)('0' + n / 100 % 10);
        name[7] = (char)('0' + n / 10 % 10);
        name[8] = (char)('0' + n % 10);
        args[0] = (uint32_t)(uintptr_t)name;
        args[1] = MODE_WRITE_BINARY;
        args[2] = sizeof name - 1u;
        fd = semihost(SYS_OPEN, args);
        if (fd < 0) continue;
        for (i = 0; i < 256; i++) { /* 1 MB per file */
            args[0] = (uint32_t)fd;
            args[1] = (uint32_t)(uintptr_t)chunk;
            args[2] = sizeof chunk;
            if (semihost(SYS_WRITE, args) != 0) break; /* SYS_WRITE returns the bytes NOT written */
        }
        args[0] = (uint32_t)fd;
        (void)semihost(SYS_CLOSE, args);
    }
}
