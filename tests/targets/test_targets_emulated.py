"""Emulated board targets: simavr (AVR, exact cycles) and qemu (Cortex-M, instruction counts).

Each emulator run takes ~0.01-0.1 s; builds dominate. Tests skip with the reason when a
toolchain or emulator is missing. The full error matrix over every board is marked slow.
"""
from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import board_param, checked_target
from microlearn.targets import DoesNotFit, RunError, RunTimeout, TargetUnavailable, get_target

C_DIR = Path(__file__).resolve().parent / "c"
AVR_BOARDS = ["uno", "mega2560"]
CM_BOARDS = ["nrf52840", "bluepill", "samd21", "rp2040"]
RV_BOARDS = ["esp32c3", "ch32v003"]
XT_BOARDS = ["esp8266"]


_target = checked_target


def _boards(names, slow=False):
    return [board_param(n, slow) for n in names]


N_DATA = 1024


def _build_work(t, workdir: Path):
    """work.c, keeping an N_DATA-byte window of its input."""
    return t.build([C_DIR / "work.c"], workdir, defines={"N_DATA": N_DATA})


def _expected(data: bytes, iters: int) -> str:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    window = data[:N_DATA]
    f32 = np.float32
    s = f32(0.0)
    for i in range(iters):  # same operations, same order, float32 rounding at each step
        s = f32(f32(f32(s * f32(0.96875)) + f32(f32(window[i % len(window)]) * f32(0.5))) - f32(1.25))
    bits = struct.unpack("<I", struct.pack("<f", s))[0]
    return f"fnv {h:08x} n {len(window)} f {bits:08x}\n"


def _input(iters: int, data: bytes) -> bytes:
    return struct.pack("<H", iters) + data


DATA = bytes((i * 37 + (i >> 7)) & 0xFF for i in range(3000))


@pytest.mark.parametrize("board", _boards(AVR_BOARDS + CM_BOARDS + RV_BOARDS + XT_BOARDS))
def test_board_runs_measures_and_scales(board, tmp_path):
    t = _target(board)
    build = _build_work(t, tmp_path / "b")
    b = t.board
    assert 0 < build.flash_bytes <= b.flash_bytes
    assert build.static_ram_bytes >= N_DATA and build.symbol_sizes["data"] == N_DATA
    r1 = t.run(build, _input(200, DATA))
    assert r1.output == _expected(DATA, 200)
    r1b = t.run(build, _input(200, DATA))
    r2 = t.run(build, _input(400, DATA))
    assert r2.output == _expected(DATA, 400)
    if b.measure == "cycles":
        counts = (r1.cycles, r1b.cycles, r2.cycles)
        assert r1.seconds_kind == "exact" and r1.seconds == pytest.approx(r1.cycles / b.clock_hz)
    else:
        counts = (r1.instructions, r1b.instructions, r2.instructions)
        # time from the cycle model where the core has one (Cortex-M, RISC-V, Xtensa), else 1 instruction per cycle
        per = r1.cycles_est.nominal if r1.cycles_est is not None else r1.instructions
        assert r1.seconds_kind == "estimate" and r1.seconds == pytest.approx(per / b.clock_hz)
        assert (r1.cycles_est is not None) == (b.arch in ("cortex-m", "riscv", "xtensa"))
        if r1.cycles_est is not None:
            assert r1.cycles_est == r1b.cycles_est, "deterministic"
            assert r1.instructions <= r1.cycles_est.low <= r1.cycles_est.nominal <= r1.cycles_est.high
    assert counts[0] > 0 and counts[0] == counts[1], "deterministic"
    assert 1.8 < counts[2] / counts[0] < 2.2, "twice the loop, about twice the count"
    assert 8 <= r1.stack_bytes <= 1024
    assert build.static_ram_bytes + r1.stack_bytes <= b.sram_bytes


@pytest.mark.parametrize("board", _boards(["uno", "samd21"]) + _boards(["mega2560", "nrf52840", "bluepill",
                                                                       "rp2040", *RV_BOARDS, *XT_BOARDS], slow=True))
def test_too_big_static_array_does_not_fit(board, tmp_path):
    t = _target(board)
    src = C_DIR / "big.c"
    small = t.build([src], tmp_path / "small", defines={"BIG": 4})
    budget = t.board.sram_bytes - t.board.stack_reserve_bytes
    fits = budget - (small.static_ram_bytes - 4)          # the largest array that still links
    t.build([src], tmp_path / "fits", defines={"BIG": fits})
    with pytest.raises(DoesNotFit) as info:
        t.build([src], tmp_path / "over", defines={"BIG": fits + 100})
    assert info.value.region == "sram" and info.value.over == 100
    assert "100 bytes over" in str(info.value)


@pytest.mark.parametrize("board", _boards(["uno", "samd21"]))
def test_too_much_flash_does_not_fit(board, tmp_path):
    t = _target(board)
    half = t.board.flash_bytes // 2 + 500   # two tables: AVR objects are limited to 32 KB each
    with pytest.raises(DoesNotFit) as info:
        t.build([C_DIR / "flash.c"], tmp_path / "b", defines={"TABLE_BYTES": f"{half}L"})
    assert info.value.region == "flash" and info.value.over > 1000


@pytest.mark.parametrize("board", _boards(["uno", "samd21"]) + _boards(["mega2560", "nrf52840", "bluepill",
                                                                       "rp2040"], slow=True))
def test_endless_loop_times_out(board, tmp_path):
    t = _target(board)
    build = t.build([C_DIR / "loop.c"], tmp_path / "b")
    start = time.monotonic()
    with pytest.raises(RunTimeout):
        t.run(build, timeout=0.5)
    assert time.monotonic() - start < 5


@pytest.mark.avr
def test_avr_cycle_bound_stops_the_simulation(tmp_path):
    t = _target("uno", max_cycles=200_000)
    build = t.build([C_DIR / "loop.c"], tmp_path / "b")
    with pytest.raises(RunTimeout, match="200000 cycles"):
        t.run(build, timeout=30)


@pytest.mark.parametrize("board", _boards(["uno", "samd21"]) + _boards(["mega2560", "nrf52840", "bluepill",
                                                                       "rp2040", *RV_BOARDS], slow=True))
def test_crash_is_a_run_error(board, tmp_path):
    t = _target(board)
    bad = "0x3FF0" if t.kind == "avr" else "0x30000001"   # AVR: word address, Cortex-M: Thumb bit set
    build = t.build([C_DIR / "crash.c"], tmp_path / "b", defines={"BAD_ADDR": bad})
    with pytest.raises(RunError) as info:
        t.run(build, timeout=10)
    assert not isinstance(info.value, RunTimeout)
    assert "crash" in str(info.value) and info.value.output == "before\n"


@pytest.mark.parametrize("board", _boards(["uno", "nrf52840"]))
def test_exit_code_and_return_from_main(board, tmp_path):
    t = _target(board)
    build = t.build([C_DIR / "return_3.c"], tmp_path / "b")
    with pytest.raises(RunError, match="code 3") as info:
        t.run(build)
    assert info.value.output.startswith("hi\n")


@pytest.mark.parametrize("board,tool", [pytest.param("uno", "cc", marks=pytest.mark.avr),
                                        pytest.param("nrf52840", "cc", marks=pytest.mark.cortexm),
                                        pytest.param("nrf52840", "qemu", marks=pytest.mark.cortexm)])
def test_missing_tool_is_unavailable_with_install_hint(board, tool, tmp_path):
    t = get_target(board, **{tool: "/nonexistent/tool"})
    with pytest.raises(TargetUnavailable, match="apt-get install"):
        t.check()
    with pytest.raises(TargetUnavailable):
        _build_work(t, tmp_path / "b")


def test_esp32_has_no_target():
    with pytest.raises(TargetUnavailable, match="no toolchain or emulator"):
        get_target("esp32")


@pytest.mark.avr
@pytest.mark.cortexm
def test_float32_bits_identical_on_host_avr_and_cortexm(tmp_path):
    inp = _input(300, DATA[:1000])
    outputs = {}
    for name in ["host", "uno", "samd21", "bluepill", "nrf52840", "esp32c3", "ch32v003", "esp8266"]:
        t = _target(name)
        outputs[name] = t.run(_build_work(t, tmp_path / name), inp).output
    assert len(set(outputs.values())) == 1, outputs
    assert outputs["host"] == _expected(DATA[:1000], 300)


@pytest.mark.avr
def test_large_input_is_not_lost(tmp_path):
    """Tens of KB through the UART: every byte arrives, in order (the runner hands out one at a time)."""
    t = _target("uno")
    src = C_DIR / "checksum_input.c"
    data = bytes((i * 131 + (i >> 5)) & 0xFF for i in range(40_000))
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    for name in ("uno", "nrf52840"):
        tt = t if name == "uno" else get_target(name)
        try:
            tt.check()
        except TargetUnavailable:
            continue
        assert tt.run(tt.build([src], tmp_path / name), data).output == f"{h:08x} {len(data)}\n"


@pytest.mark.cortexm
def test_cortexm_m4_code_faults_on_m0_machine(tmp_path):
    """The microbit machine enforces ARMv6-M: code built for the M4F must not run there."""
    t = _target("nrf52840")
    build = _build_work(t, tmp_path / "b")
    m0 = _target("samd21")
    with pytest.raises(RunError):
        m0.run(build, _input(10, DATA[:100]), timeout=10)


@pytest.mark.parametrize("board", _boards(["uno", "samd21"]) + _boards(["nrf52840"], slow=True))
def test_stack_high_water_follows_recursion_depth(board, tmp_path):
    t = _target(board)
    build = t.build([C_DIR / "deep.c"], tmp_path / "b")
    s = {d: t.run(build, bytes([d])).stack_bytes for d in (2, 3, 12)}
    frame = s[3] - s[2]
    assert 64 < frame < 100                      # 64-byte buffer + saved registers + return address
    assert s[12] - s[2] == 10 * frame            # exact: no sampling noise


@pytest.mark.avr
def test_avr_stack_overflow_is_an_error(tmp_path):
    t = _target("uno")
    build = t.build([C_DIR / "deep.c"], tmp_path / "b")
    with pytest.raises(RunError, match="stack"):
        t.run(build, bytes([60]), timeout=10)   # 60 x ~68 bytes > 2 KB


@pytest.mark.parametrize("board", _boards(["uno", "nrf52840"]) + _boards(["mega2560", "samd21", *RV_BOARDS],
                                                                       slow=True))
def test_marked_total_sums_every_pair(board, tmp_path):
    t = _target(board)
    build = t.build([C_DIR / "regions.c"], tmp_path / "b")
    key = "cycles" if t.board.measure == "cycles" else "instructions"

    def run(mask):
        r = t.run(build, bytes([mask]))
        assert r.output == "ok\n"
        return r

    one = [run(1 << k) for k in range(3)]
    last = [getattr(r, key) for r in one]
    for r, v in zip(one, last):
        assert r.extra["marked_pairs"] == 1 and r.extra["marked_total"] == v == r.extra["marked_span"]
        assert r.extra["marked_unpaired"] == 0
    assert 1.8 < last[1] / last[0] < 2.2 and 1.8 < last[2] / last[1] < 2.2
    every = run(7)
    assert every.extra["marked_pairs"] == 3
    assert every.extra["marked_total"] == sum(last)                       # exact
    assert getattr(every, key) == last[2]                                  # the last region, as before
    assert every.extra["marked_span"] > every.extra["marked_total"]         # includes the unmarked code between
    none = run(0)
    assert none.extra["marked_pairs"] == 0 and none.extra["marked_total"] == 0
    assert getattr(none, key) is None and none.extra["marked_span"] is None
    # A begin restarted by another begin, a stray end, a begin open at exit: the pairs are unchanged.
    odd = run(7 | 8 | 16 | 32)
    assert odd.extra["marked_pairs"] == 3 and odd.extra["marked_total"] == sum(last)
    assert odd.extra["marked_unpaired"] == 2
    again = run(7)
    assert (again.extra["marked_total"], again.extra["marked_pairs"]) == (sum(last), 3)   # deterministic


@pytest.mark.parametrize("board", _boards(["uno", "nrf52840"]))
def test_loop_training_cost_from_marked_steps(board):
    """The loop driver marks every step() call that trained: one run gives the whole-loop count and the
    training count; the decisions are those of the whole-loop-marked driver."""
    from microlearn.data import streams
    from microlearn.learner.runner import run_on_target
    from microlearn.learner.config import LearnerConfig
    t = _target(board)
    X, y = streams.make("rotating_hyperplane", n=200, drift_points=(100,))[:2]
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=2, capacity=40, budget=50)
    plain = run_on_target(cfg, X, y, t, mark_steps=False)
    marked = run_on_target(cfg, X, y, t)
    unit = "cycles" if t.board.measure == "cycles" else "instructions"
    assert np.array_equal(plain["predictions"], marked["predictions"]) and plain["retrains"] == marked["retrains"]
    assert marked["train_marked_calls"] == marked["counters"]["train_calls"] > len(marked["retrains"]) > 0
    assert 0 < marked[f"train_{unit}"] < marked[unit]
    # the whole-loop figure: the old one plus the marker calls (a begin per row, an end per training call)
    extra = marked[unit] - plain[unit]
    assert 0 < extra <= (len(X) + marked["train_marked_calls"] + 2) * marked["marker_overhead"]
    assert run_on_target(cfg, X, y, t)[f"train_{unit}"] == marked[f"train_{unit}"]   # deterministic
