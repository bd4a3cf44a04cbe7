"""`microlearn calibrate`: re-measure the planner's per-board constants (boards/calibration.json).

The planner never builds anything: when the runtime, a driver or the targets' support code changes,
`microlearn plan` says the calibration is stale and names this command, which builds and runs the
reference programs on every emulated board (minutes; needs the toolchains)."""
from __future__ import annotations

from microlearn.deploy import sketch_calibrate
from microlearn.tools import calibrate


def register(subparsers) -> None:
    p = subparsers.add_parser("calibrate", help="re-measure the memory planner's constants on the emulated boards",
                              description="Build and run the trainer's and the learner's reference programs on "
                                          "every emulated board (or --boards) and write the planner's constants. "
                                          "Takes minutes and needs the boards' toolchains.")
    calibrate.add_arguments(p)
    p.add_argument("--sketches", action="store_true",
                   help="only the generated sketches' fixed part (deploy/sketch_calibration.json): builds and "
                        "runs the reference sketches on uno, mega2560, nrf52840, samd21 (a few minutes)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.sketches:
        boards = args.boards.split(",") if args.boards else sketch_calibrate.BOARDS
        print(f"wrote {sketch_calibrate.write(sketch_calibrate.calibrate(boards))}")
        return 0
    return calibrate.run(args)
