"""What a board draws while its CPU computes: the maker's datasheet run current at (or, where said, near)
the board's clock, and the supply voltage, so that a measured time becomes an energy estimate:
E = V x I x t. Figures are chip supply currents (the USB bridge, regulator and LEDs of a development board
are not included: a board draws more), typical values at 25 C, and from different workloads per maker
(while(1), CoreMark, "code with data processing"), so an energy here is an estimate with those error bars,
never a measurement. Where no citable figure at the board's clock was found, `why_none` says so and no
energy is reported (for the Uno only a lower bound, from the 8 MHz row: LOWER_BOUND). The sources were
read in the search tools' copies of the datasheets (see docs/energy.md for each excerpt)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunCurrent:
    ma: float              # typical supply current, CPU running, mA
    volts: float           # the supply voltage the figure is given at (and the board's)
    condition: str         # clock, workload, peripherals, as the datasheet states them
    source: str            # document, revision, table


RUN_CURRENT: dict[str, RunCurrent] = {
    "bluepill": RunCurrent(27.0, 3.3, "run mode, code with data processing from flash, 72 MHz (HSE 8 MHz + PLL), all "
                                      "peripherals disabled, 25 C",
                           "STM32F103x8/B datasheet DocID13587 Rev 17, Table 17 (typical current in run mode)"),
    "samd21": RunCurrent(3.37, 3.3, "ACTIVE, CPU running a while(1) algorithm, DFLL48M 48 MHz, flash 1 wait state, "
                                    "cache on, 25 C (max 3.64 mA)",
                         "SAM D21/DA1 family datasheet DS40001882, section 37.7 (power consumption)"),
    "esp32c3": RunCurrent(23.0, 3.3, "modem-sleep (radio off), CPU running at 160 MHz, peripheral clocks disabled, "
                                     "25 C",
                          "ESP32-C3 series datasheet v2.2, Table 5-8 (current consumption in modem-sleep mode)"),
    "ch32v003": RunCurrent(4.16, 3.3, "run mode, code from internal flash, HSI 48 MHz, all peripherals disabled",
                           "CH32V003 datasheet V1.0, Table 3-6-1 (run mode current)"),
    "esp8266": RunCurrent(15.0, 3.3, "modem-sleep, CPU working; the datasheet's note defines it as an average over "
                                     "a Wi-Fi-connected DTIM3 cycle, no clock stated: a loose figure for a busy CPU "
                                     "at 80 MHz",
                          "ESP8266EX datasheet (2020.10), Table 3-4 (power consumption by power modes)"),
}

# Figures at a LOWER clock than the board's: not an energy estimate, only a floor for one. A CMOS part's
# active current rises with its clock (the datasheet plots it: "Active Supply Current vs. Frequency
# (1 - 20 MHz)", a graph whose values are not in any table), so the typical current at 8 MHz x supply x the
# time at 16 MHz is below the typical chip energy at 16 MHz. Reported apart (energy_lower_bound), never as
# energy_mj.
LOWER_BOUND: dict[str, RunCurrent] = {
    "uno": RunCurrent(5.2, 5.0, "active, 8 MHz, VCC = 5 V, 25 C typical (max 9 mA), PRR = 0xFF; the Uno runs at "
                                "16 MHz, for which the datasheet has no table row",
                      "ATmega48A/PA/88A/PA/168A/PA/328/P datasheet 8271D-AVR-05/11, Table 29-9 (same values: "
                      "8271H Table 29-12, 8161D section 28.2.4)"),
}

WHY_NONE: dict[str, str] = {
    "uno": "the ATmega328P datasheet's DC tables stop at 8 MHz (5.2 mA typ at 5 V, Table 29-9); its 16 MHz "
           "figure is only in a graph: no citable run current at the Uno's clock (the 8 MHz figure gives a lower "
           "bound only: energy_lower_bound)",
    "mega2560": "the ATmega2560 datasheet's DC tables stop at 8 MHz (and the 8 MHz row was only seen as "
                "jumbled PDF text, its typ/max columns not verified); no citable run current at 16 MHz",
    "nrf52840": "the nRF52840 product specification's 'CPU running' table (ICPU*, CoreMark at 64 MHz) was not "
                "reachable here (only the 'Compounded' figures with the radio on: 8.1 mA DC/DC, 15.4 mA LDO, "
                "which would overstate a training)",
    "rp2040": "the RP2040 datasheet gives no CPU-busy current at 125/133 MHz (only a 48 MHz demo and sleep modes)",
    "esp32": "the ESP32 datasheet gives a range only (modem-sleep 240 MHz: 30 to 68 mA), and the board does not "
             "run here",
}


def run_current(board: str) -> RunCurrent | None:
    return RUN_CURRENT.get(board)


def why_no_energy(board: str) -> str:
    return WHY_NONE.get(board, f"no datasheet run current recorded for {board}")


def energy_mj(board: str, seconds: float | None) -> float | None:
    """V x I x t in millijoules (mA x V x s = mJ), or None without a figure or a time."""
    rc = RUN_CURRENT.get(board)
    if rc is None or seconds is None:
        return None
    return rc.ma * rc.volts * float(seconds)


def energy_lower_bound_mj(board: str, seconds: float | None) -> float | None:
    """A floor for the energy (mJ) from a figure at a lower clock than the board's (LOWER_BOUND), or None."""
    rc = LOWER_BOUND.get(board)
    if rc is None or seconds is None:
        return None
    return rc.ma * rc.volts * float(seconds)


def energy_note(board: str, seconds: float | None = None) -> dict:
    """energy_source (what the figure is and where it comes from) or energy_missing (why there is none); for a
    board with only a lower-clock figure also energy_lower_bound (what it is), and with `seconds`
    energy_lower_bound_mj."""
    rc = RUN_CURRENT.get(board)
    if rc is None:
        note = {"energy_missing": why_no_energy(board)}
        bound = LOWER_BOUND.get(board)
        if bound is not None:
            note["energy_lower_bound"] = (f"at least {bound.ma:g} mA x {bound.volts:g} V x the reported seconds: "
                                          f"{bound.condition}; {bound.source}. A LOWER BOUND, not an estimate: "
                                          "the current rises with the clock")
            if seconds is not None:
                note["energy_lower_bound_mj"] = energy_lower_bound_mj(board, seconds)
        return note
    return {"energy_source": f"{rc.ma:g} mA x {rc.volts:g} V: {rc.condition}; {rc.source}. An estimate: chip "
                             "current only, times the reported seconds"}
