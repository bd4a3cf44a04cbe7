"""`microlearn.export(estimator, path, ...)`: a fitted model -> one C header of const tables.

Supported: SVC / NuSVC (linear, rbf, poly, sigmoid; binary and one-vs-one),
microlearn.SMOClassifier, LinearSVC, LogisticRegression, SGDClassifier, Perceptron,
RidgeClassifier, DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier,
GradientBoostingClassifier, HistGradientBoostingClassifier, GaussianNB; the regressors
LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR, SVR, NuSVR, DecisionTreeRegressor,
RandomForestRegressor, ExtraTreesRegressor, GradientBoostingRegressor, HistGradientBoostingRegressor;
the neural networks MLPClassifier, MLPRegressor (float32 and int8); KNeighborsClassifier, KNeighborsRegressor;
the anomaly detectors IsolationForest and EllipticEnvelope (NAME_predict returns -1/+1); and a Pipeline of
StandardScaler / MinMaxScaler / MaxAbsScaler / PCA followed by one of them. The header uses the shared runtime
(microlearn.include_dir()).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .lower import DTYPES, SUPPORTED, lower
from .model import CModel, render
from .prep import UnsupportedModel
from .runner import CompiledModel

@dataclass
class ExportReport:
    path: Path | None
    name: str
    source: str
    dtype: str
    n_features: int
    n_classes: int
    flash_bytes: int            # NAME_FLASH_BYTES: const tables
    ram_bytes: int              # NAME_RAM_BYTES: stack scratch
    agreement: float | None = None       # fraction of check_X where the C (mirror) predicts like the estimator
    n_checked: int = 0
    disagreements: list = field(default_factory=list)   # row indices that differ
    header: str = ""
    notes: list = field(default_factory=list)
    model: CModel | None = field(default=None, repr=False)
    # regressors (n_outputs >= 1): the export's values against the estimator's float64 predict on check_X
    n_outputs: int = 0
    max_abs_error: float | None = None
    max_rel_error: float | None = None       # |got - want| / |want| (rows where want != 0)
    within_bound: bool | None = None         # every error <= REGRESSION_REL_BOUND * max(|want|, rms(want))
    bit_exact: bool | None = None            # with target: the device's values equal the mirror's bit for bit

    def __str__(self):
        what = f"{self.n_outputs} output(s)" if self.n_outputs else f"{self.n_classes} classes"
        s = (f"{self.name}: {self.source}, {self.dtype}, {self.n_features} features, {what}, "
             f"tables {self.flash_bytes} B flash, {self.ram_bytes} B stack scratch")
        if self.agreement is not None:
            s += f", agreement {100 * self.agreement:.2f}% on {self.n_checked} rows"
        if self.max_abs_error is not None:
            s += (f", on {self.n_checked} rows: max abs error {self.max_abs_error:.3g}, "
                  f"max rel error {self.max_rel_error:.3g}")
        if self.bit_exact is not None:
            s += ", device == mirror bit for bit" if self.bit_exact else ", device DIFFERS from the mirror"
        return s


# The float32 regressors' documented bound (docs/export.md): each error within this fraction of
# max(|y|, the root mean square of y over the rows checked); measured well below it on the test sets.
REGRESSION_REL_BOUND = 1e-5


def regression_errors(got, want):
    """(max abs error, max relative error over rows with want != 0, within REGRESSION_REL_BOUND)."""
    got = np.asarray(got, dtype=np.float64).reshape(len(got), -1)
    want = np.asarray(want, dtype=np.float64).reshape(len(got), -1)
    err = np.abs(got - want)
    nz = want != 0
    rel = float(np.max(err[nz] / np.abs(want[nz]))) if nz.any() else 0.0
    scale = np.maximum(np.abs(want), np.sqrt(np.mean(want ** 2, axis=0))[None, :])
    ok = bool(np.all(err <= REGRESSION_REL_BOUND * scale))
    return (float(err.max()) if err.size else 0.0), rel, ok


def agreement(model: CModel, estimator, X):
    """Fraction of rows of X (as float32) where the generated C's arithmetic (mirrored in
    Python) predicts the same class as estimator.predict(float32 X)."""
    X32 = np.asarray(X, dtype=np.float32)
    want = np.asarray(estimator.predict(X32))
    got = model.ref_predict(X32) if model.label_values else np.asarray(model.classes)[model.ref_predict(X32)]
    same = got == want
    return float(np.mean(same)), np.flatnonzero(~same).tolist()


def export(estimator, path=None, name="model", dtype="float32", target=None, check_X=None, calib_X=None,
           **opts) -> ExportReport:
    """Write the C header for `estimator` to `path` (None: only return the report with `.header`).

    dtype: 'float32' (exact), 'int16' or 'int8' (quantized; calibrated from `calib_X`, else
    `check_X`, else the Pipeline's scaler). target: a target name ('host', 'uno', ...) to also
    compile the header there and check it predicts like the estimator on check_X.
    check_X: rows to measure the agreement with estimator.predict on (float32 inputs).
    """
    if calib_X is None:
        calib_X = check_X
    model = lower(estimator, name=name, dtype=dtype, calib_X=calib_X, **opts)
    header = render(model)
    if path is not None:
        path = Path(path)
        path.write_text(header)
    rep = ExportReport(path=path, name=name, source=model.source, dtype=dtype, n_features=model.n_features,
                       n_classes=model.n_classes, flash_bytes=model.flash_bytes, ram_bytes=model.ram_bytes,
                       header=header, notes=list(model.notes), model=model, n_outputs=model.n_outputs)
    if check_X is not None and model.is_regressor:
        X32 = np.asarray(check_X, dtype=np.float32)
        want = np.asarray(estimator.predict(X32), dtype=np.float64)
        got = model.ref_value(X32)
        rep.n_checked = len(X32)
        rep.max_abs_error, rep.max_rel_error, rep.within_bound = regression_errors(got, want)
        if target is not None:
            cm = CompiledModel.from_model(model, estimator, target=target)
            dev = cm.predict_values(X32)
            rep.bit_exact = bool(np.array_equal(dev.view(np.uint32), np.asarray(got, np.float32).view(np.uint32)))
            rep.max_abs_error, rep.max_rel_error, rep.within_bound = regression_errors(dev, want)
            rep.notes.append(f"errors measured by running the C on target {target!r}")
    elif check_X is not None:
        rep.agreement, rep.disagreements = agreement(model, estimator, check_X)
        rep.n_checked = len(check_X)
        if target is not None:
            cm = CompiledModel.from_model(model, estimator, target=target)
            got = cm.predict(np.asarray(check_X, dtype=np.float32))
            want = np.asarray(estimator.predict(np.asarray(check_X, dtype=np.float32)))
            same = got == want
            rep.agreement = float(np.mean(same))
            rep.disagreements = np.flatnonzero(~same).tolist()
            rep.notes.append(f"agreement measured by running the C on target {target!r}")
    return rep


__all__ = ["export", "REGRESSION_REL_BOUND", "regression_errors", "lower", "render", "ExportReport", "UnsupportedModel", "CompiledModel", "CModel", "SUPPORTED",
           "DTYPES"]
