"""Accuracy loss of quantized export (dtype='int16' / 'int8') on the benchmark datasets.

For each dataset (the peer benchmark's split: 75/25 stratified, random_state=0) and model, the
model is fitted on the training rows and exported with calib_X = the training rows. On the test
rows: accuracy of scikit-learn (float64), of the export's arithmetic (the Python mirror, bit-exact
with the generated C: tests/exporter/test_export_quant.py), and agreement with scikit-learn's predictions.
Also the const table bytes of each dtype. Writes benchmarks/results/export_quant.{json,md}.

    python benchmarks/bench_export_quant.py
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from microlearn.exporter import export

OUT = Path(__file__).resolve().parent / "results"
LOADERS = {"cancer": load_breast_cancer, "iris": load_iris, "wine": load_wine, "digits": load_digits}
MODELS = {
    "svc_linear": lambda: SVC(kernel="linear"),
    "svc_rbf": lambda: SVC(kernel="rbf"),
    "svc_rbf_scaled": lambda: make_pipeline(StandardScaler(), SVC(C=10)),
    "linearsvc_scaled": lambda: make_pipeline(StandardScaler(), LinearSVC(max_iter=5000)),
    "logreg": lambda: LogisticRegression(max_iter=5000),
    "sgd_scaled": lambda: make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", random_state=0)),
    "tree": lambda: DecisionTreeClassifier(max_depth=5, random_state=0),
    "forest": lambda: RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0),
    "extratrees_minmax": lambda: make_pipeline(MinMaxScaler(), ExtraTreesClassifier(n_estimators=10, random_state=0)),
    "gnb": lambda: GaussianNB(),
}
DTYPES = ["float32", "int16", "int8"]


def run():
    rows = []
    for ds, load in LOADERS.items():
        X, y = load(return_X_y=True)
        X = X.astype(np.float32)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
        for name, make in MODELS.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = make().fit(Xtr, ytr)
                acc_sk = float(np.mean(est.predict(Xte) == yte))
                row = {"dataset": ds, "model": name, "sklearn_accuracy": acc_sk}
                for dt in DTYPES:
                    rep = export(est, None, name="m", dtype=dt, calib_X=Xtr, check_X=Xte)
                    pred = np.asarray(rep.model.classes)[rep.model.ref_predict(Xte)]
                    row[f"{dt}_accuracy"] = float(np.mean(pred == yte))
                    row[f"{dt}_agreement"] = rep.agreement
                    row[f"{dt}_table_bytes"] = rep.flash_bytes
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def markdown(rows):
    out = ["| dataset | model | sklearn acc. | float32: acc. / agree / tables B | int16: acc. loss / agree / tables B "
           "| int8: acc. loss / agree / tables B |", "|" + "---|" * 6]
    for r in rows:
        cells = []
        for dt in DTYPES:
            loss = 100 * (r["sklearn_accuracy"] - r[f"{dt}_accuracy"])
            first = f"{100 * r[f'{dt}_accuracy']:.1f}%" if dt == "float32" else f"{loss:+.1f} pt"
            cells.append(f"{first} / {100 * r[f'{dt}_agreement']:.1f}% / {r[f'{dt}_table_bytes']}")
        out.append(f"| {r['dataset']} | {r['model']} | {100 * r['sklearn_accuracy']:.1f}% | " + " | ".join(cells) + " |")
    ag = {dt: min(r[f"{dt}_agreement"] for r in rows) for dt in DTYPES}
    loss = {dt: max(r["sklearn_accuracy"] - r[f"{dt}_accuracy"] for r in rows) for dt in DTYPES}
    out.append("")
    out.append("Worst case over all rows: " + ", ".join(
        f"{dt}: agreement {100 * ag[dt]:.1f}%, accuracy loss {100 * loss[dt]:+.1f} pt" for dt in DTYPES) +
        " (accuracy loss = scikit-learn's test accuracy minus the export's; negative: the export is more accurate).")
    return "\n".join(out) + "\n"


def main():
    rows = run()
    OUT.mkdir(exist_ok=True)
    (OUT / "export_quant.json").write_text(json.dumps(rows, indent=1))
    (OUT / "export_quant.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
