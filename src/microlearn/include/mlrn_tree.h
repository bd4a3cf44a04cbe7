/* mlrn_tree.h: decision-tree traversal over flash node tables.
 *
 * A tree is stored as its internal nodes in preorder: feature[i], threshold[i], and two
 * child codes left[i], right[i]: a code >= 0 is the index of an internal node, a code < 0
 * is a leaf whose value is -1 - code (a class index, or a row of a leaf-probability table).
 * The test is scikit-learn's: go left when x[feature] <= threshold. Thresholds are stored as
 * the largest float32 not above scikit-learn's float64 threshold, which makes the float32
 * comparison identical for every float32 input. NaN inputs go right.
 * A forest concatenates its trees' nodes; roots[t] is the code of tree t's root.
 *
 * Variants by table width: _<feature type>_<child type>, e.g. mlrn_tree_leaf_u8_i16. */
#ifndef MLRN_TREE_H
#define MLRN_TREE_H
#include "mlrn.h"

MLRN_FP_EXACT_BEGIN

#define MLRN_TREE_DEFINE(SUFFIX, FTYPE, FREAD, CTYPE, CREAD)                                          \
    static inline int32_t mlrn_tree_leaf_##SUFFIX(const FTYPE *feature_flash, const float *threshold_flash, \
                                                  const CTYPE *left_flash, const CTYPE *right_flash,      \
                                                  int32_t code, const float *x) {                         \
        while (code >= 0) {                                                                               \
            uint32_t i = (uint32_t)code;                                                                  \
            code = (x[FREAD(&feature_flash[i])] <= mlrn_flash_f32(&threshold_flash[i]))                   \
                       ? (int32_t)CREAD(&left_flash[i])                                                   \
                       : (int32_t)CREAD(&right_flash[i]);                                                 \
        }                                                                                                 \
        return -1 - code;                                                                                 \
    }

MLRN_TREE_DEFINE(u8_i16, uint8_t, mlrn_flash_u8, int16_t, mlrn_flash_i16)
MLRN_TREE_DEFINE(u16_i16, uint16_t, mlrn_flash_u16, int16_t, mlrn_flash_i16)
MLRN_TREE_DEFINE(u8_i32, uint8_t, mlrn_flash_u8, int32_t, mlrn_flash_i32)
MLRN_TREE_DEFINE(u16_i32, uint16_t, mlrn_flash_u16, int32_t, mlrn_flash_i32)

/* Integer-threshold variants for quantized inputs (x already quantized to int16 or int8). */
#define MLRN_TREE_DEFINE_Q(SUFFIX, XTYPE, TTYPE, TREAD, FTYPE, FREAD, CTYPE, CREAD)                        \
    static inline int32_t mlrn_tree_leaf_##SUFFIX(const FTYPE *feature_flash, const TTYPE *threshold_flash, \
                                                  const CTYPE *left_flash, const CTYPE *right_flash,      \
                                                  int32_t code, const XTYPE *x) {                         \
        while (code >= 0) {                                                                               \
            uint32_t i = (uint32_t)code;                                                                  \
            code = (x[FREAD(&feature_flash[i])] <= TREAD(&threshold_flash[i]))                            \
                       ? (int32_t)CREAD(&left_flash[i])                                                   \
                       : (int32_t)CREAD(&right_flash[i]);                                                 \
        }                                                                                                 \
        return -1 - code;                                                                                 \
    }

MLRN_TREE_DEFINE_Q(q16_u8_i16, int16_t, int16_t, mlrn_flash_i16, uint8_t, mlrn_flash_u8, int16_t, mlrn_flash_i16)
MLRN_TREE_DEFINE_Q(q16_u16_i16, int16_t, int16_t, mlrn_flash_i16, uint16_t, mlrn_flash_u16, int16_t, mlrn_flash_i16)
MLRN_TREE_DEFINE_Q(q16_u8_i32, int16_t, int16_t, mlrn_flash_i16, uint8_t, mlrn_flash_u8, int32_t, mlrn_flash_i32)
MLRN_TREE_DEFINE_Q(q16_u16_i32, int16_t, int16_t, mlrn_flash_i16, uint16_t, mlrn_flash_u16, int32_t, mlrn_flash_i32)
MLRN_TREE_DEFINE_Q(q8_u8_i16, int8_t, int8_t, mlrn_flash_i8, uint8_t, mlrn_flash_u8, int16_t, mlrn_flash_i16)
MLRN_TREE_DEFINE_Q(q8_u16_i16, int8_t, int8_t, mlrn_flash_i8, uint16_t, mlrn_flash_u16, int16_t, mlrn_flash_i16)
MLRN_TREE_DEFINE_Q(q8_u8_i32, int8_t, int8_t, mlrn_flash_i8, uint8_t, mlrn_flash_u8, int32_t, mlrn_flash_i32)
MLRN_TREE_DEFINE_Q(q8_u16_i32, int8_t, int8_t, mlrn_flash_i8, uint16_t, mlrn_flash_u16, int32_t, mlrn_flash_i32)

/* Ordered-key variants (what the exporter generates): thresholds are stored as the ordered
 * integer key of the float32 threshold, and each visited input is turned into its key:
 *     key(v) = bits(v) for v >= +0, bits(v) ^ 0x7fffffff for a set sign bit (-0 -> -1),
 * a strictly increasing map of the non-NaN float32 values except that it separates -0 from +0.
 * The exporter never stores a -0 threshold (x <= -0 and x <= +0 are the same test), so
 * key(x) <= key(t) <=> x <= t for every non-NaN x: the float comparison, exactly, without a
 * soft-float compare (AVR) or an FPU compare (it is the same cost on an FPU). NaN: a NaN with
 * the sign bit clear goes right, one with the sign bit set goes left.
 * Child codes and node indices are 16-bit in the _i16 variants. */
/* Generated forest layouts ('rank', 'code') keep each tree in its own function: one huge function
 * with flash reads (inline asm on AVR) can get conditional branches out of range at link time. */
#if defined(__GNUC__)
#define MLRN_TREE_FN static __attribute__((noinline, unused))
#else
#define MLRN_TREE_FN static inline
#endif

static inline int32_t mlrn_tree_f32_key(float v) {
    union { float f; int32_t i; } c;
    c.f = v;
    return c.i < 0 ? (c.i ^ (int32_t)0x7fffffff) : c.i;
}

/* Record tables (the exporter's float32 node tables when the inputs number <= 64 and the table is
 * < 64 KB): one byte table per model, trees in preorder, each tree's left child stored right after
 * its parent, so only the right child needs a reference.
 *   internal node, 7 bytes: [4*feature] [right: u16 byte offset] [key(t): int32], little-endian
 *   leaf, 3 bytes:          [1] [value: u16] (class, leaf index, or leaf-table row offset)
 * The first byte is even for a node (4*feature) and odd for a leaf. The walk goes left (to the
 * next record) when key(x) <= key(t), the same test as the tables above.
 * Why: on AVR one record is read with sequential LPM Z+ (no per-field index arithmetic), the
 * feature byte is already x's byte offset, and the key is compared high half first: the low
 * halves are read only when the high 16 bits (sign, exponent, 7 mantissa bits) are equal, which
 * inputs within 1/128 of a threshold reach. About 30 cycles per node instead of ~65. */
#define MLRN_TREE_REC_NODE_BYTES 7
#define MLRN_TREE_REC_LEAF_BYTES 3

static inline uint16_t mlrn_tree_rec_leaf(const uint8_t *nodes_flash, uint16_t off, const float *x) {
#if defined(__AVR__) && defined(__GNUC__)
    const uint8_t *p = nodes_flash + off;
    uint16_t xp, a, b;
    /* in-out operands: gcc would otherwise give an input holding the same value as p (the table
     * base when off == 0) p's own register */
    uint16_t xb = (uint16_t)((uintptr_t)x + 2u), nb = (uint16_t)(uintptr_t)nodes_flash;
    /* Z: record pointer; X: x's bytes; a: key(x) half; b: key(t) half, then the result. */
    __asm__ volatile(
        "1:  lpm  %A[xp], Z+       \n\t" /* 4*feature, or odd: a leaf */
        "    sbrc %A[xp], 0        \n\t"
        "    rjmp 9f               \n\t"
        "    clr  %B[xp]           \n\t"
        "    add  %A[xp], %A[xb]   \n\t" /* X = &x[feature] + 2 */
        "    adc  %B[xp], %B[xb]   \n\t"
        "    ld   %A[a], X+        \n\t"
        "    ld   %B[a], X         \n\t" /* a = high half of x's bits; X at byte 3 */
        "    adiw r30, 4           \n\t" /* Z -> high half of key(t) */
        "    sbrc %B[a], 7         \n\t"
        "    rjmp 5f               \n\t"
        "2:  lpm  %A[b], Z+        \n\t"
        "    lpm  %B[b], Z+        \n\t" /* Z -> next record = left child */
        "    cp   %A[a], %A[b]     \n\t"
        "    cpc  %B[a], %B[b]     \n\t"
        "    brlt 1b               \n\t" /* high halves decide: left */
        "    breq 6f               \n\t"
        "3:  sbiw r30, 6           \n\t" /* right: Z -> right offset */
        "    lpm  %A[b], Z+        \n\t"
        "    lpm  %B[b], Z         \n\t"
        "    movw r30, %A[b]       \n\t"
        "    add  r30, %A[nb]      \n\t"
        "    adc  r31, %B[nb]      \n\t"
        "    rjmp 1b               \n\t"
        "5:  com  %A[a]            \n\t" /* negative x: key = bits ^ 0x7fffffff */
        "    com  %B[a]            \n\t"
        "    subi %B[a], 0x80      \n\t"
        "    rjmp 2b               \n\t"
        "6:  sbiw r30, 4           \n\t" /* equal high halves: compare the low halves, unsigned */
        "    lpm  %A[b], Z+        \n\t"
        "    lpm  %B[b], Z+        \n\t"
        "    adiw r30, 2           \n\t" /* Z -> next record */
        "    ld   __tmp_reg__, X   \n\t" /* x's sign byte */
        "    sbiw %A[xp], 3        \n\t"
        "    ld   %A[a], X+        \n\t"
        "    ld   %B[a], X         \n\t"
        "    sbrs __tmp_reg__, 7   \n\t"
        "    rjmp 7f               \n\t"
        "    com  %A[a]            \n\t"
        "    com  %B[a]            \n\t"
        "7:  cp   %A[b], %A[a]     \n\t" /* left iff a <= b */
        "    cpc  %B[b], %B[a]     \n\t"
        "    brsh 1b               \n\t"
        "    rjmp 3b               \n\t"
        "9:  lpm  %A[b], Z+        \n\t" /* leaf: its value */
        "    lpm  %B[b], Z         \n\t"
        : [p] "+z"(p), [xp] "=&x"(xp), [a] "=&d"(a), [b] "=&r"(b), [xb] "+r"(xb), [nb] "+r"(nb)
        :
        : "memory");
    (void)xp;
    (void)xb;
    (void)nb;
    return b;
#else
    const uint8_t *p = nodes_flash + off;
    while (!(mlrn_flash_u8(p) & 1u)) {
        int32_t kt = (int32_t)((uint32_t)mlrn_flash_u8(p + 3) | (uint32_t)mlrn_flash_u8(p + 4) << 8 |
                               (uint32_t)mlrn_flash_u8(p + 5) << 16 | (uint32_t)mlrn_flash_u8(p + 6) << 24);
        /* the first byte is x's byte offset: no shift and scale (4*feature is 4-aligned) */
        union { float f; int32_t i; } c;
        c.f = *(const float *)(const void *)((const uint8_t *)x + mlrn_flash_u8(p));
        /* mlrn_tree_f32_key without a branch: a set sign bit flips the low 31 bits (asr + eor on ARM) */
        c.i ^= (int32_t)((uint32_t)(-(int32_t)((uint32_t)c.i >> 31)) >> 1);
        p = (c.i <= kt)
                ? p + MLRN_TREE_REC_NODE_BYTES
                : nodes_flash + (uint16_t)(mlrn_flash_u8(p + 1) | (unsigned)mlrn_flash_u8(p + 2) << 8);
    }
    return (uint16_t)(mlrn_flash_u8(p + 1) | (unsigned)mlrn_flash_u8(p + 2) << 8);
#endif
}

#define MLRN_TREE_KEY_DEFINE(SUFFIX, FTYPE, FREAD, CTYPE, CREAD)                                          \
    static inline int32_t mlrn_tree_key_leaf_##SUFFIX(const FTYPE *feature_flash, const int32_t *key_flash,   \
                                                   const CTYPE *left_flash, const CTYPE *right_flash,     \
                                                   CTYPE code, const float *x) {                          \
        while (code >= 0) {                                                                               \
            int32_t xk = mlrn_tree_f32_key(x[FREAD(&feature_flash[code])]);                                    \
            code = (xk <= mlrn_flash_i32(&key_flash[code])) ? (CTYPE)CREAD(&left_flash[code])             \
                                                             : (CTYPE)CREAD(&right_flash[code]);          \
        }                                                                                                 \
        return -1 - (int32_t)code;                                                                        \
    }

MLRN_TREE_KEY_DEFINE(u8_i16, uint8_t, mlrn_flash_u8, int16_t, mlrn_flash_i16)
MLRN_TREE_KEY_DEFINE(u16_i16, uint16_t, mlrn_flash_u16, int16_t, mlrn_flash_i16)
MLRN_TREE_KEY_DEFINE(u8_i32, uint8_t, mlrn_flash_u8, int32_t, mlrn_flash_i32)
MLRN_TREE_KEY_DEFINE(u16_i32, uint16_t, mlrn_flash_u16, int32_t, mlrn_flash_i32)

/* Trees that route a missing value explicitly (HistGradientBoosting*: each node says where NaN goes).
 * Same tables as the ordered-key variants (features u16) plus nan_left, one bit per node (bit i % 8 of
 * byte i / 8): a NaN input goes left when its node's bit is set, whatever its sign bit; every other
 * input takes the key test key(x) <= key(t) (x <= t). scikit-learn's HistGradientBoosting predictor does
 * exactly this on the float64 value of the input, which for a float32 input is the same test. */
#define MLRN_TREE_NAN_DEFINE(SUFFIX, CTYPE, CREAD)                                                         \
    static inline int32_t mlrn_tree_nan_leaf_##SUFFIX(const uint16_t *feature_flash, const int32_t *key_flash,  \
                                                      const CTYPE *left_flash, const CTYPE *right_flash,  \
                                                      const uint8_t *nan_left_flash, CTYPE code,          \
                                                      const float *x) {                                   \
        while (code >= 0) {                                                                               \
            uint32_t i = (uint32_t)code;                                                                  \
            union { float f; uint32_t u; } c;                                                             \
            int go_left;                                                                                  \
            c.f = x[mlrn_flash_u16(&feature_flash[i])];                                                   \
            /* NaN told from its bits: an integer test, no soft-float compare on AVR */                   \
            if ((c.u & 0x7fffffffu) > 0x7f800000u)                                                        \
                go_left = (int)(((unsigned)mlrn_flash_u8(&nan_left_flash[i >> 3]) >> (i & 7u)) & 1u);     \
            else                                                                                          \
                go_left = mlrn_tree_f32_key(c.f) <= mlrn_flash_i32(&key_flash[i]);                        \
            code = go_left ? (CTYPE)CREAD(&left_flash[i]) : (CTYPE)CREAD(&right_flash[i]);               \
        }                                                                                                 \
        return -1 - (int32_t)code;                                                                        \
    }

MLRN_TREE_NAN_DEFINE(i16, int16_t, mlrn_flash_i16)
MLRN_TREE_NAN_DEFINE(i32, int32_t, mlrn_flash_i32)

/* Number of the n sorted (ascending, distinct) keys t[] below k: the rank the 'rank' forest layout
 * compares (x <= t_j <=> rank(key(x)) <= j). Binary search. */
static inline uint16_t mlrn_tree_rank(const int32_t *t_flash, uint16_t n, int32_t k) {
    uint16_t lo = 0, hi = n;
    while (lo < hi) {
        uint16_t mid = (uint16_t)((lo + hi) >> 1);
        if (mlrn_flash_i32(&t_flash[mid]) < k) lo = (uint16_t)(mid + 1u);
        else hi = mid;
    }
    return lo;
}

/* The same for n <= 255: 8-bit indices; a linear scan below 8 keys, binary search above. */
static inline uint8_t mlrn_tree_rank8(const int32_t *t_flash, uint8_t n, int32_t k) {
    uint8_t lo = 0;
    while (n > 8u) {
        uint8_t half = (uint8_t)(n >> 1);
        if (mlrn_flash_i32(&t_flash[(uint8_t)(lo + half)]) < k) {
            lo = (uint8_t)((unsigned)lo + (unsigned)half + 1u);
            n = (uint8_t)((unsigned)n - (unsigned)half - 1u);
        } else {
            n = half;
        }
    }
    while (n > 0u && mlrn_flash_i32(&t_flash[lo]) < k) {
        lo++;
        n--;
    }
    return lo;
}

/* First index of the maximum of v[0..n-1] (forest sums of fixed-point leaf probabilities). */
static inline int32_t mlrn_tree_argmax_u32(const uint32_t *v, uint16_t n) {
    int32_t best = 0;
    uint16_t i;
    for (i = 1; i < n; i++)
        if (v[i] > v[best]) best = (int32_t)i;
    return best;
}

MLRN_FP_EXACT_END

#endif /* MLRN_TREE_H */
