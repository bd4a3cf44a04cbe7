import importlib.util
import shutil
import sys
from pathlib import Path

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


def tools_missing(board: str) -> list[str]:
    """The tools a board's build and emulator need that are not installed."""
    from microlearn.boards import get_board
    return [t for t, ok in get_board(board).tools_installed().items() if not ok]


def checked_target(name, **kw):
    """get_target(name, **kw), skipping the test (with why) when its tools are missing."""
    from microlearn.targets import get_target
    from microlearn.targets.errors import TargetUnavailable
    t = get_target(name, **kw)
    try:
        t.check()
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    return t


def board_param(board: str, slow: bool = False):
    """A board as a test parameter: marked avr or cortexm (`-m avr` selects a toolchain's tests), skipped
    with the missing tools named when they are not installed, and marked slow on request."""
    from microlearn.boards import get_board
    marks = [{"avr": pytest.mark.avr, "riscv": pytest.mark.riscv, "xtensa": pytest.mark.xtensa}.get(get_board(board).arch, pytest.mark.cortexm)]
    missing = tools_missing(board)
    marks.append(pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}"))
    if slow:
        marks.append(pytest.mark.slow)
    return pytest.param(board, marks=marks, id=board)


ROOT = Path(__file__).resolve().parents[1]


def load_module(path, name: str | None = None):
    """A script that is not a package module (a benchmark, an example) imported from its file, registered in
    sys.modules under `name` (its stem by default) so that its dataclasses and pickling work."""
    path = Path(path)
    name = name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_benchmark(stem: str):
    """benchmarks/<stem>.py as a module."""
    return load_module(ROOT / "benchmarks" / f"{stem}.py")


def check_agreement(rep):
    """A train_and_report run agrees with the Python reference bit for bit: converged, the same predictions,
    iterations, alphas and intercepts, and for the linear kernel the same w."""
    est = rep["_estimator"]
    assert rep["status"] == "converged"
    assert rep["agreement"] == 1.0 and rep["max_alpha_diff"] == 0.0
    assert rep["iterations"] == rep["python_iterations"]
    assert rep["intercept_identical"]
    if est.kernel == "linear":
        assert np.array_equal(rep["_run"].w.view(np.uint32), est.coef_.ravel().view(np.uint32))
