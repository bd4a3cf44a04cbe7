/* Micro-benchmarks for the Xtensa LX106 cycle model (targets/cycle_model.py, XT_CORES): the sequences people
 * timed on an ESP8266 with CCOUNT (cnlohr/espusb usb_notes.txt and speednotes.txt; the L32R benchmark of
 * earlephilhower/esp-quick-toolchain pull request 33), and loops for the classes the model assumes. Input: one
 * byte (which loop) and a little-endian uint16 (iterations, at least 1); the loop runs between the markers.
 *
 * Each loop is a function of its own (call0 ABI: a2 = iterations, a3 = the words below), 4-byte aligned, its
 * loop head at its first byte, ending with `addi.n a2, a2, -1; bnez a2, 1b` and assembled with no-transform, so
 * the assembler neither widens nor aligns anything behind the model's back. The offsets in the comments are
 * from the function's start: no branch target lies at an address ending in binary 11 except in loop 12. The
 * literals sit before the functions that load them (L32R reaches only backwards). */
#include <stdint.h>

#include "mlrn_target.h"

uint32_t mlrn_bench_words[4] = {0u, 6u, 3u, 4u};

typedef void (*mlrn_bench_fn)(uint32_t n, uint32_t *mem);
void mlrn_xb_empty(uint32_t n, uint32_t *mem);
void mlrn_xb_load(uint32_t n, uint32_t *mem);
void mlrn_xb_load_use(uint32_t n, uint32_t *mem);
void mlrn_xb_not_taken(uint32_t n, uint32_t *mem);
void mlrn_xb_taken(uint32_t n, uint32_t *mem);
void mlrn_xb_jump(uint32_t n, uint32_t *mem);
void mlrn_xb_l32r(uint32_t n, uint32_t *mem);
void mlrn_xb_l32r_x2(uint32_t n, uint32_t *mem);
void mlrn_xb_l32r_use(uint32_t n, uint32_t *mem);
void mlrn_xb_mul16(uint32_t n, uint32_t *mem);
void mlrn_xb_mull(uint32_t n, uint32_t *mem);
void mlrn_xb_call(uint32_t n, uint32_t *mem);
void mlrn_xb_misaligned(uint32_t n, uint32_t *mem);
void mlrn_xb_add(uint32_t n, uint32_t *mem);

#define FN(name) ".balign 4\n\t.globl " name "\n\t.type " name ", @function\n" name ":\n\t.begin no-transform\n"
#define TAIL "\taddi.n a2, a2, -1\n\tbnez a2, 1b\n\tret.n\n\t.end no-transform\n\t"

__asm__(".text\n\t"
        /* a leaf that returns at once: the cost of a call and a return */
        FN("mlrn_bench_leaf") "\tret.n\n\t.end no-transform\n\t"
        /* 0: the loop alone (addi.n; bnez taken) */
        FN("mlrn_xb_empty") "1:\n" TAIL
        /* 1: a load and an add that does not read it */
        FN("mlrn_xb_load") "1:\tl32i.n a8, a3, 0\n\tadd.n a9, a9, a9\n" TAIL
        /* 2: a load and an add that reads it: the stall */
        FN("mlrn_xb_load_use") "1:\tl32i.n a8, a3, 0\n\tadd.n a8, a8, a8\n" TAIL
        /* 3: load (0); nop (2); branch on it, not taken: words[0] = 0 (4); its target (7) is never reached
         * by a taken branch */
        FN("mlrn_xb_not_taken") "1:\tl32i.n a8, a3, 0\n\tnop.n\n\tbgeui a8, 5, 2f\n2:\n" TAIL
        /* 4: load (0); nop (2); branch on it, taken: words[1] = 6 (4), over a nop (7) to 9 */
        FN("mlrn_xb_taken") "1:\tl32i.n a8, a3, 4\n\tnop.n\n\tbgeui a8, 5, 2f\n\tnop.n\n2:\n" TAIL
        /* 5: a jump (0) over a nop (3) to 5 */
        FN("mlrn_xb_jump") "1:\tj 2f\n\tnop.n\n2:\n" TAIL
        /* the literals: a word too wide for MOVI, and the address of the words */
        ".balign 4\n.Lmlrn_xb_lit:\n\t.word 0x12345678\n.Lmlrn_xb_words:\n\t.word mlrn_bench_words\n\t"
        /* 6: one L32R */
        FN("mlrn_xb_l32r") "1:\tl32r a8, .Lmlrn_xb_lit\n" TAIL
        /* 7: two L32R in a row */
        FN("mlrn_xb_l32r_x2") "1:\tl32r a8, .Lmlrn_xb_lit\n\tl32r a9, .Lmlrn_xb_lit\n" TAIL
        /* 8: L32R of an address and a store through it: the stall */
        FN("mlrn_xb_l32r_use") "1:\tl32r a8, .Lmlrn_xb_words\n\ts32i.n a2, a8, 8\n" TAIL
        /* 9: three 16-bit multiplies */
        FN("mlrn_xb_mul16") "1:\tmul16u a8, a2, a2\n\tmul16u a9, a2, a2\n\tmul16u a8, a9, a9\n" TAIL
        /* 10: a 32-bit multiply and an add that reads it */
        FN("mlrn_xb_mull") "1:\tmull a8, a2, a2\n\tadd.n a8, a8, a8\n" TAIL
        /* 11: a0 kept in a11 (0); two nops (2, 4), a call (6) and its return to 9 */
        FN("mlrn_xb_call") "\tmov.n a11, a0\n"
        "1:\tnop.n\n\tnop.n\n\tcall0 mlrn_bench_leaf\n\taddi.n a2, a2, -1\n\tbnez a2, 1b\n\t"
        "mov.n a0, a11\n\tret.n\n\t.end no-transform\n\t"
        /* 12: the loop alone, its head at an address ending in binary 11: a jump (0) to 3 */
        FN("mlrn_xb_misaligned") "\tj 1f\n1:\n" TAIL
        /* 13: add, increment, compare and branch: the for loop of esp-idf issue 85 */
        FN("mlrn_xb_add") "1:\tadd.n a9, a9, a2\n" TAIL);

static const mlrn_bench_fn loops[] = {mlrn_xb_empty, mlrn_xb_load, mlrn_xb_load_use, mlrn_xb_not_taken,
                                      mlrn_xb_taken, mlrn_xb_jump, mlrn_xb_l32r, mlrn_xb_l32r_x2,
                                      mlrn_xb_l32r_use, mlrn_xb_mul16, mlrn_xb_mull, mlrn_xb_call,
                                      mlrn_xb_misaligned, mlrn_xb_add};

/* the loops above, run by the shared main */
#define MLRN_BENCH_LOOPS (sizeof loops / sizeof loops[0])
#define mlrn_bench_run(which, n) loops[which](n, mlrn_bench_words)
#include "cycle_bench_main.h"
