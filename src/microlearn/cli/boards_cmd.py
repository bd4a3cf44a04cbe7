"""`microlearn boards`: the boards microlearn knows, their limits and how they are emulated here."""
from __future__ import annotations

import json

from microlearn.boards.registry import list_boards


def register(subparsers) -> None:
    p = subparsers.add_parser("boards", help="list the supported boards and their emulators",
                              description="List the boards: core, clock, flash, SRAM, FPU, emulator, "
                                          "what is measured, and whether the tools are installed.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _row(board) -> dict:
    tools = board.tools_installed()
    return {
        "name": board.name, "aliases": list(board.aliases), "core": board.core, "mcu": board.mcu,
        "clock_hz": board.clock_hz, "flash_bytes": board.flash_bytes, "sram_bytes": board.sram_bytes,
        "fpu": board.fpu, "emulator": board.emulator, "machine": board.machine, "measure": board.measure,
        "stack_reserve_bytes": board.stack_reserve_bytes, "tools": tools,
        "available": bool(tools) and board.emulated and all(tools.values()), "notes": board.notes,
    }


def _kb(n: int) -> str:
    return f"{n // 1024} KB" if n < 1024 * 1024 else f"{n // (1024 * 1024)} MB"


def run(args) -> int:
    rows = [_row(b) for b in list_boards()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = ("board", "core", "clock", "flash", "SRAM", "FPU", "emulator", "measures", "ready")
    table = [header]
    for r in rows:
        missing = [t for t, ok in r["tools"].items() if not ok]
        ready = "yes" if r["available"] else ("no emulator" if not r["emulator"] else "missing " + ", ".join(missing))
        table.append((r["name"] + (f" ({', '.join(r['aliases'])})" if r["aliases"] else ""), f"{r['core']} {r['mcu']}",
                      f"{r['clock_hz'] / 1e6:g} MHz", _kb(r["flash_bytes"]), _kb(r["sram_bytes"]),
                      "yes" if r["fpu"] else "no", f"{r['emulator']} {r['machine']}" if r["emulator"] else "-",
                      r["measure"] or "-", ready))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0
