/* Unit checks of mlrn_learner.h: input validation, eviction policies, queue, rollback, persistence. */
#include <stdio.h>
#include <string.h>
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"

static int fails;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

MLRN_LEARNER_DEFINE(L, 2, 3, 6, 2, 2, 4)

static mlrn_learner_params base(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    p.holdout_every = 0; p.k_mistakes = 0; p.window = 0; p.store_policy = MLRN_LEARNER_STORE_ALL;
    return p;
}

static void fill(uint8_t lab0, int n, float v0) {
    int i;
    for (i = 0; i < n; i++) {
        float x[2]; x[0] = v0 + (float)i; x[1] = 0.0f;
        CHECK(mlrn_learner_feedback(&L, x, (uint8_t)((lab0 + i) % 2)) >= 0);
    }
}

int main(void) {
    mlrn_learner_params p;
    float x[2] = {1.0f, 2.0f}, nanv[2];
    int i;
    union { float f; uint32_t u; } nn; nn.u = 0x7fc00000u; nanv[0] = nn.f; nanv[1] = 0.0f;

    /* uninitialised / invalid input */
    memset(&L, 0, sizeof L);
    CHECK(mlrn_learner_predict(&L, x) == MLRN_ERR_ARG);
    CHECK(mlrn_learner_feedback(&L, x, 0) == MLRN_ERR_ARG);
    CHECK(mlrn_learner_step(&L, 0) == MLRN_ERR_ARG);
    CHECK(mlrn_learner_feedback(0, x, 0) == MLRN_ERR_ARG);
    p = base(); p.svm.kernel.type = MLRN_KERNEL_RBF;
    CHECK(L_init(&p) == MLRN_ERR_ARG);                    /* linear only */
    p = base(); p.holdout_every = 1;
    CHECK(L_init(&p) == MLRN_ERR_ARG);
    p = base(); p.window = 5;                             /* larger than the window buffer (4) */
    CHECK(L_init(&p) == MLRN_ERR_ARG);
    p = base();
    CHECK(L_init(&p) == MLRN_OK);
    CHECK(mlrn_learner_predict(&L, x) == MLRN_ERR_UNTRAINED);
    CHECK(mlrn_learner_feedback(&L, nanv, 0) == MLRN_ERR_NAN);
    CHECK(mlrn_learner_predict(&L, nanv) == MLRN_ERR_NAN);
    CHECK(mlrn_learner_feedback(&L, x, 3) == MLRN_ERR_LABEL);
    CHECK(L.n_feedback == 0 && L.train.n == 0);
    CHECK(mlrn_learner_request_train(0) == MLRN_ERR_ARG);

    /* an initial model (mlrn_learner_set_model): refused whole, or the current one, nothing else touched */
    {
        static const float w1[2] = {1.0f, 0.0f}, b1[1] = {-0.5f};       /* classes 0 and 2: x0 > 0.5 -> 2 */
        static const float w3[6] = {1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f}, b3[3] = {0.0f, 0.0f, 0.0f};
        static const uint8_t map02[2] = {0u, 2u}, map00[2] = {0u, 0u}, map03[2] = {0u, 3u}, map012[3] = {0u, 1u, 2u};
        float wn[2]; wn[0] = nn.f; wn[1] = 0.0f;
        CHECK(mlrn_learner_set_model(0, w1, b1, map02, 2) == MLRN_ERR_ARG);
        CHECK(mlrn_learner_set_model(&L, w1, b1, map02, 1) == MLRN_ERR_ARG);     /* one class */
        CHECK(mlrn_learner_set_model(&L, w3, b3, map012, 4) == MLRN_ERR_ARG);    /* more than n_classes */
        CHECK(mlrn_learner_set_model(&L, w1, b1, map00, 2) == MLRN_ERR_ARG);     /* not increasing */
        CHECK(mlrn_learner_set_model(&L, w1, b1, map03, 2) == MLRN_ERR_ARG);     /* class 3 of 3 */
        CHECK(mlrn_learner_set_model(&L, wn, b1, map02, 2) == MLRN_ERR_NAN);
        CHECK(mlrn_learner_predict(&L, x) == MLRN_ERR_UNTRAINED);              /* nothing changed */
        CHECK(mlrn_learner_set_model(&L, w1, b1, map02, 2) == MLRN_OK);
        x[0] = 1.0f; CHECK(mlrn_learner_predict(&L, x) == 2);
        x[0] = 0.0f; CHECK(mlrn_learner_predict(&L, x) == 0);
        CHECK(L.n_feedback == 0 && L.train.n == 0 && L.n_accepted == 0);
        CHECK(mlrn_learner_set_model(&L, w3, b3, map012, 3) == MLRN_OK);        /* three classes: votes */
        x[0] = 1.0f; CHECK(mlrn_learner_predict(&L, x) == 2);
        x[0] = 1.0f; x[1] = 2.0f;
    }

    /* FIFO: the oldest goes */
    fill(0, 8, 0.0f);
    CHECK(L.train.n == 6);
    CHECK(((float *)L.train.data)[0] == 2.0f && ((float *)L.train.data)[10] == 7.0f);

    /* one class only: training waits, stays pending, no error */
    p = base(); CHECK(L_init(&p) == MLRN_OK);
    x[0] = 1.0f; mlrn_learner_feedback(&L, x, 2); mlrn_learner_feedback(&L, x, 2);
    mlrn_learner_request_train(&L);
    CHECK(mlrn_learner_step(&L, 0) == MLRN_OK && L.n_retrains == 0 && L.pending == 1);
    /* a second class arrives: the model predicts among the seen classes {0, 2} */
    x[0] = -1.0f; mlrn_learner_feedback(&L, x, 0); mlrn_learner_feedback(&L, x, 0);
    CHECK(mlrn_learner_step(&L, 0) == MLRN_OK && L.n_retrains == 1 && L.event == MLRN_LEARNER_EV_ACCEPTED);
    CHECK(L.n_cur == 2 && L.cur_map[0] == 0 && L.cur_map[1] == 2);
    x[0] = 3.0f; CHECK(mlrn_learner_predict(&L, x) == 2);
    x[0] = -3.0f; CHECK(mlrn_learner_predict(&L, x) == 0);
    for (i = 0; i < 4; i++) CHECK(L.train.labels[i] == 2 || L.train.labels[i] == 0);   /* labels restored */

    /* balanced: evicts the oldest sample of the largest class */
    p = base(); p.replace = MLRN_LEARNER_BALANCED; CHECK(L_init(&p) == MLRN_OK);
    for (i = 0; i < 6; i++) { x[0] = (float)i; mlrn_learner_feedback(&L, x, (uint8_t)(i < 4 ? 0 : 1)); }
    x[0] = 100.0f; mlrn_learner_feedback(&L, x, 1);     /* class 0 has 4: its oldest (x=0) goes */
    CHECK(L.train.n == 6 && ((float *)L.train.data)[0] == 1.0f && ((float *)L.train.data)[10] == 100.0f);
    x[0] = 101.0f; mlrn_learner_feedback(&L, x, 1);     /* 3 vs 3: lowest class index (0) -> x=1 goes */
    CHECK(((float *)L.train.data)[0] == 2.0f);

    /* reservoir: the store keeps a uniform sample; decisions from xorshift32 (checked vs Python in test) */
    p = base(); p.replace = MLRN_LEARNER_RESERVOIR; p.seed = 7u; CHECK(L_init(&p) == MLRN_OK);
    for (i = 0; i < 40; i++) { x[0] = (float)i; mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)); }
    printf("RES");
    for (i = 0; i < 6; i++) printf(" %d", (int)((float *)L.train.data)[2 * i]);
    printf(" %u\n", (unsigned)L.n_discarded);

    /* queue: samples arriving mid-training are stored after it, none lost */
    p = base(); CHECK(L_init(&p) == MLRN_OK);
    for (i = 0; i < 4; i++) { x[0] = (float)(i % 2 ? 1 + i : -1 - i); x[1] = (float)i; mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)); }
    mlrn_learner_request_train(&L);
    CHECK(mlrn_learner_step(&L, 1) == MLRN_RUNNING || L.event == MLRN_LEARNER_EV_ACCEPTED);
    if (L.training) {
        x[0] = 9.0f; CHECK(mlrn_learner_feedback(&L, x, 1) >= 0);
        CHECK(L.queue_n == 1 && L.train.n == 4);
        while (mlrn_learner_step(&L, 1) == MLRN_RUNNING) {}
        CHECK(L.queue_n == 0 && L.train.n == 5 && ((float *)L.train.data)[8] == 9.0f);
    }

    /* rollback: a candidate worse on the held-out store is refused and counted */
    p = base(); p.holdout_every = 2; CHECK(L_init(&p) == MLRN_OK);
    /* stored order: train, hold, train, hold... concept A: class = x0 > 0 */
    { float a[][2] = {{-2, 0}, {-2, 1}, {2, 0}, {2, 1}};
      uint8_t ya[] = {0, 0, 1, 1};
      for (i = 0; i < 4; i++) mlrn_learner_feedback(&L, a[i], ya[i]); }
    mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
    CHECK(L.event == MLRN_LEARNER_EV_ACCEPTED && L.last_hold_n == 2);
    {   /* noise lands in the training store only (hold is full: FIFO there too), flipped labels */
        float a[][2] = {{-3, 0}, {-9, 9}, {3, 0}, {-9, 9}};
        uint8_t ya[] = {1, 0, 0, 0};
        for (i = 0; i < 4; i++) mlrn_learner_feedback(&L, a[i], ya[i]); }
    mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
    printf("ROLL ev=%d cand=%u cur=%u n=%u rollbacks=%u\n", L.event, L.last_cand_correct, L.last_cur_correct,
           L.last_hold_n, (unsigned)L.n_rollbacks);
    CHECK(L.event != MLRN_LEARNER_EV_ACCEPTED || L.last_cand_correct >= L.last_cur_correct);

    /* drift: > 50 % errors over a full window of 4 -> the stores keep only the window's samples */
    p = base(); p.window = 4; p.drift_pct = 0;   /* the window detector (the only one compiled in) */
    CHECK(L_init(&p) == MLRN_OK);   /* no model yet: all wrong */
    for (i = 0; i < 6; i++) { x[0] = (float)(i % 2 ? 2 + i : -2 - i); x[1] = 0.0f; mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)); }
    mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
    CHECK(L.has_model && L.train.n == 6 && L.n_drifts == 0);
    L.lp.drift_pct = 50; L.win_fill = 0; L.win_err = 0; L.win_pos = 0;   /* forget the untrained rows */
    for (i = 0; i < 4; i++) { x[0] = (float)(i % 2 ? 2 + i : -2 - i); CHECK(mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)) == 0); }
    for (i = 0; i < 3; i++) { x[0] = (float)(i % 2 ? 2 + i : -2 - i); CHECK(mlrn_learner_feedback(&L, x, (uint8_t)(1 - i % 2)) == 1); }
    /* ring [right, wrong, wrong, wrong]: 3 * 100 > 50 * 4 -> drift; the window's 4 stored samples stay */
    CHECK(L.n_drifts == 1 && L.train.n == 4 && L.pending == 1 && L.win_fill == 0);
    CHECK(((float *)L.train.data)[0] == 5.0f && L.train.labels[0] == 1 && L.train.labels[3] == 1);
    p.drift_pct = 101; CHECK(L_init(&p) == MLRN_ERR_ARG);
    /* this program is built without the DDM detector (MLRN_LEARNER_DDM defaults to 0): the params have no
       `drift` byte at all (the window detector is the only one), and the default parameters initialise */
    CHECK(MLRN_LEARNER_DDM == 0);
    CHECK(MLRN_LEARNER__DRIFT(&L) == MLRN_DRIFT_WINDOW);
    p = mlrn_learner_default_params(); p.window = 4; p.holdout_every = 0;   /* this L's buffers */
    CHECK(L_init(&p) == MLRN_OK);

    /* persistence: save model A, then model B with a power cut after every byte count */
    {
        static uint8_t mem[512];
        mlrn_persist_ram ram; mlrn_storage st;
        float wA[4], bA, wB[4], bB;
        uint32_t cut, total, cuts = 0, bad = 0, gotA = 0, gotB = 0;
        uint8_t mode;
        p = base(); CHECK(L_init(&p) == MLRN_OK);
        CHECK(mlrn_learner_save(&L, 0) == MLRN_ERR_ARG);
        mlrn_persist_ram_init(&ram, mem, sizeof mem, 0xFF); mlrn_persist_ram_bind(&ram, &st);
        CHECK(mlrn_learner_save(&L, &st) == MLRN_ERR_UNTRAINED);
        CHECK(mlrn_learner_load(&L, &st) == MLRN_ERR_CRC);
        fill(0, 6, -3.0f); mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
        CHECK(L.has_model);
        memcpy(wA, L.cur_w, 2 * sizeof(float)); bA = L.cur_b[0];
        for (mode = 0; mode < 3; mode++) {
            mlrn_persist_ram_init(&ram, mem, sizeof mem, 0xFF); mlrn_persist_ram_bind(&ram, &st);
            CHECK(mlrn_learner_save(&L, &st) == MLRN_OK);
            total = 0;
            for (cut = 0;; cut++) {
                uint8_t snap[512];
                mlrn_status s;
                memcpy(snap, mem, sizeof mem);
                /* model B: a different model */
                L.cur_w[0] = wA[0] + 1.0f; L.cur_b[0] = bA - 1.0f;
                wB[0] = L.cur_w[0]; wB[1] = L.cur_w[1]; bB = L.cur_b[0];
                mlrn_persist_ram_cut_after(&ram, cut, mode);
                s = mlrn_learner_save(&L, &st);
                mlrn_persist_ram_power_on(&ram);
                L.cur_w[0] = 0.0f; L.cur_w[1] = 0.0f; L.cur_b[0] = 0.0f;
                if (mlrn_learner_load(&L, &st) != MLRN_OK) { bad++; break; }
                if (L.cur_w[0] == wB[0] && L.cur_w[1] == wB[1] && L.cur_b[0] == bB) gotB++;
                else if (L.cur_w[0] == wA[0] && L.cur_w[1] == wA[1] && L.cur_b[0] == bA) { gotA++; if (s == MLRN_OK) bad++; }
                else bad++;
                cuts++;
                if (s == MLRN_OK) break;
                memcpy(mem, snap, sizeof mem);
                L.cur_w[0] = wA[0]; L.cur_w[1] = wA[1]; L.cur_b[0] = bA;
                total++;
            }
            L.cur_w[0] = wA[0]; L.cur_w[1] = wA[1]; L.cur_b[0] = bA;
        }
        printf("PERSIST cuts=%u bad=%u old=%u new=%u\n", (unsigned)cuts, (unsigned)bad, (unsigned)gotA, (unsigned)gotB);
        CHECK(bad == 0 && cuts > 30);
    }
    printf(fails ? "FAILED %d\n" : "OK\n", fails);
    return fails != 0;
}
