"""Cycle estimates for Cortex-M boards: a per-core timing model applied to the instructions qemu executed.

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

RISC-V (esp32c3, ch32v003): neither maker publishes a per-instruction timing table (none was found in the
ESP32-C3 datasheet v2.2 or reference material reachable here, in the QingKe V2 processor manual V1.0 or the
CH32V003 reference manual V1.2). What they do document is the pipeline: ESP32-C3 datasheet v2.2, section
4.1.1.1: "four-stage pipeline", "32-bit multiplier and 32-bit divider"; QingKe V2 manual, Table 1-1: V2A,
RV32EC, a 2-stage pipeline ("flow line: level 2"), static branch prediction, no divider (CH32V003 RM V1.2,
core table: "integer division periodicity: none"); CH32V003 RM V1.2, section 16.3.1 (FLASH_ACTLR.LATENCY):
1 flash wait state recommended for 24 < SYSCLK <= 48 MHz, with a prefetch buffer (RM section 1.x). So the
RISC-V costs (RiscVTiming below) follow from those pipeline descriptions, each assumption with a range, and
the reported bounds are wider than the Cortex-M ones (docs/targets.md). The lx106 (esp8266) has no model:
no timing figure for it was found.
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
# RISC-V. No per-instruction table is published for either core (see the module docstring): every cost
# below is an assumption drawn from the documented pipeline, and each uncertain one carries its range.


@dataclass(frozen=True)
class RiscVTiming:
    """A RISC-V core's assumed costs (cycles). `ranged_class` names the class counted apart (the plugin's
    category 1) because its cost is the widest range: 'div' (divides) or 'mem' (loads and stores)."""
    name: str
    basis: str                # what the figures rest on (documents, sections)
    load: int                 # a load or store's own cost (nominal)
    load_use: int             # extra when the next instruction in program order reads the loaded register
    branch: int               # a branch or jump's own cost
    refill: int               # nominal refill after a taken branch or a jump (flash wait states come on top)
    refill_min: int
    refill_max: int
    mul: int                  # MUL/MULH* (0: no M extension)
    ranged_class: str
    ranged: int               # nominal cost of the ranged class
    ranged_min: int
    ranged_max: int


RV_CORES = {
    # ESP32-C3 datasheet v2.2, 4.1.1.1: a four-stage in-order pipeline with a 32-bit multiplier and divider.
    # Assumed from that: ALU, multiply, store 1 cycle; a load 1, plus 1 when the very next instruction uses
    # its result (the data arrives a stage after the execute stage); a taken branch or jump refills the
    # stages before the one that resolves it: 2 cycles nominal, 1 to 3. The divider's latency is not
    # published: 17 nominal, 2 to 33 (one quotient bit per cycle at most 32 + 1, or an early exit).
    "RV32IMC": RiscVTiming("ESP32-C3 (ESP-RISC-V)", "ESP32-C3 datasheet v2.2, section 4.1.1.1 (four-stage "
                           "pipeline, 32-bit multiplier and divider); no timing table published",
                           load=1, load_use=1, branch=1, refill=2, refill_min=1, refill_max=3, mul=1,
                           ranged_class="div", ranged=17, ranged_min=2, ranged_max=33),
    # QingKe V2 processor manual V1.0, Table 1-1: V2A, RV32EC, 2-stage pipeline, static branch prediction;
    # CH32V003 RM V1.2, 16.3.1: 1 flash wait state at 48 MHz (Board.flash_wait_states, added to every taken
    # branch's refetch: the prefetch buffer cannot hold the target). Assumed from that: ALU 1 cycle; a taken
    # branch 1 + refill 1 (the fetched fall-through is dropped) + the wait state, refill 0 to 2; a load or
    # store 2 (no memory stage: the data access holds the execute stage), 1 to 3 (3: a constant read from
    # flash pays its wait state). No M extension: multiplies and divides are library calls.
    "RV32EC": RiscVTiming("CH32V003 (QingKe V2A)", "QingKe V2 processor manual V1.0, Table 1-1 (2-stage "
                          "pipeline, static branch prediction); CH32V003 reference manual V1.2, section 16.3.1 "
                          "(1 flash wait state at 48 MHz); no timing table published",
                          load=2, load_use=0, branch=1, refill=1, refill_min=0, refill_max=2, mul=0,
                          ranged_class="mem", ranged=2, ranged_min=1, ranged_max=3),
}

_RV_BRANCH = frozenset({"beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "blez", "bgez", "bltz",
                        "bgtz", "bgt", "ble", "bgtu", "bleu"})
_RV_JUMP = frozenset({"j", "jal", "jalr", "jr", "ret", "tail", "call"})
_RV_LOAD = frozenset({"lb", "lh", "lw", "lbu", "lhu"})
_RV_STORE = frozenset({"sb", "sh", "sw"})
_RV_MUL = frozenset({"mul", "mulh", "mulhsu", "mulhu"})
_RV_DIV = frozenset({"div", "divu", "rem", "remu"})
_RV_REG = re.compile(r"\b(zero|ra|sp|gp|tp|fp|t[0-6]|s[0-9]|s1[01]|a[0-7]|x[0-9]|x[12][0-9]|x3[01])\b")


def _rv_mnemonic(mnemonic: str) -> str:
    """c.addi -> addi (objdump prints the expanded form anyway); fence.i stays."""
    return mnemonic[2:] if mnemonic.startswith("c.") else mnemonic


def _rv_sources(mnemonic: str, operands: str) -> set[str]:
    """Registers an instruction reads: every operand of a store or branch, else all but the first."""
    regs = _RV_REG.findall(operands)
    if mnemonic in _RV_STORE or mnemonic in _RV_BRANCH:
        return set(regs)
    return set(regs[1:])


def classify_rv(core: RiscVTiming, mnemonic: str, operands: str, next_reads: set[str] | None,
                wait_states: int) -> InsnCost:
    """The cost of one RISC-V instruction. `next_reads`: registers the next instruction in program order
    reads (None at a block boundary), for the load-use stall."""
    m = _rv_mnemonic(mnemonic)
    refill = core.refill + wait_states
    if m in _RV_BRANCH or m in _RV_JUMP:
        return InsnCost(core.branch, refill, CAT_NONE)
    if m in _RV_LOAD or m in _RV_STORE:
        cost = core.load
        if m in _RV_LOAD and core.load_use and next_reads:
            regs = _RV_REG.findall(operands)
            if regs and regs[0] in next_reads:
                cost += core.load_use
        return InsnCost(cost, 0, CAT_DIV if core.ranged_class == "mem" else CAT_NONE)
    if m in _RV_DIV:
        return InsnCost(core.ranged, 0, CAT_DIV) if core.ranged_class == "div" else InsnCost(1, 0, CAT_NONE)
    if m in _RV_MUL:
        return InsnCost(max(core.mul, 1), 0, CAT_NONE)
    return InsnCost(1, 0, CAT_NONE)


def _rv_targets(lines) -> set[int]:
    targets = set()
    for match in lines:
        m = _rv_mnemonic(match.group(2))
        if m in _RV_BRANCH or m in ("j", "jal", "call", "tail"):
            t = _TARGET.match(match.group(3).split(",")[-1].strip())
            if t:
                targets.add(int(t.group(1), 16))
    return targets


def cost_table_rv(disassembly: str, core: RiscVTiming, wait_states: int = 0) -> dict[int, InsnCost]:
    """{address: cost} for a riscv objdump -d listing (no raw bytes). The load-use stall is charged when the
    next instruction in program order reads the loaded register and is not a branch target (there the
    instruction before it in program order is not always the one that ran before)."""
    insns = []
    for line in disassembly.splitlines():
        match = _LINE.match(line)
        if not match:
            if line.strip().endswith(">:"):
                insns.append(None)   # a new symbol: program order restarts
            continue
        if match.group(2).startswith("."):
            insns.append(None)
            continue
        insns.append(match)
    targets = _rv_targets(m for m in insns if m)
    table = {}
    for i, match in enumerate(insns):
        if match is None:
            continue
        nxt = insns[i + 1] if i + 1 < len(insns) else None
        next_reads = None
        if nxt is not None and int(nxt.group(1), 16) not in targets:
            next_reads = _rv_sources(_rv_mnemonic(nxt.group(2)), nxt.group(3))
        table[int(match.group(1), 16)] = classify_rv(core, match.group(2), match.group(3).split("#")[0],
                                                     next_reads, wait_states)
    return table


_OBJDUMP_HINT = {"cortex-m": "install binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
                 "riscv": "install binutils-riscv64-unknown-elf (comes with gcc-riscv64-unknown-elf)"}


def core_for(board) -> CoreTiming | RiscVTiming | None:
    """The timing model of a board's core, or None when there is none (AVR is exact; the lx106 has none)."""
    if board.arch == "cortex-m":
        return CORES.get(board.core)
    if board.arch == "riscv":
        return RV_CORES.get(board.core)
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
