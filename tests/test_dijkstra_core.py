"""The one Dijkstra / A* core (graphgeo.kernels.dijkstra.search) against scipy.sparse.csgraph:
each option (seeds with offsets, limit, predecessors, early exit, bound, estimate, region)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra

from graphgeo.kernels import dijkstra as K

RTOL = 1e-12
INF = np.inf


def _graph(seed, n=150, density=0.04):
    rng = np.random.default_rng(seed)
    W = sp.random_array((n, n), density=density, rng=rng, format="csr")
    W.data = rng.uniform(0.1, 2.0, W.nnz)
    W.setdiag(0)
    W.eliminate_zeros()
    W.sort_indices()
    csr = (W.indptr.astype(np.int64), W.indices.astype(np.int32), W.data.astype(np.float64))
    return W, csr, rng


def _run(csr, seeds, offsets=None, limit=INF, goal=None, heur=None, region=None, track=True):
    n = len(csr[0]) - 1
    seeds = np.asarray(seeds, dtype=np.int64)
    offsets = np.zeros(len(seeds)) if offsets is None else np.asarray(offsets, dtype=np.float64)
    dist = np.full(n, INF)
    work = K.workspace(n, n)
    work[0][:] = -1
    goal = (np.zeros(1, dtype=np.bool_), True, 0, INF) if goal is None else goal
    heur = (np.empty((0, 0)), -1, 0.0, np.empty((0, 0)), 0.0) if heur is None else heur
    region = (np.empty(0, dtype=np.int64), -1) if region is None else region
    nt, pops, total, left = K.search(csr, seeds, offsets, limit, dist, work, (track, True), goal,
                                     heur, region)
    assert np.all(work[4] == -1), "the heap positions must be left at -1"
    return dist, work, nt, pops, total, left


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multi_seed_offsets_limit_and_predecessors(seed):
    W, csr, rng = _graph(seed)
    n = W.shape[0]
    seeds = rng.choice(n, 3, replace=False)
    offsets = rng.uniform(0, 1, 3)
    # reference: a super source joined to each seed at its offset
    S = sp.lil_array((n + 1, n + 1))
    S[:n, :n] = W
    S[n, seeds] = offsets + 1.0  # (+1: explicit edges; subtracted below)
    ref = dijkstra(S.tocsr(), directed=True, indices=n)[:n] - 1.0
    for limit in (INF, 1.5):
        dist, work, nt, pops, _, _ = _run(csr, seeds, offsets, limit)
        want = np.where(ref <= limit, ref, INF)
        assert_allclose(dist, want, rtol=RTOL, atol=1e-12)
        reached = np.flatnonzero(np.isfinite(dist))
        assert_array_equal(np.sort(work[6][:nt]), reached)  # the touched list
        assert pops == len(reached)  # Dijkstra pops every reached node once
        pred, label = work[0], work[1]
        for v in reached:  # predecessors realise the distance, labels name the seed
            if pred[v] < 0:
                assert v in seeds and dist[v] == offsets[label[v]]
            else:
                assert_allclose(dist[pred[v]] + W[pred[v], v], dist[v], rtol=RTOL)
                assert label[v] == label[pred[v]]


def test_early_exit_on_targets_and_bound():
    W, csr, rng = _graph(3)
    n = W.shape[0]
    ref = dijkstra(W, directed=True, indices=0)
    targets = np.flatnonzero(np.isfinite(ref))[1:8]
    tmark = np.zeros(n, dtype=np.int64) - 1
    tmark[targets] = 5
    dist, _, _, pops, total, left = _run(csr, [0], goal=(tmark, 5, len(targets), INF))
    assert left == 0
    assert_allclose(total, ref[targets].sum(), rtol=RTOL)
    assert_allclose(dist[targets], ref[targets], rtol=RTOL)
    assert pops <= np.isfinite(ref).sum()
    # a bound below the sum stops the search before all targets are settled
    _, _, _, _, _, left = _run(csr, [0], goal=(tmark, 5, len(targets), 0.5 * ref[targets].sum()))
    assert left > 0
    # an unreachable target: the search runs out and reports it
    unreachable = np.flatnonzero(np.isinf(ref))
    if len(unreachable):
        tmark[unreachable[0]] = 5
        _, _, _, _, _, left = _run(csr, [0], goal=(tmark, 5, len(targets) + 1, INF))
        assert left == 1


@pytest.mark.parametrize("seed", [4, 5])
def test_region_expands_only_its_nodes(seed):
    W, csr, rng = _graph(seed)
    n = W.shape[0]
    lab = rng.integers(0, 3, n).astype(np.int64)
    src = int(np.flatnonzero(lab == 1)[0])
    # reference: the out-edges of nodes outside the region removed
    keep = sp.diags_array((lab == 1).astype(float)) @ W
    ref = dijkstra(sp.csr_array(keep), directed=True, indices=src)
    dist = _run(csr, [src], region=(lab, 1))[0]
    assert_allclose(dist, ref, rtol=RTOL, atol=0)


def test_astar_estimate_gives_exact_distances_and_settles_fewer():
    rng = np.random.default_rng(6)
    n = 400
    pts = rng.uniform(size=(n, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    near = np.argsort(d, axis=1)[:, 1:7]
    rows = np.repeat(np.arange(n), 6)
    cols = near.ravel()
    w = d[rows, cols] * rng.uniform(1.0, 1.5, len(rows))  # >= the Euclidean length
    W = sp.csr_array((w, (rows, cols)), shape=(n, n))
    W.sort_indices()
    csr = (W.indptr.astype(np.int64), W.indices.astype(np.int32), W.data)
    ref = dijkstra(W, directed=True)
    for s, t in rng.integers(0, n, (20, 2)):
        tmark = np.zeros(n, dtype=np.bool_)
        tmark[t] = True
        goal = (tmark, True, 1, INF)
        _, _, _, p0, d0, l0 = _run(csr, [s], goal=goal)
        _, _, _, p1, d1, l1 = _run(csr, [s], goal=goal, heur=(pts, int(t), 1.0, np.empty((n, 0)), 0.0))
        if np.isfinite(ref[s, t]):
            assert l0 == 0 and l1 == 0
            assert_allclose([d0, d1], ref[s, t], rtol=RTOL)
            assert p1 <= p0
        else:
            assert l0 == 1 and l1 == 1


def test_estimate_matches_its_definition():
    rng = np.random.default_rng(7)
    pts = rng.normal(size=(5, 3))
    lm = rng.uniform(0, 3, size=(5, 4))  # 2 landmarks: d(L, v) then d(v, L)
    lm[2, 0] = INF
    for v in range(5):
        for t in range(5):
            got = K.estimate((pts, t, 0.7, lm, 1e-9), v)
            cands = [0.7 * np.linalg.norm(pts[v] - pts[t])]
            with np.errstate(invalid="ignore"):
                cands += [lm[t, m] - lm[v, m] for m in range(2)]
                cands += [lm[v, 2 + m] - lm[t, 2 + m] for m in range(2)]
            h = max(c for c in cands if not np.isnan(c))
            want = INF if h == INF else max(h - 1e-9, 0.0)
            assert got == want
