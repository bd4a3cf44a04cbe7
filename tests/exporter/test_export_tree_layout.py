"""Record node tables (mlrn_tree_rec_leaf, the float32 tree/forest default): decisions identical to
scikit-learn and bit for bit to the Python mirror, on host, uno (the inline-asm walk) and nrf52840
(the C walk), at and next to every threshold, with negative inputs and thresholds (the sign paths
of the key compare), and C99/C++ clean with the strict warning flags."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

import microlearn
from export_cases import dataset, fitted
from microlearn.exporter import lower
from microlearn.targets import TargetUnavailable, get_target

STRICT = ["-Wall", "-Wextra", "-Werror", "-Wdouble-promotion", "-Wconversion"]


def _target_or_skip(name):
    try:
        get_target(name).check()
    except TargetUnavailable as exc:
        pytest.skip(f"{name}: {exc}")


def centered(ds):
    """The dataset shifted to mean 0: negative inputs and negative thresholds."""
    X, y = dataset(ds)
    return (X - X.mean(axis=0)).astype(np.float32), y


def fit(kind, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "tree":
            return DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
        if kind == "tree_impure":      # impure leaves: leaf index -> class / probability tables
            return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
        if kind == "forest_pure":      # full depth: integer votes
            return RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        return RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0).fit(X, y)


def hard_points(est, X, limit=240):
    """Rows with one feature at a threshold, 1 ulp either side, and 2^12 ulps either side (the
    high 16 bits of the key equal, the low halves deciding: the walk's slow path), from random
    rows; plus signed zeros (the thresholds are never -0)."""
    m = lower(est, name="t")
    feats, thr = np.asarray(m.info["features"]), np.asarray(m.info["thresholds"], np.float32)
    if len(feats) == 0:
        return np.empty((0, X.shape[1]), np.float32)
    rng = np.random.default_rng(0)
    rows = []
    for i in rng.choice(len(feats), size=min(limit // 8, len(feats)), replace=False):
        base = X[rng.integers(len(X))].copy()
        t = thr[i]
        bits = np.array([t], np.float32).view(np.int32)[0]
        for v in (t, np.nextafter(t, np.float32(np.inf)), np.nextafter(t, np.float32(-np.inf)),
                  np.array([bits + 4096], np.int32).view(np.float32)[0],
                  np.array([bits - 4096], np.int32).view(np.float32)[0], np.float32(0.0), np.float32(-0.0)):
            if np.isfinite(v):
                r = base.copy()
                r[feats[i]] = v
                rows.append(r)
    return np.asarray(rows, dtype=np.float32)


def check(cm, est, X, n_proba=40):
    m = cm.model
    assert "mlrn_tree_rec_leaf" in cm.header and re.search(r"_nodes\[\d+\] MLRN_FLASH", cm.header)
    rows = np.concatenate([X, hard_points(est, X)])
    got = cm.predict_index(rows)
    np.testing.assert_array_equal(got, m.ref_predict(rows))
    np.testing.assert_array_equal(cm.classes_[got], est.predict(rows))
    P = cm.predict_proba(rows[:n_proba])
    np.testing.assert_array_equal(P.view(np.uint32), m.ref_proba(rows[:n_proba]).view(np.uint32))
    np.testing.assert_allclose(P, est.predict_proba(rows[:n_proba]), atol=1e-6)


def test_records_are_default_and_mirror_walks_the_bytes():
    """The mirror decodes the same bytes the C reads: a corrupted threshold changes its answers."""
    est = fitted("tree", "iris3")           # pure leaves: the leaf value is the class
    m = lower(est, name="t")
    assert [t.suffix for t in m.tables] == ["nodes"]
    nodes = m.table("nodes").values
    assert len(nodes) == 7 * m.extra_defines["N_NODES"] + 3 * (m.extra_defines["N_NODES"] + 1)
    X, _ = dataset("iris3")
    from microlearn.exporter.tree import _record_walker
    walk = _record_walker(nodes)
    np.testing.assert_array_equal(walk(X, 0), m.ref_predict(X))
    bad = nodes.copy()
    bad[3:7] = np.frombuffer(np.int32(-2 ** 31).tobytes(), np.uint8)   # root: key(t) = min: all go right
    assert not np.array_equal(_record_walker(bad)(X, 0), m.ref_predict(X))


@pytest.mark.parametrize("kind", ["tree", "tree_impure", "forest", "forest_pure"])
@pytest.mark.parametrize("ds", ["iris3", "wine", "cancer", "digits10"])
def test_records_host(kind, ds, tmp_path):
    for Xy, tag in ((dataset(ds), "raw"), (centered(ds), "centered")):
        X, y = Xy
        est = fit(kind, X, y)
        cm = microlearn.compile(est, target="host", name="m", workdir=tmp_path / tag)
        check(cm, est, X)


def test_records_special_values_host(tmp_path):
    """inf, -inf, signed zeros, NaN of either sign: C and mirror agree (scikit-learn rejects them).
    +inf goes right and -inf left at every node, as in float32 x <= t."""
    X, y = centered("wine")
    est = fit("forest", X, y)
    cm = microlearn.compile(est, target="host", name="m", workdir=tmp_path)
    rng = np.random.default_rng(3)
    rows = X[rng.integers(len(X), size=60)].copy()
    specials = np.array([np.inf, -np.inf, 0.0, -0.0, np.nan, -np.nan], np.float32)
    rows[np.arange(60)[:, None], rng.integers(X.shape[1], size=(60, 3))] = rng.choice(specials, size=(60, 3))
    np.testing.assert_array_equal(cm.predict_index(rows), cm.model.ref_predict(rows))
    finite = np.where(np.isnan(rows), 0.0, rows).astype(np.float32)
    finite = np.where(np.isinf(finite), np.sign(finite) * np.float32(3e38), finite).astype(np.float32)
    np.testing.assert_array_equal(cm.classes_[cm.predict_index(finite)], est.predict(finite))


def test_many_features_fall_back_to_tables(tmp_path):
    """More than 64 inputs: the feature byte cannot hold 4*feature; the separate tables are used."""
    X, y = dataset("digits2")
    X = np.hstack([X, X[:, :3] * 0.5]).astype(np.float32)
    est = fit("forest", X, y)
    cm = microlearn.compile(est, target="host", name="m", workdir=tmp_path)
    assert "mlrn_tree_rec_leaf" not in cm.header and "m_feature" in cm.header
    got = cm.predict_index(X)
    np.testing.assert_array_equal(got, cm.model.ref_predict(X))
    np.testing.assert_array_equal(cm.classes_[got], est.predict(X))


@pytest.mark.parametrize("language", ["c", "c++"])
def test_records_strict_flags_host(language, tmp_path):
    X, y = centered("cancer")
    for kind in ("tree", "tree_impure", "forest", "forest_pure"):
        est = fit(kind, X, y)
        cm = microlearn.compile(est, target="host", name="m", workdir=tmp_path / kind, language=language,
                                cflags=STRICT)
        np.testing.assert_array_equal(cm.predict_index(X[:20]), cm.model.ref_predict(X[:20]))


@pytest.mark.avr
@pytest.mark.parametrize("language", ["c", "c++"])
@pytest.mark.parametrize("kind", ["tree", "tree_impure", "forest", "forest_pure"])
def test_records_uno(kind, language, tmp_path):
    """The AVR inline-asm walk: every path (left, right, leaf, negative x, equal high halves)."""
    _target_or_skip("uno")
    for ds in ("wine", "iris3"):
        X, y = centered(ds)
        est = fit(kind, X, y)
        cm = microlearn.compile(est, target="uno", name="m", workdir=tmp_path / ds, language=language,
                                cflags=STRICT)
        check(cm, est, X[::2], n_proba=8)


@pytest.mark.avr
def test_records_uno_raw_cancer(tmp_path):
    _target_or_skip("uno")
    X, y = dataset("cancer")
    est = fit("tree", X, y)
    cm = microlearn.compile(est, target="uno", name="m", workdir=tmp_path)
    check(cm, est, X[::3], n_proba=8)


@pytest.mark.cortexm
@pytest.mark.parametrize("kind", ["tree", "tree_impure", "forest", "forest_pure"])
def test_records_nrf52840(kind, tmp_path):
    _target_or_skip("nrf52840")
    X, y = centered("wine")
    est = fit(kind, X, y)
    cm = microlearn.compile(est, target="nrf52840", name="m", workdir=tmp_path, cflags=STRICT)
    check(cm, est, X[::2], n_proba=8)


@pytest.mark.slow
@pytest.mark.avr
@pytest.mark.parametrize("ds", ["cancer", "digits10", "digits2"])
@pytest.mark.parametrize("kind", ["tree", "forest"])
def test_records_uno_slow(kind, ds, tmp_path):
    _target_or_skip("uno")
    for Xy, tag in ((dataset(ds), "raw"), (centered(ds), "centered")):
        X, y = Xy
        est = fit(kind, X, y)
        cm = microlearn.compile(est, target="uno", name="m", workdir=tmp_path / tag)
        check(cm, est, X[::4], n_proba=8)


@pytest.mark.slow
@pytest.mark.cortexm
@pytest.mark.parametrize("ds", ["cancer", "digits10"])
@pytest.mark.parametrize("kind", ["tree", "forest"])
def test_records_nrf52840_slow(kind, ds, tmp_path):
    _target_or_skip("nrf52840")
    X, y = centered(ds)
    est = fit(kind, X, y)
    cm = microlearn.compile(est, target="nrf52840", name="m", workdir=tmp_path)
    check(cm, est, X[::4], n_proba=8)
