"""Edge kernels against plain numpy references written here, independently of graphgeo.

Every metric tensor below is built from the textbook formula (RHVAE, VAE cometric,
centroid cometric with Mahalanobis weights, Gaussian RBF 1-form) and integrated
with np.polynomial.legendre.leggauss mapped to [0, 1], point by point in Python.
``gg.segment_costs`` must reproduce those integrals: through the fused numba
kernels for the built-in families, through the generic numpy path otherwise.

Tolerances: closed forms (Euclidean, constant metric, constant omega) 1e-13
relative; quadrature sums against the numpy reference 1e-10 relative on R (a
Cholesky solve against np.linalg.solve, with a few dozen terms) and 1e-12
absolute on A (A is a signed sum that can cancel to ~0).
"""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg

RTOL_R = 1e-10
ATOL_A = 1e-12

# ---------------------------------------------------------------------------
# references (one point at a time, textbook formulas)
# ---------------------------------------------------------------------------


def gl01(q):
    """q-point Gauss-Legendre nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(q)
    return 0.5 * (x + 1.0), 0.5 * w


def ref_costs(pair, a_pts, b_pts, q, omega=None, max_norm=None):
    """R, A and the largest |omega|_{G^{-1}} per segment a -> b.

    ``pair(z) -> (G(z), G^{-1}(z))`` at one point; ``omega(z) -> (d,)`` or None.
    With ``max_norm`` omega is rescaled pointwise to omega * min(1, max_norm / |omega|).
    """
    t, w = gl01(q)
    R, A, worst = [], [], []
    for a, b in zip(a_pts, b_pts):
        dv = b - a
        r = s = wst = 0.0
        for tk, wk in zip(t, w):
            z = a + tk * dv
            G, Ginv = pair(z)
            r += wk * np.sqrt(dv @ G @ dv)
            if omega is not None:
                om = omega(z)
                on = np.sqrt(om @ Ginv @ om)
                wst = max(wst, on)
                a1 = om @ dv
                if max_norm is not None and on > max_norm:
                    a1 *= max_norm / on
                s += wk * a1
        R.append(r)
        A.append(s)
        worst.append(wst)
    return np.array(R), np.array(A), np.array(worst)


def from_cometric(cofn):
    def pair(z):
        C = cofn(z)
        return np.linalg.inv(C), C
    return pair


def from_metric(gfn):
    def pair(z):
        G = gfn(z)
        return G, np.linalg.inv(G)
    return pair


def rhvae_cometric(c, M, T, lbd):
    """G^{-1}(z) = sum_k M_k exp(-|z - c_k|^2 / T^2) + lbd I."""
    def co(z):
        w = np.exp(-np.sum((z - c) ** 2, axis=1) / T**2)
        return np.einsum("k,kij->ij", w, M) + lbd * np.eye(len(z))
    return co


def vae_cometric(mu, sigma, tau, lbd):
    """G^{-1}(z) = sum_k exp(-|z - mu_k|^2_{Sigma_k^-1} / (2 tau^2)) Sigma_k^-1 + lbd I."""
    S = np.array([np.diag(s) for s in sigma]) if sigma.ndim == 2 else sigma
    Sinv = np.linalg.inv(S)

    def co(z):
        diff = z - mu
        q = np.einsum("ki,kij,kj->k", diff, Sinv, diff)
        w = np.exp(-q / (2 * tau**2))
        return np.einsum("k,kij->ij", w, Sinv) + lbd * np.eye(len(z))
    return co


def centroid_cometric(c, M, scale, lbd, P):
    """G^{-1}(z) = sum_k exp(-(z - c_k)^T P_k (z - c_k) / scale) M_k + lbd I."""
    Mf = np.array([np.diag(m) for m in M]) if M.ndim == 2 else M
    Pf = np.array([np.diag(p) for p in P]) if P.ndim == 2 else P

    def co(z):
        diff = z - c
        w = np.exp(-np.einsum("ki,kij,kj->k", diff, Pf, diff) / scale)
        return np.einsum("k,kij->ij", w, Mf) + lbd * np.eye(len(z))
    return co


def spd_stack(rng, K, d, jitter=0.2):
    L = rng.normal(size=(K, d, d)) / np.sqrt(d)
    return L @ L.transpose(0, 2, 1) + jitter * np.eye(d)


# ---------------------------------------------------------------------------
# the bases: (graphgeo metric, reference pair, segment end points)
# ---------------------------------------------------------------------------


def _segments(rng, pts, n_seg=16):
    ia = rng.integers(0, len(pts), n_seg)
    ib = rng.integers(0, len(pts), n_seg)
    ib[0] = ia[0]  # one zero-length segment
    return pts, ia, ib


def make_euclidean(rng, d=3):
    pts = rng.normal(size=(10, d))
    return gg.Euclidean(d), from_metric(lambda z: np.eye(d)), _segments(rng, pts)


def make_constant(rng, d=3):
    A = spd_stack(rng, 1, d)[0]
    pts = rng.normal(size=(10, d))
    return gg.ConstantMetric(A), from_metric(lambda z: A), _segments(rng, pts)


def make_rhvae(rng, d):
    K = 6
    c = rng.normal(size=(K, d))
    M = spd_stack(rng, K, d) * 3.0
    T, lbd = 0.9, 0.05
    pts = c[rng.integers(0, K, 10)] + 0.4 * rng.normal(size=(10, d))
    return (gg.RHVAEMetric(c, M, T, lbd), from_cometric(rhvae_cometric(c, M, T, lbd)),
            _segments(rng, pts))


def make_vae_diag(rng, d):
    K = 10
    mu = rng.normal(size=(K, d))
    sigma = rng.uniform(0.3, 2.0, size=(K, d))
    tau, lbd = 1.0, 0.02
    pts = mu[rng.integers(0, K, 10)] + 0.3 * rng.normal(size=(10, d))
    return (gg.VAECometric(mu, sigma, tau, lbd), from_cometric(vae_cometric(mu, sigma, tau, lbd)),
            _segments(rng, pts))


def make_vae_full(rng, d=3):
    K = 6
    mu = rng.normal(size=(K, d))
    sigma = spd_stack(rng, K, d, jitter=0.3)
    tau, lbd = 0.8, 0.05
    pts = mu[rng.integers(0, K, 10)] + 0.4 * rng.normal(size=(10, d))
    return (gg.VAECometric(mu, sigma, tau, lbd), from_cometric(vae_cometric(mu, sigma, tau, lbd)),
            _segments(rng, pts))


def make_centroid(rng, d=3, mkind="full", pkind="full"):
    K = 7
    c = rng.normal(size=(K, d))
    M = spd_stack(rng, K, d) if mkind == "full" else rng.uniform(0.2, 3.0, size=(K, d))
    P = spd_stack(rng, K, d, 0.5) if pkind == "full" else rng.uniform(0.3, 2.0, size=(K, d))
    scale, lbd = 0.7, 0.03
    pts = c[rng.integers(0, K, 10)] + 0.5 * rng.normal(size=(10, d))
    metric = gg.CentroidCometric(c, M, scale, lbd, weight_precision=P)
    return metric, from_cometric(centroid_cometric(c, M, scale, lbd, P)), _segments(rng, pts)


def field_fn(z):
    """(1 + |z|^2) I + u u^T with u = sin(z), batched."""
    u = np.sin(z)
    d = z.shape[1]
    return (1.0 + np.sum(z * z, axis=1))[:, None, None] * np.eye(d) + u[:, :, None] * u[:, None, :]


def make_field(rng, d=3):
    pts = rng.normal(size=(10, d))
    return (gg.FieldMetric(field_fn, d), from_metric(lambda z: field_fn(z[None])[0]),
            _segments(rng, pts))


def diag_fn(z):
    return 0.5 + z * z + 0.3 * np.cos(z)


def make_diagfield(rng, d=3):
    pts = rng.normal(size=(10, d))
    return (gg.DiagonalField(diag_fn, d), from_metric(lambda z: np.diag(diag_fn(z[None])[0])),
            _segments(rng, pts))


BASES = {
    "euclidean": (make_euclidean, {}, True),
    "constant": (make_constant, {}, True),
    "rhvae-d2": (make_rhvae, {"d": 2}, True),
    "rhvae-d3": (make_rhvae, {"d": 3}, True),
    "rhvae-d8": (make_rhvae, {"d": 8}, True),
    "vae-diag-d2": (make_vae_diag, {"d": 2}, True),
    "vae-diag-d16": (make_vae_diag, {"d": 16}, True),
    "vae-diag-d64": (make_vae_diag, {"d": 64}, True),
    "vae-full-d3": (make_vae_full, {}, True),
    "centroid-Mfull-Pfull": (make_centroid, {"mkind": "full", "pkind": "full"}, True),
    "centroid-Mdiag-Pdiag": (make_centroid, {"mkind": "diag", "pkind": "diag"}, True),
    "centroid-Mfull-Pdiag": (make_centroid, {"mkind": "full", "pkind": "diag"}, True),
    "centroid-Mdiag-Pfull": (make_centroid, {"mkind": "diag", "pkind": "full"}, True),
    "fieldmetric": (make_field, {}, False),
    "diagonalfield": (make_diagfield, {}, False),
}


def build_base(name, seed=0):
    fn, kw, fused = BASES[name]
    rng = np.random.default_rng(seed)
    metric, pair, seg = fn(rng, **kw)
    return metric, pair, seg, fused


# ---------------------------------------------------------------------------
# Riemannian costs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BASES))
@pytest.mark.parametrize("q", [1, 3, 7])
def test_riemannian_costs_match_numpy_reference(name, q):
    metric, pair, (pts, ia, ib), fused = build_base(name)
    assert metric.fused == fused
    R, A = gg.segment_costs(metric, pts, ia, ib, quadrature=q)
    # constant metrics are integrated exactly with one node whatever q
    Rr, _, _ = ref_costs(pair, pts[ia], pts[ib], 1 if metric.is_constant else q)
    assert R.shape == A.shape == (len(ia),)
    assert_allclose(R, Rr, rtol=RTOL_R, atol=1e-14)
    assert_allclose(A, 0.0, atol=0.0)
    assert R[0] == 0.0  # zero-length segment


def test_euclidean_closed_form(rng):
    pts = rng.normal(size=(30, 5)) * 10.0
    ia, ib = rng.integers(0, 30, 50), rng.integers(0, 30, 50)
    for q in (1, 4, 9):
        R, A = gg.segment_costs(gg.Euclidean(5), pts, ia, ib, quadrature=q)
        assert_allclose(R, np.linalg.norm(pts[ib] - pts[ia], axis=1), rtol=1e-13, atol=0)
        assert_allclose(A, 0.0, atol=0)


def test_constant_metric_closed_form(rng):
    d = 4
    Amat = spd_stack(rng, 1, d)[0]
    pts = rng.normal(size=(30, d)) * 10.0
    ia, ib = rng.integers(0, 30, 50), rng.integers(0, 30, 50)
    dv = pts[ib] - pts[ia]
    exact = np.sqrt(np.einsum("ni,ij,nj->n", dv, Amat, dv))
    for q in (1, 6):
        R, _ = gg.segment_costs(gg.ConstantMetric(Amat), pts, ia, ib, quadrature=q)
        assert_allclose(R, exact, rtol=1e-13, atol=0)


def test_separate_end_point_arrays(rng):
    metric, pair, (pts, ia, ib), _ = build_base("rhvae-d3")
    other = pts + 0.25 * rng.normal(size=pts.shape)
    R, _ = gg.segment_costs(metric, pts, ia, ib, b_pts=other, quadrature=5)
    Rr, _, _ = ref_costs(pair, pts[ia], other[ib], 5)
    assert_allclose(R, Rr, rtol=RTOL_R)


def test_default_quadrature_is_adaptive_and_accurate():
    from graphgeo.costs import ADAPTIVE, DEFAULT_QUADRATURE

    assert DEFAULT_QUADRATURE == ADAPTIVE
    metric, pair, (pts, ia, ib), _ = build_base("vae-full-d3")
    Rr, _, _ = ref_costs(pair, pts[ia], pts[ib], 24)  # converged reference
    assert_allclose(gg.segment_costs(metric, pts, ia, ib)[0], Rr, rtol=1e-6)


def test_empty_segment_list():
    metric, _, (pts, _, _), _ = build_base("rhvae-d2")
    R, A = gg.segment_costs(metric, pts, np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert R.shape == A.shape == (0,)


@pytest.mark.parametrize("q", [0, 65, 2.0, True, "5"])
def test_bad_quadrature(q):
    metric, _, (pts, ia, ib), _ = build_base("rhvae-d2")
    with pytest.raises(gg.InvalidInputError, match="quadrature"):
        gg.segment_costs(metric, pts, ia, ib, quadrature=q)


@pytest.mark.parametrize("name", ["rhvae-d3", "vae-full-d3", "centroid-Mdiag-Pfull", "fieldmetric"])
def test_quadrature_converges(name):
    """Gauss-Legendre converges geometrically for these analytic integrands."""
    metric, pair, (pts, ia, ib), _ = build_base(name)
    keep = ia != ib
    ia, ib = ia[keep], ib[keep]
    exact, _, _ = ref_costs(pair, pts[ia], pts[ib], 64)
    orders = (1, 2, 4, 8, 16, 32, 48)
    err = []
    for q in orders:
        R, _ = gg.segment_costs(metric, pts, ia, ib, quadrature=q)
        err.append(np.max(np.abs(R - exact) / exact))
    assert np.all(np.diff(err) < 0), dict(zip(orders, err))  # strictly decreasing
    assert err[-2] < 1e-8 and err[-1] < 1e-12, dict(zip(orders, err))
    assert err[0] > 1e-2  # the metric varies along the segments: the test is not vacuous


# ---------------------------------------------------------------------------
# Randers costs
# ---------------------------------------------------------------------------


def _rbf_parts(rng, d, K=5):
    centers = rng.normal(size=(K, d))
    W = rng.normal(size=(K, d))
    h = 0.8
    return centers, W, h


def rbf_ref(centers, W, h):
    def om(z):
        e = np.exp(-np.sum((z - centers) ** 2, axis=1) / (2 * h * h))
        return e @ W
    return om


def callable_ref(d):
    u = np.linspace(0.5, 1.5, d)

    def om(z):
        return np.sin(z + u) * u
    return om


def make_omega(kind, d, rng, scale):
    """(graphgeo omega argument, reference omega) scaled by ``scale``."""
    if kind == "constant":
        w = rng.normal(size=d)
        return scale * w, lambda z: scale * w
    if kind == "rbf":
        centers, W, h = _rbf_parts(rng, d)
        return gg.RBFField(centers, scale * W, h), rbf_ref(centers, scale * W, h)
    if kind == "callable":
        f = callable_ref(d)
        return (lambda z: scale * np.stack([f(x) for x in z])), (lambda z: scale * f(z))
    raise AssertionError(kind)


def scaled_randers(name, kind, target, max_norm=None, seed=0, q=5):
    """Randers(base, omega) with the largest |omega|_{G^{-1}} over the quadrature nodes = target."""
    base, pair, (pts, ia, ib), fused = build_base(name, seed)
    _, oref = make_omega(kind, base.dim, np.random.default_rng(seed + 1), 1.0)
    _, _, worst = ref_costs(pair, pts[ia], pts[ib], 1 if base.is_constant and kind == "constant" else q, oref)
    s = target / worst.max()
    omega, oref = make_omega(kind, base.dim, np.random.default_rng(seed + 1), s)
    metric = gg.Randers(base, omega, max_norm=max_norm)
    return metric, pair, oref, (pts, ia, ib), fused and kind != "callable"


RANDERS_BASES = ["euclidean", "constant", "rhvae-d2", "rhvae-d8", "vae-diag-d16", "vae-full-d3",
                 "centroid-Mfull-Pdiag", "centroid-Mdiag-Pfull", "fieldmetric", "diagonalfield"]


@pytest.mark.parametrize("name", RANDERS_BASES)
@pytest.mark.parametrize("kind", ["constant", "rbf", "callable"])
def test_randers_costs_match_numpy_reference(name, kind):
    q = 5
    metric, pair, oref, (pts, ia, ib), fused = scaled_randers(name, kind, 0.6, q=q)
    assert metric.fused == fused
    R, A = gg.segment_costs(metric, pts, ia, ib, quadrature=q)
    qq = 1 if metric.is_constant else q
    Rr, Ar, worst = ref_costs(pair, pts[ia], pts[ib], qq, oref)
    assert worst.max() < 1.0
    assert_allclose(R, Rr, rtol=RTOL_R, atol=1e-14)
    assert_allclose(A, Ar, rtol=1e-10, atol=ATOL_A)
    keep = ia != ib
    assert np.all(R[keep] + A[keep] > 0) and np.all(R[keep] - A[keep] > 0)
    assert np.all(R[~keep] == 0.0) and np.all(A[~keep] == 0.0)


@pytest.mark.parametrize("name", ["euclidean", "rhvae-d3", "vae-diag-d64", "centroid-Mfull-Pfull",
                                  "fieldmetric"])
def test_constant_omega_integrates_exactly(name, rng):
    base, _, (pts, ia, ib), _ = build_base(name)
    w = 1e-3 * rng.normal(size=base.dim)  # small enough for every base here
    for q in (1, 4, 11):
        _, A = gg.segment_costs(gg.Randers(base, w), pts, ia, ib, quadrature=q)
        assert_allclose(A, (pts[ib] - pts[ia]) @ w, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("name", ["euclidean", "rhvae-d3", "vae-diag-d16", "centroid-Mdiag-Pdiag",
                                  "diagonalfield"])
@pytest.mark.parametrize("kind", ["constant", "rbf", "callable"])
def test_randers_violation_raises(name, kind):
    q = 5
    metric, pair, oref, (pts, ia, ib), _ = scaled_randers(name, kind, 2.5, q=q)
    _, _, worst = ref_costs(pair, pts[ia], pts[ib], 1 if metric.is_constant else q, oref)
    with pytest.raises(gg.RandersConditionError) as exc:
        gg.segment_costs(metric, pts, ia, ib, quadrature=q)
    msg = str(exc.value)
    assert "max_norm" in msg
    m = re.search(r"norm ([0-9.eE+-]+) at", msg)
    assert m is not None, msg
    assert_allclose(float(m.group(1)), worst.max(), rtol=1e-5)  # printed with 6 digits
    assert isinstance(exc.value, ValueError)


def test_randers_violation_message_exact_for_euclidean():
    metric = gg.Randers(gg.Euclidean(2), np.array([1.5, 2.0]))  # |omega| = 2.5 everywhere
    with pytest.raises(gg.RandersConditionError, match=r"norm 2\.5 at.*max_norm"):
        gg.segment_costs(metric, np.eye(2), [0], [1])


@pytest.mark.parametrize("name", RANDERS_BASES)
@pytest.mark.parametrize("kind", ["constant", "rbf", "callable"])
def test_randers_max_norm_rescales_pointwise(name, kind):
    q = 6
    metric, pair, oref, (pts, ia, ib), _ = scaled_randers(name, kind, 3.0, max_norm=0.8, q=q)
    R, A = gg.segment_costs(metric, pts, ia, ib, quadrature=q)
    qq = 1 if metric.is_constant else q
    Rr, Ar, worst = ref_costs(pair, pts[ia], pts[ib], qq, oref, max_norm=0.8)
    assert worst.max() > 0.8  # the rescaling is exercised
    assert_allclose(R, Rr, rtol=RTOL_R, atol=1e-14)
    assert_allclose(A, Ar, rtol=1e-10, atol=ATOL_A)
    keep = ia != ib
    assert np.all(R[keep] + A[keep] > 0)
    assert np.all(R[keep] - A[keep] > 0)
    # pointwise |omega'|_{G^-1} <= 0.8 bounds |A| by 0.8 R (Cauchy-Schwarz in G)
    assert np.all(np.abs(A) <= 0.8 * R * (1 + 1e-12) + 1e-15)


def test_max_norm_leaves_small_omega_unchanged():
    metric, pair, oref, (pts, ia, ib), _ = scaled_randers("rhvae-d3", "rbf", 0.5, max_norm=0.8)
    plain = gg.Randers(metric.base, metric.omega)
    assert_allclose(gg.segment_costs(metric, pts, ia, ib)[1],
                    gg.segment_costs(plain, pts, ia, ib)[1], rtol=0, atol=0)


# ---------------------------------------------------------------------------
# curve_length
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["euclidean", "rhvae-d3", "vae-full-d3", "fieldmetric"])
def test_curve_length_is_sum_of_segment_costs(name, rng):
    base, _, (pts, _, _), _ = build_base(name)
    w = 0.01 * rng.normal(size=base.dim)
    metric = gg.Randers(base, w)
    poly = pts[:6]
    idx = np.arange(5)
    for q in (3, 7):
        R, A = gg.segment_costs(metric, poly, idx, idx + 1, quadrature=q)
        fwd = gg.curve_length(metric, poly, quadrature=q)
        bwd = gg.curve_length(metric, poly[::-1], quadrature=q)
        assert_allclose(fwd, np.sum(R + A), rtol=1e-13)
        assert_allclose(bwd, np.sum(R - A), rtol=1e-13)
        # constant omega: the difference is 2 sum <omega, delta> = 2 <omega, end - start>
        assert_allclose(fwd - bwd, 2.0 * w @ (poly[-1] - poly[0]), rtol=1e-9, atol=1e-14)
        assert abs(fwd - bwd) > 1e-4
        # the Riemannian length alone is symmetric
        assert_allclose(gg.curve_length(base, poly, quadrature=q),
                        gg.curve_length(base, poly[::-1], quadrature=q), rtol=1e-13)


def test_curve_length_rbf_direction_aware():
    metric, _, _, (pts, _, _), _ = scaled_randers("vae-diag-d2", "rbf", 0.6)
    poly = pts[:5]
    idx = np.arange(4)
    R, A = gg.segment_costs(metric, poly, idx, idx + 1)
    assert_allclose(gg.curve_length(metric, poly), np.sum(R + A), rtol=1e-13)
    assert_allclose(gg.curve_length(metric, poly[::-1]), np.sum(R - A), rtol=1e-13)


def test_curve_length_degenerate():
    assert gg.curve_length(gg.Euclidean(2), np.zeros((1, 2))) == 0.0
    assert gg.curve_length(gg.Euclidean(2), [[0.0, 0.0], [3.0, 4.0]]) == pytest.approx(5.0, rel=1e-15)
    with pytest.raises(gg.InvalidInputError, match="points"):
        gg.curve_length(gg.Euclidean(2), np.zeros((3, 3)))
    with pytest.raises(gg.InvalidInputError, match="metric"):
        gg.curve_length("euclidean", np.zeros((3, 2)))


# ---------------------------------------------------------------------------
# skipping of negligible centroids in the kernels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mkind", ["full", "diag"])
def test_centroid_skipping_is_negligible(mkind):
    """K = 2000, most centroids far away with weights straddling the skip threshold."""
    rng = np.random.default_rng(7)
    d, K = 3, 2000
    near = rng.normal(size=(20, d))
    direc = rng.normal(size=(K - 20, d))
    direc /= np.linalg.norm(direc, axis=1, keepdims=True)
    # |z - c|^2 / T^2 from ~25 to ~90: weights 1e-11 .. 1e-39, around the cut-off (~45)
    far = direc * rng.uniform(6.0, 10.0, size=(K - 20, 1))
    c = np.vstack([near, far])
    M = spd_stack(rng, K, d) if mkind == "full" else rng.uniform(0.5, 3.0, size=(K, d))
    T, lbd = 1.0, 1e-3
    metric = gg.CentroidCometric(c, M, T * T, lbd)
    Mf = M if mkind == "full" else np.array([np.diag(m) for m in M])
    pair = from_cometric(rhvae_cometric(c, Mf, T, lbd))
    pts = rng.normal(size=(12, d)) * 1.5
    ia, ib = np.arange(11), np.arange(1, 12)
    R, _ = gg.segment_costs(metric, pts, ia, ib, quadrature=4)
    Rr, _, _ = ref_costs(pair, pts[ia], pts[ib], 4)
    assert_allclose(R, Rr, rtol=1e-12)


# ---------------------------------------------------------------------------
# known bugs in graphgeo/costs.py (owned by another change; do not edit here)
# ---------------------------------------------------------------------------

# segment_costs validates its inputs before any kernel runs: wrong dimension,
# out-of-range indices, NaN points and plain lists.


def test_segment_costs_rejects_wrong_dimension():
    pts3 = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(gg.InvalidInputError, match="dimension"):
        gg.segment_costs(gg.Euclidean(2), pts3, [0, 1], [1, 2])


def test_segment_costs_rejects_out_of_range_index():
    pts = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(gg.InvalidInputError):
        gg.segment_costs(gg.Euclidean(3), pts, [0], [4])


def test_segment_costs_rejects_nan_points():
    pts = np.array([[0.0, 0.0, np.nan], [1.0, 1.0, 1.0]])
    with pytest.raises(gg.InvalidInputError, match="NaN"):
        gg.segment_costs(gg.Euclidean(3), pts, [0], [1])


def test_segment_costs_accepts_lists():
    R, _ = gg.segment_costs(gg.Euclidean(2), [[0.0, 0.0], [3.0, 4.0]], [0], [1])
    assert_allclose(R, [5.0], rtol=1e-15)
