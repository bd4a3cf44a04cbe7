/* mlrn.h: common definitions of the microlearn C runtime.
 *
 * Header-only: every function is `static inline`; include what you use.
 * No malloc anywhere: callers own every buffer (see the *_buffer_size() functions).
 * Floating-point contraction is off in the runtime's own code whatever the build's flags (see
 * MLRN_FP_EXACT_BEGIN): the Python reference reproduces float32 results bit for bit only if the
 * compiler does not fuse multiply-adds. */
#ifndef MLRN_H
#define MLRN_H

#include <stddef.h>
#include <stdint.h>

/* Exact float32 arithmetic in any build. gcc compiles GNU C and C++ (Arduino, PlatformIO, ESP-IDF:
 * -std=gnu11 / gnu++11) with -ffp-contract=fast, which fuses a*b + c into one fused multiply-add on
 * FPUs that have it (Cortex-M4F/M7, ESP32, RISC-V F): one rounding instead of two, so the device no
 * longer computes what the Python reference computes. Every runtime header, and every header
 * microlearn generates, wraps its code in MLRN_FP_EXACT_BEGIN / MLRN_FP_EXACT_END: contraction is
 * off inside, and the user's own code keeps the build's setting.
 * gcc contracts only where the target has a fused multiply-add instruction, and says so with
 * __FP_FAST_FMAF; there the guard is push_options / optimize("fp-contract=off") / pop_options. gcc does
 * not inline a function into a caller compiled with other optimisation options, so with the guard the
 * runtime's functions are called, not inlined, from code outside it (docs/targets.md gives the measured
 * cost); without fused multiply-add (AVR, Cortex-M0/M3, soft float) there is nothing to contract and
 * nothing changes. clang: float_control(push) / fp contract(off) / float_control(pop), honoured under
 * clang's default -ffp-contract=on (clang's -ffp-contract=fast ignores all pragmas by design).
 * -DMLRN_FP_CONTRACT_ALLOWED turns the guard off (faster on an FPU, not bit-exact with Python). */
#if defined(MLRN_FP_CONTRACT_ALLOWED)
#define MLRN_FP_EXACT_BEGIN
#define MLRN_FP_EXACT_END
#elif defined(__clang__)
#define MLRN_FP_EXACT_BEGIN _Pragma("float_control(push)") _Pragma("clang fp contract(off)")
#define MLRN_FP_EXACT_END _Pragma("float_control(pop)")
#elif defined(__GNUC__) && defined(__FP_FAST_FMAF)
#define MLRN_FP_EXACT_BEGIN _Pragma("GCC push_options") _Pragma("GCC optimize(\"fp-contract=off\")")
#define MLRN_FP_EXACT_END _Pragma("GCC pop_options")
#elif defined(__GNUC__)
#define MLRN_FP_EXACT_BEGIN
#define MLRN_FP_EXACT_END
#else
/* C99's own switch (7.12.2); it holds to the end of the translation unit. */
#define MLRN_FP_EXACT_BEGIN _Pragma("STDC FP_CONTRACT OFF")
#define MLRN_FP_EXACT_END
#endif

MLRN_FP_EXACT_BEGIN

/* Bumped when generated headers would no longer work with this runtime. */
#define MLRN_RUNTIME_VERSION 4

/* Status codes. >= 0 is success (possibly with a remark), < 0 an error. */
typedef int8_t mlrn_status;
#define MLRN_OK 0
#define MLRN_MAX_ITER 1          /* training stopped at max_iter before meeting the tolerance */
#define MLRN_RUNNING 2           /* time-sliced training: call the step function again */
#define MLRN_ERR_ARG (-1)        /* NULL pointer, bad parameter (C <= 0, unknown kernel...) */
#define MLRN_ERR_FULL (-2)       /* sample store at capacity */
#define MLRN_ERR_NAN (-3)        /* a NaN or infinite value in the input */
#define MLRN_ERR_UNTRAINED (-4)  /* predict/eval before a successful train */
#define MLRN_ERR_ONE_CLASS (-5)  /* a (sub-)problem has samples of one class only */
#define MLRN_ERR_LABEL (-6)      /* label outside 0..n_classes-1 */
#define MLRN_ERR_BUFFER (-7)     /* caller's buffer too small for the requested capacity */
#define MLRN_ERR_EMPTY (-8)      /* no samples */
#define MLRN_ERR_CRC (-9)        /* stored data failed its integrity check */
#define MLRN_ERR_IO (-10)        /* a storage callback failed */

/* Constant tables: in flash on AVR (PROGMEM, read with accessors), plain const elsewhere
 * (ARM and ESP32 keep `static const` in flash already). */
#if defined(__AVR__)
#include <avr/pgmspace.h>
#define MLRN_FLASH PROGMEM
#define mlrn_flash_f32(p) pgm_read_float(p)
#define mlrn_flash_u8(p) pgm_read_byte(p)
#define mlrn_flash_i8(p) ((int8_t)pgm_read_byte(p))
#define mlrn_flash_u16(p) pgm_read_word(p)
#define mlrn_flash_i16(p) ((int16_t)pgm_read_word(p))
#define mlrn_flash_u32(p) pgm_read_dword(p)
#define mlrn_flash_i32(p) ((int32_t)pgm_read_dword(p))
#define mlrn_flash_ptr(p) ((const void *)(uintptr_t)pgm_read_word(p))
#else
#define MLRN_FLASH
#define mlrn_flash_f32(p) (*(p))
#define mlrn_flash_u8(p) (*(p))
#define mlrn_flash_i8(p) (*(p))
#define mlrn_flash_u16(p) (*(p))
#define mlrn_flash_i16(p) (*(p))
#define mlrn_flash_u32(p) (*(p))
#define mlrn_flash_i32(p) (*(p))
#define mlrn_flash_ptr(p) ((const void *)*(p))
#endif

/* One line of English for a status code, for logs and serial consoles (the texts of
 * microlearn.core.vocab.STATUSES; any other value gives "unknown status"). Nothing is compiled in unless
 * it is called: the function is static inline and the texts are local to it. On AVR the texts stay in
 * flash (MLRN_FLASH: 470 bytes of AVR flash when used, no SRAM) and the pointer is a flash address: print it
 * with the _P functions (printf_P("%S", ...), strcpy_P, or Arduino's (const __FlashStringHelper *)).
 * -DMLRN_NO_STATUS_STR leaves it out altogether. */
#ifndef MLRN_NO_STATUS_STR
static inline const char *mlrn_status_str(mlrn_status s) {
    static const char t_io[] MLRN_FLASH = "a storage callback failed";
    static const char t_crc[] MLRN_FLASH = "stored data failed its integrity check";
    static const char t_empty[] MLRN_FLASH = "no samples";
    static const char t_buffer[] MLRN_FLASH = "buffer too small for the requested capacity";
    static const char t_label[] MLRN_FLASH = "label outside 0..n_classes-1";
    static const char t_one_class[] MLRN_FLASH = "a sub-problem has samples of one class only";
    static const char t_untrained[] MLRN_FLASH = "no trained model yet";
    static const char t_nan[] MLRN_FLASH = "NaN or infinite value in the input";
    static const char t_full[] MLRN_FLASH = "sample store at capacity";
    static const char t_arg[] MLRN_FLASH = "bad argument: NULL pointer or bad parameter";
    static const char t_ok[] MLRN_FLASH = "ok";
    static const char t_max_iter[] MLRN_FLASH = "stopped at max_iter before meeting the tolerance";
    static const char t_running[] MLRN_FLASH = "running: call the step function again";
    static const char t_unknown[] MLRN_FLASH = "unknown status";
    /* By code from MLRN_ERR_IO up: an explicit table in flash, not a switch, which gcc turns into a
     * pointer table in .rodata, that is SRAM on AVR (26 bytes measured). */
    static const char *const texts[] MLRN_FLASH = {t_io, t_crc, t_empty, t_buffer, t_label, t_one_class,
                                                   t_untrained, t_nan, t_full, t_arg, t_ok, t_max_iter,
                                                   t_running};
    if (s < MLRN_ERR_IO || s > MLRN_RUNNING) return t_unknown;
    return (const char *)mlrn_flash_ptr(&texts[s - MLRN_ERR_IO]);
}
#endif

/* Tiny helpers on the trainer's per-sample paths: inlined even at -Os, where a call would cost
 * more than the helper (measured on Cortex-M4F: 215k -> 154k instructions for Iris-100). Not on
 * AVR: there soft-float dominates (under 1% gained) and the merged frames cost ~100 B of stack. */
#if defined(__GNUC__) && !defined(__AVR__)
#define MLRN_HOT static inline __attribute__((always_inline))
#else
#define MLRN_HOT static inline
#endif

/* Targets whose float arithmetic is a library call (AVR; ARM without an FPU): there, skipping a
 * multiplication by an exact +-1 is worth a compare; with an FPU it is not. */
#if defined(__AVR__) || defined(__SOFTFP__)
#define MLRN_SOFT_FLOAT 1
#else
#define MLRN_SOFT_FLOAT 0
#endif

/* Compile-time checks usable from C99 and C++. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define MLRN_STATIC_ASSERT(cond, msg) static_assert(cond, #msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define MLRN_STATIC_ASSERT(cond, msg) _Static_assert(cond, #msg)
#else
#define MLRN_STATIC_ASSERT(cond, msg) typedef char mlrn_static_assert_##msg[(cond) ? 1 : -1]
#endif

/* Finite test without libm (isfinite is a macro C++ headers may hide): exponent bits not all ones. */
static inline int mlrn_isfinite(float x) {
    union { float f; uint32_t u; } c;
    c.f = x;
    return (c.u & 0x7f800000u) != 0x7f800000u;
}

MLRN_FP_EXACT_END

#endif /* MLRN_H */
