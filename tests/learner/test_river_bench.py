"""benchmarks/bench_river.py's core on one tiny stream: the microlearn rows are simulate's, river's learners get
the same rows in the same order, test-then-train, and the scaling is causal. Skipped without river."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("river")

from conftest import load_benchmark  # noqa: E402
from microlearn.learner.simulate import simulate  # noqa: E402

ROWS = 300


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_river")


def _case(bench, kind, learner, spec=None):
    c = {"stream": "sea", "seed": 7, "role": "unseen", "n": ROWS, "kind": kind, "learner": learner,
         "keep_predictions": True}
    if spec is not None:
        c["spec"] = spec
    return c


@pytest.mark.parametrize("spec", [
    {"name": "svm60/window", "model": "svm", "drift": "window", "capacity": 60},
    {"name": "svm60/ddm", "model": "svm", "drift": "ddm", "capacity": 60},
    {"name": "online16/window", "model": "online", "drift": "window", "capacity": 16},
])
def test_microlearn_rows_are_simulates(bench, spec):
    X, y, nc, _ = bench.prepared("sea", 7, ROWS)
    r = bench.run_case(_case(bench, "microlearn", spec["name"], spec))
    sim = simulate((X, y), n_classes=nc, capacity=spec["capacity"], drift=spec["drift"], model=spec["model"],
                   baselines=False)
    assert r["predictions"] == sim["predictions"]
    assert r["accuracy"] == pytest.approx(np.mean(np.array(sim["predictions"]) == y))
    assert r["signals"] == len(sim["drift_rows"]) and r["retrains"] == len(sim["retrains"])
    assert r["rows"] == ROWS and r["memory_bytes"] > 0


def test_kernel_learner_rows_are_simulates_with_the_prefix_gamma(bench):
    """The rbf row: gamma by the "scale" rule over the scaling prefix (labels unused), then simulate's kernel
    learner row for row."""
    X, y, nc, _ = bench.prepared("sea", 7, ROWS)
    spec = next(s for s in bench.ml_learners(X.shape[1], nc) if s["name"] == "rbf60/window")
    r = bench.run_case(_case(bench, "microlearn", spec["name"], spec))
    gamma = 1.0 / (X.shape[1] * float(np.var(X[:bench.PREFIX])))
    sim = simulate((X, y), n_classes=nc, capacity=60, kernel="rbf", gamma=gamma, baselines=False, drift="window")
    assert r["predictions"] == sim["predictions"] and r["gamma"] == pytest.approx(gamma)
    assert 0 < r["n_sv"] <= 45


def test_int8_uno_sized_learner_quantises_the_known_range(bench):
    X, y, nc, _ = bench.prepared("sea", 7, ROWS)
    cap = bench.uno_capacity(X.shape[1], nc, "int8", drift="window")
    spec = {"name": "svm-uno-int8/window", "model": "svm", "drift": "window", "capacity": cap, "storage": "int8"}
    r = bench.run_case(_case(bench, "microlearn", spec["name"], spec))
    sim = simulate((X, y), n_classes=nc, capacity=cap, storage="int8", feature_range=(np.zeros(3), np.ones(3)),
                   baselines=False, drift="window")
    assert r["predictions"] == sim["predictions"]
    assert r["fits_uno"] is True


def test_river_learners_see_the_same_rows_test_then_train(bench, monkeypatch):
    X, y, nc, _ = bench.prepared("sea", 7, ROWS)
    calls = []

    class Recorder:
        def predict_one(self, x):
            calls.append(("predict", tuple(x.values())))
            return len(calls) % 2 == 0 if len(calls) > 2 else None   # None before anything was learned

        def learn_one(self, x, t):
            calls.append(("learn", tuple(x.values()), t))

    monkeypatch.setattr(bench, "_river_model", lambda name, nc, seed: Recorder())
    r = bench.run_case(_case(bench, "river", "PA-II"))
    assert len(calls) == 2 * ROWS
    for i in range(ROWS):
        p, lrn = calls[2 * i], calls[2 * i + 1]
        assert p[0] == "predict" and lrn[0] == "learn"               # test, then train, row by row
        assert p[1] == lrn[1] == tuple(float(v) for v in X[i])      # the microlearn learners' float32 rows
        assert lrn[2] == bool(y[i])
    pred = np.array(r["predictions"])
    assert pred[0] == -1                                            # no answer yet: counted wrong
    assert r["accuracy"] == pytest.approx(np.mean(pred == y))


def test_river_pa_runs(bench):
    r = bench.run_case(_case(bench, "river", "PA-II"))
    assert 0.5 < r["accuracy"] <= 1.0 and r["memory_bytes"] == (3 + 1) * 4


def test_scaling_is_causal(bench):
    X, y, nc, _ = bench.stream("sea", 7, ROWS)
    S = bench.scale(X)
    X2 = X.copy()
    X2[bench.PREFIX:] *= 100.0                                       # what comes later changes nothing before
    S2 = bench.scale(X2)
    assert np.array_equal(S[:bench.PREFIX], S2[:bench.PREFIX])
    assert S.dtype == np.float32 and S.min() >= 0.0 and S.max() <= 1.0
    assert np.array_equal(bench.stream("sea", 7, ROWS)[0], X)      # seeded


def test_static_is_trained_on_the_prefix_only(bench):
    r = bench.run_case(_case(bench, "static", "static200"))
    X, y, nc, _ = bench.prepared("sea", 7, ROWS)
    X2 = X.copy()
    X2[bench.PREFIX:] = 0.5
    r2 = bench.run_static(X2, y, nc)
    assert r["predictions"][:bench.PREFIX] == [int(v) for v in r2["predictions"][:bench.PREFIX]]
    assert r["accuracy"] is None and 0 <= r["accuracy_after_prefix"] <= 1
