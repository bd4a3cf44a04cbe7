"""Labelled data streams with known drift points, for the self-learning loop.

Every generator is deterministic for a given ``seed`` and returns a `Stream`, a
3-tuple ``(X, y, drift_points)`` (``X`` float32 of shape (n, d), ``y`` int64 labels
0..k-1, ``drift_points`` the sample indices where a new concept starts) that also
carries ``.info`` (name, per-sample concept id, gradual windows...)::

    X, y, drift_points = rotating_hyperplane(seed=1)
    s = switched_means(seed=1); s.info["concept"]   # concept id of each sample

Defaults suit a device sample store of ~60 samples and 4 features: 600 samples
(ten store refills), drifts at 200 and 400 (or one drift at 300).

Kinds of drift:
  rotating_hyperplane  gradual: the class boundary turns steadily inside each drift window
  switched_means       abrupt: the class means jump (covariate shift + new concept)
  sudden_concept       abrupt: the labelling function is replaced (linear -> ball -> linear)
  label_swap           abrupt: same inputs, classes permuted (pure concept change)
  gradual_blend        gradual: concept A samples are replaced by concept B ones with a
                       probability rising linearly over a window
`benchmark()` returns a standard set of them for the drift benchmark.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


class Stream(tuple):
    """(X, y, drift_points), with extra facts in `.info`."""

    def __new__(cls, X, y, drift_points, info=None):
        self = super().__new__(cls, (X, y, list(drift_points)))
        self.info = dict(info or {})
        return self

    @property
    def X(self) -> np.ndarray:
        return self[0]

    @property
    def y(self) -> np.ndarray:
        return self[1]

    @property
    def drift_points(self) -> list[int]:
        return self[2]


def _check(n: int, n_features: int, drift_points: Sequence[int]) -> list[int]:
    if n < 1 or n_features < 1:
        raise ValueError("n and n_features must be >= 1")
    pts = sorted(int(p) for p in drift_points)
    if any(p <= 0 or p >= n for p in pts) or len(set(pts)) != len(pts):
        raise ValueError(f"drift points must be distinct and inside (0, {n}): {list(drift_points)}")
    return pts


def _concept_ids(n: int, pts: Sequence[int]) -> np.ndarray:
    c = np.zeros(n, dtype=np.int64)
    for p in pts:
        c[p:] += 1
    return c


def _unit(rng: np.random.Generator, d: int) -> np.ndarray:
    v = rng.standard_normal(d)
    return v / np.linalg.norm(v)


def _derangement(rng: np.random.Generator, k: int) -> np.ndarray:
    """A permutation with no fixed point (every class moves)."""
    if k < 2:
        return np.arange(k)
    while True:
        p = rng.permutation(k)
        if np.all(p != np.arange(k)):
            return p


def rotating_hyperplane(n: int = 600, n_features: int = 4, *, drift_points: Sequence[int] = (200, 400),
                        width: int = 100, angle: float = np.pi / 2, noise: float = 0.05,
                        seed: int = 0) -> Stream:
    """Gradual drift: y = [w(t) . x > 0] for x uniform in [-1, 1]^d; during the `width`
    samples after each drift point the normal w turns by `angle` (radians) in a random
    plane, steadily, then stays (info['windows']). `noise`: fraction of labels flipped.
    Near an angle of pi/2 a model of the old boundary is right on only ~half the inputs."""
    pts = _check(n, n_features, drift_points)
    if n_features < 2:
        raise ValueError("a rotating hyperplane needs n_features >= 2")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, n_features))
    if width < 1 or any(q - p < width for p, q in zip(pts, pts[1:] + [n + width])):
        raise ValueError("each rotation window (width) must end before the next drift point")
    ws, us = [_unit(rng, n_features)], []
    for _ in pts:  # rotate by `angle` towards a random direction orthogonal to the current normal
        w = ws[-1]
        u = _unit(rng, n_features)
        u -= (u @ w) * w
        u /= np.linalg.norm(u)
        us.append(u)
        ws.append(np.cos(angle) * w + np.sin(angle) * u)
    concept = _concept_ids(n, pts)
    normals = np.empty((n, n_features))
    for i in range(n):
        c = concept[i]
        if c == 0:
            normals[i] = ws[0]
        else:
            frac = min(1.0, (i - pts[c - 1] + 1) / width)
            normals[i] = np.cos(angle * frac) * ws[c - 1] + np.sin(angle * frac) * us[c - 1]
    segments = [(p, min(p + width, n)) for p in pts]
    y = (np.einsum("ij,ij->i", X, normals) > 0).astype(np.int64)
    flip = rng.random(n) < noise
    y[flip] = 1 - y[flip]
    return Stream(X.astype(np.float32), y, pts, {
        "name": "rotating_hyperplane", "kind": "gradual", "n_classes": 2, "windows": segments,
        "concept": concept, "normals": normals.astype(np.float32)})


def _gaussian_classes(rng, n, means, spread):
    k, d = means.shape
    y = rng.integers(0, k, size=n)
    X = means[y] + spread * rng.standard_normal((n, d))
    return X, y.astype(np.int64)


def switched_means(n: int = 600, n_features: int = 4, n_classes: int = 3, *,
                   drift_points: Sequence[int] = (200, 400), separation: float = 3.0, spread: float = 1.0,
                   seed: int = 0) -> Stream:
    """Abrupt drift: Gaussian classes (std `spread`) whose means jump at each drift point.
    Each class moves near where another class used to be (a derangement, plus a common
    shift and jitter), so a model of the previous concept misclassifies most samples."""
    pts = _check(n, n_features, drift_points)
    if n_classes < 2:
        raise ValueError("n_classes must be >= 2")
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_classes, n_features))
    means *= separation / np.sqrt(n_features)
    # spread the classes: scale so the closest pair is `separation` apart
    dist = np.linalg.norm(means[:, None] - means[None], axis=-1) + np.eye(n_classes) * 1e9
    means *= separation / dist.min()
    all_means = [means.copy()]
    X = np.empty((n, n_features))
    y = np.empty(n, dtype=np.int64)
    start = 0
    for p in pts + [n]:
        X[start:p], y[start:p] = _gaussian_classes(rng, p - start, means, spread)
        start = p
        if p < n:
            shift = _unit(rng, n_features) * 0.3 * separation
            jitter = rng.standard_normal(means.shape) * 0.1 * separation
            means = means[_derangement(rng, n_classes)] + shift + jitter
            all_means.append(means.copy())
    return Stream(X.astype(np.float32), y, pts, {
        "name": "switched_means", "kind": "abrupt", "n_classes": n_classes, "concept": _concept_ids(n, pts),
        "means": [m.astype(np.float32) for m in all_means]})


def sudden_concept(n: int = 600, n_features: int = 4, *, drift_points: Sequence[int] = (300,),
                   noise: float = 0.02, seed: int = 0) -> Stream:
    """Abrupt drift of the labelling function on an unchanged input distribution
    (x uniform in [-1, 1]^d): concepts alternate between a random hyperplane through
    the origin and a random ball holding about half the samples (non-linear: RBF territory)."""
    pts = _check(n, n_features, drift_points)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, n_features))
    y = np.empty(n, dtype=np.int64)
    concepts = []
    start = 0
    for c, p in enumerate(pts + [n]):
        seg = X[start:p]
        if c % 2 == 0:
            w = _unit(rng, n_features)
            y[start:p] = seg @ w > 0
            concepts.append(("hyperplane", w.astype(np.float32)))
        else:
            centre = rng.uniform(-0.3, 0.3, n_features)
            # radius holding ~half of a reference sample from the same distribution
            ref = rng.uniform(-1.0, 1.0, size=(4000, n_features))
            r = float(np.median(np.linalg.norm(ref - centre, axis=1)))
            y[start:p] = np.linalg.norm(seg - centre, axis=1) < r
            concepts.append(("ball", centre.astype(np.float32), r))
        start = p
    flip = rng.random(n) < noise
    y[flip] = 1 - y[flip]
    return Stream(X.astype(np.float32), y, pts, {
        "name": "sudden_concept", "kind": "abrupt", "n_classes": 2, "concept": _concept_ids(n, pts),
        "concepts": concepts})


def label_swap(n: int = 600, n_features: int = 4, n_classes: int = 3, *, drift_points: Sequence[int] = (300,),
               separation: float = 3.0, spread: float = 1.0, seed: int = 0) -> Stream:
    """Abrupt pure concept change: the inputs keep their distribution (fixed Gaussian
    classes), but at each drift point the labels are permuted with no class keeping its
    label (the user now calls 'B' what was 'A')."""
    pts = _check(n, n_features, drift_points)
    base = switched_means(n, n_features, n_classes, drift_points=(), separation=separation, spread=spread,
                          seed=seed)
    rng = np.random.default_rng([seed, 1])
    y = base.y.copy()
    perm = np.arange(n_classes)
    perms = [perm.copy()]
    for p in pts:
        perm = perm[_derangement(rng, n_classes)]
        y[p:] = perm[base.y[p:]]
        perms.append(perm.copy())
    return Stream(base.X, y, pts, {
        "name": "label_swap", "kind": "abrupt", "n_classes": n_classes, "concept": _concept_ids(n, pts),
        "permutations": perms})


def gradual_blend(n: int = 600, n_features: int = 4, n_classes: int = 3, *, start: int = 200, width: int = 200,
                  separation: float = 3.0, spread: float = 1.0, seed: int = 0) -> Stream:
    """Gradual drift from concept A to concept B (two `switched_means` concepts): before
    `start` every sample comes from A, after `start + width` every one from B, and in
    between from B with probability (i - start) / width. drift_points = [start];
    info['windows'] = [(start, start + width)], info['concept'] = 0/1 per sample."""
    if width < 1 or start < 1 or start + width > n:
        raise ValueError("need 0 < start and start + width <= n")
    pts = _check(n, n_features, [start])
    two = switched_means(2 * n, n_features, n_classes, drift_points=(n,), separation=separation, spread=spread,
                         seed=seed)
    XA, yA, XB, yB = two.X[:n], two.y[:n], two.X[n:], two.y[n:]
    rng = np.random.default_rng([seed, 2])
    i = np.arange(n)
    p_b = np.clip((i - start + 1) / width, 0.0, 1.0)
    from_b = rng.random(n) < p_b
    X = np.where(from_b[:, None], XB, XA)
    y = np.where(from_b, yB, yA)
    return Stream(X.astype(np.float32), y.astype(np.int64), pts, {
        "name": "gradual_blend", "kind": "gradual", "n_classes": n_classes, "windows": [(start, start + width)],
        "concept": from_b.astype(np.int64), "means": two.info["means"]})


STREAMS: dict[str, Callable[..., Stream]] = {
    "rotating_hyperplane": rotating_hyperplane,
    "switched_means": switched_means,
    "sudden_concept": sudden_concept,
    "label_swap": label_swap,
    "gradual_blend": gradual_blend,
}


def make(name: str, **kwargs) -> Stream:
    """A stream by name (see STREAMS)."""
    try:
        return STREAMS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown stream {name!r}; choose from {sorted(STREAMS)}") from None


def benchmark(seed: int = 0, n: int = 600, n_features: int = 4) -> dict[str, Stream]:
    """The drift benchmark set: every stream above with its defaults."""
    return {name: fn(n=n, n_features=n_features, seed=seed) for name, fn in STREAMS.items()}
