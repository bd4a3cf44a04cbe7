"""The generated header itself: C/C++ clean, #defines agree with the linker, two models in
one program, no double, clear errors for what is not supported."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import microlearn
from compile_c import compile_c
from export_cases import dataset, fitted
from microlearn.exporter import UnsupportedModel, export
from microlearn.targets import TargetUnavailable, get_target

C_DIR = Path(__file__).resolve().parent / "c"

FAMILIES = ["svc_rbf_scaled", "svc_linear", "logreg", "forest", "forest_depth4", "tree_depth3", "gnb_scaled"]


@pytest.mark.parametrize("model", FAMILIES)
def test_cxx_and_defines_host(model, tmp_path):
    est = fitted(model, "wine")
    X, _ = dataset("wine")
    cm = microlearn.compile(est, target="host", name="wine_m", workdir=tmp_path, language="c++")
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    hdr = cm.header
    assert "double" not in hdr
    assert re.search(r"#define wine_m_FLASH_BYTES (\d+)", hdr)
    # every symbol the header defines starts with the model name
    for ident in re.findall(r"(?:#define|static const \w+|static inline \w+)\s+(\w+)", hdr):
        assert ident.startswith("wine_m_") or ident.startswith("mlrn_"), ident
    # the #define equals the sum of the linked table symbols (tables the compiler folded away
    # entirely, like a one-element intercept table, do not appear)
    sizes = cm.symbol_sizes()
    for t in cm.model.tables:
        s = sizes.get(f"wine_m_{t.suffix}")
        assert s is None or s == t.nbytes, (t.suffix, s, t.nbytes)
    assert cm.linked_table_bytes() <= cm.table_bytes
    assert cm.linked_table_bytes() >= cm.table_bytes - 8 * len(cm.model.tables)


@pytest.mark.avr
def test_defines_match_avr_linker(tmp_path):
    try:
        get_target("uno").check()
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    est = fitted("forest_depth4", "cancer")
    cm = microlearn.compile(est, target="uno", name="m", workdir=tmp_path)
    assert cm.linked_table_bytes() == cm.table_bytes
    X, _ = dataset("cancer")
    cm.predict(X[:3])
    # scratch the call declares is within the measured stack peak of the whole driver
    assert cm.stack_bytes is not None and cm.model.ram_bytes <= cm.stack_bytes


def test_two_models_one_program(tmp_path):
    a = fitted("svc_rbf_scaled", "iris3")
    b = fitted("forest", "iris3")
    export(a, tmp_path / "a.h", name="first")
    export(b, tmp_path / "b.h", name="second")
    compile_c(C_DIR / "two_models.c", tmp_path / "prog", include_dirs=[tmp_path])
    assert subprocess.run([str(tmp_path / "prog")]).returncode == 0   # both predict setosa (index 0)


def test_report_and_check_X(tmp_path):
    est = fitted("svc_linear", "cancer")
    X, _ = dataset("cancer")
    rep = export(est, tmp_path / "m.h", name="bc", check_X=X)
    assert rep.agreement == 1.0 and rep.n_checked == len(X)
    assert rep.flash_bytes == 31 * 4           # collapsed: 30 weights + intercept
    assert (tmp_path / "m.h").read_text() == rep.header


def test_unsupported_lists_supported():
    from sklearn.neighbors import NearestCentroid   # kNN and PCA export since issue 15: other examples
    X, y = dataset("iris3")
    with pytest.raises(UnsupportedModel, match="supported are .*SVC.*GaussianNB"):
        export(NearestCentroid().fit(X, y), None)
    from sklearn.pipeline import make_pipeline
    from sklearn.decomposition import KernelPCA
    from sklearn.svm import SVC
    with pytest.raises(UnsupportedModel, match="KernelPCA"):
        export(make_pipeline(KernelPCA(2), SVC()).fit(X, y), None)
    with pytest.raises(ValueError, match="C identifier"):
        export(fitted("tree", "iris3"), None, name="2bad")


def test_cli_export_quantized(tmp_path):
    import sys

    import microlearn
    X, _ = dataset("iris3")
    microlearn.save_model(fitted("forest_depth4", "iris3"), tmp_path / "m.skops")
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    out = subprocess.run([sys.executable, "-m", "microlearn", "export", str(tmp_path / "m.skops"), "-o",
                          str(tmp_path / "m.h"), "--name", "rf", "--dtype", "int8", "--calib", str(tmp_path / "x.csv"),
                          "--check", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "int8" in out.stdout and "agreement" in out.stdout
    assert "rf_predict_q" in (tmp_path / "m.h").read_text()
