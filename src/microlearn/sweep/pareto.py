"""The Pareto front of a sweep per board: the configurations no other beats on accuracy (higher), cost
(cycles or instructions, lower) and SRAM (lower) at once."""
from __future__ import annotations


def cost_of(row: dict):
    """(value, unit) of a row's cost: exact cycles (AVR), executed instructions (qemu), else None."""
    if row.get("cycles") is not None:
        return row["cycles"], "cycles"
    if row.get("instructions") is not None:
        return row["instructions"], "instructions"
    return None, None


def dominates(a, b) -> bool:
    """a = (accuracy, cost, sram) is at least as good as b everywhere and better somewhere."""
    ge = a[0] >= b[0] and a[1] <= b[1] and a[2] <= b[2]
    return ge and (a[0] > b[0] or a[1] < b[1] or a[2] < b[2])


def group_of(row: dict) -> str:
    """Accuracies compare only on the same problem: one front per board and dataset (or stream scenario)."""
    problem = row.get("dataset") or row.get("scenario")
    return f"{row.get('target') or '?'}" + (f" / {problem}" if problem else "")


def front(table: list[dict]) -> dict[str, list[dict]]:
    """'board / dataset' -> its rows on the front (rows with accuracy, a cost and SRAM), cheapest first."""
    by_target: dict[str, list] = {}
    for r in table:
        cost, _ = cost_of(r)
        if r.get("accuracy") is None or cost is None or r.get("sram_bytes") is None:
            continue
        by_target.setdefault(group_of(r), []).append(((r["accuracy"], cost, r["sram_bytes"]), r))
    out = {}
    for t, pts in by_target.items():
        keep = [r for p, r in pts if not any(dominates(q, p) for q, _ in pts)]
        out[t] = sorted(keep, key=lambda r: (cost_of(r)[0], r["sram_bytes"]))
    return out
