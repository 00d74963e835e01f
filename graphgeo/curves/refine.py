"""Continuous refinement of curves in torch: batched L-BFGS on the discrete Finsler energy.

A curve is n points z_0, ..., z_{n-1} with fixed endpoints. Each segment costs

    c_k = sum_q w_q F(z_k + t_q dz_k, dz_k),      dz_k = z_{k+1} - z_k

(Gauss-Legendre nodes t_q, weights w_q on [0, 1]; F = metric.norm, Randers included),
and refinement minimises the discrete energy

    E = (n - 1) * sum_k c_k^2  >=  (sum_k c_k)^2 = L^2       (Cauchy-Schwarz),

with equality when every segment costs the same: the minimisers of E are
constant-speed discretisations of the shortest curve, and E is smooth where L is
not (no 0/0 when points bunch up). The minimisation is an L-BFGS written for
batches: every curve has its own history, step length (backtracking Armijo line
search) and stopping test, so one hard curve does not slow or stop the others,
and all curves are evaluated together in a handful of large torch calls. Its
initial inverse Hessian is a scaled inverse of the discrete Laplacian
tridiag(-1, 2, -1) (the exact inverse Hessian of the Euclidean energy): without it
the condition number grows like n^2 and 64-point curves need ~200 iterations
instead of ~10-15.

Families with a cheaper differentiable cost provide ``_torch_segment_costs(z, tq, wq)``
(PullbackMetric: chord lengths of decoder outputs, no Jacobian). Metrics for
which F does not depend on z (``metric.is_constant``: Euclidean, constant SPD,
Randers with constant base and constant omega) have straight-line geodesics; the
solver returns the straight segment without iterating.

Metrics given by numpy callables alone (FieldMetric, DiagonalField, CallableField 1-forms
without ``torch_fn``) are refined too: :mod:`graphgeo.curves.fieldgrad` gives them a
differentiable torch evaluation (fn on torch tensors, complex step or central
differences, chosen automatically and reported as ``RefineResult.gradient``).

Lengths before and after are measured with :func:`graphgeo.curve_length`'s
quadrature (the one graph edges use), and a curve whose refined length is not
below its input length is returned unchanged: refinement never lengthens a curve.
"""

import numpy as np

from .._backend import to_numpy
from .._optional import require
from .._validation import (
    check_choice,
    check_curves,
    check_float,
    check_int,
    check_metric,
    check_quadrature,
)
from ..costs import segment_costs
from ..exceptions import InvalidInputError, MetricError
from .energy import energy_torch, quadrature_torch, torch_device
from .fieldgrad import GRADIENTS, adapters, differentiable_metric, probe_points, summarise

__all__ = ["refine", "RefineResult", "batch_curve_lengths", "batch_segment_costs"]

_FEATURE = "curve refinement (gg.refine_curves, gg.geodesic with refine=True)"
# float64 values held by one metric evaluation chunk (rows x per-row cost)
_CHUNK_BUDGET = 1 << 24
# Armijo sufficient-decrease constant and the largest number of step halvings
_C1 = 1e-4
_MAX_LS = 30


class RefineResult:
    """Outcome of :func:`refine` for a batch of B curves of n points.

    Attributes
    ----------
    points : (B, n, d) float64, the refined curves (the input where refinement did not help)
    length : (B,) lengths of the returned curves (graphgeo.curve_length quadrature)
    length_before : (B,) lengths of the input curves, same quadrature
    n_iter : (B,) int, L-BFGS iterations per curve (0 for straight-line metrics)
    converged : (B,) bool, the stopping test was met before max_iter
    improved : (B,) bool, False where the input is returned unchanged
    gradient : str or None, how the energy gradient was obtained: "torch_fn" (the metric's
        torch_fn), "torch" (torch autograd: built-in families, or a numpy field's fn that
        accepts torch tensors), "complex-step" or "finite-differences" (derivatives of a
        numpy field's fn, see graphgeo.curves.fieldgrad); the least exact of the metric's
        parts; None when no gradient was needed (constant metrics, max_iter=0, n <= 2)
    gradient_parts : dict, the mode of each part: {"metric": mode}, or {"base": mode,
        "omega": mode} for a Randers metric (empty when ``gradient`` is None)
    """

    __slots__ = ("points", "length", "length_before", "n_iter", "converged", "improved",
                 "gradient", "gradient_parts")

    def __init__(self, points, length, length_before, n_iter, converged, improved,
                 gradient=None, gradient_parts=None):
        self.points = points
        self.length = length
        self.length_before = length_before
        self.n_iter = n_iter
        self.converged = converged
        self.improved = improved
        self.gradient = gradient
        self.gradient_parts = {} if gradient_parts is None else dict(gradient_parts)

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        rel = np.median((self.length_before - self.length) / np.maximum(self.length_before, 1e-300))
        return (f"RefineResult({len(self)} curves of {self.points.shape[1]} points, median length "
                f"decrease {rel:.3%}, {int(self.converged.sum())} converged, "
                f"median {int(np.median(self.n_iter)) if len(self) else 0} iterations, "
                f"gradient {self.gradient})")


# ---------------------------------------------------------------------------- lengths
def batch_segment_costs(metric, curves, quadrature=None):
    """Directed costs of the n - 1 segments of B polylines (B, n, d) -> (B, n - 1).

    One segment_costs call for the whole batch (the graph's kernels and quadrature).
    """
    B, n, d = curves.shape
    if n < 2 or B == 0:
        return np.zeros((B, max(n - 1, 0)))
    flat = np.ascontiguousarray(curves.reshape(B * n, d))
    start = (np.arange(B)[:, None] * n + np.arange(n - 1)[None]).ravel()
    R, A = segment_costs(metric, flat, start, start + 1, quadrature=quadrature)
    return (R + A).reshape(B, n - 1)


def batch_curve_lengths(metric, curves, quadrature=None):
    """Lengths of B polylines of n points each, (B, n, d) -> (B,).

    Identical to ``[gg.curve_length(metric, c, quadrature) for c in curves]`` (same
    kernels, same quadrature), without a Python loop over curves.
    """
    return batch_segment_costs(metric, curves, quadrature).sum(axis=1)


def _row_cost(metric):
    """Rough float64 work per metric evaluation, to size evaluation chunks."""
    base = getattr(metric, "base", metric)
    d = metric.dim
    K = len(getattr(base, "centroids", ())) or 1
    per = d if getattr(base, "diagonal", True) else d * d
    return max(K * per, d * d, 1) * 4


# ---------------------------------------------------------------------------- the solver
class _Problem:
    """Energy and gradient of a batch of curves with fixed endpoints, evaluated in chunks."""

    def __init__(self, metric, z0, z1, n, tq, wq):
        self.metric = metric
        self.z0 = z0  # (B, d) torch
        self.z1 = z1
        self.n = n
        self.d = z0.shape[1]
        self.tq = tq
        self.wq = wq
        rows = (n - 1) * len(tq)
        self.chunk = max(1, _CHUNK_BUDGET // (rows * _row_cost(metric)))
        self.fields = adapters(metric)  # numpy fields differentiated by complex step / FD
        self.checked = False

    def full(self, x, idx):
        """Curves (m, n, d) from interior coordinates x (m, (n-2) d) of curves idx."""
        torch = require("torch", _FEATURE)
        m = x.shape[0]
        return torch.cat([self.z0[idx, None], x.view(m, self.n - 2, self.d), self.z1[idx, None]], dim=1)

    def energy(self, z):
        return energy_torch(self.metric, z, self.tq, self.wq)

    def __call__(self, x, idx, grad=True):
        """(E (m,), dE/dx (m, P)) for curves idx at interior coordinates x; NaN where undefined."""
        torch = require("torch", _FEATURE)
        fs, gs = [], []
        for s in range(0, x.shape[0], self.chunk):
            xs = x[s : s + self.chunk].detach().requires_grad_(grad)
            with torch.enable_grad() if grad else torch.no_grad():
                f = self.energy(self.full(xs, idx[s : s + self.chunk]))
                if grad:
                    if not f.requires_grad:
                        raise MetricError(
                            f"{type(self.metric).__name__} is not differentiable in torch: its "
                            "evaluation on torch tensors does not track gradients (a FieldMetric or "
                            "callable omega without torch_fn is evaluated through numpy). Pass "
                            "torch_fn= to the metric or field, or call with refine=False."
                        )
                    (g,) = torch.autograd.grad(f.sum(), xs)
                    gs.append(g)
            fs.append(f.detach())
        f = torch.cat(fs)
        if not grad:
            return f, None
        g = torch.cat(gs)
        if not self.checked:
            self.checked = True
            self._check_start(f, g)
        return f, g

    def _check_start(self, f, g):
        """At the input curves, a numpy field's derivative must be finite where the energy is."""
        torch = require("torch", _FEATURE)
        lost = torch.isfinite(f) & ~torch.isfinite(g).all(dim=1)
        if not bool(lost.any()):
            return
        for field in self.fields:
            if field.nonfinite_at is not None:
                h = "1e-20 max(1, |z_k|) (imaginary)" if field.mode == "complex-step" else \
                    "eps^(1/3) max(1, |z_k|)"
                raise MetricError(
                    f"{field.name} is finite at z = "
                    f"{np.array2string(field.nonfinite_at, precision=10)} on input curve "
                    f"{int(torch.nonzero(lost)[0])} but returned NaN or Inf at z +- h e_k "
                    f"(h = {h}), so its {field.mode} derivative is undefined there. The field "
                    "must be finite in a neighbourhood of the curves: move the endpoints away "
                    "from where it is undefined, or pass torch_fn= with an exact derivative."
                )


def _lbfgs(problem, x, max_iter, tol, history, step0, precond):
    """Batched L-BFGS with per-curve history and backtracking Armijo line search.

    x : (B, P) initial interior coordinates. step0 : (B,) length scale of a first step.
    precond : callable (m, P) -> (m, P), the initial inverse-Hessian shape H0 = gamma * precond
    (the inverse discrete Laplacian: the Euclidean energy's exact inverse Hessian).
    Returns (x, n_iter (B,), converged (B,)).
    """
    torch = require("torch", _FEATURE)
    B, P = x.shape
    dev, dt = x.device, x.dtype
    all_idx = torch.arange(B, device=dev)
    f, g = problem(x, all_idx)
    if not bool(torch.all(torch.isfinite(f))):
        bad = int(torch.nonzero(~torch.isfinite(f))[0])
        raise MetricError(
            f"the metric is not finite along input curve {bad}: its energy is NaN or Inf. Check "
            "that the curve stays where the metric is defined (and positive definite)."
        )
    # a gradient can be undefined where two consecutive points coincide (sqrt at 0):
    # such curves are left as they are
    stuck = ~torch.isfinite(g).all(dim=1)
    g[stuck] = 0.0
    S = torch.zeros(B, history, P, device=dev, dtype=dt)
    Y = torch.zeros_like(S)
    rho = torch.zeros(B, history, device=dev, dtype=dt)
    pg = precond(g)
    gamma = step0 / pg.abs().amax(dim=1).clamp_min(1e-300)  # first step moves a point by step0
    n_iter = torch.zeros(B, dtype=torch.long, device=dev)
    done = stuck.clone()
    converged = torch.zeros(B, dtype=torch.bool, device=dev)
    slot = 0
    for it in range(max_iter):
        act = torch.nonzero(~done).ravel()
        if act.numel() == 0:
            break
        xa, fa, ga = x[act], f[act], g[act]
        Sa, Ya, ra = S[act], Y[act], rho[act]
        # two-loop recursion, newest pair first (slots are shared, rho = 0 marks an empty pair)
        q = -ga
        order = [(slot - 1 - j) % history for j in range(history)]
        alpha = torch.zeros(len(act), history, device=dev, dtype=dt)
        for j in order:
            a = ra[:, j] * (Sa[:, j] * q).sum(1)
            alpha[:, j] = a
            q = q - a[:, None] * Ya[:, j]
        r = gamma[act, None] * precond(q)
        for j in reversed(order):
            b = ra[:, j] * (Ya[:, j] * r).sum(1)
            r = r + Sa[:, j] * (alpha[:, j] - b)[:, None]
        slope = (r * ga).sum(1)
        bad = ~(slope < 0) | ~torch.isfinite(slope)
        if bool(bad.any()):  # not a descent direction: forget this curve's history
            r[bad] = -gamma[act[bad], None] * precond(ga[bad])
            slope[bad] = (r[bad] * ga[bad]).sum(1)
            rho[act[bad]] = 0.0
        # backtracking Armijo line search, per curve
        t = torch.ones(len(act), device=dev, dtype=dt)
        fnew, gnew = fa.clone(), ga.clone()
        ok = torch.zeros(len(act), dtype=torch.bool, device=dev)
        for _ in range(_MAX_LS):
            pend = torch.nonzero(~ok).ravel()
            if pend.numel() == 0:
                break
            xt = xa[pend] + t[pend, None] * r[pend]
            ft, gt = problem(xt, act[pend])
            good = torch.isfinite(ft) & torch.isfinite(gt).all(1) & (
                ft <= fa[pend] + _C1 * t[pend] * slope[pend])
            acc = pend[good]
            fnew[acc], gnew[acc] = ft[good], gt[good]
            ok[acc] = True
            t[pend[~good]] *= 0.5
        # curves whose line search failed cannot decrease E further at this precision
        stalled = ~ok
        s = t[:, None] * r
        s[stalled] = 0.0
        y = gnew - ga
        sy = (s * y).sum(1)
        upd = ok & (sy > 1e-12 * torch.sqrt((s * s).sum(1) * (y * y).sum(1)).clamp_min(1e-300))
        S[act, slot] = torch.where(upd[:, None], s, torch.zeros_like(s))
        Y[act, slot] = torch.where(upd[:, None], y, torch.zeros_like(y))
        rho[act, slot] = torch.where(upd, 1.0 / torch.where(upd, sy, torch.ones_like(sy)),
                                     torch.zeros_like(sy))
        gamma[act] = torch.where(upd, sy / (y * precond(y)).sum(1).clamp_min(1e-300), gamma[act])
        slot = (slot + 1) % history
        x[act[ok]] = xa[ok] + s[ok]
        f[act] = torch.where(ok, fnew, fa)
        g[act] = torch.where(ok[:, None], gnew, ga)
        n_iter[act] += 1
        small = ok & ((fa - fnew) <= tol * fnew.abs().clamp_min(1e-300))
        converged[act] = small | stalled
        done[act] = small | stalled
    return x, to_numpy(n_iter), to_numpy(converged)


def _straight(z0, z1, n):
    t = np.linspace(0.0, 1.0, n)
    return z0[:, None, :] + t[None, :, None] * (z1 - z0)[:, None, :]


def refine(metric, curves, *, max_iter=500, tol=1e-10, quadrature=3, history=10, device=None,
           length_quadrature=None, method="points", gradient="auto", **neural_options):
    """Shorten curves with fixed endpoints by minimising their discrete Finsler energy.

    Parameters
    ----------
    metric : graphgeo Metric (any family, Randers included). Fields given by numpy
        callables only (FieldMetric, DiagonalField, a CallableField omega without
        ``torch_fn``) are refined with derivatives of the numpy callable; see ``gradient``
    curves : (n, d) or (B, n, d) array-like, n >= 2; all curves share n
        Initial curves (a smoothed graph path, a straight line, ...). Endpoints stay fixed.
    max_iter : int >= 0, L-BFGS iterations per curve
    tol : float >= 0, stop a curve when an iteration lowers its energy by less than
        tol * energy (or when no step along the search direction lowers it)
    quadrature : int, Gauss-Legendre points per segment in the energy (3 is exact for
        quintic integrands; the reported lengths always use ``length_quadrature``)
    history : int >= 1, L-BFGS memory
    device : None (the metric's device, else CPU), 'auto', 'cpu', 'cuda' or torch.device
    length_quadrature : int or None, quadrature of the reported lengths (None: the
        graphgeo default, the one GeodesicGraph.build uses)
    method : "points" (default, the n points are the unknowns) or "neural" (the curve is a
        small MLP t -> z, see graphgeo.curves.neural; ``neural_options`` go to it)
    gradient : how numpy fields (FieldMetric, DiagonalField, CallableField) are
        differentiated. "auto" (default) takes the first that works, fastest first:
        "torch_fn" (the torch_fn given to the field), "torch" (fn itself called on torch
        tensors, when it returns float64 tensors through which gradients flow), "complex-step"
        (fn on complex input, exact to machine precision when fn is analytic; d extra
        evaluations per point) and "finite-differences" (central differences, relative
        error ~ 4e-11; 2 d extra evaluations per point). "torch" and "complex-step" are
        accepted after a check at a few points of the curves (values to 1e-12, a
        vector-Jacobian product to 1e-6 of central differences). Naming one mode forces
        it for every numpy field (an error if it cannot be used). Built-in families are
        always differentiated by torch autograd. The mode used is ``RefineResult.gradient``.

    Returns
    -------
    RefineResult (arrays batched over curves; a single (n, d) input gives B = 1).

    Raises
    ------
    InvalidInputError for bad shapes or options; MetricError when the metric is not
    finite on an input curve (a numpy field: also when it is not finite within the
    finite-difference step of it), when a forced ``gradient`` mode cannot be used, or
    when its torch evaluation does not track gradients; MissingDependencyError when
    torch is not installed and the metric is not constant
    (``pip install 'graphgeo[torch]'``).
    """
    metric = check_metric(metric)
    X, _ = check_curves(curves, "curves", dim=metric._dim_from(curves, "curves"))
    max_iter = check_int(max_iter, "max_iter", low=0)
    tol = check_float(tol, "tol", low=0.0)
    quadrature = check_int(quadrature, "quadrature", low=1, high=64,
                           remedy="It is the number of Gauss-Legendre points per segment.")
    history = check_int(history, "history", low=1, high=1000)
    length_quadrature = check_quadrature(length_quadrature)
    method = check_choice(method, "method", ("points", "neural"))
    gradient = check_choice(gradient, "gradient", GRADIENTS)
    if method == "points" and neural_options:
        raise InvalidInputError(
            f"unexpected options {sorted(neural_options)} for method='points'; they belong to "
            "method='neural'."
        )
    B, n, d = X.shape
    before = batch_curve_lengths(metric, X, length_quadrature)
    modes = {}
    open_ = np.flatnonzero(np.any(X[:, 0] != X[:, -1], axis=1))
    if not metric.is_constant and n > 2 and max_iter > 0:
        # numpy-only fields get a differentiable torch evaluation (the caller's metric is
        # not modified); lengths below are always measured with the original metric
        dev = torch_device(device, metric)
        probe = probe_points(X[open_] if len(open_) else X)
        solver_metric, modes = differentiable_metric(metric, probe, gradient, dev)
    else:
        solver_metric = metric
    if method == "neural":
        from .neural import neural_refine

        out, n_iter, converged = neural_refine(solver_metric, X, max_iter=max_iter, tol=tol,
                                               quadrature=quadrature, device=device,
                                               **neural_options)
    elif metric.is_constant:
        # F(z, v) = F(v): straight segments are the geodesics (triangle inequality of a norm)
        out = _straight(X[:, 0], X[:, -1], n)
        n_iter = np.zeros(B, dtype=np.int64)
        converged = np.ones(B, dtype=bool)
    elif n <= 2 or max_iter == 0:
        out, n_iter, converged = X.copy(), np.zeros(B, dtype=np.int64), np.full(B, n <= 2)
    else:  # closed curves (z0 == z1) become the constant curve, of length 0
        out = np.repeat(X[:, :1], n, axis=1)
        n_iter, converged = np.zeros(B, dtype=np.int64), np.ones(B, dtype=bool)
        if len(open_):
            out[open_], n_iter[open_], converged[open_] = _refine_points(
                solver_metric, X[open_], max_iter, tol, quadrature, history, device)
    after = batch_curve_lengths(metric, out, length_quadrature)
    improved = after < before
    out[~improved] = X[~improved]
    after = np.where(improved, after, before)
    return RefineResult(out, after, before, np.asarray(n_iter, dtype=np.int64),
                        np.asarray(converged, dtype=bool), improved, summarise(modes), modes)


def _refine_points(metric, X, max_iter, tol, quadrature, history, device):
    torch = require("torch", _FEATURE)
    B, n, d = X.shape
    dev = torch_device(device, metric)
    T = torch.as_tensor(X, dtype=torch.float64, device=dev)
    tq_t, wq_t = quadrature_torch(quadrature, dev)
    problem = _Problem(metric, T[:, 0].contiguous(), T[:, -1].contiguous(), n, tq_t, wq_t)
    x = T[:, 1:-1].reshape(B, -1).clone()
    # first step: move the worst point by a tenth of the mean segment length
    h = torch.linalg.vector_norm(T[:, 1:] - T[:, :-1], dim=2).mean(1)
    step0 = 0.1 * h.clamp_min(1e-12)
    # inverse of the (n-2) x (n-2) second-difference matrix tridiag(-1, 2, -1), per coordinate
    m = n - 2
    i = torch.arange(1, m + 1, device=dev, dtype=torch.float64)
    Linv = torch.minimum(i[:, None], i[None, :]) * (m + 1 - torch.maximum(i[:, None], i[None, :])) / (m + 1)

    def precond(v):
        return (Linv @ v.view(-1, m, d)).reshape(v.shape)

    x, n_iter, conv = _lbfgs(problem, x, max_iter, tol, history, step0, precond)
    out = to_numpy(problem.full(x, torch.arange(B, device=dev))).astype(np.float64, copy=True)
    out[:, 0], out[:, -1] = X[:, 0], X[:, -1]  # exact endpoints
    return out, n_iter, conv
