"""Workloads shared by the edge-kernel tests: KNN segments and random RHVAE metrics."""

import numpy as np
from scipy.spatial import cKDTree

import graphgeo as gg


def knn_segments(X, k):
    """Unique undirected KNN pairs (a < b) of the rows of X."""
    _, nn = cKDTree(X).query(X, k=k + 1)
    i = np.repeat(np.arange(len(X)), k)
    j = nn[:, 1:].ravel()
    a, b = np.minimum(i, j), np.maximum(i, j)
    key = np.unique(a * len(X) + b)
    return key // len(X), key % len(X)


def rhvae(rng, X, K, spacings=3.0, lbd=1e-3):
    """RHVAE metric with K centroids drawn from X, M = L L^T, T = spacings centroid spacings."""
    d = X.shape[1]
    C = X[rng.choice(len(X), K, replace=False)]
    dist, _ = cKDTree(C).query(C, k=2)
    L = np.tril(rng.normal(0.0, 0.3, (K, d, d)), -1)
    L[:, np.arange(d), np.arange(d)] = np.exp(0.5 * rng.normal(size=(K, d)))
    return gg.RHVAEMetric(C, L @ np.swapaxes(L, 1, 2), spacings * np.median(dist[:, 1]), lbd)
