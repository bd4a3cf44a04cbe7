"""Data in and out: CSV files as the CLI reads them, and the benchmark problems of the seeds.

The built-in problems use the copies shipped inside scikit-learn (no download)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A data file is malformed; the message says what and where (file:line, column)."""


def read_csv(path, label: str | None = None):
    """Read a CSV with a header row: numeric features, the label in the last column (or `label`).

    Returns (X float64 (n, d), y object array of labels (ints where every label is an int), feature names)."""
    path = Path(path)
    try:
        fh = path.open(newline="")
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror})") from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{path}: empty file (a header row is required)") from None
        header = [h.strip() for h in header]
        if label is None:
            li = len(header) - 1
        elif label in header:
            li = header.index(label)
        else:
            raise DataError(f"{path}: no column named {label!r} (columns: {', '.join(header)})")
        if len(header) < 2:
            raise DataError(f"{path}: need at least one feature column and a label column")
        names = [h for i, h in enumerate(header) if i != li]
        rows, labels = [], []
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise DataError(f"{path}, line {lineno}: {len(row)} fields, the header has {len(header)}")
            feats = []
            for i, cell in enumerate(row):
                if i == li:
                    continue
                cell = cell.strip()
                if cell == "":
                    raise DataError(f"{path}, line {lineno}: missing value in column {header[i]!r}")
                try:
                    v = float(cell)
                except ValueError:
                    raise DataError(f"{path}, line {lineno}: non-numeric value {cell!r} in feature column "
                                    f"{header[i]!r}") from None
                if not np.isfinite(v):
                    raise DataError(f"{path}, line {lineno}: non-finite value {cell!r} in column {header[i]!r}")
                feats.append(v)
            lab = row[li].strip()
            if lab == "":
                raise DataError(f"{path}, line {lineno}: missing label in column {header[li]!r}")
            rows.append(feats)
            labels.append(lab)
    if not rows:
        raise DataError(f"{path}: no data rows")
    y = np.array(labels, dtype=object)
    try:
        as_int = np.array([int(v) for v in labels])
        y = as_int
    except ValueError:
        pass
    return np.array(rows, dtype=np.float64), y, names


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
    from sklearn import datasets as skd
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
    n = len(X)
    n_test = int(round(n * test_size))
    if not 0 < n_test < n:
        raise ValueError(f"test_size {test_size} leaves no training or no test rows out of {n}")
    idx = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    tr, te = idx[: n - n_test], idx[n - n_test:]
    return X[tr], X[te], y[tr], y[te]
