"""A real Dask cluster on 127.0.0.1 for the tests: `dask scheduler` and `dask worker` processes (free ports
chosen by the OS, found through a scheduler file), bounded waits, and every process stopped at the end,
by its own id."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import microlearn

SRC = str(Path(microlearn.__file__).resolve().parent.parent)
START_TIMEOUT = 60


def env(extra_path: str | None = None) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = SRC + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e.pop("MICROLEARN_PROGRESS", None)
    if extra_path is not None:
        e["PATH"] = extra_path
    return e


class LocalDaskCluster:
    """`dask scheduler` + n `dask worker` processes (no nanny: killing a worker's pid kills the worker)."""

    def __init__(self, folder: Path, n_workers: int = 2):
        self.folder, self.n = Path(folder), n_workers
        self.scheduler = None
        self.workers: list[subprocess.Popen] = []
        self.address = None
        self.logs = []

    def _spawn(self, args, name, extra_path=None):
        log = open(self.folder / f"{name}.log", "wb")
        self.logs.append(log)
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                                env=env(extra_path), start_new_session=True)

    def start(self):
        sched_file = self.folder / "scheduler.json"
        self.scheduler = self._spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(sched_file)], "scheduler")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if sched_file.exists():
                try:
                    self.address = json.loads(sched_file.read_text())["address"]
                    break
                except (ValueError, KeyError):
                    pass
            if self.scheduler.poll() is not None:
                raise RuntimeError("dask scheduler exited: " + (self.folder / "scheduler.log").read_text()[-2000:])
            time.sleep(0.2)
        else:
            raise TimeoutError("dask scheduler did not start in time")
        for i in range(self.n):
            self.add_worker(f"worker{i}")
        self.wait_for_workers(self.n)
        return self

    def add_worker(self, name, extra_path=None):
        w = self._spawn(["worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                         "--no-dashboard", "--name", name], name, extra_path)
        self.workers.append(w)
        return w

    def wait_for_workers(self, n, timeout=START_TIMEOUT):
        from distributed import Client
        with Client(self.address, timeout=timeout, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=timeout)

    def stop(self):
        for p in [*self.workers, self.scheduler]:
            if p is not None and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)      # its own session: the process and its children
                except ProcessLookupError:
                    pass
        for p in [*self.workers, self.scheduler]:
            if p is None:
                continue
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=15)
        for log in self.logs:
            log.close()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False
