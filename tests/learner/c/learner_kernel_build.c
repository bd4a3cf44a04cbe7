/* A kernel learner (MLRN_LEARNER_KERNEL rbf, int8 storage) built by hand, as an application would: the snapshot's
 * buffers come with MLRN_LEARNER_DEFINE_STORAGE; init refuses parameters of another kernel; an XOR concept (which no
 * linear model separates) is learned and predicted from the snapshot. With -DLRN_TRY_PERSIST=1 the program calls
 * mlrn_learner_save: a kernel build must not compile then (tests/learner/test_kernel_learner.py reads the error).
 * Prints "KERNEL ..." and "OK" when every check passed. */
#include <stdio.h>
#include "mlrn_kernel.h"   /* MLRN_KERNEL_RBF, for the switch below */
#define MLRN_LEARNER_KERNEL MLRN_KERNEL_RBF
#include "mlrn_learner.h"

#define D 2
#define NC 2
#define TRAIN_CAP 24
#define HOLD_CAP 8
static const float scale[D] MLRN_FLASH = {0.0158f, 0.0158f};   /* [-2, 2] over int8 codes */
static const float offset[D] MLRN_FLASH = {0.0f, 0.0f};
MLRN_LEARNER_DEFINE_STORAGE(lk, D, NC, TRAIN_CAP, HOLD_CAP, 4, 10, int8_t, MLRN_STORAGE_I8, scale, offset)

static int failures;
static void check(int ok, const char *what) {
    if (!ok) { printf("FAIL %s\n", what); failures++; }
}

int main(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    const float mid[D] = {0.5f, 0.5f};
    int32_t i, wrong = 0;
    uint32_t r;
    check(p.svm.kernel.type == MLRN_KERNEL_RBF, "default params carry the build's kernel");
    p.window = 10u;
    p.svm.kernel.type = MLRN_KERNEL_LINEAR;
    check(lk_init(&p) == MLRN_ERR_ARG, "a linear parameter set is refused by an rbf build");
    p = mlrn_learner_default_params();
    p.svm.kernel.gamma = 2.0f;
    p.svm.C = 10.0f;
    p.window = 10u;   /* the ring declared above */
    check(lk_init(&p) == MLRN_OK, "init");
    check(mlrn_learner_predict(&lk, mid) == MLRN_ERR_UNTRAINED, "no model yet");
    for (r = 0; r < 200u; r++) {   /* XOR of the signs, points at +-1 with a small deterministic jitter */
        float x[D];
        uint8_t y, c = (uint8_t)((r + r / 4u) & 3u);   /* every quadrant reaches the held-out store (every 4th) */
        x[0] = (c & 1u) ? 1.0f : -1.0f;
        x[1] = (c & 2u) ? 1.0f : -1.0f;
        x[0] = x[0] + 0.01f * (float)(r % 7u);
        x[1] = x[1] - 0.01f * (float)(r % 5u);
        y = (uint8_t)(((c & 1u) != 0u) != ((c & 2u) != 0u));
        check(mlrn_learner_feedback(&lk, x, y) >= 0, "feedback");
        check(mlrn_learner_step(&lk, 0) == MLRN_OK, "step");
    }
    check(lk.has_model && lk.n_sv > 0u && lk.n_sv <= TRAIN_CAP, "a snapshot within the training capacity");
    for (i = 0; i < 4; i++) {
        float x[D];
        x[0] = (i & 1) ? 1.0f : -1.0f;
        x[1] = (i & 2) ? 1.0f : -1.0f;
        if (mlrn_learner_predict(&lk, x) != (((i & 1) != 0) != ((i & 2) != 0))) wrong++;
    }
    check(wrong == 0, "XOR learned");
#if defined(LRN_TRY_PERSIST) && LRN_TRY_PERSIST
    (void)mlrn_learner_save(&lk, 0);
#endif
    printf("KERNEL n_sv=%u accepted=%lu rollbacks=%lu wrong=%ld\n", (unsigned)lk.n_sv, (unsigned long)lk.n_accepted,
           (unsigned long)lk.n_rollbacks, (long)wrong);
    if (failures) return 1;
    printf("OK\n");
    return 0;
}
