/* Reads float32 values on stdin, writes the bits of mlrn_math_expf, mlrn_math_exp2_16 and mlrn_math_tanhf of each
 * (test_runtime_math.py compares them with the numpy mirror, bit for bit). */
#include <stdio.h>
#include "mlrn_math.h"

int main(void) {
    float v;
    while (fread(&v, sizeof v, 1, stdin) == 1) {
        float out[3];
        out[0] = mlrn_math_expf(v);
        out[1] = mlrn_math_exp2_16(v);
        out[2] = mlrn_math_tanhf(v);
        if (fwrite(out, sizeof out, 1, stdout) != 1) return 1;
    }
    return 0;
}
