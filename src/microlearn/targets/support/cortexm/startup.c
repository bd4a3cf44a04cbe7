/* Cortex-M start-up for the emulated boards: vector table, reset, fault report, heap.
 *
 * Built with -fno-tree-loop-distribute-patterns: otherwise gcc turns the copy,
 * zero and paint loops into memcpy/memset calls, and a memset painting the stack
 * overwrites its own frame. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "mlrn_cortexm.h"

/* Linker script symbols (support/cortexm/link.ld.in). */
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __heap_start, __heap_limit,
    __stack_top;

int main(void);
extern void __libc_init_array(void); /* newlib: runs C++ constructors and init_array entries */

void mlrn_reset(void);
void mlrn_fault(void);
void mlrn_c_start(void) __attribute__((noreturn, used));
void mlrn_fault_report(const uint32_t *frame) __attribute__((noreturn, used));

/* Exception handlers are assembly stubs so that nothing (not even a compiler
 * spilling to an FPU register) runs before the FPU is enabled, and so the fault
 * report gets the stacked frame. */
__asm__(
    "  .section .text.mlrn_reset,\"ax\",%progbits\n"
    "  .global mlrn_reset\n"
    "  .type mlrn_reset, %function\n"
    "  .thumb_func\n"
    "mlrn_reset:\n"
#if defined(__ARM_FP)
    /* CPACR (0xE000ED88): full access to CP10/CP11, the FPU. */
    "  ldr r0, =0xE000ED88\n"
    "  ldr r1, [r0]\n"
    "  ldr r2, =0x00F00000\n"
    "  orr r1, r1, r2\n"
    "  str r1, [r0]\n"
    "  dsb\n"
    "  isb\n"
#endif
    "  b mlrn_c_start\n"
    "  .pool\n"
    "  .size mlrn_reset, .-mlrn_reset\n"
    "  .section .text.mlrn_fault,\"ax\",%progbits\n"
    "  .global mlrn_fault\n"
    "  .type mlrn_fault, %function\n"
    "  .thumb_func\n"
    "mlrn_fault:\n"
    "  mrs r0, msp\n"
    "  b mlrn_fault_report\n"
    "  .size mlrn_fault, .-mlrn_fault\n"
    "  .text\n");

/* Initial SP, reset, then NMI..SysTick: every exception is a fault here (no interrupts are enabled). */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top, mlrn_reset, mlrn_fault, mlrn_fault, mlrn_fault, mlrn_fault,
    mlrn_fault, 0, 0, 0, 0, mlrn_fault, mlrn_fault, 0, mlrn_fault, mlrn_fault,
};

/* __libc_init_array calls _init; the crti/crtn that define it are not linked (-nostartfiles). */
void _init(void);
void _init(void) {}

void mlrn_c_start(void) {
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end; dst++) *dst = 0;
    mlrn_paint_stack();
    __libc_init_array();
    mlrn_target_exit(main());
    for (;;) {
    }
}

void mlrn_fault_report(const uint32_t *frame) {
    /* Exception frame: r0 r1 r2 r3 r12 lr pc xpsr. */
    mlrn_report_fault(frame[6], frame[5]);
}

/* Heap for malloc (newlib): from the end of .bss up to the stack reserve. */
static char *heap_break = (char *)&__heap_start;

void *_sbrk(ptrdiff_t incr) {
    char *prev = heap_break;
    if (incr > (char *)&__heap_limit - heap_break || incr < (char *)&__heap_start - heap_break) {
        errno = ENOMEM;
        return (void *)-1;
    }
    heap_break += incr;
    return prev;
}

char *mlrn_heap_break(void) { return heap_break; }
