"""Finished results, one small JSON file per task key under the sweep's out dir (`cache/<key>.json`),
each written atomically (a temporary file in the same folder, then os.replace), so an interrupted sweep
leaves only whole files and resumes from them. A file that does not parse or belongs to another key is
ignored (the task runs again)."""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

KEY = re.compile(r"^[0-9a-f]{8,64}$")
MAX_ENTRY_BYTES = 4 << 20     # a result record is a few KB; a larger file is not one of ours


class Cache:
    def __init__(self, folder):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        if not KEY.match(key):        # keys are hex digests: nothing else becomes a path
            raise ValueError(f"not a task key: {key!r}")
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict | None:
        p = self.path(key)
        try:
            if not p.is_file() or p.stat().st_size > MAX_ENTRY_BYTES:
                return None
            entry = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("result"), dict):
            return None
        return entry["result"]

    def put(self, key: str, task: dict, result: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"key": key, "task": task, "result": result}, sort_keys=True, default=_plain)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(key))
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def keys(self) -> set[str]:
        try:
            return {p.stem for p in self.folder.glob("*.json") if KEY.match(p.stem)}
        except OSError:
            return set()


def _plain(v):
    """numpy scalars and the like as plain JSON values."""
    if hasattr(v, "item"):
        return v.item()
    if hasattr(v, "tolist"):
        return v.tolist()
    return str(v)
