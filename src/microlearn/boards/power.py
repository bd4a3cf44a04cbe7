"""What a board draws while its CPU computes: the maker's datasheet run current at (or, where said, near)
the board's clock, and the supply voltage, so that a measured time becomes an energy estimate:
E = V x I x t. Figures are chip supply currents (the USB bridge, regulator and LEDs of a development board
are not included: a board draws more), typical values at 25 C, and from different workloads per maker
(while(1), CoreMark, "code with data processing"), so an energy here is an estimate with those error bars,
never a measurement. Where no citable figure at the board's clock was found, `why_none` says so and no
energy is reported. The sources were read in the search tools' copies of the datasheets (see
docs/energy.md for each excerpt)."""
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

WHY_NONE: dict[str, str] = {
    "uno": "the ATmega328P datasheet's DC tables stop at 8 MHz (5.2 mA typ at 5 V, Table 29-9); its 16 MHz "
           "figure is only in a graph: no citable run current at the Uno's clock",
    "mega2560": "the ATmega2560 datasheet's DC tables stop at 8 MHz; no citable run current at 16 MHz",
    "nrf52840": "the nRF52840 product specification's 'CPU running' table was not reachable here (only the "
                "figures with the radio on)",
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


def energy_note(board: str) -> dict:
    """energy_source (what the figure is and where it comes from) or energy_missing (why there is none)."""
    rc = RUN_CURRENT.get(board)
    if rc is None:
        return {"energy_missing": why_no_energy(board)}
    return {"energy_source": f"{rc.ma:g} mA x {rc.volts:g} V: {rc.condition}; {rc.source}. An estimate: chip "
                             "current only, times the reported seconds"}
