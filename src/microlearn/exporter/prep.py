"""Pipelines: split a Pipeline into per-feature scalers + the final estimator.

Scalers are handled three ways, chosen by the family module:
- linear models fold them into w and b (`affine64`);
- trees fold them into the thresholds, exactly (`fold_threshold`: binary search over
  float32 inputs through scikit-learn's own transform, which is monotone per feature);
- kernel SVMs and naive Bayes apply them in the generated code (`c_tables`/`c_code`),
  in scikit-learn's operation order, and `mirror` reproduces that float32 arithmetic.
"""
from __future__ import annotations

import numpy as np

from microlearn.core.c_format import c_comment

from .model import Table

SCALERS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler")
PROJECTIONS = ("PCA",)


class UnsupportedModel(TypeError):
    pass


class Prescale:
    def __init__(self, steps, n_features):
        self.steps = list(steps)
        self.n_features = n_features

    def __bool__(self):
        return bool(self.steps)

    def describe(self) -> str:
        return " -> ".join(type(s).__name__ for s in self.steps)

    # -- scikit-learn's own float32 transform (the reference) --------------------------
    def transform32(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        for s in self.steps:
            X = np.asarray(s.transform(X), dtype=np.float32)
        return X

    # -- per-step parameters --------------------------------------------------------------
    def _params(self, s):
        d = self.n_features
        name = type(s).__name__
        if name == "StandardScaler":
            off = np.zeros(d) if getattr(s, "mean_", None) is None else np.asarray(s.mean_, float)
            div = np.ones(d) if getattr(s, "scale_", None) is None else np.asarray(s.scale_, float)
            return "div", off, div
        if name == "MaxAbsScaler":
            return "div", np.zeros(d), np.asarray(s.scale_, float)
        if name == "MinMaxScaler":
            return "muladd", np.asarray(s.scale_, float), np.asarray(s.min_, float)
        raise UnsupportedModel(name)

    def fold(self, W, b):
        """The scalers folded into a linear layer w . x' + b (rows of W): (W * a, b + W @ c) in float64, so
        the exported weights take raw inputs (one place for every linear lowering and the MLP's first layer)."""
        a, c = self.affine64()
        W = np.asarray(W, np.float64)
        return W * a[None, :], np.asarray(b, np.float64) + W @ c

    def affine64(self):
        """x' = a * x + c (float64), the composition of all steps."""
        a = np.ones(self.n_features)
        c = np.zeros(self.n_features)
        for s in self.steps:
            if getattr(s, "clip", False):
                raise UnsupportedModel("MinMaxScaler(clip=True) cannot be folded into a linear model")
            kind, p, q = self._params(s)
            if kind == "div":
                a, c = a / q, (c - p) / q
            else:
                a, c = a * p, c * p + q
        return a, c

    def check_c(self):
        for s in self.steps:
            if getattr(s, "clip", False):
                raise UnsupportedModel("MinMaxScaler(clip=True) is supported only before trees")

    def c_tables(self) -> list[Table]:
        out = []
        for i, s in enumerate(self.steps):
            kind, p, q = self._params(s)
            out.append(Table(f"s{i}_{'off' if kind == 'div' else 'mul'}", "float", np.float32(p)))
            out.append(Table(f"s{i}_{'div' if kind == 'div' else 'add'}", "float", np.float32(q)))
        return out

    def c_code(self, N: str, src: str = "x", dst: str = "xs") -> str:
        lines = []
        for i, s in enumerate(self.steps):
            kind, _, _ = self._params(s)
            a = src if i == 0 else dst
            if kind == "div":
                lines.append(f"    mlrn_scale_div({N}_s{i}_off, {N}_s{i}_div, {N}_N_FEATURES, {a}, {dst});")
            else:
                lines.append(f"    mlrn_scale_muladd({N}_s{i}_mul, {N}_s{i}_add, {N}_N_FEATURES, {a}, {dst});")
        return "\n".join(lines)

    def mirror(self, X) -> np.ndarray:
        """The generated C's float32 scaling, op by op."""
        X = np.asarray(X, dtype=np.float32)
        for s in self.steps:
            kind, p, q = self._params(s)
            p32, q32 = np.float32(p), np.float32(q)
            X = (X - p32) / q32 if kind == "div" else X * p32 + q32
            X = X.astype(np.float32)
        return X

    # -- exact threshold folding for trees --------------------------------------------------
    def fold_thresholds(self, features: np.ndarray, thresholds64: np.ndarray) -> np.ndarray:
        """Largest float32 x with transform(x)[f] <= t (scikit-learn's test on the scaled value),
        for each (f, t). Exact for every finite float32 input because the transform is
        monotone non-decreasing per feature."""
        n = len(features)
        out = np.empty(n, dtype=np.float32)
        if n == 0:
            return out
        # Search over the ordered integer image of float32: key(x) monotone in x.
        lo = np.full(n, _key(np.float32(-np.finfo(np.float32).max)), dtype=np.int64)
        hi = np.full(n, _key(np.float32(np.finfo(np.float32).max)), dtype=np.int64)
        ok_hi = self._cond(features, _unkey(hi), thresholds64)
        ok_lo = self._cond(features, _unkey(lo), thresholds64)
        # invariant for the search: cond(lo) true, cond(hi) false
        for _ in range(40):
            active = (hi - lo > 1) & ok_lo & ~ok_hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            c = self._cond(features, _unkey(mid), thresholds64)
            lo = np.where(active & c, mid, lo)
            hi = np.where(active & ~c, mid, hi)
        out[:] = _unkey(lo)
        out[ok_hi] = np.finfo(np.float32).max        # every finite input goes left
        out[~ok_lo] = -np.finfo(np.float32).max      # (documented: only -inf would go left)
        return out

    def _cond(self, features, xs, thresholds64):
        d = self.n_features
        X = np.zeros((len(features), d), dtype=np.float32)
        X[np.arange(len(features)), features] = xs
        T = self.transform32(X)
        return T[np.arange(len(features)), features].astype(np.float64) <= thresholds64


def _key(f) -> np.int64:
    b = np.asarray(f, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(b < 0, -(b & 0x7FFFFFFF), b)


def _unkey(k) -> np.ndarray:
    k = np.asarray(k, dtype=np.int64)
    b = np.where(k < 0, (-k) | 0x80000000, k).astype(np.uint32)
    return b.view(np.float32)


def floor_f32(t64) -> np.ndarray:
    """Largest float32 <= t (float64): x32 <= t  <=>  x32 <= floor_f32(t) for every float32 x."""
    t64 = np.asarray(t64, dtype=np.float64)
    f = t64.astype(np.float32)
    too_big = f.astype(np.float64) > t64
    f[too_big] = np.nextafter(f[too_big], np.float32(-np.inf))
    return f


def split_pipeline(est):
    """(Prescale steps, final estimator). Raises UnsupportedModel for other steps."""
    name = type(est).__name__
    if name != "Pipeline":
        return [], est
    steps = [s for _, s in est.steps if s is not None and s != "passthrough"]
    if not steps:
        raise UnsupportedModel("empty Pipeline")
    *pre, final = steps
    for s in pre:
        if type(s).__name__ not in SCALERS + PROJECTIONS:
            raise UnsupportedModel(f"Pipeline step {type(s).__name__} is not supported: "
                                   f"only {', '.join(SCALERS + PROJECTIONS)} before the model")
    return pre, final


def scaled_input(m, prescale, N: str, d: int, where: str = "") -> tuple[str, str, int]:
    """A model that applies its scaler to the float input in C (kernel SVMs, GaussianNB): adds the
    scaler's tables, include and note to m and returns (the C lines declaring and filling `xs`, the
    name of the array the model reads, its stack bytes). Without a scaler: ("", "x", 0)."""
    if not prescale:
        return "", "x", 0
    prescale.check_c()
    m.tables += prescale.c_tables()
    m.includes.append("mlrn_scale.h")
    m.notes.append(f"{prescale.describe()} applied to the input in float32{where}.")
    return f"    float xs[{d}];\n" + prescale.c_code(N) + "\n", "xs", 4 * d


# -- PCA (and the scalers around it): one affine map applied before the model ------------------------------

def has_projection(pre) -> bool:
    return any(type(s).__name__ in PROJECTIONS for s in pre)


def pipeline_affine(pre, n_features):
    """The Pipeline's steps before the model (scalers, PCA) as one affine map z = A x + b, composed in float64:
    a scaler x' = a * x + c (per feature), PCA x' = M (x - mean_) with M = components_, divided row by row by
    sqrt(explained_variance_) (floored at float64 eps, as scikit-learn does) when whiten. Returns (A, b, text)."""
    A = np.eye(int(n_features))
    b = np.zeros(int(n_features))
    for s in pre:
        name = type(s).__name__
        if name in PROJECTIONS:
            if getattr(s, "components_", None) is None:
                raise UnsupportedModel(f"{name} is not fitted")
            M = np.asarray(s.components_, dtype=np.float64)
            if M.ndim != 2 or M.shape[1] != A.shape[0]:
                raise UnsupportedModel(f"{name}: components_ of shape {M.shape} after {A.shape[0]} features")
            if getattr(s, "whiten", False):
                sd = np.sqrt(np.asarray(s.explained_variance_, dtype=np.float64))
                sd = np.maximum(sd, np.finfo(np.float64).eps)
                M = M / sd[:, None]
            mean = np.zeros(M.shape[1]) if getattr(s, "mean_", None) is None else np.asarray(s.mean_, np.float64)
            A, b = M @ A, M @ (b - mean)
        else:
            if getattr(s, "clip", False):
                raise UnsupportedModel("MinMaxScaler(clip=True) is not supported around PCA")
            kind, p, q = Prescale([s], A.shape[0])._params(s)
            if kind == "div":
                A, b = A / q[:, None], (b - p) / q
            else:
                A, b = A * p[:, None], b * p + q
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise UnsupportedModel("Pipeline steps whose composed projection is not finite")
    text = " -> ".join(type(s).__name__ + ("(whiten)" if getattr(s, "whiten", False) else "") for s in pre)
    return A, b, text


def affine_mirror(X, A32, b32) -> np.ndarray:
    """mlrn_linear_values (mlrn_linear.h) for every row of A: acc = b, then acc + A[r, k] x[k] in index order."""
    X = np.asarray(X, dtype=np.float32)
    Z = np.empty((X.shape[0], A32.shape[0]), dtype=np.float32)
    for r in range(A32.shape[0]):
        acc = np.full(X.shape[0], b32[r], dtype=np.float32)
        for k in range(A32.shape[1]):
            acc = (acc + (A32[r, k] * X[:, k]).astype(np.float32)).astype(np.float32)
        Z[:, r] = acc
    return Z


class Projection:
    """The float32 projection z = A x + b computed in the generated code by NAME_project(x, z) into a buffer of
    n_components floats (the entry points declare it on the stack; a caller can own it and call the NAME_*_z /
    model functions on z) with mlrn_linear_values: acc = b; acc = acc + A[r][k] x[k] in index order; `mirror` is
    its numpy twin."""

    def __init__(self, A, b, text):
        self.A32 = np.asarray(A, dtype=np.float32)
        self.b32 = np.asarray(b, dtype=np.float32)
        if not (np.all(np.isfinite(self.A32)) and np.all(np.isfinite(self.b32))):
            raise UnsupportedModel("a projection (PCA and scalers) that is not finite in float32")
        self.text = text

    @property
    def n_components(self) -> int:
        return int(self.A32.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.A32.shape[1])

    def attach(self, m, N: str, dst: str = "z") -> tuple[str, int]:
        """Adds the tables, include, define and note to m; returns (C lines declaring dst and filling it with
        NAME_project(x, dst), stack bytes). The caller puts helper(N) first among its helpers."""
        m.tables = [Table("proj_w", "float", self.A32), Table("proj_b", "float", self.b32)] + list(m.tables)
        if "mlrn_linear.h" not in m.includes:
            m.includes.append("mlrn_linear.h")
        m.extra_defines["N_COMPONENTS"] = self.n_components
        m.notes.append(f"{self.text} applied to the input as one float32 matrix ({self.n_components} x "
                       f"{self.n_features}, scalers folded in) before the model.")
        return f"    float {dst}[{self.n_components}];\n    {N}_project(x, {dst});\n", 4 * self.n_components

    def helper(self, N: str) -> str:
        """NAME_project(x, z): the projection into a caller-owned buffer of NAME_N_COMPONENTS floats."""
        return (f"/* The Pipeline's {c_comment(self.text)} as one matrix: z ({N}_N_COMPONENTS floats, "
                f"caller-owned) = A x + b. */\n"
                f"static inline void {N}_project(const float *x, float *z) {{\n"
                f"    mlrn_linear_values({N}_proj_w, {N}_proj_b, {N}_N_COMPONENTS, {N}_N_FEATURES, x, z);\n}}")

    def mirror(self, X) -> np.ndarray:
        return affine_mirror(X, self.A32, self.b32)


def wrap_projection(m, proj: Projection):
    """Any float32 model lowered for the projected inputs (its bodies read `x` with {N}_N_FEATURES =
    n_components) -> the model of the raw inputs: its entry points become NAME_*_z helpers called on the
    projected buffer, and its mirrors run on the projection's mirror."""
    N = m.name
    nc = proj.n_components
    if m.input_type != "float":
        raise UnsupportedModel("a PCA Pipeline is exported with dtype='float32' (int16/int8: kNN only)")

    def ren(text):
        return None if text is None else text.replace(f"{N}_N_FEATURES", f"{N}_N_COMPONENTS")

    inner_ram = m.ram_bytes
    m.checks = [ren(c) for c in m.checks]
    m.helpers = ren(m.helpers) or ""
    fill, ram = proj.attach(m, N)
    helpers = [proj.helper(N)] + ([m.helpers] if m.helpers else [])
    if m.predict_body is not None and not m.is_regressor:
        helpers.append(f"static inline int32_t {N}_predict_z(const float *x) {{\n{ren(m.predict_body)}\n}}")
        m.predict_body = fill + f"    return {N}_predict_z(z);"
    if m.decision_body is not None:
        helpers.append(f"static inline void {N}_decision_z(const float *x, float *out) {{\n{ren(m.decision_body)}\n}}")
        m.decision_body = fill + f"    {N}_decision_z(z, out);"
    if m.proba_body is not None:
        helpers.append(f"static inline void {N}_proba_z(const float *x, float *out) {{\n{ren(m.proba_body)}\n}}")
        m.proba_body = fill + f"    {N}_proba_z(z, out);"
    if m.value_body is not None:
        if m.n_outputs == 1:
            helpers.append(f"static inline float {N}_value_z(const float *x) {{\n{ren(m.value_body)}\n}}")
            m.value_body = fill + f"    return {N}_value_z(z);"
        else:
            helpers.append(f"static inline void {N}_values_z(const float *x, float *out) {{\n{ren(m.value_body)}\n}}")
            m.value_body = fill + f"    {N}_values_z(z, out);"
    m.helpers = "\n\n".join(helpers)
    m.ram_bytes = ram + inner_ram
    m.n_features = proj.n_features
    m.source = f"{proj.text} -> {m.source}"
    for attr in ("ref_predict", "ref_decision", "ref_proba", "ref_value"):
        f = getattr(m, attr)
        if f is not None:
            setattr(m, attr, (lambda g: (lambda X: g(proj.mirror(X))))(f))
    return m
