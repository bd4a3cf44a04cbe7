"""MLRN_SMO_FIXED (arith 'fixed'): wss2's scans over int8 codes in integers. The C checks its bounds under UBSan;
the device agrees with the Python reference bit for bit on every target (the same iterations, alphas, w, b and
predictions); the reference's fixed-point solutions match the float32 ones in objective and accuracy; what it does
not apply to is refused in one line."""
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from microlearn.boards import get_board
from microlearn.core import vocab
from microlearn.core.paths import include_dir
from microlearn.targets.base import SUPPORT_DIR
from microlearn.data.datasets import load
from microlearn.trainer import reference
from microlearn.trainer.codegen import render_trainer
from microlearn.trainer.config import make_config, resolve_arith
from microlearn.trainer.driver import DRIVER
from microlearn.trainer.estimator import SMOClassifier
from microlearn.trainer.runner import train_and_report
from compile_c import UBSAN, program_output
from conftest import board_param, check_agreement

FIXED_SOURCE = Path(__file__).parent / "c" / "fixed_point.c"


@pytest.mark.parametrize("lang", ["c", "c++"])
def test_integer_sums_at_their_bounds(tmp_path, lang):
    out = program_output(FIXED_SOURCE, tmp_path, lang=lang, extra=UBSAN,
                         defines={"MLRN_SMO_FIXED": 1, "MLRN_STORE_TYPE": vocab.STORAGES["int8"]})
    assert out.rstrip().endswith("done"), out
    assert "bounds d=512 status=0 correct=4" in out and "scales status=0 correct=4" in out and "halved U0=" in out
    # status 0 or 1 (max_iter: C = 1000 on codes 0.01 apart); what is checked is the int32 range and the separation
    assert "offset U0=" in out and "tiny U0=" in out and re.search(r"offset status=[01] correct=4", out)
    assert "d=1 init=-" in out and "d=2 init=0" in out and "d=513 init=-" in out


def test_float32_paths_unchanged_in_a_fixed_build(tmp_path):
    """A runtime-typed build (MLRN_STORE_ANY) with MLRN_SMO_FIXED trains float32 stores (linear, rbf) exactly as
    one without it: same iterations, b and alphas."""
    lines = {}
    for fx in (0, 1):
        (tmp_path / str(fx)).mkdir()
        out = program_output(FIXED_SOURCE, tmp_path / str(fx), extra=UBSAN, defines={"MLRN_SMO_FIXED": fx})
        assert out.rstrip().endswith("done"), out
        lines[fx] = [ln for ln in out.splitlines() if ln.startswith("f32 ")]
    assert len(lines[0]) == 2 and lines[0] == lines[1], lines


def cancer_case(n, seed=0):
    X, y = load("cancer")
    idx = np.random.default_rng(seed).permutation(len(X))
    lo, hi = X[idx[:n]].min(0), X[idx[:n]].max(0)
    X = (X - lo) / np.where(hi > lo, hi - lo, 1.0)
    return X[idx[:n]], X[idx[n:n + 60]], y[idx[:n]], y[idx[n:n + 60]]


def check(rep):
    assert rep["arith"] == "fixed" and rep["_estimator"].arith == "fixed"
    check_agreement(rep)


BOARDS = ("uno", "mega2560", "samd21", "bluepill", "rp2040", "nrf52840", "esp32c3", "ch32v003", "esp8266")


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
@pytest.mark.parametrize("board", [board_param(b) for b in BOARDS])
def test_every_target_agrees(board, kernel):
    """30 features (cancer, min-max scaled), 40 rows: 'auto' picks fixed point on the boards without an FPU; the
    FPU boards are asked for it. The 2 KB boards read the rows from flash (the codes through mlrn_flash_i8); the
    16 KB ch32v003 trains the first 10 features (30 and the rbf trainer's code are over its flash)."""
    Xtr, Xte, ytr, yte = cancer_case(40)
    b = get_board(board)
    if b.flash_bytes <= 16384:
        Xtr, Xte = Xtr[:, :10], Xte[:, :10]
    arith = "auto" if not b.fpu else "fixed"
    data_in = "flash" if b.sram_bytes <= 2048 else "ram"
    check(train_and_report(Xtr, ytr, Xte, yte, board, storage="int8", kernel=kernel, arith=arith, data_in=data_in,
                           timeout=120))


def test_host_agrees_with_spread_scales_and_many_classes():
    """Raw Iris with its features multiplied by 1e-2 .. 1e2 (S levels far apart), and digits: 64 features,
    10 classes one-vs-one, on the host."""
    X, y = load("iris")
    X = X * np.array([1e-2, 1.0, 10.0, 100.0])
    idx = np.random.default_rng(1).permutation(len(X))
    check(train_and_report(X[idx[:90]], y[idx[:90]], X[idx[90:]], y[idx[90:]], "host", storage="int8",
                           arith="fixed", C=10.0))
    X, y = load("digits")
    check(train_and_report(X[:300], y[:300], X[300:400], y[300:400], "host", storage="int8", arith="fixed"))


@pytest.mark.skipif(shutil.which("avr-gcc") is None, reason="avr-gcc not installed")
@pytest.mark.parametrize("data_in", ["ram", "flash"])
def test_avr_assembly_builds_at_every_optimisation_level(tmp_path, data_in):
    """The AVR dot product's inline assembly needs pointer registers the compiler must find wherever the loop is
    compiled: the uno's fixed-point trainer and driver build warning-free at -O0 (the C loop) to -O3 and -Os."""
    X, y = load("iris")
    rows = (X[:20].astype(np.float32), (y[:20] == 0).astype(np.int64))
    cfg = make_config(n_features=4, capacity=20, classes=2, storage="int8", arith="fixed", data_in=data_in,
                      feature_range=(X.min(0), X.max(0)))
    (tmp_path / "trainer.h").write_text(render_trainer(cfg, "t", rows=rows if data_in == "flash" else None))
    (tmp_path / "main.c").write_text(DRIVER)
    for opt in ("-O0", "-O1", "-O2", "-O3", "-Os"):
        cmd = ["avr-gcc", "-mmcu=atmega328p", opt, "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion",
               "-Wconversion", f"-I{tmp_path}", f"-I{include_dir()}", f"-I{SUPPORT_DIR}", "-c",
               str(tmp_path / "main.c"), "-o", str(tmp_path / "main.o")]
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, f"{opt}: {res.stderr[-2000:]}"


@pytest.mark.parametrize("target", ["host", board_param("uno")])
@pytest.mark.parametrize("shift", [1e4, 1e5])
def test_agrees_on_shifted_features(target, shift, monkeypatch):
    """Iris shifted by 1e4 and 1e5 (an SVM with an intercept does not change under a shift): the constant term c is
    then 1e5-1e6 times w's largest folded entry. The selection's integer scores leave c out, so U keeps its full
    precision (max |U| >= 16,384 after every update): converged, bit-exact on the device, as accurate as unshifted."""
    largest = []
    refresh = reference._FoldedFixed.refresh

    def recording(self, w):
        refresh(self, w)
        largest.append(int(np.abs(self.U).max()))
    monkeypatch.setattr(reference._FoldedFixed, "refresh", recording)
    X, y = load("iris")
    idx = np.random.default_rng(0).permutation(len(X))
    X = X + shift
    rep = train_and_report(X[idx[:100]], y[idx[:100]], X[idx[100:]], y[idx[100:]], target, storage="int8",
                           arith="fixed")
    check(rep)
    assert rep["accuracy"] == 1.0
    assert min(largest[1:]) >= 16384   # every refresh after the first (w = 0)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
@pytest.mark.parametrize("name, scaling", [("iris", "minmax"), ("wine", "minmax"), ("digits", "minmax"),
                                           ("wine", "standard"), ("cancer", "standard")])
def test_reference_matches_float(name, scaling, kernel):
    """Fixed point changes the path, not the solution: the same test accuracy and the dual objective within 1e-4
    relative of float32's (features min-max scaled or standardised; C = 1)."""
    X, y = load(name)
    if scaling == "minmax":
        X = (X - X.min(0)) / np.maximum(X.max(0) - X.min(0), 1e-12)
    else:
        X = (X - X.mean(0)) / np.maximum(X.std(0), 1e-12)
    idx = np.random.default_rng(0).permutation(len(X))
    tr, te = idx[:int(0.7 * len(X))], idx[int(0.7 * len(X)):]
    fits = {a: SMOClassifier(storage="int8", kernel=kernel, arith=a).fit(X[tr], y[tr]) for a in ("float", "fixed")}
    assert fits["fixed"].score(X[te], y[te]) == fits["float"].score(X[te], y[te])
    np.testing.assert_allclose(fits["fixed"].objective_, fits["float"].objective_, rtol=1e-4)
    assert (fits["fixed"].status_ == "converged").all()


def test_auto_picks_fixed_point_without_an_fpu():
    for name, want in (("uno", "fixed"), ("samd21", "fixed"), ("ch32v003", "fixed"), ("nrf52840", "float"),
                       ("esp32", "float")):
        assert resolve_arith("auto", get_board(name), solver="wss2", kernel="linear", storage="int8",
                             n_features=4) == want
    b = get_board("uno")
    assert resolve_arith("auto", b, solver="wss2", kernel="rbf", storage="int8", n_features=4) == "fixed"
    for kw in (dict(solver="dcd", kernel="linear", storage="int8"), dict(solver="wss2", kernel="poly", storage="int8"),
               dict(solver="wss2", kernel="linear", storage="int16")):
        assert resolve_arith("auto", b, n_features=4, **kw) == "float"
    assert resolve_arith("auto", b, solver="wss2", kernel="linear", storage="int8", n_features=1) == "float"
    assert resolve_arith("auto", None, solver="wss2", kernel="linear", storage="int8", n_features=4) == "float"


@pytest.mark.parametrize("kw, match", [
    (dict(storage="int8", kernel="poly"), "arith 'fixed' is for solver 'wss2'"),
    (dict(storage="int16"), "storage 'int8'"),
    (dict(storage="int8", solver="dcd"), "solver 'dcd'"),
])
def test_fixed_point_refused_where_it_does_not_apply(kw, match):
    X, y = load("iris")
    with pytest.raises(ValueError, match=match):
        SMOClassifier(arith="fixed", **kw).fit(X, y)
    with pytest.raises(ValueError, match="unknown arith"):
        SMOClassifier(arith="double").fit(X, y)
    with pytest.raises(ValueError, match="2..512 features, got 1"):
        SMOClassifier(arith="fixed", storage="int8").fit(X[:, :1], y)
    with pytest.raises(ValueError, match="2..512 features"):
        make_config(n_features=1, capacity=8, classes=2, storage="int8", feature_range=(0, 1), arith="fixed")


def test_generated_header_defines_it():
    from microlearn.trainer.codegen import render_trainer
    on = render_trainer(make_config(n_features=4, capacity=8, classes=2, storage="int8", feature_range=(0, 1),
                                    arith="fixed"), "t")
    off = render_trainer(make_config(n_features=4, capacity=8, classes=2, storage="int8", feature_range=(0, 1)), "t")
    assert "#define MLRN_SMO_FIXED 1" in on and "MLRN_SMO_FIXED" not in off


def test_cli_refuses_fixed_point_for_poly(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    proc = subprocess.run([sys.executable, "-m", "microlearn", "train", str(csv), "--kernel", "poly",
                           "--storage", "int8", "--arith", "fixed"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--arith" in proc.stderr, proc.stderr
