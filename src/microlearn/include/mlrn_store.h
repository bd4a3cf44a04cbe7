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

typedef struct {
    void *data;              /* capacity * d elements of the storage type */
    uint8_t *labels;         /* capacity class indices */
    const float *scale;      /* d entries in MLRN_FLASH, quantised storage only */
    const float *offset;     /* d entries in MLRN_FLASH */
    uint16_t capacity;
    uint16_t n;              /* samples held */
    uint16_t d;
    uint8_t storage;
    uint8_t n_classes;
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
    if (!s || !data || !labels || d == 0 || capacity == 0 || n_classes < 2 || storage > MLRN_STORAGE_I8)
        return MLRN_ERR_ARG;
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
    if (idx >= s->capacity) return MLRN_ERR_ARG;
    if (s->storage == MLRN_STORAGE_F32) {
        float *row = (float *)s->data + (size_t)idx * s->d;
        for (k = 0; k < s->d; k++) row[k] = x[k];
    } else {
        float qmax = s->storage == MLRN_STORAGE_I16 ? 32767.0f : 127.0f;
        for (k = 0; k < s->d; k++) {
            float v = (x[k] - mlrn_flash_f32(&s->offset[k])) / mlrn_flash_f32(&s->scale[k]);
            int32_t q;
            if (!(v >= -qmax - 1.0f)) v = -qmax - 1.0f;   /* also catches NaN from a zero scale */
            if (v > qmax) v = qmax;
            q = mlrn_math_floor_i32(v + 0.5f);
            if (s->storage == MLRN_STORAGE_I16) ((int16_t *)s->data)[(size_t)idx * s->d + k] = (int16_t)q;
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

/* Sample idx as float32. float32 storage returns a pointer into the store (no copy);
 * quantised storage dequantises into `scratch` (d floats): x = q * scale + offset. */
MLRN_HOT const float *mlrn_store_row(const mlrn_store *s, uint16_t idx, float *scratch) {
    uint16_t k;
    size_t base = (size_t)idx * s->d;
    if (s->storage == MLRN_STORAGE_F32) return (const float *)s->data + base;
    if (s->storage == MLRN_STORAGE_I16) {
        const int16_t *q = (const int16_t *)s->data + base;
        for (k = 0; k < s->d; k++) scratch[k] = (float)q[k] * mlrn_flash_f32(&s->scale[k]) + mlrn_flash_f32(&s->offset[k]);
    } else {
        const int8_t *q = (const int8_t *)s->data + base;
        for (k = 0; k < s->d; k++) scratch[k] = (float)q[k] * mlrn_flash_f32(&s->scale[k]) + mlrn_flash_f32(&s->offset[k]);
    }
    return scratch;
}

MLRN_FP_EXACT_END

#endif /* MLRN_STORE_H */
