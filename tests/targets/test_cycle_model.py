"""The cycle models (targets/cycle_model.py + the plugin's costs=). Cortex-M: validated on micro-benchmarks
whose cycles per iteration the ARM manuals' timing tables state. RISC-V: the same mechanism checked against
the figures the model states from the documented pipelines (no timing table is published; see RV_EXPECTED).

The expected figures below are worked out by hand from the manuals (Cortex-M4 TRM DDI 0439 table 3-1 and
the FPU table; Cortex-M3 TRM DDI 0337 table 3-1; Cortex-M0+ TRM DDI 0484), with a pipeline refill P = 1
(the manuals give 1-3; taken branches to aligned targets measure 2 cycles on an M4) and a divide at the
middle of its 2-12 range; the bluepill adds its 2 flash wait states to every taken branch. Every loop
ends with `subs; bne` taken: 1 + (1 + P) cycles.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from conftest import board_param, checked_target
from microlearn.boards import get_board
from microlearn.targets import cycle_model

C_DIR = Path(__file__).resolve().parent / "c"

# loop -> cycles per iteration, by the manuals (see the module docstring).
M4 = {"alu": 4 + 3, "loads": 2 + 1 + 1 + 3, "stores": 2 + 1 + 3, "mul": 3 + 3, "call": 2 + 2 + 3,
      "push_pop": 4 + 4 + 3, "branches": 1 + 1 + 2 + 3, "div": 7 + 3, "vfp": 1 + 1 + 3 + 3, "vdiv": 14 + 3}
M3 = {k: v for k, v in M4.items() if k not in ("vfp", "vdiv")}
M0P = {"alu": 4 + 3, "loads": 2 * 3 + 3, "stores": 2 * 2 + 3, "mul": 3 + 3, "call": 3 + 2 + 3, "push_pop": 4 + 4 + 3,
       "branches": 1 + 1 + 2 + 3}
LOOPS = ["alu", "loads", "stores", "mul", "call", "push_pop", "branches", "div", "vfp", "vdiv"]


def _with_wait_states(table: dict, ws: int) -> dict:
    """The figures with `ws` flash wait states on every taken branch (and call/return)."""
    taken = {"alu": 1, "loads": 1, "stores": 1, "mul": 1, "call": 3, "push_pop": 1, "branches": 2, "div": 1}
    return {k: v + ws * taken[k] for k, v in table.items()}


EXPECTED = {"nrf52840": M4, "bluepill": _with_wait_states(M3, 2), "samd21": M0P, "rp2040": M0P}


def _per_iteration(target, build, loop: str):
    """Estimated cycles (nominal, low, high) and instructions per iteration: the difference of two runs."""
    runs = [target.run(build, bytes([LOOPS.index(loop)]) + struct.pack("<H", n)) for n in (100, 300)]
    est = [r.cycles_est for r in runs]
    return ((est[1].nominal - est[0].nominal) / 200, (est[1].low - est[0].low) / 200,
            (est[1].high - est[0].high) / 200, (runs[1].instructions - runs[0].instructions) / 200)


@pytest.mark.parametrize("board", [board_param("nrf52840"), board_param("bluepill"), board_param("samd21"),
                                   board_param("rp2040", slow=True)])
def test_micro_benchmarks_match_the_manuals(board, tmp_path):
    t = checked_target(board)
    build = t.build([C_DIR / "cycle_bench.c"], tmp_path)
    for loop, cycles in EXPECTED[board].items():
        nominal, low, high, instructions = _per_iteration(t, build, loop)
        assert instructions > 0, loop
        # the bar is 10%; the model should meet the hand-worked figure closely
        assert abs(nominal - cycles) <= 0.1 * cycles, (board, loop, nominal, cycles)
        assert low <= nominal <= high, (board, loop)
    if board in ("nrf52840", "bluepill"):
        # The divide's bounds are the manual's 2-12 cycles (P = 1 for the low bound, 3 for the high one).
        _, low, high, _ = _per_iteration(t, build, "div")
        assert low == 2 + 1 + (1 + 1) + (2 if board == "bluepill" else 0)
        assert high == 12 + 1 + (1 + 3) + (2 if board == "bluepill" else 0)


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_estimate_in_run_results_and_seconds(board, tmp_path):
    t = checked_target(board)
    build = t.build([C_DIR / "cycle_bench.c"], tmp_path)
    r = t.run(build, bytes([LOOPS.index("loads")]) + struct.pack("<H", 50))
    assert r.cycles_est is not None and r.cycles_est.nominal > r.instructions
    assert r.seconds == r.cycles_est.nominal / get_board(board).clock_hz and r.seconds_kind == "estimate"
    assert "cycle model" in r.extra["seconds_assumes"]


# RISC-V: no per-instruction table is published (cycle_model.RV_CORES): the figures below are the ones the
# model states from the documented pipelines (ESP32-C3: four stages, a taken branch or jump 1 + 2, a load 1
# + 1 when the next instruction uses it, a divide 17 of 2-33; CH32V003: two stages, a taken branch 1 + 1 + the
# 1 flash wait state, a load or store 2 of 1-3). Every loop ends with `addi; bnez` taken: 1 + (1 + refill).
# They check that the disassembly is costed as the model says and taken branches are seen; the model's
# own error bars are the ranges (docs/targets.md), not this 10%.
RV_LOOPS = ["alu", "loads", "load_use", "stores", "call", "branches", "mul", "div"]
RV_EXPECTED = {
    "esp32c3": {"alu": 4 + 4, "loads": 3 + 4, "load_use": 2 + 1 + 4, "stores": 2 + 4, "call": 3 + 3 + 4,
                "branches": 1 + 3 + 4, "mul": 3 + 4, "div": 17 + 4},
    "ch32v003": {"alu": 4 + 4, "loads": 3 * 2 + 4, "load_use": 2 + 1 + 4, "stores": 2 * 2 + 4, "call": 3 + 3 + 4,
                 "branches": 1 + 3 + 4},
}


def _rv_per_iteration(target, build, loop: str):
    runs = [target.run(build, bytes([RV_LOOPS.index(loop)]) + struct.pack("<H", n)) for n in (100, 300)]
    est = [r.cycles_est for r in runs]
    return ((est[1].nominal - est[0].nominal) / 200, (est[1].low - est[0].low) / 200,
            (est[1].high - est[0].high) / 200, (runs[1].instructions - runs[0].instructions) / 200)


@pytest.mark.parametrize("board", [board_param("esp32c3"), board_param("ch32v003")])
def test_riscv_micro_benchmarks_match_the_model(board, tmp_path):
    t = checked_target(board)
    build = t.build([C_DIR / "rv_cycle_bench.c"], tmp_path)
    for loop, cycles in RV_EXPECTED[board].items():
        nominal, low, high, instructions = _rv_per_iteration(t, build, loop)
        assert instructions > 0, loop
        assert abs(nominal - cycles) <= 0.1 * cycles, (board, loop, nominal, cycles)
        assert instructions <= low <= nominal <= high, (board, loop)
    if board == "esp32c3":
        # the divide's bounds: 2-33 cycles, the refill 1-3
        _, low, high, _ = _rv_per_iteration(t, build, "div")
        assert (low, high) == (2 + 1 + (1 + 1), 33 + 1 + (1 + 3))
    else:
        # loads and stores 1-3, the refill 0-2 on top of the flash wait state
        _, low, high, _ = _rv_per_iteration(t, build, "loads")
        assert (low, high) == (3 * 1 + 1 + (1 + 0 + 1), 3 * 3 + 1 + (1 + 2 + 1))


@pytest.mark.parametrize("board", [board_param("ch32v003")])
def test_riscv_estimate_in_run_results_and_seconds(board, tmp_path):
    t = checked_target(board)
    r = t.run(t.build([C_DIR / "rv_cycle_bench.c"], tmp_path), bytes([RV_LOOPS.index("loads")]) + struct.pack("<H", 50))
    assert r.cycles_est is not None and r.cycles_est.nominal > r.instructions
    assert r.seconds == r.cycles_est.nominal / get_board(board).clock_hz and r.seconds_kind == "estimate"
    assert "cycle model of the RV32EC" in r.extra["seconds_assumes"]


@pytest.mark.parametrize("board", [board_param("esp8266")])
def test_lx106_has_no_model_and_says_so(board, tmp_path):
    t = checked_target(board)
    src = tmp_path / "marked.c"
    src.write_text('#include "mlrn_target.h"\nint main(void) { mlrn_target_init(); mlrn_target_mark_begin(); '
                   'mlrn_target_mark_end(); mlrn_target_exit(0); return 0; }\n')
    r = t.run(t.build([src], tmp_path))
    assert r.instructions is not None
    assert r.cycles_est is None and r.extra["seconds_assumes"] == "1 instruction per cycle"


def _rv_cost(core, text, next_text=None, ws=0):
    mnemonic, _, operands = text.partition(" ")
    nxt = None
    if next_text is not None:
        nm, _, nops = next_text.partition(" ")
        nxt = cycle_model._rv_sources(nm, nops.strip())
    return cycle_model.classify_rv(cycle_model.RV_CORES[core], mnemonic, operands.strip(), nxt, ws)


def test_classify_rv_follows_the_model():
    c3, v2a = "RV32IMC", "RV32EC"
    assert _rv_cost(c3, "lw a5,0(a4)", "add a0,a0,a5").base == 2        # load-use
    assert _rv_cost(c3, "lw a5,0(a4)", "add a0,a0,a3").base == 1
    assert _rv_cost(c3, "lw a5,0(a4)", "sw a5,4(a4)").base == 2         # a store reads its data register
    assert _rv_cost(c3, "lw a5,0(a4)").base == 1                          # a block boundary: not charged
    assert _rv_cost(c3, "bnez a5,80000020 <f+0x10>") == cycle_model.InsnCost(1, 2, 0)
    assert _rv_cost(c3, "ret") == cycle_model.InsnCost(1, 2, 0)
    assert _rv_cost(c3, "divu a0,a0,a1") == cycle_model.InsnCost(17, 0, cycle_model.CAT_DIV)
    assert _rv_cost(c3, "mulhu a0,a0,a1").base == 1
    assert _rv_cost(v2a, "lw a5,0(a4)", "add a0,a0,a5") == cycle_model.InsnCost(2, 0, cycle_model.CAT_DIV)
    assert _rv_cost(v2a, "sb a5,0(a4)") == cycle_model.InsnCost(2, 0, cycle_model.CAT_DIV)
    assert _rv_cost(v2a, "j 80000040 <g>", ws=1) == cycle_model.InsnCost(1, 2, 0)
    assert _rv_cost(v2a, "slli a0,a0,0x2") == cycle_model.InsnCost(1, 0, 0)


def test_rv_cost_table_breaks_load_use_at_branch_targets():
    listing = """
80000000 <f>:
80000000:	lw	a5,0(a0)
80000002:	add	a1,a1,a5
80000004:	lw	a5,4(a0)
80000006:	add	a2,a2,a5
80000008:	bnez	a3,80000006 <f+0x6>
8000000a:	ret
"""
    table = cycle_model.cost_table_rv(listing, cycle_model.RV_CORES["RV32IMC"])
    assert [table[a].base for a in (0x80000000, 0x80000004)] == [2, 1]  # 0x80000006 is a branch target
    assert table[0x80000008].penalty == 2 and table[0x8000000a].penalty == 2


def _cost(core, text, after=False, ws=0):
    mnemonic, _, operands = text.partition(" ")
    return cycle_model.classify(cycle_model.CORES[core], mnemonic, operands.strip(), after, ws)


def test_classify_follows_the_tables():
    m4 = "Cortex-M4F"
    assert _cost(m4, "ldr.w r0, [r1, #4]") == cycle_model.InsnCost(2, 0, 0)
    assert _cost(m4, "ldr r0, [r1]", after=True).base == 1          # pipelined after a load/store
    assert _cost(m4, "ldrne r0, [r1]").base == 2                    # conditional, in an IT block
    assert _cost(m4, "pop {r4, r5, r6, r7, pc}") == cycle_model.InsnCost(1 + 5 + 1, 1, 0)
    assert _cost(m4, "ldmia.w sp!, {r4-r7}").base == 1 + 4
    assert _cost(m4, "ldr.w pc, [sp], #4").penalty == 1
    assert _cost(m4, "bne.n 8012 <f+0x12>") == cycle_model.InsnCost(1, 1, 0)
    assert _cost(m4, "bl 8000 <g>", ws=2) == cycle_model.InsnCost(1, 3, 0)
    assert _cost(m4, "vmla.f32 s0, s1, s2").base == 3
    assert _cost(m4, "vdiv.f32 s0, s1, s2").base == 14
    assert _cost(m4, "vpush {s16-s19}").base == 1 + 4
    assert _cost(m4, "udiv r0, r1, r2") == cycle_model.InsnCost(7, 0, cycle_model.CAT_DIV)
    assert _cost("Cortex-M3", "mla r0, r1, r2, r3").base == 2
    assert _cost("Cortex-M3", "umull r0, r1, r2, r3").base == 4
    assert _cost("Cortex-M0+", "bl 8000 <g>") == cycle_model.InsnCost(2, 1, 0)  # 3 cycles when it goes
    assert _cost("Cortex-M0+", "ldr r0, [r1]", after=True).base == 2  # no pipelining on the M0+


def test_cost_table_skips_data_and_breaks_pairs_at_branch_targets():
    listing = """
00008000 <f>:
    8000:	ldr	r1, [r0, #0]
    8002:	ldr	r2, [r0, #4]
    8004:	str	r2, [r0, #8]
    8006:	subs	r3, #1
    8008:	bne.n	8004 <f+0x4>
    800a:	bx	lr
    800c:	.word	0x20000000
"""
    table = cycle_model.cost_table(listing, cycle_model.CORES["Cortex-M4F"])
    assert [table[a].base for a in (0x8000, 0x8002, 0x8004)] == [2, 1, 2]  # 0x8004 is a branch target
    assert table[0x8008].penalty == 1 and table[0x800a].penalty == 1
    assert 0x800c not in table
