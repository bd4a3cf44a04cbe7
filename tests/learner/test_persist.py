"""Power-safe persistence (mlrn_persist.h): host and simavr fault injection, format interop.

The C programs are test drivers in c/: a host driver (persist_host_driver.c: RAM-backed storage
with a power-cut injector, commands on stdin) and an ATmega328P firmware using the avr-libc EEPROM
callbacks (persist_avr_eeprom_firmware.c), run by support/avr/eeprom_runner.c which preloads/dumps
the EEPROM and cuts the power after N EEPROM byte writes.
"""
from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from microlearn.targets.simavr_quirks import misexecuted_skips
from microlearn.boards import get_board
from microlearn.learner import persist_format as pf
from microlearn.targets.base import SUPPORT_DIR

from compile_c import SANITIZE, SANITIZED_ENV, compile_c

C_DIR = Path(__file__).resolve().parent / "c"


# ----------------------------------------------------------------- host driver

def build_host_driver(exe: Path, **options) -> Path:
    """c/persist_host_driver.c, linked with the host target's mlrn_target.c (stdin / stdout); `options` go to
    compile_c."""
    compile_c([C_DIR / "persist_host_driver.c", SUPPORT_DIR / "host" / "mlrn_target.c"], exe,
              include_dirs=[SUPPORT_DIR], **options)
    return exe


def run_host_driver(exe: Path, data: bytes, env: dict[str, str] | None = None) -> str:
    """What the driver printed for the commands `data` (it must exit 0)."""
    p = subprocess.run([str(exe)], input=data, capture_output=True, timeout=120, env=env)
    assert p.returncode == 0, (p.stdout[-2000:] + p.stderr[-4000:]).decode("utf-8", "replace")
    return p.stdout.decode()


@pytest.fixture(scope="module")
def host_driver(tmp_path_factory):
    exe = build_host_driver(tmp_path_factory.mktemp("persist_host") / "persist_host_driver")
    return lambda data: run_host_driver(exe, data)


def kv(out: str) -> dict[str, int]:
    d = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            d[parts[0]] = int(parts[1])
    return d


def pay_len(k: int, cap: int) -> int:
    return (37 + 29 * k) % (cap + 1)


def pay_bytes(k: int, cap: int) -> bytes:
    return bytes((k * 131 + i * 7 + (i >> 3) + 1) & 0xFF for i in range(pay_len(k, cap)))


def test_crc32_vector():
    assert pf.crc32(b"123456789") == 0xCBF43926


def test_unit_and_argument_validation(host_driver):
    out = host_driver(b"u")
    d = kv(out)
    assert "FAIL" not in out, out
    assert d["crc"] == 0xCBF43926 and d["crc_incremental"] == 0xCBF43926 and d["crc_empty"] == 0
    assert d["newer_1_0"] == 1 and d["newer_0_ffffffff"] == 1 and d["newer_ffffffff_0"] == 0 and d["newer_5_5"] == 0
    assert d["capacity"] == 128 - pf.HEADER_SIZE == pf.capacity(256)
    assert d["fails"] == 0


@pytest.mark.parametrize("flash", [0, 1], ids=["eeprom", "flash"])
def test_power_cut_at_every_byte_host(host_driver, flash):
    """5 saves (blank, then each over the previous), power cut at every byte of each,
    in 4 cut modes (clean, cell erased, garbage 'M', garbage 0xA5): the old or the new
    payload loads exactly, the previous slot is untouched, and saving works again."""
    out = host_driver(b"s" + struct.pack("<III", 512, flash, 5))
    d = kv(out)
    assert "FAIL" not in out, out
    assert d["fails"] == 0
    assert d["cuts"] > (2000 if not flash else 6000)
    assert d["old_kept"] + d["new_loaded"] + 4 * pay_len(1, 236) > 0


def test_flipped_bits_detected_host(host_driver):
    out = host_driver(b"b" + struct.pack("<I", 512))
    d = kv(out)
    assert "FAIL" not in out, out
    assert d["fails"] == 0 and d["flips"] > 3000


def test_c_and_cxx_and_sanitizers(tmp_path):
    """The headers are C99 and C++11 clean under -Werror, and the sweep is clean under ASan/UBSan."""
    build_host_driver(tmp_path / "cxx", lang="c++")
    build_host_driver(tmp_path / "bitwise", defines={"MLRN_CRC32_BITWISE": 1})
    san = build_host_driver(tmp_path / "san", extra=SANITIZE, opt="-O1")
    assert kv(run_host_driver(san, b"u", SANITIZED_ENV))["fails"] == 0
    assert kv(run_host_driver(san, b"s" + struct.pack("<III", 300, 1, 2), SANITIZED_ENV))["fails"] == 0


# ----------------------------------------------------------------- C <-> Python interop

def image_session(run, image: bytes, ops: bytes) -> list[str]:
    return run(b"i" + struct.pack("<I", len(image)) + bytes(image) + ops + b"q").splitlines()


def op_save(tag: int, payload: bytes) -> bytes:
    return b"s" + struct.pack("<II", tag, len(payload)) + payload


def parse_load(line: str):
    parts = line.split()
    assert parts[0] == "load"
    if int(parts[1]) != 0:
        return int(parts[1]), None
    slot, seq, tag, n = map(int, parts[2:6])
    payload = bytes.fromhex(parts[6]) if n else b""
    return 0, (slot, seq, tag, payload)


def test_c_writes_python_reads(host_driver):
    img = pf.new_image(256)
    lines = image_session(host_driver, img, op_save(7, b"model-v1") + op_save(8, b"model-v2!") + b"d")
    assert lines[0] == "save 0" and lines[1] == "save 0"
    image = bytes.fromhex(lines[2].split()[1])
    a, b = pf.parse_image(image)
    assert a.valid and a.payload == b"model-v1" and a.seq == 1 and a.tag == 7
    assert b.valid and b.payload == b"model-v2!" and b.seq == 2 and b.tag == 8
    assert pf.load(image).payload == b"model-v2!"
    assert "newest" in pf.describe(image)


def test_python_save_is_byte_identical_to_c(host_driver):
    rnd = random.Random(1)
    img = pf.new_image(300)
    ops = b""
    py = bytearray(img)
    for k in range(6):
        payload = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, pf.capacity(300) + 1)))
        ops += op_save(k, payload)
        pf.save(py, payload, tag=k)
    lines = image_session(host_driver, img, ops + b"d")
    assert lines[:6] == ["save 0"] * 6
    assert bytes.fromhex(lines[6].split()[1]) == bytes(py)


@pytest.mark.parametrize("seqs", [(0xFFFFFFFF, 0xFFFFFFFE), (0xFFFFFFFE, 0xFFFFFFFF), (0, 0xFFFFFFFF),
                                  (0x7FFFFFFF, 0x7FFFFFFE), (5, 5)])
def test_python_writes_c_reads_sequence_wrap(host_driver, seqs):
    """Python writes both slots with sequence numbers around the wrap; C must pick the
    serial-arithmetic newest, and its next saves continue the sequence across 2**32."""
    img = pf.new_image(256)
    pf.write_slot(img, 0, b"slot-A", seqs[0], tag=1)
    pf.write_slot(img, 1, b"slot-B", seqs[1], tag=2)
    want = pf.load(img)
    lines = image_session(host_driver, img, b"l" + op_save(3, b"next-1") + b"l" + op_save(4, b"next-2") + b"l" + b"d")
    st, (slot, seq, tag, payload) = parse_load(lines[0])
    assert (slot, seq, payload) == (want.slot, want.seq, want.payload)
    if seqs == (5, 5):
        assert slot == 0  # tie -> A
    for i, (line, expect) in enumerate(((lines[2], b"next-1"), (lines[4], b"next-2"))):
        _, (slot2, seq2, _, payload2) = parse_load(line)
        assert payload2 == expect and seq2 == (want.seq + 1 + i) & 0xFFFFFFFF
    final = bytes.fromhex(lines[5].split()[1])
    assert pf.load(final).payload == b"next-2"


def test_python_reader_rejects_damage():
    img = pf.new_image(128)
    pf.save(img, b"abc", tag=1)
    pf.save(img, b"defg", tag=2)
    assert pf.load(img).payload == b"defg"
    for bit in range((pf.HEADER_SIZE + 4) * 8):
        bad = bytearray(img)
        bad[64 + bit // 8] ^= 1 << (bit % 8)
        assert not pf.parse_slot(bad, 1).valid
        assert pf.load(bad).payload == b"abc"
    with pytest.raises(pf.NoValidSlot):
        pf.load(pf.new_image(128))


@pytest.mark.parametrize("erase", [False, True])
def test_python_model_of_write_order_is_power_safe(erase):
    """The documented write order, cut at every byte (Python model): old or new, never garbage."""
    img = pf.new_image(200)
    prev = None
    for k in range(4):
        payload = bytes([k + 1]) * (10 + 13 * k)
        ops = pf.save_ops(img, payload, tag=k, erase=erase)
        total = sum(o.length if o.kind == "erase" else len(o.data) for o in ops)
        for cut in range(total + 1):
            for garbage in (None, 0x4D, 0xFF):
                t = bytearray(img)
                n = pf.apply_ops(t, ops, limit=cut, flash=erase)
                if n < total and garbage is not None:
                    # the byte at the cut gets garbage
                    pos = 0
                    for o in ops:
                        ln = o.length if o.kind == "erase" else len(o.data)
                        if pos + ln > n:
                            t[o.addr + n - pos] = garbage
                            break
                        pos += ln
                got = pf.newest(t)
                if cut == total:
                    assert got.payload == payload
                elif got is None:
                    assert prev is None
                else:
                    assert got.payload in (payload, prev)
                for s in pf.parse_image(t):  # a torn slot never carries the commit mark
                    assert s.valid or s.reason == "magic"
        pf.apply_ops(img, ops, flash=erase)
        prev = payload


# ----------------------------------------------------------------- AVR EEPROM on simavr

REGION_BASE, REGION_SIZE = 64, 256


@pytest.fixture(scope="module")
def avr(tmp_path_factory):
    missing = [t for t in ("avr-gcc", "cc") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing {missing}: apt-get install gcc-avr avr-libc")
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        pytest.skip("libsimavr headers missing: apt-get install libsimavr-dev")
    work = tmp_path_factory.mktemp("persist_avr")
    runner = work / "eeprom_runner"
    # eeprom_runner.c is a host tool of the AVR target (it drives libsimavr), not runtime code: built with the
    # warnings the target builds its simavr runners with (targets/_toolchain.py: -Wall -Wextra -Werror), unchecked
    # so that a libsimavr that does not link skips; tests/targets/test_hostile_emulators.py holds it to WARNINGS.
    p = compile_c(SUPPORT_DIR / "avr" / "eeprom_runner.c", runner, check=False,
                  warnings=("-Wall", "-Wextra", "-Werror"), include_dirs=["/usr/include/simavr"], libs=["-lsimavr"])
    if p.returncode:
        pytest.skip(f"cannot build eeprom_runner against libsimavr: {p.stderr[:300]}")
    elf = work / "persist_avr_eeprom_firmware.elf"
    # the uno board's flags name the MCU only; F_CPU (avr-libc's clock) is the board's, which the runner simulates
    defines = {"F_CPU": f"{get_board('uno').clock_hz}UL", "REGION_BASE": REGION_BASE, "REGION_SIZE": REGION_SIZE}
    compile_c(C_DIR / "persist_avr_eeprom_firmware.c", elf, board="uno", defines=defines)
    # The EEPROM runner is not the uno target: check what simavr would mis-execute the same way.
    assert not misexecuted_skips(elf), "simavr would run this firmware wrongly (targets/simavr_quirks.py)"
    return AvrRig(runner, elf, work)


class AvrRig:
    def __init__(self, runner, elf, work):
        self.runner, self.elf, self.work = runner, elf, work
        self.n = 0

    def run(self, image: bytes | None, commands: bytes, cut: int = -1, mode: str = "clean", garbage: int = 0):
        self.n += 1
        inp = self.work / f"in{self.n % 2}.bin"
        out = self.work / f"out{self.n % 2}.bin"
        if image is not None:
            inp.write_bytes(image)
        p = subprocess.run([str(self.runner), "atmega328p", "16000000", "200000000", str(self.elf),
                            str(inp) if image is not None else "-", str(out), str(cut), mode, str(garbage)],
                           input=commands, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        rep = dict(re.findall(r"(\w+)=(\w+)", p.stderr.decode().strip().splitlines()[-1]))
        assert rep["status"] == "exit", rep
        return p.stdout.decode(), out.read_bytes(), rep


def region(ee: bytes) -> bytes:
    return ee[REGION_BASE:REGION_BASE + REGION_SIZE]


def avr_loaded(out: str):
    """Parse the firmware's last 'load' line -> (status, slot, seq, version, len, bad)."""
    line = [ln for ln in out.splitlines() if ln.startswith("load")][-1].split()
    vals = tuple(int(x) for x in line[1:])
    return vals + (None,) * (6 - len(vals))


@pytest.mark.avr
def test_avr_eeprom_roundtrip_and_python_decode(avr):
    out, ee, rep = avr.run(None, b"s\x01s\x02s\x03l")
    assert out.splitlines()[:3] == ["save 0"] * 3
    st, slot, seq, ver, n, bad = avr_loaded(out)
    assert (st, seq, ver, bad) == (0, 3, 3, 0)
    cap = pf.capacity(REGION_SIZE)
    info = pf.load(region(ee))
    assert info.seq == 3 and info.tag == 0x103 and info.payload == pay_bytes(3, cap)
    assert ee[:REGION_BASE] == b"\xff" * REGION_BASE and set(ee[REGION_BASE + REGION_SIZE:]) == {0xFF}
    # Python writes an image around the sequence wrap, the device reads it and saves after it
    img = pf.new_image(REGION_SIZE)
    pf.write_slot(img, 0, pay_bytes(5, cap), 0xFFFFFFFF, tag=0x105)
    pf.write_slot(img, 1, pay_bytes(4, cap), 0xFFFFFFFE, tag=0x104)
    full = b"\xff" * REGION_BASE + bytes(img) + b"\xff" * (1024 - REGION_BASE - REGION_SIZE)
    out, ee, _ = avr.run(full, b"ls\x06l")
    lines = out.splitlines()
    first = tuple(int(x) for x in lines[0].split()[1:])
    assert first[0] == 0 and first[2] == 0xFFFFFFFF and first[3] == 5 and first[5] == 0
    st, slot, seq, ver, n, bad = avr_loaded(out)
    assert (st, slot, seq, ver, bad) == (0, 1, 0, 6, 0)
    assert pf.load(region(ee)).seq == 0 and pf.load(region(ee)).payload == pay_bytes(6, cap)


def avr_cut_sweep(avr, versions, modes, stride=1):
    """For each save k over the image holding k-1: cut after every `stride`-th EEPROM byte
    write, reboot, load. Returns (cuts, old, new)."""
    cap = pf.capacity(REGION_SIZE)
    image = None
    cuts = old = new = 0
    for k in versions:
        _, after, rep = avr.run(image, bytes([ord("s"), k]))
        total = int(rep["writes"])
        before = image
        prev_slot = pf.newest(region(before)) if before is not None else None
        for mode, garbage in modes:
            for cut in list(range(0, total, stride)) + [total]:
                out, ee, rep = avr.run(before, bytes([ord("s"), k, ord("l")]), cut=cut, mode=mode, garbage=garbage)
                assert rep["cut"] == ("1" if cut < total else "0")
                st, slot, seq, ver, n, bad = avr_loaded(out)
                reg = region(ee)
                if st != 0:
                    assert prev_slot is None and cut < total, (k, cut, st)
                else:
                    assert bad == 0, (k, cut, mode)
                    assert ver in (k, versions[versions.index(k) - 1] if versions.index(k) else k), (k, cut, ver)
                    assert pf.load(reg).payload == pay_bytes(ver, cap)
                    if cut == total:
                        assert ver == k
                    new += ver == k
                    old += ver != k
                if prev_slot is not None:  # the previous copy is untouched
                    a = prev_slot.addr
                    assert reg[a:a + REGION_SIZE // 2] == region(before)[a:a + REGION_SIZE // 2]
                for s in pf.parse_image(reg):  # torn slots carry no commit mark
                    assert s.valid or s.reason == "magic", (k, cut, mode, s)
                cuts += 1
        image = after
    return cuts, old, new


@pytest.mark.avr
def test_avr_power_cut_every_eeprom_write(avr):
    """simavr, avr-libc eeprom_update_block path: every EEPROM byte write of the first
    save (blank EEPROM), of v2 over v1 and of v3 over v2; the cell at the cut keeps its
    old value, or holds 'M' (the worst garbage: the first magic byte)."""
    cuts, old, new = avr_cut_sweep(avr, [1, 2, 3], [("clean", 0), ("garbage", 0x4D)])
    assert cuts > 400 and old > 200


@pytest.mark.avr
@pytest.mark.slow
def test_avr_power_cut_every_eeprom_write_all_modes(avr):
    cuts, old, new = avr_cut_sweep(avr, [1, 2, 3, 4, 5],
                                   [("clean", 0), ("erased", 0), ("garbage", 0x4D), ("garbage", 0xA5)])
    assert cuts > 1400


@pytest.mark.avr
def test_avr_flipped_bit_ignored(avr):
    _, ee, _ = avr.run(None, b"s\x01s\x02")
    rnd = random.Random(3)
    base_b = REGION_BASE + REGION_SIZE // 2
    n_b = pf.HEADER_SIZE + pay_len(2, pf.capacity(REGION_SIZE))
    bits = list(range(pf.HEADER_SIZE * 8)) + rnd.sample(range(pf.HEADER_SIZE * 8, n_b * 8), 12)
    for bit in bits[::4]:  # every 4th header bit + random payload bits: 52 boots
        bad = bytearray(ee)
        bad[base_b + bit // 8] ^= 1 << (bit % 8)
        out, _, _ = avr.run(bytes(bad), b"l")
        st, slot, seq, ver, n, badp = avr_loaded(out)
        assert (st, slot, ver, badp) == (0, 0, 1, 0), bit
