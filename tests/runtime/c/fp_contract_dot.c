/* Two multiply-adds side by side: the runtime's dot product (inside MLRN_FP_EXACT_BEGIN / _END) and the
 * user's own a*b + c (outside). Built for a host CPU with FMA under the compiler's contracting mode, the
 * user's expression fuses and the runtime's does not (tests/runtime/test_fp_contract.py reads the object
 * file's instructions). */
#include "mlrn_kernel.h"

float runtime_dot(const float *a, const float *b, uint16_t d);
float user_muladd(float a, float b, float c);

float runtime_dot(const float *a, const float *b, uint16_t d) { return mlrn_kernel_dot(a, b, d); }
float user_muladd(float a, float b, float c) { return a * b + c; }
