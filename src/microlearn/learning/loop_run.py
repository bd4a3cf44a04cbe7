"""Run the C self-learning loop on a target (host, uno, nrf52840...) over a stream and compare it
with the Python reference (microlearn.learning.simulate), row by row."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .. import include_dir
from . import learner_codegen as lc
from .simulate import LearnerConfig, load_stream, report, run_reference


def run_on_target(cfg: LearnerConfig, X, y, target="host", *, workdir=None, timeout: float = 600.0) -> dict:
    """Build the learner + driver for `target`, feed the stream, parse what the device decided."""
    from ..targets import get_target
    tgt = get_target(target) if isinstance(target, str) else target
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="microlearn-loop-")
        workdir = tmp.name
    try:
        wd = Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
        (wd / "learner.h").write_text(lc.render_header(cfg, "lrn"))
        (wd / "main.c").write_text(lc.DRIVER)
        build = tgt.build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())])
        res = tgt.run(build, lc.encode_stream(X, y), timeout=timeout)
        out = lc.parse_output(res.output)
        out.update({"target": tgt.name, "cycles": res.cycles, "instructions": res.instructions,
                    "seconds": res.seconds, "seconds_kind": res.seconds_kind,
                    "flash_bytes": build.flash_bytes, "static_ram_bytes": build.static_ram_bytes,
                    "stack_bytes": res.stack_bytes,
                    "sram_bytes": (build.static_ram_bytes + res.stack_bytes
                                   if build.static_ram_bytes is not None and res.stack_bytes is not None else None)})
        if getattr(tgt, "board", None) is not None:
            out["clock_hz"] = tgt.board.clock_hz
        if len(out["predictions"]) != len(X):
            raise RuntimeError(f"the device answered {len(out['predictions'])} of {len(X)} rows")
        return out
    finally:
        if tmp is not None:
            tmp.cleanup()


def loop(stream, target="host", *, y=None, n_classes=None, window=100, static_rows=None, baselines=True,
         plot=None, timeout: float = 600.0, workdir=None, feature_range=None, **cfg_kwargs) -> dict:
    """`microlearn loop`: the learner on the target, the Python reference, the baselines, compared."""
    X, yv, drift, nc = load_stream(stream, y, n_classes)
    if cfg_kwargs.get("storage", "float32") != "float32" and cfg_kwargs.get("scale") is None:
        from ..estimators._store import affine_from_range
        lo, hi = feature_range if feature_range is not None else (X.min(axis=0), X.max(axis=0))
        cfg_kwargs["scale"], cfg_kwargs["offset"] = affine_from_range(lo, hi, cfg_kwargs["storage"], X.shape[1])
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=nc, **cfg_kwargs)
    ref = run_reference(cfg, X, yv)
    dev = run_on_target(cfg, X, yv, target, workdir=workdir, timeout=timeout)
    rep = report(cfg, X, yv, drift, dev, window=window, static_rows=static_rows, baselines=baselines, plot=plot)
    ref_pred = ref["predictions"]
    rep.update({
        "target": dev["target"],
        "agreement": float(np.mean(dev["predictions"] == ref_pred)) if len(X) else None,
        "same_events": (dev["retrains"] == [int(v) for v in ref["retrains"]] and
                        dev["accepted"] == [int(v) for v in ref["accepted"]] and
                        dev["rollbacks"] == [int(v) for v in ref["rollbacks"]]),
        "python_retrains": [int(v) for v in ref["retrains"]],
        "python_rollbacks": [int(v) for v in ref["rollbacks"]],
        "device_counters": dev["counters"],
        "cycles": dev["cycles"], "instructions": dev["instructions"], "seconds": dev["seconds"],
        "seconds_kind": dev["seconds_kind"], "flash_bytes": dev["flash_bytes"],
        "static_ram_bytes": dev["static_ram_bytes"], "stack_bytes": dev["stack_bytes"],
        "sram_bytes": dev["sram_bytes"], "buffer_bytes": sum(lc.buffer_bytes(cfg).values()),
        "budget": cfg.budget, "train_iterations": ref["learner"].train_iters,
    })
    if "clock_hz" in dev:
        rep["clock_hz"] = dev["clock_hz"]
    return rep
