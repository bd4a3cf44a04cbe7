/* cycle_bench_main.h: the shared main of the cycle-model micro-benchmarks (cycle_bench.c for Cortex-M,
 * rv_cycle_bench.c for RISC-V, xt_cycle_bench.c for the lx106). It reads the loop's index and its iteration
 * count n (two bytes, little-endian) from the target's input and runs that loop once between the markers, so
 * the counts between them are the loop's alone; a short input, n = 0 or an index not below MLRN_BENCH_LOOPS
 * exits with status 2. The program defines MLRN_BENCH_LOOPS and mlrn_bench_run(which, n) before including it. */
#ifndef MLRN_CYCLE_BENCH_MAIN_H
#define MLRN_CYCLE_BENCH_MAIN_H

int main(void) {
    int which, lo, hi;
    uint32_t n;
    mlrn_target_init();
    which = mlrn_target_getc();
    lo = mlrn_target_getc();
    hi = mlrn_target_getc();
    if (which < 0 || which >= (int)MLRN_BENCH_LOOPS || lo < 0 || hi < 0) mlrn_target_exit(2);
    n = (uint32_t)lo | ((uint32_t)hi << 8);
    if (n == 0) mlrn_target_exit(2);
    mlrn_target_mark_begin();
    mlrn_bench_run((uint8_t)which, n);
    mlrn_target_mark_end();
    mlrn_target_exit(0);
    return 0;
}

#endif
