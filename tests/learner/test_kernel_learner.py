"""The kernel learner (MLRN_LEARNER_KERNEL rbf / poly in mlrn_learner.h): the C loop against its Python reference
bit for bit (predictions, retrain / accept / rollback rows, the final support-vector snapshot) on the host, the uno
and the nrf52840 with float32 and int8 storage; a concept no linear model can learn; hostile options; the linear
learner's code left as it was."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import board_param
from compile_c import program_output
from microlearn.cli.main import main
from microlearn.learner import codegen as lc
from microlearn.learner.config import LearnerConfig
from microlearn.learner.planner import learner_calibration, learner_config, plan_learner_config
from microlearn.learner.reference import KernelModel, RefLearner
from microlearn.learner.runner import loop
from microlearn.learner.simulate import simulate

C_DIR = Path(__file__).resolve().parent / "c"


def circle(n: int = 600, seed: int = 0, noise_features: int = 0):
    """Points uniform in [-1, 1]^2 (plus uniform noise features), class 1 inside the circle of area 1/2 of the square
    (radius sqrt(2 / pi)): a concept no half-plane separates."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2 + noise_features)).astype(np.float32)
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 2.0 / np.pi).astype(np.int64)
    return X, y


def xor3(n: int = 600, seed: int = 1):
    """Three classes by quadrant: (+,+) and (-,-) class 0, (+,-) class 1, (-,+) class 2 (XOR-like)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)
    y = np.where(X[:, 0] * X[:, 1] > 0, 0, np.where(X[:, 0] > 0, 1, 2)).astype(np.int64)
    return X, y


def best_linear_accuracy(X, y, directions: int = 720) -> float:
    """The best accuracy any half-plane x . u >= t reaches on (X, y) (two classes), u over `directions` unit vectors
    of the first two features, t over every cut between sorted projections: what a linear model can do at most."""
    best = 0.0
    n = len(y)
    for a in np.linspace(0.0, np.pi, directions, endpoint=False):
        proj = X[:, 0] * np.cos(a) + X[:, 1] * np.sin(a)
        order = np.argsort(proj)
        ys = y[order]
        ones_above = np.concatenate([[ys.sum()], ys.sum() - np.cumsum(ys)])          # class 1 at or above each cut
        zeros_below = np.concatenate([[0], np.cumsum(1 - ys)])
        acc = (ones_above + zeros_below) / n
        best = max(best, float(acc.max()), float((1 - acc).max()))                  # either side as class 1
    return best


def _agrees(rep):
    assert rep["agreement"] == 1.0
    assert rep["same_events"], (rep["retrains"], rep["python_retrains"], rep["rollbacks"], rep["python_rollbacks"])
    assert rep["same_model"], (rep["n_sv"], rep["python_n_sv"])
    assert len(rep["retrains"]) > 0 and rep["n_sv"] > 0


# Host agreement: kernel x storage x budget x classes x policies; some of them roll back and drift.
HOST_CASES = [
    ("circle", dict(kernel="rbf", gamma=2.0)),
    ("circle", dict(kernel="rbf", gamma=2.0, storage="int8", budget=7)),
    ("circle", dict(kernel="poly", gamma=1.0, coef0=1.0, degree=2, storage="int16", replace="reservoir")),
    ("xor3", dict(kernel="rbf", gamma=3.0, budget=5, replace="balanced", capacity=40)),
    ("xor3", dict(kernel="rbf", gamma=3.0, storage="int8", store="mistakes", margin_pct=5)),
    ("label_swap", dict(kernel="rbf", gamma=0.5, budget=10, replace="reservoir")),   # drifts, mid-training too
]
STREAMS = {"circle": circle, "xor3": xor3}


def _stream(name):
    if name in STREAMS:
        return STREAMS[name]()
    from microlearn.data import streams
    return streams.make(name)


@pytest.mark.parametrize("name,kw", HOST_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(HOST_CASES)])
def test_host_agrees_with_python_bit_for_bit(name, kw):
    rep = loop(_stream(name), "host", window=100, baselines=False, **kw)
    _agrees(rep)


def test_host_cases_roll_back_and_drift():
    """The matrix above exercises rollbacks (the snapshot kept while the next candidate trains) and drifts."""
    reps = [simulate(_stream(n), baselines=False, **kw) for n, kw in HOST_CASES]
    assert sum(len(r["rollbacks"]) for r in reps) > 5
    assert sum(len(r["drift_rows"]) for r in reps) > 0


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
@pytest.mark.parametrize("storage", ["float32", "int8"])
def test_board_agrees_with_python_bit_for_bit(board, storage):
    X, y = circle(300, seed=2, noise_features=2)   # 4 features: the uno's goal
    rep = loop((X, y), board, window=100, baselines=False, kernel="rbf", gamma=2.0, storage=storage,
               capacity=60 if storage == "int8" else 24, budget=20)
    _agrees(rep)


def test_rollback_never_accepts_a_worse_kernel_model():
    X, y = xor3()
    lr = RefLearner(LearnerConfig(n_features=2, n_classes=3, kernel="rbf", gamma=3.0, capacity=30))
    accepted = 0
    for i in range(len(X)):
        lr.feedback(X[i], int(y[i]))
        had, n_acc = lr.model is not None, lr.n_accepted
        lr.step()
        if lr.n_accepted != n_acc:
            accepted += 1
            assert isinstance(lr.model, KernelModel) and lr.model.n_sv <= lr.cfg.train_capacity
            if had:
                assert lr.last["cand_correct"] > lr.last["cur_correct"] or lr.last["hold_n"] == 0
    assert accepted > 1 and lr.n_rollbacks > 0


def test_rbf_learns_what_no_linear_model_can():
    """On the circle, the rbf learner's prequential accuracy (every row predicted before its label is known, the
    warm-up included) is over the best accuracy any half-plane reaches on the whole stream, which bounds the
    linear learner, by 15 points; the linear learner stays under that bound."""
    X, y = circle(1200, seed=5)
    bound = best_linear_accuracy(X, y)
    rbf = simulate((X, y), kernel="rbf", gamma=2.0, baselines=False)["accuracy"]
    lin = simulate((X, y), baselines=False)["accuracy"]
    assert lin <= bound + 0.01
    assert rbf >= bound + 0.15, (rbf, bound, lin)


def test_c_api_kernel_build_persistence_and_power_cuts(tmp_path):
    """A hand-written kernel application (C99 and C++11): init refuses another kernel's parameters, XOR is learned
    from the snapshot; save and save_all load back into a fresh learner as the same snapshot, a learner of another
    gamma refuses the payload, and a save cut at every byte loads as the old snapshot or the new one."""
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler")
    src = C_DIR / "learner_kernel_build.c"
    for lang in ("c", "c++"):
        (tmp_path / lang).mkdir()
        out = program_output(src, tmp_path / lang, lang=lang)
        assert out.strip().endswith("OK"), out
        kv = dict(t.split("=") for t in next(ln for ln in out.splitlines() if ln.startswith("PERSIST")).split()[1:])
        assert int(kv["bad"]) == 0 and int(kv["cuts"]) > 50


# ---- hostile options: one line each --------------------------------------------------------------------------

@pytest.mark.parametrize("kw,words", [
    (dict(kernel="sigmoid"), "kernel must be one of linear, rbf, poly"),
    (dict(kernel="rbf", gamma=0.0), "gamma must be > 0"),
    (dict(kernel="rbf", gamma=float("nan")), "gamma must be a finite number"),
    (dict(kernel="rbf", gamma=1e39), "gamma must fit float32"),
    (dict(kernel="poly", degree=-1), "degree must be an integer in 0..255"),
    (dict(kernel="poly", degree=2.5), "degree must be an integer"),
    (dict(kernel="poly", coef0=float("inf")), "coef0 must be a finite number"),
    (dict(kernel="rbf", warm=True), "warm starts are for the linear SVM learner"),
    (dict(kernel="rbf", model="online"), "is for the SVM learner"),
    (dict(kernel=3), "kernel must be one of"),
])
def test_config_refuses_in_one_line(kw, words):
    with pytest.raises(ValueError) as ei:
        LearnerConfig(n_features=2, n_classes=2, **kw)
    assert words in str(ei.value) and "\n" not in str(ei.value)


def _board_case(board, persist):
    b = board_param(board)
    return pytest.param(board, persist, marks=b.marks, id=f"{persist}-{board}")


@pytest.mark.parametrize("target,persist", [
    ("host", "model"), _board_case("uno", "model"), _board_case("nrf52840", "model"),
    ("host", "all"), _board_case("uno", "all"), _board_case("nrf52840", "all")])
def test_persistence_round_trip_keeps_the_snapshot(target, persist):
    """save / save_all then load on the device (AVR: its EEPROM): status 0, and the snapshot hashed after the
    load is the Python reference's. save_all of a kernel learner fits the uno since its build compiles one
    storage type (MLRN_STORE_TYPE) and one code path for folded rows (it was ~290 B over its 32 KB before)."""
    X, y = xor3(300)
    rep = loop((X, y), target, window=100, baselines=False, kernel="rbf", gamma=3.0, capacity=16, storage="int8",
               persist=persist)
    _agrees(rep)
    assert rep["persist_status"] == 0


def test_loop_refuses_init_rows_with_a_kernel():
    X, y = circle(60)
    with pytest.raises(ValueError, match="a starting model is for the linear learner"):
        loop((X, y), "host", kernel="rbf", init_rows=20, baselines=False)
    with pytest.raises(ValueError, match="an initial model is for the linear learner"):
        RefLearner(LearnerConfig(n_features=2, n_classes=2, kernel="rbf")).set_model(np.zeros((1, 2)), [0.0], [0, 1])


@pytest.mark.parametrize("argv,words", [
    (["--model", "svm-rbf", "--kernel", "poly"], "contradicts --kernel poly"),
    (["--kernel", "rbf", "--gamma", "-1"], "--gamma must be > 0"),
    (["--kernel", "rbf", "--init-rows", "10"], "a starting model is for the linear learner"),
    (["--model", "svm-rbf", "--warm"], "warm starts are for the linear SVM learner"),
    (["--model", "svm-poly", "--degree", "300"], "--degree must be an integer in 0..255"),
])
def test_cli_loop_refuses_in_one_line(argv, words, capsys):
    code = main(["loop", "rotating_hyperplane", "--target", "host", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and words in err and len(err.splitlines()) == 1, err


def test_cli_loop_svm_rbf(tmp_path, capsys):
    X, y = circle(300)
    path = tmp_path / "circle.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.6g")
    assert main(["loop", str(path), "--model", "svm-rbf", "--gamma", "2", "--storage", "int8"]) == 0
    out = capsys.readouterr().out
    assert "rbf kernel: the current model holds" in out and "same snapshot bits: True" in out


# ---- the planner and the linear learner --------------------------------------------------------------------

def test_plan_kernel_buffers_exact_and_cli(capsys):
    """The snapshot's buffers: sv rows in the element type and their classes, the coefficient rows, the kernel's
    work array; `microlearn plan --learner --kernel rbf` names them and its largest capacities."""
    cfg = learner_config(4, 60, 2, storage="int8", kernel="rbf")
    objs = lc.static_objects(cfg)
    assert objs["lrn_sv_x"] == (45 * 4, 1) and objs["lrn_sv_y"] == (45, 1)
    assert objs["lrn_model"] == (4 * (45 + 1), 4)                      # one coefficient row + b
    assert objs["lrn_work"] == (4 * (45 + 45 + 1 + 16), 4)             # alpha, grad, b, 4 dequantised rows
    pl = plan_learner_config(cfg, "uno")
    assert pl.static_buffers["lrn_sv_x"] == 180 and pl.kernel == "rbf"
    assert main(["plan", "--learner", "--kernel", "rbf", "--board", "uno", "--n-features", "4", "--storage", "int8",
                 "--capacity", "60"]) in (0, 1)
    out = capsys.readouterr().out
    assert "rbf kernel (support-vector snapshot)" in out and "lrn_sv_x" in out and "largest capacity" in out


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
def test_kernel_static_sram_exact_on_the_board(board, tmp_path):
    from microlearn.learner.runner import build_learner
    from microlearn.targets import get_target
    for i, (st, cap, classes) in enumerate((("int8", 60, 2), ("float32", 20, 3))):
        kw = {} if st == "float32" else dict(scale=np.full(4, 0.03, np.float32), offset=np.zeros(4, np.float32))
        cfg = learner_config(4, cap, classes, storage=st, kernel="rbf", **kw)
        pl = plan_learner_config(cfg, board)
        build = build_learner(cfg, get_target(board), tmp_path / str(i), {"LRN_MARK_STEPS": 1})
        assert pl.static_ram_bytes == build.static_ram_bytes, (pl.static_buffers, build.static_ram_bytes)
        for name, size in pl.static_buffers.items():
            if name.startswith("lrn"):
                assert build.symbol_sizes.get(name, 0) == size, name


def test_linear_header_unchanged_by_the_kernel_switch():
    """A linear learner's header names no kernel switch (the runtime's default, MLRN_LEARNER_KERNEL linear, is the
    code it always was), and the kernel header sets it."""
    lin = lc.render_header(learner_config(4, 60, 2))
    assert "MLRN_LEARNER_KERNEL" not in lin and "lrn_sv_x" not in lin and "MLRN_KERNELS (1u << MLRN_KERNEL_LINEAR)" in lin
    rbf = lc.render_header(learner_config(4, 60, 2, kernel="rbf", gamma=0.5))
    assert "#define MLRN_LEARNER_KERNEL 1" in rbf and "p.svm.kernel.gamma = 0.5f;" in rbf


@pytest.mark.parametrize("board", [board_param("uno")])
def test_linear_uno_figures_unchanged(board, tmp_path):
    """The linear loop on the uno links to the flash and static SRAM its calibration measured (the curves' d = 4
    point, float32 and int8, the reference sizes): the kernel switch added nothing to it."""
    from microlearn.learner.planner import REFERENCE
    from microlearn.learner.runner import build_learner
    from microlearn.targets import get_target
    cal = learner_calibration()["boards"]["uno"]
    for st in ("float32", "int8"):
        kw = {} if st == "float32" else dict(scale=np.full(4, 0.03, np.float32), offset=np.zeros(4, np.float32))
        cfg = learner_config(**{**REFERENCE, "n_features": 4}, storage=st, **kw)
        build = build_learner(cfg, get_target(board), tmp_path / st, {"LRN_MARK_STEPS": 1}, check=False)
        assert build.flash_bytes == dict(map(tuple, cal["flash_curve"][st]))[4]
        assert build.static_ram_bytes == plan_learner_config(cfg, board).static_ram_bytes


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
def test_largest_planned_int8_rbf_loop_runs_and_stack_is_close(board):
    """Issue 12's uno goal: the planner's largest 4-feature int8 rbf capacity links and runs on the board: static
    exactly, stack within 16 B of the plan, static + stack within the SRAM. Needs the "kernel" section of the
    learner calibration (tools/calibrate.py, _learner_kernel), which the lead's `microlearn calibrate --learner`
    writes: without it the plan leaves the kernel code's stack out (and says so)."""
    from microlearn.learner.planner import max_learner_capacity
    from microlearn.boards.registry import get_board
    if "rbf" not in learner_calibration()["boards"].get(board, {}).get("kernel", {}):
        pytest.skip("the learner calibration has no kernel section yet: run `microlearn calibrate --learner`")
    cap = min(max_learner_capacity(board, 4, 2, storage="int8", kernel="rbf"), 200)
    X, y = circle(300, seed=2, noise_features=2)
    rep = loop((X, y), board, window=100, baselines=False, kernel="rbf", gamma=2.0, storage="int8", capacity=cap,
               budget=20)
    _agrees(rep)
    pl = plan_learner_config(learner_config(4, cap, 2, storage="int8", kernel="rbf",
                                            scale=np.ones(4, np.float32), offset=np.zeros(4, np.float32)), board)
    assert rep["static_ram_bytes"] == pl.static_ram_bytes
    assert abs(rep["stack_bytes"] - pl.stack_bytes) <= 16, (rep["stack_bytes"], pl.stack_bytes)
    assert rep["sram_bytes"] <= get_board(board).sram_bytes
