"""Targets: where generated C is compiled, run and measured (host, simavr boards, qemu boards).

Boards (microlearn.boards) are data; this package knows how each kind of board is built and run."""
from microlearn.boards.registry import Board, get_board

from ._toolchain import symbols
from .avr import AvrTarget
from .base import Build, RunResult, Target
from .cortexm import CortexMTarget
from .errors import BuildError, DoesNotFit, RunError, RunTimeout, SandboxUnavailable, TargetError, TargetUnavailable
from .host import HostTarget
from .riscv import RiscVTarget
from .serial_port import EmulatedPort, SerialRunResult, emulated_serial_port
from .xtensa import XtensaTarget

RUNNERS = {"avr": AvrTarget, "cortex-m": CortexMTarget, "riscv": RiscVTarget, "xtensa": XtensaTarget}


def target_for(board: Board, **kwargs) -> Target:
    """The Target that builds and runs code for this board (kwargs go to its constructor)."""
    runner = RUNNERS.get(board.arch) if board.emulator is not None else None
    if runner is None:
        raise TargetUnavailable(f"{board.name}: no toolchain or emulator for {board.core} here; "
                                "the planner can still size programs for it, but they cannot be run")
    return runner(board, **kwargs)


def get_target(name: str, **kwargs) -> Target:
    """'host' or a board name from `microlearn boards` (uno, nrf52840, ...)."""
    if name == "host":
        return HostTarget(**kwargs)
    return target_for(get_board(name), **kwargs)


__all__ = ["Build", "RunResult", "Target", "HostTarget", "AvrTarget", "CortexMTarget", "RiscVTarget", "XtensaTarget", "get_target",
           "target_for", "TargetError", "TargetUnavailable", "BuildError", "DoesNotFit", "RunError", "RunTimeout",
           "SandboxUnavailable", "symbols", "emulated_serial_port", "EmulatedPort", "SerialRunResult"]
