"""Sweeps on a real cluster: `dask scheduler` and two `dask worker` processes on 127.0.0.1. The results
are identical to a local run; a worker killed mid-sweep loses no task and duplicates none."""
import os
import signal
import threading
import time

import pytest

pytest.importorskip("distributed", reason="Dask is not installed: pip install '.[sweep]' (scripts/setup.sh)")

from microlearn.cli import main as cli_main  # noqa: E402
from microlearn.sweep.run_sweep import run_sweep  # noqa: E402
from microlearn.sweep.spec import parse_spec  # noqa: E402
from microlearn.sweep.table import TIMING, read_csv  # noqa: E402

from conftest import need  # noqa: E402
from sweep_cases import REFERENCE_SPEC, TRAIN_SPEC, dask_cluster, own_dask_cluster  # noqa: E402,F401 (fixtures)


def deterministic(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


@need("gcc")
@pytest.mark.parametrize("text", [REFERENCE_SPEC, TRAIN_SPEC], ids=["reference", "train-host"])
def test_a_sweep_through_scheduler_equals_the_local_run(tmp_path, dask_cluster, capsys, text):
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    assert cli_main.main(["sweep", str(spec), "--out", str(tmp_path / "remote"), "--scheduler",
                          dask_cluster.address, "--no-plots", "--json"]) == 0
    assert cli_main.main(["sweep", str(spec), "--out", str(tmp_path / "local"), "--workers", "2",
                          "--no-plots", "--json"]) == 0
    capsys.readouterr()
    remote = read_csv(tmp_path / "remote" / "results.csv")
    local = read_csv(tmp_path / "local" / "results.csv")
    assert len(remote) == parse_spec(text).count()
    assert deterministic(remote) == deterministic(local)
    assert all(r["status"] in ("ok", "converged") for r in remote)


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(tmp_path, own_dask_cluster):
    dask_cluster = own_dask_cluster
    # 16 tasks of ~0.2-0.5 s each on two workers; worker0 is killed (SIGKILL: no goodbye to the scheduler)
    # once two results are in: what it held is rescheduled on worker1.
    text = REFERENCE_SPEC.replace("rows = 200", "rows = 600").replace("stream_seed = [1, 2, 3]",
                                                                        "stream_seed = [1, 2, 3, 4]")
    spec = parse_spec(text)
    n = spec.count()
    assert n == 16
    cache = tmp_path / "remote" / "cache"
    killed_at = []

    def killer():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = len(list(cache.glob("*.json"))) if cache.exists() else 0
            if done >= 2:
                os.kill(dask_cluster.workers[0].pid, signal.SIGKILL)
                killed_at.append(done)
                return
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    remote = run_sweep(spec, tmp_path / "remote", scheduler=dask_cluster.address, plots_too=False)
    t.join(timeout=5)
    assert killed_at and killed_at[0] < n, "the worker was not killed mid-sweep"
    assert dask_cluster.workers[0].wait(timeout=10) == -signal.SIGKILL
    keys = [r["key"] for r in remote.table]
    assert len(keys) == n and len(set(keys)) == n == len(set(remote.keys))
    assert [r["status"] for r in remote.table] == ["ok"] * n
    assert sorted(p.stem for p in cache.glob("*.json")) == sorted(remote.keys)
    local = run_sweep(spec, tmp_path / "local", workers=1, plots_too=False)
    assert deterministic(remote.table) == deterministic(local.table)
