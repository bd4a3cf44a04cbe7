"""HVAC comfort control with a self-learning controller (Edge2Train, section 3.3).

The controller predicts the occupant's comfort vote (too cold / ok / too hot) from
[T_in, RH, T_out, hour] and heats, idles or cools accordingly; the occupant's votes are the
feedback. The occupant's preference drifts (season change, then a new occupant), and the
learner (microlearn's mlrn_learner, here its bit-exact Python reference) follows.

    python hvac_loop.py                  # open-loop stream: learner vs static vs oracle, plot
    python hvac_loop.py --closed-loop    # drive the simulated room: comfort with/without learning
    python hvac_loop.py --target uno     # the same stream through the C learner on an emulated Uno

Features are scaled on the device by fixed constants (sensor ranges), in float32:
x' = (x - CENTRE) / SPREAD.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from microlearn.learner.envs.hvac import comfort_stream, run_closed_loop
from microlearn.learner.config import LearnerConfig
from microlearn.learner.reference import RefLearner, predict_model
from microlearn.learner.simulate import fit_static, simulate

CENTRE = np.array([22.0, 50.0, 15.0, 0.5], np.float32)
SPREAD = np.array([5.0, 20.0, 10.0, 0.5], np.float32)
N = 1500
CFG = dict(capacity=60, holdout_every=4, k_mistakes=5, trigger_window=20, err_pct=30, budget=50)


def scale(X):
    return ((np.asarray(X, np.float32) - CENTRE) / SPREAD).astype(np.float32)


def stream(n=N, seed=0):
    s = comfort_stream(n, seed=seed)
    return scale(s.X), s.y, s.drift_points


def open_loop(plot=None, n=N):
    X, y, drift = stream(n)
    return simulate((X, y, drift), n_classes=3, window=100, plot=plot, **CFG)


def closed_loop(n=N, seed=1, drift=None):
    """Comfort (fraction of steps the occupant is ok) and energy (steps the heating or cooling ran) with a
    learning controller vs a static one trained on the first 60 votes. drift: the learner's detector (None:
    LearnerConfig's default, DDM)."""
    cfg = LearnerConfig(n_features=4, n_classes=3, **CFG, **({"drift": drift} if drift else {}))
    lr = RefLearner(cfg)

    def predict(x):
        c = lr.predict(scale(x)[0] if np.ndim(x) == 2 else scale(x))
        return 1 if c < 0 else c

    def learn(x, vote):
        lr.feedback(scale(x), int(vote))
        lr.step()

    learning = run_closed_loop(predict, n=n, seed=seed, learn=learn)
    Xs, ys, _ = stream(n, seed=seed)
    static = fit_static(cfg, Xs[:60], ys[:60])

    def predict_static(x):
        return int(predict_model(*static, scale(x))[0])

    fixed = run_closed_loop(predict_static, n=n, seed=seed)
    return {"learning_comfort_ok": learning["comfort_ok"], "static_comfort_ok": fixed["comfort_ok"],
            "learning_hvac_steps": learning["hvac_steps"], "static_hvac_steps": fixed["hvac_steps"],
            "drift": cfg.drift, "drifts": lr.n_drifts, "retrains": lr.n_retrains, "rollbacks": lr.n_rollbacks}


def on_target(target="uno", n=N):
    from microlearn.learner.runner import loop
    X, y, drift = stream(n)
    # int16 sample store (scaled features live in [-3, 3]): capacity 60 fits the Uno's 2 KB
    return loop((X, y, drift), target, n_classes=3, window=100, storage="int16", feature_range=(-3.0, 3.0), **CFG)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--closed-loop", action="store_true")
    ap.add_argument("--target", help="run the C learner on host/uno/nrf52840")
    ap.add_argument("--plot", default="hvac_accuracy.png")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--drift", choices=["ddm", "window"], help="--closed-loop: the learner's drift detector "
                                                               "(default: LearnerConfig's, ddm)")
    ap.add_argument("--n", type=int, default=N, help="--closed-loop: steps (30 minutes each)")
    ap.add_argument("--seed", type=int, default=1, help="--closed-loop: the room's seed")
    a = ap.parse_args(argv)
    if a.closed_loop:
        rep = closed_loop(a.n, a.seed, a.drift)
    elif a.target:
        rep = on_target(a.target)
    else:
        rep = open_loop(a.plot)
    rep.pop("predictions", None)
    if a.json:
        print(json.dumps(rep))
        return
    if "windows" in rep:
        print(f"{'rows':>10} {'learner':>8} {'static':>8} {'oracle':>8}")
        for w in rep["windows"]:
            print(f"{w['start']:>4}-{w['end']:<5} {w['learner']:8.3f} {w['static']:8.3f} {w['oracle']:8.3f}")
        print(f"drifts at {rep['drift_points']}; retrains {len(rep['retrains'])}, rollbacks {len(rep['rollbacks'])}; "
              f"accuracy learner {rep['accuracy']:.3f} static {rep['static_accuracy']:.3f} "
              f"oracle {rep['oracle_accuracy']:.3f}")
        if "agreement" in rep:
            print(f"target {rep['target']}: agreement {rep['agreement']:.4f}, same events {rep['same_events']}, "
                  f"SRAM {rep['sram_bytes']} B, {rep['cycles']} cycles")
    else:
        print(rep)


if __name__ == "__main__":
    main()
