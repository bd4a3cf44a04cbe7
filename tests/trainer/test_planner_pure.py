"""The planners are pure: they read calibration.json and compute. A stale calibration is reported with the
command that re-measures it; nothing is built or run, whatever the state of the toolchains."""
from __future__ import annotations

import subprocess

import pytest

from microlearn.cli.main import main
from microlearn.learner import planner as learner_planner
from microlearn.targets.base import Target
from microlearn.trainer import planner as trainer_planner


@pytest.fixture
def no_toolchain(monkeypatch):
    """Any attempt to start a process or build for a target fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"the planner started a process: {args[:1]}")
    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(Target, "build", refuse, raising=False)


@pytest.fixture
def stale(monkeypatch):
    """Pretend the runtime changed after calibration.json was measured."""
    for mod, fn in ((trainer_planner, "runtime_fingerprint"), (learner_planner, "learner_fingerprint")):
        monkeypatch.setattr(mod, fn, lambda: "0000000000000000")
        mod._current.cache_clear()
    yield
    trainer_planner._current.cache_clear()
    learner_planner._current.cache_clear()


def test_a_current_calibration_plans_without_a_note(no_toolchain):
    trainer_planner._current.cache_clear()
    pl = trainer_planner.plan("uno", 4, 40)
    if not pl.calibration_current:
        pytest.skip("calibration.json is stale in this tree (test_calibration_matches_the_runtime says so)")
    assert not any("calibrate" in n for n in pl.notes)


def test_stale_trainer_calibration_is_reported_not_remeasured(no_toolchain, stale):
    pl = trainer_planner.plan("uno", 4, 40)
    assert pl.calibration_current is False
    assert any("`microlearn calibrate`" in n for n in pl.notes), pl.notes
    assert pl.to_dict()["calibration_current"] is False
    # the figures are the stored calibration's, exactly as when it was current
    trainer_planner._current.cache_clear()
    assert trainer_planner._cal_for(trainer_planner.board_of("uno"))[0] == trainer_planner.calibration()["boards"]["uno"]


def test_stale_learner_calibration_is_reported_not_remeasured(no_toolchain, stale):
    pl = learner_planner.plan_learner("nrf52840", 4, 60)
    assert pl.calibration_current is False
    assert any("`microlearn calibrate --learner`" in n for n in pl.notes), pl.notes


def test_plan_command_prints_the_stale_note(no_toolchain, stale, capsys):
    assert main(["plan", "--board", "uno", "--n-features", "4", "--capacity", "40"]) == 0
    assert "microlearn calibrate" in capsys.readouterr().out


def test_dcd_plan_sizes_its_buffers_and_says_when_its_figures_are_borrowed(no_toolchain, monkeypatch):
    """dcd's work array (alpha, Qbar's diagonal, the visiting order) is in the static SRAM; flash and stack come
    from the 'linear/dcd' keys, or from wss2's with a note while calibration.json has none (a key missing
    must not crash a plan)."""
    from microlearn.core import vocab
    wss2 = trainer_planner.plan("uno", 4, 100, storage="int8")
    dcd = trainer_planner.plan("uno", 4, 100, storage="int8", solver="dcd")
    extra = 4 * (vocab.smo_work_floats(100, 4, 2, "int8", solver="dcd") - vocab.smo_work_floats(100, 4, 2, "int8"))
    # + state, Qbar_tt per sample, a uint16 order per sample; - wss2's folded weights wq (d + 1), which dcd has not
    assert dcd.static_buffers["trainer_work"] - wss2.static_buffers["trainer_work"] == extra == 4 * (6 + 100 + 50 - 5)
    with pytest.raises(ValueError, match="linear kernel only"):
        trainer_planner.plan("uno", 4, 100, kernel="rbf", solver="dcd")
    cal = trainer_planner.calibration()["boards"]["uno"]
    if "linear/dcd" in cal["flash_delta"]:
        assert not any("not in calibration.json" in n for n in dcd.notes)
        return
    assert dcd.stack_bytes == wss2.stack_bytes and dcd.flash_bytes == wss2.flash_bytes
    assert any("dcd solver is not in calibration.json yet" in n for n in dcd.notes)
