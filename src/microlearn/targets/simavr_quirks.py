"""Instruction sequences Debian's simavr (1.6) executes wrongly, found in an ELF before it runs.

A skip instruction (sbrc, sbrs, cpse, sbic, sbis) followed by `adiw` or `sbiw` whose constant has its low
four bits in 12..15: simavr decodes that word as the first half of a two-word instruction and skips two
words instead of one, so the instruction after the adiw/sbiw is lost. avr-gcc emits exactly this for a
signed division by 16 (`sbrc r25,7; adiw r24,15`): measured in simavr, 17/16 gave 0 and 100/16 gave 0. A
real AVR runs the code correctly; only the emulator's results would be wrong, so a program holding the
sequence is refused instead of measured (microlearn's trainer, learner and exported models do not hold it:
tests/targets/test_simavr_quirks.py scans their builds)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

SKIPS = ("sbrc", "sbrs", "cpse", "sbic", "sbis")
_SKIP = re.compile(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*(" + "|".join(SKIPS) + r")\b")
_WORD_OP = re.compile(r"^\s*[0-9a-f]+:\s+(?:[0-9a-f]{2} )+\s*(adiw|sbiw)\s+r\d+,\s*0x([0-9a-f]+)")


def misexecuted_skips(elf: Path | str, objdump: str = "avr-objdump") -> list[str]:
    """The addresses (hex, as avr-objdump prints them) of every skip that simavr would mis-execute."""
    text = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    lines = text.splitlines()
    found = []
    for a, b in zip(lines, lines[1:]):
        skip, word = _SKIP.match(a), _WORD_OP.match(b)
        if skip and word and int(word.group(2), 16) & 0xF >= 12:
            found.append(skip.group(1))
    return found
