/* mlrn_smo_work_floats over the grid of trainer configurations in work_cases.h (written by
 * test_trainer_export.py), and for the linear wss2 ones also its constant-expression twin
 * MLRN_SMO_WORK_FLOATS_LINEAR (the size of static arrays): one value per line, capacity 33, 7 features. */
#include <stdio.h>
#include "mlrn_smo.h"

typedef struct {
    uint8_t kernel, solver, multiclass, n_classes, storage;
    uint16_t linear_n_sub;   /* sub-problems of a linear wss2 trainer (the twin is printed too); 0 otherwise */
} work_case;

#include "work_cases.h"   /* static const work_case CASES[] */

int main(void) {
    size_t i;
    for (i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        mlrn_smo_params p = mlrn_smo_default_params();
        p.kernel.type = CASES[i].kernel;
        p.solver = CASES[i].solver;
        p.multiclass = CASES[i].multiclass;
        printf("%u\n", (unsigned)mlrn_smo_work_floats(33, 7, CASES[i].n_classes, CASES[i].storage, &p));
        if (CASES[i].linear_n_sub)
            printf("%u\n", (unsigned)MLRN_SMO_WORK_FLOATS_LINEAR(33, 7, CASES[i].linear_n_sub, CASES[i].storage));
    }
    return 0;
}
