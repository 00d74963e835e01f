"""Torch refinement against analytic geodesics, finite differences and its contract.

Oracles and tolerances:
- constant metrics (Euclidean, SPD matrix, constant Randers = Zermelo with a constant
  wind): straight segments; lengths to 1e-12 relative (closed form), and the optimiser
  itself (the same metric hidden behind a FieldMetric, so no shortcut applies) reaches
  the segment to 1e-6 of its length, length within 1e-4;
- hyperbolic half-space G = I / y^2: d(a, b) = arccosh(1 + |a - b|^2 / (2 a_y b_y)),
  geodesics are half-circles centred on the boundary; 64-point refined curves are
  within 2e-4 relative of the distance (the discretisation error of a 64-point
  polyline) and within 1e-3 (relative to the radius) of the circle;
- hyperbolic + constant 1-form w (exact, so geodesics are unchanged):
  L(a -> b) = d(a, b) + <w, b - a> in both directions, same tolerance;
- energy gradients vs central finite differences (h = 1e-6): 1e-6 relative.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError, MetricError
from graphgeo.metrics import PullbackCometric, PullbackMetric
from graphgeo.curves.refine import _Problem, batch_curve_lengths, refine

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def hyp_np(z):
    return np.eye(z.shape[1])[None] / z[:, -1, None, None] ** 2


def hyp_torch(z):
    return torch.eye(z.shape[1], dtype=z.dtype)[None] / z[:, -1, None, None] ** 2


def hyperbolic(d):
    return gg.FieldMetric(hyp_np, d, torch_fn=hyp_torch)


def hyp_dist(a, b):
    return np.arccosh(1 + np.sum((a - b) ** 2, axis=-1) / (2 * a[..., -1] * b[..., -1]))


def straight(a, b, n):
    t = np.linspace(0, 1, n)
    return a[..., None, :] + t[:, None] * (b - a)[..., None, :]


def half_plane_pairs(rng, B, d, low=0.4, high=2.0):
    a = rng.uniform(-1, 1, (B, d))
    b = rng.uniform(-1, 1, (B, d))
    a[:, -1] = rng.uniform(low, high, B)
    b[:, -1] = rng.uniform(low, high, B)
    return a, b


def wiggle(X, amp, rng):
    """Perturb interior points (endpoints fixed)."""
    Y = X.copy()
    Y[..., 1:-1, :] += amp * rng.normal(size=Y[..., 1:-1, :].shape)
    return Y


def arc_deviation(points, a, b):
    """Largest |dist(z, centre) / R - 1| over the points, for the geodesic arc a -> b of H^d."""
    h = b[:, :-1] - a[:, :-1]
    e = h / np.linalg.norm(h, axis=1, keepdims=True)
    x = np.einsum("bni,bi->bn", points[..., :-1] - a[:, None, :-1], e)  # along e
    perp = points[..., :-1] - a[:, None, :-1] - x[..., None] * e[:, None]
    xb = np.linalg.norm(h, axis=1)
    ya, yb = a[:, -1], b[:, -1]
    c = (xb**2 + yb**2 - ya**2) / (2 * xb)  # centre on the boundary, in plane coordinates
    R = np.sqrt(c**2 + ya**2)
    rad = np.sqrt((x - c[:, None]) ** 2 + points[..., -1] ** 2)
    return max(np.max(np.abs(rad / R[:, None] - 1)), np.max(np.abs(perp)) / R.min())


# ------------------------------------------------------------------ constant metrics
def zermelo(W):
    """Randers metric of Zermelo navigation with constant wind W (|W| < 1) in the plane/space."""
    lam = 1.0 - W @ W
    G = (lam * np.eye(len(W)) + np.outer(W, W)) / lam**2
    return gg.Randers(gg.ConstantMetric(G), -W / lam)


def zermelo_time(W, delta):
    """Closed form: the time T with |delta - T W| = T, for rows delta (n, d)."""
    lam = 1.0 - W @ W
    dw = delta @ W
    return (np.sqrt(dw**2 + lam * np.sum(delta * delta, axis=-1)) - dw) / lam


def test_constant_metrics_give_the_straight_segment(rng):
    d = 3
    A = rng.normal(size=(d, d))
    A = A @ A.T + d * np.eye(d)
    W = np.array([0.3, -0.2, 0.1])
    a, b = rng.normal(size=(2, 4, d))
    X = wiggle(straight(a, b, 33), 0.05, rng)
    for metric, exact in [
        (gg.Euclidean(d), np.linalg.norm(b - a, axis=1)),
        (gg.ConstantMetric(A), np.sqrt(np.einsum("ni,ij,nj->n", b - a, A, b - a))),
        (zermelo(W), zermelo_time(W, b - a)),
        (zermelo(W), None),
    ]:
        res = refine(metric, X)
        assert_allclose(res.points, straight(a, b, 33), rtol=0, atol=1e-12)
        assert_allclose(res.length, batch_curve_lengths(metric, straight(a, b, 33)), rtol=1e-12)
        if exact is not None:
            assert_allclose(res.length, exact, rtol=1e-12)
        assert np.all(res.length <= res.length_before)


def test_zermelo_closed_form_both_directions(rng):
    W = np.array([0.5, 0.2])
    m = zermelo(W)
    a, b = rng.normal(size=(2, 5, 2))
    fwd = refine(m, straight(a, b, 16)).length
    bwd = refine(m, straight(b, a, 16)).length
    assert_allclose(fwd, zermelo_time(W, b - a), rtol=1e-12)
    assert_allclose(bwd, zermelo_time(W, a - b), rtol=1e-12)
    assert np.all(np.abs(fwd - bwd) > 1e-3)  # direction-aware


def test_optimiser_reaches_straight_segment_without_shortcut(rng):
    """The same constant metrics behind FieldMetric (not is_constant): L-BFGS must find the line."""
    d = 2
    A = np.array([[2.0, 0.5], [0.5, 1.0]])

    def G_np(z):
        return np.broadcast_to(A, (len(z), d, d)).copy()

    def G_t(z):
        return torch.as_tensor(A, dtype=z.dtype).expand(len(z), d, d)

    W = np.array([0.3, -0.4])
    lam = 1 - W @ W
    Gz = (lam * np.eye(2) + np.outer(W, W)) / lam**2
    cases = [
        (gg.FieldMetric(G_np, d, torch_fn=G_t), lambda D: np.sqrt(np.einsum("ni,ij,nj->n", D, A, D))),
        (gg.Randers(gg.FieldMetric(lambda z: np.broadcast_to(Gz, (len(z), 2, 2)).copy(), 2,
                                   torch_fn=lambda z: torch.as_tensor(Gz, dtype=z.dtype).expand(len(z), 2, 2)),
                    -W / lam),
         lambda D: zermelo_time(W, D)),
    ]
    a, b = rng.normal(size=(2, 6, d))
    X = wiggle(straight(a, b, 33), 0.1, rng)
    for metric, exact in cases:
        assert not metric.is_constant
        res = refine(metric, X)
        assert np.all(res.converged)
        # distance of every point to the segment a-b, relative to |b - a|
        D = b - a
        u = np.einsum("bni,bi->bn", res.points - a[:, None], D) / np.sum(D * D, axis=1)[:, None]
        off = np.linalg.norm(res.points - a[:, None] - u[..., None] * D[:, None], axis=2)
        assert np.max(off / np.linalg.norm(D, axis=1)[:, None]) < 1e-6
        assert_allclose(res.length, exact(D), rtol=1e-4)


# ------------------------------------------------------------------ hyperbolic space
@pytest.mark.parametrize("d", [2, 3])
def test_hyperbolic_distance_and_arc(d):
    rng = np.random.default_rng(d)
    m = hyperbolic(d)
    a, b = half_plane_pairs(rng, 12, d)
    res = refine(m, straight(a, b, 64))
    true = hyp_dist(a, b)
    assert np.all(res.converged)
    assert np.all(res.improved)
    assert_allclose(res.length, true, rtol=2e-4)
    assert np.all(res.length_before > res.length)
    # geodesics: half-circles in the vertical plane through a and b, centred on y = 0
    assert arc_deviation(res.points, a, b) < 1e-3


def test_randers_hyperbolic_with_exact_wind_both_directions(rng):
    """omega = w constant is exact: geodesics of I/y^2 unchanged, lengths shifted by <w, b - a>."""
    w = np.array([0.25, 0.1])  # |w|_{G^-1} = |w| y < 1 for y < 3.7
    m = gg.Randers(hyperbolic(2), w)
    assert not m.is_constant
    a, b = half_plane_pairs(rng, 8, 2)
    fwd = refine(m, straight(a, b, 64))
    bwd = refine(m, straight(b, a, 64))
    assert_allclose(fwd.length, hyp_dist(a, b) + (b - a) @ w, rtol=2e-4)
    assert_allclose(bwd.length, hyp_dist(a, b) + (a - b) @ w, rtol=2e-4)
    # same geometric curve (the hyperbolic arc), parametrised at constant F-speed each way
    assert arc_deviation(fwd.points, a, b) < 1e-3
    assert arc_deviation(bwd.points, b, a) < 1e-3


def test_batched_equals_one_at_a_time(rng):
    m = hyperbolic(2)
    a, b = half_plane_pairs(rng, 5, 2)
    X = straight(a, b, 32)
    batch = refine(m, X)
    for i in range(5):
        one = refine(m, X[i])
        assert_allclose(one.points[0], batch.points[i], rtol=0, atol=1e-12)
        assert one.n_iter[0] == batch.n_iter[i]


def test_lengths_are_curve_length(rng):
    m = gg.Randers(hyperbolic(2), gg.RBFField(rng.uniform(-1, 1, (5, 2)) + [0, 2],
                                            0.1 * rng.normal(size=(5, 2)), 0.7))
    a, b = half_plane_pairs(rng, 4, 2)
    res = refine(m, straight(a, b, 20))
    for i in range(4):
        assert_allclose(res.length[i], gg.curve_length(m, res.points[i]), rtol=1e-13)
        assert_allclose(res.length_before[i], gg.curve_length(m, straight(a[i], b[i], 20)), rtol=1e-13)
    q7 = refine(m, straight(a, b, 20), length_quadrature=7)
    assert_allclose(q7.length[0], gg.curve_length(m, q7.points[0], quadrature=7), rtol=1e-13)


def test_never_returns_a_longer_curve(rng):
    m = hyperbolic(2)
    a, b = half_plane_pairs(rng, 6, 2)
    # the converged curves are optimal: refining them again (with a coarser energy
    # quadrature, whose optimum differs slightly) must not make them longer
    best = refine(m, straight(a, b, 40)).points
    again = refine(m, best, quadrature=1)
    assert np.all(again.length <= again.length_before)
    keep = ~again.improved
    assert_allclose(again.points[keep], best[keep], rtol=0, atol=0)
    none = refine(m, best, max_iter=0)
    assert_allclose(none.points, best, rtol=0, atol=0)
    assert not none.improved.any()


def test_closed_and_two_point_curves(rng):
    m = hyperbolic(2)
    z = np.array([0.3, 1.2])
    X = np.stack([z, [0.5, 1.0], [0.1, 1.4], z])
    res = refine(m, X)
    assert_allclose(res.points[0], np.repeat(z[None], 4, axis=0))
    assert res.length[0] == 0.0
    two = refine(m, np.stack([z, [0.9, 0.8]]))
    assert_allclose(two.points[0], [z, [0.9, 0.8]])


# ------------------------------------------------------------------ gradients
def _mlp(d, D, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d, 12), torch.nn.Tanh(), torch.nn.Linear(12, D)).double()


def _fd_check(metric, X, h=1e-6, rtol=1e-6):
    B, n, d = X.shape
    from graphgeo.costs import gauss_legendre

    tq, wq = (torch.as_tensor(v) for v in gauss_legendre(3))
    T = torch.as_tensor(X)
    prob = _Problem(metric, T[:, 0], T[:, -1], n, tq, wq)
    x = T[:, 1:-1].reshape(B, -1).clone()
    idx = torch.arange(B)
    f, g = prob(x, idx)
    g = g.numpy()
    P = x.shape[1]
    num = np.empty((B, P))
    for j in range(P):  # one FD column per coordinate, all curves at once
        e = torch.zeros_like(x)
        e[:, j] = h
        fp, _ = prob(x + e, idx, grad=False)
        fm, _ = prob(x - e, idx, grad=False)
        num[:, j] = ((fp - fm) / (2 * h)).numpy()
    assert_allclose(g, num, rtol=rtol, atol=rtol * np.abs(num).max())


def test_energy_gradients_match_finite_differences(rng):
    d = 2
    a, b = half_plane_pairs(rng, 3, d)
    X = wiggle(straight(a, b, 7), 0.05, rng)
    centers = rng.uniform(-1, 1, (6, d)) + [0, 1.2]
    metrics = [
        hyperbolic(d),
        gg.Randers(hyperbolic(d), gg.RBFField(centers, 0.1 * rng.normal(size=(6, d)), 0.8)),
        gg.Randers(gg.RHVAEMetric(centers, np.stack([np.eye(d)] * 6), 0.8, 0.1),
                   gg.RBFField(centers, 0.5 * rng.normal(size=(6, d)), 0.8), max_norm=0.6),
        gg.VAECometric(centers, 0.1 + rng.uniform(size=(6, d)), 0.7, 0.05),
        PullbackMetric(_mlp(d, 4, 0), d),
        PullbackCometric(_mlp(d, 4, 1), centers, tau=0.6, lbd=0.05),
    ]
    for m in metrics:
        _fd_check(m, X)


def test_pullback_energy_uses_decoder_chords(rng):
    """Refinement of a PullbackMetric: segment costs are |f(z_{k+1}) - f(z_k)|."""
    net = _mlp(2, 3, 2)
    m = PullbackMetric(net, 2)
    X = torch.as_tensor(wiggle(straight(*rng.normal(size=(2, 2, 2)), 9), 0.05, rng))
    from graphgeo.curves.energy import segment_costs_torch

    c = segment_costs_torch(m, X, torch.tensor([0.5]), torch.tensor([1.0]))
    with torch.no_grad():
        f = net(X.reshape(-1, 2)).reshape(2, 9, 3)
    assert_allclose(c.detach().numpy(), torch.linalg.vector_norm(f[:, 1:] - f[:, :-1], dim=2).numpy(),
                    rtol=1e-14)


# ------------------------------------------------------------------ neural baseline
def test_neural_curve_baseline(rng):
    m = hyperbolic(2)
    a = np.array([[-1.0, 0.6]])
    b = np.array([[1.0, 0.9]])
    res = refine(m, straight(a, b, 32), method="neural", max_iter=300, lr=2e-2, seed=0)
    assert_allclose(res.length, hyp_dist(a, b), rtol=1e-3)  # observed 1.6e-4 (32 points)
    assert np.all(res.length <= res.length_before)
    assert_allclose(res.points[0, [0, -1]], [a[0], b[0]], rtol=0, atol=0)


# ------------------------------------------------------------------ bad input
def test_bad_input_messages(rng):
    m = hyperbolic(2)
    X = straight(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 8)
    with pytest.raises(InvalidInputError, match="metric must be a graphgeo metric"):
        refine("euclid", X)
    with pytest.raises(InvalidInputError, match="dimension 3 but the metric is defined on R\\^2"):
        refine(m, np.zeros((8, 3)))
    with pytest.raises(InvalidInputError, match="at least 2 points"):
        refine(m, X[:1])
    with pytest.raises(InvalidInputError, match="NaN or Inf"):
        refine(m, np.where(np.arange(8)[:, None] == 3, np.nan, X))
    with pytest.raises(InvalidInputError, match="shape \\(n_points, dim\\)"):
        refine(m, np.zeros((2, 2, 8, 2)))
    with pytest.raises(InvalidInputError, match="max_iter must be in"):
        refine(m, X, max_iter=-1)
    with pytest.raises(InvalidInputError, match="method must be one of"):
        refine(m, X, method="adam")
    with pytest.raises(InvalidInputError, match="device must be"):
        refine(m, X, device="tpu")
    with pytest.raises(InvalidInputError, match="same number of points"):
        refine(m, [X, X[:5]])
    with pytest.raises(InvalidInputError, match="belong to method='neural'"):
        refine(m, X, hidden=8)


# numpy-only fields (no torch_fn) are refined: tests/test_refine_numpy.py


def test_undefined_metric_on_input_curve():
    def g_np(z):
        return np.eye(2)[None] / np.sqrt(z[:, 1, None, None])  # NaN below y = 0

    def g_t(z):
        return torch.eye(2, dtype=z.dtype)[None] / torch.sqrt(z[:, 1, None, None])

    m = gg.FieldMetric(g_np, 2, torch_fn=g_t)
    X = straight(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 9)
    X[4, 1] = -0.5
    with np.errstate(invalid="ignore"), pytest.raises(MetricError, match="NaN or Inf"):
        refine(m, X)
