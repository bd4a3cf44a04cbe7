"""Serial ports of emulated boards: a pseudo-terminal that a host program opens exactly as it opens a real
board's /dev/ttyUSB0 (pyserial, or plain os.open), with the board's firmware running in an emulator on the
other end.

    with emulated_serial_port("uno", Path("fw.elf")) as port:
        with serial.serial_for_url(port.port, 115200, timeout=2) as s:
            s.write(b"...")
    port.result()   # how the emulator ended: status, cycles (AVR) or instructions (qemu)

How: this module makes the pty pair (os.openpty), puts the slave side in raw mode (8-bit clean: no echo,
no CR/LF translation, no signals) and hands the master side, as an inherited descriptor, to the emulator,
which it starts confined as every run is (sandbox: mlrn_confine with Landlock or a mount namespace, the
resource limits; qemu keeps its -sandbox too). The emulator never opens a device itself, so /dev/ptmx and
/dev/pts stay outside its sandbox.

- AVR boards (uno, nano, mega2560): support/avr/simavr_serial.c, a libsimavr program bridging USART0 to
  the descriptor. Host bytes enter the UART at its own pace (one per simavr frame time), a byte the firmware
  does not read in time is lost as on the part (counted: rx_overruns), and simulated time is kept from
  running ahead of wall time (`realtime`), so millis() and the host's timeouts agree.
- Cortex-M boards (qemu's mps2 and microbit machines): the command of CortexMTarget.qemu_command with its
  `-serial none` replaced by the machine's UART0 on a qemu "serial" chardev whose path is the descriptor
  (-add-fd / /dev/fdset). qemu offers the model a byte only when its can_receive says it has room (CMSDK
  UART: 1 byte; nRF51 UART: 6), so nothing is lost however slowly the guest polls: the bytes wait in the
  pty. There is no baud-rate timing in these models: bytes move as fast as the guest reads and writes them.

The emulator runs until the firmware ends (AVR: cli+sleep or a return from main; qemu: semihosting exit),
crashes, reaches `max_cycles`, the wall-clock `timeout` passes, or the context exits: it is then stopped
(SIGTERM, then SIGKILL after a short grace) and its pty closed, also on exceptions. docs/targets.md,
"Serial ports of emulated boards".
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from microlearn.boards.registry import Board, get_board

from . import _toolchain as tc
from . import sandbox
from .avr import AVR_SUPPORT, AvrTarget
from .base import SUPPORT_DIR, Build, parse_measurements
from .cortexm import CortexMTarget
from .errors import RunError, TargetUnavailable
from .simavr_quirks import misexecuted_skips

MAX_ELF_BYTES = 64 << 20        # a firmware file larger than this is refused before any tool reads it
_ELF_MAGIC = b"\x7fELF"
_ELF_MACHINE = {"avr": 83, "cortex-m": 40}   # e_machine: EM_AVR, EM_ARM
_ELF_MACHINE_OFFSET = 18
_AVR_FD_ARG = 5                 # simavr_serial's UART_FD argument
# ELF32 header: e_ident, then (skipping type, machine, version, entry) e_phoff; (skipping shoff, flags,
# ehsize) e_phentsize, e_phnum. A program header: type, offset, vaddr, paddr, filesz, memsz.
_ELF_HEADER = struct.Struct("<16s12xI10xHH")
_PHDR = struct.Struct("<IIIIII")
_ELFCLASS32, _ELFDATA2LSB = 1, 1
_MAX_SEGMENTS = 64
_FDSET = 1                      # qemu's -add-fd set that carries the pty
_CHARDEV = "mlrn_uart0"
_READY_LINE = b"@mlrn-simavr-serial ready"
_REPORT_TAG = "@mlrn-simavr-serial "
_READY_TIMEOUT = 20.0           # s for simavr_serial to load the firmware (it takes milliseconds)
_GRACE = 1.0                    # s between SIGTERM (the emulator writes its report) and SIGKILL
_WATCH_PERIOD = 0.05            # s between the watchdog's checks (deadline, run directory size)
# qemu 7.2 offers host bytes to a UART model only from its main loop, which decides whether to watch the pty
# when it wakes: a model that could not take a byte (receiver not yet enabled at start-up) is not asked again
# until something wakes that loop, which may be never. SIGALRM is one of the signals qemu reads through its
# signalfd (harmless: no handler), so a kick every _KICK_PERIOD wakes it; sent only once every thread of
# the process blocks SIGALRM (before that its default action would end qemu). Measured: without kicks a
# byte sent in qemu's first ~0.2 s was never delivered in 9 of 10 starts; with them, 10 of 10.
_KICK_PERIOD = 0.02
_SIGALRM_BIT = 1 << (signal.SIGALRM - 1)
_LOG_KEEP = 64 << 10            # bytes of the emulator's stderr kept (head and tail each)
_SIMAVR_MEMORY = 1 << 30        # address spaces, as the targets give them
_QEMU_MEMORY = 4 << 30
_MAX_OUTPUT = sandbox.DEFAULT_MAX_OUTPUT
_MAX_CYCLES = 1 << 62           # what the emulators' 64-bit counters take without wrapping
_OPEN: "weakref.WeakSet[EmulatedPort]" = weakref.WeakSet()   # stopped at interpreter exit if still open


@atexit.register
def _close_all() -> None:
    """A port left open (no `with`) must not outlive the program: its emulator is stopped here."""
    for port in list(_OPEN):
        port.close()


@dataclass
class SerialRunResult:
    """How an emulated board's run ended.

    status: 'exit' (the firmware ended: cli+sleep on AVR, a semihosting exit on qemu), 'exit_loop' (AVR:
    main returned), 'crash', 'hangup' (every host side of the pty closed), 'cycle_limit' (AVR) /
    'instruction_limit' (qemu), 'closed' (stopped when the context exited), 'timeout' (the wall-clock limit),
    'failed' (the emulator could not run the firmware; `log` says why)."""
    status: str
    exit_code: int | None = None
    cycles: int | None = None          # AVR: simulated cycles run (exact)
    instructions: int | None = None    # qemu: guest instructions executed (the plugin's count)
    stack_bytes: int | None = None     # AVR: stack high-water mark
    wall_seconds: float = 0.0
    returncode: int | None = None      # the emulator process's
    log: str = ""                      # the emulator's stderr (bounded)
    extra: dict = field(default_factory=dict)   # AVR: rx_bytes, tx_bytes, rx_overruns, rx_dropped


class _BoundedLog:
    """The head and tail of a stream, _LOG_KEEP bytes each: a flooding guest costs no memory."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.cut = False

    def add(self, data: bytes) -> None:
        room = _LOG_KEEP - len(self.head)
        self.head += data[:room]
        rest = data[room:] if room > 0 else data
        if rest:
            self.tail += rest
            if len(self.tail) > _LOG_KEEP:
                del self.tail[:len(self.tail) - _LOG_KEEP]
                self.cut = True

    def text(self) -> str:
        middle = b"\n[...]\n" if self.cut else b""
        return (bytes(self.head) + middle + bytes(self.tail)).decode("utf-8", "replace")


class EmulatedPort:
    """A running emulated board and its serial port. `port`: the device path (/dev/pts/N); `process`: the
    emulator (subprocess.Popen); `startup_seconds`: from starting the emulator until it was ready (AVR: the
    firmware loaded; qemu: the process started)."""

    def __init__(self, board: Board, elf: Path, *, timeout: float, max_cycles: int | None, realtime: bool,
                 host_cc: str = "cc", eeprom: bytes | None = None):
        self.board = board
        self.elf = elf
        self.timeout = timeout
        self.port: str = ""
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self._max_cycles = max_cycles
        self._realtime = realtime
        self._cc = host_cc
        self._slave_fd: int | None = None
        self._report_fd: int | None = None
        self._eeprom_in = eeprom
        self._ee_fds: list[int] = []
        self._ee_out: Path | None = None
        self._dirs: list[tempfile.TemporaryDirectory] = []
        self._log = _BoundedLog()
        self._ready = threading.Event()
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._stopped_as: str | None = None
        self._result: SerialRunResult | None = None
        self._threads: list[threading.Thread] = []
        self._start = 0.0

    # ---- start --------------------------------------------------------------------------------------
    def _open(self) -> "EmulatedPort":
        if not sys.platform.startswith("linux"):
            raise TargetUnavailable("emulated serial ports need Linux (pseudo-terminals and the sandbox)")
        if self.board.arch == "avr":
            cmd, read, write, memory, run_dir = self._avr_command()
        elif self.board.arch == "cortex-m":
            cmd, read, write, memory, run_dir = self._qemu_command()
        else:
            raise TargetUnavailable(f"{self.board.name}: no emulator with a serial port for {self.board.core}")
        master, slave = os.openpty()
        try:
            _make_raw(slave)
            self.port = os.ttyname(slave)
            self._slave_fd = slave
            if self.board.arch == "cortex-m":
                cmd = _with_uart(cmd, master)
            else:
                cmd[_AVR_FD_ARG] = str(master)
            argv = _confined(cmd, read=read, write=write, timeout=self.timeout, memory=memory, cc=self._cc)
            pass_fds = [master] + ([self._report_fd] if self._report_fd is not None else []) + self._ee_fds
            self._start = time.monotonic()
            self.process = subprocess.Popen(argv, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, env=sandbox._env(), start_new_session=True,
                                            pass_fds=pass_fds)
        except BaseException:
            os.close(slave)
            self._slave_fd = None
            raise
        finally:
            # The emulator holds the master now: when it ends, the port reports a hang-up, as a board
            # that is unplugged. The slave stays open here until close(): the firmware's first bytes wait in
            # the pty until a host opens the port (pyserial discards them on open, as with a real adapter),
            # and the emulator sees no hang-up between hosts.
            os.close(master)
        _OPEN.add(self)
        for target in (self._read_stderr, self._watch):
            t = threading.Thread(target=target, daemon=True, name=f"mlrn-serial-{target.__name__}")
            t.start()
            self._threads.append(t)
        if self.board.arch == "avr":
            ready_by = time.monotonic() + min(_READY_TIMEOUT, self.timeout)
            while not self._ready.is_set() and not self._ended.is_set() and time.monotonic() < ready_by:
                self._ready.wait(0.005)
            if not self._ready.is_set():
                result = self.close()
                refused = next((ln for ln in result.log.splitlines() if "firmware refused" in ln
                                or "mlrn_confine:" in ln or "simavr_serial:" in ln), "")
                raise RunError(f"{self.board.name}: the emulator did not start"
                               + (f": {refused.strip()}" if refused else f" ({result.status}): {result.log[-300:]}"))
        self.startup_seconds = time.monotonic() - self._start
        return self

    def _avr_command(self):
        target = AvrTarget(self.board, host_cc=self._cc)
        target.check()
        tc.require_tool(target.objdump, "install the AVR toolchain (apt-get install gcc-avr binutils-avr)")
        runner = simavr_serial_binary(self._cc)
        _check_elf(self.board, self.elf, target.size)
        wrong = misexecuted_skips(self.elf, target.objdump)
        if wrong:
            raise RunError(f"{self.board.name}: simavr would run this firmware wrongly: a skip over adiw/sbiw at "
                           f"0x{', 0x'.join(wrong[:4])} (see microlearn.targets.simavr_quirks); not run")
        exit_loop = tc.symbols(target.nm, self.elf)[1].get("__stop_program")
        run_dir = self._tempdir("mlrn-serial-avr-")
        cmd = [str(runner), self.board.machine, str(self.board.clock_hz), str(self._max_cycles or 0),
               str(self.elf), "FD", "1" if self._realtime else "0", hex(exit_loop) if exit_loop is not None else "-"]
        # The EEPROM: an image in (a power cycle), always the image out (result().extra["eeprom"]); descriptors
        # of files in a directory the firmware's process cannot name.
        ee_dir = Path(self._tempdir("mlrn-serial-eeprom-"))
        ee_in = "-"
        if self._eeprom_in is not None:
            (ee_dir / "in").write_bytes(bytes(self._eeprom_in))
            fd = os.open(ee_dir / "in", os.O_RDONLY)
            self._ee_fds.append(fd)
            ee_in = str(fd)
        self._ee_out = ee_dir / "out"
        fd = os.open(self._ee_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._ee_fds.append(fd)
        cmd += [ee_in, str(fd)]
        return cmd, [runner, self.elf], [run_dir], _SIMAVR_MEMORY, run_dir

    def _qemu_command(self):
        target = CortexMTarget(self.board, host_cc=self._cc, max_instructions=self._max_cycles or 0)
        target.check()
        _check_elf(self.board, self.elf, target.size)
        run_dir = self._tempdir("mlrn-serial-qemu-")
        report = Path(self._tempdir("mlrn-serial-qemu-report-")) / "report"
        # The plugin's report goes to a file the guest can neither name nor open (as CortexMTarget.run).
        self._report_path = report
        self._report_fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        cmd = target.qemu_command(Build(target=self.board.name, path=self.elf), report_fd=self._report_fd)
        return cmd, [self.elf, target.plugin()], [run_dir], _QEMU_MEMORY, run_dir

    def _tempdir(self, prefix: str) -> str:
        d = tempfile.TemporaryDirectory(prefix=prefix)
        self._dirs.append(d)
        return d.name

    # ---- while running ------------------------------------------------------------------------------
    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        pending = b""
        for chunk in iter(lambda: self.process.stderr.read1(65536), b""):
            self._log.add(chunk)
            if not self._ready.is_set():
                pending = (pending + chunk)[-4096:]
                if _READY_LINE in pending:
                    self._ready.set()

    def _watch(self) -> None:
        """Stop the emulator at the wall-clock limit, or when the guest fills its run directory
        (semihosting files: each is bounded by RLIMIT_FSIZE, their total here); kick qemu's main loop."""
        assert self.process is not None
        deadline = self._start + self.timeout
        dirs = [Path(d.name) for d in self._dirs]
        qemu = self.board.arch == "cortex-m"
        next_check = 0.0
        while self.process.poll() is None:
            now = time.monotonic()
            if now >= deadline:
                self._stop("timeout")
                break
            if now >= next_check:
                next_check = now + _WATCH_PERIOD
                if dirs and sandbox._dir_over(dirs, 2 * _MAX_OUTPUT):
                    self._stop("output_limit")
                    break
            if qemu:
                _kick_qemu(self.process.pid)
            if self._ended.wait(_KICK_PERIOD if qemu else _WATCH_PERIOD):
                break
        self.process.wait()
        self._ended.set()

    def _stop(self, why: str) -> None:
        """SIGTERM (the emulator ends cleanly and reports), SIGKILL after the grace; only our process group."""
        proc = self.process
        if proc is None:
            return
        with self._lock:
            if self._stopped_as is None and proc.poll() is None:
                self._stopped_as = why
            else:
                return
        for sig, grace in ((signal.SIGTERM, _GRACE), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    # ---- the end --------------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> SerialRunResult:
        """Block until the emulator ends (at the latest at the port's own `timeout`); the result.
        Raises subprocess.TimeoutExpired if it is still running after `timeout` seconds of this call."""
        assert self.process is not None
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(self.process.args, timeout or 0)
        return self._finish()

    def result(self) -> SerialRunResult | None:
        """The end status once the emulator has ended, else None (it is still running)."""
        if self.process is None or self.process.poll() is None:
            return None
        return self.wait()

    def close(self) -> SerialRunResult:
        """Stop the emulator (if it still runs), close the port; the result. Idempotent."""
        if self.process is not None:
            self._stop("closed")
            self.process.wait()
            self._ended.set()
        for t in self._threads:
            t.join(timeout=5)
        result = self._finish()
        if self._slave_fd is not None:
            os.close(self._slave_fd)
            self._slave_fd = None
        if self._report_fd is not None:
            os.close(self._report_fd)
            self._report_fd = None
        for fd in self._ee_fds:
            os.close(fd)
        self._ee_fds.clear()
        for d in self._dirs:
            d.cleanup()
        self._dirs.clear()
        _OPEN.discard(self)
        return result

    def _finish(self) -> SerialRunResult:
        with self._lock:
            if self._result is not None:
                return self._result
            if self.process is None:          # refused before anything was started
                self._result = SerialRunResult(status="failed")
                return self._result
            for t in self._threads:
                if t.name.endswith("_read_stderr"):
                    t.join(timeout=5)
            rc = self.process.wait()
            wall = time.monotonic() - self._start
            log = self._log.text()
            if self.board.arch == "avr":
                res = _avr_result(rc, log, self._stopped_as)
                if self._ee_out is not None and self._ee_out.exists():
                    res.extra["eeprom"] = self._ee_out.read_bytes()
            else:
                res = _qemu_result(rc, log, self._stopped_as, _read_report(getattr(self, "_report_path", None)))
            res.wall_seconds, res.returncode, res.log = wall, rc, log
            self._result = res
            return res

    def __enter__(self) -> "EmulatedPort":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def simavr_serial_binary(cc: str = "cc") -> Path:
    """The cached simavr_serial program (support/avr/simavr_serial.c, built on first use)."""
    return tc.cached_host_binary(AVR_SUPPORT / "simavr_serial.c", "simavr_serial", ["-lsimavr"], cc=cc,
                                 depends=[AVR_SUPPORT / "mlrn_untrusted_elf.h", AVR_SUPPORT / "mlrn_mmcu_check.h",
                                          SUPPORT_DIR / "sandbox" / "mlrn_landlock.h"])


def emulated_serial_port(board: str | Board, elf: Path | str, *, timeout: float = 300, max_cycles: int | None = None,
                         realtime: bool = True, host_cc: str = "cc", eeprom: bytes | None = None) -> EmulatedPort:
    """Start `elf` on an emulated `board` with its UART0 on a pseudo-terminal; use as a context manager
    (the emulator is stopped and the port closed on exit). `timeout`: wall-clock seconds before the emulator
    is killed; `max_cycles`: simulated cycles (AVR) or guest instructions (qemu) before it stops, None for no
    limit; `realtime` (AVR): keep simulated time from running ahead of wall time (False: as fast as possible);
    `eeprom` (AVR): the EEPROM's content at power-on (default erased, 0xFF); the content at the end is in
    the result's extra["eeprom"] (so a second run with it is a power cycle).
    Raises RunError for a firmware refused (not an ELF for the board, too large, a sequence simavr runs
    wrongly), TargetUnavailable when the tools are missing."""
    b = get_board(board) if isinstance(board, str) else board
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if max_cycles is not None and (not isinstance(max_cycles, int) or isinstance(max_cycles, bool)
                                   or not 0 < max_cycles <= _MAX_CYCLES):
        raise ValueError(f"max_cycles must be an integer from 1 to {_MAX_CYCLES} or None, not {max_cycles!r}")
    if b.arch not in _ELF_MACHINE:
        raise TargetUnavailable(f"{b.name}: no emulated serial port for {b.core} boards (AVR and Cortex-M only)")
    if eeprom is not None and b.arch != "avr":
        raise ValueError(f"{b.name}: an EEPROM image is for the AVR boards (the shim's EEPROM is a semihosted file)")
    port = EmulatedPort(b, Path(elf).resolve(), timeout=float(timeout), max_cycles=max_cycles,
                        realtime=bool(realtime), host_cc=host_cc, eeprom=eeprom)
    try:
        return port._open()
    except BaseException:
        port.close()
        raise


# ---- helpers ------------------------------------------------------------------------------------------
def _make_raw(fd: int) -> None:
    """The slave side as a real serial port in raw mode: 8 data bits, no parity, no echo, no line editing,
    no signals, no flow control, and no output processing at all (c_oflag 0: qemu's serial chardev turns
    OPOST back on through the master, which then changes nothing because ONLCR and the others are off)."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
    iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR | termios.IGNCR
               | termios.ICRNL | termios.IXON | termios.IXOFF | termios.IXANY | termios.INPCK)
    oflag = 0
    cflag = (cflag & ~(termios.CSIZE | termios.PARENB | termios.CSTOPB)) | termios.CS8 | termios.CREAD | termios.CLOCAL
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cc = list(cc)
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, termios.B115200, termios.B115200, cc])


def _with_uart(cmd: list[str], master: int) -> list[str]:
    """qemu_command's `-serial none` replaced by UART0 on the pty master (a "serial" chardev on the inherited
    descriptor: qemu dups it from the fd set, so it opens no file)."""
    for i in range(len(cmd) - 1):
        if cmd[i] == "-serial" and cmd[i + 1] == "none":
            return [*cmd[:i], "-add-fd", f"fd={master},set={_FDSET}", "-chardev",
                    f"serial,id={_CHARDEV},path=/dev/fdset/{_FDSET}", "-serial", f"chardev:{_CHARDEV}", *cmd[i + 2:]]
    raise RunError("the qemu command has no '-serial none' to replace (CortexMTarget.qemu_command changed)")


def _confined(cmd: list[str], *, read, write, timeout: float, memory: int, cc: str) -> list[str]:
    """The command under mlrn_confine, as sandbox.run_confined starts it (that one waits for the end; a
    serial port runs alongside its host)."""
    mode = sandbox.sandbox_mode(cc)
    exe = os.path.realpath(shutil.which(cmd[0]) or cmd[0])
    cpu = int(2 * timeout) + 5
    wrapper = [str(sandbox.confine_binary(cc)), "-M", mode, "-f", str(_MAX_OUTPUT), "-t", str(cpu), "-m", str(memory)]
    if mode == "namespace":
        root = Path(write[0]) / ".root"
        root.mkdir()
        wrapper += ["-R", str(root)]
    for r in (*sandbox.SYSTEM_READ, exe, *map(os.path.realpath, read)):
        wrapper += ["-r", r]
    for w in (*sandbox.SYSTEM_WRITE, *map(os.path.realpath, write)):
        wrapper += ["-w", w]
    return [*wrapper, "--", exe, *cmd[1:]]


def _kick_qemu(pid: int) -> None:
    """Wake qemu's main loop with SIGALRM if every one of its threads blocks that signal (see _KICK_PERIOD)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        for tid in tasks:
            with open(f"/proc/{pid}/task/{tid}/status", "rb") as fh:
                blocked = next((ln for ln in fh if ln.startswith(b"SigBlk:")), None)
            if blocked is None or not int(blocked.split()[1], 16) & _SIGALRM_BIT:
                return
        os.kill(pid, signal.SIGALRM)
    except (OSError, ValueError, IndexError):
        pass    # the process is ending, or /proc is not there: no kick


def _check_elf(board: Board, elf: Path, size_tool: str) -> None:
    """Refuse what is not a firmware for this board, before an emulator parses it."""
    try:
        st = elf.stat()
    except OSError as exc:
        raise RunError(f"{board.name}: cannot read the firmware {elf}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):     # a directory, a FIFO (an open would block), a device
        raise RunError(f"{board.name}: the firmware {elf} is not a regular file")
    try:
        with open(elf, "rb") as fh:
            head = fh.read(_ELF_MACHINE_OFFSET + 2)
    except OSError as exc:
        raise RunError(f"{board.name}: cannot read the firmware {elf}: {exc.strerror}") from None
    if st.st_size > MAX_ELF_BYTES:
        raise RunError(f"{board.name}: the firmware {elf} is {st.st_size:,} bytes, over the {MAX_ELF_BYTES:,} "
                       "accepted")
    if len(head) < _ELF_MACHINE_OFFSET + 2 or not head.startswith(_ELF_MAGIC):
        raise RunError(f"{board.name}: {elf} is not an ELF file")
    machine = int.from_bytes(head[_ELF_MACHINE_OFFSET:_ELF_MACHINE_OFFSET + 2], "little")
    if machine != _ELF_MACHINE[board.arch]:
        raise RunError(f"{board.name}: {elf} is an ELF for another processor (e_machine {machine}), "
                       f"not {board.core}")
    _check_segments(board, elf, st.st_size)
    try:
        sections = tc.section_sizes(size_tool, elf)
    except (subprocess.CalledProcessError, OSError):
        raise RunError(f"{board.name}: {size_tool} cannot read {elf}: a damaged ELF") from None
    flash_secs = (".text", ".data") if board.arch == "avr" else (".text", ".ARM.exidx", ".data")
    flash, ram = tc.memory_use(sections, flash=flash_secs, ram=(".data", ".bss", ".noinit"))
    if flash > board.flash_bytes:
        raise RunError(f"{board.name}: the firmware needs {flash:,} bytes of flash, the board has "
                       f"{board.flash_bytes:,}")
    if ram > board.sram_bytes:
        raise RunError(f"{board.name}: the firmware's static data is {ram:,} bytes, the board has "
                       f"{board.sram_bytes:,} bytes of SRAM")


def _check_segments(board: Board, elf: Path, file_size: int) -> None:
    """A 32-bit little-endian ELF whose program headers, and the bytes of every segment, lie inside the
    file: what both emulators load. Anything else is a damaged (or hostile) file."""
    damaged = f"{board.name}: {elf} is a damaged ELF"
    with open(elf, "rb") as fh:
        head = fh.read(_ELF_HEADER.size)
        if len(head) < _ELF_HEADER.size:
            raise RunError(f"{damaged} (its header is cut short)")
        ident, phoff, phentsize, phnum = _ELF_HEADER.unpack(head)
        if ident[4] != _ELFCLASS32 or ident[5] != _ELFDATA2LSB:
            raise RunError(f"{damaged} (not a 32-bit little-endian ELF)")
        if not 0 < phnum <= _MAX_SEGMENTS or phentsize < _PHDR.size or phoff + phnum * phentsize > file_size:
            raise RunError(f"{damaged} (program headers: {phnum} at offset {phoff})")
        for i in range(phnum):
            fh.seek(phoff + i * phentsize)
            _, offset, _, _, filesz, memsz = _PHDR.unpack(fh.read(_PHDR.size))
            if offset + filesz > file_size or filesz > memsz:
                raise RunError(f"{damaged} (segment {i} runs past the end of the file)")


def _avr_result(rc: int, log: str, stopped_as: str | None) -> SerialRunResult:
    report = None
    for line in reversed(log.splitlines()):
        if line.startswith(_REPORT_TAG):
            report = dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)
            break
    if report is None:
        return SerialRunResult(status=stopped_as or "failed")
    status = report.get("status", "failed")
    if status == "terminated":
        status = stopped_as or status
    code = int(report.get("exit_code", -1))
    return SerialRunResult(status=status, exit_code=code if code >= 0 else None, cycles=int(report["cycles"]),
                           stack_bytes=int(report["stack_bytes"]),
                           extra={k: int(report[k]) for k in ("rx_bytes", "tx_bytes", "rx_overruns", "rx_dropped", "frame_cycles")})


def _read_report(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    with open(path, "rb") as fh:
        return parse_measurements(fh.read(1 << 16).decode("utf-8", "replace"))[1]


def _qemu_result(rc: int, log: str, stopped_as: str | None, meas: dict[str, str]) -> SerialRunResult:
    total = meas.get("total_instructions")
    instructions = int(total) if total is not None and total.lstrip("-").isdigit() else None
    if stopped_as is not None:
        status, code = stopped_as, None
    elif "instruction_limit" in meas:
        status, code = "instruction_limit", None
    elif rc < 0:
        status, code = "crash", None
    elif any("Lockup" in ln or "qemu-system" in ln for ln in log.splitlines()) and rc != 0:
        status, code = "failed", None
    else:
        status, code = "exit", rc
    return SerialRunResult(status=status, exit_code=code, instructions=instructions)
