"""The HVAC closed loop (examples/hvac/hvac_loop.py) with each drift detector: comfort (fraction of steps the
occupant is ok), energy (steps the heating or cooling ran), comfort per concept (winter occupant, summer occupant,
new occupant) and in the 60 steps after each change, the detector's signals, against the static model trained on
the first 60 votes. Python reference learner (bit-exact with the C); one room per seed.

    python benchmarks/bench_hvac.py [--seeds 1,2,3,4,5,6] [--steps 600,1500] [--out benchmarks/results/hvac]

Writes hvac.md and hvac.json.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from microlearn.learner.config import LearnerConfig
from microlearn.learner.envs.hvac import OFF, OK, HVACEnv, action_for
from microlearn.learner.reference import RefLearner, predict_model
from microlearn.learner.simulate import fit_static

AFTER = 60   # steps after a change over which its comfort is reported
_spec = importlib.util.spec_from_file_location(
    "hvac_loop", Path(__file__).resolve().parents[1] / "examples" / "hvac" / "hvac_loop.py")
H = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(H)


def run(seed: int, n: int, drift: str | None) -> dict:
    """The example's closed loop (hvac_loop.closed_loop) with the per-step record; drift None: the static model."""
    env = HVACEnv(None, seed=seed)
    x = env.observe()
    if drift is None:
        Xs, ys, _ = H.stream(n, seed=seed)
        st = fit_static(LearnerConfig(n_features=4, n_classes=3, **H.CFG), Xs[:60], ys[:60])
        lr = None
    else:
        lr = RefLearner(LearnerConfig(n_features=4, n_classes=3, drift=drift, **H.CFG))
    comfort, concept, signals, active = [], [], [], 0
    for i in range(n):
        if lr is None:
            c = int(predict_model(*st, H.scale(x))[0])
        else:
            c = lr.predict(H.scale(x))
            c = 1 if c < 0 else c
        a = action_for(c)
        active += a != OFF
        x, vote, info = env.step(a)
        comfort.append(info["comfort"] == OK)
        concept.append(info["concept"])
        if lr is not None and vote is not None:
            d0 = lr.n_drifts
            lr.feedback(H.scale(x), int(vote))
            lr.step()
            if lr.n_drifts != d0:
                signals.append(i)
    comfort, concept = np.array(comfort), np.array(concept)
    changes = [int(np.argmax(concept == k)) for k in (1, 2) if np.any(concept == k)]
    return {"seed": seed, "steps": n, "policy": drift or "static", "comfort": float(comfort.mean()),
            "hvac_steps": int(active), "signals": signals,
            "comfort_per_concept": [float(comfort[concept == k].mean()) for k in (0, 1, 2) if np.any(concept == k)],
            "changes": changes, "comfort_after_change": [float(comfort[c:c + AFTER].mean()) for c in changes]}


def markdown(doc) -> str:
    res = doc["results"]
    L = ["# HVAC closed loop: comfort and energy per drift detector", "",
         f"Command: `{doc['command']}` (examples/hvac/hvac_loop.py's room, controller and learner settings; "
         "Python reference). comfort: fraction of steps the occupant is ok; energy: steps the heating or cooling "
         f"ran; after change: comfort in the {AFTER} steps after the season change / the new occupant.", ""]
    for n in doc["steps"]:
        L += [f"## {n} steps", "", "| room (seed) | static comfort / energy | window comfort / energy / signals | "
              "DDM comfort / energy / signals |", "|---|---|---|---|"]
        for s in doc["seeds"]:
            g = {r["policy"]: r for r in res if r["steps"] == n and r["seed"] == s}
            L.append(f"| {s} | {g['static']['comfort']:.3f} / {g['static']['hvac_steps']} | "
                     f"{g['window']['comfort']:.3f} / {g['window']['hvac_steps']} / {len(g['window']['signals'])} | "
                     f"{g['ddm']['comfort']:.3f} / {g['ddm']['hvac_steps']} / {len(g['ddm']['signals'])} |")
        m = {p: [r for r in res if r["steps"] == n and r["policy"] == p] for p in ("static", "window", "ddm")}
        L.append("| mean | " + " | ".join(
            f"{np.mean([r['comfort'] for r in m[p]]):.3f} / {np.mean([r['hvac_steps'] for r in m[p]]):.0f}"
            + ("" if p == "static" else f" / {np.mean([len(r['signals']) for r in m[p]]):.1f}")
            for p in ("static", "window", "ddm")) + " |")
        L += ["", "Mean comfort per concept (winter, summer, new occupant) and after each change:", ""]
        for p in ("static", "window", "ddm"):
            L.append(f"- {p}: per concept " + ", ".join(f"{v:.3f}" for v in np.mean(
                [r["comfort_per_concept"] for r in m[p]], axis=0)) + "; after the changes " + ", ".join(
                f"{v:.3f}" for v in np.mean([r["comfort_after_change"] for r in m[p]], axis=0)))
        L.append("")
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3,4,5,6")
    ap.add_argument("--steps", default="600,1500")
    ap.add_argument("--out", default="benchmarks/results/hvac")
    a = ap.parse_args(argv)
    seeds = [int(v) for v in a.seeds.split(",") if v]
    steps = [int(v) for v in a.steps.split(",") if v]
    res = [run(s, n, p) for n in steps for s in seeds for p in (None, "window", "ddm")]
    doc = {"command": "python benchmarks/bench_hvac.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "seeds": seeds, "steps": steps, "results": res}
    out = Path(a.out)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    out.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))


if __name__ == "__main__":
    main()
