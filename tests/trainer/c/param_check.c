/* mlrn_smo_check_params against mlrn_smo_init: for each case, one parameter of the defaults made wrong
 * (in the order of MLRN_SMO_PARAM_*), print "case code status text": the code the check returns, the
 * status mlrn_smo_init returns for the same parameters (MLRN_ERR_ARG exactly when the code is not OK) and
 * mlrn_smo_param_str of the code. The last case is the defaults (code 0, MLRN_OK). Read by
 * tests/trainer/test_param_check.py. MLRN_KERNELS leaves the sigmoid kernel out, so that "a kernel not
 * compiled in" is a case too. */
#define MLRN_KERNELS ((1u << MLRN_KERNEL_LINEAR) | (1u << MLRN_KERNEL_RBF) | (1u << MLRN_KERNEL_POLY))
#include <math.h>
#include <stdio.h>
#define MLRN_SMO_SOLVERS 0x7u   /* every solver, dcd too (the default leaves dcd out) */
#include "mlrn_smo.h"

#define CAPACITY 4
#define D 2

static float data[CAPACITY * D];
static uint8_t labels[CAPACITY];
static float work[256];

static void report(const char *name, const mlrn_smo_params *p, uint8_t n_classes) {
    mlrn_store st;
    mlrn_smo smo;
    mlrn_status status;
    uint8_t code;
    if (mlrn_store_init(&st, data, sizeof data, labels, sizeof labels, CAPACITY, D, MLRN_STORAGE_F32, n_classes,
                        NULL, NULL) != MLRN_OK) {
        printf("%s store-refused\n", name);
        return;
    }
    code = mlrn_smo_check_params(p, n_classes);
    status = p ? mlrn_smo_init(&smo, p, &st, work, sizeof work / sizeof work[0]) : MLRN_ERR_ARG;
    printf("%s %u %d %s\n", name, (unsigned)code, (int)status, mlrn_smo_param_str(code));
}

int main(void) {
    const float inf = (float)INFINITY, nan = (float)NAN;
    mlrn_smo_params p;
#define CASE(NAME, ASSIGN) p = mlrn_smo_default_params(); p.ASSIGN; report(NAME, &p, 2);
    report("params", NULL, 2);
    CASE("C", C = 0.0f)
    CASE("C_inf", C = inf)
    CASE("tol", tol = 0.0f)
    CASE("tol_nan", tol = nan)
    CASE("alpha_tol", alpha_tol = -1e-3f)
    CASE("kernel", kernel.type = 9u)
    CASE("kernel_not_compiled", kernel.type = MLRN_KERNEL_SIGMOID)
    CASE("solver", solver = 3u)
    CASE("multiclass", multiclass = 2u)
    CASE("gamma", kernel.gamma = inf)
    CASE("coef0", kernel.coef0 = nan)
    p = mlrn_smo_default_params();
    report("n_classes", &p, MLRN_SMO_MAX_CLASSES + 1);
    CASE("max_iter", max_iter = 0u)
    p = mlrn_smo_default_params();
    p.solver = MLRN_SMO_SOLVER_SIMPLIFIED;
    p.max_passes = 0u;
    report("max_passes", &p, 2);
    CASE("max_passes_wss2", max_passes = 0u)   /* the wss2 solver does not use it: accepted */
    p = mlrn_smo_default_params();               /* dcd trains the linear kernel only */
    p.solver = MLRN_SMO_SOLVER_DCD;
    p.kernel.type = MLRN_KERNEL_RBF;
    report("solver_dcd_rbf", &p, 2);
    CASE("loss", loss = 2u)
    CASE("loss_wss2", loss = MLRN_SMO_LOSS_SQUARED_HINGE)   /* squared hinge needs dcd */
    p = mlrn_smo_default_params();               /* squared hinge: D_ii = 0.5 / C must be finite */
    p.solver = MLRN_SMO_SOLVER_DCD;
    p.loss = MLRN_SMO_LOSS_SQUARED_HINGE;
    p.C = 1e-45f;
    report("C_squared_hinge_tiny", &p, 2);
    p.C = 1.0f;
    report("dcd_squared_hinge", &p, 2);          /* accepted */
    p.loss = MLRN_SMO_LOSS_HINGE;
    p.C = 1e-45f;
    report("dcd_hinge_tiny_C", &p, 2);           /* accepted: hinge has no 1/C */
    p = mlrn_smo_default_params();
    p.C = 0.0f;
    p.max_iter = 0u;
    report("C_and_max_iter", &p, 2);            /* the first in the order is named */
    p = mlrn_smo_default_params();
    report("defaults", &p, 2);
    printf("unknown %s\n", mlrn_smo_param_str(200u));
    return 0;
}
