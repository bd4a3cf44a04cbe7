"""Energy estimates: every board either has a datasheet run current with its source, or says why not; the
arithmetic is V x I x t; reports carry the figure and where it comes from."""
import pytest

from microlearn.boards import power
from microlearn.boards.registry import BOARDS, get_board


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


def test_a_lower_clock_figure_is_only_a_labelled_lower_bound():
    # the Uno: the ATmega328P's table stops at 8 MHz; 5.2 mA x 5 V is a floor at 16 MHz, never energy_mj
    uno = get_board("uno")
    bound = power.LOWER_BOUND["uno"]
    assert "8 MHz" in bound.condition and uno.clock_hz == 16_000_000 and "Table 29-9" in bound.source
    assert power.energy_mj("uno", 0.1) is None
    assert power.energy_lower_bound_mj("uno", 0.1) == pytest.approx(5.2 * 5.0 * 0.1)
    note = power.energy_note("uno", seconds=0.1)
    assert "energy_missing" in note and "LOWER BOUND" in note["energy_lower_bound"]
    assert note["energy_lower_bound_mj"] == pytest.approx(2.6)
    assert "energy_lower_bound_mj" not in power.energy_note("uno")
    # boards with a figure at their clock, or none at all, carry no bound
    assert power.energy_lower_bound_mj("bluepill", 1.0) is None and power.energy_lower_bound_mj("rp2040", 1.0) is None
    assert "energy_lower_bound" not in power.energy_note("bluepill") | power.energy_note("rp2040")
    for name in power.LOWER_BOUND:
        assert name in power.WHY_NONE and name not in power.RUN_CURRENT
