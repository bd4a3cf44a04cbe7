/* mlrn_learner.h: a self-learning device (the Edge2Train loop) over the SMO trainer.
 *
 *   predict(x)            -> class for the application's actuation (current model)
 *   feedback(x, y_true)   -> the closed-loop ground truth: counts the mistake, stitches
 *                            the sample into the bounded store (only mistakes, or all),
 *                            and arms the retraining trigger
 *   step(budget)          -> time-sliced training: at most `budget` SMO iterations per call;
 *                            then validation on the held-out store, acceptance or rollback,
 *                            and the samples queued meanwhile are stored
 *   save/load             -> the current model (a kernel learner: its snapshot) through mlrn_persist.h (power-safe
 *                            A/B slots)
 *   save_all              -> the model and both sample stores with the loop state (load restores either)
 *
 * Scope: wss2 solver, one-vs-one, and the kernel MLRN_LEARNER_KERNEL fixes at compile time (below). Linear
 * (the default): the model is w,b per pair; the current model lives apart from the candidate under training
 * and is copied on acceptance. rbf / poly: the model is a snapshot of the support vectors (see "Kernel
 * learners" below). Other kernels/solvers are refused with MLRN_ERR_ARG at init.
 *
 * Classes are declared up front (n_classes, uint8). A candidate is trained only on the
 * classes present in the training store (>= 2 needed): labels are remapped to
 * 0..m-1 for the trainer during training and restored after; the model keeps the map,
 * so predictions are among the classes seen so far. A class seen later is learned at
 * the next retrain.
 *
 * Every decision is deterministic and mirrored by microlearn.learner.simulate
 * (held-out split, eviction with the shared xorshift32, triggers, acceptance in
 * integer arithmetic): Python and device agree bit for bit. Change both or neither.
 *
 * Memory: static, caller-owned (MLRN_LEARNER_DEFINE declares all of it). */
#ifndef MLRN_LEARNER_H
#define MLRN_LEARNER_H
#include "mlrn.h"
#include "mlrn_drift.h"

/* MLRN_LEARNER_DDM (0/1): compile the DDM detector (mlrn_drift.h) into the learner. 0 (the default): the
 * window detector only; no DDM state, parameters or code: not even the params' `drift` byte (the detector is
 * the window's; a build that sets p.drift without MLRN_LEARNER_DDM does not compile). Why a macro: on a 2 KB / 32 KB part the detector's 22 bytes of state and
 * its code (integer square root, its save_all section) do not fit next to a full loop, and a build should pay
 * only for the detector it runs. Define it before the first include (generated learner headers do, from
 * their configuration, and refuse a contradicting earlier definition). */
#ifndef MLRN_LEARNER_DDM
#define MLRN_LEARNER_DDM 0
#endif
/* The learner's detector: its params' `drift` with DDM compiled in, else the window detector (no field). */
#if MLRN_LEARNER_DDM
#define MLRN_LEARNER__DRIFT(l) ((l)->lp.drift)
#else
#define MLRN_LEARNER__DRIFT(l) MLRN_DRIFT_WINDOW
#endif
/* MLRN_LEARNER_WARM (0/1): warm-started retraining. 0 (the default): every retrain starts from alpha = 0. 1: the
 * alphas of the last completed training stay with their rows (n_sub(NC) rows of TRAIN_CAP floats, the first
 * n_sub(NC) - 1 of them ahead of the trainer's work array: mlrn_learner_work_floats) and the next retrain starts
 * from them when the class map is unchanged (docs/self-learning.md, "Warm starts"). Needs mlrn_smo.h built with
 * MLRN_SMO_WARM 1, which this sets when mlrn_smo.h has not been included yet. */
#ifndef MLRN_LEARNER_WARM
#define MLRN_LEARNER_WARM 0
#endif
#if MLRN_LEARNER_WARM
#if defined(MLRN_SMO_H) && !MLRN_SMO_WARM
#error "mlrn_learner.h: MLRN_LEARNER_WARM 1 needs mlrn_smo.h with MLRN_SMO_WARM 1: define MLRN_LEARNER_WARM before the first microlearn include"
#endif
#ifndef MLRN_SMO_WARM
#define MLRN_SMO_WARM 1
#endif
#endif
#include "mlrn_kernel.h"
#include "mlrn_persist.h"
#include "mlrn_rng.h"
#include "mlrn_smo.h"
#include "mlrn_store.h"
#if MLRN_STORE_SOURCE != MLRN_STORE_IN_RAM
#error "mlrn_learner.h: the self-learning loop adds samples as they arrive: it needs MLRN_STORE_SOURCE MLRN_STORE_IN_RAM (a trainer header with the samples in flash or behind a callback cannot share its translation unit)"
#endif

/* MLRN_LEARNER_KERNEL: the learner's kernel, an MLRN_KERNEL_* id fixed at compile time. MLRN_KERNEL_LINEAR (0, the
 * default): the model is w,b per pair, and a linear build compiles exactly the code and memory it did before
 * kernels existed (every kernel-only field, buffer and function below is under #if). MLRN_KERNEL_RBF (1) or
 * MLRN_KERNEL_POLY (2): "Kernel learners" below. A compile-time switch, not a parameter: the snapshot's buffers
 * and the kernel code (the exponential, the power) are only in the builds that use them. Define it before the
 * first include (generated learner headers do, from their configuration). */
#ifndef MLRN_LEARNER_KERNEL
#define MLRN_LEARNER_KERNEL MLRN_KERNEL_LINEAR
#endif
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR && MLRN_LEARNER_KERNEL != MLRN_KERNEL_RBF && \
    MLRN_LEARNER_KERNEL != MLRN_KERNEL_POLY
#error "mlrn_learner.h: MLRN_LEARNER_KERNEL must be MLRN_KERNEL_LINEAR, MLRN_KERNEL_RBF or MLRN_KERNEL_POLY"
#endif
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR && !MLRN_KERNEL_COMPILED(MLRN_LEARNER_KERNEL)
#error "mlrn_learner.h: MLRN_LEARNER_KERNEL names a kernel that MLRN_KERNELS leaves out (see mlrn_kernel.h)"
#endif
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR && MLRN_LEARNER_WARM
#error "mlrn_learner.h: warm starts (MLRN_LEARNER_WARM) are for the linear learner: mlrn_smo_set_warm starts the linear kernel only"
#endif
/* Kernel learners (MLRN_LEARNER_KERNEL rbf / poly). The trainer (mlrn_smo.h) trains the kernel over the training
 * store; its solution is the alpha rows of its work array (signed: y alpha, libsvm's layout: a sample of local
 * class c holds n_rows(m) = m - 1 coefficients, row q - 1 in pair (c, q), row p in pair (p, c)) and b per pair.
 * That solution only means something next to the rows it was trained on, and the training store changes as
 * samples arrive. So:
 *   - while it trains, the candidate is the trainer's alphas over the training store, which does not change
 *     until training ends (samples that arrive meanwhile wait in the queue);
 *   - at the end (mlrn_learner__finish) the candidate is validated on the held-out store straight from there,
 *     before the queue is stored, and, if accepted, becomes the current model: a snapshot of its support
 *     vectors (rows with a non-zero coefficient, in store order) copied into the learner's own buffers: their
 *     rows in the store's element type (sv_x: float32, int16 or int8 codes), their local class (sv_y), their
 *     coefficient rows (cur_w: n_rows(n_classes) rows of train capacity floats, the trainer's layout) and b
 *     per pair (cur_b);
 *   - a rollback (or a failed or abandoned training) leaves the snapshot untouched: predictions keep coming
 *     from it while the next candidate trains.
 * The snapshot holds at most the training capacity's rows (sized at compile time: MLRN_LEARNER_DEFINE).
 * Decision of pair (p, q): acc = 0; acc = acc + c_t K(x_t, x) over the model's rows t in order, skipping
 * c_t == 0 (mlrn_smo_decision_sub's order); f = acc + b; f >= 0 votes for q. K is computed from the stored row
 * dequantised element by element with mlrn_store_row's float32 operations, then mlrn_kernel_finish
 * (microlearn.learner.reference mirrors all of it). save / save_all / load persist the snapshot (formats
 * MLRN_LEARNER_FORMAT_KERNEL / _ALL_KERNEL: see "persistence" below). Not available with a kernel: warm starts and
 * mlrn_learner_set_model (an initial model from Python). */
#define MLRN_LEARNER__N_ROWS(NC) ((NC) <= 2 ? 1 : (NC) - 1)   /* mlrn_smo_n_rows(NC, MLRN_SMO_OVO), constant */

MLRN_FP_EXACT_BEGIN

#define MLRN_LEARNER_STORE_MISTAKES 0 /* store only samples the current model got wrong */
#define MLRN_LEARNER_STORE_ALL 1      /* store every sample (default) */
#define MLRN_LEARNER_FIFO 0           /* evict the oldest */
#define MLRN_LEARNER_RESERVOIR 1      /* reservoir sampling (xorshift32) */
#define MLRN_LEARNER_BALANCED 2       /* evict the oldest sample of the largest class */

#define MLRN_LEARNER_EV_NONE 0
#define MLRN_LEARNER_EV_ACCEPTED 1
#define MLRN_LEARNER_EV_ROLLBACK 2
#define MLRN_LEARNER_EV_FAILED 3

#if defined(__GNUC__)
#define MLRN_LEARNER__COLD static __attribute__((noinline, unused)) /* rare paths: keep their locals off the hot frames */
#else
#define MLRN_LEARNER__COLD static
#endif

#define MLRN_LEARNER_MAGIC 0x4C52u  /* also the persistence tag */
#define MLRN_LEARNER_FORMAT 1u      /* payload: the current model */
#define MLRN_LEARNER_FORMAT_ALL 2u  /* payload: the current model (optional) + stores + loop state */
#define MLRN_LEARNER_FORMAT_KERNEL 3u      /* a kernel learner's payload: its snapshot (see "Kernel learners") */
#define MLRN_LEARNER_FORMAT_ALL_KERNEL 4u  /* a kernel learner's: the snapshot (optional) + stores + loop state */

typedef struct {
    uint8_t store_policy;    /* MLRN_LEARN_STORE_* */
    uint8_t replace;         /* MLRN_LEARNER_FIFO / RESERVOIR / BALANCED */
    uint16_t k_mistakes;     /* retrain after this many mistakes since the last retrain (0: off) */
    uint16_t window;         /* sliding window of feedback outcomes (0: off), <= buffer given */
    uint8_t err_pct;         /* retrain when `window` rows since the last start hold errors*100 > err_pct*window */
    uint8_t drift_pct;       /* drift (MLRN_DRIFT_WINDOW): the last `window` outcomes hold errors*100 > drift_pct*window (0: off) */
#if MLRN_LEARNER_DDM
    uint8_t drift;           /* the drift detector: MLRN_DRIFT_WINDOW (drift_pct over the window) or MLRN_DRIFT_DDM;
                              * only with MLRN_LEARNER_DDM (without it the detector is the window's: no byte) */
    uint8_t ddm_warn_k10;    /* DDM warning at p_min + k/10 s_min (25), drift at ddm_drift_k10/10 (40): 10 < warn <= drift */
    uint8_t ddm_drift_k10;
    uint16_t ddm_min_rows;   /* DDM judges after this many rows since the first model or the last drift (30, >= 1) */
#endif
    uint8_t margin_pct;      /* accept if held-out correct*100 + margin*n > current correct*100 (or n == 0) */
    uint8_t holdout_every;   /* every k-th stored sample goes to the held-out store (0: none) */
    uint32_t seed;           /* reservoir PRNG */
    mlrn_smo_params svm;     /* trainer parameters (linear, wss2, ovo) */
} mlrn_learner_params;

typedef struct {
    mlrn_smo svm;
    mlrn_store train, hold;
    mlrn_learner_params lp;
    float *work; size_t work_floats;
    float *cur_w, *cur_b;          /* current model: n_sub(m)*d and n_sub(m) floats */
    float *scratch;                /* d floats (dequantised rows) */
    float *queue_x; uint8_t *queue_y;
    uint8_t *win;                  /* ring of the last `window` rows: bit 0 wrong, bit 1 stored in train, bit 2 held out */
    uint16_t queue_cap, queue_n, win_pos, win_fill, win_err, win_since, mistakes_since;
    uint8_t n_classes, n_cur, n_cand, has_model, training, pending, event, ready;
    uint8_t cur_map[MLRN_SMO_MAX_CLASSES], cand_map[MLRN_SMO_MAX_CLASSES], inv[MLRN_SMO_MAX_CLASSES];
    uint32_t rng, n_stored, seen_train, seen_hold;
    /* counters */
    uint32_t n_feedback, n_mistakes, n_retrains, n_accepted, n_rollbacks, n_failed, n_dropped, n_discarded, n_drifts;
    uint16_t last_cand_correct, last_cur_correct, last_hold_n;
    uint32_t last_train_iter;
    /* MLRN_DRIFT_DDM: the detector, and the samples each store received since its warning began (kept on drift) */
#if MLRN_LEARNER_DDM
    mlrn_ddm ddm;
    uint16_t warn_train, warn_hold;
#endif
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    void *sv_x;        /* the current model's support vectors: up to train.capacity rows of the store's element type */
    uint8_t *sv_y;     /* their local classes (0..n_cur - 1) */
    uint16_t n_sv;     /* rows of the snapshot (cur_w: their coefficients, row r at cur_w[r * train.capacity]) */
#endif
#if MLRN_LEARNER_WARM
    float *warm;       /* n_sub(n_classes) rows of train.capacity alphas: row k, column t = pair k of the candidate's
                        * class map, training row t (moves with its row; 0 for a row stored since) */
    uint8_t warm_ok;   /* the rows hold the last completed training's solution over cand_map */
#endif
} mlrn_learner;

/* Restarts the DDM detector and its warning marks (nothing without MLRN_LEARNER_DDM). */
static inline void mlrn_learner__ddm_restart(mlrn_learner *l) {
#if MLRN_LEARNER_DDM
    mlrn_ddm_reset(&l->ddm);
    l->warn_train = l->warn_hold = 0;
#else
    (void)l;
#endif
}

static inline mlrn_learner_params mlrn_learner_default_params(void) {
    mlrn_learner_params p;
    p.store_policy = MLRN_LEARNER_STORE_ALL;
    p.replace = MLRN_LEARNER_FIFO;
    p.k_mistakes = 5u;
    p.window = 20u;
    p.err_pct = 30u;
    p.drift_pct = 40u;
    /* the window detector: DDM cost the HVAC closed loop comfort and does not fit the uno's full loop
       (docs/self-learning.md, "Which detector by default"); DDM is opt-in (MLRN_LEARNER_DDM, p.drift) */
#if MLRN_LEARNER_DDM
    p.drift = MLRN_DRIFT_WINDOW;
    p.ddm_warn_k10 = (uint8_t)MLRN_DDM_WARN_K10;
    p.ddm_drift_k10 = (uint8_t)MLRN_DDM_DRIFT_K10;
    p.ddm_min_rows = (uint16_t)MLRN_DDM_MIN_ROWS;
#endif
    p.margin_pct = 0u;
    p.holdout_every = 4u;
    p.seed = 1u;
    p.svm = mlrn_smo_default_params();
    p.svm.max_iter = 2000u;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    p.svm.kernel.type = MLRN_LEARNER_KERNEL;
#endif
    return p;
}

/* Floats of the work buffer (trainer work for n_classes) and of the current model. */
/* With MLRN_LEARNER_WARM the warm rows but the last come first (the last one is the trainer's alpha row). */
#if MLRN_LEARNER_WARM
#define MLRN_LEARNER__WARM_FLOATS(CAP, NSUB) (((NSUB) - 1) * (CAP))
#else
#define MLRN_LEARNER__WARM_FLOATS(CAP, NSUB) 0
#endif
static inline size_t mlrn_learner_work_floats(uint16_t train_cap, uint16_t d, uint8_t n_classes, uint8_t storage) {
    mlrn_smo_params p = mlrn_smo_default_params();
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    p.kernel.type = MLRN_LEARNER_KERNEL;
#endif
    return mlrn_smo_work_floats(train_cap, d, n_classes, storage, &p) +
           (size_t)MLRN_LEARNER__WARM_FLOATS((size_t)train_cap, (size_t)mlrn_smo_n_sub(n_classes, MLRN_SMO_OVO));
}
static inline size_t mlrn_learner_model_floats(uint16_t d, uint8_t n_classes) {
    return (size_t)mlrn_smo_n_sub(n_classes, MLRN_SMO_OVO) * (d + 1u);
}
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
/* Kernel builds: the model buffer holds the snapshot's coefficients (n_rows(n_classes) rows of train_cap floats)
 * and b per pair; its rows and classes live in the sv buffers (train_cap rows of the store's element type, and
 * train_cap bytes). As constant expressions for static arrays: MLRN_LEARNER_KERNEL_MODEL_FLOATS, and the trainer's
 * work array for this kernel (mlrn_smo_work_floats: alpha rows, grad, poly's diag, b, quantised scratch rows). */
#define MLRN_LEARNER_KERNEL_MODEL_FLOATS(CAP, NC) (MLRN_LEARNER__N_ROWS(NC) * (CAP) + MLRN_SMO_N_SUB_OVO(NC))
#define MLRN_LEARNER_KERNEL_WORK_FLOATS(CAP, D, NC, STORAGE)                                                    \
    (MLRN_LEARNER__N_ROWS(NC) * (CAP) + (CAP) + (MLRN_LEARNER_KERNEL == MLRN_KERNEL_POLY ? (CAP) : 0) +          \
     MLRN_SMO_N_SUB_OVO(NC) + ((STORAGE) != MLRN_STORAGE_F32 ? 4 * (D) : 0))
static inline size_t mlrn_learner_kernel_model_floats(uint16_t train_cap, uint8_t n_classes) {
    return (size_t)mlrn_smo_n_rows(n_classes, MLRN_SMO_OVO) * train_cap + mlrn_smo_n_sub(n_classes, MLRN_SMO_OVO);
}
/* The snapshot's buffers, as extra arguments of mlrn_learner_init: sv_data (train_cap rows of the store's
 * element type: mlrn_store_data_size bytes) and sv_labels (train_cap bytes). */
#define MLRN_LEARNER__SV_PARAMS , void *sv_data, size_t sv_data_size, uint8_t *sv_labels
#else
#define MLRN_LEARNER__SV_PARAMS
#endif

/* All buffers are the caller's. train_data/hold_data: store data arrays (see mlrn_store_data_size),
 * model: mlrn_learner_model_floats, scratch: d floats, queue_x: queue_cap*d floats, win: window bytes. */
static inline mlrn_status mlrn_learner_init(mlrn_learner *l, const mlrn_learner_params *p, uint16_t d, uint8_t n_classes,
                                            uint8_t storage, const float *scale, const float *offset,
                                            void *train_data, size_t train_data_size, uint8_t *train_labels,
                                            uint16_t train_cap, void *hold_data, size_t hold_data_size,
                                            uint8_t *hold_labels, uint16_t hold_cap, float *work, size_t work_floats,
                                            float *model, size_t model_floats, float *scratch, float *queue_x,
                                            uint8_t *queue_y, uint16_t queue_cap, uint8_t *win,
                                            uint16_t win_cap MLRN_LEARNER__SV_PARAMS) {
    mlrn_status st;
    if (!l) return MLRN_ERR_ARG;
    l->ready = 0;
    if (!p || !work || !model || !scratch || (queue_cap && (!queue_x || !queue_y))) return MLRN_ERR_ARG;
    if (p->svm.kernel.type != MLRN_LEARNER_KERNEL || p->svm.solver != MLRN_SMO_SOLVER_WSS2 || p->svm.multiclass != MLRN_SMO_OVO)
        return MLRN_ERR_ARG;   /* the learner supports its compiled kernel (MLRN_LEARNER_KERNEL), wss2, ovo only */
    if (p->store_policy > MLRN_LEARNER_STORE_ALL || p->replace > MLRN_LEARNER_BALANCED || p->err_pct > 100u ||
        p->drift_pct > 100u ||
#if MLRN_LEARNER_DDM
        p->drift > MLRN_DRIFT_DDM ||
        (p->drift == MLRN_DRIFT_DDM && (p->ddm_warn_k10 <= 10u || p->ddm_drift_k10 < p->ddm_warn_k10 ||
                                        p->ddm_min_rows == 0u)) ||
#endif
        p->margin_pct > 100u || n_classes < 2 || n_classes > MLRN_SMO_MAX_CLASSES || p->window > win_cap ||
        (p->window && !win))
        return MLRN_ERR_ARG;
    if ((p->holdout_every && hold_cap == 0u) || p->holdout_every == 1u) return MLRN_ERR_ARG;
    st = mlrn_store_init(&l->train, train_data, train_data_size, train_labels, train_cap, train_cap, d, storage,
                         n_classes, scale, offset);
    if (st != MLRN_OK) return st;
    if (p->holdout_every) {
        st = mlrn_store_init(&l->hold, hold_data, hold_data_size, hold_labels, hold_cap, hold_cap, d, storage,
                             n_classes, scale, offset);
        if (st != MLRN_OK) return st;
    } else {
        l->hold.n = 0; l->hold.capacity = 0; l->hold.d = d; l->hold.n_classes = n_classes;
    }
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    if (!sv_data || !sv_labels) return MLRN_ERR_ARG;
    if (model_floats < mlrn_learner_kernel_model_floats(train_cap, n_classes) ||
        sv_data_size < mlrn_store_data_size(train_cap, d, storage))
        return MLRN_ERR_BUFFER;
#else
    if (model_floats < mlrn_learner_model_floats(d, n_classes)) return MLRN_ERR_BUFFER;
#endif
#if MLRN_LEARNER_WARM
    {   /* the warm rows but the last, then the trainer's work array (its alpha row is the last warm row) */
        size_t extra = (size_t)MLRN_LEARNER__WARM_FLOATS((size_t)train_cap,
                                                        (size_t)mlrn_smo_n_sub(n_classes, MLRN_SMO_OVO));
        if (work_floats < extra) return MLRN_ERR_BUFFER;
        l->warm = work;
        l->warm_ok = 0;
        work += extra;
        work_floats -= extra;
    }
#endif
    if (work_floats < mlrn_smo_work_floats(train_cap, d, n_classes, storage, &p->svm)) return MLRN_ERR_BUFFER;
    st = mlrn_smo_init(&l->svm, &p->svm, &l->train, work, work_floats);
    if (st != MLRN_OK) return st;
    l->lp = *p;
    l->work = work; l->work_floats = work_floats;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    l->cur_w = model; l->cur_b = model + (size_t)mlrn_smo_n_rows(n_classes, MLRN_SMO_OVO) * train_cap;
    l->sv_x = sv_data; l->sv_y = sv_labels; l->n_sv = 0;
#else
    l->cur_w = model; l->cur_b = model + (size_t)mlrn_smo_n_sub(n_classes, MLRN_SMO_OVO) * d;
#endif
    l->scratch = scratch;
    l->queue_x = queue_x; l->queue_y = queue_y; l->queue_cap = queue_cap; l->queue_n = 0;
    l->win = win; l->win_pos = 0; l->win_fill = 0; l->win_err = 0; l->win_since = 0; l->mistakes_since = 0;
    l->n_classes = n_classes; l->n_cur = 0; l->n_cand = 0; l->has_model = 0; l->training = 0; l->pending = 0;
    l->event = MLRN_LEARNER_EV_NONE;
    l->rng = mlrn_rng_seed(p->seed);
    l->n_stored = 0; l->seen_train = 0; l->seen_hold = 0;
    l->n_feedback = l->n_mistakes = l->n_retrains = l->n_accepted = l->n_rollbacks = 0;
    l->n_failed = l->n_dropped = l->n_discarded = l->n_drifts = 0;
    l->last_cand_correct = l->last_cur_correct = l->last_hold_n = 0;
    l->last_train_iter = 0;
    mlrn_learner__ddm_restart(l);
    l->ready = 1;
    return MLRN_OK;
}

/* The sizes of the work and model arrays MLRN_LEARNER_DEFINE declares, and (kernel builds) the snapshot's row and
 * class arrays NAME_sv_x / NAME_sv_y with the arguments binding them. */
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
#define MLRN_LEARNER__WORK_ARRAY(CAP, D, NC, STORAGE) MLRN_LEARNER_KERNEL_WORK_FLOATS(CAP, D, NC, STORAGE)
#define MLRN_LEARNER__MODEL_ARRAY(CAP, D, NC) MLRN_LEARNER_KERNEL_MODEL_FLOATS(CAP, NC)
#define MLRN_LEARNER__SV_DECL(NAME, CAP, D, CTYPE)                                                             \
    static CTYPE NAME##_sv_x[(CAP) * (D)];                                                                     \
    static uint8_t NAME##_sv_y[CAP];
#define MLRN_LEARNER__SV_ARGS(NAME) , NAME##_sv_x, sizeof NAME##_sv_x, NAME##_sv_y
#else
#define MLRN_LEARNER__WORK_ARRAY(CAP, D, NC, STORAGE)                                                          \
    (MLRN_SMO_WORK_FLOATS_LINEAR(CAP, D, MLRN_SMO_N_SUB_OVO(NC), STORAGE) +                                     \
     MLRN_LEARNER__WARM_FLOATS(CAP, MLRN_SMO_N_SUB_OVO(NC)))
#define MLRN_LEARNER__MODEL_ARRAY(CAP, D, NC) (MLRN_SMO_N_SUB_OVO(NC) * ((D) + 1))
#define MLRN_LEARNER__SV_DECL(NAME, CAP, D, CTYPE)
#define MLRN_LEARNER__SV_ARGS(NAME)
#endif

/* Declares the static buffers of a learner NAME and NAME_init(params) binding them.
 * MLRN_LEARNER_DEFINE: float32 storage. MLRN_LEARNER_DEFINE_STORAGE: CTYPE int16_t/int8_t with
 * STORAGE MLRN_STORAGE_I16/I8 and the d-entry MLRN_FLASH tables SCALE, OFFSET (see mlrn_store.h). */
#define MLRN_LEARNER_DEFINE_STORAGE(NAME, D, NC, TRAIN_CAP, HOLD_CAP, QUEUE, WINDOW, CTYPE, STORAGE, SCALE,      \
                                    OFFSET)                                                                    \
    static mlrn_learner NAME;                                                                                  \
    static CTYPE NAME##_train_x[(TRAIN_CAP) * (D)];                                                            \
    static uint8_t NAME##_train_y[TRAIN_CAP];                                                                  \
    static CTYPE NAME##_hold_x[((HOLD_CAP) ? (HOLD_CAP) : 1) * (D)];                                           \
    static uint8_t NAME##_hold_y[(HOLD_CAP) ? (HOLD_CAP) : 1];                                                 \
    static float NAME##_work[MLRN_LEARNER__WORK_ARRAY(TRAIN_CAP, D, NC, STORAGE)];                             \
    static float NAME##_model[MLRN_LEARNER__MODEL_ARRAY(TRAIN_CAP, D, NC)];                                    \
    MLRN_LEARNER__SV_DECL(NAME, TRAIN_CAP, D, CTYPE)                                                           \
    static float NAME##_scratch[D];                                                                            \
    static float NAME##_qx[((QUEUE) ? (QUEUE) : 1) * (D)];                                                     \
    static uint8_t NAME##_qy[(QUEUE) ? (QUEUE) : 1];                                                           \
    static uint8_t NAME##_win[(WINDOW) ? (WINDOW) : 1];                                                        \
    static inline mlrn_status NAME##_init(const mlrn_learner_params *p) {                                      \
        return mlrn_learner_init(&NAME, p, (D), (NC), (STORAGE), (SCALE), (OFFSET), NAME##_train_x,            \
                                 sizeof NAME##_train_x, NAME##_train_y, (TRAIN_CAP), NAME##_hold_x,            \
                                 sizeof NAME##_hold_x, NAME##_hold_y, (HOLD_CAP), NAME##_work,                 \
                                 sizeof NAME##_work / sizeof(float), NAME##_model,                             \
                                 sizeof NAME##_model / sizeof(float), NAME##_scratch, NAME##_qx, NAME##_qy,    \
                                 (QUEUE), NAME##_win, (WINDOW) MLRN_LEARNER__SV_ARGS(NAME));                   \
    }
#define MLRN_LEARNER_DEFINE(NAME, D, NC, TRAIN_CAP, HOLD_CAP, QUEUE, WINDOW)                                   \
    MLRN_LEARNER_DEFINE_STORAGE(NAME, D, NC, TRAIN_CAP, HOLD_CAP, QUEUE, WINDOW, float, MLRN_STORAGE_F32,       \
                                (const float *)0, (const float *)0)

/* ---- internals ---------------------------------------------------------- */

static inline int mlrn_learner__x_ok(const mlrn_learner *l, const float *x) {
    uint16_t k;
    for (k = 0; k < l->train.d; k++)
        if (!mlrn_isfinite(x[k])) return 0;
    return 1;
}

/* Class predicted by the linear ovo model (w, b) over m classes mapped by map. */
static inline uint8_t mlrn_learner__predict_model(const float *w, const float *b, uint8_t m, const uint8_t *map,
                                                 const float *x, uint16_t d) {
    uint8_t votes[MLRN_SMO_MAX_CLASSES], p, q, best, k;
    uint16_t sub = 0;
    if (m <= 2) return mlrn_kernel_dot(w, x, d) + b[0] >= 0.0f ? map[1] : map[0];
    for (k = 0; k < m; k++) votes[k] = 0;
    for (p = 0; p + 1u < m; p++)
        for (q = (uint8_t)(p + 1u); q < m; q++, sub++) {
            if (mlrn_kernel_dot(w + (size_t)sub * d, x, d) + b[sub] >= 0.0f) votes[q]++;
            else votes[p]++;
        }
    best = 0;
    for (k = 1; k < m; k++)
        if (votes[k] > votes[best]) best = k;
    return map[best];
}

#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
/* The kernel's accumulation over one feature: the squared distance (rbf) or the dot product (poly), in
 * mlrn_kernel_sqdist's / mlrn_kernel_dot's operations (the stored row is their first argument). */
#if MLRN_LEARNER_KERNEL == MLRN_KERNEL_RBF
#define MLRN_LEARNER__KACC(acc, a, xk) do { float u_ = (a) - (xk); (acc) = (acc) + u_ * u_; } while (0)
#else
#define MLRN_LEARNER__KACC(acc, a, xk) ((acc) = (acc) + (a) * (xk))
#endif

/* K(row t of `data`, x): the row in the store's element type, dequantised element by element with
 * mlrn_store_row's float32 operations (q * scale + offset: the same bits, without a buffer of d floats). */
MLRN_HOT float mlrn_learner__k(const mlrn_learner *l, const void *data, uint16_t t, const float *x) {
    uint16_t k, d = l->train.d;
    size_t base = (size_t)t * d;
    float acc = 0.0f;
    if (MLRN_STORE_TYPE_OF(&l->train) == MLRN_STORAGE_F32) {
        const float *r = (const float *)data + base;
        for (k = 0; k < d; k++) MLRN_LEARNER__KACC(acc, r[k], x[k]);
    } else if (MLRN_STORE_TYPE_OF(&l->train) == MLRN_STORAGE_I16) {
        const int16_t *q = (const int16_t *)data + base;
        for (k = 0; k < d; k++)
            MLRN_LEARNER__KACC(acc, (float)q[k] * mlrn_flash_f32(&l->train.scale[k]) + mlrn_flash_f32(&l->train.offset[k]),
                               x[k]);
    } else {
        const int8_t *q = (const int8_t *)data + base;
        for (k = 0; k < d; k++)
            MLRN_LEARNER__KACC(acc, (float)q[k] * mlrn_flash_f32(&l->train.scale[k]) + mlrn_flash_f32(&l->train.offset[k]),
                               x[k]);
    }
    return mlrn_kernel_finish(&l->lp.svm.kernel, acc);
}

/* A kernel model: n rows of `data` with local classes `lab`, coefficients coef[r * train.capacity + t] (the
 * trainer's layout, signed), b per pair, over m classes mapped by map. The trainer's solution (the candidate) and
 * the snapshot (the current model) are both in this form. */
typedef struct {
    const void *data;
    const uint8_t *lab;
    const float *coef, *b;
    const uint8_t *map;
    uint16_t n;
    uint8_t m;
} mlrn_learner__kmodel;

/* Class predicted by a kernel ovo model (see "Kernel learners"); two classes are the pair (0, 1). */
static inline uint8_t mlrn_learner__predict_kernel(const mlrn_learner *l, const mlrn_learner__kmodel *km,
                                                  const float *x) {
    uint8_t votes[MLRN_SMO_MAX_CLASSES], p, q, best, k, m = km->m;
    uint16_t sub = 0, t, cap = l->train.capacity;
    for (k = 0; k < m; k++) votes[k] = 0;
    for (p = 0; p + 1u < m; p++)
        for (q = (uint8_t)(p + 1u); q < m; q++, sub++) {
            float acc = 0.0f;
            for (t = 0; t < km->n; t++) {
                uint8_t c = km->lab[t];
                float a;
                if (c != p && c != q) continue;
                a = km->coef[(size_t)(c == p ? q - 1u : p) * cap + t];
                if (a != 0.0f) acc = acc + a * mlrn_learner__k(l, km->data, t, x);
            }
            if (acc + km->b[sub] >= 0.0f) votes[q]++;
            else votes[p]++;
        }
    best = 0;
    for (k = 1; k < m; k++)
        if (votes[k] > votes[best]) best = k;
    return km->map[best];
}

/* The current model (the snapshot) as a kernel model. */
static inline mlrn_learner__kmodel mlrn_learner__current(const mlrn_learner *l) {
    mlrn_learner__kmodel km;
    km.data = l->sv_x; km.lab = l->sv_y; km.coef = l->cur_w; km.b = l->cur_b; km.map = l->cur_map;
    km.n = l->n_sv; km.m = l->n_cur;
    return km;
}

/* Correct predictions of a kernel model on the held-out store. */
static inline uint16_t mlrn_learner__holdout_kernel(mlrn_learner *l, const mlrn_learner__kmodel *km) {
    uint16_t i, ok = 0;
    for (i = 0; i < l->hold.n; i++) {
        const float *x = mlrn_store_row(&l->hold, i, l->scratch);
        if (mlrn_learner__predict_kernel(l, km, x) == l->hold.labels[i]) ok++;
    }
    return ok;
}

/* The accepted candidate becomes the current model: its support vectors (training rows with a non-zero
 * coefficient in any row, in store order: the decision's terms stay in their order) are copied into the
 * snapshot with their local classes and coefficients, then b per pair. The training store still holds the rows
 * it was trained on (the queue is stored after this). */
MLRN_LEARNER__COLD void mlrn_learner__snapshot(mlrn_learner *l) {
    uint16_t t, r, n = 0, cap = l->train.capacity, nr = mlrn_smo_n_rows(l->n_cand, MLRN_SMO_OVO);
    uint16_t nsub = mlrn_smo_n_sub(l->n_cand, MLRN_SMO_OVO);
    size_t esz = mlrn_store_elem_size(MLRN_STORE_TYPE_OF(&l->train)) * l->train.d, k;
    const uint8_t *src = (const uint8_t *)l->train.data;
    uint8_t *dst = (uint8_t *)l->sv_x;
    for (t = 0; t < l->svm.n_model; t++) {
        uint8_t sv = 0;
        for (r = 0; r < nr; r++)
            if (l->svm.alpha[(size_t)r * cap + t] != 0.0f) sv = 1;
        if (!sv) continue;
        for (k = 0; k < esz; k++) dst[(size_t)n * esz + k] = src[(size_t)t * esz + k];
        l->sv_y[n] = l->train.labels[t];
        for (r = 0; r < nr; r++) l->cur_w[(size_t)r * cap + n] = l->svm.alpha[(size_t)r * cap + t];
        n++;
    }
    l->n_sv = n;
    for (r = 0; r < nsub; r++) l->cur_b[r] = l->svm.b[r];
}
#endif

/* Correct predictions of a model on the held-out store. */
/* mlrn_store_row for the held-out evaluation. On AVR out of line and opaque to the optimiser (the empty asm
 * clobbers memory): in a build of one storage type the row is a few instructions that avr-gcc would inline or see
 * through, then keep the store's fields and a running pointer live across the prediction's call, and the
 * evaluation's frame grows by 10 B on the path that sets the loop's deepest stack (uno, capacity 60: over 2 KB). */
#if defined(__GNUC__) && defined(__AVR__)
__attribute__((noinline)) static const float *mlrn_learner__hold_row(const mlrn_learner *l, uint16_t i) {
    __asm__ __volatile__("" ::: "memory");
    return mlrn_store_row(&l->hold, i, l->scratch);
}
#else
#define mlrn_learner__hold_row(l, i) mlrn_store_row(&(l)->hold, (i), (l)->scratch)
#endif

static inline uint16_t mlrn_learner__holdout_correct(mlrn_learner *l, const float *w, const float *b, uint8_t m,
                                                     const uint8_t *map) {
    uint16_t i, ok = 0;
    for (i = 0; i < l->hold.n; i++) {
        const float *x = mlrn_learner__hold_row(l, i);
        if (mlrn_learner__predict_model(w, b, m, map, x, l->hold.d) == l->hold.labels[i]) ok++;
    }
    return ok;
}

/* Remove sample e of a store, shifting later ones down (keeps the store in arrival order). */
static inline void mlrn_learner__remove(mlrn_store *s, uint16_t e) {
    size_t esz = mlrn_store_elem_size(MLRN_STORE_TYPE_OF(s)) * s->d, k;
    uint8_t *data = (uint8_t *)s->data;
    uint16_t t;
    for (t = e; t + 1u < s->n; t++) {
        for (k = 0; k < esz; k++) data[(size_t)t * esz + k] = data[(size_t)(t + 1u) * esz + k];
        s->labels[t] = s->labels[t + 1u];
    }
    s->n--;
}

#if MLRN_LEARNER_WARM
/* The warm alphas follow the training rows: column e goes (later columns shift down, as the rows do). */
MLRN_LEARNER__COLD void mlrn_learner__warm_remove(mlrn_learner *l, uint16_t e) {
    uint16_t k, t, cap = l->train.capacity, nsub = mlrn_smo_n_sub(l->n_classes, MLRN_SMO_OVO);
    for (k = 0; k < nsub; k++) {
        float *row = l->warm + (size_t)k * cap;
        for (t = e; t + 1u < l->train.n; t++) row[t] = row[t + 1u];
    }
}
/* ... and the first `cut` columns go (drift: keep_newest). */
MLRN_LEARNER__COLD void mlrn_learner__warm_cut(mlrn_learner *l, uint16_t cut) {
    uint16_t k, t, cap = l->train.capacity, nsub = mlrn_smo_n_sub(l->n_classes, MLRN_SMO_OVO);
    for (k = 0; k < nsub; k++) {
        float *row = l->warm + (size_t)k * cap;
        for (t = 0; t + cut < l->train.n; t++) row[t] = row[t + cut];
    }
}
/* A row stored since the last training starts at alpha = 0 in every pair. */
MLRN_LEARNER__COLD void mlrn_learner__warm_new(mlrn_learner *l, uint16_t t) {
    uint16_t k, nsub = mlrn_smo_n_sub(l->n_classes, MLRN_SMO_OVO);
    for (k = 0; k < nsub; k++) l->warm[(size_t)k * l->train.capacity + t] = 0.0f;
}
#endif

/* Stores a sample (training or, every k-th, held-out store). Both stores stay in arrival order under
 * every replacement policy. Returns 1 (training store), 2 (held-out), 0 (discarded by the reservoir). */
static inline uint8_t mlrn_learner__insert(mlrn_learner *l, const float *x, uint8_t y) {
    uint8_t to_hold = l->lp.holdout_every &&
                      (l->n_stored % l->lp.holdout_every) == (uint32_t)(l->lp.holdout_every - 1u);
    mlrn_store *s = to_hold ? &l->hold : &l->train;
    uint32_t *count = to_hold ? &l->seen_hold : &l->seen_train;
    uint32_t seen;
    if (*count != 0xFFFFFFFFu) (*count)++;   /* saturates: a wrap to 0 would make the reservoir draw % 0 */
    seen = *count;
    uint8_t where = to_hold ? 2u : 1u;
    l->n_stored++;
    if (s->n >= s->capacity) {
        uint16_t e;
        if (l->lp.replace == MLRN_LEARNER_RESERVOIR) {   /* entry j goes, the newcomer joins at the end */
            uint32_t j = mlrn_rng_next(&l->rng) % seen;
            if (j >= s->capacity) { l->n_discarded++; return 0; }
            e = (uint16_t)j;
        } else if (l->lp.replace == MLRN_LEARNER_FIFO) {
            e = 0;
        } else {   /* balanced: oldest sample of the largest class (lowest class index on ties) */
            uint16_t counts[MLRN_SMO_MAX_CLASSES], t;
            uint8_t c, big = 0;
            for (c = 0; c < l->n_classes; c++) counts[c] = 0;
            for (t = 0; t < s->n; t++) counts[s->labels[t]]++;
            for (c = 1; c < l->n_classes; c++)
                if (counts[c] > counts[big]) big = c;
            for (t = 0; t < s->n; t++)
                if (s->labels[t] == big) break;
            e = t;
        }
#if MLRN_LEARNER_DDM
        if (l->ddm.warn) {   /* the newest `marked` entries arrived since the warning: one of them may go */
            uint16_t *marked = to_hold ? &l->warn_hold : &l->warn_train;
            if (*marked && e >= s->n - *marked) (*marked)--;
        }
#endif
#if MLRN_LEARNER_WARM
        if (!to_hold) mlrn_learner__warm_remove(l, e);
#endif
        mlrn_learner__remove(s, e);
    }
#if MLRN_LEARNER_WARM
    if (!to_hold) mlrn_learner__warm_new(l, s->n);
#endif
    mlrn_store_add(s, x, y);
#if MLRN_LEARNER_DDM
    if (l->ddm.warn) {
        uint16_t *marked = to_hold ? &l->warn_hold : &l->warn_train;
        (*marked)++;
    }
#endif
    return where;
}

/* Keeps only the newest `keep` entries of a store (drift: the older ones belong to the old concept). */
static inline void mlrn_learner__keep_newest(mlrn_store *s, uint16_t keep) {
    size_t esz = mlrn_store_elem_size(MLRN_STORE_TYPE_OF(s)) * s->d, k;
    uint8_t *data = (uint8_t *)s->data;
    uint16_t cut, t;
    if (keep >= s->n) return;
    cut = (uint16_t)(s->n - keep);
    for (t = 0; t < keep; t++) {
        for (k = 0; k < esz; k++) data[(size_t)t * esz + k] = data[(size_t)(t + cut) * esz + k];
        s->labels[t] = s->labels[t + cut];
    }
    s->n = keep;
}

static inline void mlrn_learner__restore_labels(mlrn_learner *l) {
    uint16_t t;
    for (t = 0; t < l->train.n; t++) l->train.labels[t] = l->cand_map[l->train.labels[t]];
    l->train.n_classes = l->n_classes;
}

static inline void mlrn_learner__finish(mlrn_learner *l, mlrn_status st) {
    uint16_t i;
    l->last_train_iter = l->svm.total_iter;
#if MLRN_LEARNER_WARM
    l->warm_ok = (uint8_t)(st >= 0);   /* the rows hold this solution (kept whether it is accepted or not) */
#endif
#if MLRN_LEARNER_KERNEL == MLRN_KERNEL_LINEAR
    mlrn_learner__restore_labels(l);
#endif   /* a kernel candidate is read with the local classes of its training rows: restored below */
    l->training = 0;
    if (st < 0) {
        l->n_failed++;
        l->event = MLRN_LEARNER_EV_FAILED;
    } else {
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
        mlrn_learner__kmodel cm = mlrn_learner__current(l), km;
        uint16_t cand, cur;
        km.data = l->train.data; km.lab = l->train.labels; km.coef = l->svm.alpha; km.b = l->svm.b;
        km.map = l->cand_map; km.n = l->svm.n_model; km.m = l->n_cand;
        cand = mlrn_learner__holdout_kernel(l, &km);
        cur = l->has_model ? mlrn_learner__holdout_kernel(l, &cm) : 0;
#else
        uint16_t cand = mlrn_learner__holdout_correct(l, l->svm.w, l->svm.b, l->n_cand, l->cand_map);
        uint16_t cur = l->has_model ? mlrn_learner__holdout_correct(l, l->cur_w, l->cur_b, l->n_cur, l->cur_map) : 0;
#endif
        uint32_t n = l->hold.n;
        l->last_cand_correct = cand; l->last_cur_correct = cur; l->last_hold_n = (uint16_t)n;
        /* strictly better by the margin (ties keep the current model); an empty held-out store accepts */
        if (!l->has_model || n == 0u || (uint32_t)cand * 100u + (uint32_t)l->lp.margin_pct * n > (uint32_t)cur * 100u) {
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
            size_t k;
            mlrn_learner__snapshot(l);
#else
            size_t k, nw = (size_t)mlrn_smo_n_sub(l->n_cand, MLRN_SMO_OVO) * l->train.d;
            uint16_t nb = mlrn_smo_n_sub(l->n_cand, MLRN_SMO_OVO);
            for (k = 0; k < nw; k++) l->cur_w[k] = l->svm.w[k];
            l->cur_b = l->cur_w + (size_t)mlrn_smo_n_sub(l->n_classes, MLRN_SMO_OVO) * l->train.d;
            for (k = 0; k < nb; k++) l->cur_b[k] = l->svm.b[k];
#endif
            for (k = 0; k < l->n_cand; k++) l->cur_map[k] = l->cand_map[k];
            l->n_cur = l->n_cand;
            l->has_model = 1;
            l->n_accepted++;
            l->event = MLRN_LEARNER_EV_ACCEPTED;
        } else {
            l->n_rollbacks++;
            l->event = MLRN_LEARNER_EV_ROLLBACK;
        }
    }
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    mlrn_learner__restore_labels(l);
#endif
    for (i = 0; i < l->queue_n; i++) mlrn_learner__insert(l, l->queue_x + (size_t)i * l->train.d, l->queue_y[i]);
    l->queue_n = 0;
}

/* Drift: the stores keep only the samples stored during the window (the older ones belong to the old
 * concept, in the training and in the held-out store alike); a training in progress (on the old
 * concept) is abandoned and its queue stored; the window restarts; a retrain is due. */
MLRN_LEARNER__COLD void mlrn_learner__drift(mlrn_learner *l) {
    uint16_t t, kt = 0, kh = 0;
#if MLRN_LEARNER_DDM
    if (MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM) {   /* DDM: what arrived since the warning is the new concept */
        kt = l->warn_train; kh = l->warn_hold;
        mlrn_learner__ddm_restart(l);
    } else
#endif
    {
        for (t = 0; t < l->lp.window; t++) {
            kt = (uint16_t)(kt + ((l->win[t] >> 1) & 1u));
            kh = (uint16_t)(kh + ((l->win[t] >> 2) & 1u));
        }
    }
    if (l->training) {
        mlrn_learner__restore_labels(l);
        l->training = 0;
#if MLRN_LEARNER_WARM
        l->warm_ok = 0;   /* a half-solved training: the next one starts cold */
#endif
    }
#if MLRN_LEARNER_WARM
    if (kt < l->train.n) mlrn_learner__warm_cut(l, (uint16_t)(l->train.n - kt));
#endif
    mlrn_learner__keep_newest(&l->train, kt);
    if (l->lp.holdout_every) mlrn_learner__keep_newest(&l->hold, kh);
    l->seen_train = l->train.n;
    l->seen_hold = l->hold.n;
    for (t = 0; t < l->queue_n; t++) mlrn_learner__insert(l, l->queue_x + (size_t)t * l->train.d, l->queue_y[t]);
    l->queue_n = 0;
    l->win_pos = 0; l->win_fill = 0; l->win_err = 0; l->win_since = 0;
    l->n_drifts++;
    l->pending = 1;
}

/* Starts training on the classes present in the training store; 0 if fewer than 2. */
static inline mlrn_status mlrn_learner__begin(mlrn_learner *l) {
    uint8_t present[MLRN_SMO_MAX_CLASSES], c, m = 0;
    uint16_t t;
    mlrn_status st;
#if MLRN_LEARNER_WARM
    uint8_t same = 1;
#endif
    for (c = 0; c < l->n_classes; c++) present[c] = 0;
    for (t = 0; t < l->train.n; t++) present[l->train.labels[t]] = 1;
    for (c = 0; c < l->n_classes; c++)
        if (present[c]) {
#if MLRN_LEARNER_WARM
            if (m >= l->n_cand || l->cand_map[m] != c) same = 0;
#endif
            l->inv[c] = m; l->cand_map[m++] = c;
        }
#if MLRN_LEARNER_WARM
    if (m != l->n_cand) same = 0;
#endif
    if (m < 2) {
#if MLRN_LEARNER_WARM
        l->warm_ok = 0;   /* cand_map was overwritten */
#endif
        return MLRN_ERR_ONE_CLASS;
    }
    for (t = 0; t < l->train.n; t++) l->train.labels[t] = l->inv[l->train.labels[t]];
    l->train.n_classes = m;
    l->n_cand = m;
    st = mlrn_smo_init(&l->svm, &l->lp.svm, &l->train, l->work, l->work_floats);
#if MLRN_LEARNER_WARM
    if (!(same && l->warm_ok)) {   /* first training, another class map, or the last one failed: cold (all 0) */
        uint16_t k, nsub = mlrn_smo_n_sub(m, MLRN_SMO_OVO);
        for (k = 0; k < nsub; k++)
            for (t = 0; t < l->train.n; t++) l->warm[(size_t)k * l->train.capacity + t] = 0.0f;
    }
    l->warm_ok = 0;   /* the rows change from here on: valid again when the training completes */
    if (st == MLRN_OK) st = mlrn_smo_set_warm(&l->svm, l->warm);
#endif
    if (st == MLRN_OK) st = mlrn_smo_train_begin(&l->svm);
    if (st != MLRN_OK) { mlrn_learner__restore_labels(l); return st; }
    l->pending = 0;
    l->mistakes_since = 0;
    l->win_since = 0;
    l->training = 1;
    l->n_retrains++;
    return MLRN_OK;
}

/* The outcome of a feedback row: the window ring (drift signal) and the retraining triggers.
 * Not inlined: keeps its locals off the frame that calls step() (the deepest stack on AVR). */
MLRN_LEARNER__COLD void mlrn_learner__record(mlrn_learner *l, uint8_t wrong, uint8_t where) {
    uint16_t W = l->lp.window;
    if (W) {
        if (l->win_fill == W) l->win_err = (uint16_t)(l->win_err - (l->win[l->win_pos] & 1u));
        else l->win_fill++;
        l->win[l->win_pos] = (uint8_t)(wrong | (where == 1u ? 2u : where == 2u ? 4u : 0u));
        l->win_err = (uint16_t)(l->win_err + wrong);
        l->win_pos = (uint16_t)((l->win_pos + 1u) % W);
        if (l->win_since < W) l->win_since++;
        if (MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_WINDOW && l->lp.drift_pct && l->win_fill == W &&
            (uint32_t)l->win_err * 100u > (uint32_t)l->lp.drift_pct * W)
            mlrn_learner__drift(l);
    }
#if MLRN_LEARNER_DDM
    if (MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM && l->has_model) {   /* rows without a model tell nothing of one */
        uint8_t was = l->ddm.warn;
        uint8_t level = mlrn_ddm_update(&l->ddm, wrong, l->lp.ddm_min_rows, l->lp.ddm_warn_k10, l->lp.ddm_drift_k10);
        if (level == MLRN_DDM_NONE) {
            l->warn_train = l->warn_hold = 0;
        } else if (!was) {   /* a new warning: this row is the first of the fresh window */
            l->warn_train = where == 1u ? 1u : 0u;
            l->warn_hold = where == 2u ? 1u : 0u;
        }
        if (level == MLRN_DDM_DRIFT) mlrn_learner__drift(l);
    }
#endif
    if (!l->training && !l->pending) {
        if ((l->lp.k_mistakes && l->mistakes_since >= l->lp.k_mistakes) ||
            (W && l->win_since == W && (uint32_t)l->win_err * 100u > (uint32_t)l->lp.err_pct * W))
            l->pending = 1;
    }
}

/* ---- API ------------------------------------------------------------------ */

/* Class index from the current model; MLRN_ERR_UNTRAINED before the first accepted model. */
static inline int32_t mlrn_learner_predict(const mlrn_learner *l, const float *x) {
    if (!l || !x || !l->ready) return MLRN_ERR_ARG;
    if (!mlrn_learner__x_ok(l, x)) return MLRN_ERR_NAN;
    if (!l->has_model) return MLRN_ERR_UNTRAINED;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    {
        mlrn_learner__kmodel km = mlrn_learner__current(l);
        return mlrn_learner__predict_kernel(l, &km, x);
    }
#else
    return mlrn_learner__predict_model(l->cur_w, l->cur_b, l->n_cur, l->cur_map, x, l->train.d);
#endif
}

/* Start from a model trained elsewhere (in Python: microlearn.learner.codegen writes its tables), so that
 * the device predicts from its first reading and keeps learning from there. w_flash: n_sub(n_present)
 * rows of d weights for the one-vs-one pairs of the present classes in order (p < q), b_flash their
 * intercepts, map_flash the n_present class indices (strictly increasing, each < n_classes) the model's
 * local classes stand for; all three may sit in flash (MLRN_FLASH). The model becomes the current one,
 * exactly as if training had produced and accepted it; stores and counters are untouched. A model loaded
 * later with mlrn_learner_load replaces it (call this first, then load: a saved model wins).
 * MLRN_ERR_ARG: NULL, not ready, training in progress, n_present outside 2..n_classes or a map not
 * increasing below n_classes; MLRN_ERR_NAN: a weight or intercept not finite (nothing changed then). */
#if MLRN_LEARNER_KERNEL == MLRN_KERNEL_LINEAR   /* a kernel build's model is a snapshot of its own support vectors */
static inline mlrn_status mlrn_learner_set_model(mlrn_learner *l, const float *w_flash, const float *b_flash,
                                                 const uint8_t *map_flash, uint8_t n_present) {
    size_t k, nw;
    uint16_t nb;
    if (!l || !w_flash || !b_flash || !map_flash || !l->ready || l->training) return MLRN_ERR_ARG;
    if (n_present < 2u || n_present > l->n_classes) return MLRN_ERR_ARG;
    for (k = 0; k < n_present; k++) {
        uint8_t c = mlrn_flash_u8(&map_flash[k]);
        if (c >= l->n_classes || (k > 0 && c <= mlrn_flash_u8(&map_flash[k - 1]))) return MLRN_ERR_ARG;
    }
    nw = (size_t)mlrn_smo_n_sub(n_present, MLRN_SMO_OVO) * l->train.d;
    nb = mlrn_smo_n_sub(n_present, MLRN_SMO_OVO);
    for (k = 0; k < nw; k++) if (!mlrn_isfinite(mlrn_flash_f32(&w_flash[k]))) return MLRN_ERR_NAN;
    for (k = 0; k < nb; k++) if (!mlrn_isfinite(mlrn_flash_f32(&b_flash[k]))) return MLRN_ERR_NAN;
    for (k = 0; k < nw; k++) l->cur_w[k] = mlrn_flash_f32(&w_flash[k]);
    l->cur_b = l->cur_w + (size_t)mlrn_smo_n_sub(l->n_classes, MLRN_SMO_OVO) * l->train.d;
    for (k = 0; k < nb; k++) l->cur_b[k] = mlrn_flash_f32(&b_flash[k]);
    for (k = 0; k < n_present; k++) l->cur_map[k] = mlrn_flash_u8(&map_flash[k]);
    l->n_cur = n_present;
    l->has_model = 1;
    mlrn_learner__ddm_restart(l);
    return MLRN_OK;
}
#endif

/* The real world's answer for x. Returns 1 if the current model got it wrong (no model
 * counts as wrong), 0 if right, or a negative status (nothing changed). */
static inline int32_t mlrn_learner_feedback(mlrn_learner *l, const float *x, uint8_t y) {
    int32_t pred;
    uint8_t wrong, where = 0;
    if (!l || !x || !l->ready) return MLRN_ERR_ARG;
    if (!mlrn_learner__x_ok(l, x)) return MLRN_ERR_NAN;
    if (y >= l->n_classes) return MLRN_ERR_LABEL;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    pred = l->has_model ? mlrn_learner_predict(l, x) : -1;   /* x was checked: a class index */
#else
    pred = l->has_model ? mlrn_learner__predict_model(l->cur_w, l->cur_b, l->n_cur, l->cur_map, x, l->train.d) : -1;
#endif
    wrong = pred != (int32_t)y;
    l->n_feedback++;
    if (wrong) { l->n_mistakes++; if (l->mistakes_since < 0xFFFFu) l->mistakes_since++; }
    if (wrong || l->lp.store_policy == MLRN_LEARNER_STORE_ALL) {
        if (l->training) {
            if (l->queue_n < l->queue_cap) {
                uint16_t k;
                for (k = 0; k < l->train.d; k++) l->queue_x[(size_t)l->queue_n * l->train.d + k] = x[k];
                l->queue_y[l->queue_n++] = y;
            } else {
                l->n_dropped++;
            }
        } else {
            where = mlrn_learner__insert(l, x, y);
        }
    }
    mlrn_learner__record(l, wrong, where);
    return wrong;
}

/* The application asks for a retrain (taken at the next step). */
static inline mlrn_status mlrn_learner_request_train(mlrn_learner *l) {
    if (!l || !l->ready) return MLRN_ERR_ARG;
    if (!l->training) l->pending = 1;
    return MLRN_OK;
}

/* Call from the application's loop. Starts a pending retrain (when >= 2 classes are stored)
 * and runs at most `budget` SMO iterations (0: no limit). Returns MLRN_RUNNING while
 * training, else MLRN_OK; l->event tells what the call concluded (MLRN_LEARN_EV_*). */
static inline mlrn_status mlrn_learner_step(mlrn_learner *l, uint32_t budget) {
    mlrn_status st;
    if (!l || !l->ready) return MLRN_ERR_ARG;
    l->event = MLRN_LEARNER_EV_NONE;
    if (!l->training) {
        if (!l->pending) return MLRN_OK;
        if (mlrn_learner__begin(l) != MLRN_OK) return MLRN_OK;   /* not trainable yet: stays pending */
    }
    st = mlrn_smo_train_step(&l->svm, budget ? budget : 0xFFFFFFFFu);
    if (st == MLRN_RUNNING) return MLRN_RUNNING;
    mlrn_learner__finish(l, st);
    return MLRN_OK;
}

/* ---- persistence: the current model ----------------------------------------
 * Payload (little-endian targets): u8 format, u8 n_classes, u16 d, u8 m, m bytes
 * class map, then n_sub(m)*d floats w and n_sub(m) floats b.
 * A kernel learner (format MLRN_LEARNER_FORMAT_KERNEL / _ALL_KERNEL: a linear learner refuses it and the other way
 * round) writes its snapshot in place of w and b: the kernel head (u8 kernel type, u8 degree, f32 gamma, f32 coef0,
 * u16 n_sv: a learner of another kernel or kernel parameters refuses the payload, MLRN_ERR_ARG), the n_sv rows in
 * the store's element type, their n_sv local classes, n_rows(m) coefficient rows of n_sv floats, n_sub(m) floats
 * b. Everything else (format 2's state, stores, ring) is the linear learner's. */
#define MLRN_LEARNER__KHEAD_LEN 12u   /* the kernel head: u8 type, u8 degree, f32 gamma, f32 coef0, u16 n_sv */
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
#define MLRN_LEARNER__FMT_MODEL MLRN_LEARNER_FORMAT_KERNEL
#define MLRN_LEARNER__FMT_ALL MLRN_LEARNER_FORMAT_ALL_KERNEL
#else
#define MLRN_LEARNER__FMT_MODEL MLRN_LEARNER_FORMAT
#define MLRN_LEARNER__FMT_ALL MLRN_LEARNER_FORMAT_ALL
#endif

#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
/* Bytes of a snapshot of n_sv rows over m classes (0 without a model). */
static inline uint32_t mlrn_learner__kmodel_bytes(const mlrn_learner *l, uint8_t m, uint16_t n_sv) {
    uint32_t row = (uint32_t)mlrn_store_elem_size(MLRN_STORE_TYPE_OF(&l->train)) * l->train.d + 1u +
                   4u * mlrn_smo_n_rows(m, MLRN_SMO_OVO);
    return m ? MLRN_LEARNER__KHEAD_LEN + (uint32_t)n_sv * row + 4u * mlrn_smo_n_sub(m, MLRN_SMO_OVO) : 0u;
}

/* The kernel head of this learner's snapshot: kernel type, degree, gamma and coef0 (their bytes), n_sv. */
MLRN_LEARNER__COLD void mlrn_learner__khead(const mlrn_learner *l, uint8_t *k) {
    const uint8_t *g = (const uint8_t *)&l->lp.svm.kernel.gamma, *c = (const uint8_t *)&l->lp.svm.kernel.coef0;
    uint8_t i;
    k[0] = l->lp.svm.kernel.type;
    k[1] = l->lp.svm.kernel.degree;
    for (i = 0; i < 4u; i++) { k[2u + i] = g[i]; k[6u + i] = c[i]; }
    k[10] = (uint8_t)(l->n_sv & 0xFFu);
    k[11] = (uint8_t)(l->n_sv >> 8);
}
#endif

static inline uint32_t mlrn_learner__payload_len(const mlrn_learner *l) {
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    return 5u + l->n_cur + mlrn_learner__kmodel_bytes(l, l->n_cur, l->n_sv);
#else
    return 5u + l->n_cur + (uint32_t)mlrn_smo_n_sub(l->n_cur, MLRN_SMO_OVO) * (l->train.d + 1u) * 4u;
#endif
}


/* ---- persistence: model + sample stores + loop state (format 2) -------------
 * Payload (little-endian targets; u16/u32 little-endian):
 *   u8 format (2), u8 n_classes, u16 d, u8 m (0: no model yet)
 *   if m: m bytes class map, n_sub(m)*d floats w, n_sub(m) floats b      (as format 1)
 *   state, 84 bytes: u8 storage, u8 pending, u16 train_cap, u16 hold_cap, u16 window,
 *     u16 train_n, u16 hold_n, u16 win_pos, win_fill, win_err, win_since, mistakes_since,
 *     u32 rng, n_stored, seen_train, seen_hold, n_feedback, n_mistakes, n_retrains, n_accepted,
 *     n_rollbacks, n_failed, n_dropped, n_discarded, n_drifts, last_train_iter,
 *     u16 last_cand_correct, last_cur_correct, last_hold_n
 *   train_n rows (store element type), train_n labels, hold_n rows, hold_n labels, window bytes ring
 * Streamed field by field and row block by row block from the learner's own buffers: no copy in RAM. */

#define MLRN_LEARNER__STATE_LEN 84u
/* With MLRN_DRIFT_DDM, after the ring: u16 ddm.n, ddm.e, u32 ddm.q_min, ddm.s_min, u8 ddm.warn,
 * u16 warn_train, warn_hold (the detector continues exactly after a reboot). */
#define MLRN_LEARNER__DDM_LEN 17u

static inline uint32_t mlrn_learner__all_len(const mlrn_learner *l) {
    uint32_t row = (uint32_t)mlrn_store_elem_size(MLRN_STORE_TYPE_OF(&l->train)) * l->train.d + 1u;
    uint32_t n = 5u + MLRN_LEARNER__STATE_LEN + (uint32_t)(l->train.n + l->hold.n) * row + l->lp.window;
#if MLRN_LEARNER_DDM
    if (MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM) n += MLRN_LEARNER__DDM_LEN;
#endif
    if (l->has_model) n += mlrn_learner__payload_len(l) - 5u;
    return n;
}

/* Appends v as `n` little-endian bytes (n <= 4). */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__put(mlrn_persist_writer *w, uint32_t v, uint8_t n) {
    uint8_t b[4], k;
    for (k = 0; k < n; k++) { b[k] = (uint8_t)(v & 0xFFu); v >>= 8; }
    return mlrn_persist_save_chunk(w, b, n);
}

/* Appends len bytes from RAM (any length: chunks of at most 0x8000 bytes). */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__put_mem(mlrn_persist_writer *w, const void *p, uint32_t len) {
    const uint8_t *b = (const uint8_t *)p;
    mlrn_status s = MLRN_OK;
    while (len && s == MLRN_OK) {
        uint16_t n = len > 0x8000u ? (uint16_t)0x8000u : (uint16_t)len;
        s = mlrn_persist_save_chunk(w, b, n);
        b += n; len -= n;
    }
    return s;
}

#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
/* The snapshot after the class map: kernel head, rows, classes, coefficient rows, b. */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__put_snapshot(const mlrn_learner *l, mlrn_persist_writer *w) {
    uint8_t k[MLRN_LEARNER__KHEAD_LEN];
    uint16_t r, nr = mlrn_smo_n_rows(l->n_cur, MLRN_SMO_OVO);
    uint32_t esz = (uint32_t)mlrn_store_elem_size(MLRN_STORE_TYPE_OF(&l->train)) * l->train.d;
    mlrn_status s;
    mlrn_learner__khead(l, k);
    s = mlrn_persist_save_chunk(w, k, (uint16_t)MLRN_LEARNER__KHEAD_LEN);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(w, l->sv_x, (uint32_t)l->n_sv * esz);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(w, l->sv_y, l->n_sv);
    for (r = 0; r < nr && s == MLRN_OK; r++)
        s = mlrn_learner__put_mem(w, l->cur_w + (size_t)r * l->train.capacity, (uint32_t)l->n_sv * 4u);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(w, l->cur_b, (uint32_t)mlrn_smo_n_sub(l->n_cur, MLRN_SMO_OVO) * 4u);
    return s;
}
#endif

static inline mlrn_status mlrn_learner_save(const mlrn_learner *l, const mlrn_storage *st) {
    mlrn_persist_writer w;
    uint8_t h[5];
    mlrn_status s;
    uint16_t nsub;
    if (!l || !l->ready || !st) return MLRN_ERR_ARG;
    if (!l->has_model) return MLRN_ERR_UNTRAINED;
    nsub = mlrn_smo_n_sub(l->n_cur, MLRN_SMO_OVO);
    h[0] = MLRN_LEARNER__FMT_MODEL; h[1] = l->n_classes; h[2] = (uint8_t)(l->train.d & 0xFFu);
    h[3] = (uint8_t)(l->train.d >> 8); h[4] = l->n_cur;
    s = mlrn_persist_save_begin(&w, st, MLRN_LEARNER_MAGIC, mlrn_learner__payload_len(l));
    if (s == MLRN_OK) s = mlrn_persist_save_chunk(&w, h, 5);
    if (s == MLRN_OK) s = mlrn_persist_save_chunk(&w, l->cur_map, l->n_cur);
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    (void)nsub;
    if (s == MLRN_OK) s = mlrn_learner__put_snapshot(l, &w);
#else
    /* 32-bit lengths, written in chunks: a model over 64 KB saves like save_all's stores */
    if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->cur_w, (uint32_t)nsub * l->train.d * 4u);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->cur_b, (uint32_t)nsub * 4u);
#endif
    if (s == MLRN_OK) return mlrn_persist_save_end(&w);
    mlrn_persist_save_abort(&w);
    return s;
}

/* Saves the current model (if any), both sample stores and every counter the loop needs to continue
 * exactly as if the power had never gone: after load, predictions, stored samples, evictions
 * (reservoir PRNG), triggers and retrain decisions are the same. One payload, one commit: a power
 * cut leaves the old save or the new one, never the old model with the new stores.
 * MLRN_ERR_ARG while a retrain is running (save after step() returned MLRN_OK), MLRN_ERR_BUFFER if the
 * payload exceeds mlrn_persist_capacity() (nothing written), MLRN_ERR_IO. */
MLRN_LEARNER__COLD mlrn_status mlrn_learner_save_all(const mlrn_learner *l, const mlrn_storage *st) {
    mlrn_persist_writer w;
    mlrn_status s;
    uint32_t esz;
    if (!l || !l->ready || !st || l->training) return MLRN_ERR_ARG;
    esz = (uint32_t)mlrn_store_elem_size(MLRN_STORE_TYPE_OF(&l->train)) * l->train.d;
    s = mlrn_persist_save_begin(&w, st, MLRN_LEARNER_MAGIC, mlrn_learner__all_len(l));
    if (s < 0) return s;
    s = mlrn_learner__put(&w, MLRN_LEARNER__FMT_ALL | ((uint32_t)l->n_classes << 8) | ((uint32_t)l->train.d << 16), 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->has_model ? l->n_cur : 0u, 1);
    if (s == MLRN_OK && l->has_model) {
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
        s = mlrn_learner__put_mem(&w, l->cur_map, l->n_cur);
        if (s == MLRN_OK) s = mlrn_learner__put_snapshot(l, &w);
#else
        uint32_t nsub = mlrn_smo_n_sub(l->n_cur, MLRN_SMO_OVO);
        s = mlrn_learner__put_mem(&w, l->cur_map, l->n_cur);
        if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->cur_w, nsub * l->train.d * 4u);
        if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->cur_b, nsub * 4u);
#endif
    }
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->train.storage | ((uint32_t)l->pending << 8), 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->train.capacity, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->lp.holdout_every ? l->hold.capacity : 0u, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->lp.window, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->train.n, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->hold.n, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->win_pos, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->win_fill, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->win_err, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->win_since, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->mistakes_since, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->rng, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_stored, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->seen_train, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->seen_hold, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_feedback, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_mistakes, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_retrains, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_accepted, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_rollbacks, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_failed, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_dropped, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_discarded, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->n_drifts, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->last_train_iter, 4);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->last_cand_correct, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->last_cur_correct, 2);
    if (s == MLRN_OK) s = mlrn_learner__put(&w, l->last_hold_n, 2);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->train.data, l->train.n * esz);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->train.labels, l->train.n);
    if (s == MLRN_OK && l->hold.n) s = mlrn_learner__put_mem(&w, l->hold.data, l->hold.n * esz);
    if (s == MLRN_OK && l->hold.n) s = mlrn_learner__put_mem(&w, l->hold.labels, l->hold.n);
    if (s == MLRN_OK && l->lp.window) s = mlrn_learner__put_mem(&w, l->win, l->lp.window);
#if MLRN_LEARNER_DDM
    if (s == MLRN_OK && MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM) {
        s = mlrn_learner__put(&w, l->ddm.n, 2);
        if (s == MLRN_OK) s = mlrn_learner__put(&w, l->ddm.e, 2);
        if (s == MLRN_OK) s = mlrn_learner__put(&w, l->ddm.q_min, 4);
        if (s == MLRN_OK) s = mlrn_learner__put(&w, l->ddm.s_min, 4);
        if (s == MLRN_OK) s = mlrn_learner__put(&w, l->ddm.warn, 1);
        if (s == MLRN_OK) s = mlrn_learner__put(&w, l->warn_train, 2);
        if (s == MLRN_OK) s = mlrn_learner__put(&w, l->warn_hold, 2);
    }
#endif
    if (s == MLRN_OK) return mlrn_persist_save_end(&w);
    mlrn_persist_save_abort(&w);
    return s;
}

/* ---- load ------------------------------------------------------------------
 * Two passes over one slot, each byte used as it was read once and checked:
 *   pass 1 (mlrn_learner__scan): the newest slot whose header is valid is read once through; the learner
 *     header, the class map and (format 2) the 84-byte state are kept on the stack, the rest is skipped,
 *     and the slot's CRC is checked over all of it. A slot that fails (damaged, torn, unreadable) is
 *     passed over for the other one. Nothing in the learner has changed yet: a refusal (no valid slot,
 *     another shape, values out of range) leaves it as it was.
 *   the kept values are validated (mlrn_learner__check): every length and index the copy and the loop
 *     will use is checked against the learner's own capacities, so even a slot that passes its CRC by
 *     collision cannot make the copy or a later retrain write out of bounds.
 *   pass 2 (mlrn_learner__copy): the model, the store rows, labels and the window ring are read once,
 *     straight into the learner's buffers; the kept header/map/state bytes enter the CRC from the stack
 *     (they are not read again), so the CRC is checked over exactly what the learner will use. The labels,
 *     the float rows and the ring bytes are then checked on the copy, and only then is the learner
 *     committed (n, has_model, counters...). A failure here (a read returning other bytes than pass 1 saw,
 *     an I/O error) leaves no model (format 1) or an empty learner (format 2), never a mix. */

typedef struct {
    uint8_t h[5];                            /* format, n_classes, d (u16), m */
    uint8_t map[MLRN_SMO_MAX_CLASSES];           /* class map (m entries) */
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    uint8_t k[MLRN_LEARNER__KHEAD_LEN];      /* a kernel learner's snapshot head (m > 0), once read */
    uint8_t k_read;                          /* 1: k holds the slot's kernel head */
#endif
    uint8_t state[MLRN_LEARNER__STATE_LEN];  /* format 2: the state section */
#if MLRN_LEARNER_DDM
    uint8_t ddm[MLRN_LEARNER__DDM_LEN];      /* format 2 with MLRN_DRIFT_DDM: the detector (the payload's end) */
#endif
    uint32_t off;                            /* payload offset of the state section once read, else 0 */
} mlrn_learner__head;

static inline uint16_t mlrn_learner__rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

/* Model bytes of a model over m classes (the learner's d): n_sub(m) * (d + 1) floats. */
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
/* A kernel learner's: the snapshot, its n_sv from the head pass 1 kept (a head not read: 0 rows; check refuses it). */
static inline uint32_t mlrn_learner__model_bytes(const mlrn_learner *l, uint8_t m, const mlrn_learner__head *hd) {
    return mlrn_learner__kmodel_bytes(l, m, hd->k_read ? mlrn_learner__rd16(&hd->k[10]) : 0u);
}
#else
static inline uint32_t mlrn_learner__model_bytes(const mlrn_learner *l, uint8_t m, const mlrn_learner__head *hd) {
    (void)hd;
    return m ? (uint32_t)mlrn_smo_n_sub(m, MLRN_SMO_OVO) * (l->train.d + 1u) * 4u : 0u;
}
#endif

/* Pass 1 over the slot r was opened on: keeps header, map and state (see above), checks the CRC. */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__scan(const mlrn_learner *l, mlrn_persist_reader *r,
                                                  mlrn_learner__head *hd) {
    uint32_t len = r->info.len;
    mlrn_status s = MLRN_OK;
    uint8_t m;
    hd->off = 0u;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    hd->k_read = 0u;
#endif
    if (r->info.tag == MLRN_LEARNER_MAGIC && len >= 5u) {
        s = mlrn_persist_read_chunk(r, hd->h, 5u);
        m = hd->h[4];
        if (s == MLRN_OK && m <= MLRN_SMO_MAX_CLASSES && m <= len - 5u) {
            s = mlrn_persist_read_chunk(r, hd->map, m);
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
            if (s == MLRN_OK && m && len - r->pos >= MLRN_LEARNER__KHEAD_LEN) {
                s = mlrn_persist_read_chunk(r, hd->k, (uint16_t)MLRN_LEARNER__KHEAD_LEN);
                hd->k_read = (uint8_t)(s == MLRN_OK);
            }
#endif
            /* the state's offset depends on m and d: only for a model this learner can hold */
            if (s == MLRN_OK && hd->h[0] == MLRN_LEARNER__FMT_ALL && hd->h[1] == l->n_classes &&
                mlrn_learner__rd16(&hd->h[2]) == l->train.d && m <= l->n_classes) {
                uint32_t off = 5u + m + mlrn_learner__model_bytes(l, m, hd);
                if (len >= off && len - off >= MLRN_LEARNER__STATE_LEN) {
                    s = mlrn_persist_read_skip(r, off - r->pos);
                    if (s == MLRN_OK) s = mlrn_persist_read_chunk(r, hd->state, (uint16_t)MLRN_LEARNER__STATE_LEN);
                    if (s == MLRN_OK) hd->off = off;
#if MLRN_LEARNER_DDM
                    if (s == MLRN_OK && MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM) {
                        if (len - r->pos >= MLRN_LEARNER__DDM_LEN) {
                            s = mlrn_persist_read_skip(r, len - r->pos - MLRN_LEARNER__DDM_LEN);
                            if (s == MLRN_OK) s = mlrn_persist_read_chunk(r, hd->ddm, (uint16_t)MLRN_LEARNER__DDM_LEN);
                        } else {
                            hd->off = 0u;   /* too short for the detector: refused by the length check */
                        }
                    }
#endif
                }
            }
        }
    }
    if (s < 0) return s;
    return mlrn_persist_read_end(r);
}

/* The newest slot that passes pass 1; r is left on it (closed: pass 2 rewinds it). MLRN_ERR_CRC: none (a slot
 * whose reads fail counts as invalid); MLRN_ERR_IO: neither slot could be read. */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__pick(const mlrn_learner *l, const mlrn_storage *st,
                                                  mlrn_persist_reader *r, mlrn_learner__head *hd) {
    uint8_t order[2], n, k, unreadable;
    mlrn_status s;
    if (!mlrn_persist__storage_ok(st)) return MLRN_ERR_ARG;
    n = mlrn_persist__candidates(st, order, &unreadable);
    for (k = 0; k < n; k++) {
        s = mlrn_persist_read_begin(r, st, order[k]);
        if (s == MLRN_OK) s = mlrn_learner__scan(l, r, hd);
        if (s == MLRN_OK) return MLRN_OK;
        if (s != MLRN_ERR_CRC) unreadable++;
    }
    return unreadable >= 2u ? MLRN_ERR_IO : MLRN_ERR_CRC;
}

/* Validates what pass 1 kept (CRC-checked bytes) against this learner. MLRN_ERR_ARG: saved by a learner of
 * another shape (n_classes, d, storage type, capacities, window) or a retrain is running; MLRN_ERR_CRC: not
 * a learner payload, or a value no learner state can hold. Nothing is changed. */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__check(const mlrn_learner *l, const mlrn_persist_info *info,
                                                   const mlrn_learner__head *hd) {
    const uint8_t *h = hd->h;
    uint8_t m = h[4], k;
    uint16_t f[11], W = l->lp.window;
    uint32_t off;
    if (info->tag != MLRN_LEARNER_MAGIC || info->len < 5u) return MLRN_ERR_CRC;
    if ((h[0] != MLRN_LEARNER__FMT_MODEL && h[0] != MLRN_LEARNER__FMT_ALL) || h[1] != l->n_classes ||
        mlrn_learner__rd16(&h[2]) != l->train.d || (m < 2u && !(h[0] == MLRN_LEARNER__FMT_ALL && m == 0u)) ||
        m > l->n_classes)
        return MLRN_ERR_ARG;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    if (m) {   /* another kernel or other kernel parameters, or more rows than this learner holds: another shape */
        uint8_t mine[MLRN_LEARNER__KHEAD_LEN];
        if (!hd->k_read) return MLRN_ERR_CRC;
        mlrn_learner__khead(l, mine);
        for (k = 0; k < 10u; k++)
            if (hd->k[k] != mine[k]) return MLRN_ERR_ARG;
        if (mlrn_learner__rd16(&hd->k[10]) > l->train.capacity) return MLRN_ERR_ARG;
    }
#endif
    off = 5u + m + mlrn_learner__model_bytes(l, m, hd);
    if (h[0] == MLRN_LEARNER__FMT_MODEL ? info->len != off : hd->off != off) return MLRN_ERR_CRC;
    for (k = 0; k < m; k++)   /* map: strictly increasing classes of this learner */
        if (hd->map[k] >= l->n_classes || (k && hd->map[k] <= hd->map[k - 1u])) return MLRN_ERR_CRC;
    if (l->training) return MLRN_ERR_ARG;
    if (h[0] == MLRN_LEARNER__FMT_MODEL) return MLRN_OK;
    /* format 2, u16 fields 0..10: storage | pending << 8, train_cap, hold_cap, window, train_n, hold_n,
     * win_pos, win_fill, win_err, win_since, mistakes_since; then u32 rng, n_stored, seen_train (30),
     * seen_hold (34)... */
    for (k = 0; k < 11u; k++) f[k] = mlrn_learner__rd16(&hd->state[2u * k]);
    if ((f[0] & 0xFFu) != l->train.storage || f[1] != l->train.capacity ||
        f[2] != (l->lp.holdout_every ? l->hold.capacity : 0u) || f[3] != W)
        return MLRN_ERR_ARG;   /* saved by a learner of other capacities: refused, nothing changed */
    if ((f[0] >> 8) > 1u || f[4] > f[1] || f[5] > f[2] || (W ? f[6] >= W : f[6] != 0u) || f[7] > W || f[8] > f[7] ||
        f[9] > W)
        return MLRN_ERR_CRC;
    /* seen_* count the samples offered to each store (saturating at 2^32 - 1): at least what it holds */
    for (k = 0; k < 2u; k++) {
        uint32_t seen = mlrn_persist__rd32(&hd->state[30u + 4u * k]);
        if (seen < f[4u + k]) return MLRN_ERR_CRC;
    }
    off += MLRN_LEARNER__STATE_LEN + W;
    off += ((uint32_t)mlrn_store_elem_size(MLRN_STORE_TYPE_OF(&l->train)) * l->train.d + 1u) * (uint32_t)(f[4] + f[5]);
#if MLRN_LEARNER_DDM
    if (MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM) {   /* e <= n, a 0/1 flag, marks within the stores */
        const uint8_t *g = hd->ddm;
        off += MLRN_LEARNER__DDM_LEN;
        if (mlrn_learner__rd16(&g[2]) > mlrn_learner__rd16(&g[0]) || g[12] > 1u || mlrn_learner__rd16(&g[13]) > f[4] ||
            mlrn_learner__rd16(&g[15]) > f[5])
            return MLRN_ERR_CRC;
    }
#endif
    return info->len == off ? MLRN_OK : MLRN_ERR_CRC;
}

/* Reads len payload bytes (any length: chunks of at most 0x8000 bytes) into RAM. */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__get_mem(mlrn_persist_reader *r, void *p, uint32_t len) {
    uint8_t *b = (uint8_t *)p;
    mlrn_status s = MLRN_OK;
    while (len && s == MLRN_OK) {
        uint16_t n = len > 0x8000u ? (uint16_t)0x8000u : (uint16_t)len;
        s = mlrn_persist_read_chunk(r, b, n);
        b += n; len -= n;
    }
    return s;
}

/* Labels already in RAM all < nc? */
static inline int mlrn_learner__labels_below(const uint8_t *labels, uint16_t n, uint8_t nc) {
    uint16_t k;
    for (k = 0; k < n; k++)
        if (labels[k] >= nc) return 0;
    return 1;
}

/* n rows of the learner's storage type at data, as a store may hold them (float rows finite, as
 * mlrn_store_add ensures)? */
static inline int mlrn_learner__rows_ok(const mlrn_learner *l, const void *data, uint16_t n) {
    uint32_t k, nf = (uint32_t)n * l->train.d;
    if (MLRN_STORE_TYPE_OF(&l->train) != MLRN_STORAGE_F32) return 1;
    for (k = 0; k < nf; k++)
        if (!mlrn_isfinite(((const float *)data)[k])) return 0;
    return 1;
}

/* Pass 2 (see above): copy, CRC over exactly what was copied plus the kept bytes, checks, commit. */
MLRN_LEARNER__COLD mlrn_status mlrn_learner__copy(mlrn_learner *l, mlrn_persist_reader *r,
                                                  const mlrn_learner__head *hd) {
    const uint8_t *v = hd->state;
    uint8_t m = hd->h[4], all = hd->h[0] == MLRN_LEARNER__FMT_ALL, k;
    uint32_t nsub = m ? mlrn_smo_n_sub(m, MLRN_SMO_OVO) : 0u, W = all ? l->lp.window : 0u;
    uint16_t tn = all ? mlrn_learner__rd16(&v[8]) : 0u, hn = all ? mlrn_learner__rd16(&v[10]) : 0u;
    uint32_t esz = (uint32_t)mlrn_store_elem_size(MLRN_STORE_TYPE_OF(&l->train)) * l->train.d;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    uint16_t n_sv = 0;
#endif
    mlrn_status s = mlrn_persist__read_rewind(r);
    if (s == MLRN_OK) s = mlrn_persist__read_held(r, hd->h, 5u);
    if (s == MLRN_OK) s = mlrn_persist__read_held(r, hd->map, m);
    /* from here on the buffers receive the copy: until it is checked, no model (and, format 2, empty stores) */
    l->has_model = 0; l->n_cur = 0;
    if (all) {
        l->train.n = 0; l->hold.n = 0; l->pending = 0; l->queue_n = 0;
        l->win_pos = l->win_fill = l->win_err = l->win_since = l->mistakes_since = 0;
        l->n_stored = l->seen_train = l->seen_hold = 0;
        l->event = MLRN_LEARNER_EV_NONE;
        l->train.n_classes = l->n_classes;
        mlrn_learner__ddm_restart(l);
#if MLRN_LEARNER_WARM
        l->warm_ok = 0;   /* alphas are not saved: the first retrain after a load starts cold */
#endif
    }
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    if (s == MLRN_OK && m) {   /* the snapshot: the head pass 1 kept, rows, classes, coefficient rows, b */
        uint16_t r0, nr = mlrn_smo_n_rows(m, MLRN_SMO_OVO);
        n_sv = mlrn_learner__rd16(&hd->k[10]);
        s = mlrn_persist__read_held(r, hd->k, (uint16_t)MLRN_LEARNER__KHEAD_LEN);
        if (s == MLRN_OK) s = mlrn_learner__get_mem(r, l->sv_x, (uint32_t)n_sv * esz);
        if (s == MLRN_OK) s = mlrn_learner__get_mem(r, l->sv_y, n_sv);
        for (r0 = 0; r0 < nr && s == MLRN_OK; r0++)
            s = mlrn_learner__get_mem(r, l->cur_w + (size_t)r0 * l->train.capacity, (uint32_t)n_sv * 4u);
        if (s == MLRN_OK) s = mlrn_learner__get_mem(r, l->cur_b, nsub * 4u);
    }
#else
    if (s == MLRN_OK) s = mlrn_learner__get_mem(r, l->cur_w, nsub * l->train.d * 4u);
    if (s == MLRN_OK) s = mlrn_learner__get_mem(r, l->cur_b, nsub * 4u);
#endif
    if (all) {
        if (s == MLRN_OK) s = mlrn_persist__read_held(r, v, (uint16_t)MLRN_LEARNER__STATE_LEN);
        if (s == MLRN_OK) s = mlrn_learner__get_mem(r, l->train.data, tn * esz);
        if (s == MLRN_OK) s = mlrn_learner__get_mem(r, l->train.labels, tn);
        if (s == MLRN_OK && hn) s = mlrn_learner__get_mem(r, l->hold.data, hn * esz);
        if (s == MLRN_OK && hn) s = mlrn_learner__get_mem(r, l->hold.labels, hn);
        if (s == MLRN_OK && W) s = mlrn_learner__get_mem(r, l->win, W);
#if MLRN_LEARNER_DDM
        if (s == MLRN_OK && MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM)
            s = mlrn_persist__read_held(r, hd->ddm, (uint16_t)MLRN_LEARNER__DDM_LEN);
#endif
    }
    if (s == MLRN_OK) s = mlrn_persist_read_end(r);   /* the CRC over what was copied */
    /* what the loop indexes with, checked on the copy itself */
    if (s == MLRN_OK && (!mlrn_learner__labels_below(l->train.labels, tn, l->n_classes) ||
                         !mlrn_learner__labels_below(l->hold.labels, hn, l->n_classes) ||
                         !mlrn_learner__rows_ok(l, l->train.data, tn) || !mlrn_learner__rows_ok(l, l->hold.data, hn)))
        s = MLRN_ERR_CRC;
    for (k = 0; s == MLRN_OK && k < W; k++)
        if (l->win[k] > 7u) s = MLRN_ERR_CRC;   /* ring entries: bits 0..2 only */
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    /* the snapshot's classes index the coefficient rows: local classes of the m-class model; float rows finite */
    if (s == MLRN_OK && (!mlrn_learner__labels_below(l->sv_y, n_sv, m) || !mlrn_learner__rows_ok(l, l->sv_x, n_sv)))
        s = MLRN_ERR_CRC;
#endif
    if (s < 0) return s;
    /* commit */
    for (k = 0; k < m; k++) l->cur_map[k] = hd->map[k];
    l->n_cur = m;
    l->has_model = m ? 1u : 0u;
#if MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
    l->n_sv = n_sv;
#endif
    if (all) {
        uint32_t *dst32[14];
        uint16_t *dst16[3];
        dst32[0] = &l->rng; dst32[1] = &l->n_stored; dst32[2] = &l->seen_train; dst32[3] = &l->seen_hold;
        dst32[4] = &l->n_feedback; dst32[5] = &l->n_mistakes; dst32[6] = &l->n_retrains; dst32[7] = &l->n_accepted;
        dst32[8] = &l->n_rollbacks; dst32[9] = &l->n_failed; dst32[10] = &l->n_dropped; dst32[11] = &l->n_discarded;
        dst32[12] = &l->n_drifts; dst32[13] = &l->last_train_iter;
        for (k = 0; k < 14u; k++) *dst32[k] = mlrn_persist__rd32(&v[22u + 4u * k]);
        dst16[0] = &l->last_cand_correct; dst16[1] = &l->last_cur_correct; dst16[2] = &l->last_hold_n;
        for (k = 0; k < 3u; k++) *dst16[k] = mlrn_learner__rd16(&v[78u + 2u * k]);
        l->pending = v[1];
        l->train.n = tn; l->hold.n = hn;
        l->win_pos = mlrn_learner__rd16(&v[12]); l->win_fill = mlrn_learner__rd16(&v[14]);
        l->win_err = mlrn_learner__rd16(&v[16]); l->win_since = mlrn_learner__rd16(&v[18]);
        l->mistakes_since = mlrn_learner__rd16(&v[20]);
#if MLRN_LEARNER_DDM
        if (MLRN_LEARNER__DRIFT(l) == MLRN_DRIFT_DDM) {
            const uint8_t *g = hd->ddm;
            l->ddm.n = mlrn_learner__rd16(&g[0]); l->ddm.e = mlrn_learner__rd16(&g[2]);
            l->ddm.q_min = mlrn_persist__rd32(&g[4]); l->ddm.s_min = mlrn_persist__rd32(&g[8]);
            l->ddm.warn = g[12];
            l->warn_train = mlrn_learner__rd16(&g[13]); l->warn_hold = mlrn_learner__rd16(&g[15]);
        }
#endif
    } else {   /* format 1: a new model, so the detector starts over */
        mlrn_learner__ddm_restart(l);
    }
    return MLRN_OK;
}

/* Restores the newest valid save: a model (format 1: the stores and counters are kept as they are),
 * or a save_all (format 2: model, stores and loop state). Every byte the learner uses is read once and
 * checked (CRC over the copy, every length and index against the learner's capacities: see "load" above).
 * Refusals keep the learner unchanged: MLRN_ERR_CRC (no valid slot, or not a learner payload),
 * MLRN_ERR_ARG (saved by a learner of other n_classes, d, storage, capacities or window; or a retrain is
 * running; or an invalid storage description), MLRN_ERR_IO (neither slot could be read). Only a failure of the copy itself (MLRN_ERR_CRC: the
 * storage answered differently than when the slot was checked; MLRN_ERR_IO) changes it: no model (format
 * 1), or an empty learner (format 2); the slots are intact, so calling load again may succeed. */
static inline mlrn_status mlrn_learner_load(mlrn_learner *l, const mlrn_storage *st) {
    mlrn_persist_reader r;
    mlrn_learner__head hd;
    mlrn_status s;
    if (!l || !l->ready || !st) return MLRN_ERR_ARG;
    s = mlrn_learner__pick(l, st, &r, &hd);
    if (s == MLRN_OK) s = mlrn_learner__check(l, &r.info, &hd);
    if (s == MLRN_OK) s = mlrn_learner__copy(l, &r, &hd);
    return s;
}

MLRN_FP_EXACT_END

#endif /* MLRN_LEARNER_H */
