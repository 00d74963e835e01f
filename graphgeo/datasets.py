"""Built-in synthetic latent spaces (generated in code, no download)."""

import numpy as np

from ._validation import check_int
from .metrics import Randers, RBFField, RHVAEMetric

__all__ = ["make_progression"]


def make_progression(n=2000, n_centroids=150, seed=0):
    """A 2-D latent of a one-way process, with an RHVAE-style metric and a 1-form.

    Points lie on a noisy half-ring, ordered by a progression time t in [0, 1]
    (angle pi * t). The metric mimics a trained RHVAE: centroids are a subset of
    the points, M_k = L_k L_k^T is elongated along the ring's tangent, so that
    G^{-1} = sum_k M_k exp(-|z - c_k|^2 / T^2) + lbd I is large on the data (cheap
    to move along it) and the metric G ~ I / lbd far from it. The 1-form omega is
    an RBF field pointing against the progression, so moving forward in t is
    cheaper than moving back.

    Returns
    -------
    dict with "points" (n, 2), "time" (n,), "metric" (Randers over RHVAEMetric),
    "base" (the RHVAEMetric).
    """
    n = check_int(n, "n", low=20)
    n_centroids = check_int(n_centroids, "n_centroids", low=2, high=n)
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, 1.0, n))
    theta = np.pi * t
    radius = 2.0 + rng.normal(0.0, 0.12 + 0.1 * t, n)
    points = np.c_[radius * np.cos(theta), radius * np.sin(theta)]
    idx = np.sort(rng.choice(n, n_centroids, replace=False))
    c = points[idx]
    tangent = np.c_[-np.sin(theta[idx]), np.cos(theta[idx])]
    normal = np.c_[np.cos(theta[idx]), np.sin(theta[idx])]
    M = 4.0 * tangent[:, :, None] * tangent[:, None, :] + 0.6 * normal[:, :, None] * normal[:, None, :]
    base = RHVAEMetric(c, M, temperature=0.35, lbd=0.05)
    # omega against the progression direction; its G^{-1}-norm is capped at 0.6
    field = RBFField.fit(c, -0.45 * tangent, bandwidth=0.3)
    metric = Randers(base, field, max_norm=0.6)
    return {"points": points, "time": t, "metric": metric, "base": base}
