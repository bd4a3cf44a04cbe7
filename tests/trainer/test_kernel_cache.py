"""The kernel-column cache of wss2 (MLRN_SMO_CACHE, mlrn_smo_set_cache in mlrn_smo.h) changes the cost of training,
never its result: the iterations, alphas, b and predictions are the same bits with and without it, on the host,
the uno (simavr) and the nrf52840 (qemu); its look-ups (hits, misses) are those of the Python model of its LRU
bookkeeping (trainer.reference.LRUCache) replayed over the columns the reference asks for. And the planner's choice
of the column count, the refusals of a wrong count (Python, C, the command line)."""
from pathlib import Path

import numpy as np
import pytest

from compile_c import host_compilers, program_output
from conftest import board_param, problem
from microlearn.core import vocab
from microlearn.data.datasets import load
from microlearn.trainer import planner
from microlearn.trainer.config import check_cache_cols
from microlearn.trainer.reference import LRUCache, cache_counts
from microlearn.trainer.runner import train_and_report

SOURCE = Path(__file__).resolve().parent / "c" / "kernel_cache.c"


# ---- the LRU model itself ------------------------------------------------------------------------------------
def test_lru_model_hits_and_evictions():
    c = LRUCache(2)
    assert [c.lookup(t) for t in (7, 8)] == [1, 0]          # empty slots fill from the back: slot K-1 first
    assert (c.hits, c.misses) == (0, 2)
    assert c.lookup(7) == 1 and c.hits == 1                 # a hit moves 7 to the front
    assert c.lookup(9) == 0 and c.tag == [9, 7]             # evicts 8, the least recently used
    assert c.lookup(8) == 1 and c.tag == [9, 8]             # evicts 7
    assert (c.hits, c.misses) == (1, 4)


def test_lru_model_keeps_the_most_recent():
    c = LRUCache(3)
    for t in (1, 2, 3, 1, 4):          # 2 is the least recently used when 4 comes
        c.lookup(t)
    assert sorted(c.tag) == [1, 3, 4]
    assert c.lookup(3) is not None and c.hits == 2


# ---- the C API ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compiler", host_compilers(), ids=lambda c: c[0])
def test_set_cache_refusals_and_identical_training(tmp_path, compiler):
    """n_cols 1 or 256, a short buffer, a NULL trainer and a call while training are refused; 0 or a NULL buffer
    mean no cache; the cached trainings of every size give the uncached one's iterations, b and alphas."""
    _, cc, lang = compiler
    out = program_output(SOURCE, tmp_path, lang=lang, compiler=cc)
    rows = dict(ln.split(" ", 1) for ln in out.splitlines() if not ln.startswith("train "))
    code = {s.macro: s.code for s in vocab.STATUSES}
    arg, buffer = code["MLRN_ERR_ARG"], code["MLRN_ERR_BUFFER"]
    assert {k: int(v) for k, v in rows.items()} == {
        "cols1": arg, "cols256": arg, "small": buffer, "null_smo": arg, "none": vocab.OK, "zero": vocab.OK,
        "ok": vocab.OK, "training": arg}
    trains = [ln.split() for ln in out.splitlines() if ln.startswith("train ")]
    base = trains[0]
    assert base[1] == "0" and base[4:6] == ["0", "0"]       # no cache: no look-ups
    for row in trains[1:]:
        k = int(row[1])
        assert row[2:4] == base[2:4] and row[6:] == base[6:], f"cache of {k} columns changed the training"
        hits, misses = int(row[4]), int(row[5])
        assert misses > 0 and hits + misses <= 2 * int(row[3]) + 1   # i and j per update, i at the last test
    hits = [int(r[4]) for r in trains[1:]]
    assert hits == sorted(hits) and hits[-1] > hits[0]      # more columns, more hits (LRU is a stack algorithm)


# ---- on targets: identical training, the model's look-ups ------------------------------------------------------
def cases():
    Xtr, Xte, ytr, yte = problem("cancer", 100)
    iris3 = load("iris3")
    idx = np.random.default_rng(0).permutation(150)
    X3, y3 = iris3[0][idx], iris3[1][idx]
    rng = np.random.default_rng(2)
    R = rng.uniform(0, 2, 80)
    A = rng.uniform(0, 2 * np.pi, 80)
    Xc = np.c_[R * np.cos(A), R * np.sin(A)]
    yc = (R > 1.0).astype(int)                              # a disc inside a ring: no linear separation
    return {"cancer": (Xtr[:60, :8], Xte[:, :8], ytr[:60], yte), "iris3": (X3[:45], X3[45:], y3[:45], y3[45:]),
            "rings": (Xc[:50], Xc[50:], yc[:50], yc[50:])}


CASES = cases()


def same_training(a, b):
    ra, rb = a["_run"], b["_run"]
    assert a["iterations"] == b["iterations"] == a["python_iterations"]
    assert np.array_equal(ra.b.view(np.uint32), rb.b.view(np.uint32))
    assert np.array_equal(ra.alpha.view(np.uint32), rb.alpha.view(np.uint32))
    assert np.array_equal(ra.predictions, rb.predictions)
    for r in (a, b):
        assert r["agreement"] == 1.0 and r["max_alpha_diff"] == 0.0 and r["intercept_identical"]


def run_pair(target, case, kernel, storage, cols, **kw):
    Xtr, Xte, ytr, yte = CASES[case]
    opts = dict(kernel=kernel, storage=storage, C=2.0, timeout=300, **kw)
    if storage != "float32":
        opts["feature_range"] = (Xtr.min(axis=0), Xtr.max(axis=0))
    off = train_and_report(Xtr, ytr, Xte, yte, target, cache_cols=0, **opts)
    on = train_and_report(Xtr, ytr, Xte, yte, target, cache_cols=cols, **opts)
    same_training(off, on)
    assert off["cache_hits"] is None and on["cache_cols"] == cols
    assert (on["cache_hits"], on["cache_misses"]) == cache_counts(on["_estimator"]._subs, cols)
    return off, on


@pytest.mark.parametrize("storage", ["float32", "int16", "int8"])
@pytest.mark.parametrize("case,kernel", [(c, k) for c in CASES for k in ("rbf", "poly")] + [("rings", "sigmoid")])
def test_host_identical_with_and_without_the_cache(case, kernel, storage):
    for cols in (2, 5):
        run_pair("host", case, kernel, storage, cols, gamma=0.5 if kernel != "rbf" else "scale", coef0=0.5)


def test_host_default_caches_every_column():
    Xtr, Xte, ytr, yte = CASES["rings"]
    rep = train_and_report(Xtr, ytr, Xte, yte, "host", kernel="rbf", timeout=300)
    assert rep["cache_cols"] == len(Xtr) and rep["cache_misses"] <= len(Xtr) * 1   # one sub-problem
    lin = train_and_report(Xtr, ytr, Xte, yte, "host", kernel="linear", timeout=300)
    assert lin["cache_cols"] == 0 and lin["cache_hits"] is None


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
@pytest.mark.parametrize("kernel,storage,case,data_in", [
    ("rbf", "int8", "iris3", "ram"), ("rbf", "float32", "rings", "ram"), ("poly", "int16", "rings", "ram"),
    ("rbf", "int8", "cancer", "flash"), ("rbf", "int16", "rings", "callback")])
def test_boards_identical_with_and_without_the_cache(board, kernel, storage, case, data_in):
    """Rows in RAM, in flash and behind a read callback (its two-row code buffer serves the codes' kernels).
    (What the cache saves is measured by benchmarks/bench_kernel_cache.py, not here.)"""
    run_pair(board, case, kernel, storage, 2 if board == "uno" else 5, gamma="scale", coef0=1.0, data_in=data_in)


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
def test_planner_cache_is_what_the_build_gets(board):
    """By default a board build compiles in the planner's column count, and the build fits (it ran)."""
    Xtr, Xte, ytr, yte = CASES["iris3"]
    rep = train_and_report(Xtr, ytr, Xte, yte, board, kernel="rbf", storage="int8", timeout=300,
                           feature_range=(Xtr.min(axis=0), Xtr.max(axis=0)))
    k = planner.cache_cols_for(board, 4, len(Xtr), 3, kernel="rbf", storage="int8")
    assert rep["cache_cols"] == k and rep["status"] == "converged"
    if k:
        assert (rep["cache_hits"], rep["cache_misses"]) == cache_counts(rep["_estimator"]._subs, k)


# ---- the planner ---------------------------------------------------------------------------------------------
def test_planner_takes_the_most_columns_that_fit():
    pl = planner.plan("uno", 4, 40, 3, kernel="rbf", storage="int8", with_max=False)
    k = pl.cache_cols
    assert pl.fits and k >= 2
    assert pl.static_buffers["trainer_cache"] == 4 * vocab.smo_cache_floats(k, 40) == pl.cache_bytes
    if k < 40:
        assert not planner.plan("uno", 4, 40, 3, kernel="rbf", storage="int8", with_max=False,
                                cache_cols=k + 1).fits
    big = planner.plan("nrf52840", 30, 200, 2, kernel="rbf", with_max=False)
    assert big.cache_cols == 200 and big.fits                        # 200 columns of 200 floats: 160 KB of 256
    assert "kernel cache" in big.summary()
    assert planner.plan("nrf52840", 30, 200, 2, kernel="linear", with_max=False).cache_cols == 0
    assert planner.plan("uno", 30, 60, 2, kernel="rbf", storage="int8", data_in="flash",
                        with_max=False).cache_cols >= 0


def test_planner_cache_leaves_the_fit_alone():
    """A configuration that does not fit without the cache gets none (and the same refusal)."""
    pl = planner.plan("uno", 30, 200, 2, kernel="rbf", storage="int8", with_max=False)
    assert not pl.fits and pl.cache_cols == 0


@pytest.mark.hostile
@pytest.mark.parametrize("bad", [1, -1, 256, 41, 2.5, True, "3"])
def test_wrong_column_counts_are_refused(bad):
    with pytest.raises(ValueError, match="cache_cols must be 0"):
        check_cache_cols(bad, 40, "rbf", "wss2")
    with pytest.raises(ValueError, match="cache_cols"):
        planner.plan("uno", 4, 40, 3, kernel="rbf", storage="int8", cache_cols=bad)


@pytest.mark.hostile
def test_cache_for_the_linear_kernel_is_refused():
    with pytest.raises(ValueError, match="applies to the wss2 solver with a non-linear kernel"):
        check_cache_cols(4, 40, "linear", "wss2")
    Xtr, Xte, ytr, yte = CASES["rings"]
    with pytest.raises(ValueError, match="cache_cols"):
        train_and_report(Xtr, ytr, Xte, yte, "host", kernel="rbf", solver="simplified", cache_cols=3)
