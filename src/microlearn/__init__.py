"""microlearn: learning, not only inference, on microcontrollers.

Public API (imported lazily so that `import microlearn` stays cheap):
  SMOClassifier            on-device SVM trainer, scikit-learn estimator, bit-exact reference of the C runtime
  export(est, path, ...)   fitted model -> C header of const tables + runtime calls
  export_trainer(path,...) training configuration -> C header with static buffers
  compile(est, target=...) run the exported C from Python (host or emulated boards)
  include_dir()            folder of the runtime headers, like numpy.get_include()
  simulate(stream, ...)    Python reference of the self-learning loop
  plan(...)                memory planner for a board
  plan_learner(...)        memory planner for the self-learning loop (mlrn_learner) on a board
  load_model / save_model  model files in the skops format (pickle/joblib only when trusted=True)
"""
from importlib import import_module
from pathlib import Path

from ._version import __version__, RUNTIME_VERSION

_LAZY = {
    "SMOClassifier": "microlearn.estimators.smo",
    "export": "microlearn.codegen.export",
    "export_trainer": "microlearn.codegen.trainer",
    "compile": "microlearn.codegen.compiled",
    "simulate": "microlearn.learning.simulate",
    "plan": "microlearn.boards.planner",
    "plan_learner": "microlearn.boards.learner_planner",
    "get_board": "microlearn.boards.registry",
    "get_target": "microlearn.targets",
    "load_model": "microlearn.model_io",
    "save_model": "microlearn.model_io",
}


def include_dir() -> str:
    """Folder holding the header-only C runtime (mlrn*.h)."""
    return str(Path(__file__).resolve().parent / "include")


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'microlearn' has no attribute {name!r}")


__all__ = ["__version__", "RUNTIME_VERSION", "include_dir", *_LAZY]
