"""The serial protocol (docs/serial-protocol.md): frames both ways, the host's Link and Device against a
fake device in Python and against the C link (mlrn_link.h) in a fake device program, through a transport
that drops, corrupts, duplicates and truncates bytes in both directions. Every request must be applied
exactly once and every reply read right; hostile frames get a NAK or are dropped, never an overrun."""
from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from compile_c import SANITIZE, SANITIZED_ENV, compile_c
from conftest import kv_line
from faults import Faults, FaultyTransport
from microlearn.core import vocab
from microlearn.deploy.link import (Device, DeviceError, FdTransport, Frame, FrameParser, Link, LinkError,
                                    NakError, encode_frame, open_port)

C_DIR = Path(__file__).resolve().parent / "c"
FAKE_DEVICE_C = C_DIR / "link_fake_device.c"
AVR_MIN_C = C_DIR / "link_avr_min.c"
# The C fake device's build (link_fake_device.c): features, its MODEL blob, its reply room.
N_FEATURES = 3
N_CLASSES = 3
CAPACITY = 200
MODEL_BYTES = 1000
MAX_REPLY = 40
RX_CAP = vocab.link_request_bytes(vocab.LINK_FEEDBACK, N_FEATURES)
ITERATIONS_PER_ROW = 10
STATUS = {s.macro: s.code for s in vocab.STATUSES}
# Host timeout above the device's byte timeout: a half frame is abandoned before the resend arrives.
HOST_TIMEOUT = 0.25
FAULT_RETRIES = 40
# The Python fake's byte timeout (MLRN_LINK_BYTE_TIMEOUT_MS's role), below the Python tests' host timeout.
PY_BYTE_TIMEOUT = 0.01


def model_blob(n: int = MODEL_BYTES) -> bytes:
    """The fake devices' model bytes (link_fake_device.c model_byte)."""
    return bytes(((i * 131 + 7) ^ (i >> 3)) & 0xFF for i in range(n))


def rule(x) -> int:
    """The fake devices' prediction (link_fake_device.c rule)."""
    return 1 if struct.unpack("<f", struct.pack("<f", x[0]))[0] >= 0 else 0


def random_rows(rng: random.Random, n: int) -> list[tuple[list[float], int]]:
    return [([rng.uniform(-5, 5) for _ in range(N_FEATURES)], rng.randrange(N_CLASSES)) for _ in range(n)]


def row_bytes(x, label) -> bytes:
    return struct.pack(f"<{len(x)}fh", *x, label)


# ---- a fake device in Python (the Link's logic without C) -----------------------------------------------------
class PyDevice:
    """The device side in Python: the rules of mlrn_link.h (NAKs, the cache of the last executed request,
    HELLO forgets it) and the fake device's semantics. `version` lets it speak another protocol."""

    def __init__(self, version: int = vocab.LINK_VERSION):
        self.version = version
        self.parser = FrameParser()
        self.rows: list[bytes] = []
        self.trained = False
        self.executed = 0
        self.repeats = 0
        self.last: tuple[int, int, bytes] | None = None     # seq, crc, reply frame
        self.last_byte = time.monotonic()

    def receive(self, data: bytes) -> bytes:
        out = b""
        now = time.monotonic()
        frames = self.parser.resync() if now - self.last_byte > PY_BYTE_TIMEOUT else []
        self.last_byte = now
        for f in frames + self.parser.feed(data):
            out += self._frame(f)
        return out

    def _frame(self, f: Frame) -> bytes:
        if f.type & vocab.LINK_REPLY_FLAG:
            return b""
        nak = None
        if f.version != self.version:
            nak = vocab.LINK_ERR_VERSION
        elif vocab.link_request_bytes(f.type, N_FEATURES) < 0:
            nak = vocab.LINK_ERR_TYPE
        elif vocab.link_request_bytes(f.type, N_FEATURES) != len(f.payload):
            nak = vocab.LINK_ERR_LENGTH
        if nak is not None:
            return encode_frame(vocab.LINK_NAK, f.seq, struct.pack("<bB", nak, self.version), version=self.version)
        crc = zlib.crc32(bytes((f.version, f.type, f.seq, len(f.payload))) + f.payload)
        if f.type == vocab.LINK_HELLO:
            self.last = None
        elif self.last and self.last[:2] == (f.seq, crc):
            self.repeats += 1
            return self.last[2]
        self.executed += 1
        reply = encode_frame(f.type | vocab.LINK_REPLY_FLAG, f.seq, self._answer(f.type, f.payload),
                             version=self.version)
        self.last = (f.seq, crc, reply)
        return reply

    def _answer(self, t: int, p: bytes) -> bytes:
        if t == vocab.LINK_HELLO:
            return struct.pack("<bBBHBHBBBB", 0, self.version, vocab.LINK_KINDS["train"], N_FEATURES, N_CLASSES,
                               CAPACITY, RX_CAP, 0, 1, 0)
        if t in (vocab.LINK_ROW, vocab.LINK_FEEDBACK):
            pred = rule(struct.unpack_from("<f", p)) if self.trained else vocab.LINK_NO_PREDICTION
            label = struct.unpack_from("<h", p, 4 * N_FEATURES)[0]
            if not 0 <= label < N_CLASSES:
                return struct.pack("<b", STATUS["MLRN_ERR_LABEL"])
            self.rows.append(p)
            if t == vocab.LINK_ROW:
                return struct.pack("<bH", 0, len(self.rows))
            return struct.pack("<bhBH", 0, pred, 1 if len(self.rows) % 5 == 0 else 0, len(self.rows))
        if t == vocab.LINK_TRAIN:
            self.trained = True
            return struct.pack("<bII", 0, ITERATIONS_PER_ROW * len(self.rows), 7)
        if t == vocab.LINK_PREDICT:
            return struct.pack("<bh", 0, rule(struct.unpack_from("<f", p))) if self.trained else \
                struct.pack("<b", STATUS["MLRN_ERR_UNTRAINED"])
        if t == vocab.LINK_EVAL:
            ok = sum(rule(struct.unpack_from("<f", r)) == struct.unpack_from("<h", r, 4 * N_FEATURES)[0]
                     for r in self.rows)
            return struct.pack("<bHH", 0, ok, len(self.rows))
        if t == vocab.LINK_MODEL:
            off = struct.unpack("<H", p)[0]
            chunk = model_blob()[off:off + MAX_REPLY - vocab.LINK_MODEL_REPLY_HEADER_BYTES]
            return struct.pack("<bH", 0, MODEL_BYTES) + chunk
        self.rows, self.trained = [], False      # CLEAR
        return b"\x00"


class LoopTransport:
    """Host <-> PyDevice in memory; read waits a millisecond when nothing is there (the Link polls)."""

    def __init__(self, device: PyDevice, text: bytes = b""):
        self.device, self.inbox = device, bytearray(text)

    def write(self, data: bytes) -> int:
        self.inbox += self.device.receive(bytes(data))
        return len(data)

    def read(self, n: int) -> bytes:
        if not self.inbox:
            time.sleep(0.001)
            return b""
        out = bytes(self.inbox[:n])
        del self.inbox[:n]
        return out


# ---- frames ---------------------------------------------------------------------------------------------------
def test_encode_frame_layout():
    f = encode_frame(vocab.LINK_ROW, 0x42, b"\x01\x02\x03")
    assert f[:2] == b"\xa5\x5a" and f[2:6] == bytes((1, 2, 0x42, 3)) and f[6:9] == b"\x01\x02\x03"
    assert struct.unpack("<I", f[9:])[0] == zlib.crc32(f[2:9])
    assert len(f) == vocab.link_frame_bytes(3)


def test_round_trip_with_text_in_any_chunks():
    rng = random.Random(1)
    frames, stream = [], bytearray()
    for i in range(300):
        payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 7, 255])))
        fr = Frame(vocab.LINK_VERSION, rng.randrange(256), rng.randrange(256), payload)
        frames.append(fr)
        stream += f"line {i}\r\n".encode() + encode_frame(fr.type, fr.seq, fr.payload)
    p = FrameParser()
    got, i = [], 0
    while i < len(stream):
        k = rng.randrange(1, 40)
        got += p.feed(bytes(stream[i:i + k]))
        i += k
    assert got == frames
    assert list(p.text_lines)[:3] == ["line 0", "line 1", "line 2"] and len(p.text_lines) == 300


def test_parser_finds_a_frame_after_a_corrupted_one():
    good = encode_frame(vocab.LINK_EVAL, 9, b"")
    bad = bytearray(encode_frame(vocab.LINK_ROW, 8, bytes(14)))
    bad[8] ^= 0xFF
    p = FrameParser()
    assert p.feed(bytes(bad[:-3]) + good + b"tail\n") == [Frame(1, vocab.LINK_EVAL, 9, b"")]
    # the corrupted frame's bytes are text now, without its control bytes
    assert p.crc_errors >= 1 and p.text_lines[-1].endswith("tail")
    assert not any(c < " " for c in p.text_lines[-1])


def test_encode_refuses_bad_fields():
    with pytest.raises(ValueError, match="at most 255"):
        encode_frame(1, 0, bytes(256))
    with pytest.raises(ValueError, match="seq"):
        encode_frame(1, 256, b"")
    with pytest.raises(TypeError, match="bytes"):
        encode_frame(1, 0, "text")


@pytest.mark.hostile
def test_parser_on_garbage_is_bounded_and_never_raises():
    rng = random.Random(2)
    p = FrameParser()
    for _ in range(2000):
        chunk = bytes(rng.choice([0xA5, 0x5A, 0x0A, rng.randrange(256)]) for _ in range(rng.randrange(1, 300)))
        p.feed(chunk)
        assert len(p._buf) <= vocab.link_frame_bytes(vocab.LINK_MAX_PAYLOAD) + 300
    assert len(p.text_lines) <= 1000 and all(len(t) <= 1024 for t in p.text_lines)
    with pytest.raises(TypeError):
        p.feed("not bytes")


# ---- Link and Device against the Python fake -------------------------------------------------------------------
def run_session(dev: Device, rng: random.Random, n_rows: int = 40):
    """A session of every request; returns what the device should hold (the rows sent)."""
    info = dev.hello()
    assert (info.n_features, info.n_classes, info.capacity, info.kind) == (N_FEATURES, N_CLASSES, CAPACITY, "train")
    assert info.max_request == RX_CAP and info.protocol == vocab.LINK_VERSION
    dev.clear()
    rows = random_rows(rng, n_rows)
    for i, (x, y) in enumerate(rows):
        assert dev.send_row(x, y) == i + 1
    with pytest.raises(DeviceError) as e:
        dev.send_row([0.0] * N_FEATURES, N_CLASSES)       # label out of range: the device's refusal
    assert e.value.status == STATUS["MLRN_ERR_LABEL"] and e.value.name == "bad_label"
    tr = dev.train()
    assert (tr.status, tr.status_name, tr.iterations) == (0, "ok", ITERATIONS_PER_ROW * n_rows)
    for x, _ in rows[:5]:
        assert dev.predict(x) == rule(x)
    fb_x, fb_y = rows[0][0], rows[0][1]
    fb = dev.feedback(fb_x, fb_y)
    assert (fb.prediction, fb.rows) == (rule(fb_x), n_rows + 1)
    rows.append((fb_x, fb_y))
    ev = dev.evaluate()
    assert (ev.correct, ev.total) == (sum(rule(x) == y for x, y in rows), len(rows))
    assert dev.model_bytes() == model_blob()
    return rows


def test_link_and_device_against_the_python_fake():
    fake = PyDevice()
    link = Link(LoopTransport(fake, b"booting\r\nready\n"), timeout=0.05, retries=2)
    rows = run_session(Device(link), random.Random(3))
    assert fake.rows == [row_bytes(x, y) for x, y in rows]
    assert link.resends == 0 and list(link.text_lines) == ["booting", "ready"]


@pytest.mark.parametrize("seed", [11, 12])
def test_every_request_applied_once_through_faults_python_fake(seed):
    fake = PyDevice()
    to_dev, from_dev = Faults(seed, p=0.01, p_cut=0.05), Faults(seed + 100, p=0.01, p_cut=0.05)
    link = Link(FaultyTransport(LoopTransport(fake), to_dev, from_dev), timeout=0.02, retries=FAULT_RETRIES)
    rows = run_session(Device(link), random.Random(seed))
    assert fake.rows == [row_bytes(x, y) for x, y in rows]
    assert all(to_dev.counts.values()) and all(from_dev.counts.values())
    assert link.resends > 0 and fake.repeats > 0       # replies were lost after execution: answered from cache


def test_hello_starts_a_session_so_a_restarted_host_reusing_seq_is_executed():
    fake = PyDevice()
    t = LoopTransport(fake)
    Device(Link(t, timeout=0.05, seq=7)).send_row([1, 2, 3], 1)
    Device(Link(t, timeout=0.05, seq=7)).send_row([1, 2, 3], 1)     # same SEQ, same bytes, new session
    assert len(fake.rows) == 2


def test_version_mismatch_is_named():
    with pytest.raises(NakError, match="device speaks protocol v2, this host v1"):
        Device(Link(LoopTransport(PyDevice(version=2)), timeout=0.05)).hello()


def test_nak_reasons_and_no_reply_are_clear_errors():
    link = Link(LoopTransport(PyDevice()), timeout=0.02, retries=1)
    with pytest.raises(NakError, match="does not know") as e:
        link.request(0x09)
    assert e.value.reason_name == "type"
    with pytest.raises(NakError, match="wrong payload length"):
        link.request(vocab.LINK_ROW, b"\x00")

    class Silent:
        def write(self, data):
            return len(data)

        def read(self, n):
            time.sleep(0.001)
            return b""

    with pytest.raises(LinkError, match="no reply from the device after 2 attempts"):
        Link(Silent(), timeout=0.02, retries=1).request(vocab.LINK_HELLO, bytes(4))


@pytest.mark.hostile
def test_device_calls_refuse_bad_rows_before_sending():
    fake = PyDevice()
    dev = Device(Link(LoopTransport(fake), timeout=0.05))
    for x, y, msg in [([1, 2], 0, "expects 3"), ([1, 2, "a"], 0, "numbers"), ([1e39, 0, 0], 0, "float32"),
                      ([1, 2, 3], 40000, "int16"), ([1, 2, 3], 1.5, "integer"), (None, 0, "numbers")]:
        with pytest.raises(ValueError, match=msg):
            dev.send_row(x, y)
    assert fake.rows == [] and fake.executed == 1       # HELLO only
    with pytest.raises(ValueError):
        Link(LoopTransport(fake), timeout=float("nan"))
    with pytest.raises(ValueError):
        Link(LoopTransport(fake), retries=-1)


def test_open_port_uses_pyserial_urls():
    port = open_port("loop://", timeout=0.01)
    try:
        port.write(encode_frame(1, 2, b"ab") + b"hi\n")
        p = FrameParser()
        frames = p.feed(port.read(64))
        assert frames == [Frame(1, 1, 2, b"ab")] and list(p.text_lines) == ["hi"]
    finally:
        port.close()
    with pytest.raises(LinkError, match="cannot open /nonexistent/tty"):
        open_port("/nonexistent/tty")


# ---- the C link in a fake device program --------------------------------------------------------------------
def sanitizer_compiler() -> str | None:
    return "clang" if shutil.which("clang") else ("gcc" if shutil.which("gcc") else None)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The fake device built as C, as C++ (warnings as errors both) and as C with ASan + UBSan."""
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler (apt-get install gcc)")
    wd = tmp_path_factory.mktemp("link")
    out = {"c": wd / "fake_c", "c++": wd / "fake_cxx"}
    compile_c(FAKE_DEVICE_C, out["c"], lang="c", defines={"MAX_REPLY": MAX_REPLY})
    if shutil.which("c++"):
        compile_c(FAKE_DEVICE_C, out["c++"], lang="c++", defines={"MAX_REPLY": MAX_REPLY})
    else:
        del out["c++"]
    return out


@pytest.fixture(scope="module")
def sanitized(tmp_path_factory):
    cc = sanitizer_compiler()
    if cc is None:
        pytest.skip("no host C compiler (apt-get install gcc)")
    exe = tmp_path_factory.mktemp("link_san") / "fake_san"
    compile_c(FAKE_DEVICE_C, exe, compiler=cc, extra=SANITIZE, opt="-O1", defines={"MAX_REPLY": MAX_REPLY})
    return exe


class FakeDevice:
    """The C fake device as a subprocess; .transport reads its stdout and writes its stdin."""

    def __init__(self, exe: Path, env=None):
        self.proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.transport = FdTransport(self.proc.stdout.fileno(), self.proc.stdin.fileno())

    def finish(self) -> tuple[dict[str, int], list[bytes], str]:
        """Close its input; its counts, stored rows and stderr (it must have exited 0)."""
        self.proc.stdin.close()
        err = self.proc.stderr.read().decode()
        assert self.proc.wait(timeout=10) == 0, err
        self.proc.stdout.close()
        rows = [bytes.fromhex(ln[2:]) for ln in err.splitlines() if ln.startswith("R ")]
        return kv_line(err, "COUNTS"), rows, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.parametrize("lang", ["c", "c++"])
def test_c_device_clean_session(builds, lang):
    if lang not in builds:
        pytest.skip("no host C++ compiler (apt-get install g++)")
    fd = FakeDevice(builds[lang])
    try:
        link = Link(fd.transport, timeout=1.0, retries=2)
        rows = run_session(Device(link), random.Random(4))
        Device(link).clear()
        time.sleep(0.05)
        link.request(vocab.LINK_EVAL)      # reads the text printed after CLEAR's reply
        counts, _, _ = fd.finish()
    finally:
        fd.kill()
    assert counts["rows"] == 0 and counts["crc"] == 0 and counts["repeats"] == 0 and link.resends == 0
    # hello, clear, rows, the refused row, train, 5 predicts, feedback, eval, model chunks, clear, eval
    chunks = -(-MODEL_BYTES // (MAX_REPLY - vocab.LINK_MODEL_REPLY_HEADER_BYTES))
    assert counts["executed"] == 2 + len(rows) - 1 + 1 + 1 + 5 + 1 + 1 + chunks + 2
    assert {"fake device ready", "trained", "cleared"} <= set(link.text_lines)


@pytest.mark.parametrize("seed", [21])
def test_c_device_every_request_applied_once_through_faults(builds, seed):
    """Drops, corruptions, duplicates and cuts both ways: rows stored once each with the bytes sent,
    the model reassembled exactly, repeats answered from the device's cache."""
    fd = FakeDevice(builds["c"])
    to_dev, from_dev = Faults(seed), Faults(seed + 1)
    link = Link(FaultyTransport(fd.transport, to_dev, from_dev), timeout=HOST_TIMEOUT, retries=FAULT_RETRIES)
    try:
        rows = run_session(Device(link), random.Random(seed), n_rows=60)
        counts, stored, _ = fd.finish()
    finally:
        fd.kill()
    assert stored == [row_bytes(x, y) for x, y in rows]
    assert counts["rows"] == len(rows)
    assert sum(to_dev.counts.values()) > 0 and sum(from_dev.counts.values()) > 0
    assert link.resends > 0 and counts["crc"] + counts["timeouts"] > 0
    assert counts["repeats"] > 0       # a reply was lost after its request ran: resent, not run again


@pytest.mark.slow
@pytest.mark.parametrize("seed", [31, 32, 33])
def test_c_device_faults_more_seeds_and_heavier(builds, seed):
    fd = FakeDevice(builds["c"])
    to_dev, from_dev = Faults(seed, p=0.006, p_cut=0.04), Faults(seed + 1, p=0.006, p_cut=0.04)
    link = Link(FaultyTransport(fd.transport, to_dev, from_dev), timeout=HOST_TIMEOUT, retries=FAULT_RETRIES)
    try:
        rows = run_session(Device(link), random.Random(seed), n_rows=100)
        counts, stored, _ = fd.finish()
    finally:
        fd.kill()
    assert stored == [row_bytes(x, y) for x, y in rows]


def raw_exchange(transport: FdTransport, data: bytes, wait: float = 0.3) -> list[Frame]:
    """Write bytes to the device, collect the frames it sends within `wait` seconds."""
    transport.write(data)
    p, frames, end = FrameParser(), [], time.monotonic() + wait
    while time.monotonic() < end:
        frames += p.feed(transport.read(256))
    return frames


def nak_reason(frames: list[Frame], seq: int) -> int:
    assert len(frames) == 1 and frames[0].type == vocab.LINK_NAK and frames[0].seq == seq, frames
    reason, version = struct.unpack("<bB", frames[0].payload)
    assert version == vocab.LINK_VERSION
    return reason


def frame_with_len(type: int, seq: int, payload: bytes, length: int, version: int = vocab.LINK_VERSION) -> bytes:
    """A frame whose LEN says `length` (the CRC is right for what is sent)."""
    body = bytes((version, type, seq, length)) + payload
    return bytes((vocab.LINK_SOF0, vocab.LINK_SOF1)) + body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.hostile
def test_c_device_hostile_frames_under_sanitizers(sanitized):
    fd = FakeDevice(sanitized, env=SANITIZED_ENV)
    t = fd.transport
    hello = encode_frame(vocab.LINK_HELLO, 1, bytes(4))
    try:
        raw_exchange(t, b"", 0.1)                                              # the greeting text
        assert nak_reason(raw_exchange(t, encode_frame(vocab.LINK_HELLO, 2, bytes(4), version=2)), 2) == \
            vocab.LINK_ERR_VERSION
        for bad_type in (0x00, 0x09, 0x7F):
            assert nak_reason(raw_exchange(t, encode_frame(bad_type, 3, b"")), 3) == vocab.LINK_ERR_TYPE
        assert nak_reason(raw_exchange(t, encode_frame(vocab.LINK_ROW, 4, bytes(RX_CAP - 1))), 4) == \
            vocab.LINK_ERR_LENGTH
        # longer than rx (14 bytes): read to its end without being stored, then refused
        assert nak_reason(raw_exchange(t, encode_frame(vocab.LINK_ROW, 5, bytes(range(255)))), 5) == \
            vocab.LINK_ERR_TOO_LONG
        # the same with a bad CRC: dropped silently
        bad = bytearray(encode_frame(vocab.LINK_ROW, 6, bytes(200)))
        bad[-1] ^= 1
        assert raw_exchange(t, bytes(bad)) == []
        assert raw_exchange(t, encode_frame(0x81, 7, bytes(11))) == []     # a reply: never answered
        # garbage, SOF-rich, then (after the byte timeout) a HELLO is still answered
        rng = random.Random(5)
        junk = bytes(rng.choice([0xA5, 0x5A, 0xFF, 0x00, rng.randrange(256)]) for _ in range(20000))
        raw_exchange(t, junk, 0.2)
        frames = raw_exchange(t, hello)
        assert [(f.type, f.seq) for f in frames] == [(vocab.LINK_HELLO | vocab.LINK_REPLY_FLAG, 1)]
        # ROW with a NaN: executed, refused by the device's check (status, not a crash)
        frames = raw_exchange(t, encode_frame(vocab.LINK_ROW, 8, struct.pack("<3fh", float("nan"), 0, 0, 1)))
        assert frames[0].payload == struct.pack("<b", STATUS["MLRN_ERR_NAN"])
        # MODEL past its end: status only
        frames = raw_exchange(t, encode_frame(vocab.LINK_MODEL, 9, struct.pack("<H", 0xFFFF)))
        assert frames[0].payload == struct.pack("<b", STATUS["MLRN_ERR_ARG"])
        counts, stored, err = fd.finish()
    finally:
        fd.kill()
    assert "runtime error" not in err and "AddressSanitizer" not in err, err
    assert counts["oversize"] == 1 and counts["crc"] >= 1 and stored == []


@pytest.mark.hostile
def test_c_device_abandons_a_half_frame_after_the_byte_timeout(builds):
    fd = FakeDevice(builds["c"])
    t = fd.transport
    half = encode_frame(vocab.LINK_ROW, 40, bytes(RX_CAP))[:9]
    try:
        raw_exchange(t, b"", 0.1)
        # no pause: the HELLO's bytes (and one more) complete the half frame, whose CRC fails: no reply
        assert raw_exchange(t, half + encode_frame(vocab.LINK_HELLO, 41, bytes(4)) + b"\n") == []
        raw_exchange(t, half, 0.3)          # stop mid-frame for longer than MLRN_LINK_BYTE_TIMEOUT_MS
        frames = raw_exchange(t, encode_frame(vocab.LINK_HELLO, 42, bytes(4)))
        assert [(f.type, f.seq) for f in frames] == [(vocab.LINK_HELLO | vocab.LINK_REPLY_FLAG, 42)]
        counts, _, _ = fd.finish()
    finally:
        fd.kill()
    assert counts["timeouts"] == 1 and counts["crc"] == 1


# ---- size on AVR ------------------------------------------------------------------------------------------------
@pytest.mark.avr
@pytest.mark.skipif(shutil.which("avr-gcc") is None or shutil.which("avr-size") is None,
                    reason="not installed: avr-gcc, avr-size (apt-get install gcc-avr binutils-avr avr-libc)")
def test_avr_footprint_of_a_minimal_device(tmp_path):
    """A minimal device (UART bytes in, the link, a status reply out) for the ATmega328P: the link's flash
    and SRAM stay small enough for an Uno next to a trainer."""
    elf = tmp_path / "min.elf"
    compile_c(AVR_MIN_C, elf, board="uno", libs=())
    out = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\.\S+)\s+(\d+)", out, re.M)}
    flash = sizes.get(".text", 0) + sizes.get(".data", 0)
    sram = sizes.get(".data", 0) + sizes.get(".bss", 0)
    print(f"AVR minimal link device: flash {flash} B, static SRAM {sram} B")
    assert flash < 2048, sizes
    rx, tx = vocab.link_buffer_bytes(N_FEATURES, vocab.LINK_HELLO_REPLY_BYTES)
    assert rx + tx < sram < rx + tx + 128, sizes      # the buffers, the struct, little else


@pytest.mark.hostile
def test_malformed_replies_are_clear_errors():
    """A sketch that breaks the protocol: short replies, a model that changes size or overruns its total."""
    class Broken(PyDevice):
        def __init__(self, answers):
            super().__init__()
            self.answers = answers

        def _answer(self, t, p):
            return self.answers[t](p) if t in self.answers else super()._answer(t, p)

    with pytest.raises(LinkError, match="malformed reply of 2 bytes"):
        Device(Link(LoopTransport(Broken({vocab.LINK_HELLO: lambda p: b"\x00\x01"})), timeout=0.05)).hello()
    grows = iter(range(10, 1000, 10))
    with pytest.raises(LinkError, match="changed size"):
        Device(Link(LoopTransport(Broken({vocab.LINK_MODEL: lambda p: struct.pack("<bH", 0, next(grows)) + b"x"})),
                    timeout=0.05)).model_bytes()
    with pytest.raises(LinkError, match="runs past"):
        Device(Link(LoopTransport(Broken({vocab.LINK_MODEL: lambda p: struct.pack("<bH", 0, 2) + b"xyz"})),
                    timeout=0.05)).model_bytes()
    with pytest.raises(LinkError, match="empty chunk"):
        Device(Link(LoopTransport(Broken({vocab.LINK_MODEL: lambda p: struct.pack("<bH", 0, 5)})),
                    timeout=0.05)).model_bytes()
