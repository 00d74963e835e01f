"""Shortest paths and distances: A*/Dijkstra against scipy and networkx, Randers closed forms,
streamed distance matrices and bad input."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra as sp_dijkstra

import graphgeo as gg
from graphgeo import search as gsearch
from graphgeo.exceptions import InvalidInputError, NoPathError

# lengths are sums of at most a few hundred float64 weights of order 1
RTOL = 1e-12
ATOL = 1e-12

N_RANDOM_GRAPHS = 200
N_CHUNKS = 8


# ------------------------------------------------------------------- helpers
def random_directed_graph(rng, n=None, dim=None):
    """Random points and asymmetric weights w_ij >= |z_i - z_j| (A* stays admissible).

    About a third of the graphs are sparse enough to be disconnected; some put
    several nodes on the same point, giving zero-length, zero-cost edges.
    """
    n = int(rng.integers(2, 60)) if n is None else n
    dim = int(rng.integers(1, 4)) if dim is None else dim
    kind = rng.integers(3)
    pts = rng.normal(size=(n, dim))
    if kind == 2:  # coarse grid: coincident points
        pts = np.round(pts)
    density = {0: rng.uniform(0.1, 0.5), 1: rng.uniform(0.005, 0.06), 2: rng.uniform(0.05, 0.3)}[kind]
    mask = rng.random((n, n)) < density
    np.fill_diagonal(mask, False)
    i, j = np.nonzero(mask)
    length = np.linalg.norm(pts[i] - pts[j], axis=1)
    w = length * rng.uniform(1.0, 3.0, size=len(i))
    if kind != 2:  # strictly positive extra cost (kind 2 keeps exact zero costs)
        w += rng.uniform(0.0, 0.5, size=len(i))
    W = sp.csr_array((w, (i, j)), shape=(n, n))
    return W, pts


def check_path(g, path, s, t):
    """A valid directed path s -> t whose length is the sum of its edge weights."""
    W = g.weights
    assert path.nodes[0] == s and path.nodes[-1] == t
    assert path.source == s and path.target == t
    assert_array_equal(path.points, g.points[path.nodes])
    u, v = path.nodes[:-1], path.nodes[1:]
    if len(u):
        # every step is an edge of the graph (explicit zeros included)
        dense_struct = sp.csr_array((np.ones(W.nnz), W.indices, W.indptr), shape=W.shape)
        assert np.all(dense_struct[u, v] == 1)
    total = float(np.sum(W[u, v])) if len(u) else 0.0
    assert_allclose(path.length, total, rtol=RTOL, atol=ATOL)


@pytest.fixture(scope="module")
def euclid_graph():
    rng = np.random.default_rng(7)
    pts = rng.uniform(size=(20000, 2))
    return gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=8)


@pytest.fixture(scope="module")
def small_euclid():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(400, 2))
    return gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=10, connect="raise")


@pytest.fixture(scope="module")
def disconnected_graph():
    """A directed graph where nodes 100..119 have out-edges only: nobody else reaches them."""
    rng = np.random.default_rng(11)
    n = 120
    pts = rng.normal(size=(n, 2))
    mask = rng.random((n, n)) < 0.08
    np.fill_diagonal(mask, False)
    mask[:, 100:] = False
    i, j = np.nonzero(mask)
    w = np.linalg.norm(pts[i] - pts[j], axis=1) * rng.uniform(1.0, 2.0, size=len(i))
    g = gg.GeodesicGraph.from_scipy(sp.csr_array((w, (i, j)), shape=(n, n)), pts)
    ref = sp_dijkstra(g.weights, directed=True)
    assert np.isinf(ref[:100, 100:]).all() and np.isfinite(ref[:100, :100]).mean() > 0.9
    return g, ref


# ------------------------------------------------------------- vs oracles
@pytest.mark.parametrize("chunk", range(N_CHUNKS))
def test_astar_dijkstra_match_scipy_on_random_graphs(chunk):
    rng = np.random.default_rng(1000 + chunk)
    n_unreachable = 0
    for _ in range(N_RANDOM_GRAPHS // N_CHUNKS):
        W, pts = random_directed_graph(rng)
        g = gg.GeodesicGraph.from_scipy(W, pts)
        n = g.n_nodes
        # admissible/consistent heuristic: c <= min weight / length
        assert g.heuristic_scale >= 0.0
        srcs = rng.integers(n, size=min(n, 4))
        ref = sp_dijkstra(g.weights, directed=True, indices=srcs)
        for a, s in enumerate(srcs):
            for t in rng.integers(n, size=5):
                s, t = int(s), int(t)
                if np.isinf(ref[a, t]):
                    n_unreachable += 1
                    for method in ("astar", "dijkstra"):
                        with pytest.raises(NoPathError, match=f"node {t} cannot be reached from node {s}"):
                            g.shortest_path(s, t, method=method)
                    continue
                pa = g.shortest_path(s, t, method="astar")
                pd = g.shortest_path(s, t, method="dijkstra")
                assert_allclose(pa.length, ref[a, t], rtol=RTOL, atol=ATOL)
                assert_allclose(pd.length, ref[a, t], rtol=RTOL, atol=ATOL)
                check_path(g, pa, s, t)
                check_path(g, pd, s, t)
                assert pa.method == "astar" and pd.method == "dijkstra"
                # bidirectional A* counts the pops of both searches
                assert 1 <= pa.n_settled <= 2 * n and 1 <= pd.n_settled <= n
    # the sparse graphs do produce unreachable targets
    assert n_unreachable > 0


def test_noPathError_is_runtime_error(disconnected_graph):
    g, ref = disconnected_graph
    s, t = map(int, np.argwhere(np.isinf(ref))[0])
    with pytest.raises(RuntimeError):
        g.shortest_path(s, t)


def test_source_equals_target(small_euclid):
    for method in ("astar", "dijkstra"):
        p = small_euclid.shortest_path(5, 5, method=method)
        assert_array_equal(p.nodes, [5])
        assert p.length == 0.0 and len(p) == 1


def test_negative_indices_wrap(small_euclid):
    g = small_euclid
    n = g.n_nodes
    p = g.shortest_path(-1, -n)
    q = g.shortest_path(n - 1, 0)
    assert_array_equal(p.nodes, q.nodes)
    assert_allclose(p.length, q.length, rtol=0, atol=0)


def test_numpy_integer_indices(small_euclid):
    g = small_euclid
    p = g.shortest_path(np.int32(3), np.uint64(40))
    assert_allclose(p.length, g.shortest_path(3, 40).length, rtol=0, atol=0)


def test_matches_networkx():
    rng = np.random.default_rng(42)
    for _ in range(5):
        W, pts = random_directed_graph(rng, n=40, dim=2)
        W = W.tocsr()
        W.data += 1e-3  # networkx reads explicit zeros as missing edges
        g = gg.GeodesicGraph.from_scipy(W, pts)
        G = nx.from_scipy_sparse_array(g.weights, create_using=nx.DiGraph)
        for s, t in rng.integers(40, size=(10, 2)):
            s, t = int(s), int(t)
            try:
                ref = nx.shortest_path_length(G, s, t, weight="weight")
            except nx.NetworkXNoPath:
                with pytest.raises(NoPathError):
                    g.shortest_path(s, t)
                continue
            for method in ("astar", "dijkstra"):
                assert_allclose(g.shortest_path(s, t, method=method).length, ref,
                                rtol=RTOL, atol=ATOL)


def test_astar_settles_far_fewer_nodes(euclid_graph, capsys):
    g = euclid_graph
    rng = np.random.default_rng(5)
    pairs = rng.integers(g.n_nodes, size=(30, 2))
    settled_a = settled_d = 0
    ref = sp_dijkstra(g.weights, directed=True, indices=pairs[:5, 0])
    for q, (s, t) in enumerate(pairs):
        pa = g.shortest_path(int(s), int(t), method="astar")
        pd = g.shortest_path(int(s), int(t), method="dijkstra")
        assert_allclose(pa.length, pd.length, rtol=RTOL, atol=ATOL)
        if q < 5:
            assert_allclose(pa.length, ref[q, t], rtol=RTOL, atol=ATOL)
        assert pa.n_settled <= pd.n_settled
        settled_a += pa.n_settled
        settled_d += pd.n_settled
    ratio = settled_d / settled_a
    with capsys.disabled():
        print(f"\n[A* vs Dijkstra, 20k-node 2-D Euclidean graph] settled-node ratio "
              f"Dijkstra/A* = {ratio:.1f}")
    # measured ~9 on uniform points; A* is goal-directed with the exact Euclidean bound
    assert ratio > 4.0


# ------------------------------------------------------------- distances
def test_distances_all_pairs_match_scipy(disconnected_graph):
    g, ref = disconnected_graph
    D = g.distances()
    assert D.dtype == np.float64 and D.shape == (g.n_nodes, g.n_nodes)
    assert_allclose(D, ref, rtol=RTOL, atol=ATOL)
    assert_array_equal(np.isinf(D), np.isinf(ref))


def test_distances_sources_targets_limit(disconnected_graph):
    g, ref = disconnected_graph
    rng = np.random.default_rng(2)
    src = rng.integers(g.n_nodes, size=17)
    tgt = np.concatenate([rng.integers(g.n_nodes, size=20), [105, 110]])  # unreachable block
    D = g.distances(src, tgt)
    assert D.shape == (17, 22)
    assert_allclose(D, ref[np.ix_(src, tgt)], rtol=RTOL, atol=ATOL)
    assert np.isinf(D[src < 100, -2:]).all()
    lim = float(np.median(ref[np.isfinite(ref)]))
    DL = g.distances(src, tgt, limit=lim)
    expect = sp_dijkstra(g.weights, directed=True, indices=src, limit=lim)[:, tgt]
    assert_allclose(DL, expect, rtol=RTOL, atol=ATOL)
    assert np.isinf(DL).sum() > np.isinf(D).sum()
    assert np.all(DL[np.isfinite(DL)] <= lim)
    # limit=np.inf is scipy's "no limit"
    assert_allclose(g.distances(src, tgt, limit=np.inf), D, rtol=0, atol=0)


def test_distances_float32_into_memmap(disconnected_graph, tmp_path):
    g, ref = disconnected_graph
    src = np.arange(0, g.n_nodes, 3)
    tgt = np.arange(g.n_nodes)[::-1]
    out = np.memmap(tmp_path / "D.f32", dtype=np.float32, mode="w+", shape=(len(src), len(tgt)))
    res = g.distances(src, tgt, dtype=np.float32, out=out)
    assert res is out
    out.flush()
    back = np.memmap(tmp_path / "D.f32", dtype=np.float32, mode="r", shape=(len(src), len(tgt)))
    # float32 storage is the float64 result rounded once
    assert_allclose(back, ref[np.ix_(src, tgt)].astype(np.float32), rtol=0, atol=0)
    assert_allclose(back, ref[np.ix_(src, tgt)], rtol=1e-7, atol=0)
    assert np.isinf(back).any()


def test_distances_dtype_float32_and_out_array(small_euclid):
    g = small_euclid
    ref = sp_dijkstra(g.weights, directed=True, indices=[1, 2, 3])
    D32 = g.distances([1, 2, 3], dtype=np.float32)
    assert D32.dtype == np.float32
    assert_allclose(D32, ref.astype(np.float32), rtol=0, atol=0)
    out = np.full((3, g.n_nodes), -1.0)
    assert g.distances([1, 2, 3], out=out) is out
    assert_allclose(out, ref, rtol=RTOL, atol=ATOL)


def test_distances_blocked_matches_unblocked(disconnected_graph, monkeypatch):
    """Tiny blocks: every code path over source blocks gives the same numbers."""
    g, ref = disconnected_graph
    rng = np.random.default_rng(9)
    src = rng.integers(g.n_nodes, size=50)
    dst = rng.integers(g.n_nodes, size=50)
    monkeypatch.setattr(gsearch, "_BLOCK_BYTES", 8 * g.n_nodes * 7)  # 7 rows per block
    assert gsearch._block_rows(g.n_nodes) == 7
    assert_allclose(g.distances(src, dst[:9]), ref[np.ix_(src, dst[:9])], rtol=RTOL, atol=ATOL)
    assert_allclose(g.pair_distances(src, dst), ref[src, dst], rtol=RTOL, atol=ATOL)


def test_pair_distances_match_scipy(disconnected_graph):
    g, ref = disconnected_graph
    rng = np.random.default_rng(4)
    src = rng.integers(g.n_nodes, size=500)  # many repeated sources
    dst = rng.integers(g.n_nodes, size=500)
    dst[:10] = 100 + np.arange(10)  # into the unreachable block
    L = g.pair_distances(src, dst)
    assert L.shape == (500,) and L.dtype == np.float64
    assert_allclose(L, ref[src, dst], rtol=RTOL, atol=ATOL)
    assert np.isinf(L[:10][src[:10] < 100]).all()
    # pair distances agree with single-pair searches
    for s, t, d in zip(src[10:30], dst[10:30], L[10:30]):
        if np.isfinite(d):
            assert_allclose(g.shortest_path(int(s), int(t)).length, d, rtol=RTOL, atol=ATOL)


def test_pair_distances_empty_and_scalar(small_euclid):
    g = small_euclid
    assert g.pair_distances([], []).shape == (0,)
    ref = sp_dijkstra(g.weights, directed=True, indices=3)
    assert_allclose(g.pair_distances(3, 7), [ref[7]], rtol=RTOL, atol=ATOL)
    assert g.distances([], [1, 2]).shape == (0, 2)


# ------------------------------------------------------------- Randers
@pytest.fixture(scope="module")
def randers_pair():
    rng = np.random.default_rng(21)
    pts = rng.uniform(-2, 2, size=(1500, 2))
    w = np.array([0.35, -0.2])
    base = gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=8)
    rand = gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(2), w), k=8)
    return base, rand, w


def test_randers_constant_omega_closed_form(randers_pair):
    base, g, w = randers_pair
    rng = np.random.default_rng(0)
    pairs = rng.integers(g.n_nodes, size=(40, 2))
    z = g.points
    a, b = pairs[:, 0], pairs[:, 1]
    dab = g.pair_distances(a, b)
    dba = g.pair_distances(b, a)
    d0 = base.pair_distances(a, b)
    drift = (z[b] - z[a]) @ w
    scale = 1.0 + np.abs(d0)
    # the 1-form of a constant omega is exact: cost = Euclidean length + <w, z_b - z_a>
    assert_allclose((dab - dba) / scale, 2.0 * drift / scale, rtol=0, atol=1e-12)
    assert_allclose(dab / scale, (d0 + drift) / scale, rtol=0, atol=1e-12)
    assert np.abs(dab - dba).max() > 0.1  # really asymmetric
    # the directed matrix is not symmetric, and it is exactly the closed form
    D = g.distances(a[:10], a[:10])
    D0 = base.distances(a[:10], a[:10])
    Z = z[a[:10]]
    closed = D0 + (Z[None, :, :] - Z[:, None, :]) @ w
    assert_allclose(D, closed, rtol=0, atol=1e-12 * (1 + np.abs(D0).max()))


def test_randers_constant_omega_same_paths(randers_pair):
    base, g, w = randers_pair
    rng = np.random.default_rng(1)
    for s, t in rng.integers(g.n_nodes, size=(25, 2)):
        s, t = int(s), int(t)
        p0 = base.shortest_path(s, t)
        for method in ("astar", "dijkstra"):
            p = g.shortest_path(s, t, method=method)
            assert_array_equal(p.nodes, p0.nodes)
            check_path(g, p, s, t)
        back = g.shortest_path(t, s)
        assert_array_equal(back.nodes, p0.nodes[::-1])
        assert_allclose(p.length - back.length, 2.0 * (g.points[t] - g.points[s]) @ w,
                        rtol=0, atol=1e-12 * (1 + p0.length))


def test_randers_astar_heuristic_admissible(randers_pair):
    _, g, w = randers_pair
    # min weight / length = 1 - |w| on edges aligned against w; the scale never exceeds it
    coo = g.weights.tocoo()
    length = np.linalg.norm(g.points[coo.row] - g.points[coo.col], axis=1)
    assert g.heuristic_scale <= np.min(coo.data / length)
    assert g.heuristic_scale >= (1.0 - np.linalg.norm(w)) * (1 - 1e-8)


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [2.5, np.float64(1.0), True, np.bool_(False), "3", None, [1]])
def test_bad_source_type(small_euclid, bad):
    with pytest.raises(InvalidInputError, match="source"):
        small_euclid.shortest_path(bad, 1)
    with pytest.raises(InvalidInputError, match="target"):
        small_euclid.shortest_path(1, bad)


def test_out_of_range_source(small_euclid):
    n = small_euclid.n_nodes
    for bad in (n, n + 5, -n - 1):
        with pytest.raises(InvalidInputError, match=rf"source must be a node index in \[0, {n - 1}\]"):
            small_euclid.shortest_path(bad, 0)
        with pytest.raises(InvalidInputError, match="target"):
            small_euclid.shortest_path(0, bad)


@pytest.mark.parametrize("bad", ["bfs", "A*", "", None, 1])
def test_bad_method(small_euclid, bad):
    with pytest.raises(InvalidInputError, match="method must be one of 'astar', 'dijkstra'"):
        small_euclid.shortest_path(0, 1, method=bad)


def test_bad_sources_targets(small_euclid):
    g = small_euclid
    n = g.n_nodes
    with pytest.raises(InvalidInputError, match="sources must be integer node indices"):
        g.distances([0.5, 1.0])
    with pytest.raises(InvalidInputError, match="sources.*np.flatnonzero"):
        g.distances(np.ones(n, dtype=bool))
    with pytest.raises(InvalidInputError, match=rf"targets must hold node indices in \[0, {n - 1}\]"):
        g.distances([0], [n])
    with pytest.raises(InvalidInputError, match="src"):
        g.pair_distances([0, n + 1], [1, 2])
    with pytest.raises(InvalidInputError, match="dst"):
        g.pair_distances([0, 1], [1.5, 2])


def test_mismatched_pair_lengths(small_euclid):
    with pytest.raises(InvalidInputError, match="src and dst must have the same length.*3 and 2"):
        small_euclid.pair_distances([0, 1, 2], [3, 4])


@pytest.mark.parametrize("bad", ["foo", np.int32, np.float16, "complex128", object])
def test_bad_dtype(small_euclid, bad):
    with pytest.raises(InvalidInputError, match="dtype must be float64 or float32"):
        small_euclid.distances([0], dtype=bad)


def test_bad_out(small_euclid):
    g = small_euclid
    n = g.n_nodes
    with pytest.raises(InvalidInputError, match=rf"out must be a .*array of shape \(2, {n}\).*\(2, {n - 1}\)"):
        g.distances([0, 1], out=np.empty((2, n - 1)))
    with pytest.raises(InvalidInputError, match="out must be a .*array of shape"):
        g.distances([0, 1], out=np.empty((n, 2)))
    with pytest.raises(InvalidInputError, match="out.*int64"):
        g.distances([0, 1], out=np.empty((2, n), dtype=np.int64))


@pytest.mark.parametrize("bad", [-1.0, np.nan, -np.inf, "1", True])
def test_bad_limit(small_euclid, bad):
    with pytest.raises(InvalidInputError, match="limit"):
        small_euclid.distances([0], limit=bad)


def test_exceptions_are_valueerrors():
    assert issubclass(InvalidInputError, ValueError)
    assert issubclass(NoPathError, RuntimeError)
    assert issubclass(InvalidInputError, gg.GraphGeoError)
