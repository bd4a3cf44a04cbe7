"""Quantized export (dtype='int16' / 'int8').

Inputs: per-feature affine quantization q = clamp(round(x*a + c), -Q, Q) computed in float32 by
the generated NAME_quantize (mlrn_quant.h; mirrored here op by op). The user calls
NAME_predict(const float *x) with raw sensor floats, or NAME_predict_q(const int8_t/int16_t *q)
with already quantized values -- a feature whose calibration values are integers that fit the
type is mapped by the identity (a = 1, c = 0), so raw integer readings go straight in.

Per family (the float model's semantics otherwise):
* trees / forests: integer thresholds T = floor(t*a + c): for inputs on the quantization grid
  (in particular integer inputs under the identity map) q <= T <=> x <= t, exactly. The grid
  spans each feature's threshold range (values beyond the extreme thresholds all decide alike).
* linear models (and linear-kernel SVMs): int8/int16 weights with a per-row scale, bias as an
  integer, int32 accumulation (exact; the exporter bounds the weights so no sum can overflow);
  binary and one-vs-one decisions are integer sign tests, argmax/proba use float32(acc) * scale.
* kernel SVMs: int8/int16 support vectors on a grid with one step for every feature in the
  model's (scaled) space -- the kernel's metric is isotropic there -- so dot products and squared
  distances are exact integer sums; gamma * step^2 is folded into the kernel; dual coefficients
  and the sums over support vectors stay float32.
* GaussianNB: int8/int16 means, exact integer squared differences, float32 weighted sum.
Calibration (the range of each feature): `calib_X` (training data, raw inputs), else the
Pipeline's scaler, else the model's own statistics where it has them (tree thresholds, support
vectors, GaussianNB means/variances).
"""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32

from .linear import (LINEAR_CLASSIFIERS, _binary_proba, expit_mirror, linear_params, ovo_to_ovr_mirror,
                     ovr_proba_mirror, softmax_mirror, vote_mirror)
from .model import CModel, Table, f32, quant_round
from .ensemble import TREE_REGRESSORS, additive_of, lower_additive
from .regress import LINEAR_REGRESSORS
from .svm import (attach_mirrors, check_ovo_limits, combine_kernel_values, from_sklearn, from_smo,
                  kernel_params)
from .tree import lower_trees

QTYPES = {"int8": ("int8_t", 127, "i8", "q8"), "int16": ("int16_t", 32767, "i16", "q16")}
I31 = 2 ** 31 - 1


class InputQuant:
    """q = clamp(round_half_up(x*a + c), -Q, Q) in float32 (a, c: float32 per feature)."""

    def __init__(self, a, c, Q, dtype, identity=None):
        self.a32 = f32(a)
        self.c32 = f32(c)
        self.Q = int(Q)
        self.dtype = dtype
        self.ctype, self.qmax_type, self.fs, self.ts = QTYPES[dtype]
        self.identity = np.zeros(len(self.a32), bool) if identity is None else np.asarray(identity, bool)
        self.a32[self.identity] = 1.0
        self.c32[self.identity] = 0.0

    @property
    def d(self):
        return len(self.a32)

    def __call__(self, X) -> np.ndarray:
        """The generated NAME_quantize, op by op (int64 result)."""
        X = f32(X)
        v = (X * self.a32[None, :]).astype(np.float32) + self.c32[None, :]
        return quant_round(v, self.Q)

    def grid_index(self, x64) -> np.ndarray:
        """Round x*a + c (float64, raw-unit values x per feature in the last axis) to the grid."""
        v = np.asarray(x64, np.float64) * self.a32.astype(np.float64) + self.c32.astype(np.float64)
        return np.clip(np.floor(v + 0.5), -self.Q, self.Q).astype(np.int64)

    def tables(self):
        return [Table("qa", "float", self.a32), Table("qc", "float", self.c32)]

    def c_helper(self, N):
        return (f"/* Raw float inputs -> the quantized inputs the _q entry points take. */\n"
                f"static inline void {N}_quantize(const float *x, {self.ctype} *q) {{\n"
                f"    mlrn_quant_to_{self.fs}({N}_qa, {N}_qc, {N}_N_FEATURES, {self.Q}, x, q);\n}}")


def _integer_columns(X, Q):
    if X is None:
        return None
    X = np.asarray(X, dtype=np.float64)
    finite = np.all(np.isfinite(X), axis=0)
    return finite & np.all(X == np.round(X), axis=0) & (X.min(axis=0) >= -Q) & (X.max(axis=0) <= Q)


def from_ranges(lo, hi, Q, dtype, alpha=None, beta=None, step=None, center=None, identity=None):
    """Per-feature grid in model space u = alpha*x + beta: q = (u - center)/step, mapped back
    to raw x: a = alpha/step, c = (beta - center)/step. Defaults: raw space, each feature's
    [lo, hi] onto [-Q, Q]."""
    lo = np.asarray(lo, np.float64)
    hi = np.asarray(hi, np.float64)
    d = len(lo)
    alpha = np.ones(d) if alpha is None else np.asarray(alpha, np.float64)
    beta = np.zeros(d) if beta is None else np.asarray(beta, np.float64)
    span = hi - lo
    if step is None:
        step = np.where(span > 0, span, np.maximum(np.abs(hi), 1.0)) / (2.0 * Q)
    step = np.broadcast_to(np.asarray(step, np.float64), (d,))
    step = np.where(step > 0, step, 1.0)
    if center is None:
        center = (lo + hi) / 2
    center = np.broadcast_to(np.asarray(center, np.float64), (d,))
    return InputQuant(alpha / step, (beta - center) / step, Q, dtype, identity)


def scaler_ranges(prescale, n_std=4.0):
    """Raw-input [lo, hi] per feature from the first scaler of a Pipeline (None without one)."""
    if not prescale:
        return None
    s = prescale.steps[0]
    name = type(s).__name__
    if name == "StandardScaler":
        mean = np.zeros(prescale.n_features) if getattr(s, "mean_", None) is None else np.asarray(s.mean_, float)
        sc = np.ones(prescale.n_features) if getattr(s, "scale_", None) is None else np.asarray(s.scale_, float)
        return mean - n_std * sc, mean + n_std * sc
    if name == "MinMaxScaler":
        return np.asarray(s.data_min_, float), np.asarray(s.data_max_, float)
    if name == "MaxAbsScaler":
        m = np.asarray(s.max_abs_, float)
        return -m, m
    return None


def _calib_ranges(calib_X, prescale, what):
    if calib_X is not None:
        X = np.asarray(calib_X, dtype=np.float64)
        X = X[np.all(np.isfinite(X), axis=1)]
        if len(X):
            return X.min(axis=0), X.max(axis=0)
    r = scaler_ranges(prescale)
    if r is None:
        raise ValueError(f"quantized export of {what} needs calibration data: pass calib_X= (training "
                         "rows, raw inputs) or check_X=, or put a scaler in the Pipeline")
    return r


def wrap(m: CModel, iq: InputQuant, ram_q: int) -> CModel:
    """m's bodies/helpers take `const QT *x` (quantized) and its mirrors integer arrays: add
    NAME_quantize, NAME_*_q entry points and float entry points that quantize first."""
    N, QT, d = m.name, iq.ctype, m.n_features
    m.includes = list(dict.fromkeys(m.includes + ["mlrn_quant.h"]))
    m.tables = iq.tables() + m.tables
    parts = [m.helpers.rstrip("\n")] if m.helpers else []
    parts.append(iq.c_helper(N))
    parts.append(f"/* Index into classes_ for quantized inputs q (NAME_quantize, or raw integers for\n"
                 f" * features quantized by the identity: see NAME_QUANT_IDENTITY). */\n"
                 f"static inline int32_t {N}_predict_q(const {QT} *x) {{\n{m.predict_body.rstrip()}\n}}")
    call = f"    {QT} q[{d}];\n    {N}_quantize(x, q);\n"
    m.predict_body = call + f"    return {N}_predict_q(q);"
    if m.decision_body is not None:
        parts.append(f"static inline void {N}_decision_function_q(const {QT} *x, float *out) {{\n"
                     f"{m.decision_body.rstrip()}\n}}")
        m.decision_body = call + f"    {N}_decision_function_q(q, out);"
    if m.proba_body is not None:
        parts.append(f"static inline void {N}_predict_proba_q(const {QT} *x, float *out) {{\n"
                     f"{m.proba_body.rstrip()}\n}}")
        m.proba_body = call + f"    {N}_predict_proba_q(q, out);"
    m.helpers = "\n\n".join(parts)
    m.ram_bytes = ram_q + (1 if QT == "int8_t" else 2) * d
    m.extra_defines["QUANT_MAX"] = iq.Q
    ident = np.flatnonzero(iq.identity)
    m.extra_defines["QUANT_IDENTITY"] = ("0" if len(ident) == 0 else
                                         "1 /* all features: raw integers go straight into _q */"
                                         if len(ident) == d else
                                         f"0 /* identity-mapped features: {', '.join(map(str, ident[:40]))} */")
    m.dtype = iq.dtype
    for attr in ("ref_predict", "ref_decision", "ref_proba"):
        f = getattr(m, attr)
        if f is not None:
            setattr(m, attr + "_q", f)
            setattr(m, attr, (lambda g: (lambda X: g(iq(X))))(f))
    m.quantize = iq
    m.notes.append(f"{iq.dtype}: inputs quantized per feature, q = clamp(round(x*a + c), -{iq.Q}, {iq.Q}).")
    return m


# ---------------------------------------------------------------------------------------------
def lower_quantized(estimator, final, prescale, name, dtype, calib_X, *, fallback, **opts):
    """The int16/int8 lowering of `final`; fallback(final, prescale, name, **opts) is the float32 lowering
    (lower.lower_final), used for what has no quantized form and to raise its errors."""
    if dtype not in QTYPES:
        raise ValueError(dtype)
    cls = type(final).__name__
    mod = type(final).__module__
    if not hasattr(final, "classes_"):
        if mod.startswith("sklearn") and cls in LINEAR_REGRESSORS and hasattr(final, "coef_"):
            return lower_linear_regressor_q(final, name, prescale, dtype, calib_X)
        if mod.startswith("sklearn") and (cls in TREE_REGRESSORS or cls == "GradientBoostingRegressor"):
            return lower_tree_regressor_q(final, name, prescale, dtype, calib_X)
        return fallback(final, prescale, name, **opts)   # raises the right error
    if cls == "SMOClassifier" and mod.startswith("microlearn"):
        return lower_svm_q(from_smo(final), name, prescale, dtype, calib_X)
    if cls in ("SVC", "NuSVC") and mod.startswith("sklearn"):
        return lower_svm_q(from_sklearn(final), name, prescale, dtype, calib_X)
    if mod.startswith("sklearn"):
        if cls in LINEAR_CLASSIFIERS:
            kw = linear_params(final, prescale)
            return build_linear_q(name, dtype=dtype, calib_X=calib_X, prescale=prescale, **kw)
        if cls in ("DecisionTreeClassifier", "ExtraTreeClassifier", "RandomForestClassifier",
                   "ExtraTreesClassifier"):
            return lower_trees_q(final, name, prescale, dtype, calib_X)
        if cls == "GaussianNB":
            return lower_gnb_q(final, name, prescale, dtype, calib_X)
    return fallback(final, prescale, name, **opts)


# -- trees ---------------------------------------------------------------------------------------
def _tree_quant(calib_X, dtype, holder):
    """The quant callable of tree lowerings (tree.lower_trees, ensemble.lower_additive): each feature's grid
    spans its thresholds (identity for integer calibration columns), thresholds T = floor(t*a + c); the
    InputQuant is left in holder['iq']."""
    QT, Q, fs, ts = QTYPES[dtype]
    Qg = Q - 1

    def quant(feats, thr32, d):
        ident = _integer_columns(calib_X, Qg)
        lo = np.zeros(d)
        hi = np.zeros(d)
        used = np.zeros(d, bool)
        t64 = thr32.astype(np.float64)
        for k in range(d):
            sel = feats == k
            if sel.any():
                used[k] = True
                lo[k], hi[k] = t64[sel].min(), t64[sel].max()
        lo[~used], hi[~used] = -1.0, 1.0
        iq = from_ranges(lo, hi, Qg, dtype, identity=ident)
        iq.Q = Q
        v = t64 * iq.a32.astype(np.float64)[feats] + iq.c32.astype(np.float64)[feats]
        T = np.clip(np.floor(v), -Q - 1, Q).astype(np.int64)
        holder["iq"] = iq
        return T, QT, ts
    return quant


def lower_trees_q(est, N, prescale, dtype, calib_X):
    QT, Q, fs, ts = QTYPES[dtype]
    holder = {}
    quant = _tree_quant(calib_X, dtype, holder)
    m = lower_trees(est, N, prescale, {}, quant=quant)
    iq = holder.get("iq")
    if iq is None:    # no internal node at all
        iq = InputQuant(np.ones(m.n_features), np.zeros(m.n_features), Q, dtype)
    m = wrap(m, iq, m.ram_bytes)
    m.notes.append("Trees: integer thresholds floor(t*a + c): exact for inputs on the grid (integer inputs "
                   "under the identity map).")
    return m


# -- linear --------------------------------------------------------------------------------------
def quantize_rows(W, b, dtype, calib_X, prescale, source):
    """Rows w.x + b (float64, raw input units) -> (InputQuant, int weights Wq, int32 biases Bq, float32 row
    scales s32): score = float32(Wq.q + Bq) * s32 for q = the quantized input."""
    QT, Qt, fs, ts = QTYPES[dtype]
    W = np.atleast_2d(np.asarray(W, np.float64))
    b = np.atleast_1d(np.asarray(b, np.float64))
    rows, d = W.shape
    lo, hi = _calib_ranges(calib_X, prescale, source)
    iq = from_ranges(lo, hi, Qt, dtype, identity=_integer_columns(calib_X, Qt))
    a64, c64 = iq.a32.astype(np.float64), iq.c32.astype(np.float64)
    V = W / a64[None, :]                    # score = V.q + b'  (x = (q - c)/a)
    bp = b - V @ c64
    absV = np.abs(V).sum(axis=1)
    s_min = absV * Qt / 2.0 ** 30          # no int32 overflow: sum |W| * Q <= 2^30
    s = np.maximum(np.abs(V).max(axis=1) / Qt, s_min)
    if calib_X is not None:
        # a few large weights (e.g. of near-constant features folded through a StandardScaler) can
        # make every other weight coarse: pick, per row, the scale (clipping the largest weights
        # or not) with the smallest mean squared score error on the calibration rows
        Qc = iq(np.asarray(calib_X, np.float32))
        exact = Qc @ V.T + bp[None, :]
        for r in range(rows):
            best = None
            for j in range(8):
                sj = max(s[r] / 2.0 ** j, s_min[r])
                sj = float(np.float32(sj)) if sj > 0 else 1.0
                wq = np.clip(np.rint(V[r] / sj), -Qt, Qt)
                bq = np.rint(bp[r] / sj)
                err = np.mean(((Qc @ wq + bq) * sj - exact[:, r]) ** 2)
                if best is None or err < best[0]:
                    best = (err, sj)
            s[r] = best[1]
    s = np.where(s > 0, s, 1.0)
    s32 = f32(s)
    s64 = s32.astype(np.float64)
    Wq = np.clip(np.rint(V / s64[:, None]), -Qt, Qt).astype(np.int64)
    lim = I31 - np.abs(Wq).sum(axis=1) * Qt
    Bq = np.clip(np.rint(bp / s64), -lim, lim).astype(np.int64)
    return iq, Wq, Bq, s32


def build_linear_q(N, source, W, b, classes, *, rule, proba=None, decision="scores", notes=(), dtype="int16",
                   calib_X=None, prescale=None):
    """W, b: float64 rows in raw input units (scalers folded)."""
    QT, Qt, fs, ts = QTYPES[dtype]
    W = np.atleast_2d(np.asarray(W, np.float64))
    b = np.atleast_1d(np.asarray(b, np.float64))
    rows, d = W.shape
    iq, Wq, Bq, s32 = quantize_rows(W, b, dtype, calib_X, prescale, source)
    n_classes = len(classes)
    m = CModel(name=N, source=source, n_features=d, classes=np.asarray(classes),
               includes=["mlrn_linear.h"] + (["mlrn_svm.h"] if rule == "ovo" else []),
               tables=[Table("wq", QT, Wq), Table("bq", "int32_t", Bq), Table("qs", "float", s32)],
               notes=list(notes) + [f"Weights {QT} with a float32 scale per row, int32 accumulation."])
    m.extra_defines["N_ROWS"] = rows
    dot = f"mlrn_quant_{ts}_dot"
    acc_r = f"{dot}(&{N}_wq[(uint32_t)r * {N}_N_FEATURES], mlrn_flash_i32(&{N}_bq[r]), {N}_N_FEATURES, x)"
    m.helpers = (f"static inline void {N}_scores_q(const {QT} *x, float *out) {{\n    uint16_t r;\n"
                 f"    for (r = 0; r < {rows}; r++) out[r] = (float){acc_r} * mlrn_flash_f32(&{N}_qs[r]);\n}}")
    ram = [0]
    if rule in ("gt", "ge"):
        op = ">" if rule == "gt" else ">="
        m.predict_body = (f"    return {dot}({N}_wq, mlrn_flash_i32(&{N}_bq[0]), {N}_N_FEATURES, x) {op} 0 ? 1 : 0;")
    elif rule == "argmax":
        m.predict_body = (f"    int32_t best = 0;\n    float best_f = 0.0f;\n    uint16_t r;\n"
                          f"    for (r = 0; r < {rows}; r++) {{\n"
                          f"        float f = (float){acc_r} * mlrn_flash_f32(&{N}_qs[r]);\n"
                          f"        if (r == 0 || f > best_f) {{ best_f = f; best = (int32_t)r; }}\n    }}\n"
                          f"    return best;")
    else:
        m.predict_body = (f"    uint16_t votes[{n_classes}];\n    uint16_t p, q2, r = 0, best = 0;\n"
                          f"    for (p = 0; p < {n_classes}; p++) votes[p] = 0;\n"
                          f"    for (p = 0; p < {n_classes}; p++)\n"
                          f"        for (q2 = (uint16_t)(p + 1u); q2 < {n_classes}; q2++, r++) {{\n"
                          f"            if ({acc_r} >= 0) votes[q2]++;\n            else votes[p]++;\n        }}\n"
                          f"    for (p = 1; p < {n_classes}; p++)\n        if (votes[p] > votes[best]) best = p;\n"
                          f"    return (int32_t)best;")
        ram.append(2 * n_classes)

    def accs(Q):
        Q = np.asarray(Q, np.int64)
        return Q @ Wq.T + Bq[None, :]

    def scores(Q):
        A = accs(Q)
        return (A.astype(np.float64).astype(np.float32) * s32[None, :]).astype(np.float32)

    if rule == "gt":
        m.ref_predict = lambda Q: (accs(Q)[:, 0] > 0).astype(np.int64)
    elif rule == "ge":
        m.ref_predict = lambda Q: (accs(Q)[:, 0] >= 0).astype(np.int64)
    elif rule == "argmax":
        m.ref_predict = lambda Q: np.argmax(scores(Q), axis=1)
    else:
        m.ref_predict = lambda Q: vote_mirror(np.where(accs(Q) >= 0, 1.0, -1.0).astype(np.float32), n_classes)

    if decision == "scores":
        m.n_decision = rows
        m.decision_body = f"    {N}_scores_q(x, out);"
        m.ref_decision = scores
    elif decision == "neg_scores":
        m.n_decision = rows
        m.decision_body = (f"    uint16_t r;\n    {N}_scores_q(x, out);\n"
                           f"    for (r = 0; r < {rows}; r++) out[r] = -out[r];")
        m.ref_decision = lambda Q: -scores(Q)
    elif decision == "ovo_ovr":
        m.n_decision = n_classes
        m.decision_body = (f"    float f[{rows}];\n    {N}_scores_q(x, f);\n"
                           f"    mlrn_svm_ovo_to_ovr(f, {n_classes}, out);")
        m.ref_decision = lambda Q: ovo_to_ovr_mirror(scores(Q), n_classes)
        ram.append(4 * rows)
    if proba == "expit":
        m.proba_body = (f"    float f;\n    {N}_scores_q(x, &f);\n    f = mlrn_linear_expit(f);\n"
                        f"    out[0] = 1.0f - f;\n    out[1] = f;")
        m.ref_proba = lambda Q: _binary_proba(expit_mirror(scores(Q)[:, 0]))
    elif proba == "softmax":
        m.proba_body = f"    {N}_scores_q(x, out);\n    mlrn_linear_softmax(out, {rows});"
        m.ref_proba = lambda Q: softmax_mirror(scores(Q))
    elif proba == "ovr":
        m.proba_body = f"    {N}_scores_q(x, out);\n    mlrn_linear_ovr_proba(out, {rows});"
        m.ref_proba = lambda Q: ovr_proba_mirror(scores(Q))
    return wrap(m, iq, max(ram))


# -- kernel SVMs ---------------------------------------------------------------------------------
def lower_svm_q(t, N, prescale, dtype, calib_X):
    QT, Qt, fs, ts = QTYPES[dtype]
    n = t.n_classes
    check_ovo_limits(t)
    if t.kernel == "linear":
        W, b = t.pair_weights64(), t.b
        if prescale:
            W, b = prescale.fold(W, b)
        rule = {"binary": "ge", "ovo": "ovo", "ovr": "argmax"}[t.mode]
        if calib_X is None and not prescale:    # the support vectors span the data
            calib_X = t.sv
        return build_linear_q(N, t.source, W, b, t.classes, rule=rule, decision=t.decision, dtype=dtype,
                              calib_X=calib_X, prescale=prescale,
                              notes=["Linear kernel: support vectors collapsed to one w.x + b row per sub-problem."])
    if prescale:
        prescale.check_c()
        alpha, beta = prescale.affine64()
    else:
        alpha, beta = np.ones(t.sv.shape[1]), np.zeros(t.sv.shape[1])
    sv = t.sv
    n_sv, d = sv.shape
    lo, hi = sv.min(axis=0), sv.max(axis=0)
    if calib_X is not None:
        U = np.asarray(calib_X, np.float64) * alpha + beta
        U = U[np.all(np.isfinite(U), axis=1)]
        if len(U):
            lo, hi = np.minimum(lo, U.min(axis=0)), np.maximum(hi, U.max(axis=0))
    rbf = t.kernel == "rbf"
    if rbf:
        Q = Qt if dtype == "int8" else min(Qt, int(np.floor(np.sqrt((2.0 ** 32 - 1) / d) / 2)))
        step = float(np.max(hi - lo)) / (2 * Q)
        center = (lo + hi) / 2
    else:
        Q = Qt if dtype == "int8" else min(Qt, int(np.floor(np.sqrt(I31 / d))))
        step = float(np.max(np.maximum(np.abs(lo), np.abs(hi)))) / Q
        center = np.zeros(d)
    step = step if step > 0 else 1.0
    iq = from_ranges(lo, hi, Q, dtype, alpha=alpha, beta=beta, step=step, center=center)
    SVq = np.clip(np.floor((sv - center) / step + 0.5), -Q, Q).astype(np.int64)
    g32 = np.float32(t.gamma * step * step)
    c32 = np.float32(t.coef0)
    coef32, b32 = f32(t.coef), f32(t.b)
    m = CModel(name=N, source=t.source, n_features=d, classes=t.classes, includes=["mlrn_svm.h", "mlrn_quant.h"])
    m.kernels = [t.kernel]
    m.tables = [Table("sv", QT, SVq), Table("coef", "float", coef32), Table("b", "float", b32)]
    sv_class = None
    if t.mode == "ovo":
        sv_class = np.asarray(t.sv_start)
        m.tables.append(Table("sv_class", "uint8_t", sv_class))
    m.extra_defines["N_SV"] = n_sv
    m.notes.append(f"Support vectors {QT} on a common grid step {step:.6g} in the model's input space "
                   f"(gamma*step^2 folded into the kernel); dual coefficients float32.")
    kp = kernel_params(t.kernel, t.degree, g32, c32)
    rows = {"binary": 1, "ovo": n * (n - 1) // 2, "ovr": n}[t.mode]
    if t.mode == "binary":
        call = f"mlrn_quant_svm_binary_{fs}(&kp, {N}_sv, {N}_coef, mlrn_flash_f32(&{N}_b[0]), {n_sv}, {N}_N_FEATURES, x)"
        m.predict_body = kp + f"    return {call} >= 0.0f ? 1 : 0;"
        m.decision_body = kp + f"    out[0] = {call};"
        ram = 0
    elif t.mode == "ovo":
        fill = (f"    mlrn_quant_svm_ovo_{fs}(&kp, {N}_sv, {N}_coef, {N}_b, {N}_sv_class, {n}, {n_sv}, "
                f"{N}_N_FEATURES, x, f);\n")
        m.predict_body = kp + f"    float f[{rows}];\n    uint16_t votes[{n}];\n" + fill + \
            f"    return mlrn_svm_ovo_vote(f, {n}, votes);"
        ram = 4 * rows + 2 * n
        if t.decision == "ovo_ovr":
            m.decision_body = kp + f"    float f[{rows}];\n" + fill + f"    mlrn_svm_ovo_to_ovr(f, {n}, out);"
        elif t.decision == "neg_scores":
            m.decision_body = kp + "    uint16_t i;\n" + fill.replace(", f);", ", out);") + \
                f"    for (i = 0; i < {rows}; i++) out[i] = -out[i];"
        else:
            m.decision_body = kp + fill.replace(", f);", ", out);")
    else:
        fill = f"    mlrn_quant_svm_ovr_{fs}(&kp, {N}_sv, {N}_coef, {N}_b, {n}, {n_sv}, {N}_N_FEATURES, x, f);\n"
        m.predict_body = kp + f"    float f[{n}];\n" + fill + f"    return mlrn_linear_argmax_f32(f, {n});"
        m.decision_body = kp + fill.replace(", f);", ", out);")
        m.includes.append("mlrn_linear.h")
        ram = 4 * n
    m.n_decision = {"binary": 1, "ovo": n if t.decision == "ovo_ovr" else rows, "ovr": n}[t.mode]

    def decisions(Qx):
        Qx = np.asarray(Qx, np.int64)
        K = np.empty((Qx.shape[0], n_sv), dtype=np.float32)
        for s in range(n_sv):
            diff = Qx - SVq[s][None, :]
            acc = (diff * diff).sum(axis=1) if rbf else Qx @ SVq[s]
            K[:, s] = _f32.kernel_finish(t.kernel, acc.astype(np.float64).astype(np.float32), g32, c32, t.degree)
        return combine_kernel_values(t, K, coef32, b32)

    attach_mirrors(m, t, decisions)
    return wrap(m, iq, ram)


# -- GaussianNB ----------------------------------------------------------------------------------
def lower_gnb_q(est, N, prescale, dtype, calib_X):
    QT, Q, fs, ts = QTYPES[dtype]
    theta = np.asarray(est.theta_, dtype=np.float64)
    var = np.asarray(est.var_, dtype=np.float64)
    prior = np.asarray(est.class_prior_, dtype=np.float64)
    C, d = theta.shape
    if prescale:
        prescale.check_c()
        alpha, beta = prescale.affine64()
    else:
        alpha, beta = np.ones(d), np.zeros(d)
    sd = np.sqrt(var)
    lo, hi = (theta - 4 * sd).min(axis=0), (theta + 4 * sd).max(axis=0)
    if calib_X is not None:
        U = np.asarray(calib_X, np.float64) * alpha + beta
        U = U[np.all(np.isfinite(U), axis=1)]
        if len(U):
            lo, hi = np.minimum(lo, U.min(axis=0)), np.maximum(hi, U.max(axis=0))
    span = hi - lo
    step = np.where(span > 0, span, 1.0) / (2.0 * Q)
    center = (lo + hi) / 2
    iq = from_ranges(lo, hi, Q, dtype, alpha=alpha, beta=beta, step=step, center=center)
    Th = np.clip(np.floor((theta - center[None, :]) / step[None, :] + 0.5), -Q, Q).astype(np.int64)
    cst = np.log(prior) - 0.5 * np.sum(np.log(2.0 * np.pi * var), axis=1)
    w32 = f32(-0.5 / var * step[None, :] ** 2)
    cst32 = f32(cst)
    m = CModel(name=N, source="sklearn GaussianNB", n_features=d, classes=est.classes_,
               includes=["mlrn_quant.h", "mlrn_linear.h"])
    m.tables = [Table("theta", QT, Th), Table("w", "float", w32), Table("cst", "float", cst32)]
    m.notes.append(f"Means {QT} on each feature's grid; exact integer squared differences, float32 weighted sum.")
    jll = f"mlrn_quant_nb_jll_{fs}(&{N}_theta[(uint32_t)c * {d}u], &{N}_w[(uint32_t)c * {d}u], mlrn_flash_f32(&{N}_cst[c]), {d}, x)"
    m.predict_body = (f"    int32_t best = 0;\n    float best_f = 0.0f;\n    uint16_t c;\n"
                      f"    for (c = 0; c < {C}; c++) {{\n        float f = {jll};\n"
                      f"        if (c == 0 || f > best_f) {{ best_f = f; best = (int32_t)c; }}\n    }}\n    return best;")
    m.proba_body = (f"    uint16_t c;\n    for (c = 0; c < {C}; c++) out[c] = {jll};\n    mlrn_linear_softmax(out, {C});")

    def jlls(Qx):
        Qx = np.asarray(Qx, np.int64)
        J = np.empty((Qx.shape[0], C), dtype=np.float32)
        for c in range(C):
            acc = np.zeros(Qx.shape[0], dtype=np.float32)
            for k in range(d):
                t_ = Qx[:, k] - Th[c, k]
                sq = (t_ * t_).astype(np.float64).astype(np.float32)
                acc = (acc + (sq * w32[c, k]).astype(np.float32)).astype(np.float32)
            J[:, c] = acc + cst32[c]
        return J

    m.ref_predict = lambda Qx: np.argmax(jlls(Qx), axis=1)
    m.ref_proba = lambda Qx: softmax_mirror(jlls(Qx))
    return wrap(m, iq, 0)


# -- linear regressors -----------------------------------------------------------------------------
def lower_linear_regressor_q(est, N, prescale, dtype, calib_X):
    """A linear regressor with int8/int16 weights: value = float32(int32 acc) * scale per output, the inputs
    quantized as for the classifiers (NAME_quantize); NAME_predict_value_q / NAME_predict_values_q take
    quantized inputs. The integer sum is exact; the error is the quantization of weights and inputs."""
    QT, Qt, fs, ts = QTYPES[dtype]
    W = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
    b = np.broadcast_to(np.asarray(est.intercept_, dtype=np.float64).reshape(-1), (W.shape[0],)).copy()
    notes = []
    if prescale:
        W, b = prescale.fold(W, b)
        notes.append(f"{prescale.describe()} folded into the weights.")
    source = f"sklearn {type(est).__name__}"
    iq, Wq, Bq, s32 = quantize_rows(W, b, dtype, calib_X, prescale, source)
    rows, d = Wq.shape
    m = CModel(name=N, source=source, n_features=d, classes=np.asarray([]), includes=["mlrn_linear.h", "mlrn_quant.h"],
               tables=iq.tables() + [Table("wq", QT, Wq), Table("bq", "int32_t", Bq), Table("qs", "float", s32)],
               notes=notes + [f"Weights {QT} with a float32 scale per output, int32 accumulation.",
                              f"{dtype}: inputs quantized per feature, q = clamp(round(x*a + c), -{Qt}, {Qt})."])
    dot = f"mlrn_quant_{ts}_dot"
    parts = [iq.c_helper(N)]
    call = f"    {QT} q[{d}];\n    {N}_quantize(x, q);\n"
    if rows == 1:
        parts.append(f"/* The value for quantized inputs q (NAME_quantize, or raw integers for identity-mapped\n"
                     f" * features: see NAME_QUANT_IDENTITY). */\n"
                     f"static inline float {N}_predict_value_q(const {QT} *x) {{\n"
                     f"    return (float){dot}({N}_wq, mlrn_flash_i32(&{N}_bq[0]), {N}_N_FEATURES, x) * "
                     f"mlrn_flash_f32(&{N}_qs[0]);\n}}")
        m.value_body = call + f"    return {N}_predict_value_q(q);"
    else:
        parts.append(f"/* The {rows} values for quantized inputs q. */\n"
                     f"static inline void {N}_predict_values_q(const {QT} *x, float *out) {{\n    uint16_t r;\n"
                     f"    for (r = 0; r < {rows}; r++)\n"
                     f"        out[r] = (float){dot}(&{N}_wq[(uint32_t)r * {N}_N_FEATURES], mlrn_flash_i32(&{N}_bq[r]), "
                     f"{N}_N_FEATURES, x) * mlrn_flash_f32(&{N}_qs[r]);\n}}")
        m.value_body = call + f"    {N}_predict_values_q(q, out);"
    m.helpers = "\n\n".join(parts)
    m.n_outputs = rows
    m.ram_bytes = (1 if QT == "int8_t" else 2) * d
    m.extra_defines["QUANT_MAX"] = iq.Q
    ident = np.flatnonzero(iq.identity)
    m.extra_defines["QUANT_IDENTITY"] = ("0" if len(ident) == 0 else "1" if len(ident) == d else
                                         f"0 /* identity-mapped features: {', '.join(map(str, ident[:40]))} */")
    m.dtype = dtype

    def values_q(Q):
        A = np.asarray(Q, np.int64) @ Wq.T + Bq[None, :]
        return (A.astype(np.float64).astype(np.float32) * s32[None, :]).astype(np.float32)

    m.ref_value_q = values_q
    m.ref_value = lambda X: values_q(iq(X))
    m.quantize = iq
    return m


def _regressor_q(m: CModel, iq: InputQuant, raw_q, QT: str, one_expr: str, multi_stmt: str) -> CModel:
    """A regressor whose helpers compute from quantized inputs: NAME_quantize, NAME_predict_value(s)_q (the
    given body), and NAME_predict_value(s) on raw floats that quantizes first."""
    N, d, rows = m.name, m.n_features, m.n_outputs
    parts = ([m.helpers.rstrip("\n")] if m.helpers else []) + [iq.c_helper(N)]
    call = f"    {QT} q[{d}];\n    {N}_quantize(x, q);\n"
    if rows == 1:
        parts.append(f"/* The value for quantized inputs q (NAME_quantize, or raw integers for identity-mapped\n"
                     f" * features: see NAME_QUANT_IDENTITY). */\n"
                     f"static inline float {N}_predict_value_q(const {QT} *x) {{\n    return {one_expr};\n}}")
        m.value_body = call + f"    return {N}_predict_value_q(q);"
    else:
        parts.append(f"/* The {rows} values for quantized inputs q. */\n"
                     f"static inline void {N}_predict_values_q(const {QT} *x, float *out) {{\n{multi_stmt}\n}}")
        m.value_body = call + f"    {N}_predict_values_q(q, out);"
    m.helpers = "\n\n".join(parts)
    m.includes = list(dict.fromkeys(m.includes + ["mlrn_quant.h"]))
    m.tables = iq.tables() + m.tables
    m.ram_bytes = m.ram_bytes + (1 if QT == "int8_t" else 2) * d
    m.extra_defines["QUANT_MAX"] = iq.Q
    ident = np.flatnonzero(iq.identity)
    m.extra_defines["QUANT_IDENTITY"] = ("0" if len(ident) == 0 else "1" if len(ident) == d else
                                         f"0 /* identity-mapped features: {', '.join(map(str, ident[:40]))} */")
    m.dtype = iq.dtype
    m.ref_value_q = raw_q
    m.ref_value = lambda X: raw_q(iq(X))
    m.quantize = iq
    m.notes.append(f"{iq.dtype}: inputs quantized per feature, q = clamp(round(x*a + c), -{iq.Q}, {iq.Q}).")
    return m


def lower_tree_regressor_q(est, N, prescale, dtype, calib_X):
    """Tree regressors, forests and GradientBoosting with integer thresholds (as the classifier trees:
    exact for inputs on the grid) and float32 leaf values summed as in the float32 export."""
    QT = QTYPES[dtype][0]
    add, source, notes = additive_of(est)
    holder = {}
    m, raw_q = lower_additive(add, N, prescale, source, notes, quant=_tree_quant(calib_X, dtype, holder))
    iq = holder.get("iq") or InputQuant(np.ones(m.n_features), np.zeros(m.n_features), QTYPES[dtype][1], dtype)
    m.n_outputs = add.n_out
    m.notes.append("Trees: integer thresholds floor(t*a + c): exact for inputs on the grid (integer inputs "
                   "under the identity map).")
    return _regressor_q(m, iq, raw_q, QT, f"{N}_raw(x)", f"    {N}_raw(x, out);")
