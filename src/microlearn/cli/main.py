"""`microlearn` command line. Each sub-command lives in its own module of this package,
defining `register(subparsers)` (adds its parser, sets `func`) so commands stay independent."""
from __future__ import annotations

import argparse
import importlib
import sys

from .._version import __version__
from . import CLIError  # defined in the package so `python -m` sees one class

# Order shown in --help. A module that is absent (not built yet) is simply not offered.
COMMANDS = ["demo", "train", "plan", "boards", "bench", "export", "loop"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microlearn", description="Train, infer and keep learning on microcontrollers.")
    parser.add_argument("--version", action="version", version=f"microlearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"microlearn.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name == f"microlearn.cli.{name}_cmd":
                continue
            raise
        mod.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:  # one readable line, no traceback
        print(f"microlearn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # target/data errors that a command did not wrap: still one line
        from ..targets.errors import TargetError
        if isinstance(exc, (TargetError, ValueError, OSError)):
            print(f"microlearn {args.command}: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
