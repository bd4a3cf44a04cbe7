/* linear wss2 reports MLRN_OK with a NaN weight vector */
#include <float.h>
#include <stdio.h>
#include "mlrn_smo.h"
int main(void) {
    float data[2], work[16], x = 1e36f;
    uint8_t labels[2];
    uint32_t it = 0;
    mlrn_store st;
    mlrn_smo svm;
    mlrn_smo_params p = mlrn_smo_default_params();   /* linear kernel, wss2 */
    mlrn_status s;
    p.C = 1000.0f;
    mlrn_store_init(&st, data, sizeof data, labels, sizeof labels, 2, 1, MLRN_STORAGE_F32, 2, 0, 0);
    mlrn_store_add(&st, &x, 0);
    mlrn_store_add(&st, &x, 1);   /* the same point with the other label */
    mlrn_smo_init(&svm, &p, &st, work, 16);
    s = mlrn_smo_train(&svm, &it);
    printf("status %d iters %u w %g b %g predict %d\n", s, (unsigned)it, (double)svm.w[0], (double)svm.b[0],
           (int)mlrn_smo_predict(&svm, &x));
    return s >= 0 && !mlrn_isfinite(svm.w[0]);
}
