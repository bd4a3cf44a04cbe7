"""Tasks dispatched on Dask: a local cluster (one worker process per core, one thread each: the products
run emulators and compilers in subprocesses and hold the GIL in the Python reference) or an existing
scheduler. The client keeps the cache: results come back to the machine that started the sweep and are
written there as they arrive, so workers need no shared file system.

A task is submitted under its key: a worker that dies mid-task has its tasks rescheduled by the scheduler
(Dask's allowed-failures), and since the client collects one result per key, no task is lost or counted
twice. A task that still fails on the cluster (it killed every worker it ran on) comes back as an error
record for that task."""
from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from typing import Callable

from microlearn.core.progress import progress

from .cache import Cache
from .tasks import TRANSIENT

CONNECT_TIMEOUT = 30      # seconds to reach a scheduler given with --scheduler


class EngineUnavailable(RuntimeError):
    """Dask (distributed) is not installed."""


@dataclass
class Outcome:
    results: dict[str, dict]                     # key -> record, for every task
    computed: int = 0                            # run now
    cached: int = 0                              # taken from the cache
    dashboard: str | None = None
    workers: int | None = None             # workers connected when the run started


def require_dask():
    try:
        import distributed
    except ImportError:
        raise EngineUnavailable("Dask is not installed: pip install 'microlearn[sweep]' "
                                "(dask[distributed]; scripts/setup.sh installs it)") from None
    return distributed


def start_client(scheduler: str | None, workers: int | None):
    """(client, cluster or None). Local: `workers` processes (default: the cores), one thread each, the
    dashboard on a free port."""
    distributed = require_dask()
    if scheduler:
        return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False), None
    n = workers or os.cpu_count() or 1
    # ":0": a free port (8787 may be another cluster's on a shared machine)
    cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.ERROR)
    try:
        return distributed.Client(cluster, set_as_default=False), cluster
    except BaseException:
        cluster.close()
        raise


def dashboard_of(client) -> str | None:
    """The dashboard's address ("... (pip install bokeh for its pages)" when bokeh is missing), or None."""
    try:
        if not client.scheduler_info().get("services", {}).get("dashboard"):
            return None
        link = client.dashboard_link
    except Exception:          # an address is a convenience: no dashboard is not an error
        return None
    return link if importlib.util.find_spec("bokeh") is not None else f"{link} (pip install bokeh for its pages)"


class Cluster:
    """The Dask client, started on first use (a sweep whose tasks are all cached starts nothing) and shared
    by the runs made with it (fleet: the devices, then the confirmations)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        self.scheduler, self.workers = scheduler, workers
        self._client = self._cluster = None
        self.dashboard = None

    def client(self):
        if self._client is None:
            self._client, self._cluster = start_client(self.scheduler, self.workers)
            self.dashboard = dashboard_of(self._client)
        return self._client

    def close(self):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def run(tasks: list[dict], fn: Callable[[dict], dict], keys: list[str], *, cache: Cache | None = None,
        fresh: bool = False, scheduler: str | None = None, workers: int | None = None, label: str = "sweep",
        describe: Callable[[dict], str] | None = None, on_start: Callable[[Outcome], None] | None = None,
        cacheable: Callable[[dict], bool] | None = None, cluster: Cluster | None = None,
        unit: str = "tasks", shared: dict | None = None) -> Outcome:
    """Run fn(task) for every task whose key is not cached (all of them with fresh=True) and return every
    task's record by key. on_start(outcome) is called once the cluster is up (outcome.dashboard set).
    cluster: a Cluster to use (and leave open); by default one is started for this run and closed after.
    shared: data every task may need (a spec's own datasets): scattered to every worker once and passed as
    fn(task, shared); the cache keeps only the task."""
    if len(set(keys)) != len(keys):
        raise ValueError("two tasks share a key")
    keep = cacheable or (lambda rec: rec.get("status") not in TRANSIENT)
    out = Outcome(results={})
    pending = []
    for task, key in zip(tasks, keys):
        rec = cache.get(key) if cache is not None and not fresh else None
        if rec is not None:
            out.results[key] = rec
        else:
            pending.append((key, task))
    out.cached = len(out.results)
    own = cluster is None
    cluster = cluster or Cluster(scheduler, workers)
    with progress(len(tasks), label, unit=unit) as bar:
        if out.cached:
            bar.advance(out.cached, detail=f"{out.cached} cached")
        if not pending:
            return out
        distributed = require_dask()
        try:
            client = cluster.client()
            out.dashboard = cluster.dashboard
            out.workers = len(client.scheduler_info().get("workers", {}))
            if on_start:
                with bar.paused():
                    on_start(out)
            # pure=False: a key names a configuration, not a Python value; the key is ours so the
            # dashboard and a second client see the same task.
            task_of = dict(pending)
            # broadcast: a task rescheduled after a worker died finds the data on the worker it lands on
            extra = (client.scatter(shared, broadcast=True, hash=False),) if shared else ()
            futures = {client.submit(fn, task, *extra, key=f"microlearn-{key}", pure=False, retries=0): key
                       for key, task in pending}
            for fut in distributed.as_completed(list(futures), loop=client.loop):
                key = futures[fut]
                if fut.status == "finished":
                    rec = fut.result()
                else:
                    try:
                        exc = fut.exception()
                    except BaseException as why:        # cancelled: the scheduler dropped it
                        exc = why
                    rec = {"status": "error", "message": f"the task failed on the cluster: "
                                                         f"{type(exc).__name__}: {str(exc)[:300]}"}
                out.results[key] = rec
                out.computed += 1
                if cache is not None and keep(rec):
                    cache.put(key, task_of[key], rec)
                fut.release()
                bar.advance(detail=f"done: {describe(task_of[key])}" if describe else None)
        finally:
            if own:
                cluster.close()
    return out
