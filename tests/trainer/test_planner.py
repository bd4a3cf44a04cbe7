"""The memory planner: its API and CLI, and its figures against the measured ones (static SRAM
exactly, total SRAM and flash within 10%) over a grid of configurations on uno and a Cortex-M board."""
from __future__ import annotations

import json

import pytest

import microlearn
from conftest import board_param
from microlearn.trainer.planner import (Plan, boards_that_fit, calibration, does_not_fit, max_capacity, plan,
                                        plan_config, precheck)
from microlearn.boards.registry import get_board, list_boards
from microlearn.cli.main import main
from microlearn.trainer.config import make_config
from microlearn.targets import get_target
from microlearn.targets.errors import DoesNotFit


def test_plan_api_and_static_by_name():
    p = microlearn.plan("uno", n_features=4, capacity=100, classes=2, kernel="linear", storage="int8")
    assert isinstance(p, Plan)
    cfg = make_config(n_features=4, capacity=100, classes=2, storage="int8", feature_range=(0, 1))
    buf = cfg.buffers()
    assert p.static_buffers["trainer_data"] == buf["data"] == 400
    assert p.static_buffers["trainer_labels"] == buf["labels"]
    assert p.static_buffers["trainer_work"] == buf["work"]
    cal = calibration()["boards"]
    assert p.static_buffers["trainer_store"] == cal["uno"]["store_bytes"] == 16   # 2-byte pointers
    assert p.static_buffers["trainer_svm"] == cal["uno"]["svm_bytes"]
    assert sum(p.static_buffers.values()) == p.static_ram_bytes
    assert p.sram_bytes == p.static_ram_bytes + p.stack_bytes
    assert p.fits and not p.estimate
    arm = plan("nrf52840", 4, 100, storage="int8")
    assert arm.static_buffers["trainer_store"] == 24                              # 4-byte pointers
    assert arm.static_buffers["trainer_svm"] > p.static_buffers["trainer_svm"]
    assert plan_config(cfg, "uno").to_dict() == p.to_dict()


def test_max_capacity_is_the_boundary():
    for board in ("uno", "bluepill", "mega2560"):
        for st in ("float32", "int16", "int8"):
            cap = max_capacity(board, 6, 3, kernel="rbf", storage=st)
            assert plan(board, 6, cap, 3, kernel="rbf", storage=st).fits
            assert not plan(board, 6, cap + 1, 3, kernel="rbf", storage=st).fits
    caps = plan("uno", 4, 50).max_capacity
    assert caps["float32"] < caps["int16"] < caps["int8"]
    assert max_capacity("uno", 2000, 2) == 0      # not even 2 samples of 2000 floats


def test_does_not_fit_says_by_how_much_and_what_fits():
    p = plan("uno", 4, 300)
    assert not p.fits and p.over["static"] == p.static_ram_bytes - (2048 - 256)
    msg = p.message()
    assert f"{p.over['static']:,} B over" in msg
    assert f"capacity <= {p.max_capacity['float32']:,} with float32" in msg
    assert "another board: " in msg and "mega2560" in msg
    assert "uno" not in boards_that_fit(4, 300)


def test_precheck_raises_before_building():
    cfg = make_config(n_features=4, capacity=300, classes=2)
    target = get_target("uno")
    with pytest.raises(DoesNotFit, match="does not fit the uno") as info:
        precheck(cfg, target)
    assert info.value.region == "sram" and info.value.over > 0
    assert precheck(make_config(n_features=4, capacity=30, classes=2), target).fits


def test_link_time_overflow_message_uses_the_plan():
    class FakeTarget:
        board = get_board("bluepill")
        stack_reserve = 2048
    cfg = make_config(n_features=4, capacity=100, classes=2)
    exc = does_not_fit(cfg, FakeTarget(), DoesNotFit("does not fit the bluepill: static RAM is 500 bytes over",
                                                     region="sram", over=500))
    assert "500 bytes over" in str(exc) and "What fits" in str(exc) and exc.over == 500


def test_esp32_is_an_estimate_without_a_toolchain():
    p = plan("esp32", 64, 1000, 10, kernel="rbf")
    assert p.estimate and "nrf52840" in p.basis and p.notes
    assert p.static_limit_bytes == 160 * 1024          # ESP-IDF's static data cap
    assert p.max_capacity["int8"] > p.max_capacity["float32"] > 0


def test_calibration_matches_the_runtime():
    """The stored constants were measured with today's runtime headers, driver and support code."""
    from microlearn.trainer.planner import calibration_is_current
    assert calibration_is_current(), ("the trainer runtime, driver or support code changed since "
                                      "calibration.json was written: rerun `python -m microlearn.tools.calibrate`")


def test_every_board_is_calibrated():
    cal = calibration()["boards"]
    for b in list_boards():
        assert b.name in cal, b.name


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown board"):
        plan("arduino-pro-max", 4, 10)
    with pytest.raises(ValueError, match="storage"):
        plan("uno", 4, 10, storage="int4")
    with pytest.raises(ValueError, match="capacity"):
        plan("uno", 4, 1)


def test_cli_plan_json(capsys):
    rc = main(["plan", "--board", "uno", "--n-features", "4", "--capacity", "100", "--classes", "2",
               "--kernel", "linear", "--storage", "int8", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["fits"] is True
    assert {"flash_bytes", "sram_bytes", "fits", "max_capacity", "static_buffers", "stack_bytes"} <= set(d)
    assert set(d["max_capacity"]) == {"float32", "int16", "int8"}
    rc = main(["plan", "--board", "uno", "--n-features", "4", "--capacity", "1000"])
    out = capsys.readouterr().out
    assert rc == 1 and "fits: NO" in out and "what fits:" in out


def test_cli_plan_errors_are_one_line(capsys):
    assert main(["plan", "--board", "nope", "--n-features", "4", "--capacity", "10"]) == 2
    assert "unknown board" in capsys.readouterr().err


# ---- planner vs measured ----------------------------------------------------------------------------

def _check(recs):
    from microlearn.tools.planner_check import summarize
    s = summarize(recs)
    bad = [r for r in recs if r["measured"] == "ok" and (not r["static_exact"] or abs(r["flash_err"]) > 0.10
                                                         or abs(r.get("sram_err", 0)) > 0.10)]
    assert not bad, bad
    assert s["plan_agrees_on_link_failures"], recs
    return s


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
def test_plan_matches_measured_small_grid(board):
    from microlearn.tools.planner_check import SMALL_GRID, compare
    s = _check(compare(board, SMALL_GRID))
    assert s["built"] == len(SMALL_GRID)


@pytest.mark.parametrize("board", [board_param(b, slow=True) for b in ("uno", "mega2560", "nrf52840", "bluepill",
                                                                          "samd21", "rp2040")])
def test_plan_matches_measured_full_grid(board):
    """storage x kernel x capacity x classes x features (432 configurations); the ones that do not link
    must be the ones the plan says do not fit."""
    from microlearn.tools.planner_check import compare, full_grid
    _check(compare(board, full_grid()))


@pytest.mark.slow
@pytest.mark.parametrize("board", [board_param("uno", slow=True), board_param("bluepill", slow=True)])
def test_calibration_rederives(board):
    """The stored constants are what `python -m microlearn.tools.calibrate` measures today."""
    from microlearn.tools.calibrate import calibrate_board
    assert calibrate_board(board) == calibration()["boards"][board]
