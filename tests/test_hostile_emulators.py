"""Firmware is untrusted (hardening issue, items 3 and 6): on qemu it could open, write and delete host
files and run commands through semihosting; simavr would write a VCD trace wherever the ELF's .mmcu
section said; output and run time were bounded by the wall clock only. Now every emulator (and host
program) runs confined (targets/sandbox.py: Landlock + qemu -sandbox), with output, instruction and cycle
limits. These programs try to escape."""
from pathlib import Path

import pytest

from microlearn.targets import get_target
from microlearn.targets.errors import RunError, RunTimeout
from microlearn.targets.sandbox import landlock_abi

from conftest import need

pytestmark = pytest.mark.hostile
C_DIR = Path(__file__).parent / "c"
need_arm = need("arm-none-eabi-gcc", "qemu-system-arm")
need_avr = need("avr-gcc", "simavr")
confined = pytest.mark.skipif(landlock_abi() <= 0, reason="this kernel has no Landlock")


@need_arm
@confined
def test_semihosting_cannot_write_run_or_read_on_the_host(tmp_path):
    escape, system_marker = tmp_path / "escape_marker", tmp_path / "system_marker"
    t = get_target("nrf52840")
    b = t.build([C_DIR / "escape_semihosting.c"], tmp_path / "build", defines={"ESCAPE_FILE": f'"{escape}"'})
    out = t.run(b, timeout=60).output
    fields = dict(kv.split("=") for kv in out.split())
    assert int(fields["open_write"]) < 0 and int(fields["open_read"]) < 0, out
    assert not escape.exists()
    # SYS_SYSTEM: qemu's seccomp sandbox (spawn=deny) stops the emulator before any process starts.
    b = t.build([C_DIR / "escape_semihosting.c"], tmp_path / "build2",
                defines={"ESCAPE_FILE": f'"{escape}"', "SYSTEM_CMD": f'"touch {system_marker}"'})
    with pytest.raises(RunError, match="start a host process"):
        t.run(b, timeout=60)
    assert not escape.exists() and not system_marker.exists()


@need_arm
def test_qemu_output_flood_is_stopped(tmp_path):
    t = get_target("nrf52840", max_output=1 << 20)
    b = t.build([C_DIR / "flood_output.c"], tmp_path / "build")
    with pytest.raises(RunError, match="more than 1,048,576 bytes of output"):
        t.run(b, timeout=60)


@need_avr
def test_simavr_output_flood_is_stopped(tmp_path):
    t = get_target("uno", max_output=64 << 10)
    b = t.build([C_DIR / "flood_output.c"], tmp_path / "build")
    with pytest.raises(RunError, match="more than 65,536 bytes of output"):
        t.run(b, timeout=120)


@need_arm
def test_qemu_spin_is_stopped_by_its_instruction_count(tmp_path):
    t = get_target("nrf52840", max_instructions=5_000_000)
    b = t.build([C_DIR / "spin_forever.c"], tmp_path / "build")
    with pytest.raises(RunTimeout, match="still running after 5,000,000 instructions"):
        t.run(b, timeout=60)


@need_avr
def test_simavr_spin_is_stopped_by_its_cycle_count(tmp_path):
    t = get_target("uno", max_cycles=2_000_000)
    b = t.build([C_DIR / "spin_forever.c"], tmp_path / "build")
    with pytest.raises(RunTimeout, match="still running after 2000000 cycles"):
        t.run(b, timeout=60)


@need_avr
def test_simavr_ignores_a_vcd_file_requested_by_the_firmware(tmp_path):
    import tempfile
    short = Path(tempfile.mkdtemp(prefix="mlrn-vcd-"))     # the .mmcu section holds a short path only
    vcd = short / "marker.vcd"
    t = get_target("uno")
    b = t.build([C_DIR / "avr_vcd_escape.c"], tmp_path / "build", defines={"VCD_PATH": f'"{vcd}"'},
                include_dirs=[Path("/usr/include/simavr")],
                cflags=["-Wl,--undefined=_mmcu,--section-start=.mmcu=0x910000"])
    try:
        assert t.run(b, timeout=60).output == "ok\n"
        assert not vcd.exists()
    finally:
        vcd.unlink(missing_ok=True)
        short.rmdir()


@need("cc")
@confined
def test_host_programs_cannot_write_outside(tmp_path):
    """Generated C runs natively on the host target: confined like the emulators."""
    src = tmp_path / "w.c"
    src.write_text('#include <stdio.h>\n#include "mlrn_target.h"\nint main(void) {\n'
                   f'    FILE *f = fopen("{tmp_path / "host_marker"}", "w");\n'
                   '    mlrn_target_init();\n    mlrn_io_puts(f ? "opened\\n" : "refused\\n");\n'
                   '    mlrn_target_exit(0);\n}\n')
    t = get_target("host")
    b = t.build([src], tmp_path / "build")
    assert t.run(b, timeout=60).output == "refused\n"
    assert not (tmp_path / "host_marker").exists()
