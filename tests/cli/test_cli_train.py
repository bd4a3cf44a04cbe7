"""`microlearn train` from the command line: JSON report, readable summary, one-line errors."""
import json
import subprocess
import sys

import numpy as np
import pytest

from microlearn.data.datasets import load, write_csv
from conftest import need

KEYS = {"target", "n_train", "n_test", "n_features", "classes", "solver", "kernel", "status", "iterations",
        "accuracy", "python_accuracy", "agreement", "max_alpha_diff", "flash_bytes", "sram_bytes", "seconds"}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "microlearn.cli.main", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    X, y = load("iris3")
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    p = tmp_path_factory.mktemp("d") / "iris.csv"
    write_csv(p, X, names, label="species")
    return p


def test_json_report_host(iris_csv):
    r = cli("train", iris_csv, "--target", "host", "--kernel", "rbf", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert KEYS <= rep.keys()
    assert rep["classes"] == ["setosa", "versicolor", "virginica"]
    assert rep["n_train"] == 105 and rep["n_test"] == 45
    assert rep["agreement"] == 1.0 and rep["max_alpha_diff"] == 0.0 and rep["status"] == "converged"
    assert rep["seconds_kind"] == "wall" and rep["seconds"] > 0


def test_dcd_from_the_command_line(iris_csv):
    r = cli("train", iris_csv, "--solver", "dcd", "--loss", "squared_hinge", "--storage", "int16", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["solver"] == "dcd" and rep["loss"] == "squared_hinge" and rep["kernel"] == "linear"
    assert rep["agreement"] == 1.0 and rep["max_alpha_diff"] == 0.0 and rep["intercept_identical"]
    assert rep["iterations"] == rep["python_iterations"] and rep["status"] == "converged"
    r = cli("train", iris_csv, "--solver", "dcd")
    assert r.returncode == 0 and "dcd solver (hinge loss)" in r.stdout, r.stdout + r.stderr


def test_test_file_label_column_and_no_shuffle(iris_csv, tmp_path):
    X, y = load("iris")
    write_csv(tmp_path / "tr.csv", X[:100], y[:100], label="target")
    write_csv(tmp_path / "te.csv", X[100:], y[100:], label="target")
    r = cli("train", tmp_path / "tr.csv", "--test", tmp_path / "te.csv", "--label", "target", "--solver",
            "simplified", "--storage", "int8", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["n_train"] == 100 and rep["n_test"] == 50 and rep["agreement"] == 1.0
    r = cli("train", iris_csv, "--no-shuffle", "--test-size", "0.2")
    assert r.returncode == 0 and "agreement 100.0%" in r.stdout


@pytest.mark.parametrize("content, message", [   # errors read "what (file, line N)"
    ("a,b,label\n1,2,x\n3,,y\n", "missing value in column 'b' ("),
    ("a,b,label\n1,2,x\n3,oops,y\n", "non-numeric value 'oops' in feature column 'b' ("),
    ("a,b,label\n1,2,x\n3,4\n", "2 fields, the header has 3 ("),
    ("a,b,label\n1,2,x\n3,4,x\n5,6,x\n", "1 class"),
    ("a,b,label\n1,nan,x\n3,4,y\n", "non-finite"),
])
def test_bad_csv_one_line_error(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    r = cli("train", p, "--test-size", "0.34")
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    if message.endswith("("):
        assert lines[0].endswith("bad.csv, line 3)"), r.stderr


def test_bad_arguments(iris_csv):
    for args, msg in [(("--C", "0"), "C must be > 0"), (("--gamma", "big"), "--gamma must be"),
                      (("--target", "pdp11"), "unknown board"), (("--capacity", "10"), "exceed")]:
        r = cli("train", iris_csv, *args)
        assert r.returncode != 0 and msg.lower() in r.stderr.lower(), (args, r.stderr)
    r = cli("train", "/nonexistent.csv")
    assert r.returncode != 0 and "cannot open" in r.stderr


@pytest.mark.avr
@need("avr-gcc")
def test_train_on_uno_reports_exact_cycles(iris_csv):
    r = cli("train", iris_csv, "--target", "uno", "--storage", "int8", "--json", "--predict-cost")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["agreement"] == 1.0 and rep["max_alpha_diff"] == 0.0
    assert rep["cycles"] > 0 and rep["seconds_kind"] == "exact"
    assert abs(rep["seconds"] - rep["cycles"] / 16e6) < 1e-9
    assert rep["sram_bytes"] == rep["static_ram_bytes"] + rep["stack_bytes"] <= 2048
    assert 0 < rep["flash_bytes"] <= 32768
    # --predict-cost: one prediction, exact cycles, far below the training's; no energy without a cited current
    assert 0 < rep["infer_cycles"] < rep["cycles"] / 100
    assert rep["infer_seconds"] == pytest.approx(rep["infer_cycles"] / 16e6)
    assert rep["energy_mj"] is None and rep["infer_energy_mj"] is None and "8 MHz" in rep["energy_missing"]
