"""The sweep's markdown summary: what ran, how it ended (by status), the tasks that failed and why, the
Pareto front per board, and the table itself (its first rows)."""
from __future__ import annotations

from collections import Counter

from .pareto import cost_of, front

MAX_ROWS_SHOWN = 200


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|")


def md_table(rows: list[dict], cols: list[str]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return out


def varying(table: list[dict], cols: list[str]) -> list[str]:
    """The columns whose value is not the same in every row (the rest is said once, above the table)."""
    return [c for c in cols if len({repr(r.get(c)) for r in table}) > 1]


def markdown(spec, table: list[dict], outcome, command: str, wall: float) -> str:
    statuses = Counter(r.get("status") for r in table)
    lines = [f"# Sweep `{spec.name}` ({spec.kind})", "",
             f"Command: `{command}`. {len(table)} tasks: {outcome.computed} computed, {outcome.cached} from the "
             f"cache; {wall:.1f} s wall" + (f" on {outcome.workers} worker(s)" if outcome.workers else "") + ".", "",
             "Status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))), ""]
    same = [c for c in spec.columns if c not in varying(table, spec.columns)]
    if same and table:
        lines += ["Fixed in every task: " + ", ".join(f"{c} = {_fmt(table[0].get(c))}" for c in same), ""]
    shown_cols = [c for c in spec.columns if c not in same]
    bad = [r for r in table if r.get("status") in ("error", "unavailable", "missing")]
    if bad:
        lines += ["## Tasks that did not run", ""]
        lines += md_table(bad[:MAX_ROWS_SHOWN], ["key", *shown_cols, "status", "message"])
        lines.append("")
    fronts = front(table)
    if fronts:
        lines += ["## Pareto front per board and problem (accuracy up, cost and SRAM down)", ""]
        for t, rs in sorted(fronts.items()):
            unit = cost_of(rs[0])[1]
            lines += [f"### {t}", ""]
            shown = [{**r, unit: cost_of(r)[0]} for r in rs]
            lines += md_table(shown, [c for c in shown_cols if c not in ("target", "dataset", "scenario")]
                              + ["accuracy", unit, "sram_bytes"])
            lines.append("")
    cols = ["key", *shown_cols, *[m if m not in spec.columns else f"{m}_used" for m in spec.measures]]
    lines += ["## Results", ""]
    if len(table) > MAX_ROWS_SHOWN:
        lines += [f"The first {MAX_ROWS_SHOWN} of {len(table)} rows; all of them are in results.csv.", ""]
    lines += md_table(table[:MAX_ROWS_SHOWN], cols)
    return "\n".join(lines) + "\n"
