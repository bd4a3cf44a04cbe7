"""`microlearn calibrate`: re-measure the planner's per-board constants (boards/calibration.json).

The planner never builds anything: when the runtime, a driver or the targets' support code changes,
`microlearn plan` says the calibration is stale and names this command, which builds and runs the
reference programs on every emulated board (minutes; needs the toolchains)."""
from __future__ import annotations

from microlearn.tools import calibrate


def register(subparsers) -> None:
    p = subparsers.add_parser("calibrate", help="re-measure the memory planner's constants on the emulated boards",
                              description="Build and run the trainer's and the learner's reference programs on "
                                          "every emulated board (or --boards) and write the planner's constants. "
                                          "Takes minutes and needs the boards' toolchains.")
    calibrate.add_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    return calibrate.run(args)
