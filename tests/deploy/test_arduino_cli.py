"""`microlearn arduino-library OUT_DIR [--zip] [--install]`: writes the tree (and the zip, the installed copy);
a bad OUT_DIR is one line on stderr and exit status 2."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

import microlearn


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "microlearn.cli.main", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def test_writes_the_tree_the_zip_and_installs(tmp_path):
    out = tmp_path / "dist" / "microlearn"
    r = cli("arduino-library", out, "--zip", "--install", env={"ARDUINO_LIBRARIES": str(tmp_path / "sketchbook")})
    assert r.returncode == 0, r.stderr
    assert (out / "library.properties").is_file() and (out / "src" / "microlearn.h").is_file()
    assert sorted(p.name for p in (out / "examples").iterdir()) == ["ExportedModel", "SelfLearningLoop",
                                                                    "TrainOnDevice"]
    z = tmp_path / "dist" / f"microlearn-{microlearn.__version__}.zip"
    assert zipfile.ZipFile(z).namelist()[0] == "microlearn/"
    installed = tmp_path / "sketchbook" / "microlearn"
    assert (installed / "library.properties").read_bytes() == (out / "library.properties").read_bytes()
    lines = r.stdout.splitlines()
    n_files = sum(1 for p in out.rglob("*") if p.is_file())
    assert lines[0] == f"wrote the microlearn {microlearn.__version__} Arduino library to {out} ({n_files} files)"
    assert str(z) in lines[1] and str(installed) in lines[2]
    again = cli("arduino-library", out)                       # an earlier microlearn library: rewritten
    assert again.returncode == 0, again.stderr


@pytest.mark.hostile
@pytest.mark.parametrize("case", ["non_empty", "a_file", "under_a_file", "symlink"])
def test_bad_out_dir_is_one_line_and_exit_2(tmp_path, case):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "link").symlink_to(busy)
    target = {"non_empty": busy, "a_file": tmp_path / "afile", "under_a_file": tmp_path / "afile" / "lib",
              "symlink": tmp_path / "link"}[case]
    r = cli("arduino-library", target)
    assert r.returncode == 2, r
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith("microlearn arduino-library: error: ")
    assert (busy / "keep.txt").read_text() == "mine" and (tmp_path / "afile").read_text() == "x"


def test_install_refuses_a_foreign_folder(tmp_path):
    other = tmp_path / "libs" / "microlearn"
    other.mkdir(parents=True)
    (other / "x.h").write_text("not ours")
    r = cli("arduino-library", tmp_path / "out" / "microlearn", "--install", "--libraries", tmp_path / "libs")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "refusing to overwrite" in r.stderr
    assert (other / "x.h").read_text() == "not ours"


def test_usage_errors(tmp_path):
    r = cli("arduino-library")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = cli("arduino-library", tmp_path / "m", "--libraries", tmp_path)
    assert r.returncode == 2 and "--install" in r.stderr and not (tmp_path / "m").exists()
    r = cli("--help")
    assert "arduino-library" in r.stdout
