/* Micro-benchmarks for the Cortex-M cycle model (targets/cycle_model.py): loops whose cycles per
 * iteration the ARM manuals' timing tables state. Input: one byte (which loop) and a little-endian
 * uint16 (iterations); the loop runs between the markers. Every loop ends with `subs; bne` (1 + a taken
 * branch). Thumb-16 encodings only where the M0+ runs them, so one source serves every core. */
#include <stdint.h>

#include "mlrn_target.h"

static uint32_t words[4] = {1u, 2u, 3u, 4u};

/* A leaf function that returns at once: the cost of a call and a return. */
__asm__(".text\n\t.syntax unified\n\t.thumb\n\t.balign 4\n\t.thumb_func\n"
        "mlrn_bench_leaf:\n\tbx lr\n");

/* gcc wraps Thumb-1 inline assembly in ".syntax divided": ask for unified syntax (adds, muls) in each. */
#define LOOP_HEAD ".syntax unified\n\t1:\n\t"
#define LOOP_TAIL "subs %0, #1\n\tbne 1b\n"

__attribute__((noinline)) static void bench(uint8_t which, uint32_t n, uint32_t *mem) {
    switch (which) {
    case 0: /* ALU: 4 single-cycle instructions */
        __asm__ volatile(LOOP_HEAD "adds r1, #1\n\tadds r2, #1\n\tadds r3, #1\n\tadds r1, #1\n\t" LOOP_TAIL
                         : "+l"(n) : : "r1", "r2", "r3", "cc");
        break;
    case 1: /* three loads in a row (pipelined on the M3/M4) */
        __asm__ volatile(LOOP_HEAD "ldr r1, [%1]\n\tldr r2, [%1, #4]\n\tldr r3, [%1, #8]\n\t" LOOP_TAIL
                         : "+l"(n) : "l"(mem) : "r1", "r2", "r3", "cc", "memory");
        break;
    case 2: /* two stores in a row */
        __asm__ volatile(LOOP_HEAD "str %0, [%1]\n\tstr %0, [%1, #4]\n\t" LOOP_TAIL
                         : "+l"(n) : "l"(mem) : "cc", "memory");
        break;
    case 3: /* three multiplies */
        __asm__ volatile(LOOP_HEAD "muls r1, r2, r1\n\tmuls r2, r3, r2\n\tmuls r3, r1, r3\n\t" LOOP_TAIL
                         : "+l"(n) : : "r1", "r2", "r3", "cc");
        break;
    case 4: /* a call and its return */
        __asm__ volatile(LOOP_HEAD "bl mlrn_bench_leaf\n\t" LOOP_TAIL : "+l"(n) : : "lr", "cc");
        break;
    case 5: /* push and pop of three registers */
        __asm__ volatile(LOOP_HEAD "push {r4, r5, r6}\n\tpop {r4, r5, r6}\n\t" LOOP_TAIL
                         : "+l"(n) : : "r4", "r5", "r6", "cc", "memory");
        break;
    case 6: /* a forward branch not taken, then one taken */
        __asm__ volatile(LOOP_HEAD "cmp %0, #0\n\tbeq 2f\n\tb 3f\n\t2:\n\tnop\n\t3:\n\t" LOOP_TAIL
                         : "+l"(n) : : "cc");
        break;
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
    case 7: /* a divide: 2-12 cycles by the operands */
        __asm__ volatile(".syntax unified\n\tmovs r2, #7\n\t" LOOP_HEAD "udiv r1, %0, r2\n\t" LOOP_TAIL
                         : "+l"(n) : : "r1", "r2", "cc");
        break;
#endif
#if defined(__ARM_FP)
    case 8: /* VFP: add, multiply (1 cycle each), multiply-accumulate (3) */
        __asm__ volatile(LOOP_HEAD "vadd.f32 s0, s0, s1\n\tvmul.f32 s2, s2, s3\n\tvmla.f32 s4, s5, s6\n\t" LOOP_TAIL
                         : "+l"(n) : : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "cc");
        break;
    case 9: /* VFP divide (14) */
        __asm__ volatile(LOOP_HEAD "vdiv.f32 s0, s1, s2\n\t" LOOP_TAIL : "+l"(n) : : "s0", "s1", "s2", "cc");
        break;
#endif
    default:
        break;
    }
}

/* the loops above, run by the shared main */
#define MLRN_BENCH_LOOPS 10u
#define mlrn_bench_run(which, n) bench(which, n, words)
#include "cycle_bench_main.h"
