"""Persistence of the whole self-learning state (mlrn_learner_save_all / mlrn_learner_load, format 2):
model + training and held-out stores + loop state, power cuts at every byte of a save, continuation
identical to a learner that never lost power, corrupted slots, capacity mismatches; AVR build check."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from compile_c import compile_c, program_output

C_DIR = Path(__file__).resolve().parent / "c"


@pytest.fixture(scope="module")
def unit_output(tmp_path_factory):
    """What c/learner_save_all_power_cuts.c printed (it exits 0 when every check passed)."""
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler")
    return program_output(C_DIR / "learner_save_all_power_cuts.c", tmp_path_factory.mktemp("learner_persist"),
                          opt="-O1")


def _kv(out, tag):
    line = [ln for ln in out.splitlines() if ln.startswith(tag)][0]
    return {k: int(v) for k, v in (tok.split("=") for tok in line.split()[1:])}


def test_unit_all_checks_pass(unit_output):
    assert unit_output.strip().endswith("OK"), unit_output
    for tag in ("CORRUPT ok", "MISMATCH ok", "SMALL ok", "INT16 ok"):
        assert tag in unit_output


def test_stream_exercises_the_loop_state(unit_output):
    kv = _kv(unit_output, "ROWS")
    # the saved state is not trivial: reservoir evictions, held-out store, retrains, a drift
    assert kv["discarded"] > 0 and kv["retrains"] >= 3 and kv["drifts"] >= 1
    assert kv["len"] > 200  # full training store (12 rows), held-out rows, model, state


def test_power_cut_at_every_byte_old_or_new_and_identical_continuation(unit_output):
    kv = _kv(unit_output, "CUTS")
    rows = _kv(unit_output, "ROWS")
    assert kv["bad"] == 0 and kv["cont_bad"] == 0
    # 3 EEPROM cut modes + flash (erase counted byte by byte): at least one cut per payload byte each
    assert kv["cuts"] > 4 * rows["len"]
    # "new" after a failed save is legitimate: a cut after the last byte that differs from the slot's
    # previous content (e.g. magic bytes 1..3 left from an older copy) commits the new copy
    assert kv["old"] > 0 and kv["new"] >= 4


@pytest.mark.skipif(shutil.which("avr-gcc") is None or shutil.which("avr-nm") is None, reason="no avr-gcc")
def test_avr_builds_and_save_all_only_linked_when_used(tmp_path):
    syms = {}
    for with_save_all in (False, True):
        out = tmp_path / f"learner_save_avr{'_all' if with_save_all else ''}.elf"
        defines = {"WITH_SAVE_ALL": 1} if with_save_all else None
        compile_c(C_DIR / "learner_save_avr.c", out, board="uno", defines=defines)
        syms[with_save_all] = subprocess.run(["avr-nm", str(out)], check=True, capture_output=True, text=True).stdout
    assert "mlrn_learner_save_all" not in syms[False]
    assert "mlrn_learner_save_all" in syms[True]
