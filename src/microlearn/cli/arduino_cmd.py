"""`microlearn arduino-library OUT_DIR [--zip] [--install] [--libraries DIR]`: the Arduino library (docs/arduino.md)."""
from __future__ import annotations

from microlearn._version import __version__
from microlearn.deploy.arduino_library import (EXAMPLES, NAME, build_library, default_libraries_dir, install,
                                               write_zip, zip_path_for)

from . import CLIError


def register(sub):
    p = sub.add_parser("arduino-library", help="write the microlearn Arduino library (Library Manager format)",
                       description="Write the microlearn Arduino library (library specification 1.5, rev. 2.2; "
                                   "also a PlatformIO library) into OUT_DIR: the C runtime headers, microlearn.h, "
                                   f"keywords.txt and the examples {', '.join(EXAMPLES)}. OUT_DIR must be new, "
                                   "empty or an earlier microlearn library (which is replaced).")
    p.add_argument("out_dir", metavar="OUT_DIR", help=f"the library folder to write (name it {NAME})")
    p.add_argument("--zip", action="store_true",
                   help=f"also write {NAME}-{__version__}.zip next to OUT_DIR (for the IDE's 'Add .ZIP Library' "
                        "and arduino-cli lib install --zip-path)")
    p.add_argument("--install", action="store_true",
                   help="also copy the library into your Arduino libraries folder: $ARDUINO_LIBRARIES if set, else "
                        "~/Arduino/libraries (Linux), ~/Documents/Arduino/libraries (macOS, Windows)")
    p.add_argument("--libraries", metavar="DIR", default=None,
                   help=f"with --install: this libraries folder instead (default now: {default_libraries_dir()})")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.libraries is not None and not args.install:
        raise CLIError("--libraries is the folder --install copies to: give --install too")
    lib = build_library(args.out_dir)
    n = sum(1 for f in lib.rglob("*") if f.is_file())
    print(f"wrote the microlearn {__version__} Arduino library to {lib} ({n} files)")
    if args.zip:
        z = write_zip(lib, zip_path_for(lib))
        print(f"wrote {z}")
    if args.install:
        install(lib, libraries_dir=args.libraries)
    return 0
