"""The ESP8266 (Xtensa lx106) on qemu-system-xtensa's sim machine, and the libgcc routines the target brings
(Debian's lx106 libgcc lacks soft-float add/multiply and integer division).

Each run takes ~0.1 s; builds dominate. Skips with the apt-get line when the toolchain or qemu is missing.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import board_param, checked_target
from microlearn.data.datasets import load
from microlearn.targets import RunError, RunTimeout
from microlearn.targets.base import SUPPORT_DIR

C_DIR = Path(__file__).resolve().parent / "c"


def test_libgcc_routines_match_ieee_arithmetic(tmp_path):
    """mlrn_xt_libgcc.c compiled for the host, each routine against the host's IEEE arithmetic (SSE:
    round to nearest even, subnormals kept) on 2 million operand pairs of several kinds."""
    exe = tmp_path / "check"
    subprocess.run(["cc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                    "-I", str(SUPPORT_DIR / "xtensa"), str(C_DIR / "xt_libgcc_check.c"), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe), "2000000"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:]
    assert out.stdout.strip().endswith("2000000 cases, 0 mismatches")


def _iris_setosa():
    X, y = load("iris")
    idx = np.random.default_rng(0).permutation(len(X))
    return X[idx[:100]], y[idx[:100]], X[idx[100:]], y[idx[100:]]


@pytest.mark.parametrize("storage,kernel", [("float32", "linear"), ("int8", "rbf")])
@pytest.mark.parametrize("board", [board_param("esp8266")])
def test_iris_trains_on_the_esp8266_as_in_python(board, storage, kernel):
    """Soft float of our own, the same bits as numpy float32: every alpha, intercept and prediction."""
    from microlearn.trainer.runner import train_and_report
    t = checked_target(board)
    r = train_and_report(*_iris_setosa(), t, storage=storage, kernel=kernel)
    assert r["status"] == "converged" and r["agreement"] == 1.0 and r["accuracy"] == 1.0
    assert r["iterations"] == r["python_iterations"] and r["intercept_identical"] and r["max_alpha_diff"] == 0.0
    # time from the lx106 cycle model (cycle_model.XT_CORES): more cycles than instructions, within its bounds
    assert r["seconds_kind"] == "estimate" and r["seconds"] == pytest.approx(r["cycles_est"] / t.board.clock_hz)
    low, high = r["cycles_est_range"]
    assert r["instructions"] < low <= r["cycles_est"] <= high
    assert 0 < r["flash_bytes"] <= t.board.flash_bytes
    assert 0 < r["stack_bytes"] and r["sram_bytes"] <= t.board.sram_bytes


@pytest.mark.parametrize("board", [board_param("esp8266")])
def test_learner_loop_agrees_with_the_reference(board):
    from microlearn.data import streams
    from microlearn.learner.runner import loop
    checked_target(board)
    X, y = streams.make("rotating_hyperplane", n=300, drift_points=(150,))[:2]
    rep = loop(X, board, y=y, capacity=40, budget=50, baselines=False)
    assert rep["target"] == board and rep["agreement"] == 1.0 and rep["same_events"]
    assert len(rep["python_retrains"]) > 0 and rep["instructions"] > 0


@pytest.mark.parametrize("board", [board_param("esp8266")])
def test_faults_and_endless_loops_end_the_run(board, tmp_path):
    t = checked_target(board, max_instructions=2_000_000)
    with pytest.raises(RunTimeout, match="2,000,000 instructions"):
        t.run(t.build([C_DIR / "loop.c"], tmp_path / "loop"), timeout=30)
    # a call into memory that holds no code (the sim machine's unmapped 0x20000000): the double-exception
    # vector reports it and the run ends with the fault
    with pytest.raises(RunError, match="crashed") as crash:
        t.run(t.build([C_DIR / "crash.c"], tmp_path / "crash", defines={"BAD_ADDR": "0x20000000u"}), timeout=30)
    assert crash.value.output == "before\n"
    with pytest.raises(RunError, match="exited with code 3") as info:
        t.run(t.build([C_DIR / "return_3.c"], tmp_path / "r3"), timeout=30)
    assert info.value.output == "hi\n"
