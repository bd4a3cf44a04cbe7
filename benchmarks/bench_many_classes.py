"""Many classes and all the training rows on small boards: issue 13's goals, measured side by side.

Every board run goes through microlearn.trainer.runner.train_and_report (the training call alone is measured;
the Python reference is fitted alongside and its predictions, iterations, intercepts and alphas compared) and
every fit question through microlearn.trainer.planner.plan; a configuration the planner refuses is recorded as
"does not fit" (with the bytes over), a run that exceeds its bound as "timeout". C = 1 throughout.

1. Digits, 10 classes, on the samd21 (Cortex-M0+, 48 MHz), the rows in flash as int8: the seeds' split
   (microlearn.data.datasets.split(X, y, 0.3, shuffle=True, seed=0): 1,258 training rows, 539 test rows; the
   issue's 1,257 is scikit-learn's train_test_split rounding), every feature min-max scaled to [0, 1] by the
   training rows' range (as tools/experiments.data does), int8 codes over (0, 1). wss2 ovo and ovr, dcd ovr and
   ovo (hinge, squared hinge). Goal: <= 150 M instructions, accuracy >= SVC(kernel='linear') - 1 point.
2. 50 classes: sklearn make_classification(n_samples=1786, n_features=22, n_informative=22, n_redundant=0,
   n_classes=50, n_clusters_per_class=1, random_state=0), the same seeded 70/30 split (1,250 training rows,
   536 test rows), standardised by the training rows; on the nrf52840 with the rows in RAM (the planner: it
   fits; flash would too), dcd ovr float32 and int8. Goal: <= 100 M instructions, accuracy >= LinearSVC - 1 point.
3. Breast cancer, the seeds' protocol (tools/experiments.data("cancer", "shuffled"): 398 training rows, 171 test
   rows, min-max scaled to [0, 1]), the rows in flash as int8: the uno's verdict from the planner (and the
   largest capacity that fits it), the same runs on the mega2560 (8 KB SRAM, the same AVR core and clock).
   Goal (for the uno): <= 60 M cycles, accuracy within 1 point of SVC.
4. The growth of the linear training cost with n (nrf52840, n = 50..800) is bench_dcd.py's part 2: cited
   from benchmarks/results/dcd.json, not re-measured.

    PYTHONPATH=src python benchmarks/bench_many_classes.py            # writes benchmarks/results/many_classes.{json,md}
    PYTHONPATH=src python benchmarks/bench_many_classes.py --quick    # one or two configurations per part
    ... --parts digits,fifty,cancer                                   # some parts only (the others are not written)
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from microlearn import SMOClassifier
from microlearn.data.datasets import load, split
from microlearn.targets import get_target
from microlearn.targets.errors import DoesNotFit, RunTimeout
from microlearn.tools.experiments import data
from microlearn.trainer.planner import max_capacity, plan
from microlearn.trainer.runner import train_and_report

OUT = Path(__file__).resolve().parent / "results"
KEYS = ("status", "iterations", "python_iterations", "accuracy", "python_accuracy", "agreement", "max_alpha_diff",
        "intercept_identical", "flash_bytes", "sram_bytes", "static_ram_bytes", "stack_bytes", "buffer_bytes",
        "cycles", "instructions", "cycles_est", "cycles_est_range", "seconds", "seconds_kind")
# Wall-clock bound of one emulator run; the targets also stop a guest after 10 simulated minutes at the board's
# clock (28.8 G instructions on the samd21, 9.6 G cycles on the AVRs): both are recorded as "timeout".
RUN_TIMEOUT_S = 1800

# The goals: (cost unit, bound, reference model whose accuracy - 1 point must be reached).
GOALS = {
    "digits": ("instructions", 150_000_000, "svc"),
    "fifty": ("instructions", 100_000_000, "linear_svc"),
    "cancer": ("cycles", 60_000_000, "svc"),
}
ML_MCU_DIGITS_CYCLES = 1_420_800_000   # ML-MCU: 29.6 s at 48 MHz (the figure)


# ---- the problems -----------------------------------------------------------------------------------------
def digits10():
    X, y = load("digits")
    Xtr, Xte, ytr, yte = split(X, y, 0.3, shuffle=True, seed=0)
    lo, hi = Xtr.min(axis=0), Xtr.max(axis=0)
    rng = np.where(hi > lo, hi - lo, 1.0)
    return (Xtr - lo) / rng, (Xte - lo) / rng, ytr, yte


FIFTY = dict(n_samples=1786, n_features=22, n_informative=22, n_redundant=0, n_repeated=0, n_classes=50,
             n_clusters_per_class=1, random_state=0)


def fifty():
    X, y = make_classification(**FIFTY)
    Xtr, Xte, ytr, yte = split(X, y, 0.3, shuffle=True, seed=0)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte


def cancer():
    return data("cancer", "shuffled")


def references(Xtr, Xte, ytr, yte):
    """scikit-learn's accuracies on the same rows (float64): SVC(kernel='linear') (libsvm, ovo) and LinearSVC
    (liblinear, ovr) with its default squared hinge and with the hinge loss; C = 1."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.time()
        out["svc"] = float(SVC(kernel="linear", C=1.0).fit(Xtr, ytr).score(Xte, yte))
        out["linear_svc"] = float(LinearSVC(C=1.0, max_iter=100_000).fit(Xtr, ytr).score(Xte, yte))
        out["linear_svc_hinge"] = float(LinearSVC(C=1.0, loss="hinge", max_iter=100_000).fit(Xtr, ytr)
                                        .score(Xte, yte))
        out["sklearn_fit_s"] = round(time.time() - t0, 2)
    print(json.dumps({"references": out}), flush=True)
    return out


# ---- one case -----------------------------------------------------------------------------------------------
def run(part, problem, board, Xtr, Xte, ytr, yte, *, data_in, storage, solver, multiclass="ovr", loss="hinge",
        tol=1e-3, feature_range=None, target_options=None):
    n_classes = len(np.unique(ytr))
    rec = {"part": part, "problem": problem, "board": board, "data_in": data_in, "storage": storage,
           "solver": solver, "multiclass": multiclass if n_classes > 2 else None, "loss": loss, "tol": tol,
           "n_train": len(Xtr), "n_test": len(Xte), "n_features": int(Xtr.shape[1]), "n_classes": n_classes}
    try:
        p = plan(board, Xtr.shape[1], len(Xtr), n_classes, storage=storage, solver=solver, multiclass=multiclass,
                 data_in=data_in, with_max=False)
        rec.update(plan_fits=p.fits, plan_over=p.over, plan_sram_bytes=p.sram_bytes, plan_flash_bytes=p.flash_bytes,
                   plan_static_bytes=p.static_ram_bytes)
    except ValueError as exc:   # a combination the planner refuses outright (ovo beyond 16 classes, ...)
        rec.update(status="refused", message=str(exc))
        print(json.dumps(rec), flush=True)
        return rec
    params = dict(storage=storage, solver=solver, multiclass=multiclass, loss=loss, tol=tol, C=1.0)
    if storage != "float32" and feature_range is not None:
        params["feature_range"] = feature_range
    t0 = time.time()
    try:
        r = train_and_report(Xtr, ytr, Xte, yte, get_target(board, **(target_options or {})), data_in=data_in, timeout=RUN_TIMEOUT_S, **params)
        rec.update({k: r[k] for k in KEYS})
        rec["bit_exact"] = bool(r["agreement"] == 1.0 and r["iterations"] == r["python_iterations"]
                                and r["intercept_identical"] and r["max_alpha_diff"] == 0.0)
    except DoesNotFit as exc:
        rec.update(status="does_not_fit", message=str(exc))
    except RunTimeout as exc:
        tgt = get_target(board, **(target_options or {}))
        avr = getattr(tgt, "max_cycles", None) is not None
        rec.update(status="timeout", message=str(exc), cost_bound=tgt.max_cycles if avr else tgt.max_instructions,
                   cost_bound_unit="cycles" if avr else "instructions")
        # The device's model would be the Python reference's, bit for bit: its accuracy and iteration count say
        # what the run would have reached.
        est = SMOClassifier(**params).fit(Xtr, ytr)
        rec.update(python_accuracy=float(est.score(Xte, yte)), python_iterations=int(est.n_iter_.sum()))
    rec["wall_s"] = round(time.time() - t0, 1)
    print(json.dumps(rec, default=str), flush=True)
    return rec


def cost(rec):
    return rec.get("cycles") if rec.get("cycles") is not None else rec.get("instructions")


def goal_check(rec, refs, goal_key):
    """The goal's verdict for a measured row: cost within the bound and accuracy >= reference - 1 point."""
    unit, bound, ref = GOALS[goal_key]
    if rec.get("status") == "timeout":   # cost: more than the run's bound; accuracy: the Python twin's
        c, acc, lower = rec["cost_bound"], rec["python_accuracy"], True
    elif rec.get("status") in ("converged", "max_iter") and cost(rec) is not None:
        c, acc, lower = cost(rec), rec["accuracy"], False
    else:
        return None
    acc_ok = acc >= refs[ref] - 0.01
    return {"bound": bound, "unit": unit, "cost_ratio": c / bound, "cost_ratio_is_lower_bound": lower,
            "cost_met": c <= bound if not lower else (False if c > bound else None), "reference": ref, "reference_accuracy": refs[ref],
            "accuracy_gap_points": 100 * (acc - refs[ref]), "accuracy_met": bool(acc_ok),
            "met": bool((not lower) and c <= bound and acc_ok)}   # a timeout below the goal's bound is not "met"


# ---- the parts ----------------------------------------------------------------------------------------------
def part_digits(quick):
    Xtr, Xte, ytr, yte = digits10()
    refs = references(Xtr, Xte, ytr, yte)
    cases = [dict(solver="dcd", multiclass="ovr", tol=0.1)]
    if not quick:
        cases += [dict(solver="wss2", multiclass="ovo"), dict(solver="wss2", multiclass="ovr"),
                  dict(solver="dcd", multiclass="ovr", tol=1e-3),
                  dict(solver="dcd", multiclass="ovr", loss="squared_hinge", tol=0.1),
                  dict(solver="dcd", multiclass="ovo", tol=0.1),
                  # the rows in RAM do not fit the samd21 (80 KB of int8 codes): the planner's verdict only
                  dict(solver="dcd", multiclass="ovr", tol=0.1, data_in="ram")]
    rows = []
    for c in cases:
        c = {"data_in": "flash", **c}
        rec = run("digits", "digits 10 classes", "samd21", Xtr, Xte, ytr, yte, storage="int8", feature_range=(0, 1),
                  **c)
        rec["goal"] = goal_check(rec, refs, "digits")
        rows.append(rec)
    return {"references": refs, "rows": rows}


def part_fifty(quick):
    Xtr, Xte, ytr, yte = fifty()
    refs = references(Xtr, Xte, ytr, yte)
    cases = [dict(storage="float32", tol=0.1)]
    if not quick:
        cases += [dict(storage="int8", tol=0.1),
                  dict(storage="float32", loss="squared_hinge", tol=0.1),
                  dict(storage="float32", tol=1e-3)]
    rows = []
    for c in cases:
        rec = run("fifty", "make_classification 50 classes", "nrf52840", Xtr, Xte, ytr, yte, data_in="ram",
                  solver="dcd", multiclass="ovr", **c)
        rec["goal"] = goal_check(rec, refs, "fifty")
        rows.append(rec)
    # ovo is refused beyond 16 classes (1,225 pairs here): the planner's one line, recorded
    rows.append(run("fifty", "make_classification 50 classes", "nrf52840", Xtr, Xte, ytr, yte, data_in="ram",
                    storage="float32", solver="dcd", multiclass="ovo", tol=0.1))
    return {"references": refs, "rows": rows}


def part_cancer(quick):
    Xtr, Xte, ytr, yte = cancer()
    refs = references(Xtr, Xte, ytr, yte)
    d = Xtr.shape[1]
    caps = {}
    for solver in ("wss2", "dcd"):
        for data_in in ("flash", "ram"):
            caps[f"uno {solver} int8 {data_in}"] = max_capacity("uno", d, 2, storage="int8", solver=solver,
                                                                data_in=data_in)
    print(json.dumps({"uno largest capacity": caps}), flush=True)
    cases = [dict(solver="wss2"), dict(solver="dcd", tol=0.1)]
    if not quick:
        cases += [dict(solver="dcd", tol=1e-3), dict(solver="dcd", loss="squared_hinge", tol=0.1)]
    rows = []
    for board in ("uno", "mega2560"):
        for c in cases:
            if board == "uno" and c.get("tol") == 1e-3 and c["solver"] == "dcd":
                continue   # the planner's verdict on the uno does not depend on tol
            rec = run("cancer", "breast cancer 398", board, Xtr, Xte, ytr, yte, data_in="flash", storage="int8",
                      feature_range=(0, 1), **c)
            rec["goal"] = goal_check(rec, refs, "cancer")
            rows.append(rec)
    return {"references": refs, "rows": rows, "uno_max_capacity": caps}


def part_growth():
    """bench_dcd.py's measured growth exponents, cited from its results (not re-measured here)."""
    path = OUT / "dcd.json"
    if not path.exists():
        return {"source": str(path.name), "missing": True}
    res = json.loads(path.read_text())
    ns = sorted({r["n_train"] for r in res["growth"]})
    return {"source": "benchmarks/results/dcd.json (python benchmarks/bench_dcd.py, part 2)", "n": ns,
            "exponents": res["growth_fit"], "goal": 1.3}


# ---- the report ---------------------------------------------------------------------------------------------
def _cost_cell(r):
    if r.get("cycles") is not None:
        return f"{r['cycles']:,} cycles"
    if r.get("instructions") is not None:
        est = f" (~{r['cycles_est']:,} cycles est.)" if r.get("cycles_est") else ""
        return f"{r['instructions']:,} instr{est}"
    return ""


def _status_cell(r):
    s = r.get("status")
    if s == "does_not_fit":
        return "does not fit: " + ", ".join(f"{k} {v:,} B over" for k, v in (r.get("plan_over") or {}).items())
    if s == "refused":
        return "refused: " + r["message"]
    if s == "timeout":
        return (f"timeout: stopped after {r['cost_bound']:,} {r['cost_bound_unit']} (Python twin: {r['python_iterations']} passes / updates, "
                f"test acc. {r['python_accuracy']:.2%})")
    return s


def _goal_cell(r):
    g = r.get("goal")
    if not g:
        return ""
    bound = f"{g['bound'] / 1e6:g} M"
    more = "> " if g["cost_ratio_is_lower_bound"] else ""
    return (f"{'met' if g['met'] else 'NOT met'}: cost {more}x{g['cost_ratio']:.2f} of {bound}"
            f" ({ {True: 'ok', False: 'over', None: 'unknown'}[g['cost_met']] }), accuracy {g['accuracy_gap_points']:+.2f} pts vs "
            f"{g['reference']} ({'ok' if g['accuracy_met'] else 'short'})")


def table(rows):
    md = ["| board | data in | storage | solver | multiclass | loss | tol | status | passes / pair updates | cost | "
          "test acc. | agreement | bit-exact | flash B | SRAM B (static + stack) | goal |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        measured = r.get("status") in ("converged", "max_iter")
        sram = (f"{r['sram_bytes']:,} ({r['static_ram_bytes']:,} + {r['stack_bytes']:,})" if measured
                else (f"{r['plan_sram_bytes']:,} (plan)" if r.get("plan_sram_bytes") else ""))
        flash = f"{r['flash_bytes']:,}" if measured else (f"{r['plan_flash_bytes']:,} (plan)"
                                                          if r.get("plan_flash_bytes") else "")
        acc = f"{r['accuracy']:.2%}" if measured else ""
        agree = f"{r['agreement']:.0%}" if measured else ""
        exact = ("yes" if r["bit_exact"] else "NO") if measured else ""
        its = r["iterations"] if measured else ""
        md.append(f"| {r['board']} | {r['data_in']} | {r['storage']} | {r['solver']} | {r['multiclass'] or '-'} | "
                  f"{r['loss']} | {r['tol']:g} | {_status_cell(r)} | {its} | {_cost_cell(r)} | {acc} | {agree} | "
                  f"{exact} | {flash} | {sram} | {_goal_cell(r)} |")
    return md


def refs_line(refs):
    return (f"scikit-learn on the same rows (float64, C = 1): SVC(kernel='linear') {refs['svc']:.2%}, "
            f"LinearSVC (squared hinge) {refs['linear_svc']:.2%}, LinearSVC(loss='hinge') {refs['linear_svc_hinge']:.2%}.")


def markdown(res) -> str:
    md = [f"Command: `{res['command']}`. C = 1 everywhere; the cost is the training call alone (instructions: qemu, "
          "executed; cycles: simavr, exact; cycles est.: the Cortex-M0+/M4 timing model of targets/cycle_model.py). "
          "Bit-exact: the board's predictions, iterations, intercepts and alphas equal the Python reference's.", ""]
    if "digits" in res:
        p = res["digits"]
        md += ["## 1. Digits, 10 classes, samd21, rows in flash (int8)", "",
               "Seeds' split: datasets.split(X, y, 0.3, shuffle=True, seed=0), 1,258 training / 539 test rows; "
               "min-max scaled to [0, 1] by the training rows; int8 codes over (0, 1). Goal: <= 150 M instructions "
               f"(ML-MCU: 29.6 s at 48 MHz, ~{ML_MCU_DIGITS_CYCLES / 1e9:.2f} G cycles), accuracy >= SVC - 1 point.",
               "", refs_line(p["references"]), ""] + table(p["rows"]) + [""]
        ml = [r for r in p["rows"] if r.get("cycles_est")]
        if ml:
            md += ["Against ML-MCU's 1.42 G cycles (estimated M0+ cycles here): " + "; ".join(
                f"{r['solver']} {r['multiclass']} {r['loss']} tol {r['tol']:g}: x{r['cycles_est'] / ML_MCU_DIGITS_CYCLES:.2f}"
                for r in ml) + ".", ""]
    if "fifty" in res:
        p = res["fifty"]
        md += ["## 2. 50 classes (make_classification), nrf52840, rows in RAM", "",
               "make_classification(" + ", ".join(f"{k}={v}" for k, v in FIFTY.items()) + "); the seeded 70/30 split "
               "(1,250 training / 536 test rows), standardised by the training rows. Goal: <= 100 M instructions, "
               "accuracy >= LinearSVC - 1 point.", "", refs_line(p["references"]), ""] + table(p["rows"]) + [""]
    if "cancer" in res:
        p = res["cancer"]
        md += ["## 3. Breast cancer, 398 training rows, rows in flash (int8)", "",
               "The seeds' protocol: tools/experiments.data('cancer', 'shuffled') (seed 0, 398 training / 171 test rows, "
               "min-max scaled to [0, 1] by the training rows). Goal for the uno: <= 60 M cycles, accuracy within 1 "
               "point of SVC; the mega2560 (the same AVR core at 16 MHz, 8 KB SRAM) runs what the uno cannot hold.",
               "", refs_line(p["references"]), ""] + table(p["rows"]) + [""]
        md += ["Largest capacity that fits the uno (planner, int8, 30 features, binary): " + ", ".join(
            f"{k}: {v:,}" for k, v in p["uno_max_capacity"].items()) + ".", ""]
    g = res.get("growth")
    if g and not g.get("missing"):
        md += ["## 4. Growth of the linear training cost with n (cited, not re-measured)", "",
               f"From {g['source']}, nrf52840, n = {', '.join(map(str, g['n']))}: " + ", ".join(
                   f"{k} n^{v:.2f}" for k, v in g["exponents"].items()) + f"; goal n^{g['goal']}.", ""]
    return "\n".join(md)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one or two configurations per part")
    ap.add_argument("--parts", default="digits,fifty,cancer", help="comma-separated: digits, fifty, cancer")
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    parts = [s.strip() for s in a.parts.split(",") if s.strip()]
    unknown = set(parts) - {"digits", "fifty", "cancer"}
    if unknown:
        ap.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose digits, fifty, cancer")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = "PYTHONPATH=src python benchmarks/bench_many_classes.py" + (" --quick" if a.quick else "")
    if parts != ["digits", "fifty", "cancer"]:
        cmd += " --parts " + ",".join(parts)
    res = {"command": cmd, "date": time.strftime("%Y-%m-%d", time.gmtime())}
    fns = {"digits": part_digits, "fifty": part_fifty, "cancer": part_cancer}
    for name in parts:
        print(f"== {name}", flush=True)
        res[name] = fns[name](a.quick)
    res["growth"] = part_growth()
    (out / "many_classes.json").write_text(json.dumps(res, indent=1, default=str))
    (out / "many_classes.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
