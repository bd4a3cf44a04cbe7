#!/usr/bin/env python
"""SMOClassifier (microlearn's on-device trainer, Python reference) vs scikit-learn SVC (libsvm).

For each dataset x kernel (linear, rbf, poly) x solver (wss2, simplified) it trains both with the
same C, kernel, gamma (SMOClassifier's resolved ``_gamma`` is passed to SVC), degree, coef0 and tol on
one fixed stratified 70/30 split (seed 0), and reports, all measured in the same run:

* the dual objective 0.5 a'Qa - e'a of every binary sub-problem, both computed in float64 from the
  trained coefficients (SVC's from dual_coef_ / support_vectors_, exactly as
  ``SMOClassifier._objective`` does); ovo sub-problems are compared pair by pair, in libsvm's
  (0,1),(0,2),...,(1,2),... order, and the largest relative gap (obj_smo - obj_svc) / |obj_svc| is
  reported (> 0: SMOClassifier's solution is worse, < 0: better than libsvm's);
* the test accuracy of both and its difference in points;
* the fit time of both (median of a few runs) and the ratio SMO / SVC;
* the iterations: SMOClassifier's n_iter_ summed over sub-problems (wss2: pair updates;
  simplified: sweeps over the data) and SVC's n_iter_ summed.

The fit time of SMOClassifier is the Python reference, which repeats the device's float32
arithmetic operation by operation with numpy; it is not the speed of the C runtime.

Usage:  python benchmarks/bench_solver_vs_svc.py [--quick] [--out DIR] [--repeats N]
Writes DIR/solver_vs_svc.json and DIR/solver_vs_svc.md (default DIR: benchmarks/results).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from microlearn.core.f32 import F
from microlearn.trainer.estimator import SMOClassifier, kernel_matrix_f64

C = 1.0
DEGREE = 3
COEF0 = 0.0
TOL = 1e-3
KERNELS = ("linear", "rbf", "poly")
SOLVERS = ("wss2", "simplified")
SEED = 0
TIME_BUDGET_S = 20.0   # stop repeating a fit once its runs took this long (the slow simplified solver)


# ---- datasets ----------------------------------------------------------------------------------

def datasets(quick: bool):
    """(name, X_train, X_test, y_train, y_test, note): fixed 70/30 stratified split, seed 0."""
    out = []

    def split(name, X, y, note="", scale=False):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=SEED)
        if scale:   # fitted on the training part only
            sc = StandardScaler().fit(Xtr)
            Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
        out.append((name, Xtr, Xte, ytr, yte, note))

    Xi, yi = load_iris(return_X_y=True)
    split("iris setosa-vs-rest", Xi, (yi == 0).astype(int))
    split("iris versicolor-vs-virginica", Xi[yi > 0], yi[yi > 0])
    split("iris 3-class", Xi, yi)
    Xb, yb = load_breast_cancer(return_X_y=True)
    split("breast cancer (StandardScaler)", Xb, yb, "StandardScaler fitted on the training split", scale=True)
    if not quick:
        Xd, yd = load_digits(return_X_y=True)
        split("digits 6-vs-rest", Xd, (yd == 6).astype(int), "raw pixel values 0..16")
        split("digits 10-class", Xd, yd, "raw pixel values 0..16")
    return out


# ---- objectives ----------------------------------------------------------------------------------

def pair_list(n_classes):
    return [(p, q) for p in range(n_classes) for q in range(p + 1, n_classes)]


def svc_objectives(svc: SVC, kernel: str, gamma32: float) -> list[float]:
    """Dual objective of each of SVC's ovo sub-problems, in float64 (as SMOClassifier._objective).

    libsvm's layout: for pair (p, q) the coefficients of class p's support vectors are in row q-1,
    those of class q in row p. The objective 0.5 c'Kc - sum|c| (c = y alpha) does not depend on
    which class is +1, so the sign conventions of libsvm and microlearn need no matching here."""
    n_classes = len(svc.classes_)
    sv = svc.support_vectors_.astype(np.float64)
    starts = np.concatenate([[0], np.cumsum(svc.n_support_)])
    objs = []
    for p, q in pair_list(n_classes):
        ip = np.arange(starts[p], starts[p + 1])
        iq = np.arange(starts[q], starts[q + 1])
        if n_classes == 2:
            c = svc.dual_coef_[0].astype(np.float64)
            idx = np.arange(sv.shape[0])
        else:
            c = np.concatenate([svc.dual_coef_[q - 1, ip], svc.dual_coef_[p, iq]]).astype(np.float64)
            idx = np.concatenate([ip, iq])
        nz = c != 0
        c, idx = c[nz], idx[nz]
        if c.size == 0:
            objs.append(0.0)
            continue
        K = kernel_matrix_f64(kernel, sv[idx], sv[idx], gamma32, float(F(COEF0)), DEGREE)
        objs.append(float(0.5 * c @ K @ c - np.abs(c).sum()))
    return objs


# ---- timing ----------------------------------------------------------------------------------------

def timed_fits(make, X, y, repeats: int):
    """Median fit time over up to `repeats` runs (fewer once TIME_BUDGET_S is spent); the last model."""
    times, model = [], None
    for _ in range(repeats):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
        if sum(times) > TIME_BUDGET_S:
            break
    return model, statistics.median(times), len(times)


# ---- one row ---------------------------------------------------------------------------------------

def run_row(name, Xtr, Xte, ytr, yte, kernel, solver, repeats):
    def make_smo():
        return SMOClassifier(C=C, kernel=kernel, gamma="scale", degree=DEGREE, coef0=COEF0, tol=TOL,
                             solver=solver, multiclass="ovo", random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        smo, t_smo, runs_smo = timed_fits(make_smo, Xtr, ytr, repeats)
    gamma = smo._gamma

    def make_svc():
        return SVC(C=C, kernel=kernel, gamma=gamma, degree=DEGREE, coef0=COEF0, tol=TOL,
                   decision_function_shape="ovo")

    svc, t_svc, runs_svc = timed_fits(make_svc, Xtr, ytr, repeats)
    obj_smo = [float(v) for v in smo.objective_]
    obj_svc = svc_objectives(svc, kernel, float(F(gamma)))
    assert len(obj_smo) == len(obj_svc)
    rel = [(a - b) / max(abs(b), 1e-12) for a, b in zip(obj_smo, obj_svc)]
    worst = int(np.argmax(np.abs(rel)))
    acc_smo = float(smo.score(Xte, yte))
    acc_svc = float(svc.score(Xte, yte))
    return {
        "dataset": name, "kernel": kernel, "solver": solver, "n_train": int(Xtr.shape[0]),
        "n_test": int(Xte.shape[0]), "n_features": int(Xtr.shape[1]), "n_classes": int(len(smo.classes_)),
        "n_sub": len(obj_smo), "C": C, "gamma": float(gamma), "degree": DEGREE, "coef0": COEF0, "tol": TOL,
        "objective_smo": obj_smo, "objective_svc": obj_svc, "rel_gap": rel,
        "max_abs_rel_gap": float(abs(rel[worst])), "worst_rel_gap": float(rel[worst]),
        "worst_pair": list(pair_list(len(smo.classes_))[worst]),
        "acc_smo": acc_smo, "acc_svc": acc_svc, "acc_gap_points": 100.0 * (acc_smo - acc_svc),
        "fit_s_smo": t_smo, "fit_s_svc": t_svc, "time_ratio": t_smo / t_svc if t_svc > 0 else float("inf"),
        "fit_runs_smo": runs_smo, "fit_runs_svc": runs_svc,
        "n_iter_smo": int(np.sum(smo.n_iter_)), "n_iter_svc": int(np.sum(svc.n_iter_)),
        "status_smo": sorted(set(str(s) for s in smo.status_)),
        "n_sv_smo": int(len(smo.support_)), "n_sv_svc": int(len(svc.support_)),
    }


# ---- output ----------------------------------------------------------------------------------------

HEADER = ("| dataset | kernel | solver | max rel. objective gap | accuracy SMO | accuracy SVC | acc. gap (pts) "
          "| fit SMO (s) | fit SVC (s) | time ratio | n_iter SMO | n_iter SVC | status |")


def markdown(rows, meta) -> str:
    lines = [f"Measured {meta['date']} on {meta['machine']}; Python {meta['python']}, numpy {meta['numpy']}, "
             f"scikit-learn {meta['sklearn']}. C={C}, gamma='scale' (SMOClassifier's value passed to SVC), "
             f"degree={DEGREE}, coef0={COEF0}, tol={TOL}, ovo; 70/30 stratified split, seed {SEED}. "
             "Objective gap: (obj_SMO - obj_SVC) / |obj_SVC|, the largest in absolute value over the "
             "binary sub-problems (> 0: SMO's solution is worse). Fit time: median of up to "
             f"{meta['repeats']} runs (fewer once {TIME_BUDGET_S:g} s are spent); time ratio = SMO / SVC.",
             "", HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['kernel']} | {r['solver']} | {r['worst_rel_gap']:+.2e} | "
            f"{100 * r['acc_smo']:.2f} | {100 * r['acc_svc']:.2f} | {r['acc_gap_points']:+.2f} | "
            f"{r['fit_s_smo']:.3f} | {r['fit_s_svc']:.4f} | {r['time_ratio']:.3g} | {r['n_iter_smo']} | "
            f"{r['n_iter_svc']} | {'/'.join(r['status_smo'])} |")
    lines.append("")
    for solver in SOLVERS:
        sel = [r for r in rows if r["solver"] == solver]
        if not sel:
            continue
        g = max(sel, key=lambda r: r["max_abs_rel_gap"])
        a = max(sel, key=lambda r: abs(r["acc_gap_points"]))
        lines.append(f"- {solver}: largest |relative objective gap| {g['max_abs_rel_gap']:.2e} "
                     f"({g['dataset']}, {g['kernel']}, pair {tuple(g['worst_pair'])}); largest |accuracy gap| "
                     f"{abs(a['acc_gap_points']):.2f} points ({a['dataset']}, {a['kernel']}).")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="Iris and breast cancer only, wss2 and simplified")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"), help="output folder")
    ap.add_argument("--repeats", type=int, default=3, help="fit-time runs per model (median)")
    args = ap.parse_args(argv)
    rows = []
    for name, Xtr, Xte, ytr, yte, _note in datasets(args.quick):
        for kernel in KERNELS:
            for solver in SOLVERS:
                r = run_row(name, Xtr, Xte, ytr, yte, kernel, solver, args.repeats)
                rows.append(r)
                print(f"{name:32s} {kernel:6s} {solver:10s} gap {r['worst_rel_gap']:+.2e} "
                      f"acc {100 * r['acc_smo']:6.2f} vs {100 * r['acc_svc']:6.2f}  "
                      f"fit {r['fit_s_smo']:.3f}s vs {r['fit_s_svc']:.4f}s  iter {r['n_iter_smo']}",
                      flush=True)
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()} {platform.system()}",
            "python": platform.python_version(), "numpy": np.__version__, "sklearn": sklearn.__version__,
            "repeats": args.repeats, "quick": args.quick}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "solver_vs_svc.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    md = markdown(rows, meta)
    (out / "solver_vs_svc.md").write_text(md)
    print()
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
