"""Cycle estimates for the Cortex-M, RISC-V and Xtensa boards: a per-core timing model applied to what qemu
executed.

qemu has no cycle model: it counts instructions. This module gives each instruction of a firmware its
cost in cycles from the ARM technical reference manuals' instruction timing tables (zero wait states):

- Cortex-M4 TRM (DDI 0439), table 3-1 "Processor instruction set summary" and table 7-1 (FPU);
- Cortex-M3 TRM (DDI 0337), table 3-1 (the same pipeline; multiply-accumulate and long multiplies slower);
- Cortex-M0+ TRM (DDI 0484) / ARMv6-M instruction summary (2-stage pipeline: loads, stores and taken
  branches 2 cycles, BL 3, a single-cycle multiplier as on the SAMD21 and the RP2040).

The plugin (support/cortexm/count_plugin.c, `costs=FILE`) adds each executed instruction's static cost and,
when a branch is taken (the next block does not start at the branch's fall-through address), its refill
penalty. What the manuals leave as a range is counted separately, so a run reports a nominal estimate
and bounds: a pipeline refill P is 1 to 3 cycles on the M3/M4 (1 nominal: taken branches measured at 2
cycles on an M4 when the target is aligned), a divide 2 to 12 (7 nominal). Not modelled (they widen the
error bars, see docs/targets.md): flash wait states hidden by caches or prefetch buffers (only the
taken-branch refetch on a part without a cache is added, `Board.flash_wait_states`), IT folding,
unaligned 32-bit instructions, bus contention, interrupts.

RISC-V (esp32c3, ch32v003): neither maker publishes a per-instruction timing table (none in the ESP32-C3
datasheet v2.2 or what of its reference manual was reachable here, the QingKe V2 processor manual V1.0 or the
CH32V003 reference manual V1.2). They document the pipeline (ESP32-C3: four stages, a 32-bit multiplier and
divider; QingKe V2A: two stages, static branch prediction; CH32V003: 1 flash wait state at 48 MHz), and
third parties have measured the common classes on the silicon (RV_CORES names each source). The model
(RiscVTiming) takes the measured figures where there are some and, where there are none (the ESP32-C3's
divide and indirect jumps, the CH32V003's loads), an assumption with a range; the bounds are wider than the
Cortex-M ones (docs/targets.md).

Xtensa LX106 (esp8266): neither Espressif nor Cadence publishes the lx106's instruction timings. GCC's Xtensa
port (written at Tensilica) describes "a simple 5-stage RISC pipeline", one instruction per cycle, loads,
RSR, MUL16 and MUL32 with a result latency of 2 (gcc/config/xtensa/xtensa.md). People timed the ESP8266 itself
with its cycle counter (CCOUNT) and published the figures: cnlohr/espusb usb_notes.txt and speednotes.txt
(commit 05b807b, code in IRAM), and jjsuwa-sys3175's L32R benchmark in earlephilhower/esp-quick-toolchain
pull request 33. The model (XtensaTiming) takes those measured figures; where nobody measured a class (MULL,
indirect jumps and returns) it states an assumption. What it leaves out is in docs/targets.md ("ESP8266 cycle
estimates").
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import _toolchain as tc

# Categories the plugin counts separately (their cost is a range in the manuals).
CAT_NONE, CAT_DIV = 0, 1


@dataclass(frozen=True)
class CoreTiming:
    """One core's instruction costs (cycles, zero wait states)."""
    name: str
    load: int                 # LDR/STR (single)
    load_pipelined: int       # a load/store right after another one (M3/M4 overlap address and data phases)
    multiple_base: int        # LDM/STM/PUSH/POP: base + number of registers
    pop_pc_extra: int         # POP {.., pc} / LDM with pc: extra over the multiple
    branch: int               # a branch's own cost (not taken, or before the refill)
    refill: int               # nominal pipeline refill after a taken branch
    refill_min: int
    refill_max: int
    bl_extra: int             # BL over a taken B (M0+: 3 vs 2)
    mul: int
    mla: int
    long_mul: int             # SMULL/UMULL
    long_mla: int             # SMLAL/UMLAL
    div: int                  # nominal SDIV/UDIV
    div_min: int
    div_max: int
    fpu: dict                 # VFP mnemonic (no suffix) -> cycles; empty: no FPU
    fpu_mem: int = 2          # VLDR/VSTR (single)

    # The class counted apart (CAT_DIV) because its cost is a range: on Cortex-M, the divide.
    @property
    def ranged(self) -> int:
        return self.div

    @property
    def ranged_min(self) -> int:
        return self.div_min

    @property
    def ranged_max(self) -> int:
        return self.div_max


_M4_FPU = {
    "vadd": 1, "vsub": 1, "vmul": 1, "vnmul": 1, "vabs": 1, "vneg": 1, "vcmp": 1, "vcmpe": 1, "vcvt": 1,
    "vcvtr": 1, "vmov": 1, "vmrs": 1, "vmsr": 1, "vmla": 3, "vmls": 3, "vnmla": 3, "vnmls": 3, "vfma": 3,
    "vfms": 3, "vfnma": 3, "vfnms": 3, "vdiv": 14, "vsqrt": 14,
}

CORES = {
    "Cortex-M4F": CoreTiming("Cortex-M4F", load=2, load_pipelined=1, multiple_base=1, pop_pc_extra=1, branch=1,
                             refill=1, refill_min=1, refill_max=3, bl_extra=0, mul=1, mla=1, long_mul=1,
                             long_mla=1, div=7, div_min=2, div_max=12, fpu=_M4_FPU),
    "Cortex-M3": CoreTiming("Cortex-M3", load=2, load_pipelined=1, multiple_base=1, pop_pc_extra=1, branch=1,
                            refill=1, refill_min=1, refill_max=3, bl_extra=0, mul=1, mla=2, long_mul=4,
                            long_mla=5, div=7, div_min=2, div_max=12, fpu={}),
    # ARMv6-M: no divide instruction, no long multiplies, no FPU (those never occur in its code).
    "Cortex-M0+": CoreTiming("Cortex-M0+", load=2, load_pipelined=2, multiple_base=1, pop_pc_extra=2, branch=1,
                             refill=1, refill_min=1, refill_max=1, bl_extra=1, mul=1, mla=1, long_mul=1,
                             long_mla=1, div=1, div_min=1, div_max=1, fpu={}),
}

_COND = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")
_LINE = re.compile(r"^\s*([0-9a-f]+):\s+([a-z][a-z0-9.]*)\s*(.*)$")
_LOADS = re.compile(r"^(ldr|str)(b|h|sb|sh|ex|exb|exh|t|bt|ht|sbt|sht)?$")
_MULTI = re.compile(r"^(ldm|stm)(ia|db|fd|ea)?$")


@dataclass(frozen=True)
class InsnCost:
    base: int       # cycles when not taken / always
    penalty: int    # extra cycles when it branches (0: not a branch)
    category: int   # CAT_NONE or CAT_DIV


def _strip(mnemonic: str) -> str:
    """ldr.w -> ldr, bne.n -> bne, vadd.f32 -> vadd."""
    return mnemonic.split(".", 1)[0]


def _branch_cond(m: str) -> str | None:
    """The mnemonic without a condition suffix if it is a B<cond>, else None."""
    if m == "b":
        return "b"
    if m.startswith("b") and m[1:] in _COND:
        return "b"
    return None


def _reg_count(operands: str) -> tuple[int, bool]:
    """Registers in a {..} list (ranges like r4-r7 counted), and whether pc is among them."""
    inner = operands[operands.find("{") + 1: operands.find("}")] if "{" in operands else ""
    n, has_pc = 0, False
    for part in (p.strip() for p in inner.split(",") if p.strip()):
        if "-" in part:
            lo, hi = (int(re.sub(r"\D", "", x) or 0) for x in part.split("-"))
            n += max(hi - lo + 1, 1)
        else:
            n += 1
            has_pc |= part == "pc"
    return n, has_pc


def _writes_pc(operands: str) -> bool:
    return operands.split(",", 1)[0].strip() == "pc"


def classify(core: CoreTiming, mnemonic: str, operands: str, after_memory: bool, wait_states: int) -> InsnCost:
    """The cost of one instruction on `core`. `after_memory`: the instruction before it in program order is a
    single load/store (the M3/M4 pipeline the pair). `wait_states`: flash wait states a taken branch's refetch
    pays (a part without an instruction cache)."""
    m = _strip(mnemonic)
    refill = core.refill + wait_states
    if _branch_cond(m):
        return InsnCost(core.branch, refill, CAT_NONE)
    if m in ("bl", "blx"):
        return InsnCost(core.branch + core.bl_extra, refill, CAT_NONE)
    if m == "bx":
        return InsnCost(core.branch, refill, CAT_NONE)
    if m in ("cbz", "cbnz"):
        return InsnCost(core.branch, refill, CAT_NONE)
    if m in ("tbb", "tbh"):
        return InsnCost(core.load, refill, CAT_NONE)
    if m in ("push", "pop", "vpush", "vpop") or _MULTI.match(m) or re.match(r"^v(ldm|stm)(ia|db)?$", m):
        n, pc = _reg_count(operands)
        if m.startswith("v"):
            n = n or 1
        cost = core.multiple_base + n
        return InsnCost(cost + (core.pop_pc_extra if pc else 0), refill if pc else 0, CAT_NONE)
    if m in ("ldrd", "strd"):
        return InsnCost(core.multiple_base + 2, 0, CAT_NONE)
    if _LOADS.match(m):
        cost = core.load_pipelined if after_memory else core.load
        if m.startswith("ldr") and _writes_pc(operands):
            return InsnCost(cost, refill, CAT_NONE)
        return InsnCost(cost, 0, CAT_NONE)
    if m in ("vldr", "vstr"):
        return InsnCost(core.fpu_mem, 0, CAT_NONE)
    if m in ("sdiv", "udiv"):
        return InsnCost(core.div, 0, CAT_DIV)
    if m in ("mul", "muls"):
        return InsnCost(core.mul, 0, CAT_NONE)
    if m in ("mla", "mls"):
        return InsnCost(core.mla, 0, CAT_NONE)
    if m in ("smull", "umull"):
        return InsnCost(core.long_mul, 0, CAT_NONE)
    if m in ("smlal", "umlal"):
        return InsnCost(core.long_mla, 0, CAT_NONE)
    if m.startswith("v") and core.fpu:
        return InsnCost(core.fpu.get(m, 1), 0, CAT_NONE)
    if m in ("mov", "add") and _writes_pc(operands):
        return InsnCost(core.branch, refill, CAT_NONE)
    if len(m) > 3 and m[-2:] in _COND:
        # a conditional instruction of an IT block (ldrne, addeq, bxeq): cost as the unconditional one
        return classify(core, m[:-2], operands, after_memory, wait_states)
    return InsnCost(1, 0, CAT_NONE)


def _is_single_memory(mnemonic: str) -> bool:
    m = _strip(mnemonic)
    return bool(_LOADS.match(m) or (len(m) > 3 and m[-2:] in _COND and _LOADS.match(m[:-2])))


_TARGET = re.compile(r"^([0-9a-f]+)\s*<")


def _branch_targets(lines) -> set[int]:
    """Addresses some direct branch jumps to ("bne.n 8012 <f+0x12>"): there the instruction before in
    program order is not the one that ran before."""
    targets = set()
    for match in lines:
        mnemonic, operands = match.group(2), match.group(3)
        m = _strip(mnemonic)
        if _branch_cond(m) or m in ("cbz", "cbnz", "bl"):
            t = _TARGET.match(operands.split(",")[-1].strip())
            if t:
                targets.add(int(t.group(1), 16))
    return targets


def cost_table(disassembly: str, core: CoreTiming, wait_states: int = 0) -> dict[int, InsnCost]:
    """{address: cost} for every instruction of an objdump -d listing (no raw bytes). A load or store is
    paired with the one before it in program order (the M3/M4 overlap), except at a branch target."""
    lines = [(line, _LINE.match(line)) for line in disassembly.splitlines()]
    targets = _branch_targets(m for _, m in lines if m)
    table, previous_memory = {}, False
    for line, match in lines:
        if not match:
            if line.strip().endswith(">:"):  # a new symbol: program order restarts
                previous_memory = False
            continue
        addr, mnemonic, operands = int(match.group(1), 16), match.group(2), match.group(3).split(";")[0]
        if mnemonic.startswith("."):   # data in a literal pool (.word, .short)
            previous_memory = False
            continue
        after = previous_memory and addr not in targets
        table[addr] = classify(core, mnemonic, operands, after, wait_states)
        previous_memory = _is_single_memory(mnemonic) and table[addr].penalty == 0
    return table


# ---------------------------------------------------------------------------------------------------------
# RISC-V. Neither maker publishes a per-instruction table (see the module docstring); the figures below are
# third-party measurements on the silicon where there are some, each named with its source, and assumptions
# from the documented pipeline where there are none, each with a range.


@dataclass(frozen=True)
class RiscVTiming:
    """A RISC-V core's costs in cycles. A taken branch or jump costs `branch` + its refill (+ the board's flash
    wait states); `taken_down` / `taken_up`: how far every refill may be below / above its nominal value (the
    bounds). `ranged_class` names the class counted apart (the plugin's category 1) because its cost is the
    widest range: 'div' (divides) or 'mem' (loads and stores)."""
    name: str
    basis: str                # what the figures rest on (documents, measurements)
    fetch32: int              # extra cycles of a 32-bit (uncompressed) instruction
    load: int                 # LB/LH/LW/LBU/LHU
    store: int                # SB/SH/SW
    branch: int               # a branch or jump's own cost
    branch_refill: int        # a taken conditional branch's refill
    jump_refill: int          # J / JAL (a direct jump or call)
    jalr_refill: int          # JALR / JR / RET (a register-indirect jump or return)
    taken_down: int
    taken_up: int
    mul: int                  # MUL/MULH* (0: no M extension)
    ranged_class: str
    ranged: int               # nominal cost of the ranged class
    ranged_min: int
    ranged_max: int

    # estimate() reads the refill range as refill - refill_min / refill_max - refill.
    @property
    def refill(self) -> int:
        return self.taken_down

    @property
    def refill_min(self) -> int:
        return 0

    @property
    def refill_max(self) -> int:
        return self.taken_down + self.taken_up


RV_CORES = {
    # Measured on an ESP32-C3 with its performance counters, code in SRAM (github.com/timonvo/niccle,
    # esp/examples/cycle_counting.rs, commit 04c4958): ADD/ADDI/XOR/NOP/CSRR 1 cycle, J 2, LB/LBU/LW 2,
    # SB/SW 1, a conditional branch 1 not taken and 3 taken (forward or backward, every time). Not measured
    # there, so assumed: JAL like J (2), JALR/RET like a taken branch (3), MUL 1 (the datasheet's "32-bit
    # multiplier"), DIV 17 of 2-33 (one quotient bit per cycle at most; the latency is not published). The
    # refills may be 1 lower (an indirect jump as fast as J) or 1 higher (a misaligned 32-bit target).
    "RV32IMC": RiscVTiming("ESP32-C3 (ESP-RISC-V)",
                           "measured: timonvo/niccle esp/examples/cycle_counting.rs (ESP32-C3 performance counters, "
                           "code in SRAM); documented: ESP32-C3 datasheet v2.2, 4.1.1.1 (four-stage pipeline, 32-bit "
                           "multiplier and divider)",
                           fetch32=0, load=2, store=1, branch=1, branch_refill=2, jump_refill=1, jalr_refill=2,
                           taken_down=1, taken_up=1, mul=1, ranged_class="div", ranged=17, ranged_min=2,
                           ranged_max=33),
    # Measured on a CH32V003 at 48 MHz (1 flash wait state), SysTick-timed loops (cpldcpu/DRAM_exploration,
    # instruction_timing/README.md, commit 49758c4): from flash a 16-bit instruction takes 1 cycle and a
    # 32-bit one 2 ("the Flash can only provide 32 bits of data every two cycles"; CaiB/CH32V003-Architecture-
    # Exploration, Analysis/InstructionTimingProcess.md, saw the same: compressed 1 CPI, uncompressed 2); a
    # taken branch flushes the 2-stage pipeline (+2) and refetches from flash (+1 or +2: the RM's wait state,
    # Board.flash_wait_states, and 0-1 more by the prefetch's phase): the bare `addi; bnez` loop is 6 cycles
    # from flash; a store takes 2 cycles. Assumed: jumps refill like taken branches; a load like a store, 2,
    # up to 4 when it reads a constant from flash (the same bus as the instruction fetch). No M extension.
    "RV32EC": RiscVTiming("CH32V003 (QingKe V2A)",
                          "measured: cpldcpu/DRAM_exploration instruction_timing (CH32V003 at 48 MHz, from flash); "
                          "documented: QingKe V2 processor manual V1.0 Table 1-1 (2-stage pipeline, static branch "
                          "prediction), CH32V003 reference manual V1.2 16.3.1 (1 flash wait state at 48 MHz)",
                          fetch32=1, load=2, store=2, branch=1, branch_refill=3, jump_refill=3, jalr_refill=3,
                          taken_down=1, taken_up=0, mul=0, ranged_class="mem", ranged=2, ranged_min=2, ranged_max=4),
}

_ADDR = re.compile(r"^\s*([0-9a-f]+):\s")
_RV_BRANCH = frozenset({"beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "blez", "bgez", "bltz",
                        "bgtz", "bgt", "ble", "bgtu", "bleu"})
_RV_DIRECT_JUMP = frozenset({"j", "jal", "call", "tail"})
_RV_INDIRECT_JUMP = frozenset({"jalr", "jr", "ret"})
_RV_LOAD = frozenset({"lb", "lh", "lw", "lbu", "lhu"})
_RV_STORE = frozenset({"sb", "sh", "sw"})
_RV_MUL = frozenset({"mul", "mulh", "mulhsu", "mulhu"})
_RV_DIV = frozenset({"div", "divu", "rem", "remu"})


def _rv_mnemonic(mnemonic: str) -> str:
    """c.addi -> addi (objdump prints the expanded form anyway); fence.i stays."""
    return mnemonic[2:] if mnemonic.startswith("c.") else mnemonic


def classify_rv(core: RiscVTiming, mnemonic: str, operands: str, size: int, wait_states: int) -> InsnCost:
    """The cost of one RISC-V instruction of `size` bytes (2: compressed, 4: not)."""
    m = _rv_mnemonic(mnemonic)
    fetch = core.fetch32 if size >= 4 else 0
    if m in _RV_BRANCH:
        return InsnCost(core.branch + fetch, core.branch_refill + wait_states, CAT_NONE)
    if m in _RV_DIRECT_JUMP:
        return InsnCost(core.branch + fetch, core.jump_refill + wait_states, CAT_NONE)
    if m in _RV_INDIRECT_JUMP:
        return InsnCost(core.branch + fetch, core.jalr_refill + wait_states, CAT_NONE)
    if m in _RV_LOAD or m in _RV_STORE:
        # the fetch of a 32-bit one is taken to overlap the data access (the range covers it)
        cost = max(core.load if m in _RV_LOAD else core.store, 1 + fetch)
        if core.ranged_class == "mem":
            return InsnCost(core.ranged, 0, CAT_DIV)
        return InsnCost(cost, 0, CAT_NONE)
    if m in _RV_DIV and core.ranged_class == "div":
        return InsnCost(core.ranged, 0, CAT_DIV)
    if m in _RV_MUL:
        return InsnCost(max(core.mul, 1) + fetch, 0, CAT_NONE)
    return InsnCost(1 + fetch, 0, CAT_NONE)


def cost_table_rv(disassembly: str, core: RiscVTiming, wait_states: int = 0) -> dict[int, InsnCost]:
    """{address: cost} for a riscv objdump -d listing (no raw bytes). An instruction's size is the distance to
    the next address in the listing (4 for the last one)."""
    rows = []                          # (address, match or None) for every line with an address, data included
    for line in disassembly.splitlines():
        at = _ADDR.match(line)
        if at:
            rows.append((int(at.group(1), 16), _LINE.match(line)))
    table = {}
    for i, (addr, match) in enumerate(rows):
        if match is None or match.group(2).startswith("."):
            continue                   # data (.word, .short)
        gap = rows[i + 1][0] - addr if i + 1 < len(rows) else 4
        size = gap if gap in (2, 4) else 4
        table[addr] = classify_rv(core, match.group(2), match.group(3).split("#")[0], size, wait_states)
    return table


# ---------------------------------------------------------------------------------------------------------
# Xtensa LX106 (ESP8266). No timing table is published (see the module docstring): the figures below were
# measured on the ESP8266 with its CCOUNT register, each named with its source, and the classes nobody
# measured are stated assumptions.


@dataclass(frozen=True)
class XtensaTiming:
    """An Xtensa core's costs in cycles. A taken branch, jump, call or return costs `branch` + `taken`, one more
    when a direct one lands on an address whose low two bits are 11 (`misaligned_target`); `taken_up`: how far
    above that every taken one may be (the bound). A load costs `load`, L32R `literal` (the ranged class, counted
    apart: `literal_min`..`literal_max`), and either one `use_stall` more when the next instruction in program
    order reads the register it loads; MULL likewise (`mull` + `use_stall`)."""
    name: str
    basis: str                # what the figures rest on (measurements, documents)
    load: int                 # L8UI/L16UI/L16SI/L32I(.N) from data RAM
    use_stall: int            # the next instruction reads the loaded (or multiplied) register
    literal: int              # L32R, nominal
    literal_min: int
    literal_max: int
    branch: int               # a branch's own cost (taken or not), a jump's, a call's, a return's
    taken: int                # refill after a taken branch, jump, call or return
    misaligned_target: int    # more when a direct target's address ends in binary 11
    taken_up: int             # every taken one may be this much above nominal
    mul16: int                # MUL16U/MUL16S
    mull: int                 # MULL (32-bit), before its use stall

    # estimate() reads the taken refill's range as refill - refill_min / refill_max - refill, and the ranged
    # class (L32R, the plugin's category 1) as ranged - ranged_min / ranged_max - ranged.
    @property
    def refill(self) -> int:
        return 0

    @property
    def refill_min(self) -> int:
        return 0

    @property
    def refill_max(self) -> int:
        return self.taken_up

    @property
    def ranged(self) -> int:
        return self.literal

    @property
    def ranged_min(self) -> int:
        return self.literal_min

    @property
    def ranged_max(self) -> int:
        return self.literal_max


XT_CORES = {
    # Measured on an ESP8266 with CCOUNT, code in IRAM (cnlohr/espusb usb_notes.txt, commit 05b807b): nop,
    # add.n, movi 1 cycle; l32i(.n) 1, 3 for a load and an add reading its result, 2 when the add reads another
    # register ("the next instruction CANNOT use the data that was loaded"); `l32i.n; nop.n; bgeui` 3 cycles not
    # taken, 5 taken ("branching takes 2 additional"); `j` 3; mul16u 1 "always"; l32r 7, two in a row 14, and
    # `l32r; s32i.n` storing through the loaded register 9 (the stall); a jump to an address ending in binary 11
    # one cycle more (usb_notes.txt and speednotes.txt: a bbsi to each alignment). L32R measured again in an
    # Arduino sketch (earlephilhower/esp-quick-toolchain pull request 33, jjsuwa-sys3175, 2021-12-19): "6 ~ 8
    # cycles/load", MOVI 1. Assumed: call0/callx0/jx/ret like `j` (cnlohr's call0 + j + ret.n loop measured 10
    # cycles, the model says 9: inside the +1 per taken jump of the bound); MULL 1 + the use stall (GCC's xtensa.md
    # gives mul32 a latency of 2, like loads); stores, ALU, shifts, memw, rsr/wsr 1.
    "Xtensa LX106": XtensaTiming("ESP8266 (Xtensa LX106)",
                                 "measured: cnlohr/espusb usb_notes.txt and speednotes.txt (ESP8266 CCOUNT, code in "
                                 "IRAM), earlephilhower/esp-quick-toolchain PR 33 (L32R); documented: GCC "
                                 "config/xtensa/xtensa.md (5-stage pipeline, load/MUL32 latency 2)",
                                 load=1, use_stall=1, literal=7, literal_min=6, literal_max=8, branch=1, taken=2,
                                 misaligned_target=1, taken_up=1, mul16=1, mull=1),
}

_XT_LOADS = frozenset({"l8ui", "l16ui", "l16si", "l32i", "l32i.n", "l32ai"})
_XT_DIRECT = frozenset({"j", "call0"})
_XT_INDIRECT = frozenset({"jx", "callx0", "ret", "ret.n"})
# Instructions whose first operand is read, not written: stores, branches, indirect jumps, special-register
# writes, shift-amount setters, and the conditional moves (which keep it when the condition fails).
_XT_FIRST_READ = frozenset({"s8i", "s16i", "s32i", "s32i.n", "s32ri", "s32c1i", "jx", "callx0", "wsr", "xsr",
                            "wur", "ssl", "ssr", "ssa8l", "ssa8b", "moveqz", "movnez", "movltz", "movgez"})
_XT_REG = re.compile(r"\ba(\d{1,2})\b")


def _xt_is_branch(m: str) -> bool:
    """A conditional branch: b<cond>, bbci, beqz.n, ... (not break)."""
    return m.startswith("b") and not m.startswith("break")


def _xt_target(operands: str) -> int | None:
    """The address a direct branch or jump goes to ("bnez a2, 40200020 <f+0x10>"), or None."""
    t = _TARGET.match(operands.split(",")[-1].strip())
    return int(t.group(1), 16) if t else None


def _xt_operands(operands: str) -> list[str]:
    """The operand list without objdump's comments: "a2, 40200000 <x> (3ffe8068 <sink>)" -> ["a2", "40200000"]."""
    return [re.sub(r"\s*[<(].*$", "", o).strip() for o in operands.split(",")]


def _xt_writes(m: str, operands: str) -> str | None:
    """The register a load, L32R or MULL writes (its first operand), None for anything else."""
    if m in _XT_LOADS or m in ("l32r", "mull"):
        ops = _xt_operands(operands)
        return ops[0] if ops and _XT_REG.fullmatch(ops[0]) else None
    return None


def _xt_reads(m: str, operands: str) -> set[str]:
    """The address registers an instruction reads (a superset where unsure: a stall charged too many)."""
    ops = _xt_operands(operands)
    read = ops if (m in _XT_FIRST_READ or _xt_is_branch(m)) else ops[1:]
    implicit = {"a0"} if m in ("ret", "ret.n") else set()     # a return jumps to a0
    return {o for o in read if _XT_REG.fullmatch(o)} | implicit


def classify_xt(core: XtensaTiming, mnemonic: str, operands: str, next_reads: set[str] = frozenset()) -> InsnCost:
    """The cost of one lx106 instruction; `next_reads`: the registers the next instruction in program order reads
    (a load's or MULL's result used at once stalls the pipeline)."""
    m = mnemonic
    dest = _xt_writes(m, operands)
    stall = core.use_stall if dest is not None and dest in next_reads else 0
    if _xt_is_branch(m) or m in _XT_DIRECT:
        target = _xt_target(operands)
        odd = core.misaligned_target if target is not None and target % 4 == 3 else 0
        return InsnCost(core.branch, core.taken + odd, CAT_NONE)
    if m in _XT_INDIRECT:
        return InsnCost(core.branch, core.taken, CAT_NONE)
    if m == "l32r":
        return InsnCost(core.literal + stall, 0, CAT_DIV)
    if m in _XT_LOADS:
        return InsnCost(core.load + stall, 0, CAT_NONE)
    if m == "mull":
        return InsnCost(core.mull + stall, 0, CAT_NONE)
    if m in ("mul16u", "mul16s"):
        return InsnCost(core.mul16, 0, CAT_NONE)
    return InsnCost(1, 0, CAT_NONE)


def _xt_segments(disassembly: str) -> list[list[tuple[int, str, str]]]:
    """The instructions of an xtensa objdump -d listing (no raw bytes) in runs of program order: a run ends at a
    symbol or at data (.byte)."""
    segments, run = [], []
    for line in disassembly.splitlines():
        match = _LINE.match(line)
        if match:
            run.append((int(match.group(1), 16), match.group(2), match.group(3)))
        elif (line.strip().endswith(">:") or _ADDR.match(line)) and run:
            segments.append(run)
            run = []
    if run:
        segments.append(run)
    return segments


def cost_table_xt(disassembly: str, core: XtensaTiming, resync: str = "") -> dict[int, InsnCost]:
    """{address: cost} for an xtensa objdump -d listing (no raw bytes). Literal pools and alignment padding sit in
    the code; objdump decodes some of their bytes as instructions (costed too, never run) and can lose step after
    them. `resync`: listings of the code from branch targets the first listing missed (xt_resync_listing), each
    run ending with the instruction where it meets the first listing again: they replace what the first listing
    decoded at their addresses; that last instruction is only the one its predecessor is followed by."""
    table = {}
    for run in _xt_segments(disassembly):
        for i, (addr, m, ops) in enumerate(run):
            reads = _xt_reads(run[i + 1][1], run[i + 1][2]) if i + 1 < len(run) else set()
            table[addr] = classify_xt(core, m, ops, reads)
    for run in _xt_segments(resync):
        for i, (addr, m, ops) in enumerate(run[:-1]):
            table[addr] = classify_xt(core, m, ops, _xt_reads(run[i + 1][1], run[i + 1][2]))
    return table


def _xt_missed_targets(runs, decoded: set[int], text: tuple[int, int]) -> set[int]:
    """Direct branch, jump and call targets inside the code (`text`: [start, end)) at no decoded address."""
    missed = set()
    for run in runs:
        for _, m, ops in run:
            if _xt_is_branch(m) or m in _XT_DIRECT:
                t = _xt_target(ops)
                if t is not None and text[0] <= t < text[1] and t not in decoded:
                    missed.add(t)
    return missed


# How far one resynchronising disassembly reads, how many rounds of them (each round may find targets the last
# one decoded: objdump falls back into step within a few instructions after padding or a literal), and how many
# objdump runs at most (a firmware is untrusted: one full of bogus targets must not keep us busy; what stays
# missing costs the plugin's default, 1 cycle).
_XT_RESYNC_BYTES = 64
_XT_RESYNC_ROUNDS = 4
_XT_RESYNC_MAX_RUNS = 2000


def xt_resync_listing(elf: Path, objdump: str, listing: str) -> str:
    """Listings (objdump --start-address) from every direct branch target the linear listing missed, each cut
    where it meets the listing again (that instruction kept as its last line), for cost_table_xt's `resync`."""
    runs = _xt_segments(listing)
    decoded = {a for run in runs for a, _, _ in run}
    if not decoded:
        return ""
    text = (min(decoded), max(decoded) + 4)
    out, missed, budget = [], _xt_missed_targets(runs, decoded, text), _XT_RESYNC_MAX_RUNS
    for _ in range(_XT_RESYNC_ROUNDS):
        if not missed:
            break
        found = []
        for start in sorted(missed):
            if start in decoded or budget <= 0:
                continue            # decoded by an earlier run of this round, or out of budget
            budget -= 1
            part = subprocess.run([objdump, "-d", "--no-show-raw-insn", f"--start-address={start:#x}",
                                   f"--stop-address={start + _XT_RESYNC_BYTES:#x}", str(elf)],
                                  capture_output=True, text=True, check=True, timeout=60).stdout
            run = []
            for seg in _xt_segments(part):
                for row in seg:
                    run.append(row)
                    if row[0] in decoded:
                        break
                if run and run[-1][0] in decoded:
                    break
            if run:
                found.append(run)
                decoded |= {a for a, _, _ in run[:-1]}
                out.append(f"{start:08x} <mlrn_resync>:")
                out.extend(f"{a:8x}:\t{m}\t{ops}" for a, m, ops in run)
        missed = _xt_missed_targets(found, decoded, text)
    return "\n".join(out) + "\n" if out else ""


_OBJDUMP_HINT = {"cortex-m": "install binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
                 "riscv": "install binutils-riscv64-unknown-elf (comes with gcc-riscv64-unknown-elf)",
                 "xtensa": "install binutils-xtensa-lx106 (comes with gcc-xtensa-lx106)"}


def core_for(board) -> CoreTiming | RiscVTiming | XtensaTiming | None:
    """The timing model of a board's core, or None when there is none (AVR is exact)."""
    if board.arch == "cortex-m":
        return CORES.get(board.core)
    if board.arch == "riscv":
        return RV_CORES.get(board.core)
    if board.arch == "xtensa":
        return XT_CORES.get(board.core)
    return None


def write_cost_file(elf: Path, board, out: Path, objdump: str = "arm-none-eabi-objdump") -> bool:
    """Write the plugin's cost table for `elf` on `board` (lines "ADDR BASE PENALTY CATEGORY", hex address).
    False when the board has no model."""
    core = core_for(board)
    if core is None:
        return False
    tc.require_tool(objdump, _OBJDUMP_HINT[board.arch])
    listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(elf)], capture_output=True, text=True,
                             check=True, timeout=60).stdout
    if isinstance(core, RiscVTiming):
        table = cost_table_rv(listing, core, board.flash_wait_states)
    elif isinstance(core, XtensaTiming):
        table = cost_table_xt(listing, core, xt_resync_listing(elf, objdump, listing))
    else:
        table = cost_table(listing, core, board.flash_wait_states)
    out.write_text("".join(f"{a:x} {c.base} {c.penalty} {c.category}\n" for a, c in sorted(table.items())))
    return True


@dataclass(frozen=True)
class CycleEstimate:
    nominal: int
    low: int
    high: int
    taken_branches: int
    divides: int


def estimate(board, cycles: int, taken: int, divides: int) -> CycleEstimate | None:
    """The plugin's nominal count of a region with its bounds from the manuals' ranges. `divides`: the
    plugin's category-1 count (the core's ranged class: divides, or on the ch32v003 loads and stores)."""
    core = core_for(board)
    if core is None or cycles < 0:
        return None
    low = cycles - taken * (core.refill - core.refill_min) - divides * (core.ranged - core.ranged_min)
    high = cycles + taken * (core.refill_max - core.refill) + divides * (core.ranged_max - core.ranged)
    return CycleEstimate(cycles, low, high, taken, divides)
