/* mlrn_online.h persistence: a learner saved mid-stream (mlrn_online_save) and loaded into a "rebooted" one
 * continues exactly as the one that never lost power (predictions, events, counters, weights); a power cut
 * at every byte of a save leaves the old or the new state; the model-only save (mlrn_online_save_model)
 * restores the accepted weights; other shapes are refused with the learner unchanged. Prints OK. */
#include <stdio.h>
#include <string.h>
#include "mlrn_online.h"
#include "mlrn_persist_ram.h"
#include "mlrn_rng.h"

#define D 5
#define NC 3
#define HOLD 6
#define WIN 12
MLRN_ONLINE_DEFINE(A, D, NC, HOLD, WIN)
MLRN_ONLINE_DEFINE(B, D, NC, HOLD, WIN)
MLRN_ONLINE_DEFINE(O, 4, NC, HOLD, WIN)   /* another shape */

static int fails;
#define CHECK(c) do { if (!(c)) { if (fails < 20) printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static void row(uint32_t *rng, uint32_t t, float *x, uint8_t *y) {
    uint16_t k;
    float s[NC] = {0.0f, 0.0f, 0.0f};
    for (k = 0; k < D; k++) x[k] = (float)(int32_t)(mlrn_rng_next(rng) % 2001u) / 500.0f - 2.0f;
    s[0] = x[0] + x[1]; s[1] = x[2] - x[0]; s[2] = x[3] + 0.5f * x[4];
    *y = s[1] > s[0] ? (s[2] > s[1] ? 2u : 1u) : (s[2] > s[0] ? 2u : 0u);
    if (t >= 300u) *y = (uint8_t)((*y + 1u) % NC);   /* an abrupt concept switch */
}

static int same(const mlrn_online *a, const mlrn_online *b) {
    return a->has_model == b->has_model && a->hold_n == b->hold_n && a->n_feedback == b->n_feedback &&
           a->n_mistakes == b->n_mistakes && a->n_retrains == b->n_retrains && a->n_accepted == b->n_accepted &&
           a->n_rollbacks == b->n_rollbacks && a->n_drifts == b->n_drifts && a->ddm.n == b->ddm.n &&
           a->ddm.e == b->ddm.e && a->ddm.q_min == b->ddm.q_min && a->warn_hold == b->warn_hold &&
           a->win_pos == b->win_pos && a->win_err == b->win_err && a->n_seen == b->n_seen &&
           memcmp(a->cur, b->cur, sizeof(float) * 2u * MLRN_ONLINE_WEIGHT_FLOATS(D, NC)) == 0 &&
           memcmp(a->hold_x, b->hold_x, sizeof(float) * a->hold_n * D) == 0;
}

int main(void) {
    static uint8_t mem[4096], snap[4096];
    mlrn_persist_ram ram;
    mlrn_storage st;
    mlrn_online_params p = mlrn_online_default_params();
    float x[D];
    uint8_t y;
    uint32_t rng = mlrn_rng_seed(11), t, cut, n_old = 0, n_new = 0, bad = 0, drifts;
    p.window = WIN;
    CHECK(A_init(&p) == MLRN_OK && B_init(&p) == MLRN_OK && O_init(&p) == MLRN_OK);
    mlrn_persist_ram_init(&ram, mem, sizeof mem, 0xFF);
    mlrn_persist_ram_bind(&ram, &st);
    CHECK(mlrn_online_save_model(&A, &st) == MLRN_ERR_UNTRAINED);
    for (t = 0; t < 200u; t++) {
        row(&rng, t, x, &y);
        CHECK(mlrn_online_feedback(&A, x, y) >= 0);
        mlrn_online_step(&A, 0);
    }
    CHECK(A.has_model && A.n_accepted > 0);
    CHECK(mlrn_online_save(&A, &st) == MLRN_OK);
    CHECK(mlrn_online_load(&O, &st) == MLRN_ERR_ARG && !O.has_model);   /* another d: refused, unchanged */
    CHECK(mlrn_online_load(&B, &st) == MLRN_OK && same(&A, &B));
    /* continue both: identical rows, predictions, events */
    for (t = 200; t < 600u; t++) {
        int32_t pa, pb;
        row(&rng, t, x, &y);
        pa = mlrn_online_predict(&A, x); pb = mlrn_online_predict(&B, x);
        CHECK(pa == pb);
        CHECK(mlrn_online_feedback(&A, x, y) == mlrn_online_feedback(&B, x, y));
        mlrn_online_step(&A, 0); mlrn_online_step(&B, 0);
        CHECK(A.event == B.event);
    }
    CHECK(same(&A, &B));
    drifts = A.n_drifts;
    CHECK(A.ddm.n > 300u && A.n_rollbacks > 0u);   /* the detector's state was carried over, decisions were made */
    /* power cuts at every byte of a save over the previous one: old or new, never anything else */
    memcpy(snap, mem, sizeof mem);
    for (cut = 0; cut < 2000u; cut++) {
        mlrn_online_params q = p;   /* a rebooted device: a fresh learner, then load */
        memcpy(mem, snap, sizeof mem);
        mlrn_persist_ram_cut_after(&ram, cut, (uint8_t)(cut % 3u));
        if (mlrn_online_save(&A, &st) == MLRN_OK) { mlrn_persist_ram_power_on(&ram); break; }
        mlrn_persist_ram_power_on(&ram);
        CHECK(B_init(&q) == MLRN_OK);
        if (mlrn_online_load(&B, &st) != MLRN_OK) { bad++; continue; }
        if (same(&A, &B)) n_new++;
        else if (B.n_feedback == 200u) n_old++;
        else bad++;
    }
    printf("DRIFTS %lu\n", (unsigned long)drifts);
    printf("CUTS %lu old=%lu new=%lu bad=%lu\n", (unsigned long)cut, (unsigned long)n_old, (unsigned long)n_new,
           (unsigned long)bad);
    CHECK(bad == 0 && n_old > 100u);
    /* the model-only save: the accepted weights come back, as accepted and candidate */
    CHECK(mlrn_online_save_model(&A, &st) == MLRN_OK);
    CHECK(B_init(&p) == MLRN_OK && mlrn_online_load(&B, &st) == MLRN_OK && B.has_model);
    CHECK(memcmp(A.cur, B.cur, sizeof(float) * MLRN_ONLINE_WEIGHT_FLOATS(D, NC)) == 0);
    CHECK(memcmp(B.cur, B.cand, sizeof(float) * MLRN_ONLINE_WEIGHT_FLOATS(D, NC)) == 0);
    /* a flipped byte in the newest slot: the older one loads */
    mem[40] ^= 0x10u;
    CHECK(B_init(&p) == MLRN_OK && mlrn_online_load(&B, &st) == MLRN_OK);
    /* bad arguments */
    p.C = -1.0f; CHECK(B_init(&p) == MLRN_ERR_ARG);
    p.C = 1.0f; p.holdout_every = 1; CHECK(B_init(&p) == MLRN_ERR_ARG);
    p.holdout_every = 4; p.ddm_warn_k10 = 10; CHECK(B_init(&p) == MLRN_ERR_ARG);
    p.ddm_warn_k10 = 25; p.window = WIN + 1; CHECK(B_init(&p) == MLRN_ERR_ARG);
    p.window = WIN; CHECK(B_init(&p) == MLRN_OK);
    x[0] = 1.0f / 0.0f; CHECK(mlrn_online_feedback(&B, x, 0) == MLRN_ERR_NAN && B.n_feedback == 0u);
    x[0] = 0.0f; CHECK(mlrn_online_feedback(&B, x, NC) == MLRN_ERR_LABEL);
    CHECK(mlrn_online_predict(&B, x) == MLRN_ERR_UNTRAINED);
    if (fails) { printf("FAILED %d\n", fails); return 1; }
    printf("OK\n");
    return 0;
}
