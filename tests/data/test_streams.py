"""Drift streams and simulated environments: determinism, shapes, drift points, real concept changes."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from microlearn.data import streams as S
from microlearn.learner.envs import colour, hvac

from compile_c import compile_c, program_output

C_DIR = Path(__file__).resolve().parent / "c"


def fit(X, y):
    return make_pipeline(StandardScaler(), SVC(kernel="rbf", C=10.0)).fit(X, y)


def check_shapes(s, n, d):
    X, y, pts = s
    assert X.shape == (n, d) and X.dtype == np.float32 and np.all(np.isfinite(X))
    assert y.shape == (n,) and np.issubdtype(y.dtype, np.integer) and y.min() >= 0
    assert isinstance(pts, list) and all(isinstance(p, int) and 0 < p < n for p in pts)
    assert s.X is X and s.y is y and s.drift_points is pts


@pytest.mark.parametrize("name", sorted(S.STREAMS))
def test_stream_shapes_and_determinism(name):
    a = S.make(name, seed=3)
    b = S.make(name, seed=3)
    c = S.make(name, seed=4)
    check_shapes(a, 600, 4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and a.drift_points == b.drift_points
    assert not np.array_equal(a.X, c.X)
    assert len(np.unique(a.y)) == a.info["n_classes"]
    # sizes are configurable
    small = S.make(name, n=120, n_features=3, seed=0, **({"start": 40, "width": 40} if name == "gradual_blend" else
                                                          {"drift_points": (60,)}))
    check_shapes(small, 120, 3)


def test_drift_points_where_stated():
    assert S.rotating_hyperplane().drift_points == [200, 400]
    assert S.switched_means(drift_points=(100, 250, 500)).drift_points == [100, 250, 500]
    assert S.sudden_concept().drift_points == [300]
    assert S.label_swap(drift_points=(150,)).drift_points == [150]
    g = S.gradual_blend(start=150, width=100)
    assert g.drift_points == [150] and g.info["windows"] == [(150, 250)]
    assert not g.info["concept"][:150].any() and g.info["concept"][250:].all()
    s = S.switched_means()
    assert list(np.flatnonzero(np.diff(s.info["concept"])) + 1) == s.drift_points
    with pytest.raises(ValueError):
        S.switched_means(drift_points=(0,))
    with pytest.raises(ValueError):
        S.rotating_hyperplane(drift_points=(200, 250), width=100)
    with pytest.raises(ValueError):
        S.make("nope")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(S.STREAMS))
def test_concept_really_changes(name, seed):
    """A model of the concept before the first drift is good on held-out samples of that
    concept and clearly worse once the drift (window) is over."""
    s = S.make(name, seed=seed)
    X, y, pts = s
    p = pts[0]
    end_window = dict(s.info.get("windows", [(p, p)]))[p] if "windows" in s.info else p
    after_end = pts[1] if len(pts) > 1 else len(y)
    clf = fit(X[:p - 60], y[:p - 60])
    before = clf.score(X[p - 60:p], y[p - 60:p])
    after = clf.score(X[end_window:after_end], y[end_window:after_end])
    assert before > 0.8, (name, before)
    assert after < before - 0.25, (name, before, after)


def test_rotating_hyperplane_is_gradual():
    s = S.rotating_hyperplane(noise=0.0, seed=2)
    nrm = s.info["normals"]
    steps = np.linalg.norm(np.diff(nrm, axis=0), axis=1)
    assert steps.max() < 0.05  # no jump: the boundary turns a little per sample
    assert np.allclose(nrm[:200], nrm[0]) and not np.allclose(nrm[250], nrm[0])


def test_gradual_blend_mixes():
    g = S.gradual_blend(seed=0)
    frac_b = [g.info["concept"][a:a + 50].mean() for a in (200, 275, 350)]
    assert frac_b[0] < frac_b[1] < frac_b[2] and 0 < frac_b[0] and frac_b[2] < 1


def test_benchmark_has_abrupt_and_gradual():
    b = S.benchmark(seed=0)
    kinds = {s.info["kind"] for s in b.values()}
    assert {"abrupt", "gradual"} <= kinds and len(b) >= 3


# ----------------------------------------------------------------- HVAC

def test_hvac_stream_shapes_determinism_drifts():
    a = hvac.comfort_stream(seed=5)
    b = hvac.comfort_stream(seed=5)
    check_shapes(a, 600, 4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, hvac.comfort_stream(seed=6).X)
    # season change at mid-transition (day 5) and new occupant at day 8.5, 48 steps a day
    assert a.drift_points == [240, 408]
    assert set(np.unique(a.y)) == {hvac.COLD, hvac.OK, hvac.HOT}
    for lo, hi in zip([0] + a.drift_points, a.drift_points + [600]):
        assert len(np.unique(a.y[lo:hi])) == 3
    assert 14 < a.X[:, 0].min() and a.X[:, 0].max() < 31       # indoor temperature in degC
    assert a.X[:, 2][:100].mean() < a.X[:, 2][300:400].mean() - 10  # winter -> summer outdoors


def test_hvac_preference_really_drifts():
    """The occupants disagree: the winter occupant's labels for the post-drift states
    are wrong on many samples, and a classifier of winter votes loses accuracy."""
    s = hvac.comfort_stream(seed=0)
    X, y, (p1, p2) = s
    cfg = hvac.HVACConfig()
    winter = np.array([cfg.winter.comfort(t, rh) for t, rh in X[:, :2]])
    assert np.mean(winter[:p1] == y[:p1]) == 1.0
    assert np.mean(winter[p1:p2] != y[p1:p2]) > 0.25
    summer = np.array([cfg.summer.comfort(t, rh) for t, rh in X[:, :2]])
    assert np.mean(summer[p2:] != y[p2:]) > 0.2
    # a classifier on (T_in, RH) trained on winter votes of several seeds
    tr = [hvac.comfort_stream(seed=k) for k in (1, 2, 3)]
    Xw = np.vstack([t.X[:t.drift_points[0], :2] for t in tr])
    yw = np.concatenate([t.y[:t.drift_points[0]] for t in tr])
    clf = fit(Xw, yw)
    before = clf.score(X[:p1, :2], y[:p1])
    after = clf.score(X[p1:p2, :2], y[p1:p2])
    assert before > 0.9 and after < before - 0.2


def test_hvac_closed_loop():
    env = hvac.HVACEnv(seed=1)
    oracle = hvac.run_closed_loop(lambda x: env.true_comfort(), env=env)
    idle = hvac.run_closed_loop(lambda x: hvac.OK, seed=1)
    assert oracle["comfort_ok"] > 0.6 and idle["comfort_ok"] < 0.3
    # deterministic stepping
    e1, e2 = hvac.HVACEnv(seed=9), hvac.HVACEnv(seed=9)
    for a in [hvac.HEAT] * 5 + [hvac.OFF] * 5 + [hvac.COOL] * 5:
        o1, v1, _ = e1.step(a)
        o2, v2, _ = e2.step(a)
        assert np.array_equal(o1, o2) and v1 == v2
    e = hvac.HVACEnv(seed=0, t_in0=18.0)
    t0 = e.t_in
    for _ in range(4):
        e.step(hvac.HEAT)
    assert e.t_in > t0 + 2
    with pytest.raises(ValueError):
        e.step(7)
    votes = []
    hvac.run_closed_loop(lambda x: hvac.OK, n=50, seed=2, learn=lambda x, v: votes.append(v))
    assert len(votes) == 50 and set(votes) <= {0, 1, 2}


# ----------------------------------------------------------------- colour sensor

def test_colour_stream_new_class_and_determinism():
    s = colour.colour_stream(seed=0)
    check_shapes(s, 600, 4)
    X, y, pts = s
    assert pts == [300] and s.info["classes"] == ("red", "green", "blue", "yellow")
    assert y[:300].max() == 2 and y[300] == 3 and np.sum(y[300:] == 3) > 50
    assert np.array_equal(X, colour.colour_stream(seed=0).X)
    assert not np.array_equal(X, colour.colour_stream(seed=1).X)
    assert X.min() >= 0 and X.max() <= 32767 and np.all(X == np.rint(X))
    # a model of the first colours cannot name the new one
    clf = fit(X[:250], y[:250])
    assert clf.score(X[250:300], y[250:300]) > 0.95
    assert clf.score(X[300:], y[300:]) < 0.85
    two = colour.colour_stream(n=400, new_colours=("orange", "purple"), new_at=(100, 250), seed=2)
    assert two.drift_points == [100, 250] and two.y[:100].max() == 2 and two.y[100:250].max() == 3


def test_colour_ambient_drift():
    s = colour.colour_stream(seed=0, ambient_drift=0.3)
    amb = s.info["ambient"]
    assert amb.max() / amb.min() > 1.3
    red = s.y == 0
    r = s.X[red, 0]
    t = np.flatnonzero(red)
    hi, lo = r[np.argmax(amb[t])], r[np.argmin(amb[t])]
    assert hi > 1.2 * lo
    flat = colour.colour_stream(seed=0, ambient_drift=0.0)
    assert np.ptp(flat.info["ambient"]) == 0


def test_colour_export_c_table_compiles(tmp_path):
    s = colour.colour_stream(n=60, new_at=(30,), seed=0)
    src = colour.export_c_table(s.X, s.y, classes=s.info["classes"], drift_points=s.drift_points)
    assert "static const int16_t colour_readings[60][4]" in src and "COLOUR_READINGS_CLASS_YELLOW 3" in src
    assert src.count("{") - 2 == 60  # one brace per row + the two table braces
    # c/colour_table_check.c includes the table as colour_readings.h and checks two entries against these
    (tmp_path / "colour_readings.h").write_text(src)
    check = dict(include_dirs=[tmp_path], defines={"FIRST_READING": int(s.X[0, 0]), "LAST_LABEL": int(s.y[59])})
    if shutil.which("cc"):
        program_output(C_DIR / "colour_table_check.c", tmp_path, **check)   # exits 0: the entries match
    if shutil.which("avr-gcc"):
        compile_c(C_DIR / "colour_table_check.c", tmp_path / "colour_table_check.o", board="uno", stage="object",
                  **check)
    with pytest.raises(ValueError):
        colour.export_c_table(np.array([[40000.0]]))
    with pytest.raises(ValueError):
        colour.export_c_table(s.X, name="1bad")
