"""Running untrusted programs: emulators executing firmware, and host programs built from generated C.

Firmware is untrusted input (a user's sketch, a model file's numbers turned into code): on qemu it can
ask the host, through ARM semihosting, to open, write and delete files and to run commands; simavr reads
host-side requests from the ELF (a VCD trace file path). So every run here:
- is confined with Landlock (Linux 5.13+), applied in the child before exec: it may read only what the
  emulator itself needs (the system's programs and libraries, the firmware, the helper built for it) and
  write only in its private run directory. qemu also gets `-sandbox on,spawn=deny,...` (seccomp: no
  processes, so semihosting's SYS_SYSTEM fails);
- has its output bounded (stdout/stderr go to files under RLIMIT_FSIZE; at most `max_output` bytes are
  read back), no core dumps, and a wall-clock bound on top of the emulators' own cycle/instruction limits.
Where the kernel has no Landlock, runs go on with the other bounds and a one-time warning says that file
access is not confined (docs/targets.md, "Sandboxing").
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

DEFAULT_MAX_OUTPUT = 16 << 20   # bytes of output (per stream and per file the program writes)

# Landlock (include/uapi/linux/landlock.h): added after the syscall tables were unified, so 444-446 on
# every architecture.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_TRUNCATE = 1 << 14
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE

# What an emulator or a host program may read (and execute): the system's programs and libraries.
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/ld.so.conf",
               "/etc/ld.so.conf.d", "/proc", "/sys/devices/system/cpu", "/dev/null", "/dev/zero", "/dev/urandom",
               "/dev/random", "/dev/tty")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_warned = False


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none (or refuses it)."""
    try:
        v = _libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (AttributeError, OSError):
        return 0
    return int(v) if v > 0 else 0


def _handled(abi: int) -> int:
    bits = (1 << 13) - 1                 # ABI 1: execute .. make_sym
    if abi >= 2:
        bits |= 1 << 13                  # refer
    if abi >= 3:
        bits |= _TRUNCATE
    return bits


@dataclass
class Confinement:
    read: Sequence[str]      # paths readable (and executable) beneath
    write: Sequence[str]     # directories readable and writable beneath
    max_output: int = DEFAULT_MAX_OUTPUT

    def __call__(self) -> None:   # preexec_fn: runs in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.max_output, self.max_output))
        abi = landlock_abi()
        if abi <= 0:
            return
        handled = _handled(abi)
        attr = _RulesetAttr(handled)
        fd = _libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                           ctypes.c_uint32(0))
        if fd < 0:
            os._exit(125)
        ro = _EXECUTE | _READ_FILE | _READ_DIR
        for paths, rights in ((self.read, ro), (self.write, handled)):
            for p in paths:
                try:
                    pfd = os.open(p, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue                          # absent on this system: nothing to allow
                allowed = rights if os.path.isdir(p) else rights & _FILE_RIGHTS
                rule = _PathBeneath(allowed & handled, pfd)
                rc = _libc.syscall(_SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(_RULE_PATH_BENEATH),
                                   ctypes.byref(rule), ctypes.c_uint32(0))
                os.close(pfd)
                if rc != 0:
                    os._exit(125)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            os._exit(125)
        if _libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            os._exit(125)
        os.close(fd)


@dataclass
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes
    output_over: bool       # a stream or a file hit max_output (the program was stopped by SIGXFSZ or cut)


def warn_if_unconfined() -> None:
    global _warned
    if not _warned and landlock_abi() <= 0:
        _warned = True
        warnings.warn("this kernel has no Landlock: emulated firmware runs without file-system confinement "
                      "(output, time and processes are still bounded)", RuntimeWarning, stacklevel=3)


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


def run_confined(cmd: Sequence[str], *, read: Sequence[str | Path] = (), write: Sequence[str | Path] = (),
                 cwd: str | Path | None = None, input_bytes: bytes = b"", timeout: float = 120.0,
                 max_output: int = DEFAULT_MAX_OUTPUT, watch: Sequence[Path] = ()) -> Completed:
    """Run cmd confined (see the module doc). Raises subprocess.TimeoutExpired after `timeout` seconds
    (the whole process group is killed first). A program whose output, or one of the `watch` files it
    writes, reaches max_output is stopped (an emulator may ignore the EFBIG of a failed write and run
    on): Completed.output_over."""
    warn_if_unconfined()
    with tempfile.TemporaryDirectory(prefix="mlrn-io-") as io:
        io = Path(io)
        (io / "stdin").write_bytes(input_bytes)
        conf = Confinement(read=[*SYSTEM_READ, *map(str, read)], write=[str(w) for w in write],
                           max_output=max_output)
        with open(io / "stdin", "rb") as fi, open(io / "stdout", "wb") as fo, open(io / "stderr", "wb") as fe:
            proc = subprocess.Popen(list(map(str, cmd)), cwd=cwd, stdin=fi, stdout=fo, stderr=fe, preexec_fn=conf,
                                    start_new_session=True)
            deadline = time.monotonic() + timeout
            watched = [io / "stdout", io / "stderr", *map(Path, watch)]
            stopped = False
            while True:
                try:
                    rc = proc.wait(timeout=min(0.05, max(deadline - time.monotonic(), 0.001)))
                    break
                except subprocess.TimeoutExpired:
                    stopped = _over(watched, max_output)
                    if stopped or time.monotonic() >= deadline:
                        try:
                            os.killpg(proc.pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                        rc = proc.wait()
                        if not stopped:
                            raise
                        break
        out, over_o = _read_bounded(io / "stdout", max_output)
        err, over_e = _read_bounded(io / "stderr", max_output)
    return Completed(rc, out, err, stopped or over_o or over_e or rc == -signal.SIGXFSZ or _over(watch, max_output))
