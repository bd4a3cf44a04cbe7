"""The tidy results table: one row per task (its parameters, status, message, the measures asked for,
the wall time), written as CSV always and as Parquet when pyarrow is installed."""
from __future__ import annotations

import csv
import numbers
from pathlib import Path

# Columns that time the machine, not the configuration: they differ between two runs of the same task.
TIMING = ("wall_seconds",)


def rows(tasks: list[dict], keys: list[str], results: dict[str, dict], columns: list[str],
         measures: list[str]) -> list[dict]:
    out = []
    for task, key in zip(tasks, keys):
        rec = results.get(key, {"status": "missing"})
        row = {"key": key, "kind": task["kind"]}
        row.update({c: task["params"].get(c) for c in columns})
        for m in measures:
            if m in row and m not in ("status",) and m in task["params"]:
                row[f"{m}_used"] = rec.get(m)     # e.g. storage = "auto" in the grid, "int8" on the device
            else:
                row[m] = rec.get(m)
        row["message"] = rec.get("message")
        row["wall_seconds"] = rec.get("wall_seconds")
        out.append(row)
    return out


def header(table: list[dict]) -> list[str]:
    cols: list[str] = []
    for r in table:
        cols += [c for c in r if c not in cols]
    return cols


def write_csv(table: list[dict], path) -> Path:
    path = Path(path)
    cols = header(table)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in table:
            w.writerow({c: _cell(r.get(c)) for c in cols})
    return path


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return v


def write_parquet(table: list[dict], path) -> Path | None:
    """Parquet when pyarrow is installed (None otherwise). A column mixing text and numbers (gamma =
    "scale" or 0.5) is written as text."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    cols = header(table)
    data = {}
    for c in cols:
        values = [r.get(c) for r in table]
        kinds = {type(v) for v in values if v is not None}
        if any(issubclass(k, str) for k in kinds) and len(kinds) > 1:
            values = [None if v is None else str(v) for v in values]
        elif kinds and all(issubclass(k, numbers.Real) and not issubclass(k, bool) for k in kinds) \
                and any(issubclass(k, float) for k in kinds):
            values = [None if v is None else float(v) for v in values]
        data[c] = values
    pq.write_table(pa.table(data), path)
    return Path(path)


def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
