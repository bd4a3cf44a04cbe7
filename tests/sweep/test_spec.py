"""Sweep specifications are checked before any work: one clear error naming the key, for hostile input too
(unknown keys, wrong types, huge grids, paths that are not files)."""
import os
import subprocess
import sys

import pytest

from microlearn.cli import main as cli_main
from microlearn.sweep.spec import MAX_TASKS, SpecError, parse_spec, read_spec

from sweep_cases import REFERENCE_SPEC, TRAIN_SPEC, write_spec  # noqa: F401 (a fixture)

GOOD_HEAD = '[sweep]\nkind = "train"\n'


def test_a_grid_expands_to_its_product_with_defaults_filled_in():
    spec = parse_spec(TRAIN_SPEC)
    tasks = spec.tasks()
    assert spec.count() == len(tasks) == 4
    assert {(t["params"]["n"], t["params"]["kernel"]) for t in tasks} == {(12, "linear"), (12, "rbf"),
                                                                           (24, "linear"), (24, "rbf")}
    assert all(t["params"]["split"] == "shuffled" and t["params"]["C"] == 1.0 for t in tasks)
    assert spec.measures[0] == "status"
    assert parse_spec(REFERENCE_SPEC).count() == 12


def test_several_grids_concatenate_and_duplicates_count_once():
    spec = parse_spec(GOOD_HEAD + '[[grid]]\ntarget = "host"\ndataset = "iris"\nn = [10, 20, 10]\n'
                      '[[grid]]\ntarget = "host"\ndataset = ["iris", "wine"]\nn = 20\n')
    params = [(t["params"]["dataset"], t["params"]["n"]) for t in spec.tasks()]
    assert params == [("iris", 10), ("iris", 20), ("wine", 20)]


@pytest.mark.hostile
@pytest.mark.parametrize("text, words", [
    ("not = [toml", "not valid TOML"),
    ('[grid]\ntarget = "host"\n', "[sweep] table is required"),
    ('[sweep]\nkind = "bake"\n[grid]\n', "kind must be one of train, loop, reference"),
    ('[sweep]\nkind = "train"\nworkers = 4\n[grid]\ntarget = "host"\ndataset = "iris"\n', "unknown key(s) 'workers'"),
    ('[sweep]\nkind = "train"\n[extra]\n[grid]\n', "unknown section(s) 'extra'"),
    (GOOD_HEAD, "a [grid] table"),
    (GOOD_HEAD + '[grid]\ndataset = "iris"\n', "target required"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nkernal = "rbf"\n', "unknown key(s) 'kernal'"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nn = "ten"\n', "n = 'ten': expected an integer"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nn = true\n', "n = True: expected"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nC = -1.0\n', "C = -1.0: expected a finite number > 0"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nC = nan\n', "C = nan"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nC = inf\n', "C = inf"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nkernel = []\n', "kernel: an empty list"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nkernel = [["rbf"]]\n', "not nested"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nkernel = {a = 1}\n', "not nested"),
    (GOOD_HEAD + '[grid]\ntarget = "pdp11"\ndataset = "iris"\n', "unknown board"),
    (GOOD_HEAD + '[grid]\ntarget = "esp32"\ndataset = "iris"\n', "not emulated here"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "/etc/passwd"\n', "dataset = '/etc/passwd': expected one of"),
    (GOOD_HEAD + '[grid]\ntarget = "host"\ndataset = "iris"\nsolver = "' + "x" * 300 + '"\n', "more than 200 characters"),
    ('[sweep]\nkind = "train"\nmeasures = ["accuracy", "rm -rf"]\n[grid]\ntarget = "host"\ndataset = "iris"\n',
     "measures: unknown for kind train: 'rm -rf'"),
    ('[sweep]\nkind = "train"\nmax_tasks = 1e9\n[grid]\n', "max_tasks must be an integer in 1..100,000"),
    ('[sweep]\nkind = "train"\ntimeout = -5\n[grid]\n', "timeout must be a number of seconds"),
    ('[sweep]\nkind = "train"\nbaselines = true\n[grid]\ntarget = "host"\ndataset = "iris"\n', "baselines apply"),
    ('[sweep]\nkind = "reference"\n[grid]\nscenario = "rotating_hyperplane"\nrows = 100000\n', "rows = 100000"),
    ('[sweep]\nkind = "reference"\n[grid]\nscenario = "rotating_hyperplane"\ntarget = "uno"\n', "unknown key(s) 'target'"),
])
def test_a_bad_spec_is_one_error_naming_what_is_wrong(text, words):
    with pytest.raises(SpecError) as exc:
        parse_spec(text, "s.toml")
    msg = str(exc.value)
    assert msg.startswith("s.toml"), msg
    assert words in msg, msg
    assert "\n" not in msg


@pytest.mark.hostile
def test_a_huge_grid_is_refused_before_it_is_expanded():
    # 100^4 = 10^8 tasks: refused from the product of the lengths, without building a list of them
    values = "[" + ", ".join(str(i) for i in range(2, 102)) + "]"
    text = (GOOD_HEAD + f'[grid]\ntarget = "host"\ndataset = "iris"\nn = {values}\nmax_iter = {values}\n'
            f'max_passes = {values}\ndegree = [{", ".join(str(i) for i in range(1, 101))}]\n')
    with pytest.raises(SpecError, match=r"expands to 100,000,000 tasks, more than max_tasks = 10,000"):
        parse_spec(text)
    over_cap = GOOD_HEAD.replace('"train"\n', f'"train"\nmax_tasks = {MAX_TASKS + 1}\n') + '[grid]\n'
    with pytest.raises(SpecError, match="max_tasks must be"):
        parse_spec(over_cap)


@pytest.mark.hostile
def test_spec_files_that_are_not_regular_small_text(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        read_spec(tmp_path / "missing.toml")
    with pytest.raises(SpecError, match="not a regular file"):
        read_spec(tmp_path)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * ((1 << 20) + 1))
    with pytest.raises(SpecError, match="larger than 1 MB"):
        read_spec(big)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError, match="not UTF-8"):
        read_spec(binary)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.toml"
        os.mkfifo(fifo)
        with pytest.raises(SpecError, match="not a regular file"):    # never opened: it would block
            read_spec(fifo)


@pytest.mark.hostile
@pytest.mark.parametrize("args, words", [
    (["sweep", "{bad}"], "microlearn sweep: error: {bad}: [sweep] kind must be one of"),
    (["sweep", "{good}", "--workers", "0"], "microlearn sweep: error: --workers must be an integer in 1..1024"),
    (["sweep", "{good}", "--out", "{file}"], "exists and is not a folder"),
    (["sweep", "{good}", "--scheduler", "tcp://a b"], "--scheduler: not an address"),
    (["fleet", "--devices", "0"], "microlearn fleet: error: --devices must be an integer in 1..1,000,000"),
    (["fleet", "--scenario", "tsunami"], "--scenario: unknown 'tsunami'"),
    (["fleet", "--rows", "5000"], "--rows must be an integer in 10..600"),
    (["fleet", "--storage", "float64"], "--storage float64: expected one of float32, int16, int8"),
    (["fleet", "--confirm", "1", "--board", "host"], "--board: an emulated board"),
])
def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys, args, words):
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nkind = "bake"\n')
    good = tmp_path / "good.toml"
    good.write_text(TRAIN_SPEC)
    afile = tmp_path / "afile"
    afile.write_text("x")
    argv = [a.format(bad=bad, good=good, file=afile) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    rc = cli_main.main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words.format(bad=bad) in lines[0], lines
    assert not (tmp_path / "out" / "cache").exists()      # nothing ran


def test_dry_run_lists_the_tasks_without_dask(write_spec, tmp_path):
    spec = write_spec(TRAIN_SPEC)
    r = subprocess.run([sys.executable, "-m", "microlearn", "sweep", str(spec), "--dry-run"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "host-train: 4 train tasks"


def test_the_example_specs_are_valid():
    from pathlib import Path
    from microlearn.sweep.spec import read_spec
    folder = Path(__file__).resolve().parents[2] / "examples" / "sweeps"
    counts = {p.stem: read_spec(p).count() for p in sorted(folder.glob("*.toml"))}
    assert counts["small"] == 24 and counts["seeds"] == 374
    assert set(counts) >= {"small", "seeds", "loop", "reference"}


def test_a_worker_with_another_runtime_refuses_the_task():
    from microlearn.sweep.tasks import run_task
    task = {**parse_spec(REFERENCE_SPEC).tasks()[0], "runtime": "0.0.0/0/other/other"}
    rec = run_task(task)
    assert rec["status"] == "error" and "runs another microlearn" in rec["message"]
    assert "accuracy" not in rec


def test_an_unreachable_scheduler_is_one_error_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    from microlearn.sweep import engine
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 1)
    spec = tmp_path / "s.toml"
    spec.write_text(REFERENCE_SPEC)
    # port 9 (discard) on the loopback: nothing listens there in a test machine
    rc = cli_main.main(["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o"),
                        "--no-plots"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("microlearn sweep: error: cannot reach the scheduler tcp://127.0.0.1:9"), err
