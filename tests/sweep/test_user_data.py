"""A spec's own datasets ([datasets.NAME] csv = ...): checked like the CLI's CSV inputs, keyed by the rows'
hash (not the path), shipped to the workers with the tasks, and giving the same results as the product
functions called on the same rows."""
import os

import numpy as np
import pytest

from microlearn.data.datasets import split
from microlearn.sweep.spec import SpecError, parse_spec, read_spec
from microlearn.sweep.user_data import digest

from conftest import need

HEAD = '[sweep]\nkind = "train"\n'
GRID = '[grid]\ntarget = "host"\ndataset = "mine"\nn = 24\n'


def write_csv(path, X, labels, label_name="kind"):
    lines = [",".join([f"f{i}" for i in range(X.shape[1])] + [label_name])]
    lines += [",".join([repr(float(v)) for v in row] + [str(lab)]) for row, lab in zip(X, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def two_blobs(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, d)) + 2.5 * y[:, None]
    return X, np.where(y == 1, "ripe", "raw")


def test_a_csv_dataset_expands_with_its_hash_and_is_relative_to_the_spec(tmp_path):
    X, labels = two_blobs()
    write_csv(tmp_path / "fruit.csv", X, labels)
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(HEAD + '[datasets.mine]\ncsv = "fruit.csv"\nlabel = "kind"\n' + GRID)
    spec = read_spec(spec_file)
    (task,) = spec.tasks()
    own = spec.data["mine"]
    assert own.n_rows == 60 and own.n_features == 3 and set(own.y) == {"raw", "ripe"}
    assert task["params"]["data_sha256"] == own.sha256 == digest(own.X, own.y)
    # the same rows at another path: the same task; one value changed: another task
    write_csv(tmp_path / "copy.csv", X, labels)
    moved = parse_spec(HEAD + '[datasets.mine]\ncsv = "copy.csv"\n' + GRID, "other.toml", base=tmp_path)
    assert moved.tasks()[0]["params"] == task["params"]
    X2 = X.copy()
    X2[5, 1] += 1e-3
    write_csv(tmp_path / "copy.csv", X2, labels)
    edited = parse_spec(HEAD + '[datasets.mine]\ncsv = "copy.csv"\n' + GRID, "other.toml", base=tmp_path)
    assert edited.tasks()[0]["params"]["data_sha256"] != own.sha256


@pytest.mark.hostile
@pytest.mark.parametrize("section, words", [
    ('[datasets.mine]\n', "csv must be the path of a CSV file"),
    ('[datasets.mine]\ncsv = "missing.csv"\n', "cannot open"),
    ('[datasets.mine]\ncsv = "bad.csv"\n', "bad.csv, line 3"),
    ('[datasets.mine]\ncsv = "one_class.csv"\n', "fewer than 2 classes"),
    ('[datasets.mine]\ncsv = "fruit.csv"\nlabel = "nope"\n', "nope"),
    ('[datasets.mine]\ncsv = "fruit.csv"\nsep = ";"\n', "unknown key(s) 'sep'"),
    ('[datasets.iris]\ncsv = "fruit.csv"\n', "'iris' is a bundled dataset"),
    ('[datasets."../x"]\ncsv = "fruit.csv"\n', "dataset name '../x'"),
    ('[datasets.mine]\ncsv = "fifo.csv"\n', "not a regular file (a FIFO)"),
    ('[datasets]\nmine = "fruit.csv"\n', "a table with csv"),
])
def test_a_bad_dataset_is_one_error_naming_it(tmp_path, section, words):
    X, labels = two_blobs()
    write_csv(tmp_path / "fruit.csv", X, labels)
    (tmp_path / "bad.csv").write_text("a,b,kind\n1,2,x\n3,__import__('os'),y\n")
    write_csv(tmp_path / "one_class.csv", X, ["raw"] * len(X))
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.csv")
    elif "fifo" in section:
        pytest.skip("no FIFOs here")
    with pytest.raises(SpecError) as exc:
        parse_spec(HEAD + section + GRID.replace('"mine"', '"iris"'), "s.toml", base=tmp_path)
    msg = str(exc.value)
    assert msg.startswith("s.toml: [datasets") and words in msg, msg
    assert "\n" not in msg


@pytest.mark.hostile
def test_the_grid_names_only_declared_datasets_and_streams_keep_their_limits(tmp_path):
    X, labels = two_blobs(n=40)
    write_csv(tmp_path / "s.csv", X, labels)
    with pytest.raises(SpecError, match="dataset = 'other': expected one of iris, .*, mine"):
        parse_spec(HEAD + '[datasets.mine]\ncsv = "s.csv"\n' + GRID.replace('"mine"', '"other"'), base=tmp_path)
    ref = '[sweep]\nkind = "reference"\n[datasets.mine]\ncsv = "s.csv"\n[grid]\nscenario = "mine"\n'
    with pytest.raises(SpecError, match="rows = 50: the stream mine .* has 40 rows"):
        parse_spec(ref + "rows = 50\n", base=tmp_path)
    with pytest.raises(SpecError, match="leave n_features out"):
        parse_spec(ref + "n_features = 3\n", base=tmp_path)
    (task,) = parse_spec(ref, base=tmp_path).tasks()
    assert task["params"]["rows"] == 40 and task["params"]["n_features"] == 3


distributed = pytest.importorskip("distributed", reason="Dask is not installed: pip install '.[sweep]'")

from microlearn.learner.simulate import simulate  # noqa: E402
from microlearn.sweep import engine  # noqa: E402
from microlearn.sweep.run_sweep import run_sweep  # noqa: E402
from microlearn.trainer.runner import train_and_report  # noqa: E402


@pytest.fixture(scope="module")
def local():
    with engine.Cluster(workers=2) as c:
        yield c


@need("gcc")
def test_a_csv_sweep_equals_the_products_on_the_same_rows(tmp_path, local):
    X, labels = two_blobs(n=80, d=4, seed=3)
    write_csv(tmp_path / "fruit.csv", X, labels)
    stream_y = np.arange(200) % 2
    flipped = np.where(np.arange(200) < 100, stream_y, 1 - stream_y)     # the concept flips at row 100
    Xs = np.random.default_rng(4).normal(size=(200, 2)) + 2.0 * np.where(flipped == 1, 1.0, -1.0)[:, None]
    write_csv(tmp_path / "stream.csv", Xs, stream_y, "label")
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(HEAD + '[datasets.fruit]\ncsv = "fruit.csv"\n'
                         '[grid]\ntarget = "host"\ndataset = "fruit"\nn = [20, 40]\nkernel = ["linear", "rbf"]\n')
    res = run_sweep(read_spec(spec_file), tmp_path / "out", cluster=local, plots_too=False)
    assert res.outcome.computed == 4
    X_tr, X_te, y_tr, y_te = split(X, labels, 0.3, shuffle=True, seed=0)
    lo, hi = X_tr.min(axis=0), X_tr.max(axis=0)
    X_tr, X_te = (X_tr - lo) / (hi - lo), (X_te - lo) / (hi - lo)
    for task, row in zip(res.tasks, res.table):
        p = task["params"]
        direct = train_and_report(X_tr[:p["n"]], y_tr[:p["n"]], X_te, y_te, "host", capacity=p["n"],
                                  kernel=p["kernel"], C=1.0, solver="wss2", storage="float32")
        for m in ("status", "accuracy", "agreement", "iterations", "n_train"):
            assert row[m] == direct[m], (m, row[m], direct[m])
    # a repeated sweep runs nothing; the cache holds the task, not the rows
    again = run_sweep(read_spec(spec_file), tmp_path / "out", plots_too=False)
    assert again.outcome.computed == 0 and again.outcome.cached == 4
    assert max(f.stat().st_size for f in (tmp_path / "out" / "cache").iterdir()) < 8_000

    ref_file = tmp_path / "r.toml"
    ref_file.write_text('[sweep]\nkind = "reference"\n[datasets.mystream]\ncsv = "stream.csv"\n'
                        '[grid]\nscenario = "mystream"\ncapacity = [20, 30]\n')
    ref = run_sweep(read_spec(ref_file), tmp_path / "ref", cluster=local, plots_too=False)
    for task, row in zip(ref.tasks, ref.table):
        direct = simulate((Xs, stream_y, []), window=100, baselines=False, capacity=task["params"]["capacity"])
        assert row["status"] == "ok" and row["accuracy"] == direct["accuracy"]
        assert row["retrains"] == len(direct["retrains"])
