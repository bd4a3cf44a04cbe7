/* runtime_fuzz.c: robustness test of the on-device SVM trainer (mlrn_store.h, mlrn_smo.h).
 *
 * Built by tests/runtime/test_runtime_robustness.py with -fsanitize=address,undefined
 * -fno-sanitize-recover=all and -Wall -Wextra -Werror -Wdouble-promotion -Wconversion
 * -ffp-contract=off, as C99 and as C++11.
 *
 * For many seeded random configurations (kernel, solver (dcd: linear, hinge or squared hinge), ovo/ovr, 2..5 classes,
 * float32/int16/int8 storage, capacity 2..60, d 1..8, small max_iter too) it fills the
 * store with random or degenerate data (duplicates with conflicting labels, all-zero
 * features, huge and tiny magnitudes, a single class), trains one-shot and time-sliced
 * (asserting bit-identical results), predicts, evaluates and compacts (asserting the
 * predictions are unchanged), and checks every error status of the runtime.
 *
 * Every buffer handed to the runtime (store data, labels, work array, the structs,
 * outputs) is allocated with exactly the documented size and surrounded by canary
 * bytes that are checked after every runtime call, in addition to ASan's redzones.
 *
 * Usage: runtime_fuzz [n_configs [seed]] | runtime_fuzz canary-selftest. Prints "CASE <name> <count>" lines and a
 * final "SUMMARY ..." line; exits 1 on any failure. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MLRN_SMO_SOLVERS 0x7u   /* every solver, dcd too (the default leaves dcd out) */
#include "mlrn_smo.h"

/* ---- failures and case counters ------------------------------------------ */

static unsigned long g_checks, g_failures;
static unsigned long g_config;
static char g_desc[256];   /* the current configuration, printed with its first failure */
static unsigned long g_desc_printed = (unsigned long)-1;

static void fail_at(int line, const char *what, double a, double b) {
    g_failures++;
    if (g_failures > 40u) return;
    if (g_desc_printed != g_config) {
        printf("CONFIG %lu: %s\n", g_config, g_desc);
        g_desc_printed = g_config;
    }
    printf("FAIL config %lu line %d: %s (%.9g, %.9g)\n", g_config, line, what, a, b);
}
#define CHECK2(cond, a, b)                                                   \
    do {                                                                     \
        g_checks++;                                                          \
        if (!(cond)) fail_at(__LINE__, #cond, (double)(a), (double)(b));     \
    } while (0)
#define CHECK(cond) CHECK2(cond, 0, 0)

enum {
    C_DATA_RANDOM, C_DATA_DUPLICATES, C_DATA_ZERO, C_DATA_HUGE, C_DATA_TINY, C_DATA_ONE_CLASS, C_DATA_MIXED,
    C_KERNEL_LINEAR, C_KERNEL_RBF, C_KERNEL_POLY, C_KERNEL_SIGMOID,
    C_SOLVER_WSS2, C_SOLVER_SIMPLIFIED, C_SOLVER_DCD, C_OVO, C_OVR, C_BINARY, C_MULTICLASS,
    C_STORAGE_F32, C_STORAGE_I16, C_STORAGE_I8, C_SMALL_MAX_ITER,
    C_TRAIN_OK, C_TRAIN_MAX_ITER, C_TRAIN_NAN, C_TRAIN_ONE_CLASS, C_TRAIN_EMPTY,
    C_SLICED_IDENTICAL, C_PREDICT, C_EVAL, C_COMPACT_UNCHANGED, C_RETRAIN_AFTER_COMPACT,
    C_ERR_FULL, C_ERR_NAN_ADD, C_ERR_INF_ADD, C_ERR_LABEL, C_ERR_SET_INDEX,
    C_ERR_UNTRAINED_PREDICT, C_ERR_UNTRAINED_DECISION, C_ERR_UNTRAINED_EVAL, C_ERR_UNTRAINED_COMPACT,
    C_ERR_UNTRAINED_AFTER_FAILURE,
    C_ERR_ARG_NULL, C_ERR_ARG_STORE_INIT, C_ERR_ARG_C, C_ERR_ARG_KERNEL, C_ERR_ARG_PARAMS, C_ERR_ARG_STEP,
    C_ERR_BUFFER_WORK, C_ERR_BUFFER_STORE, C_ERR_ONE_CLASS, C_ERR_EMPTY,
    C_ERR_NAN_PREDICT, C_ERR_NAN_DECISION, C_ERR_NAN_EVAL,
    C_N
};
static const char *const case_names[C_N] = {
    "data_random", "data_duplicates", "data_zero", "data_huge", "data_tiny", "data_one_class", "data_mixed_huge",
    "kernel_linear", "kernel_rbf", "kernel_poly", "kernel_sigmoid",
    "solver_wss2", "solver_simplified", "solver_dcd", "ovo", "ovr", "binary", "multiclass",
    "storage_f32", "storage_i16", "storage_i8", "small_max_iter",
    "train_ok", "train_max_iter", "train_nan", "train_one_class", "train_empty",
    "sliced_identical", "predict", "eval", "compact_unchanged", "retrain_after_compact",
    "err_full", "err_nan_add", "err_inf_add", "err_label", "err_set_index",
    "err_untrained_predict", "err_untrained_decision", "err_untrained_eval", "err_untrained_compact",
    "err_untrained_after_failure",
    "err_arg_null", "err_arg_store_init", "err_arg_c", "err_arg_kernel", "err_arg_params", "err_arg_step",
    "err_buffer_work", "err_buffer_store", "err_one_class", "err_empty",
    "err_nan_predict", "err_nan_decision", "err_nan_eval",
};
static unsigned long g_cases[C_N];
static unsigned long g_known_nonfinite_w;
#define HIT(c) (g_cases[c]++)

/* ---- the test's own PRNG (not the runtime's) ------------------------------ */

static uint64_t g_rs = 88172645463325252ull;
static uint32_t rnd(void) {
    g_rs ^= g_rs << 13;
    g_rs ^= g_rs >> 7;
    g_rs ^= g_rs << 17;
    return (uint32_t)(g_rs >> 32);
}
static uint32_t rndn(uint32_t n) { return rnd() % n; }
static float rnd01(void) { return (float)(rnd() >> 8) * (1.0f / 16777216.0f); }
static float rndgauss(void) { return ((rnd01() + rnd01()) + (rnd01() + rnd01())) - 2.0f; }
static float pick(const float *v, uint32_t n) { return v[rndn(n)]; }
static float f_inf(void) {
    volatile float big = FLT_MAX;
    return big * 2.0f;
}
static float f_nan(void) {
    volatile float inf = f_inf();
    return inf - inf;
}

/* ---- canary-guarded buffers ---------------------------------------------- */

#define CANARY 32u
#define MAX_GUARDS 16u
typedef struct {
    unsigned char *base;
    size_t size;
    const char *name;
} guard;
static guard g_guards[MAX_GUARDS];
static unsigned g_n_guards;

static unsigned char canary_byte(size_t i) { return (unsigned char)(0xC3u ^ (unsigned)(i * 37u)); }

/* `size` bytes exactly, with CANARY bytes before and after; filled with `fill`. */
static void *guard_alloc(size_t size, const char *name, unsigned char fill) {
    unsigned char *base = (unsigned char *)malloc(size + 2u * CANARY);
    size_t i;
    if (!base || g_n_guards >= MAX_GUARDS) {
        printf("FAIL out of test memory\n");
        exit(2);
    }
    for (i = 0; i < CANARY; i++) {
        base[i] = canary_byte(i);
        base[CANARY + size + i] = canary_byte(i + 1000u);
    }
    memset(base + CANARY, fill, size);
    g_guards[g_n_guards].base = base;
    g_guards[g_n_guards].size = size;
    g_guards[g_n_guards].name = name;
    g_n_guards++;
    return base + CANARY;
}

static void guard_check_line(int line) {
    unsigned g;
    size_t i;
    for (g = 0; g < g_n_guards; g++) {
        const guard *gd = &g_guards[g];
        for (i = 0; i < CANARY; i++)
            if (gd->base[i] != canary_byte(i) || gd->base[CANARY + gd->size + i] != canary_byte(i + 1000u)) {
                g_failures++;
                printf("FAIL config %lu line %d: canary of %s overwritten\n", g_config, line, gd->name);
                exit(1);   /* memory is corrupt: stop here */
            }
    }
    g_checks++;
}
#define GUARD() guard_check_line(__LINE__)

static void guard_free_all(void) {
    unsigned g;
    GUARD();
    for (g = 0; g < g_n_guards; g++) free(g_guards[g].base);
    g_n_guards = 0;
}

/* ---- one configuration ---------------------------------------------------- */

#define MAX_CAP 60u
#define MAX_D 8u
#define MAX_K 5u
#define N_PROBE 12u
#define MAX_SUB 10u

enum { M_RANDOM, M_DUPLICATES, M_ZERO, M_HUGE, M_TINY, M_ONE_CLASS, M_MIXED, M_N };

typedef struct {
    uint16_t cap, d;
    uint8_t k, storage, mode;
    mlrn_smo_params p;
    float *scale, *offset;       /* guarded, NULL for float32 */
} config;

static int is_valid_train_status(mlrn_status st) {
    return st == MLRN_OK || st == MLRN_MAX_ITER || st == MLRN_ERR_NAN || st == MLRN_ERR_ONE_CLASS ||
           st == MLRN_ERR_EMPTY;
}

static void make_row(const config *c, uint16_t idx, float *x, uint8_t *label, uint8_t one_class,
                     uint8_t missing_class, const float *dup) {
    static const float huge[] = {1e30f, -1e30f, FLT_MAX, -FLT_MAX, 0.0f, 1.0f, 3e38f, -2.5e37f};
    static const float tiny[] = {1e-38f, -1e-38f, 1e-45f, -1e-45f, 0.0f, FLT_MIN, 2e-38f};
    static const float scales[] = {1e-3f, 1.0f, 1.0f, 30.0f, 1e3f};
    uint16_t k;
    uint8_t lab;
    if (c->mode == M_ONE_CLASS) lab = one_class;
    else if (idx < c->k) lab = (uint8_t)idx;
    else lab = (uint8_t)rndn(c->k);
    if (missing_class < c->k && lab == missing_class) lab = (uint8_t)((lab + 1u) % c->k);
    *label = lab;
    for (k = 0; k < c->d; k++) {
        switch (c->mode) {
        case M_DUPLICATES: x[k] = dup[k]; break;
        case M_ZERO: x[k] = 0.0f; break;
        case M_HUGE: x[k] = pick(huge, 8); break;
        case M_TINY: x[k] = pick(tiny, 7); break;
        case M_MIXED:
            x[k] = rndn(5) == 0 ? pick(huge, 8) : rndgauss() + (float)lab;
            break;
        default: {
            float s = pick(scales, 5);
            x[k] = (rndgauss() + (float)((lab + k) % 3u)) * s;
        }
        }
    }
}

/* Everything the comparison of two trained models looks at. */
typedef struct {
    mlrn_status st;
    uint32_t iters;
    int32_t pred[N_PROBE];
    float dec[N_PROBE][MAX_SUB];
} outcome;

static int32_t predict_from_decision(const float *f, uint16_t n_sub, uint8_t k, uint8_t multiclass) {
    uint8_t votes[MAX_K], best = 0, p, q, a;
    uint16_t sub;
    if (n_sub == 1) return f[0] >= 0.0f ? 1 : 0;
    if (multiclass == MLRN_SMO_OVR) {
        for (sub = 1; sub < n_sub; sub++)
            if (f[sub] > f[best]) best = (uint8_t)sub;
        return best;
    }
    memset(votes, 0, sizeof votes);
    sub = 0;
    for (p = 0; p < k; p++)
        for (q = (uint8_t)(p + 1u); q < k; q++, sub++) {
            if (f[sub] >= 0.0f) votes[q]++;
            else votes[p]++;
        }
    for (a = 1; a < k; a++)
        if (votes[a] > votes[best]) best = a;
    return best;
}

/* Predictions and decisions on the probes; checks predict against the decision values. */
static void run_probes(const config *c, const mlrn_smo *s, const float *probes, float *dec_out, outcome *o) {
    uint16_t i, n_sub = mlrn_smo_n_sub(c->k, c->p.multiclass);
    for (i = 0; i < N_PROBE; i++) {
        const float *x = probes + (size_t)i * c->d;
        int32_t pr = mlrn_smo_predict(s, x);
        mlrn_status st;
        GUARD();
        CHECK2(pr >= 0 && pr < (int32_t)c->k, pr, c->k);
        st = mlrn_smo_decision_function(s, x, dec_out);
        GUARD();
        CHECK2(st == MLRN_OK, st, 0);
        CHECK2(predict_from_decision(dec_out, n_sub, c->k, c->p.multiclass) == pr, pr, dec_out[0]);
        o->pred[i] = pr;
        memcpy(o->dec[i], dec_out, n_sub * sizeof(float));
        HIT(C_PREDICT);
    }
}

/* The samples of a failing configuration (as float bits), to turn it into a reproducer. */
static void dump_store(const config *c, const mlrn_store *store, const float *inputs, uint16_t n) {
    uint16_t i, k;
    float scratch[MAX_D];
    for (i = 0; i < n; i++) {
        const float *r = mlrn_store_row(store, i, scratch);
        printf("  sample %u label %u input", i, store->labels[i]);
        for (k = 0; k < c->d; k++) printf(" %a", (double)inputs[(size_t)i * c->d + k]);
        printf(" stored");
        for (k = 0; k < c->d; k++) printf(" %a", (double)r[k]);
        printf("\n");
    }
}

static int same_bits(const void *a, const void *b, size_t n) { return memcmp(a, b, n) == 0; }

static void check_untrained(const config *c, const mlrn_smo *s, const float *x, float *dec_out, int after_failure) {
    uint8_t y = 0;
    uint16_t correct = 0xFFFFu;
    CHECK2(mlrn_smo_predict(s, x) == MLRN_ERR_UNTRAINED, mlrn_smo_predict(s, x), 0);
    HIT(C_ERR_UNTRAINED_PREDICT);
    CHECK(mlrn_smo_decision_function(s, x, dec_out) == MLRN_ERR_UNTRAINED);
    HIT(C_ERR_UNTRAINED_DECISION);
    CHECK(mlrn_smo_eval(s, x, &y, 1, &correct) == MLRN_ERR_UNTRAINED);
    HIT(C_ERR_UNTRAINED_EVAL);
    CHECK(mlrn_smo_compact((mlrn_smo *)s) == MLRN_ERR_UNTRAINED);
    HIT(C_ERR_UNTRAINED_COMPACT);
    if (after_failure) HIT(C_ERR_UNTRAINED_AFTER_FAILURE);
    (void)c;
    GUARD();
}

static void count_train_status(mlrn_status st) {
    if (st == MLRN_OK) HIT(C_TRAIN_OK);
    else if (st == MLRN_MAX_ITER) HIT(C_TRAIN_MAX_ITER);
    else if (st == MLRN_ERR_NAN) HIT(C_TRAIN_NAN);
    else if (st == MLRN_ERR_ONE_CLASS) { HIT(C_TRAIN_ONE_CLASS); HIT(C_ERR_ONE_CLASS); }
    else if (st == MLRN_ERR_EMPTY) { HIT(C_TRAIN_EMPTY); HIT(C_ERR_EMPTY); }
}

/* Time-sliced training with random step sizes; bounded so a hang becomes a failure. */
static mlrn_status train_sliced(const config *c, mlrn_smo *s, uint16_t n) {
    static const uint32_t steps[] = {1u, 1u, 2u, 3u, 7u, 50u, 1000u, 0xFFFFFFFFu};
    uint16_t n_sub = mlrn_smo_n_sub(c->k, c->p.multiclass);
    /* wss2: <= max_iter units per sub-problem; simplified and dcd: <= max_iter sweeps (passes) of <= n units each.
       Every call but the last does >= 1 unit. */
    uint64_t bound = (uint64_t)n_sub * ((uint64_t)c->p.max_iter * (n ? n : 1u) + 2u) + 4u, calls = 0;
    mlrn_status st = mlrn_smo_train_begin(s);
    GUARD();
    if (st != MLRN_OK) return st;
    do {
        st = mlrn_smo_train_step(s, steps[rndn(8)]);
        GUARD();
        if (++calls > bound) {
            CHECK2(calls <= bound && "time-sliced training does not terminate", calls, bound);
            return st;
        }
    } while (st == MLRN_RUNNING);
    return st;
}

static void fill_quant_tables(config *c) {
    uint16_t k;
    double qspan = c->storage == MLRN_STORAGE_I16 ? 65535.0 : 255.0;
    double qmin = c->storage == MLRN_STORAGE_I16 ? -32768.0 : -128.0;
    for (k = 0; k < c->d; k++) {
        double lo, hi, sc;
        switch (rndn(6)) {
        case 0: lo = -1.0; hi = 1.0; break;
        case 1: lo = -1e30; hi = 1e30; break;
        case 2: lo = -(double)FLT_MAX / 2; hi = (double)FLT_MAX / 2; break;
        case 3: lo = 0.0; hi = 1e-30; break;
        case 4: lo = 0.0; hi = 0.0; break;   /* degenerate range: scale 0 */
        default: lo = -4.0; hi = 5.0; break;
        }
        sc = (hi - lo) / qspan;
        c->scale[k] = (float)sc;
        c->offset[k] = (float)(lo - qmin * (double)(float)sc);
    }
}

static void random_params(config *c) {
    static const float Cs[] = {1e-3f, 0.1f, 1.0f, 10.0f, 1000.0f};
    static const float gammas[] = {1e-3f, 0.1f, 0.5f, 1.0f, 10.0f};
    static const float coef0s[] = {0.0f, 1.0f, -1.0f, 0.5f};
    mlrn_smo_params p = mlrn_smo_default_params();
    p.kernel.type = (uint8_t)rndn(4);
    p.solver = (uint8_t)rndn(3);
    if (p.solver == MLRN_SMO_SOLVER_DCD) {       /* dcd trains the linear kernel only */
        p.kernel.type = MLRN_KERNEL_LINEAR;
        p.loss = (uint8_t)rndn(2);
    }
    p.multiclass = (uint8_t)rndn(2);
    p.C = pick(Cs, 5);
    p.kernel.gamma = pick(gammas, 5);
    p.kernel.coef0 = pick(coef0s, 4);
    p.kernel.degree = (uint8_t)(1u + rndn(4));
    p.seed = rnd();
    p.max_passes = (uint16_t)(1u + rndn(10));
    if (rndn(4) == 0) {
        p.max_iter = 1u + rndn(5);
        HIT(C_SMALL_MAX_ITER);
    } else {
        p.max_iter = p.solver == MLRN_SMO_SOLVER_SIMPLIFIED ? 40u : 2000u;
    }
    c->p = p;
}

/* Error statuses of mlrn_store_init / mlrn_smo_init for this configuration's sizes. */
static void check_init_errors(const config *c, mlrn_store *store, void *data, size_t data_size, uint8_t *labels,
                              mlrn_smo *svm, float *work, size_t wf) {
    mlrn_smo_params p;
    mlrn_store tmp;
    const float *sc = c->scale, *of = c->offset;
    uint16_t cap = c->cap, d = c->d;
    uint8_t k = c->k, stg = c->storage;

    CHECK(mlrn_store_init(0, data, data_size, labels, cap, cap, d, stg, k, sc, of) == MLRN_ERR_ARG);
    CHECK(mlrn_store_init(&tmp, 0, data_size, labels, cap, cap, d, stg, k, sc, of) == MLRN_ERR_ARG);
    CHECK(mlrn_store_init(&tmp, data, data_size, 0, cap, cap, d, stg, k, sc, of) == MLRN_ERR_ARG);
    CHECK(mlrn_store_init(&tmp, data, data_size, labels, cap, 0, d, stg, k, sc, of) == MLRN_ERR_ARG);
    CHECK(mlrn_store_init(&tmp, data, data_size, labels, cap, cap, 0, stg, k, sc, of) == MLRN_ERR_ARG);
    CHECK(mlrn_store_init(&tmp, data, data_size, labels, cap, cap, d, stg, 1, sc, of) == MLRN_ERR_ARG);
    CHECK(mlrn_store_init(&tmp, data, data_size, labels, cap, cap, d, 3, k, sc, of) == MLRN_ERR_ARG);
    if (stg != MLRN_STORAGE_F32) {
        CHECK(mlrn_store_init(&tmp, data, data_size, labels, cap, cap, d, stg, k, 0, of) == MLRN_ERR_ARG);
        CHECK(mlrn_store_init(&tmp, data, data_size, labels, cap, cap, d, stg, k, sc, 0) == MLRN_ERR_ARG);
    }
    HIT(C_ERR_ARG_STORE_INIT);
    CHECK(mlrn_store_init(&tmp, data, data_size - 1u, labels, cap, cap, d, stg, k, sc, of) == MLRN_ERR_BUFFER);
    CHECK(mlrn_store_init(&tmp, data, data_size, labels, (size_t)cap - 1u, cap, d, stg, k, sc, of) ==
          MLRN_ERR_BUFFER);
    HIT(C_ERR_BUFFER_STORE);
    GUARD();

    /* mlrn_smo_init */
    CHECK(mlrn_smo_init(0, &c->p, store, work, wf) == MLRN_ERR_ARG);
    CHECK(mlrn_smo_init(svm, 0, store, work, wf) == MLRN_ERR_ARG);
    CHECK(mlrn_smo_init(svm, &c->p, 0, work, wf) == MLRN_ERR_ARG);
    CHECK(mlrn_smo_init(svm, &c->p, store, 0, wf) == MLRN_ERR_ARG);
    HIT(C_ERR_ARG_NULL);
    p = c->p; p.C = 0.0f;
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.C = -1.0f;
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.C = -0.0f;
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.C = f_inf();
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.C = f_nan();   /* NaN */
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    HIT(C_ERR_ARG_C);
    p = c->p; p.kernel.type = (uint8_t)(4u + rndn(252));
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    HIT(C_ERR_ARG_KERNEL);
    p = c->p; p.solver = (uint8_t)(3u + rndn(253));
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.solver = MLRN_SMO_SOLVER_DCD; p.kernel.type = (uint8_t)(1u + rndn(3));   /* dcd: linear only */
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.loss = (uint8_t)(2u + rndn(254));
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.solver = (uint8_t)rndn(2); p.loss = MLRN_SMO_LOSS_SQUARED_HINGE;   /* squared hinge: dcd only */
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.multiclass = (uint8_t)(2u + rndn(254));
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.tol = 0.0f;
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.alpha_tol = -1.0f;
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.max_iter = 0u;
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.kernel.gamma = f_inf();
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    p = c->p; p.solver = MLRN_SMO_SOLVER_SIMPLIFIED; p.max_passes = 0u;
    CHECK(mlrn_smo_init(svm, &p, store, work, wf) == MLRN_ERR_ARG);
    HIT(C_ERR_ARG_PARAMS);
    CHECK2(mlrn_smo_init(svm, &c->p, store, work, wf - 1u) == MLRN_ERR_BUFFER, wf, 0);
    HIT(C_ERR_BUFFER_WORK);
    GUARD();
}

static void one_config(void) {
    config c;
    mlrn_store *store;
    mlrn_smo *A, *B;
    void *data;
    uint8_t *labels, *yprobe;
    float *workA, *workB, *dec, *x, *probes, *inputs, dup[MAX_D];
    size_t data_size, wf;
    uint16_t n_fill, i, n_sub, rows, t, k, nsv_before;
    uint8_t one_class, missing_class, present[MAX_K];
    int all_present;
    mlrn_status stA, stB;
    uint32_t itA = 0;
    outcome oA, oB, oC;

    memset(&c, 0, sizeof c);
    c.k = (uint8_t)(2u + rndn(4));
    c.d = (uint16_t)(1u + rndn(MAX_D));
    c.cap = (uint16_t)(2u + rndn(MAX_CAP - 1u));
    c.storage = (uint8_t)rndn(3);
    c.mode = (uint8_t)rndn(M_N);
    random_params(&c);
    n_sub = mlrn_smo_n_sub(c.k, c.p.multiclass);
    /* rows of the alpha table: one for the linear kernel (w holds the model) */
    rows = c.p.kernel.type == MLRN_KERNEL_LINEAR ? 1u : mlrn_smo_n_rows(c.k, c.p.multiclass);
    snprintf(g_desc, sizeof g_desc,
             "kernel=%u solver=%u loss=%u multiclass=%u classes=%u d=%u capacity=%u storage=%u mode=%u C=%g gamma=%g "
             "coef0=%g degree=%u max_iter=%lu max_passes=%u",
             c.p.kernel.type, c.p.solver, c.p.loss, c.p.multiclass, c.k, c.d, c.cap, c.storage, c.mode, (double)c.p.C,
             (double)c.p.kernel.gamma, (double)c.p.kernel.coef0, c.p.kernel.degree, (unsigned long)c.p.max_iter,
             c.p.max_passes);
    HIT(C_DATA_RANDOM + c.mode);
    HIT(C_KERNEL_LINEAR + c.p.kernel.type);
    HIT(c.p.solver == MLRN_SMO_SOLVER_WSS2 ? C_SOLVER_WSS2
        : c.p.solver == MLRN_SMO_SOLVER_DCD ? C_SOLVER_DCD : C_SOLVER_SIMPLIFIED);
    HIT(c.p.multiclass == MLRN_SMO_OVO ? C_OVO : C_OVR);
    HIT(c.k == 2 ? C_BINARY : C_MULTICLASS);
    HIT(C_STORAGE_F32 + c.storage);

    /* buffers of exactly the documented sizes */
    if (c.storage != MLRN_STORAGE_F32) {
        c.scale = (float *)guard_alloc(c.d * sizeof(float), "scale", 0);
        c.offset = (float *)guard_alloc(c.d * sizeof(float), "offset", 0);
        fill_quant_tables(&c);
    }
    data_size = mlrn_store_data_size(c.cap, c.d, c.storage);
    data = guard_alloc(data_size, "store data", 0x5A);
    labels = (uint8_t *)guard_alloc(c.cap, "labels", 0xEE);
    store = (mlrn_store *)guard_alloc(sizeof(mlrn_store), "store struct", 0x11);
    wf = mlrn_smo_work_floats(c.cap, c.d, c.k, c.storage, &c.p);
    CHECK(mlrn_smo_buffer_size(c.cap, c.d, c.k, c.storage, &c.p) == wf * sizeof(float));
    /* Two work arrays with different initial bytes: the NaN pattern (0xFFFFFFFF) would
       propagate into the result if training read a float it never wrote. */
    workA = (float *)guard_alloc(wf * sizeof(float), "work A", 0xFF);
    workB = (float *)guard_alloc(wf * sizeof(float), "work B", 0x00);
    A = (mlrn_smo *)guard_alloc(sizeof(mlrn_smo), "svm A", 0x22);
    B = (mlrn_smo *)guard_alloc(sizeof(mlrn_smo), "svm B", 0x33);
    dec = (float *)guard_alloc(n_sub * sizeof(float), "decision out", 0x44);
    x = (float *)guard_alloc(c.d * sizeof(float), "x", 0);
    probes = (float *)guard_alloc((size_t)N_PROBE * c.d * sizeof(float), "probes", 0);
    yprobe = (uint8_t *)guard_alloc(N_PROBE, "probe labels", 0);
    inputs = (float *)guard_alloc((size_t)c.cap * c.d * sizeof(float), "inputs", 0);

    CHECK(mlrn_store_init(store, data, data_size, labels, c.cap, c.cap, c.d, c.storage, c.k, c.scale, c.offset) ==
          MLRN_OK);
    GUARD();
    check_init_errors(&c, store, data, data_size, labels, A, workA, wf);
    CHECK(mlrn_smo_init(A, &c.p, store, workA, wf) == MLRN_OK);
    CHECK(mlrn_smo_init(B, &c.p, store, workB, wf) == MLRN_OK);
    GUARD();

    /* untrained, and empty */
    for (k = 0; k < c.d; k++) x[k] = rndgauss();
    check_untrained(&c, A, x, dec, 0);
    CHECK(mlrn_smo_train_step(A, 10u) == MLRN_ERR_ARG);   /* step before begin */
    CHECK(mlrn_smo_train_step(0, 10u) == MLRN_ERR_ARG);
    CHECK(mlrn_smo_train_begin(0) == MLRN_ERR_ARG);
    CHECK(mlrn_smo_train(0, &itA) == MLRN_ERR_ARG);
    HIT(C_ERR_ARG_STEP);
    CHECK(mlrn_smo_train(A, &itA) == MLRN_ERR_EMPTY);
    HIT(C_ERR_EMPTY);
    GUARD();
    check_untrained(&c, A, x, dec, 1);

    /* fill */
    one_class = (uint8_t)rndn(c.k);
    missing_class = rndn(8) == 0 ? (uint8_t)rndn(c.k) : 0xFFu;
    for (k = 0; k < c.d; k++) dup[k] = rndgauss() * 10.0f;
    n_fill = rndn(5) < 3 ? c.cap : (uint16_t)rndn((uint32_t)c.cap + 1u);
    memset(present, 0, sizeof present);
    for (i = 0; i < n_fill; i++) {
        uint8_t lab;
        make_row(&c, i, x, &lab, one_class, missing_class, dup);
        if (rndn(4) == 0) {   /* a rejected sample first: nothing may change */
            static unsigned char snap_data[MAX_CAP * MAX_D * 4u], snap_labels[MAX_CAP];
            float save;
            uint16_t at = (uint16_t)rndn(c.d);
            memcpy(snap_data, data, data_size);
            memcpy(snap_labels, labels, c.cap);
            save = x[at];
            switch (rndn(5)) {
            case 0:
                x[at] = f_nan();
                CHECK(mlrn_store_add(store, x, lab) == MLRN_ERR_NAN);
                HIT(C_ERR_NAN_ADD);
                break;
            case 1:
                x[at] = rndn(2) ? f_inf() : -f_inf();
                CHECK(mlrn_store_add(store, x, lab) == MLRN_ERR_NAN);
                HIT(C_ERR_INF_ADD);
                break;
            case 2:
                CHECK(mlrn_store_add(store, x, (uint8_t)(c.k + rndn(256u - c.k))) == MLRN_ERR_LABEL);
                HIT(C_ERR_LABEL);
                break;
            case 3:
                CHECK(mlrn_store_add(store, 0, lab) == MLRN_ERR_ARG);
                CHECK(mlrn_store_add(0, x, lab) == MLRN_ERR_ARG);
                HIT(C_ERR_ARG_NULL);
                break;
            default:
                CHECK(mlrn_store_set(store, (uint16_t)(c.cap + rndn(100)), x, lab) == MLRN_ERR_ARG);
                HIT(C_ERR_SET_INDEX);
                break;
            }
            x[at] = save;
            GUARD();
            CHECK2(store->n == i, store->n, i);
            CHECK(same_bits(snap_data, data, data_size) && same_bits(snap_labels, labels, c.cap));
        }
        CHECK2(mlrn_store_add(store, x, lab) == MLRN_OK, i, lab);
        GUARD();
        memcpy(inputs + (size_t)i * c.d, x, c.d * sizeof(float));
        present[lab] = 1;
        if (i == 0) {   /* a single sample is not enough */
            CHECK(mlrn_smo_train(A, &itA) == MLRN_ERR_EMPTY);
            HIT(C_ERR_EMPTY);
            GUARD();
        }
    }
    CHECK2(store->n == n_fill, store->n, n_fill);
    if (n_fill == c.cap) {
        CHECK(mlrn_store_add(store, x, 0) == MLRN_ERR_FULL);
        CHECK(mlrn_store_add(store, x, 0) == MLRN_ERR_FULL);
        CHECK(store->n == c.cap);
        HIT(C_ERR_FULL);
        GUARD();
    }
    all_present = 1;
    for (k = 0; k < c.k; k++) all_present &= present[k];

    /* probes: stored inputs, random points, zeros, huge values */
    for (i = 0; i < N_PROBE; i++) {
        float *pr = probes + (size_t)i * c.d;
        yprobe[i] = (uint8_t)rndn(c.k);
        for (k = 0; k < c.d; k++) {
            if (i < 4 && n_fill) pr[k] = inputs[(size_t)rndn(n_fill) * c.d + k];
            else if (i == 4) pr[k] = 0.0f;
            else if (i == 5) pr[k] = rndn(2) ? FLT_MAX : -FLT_MAX;
            else pr[k] = rndgauss() * 3.0f;
        }
    }

    /* train one-shot (A) and time-sliced (B) */
    stA = mlrn_smo_train(A, &itA);
    GUARD();
    stB = train_sliced(&c, B, store->n);
    CHECK2(is_valid_train_status(stA), stA, 0);
    CHECK2(stA == stB, stA, stB);
    count_train_status(stA);
    if (n_fill < 2) CHECK2(stA == MLRN_ERR_EMPTY, stA, n_fill);
    else if (!all_present)   /* an earlier sub-problem may overflow first */
        CHECK2(stA == MLRN_ERR_ONE_CLASS || stA == MLRN_ERR_NAN, stA, n_fill);
    else CHECK2(stA != MLRN_ERR_ONE_CLASS && stA != MLRN_ERR_EMPTY, stA, n_fill);
    /* ordinary data trains (poly/sigmoid with a large gamma, or a huge quantisation range, may overflow) */
    if (c.mode == M_RANDOM && c.storage == MLRN_STORAGE_F32 && c.p.kernel.type <= MLRN_KERNEL_RBF && all_present &&
        n_fill >= 2)
        CHECK2(stA == MLRN_OK || stA == MLRN_MAX_ITER, stA, 0);

    if (stA < 0) {
        check_untrained(&c, A, x, dec, 1);
        check_untrained(&c, B, x, dec, 1);
    } else {
        /* bit-identical one-shot and sliced models */
        CHECK2(itA == B->total_iter, itA, B->total_iter);
        CHECK(A->phase == 2 && B->phase == 2 && A->n_model == B->n_model && A->n_model == store->n);
        CHECK(same_bits(A->b, B->b, n_sub * sizeof(float)));
        if (c.p.kernel.type == MLRN_KERNEL_LINEAR)
            CHECK(same_bits(A->w, B->w, (size_t)n_sub * c.d * sizeof(float)));
        for (t = 0; t < rows; t++)
            CHECK2(same_bits(A->alpha + (size_t)t * c.cap, B->alpha + (size_t)t * c.cap, store->n * sizeof(float)),
                   t, rows);
        for (t = 0; t < n_sub; t++) CHECK2(mlrn_isfinite(A->b[t]), A->b[t], t);
        {   /* a model reported as trained has finite coefficients */
            int finite = 1, w_finite = 1;
            for (t = 0; t < rows; t++)
                for (i = 0; i < store->n; i++) finite &= mlrn_isfinite(A->alpha[(size_t)t * c.cap + i]);
            if (c.p.kernel.type == MLRN_KERNEL_LINEAR)
                for (t = 0; t < (uint16_t)(n_sub * c.d); t++) w_finite &= mlrn_isfinite(A->w[t]);
            CHECK2(finite, stA, 0);
            if (!w_finite) {
                /* KNOWN BUG (tests/runtime/c/repro_linear_nonfinite_w.c): the linear wss2 weight vector
                   overflows (C * x beyond FLT_MAX) yet training reports success, because only b is
                   checked for finiteness and b comes out finite. Counted, not failed, so the
                   rest of the test keeps running; test_runtime_robustness.py xfails on it. */
                g_known_nonfinite_w++;
                if (g_known_nonfinite_w <= 1u) {
                    printf("KNOWN_BUG config %lu: %s status %d with a non-finite w\n", g_config, g_desc, stA);
                    dump_store(&c, store, inputs, n_fill);
                }
            }
            if (!finite && g_failures <= 3u) dump_store(&c, store, inputs, n_fill);
        }
        memset(&oA, 0, sizeof oA);
        memset(&oB, 0, sizeof oB);
        run_probes(&c, A, probes, dec, &oA);
        run_probes(&c, B, probes, dec, &oB);
        CHECK(same_bits(oA.pred, oB.pred, sizeof oA.pred) && same_bits(oA.dec, oB.dec, sizeof oA.dec));
        HIT(C_SLICED_IDENTICAL);

        /* eval, and its error statuses */
        {
            uint16_t correct = 0xFFFFu, expect = 0;
            for (i = 0; i < N_PROBE; i++) expect = (uint16_t)(expect + (oA.pred[i] == (int32_t)yprobe[i]));
            CHECK(mlrn_smo_eval(A, probes, yprobe, N_PROBE, &correct) == MLRN_OK);
            CHECK2(correct == expect, correct, expect);
            HIT(C_EVAL);
            CHECK(mlrn_smo_eval(0, probes, yprobe, N_PROBE, &correct) == MLRN_ERR_ARG);
            CHECK(mlrn_smo_eval(A, 0, yprobe, N_PROBE, &correct) == MLRN_ERR_ARG);
            CHECK(mlrn_smo_eval(A, probes, 0, N_PROBE, &correct) == MLRN_ERR_ARG);
            CHECK(mlrn_smo_eval(A, probes, yprobe, N_PROBE, 0) == MLRN_ERR_ARG);
            CHECK(mlrn_smo_predict(0, x) == MLRN_ERR_ARG && mlrn_smo_predict(A, 0) == MLRN_ERR_ARG);
            CHECK(mlrn_smo_decision_function(A, x, 0) == MLRN_ERR_ARG);
            CHECK(mlrn_smo_decision_function(0, x, dec) == MLRN_ERR_ARG);
            CHECK(mlrn_smo_compact(0) == MLRN_ERR_ARG);
            HIT(C_ERR_ARG_NULL);
            /* NaN / inf inputs */
            {
                uint16_t at = (uint16_t)rndn(c.d), row = (uint16_t)rndn(N_PROBE);
                float *pr = probes + (size_t)row * c.d, save = pr[at];
                pr[at] = rndn(2) ? f_nan() : -f_inf();
                CHECK(mlrn_smo_predict(A, pr) == MLRN_ERR_NAN);
                HIT(C_ERR_NAN_PREDICT);
                CHECK(mlrn_smo_decision_function(A, pr, dec) == MLRN_ERR_NAN);
                HIT(C_ERR_NAN_DECISION);
                CHECK(mlrn_smo_eval(A, probes, yprobe, N_PROBE, &correct) == MLRN_ERR_NAN);
                HIT(C_ERR_NAN_EVAL);
                pr[at] = save;
            }
            GUARD();
        }

        /* compaction keeps every prediction and decision value, bit for bit */
        nsv_before = 0;
        for (t = 0; t < A->n_model; t++) {
            int sv = 0;
            for (i = 0; i < rows; i++) sv |= A->alpha[(size_t)i * c.cap + t] != 0.0f;
            nsv_before = (uint16_t)(nsv_before + (uint16_t)sv);
        }
        {
            int32_t r = mlrn_smo_compact(A);
            GUARD();
            if (c.p.kernel.type == MLRN_KERNEL_LINEAR) {
                CHECK2(r == 0, r, 0);
                CHECK(store->n == n_fill);
            } else {
                CHECK2(r == (int32_t)nsv_before && store->n == r && A->n_model == r, r, nsv_before);
                for (t = 0; t < store->n; t++) {
                    int sv = 0;
                    for (i = 0; i < rows; i++) sv |= A->alpha[(size_t)i * c.cap + t] != 0.0f;
                    CHECK2(sv && labels[t] < c.k, t, labels[t]);
                }
            }
            memset(&oC, 0, sizeof oC);
            run_probes(&c, A, probes, dec, &oC);
            CHECK(same_bits(oA.pred, oC.pred, sizeof oA.pred) && same_bits(oA.dec, oC.dec, sizeof oA.dec));
            HIT(C_COMPACT_UNCHANGED);
            /* compacting twice changes nothing */
            CHECK2(mlrn_smo_compact(A) == r, mlrn_smo_compact(A), r);
            GUARD();
        }

        /* retrain on what is left (possibly < 2 samples, or missing classes) */
        if (c.p.kernel.type != MLRN_KERNEL_LINEAR) {
            mlrn_status st = mlrn_smo_train(A, &itA);
            GUARD();
            CHECK2(is_valid_train_status(st), st, 0);
            if (store->n < 2) CHECK2(st == MLRN_ERR_EMPTY, st, store->n);
            count_train_status(st);
            if (st == MLRN_ERR_EMPTY) {
                /* refused before touching anything: the compacted model stays in service */
                run_probes(&c, A, probes, dec, &oC);
                CHECK(same_bits(oA.pred, oC.pred, sizeof oA.pred) && same_bits(oA.dec, oC.dec, sizeof oA.dec));
            } else if (st < 0) {
                check_untrained(&c, A, x, dec, 1);
            } else {
                run_probes(&c, A, probes, dec, &oC);
            }
            HIT(C_RETRAIN_AFTER_COMPACT);
            /* the store is usable again after compaction */
            if (store->n < c.cap) {
                uint16_t before = store->n;
                CHECK(mlrn_store_add(store, inputs, labels[0] < c.k ? labels[0] : 0) == MLRN_OK);
                CHECK(store->n == before + 1u);
                GUARD();
            }
        }
    }
    guard_free_all();
}

int main(int argc, char **argv) {
    unsigned long n_configs = argc > 1 ? strtoul(argv[1], 0, 10) : 2000ul;
    unsigned long seed = argc > 2 ? strtoul(argv[2], 0, 10) : 1ul;
    unsigned i;
    if (argc > 1 && strcmp(argv[1], "canary-selftest") == 0) {   /* the canary check must catch this */
        unsigned char *b = (unsigned char *)guard_alloc(7u, "selftest", 0);
        b[7] = 0;   /* one past the end: inside the allocation, so only the canary can see it */
        GUARD();
        printf("SELFTEST the overflow went unnoticed\n");
        return 3;
    }
    g_rs ^= (uint64_t)seed * 0x9E3779B97F4A7C15ull;
    if (!g_rs) g_rs = 1u;
    for (g_config = 0; g_config < n_configs; g_config++) one_config();
    for (i = 0; i < C_N; i++) printf("CASE %s %lu\n", case_names[i], g_cases[i]);
    printf("KNOWN_BUG linear_w_nonfinite_reported_ok %lu\n", g_known_nonfinite_w);
    printf("SUMMARY configs=%lu checks=%lu failures=%lu %s\n", n_configs, g_checks, g_failures,
           g_failures ? "FAILED" : "PASSED");
    return g_failures ? 1 : 0;
}
