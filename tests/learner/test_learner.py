"""The self-learning loop: C learner (mlrn_learner.h) vs its Python reference (simulate), unit checks of
the C API (validation, eviction policies, queue, rollback, persistence under power cuts), the goals."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import microlearn
from microlearn.data import streams
from microlearn.learner.runner import loop
from microlearn.learner.simulate import LearnerConfig, RefLearner, simulate

UNIT_C = r"""
/* Unit checks of mlrn_learner.h: input validation, eviction policies, queue, rollback, persistence. */
#include <stdio.h>
#include <string.h>
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"

static int fails;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

MLRN_LEARNER_DEFINE(L, 2, 3, 6, 2, 2, 4)

static mlrn_learner_params base(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    p.holdout_every = 0; p.k_mistakes = 0; p.window = 0; p.store_policy = MLRN_LEARNER_STORE_ALL;
    return p;
}

static void fill(uint8_t lab0, int n, float v0) {
    int i;
    for (i = 0; i < n; i++) {
        float x[2]; x[0] = v0 + (float)i; x[1] = 0.0f;
        CHECK(mlrn_learner_feedback(&L, x, (uint8_t)((lab0 + i) % 2)) >= 0);
    }
}

int main(void) {
    mlrn_learner_params p;
    float x[2] = {1.0f, 2.0f}, nanv[2];
    int i;
    union { float f; uint32_t u; } nn; nn.u = 0x7fc00000u; nanv[0] = nn.f; nanv[1] = 0.0f;

    /* uninitialised / invalid input */
    memset(&L, 0, sizeof L);
    CHECK(mlrn_learner_predict(&L, x) == MLRN_ERR_ARG);
    CHECK(mlrn_learner_feedback(&L, x, 0) == MLRN_ERR_ARG);
    CHECK(mlrn_learner_step(&L, 0) == MLRN_ERR_ARG);
    CHECK(mlrn_learner_feedback(0, x, 0) == MLRN_ERR_ARG);
    p = base(); p.svm.kernel.type = MLRN_KERNEL_RBF;
    CHECK(L_init(&p) == MLRN_ERR_ARG);                    /* linear only */
    p = base(); p.holdout_every = 1;
    CHECK(L_init(&p) == MLRN_ERR_ARG);
    p = base(); p.window = 5;                             /* larger than the window buffer (4) */
    CHECK(L_init(&p) == MLRN_ERR_ARG);
    p = base();
    CHECK(L_init(&p) == MLRN_OK);
    CHECK(mlrn_learner_predict(&L, x) == MLRN_ERR_UNTRAINED);
    CHECK(mlrn_learner_feedback(&L, nanv, 0) == MLRN_ERR_NAN);
    CHECK(mlrn_learner_predict(&L, nanv) == MLRN_ERR_NAN);
    CHECK(mlrn_learner_feedback(&L, x, 3) == MLRN_ERR_LABEL);
    CHECK(L.n_feedback == 0 && L.train.n == 0);
    CHECK(mlrn_learner_request_train(0) == MLRN_ERR_ARG);

    /* FIFO: the oldest goes */
    fill(0, 8, 0.0f);
    CHECK(L.train.n == 6);
    CHECK(((float *)L.train.data)[0] == 2.0f && ((float *)L.train.data)[10] == 7.0f);

    /* one class only: training waits, stays pending, no error */
    p = base(); CHECK(L_init(&p) == MLRN_OK);
    x[0] = 1.0f; mlrn_learner_feedback(&L, x, 2); mlrn_learner_feedback(&L, x, 2);
    mlrn_learner_request_train(&L);
    CHECK(mlrn_learner_step(&L, 0) == MLRN_OK && L.n_retrains == 0 && L.pending == 1);
    /* a second class arrives: the model predicts among the seen classes {0, 2} */
    x[0] = -1.0f; mlrn_learner_feedback(&L, x, 0); mlrn_learner_feedback(&L, x, 0);
    CHECK(mlrn_learner_step(&L, 0) == MLRN_OK && L.n_retrains == 1 && L.event == MLRN_LEARNER_EV_ACCEPTED);
    CHECK(L.n_cur == 2 && L.cur_map[0] == 0 && L.cur_map[1] == 2);
    x[0] = 3.0f; CHECK(mlrn_learner_predict(&L, x) == 2);
    x[0] = -3.0f; CHECK(mlrn_learner_predict(&L, x) == 0);
    for (i = 0; i < 4; i++) CHECK(L.train.labels[i] == 2 || L.train.labels[i] == 0);   /* labels restored */

    /* balanced: evicts the oldest sample of the largest class */
    p = base(); p.replace = MLRN_LEARNER_BALANCED; CHECK(L_init(&p) == MLRN_OK);
    for (i = 0; i < 6; i++) { x[0] = (float)i; mlrn_learner_feedback(&L, x, (uint8_t)(i < 4 ? 0 : 1)); }
    x[0] = 100.0f; mlrn_learner_feedback(&L, x, 1);     /* class 0 has 4: its oldest (x=0) goes */
    CHECK(L.train.n == 6 && ((float *)L.train.data)[0] == 1.0f && ((float *)L.train.data)[10] == 100.0f);
    x[0] = 101.0f; mlrn_learner_feedback(&L, x, 1);     /* 3 vs 3: lowest class index (0) -> x=1 goes */
    CHECK(((float *)L.train.data)[0] == 2.0f);

    /* reservoir: the store keeps a uniform sample; decisions from xorshift32 (checked vs Python in test) */
    p = base(); p.replace = MLRN_LEARNER_RESERVOIR; p.seed = 7u; CHECK(L_init(&p) == MLRN_OK);
    for (i = 0; i < 40; i++) { x[0] = (float)i; mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)); }
    printf("RES");
    for (i = 0; i < 6; i++) printf(" %d", (int)((float *)L.train.data)[2 * i]);
    printf(" %u\n", (unsigned)L.n_discarded);

    /* queue: samples arriving mid-training are stored after it, none lost */
    p = base(); CHECK(L_init(&p) == MLRN_OK);
    for (i = 0; i < 4; i++) { x[0] = (float)(i % 2 ? 1 + i : -1 - i); x[1] = (float)i; mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)); }
    mlrn_learner_request_train(&L);
    CHECK(mlrn_learner_step(&L, 1) == MLRN_RUNNING || L.event == MLRN_LEARNER_EV_ACCEPTED);
    if (L.training) {
        x[0] = 9.0f; CHECK(mlrn_learner_feedback(&L, x, 1) >= 0);
        CHECK(L.queue_n == 1 && L.train.n == 4);
        while (mlrn_learner_step(&L, 1) == MLRN_RUNNING) {}
        CHECK(L.queue_n == 0 && L.train.n == 5 && ((float *)L.train.data)[8] == 9.0f);
    }

    /* rollback: a candidate worse on the held-out store is refused and counted */
    p = base(); p.holdout_every = 2; CHECK(L_init(&p) == MLRN_OK);
    /* stored order: train, hold, train, hold... concept A: class = x0 > 0 */
    { float a[][2] = {{-2, 0}, {-2, 1}, {2, 0}, {2, 1}};
      uint8_t ya[] = {0, 0, 1, 1};
      for (i = 0; i < 4; i++) mlrn_learner_feedback(&L, a[i], ya[i]); }
    mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
    CHECK(L.event == MLRN_LEARNER_EV_ACCEPTED && L.last_hold_n == 2);
    {   /* noise lands in the training store only (hold is full: FIFO there too), flipped labels */
        float a[][2] = {{-3, 0}, {-9, 9}, {3, 0}, {-9, 9}};
        uint8_t ya[] = {1, 0, 0, 0};
        for (i = 0; i < 4; i++) mlrn_learner_feedback(&L, a[i], ya[i]); }
    mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
    printf("ROLL ev=%d cand=%u cur=%u n=%u rollbacks=%u\n", L.event, L.last_cand_correct, L.last_cur_correct,
           L.last_hold_n, (unsigned)L.n_rollbacks);
    CHECK(L.event != MLRN_LEARNER_EV_ACCEPTED || L.last_cand_correct >= L.last_cur_correct);

    /* drift: > 50 % errors over a full window of 4 -> the stores keep only the window's samples */
    p = base(); p.window = 4; p.drift_pct = 0; CHECK(L_init(&p) == MLRN_OK);   /* no model yet: all wrong */
    for (i = 0; i < 6; i++) { x[0] = (float)(i % 2 ? 2 + i : -2 - i); x[1] = 0.0f; mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)); }
    mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
    CHECK(L.has_model && L.train.n == 6 && L.n_drifts == 0);
    L.lp.drift_pct = 50; L.win_fill = 0; L.win_err = 0; L.win_pos = 0;   /* forget the untrained rows */
    for (i = 0; i < 4; i++) { x[0] = (float)(i % 2 ? 2 + i : -2 - i); CHECK(mlrn_learner_feedback(&L, x, (uint8_t)(i % 2)) == 0); }
    for (i = 0; i < 3; i++) { x[0] = (float)(i % 2 ? 2 + i : -2 - i); CHECK(mlrn_learner_feedback(&L, x, (uint8_t)(1 - i % 2)) == 1); }
    /* ring [right, wrong, wrong, wrong]: 3 * 100 > 50 * 4 -> drift; the window's 4 stored samples stay */
    CHECK(L.n_drifts == 1 && L.train.n == 4 && L.pending == 1 && L.win_fill == 0);
    CHECK(((float *)L.train.data)[0] == 5.0f && L.train.labels[0] == 1 && L.train.labels[3] == 1);
    p.drift_pct = 101; CHECK(L_init(&p) == MLRN_ERR_ARG);

    /* persistence: save model A, then model B with a power cut after every byte count */
    {
        static uint8_t mem[512];
        mlrn_persist_ram ram; mlrn_storage st;
        float wA[4], bA, wB[4], bB;
        uint32_t cut, total, cuts = 0, bad = 0, gotA = 0, gotB = 0;
        uint8_t mode;
        p = base(); CHECK(L_init(&p) == MLRN_OK);
        CHECK(mlrn_learner_save(&L, 0) == MLRN_ERR_ARG);
        mlrn_persist_ram_init(&ram, mem, sizeof mem, 0xFF); mlrn_persist_ram_bind(&ram, &st);
        CHECK(mlrn_learner_save(&L, &st) == MLRN_ERR_UNTRAINED);
        CHECK(mlrn_learner_load(&L, &st) == MLRN_ERR_CRC);
        fill(0, 6, -3.0f); mlrn_learner_request_train(&L); mlrn_learner_step(&L, 0);
        CHECK(L.has_model);
        memcpy(wA, L.cur_w, 2 * sizeof(float)); bA = L.cur_b[0];
        for (mode = 0; mode < 3; mode++) {
            mlrn_persist_ram_init(&ram, mem, sizeof mem, 0xFF); mlrn_persist_ram_bind(&ram, &st);
            CHECK(mlrn_learner_save(&L, &st) == MLRN_OK);
            total = 0;
            for (cut = 0;; cut++) {
                uint8_t snap[512];
                mlrn_status s;
                memcpy(snap, mem, sizeof mem);
                /* model B: a different model */
                L.cur_w[0] = wA[0] + 1.0f; L.cur_b[0] = bA - 1.0f;
                wB[0] = L.cur_w[0]; wB[1] = L.cur_w[1]; bB = L.cur_b[0];
                mlrn_persist_ram_cut_after(&ram, cut, mode);
                s = mlrn_learner_save(&L, &st);
                mlrn_persist_ram_power_on(&ram);
                L.cur_w[0] = 0.0f; L.cur_w[1] = 0.0f; L.cur_b[0] = 0.0f;
                if (mlrn_learner_load(&L, &st) != MLRN_OK) { bad++; break; }
                if (L.cur_w[0] == wB[0] && L.cur_w[1] == wB[1] && L.cur_b[0] == bB) gotB++;
                else if (L.cur_w[0] == wA[0] && L.cur_w[1] == wA[1] && L.cur_b[0] == bA) { gotA++; if (s == MLRN_OK) bad++; }
                else bad++;
                cuts++;
                if (s == MLRN_OK) break;
                memcpy(mem, snap, sizeof mem);
                L.cur_w[0] = wA[0]; L.cur_w[1] = wA[1]; L.cur_b[0] = bA;
                total++;
            }
            L.cur_w[0] = wA[0]; L.cur_w[1] = wA[1]; L.cur_b[0] = bA;
        }
        printf("PERSIST cuts=%u bad=%u old=%u new=%u\n", (unsigned)cuts, (unsigned)bad, (unsigned)gotA, (unsigned)gotB);
        CHECK(bad == 0 && cuts > 30);
    }
    printf(fails ? "FAILED %d\n" : "OK\n", fails);
    return fails != 0;
}
"""


def _cc():
    return shutil.which("gcc") or shutil.which("cc")


@pytest.fixture(scope="module")
def unit_output(tmp_path_factory):
    cc = _cc()
    if cc is None:
        pytest.skip("no host C compiler")
    wd = tmp_path_factory.mktemp("learner_unit")
    (wd / "unit.c").write_text(UNIT_C)
    exe = wd / "unit"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-I", microlearn.include_dir(),
                    str(wd / "unit.c"), "-o", str(exe)], check=True, capture_output=True, text=True)
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


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
    ("switched_means", dict(drift_pct=0, store="mistakes")),                 # the loop without drift purge
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


GOAL_CASES = [("rotating_hyperplane", dict()), ("switched_means", dict()), ("sudden_concept", dict()),
              ("label_swap", dict())]   # the default policy everywhere


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


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_goals_other_seeds(seed):
    """The goals on other draws of every abrupt stream (default policy)."""
    for name, _ in GOAL_CASES:
        rep = simulate(streams.make(name, n=900, seed=seed), capacity=60, window=60)
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
    cfg = LearnerConfig(n_features=4, n_classes=3)
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
    off = RefLearner(LearnerConfig(n_features=4, n_classes=3, drift_pct=0))
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
    rep = loop(streams.make("rotating_hyperplane", n=300, drift_points=(150,)), "uno", capacity=60, window=100, budget=50,
               baselines=False)
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
