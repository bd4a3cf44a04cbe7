"""Linear models (and linear-kernel SVMs, collapsed): one w.x + b row per class / pair."""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32
from .model import CModel, Table, f32

LINEAR_CLASSIFIERS = ("LogisticRegression", "LinearSVC", "SGDClassifier", "Perceptron", "RidgeClassifier",
                      "LogisticRegressionCV", "RidgeClassifierCV", "PassiveAggressiveClassifier")


def scores_mirror(X, W32, b32):
    """The C's mlrn_linear_score for every row of W: (n, rows) float32."""
    X = f32(X)
    out = np.empty((X.shape[0], W32.shape[0]), dtype=np.float32)
    for r in range(W32.shape[0]):
        out[:, r] = _f32.dot_rows(X, W32[r]) + b32[r]
    return out


# MLRN_LINEAR_PROBA_MIN_LOG (mlrn_linear.h): no probability term below e^-80, so none is subnormal.
PROBA_MIN_LOG = np.float32(-80.0)


FLT_MAX = np.float32(np.finfo(np.float32).max)


def proba_arg_mirror(S):
    """mlrn_linear__proba_arg: NaN -> -FLT_MAX, +-inf -> +-FLT_MAX, finite values unchanged."""
    S = f32(S)
    return np.where(np.isnan(S), -FLT_MAX, np.clip(S, -FLT_MAX, FLT_MAX)).astype(np.float32)


def softmax_mirror(S):
    S = proba_arg_mirror(S).copy()
    m = S.max(axis=1)
    D = (S - m[:, None]).ravel()
    E = np.where(D < PROBA_MIN_LOG, np.float32(0.0), _f32.expf(D)).reshape(S.shape)   # mlrn_linear_softmax
    s = np.zeros(S.shape[0], dtype=np.float32)
    for j in range(S.shape[1]):
        s = s + E[:, j]
    return (E / s[:, None]).astype(np.float32)


def expit_mirror(f):
    f = proba_arg_mirror(f)
    f = np.where(f < PROBA_MIN_LOG, PROBA_MIN_LOG, f)          # mlrn_linear_expit's floor
    return (np.float32(1.0) / (np.float32(1.0) + _f32.expf(-f).reshape(f.shape))).astype(np.float32)


def ovr_proba_mirror(S):
    P = expit_mirror(S.ravel()).reshape(S.shape)
    s = np.zeros(S.shape[0], dtype=np.float32)
    for j in range(S.shape[1]):
        s = s + P[:, j]
    return (P / s[:, None]).astype(np.float32)


def vote_mirror(F, n_classes):
    """mlrn_svm_ovo_vote: f >= 0 -> q, argmax of votes, ties to the lowest index."""
    votes = np.zeros((F.shape[0], n_classes), dtype=np.int32)
    k = 0
    for p in range(n_classes):
        for q in range(p + 1, n_classes):
            ge = F[:, k] >= 0
            votes[ge, q] += 1
            votes[~ge, p] += 1
            k += 1
    return np.argmax(votes, axis=1)


def ovo_to_ovr_mirror(F, n_classes):
    n = F.shape[0]
    out = np.zeros((n, n_classes), dtype=np.float32)
    k = 0
    for p in range(n_classes):
        for q in range(p + 1, n_classes):
            out[:, p] = out[:, p] - F[:, k]
            out[:, q] = out[:, q] + F[:, k]
            k += 1
    out = (out / (np.float32(3.0) * (np.abs(out) + np.float32(1.0)))).astype(np.float32)
    k = 0
    for p in range(n_classes):
        for q in range(p + 1, n_classes):
            gt = F[:, k] > 0
            out[gt, q] = out[gt, q] + np.float32(1.0)
            out[~gt, p] = out[~gt, p] + np.float32(1.0)
            k += 1
    return out


def build_linear(N, source, W, b, classes, *, rule, proba=None, decision="scores", notes=()):
    """rule: 'gt' (binary, f > 0 -> 1: scikit-learn's linear models), 'ge' (binary, f >= 0 -> 1:
    SVMs), 'argmax' (one row per class, first maximum), 'ovo' (one row per pair, libsvm voting).
    proba: None | 'expit' | 'softmax' | 'ovr'. decision: 'scores' | 'neg_scores' | 'ovo_ovr' | None."""
    W32 = f32(np.atleast_2d(W))
    b32 = f32(np.atleast_1d(b))
    rows, d = W32.shape
    n_classes = len(classes)
    m = CModel(name=N, source=source, n_features=d, classes=np.asarray(classes),
               includes=["mlrn_linear.h"] + (["mlrn_svm.h"] if rule == "ovo" else []),
               tables=[Table("w", "float", W32), Table("b", "float", b32)], notes=list(notes))
    m.extra_defines["N_ROWS"] = rows
    args = f"{N}_w, {N}_b, {rows}, {N}_N_FEATURES, x"
    if rule in ("gt", "ge"):
        op = ">" if rule == "gt" else ">="
        m.predict_body = f"    return mlrn_linear_score({N}_w, mlrn_flash_f32(&{N}_b[0]), {N}_N_FEATURES, x) {op} 0.0f ? 1 : 0;"
        pred_ram = 0
    elif rule == "argmax" and rows >= 3:
        # predict compares rows r >= 1 with row 0 through difference rows (w_r - w_0, b_r - b_0,
        # in float64, then float32): one row fewer of float work; same argmax in exact arithmetic
        W64 = np.asarray(np.atleast_2d(W), dtype=np.float64)
        b64 = np.asarray(np.atleast_1d(b), dtype=np.float64)
        Wd32 = f32(W64[1:] - W64[:1])
        bd32 = f32(b64[1:] - b64[:1])
        m.tables += [Table("wd", "float", Wd32), Table("bd", "float", bd32)]
        m.predict_body = f"    return mlrn_linear_argmax_vs0({N}_wd, {N}_bd, {rows - 1}, {N}_N_FEATURES, x);"
        pred_ram = 0
    elif rule == "argmax":
        m.predict_body = f"    return mlrn_linear_argmax({args});"
        pred_ram = 0
    else:
        m.predict_body = (f"    float f[{rows}];\n    uint16_t votes[{n_classes}];\n"
                          f"    mlrn_linear_scores({args}, f);\n"
                          f"    return mlrn_svm_ovo_vote(f, {n_classes}, votes);")
        pred_ram = 4 * rows + 2 * n_classes
    ram = [pred_ram]

    def ref_scores(X):
        return scores_mirror(X, W32, b32)

    if rule == "gt":
        m.ref_predict = lambda X: (ref_scores(X)[:, 0] > 0).astype(np.int64)
    elif rule == "ge":
        m.ref_predict = lambda X: (ref_scores(X)[:, 0] >= 0).astype(np.int64)
    elif rule == "argmax" and rows >= 3:
        def _pred_vs0(X):
            S = scores_mirror(X, Wd32, bd32)
            S = np.concatenate([np.zeros((S.shape[0], 1), np.float32), S], axis=1)
            return np.argmax(S, axis=1)
        m.ref_predict = _pred_vs0
    elif rule == "argmax":
        m.ref_predict = lambda X: np.argmax(ref_scores(X), axis=1)
    else:
        m.ref_predict = lambda X: vote_mirror(ref_scores(X), n_classes)

    if decision == "scores":
        m.n_decision = rows
        m.decision_body = f"    mlrn_linear_scores({args}, out);"
        m.ref_decision = ref_scores
    elif decision == "neg_scores":
        m.n_decision = rows
        m.decision_body = (f"    uint16_t r;\n    mlrn_linear_scores({args}, out);\n"
                           f"    for (r = 0; r < {rows}; r++) out[r] = -out[r];")
        m.ref_decision = lambda X: -ref_scores(X)
    elif decision == "ovo_ovr":
        m.n_decision = n_classes
        m.decision_body = (f"    float f[{rows}];\n    mlrn_linear_scores({args}, f);\n"
                           f"    mlrn_svm_ovo_to_ovr(f, {n_classes}, out);")
        m.ref_decision = lambda X: ovo_to_ovr_mirror(ref_scores(X), n_classes)
        ram.append(4 * rows)

    if proba == "expit":
        m.proba_body = (f"    float p = mlrn_linear_expit(mlrn_linear_score({N}_w, mlrn_flash_f32(&{N}_b[0]), {N}_N_FEATURES, x));\n"
                        f"    out[0] = 1.0f - p;\n    out[1] = p;")
        m.ref_proba = lambda X: _binary_proba(expit_mirror(ref_scores(X)[:, 0]))
    elif proba == "softmax":
        m.proba_body = f"    mlrn_linear_scores({args}, out);\n    mlrn_linear_softmax(out, {rows});"
        m.ref_proba = lambda X: softmax_mirror(ref_scores(X))
    elif proba == "ovr":
        m.proba_body = f"    mlrn_linear_scores({args}, out);\n    mlrn_linear_ovr_proba(out, {rows});"
        m.ref_proba = lambda X: ovr_proba_mirror(ref_scores(X))
    m.ram_bytes = max(ram)
    return m


def _binary_proba(p):
    return np.stack([(np.float32(1.0) - p).astype(np.float32), p], axis=1)


def linear_params(est, prescale):
    """scikit-learn LinearClassifierMixin model -> build_linear keyword arguments (float64 rows in
    raw input units: scalers folded)."""
    name = type(est).__name__
    W = np.asarray(est.coef_, dtype=np.float64)
    if W.ndim == 1:
        W = W[None, :]
    b = np.broadcast_to(np.asarray(est.intercept_, dtype=np.float64), (W.shape[0],)).copy()
    notes = []
    if prescale:
        W, b = prescale.fold(W, b)
        notes.append(f"{prescale.describe()} folded into the weights.")
    classes = est.classes_
    rule = "gt" if W.shape[0] == 1 else "argmax"
    proba = None
    if name in ("LogisticRegression", "LogisticRegressionCV"):
        proba = "expit" if W.shape[0] == 1 else "softmax"
        if W.shape[0] > 1 and getattr(est, "multi_class", "auto") == "ovr":
            proba = "ovr"
    elif name == "SGDClassifier" and getattr(est, "loss", "") == "log_loss":
        proba = "expit" if W.shape[0] == 1 else "ovr"
    return dict(source=f"sklearn {name}", W=W, b=b, classes=classes, rule=rule, proba=proba, notes=notes)


def lower_linear(est, N, prescale, opts):
    """scikit-learn LinearClassifierMixin models."""
    kw = linear_params(est, prescale)
    return build_linear(N, kw.pop("source"), kw.pop("W"), kw.pop("b"), kw.pop("classes"), **kw)
