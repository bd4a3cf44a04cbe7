"""Running untrusted programs: emulators executing firmware, and host programs built from generated C.

Firmware is untrusted input (a user's sketch, a model file's numbers turned into code): on qemu it can
ask the host, through ARM semihosting, to open, write and delete files and to run commands; simavr reads
host-side requests from the ELF (a VCD trace file path) and parses it with unchecked string copies. So
every run goes through `run_confined`, which starts the program under `support/sandbox/mlrn_confine.c`
(a small exec wrapper, built once with the host compiler like the simavr runner and the qemu plugin):

- file system: the program may read (and execute) only the system's programs and libraries
  (`SYSTEM_READ`) and the files it is given (firmware, plugin, runner), and write only in its private
  run directory. Mechanism, by `MICROLEARN_SANDBOX` (default `auto`):
  `landlock` (Linux 5.13+): a Landlock ruleset, which also forbids TCP, and (ABI 6) signals and abstract
  unix sockets to anything outside the sandbox; `namespace` (when the kernel has no Landlock): a private
  mount namespace whose root holds only those paths, no network, no capabilities; `none`: no file
  confinement at all, only the limits below (for trusted firmware on systems with neither).
  `auto` picks Landlock, else the namespace (with a one-time warning), else refuses to run
  (SandboxUnavailable) rather than run firmware unconfined.
- limits: every file the program writes (its stdout and stderr too) at most `max_output` bytes
  (RLIMIT_FSIZE), watched while it runs (an emulator ignores a failed write and would run on), and the
  run directory's total too; no core dumps; CPU seconds (a backstop), an address-space limit when the
  caller gives one; a minimal environment (no secrets of the caller's for the program to read); the
  wall-clock `timeout` kills the whole process group.
"""
from __future__ import annotations

import ctypes
import math
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from . import _toolchain as tc
from .base import SUPPORT_DIR
from .errors import SandboxUnavailable, TargetError

DEFAULT_MAX_OUTPUT = 16 << 20   # bytes of output (per stream and per file the program writes)
MODES = ("auto", "landlock", "namespace", "none")
CONFINE_SOURCE = SUPPORT_DIR / "sandbox" / "mlrn_confine.c"

# What any confined program may read (and execute): the system's programs and libraries. Nothing in
# /etc but the loader's cache, no /proc (qemu, simavr and plain C programs run without it; the host
# target's AddressSanitizer builds get their own /proc/PID), no /sys, no /home.
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc/ld.so.cache",
               "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/dev/zero", "/dev/urandom", "/dev/random")
SYSTEM_WRITE = ("/dev/null",)
# Passed through to the program; everything else of the caller's environment is left out.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH")
_MAX_RUN_DIR_ENTRIES = 1000
_POLL = 0.05   # s between checks of the watched files

_warned: set[str] = set()
_namespace_ok: bool | None = None


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none (or has it switched off, or is not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        v = libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (AttributeError, OSError):
        return 0
    return int(v) if v > 0 else 0


def confine_binary(cc: str = "cc") -> Path:
    """The cached exec wrapper (built on first use)."""
    return tc.cached_host_binary(CONFINE_SOURCE, "mlrn_confine", [], cc=cc,
                                 depends=[SUPPORT_DIR / "sandbox" / "mlrn_landlock.h"])


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def _namespace_works(cc: str) -> bool:
    """Whether this system lets mlrn_confine build a mount namespace (probed once)."""
    global _namespace_ok
    if _namespace_ok is None:
        true = shutil.which("true")
        _namespace_ok = False
        if sys.platform.startswith("linux") and true:
            with tempfile.TemporaryDirectory(prefix="mlrn-probe-") as root:
                try:
                    p = subprocess.run([str(confine_binary(cc)), "-M", "namespace", "-R", root,
                                        *[a for r in SYSTEM_READ for a in ("-r", r)], "--", true],
                                       capture_output=True, timeout=30)
                    _namespace_ok = p.returncode == 0
                except (OSError, subprocess.TimeoutExpired):
                    pass
    return _namespace_ok


def sandbox_mode(cc: str = "cc") -> str:
    """The confinement runs get here: 'landlock', 'namespace' or 'none' (see the module doc).
    Raises SandboxUnavailable when MICROLEARN_SANDBOX asks for one this system cannot provide."""
    asked = os.environ.get("MICROLEARN_SANDBOX", "auto").strip().lower() or "auto"
    if asked not in MODES:
        raise SandboxUnavailable(f"MICROLEARN_SANDBOX={asked!r}: use one of {', '.join(MODES)}")
    if asked == "none":
        _warn_once("none", "MICROLEARN_SANDBOX=none: firmware and host programs run WITHOUT file-system "
                           "confinement (only output, time and core-dump limits): trusted code only")
        return "none"
    if asked in ("auto", "landlock") and landlock_abi() > 0:
        return "landlock"
    if asked == "landlock":
        raise SandboxUnavailable("MICROLEARN_SANDBOX=landlock, but this kernel has no Landlock (Linux 5.13+ "
                                 "with landlock in its lsm= list)")
    if _namespace_works(cc):
        if asked == "auto":
            _warn_once("namespace", "this kernel has no Landlock: firmware and host programs are confined "
                                    "with a private mount namespace instead")
        return "namespace"
    raise SandboxUnavailable(
        "cannot confine emulated firmware on this system: the kernel has no Landlock and does not allow a "
        "private mount namespace. Firmware can reach host files (qemu semihosting), so microlearn does not "
        "run it unconfined by default: set MICROLEARN_SANDBOX=none to run anyway (trusted firmware only)")


@dataclass
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes
    output_over: bool       # a stream or a file hit max_output (the program was stopped by SIGXFSZ or cut)
    mode: str = "landlock"  # how it was confined


def _read_bounded(path: Path, limit: int) -> tuple[bytes, bool]:
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    return data[:limit], len(data) > limit


def _over(paths: Sequence[Path], limit: int) -> bool:
    for p in paths:
        try:
            if os.stat(p).st_size >= limit:
                return True
        except OSError:
            pass
    return False


def _dir_over(dirs: Sequence[Path], limit: int) -> bool:
    """The run directories hold more than `limit` bytes, or suspiciously many entries (a guest
    creating file after file, each under RLIMIT_FSIZE)."""
    total = entries = 0
    stack = list(dirs)
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    entries += 1
                    if entries > _MAX_RUN_DIR_ENTRIES:
                        return True
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        else:
                            total += e.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        pass
        except OSError:
            pass
    return total > limit


def _env() -> dict[str, str]:
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


def _rlimits_only(max_output: int, cpu: int, max_memory: int | None):
    """preexec_fn for systems without the wrapper (not Linux) in mode 'none'."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_output, max_output))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        if max_memory:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    return apply


def run_confined(cmd: Sequence[str | os.PathLike], *, read: Sequence[str | Path] = (),
                 write: Sequence[str | Path] = (), cwd: str | Path | None = None, input_bytes: bytes = b"",
                 timeout: float = 120.0, max_output: int = DEFAULT_MAX_OUTPUT, watch: Sequence[Path] = (),
                 max_memory: int | None = None, own_proc: bool = False, pass_fds: Sequence[int] = (),
                 cc: str = "cc") -> Completed:
    """Run cmd confined (see the module doc): it may read `read` (files or directories) and the
    system's programs and libraries, and write in the `write` directories; `cwd` should be one of
    them. Raises subprocess.TimeoutExpired after `timeout` seconds (the whole process group is killed
    first), SandboxUnavailable when no confinement is possible, TargetError when setting it up failed.
    A program whose output, or one of the `watch` files, reaches max_output, or whose `write`
    directories grow past twice that (plus the input), is stopped: Completed.output_over.
    `own_proc`: the program may read its own /proc/PID (AddressSanitizer needs it)."""
    mode = sandbox_mode(cc)
    exe = shutil.which(str(cmd[0])) or str(cmd[0])
    args = [os.path.realpath(exe), *map(str, cmd[1:])]
    cpu = int(math.ceil(2 * timeout)) + 5
    read = [os.path.realpath(p) for p in (args[0], *read)]
    write = [os.path.realpath(w) for w in write]
    with tempfile.TemporaryDirectory(prefix="mlrn-io-") as io:
        io = Path(io)
        (io / "stdin").write_bytes(input_bytes)
        preexec = None
        if sys.platform.startswith("linux"):
            wrapper = [str(confine_binary(cc)), "-M", mode, "-f", str(max_output), "-t", str(cpu)]
            if max_memory:
                wrapper += ["-m", str(max_memory)]
            if own_proc:
                wrapper.append("-s")
            if mode == "namespace":
                (io / "root").mkdir()
                wrapper += ["-R", str(io / "root")]
            for r in (*SYSTEM_READ, *read):
                wrapper += ["-r", r]
            for w in (*SYSTEM_WRITE, *write):
                wrapper += ["-w", w]
            argv = [*wrapper, "--", *args]
        else:                                   # mode 'none' (sandbox_mode refused anything else)
            argv, preexec = args, _rlimits_only(max_output, cpu, max_memory)
        with open(io / "stdin", "rb") as fi, open(io / "stdout", "wb") as fo, open(io / "stderr", "wb") as fe:
            proc = subprocess.Popen(argv, cwd=cwd, stdin=fi, stdout=fo, stderr=fe, env=_env(),
                                    start_new_session=True, preexec_fn=preexec, pass_fds=tuple(pass_fds))
            rc, stopped = _wait(proc, timeout, [io / "stdout", io / "stderr", *map(Path, watch)], max_output,
                                [Path(w) for w in write], 2 * max_output + len(input_bytes))
        out, over_o = _read_bounded(io / "stdout", max_output)
        err, over_e = _read_bounded(io / "stderr", max_output)
    if rc == 125 and err.startswith(b"mlrn_confine:"):
        raise TargetError(f"could not confine {Path(args[0]).name} ({mode}): "
                          f"{err.decode('utf-8', 'replace').strip()}")
    return Completed(rc, out, err, stopped or over_o or over_e or rc == -signal.SIGXFSZ or _over(watch, max_output),
                     mode)


def _wait(proc: subprocess.Popen, timeout: float, watched: list[Path], limit: int, dirs: list[Path],
          dir_limit: int) -> tuple[int, bool]:
    """Wait for proc; every _POLL s check the watched files and directories. Returns (returncode,
    stopped for output). On timeout the process group is killed and TimeoutExpired raised."""
    deadline = time.monotonic() + timeout
    poller = None
    try:
        pidfd = os.pidfd_open(proc.pid)    # readable when the process ends: no polling delay
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            wait = min(_POLL, max(deadline - time.monotonic(), 0.0))
            if poller is not None:
                if poller.poll(wait * 1000):
                    return proc.wait(), False
            else:
                try:
                    return proc.wait(timeout=wait), False
                except subprocess.TimeoutExpired:
                    pass
            stopped = _over(watched, limit) or (bool(dirs) and _dir_over(dirs, dir_limit))
            if stopped or time.monotonic() >= deadline:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                rc = proc.wait()
                if not stopped:
                    raise subprocess.TimeoutExpired(proc.args, timeout)
                return rc, True
    except BaseException:                   # Ctrl-C, or anything else: do not leave the program running
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        raise
    finally:
        if pidfd is not None:
            os.close(pidfd)
