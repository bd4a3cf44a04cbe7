"""Serial ports of emulated boards (microlearn.targets.serial_port): a host program talks to the firmware
through a pseudo-terminal exactly as through a real board's port, with pyserial or plain os.open.

Firmwares: c/serial_echo_avr.c (its own USART0 code, an RX interrupt and a 64-byte ring as Arduino's
HardwareSerial, 115200 baud) and c/serial_echo_cm.c (mlrn_cm_uart.h, polled). Both answer the first byte
with the line "mlrn-echo ready\\n" and every later byte with byte + 1. One default test per kind of target
(uno, nrf52840, samd21); the longer matrices are marked slow.
"""
from __future__ import annotations

import os
import tty
import select
import subprocess
import time
from pathlib import Path

import pytest

from conftest import board_param
from microlearn.targets import RunError, TargetUnavailable, emulated_serial_port, get_target
from microlearn.targets.base import SUPPORT_DIR
from microlearn.targets.cortexm import uart_defines
from microlearn.targets.serial_port import MAX_ELF_BYTES, simavr_serial_binary

serial = pytest.importorskip("serial", reason="pyserial not installed (apt-get install python3-serial)")

C_DIR = Path(__file__).resolve().parent / "c"
BAUD = 115200
BANNER = b"mlrn-echo ready\n"
ECHO, NEVER_READS, SPIN, SLOW_POLLED = 0, 1, 2, 3   # SERIAL_MODE of the firmwares
ALL_BYTES = bytes(range(256))
BURST = 4096
READ_TIMEOUT = 20.0      # s for pyserial reads: far above the ~0.5 s the bursts take
KILL_TIMEOUT = 2.0       # s the port lives in the timeout tests


def plus_one(data: bytes) -> bytes:
    return bytes((b + 1) & 0xFF for b in data)


def _target(board: str):
    t = get_target(board)
    try:
        t.check()
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    return t


_BUILT: dict = {}


def firmware(board: str, mode: int, tmp_path_factory) -> Path:
    """The echo firmware for `board` in SERIAL_MODE `mode`, built once per session."""
    key = (board, mode)
    if key not in _BUILT:
        t = _target(board)
        work = tmp_path_factory.mktemp(f"serial-{board}-{mode}")
        if t.kind == "avr":
            build = t.build([C_DIR / "serial_echo_avr.c"], work, defines={"SERIAL_MODE": mode})
        else:
            build = t.build([C_DIR / "serial_echo_cm.c"], work, include_dirs=[SUPPORT_DIR / "cortexm"],
                            defines={**uart_defines(t.board), "SERIAL_MODE": mode})
        _BUILT[key] = Path(build.path)
    return _BUILT[key]


def read_exactly(s, n: int) -> bytes:
    got = s.read(n)
    assert len(got) == n, f"{len(got)} of {n} bytes arrived within {READ_TIMEOUT} s"
    return got


def hello(s) -> None:
    """The first byte asks for the banner line."""
    s.write(b"?")
    assert s.readline() == BANNER


def pty_node(port):
    """The identity of the port's device node while it lives (tests run in parallel: once freed, the same
    /dev/pts/N may be given to another test's pty at once, so "gone" means absent or another node)."""
    st = os.stat(port.port)
    return st.st_ino, st.st_ctime_ns


def assert_gone(port, node) -> None:
    assert port.process.poll() is not None, "the emulator still runs after the context"
    try:
        st = os.stat(port.port)
    except FileNotFoundError:
        return
    assert (st.st_ino, st.st_ctime_ns) != node, "the pty still exists after the context"


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840"), board_param("samd21"),
                                   board_param("mega2560", slow=True), board_param("bluepill", slow=True)])
def test_echo_through_pyserial(board, tmp_path_factory):
    """A line on request, all 256 byte values both ways, then a 4 KB burst written at once: complete and in
    order (AVR: through the firmware's RX interrupt and 64-byte ring at 115200 baud, simulated time paced by
    the wall clock). The emulator is gone and the pty closed after the context."""
    elf = firmware(board, ECHO, tmp_path_factory)
    burst = os.urandom(BURST)
    with emulated_serial_port(board, elf, timeout=120) as port:
        node = pty_node(port)
        assert port.port.startswith("/dev/pts/")
        with serial.serial_for_url(port.port, BAUD, timeout=READ_TIMEOUT) as s:
            hello(s)
            s.write(ALL_BYTES)
            assert read_exactly(s, 256) == plus_one(ALL_BYTES)
            s.write(burst)
            assert read_exactly(s, BURST) == plus_one(burst)
        assert port.result() is None     # still running: only the context's exit stops it
    assert_gone(port, node)
    res = port.result()
    assert res.status == "closed"
    if get_target(board).kind == "avr":
        # Every byte entered the UART, none was lost; the firmware sent the banner and the answers.
        assert res.extra["rx_bytes"] == 1 + 256 + BURST and res.extra["rx_overruns"] == 0
        assert res.extra["tx_bytes"] == len(BANNER) + 256 + BURST
        # Simulated time follows the baud rate: the bytes cannot have arrived faster than the wire's pace.
        assert res.cycles >= res.extra["rx_bytes"] * res.extra["frame_cycles"]
        assert 0 < res.stack_bytes < 256
    else:
        assert res.instructions is None or res.instructions > 0


@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840", slow=True),
                                   board_param("samd21", slow=True)])
def test_plain_os_open_is_raw(board, tmp_path_factory):
    """Without pyserial (no termios set by the host): the port is raw as it stands, 8-bit clean, no echo
    of what the host writes, no CR/LF translation either way."""
    elf = firmware(board, ECHO, tmp_path_factory)
    with emulated_serial_port(board, elf, timeout=60) as port:
        node = pty_node(port)
        fd = os.open(port.port, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"?" + ALL_BYTES)
            want = BANNER + plus_one(ALL_BYTES)
            got = b""
            deadline = time.monotonic() + READ_TIMEOUT
            while len(got) < len(want) and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.5)[0]:
                    got += os.read(fd, 4096)
            assert got == want      # no echo of the host's bytes, no \n -> \r\n, nothing else
        finally:
            os.close(fd)
    assert_gone(port, node)


def test_slow_firmware_overruns_as_on_a_board(tmp_path_factory):
    """A firmware that spends longer on each byte than a frame takes to arrive loses bytes in the UART
    (data overrun), as on a real ATmega: the port does not slow the host down to hide it. What does arrive
    is answered in order."""
    elf = firmware("uno", SLOW_POLLED, tmp_path_factory)
    sent = bytes(range(1, 201))
    with emulated_serial_port("uno", elf, timeout=60) as port:
        with serial.serial_for_url(port.port, BAUD, timeout=2) as s:
            hello(s)
            s.write(sent)
            got = s.read(len(sent))
    res = port.result()
    assert 0 < len(got) < len(sent)
    assert list(got) == sorted(got) and set(got) <= set(plus_one(sent))   # a subsequence, in order
    assert res.extra["rx_overruns"] == len(sent) - len(got)
    assert res.extra["rx_bytes"] == 1 + len(got)


def board_mode(board: str, mode: int, name: str, slow: bool = False):
    p = board_param(board, slow)
    return pytest.param(board, mode, marks=p.marks, id=f"{board}-{name}")


@pytest.mark.parametrize("board,mode", [board_mode("uno", SPIN, "spin"),
                                        board_mode("uno", NEVER_READS, "never_reads", slow=True),
                                        board_mode("nrf52840", SPIN, "spin", slow=True),
                                        board_mode("nrf52840", NEVER_READS, "never_reads", slow=True),
                                        board_mode("samd21", NEVER_READS, "never_reads", slow=True)])
def test_timeout_kills(board, mode, tmp_path_factory):
    """A firmware that never reads, and one that loops forever, are killed at the wall-clock timeout: the
    wait ends, the status says so, nothing is left running."""
    elf = firmware(board, mode, tmp_path_factory)
    start = time.monotonic()
    with emulated_serial_port(board, elf, timeout=KILL_TIMEOUT) as port:
        node = pty_node(port)
        fd = os.open(port.port, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"?" + bytes(64))      # bytes it will never take
            res = port.wait(timeout=KILL_TIMEOUT + 30)
        finally:
            os.close(fd)
    assert res.status == "timeout"
    assert KILL_TIMEOUT <= time.monotonic() - start < KILL_TIMEOUT + 15
    assert_gone(port, node)


def test_exception_in_context_stops_emulator(tmp_path_factory):
    elf = firmware("uno", ECHO, tmp_path_factory)
    with pytest.raises(KeyError):
        with emulated_serial_port("uno", elf, timeout=60) as port:
            node = pty_node(port)
            raise KeyError("the host program failed")
    assert_gone(port, node)
    assert port.result().status == "closed"


def test_cycle_limit(tmp_path_factory):
    elf = firmware("uno", SPIN, tmp_path_factory)
    limit = 2_000_000
    with emulated_serial_port("uno", elf, timeout=60, max_cycles=limit, realtime=False) as port:
        res = port.wait(timeout=60)
    assert res.status == "cycle_limit" and limit <= res.cycles < limit + 10_000


@pytest.mark.parametrize("board", [board_param("nrf52840", slow=True)])
def test_instruction_limit(board, tmp_path_factory):
    elf = firmware(board, SPIN, tmp_path_factory)
    limit = 5_000_000
    with emulated_serial_port(board, elf, timeout=60, max_cycles=limit) as port:
        res = port.wait(timeout=60)
    assert res.status == "instruction_limit"
    assert res.instructions is None or res.instructions >= limit


# ---- refusals: nothing is started --------------------------------------------------------------------------
@pytest.mark.hostile
@pytest.mark.parametrize("board", [board_param("uno"), board_param("nrf52840")])
def test_refuses_what_is_not_a_firmware_for_the_board(board, tmp_path, tmp_path_factory):
    _target(board)
    other = "nrf52840" if get_target(board).kind == "avr" else "uno"
    text = tmp_path / "notes.txt"
    text.write_bytes(b"not an ELF at all\n" * 4)
    real = firmware(board, ECHO, tmp_path_factory)
    truncated = tmp_path / "truncated.elf"
    truncated.write_bytes(real.read_bytes()[:64])
    fifo = tmp_path / "fifo.elf"
    os.mkfifo(fifo)                         # opening it would block: refused from its type
    huge = tmp_path / "huge.elf"
    with open(huge, "wb") as fh:           # sparse: no disk used
        fh.write(b"\x7fELF")
        fh.truncate(MAX_ELF_BYTES + 1)
    cases = {text: "not an ELF", truncated: "damaged", huge: "accepted", tmp_path / "missing.elf": "cannot read",
             tmp_path: "not a regular file", fifo: "not a regular file"}
    if not [t for t in (other,) if _tools_missing(t)]:
        cases[firmware(other, ECHO, tmp_path_factory)] = "another processor"
    for path, words in cases.items():
        with pytest.raises(RunError, match=words):
            with emulated_serial_port(board, path, timeout=10):
                pass


def _tools_missing(board: str) -> bool:
    try:
        get_target(board).check()
    except TargetUnavailable:
        return True
    return False


@pytest.mark.hostile
def test_refuses_sequences_simavr_misexecutes(tmp_path):
    t = _target("uno")
    build = t.build([C_DIR / "signed_div16.c"], tmp_path)
    with pytest.raises(RunError, match="adiw/sbiw"):
        with emulated_serial_port("uno", build.path, timeout=10):
            pass


@pytest.mark.hostile
@pytest.mark.parametrize("options", [{"timeout": 0}, {"timeout": -1}, {"timeout": float("nan")},
                                     {"timeout": "5"}, {"max_cycles": 0}, {"max_cycles": -5},
                                     {"max_cycles": 1.5}, {"max_cycles": True},
                                     {"max_cycles": 1 << 64}])
def test_refuses_bad_options(options, tmp_path):
    with pytest.raises(ValueError):
        emulated_serial_port("uno", tmp_path / "x.elf", **options)


def test_simavr_serial_reports_a_bad_descriptor(tmp_path, tmp_path_factory):
    """The C program alone: a descriptor that is not open gives one line and exit status 2."""
    _target("uno")
    elf = firmware("uno", ECHO, tmp_path_factory)
    proc = subprocess.run([str(simavr_serial_binary()), "atmega328p", "16000000", "1000", str(elf), "99"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "not an open file descriptor" in proc.stderr


def test_simavr_serial_ends_when_the_host_hangs_up(tmp_path_factory):
    """The C program alone on a pty: it answers through the master it inherited, and ends with
    status=hangup (its report last on stderr) once nobody holds the slave side open any more."""
    _target("uno")
    elf = firmware("uno", ECHO, tmp_path_factory)
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        proc = subprocess.Popen([str(simavr_serial_binary()), "atmega328p", "16000000", "0", str(elf), str(master)],
                                pass_fds=[master], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        os.close(master)
        os.write(slave, b"?A")
        got = b""
        deadline = time.monotonic() + READ_TIMEOUT
        while len(got) < len(BANNER) + 1 and time.monotonic() < deadline:
            if select.select([slave], [], [], 0.5)[0]:
                got += os.read(slave, 64)
        assert got == BANNER + b"B"
    finally:
        os.close(slave)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    report = err.decode().strip().splitlines()[-1]
    assert proc.returncode == 0 and report.startswith("@mlrn-simavr-serial status=hangup ")
    assert " rx_bytes=2 " in report and f" tx_bytes={len(BANNER) + 1} " in report


def test_an_eeprom_image_is_for_avr_boards_only(tmp_path):
    from microlearn.targets import emulated_serial_port
    with pytest.raises(ValueError, match="AVR boards"):
        emulated_serial_port("nrf52840", tmp_path / "fw.elf", eeprom=b"\xff" * 16)
