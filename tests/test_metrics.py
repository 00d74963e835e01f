"""Metric families: numpy/torch agreement, cometric/metric inverses, lower bounds,
centroid skipping, constructors, bad input and .npz round trips.

Tolerances: numpy vs torch float64 1e-12 relative (same formulas, different
einsum/solve orderings); G G^{-1} = I to 1e-10 (condition numbers below ~1e3);
textbook references 1e-12 relative.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg
from graphgeo.metrics import metric_from_arrays, metric_to_arrays

D = 3


def spd_stack(rng, K, d, jitter=0.2):
    L = rng.normal(size=(K, d, d)) / np.sqrt(d)
    return L @ L.transpose(0, 2, 1) + jitter * np.eye(d)


# numpy / torch twins of the callables used by the generic families
def diag_np(z):
    return 0.5 + z * z + 0.3 * np.cos(z)


def diag_torch(z):
    import torch

    return 0.5 + z * z + 0.3 * torch.cos(z)


def field_np(z):
    u = np.sin(z)
    return (1.0 + np.sum(z * z, axis=1))[:, None, None] * np.eye(z.shape[1]) + u[:, :, None] * u[:, None, :]


def field_torch(z):
    import torch

    u = torch.sin(z)
    eye = torch.eye(z.shape[1], dtype=z.dtype)
    return (1.0 + (z * z).sum(1))[:, None, None] * eye + u[:, :, None] * u[:, None, :]


def omega_np(z):
    return 0.4 * np.sin(z + np.arange(z.shape[1]))


def omega_torch(z):
    import torch

    return 0.4 * torch.sin(z + torch.arange(z.shape[1], dtype=z.dtype))


def _rng():
    return np.random.default_rng(2024)


def make_bases():
    rng = _rng()
    K = 6
    c = rng.normal(size=(K, D))
    return {
        "euclidean": gg.Euclidean(D),
        "constant": gg.ConstantMetric(spd_stack(rng, 1, D)[0]),
        "diagfield": gg.DiagonalField(diag_np, D, torch_fn=diag_torch),
        "diagfield-numpy-only": gg.DiagonalField(diag_np, D),
        "fieldmetric": gg.FieldMetric(field_np, D, torch_fn=field_torch),
        "fieldmetric-numpy-only": gg.FieldMetric(field_np, D),
        "rhvae": gg.RHVAEMetric(c, spd_stack(rng, K, D), 0.8, 0.05),
        "vae-diag": gg.VAECometric(c, rng.uniform(0.3, 2.0, size=(K, D)), 0.9, 0.02),
        "vae-full": gg.VAECometric(c, spd_stack(rng, K, D, 0.3), 0.9, 0.02),
        "centroid-Mdiag": gg.CentroidCometric(c, rng.uniform(0.2, 3.0, size=(K, D)), 0.6, 0.03),
        "centroid-Mfull-Pdiag": gg.CentroidCometric(c, spd_stack(rng, K, D), 0.6, 0.03,
                                                    weight_precision=rng.uniform(0.3, 2, (K, D))),
        "centroid-Mdiag-Pfull": gg.CentroidCometric(c, rng.uniform(0.2, 3.0, size=(K, D)), 0.6, 0.03,
                                                    weight_precision=spd_stack(rng, K, D, 0.5)),
    }


BASES = make_bases()


def make_omegas():
    rng = _rng()
    return {
        "const": np.array([0.3, -0.2, 0.1]),
        "rbf": gg.RBFField(rng.normal(size=(5, D)), 0.3 * rng.normal(size=(5, D)), 0.9),
        "callable": gg.CallableField(omega_np, D, torch_fn=omega_torch),
        "callable-numpy-only": omega_np,
    }


def make_randers():
    omegas = make_omegas()
    out = {}
    for b in ("euclidean", "constant", "diagfield", "fieldmetric", "rhvae", "vae-diag", "vae-full",
              "centroid-Mfull-Pdiag"):
        for o, om in omegas.items():
            out[f"randers-{b}-{o}"] = gg.Randers(BASES[b], om)
            # a large omega, rescaled pointwise
            big = om * 10.0 if isinstance(om, np.ndarray) else _times(om, 10.0)
            out[f"randers-{b}-{o}-maxnorm"] = gg.Randers(BASES[b], big, max_norm=0.8)
    return out


def _times(om, s):
    if isinstance(om, gg.RBFField):
        return gg.RBFField(om.centers, s * om.coefficients, om.bandwidth)
    if isinstance(om, gg.CallableField):
        return gg.CallableField(lambda z: s * om.fn(z), om.dim, torch_fn=lambda z: s * om.torch_fn(z))
    return lambda z: s * om(z)


RANDERS = make_randers()
ALL = {**BASES, **RANDERS}


def sample(n=25, seed=0, spread=1.5):
    rng = np.random.default_rng(seed)
    return spread * rng.normal(size=(n, D)), rng.normal(size=(n, D))


# ---------------------------------------------------------------------------
# numpy vs torch
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ALL))
def test_numpy_torch_agree(name):
    torch = pytest.importorskip("torch")
    metric = ALL[name]
    z, v = sample()
    zt, vt = torch.tensor(z, dtype=torch.float64), torch.tensor(v, dtype=torch.float64)
    for method, args, targs in (("metric_tensor", (z,), (zt,)),
                                ("cometric_tensor", (z,), (zt,)),
                                ("norm", (z, v), (zt, vt))):
        a = getattr(metric, method)(*args)
        b = getattr(metric, method)(*targs)
        assert isinstance(a, np.ndarray) and a.dtype == np.float64
        assert isinstance(b, torch.Tensor) and b.dtype == torch.float64
        assert_allclose(b.numpy(), a, rtol=1e-12, atol=1e-14, err_msg=method)
    if isinstance(metric, gg.Randers):
        for method in ("effective_omega", "omega_norm"):
            a = getattr(metric, method)(z)
            b = getattr(metric, method)(zt)
            assert isinstance(b, torch.Tensor)
            assert_allclose(b.numpy(), a, rtol=1e-12, atol=1e-14, err_msg=method)


@pytest.mark.parametrize("name", [n for n in ALL if "numpy-only" not in n])
def test_torch_norm_is_differentiable(name):
    torch = pytest.importorskip("torch")
    metric = ALL[name]
    z, v = sample(n=8)
    zt = torch.tensor(z, requires_grad=True)
    vt = torch.tensor(v, requires_grad=True)
    metric.norm(zt, vt).sum().backward()
    assert torch.isfinite(vt.grad).all()
    # d/dz F(z, v) by central finite differences of the numpy evaluation (None: F is constant in z)
    gz = np.zeros_like(z) if zt.grad is None else zt.grad.numpy()
    h = 1e-6
    fd = np.stack([(metric.norm(z + h * e, v) - metric.norm(z - h * e, v)) / (2 * h) for e in np.eye(D)], 1)
    assert_allclose(gz, fd, rtol=1e-6, atol=1e-7)
    # d/dv F(z, v) = G v / |v|_G + omega'(z): check against numpy
    G = metric.metric_tensor(z)
    Gv = np.einsum("nij,nj->ni", G, v)
    expect = Gv / np.sqrt(np.einsum("ni,ni->n", v, Gv))[:, None]
    if isinstance(metric, gg.Randers):
        expect = expect + metric.effective_omega(z)
    assert_allclose(vt.grad.numpy(), expect, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("base", ["euclidean", "rhvae", "vae-diag"])
def test_torch_gradient_finite_where_omega_vanishes(base):
    """max_norm rescaling must not put sqrt'(0) = inf into the gradient at a zero of omega."""
    torch = pytest.importorskip("torch")
    metric = gg.Randers(BASES[base], gg.CallableField(lambda z: 3.0 * z, D, torch_fn=lambda z: 3.0 * z),
                        max_norm=0.8)
    z, v = sample(n=6)
    z[0] = 0.0  # omega(0) = 0
    zt = torch.tensor(z, requires_grad=True)
    metric.norm(zt, torch.tensor(v)).sum().backward()
    assert torch.isfinite(zt.grad).all()
    h = 1e-6
    fd = np.stack([(metric.norm(z + h * e, v) - metric.norm(z - h * e, v)) / (2 * h) for e in np.eye(D)], 1)
    assert_allclose(zt.grad.numpy(), fd, rtol=1e-6, atol=1e-7)


def test_torch_float32_follows_input_dtype():
    torch = pytest.importorskip("torch")
    z, v = sample(n=5)
    out = BASES["rhvae"].norm(torch.tensor(z, dtype=torch.float32), torch.tensor(v, dtype=torch.float32))
    assert out.dtype == torch.float32
    assert_allclose(out.numpy(), BASES["rhvae"].norm(z, v), rtol=1e-5)


# ---------------------------------------------------------------------------
# consistency of the numpy evaluation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ALL))
def test_metric_is_inverse_of_cometric(name):
    metric = ALL[name]
    z, v = sample()
    G = metric.metric_tensor(z)
    C = metric.cometric_tensor(z)
    assert G.shape == C.shape == (len(z), D, D)
    eye = np.broadcast_to(np.eye(D), G.shape)
    assert_allclose(G @ C, eye, atol=1e-10)
    assert_allclose(G, np.swapaxes(G, 1, 2), rtol=1e-13, atol=1e-14)
    assert np.all(np.linalg.eigvalsh(G) > 0)
    # the Riemannian part of the norm is sqrt(v^T G v)
    riem = np.sqrt(np.einsum("ni,nij,nj->n", v, G, v))
    F = metric.norm(z, v)
    if isinstance(metric, gg.Randers):
        riem = riem + np.einsum("ni,ni->n", metric.effective_omega(z), v)
    assert_allclose(F, riem, rtol=1e-12)


def test_single_point_is_promoted_to_a_batch():
    metric = BASES["rhvae"]
    z, v = sample(n=1)
    assert_allclose(metric.norm(z[0], v[0]), metric.norm(z, v), rtol=0)
    assert metric.metric_tensor(z[0]).shape == (1, D, D)


@pytest.mark.parametrize("name", ["euclidean", "rhvae", "randers-rhvae-const"])
def test_norm_rejects_mismatched_batches(name):
    z, v = sample(n=4)
    with pytest.raises(gg.InvalidInputError, match="v"):
        ALL[name].norm(z, v[:3])


def rhvae_cometric(c, M, T, lbd, z):
    """Textbook RHVAE cometric at a batch of points: sum_k M_k exp(-|z - c_k|^2 / T^2) + lbd I."""
    w = np.exp(-np.sum((z[:, None, :] - c[None]) ** 2, axis=2) / T**2)
    return np.einsum("nk,kij->nij", w, M) + lbd * np.eye(c.shape[1])


def test_rhvae_matches_textbook():
    rng = _rng()
    K = 6
    c = rng.normal(size=(K, D))
    M = spd_stack(rng, K, D)
    metric = gg.RHVAEMetric(c, M, 0.7, 0.04)
    z, v = sample()
    C = rhvae_cometric(c, M, 0.7, 0.04, z)
    assert_allclose(metric.cometric_tensor(z), C, rtol=1e-13)
    assert_allclose(metric.metric_tensor(z), np.linalg.inv(C), rtol=1e-11)
    assert_allclose(metric.norm(z, v), np.sqrt(np.einsum("ni,ni->n", v, np.linalg.solve(C, v[..., None])[..., 0])),
                    rtol=1e-12)
    assert metric.temperature == 0.7


def test_vae_cometric_matches_textbook():
    rng = _rng()
    K, tau, lbd = 5, 0.8, 0.03
    mu = rng.normal(size=(K, D))
    for S in (rng.uniform(0.3, 2.0, size=(K, D)), spd_stack(rng, K, D, 0.3)):
        Sf = np.array([np.diag(s) for s in S]) if S.ndim == 2 else S
        P = np.linalg.inv(Sf)
        z, _ = sample()
        diff = z[:, None, :] - mu[None]
        w = np.exp(-np.einsum("nki,kij,nkj->nk", diff, P, diff) / (2 * tau**2))
        C = np.einsum("nk,kij->nij", w, P) + lbd * np.eye(D)
        metric = gg.VAECometric(mu, S, tau, lbd)
        assert_allclose(metric.cometric_tensor(z), C, rtol=1e-12)
        assert_allclose(metric.weights(z), w, rtol=1e-12)


def test_rbf_field_matches_textbook():
    rng = _rng()
    centers, W, h = rng.normal(size=(4, D)), rng.normal(size=(4, D)), 0.7
    z, _ = sample()
    e = np.exp(-np.sum((z[:, None] - centers[None]) ** 2, axis=2) / (2 * h * h))
    assert_allclose(gg.RBFField(centers, W, h)(z), e @ W, rtol=1e-13)


def test_rbf_field_fit_interpolates():
    rng = _rng()
    p = rng.normal(size=(30, D))
    vals = np.sin(p)
    field = gg.RBFField.fit(p, vals, ridge=1e-12)
    assert_allclose(field(p), vals, atol=1e-6)


def test_randers_effective_omega_rescaling():
    metric = RANDERS["randers-rhvae-rbf-maxnorm"]
    z, v = sample(n=200)
    raw = metric.omega(z)
    nrm = metric.omega_norm(z)
    eff = metric.effective_omega(z)
    C = metric.cometric_tensor(z)
    eff_norm = np.sqrt(np.einsum("ni,nij,nj->n", eff, C, eff))
    assert np.any(nrm > 0.8) and np.any(nrm < 0.8)  # both branches exercised
    assert_allclose(eff_norm, np.minimum(nrm, 0.8), rtol=1e-12)
    assert_allclose(eff, raw * np.minimum(1.0, 0.8 / nrm)[:, None], rtol=1e-13)
    F_fwd, F_bwd = metric.norm(z, v), metric.norm(z, -v)
    assert np.all(F_fwd > 0) and np.all(F_bwd > 0)
    assert np.any(np.abs(F_fwd - F_bwd) > 1e-3)  # direction-aware


def test_randers_check():
    base = BASES["euclidean"]
    z, _ = sample()
    gg.Randers(base, np.array([0.5, 0.0, 0.0])).check(z)
    with pytest.raises(gg.RandersConditionError, match="max_norm"):
        gg.Randers(base, np.array([1.2, 0.0, 0.0])).check(z)
    gg.Randers(base, np.array([1.2, 0.0, 0.0]), max_norm=0.5).check(z)  # rescaled: no error


# ---------------------------------------------------------------------------
# lower bounds
# ---------------------------------------------------------------------------


LOWER_BOUNDED = ["euclidean", "constant", "rhvae", "vae-diag", "vae-full", "centroid-Mdiag",
                 "centroid-Mfull-Pdiag", "centroid-Mdiag-Pfull"]


@pytest.mark.parametrize("name", list(ALL))
def test_lower_bound_bounds_the_norm(name):
    metric = ALL[name]
    c = metric.lower_bound()
    if name in LOWER_BOUNDED:
        assert c is not None and c > 0
    if c is None:
        return
    rng = np.random.default_rng(1)
    z = np.vstack([3.0 * rng.normal(size=(300, D)), 0.1 * rng.normal(size=(300, D))])
    if hasattr(metric, "centroids"):
        z = np.vstack([z, metric.centroids, metric.centroids + 0.05 * rng.normal(size=metric.centroids.shape)])
    v = rng.normal(size=z.shape)
    # the directions where the cometric is largest: its top eigenvectors
    C = metric.cometric_tensor(z)
    top = np.linalg.eigh(C)[1][:, :, -1]
    for vv in (v, top):
        F = metric.norm(z, vv)
        assert np.all(F >= c * np.linalg.norm(vv, axis=1) * (1 - 1e-12))


def test_lower_bound_is_tight_for_constant_metrics():
    rng = _rng()
    A = spd_stack(rng, 1, D)[0]
    vals, vecs = np.linalg.eigh(A)
    m = gg.ConstantMetric(A)
    assert_allclose(m.lower_bound(), np.sqrt(vals[0]), rtol=1e-14)
    z = rng.normal(size=(1, D))
    assert_allclose(m.norm(z, vecs[:, :1].T), np.sqrt(vals[0]), rtol=1e-12)
    assert gg.Euclidean(4).lower_bound() == 1.0


# ---------------------------------------------------------------------------
# skipping of negligible centroids
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mkind", ["full", "diag"])
def test_far_centroids_skipped_without_effect(mkind):
    """K = 2000, most centroids far away: the kernels skip them; nothing changes beyond 1e-12."""
    rng = np.random.default_rng(11)
    K, T, lbd = 2000, 1.0, 1e-3
    near = rng.normal(size=(15, D))
    direc = rng.normal(size=(K - 15, D))
    direc /= np.linalg.norm(direc, axis=1, keepdims=True)
    c = np.vstack([near, direc * rng.uniform(6.0, 12.0, size=(K - 15, 1))])
    M = spd_stack(rng, K, D) if mkind == "full" else rng.uniform(0.5, 3.0, size=(K, D))
    Mf = M if mkind == "full" else np.array([np.diag(m) for m in M])
    metric = gg.CentroidCometric(c, M, T * T, lbd)
    z, v = sample(n=40, seed=4)
    C = rhvae_cometric(c, Mf, T, lbd, z)
    # numpy evaluation (all centroids)
    exact = np.sqrt(np.einsum("ni,ni->n", v, np.linalg.solve(C, v[..., None])[..., 0]))
    assert_allclose(metric.norm(z, v), exact, rtol=1e-12)
    # compiled kernel (skips far centroids): one-node rule on segments z -> z + v is |v|_G(z + v/2)
    pts = np.vstack([z - 0.5 * v, z + 0.5 * v])
    idx = np.arange(len(z))
    R, _ = gg.segment_costs(metric, pts, idx, idx + len(z), quadrature=1)
    assert_allclose(R, exact, rtol=1e-12)


# ---------------------------------------------------------------------------
# constructors
# ---------------------------------------------------------------------------


def test_rhvae_from_cholesky():
    rng = _rng()
    K = 4
    c = rng.normal(size=(K, D))
    L = np.tril(rng.normal(size=(K, D, D)))
    L[:, np.arange(D), np.arange(D)] = np.abs(L[:, np.arange(D), np.arange(D)]) + 0.1
    a = gg.RHVAEMetric.from_cholesky(c, L, 0.5, 0.01)
    b = gg.RHVAEMetric(c, L @ L.transpose(0, 2, 1), 0.5, 0.01)
    assert isinstance(a, gg.RHVAEMetric)
    assert_allclose(a.M, np.einsum("kij,klj->kil", L, L), rtol=1e-14)
    z, v = sample()
    assert_allclose(a.norm(z, v), b.norm(z, v), rtol=1e-14)
    assert_allclose(a.cometric_tensor(z), rhvae_cometric(c, a.M, 0.5, 0.01, z), rtol=1e-13)
    with pytest.raises(gg.MetricError, match="M"):
        gg.RHVAEMetric.from_cholesky(c, L[:, 0], 0.5, 0.01)
    with pytest.raises(gg.NotSPDError):  # a singular factor gives a singular M_k
        gg.RHVAEMetric.from_cholesky(c, np.zeros((K, D, D)), 0.5, 0.01)


def test_constructors_do_not_modify_inputs():
    rng = _rng()
    c = rng.normal(size=(3, D))
    M = spd_stack(rng, 3, D)
    c0, M0 = c.copy(), M.copy()
    gg.RHVAEMetric(c, M, 1.0, 0.1)
    assert np.array_equal(c, c0) and np.array_equal(M, M0)


def test_torch_parameters_accepted():
    torch = pytest.importorskip("torch")
    rng = _rng()
    c = rng.normal(size=(3, D))
    M = spd_stack(rng, 3, D)
    a = gg.RHVAEMetric(torch.tensor(c), torch.tensor(M), 1.0, 0.1)
    b = gg.RHVAEMetric(c, M, 1.0, 0.1)
    z, v = sample()
    assert_allclose(a.norm(z, v), b.norm(z, v), rtol=0)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

_r = np.random.default_rng(5)
C3 = _r.normal(size=(3, 2))
M3 = np.tile(np.eye(2), (3, 1, 1))
NOT_SPD = np.tile(np.diag([1.0, -1.0]), (3, 1, 1))
ASYM = np.tile(np.array([[1.0, 0.5], [0.0, 1.0]]), (3, 1, 1))
NAN_C = C3.copy()
NAN_C[1, 0] = np.nan
INF_M = M3.copy()
INF_M[0, 0, 0] = np.inf


BAD = [
    # shapes
    ("centroids-1d", lambda: gg.RHVAEMetric(np.zeros(3), M3, 1.0, 0.1), gg.MetricError, "centroids"),
    ("centroids-empty", lambda: gg.CentroidCometric(np.zeros((0, 2)), np.ones((0, 2)), 1.0, 0.1),
     gg.MetricError, "centroids"),
    ("M-wrong-K", lambda: gg.RHVAEMetric(C3, M3[:2], 1.0, 0.1), gg.MetricError, "M"),
    ("M-wrong-d", lambda: gg.RHVAEMetric(C3, np.tile(np.eye(3), (3, 1, 1)), 1.0, 0.1), gg.MetricError, "M"),
    ("M-rhvae-2d", lambda: gg.RHVAEMetric(C3, np.ones((3, 2)), 1.0, 0.1), gg.MetricError, "M"),
    ("M-centroid-4d", lambda: gg.CentroidCometric(C3, M3[..., None], 1.0, 0.1), gg.MetricError, "M"),
    ("sigma-4d", lambda: gg.VAECometric(C3, M3[..., None], 1.0, 0.1), gg.MetricError, "sigma"),
    ("sigma-1d", lambda: gg.VAECometric(C3, np.ones(2), 1.0, 0.1), gg.MetricError, "sigma"),
    ("weight_precision-shape", lambda: gg.CentroidCometric(C3, M3, 1.0, 0.1, weight_precision=np.ones((3, 3))),
     gg.MetricError, "weight_precision"),
    ("A-not-square", lambda: gg.ConstantMetric(np.ones((2, 3))), gg.MetricError, "A"),
    ("A-1d", lambda: gg.ConstantMetric(np.ones(3)), gg.MetricError, "A"),
    # SPD
    ("M-not-spd", lambda: gg.RHVAEMetric(C3, NOT_SPD, 1.0, 0.1), gg.NotSPDError, "M"),
    ("M-asymmetric", lambda: gg.RHVAEMetric(C3, ASYM, 1.0, 0.1), gg.NotSPDError, "M.*symmetric"),
    ("M-diag-nonpositive", lambda: gg.CentroidCometric(C3, -np.ones((3, 2)), 1.0, 0.1), gg.MetricError, "M"),
    ("sigma-not-spd", lambda: gg.VAECometric(C3, NOT_SPD, 1.0, 0.1), gg.NotSPDError, "sigma"),
    ("sigma-nonpositive", lambda: gg.VAECometric(C3, np.zeros((3, 2)), 1.0, 0.1), gg.MetricError, "sigma"),
    ("weight_precision-not-spd",
     lambda: gg.CentroidCometric(C3, M3, 1.0, 0.1, weight_precision=NOT_SPD), gg.NotSPDError, "weight_precision"),
    ("weight_precision-nonpositive",
     lambda: gg.CentroidCometric(C3, M3, 1.0, 0.1, weight_precision=-np.ones((3, 2))), gg.MetricError,
     "weight_precision"),
    ("A-not-spd", lambda: gg.ConstantMetric(np.diag([1.0, 0.0])), gg.NotSPDError, "A"),
    # scalars
    ("temperature-zero", lambda: gg.RHVAEMetric(C3, M3, 0.0, 0.1), gg.InvalidInputError, "temperature"),
    ("temperature-negative", lambda: gg.RHVAEMetric(C3, M3, -1.0, 0.1), gg.InvalidInputError, "temperature"),
    ("temperature-nan", lambda: gg.RHVAEMetric(C3, M3, np.nan, 0.1), gg.InvalidInputError, "temperature"),
    ("temperature-str", lambda: gg.RHVAEMetric(C3, M3, "1", 0.1), gg.InvalidInputError, "temperature"),
    ("lbd-zero", lambda: gg.RHVAEMetric(C3, M3, 1.0, 0.0), gg.InvalidInputError, "lbd"),
    ("lbd-negative", lambda: gg.VAECometric(C3, np.ones((3, 2)), 1.0, -0.1), gg.InvalidInputError, "lbd"),
    ("lbd-inf", lambda: gg.RHVAEMetric(C3, M3, 1.0, np.inf), gg.InvalidInputError, "lbd"),
    ("tau-zero", lambda: gg.VAECometric(C3, np.ones((3, 2)), 0.0, 0.1), gg.InvalidInputError, "tau"),
    ("tau-nan", lambda: gg.VAECometric(C3, np.ones((3, 2)), np.nan, 0.1), gg.InvalidInputError, "tau"),
    ("scale-negative", lambda: gg.CentroidCometric(C3, M3, -2.0, 0.1), gg.InvalidInputError, "scale"),
    ("dim-zero", lambda: gg.Euclidean(0), gg.InvalidInputError, "dim"),
    ("dim-float", lambda: gg.Euclidean(2.5), gg.InvalidInputError, "dim"),
    ("bandwidth-zero", lambda: gg.RBFField(C3, C3, 0.0), gg.InvalidInputError, "bandwidth"),
    ("coefficients-shape", lambda: gg.RBFField(C3, C3[:2], 1.0), gg.InvalidInputError, "coefficients"),
    # NaN / Inf
    ("centroids-nan", lambda: gg.RHVAEMetric(NAN_C, M3, 1.0, 0.1), gg.InvalidInputError, "centroids"),
    ("M-inf", lambda: gg.RHVAEMetric(C3, INF_M, 1.0, 0.1), gg.InvalidInputError, "M"),
    ("sigma-nan", lambda: gg.VAECometric(C3, np.full((3, 2), np.nan), 1.0, 0.1), gg.InvalidInputError, "sigma"),
    ("weight_precision-nan",
     lambda: gg.CentroidCometric(C3, M3, 1.0, 0.1, weight_precision=np.full((3, 2), np.nan)),
     gg.InvalidInputError, "weight_precision"),
    ("A-nan", lambda: gg.ConstantMetric(np.array([[1.0, np.nan], [np.nan, 1.0]])), gg.InvalidInputError, "A"),
    ("A-inf", lambda: gg.ConstantMetric(np.diag([np.inf, 1.0])), gg.InvalidInputError, "A"),
    ("omega-nan", lambda: gg.Randers(gg.Euclidean(2), np.array([np.nan, 0.0])), gg.InvalidInputError, "omega"),
    ("rbf-centers-nan", lambda: gg.RBFField(NAN_C, C3, 1.0), gg.InvalidInputError, "centers"),
    # Randers
    ("omega-dim", lambda: gg.Randers(gg.Euclidean(2), np.ones(3)), gg.MetricError, "omega"),
    ("omega-2d", lambda: gg.Randers(gg.Euclidean(2), np.ones((2, 2))), gg.InvalidInputError, "omega"),
    ("omega-field-dim", lambda: gg.Randers(gg.Euclidean(2), gg.RBFField(np.ones((2, 3)), np.ones((2, 3)), 1.0)),
     gg.MetricError, "omega"),
    ("omega-str", lambda: gg.Randers(gg.Euclidean(2), "up"), gg.InvalidInputError, "omega"),
    ("max_norm-zero", lambda: gg.Randers(gg.Euclidean(2), np.ones(2), max_norm=0.0), gg.InvalidInputError,
     "max_norm"),
    ("max_norm-one", lambda: gg.Randers(gg.Euclidean(2), np.ones(2), max_norm=1.0), gg.InvalidInputError,
     "max_norm"),
    ("max_norm-big", lambda: gg.Randers(gg.Euclidean(2), np.ones(2), max_norm=1.5), gg.InvalidInputError,
     "max_norm"),
    ("max_norm-negative", lambda: gg.Randers(gg.Euclidean(2), np.ones(2), max_norm=-0.5), gg.InvalidInputError,
     "max_norm"),
    ("max_norm-nan", lambda: gg.Randers(gg.Euclidean(2), np.ones(2), max_norm=np.nan), gg.InvalidInputError,
     "max_norm"),
    ("base-not-metric", lambda: gg.Randers(np.eye(2), np.ones(2)), gg.MetricError, "base"),
    ("base-randers", lambda: gg.Randers(gg.Randers(gg.Euclidean(2), np.zeros(2)), np.zeros(2)),
     gg.MetricError, "base"),
    # callables
    ("fieldmetric-not-callable", lambda: gg.FieldMetric(np.eye(2), 2), gg.MetricError, "fn"),
    ("diagfield-not-callable", lambda: gg.DiagonalField(np.ones(2), 2), gg.MetricError, "fn"),
    ("fieldmetric-wrong-shape", lambda: gg.FieldMetric(lambda z: np.ones((len(z), 2)), 2).metric_tensor(C3),
     gg.InvalidInputError, "FieldMetric fn"),
    ("fieldmetric-wrong-n", lambda: gg.FieldMetric(lambda z: np.tile(np.eye(2), (2, 1, 1)), 2).norm(C3, C3),
     gg.InvalidInputError, "FieldMetric fn"),
    ("fieldmetric-not-spd",
     lambda: gg.segment_costs(gg.FieldMetric(lambda z: np.tile(np.diag([1.0, -1.0]), (len(z), 1, 1)), 2),
                              C3, [0], [1]), gg.NotSPDError, "FieldMetric"),
    ("diagfield-wrong-shape", lambda: gg.DiagonalField(lambda z: np.ones((len(z), 3)), 2).norm(C3, C3),
     gg.InvalidInputError, "DiagonalField fn"),
    ("diagfield-not-positive",
     lambda: gg.segment_costs(gg.DiagonalField(lambda z: -np.ones((len(z), 2)), 2), C3, [0], [1]),
     gg.NotSPDError, "DiagonalField"),
    ("omega-callable-wrong-shape",
     lambda: gg.Randers(gg.Euclidean(2), lambda z: np.zeros((len(z), 3))).effective_omega(C3),
     gg.InvalidInputError, "omega"),
    ("omega-callable-wrong-shape-costs",
     lambda: gg.segment_costs(gg.Randers(gg.Euclidean(2), lambda z: np.zeros(len(z))), C3, [0], [1]),
     gg.InvalidInputError, "omega"),
    ("fieldmetric-nan",
     lambda: gg.segment_costs(gg.FieldMetric(lambda z: np.full((len(z), 2, 2), np.nan), 2), C3, [0], [1]),
     gg.MetricError, "FieldMetric.*NaN"),
    ("diagfield-nan",
     lambda: gg.segment_costs(gg.DiagonalField(lambda z: np.full((len(z), 2), np.nan), 2), C3, [0], [1]),
     gg.MetricError, "DiagonalField.*NaN"),
    ("omega-callable-nan-costs",
     lambda: gg.segment_costs(gg.Randers(gg.Euclidean(2), lambda z: np.full(z.shape, np.nan)), C3, [0], [1]),
     gg.MetricError, "omega.*NaN"),
    ("omega-callable-inf-costs-maxnorm",
     lambda: gg.segment_costs(gg.Randers(gg.Euclidean(2), lambda z: np.full(z.shape, np.inf), max_norm=0.5),
                              C3, [0], [1]), gg.MetricError, "omega.*NaN or Inf"),
    ("omega-callable-nan-check",
     lambda: gg.Randers(gg.Euclidean(2), lambda z: np.full(z.shape, np.nan)).check(C3),
     gg.MetricError, "omega.*NaN"),
    # evaluation points
    ("z-wrong-dim", lambda: gg.Euclidean(2).metric_tensor(np.zeros((4, 3))), gg.InvalidInputError, "z"),
    ("z-nan", lambda: BASES["rhvae"].norm(np.full((2, D), np.nan), np.ones((2, D))), gg.InvalidInputError, "z"),
    ("v-wrong-dim", lambda: gg.Euclidean(2).norm(np.zeros((4, 2)), np.zeros((4, 3))), gg.InvalidInputError, "v"),
]


@pytest.mark.parametrize("call, exc, match", [pytest.param(*b[1:], id=b[0]) for b in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert isinstance(info.value, gg.GraphGeoError)
    assert isinstance(info.value, ValueError)


def test_bad_input_messages_say_what_was_received():
    with pytest.raises(gg.MetricError, match=r"received shape \(2, 2, 2\)"):
        gg.RHVAEMetric(C3, M3[:2], 1.0, 0.1)
    with pytest.raises(gg.NotSPDError, match="smallest eigenvalue -1"):
        gg.RHVAEMetric(C3, NOT_SPD, 1.0, 0.1)
    with pytest.raises(gg.InvalidInputError, match=r"max_norm.*\(0\.0, 1\.0\).*received 1\.5"):
        gg.Randers(gg.Euclidean(2), np.ones(2), max_norm=1.5)
    with pytest.raises(gg.InvalidInputError, match=r"lbd must be a finite number in \(0\.0, inf\); received 0\.0"):
        gg.RHVAEMetric(C3, M3, 1.0, 0.0)


# VAECometric's errors name its own parameters (mu, sigma), not CentroidCometric's.


def test_vae_cometric_nan_mu_names_mu():
    with pytest.raises(gg.InvalidInputError, match="mu"):
        gg.VAECometric(NAN_C, np.ones((3, 2)), 1.0, 0.1)


def test_vae_cometric_sigma_shape_names_sigma():
    with pytest.raises(gg.MetricError, match="sigma"):
        gg.VAECometric(C3, np.ones((2, 2)), 1.0, 0.1)


# ---------------------------------------------------------------------------
# save / load of metric parameters
# ---------------------------------------------------------------------------


SERIALISABLE = [n for n in ALL if "field" not in n and "callable" not in n]


@pytest.mark.parametrize("name", SERIALISABLE)
def test_metric_arrays_round_trip(name, tmp_path):
    metric = ALL[name]
    arrays = metric_to_arrays(metric)
    assert arrays and all(k.startswith("metric/") for k in arrays)
    np.savez(tmp_path / "m.npz", **arrays)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        back = metric_from_arrays(dict(f))
    def kind(m):  # RHVAEMetric and VAECometric are stored as their CentroidCometric form
        return gg.CentroidCometric if isinstance(m, gg.CentroidCometric) else type(m)

    assert kind(back) is kind(metric)
    if isinstance(metric, gg.Randers):
        assert back.max_norm == metric.max_norm
        assert type(back.omega) is type(metric.omega)
        assert kind(back.base) is kind(metric.base)
    z, v = sample()
    assert_allclose(back.metric_tensor(z), metric.metric_tensor(z), rtol=1e-15, atol=0)
    assert_allclose(back.norm(z, v), metric.norm(z, v), rtol=1e-15, atol=0)
    assert_allclose(back.norm(z, -v), metric.norm(z, -v), rtol=1e-15, atol=0)
    idx = np.arange(len(z) - 1)
    for a, b in zip(gg.segment_costs(back, z, idx, idx + 1), gg.segment_costs(metric, z, idx, idx + 1)):
        assert_allclose(a, b, rtol=1e-15, atol=0)


def test_metric_arrays_prefix_and_unserialisable():
    m = BASES["vae-full"]
    arrays = metric_to_arrays(m, prefix="graph/metric/")
    assert all(k.startswith("graph/metric/") for k in arrays)
    assert metric_from_arrays(arrays, prefix="metric/") is None
    back = metric_from_arrays(arrays, prefix="graph/metric/")
    z, _ = sample()
    assert_allclose(back.cometric_tensor(z), m.cometric_tensor(z), rtol=1e-15)
    for name in ("fieldmetric", "diagfield", "randers-rhvae-callable", "randers-fieldmetric-const"):
        assert metric_to_arrays(ALL[name]) == {}
    assert metric_from_arrays({}) is None
