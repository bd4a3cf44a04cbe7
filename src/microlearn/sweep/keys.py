"""A task's key: the hash of its configuration and of the code that computes it, so a cached result is
used only for the same configuration on the same runtime. The runtime part is the calibration's
fingerprints (trainer.planner.runtime_fingerprint, learner.planner.learner_fingerprint: the runtime headers,
a generated header, the driver, the targets' support code) plus the package and runtime version numbers."""
from __future__ import annotations

import functools
import hashlib
import json

from microlearn._version import RUNTIME_VERSION, __version__
from microlearn.learner.planner import learner_fingerprint
from microlearn.trainer.planner import runtime_fingerprint


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """What the results depend on besides the configuration (computed once per process: it reads the
    headers and the support code)."""
    return f"{__version__}/{RUNTIME_VERSION}/{runtime_fingerprint()}/{learner_fingerprint()}"


def canonical(obj) -> str:
    """The one JSON text of a configuration: sorted keys, no spaces, floats as Python writes them."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def task_key(task: dict, runtime: str | None = None) -> str:
    """24 hex digits of sha256(configuration + runtime fingerprint)."""
    body = canonical({"task": task, "runtime": runtime or fingerprint()})
    return hashlib.sha256(body.encode()).hexdigest()[:24]
