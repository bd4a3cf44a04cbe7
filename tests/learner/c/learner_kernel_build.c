/* A kernel learner (MLRN_LEARNER_KERNEL rbf, int8 storage) built by hand, as an application would: the snapshot's
 * buffers come with MLRN_LEARNER_DEFINE_STORAGE; init refuses parameters of another kernel; an XOR concept (which no
 * linear model separates) is learned and predicted from the snapshot. Persistence of the snapshot: save and
 * save_all then load into a fresh learner give the same snapshot and predictions; a learner of another gamma
 * refuses the payload (MLRN_ERR_ARG, nothing changed); a save cut by a power failure at every byte leaves a
 * load that returns the old snapshot or the new one, never a mix. Prints "KERNEL ..." and "OK" when every check
 * passed. */
#include <stdio.h>
#include "mlrn_kernel.h"   /* MLRN_KERNEL_RBF, for the switch below */
#define MLRN_LEARNER_KERNEL MLRN_KERNEL_RBF
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"

#define D 2
#define NC 2
#define TRAIN_CAP 24
#define HOLD_CAP 8
static const float scale[D] MLRN_FLASH = {0.0158f, 0.0158f};   /* [-2, 2] over int8 codes */
static const float offset[D] MLRN_FLASH = {0.0f, 0.0f};
MLRN_LEARNER_DEFINE_STORAGE(lk, D, NC, TRAIN_CAP, HOLD_CAP, 4, 10, int8_t, MLRN_STORAGE_I8, scale, offset)
MLRN_LEARNER_DEFINE_STORAGE(lk2, D, NC, TRAIN_CAP, HOLD_CAP, 4, 10, int8_t, MLRN_STORAGE_I8, scale, offset)

static int failures;
static uint8_t nv_mem[1024];

/* FNV-1a over the snapshot (rows, classes, coefficient row, b) and n_sv: "the same model" */
static uint32_t hash_of(const mlrn_learner *l) {
    uint32_t h = 2166136261u, k;
    const uint8_t *p;
    if (!l->has_model) return 0u;
    p = (const uint8_t *)l->sv_x;
    for (k = 0; k < (uint32_t)l->n_sv * D; k++) h = (h ^ p[k]) * 16777619u;
    for (k = 0; k < l->n_sv; k++) h = (h ^ l->sv_y[k]) * 16777619u;
    p = (const uint8_t *)l->cur_w;
    for (k = 0; k < 4u * l->n_sv; k++) h = (h ^ p[k]) * 16777619u;
    p = (const uint8_t *)l->cur_b;
    for (k = 0; k < 4u; k++) h = (h ^ p[k]) * 16777619u;
    return (h ^ l->n_sv) * 16777619u;
}
#define snap_hash() hash_of(&lk)

/* XOR rows, r-th of the stream (every quadrant reaches the held-out store, every 4th stored row) */
static uint8_t xor_row(uint32_t r, float *x) {
    uint8_t c = (uint8_t)((r + r / 4u) & 3u);
    x[0] = ((c & 1u) ? 1.0f : -1.0f) + 0.01f * (float)(r % 7u);
    x[1] = ((c & 2u) ? 1.0f : -1.0f) - 0.01f * (float)(r % 5u);
    return (uint8_t)(((c & 1u) != 0u) != ((c & 2u) != 0u));
}
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
        uint8_t y = xor_row(r, x);
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
    {   /* persistence: save / save_all, load into a fresh learner; another gamma refuses; power cuts */
        mlrn_persist_ram ram;
        mlrn_storage st;
        static uint8_t img[sizeof nv_mem];
        uint32_t h0 = snap_hash(), h1, cut, cuts = 0, bad = 0, n0 = lk.n_sv, k;
        uint8_t kind;
        for (kind = 0; kind < 2u; kind++) {
            mlrn_persist_ram_init(&ram, nv_mem, sizeof nv_mem, 0xFF);
            mlrn_persist_ram_bind(&ram, &st);
            check((kind ? mlrn_learner_save_all(&lk, &st) : mlrn_learner_save(&lk, &st)) == MLRN_OK, "save");
            check(lk_init(&p) == MLRN_OK && !lk.has_model, "a fresh learner");
            check(mlrn_learner_load(&lk, &st) == MLRN_OK, "load");
            check(lk.has_model && lk.n_sv == n0 && snap_hash() == h0, "the same snapshot after load");
            p.svm.kernel.gamma = 3.0f;
            check(lk_init(&p) == MLRN_OK, "init, gamma 3");
            check(mlrn_learner_load(&lk, &st) == MLRN_ERR_ARG && !lk.has_model, "another gamma refuses the payload");
            p.svm.kernel.gamma = 2.0f;
            check(lk_init(&p) == MLRN_OK && mlrn_learner_load(&lk, &st) == MLRN_OK && snap_hash() == h0, "reload");
        }
        /* a second model, saved over the first with a cut after every byte */
        mlrn_persist_ram_init(&ram, nv_mem, sizeof nv_mem, 0xFF);
        mlrn_persist_ram_bind(&ram, &st);
        check(mlrn_learner_save(&lk, &st) == MLRN_OK, "save 1");
        for (r = 200u; r < 400u; r++) {
            float x[D];
            uint8_t y = (uint8_t)(xor_row(r, x) ^ 1u);   /* the labels swapped: a new concept, a new snapshot */
            (void)mlrn_learner_feedback(&lk, x, y);
            (void)mlrn_learner_step(&lk, 0);
        }
        h1 = snap_hash();
        check(h1 != h0, "a different second model");
        for (k = 0; k < sizeof nv_mem; k++) img[k] = nv_mem[k];   /* the storage holding model 1 */
        for (cut = 1u;; cut++) {   /* lk keeps model 2; each cut save is loaded by another learner, lk2 */
            mlrn_status sv;
            for (k = 0; k < sizeof nv_mem; k++) nv_mem[k] = img[k];
            mlrn_persist_ram_cut_after(&ram, cut, MLRN_PERSIST_RAM_CUT_GARBAGE);
            sv = mlrn_learner_save(&lk, &st);
            mlrn_persist_ram_power_on(&ram);
            check(lk2_init(&p) == MLRN_OK && mlrn_learner_load(&lk2, &st) == MLRN_OK, "load after the cut");
            if (hash_of(&lk2) != h0 && hash_of(&lk2) != h1) bad++;
            if (sv == MLRN_OK) break;
            cuts++;
        }
        check(hash_of(&lk2) == h1, "the completed save holds the new model");
        check(bad == 0u && cuts > 50u, "power cuts: the old snapshot or the new one");
        printf("PERSIST cuts=%lu bad=%lu\n", (unsigned long)cuts, (unsigned long)bad);
    }
    printf("KERNEL n_sv=%u accepted=%lu rollbacks=%lu wrong=%ld\n", (unsigned)lk.n_sv, (unsigned long)lk.n_accepted,
           (unsigned long)lk.n_rollbacks, (long)wrong);
    if (failures) return 1;
    printf("OK\n");
    return 0;
}
