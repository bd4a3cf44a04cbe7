"""`microlearn` command line. Each sub-command lives in its own module of this package,
defining `register(subparsers)` (adds its parser, sets `func`) so commands stay independent.

One error path for every command: a failure is one line on stderr,
`microlearn <cmd>: error: <what> (<where>)`, exit status 2 (1 for a check that ran and failed, e.g. an
agreement below 100%; 130 on Ctrl-C). No traceback unless the global --debug flag is given, which re-raises.
Text that comes from compilers and emulators is stripped of escape sequences and control characters.
Long commands show their progress on stderr when it is a terminal (core/progress.py), never with --json;
MICROLEARN_PROGRESS=1/0 forces it on/off."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from microlearn._version import __version__
from microlearn.core import progress
from microlearn.targets.errors import TargetError

from . import CheckFailed, CLIError, clean  # defined in the package so `python -m` sees one class

# Modules microlearn.cli.<name>_cmd, in the order shown in --help (a module may name its command otherwise:
# arduino_cmd adds `arduino-library`). A module that is absent (not built yet) is simply not offered.
COMMANDS = ["demo", "train", "plan", "boards", "bench", "sweep", "fleet", "export", "loop", "calibrate", "arduino",
            "sketch", "build", "flash", "serial"]
DEBUG_FLAG = "--debug"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`microlearn train: error: ... (see --help)`), exit 2."""

    def error(self, message):
        print(f"{self.prog}: error: {clean(message)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="microlearn", description="Train, infer and keep learning on microcontrollers.",
                    epilog="Errors are one line on stderr, exit status 2 (1: a check failed, e.g. agreement "
                           "below 100%); --debug shows the traceback. CSV inputs: see README, 'Errors and "
                           "limits'.")
    parser.add_argument("--version", action="version", version=f"microlearn {__version__}")
    parser.add_argument(DEBUG_FLAG, action="store_true",
                        help="show the traceback of an error instead of one line (accepted anywhere)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    parser.commands, parser.command_parsers = [], sub.choices
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"microlearn.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name == f"microlearn.cli.{name}_cmd":
                continue
            raise
        before = set(sub.choices)
        mod.register(sub)
        parser.commands += [c for c in sub.choices if c not in before]   # arduino_cmd adds arduino-library
    return parser


def _split_debug(argv):
    """--debug anywhere before a `--` separator switches on tracebacks; the rest goes to argparse."""
    argv = list(sys.argv[1:] if argv is None else argv)
    end = argv.index("--") if "--" in argv else len(argv)
    debug = DEBUG_FLAG in argv[:end]
    return debug, [a for i, a in enumerate(argv) if not (i < end and a == DEBUG_FLAG)]


def error_line(command: str | None, exc: BaseException) -> str:
    """The one line printed for `exc`: expected errors as they are, bugs as such."""
    prefix = f"microlearn {command}" if command else "microlearn"
    if isinstance(exc, (CLIError, TargetError, ValueError, FloatingPointError)):   # FloatingPointError: the
        text = str(exc)                          # reference's float32 overflow (_solvers.train), says what to do
    elif isinstance(exc, MemoryError):
        text = "out of memory (the data or the configuration is too large for this machine)"
    elif isinstance(exc, OSError):
        text = (f"{exc.strerror} ({exc.filename})" if exc.strerror and exc.filename
                else exc.strerror or str(exc) or type(exc).__name__)
    else:
        text = (f"internal error: {type(exc).__name__}: {exc}" if str(exc) else
                f"internal error: {type(exc).__name__}") + " (run with --debug for the traceback)"
    return f"{prefix}: error: {clean(text) or type(exc).__name__}"


def _quiet_stdout():
    """After a broken pipe (`microlearn boards | head -1`): no second error when Python flushes stdout."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _warning_line(command):
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"microlearn {command}: warning: {clean(message)}", file=sys.stderr)
    return show


def main(argv=None) -> int:
    debug, argv = _split_debug(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:   # reported by the command's own parser: `microlearn boards: error: unrecognized arguments`
        sub = parser.command_parsers.get(getattr(args, "command", None), parser)
        sub.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        print(f"microlearn: error: a command is required (choose from {', '.join(parser.commands)})",
              file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            if not debug:   # a warning is one line too, without the source line it came from
                warnings.showwarning = _warning_line(args.command)
            with progress.muted(getattr(args, "json", False)):   # --json: stderr stays free of bars too
                rc = args.func(args)
        return int(rc or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"microlearn {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        if debug:
            raise
        _quiet_stdout()
        return 2
    except CheckFailed as exc:
        if debug:
            raise
        print(error_line(args.command, exc), file=sys.stderr)
        return 1
    except Exception as exc:   # expected errors and bugs alike: one line (MemoryError included)
        if debug:
            raise
        print(error_line(args.command, exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
