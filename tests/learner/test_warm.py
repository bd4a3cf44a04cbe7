"""Warm-started retraining (issue 12; MLRN_LEARNER_WARM, LearnerConfig(warm=True), `microlearn loop --warm`):
the reference's warm start (feasibility repair, w rebuilt, zero start = cold start bit for bit, the stopping
criterion still met), the alphas following their rows and the cold fallbacks, the C unit checks in C99 and C++,
and bit-exact agreement of device and reference (same events, predictions, SMO iterations and final w, b) on
host, uno and nrf52840 (other boards: slow); the core of benchmarks/bench_warm.py's per-retrain analysis."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from microlearn.cli.main import main
from microlearn.core import vocab
from microlearn.core.f32 import F
from microlearn.data import streams
from microlearn.data.datasets import write_csv
from microlearn.learner import codegen as lc
from microlearn.learner.config import LearnerConfig
from microlearn.learner.reference import RefLearner
from microlearn.learner.runner import loop
from microlearn.learner.simulate import simulate
from microlearn.trainer import reference as R

from compile_c import compile_c, host_compilers, program_output
from conftest import board_param

C_DIR = Path(__file__).resolve().parent / "c"


def _problem(seed=0, m=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3)).astype(np.float32)
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=m) > 0, F(1.0), F(-1.0)).astype(np.float32)
    return X, y


def _violation(params, X, y, alpha, w):
    """m(a) - M(a): the maximal KKT violation wss2 stops on."""
    g = y * (X @ w) - 1.0
    v = -y * g
    up = np.where(y > 0, alpha < params.C, alpha > 0)
    low = np.where(y > 0, alpha > 0, alpha < params.C)
    return float(v[up].max() - v[low].min())


# ---- the reference's warm start ------------------------------------------------------------------------------
def test_zero_warm_start_is_the_cold_start_bit_for_bit():
    X, y = _problem()
    P = R.Params.make(C=1.0, tol=1e-3)
    a0, b0, w0, it0, _ = R._wss2(P, X, y)
    a1, b1, w1, it1, _ = R._wss2(P, X, y, alpha0=np.zeros(len(y), np.float32))
    assert it0 == it1 > 5
    assert a0.tobytes() == a1.tobytes() and w0.tobytes() == w1.tobytes() and np.float32(b0) == np.float32(b1)


def test_repair_makes_any_start_feasible_and_rebuilds_w():
    X, y = _problem(1)
    P = R.Params.make(C=1.0)
    rng = np.random.default_rng(3)
    alpha = rng.uniform(-0.5, 1.6, size=len(y)).astype(np.float32)
    alpha[[2, 7]] = np.nan
    w = R.warm_start(P, X, y, alpha)
    assert np.all((alpha >= 0) & (alpha <= P.C))
    assert abs(float(np.sum(alpha[y > 0], dtype=np.float64) - np.sum(alpha[y < 0], dtype=np.float64))) < 1e-5
    np.testing.assert_allclose(w, (alpha * y) @ X, rtol=1e-5, atol=1e-5)


def test_repair_takes_the_excess_off_the_larger_side_oldest_first():
    X = np.eye(4, 2, dtype=np.float32) + 1
    y = np.array([1, 1, 1, -1], np.float32)
    alpha = np.array([0.5, 0.25, 1.0, 0.5], np.float32)   # positives 1.75, negatives 0.5: excess 1.25
    R.warm_start(R.Params.make(C=1.0), X, y, alpha)
    assert alpha.tolist() == [0.0, 0.0, 0.5, 0.5]


def test_warm_solution_meets_the_same_stopping_criterion():
    X, y = _problem(2, 60)
    P = R.Params.make(C=1.0, tol=1e-3)
    a0, b0, w0, it0, _ = R._wss2(P, X, y)
    # the store changed: the first 10 rows went, 10 new ones came (alpha 0)
    X2, y2 = _problem(5, 60)
    X2[:50], y2[:50] = X[10:], y[10:]
    start = np.concatenate([a0[10:], np.zeros(10, np.float32)])
    a1, b1, w1, it1, _ = R._wss2(P, X2, y2, alpha0=start)
    ac, bc, wc, itc, _ = R._wss2(P, X2, y2)
    assert _violation(P, X2, y2, a1, w1) < float(P.tol)
    assert _violation(P, X2, y2, ac, wc) < float(P.tol)
    assert it1 > 0 and itc > 0   # (with 1/6 of the rows replaced warm is not always faster here: see the docs)
    # two solutions of the same convex problem within the tolerance: the same decisions away from the boundary
    f1, fc = X2 @ w1 + b1, X2 @ wc + bc
    clear = np.abs(fc) > 0.05
    assert np.array_equal(f1[clear] >= 0, fc[clear] >= 0)


def test_warm_start_saves_iterations_when_rows_are_only_added():
    X, y = _problem(4, 70)
    P = R.Params.make(C=1.0, tol=1e-3)
    a0, *_ = R._wss2(P, X[:60], y[:60])
    start = np.concatenate([a0, np.zeros(10, np.float32)])
    a1, b1, w1, it1, _ = R._wss2(P, X, y, alpha0=start)
    *_, itc, _ = R._wss2(P, X, y)
    assert _violation(P, X, y, a1, w1) < float(P.tol)
    assert it1 < itc / 2, (it1, itc)


# ---- the learner: alphas follow their rows, cold fallbacks ------------------------------------------------------
def test_alphas_follow_their_rows_through_fifo_eviction():
    cfg = LearnerConfig(n_features=2, n_classes=3, capacity=6, holdout_every=0, k_mistakes=0, trigger_window=0,
                        warm=True)
    lr = RefLearner(cfg)
    for i in range(6):
        lr.feedback(np.array([i, i % 3], np.float32), i % 3)
    lr.request_train()
    lr.step()
    assert lr.warm_ok and lr.warm_flags == [False]   # the first training is cold
    before = [a.copy() for a in lr.warm_a]
    assert any(np.any(a != 0) for a in before)
    lr.feedback(np.array([9, 1], np.float32), 0)      # FIFO: row 0 goes, the newcomer is row 5
    assert all(np.array_equal(a, b) for a, b in zip(lr.warm_a[:5], before[1:]))
    assert not np.any(lr.warm_a[5])
    lr.request_train()
    lr.step()
    assert lr.warm_flags == [False, True]


def test_class_map_change_falls_back_to_a_cold_start():
    """Class 2 appears only after row 120: the training right after it enters the store starts cold."""
    s = streams.make("switched_means", n=300, drift_points=(150,))
    X, y = s[0], np.array(s[1])
    y[:120] = np.where(y[:120] == 2, 1, y[:120])
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=3, warm=True)
    lr = RefLearner(cfg)
    maps = []
    for i in range(len(X)):
        lr.feedback(X[i], int(y[i]))
        n0 = lr.n_retrains
        lr.step()
        if lr.n_retrains != n0:
            maps.append(list(lr.last_map))
    assert len(maps) == len(lr.warm_flags) > 5
    for k in range(1, len(maps)):
        if maps[k] != maps[k - 1]:
            assert not lr.warm_flags[k]
    assert any(maps[k] != maps[k - 1] for k in range(1, len(maps)))
    assert sum(lr.warm_flags) > 0


def test_warm_off_is_unchanged_and_warm_on_saves_iterations_with_equal_accuracy():
    s = streams.make("sudden_concept", seed=0)
    cold = simulate(s, baselines=False)
    warm = simulate(s, baselines=False, warm=True)
    assert "warm_starts" not in cold and warm["warm_starts"] > 10
    assert sum(warm["train_iterations"]) < sum(cold["train_iterations"])
    assert abs(warm["accuracy"] - cold["accuracy"]) < 0.02


def test_memory_formulas():
    cfg = LearnerConfig(n_features=4, n_classes=3, capacity=60, warm=True)
    off = LearnerConfig(n_features=4, n_classes=3, capacity=60)
    assert lc.buffer_bytes(cfg)["work"] - lc.buffer_bytes(off)["work"] == 4 * 2 * cfg.train_capacity
    assert vocab.learner_warm_floats(45, 2, True) == 0   # binary: the trainer's own alpha row is the warm row
    assert vocab.learner_work_floats(45, 4, 3, "float32", True) == vocab.smo_work_floats(45, 4, 3, "float32") + 90
    h = lc.render_header(cfg)
    assert "#define MLRN_LEARNER_WARM 1" in h and "#if MLRN_LEARNER_WARM != 1" in h
    assert "#define MLRN_LEARNER_WARM 0" in lc.render_header(off)


# ---- hostile input ----------------------------------------------------------------------------------------------
def test_warm_is_refused_for_the_online_learner_and_non_bools():
    with pytest.raises(ValueError, match="warm starts are for the SVM learner"):
        LearnerConfig(n_features=2, n_classes=2, model="online", warm=True)
    with pytest.raises(ValueError, match="warm must be True or False"):
        LearnerConfig(n_features=2, n_classes=2, warm="yes")


def test_cli_warm_with_the_online_model_is_one_line(tmp_path, capsys):
    s = streams.make("sudden_concept", n=60, drift_points=(30,))
    path = tmp_path / "s.csv"
    write_csv(path, s[0], s[1])
    rc = main(["loop", str(path), "--warm", "--model", "online"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("microlearn loop: error: --warm starts are for the SVM learner"), err


# ---- C: unit checks in C99 and C++, and the include-order guard -------------------------------------------------
@pytest.mark.parametrize("cid,cc,lang", host_compilers(), ids=[c[0] for c in host_compilers()])
def test_c_unit_checks(cid, cc, lang, tmp_path):
    out = program_output(C_DIR / "learner_warm_checks.c", tmp_path, compiler=cc, lang=lang, timeout=60)
    assert out.strip().endswith("OK"), out


@pytest.mark.skipif(shutil.which("cc") is None, reason="no host C compiler")
def test_c_refuses_warm_after_a_cold_trainer_include(tmp_path):
    src = tmp_path / "bad.c"
    src.write_text('#include "mlrn_smo.h"\n#define MLRN_LEARNER_WARM 1\n#include "mlrn_learner.h"\n'
                   "int main(void) { return 0; }\n")
    proc = compile_c(src, tmp_path / "bad", check=False, stage="syntax")
    assert proc.returncode != 0 and "MLRN_LEARNER_WARM 1 needs mlrn_smo.h with MLRN_SMO_WARM 1" in proc.stderr


# ---- device and reference, bit for bit ----------------------------------------------------------------------
HOST_CASES = [("rotating_hyperplane", dict()),
              ("sudden_concept", dict(replace="reservoir", budget=7)),
              ("label_swap", dict(replace="balanced", storage="int16")),
              ("gradual_blend", dict(drift="ddm", storage="int8", budget=3)),
              ("switched_means", dict(store="mistakes", capacity=30))]


def _agrees(rep):
    assert rep["agreement"] == 1.0 and rep["same_events"]
    assert rep["smo_iterations"] == rep["python_smo_iterations"] > 0
    assert rep["same_model"]
    assert rep["warm_starts"] > 0


@pytest.mark.skipif(shutil.which("cc") is None, reason="no host C compiler")
@pytest.mark.parametrize("name,kw", HOST_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(HOST_CASES)])
def test_host_agrees_warm(name, kw):
    _agrees(loop(streams.make(name), "host", baselines=False, warm=True, **kw))


BOARD_CASES = [("switched_means", dict(capacity=40, budget=20)),
               ("sudden_concept", dict(capacity=40, replace="reservoir", storage="int16"))]


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840"), board_param("samd21", slow=True)])
@pytest.mark.parametrize("name,kw", BOARD_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BOARD_CASES)])
def test_board_agrees_warm(board, name, kw):
    rep = loop(streams.make(name, n=300, drift_points=(150,)), board, baselines=False, warm=True, **kw)
    _agrees(rep)
    if board == "uno":
        assert rep["sram_bytes"] <= 2048


@pytest.mark.skipif(shutil.which("cc") is None, reason="no host C compiler")
@pytest.mark.parametrize("warm", [0, 1])
def test_vocab_work_floats_equal_the_header(warm, tmp_path):
    """vocab.learner_work_floats (the planner's and codegen's) against mlrn_learner_work_floats and the
    MLRN_LEARNER_DEFINE array, in both builds."""
    cases = [(45, 4, 2, "MLRN_STORAGE_F32", "float32"), (30, 3, 3, "MLRN_STORAGE_I16", "int16"),
             (12, 7, 5, "MLRN_STORAGE_I8", "int8")]
    lines = [f"#define MLRN_LEARNER_WARM {warm}", "#include <stdio.h>", '#include "mlrn_learner.h"', "int main(void) {"]
    for cap, d, nc, st, _ in cases:
        lines.append(f'    printf("%lu %lu\\n", (unsigned long)mlrn_learner_work_floats({cap}u, {d}u, {nc}u, {st}), '
                     f"(unsigned long)(MLRN_SMO_WORK_FLOATS_LINEAR({cap}ul, {d}ul, MLRN_SMO_N_SUB_OVO({nc}ul), {st}) + "
                     f"MLRN_LEARNER__WARM_FLOATS({cap}ul, MLRN_SMO_N_SUB_OVO({nc}ul))));")
    lines += ["    return 0;", "}"]
    src = tmp_path / "wf.c"
    src.write_text("\n".join(lines) + "\n")
    got = [tuple(map(int, ln.split())) for ln in program_output(src, tmp_path).split("\n") if ln.strip()]
    for (cap, d, nc, _, storage), (fn, macro) in zip(cases, got):
        want = vocab.learner_work_floats(cap, d, nc, storage, bool(warm))
        assert fn == macro == want, (cap, d, nc, storage, fn, macro, want)


def test_planner_counts_the_warm_alphas():
    from microlearn.learner.planner import WARM_NOTE, plan_learner
    cold, warm = plan_learner("uno", 4, 60, 3), plan_learner("uno", 4, 60, 3, warm=True)
    extra = 4 * 2 * cold.train_capacity            # (n_sub(3) - 1) rows of the training capacity
    assert warm.static_ram_bytes - cold.static_ram_bytes >= extra
    assert warm.max_capacity["float32"] < cold.max_capacity["float32"]
    two = plan_learner("uno", 4, 60, 2, warm=True)   # binary: the trainer's own row is the warm row
    assert two.static_buffers["lrn_work"] == plan_learner("uno", 4, 60, 2).static_buffers["lrn_work"]
    uncalibrated = any(n.startswith(WARM_NOTE) for n in warm.notes)
    assert uncalibrated == (warm.static_ram_bytes - cold.static_ram_bytes == extra)


# ---- benchmarks/bench_warm.py's analysis (issue 12: where the iterations go) --------------------------------------
@pytest.fixture(scope="module")
def bench_warm():
    from conftest import load_benchmark
    return load_benchmark("bench_warm")


def test_bench_per_retrain_is_the_loops_own_warm_training(bench_warm):
    """The analysis drives its own reference loop: its warm retrains, their iterations and their stores are the
    loop's (simulate's), and the exact start (every final alpha) costs next to nothing."""
    per = bench_warm.per_retrain("sudden_concept", 0)
    ref = simulate(streams.make("sudden_concept", seed=0), baselines=False, warm=True)
    lr_iters = ref["train_iterations"]
    assert len(per) == ref["warm_starts"] > 10
    assert sum(r["warm"] for r in per) == sum(it for it, w in zip(lr_iters, _warm_flags(ref)) if w)
    assert all(0 <= r["new"] <= r["rows"] and r["removed"] >= 0 for r in per)
    assert sum(r["new"] for r in per) > 0.2 * sum(r["rows"] for r in per)   # FIFO replaced much of the store
    assert sum(r["oracle_all"] for r in per) <= 0.05 * sum(r["cold"] for r in per)
    for r in per:   # the float64 prototype's w settles within 1% no earlier than within 10%
        assert r["settle0.01_cold"] >= r["settle0.1_cold"] and r["settle0.01_warm"] >= r["settle0.1_warm"]


def _warm_flags(report):
    """Which trainings of simulate's report started warm: its learner is not returned, so run the loop again."""
    from microlearn.learner.simulate import load_stream, run_reference
    X, y, _, nc = load_stream(streams.make("sudden_concept", seed=0))
    return run_reference(LearnerConfig(n_features=X.shape[1], n_classes=nc, warm=True), X, y)["learner"].warm_flags


def test_bench_counts_the_new_rows_independently(bench_warm):
    """Without evictions or drift purges (a store larger than the stream's first 150 rows, no drift detector) no row
    leaves, and the new rows of a retrain are the store's growth since the previous one."""
    per = bench_warm.per_retrain("rotating_hyperplane", 1, capacity=400, drift="window", drift_pct=0)
    grown = [(a, b) for a, b in zip(per, per[1:]) if b["rows"] < 300]
    assert len(grown) > 3
    assert all(r["removed"] == 0 for a, r in grown)
    assert all(b["new"] == b["rows"] - a["rows"] for a, b in grown)


def test_bench_float64_wss2_meets_the_stopping_rule_near_the_reference(bench_warm):
    X, y = _problem(6, 50)
    P = R.Params.make(C=1.0, tol=1e-3)
    a32, b32, w32, it32, _ = R._wss2(P, X, y)
    it64, ws = bench_warm.wss2_float64(X, y, 1.0, 1e-3)
    assert 0 < it64 < 50_000 and len(ws) == it64 + 1
    np.testing.assert_allclose(ws[-1], w32, atol=2e-2)
    assert bench_warm._settled(ws, ws[-1], 0.1) <= it64
