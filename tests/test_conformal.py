"""The conformal family G(z) = c(z) I against closed-form hyperbolic distances.

Oracles: the half-plane distance arccosh(1 + |z2 - z1|^2 / (2 y1 y2)) (a vertical segment
is a geodesic of length |log(y2 / y1)|, a half circle centred on the axis is a geodesic),
the Poincare ball's radial distance 2 artanh(r), and the numpy integrand of the metric
(generic_segment_costs) for the fused kernels.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError, MetricError
from graphgeo.metrics.base import generic_segment_costs
from graphgeo.costs import gauss_legendre


def hdist(p, q):
    return np.arccosh(1.0 + np.sum((q - p) ** 2, axis=-1) / (2.0 * p[..., -1] * q[..., -1]))


def halfplane_points(rng, n, lo=0.2, hi=2.0):
    return np.column_stack([rng.uniform(-1, 1, n), rng.uniform(lo, hi, n)])


@pytest.mark.parametrize("quadrature", [None, 3, 8])
def test_fused_kernel_matches_numpy_integrand(rng, quadrature):
    """Fixed and adaptive kernels against the numpy integrand at the same rule (1e-13), or
    the 64-point rule for the adaptive mode (rtol 1e-7 requested; 1e-8 observed margin)."""
    m = gg.ConformalMetric("halfplane", 2)
    a, b = halfplane_points(rng, 40), halfplane_points(rng, 40)
    idx = np.arange(40)
    R, A = gg.segment_costs(m, a, idx, idx, b_pts=b, quadrature=quadrature)
    tq, wq = gauss_legendre(64 if quadrature is None else quadrature)
    Rr, Ar, _ = generic_segment_costs(m, a, b, tq, wq)
    assert_allclose(R, Rr, rtol=1e-7 if quadrature is None else 1e-13)
    assert_array_equal(A, 0.0)


def test_vertical_segment_is_log_ratio(rng):
    m = gg.ConformalMetric("halfplane", 2)
    a = halfplane_points(rng, 50)
    b = np.column_stack([a[:, 0], rng.uniform(0.2, 2.0, 50)])
    idx = np.arange(50)
    R, _ = gg.segment_costs(m, a, idx, idx, b_pts=b)
    # adaptive, rtol 1e-7: observed 6e-11
    assert_allclose(R, np.abs(np.log(b[:, 1] / a[:, 1])), rtol=1e-9)
    # and the reverse direction gives the same length (Riemannian)
    R2, _ = gg.segment_costs(m, b, idx, idx, b_pts=a)
    assert_allclose(R2, R, rtol=1e-12)


def test_straight_segments_are_never_shorter_than_the_distance(rng):
    m = gg.ConformalMetric("halfplane", 2)
    a, b = halfplane_points(rng, 200), halfplane_points(rng, 200)
    idx = np.arange(200)
    R, _ = gg.segment_costs(m, a, idx, idx, b_pts=b)
    assert np.all(R >= hdist(a, b) * (1 - 1e-9))


def test_curve_length_of_the_geodesic_half_circle():
    """A polyline inscribed in the geodesic (a half circle centred on the axis) is longer
    than the distance by O(h^2): 5e-6 relative with 200 points, 5e-8 with 2000."""
    m = gg.ConformalMetric("halfplane", 2)
    x1, y1, x2, y2 = -0.8, 0.3, 0.9, 0.5
    c = (x2 ** 2 + y2 ** 2 - x1 ** 2 - y1 ** 2) / (2 * (x2 - x1))
    r = np.hypot(x1 - c, y1)
    d = hdist(np.array([x1, y1]), np.array([x2, y2]))
    errs = []
    for n in (200, 2000):
        th = np.linspace(np.arctan2(y1, x1 - c), np.arctan2(y2, x2 - c), n)
        L = gg.curve_length(m, np.column_stack([c + r * np.cos(th), r * np.sin(th)]))
        assert L >= d
        errs.append((L - d) / d)
    assert errs[0] < 1e-5 and errs[1] < 1e-7
    assert errs[1] < errs[0] / 50  # second order


def test_graph_distances_converge_to_the_hyperbolic_distance_from_above():
    m = gg.ConformalMetric("halfplane", 2)
    worst = []
    for n, k in ((300, 10), (1200, 20), (4800, 40)):
        rng = np.random.default_rng(0)
        X = halfplane_points(rng, n, 0.5, 2.0)
        X[0] = [-0.9, 0.6]
        g = gg.GeodesicGraph.build(X, m, k=k)
        D = np.asarray(g.distances(sources=[0]))[0]
        d = hdist(X[0], X)
        far = d > 1.0
        rel = (D[far] - d[far]) / d[far]
        assert rel.min() >= -1e-9  # paths of straight segments: never below the distance
        worst.append(rel.max())
    # observed worst relative excess: 0.11, 0.036, 0.009
    assert worst[0] > worst[1] > worst[2]
    assert worst[2] < 0.015


@pytest.mark.parametrize("r", [0.3, 0.9, 0.99])
def test_poincare_radial_distance(r):
    m = gg.ConformalMetric("poincare", 3)
    z = np.array([[0.0, 0.0, 0.0], [r / np.sqrt(3)] * 3])
    R, _ = gg.segment_costs(m, z, [0], [1])
    # adaptive, rtol 1e-7: observed below 1e-12
    assert_allclose(R[0], 2 * np.arctanh(r), rtol=1e-10)
    assert m.lower_bound() == 2.0


def test_callable_kind_goes_through_the_generic_path(rng):
    fused = gg.ConformalMetric("halfplane", 2)
    generic = gg.ConformalMetric(lambda z: 1.0 / z[:, -1] ** 2, 2)
    assert fused.fused and not generic.fused and generic.kernel_record() is None
    a, b = halfplane_points(rng, 30), halfplane_points(rng, 30)
    idx = np.arange(30)
    for q in (5, None):
        R1, _ = gg.segment_costs(fused, a, idx, idx, b_pts=b, quadrature=q)
        R2, _ = gg.segment_costs(generic, a, idx, idx, b_pts=b, quadrature=q)
        assert_allclose(R2, R1, rtol=1e-13 if q else 1e-7)


def test_metric_tensor_numpy_and_torch(rng):
    z = halfplane_points(rng, 10)
    for kind, c in (("halfplane", 1.0 / z[:, 1] ** 2),):
        m = gg.ConformalMetric(kind, 2)
        assert_allclose(m.metric_tensor(z), c[:, None, None] * np.eye(2)[None], rtol=1e-15)
        assert_allclose(m.cometric_tensor(z), (1 / c)[:, None, None] * np.eye(2)[None],
                        rtol=1e-15)
    zb = 0.5 * rng.uniform(-1, 1, (10, 3))
    mb = gg.ConformalMetric("poincare", 3)
    cb = 4.0 / (1 - np.sum(zb ** 2, axis=1)) ** 2
    assert_allclose(mb.norm(zb, np.ones_like(zb)), np.sqrt(3 * cb), rtol=1e-14)
    torch = pytest.importorskip("torch")
    for m, pts in ((gg.ConformalMetric("halfplane", 2), z), (mb, zb)):
        t = torch.tensor(pts, dtype=torch.float64)
        assert_allclose(m.metric_tensor(t).numpy(), m.metric_tensor(pts), rtol=1e-14)
        assert_allclose(m.norm(t, torch.ones_like(t)).numpy(), m.norm(pts, np.ones_like(pts)),
                        rtol=1e-14)


def test_points_outside_the_domain_are_refused():
    hp = gg.ConformalMetric("halfplane", 2)
    with pytest.raises(InvalidInputError, match="points.*last coordinate must be > 0"):
        gg.curve_length(hp, np.array([[0.0, 1.0], [0.0, -0.5]]))
    with pytest.raises(InvalidInputError, match="b_pts"):
        gg.segment_costs(hp, np.array([[0.0, 1.0]]), [0], [0], b_pts=np.array([[0.0, 0.0]]))
    ball = gg.ConformalMetric("poincare", 2)
    with pytest.raises(InvalidInputError, match="a_pts.*norm < 1"):
        gg.segment_costs(ball, np.array([[0.0, 0.0], [0.6, 0.8]]), [0], [1])
    with pytest.raises(InvalidInputError, match="z.*norm < 1"):
        ball.metric_tensor(np.array([[1.5, 0.0]]))
    with pytest.raises(MetricError, match="kind must be one of"):
        gg.ConformalMetric("sphere", 2)


def test_save_and_load_a_graph(tmp_path, rng):
    X = halfplane_points(rng, 200, 0.5, 2.0)
    g = gg.GeodesicGraph.build(X, gg.ConformalMetric("halfplane", 2), k=6)
    g.save(tmp_path / "g.npz")
    g2 = gg.GeodesicGraph.load(tmp_path / "g.npz")
    assert isinstance(g2.metric, gg.ConformalMetric) and g2.metric.kind == "halfplane"
    assert_array_equal(g2.weights.toarray(), g.weights.toarray())
    assert_allclose(g2.shortest_path(0, 5).length, g.shortest_path(0, 5).length, rtol=0)
