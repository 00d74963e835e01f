"""Refinement of metric fields given by numpy callables only (no torch_fn).

The user's call, exactly as written in the docs: ``gg.geodesic(gg.FieldMetric(numpy_fn, 2),
a, b, graph=g)``. Oracles and tolerances:
- hyperbolic half-plane G = I / y^2: d(a, b) = arccosh(1 + |a - b|^2 / (2 a_y b_y));
  refined 64-point curves within 2e-4 relative of the closed form (the discretisation
  error of a 64-point polyline, as for torch_fn in test_refine.py), median <= 1e-5 (the
  torch_fn path's accuracy; observed ~2e-6), and within 1e-7 relative of the same
  refinement with torch_fn (complex step is exact to rounding, central differences to
  ~1e-10 in the gradient; the optimum's length is second order in that error);
- Randers over the half-plane with an exact 1-form omega = grad phi, phi = 0.1 y sin x
  (geodesics unchanged): L(a -> b) = d(a, b) + phi(b) - phi(a) in both directions, 2e-4;
- Zermelo navigation (constant wind) behind a numpy FieldMetric: the straight segment,
  the closed-form travel time to 1e-4 (as test_refine.py with torch_fn);
- energy gradients: complex step vs torch_fn to 1e-12 relative, central differences vs
  torch_fn to 1e-7 relative (their error is ~ eps^(2/3) ~ 4e-11 of the derivative scale);
  the numpy vector-Jacobian products against analytic Jacobians, same tolerances.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg
from graphgeo.costs import gauss_legendre
from graphgeo.curves.fieldgrad import (
    central_difference_vjp,
    complex_step_vjp,
    differentiable_metric,
    probe_points,
)
from graphgeo.curves.refine import _Problem, refine
from graphgeo.exceptions import InvalidInputError, MetricError

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def hyp_np(z):  # complex-safe, fails on torch tensors that require grad
    return np.eye(2)[None] / z[:, 1, None, None] ** 2


def hyp_torch(z):
    return torch.eye(2, dtype=z.dtype)[None] / z[:, 1, None, None] ** 2


def hyp_abs(z):  # np.abs of complex input is the modulus: no complex step
    return np.eye(2)[None] / np.abs(z[:, 1, None, None]) ** 2


def hyp_real_only(z):
    if np.iscomplexobj(z):
        raise TypeError("real input only")
    return np.eye(2)[None] / z[:, 1, None, None] ** 2


def hyp_any(z):  # dispatches on its input (array-API style): torch tensors work, with gradients
    eye = torch.eye(2, dtype=z.dtype, device=z.device) if torch.is_tensor(z) else np.eye(2)
    return eye[None] / z[:, 1, None, None] ** 2


def hyp_dist(a, b):
    return np.arccosh(1 + np.sum((a - b) ** 2, axis=-1) / (2 * a[..., -1] * b[..., -1]))


def straight(a, b, n):
    t = np.linspace(0, 1, n)
    return a[..., None, :] + t[:, None] * (b - a)[..., None, :]


def pairs(rng, B, low=0.4, high=2.0):
    a = rng.uniform(-1, 1, (B, 2))
    b = rng.uniform(-1, 1, (B, 2))
    a[:, 1] = rng.uniform(low, high, B)
    b[:, 1] = rng.uniform(low, high, B)
    return a, b


@pytest.fixture(scope="module")
def half_plane_graph():
    """A graph built from the numpy-only field, as a user without torch_fn builds it."""
    rng = np.random.default_rng(3)
    P = rng.uniform(0, 1, (1500, 2))
    P[:, 0] = 4 * P[:, 0] - 2
    P[:, 1] = 0.2 + 2.3 * P[:, 1]
    return gg.GeodesicGraph.build(P, gg.FieldMetric(hyp_np, 2), k=10)


# ------------------------------------------------------------------ the user's call
def test_user_geodesic_of_a_numpy_field(half_plane_graph):
    g = half_plane_graph
    numpy_fn = lambda z: np.eye(2)[None] / z[:, 1, None, None] ** 2  # noqa: E731
    a, b = np.array([-1.2, 0.5]), np.array([1.1, 0.8])
    c = gg.geodesic(gg.FieldMetric(numpy_fn, 2), a, b, graph=g)
    assert c.stage == "refined" and c.converged
    assert c.gradient == "complex-step"
    assert c.length < c.length_spline <= c.length_graph
    assert_allclose(c.length, hyp_dist(a, b), rtol=2e-4)
    # the same refinement with torch_fn (the fast path)
    ref = gg.geodesic(gg.FieldMetric(numpy_fn, 2, torch_fn=hyp_torch), a, b, graph=g)
    assert ref.gradient == "torch_fn"
    assert_allclose(c.length, ref.length, rtol=1e-7)


def test_batch_accuracy_matches_torch_fn_in_every_mode(half_plane_graph, rng):
    a, b = pairs(rng, 12)
    true = hyp_dist(a, b)
    exact = gg.geodesics(gg.FieldMetric(hyp_np, 2, torch_fn=hyp_torch), a, b, graph=half_plane_graph)
    L_exact = np.array([c.length for c in exact])
    for fn, gradient, mode in [(hyp_np, "auto", "complex-step"), (hyp_abs, "auto", "finite-differences"),
                               (hyp_real_only, "auto", "finite-differences"), (hyp_any, "auto", "torch"),
                               (hyp_np, "finite-differences", "finite-differences")]:
        cs = gg.geodesics(gg.FieldMetric(fn, 2), a, b, graph=half_plane_graph, gradient=gradient)
        assert {c.gradient for c in cs} == {mode}, fn.__name__
        L = np.array([c.length for c in cs])
        rel = np.abs(L / true - 1)
        assert np.median(rel) <= 1e-5 and rel.max() <= 2e-4, (mode, rel)
        assert_allclose(L, L_exact, rtol=1e-7)


def test_caller_metric_is_not_modified():
    m = gg.FieldMetric(hyp_np, 2)
    X = straight(np.array([0.0, 1.0]), np.array([1.0, 1.5]), 16)
    res = refine(m, X)
    assert res.gradient == "complex-step" and res.gradient_parts == {"metric": "complex-step"}
    assert m.torch_fn is None
    assert "gradient complex-step" in repr(res)
    r = gg.Randers(m, omega_np)
    refine(r, X)
    assert r.base is m and m.torch_fn is None and r.omega.torch_fn is None


def test_no_gradient_needed_is_reported_as_none():
    X = straight(np.array([0.0, 1.0]), np.array([1.0, 1.5]), 16)
    assert refine(gg.Euclidean(2), X).gradient is None
    assert refine(gg.FieldMetric(hyp_np, 2), X, max_iter=0).gradient is None
    c = gg.geodesic(gg.FieldMetric(hyp_np, 2), X[0], X[-1], refine=False)
    assert c.gradient is None


# ------------------------------------------------------------------ mode choice
@pytest.mark.parametrize("fn, mode", [(hyp_np, "complex-step"), (hyp_abs, "finite-differences"),
                                      (hyp_real_only, "finite-differences"), (hyp_any, "torch")])
def test_mode_is_chosen_by_what_fn_accepts(fn, mode):
    X = straight(np.array([[-0.5, 0.7]]), np.array([[0.8, 1.1]]), 8)
    _, modes = differentiable_metric(gg.FieldMetric(fn, 2), probe_points(X), "auto", torch.device("cpu"))
    assert modes == {"metric": mode}
    _, modes = differentiable_metric(gg.FieldMetric(fn, 2, torch_fn=hyp_torch), probe_points(X), "auto",
                                     torch.device("cpu"))
    assert modes == {"metric": "torch_fn"}


def test_probe_rejects_a_wrong_complex_derivative():
    """Values right at real input, derivative lost at complex input (the imaginary part dropped)."""
    def fn(z):
        y = z[:, 1].real + 0 * z[:, 1]  # complex dtype, imaginary part discarded
        return np.eye(2)[None] / y[:, None, None] ** 2

    X = straight(np.array([[-0.5, 0.7]]), np.array([[0.8, 1.1]]), 8)
    _, modes = differentiable_metric(gg.FieldMetric(fn, 2), probe_points(X), "auto", torch.device("cpu"))
    assert modes == {"metric": "finite-differences"}
    with pytest.raises(MetricError, match="gradient='complex-step': FieldMetric fn cannot be differentiated"):
        refine(gg.FieldMetric(fn, 2), X, gradient="complex-step")


def test_forced_modes_that_cannot_work():
    X = straight(np.array([0.0, 1.0]), np.array([1.0, 1.5]), 8)
    with pytest.raises(MetricError, match="gradient='torch': FieldMetric fn"):
        refine(gg.FieldMetric(hyp_np, 2), X, gradient="torch")
    with pytest.raises(MetricError, match="gradient='complex-step': DiagonalField fn"):
        refine(gg.DiagonalField(lambda z: np.abs(z) + 1, 2), X, gradient="complex-step")
    with pytest.raises(MetricError, match="built without torch_fn"):
        refine(gg.FieldMetric(hyp_np, 2), X, gradient="torch_fn")
    with pytest.raises(InvalidInputError, match="gradient must be one of 'auto', 'torch_fn'"):
        refine(gg.FieldMetric(hyp_np, 2), X, gradient="adjoint")
    with pytest.raises(InvalidInputError, match="gradient must be one of"):
        gg.geodesic(gg.FieldMetric(hyp_np, 2), X[0], X[-1], gradient="fd")


# ------------------------------------------------------------------ gradients
def _problem_grad(metric, X):
    B, n, d = X.shape
    tq, wq = (torch.as_tensor(v) for v in gauss_legendre(3))
    T = torch.as_tensor(X)
    prob = _Problem(metric, T[:, 0], T[:, -1], n, tq, wq)
    f, g = prob(T[:, 1:-1].reshape(B, -1).clone(), torch.arange(B))
    return f.numpy(), g.numpy()


def _wrapped(metric, X, gradient):
    m, modes = differentiable_metric(metric, probe_points(X), gradient, torch.device("cpu"))
    assert set(modes.values()) <= {gradient, "torch"}, modes
    return m


def omega_np(z):  # grad of phi = 0.1 y sin x
    return 0.1 * np.stack([z[:, 1] * np.cos(z[:, 0]), np.sin(z[:, 0])], axis=1)


def omega_torch(z):
    return 0.1 * torch.stack([z[:, 1] * torch.cos(z[:, 0]), torch.sin(z[:, 0])], dim=1)


def phi(z):
    return 0.1 * z[..., 1] * np.sin(z[..., 0])


def diag_np(z):
    return np.stack([1.0 + z[:, 0] ** 2, np.exp(0.3 * z[:, 1]) / z[:, 1] ** 2], axis=1)


def diag_torch(z):
    return torch.stack([1.0 + z[:, 0] ** 2, torch.exp(0.3 * z[:, 1]) / z[:, 1] ** 2], dim=1)


@pytest.mark.parametrize("gradient, rtol", [("complex-step", 1e-12), ("finite-differences", 1e-7)])
def test_energy_gradient_agrees_with_torch_fn(rng, gradient, rtol):
    a, b = pairs(rng, 3)
    X = straight(a, b, 9)
    X[:, 1:-1] += 0.05 * rng.normal(size=X[:, 1:-1].shape)
    cases = [
        (gg.FieldMetric(hyp_np, 2, torch_fn=hyp_torch), gg.FieldMetric(hyp_np, 2)),
        (gg.DiagonalField(diag_np, 2, torch_fn=diag_torch), gg.DiagonalField(diag_np, 2)),
        (gg.Randers(gg.FieldMetric(hyp_np, 2, torch_fn=hyp_torch), gg.CallableField(omega_np, 2, omega_torch)),
         gg.Randers(gg.FieldMetric(hyp_np, 2), omega_np)),
        (gg.Randers(gg.RHVAEMetric(a, np.stack([np.eye(2)] * 3), 0.8, 0.1), gg.CallableField(omega_np, 2, omega_torch)),
         gg.Randers(gg.RHVAEMetric(a, np.stack([np.eye(2)] * 3), 0.8, 0.1), omega_np)),
        # omega 8x larger, rescaled pointwise to |omega|_(G^-1) <= 0.5 (the rescaling is active)
        (gg.Randers(gg.FieldMetric(hyp_np, 2, torch_fn=hyp_torch),
                    gg.CallableField(lambda z: 8 * omega_np(z), 2, lambda z: 8 * omega_torch(z)), max_norm=0.5),
         gg.Randers(gg.FieldMetric(hyp_np, 2), lambda z: 8 * omega_np(z), max_norm=0.5)),
    ]
    assert np.max(cases[-1][0].omega_norm(X.reshape(-1, 2))) > 0.5
    for exact, numpy_only in cases:
        f0, g0 = _problem_grad(exact, X)
        f1, g1 = _problem_grad(_wrapped(numpy_only, X, gradient), X)
        assert_allclose(f1, f0, rtol=1e-14)
        assert_allclose(g1, g0, rtol=rtol, atol=rtol * np.abs(g0).max())


def test_numpy_vjps_against_analytic_jacobian(rng):
    """G(z) = [[exp(z0 z1), sin z0], [sin z0, 1 + z1^2]]: dG/dz0, dG/dz1 in closed form;
    chunked evaluation (a budget of a few points per fn call) gives the same numbers."""
    def fn(z):
        e = np.exp(z[:, 0] * z[:, 1])
        s = np.sin(z[:, 0])
        return np.stack([np.stack([e, s], -1), np.stack([s, 1 + z[:, 1] ** 2], -1)], -2)

    z = rng.normal(size=(50, 2)) * [1.0, 3.0]
    g = rng.normal(size=(50, 2, 2))
    e = np.exp(z[:, 0] * z[:, 1])
    c = np.cos(z[:, 0])
    zero = np.zeros(50)
    d0 = np.stack([np.stack([z[:, 1] * e, c], -1), np.stack([c, zero], -1)], -2)
    d1 = np.stack([np.stack([z[:, 0] * e, zero], -1), np.stack([zero, 2 * z[:, 1]], -1)], -2)
    want = np.stack([np.einsum("nij,nij->n", d0, g), np.einsum("nij,nij->n", d1, g)], axis=1)
    for vjp, rtol in [(complex_step_vjp, 1e-13), (central_difference_vjp, 1e-7)]:
        got = vjp(fn, z, g, (2, 2))
        assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
        assert_allclose(vjp(fn, z, g, (2, 2), budget=100), got, rtol=0, atol=0)


def test_vjp_calls_fn_once_per_chunk():
    calls = []

    def fn(z):
        calls.append(len(z))
        return z ** 2

    z = np.random.default_rng(0).normal(size=(300, 3))
    central_difference_vjp(fn, z, np.ones((300, 3)), (3,))
    assert calls == [2 * 3 * 300]  # all 2 d shifted copies of all points in one call
    calls.clear()
    complex_step_vjp(fn, z, np.ones((300, 3)), (3,), budget=2 * 3 * 6 * 100)
    assert calls == [3 * 100] * 3


# ------------------------------------------------------------------ other families
def test_diagonal_field_half_plane(rng):
    a, b = pairs(rng, 6)
    true = hyp_dist(a, b)
    for fn, mode in [(lambda z: np.repeat(z[:, 1:] ** -2.0, 2, axis=1), "complex-step"),
                     (lambda z: np.repeat(np.abs(z[:, 1:]) ** -2.0, 2, axis=1), "finite-differences")]:
        res = refine(gg.DiagonalField(fn, 2), straight(a, b, 64))
        assert res.gradient == mode
        assert np.all(res.converged)
        assert_allclose(res.length, true, rtol=2e-4)


def test_randers_numpy_field_with_callable_omega_both_directions(rng):
    a, b = pairs(rng, 6, high=1.5)
    m = gg.Randers(gg.FieldMetric(hyp_np, 2), omega_np)  # |omega|_(G^-1) <= 0.1 y sqrt(1 + y^2) < 1
    fwd = refine(m, straight(a, b, 64))
    bwd = refine(m, straight(b, a, 64))
    assert fwd.gradient_parts == {"base": "complex-step", "omega": "complex-step"}
    assert_allclose(fwd.length, hyp_dist(a, b) + phi(b) - phi(a), rtol=2e-4)
    assert_allclose(bwd.length, hyp_dist(a, b) + phi(a) - phi(b), rtol=2e-4)
    # a 1-form that is not complex-safe: the Randers metric reports the least exact part
    m2 = gg.Randers(gg.FieldMetric(hyp_np, 2), lambda z: omega_np(np.asarray(z, dtype=np.float64)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the probe keeps numpy's ComplexWarning to itself
        res = refine(m2, straight(a, b, 64))
    assert res.gradient_parts == {"base": "complex-step", "omega": "finite-differences"}
    assert res.gradient == "finite-differences"
    assert_allclose(res.length, fwd.length, rtol=1e-7)


def test_zermelo_behind_a_numpy_field_gives_the_straight_segment(rng):
    W = np.array([0.3, -0.4])
    lam = 1 - W @ W
    Gz = (lam * np.eye(2) + np.outer(W, W)) / lam**2
    m = gg.Randers(gg.FieldMetric(lambda z: np.broadcast_to(Gz, (len(z), 2, 2)).copy(), 2), -W / lam)
    assert not m.is_constant
    a, b = rng.normal(size=(2, 6, 2))
    X = straight(a, b, 33)
    X[:, 1:-1] += 0.1 * rng.normal(size=X[:, 1:-1].shape)
    res = refine(m, X)
    assert res.gradient == "finite-differences"  # fn ignores z's imaginary part: real output
    assert np.all(res.converged)
    D = b - a
    dw = D @ W
    assert_allclose(res.length, (np.sqrt(dw**2 + lam * np.sum(D * D, axis=1)) - dw) / lam, rtol=1e-4)


def test_neural_solver_with_a_numpy_field():
    a, b = np.array([[-1.0, 0.6]]), np.array([[1.0, 0.9]])
    res = refine(gg.FieldMetric(hyp_np, 2), straight(a, b, 32), method="neural", max_iter=300, lr=2e-2)
    assert res.gradient == "complex-step"
    assert_allclose(res.length, hyp_dist(a, b), rtol=1e-3)  # the baseline's accuracy (test_refine.py)


# ------------------------------------------------------------------ undefined fields
def test_field_undefined_next_to_the_curve_names_the_field():
    def fn(z):  # NaN below y = 0.5
        return np.eye(2)[None] / np.sqrt(z[:, 1, None, None] - 0.5)

    X = straight(np.array([0.0, 0.5 + 1e-7]), np.array([1.0, 0.5 + 1e-7]), 9)  # within h of y = 0.5
    with pytest.raises(MetricError, match=r"FieldMetric fn is finite at z = .* but returned NaN or Inf at "
                                          r"z \+- h e_k .* finite-differences derivative"):
        refine(gg.FieldMetric(fn, 2), X, gradient="finite-differences")


def test_field_returning_nan_on_the_curve_names_the_field():
    def fn(z):
        G = np.eye(2)[None] / z[:, 1, None, None] ** 2
        return np.where(z[:, :1, None] > 0.4, np.nan, G)

    with pytest.raises(MetricError, match="FieldMetric returned a metric tensor with NaN or Inf"):
        gg.geodesic(gg.FieldMetric(fn, 2), [0.0, 1.0], [1.0, 1.0])
    with pytest.raises(MetricError, match="omega callable returned NaN or Inf"):
        gg.geodesic(gg.Randers(gg.FieldMetric(hyp_np, 2), lambda z: np.where(z > 0.4, np.nan, 0.1)),
                    [0.0, 1.0], [1.0, 1.0])
