/* Host check of support/xtensa/mlrn_xt_libgcc.c (compiled in with MLRN_XT_PREFIX=host_): every routine
 * against the host's own IEEE arithmetic (SSE: round to nearest even, subnormals kept) on special values
 * and N random operands of several kinds. Prints the mismatches and their count; exit 1 if any. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MLRN_XT_PREFIX host_
#include "mlrn_xt_libgcc.c"

static uint64_t state = 0x9E3779B97F4A7C15u;
static uint32_t rnd(void) { /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (uint32_t)((state * 0x2545F4914F6CDD1Du) >> 32);
}

/* An operand: random bits, a value near 1, a subnormal, a special, or b near a (cancellation). */
static uint32_t operand(uint32_t near) {
    static const uint32_t special[] = {0u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x00000001u,
                                       0x80000001u, 0x007FFFFFu, 0x00800000u, 0x7F7FFFFFu, 0xFF7FFFFFu,
                                       0x3F800000u, 0xBF800000u, 0x33800000u, 0x4B800000u, 0x7F000000u};
    switch (rnd() % 6u) {
    case 0: return rnd();
    case 1: return (rnd() & 0x80FFFFFFu) | (uint32_t)((120u + rnd() % 16u) << 23);
    case 2: return rnd() & 0x807FFFFFu;
    case 3: return special[rnd() % (sizeof special / sizeof special[0])];
    case 4: return near ^ (rnd() & 0xFFu) ^ (rnd() & 1u ? 0x80000000u : 0u);
    default: return (rnd() & 0x80FFFFFFu) | (uint32_t)((1u + rnd() % 40u) << 23); /* tiny normals */
    }
}

static int same(float got, float want) {
    uint32_t g, w;
    memcpy(&g, &got, 4);
    memcpy(&w, &want, 4);
    if (want != want) return got != got; /* any NaN for a NaN */
    return g == w;
}

static long bad;
static void report(const char *op, uint32_t a, uint32_t b, float got, float want) {
    uint32_t g, w;
    memcpy(&g, &got, 4);
    memcpy(&w, &want, 4);
    if (bad++ < 20) printf("%s %08x %08x: got %08x want %08x\n", op, a, b, g, w);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000, i;
    for (i = 0; i < n; i++) {
        uint32_t ua = operand(0), ub = operand(ua);
        float a, b;
        int32_t si;
        uint32_t u, d;
        uint64_t x, y;
        memcpy(&a, &ua, 4);
        memcpy(&b, &ub, 4);
        if (!same(host___addsf3(a, b), a + b)) report("add", ua, ub, host___addsf3(a, b), a + b);
        if (!same(host___subsf3(a, b), a - b)) report("sub", ua, ub, host___subsf3(a, b), a - b);
        if (!same(host___mulsf3(a, b), a * b)) report("mul", ua, ub, host___mulsf3(a, b), a * b);
        si = (int32_t)rnd() >> (rnd() % 32u);
        if (!same(host___floatsisf(si), (float)si)) report("i2f", (uint32_t)si, 0, host___floatsisf(si), (float)si);
        u = rnd() >> (rnd() % 32u);
        if (!same(host___floatunsisf(u), (float)u)) report("u2f", u, 0, host___floatunsisf(u), (float)u);
        if (a == a && a >= 0.0f && a < 4294967296.0f && host___fixunssfsi(a) != (uint32_t)a) {
            report("f2u", ua, 0, (float)host___fixunssfsi(a), (float)(uint32_t)a);
        }
        d = rnd() >> (rnd() % 32u);
        if (d != 0 && (host___udivsi3(u, d) != u / d || host___umodsi3(u, d) != u % d)) {
            report("udiv", u, d, (float)host___udivsi3(u, d), (float)(u / d));
        }
        if (d != 0 && !(si == INT32_MIN && (int32_t)d == -1) && host___divsi3(si, (int32_t)d) != si / (int32_t)d) {
            report("div", (uint32_t)si, d, (float)host___divsi3(si, (int32_t)d), (float)(si / (int32_t)d));
        }
        x = ((uint64_t)rnd() << 32) | rnd();
        y = ((uint64_t)rnd() << 32) | rnd();
        if (host___muldi3(x, y) != x * y) report("muldi", (uint32_t)x, (uint32_t)y, 0.0f, 1.0f);
    }
    printf("%ld cases, %ld mismatches\n", n, bad);
    return bad != 0;
}
