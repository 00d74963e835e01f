"""Many-source kernels (graphgeo.kernels.sssp via graphgeo.search) against scipy.sparse.csgraph."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError
from graphgeo.layout import Landmarks

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


# --- indexed heap (decrease-key) and A* with landmark bounds (ALT) -------------------------


def _pairs_ref(g, s, t, limit=np.inf):
    full = dijkstra(g.weights, directed=True, limit=limit)
    return full[s, t]


@pytest.mark.parametrize("use_landmarks", [False, True])
def test_astar_pairs_with_and_without_landmarks_match_scipy(graphs, use_landmarks):
    """Random directed graphs with zero-weight edges and unreachable pairs."""
    import graphgeo.search as gs

    rng = np.random.default_rng(11)
    seen_inf = False
    for g in graphs:
        n = g.n_nodes
        lay = g.search_cache
        s = rng.integers(0, n, 300)
        t = rng.integers(0, n, 300)
        for limit in (np.inf, 0.8, 0.0):
            got, settled = gs._astar_pairs(g, lay, lay.inv[s], lay.inv[t], limit,
                                           landmarks=use_landmarks)
            ref = _pairs_ref(g, s, t, limit)
            assert_allclose(got, ref, rtol=RTOL, atol=0)
            assert np.all(settled >= 0)
            seen_inf |= bool(np.isinf(ref).any())
    assert seen_inf, "the random graphs must include unreachable pairs (inf) for this test to cover them"


def test_landmark_table_matches_scipy(graphs):
    import graphgeo.search as gs

    for g in graphs:
        lay = g.search_cache
        lm = Landmarks(lay, 6)
        L = len(lm.nodes)
        assert 1 <= L <= 6 and len(np.unique(lm.nodes)) == L
        orig = lay.perm[lm.nodes]
        fwd = dijkstra(g.weights, directed=True, indices=orig)           # d(L -> v)
        rev = dijkstra(g.weights.T.tocsr(), directed=True, indices=orig)  # d(v -> L)
        assert_allclose(lm.table[lay.inv, :L], fwd.T, rtol=RTOL, atol=0)
        assert_allclose(lm.table[lay.inv, L:], rev.T, rtol=RTOL, atol=0)
        assert 0 <= lm.slack < 1e-6


def test_landmarks_on_tiny_and_tied_graphs():
    """More landmarks than nodes; integer weights on a grid (many equal-length paths)."""
    import graphgeo.search as gs

    W = sp.csr_array((np.array([1.0, 0.0, 2.0]), (np.array([0, 1, 2]), np.array([1, 2, 0]))),
                     shape=(3, 3))
    g = gg.GeodesicGraph.from_scipy(W, np.zeros((3, 2)) + np.arange(3)[:, None])
    lay = g.search_cache
    lm = Landmarks(lay, 50)
    assert len(lm.nodes) <= 3
    s = np.array([0, 1, 2, 0, 2])
    t = np.array([2, 0, 1, 0, 2])
    lay.landmarks = lm
    assert_allclose(g.pair_distances(s, t), _pairs_ref(g, s, t), rtol=RTOL, atol=0)

    side = 12
    rng = np.random.default_rng(1)
    rows, cols = [], []
    for i in range(side):
        for j in range(side):
            u = i * side + j
            for di, dj in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                a, b = i + di, j + dj
                if 0 <= a < side and 0 <= b < side:
                    rows.append(u)
                    cols.append(a * side + b)
    data = rng.integers(0, 3, len(rows)).astype(float)  # zeros and ties
    G = sp.csr_array((data, (rows, cols)), shape=(side * side,) * 2)
    pts = np.stack(np.divmod(np.arange(side * side), side), axis=1).astype(float)
    g = gg.GeodesicGraph.from_scipy(G, pts)
    s = rng.integers(0, side * side, 400)
    t = rng.integers(0, side * side, 400)
    assert_allclose(g.pair_distances(s, t), _pairs_ref(g, s, t), rtol=RTOL, atol=0)
    D, P = g.distances(return_predecessors=True)
    assert_allclose(D, dijkstra(G, directed=True), rtol=RTOL, atol=0)
    src, v = np.nonzero(P >= 0)
    w = G.toarray()
    assert_allclose(D[src, P[src, v]] + w[P[src, v], v], D[src, v], rtol=RTOL, atol=1e-12)


def test_landmarks_settle_fewer_nodes_on_a_randers_knn_graph():
    import graphgeo.search as gs

    rng = np.random.default_rng(3)
    pts = rng.normal(size=(4000, 2))
    g = gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(2), np.array([0.3, -0.1])), k=8)
    lay = g.search_cache
    s = rng.integers(0, 4000, 200)
    t = rng.integers(0, 4000, 200)
    d0, n0 = gs._astar_pairs(g, lay, lay.inv[s], lay.inv[t], np.inf, landmarks=False)
    d1, n1 = gs._astar_pairs(g, lay, lay.inv[s], lay.inv[t], np.inf, landmarks=True)
    ref = _pairs_ref(g, s, t)
    assert_allclose(d0, ref, rtol=RTOL, atol=0)
    assert_allclose(d1, ref, rtol=RTOL, atol=0)
    assert n1.sum() * 3 < n0.sum()


def test_pair_distances_batch_sizes_around_the_alt_threshold(monkeypatch):
    """Small batches without landmarks, large ones with; cached landmarks reused after."""
    import graphgeo.search as gs

    rng = np.random.default_rng(5)
    g = _random_graph(rng, 250, 0.02, zero_frac=0.1)
    monkeypatch.setattr(gs, "ALT_MIN_PAIRS", 50)
    lay = g.search_cache
    s = rng.integers(0, 250, 49)
    t = rng.integers(0, 250, 49)
    assert_allclose(g.pair_distances(s, t), _pairs_ref(g, s, t), rtol=RTOL, atol=0)
    assert lay.landmarks is None
    s = rng.integers(0, 250, 400)
    t = rng.integers(0, 250, 400)
    assert_allclose(g.pair_distances(s, t, limit=1.2), _pairs_ref(g, s, t, 1.2), rtol=RTOL, atol=0)
    assert lay.landmarks is not None
    s, t = s[:3], t[:3]
    assert_allclose(g.pair_distances(s, t), _pairs_ref(g, s, t), rtol=RTOL, atol=0)


def test_duplicate_seeds_and_offsets_decrease_key(graphs):
    """A seed listed twice keeps its smaller offset (decrease-key on the seed itself)."""
    rng = np.random.default_rng(8)
    for g in graphs:
        n = g.n_nodes
        base = rng.choice(n, 4, replace=False)
        seeds = np.concatenate([base, base[::-1]])
        offsets = rng.uniform(0, 1, 8)
        dist, nearest, _ = g.multi_source(seeds, offsets)
        best = {}
        for sd, o in zip(seeds, offsets):
            best[sd] = min(best.get(sd, np.inf), o)
        keys = np.array(list(best))
        ref = _super_source(g, keys, np.array([best[k] for k in keys]))
        assert_allclose(dist, ref, rtol=RTOL, atol=0)
        reached = np.isfinite(dist)
        assert_array_equal(nearest >= 0, reached)


def test_sources_with_targets_and_offgraph_mix_still_match(graphs):
    """rows(): the whole-row path (no touched list) and the target path in one call order."""
    rng = np.random.default_rng(12)
    for g in graphs:
        n = g.n_nodes
        src = rng.choice(n, 9, replace=False)
        D_all = g.distances(src)
        assert_allclose(D_all, dijkstra(g.weights, directed=True, indices=src), rtol=RTOL, atol=0)
        D_lim = g.distances(src, limit=0.9)
        assert_allclose(D_lim, dijkstra(g.weights, directed=True, indices=src, limit=0.9),
                        rtol=RTOL, atol=0)
        tgt = rng.choice(n, 5)
        assert_allclose(g.distances(src, tgt), D_all[:, tgt], rtol=RTOL, atol=0)
