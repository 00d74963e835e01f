"""Centroid cometrics: G^{-1}(z) = sum_k w_k(z) M_k + lbd I with Gaussian weights.

One family covers the RHVAE metric (Chadebec et al.; M_k = L_k L_k^T,
w_k = exp(-|z - c_k|^2 / T^2)), the VAE cometric (Blanchard & Allassonniere;
M_k = Sigma_k^{-1}, w_k = exp(-|z - mu_k|^2_{Sigma_k^{-1}} / (2 tau^2))) and the
interpolated pullback cometric. Diagonal M_k cost O(K d) per evaluation.

Centroids whose weight is negligible are skipped, with a bound that keeps the
relative error on G^{-1} (hence on G) below ``SKIP_RTOL``: centroid k is dropped
where w_k ||M_k||_2 < SKIP_RTOL * lbd / K.
"""

import numpy as np

from .._backend import eye_like, like, namespace
from .._validation import as_array, check_finite, check_float, check_spd
from ..exceptions import MetricError
from ..kernels import leaves as _lv
from .base import Metric

__all__ = ["CentroidCometric", "RHVAEMetric", "VAECometric"]

SKIP_RTOL = 1e-14


class CentroidCometric(Metric):
    """G^{-1}(z) = sum_k exp(-q_k(z) / scale) M_k + lbd I.

    Parameters
    ----------
    centroids : (K, d) array
    M : (K, d) array of positive diagonals, or (K, d, d) SPD matrices
    scale : float > 0
        Weights are exp(-q_k / scale).
    lbd : float > 0
        Regularisation; keeps G^{-1} invertible far from the centroids.
    weight_precision : None, (K, d) or (K, d, d)
        q_k = |z - c_k|^2 when None, else the Mahalanobis form (z - c_k)^T P_k (z - c_k).

    Raises
    ------
    MetricError, NotSPDError
        Wrong shapes, non-positive scale or lbd, M not SPD.
    """

    family = "centroid_cometric"

    def __init__(self, centroids, M, scale, lbd, weight_precision=None):
        c = check_finite(as_array(centroids, "centroids"), "centroids")
        if c.ndim != 2 or c.shape[0] < 1:
            raise MetricError(f"centroids must have shape (K, d) with K >= 1; received shape {c.shape}.")
        K, d = c.shape
        M = check_finite(as_array(M, "M"), "M")
        if M.shape == (K, d):
            if not np.all(M > 0):
                raise MetricError(
                    f"M given as diagonals must be > 0 everywhere; smallest entry {M.min():.3g}."
                )
            self.diagonal = True
        elif M.shape == (K, d, d):
            M = check_spd(M, "M")
            self.diagonal = False
        else:
            raise MetricError(
                f"M must have shape ({K}, {d}) (diagonals) or ({K}, {d}, {d}) to match "
                f"centroids of shape {c.shape}; received shape {M.shape}."
            )
        self.centroids = c
        self.M = M
        self.scale = check_float(scale, "scale", low=0.0, low_open=True)
        self.lbd = check_float(
            lbd, "lbd", low=0.0, low_open=True,
        )
        if weight_precision is None:
            self.weight_kind = 0
            P = None
        else:
            P = check_finite(as_array(weight_precision, "weight_precision"), "weight_precision")
            if P.shape == (K, d):
                if not np.all(P > 0):
                    raise MetricError("weight_precision diagonals must be > 0.")
                self.weight_kind = 1
            elif P.shape == (K, d, d):
                P = check_spd(P, "weight_precision")
                self.weight_kind = 2
            else:
                raise MetricError(
                    f"weight_precision must have shape ({K}, {d}) or ({K}, {d}, {d}); received {P.shape}."
                )
        self.weight_precision = P
        if self.diagonal:
            mnorm = M.max(axis=1)
        else:
            mnorm = np.linalg.eigvalsh(M)[:, -1]
        # drop centroid k where exp(-q) ||M_k|| < SKIP_RTOL * lbd / K
        self._qcut = np.log(np.maximum(mnorm * K / (SKIP_RTOL * self.lbd), 1.0))
        super().__init__(d)

    # -- evaluation ---------------------------------------------------------
    def weights(self, z):
        """w_k(z) of shape (n, K) (numpy or torch)."""
        xp = namespace(z)
        c = like(self.centroids, z)
        diff = z[:, None, :] - c[None, :, :]
        if self.weight_kind == 0:
            q = xp.einsum("nki,nki->nk", diff, diff)
        elif self.weight_kind == 1:
            q = xp.einsum("nki,ki,nki->nk", diff, like(self.weight_precision, z), diff)
        else:
            q = xp.einsum("nki,kij,nkj->nk", diff, like(self.weight_precision, z), diff)
        return xp.exp(-q / self.scale)

    def _cometric_tensor(self, z, xp):
        w = self.weights(z)
        M = like(self.M, z)
        eye = eye_like(self.dim, z)
        if self.diagonal:
            g = w @ M + self.lbd
            return g[:, :, None] * eye[None]
        return xp.einsum("nk,kij->nij", w, M) + self.lbd * eye[None]

    def _metric_tensor(self, z, xp):
        if self.diagonal:
            g = self.weights(z) @ like(self.M, z) + self.lbd
            return (1.0 / g)[:, :, None] * eye_like(self.dim, z)[None]
        return xp.linalg.inv(self._cometric_tensor(z, xp))

    def _norm(self, z, v, xp):
        if self.diagonal:
            g = self.weights(z) @ like(self.M, z) + self.lbd
            return xp.sqrt(xp.einsum("ni,ni->n", v * v, 1.0 / g))
        C = self._cometric_tensor(z, xp)
        y = xp.linalg.solve(C, v[:, :, None])[:, :, 0]
        return xp.sqrt(xp.einsum("ni,ni->n", v, y))

    def lower_bound(self):
        # G^{-1} <= (sum_k ||M_k|| + lbd) I, hence G >= I / (sum_k ||M_k|| + lbd)
        mnorm = self.M.max(axis=1) if self.diagonal else np.linalg.eigvalsh(self.M)[:, -1]
        return float(1.0 / np.sqrt(mnorm.sum() + self.lbd))

    def _segment_integrands(self, z, dv):
        zero = np.zeros(len(z))
        return self._norm(z, dv, np), zero, zero

    # -- kernels ------------------------------------------------------------
    def _family_params(self):
        d = self.dim
        wdiag = self.weight_precision if self.weight_kind == 1 else np.zeros((1, d))
        wfull = self.weight_precision if self.weight_kind == 2 else np.zeros((1, d, d))
        params = (self.centroids, self.weight_kind, wdiag, wfull, self.M,
                  1.0 / self.scale, self.lbd, self._qcut)
        if self.diagonal:
            return _lv.FAMILY_COMETRIC_DIAG, _lv.CometricDiagParams(*params)
        return _lv.FAMILY_COMETRIC_FULL, _lv.CometricParams(*params)

    def _state(self):
        s = {"centroids": self.centroids, "M": self.M, "scale": np.array(self.scale),
             "lbd": np.array(self.lbd)}
        if self.weight_precision is not None:
            s["weight_precision"] = self.weight_precision
        return s

    @classmethod
    def from_state(cls, s):
        return CentroidCometric(s["centroids"], s["M"], float(s["scale"]), float(s["lbd"]),
                                s.get("weight_precision"))

    def __repr__(self):
        kind = "diagonal" if self.diagonal else "full"
        return (f"{type(self).__name__}(dim={self.dim}, n_centroids={len(self.centroids)}, "
                f"M={kind}, scale={self.scale:.4g}, lbd={self.lbd:.4g})")


class RHVAEMetric(CentroidCometric):
    """The RHVAE metric of Chadebec et al.: G^{-1}(z) = sum_k M_k exp(-|z - c_k|^2 / T^2) + lbd I.

    ``M`` is stored as pythae's RHVAE stores it, M_k = L_k L_k^T, shape (K, d, d)
    (``model.M_tens``, ``model.centroids_tens``, ``temperature``, ``regularization``).
    """

    def __init__(self, centroids, M, temperature, lbd):
        T = check_float(temperature, "temperature", low=0.0, low_open=True)
        M_arr = as_array(M, "M")
        if M_arr.ndim != 3:
            raise MetricError(
                f"M must be the (K, d, d) stack L_k L_k^T stored by the RHVAE; received shape {M_arr.shape}."
            )
        super().__init__(centroids, M_arr, T * T, lbd)
        self.temperature = T

    @classmethod
    def from_pythae(cls, model):
        """From a trained pythae RHVAE (``M_tens``, ``centroids_tens``, ``temperature``,
        ``lbd``); pythae itself is not imported. See graphgeo.interop."""
        from .._pythae import rhvae_parameters_from_model

        return cls(*rhvae_parameters_from_model(model))

    @classmethod
    def from_checkpoint(cls, checkpoint, temperature=None, lbd=None, config=None):
        """From a pythae checkpoint dict (keys "M", "centroids"); see graphgeo.interop."""
        from .._pythae import rhvae_parameters_from_checkpoint

        return cls(*rhvae_parameters_from_checkpoint(checkpoint, temperature=temperature,
                                                     lbd=lbd, config=config))

    @classmethod
    def from_cholesky(cls, centroids, L, temperature, lbd):
        """Build from the lower-triangular factors L_k (M_k = L_k L_k^T)."""
        L = as_array(L, "L")
        return cls(centroids, L @ np.swapaxes(L, -1, -2), temperature, lbd)


class VAECometric(CentroidCometric):
    """VAE cometric: G^{-1}(z) = sum_k exp(-|z - mu_k|^2_{Sigma_k^{-1}} / (2 tau^2)) Sigma_k^{-1} + lbd I.

    Parameters
    ----------
    mu : (K, d) posterior means of the training data
    sigma : (K, d) posterior variances (diagonal Sigma_k) or (K, d, d) covariances
    tau : float > 0, bandwidth
    lbd : float > 0
    """

    def __init__(self, mu, sigma, tau, lbd):
        tau = check_float(tau, "tau", low=0.0, low_open=True)
        mu = check_finite(as_array(mu, "mu"), "mu")
        if mu.ndim != 2 or mu.shape[0] < 1:
            raise MetricError(f"mu must have shape (K, d) with K >= 1; received shape {mu.shape}.")
        S = check_finite(as_array(sigma, "sigma"), "sigma")
        K, d = mu.shape
        if S.shape not in ((K, d), (K, d, d)):
            raise MetricError(
                f"sigma must have shape ({K}, {d}) (variances) or ({K}, {d}, {d}) (covariances) "
                f"to match mu of shape {mu.shape}; received shape {S.shape}."
            )
        if S.ndim == 2:
            if not np.all(S > 0):
                raise MetricError(f"sigma (posterior variances) must be > 0; smallest entry {S.min():.3g}.")
            P = 1.0 / S
        elif S.ndim == 3:
            P = np.linalg.inv(check_spd(S, "sigma"))
            P = 0.5 * (P + np.swapaxes(P, -1, -2))
        else:
            raise MetricError(
                f"sigma must have shape (K, d) (variances) or (K, d, d) (covariances); received {S.shape}."
            )
        super().__init__(mu, P, 2.0 * tau * tau, lbd, weight_precision=P)
        self.tau = tau
