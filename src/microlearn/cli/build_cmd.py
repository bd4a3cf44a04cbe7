"""`microlearn build DIR --board B [--out DIR] [--library DIR] [--json]`: build a sketch folder for a board
(deploy/build.py) and say where the artifacts are and how much of the board's flash and SRAM they use."""
from __future__ import annotations

import json
import sys

from microlearn.core.progress import spinner
from microlearn.deploy.build import BUILD_BOARDS, SketchBuild, build_sketch


def register(sub):
    p = sub.add_parser("build", help="build a sketch folder for a board (arduino-mk for AVR boards)",
                       description="Build the Arduino sketch folder DIR (DIR/DIR.ino and its local files) for a "
                                   "board with the microlearn Arduino library, and copy the .elf and .hex (and "
                                   ".bin for Cortex-M boards) to DIR/build-<board>/. The sketch folder itself is "
                                   "never built in. See docs/arduino.md, 'Build and flash from the command line'.")
    add_build_arguments(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON (messages go to stderr)")
    p.set_defaults(func=run)


def add_build_arguments(p) -> None:
    """DIR, --board, --out, --library: shared with `microlearn flash`, which builds first when needed."""
    p.add_argument("sketch_dir", metavar="DIR", help="the sketch folder (holding DIR.ino)")
    p.add_argument("--board", required=True, metavar="B", help=f"the board: {', '.join(BUILD_BOARDS)}")
    p.add_argument("--out", metavar="DIR", default=None, help="where the artifacts go (default: DIR/build-<board>/)")
    p.add_argument("--library", metavar="DIR", default=None,
                   help="a microlearn Arduino library folder to build with (default: this version's, written "
                        "once into microlearn's cache folder)")


def summary_lines(b: SketchBuild) -> list[str]:
    lines = [f"built {b.sketch} for {b.board} in {b.seconds:.1f} s"]
    lines += [f"  {kind:<5} {path}" for kind, path in b.artifacts().items()]
    lines.append(f"  flash {b.flash_bytes} of {b.flash_budget} bytes ({100 * b.flash_bytes / b.flash_budget:.1f}%)")
    lines.append(f"  SRAM  {b.static_ram_bytes} of {b.sram_budget} bytes static "
                 f"({100 * b.static_ram_bytes / b.sram_budget:.1f}%; .data + .bss, the stack comes on top)")
    return lines


def run(args) -> int:
    with spinner(f"building {args.sketch_dir} for {args.board}") as spin:   # a terminal only; minutes at first
        def log(msg):
            with spin.paused():
                print(msg, file=sys.stderr if args.json else sys.stdout)
        b = build_sketch(args.sketch_dir, args.board, out_dir=args.out, library_dir=args.library, log=log)
    if args.json:
        print(json.dumps(b.to_json(), indent=2))
    else:
        print("\n".join(summary_lines(b)))
    return 0
