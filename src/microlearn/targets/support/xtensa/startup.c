/* ESP8266 (Xtensa lx106) start-up for qemu-system-xtensa's sim machine (-cpu lx106): the reset stub,
 * the double-exception vector, .data copied, .bss zeroed, the stack painted, main, exit.
 *
 * qemu resets the lx106 at 0x50000000 (the sim machine's system ROM) with PS.EXCM set and interrupts
 * masked (INTLEVEL 15); this code leaves PS so, hence every exception is a double exception and goes to
 * the vector at VECBASE + 0x70 = 0x40000070 (link.ld.in places both). The C library is picolibc, without
 * its crt0; mlrn_xt_libgcc.c has the libgcc routines Debian's lx106 libgcc lacks.
 *
 * Built with -fno-tree-loop-distribute-patterns: otherwise gcc turns the copy, zero and paint loops into
 * memcpy/memset calls, and a memset painting the stack overwrites its own frame. */
#include <stdint.h>

#include "mlrn_xtensa.h"

/* Linker script symbols (support/xtensa/link.ld.in). */
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;

int main(void);
void mlrn_c_start(void) __attribute__((noreturn, used));
void mlrn_fault_entry(uint32_t pc, uint32_t cause, uint32_t vaddr) __attribute__((noreturn, used));

/* Both entries load their constants with l32r, whose literal must sit below the instruction: a jump over
 * an aligned literal pool, then the loads. The fault entry restarts from the top of the stack (the fault
 * may be the stack running off RAM; the run ends after the report anyway). */
__asm__(
    "  .section .mlrn_reset_stub,\"ax\"\n"
    "  .global mlrn_reset\n"
    "mlrn_reset:\n"
    "  j 1f\n"
    "  .align 4\n"
    "2: .word __stack_top\n"
    "3: .word mlrn_c_start\n"
    "1: l32r a1, 2b\n"
    "  l32r a0, 3b\n"
    "  jx a0\n"
    "  .section .mlrn_double_vector,\"ax\"\n"
    "  .global mlrn_double_exception\n"
    "mlrn_double_exception:\n"
    "  j 1f\n"
    "  .align 4\n"
    "2: .word __stack_top\n"
    "3: .word mlrn_fault_entry\n"
    "1: l32r a1, 2b\n"
    "  rsr.depc a2\n"
    "  rsr.exccause a3\n"
    "  rsr.excvaddr a4\n"
    "  l32r a0, 3b\n"
    "  callx0 a0\n"
    "  .text\n");

void mlrn_c_start(void) {
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end; dst++) *dst = 0;
    mlrn_paint_stack();
    mlrn_target_exit(main());
}

void mlrn_fault_entry(uint32_t pc, uint32_t cause, uint32_t vaddr) { mlrn_report_fault(pc, cause, vaddr); }

char *mlrn_heap_break(void) { return (char *)&__bss_end; } /* no heap: no malloc here */
