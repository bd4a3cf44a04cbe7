"""Training data beyond SRAM (mlrn_store.h MLRN_STORE_SOURCE; `microlearn train --data-in`): the samples in a
const table in flash or behind the application's read callback train exactly what the RAM build trains (same
iterations, alphas, w, b and predictions as the Python reference, bit for bit), on the host for every solver,
kernel and storage type and on the uno and the nrf52840 (other boards: slow); a failing callback ends training
with its status; the planner sizes each case (SRAM without the rows, flash with them); hostile values get one line.
The C API itself: tests/trainer/c/store_sources.c (C and C++, both read-only sources)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compile_c import SANITIZE, SANITIZED_ENV, compile_c, compile_command, program_output
from conftest import board_param
from microlearn.core import vocab
from microlearn.data.datasets import load
from microlearn.targets import get_target
from microlearn.trainer.config import TrainerConfig, make_config
from microlearn.trainer.estimator import SMOClassifier
from microlearn.trainer.planner import CONST_IN_RAM_BOARDS, plan
from microlearn.trainer.runner import train_and_report, train_on_target
from microlearn.trainer.config import config_from_estimator

SOURCE = Path(__file__).resolve().parent / "c" / "store_sources.c"


def iris(n=60, seed=0, classes=2):
    X, y = load("iris")
    if classes == 2:
        X, y = X[:100], y[:100]
    idx = np.random.default_rng(seed).permutation(len(X))
    return X[idx[:n]], X[idx[n:]], y[idx[:n]], y[idx[n:]]


def exact(rep):
    est = rep["_estimator"]
    assert rep["status"] in ("converged", "max_iter")
    assert rep["agreement"] == 1.0 and rep["max_alpha_diff"] == 0.0
    assert rep["iterations"] == rep["python_iterations"]
    assert rep["intercept_identical"]
    if est.kernel == "linear":
        assert np.array_equal(rep["_run"].w.view(np.uint32), est.coef_.ravel().view(np.uint32))


STORAGE = {"float32": {}, "int16": {"feature_range": (0, 8)}, "int8": {"feature_range": (0, 8)}}
CASES = [("wss2", "linear"), ("wss2", "rbf"), ("wss2", "poly"), ("wss2", "sigmoid"), ("simplified", "linear"),
         ("simplified", "rbf"), ("simplified", "poly"), ("dcd", "linear")]


@pytest.mark.parametrize("data_in", ["flash", "callback"])
@pytest.mark.parametrize("storage", list(STORAGE))
@pytest.mark.parametrize("solver,kernel", CASES)
def test_host_every_solver_kernel_storage_agrees(data_in, storage, solver, kernel):
    Xtr, Xte, ytr, yte = iris(40)
    rep = train_and_report(Xtr, ytr, Xte, yte, "host", data_in=data_in, solver=solver, kernel=kernel,
                           storage=storage, **STORAGE[storage])
    exact(rep)
    assert rep["data_in"] == data_in


@pytest.mark.parametrize("data_in", ["flash", "callback"])
@pytest.mark.parametrize("multiclass", ["ovo", "ovr"])
def test_host_multiclass_agrees_and_equals_the_ram_build(data_in, multiclass):
    Xtr, Xte, ytr, yte = iris(90, classes=3)
    kw = dict(storage="int8", feature_range=(0, 8), multiclass=multiclass, kernel="rbf")
    rep = train_and_report(Xtr, ytr, Xte, yte, "host", data_in=data_in, **kw)
    ram = train_and_report(Xtr, ytr, Xte, yte, "host", **kw)
    exact(rep)
    assert np.array_equal(rep["_run"].predictions, ram["_run"].predictions)
    assert np.array_equal(rep["_run"].alpha.view(np.uint32), ram["_run"].alpha.view(np.uint32))


@pytest.mark.parametrize("lang", ["c", "c++"])
@pytest.mark.parametrize("source", [1, 2], ids=["flash", "callback"])
def test_c_api_of_the_read_only_stores(tmp_path, lang, source):
    out = program_output(SOURCE, tmp_path, lang=lang, defines={"MLRN_STORE_SOURCE": source})
    assert out.rstrip().endswith("done"), out
    assert out.count("trained ") == 2 * 5
    assert ("callback errors" in out) == (source == 2)


def test_c_api_under_sanitizers(tmp_path):
    exe = tmp_path / "store_sources"
    compile_c(SOURCE, exe, defines={"MLRN_STORE_SOURCE": 2}, extra=SANITIZE)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, env=SANITIZED_ENV, timeout=120)
    assert proc.returncode == 0 and "done" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


def _failing_run(target, fail_at):
    Xtr, Xte, ytr, yte = iris(30)
    est = SMOClassifier(storage="int8", feature_range=(0, 8)).fit(Xtr, ytr)
    cfg = config_from_estimator(est, len(Xtr), "callback")
    return train_on_target(cfg, get_target(target), Xtr, np.searchsorted(est.classes_, ytr), Xte,
                           np.searchsorted(est.classes_, yte), fail_at=fail_at, timeout=120)


@pytest.mark.parametrize("fail_at", [1, 50, 300])
def test_host_callback_error_ends_training_with_its_status(fail_at):
    run = _failing_run("host", fail_at)
    assert run.status == vocab.STATUS_BY_CODE[-10].code    # MLRN_ERR_IO, and the driver exited normally


BOARDS = [board_param("uno"), board_param("nrf52840"), board_param("bluepill", slow=True),
          board_param("samd21", slow=True), board_param("esp32c3", slow=True), board_param("esp8266", slow=True)]


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("data_in", ["flash", "callback"])
def test_boards_agree_bit_for_bit_with_ram(board, data_in):
    """Iris 40 rows, int8 (the uno's RAM build fits): the device's flash / callback build trains exactly what its
    RAM build and the Python reference train."""
    Xtr, Xte, ytr, yte = iris(40)
    kw = dict(storage="int8", feature_range=(0, 8))
    rep = train_and_report(Xtr, ytr, Xte, yte, board, data_in=data_in, timeout=300, **kw)
    ram = train_and_report(Xtr, ytr, Xte, yte, board, timeout=300, **kw)
    exact(rep)
    assert np.array_equal(rep["_run"].alpha.view(np.uint32), ram["_run"].alpha.view(np.uint32))
    assert np.array_equal(rep["_run"].predictions, ram["_run"].predictions)
    # SRAM holds no rows: the static SRAM falls (not on the esp8266, whose start-up copies const data, the rows
    # table or the callback driver's stand-in memory, to RAM: there it stays about the same)
    if board in CONST_IN_RAM_BOARDS:
        assert rep["static_ram_bytes"] >= ram["static_ram_bytes"] - 64
    else:
        assert rep["static_ram_bytes"] < ram["static_ram_bytes"]


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
@pytest.mark.parametrize("solver,kernel", [("simplified", "linear"), ("dcd", "linear"), ("wss2", "rbf")])
def test_boards_flash_other_solvers(board, solver, kernel):
    Xtr, Xte, ytr, yte = iris(24)
    exact(train_and_report(Xtr, ytr, Xte, yte, board, data_in="flash", solver=solver, kernel=kernel,
                           storage="int16", feature_range=(0, 8), timeout=300))


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
def test_board_callback_error_is_a_status(board):
    run = _failing_run(board, 40)
    assert run.status == -10


def test_uno_float32_iris100_fits_only_in_flash():
    """Iris-100 float32 (1,600 B of rows + 100 labels) does not fit the uno's 2 KB in RAM; in flash it does."""
    ram = plan("uno", 4, 100, storage="float32")
    flash = plan("uno", 4, 100, storage="float32", data_in="flash")
    assert not ram.fits and flash.fits
    assert "trainer_data" not in flash.static_buffers and "trainer_labels" not in flash.static_buffers
    assert flash.flash_tables == {"rows": 1600, "row_labels": 100}
    assert any("--data-in flash" in s for s in ram.suggestions())


def test_planner_seeds_protocols():
    """The seeds' breast-cancer protocol (398 x 30) on the uno and digits (1,258 x 64, int8) on the samd21 and the
    bluepill, samples in flash: what fits and by how many bytes what does not."""
    c8 = plan("uno", 30, 398, storage="int8", data_in="flash")
    c16 = plan("uno", 30, 398, storage="int16", data_in="flash")
    assert not c8.fits and "flash" not in c8.over and c8.over["static"] > 0   # the alphas alone are 1,592 B
    assert "flash" in c16.over                                                  # 23,880 B of rows + code > 32 KB
    assert c8.max_capacity["int8"] > 8 * plan("uno", 30, 20, storage="int8").max_capacity["int8"]
    assert plan("samd21", 64, 1258, storage="int8", data_in="flash").fits
    bp = plan("bluepill", 64, 1258, storage="int8", data_in="flash")
    assert list(bp.over) == ["flash"] and bp.over["flash"] > 80_512 + 1258 - 65_536
    assert "flash" in bp.message() and f"{bp.over['flash']:,} B over" in bp.message()


def test_planner_esp8266_counts_the_table_in_sram():
    ram = plan("esp8266", 4, 100, storage="int8")
    flash = plan("esp8266", 4, 100, storage="int8", data_in="flash")
    assert flash.static_ram_bytes >= ram.static_ram_bytes - 4     # the 500 B table is copied to RAM
    assert any("copied to RAM" in n for n in flash.notes)


def test_planner_ram_figures_unchanged_by_the_option():
    a = plan("nrf52840", 4, 60, storage="int8")
    b = plan("nrf52840", 4, 60, storage="int8", data_in="ram")
    assert a.to_dict() == b.to_dict()
    cb = plan("nrf52840", 4, 60, storage="int8", data_in="callback")
    assert cb.static_buffers["trainer_codes"] == vocab.store_codes_size(4, "int8") == 8


@pytest.mark.hostile
@pytest.mark.parametrize("bad", ["eeprom", "", "FLASH", None, 1])
def test_hostile_data_in_values(bad):
    with pytest.raises(ValueError, match="data_in must be one of ram, flash, callback"):
        make_config(n_features=2, capacity=4, classes=2, data_in=bad)
    with pytest.raises(ValueError, match="data_in"):
        plan("uno", 2, 4, data_in=bad)


@pytest.mark.hostile
def test_hostile_cli_data_in(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "microlearn", "train", str(csv), "--data-in", "sdcard"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2 and "--data-in" in p.stderr and "sdcard" in p.stderr
    assert "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "microlearn", "train", str(csv), "--data-in", "flash", "--capacity",
                        "40"], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode != 0 and "--capacity" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = subprocess.run([sys.executable, "-m", "microlearn", "train", str(csv), "--data-in", "flash", "--json"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["data_in"] == "flash" and rep["agreement"] == 1.0


def test_flash_header_holds_the_quantised_table():
    cfg = make_config(n_features=2, capacity=3, classes=2, storage="int8", feature_range=(0, 1), data_in="flash")
    from microlearn.trainer.codegen import render_trainer
    h = render_trainer(cfg, "t", rows=(np.array([[0, 1], [0.5, 0.5], [1, 0]], np.float32), np.array([0, 1, 1])))
    assert "static const int8_t t_rows[6] MLRN_FLASH" in h and "mlrn_store_init_flash" in h
    assert "t_data[" not in h and "#define MLRN_STORE_SOURCE 1" in h
    with pytest.raises(ValueError, match="needs the training rows"):
        render_trainer(cfg, "t")
    with pytest.raises(ValueError, match="NaN"):
        render_trainer(cfg, "t", rows=(np.array([[0, np.nan], [0, 0], [1, 1]]), np.array([0, 1, 1])))
    with pytest.raises(ValueError, match="label outside"):
        render_trainer(cfg, "t", rows=(np.zeros((3, 2)), np.array([0, 1, 2])))
    assert isinstance(cfg, TrainerConfig)


# ---- more classes: up to 64 (one-vs-rest keeps memory linear in the classes) ----------------------------------
def blobs(k, per=2, seed=0):
    """k well separated classes in k dimensions: class c around 4 e_c (each class linearly separable from the
    rest, one-vs-rest's argmax right)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), per)
    X = (4.0 * np.eye(k)[y] + rng.normal(0, 0.3, (len(y), k))).astype(np.float32)
    return X, y


@pytest.mark.parametrize("target", ["host", board_param("nrf52840")])
def test_64_classes_ovr_agree(target):
    X, y = blobs(64)
    rep = train_and_report(X, y, X, y, target, multiclass="ovr", timeout=600)
    exact(rep)
    assert len(rep["classes"]) == 64 and rep["accuracy"] == 1.0


def test_64_classes_flash_on_host():
    X, y = blobs(64)
    rep = train_and_report(X, y, X, y, "host", multiclass="ovr", data_in="flash", storage="int8",
                           feature_range=(-2, 6))
    exact(rep)
    assert rep["accuracy"] == 1.0


@pytest.mark.hostile
def test_classes_limits_are_one_line():
    X, y = blobs(20)
    with pytest.raises(ValueError, match=r"one-vs-one trains .*quadratic.* multiclass='ovr'"):
        train_and_report(X, y, X, y, "host", multiclass="ovo")
    X, y = blobs(65)
    with pytest.raises(ValueError, match="65 classes, more than the 64"):
        train_and_report(X, y, X, y, "host", multiclass="ovr")
    with pytest.raises(ValueError, match="quadratic"):
        plan("nrf52840", 2, 40, 20, multiclass="ovo")
    assert plan("nrf52840", 64, 128, 64, multiclass="ovr").fits


STORE_TYPE_SOURCE = Path(__file__).parent / "c" / "store_type.c"


@pytest.mark.parametrize("lang", ["c", "c++"])
@pytest.mark.parametrize("storage", ["float32", "int16", "int8"])
def test_one_storage_type_per_build(tmp_path, lang, storage):
    """MLRN_STORE_TYPE: the build's one type trains every solver and kernel; the other two are refused."""
    out = program_output(STORE_TYPE_SOURCE, tmp_path, lang=lang, defines={"MLRN_STORE_TYPE": vocab.STORAGES[storage]})
    assert out.rstrip().endswith("done"), out
    assert out.count("refused ") == 2 and out.count("trained ") == 5, out   # wss2, simplified: 2 kernels; dcd


def test_a_storage_type_outside_the_three_is_a_compile_error(tmp_path):
    proc = subprocess.run(compile_command([STORE_TYPE_SOURCE], tmp_path / "x", defines={"MLRN_STORE_TYPE": 7}),
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "MLRN_STORE_TYPE must be" in proc.stderr


def test_generated_headers_state_their_storage_type():
    """A trainer and a learner header define MLRN_STORE_TYPE from their configuration (and #error on another)."""
    from microlearn.core.store import affine_from_range
    from microlearn.learner.codegen import render_header
    from microlearn.learner.config import LearnerConfig
    from microlearn.trainer.codegen import render_trainer
    for storage in ("float32", "int8"):
        t = render_trainer(make_config(n_features=2, capacity=8, classes=2, storage=storage,
                                       feature_range=(-4.0, 4.0)), "t")
        scale, offset = affine_from_range(-4.0, 4.0, storage, 2) if storage != "float32" else (None, None)
        h = render_header(LearnerConfig(n_features=2, n_classes=2, storage=storage, scale=scale, offset=offset), "lrn")
        for text in (t, h):
            assert f"#define MLRN_STORE_TYPE {vocab.STORAGES[storage]}" in text
            assert f"#if MLRN_STORE_TYPE != {vocab.STORAGES[storage]}" in text
