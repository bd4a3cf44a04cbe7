"""A spec's own datasets: `[datasets.NAME]` tables naming a CSV file (read on the client with the CLI's
defensive reader: data.datasets.read_csv) that the grid then uses like a bundled dataset (`dataset = NAME`
for kind train) or as a stream (`scenario = NAME` for kinds loop and reference: the rows in file order).

Only the client reads the file: the rows travel to the workers with the tasks (scattered once per sweep), so
workers need no shared file system. A task's key holds the sha256 of the rows, not the path: an edited file
runs again, a moved one does not."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microlearn.data.datasets import DataError, read_csv

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")
KEYS = {"csv", "label"}
MAX_DATASETS = 20
MAX_ROWS = 100_000          # rows of one spec dataset (the trainer's limit per training is the planner's)
MAX_TEXT = 200


@dataclass(frozen=True, eq=False)
class UserData:
    name: str
    path: str                # as written in the spec (for messages and the summary)
    X: np.ndarray            # float64 (n, d), finite float32 values (read_csv checks)
    y: np.ndarray            # labels as read: ints, or strings
    sha256: str

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def class_indices(self) -> np.ndarray:
        """The labels as class indices 0..k-1 in sorted label order (what the learner's streams carry)."""
        return np.unique(self.y, return_inverse=True)[1].astype(np.int64)


def digest(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the rows: the float64 values (little-endian, with the shape) and the labels' text."""
    h = hashlib.sha256()
    X = np.ascontiguousarray(X, dtype="<f8")
    h.update(json.dumps(list(X.shape)).encode())
    h.update(X.tobytes())
    h.update(json.dumps([str(v) for v in y.tolist()]).encode())
    return h.hexdigest()


def verify(data: UserData, expected: str) -> None:
    """The worker's check that the rows it received are the ones the task was keyed with."""
    if digest(data.X, data.y) != expected:
        raise ValueError(f"dataset {data.name}: the rows received differ from the spec's (sha256 mismatch)")


def read_datasets(table, base: Path, reserved, fail) -> dict[str, UserData]:
    """The `[datasets]` section -> {name: UserData}. fail(where, what) raises the spec's error."""
    if not isinstance(table, dict):
        fail("[datasets]", "a table of [datasets.NAME] tables (csv = \"file.csv\", label = \"column\")")
    if len(table) > MAX_DATASETS:
        fail("[datasets]", f"{len(table)} datasets, more than {MAX_DATASETS}")
    out = {}
    for name, entry in table.items():
        where = f"[datasets.{name}]" if NAME.match(name) else "[datasets]"
        if not NAME.match(name):
            fail(where, f"dataset name {name[:60]!r}: a letter, then letters, digits, '_', '.', '-' "
                        "(at most 40 characters)")
        if name in reserved:
            fail(where, f"{name!r} is a bundled dataset or stream; give yours another name")
        if not isinstance(entry, dict):
            fail(where, "a table with csv = \"file.csv\" (and optionally label = \"column\")")
        bad = sorted(set(entry) - KEYS)
        if bad:
            fail(where, f"unknown key(s) {', '.join(map(repr, bad[:5]))}; known: csv, label")
        path, label = entry.get("csv"), entry.get("label")
        if not isinstance(path, str) or not path.strip() or len(path) > MAX_TEXT:
            fail(where, f"csv must be the path of a CSV file (at most {MAX_TEXT} characters), relative to the "
                        "spec's folder")
        if label is not None and (not isinstance(label, str) or not label or len(label) > MAX_TEXT):
            fail(where, "label must be a column name")
        file = Path(path) if Path(path).is_absolute() else base / path
        try:
            X, y, _ = read_csv(file, label, max_rows=MAX_ROWS,
                               rows_limit=f": a spec dataset has at most {MAX_ROWS:,} rows")
        except DataError as exc:
            fail(where, f"csv: {exc}")
        if len(np.unique(y)) < 2:
            fail(where, f"csv: {path}: fewer than 2 classes in the label column")
        out[name] = UserData(name, path, X, y, digest(X, y))
    return out
