"""Data in and out: CSV files as the CLI reads them, and the benchmark problems of the seeds.

The built-in problems use the copies shipped inside scikit-learn (no download)."""
from __future__ import annotations

import contextlib
import csv
import math
import numbers
import os
import re
import stat
import sys
from array import array
from pathlib import Path

import numpy as np
from sklearn import datasets as skd

from microlearn.core import vocab


class DataError(ValueError):
    """A data file is malformed or over a limit; the message says what, then where: "what (file, line N)"."""


# ---- limits of the CSV inputs the CLI reads (docs: README, "Errors and limits") ---------------------------------
DEFAULT_MAX_CSV_MB = 64          # file size; MICROLEARN_MAX_CSV_MB overrides it
MAX_FIELD_CHARS = 4096           # one field (a number never needs more; a label or a column name should not)
MAX_LINE_BYTES = 4 << 20         # one line
MAX_FEATURES = vocab.MAX_FEATURES  # mlrn_store d is uint16
_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "vertical bar"}
_UTF8_BOM = b"\xef\xbb\xbf"


def max_csv_bytes() -> int:
    """The file size limit of CSV inputs: MICROLEARN_MAX_CSV_MB megabytes (default 64)."""
    text = os.environ.get("MICROLEARN_MAX_CSV_MB", "").strip()
    if not text:
        return DEFAULT_MAX_CSV_MB << 20
    try:
        mb = float(text)
    except ValueError:
        mb = math.nan
    if not (math.isfinite(mb) and mb > 0):
        raise DataError(f"MICROLEARN_MAX_CSV_MB must be a positive number of megabytes, got {text!r}")
    return int(mb * (1 << 20))


def _size(n: int) -> str:
    return f"{n / (1 << 20):.3g} MB" if n >= 1 << 20 else f"{n:,} bytes"


def _open_input(path):
    """A binary file object for `path` ('-': standard input) and its name for messages. Only regular files:
    a FIFO would block, a device (/dev/zero) never ends; they are refused before anything is read."""
    if str(path) == "-":
        if sys.stdin is None or not hasattr(sys.stdin, "buffer"):
            raise DataError("no standard input to read (<stdin>)")
        return sys.stdin.buffer, "<stdin>", None
    name = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)     # non-blocking: opening a FIFO with no writer returns at once
    except OSError as exc:
        raise DataError(f"cannot open ({exc.strerror}) ({name})") from None
    except ValueError as exc:         # e.g. a NUL character in the name
        raise DataError(f"cannot open ({exc}) ({name!r})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise DataError(f"is a directory, not a CSV file ({name})")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a character device" if stat.S_ISCHR(st.st_mode)
                    else "a block device" if stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                    else "a special file")
            raise DataError(f"not a regular file ({kind}): give a CSV file, or '-' to read standard input ({name})")
        limit = max_csv_bytes()
        if st.st_size > limit:
            raise DataError(f"the file is {_size(st.st_size)}, over the limit of {_size(limit)} for CSV inputs "
                            f"(set MICROLEARN_MAX_CSV_MB to raise it) ({name})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), name, st.st_size
    except BaseException:
        os.close(fd)
        raise


def _text_lines(fh, name: str, max_columns: int):
    """Decoded lines of a CSV input, checked on the way: the size limit (also for standard input and files
    that grow), UTF-8 with an optional BOM, no NUL bytes, the line length, the number of fields."""
    limit = max_csv_bytes()
    offset = 0
    lineno = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        lineno += 1
        if offset + len(raw) > limit:
            raise DataError(f"more than {_size(limit)}, the limit for CSV inputs (set MICROLEARN_MAX_CSV_MB to "
                            f"raise it) ({name}, line {lineno})")
        start = 0
        if lineno == 1:
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise DataError(f"not UTF-8 text (byte 0x{raw[0]:02x} at offset 0: a UTF-16 byte order mark); "
                                f"save it as UTF-8 ({name})")
            if raw.startswith(_UTF8_BOM):
                start = len(_UTF8_BOM)
        nul = raw.find(b"\0")
        if nul >= 0:
            pos = offset + nul
            even, odd = raw[0::2], raw[1::2]
            if any(a.count(0) > len(a) // 2 and b.count(0) < len(b) // 4 for a, b in ((even, odd), (odd, even))):
                raise DataError(f"not UTF-8 text (NUL byte at offset {pos}: UTF-16?); save it as UTF-8 ({name})")
            raise DataError(f"binary data, not CSV text (NUL byte at offset {pos}) ({name})")
        if len(raw) > MAX_LINE_BYTES:
            raise DataError(f"a line longer than {MAX_LINE_BYTES:,} bytes ({name}, line {lineno})")
        try:
            text = raw[start:].decode("utf-8")
        except UnicodeDecodeError as exc:
            pos = offset + start + exc.start
            raise DataError(f"not UTF-8 text (byte 0x{raw[start + exc.start]:02x} at offset {pos}); "
                            f"save it as UTF-8 ({name})") from None
        if text.count(",") >= max_columns:
            raise DataError(f"more than {max_columns:,} columns ({name}, line {lineno})")
        offset += len(raw)
        yield text


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _delimiter_hint(row) -> str:
    text = ",".join(row)
    for d, what in _DELIMITERS.items():
        if d in text:
            return f"{what}-separated"
    return ""


class _Table:
    """What read_table returns: features (float64, n x d), raw labels, feature names, the label column's
    name, each row's line number, whether the file had a header row."""

    def __init__(self, X, labels, names, label_name, lines, header):
        self.X, self.labels, self.names, self.label_name = X, labels, names, label_name
        self.lines, self.header = lines, header


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def read_table(path, label=None, *, max_rows=None, rows_limit="", max_features=MAX_FEATURES, max_classes=None,
                classes_limit="", label_check=None) -> _Table:
    """Stream a CSV: the optional header row, numeric features, one label column. Every limit is checked as
    the rows arrive, so reading stops at the first line past one. label_check(text) -> error text or None.

    The first row is data, not a header, when its feature cells all parse as numbers and so does its label
    cell, or its label occurs again as a label further down (a header's label column name does not)."""
    fh, name, _ = _open_input(path)
    where = lambda n: f"{name}, line {n}"   # noqa: E731
    with fh if fh is not sys.stdin.buffer else contextlib.nullcontext():
        reader = csv.reader(_text_lines(fh, name, max_features + 1))
        try:
            first = next(reader, None)
            while first is not None and all(not c.strip() for c in first):   # leading blank lines
                first = next(reader, None)
            if first is None:
                raise DataError(f"empty file: no header and no data rows ({name})")
            first_line = reader.line_num
            cells = [c.strip() for c in first]
            if len(cells) < 2:
                hint = _delimiter_hint(first)
                raise DataError((f"expected comma-separated values; the first line looks {hint}" if hint else
                                 "need at least one feature column and a label column, found 1 column")
                                + f" ({where(first_line)})")
            if len(cells) - 1 > max_features:
                raise DataError(f"{len(cells) - 1:,} feature columns, more than the {max_features:,} the device "
                                f"takes (uint16) ({where(first_line)})")
            if max(map(len, cells)) > MAX_FIELD_CHARS:
                raise DataError(f"a field longer than {MAX_FIELD_CHARS:,} characters ({where(first_line)})")
            numeric = [bool(c) and _is_number(c) for c in cells]
            fname = re.fullmatch(r"f(\d+)", label or "")
            if label is None:
                li = len(cells) - 1
            elif label in cells and not all(numeric):
                li = cells.index(label)
            elif fname and int(fname.group(1)) < len(cells):
                li = int(fname.group(1))
            else:
                raise DataError(f"no column named {label!r} (columns: {', '.join(cells)}"
                                + ("" if not all(numeric) else f"; the file has no header row, its first row is "
                                   f"numbers: columns are f0..f{len(cells) - 1}") + f") ({name})")
            # header: True, False (the first row is data) or None (numbers with a text label: decided at the end)
            if label is not None and label in cells and not all(numeric) or \
                    not all(v for i, v in enumerate(numeric) if i != li):
                header = True
            else:
                header = False if numeric[li] else None
            if header and label is not None and label not in cells:
                raise DataError(f"no column named {label!r} (columns: {', '.join(cells)}) ({name})")
            cols = cells if header else [f"f{i}" for i in range(len(cells))]
            d = len(cols) - 1
            values = array("d")
            labels, lines, classes = [], [], set()
            rows_cap = None if max_rows is None else max_rows + (1 if header is None else 0)

            def rows():
                if header is not True:
                    yield first_line, first
                for r in reader:
                    yield reader.line_num, r

            for lineno, row in rows():
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(cols):
                    hint = _delimiter_hint(row) if len(row) == 1 else ""
                    raise DataError(f"{len(row)} field{'s' if len(row) != 1 else ''}, the "
                                    f"{'header' if header else 'first row'} has {len(cols)}"
                                    + (f"; expected comma-separated values, this line looks {hint}" if hint else "")
                                    + f" ({where(lineno)})")
                if max(map(len, row)) > MAX_FIELD_CHARS:
                    raise DataError(f"a field longer than {MAX_FIELD_CHARS:,} characters ({where(lineno)})")
                if rows_cap is not None and len(labels) >= rows_cap:
                    raise DataError(f"more than {max_rows:,} data rows{rows_limit} ({where(lineno)})")
                try:
                    values.extend([float(c) for i, c in enumerate(row) if i != li])
                except ValueError:
                    for i, cell in enumerate(row):
                        cell = cell.strip()
                        if i == li:
                            continue
                        if cell == "":
                            raise DataError(f"missing value in column {cols[i]!r} ({where(lineno)})") from None
                        if not _is_number(cell):
                            raise DataError(f"non-numeric value {_short(cell)} in feature column {cols[i]!r} "
                                            f"({where(lineno)})") from None
                    raise
                lab = row[li].strip()
                if lab == "":
                    raise DataError(f"missing label in column {cols[li]!r} ({where(lineno)})")
                first_row = lineno == first_line
                if label_check is not None and not (first_row and header is None):
                    err = label_check(lab)
                    if err:
                        raise DataError(f"{err} ({where(lineno)})")
                if max_classes is not None and lab not in classes and not (first_row and header is None):
                    if len(classes) >= max_classes:
                        raise DataError(f"label {_short(lab)} makes {max_classes + 1} classes, more than "
                                        f"{max_classes}{classes_limit} ({where(lineno)})")
                    classes.add(lab)
                labels.append(lab)
                lines.append(lineno)
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise DataError(f"a field longer than {MAX_FIELD_CHARS:,} characters "
                                f"({where(reader.line_num)})") from None
            raise DataError(f"not valid CSV: {exc} ({where(reader.line_num)})") from None
    n_skip = 0
    if header is None:   # numbers with a text label: data if that label occurs again, else a header
        if labels[0] in labels[1:]:
            header = False
            if label_check is not None and label_check(labels[0]):
                raise DataError(f"{label_check(labels[0])} ({where(lines[0])})")
            if max_rows is not None and len(labels) > max_rows:
                raise DataError(f"more than {max_rows:,} data rows{rows_limit} ({where(lines[max_rows])})")
        else:
            header, n_skip = True, 1
            cols = cells
    if len(labels) <= n_skip:
        raise DataError(f"no data rows{' (only a header row)' if header else ''} ({name})")
    names = [c for i, c in enumerate(cols) if i != li]
    X = np.frombuffer(values, dtype=np.float64).reshape(len(labels), d)[n_skip:]
    labels, lines = labels[n_skip:], lines[n_skip:]
    with np.errstate(over="ignore"):
        bad = ~np.isfinite(X.astype(np.float32))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        v = X[r, c]
        what = "non-finite value" if not np.isfinite(v) else "a value too large for float32 (the device's format)"
        raise DataError(f"{what} {float(v)!r} in column {names[c]!r} ({where(lines[r])})")
    return _Table(X, labels, names, cols[li], lines, header)


def read_csv(path, label: str | None = None, *, max_rows: int | None = None, rows_limit: str = "",
             max_classes: int | None = None, classes_limit: str = ""):
    """Read a CSV: numeric features, the label in the last column (or the column `label`).

    A header row is optional: a first row that parses entirely as numbers is data, and the columns are then
    named f0..f{n-1} (so `label` can name one, e.g. 'f0'); otherwise the first row names the columns.
    Comma-separated, UTF-8 (an optional BOM is skipped); '-' reads standard input. Only regular files are read
    (a FIFO or a device is refused before reading), at most MICROLEARN_MAX_CSV_MB (default 64) megabytes,
    fields of at most 4,096 characters, at most 65,535 feature columns; max_rows / max_classes stop the
    reading at the first row past them (rows_limit / classes_limit: why, for the message).
    Feature values must be finite float32 numbers (the devices' number format).

    Returns (X float64 (n, d), y object array of labels (ints where every label is an int), feature names).
    Raises DataError: "what (file, line N)"."""
    t = read_table(path, label, max_rows=max_rows, rows_limit=rows_limit, max_classes=max_classes,
                    classes_limit=classes_limit)
    y = np.array(t.labels, dtype=object)
    try:
        y = np.array([int(v) for v in t.labels])
    except (ValueError, OverflowError):
        pass
    return t.X, y, t.names


def read_features(path, n_features: int | None = None) -> np.ndarray:
    """Feature rows without labels (`export --check` / `--calib`): comma-separated numbers, an optional
    header row (a first row that does not parse as numbers), the same limits as read_csv. Every row must
    have n_features values (when given). Returns float32 (n, d). Raises DataError "what (file, line N)"."""
    fh, name, _ = _open_input(path)
    rows, width = [], n_features
    with fh if fh is not sys.stdin.buffer else contextlib.nullcontext():
        reader = csv.reader(_text_lines(fh, name, (n_features or MAX_FEATURES) + 1))
        try:
            for row in reader:
                cells = [c.strip() for c in row]
                if not cells or all(not c for c in cells):
                    continue
                if not rows and reader.line_num == 1 and not all(_is_number(c) for c in cells):
                    continue                                         # a header row
                if width is None:
                    width = len(cells)
                if len(cells) != width:
                    hint = _delimiter_hint(row) if len(cells) == 1 else ""
                    raise DataError(f"{len(cells)} values, the model takes {width}"
                                    + (f"; the line looks {hint}" if hint else "") + f" ({name}, line {reader.line_num})")
                try:
                    vals = [float(c) for c in cells]
                except ValueError:
                    bad = next(c for c in cells if not _is_number(c))
                    raise DataError(f"non-numeric value {_short(bad)!r} ({name}, line {reader.line_num})") from None
                v32 = np.asarray(vals, dtype=np.float64)
                if not np.all(np.isfinite(v32)) or np.any(np.abs(v32) > np.finfo(np.float32).max):
                    raise DataError(f"a non-finite value or one too large for float32 ({name}, line {reader.line_num})")
                rows.append(vals)
        except csv.Error as exc:
            raise DataError(f"malformed CSV ({exc}) ({name}, line {reader.line_num})") from None
    if not rows:
        raise DataError(f"no data rows ({name})")
    return np.asarray(rows, dtype=np.float32)


def write_csv(path, X, y, names=None, label="label"):
    X = np.asarray(X)
    names = names or [f"f{i}" for i in range(X.shape[1])]
    with Path(path).open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*names, label])
        for row, lab in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [lab])


def load(name: str):
    """Benchmark problems by name -> (X float64, y). Binary problems as in Edge2Train / the blog:
    iris (setosa vs rest), iris-vv (versicolor vs virginica), iris3, cancer, digits6 (6 vs rest), digits, wine."""
    if name.startswith("iris"):
        X, y = skd.load_iris(return_X_y=True)
        if name == "iris":
            return X, (y == 0).astype(int)
        if name == "iris-vv":
            return X[y > 0], y[y > 0]
        return X, y
    if name == "cancer":
        return skd.load_breast_cancer(return_X_y=True)
    if name == "digits6":
        X, y = skd.load_digits(return_X_y=True)
        return X, (y == 6).astype(int)
    if name == "digits":
        return skd.load_digits(return_X_y=True)
    if name == "wine":
        return skd.load_wine(return_X_y=True)
    raise ValueError(f"unknown dataset {name!r}; choose iris, iris-vv, iris3, cancer, digits6, digits, wine")


def split(X, y, test_size=0.3, shuffle=True, seed=0):
    """Train/test split: shuffled with a seed, or the first (1 - test_size) rows for training
    (the Edge2Train protocol)."""
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a number in (0, 1), got {test_size!r}")
    if shuffle and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    n = len(X)
    n_test = int(round(n * test_size))
    if not 0 < n_test < n:
        raise ValueError(f"test_size {test_size} leaves no training or no test rows out of {n}")
    idx = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    tr, te = idx[: n - n_test], idx[n - n_test:]
    return X[tr], X[te], y[tr], y[te]
