"""Anomaly detectors (IsolationForest, EllipticEnvelope): on the host the generated C's predict (-1/+1) and
decision_function equal the exporter's float32 mirror bit for bit, predict is scikit-learn's on every test row,
and the scores are within the documented bounds (IsolationForest: 1e-6 absolute, its scores lie in [-1, 0];
EllipticEnvelope: 1e-5 of max(1, |score|)); the CLI exports and checks them (no classes_). Boards:
test_anomaly_targets.py."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import skops.io as sio
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import microlearn
from microlearn.exporter import UnsupportedModel, export, lower
from compile_c import compile_c
from knn_cases import fit, sensor, split

IFOREST_ABS = 1e-6
ELLIPTIC_REL = 1e-5

MODELS = {
    "iforest": lambda: IsolationForest(n_estimators=30, max_samples=128, random_state=0),
    "iforest_contamination": lambda: IsolationForest(n_estimators=20, contamination=0.05, random_state=0),
    "iforest_max_features": lambda: IsolationForest(n_estimators=20, max_features=0.5, random_state=0),
    "iforest_scaled": lambda: make_pipeline(MinMaxScaler(), IsolationForest(n_estimators=20, random_state=1)),
    "elliptic": lambda: EllipticEnvelope(random_state=0),
    "elliptic_contamination": lambda: EllipticEnvelope(contamination=0.02, random_state=0),
    "elliptic_scaled": lambda: make_pipeline(StandardScaler(), EllipticEnvelope(random_state=0)),
}


def _bits(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def check_scores(est, D, X):
    """The decision values D against scikit-learn's, within the documented bound."""
    want = est.decision_function(X)
    err = np.abs(np.asarray(D, np.float64) - want)
    if "Isolation" in type(est[-1] if hasattr(est, "steps") else est).__name__:
        assert err.max() <= IFOREST_ABS, err.max()
    else:
        assert np.all(err <= ELLIPTIC_REL * np.maximum(1.0, np.abs(est.score_samples(X)))), err.max()


@pytest.mark.parametrize("ds", ["anomaly", "iris", "wine"])
@pytest.mark.parametrize("model", list(MODELS))
def test_detector_host(model, ds, tmp_path):
    est = fit(MODELS[model](), ds, kind="anomaly")
    _, Xte, _, _ = split(ds)
    cm = microlearn.compile(est, target="host", name="a", workdir=tmp_path)
    m = cm.model
    assert m.label_values and "a_score_samples" in cm.header
    got = cm.predict(Xte)
    np.testing.assert_array_equal(got, m.ref_predict(Xte))                # C == mirror
    np.testing.assert_array_equal(got, est.predict(Xte))                  # scikit-learn's -1/+1
    assert set(np.unique(got)) <= {-1, 1}
    D = cm.decision_function(Xte)
    np.testing.assert_array_equal(_bits(D), _bits(m.ref_decision(Xte)[:, 0]))
    check_scores(est, D, Xte)
    # predict is the sign of the decision, except within the float32 rounding of the threshold
    assert np.mean((np.asarray(D) >= 0) == (got == 1)) >= 0.98


def test_detects_the_injected_anomalies():
    """On the sensor set with injected anomalies, the exported detectors find most of them (a sanity check of
    the data the benchmark uses, not of the export)."""
    _, Xte, _, yte = split("anomaly")
    for model in ("iforest_contamination", "elliptic_contamination"):
        m = lower(fit(MODELS[model](), "anomaly", kind="anomaly"), name="a")
        assert np.mean(m.ref_predict(Xte) == yte) >= 0.95


def test_score_samples_entry_point(tmp_path):
    """NAME_score_samples(x) in C equals score_samples within the bound, C and C++."""
    est = fit(MODELS["elliptic"](), "iris", kind="anomaly")
    export(est, tmp_path / "a.h", name="a")
    src = tmp_path / "use.c"
    x = [6.3, 2.5, 5.0, 1.9]
    src.write_text('#include <stdio.h>\n#include "a.h"\n'
                   "int main(void) {\n"
                   f"    static const float x[a_N_FEATURES] = {{{', '.join(f'{v}f' for v in x)}}};\n"
                   "    float d[1];\n"
                   "    a_decision_function(x, d);\n"
                   "    printf(\"%.9g %.9g %ld\\n\", (double)a_score_samples(x), (double)d[0], (long)a_predict(x));\n"
                   "    return 0;\n}\n")
    for lang in ("c", "c++"):
        exe = tmp_path / f"use_{lang.replace('+', 'x')}"
        compile_c(src, exe, lang=lang, include_dirs=[tmp_path])
        s, d, p = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
        X = np.array([x], dtype=np.float32)
        assert abs(float(s) - est.score_samples(X)[0]) <= ELLIPTIC_REL * max(1.0, abs(float(s)))
        assert abs(float(d) - est.decision_function(X)[0]) <= ELLIPTIC_REL * max(1.0, abs(float(s)))
        assert int(p) == est.predict(X)[0]


def test_cli_export_and_check(tmp_path):
    """`microlearn export` of a detector with --check on the host: agreement on every row, exit 0."""
    est = fit(MODELS["iforest_contamination"](), "anomaly", kind="anomaly")
    _, Xte, _, _ = split("anomaly")
    sio.dump(est, tmp_path / "m.skops")
    np.savetxt(tmp_path / "check.csv", Xte, delimiter=",", fmt="%.9g")
    proc = subprocess.run([sys.executable, "-m", "microlearn", "export", str(tmp_path / "m.skops"), "-o",
                           str(tmp_path / "m.h"), "--name", "det", "--check", str(tmp_path / "check.csv"),
                           "--target", "host"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "agreement 100.00%" in proc.stdout and "det_score_samples" in (tmp_path / "m.h").read_text()


def test_default_iforest_beyond_the_record_table(tmp_path):
    """scikit-learn's default IsolationForest (100 trees of 256 samples) is larger than a 64 KB record table:
    separate node tables (mlrn_tree_key_leaf_*), the same answers."""
    X, _ = sensor(n=1500)
    Xtr, Xte = X[:1200], X[1200:]
    est = IsolationForest(random_state=0).fit(Xtr)
    cm = microlearn.compile(est, target="host", name="a", workdir=tmp_path)
    assert "a_feature" in cm.header and "a_nodes" not in cm.header and cm.model.flash_bytes > 65536
    got = cm.predict(Xte)
    np.testing.assert_array_equal(got, cm.model.ref_predict(Xte))
    np.testing.assert_array_equal(got, est.predict(Xte))
    D = cm.decision_function(Xte)
    np.testing.assert_array_equal(_bits(D), _bits(cm.model.ref_decision(Xte)[:, 0]))
    check_scores(est, D, Xte)


@pytest.mark.hostile
def test_unsupported_detectors_are_refused_in_one_line():
    with pytest.raises(UnsupportedModel, match="only dtype='float32'"):
        lower(fit(MODELS["elliptic"](), "iris", kind="anomaly"), name="a", dtype="int8")
    with pytest.raises(UnsupportedModel, match="not fitted"):
        lower(EllipticEnvelope(), name="a")
