/* Warm-started retraining (MLRN_LEARNER_WARM 1, hence MLRN_SMO_WARM 1): the solver's start, the feasibility
 * repair, the alphas following their rows, the cold fallbacks. Prints OK and exits 0 when every check passed. */
#define MLRN_LEARNER_WARM 1
#include <stdio.h>
#include <string.h>
#include "mlrn_learner.h"

static int fails;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

#define N_ROWS 24u
#define D 2u
#define CAP 30u

static float sx[CAP * D], work_a[MLRN_SMO_WORK_FLOATS_LINEAR(CAP, D, 1, MLRN_STORAGE_F32)],
    work_b[MLRN_SMO_WORK_FLOATS_LINEAR(CAP, D, 1, MLRN_STORAGE_F32)], rows[CAP];
static uint8_t sy[CAP];

/* 3 classes, 6 training rows, no held-out store, no triggers: the tests drive it by hand */
MLRN_LEARNER_DEFINE(L, 2, 3, 6, 2, 2, 4)

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

static void make_store(mlrn_store *st) {
    uint16_t i;
    CHECK(mlrn_store_init(st, sx, sizeof sx, sy, CAP, CAP, D, MLRN_STORAGE_F32, 2, 0, 0) == MLRN_OK);
    for (i = 0; i < N_ROWS; i++) {   /* two overlapping clouds: some alphas at C, some free */
        float x[2];
        uint8_t y = (uint8_t)(i % 2u);
        x[0] = (float)((i * 7u) % 11u) * 0.25f + (y ? 0.8f : 0.0f);
        x[1] = (float)((i * 5u) % 13u) * 0.2f - (y ? 0.0f : 0.7f);
        CHECK(mlrn_store_add(st, x, y) == MLRN_OK);
    }
}

static mlrn_smo_params svm_params(void) {
    mlrn_smo_params p = mlrn_smo_default_params();
    p.C = 1.0f;
    p.tol = 1e-3f;
    return p;
}

/* the maximal KKT violation m(a) - M(a) of the solved binary problem, from w (the linear gradient) */
static float violation(const mlrn_smo *s, const mlrn_store *st) {
    float gmax = -MLRN_SMO_BIG, gmin = MLRN_SMO_BIG, C = s->p.C;
    uint16_t t;
    for (t = 0; t < st->n; t++) {
        int8_t y = st->labels[t] ? 1 : -1;
        float a = s->alpha[t], g = (y > 0 ? 1.0f : -1.0f) * mlrn_kernel_dot(s->w, &sx[t * D], D) - 1.0f;
        float v = y > 0 ? -g : g;
        if (y > 0 ? a < C : a > 0.0f) { if (v > gmax) gmax = v; }
        if (y > 0 ? a > 0.0f : a < C) { if (v < gmin) gmin = v; }
    }
    return gmax - gmin;
}

int main(void) {
    mlrn_store st;
    mlrn_smo a, b;
    mlrn_smo_params p = svm_params();
    uint32_t ia = 0, ib = 0;
    uint16_t t;
    float sp = 0.0f, sn = 0.0f;

    /* 1. all-zero warm rows: the cold start bit for bit (same iterations, w, b) */
    make_store(&st);
    CHECK(mlrn_smo_init(&a, &p, &st, work_a, sizeof work_a / sizeof(float)) == MLRN_OK);
    CHECK(mlrn_smo_train(&a, &ia) == MLRN_OK);
    CHECK(mlrn_smo_init(&b, &p, &st, work_b, sizeof work_b / sizeof(float)) == MLRN_OK);
    for (t = 0; t < CAP; t++) rows[t] = 0.0f;
    CHECK(mlrn_smo_set_warm(&b, rows) == MLRN_OK);
    CHECK(mlrn_smo_train(&b, &ib) == MLRN_OK);
    CHECK(ia == ib && ia > 5u);
    CHECK(bits(a.w[0]) == bits(b.w[0]) && bits(a.w[1]) == bits(b.w[1]) && bits(a.b[0]) == bits(b.b[0]));
    CHECK(b.alpha == rows);   /* the solution stays in the caller's row */

    /* 2. restarting from the solution: (almost) nothing left to do, and the stopping criterion holds */
    CHECK(mlrn_smo_init(&b, &p, &st, work_b, sizeof work_b / sizeof(float)) == MLRN_OK);
    CHECK(mlrn_smo_set_warm(&b, rows) == MLRN_OK);
    CHECK(mlrn_smo_train(&b, &ib) == MLRN_OK);
    CHECK(ib <= 2u);
    CHECK(violation(&b, &st) < p.tol);

    /* 3. an infeasible start (out of the box, NaN, unbalanced): repaired, then solved to the same criterion */
    {
        union { float f; uint32_t u; } nn;
        nn.u = 0x7fc00000u;
        for (t = 0; t < N_ROWS; t++) rows[t] = (float)(t % 5u) * 0.4f - 0.2f;   /* -0.2 .. 1.4 */
        rows[3] = nn.f;
        CHECK(mlrn_smo_init(&b, &p, &st, work_b, sizeof work_b / sizeof(float)) == MLRN_OK);
        CHECK(mlrn_smo_set_warm(&b, rows) == MLRN_OK);
        CHECK(mlrn_smo_train_begin(&b) == MLRN_OK);
        for (t = 0; t < N_ROWS; t++) {   /* right after the repair */
            CHECK(rows[t] >= 0.0f && rows[t] <= p.C);
            if (sy[t]) sp = sp + rows[t]; else sn = sn + rows[t];
        }
        CHECK(sp - sn < 1e-5f && sn - sp < 1e-5f);
        while (mlrn_smo_train_step(&b, 0xFFFFFFFFu) == MLRN_RUNNING) {}
        CHECK(b.phase == 2u && violation(&b, &st) < p.tol);
        /* the same SVM up to the tolerance: decisions of the cold and the warm model agree in sign here */
        for (t = 0; t < N_ROWS; t++) {
            float fa = mlrn_kernel_dot(a.w, &sx[t * D], D) + a.b[0], fb = mlrn_kernel_dot(b.w, &sx[t * D], D) + b.b[0];
            CHECK((fa >= 0.0f) == (fb >= 0.0f) || (fa < 0.05f && fa > -0.05f));
        }
    }

    /* 4. refused for another solver */
    p.solver = MLRN_SMO_SOLVER_SIMPLIFIED;
    CHECK(mlrn_smo_init(&b, &p, &st, work_b, sizeof work_b / sizeof(float)) == MLRN_OK);
    CHECK(mlrn_smo_set_warm(&b, rows) == MLRN_ERR_ARG);

    /* 5. the learner: the rows' alphas follow them through FIFO evictions; new rows start at 0 */
    {
        mlrn_learner_params lp = mlrn_learner_default_params();
        float x[2];
        uint16_t i, cap = 6u, k;
        float before[3][6];
        lp.holdout_every = 0; lp.k_mistakes = 0; lp.window = 0;
        CHECK(L_init(&lp) == MLRN_OK);
        CHECK(sizeof L_work / sizeof(float) == mlrn_learner_work_floats(6, 2, 3, MLRN_STORAGE_F32));
        CHECK(L.warm == L_work && L.svm.alpha == L_work + 2u * cap);   /* the trainer's row is the last warm row */
        for (i = 0; i < 6u; i++) {
            x[0] = (float)i; x[1] = (float)(i % 3u);
            CHECK(mlrn_learner_feedback(&L, x, (uint8_t)(i % 3u)) >= 0);
        }
        CHECK(mlrn_learner_request_train(&L) == MLRN_OK);
        CHECK(mlrn_learner_step(&L, 0) == MLRN_OK && L.event == MLRN_LEARNER_EV_ACCEPTED);
        CHECK(L.warm_ok == 1u);
        for (k = 0; k < 3u; k++)
            for (i = 0; i < 6u; i++) before[k][i] = L.warm[k * cap + i];
        x[0] = 9.0f; x[1] = 1.0f;
        CHECK(mlrn_learner_feedback(&L, x, 0) >= 0);     /* FIFO: row 0 goes, the newcomer is row 5 */
        for (k = 0; k < 3u; k++) {
            for (i = 0; i < 5u; i++) CHECK(bits(L.warm[k * cap + i]) == bits(before[k][i + 1u]));
            CHECK(L.warm[k * cap + 5u] == 0.0f);
        }
        /* 6. a class map change falls back to a cold start: classes {0, 1, 2} -> {0, 2} (ones evicted) */
        for (i = 0; i < 6u; i++) {
            x[0] = (float)i * 0.5f; x[1] = (float)i;
            CHECK(mlrn_learner_feedback(&L, x, (uint8_t)((i % 2u) * 2u)) >= 0);
        }
        for (i = 0; i < 6u; i++) L.warm[i] = 0.5f;   /* garbage that a warm start would use */
        CHECK(mlrn_learner_request_train(&L) == MLRN_OK);
        CHECK(mlrn_learner_step(&L, 1) == MLRN_RUNNING);
        CHECK(L.n_cand == 2u && L.warm_ok == 0u);
        {   /* one iteration from zero moves two alphas: the garbage was cleared */
            uint16_t nz = 0;
            for (i = 0; i < 6u; i++) nz = (uint16_t)(nz + (L.warm[i] != 0.0f));
            CHECK(nz <= 2u);
        }
        while (L.training) (void)mlrn_learner_step(&L, 0);
        CHECK(L.warm_ok == 1u && L.event != MLRN_LEARNER_EV_FAILED);
    }
    if (fails) return 1;
    printf("OK\n");
    return 0;
}
