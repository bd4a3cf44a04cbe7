#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"

static int fails;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

#define D 2
#define NC 3
#define N_ROWS 320
#define MEM 1024
MLRN_LEARNER_DEFINE(R, D, NC, 12, 4, 3, 8)          /* the reference: never loses power */
MLRN_LEARNER_DEFINE(F, D, NC, 12, 4, 3, 8)          /* the rebooted device */
MLRN_LEARNER_DEFINE(G, D, NC, 10, 4, 3, 8)          /* other training capacity */
MLRN_LEARNER_DEFINE(H, D, NC, 12, 5, 3, 8)          /* other held-out capacity */
MLRN_LEARNER_DEFINE(K, 3, NC, 12, 4, 3, 8)          /* other d */
static const float QS[D] = {0.001f, 0.001f}, QO[D] = {0.0f, 0.0f};
MLRN_LEARNER_DEFINE_STORAGE(Q, D, NC, 12, 4, 3, 8, int16_t, MLRN_STORAGE_I16, QS, QO)

static float X[N_ROWS][D];
static uint8_t Y[N_ROWS];
static int32_t LOG[N_ROWS];

static void make_stream(void) {
    uint32_t s = 12345u;
    int i, k;
    for (i = 0; i < N_ROWS; i++) {
        for (k = 0; k < D; k++) X[i][k] = (float)(mlrn_rng_next(&s) % 6001u) / 1000.0f - 3.0f;
        Y[i] = (uint8_t)(X[i][0] > 1.0f ? 2 : X[i][0] > -1.0f ? 1 : 0);
        if (i >= 170) Y[i] = (uint8_t)(2 - Y[i]);                      /* drift */
        if (mlrn_rng_next(&s) % 13u == 0u) Y[i] = (uint8_t)((Y[i] + 1) % NC); /* label noise */
    }
}

static mlrn_learner_params params(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    p.replace = MLRN_LEARNER_RESERVOIR; p.holdout_every = 3; p.k_mistakes = 3; p.window = 8;
    p.err_pct = 30; p.drift_pct = 60; p.seed = 5u;
#if MLRN_LEARNER_DDM
    p.drift = MLRN_DRIFT_WINDOW;   /* the stream and the checks were designed for the window detector */
#endif
    return p;
}

static int32_t row(mlrn_learner *l, int i) {
    int32_t pred = mlrn_learner_predict(l, X[i]);
    int32_t ret = mlrn_learner_feedback(l, X[i], Y[i]);
    int32_t st = mlrn_learner_step(l, 4);
    return ((pred + 16) & 0xFF) | (((ret + 16) & 0xFF) << 8) | (((st + 16) & 0xFF) << 16) | ((int32_t)l->event << 24);
}

static uint32_t h_;
static void hb(const void *p, size_t n) { const uint8_t *b = (const uint8_t *)p; while (n--) { h_ ^= *b++; h_ *= 16777619u; } }
#define H(v) hb(&(v), sizeof(v))
static uint32_t digest(const mlrn_learner *l) {
    size_t esz = mlrn_store_elem_size(l->train.storage) * l->train.d;
    h_ = 2166136261u;
    H(l->has_model); H(l->pending); H(l->training); H(l->queue_n);
    if (l->has_model) {
        size_t nsub = mlrn_smo_n_sub(l->n_cur, MLRN_SMO_OVO);
        H(l->n_cur); hb(l->cur_map, l->n_cur); hb(l->cur_w, nsub * l->train.d * 4); hb(l->cur_b, nsub * 4);
    }
    H(l->train.n); hb(l->train.data, l->train.n * esz); hb(l->train.labels, l->train.n);
    H(l->hold.n); if (l->hold.n) { hb(l->hold.data, l->hold.n * esz); hb(l->hold.labels, l->hold.n); }
    if (l->lp.window) hb(l->win, l->lp.window);
    H(l->win_pos); H(l->win_fill); H(l->win_err); H(l->win_since); H(l->mistakes_since);
    H(l->rng); H(l->n_stored); H(l->seen_train); H(l->seen_hold);
    H(l->n_feedback); H(l->n_mistakes); H(l->n_retrains); H(l->n_accepted); H(l->n_rollbacks); H(l->n_failed);
    H(l->n_dropped); H(l->n_discarded); H(l->n_drifts); H(l->last_train_iter);
    H(l->last_cand_correct); H(l->last_cur_correct); H(l->last_hold_n);
    return h_;
}

static uint8_t mem[MEM];
static mlrn_persist_ram ram;
static mlrn_storage st;
typedef struct { uint8_t m[MEM]; int8_t ok; uint8_t mode; } image;
static image *imgs;
static int n_img;

int main(void) {
    mlrn_learner_params p = params();
    uint8_t snap[MEM], memB[MEM];
    int i, TE = -1, TA = -1, TB = -1, k;
    uint32_t dA = 0, dB = 0, dEnd, bad = 0, gotA = 0, gotB = 0, cont_bad = 0;
    uint32_t len_all = 0;
    mlrn_status s;
    make_stream();
    imgs = (image *)malloc(sizeof(image) * 4000);
    mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st);
    CHECK(R_init(&p) == MLRN_OK);
    CHECK(mlrn_learner_load(&R, &st) == MLRN_ERR_CRC);
    CHECK(mlrn_learner_save_all(&R, &st) == MLRN_OK);          /* no model yet: stores and state only */
    CHECK(F_init(&p) == MLRN_OK && mlrn_learner_load(&F, &st) == MLRN_OK && digest(&F) == digest(&R));
    mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st);
    for (i = 0; i < N_ROWS; i++) {
        LOG[i] = row(&R, i);
        if (R.training) {
            if (TB < 0 && TA >= 0 && i > TA + 40) {
                CHECK(mlrn_learner_save_all(&R, &st) == MLRN_ERR_ARG);   /* never mid-retrain */
            }
            continue;
        }
        if (TE < 0 && i >= 30) { TE = i; CHECK(mlrn_learner_save_all(&R, &st) == MLRN_OK); }
        else if (TA < 0 && i >= 110 && R.has_model) {
            TA = i; dA = digest(&R);
            CHECK(mlrn_learner_save_all(&R, &st) == MLRN_OK);
        } else if (TB < 0 && TA >= 0 && i >= TA + 45 && R.hold.n && R.n_discarded &&
                   R.train.n == R.train.capacity) {
            uint8_t mode;
            TB = i; dB = digest(&R);
            len_all = mlrn_learner__all_len(&R);
            memcpy(snap, mem, MEM);
            for (mode = 0; mode < 4; mode++) {
                uint32_t cut;
                for (cut = 0;; cut++) {
                    memcpy(mem, snap, MEM);
                    mlrn_persist_ram_flash(&ram, mode == 3); mlrn_persist_ram_bind(&ram, &st);
                    mlrn_persist_ram_cut_after(&ram, cut, mode == 3 ? MLRN_PERSIST_RAM_CUT_GARBAGE : mode);
                    s = mlrn_learner_save_all(&R, &st);
                    mlrn_persist_ram_power_on(&ram);
                    memcpy(imgs[n_img].m, mem, MEM); imgs[n_img].ok = s == MLRN_OK; imgs[n_img].mode = mode;
                    n_img++;
                    if (s == MLRN_OK || n_img >= 4000) break;
                    CHECK(s == MLRN_ERR_IO);
                }
            }
            memcpy(memB, mem, MEM);
            mlrn_persist_ram_flash(&ram, 0); mlrn_persist_ram_bind(&ram, &st);
        }
    }
    dEnd = digest(&R);
    CHECK(TE >= 0 && TA >= 0 && TB >= 0);
    printf("ROWS TE=%d TA=%d TB=%d len=%u retrains=%u accepted=%u rollbacks=%u drifts=%u discarded=%u dropped=%u\n",
           TE, TA, TB, (unsigned)len_all, (unsigned)R.n_retrains, (unsigned)R.n_accepted, (unsigned)R.n_rollbacks,
           (unsigned)R.n_drifts, (unsigned)R.n_discarded, (unsigned)R.n_dropped);

    /* every power cut: reboot a fresh learner, load, continue the stream */
    for (k = 0; k < n_img; k++) {
        uint32_t d;
        int from;
        memcpy(mem, imgs[k].m, MEM);
        mlrn_persist_ram_flash(&ram, 0); mlrn_persist_ram_bind(&ram, &st);
        CHECK(F_init(&p) == MLRN_OK);
        if (mlrn_learner_load(&F, &st) != MLRN_OK) { bad++; continue; }
        d = digest(&F);
        if (d == dB && F.n_feedback == (uint32_t)TB + 1u) { gotB++; from = TB + 1; }
        else if (d == dA && F.n_feedback == (uint32_t)TA + 1u) { gotA++; from = TA + 1; if (imgs[k].ok) bad++; }
        else { bad++; continue; }
        for (i = from; i < N_ROWS; i++)
            if (row(&F, i) != LOG[i]) { cont_bad++; break; }
        if (digest(&F) != dEnd) cont_bad++;
    }
    printf("CUTS cuts=%d bad=%u old=%u new=%u cont_bad=%u\n", n_img, (unsigned)bad, (unsigned)gotA, (unsigned)gotB,
           (unsigned)cont_bad);

    /* corrupted slots: the newest (B) damaged -> A; both damaged -> MLRN_ERR_CRC, learner unchanged */
    {
        uint32_t before;
        mlrn_persist_info info;
        memcpy(mem, memB, MEM);
        CHECK(mlrn_persist_find(&st, &info) == MLRN_OK);
        mem[info.addr + MLRN_PERSIST_HEADER + 40] ^= 0x10u;
        CHECK(F_init(&p) == MLRN_OK && mlrn_learner_load(&F, &st) == MLRN_OK && digest(&F) == dA);
        CHECK(mlrn_persist_find(&st, &info) == MLRN_OK);
        mem[info.addr + MLRN_PERSIST_HEADER + 100] ^= 0x01u;
        before = digest(&F);
        CHECK(mlrn_learner_load(&F, &st) == MLRN_ERR_CRC && digest(&F) == before);
        printf("CORRUPT ok\n");
    }

    /* capacity / shape mismatches: refused, nothing changed */
    {
        uint32_t before;
        mlrn_learner_params pw = p;
        memcpy(mem, memB, MEM);
        CHECK(G_init(&p) == MLRN_OK);
        for (i = 0; i < 20; i++) row(&G, i);
        while (G.training) mlrn_learner_step(&G, 0);
        before = digest(&G);
        CHECK(mlrn_learner_load(&G, &st) == MLRN_ERR_ARG && digest(&G) == before);
        CHECK(H_init(&p) == MLRN_OK); before = digest(&H);
        CHECK(mlrn_learner_load(&H, &st) == MLRN_ERR_ARG && digest(&H) == before);
        CHECK(K_init(&p) == MLRN_OK); before = digest(&K);
        CHECK(mlrn_learner_load(&K, &st) == MLRN_ERR_ARG && digest(&K) == before);
        CHECK(Q_init(&p) == MLRN_OK); before = digest(&Q);
        CHECK(mlrn_learner_load(&Q, &st) == MLRN_ERR_ARG && digest(&Q) == before);
        pw.window = 6; CHECK(F_init(&pw) == MLRN_OK); before = digest(&F);
        CHECK(mlrn_learner_load(&F, &st) == MLRN_ERR_ARG && digest(&F) == before);
        pw = p; pw.holdout_every = 0; CHECK(F_init(&pw) == MLRN_OK); before = digest(&F);
        CHECK(mlrn_learner_load(&F, &st) == MLRN_ERR_ARG && digest(&F) == before);
        printf("MISMATCH ok\n");
    }

    /* storage too small: MLRN_ERR_BUFFER, the previous copy still loads */
    {
        mlrn_storage small = st;
        small.size = 2u * (MLRN_PERSIST_HEADER + 100u);
        mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st); small = st;
        small.size = 2u * (MLRN_PERSIST_HEADER + 100u);
        CHECK(mlrn_learner_save(&R, &small) == MLRN_OK);          /* format 1: the model only */
        CHECK(mlrn_learner_save_all(&R, &small) == MLRN_ERR_BUFFER);
        CHECK(F_init(&p) == MLRN_OK);
        for (i = 0; i < 5; i++) row(&F, i);
        CHECK(mlrn_learner_load(&F, &small) == MLRN_OK && F.has_model && F.train.n == 4 && F.n_feedback == 5);
        printf("SMALL ok\n");
    }

    /* int16 stores: round trip and identical continuation */
    {
        uint32_t dq, dqe;
        int TQ = -1;
        mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st);
        CHECK(Q_init(&p) == MLRN_OK);
        for (i = 0; i < N_ROWS; i++) {
            LOG[i] = row(&Q, i);
            if (TQ < 0 && i >= 120 && !Q.training && Q.has_model) {
                TQ = i; dq = digest(&Q); CHECK(mlrn_learner_save_all(&Q, &st) == MLRN_OK);
            }
        }
        dqe = digest(&Q);
        CHECK(TQ >= 0 && Q_init(&p) == MLRN_OK && mlrn_learner_load(&Q, &st) == MLRN_OK && digest(&Q) == dq);
        for (i = TQ + 1; i < N_ROWS; i++) CHECK(row(&Q, i) == LOG[i]);
        CHECK(digest(&Q) == dqe);
        printf("INT16 ok\n");
    }
    free(imgs);
    printf(fails ? "FAILED %d\n" : "OK\n", fails);
    return fails != 0;
}
