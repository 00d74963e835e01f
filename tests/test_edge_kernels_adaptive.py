"""The adaptive, node-shared edge quadrature (segment_costs(..., quadrature="adaptive")).

Oracle: graphgeo.metrics.base.generic_segment_costs (plain numpy) with high-order
Gauss-Legendre, composite (each segment cut into panels) where the integrand has
a kink. Tolerances: the adaptive mode targets an estimated error <= rtol * R per
segment with conservative estimates; the checks use rtol 1e-6 relative to R for
both R and A at the default rtol (1e-7), and 1e-9 at rtol = 1e-11.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import graphgeo as gg
from graphgeo.costs import _adaptive, check_quadrature, gauss_legendre
from graphgeo.metrics.base import generic_segment_costs

from _segment_workloads import knn_segments, rhvae


def reference(metric, a, b, order=48, panels=1, max_norm=None):
    """Composite Gauss-Legendre in numpy: (R, A)."""
    tq, wq = gauss_legendre(order)
    R = np.zeros(len(a))
    A = np.zeros(len(a))
    for p in range(panels):
        a_p = a + (b - a) * (p / panels)
        b_p = a + (b - a) * ((p + 1) / panels)
        r, s, _ = generic_segment_costs(metric, a_p, b_p, tq, wq, max_norm)
        R += r
        A += s
    return R, A


def mixture(rng, n, d, n_comp=4, spread=2.0):
    means = rng.normal(0.0, spread, (n_comp, d))
    lab = rng.integers(0, n_comp, n)
    return means[lab] + rng.uniform(0.3, 0.7, n_comp)[lab, None] * rng.normal(size=(n, d))


def check(metric, X, ia, ib, rtol_check=1e-6, rtol=None, panels=1, max_norm=None):
    R, A = gg.segment_costs(metric, X, ia, ib, quadrature="adaptive", rtol=rtol)
    Rr, Ar = reference(metric, X[ia], X[ib], panels=panels, max_norm=max_norm)
    assert_allclose(R, Rr, rtol=rtol_check)
    assert np.max(np.abs(A - Ar) / Rr) <= rtol_check
    return R, A


@pytest.mark.parametrize("d, spacings", [(2, 3.0), (2, 5.0), (8, 3.0)])
def test_rhvae_matches_reference(rng, d, spacings):
    X = mixture(rng, 300, d)
    metric = rhvae(rng, X, 40, spacings)
    ia, ib = knn_segments(X, 6)
    R, _ = check(metric, X, ia, ib)
    # every nested level and the bisection fallback are exercised on this data
    _, _, _, level = _adaptive(metric, X, ia, ib, None, 1e-7)
    assert level.min() >= 1
    # tight tolerance
    check(metric, X, ia, ib, rtol_check=1e-9, rtol=1e-11)
    # the default quadrature is the adaptive one
    assert_array_equal(gg.segment_costs(metric, X, ia, ib)[0], R)


def test_levels_all_used(rng):
    X = mixture(rng, 300, 2)
    metric = rhvae(rng, X, 40, 2.0)
    ia, ib = knn_segments(X, 8)
    _, _, _, level = _adaptive(metric, X, ia, ib, None, 1e-9)
    assert set(np.unique(level)) == {1, 2, 3, 4}


def test_vae_diagonal_high_dim(rng):
    """d = 64, diagonal M and Mahalanobis weights: value-only rules (no node tensors)."""
    d, K = 64, 25
    X = 0.4 * rng.normal(size=(150, d))
    mu = X[:K] + 0.05 * rng.normal(size=(K, d))
    sigma = rng.uniform(0.05, 0.2, (K, d))
    metric = gg.VAECometric(mu, sigma, tau=1.5, lbd=1e-2)
    ia, ib = knn_segments(X, 4)
    check(metric, X, ia, ib)


def test_vae_diagonal_low_dim_with_omega(rng):
    """Diagonal family with node derivative tensors (d <= 12), plain and Randers."""
    d, K = 3, 20
    X = rng.normal(size=(200, d))
    metric = gg.VAECometric(X[:K], rng.uniform(0.05, 0.3, (K, d)), tau=0.7, lbd=1e-3)
    ia, ib = knn_segments(X, 5)
    check(metric, X, ia, ib)
    field = gg.RBFField(X[:10], 0.02 * rng.normal(size=(10, d)), bandwidth=0.8)
    check(gg.Randers(metric, field), X, ia, ib)


def test_vae_full_covariance(rng):
    d, K = 3, 20
    X = rng.normal(size=(200, d))
    S = rng.normal(size=(K, d, d)) * 0.3
    S = S @ np.swapaxes(S, 1, 2) + 0.2 * np.eye(d)
    metric = gg.VAECometric(X[:K], S, tau=0.8, lbd=1e-3)
    ia, ib = knn_segments(X, 5)
    check(metric, X, ia, ib)


@pytest.mark.parametrize("d", [2, 8])
def test_randers_rbf_omega(rng, d):
    X = mixture(rng, 250, d)
    base = rhvae(rng, X, 30)
    centers = X[rng.choice(len(X), 20, replace=False)]
    field = gg.RBFField(centers, rng.normal(size=(20, d)), bandwidth=1.0)
    # scale omega to |omega|_{G^-1} <= 0.5 at the points
    norm = np.sqrt(np.einsum("ni,nij,nj->n", field(X), base.cometric_tensor(X), field(X))).max()
    field = gg.RBFField(centers, field.coefficients * 0.5 / norm, bandwidth=1.0)
    metric = gg.Randers(base, field)
    ia, ib = knn_segments(X, 5)
    R, A = check(metric, X, ia, ib)
    assert np.abs(A).max() > 1e-3 * R.max()  # omega matters
    # direction: b -> a has the same R bitwise and the opposite A
    R2, A2 = gg.segment_costs(metric, X, ib, ia)
    assert_array_equal(R2, R)
    assert_array_equal(A2, -A)


def test_randers_max_norm_rescaling(rng):
    """A rescaled omega has kinks: the bisection fallback handles them."""
    X = mixture(rng, 200, 2)
    base = rhvae(rng, X, 30)
    w = np.array([1.0, 0.5]) * 30.0
    metric = gg.Randers(base, w, max_norm=0.7)
    ia, ib = knn_segments(X, 5)
    check(metric, X, ia, ib, rtol_check=2e-6, panels=32, max_norm=0.7)


def test_euclidean_and_constant_with_rbf_omega(rng):
    d = 3
    X = rng.normal(size=(120, d))
    field = gg.RBFField(X[:10], 0.1 * rng.normal(size=(10, d)), bandwidth=0.7)
    A_mat = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]])
    ia, ib = knn_segments(X, 4)
    for base in (gg.Euclidean(d), gg.ConstantMetric(A_mat)):
        check(gg.Randers(base, field), X, ia, ib)


def test_generic_metric_adaptive(rng):
    """Metrics without a fused kernel: the numpy implementation of the nested rules."""
    def fn(z):
        s = 1.0 + np.sum(z * z, axis=1)
        return s[:, None, None] * np.eye(2)[None] + 0.3 * np.einsum("ni,nj->nij", z, z)

    metric = gg.FieldMetric(fn, 2)
    X = rng.normal(size=(150, 2))
    ia, ib = knn_segments(X, 5)
    check(metric, X, ia, ib)


def test_separate_endpoint_arrays_and_zero_length(rng):
    X = mixture(rng, 200, 2)
    metric = rhvae(rng, X, 30)
    ia, ib = knn_segments(X, 4)
    B = X.copy()
    R, A = gg.segment_costs(metric, X, ia, ib, b_pts=B)
    R0, A0 = gg.segment_costs(metric, X, ia, ib)
    assert_array_equal(R, R0)
    same = np.arange(5)
    Rz, Az = gg.segment_costs(metric, X, same, same)
    assert_array_equal(Rz, 0.0)
    assert_array_equal(Az, 0.0)


def test_curve_length_matches_graph_edges(rng):
    """A polyline's adaptive length is the sum of the same segments' costs, either way."""
    X = mixture(rng, 200, 2)
    metric = rhvae(rng, X, 30)
    path = X[:6]
    idx = np.arange(5)
    R, A = gg.segment_costs(metric, X, idx, idx + 1)
    assert gg.curve_length(metric, path) == pytest.approx(np.sum(R + A), rel=1e-14)
    back = gg.curve_length(metric, path[::-1])
    assert back == pytest.approx(np.sum(R - A), rel=1e-14)


def test_randers_condition_violation_raises(rng):
    X = mixture(rng, 100, 2)
    base = rhvae(rng, X, 20)
    metric = gg.Randers(base, np.array([1e3, 0.0]))
    ia, ib = knn_segments(X, 3)
    with pytest.raises(gg.RandersConditionError, match="Randers condition"):
        gg.segment_costs(metric, X, ia, ib)


def test_quadrature_option():
    assert check_quadrature(None) is None
    assert check_quadrature("adaptive") == "adaptive"
    assert check_quadrature(" Adaptive ") == "adaptive"
    assert check_quadrature(7) == 7
    for bad in (0, 65, "gauss", 2.5, True):
        with pytest.raises(gg.InvalidInputError, match="quadrature"):
            check_quadrature(bad)
    with pytest.raises(gg.InvalidInputError, match="rtol"):
        gg.segment_costs(gg.Euclidean(2), np.zeros((2, 2)), [0], [1], rtol=0.5)


def test_rules_exact_degrees():
    """The nested rules integrate polynomials exactly to their stated degrees (and no more)."""
    from graphgeo.kernels.adaptive import RULES_HERMITE, RULES_VALUES

    t = np.arange(9) / 8.0
    for rules, hermite, degrees in ((RULES_HERMITE, True, (3, 5, 7, 11)),
                                    (RULES_VALUES, False, (1, 3, 5, 9))):
        for rule, deg in zip(rules, degrees):
            for p in range(deg + 2):
                approx = rule[:9] @ t**p
                if hermite:
                    approx += rule[9] * ((1.0 if p == 1 else 0.0) - p)
                if p <= deg:
                    assert approx == pytest.approx(1.0 / (p + 1), rel=1e-14, abs=1e-15)
                else:
                    assert abs(approx - 1.0 / (p + 1)) > 1e-10


def test_node_memory_groups_give_identical_costs(rng, monkeypatch):
    """Graphs whose node data exceed the budget are processed in groups: same results."""
    import graphgeo.costs as costs

    X = mixture(rng, 1500, 2)
    metric = gg.Randers(rhvae(rng, X, 30), gg.RBFField(X[:8], 0.01 * rng.normal(size=(8, 2)), 1.0))
    ia, ib = knn_segments(X, 5)
    R, A = gg.segment_costs(metric, X, ia, ib)
    monkeypatch.setattr(costs, "NODE_MEMORY_BUDGET", 1)  # groups of 256 nodes
    R2, A2 = gg.segment_costs(metric, X, ia, ib)
    assert_array_equal(R2, R)
    assert_array_equal(A2, A)
    # every node's data fits (52 entries per node here, 1500 nodes) but not every segment's
    # end data (a quarter of the budget: 2777 of the segments): groups by segments
    monkeypatch.setattr(costs, "NODE_MEMORY_BUDGET", 100_000)
    assert len(ia) > 100_000 // 36
    calls = []
    real = costs._an.adaptive_ends
    monkeypatch.setattr(costs._an, "adaptive_ends", lambda *a: (calls.append(1), real(*a)))
    R3, A3 = gg.segment_costs(metric, X, ia, ib)
    assert len(calls) >= 2
    assert_array_equal(R3, R)
    assert_array_equal(A3, A)


def test_segment_costs_validates_inputs():
    pts = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(gg.InvalidInputError, match="dimension"):
        gg.segment_costs(gg.Euclidean(2), pts, [0, 1], [1, 2])
    with pytest.raises(gg.InvalidInputError, match="ib"):
        gg.segment_costs(gg.Euclidean(3), pts, [0], [4])
    with pytest.raises(gg.InvalidInputError, match="same length"):
        gg.segment_costs(gg.Euclidean(3), pts, [0, 1], [2])
    bad = pts.copy()
    bad[0, 2] = np.nan
    with pytest.raises(gg.InvalidInputError, match="NaN"):
        gg.segment_costs(gg.Euclidean(3), bad, [0], [1])
    R, _ = gg.segment_costs(gg.Euclidean(2), [[0.0, 0.0], [3.0, 4.0]], [0], [1])
    assert_allclose(R, [5.0], rtol=1e-15)


@pytest.mark.parametrize("n", [1, 7, 65_536, 65_537, 200_000])
def test_compact_and_stable_order_match_numpy(rng, n):
    """The sort-free node numbering and the radix ordering of segments (used on every call)
    equal np.unique and the stable argsort, including keys above one 16-bit digit."""
    from graphgeo.costs import _compact, _stable_order

    idx = rng.integers(0, n, 3000)
    idx[:2] = [0, n - 1]
    nodes, inv = _compact(idx, n)
    ref_nodes, ref_inv = np.unique(idx, return_inverse=True)
    assert_array_equal(nodes, ref_nodes)
    assert_array_equal(inv, ref_inv)
    keys = rng.integers(0, n, 5000)  # many ties: stability matters
    assert_array_equal(_stable_order(keys, n), np.argsort(keys, kind="stable"))
    assert_array_equal(_stable_order(np.zeros(0, dtype=np.int64), n), np.zeros(0, dtype=np.int64))


@pytest.mark.parametrize("family", ["rhvae", "vae_diag_rbf"])
def test_segment_end_data_matches_numpy_and_finite_differences(rng, family, monkeypatch):
    """adaptive_ends (the end values and derivatives the Hermite rules use, computed node
    by node) against the metric's own numpy integrands at the segment ends and central
    differences along the segment; a wrong derivative would only cost speed downstream
    (levels rejected), so it is checked here directly."""
    import graphgeo.costs as gc

    d = 3
    X = mixture(rng, 300, d)
    if family == "rhvae":
        metric = rhvae(rng, X, 30)
    else:
        base = gg.VAECometric(X[:60], np.exp(0.3 * rng.normal(size=(60, d))), 1.0, 1e-3)
        centers = X[rng.choice(len(X), 15, replace=False)]
        field = gg.RBFField(centers, 0.02 * rng.normal(size=(15, d)), bandwidth=1.0)
        metric = gg.Randers(base, field)
    ia, ib = knn_segments(X, 5)
    seen = {}
    real = gc._an.adaptive_ends

    def spy(order, P, ea, eb, *args):
        real(order, P, ea, eb, *args)
        seen.update(P=P.copy(), ea=ea.copy(), eb=eb.copy(), out=[a.copy() for a in args[-1]])

    monkeypatch.setattr(gc._an, "adaptive_ends", spy)
    gg.segment_costs(metric, X, ia, ib)
    P, ea, eb = seen["P"], seen["ea"], seen["eb"]
    EF, ED, EG, EDG, ER = seen["out"]
    # canonical orientation: lexicographic order of the endpoints
    swap = np.array([tuple(P[j]) < tuple(P[i]) for i, j in zip(ea, eb)])
    a = np.where(swap[:, None], P[eb], P[ea])
    b = np.where(swap[:, None], P[ea], P[eb])
    v = b - a
    h = 1e-5

    def integrands(t):
        f, g, _ = metric._segment_integrands(a + t * v, v)
        return np.asarray(f), np.asarray(g)

    for c, t in ((0, 0.0), (1, 1.0)):
        f, g = integrands(t)
        assert_allclose(EF[:, c], f, rtol=1e-12)
        assert_allclose(EG[:, c], g, rtol=1e-10, atol=1e-15)
        fp, gp = integrands(t + h)
        fm, gm = integrands(t - h)
        assert_allclose(ED[:, c], (fp - fm) / (2 * h), rtol=1e-6, atol=1e-9 * np.abs(f).max())
        if family != "rhvae":
            assert_allclose(EDG[:, c], (gp - gm) / (2 * h), rtol=1e-5,
                            atol=1e-8 * np.abs(g).max())
    assert not ER.any()


def test_non_finite_cost_names_its_segment():
    """The NotSPDError raised for a non-finite kernel result names that segment's endpoints
    (gathered only on failure)."""
    from graphgeo.costs import _check_finite

    P = np.arange(12.0).reshape(6, 2)
    ia = np.array([0, 1, 2])
    ib = np.array([3, 4, 5])
    _check_finite(np.ones(3), P, ia, P, ib)
    with pytest.raises(gg.NotSPDError, match=r"from \[2\. 3\.\] to \[8\. 9\.\]"):
        _check_finite(np.array([1.0, np.nan, np.inf]), P, ia, P, ib)
