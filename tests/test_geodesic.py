"""gg.geodesic / gg.geodesics: the whole pipeline against analytic geodesics.

Oracles and tolerances (all lengths by gg.curve_length, the graph's quadrature):
- hyperbolic half-plane G = I / y^2 on a 5000-point 12-NN graph, off-graph endpoints:
  d(a, b) = arccosh(1 + |a - b|^2 / (2 a_y b_y)); the graph path is several % long
  (reported through Curve.length_graph), the refined curve is within 0.5% (the
  acceptance bound; we observe ~1e-5) and within 1e-3 of the circular arc;
- constant Randers (Zermelo navigation with a constant wind W): the closed-form travel
  time in both directions, within 0.5% (observed: 1e-12, the shortcut is exact);
- Euclidean and constant SPD metrics: the straight segment, length within 1e-4;
- stage lengths never increase: graph >= shortcut >= initial >= refined.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError
from graphgeo.curves import Curve, geodesic, geodesics

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def hyp_np(z):
    return np.eye(z.shape[1])[None] / z[:, -1, None, None] ** 2


def hyp_torch(z):
    return torch.eye(z.shape[1], dtype=z.dtype)[None] / z[:, -1, None, None] ** 2


def hyp_dist(a, b):
    return np.arccosh(1 + np.sum((a - b) ** 2, axis=-1) / (2 * a[..., -1] * b[..., -1]))


def arc_deviation(points, a, b):
    """max |dist(z, c) / R - 1| for the half-plane geodesic through a and b (2-D)."""
    c = (b @ b - a @ a) / (2 * (b[0] - a[0]))
    R = np.hypot(a[0] - c, a[1])
    return np.max(np.abs(np.hypot(points[:, 0] - c, points[:, 1]) / R - 1))


@pytest.fixture(scope="module")
def half_plane():
    rng = np.random.default_rng(11)
    P = rng.uniform(0, 1, (5000, 2))
    P[:, 0] = 4 * P[:, 0] - 2
    P[:, 1] = 0.2 + 2.3 * P[:, 1]
    m = gg.FieldMetric(hyp_np, 2, torch_fn=hyp_torch)
    return m, gg.GeodesicGraph.build(P, m, k=12)


def endpoints(rng, B):
    z = rng.uniform(0, 1, (2, B, 2))
    z[..., 0] = 3.6 * z[..., 0] - 1.8
    z[..., 1] = 0.3 + 2.0 * z[..., 1]
    return z[0], z[1]


def test_hyperbolic_pipeline_on_a_5k_graph(half_plane):
    m, g = half_plane
    a, b = endpoints(np.random.default_rng(0), 12)
    curves = geodesics(m, a, b, graph=g)
    true = hyp_dist(a, b)
    L = np.array([[c.length_graph, c.length_shortcut, c.length_init, c.length] for c in curves])
    rel = L / true[:, None] - 1
    assert np.median(rel[:, 0]) > 0.01  # the graph alone is percents off
    assert np.all(np.abs(rel[:, 3]) <= 5e-3)  # acceptance: 0.5%
    assert np.median(np.abs(rel[:, 3])) <= 1e-4
    assert np.all(np.diff(L, axis=1) <= 1e-9 * L[:, 1:])  # stages never lengthen (1e-9: quadrature)
    for c, s, t in zip(curves, a, b):
        assert isinstance(c, Curve) and c.stage == "refined" and c.converged
        assert c.points.shape == (64, 2)
        assert np.array_equal(c.points[0], s) and np.array_equal(c.points[-1], t)
        assert_allclose(c.length, gg.curve_length(m, c.points), rtol=1e-13)
        assert arc_deviation(c.points, s, t) < 1e-3
        assert c.path is not None and np.array_equal(c.path.points[0], s)
        assert c.energy >= c.length**2 * (1 - 1e-12)
        assert_allclose(c.energy, c.length**2, rtol=1e-3)  # nearly constant speed


def test_single_equals_batch_and_straight_start(half_plane):
    m, g = half_plane
    a, b = np.array([-1.5, 0.5]), np.array([1.5, 0.7])
    one = geodesic(m, a, b, graph=g, n_points=32)
    many = geodesics(m, a[None], b[None], graph=g, n_points=32)[0]
    assert_allclose(one.points, many.points, rtol=0, atol=1e-12)
    free = geodesic(m, a, b, n_points=32)  # no graph: refined from the straight segment
    assert free.stage == "refined" and np.isnan(free.length_graph)
    assert_allclose(free.length, one.length, rtol=1e-6)
    assert_allclose(free.length, hyp_dist(a, b), rtol=5e-4)
    raw = geodesic(m, a, b, graph=g, refine=False, n_points=32)
    assert raw.stage in ("spline", "shortcut") and raw.n_iter == 0
    assert raw.length >= one.length
    assert_allclose(raw.length, raw.length_init, rtol=1e-14)


def zermelo(W):
    lam = 1.0 - W @ W
    G = (lam * np.eye(len(W)) + np.outer(W, W)) / lam**2
    return gg.Randers(gg.ConstantMetric(G), -W / lam)


def zermelo_time(W, delta):
    lam = 1.0 - W @ W
    dw = delta @ W
    return (np.sqrt(dw**2 + lam * np.sum(delta * delta, axis=-1)) - dw) / lam


def test_constant_randers_both_directions_and_constant_metrics():
    rng = np.random.default_rng(3)
    P = rng.uniform(-1, 1, (3000, 2))
    W = np.array([0.5, 0.2])
    m = zermelo(W)
    g = gg.GeodesicGraph.build(P, m, k=12)
    a, b = rng.uniform(-0.9, 0.9, (2, 6, 2))
    fwd = geodesics(m, a, b, graph=g)
    bwd = geodesics(m, b, a, graph=g)
    Lf = np.array([c.length for c in fwd])
    Lb = np.array([c.length for c in bwd])
    assert_allclose(Lf, zermelo_time(W, b - a), rtol=5e-3)
    assert_allclose(Lb, zermelo_time(W, a - b), rtol=5e-3)
    assert_allclose(Lf, zermelo_time(W, b - a), rtol=1e-12)  # observed: exact
    assert np.all(np.array([c.length_graph for c in fwd]) > Lf)
    A = np.array([[2.0, 0.4], [0.4, 0.5]])
    for metric, cost in [(gg.Euclidean(2), lambda D: np.linalg.norm(D, axis=1)),
                         (gg.ConstantMetric(A), lambda D: np.sqrt(np.einsum("ni,ij,nj->n", D, A, D)))]:
        gm = gg.GeodesicGraph.build(P[:800], metric, k=8)
        cs = geodesics(metric, a, b, graph=gm, n_points=20)
        t = np.linspace(0, 1, 20)[:, None]
        for c, s, e in zip(cs, a, b):
            assert_allclose(c.points, s + t * (e - s), atol=1e-12)
        assert_allclose([c.length for c in cs], cost(b - a), rtol=1e-4)


def test_coincident_endpoints_and_neural_solver(half_plane):
    m, g = half_plane
    z = np.array([0.2, 1.0])
    c = geodesic(m, z, z, graph=g, n_points=8)
    assert c.length == 0.0 and np.all(c.points == z)
    a, b = np.array([-1.0, 0.6]), np.array([1.0, 0.9])
    nc = geodesic(m, a, b, graph=g, n_points=32, solver="neural", max_iter=300)
    assert nc.length <= nc.length_init
    assert_allclose(nc.length, hyp_dist(a, b), rtol=5e-3)


def test_bad_input(half_plane):
    m, g = half_plane
    a = np.array([0.0, 1.0])
    with pytest.raises(InvalidInputError, match="metric must be a graphgeo metric"):
        geodesic("hyperbolic", a, a)
    with pytest.raises(InvalidInputError, match="graph must be a graphgeo.GeodesicGraph"):
        geodesic(m, a, a + 1, graph=np.eye(3))
    with pytest.raises(InvalidInputError, match="R\\^3"):
        geodesic(gg.Euclidean(3), np.zeros(3), np.ones(3), graph=g)
    with pytest.raises(InvalidInputError, match="z1 must have shape \\(2,\\)"):
        geodesic(m, a, np.ones(3))
    with pytest.raises(InvalidInputError, match="Use gg.geodesics for batches"):
        geodesic(m, np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(InvalidInputError, match="same number of endpoints"):
        geodesics(m, np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(InvalidInputError, match="n_points must be in"):
        geodesic(m, a, a + 1, n_points=1)
    with pytest.raises(InvalidInputError, match="solver must be one of"):
        geodesic(m, a, a + 1, solver="adam")
    with pytest.raises(InvalidInputError, match="refine must be True or False"):
        geodesic(m, a, a + 1, refine="yes")
    with pytest.raises(InvalidInputError, match="NaN or Inf"):
        geodesic(m, np.array([np.nan, 1.0]), a)
