"""The exporter's intermediate form: const tables + C entry points + a Python mirror.

Every family module lowers a fitted estimator to a `CModel`: the tables it needs, the
C bodies of NAME_predict / NAME_decision_function / NAME_predict_proba, the stack
scratch those bodies declare, and Python functions that reproduce the generated C's
float32 arithmetic operation by operation (so `export(check_X=...)` can report the
agreement with the estimator without a compiler, and tests can compare C with Python
bit for bit).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from microlearn._version import __version__
from microlearn.core.c_format import CTYPES, c_array, c_comment, c_header, c_identifier, c_string_table, table_bytes


@dataclass
class Table:
    suffix: str          # C name is NAME_<suffix>
    ctype: str           # float, uint8_t, int16_t ...
    values: np.ndarray

    @property
    def nbytes(self) -> int:
        return table_bytes(self.ctype, np.asarray(self.values).size)

    @property
    def count(self) -> int:
        return max(int(np.asarray(self.values).size), 1)


@dataclass
class CModel:
    name: str
    source: str                      # e.g. "sklearn.svm.SVC(kernel='rbf')"
    n_features: int
    classes: np.ndarray
    includes: list[str]
    tables: list[Table] = field(default_factory=list)
    # C bodies: text that goes between the braces of the entry points ({N} is not used:
    # family modules format the model name in themselves).
    predict_body: str = ""
    decision_body: str | None = None
    proba_body: str | None = None
    helpers: str = ""                # extra NAME_-prefixed static inline functions (before the entry points)
    n_decision: int = 0              # length of decision_function output
    ram_bytes: int = 0               # stack scratch (largest of the entry points)
    input_type: str = "float"        # what NAME_predict takes: float (raw features)
    ref_predict: Callable | None = None    # X(float32) -> class indices, mirrors the C
    ref_decision: Callable | None = None   # X -> (n, n_decision) float32, mirrors the C
    ref_proba: Callable | None = None      # X -> (n, n_classes) float32, mirrors the C
    notes: list[str] = field(default_factory=list)
    extra_defines: dict = field(default_factory=dict)
    kernels: list[str] = field(default_factory=list)  # SVM kernels the code calls (checked against MLRN_KERNELS)
    checks: list[str] = field(default_factory=list)   # compile-time checks before the #defines
    dtype: str = "float32"
    info: dict = field(default_factory=dict)     # introspection (e.g. trees: float32 thresholds)
    # Regressors (n_outputs >= 1; classes is empty): value_body is the body of
    # `float NAME_predict_value(const float *x)` (one output) or of
    # `void NAME_predict_values(const float *x, float *out)` (n_outputs values); ref_value mirrors it,
    # X -> (n, n_outputs) float32.
    n_outputs: int = 0
    value_body: str | None = None
    ref_value: Callable | None = None
    # Anomaly detectors: NAME_predict returns the label itself (+1 inlier, -1 outlier: classes holds [-1, 1]),
    # not an index into classes_; ref_predict mirrors that value.
    label_values: bool = False

    @property
    def is_regressor(self) -> bool:
        return self.n_outputs > 0

    @property
    def n_classes(self) -> int:
        return int(len(self.classes))

    @property
    def flash_bytes(self) -> int:
        return int(sum(t.nbytes for t in self.tables))

    def table(self, suffix: str) -> Table:
        return next(t for t in self.tables if t.suffix == suffix)


def render(m: CModel) -> str:
    if m.is_regressor:
        return _render_regressor(m)
    N = c_identifier(m.name, "model name")
    # Text from the model (its description, notes) only as sanitised comments; class names, which are
    # data, only as escaped string literals (c_string_table).
    about = ([f"int32_t {N}_predict(const float *x) returns scikit-learn's label: +1 inlier, -1 outlier;",
              f"float {N}_score_samples(const float *x) its score_samples; {N}_decision_function its",
              "decision_function (score_samples - offset_)."] if m.label_values else
             [f"int32_t {N}_predict(const float *x) returns an index into classes_; the names are",
              f"{N}_class_names[index] (on AVR in flash: pgm_read_ptr, then the _P string functions)."])
    about += ["Compile with -I<microlearn.include_dir()>. Tables are const (PROGMEM on AVR).",
              *(c_comment(note, limit=400) for note in m.notes)]
    lines = list(m.checks)
    lines.append(f"#define {N}_N_FEATURES {m.n_features}")
    lines.append(f"#define {N}_N_CLASSES {m.n_classes}")
    lines.append(f"#define {N}_N_CLASS_NAMES {m.n_classes}   /* entries of {N}_class_names */")
    if m.decision_body is not None:
        lines.append(f"#define {N}_N_DECISION {m.n_decision}")
    lines.append("/* bytes of const tables (flash); the runtime code comes on top */")
    lines.append(f"#define {N}_FLASH_BYTES {m.flash_bytes}")
    lines.append("/* bytes of stack scratch arrays the largest entry point declares */")
    lines.append(f"#define {N}_RAM_BYTES {m.ram_bytes}")
    for k, v in m.extra_defines.items():
        lines.append(f"#define {N}_{k} {v}")
    lines.append("")
    lines.append(c_string_table(f"{N}_class_names", m.classes).rstrip("\n"))
    lines += _tables_lines(m, N)
    lines.append("")
    if m.helpers:
        lines.append(m.helpers.rstrip("\n"))
        lines.append("")
    # The entry points, each with its comment: (comment, signature, body); a model without a decision
    # function or probabilities leaves those out.
    entries = [("scikit-learn's predict: +1 inlier, -1 outlier." if m.label_values else
                "Index into classes_ of the predicted class.",
                f"int32_t {N}_predict(const {m.input_type} *x)", m.predict_body),
               (f"scikit-learn's decision_function: {m.n_decision} value(s) into out.",
                f"void {N}_decision_function(const {m.input_type} *x, float *out)", m.decision_body),
               (f"scikit-learn's predict_proba: {m.n_classes} probabilities into out.",
                f"void {N}_predict_proba(const {m.input_type} *x, float *out)", m.proba_body)]
    for i, (doc, signature, body) in enumerate(e for e in entries if e[2] is not None):
        if i:
            lines.append("")
        lines += [f"/* {doc} */", f"static inline {signature} {{", body.rstrip("\n"), "}"]
    return c_header(N, "model", f"model exported from {c_comment(m.source)}", about, m.includes, "\n".join(lines),
                    kernels=m.kernels, version=__version__)


def _tables_lines(m: CModel, N: str) -> list[str]:
    lines = []
    for t in m.tables:
        lines.append(c_array(f"{N}_{t.suffix}", t.ctype, t.values).rstrip("\n"))
        lines.append(f"MLRN_STATIC_ASSERT(sizeof({N}_{t.suffix}) == {t.nbytes}, {N}_{t.suffix}_size);")
    return lines


def _render_regressor(m: CModel) -> str:
    """A regressor's header: no classes, one entry point returning the value(s)."""
    N = c_identifier(m.name, "model name")
    single = m.n_outputs == 1
    entry = (f"float {N}_predict_value(const float *x) returns the predicted value." if single else
             f"void {N}_predict_values(const float *x, float *out) writes the {m.n_outputs} predicted values.")
    about = [entry, "Compile with -I<microlearn.include_dir()>. Tables are const (PROGMEM on AVR).",
             *(c_comment(note, limit=400) for note in m.notes)]
    lines = list(m.checks)
    lines.append(f"#define {N}_N_FEATURES {m.n_features}")
    lines.append(f"#define {N}_N_OUTPUTS {m.n_outputs}")
    lines.append("/* bytes of const tables (flash); the runtime code comes on top */")
    lines.append(f"#define {N}_FLASH_BYTES {m.flash_bytes}")
    lines.append("/* bytes of stack scratch arrays the entry point declares */")
    lines.append(f"#define {N}_RAM_BYTES {m.ram_bytes}")
    for k, v in m.extra_defines.items():
        lines.append(f"#define {N}_{k} {v}")
    lines.append("")
    lines += _tables_lines(m, N)
    lines.append("")
    if m.helpers:
        lines.append(m.helpers.rstrip("\n"))
        lines.append("")
    if single:
        lines += ["/* scikit-learn's predict: the value. */",
                  f"static inline float {N}_predict_value(const float *x) {{"]
    else:
        lines += [f"/* scikit-learn's predict: {m.n_outputs} values into out. */",
                  f"static inline void {N}_predict_values(const float *x, float *out) {{"]
    lines += [m.value_body.rstrip("\n"), "}"]
    return c_header(N, "model", f"model exported from {c_comment(m.source)}", about, m.includes, "\n".join(lines),
                    kernels=m.kernels, version=__version__)


def f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def quant_round(v, Q: int) -> np.ndarray:
    """mlrn_quant_round (mlrn_quant.h) on a float32 array, op by op: round half up and clamp to [-Q, Q]
    (NaN -> -Q), as an int64 array. The one mirror of it: quantizers of inputs, rows and activations call it."""
    v = f32(v)
    lim = np.float32(Q)
    with np.errstate(invalid="ignore"):
        low = ~(v > -lim)
        high = v > lim
        mid = np.where(low | high, np.float32(0), v).astype(np.float32)
        r = np.floor((mid + np.float32(Q + 0.5)).astype(np.float32)).astype(np.int64) - Q
    return np.where(low, -Q, np.where(high, Q, r))


def check_ctype(ctype: str):
    assert ctype in CTYPES, ctype
