"""SMOClassifier: the on-device SVM trainer as a scikit-learn estimator.

It trains exactly as the C runtime (include/mlrn_smo.h) does on a microcontroller:
float32 arithmetic in the same order, samples held as the device holds them
(float32, or int16/int8 with a per-feature affine map), the same seeded PRNG. So
the model fitted here is the model the device will compute, bit for bit.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from microlearn.core import f32 as _f32, store as _store, vocab
from . import reference as _solvers
from microlearn.core.f32 import F, kernel_matrix_f32, kernel_matrix_f64


class SMOClassifier(ClassifierMixin, BaseEstimator):
    """Support vector classifier trained by SMO, the reference of microlearn's C trainer.

    Parameters
    ----------
    C : float, box constraint (> 0).
    kernel : 'linear' | 'rbf' | 'poly' | 'sigmoid'.
    gamma : 'scale' (1 / (n_features * X.var())), 'auto' (1 / n_features) or a float > 0.
    degree, coef0 : polynomial / sigmoid kernel parameters (degree is an integer power).
    tol : wss2: stop when the maximal KKT violation is below tol; simplified: KKT check tolerance.
    max_iter : wss2: pair updates per sub-problem; simplified: sweeps over the data. Reaching it
        stops training with a ConvergenceWarning (status 'max_iter' in ``status_``).
    solver : 'wss2' (second-order working-set selection, converges; libsvm's problem), 'simplified'
        (the Edge2Train/EloquentArduino baseline: random second index, max_passes) or 'dcd' (linear kernel
        only: dual coordinate descent as liblinear, the bias a regularised feature of constant 1; tol
        bounds PGmax - PGmin, max_iter counts passes over the data).
    loss : 'hinge' or 'squared_hinge' (dcd only): the L1- or L2-loss SVM of liblinear.
    arith : 'float' (float32 throughout) or 'fixed' (wss2, linear or rbf kernel, int8 storage, 2..512 features:
        the scans over the samples compute w . x_t and |x_i - x_t|^2 in integers, and with the linear kernel
        choose wss2's working pair from integer scores, MLRN_SMO_FIXED; for cores without an FPU).
    max_passes : simplified solver: sweeps without any change before stopping.
    alpha_tol : simplified solver: smallest change of alpha_j that is applied.
    multiclass : 'ovo' (one-vs-one with voting, like libsvm) or 'ovr' (one-vs-rest, argmax).
    random_state : int seed of the device's xorshift32 PRNG (simplified solver).
    storage : 'float32' | 'int16' | 'int8': how the device holds training samples.
    feature_range : (low, high) scalars or per-feature arrays mapped onto the integer range
        for int16/int8 storage; None calibrates it from the training data's min and max.
    decision_function_shape : 'ovr' (default, as SVC: one column per class, votes plus scaled
        confidences, so argmax agrees with predict) or 'ovo' (the raw per-pair values the device computes).

    Attributes
    ----------
    classes_, support_, support_vectors_, n_support_, dual_coef_, intercept_, coef_ (linear),
    n_iter_ (per sub-problem), status_ ('converged'|'max_iter' per sub-problem), objective_
    (dual objective of each binary sub-problem, float64, comparable with libsvm's; for dcd the problem it
    solves, 0.5 a'(Q + yy' + D)a - e'a, comparable with liblinear's), _gamma,
    scale_ / offset_ (quantised storage). Sub-problem (p, q) labels class q as +1: a decision
    >= 0 votes for q; in the binary case decision_function >= 0 means classes_[1].
    """

    def __init__(self, C=1.0, kernel="linear", gamma="scale", degree=3, coef0=0.0, tol=1e-3, max_iter=100000,
                 solver="wss2", max_passes=10, alpha_tol=1e-7, multiclass="ovo", random_state=0,
                 storage="float32", feature_range=None, decision_function_shape="ovr", loss="hinge",
                 arith="float"):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.max_passes = max_passes
        self.alpha_tol = alpha_tol
        self.multiclass = multiclass
        self.random_state = random_state
        self.storage = storage
        self.feature_range = feature_range
        self.decision_function_shape = decision_function_shape
        self.loss = loss
        self.arith = arith

    def __setstate__(self, state):
        # A model file saved before a parameter existed holds no value for it: it was trained with what is now the
        # default, so get_params, repr and a refit keep working on it.
        for name, default in (("loss", "hinge"), ("arith", "float")):
            state.setdefault(name, default)
        super().__setstate__(state)

    # ---- parameter checks -------------------------------------------------
    def _check_params(self):
        """Refuse what the device's mlrn_smo_init would refuse (MLRN_ERR_ARG) or what does not fit the C types
        of mlrn_smo_params, before any work (the rules: _solvers.check_params)."""
        _solvers.check_params(kernel=self.kernel, solver=self.solver, multiclass=self.multiclass, loss=self.loss)
        if self.decision_function_shape not in ("ovr", "ovo"):
            raise ValueError("decision_function_shape must be 'ovr' or 'ovo'")
        _solvers.check_params(storage=self.storage, C=self.C, tol=self.tol, alpha_tol=self.alpha_tol,
                              coef0=self.coef0, max_iter=self.max_iter, max_passes=self.max_passes,
                              degree=self.degree)   # degree: the device computes integer powers
        _solvers.check_combination(solver=self.solver, kernel=self.kernel, loss=self.loss, C=self.C)
        _solvers.check_arith(self.arith, solver=self.solver, kernel=self.kernel, storage=self.storage)
        if self.random_state is not None:
            if isinstance(self.random_state, bool) or not isinstance(self.random_state, numbers.Integral):
                raise ValueError("random_state must be an integer seed (the device's PRNG), or None for 0")
            _solvers.check_int("random_state", self.random_state, 0, _solvers.U32, "uint32")
        if isinstance(self.gamma, str):
            if self.gamma not in ("scale", "auto"):
                raise ValueError(f"gamma must be 'scale', 'auto' or a float > 0, got {self.gamma!r}")
        else:
            _solvers.check_params(gamma=self.gamma)

    def _resolve_gamma(self, X):
        if self.gamma == "scale":
            var = float(np.asarray(X, dtype=np.float64).var())
            return 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        return float(self.gamma)

    def device_params(self) -> _solvers.Params:
        """The mlrn_smo_params the device uses (floats rounded to float32)."""
        return _solvers.Params.make(
            C=self.C, tol=self.tol, alpha_tol=self.alpha_tol, max_iter=self.max_iter,
            seed=self.random_state or 0, max_passes=self.max_passes, solver=self.solver,
            multiclass=self.multiclass, kernel=self.kernel, gamma=self._gamma, coef0=self.coef0,
            degree=self.degree, loss=self.loss, arith=self.arith)

    # ---- fit ----------------------------------------------------------------
    def fit(self, X, y):
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(f"SMOClassifier needs samples of at least 2 classes; got 1 class ({self.classes_[0]!r})")
        if n_classes > vocab.MAX_CLASSES:
            raise ValueError(f"at most {vocab.MAX_CLASSES} classes are supported, got {n_classes}")
        with np.errstate(over="ignore"):
            Xf = X.astype(np.float32)
        if not np.isfinite(Xf).all():
            raise ValueError("X has values too large for float32 (the device's number format)")
        _solvers.check_arith(self.arith, solver=self.solver, kernel=self.kernel, storage=self.storage,
                             n_features=X.shape[1])
        self._gamma = self._resolve_gamma(X)
        if isinstance(self.gamma, str) and self.kernel != "linear":
            try:   # 'scale' of huge features can underflow float32: the device would compute with gamma 0
                _solvers.check_params(gamma=self._gamma)
            except ValueError:
                raise ValueError(f"gamma={self.gamma!r} gives {self._gamma:.3g} for this data, which is 0 in "
                                 f"float32 (the device's number format): scale the features or give gamma") from None
        quant = {}
        if self.storage != "float32":
            lo, hi = self.feature_range if self.feature_range is not None else (X.min(axis=0), X.max(axis=0))
            self.scale_, self.offset_ = _store.affine_from_range(lo, hi, self.storage, X.shape[1])
            Q = _store.quantize(Xf, self.scale_, self.offset_, self.storage)
            Xs = _store.dequantize(Q, self.scale_, self.offset_)
            quant = dict(Q=Q, scale=self.scale_, offset=self.offset_)
        else:
            Xs = Xf
        params = self.device_params()
        with np.errstate(over="ignore", invalid="ignore"):
            subs = _solvers.train(params, Xs, y_idx, n_classes, **quant)
        self._set_fitted(Xs, y_idx, n_classes, subs)
        if any(s.status == vocab.MAX_ITER for s in subs):
            warnings.warn(f"SMO reached max_iter={self.max_iter} before the tolerance was met", ConvergenceWarning)
        return self

    def _set_fitted(self, Xs, y_idx, n_classes, subs):
        n = Xs.shape[0]
        n_rows = 1 if n_classes == 2 else (n_classes if self.multiclass == "ovr" else n_classes - 1)
        coef = np.zeros((n_rows, n), np.float32)
        for s_idx, s in enumerate(subs):
            p, q = s.pair
            signed = np.where(s.y > 0, s.alpha, -s.alpha).astype(np.float32)
            coef[coef_rows(y_idx[s.members], s_idx, p, q, n_classes, self.multiclass), s.members] = signed
        sv = np.flatnonzero((coef != 0).any(axis=0))
        self.support_ = sv.astype(np.int32)
        self.support_vectors_ = Xs[sv]
        self.dual_coef_ = coef[:, sv]
        self.n_support_ = np.bincount(y_idx[sv], minlength=n_classes).astype(np.int32)
        self._sv_labels = y_idx[sv]
        self.intercept_ = np.array([s.b for s in subs], np.float32)
        self.n_iter_ = np.array([s.n_iter for s in subs], np.int32)
        self.status_ = np.array(["max_iter" if s.status == vocab.MAX_ITER else "converged" for s in subs])
        if self.kernel == "linear":
            self.coef_ = np.array([s.w for s in subs], np.float32)
        self.objective_ = np.array([self._objective(Xs[s.members], s.y, s.alpha) for s in subs])
        # Kept for the agreement checks with the device: the rows and alphas of the last sub-problem.
        self._subs = subs

    def _objective(self, X, y, alpha):
        """Dual objective 0.5 a'Qa - e'a in float64, the quantity the solver minimises: libsvm's for wss2 and
        simplified; for dcd liblinear's, with the bias feature (K + 1) and, for squared_hinge, D = 1/(2C)."""
        a = alpha.astype(np.float64) * y.astype(np.float64)
        nz = np.flatnonzero(alpha)
        if nz.size == 0:
            return 0.0
        K = kernel_matrix_f64(self.kernel, X[nz], X[nz], float(F(self._gamma)), float(F(self.coef0)), self.degree)
        obj = 0.5 * a[nz] @ K @ a[nz] - alpha[nz].astype(np.float64).sum()
        if self.solver == "dcd":
            obj += 0.5 * a[nz].sum() ** 2 * float(_solvers.BIAS) ** 2
            if self.loss == "squared_hinge":
                obj += 0.5 * (alpha[nz].astype(np.float64) ** 2).sum() / (2.0 * float(F(self.C)))
        return float(obj)

    @property
    def n_sub_(self):
        return len(self.intercept_)

    # ---- prediction (the C runtime's mlrn_smo_decision_sub / mlrn_smo_predict) ----
    def decision_function(self, X):
        """Decision values. Two classes: shape (n,), >= 0 means classes_[1]. Otherwise with
        decision_function_shape='ovo' the raw values the device computes, (n, n_sub), in pair order
        (0,1),(0,2),...,(1,2),... (>= 0 votes for the second class of the pair), or for
        multiclass='ovr' one column per class; with 'ovr' (default) one column per class."""
        f = self._raw_decision(X)
        if f.ndim == 2 and self.multiclass == "ovo" and self.decision_function_shape == "ovr":
            return _ovo_to_ovr(f, len(self.classes_))
        return f

    def _raw_decision(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        with np.errstate(over="ignore"):
            Xf = X.astype(np.float32)
        if not np.isfinite(Xf).all():
            raise ValueError("X has values too large for float32 (the device's number format)")
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._decision_f32(Xf)
        return out[:, 0] if out.shape[1] == 1 else out

    def _decision_f32(self, Xf):
        n_classes = len(self.classes_)
        pairs = _solvers.pairs(n_classes, self.multiclass)
        out = np.empty((Xf.shape[0], len(pairs)), np.float32)
        if self.kernel == "linear":
            for s, (w, b) in enumerate(zip(self.coef_, self.intercept_)):
                out[:, s] = _f32.dot_rows(Xf, w) + b
            return out
        K = kernel_matrix_f32(self.kernel, Xf, self.support_vectors_, self._gamma, self.coef0, self.degree)
        labels = self._sv_labels
        for s, (p, q) in enumerate(pairs):
            rows = coef_rows(labels, s, p, q, n_classes, self.multiclass)
            cols = np.flatnonzero(rows >= 0)
            c = self.dual_coef_[rows[cols], cols]
            keep = c != 0
            cols, c = cols[keep], c[keep]
            acc = np.zeros(Xf.shape[0], np.float32)
            if cols.size:
                acc = np.add.accumulate(c[None, :] * K[:, cols], axis=1)[:, -1]
            out[:, s] = acc + self.intercept_[s]
        return out

    def predict(self, X):
        f = self._raw_decision(X)
        return self.classes_[predict_from_decision(f, len(self.classes_), self.multiclass)]


def coef_rows(labels, sub, p, q, n_classes, multiclass) -> np.ndarray:
    """mlrn_smo__coef_row: the dual-coefficient row of each sample (by class label) in sub-problem
    `sub` = (p, q), -1 where the sample is not in it (libsvm's layout for ovo)."""
    labels = np.asarray(labels)
    if n_classes == 2:
        return np.zeros(labels.size, np.intp)
    if multiclass == "ovr":
        return np.full(labels.size, sub, np.intp)
    return np.where(labels == p, q - 1, np.where(labels == q, p, -1)).astype(np.intp)


def predict_from_decision(f, n_classes: int, multiclass: str) -> np.ndarray:
    """mlrn_smo_predict from decision values: class indices."""
    if n_classes == 2:
        return (np.asarray(f) >= 0).astype(np.intp)
    if multiclass == "ovr":
        return np.argmax(f, axis=1)
    votes = np.zeros((f.shape[0], n_classes), np.int32)
    for s, (p, q) in enumerate(_solvers.pairs(n_classes, "ovo")):
        pos = f[:, s] >= 0
        votes[:, q] += pos
        votes[:, p] += ~pos
    return np.argmax(votes, axis=1)   # first maximum: ties go to the lowest class index


def _ovo_to_ovr(f, n_classes):
    """Votes plus confidences squashed into (-1/3, 1/3), as scikit-learn's SVC presents ovo results."""
    votes = np.zeros((f.shape[0], n_classes))
    conf = np.zeros((f.shape[0], n_classes))
    for s, (p, q) in enumerate(_solvers.pairs(n_classes, "ovo")):
        pos = f[:, s] >= 0
        votes[:, q] += pos
        votes[:, p] += ~pos
        conf[:, q] += f[:, s]
        conf[:, p] -= f[:, s]
    return votes + conf / (3 * (np.abs(conf) + 1))
