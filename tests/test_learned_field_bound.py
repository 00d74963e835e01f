"""A learned 1-form satisfies the Randers condition everywhere, as documented:

    fit = gg.learn.fit_randers(X, order)
    metric = gg.Randers(base, fit.field)

The Gaussian RBF interpolant of fit_randers overshoots its values between the
training points (on a random order its |omega| reaches ~3 where the fit caps it at
0.9 at the points); the field carries the fit's max_norm and Randers applies it.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg

pytest.importorskip("torch")


def _between(z, nb, m=9):
    """m interior points on each segment from z_i to its neighbours nb[i]."""
    t = np.linspace(0.0, 1.0, m + 2)[1:-1]
    a = np.repeat(z, nb.shape[1], axis=0)
    b = z[nb.ravel()]
    return (a[:, None] + t[None, :, None] * (b - a)[:, None]).reshape(-1, z.shape[1])


@pytest.fixture(scope="module")
def mixed():
    """Points whose order is random: phi flips from point to point, the interpolant overshoots."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 2))
    order = rng.uniform(size=300)
    return z, order, gg.learn.fit_randers(z, order, k=16, seed=0)


def test_documented_use_builds_with_positive_weights(mixed):
    z, _, fit = mixed
    metric = gg.Randers(gg.Euclidean(2), fit.field)
    assert metric.max_norm == fit.max_norm == 0.9
    # the raw interpolant does violate the condition between the points (else this test is void)
    zz = _between(z, fit.neighbors[:, :8])
    assert metric.omega_norm(zz).max() > 1.5
    g = gg.GeodesicGraph.build(z, metric, k=10)
    assert g.weights.data.min() > 0
    # the condition holds on a dense sample between the training points, with the fit's margin
    eff = metric.effective_omega(zz)
    assert np.linalg.norm(eff, axis=1).max() <= 0.9 * (1 + 1e-12)
    # where the interpolant stays under the cap it is left unchanged
    raw = fit.field(zz)
    under = np.linalg.norm(raw, axis=1) <= 0.9
    assert under.mean() > 0.5
    assert_allclose(eff[under], raw[under], rtol=0, atol=0)


def test_documented_use_equals_fit_metric(mixed):
    z, _, fit = mixed
    g_doc = gg.GeodesicGraph.build(z, gg.Randers(fit.base, fit.field), k=10, quadrature=8)
    g_fit = gg.GeodesicGraph.build(z, fit.metric(), k=10, quadrature=8)
    assert_allclose(g_doc.weights.data, g_fit.weights.data, rtol=0, atol=0)


def test_weights_match_a_numpy_reference_of_the_capped_field(mixed):
    """Edge weights (fused kernel, 8-point Gauss-Legendre) against the same quadrature of
    F(z, v) = |v| + <omega_eff(z), v> written with numpy from effective_omega."""
    z, _, fit = mixed
    metric = gg.Randers(gg.Euclidean(2), fit.field)
    g = gg.GeodesicGraph.build(z, metric, k=10, quadrature=8)
    W = g.weights.tocoo()
    sel = np.random.default_rng(1).choice(len(W.data), 400, replace=False)
    i, j = W.row[sel], W.col[sel]
    x, w = np.polynomial.legendre.leggauss(8)
    t, w = 0.5 * (x + 1), 0.5 * w
    dv = z[j] - z[i]
    zq = (z[i][:, None] + t[None, :, None] * dv[:, None]).reshape(-1, 2)
    F = metric.norm(zq, np.repeat(dv, 8, axis=0)).reshape(-1, 8)
    assert_allclose(W.data[sel], F @ w, rtol=1e-10, atol=1e-14)
    # some of these edges do cross the capped region: the cap is what the weights use
    raw = np.linalg.norm(fit.field(zq), axis=1)
    assert raw.max() > 0.9


def test_explicit_max_norm_wins_and_save_load_keeps_the_cap(mixed, tmp_path):
    z, _, fit = mixed
    assert gg.Randers(gg.Euclidean(2), fit.field, max_norm=0.5).max_norm == 0.5
    g = gg.GeodesicGraph.build(z, gg.Randers(gg.Euclidean(2), fit.field), k=10, quadrature=8)
    g.save(tmp_path / "g.npz")
    g2 = gg.GeodesicGraph.load(tmp_path / "g.npz")
    assert g2.metric.max_norm == 0.9 and g2.metric.omega.max_norm == 0.9
    # a field saved on its own and rebuilt from its arrays keeps its cap
    again = gg.Randers(gg.Euclidean(2), gg.RBFField(**{
        "centers": fit.field.centers, "coefficients": fit.field.coefficients,
        "bandwidth": fit.field.bandwidth, "max_norm": fit.field.max_norm}))
    g3 = gg.GeodesicGraph.build(z, again, k=10, quadrature=8)
    assert_allclose(g3.weights.data, g.weights.data, rtol=0, atol=0)


def test_fit_respects_its_cap_under_an_anisotropic_base():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(200, 2))
    order = rng.uniform(size=200)
    A = np.array([[4.0, 1.0], [1.0, 0.5]])
    base = gg.ConstantMetric(A)
    fit = gg.learn.fit_randers(z, order, k=12, base=base, seed=0, max_norm=0.7)
    metric = gg.Randers(base, fit.field)
    zz = _between(z, fit.neighbors[:, :6])
    assert metric.omega_norm(zz).max() > 1.0  # the interpolant overshoots under this base too
    om = metric.effective_omega(zz)
    nrm = np.sqrt(np.einsum("ni,ij,nj->n", om, np.linalg.inv(A), om))
    assert nrm.max() <= 0.7 * (1 + 1e-12)
    assert gg.GeodesicGraph.build(z, metric, k=8).weights.data.min() > 0


def test_rbf_field_max_norm_is_validated():
    c = np.zeros((1, 2))
    with pytest.raises(gg.InvalidInputError, match=r"max_norm must be a finite number in \(0.0, 1.0\)"):
        gg.RBFField(c, c, 1.0, max_norm=1.5)
    assert gg.RBFField(c, c, 1.0).max_norm is None
    # without a cap, a violation is still an error that says what to do
    f = gg.RBFField(c, np.array([[3.0, 0.0]]), 1.0)
    with pytest.raises(gg.RandersConditionError, match="pass max_norm=0.9"):
        gg.GeodesicGraph.build(np.random.default_rng(0).normal(size=(40, 2)), gg.Randers(gg.Euclidean(2), f), k=5)


def test_cli_omega_file_keeps_the_cap(mixed, tmp_path):
    """A learned field saved as .npz (centers, coefficients, bandwidth, max_norm) for
    ``graphgeo build --omega`` keeps its cap."""
    from graphgeo.io import load_metric

    z, _, fit = mixed
    path = tmp_path / "omega.npz"
    np.savez(path, centers=fit.field.centers, coefficients=fit.field.coefficients,
             bandwidth=fit.field.bandwidth, max_norm=fit.field.max_norm)
    metric = load_metric("euclidean", 2, omega=str(path))
    assert metric.max_norm == 0.9
    assert gg.GeodesicGraph.build(z, metric, k=10).weights.data.min() > 0
