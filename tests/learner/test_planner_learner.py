"""The learner planner (microlearn.learner.planner): static SRAM of the self-learning loop predicted
exactly (by name) against the linked program, flash and stack within tolerance, the pre-check of
`microlearn loop --target BOARD`, the generated header's budget check, the CLI."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from conftest import board_param
from microlearn.core.paths import include_dir
from microlearn.learner.planner import (LearnerPlan, learner_calibration, learner_calibration_is_current,
                                        learner_config, max_learner_capacity, plan_learner, plan_learner_config)
from microlearn.boards.registry import get_board
from microlearn.cli.main import main
from microlearn.learner import codegen as lc
from microlearn.learner.driver import encode_stream
from microlearn.targets.errors import DoesNotFit

from compile_c import compile_c

FLASH_TOLERANCE = 0.02       # relative: flash is a calibrated model (features x storage, + multi-class delta)
STACK_TOLERANCE = 16         # bytes: the stack is a calibrated model at the paths the calibration stream runs
STACK_OVER = 64              # bytes: a configuration without held-out store never runs validation: less stack


# (n_features, capacity, classes, storage, options): capacities, storage types, classes, features, and the
# options that change sizes (held-out split, queue, window, each down to 0 = a 1-entry array).
CONFIGS = [
    (4, 60, 2, "float32", {}),   # the uno's largest 4-feature float32 store
    (3, 21, 3, "int8", {"queue": 3, "trigger_window": 7}),
    (5, 33, 4, "int16", {"holdout_every": 5}),
    (1, 10, 2, "int8", {"holdout_every": 0, "queue": 0, "trigger_window": 0}),
    (7, 17, 5, "float32", {"holdout_every": 3, "queue": 1, "trigger_window": 9}),
    (13, 40, 2, "int16", {"queue": 2}),
]
BIG = [(12, 300, 3, "float32", {}), (30, 500, 6, "int8", {"queue": 5}), (2, 2000, 2, "int16", {"holdout_every": 7})]


# The matrix above is of window-detector builds (what it was measured on); DDM's own case: DDM_CONF, the uno's
# largest 4-feature float32 loop with the default detector (its state and stack take the window's last 2 samples).
DDM_CONF = (4, 58, 2, "float32", {"drift": "ddm"})


def _cfg(d, cap, classes, storage, opts):
    return learner_config(d, cap, classes, storage=storage, **{"drift": "window", **opts})


def _build(cfg, board, tmp_path):
    """The program `microlearn loop --target BOARD` builds (loop_run.build_learner, with its pre-check)."""
    from microlearn.learner.runner import build_learner
    from microlearn.targets import get_target
    return build_learner(cfg, get_target(board), tmp_path, {"LRN_MARK_STEPS": 1})


def _assert_matches(pl, build):
    """Static SRAM exact, in total and per object; flash within FLASH_TOLERANCE."""
    assert pl.static_ram_bytes == build.static_ram_bytes, (pl.static_buffers, build.static_ram_bytes)
    for name, size in pl.static_buffers.items():
        if name.startswith("lrn"):
            assert build.symbol_sizes.get(name, 0) == size, name
    err = abs(pl.flash_bytes - build.flash_bytes) / build.flash_bytes
    assert err <= FLASH_TOLERANCE, (pl.flash_bytes, build.flash_bytes)


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
@pytest.mark.parametrize("conf", CONFIGS[:4] + [DDM_CONF],
                         ids=lambda c: f"d{c[0]}-cap{c[1]}-c{c[2]}-{c[3]}" + ("-ddm" if c[4].get("drift") else ""))
def test_static_sram_exact_and_flash_close(board, conf, tmp_path):
    cfg = _cfg(*conf)
    pl = plan_learner_config(cfg, board)
    assert pl.fits
    _assert_matches(pl, _build(cfg, board, tmp_path))


@pytest.mark.parametrize("board", [board_param(b, slow=True) for b in ("uno", "mega2560", "nrf52840", "bluepill",
                                                                    "samd21", "rp2040")])
def test_static_sram_exact_every_config(board, tmp_path):
    for i, conf in enumerate(CONFIGS + BIG):
        cfg = _cfg(*conf)
        pl = plan_learner_config(cfg, board)
        if not pl.fits:
            with pytest.raises(DoesNotFit):
                _build(cfg, board, tmp_path / str(i))
            continue
        _assert_matches(pl, _build(cfg, board, tmp_path / str(i)))


def _stream(d, classes, n=160):
    from microlearn.tools.calibrate import _learner_stream
    return _learner_stream(d, classes, n=n, seed=3)


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
@pytest.mark.parametrize("cap,drift", [(60, "window"), (58, "ddm")])
def test_capacity60_float32_loop_fits_and_stack_is_close(board, cap, drift):
    """The uno's largest 4-feature float32 loop (UART I/O), capacity 60 with the window detector, 58 with DDM (the
    default): the plan says it fits, and the linked and run program agrees: static exactly, stack within
    STACK_TOLERANCE, static + stack within the SRAM."""
    from microlearn.learner.runner import run_on_target
    cfg = learner_config(4, cap, 2, budget=20, drift=drift)
    pl = plan_learner_config(cfg, board)
    assert pl.fits and pl.max_capacity["float32"] >= cap
    X, y = _stream(4, 2, n=200)
    out = run_on_target(cfg, X, y, board)
    assert out["static_ram_bytes"] == pl.static_ram_bytes
    assert abs(out["stack_bytes"] - pl.stack_bytes) <= STACK_TOLERANCE, (out["stack_bytes"], pl.stack_bytes)
    assert out["sram_bytes"] <= get_board(board).sram_bytes
    assert abs(out["flash_bytes"] - pl.flash_bytes) <= FLASH_TOLERANCE * out["flash_bytes"]


@pytest.mark.slow
@pytest.mark.parametrize("board", [board_param("uno", slow=True), board_param("nrf52840", slow=True)])
def test_stack_close_every_config(board):
    from microlearn.learner.runner import run_on_target
    for d, cap, classes, storage, opts in CONFIGS:
        cfg = learner_config(d, cap, classes, storage=storage, budget=5,
                             **({} if storage == "float32" else dict(zip(("scale", "offset"), _affine(d, storage)))),
                             **{"drift": "window", **opts})
        pl = plan_learner_config(cfg, board)
        if not pl.fits:
            continue
        out = run_on_target(cfg, *_stream(d, classes), board)
        assert out["static_ram_bytes"] == pl.static_ram_bytes
        diff = (d, cap, classes, storage, opts, out["stack_bytes"], pl.stack_bytes)
        assert -STACK_TOLERANCE <= pl.stack_bytes - out["stack_bytes"] <= STACK_OVER, diff


def _affine(d, storage):
    from microlearn.core.store import affine_from_range
    return affine_from_range(-4.0, 4.0, storage, d)


# ---- the plan itself (no toolchain) -----------------------------------------------------------------------

def test_plan_learner_api_by_name():
    import microlearn
    p = microlearn.plan_learner("uno", n_features=4, capacity=60, classes=2)
    assert isinstance(p, LearnerPlan) and p.train_capacity == 45 and p.hold_capacity == 15
    b = p.static_buffers
    assert b["lrn_train_x"] == 45 * 4 * 4 and b["lrn_train_y"] == 45
    assert b["lrn_hold_x"] == 15 * 16 and b["lrn_qx"] == 8 * 16 and b["lrn_win"] == 20
    # the default detector is DDM (LearnerConfig): the struct with its state and parameters; the window's without
    assert b["lrn"] == learner_calibration()["boards"]["uno"]["ddm"]["struct_bytes"]
    assert plan_learner("uno", 4, 60, drift="window").static_buffers["lrn"] == \
        learner_calibration()["boards"]["uno"]["struct_bytes"]
    assert b["alignment padding"] == 0                        # AVR: no alignment
    assert sum(b.values()) == p.static_ram_bytes and p.sram_bytes == p.static_ram_bytes + p.stack_bytes
    # the buffers are the header's LRN_BUFFER_BYTES
    assert sum(v for k, v in b.items() if k.startswith("lrn_")) == sum(lc.buffer_bytes(learner_config(4, 60)).values())
    d = p.to_dict()
    assert d["max_capacity"]["float32"] == p.max_capacity["float32"] and set(d["max_capacity"]) == {
        "float32", "int16", "int8"}
    # ARM: 4-byte pointers make the struct larger; the int8 / byte arrays leave padding before floats
    q = plan_learner("nrf52840", 3, 21, 3, storage="int8", queue=3, trigger_window=7)
    assert q.static_buffers["lrn"] > b["lrn"]
    assert 0 < q.static_buffers["alignment padding"] < 4 * len(q.static_buffers)


def test_options_change_memory_where_they_should():
    base = plan_learner("nrf52840", 4, 60)
    assert plan_learner("nrf52840", 4, 60, store="mistakes", replace="reservoir").static_ram_bytes == \
        base.static_ram_bytes
    more_queue = plan_learner("nrf52840", 4, 60, queue=16)
    assert more_queue.static_buffers["lrn_qx"] - base.static_buffers["lrn_qx"] == 8 * 16
    no_hold = plan_learner("nrf52840", 4, 60, holdout_every=0)
    assert no_hold.train_capacity == 60 and no_hold.static_buffers["lrn_hold_y"] == 0   # not linked
    assert plan_learner("nrf52840", 4, 60, classes=4).static_buffers["lrn_model"] == 4 * 6 * 5
    rbf = plan_learner("uno", 4, 60, kernel="rbf")   # the kernel learner: its support-vector snapshot (45 rows)
    assert rbf.static_buffers["lrn_sv_x"] == 45 * 16 and rbf.static_buffers["lrn_sv_y"] == 45
    with pytest.raises(TypeError, match="solver"):
        plan_learner("uno", 4, 60, solver="dcd")


@pytest.mark.parametrize("board", ["uno", "nrf52840"])
@pytest.mark.parametrize("storage", ["float32", "int8"])
def test_max_capacity_is_the_boundary(board, storage):
    cap = max_learner_capacity(board, 4, 2, storage=storage)
    assert cap > 2
    assert plan_learner(board, 4, cap, storage=storage).fits
    assert not plan_learner(board, 4, cap + 1, storage=storage).fits
    assert plan_learner(board, 4, cap, storage=storage).max_capacity[storage] == cap


def test_esp32_learner_is_an_estimate():
    p = plan_learner("esp32", 16, 5000, 4)
    assert p.estimate and "nrf52840" in p.basis and p.static_limit_bytes == 160 * 1024


def test_learner_calibration_matches_the_runtime():
    """The learner's constants were measured with today's learner runtime, stream driver and support code."""
    assert learner_calibration_is_current(), ("mlrn_learner.h or what it includes, the loop driver or the support "
                                              "code changed: rerun `python -m microlearn.tools.calibrate --learner`")


# ---- refusing before building --------------------------------------------------------------------------------

def _rows(n=40, d=4):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def test_loop_refuses_too_large_capacity_with_the_numbers():
    """loop() plans before the Python reference and the build: no toolchain is touched."""
    from microlearn.learner.runner import loop
    X, y = _rows()
    pl = plan_learner("uno", 4, 200)
    assert not pl.fits
    with pytest.raises(DoesNotFit) as ei:
        loop((X, y), "uno", capacity=200, baselines=False)
    msg = str(ei.value)
    cap = pl.max_capacity["float32"]
    assert f"static SRAM {pl.static_ram_bytes:,} B is {pl.over['static']:,} B over the 1,792 B available" in msg
    assert f"capacity <= {cap:,} with float32 storage" in msg
    assert pl.max_capacity["int8"] < 200        # int8 does not reach 200 either: it is offered with its limit
    assert f"capacity <= {pl.max_capacity['int8']:,} with int8 storage (--storage int8)" in msg
    assert "nrf52840" in msg
    assert ei.value.region == "sram" and ei.value.over == pl.over["static"]


def test_cli_loop_refuses_in_one_line(tmp_path, capsys):
    X, y = _rows()
    csv = tmp_path / "s.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header="a,b,c,d,y", comments="")
    rc = main(["loop", str(csv), "--target", "uno", "--capacity", "120", "--queue", "4"])
    err = capsys.readouterr().err
    pl = plan_learner("uno", 4, 120, queue=4)
    assert rc == 2 and err.count("\n") == 1 and "does not fit the uno" in err
    assert f"{pl.over['static']:,} B over" in err and f"capacity <= {pl.max_capacity['float32']:,}" in err


@pytest.mark.skipif(shutil.which("cc") is None, reason="no host C compiler")
def test_header_budget_error_for_a_named_board(tmp_path):
    """A header generated for a board refuses to compile when the learner's static data exceed the board's
    SRAM less its stack reserve; a fitting one compiles and states the planned figures."""
    def compile_(cfg, board):
        (tmp_path / "learner.h").write_text(lc.render_header(cfg, "lrn", plan=plan_learner_config(cfg, board)))
        (tmp_path / "m.c").write_text('#include "learner.h"\nint main(void) { return lrn_setup(); }\n')
        # unchecked: the test reads the compiler's answer (an over-budget header must not compile)
        return compile_c(tmp_path / "m.c", stage="syntax", include_dirs=[tmp_path], check=False)
    ok = learner_config(4, 60)
    pl = plan_learner_config(ok, "uno")
    hdr = lc.render_header(ok, "lrn", plan=pl)
    assert f"#define LRN_STATIC_BYTES {pl.static_ram_bytes - pl.static_buffers['driver + support (fixed)']}u" in hdr
    assert f"#define LRN_PLAN_FLASH_BYTES {pl.flash_bytes}u" in hdr
    assert compile_(ok, "uno").returncode == 0
    bad = compile_(learner_config(4, 200), "uno")
    assert bad.returncode != 0 and "exceed the SRAM budget" in bad.stderr
    assert compile_(learner_config(4, 200), "nrf52840").returncode == 0


# ---- CLI --------------------------------------------------------------------------------------------------------

def test_cli_plan_learner_text(capsys):
    rc = main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60"])
    out = capsys.readouterr().out
    # the default detector (DDM) does not fit this one by 24 B: the plan is the window detector's, and says so
    pl = plan_learner("uno", 4, 60, drift="window")
    assert rc == 0 and "self-learning loop" in out and "fits: yes" in out
    assert "drift detector: the window detector: DDM (the default) does not fit the uno at capacity 60" in out
    assert f"--drift ddm fits up to capacity {plan_learner('uno', 4, 60).max_capacity['float32']}" in out
    assert f"total static {pl.static_ram_bytes:>8,} B" in out.replace("  ", " ").replace("  ", " ") or \
        f"{pl.static_ram_bytes:,} B" in out
    assert "lrn_train_x" in out and f"float32 {pl.max_capacity['float32']:,}" in out
    rc = main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "300"])
    out = capsys.readouterr().out
    assert rc == 1 and "fits: NO" in out and "what fits: capacity <=" in out


def test_cli_plan_learner_json(capsys):
    rc = main(["plan", "--learner", "--board", "nrf52840", "--n-features", "6", "--capacity", "90", "--classes",
               "3", "--storage", "int16", "--queue", "4", "--holdout-every", "3", "--json"])
    d = json.loads(capsys.readouterr().out)
    pl = plan_learner("nrf52840", 6, 90, 3, storage="int16", queue=4, holdout_every=3)
    assert rc == 0 and d["fits"] is True
    assert d["static_ram_bytes"] == pl.static_ram_bytes == sum(d["static_buffers"].values())
    assert d["train_capacity"] == 60 and d["hold_capacity"] == 30 and d["queue"] == 4
    assert d["max_capacity"] == pl.max_capacity and d["flash_bytes"] == pl.flash_bytes
    rc = main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "300", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 1 and d["fits"] is False and d["over"]["static"] > 0 and d["suggestions"]


def test_default_detector_is_ddm_where_it_fits_else_the_window_said():
    from microlearn.learner.planner import drift_that_fits
    assert learner_config(4, 60).drift == "ddm"
    ddm = plan_learner("uno", 4, 60)
    cap = ddm.max_capacity["float32"]
    assert not ddm.fits and ddm.over == {"sram": 27} and cap == 58 and plan_learner("uno", 4, 60, drift="window").fits
    # what fits names the window detector (its build has no DDM code or state) beside the smaller capacity
    assert "the window detector (--drift window: no DDM code or state; up to capacity 60 float32)" in ddm.suggestions()
    assert f"capacity <= {cap} with float32 storage" in ddm.suggestions()
    cfg, note = drift_that_fits(learner_config(4, 60), "uno")
    assert cfg.drift == "window" and cfg.capacity == 60
    assert note.startswith("the window detector: DDM (the default) does not fit the uno at capacity 60 float32")
    assert note.endswith(f"--drift ddm fits up to capacity {cap}")
    assert drift_that_fits(learner_config(4, cap), "uno") == (learner_config(4, cap), None)
    assert drift_that_fits(learner_config(4, 60), "nrf52840")[1] is None
    assert drift_that_fits(learner_config(4, 60, drift="window"), "uno")[1] is None
    # neither build fits: the configuration stays, and the refusal says what fits
    assert drift_that_fits(learner_config(4, 300), "uno")[0].drift == "ddm"


def test_cli_loop_ddm_refused_where_only_the_window_fits(tmp_path, capsys):
    """--drift ddm at the uno's capacity 60: refused before anything is built (the stack would otherwise run
    into the data: 27 B over), with the window detector and DDM's largest capacity among what fits."""
    X, y = _rows()
    csv = tmp_path / "s.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header="a,b,c,d,y", comments="")
    rc = main(["loop", str(csv), "--target", "uno", "--capacity", "60", "--drift", "ddm"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "does not fit the uno" in err and "27 B over" in err
    assert "the window detector (--drift window" in err and "capacity <= 58 with float32 storage" in err


def _river_uno_table():
    """bench_river's 'uno-sized learners' table from benchmarks/results/river.json: {learner: (mean accuracy %,
    mean uno static SRAM B)} over the streams where all four uno-sized learners ran (unseen seeds, datasets)."""
    from conftest import ROOT, load_benchmark
    br = load_benchmark("bench_river")
    doc = json.loads((ROOT / "benchmarks" / "results" / "river.json").read_text())
    summ = br.summarise(doc["results"])
    uno = ["svm-uno-int8/window", "svm-uno-int8/ddm", "online16/window", "online16/ddm"]
    common = [s for s in summ if all(lrn in summ[s] for lrn in uno)]
    return {lrn: (round(float(np.mean([summ[s][lrn]["accuracy"]["mean"] for s in common]) * 100), 1),
                  round(float(np.mean([summ[s][lrn]["memory_bytes"]["mean"] for s in common]))))
            for lrn in uno}


def test_small_board_plan_offers_the_online_learner_with_ddm(capsys):
    """On a board the size of the uno, `plan --learner` offers the online learner with DDM beside the SVM (fits
    or not), with the benchmark's figures as its reason; they are river.json's; not on a large board."""
    from microlearn.learner.planner import ONLINE_EVIDENCE, ONLINE_EVIDENCE_FIGURES
    table = _river_uno_table()
    for lrn, (acc, ram) in ONLINE_EVIDENCE_FIGURES.items():
        assert table[lrn] == (acc, ram), (lrn, table[lrn])
    assert table["online16/ddm"][0] >= table["svm-uno-int8/ddm"][0]           # as accurate ...
    assert table["online16/ddm"][1] * 2 <= table["svm-uno-int8/ddm"][1] + 200  # ... at about half the SRAM
    pl = plan_learner("uno", 4, 40)
    assert pl.fits and len(pl.alternatives()) == 1
    line = pl.alternatives()[0]
    online = plan_learner("uno", 4, 16, model="online", drift="ddm")
    assert line.startswith("the online learner with DDM (--model online --drift ddm --capacity 16")
    assert f"{online.static_ram_bytes:,} B static SRAM" in line and line.endswith(ONLINE_EVIDENCE)
    assert plan_learner("nrf52840", 4, 40).alternatives() == []
    assert plan_learner("uno", 4, 16, model="online").alternatives() == []
    rc = main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "40"])
    out = capsys.readouterr().out
    assert rc == 0 and out.count("also for this board: the online learner with DDM") == 1
    rc = main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "40", "--json"])
    assert json.loads(capsys.readouterr().out)["alternatives"] == [line]
    rc = main(["plan", "--learner", "--board", "nrf52840", "--n-features", "4", "--capacity", "40"])
    assert rc == 0 and "also for this board" not in capsys.readouterr().out


def test_cli_plan_learner_usage_errors(capsys):
    assert main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                 "--kernel", "sigmoid"]) == 2   # rbf and poly are the kernel learners (test_kernel_learner.py)
    assert "kernel must be one of linear, rbf, poly" in capsys.readouterr().err
    assert main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                 "--solver", "dcd"]) == 2
    assert "wss2, one-vs-one, without a kernel cache" in capsys.readouterr().err
    assert main(["plan", "--board", "uno", "--n-features", "4", "--capacity", "60", "--queue", "3"]) == 2
    assert "--learner only" in capsys.readouterr().err
    assert main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                 "--holdout-every", "1"]) == 2
    assert "--holdout-every" in capsys.readouterr().err


# ---- an Arduino sketch (the colour-sensor example: Arduino core + Serial, C++) -------------------------------

def _arduino_static(wd):
    """(.data + .bss, {C name: size} of the colour learner's objects) of the sketch's ELF."""
    import re
    elf = next((wd / "build-uno").glob("*.elf"))
    size = subprocess.run(["avr-size", str(elf)], capture_output=True, text=True).stdout.splitlines()[1].split()
    out = subprocess.run(["avr-nm", "-S", str(elf)], capture_output=True, text=True).stdout
    objs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "bBdD":
            m = re.fullmatch(r"(?:_ZL\d+)?(colour(?:_\w+)?)", parts[3])     # C++ mangles file-local statics
            if m and not m.group(1).endswith(("_scale", "_offset", "_readings", "_labels")):
                objs[m.group(1)] = int(parts[1], 16)
    return int(size[1]) + int(size[2]), objs


@pytest.mark.avr
@pytest.mark.skipif(not shutil.which("make") or not shutil.which("avr-gcc") or
                    not __import__("pathlib").Path("/usr/share/arduino/Arduino.mk").exists(),
                    reason="arduino-mk / Arduino AVR core / avr-gcc missing")
def test_arduino_sketch_objects_exact_and_float32_with_serial(tmp_path):
    """The colour sketch (4 features, 4 classes, capacity 45 + 15, int16, Serial): every learner object has the
    planner's size in the Arduino C++ build. Given the rest of that sketch's static data (Arduino core, Serial),
    the planner predicts the float32 variant's static SRAM exactly, and that it does not fit the uno (the
    sketch's reason for int16 storage), while microlearn's own driver fits it with float32 (test above)."""
    import os
    import sys
    from pathlib import Path
    src = Path(__file__).resolve().parents[2] / "examples" / "colour_sensor"
    env = {**os.environ, "MICROLEARN_INCLUDE": include_dir()}

    def build(sub, edit=None, links=True):
        wd = tmp_path / sub
        wd.mkdir()
        for f in ("colour_sensor.ino", "Makefile", "make_table.py"):
            shutil.copy(src / f, wd / f)
        if edit:
            ino = wd / "colour_sensor.ino"
            ino.write_text(edit(ino.read_text()))
        subprocess.run([sys.executable, "make_table.py"], cwd=wd, check=True, capture_output=True)
        p = subprocess.run(["make"], cwd=wd, capture_output=True, text=True, env=env, timeout=300)
        if not links:     # ld: "address 0x8009xx of ... section `.bss' is not within region `data'": the end of
            import re     # .bss, i.e. .data + .bss = address - the start of SRAM (0x800100)
            assert p.returncode != 0
            return int(re.search(r"address 0x([0-9a-f]+) of \S+ section `.bss' is not within region `data'",
                                 p.stderr).group(1), 16) - 0x800100
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
        return _arduino_static(wd)

    static, objs = build("int16")
    # the sketch is hand-written on the bare header: the window detector (MLRN_LEARNER_DDM 0), not the default
    pl = plan_learner("uno", 4, 60, 4, storage="int16", name="colour", drift="window")
    own = {k: v for k, v in pl.static_buffers.items() if k.startswith("colour")}
    assert objs == own
    rest = static - sum(own.values())           # Arduino core, Serial, the sketch's own variables
    assert plan_learner("uno", 4, 60, 4, storage="int16", name="colour", other_static_bytes=rest, drift="window").fits

    def to_float(text):
        start = text.index("MLRN_LEARNER_DEFINE_STORAGE(")
        end = text.index(")", text.index("colour_offset)", start)) + 1
        return text[:start] + "MLRN_LEARNER_DEFINE(colour, N_FEATURES, N_CLASSES, TRAIN_CAP, HOLD_CAP, 8, 20)" + \
            text[end:]
    fp = plan_learner("uno", 4, 60, 4, name="colour", other_static_bytes=rest, drift="window")
    assert not fp.fits and fp.over["sram"] > 0 and fp.max_capacity["float32"] < 60 <= fp.max_capacity["int16"]
    assert build("float32", to_float, links=False) == fp.static_ram_bytes > 2048   # the linker agrees, to the byte


# ---- persistence (save / save_all + load) ---------------------------------------------------------------------

def _persist_run(board, cfg, kind, nv_bytes):
    """The loop driver with its save + load round trip (LRN_PERSIST) over an nv_bytes storage region."""
    import tempfile
    from microlearn.tools.calibrate import PERSIST_KINDS, _learner_stream
    from microlearn.learner.runner import build_learner
    from microlearn.targets import get_target
    t = get_target(board)
    with tempfile.TemporaryDirectory() as wd:
        build = build_learner(cfg, t, wd, {"LRN_MARK_STEPS": 1, "LRN_PERSIST": PERSIST_KINDS[kind],
                                           "LRN_PERSIST_BYTES": nv_bytes})
        res = t.run(build, encode_stream(*_learner_stream(cfg.n_features, cfg.n_classes, seed=5)), timeout=300)
    status = int(res.output.split("\nS ")[1].split()[0])
    return build, res, status


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
@pytest.mark.parametrize("kind", ["model", "all"])
def test_persistence_plan_and_payload_exact(board, kind):
    """With full stores and every class in the model, the payload is the planned one to the byte: a region of
    persist_storage_bytes works, one byte less per slot is refused (MLRN_ERR_BUFFER). The plan's static SRAM
    (learner + driver + storage struct; the stand-in for the EEPROM region excluded) is exact; flash and stack
    within tolerance."""
    # drift off (the window detector at drift_pct 0): the stores end full (a drift purge would leave them part-empty
    # and the payload shorter)
    cfg = learner_config(3, 16, 3, storage="int8", queue=2, trigger_window=6, drift="window", drift_pct=0,
                         **dict(zip(("scale", "offset"), _affine(3, "int8"))))
    pl = plan_learner_config(cfg, board, persist=kind)
    need = pl.persist_storage_bytes
    assert need == lc.persist_storage_bytes(cfg, kind) and pl.static_buffers["persistence (mlrn_storage)"] > 0
    assert need % 4 == 0            # so that no alignment padding follows the stand-in region on ARM
    build, res, status = _persist_run(board, cfg, kind, need)
    assert status == 0
    # on AVR the driver keeps slots that fit the internal EEPROM there (no SRAM stand-in, as a sketch does)
    stand_in = 0 if get_board(board).arch == "avr" and need <= 1024 else need
    assert build.static_ram_bytes - stand_in == pl.static_ram_bytes
    assert abs(pl.flash_bytes - build.flash_bytes) <= FLASH_TOLERANCE * build.flash_bytes
    assert -STACK_TOLERANCE <= pl.stack_bytes - res.stack_bytes <= STACK_OVER, (pl.stack_bytes, res.stack_bytes)
    assert _persist_run(board, cfg, kind, need - 2)[2] == -7          # MLRN_ERR_BUFFER


def test_persist_option_in_plan_and_cli(capsys):
    base = plan_learner("uno", 4, 60, holdout_every=4)
    model = plan_learner("uno", 4, 60, persist="model")
    assert model.flash_bytes > base.flash_bytes and model.static_ram_bytes > base.static_ram_bytes
    assert model.persist_payload_bytes == 5 + 2 + 1 * 5 * 4
    full = plan_learner("uno", 4, 60, persist="all", drift="window")
    assert full.persist_payload_bytes == 5 + 2 + 20 + 84 + 60 * 17 + 20
    # the default detector (DDM) saves its 17 bytes after the ring (MLRN_LEARNER__DDM_LEN)
    assert plan_learner("uno", 4, 60, persist="all").persist_payload_bytes == full.persist_payload_bytes + 17
    assert not full.fits and full.max_capacity["float32"] < 60     # save_all's frame and struct cost the last bytes
    assert main(["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "40", "--persist", "all",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["persist"] == "all" and d["persist_storage_bytes"] == 2 * (20 + d["persist_payload_bytes"])
    # the uno's 1 KB EEPROM holds the model's slots, not save_all's at capacity 40 (a note, not a refusal)
    assert any("more than the 1,024 B internal EEPROM" in n for n in plan_learner("uno", 4, 40, persist="all").notes)
    assert any("of the 1,024 B internal EEPROM" in n for n in plan_learner("uno", 4, 40, persist="model").notes)
    with pytest.raises(ValueError, match="persist"):
        plan_learner("uno", 4, 60, persist="eeprom")


def test_cli_plan_kernel_learner_on_a_small_board(capsys):
    """`plan --learner --kernel rbf` on the uno: the plan, the online learner offered beside it (a linear learner:
    the kernel is not carried over), and no trainer kernel-cache line (the loop has no cache)."""
    argv = ["plan", "--learner", "--kernel", "rbf", "--board", "uno", "--n-features", "4", "--storage", "int8",
            "--capacity", "40"]
    assert main(argv + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["fits"] is True and d["max_capacity"]["int8"] >= 40
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "rbf kernel (support-vector snapshot)" in out and "the online learner with DDM" in out
    assert "kernel cache" not in out
