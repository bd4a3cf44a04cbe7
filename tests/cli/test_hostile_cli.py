"""Hostile input to the command line: every failure is one line `microlearn <cmd>: error: ...` on stderr,
exit status 2 (1 for a check that ran and failed), no traceback, within a time bound, bounded memory.

Fast cases run in-process through microlearn.cli.main.main(argv); the ones that could hang or grow (a FIFO,
/dev/zero, a 1,000,000-row CSV, odd encodings) run as `python -m microlearn` with a timeout (and, for
/dev/zero, an address-space limit of 1 GB). `pytest -m hostile` counts them."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from microlearn.core.paths import include_dir
from microlearn.cli.main import main
from microlearn.data.datasets import load, write_csv

pytestmark = pytest.mark.hostile

BOUND = 30.0   # seconds per case
HAVE_CC = shutil.which("cc") is not None


# ---- the files the cases read ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    f = {}

    def put(name, data):
        p = d / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        f[name.split(".")[0]] = str(p)

    X, y = load("iris")
    write_csv(d / "iris.csv", X, y)
    f["iris"] = str(d / "iris.csv")
    X3, y3 = load("iris3")
    text = "species,sepal_l,sepal_w,petal_l,petal_w\n" + "".join(
        f"{['setosa', 'versicolor', 'virginica'][c]},{','.join(f'{v:g}' for v in row)}\n" for row, c in zip(X3, y3))
    put("bom.csv", "\ufeff" + text)                                     # BOM, the label in the first column
    put("crlf.csv", (Path(f["iris"]).read_text()).replace("\n", "\r\n"))
    put("noheader.csv", "".join(f"{','.join(f'{v:g}' for v in row)},{c}\n" for row, c in zip(X, y)))
    put("noheader_text.csv", "".join(f"{','.join(f'{v:g}' for v in row)},{['no', 'yes'][c]}\n"
                                     for row, c in zip(X, y)))
    put("latin1.csv", ("a,b,label\n1,2,caf\u00e9\n3,4,th\u00e9\n").encode("latin-1"))
    put("utf16.csv", "a,b,label\n1,2,x\n3,4,y\n".encode("utf-16"))
    put("utf16le.csv", "a,b,label\n1,2,x\n3,4,y\n".encode("utf-16-le"))
    put("binary.csv", bytes(range(256)) * 8)
    put("field200k.csv", "a,b,label\n1,2," + "x" * 200_000 + "\n3,4,y\n")
    put("field5k.csv", "a,b,label\n1,2,x\n3,4," + "y" * 5000 + "\n")
    put("semicolon.csv", "a;b;label\n1;2;0\n3;4;1\n")
    put("semirows.csv", "a,b,label\n1;2;0\n3;4;1\n")
    put("tab.csv", "a\tb\tlabel\n1\t2\t0\n3\t4\t1\n")
    put("empty.csv", "")
    put("blank.csv", "\n\n  \n")
    put("header_only.csv", "a,b,label\n")
    put("only_label.csv", "label\n0\n1\n0\n1\n")
    put("classes17.csv", "a,b,label\n" + "".join(f"{i},{i % 7},c{i % 17}\n" for i in range(68)))
    put("nan.csv", "a,b,label\n1,2,0\n3,nan,1\n")
    put("inf.csv", "a,b,label\n1,2,0\n3,-inf,1\n")
    put("huge.csv", "a,b,label\n1,2,0\n3,1e39,1\n")
    put("ragged.csv", "a,b,label\n1,2,0\n3,4\n")
    put("missing.csv", "a,b,label\n1,2,0\n3,,1\n")
    put("text_feature.csv", "a,b,label\n1,2,0\n3,four,1\n")
    put("missing_label.csv", "a,b,label\n1,2,0\n3,4,\n")
    put("one_class.csv", "a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n")
    put("unterminated.csv", 'a,b,label\n1,2,"x\n')
    put("three_features.csv", "a,b,c,label\n1,2,3,0\n4,5,6,1\n")
    put("unseen_label.csv", "f0,f1,f2,f3,label\n5,3,1,0.2,7\n6,3,5,2,1\n")
    rng = np.random.default_rng(0)
    Xs = rng.uniform(-1, 1, (240, 3))
    ys = (Xs[:, 0] > 0).astype(int)
    put("stream.csv", "".join(f"{a:.5f},{b:.5f},{c:.5f},{t}\n" for (a, b, c), t in zip(Xs, ys)))  # no header
    put("stream_header.csv", "x0,x1,x2,y\n" + Path(f["stream"]).read_text())
    put("stream_strings.csv", "x0,x1,y\n1,2,cat\n3,4,dog\n5,6,cat\n")
    put("stream_label20.csv", "x0,x1,y\n1,2,0\n3,4,20\n")
    put("stream_label_frac.csv", "x0,x1,y\n1,2,0\n3,4,1.5\n")
    put("stream_label_neg.csv", "x0,x1,y\n1,2,0\n3,4,-1\n")
    put("stream3.csv", "x0,x1,y\n1,2,0\n3,4,1\n5,6,2\n")
    put("stream_nan.csv", "x0,x1,y\n1,2,0\nnan,4,1\n")
    Xb = np.random.default_rng(0).random((40, 3)) * 3e38           # near float32's largest value
    put("bigvals.csv", "a,b,c,y\n" + "".join(f"{a:.6g},{b:.6g},{c:.6g},{int(a > 1.5e38)}\n" for a, b, c in Xb))
    put("wide_header.csv", ",".join(f"c{i}" for i in range(70_000)) + "\n")
    put("wide.csv", ",".join(f"c{i}" for i in range(20_000)) + ",y\n"
        + "".join(",".join([str(j)] * 20_000) + f",{j % 2}\n" for j in range(4)))
    # 1,000,000 rows (about 14 MB), quickly: one block repeated
    (d / "million.csv").write_text("a,b,label\n" + "0.25,0.5,0\n0.75,0.125,1\n" * 500_000)
    f["million"] = str(d / "million.csv")
    (d / "stream_million.csv").write_text("0.25,0.5,0\n0.75,0.125,1\n" * 500_000)
    f["stream_million"] = str(d / "stream_million.csv")
    os.mkfifo(d / "fifo")
    f["fifo"] = str(d / "fifo")
    os.symlink("/dev/zero", d / "zero_link.csv")
    f["zero_link"] = str(d / "zero_link.csv")
    (d / "folder.csv").mkdir()
    f["folder"] = str(d / "folder.csv")
    f["nofile"] = str(d / "no_such_file.csv")
    f["nodir_png"] = str(d / "no_such_dir" / "plot.png")
    f["tmp"] = str(d)
    return f


# ---- running a case ----------------------------------------------------------------------------------------------
def _fill(args, files):
    return [a.format(**files) if "{" in a else a for a in args]


def run_inprocess(args, capsys):
    t0 = time.perf_counter()
    try:
        rc = main(args)
    except SystemExit as exc:           # argparse usage errors exit through SystemExit
        rc = exc.code
    elapsed = time.perf_counter() - t0
    out, err = capsys.readouterr()
    return rc, out, err, elapsed


def _limit_memory():
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run_subprocess(args, stdin=None, env=None, limit_memory=False):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    t0 = time.perf_counter()
    with (open(stdin, "rb") if stdin else open(os.devnull, "rb")) as fin:
        p = subprocess.run([sys.executable, "-m", "microlearn", *args], stdin=fin, capture_output=True, text=True,
                           timeout=BOUND, env=env, preexec_fn=_limit_memory if limit_memory else None)
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0


def check_result(args, rc, out, err, elapsed, want_rc, want):
    cmd = next((a for a in args if not a.startswith("-")), None)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "\x1b" not in err, err
    assert elapsed < BOUND, f"took {elapsed:.1f} s"
    assert rc == want_rc, (rc, err, out[-500:])
    lines = err.splitlines()
    if want_rc == 0:
        assert all(ln.startswith(f"microlearn {cmd}: warning:") for ln in lines), err
        return
    assert len(lines) == 1, err
    prefix = f"microlearn {cmd}: error:" if cmd in ("train", "loop", "plan", "boards", "bench", "demo", "export") \
        else "microlearn: error:"
    assert lines[0].startswith(prefix), err
    if want:
        assert re.search(want, lines[0]), (want, lines[0])


# (id, argv, expected exit status, regex the error line must match)
IN_PROCESS = [
    # -- train: files
    ("train-missing-file", ["train", "{nofile}"], 2, r"cannot open \(No such file"),
    ("train-directory", ["train", "{folder}"], 2, "is a directory"),
    ("train-utf16-no-bom", ["train", "{utf16le}"], 2, r"not UTF-8 text \(NUL byte at offset 1"),
    ("train-binary", ["train", "{binary}"], 2, r"binary data, not CSV text \(NUL byte at offset 0\)"),
    ("train-field-5k", ["train", "{field5k}"], 2, "a field longer than 4,096 characters .*line 3"),
    ("train-semicolon", ["train", "{semicolon}"], 2, "expected comma-separated values.*semicolon"),
    ("train-semicolon-rows", ["train", "{semirows}"], 2, "1 field, the header has 3; expected comma-separated"),
    ("train-tab", ["train", "{tab}"], 2, "expected comma-separated values.*tab"),
    ("train-empty", ["train", "{empty}"], 2, "empty file"),
    ("train-blank-lines", ["train", "{blank}"], 2, "empty file"),
    ("train-header-only", ["train", "{header_only}"], 2, r"no data rows \(only a header row\)"),
    ("train-only-label-column", ["train", "{only_label}"], 2, "need at least one feature column and a label"),
    # up to 64 classes (MLRN_SMO_MAX_CLASSES can be raised to 64); one-vs-one, quadratic, stops at 16
    ("train-17-classes", ["train", "{classes17}"], 2, "17 classes with multiclass='ovo'.*quadratic.*--multiclass ovr"),
    ("train-nan", ["train", "{nan}"], 2, r"non-finite value nan in column 'b' \(.*line 3\)"),
    ("train-inf", ["train", "{inf}"], 2, "non-finite value -inf"),
    ("train-float32-overflow", ["train", "{huge}"], 2, "too large for float32"),
    ("train-ragged", ["train", "{ragged}"], 2, "2 fields, the header has 3"),
    ("train-missing-value", ["train", "{missing}"], 2, "missing value in column 'b'"),
    ("train-text-feature", ["train", "{text_feature}"], 2, "non-numeric value 'four'"),
    ("train-missing-label", ["train", "{missing_label}"], 2, "missing label"),
    ("train-unterminated-quote", ["train", "{unterminated}", "--test-size", "0.5"], 2, ""),
    ("train-unknown-label-column", ["train", "{iris}", "--label", "species"], 2, "no column named 'species'"),
    ("train-one-class", ["train", "{one_class}", "--test-size", "0.5"], 2, "1 class"),
    ("train-test-features-differ", ["train", "{iris}", "--test", "{three_features}"], 2, "3 features"),
    ("train-test-unseen-label", ["train", "{iris}", "--test", "{unseen_label}"], 2, "labels that do not occur"),
    ("train-million-rows-as-test", ["train", "{iris}", "--test", "{million}"], 2, "65,535 test rows"),
    ("train-too-many-columns", ["train", "{wide_header}"], 2, "more than 65,536 columns"),
    ("train-host-buffers-too-big", ["train", "{wide}", "--test", "{wide}", "--capacity", "65535"], 2,
     "buffers would take 4.9 GiB, over the 1 GiB a host build holds"),
    ("train-float32-overflow-in-training", ["train", "{bigvals}", "--C", "1e30", "--solver", "simplified"], 2,
     "training overflowed float32.*scale the features"),
    ("train-rbf-gamma-scale-underflows", ["train", "{bigvals}", "--kernel", "rbf"], 2,
     "gamma='scale' gives .* 0 in float32"),
    # -- train: parameters (Python refuses what mlrn_smo_init or the C types would)
    ("train-C-underflows-float32", ["train", "{iris}", "--C", "1e-46"], 2, "--C must be > 0 in float32"),
    ("train-C-overflows-float32", ["train", "{iris}", "--C", "1e39"], 2, "--C must fit float32"),
    ("train-C-nan", ["train", "{iris}", "--C", "nan"], 2, "--C must be a finite number"),
    ("train-C-zero", ["train", "{iris}", "--C", "0"], 2, "--C must be > 0"),
    ("train-C-negative", ["train", "{iris}", "--C", "-1"], 2, "--C must be > 0"),
    ("train-tol-zero", ["train", "{iris}", "--tol", "0"], 2, "--tol must be > 0"),
    ("train-tol-underflows", ["train", "{iris}", "--tol", "1e-46"], 2, "--tol must be > 0 in float32"),
    ("train-max-iter-zero", ["train", "{iris}", "--max-iter", "0"], 2, "--max-iter must be an integer in 1.."),
    ("train-max-iter-over-uint32", ["train", "{iris}", "--max-iter", "4294967296"], 2, "uint32"),
    ("train-max-passes-over-uint16", ["train", "{iris}", "--solver", "simplified", "--max-passes", "70000"], 2,
     "--max-passes must be an integer in 1..65,535 .uint16"),
    ("train-gamma-underflows", ["train", "{iris}", "--kernel", "rbf", "--gamma", "1e-46"], 2,
     "--gamma must be > 0 in float32"),
    ("train-gamma-word", ["train", "{iris}", "--gamma", "huge"], 2, "--gamma must be 'scale', 'auto' or a number"),
    ("train-degree-over-uint8", ["train", "{iris}", "--kernel", "poly", "--degree", "300"], 2, "degree"),
    ("train-alpha-tol-negative", ["train", "{iris}", "--alpha-tol", "-1"], 2, "--alpha-tol must be >= 0"),
    ("train-coef0-inf", ["train", "{iris}", "--coef0", "inf"], 2, "--coef0 must be a finite number"),
    ("train-test-size-nan", ["train", "{iris}", "--test-size", "nan"], 2, r"--test-size must be a number in \(0, 1\)"),
    ("train-test-size-one", ["train", "{iris}", "--test-size", "1"], 2, "--test-size"),
    ("train-test-size-tiny", ["train", "{iris}", "--test-size", "0.0001"], 2, "no training or no test rows"),
    ("train-capacity-zero", ["train", "{iris}", "--capacity", "0"], 2, "--capacity must be an integer in 2..65,535"),
    ("train-capacity-over-uint16", ["train", "{iris}", "--capacity", "70000"], 2, "--capacity"),
    ("train-capacity-below-rows", ["train", "{iris}", "--capacity", "10"], 2, "exceed --capacity 10"),
    ("train-seed-negative", ["train", "{iris}", "--seed", "-1"], 2, "--seed must be an integer in 0.."),
    ("train-timeout-zero", ["train", "{iris}", "--timeout", "0"], 2, "--timeout must be"),
    ("train-timeout-nan", ["train", "{iris}", "--timeout", "nan"], 2, "--timeout must be"),
    ("train-timeout-huge", ["train", "{iris}", "--timeout", "1e39"], 2, "--timeout must be"),
    ("train-unknown-target", ["train", "{iris}", "--target", "pdp11"], 2, "unknown board"),
    ("train-bad-float", ["train", "{iris}", "--C", "abc"], 2, "invalid float value"),
    ("train-bad-kernel", ["train", "{iris}", "--kernel", "cubic"], 2, "invalid choice"),
    ("train-dcd-rbf", ["train", "{iris}", "--solver", "dcd", "--kernel", "rbf"], 2,
     "solver 'dcd' trains the linear kernel only"),
    ("train-squared-hinge-without-dcd", ["train", "{iris}", "--loss", "squared_hinge"], 2,
     "loss 'squared_hinge' needs solver 'dcd'"),
    ("train-bad-loss", ["train", "{iris}", "--solver", "dcd", "--loss", "l3"], 2, "invalid choice"),
    ("train-dcd-squared-hinge-C-tiny", ["train", "{iris}", "--solver", "dcd", "--loss", "squared_hinge", "--C",
                                        "1e-45"], 2, r"--C must be >= .* with loss 'squared_hinge'"),
    ("train-dcd-tol-nan", ["train", "{iris}", "--solver", "dcd", "--tol", "nan"], 2, "--tol must be a finite number"),
    ("train-dcd-C-inf", ["train", "{iris}", "--solver", "dcd", "--C", "inf"], 2, "--C must be a finite number"),
    ("train-no-file", ["train"], 2, "required"),
    ("train-unknown-option", ["train", "{iris}", "--frobnicate"], 2, "unrecognized arguments"),
    ("train-uno-too-big", ["train", "{iris}", "--target", "uno", "--capacity", "65535"], 2, "does not fit the uno"),
    ("train-uno-17-classes", ["train", "{classes17}", "--target", "uno"], 2, "ovo up to 16 classes"),
    # -- loop
    ("loop-empty", ["loop", "{empty}"], 2, "empty file"),
    ("loop-header-only", ["loop", "{header_only}"], 2, "no data rows"),
    ("loop-semicolon", ["loop", "{semicolon}"], 2, "expected comma-separated values"),
    ("loop-string-labels", ["loop", "{stream_strings}"], 2, "label 'cat' is not a class index.*line 2"),
    ("loop-fractional-label", ["loop", "{stream_label_frac}"], 2, "not a class index"),
    ("loop-negative-label", ["loop", "{stream_label_neg}"], 2, "not a class index"),
    ("loop-label-20", ["loop", "{stream_label20}"], 2, "class index 20 is over 15.*MLRN_SMO_MAX_CLASSES"),
    ("loop-only-label-column", ["loop", "{only_label}"], 2, "need at least one feature column"),
    ("loop-nan-feature", ["loop", "{stream_nan}"], 2, "non-finite"),
    ("loop-latin1", ["loop", "{latin1}"], 2, r"not UTF-8 text \(byte 0xe9"),
    ("loop-missing-file", ["loop", "{nofile}"], 2, "cannot open"),
    ("loop-directory", ["loop", "{folder}"], 2, "is a directory"),
    ("loop-17-classes", ["loop", "{stream}", "--n-classes", "17"], 2, "--n-classes must be an integer in 2..16"),
    ("loop-n-classes-below-labels", ["loop", "{stream3}", "--n-classes", "2"], 2,
     r"class index 2 is outside 0..1 .*line 4"),
    ("loop-window-zero", ["loop", "{stream}", "--window", "0"], 2, "--window must be an integer >= 1"),
    ("loop-k-mistakes-negative", ["loop", "{stream}", "--k-mistakes", "-1"], 2, "--k-mistakes.*uint16"),
    ("loop-queue-over-uint16", ["loop", "{stream}", "--queue", "70000"], 2, "--queue.*uint16"),
    ("loop-trigger-window-over-uint16", ["loop", "{stream}", "--trigger-window", "70000"], 2,
     "--trigger-window.*uint16"),
    ("loop-capacity-zero", ["loop", "{stream}", "--capacity", "0"], 2, "--capacity must be an integer in 4..65,535"),
    ("loop-capacity-over-uint16", ["loop", "{stream}", "--capacity", "70000"], 2, "--capacity"),
    ("loop-holdout-one", ["loop", "{stream}", "--holdout-every", "1"], 2, "--holdout-every"),
    ("loop-holdout-over-uint8", ["loop", "{stream}", "--holdout-every", "300"], 2, "--holdout-every.*uint8"),
    ("loop-err-pct-200", ["loop", "{stream}", "--err-pct", "200"], 2, "--err-pct"),
    ("loop-C-overflows-float32", ["loop", "{stream}", "--C", "1e39"], 2, "--C must fit float32"),
    ("loop-C-underflows-float32", ["loop", "{stream}", "--C", "1e-46"], 2, "--C must be > 0 in float32"),
    ("loop-tol-zero", ["loop", "{stream}", "--tol", "0"], 2, "--tol must be > 0"),
    ("loop-max-iter-zero", ["loop", "{stream}", "--max-iter", "0"], 2, "--max-iter"),
    ("loop-budget-negative", ["loop", "{stream}", "--budget", "-1"], 2, "--budget.*uint32"),
    ("loop-seed-negative", ["loop", "{stream}", "--seed", "-5"], 2, "--seed"),
    ("loop-static-rows-zero", ["loop", "{stream}", "--static-rows", "0"], 2, "--static-rows"),
    ("loop-timeout-nan", ["loop", "{stream}", "--timeout", "nan"], 2, "--timeout"),
    ("loop-max-rows-zero", ["loop", "{stream}", "--max-rows", "0"], 2, "--max-rows"),
    ("loop-max-rows-small", ["loop", "{stream}", "--max-rows", "100"], 2, "more than 100 data rows.*line 101"),
    ("loop-plot-no-folder", ["loop", "{stream}", "--plot", "{nodir_png}"], 2, "--plot: no such folder"),
    ("loop-uno-too-big", ["loop", "{stream}", "--target", "uno", "--capacity", "2000"], 2, "does not fit the uno"),
    # -- plan
    ("plan-n-features-zero", ["plan", "--board", "uno", "--n-features", "0", "--capacity", "60"], 2, "--n-features"),
    ("plan-n-features-over-uint16", ["plan", "--board", "uno", "--n-features", "70000", "--capacity", "60"], 2,
     "--n-features"),
    ("plan-capacity-zero", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "0"], 2, "--capacity"),
    ("plan-capacity-over-uint16", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "70000"], 2,
     "--capacity"),
    ("plan-17-classes", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "60", "--classes", "17"], 2,
     "17 classes with multiclass='ovo'.*quadratic"),
    ("plan-65-classes", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "60", "--classes", "65",
                         "--multiclass", "ovr"], 2, "2..64 .MLRN_SMO_MAX_CLASSES"),
    ("plan-data-in-unknown", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "60", "--data-in",
                              "eeprom"], 2, "--data-in: invalid choice: 'eeprom'"),
    ("plan-learner-data-in", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                              "--data-in", "flash"], 2, "keeps its samples in RAM"),
    ("plan-1-class", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "60", "--classes", "1"], 2,
     "--classes"),
    ("plan-host", ["plan", "--board", "host", "--n-features", "4", "--capacity", "60"], 2, "host"),
    ("plan-unknown-board", ["plan", "--board", "pdp11", "--n-features", "4", "--capacity", "60"], 2,
     "unknown board"),
    ("plan-negative-stack-reserve", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "60",
                                     "--stack-reserve", "-5"], 2, "--stack-reserve must be a number of bytes >= 0"),
    ("plan-does-not-fit", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "1000"], 1,
     "does not fit the uno: static SRAM over by"),
    ("plan-learner-option-without-learner", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "60",
                                             "--queue", "3"], 2, "apply to --learner only"),
    ("plan-missing-board", ["plan", "--n-features", "4", "--capacity", "60"], 2, "required"),
    ("plan-ok", ["plan", "--board", "uno", "--n-features", "4", "--capacity", "60"], 0, None),
    # -- plan --learner
    ("plan-learner-negative-queue", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                                     "--queue", "-1000"], 2, "--queue must be an integer in 0..65,535"),
    ("plan-learner-queue-over-uint16", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity",
                                        "60", "--queue", "70000"], 2, "--queue"),
    ("plan-learner-trigger-window", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                                     "--trigger-window", "70000"], 2, "--trigger-window"),
    ("plan-learner-holdout-one", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                                  "--holdout-every", "1"], 2, "--holdout-every"),
    ("plan-learner-holdout-over-uint8", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity",
                                         "60", "--holdout-every", "300"], 2, "--holdout-every"),
    ("plan-learner-capacity-too-small", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity",
                                         "2"], 2, "--capacity must be an integer in 4.."),
    ("plan-learner-negative-other-static", ["plan", "--learner", "--board", "uno", "--n-features", "4",
                                            "--capacity", "60", "--other-static", "-5"], 2, "--other-static"),
    ("plan-learner-17-classes", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                                 "--classes", "17"], 2, "--classes must be an integer in 2..16"),
    ("plan-learner-sigmoid", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                              "--kernel", "sigmoid"], 2, "kernel must be one of linear, rbf, poly"),
    ("plan-learner-dcd", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                          "--solver", "dcd"], 2, "wss2, one-vs-one, without a kernel cache"),
    ("plan-learner-model-kernel", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "60",
                                   "--model", "svm-rbf", "--kernel", "poly"], 2, "contradicts --kernel poly"),
    ("loop-kernel-gamma", ["loop", "rotating_hyperplane", "--kernel", "rbf", "--gamma", "nan"], 2,
     "--gamma must be a finite number"),
    ("loop-kernel-online", ["loop", "rotating_hyperplane", "--model", "online", "--kernel", "rbf"], 2,
     "is for the SVM learner"),
    ("plan-learner-ok", ["plan", "--learner", "--board", "uno", "--n-features", "4", "--capacity", "40"], 0, None),
    # -- boards, bench, the command itself
    ("boards-unknown-option", ["boards", "--frobnicate"], 2, "unrecognized arguments: --frobnicate"),
    ("boards-extra-argument", ["boards", "uno"], 2, "unrecognized arguments"),
    ("boards-ok", ["boards"], 0, None),
    ("boards-json-ok", ["boards", "--json"], 0, None),
    ("bench-help", ["bench", "--help"], 0, None),
    ("bench-unknown-board", ["bench", "--boards", "pdp11"], 2, "unknown board"),
    ("bench-board-not-emulated", ["bench", "--boards", "esp32"], 2, "not emulated"),
    ("bench-unknown-experiment", ["bench", "--boards", "uno", "--experiments", "bogus"], 2, "unknown experiment"),
    ("bench-jobs-zero", ["bench", "--jobs", "0"], 2, "--jobs"),
    ("bench-timeout-negative", ["bench", "--timeout", "-1"], 2, "--timeout"),
    ("no-command", [], 2, "a command is required"),
    ("unknown-command", ["frobnicate"], 2, "invalid choice"),
]

NEEDS_CC = {"train-test-unseen-label"}


@pytest.mark.parametrize("case", IN_PROCESS, ids=[c[0] for c in IN_PROCESS])
def test_in_process(case, files, capsys):
    name, args, want_rc, want = case
    if name in NEEDS_CC and not HAVE_CC:
        pytest.skip("no host C compiler")
    args = _fill(args, files)
    rc, out, err, elapsed = run_inprocess(args, capsys)
    check_result(args, rc, out, err, elapsed, want_rc, want)


# Cases that could hang, grow without bound or depend on the real process (stdin, encodings at the boundary):
# (id, argv, stdin file, expected status, regex, extra environment, memory-limited)
SUBPROCESS = [
    ("train-dev-zero", ["train", "/dev/zero"], None, 2, r"not a regular file \(a character device\)", None, True),
    ("train-dev-zero-symlink", ["train", "{zero_link}"], None, 2, "not a regular file", None, True),
    ("train-stdin-dev-zero", ["train", "-"], "/dev/zero", 2, r"binary data.*\(<stdin>\)", None, True),
    ("train-fifo", ["train", "{fifo}"], None, 2, r"not a regular file \(a FIFO\)", None, False),
    ("train-million-rows", ["train", "{million}"], None, 2,
     "more than 93,622 data rows.*65,535 training rows.*line 93,?624", None, True),
    ("train-million-rows-size-limit", ["train", "{million}"], None, 2, "over the limit of 1 MB for CSV inputs",
     {"MICROLEARN_MAX_CSV_MB": "1"}, False),
    ("train-bad-size-limit", ["train", "{iris}"], None, 2, "MICROLEARN_MAX_CSV_MB must be a positive number",
     {"MICROLEARN_MAX_CSV_MB": "lots"}, False),
    ("train-field-200k", ["train", "{field200k}"], None, 2, "a field longer than 4,096 characters", None, True),
    ("train-utf16", ["train", "{utf16}"], None, 2, r"not UTF-8 text \(byte 0xff at offset 0", None, False),
    ("train-latin1", ["train", "{latin1}"], None, 2, r"not UTF-8 text \(byte 0xe9 at offset 17\)", None, False),
    ("train-bom-label-first-column", ["train", "{bom}", "--label", "species", "--json"], None, 0, None, None, False),
    ("train-no-header", ["train", "{noheader}", "--json"], None, 0, None, None, False),
    ("train-no-header-text-labels", ["train", "{noheader_text}", "--json"], None, 0, None, None, False),
    ("train-crlf", ["train", "{crlf}", "--json"], None, 0, None, None, False),
    ("train-stdin", ["train", "-", "--json"], "{iris}", 0, None, None, False),
    ("train-both-stdin", ["train", "-", "--test", "-"], "{iris}", 2, "cannot both be '-'", None, False),
    ("loop-fifo", ["loop", "{fifo}"], None, 2, r"not a regular file \(a FIFO\)", None, False),
    ("loop-stdin-dev-zero", ["loop", "-"], "/dev/zero", 2, "binary data", None, True),
    ("loop-million-rows", ["loop", "{stream_million}"], None, 2, "more than 100,000 data rows.*line 100,?001",
     None, True),
    ("loop-utf16", ["loop", "{utf16}"], None, 2, "not UTF-8 text", None, False),
    ("loop-no-header", ["loop", "{stream}", "--capacity", "40", "--window", "60", "--json"], None, 0, None, None,
     False),
    ("loop-header", ["loop", "{stream_header}", "--capacity", "40", "--window", "60", "--json"], None, 0, None, None,
     False),
    ("demo-no-targets", ["demo"], None, 2, r"every target was skipped \(host, uno", {"PATH": "/nonexistent"}, False),
    ("debug-flag-shows-traceback", ["train", "{nofile}", "--debug"], None, 1, None, None, False),
]

ROWS_EXPECTED = {"train-no-header": 150, "train-no-header-text-labels": 150, "train-bom-label-first-column": 150,
                 "train-crlf": 150, "train-stdin": 150}


@pytest.mark.parametrize("case", SUBPROCESS, ids=[c[0] for c in SUBPROCESS])
def test_subprocess(case, files):
    name, args, stdin, want_rc, want, env, limit = case
    if want_rc == 0 and not HAVE_CC:
        pytest.skip("no host C compiler")
    args = _fill(args, files)
    stdin = stdin.format(**files) if stdin else None
    if env and env.get("PATH") == "/nonexistent":
        env = {**env, "PATH": "/nonexistent"}
    rc, out, err, elapsed = run_subprocess(args, stdin, env, limit)
    if name == "debug-flag-shows-traceback":    # --debug re-raises: the traceback is the point
        assert rc == 1 and "Traceback" in err and "DataError" in err and elapsed < BOUND
        return
    check_result(args, rc, out, err, elapsed, want_rc, want)
    if name in ROWS_EXPECTED:
        rep = json.loads(out)
        assert rep["n_train"] + rep["n_test"] == ROWS_EXPECTED[name] and rep["agreement"] == 1.0
        if name == "train-bom-label-first-column":
            assert rep["classes"] == ["setosa", "versicolor", "virginica"] and rep["n_features"] == 4
        if name == "train-no-header-text-labels":
            assert rep["classes"] == ["no", "yes"]
    if name.startswith("loop-") and want_rc == 0:
        rep = json.loads(out)
        assert rep["n_rows"] == 240 and rep["n_features"] == 3 and rep["agreement"] == 1.0


# ---- the error path itself ---------------------------------------------------------------------------------------
def _boards_raising(monkeypatch, exc):
    import microlearn.cli.boards_cmd as bc

    def boom(args):
        raise exc
    monkeypatch.setattr(bc, "run", boom)


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    _boards_raising(monkeypatch, KeyboardInterrupt())
    assert main(["boards"]) == 130
    err = capsys.readouterr().err
    assert err == "microlearn boards: interrupted\n"
    with pytest.raises(KeyboardInterrupt):
        main(["--debug", "boards"])


def test_a_bug_is_one_line_with_the_debug_hint(monkeypatch, capsys):
    _boards_raising(monkeypatch, ZeroDivisionError("division by zero"))
    rc, out, err, elapsed = run_inprocess(["boards"], capsys)
    check_result(["boards"], rc, out, err, elapsed, 2, r"internal error: ZeroDivisionError: division by zero "
                                                      r"\(run with --debug for the traceback\)")
    with pytest.raises(ZeroDivisionError):
        main(["boards", "--debug"])


def test_out_of_memory_is_one_line(monkeypatch, capsys):
    _boards_raising(monkeypatch, MemoryError())
    rc, out, err, elapsed = run_inprocess(["boards"], capsys)
    check_result(["boards"], rc, out, err, elapsed, 2, "out of memory")


def test_emulator_text_is_stripped_of_escape_sequences(monkeypatch, capsys):
    from microlearn.targets.errors import RunError
    _boards_raising(monkeypatch, RunError("uno: simavr said \x1b[1;31mERROR\x1b[0m\r\nsecond line\x07\x00"))
    rc, out, err, elapsed = run_inprocess(["boards"], capsys)
    check_result(["boards"], rc, out, err, elapsed, 2, "simavr said ERROR; second line$")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err.rstrip("\n"))


def test_warnings_are_one_line(monkeypatch, capsys):
    import warnings
    import microlearn.cli.boards_cmd as bc

    def warn(args):
        warnings.warn("SMO reached max_iter=1 before the tolerance was met")
        return 0
    monkeypatch.setattr(bc, "run", warn)
    assert main(["boards"]) == 0
    assert capsys.readouterr().err == "microlearn boards: warning: SMO reached max_iter=1 before the tolerance " \
                                      "was met\n"


def test_demo_with_every_target_skipped_in_process(monkeypatch, capsys):
    import microlearn.tools.demo as demo
    from microlearn.targets.errors import TargetUnavailable

    def unavailable(*a, **k):
        raise TargetUnavailable("no toolchain")
    monkeypatch.setattr(demo, "train_and_report", unavailable)
    rc, out, err, elapsed = run_inprocess(["demo"], capsys)
    check_result(["demo"], rc, out, err, elapsed, 2, "every target was skipped")
    assert "skipped: no toolchain" in out


# ---- status codes and limits: Python's tables against the C headers ------------------------------------------------
def test_status_names_cover_every_status_define_of_mlrn_h():
    from microlearn.trainer import driver as ondevice
    text = (Path(include_dir()) / "mlrn.h").read_text()
    defines = dict((int(v), name) for name, v in
                   re.findall(r"#define\s+(MLRN_(?:OK|MAX_ITER|RUNNING|ERR_\w+))\s+\(?(-?\d+)\)?", text))
    assert len(defines) >= 13
    assert set(defines) <= set(ondevice.STATUS_NAMES), set(defines) - set(ondevice.STATUS_NAMES)
    assert {c: m for c, (m, _) in ondevice.STATUS_MACROS.items()} == defines
    assert len(set(ondevice.STATUS_NAMES.values())) == len(ondevice.STATUS_NAMES)   # one name per code


def test_python_limits_match_the_c_headers():
    from microlearn.data import datasets
    from microlearn.core import vocab
    # The limits themselves are checked against the headers in tests/core/test_vocab.py; here, that the
    # CLI's readers use them and that the parameters' C types are the ones the options are checked for.
    assert datasets.MAX_FEATURES == vocab.MAX_FEATURES == vocab.MAX_CAPACITY == 65535
    smo = (Path(include_dir()) / "mlrn_smo.h").read_text()
    params = re.search(r"typedef struct \{(.*?)\} mlrn_smo_params;", smo, re.S).group(1)
    assert re.search(r"uint16_t max_passes;", params) and re.search(r"uint32_t max_iter;", params)
    learner = (Path(include_dir()) / "mlrn_learner.h").read_text()
    lp = re.search(r"typedef struct \{(.*?)\} mlrn_learner_params;", learner, re.S).group(1)
    assert re.search(r"uint16_t k_mistakes;", lp) and re.search(r"uint16_t window;", lp)
    assert re.search(r"uint8_t holdout_every;", lp)
    store = (Path(include_dir()) / "mlrn_store.h").read_text()
    assert re.search(r"uint16_t capacity;", store) and re.search(r"uint16_t d;", store)


@pytest.mark.parametrize("output, message", [
    ("E setup\n", r"^host: the C runtime refused the trainer.s set-up \(mlrn_smo_init returned MLRN_ERR_ARG"),
    ("E add 4 -6\n", r"refused training sample 5: MLRN_ERR_LABEL \(label outside 0..n_classes-1\)"),
    ("E input\n", "fewer input bytes"),
])
def test_device_exit_codes_become_status_names(output, message):
    from microlearn.trainer.driver import explain_run_error
    from microlearn.targets.errors import RunError
    err = explain_run_error(RunError("host program exited with code 3", output))
    assert isinstance(err, RunError) and re.search(message, str(err)) and "exited with code" not in str(err)
    learner = explain_run_error(RunError("uno: program exited with code 5", "P 0 1 - 1\nE feedback -6\n"),
                                "learner")
    assert str(learner) == "uno: the device refused the feedback of row 5: MLRN_ERR_LABEL (label outside " \
                           "0..n_classes-1)"


@pytest.mark.skipif(not HAVE_CC, reason="no host C compiler")
def test_a_real_refusal_on_the_host_is_named_not_numbered():
    """Past the Python checks (called directly), the programs' exit codes still become status names."""
    from microlearn.trainer.config import make_config
    from microlearn.learner.runner import run_on_target
    from microlearn.learner.config import LearnerConfig
    from microlearn.trainer.runner import train_on_target
    from microlearn.targets import get_target
    from microlearn.targets.errors import RunError
    import dataclasses
    rng = np.random.default_rng(0)
    X = rng.random((34, 2))
    y = np.arange(34) % 2
    cfg = make_config(n_features=2, capacity=34, classes=2)
    # C = -1 slipped past the Python checks (set after them): mlrn_smo_init refuses it on the device
    cfg = dataclasses.replace(cfg, params=dataclasses.replace(cfg.params, C=np.float32(-1.0)))
    with pytest.raises(RunError) as ei:
        train_on_target(cfg, get_target("host"), X, y, X[:2], y[:2])
    assert "refused the trainer's set-up" in str(ei.value) and "exited with code" not in str(ei.value)
    y3 = np.array([0, 1, 0, 1, 2, 0])         # label 2 for a 2-class learner: MLRN_ERR_LABEL at row 5
    with pytest.raises(RunError) as ei:
        run_on_target(LearnerConfig(n_features=2, n_classes=2, capacity=8), X[:6].astype(np.float32), y3, "host")
    assert str(ei.value) == "host: the device refused the feedback of row 5: MLRN_ERR_LABEL (label outside " \
                            "0..n_classes-1)"
