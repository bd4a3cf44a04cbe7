"""What building a sketch for a board gives back (`SketchBuild`), and the errors the sketch builders raise.

Shared by build_avr.py (arduino-mk), build.py (the checks, the dispatch by board, the artifacts) and flash.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class BuildError(ValueError):
    """A sketch that cannot be built (one line for the command line). `log` is the full build log, when there is
    one; `summary` the message without the log's location (build.py re-points it at the copy it keeps)."""

    def __init__(self, message: str, *, log: Path | None = None, summary: str | None = None):
        super().__init__(message)
        self.log = log
        self.summary = summary if summary is not None else message


class BuildUnavailable(BuildError):
    """A tool the build needs is not installed (the message names the apt-get line)."""


@dataclass
class SketchBuild:
    board: str                       # the board as the user named it (nano, not the registry's uno)
    sketch: str                      # the sketch's name (its folder's and its .ino's)
    elf: Path
    hex: Path | None = None
    bin: Path | None = None
    flash_bytes: int = 0             # .text + .data: what the upload writes
    static_ram_bytes: int = 0        # .data + .bss (the stack comes on top)
    flash_budget: int | None = None  # the board's, from boards/registry.py
    sram_budget: int | None = None
    seconds: float = 0.0             # wall time of the build
    log: Path | None = None          # the full build log

    def artifacts(self) -> dict[str, Path]:
        return {k: p for k, p in (("elf", self.elf), ("hex", self.hex), ("bin", self.bin)) if p is not None}

    def to_json(self) -> dict:
        return {"board": self.board, "sketch": self.sketch,
                "artifacts": {k: str(p) for k, p in self.artifacts().items()},
                "flash_bytes": self.flash_bytes, "static_ram_bytes": self.static_ram_bytes,
                "flash_budget": self.flash_budget, "sram_budget": self.sram_budget,
                "seconds": round(self.seconds, 3), "log": str(self.log) if self.log else None}
