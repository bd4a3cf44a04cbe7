"""`microlearn flash DIR --board B [--port PORT] [--print-only] [--variant V]`: put a sketch on the board
(deploy/flash.py). Builds first when DIR has no build for the board, or its build is older than the sketch.
AVR boards are flashed with avrdude; for the Cortex-M boards the vendor's command is printed, not run (the
exit status is then non-zero unless --print-only)."""
from __future__ import annotations

from pathlib import Path

from microlearn.core.progress import spinner
from microlearn.deploy.build import (build_sketch, default_out_dir, is_stale, load_build, resolve_board,
                                    validate_sketch)
from microlearn.deploy.flash import VARIANTS, flash

from .build_cmd import add_build_arguments


def register(sub):
    p = sub.add_parser("flash", help="flash a sketch onto a board (avrdude for AVR; prints the command for others)",
                       description="Flash the sketch folder DIR onto the board on PORT, building it first if DIR "
                                   "has no up-to-date build for the board. AVR boards (uno, nano, mega2560) are "
                                   "flashed with avrdude; for nrf52840, samd21, rp2040 and bluepill the vendor's "
                                   "command is printed and not run (exit status 2 unless --print-only).")
    add_build_arguments(p)
    p.add_argument("--port", metavar="PORT", default=None,
                   help="the board's serial port, e.g. /dev/ttyACM0 (not needed for rp2040 and bluepill)")
    p.add_argument("--print-only", action="store_true", help="print the command(s), do not run anything")
    variants = "; ".join(f"{b}: {', '.join(v.name for v in vs)}" for b, vs in VARIANTS.items() if len(vs) > 1)
    p.add_argument("--variant", metavar="V", default=None,
                   help=f"which bootloader or tool (the first is the default): {variants}")
    p.set_defaults(func=run)


def run(args) -> int:
    board, _ = resolve_board(args.board)
    out = Path(args.out) if args.out is not None else default_out_dir(Path(args.sketch_dir), board)
    sketch, name = validate_sketch(args.sketch_dir, (out,))      # the same refusals as `microlearn build`
    if args.out is None:
        out = default_out_dir(sketch, board)
    build = load_build(out, board, name)
    if build is None or is_stale(build, sketch, out):
        with spinner(f"building {args.sketch_dir} for {board}") as spin:
            def log(msg):
                with spin.paused():
                    print(msg)
            build = build_sketch(sketch, board, out_dir=args.out, library_dir=args.library, log=log)
        print(f"built {build.sketch} for {board}: flash {build.flash_bytes} of {build.flash_budget} bytes, "
              f"static SRAM {build.static_ram_bytes} of {build.sram_budget}")
    return flash(board, build, args.port, variant_name=args.variant, print_only=args.print_only)
