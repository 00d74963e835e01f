"""gg.FieldMetric(fn) and gg.DiagonalField(fn) without ``dim``, as the API contract writes them.

The dimension is inferred from the first points the metric meets; every result is
compared with the same metric given in closed form (ConstantMetric), and later points
of another dimension must be refused with a message naming both dimensions.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg

A = np.array([[2.0, 0.3], [0.3, 0.5]])
OMEGA = np.array([0.2, -0.1])  # |OMEGA|_{A^-1} = 0.30 < 1


def fn(z):
    """The constant metric A, written as a field: G(z) = A for every row of z."""
    return np.broadcast_to(A, (len(z), 2, 2)).copy()


def diag_fn(z):
    return np.broadcast_to(np.diag(A), z.shape).copy()


@pytest.fixture(scope="module")
def points():
    return np.random.default_rng(0).normal(size=(120, 2))


def test_fieldmetric_without_dim_builds_the_constant_metric_graph(points):
    metric = gg.FieldMetric(fn)
    assert metric.dim is None
    g = gg.GeodesicGraph.build(points, metric, k=10)
    assert metric.dim == 2
    ref = gg.GeodesicGraph.build(points, gg.ConstantMetric(A), k=10)
    assert_allclose(g.weights.indptr, ref.weights.indptr, rtol=0, atol=0)
    assert_allclose(g.weights.indices, ref.weights.indices, rtol=0, atol=0)
    # the generic (quadrature) integration of a constant field agrees with the closed form
    assert_allclose(g.weights.data, ref.weights.data, rtol=1e-9, atol=0)


def test_diagonalfield_without_dim_builds_the_diagonal_metric_graph(points):
    metric = gg.DiagonalField(diag_fn)
    g = gg.GeodesicGraph.build(points, metric, k=10)
    assert metric.dim == 2
    ref = gg.GeodesicGraph.build(points, gg.ConstantMetric(np.diag(np.diag(A))), k=10)
    assert_allclose(g.weights.indices, ref.weights.indices, rtol=0, atol=0)
    assert_allclose(g.weights.data, ref.weights.data, rtol=1e-9, atol=0)


def test_curve_length_of_a_fresh_fieldmetric(points):
    poly = points[:7]
    got = gg.curve_length(gg.FieldMetric(fn), poly)
    dv = np.diff(poly, axis=0)
    expected = np.sum(np.sqrt(np.einsum("ni,ij,nj->n", dv, A, dv)))
    assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_geodesic_with_a_graph_and_with_a_fresh_metric(points):
    g = gg.GeodesicGraph.build(points, gg.FieldMetric(fn), k=10)
    a, b = points[3], points[77]
    straight = float(np.sqrt((b - a) @ A @ (b - a)))  # the geodesic of a constant metric
    # the graph's own metric, and a new FieldMetric(fn) that has met no points yet
    for metric in (g.metric, gg.FieldMetric(fn)):
        c = gg.geodesic(metric, a, b, graph=g, refine=False)
        assert c.length >= straight * (1 - 1e-12)
        assert c.length <= 1.05 * straight
        assert_allclose(c.points[[0, -1]], [a, b], rtol=0, atol=1e-12)


def test_refined_geodesic_of_a_fresh_fieldmetric_with_torch_fn(points):
    torch = pytest.importorskip("torch")
    At = torch.as_tensor(A)
    metric = gg.FieldMetric(fn, torch_fn=lambda z: At.to(z.dtype).expand(len(z), 2, 2))
    a, b = points[3], points[77]
    c = gg.geodesic(metric, a, b)  # no graph: the straight segment, refined
    assert metric.dim == 2
    assert_allclose(c.length, np.sqrt((b - a) @ A @ (b - a)), rtol=1e-9, atol=0)


def test_randers_over_a_fresh_fieldmetric_takes_omega_s_dimension(points):
    base = gg.FieldMetric(fn)
    metric = gg.Randers(base, OMEGA)
    assert metric.dim == 2 and base.dim == 2
    g = gg.GeodesicGraph.build(points, metric, k=10)
    ref = gg.GeodesicGraph.build(points, gg.Randers(gg.ConstantMetric(A), OMEGA), k=10)
    assert_allclose(g.weights.indices, ref.weights.indices, rtol=0, atol=0)
    assert_allclose(g.weights.data, ref.weights.data, rtol=1e-9, atol=1e-15)
    assert np.any(np.abs(g.weights.data - g.weights.T.tocsr().data) > 1e-3)  # directed


def test_randers_with_a_callable_omega_over_a_fresh_fieldmetric(points):
    metric = gg.Randers(gg.FieldMetric(fn), lambda z: np.broadcast_to(OMEGA, z.shape).copy())
    assert metric.dim is None
    g = gg.GeodesicGraph.build(points, metric, k=10)
    assert metric.dim == 2
    ref = gg.GeodesicGraph.build(points, gg.Randers(gg.ConstantMetric(A), OMEGA), k=10)
    assert_allclose(g.weights.data, ref.weights.data, rtol=1e-9, atol=1e-15)


def test_other_dimension_afterwards_is_refused(points):
    metric = gg.FieldMetric(fn)
    gg.GeodesicGraph.build(points, metric, k=10)
    pts3 = np.random.default_rng(1).normal(size=(30, 3))
    with pytest.raises(gg.InvalidInputError, match=r"points has dimension 3 .*R\^2"):
        gg.GeodesicGraph.build(pts3, metric, k=5)
    with pytest.raises(gg.InvalidInputError, match=r"dimension 3 but FieldMetric is defined on R\^2 "
                                                   r"\(inferred from the first points it met"):
        metric.metric_tensor(pts3)
    with pytest.raises(gg.InvalidInputError, match=r"dimension 3 .*R\^2"):
        gg.curve_length(metric, pts3)
    with pytest.raises(gg.InvalidInputError, match=r"z0 must have shape \(2,\); received an array of shape \(3,\)"):
        gg.geodesic(metric, pts3[0], pts3[1], refine=False)


def test_constant_omega_of_another_dimension_than_the_points(points):
    metric = gg.Randers(gg.FieldMetric(fn), np.array([0.1, 0.0, 0.0]))
    assert metric.dim == 3
    with pytest.raises(gg.InvalidInputError, match=r"points has dimension 2 .*R\^3"):
        gg.GeodesicGraph.build(points, metric, k=5)


def test_explicit_dim_is_still_checked_upfront():
    metric = gg.FieldMetric(fn, 2)
    with pytest.raises(gg.InvalidInputError, match=r"dimension 3 but the metric is defined on R\^2"):
        metric.metric_tensor(np.ones((4, 3)))
    with pytest.raises(gg.InvalidInputError, match="dim must be an integer"):
        gg.FieldMetric(fn, 2.5)


def test_fn_returning_the_wrong_shape_is_named():
    metric = gg.FieldMetric(lambda z: np.ones((len(z), 3, 3)))
    with pytest.raises(gg.InvalidInputError, match=r"FieldMetric fn must map points of shape \(n, 2\)"):
        metric.metric_tensor(np.ones((4, 2)))


def test_save_and_load_with_a_fieldmetric(points, tmp_path):
    g = gg.GeodesicGraph.build(points, gg.FieldMetric(fn), k=10)
    with pytest.warns(UserWarning, match="holds callables and is not saved"):
        g.save(tmp_path / "g.npz")
    g2 = gg.GeodesicGraph.load(tmp_path / "g.npz", metric=gg.FieldMetric(fn))
    assert g2.metric.dim == 2  # load fixes the dimension from the stored points
    assert_allclose(g2.weights.data, g.weights.data, rtol=0, atol=0)
    p, p2 = g.shortest_path(0, 50), g2.shortest_path(0, 50)
    assert_allclose(p2.length, p.length, rtol=1e-12, atol=0)
    c = gg.geodesic(g2.metric, points[0], points[50], graph=g2, refine=False)
    assert c.length <= p.length * (1 + 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gg.InvalidInputError, match=r"dimension 2 but Euclidean is defined on R\^3"):
            gg.GeodesicGraph.load(tmp_path / "g.npz", metric=gg.Euclidean(3))
