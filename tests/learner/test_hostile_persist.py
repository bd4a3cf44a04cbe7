"""Persistence against hostile storage (hardening issue, item 5 and the end of item 8).

Found: mlrn_learner_load validated the stored labels on one read and copied them on another (a flip on the
copying read gave MLRN_OK with label 16, and the next retrain wrote out of bounds); mlrn_persist_load had the
same check-then-read pattern; a save programmed some words of ECC flash (8-byte program words) twice; a forged
seen count made the next reservoir draw divide by zero; mlrn_learner_save refused models over 64 KB.

Now every byte that is used is read once and checked as read (the CRC is computed over the copy; the learner
validates every length and index against its own capacities before it copies, and the copied labels, rows and
ring after), storages state their program word, and saves program each word once between erases.

The C drivers are tests/learner/c/persist_faults.c and tests/learner/c/persist_program_word.c, built with the
project's warning and sanitizer flags (ASan + UBSan, no recovery: tests/runtime/test_runtime_robustness.py)."""
from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from microlearn.learner import persist_format as pf

from compile_c import SANITIZE, compile_c, host_compilers, run_sanitized

COMPILERS = host_compilers()

pytestmark = pytest.mark.hostile
C_DIR = Path(__file__).resolve().parent / "c"
GCC = [c for c in COMPILERS if c[0] == "gcc-c99"]
GXX = [c for c in COMPILERS if c[0] == "g++-c++11"]
WORDS = (2, 4, 8, 16, 32)


def _lines(out: str) -> dict[str, dict[str, int]]:
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^([A-Z_]+) (.*)$", out, re.M)}


def _row(out: str, prefix: str) -> dict[str, int]:
    rows = [ln for ln in out.splitlines() if ln.startswith(prefix)]
    assert len(rows) == 1, out
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", rows[0])}


def _checked(proc, what: str) -> str:
    assert "runtime error" not in proc.stderr and "Sanitizer" not in proc.stderr, f"{what}:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, f"{what}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def _exe(tmp_path_factory, source: str, compilers=None):
    if not (compilers or GCC):
        pytest.skip("no host gcc")
    name, cc, lang = (compilers or GCC)[0]
    work = tmp_path_factory.mktemp(source.replace(".c", ""))
    exe = work / f"{name}.exe"
    compile_c(C_DIR / source, exe, compiler=cc, lang=lang, opt="-O1", extra=SANITIZE)
    return exe


def _run(exe, *args, timeout: float = 120):
    return run_sanitized(exe, *args, timeout=timeout)


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    """persist_faults.c, its four sections run at once."""
    exe = _exe(tmp_path_factory, "persist_faults.c")
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda sec: _checked(_run(exe, sec, timeout=600), sec), ("lie", "rest", "forged", "big")))
    return _lines("\n".join(outs))


@pytest.fixture(scope="module")
def words_exe(tmp_path_factory):
    return _exe(tmp_path_factory, "persist_program_word.c")


@pytest.fixture(scope="module")
def words(words_exe):
    return _checked(_run(words_exe, timeout=300), "persist_program_word")


# ---------------------------------------------------------------- (1) a storage that answers differently

@pytest.mark.parametrize("case", ["MODEL", "ALL", "MIXED"])
def test_lying_storage_learner_load_gives_a_saved_state_or_an_error(faults, case):
    """Every byte of both slots (headers and payloads; mlrn_learner_save, save_all, one of each) comes back
    with a bit flipped on its 1st, 2nd or 3rd read (that read only, or from then on): load returns an error
    or exactly one of the two saved states, never anything else; the learner it leaves behind (loaded or
    refused) has every index in range and keeps learning, retrains included, under ASan/UBSan."""
    r = faults[f"LIE_{case}"]
    assert r["bad"] == 0 and r["dirty"] == 0, r
    assert r["loads"] == 12 * r["positions"] > 0 and r["exact"] + r["refused"] == r["loads"], r
    assert r["refused"] > 0   # flips on the copying read are caught by the CRC over the copy
    # a byte that reads wrong the first time is never used: the other slot loads instead
    assert r["ok_first"] == 2 * r["positions"], r


def test_lying_storage_persist_load_reads_each_byte_once(faults):
    """mlrn_persist_load copies each byte once and checks the CRC over the copy: a byte flipped on any read
    never comes back, and since only one byte lies the other slot is always there to load."""
    r = faults["LIE_PERSIST"]
    assert r["bad"] == 0 and r["exact"] == r["loads"] > 3000, r


# ---------------------------------------------------------------- (2) bit flips at rest

@pytest.mark.parametrize("case", ["MODEL", "ALL", "MIXED"])
def test_single_bit_flip_at_rest_loads_the_other_slot(faults, case):
    """Every bit of both slots, flipped at rest: the learner loads the other slot's state exactly; with both
    slots damaged, load answers MLRN_ERR_CRC and the learner is unchanged."""
    r = faults[f"REST_{case}"]
    assert r["bad"] == 0 and r["dirty"] == 0, r
    assert r["other"] == r["flips"] > 1000 and r["both_damaged_unchanged"] > 10, r


def test_single_bit_flip_at_rest_persist_load(faults):
    r = faults["REST_PERSIST"]
    assert r["bad"] == 0 and r["other"] == r["flips"] > 1000, r


# ---------------------------------------------------------------- payloads that pass their CRC

def test_forged_payloads_never_index_out_of_bounds(faults):
    """A CRC collision (or a writer's bug) must not get an out-of-range length or index through: every byte of a
    model and of a save_all payload replaced by 6 values, every state field all ones, every length cut short or
    padded, each saved with a valid CRC. load refuses (MLRN_ERR_CRC / MLRN_ERR_ARG) or gives a learner whose
    labels, class map, store sizes and window ring are in range, and which then trains (reservoir and balanced
    eviction) with no sanitizer report. Before, a forged seen count made the next reservoir draw divide by 0."""
    r = faults["FORGED"]
    assert r["bad"] == 0 and r["dirty"] == 0, r
    assert r["loads"] > 1500 and r["ok"] > 0 and r["refused"] > 0, r


# ---------------------------------------------------------------- (4) over 64 KB

def test_learner_save_handles_models_over_64_kb(faults):
    r = faults["BIG"]
    assert r["bytes"] > 65535
    assert (r["saved"], r["loaded"], r["same"]) == (16, 16, 1), r              # MLRN_OK + 16, identical
    assert (r["saved_all"], r["loaded_all"], r["same_all"]) == (16, 16, 1), r


# ---------------------------------------------------------------- (3) flash with program words

@pytest.mark.parametrize("w", WORDS)
def test_flash_program_words_once_every_length_and_power_cuts(words, w):
    """Program words of 2..32 bytes: no write that is not whole aligned words, no word programmed twice without
    an erase, no partial page erase; every length (odd ones, up to the slot's capacity; one chunk or chunks of
    1, 3, 16 bytes) loads back exactly; a power cut at every word programmed and page erased, the word or page
    at the cut untouched or torn (a torn word fails its reads, like an ECC error), over a previous payload and
    on blank flash: the previous payload (or none) or the new one loads, and the next save succeeds."""
    r = _row(words, f"WORD w={w} ")
    assert r["violations"] == 0 and r["lost"] == 0, r
    assert r["exact"] == r["saves"] > 4 * (2 * w + 37), r
    assert r["resaved"] == r["cuts"] == r["old"] + r["none"] + r["new"] > 0, r
    assert r["old"] > 0 and r["none"] > 0 and r["new"] == 4, r


@pytest.mark.parametrize("w", WORDS[1:])
def test_learner_on_program_word_flash(words, w):
    """A learner saving (save / save_all every 10 rows) on such flash: each save loads into a rebooted learner
    identical to the saver; a power cut at every operation of a save_all (clean and torn) leaves the old or
    the new state, which saves again."""
    r = _row(words, f"LEARNER w={w} ")
    assert r["violations"] == 0 and r["lost"] == 0, r
    assert r["same"] == r["saves"] == 20, r
    assert r["old"] + r["new"] == r["cuts"] and r["old"] > 0 and r["new"] == 2, r


def test_storage_descriptions_that_cannot_work_are_refused(words_exe):
    out = _checked(_run(words_exe, "api"), "api")
    got = dict(re.findall(r"(\w+)=(-?\d+)/\d+", out))
    assert got == {"word3": "15", "word64": "15", "word8_no_erase": "15", "word8_misaligned_slots": "15",
                           "word32_too_small": "15", "word32_ok": "16", "word8_ok": "16", "word0_bytes": "16",
                           "word1_bytes": "16"}, out   # MLRN_ERR_ARG (-1) + 16, MLRN_OK + 16
    caps = dict(re.findall(r"(\w+)=-?\d+/(\d+)", out))
    assert caps["word8_ok"] == "1000" and caps["word32_ok"] == "192" and caps["word1_bytes"] == "1004"


# ---------------------------------------------------------------- the Python twin

def _pay(n: int, seed: int) -> bytes:
    return bytes((seed * 31 + i * 7 + (i >> 3)) & 0xFF for i in range(n))


@pytest.mark.parametrize("w", (1,) + WORDS)
def test_python_twin_writes_the_c_flash_image(words_exe, w):
    """The Python model of a save on program-word flash is byte-identical to the C one (padding included)."""
    out = _checked(_run(words_exe, "image", w), "image")
    c_image = bytes.fromhex(re.search(r"^IMAGE ([0-9a-f]+)$", out, re.M).group(1))
    img = pf.new_image(512, word=w)
    pf.save(img, _pay(29, 1), 7, word=w)
    pf.save(img, _pay(41, 2), 8, word=w)
    assert bytes(img) == c_image
    got = pf.load(c_image, word=w)
    assert (got.tag, got.payload, got.slot) == (8, _pay(41, 2), 1)
    if w <= 4:   # byte-writable storage and words up to 4 bytes: the 20-byte layout, unchanged
        assert bytes(img) == bytes(_eeprom_image())


def _eeprom_image() -> bytearray:
    img = pf.new_image(512)
    pf.save(img, _pay(29, 1), 7)
    pf.save(img, _pay(41, 2), 8)
    return img


@pytest.mark.parametrize("w", WORDS)
@pytest.mark.parametrize("seqs", [(1, 2), (0xFFFFFFFF, 0), (5, 4)])
def test_c_reads_python_flash_images(words_exe, w, seqs):
    img = pf.new_image(1024, word=w)
    pf.write_slot(img, 0, _pay(33, 3), seqs[0], tag=11, word=w)
    pf.write_slot(img, 1, _pay(17, 4), seqs[1], tag=12, word=w)
    want = pf.load(img, word=w)
    out = _checked(_run(words_exe, "read", w, bytes(img).hex()), "read")
    m = re.search(r"^LOAD (-?\d+) (\d+) (\d+) ([0-9a-f]*)$", out, re.M)
    assert m and (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (0, want.tag, want.length), out
    assert bytes.fromhex(m.group(4)) == want.payload
    # and a slot written for another word size is not taken for this one
    other = pf.new_image(1024, word=w)
    pf.write_slot(other, 0, _pay(33, 3), 1, tag=11, word=8 if w != 8 else 16)
    out = _checked(_run(words_exe, "read", w, bytes(other).hex()), "read")
    assert out.startswith("LOAD -9 "), out


def test_python_twin_padding_and_checks():
    for w in WORDS:
        slot = pf.encode_slot(b"abc", 3, 9, word=w)
        assert len(slot) % w == 0 and slot[-1] == 0xFF and pf.header_size(w) == max(4, w) + max(16, w)
    assert [pf.header_size(w) for w in (1, 2, 4, 8, 16, 32)] == [20, 20, 20, 24, 32, 64]
    with pytest.raises(ValueError):
        pf.header_size(3)
    with pytest.raises(ValueError):
        pf.save_ops(pf.new_image(512, word=8), b"x", word=8)   # program words need an erase
    with pytest.raises(ValueError):
        pf.capacity(2 * 252, word=8)                            # slots must start on a word


# ---------------------------------------------------------------- builds

@pytest.mark.skipif(not GXX, reason="no g++")
def test_drivers_are_cxx_clean(tmp_path_factory):
    for src in ("persist_faults.c", "persist_program_word.c"):
        exe = _exe(tmp_path_factory, src, GXX)
        _checked(_run(exe, "big" if src == "persist_faults.c" else "api"), src)


@pytest.mark.skipif(shutil.which("avr-gcc") is None or shutil.which("avr-nm") is None, reason="no avr-gcc")
def test_avr_writer_keeps_one_program_word(tmp_path):
    """On AVR (byte-writable EEPROM) the writer holds a 1-byte word unless MLRN_PERSIST_MAX_WORD asks for more:
    the RAM a save needs grows by exactly the word; a storage with a larger word than the build holds is refused."""
    sizes = {}
    for word in (None, 8):
        obj = tmp_path / f"w{word}.o"
        compile_c(C_DIR / "persist_writer_sizes.c", obj, board="uno", stage="object",
                  defines={"MLRN_PERSIST_MAX_WORD": word} if word else None)
        nm = subprocess.run(["avr-nm", "-S", str(obj)], check=True, capture_output=True, text=True).stdout
        sizes[word] = {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^\S+ (\S+) \S (\w+)$", nm, re.M)}
    assert sizes[8]["writer"] - sizes[None]["writer"] == 7
    assert sizes[None]["writer"] <= 28 and sizes[None]["reader"] <= 32, sizes


def test_reservoir_counters_saturate_in_c_and_python(tmp_path_factory):
    """seen_train / seen_hold are uint32: they used to wrap to 0 after 2^32 - 1 samples (about 1.4 years
    at 100 samples/s), and the next reservoir draw divided by zero. They saturate now, in the C learner
    and its Python reference alike, and the draws that follow agree."""
    import numpy as np

    from microlearn.learner.config import LearnerConfig
    from microlearn.learner.reference import RefLearner
    out = _checked(_run(_exe(tmp_path_factory, "learner_seen_saturates.c")), "learner_seen_saturates")
    c_rows = [tuple(map(int, ln.split())) for ln in out.splitlines()]
    ref = RefLearner(LearnerConfig(n_features=2, n_classes=2, capacity=4, holdout_every=0, replace="reservoir",
                                   k_mistakes=0, trigger_window=0, seed=7))
    for i in range(4):
        ref._insert(np.array([i, -i], np.float32), i & 1)
    ref.seen_train = 0xFFFFFFFD
    py_rows = [(ref.seen_train, ref._insert(np.array([10 + i, 1], np.float32), i & 1)) for i in range(8)]
    py_rows = [(ref_seen, where) for (_, where), ref_seen in zip(py_rows, [0xFFFFFFFE] + [0xFFFFFFFF] * 7)]
    assert c_rows == py_rows
    assert c_rows[-1][0] == 0xFFFFFFFF
