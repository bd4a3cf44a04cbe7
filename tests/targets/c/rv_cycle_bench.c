/* Micro-benchmarks for the RISC-V cycle model (targets/cycle_model.py, RV_CORES): the loops third parties
 * timed on the silicon (ESP32-C3: timonvo/niccle cycle_counting.rs; CH32V003: cpldcpu/DRAM_exploration
 * instruction_timing), and loops for the classes the model assumes. Input: one byte (which loop) and a
 * little-endian uint16 (iterations, at least 1); the loop runs between the markers. The counter is a5 and
 * the buffer a4 (x8-x15: compressible, and valid RV32E), so the encodings, which the CH32V003's flash fetch
 * is sensitive to, are fixed: c.addi, c.bnez, c.nop, c.sw; `.option norvc` where a 32-bit one is meant. */
#include <stdint.h>

#include "mlrn_target.h"

static uint32_t words[4] = {1u, 2u, 3u, 4u};

/* A leaf function that returns at once: the cost of a call and a return. */
__asm__(".text\n\t.balign 4\n\t.globl mlrn_bench_leaf\n"
        "mlrn_bench_leaf:\n\tret\n");

#define LOOP_HEAD "1:\n\t"
#define LOOP_TAIL "addi a5, a5, -1\n\tbnez a5, 1b\n"
#define NORVC(insn) ".option push\n\t.option norvc\n\t" insn "\n\t.option pop\n\t"

__attribute__((noinline)) static void bench(uint8_t which, uint32_t n, uint32_t *mem) {
    register uint32_t count __asm__("a5") = n;
    register uint32_t *buf __asm__("a4") = mem;
    switch (which) {
    case 0: /* addi; bnez taken backward */
        __asm__ volatile(LOOP_HEAD LOOP_TAIL : "+r"(count));
        break;
    case 1: /* addi; beqz not taken forward; j back */
        __asm__ volatile(LOOP_HEAD "addi a5, a5, -1\n\tbeqz a5, 2f\n\tj 1b\n\t2:\n" : "+r"(count));
        break;
    case 2: /* addi; bnez taken forward; j back (and j out at the end) */
        __asm__ volatile(LOOP_HEAD "addi a5, a5, -1\n\tbnez a5, 2f\n\tj 3f\n\t2:\n\tj 1b\n\t3:\n" : "+r"(count));
        break;
    case 3: /* a word load */
        __asm__ volatile(LOOP_HEAD "lw t0, 0(a4)\n\t" LOOP_TAIL : "+r"(count) : "r"(buf) : "t0", "memory");
        break;
    case 4: /* a byte load */
        __asm__ volatile(LOOP_HEAD "lbu t0, 1(a4)\n\t" LOOP_TAIL : "+r"(count) : "r"(buf) : "t0", "memory");
        break;
    case 5: /* a word store */
        __asm__ volatile(LOOP_HEAD "sw a5, 0(a4)\n\t" LOOP_TAIL : "+r"(count) : "r"(buf) : "memory");
        break;
    case 6: /* two 16-bit nops */
        __asm__ volatile(LOOP_HEAD "c.nop\n\tc.nop\n\t" LOOP_TAIL : "+r"(count));
        break;
    case 7: /* one 32-bit nop */
        __asm__ volatile(LOOP_HEAD NORVC("nop") LOOP_TAIL : "+r"(count));
        break;
    case 8: /* two 16-bit stores */
        __asm__ volatile(LOOP_HEAD "c.sw a5, 0(a4)\n\tc.sw a5, 4(a4)\n\t" LOOP_TAIL : "+r"(count) : "r"(buf) : "memory");
        break;
    case 9: /* a call and its return */
        __asm__ volatile(LOOP_HEAD "jal ra, mlrn_bench_leaf\n\t" LOOP_TAIL : "+r"(count) : : "ra");
        break;
#if defined(__riscv_mul)
    case 10: /* three multiplies */
        __asm__ volatile(LOOP_HEAD "mul t0, t1, t0\n\tmul t1, t2, t1\n\tmul t2, t0, t2\n\t" LOOP_TAIL
                         : "+r"(count) : : "t0", "t1", "t2");
        break;
#endif
#if defined(__riscv_div)
    case 11: /* a divide (latency unpublished: the model's range) */
        __asm__ volatile("li t1, 7\n\t" LOOP_HEAD "divu t0, a5, t1\n\t" LOOP_TAIL : "+r"(count) : : "t0", "t1");
        break;
#endif
    default:
        break;
    }
}

/* the loops above, run by the shared main */
#define MLRN_BENCH_LOOPS 12u
#define mlrn_bench_run(which, n) bench(which, n, words)
#include "cycle_bench_main.h"
