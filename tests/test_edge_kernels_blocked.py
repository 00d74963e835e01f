"""The blocked building blocks of the adaptive edge kernels (graphgeo.kernels.segments).

``_wsum`` (weighted sums of the cometric, register blocks of 4 weight vectors by 3
packed rows), ``_chol_norm4`` (four Cholesky solves side by side) and the grouping of
segments and nodes into blocks. Oracles: numpy (matrix products, np.linalg.solve) and
the plain numpy Gauss-Legendre integral of generic_segment_costs. Tolerances: 1e-13
relative for the kernels against numpy (a few roundings on sums of ~K positive and
negative terms of size 1); results that must not depend on the grouping are compared
bitwise.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import graphgeo as gg
from graphgeo.costs import _adaptive, gauss_legendre
from graphgeo.kernels import adaptive as seg
from graphgeo.kernels import linalg as la
from graphgeo.metrics.base import generic_segment_costs

from _segment_workloads import knn_segments, rhvae


@pytest.mark.parametrize("n, rows, K", [(4, 3, 1), (8, 36, 500), (12, 6, 2001), (4, 66, 7)])
def test_wsum_matches_numpy(rng, n, rows, K):
    W = rng.random((n, K))
    MtT = rng.normal(size=(rows, K))
    out = np.full((n, rows), np.nan)
    seg._wsum(W, n, MtT, out)
    ref = W @ MtT.T
    scale = np.abs(W) @ np.abs(MtT.T)  # rounding is relative to the sum of |terms|
    assert np.max(np.abs(out - ref) / scale) <= 1e-13


def test_wsum_row_independent_of_block_position(rng):
    """A weight vector's sums are bitwise the same wherever it sits in the block."""
    K, rows = 517, 36
    MtT = rng.normal(size=(rows, K))
    W = rng.random((8, K))
    out = np.empty((8, rows))
    seg._wsum(W, 8, MtT, out)
    for perm in (np.arange(8)[::-1], rng.permutation(8)):
        out2 = np.empty((8, rows))
        seg._wsum(np.ascontiguousarray(W[perm]), 8, MtT, out2)
        assert_array_equal(out2, out[perm])


@pytest.mark.parametrize("d", [1, 2, 3, 8])
def test_chol_norm4_matches_solve(rng, d):
    ti, tj = np.tril_indices(d)
    m = len(ti)
    mats = []
    for _ in range(4):
        A = rng.normal(size=(d, d))
        mats.append(A @ A.T + 0.1 * np.eye(d))
    V = rng.normal(size=(4, d))
    CT = np.ascontiguousarray(np.array([Mt[ti, tj] for Mt in mats]).T)
    VT = np.ascontiguousarray(V.T)
    LT = np.empty((m, 4))
    RD = np.empty((d, 4))
    YT = np.empty((d, 4))
    s2 = np.empty(4)
    la._chol_norm4(CT, VT, LT, RD, YT, s2, d)
    ref = [V[l] @ np.linalg.solve(mats[l], V[l]) for l in range(4)]
    assert_allclose(s2, ref, rtol=1e-12)


def test_chol_norm4_nan_only_in_the_indefinite_lane(rng):
    d = 5
    ti, tj = np.tril_indices(d)
    mats = [np.eye(d) * (l + 1) for l in range(4)]
    mats[2] = np.diag([1.0, 1.0, -1.0, 1.0, 1.0])  # not positive definite
    V = rng.normal(size=(4, d))
    CT = np.ascontiguousarray(np.array([Mt[ti, tj] for Mt in mats]).T)
    s2 = np.empty(4)
    la._chol_norm4(CT, np.ascontiguousarray(V.T), np.empty((len(ti), 4)), np.empty((d, 4)),
                    np.empty((d, 4)), s2, d)
    assert np.isnan(s2[2])
    assert_allclose(s2[[0, 1, 3]], [V[l] @ V[l] / (l + 1) for l in (0, 1, 3)], rtol=1e-14)


def test_edge_costs_independent_of_block_grouping(rng):
    """Segments are integrated in blocks of EDGE_BLOCK and nodes in groups of 4: any order
    of the segments (hence any grouping) gives bitwise the same costs."""
    X = rng.normal(size=(300, 3))
    metric = gg.Randers(rhvae(rng, X, 60),
                        gg.RBFField(X[:6], 0.01 * rng.normal(size=(6, 3)), bandwidth=1.0))
    ia, ib = knn_segments(X, 5)
    R, A = gg.segment_costs(metric, X, ia, ib)
    for perm in (np.arange(len(ia))[::-1], rng.permutation(len(ia))):
        R2, A2 = gg.segment_costs(metric, X, ia[perm], ib[perm])
        assert_array_equal(R2, R[perm])
        assert_array_equal(A2, A[perm])
    # odd sizes: the last block and the last node group are partial
    for n in (1, 2, 3, 5, 7):
        R3, A3 = gg.segment_costs(metric, X, ia[:n], ib[:n])
        assert_allclose(R3, R[:n], rtol=1e-13)  # same rules; node data from fewer nodes


@pytest.mark.parametrize("d, K", [(2, 2500), (3, 2000), (8, 1200)])
def test_many_centroids_match_reference(rng, d, K):
    """K in the thousands (weights vectors of several pages, not a multiple of 4)."""
    X = rng.normal(size=(K + 200, d)) * 1.5
    metric = rhvae(rng, X, K + 1, spacings=3.0)
    P = X[rng.choice(len(X), 120, replace=False)]
    ia, ib = knn_segments(P, 4)
    R, _ = gg.segment_costs(metric, P, ia, ib)
    # composite reference: the segments are long against the temperature here
    tq, wq = gauss_legendre(16)
    Rr = np.zeros(len(ia))
    for p in range(32):
        a = P[ia] + (P[ib] - P[ia]) * (p / 32)
        b = P[ia] + (P[ib] - P[ia]) * ((p + 1) / 32)
        Rr += generic_segment_costs(metric, a, b, tq, wq, None)[0]
    assert_allclose(R, Rr, rtol=1e-6)


def test_level3_and_bisection_paths_match_reference(rng):
    """Long segments at a small temperature reach level 3 and the bisection fallback,
    whose points go through the blocked kernels four at a time."""
    X = rng.normal(size=(200, 2))
    metric = rhvae(rng, X, 40, spacings=1.5)
    ia, ib = knn_segments(X, 8)
    R, _, _, level = _adaptive(metric, X, ia, ib, None, 1e-9)
    assert {3, 4} <= set(np.unique(level))
    tq, wq = gauss_legendre(48)
    Rr = np.zeros(len(ia))
    for p in range(16):  # composite reference
        a = X[ia] + (X[ib] - X[ia]) * (p / 16)
        b = X[ia] + (X[ib] - X[ia]) * ((p + 1) / 16)
        Rr += generic_segment_costs(metric, a, b, tq, wq, None)[0]
    assert_allclose(R, Rr, rtol=1e-8)
