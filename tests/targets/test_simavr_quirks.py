"""simavr 1.6 mis-executes a skip over adiw/sbiw with a constant whose low four bits are 12..15 (it skips two
words). The AVR target refuses such a program instead of reporting its false results, and microlearn's own
builds (trainer, learner, exported models) do not contain the sequence."""
import tempfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

import microlearn
from conftest import board_param
from microlearn.learner.config import LearnerConfig
from microlearn.learner.runner import build_learner
from microlearn.targets import get_target
from microlearn.targets.errors import RunError
from microlearn.targets.simavr_quirks import misexecuted_skips
from microlearn.trainer.config import make_config
from microlearn.trainer.runner import train_on_target

C_DIR = Path(__file__).resolve().parent / "c"
VALUES = (-33, -16, -1, 0, 17, 100)


@pytest.mark.parametrize("board", [board_param("uno")])
def test_a_signed_division_by_16_is_refused_not_misreported(board, tmp_path):
    t = get_target(board)
    build = t.build([C_DIR / "signed_div16.c"], tmp_path / "signed")
    assert misexecuted_skips(build.path)
    with pytest.raises(RunError, match="simavr would run this program wrongly"):
        t.run(build)
    # The same numbers divided without the sequence run, and give what C computes.
    ok = t.build([C_DIR / "signed_div16.c"], tmp_path / "unsigned", defines={"UNSIGNED_DIV": 1})
    assert not misexecuted_skips(ok.path)
    want = " ".join(f"{v}/{(v + 48) // 16 - 3}" for v in VALUES)
    assert t.run(ok).output.strip() == want


@pytest.mark.parametrize("board", [board_param("uno")])
def test_microlearn_builds_hold_no_misexecuted_skip(board):
    """The trainer for every kernel and storage, the learner, and exported models of four kinds: built for the
    uno, scanned (a run would refuse them anyway; this says which build would)."""
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    t = get_target(board)
    elves = {}
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        for kernel in ("linear", "rbf", "poly", "sigmoid"):
            for storage in ("float32", "int8"):
                kw = dict(feature_range=(0, 8)) if storage != "float32" else {}
                cfg = make_config(n_features=4, capacity=30, classes=3, kernel=kernel, storage=storage, **kw)
                d = wd / f"t-{kernel}-{storage}"
                train_on_target(cfg, t, X[:30], y[:30], X[30:40], y[30:40], workdir=d)
                elves[d.name] = d / "build" / "program.elf"
        d = wd / "learner"
        build_learner(LearnerConfig(n_features=4, n_classes=3, capacity=24), t, d)
        elves[d.name] = d / "build" / "program.elf"
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import GaussianNB
        from sklearn.svm import SVC
        from sklearn.tree import DecisionTreeClassifier
        for est in (SVC().fit(X, y), LogisticRegression(max_iter=2000).fit(X, y),
                    DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y), GaussianNB().fit(X, y)):
            for dtype in ("float32", "int8"):
                d = wd / f"m-{type(est).__name__}-{dtype}"
                microlearn.compile(est, target=board, dtype=dtype, workdir=d, calib_X=X)
                elves[d.name] = next(d.rglob("*.elf"))
        found = {name: misexecuted_skips(elf) for name, elf in elves.items()}
    assert len(found) == 17          # 8 trainers, the learner, 8 models
    assert not any(found.values()), found
