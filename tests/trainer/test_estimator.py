"""SMOClassifier follows scikit-learn's conventions."""
import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

from microlearn import SMOClassifier
from conftest import problem


def test_check_estimator():
    results = check_estimator(SMOClassifier(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 40


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_check_estimator_dcd(loss):
    # max_iter bounds the passes: some of the checks' data (two features around 100, random labels) are
    # ill-conditioned for coordinate descent with a regularised bias (liblinear stops at max_iter there too),
    # and the API conventions checked here do not depend on convergence.
    results = check_estimator(SMOClassifier(solver="dcd", loss=loss, max_iter=300), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_dcd_is_seeded_and_linear_only():
    Xtr, _, ytr, _ = problem("iris-vv")
    a = SMOClassifier(solver="dcd", random_state=3).fit(Xtr, ytr)
    b = SMOClassifier(solver="dcd", random_state=3).fit(Xtr, ytr)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    with pytest.raises(ValueError, match="solver 'dcd' trains the linear kernel only"):
        SMOClassifier(solver="dcd", kernel="rbf").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="loss 'squared_hinge' needs solver 'dcd'"):
        SMOClassifier(loss="squared_hinge").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="unknown loss"):
        SMOClassifier(solver="dcd", loss="l1").fit(Xtr, ytr)


def test_fitted_attributes_follow_sklearn_naming():
    Xtr, _, ytr, _ = problem("iris3")
    m = SMOClassifier(kernel="rbf").fit(Xtr, ytr)
    assert m.dual_coef_.shape == (2, m.support_vectors_.shape[0])
    assert m.intercept_.shape == (3,) and m.n_iter_.shape == (3,) and m.objective_.shape == (3,)
    assert m.n_support_.sum() == len(m.support_)
    assert np.all(m.objective_ < 0)
    lin = SMOClassifier().fit(Xtr, ytr)
    assert lin.coef_.shape == (3, 4)
    assert not hasattr(m, "coef_")


def test_decision_function_shapes():
    Xtr, Xte, ytr, _ = problem("iris3")
    m = SMOClassifier(kernel="rbf").fit(Xtr, ytr)
    assert m.decision_function(Xte).shape == (len(Xte), 3)
    assert np.array_equal(np.argmax(m.decision_function(Xte), axis=1), m.predict(Xte))
    raw = SMOClassifier(kernel="rbf", decision_function_shape="ovo").fit(Xtr, ytr).decision_function(Xte)
    assert raw.shape == (len(Xte), 3)
    Xb, _, yb, _ = problem("iris")
    mb = SMOClassifier().fit(Xb, yb)
    f = mb.decision_function(Xb)
    assert f.shape == (len(Xb),)
    assert np.array_equal(mb.predict(Xb), mb.classes_[(f >= 0).astype(int)])


def test_simplified_solver_is_seeded():
    Xtr, _, ytr, _ = problem("iris-vv")
    a = SMOClassifier(solver="simplified", random_state=3).fit(Xtr, ytr)
    b = SMOClassifier(solver="simplified", random_state=3).fit(Xtr, ytr)
    c = SMOClassifier(solver="simplified", random_state=4).fit(Xtr, ytr)
    assert np.array_equal(a.dual_coef_, b.dual_coef_)
    assert not (a.dual_coef_.shape == c.dual_coef_.shape and np.array_equal(a.dual_coef_, c.dual_coef_))


@pytest.mark.parametrize("bad, match", [
    (dict(C=0), "C must be > 0"), (dict(C=-1.0), "C must be > 0"), (dict(kernel="cubic"), "unknown kernel"),
    (dict(solver="fast"), "unknown solver"), (dict(gamma=-1.0), "gamma must be > 0"),
    (dict(storage="int4"), "unknown storage"), (dict(multiclass="all"), "unknown multiclass"),
])
def test_bad_parameters(bad, match):
    Xtr, _, ytr, _ = problem("iris")
    with pytest.raises(ValueError, match=match):
        SMOClassifier(**bad).fit(Xtr, ytr)


def test_bad_data():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="NaN"):
        SMOClassifier().fit(np.where(X > 1.5, np.nan, X), y)
    with pytest.raises(ValueError, match="infinity|inf"):
        SMOClassifier().fit(np.where(X > 1.5, np.inf, X), y)
    with pytest.raises(ValueError, match="1 class"):
        SMOClassifier().fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="inconsistent|samples"):
        SMOClassifier().fit(X, y[:10])
    with pytest.raises(ValueError, match="too large for float32"):
        SMOClassifier().fit(X * 1e300, y)
    m = SMOClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :2])
