"""A sweep from its spec to its files: expand, key, run on the engine (cache under OUT/cache), then write
OUT/results.csv (and results.parquet with pyarrow), OUT/summary.md and OUT/plots/*.png."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import engine, plots, summary, table
from .cache import Cache
from .keys import fingerprint, task_key
from .spec import Spec
from .tasks import TRANSIENT, run_task


@dataclass
class SweepRun:
    spec: Spec
    tasks: list[dict]
    keys: list[str]
    outcome: engine.Outcome
    table: list[dict]
    files: list[Path]
    wall: float

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.table if r.get("status") in (*TRANSIENT, "missing")]


def keyed(spec: Spec) -> tuple[list[dict], list[str]]:
    """The spec's tasks and their keys. The timeout is not part of a key: it changes whether a run ends,
    not what it computes (and a run that timed out is an error, never cached)."""
    tasks = spec.tasks()
    runtime = fingerprint()
    keys = [task_key({"kind": t["kind"], "params": t["params"], "baselines": t["baselines"]}, runtime)
            for t in tasks]
    for t in tasks:
        t["runtime"] = runtime          # the worker checks it runs the same code (tasks.runtime_mismatch)
    return tasks, keys


def describe(task: dict) -> str:
    p = task["params"]
    return " ".join(str(p[k]) for k in ("target", "dataset", "scenario", "n", "kernel", "storage") if k in p)


def run_sweep(spec: Spec, out, *, scheduler=None, workers=None, fresh=False, command="microlearn sweep",
              on_start=None, plots_too: bool = True, cluster: engine.Cluster | None = None) -> SweepRun:
    """cluster: an engine.Cluster to run on (left open); by default one is started (scheduler or local
    workers) when a task is not cached, and closed at the end."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tasks, keys = keyed(spec)
    outcome = engine.run(tasks, run_task, keys, cache=Cache(out / "cache"), fresh=fresh, scheduler=scheduler,
                         workers=workers, label=f"sweep {spec.name}", describe=describe, on_start=on_start,
                         cluster=cluster, shared=spec.data or None)
    rows = table.rows(tasks, keys, outcome.results, spec.columns, spec.measures)
    files = [table.write_csv(rows, out / "results.csv")]
    pq = table.write_parquet(rows, out / "results.parquet")
    if pq is not None:
        files.append(pq)
    wall = time.perf_counter() - t0
    md = out / "summary.md"
    md.write_text(summary.markdown(spec, rows, outcome, command, wall), encoding="utf-8")
    files.append(md)
    if plots_too:
        files += plots.write_all(rows, out / "plots")
    return SweepRun(spec, tasks, keys, outcome, rows, files, wall)
