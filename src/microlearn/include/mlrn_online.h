/* mlrn_online.h: a compact online learner for the smallest parts: Passive-Aggressive II (Crammer et al.
 * 2006), linear, one-vs-rest, float32, behind the self-learning loop's API (mlrn_learner.h):
 *
 *   predict(x)            -> class from the accepted weights
 *   feedback(x, y_true)   -> counts the mistake; every holdout_every-th row goes to a small held-out store
 *                            (FIFO, arrival order), every other row updates the candidate weights (one PA-II
 *                            step per output); the drift detector and the validation trigger see the outcome
 *   step(budget)          -> a pending validation: the candidate against the accepted weights on the
 *                            held-out store, accepted when strictly better by margin_pct (ties keep the
 *                            accepted weights: a rollback); one pass over the store, budget is ignored
 *   save/load             -> the whole state through mlrn_persist.h (power-safe A/B slots)
 *
 * Why: the SVM learner keeps a store of training samples and a trainer's work buffer (a 16-feature,
 * 3-class learner needs ~5 KB); PA-II keeps O(d x classes) state: the accepted and the candidate weights,
 * n_out x (d + 1) floats each (n_out = 1 for two classes, else one per class), plus the held-out rows.
 * The candidate keeps learning after a rollback (PA-II corrects itself row by row; resetting it to the
 * accepted weights would throw away what it learned of a new concept).
 *
 * PA-II, per output c with yc = +1 for the row's class (class 1 when n_out = 1), else -1, bias as a
 * feature of value 1, in this float32 order (mirrored by microlearn.learner.online):
 *   f = dot(w_c, x) + b_c;  loss = 1 - yc f;  if loss > 0:  tau = loss / (dot(x, x) + 1 + 1/(2C)),
 *   w_c[k] = w_c[k] + (yc tau) x[k];  b_c = b_c + yc tau.
 * Drift (mlrn_drift.h): DDM on the accepted weights' errors since they were accepted (the held-out store
 * then keeps the rows since the warning), or the window detector (the held-out rows of the last window).
 * A drift arms a validation.
 *
 * Memory: static, caller-owned (MLRN_ONLINE_DEFINE). Every decision is the same on every target. */
#ifndef MLRN_ONLINE_H
#define MLRN_ONLINE_H
#include "mlrn.h"
#include "mlrn_drift.h"
#include "mlrn_kernel.h"
#include "mlrn_learner.h"
#include "mlrn_persist.h"

MLRN_FP_EXACT_BEGIN

#define MLRN_ONLINE_MAGIC 0x4F4Cu    /* persistence tag ("OL") */
#define MLRN_ONLINE_FORMAT 1u        /* payload: weights, held-out rows, loop state (mlrn_online_save) */
#define MLRN_ONLINE_FORMAT_MODEL 2u  /* payload: the accepted weights only (mlrn_online_save_model) */
#define MLRN_ONLINE_MAX_CLASSES 16u  /* class indices in uint8 maps, as the SVM learner */
#define MLRN_ONLINE__HEAD_LEN 8u     /* format, n_classes, d (u16), hold_cap (u16), window (u16) */
#define MLRN_ONLINE__STATE_LEN 76u   /* see mlrn_online_save */

typedef struct {
    float C;                  /* PA-II aggressiveness (> 0, finite; 1.0) */
    uint16_t k_mistakes;      /* validate after this many mistakes since the last validation (5; 0 off) */
    uint16_t window;          /* ring of the last outcomes, for drift MLRN_DRIFT_WINDOW (<= buffer; 0 off) */
    uint8_t drift_pct;        /* window drift: errors*100 > drift_pct*window (40; 0 off) */
    uint8_t margin_pct;       /* accept if cand*100 + margin*n > cur*100 (or n == 0, or no model yet) */
    uint8_t holdout_every;    /* every k-th row is held out (4; 0: none, every validation accepts; not 1) */
    uint8_t drift;            /* MLRN_DRIFT_WINDOW / MLRN_DRIFT_DDM (default) */
    uint8_t ddm_warn_k10, ddm_drift_k10;
    uint16_t ddm_min_rows;
} mlrn_online_params;

typedef struct {
    mlrn_online_params lp;
    float *cur, *cand;              /* n_out x (d + 1): w then b of each output */
    float *hold_x; uint8_t *hold_y; /* held-out rows, arrival order */
    uint8_t *win;                   /* ring: bit 0 wrong, bit 2 held out */
    float half_inv_c;               /* 1 / (2C) */
    uint16_t d, hold_cap, hold_n, win_pos, win_fill, win_err, mistakes_since, warn_hold;
    uint8_t n_classes, n_out, has_model, pending, event, ready, training;
    mlrn_ddm ddm;
    uint32_t n_seen;                /* rows seen (the held-out split) */
    uint32_t n_feedback, n_mistakes, n_retrains, n_accepted, n_rollbacks, n_failed, n_dropped, n_drifts, n_updates;
    uint16_t last_cand_correct, last_cur_correct, last_hold_n;
} mlrn_online;

static inline mlrn_online_params mlrn_online_default_params(void) {
    mlrn_online_params p;
    p.C = 1.0f;
    p.k_mistakes = 5u;
    p.window = 20u;
    p.drift_pct = 40u;
    p.margin_pct = 0u;
    p.holdout_every = 4u;
    p.drift = MLRN_DRIFT_DDM;
    p.ddm_warn_k10 = (uint8_t)MLRN_DDM_WARN_K10;
    p.ddm_drift_k10 = (uint8_t)MLRN_DDM_DRIFT_K10;
    p.ddm_min_rows = (uint16_t)MLRN_DDM_MIN_ROWS;
    return p;
}

/* Outputs: one score for two classes, else one per class (one-vs-rest). */
static inline uint8_t mlrn_online_n_out(uint8_t n_classes) { return n_classes <= 2u ? 1u : n_classes; }
/* Floats of one weight set (the accepted and the candidate each take this many). */
#define MLRN_ONLINE_WEIGHT_FLOATS(D, NC) (((NC) <= 2 ? 1 : (NC)) * ((D) + 1))

/* weights: 2 x MLRN_ONLINE_WEIGHT_FLOATS floats (accepted, then candidate); hold_x: hold_cap x d floats. */
static inline mlrn_status mlrn_online_init(mlrn_online *l, const mlrn_online_params *p, uint16_t d, uint8_t n_classes,
                                           float *weights, size_t weight_floats, float *hold_x, uint8_t *hold_y,
                                           uint16_t hold_cap, uint8_t *win, uint16_t win_cap) {
    size_t k, nw;
    if (!l) return MLRN_ERR_ARG;
    l->ready = 0;
    if (!p || !weights || d == 0u || n_classes < 2u || n_classes > MLRN_ONLINE_MAX_CLASSES) return MLRN_ERR_ARG;
    if (!(p->C > 0.0f) || !mlrn_isfinite(p->C) || p->drift_pct > 100u || p->margin_pct > 100u ||
        p->holdout_every == 1u || (p->holdout_every && (hold_cap == 0u || !hold_x || !hold_y)) ||
        p->window > win_cap || (p->window && !win) || p->drift > MLRN_DRIFT_DDM ||
        (p->drift == MLRN_DRIFT_DDM && (p->ddm_warn_k10 <= 10u || p->ddm_drift_k10 < p->ddm_warn_k10 ||
                                        p->ddm_min_rows == 0u)))
        return MLRN_ERR_ARG;
    nw = (size_t)mlrn_online_n_out(n_classes) * (d + 1u);
    if (weight_floats < 2u * nw) return MLRN_ERR_BUFFER;
    l->lp = *p;
    l->half_inv_c = 1.0f / (2.0f * p->C);
    l->cur = weights; l->cand = weights + nw;
    for (k = 0; k < 2u * nw; k++) weights[k] = 0.0f;
    l->hold_x = hold_x; l->hold_y = hold_y; l->hold_cap = p->holdout_every ? hold_cap : 0u; l->hold_n = 0;
    l->win = win; l->win_pos = l->win_fill = l->win_err = 0;
    l->d = d; l->n_classes = n_classes; l->n_out = mlrn_online_n_out(n_classes);
    l->mistakes_since = 0; l->warn_hold = 0;
    l->has_model = 0; l->pending = 0; l->event = MLRN_LEARNER_EV_NONE; l->training = 0;
    mlrn_ddm_reset(&l->ddm);
    l->n_seen = 0;
    l->n_feedback = l->n_mistakes = l->n_retrains = l->n_accepted = l->n_rollbacks = 0;
    l->n_failed = l->n_dropped = l->n_drifts = l->n_updates = 0;
    l->last_cand_correct = l->last_cur_correct = l->last_hold_n = 0;
    l->ready = 1;
    return MLRN_OK;
}

/* Declares the static buffers of an online learner NAME and NAME_init(params) binding them. */
#define MLRN_ONLINE_DEFINE(NAME, D, NC, HOLD_CAP, WINDOW)                                                    \
    static mlrn_online NAME;                                                                                 \
    static float NAME##_weights[2 * MLRN_ONLINE_WEIGHT_FLOATS(D, NC)];                                       \
    static float NAME##_hold_x[((HOLD_CAP) ? (HOLD_CAP) : 1) * (D)];                                         \
    static uint8_t NAME##_hold_y[(HOLD_CAP) ? (HOLD_CAP) : 1];                                               \
    static uint8_t NAME##_win[(WINDOW) ? (WINDOW) : 1];                                                      \
    static inline mlrn_status NAME##_init(const mlrn_online_params *p) {                                     \
        return mlrn_online_init(&NAME, p, (D), (NC), NAME##_weights, sizeof NAME##_weights / sizeof(float), \
                                NAME##_hold_x, NAME##_hold_y, (HOLD_CAP), NAME##_win, (WINDOW));             \
    }

/* ---- internals ---------------------------------------------------------- */

static inline uint8_t mlrn_online__predict_w(const mlrn_online *l, const float *w, const float *x) {
    uint16_t d = l->d;
    uint8_t c, best = 0;
    float bs = 0.0f;
    if (l->n_out == 1u) return mlrn_kernel_dot(w, x, d) + w[d] >= 0.0f ? 1u : 0u;
    for (c = 0; c < l->n_out; c++) {   /* first maximum */
        const float *wc = w + (size_t)c * (d + 1u);
        float f = mlrn_kernel_dot(wc, x, d) + wc[d];
        if (c == 0u || f > bs) { bs = f; best = c; }
    }
    return best;
}

static inline uint16_t mlrn_online__hold_correct(const mlrn_online *l, const float *w) {
    uint16_t i, ok = 0;
    for (i = 0; i < l->hold_n; i++)
        if (mlrn_online__predict_w(l, w, l->hold_x + (size_t)i * l->d) == l->hold_y[i]) ok++;
    return ok;
}

/* One PA-II step of the candidate on (x, y). */
static inline void mlrn_online__update(mlrn_online *l, const float *x, uint8_t y) {
    uint16_t d = l->d, k;
    uint8_t c;
    float denom = mlrn_kernel_dot(x, x, d) + 1.0f + l->half_inv_c;
    for (c = 0; c < l->n_out; c++) {
        float *wc = l->cand + (size_t)c * (d + 1u);
        int pos = l->n_out == 1u ? y == 1u : y == c;
        float f = mlrn_kernel_dot(wc, x, d) + wc[d];
        float loss = 1.0f - (pos ? f : -f);
        if (loss > 0.0f) {
            float tau = loss / denom;
            float st = pos ? tau : -tau;
            for (k = 0; k < d; k++) wc[k] = wc[k] + st * x[k];
            wc[d] = wc[d] + st;
        }
    }
    l->n_updates++;
}

/* Appends a held-out row (FIFO when full: the oldest goes), keeping the warning's marks. */
static inline void mlrn_online__hold(mlrn_online *l, const float *x, uint8_t y) {
    uint16_t d = l->d, k, t;
    if (l->hold_n == l->hold_cap) {
        if (l->ddm.warn && l->warn_hold == l->hold_n) l->warn_hold--;   /* the oldest was a marked one */
        for (t = 0; t + 1u < l->hold_n; t++) {
            for (k = 0; k < d; k++) l->hold_x[(size_t)t * d + k] = l->hold_x[(size_t)(t + 1u) * d + k];
            l->hold_y[t] = l->hold_y[t + 1u];
        }
        l->hold_n--;
    }
    for (k = 0; k < d; k++) l->hold_x[(size_t)l->hold_n * d + k] = x[k];
    l->hold_y[l->hold_n++] = y;
    if (l->ddm.warn) l->warn_hold++;
}

/* Drift: the held-out store keeps only its newest `keep` rows; a validation is due. */
MLRN_LEARNER__COLD void mlrn_online__drift(mlrn_online *l, uint16_t keep) {
    uint16_t d = l->d, k, t, cut;
    if (keep < l->hold_n) {
        cut = (uint16_t)(l->hold_n - keep);
        for (t = 0; t < keep; t++) {
            for (k = 0; k < d; k++) l->hold_x[(size_t)t * d + k] = l->hold_x[(size_t)(t + cut) * d + k];
            l->hold_y[t] = l->hold_y[t + cut];
        }
        l->hold_n = keep;
    }
    mlrn_ddm_reset(&l->ddm);
    l->warn_hold = 0;
    l->win_pos = l->win_fill = l->win_err = 0;
    l->n_drifts++;
    l->pending = 1;
}

/* ---- API ------------------------------------------------------------------ */

static inline int32_t mlrn_online_predict(const mlrn_online *l, const float *x) {
    uint16_t k;
    if (!l || !x || !l->ready) return MLRN_ERR_ARG;
    for (k = 0; k < l->d; k++)
        if (!mlrn_isfinite(x[k])) return MLRN_ERR_NAN;
    if (!l->has_model) return MLRN_ERR_UNTRAINED;
    return mlrn_online__predict_w(l, l->cur, x);
}

/* Returns 1 if the accepted weights got x wrong (no model counts as wrong), 0 if right, < 0 on error
 * (nothing changed). */
static inline int32_t mlrn_online_feedback(mlrn_online *l, const float *x, uint8_t y) {
    uint16_t k, W;
    uint8_t wrong, held;
    if (!l || !x || !l->ready) return MLRN_ERR_ARG;
    for (k = 0; k < l->d; k++)
        if (!mlrn_isfinite(x[k])) return MLRN_ERR_NAN;
    if (y >= l->n_classes) return MLRN_ERR_LABEL;
    wrong = !l->has_model || mlrn_online__predict_w(l, l->cur, x) != y;
    l->n_feedback++;
    if (wrong) { l->n_mistakes++; if (l->mistakes_since < 0xFFFFu) l->mistakes_since++; }
    held = l->lp.holdout_every && (l->n_seen % l->lp.holdout_every) == (uint32_t)(l->lp.holdout_every - 1u);
    l->n_seen++;
    if (held) mlrn_online__hold(l, x, y);
    else mlrn_online__update(l, x, y);
    W = l->lp.window;
    if (W) {
        if (l->win_fill == W) l->win_err = (uint16_t)(l->win_err - (l->win[l->win_pos] & 1u));
        else l->win_fill++;
        l->win[l->win_pos] = (uint8_t)(wrong | (held ? 4u : 0u));
        l->win_err = (uint16_t)(l->win_err + wrong);
        l->win_pos = (uint16_t)((l->win_pos + 1u) % W);
        if (l->lp.drift == MLRN_DRIFT_WINDOW && l->lp.drift_pct && l->win_fill == W &&
            (uint32_t)l->win_err * 100u > (uint32_t)l->lp.drift_pct * W) {
            uint16_t t, kh = 0;
            for (t = 0; t < W; t++) kh = (uint16_t)(kh + ((l->win[t] >> 2) & 1u));
            mlrn_online__drift(l, kh);
        }
    }
    if (l->lp.drift == MLRN_DRIFT_DDM && l->has_model) {
        uint8_t was = l->ddm.warn;
        uint8_t level = mlrn_ddm_update(&l->ddm, wrong, l->lp.ddm_min_rows, l->lp.ddm_warn_k10, l->lp.ddm_drift_k10);
        if (level == MLRN_DDM_NONE) l->warn_hold = 0;
        else if (!was) l->warn_hold = held ? 1u : 0u;
        if (level == MLRN_DDM_DRIFT) mlrn_online__drift(l, l->warn_hold);
    }
    if (!l->pending && l->lp.k_mistakes && l->mistakes_since >= l->lp.k_mistakes) l->pending = 1;
    return wrong;
}

static inline mlrn_status mlrn_online_request_train(mlrn_online *l) {
    if (!l || !l->ready) return MLRN_ERR_ARG;
    l->pending = 1;
    return MLRN_OK;
}

/* A pending validation: the candidate against the accepted weights on the held-out store. l->event says
 * MLRN_LEARNER_EV_ACCEPTED or _ROLLBACK (n_retrains counts validations). Always MLRN_OK. */
static inline mlrn_status mlrn_online_step(mlrn_online *l, uint32_t budget) {
    uint16_t cand, cur, n;
    size_t k, nw;
    (void)budget;   /* one pass over at most hold_cap rows: nothing to slice */
    if (!l || !l->ready) return MLRN_ERR_ARG;
    l->event = MLRN_LEARNER_EV_NONE;
    if (!l->pending) return MLRN_OK;
    l->pending = 0;
    l->mistakes_since = 0;
    l->n_retrains++;
    n = l->hold_n;
    cand = mlrn_online__hold_correct(l, l->cand);
    cur = l->has_model ? mlrn_online__hold_correct(l, l->cur) : 0u;
    l->last_cand_correct = cand; l->last_cur_correct = cur; l->last_hold_n = n;
    if (!l->has_model || n == 0u || (uint32_t)cand * 100u + (uint32_t)l->lp.margin_pct * n > (uint32_t)cur * 100u) {
        nw = (size_t)l->n_out * (l->d + 1u);
        for (k = 0; k < nw; k++) l->cur[k] = l->cand[k];
        l->has_model = 1;
        l->n_accepted++;
        l->event = MLRN_LEARNER_EV_ACCEPTED;
    } else {
        l->n_rollbacks++;
        l->event = MLRN_LEARNER_EV_ROLLBACK;
    }
    return MLRN_OK;
}

/* ---- persistence -----------------------------------------------------------
 * Payload (little-endian targets): head (8): u8 format, u8 n_classes, u16 d, u16 hold_cap, u16 window;
 * state (76): u8 has_model, pending, drift, ddm.warn; u16 hold_n, win_pos, win_fill, win_err, mistakes_since,
 * warn_hold, ddm.n, ddm.e; u32 ddm.q_min, ddm.s_min, n_seen, n_feedback, n_mistakes, n_retrains, n_accepted,
 * n_rollbacks, n_drifts, n_updates; u16 last_cand_correct, last_cur_correct, last_hold_n, 0 (padding);
 * then the accepted and the candidate weights (2 x n_out x (d + 1) floats), hold_n rows (floats) and labels,
 * the window ring (window bytes). Load reads the slot twice (as mlrn_learner_load): pass 1 keeps head and
 * state on the stack, checks the CRC and every value against this learner; pass 2 copies the rest straight
 * into the buffers and checks the CRC again; only then is the state committed. */

static inline uint32_t mlrn_online__len(const mlrn_online *l, uint16_t hold_n) {
    return MLRN_ONLINE__HEAD_LEN + MLRN_ONLINE__STATE_LEN + 8u * (uint32_t)l->n_out * (l->d + 1u) +
           (uint32_t)hold_n * (4u * l->d + 1u) + l->lp.window;
}

static inline void mlrn_online__wr(uint8_t *b, uint32_t v, uint8_t n) {
    uint8_t k;
    for (k = 0; k < n; k++) { b[k] = (uint8_t)(v & 0xFFu); v >>= 8; }
}

MLRN_LEARNER__COLD mlrn_status mlrn_online_save(const mlrn_online *l, const mlrn_storage *st) {
    mlrn_persist_writer w;
    uint8_t h[MLRN_ONLINE__HEAD_LEN + MLRN_ONLINE__STATE_LEN], *v = h + MLRN_ONLINE__HEAD_LEN;
    uint32_t u32[10];
    uint8_t k;
    mlrn_status s;
    if (!l || !l->ready || !st) return MLRN_ERR_ARG;
    h[0] = MLRN_ONLINE_FORMAT; h[1] = l->n_classes;
    mlrn_online__wr(&h[2], l->d, 2); mlrn_online__wr(&h[4], l->hold_cap, 2); mlrn_online__wr(&h[6], l->lp.window, 2);
    v[0] = l->has_model; v[1] = l->pending; v[2] = l->lp.drift; v[3] = l->ddm.warn;
    mlrn_online__wr(&v[4], l->hold_n, 2); mlrn_online__wr(&v[6], l->win_pos, 2);
    mlrn_online__wr(&v[8], l->win_fill, 2); mlrn_online__wr(&v[10], l->win_err, 2);
    mlrn_online__wr(&v[12], l->mistakes_since, 2); mlrn_online__wr(&v[14], l->warn_hold, 2);
    mlrn_online__wr(&v[16], l->ddm.n, 2); mlrn_online__wr(&v[18], l->ddm.e, 2);
    u32[0] = l->ddm.q_min; u32[1] = l->ddm.s_min; u32[2] = l->n_seen; u32[3] = l->n_feedback;
    u32[4] = l->n_mistakes; u32[5] = l->n_retrains; u32[6] = l->n_accepted; u32[7] = l->n_rollbacks;
    u32[8] = l->n_drifts; u32[9] = l->n_updates;
    for (k = 0; k < 10u; k++) mlrn_online__wr(&v[20u + 4u * k], u32[k], 4);
    mlrn_online__wr(&v[60], l->last_cand_correct, 2); mlrn_online__wr(&v[62], l->last_cur_correct, 2);
    mlrn_online__wr(&v[64], l->last_hold_n, 2);
    for (k = 66; k < MLRN_ONLINE__STATE_LEN; k++) v[k] = 0u;
    s = mlrn_persist_save_begin(&w, st, MLRN_ONLINE_MAGIC, mlrn_online__len(l, l->hold_n));
    if (s == MLRN_OK) s = mlrn_persist_save_chunk(&w, h, (uint16_t)sizeof h);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->cur, 8u * (uint32_t)l->n_out * (l->d + 1u));
    if (s == MLRN_OK && l->hold_n) s = mlrn_learner__put_mem(&w, l->hold_x, 4u * (uint32_t)l->hold_n * l->d);
    if (s == MLRN_OK && l->hold_n) s = mlrn_learner__put_mem(&w, l->hold_y, l->hold_n);
    if (s == MLRN_OK && l->lp.window) s = mlrn_learner__put_mem(&w, l->win, l->lp.window);
    if (s == MLRN_OK) return mlrn_persist_save_end(&w);
    mlrn_persist_save_abort(&w);
    return s;
}

/* The accepted weights only (format 2: head, then n_out x (d + 1) floats): what fits a small EEPROM (a
 * 16-feature, 3-class learner: 212 bytes a slot). Loading it makes them the accepted and the candidate
 * weights and restarts the detector; the held-out rows and counters stay as they are.
 * MLRN_ERR_UNTRAINED before the first accepted weights. */
MLRN_LEARNER__COLD mlrn_status mlrn_online_save_model(const mlrn_online *l, const mlrn_storage *st) {
    mlrn_persist_writer w;
    uint8_t h[MLRN_ONLINE__HEAD_LEN];
    mlrn_status s;
    uint32_t nb;
    if (!l || !l->ready || !st) return MLRN_ERR_ARG;
    if (!l->has_model) return MLRN_ERR_UNTRAINED;
    nb = 4u * (uint32_t)l->n_out * (l->d + 1u);
    h[0] = MLRN_ONLINE_FORMAT_MODEL; h[1] = l->n_classes;
    mlrn_online__wr(&h[2], l->d, 2); mlrn_online__wr(&h[4], l->hold_cap, 2); mlrn_online__wr(&h[6], l->lp.window, 2);
    s = mlrn_persist_save_begin(&w, st, MLRN_ONLINE_MAGIC, MLRN_ONLINE__HEAD_LEN + nb);
    if (s == MLRN_OK) s = mlrn_persist_save_chunk(&w, h, (uint16_t)sizeof h);
    if (s == MLRN_OK) s = mlrn_learner__put_mem(&w, l->cur, nb);
    if (s == MLRN_OK) return mlrn_persist_save_end(&w);
    mlrn_persist_save_abort(&w);
    return s;
}

/* Pass 1 on the slot r is open on: head + state kept, CRC checked; then the values against this learner. */
MLRN_LEARNER__COLD mlrn_status mlrn_online__scan(const mlrn_online *l, mlrn_persist_reader *r, uint8_t *h) {
    const uint8_t *v = h + MLRN_ONLINE__HEAD_LEN;
    uint16_t hn;
    mlrn_status s;
    uint8_t model_only;
    if (r->info.tag != MLRN_ONLINE_MAGIC || r->info.len < MLRN_ONLINE__HEAD_LEN) return MLRN_ERR_CRC;
    s = mlrn_persist_read_chunk(r, h, (uint16_t)MLRN_ONLINE__HEAD_LEN);
    model_only = h[0] == MLRN_ONLINE_FORMAT_MODEL;
    if (s == MLRN_OK && !model_only) {
        if (r->info.len < MLRN_ONLINE__HEAD_LEN + MLRN_ONLINE__STATE_LEN) return MLRN_ERR_CRC;
        s = mlrn_persist_read_chunk(r, h + MLRN_ONLINE__HEAD_LEN, (uint16_t)MLRN_ONLINE__STATE_LEN);
    }
    if (s == MLRN_OK) s = mlrn_persist_read_end(r);
    if (s != MLRN_OK) return s;
    if (model_only) {
        if (h[1] != l->n_classes || mlrn_learner__rd16(&h[2]) != l->d) return MLRN_ERR_ARG;
        return r->info.len == MLRN_ONLINE__HEAD_LEN + 4u * (uint32_t)l->n_out * (l->d + 1u) ? MLRN_OK : MLRN_ERR_CRC;
    }
    if (h[0] != MLRN_ONLINE_FORMAT || h[1] != l->n_classes || mlrn_learner__rd16(&h[2]) != l->d ||
        mlrn_learner__rd16(&h[4]) != l->hold_cap || mlrn_learner__rd16(&h[6]) != l->lp.window || v[2] != l->lp.drift)
        return MLRN_ERR_ARG;   /* saved by a learner of another shape */
    hn = mlrn_learner__rd16(&v[4]);
    if (v[0] > 1u || v[1] > 1u || v[3] > 1u || hn > l->hold_cap ||
        (l->lp.window ? mlrn_learner__rd16(&v[6]) >= l->lp.window : mlrn_learner__rd16(&v[6]) != 0u) ||
        mlrn_learner__rd16(&v[8]) > l->lp.window || mlrn_learner__rd16(&v[10]) > mlrn_learner__rd16(&v[8]) ||
        mlrn_learner__rd16(&v[14]) > hn || mlrn_learner__rd16(&v[18]) > mlrn_learner__rd16(&v[16]) ||
        r->info.len != mlrn_online__len(l, hn))
        return MLRN_ERR_CRC;
    return MLRN_OK;
}

/* Restores the newest valid save. Refusals leave the learner unchanged: MLRN_ERR_CRC (no valid slot, not an
 * online learner's payload), MLRN_ERR_ARG (another n_classes, d, held-out capacity, window or detector),
 * MLRN_ERR_IO. A failure of the copy itself (the storage answered differently) leaves a learner with no
 * model and an empty held-out store; the slots are intact. */
static inline mlrn_status mlrn_online_load(mlrn_online *l, const mlrn_storage *st) {
    mlrn_persist_reader r;
    uint8_t h[MLRN_ONLINE__HEAD_LEN + MLRN_ONLINE__STATE_LEN], order[2], n, k, unreadable = 0;
    const uint8_t *v = h + MLRN_ONLINE__HEAD_LEN;
    mlrn_status s = MLRN_ERR_CRC, s1;
    uint16_t hn;
    uint32_t nw, t;
    if (!l || !l->ready || !st || !mlrn_persist__storage_ok(st)) return MLRN_ERR_ARG;
    n = mlrn_persist__candidates(st, order, &unreadable);
    for (k = 0; k < n; k++) {
        s1 = mlrn_persist_read_begin(&r, st, order[k]);
        if (s1 == MLRN_OK) s1 = mlrn_online__scan(l, &r, h);
        if (s1 == MLRN_OK) { s = MLRN_OK; break; }
        if (s1 == MLRN_ERR_ARG) return s1;
        if (s1 != MLRN_ERR_CRC) unreadable++;
    }
    if (s != MLRN_OK) return unreadable >= 2u ? MLRN_ERR_IO : MLRN_ERR_CRC;
    if (h[0] == MLRN_ONLINE_FORMAT_MODEL) {   /* the accepted weights: copied, checked, then also the candidate */
        nw = (uint32_t)l->n_out * (l->d + 1u);
        l->has_model = 0;
        s = mlrn_persist__read_rewind(&r);
        if (s == MLRN_OK) s = mlrn_persist__read_held(&r, h, (uint16_t)MLRN_ONLINE__HEAD_LEN);
        if (s == MLRN_OK) s = mlrn_learner__get_mem(&r, l->cur, 4u * nw);
        if (s == MLRN_OK) s = mlrn_persist_read_end(&r);
        for (t = 0; s == MLRN_OK && t < nw; t++)
            if (!mlrn_isfinite(l->cur[t])) s = MLRN_ERR_CRC;
        if (s < 0) return s;
        for (t = 0; t < nw; t++) l->cand[t] = l->cur[t];
        l->has_model = 1;
        mlrn_ddm_reset(&l->ddm);
        l->warn_hold = 0;
        l->event = MLRN_LEARNER_EV_NONE;
        return MLRN_OK;
    }
    /* pass 2: from here the buffers receive the copy */
    hn = mlrn_learner__rd16(&v[4]);
    nw = 2u * (uint32_t)l->n_out * (l->d + 1u);
    l->has_model = 0; l->hold_n = 0; l->pending = 0;
    mlrn_ddm_reset(&l->ddm);
    l->warn_hold = 0; l->win_pos = l->win_fill = l->win_err = 0;
    s = mlrn_persist__read_rewind(&r);
    if (s == MLRN_OK) s = mlrn_persist__read_held(&r, h, (uint16_t)(MLRN_ONLINE__HEAD_LEN + MLRN_ONLINE__STATE_LEN));
    if (s == MLRN_OK) s = mlrn_learner__get_mem(&r, l->cur, 4u * nw);
    if (s == MLRN_OK && hn) s = mlrn_learner__get_mem(&r, l->hold_x, 4u * (uint32_t)hn * l->d);
    if (s == MLRN_OK && hn) s = mlrn_learner__get_mem(&r, l->hold_y, hn);
    if (s == MLRN_OK && l->lp.window) s = mlrn_learner__get_mem(&r, l->win, l->lp.window);
    if (s == MLRN_OK) s = mlrn_persist_read_end(&r);
    if (s == MLRN_OK) {   /* what the loop indexes with or computes on, checked on the copy */
        for (t = 0; t < hn && s == MLRN_OK; t++)
            if (l->hold_y[t] >= l->n_classes) s = MLRN_ERR_CRC;
        for (nw = 0; nw < 2u * (uint32_t)l->n_out * (l->d + 1u) && s == MLRN_OK; nw++)
            if (!mlrn_isfinite(l->cur[nw])) s = MLRN_ERR_CRC;
        for (nw = 0; nw < (uint32_t)hn * l->d && s == MLRN_OK; nw++)
            if (!mlrn_isfinite(l->hold_x[nw])) s = MLRN_ERR_CRC;
        for (t = 0; t < l->lp.window && s == MLRN_OK; t++)
            if (l->win[t] & ~5u) s = MLRN_ERR_CRC;
    }
    if (s < 0) return s;
    l->has_model = v[0]; l->pending = v[1]; l->ddm.warn = v[3];
    l->hold_n = hn; l->win_pos = mlrn_learner__rd16(&v[6]); l->win_fill = mlrn_learner__rd16(&v[8]);
    l->win_err = mlrn_learner__rd16(&v[10]); l->mistakes_since = mlrn_learner__rd16(&v[12]);
    l->warn_hold = mlrn_learner__rd16(&v[14]); l->ddm.n = mlrn_learner__rd16(&v[16]);
    l->ddm.e = mlrn_learner__rd16(&v[18]);
    l->ddm.q_min = mlrn_persist__rd32(&v[20]); l->ddm.s_min = mlrn_persist__rd32(&v[24]);
    l->n_seen = mlrn_persist__rd32(&v[28]); l->n_feedback = mlrn_persist__rd32(&v[32]);
    l->n_mistakes = mlrn_persist__rd32(&v[36]); l->n_retrains = mlrn_persist__rd32(&v[40]);
    l->n_accepted = mlrn_persist__rd32(&v[44]); l->n_rollbacks = mlrn_persist__rd32(&v[48]);
    l->n_drifts = mlrn_persist__rd32(&v[52]); l->n_updates = mlrn_persist__rd32(&v[56]);
    l->last_cand_correct = mlrn_learner__rd16(&v[60]); l->last_cur_correct = mlrn_learner__rd16(&v[62]);
    l->last_hold_n = mlrn_learner__rd16(&v[64]);
    l->event = MLRN_LEARNER_EV_NONE;
    return MLRN_OK;
}

MLRN_FP_EXACT_END

#endif /* MLRN_ONLINE_H */
