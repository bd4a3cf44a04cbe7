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

#endif /* MLRN_TREE_H */
