"""microlearn's own SMOClassifier through the same SVM export path: bit-identical decisions."""
from __future__ import annotations

import numpy as np
import pytest

import microlearn
from export_cases import dataset

smo = pytest.importorskip("microlearn.trainer.estimator")


@pytest.mark.parametrize("kernel", ["linear", "rbf", "poly", "sigmoid"])
@pytest.mark.parametrize("ds,multiclass", [("iris2", "ovo"), ("iris3", "ovo"), ("iris3", "ovr"), ("wine", "ovo")])
def test_smo_bit_exact_host(kernel, ds, multiclass, tmp_path):
    X, y = dataset(ds)
    if ds == "wine":
        X = (X - X.mean(0)) / X.std(0)
        X = X.astype(np.float32)
    kw = dict(gamma=0.05, coef0=1.0) if kernel in ("poly", "sigmoid") else {}
    est = smo.SMOClassifier(kernel=kernel, C=1.0, multiclass=multiclass, **kw).fit(X, y)
    cm = microlearn.compile(est, target="host", name="smo", workdir=tmp_path)
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    D = cm.decision_function(X)
    raw = est._raw_decision(X)
    np.testing.assert_array_equal(D.view(np.uint32), np.asarray(raw, np.float32).view(np.uint32))
