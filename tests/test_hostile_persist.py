"""Persistence against a storage that answers differently the second time (hardening issue, item 5).

mlrn_learner_load used to validate the stored labels on one read and copy them on another: a flip on the
second read gave MLRN_OK with label 128 and the next retrain indexed out of bounds; mlrn_persist_load
checked the CRC on one read and copied on another. tests/c/persist_second_read.c flips every payload byte
on its 2nd and on its 3rd read; it runs under ASan/UBSan, and a learner that loaded keeps learning."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import microlearn

pytestmark = pytest.mark.hostile
SOURCE = Path(__file__).parent / "c" / "persist_second_read.c"
FLAGS = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wconversion", "-Wno-sign-conversion",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    exe = tmp_path_factory.mktemp("persist_faults") / "faults"
    subprocess.run(["gcc", *FLAGS, "-I", microlearn.include_dir(), str(SOURCE), "-o", str(exe)], check=True,
                   capture_output=True, text=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "runtime error" not in proc.stderr, proc.stdout + proc.stderr
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\w+) (.*)$", proc.stdout, re.M)}


@pytest.mark.parametrize("what", ["LEARNER", "MODEL"])
def test_learner_load_never_accepts_a_label_it_did_not_validate(report, what):
    r = report[what]
    assert r["bad"] == 0
    assert r["ok"] + r["refused"] == 2 * r["positions"] > 0
    assert r["refused"] > 0          # some flips hit labels or lengths and were caught


def test_persist_load_checks_what_it_copied(report):
    r = report["PERSIST"]
    assert r["bad"] == 0 and r["exact"] + r["refused"] == 2 * r["positions"]
    assert r["refused"] >= r["positions"]   # the flip on the copying read is always caught


def test_learner_save_handles_models_over_64_kb(report):
    r = report["BIG"]
    assert r["bytes"] > 65535
    assert (r["saved"], r["loaded"], r["same"]) == (16, 16, 1)   # MLRN_OK + 16 each, identical model


def test_flash_program_words_written_once_and_power_safe(tmp_path):
    """ECC flash programs whole words once between erases: a save used to program the header's and the
    payload's shared words twice. tests/c/persist_program_word.c models such flash for words of 2..16
    bytes and counts every violation; saves of every length load back, and a power cut after every
    programmed word leaves the previous payload (or the committed new one)."""
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    exe = tmp_path / "words"
    subprocess.run(["gcc", *FLAGS, "-I", microlearn.include_dir(), str(SOURCE.with_name("persist_program_word.c")),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "runtime error" not in proc.stderr, proc.stdout + proc.stderr
    rows = [{k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", ln)} for ln in proc.stdout.splitlines()
            if ln.startswith("WORD")]
    assert [r["w"] for r in rows] == [2, 4, 8, 16]
    for r in rows:
        assert r["violations"] == 0 and r["lost"] == 0, r
        assert r["exact"] == r["saves"] > 2 * r["w"], r
        assert r["new"] == 1 and r["old"] == r["cuts"] - 1 > 0, r
