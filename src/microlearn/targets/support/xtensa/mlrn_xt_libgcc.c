/* The libgcc routines Debian's gcc-xtensa-lx106 does not ship (its libgcc.a has no __addsf3, __mulsf3,
 * __floatsisf, __udivsi3, ... : the objects that hold them in other builds are missing), written here for
 * the esp8266 target: integer division, 64-bit multiply and divide, and IEEE 754 binary32 add, subtract,
 * multiply and conversions. The float routines round to nearest, ties to even, handle subnormals,
 * infinities and NaN (a NaN result is the default quiet NaN 0x7FC00000), and raise no flags: exactly
 * the results of an FPU in its default mode, which is what the agreement with the Python reference
 * (numpy float32) needs. tests/targets/test_xtensa_libgcc.py compiles this file on the host and compares
 * every routine with the host's own arithmetic on special values and millions of random operands.
 *
 * MLRN_XT_PREFIX renames the routines (the host test cannot define __addsf3 itself). */
#include <stdint.h>

#ifndef MLRN_XT_PREFIX
#define MLRN_XT_PREFIX
#endif
#define MLRN_XT_CAT2(a, b) a##b
#define MLRN_XT_CAT(a, b) MLRN_XT_CAT2(a, b)
#define MLRN_XT_NAME(name) MLRN_XT_CAT(MLRN_XT_PREFIX, name)

#define F32_SIGN 0x80000000u
#define F32_EXP_MASK 0x7F800000u
#define F32_FRAC_MASK 0x007FFFFFu
#define F32_HIDDEN 0x00800000u
#define F32_QNAN 0x7FC00000u
#define F32_INF 0x7F800000u
#define F32_EXP_SHIFT 23
#define F32_EXP_MAX 0xFF
#define F32_BIAS 127
/* Significands are worked on shifted left by 3: a guard, a round and a sticky bit below the last one. */
#define GRS_BITS 3

typedef union {
    float f;
    uint32_t u;
} f32_bits;

static uint32_t bits_of(float f) {
    f32_bits b;
    b.f = f;
    return b.u;
}

static float float_of(uint32_t u) {
    f32_bits b;
    b.u = u;
    return b.f;
}

static int is_nan(uint32_t u) { return (u & ~F32_SIGN) > F32_INF; }

/* Shift right, OR-ing every bit shifted out into bit 0 (the sticky bit). */
static uint32_t shift_right_sticky(uint32_t x, int n) {
    if (n <= 0) return x;
    if (n >= 32) return x != 0;
    return (x >> n) | ((x & ((1u << n) - 1u)) != 0);
}

static int leading_zeros(uint32_t x) {
    int n = 0;
    if (x == 0) return 32;
    while (!(x & F32_SIGN)) {
        x <<= 1;
        n++;
    }
    return n;
}

/* Round and pack. `sig` is the significand with GRS_BITS below it, its leading one at bit 23 + GRS_BITS
 * when normal, `exp` its biased exponent. exp <= 0 (a product below the normal range) is first shifted
 * to exponent 1; at exponent 1 a significand without its leading one is a subnormal (field 0). */
static uint32_t round_pack(uint32_t sign, int exp, uint32_t sig) {
    uint32_t lsb, round;
    if (exp <= 0) {
        sig = shift_right_sticky(sig, 1 - exp);
        exp = 1;
    }
    lsb = (sig >> GRS_BITS) & 1u;
    round = sig & ((1u << GRS_BITS) - 1u);
    sig >>= GRS_BITS;
    /* ties to even: above half rounds up, exactly half rounds to the even neighbour */
    if (round > (1u << (GRS_BITS - 1)) || (round == (1u << (GRS_BITS - 1)) && lsb)) sig++;
    if (sig >= (F32_HIDDEN << 1)) { /* rounding carried out: 1.111..1 + ulp = 10.000 (exact shift) */
        sig >>= 1;
        exp++;
    }
    if (exp >= F32_EXP_MAX) return sign | F32_INF;
    if (sig < F32_HIDDEN) return sign | sig; /* subnormal (or zero): exponent field 0 */
    return sign | ((uint32_t)exp << F32_EXP_SHIFT) | (sig & F32_FRAC_MASK);
}

/* Unpack a finite non-zero value into its biased exponent (subnormals: 1) and significand with the
 * hidden bit set for normals. */
static void unpack(uint32_t u, int *exp, uint32_t *sig) {
    *exp = (int)((u & F32_EXP_MASK) >> F32_EXP_SHIFT);
    *sig = u & F32_FRAC_MASK;
    if (*exp == 0) *exp = 1;
    else *sig |= F32_HIDDEN;
}

static uint32_t add_bits(uint32_t a, uint32_t b) {
    uint32_t sa = a & F32_SIGN, sb = b & F32_SIGN, siga, sigb, sig;
    int ea, eb, exp;
    if (is_nan(a) || is_nan(b)) return F32_QNAN;
    if ((a & ~F32_SIGN) == F32_INF) return ((b & ~F32_SIGN) == F32_INF && sa != sb) ? F32_QNAN : a;
    if ((b & ~F32_SIGN) == F32_INF) return b;
    if ((a & ~F32_SIGN) == 0) return (b & ~F32_SIGN) == 0 ? (a & b) : b; /* -0 + -0 = -0, else +0 */
    if ((b & ~F32_SIGN) == 0) return a;
    unpack(a, &ea, &siga);
    unpack(b, &eb, &sigb);
    /* make a the operand of larger magnitude */
    if (ea < eb || (ea == eb && siga < sigb)) {
        uint32_t t = siga;
        int te = ea;
        siga = sigb;
        sigb = t;
        ea = eb;
        eb = te;
        t = sa;
        sa = sb;
        sb = t;
    }
    siga <<= GRS_BITS;
    sigb = shift_right_sticky(sigb << GRS_BITS, ea - eb);
    exp = ea;
    if (sa == sb) {
        sig = siga + sigb;
        if (sig >= (F32_HIDDEN << (GRS_BITS + 1))) {
            sig = shift_right_sticky(sig, 1);
            exp++;
        }
    } else {
        int shift;
        sig = siga - sigb;
        if (sig == 0) return 0; /* x - x = +0 in round to nearest */
        shift = leading_zeros(sig) - (31 - F32_EXP_SHIFT - GRS_BITS);
        /* normalise, but not below exponent 1 (there the result is subnormal) */
        if (shift > exp - 1) shift = exp - 1;
        if (shift > 0) {
            sig <<= shift;
            exp -= shift;
        }
    }
    return round_pack(sa, exp, sig);
}

static uint32_t mul_bits(uint32_t a, uint32_t b) {
    uint32_t sign = (a ^ b) & F32_SIGN, siga, sigb, hi, lo;
    uint64_t prod;
    int ea, eb, exp, shift;
    if (is_nan(a) || is_nan(b)) return F32_QNAN;
    if ((a & ~F32_SIGN) == F32_INF || (b & ~F32_SIGN) == F32_INF) {
        if ((a & ~F32_SIGN) == 0 || (b & ~F32_SIGN) == 0) return F32_QNAN; /* inf * 0 */
        return sign | F32_INF;
    }
    if ((a & ~F32_SIGN) == 0 || (b & ~F32_SIGN) == 0) return sign;
    unpack(a, &ea, &siga);
    unpack(b, &eb, &sigb);
    /* normalise subnormal inputs so the product's leading one is at bit 46 or 47 */
    shift = leading_zeros(siga) - (31 - F32_EXP_SHIFT);
    siga <<= shift;
    ea -= shift;
    shift = leading_zeros(sigb) - (31 - F32_EXP_SHIFT);
    sigb <<= shift;
    eb -= shift;
    prod = (uint64_t)siga * sigb; /* in [2^46, 2^48) */
    exp = ea + eb - F32_BIAS;
    if (prod & ((uint64_t)1 << (2 * F32_EXP_SHIFT + 1))) exp++;
    else prod <<= 1;
    /* the leading one is now at bit 47: keep 24 + GRS_BITS bits, the rest sticky */
    hi = (uint32_t)(prod >> (2 * F32_EXP_SHIFT + 1 - F32_EXP_SHIFT - GRS_BITS));
    lo = (uint32_t)(prod & ((((uint64_t)1) << (2 * F32_EXP_SHIFT + 1 - F32_EXP_SHIFT - GRS_BITS)) - 1u));
    hi |= lo != 0;
    return round_pack(sign, exp, hi); /* below the normal range, round_pack shifts with sticky */
}

static uint32_t from_u32(uint32_t sign, uint32_t x) {
    int lz, exp;
    uint32_t sig;
    if (x == 0) return sign;
    lz = leading_zeros(x);
    exp = F32_BIAS + 31 - lz;
    x <<= lz; /* leading one at bit 31 */
    /* keep 24 + GRS_BITS bits: leading one at bit 26 */
    sig = shift_right_sticky(x, 31 - F32_EXP_SHIFT - GRS_BITS);
    return round_pack(sign, exp, sig);
}

float MLRN_XT_NAME(__addsf3)(float a, float b);
float MLRN_XT_NAME(__subsf3)(float a, float b);
float MLRN_XT_NAME(__mulsf3)(float a, float b);
float MLRN_XT_NAME(__floatsisf)(int32_t x);
float MLRN_XT_NAME(__floatunsisf)(uint32_t x);
uint32_t MLRN_XT_NAME(__fixunssfsi)(float a);
uint32_t MLRN_XT_NAME(__udivsi3)(uint32_t n, uint32_t d);
uint32_t MLRN_XT_NAME(__umodsi3)(uint32_t n, uint32_t d);
int32_t MLRN_XT_NAME(__divsi3)(int32_t n, int32_t d);
uint64_t MLRN_XT_NAME(__muldi3)(uint64_t a, uint64_t b);

float MLRN_XT_NAME(__addsf3)(float a, float b) { return float_of(add_bits(bits_of(a), bits_of(b))); }
float MLRN_XT_NAME(__subsf3)(float a, float b) {
    uint32_t ub = bits_of(b);
    return float_of(add_bits(bits_of(a), is_nan(ub) ? ub : ub ^ F32_SIGN));
}
float MLRN_XT_NAME(__mulsf3)(float a, float b) { return float_of(mul_bits(bits_of(a), bits_of(b))); }
float MLRN_XT_NAME(__floatsisf)(int32_t x) {
    return float_of(x < 0 ? from_u32(F32_SIGN, 0u - (uint32_t)x) : from_u32(0, (uint32_t)x));
}
float MLRN_XT_NAME(__floatunsisf)(uint32_t x) { return float_of(from_u32(0, x)); }

/* float -> uint32, truncating; out of range (and NaN) saturate like most FPUs, negative values give 0. */
uint32_t MLRN_XT_NAME(__fixunssfsi)(float a) {
    uint32_t u = bits_of(a), sig;
    int exp = (int)((u & F32_EXP_MASK) >> F32_EXP_SHIFT) - F32_BIAS;
    if (is_nan(u)) return 0;
    if (u & F32_SIGN) return 0;
    if (exp < 0) return 0;
    if (exp > 31) return 0xFFFFFFFFu;
    sig = (u & F32_FRAC_MASK) | F32_HIDDEN;
    return exp >= F32_EXP_SHIFT ? sig << (exp - F32_EXP_SHIFT) : sig >> (F32_EXP_SHIFT - exp);
}

/* Restoring division, one quotient bit per step (the lx106 has no divide instruction). d == 0 gives
 * all ones, as many hardware dividers do (C leaves it undefined; the runtime never divides by zero). */
static uint32_t udivmod(uint32_t n, uint32_t d, uint32_t *rem) {
    uint32_t q = 0, r = 0;
    int i;
    if (d == 0) {
        *rem = n;
        return 0xFFFFFFFFu;
    }
    for (i = 31; i >= 0; i--) {
        uint32_t carry = r >> 31; /* r << 1 overflows 32 bits only when d > 2^31: then r exceeds d */
        r = (r << 1) | ((n >> i) & 1u);
        if (carry || r >= d) {
            r -= d;
            q |= 1u << i;
        }
    }
    *rem = r;
    return q;
}

uint32_t MLRN_XT_NAME(__udivsi3)(uint32_t n, uint32_t d) {
    uint32_t r;
    return udivmod(n, d, &r);
}

uint32_t MLRN_XT_NAME(__umodsi3)(uint32_t n, uint32_t d) {
    uint32_t r;
    (void)udivmod(n, d, &r);
    return r;
}

int32_t MLRN_XT_NAME(__divsi3)(int32_t n, int32_t d) {
    uint32_t r, un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n, ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t q = udivmod(un, ud, &r);
    return (int32_t)((n < 0) != (d < 0) ? 0u - q : q); /* truncation toward zero, as C */
}

uint64_t MLRN_XT_NAME(__muldi3)(uint64_t a, uint64_t b) {
    /* the low 64 bits of the product: al * bl in full from 16-bit halves (32-bit products, __mulsi3),
     * the cross terms only for their low 32 bits */
    uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32), bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
    uint32_t a0 = al & 0xFFFFu, a1 = al >> 16, b0 = bl & 0xFFFFu, b1 = bl >> 16;
    uint64_t low = (uint64_t)(a0 * b0) + ((uint64_t)(a0 * b1) << 16) + ((uint64_t)(a1 * b0) << 16) +
                   ((uint64_t)(a1 * b1) << 32);
    return low + ((uint64_t)(al * bh + ah * bl) << 32);
}
