/* Internal interface between the RISC-V start-up code and mlrn_target.c (qemu virt machine). */
#ifndef MLRN_RISCV_H
#define MLRN_RISCV_H
#include <stdint.h>

#include "mlrn_target.h"

/* The boards' -march strings leave Zicsr out (picolibc's multilibs are named without it, and gcc 12
 * picks a multilib by the exact name), so the few CSR accesses enable it locally. */
#define MLRN_RV_CSR_WRITE(csr, value) \
    __asm__ volatile(".option push\n.option arch, +zicsr\ncsrw " #csr ", %0\n.option pop" ::"r"(value))

void mlrn_paint_stack(void);                                                    /* start-up, before main */
char *mlrn_heap_break(void);                                                    /* current top of the heap */
void mlrn_report_fault(uint32_t pc, uint32_t cause, uint32_t tval) __attribute__((noreturn)); /* from the trap */

#endif
