"""Where the package keeps its files (the C runtime) and its caches."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def include_dir() -> str:
    """Folder holding the header-only C runtime (mlrn*.h), like numpy.get_include()."""
    return str(PACKAGE_DIR / "include")
