/* mlrn_store.h: the training sample store, filled one sample at a time (as sensors deliver them).
 *
 * Samples are kept as float32, or as int16/int8 with a per-feature affine map
 * x = q * scale[k] + offset[k] to fit small SRAM; arithmetic stays float.
 * Quantisation, in this exact order (mirrored by the Python reference):
 *     v = (x - offset[k]) / scale[k];  clamp v to [qmin, qmax];  q = floor(v + 0.5)
 * scale/offset are const tables (MLRN_FLASH: program memory on AVR). */
#ifndef MLRN_STORE_H
#define MLRN_STORE_H
#include "mlrn.h"
#include "mlrn_math.h"

MLRN_FP_EXACT_BEGIN

#define MLRN_STORAGE_F32 0
#define MLRN_STORAGE_I16 1
#define MLRN_STORAGE_I8 2

/* MLRN_STORE_TYPE: the one storage type of every store in the build (MLRN_STORAGE_F32, _I16 or _I8), a
 * compile-time choice like MLRN_STORE_SOURCE below, so that the other types' paths compile out: a float32
 * build carries no quantising, dequantising or folded-code loops, an int8 build no int16 ones (on the
 * ATmega328P that is hundreds of bytes of soft-float code: docs/planner.md gives the measured figures). A store
 * of another type is refused (mlrn_store_init*: MLRN_ERR_ARG). Default MLRN_STORE_ANY: the type is chosen at
 * run time by mlrn_store_init's argument (hand-written code mixing types). Generated trainers, learners and
 * sketches define it from their configuration; define it before the first microlearn include. */
#define MLRN_STORE_ANY 255
#ifndef MLRN_STORE_TYPE
#define MLRN_STORE_TYPE MLRN_STORE_ANY
#endif
#if MLRN_STORE_TYPE != MLRN_STORE_ANY && MLRN_STORE_TYPE != MLRN_STORAGE_F32 && \
    MLRN_STORE_TYPE != MLRN_STORAGE_I16 && MLRN_STORE_TYPE != MLRN_STORAGE_I8
#error "MLRN_STORE_TYPE must be MLRN_STORAGE_F32 (0), MLRN_STORAGE_I16 (1), MLRN_STORAGE_I8 (2) or MLRN_STORE_ANY"
#endif
/* The storage type of store s: a constant in a build of one type (the compiler drops the others' branches). */
#if MLRN_STORE_TYPE == MLRN_STORE_ANY
#define MLRN_STORE_TYPE_OF(s) ((s)->storage)
#else
#define MLRN_STORE_TYPE_OF(s) ((uint8_t)MLRN_STORE_TYPE)
#endif

/* MLRN_STORE_SOURCE: where the samples live, a compile-time choice (as MLRN_SMO_SOLVERS is), so that a RAM
 * build compiles exactly the code it always did and pays nothing for the others:
 *  - MLRN_STORE_IN_RAM (default): caller-owned arrays filled by mlrn_store_add (sensors, a serial link).
 *  - MLRN_STORE_IN_FLASH: a read-only table of n rows and n labels in flash (MLRN_FLASH: PROGMEM on AVR, read
 *    with pgm_read_*; plain const in .rodata on ARM, RISC-V, Xtensa), given to mlrn_store_init_flash. The
 *    trainer copies the rows it works on into its scratch rows (part of its work array): SRAM holds no rows.
 *  - MLRN_STORE_IN_CALLBACK: the application's mlrn_store_read_fn reads sample i (its row of the storage
 *    type, and its label) from wherever it lives (external EEPROM, SPI flash, an SD card); only a buffer of two
 *    rows of codes (quantised storage, mlrn_store_codes_size) is in SRAM. A read that fails makes training
 *    (and prediction of kernel models) return the callback's status: never a crash.
 * Read-only stores (flash, callback) are not filled at run time: mlrn_store_init / _add / _set return
 * MLRN_ERR_ARG, and mlrn_smo_compact does not move kernel models' support vectors (MLRN_ERR_ARG).
 * Define it before the first microlearn include (a generated trainer header does, from its configuration);
 * the self-learning loop needs a RAM store. */
#define MLRN_STORE_IN_RAM 0
#define MLRN_STORE_IN_FLASH 1
#define MLRN_STORE_IN_CALLBACK 2
#ifndef MLRN_STORE_SOURCE
#define MLRN_STORE_SOURCE MLRN_STORE_IN_RAM
#endif
#if MLRN_STORE_SOURCE != MLRN_STORE_IN_RAM && MLRN_STORE_SOURCE != MLRN_STORE_IN_FLASH && \
    MLRN_STORE_SOURCE != MLRN_STORE_IN_CALLBACK
#error "MLRN_STORE_SOURCE must be MLRN_STORE_IN_RAM (0), MLRN_STORE_IN_FLASH (1) or MLRN_STORE_IN_CALLBACK (2)"
#endif
#define MLRN_STORE_READ_ONLY (MLRN_STORE_SOURCE != MLRN_STORE_IN_RAM)

#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
/* Reads sample i (< n): its d elements of the store's storage type (float, int16_t or int8_t codes, native
 * byte order) into `row`, and its class index into *label. `row` is NULL when only the label is wanted (the
 * solvers read every label at each iteration: make that cheap). Returns MLRN_OK, or an error status
 * (MLRN_ERR_IO for a failed transfer, say): training stops and returns it. A label >= n_classes is
 * MLRN_ERR_LABEL. Called many times per training iteration, from the training call only. */
typedef mlrn_status (*mlrn_store_read_fn)(void *ctx, uint16_t i, void *row, uint8_t *label);
#endif

typedef struct {
    void *data;              /* capacity * d elements of the storage type (flash: a MLRN_FLASH table; callback: 0) */
    uint8_t *labels;         /* capacity class indices (flash: a MLRN_FLASH table; callback: 0) */
    const float *scale;      /* d entries in MLRN_FLASH, quantised storage only */
    const float *offset;     /* d entries in MLRN_FLASH */
    uint16_t capacity;
    uint16_t n;              /* samples held */
    uint16_t d;
    uint8_t storage;
    uint8_t n_classes;
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
    mlrn_store_read_fn read;
    void *ctx;
    void *codes;             /* 2 rows of codes (quantised storage): mlrn_store_codes_size bytes */
    mlrn_status io;          /* MLRN_OK, or the first failed read's status (sticky until the next training) */
#endif
} mlrn_store;

static inline size_t mlrn_store_elem_size(uint8_t storage) {
    return storage == MLRN_STORAGE_F32 ? 4u : storage == MLRN_STORAGE_I16 ? 2u : 1u;
}

/* Bytes of the data array for `capacity` samples (the labels take `capacity` more bytes). */
static inline size_t mlrn_store_data_size(uint16_t capacity, uint16_t d, uint8_t storage) {
    return (size_t)capacity * d * mlrn_store_elem_size(storage);
}

static inline mlrn_status mlrn_store_init(mlrn_store *s, void *data, size_t data_size, uint8_t *labels,
                                          size_t labels_size, uint16_t capacity, uint16_t d, uint8_t storage,
                                          uint8_t n_classes, const float *scale, const float *offset) {
    if (MLRN_STORE_READ_ONLY) return MLRN_ERR_ARG;   /* see mlrn_store_init_flash / _callback */
    if (!s || !data || !labels || d == 0 || capacity == 0 || n_classes < 2 || storage > MLRN_STORAGE_I8)
        return MLRN_ERR_ARG;
#if MLRN_STORE_TYPE != MLRN_STORE_ANY
    if (storage != MLRN_STORE_TYPE) return MLRN_ERR_ARG;   /* this build compiled one type's code only */
#endif
    if (storage != MLRN_STORAGE_F32 && (!scale || !offset)) return MLRN_ERR_ARG;
    if (data_size < mlrn_store_data_size(capacity, d, storage) || labels_size < capacity) return MLRN_ERR_BUFFER;
    s->data = data;
    s->labels = labels;
    s->scale = scale;
    s->offset = offset;
    s->capacity = capacity;
    s->n = 0;
    s->d = d;
    s->storage = storage;
    s->n_classes = n_classes;
    return MLRN_OK;
}

static inline mlrn_status mlrn_store_check(const mlrn_store *s, const float *x, uint8_t label) {
    uint16_t k;
    if (!s || !x) return MLRN_ERR_ARG;
    if (label >= s->n_classes) return MLRN_ERR_LABEL;
    for (k = 0; k < s->d; k++)
        if (!mlrn_isfinite(x[k])) return MLRN_ERR_NAN;
    return MLRN_OK;
}

/* Writes sample `idx` (< capacity); the caller keeps n. Used by add and by replacement policies. */
static inline mlrn_status mlrn_store_set(mlrn_store *s, uint16_t idx, const float *x, uint8_t label) {
    uint16_t k;
    mlrn_status st = mlrn_store_check(s, x, label);
    if (st != MLRN_OK) return st;
    if (idx >= s->capacity || MLRN_STORE_READ_ONLY) return MLRN_ERR_ARG;
    if (MLRN_STORE_TYPE_OF(s) == MLRN_STORAGE_F32) {
        float *row = (float *)s->data + (size_t)idx * s->d;
        for (k = 0; k < s->d; k++) row[k] = x[k];
    } else {
        float qmax = MLRN_STORE_TYPE_OF(s) == MLRN_STORAGE_I16 ? 32767.0f : 127.0f;
        for (k = 0; k < s->d; k++) {
            float v = (x[k] - mlrn_flash_f32(&s->offset[k])) / mlrn_flash_f32(&s->scale[k]);
            int32_t q;
            if (!(v >= -qmax - 1.0f)) v = -qmax - 1.0f;   /* also catches NaN from a zero scale */
            if (v > qmax) v = qmax;
            q = mlrn_math_floor_i32(v + 0.5f);
            if (MLRN_STORE_TYPE_OF(s) == MLRN_STORAGE_I16) ((int16_t *)s->data)[(size_t)idx * s->d + k] = (int16_t)q;
            else ((int8_t *)s->data)[(size_t)idx * s->d + k] = (int8_t)q;
        }
    }
    s->labels[idx] = label;
    return MLRN_OK;
}

static inline mlrn_status mlrn_store_add(mlrn_store *s, const float *x, uint8_t label) {
    mlrn_status st;
    if (!s) return MLRN_ERR_ARG;
    if (s->n >= s->capacity) return MLRN_ERR_FULL;
    st = mlrn_store_set(s, s->n, x, label);
    if (st == MLRN_OK) s->n++;
    return st;
}

/* ---- read-only stores (MLRN_STORE_SOURCE) --------------------------------------------------------------- */

/* Bytes of the code buffer a callback store needs: two rows of int16/int8 codes (0 for float32, whose rows
 * the callback writes straight into the trainer's scratch rows). */
static inline size_t mlrn_store_codes_size(uint16_t d, uint8_t storage) {
    return storage == MLRN_STORAGE_F32 ? 0u : 2u * (size_t)d * mlrn_store_elem_size(storage);
}

static inline mlrn_status mlrn_store__init_ro(mlrn_store *s, uint16_t n, uint16_t d, uint8_t storage,
                                              uint8_t n_classes, const float *scale, const float *offset) {
    if (!s || d == 0 || n == 0 || n_classes < 2 || storage > MLRN_STORAGE_I8) return MLRN_ERR_ARG;
#if MLRN_STORE_TYPE != MLRN_STORE_ANY
    if (storage != MLRN_STORE_TYPE) return MLRN_ERR_ARG;
#endif
    if (storage != MLRN_STORAGE_F32 && (!scale || !offset)) return MLRN_ERR_ARG;
    s->scale = scale;
    s->offset = offset;
    s->capacity = n;
    s->n = n;
    s->d = d;
    s->storage = storage;
    s->n_classes = n_classes;
    return MLRN_OK;
}

#if MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
/* A store over n rows (row-major, d elements of the storage type each) and n labels, both MLRN_FLASH tables.
 * MLRN_ERR_LABEL if a label is >= n_classes. */
static inline mlrn_status mlrn_store_init_flash(mlrn_store *s, const void *rows, const uint8_t *labels, uint16_t n,
                                                uint16_t d, uint8_t storage, uint8_t n_classes, const float *scale,
                                                const float *offset) {
    uint16_t t;
    mlrn_status st;
    if (!rows || !labels) return MLRN_ERR_ARG;
    st = mlrn_store__init_ro(s, n, d, storage, n_classes, scale, offset);
    if (st != MLRN_OK) return st;
    for (t = 0; t < n; t++)
        if (mlrn_flash_u8(&labels[t]) >= n_classes) return MLRN_ERR_LABEL;
    s->data = (void *)(uintptr_t)rows;        /* never written: read-only stores refuse _add / _set */
    s->labels = (uint8_t *)(uintptr_t)labels;
    return MLRN_OK;
}
#endif

#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
/* A store over n samples read by `read` (see mlrn_store_read_fn) with `ctx`; codes: a buffer of
 * mlrn_store_codes_size(d, storage) bytes (may be NULL for float32). Reads nothing yet. */
static inline mlrn_status mlrn_store_init_callback(mlrn_store *s, mlrn_store_read_fn read, void *ctx, void *codes,
                                                   size_t codes_size, uint16_t n, uint16_t d, uint8_t storage,
                                                   uint8_t n_classes, const float *scale, const float *offset) {
    mlrn_status st;
    if (!read) return MLRN_ERR_ARG;
    st = mlrn_store__init_ro(s, n, d, storage, n_classes, scale, offset);
    if (st != MLRN_OK) return st;
    if (codes_size < mlrn_store_codes_size(d, storage) || (storage != MLRN_STORAGE_F32 && !codes))
        return MLRN_ERR_BUFFER;
    s->data = 0;
    s->labels = 0;
    s->read = read;
    s->ctx = ctx;
    s->codes = codes;
    s->io = MLRN_OK;
    return MLRN_OK;
}

/* One read through the callback; the first failure is kept in s->io (the store is the caller's, reached
 * through const pointers by the readers: the status is its one mutable field). */
static inline void mlrn_store__read(const mlrn_store *s, uint16_t t, void *row, uint8_t *label) {
    mlrn_status st = s->read(s->ctx, t, row, label);
    if (st == MLRN_OK && *label >= s->n_classes) st = MLRN_ERR_LABEL;
    if (st != MLRN_OK) {
        *label = 0;
        if (((mlrn_store *)(uintptr_t)s)->io == MLRN_OK) ((mlrn_store *)(uintptr_t)s)->io = st < 0 ? st : MLRN_ERR_IO;
    }
}
#endif

/* MLRN_OK, or the status of the first failed read of a callback store (constant MLRN_OK otherwise). */
static inline mlrn_status mlrn_store_status(const mlrn_store *s) {
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
    return s->io;
#else
    (void)s;
    return MLRN_OK;
#endif
}

/* Before a training: forget a previous failure (a callback store's reads may succeed again). */
static inline void mlrn_store_clear_status(mlrn_store *s) {
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
    s->io = MLRN_OK;
#else
    (void)s;
#endif
}

/* The class index of sample t. Always inlined (also on AVR, where MLRN_HOT is plain inline): in a RAM build
 * it must compile to the very load `s->labels[t]` it replaced. */
#if defined(__GNUC__)
#define MLRN_STORE__ACCESSOR static inline __attribute__((always_inline))
#else
#define MLRN_STORE__ACCESSOR static inline
#endif
MLRN_STORE__ACCESSOR uint8_t mlrn_store_label(const mlrn_store *s, uint16_t t) {
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_RAM
    return s->labels[t];
#elif MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
    return mlrn_flash_u8(&s->labels[t]);
#else
    uint8_t label;
    mlrn_store__read(s, t, 0, &label);
    return label;
#endif
}

/* The codes of sample t (int16/int8 storage; base = t * d, its first element), as MLRN_STORE_CODES16 / _CODES8
 * pointers read elementwise with
 * MLRN_STORE_Q16 / MLRN_STORE_Q8: in RAM and flash a pointer into the table (in flash a flash address, hence
 * the macros); a callback store reads them into its code buffer's row `slot` (0 or 1). */
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
MLRN_HOT const void *mlrn_store_codes(const mlrn_store *s, uint16_t t, uint8_t slot) {
    uint8_t label;
    void *dst = (uint8_t *)s->codes + (size_t)slot * s->d * mlrn_store_elem_size(MLRN_STORE_TYPE_OF(s));
    mlrn_store__read(s, t, dst, &label);
    return dst;
}
#define MLRN_STORE_CODES16(s, t, base, slot) ((const int16_t *)mlrn_store_codes((s), (t), (slot)))
#define MLRN_STORE_CODES8(s, t, base, slot) ((const int8_t *)mlrn_store_codes((s), (t), (slot)))
#else
#define MLRN_STORE_CODES16(s, t, base, slot) ((const int16_t *)(s)->data + (base))
#define MLRN_STORE_CODES8(s, t, base, slot) ((const int8_t *)(s)->data + (base))
#endif
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
#define MLRN_STORE_Q16(p) mlrn_flash_i16(p)
#define MLRN_STORE_Q8(p) mlrn_flash_i8(p)
#else
#define MLRN_STORE_Q16(p) (*(p))
#define MLRN_STORE_Q8(p) (*(p))
#endif

/* Sample idx as float32. float32 storage in RAM returns a pointer into the store (no copy); quantised storage
 * dequantises into `scratch` (d floats): x = q * scale + offset; a read-only store's float32 row is copied
 * into `scratch` (flash) or read into it (callback). */
MLRN_HOT const float *mlrn_store_row(const mlrn_store *s, uint16_t idx, float *scratch) {
    uint16_t k;
    size_t base = (size_t)idx * s->d;
    if (MLRN_STORE_TYPE_OF(s) == MLRN_STORAGE_F32) {
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_RAM
        return (const float *)s->data + base;
#elif MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
        const float *r = (const float *)s->data + base;
        for (k = 0; k < s->d; k++) scratch[k] = mlrn_flash_f32(&r[k]);
        return scratch;
#else
        uint8_t label;
        mlrn_store__read(s, idx, scratch, &label);
        return scratch;
#endif
    }
    (void)base;   /* a callback store reads into its code buffer instead */
    if (MLRN_STORE_TYPE_OF(s) == MLRN_STORAGE_I16) {
        const int16_t *q = MLRN_STORE_CODES16(s, idx, base, 0);
        for (k = 0; k < s->d; k++)
            scratch[k] = (float)MLRN_STORE_Q16(&q[k]) * mlrn_flash_f32(&s->scale[k]) + mlrn_flash_f32(&s->offset[k]);
    } else {
        const int8_t *q = MLRN_STORE_CODES8(s, idx, base, 0);
        for (k = 0; k < s->d; k++)
            scratch[k] = (float)MLRN_STORE_Q8(&q[k]) * mlrn_flash_f32(&s->scale[k]) + mlrn_flash_f32(&s->offset[k]);
    }
    return scratch;
}

MLRN_FP_EXACT_END

#endif /* MLRN_STORE_H */
