"""Targets: where generated C is compiled, run and measured (host, simavr boards, qemu boards)."""
from .base import Build, RunResult, Target
from .errors import BuildError, DoesNotFit, RunError, RunTimeout, SandboxUnavailable, TargetError, TargetUnavailable
from .host import HostTarget


def get_target(name: str, **kwargs) -> Target:
    """'host' or a board name from `microlearn boards` (uno, nrf52840, ...)."""
    if name == "host":
        return HostTarget(**kwargs)
    from microlearn.boards.registry import get_board  # boards know how they are emulated
    return get_board(name).target(**kwargs)


__all__ = ["Build", "RunResult", "Target", "HostTarget", "get_target", "TargetError", "TargetUnavailable",
           "BuildError", "DoesNotFit", "RunError", "RunTimeout", "SandboxUnavailable"]
