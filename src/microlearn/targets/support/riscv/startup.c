/* RISC-V start-up for the emulated boards (qemu virt, -bios none: the reset ROM jumps to 0x80000000 in
 * machine mode): gp and sp, the trap vector, PMP over the board's real memory, .data copied, .bss zeroed,
 * the stack painted, constructors, main, exit.
 *
 * Built with -fno-tree-loop-distribute-patterns: otherwise gcc turns the copy, zero and paint loops
 * into memcpy/memset calls, and a memset painting the stack overwrites its own frame. */
#include <stddef.h>
#include <stdint.h>

#include "mlrn_riscv.h"

/* Linker script symbols (support/riscv/link.ld.in). */
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __heap_start, __heap_limit,
    __stack_top, __flash_start, __flash_end, __ram_start;
typedef void (*mlrn_init_fn)(void);
extern mlrn_init_fn __preinit_array_start[], __preinit_array_end[], __init_array_start[], __init_array_end[];

int main(void);
void mlrn_reset(void);
void mlrn_c_start(void) __attribute__((noreturn, used));
void mlrn_trap_report(uint32_t pc, uint32_t cause, uint32_t tval) __attribute__((noreturn, used));

/* Reset and trap entry are assembly: gp and sp must be set before any C runs (gp without relaxation,
 * or the linker would rewrite the load relative to gp itself). The trap handler restarts from the top
 * of the stack: the fault may be the stack running off RAM, and the run ends after the report anyway.
 * mtvec needs a 4-byte aligned handler (direct mode); every trap is a fault here (no interrupts). */
__asm__(
    "  .section .text.mlrn_reset,\"ax\",@progbits\n"
    "  .global mlrn_reset\n"
    "  .type mlrn_reset, @function\n"
    "mlrn_reset:\n"
    "  .option push\n"
    "  .option norelax\n"
    "  la gp, __global_pointer$\n"
    "  .option pop\n"
    "  la sp, __stack_top\n"
    "  la t0, mlrn_trap\n"
    "  .option push\n"
    "  .option arch, +zicsr\n"
    "  csrw mtvec, t0\n"
    "  .option pop\n"
    "  j mlrn_c_start\n"
    "  .size mlrn_reset, .-mlrn_reset\n"
    "  .balign 4\n"
    "  .type mlrn_trap, @function\n"
    "mlrn_trap:\n"
    "  la sp, __stack_top\n"
    "  .option push\n"
    "  .option arch, +zicsr\n"
    "  csrr a0, mepc\n"
    "  csrr a1, mcause\n"
    "  csrr a2, mtval\n"
    "  .option pop\n"
    "  j mlrn_trap_report\n"
    "  .size mlrn_trap, .-mlrn_trap\n"
    "  .text\n");

/* Physical memory protection (RISC-V privileged spec, 3.7). Locked entries bind machine mode too, and
 * the lowest matching entry decides, so: the test finisher's page read/write, the board's flash
 * read/execute, its SRAM read/write, then one entry over the whole address space with no permission.
 * A store past the end of SRAM, into flash or anywhere else then raises an access fault, as on the
 * part (qemu's virt machine has 128 MB of RAM here, far more than the board). Locked entries cannot be
 * changed again until reset. Each region is a top-of-range (TOR) entry whose lower bound is the
 * address of the OFF entry before it. */
#define PMP_R 0x01u
#define PMP_W 0x02u
#define PMP_X 0x04u
#define PMP_TOR 0x08u
#define PMP_NAPOT 0x18u
#define PMP_LOCK 0x80u
#define PMP_ADDR(a) ((uint32_t)(a) >> 2)
#define PMP_ALL 0xFFFFFFFFu            /* NAPOT address of all ones: the whole address space */
#define PMP_CFG(entry, bits) ((uint32_t)(bits) << (8u * ((entry) % 4u))) /* 4 entries per pmpcfg register */

static void protect_memory(void) {
    MLRN_RV_CSR_WRITE(pmpaddr0, PMP_ADDR(MLRN_RV_FINISHER_BASE));
    MLRN_RV_CSR_WRITE(pmpaddr1, PMP_ADDR(MLRN_RV_FINISHER_BASE + MLRN_RV_FINISHER_SIZE));
    MLRN_RV_CSR_WRITE(pmpaddr2, PMP_ADDR((uintptr_t)&__flash_start));
    MLRN_RV_CSR_WRITE(pmpaddr3, PMP_ADDR((uintptr_t)&__flash_end));
    MLRN_RV_CSR_WRITE(pmpaddr4, PMP_ADDR((uintptr_t)&__ram_start));
    MLRN_RV_CSR_WRITE(pmpaddr5, PMP_ADDR((uintptr_t)&__stack_top));
    MLRN_RV_CSR_WRITE(pmpaddr6, PMP_ALL);
    /* entries 0, 2 and 4 are OFF: they only give the lower bound of the TOR entry after them */
    MLRN_RV_CSR_WRITE(pmpcfg0, PMP_CFG(1, PMP_TOR | PMP_R | PMP_W | PMP_LOCK) |
                                   PMP_CFG(3, PMP_TOR | PMP_R | PMP_X | PMP_LOCK));
    MLRN_RV_CSR_WRITE(pmpcfg1, PMP_CFG(5, PMP_TOR | PMP_R | PMP_W | PMP_LOCK) | PMP_CFG(6, PMP_NAPOT | PMP_LOCK));
}

static void run_array(mlrn_init_fn *begin, mlrn_init_fn *end) {
    for (; begin < end; begin++) (*begin)();
}

void mlrn_c_start(void) {
    uint32_t *src = &__data_load, *dst = &__data_start;
    protect_memory();
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end; dst++) *dst = 0;
    mlrn_paint_stack();
    run_array(__preinit_array_start, __preinit_array_end);
    run_array(__init_array_start, __init_array_end);
    mlrn_target_exit(main());
}

void mlrn_trap_report(uint32_t pc, uint32_t cause, uint32_t tval) { mlrn_report_fault(pc, cause, tval); }

/* Heap for malloc: from the end of .bss up to the stack reserve (picolibc's malloc calls sbrk). */
static char *heap_break = (char *)&__heap_start;

void *sbrk(ptrdiff_t incr);
void *sbrk(ptrdiff_t incr) {
    char *prev = heap_break;
    if (incr > (char *)&__heap_limit - heap_break || incr < (char *)&__heap_start - heap_break) return (void *)-1;
    heap_break += incr;
    return prev;
}

char *mlrn_heap_break(void) { return heap_break; }
