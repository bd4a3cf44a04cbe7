"""The self-learning loop: C learner (mlrn_learner.h) vs its Python reference (simulate), unit checks of
the C API (validation, eviction policies, queue, rollback, persistence under power cuts), the goals."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import microlearn
from microlearn.data import streams
from microlearn.learner.runner import loop
from microlearn.learner.config import LearnerConfig

from conftest import board_param
from microlearn.learner.reference import RefLearner
from microlearn.learner.simulate import simulate

from compile_c import program_output

C_DIR = Path(__file__).resolve().parent / "c"


@pytest.fixture(scope="module")
def unit_output(tmp_path_factory):
    """What c/learner_unit_checks.c printed (it exits 0 when every check passed)."""
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler")
    return program_output(C_DIR / "learner_unit_checks.c", tmp_path_factory.mktemp("learner_unit"), timeout=60)


def test_c_unit_validation_policies_queue_rollback(unit_output):
    assert unit_output.strip().endswith("OK"), unit_output
    roll = [ln for ln in unit_output.splitlines() if ln.startswith("ROLL")][0]
    assert "ev=2" in roll and "rollbacks=1" in roll        # the worse candidate was refused


def test_c_reservoir_matches_python(unit_output):
    line = [ln for ln in unit_output.splitlines() if ln.startswith("RES")][0].split()[1:]
    cfg = LearnerConfig(n_features=2, n_classes=3, capacity=6, holdout_every=0, store="all", replace="reservoir",
                        k_mistakes=0, trigger_window=0, seed=7)
    lr = RefLearner(cfg)
    for i in range(40):
        lr.feedback(np.array([i, 0], np.float32), i % 2)
    assert [int(x[0]) for x in lr.train_x] == [int(v) for v in line[:6]]
    assert lr.n_discarded == int(line[6])


def test_c_power_cuts_never_lose_the_model(unit_output):
    line = [ln for ln in unit_output.splitlines() if ln.startswith("PERSIST")][0]
    kv = dict(tok.split("=") for tok in line.split()[1:])
    assert int(kv["bad"]) == 0 and int(kv["cuts"]) > 30


def test_python_policies():
    cfg = LearnerConfig(n_features=1, n_classes=2, capacity=4, holdout_every=0, store="all", replace="fifo",
                        k_mistakes=0, trigger_window=0)
    lr = RefLearner(cfg)
    for i in range(6):
        lr.feedback(np.array([i], np.float32), i % 2)
    assert [float(x[0]) for x in lr.train_x] == [2, 3, 4, 5]
    cfg = LearnerConfig(n_features=1, n_classes=2, capacity=4, holdout_every=0, store="all", replace="balanced",
                        k_mistakes=0, trigger_window=0)
    lr = RefLearner(cfg)
    for i, c in enumerate([0, 0, 0, 1, 1]):
        lr.feedback(np.array([i], np.float32), c)
    assert [float(x[0]) for x in lr.train_x] == [1, 2, 3, 4] and lr.train_y == [0, 0, 1, 1]


# Host agreement matrix: stream x store policy x replacement x budget x holdout.
CASES = [
    ("rotating_hyperplane", dict()),
    ("rotating_hyperplane", dict(budget=7, replace="reservoir", store="all", queue=16)),
    ("switched_means", dict(replace="balanced", budget=3)),
    ("switched_means", dict(store="all", replace="fifo", budget=20, margin_pct=5)),
    ("sudden_concept", dict(replace="reservoir", holdout_every=3, k_mistakes=0, err_pct=20)),
    ("label_swap", dict(replace="balanced", store="all", budget=50, capacity=40)),
    ("gradual_blend", dict(holdout_every=0, trigger_window=0, k_mistakes=8)),
    ("switched_means", dict(storage="int16", budget=40)),
    ("rotating_hyperplane", dict(storage="int8", replace="reservoir")),
    ("label_swap", dict(budget=10, store="mistakes", replace="reservoir")),   # drifts mid-training
    ("switched_means", dict(drift="window", drift_pct=0, store="mistakes")),  # the loop without drift purge
    ("label_swap", dict(drift="window", replace="reservoir", budget=7)),      # the window detector
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_host_agrees_with_python_bit_for_bit(name, kw):
    rep = loop(streams.make(name), "host", window=100, baselines=False, **kw)
    assert rep["agreement"] == 1.0
    assert rep["same_events"], (rep["retrains"], rep["python_retrains"], rep["rollbacks"], rep["python_rollbacks"])
    assert len(rep["retrains"]) > 0


def test_rollback_never_accepts_a_worse_model():
    for name in ("rotating_hyperplane", "switched_means", "label_swap"):
        X, y, _ = streams.make(name)
        cfg = LearnerConfig(n_features=X.shape[1], n_classes=int(y.max()) + 1)
        lr = RefLearner(cfg)
        for i in range(len(X)):
            lr.feedback(X[i], int(y[i]))
            n_acc = lr.n_accepted
            had = lr.model is not None
            lr.step()
            if lr.n_accepted != n_acc and had:   # strictly better, or nothing held out to judge on
                assert lr.last["cand_correct"] > lr.last["cur_correct"] or lr.last["hold_n"] == 0


def _recovery(rep, capacity):
    """Rows after each abrupt drift until the learner's window is within 5 points of the oracle."""
    out = []
    for d in rep["drift_points"]:
        for w in rep["windows"]:
            if w["start"] >= d and w["learner"] >= w["oracle"] - 0.05:
                out.append(w["end"] - d)
                break
        else:
            out.append(None)
    return out


# The -2 point goal was set for the window detector, and it meets it; the default detector (DDM, fewer store
# purges, better overall accuracy: benchmarks/bench_streams.py) trades it for a worst window of -5 points (3 of
# 20 stream x seed cases below -2, one sample in 60 being 1.7 points): test_goals_ddm holds it to that.
GOAL_CASES = [("rotating_hyperplane", dict(drift="window")), ("switched_means", dict(drift="window")),
              ("sudden_concept", dict(drift="window")), ("label_swap", dict(drift="window"))]


def goal_figures(name, capacity=60, window=60, n=900, **kw):
    """Recovery (rows after each abrupt drift until the learner is within 5 points of the oracle) and the
    worst learner - static gap over windows outside the recovery periods."""
    rep = simulate(streams.make(name, n=n), capacity=capacity, window=window, **kw)
    rec = _recovery(rep, capacity)
    spans = [(d, d + (r if r is not None else 10 ** 9)) for d, r in zip(rep["drift_points"], rec)]
    first = spans[0][1] if spans else 0
    gaps = [w["learner"] - w["static"] for w in rep["windows"]
            if w["start"] >= first and not any(a <= w["start"] < b for a, b in spans)]
    return rep, rec, (min(gaps) if gaps else 0.0)


@pytest.mark.parametrize("name,kw", GOAL_CASES, ids=[n for n, _ in GOAL_CASES])
def test_goals_recovery_and_static(name, kw):
    cap = 60
    rep, rec, worst_gap = goal_figures(name, cap, **kw)
    assert all(r is not None and r <= 3 * cap for r in rec), rec
    assert worst_gap >= -0.02, (worst_gap, rep["windows"])


@pytest.mark.parametrize("name", [n for n, _ in GOAL_CASES])
def test_goals_ddm(name):
    """The default detector (DDM): recovery within 3 capacities, worst window outside recovery >= -5 points."""
    rep, rec, worst_gap = goal_figures(name, 60)
    assert all(r is not None and r <= 180 for r in rec), rec
    assert worst_gap >= -3 / 60 - 1e-9, (worst_gap, rep["windows"])   # 3 samples of a 60-row window


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_goals_other_seeds(seed):
    """The goals on other draws of every abrupt stream (the window detector's goal, see GOAL_CASES)."""
    for name, kw in GOAL_CASES:
        rep = simulate(streams.make(name, n=900, seed=seed), capacity=60, window=60, **kw)
        rec = _recovery(rep, 60)
        assert all(r is not None and r <= 180 for r in rec), (name, rec)
        spans = [(d, d + r) for d, r in zip(rep["drift_points"], rec)]
        gaps = [w["learner"] - w["static"] for w in rep["windows"]
                if w["start"] >= spans[0][1] and not any(a <= w["start"] < b for a, b in spans)]
        assert min(gaps) >= -0.02, (name, seed, min(gaps))


def test_drift_purges_stale_samples():
    """After an abrupt drift the stores keep only the samples of the detection window: no candidate is judged
    on (or trained with) the old concept's samples for long."""
    s = streams.make("label_swap", n=600)
    cfg = LearnerConfig(n_features=4, n_classes=3, drift="window")   # the window detector (DDM: test_drift_online)
    lr = RefLearner(cfg)
    for i in range(len(s.X)):
        lr.feedback(s.X[i], int(s.y[i]))
        if i == 299:
            assert lr.n_drifts == 0 or lr.n_drifts <= 1
            before = lr.n_drifts
        lr.step()
        if i == 340:
            assert lr.n_drifts > before                      # the swap was signalled
            assert len(lr.train_x) < cfg.train_capacity       # and the old samples went
    off = RefLearner(LearnerConfig(n_features=4, n_classes=3, drift="window", drift_pct=0))
    for i in range(len(s.X)):
        off.feedback(s.X[i], int(s.y[i]))
        off.step()
    assert off.n_drifts == 0


def test_simulate_csv_and_plot(tmp_path):
    X, y, _ = streams.make("switched_means")
    csv = tmp_path / "s.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", fmt="%.9g", header="a,b,c,d,label", comments="")
    rep = microlearn.simulate(str(csv), capacity=40, window=100, plot=tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    for key in ("windows", "retrains", "rollbacks", "final_accuracy", "static_final_accuracy",
                "oracle_final_accuracy"):
        assert key in rep
    assert set(rep["windows"][0]) >= {"learner", "static", "oracle"}


def test_cli_loop_json(tmp_path):
    import json
    X, y, _ = streams.make("rotating_hyperplane", n=300, drift_points=(150,))
    csv = tmp_path / "s.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", fmt="%.9g")
    p = subprocess.run(["microlearn", "loop", str(csv), "--target", "host", "--capacity", "40", "--window", "50",
                        "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["agreement"] == 1.0 and rep["same_events"]
    for key in ("windows", "retrains", "rollbacks", "final_accuracy", "static_final_accuracy",
                "oracle_final_accuracy", "agreement"):
        assert key in rep
    bad = subprocess.run(["microlearn", "loop", str(tmp_path / "missing.csv")], capture_output=True, text=True)
    assert bad.returncode == 2 and "error" in bad.stderr


def _need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


@pytest.mark.avr
@_need("avr-gcc", "simavr")
def test_uno_capacity60_agrees_and_fits():
    # Capacity 60: the largest float32 store that fits (2,048 of 2,048 B with the UART driver; docs/self-learning.md,
    # "Memory"). The default detector (DDM) needs 27 B more here: without --drift the uno gets the window detector,
    # said.
    rep = loop(streams.make("rotating_hyperplane", n=300, drift_points=(150,)), "uno", capacity=60, window=100, budget=50,
               baselines=False)
    assert rep["agreement"] == 1.0 and rep["same_events"]
    assert rep["sram_bytes"] <= 2048
    assert rep["drift"] == "window" and "--drift ddm fits up to capacity 58" in rep["drift_note"]


@pytest.mark.avr
@_need("avr-gcc", "simavr")
def test_uno_ddm_capacity58_agrees_and_fits():
    """DDM's largest float32 store on the uno (the planner's figure the capacity-60 note gives): it runs, fits
    and agrees."""
    rep = loop(streams.make("rotating_hyperplane", n=300, drift_points=(150,)), "uno", capacity=58, window=100,
               budget=50, baselines=False)
    assert rep["drift"] == "ddm" and "drift_note" not in rep
    assert rep["agreement"] == 1.0 and rep["same_events"]
    assert rep["sram_bytes"] <= 2048


@pytest.mark.avr
@_need("avr-gcc", "simavr")
def test_uno_training_cycles_timer1():
    """Timer1 (second run) times the step() calls that trained: a part of the whole-stream cycles."""
    rep = loop(streams.make("rotating_hyperplane", n=200, drift_points=(100,)), "uno", capacity=40, window=100,
               budget=50, baselines=False, train_cost=True)
    assert rep["agreement"] == 1.0 and rep["same_events"]
    assert 0 < rep["train_cycles"] < rep["cycles"], (rep["train_cycles"], rep["cycles"])
    assert rep["timer_overhead_cycles"] < 100


@pytest.mark.cortexm
@_need("arm-none-eabi-gcc", "qemu-system-arm")
def test_nrf52840_agrees():
    rep = loop(streams.make("switched_means", n=300, drift_points=(150,)), "nrf52840", capacity=60, window=100, budget=20,
               baselines=False)
    assert rep["agreement"] == 1.0 and rep["same_events"]
    assert rep["instructions"] > 0


@pytest.mark.parametrize("board", [board_param("nrf52840"), board_param("samd21", slow=True)])
def test_loop_reports_estimated_cycles_and_energy(board):
    from microlearn.boards import power
    rep = loop(streams.make("switched_means", n=200, drift_points=(100,)), board, capacity=40, window=100,
               baselines=False)
    assert rep["agreement"] == 1.0 and rep["same_events"]
    assert rep["cycles_est"] > rep["instructions"] > 0           # the Cortex-M cycle model: CPI above 1
    rc = power.run_current(board)
    if rc is None:
        assert rep["energy_mj"] is None and "nRF52840" in rep["energy_missing"]
    else:
        assert rep["energy_mj"] == pytest.approx(rc.ma * rc.volts * rep["cycles_est"] / rep["clock_hz"])
        assert 0 < rep["train_energy_mj"] < rep["energy_mj"]
        assert rep["row_energy_mj"] == pytest.approx((rep["energy_mj"] - rep["train_energy_mj"]) / 200)
