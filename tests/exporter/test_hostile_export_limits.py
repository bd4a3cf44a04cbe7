"""Export limits that C would otherwise get silently wrong (hardening issue, item 4): one-vs-one SVMs
index their n*(n-1)/2 pairs with uint16_t, so 363 classes used to wrap (0% agreement in C while the
numpy mirror said 100%). The exporter now refuses what the runtime cannot compute, and the runtime's
bookkeeping is checked at its largest supported class count under ASan/UBSan."""
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.svm import SVC

import microlearn
from microlearn.exporter import UnsupportedModel
from microlearn.core.vocab import SVM_OVO_MAX_CLASSES as OVO_MAX_CLASSES

from compile_c import SANITIZE, UBSAN, compile_c
from conftest import need

pytestmark = pytest.mark.hostile
C_DIR = Path(__file__).parent / "c"


def _many_classes(n):
    """Two rows per class on a line: separable, fast for libsvm (0.1 s at 363 classes)."""
    X = np.repeat(np.arange(n, dtype=float)[:, None], 2, 0) + np.tile([[0.0], [0.1]], (n, 1))
    return np.hstack([X, np.sqrt(X)]), np.repeat(np.arange(n), 2)


def test_header_limit_matches_python():
    text = (Path(microlearn.include_dir()) / "mlrn_svm.h").read_text()
    assert int(re.search(r"#define MLRN_SVM_OVO_MAX_CLASSES (\d+)u", text).group(1)) == OVO_MAX_CLASSES
    assert OVO_MAX_CLASSES * (OVO_MAX_CLASSES - 1) // 2 <= 0xFFFF < (OVO_MAX_CLASSES + 1) * OVO_MAX_CLASSES // 2


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_ovo_over_the_limit_is_refused(dtype):
    X, y = _many_classes(OVO_MAX_CLASSES + 1)
    est = SVC(kernel="rbf", gamma=2.0).fit(X, y)
    with pytest.raises(UnsupportedModel, match=r"363 classes.*at most 362"):
        microlearn.export(est, None, name="m", dtype=dtype, check_X=X)


@need("cc")
def test_ovo_bookkeeping_at_the_limit_under_sanitizers(tmp_path):
    exe = tmp_path / "ovo"
    compile_c(C_DIR / "svm_ovo_width.c", exe, opt="-O1", extra=SANITIZE)
    for winner in (0, 200, OVO_MAX_CLASSES - 1):
        out = subprocess.run([str(exe), str(winner)], check=True, capture_output=True, text=True, timeout=60)
        assert out.stdout.split() == [f"pairs={OVO_MAX_CLASSES * (OVO_MAX_CLASSES - 1) // 2}", "bad=0",
                                      f"winner={winner}"], out.stdout + out.stderr


@pytest.mark.skipif(shutil.which("cc") is None, reason="no host compiler")
def test_ovo_at_the_limit_agrees_on_host():
    """362 classes: 65,341 pairs, the largest count the uint16_t indices hold; the C on the host, the
    mirror and scikit-learn agree (a 4.7 MB header; about 6 s)."""
    X, y = _many_classes(OVO_MAX_CLASSES)
    est = SVC(kernel="rbf", gamma=2.0).fit(X, y)
    rows = X[::7]
    mirror = microlearn.export(est, None, name="m", check_X=rows)
    assert mirror.agreement == 1.0
    on_host = microlearn.export(est, None, name="m", check_X=rows, target="host")
    assert on_host.agreement == 1.0, on_host.disagreements[:10]


@pytest.mark.parametrize("gamma", [1e30, 1e12])
def test_rbf_gamma_beyond_float32_is_refused(gamma):
    """SVC(gamma=1e30) exported with 33% agreement and exit 0: float32 rounding of the inputs alone flips
    its kernel values. Refused now, with the reason; a large but representable gamma still exports exactly."""
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    with pytest.raises(UnsupportedModel, match=r"gamma=1e\+(30|12) is too large for float32"):
        microlearn.export(SVC(gamma=gamma).fit(X, y), None, name="m", check_X=X)
    rep = microlearn.export(SVC(gamma=1e6).fit(X, y), None, name="m", check_X=X)
    assert rep.agreement == 1.0


def _iris_models():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.tree import DecisionTreeClassifier
    X, y = load_iris(return_X_y=True)
    return X, {"logistic": LogisticRegression(max_iter=1000).fit(X, y),
               "logistic_binary": LogisticRegression(max_iter=1000).fit(X, y == 0),
               "gnb": GaussianNB().fit(X, y), "svc_rbf": SVC().fit(X, y), "tree": DecisionTreeClassifier().fit(X, y)}


PROBES = np.array([0, 1e-38, -1e-38, 1e19, -1e19, 1e30, -1e30, 3e38, -3e38], dtype=np.float32)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no host compiler")
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_probabilities_never_nan_for_finite_inputs(dtype):
    """GaussianNB at |x| >= 1e19 and LogisticRegression at 3e38 gave NaN probabilities (inf - inf in the
    decision values): now NaN counts as the lowest value, infinities as +-FLT_MAX; C and mirror agree bit
    for bit on every probe."""
    import itertools
    import warnings

    from microlearn.exporter.runner import CompiledModel
    X, models = _iris_models()
    P = np.array(list(itertools.product(PROBES, PROBES[[0, 4, 7]], [0, 1e19], [0, -3e38])), dtype=np.float32)
    for name in ("logistic", "logistic_binary", "gnb"):
        est = models[name]
        model = microlearn.export(est, None, name="m", dtype=dtype, check_X=X).model
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want_p, want_c = model.ref_proba(P), model.ref_predict(P)
        cm = CompiledModel.from_model(model, est, target="host")
        got = cm.predict_proba(P)
        assert not np.isnan(got).any(), name
        assert np.array_equal(got.view(np.uint32), np.asarray(want_p, np.float32).view(np.uint32)), name
        assert np.array_equal(cm.predict_index(P), want_c), name


@need("cc")
@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_quantized_entry_points_at_the_ends_of_their_types(tmp_path, dtype):
    """_q entry points with every code at the type's ends, and quantize() of +-3e38: no signed overflow
    or out-of-range conversion under UBSan."""
    X, models = _iris_models()
    lo, hi = (-32768, 32767) if dtype == "int16" else (-128, 127)
    for name, est in models.items():
        microlearn.export(est, tmp_path / "model.h", name="m", dtype=dtype, check_X=X)
        exe = tmp_path / f"ext_{name}"
        compile_c(C_DIR / "export_extremes.c", exe, opt="-O1", extra=UBSAN, include_dirs=[tmp_path],
                  defines={"Q_TYPE": f"{dtype}_t", "Q_LO": f"({lo})", "Q_HI": hi})
        proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "runtime error" not in proc.stderr, (name, proc.stderr)
