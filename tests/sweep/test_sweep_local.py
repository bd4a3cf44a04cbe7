"""Sweeps on a local Dask cluster: the results are those of the product functions called one by one, a
repeated sweep computes nothing, an interrupted one resumes, and a task on a worker without the toolchain
is reported in its row."""
import json

import pytest

pytest.importorskip("distributed", reason="Dask is not installed: pip install '.[sweep]' (scripts/setup.sh)")

from microlearn.data import streams  # noqa: E402
from microlearn.data.datasets import load, split  # noqa: E402
from microlearn.learner.simulate import simulate  # noqa: E402
from microlearn.sweep import engine  # noqa: E402
from microlearn.sweep.run_sweep import keyed, run_sweep  # noqa: E402
from microlearn.sweep.spec import parse_spec  # noqa: E402
from microlearn.sweep.table import TIMING, read_csv  # noqa: E402
from microlearn.sweep.tasks import run_task  # noqa: E402
from microlearn.trainer.runner import train_and_report  # noqa: E402

from conftest import need  # noqa: E402
from sweep_cases import REFERENCE_SPEC, TRAIN_SPEC  # noqa: E402


@pytest.fixture(scope="module")
def local():
    with engine.Cluster(workers=2) as c:
        yield c


def deterministic(table):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in table]


def test_reference_sweep_equals_simulate_called_one_by_one(tmp_path, local):
    spec = parse_spec(REFERENCE_SPEC)
    res = run_sweep(spec, tmp_path, cluster=local, plots_too=False)
    assert res.outcome.computed == 12 and res.outcome.cached == 0
    assert [r["status"] for r in res.table] == ["ok"] * 12
    for task, row in zip(res.tasks, res.table):
        p = task["params"]
        s = streams.make(p["scenario"], seed=p["stream_seed"], n_features=p["n_features"])
        rows = p["rows"]
        direct = simulate((s.X[:rows], s.y[:rows], [d for d in s.drift_points if d < rows]), window=p["window"],
                          baselines=False, capacity=p["capacity"])
        assert row["accuracy"] == direct["accuracy"]
        assert row["final_accuracy"] == direct["final_accuracy"]
        assert row["retrains"] == len(direct["retrains"]) and row["rollbacks"] == len(direct["rollbacks"])
        assert row["accepted"] == len(direct["accepted"]) and row["mistakes"] == direct["mistakes"]
        assert row["train_iterations"] == sum(direct["train_iterations"])
    # the configurations differ, and so do the outcomes: the test would notice rows in the wrong order
    assert len({r["accuracy"] for r in res.table}) > 3


@need("gcc")
def test_train_sweep_equals_train_and_report_called_one_by_one(tmp_path, local):
    spec = parse_spec(TRAIN_SPEC)
    res = run_sweep(spec, tmp_path, cluster=local, plots_too=False)
    X, y = load("iris")
    X_tr, X_te, y_tr, y_te = split(X, y, 0.3, shuffle=True, seed=0)
    lo, hi = X_tr.min(axis=0), X_tr.max(axis=0)
    X_tr, X_te = (X_tr - lo) / (hi - lo), (X_te - lo) / (hi - lo)
    for task, row in zip(res.tasks, res.table):
        p = task["params"]
        n = p["n"]
        direct = train_and_report(X_tr[:n], y_tr[:n], X_te, y_te, "host", capacity=n, kernel=p["kernel"], C=1.0,
                                  solver="wss2", storage="float32")
        for m in ("status", "n_train", "accuracy", "agreement", "iterations", "python_iterations", "max_alpha_diff",
                  "buffer_bytes"):
            assert row[m] == direct[m], (m, row[m], direct[m])
    assert [r["agreement"] for r in res.table] == [1.0] * 4
    # the files: one CSV row per task, and the Parquet table when pyarrow is there
    csv_rows = read_csv(tmp_path / "results.csv")
    assert [r["key"] for r in csv_rows] == res.keys
    if (tmp_path / "results.parquet").exists():
        import pyarrow.parquet as pq
        t = pq.read_table(tmp_path / "results.parquet").to_pylist()
        assert [r["accuracy"] for r in t] == [r["accuracy"] for r in res.table]
    assert "## Results" in (tmp_path / "summary.md").read_text()


def test_a_repeated_sweep_computes_nothing_and_an_interrupted_one_resumes(tmp_path, local):
    spec = parse_spec(REFERENCE_SPEC)
    first = run_sweep(spec, tmp_path, cluster=local, plots_too=False)
    cache = tmp_path / "cache"
    assert sorted(p.stem for p in cache.glob("*.json")) == sorted(first.keys)
    # repeated: every task from the cache, no cluster needed at all
    again = run_sweep(spec, tmp_path, plots_too=False)
    assert again.outcome.computed == 0 and again.outcome.cached == 12
    assert deterministic(again.table) == deterministic(first.table)
    assert again.table == first.table          # the same records, wall times included (they were cached)
    # interrupted: three results missing, one half-written (not JSON), one from another key
    files = sorted(cache.glob("*.json"))
    for f in files[:3]:
        f.unlink()
    files[3].write_text('{"key": "trunc')
    other = json.loads(files[5].read_text())
    files[4].write_text(json.dumps({**other, "key": other["key"]}))   # a file renamed: its key is another's
    resumed = run_sweep(spec, tmp_path, cluster=local, plots_too=False)
    assert resumed.outcome.computed == 5 and resumed.outcome.cached == 7
    assert deterministic(resumed.table) == deterministic(first.table)


def test_a_worker_without_the_toolchain_reports_it_per_task(tmp_path, monkeypatch):
    """Workers started with a PATH that holds no compiler: the board's task says which tool is missing, the
    reference task beside it runs, nothing crashes."""
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    train = parse_spec(TRAIN_SPEC.replace('target = "host"', 'target = "uno"').replace("n = [12, 24]", "n = 12")
                       .replace('kernel = ["linear", "rbf"]', 'kernel = "linear"')).tasks()
    ref = parse_spec(REFERENCE_SPEC).tasks()[:1]
    tasks = train + ref
    keys = [f"{i:024x}" for i in range(len(tasks))]
    with engine.Cluster(workers=1) as c:       # spawned now: the worker inherits the bare PATH
        out = engine.run(tasks, run_task, keys, cluster=c)
    uno, r = out.results[keys[0]], out.results[keys[1]]
    assert uno["status"] == "unavailable" and "avr-gcc" in uno["message"] and "not found" in uno["message"]
    assert "(worker " in uno["message"]
    assert r["status"] == "ok" and r["accuracy"] > 0.5


def test_transient_failures_are_not_cached(tmp_path, monkeypatch):
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    task = parse_spec(TRAIN_SPEC).tasks()[0]
    rec = run_task(task)                          # in this process: no gcc on the PATH
    assert rec["status"] == "unavailable" and "not found" in rec["message"]
    from microlearn.sweep.cache import Cache
    cache = Cache(tmp_path / "cache")
    out = engine.run([task], lambda t: rec, ["a" * 24], cache=cache, cluster=_NoCluster())
    assert out.results["a" * 24]["status"] == "unavailable"
    assert cache.keys() == set()


class _NoCluster(engine.Cluster):
    """Runs the submitted functions in this process: the engine's bookkeeping without Dask workers."""

    def client(self):
        from distributed import Client
        if self._client is None:
            self._client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None,
                                  set_as_default=False)
        return self._client


def test_progress_bar_counts_cached_tasks_and_json_keeps_stderr_empty(tmp_path, capsys, monkeypatch, local):
    from microlearn.cli import main as cli_main
    spec = tmp_path / "ref.toml"
    spec.write_text(REFERENCE_SPEC)
    run_sweep(parse_spec(REFERENCE_SPEC), tmp_path / "out", cluster=local, plots_too=False)
    monkeypatch.delenv("MICROLEARN_PROGRESS", raising=False)
    assert cli_main.main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--json", "--no-plots"]) == 0
    cap = capsys.readouterr()
    assert cap.err == ""
    assert json.loads(cap.out)["cached"] == 12
    monkeypatch.setenv("MICROLEARN_PROGRESS", "1")
    assert cli_main.main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "sweep ref: 12/12 tasks" in err
