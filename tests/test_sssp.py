"""Many-source kernels (graphgeo.kernels.sssp via graphgeo.search) against scipy.sparse.csgraph."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError

RTOL = 1e-12


def _random_graph(rng, n, density, zero_frac=0.0):
    W = sp.random_array((n, n), density=density, rng=rng, format="csr")
    W.data = rng.uniform(0.1, 2.0, W.nnz)
    if zero_frac:
        W.data[rng.random(W.nnz) < zero_frac] = 0.0  # explicit zero-cost edges stay edges
    W.setdiag(0)
    W.eliminate_zeros() if not zero_frac else None
    pts = rng.normal(size=(n, 2))
    return gg.GeodesicGraph.from_scipy(sp.csr_array(W), pts)


@pytest.fixture(scope="module")
def graphs():
    rng = np.random.default_rng(7)
    return [_random_graph(rng, n, dens, z) for n, dens, z in
            [(60, 0.05, 0.0), (120, 0.02, 0.0), (200, 0.03, 0.1), (300, 0.005, 0.0)]]


def test_all_pairs_and_predecessors_match_scipy(graphs):
    for g in graphs:
        D, P = g.distances(return_predecessors=True)
        Dr, Pr = dijkstra(g.weights, directed=True, return_predecessors=True)
        assert_allclose(D, Dr, rtol=RTOL, atol=0)
        # predecessors may differ on ties; check they realise the distance instead
        src, v = np.nonzero(P >= 0)
        w = g.weights.toarray()
        assert_allclose(D[src, P[src, v]] + w[P[src, v], v], D[src, v], rtol=1e-12, atol=1e-12)
        assert_array_equal(P < 0, Pr < 0)


@pytest.mark.parametrize("limit", [0.5, 1.5, 3.0])
def test_limit_with_targets(graphs, limit):
    rng = np.random.default_rng(3)
    for g in graphs:
        n = g.n_nodes
        src = rng.choice(n, 7, replace=False)
        tgt = rng.choice(n, 11)  # repeats allowed
        D = g.distances(src, tgt, limit=limit)
        Dr = dijkstra(g.weights, directed=True, indices=src, limit=limit)[:, tgt]
        assert_allclose(D, Dr, rtol=RTOL, atol=0)


def test_pairs_with_limit_and_unreachable(graphs):
    rng = np.random.default_rng(4)
    seen_inf = False
    for g in graphs:
        n = g.n_nodes
        s = rng.integers(0, n, 500)
        t = rng.integers(0, n, 500)
        full = dijkstra(g.weights, directed=True)
        assert_allclose(g.pair_distances(s, t), full[s, t], rtol=RTOL, atol=0)
        lim = dijkstra(g.weights, directed=True, limit=1.0)
        assert_allclose(g.pair_distances(s, t, limit=1.0), lim[s, t], rtol=RTOL, atol=0)
        seen_inf |= bool(np.isinf(full[s, t]).any())
    assert seen_inf  # the sparse graphs exercise unreachable pairs


def _super_source(g, seeds, offsets):
    """Reference: a virtual node with edges offsets[s] to seeds[s] (scipy on n + 1 nodes)."""
    n = g.n_nodes
    W = g.weights.tocoo()
    rows = np.concatenate([W.row, np.full(len(seeds), n)])
    cols = np.concatenate([W.col, seeds])
    data = np.concatenate([W.data, offsets])
    # a zero offset must stay an edge: scipy keeps explicit zeros of a csr input
    M = sp.csr_array((data, (rows, cols)), shape=(n + 1, n + 1))
    return dijkstra(M, directed=True, indices=n)[:n]


def test_multi_source_offsets_and_voronoi(graphs):
    rng = np.random.default_rng(5)
    for g in graphs:
        n = g.n_nodes
        seeds = rng.choice(n, 5, replace=False)
        offsets = rng.uniform(0, 1, 5)
        dist, nearest, pred = g.multi_source(seeds, offsets)
        assert_allclose(dist, _super_source(g, seeds, offsets), rtol=RTOL, atol=0)
        reached = np.isfinite(dist)
        assert_array_equal(nearest >= 0, reached)
        # each node's label is a seed realising its distance
        per_seed = dijkstra(g.weights, directed=True, indices=seeds)
        via = offsets[nearest[reached]] + per_seed[nearest[reached], np.flatnonzero(reached)]
        assert_allclose(via, dist[reached], rtol=RTOL, atol=1e-15)
        # zero offsets: min over seeds like scipy's min_only
        d0, _, _ = g.multi_source(seeds)
        assert_allclose(d0, dijkstra(g.weights, directed=True, indices=seeds, min_only=True),
                        rtol=RTOL, atol=0)
        d_lim, lab_lim, _ = g.multi_source(seeds, limit=0.7)
        ref = dijkstra(g.weights, directed=True, indices=seeds, min_only=True, limit=0.7)
        assert_allclose(d_lim, ref, rtol=RTOL, atol=0)
        assert_array_equal(lab_lim >= 0, np.isfinite(ref))


def test_float32_memmap_streams(graphs, tmp_path):
    g = graphs[2]
    n = g.n_nodes
    mm = np.lib.format.open_memmap(tmp_path / "D.npy", mode="w+", dtype=np.float32, shape=(n, n))
    import graphgeo.search as gs

    old = gs._BLOCK_BYTES
    gs._BLOCK_BYTES = 8 * n * 7  # 7-row blocks: many flush/release rounds
    try:
        g.distances(out=mm)
    finally:
        gs._BLOCK_BYTES = old
    mm.flush()
    del mm
    D = np.load(tmp_path / "D.npy")
    assert D.dtype == np.float32
    assert_allclose(D, dijkstra(g.weights, directed=True).astype(np.float32), rtol=1e-6, atol=0)


def test_bad_input_before_work(graphs):
    g = graphs[0]
    n = g.n_nodes
    with pytest.raises(InvalidInputError, match="seeds"):
        g.multi_source([n + 3])
    with pytest.raises(InvalidInputError, match="seeds"):
        g.multi_source([])
    with pytest.raises(InvalidInputError, match="offsets"):
        g.multi_source([0, 1], offsets=[0.0])
    with pytest.raises(InvalidInputError, match="offsets"):
        g.multi_source([0, 1], offsets=[0.0, -1.0])
    with pytest.raises(InvalidInputError, match="limit"):
        g.pair_distances([0], [1], limit=-2.0)
    with pytest.raises(InvalidInputError, match="out"):
        g.distances([0], out=np.empty((1, n), dtype=np.float64)[:, ::-1])


@pytest.mark.parametrize("astar_max", [0, 4, 10**9])
def test_pairs_astar_and_grouped_paths_agree(astar_max, monkeypatch):
    import graphgeo.search as gs

    rng = np.random.default_rng(9)
    pts = rng.uniform(size=(1500, 2))
    g = gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(2), np.array([0.2, -0.3])), k=7)
    monkeypatch.setattr(gs, "ASTAR_MAX_TARGETS", astar_max)
    s = np.concatenate([rng.integers(0, 1500, 300), np.full(40, 7)])  # one source with many targets
    t = rng.integers(0, 1500, 340)
    full = dijkstra(g.weights, directed=True, indices=np.unique(s))
    ref = full[np.searchsorted(np.unique(s), s), t]
    assert_allclose(g.pair_distances(s, t), ref, rtol=RTOL, atol=0)
    lim = dijkstra(g.weights, directed=True, indices=np.unique(s), limit=0.4)
    assert_allclose(g.pair_distances(s, t, limit=0.4), lim[np.searchsorted(np.unique(s), s), t],
                    rtol=RTOL, atol=0)
