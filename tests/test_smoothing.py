"""Shortcutting, spline smoothing and resampling.

Oracles and tolerances:
- shortcut: a plain-Python O(m^2) dynamic programme over the same candidate segments
  (each integrated in pieces with gg.curve_length) gives the same optimum, 1e-12
  relative; curve_length(metric, result.points) equals result.length to 1e-12;
  under constant metrics the result is the segment [z0, z1] with its closed-form cost;
- spline: exact endpoints (bitwise), a straight input stays on its line (1e-12), an
  interpolating spline through 9 points of a circular arc stays within 1e-3 of the
  circle (cubic interpolation error ~ h^4 / R^3);
- resample_polyline keeps every vertex bitwise and puts the rest on the segments (1e-12).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import graphgeo as gg
from graphgeo.curves import Path
from graphgeo.exceptions import InvalidInputError
from graphgeo.curves import resample_polyline, shortcut, spline


def hyperbolic(d):
    return gg.FieldMetric(lambda z: np.eye(z.shape[1])[None] / z[:, -1, None, None] ** 2, d)


def hyp_dist(a, b):
    return np.arccosh(1 + np.sum((a - b) ** 2, axis=-1) / (2 * a[..., -1] * b[..., -1]))


@pytest.fixture(scope="module")
def hgraph():
    rng = np.random.default_rng(7)
    P = rng.uniform(0, 1, (1500, 2))
    P[:, 0] = 4 * P[:, 0] - 2
    P[:, 1] = 0.3 + 2 * P[:, 1]
    m = hyperbolic(2)
    return m, gg.GeodesicGraph.build(P, m, k=10)


def reference_shortcut(metric, pts):
    """Textbook DP over i < j with each chord split into pieces no longer than the longest edge."""
    m = len(pts)
    h = np.linalg.norm(np.diff(pts, axis=0), axis=1).max()
    best = np.full(m, np.inf)
    best[0] = 0.0
    for j in range(1, m):
        for i in range(j):
            p = max(int(np.ceil(np.linalg.norm(pts[j] - pts[i]) / h * (1 - 1e-12))), 1)
            s = np.linspace(0, 1, p + 1)[:, None]
            c = gg.curve_length(metric, pts[i] + s * (pts[j] - pts[i]))
            best[j] = min(best[j], best[i] + c)
    return best[-1]


def test_shortcut_matches_reference_dp_and_is_never_longer(hgraph):
    m, g = hgraph
    rng = np.random.default_rng(1)
    for _ in range(3):
        i, j = (int(v) for v in rng.integers(0, g.n_nodes, 2))
        p = g.shortest_path(i, j)
        sc = shortcut(m, p)
        assert sc.length <= p.length * (1 + 1e-12)
        assert_allclose(sc.length_before, p.length, rtol=1e-12)
        assert_allclose(sc.length, gg.curve_length(m, sc.points), rtol=1e-12)
        assert_allclose(sc.length, reference_shortcut(m, p.points), rtol=1e-12)
        assert sc.index[0] == 0 and sc.index[-1] == len(p) - 1
        assert_array_equal(sc.points[[0, -1]], p.points[[0, -1]])
        assert_array_equal(sc.vertices, p.points[sc.index])
        # much closer to the true distance than the graph path
        true = hyp_dist(g.points[i], g.points[j])
        assert sc.length - true < 0.5 * (p.length - true)


def test_shortcut_under_constant_metrics_is_the_segment(rng):
    pts = np.cumsum(rng.normal(size=(12, 3)), axis=0)
    A = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]])
    w = np.array([0.2, -0.1, 0.05])
    D = pts[-1] - pts[0]
    for metric, exact in [(gg.Euclidean(3), np.linalg.norm(D)),
                          (gg.ConstantMetric(A), np.sqrt(D @ A @ D)),
                          (gg.Randers(gg.ConstantMetric(A), w), np.sqrt(D @ A @ D) + w @ D)]:
        sc = shortcut(metric, pts)
        assert_array_equal(sc.index, [0, 11])
        assert_array_equal(sc.points, pts[[0, -1]])
        assert_allclose(sc.length, exact, rtol=1e-12)


def test_shortcut_is_direction_aware():
    # a one-form pushing along +x: reversed polylines cost differently, both are shortcut
    base = hyperbolic(2)
    m = gg.Randers(base, np.array([0.3, 0.0]))
    t = np.linspace(0, 1, 15)
    pts = np.c_[2 * t - 1, 1 + 0.3 * np.sin(np.pi * t)]
    f = shortcut(m, pts)
    b = shortcut(m, pts[::-1])
    assert_allclose(f.length - b.length, 0.3 * 2 * 2, rtol=1e-6)  # exact 1-form: 2 <w, b - a>


def test_shortcut_memory_budget_groups_and_narrows(hgraph, monkeypatch):
    """A tiny budget splits a batch into several kernel calls and narrows long spans."""
    import graphgeo.curves.smoothing as sm

    m, g = hgraph
    paths = [g.shortest_path(int(i), int(j)).points for i, j in [(0, 5), (10, 900), (3, 1200)]]
    full = sm._shortcut_batch(m, paths, 5)
    monkeypatch.setattr(sm, "_MAX_FLOATS", 4 * 2 * 40)  # 40 pieces per call
    small = sm._shortcut_batch(m, paths, 5)
    for f, s, p in zip(full, small, paths):
        assert f.length <= s.length <= s.length_before * (1 + 1e-12)
        assert_allclose(s.length_before, f.length_before, rtol=1e-12)
        assert_allclose(s.length, gg.curve_length(m, s.points, quadrature=5), rtol=1e-12)
        assert_array_equal(s.points[[0, -1]], p[[0, -1]])


def test_shortcut_options_and_bad_input(hgraph):
    m, g = hgraph
    p = g.shortest_path(0, 5)
    narrow = shortcut(m, p, max_span=1)
    assert_array_equal(narrow.index, np.arange(len(p)))
    assert_allclose(narrow.length, p.length, rtol=1e-12)
    one = shortcut(m, p.points[:1])
    assert one.length == 0.0 and len(one.points) == 1
    with pytest.raises(InvalidInputError, match="max_span must be in"):
        shortcut(m, p, max_span=0)
    with pytest.raises(InvalidInputError, match="metric must be a graphgeo metric"):
        shortcut(None, p)
    with pytest.raises(InvalidInputError, match="dimension 3 but the metric is defined on R\\^2"):
        shortcut(m, np.zeros((4, 3)))


def test_spline_endpoints_line_and_arc(rng):
    a, b = np.array([0.0, 1.0, 2.0]), np.array([3.0, -1.0, 0.5])
    t = np.sort(rng.uniform(size=7))
    line = np.vstack([a, a + t[:, None] * (b - a), b])
    s = spline(line, 50)
    assert s.shape == (50, 3)
    assert_array_equal(s[[0, -1]], [a, b])
    u = (s - a) @ (b - a) / ((b - a) @ (b - a))
    assert_allclose(s, a + u[:, None] * (b - a), atol=1e-12)
    assert np.all(np.diff(u) > 0)
    # a quarter circle through 9 points
    th = np.linspace(0, np.pi / 2, 9)
    arc = np.c_[np.cos(th), np.sin(th)]
    s = spline(arc, 200)
    assert_allclose(np.linalg.norm(s, axis=1), 1.0, atol=1e-3)
    # the spline passes through its vertices: dense samples come within 1e-3 of each
    dmin = np.min(np.linalg.norm(s[:, None] - arc[None], axis=2), axis=0)
    assert np.all(dmin < 1e-2)


def test_spline_smoothing_metric_parametrisation_and_duplicates(rng):
    th = np.linspace(0, np.pi / 2, 15)
    noisy = np.c_[np.cos(th), np.sin(th)] + 0.01 * rng.normal(size=(15, 2))
    noisy[[0, -1]] = [[1, 0], [0, 1]]
    s = spline(noisy, 40, smoothing=1.0)
    assert_array_equal(s[[0, -1]], noisy[[0, -1]])
    assert np.max(np.abs(np.linalg.norm(s, axis=1) - 1)) < 0.03
    m = hyperbolic(2)
    pts = np.c_[np.linspace(-1, 1, 6), np.linspace(0.5, 1.5, 6)]
    sm = spline(pts, 30, parametrization="metric", metric=m)
    assert_array_equal(sm[[0, -1]], pts[[0, -1]])
    # equal metric steps bunch points where y is small (the metric is large there)
    steps = np.linalg.norm(np.diff(sm, axis=0), axis=1)
    assert steps[0] < steps[-1]
    dup = np.vstack([pts[:3], pts[2:3], pts[3:]])
    assert_allclose(spline(dup, 30), spline(pts, 30), atol=1e-14)
    assert_allclose(spline(pts[:1], 5), np.repeat(pts[:1], 5, axis=0))
    assert_allclose(spline(pts[:2], 3), [pts[0], (pts[0] + pts[1]) / 2, pts[1]])
    p = Path(np.arange(6), pts, 1.0, "astar", 6)
    assert_allclose(spline(p, 30), spline(pts, 30))


def test_spline_bad_input():
    pts = np.c_[np.linspace(0, 1, 5), np.ones(5)]
    with pytest.raises(InvalidInputError, match="needs the metric"):
        spline(pts, parametrization="metric")
    with pytest.raises(InvalidInputError, match="parametrization must be one of"):
        spline(pts, parametrization="arc")
    with pytest.raises(InvalidInputError, match="n_points must be in"):
        spline(pts, n_points=1)
    with pytest.raises(InvalidInputError, match="smoothing must be"):
        spline(pts, smoothing=-1.0)


def test_resample_polyline_keeps_vertices(rng):
    pts = np.cumsum(rng.normal(size=(6, 2)), axis=0)
    out = resample_polyline(pts, 40)
    assert out.shape == (40, 2)
    pos = [int(np.flatnonzero(np.all(out == v, axis=1))[0]) for v in pts]
    assert pos == sorted(pos) and pos[0] == 0 and pos[-1] == 39
    # every point lies on the segment between the vertices around it
    for k in range(5):
        seg = out[pos[k] : pos[k + 1] + 1]
        d = pts[k + 1] - pts[k]
        u = (seg - pts[k]) @ d / (d @ d)
        assert_allclose(seg, pts[k] + u[:, None] * d, atol=1e-12)
        assert np.all(np.diff(u) > 0)
    fewer = resample_polyline(pts, 4)
    assert_array_equal(fewer[[0, -1]], pts[[0, -1]])
    assert_allclose(resample_polyline(pts[:1], 3), np.repeat(pts[:1], 3, axis=0))
    with pytest.raises(InvalidInputError, match="n_points must be in"):
        resample_polyline(pts, 1)
