"""Where the package keeps its files (the C runtime) and its caches."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def include_dir() -> str:
    """Folder holding the header-only C runtime (mlrn*.h), like numpy.get_include()."""
    return str(PACKAGE_DIR / "include")


def cache_dir() -> Path:
    """The one folder of every cache (host-built helpers, the planner's re-measured figures):
    $MICROLEARN_CACHE if set, else $XDG_CACHE_HOME/microlearn, else ~/.cache/microlearn. Read from the
    environment at each call (tests point it elsewhere); not created here: writers create it."""
    own = os.environ.get("MICROLEARN_CACHE")
    if own:
        return Path(own)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "microlearn"
