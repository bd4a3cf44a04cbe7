/* Host implementation of mlrn_target.h: stdin/stdout, wall-clock measurement. */
#define _POSIX_C_SOURCE 199309L
#include "mlrn_target.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct timespec t_begin;
static long long elapsed_ns = -1;

void mlrn_target_init(void) {}
int mlrn_target_getc(void) { int c = getchar(); return c == EOF ? -1 : c; }
void mlrn_target_putc(char c) { putchar(c); }

void mlrn_target_mark_begin(void) { clock_gettime(CLOCK_MONOTONIC, &t_begin); }

void mlrn_target_mark_end(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    elapsed_ns = (long long)(t.tv_sec - t_begin.tv_sec) * 1000000000LL + (t.tv_nsec - t_begin.tv_nsec);
}

void mlrn_target_exit(int code) {
    if (elapsed_ns >= 0) printf("@wall_ns %lld\n", elapsed_ns);
    fflush(stdout);
    exit(code);
}
