/* mlrn_smo.h: SVM training on the device by SMO, and prediction with the trained model.
 *
 * Two solvers:
 *  - MLRN_SMO_SOLVER_WSS2 (default): SMO with second-order working-set selection
 *    (Fan, Chen, Lin, JMLR 2005; the rule libsvm uses), stopping when the maximal
 *    KKT violation m(a) - M(a) < tol, with max_iter as a guard that reports
 *    MLRN_MAX_ITER instead of looping forever. For the linear kernel the gradient
 *    is not stored: G_t = y_t (w . x_t) - 1 from the weight vector w kept up to date,
 *    so memory is O(n) (alphas only) and one iteration costs O(n d).
 *  - MLRN_SMO_SOLVER_SIMPLIFIED: the "simplified SMO" of Edge2Train / EloquentArduino,
 *    as the equations are written (random j from the shared xorshift32, eta =
 *    2K_ij - K_ii - K_jj, the b1/b2 rule, max_passes sweeps without change).
 *    n_iter counts sweeps over the data. Kept as the seeds' reproducible baseline.
 *  - MLRN_SMO_SOLVER_DCD (linear kernel only): dual coordinate descent (Hsieh, Chang, Lin,
 *    Keerthi, Sundararajan, ICML 2008; the algorithm of liblinear's L2-regularised L1/L2-loss
 *    dual solver): one alpha at a time in a random order (the shared xorshift32), w kept up to
 *    date, shrinking on the projected gradient, stopping when PGmax - PGmin <= tol over the
 *    whole set. The bias is an extra feature of constant 1, so b is regularised as in
 *    liblinear and there is no equality constraint. A visit costs O(d), not the O(n d) of a
 *    wss2 pair update. Loss: hinge (L1, 0 <= alpha <= C) or squared hinge (L2, D_ii = 1/(2C)).
 *    n_iter counts outer iterations (passes over the active set).
 *
 * Multi-class: one-vs-one (pairs (0,1),(0,2)...,(1,2)...; libsvm's order) or
 * one-vs-rest. Sub-problem (p,q) labels class q as +1 and p as -1; a decision
 * f >= 0 votes for q. Binary is the pair (0,1): f >= 0 predicts class 1.
 *
 * Memory: everything lives in a caller-owned float array of
 * mlrn_smo_work_floats(...) entries (layout below) and the caller's mlrn_store.
 *
 * Arithmetic order is part of the algorithm: the Python reference
 * (microlearn.trainer.reference) repeats every float32 operation in the same
 * order, so host, device and Python agree bit for bit. Change both or neither. */
#ifndef MLRN_SMO_H
#define MLRN_SMO_H
#include "mlrn.h"
#include "mlrn_kernel.h"
#include "mlrn_rng.h"
#include "mlrn_store.h"

MLRN_FP_EXACT_BEGIN

#define MLRN_SMO_SOLVER_WSS2 0
#define MLRN_SMO_SOLVER_SIMPLIFIED 1
#define MLRN_SMO_SOLVER_DCD 2
#define MLRN_SMO_LOSS_HINGE 0           /* dcd: L1 loss max(0, 1 - y f), the dual box 0 <= alpha <= C */
#define MLRN_SMO_LOSS_SQUARED_HINGE 1   /* dcd: L2 loss max(0, 1 - y f)^2, alpha >= 0, D_ii = 1/(2C) */
#define MLRN_SMO_OVO 0
#define MLRN_SMO_OVR 1

/* MLRN_SMO_SOLVERS: the solvers mlrn_smo_train_step compiles (bit s for MLRN_SMO_SOLVER_s). A solver is
 * chosen at run time (params.solver), so without this every build would carry every solver's code (dcd
 * alone is ~2.7 KB of AVR flash). The default is wss2 and simplified, the solvers that existed before dcd:
 * code that includes the runtime directly (the self-learning loop, a hand-written application) compiles
 * as before; dcd is opt-in (-DMLRN_SMO_SOLVERS=0x7u for all three). A generated trainer header sets it to
 * wss2 and its own solver before its first include (wss2 always: the self-learning loop's solver, so a
 * learner header included later still works). mlrn_smo_init refuses a solver left out
 * (MLRN_SMO_PARAM_SOLVER). */
#ifndef MLRN_SMO_SOLVERS
#define MLRN_SMO_SOLVERS 0x3u
#endif
#define MLRN_SMO_SOLVER_COMPILED(s) ((MLRN_SMO_SOLVERS >> (s)) & 1u)
/* The loss of a parameter set: its `loss` field when dcd is compiled, hinge otherwise (the field exists only
 * with dcd). */
#if MLRN_SMO_SOLVER_COMPILED(2)
#define MLRN_SMO__LOSS(p) ((p)->loss)
#else
#define MLRN_SMO__LOSS(p) MLRN_SMO_LOSS_HINGE
#endif

/* MLRN_SMO_MAX_CLASSES: the most classes a trainer takes (2..64): the size of the vote array on
 * prediction's stack (one byte per class) and of the self-learning loop's class maps (3 bytes per class).
 * 16 by default; a generated trainer header for more classes raises it to its class count. One-vs-rest keeps
 * everything linear in the classes (n sub-problems); one-vs-one is quadratic (n (n - 1) / 2 sub-problems,
 * 2,016 for 64 classes: uint16 counts), and the Python side refuses it beyond 16 classes. */
#ifndef MLRN_SMO_MAX_CLASSES
#define MLRN_SMO_MAX_CLASSES 16
#endif
/* MLRN_SMO_WARM (0/1): compile warm starts of wss2 with the linear kernel (mlrn_smo_set_warm). 0 (the default):
 * no field, no code. The self-learning loop turns it on with MLRN_LEARNER_WARM (mlrn_learner.h). */
#ifndef MLRN_SMO_WARM
#define MLRN_SMO_WARM 0
#endif
/* MLRN_SMO_CACHE (0/1): compile the kernel-column cache of wss2 with a non-linear kernel (mlrn_smo_set_cache).
 * 0 (the default): no field, no code: the trainer is the very code it was before the cache. A generated trainer
 * header turns it on when its planner gave it columns (NAME_CACHE_COLS > 0). */
#ifndef MLRN_SMO_CACHE
#define MLRN_SMO_CACHE 0
#endif
/* MLRN_SMO_FIXED (0/1): wss2 with the linear or rbf kernel on int8 storage computes in integers where it scans
 * the samples (for cores without an FPU, where a float multiply-add is a library call):
 *  - w . x_t = inv * sum_k U_k q_tk + c (linear), with U = round(u sc) in int16 (u: the folded w, mlrn_smo__fold;
 *    sc the power of two that puts max_k |u_k| sc in [16383.5, 32767), inv = 1 / sc) and an int32 sum (no
 *    overflow for d <= MLRN_SMO_FX_MAX_D: |sum| <= 32767 * 128 * 512 < 2^31);
 *  - |x_i - x_t|^2 = qs * sum_k (q_ik - q_tk)^2 S_k (the linear kernel's curvature, the rbf kernel's distance),
 *    S_k = round(T scale_k^2 / m) in uint16 (m = max_k scale_k^2, T = min(65535, (2^32 - 1) / (65025 d)): the
 *    uint32 sum cannot overflow) and qs = m / T.
 *  - with the linear kernel, wss2's two scans choose the working pair in integers too (mlrn_smo__wss2_select_fx):
 *    the score -y_t G_t less the constant c, y_t K - A_t in units of inv (int32: K = round(sc) = 1 / inv,
 *    sc halved if it would reach 2^30), the box tests on the alphas' bits, one float square and division per
 *    second-order candidate; the pair's update stays float32, from the integer difference V_i - V_j.
 * Both are approximations of the float32 values (U: 15 significant bits of the largest component, S: T levels),
 * mirrored bit for bit by microlearn.trainer.reference (arith "fixed"). Other storages, solvers and kernels keep
 * the float32 path; where the integer path applies, mlrn_smo_init refuses d outside 2..MLRN_SMO_FX_MAX_D
 * (MLRN_ERR_ARG: the tables need their scratch floats and the int32 sum its bound). 0 (the default): no code. */
#ifndef MLRN_SMO_FIXED
#define MLRN_SMO_FIXED 0
#endif
#define MLRN_SMO_FX_MAX_D 512u
#define MLRN_SMO_FX_U_LOW 16383.5f   /* max |U| lands in [LOW, HIGH): rounds to at most 32767 */
#define MLRN_SMO_FX_U_HIGH 32767.0f
#define MLRN_SMO_FX_U_MIN 1e-30f      /* max |u| below this: U = 0 (sc would overflow float32 near subnormals) */
#define MLRN_SMO_FX_DQ2_MAX 65025u   /* (q_ik - q_tk)^2 <= 255^2 */
#define MLRN_SMO_FX_S_MAX 65535u
#define MLRN_SMO_FX_K_MAX 1073741824.0f   /* 2^30: sc, so the label term K = round(sc), below it ... */
#define MLRN_SMO_FX_SUM_MAX 8388608ul     /* ... and sum_k |U_k| below 2^30 / 128: |+-K - A_t| < 2^31 */
/* MLRN_SMO_KERNEL_CODES (0/1, default 1): with int16/int8 storage, wss2's non-linear kernels between two stored
 * samples i and t read sample t's codes instead of dequantising its row:
 *  - rbf: the squared distance sum_k ((q_ik - q_tk) scale_k)^2 (the offsets cancel; the difference is exact);
 *  - poly, sigmoid: the dot product sum_k u_ik q_tk + c_i, with sample i's row x_i (dequantised once per
 *    iteration) folded into the map: u_ik = x_ik scale_k, c_i = sum_k x_ik offset_k (what the linear kernel's wq
 *    does with w).
 * The arithmetic microlearn.trainer.reference mirrors. 0 restores the dequantising path (its float32 values differ
 * in the last bits: the reference then no longer agrees; benchmarks/bench_kernel_cache.py builds it to measure
 * the difference). */
#ifndef MLRN_SMO_KERNEL_CODES
#define MLRN_SMO_KERNEL_CODES 1
#endif
#if MLRN_SMO_MAX_CLASSES < 2 || MLRN_SMO_MAX_CLASSES > 64
#error "MLRN_SMO_MAX_CLASSES must be in 2..64"
#endif
#define MLRN_SMO_TAU 1e-12f       /* libsvm's floor for a non-positive curvature */
#define MLRN_SMO_BIG 3.0e38f
#define MLRN_SMO_DCD_PG_EPS 1e-12f  /* liblinear: a coordinate whose |projected gradient| is below this is not moved */
#define MLRN_SMO_DCD_BIAS 1.0f      /* the constant bias feature (liblinear's B = 1): b = w_bias * 1 */
/* dcd's state, at the head of its work region right after alpha (kept out of mlrn_smo, whose every byte
 * the other solvers and the self-learning loop would pay in SRAM): the projected-gradient bounds of the
 * last pass (old: the shrinking thresholds) and of this one (new), D_ii, and the size of the active set
 * (a uint16 held exactly in a float: the active set is perm[0..active), visited at perm[pos]). */
enum { MLRN_SMO__DCD_PG_MAX_OLD, MLRN_SMO__DCD_PG_MIN_OLD, MLRN_SMO__DCD_PG_MAX_NEW, MLRN_SMO__DCD_PG_MIN_NEW,
       MLRN_SMO__DCD_DIAG, MLRN_SMO__DCD_ACTIVE, MLRN_SMO__DCD_STATE };

typedef struct {
    float C;
    float tol;           /* wss2: KKT violation bound; simplified: KKT check tolerance */
    float alpha_tol;     /* simplified: smallest alpha change that counts */
    uint32_t max_iter;   /* wss2: pair updates per sub-problem; simplified: sweeps */
    uint32_t seed;       /* simplified: PRNG seed */
    uint16_t max_passes; /* simplified: sweeps without change before stopping */
    uint8_t solver;
    uint8_t multiclass;
#if MLRN_SMO_SOLVER_COMPILED(MLRN_SMO_SOLVER_DCD)
    uint8_t loss;        /* dcd: MLRN_SMO_LOSS_HINGE or MLRN_SMO_LOSS_SQUARED_HINGE (others: hinge only). Only
                          * when dcd is compiled (MLRN_SMO_SOLVERS): the other solvers are hinge-loss, and the
                          * byte would cost every build two copies (mlrn_smo.p and the learner's params) */
#endif
    mlrn_kernel_params kernel;
} mlrn_smo_params;

typedef struct {
    mlrn_smo_params p;
    mlrn_store *store;
    /* views into the caller's work array */
    float *alpha;    /* linear: 1 row; kernels: n_rows rows; each `capacity` long (coef = y alpha after training) */
    float *grad;     /* capacity: wss2 with a non-linear kernel */
    float *diag;     /* capacity: K(x_t, x_t) for wss2 with poly/sigmoid */
    float *w;        /* n_sub * d: linear kernel */
    float *b;        /* n_sub */
    float *scratch;  /* 4 * d, quantised storage: dequantised rows i, j, t and the decision's row */
    float *wq;       /* d + 1, wss2 + linear + quantised storage: w_k * scale_k, then sum_k w_k * offset_k */
    uint16_t n_sub, n_model;
    /* progress of training (resumable: see mlrn_smo_train_step) */
    uint16_t sub, pos, mpos, m, passes, changed;
    uint8_t cur_p, cur_q;
    uint8_t ovr_sub;   /* this sub-problem is one class against all the others */
    uint8_t one_row;   /* every sample's alpha lives in row 0 (linear kernel or binary) */
    uint8_t phase;   /* 0 idle, 1 training, 2 trained */
    uint32_t iter, total_iter, rng;
    mlrn_status status;
#if MLRN_SMO_WARM
    float *warm;       /* NULL (cold) or n_sub rows of `capacity` alphas: sub-problem k starts from row k (see
                        * mlrn_smo_set_warm) and leaves its solution there */
#endif
#if MLRN_SMO_CACHE
    float *cache;      /* NULL (no cache) or cache_cols columns of `capacity` floats, then the bookkeeping bytes
                        * (mlrn_smo_set_cache) */
    uint8_t cache_cols;
    uint32_t cache_hits, cache_misses;   /* column look-ups since mlrn_smo_train_begin */
#endif
} mlrn_smo;

/* ---- sizes ------------------------------------------------------------- */

static inline uint16_t mlrn_smo_n_sub(uint8_t n_classes, uint8_t multiclass) {
    if (n_classes <= 2) return 1;
    return (uint16_t)(multiclass == MLRN_SMO_OVR ? n_classes : n_classes * (n_classes - 1) / 2);
}

/* Rows of dual coefficients kept for kernel models (libsvm layout for ovo). */
static inline uint16_t mlrn_smo_n_rows(uint8_t n_classes, uint8_t multiclass) {
    if (n_classes <= 2) return 1;
    return multiclass == MLRN_SMO_OVR ? n_classes : (uint16_t)(n_classes - 1);
}

/* wq and the scratch rows exist only with quantised storage (scratch rows also with a read-only store): in a
 * build of one storage type (MLRN_STORE_TYPE) these are constants, and a float32 RAM build drops their paths.
 * wq is also the linear kernel's alone: a build without it (MLRN_KERNELS) drops the folded-w paths (1.6 KB of
 * an uno rbf trainer's flash). */
#define MLRN_SMO__WQ(s) \
    (MLRN_KERNEL_COMPILED(MLRN_KERNEL_LINEAR) && MLRN_STORE_TYPE_OF((s)->store) != MLRN_STORAGE_F32 ? (s)->wq : (float *)0)
#define MLRN_SMO__SCRATCH(s) \
    (MLRN_STORE_TYPE_OF((s)->store) != MLRN_STORAGE_F32 || MLRN_STORE_READ_ONLY ? (s)->scratch : (float *)0)

static inline size_t mlrn_smo_work_floats(uint16_t capacity, uint16_t d, uint8_t n_classes, uint8_t storage,
                                          const mlrn_smo_params *p) {
    int linear = p->kernel.type == MLRN_KERNEL_LINEAR;
    int wss2 = p->solver == MLRN_SMO_SOLVER_WSS2;
    size_t n_sub = mlrn_smo_n_sub(n_classes, p->multiclass);
    size_t f = (size_t)(linear ? 1u : mlrn_smo_n_rows(n_classes, p->multiclass)) * capacity;
    if (wss2 && !linear) f += capacity;                                       /* grad */
    if (p->solver == MLRN_SMO_SOLVER_DCD) f += MLRN_SMO__DCD_STATE + capacity + (capacity + 1u) / 2u; /* qd, perm */
    if (wss2 && (p->kernel.type == MLRN_KERNEL_POLY || p->kernel.type == MLRN_KERNEL_SIGMOID)) f += capacity;
    if (linear) f += n_sub * d;                                               /* w */
    if (wss2 && linear && storage != MLRN_STORAGE_F32) f += d + 1u;          /* wq */
    f += n_sub;                                                               /* b */
    if (storage != MLRN_STORAGE_F32 || MLRN_STORE_READ_ONLY) f += 4u * d;    /* scratch rows */
    return f;
}

/* The same for a linear-kernel wss2 trainer with NSUB sub-problems, as a constant expression
 * (static array sizes): alpha + w + b, and for quantised storage the scratch rows and wq (a read-only store,
 * MLRN_STORE_SOURCE, has scratch rows for float32 too).
 * MLRN_SMO_N_SUB_OVO: mlrn_smo_n_sub(NC, MLRN_SMO_OVO) as a constant expression. */
#define MLRN_SMO_N_SUB_OVO(NC) ((NC) <= 2 ? 1 : (NC) * ((NC) - 1) / 2)
#define MLRN_SMO_WORK_FLOATS_LINEAR(CAP, D, NSUB, STORAGE) \
    ((CAP) + (NSUB) * (D) + (NSUB) + ((STORAGE) != MLRN_STORAGE_F32 ? 5 * (D) + 1 : MLRN_STORE_READ_ONLY ? 4 * (D) : 0))

static inline size_t mlrn_smo_buffer_size(uint16_t capacity, uint16_t d, uint8_t n_classes, uint8_t storage,
                                          const mlrn_smo_params *p) {
    return mlrn_smo_work_floats(capacity, d, n_classes, storage, p) * sizeof(float);
}

/* ---- set-up ------------------------------------------------------------ */

static inline mlrn_smo_params mlrn_smo_default_params(void) {
    mlrn_smo_params p;
    p.C = 1.0f;
    p.tol = 1e-3f;
    p.alpha_tol = 1e-7f;
    p.max_iter = 100000u;
    p.seed = 0u;
    p.max_passes = 10u;
    p.solver = MLRN_SMO_SOLVER_WSS2;
    p.multiclass = MLRN_SMO_OVO;
#if MLRN_SMO_SOLVER_COMPILED(MLRN_SMO_SOLVER_DCD)
    p.loss = MLRN_SMO_LOSS_HINGE;
#endif
    p.kernel.type = MLRN_KERNEL_LINEAR;
    p.kernel.degree = 3u;
    p.kernel.gamma = 1.0f;
    p.kernel.coef0 = 0.0f;
    return p;
}

/* ---- parameter check ---------------------------------------------------------
 * Which parameter mlrn_smo_init would refuse with MLRN_ERR_ARG, modelled on libsvm's
 * svm_check_parameter: mlrn_smo_check_params returns MLRN_SMO_PARAM_OK (0) or the first wrong one, in
 * the order below (the order mlrn_smo_init tests them), and mlrn_smo_param_str says which and the rule.
 * A code, not a string, so that mlrn_smo_init, which uses the check, links no text: the texts come only
 * with mlrn_smo_param_str (in flash on AVR, read with the _P functions, as for mlrn_status_str;
 * -DMLRN_NO_STATUS_STR leaves it out too). The names are the Python parameters'
 * (microlearn.trainer.reference.check_params refuses the same values, and more: see there). */
#define MLRN_SMO_PARAM_OK 0
#define MLRN_SMO_PARAM_PARAMS 1      /* the parameters pointer is NULL */
#define MLRN_SMO_PARAM_C 2           /* C > 0 and finite (squared hinge: 0.5 / C finite too) */
#define MLRN_SMO_PARAM_TOL 3         /* tol > 0 */
#define MLRN_SMO_PARAM_ALPHA_TOL 4   /* alpha_tol >= 0 */
#define MLRN_SMO_PARAM_KERNEL 5      /* kernel.type: an MLRN_KERNEL_* that MLRN_KERNELS compiles in */
#define MLRN_SMO_PARAM_SOLVER 6      /* MLRN_SMO_SOLVER_WSS2, _SIMPLIFIED, or _DCD with the linear kernel;
                                      * compiled in (MLRN_SMO_SOLVERS) */
#define MLRN_SMO_PARAM_MULTICLASS 7  /* MLRN_SMO_OVO or MLRN_SMO_OVR */
#define MLRN_SMO_PARAM_GAMMA 8       /* kernel.gamma finite */
#define MLRN_SMO_PARAM_COEF0 9       /* kernel.coef0 finite */
#define MLRN_SMO_PARAM_N_CLASSES 10  /* the store's n_classes <= MLRN_SMO_MAX_CLASSES */
#define MLRN_SMO_PARAM_MAX_ITER 11   /* max_iter >= 1 */
#define MLRN_SMO_PARAM_MAX_PASSES 12 /* max_passes >= 1 with the simplified solver */
#define MLRN_SMO_PARAM_LOSS 13       /* MLRN_SMO_LOSS_HINGE, or MLRN_SMO_LOSS_SQUARED_HINGE with the dcd solver */

/* The rules, written once: X(NAME, refused) per parameter, in the order they are tested. mlrn_smo_init
 * ORs them into one test (the very code it compiled to before the check existed: the boards' figures
 * stay), mlrn_smo_check_params returns the first one that holds. */
#define MLRN_SMO__PARAM_RULES(X, p, n_classes)                                                        \
    X(C, !((p)->C > 0.0f) || !mlrn_isfinite((p)->C)                                                   \
             || (MLRN_SMO__LOSS(p) == MLRN_SMO_LOSS_SQUARED_HINGE && !mlrn_isfinite(0.5f / (p)->C)))              \
    X(TOL, !((p)->tol > 0.0f))                                                                        \
    X(ALPHA_TOL, !((p)->alpha_tol >= 0.0f))                                                           \
    X(KERNEL, (p)->kernel.type > MLRN_KERNEL_SIGMOID || !MLRN_KERNEL_COMPILED((p)->kernel.type))      \
    X(SOLVER, (p)->solver > MLRN_SMO_SOLVER_DCD || !MLRN_SMO_SOLVER_COMPILED((p)->solver)             \
                  || ((p)->solver == MLRN_SMO_SOLVER_DCD && (p)->kernel.type != MLRN_KERNEL_LINEAR))          \
    X(MULTICLASS, (p)->multiclass > MLRN_SMO_OVR)                                                     \
    X(GAMMA, !mlrn_isfinite((p)->kernel.gamma))                                                       \
    X(COEF0, !mlrn_isfinite((p)->kernel.coef0))                                                       \
    X(N_CLASSES, (n_classes) > MLRN_SMO_MAX_CLASSES)                                                  \
    X(MAX_ITER, (p)->max_iter == 0u)                                                                  \
    X(MAX_PASSES, (p)->solver == MLRN_SMO_SOLVER_SIMPLIFIED && (p)->max_passes == 0u)                 \
    X(LOSS, MLRN_SMO__LOSS(p) > MLRN_SMO_LOSS_SQUARED_HINGE                                           \
                || (MLRN_SMO__LOSS(p) != MLRN_SMO_LOSS_HINGE && (p)->solver != MLRN_SMO_SOLVER_DCD))
#define MLRN_SMO__ANY_RULE(NAME, refused) || (refused)
#define MLRN_SMO__FIRST_RULE(NAME, refused) if (refused) return MLRN_SMO_PARAM_##NAME;

/* n_classes: the store's (mlrn_store.n_classes) that the trainer will be given. */
static inline uint8_t mlrn_smo_check_params(const mlrn_smo_params *p, uint8_t n_classes) {
    if (!p) return MLRN_SMO_PARAM_PARAMS;
    MLRN_SMO__PARAM_RULES(MLRN_SMO__FIRST_RULE, p, n_classes)
    return MLRN_SMO_PARAM_OK;
}

#ifndef MLRN_NO_STATUS_STR
/* "C: must be > 0 and finite": the parameter and its rule (texts of microlearn.core.vocab.SMO_PARAMS). */
static inline const char *mlrn_smo_param_str(uint8_t code) {
    static const char t_ok[] MLRN_FLASH = "ok";
    static const char t_params[] MLRN_FLASH = "params: NULL pointer";
    static const char t_c[] MLRN_FLASH = "C: must be > 0 and finite (squared_hinge: 0.5/C finite too)";
    static const char t_tol[] MLRN_FLASH = "tol: must be > 0";
    static const char t_alpha_tol[] MLRN_FLASH = "alpha_tol: must be >= 0";
    static const char t_kernel[] MLRN_FLASH = "kernel: an MLRN_KERNEL_* type compiled in (MLRN_KERNELS)";
    static const char t_solver[] MLRN_FLASH =
        "solver: MLRN_SMO_SOLVER_WSS2, MLRN_SMO_SOLVER_SIMPLIFIED, or MLRN_SMO_SOLVER_DCD with the linear kernel; "
        "compiled in (MLRN_SMO_SOLVERS)";
    static const char t_multiclass[] MLRN_FLASH = "multiclass: MLRN_SMO_OVO or MLRN_SMO_OVR";
    static const char t_gamma[] MLRN_FLASH = "gamma: must be finite";
    static const char t_coef0[] MLRN_FLASH = "coef0: must be finite";
    static const char t_n_classes[] MLRN_FLASH = "n_classes: at most MLRN_SMO_MAX_CLASSES";
    static const char t_max_iter[] MLRN_FLASH = "max_iter: must be >= 1";
    static const char t_max_passes[] MLRN_FLASH = "max_passes: must be >= 1 with the simplified solver";
    static const char t_loss[] MLRN_FLASH = "loss: MLRN_SMO_LOSS_HINGE, or MLRN_SMO_LOSS_SQUARED_HINGE with the dcd solver";
    static const char t_unknown[] MLRN_FLASH = "unknown parameter";
    /* By code: a table in flash, not a switch (see mlrn_status_str). */
    static const char *const texts[] MLRN_FLASH = {t_ok, t_params, t_c, t_tol, t_alpha_tol, t_kernel, t_solver,
                                                   t_multiclass, t_gamma, t_coef0, t_n_classes, t_max_iter,
                                                   t_max_passes, t_loss};
    if (code > MLRN_SMO_PARAM_LOSS) return t_unknown;
    return (const char *)mlrn_flash_ptr(&texts[code]);
}
#endif

/* MLRN_ERR_ARG for a NULL pointer or a parameter mlrn_smo_check_params refuses (ask it which),
 * MLRN_ERR_BUFFER when work_floats < mlrn_smo_work_floats(...). */
static inline mlrn_status mlrn_smo_init(mlrn_smo *s, const mlrn_smo_params *p, mlrn_store *store, float *work,
                                        size_t work_floats) {
    float *cur;
    int linear;
    if (!s || !p || !store || !work) return MLRN_ERR_ARG;
    if (0 MLRN_SMO__PARAM_RULES(MLRN_SMO__ANY_RULE, p, store->n_classes)) return MLRN_ERR_ARG;
    if (work_floats < mlrn_smo_work_floats(store->capacity, store->d, store->n_classes, store->storage, p))
        return MLRN_ERR_BUFFER;
    linear = p->kernel.type == MLRN_KERNEL_LINEAR;
#if MLRN_SMO_FIXED
    if (p->solver == MLRN_SMO_SOLVER_WSS2 && (linear || p->kernel.type == MLRN_KERNEL_RBF) &&
        MLRN_STORE_TYPE_OF(store) == MLRN_STORAGE_I8 && (store->d < 2u || store->d > MLRN_SMO_FX_MAX_D))
        return MLRN_ERR_ARG;
#endif
    s->p = *p;
    s->store = store;
    s->n_sub = mlrn_smo_n_sub(store->n_classes, p->multiclass);
    cur = work;
    s->alpha = cur;
    cur += (size_t)(linear ? 1u : mlrn_smo_n_rows(store->n_classes, p->multiclass)) * store->capacity;
    s->grad = 0;
    s->diag = 0;
    s->w = 0;
    if (p->solver == MLRN_SMO_SOLVER_WSS2 && !linear) { s->grad = cur; cur += store->capacity; }
    if (p->solver == MLRN_SMO_SOLVER_WSS2 && (p->kernel.type == MLRN_KERNEL_POLY || p->kernel.type == MLRN_KERNEL_SIGMOID)) {
        s->diag = cur;
        cur += store->capacity;
    }
    if (p->solver == MLRN_SMO_SOLVER_DCD)   /* at alpha + capacity: see mlrn_smo__dcd_state */
        cur += MLRN_SMO__DCD_STATE + store->capacity + (store->capacity + 1u) / 2u;
    if (linear) { s->w = cur; cur += (size_t)s->n_sub * store->d; }
    s->b = cur;
    cur += s->n_sub;
    s->wq = 0;
    if (p->solver == MLRN_SMO_SOLVER_WSS2 && linear && MLRN_STORE_TYPE_OF(store) != MLRN_STORAGE_F32) {
        s->wq = cur;
        cur += store->d + 1u;
    }
    s->scratch = MLRN_STORE_TYPE_OF(store) != MLRN_STORAGE_F32 || MLRN_STORE_READ_ONLY ? cur : 0;
    s->phase = 0;
    s->n_model = 0;
    s->total_iter = 0;
    s->iter = 0;
    s->sub = 0;
    s->status = MLRN_OK;
    s->rng = mlrn_rng_seed(p->seed);
#if MLRN_SMO_WARM
    s->warm = 0;
#endif
#if MLRN_SMO_CACHE
    s->cache = 0;
    s->cache_cols = 0;
    s->cache_hits = 0;
    s->cache_misses = 0;
#endif
    return MLRN_OK;
}

#if MLRN_SMO_WARM
/* Warm start (wss2, linear kernel, after mlrn_smo_init, before mlrn_smo_train_begin): rows holds n_sub rows of
 * store->capacity floats, the caller's, kept between trainings. Sub-problem k's alphas live in row k: training
 * starts from them (made feasible: see mlrn_smo__warm_start) and leaves the solution there. All-zero rows give
 * the cold start bit for bit. NULL: cold start in the work array. MLRN_ERR_ARG for another solver or kernel. */
static inline mlrn_status mlrn_smo_set_warm(mlrn_smo *s, float *rows) {
    if (!s || !s->store || s->phase == 1) return MLRN_ERR_ARG;
    if (rows && (s->p.solver != MLRN_SMO_SOLVER_WSS2 || s->p.kernel.type != MLRN_KERNEL_LINEAR)) return MLRN_ERR_ARG;
    s->warm = rows;
    return MLRN_OK;
}
#endif

/* ---- the kernel-column cache (MLRN_SMO_CACHE) ---------------------------------------------------------
 * wss2 with a non-linear kernel needs, every iteration, the kernel column of i (K(x_i, x_t) for every member t:
 * the selection of j, then the gradient update) and of j (the update). Without the cache the column of i is
 * computed twice (partly in the selection, fully in the update) and j's once, and a sample chosen again later
 * (the same few free support vectors are chosen over and over) is computed again. With it, a column is computed
 * once, over all the members, and kept while it is among the cache_cols most recently used ones.
 * Replacement: least recently used. `order` lists the slots from the most to the least recently used; a look-up
 * scans it for the sample (a hit moves that slot to the front), a miss takes the last slot (empty slots, tag
 * MLRN_SMO_CACHE_EMPTY, start at the back in slot order: slot K-1 is filled first), moves it to the front and
 * fills it. Nothing is cached across sub-problems (their members differ): mlrn_smo__start_sub empties it.
 * The values are the very float32 values the uncached code computes, in the same order of operations, so every
 * decision, alpha and b is identical with and without the cache (tests/trainer/test_kernel_cache.py);
 * microlearn.trainer.reference.LRUCache models the look-ups (hits, misses). K(x_i, x_i) needs no cache: rbf's
 * is 1 exactly, poly's and sigmoid's are computed once per sub-problem into the work array (diag).
 * Memory: MLRN_SMO_CACHE_FLOATS(K, capacity) floats: the K columns, then per slot its sample (a uint16) and the
 * order (a uint8 per slot), read and written bytewise as dcd's visiting order. */
#define MLRN_SMO_CACHE_MIN_COLS 2u     /* the update holds the columns of i and j at once */
#define MLRN_SMO_CACHE_MAX_COLS 255u   /* a slot number is a uint8 */
#define MLRN_SMO_CACHE_EMPTY 0xFFFFu   /* no sample (capacity <= 65535: indices stop at 65534) */
#define MLRN_SMO_CACHE_FLOATS(K, CAP) ((size_t)(K) * (size_t)(CAP) + (3u * (size_t)(K) + 3u) / 4u)

#if MLRN_SMO_CACHE
/* Gives wss2 (non-linear kernels) a cache of n_cols columns in buf (buf_floats >= MLRN_SMO_CACHE_FLOATS(n_cols,
 * store->capacity)); after mlrn_smo_init, before mlrn_smo_train_begin. n_cols 0 or buf NULL: no cache.
 * MLRN_ERR_ARG for n_cols 1 or above MLRN_SMO_CACHE_MAX_COLS, or while training; MLRN_ERR_BUFFER when buf is
 * too small. Other solvers and the linear kernel ignore the cache. */
static inline mlrn_status mlrn_smo_set_cache(mlrn_smo *s, float *buf, size_t buf_floats, uint16_t n_cols) {
    if (!s || !s->store || s->phase == 1) return MLRN_ERR_ARG;
    if (!buf || n_cols == 0u) { s->cache = 0; s->cache_cols = 0; return MLRN_OK; }
    if (n_cols < MLRN_SMO_CACHE_MIN_COLS || n_cols > MLRN_SMO_CACHE_MAX_COLS) return MLRN_ERR_ARG;
    if (buf_floats < MLRN_SMO_CACHE_FLOATS(n_cols, s->store->capacity)) return MLRN_ERR_BUFFER;
    s->cache = buf;
    s->cache_cols = (uint8_t)n_cols;
    return MLRN_OK;
}
#endif

/* ---- internals ----------------------------------------------------------- */

MLRN_HOT const float *mlrn__row(const mlrn_smo *s, uint16_t t, uint8_t which) {
    return mlrn_store_row(s->store, t, MLRN_SMO__SCRATCH(s) ? s->scratch + (size_t)which * s->store->d : 0);
}

/* +1 (class q, or class p in ovr), -1 (the other side), 0 (not in this sub-problem), from the sub-problem's
 * p, q and ovr passed by value (a scan keeps them in registers; inlined on every target). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int8_t mlrn__y_pq(uint8_t label, uint8_t p, uint8_t q, uint8_t ovr) {
    if (ovr) return label == p ? 1 : -1;
    return label == q ? 1 : label == p ? -1 : 0;
}

MLRN_HOT int8_t mlrn__y(const mlrn_smo *s, uint8_t label) {
    return mlrn__y_pq(label, s->cur_p, s->cur_q, s->ovr_sub);
}

/* Row of the dual-coefficient table holding the coefficient of a sample of class `label` in
 * sub-problem `sub` = (p, q) of a kernel model (libsvm's layout for ovo), or -1 if the sample is
 * not in that sub-problem. Shared by training and prediction (and mirrored by
 * microlearn.trainer.estimator.coef_rows). */
static inline int16_t mlrn_smo__coef_row(const mlrn_smo *s, uint16_t sub, uint8_t p, uint8_t q, uint8_t label) {
    if (s->n_sub == 1) return 0;
    if (s->p.multiclass == MLRN_SMO_OVR) return (int16_t)sub;
    if (label == p) return (int16_t)(q - 1u);
    return label == q ? (int16_t)p : -1;
}

/* alpha of sample t in the current sub-problem (t must be a member). Linear models and binary
 * problems keep one row, reused by every sub-problem. */
MLRN_HOT float *mlrn_smo__alpha(const mlrn_smo *s, uint16_t t) {
    if (s->one_row) return &s->alpha[t];
    return &s->alpha[(size_t)mlrn_smo__coef_row(s, s->sub, s->cur_p, s->cur_q, mlrn_store_label(s->store, t)) * s->store->capacity + t];
}

static inline void mlrn_smo__pair(const mlrn_smo *s, uint16_t sub, uint8_t *p, uint8_t *q) {
    uint8_t k = s->store->n_classes, a;
    if (s->n_sub == 1) { *p = 0; *q = 1; return; }
    if (s->p.multiclass == MLRN_SMO_OVR) { *p = (uint8_t)sub; *q = (uint8_t)sub; return; }
    for (a = 0; a + 1u < k; a++) {
        uint16_t count = (uint16_t)(k - 1u - a);
        if (sub < count) { *p = a; *q = (uint8_t)(a + 1u + sub); return; }
        sub = (uint16_t)(sub - count);
    }
    *p = 0;
    *q = 1;
}

static inline float mlrn_smo__kernel(const mlrn_smo *s, const float *a, const float *b) {
    return mlrn_kernel_eval(&s->p.kernel, a, b, s->store->d);
}

/* Quantised storage: a float32 row x folded into the store's affine map, u_k = x_k scale_k (into u), returning
 * sum_k x_k offset_k; then x . x_t = sum_k u_k q_tk + that (mlrn_smo__dot_codes), so a stored sample is never
 * dequantised on the hot path. wss2 folds w for the linear kernel (wq, after every update: on the ATmega328P this
 * saves about a third of the soft-float work of an iteration) and x_i, x_j for poly and sigmoid (mlrn__side). */
static inline float mlrn_smo__fold(const mlrn_smo *s, const float *x, float *u) {
    uint16_t k, d = s->store->d;
    float c = 0.0f;
    for (k = 0; k < d; k++) {
        u[k] = x[k] * mlrn_flash_f32(&s->store->scale[k]);
        c = c + x[k] * mlrn_flash_f32(&s->store->offset[k]);
    }
    return c;
}

/* sum_k u_k q_tk + c: x . x_t from sample t's integer codes, x folded by mlrn_smo__fold (kept out of the float32
 * path). slot: the callback store's code buffer the read goes to (the other one may hold sample i's codes). */
static inline float mlrn_smo__dot_codes(const mlrn_smo *s, const float *u, float c, uint16_t t, uint8_t slot) {
    uint16_t k, d = s->store->d;
    float acc = 0.0f;
    size_t base = (size_t)t * d;
    (void)base;   /* a callback store reads into its code buffer instead */
    (void)slot;   /* only a callback store has code buffers */
    if (MLRN_STORE_TYPE_OF(s->store) == MLRN_STORAGE_I16) {
        const int16_t *q = MLRN_STORE_CODES16(s->store, t, base, slot);
        for (k = 0; k < d; k++) acc = acc + u[k] * (float)MLRN_STORE_Q16(&q[k]);
    } else {
        const int8_t *q = MLRN_STORE_CODES8(s->store, t, base, slot);
        for (k = 0; k < d; k++) acc = acc + u[k] * (float)MLRN_STORE_Q8(&q[k]);
    }
    return acc + c;
}

/* MLRN_SMO_FIXED's integer paths: MLRN_SMO__FX (w . x_t and the curvature, linear) and MLRN_SMO__CODES_SQDIST_FX
 * (the rbf distance, mlrn__kcodes); wss2 and int8 codes (mlrn_smo_init refuses d outside 2..MLRN_SMO_FX_MAX_D there, so no float32
 * fallback is compiled beside them). Their tables reuse space the float path has: wq (linear) holds U (int16, d)
 * with inv at wq[(d + 1) / 2] and c at wq[d] as before; scratch row 2 (the dequantised row t's, unused on the
 * codes paths) holds S (uint16, d) with qs at row 2's float (d + 1) / 2. */
#define MLRN_SMO__FX(s) (MLRN_SMO_FIXED && MLRN_STORE_TYPE_OF((s)->store) == MLRN_STORAGE_I8 && MLRN_SMO__WQ(s))
/* The same test inside wss2, where wq exists exactly for the linear kernel on quantised storage (mlrn_smo_init):
 * a constant in a linear-only or a linear-less int8 build, so only the scans that can run are compiled in. */
#define MLRN_SMO__FX_WSS2(s)                                                                                  \
    (MLRN_SMO_FIXED && MLRN_STORE_TYPE_OF((s)->store) == MLRN_STORAGE_I8 &&                                  \
     MLRN_KERNEL_COMPILED(MLRN_KERNEL_LINEAR) &&                                                              \
     (MLRN_KERNELS == (1u << MLRN_KERNEL_LINEAR) || (s)->p.kernel.type == MLRN_KERNEL_LINEAR))
#define MLRN_SMO__FX_U(s) ((int16_t *)(void *)(s)->wq)
#define MLRN_SMO__FX_INV(s) ((s)->wq[((s)->store->d + 1u) / 2u])
#define MLRN_SMO__FX_ROW2(s) ((s)->scratch + 2u * (size_t)(s)->store->d)
#define MLRN_SMO__FX_S(s) ((uint16_t *)(void *)MLRN_SMO__FX_ROW2(s))
#define MLRN_SMO__FX_QS(s) (MLRN_SMO__FX_ROW2(s)[((s)->store->d + 1u) / 2u])

#if MLRN_SMO_FIXED
/* x rounded half away from zero to an integer (|x| < 2^31; x + 0.5 is exact for the U and S values: |x| < 2^16). */
#if defined(__GNUC__)
__attribute__((noinline, unused))   /* one copy for U and S: smaller on AVR, where each is a float call chain */
#endif
static int32_t mlrn_smo__round(float x) {
    return x >= 0.0f ? (int32_t)(x + 0.5f) : -(int32_t)(0.5f - x);
}

/* The distance levels S and qs, from the store's scales alone, which a training never changes: computed when a
 * sub-problem starts (mlrn_smo__start_sub). Nothing else writes scratch row 2 where they are used (the codes
 * paths dequantise no row t; the simplified solver's f_train, which does, never reads them). */
static inline void mlrn_smo__fx_levels(mlrn_smo *s) {
    uint16_t k, d = s->store->d;
    float m = 0.0f, a, top;
    uint16_t *S = MLRN_SMO__FX_S(s);
    for (k = 0; k < d; k++) {
        a = mlrn_flash_f32(&s->store->scale[k]);
        a = a * a;
        if (a > m) m = a;
    }
    top = (float)(0xFFFFFFFFul / ((uint32_t)MLRN_SMO_FX_DQ2_MAX * d));
    if (top > (float)MLRN_SMO_FX_S_MAX) top = (float)MLRN_SMO_FX_S_MAX;
    for (k = 0; k < d; k++) {   /* scale_k^2 / m <= 1: no overflow however small m is (T / m could be) */
        a = mlrn_flash_f32(&s->store->scale[k]);
        S[k] = m > 0.0f ? (uint16_t)mlrn_smo__round(a * a / m * top) : 0u;
    }
    MLRN_SMO__FX_QS(s) = m / top;
}

/* K = round(1 / inv) = round(sc): the label y = +-1 in units of inv (exact for sc >= 1), so that the score
 * y_t - f_t of mlrn__wx_fx (f_t = inv A_t + c) less the constant c is inv (y_t K - A_t). */
static inline int32_t mlrn_smo__fx_k(const mlrn_smo *s) {
    return mlrn_smo__round(1.0f / MLRN_SMO__FX_INV(s));
}

/* The integer w of MLRN_SMO__FX (the current sub-problem's) and c = sum_k w_k offset_k in wq[d]:
 * u_k = w_k scale_k as mlrn_smo__fold computes it, never stored as float (U takes its place). sc is then halved
 * while the selection's integer scores could leave int32 (mlrn_smo__wss2_select_fx: sc < 2^30 and
 * sum_k |U_k| 128 < 2^30): only for a w whose largest folded entry is below 2^-15, or hundreds of features at
 * full scale. */
static inline void mlrn_smo__refresh_fx(mlrn_smo *s, const float *w) {
    uint16_t k, d = s->store->d;
    float m = 0.0f, sc = 1.0f, inv = 1.0f, c = 0.0f, a;
    int16_t *U = MLRN_SMO__FX_U(s);
    for (k = 0; k < d; k++) {
        a = w[k] * mlrn_flash_f32(&s->store->scale[k]);
        if (a < 0.0f) a = -a;
        if (a > m) m = a;
        c = c + w[k] * mlrn_flash_f32(&s->store->offset[k]);
    }
    s->wq[d] = c;
    if (m < MLRN_SMO_FX_U_MIN) m = 0.0f;
    else {
        while (m * sc >= MLRN_SMO_FX_U_HIGH) { sc = sc * 0.5f; inv = inv * 2.0f; }
        while (m * sc < MLRN_SMO_FX_U_LOW) { sc = sc * 2.0f; inv = inv * 0.5f; }
    }
    for (;;) {
        uint32_t sum = 0;
        for (k = 0; k < d; k++) {   /* U_k (bytes 2k, 2k+1) never overlaps inv's float at (d + 1) / 2 */
            int16_t v = m > 0.0f ? (int16_t)mlrn_smo__round((w[k] * mlrn_flash_f32(&s->store->scale[k])) * sc) : 0;
            U[k] = v;
            sum += (uint16_t)(v < 0 ? -v : v);   /* |U_k| <= 32767 */
        }
        if (sc < MLRN_SMO_FX_K_MAX && sum < MLRN_SMO_FX_SUM_MAX) break;
        sc = sc * 0.5f;
        inv = inv * 2.0f;
    }
    MLRN_SMO__FX_INV(s) = inv;
}
#endif

/* wss2, linear kernel, quantised storage: w of the current sub-problem folded (wq: d entries, then the offset
 * term); with MLRN_SMO_FIXED, made integer instead. */
static inline void mlrn_smo__refresh_wq(mlrn_smo *s) {
#if MLRN_SMO_FIXED
    if (MLRN_SMO__FX(s)) { mlrn_smo__refresh_fx(s, s->w + (size_t)s->sub * s->store->d); return; }
#endif
    s->wq[s->store->d] = mlrn_smo__fold(s, s->w + (size_t)s->sub * s->store->d, s->wq);
}

#if MLRN_SMO_FIXED
/* A_t = sum_k U_k q_tk (MLRN_SMO__FX): w . x_t = inv A_t + c. On AVR a function of its own: its assembly needs two
 * pointer registers and eight others, which a caller's frame may not leave free (inlined into the scans, avr-gcc
 * 5.4 could not allocate them at -O1..-O3; a call costs ~3 % of the demo's cycles). Inlined elsewhere. */
#if defined(__AVR__)
__attribute__((noinline, unused))
static
#elif defined(__GNUC__)
__attribute__((always_inline)) static inline
#else
static inline
#endif
int32_t mlrn__ax_fx(const mlrn_smo *s, uint16_t t) {
    uint16_t k, d = s->store->d;
    const int16_t *U = MLRN_SMO__FX_U(s);
    const int8_t *q = MLRN_STORE_CODES8(s->store, t, (size_t)t * d, 0);
#if defined(__AVR__) && defined(__OPTIMIZE__)   /* -O0 cannot allocate the operands: the C loop below */
    /* U_k q = (U_k >> 8) q 256 + (U_k & 0xFF) q: two 8 x 8 hardware multiplies (mulsu, muls), each product added
     * into the int32 sum with its sign extended, in one assembly loop; avr-gcc otherwise calls a 16 x 16 -> 32
     * library routine per feature (its combiner merges narrow products back into the wide one) and reloads its
     * pointers. The same integer. The codes come through Z with MLRN_STORE_IN_FLASH (lpm), otherwise through any
     * pointer register, as U does. */
    int32_t acc = 0;
    const int8_t *qp = q;
    const int16_t *up = U;
    uint16_t n = d;
    uint8_t x, ul, uh, e;
    (void)k;
    __asm__("1:\n\t"
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
            "lpm %[x], Z+\n\t"
#else
            "ld %[x], %a[q]+\n\t"
#endif
            "ld %[ul], %a[u]+\n\t"
            "ld %[uh], %a[u]+\n\t"
            "mulsu %[x], %[ul]\n\t"                          /* r1:r0 = q (signed) * low byte (unsigned) */
            "mov %[e], r1\n\tlsl %[e]\n\tsbc %[e], %[e]\n\t"  /* e = 0xFF if the product is negative */
            "add %A[acc], r0\n\tadc %B[acc], r1\n\tadc %C[acc], %[e]\n\tadc %D[acc], %[e]\n\t"
            "muls %[uh], %[x]\n\t"                           /* r1:r0 = high byte * q, both signed: x 256 */
            "mov %[e], r1\n\tlsl %[e]\n\tsbc %[e], %[e]\n\t"
            "add %B[acc], r0\n\tadc %C[acc], r1\n\tadc %D[acc], %[e]\n\t"
            "sbiw %[n], 1\n\t"
            "brne 1b\n\t"
            "clr __zero_reg__"
            : [acc] "+r"(acc), [n] "+w"(n),
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
              [q] "+z"(qp),   /* lpm reads through Z only */
#else
              [q] "+e"(qp),   /* X, Y or Z: whichever the surrounding code leaves free */
#endif
              [u] "+e"(up), [x] "=&a"(x), [ul] "=&a"(ul), [uh] "=&a"(uh), [e] "=&r"(e)
            :
            : "r0", "memory");
    return acc;
#else
    int32_t acc = 0;
    for (k = 0; k < d; k++) acc += (int32_t)U[k] * MLRN_STORE_Q8(&q[k]);
    return acc;
#endif
}

/* w . x_t from the integer tables (MLRN_SMO__FX). */
MLRN_HOT float mlrn__wx_fx(const mlrn_smo *s, uint16_t t) {
    return (float)mlrn__ax_fx(s, t) * MLRN_SMO__FX_INV(s) + s->wq[s->store->d];
}

/* sum_k (q_ik - q_tk)^2 S_k: |x_i - x_t|^2 / qs (MLRN_SMO__FX, MLRN_SMO__CODES_SQDIST_FX). */
MLRN_HOT uint32_t mlrn__dq2_fx(const mlrn_smo *s, uint16_t i, uint16_t t) {
    uint16_t k, d = s->store->d;
    const uint16_t *S = MLRN_SMO__FX_S(s);
    const int8_t *qi = MLRN_STORE_CODES8(s->store, i, (size_t)i * d, 0), *qt = MLRN_STORE_CODES8(s->store, t, (size_t)t * d, 1);
    uint32_t acc = 0;
    for (k = 0; k < d; k++) {
        int16_t dq = (int16_t)(MLRN_STORE_Q8(&qi[k]) - MLRN_STORE_Q8(&qt[k]));
        uint16_t a = (uint16_t)(dq < 0 ? -dq : dq);
        acc += (uint32_t)(uint16_t)(a * a) * S[k];   /* a * a <= 65025: unsigned (AVR) or 32-bit int */
    }
    return acc;
}

/* |x_i - x_t|^2 from the distance levels (MLRN_SMO__FX, MLRN_SMO__CODES_SQDIST_FX). */
MLRN_HOT float mlrn__sqdist_fx(const mlrn_smo *s, uint16_t i, uint16_t t) {
    return (float)mlrn__dq2_fx(s, i, t) * MLRN_SMO__FX_QS(s);
}

#endif

/* w . x_t of the current sub-problem for a stored sample (float32 rows are read in place). */
MLRN_HOT float mlrn__wx(const mlrn_smo *s, uint16_t t) {
#if MLRN_SMO_FIXED
    if (MLRN_SMO__FX(s)) return mlrn__wx_fx(s, t);
#endif
    if (MLRN_SMO__WQ(s)) return mlrn_smo__dot_codes(s, s->wq, s->wq[s->store->d], t, 0);
    return mlrn_kernel_dot(s->w + (size_t)s->sub * s->store->d, mlrn__row(s, t, 2), s->store->d);
}

/* |x_i - x_t|^2 from the integer codes: sum_k ((q_ik - q_tk) scale_k)^2 (the difference is exact). */
MLRN_HOT float mlrn__sqdist_q(const mlrn_smo *s, uint16_t i, uint16_t t) {
    uint16_t k, d = s->store->d;
    float acc = 0.0f, u;
    if (MLRN_STORE_TYPE_OF(s->store) == MLRN_STORAGE_I16) {
        const int16_t *qi = MLRN_STORE_CODES16(s->store, i, (size_t)i * d, 0), *qt = MLRN_STORE_CODES16(s->store, t, (size_t)t * d, 1);
        for (k = 0; k < d; k++) {
            /* in float, not int: int is 16 bits on AVR, where an int16 difference can overflow; both
             * codes and their difference (|d| <= 65535 < 2^24) are exact in float32: same bits */
            u = ((float)MLRN_STORE_Q16(&qi[k]) - (float)MLRN_STORE_Q16(&qt[k])) * mlrn_flash_f32(&s->store->scale[k]);
            acc = acc + u * u;
        }
    } else {
        const int8_t *qi = MLRN_STORE_CODES8(s->store, i, (size_t)i * d, 0), *qt = MLRN_STORE_CODES8(s->store, t, (size_t)t * d, 1);
        for (k = 0; k < d; k++) {
            u = (float)(MLRN_STORE_Q8(&qi[k]) - MLRN_STORE_Q8(&qt[k])) * mlrn_flash_f32(&s->store->scale[k]);
            acc = acc + u * u;
        }
    }
    return acc;
}

/* G_t of the current sub-problem (wss2). */
MLRN_HOT float mlrn__grad(const mlrn_smo *s, uint16_t t, int8_t yt) {
    if (s->p.kernel.type == MLRN_KERNEL_LINEAR) {
        float f = mlrn__wx(s, t);
        return (yt > 0 ? f : -f) - 1.0f;
    }
    return s->grad[t];
}

#if MLRN_SMO_FIXED
/* A float's bits as an int32: for alphas (in [0, C], never NaN) and C > 0 the bits' order is the values' order
 * (-0.0 reads as INT32_MIN: not above 0), so the box tests below are integer compares, not library calls. */
static inline int32_t mlrn_smo__fbits(float x) {
    union { float f; int32_t i; } c;
    c.f = x;
    return c.i;
}

/* wss2's two scans for MLRN_SMO__FX (linear kernel, int8 codes) in integers. The score -y_t G_t = y_t - f_t is
 * scaled by sc = 1 / inv (a power of two, positive: the order is kept) and less the constant c sc, which every
 * comparison and difference cancels: V_t = y_t K - A_t, K = round(sc) (mlrn_smo__refresh_fx keeps |V_t| < 2^31),
 * and gmax - v_t is V_i - V_t (a uint32). The second-order gain (gmax - v_t)^2 / quad_it, in the same units and
 * without the common factors inv^2 and qs, is (V_i - V_t)^2 / D_t with D_t = mlrn__dq2_fx(i, t) (or TAU / qs for
 * equal rows): one float square and one division per candidate, the rest integer. The stop test is
 * (V_i - V_min) inv < tol. Sets i, j, what the update needs of their gradients (below) and quad_ij (mlrn__quad's);
 * returns 1 when the sub-problem is solved. Mirrored by the reference's _FoldedFixed.select. */
#if defined(__AVR__)
__attribute__((noinline, unused))   /* its own frame: inlined into the caller's, the scans' values spill to the stack */
static
#else
static inline
#endif
int mlrn_smo__wss2_select_fx(mlrn_smo *s, int32_t *pi, int32_t *pj, float *gi, float *gj, float *quad) {
    const mlrn_store *st = s->store;   /* locals: the scans' calls would otherwise make them reloaded */
    const float *alpha = s->alpha;     /* the linear kernel keeps one row of alphas (one_row) */
    uint16_t t, n = st->n, i = n, j = n;   /* n: none yet */
    int32_t kp = mlrn_smo__fx_k(s), kn = -kp;
    int32_t cb = mlrn_smo__fbits(s->p.C), vmax = INT32_MIN, vmin = INT32_MAX, vj;
    uint32_t dj = 0;
    int32_t best = -1;   /* the best gain's bits: gains are >= 0 and not NaN, so their bits' order is theirs */
    float qs = MLRN_SMO__FX_QS(s), tau = qs > 0.0f ? MLRN_SMO_TAU / qs : 1.0f, q;
    uint8_t cp = s->cur_p, cq = s->cur_q, ovr = s->ovr_sub;
    int8_t yt;

    for (t = 0; t < n; t++) {   /* i = argmax over I_up of V_t (the first on ties) */
        int32_t a, v;
        yt = mlrn__y_pq(mlrn_store_label(st, t), cp, cq, ovr);
        if (!yt) continue;
        a = mlrn_smo__fbits(alpha[t]);
        if (yt > 0 ? !(a < cb) : !(a > 0)) continue;
        v = (yt > 0 ? kp : kn) - mlrn__ax_fx(s, t);
        if (v > vmax) { vmax = v; i = t; }
    }
    if (i == n) return 1;
    for (t = 0; t < n; t++) {   /* j = argmax over I_low with V_t < V_i of (V_i - V_t)^2 / D_t (the first on ties) */
        int32_t a, v;
        yt = mlrn__y_pq(mlrn_store_label(st, t), cp, cq, ovr);
        if (!yt) continue;
        a = mlrn_smo__fbits(alpha[t]);
        if (yt > 0 ? !(a > 0) : !(a < cb)) continue;
        v = (yt > 0 ? kp : kn) - mlrn__ax_fx(s, t);
        if (v < vmin) vmin = v;
        if (v < vmax) {
            uint32_t dq2 = mlrn__dq2_fx(s, i, t);
            float u = (float)((uint32_t)vmax - (uint32_t)v), gain = u * u / (dq2 ? (float)dq2 : tau);
            if (mlrn_smo__fbits(gain) > best) { best = mlrn_smo__fbits(gain); j = t; dj = dq2; }
        }
    }
    if (j == n || (float)((uint32_t)vmax - (uint32_t)vmin) * MLRN_SMO__FX_INV(s) < s->p.tol) return 1;
    /* The update needs only -G_i - G_j (y_i != y_j) and G_i - G_j (y_i = y_j): y_i (v_i - v_j) and -y_i (v_i - v_j),
     * in which c cancels too. So G_i carries -y_i (V_i - V_j) inv, one rounding of an exact integer difference,
     * and G_j 0: the float gradients, where c can be 10^5 times the rest, would round it away. */
    vj = (mlrn__y(s, mlrn_store_label(st, j)) > 0 ? kp : kn) - mlrn__ax_fx(s, j);
    q = (float)((uint32_t)vmax - (uint32_t)vj) * MLRN_SMO__FX_INV(s);
    *gi = mlrn__y(s, mlrn_store_label(st, i)) > 0 ? -q : q;
    *gj = 0.0f;
    q = (float)dj * qs;
    *quad = q <= 0.0f ? MLRN_SMO_TAU : q;
    *pi = i;
    *pj = j;
    return 0;
}
#endif

/* wss2 computes its kernel values between stored samples from the codes (MLRN_SMO_KERNEL_CODES): 1 for rbf (the
 * squared distance), 3 for rbf on int8 codes with MLRN_SMO_FIXED (the squared distance in integers), 2 for poly
 * and sigmoid (the dot product with a folded row), 0 for neither. */
enum { MLRN_SMO__CODES_SQDIST = 1, MLRN_SMO__CODES_DOT = 2, MLRN_SMO__CODES_SQDIST_FX = 3 };
MLRN_HOT int mlrn__kcodes(const mlrn_smo *s) {
    /* a kernel left out of MLRN_KERNELS gives 0 at compile time: a linear trainer links none of the code paths */
    if (!MLRN_SMO_KERNEL_CODES || MLRN_STORE_TYPE_OF(s->store) == MLRN_STORAGE_F32) return 0;
    if (s->p.kernel.type == MLRN_KERNEL_RBF) {
        if (!MLRN_KERNEL_COMPILED(MLRN_KERNEL_RBF)) return 0;
        return MLRN_SMO_FIXED && MLRN_STORE_TYPE_OF(s->store) == MLRN_STORAGE_I8 ? MLRN_SMO__CODES_SQDIST_FX
                                                                                 : MLRN_SMO__CODES_SQDIST;
    }
    if (s->p.kernel.type == MLRN_KERNEL_LINEAR) return 0;
    return MLRN_KERNEL_COMPILED(MLRN_KERNEL_POLY) || MLRN_KERNEL_COMPILED(MLRN_KERNEL_SIGMOID) ? MLRN_SMO__CODES_DOT : 0;
}

/* One side of the kernel values between stored samples (wss2, non-linear kernels): sample idx, its float32 row x
 * and, on the dot-product code path, its row folded into the affine map (u = x scale, in a scratch row;
 * c = x . offset). */
typedef struct {
    const float *x;
    float *u;
    float c;
    uint16_t idx;
} mlrn_smo__side;

/* The side of sample idx with row x; u: the scratch row its folded row goes to (used on the dot code path:
 * u = x scale, c = x . offset). */
MLRN_HOT mlrn_smo__side mlrn__side(const mlrn_smo *s, int codes, uint16_t idx, const float *x, float *u) {
    mlrn_smo__side a;
    a.x = x;
    a.u = u;
    a.c = codes == MLRN_SMO__CODES_DOT ? mlrn_smo__fold(s, x, u) : 0.0f;
    a.idx = idx;
    return a;
}

/* K(x_a, x_t) of two stored samples in wss2 (a non-linear kernel): from sample t's codes (codes = mlrn__kcodes(s),
 * taken once per iteration by the caller: xt unused, NULL) or from the float32 rows a->x and xt, in that argument
 * order (mlrn_kernel_sqdist and mlrn_kernel_dot give the same bits either way, but the order is kept as it always
 * was). */
#if defined(__GNUC__)
__attribute__((noinline, unused))   /* out of the hot loops' frames: inlined, it slowed the float32 rows' path */
#endif
static float mlrn__kit_codes(const mlrn_smo *s, int codes, const mlrn_smo__side *a, uint16_t t) {
#if MLRN_SMO_FIXED
    if (codes == MLRN_SMO__CODES_SQDIST_FX) return mlrn_kernel_finish(&s->p.kernel, mlrn__sqdist_fx(s, a->idx, t));
#endif
    return mlrn_kernel_finish(&s->p.kernel, codes == MLRN_SMO__CODES_SQDIST ? mlrn__sqdist_q(s, a->idx, t)
                                                                            : mlrn_smo__dot_codes(s, a->u, a->c, t, 1));
}

MLRN_HOT float mlrn__kit(const mlrn_smo *s, int codes, const mlrn_smo__side *a, uint16_t t, const float *xt) {
    if (!codes) return mlrn_smo__kernel(s, a->x, xt);   /* float32 rows: first, one test */
    return mlrn__kit_codes(s, codes, a, t);
}

/* f(x) of the current sub-problem during training: alpha is still unsigned here. */
static inline float mlrn_smo__f_train(const mlrn_smo *s, const float *x) {
    uint16_t t;
    float acc;
    if (s->p.kernel.type == MLRN_KERNEL_LINEAR)
        return mlrn_kernel_dot(s->w + (size_t)s->sub * s->store->d, x, s->store->d) + s->b[s->sub];
    acc = 0.0f;
    for (t = 0; t < s->store->n; t++) {
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        float a;
        if (!yt) continue;
        a = *mlrn_smo__alpha(s, t);
        if (a != 0.0f) acc = acc + (yt > 0 ? a : -a) * mlrn_smo__kernel(s, mlrn__row(s, t, 2), x);
    }
    return acc + s->b[s->sub];
}

/* ---- dcd: dual coordinate descent for the linear kernel ------------------------------------------------
 * Sub-problem min_a 0.5 a' Qbar a - e' a, 0 <= a_t <= U, Qbar_ts = y_t y_s (x_t . x_s + 1) + D_tt [t == s]:
 * hinge U = C, D = 0; squared hinge U = infinity, D = 1/(2C). w and b (the bias feature's weight) are kept
 * equal to sum_t y_t a_t (x_t, 1), so the gradient of one coordinate is y_t (w . x_t + b) - 1 + D a_t. */

/* Qbar's diagonal, after the state floats. */
/* dcd's work region: MLRN_SMO__DCD_STATE floats, Qbar_tt (capacity floats), then the visiting order (a uint16
 * per sample in ceil(capacity / 2) floats). It follows alpha, which is one row for the linear kernel. */
MLRN_HOT float *mlrn_smo__dcd_state(const mlrn_smo *s) { return s->alpha + s->store->capacity; }

MLRN_HOT float *mlrn_smo__qd(const mlrn_smo *s) { return mlrn_smo__dcd_state(s) + MLRN_SMO__DCD_STATE; }

/* The visiting order: a little-endian uint16 per sample, read and written bytewise. It lives in the float work
 * array, and character-type access is the one way to store another type there without breaking the aliasing
 * rules. Callers keep the base pointer (mlrn_smo__perm) in a local: bytes stores may alias anything, so a
 * base recomputed from s after each store would be reloaded. */
MLRN_HOT uint8_t *mlrn_smo__perm(const mlrn_smo *s) {
    return (uint8_t *)(void *)(mlrn_smo__qd(s) + s->store->capacity);
}

MLRN_HOT uint16_t mlrn_smo__perm_get(const uint8_t *perm, uint16_t k) {
    const uint8_t *b = perm + 2u * (size_t)k;
    return (uint16_t)(b[0] | (uint16_t)(b[1] << 8));
}

MLRN_HOT void mlrn_smo__perm_set(uint8_t *perm, uint16_t k, uint16_t v) {
    uint8_t *b = perm + 2u * (size_t)k;
    b[0] = (uint8_t)(v & 0xFFu);
    b[1] = (uint8_t)(v >> 8);
}

MLRN_HOT void mlrn_smo__perm_swap(uint8_t *perm, uint16_t a, uint16_t b) {
    uint16_t t = mlrn_smo__perm_get(perm, a);
    mlrn_smo__perm_set(perm, a, mlrn_smo__perm_get(perm, b));
    mlrn_smo__perm_set(perm, b, t);
}

/* Start of a pass: a random order of the active set (liblinear's swap shuffle, j = k + rand % (active - k)),
 * the new pass's projected-gradient bounds empty. */
static inline void mlrn_smo__dcd_new_pass(mlrn_smo *s) {
    float *st = mlrn_smo__dcd_state(s);
    uint16_t k, active = (uint16_t)st[MLRN_SMO__DCD_ACTIVE];
    uint8_t *perm = mlrn_smo__perm(s);
    uint32_t rng = s->rng;
    for (k = 0; k < active; k++) {
        uint16_t j = (uint16_t)(k + mlrn_rng_next(&rng) % (uint32_t)(active - k));
        mlrn_smo__perm_swap(perm, k, j);
    }
    s->rng = rng;
    st[MLRN_SMO__DCD_PG_MAX_NEW] = -MLRN_SMO_BIG;
    st[MLRN_SMO__DCD_PG_MIN_NEW] = MLRN_SMO_BIG;
    s->pos = 0;
}

/* Sub-problem set-up (alpha, w and b are already zero): the members in store order, Qbar's diagonal,
 * nothing shrunk, then the first pass's order (max_iter >= 1, so a pass always runs). */
static inline void mlrn_smo__dcd_start(mlrn_smo *s) {
    uint16_t t, k = 0;
    int l2 = MLRN_SMO__LOSS(&s->p) == MLRN_SMO_LOSS_SQUARED_HINGE;
    float dii = l2 ? 0.5f / s->p.C : 0.0f, *qd = mlrn_smo__qd(s), *st = mlrn_smo__dcd_state(s);
    uint8_t *perm = mlrn_smo__perm(s);
    for (t = 0; t < s->store->n; t++) {
        const float *xt;
        float q;
        if (!mlrn__y(s, mlrn_store_label(s->store, t))) continue;
        mlrn_smo__perm_set(perm, k++, t);
        xt = mlrn__row(s, t, 0);
        q = mlrn_kernel_dot(xt, xt, s->store->d) + MLRN_SMO_DCD_BIAS * MLRN_SMO_DCD_BIAS;
        qd[t] = l2 ? dii + q : q;
    }
    st[MLRN_SMO__DCD_DIAG] = dii;
    st[MLRN_SMO__DCD_PG_MAX_OLD] = MLRN_SMO_BIG;
    st[MLRN_SMO__DCD_PG_MIN_OLD] = -MLRN_SMO_BIG;
    st[MLRN_SMO__DCD_ACTIVE] = (float)s->m;
    mlrn_smo__dcd_new_pass(s);
}

/* Visits perm[pos], perm[pos + 1], ... until the pass ends or `budget` visits were made; returns the visits.
 * A visit shrinks the sample (swaps it behind the active set; pos stays) or takes the projected-gradient
 * bounds and the clipped Newton step a - G / Qbar_tt, updating w and b. One loop over many visits, so the
 * pointers and bounds stay in registers (a visit is only O(d) work: the overhead would show). */
static inline uint32_t mlrn_smo__dcd_visits(mlrn_smo *s, uint32_t budget) {
    float *st = mlrn_smo__dcd_state(s);
    uint16_t k, d = s->store->d, pos = s->pos, active = (uint16_t)st[MLRN_SMO__DCD_ACTIVE];
    int hinge = MLRN_SMO__LOSS(&s->p) == MLRN_SMO_LOSS_HINGE;
    float *w = s->w + (size_t)s->sub * d, *b = s->b + s->sub, *qd = mlrn_smo__qd(s);
    uint8_t *perm = mlrn_smo__perm(s);
    float C = s->p.C, dii = st[MLRN_SMO__DCD_DIAG], max_old = st[MLRN_SMO__DCD_PG_MAX_OLD];
    float min_old = st[MLRN_SMO__DCD_PG_MIN_OLD], max_new = st[MLRN_SMO__DCD_PG_MAX_NEW];
    float min_new = st[MLRN_SMO__DCD_PG_MIN_NEW];
    uint32_t n = 0;
    for (; n < budget && pos < active; n++) {
        uint16_t t = mlrn_smo__perm_get(perm, pos);
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        float *a_p = mlrn_smo__alpha(s, t);
        const float *xt = mlrn__row(s, t, 0);   /* dequantised once: the dot product and the update share it */
        float a = *a_p, f = mlrn_kernel_dot(w, xt, d) + *b * MLRN_SMO_DCD_BIAS, g, pg = 0.0f;
        g = (yt > 0 ? f : -f) - 1.0f;
        if (!hinge) g = g + a * dii;
        if (a == 0.0f) {
            if (g > max_old) { mlrn_smo__perm_swap(perm, pos, --active); continue; }
            if (g < 0.0f) pg = g;
        } else if (hinge && a == C) {
            if (g < min_old) { mlrn_smo__perm_swap(perm, pos, --active); continue; }
            if (g > 0.0f) pg = g;
        } else {
            pg = g;
        }
        pos++;
        if (pg > max_new) max_new = pg;
        if (pg < min_new) min_new = pg;
        if (pg > MLRN_SMO_DCD_PG_EPS || pg < -MLRN_SMO_DCD_PG_EPS) {
            float na = a - g / qd[t], step;
            if (na < 0.0f) na = 0.0f;
            if (hinge && na > C) na = C;
            *a_p = na;
            step = yt > 0 ? na - a : -(na - a);
            for (k = 0; k < d; k++) w[k] = w[k] + step * xt[k];
            *b = *b + step * MLRN_SMO_DCD_BIAS;
        }
    }
    s->pos = pos;
    st[MLRN_SMO__DCD_ACTIVE] = (float)active;
    st[MLRN_SMO__DCD_PG_MAX_NEW] = max_new;
    st[MLRN_SMO__DCD_PG_MIN_NEW] = min_new;
    return n;
}

/* End of a pass (liblinear's rules): converged when PGmax - PGmin <= tol over the whole set; converged on
 * the shrunk set only: unshrink and go on; otherwise the new bounds become the shrinking thresholds (an
 * infinite one when it does not bound anything). Returns 1 when the sub-problem is done (status MAX_ITER
 * when max_iter passes ran without converging), 0 after starting the next pass. */
static inline int mlrn_smo__dcd_end_pass(mlrn_smo *s) {
    float *st = mlrn_smo__dcd_state(s), hi = st[MLRN_SMO__DCD_PG_MAX_NEW], lo = st[MLRN_SMO__DCD_PG_MIN_NEW];
    s->iter++;
    if (hi - lo <= s->p.tol) {
        if ((uint16_t)st[MLRN_SMO__DCD_ACTIVE] == s->m) return 1;
        st[MLRN_SMO__DCD_ACTIVE] = (float)s->m;
        st[MLRN_SMO__DCD_PG_MAX_OLD] = MLRN_SMO_BIG;
        st[MLRN_SMO__DCD_PG_MIN_OLD] = -MLRN_SMO_BIG;
    } else {
        st[MLRN_SMO__DCD_PG_MAX_OLD] = hi <= 0.0f ? MLRN_SMO_BIG : hi;
        st[MLRN_SMO__DCD_PG_MIN_OLD] = lo >= 0.0f ? -MLRN_SMO_BIG : lo;
    }
    if (s->iter >= s->p.max_iter) { s->status = MLRN_MAX_ITER; return 1; }
    mlrn_smo__dcd_new_pass(s);
    return 0;
}

#if MLRN_SMO_WARM
/* The warm start of the current sub-problem (wss2, linear; w is zero): its alphas are made feasible, then w is
 * rebuilt from them (the gradient of the linear kernel is G_t = y_t (w . x_t) - 1 from w). Feasible: each alpha
 * clipped to [0, C] (NaN -> 0), then sum_t y_t alpha_t = 0 restored by taking the excess of the side with the
 * larger sum off that side's alphas in index order (the oldest rows first: each loses min(alpha, excess)).
 * Then w = sum_t y_t alpha_t x_t in index order, feature by feature. microlearn.trainer.reference repeats these
 * float32 operations in this order. */
#if defined(__GNUC__)
__attribute__((noinline, unused))   /* once per sub-problem: keep it out of the hot frames */
#endif
static void mlrn_smo__warm_start(mlrn_smo *s) {
    uint16_t t, k, d = s->store->d;
    float C = s->p.C, sp = 0.0f, sn = 0.0f, excess;
    int8_t big;
    float *w = s->w + (size_t)s->sub * d;
    for (t = 0; t < s->store->n; t++) {
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        float *a;
        if (!yt) continue;
        a = mlrn_smo__alpha(s, t);
        if (!(*a > 0.0f)) *a = 0.0f;   /* also NaN */
        else if (*a > C) *a = C;
        if (yt > 0) sp = sp + *a; else sn = sn + *a;
    }
    big = sp > sn ? 1 : -1;
    excess = sp > sn ? sp - sn : sn - sp;
    for (t = 0; t < s->store->n && excess > 0.0f; t++) {
        float *a;
        if (mlrn__y(s, mlrn_store_label(s->store, t)) != big) continue;
        a = mlrn_smo__alpha(s, t);
        if (*a <= excess) { excess = excess - *a; *a = 0.0f; }
        else { *a = *a - excess; excess = 0.0f; }
    }
    for (t = 0; t < s->store->n; t++) {
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        float a, c;
        const float *xt;
        if (!yt) continue;
        a = *mlrn_smo__alpha(s, t);
        if (a == 0.0f) continue;
        c = yt > 0 ? a : -a;
        xt = mlrn__row(s, t, 0);
        for (k = 0; k < d; k++) w[k] = w[k] + c * xt[k];
    }
}
#endif

#if MLRN_SMO_CACHE
/* The bookkeeping after the columns: slot k's sample (a little-endian uint16 at 2k, as dcd's visiting order),
 * then the order of the slots, most recently used first (a uint8 each, at 2 cache_cols + k). */
MLRN_HOT uint8_t *mlrn_smo__cache_meta(const mlrn_smo *s) {
    return (uint8_t *)(void *)(s->cache + (size_t)s->cache_cols * s->store->capacity);
}

/* Every slot empty, in slot order (a new sub-problem: its members differ). */
static inline void mlrn_smo__cache_clear(mlrn_smo *s) {
    uint8_t k, *meta;
    if (!s->cache) return;
    meta = mlrn_smo__cache_meta(s);
    for (k = 0; k < s->cache_cols; k++) {
        mlrn_smo__perm_set(meta, k, MLRN_SMO_CACHE_EMPTY);
        meta[2u * s->cache_cols + k] = k;
    }
}

/* The cache slot of stored sample i's kernel column: LRU look-up (see mlrn_smo_set_cache). *miss = 1 when the
 * column is not there: the slot is then i's, and the caller fills it (K(x_i, x_t) at index t for every member t of
 * the current sub-problem; other entries stay stale) in a loop over the members it runs anyway, so a miss costs the
 * kernel values and no extra pass. */
static inline float *mlrn_smo__column(mlrn_smo *s, uint16_t i, int *miss) {
    uint8_t *meta = mlrn_smo__cache_meta(s), *order = meta + 2u * s->cache_cols, k, slot;
    uint8_t last = (uint8_t)(s->cache_cols - 1u);
    for (k = 0; k < last; k++)
        if (mlrn_smo__perm_get(meta, order[k]) == i) break;
    slot = order[k];
    *miss = mlrn_smo__perm_get(meta, slot) != i;   /* k == last: the least recently used slot, maybe i's */
    for (; k > 0; k--) order[k] = order[k - 1u];
    order[0] = slot;
    if (*miss) {
        s->cache_misses++;
        mlrn_smo__perm_set(meta, slot, i);
    } else {
        s->cache_hits++;
    }
    return s->cache + (size_t)slot * s->store->capacity;
}
#endif

static inline mlrn_status mlrn_smo__start_sub(mlrn_smo *s) {
    uint16_t t, npos = 0, nneg = 0, k, d = s->store->d;
    mlrn_smo__pair(s, s->sub, &s->cur_p, &s->cur_q);
    s->ovr_sub = (uint8_t)(s->p.multiclass == MLRN_SMO_OVR && s->n_sub > 1);
    s->one_row = (uint8_t)(s->p.kernel.type == MLRN_KERNEL_LINEAR || s->n_sub == 1);
#if MLRN_SMO_WARM
    if (s->warm) s->alpha = s->warm + (size_t)s->sub * s->store->capacity;   /* this sub-problem's row */
#endif
    for (t = 0; t < s->store->n; t++) {
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        if (!yt) continue;
        if (yt > 0) npos++; else nneg++;
#if MLRN_SMO_WARM
        if (!s->warm)
#endif
        *mlrn_smo__alpha(s, t) = 0.0f;
        if (s->grad) s->grad[t] = -1.0f;
        if (s->diag) {
            const float *xt = mlrn__row(s, t, 0);
            s->diag[t] = mlrn_smo__kernel(s, xt, xt);
        }
    }
    if (npos == 0 || nneg == 0) return MLRN_ERR_ONE_CLASS;
    if (s->w)
        for (k = 0; k < d; k++) s->w[(size_t)s->sub * d + k] = 0.0f;
#if MLRN_SMO_WARM
    if (s->warm) mlrn_smo__warm_start(s);
#endif
    if (MLRN_SMO__WQ(s)) mlrn_smo__refresh_wq(s);
#if MLRN_SMO_FIXED
    if (s->p.solver == MLRN_SMO_SOLVER_WSS2 && (MLRN_SMO__FX(s) || mlrn__kcodes(s) == MLRN_SMO__CODES_SQDIST_FX))
        mlrn_smo__fx_levels(s);
#endif
#if MLRN_SMO_CACHE
    mlrn_smo__cache_clear(s);
#endif
    s->b[s->sub] = 0.0f;
    s->m = (uint16_t)(npos + nneg);
    s->iter = 0;
    s->pos = 0;
    s->mpos = 0;
    s->passes = 0;
    s->changed = 0;
    if (MLRN_SMO_SOLVER_COMPILED(MLRN_SMO_SOLVER_DCD) && s->p.solver == MLRN_SMO_SOLVER_DCD) mlrn_smo__dcd_start(s);
    return MLRN_OK;
}

/* w += ci x_i + cj x_j, elementwise in this order. */
static inline void mlrn_smo__update_w(mlrn_smo *s, const float *xi, float ci, const float *xj, float cj) {
    uint16_t k, d = s->store->d;
    float *w = s->w + (size_t)s->sub * d;
    for (k = 0; k < d; k++) w[k] = (w[k] + ci * xi[k]) + cj * xj[k];
}

/* K_ii + K_tt - 2 K_it from K_it (non-linear kernels). */
MLRN_HOT float mlrn__quad_kit(const mlrn_smo *s, uint16_t i, uint16_t t, float kit) {
    float kii = s->diag ? s->diag[i] : 1.0f;   /* rbf: K(x, x) = 1 exactly */
    float ktt = s->diag ? s->diag[t] : 1.0f;
    return (kii + ktt) - 2.0f * kit;
}

/* K_ii + K_tt - 2 K_it; for the linear kernel as |x_i - x_t|^2 (exact zero for equal rows). xt: NULL on the
 * linear kernel's code path (s->wq). The non-linear kernels' code paths take mlrn__quad_kit(mlrn__kit()). */
MLRN_HOT float mlrn__quad(const mlrn_smo *s, uint16_t i, const float *xi, uint16_t t, const float *xt) {
    if (s->p.kernel.type == MLRN_KERNEL_LINEAR) {
#if MLRN_SMO_FIXED
        if (MLRN_SMO__FX(s)) return mlrn__sqdist_fx(s, i, t);
#endif
        return MLRN_SMO__WQ(s) ? mlrn__sqdist_q(s, i, t) : mlrn_kernel_sqdist(xi, xt, s->store->d);
    }
    return mlrn__quad_kit(s, i, t, mlrn_smo__kernel(s, xi, xt));
}

/* One wss2 iteration. Returns 1 when the sub-problem is solved, 0 otherwise. */
static inline int mlrn_smo__wss2_iteration(mlrn_smo *s) {
    uint16_t t, n = s->store->n;
    float C = s->p.C, gmax = -MLRN_SMO_BIG, gmin = MLRN_SMO_BIG, best = MLRN_SMO_BIG, gi = 0.0f, gj = 0.0f, quad = 0.0f;
    int32_t i = -1, j = -1;
    const float *xi, *xj;
    float *ai_p, *aj_p, ai, aj, old_ai, old_aj, ci, cj;
    int8_t yi, yj;
    int kc = mlrn__kcodes(s);   /* non-linear kernel values from the codes: no dequantised row t */
    mlrn_smo__side side_i, side_j;   /* folded rows: scratch rows 3 (i) and 2 (j), free on the code paths
                                      * (row 3 is the decision's, row 2 the dequantised row t's) */
#if MLRN_SMO_CACHE
    float *ki = 0, *kj = 0;   /* the cached kernel columns of i and j (s->cache, non-linear kernels) */
    int cached = s->cache && s->grad, fill_i = 0, fill_j = 0;
    int codes = MLRN_SMO__WQ(s) || kc;
#endif

#if MLRN_SMO_FIXED
    int fx = MLRN_SMO__FX_WSS2(s);   /* both scans in integers: mlrn_smo__wss2_select_fx */
    if (fx && mlrn_smo__wss2_select_fx(s, &i, &j, &gi, &gj, &quad)) return 1;
#else
    const int fx = 0;
#endif

    /* i = argmax over I_up of -y_t G_t */
    for (t = 0; t < n && !fx; t++) {
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        float a, g, v;
        if (!yt) continue;
        a = *mlrn_smo__alpha(s, t);
        if (yt > 0 ? !(a < C) : !(a > 0.0f)) continue;
        g = mlrn__grad(s, t, yt);
        v = yt > 0 ? -g : g;
        if (v > gmax) { gmax = v; i = t; gi = g; }
    }
    if (i < 0) return 1;
    xi = mlrn__row(s, (uint16_t)i, 0);
    side_i = mlrn__side(s, kc, (uint16_t)i, xi, MLRN_SMO__SCRATCH(s) ? s->scratch + 3u * (size_t)s->store->d : 0);
#if MLRN_SMO_CACHE
    if (cached) ki = mlrn_smo__column(s, (uint16_t)i, &fill_i);
#endif

    /* j = argmin over I_low with -y_t G_t < gmax of -(gmax + y_t G_t)^2 / quad_it */
    for (t = 0; t < n && !fx; t++) {
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        float a, g, v, bd;
        if (!yt) continue;
#if MLRN_SMO_CACHE
        /* a miss fills i's column here, for every member: the update needs all of it */
        if (fill_i) ki[t] = mlrn__kit(s, kc, &side_i, t, codes ? 0 : mlrn__row(s, t, 2));
#endif
        a = *mlrn_smo__alpha(s, t);
        if (yt > 0 ? !(a > 0.0f) : !(a < C)) continue;
        g = mlrn__grad(s, t, yt);
        v = yt > 0 ? -g : g;
        if (v < gmin) gmin = v;
        bd = gmax - v;
        if (bd > 0.0f) {
            float q, obj;
#if MLRN_SMO_CACHE
            if (ki) q = mlrn__quad_kit(s, (uint16_t)i, t, ki[t]);
            else
#endif
            if (kc) q = mlrn__quad_kit(s, (uint16_t)i, t, mlrn__kit(s, kc, &side_i, t, 0));
            else q = mlrn__quad(s, (uint16_t)i, xi, t, MLRN_SMO__WQ(s) ? 0 : mlrn__row(s, t, 2));
            if (q <= 0.0f) q = MLRN_SMO_TAU;
            obj = -(bd * bd) / q;
            if (obj < best) { best = obj; j = t; quad = q; gj = g; }
        }
    }
    if (!fx && (j < 0 || gmax - gmin < s->p.tol)) return 1;

    /* analytic update of the pair, clipped to the box (libsvm's order of cases) */
    yi = mlrn__y(s, mlrn_store_label(s->store, (uint16_t)i));
    yj = mlrn__y(s, mlrn_store_label(s->store, (uint16_t)j));
    ai_p = mlrn_smo__alpha(s, (uint16_t)i);
    aj_p = mlrn_smo__alpha(s, (uint16_t)j);
    old_ai = ai = *ai_p;
    old_aj = aj = *aj_p;
    if (yi != yj) {
        float delta = (-gi - gj) / quad, diff = ai - aj;
        ai = ai + delta;
        aj = aj + delta;
        if (diff > 0.0f) { if (aj < 0.0f) { aj = 0.0f; ai = diff; } }
        else if (ai < 0.0f) { ai = 0.0f; aj = -diff; }
        if (diff > 0.0f) { if (ai > C) { ai = C; aj = C - diff; } }
        else if (aj > C) { aj = C; ai = C + diff; }
    } else {
        float delta = (gi - gj) / quad, sum = ai + aj;
        ai = ai - delta;
        aj = aj + delta;
        if (sum > C) { if (ai > C) { ai = C; aj = sum - C; } }
        else if (aj < 0.0f) { aj = 0.0f; ai = sum; }
        if (sum > C) { if (aj > C) { aj = C; ai = sum - C; } }
        else if (ai < 0.0f) { ai = 0.0f; aj = sum; }
    }
    *ai_p = ai;
    *aj_p = aj;
    ci = yi > 0 ? ai - old_ai : -(ai - old_ai);
    cj = yj > 0 ? aj - old_aj : -(aj - old_aj);
    xj = mlrn__row(s, (uint16_t)j, 1);
    if (s->p.kernel.type == MLRN_KERNEL_LINEAR) {
        mlrn_smo__update_w(s, xi, ci, xj, cj);
        if (MLRN_SMO__WQ(s)) mlrn_smo__refresh_wq(s);
    } else {
        side_j = mlrn__side(s, kc, (uint16_t)j, xj, MLRN_SMO__SCRATCH(s) ? s->scratch + 2u * (size_t)s->store->d : 0);
#if MLRN_SMO_CACHE
        if (cached) kj = mlrn_smo__column(s, (uint16_t)j, &fill_j);   /* K >= 2: i's column, just used, stays */
#endif
        for (t = 0; t < n; t++) {
            int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
            const float *xt;
            float dg;
            if (!yt) continue;
#if MLRN_SMO_CACHE
            if (kj) {
                if (fill_j) kj[t] = mlrn__kit(s, kc, &side_j, t, codes ? 0 : mlrn__row(s, t, 2));
                dg = ci * ki[t] + cj * kj[t];
            } else
#endif
            if (kc) {
                dg = ci * mlrn__kit(s, kc, &side_i, t, 0) + cj * mlrn__kit(s, kc, &side_j, t, 0);
            } else {   /* float32 rows, or MLRN_SMO_KERNEL_CODES 0: the code as it always was */
                xt = mlrn__row(s, t, 2);   /* dequantised once for both kernel values */
                dg = ci * mlrn_smo__kernel(s, xi, xt) + cj * mlrn_smo__kernel(s, xj, xt);
            }
            s->grad[t] = s->grad[t] + (yt > 0 ? dg : -dg);
        }
    }
    return 0;
}

/* b = -rho from the final gradient (libsvm's calculate_rho). */
static inline void mlrn_smo__wss2_bias(mlrn_smo *s) {
    uint16_t t, nfree = 0;
    float C = s->p.C, ub = MLRN_SMO_BIG, lb = -MLRN_SMO_BIG, sum_free = 0.0f, rho;
#if MLRN_SMO_FIXED
    /* MLRN_SMO__FX: y_t G_t = c - V_t inv (mlrn_smo__wss2_select_fx), so the bounds' min and max are taken over
     * the integer scores and only the free samples' gradients are computed in float, as below */
    if (MLRN_SMO__FX_WSS2(s)) {
        int32_t kp = mlrn_smo__fx_k(s), kn = -kp;
        int32_t cb = mlrn_smo__fbits(C), vub = INT32_MIN, vlb = INT32_MAX;
        float inv = MLRN_SMO__FX_INV(s), c = s->wq[s->store->d], g;
        for (t = 0; t < s->store->n; t++) {
            int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
            int32_t a, v;
            if (!yt) continue;
            a = mlrn_smo__fbits(s->alpha[t]);   /* one row: the linear kernel's */
            if (a > 0 && a < cb) {
                g = mlrn__grad(s, t, yt);
                nfree++;
                sum_free = sum_free + (yt > 0 ? g : -g);
                continue;
            }
            v = (yt > 0 ? kp : kn) - mlrn__ax_fx(s, t);
            if ((a >= cb) == (yt < 0)) { if (v > vub) vub = v; }   /* ub: min y G = max V */
            else if (v < vlb) vlb = v;                              /* lb: max y G = min V */
        }
        if (vub > INT32_MIN && c - (float)vub * inv < ub) ub = c - (float)vub * inv;
        if (vlb < INT32_MAX && c - (float)vlb * inv > lb) lb = c - (float)vlb * inv;
        rho = nfree ? sum_free / (float)nfree : (ub + lb) / 2.0f;
        s->b[s->sub] = -rho;
        return;
    }
#endif
    for (t = 0; t < s->store->n; t++) {
        int8_t yt = mlrn__y(s, mlrn_store_label(s->store, t));
        float a, g, yg;
        if (!yt) continue;
        a = *mlrn_smo__alpha(s, t);
        g = mlrn__grad(s, t, yt);
        yg = yt > 0 ? g : -g;
        if (a >= C) {
            if (yt < 0) { if (yg < ub) ub = yg; }
            else if (yg > lb) lb = yg;
        } else if (a <= 0.0f) {
            if (yt > 0) { if (yg < ub) ub = yg; }
            else if (yg > lb) lb = yg;
        } else {
            nfree++;
            sum_free = sum_free + yg;
        }
    }
    rho = nfree ? sum_free / (float)nfree : (ub + lb) / 2.0f;
    s->b[s->sub] = -rho;
}

/* The index of the k-th member of the current sub-problem (k < m). */
static inline uint16_t mlrn_smo__member(const mlrn_smo *s, uint16_t k) {
    uint16_t t;
    if (s->m == s->store->n) return k;
    for (t = 0; t < s->store->n; t++)
        if (mlrn__y(s, mlrn_store_label(s->store, t))) {
            if (k == 0) return t;
            k--;
        }
    return 0;
}

/* Simplified SMO: examine sample i = s->pos (a member). Returns 1 if the pair changed. */
static inline int mlrn_smo__simplified_visit(mlrn_smo *s, uint16_t i, int8_t yi) {
    float C = s->p.C, tol = s->p.tol, b = s->b[s->sub];
    float *ai_p = mlrn_smo__alpha(s, i), *aj_p;
    const float *xi = mlrn__row(s, i, 0), *xj;
    float ei = mlrn_smo__f_train(s, xi) - (float)yi, r = yi > 0 ? ei : -ei;
    float ej, ai, aj, L, H, kii, kjj, kij, eta, naj, nai, dai, daj, ci, cj, b1, b2, change;
    uint16_t pj, j;
    int8_t yj;
    ai = *ai_p;
    if (!((r < -tol && ai < C) || (r > tol && ai > 0.0f))) return 0;
    pj = (uint16_t)(mlrn_rng_next(&s->rng) % (uint32_t)(s->m - 1u));
    if (pj >= s->mpos) pj++;
    j = mlrn_smo__member(s, pj);
    yj = mlrn__y(s, mlrn_store_label(s->store, (uint16_t)j));
    aj_p = mlrn_smo__alpha(s, j);
    aj = *aj_p;
    xj = mlrn__row(s, j, 1);
    ej = mlrn_smo__f_train(s, xj) - (float)yj;
    if (yi != yj) {
        L = aj - ai > 0.0f ? aj - ai : 0.0f;
        H = (C + aj) - ai < C ? (C + aj) - ai : C;
    } else {
        L = (ai + aj) - C > 0.0f ? (ai + aj) - C : 0.0f;
        H = ai + aj < C ? ai + aj : C;
    }
    if (L == H) return 0;
    kij = mlrn_smo__kernel(s, xi, xj);
    kii = mlrn_smo__kernel(s, xi, xi);
    kjj = mlrn_smo__kernel(s, xj, xj);
    eta = (2.0f * kij - kii) - kjj;
    if (eta >= 0.0f) return 0;
    naj = aj - (yj > 0 ? ei - ej : -(ei - ej)) / eta;
    if (naj > H) naj = H;
    if (naj < L) naj = L;
    change = naj - aj;
    if (change < 0.0f) change = -change;
    if (change < s->p.alpha_tol) return 0;
    nai = ai + (yi == yj ? aj - naj : -(aj - naj));
    dai = nai - ai;
    daj = naj - aj;
    ci = yi > 0 ? dai : -dai;
    cj = yj > 0 ? daj : -daj;
    b1 = ((b - ei) - ci * kii) - cj * kij;
    b2 = ((b - ej) - ci * kij) - cj * kjj;
    if (nai > 0.0f && nai < C) b = b1;
    else if (naj > 0.0f && naj < C) b = b2;
    else b = (b1 + b2) / 2.0f;
    s->b[s->sub] = b;
    *ai_p = nai;
    *aj_p = naj;
    if (s->w) mlrn_smo__update_w(s, xi, ci, xj, cj);
    return 1;
}

/* Sign the kernel coefficients (coef = y alpha) once the sub-problem is solved. */
static inline void mlrn_smo__finish_sub(mlrn_smo *s) {
    uint16_t t;
    if (MLRN_SMO_SOLVER_COMPILED(MLRN_SMO_SOLVER_WSS2) && s->p.solver == MLRN_SMO_SOLVER_WSS2) mlrn_smo__wss2_bias(s);
    if (s->p.kernel.type != MLRN_KERNEL_LINEAR)
        for (t = 0; t < s->store->n; t++)
            if (mlrn__y(s, mlrn_store_label(s->store, t)) < 0) {
                float *a = mlrn_smo__alpha(s, t);
                *a = -*a;
            }
    s->total_iter += s->iter;
}

/* b and, for the linear kernel, w of the solved sub-problem are finite (huge inputs can overflow
 * C * x to inf and inf - inf to NaN while b still comes out finite). */
static inline int mlrn_smo__sub_finite(const mlrn_smo *s) {
    uint16_t k;
    if (!mlrn_isfinite(s->b[s->sub])) return 0;
    if (s->w)
        for (k = 0; k < s->store->d; k++)
            if (!mlrn_isfinite(s->w[(size_t)s->sub * s->store->d + k])) return 0;
    return 1;
}

/* ---- training ------------------------------------------------------------ */

static inline mlrn_status mlrn_smo_train_begin(mlrn_smo *s) {
    mlrn_status st;
    if (!s || !s->store) return MLRN_ERR_ARG;
    if (s->store->n < 2) return MLRN_ERR_EMPTY;
    s->phase = 1;
    s->sub = 0;
    s->total_iter = 0;
    s->status = MLRN_OK;
    s->n_model = s->store->n;
    s->rng = mlrn_rng_seed(s->p.seed);
#if MLRN_SMO_CACHE
    s->cache_hits = 0;
    s->cache_misses = 0;
#endif
    mlrn_store_clear_status(s->store);
    st = mlrn_smo__start_sub(s);
    if (st == MLRN_OK || st == MLRN_ERR_ONE_CLASS) {   /* a failed read may have made a class look absent */
        mlrn_status io = mlrn_store_status(s->store);
        if (io != MLRN_OK) st = io;
    }
    if (st != MLRN_OK) s->phase = 0;
    return st;
}

/* Advances training by at most `max_units` units of work (wss2: pair updates;
 * simplified and dcd: samples examined) so an application loop keeps running between
 * calls. Returns MLRN_RUNNING until done, then MLRN_OK or MLRN_MAX_ITER
 * (or an error). The result is identical however the work is sliced. */
static inline mlrn_status mlrn_smo_train_step(mlrn_smo *s, uint32_t max_units) {
    uint32_t units = 0;
    if (!s || s->phase != 1) return MLRN_ERR_ARG;
    while (units < max_units) {
        int done = 0;
        /* the solvers left out of MLRN_SMO_SOLVERS compile to nothing (the tests are constant) */
        if (MLRN_SMO_SOLVER_COMPILED(MLRN_SMO_SOLVER_WSS2) && s->p.solver == MLRN_SMO_SOLVER_WSS2) {
            if (s->iter >= s->p.max_iter) { s->status = MLRN_MAX_ITER; done = 1; }
            else if (mlrn_smo__wss2_iteration(s)) done = 1;
            else { s->iter++; units++; }
        } else if (MLRN_SMO_SOLVER_COMPILED(MLRN_SMO_SOLVER_DCD) && s->p.solver == MLRN_SMO_SOLVER_DCD) {
            if (s->pos < (uint16_t)mlrn_smo__dcd_state(s)[MLRN_SMO__DCD_ACTIVE])
                units += mlrn_smo__dcd_visits(s, max_units - units);
            else done = mlrn_smo__dcd_end_pass(s);
        } else if (!MLRN_SMO_SOLVER_COMPILED(MLRN_SMO_SOLVER_SIMPLIFIED)) {
            done = 1;   /* not reached: mlrn_smo_init refuses a solver that is not compiled in */
        } else if (s->pos >= s->store->n) {       /* end of a sweep */
            s->iter++;
            s->passes = s->changed ? 0 : (uint16_t)(s->passes + 1u);
            s->changed = 0;
            s->pos = 0;
            s->mpos = 0;
            if (s->passes >= s->p.max_passes) done = 1;
            else if (s->iter >= s->p.max_iter) { s->status = MLRN_MAX_ITER; done = 1; }
        } else {
            uint16_t i = s->pos++;
            int8_t yi = mlrn__y(s, mlrn_store_label(s->store, (uint16_t)i));
            if (yi) {
                if (mlrn_smo__simplified_visit(s, i, yi)) s->changed++;
                s->mpos++;
                units++;
            }
        }
        if (MLRN_STORE_READ_ONLY && mlrn_store_status(s->store) != MLRN_OK) {   /* a callback read failed */
            s->phase = 0;
            return mlrn_store_status(s->store);
        }
        if (done) {
            mlrn_status st;
            mlrn_smo__finish_sub(s);
            if (!mlrn_smo__sub_finite(s)) { s->phase = 0; return MLRN_ERR_NAN; }
            if (++s->sub >= s->n_sub) { s->phase = 2; return s->status; }
            st = mlrn_smo__start_sub(s);
            if (mlrn_store_status(s->store) != MLRN_OK) st = mlrn_store_status(s->store);
            if (st != MLRN_OK) { s->phase = 0; return st; }
        }
    }
    return MLRN_RUNNING;
}

/* Trains to completion. *iterations (optional) receives the total over sub-problems. */
static inline mlrn_status mlrn_smo_train(mlrn_smo *s, uint32_t *iterations) {
    mlrn_status st = mlrn_smo_train_begin(s);
    while (st == MLRN_OK || st == MLRN_RUNNING) {
        st = mlrn_smo_train_step(s, 0xFFFFFFFFu);
        if (st != MLRN_RUNNING) break;
    }
    if (iterations) *iterations = s ? s->total_iter : 0u;
    return st;
}

/* ---- prediction with the trained model ------------------------------------ */

static inline float mlrn_smo_decision_sub(const mlrn_smo *s, uint16_t sub, const float *x) {
    uint16_t t, d = s->store->d;
    uint8_t p, q;
    float acc = 0.0f;
    if (s->p.kernel.type == MLRN_KERNEL_LINEAR) return mlrn_kernel_dot(s->w + (size_t)sub * d, x, d) + s->b[sub];
    mlrn_smo__pair(s, sub, &p, &q);
    for (t = 0; t < s->n_model; t++) {
        int16_t row = mlrn_smo__coef_row(s, sub, p, q, mlrn_store_label(s->store, t));
        float c;
        if (row < 0) continue;
        c = s->alpha[(size_t)row * s->store->capacity + t];
        if (c != 0.0f) acc = acc + c * mlrn_smo__kernel(s, mlrn__row(s, t, 3), x);
    }
    return acc + s->b[sub];
}

/* out receives n_sub values: binary 1 (>= 0 means class 1), ovo pairs in (0,1),(0,2).. order, ovr one per class. */
static inline mlrn_status mlrn_smo_decision_function(const mlrn_smo *s, const float *x, float *out) {
    uint16_t k;
    if (!s || !x || !out) return MLRN_ERR_ARG;
    if (s->phase != 2) return MLRN_ERR_UNTRAINED;
    for (k = 0; k < s->store->d; k++)
        if (!mlrn_isfinite(x[k])) return MLRN_ERR_NAN;
    for (k = 0; k < s->n_sub; k++) out[k] = mlrn_smo_decision_sub(s, k, x);
    return mlrn_store_status(s->store);   /* a callback store's failed read (kernel models read samples) */
}

/* Class index, or a negative status. (With a callback store this is mlrn_smo__predict, wrapped below.) */
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
#define MLRN_SMO__PREDICT mlrn_smo__predict
#else
#define MLRN_SMO__PREDICT mlrn_smo_predict
#endif
static inline int32_t MLRN_SMO__PREDICT(const mlrn_smo *s, const float *x) {
    uint16_t k, sub;
    uint8_t votes[MLRN_SMO_MAX_CLASSES], p, q, nc, best;
    if (!s || !x) return MLRN_ERR_ARG;
    if (s->phase != 2) return MLRN_ERR_UNTRAINED;
    for (k = 0; k < s->store->d; k++)
        if (!mlrn_isfinite(x[k])) return MLRN_ERR_NAN;
    nc = s->store->n_classes;
    if (s->n_sub == 1) return mlrn_smo_decision_sub(s, 0, x) >= 0.0f ? 1 : 0;
    if (s->p.multiclass == MLRN_SMO_OVR) {
        float fbest = mlrn_smo_decision_sub(s, 0, x);
        best = 0;
        for (sub = 1; sub < s->n_sub; sub++) {
            float f = mlrn_smo_decision_sub(s, sub, x);
            if (f > fbest) { fbest = f; best = (uint8_t)sub; }
        }
        return best;
    }
    for (k = 0; k < nc; k++) votes[k] = 0;
    for (sub = 0; sub < s->n_sub; sub++) {
        mlrn_smo__pair(s, sub, &p, &q);
        if (mlrn_smo_decision_sub(s, sub, x) >= 0.0f) votes[q]++;
        else votes[p]++;
    }
    best = 0;
    for (k = 1; k < nc; k++)
        if (votes[k] > votes[best]) best = (uint8_t)k;
    return best;
}

#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
/* A callback store: kernel models read their samples, and a failed read gives its status. */
static inline int32_t mlrn_smo_predict(const mlrn_smo *s, const float *x) {
    int32_t c;
    if (s && s->store) mlrn_store_clear_status(s->store);
    c = mlrn_smo__predict(s, x);
    if (c >= 0 && mlrn_store_status(s->store) != MLRN_OK) return mlrn_store_status(s->store);
    return c;
}
#endif

/* Accuracy on n rows (X row-major, n x d): *correct receives the count of right predictions. */
static inline mlrn_status mlrn_smo_eval(const mlrn_smo *s, const float *X, const uint8_t *y, uint16_t n,
                                        uint16_t *correct) {
    uint16_t i, ok = 0;
    if (!s || !X || !y || !correct) return MLRN_ERR_ARG;
    for (i = 0; i < n; i++) {
        int32_t c = mlrn_smo_predict(s, X + (size_t)i * s->store->d);
        if (c < 0) return (mlrn_status)c;
        if (c == (int32_t)y[i]) ok++;
    }
    *correct = ok;
    return MLRN_OK;
}

/* Kernel models: moves the support vectors (samples with a non-zero coefficient in
 * any row) to the front of the store, keeping their order, so predictions are
 * unchanged and the store's tail can be reused; store->n becomes the SV count.
 * Linear models need only w and b, which live apart from the store: nothing moves.
 * Returns the samples the model still needs. */
static inline int32_t mlrn_smo_compact(mlrn_smo *s) {
    uint16_t t, r, dst = 0, rows, cap;
    size_t esz;
    if (!s) return MLRN_ERR_ARG;
    if (s->phase != 2) return MLRN_ERR_UNTRAINED;
    if (s->p.kernel.type == MLRN_KERNEL_LINEAR) return 0;
    if (MLRN_STORE_READ_ONLY) return MLRN_ERR_ARG;   /* a flash or callback store is not rewritten */
    rows = mlrn_smo_n_rows(s->store->n_classes, s->p.multiclass);
    cap = s->store->capacity;
    esz = mlrn_store_elem_size(MLRN_STORE_TYPE_OF(s->store)) * s->store->d;
    for (t = 0; t < s->n_model; t++) {
        int sv = 0;
        for (r = 0; r < rows; r++) sv |= s->alpha[(size_t)r * cap + t] != 0.0f;
        if (!sv) continue;
        if (dst != t) {
            uint8_t *data = (uint8_t *)s->store->data;
            size_t k;
            for (k = 0; k < esz; k++) data[dst * esz + k] = data[t * esz + k];
            s->store->labels[dst] = s->store->labels[t];
            for (r = 0; r < rows; r++) s->alpha[(size_t)r * cap + dst] = s->alpha[(size_t)r * cap + t];
        }
        dst++;
    }
    s->n_model = dst;
    s->store->n = dst;
    return dst;
}

MLRN_FP_EXACT_END

#endif /* MLRN_SMO_H */
