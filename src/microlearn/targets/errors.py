"""Errors raised by targets; each carries one readable line for the CLI."""


class TargetError(Exception):
    """Base class: something went wrong building or running on a target."""


class TargetUnavailable(TargetError):
    """A toolchain or emulator this target needs is not installed."""


class SandboxUnavailable(TargetUnavailable):
    """Untrusted code cannot be confined on this system (see targets/sandbox.py and MICROLEARN_SANDBOX)."""


class BuildError(TargetError):
    """The C did not compile or link. `log` holds the compiler output."""

    def __init__(self, message, log=""):
        super().__init__(message)
        self.log = log


class DoesNotFit(BuildError):
    """The program does not fit the board's flash or SRAM. `over` = bytes over, `region` = 'flash'|'sram'."""

    def __init__(self, message, region, over, log=""):
        super().__init__(message, log)
        self.region = region
        self.over = over


class RunError(TargetError):
    """The program crashed or exited non-zero. `output` holds what it printed."""

    def __init__(self, message, output=""):
        super().__init__(message)
        self.output = output


class RunTimeout(RunError):
    """The program (or emulator) did not finish within the bound and was killed."""
