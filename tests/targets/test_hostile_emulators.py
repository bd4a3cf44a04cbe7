"""Firmware is untrusted (hardening issue, items 3 and 6): on qemu it could open, write and delete host
files and run commands through semihosting; simavr would write a VCD trace wherever the ELF's .mmcu
section said, and copies that section's strings without bounds; output and run time were bounded by the
wall clock only. Now every emulator (and host program) runs confined (targets/sandbox.py:
support/sandbox/mlrn_confine.c with Landlock, or a mount namespace; qemu -sandbox), with output,
instruction and cycle limits. These programs try to escape."""
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pytest

from microlearn.targets import get_target, sandbox
from microlearn.targets.base import SUPPORT_DIR
from microlearn.targets.errors import RunError, RunTimeout, SandboxUnavailable
from microlearn.targets.sandbox import landlock_abi

from compile_c import compile_c
from conftest import need

pytestmark = pytest.mark.hostile
C_DIR = Path(__file__).parent / "c"
MMCU_LINK = ["-Wl,--undefined=_mmcu,--section-start=.mmcu=0x910000"]
need_arm = need("arm-none-eabi-gcc", "qemu-system-arm", "cc")
need_avr = need("avr-gcc", "cc")
need_simavr = pytest.mark.skipif(not Path("/usr/include/simavr/sim_avr.h").exists(),
                                 reason="simavr headers missing: apt-get install libsimavr-dev")
HAVE_LANDLOCK = landlock_abi() > 0


def _namespace_ok() -> bool:
    try:
        return sandbox._namespace_works("cc")
    except Exception:  # noqa: BLE001 (no compiler: the tests needing it skip anyway)
        return False


# Every escape is tried under each confinement this machine offers.
MODES = [pytest.param("landlock", marks=pytest.mark.skipif(not HAVE_LANDLOCK, reason="this kernel has no Landlock")),
         pytest.param("namespace", marks=pytest.mark.skipif(not _namespace_ok(),
                                                            reason="no private mount namespaces here"))]


@pytest.fixture
def mode(request, monkeypatch):
    monkeypatch.setenv("MICROLEARN_SANDBOX", request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield request.param


@need_arm
@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_semihosting_cannot_write_run_or_read_on_the_host(tmp_path, mode):
    """SYS_OPEN outside the run directory and of /etc/passwd fail (the guest sees -1 and runs on to a
    normal end); SYS_SYSTEM stops the emulator (RunError), before any process starts."""
    escape, system_marker = tmp_path / "escape_marker", tmp_path / "system_marker"
    t = get_target("nrf52840")
    b = t.build([C_DIR / "escape_semihosting.c"], tmp_path / "build", defines={"ESCAPE_FILE": f'"{escape}"'})
    out = t.run(b, timeout=60).output
    fields = dict(kv.split("=") for kv in out.split())
    assert int(fields["open_write"]) < 0 and int(fields["open_read"]) < 0, out
    assert not escape.exists()
    b = t.build([C_DIR / "escape_semihosting.c"], tmp_path / "build2",
                defines={"ESCAPE_FILE": f'"{escape}"', "SYSTEM_CMD": f'"touch {system_marker}"'})
    with pytest.raises(RunError, match="start a host process"):
        t.run(b, timeout=60)
    assert not escape.exists() and not system_marker.exists()


@need_arm
def test_guest_cannot_forge_its_instruction_counts(tmp_path):
    """Measurement lines printed on the semihosting console (stderr) or appended to the measurement
    file do not replace the plugin's counts (which reach microlearn through their own descriptor), nor
    fake a stop at the instruction limit (before: RunTimeout "still running after ... instructions")."""
    t = get_target("nrf52840")
    b = t.build([C_DIR / "escape_forged_counts.c"], tmp_path / "build")
    r = t.run(b, timeout=60)
    assert r.output == "done\n"
    assert r.instructions == 2 and r.extra["marked_pairs"] == 1    # an empty region: the markers' own 2
    assert r.extra["total_instructions"] > 1000


@need_arm
def test_qemu_output_flood_is_stopped(tmp_path):
    t = get_target("nrf52840", max_output=1 << 20)
    b = t.build([C_DIR / "flood_output.c"], tmp_path / "build")
    start = time.monotonic()
    with pytest.raises(RunError, match="more than 1,048,576 bytes of output") as err:
        t.run(b, timeout=60)
    assert len(err.value.output) <= 1 << 20
    assert time.monotonic() - start < 10


@need_arm
def test_qemu_file_flood_is_stopped_by_the_run_directory_size(tmp_path):
    """File after file of 1 MB each (under the per-file limit): the run directory's total stops it."""
    t = get_target("nrf52840", max_output=2 << 20)
    b = t.build([C_DIR / "flood_files.c"], tmp_path / "build")
    start = time.monotonic()
    with pytest.raises(RunError, match="more than 2,097,152 bytes of output"):
        t.run(b, timeout=60)
    assert time.monotonic() - start < 10


@need_avr
@need_simavr
def test_simavr_output_flood_is_stopped(tmp_path):
    t = get_target("uno", max_output=64 << 10)
    b = t.build([C_DIR / "flood_output.c"], tmp_path / "build")
    start = time.monotonic()
    with pytest.raises(RunError, match="more than 65,536 bytes of output") as err:
        t.run(b, timeout=120)
    assert len(err.value.output) <= 64 << 10
    assert time.monotonic() - start < 10


@need_arm
def test_qemu_spin_is_stopped_by_its_instruction_count(tmp_path):
    t = get_target("nrf52840", max_instructions=5_000_000)
    b = t.build([C_DIR / "spin_forever.c"], tmp_path / "build")
    start = time.monotonic()
    with pytest.raises(RunTimeout, match="still running after 5,000,000 instructions"):
        t.run(b, timeout=60)
    assert time.monotonic() - start < 10      # the instruction limit, not the 60 s wall clock


@need_avr
@need_simavr
def test_simavr_spin_is_stopped_by_its_cycle_count(tmp_path):
    t = get_target("uno", max_cycles=2_000_000)
    b = t.build([C_DIR / "spin_forever.c"], tmp_path / "build")
    with pytest.raises(RunTimeout, match="still running after 2000000 cycles"):
        t.run(b, timeout=60)


@need_avr
@need_simavr
def test_simavr_sleep_is_not_paced_in_host_time(tmp_path):
    """sei + sleep with nothing to wake it: simavr used to usleep in step with the simulated clock, so
    160M cycles took 10 s of wall time; the runner runs them at simulation speed."""
    t = get_target("uno", max_cycles=160_000_000)
    b = t.build([C_DIR / "avr_sleep_forever.c"], tmp_path / "build")
    start = time.monotonic()
    with pytest.raises(RunTimeout, match="still running after 160000000 cycles"):
        t.run(b, timeout=60)
    assert time.monotonic() - start < 5


@need_avr
@need_simavr
def test_simavr_ignores_a_vcd_file_requested_by_the_firmware(tmp_path):
    short = Path(tempfile.mkdtemp(prefix="mlrn-vcd-"))     # the .mmcu section holds a short path only
    vcd = short / "vcd_marker.vcd"
    t = get_target("uno")
    b = t.build([C_DIR / "avr_vcd_escape.c"], tmp_path / "build", defines={"VCD_PATH": f'"{vcd}"'},
                include_dirs=[Path("/usr/include/simavr")], cflags=MMCU_LINK)
    try:
        assert t.run(b, timeout=60).output == "ok\n"
        assert not vcd.exists()
    finally:
        vcd.unlink(missing_ok=True)
        short.rmdir()


@need_avr
@need_simavr
def test_simavr_runners_refuse_an_mmcu_section_that_would_overflow(tmp_path):
    """A VCD file name without its NUL: simavr would strcpy 1 KB into a 128-byte field."""
    t = get_target("uno")
    b = t.build([C_DIR / "avr_mmcu_overflow.c"], tmp_path / "build", cflags=MMCU_LINK)
    with pytest.raises(RunError, match="ELF file was refused: tag 12: string without its NUL"):
        t.run(b, timeout=60)
    # The EEPROM runner (tests/learner/test_persist.py starts it directly) checks the same way.
    runner = tmp_path / "eeprom_runner"
    compile_c(SUPPORT_DIR / "avr" / "eeprom_runner.c", runner, libs=["-lsimavr"])
    p = subprocess.run([str(runner), "atmega328p", "16000000", "1000000", str(b.path), "-", str(tmp_path / "ee.bin"),
                        "-1", "clean", "0"], capture_output=True, timeout=60)
    assert p.returncode == 2 and b"firmware refused: tag 12" in p.stderr, p.stderr


@need("cc")
@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_host_programs_cannot_write_or_read_outside(tmp_path, mode):
    """Generated C runs natively on the host target: confined like the emulators."""
    t = get_target("host")
    b = t.build([C_DIR / "host_escape.c"], tmp_path / "build", defines={"MARKER_FILE": f'"{tmp_path / "host_marker"}"'})
    assert t.run(b, timeout=60).output == "refused unread\n"
    assert not (tmp_path / "host_marker").exists()


def test_no_confinement_possible_refuses_to_run(monkeypatch):
    """Neither Landlock nor namespaces: refuse (SandboxUnavailable) unless MICROLEARN_SANDBOX=none."""
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 0)
    monkeypatch.setattr(sandbox, "_namespace_ok", False)
    monkeypatch.delenv("MICROLEARN_SANDBOX", raising=False)
    with pytest.raises(SandboxUnavailable, match="MICROLEARN_SANDBOX=none"):
        sandbox.sandbox_mode()
    monkeypatch.setenv("MICROLEARN_SANDBOX", "landlock")
    with pytest.raises(SandboxUnavailable, match="no Landlock"):
        sandbox.sandbox_mode()
    monkeypatch.setenv("MICROLEARN_SANDBOX", "none")
    monkeypatch.setattr(sandbox, "_warned", set())
    with pytest.warns(RuntimeWarning, match="WITHOUT file-system confinement"):
        assert sandbox.sandbox_mode() == "none"
