"""Energy estimates: every board either has a datasheet run current with its source, or says why not; the
arithmetic is V x I x t; reports carry the figure and where it comes from."""
import pytest

from microlearn.boards import power
from microlearn.boards.registry import BOARDS


def test_every_board_has_a_cited_current_or_a_reason():
    for b in BOARDS:
        rc = power.run_current(b.name)
        if rc is None:
            assert b.name in power.WHY_NONE and power.why_no_energy(b.name)
            assert power.energy_mj(b.name, 1.0) is None
            assert "energy_missing" in power.energy_note(b.name)
        else:
            assert b.name not in power.WHY_NONE
            assert 0 < rc.ma < 500 and rc.volts in (3.0, 3.3, 5.0)
            assert "Table" in rc.source or "section" in rc.source
            assert f"{b.clock_hz // 1_000_000} MHz" in rc.condition or b.name == "esp8266"


def test_energy_is_current_times_voltage_times_time():
    # the Blue Pill: 27 mA at 3.3 V for 2 s = 178.2 mJ
    assert power.energy_mj("bluepill", 2.0) == pytest.approx(27.0 * 3.3 * 2.0)
    assert power.energy_mj("bluepill", None) is None
    note = power.energy_note("samd21")["energy_source"]
    assert note.startswith("3.37 mA x 3.3 V") and "DS40001882" in note and "estimate" in note
