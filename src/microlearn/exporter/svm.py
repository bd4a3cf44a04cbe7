"""Kernel SVMs: scikit-learn SVC / NuSVC and microlearn's SMOClassifier through one table form.

Both are mapped to microlearn's sign convention (see mlrn_svm.h): sub-problem (p, q),
f = sum_s coef[s] K(sv_s, x) + b, q when f >= 0. scikit-learn's binary SVC already has
it (public dual_coef_/intercept_ are libsvm's negated); its one-vs-one multi-class
dual_coef_/intercept_ are libsvm's raw sign, so they are negated here (exact in float).
The linear kernel is collapsed to one w.x + b row per sub-problem.
"""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32, vocab
from microlearn.core.c_format import c_float

from .linear import build_linear, ovo_to_ovr_mirror, vote_mirror
from .model import CModel, Table, f32
from .prep import UnsupportedModel, scaled_input


class SVMTables:
    """Normalised SVM: mode 'binary' | 'ovo' | 'ovr', microlearn sign."""

    def __init__(self, kernel, gamma, coef0, degree, sv, coef, b, classes, mode, sv_start=None,
                 source="", decision="scores", linear_w=None):
        self.kernel, self.gamma, self.coef0, self.degree = kernel, float(gamma), float(coef0), int(degree)
        self.sv = np.asarray(sv, dtype=np.float64)
        self.coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        self.b = np.atleast_1d(np.asarray(b, dtype=np.float64))
        self.classes = np.asarray(classes)
        self.mode = mode
        self.sv_start = None if sv_start is None else np.asarray(sv_start, dtype=np.int64)  # ovo: class of each vector
        self.source = source
        self.decision = decision      # 'scores' (f itself) | 'neg_scores' | 'ovo_ovr'
        self.linear_w = linear_w      # exact float32 rows to use for a linear kernel (SMOClassifier's coef_)

    @property
    def n_classes(self):
        return len(self.classes)

    def pair_weights64(self):
        """Collapsed linear rows (float64) for each sub-problem."""
        if self.mode in ("binary", "ovr"):
            return self.coef @ self.sv
        n = self.n_classes
        rows = []
        lab = self.sv_start          # class of each support vector
        for p in range(n):
            for q in range(p + 1, n):
                ip, iq = lab == p, lab == q
                rows.append(self.coef[q - 1, ip] @ self.sv[ip] + self.coef[p, iq] @ self.sv[iq])
        return np.asarray(rows)


def from_sklearn(est) -> SVMTables:
    kernel = est.kernel
    if kernel not in vocab.KERNELS:
        raise UnsupportedModel(f"SVC kernel={kernel!r}: supported kernels are linear, rbf, poly, sigmoid")
    if int(est.degree) > 255 or int(est.degree) < 0:
        raise UnsupportedModel("poly degree must be 0..255")
    classes = est.classes_
    n_sup = np.asarray(est.n_support_)
    start = np.repeat(np.arange(len(classes)), n_sup)   # class of each support vector
    src = f"sklearn {type(est).__name__}(kernel={kernel!r})"
    if len(classes) == 2:
        return SVMTables(kernel, est._gamma, est.coef0, est.degree, est.support_vectors_, est.dual_coef_[0:1],
                         est.intercept_[0:1], classes, "binary", start, src, "scores")
    dshape = "ovo_ovr" if getattr(est, "decision_function_shape", "ovr") == "ovr" else "neg_scores"
    return SVMTables(kernel, est._gamma, est.coef0, est.degree, est.support_vectors_, -np.asarray(est.dual_coef_),
                     -np.asarray(est.intercept_), classes, "ovo", start, src, dshape)


def from_smo(est) -> SVMTables:
    kernel = est.kernel
    if kernel not in vocab.KERNELS:
        raise UnsupportedModel(f"SMOClassifier kernel={kernel!r}")
    classes = est.classes_
    n = len(classes)
    mode = "binary" if n == 2 else getattr(est, "multiclass", "ovo")
    start = None
    if mode == "ovo":
        n_sup = getattr(est, "n_support_", None)
        if n_sup is None:
            raise UnsupportedModel("SMOClassifier one-vs-one export needs n_support_")
        start = np.asarray(getattr(est, "_sv_labels", np.repeat(np.arange(n), n_sup)))
        # per-vector class labels: SMOClassifier keeps its vectors in training order
    lw = getattr(est, "coef_", None) if kernel == "linear" else None
    return SVMTables(kernel, getattr(est, "_gamma", 1.0), getattr(est, "coef0", 0.0), getattr(est, "degree", 3),
                     est.support_vectors_, est.dual_coef_, est.intercept_, classes, mode, start,
                     f"microlearn SMOClassifier(kernel={kernel!r}, multiclass={mode!r})", "scores",
                     None if lw is None else np.asarray(lw, dtype=np.float32))


# Largest change of an rbf kernel value that the float32 rounding of an input alone may cause.
RBF_ROUNDING_LIMIT = 1e-3


def check_gamma(t: SVMTables) -> None:
    """Refuse an rbf gamma so large that rounding the inputs to float32 (half an ulp, 2^-24 relative)
    already changes kernel values: the float32 model could not predict like the float64 one (SVC(gamma=1e30)
    on iris agreed on 33% of rows). exp(-gamma d) with d = n (|x| 2^-24)^2, the squared distance between a
    support vector and its own float32 rounding."""
    if t.kernel != "rbf" or t.sv.size == 0:
        return
    scale = float(np.max(np.abs(t.sv))) or 1.0
    y = t.gamma * t.sv.shape[1] * (scale * 2.0 ** -24) ** 2
    if not np.isfinite(np.float32(t.gamma)) or y > RBF_ROUNDING_LIMIT:
        raise UnsupportedModel(f"rbf gamma={t.gamma:.3g} is too large for float32 inputs of this scale "
                               f"(up to {scale:.3g}): rounding an input to float32 alone changes a kernel value "
                               f"by {-np.expm1(-y):.1%} (limit {RBF_ROUNDING_LIMIT:.1%}), so no float32 model can "
                               "predict like this one; rescale the features or use a smaller gamma")


def check_ovo_limits(t: SVMTables) -> None:
    """Refuse what the C would compute wrongly (wrapped uint16_t pair indices) instead of exporting it."""
    check_gamma(t)
    n = t.n_classes
    if t.mode != "ovo":
        return
    if n > vocab.SVM_OVO_MAX_CLASSES:
        raise UnsupportedModel(f"one-vs-one SVM with {n} classes: the C runtime indexes the n*(n-1)/2 pairs "
                               f"with uint16_t, so at most {vocab.SVM_OVO_MAX_CLASSES} classes (a one-vs-rest "
                               "model, e.g. SMOClassifier(multiclass='ovr'), has no such limit)")
    sv_class = np.asarray(t.sv_start)
    if np.any(np.diff(sv_class) < 0) and n > vocab.SVM_LABELED_MAX_CLASSES:
        raise UnsupportedModel(f"one-vs-one SVM with {n} classes and support vectors not grouped by class: "
                               f"their class labels are uint8_t in C, at most {vocab.SVM_LABELED_MAX_CLASSES} "
                               "classes")


def lower_svm(t: SVMTables, N, prescale, opts) -> CModel:
    n = t.n_classes
    check_ovo_limits(t)
    if t.kernel == "linear":
        if t.linear_w is not None and not prescale:
            W, b = t.linear_w, f32(t.b)
        else:
            W, b = t.pair_weights64(), t.b
        notes = ["Linear kernel: support vectors collapsed to one w.x + b row per sub-problem."]
        if prescale:
            W, b = prescale.fold(W, b)
            notes.append(f"{prescale.describe()} folded into the weights.")
        rule = {"binary": "ge", "ovo": "ovo", "ovr": "argmax"}[t.mode]
        return build_linear(N, t.source, W, b, t.classes, rule=rule, decision=t.decision, notes=notes)

    sv32, coef32, b32 = f32(t.sv), f32(t.coef), f32(t.b)
    n_sv, d = sv32.shape
    g32, c32 = np.float32(t.gamma), np.float32(t.coef0)
    m = CModel(name=N, source=t.source, n_features=d, classes=t.classes, includes=["mlrn_svm.h"])
    m.tables = [Table("sv", "float", sv32), Table("coef", "float", coef32), Table("b", "float", b32)]
    m.kernels = [t.kernel]
    labeled = False
    if t.mode == "ovo":
        m.checks.append(f"MLRN_STATIC_ASSERT({n}u <= MLRN_SVM_OVO_MAX_CLASSES, {N}_ovo_class_count);")
        sv_class = np.asarray(t.sv_start)
        if np.all(np.diff(sv_class) >= 0):     # grouped by class (libsvm): n+1 offsets suffice
            starts = np.concatenate([[0], np.cumsum(np.bincount(sv_class, minlength=n))])
            m.tables.append(Table("sv_start", "uint16_t", starts))
        else:
            labeled = True
            sv_class = np.asarray(t.sv_start)
            m.tables.append(Table("sv_class", "uint8_t", sv_class))
    m.extra_defines["N_SV"] = n_sv
    kp = kernel_params(t.kernel, t.degree, g32, c32)
    pre, xin, pre_ram = scaled_input(m, prescale, N, d, " before the kernel")
    head = pre + kp
    rows = {"binary": 1, "ovo": n * (n - 1) // 2, "ovr": n}[t.mode]
    args = f"&kp, {N}_sv, {N}_coef"
    tail = f"{N}_N_FEATURES, {xin}"
    if t.mode == "binary":
        call = f"mlrn_svm_binary_decision({args}, mlrn_flash_f32(&{N}_b[0]), {n_sv}, {tail})"
        m.predict_body = head + f"    return {call} >= 0.0f ? 1 : 0;"
        m.decision_body = head + f"    out[0] = {call};"
        ram = pre_ram
    elif t.mode == "ovo":
        fill = (f"    mlrn_svm_ovo_decisions_labeled({args}, {N}_b, {N}_sv_class, {n}, {n_sv}, {tail}, f);\n"
                if labeled else f"    mlrn_svm_ovo_decisions({args}, {N}_b, {N}_sv_start, {n}, {n_sv}, {tail}, f);\n")
        m.predict_body = head + f"    float f[{rows}];\n    uint16_t votes[{n}];\n" + fill + \
            f"    return mlrn_svm_ovo_vote(f, {n}, votes);"
        ram = pre_ram + 4 * rows + 2 * n
        if t.decision == "ovo_ovr":
            m.decision_body = head + f"    float f[{rows}];\n" + fill + f"    mlrn_svm_ovo_to_ovr(f, {n}, out);"
        elif t.decision == "neg_scores":
            m.decision_body = head + "    uint16_t i;\n" + fill.replace(", f);", ", out);") + \
                f"    for (i = 0; i < {rows}; i++) out[i] = -out[i];"
        else:
            m.decision_body = head + fill.replace(", f);", ", out);")
    else:
        fill = f"    mlrn_svm_ovr_decisions({args}, {N}_b, {n}, {n_sv}, {tail}, f);\n"
        m.predict_body = head + f"    float f[{n}];\n" + fill + f"    return mlrn_linear_argmax_f32(f, {n});"
        m.decision_body = head + fill.replace(", f);", ", out);")
        m.includes.append("mlrn_linear.h")
        ram = pre_ram + 4 * n
    m.n_decision = {"binary": 1, "ovo": n if t.decision == "ovo_ovr" else rows, "ovr": n}[t.mode]
    m.ram_bytes = ram

    def decisions(X):
        X = f32(X)
        if prescale:
            X = prescale.mirror(X)
        K = np.empty((X.shape[0], n_sv), dtype=np.float32)
        for s in range(n_sv):
            K[:, s] = _f32.kernel_rows(t.kernel, X, sv32[s], g32, c32, t.degree)
        return combine_kernel_values(t, K, coef32, b32)

    attach_mirrors(m, t, decisions)
    return m


def kernel_params(kernel: str, degree: int, gamma32, coef0_32) -> str:
    """The C line declaring the kernel parameters `kp` of an exported SVM's entry points."""
    return (f"    mlrn_kernel_params kp = {{{vocab.KERNEL_MACROS[kernel]}, {degree}, {c_float(gamma32)}, "
            f"{c_float(coef0_32)}}};\n")


def combine_kernel_values(t: SVMTables, K, coef32, b32) -> np.ndarray:
    """Decision values from kernel values K (rows x n_sv) in the generated C's order: per decision
    row, acc = acc + coef * K over the support vectors in table order, then + b. Shared by the float
    and quantised mirrors."""
    n, n_sv = len(t.classes), K.shape[1]
    rows = b32.shape[0]
    F = np.zeros((K.shape[0], rows), dtype=np.float32)
    if t.mode == "binary":
        for s in range(n_sv):
            F[:, 0] = F[:, 0] + coef32[0, s] * K[:, s]
    elif t.mode == "ovr":
        for r in range(n):
            for s in range(n_sv):
                F[:, r] = F[:, r] + coef32[r, s] * K[:, s]
    else:
        sv_class = np.asarray(t.sv_start)   # one-vs-one: the class of each support vector
        k = 0
        for p in range(n):
            for q in range(p + 1, n):
                for s in np.flatnonzero((sv_class == p) | (sv_class == q)):
                    row = q - 1 if sv_class[s] == p else p
                    F[:, k] = F[:, k] + coef32[row, s] * K[:, s]
                k += 1
    return (F + b32[None, :]).astype(np.float32)


def attach_mirrors(m, t: SVMTables, decisions):
    """ref_predict / ref_decision of an exported SVM from its decision-value mirror."""
    n = len(t.classes)
    if t.mode == "binary":
        m.ref_predict = lambda X: (decisions(X)[:, 0] >= 0).astype(np.int64)
        m.ref_decision = decisions
    elif t.mode == "ovr":
        m.ref_predict = lambda X: np.argmax(decisions(X), axis=1)
        m.ref_decision = decisions
    else:
        m.ref_predict = lambda X: vote_mirror(decisions(X), n)
        if t.decision == "ovo_ovr":
            m.ref_decision = lambda X: ovo_to_ovr_mirror(decisions(X), n)
        elif t.decision == "neg_scores":
            m.ref_decision = lambda X: -decisions(X)
        else:
            m.ref_decision = decisions
