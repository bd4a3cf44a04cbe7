"""The host side of microlearn's serial protocol, version 1 (docs/serial-protocol.md; the device side is
include/mlrn_link.h).

Layers, bottom up:
  encode_frame / FrameParser   bytes <-> frames; the bytes outside frames are the sketch's text lines
  Link                         one request, one reply: resends the same frame (same SEQ) on a timeout or a
                               bad reply, ignores stale replies, turns a NAK into a clear error
  Device                       the typed calls (hello, send_row, train, predict, feedback, evaluate,
                               model_bytes, clear); a negative status raises DeviceError
Transports: open_port (pyserial's serial_for_url) or FdTransport
(any pipe or socket: the tests' fake devices).
"""
from __future__ import annotations

import collections
import math
import os
import secrets
import select
import struct
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import serial

from microlearn.core import vocab

VERSION = vocab.LINK_VERSION
SOF = bytes((vocab.LINK_SOF0, vocab.LINK_SOF1))
HEADER_BYTES = vocab.LINK_HEADER_BYTES
CRC_BYTES = vocab.LINK_CRC_BYTES
MAX_PAYLOAD = vocab.LINK_MAX_PAYLOAD
# Text the sketch prints between frames: lines kept, and a line without its newline cut at this length
# (a device printing garbage must not grow the host's memory).
MAX_TEXT_LINES = 1000
MAX_TEXT_LINE = 1024
# A transport read waits at most this long, so a request's own timeout is kept to this precision.
READ_SLICE_S = 0.02
READ_MAX = 4096
NAME_OF_TYPE = {code: name for name, code in vocab.LINK_TYPES.items()}
KIND_NAMES = {code: name for name, code in vocab.LINK_KINDS.items()}
EVENT_NAMES = {code: name for name, code in vocab.LEARNER_EVENTS.items()}
NAK_NAMES = {code: name for name, code in vocab.LINK_NAK_REASONS.items()}


class LinkError(Exception):
    """The link failed: no reply after the retries, a refused request (NakError), a malformed reply."""


class NakError(LinkError):
    """The device's link refused the request (it was not executed)."""

    def __init__(self, message: str, reason: int, device_version: int):
        super().__init__(message)
        self.reason, self.reason_name, self.device_version = reason, NAK_NAMES.get(reason, "unknown"), device_version


class DeviceError(Exception):
    """The device executed the request and answered a negative mlrn_status."""

    def __init__(self, request: str, status: int):
        self.request, self.status = request, status
        self.name = vocab.STATUS_NAMES.get(status, "unknown")
        super().__init__(f"{request}: device answered status {status} ({self.name}: {vocab.status_str(status)})")


# ---- frames ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    version: int
    type: int
    seq: int
    payload: bytes


def _u8(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise ValueError(f"{what} must be an integer 0..255, got {value!r}")
    return value


def encode_frame(type: int, seq: int, payload: bytes = b"", *, version: int = VERSION) -> bytes:
    """A5 5A | VER | TYPE | SEQ | LEN | PAYLOAD | CRC32 (zlib's, over VER..PAYLOAD, little-endian)."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise TypeError(f"payload must be bytes, got {payload.__class__.__name__}")
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes: a frame carries at most {MAX_PAYLOAD}")
    body = bytes((_u8(version, "version"), _u8(type, "type"), _u8(seq, "seq"), len(payload))) + payload
    return SOF + body + struct.pack("<I", zlib.crc32(body))


class FrameParser:
    """Bytes in, frames out; every byte outside a valid frame is text (the sketch's report), split into lines,
    without control bytes (a terminal shows it safely). A bad frame (CRC) is rescanned from the byte after
    its start, so a frame hidden in a corrupted one is still found; its bytes end up in the text.
    Memory is bounded: at most one frame is held, and the text as MAX_TEXT_LINES lines."""

    def __init__(self):
        self._buf = bytearray()
        self._line = bytearray()
        self.text_lines: collections.deque[str] = collections.deque(maxlen=MAX_TEXT_LINES)
        self.crc_errors = 0

    def feed(self, data: bytes) -> list[Frame]:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"FrameParser.feed takes bytes, got {data.__class__.__name__}")
        self._buf += data
        frames = []
        buf = self._buf
        while True:
            start = buf.find(SOF)
            if start < 0:
                keep = 1 if buf[-1:] == SOF[:1] else 0     # an A5 that may start a frame
                self._text(buf[:len(buf) - keep])
                del buf[:len(buf) - keep]
                break
            self._text(buf[:start])
            del buf[:start]
            if len(buf) < HEADER_BYTES:
                break
            end = HEADER_BYTES + buf[5] + CRC_BYTES
            if len(buf) < end:
                break
            body = bytes(buf[2:end - CRC_BYTES])
            if zlib.crc32(body) == struct.unpack_from("<I", buf, end - CRC_BYTES)[0]:
                frames.append(Frame(body[0], body[1], body[2], body[4:]))
                del buf[:end]
            else:
                self.crc_errors += 1
                del buf[:1]          # not a frame after all: hunt again from the next byte
        return frames

    def resync(self) -> list[Frame]:
        """Give up the partial frame held (its rest is not coming: a corrupted LEN announced more bytes than
        were sent); its bytes after the start are scanned again. The frames found there."""
        if self._buf[:2] != SOF:
            return []
        data = bytes(self._buf[1:])
        self._buf.clear()
        self.crc_errors += 1
        return self.feed(data)

    def _text(self, data) -> None:
        for b in bytes(data):
            if b == 0x0A:
                self._flush()
            elif b >= 0x20 and b != 0x7F or b == 0x09:     # control bytes (ESC sequences, CR) are not kept
                self._line.append(b)
                if len(self._line) >= MAX_TEXT_LINE:
                    self._flush()

    def _flush(self) -> None:
        self.text_lines.append(self._line.decode("utf-8", errors="replace"))
        self._line.clear()


# ---- transports --------------------------------------------------------------------------------------------
class Transport(Protocol):
    def read(self, n: int) -> bytes: ...     # up to n bytes, b"" when none came within its short timeout

    def write(self, data: bytes) -> int | None: ...


class FdTransport:
    """read/write over file descriptors (a pipe pair, a socket): read waits at most `timeout` seconds."""

    def __init__(self, read_fd: int, write_fd: int | None = None, *, timeout: float = READ_SLICE_S):
        self.read_fd, self.write_fd = read_fd, read_fd if write_fd is None else write_fd
        self.timeout = timeout

    def read(self, n: int) -> bytes:
        ready, _, _ = select.select([self.read_fd], [], [], self.timeout)
        if not ready:
            return b""
        try:
            return os.read(self.read_fd, n)
        except OSError as e:
            raise LinkError(f"reading from the device failed: {e}") from None

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.write_fd, view):]
        except OSError as e:
            raise LinkError(f"writing to the device failed: {e}") from None
        return len(data)


def open_port(port: str, baudrate: int = 115200, timeout: float = READ_SLICE_S):
    """A serial port (or any pyserial URL: socket://host:port, loop://) as a transport."""
    try:
        return serial.serial_for_url(port, baudrate=baudrate, timeout=timeout)
    except (serial.SerialException, ValueError) as e:
        raise LinkError(f"cannot open {port}: {e}") from None


# ---- one request, one reply ----------------------------------------------------------------------------------
class Link:
    """Requests with retries. A request is sent with a new SEQ; the reply is the frame of type TYPE|0x80
    with that SEQ. On a timeout or a bad reply the SAME frame is sent again (the device answers a repeat
    from its cache without executing twice), up to `retries` resends, then LinkError. Frames with
    another SEQ (late replies to an earlier resend) are ignored."""

    def __init__(self, transport: Transport, *, timeout: float = 1.0, retries: int = 8,
                 log: Callable[[str], None] | None = None, seq: int | None = None):
        if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
        self.transport, self.timeout, self.retries, self.log = transport, float(timeout), retries, log
        self.parser = FrameParser()
        self.seq = secrets.randbelow(256) if seq is None else _u8(seq, "seq")
        self.resends = 0          # frames sent again, over the link's life
        self.stale = 0            # replies ignored (another SEQ or type)

    @property
    def text_lines(self) -> collections.deque[str]:
        """The sketch's text lines (bytes outside frames), oldest first."""
        return self.parser.text_lines

    def _say(self, msg: str) -> None:
        if self.log is not None:
            self.log(msg)

    def request(self, type: int, payload: bytes = b"", *, timeout: float | None = None) -> bytes:
        """The reply payload (its status byte first) of one request."""
        _u8(type, "type")
        if type & vocab.LINK_REPLY_FLAG:
            raise ValueError(f"request types are below 0x80, got {type:#04x}")
        wait = self.timeout if timeout is None else timeout
        if not (isinstance(wait, (int, float)) and math.isfinite(wait) and wait > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {wait!r}")
        self.seq = (self.seq + 1) & 0xFF
        frame = encode_frame(type, self.seq, payload)
        name = NAME_OF_TYPE.get(type, f"type {type:#04x}")
        for attempt in range(self.retries + 1):
            if attempt:
                self.resends += 1
                self._say(f"{name} seq {self.seq}: no valid reply, resending ({attempt}/{self.retries})")
            self.transport.write(frame)
            reply = self._await(type, self.seq, wait)
            if reply is not None:
                return reply
        raise LinkError(f"{name}: no reply from the device after {self.retries + 1} attempts of {wait:g} s "
                        "(is the sketch running, on this port, at this baud rate?)")

    def _await(self, type: int, seq: int, wait: float) -> bytes | None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            # pyserial's read(n) waits for n bytes: ask for what is there (at least 1); a plain
            # transport returns what it has
            waiting = getattr(self.transport, "in_waiting", None)
            data = self.transport.read(READ_MAX if waiting is None else max(1, min(waiting, READ_MAX)))
            if data:
                reply = self._match(type, seq, self.parser.feed(data))
                if reply is not None:
                    return reply
        # Timed out: a partial frame the parser still holds will not be completed by a resend.
        return self._match(type, seq, self.parser.resync())

    def _match(self, type: int, seq: int, frames: list[Frame]) -> bytes | None:
        for f in frames:
            if f.seq != seq:
                self.stale += 1
                continue
            if f.type == vocab.LINK_NAK and len(f.payload) >= vocab.LINK_NAK_REPLY_BYTES:
                self._nak(type, f)
            if f.version != VERSION or f.type != type | vocab.LINK_REPLY_FLAG or not f.payload:
                self.stale += 1      # a bad reply: keep waiting, then resend
                continue
            return f.payload
        return None

    def _nak(self, type: int, f: Frame) -> None:
        reason, device_version = struct.unpack_from("<bB", f.payload)
        name = NAME_OF_TYPE.get(type, f"type {type:#04x}")
        if reason == vocab.LINK_ERR_VERSION or device_version != VERSION:
            raise NakError(f"device speaks protocol v{device_version}, this host v{VERSION}: update the "
                           "sketch or microlearn so that both match", reason, device_version)
        why = {vocab.LINK_ERR_TYPE: "the device does not know this request (another sketch kind?)",
               vocab.LINK_ERR_LENGTH: "wrong payload length for the device's number of features",
               vocab.LINK_ERR_TOO_LONG: "the request is longer than the device's receive buffer"}
        raise NakError(f"{name} refused by the device: {why.get(reason, f'reason {reason}')}", reason,
                       device_version)


# ---- the typed client ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceInfo:
    protocol: int
    kind: str                 # "train", "loop", "model" (or "kind N" for one this host does not know)
    n_features: int
    n_classes: int
    capacity: int             # rows the device can store (0 for a model sketch)
    max_request: int          # the largest request payload it accepts
    version: tuple[int, int, int]   # the microlearn version the sketch was built with


@dataclass(frozen=True)
class TrainResult:
    status: int               # >= 0: MLRN_OK or MLRN_MAX_ITER
    status_name: str
    iterations: int
    time_us: int              # micros() on the device (wraps after 71 minutes)


@dataclass(frozen=True)
class FeedbackResult:
    prediction: int | None    # before learning from the row; None when the device had no model yet
    event: str                # the learner's event: none, accepted, rollback, failed
    rows: int


@dataclass(frozen=True)
class EvalResult:
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else math.nan


INT16 = (-0x8000, 0x7FFF)


class Device:
    """The typed calls of a sketch speaking the protocol. hello() first (the other calls call it when it has
    not been): it starts the session and tells the number of features the rows must have."""

    def __init__(self, link: Link):
        self.link = link
        self.info: DeviceInfo | None = None

    def _call(self, type: int, payload: bytes, size: int | None, *, at_least: bool = False) -> bytes:
        reply = self.link.request(type, payload)
        name = NAME_OF_TYPE[type]
        status = struct.unpack_from("<b", reply)[0]
        if status < 0:
            raise DeviceError(name, status)
        if size is not None and (len(reply) < size if at_least else len(reply) != size):
            raise LinkError(f"{name}: malformed reply of {len(reply)} bytes (expected {size}); "
                            "the sketch does not follow the protocol")
        return reply

    def hello(self) -> DeviceInfo:
        nonce = struct.pack("<I", secrets.randbits(32))
        r = self._call(vocab.LINK_HELLO, nonce, vocab.LINK_HELLO_REPLY_BYTES)
        _, proto, kind, nf, nc, cap, max_req, major, minor, patch = struct.unpack("<bBBHBHBBBB", r)
        if proto != VERSION:
            raise NakError(f"device speaks protocol v{proto}, this host v{VERSION}: update the sketch or "
                           "microlearn so that both match", vocab.LINK_ERR_VERSION, proto)
        self.info = DeviceInfo(proto, KIND_NAMES.get(kind, f"kind {kind}"), nf, nc, cap, max_req,
                               (major, minor, patch))
        return self.info

    def _features(self, x: Sequence[float]) -> bytes:
        info = self.info or self.hello()
        try:
            values = [float(v) for v in x]
        except (TypeError, ValueError):
            raise ValueError("a row must be a sequence of numbers") from None
        if len(values) != info.n_features:
            raise ValueError(f"a row has {len(values)} features; the device expects {info.n_features}")
        try:
            return struct.pack(f"<{len(values)}f", *values)
        except OverflowError:
            raise ValueError("a feature is outside float32's range") from None

    @staticmethod
    def _label(label) -> bytes:
        if isinstance(label, bool) or not isinstance(label, int):
            try:
                if float(label) != int(label):
                    raise ValueError
                label = int(label)
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"a label must be an integer, got {label!r}") from None
        if not INT16[0] <= label <= INT16[1]:
            raise ValueError(f"label {label} outside int16")
        return struct.pack("<h", label)

    def send_row(self, x: Sequence[float], label: int) -> int:
        """Store a training row; returns the rows stored."""
        r = self._call(vocab.LINK_ROW, self._features(x) + self._label(label), vocab.LINK_ROW_REPLY_BYTES)
        return struct.unpack_from("<H", r, 1)[0]

    def train(self) -> TrainResult:
        r = self._call(vocab.LINK_TRAIN, b"", vocab.LINK_TRAIN_REPLY_BYTES)
        status, iterations, time_us = struct.unpack("<bII", r)
        return TrainResult(status, vocab.STATUS_NAMES.get(status, "unknown"), iterations, time_us)

    def predict(self, x: Sequence[float]) -> int:
        r = self._call(vocab.LINK_PREDICT, self._features(x), vocab.LINK_PREDICT_REPLY_BYTES)
        return struct.unpack_from("<h", r, 1)[0]

    def feedback(self, x: Sequence[float], label: int) -> FeedbackResult:
        r = self._call(vocab.LINK_FEEDBACK, self._features(x) + self._label(label),
                       vocab.LINK_FEEDBACK_REPLY_BYTES)
        _, pred, event, rows = struct.unpack("<bhBH", r)
        return FeedbackResult(None if pred == vocab.LINK_NO_PREDICTION else pred,
                              EVENT_NAMES.get(event, f"event {event}"), rows)

    def evaluate(self) -> EvalResult:
        _, correct, total = struct.unpack("<bHH", self._call(vocab.LINK_EVAL, b"", vocab.LINK_EVAL_REPLY_BYTES))
        return EvalResult(correct, total)

    def model_bytes(self) -> bytes:
        """The device's model, reassembled from MODEL replies (each carries the total and a chunk)."""
        head = vocab.LINK_MODEL_REPLY_HEADER_BYTES
        out = bytearray()
        total = None
        while total is None or len(out) < total:
            r = self._call(vocab.LINK_MODEL, struct.pack("<H", len(out)), head, at_least=True)
            t = struct.unpack_from("<H", r, 1)[0]
            if total is None:
                total = t
            elif t != total:
                raise LinkError(f"MODEL: the model changed size during the transfer ({total} -> {t} bytes)")
            chunk = r[head:]
            if not chunk and len(out) < total:
                raise LinkError(f"MODEL: empty chunk at offset {len(out)} of {total}")
            if len(out) + len(chunk) > total:
                raise LinkError(f"MODEL: chunk at offset {len(out)} runs past the total of {total} bytes")
            out += chunk
        return bytes(out)

    def clear(self) -> None:
        self._call(vocab.LINK_CLEAR, b"", vocab.LINK_CLEAR_REPLY_BYTES)
