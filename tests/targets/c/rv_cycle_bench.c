/* Micro-benchmarks for the RISC-V cycle model (targets/cycle_model.py, RV_CORES): loops whose cycles per
 * iteration follow from the model's stated per-class costs. Input: one byte (which loop) and a
 * little-endian uint16 (iterations); the loop runs between the markers. Every loop ends with
 * `addi; bnez` (1 + a taken branch). Only x0-x15 are named, so one source serves RV32IMC and RV32EC. */
#include <stdint.h>

#include "mlrn_target.h"

static uint32_t words[4] = {1u, 2u, 3u, 4u};

/* A leaf function that returns at once: the cost of a call and a return. */
__asm__(".text\n\t.balign 4\n\t.globl mlrn_bench_leaf\n"
        "mlrn_bench_leaf:\n\tret\n");

#define LOOP_HEAD "1:\n\t"
#define LOOP_TAIL "addi %0, %0, -1\n\tbnez %0, 1b\n"

__attribute__((noinline)) static void bench(uint8_t which, uint32_t n, uint32_t *mem) {
    switch (which) {
    case 0: /* ALU: 4 single-cycle instructions */
        __asm__ volatile(LOOP_HEAD "addi t0, t0, 1\n\taddi t1, t1, 1\n\taddi t2, t2, 1\n\taddi t0, t0, 1\n\t" LOOP_TAIL
                         : "+r"(n) : : "t0", "t1", "t2");
        break;
    case 1: /* three loads, none used by the next instruction */
        __asm__ volatile(LOOP_HEAD "lw t0, 0(%1)\n\tlw t1, 4(%1)\n\tlw t2, 8(%1)\n\t" LOOP_TAIL
                         : "+r"(n) : "r"(mem) : "t0", "t1", "t2", "memory");
        break;
    case 2: /* a load whose result the next instruction uses */
        __asm__ volatile(LOOP_HEAD "lw t0, 0(%1)\n\tadd t1, t1, t0\n\t" LOOP_TAIL
                         : "+r"(n) : "r"(mem) : "t0", "t1", "memory");
        break;
    case 3: /* two stores */
        __asm__ volatile(LOOP_HEAD "sw %0, 0(%1)\n\tsw %0, 4(%1)\n\t" LOOP_TAIL : "+r"(n) : "r"(mem) : "memory");
        break;
    case 4: /* a call and its return */
        __asm__ volatile(LOOP_HEAD "jal ra, mlrn_bench_leaf\n\t" LOOP_TAIL : "+r"(n) : : "ra");
        break;
    case 5: /* a forward branch not taken, then a jump */
        __asm__ volatile(LOOP_HEAD "beqz %0, 2f\n\tj 3f\n\t2:\n\tnop\n\t3:\n\t" LOOP_TAIL : "+r"(n));
        break;
#if defined(__riscv_mul)
    case 6: /* three multiplies */
        __asm__ volatile(LOOP_HEAD "mul t0, t1, t0\n\tmul t1, t2, t1\n\tmul t2, t0, t2\n\t" LOOP_TAIL
                         : "+r"(n) : : "t0", "t1", "t2");
        break;
#endif
#if defined(__riscv_div)
    case 7: /* a divide (latency unpublished: the model's range) */
        __asm__ volatile("li t1, 7\n\t" LOOP_HEAD "divu t0, %0, t1\n\t" LOOP_TAIL : "+r"(n) : : "t0", "t1");
        break;
#endif
    default:
        break;
    }
}

int main(void) {
    int which, lo, hi;
    mlrn_target_init();
    which = mlrn_target_getc();
    lo = mlrn_target_getc();
    hi = mlrn_target_getc();
    if (which < 0 || lo < 0 || hi < 0) mlrn_target_exit(2);
    mlrn_target_mark_begin();
    bench((uint8_t)which, (uint32_t)lo | ((uint32_t)hi << 8), words);
    mlrn_target_mark_end();
    mlrn_target_exit(0);
    return 0;
}
