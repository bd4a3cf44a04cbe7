"""The RISC-V boards (esp32c3: RV32IMC, ch32v003: RV32EC) on qemu-system-riscv32's virt machine.

Each run takes ~0.1 s; builds dominate. Skips with the apt-get line when the toolchain or qemu is missing.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import board_param, checked_target
from microlearn.data.datasets import load, write_csv
from microlearn.targets import RunError, RunTimeout

C_DIR = Path(__file__).resolve().parent / "c"
RV_BOARDS = ["esp32c3", "ch32v003"]
PMP_STORE_FAULT = 7      # mcause: store/AMO access fault
ILLEGAL_INSTRUCTION = 2  # mcause


_target = checked_target


def _boards(names, slow=False):
    return [board_param(n, slow) for n in names]


def _iris_setosa():
    """The README demo's problem: Iris setosa vs rest, the first 100 rows of a seeded shuffle to train."""
    X, y = load("iris")
    idx = np.random.default_rng(0).permutation(len(X))
    return X[idx[:100]], y[idx[:100]], X[idx[100:]], y[idx[100:]]


@pytest.mark.parametrize("board,storage", [pytest.param(*p.values, "float32", marks=p.marks, id=p.id)
                                           for p in _boards(["esp32c3"])]
                         + [pytest.param(*p.values, "int8", marks=p.marks, id=p.id) for p in _boards(["ch32v003"])])
def test_iris_trains_on_the_board_as_in_python(board, storage):
    from microlearn.trainer.runner import train_and_report
    t = _target(board)
    r = train_and_report(*_iris_setosa(), t, storage=storage)
    assert r["status"] == "converged" and r["agreement"] == 1.0 and r["accuracy"] == 1.0
    assert r["iterations"] == r["python_iterations"]
    assert r["seconds_kind"] == "estimate" and r["instructions"] > 10_000
    # time from the cycle model's nominal estimate, its range around it (cycle_model.RV_CORES)
    low, high = r["cycles_est_range"]
    assert r["instructions"] <= low <= r["cycles_est"] <= high
    assert r["seconds"] == pytest.approx(r["cycles_est"] / t.board.clock_hz)
    assert 0 < r["flash_bytes"] <= t.board.flash_bytes
    assert 0 < r["stack_bytes"] and r["sram_bytes"] == r["static_ram_bytes"] + r["stack_bytes"] <= t.board.sram_bytes
    # deterministic: the same count again
    assert train_and_report(*_iris_setosa(), t, storage=storage)["instructions"] == r["instructions"]


@pytest.mark.parametrize("board", _boards(["esp32c3"]))
def test_learner_loop_agrees_with_the_reference(board):
    """`microlearn loop --target esp32c3`: the planner, the build, the run row by row, the comparison."""
    from microlearn.data import streams
    from microlearn.learner.runner import loop
    _target(board)
    X, y = streams.make("rotating_hyperplane", n=300, drift_points=(150,))[:2]
    rep = loop(X, board, y=y, capacity=40, budget=50, baselines=False)
    assert rep["target"] == board and rep["agreement"] == 1.0 and rep["same_events"]
    assert len(rep["python_retrains"]) > 0
    assert rep["seconds_kind"] == "estimate" and rep["instructions"] > 0
    assert 0 < rep["flash_bytes"] <= 4096 * 1024


@pytest.mark.parametrize("board", _boards(RV_BOARDS))
def test_guest_looping_forever_is_stopped(board, tmp_path):
    t = _target(board, max_instructions=2_000_000)
    build = t.build([C_DIR / "loop.c"], tmp_path / "b")
    with pytest.raises(RunTimeout, match="2,000,000 instructions"):
        t.run(build, timeout=30)
    unbounded = _target(board, max_instructions=0)      # no instruction limit: the wall clock ends it
    with pytest.raises(RunTimeout, match="did not finish"):
        unbounded.run(build, timeout=0.5)


@pytest.mark.parametrize("board", _boards(RV_BOARDS))
def test_store_past_ram_or_into_flash_faults(board, tmp_path):
    t = _target(board)
    b = t.board
    for name, addr in (("past_ram", b.ram_origin + b.sram_bytes), ("flash", b.flash_origin + 64)):
        build = t.build([C_DIR / "store_at.c"], tmp_path / name, defines={"STORE_ADDR": f"{addr:#x}u"})
        with pytest.raises(RunError) as info:
            t.run(build, timeout=10)
        assert not isinstance(info.value, RunTimeout)
        assert f"mcause={PMP_STORE_FAULT} mtval=0x{addr:08x}" in str(info.value), str(info.value)
        assert info.value.output == "before\n"
    # the last word of SRAM is the top of the stack: storing there is fine
    ok = t.build([C_DIR / "store_at.c"], tmp_path / "ok", defines={"STORE_ADDR": f"{b.ram_origin + b.sram_bytes - 4:#x}u"})
    assert t.run(ok, timeout=10).output == "before\nafter\n"


@pytest.mark.parametrize("board", _boards(RV_BOARDS))
def test_stack_high_water_follows_recursion_depth(board, tmp_path):
    t = _target(board)
    build = t.build([C_DIR / "deep.c"], tmp_path / "b")
    s = {d: t.run(build, bytes([d])).stack_bytes for d in (2, 3, 12)}
    frame = s[3] - s[2]
    assert 64 < frame <= 96                      # 64-byte buffer + saved registers, aligned
    assert s[12] - s[2] == 10 * frame            # exact: painted and scanned


@pytest.mark.parametrize("board", _boards(["ch32v003"]))
def test_exit_code_reaches_the_caller(board, tmp_path):
    t = _target(board)
    with pytest.raises(RunError, match="code 3") as info:
        t.run(t.build([C_DIR / "return_3.c"], tmp_path / "b"))
    assert info.value.output.startswith("hi\n")


@pytest.mark.parametrize("board", _boards(RV_BOARDS))
def test_cpu_has_only_the_parts_extensions(board, tmp_path):
    """The CH32V003 has no multiplier: qemu runs it without M and a MUL faults; the ESP32-C3 has M."""
    t = _target(board)
    build = t.build([C_DIR / "rv_mul.c"], tmp_path / "b")
    if "m" in t.board.core[len("RV32"):].lower():
        assert t.run(build, timeout=10).output == "before\n42\n"
    else:
        with pytest.raises(RunError, match=f"mcause={ILLEGAL_INSTRUCTION} "):
            t.run(build, timeout=10)


@pytest.mark.parametrize("board", _boards(["ch32v003"]))
def test_cli_train_int8_on_ch32v003(board, tmp_path):
    """`microlearn train iris.csv --target ch32v003 --storage int8`: setosa vs rest trains on the board, and so
    does the three-class problem since a generated trainer compiles only its own solvers (it was 48 B over the
    16 KB flash with the simplified solver's code in); float32 three-class is refused in one line."""
    _target(board)

    def train(X, labels, name):
        p = tmp_path / f"{name}.csv"
        write_csv(p, X, labels, label="species")
        return subprocess.run([sys.executable, "-m", "microlearn.cli.main", "train", str(p), "--target", board,
                               "--storage", "int8", "--json"], capture_output=True, text=True, timeout=600)

    X, y = load("iris")
    r = train(X, np.array(["other", "setosa"])[y], "iris")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["target"] == board and rep["agreement"] == 1.0 and rep["status"] == "converged"
    assert rep["n_train"] == 105 and rep["flash_bytes"] <= 16 * 1024 and rep["sram_bytes"] <= 2 * 1024
    X3, y3 = load("iris3")
    r = train(X3, np.array(["setosa", "versicolor", "virginica"])[y3], "iris3")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["agreement"] == 1.0 and rep["status"] == "converged" and rep["flash_bytes"] <= 16 * 1024
    p = tmp_path / "iris3f.csv"
    write_csv(p, X3, np.array(["setosa", "versicolor", "virginica"])[y3], label="species")
    r = subprocess.run([sys.executable, "-m", "microlearn.cli.main", "train", str(p), "--target", board,
                        "--storage", "float32", "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "does not fit the ch32v003" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_planner_is_calibrated_for_the_riscv_boards():
    from microlearn.boards import get_board
    from microlearn.trainer import planner
    for name in RV_BOARDS:
        p = planner.plan(get_board(name), 4, 100, 2, storage="int8")
        assert not p.estimate, name
        assert p.fits, name


@pytest.mark.parametrize("board", _boards(["ch32v003"]))
def test_exported_model_agrees_on_the_board(board):
    """The exporter's compile() on a RISC-V target: an RBF SVC's predictions equal scikit-learn's."""
    from sklearn.svm import SVC
    from microlearn.exporter.runner import compile
    t = _target(board)
    X, y = load("iris3")
    est = SVC(kernel="rbf", gamma=0.5).fit(X, y)
    cm = compile(est, t)
    assert np.array_equal(cm.predict(X), est.predict(X))
    assert cm.build.flash_bytes <= t.board.flash_bytes


@pytest.mark.hostile
@pytest.mark.parametrize("board", _boards(["esp32c3"]))
def test_semihosting_cannot_reach_the_host(board, tmp_path):
    """RISC-V semihosting offers the guest the same host file and SYS_SYSTEM operations as ARM's: opens
    outside the run directory fail, SYS_SYSTEM stops the emulator (the same sandbox as the Cortex-M boards)."""
    t = _target(board)
    escape, system_marker = tmp_path / "escape_marker", tmp_path / "system_marker"
    b = t.build([C_DIR / "escape_semihosting.c"], tmp_path / "build", defines={"ESCAPE_FILE": f'"{escape}"'})
    out = t.run(b, timeout=60).output
    fields = dict(kv.split("=") for kv in out.split())
    assert int(fields["open_write"]) < 0 and int(fields["open_read"]) < 0, out
    b = t.build([C_DIR / "escape_semihosting.c"], tmp_path / "build2",
                defines={"ESCAPE_FILE": f'"{escape}"', "SYSTEM_CMD": f'"touch {system_marker}"'})
    with pytest.raises(RunError, match="start a host process"):
        t.run(b, timeout=60)
    assert not escape.exists() and not system_marker.exists()
