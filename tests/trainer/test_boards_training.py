"""Training ON every emulated board: a small problem agrees with the Python reference exactly, and
emulator/tool errors reach the user as one clear line."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import board_param, tools_missing
from microlearn.boards import power
from microlearn.boards.registry import get_board
from microlearn.cli.main import main
from microlearn.data.datasets import load, split, write_csv
from microlearn.trainer.runner import train_and_report
from microlearn.targets import get_target
from microlearn.targets.errors import DoesNotFit, RunError, RunTimeout, TargetUnavailable

C_DIR = Path(__file__).resolve().parent / "c"
AVR = ("uno", "mega2560")
CORTEXM = ("nrf52840", "bluepill", "samd21", "rp2040")


def small_iris(n_train=36, n_test=20):
    """Iris setosa vs rest, shuffled (seed 0): n_train rows to train, n_test to test."""
    X, y = load("iris")
    X_tr, X_te, y_tr, y_te = split(X, y, 0.3, shuffle=True, seed=0)
    return X_tr[:n_train], X_te[:n_test], y_tr[:n_train], y_te[:n_test]


@pytest.mark.parametrize("board", [board_param(b) for b in AVR + CORTEXM])
def test_trains_on_board_like_python(board):
    X_tr, X_te, y_tr, y_te = small_iris()
    storage = "int8" if board == "uno" else "float32"
    r = train_and_report(X_tr, y_tr, X_te, y_te, board, storage=storage, timeout=120)
    assert r["target"] == board
    assert r["status"] == "converged"
    assert r["agreement"] == 1.0
    assert r["iterations"] == r["python_iterations"]
    assert r["intercept_identical"]
    assert r["max_alpha_diff"] == 0.0
    assert r["accuracy"] == r["python_accuracy"] == 1.0
    assert r["sram_bytes"] <= get_board(board).sram_bytes
    if board in AVR:
        assert r["cycles"] > 0 and r["seconds_kind"] == "exact"
    else:
        assert r["instructions"] > 0 and r["seconds_kind"] == "estimate"
    rc = power.run_current(board)
    if rc is None:        # no citable current at this clock: no energy, and the report says why
        assert r["energy_mj"] is None and r["energy_missing"]
    else:
        assert r["energy_mj"] == pytest.approx(rc.ma * rc.volts * r["seconds"]) and rc.source in r["energy_source"]


@pytest.mark.parametrize("board", [board_param("uno"), board_param("bluepill")])
def test_simplified_solver_and_multiclass_on_board(board):
    X, y = load("iris3")
    X_tr, X_te, y_tr, y_te = split(X, y, 0.3, shuffle=True, seed=0)
    r = train_and_report(X_tr[:30], y_tr[:30], X_te[:15], y_te[:15], board, solver="simplified", storage="int8",
                         multiclass="ovr", timeout=120)
    assert r["agreement"] == 1.0 and r["iterations"] == r["python_iterations"]


# ---- errors become clear messages ------------------------------------------------------------------

@pytest.fixture
def iris_csv(tmp_path):
    X, y = load("iris")
    p = tmp_path / "iris.csv"
    write_csv(p, X, y)
    return p


def _one_line_error(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.count("\n") == 0 and "Traceback" not in err
    return err


def test_cli_too_big_fails_before_building(iris_csv, capsys, monkeypatch):
    """No toolchain is touched: the planner rejects the configuration first."""
    from microlearn.targets import avr
    monkeypatch.setattr(avr.AvrTarget, "build", lambda *a, **k: pytest.fail("built a configuration that cannot fit"))
    err = _one_line_error(capsys, ["train", str(iris_csv), "--target", "uno", "--capacity", "400"])
    assert "does not fit the uno" in err
    assert "B over the 1,792 B available" in err
    assert "capacity <=" in err and "int8" in err and "another board: " in err


def test_cli_missing_toolchain_is_one_line(iris_csv, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    err = _one_line_error(capsys, ["train", str(iris_csv), "--target", "nrf52840"])
    assert "apt-get install" in err


@pytest.mark.cortexm
@pytest.mark.skipif(bool(tools_missing("nrf52840")), reason="qemu/arm toolchain not installed")
def test_cli_hang_is_one_line(iris_csv, capsys):
    err = _one_line_error(capsys, ["train", str(iris_csv), "--target", "nrf52840", "--timeout", "0.001"])
    assert "did not finish" in err


@pytest.mark.avr
@pytest.mark.skipif(bool(tools_missing("uno")), reason="AVR toolchain not installed")
def test_avr_cycle_bound_is_a_timeout():
    X_tr, X_te, y_tr, y_te = small_iris()
    with pytest.raises(RunTimeout):
        train_and_report(X_tr, y_tr, X_te, y_te, get_target("uno", max_cycles=100_000), storage="int8")


@pytest.mark.cortexm
@pytest.mark.skipif(bool(tools_missing("samd21")), reason="qemu/arm toolchain not installed")
def test_crash_is_a_run_error(tmp_path):
    t = get_target("samd21")
    b = t.build([C_DIR / "call_no_code.c"], tmp_path / "b")
    with pytest.raises(RunError, match="crash"):
        t.run(b, timeout=30)


@pytest.mark.avr
@pytest.mark.skipif(bool(tools_missing("uno")), reason="AVR toolchain not installed")
def test_link_overflow_gets_the_planner_message():
    """A real linker overflow (the pre-check bypassed) is explained with what would fit."""
    from microlearn.tools.measure import config, measure
    from microlearn.trainer.planner import does_not_fit
    cfg = config(4, 200)   # float32: ~4 KB static on a 2 KB board
    t = get_target("uno")
    with pytest.raises(DoesNotFit) as info:
        measure(cfg, t, run=False)
    exc = does_not_fit(cfg, t, info.value)
    assert exc.region == "sram" and exc.over == info.value.over
    assert "What fits" in str(exc) and "int8" in str(exc)


def test_missing_tool_raises_unavailable_with_hint(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    X_tr, X_te, y_tr, y_te = small_iris()
    with pytest.raises(TargetUnavailable, match="apt-get install"):
        train_and_report(X_tr, y_tr, X_te, y_te, "bluepill")


def test_esp32_is_planner_only():
    with pytest.raises(TargetUnavailable, match="planner"):
        get_target("esp32")
