"""Progress of the long commands on stderr: nothing at all when stderr is not a terminal (as here, under
pytest) and MICROLEARN_PROGRESS is unset, whatever the command; with MICROLEARN_PROGRESS=1 the bars and
spinners show on stderr and stdout (the report, the JSON) is the same byte for byte."""
import json
import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import need
from microlearn.cli import main as cli_main
from microlearn.cli import serial_cmd
from microlearn.core.progress import ENV
from microlearn.data.datasets import load, write_csv

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "core"))
from test_progress import drawn, screen  # noqa: E402


def cli(*args, progress=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if progress is not None:
        env[ENV] = progress
    r = subprocess.run([sys.executable, "-m", "microlearn", *map(str, args)], capture_output=True, timeout=600,
                       env=env, cwd=cwd)
    # decoded by hand: text=True would turn the bars' carriage returns into line ends
    return SimpleNamespace(returncode=r.returncode, stdout=r.stdout.decode(), stderr=r.stderr.decode())


def without_seconds(text):
    rep = json.loads(text)
    rep.pop("seconds", None)        # host runs report their wall time
    return rep


def test_loop_json_on_host_leaves_stderr_empty_and_stdout_unchanged():
    off = cli("loop", "rotating_hyperplane", "--target", "host", "--json")
    assert off.returncode == 0, off.stderr
    assert off.stderr == ""                                     # not one progress byte without a terminal
    assert off.stdout.count("\n") == 1
    on = cli("loop", "rotating_hyperplane", "--target", "host", "--json", progress="1")
    assert on.returncode == 0, on.stderr
    assert without_seconds(on.stdout) == without_seconds(off.stdout)
    lines = drawn(on.stderr)
    for step in ("reading the stream", "running the Python reference", "building for host", "running on host"):
        assert any(step in d for d in lines), (step, lines[:5])
    assert screen(on.stderr) == [""]                            # the spinner's line is erased at the end


def test_loop_text_report_without_terminal_has_no_progress():
    r = cli("loop", "rotating_hyperplane", "--target", "host", "--window", "300")
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and "agreement with the Python reference 1.0000" in r.stdout


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    X, y = load("iris3")
    p = tmp_path_factory.mktemp("d") / "iris.csv"
    write_csv(p, X, y, label="species")
    return p


def test_train_json_no_progress_and_progress_forced_on(iris_csv):
    off = cli("train", iris_csv, "--target", "host", "--json")
    assert off.returncode == 0, off.stderr
    assert off.stderr == ""
    on = cli("train", iris_csv, "--target", "host", progress="1")
    assert on.returncode == 0, on.stderr
    lines = drawn(on.stderr)
    for step in ("fitting the Python reference", "building for host", "running on host"):
        assert any(step in d for d in lines), (step, lines[:5])
    assert screen(on.stderr) == [""]
    assert on.stdout.startswith("trained on host: 105 samples x 4 features")


def test_progress_forced_off_on_an_error_keeps_the_one_error_line(iris_csv):
    r = cli("train", iris_csv, "--target", "nosuchboard", progress="1")
    assert r.returncode == 2
    # the spinner is erased before the one error line
    assert screen(r.stderr)[-2].startswith("microlearn train: error: ") and "nosuchboard" in r.stderr


@need("qemu-system-arm", "arm-none-eabi-gcc")
def test_bench_quick_no_progress_bytes_without_terminal_then_a_bar_with_the_cases(tmp_path):
    args = ("bench", "--quick", "--experiments", "goals", "--boards", "nrf52840", "--jobs", "2")
    off = cli(*args, "--out", tmp_path / "off")
    assert off.returncode == 0, off.stderr
    assert off.stderr == "microlearn bench: 3 cases on nrf52840 with 2 process(es)\n"
    on = cli(*args, "--out", tmp_path / "on", progress="1")
    assert on.returncode == 0, on.stderr

    def same(text):   # the wall time and the output folder differ
        return re.sub(r"in \d+ s", "in N s", text).replace(str(tmp_path / "on"), "OUT").replace(
            str(tmp_path / "off"), "OUT")
    assert same(on.stdout) == same(off.stdout)
    shown = screen(on.stderr)
    assert shown[0] == "microlearn bench: 3 cases on nrf52840 with 2 process(es)"
    # under load the run can pass a minute: the bar then prints 1m07s
    assert re.fullmatch(r"bench: 3/3 cases in (\d+(\.\d)?s|\d+m\d\ds) \(.*\)", shown[1]), shown
    assert any("done: goal iris n=100 nrf52840" in d for d in drawn(on.stderr))


# --- serial, against a fake board (the emulated-board sessions are in tests/deploy/test_sketch.py) ---------

class FakeDevice:
    def __init__(self):
        self.info = SimpleNamespace(kind="loop", n_features=4, n_classes=3, capacity=24, version=(0, 1, 0))
        self.seen = 0

    def feedback(self, x, y):
        self.seen += 1
        return SimpleNamespace(prediction=int(y) if self.seen % 3 else (int(y) + 1) % 3,
                               event="accepted" if self.seen == 10 else None)

    def predict(self, x):
        return 1


@pytest.fixture
def fake_board(monkeypatch):
    link = SimpleNamespace(resends=0, stale=0, text_lines=["READY"])
    monkeypatch.setattr(serial_cmd, "_connect", lambda args: (FakeDevice(), link))


@pytest.fixture
def rows_csv(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), np.arange(30) % 3
    p = tmp_path / "rows.csv"
    write_csv(p, X, y)
    np.savetxt(tmp_path / "features.csv", X, delimiter=",")
    return p


def run_main(capsys, *args):
    rc = cli_main.main(list(map(str, args)))
    out, err = capsys.readouterr()
    return rc, out, err


def test_serial_feedback_bar_replaces_the_old_counter(fake_board, rows_csv, capsys, monkeypatch):
    monkeypatch.setenv(ENV, "0")
    rc, plain, err = run_main(capsys, "serial", "--port", "fake", "--feedback", rows_csv)
    assert rc == 0 and err == ""
    assert "feedback: 20/30 predicted right" in plain
    monkeypatch.setenv(ENV, "1")
    rc, out, err = run_main(capsys, "serial", "--port", "fake", "--feedback", rows_csv, "--predict",
                           rows_csv.with_name("features.csv"))
    assert rc == 0
    shown = screen(err)
    assert shown[0].startswith("feedback: 30/30 rows in ") and shown[1].startswith("predict: 30/30 rows in ")
    assert any(re.match(r"feedback: \d+/30 rows +\d+% \[", d) for d in drawn(err))
    assert out.startswith(plain.rsplit("  link:", 1)[0])


def test_serial_json_no_progress_unless_forced(fake_board, rows_csv, capsys, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    rc, out, err = run_main(capsys, "serial", "--port", "fake", "--feedback", rows_csv, "--json")
    assert rc == 0 and err == ""
    monkeypatch.setenv(ENV, "1")                 # forced on: bars on stderr, the JSON on stdout unchanged
    rc, out_on, err_on = run_main(capsys, "serial", "--port", "fake", "--feedback", rows_csv, "--json")
    assert rc == 0 and out_on == out and json.loads(out)["feedback"]["rows"] == 30
    assert "feedback: 30/30 rows" in screen(err_on)[0]


# --- calibrate --sketches: a step per board and kind (measuring itself is faked: it takes minutes) --------

def test_calibrate_sketches_counts_boards_and_kinds(monkeypatch, capsys, tmp_path):
    from microlearn.deploy import sketch_calibrate as sc
    measured = []

    def measure(kind, board, library, work, **kw):
        measured.append((board, kind))
        time.sleep(0.25)      # a step long enough for its name to be drawn (at most ~10 redraws a second)
        return {"planned": {"flash": 10, "static": 5, "stack": 3}, "measured": {"flash": 15, "static": 7, "stack": 4}}
    monkeypatch.setattr(sc, "measure", measure)
    monkeypatch.setattr(sc, "build_library", lambda path: path)
    monkeypatch.setattr(sc, "write", lambda cal, path=None: tmp_path / "sketch_calibration.json")
    monkeypatch.setenv(ENV, "1")
    rc, out, err = run_main(capsys, "calibrate", "--sketches", "--boards", "uno,samd21")
    assert rc == 0 and len(measured) == 2 * len(sc.KINDS)
    # stdout: the log lines and the file, as before; stderr: the bar, named per board and kind
    assert out.splitlines()[0].startswith("uno train: measured ") and out.endswith("sketch_calibration.json\n")
    assert screen(err)[0].startswith(f"sketch calibration: {2 * len(sc.KINDS)}/{2 * len(sc.KINDS)} sketches in ")
    for board, kind in measured:    # each named while measured (a line is cut at 80 columns: a long name's start)
        note = f"{board} {kind}"
        assert any(note in d or (len(d) >= 79 and note.startswith(d.split("  ")[-1])) for d in drawn(err)), note
    monkeypatch.delenv(ENV)
    measured.clear()
    rc, out_off, err = run_main(capsys, "calibrate", "--sketches", "--boards", "uno,samd21")
    assert rc == 0 and err == "" and out_off == out
