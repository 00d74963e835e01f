"""graphgeo.learn.fit_randers and graphgeo.monotone: losses, sign, oracles, the toy experiment."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError, MetricError
from graphgeo.learn import accuracy_target, fit_randers, order_signs, phi_loss, rho_loss
from graphgeo.monotone import measure_along, monotonicity

pytest.importorskip("torch")


# ------------------------------------------------------------------ tiny hand-computed inputs
TINY_Z = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
TINY_ORDER = np.array([0.0, 1.0, -1.0])
TINY_NB = np.array([[1, 2], [0, 2], [0, 1]])
TINY_PHI = np.array([[0.5, 0.25], [-1.0, 0.0], [0.0, -1.0]])


def test_phi_loss_hand_computed():
    # i=0: j=1 y=+1 m=0.5 -> 0.5 ; j=2 y=-1 m=0.5 -> 1.5
    # i=1: j=0 y=-1 m=1 -> 2 ; j=2 y=-1 m=1 -> 2
    # i=2: j=0 y=+1 m=2 -> 0 ; j=1 y=+1 m=2 -> 0
    assert_allclose(phi_loss(TINY_Z, TINY_ORDER, TINY_NB, TINY_PHI), [2.0, 4.0, 0.0], rtol=0, atol=1e-12)


def test_accuracy_target_hand_computed():
    acc, target = accuracy_target(TINY_Z, TINY_ORDER, TINY_NB, TINY_PHI)
    assert_allclose(acc, [0.5, 0.0, 1.0], rtol=0, atol=1e-12)
    assert_allclose(target, [0.0, 0.0, 1.0], rtol=0, atol=1e-12)


def test_ties_are_left_out():
    order = np.array([0.0, 0.0, -1.0])  # point 1 ties with point 0
    assert_array_equal(order_signs(order, TINY_NB), [[0, -1], [0, -1], [1, 1]])
    # i=0: only j=2 counts (1.5); i=1: only j=2 counts (2)
    assert_allclose(phi_loss(TINY_Z, order, TINY_NB, TINY_PHI), [1.5, 2.0, 0.0], rtol=0, atol=1e-12)
    acc, _ = accuracy_target(TINY_Z, order, TINY_NB, TINY_PHI)
    assert_allclose(acc, [0.0, 0.0, 1.0], rtol=0, atol=1e-12)


def test_rho_loss_hand_computed():
    assert_allclose(rho_loss([0.2, 1.0], [0.0, 0.5]), [0.04, 0.25], rtol=1e-12, atol=0)


def test_torch_objective_matches_numpy_reference():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(40, 3))
    order = z[:, 0] + 0.3 * rng.normal(size=40)
    fit = fit_randers(z, order, k=6, alpha=0.0, smooth=0.0, smooth_rho=0.0, n_iter=50, seed=1)
    ref = phi_loss(z, order, fit.neighbors, fit.phi).sum()
    assert_allclose(fit.loss_phi, ref, rtol=1e-9, atol=1e-9)
    # without coupling rho is the accuracy target itself
    acc, target = accuracy_target(z, order, fit.neighbors, fit.phi)
    assert_allclose(fit.accuracy, acc, rtol=0, atol=0)
    assert_allclose(fit.rho, target, rtol=0, atol=1e-12)
    assert_allclose(fit.loss_rho, 0.0, rtol=0, atol=1e-20)


# ------------------------------------------------------------------ oracles and conventions
def test_constant_omega_leaves_paths_unchanged():
    rng = np.random.default_rng(7)
    z = rng.uniform(-1, 1, size=(300, 2))
    w = np.array([0.5, -0.3])
    g_e = gg.GeodesicGraph.build(z, gg.Euclidean(2), k=8)
    g_r = gg.GeodesicGraph.build(z, gg.Randers(gg.Euclidean(2), w), k=8)
    for a, b in [(0, 1), (5, 200), (17, 99), (250, 3), (42, 150)]:
        pe, pr = g_e.shortest_path(a, b), g_r.shortest_path(a, b)
        assert_array_equal(pr.nodes, pe.nodes)
        # the exact 1-form only shifts the cost by <w, z_b - z_a>
        assert_allclose(pr.length, pe.length + w @ (z[b] - z[a]), rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def linear_fit():
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 1, size=(300, 2))
    return z, z[:, 0], fit_randers(z, z[:, 0], k=10, seed=0, n_iter=150)


def _forward_edges(z, fit, cos):
    g = gg.GeodesicGraph.build(z, fit.metric(), k=8)
    W = g.weights.tocoo()
    step = z[W.col] - z[W.row]
    # edges that move forward in the process (+x) by at least cos of their length
    fwd = step[:, 0] > cos * np.linalg.norm(step, axis=1)
    back = np.asarray(g.weights[W.col, W.row]).ravel()
    return np.asarray(W.data)[fwd], back[fwd]


def test_forward_cheaper_than_backward(linear_fit):
    z, order, fit = linear_fit
    # the default (the paper's losses alone) learns one phi per point from its ~10
    # neighbours, so phi_i scatters around +x (measured: within 52 degrees here) and an
    # edge nearly orthogonal to the progression may go either way: a fraction is asserted
    w_fwd, w_back = _forward_edges(z, fit, 0.25)
    assert len(w_fwd) > 1000
    assert np.mean(w_fwd < w_back) >= 0.98
    w_fwd, w_back = _forward_edges(z, fit, 0.9)
    assert np.all(w_fwd < w_back)
    # omega points against the progression (here +x) at every point
    assert np.all(fit.omega[:, 0] < 0)


def test_coupled_fit_is_consistent_on_a_linear_order(linear_fit):
    z, order, _ = linear_fit
    fit = fit_randers(z, order, k=10, seed=0, n_iter=150, smooth=10.0)
    u = fit.phi / np.linalg.norm(fit.phi, axis=1, keepdims=True)
    assert u[:, 0].min() > 0.99          # phi_i all along +x
    w_fwd, w_back = _forward_edges(z, fit, 0.25)
    assert len(w_fwd) > 1000
    assert np.all(w_fwd < w_back)


def test_randers_condition_at_every_node(linear_fit):
    z, order, fit = linear_fit
    nrm = fit.metric().omega_norm(z)
    assert np.all(nrm <= fit.max_norm + 1e-12)
    # an anisotropic base: |omega|_{G^{-1}} <= max_norm at every node for that base
    A = np.array([[25.0, 3.0], [3.0, 0.5]])
    fit2 = fit_randers(z, order, k=10, base=gg.ConstantMetric(A), seed=0, n_iter=100, max_norm=0.8)
    om = fit2.field(z)
    n2 = np.sqrt(np.einsum("ni,ij,nj->n", om, np.linalg.inv(A), om))
    assert np.all(n2 <= 0.8 + 1e-12)
    assert n2.max() > 0.5  # not trivially zero
    g = gg.GeodesicGraph.build(z, fit2.metric(), k=8)
    assert g.weights.data.min() > 0


def test_reproducible_with_seed(linear_fit):
    z, order, fit = linear_fit
    again = fit_randers(z, order, k=10, seed=0, n_iter=150)
    assert_allclose(again.field.coefficients, fit.field.coefficients, rtol=0, atol=0)
    assert_allclose(again.accuracy, fit.accuracy, rtol=0, atol=0)


# ------------------------------------------------------------------ the 2-D toy progression
def _toy(n=900, seed=0):
    """Upper half-disk: an orderly annulus (order = angle, tiny noise) around a disordered core."""
    rng = np.random.default_rng(seed)
    r = 1.25 * np.sqrt(rng.uniform(0, 1, n))
    th = rng.uniform(0, np.pi, n)
    z = np.c_[r * np.cos(th), r * np.sin(th)]
    order = np.where(r > 0.8, (np.pi - th) / np.pi + rng.normal(0, 0.003, n), rng.uniform(0, 1, n))
    return z, order, r


def test_toy_forward_geodesics_are_monotone():
    z, order, r = _toy()
    fit = fit_randers(z, order, k=16, seed=0)
    assert fit.rho[r < 0.8].mean() < fit.rho[r > 0.8].mean() - 0.3
    g_e = gg.GeodesicGraph.build(z, gg.Euclidean(2), k=10)
    g_r = gg.GeodesicGraph.build(z, fit.metric(), k=10)
    ring = (r > 0.85) & (r < 1.2) & (z[:, 1] < 0.25)
    src = np.flatnonzero(ring & (z[:, 0] < 0))[:8]
    dst = np.flatnonzero(ring & (z[:, 0] > 0))[:8]
    assert len(src) == 8 and len(dst) == 8
    m_e = np.mean([monotonicity(order[g_e.shortest_path(a, b).nodes]) for a, b in zip(src, dst)])
    m_r = np.mean([monotonicity(order[g_r.shortest_path(a, b).nodes]) for a, b in zip(src, dst)])
    assert m_r >= 0.85
    assert m_e <= m_r - 0.2


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("order, match", [
    (np.arange(49.0), "order must be a 1-D array with one value per point"),
    (np.ones(50), "order is constant"),
    (np.r_[np.arange(49.0), np.nan], "order contains NaN"),
    (np.arange(100.0).reshape(50, 2), "order must be a 1-D array"),
])
def test_bad_order(order, match):
    z = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(InvalidInputError, match=match):
        fit_randers(z, order)


def test_bad_arguments():
    z = np.random.default_rng(0).normal(size=(50, 2))
    o = z[:, 0]
    with pytest.raises(InvalidInputError, match="k must be in"):
        fit_randers(z, o, k=50)
    with pytest.raises(InvalidInputError, match="max_norm"):
        fit_randers(z, o, max_norm=1.0)
    with pytest.raises(MetricError, match="base"):
        fit_randers(z, o, base=gg.Euclidean(3))
    with pytest.raises(InvalidInputError, match="duplicate rows"):
        fit_randers(np.r_[z, z[:1]], np.r_[o, 0.0])
    with pytest.raises(InvalidInputError, match="points contains NaN"):
        fit_randers(np.where(np.arange(100).reshape(50, 2) == 3, np.nan, z), o)


# ------------------------------------------------------------------ monotonicity
def test_monotonicity_definition():
    assert monotonicity([0, 1, 1, 2]) == 1.0
    assert monotonicity([2, 1, 0]) == 0.0
    assert_allclose(monotonicity([0, 2, 1, 3]), 2 / 3, rtol=1e-12)
    # pairs: (0,2)+ (0,1)+ (0,3)+ (2,1)- (2,3)+ (1,3)+
    assert_allclose(monotonicity([0, 2, 1, 3], method="kendall"), 5 / 6, rtol=1e-12)
    assert_allclose(monotonicity([0, 1, 0.95, 2], tol=0.1), 1.0, rtol=0)
    assert monotonicity([3.0]) == 1.0


def test_monotonicity_bad_input():
    with pytest.raises(InvalidInputError, match="values contains NaN"):
        monotonicity([0, np.nan, 1])
    with pytest.raises(InvalidInputError, match="values must be a 1-D"):
        monotonicity(np.zeros((3, 2)))
    with pytest.raises(InvalidInputError, match="method"):
        monotonicity([0, 1], method="spearman")


def test_measure_along_decodes_a_path():
    z = np.c_[np.linspace(0, 1, 20), np.zeros(20)] + np.random.default_rng(1).normal(0, 0.01, (20, 2))
    g = gg.GeodesicGraph.build(z, gg.Euclidean(2), k=4)
    p = g.shortest_path(0, 19)
    decode = lambda pts: np.stack([np.full((4, 4), x) for x in pts[:, 0]])  # noqa: E731
    vals = measure_along(p, decode, measure=lambda imgs: imgs.mean(axis=(1, 2)))
    assert_allclose(vals, z[p.nodes, 0], rtol=1e-12)
    vals = measure_along(p.points, lambda pts: pts[:, 0], n_points=50)
    assert vals.shape == (50,)
    assert monotonicity(vals) == monotonicity(z[p.nodes, 0])
    with pytest.raises(InvalidInputError, match="one value per curve point"):
        measure_along(p, lambda pts: np.zeros(3))


def test_fit_is_quiet_and_restores_torch_threads():
    import warnings

    import torch

    z = np.random.default_rng(2).normal(size=(60, 2))
    before = torch.get_num_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_randers(z, z[:, 1], k=5, n_iter=20)
    assert torch.get_num_threads() == before
    assert fit.field.centers.shape == (60, 2)
    assert "RandersFit" in repr(fit)
