"""The host target: the machine's own C compiler. Measures wall time of the marked region."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from .base import COMMON_CFLAGS, SUPPORT_DIR, Build, RunResult, Target, parse_measurements
from .errors import BuildError, RunError, RunTimeout, TargetUnavailable
from .sandbox import DEFAULT_MAX_OUTPUT, run_confined


class HostTarget(Target):
    name = "host"
    kind = "host"

    def __init__(self, cc: str = "cc", cxx: str = "c++", sanitize: bool = False, opt: str = "-O2",
                 max_output: int = DEFAULT_MAX_OUTPUT, max_memory: int | None = 4 << 30):
        """`max_output`: bytes the program may print (and write to any file); `max_memory`: its address
        space (RLIMIT_AS; None: no limit, and always none for sanitizer builds, which reserve terabytes)."""
        self.cc, self.cxx, self.sanitize, self.opt = cc, cxx, sanitize, opt
        self.max_output, self.max_memory = max_output, max_memory

    def check(self) -> None:
        if shutil.which(self.cc) is None:
            raise TargetUnavailable(f"host C compiler '{self.cc}' not found: install gcc (apt-get install gcc)")

    def build(self, sources: Sequence[Path], workdir: Path, *, include_dirs: Sequence[Path] = (),
              defines: Mapping[str, str | int] | None = None, cflags: Sequence[str] = (),
              language: str = "c") -> Build:
        self.check()
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        exe = workdir / "program"
        if language == "c++":
            cmd = [self.cxx, "-x", "c++", "-std=c++11"]
        else:
            cmd = [self.cc, "-std=c99"]
        cmd += [self.opt, *COMMON_CFLAGS, "-I", str(SUPPORT_DIR)]
        if self.sanitize:
            cmd += ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]
        for inc in include_dirs:
            cmd += ["-I", str(inc)]
        for k, v in (defines or {}).items():
            cmd.append(f"-D{k}={v}")
        cmd += list(cflags)
        # The support file is plain C; compiled as C++ too when asked so one command links everything.
        cmd += [str(s) for s in sources] + [str(SUPPORT_DIR / "host" / "mlrn_target.c"), "-o", str(exe), "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
            raise BuildError(f"host build failed: {first}", proc.stdout + proc.stderr)
        return Build(target=self.name, path=exe, log=proc.stderr)

    def run(self, build: Build, input_bytes: bytes = b"", timeout: float = 120.0) -> RunResult:
        # Generated C runs natively: confined like the emulators (it reads only itself and the system's
        # libraries, writes only in an empty private directory, its output and memory are bounded).
        try:
            with tempfile.TemporaryDirectory(prefix="mlrn-host-") as run_dir:
                proc = run_confined([str(build.path)], read=[Path(build.path).resolve()], write=[run_dir],
                                    cwd=run_dir, input_bytes=input_bytes, timeout=timeout,
                                    max_output=self.max_output,
                                    max_memory=None if self.sanitize else self.max_memory,
                                    own_proc=self.sanitize, cc=self.cc)
        except subprocess.TimeoutExpired as exc:
            raise RunTimeout(f"host program did not finish within {timeout:g} s and was killed") from exc
        raw = proc.stdout.decode("utf-8", "replace")
        if proc.output_over:
            raise RunError(f"host program wrote more than {self.max_output:,} bytes of output and was stopped", raw)
        text, meas = parse_measurements(raw)
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RunError(f"host program exited with code {proc.returncode}"
                           + (f": {err[-1]}" if err else ""), raw + proc.stderr.decode("utf-8", "replace"))
        secs = int(meas["wall_ns"]) * 1e-9 if "wall_ns" in meas else None
        return RunResult(output=text, exit_code=0, seconds=secs, seconds_kind="wall" if secs is not None else None)
