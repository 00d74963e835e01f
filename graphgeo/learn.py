"""Learning the Randers 1-form of a one-way process (Blanchard & Allassonniere, 2025).

Given encoded points z_i and an ``order`` (time, stage, size: larger means later in
the process), :func:`fit_randers` learns a 1-form omega(z) = -rho(z) phi_hat(z) such
that moving forward along the process is cheaper than moving backward under
F(z, v) = |v|_G + <omega(z), v>.

The two losses (as in the paper)
--------------------------------
For each point i with neighbours j in KNN(i) (Euclidean k nearest neighbours) and
y_ij = +1 when order_j > order_i, -1 when order_j < order_i:

    l_phi(z_i) = sum_j max(0, 1 - y_ij phi_i^T (z_j - z_i))                     (hinge)
    ACC_phi(z_i) = #{j : y_ij phi_i^T (z_j - z_i) > 0} / #{j : y_ij != 0}
    target_i  = 2 max(0, ACC_phi(z_i) - 1/2)
    l_rho(z_i) = (rho_i - target_i)^2

Neighbours with the *same* order (y_ij = 0, "neither before nor after") are left out
of both the hinge and the accuracy; a point whose neighbours all tie gets target 0.
phi_i points towards increasing order (it is the normal of the local "sequential
hyperplane"); rho_i in [0, 1] is high where the local order is clean, low where it
is mixed, and that variation is what moves geodesics (an exact 1-form, a constant
omega for instance, changes costs but never paths).

Choice of parametrisation: per-point values (phi_i in R^d, rho_i in [0, 1])
optimised in torch (Adam, float64; a small network was not tried), optionally
coupled to their neighbours by a graph-Laplacian penalty, then interpolated by a
Gaussian RBF (:class:`graphgeo.RBFField`), which the fused kernels evaluate directly.

The default is the paper's losses alone (``smooth=0``), chosen by measurement on
geodesics. Uncoupled, each phi_i separates its own earlier neighbours from its later
ones, so omega varies from point to point and is far from exact: every forward edge
gets cheaper and every backward edge dearer, which moves geodesics. A strong coupling
makes phi locally consistent, so that ACC measures how clean the order is around z_i
(once d >= k a per-point hinge separates any k neighbours and ACC is 1 everywhere),
but it also makes omega nearly constant where the order direction is, and then the
geodesics return to the base metric's. Measured (k = 16, seed 0): on the phantoms of
bench/monotonicity.py (PCA latent of dimension 32, 100 held-out pairs) forward
monotonicity is 0.88 at smooth=0, 0.81 at 0.3 and 0.68 at 10 (Euclidean: 0.68); on
the 2-D toy of the tests it is 0.997 at smooth=0 and 0.989 at 10 (Euclidean 0.555),
with rho 0.38 in the disordered core and 0.87 on the orderly ring at smooth=0
(0.20 / 0.84 at smooth=10). On 500 Gaussian points in R^32 with a *random* order,
mean ACC is 1.00 uncoupled, 0.83 with smooth=1, 0.62 with smooth=10: use a coupling
when rho itself (where is the order clean?) is what you want to read. The full
objectives are

    L_phi = sum_i l_phi(z_i) + alpha s^2 sum_i |phi_i|^2
            + smooth s^2 sum_i mean_j |phi_i - phi_j|^2
    L_rho = sum_i l_rho(z_i) + smooth_rho sum_i mean_j (rho_i - rho_j)^2

with s the median neighbour distance (it makes the penalties scale-free).

Sign convention and the Randers condition
-----------------------------------------
omega_i = -max_norm * rho_i * phi_i / |phi_i|_{G^{-1}(z_i)}, so <omega, v> < 0 for a
step v towards increasing order: forward costs |v|_G (1 - max_norm rho cos) and
backward costs |v|_G (1 + max_norm rho cos). At every node |omega|_{G^{-1}} <=
max_norm < 1: the RBF interpolant is rescaled by one global factor if it
overshoots max_norm at any node. Between nodes an RBF interpolant can overshoot
(on 300 points with a random order, |omega| reaches ~3 between points, the
coefficients ~10^3; on the PCA phantoms of bench/monotonicity.py, 1.34 with 11% of
the points between neighbours above 0.9), so the field carries ``max_norm``:
``Randers(base, fit.field)`` rescales omega pointwise to |omega|_{G^{-1}} <= max_norm
wherever it overshoots and leaves it unchanged elsewhere, so the condition holds
everywhere by construction (:meth:`RandersFit.metric` is the same metric). A
better-conditioned interpolant alone does not do it: measured on the phantoms
(100 pairs), ridge 1e-4 / 1e-3 / 1e-2 keep |omega| under 1 between points but
shrink and turn the field (relative residual 0.40 / 0.61 / 0.80 at the points)
and forward monotonicity falls from 0.886 to 0.867 / 0.835 / 0.774; 0.5x / 0.75x the
default bandwidth still overshoot (1.13 / 1.23) and give 0.884 / 0.891 (within the
0.011 standard error of 0.886).
"""

import numpy as np

from ._optional import require
from ._validation import (as_array, check_bool, check_float, check_int, check_metric,
                          check_points, check_seed)
from ._verbose import progress_bar
from .exceptions import InvalidInputError
from .metrics import Euclidean, Randers, RBFField

__all__ = ["fit_randers", "RandersFit", "phi_loss", "rho_loss", "accuracy_target", "order_signs"]


class RandersFit:
    """The result of :func:`fit_randers`.

    Attributes
    ----------
    field : RBFField, omega interpolated from the per-point values (fused-kernel ready);
        its ``max_norm`` is the cap, which gg.Randers(base, field) applies pointwise
    base : Metric, the Riemannian part the Randers condition was enforced for
    max_norm : float in (0, 1), the cap on |omega|_{G^{-1}}
    omega : (n, d) omega at the points, as the field evaluates it (after any rescaling)
    phi : (n, d) the learned normals (pointing towards increasing order)
    rho : (n,) the learned magnitudes in [0, 1]
    accuracy : (n,) ACC_phi(z_i), the fitted accuracy per point
    target : (n,) 2 max(0, accuracy - 1/2)
    neighbors : (n, k) the KNN indices the losses used
    loss_phi, loss_rho : final values of the two objectives
    """

    def __init__(self, field, base, max_norm, omega, phi, rho, accuracy, target, neighbors,
                 loss_phi, loss_rho):
        self.field = field
        self.base = base
        self.max_norm = max_norm
        self.omega = omega
        self.phi = phi
        self.rho = rho
        self.accuracy = accuracy
        self.target = target
        self.neighbors = neighbors
        self.loss_phi = float(loss_phi)
        self.loss_rho = float(loss_rho)

    def metric(self):
        """Randers(base, field, max_norm=max_norm): the learned direction-aware metric."""
        return Randers(self.base, self.field, max_norm=self.max_norm)

    def __repr__(self):
        return (f"RandersFit(n={len(self.rho)}, dim={self.phi.shape[1]}, "
                f"mean accuracy={float(np.mean(self.accuracy)):.3f}, max_norm={self.max_norm})")


# ---------------------------------------------------------------------------- validation
def _check_order(order, n):
    o = as_array(order, "order")
    if o.ndim != 1 or o.shape[0] != n:
        raise InvalidInputError(
            f"order must be a 1-D array with one value per point (shape ({n},)); received shape "
            f"{o.shape}. Pass the time, stage or size of each row of points."
        )
    if not np.all(np.isfinite(o)):
        bad = int(np.flatnonzero(~np.isfinite(o))[0])
        raise InvalidInputError(
            f"order contains NaN or Inf (first at index {bad}: {o[bad]}); drop those points or "
            "impute their order before fitting."
        )
    if np.ptp(o) == 0:
        raise InvalidInputError(
            f"order is constant (every value is {o[0]}): there is no progression to learn. "
            "Pass an order that varies across points."
        )
    return o


def _check_base(base, dim):
    if base is None:
        return Euclidean(dim)
    return check_metric(base, "base", dim=dim, randers=False)


def order_signs(order, neighbors):
    """y_ij = sign(order_j - order_i) for j in neighbors[i]: +1 after, -1 before, 0 tie."""
    o = np.asarray(order, dtype=np.float64)
    return np.sign(o[neighbors] - o[:, None])


# ---------------------------------------------------------------------------- losses
def _margins(phi, diffs):
    # phi (n, d), diffs (n, k, d) -> phi_i^T (z_j - z_i), (n, k)
    return (diffs * phi[:, None, :]).sum(-1)


def phi_loss(points, order, neighbors, phi):
    """The hinge loss l_phi(z_i) = sum_j max(0, 1 - y_ij phi_i^T (z_j - z_i)), shape (n,).

    Ties (y_ij = 0) contribute nothing. numpy in, numpy out (reference for the torch fit).
    """
    z = np.asarray(points, dtype=np.float64)
    nb = np.asarray(neighbors)
    y = order_signs(order, nb)
    m = _margins(np.asarray(phi, dtype=np.float64), z[nb] - z[:, None, :])
    return np.sum(np.where(y != 0, np.maximum(0.0, 1.0 - y * m), 0.0), axis=1)


def accuracy_target(points, order, neighbors, phi):
    """(ACC_phi(z_i), 2 max(0, ACC_phi(z_i) - 1/2)), each of shape (n,).

    ACC is the fraction of the non-tied neighbours with y_ij phi_i^T (z_j - z_i) > 0;
    a point whose neighbours all tie has ACC = 1/2 (no evidence), so target 0.
    """
    z = np.asarray(points, dtype=np.float64)
    nb = np.asarray(neighbors)
    y = order_signs(order, nb)
    m = _margins(np.asarray(phi, dtype=np.float64), z[nb] - z[:, None, :])
    valid = (y != 0).sum(axis=1)
    good = ((y * m > 0) & (y != 0)).sum(axis=1)
    acc = np.where(valid > 0, good / np.maximum(valid, 1), 0.5)
    return acc, 2.0 * np.maximum(0.0, acc - 0.5)


def rho_loss(rho, target):
    """l_rho(z_i) = (rho_i - target_i)^2, shape (n,)."""
    return (np.asarray(rho, dtype=np.float64) - np.asarray(target, dtype=np.float64)) ** 2


# ---------------------------------------------------------------------------- fit
def _conorm(base, z, w):
    """|w_i|_{G^{-1}(z_i)}, shape (n,), in chunks (no (n, d, d) array for large d)."""
    if isinstance(base, Euclidean):
        return np.sqrt(np.einsum("ni,ni->n", w, w))
    d = z.shape[1]
    step = max(1, 2**22 // (d * d))
    out = np.empty(len(z))
    for a in range(0, len(z), step):
        C = np.asarray(base.cometric_tensor(z[a:a + step]), dtype=np.float64)
        wa = w[a:a + step]
        out[a:a + step] = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", wa, C, wa), 0.0))
    return out


def _quadratic_form(torch, L):
    """x -> sum(x * (L @ x)) for a symmetric scipy sparse L, differentiable in torch.

    scipy's sparse product is two orders of magnitude faster than torch.sparse on CPU here.
    """

    class _Q(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            Lx = torch.from_numpy(L @ x.detach().numpy())
            ctx.save_for_backward(Lx)
            return (x.detach() * Lx).sum()

        @staticmethod
        def backward(ctx, grad):
            (Lx,) = ctx.saved_tensors
            return 2.0 * grad * Lx

    return _Q.apply


def fit_randers(points, order, k=16, base=None, seed=0, max_norm=0.9, *, alpha=1e-3, smooth=0.0,
                smooth_rho=1.0, n_iter=300, lr=0.05, bandwidth=None, ridge=1e-6, verbose=False):
    """Learn a Randers 1-form omega from points and their order along a process.

    Parameters
    ----------
    points : (n, d) array-like, finite, n >= 3
    order : (n,) array-like, finite and not constant; larger = later in the process
    k : int in [1, n - 1], neighbours per point used by the losses
    base : Riemannian Metric on R^d (default gg.Euclidean(d)); |omega|_{G^{-1}} is
        normalised with its cometric at the points
    seed : int >= 0, seeds torch's initialisation: equal seeds give equal fits
    max_norm : float in (0, 1), the cap on |omega|_{G^{-1}} (the strength of the
        direction preference: forward steps cost as little as (1 - max_norm) |v|_G)
    alpha : float >= 0, L2 penalty on phi (relative to the median neighbour distance)
    smooth : float >= 0, graph-Laplacian coupling of phi to its neighbours; the
        default 0 is the paper's losses alone and moves geodesics most (see the module
        docstring); > 0 makes phi, and so ACC and rho, locally consistent
    smooth_rho : float >= 0, the same coupling for rho
    n_iter : int >= 1, Adam iterations for each of phi and rho
    lr : float > 0, Adam learning rate (in units of the scale-free parameters)
    bandwidth, ridge : the RBF interpolation of omega (:meth:`RBFField.fit`;
        bandwidth defaults to twice the median nearest-neighbour distance)
    verbose : bool, default False; show a progress bar (tqdm, on stderr) over the Adam
        iterations (phi, then rho)

    Returns
    -------
    RandersFit with ``field`` (RBFField for gg.Randers), ``accuracy`` per point and
    ``metric()`` giving Randers(base, field, max_norm=max_norm).

    Raises
    ------
    InvalidInputError
        points or order malformed (wrong length, NaN/Inf, constant order), bad k or
        hyper-parameters, base not a graphgeo metric.
    MetricError
        base is a Randers metric or not defined on R^d.
    MissingDependencyError
        torch is not installed (``pip install 'graphgeo[torch]'``).
    """
    from .knn import knn as _knn

    torch = require("torch", "gg.learn.fit_randers")

    z = check_points(points, "points", min_rows=3)
    n, d = z.shape
    o = _check_order(order, n)
    k = check_int(k, "k", low=1, high=n - 1,
                  remedy=f"k counts the neighbours of each point and must be < n_points = {n}.")
    base = _check_base(base, d)
    seed = check_seed(seed)
    max_norm = check_float(max_norm, "max_norm", low=0.0, high=1.0, low_open=True, high_open=True)
    alpha = check_float(alpha, "alpha", low=0.0)
    smooth = check_float(smooth, "smooth", low=0.0)
    smooth_rho = check_float(smooth_rho, "smooth_rho", low=0.0)
    n_iter = check_int(n_iter, "n_iter", low=1)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    verbose = check_bool(verbose, "verbose")
    if len(np.unique(z, axis=0)) < n:
        raise InvalidInputError(
            "points has exact duplicate rows; remove them (np.unique(points, axis=0)) before "
            "fitting, keeping one order value per point."
        )

    nb, dist = _knn(z, k)
    nb = np.asarray(nb, dtype=np.int64)
    s = float(np.median(dist))
    if not s > 0:
        s = float(np.mean(dist)) or 1.0

    # small problems run far faster on one thread (no intra-op scheduling overhead, no
    # contention on shared machines); torch's setting is restored on exit
    threads = torch.get_num_threads()
    if n * k * d < 2_000_000:
        torch.set_num_threads(1)
    try:
        with progress_bar(verbose, total=n_iter * (2 if smooth_rho > 0 else 1),
                          desc="fit_randers", unit="iter") as bar:
            return _fit(torch, z, o, nb, s, k, base, seed, max_norm, alpha, smooth, smooth_rho,
                        n_iter, lr, bandwidth, ridge, bar)
    finally:
        torch.set_num_threads(threads)


def _fit(torch, z, o, nb, s, k, base, seed, max_norm, alpha, smooth, smooth_rho, n_iter, lr,
         bandwidth, ridge, bar):
    from scipy.sparse import csr_matrix

    n, d = z.shape
    y_np = order_signs(o, nb)
    gen = torch.Generator().manual_seed(seed)
    dt = torch.float64
    diffs = torch.as_tensor((z[nb] - z[:, None, :]) / s, dtype=dt)   # scale-free, (n, k, d)
    y = torch.as_tensor(y_np, dtype=dt)
    valid = y != 0
    # sum_i mean_j |x_i - x_j|^2 = x^T L x with L the Laplacian of the directed kNN
    # graph, symmetrised, divided by k (a sparse product: no (n, k, d) gather per step)
    rows = np.repeat(np.arange(n), k)
    cols = nb.ravel()
    deg = np.bincount(rows, minlength=n) + np.bincount(cols, minlength=n)
    idx = np.r_[np.c_[rows, cols], np.c_[cols, rows], np.c_[np.arange(n), np.arange(n)]].T
    val = np.r_[-np.ones(2 * len(rows)), deg.astype(np.float64)] / k
    laplace = _quadratic_form(torch, csr_matrix((val, (idx[0], idx[1])), shape=(n, n)))

    # phi = psi / s; psi optimised by Adam on the hinge loss + penalties
    psi = (1e-2 * torch.randn(n, d, generator=gen, dtype=dt)).requires_grad_(True)
    opt = torch.optim.Adam([psi], lr=lr)

    def obj_phi():
        m = torch.bmm(diffs, psi[:, :, None])[..., 0]
        hinge = torch.where(valid, torch.clamp(1.0 - y * m, min=0.0), torch.zeros_like(m)).sum()
        reg = alpha * (psi * psi).sum()
        if smooth > 0:
            reg = reg + smooth * laplace(psi)
        return hinge + reg

    bar.set_postfix_str("phi", refresh=False)
    for _ in range(n_iter):
        opt.zero_grad()
        loss = obj_phi()
        loss.backward()
        opt.step()
        bar.update()
    with torch.no_grad():
        loss_phi = float(obj_phi())
    phi = psi.detach().numpy() / s

    acc, target = accuracy_target(z, o, nb, phi)

    # rho in [0, 1] fitted to the accuracy target (+ neighbour coupling)
    tt = torch.as_tensor(target, dtype=dt)
    r = tt.clone().requires_grad_(True)
    opt = torch.optim.Adam([r], lr=lr)

    def obj_rho():
        rc = r.clamp(0.0, 1.0)
        out = ((rc - tt) ** 2).sum()
        if smooth_rho > 0:
            out = out + smooth_rho * laplace(rc[:, None])
        return out

    bar.set_postfix_str("rho", refresh=False)
    for _ in range(n_iter if smooth_rho > 0 else 0):
        opt.zero_grad()
        loss = obj_rho()
        loss.backward()
        opt.step()
        bar.update()
    with torch.no_grad():
        loss_rho = float(obj_rho())
        rho = r.clamp(0.0, 1.0).numpy().copy()

    # omega_i = -max_norm rho_i phi_i / |phi_i|_{G^{-1}(z_i)}
    pn = _conorm(base, z, phi)
    unit = np.where(pn[:, None] > 0, phi / np.where(pn > 0, pn, 1.0)[:, None], 0.0)
    values = -max_norm * rho[:, None] * unit
    field = RBFField.fit(z, values, bandwidth=bandwidth, ridge=ridge, max_norm=max_norm)
    om = field(z)
    nrm = _conorm(base, z, om)
    worst = float(nrm.max(initial=0.0))
    if worst > max_norm:
        field = RBFField(field.centers, field.coefficients * (max_norm / worst), field.bandwidth,
                         max_norm=max_norm)
        om = field(z)
    return RandersFit(field, base, max_norm, om, phi, rho, acc, target, nb, loss_phi, loss_rho)
