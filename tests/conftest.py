import shutil

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from microlearn.data.datasets import load, split


def problem(name, n_max=None):
    """(X_train, X_test, y_train, y_test) of a benchmark problem, shuffled split with seed 0.
    Breast cancer is standardised (its raw features span 4 orders of magnitude)."""
    X, y = load(name)
    if name == "cancer":
        X = StandardScaler().fit_transform(X)
    if n_max is not None and len(X) > n_max:
        idx = np.random.default_rng(1).permutation(len(X))[:n_max]
        X, y = X[idx], y[idx]
    return split(X, y, 0.3, shuffle=True, seed=0)


def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def kv_line(out: str, tag: str) -> dict[str, int]:
    """The first line of a C test program's output that starts with `tag`, as {key: int} of its key=value
    words (the programs print their counts that way)."""
    rows = [ln for ln in out.splitlines() if ln.startswith(tag)]
    assert rows, f"no line starting with {tag!r}:\n{out[-2000:]}"
    return {k: int(v) for k, v in (tok.split("=") for tok in rows[0].split()[1:] if "=" in tok)}
