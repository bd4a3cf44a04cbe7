/* Internal interface between the RISC-V start-up code and mlrn_target.c (qemu virt machine). */
#ifndef MLRN_RISCV_H
#define MLRN_RISCV_H
#include <stdint.h>

#include "mlrn_target.h"

/* The boards' -march strings leave Zicsr out (picolibc's multilibs are named without it, and gcc 12
 * picks a multilib by the exact name), so the few CSR accesses enable it locally. */
#define MLRN_RV_CSR_WRITE(csr, value) \
    __asm__ volatile(".option push\n.option arch, +zicsr\ncsrw " #csr ", %0\n.option pop" ::"r"(value))

/* SiFive test finisher of qemu's virt machine (hw/misc/sifive_test.c): how a run ends (mlrn_target.c), and
 * a page start-up's PMP leaves writable (startup.c). */
#define MLRN_RV_FINISHER_BASE 0x100000u
#define MLRN_RV_FINISHER_SIZE 0x1000u

void mlrn_paint_stack(void);                                                    /* start-up, before main */
char *mlrn_heap_break(void);                                                    /* current top of the heap */
void mlrn_report_fault(uint32_t pc, uint32_t cause, uint32_t tval) __attribute__((noreturn)); /* from the trap */

#endif
