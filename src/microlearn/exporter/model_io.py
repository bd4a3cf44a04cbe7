"""Model files, loaded as untrusted input.

A pickle (and so a joblib file) is a program: loading one runs whatever its author put in it. microlearn
therefore reads the skops format by default (a zip of JSON that the loader turns into objects only of
types it is told to trust) and trusts only the types the exporter can use; pickle and joblib are read
only when the caller says the file is trusted (`trusted=True`, `microlearn export --trust-pickle`).
"""
from __future__ import annotations

import os
import pickle
import stat
import zipfile
from pathlib import Path

import joblib
import skops.io as sio

# The largest model file read (bytes): a real exported model is far smaller; this bounds memory and time.
MAX_MODEL_BYTES = 256 * 1024 * 1024

# Types skops does not trust by default that a microlearn export needs (skops already trusts scikit-learn
# estimators, transformers and numpy arrays). Anything else in a .skops file is refused by name.
# TreePredictor (HistGradientBoosting's trees) holds only numpy arrays (its nodes and category bitsets);
# its __setstate__ only updates __dict__ and casts the node array to its record dtype: loading one builds
# data, runs no code. The exporter checks the node structure itself (ensemble.NTree).
# A KNeighbors* model fitted with algorithm 'auto' / 'kd_tree' / 'ball_tree' holds its search tree and the distance
# object of its metric: their __setstate__ only copies numpy arrays and numbers back (no callable is restored:
# PyFuncDistance, the one metric that holds a Python function, stays refused). The export reads only _fit_X and _y.
EXTRA_TRUSTED = ("sklearn.tree._tree.Tree", "microlearn.trainer.estimator.SMOClassifier",
                 "microlearn.trainer.reference.SubResult",
                 "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
                 "sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree",
                 "sklearn.metrics._dist_metrics.EuclideanDistance64",
                 "sklearn.metrics._dist_metrics.ManhattanDistance64",
                 # a fitted MLPClassifier / MLPRegressor keeps its solver's state (plain arrays and floats)
                 "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
                 "sklearn.neural_network._stochastic_optimizers.SGDOptimizer")

PICKLE_RISK = ("loading a pickle or joblib file runs code from the file; convert the model once with "
               "microlearn.save_model(model, 'model.skops') where it was trained, or pass --trust-pickle "
               "(API: trusted=True) if you made this file yourself")


class ModelFileError(ValueError):
    """A model file that cannot be loaded safely or at all: the message says which and why."""


def sniff(head: bytes) -> str:
    """'skops' (a zip), 'pickle' (protocol 2+ or joblib's uncompressed pickles), 'joblib-compressed'
    (zlib/gzip/bz2/xz/lzma magic), or 'unknown'."""
    if head.startswith(b"PK\x03\x04"):
        return "skops"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if head[:1] == b"x" or head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00")):
        return "joblib-compressed"
    return "unknown"


def _check_file(path: Path) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):   # a FIFO or device would block or never end: refused before opening
        raise ModelFileError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise ModelFileError(f"{path}: empty file")
    if st.st_size > MAX_MODEL_BYTES:
        raise ModelFileError(f"{path}: {st.st_size} bytes, over the {MAX_MODEL_BYTES}-byte limit for model files")
    with open(path, "rb") as fh:
        return fh.read(16)


def load_model(path, *, trusted: bool = False):
    """The estimator in `path`: a .skops file (only exportable types), or, with trusted=True only, a pickle
    or joblib file. ModelFileError (a ValueError) with one line for anything else."""
    path = Path(path)
    kind = sniff(_check_file(path))
    if kind == "skops":
        return _load_skops(path)
    if kind in ("pickle", "joblib-compressed"):
        if not trusted:
            raise ModelFileError(f"{path}: refused: {PICKLE_RISK}")
        return _load_pickle(path)
    raise ModelFileError(f"{path}: not a model file (expected skops; pickle/joblib only with --trust-pickle)")


def _load_skops(path: Path):
    try:
        untrusted = sio.get_untrusted_types(file=path)
        refused = [t for t in untrusted if t not in EXTRA_TRUSTED]
        if refused:
            raise ModelFileError(f"{path}: refused: the file holds types that a model export never needs: "
                                 f"{', '.join(sorted(refused)[:5])}")
        return sio.load(path, trusted=[t for t in untrusted if t in EXTRA_TRUSTED])
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, EOFError, OSError) as exc:
        raise ModelFileError(f"{path}: not a readable skops file ({type(exc).__name__}: {exc})"[:300]) from None
    except Exception as exc:   # skops raises its own types for malformed schemas
        raise ModelFileError(f"{path}: not a readable skops file ({type(exc).__name__})") from None


def _load_pickle(path: Path):
    try:
        return joblib.load(path)   # reads plain pickles too, and its compressed formats
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, AttributeError, ImportError, IndexError,
            TypeError, OSError) as exc:
        raise ModelFileError(f"{path}: not a readable pickle/joblib file ({type(exc).__name__})") from None


def save_model(estimator, path) -> Path:
    """Write `estimator` in the skops format (what `microlearn export` reads without --trust-pickle)."""
    path = Path(path)
    sio.dump(estimator, path)
    return path


__all__ = ["load_model", "save_model", "ModelFileError", "MAX_MODEL_BYTES", "EXTRA_TRUSTED"]
