"""Metrics from generative models: pullback, expected (variance-aware) and interpolated cometric.

PullbackMetric(decoder)
    G(z) = J(z)^T J(z), J the Jacobian of a torch decoder f: R^d -> R^D.
    F(z, v) = |J(z) v| is one forward-mode product (torch.func.jvp): no d x D
    Jacobian is formed for lengths. In refinement the segment cost is the chord
    |f(z_{k+1}) - f(z_k)| of decoder outputs (one decoder call per point).
ExpectedMetric(mean, std)
    The expected metric of a stochastic decoder x ~ N(mu(z), diag(sigma(z)^2))
    (Arvanitidis, Hansen & Hauberg, "Latent space oddity", 2018):
    G(z) = J_mu^T J_mu + J_sigma^T J_sigma, i.e. the pullback through z -> (mu(z), sigma(z)).
RBFPrecision
    sigma(z) from an RBF network on the precision, beta(z) = V v(z) + zeta with
    v_k(z) = exp(-lambda_k |z - c_k|^2), V >= 0: fitted to a decoder's variances so
    that sigma grows to 1/sqrt(zeta) away from the data (same paper, section 4).
PullbackCometric(decoder, points, tau, lbd)
    The interpolated pullback cometric (Blanchard & Allassonniere's construction with
    pullback metrics in place of posterior covariances):
    G^{-1}(z) = sum_i w_i(z) G_pb(z_i)^{-1} + lbd I,  G_pb(z_i) = J(z_i)^T J(z_i) (+ eps I),
    computed once at the data points z_i. See the class for the weight w_i.
"""

import warnings

import numpy as np

from .._backend import is_torch, like, namespace, to_numpy
from .._optional import require
from .._validation import as_array, check_float, check_int, check_points
from ..exceptions import InvalidInputError, MetricError, NotSPDError
from .base import Metric
from .cometric import CentroidCometric

__all__ = ["PullbackMetric", "ExpectedMetric", "RBFPrecision", "PullbackCometric"]

# decoder rows evaluated at once when lengths and Jacobians are computed from numpy
_DECODER_CHUNK = 4096
_FEATURE = "PullbackMetric / ExpectedMetric (torch decoders)"
_JVP_READY = False


def _module_device(fn):
    params = getattr(fn, "parameters", None)
    if params is None:
        return None
    try:
        p = next(iter(params()))
    except (StopIteration, TypeError):
        return None
    return p.device


def _flat(out, n):
    return out.reshape(n, -1)


class PullbackMetric(Metric):
    """G(z) = J(z)^T J(z) for a decoder f: R^d -> R^D (a torch module or torch callable).

    Parameters
    ----------
    decoder : callable mapping a float64 torch tensor (n, d) to (n, D) or (n, ...)
        (outputs are flattened); a torch.nn.Module is moved to nothing: put it on the
        device and in float64 yourself (``decoder.double()``).
    dim : int, latent dimension d
    chunk_size : int, decoder rows evaluated at once for numpy inputs

    Notes
    -----
    ``norm(z, v) = |J(z) v|`` uses one forward-mode product per batch, exact and
    differentiable; ``metric_tensor`` forms J (d forward-mode products) and is meant
    for plots and small batches. ``magnification_factor(z) = sqrt(det J^T J)``.
    Graph edges go through the generic (batched numpy <-> torch) path: no fused kernel.
    """

    def __init__(self, decoder, dim, chunk_size=_DECODER_CHUNK):
        if not callable(decoder):
            raise MetricError(
                f"decoder must be a callable torch module R^d -> R^D; received {type(decoder).__name__}."
            )
        super().__init__(check_int(dim, "dim", low=1))
        self.decoder = decoder
        self.chunk_size = check_int(chunk_size, "chunk_size", low=1)
        self.device = _module_device(decoder)

    # -- torch primitives -----------------------------------------------------
    def _f(self, z):
        return _flat(self.decoder(z), z.shape[0])

    def _jvp(self, z, v):
        global _JVP_READY
        torch = require("torch", _FEATURE)
        if _JVP_READY:
            return torch.func.jvp(self._f, (z,), (v,))
        # torch registers its forward-mode decompositions with torch.jit.script on the first
        # jvp and warns that jit.script is deprecated: torch's own notice, not the caller's
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=DeprecationWarning)
            out = torch.func.jvp(self._f, (z,), (v,))
        _JVP_READY = True
        return out

    def _torch_eval(self, fn, *arrays):
        """Run fn on numpy arrays converted to torch (no grad, chunked); numpy result."""
        torch = require("torch", _FEATURE)
        dev = self.device or torch.device("cpu")
        n = arrays[0].shape[0]
        outs = []
        with torch.no_grad():
            for s in range(0, n, self.chunk_size):
                ts = [torch.as_tensor(a[s : s + self.chunk_size], dtype=torch.float64, device=dev)
                      for a in arrays]
                outs.append(to_numpy(fn(*ts)).astype(np.float64))
        if not outs:
            return np.zeros((0,))
        return np.concatenate(outs)

    # -- Metric interface -----------------------------------------------------
    def _norm(self, z, v, xp):
        if xp is np:
            return self._torch_eval(lambda zz, vv: self._norm(zz, vv, None), z, v)
        torch = require("torch", _FEATURE)
        _, jv = self._jvp(z, v)
        s = (jv * jv).sum(dim=1)
        # sqrt with a zero gradient at v = 0 (instead of 0 * inf)
        pos = s > 0
        return torch.where(pos, torch.sqrt(torch.where(pos, s, torch.ones_like(s))), torch.zeros_like(s))

    def jacobian(self, z):
        """J(z) of shape (n, D, d) (numpy or torch, following z)."""
        z = self._check_z(z)
        if not is_torch(z):
            return self._torch_eval(self._jacobian_torch, z)
        return self._jacobian_torch(z)

    def _jacobian_torch(self, z):
        torch = require("torch", _FEATURE)
        eye = torch.eye(self.dim, dtype=z.dtype, device=z.device)
        cols = [self._jvp(z, eye[j].expand_as(z))[1] for j in range(self.dim)]
        return torch.stack(cols, dim=2)

    def _metric_tensor(self, z, xp):
        J = self.jacobian(z)
        return xp.einsum("nDi,nDj->nij", J, J)

    def magnification_factor(self, z):
        """sqrt(det G(z)), the local volume scaling of the decoder, shape (n,) (numpy or torch)."""
        G = self.metric_tensor(z)
        return namespace(G).sqrt(namespace(G).linalg.det(G))

    def _segment_integrands(self, z, dv):
        r = self._norm(z, dv, np)
        if not np.all(np.isfinite(r)):
            bad = int(np.argmin(np.isfinite(r)))
            raise MetricError(
                f"the decoder returned NaN or Inf at z = {np.array2string(z[bad], precision=4)}; "
                "it must be finite everywhere the graph and curves reach."
            )
        zero = np.zeros(len(z))
        return r, zero, zero

    def _torch_segment_costs(self, z, tq, wq):
        """Chord costs |f(z_{k+1}) - f(z_k)| of curves z (B, n, d) -> (B, n-1)."""
        torch = require("torch", _FEATURE)
        B, n, d = z.shape
        x = self._f(z.reshape(B * n, d)).reshape(B, n, -1)
        dx = x[:, 1:] - x[:, :-1]
        s = (dx * dx).sum(dim=2)
        pos = s > 0
        return torch.where(pos, torch.sqrt(torch.where(pos, s, torch.ones_like(s))), torch.zeros_like(s))

    def __repr__(self):
        return f"{type(self).__name__}(dim={self.dim}, decoder={type(self.decoder).__name__})"


class ExpectedMetric(PullbackMetric):
    """Expected metric of a stochastic decoder: G(z) = J_mu^T J_mu + J_sigma^T J_sigma.

    Parameters
    ----------
    mean : torch callable (n, d) -> (n, D), the decoder mean mu(z)
    std : torch callable (n, d) -> (n, D), the decoder standard deviation sigma(z)
        (a network head, or an :class:`RBFPrecision` fitted to the decoder's variance)
    dim : int

    The metric is the pullback through h(z) = (mu(z), sigma(z)), so everything of
    PullbackMetric applies (norm by forward-mode products, chord costs in refinement).
    """

    def __init__(self, mean, std, dim, chunk_size=_DECODER_CHUNK):
        for name, fn in (("mean", mean), ("std", std)):
            if not callable(fn):
                raise MetricError(f"{name} must be a torch callable R^d -> R^D; received {type(fn).__name__}.")
        self.mean = mean
        self.std = std
        super().__init__(self._stacked, dim, chunk_size)
        self.device = _module_device(mean) or _module_device(std)

    def _stacked(self, z):
        torch = require("torch", _FEATURE)
        n = z.shape[0]
        return torch.cat([_flat(self.mean(z), n), _flat(self.std(z), n)], dim=1)


class RBFPrecision:
    """sigma(z) = beta(z)^(-1/2), beta(z) = V v(z) + zeta, v_k(z) = exp(-lambda_k |z - c_k|^2), V >= 0.

    The RBF variance model of Arvanitidis et al. (2018): centres c_k from k-means of
    the latent codes, lambda_k = 0.5 / (a * s_k)^2 with s_k the mean distance of
    cluster k's points to c_k (``a`` is the curvature parameter: smaller a, faster
    growth of the variance away from the data), and non-negative weights V (D, K)
    fitted by projected gradient (FISTA) to the precisions 1/sigma^2 observed at the
    data. Far from every centre beta -> zeta, so sigma -> 1/sqrt(zeta).

    Parameters
    ----------
    n_centers : int, K
    a : float > 0, curvature (bandwidth multiplier)
    zeta : float > 0, precision floor (sigma never exceeds 1/sqrt(zeta))
    max_iter : int, projected-gradient iterations
    tol : float, relative change of V that stops the iterations
    seed : int or None, k-means initialisation

    Attributes (after fit): centers_ (K, d), bandwidths_ (K,) = lambda_k, weights_ (D, K),
    n_iter_.
    """

    def __init__(self, n_centers=32, a=1.0, zeta=1e-2, max_iter=5000, tol=1e-10, seed=None):
        self.n_centers = n_centers
        self.a = a
        self.zeta = zeta
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed

    def fit(self, z, variance):
        """Fit to latent codes z (N, d) and decoder variances sigma^2(z_i) of shape (N, D) or (N,)."""
        from scipy.cluster.vq import kmeans2

        Z = check_points(z, "z", min_rows=2)
        var = as_array(variance, "variance")
        if var.ndim == 1:
            var = var[:, None]
        if var.ndim != 2 or var.shape[0] != len(Z):
            raise InvalidInputError(
                f"variance must have shape ({len(Z)}, D) or ({len(Z)},), one row per point of z; "
                f"received shape {var.shape}."
            )
        if not np.all(np.isfinite(var)) or not np.all(var > 0):
            raise InvalidInputError(
                "variance must hold finite values > 0 (decoder variances sigma^2); received min "
                f"{np.nanmin(var):.3g}."
            )
        K = check_int(self.n_centers, "n_centers", low=1, high=len(Z),
                      remedy=f"Use at most the number of points ({len(Z)}).")
        a = check_float(self.a, "a", low=0.0, low_open=True)
        zeta = check_float(self.zeta, "zeta", low=0.0, low_open=True)
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        tol = check_float(self.tol, "tol", low=0.0)
        seed = None if self.seed is None else check_int(self.seed, "seed", low=0)

        centers, labels = kmeans2(Z, K, seed=np.random.default_rng(seed), minit="++")
        dist = np.linalg.norm(Z - centers[labels], axis=1)
        count = np.bincount(labels, minlength=K)
        spread = np.bincount(labels, weights=dist, minlength=K) / np.maximum(count, 1)
        ok = spread > 0
        fallback = float(np.median(spread[ok])) if np.any(ok) else float(np.std(Z)) or 1.0
        spread = np.where(ok, spread, fallback)
        lam = 0.5 / (a * spread) ** 2
        Phi = self._features(Z, centers, lam, np)  # (N, K)
        target = 1.0 / var - zeta  # (N, D): Phi V^T ~ target
        V = self._fit_nonneg(Phi, target, max_iter, tol)
        self.centers_ = centers
        self.bandwidths_ = lam
        self.weights_ = V
        return self

    def _fit_nonneg(self, Phi, T, max_iter, tol):
        """argmin_{V >= 0} |Phi V^T - T|_F^2 by FISTA with projection (vectorised over outputs)."""
        H = Phi.T @ Phi
        C = Phi.T @ T  # (K, D)
        L = float(np.linalg.eigvalsh(H)[-1]) or 1.0
        W = np.maximum(np.linalg.lstsq(Phi, T, rcond=None)[0], 0.0)  # (K, D) warm start
        Y, t = W.copy(), 1.0
        self.n_iter_ = max_iter
        for it in range(max_iter):
            W_new = np.maximum(Y - (H @ Y - C) / L, 0.0)
            t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
            Y = W_new + ((t - 1) / t_new) * (W_new - W)
            change = np.linalg.norm(W_new - W) / max(np.linalg.norm(W_new), 1e-300)
            W, t = W_new, t_new
            if change <= tol:
                self.n_iter_ = it + 1
                break
        return W.T.copy()

    @staticmethod
    def _features(z, centers, lam, xp):
        diff = z[:, None, :] - centers[None]
        return xp.exp(-lam[None] * xp.einsum("nki,nki->nk", diff, diff))

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise InvalidInputError("this RBFPrecision is not fitted yet; call fit(z, variance) first.")

    def precision(self, z):
        """beta(z) of shape (n, D) (numpy or torch, following z)."""
        self._check_fitted()
        xp = namespace(z)
        if not is_torch(z):
            z = check_points(z, "z", dim=self.centers_.shape[1])
        Phi = self._features(z, like(self.centers_, z), like(self.bandwidths_, z), xp)
        return Phi @ like(self.weights_, z).T + self.zeta

    def variance(self, z):
        return 1.0 / self.precision(z)

    def std(self, z):
        """sigma(z) = beta(z)^(-1/2), shape (n, D)."""
        return 1.0 / namespace(z).sqrt(self.precision(z))

    __call__ = std


class PullbackCometric(CentroidCometric):
    """Interpolated pullback cometric G^{-1}(z) = sum_i w_i(z) M_i + lbd I, M_i = G_pb(z_i)^{-1}.

    G_pb(z_i) = J(z_i)^T J(z_i) + eps I is computed once at the data points
    (forward-mode Jacobians in batches) and inverted; then the metric is a
    :class:`CentroidCometric` with centroids z_i and full matrices M_i.

    Weights. With r_i(z)^2 = (z - z_i)^T M_i (z - z_i), the squared Mahalanobis
    distance of z to z_i in the metric M_i = G_pb^{-1}(z_i):

    - ``squared=False`` (default, the form of the issue):
      w_i(z) = exp(-r_i(z) / (2 tau^2)), the *non-squared* distance (a Laplace
      kernel: it has a cusp at each z_i, where the metric is Lipschitz but not
      differentiable; refinement copes, the gradient used there is 0). The fused
      centroid kernels integrate exp(-r^2 / scale) only, so this variant
      evaluates graph edges through the generic batched numpy path (slower:
      O(K d^2) per quadrature point, no far-centroid skipping) and is not saved
      with a graph.
    - ``squared=True``: w_i(z) = exp(-r_i(z)^2 / (2 tau^2)), the Gaussian weights of
      the VAE cometric; exactly a CentroidCometric (scale 2 tau^2, weight_precision
      M_i), served by the fused numba kernels and saved with the graph.

    Parameters
    ----------
    decoder : torch callable R^d -> R^D (float64)
    points : (K, d) data points z_i (latent codes)
    tau : float > 0, bandwidth
    lbd : float > 0, regularisation
    squared : bool, see above
    eps : float >= 0, added to G_pb(z_i) before inversion (needed when J(z_i) is rank deficient)
    """

    def __init__(self, decoder, points, tau, lbd, squared=False, eps=0.0):
        Z = check_points(points, "points", min_rows=1)
        tau = check_float(tau, "tau", low=0.0, low_open=True)
        eps = check_float(eps, "eps", low=0.0)
        pb = decoder if isinstance(decoder, PullbackMetric) else PullbackMetric(decoder, Z.shape[1])
        if pb.dim != Z.shape[1]:
            raise MetricError(f"decoder metric has dimension {pb.dim} but points have {Z.shape[1]}.")
        G = pb.metric_tensor(Z) + eps * np.eye(Z.shape[1])[None]
        G = 0.5 * (G + np.swapaxes(G, 1, 2))
        ev = np.linalg.eigvalsh(G)
        if not np.all(np.isfinite(ev)) or np.any(ev[:, 0] <= 0):
            i = int(np.argmin(np.where(np.isfinite(ev[:, 0]), ev[:, 0], -np.inf)))
            raise NotSPDError(
                f"the pullback metric J^T J is singular at points[{i}] (smallest eigenvalue "
                f"{ev[i, 0]:.3g}): the decoder's Jacobian is rank deficient there. Pass eps > 0 "
                "(for instance 1e-6 times a typical eigenvalue) to regularise it."
            )
        M = np.linalg.inv(G)
        M = 0.5 * (M + np.swapaxes(M, 1, 2))
        super().__init__(Z, M, 2.0 * tau * tau, lbd, weight_precision=M)
        self.tau = tau
        self.eps = eps
        self.squared = bool(squared)
        self.pullback_metrics = G

    def weights(self, z):
        """w_i(z), shape (n, K) (numpy or torch).

        Weights below the fused kernels' skipping bound (exponent above ``_qcut``, a
        relative contribution under 1e-14) are exactly 0, as in the kernels; this also
        keeps exp out of its subnormal range, where it is several times slower.
        """
        xp = namespace(z)
        c = like(self.centroids, z)
        diff = z[:, None, :] - c[None, :, :]
        q = xp.einsum("nki,kij,nkj->nk", diff, like(self.weight_precision, z), diff)
        if self.squared:
            a = q / self.scale
        elif xp is np:
            a = np.sqrt(np.maximum(q, 0.0)) / self.scale
        else:  # zero gradient at z = z_i instead of 0 * inf
            pos = q > 0
            a = xp.where(pos, xp.sqrt(xp.where(pos, q, xp.ones_like(q))), xp.zeros_like(q)) / self.scale
        cut = like(self._qcut, z)[None]
        keep = a <= cut
        w = xp.exp(-xp.where(keep, a, cut))
        return xp.where(keep, w, xp.zeros_like(w))

    def _family_params(self):
        return super()._family_params() if self.squared else None

    def _segment_integrands(self, z, dv):
        # bounded memory: weights need (rows, K, d) temporaries
        K, d = self.centroids.shape
        step = max(1, (1 << 23) // (K * d * d))
        r = np.concatenate([self._norm(z[s : s + step], dv[s : s + step], np)
                            for s in range(0, len(z), step)]) if len(z) else np.zeros(0)
        zero = np.zeros(len(z))
        return r, zero, zero

    def _state(self):
        return super()._state() if self.squared else None

    def __repr__(self):
        return (f"PullbackCometric(dim={self.dim}, n_points={len(self.centroids)}, tau={self.tau:.4g}, "
                f"lbd={self.lbd:.4g}, squared={self.squared})")
