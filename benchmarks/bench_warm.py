"""Warm-started retraining (issue 12): cold vs warm retrains of the self-learning loop.

Python reference (bit-exact twin of the C learner), every drift stream of microlearn.data.streams, seeds 0-2 and
the unseen seeds 7-9, the loop's defaults (capacity 60, FIFO, wss2 C = 1, tol 1e-3): total SMO iterations of all
retrains, retrains started warm, prequential accuracy, rows predicted alike.
Devices (learner.runner.loop: device and reference compared row by row, SMO iterations and final model bits):
uno (exact simavr cycles of the step() calls that trained, `train_cycles`) and nrf52840 (executed instructions of
those calls, `train_instructions`), two streams of 300 rows (drift at 150), capacity 40, budget 20.
Where the iterations go (issue 12's 5x goal): per warm-started retrain of the reference loop, the rows that changed
since the last training, cold and warm iterations, and three oracle starts (the final alphas given to the new rows,
to the survivors, to all) that bound what any alpha seeding or repair could save; the most expensive sub-problems
solved again in float64; the loop at tol 1e-2; the loop retraining after 1 or 2 mistakes instead of 5.

    PYTHONPATH=src python benchmarks/bench_warm.py [--no-device | --keep-device]

Writes benchmarks/results/warm.json and warm.md."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from microlearn.core.f32 import F
from microlearn.data import streams
from microlearn.learner.config import LearnerConfig
from microlearn.learner.reference import RefLearner
from microlearn.learner.runner import loop
from microlearn.learner.simulate import load_stream, simulate
from microlearn.trainer import reference as R

OUT = Path(__file__).resolve().parent / "results"
SEEDS = {"seen": (0, 1, 2), "unseen": (7, 8, 9)}
DEVICE_CASES = [("sudden_concept", 2), ("switched_means", 3)]   # (stream, classes)
DEVICE_KW = dict(capacity=40, budget=20)


def reference_table(tol: float = 1e-3, k_mistakes: int = 5) -> list[dict]:
    rows = []
    for name in streams.STREAMS:
        for group, seeds in SEEDS.items():
            for seed in seeds:
                s = streams.make(name, seed=seed)
                cold = simulate(s, baselines=False, tol=tol, k_mistakes=k_mistakes)
                warm = simulate(s, baselines=False, warm=True, tol=tol, k_mistakes=k_mistakes)
                rows.append({
                    "stream": name, "seed": seed, "group": group, "tol": tol, "k_mistakes": k_mistakes,
                    "rows": cold["n_rows"],
                    "classes": cold["n_classes"],
                    "retrains_cold": len(cold["retrains"]), "retrains_warm": len(warm["retrains"]),
                    "warm_starts": warm["warm_starts"],
                    "iterations_cold": int(sum(cold["train_iterations"])),
                    "iterations_warm": int(sum(warm["train_iterations"])),
                    "accuracy_cold": cold["accuracy"], "accuracy_warm": warm["accuracy"],
                    "same_predictions": float(np.mean(np.array(cold["predictions"]) == np.array(warm["predictions"]))),
                })
    return rows


def _iters(params, X, lab, m, start=None) -> int:
    """SMO iterations of one training of the store (X, lab) from the start alphas (None: cold)."""
    return int(sum(sub.n_iter for sub in R.train(params, X, lab, m, warm=start)))


def _seeded(how, start, cold, new, Xs, last, C):
    """Alpha seeding of the new rows (they start at 0 on the device) from the last candidate's decision f(x) = w.x + b
    of their pair: `seed_margin` C where y f(x) < 1 (the row violates the old margin: at the optimum it would be a
    bound support vector if w stayed), else 0, then the device's repair balances sum y alpha; `seed_hinge`
    min(C, max(0, 1 - y f(x))), with the excess of sum y alpha taken off the new rows first (newest first), the
    device's repair doing the rest."""
    W, b, _ = last
    st = start.copy()
    for k, sub in enumerate(cold):
        mem = sub.members[new[sub.members]]
        if not mem.size:
            continue
        yk = sub.y[new[sub.members]]
        yf = yk * (Xs[mem] @ W[k] + b[k])
        a = np.where(yf < 1, F(C), F(0.0)) if how == "seed_margin" else np.clip(1 - yf, 0, C)
        st[k, mem] = a.astype(np.float32)
        if how == "seed_hinge":
            al, y = st[k, sub.members], sub.y
            excess = float(al[y > 0].sum() - al[y < 0].sum())
            side = y > 0 if excess > 0 else y < 0
            for t in np.flatnonzero(side & new[sub.members])[::-1]:
                if abs(excess) <= 0:
                    break
                d = min(float(al[t]), abs(excess))
                al[t] -= d
                excess -= np.sign(excess) * d
            st[k, sub.members] = al
    return st


def per_retrain(name: str, seed: int, **cfg) -> list[dict]:
    """Every retrain of the warm loop (Python reference, loop defaults) that started warm: the store's rows, how many
    arrived since the last training (`new`) and left it (`removed`), the SMO iterations warm (the loop's own) and cold
    (the same store from alpha = 0), and three oracle starts that bound what any seeding or repair could reach:
    `oracle_new` the survivors' kept alphas with the new rows given their final (cold-solved) alphas, `oracle_old` the
    new rows at 0 with the survivors given their final alphas, `oracle_all` every row given its final alpha; two alpha
    seeding heuristics for the new rows (`_seeded`). cfg: LearnerConfig options other than the defaults (tests)."""
    X, y, _, nc = load_stream(streams.make(name, seed=seed))
    lr = RefLearner(LearnerConfig(n_features=X.shape[1], n_classes=nc, warm=True, **cfg))
    params, keep, prev_ids, out = lr.cfg.params, [], None, []
    for i in range(len(X)):
        lr.feedback(X[i], int(y[i]))
        snap = None
        if not lr.training and lr.pending and len(set(lr.train_y)) >= 2:   # this step() begins a training
            keep.extend(lr.warm_a)   # the per-row alpha arrays follow their rows; kept alive, their ids stay unique
            present = sorted(set(lr.train_y))
            m = len(present)
            lab = np.searchsorted(present, lr.train_y)
            ids = [id(a) for a in lr.warm_a]
            snap = (np.vstack(lr.train_x), lab, m, np.vstack(lr.warm_a).T[:1 if m <= 2 else m * (m - 1) // 2].copy(),
                    ids, prev_ids, lr.cand)
        n0 = lr.n_retrains
        lr.step()
        if snap is None or lr.n_retrains == n0:
            continue
        Xs, lab, m, start, ids, prev, last = snap
        prev_ids = ids
        if not lr.warm_flags[-1]:
            continue
        new = np.array([t not in set(prev) for t in ids])
        cold = R.train(params, Xs, lab, m)
        rec = {"stream": name, "seed": seed, "rows": len(ids), "new": int(new.sum()),
               "removed": len(set(prev) - set(ids)), "warm": lr.cand_iter, "cold": _iters(params, Xs, lab, m)}
        for key, rows in (("oracle_new", new), ("oracle_old", ~new), ("oracle_all", np.ones_like(new))):
            st = start.copy()
            for k, sub in enumerate(cold):
                sel = rows[sub.members]
                st[k, sub.members[sel]] = sub.alpha[sel]
            rec[key] = _iters(params, Xs, lab, m, st)
        for key in ("seed_margin", "seed_hinge"):
            rec[key] = _iters(params, Xs, lab, m, _seeded(key, start, cold, new, Xs, last, params.C))
        # float64 prototype: iterations until w has settled within 10% / 1% of the cold solution's w (before any
        # convergence tail), cold against warm (the kept alphas repaired as the device repairs them)
        rec["f64_cold"] = rec["f64_warm"] = 0
        for rel in (0.1, 0.01):
            rec[f"settle{rel:g}_cold"] = rec[f"settle{rel:g}_warm"] = 0
        for k, sub in enumerate(cold):
            a0 = start[k, sub.members].copy()
            R.warm_start(params, Xs[sub.members], sub.y, a0)
            ic, wc = wss2_float64(Xs[sub.members], sub.y, params.C, params.tol)
            iw, ww = wss2_float64(Xs[sub.members], sub.y, params.C, params.tol, alpha0=a0)
            rec["f64_cold"] += ic
            rec["f64_warm"] += iw
            for rel in (0.1, 0.01):
                rec[f"settle{rel:g}_cold"] += _settled(wc, wc[-1], rel)
                rec[f"settle{rel:g}_warm"] += _settled(ww, wc[-1], rel)
        out.append(rec)
    return out


def wss2_float64(X, y, C=1.0, tol=1e-3, max_iter=50_000, alpha0=None):
    """A plain float64 wss2 (second-order working set selection, Fan, Chen & Lin, JMLR 2005; linear kernel, w kept)
    from alpha0 (feasible; None: 0) to the same stopping rule. Returns (iterations, w after every iteration): tells
    whether a long float32 training is float32's doing (rounding stalls) or the problem's (a slow convergence tail),
    and when w comes close to its final value."""
    X, y = X.astype(np.float64), y.astype(np.float64)
    a = np.zeros(len(y)) if alpha0 is None else np.asarray(alpha0, np.float64).copy()
    w = (a * y) @ X
    ws = [w.copy()]
    for it in range(max_iter):
        v = -y * (y * (X @ w) - 1.0)
        up, low = np.where(y > 0, a < C, a > 0), np.where(y > 0, a > 0, a < C)
        i = np.flatnonzero(up)[np.argmax(v[up])]
        if v[i] - v[low].min() < tol:
            return it, np.array(ws)
        cand = np.flatnonzero(low & (v[i] - v > 0))
        q = np.maximum(((X[cand] - X[i]) ** 2).sum(1), 1e-12)
        k = np.argmin(-((v[i] - v[cand]) ** 2) / q)
        j = cand[k]
        t = (v[i] - v[j]) / q[k]   # a_i += y_i t, a_j -= y_j t, within the box
        lo_i, hi_i = sorted(((0.0 - a[i]) * y[i], (C - a[i]) * y[i]))
        lo_j, hi_j = sorted(((a[j] - 0.0) * y[j], (a[j] - C) * y[j]))
        t = min(max(t, lo_i, lo_j), hi_i, hi_j)
        a[i] += y[i] * t
        a[j] -= y[j] * t
        w += t * (X[i] - X[j])
        ws.append(w.copy())
    return max_iter, np.array(ws)


def _settled(ws, w_final, rel) -> int:
    """The first iteration from which w stays within rel x |w_final| of w_final."""
    far = np.linalg.norm(ws - w_final, axis=1) > rel * max(float(np.linalg.norm(w_final)), 1e-12)
    return int(len(far) - np.argmax(far[::-1])) if far.any() else 0


def slow_tails(n: int = 12) -> list[dict]:
    """The n sub-problems of the seen streams' cold retrains that took the most float32 iterations, against float64."""
    subs = []
    for name in streams.STREAMS:
        for seed in SEEDS["seen"]:
            X, y, _, nc = load_stream(streams.make(name, seed=seed))
            cfg = LearnerConfig(n_features=X.shape[1], n_classes=nc)
            lr = RefLearner(cfg)
            for i in range(len(X)):
                lr.feedback(X[i], int(y[i]))
                if not lr.training and lr.pending and len(set(lr.train_y)) >= 2:
                    present = sorted(set(lr.train_y))
                    Xs, lab = np.vstack(lr.train_x), np.searchsorted(present, lr.train_y)
                    for sub in R.train(cfg.params, Xs, lab, len(present)):
                        subs.append((sub.n_iter, name, seed, Xs[sub.members], sub.y))
                lr.step()
    subs.sort(key=lambda t: -t[0])
    return [{"stream": name, "seed": seed, "rows": len(yy), "float32": it, "float64": wss2_float64(Xm, yy)[0]}
            for it, name, seed, Xm, yy in subs[:n]]


def per_retrain_table() -> list[dict]:
    return [r for name in streams.STREAMS for seeds in SEEDS.values() for seed in seeds for r in per_retrain(name, seed)]


def device_table() -> list[dict]:
    rows = []
    for target in ("uno", "nrf52840"):
        for name, _ in DEVICE_CASES:
            s = streams.make(name, n=300, drift_points=(150,))
            out = {"target": target, "stream": name, **DEVICE_KW}
            for warm in (False, True):
                rep = loop(s, target, baselines=False, warm=warm, **DEVICE_KW)
                assert rep["agreement"] == 1.0 and rep["same_events"], (target, name, warm)
                if warm:
                    assert rep["smo_iterations"] == rep["python_smo_iterations"] and rep["same_model"]
                    out["warm_starts"] = rep["warm_starts"]
                k = "warm" if warm else "cold"
                out[f"iterations_{k}"] = int(sum(rep["train_iterations"]))
                out[f"retrains_{k}"] = len(rep["retrains"])
                out[f"train_cost_{k}"] = rep.get("train_cycles") if target == "uno" else rep.get("train_instructions")
                out[f"accuracy_{k}"] = rep["accuracy"]
                out[f"sram_{k}"] = rep["sram_bytes"]
                out[f"flash_{k}"] = rep["flash_bytes"]
            out["unit"] = "cycles" if target == "uno" else "instructions"
            rows.append(out)
    return rows


def _ratio(a, b):
    return b / a if a else float("nan")


def _sum_ratio(rs, a, b):
    return _ratio(sum(r[a] for r in rs), sum(r[b] for r in rs))


def analysis_markdown(per: list[dict], tails: list[dict], loose: list[dict], sched=()) -> list[str]:
    out = ["", "## Where the iterations go (per retrain)", "",
           "The warm loop of the Python reference, loop defaults, every retrain that started warm. `new`: rows that "
           "arrived since the last training (about as many left: FIFO, drift purges). Cold: the same store from alpha = 0. Seeding heuristics: "
           "the new rows' alphas (0 on the device) seeded from the last candidate's decision values (`margin`: C where "
           "y f(x) < 1; `hinge`: min(C, max(0, 1 - y f(x))), excess off the new rows first). Oracle starts (what no "
           "seeding or repair can beat): `new exact` the survivors' kept alphas and the new rows' final alphas; "
           "`survivors exact` the new rows at 0 and the survivors' final alphas; `all exact` every final alpha. "
           "Ratios: iterations / cold iterations, summed.", "",
           "| stream | seeds | retrains | rows | new rows (share) | cold per retrain (mean / median) | "
           "warm per retrain (mean / median) | warm | median of per-retrain ratios | seeded: margin | seeded: hinge | "
           "new exact | survivors exact | all exact |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    groups = [(name, g) for name in streams.STREAMS for g in SEEDS] + [("**all**", g) for g in SEEDS]
    for name, g in groups:
        rs = [r for r in per if r["seed"] in SEEDS[g] and (name == "**all**" or r["stream"] == name)]
        if not rs:
            continue
        cold, warm = np.array([r["cold"] for r in rs]), np.array([r["warm"] for r in rs])
        share = np.mean([r["new"] / r["rows"] for r in rs])
        out.append(f"| {name} | {g} | {len(rs)} | {np.mean([r['rows'] for r in rs]):.1f} | "
                   f"{np.mean([r['new'] for r in rs]):.1f} ({share:.0%}) | {cold.mean():.0f} / {np.median(cold):.0f} | "
                   f"{warm.mean():.0f} / {np.median(warm):.0f} | {_sum_ratio(rs, 'cold', 'warm'):.3f} | "
                   f"{np.median(warm / np.maximum(cold, 1)):.2f} | {_sum_ratio(rs, 'cold', 'seed_margin'):.3f} | "
                   f"{_sum_ratio(rs, 'cold', 'seed_hinge'):.3f} | {_sum_ratio(rs, 'cold', 'oracle_new'):.3f} | "
                   f"{_sum_ratio(rs, 'cold', 'oracle_old'):.3f} | {_sum_ratio(rs, 'cold', 'oracle_all'):.3f} |")
    out += ["", "By the share of the store that changed since the last training (all streams, both seed groups):", "",
            "| rows new | retrains | cold per retrain | warm / cold | new exact / cold |", "|---|---|---|---|---|"]
    for lo, hi in ((0, .1), (.1, .25), (.25, .5), (.5, .75), (.75, 1.01)):
        rs = [r for r in per if lo <= r["new"] / r["rows"] < hi]
        if rs:
            out.append(f"| {lo:.0%}-{min(hi, 1):.0%} | {len(rs)} | {np.mean([r['cold'] for r in rs]):.0f} | "
                       f"{_sum_ratio(rs, 'cold', 'warm'):.3f} | {_sum_ratio(rs, 'cold', 'oracle_new'):.3f} |")
    out += ["", "Iterations until w has settled (stays from then on within 10% / 1% of the cold solution's w; a float64 "
            "wss2 prototype from alpha = 0 and from the repaired kept alphas), summed over the retrains:", "",
            "| seeds | to 10%: cold | warm | warm / cold | to 1%: cold | warm | warm / cold | to tol: cold | warm | "
            "warm / cold |", "|---|---|---|---|---|---|---|---|---|---|"]
    for g in SEEDS:
        rs = [r for r in per if r["seed"] in SEEDS[g]]
        c1, w1 = sum(r["settle0.1_cold"] for r in rs), sum(r["settle0.1_warm"] for r in rs)
        c2, w2 = sum(r["settle0.01_cold"] for r in rs), sum(r["settle0.01_warm"] for r in rs)
        c3, w3 = sum(r["f64_cold"] for r in rs), sum(r["f64_warm"] for r in rs)
        out.append(f"| {g} | {c1} | {w1} | {_ratio(c1, w1):.3f} | {c2} | {w2} | {_ratio(c2, w2):.3f} | {c3} | {w3} | "
                   f"{_ratio(c3, w3):.3f} |")
    cold = np.sort([r["cold"] for r in per])[::-1]
    top = cold[:max(len(cold) // 10, 1)].sum() / cold.sum()
    out += ["", f"The 10% most expensive retrains take {top:.0%} of all cold iterations.", "",
            "## Slow tails: float32 against float64", "",
            "The sub-problems of the seen streams' cold retrains (loop defaults, cold loop) that took the most float32 "
            "iterations, solved again from alpha = 0 by a plain float64 wss2 (same selection and stopping rule, "
            "max 50,000): the long trainings are the problem's, not float32's.", "",
            "| stream | seed | rows | iterations float32 (max 2000) | iterations float64 |", "|---|---|---|---|---|"]
    out += [f"| {t['stream']} | {t['seed']} | {t['rows']} | {t['float32']} | {t['float64']} |" for t in tails]
    if loose:
        out += ["", "## A looser stopping tolerance (tol 1e-2 instead of 1e-3)", "",
                "| seeds | iterations cold | iterations warm | warm / cold | accuracy cold | accuracy warm |",
                "|---|---|---|---|---|---|"]
        for g in SEEDS:
            rs = [r for r in loose if r["group"] == g]
            out.append(f"| {g} | {sum(r['iterations_cold'] for r in rs)} | {sum(r['iterations_warm'] for r in rs)} | "
                       f"{_sum_ratio(rs, 'iterations_cold', 'iterations_warm'):.3f} | "
                       f"{np.mean([r['accuracy_cold'] for r in rs]):.4f} | "
                       f"{np.mean([r['accuracy_warm'] for r in rs]):.4f} |")
    if sched:
        out += ["", "## Retraining sooner (k_mistakes: retrain after k mistakes; 5 is the default, the first table)", "",
                "| k_mistakes | seeds | retrains cold / warm | iterations per retrain cold | warm | warm / cold | "
                "total iterations cold | warm | accuracy cold | accuracy warm |", "|---|---|---|---|---|---|---|---|---|---|"]
        for k in sorted({r["k_mistakes"] for r in sched}):
            for g in SEEDS:
                rs = [r for r in sched if r["group"] == g and r["k_mistakes"] == k]
                ic, iw = sum(r["iterations_cold"] for r in rs), sum(r["iterations_warm"] for r in rs)
                nc, nw = sum(r["retrains_cold"] for r in rs), sum(r["retrains_warm"] for r in rs)
                out.append(f"| {k} | {g} | {nc} / {nw} | {ic / nc:.0f} | {iw / nw:.0f} | {_ratio(ic, iw):.3f} | {ic} | {iw} | "
                           f"{np.mean([r['accuracy_cold'] for r in rs]):.4f} | "
                           f"{np.mean([r['accuracy_warm'] for r in rs]):.4f} |")
    return out


def markdown(ref: list[dict], dev: list[dict], per=(), tails=(), loose=(), sched=()) -> str:
    out = ["# Warm-started retraining: cold vs warm", "",
           "Generated by `PYTHONPATH=src python benchmarks/bench_warm.py`. Iterations: SMO pair updates of all "
           "retrains (wss2, tol 1e-3). Ratio = warm / cold (below 1: warm saves).", "",
           "## Python reference (bit-exact twin of the device), loop defaults (capacity 60, FIFO)", "",
           "| stream | seeds | retrains (cold / warm, started warm) | iterations cold | iterations warm | ratio | "
           "accuracy cold | accuracy warm | rows predicted alike |",
           "|---|---|---|---|---|---|---|---|---|"]
    for name in streams.STREAMS:
        for group in SEEDS:
            rs = [r for r in ref if r["stream"] == name and r["group"] == group]
            ic, iw = sum(r["iterations_cold"] for r in rs), sum(r["iterations_warm"] for r in rs)
            out.append(f"| {name} | {group} {','.join(str(r['seed']) for r in rs)} | "
                       f"{sum(r['retrains_cold'] for r in rs)} / {sum(r['retrains_warm'] for r in rs)}, "
                       f"{sum(r['warm_starts'] for r in rs)} | {ic} | {iw} | {_ratio(ic, iw):.3f} | "
                       f"{np.mean([r['accuracy_cold'] for r in rs]):.4f} | {np.mean([r['accuracy_warm'] for r in rs]):.4f} | "
                       f"{np.mean([r['same_predictions'] for r in rs]):.4f} |")
    for group in SEEDS:
        rs = [r for r in ref if r["group"] == group]
        ic, iw = sum(r["iterations_cold"] for r in rs), sum(r["iterations_warm"] for r in rs)
        out.append(f"| **all** | {group} | | {ic} | {iw} | **{_ratio(ic, iw):.3f}** | "
                   f"{np.mean([r['accuracy_cold'] for r in rs]):.4f} | {np.mean([r['accuracy_warm'] for r in rs]):.4f} | "
                   f"{np.mean([r['same_predictions'] for r in rs]):.4f} |")
    better = sum(r["iterations_warm"] < r["iterations_cold"] for r in ref)
    out += ["", f"Warm used fewer iterations than cold on {better} of {len(ref)} stream runs."]
    if per:
        out += analysis_markdown(list(per), list(tails), list(loose), list(sched))
    if dev:
        out += ["", "## On the devices (300 rows, drift at 150, capacity 40, budget 20; device = reference bit for bit)",
                "", "| target | stream | retrains (started warm) | iterations cold / warm (ratio) | training cost cold | "
                "training cost warm | ratio | accuracy cold / warm | SRAM cold / warm (B) | flash cold / warm (B) |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for r in dev:
            out.append(f"| {r['target']} | {r['stream']} | {r['retrains_warm']} ({r['warm_starts']}) | "
                       f"{r['iterations_cold']} / {r['iterations_warm']} "
                       f"({_ratio(r['iterations_cold'], r['iterations_warm']):.3f}) | "
                       f"{r['train_cost_cold']:,} {r['unit']} | {r['train_cost_warm']:,} {r['unit']} | "
                       f"{_ratio(r['train_cost_cold'], r['train_cost_warm']):.3f} | "
                       f"{r['accuracy_cold']:.3f} / {r['accuracy_warm']:.3f} | {r['sram_cold']} / {r['sram_warm']} | "
                       f"{r['flash_cold']} / {r['flash_warm']} |")
        out += ["", "Device flash includes the stream driver; the warm build's driver also prints the SMO iterations "
                "and the model's hash (LRN_WARM_REPORT), a few hundred bytes that a sketch does not carry."]
    return "\n".join(out) + "\n"


def _json_lines(data: dict) -> str:
    """JSON with one record per line (the per-retrain list has ~600 records)."""
    parts = []
    for k, v in data.items():
        if isinstance(v, list):
            body = ",\n  ".join(json.dumps(r) for r in v)
            parts.append(f"{json.dumps(k)}: [\n  {body}\n ]" if v else f"{json.dumps(k)}: []")
        else:
            parts.append(f"{json.dumps(k)}: {json.dumps(v)}")
    return "{\n " + ",\n ".join(parts) + "\n}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-device", action="store_true", help="the Python reference only")
    ap.add_argument("--keep-device", action="store_true",
                    help="reuse the device rows of results/warm.json (when only the Python analysis changed)")
    args = ap.parse_args()
    t0 = time.time()
    ref = reference_table()
    per = per_retrain_table()
    tails = slow_tails()
    loose = reference_table(tol=1e-2)
    sched = reference_table(k_mistakes=1) + reference_table(k_mistakes=2)
    if args.keep_device:
        dev = json.loads((OUT / "warm.json").read_text())["device"]
    else:
        dev = [] if args.no_device else device_table()
    OUT.mkdir(exist_ok=True)
    data = {"reference": ref, "per_retrain": per, "slow_tails": tails, "tol_1e-2": loose, "k_mistakes_1_2": sched,
            "device": dev,
            "seconds": round(time.time() - t0, 1)}
    (OUT / "warm.json").write_text(_json_lines(data))
    md = markdown(ref, dev, per, tails, loose, sched)
    if args.keep_device:
        md += "\nThe device rows are those of the previous run (`--keep-device`: only the Python analysis was re-run).\n"
    (OUT / "warm.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
