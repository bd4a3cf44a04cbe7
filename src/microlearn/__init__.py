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

from microlearn._version import __version__, RUNTIME_VERSION

_LAZY = {
    "SMOClassifier": "microlearn.trainer.estimator",
    "export": "microlearn.exporter",
    "export_trainer": "microlearn.trainer.codegen",
    "compile": "microlearn.exporter.runner",
    "simulate": "microlearn.learner.simulate",
    "plan": "microlearn.trainer.planner",
    "plan_learner": "microlearn.learner.planner",
    "get_board": "microlearn.boards.registry",
    "get_target": "microlearn.targets",
    "load_model": "microlearn.exporter.model_io",
    "save_model": "microlearn.exporter.model_io",
}


from microlearn.core.paths import include_dir


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'microlearn' has no attribute {name!r}")


__all__ = ["__version__", "RUNTIME_VERSION", "include_dir", *_LAZY]
