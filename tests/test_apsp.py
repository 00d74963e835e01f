"""Cells-and-hubs all-pairs (graphgeo.cells, graphgeo.kernels.apsp, via distances()) against
scipy.sparse.csgraph."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg
from graphgeo import cells as C
from graphgeo.kernels import apsp as A

RTOL = 1e-12


def _cells(g, m, **kw):
    """g.distances(**kw) forced onto the cells strategy with cell size m: (D, stats)."""
    return g.distances(strategy="cells", cell_size=m, return_stats=True, **kw)


def _knn(n, d, k=6, seed=0, dup=0):
    """A directed KNN graph with Randers-like (asymmetric) weights; dup duplicated points
    give zero-cost edges."""
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, d))
    if dup:
        pts[n - dup:] = pts[:dup]
    w = np.zeros(d)
    w[0], w[1] = 0.3, -0.2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the duplicate points are the point here
        return gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(d), w), k=k)


def _clusters(seed=1):
    """Far-apart clusters (not strongly connected: some pairs unreachable), with one-way
    edges between them and zero-weight edges."""
    rng = np.random.default_rng(seed)
    blocks, pts = [], []
    off = 0
    for size in (90, 60, 40):
        W = sp.random_array((size, size), density=0.06, rng=rng, format="coo")
        data = rng.uniform(0.1, 2.0, W.nnz)
        data[rng.random(W.nnz) < 0.1] = 0.0
        blocks.append((W.row + off, W.col + off, data))
        pts.append(rng.normal(size=(size, 2)) + 10.0 * len(pts))
        off += size
    rows = np.concatenate([b[0] for b in blocks] + [np.array([0, 95])])
    cols = np.concatenate([b[1] for b in blocks] + [np.array([100, 160])])
    data = np.concatenate([b[2] for b in blocks] + [np.array([3.0, 0.0])])
    keep = rows != cols
    W = sp.csr_array((data[keep], (rows[keep], cols[keep])), shape=(off, off))
    return gg.GeodesicGraph.from_scipy(W, np.concatenate(pts))


@pytest.fixture(scope="module")
def graphs():
    return {"2d": _knn(400, 2, dup=20), "8d": _knn(300, 8, seed=3), "clusters": _clusters()}


def _ref(g, **kw):
    return dijkstra(g.weights, directed=True, **kw)


@pytest.mark.parametrize("name", ["2d", "8d", "clusters"])
@pytest.mark.parametrize("m", [1, 5, 32, 100, 1000])
def test_all_pairs_match_scipy(graphs, name, m):
    g = graphs[name]
    D, run = _cells(g, m)
    assert run["strategy"] == "cells" and run["cell_size"] == m
    assert_allclose(D, _ref(g), rtol=RTOL, atol=0)
    if name == "clusters":
        assert np.isinf(D).any()


def test_zero_weight_edges_are_exercised(graphs):
    g = graphs["2d"]
    assert (g.weights.data == 0).any()


@pytest.mark.parametrize("m", [16, 64])
def test_limit_is_exact(graphs, m):
    g = graphs["2d"]
    for limit in (0.0, 0.3, 1.0):
        D, run = _cells(g, m, limit=limit)
        assert run["strategy"] == "cells"
        assert_allclose(D, _ref(g, limit=limit), rtol=RTOL, atol=0)


def test_float32_and_memmap_outputs(graphs, tmp_path):
    g = graphs["2d"]
    n = g.n_nodes
    ref = _ref(g)
    D32, run = _cells(g, 32, dtype=np.float32)
    assert D32.dtype == np.float32 and run["strategy"] == "cells"
    assert_allclose(D32, ref.astype(np.float32), rtol=1e-6, atol=0)
    mm = np.lib.format.open_memmap(tmp_path / "D.npy", mode="w+", dtype=np.float32, shape=(n, n))
    assert _cells(g, 32, out=mm)[0] is mm
    assert_allclose(np.load(tmp_path / "D.npy"), ref.astype(np.float32), rtol=1e-6, atol=0)
    mm64 = np.lib.format.open_memmap(tmp_path / "D64.npy", mode="w+", dtype=np.float64, shape=(n, n))
    _cells(g, 32, out=mm64)
    assert_allclose(np.load(tmp_path / "D64.npy"), ref, rtol=RTOL, atol=0)
    # a copy-on-write map keeps its rows in memory (never dropped)
    cow = np.memmap(tmp_path / "D64.npy", mode="c", dtype=np.float64, shape=(n, n),
                    offset=mm64.offset)
    cow[:] = -1.0
    _cells(g, 32, out=cow)
    assert_allclose(np.asarray(cow), ref, rtol=RTOL, atol=0)


def test_small_hub_budget_groups_cells_and_keeps_results(graphs, monkeypatch):
    g = graphs["2d"]
    n = g.n_nodes
    exits = np.diff(C.cover(g.search_cache, 16).eptr).max()
    monkeypatch.setattr(C, "_HUB_BYTES", 8 * n * (int(exits) + 10))
    D, run = _cells(g, 16)
    assert run["groups"] > 1
    assert_allclose(D, _ref(g), rtol=RTOL, atol=0)
    # a budget below one cell's hub rows: plain Dijkstra, same result
    monkeypatch.setattr(C, "_HUB_BYTES", 8 * n * 2)
    D, run = _cells(g, 16)
    assert run["strategy"] == "dijkstra"
    assert_allclose(D, _ref(g), rtol=RTOL, atol=0)


def test_source_subsets_with_repeats(graphs):
    g = graphs["clusters"]
    n = g.n_nodes
    rng = np.random.default_rng(5)
    ref = _ref(g)
    for src in (rng.permutation(n)[: n // 2], rng.integers(0, n, n), np.array([3, 3, 7, 3])):
        D, run = _cells(g, 8, sources=src)
        assert run["strategy"] == "cells"
        assert_allclose(D, ref[src], rtol=RTOL, atol=0)


def test_paths_that_do_not_apply_use_plain_dijkstra(graphs):
    g = graphs["2d"]
    ref = _ref(g)
    tg = np.arange(0, g.n_nodes, 3)
    D, run = _cells(g, 16, targets=tg)
    assert_allclose(D, ref[:, tg], rtol=RTOL, atol=0)
    assert run["strategy"] == "dijkstra"
    D, P, run = _cells(g, 16, return_predecessors=True)
    assert_allclose(D, ref, rtol=RTOL, atol=0)
    assert run["strategy"] == "dijkstra"


def test_automatic_decision():
    g2 = _knn(3000, 2, k=10, seed=2)
    lay = g2.search_cache
    c = C.choose(lay, 3000)
    assert c is not None and c.m in C.CELL_SIZES
    assert c.hub_fraction < 0.4
    # few sources, or a high-dimensional graph (hub fraction near 1): plain Dijkstra
    assert C.choose(lay, 100) is None
    g8 = _knn(3000, 8, k=10, seed=2)
    lay8 = g8.search_cache
    assert C.choose(lay8, 3000) is None
    assert min(C.cover(lay8, m).hub_fraction for m in C.CELL_SIZES) > 0.5
    # small graphs: plain Dijkstra
    assert C.choose(_knn(200, 2).search_cache, 200) is None
    # the automatic choice on a 2-D all-pairs call: the cells path, same result as scipy
    src = np.arange(0, 3000, 2)[::-1]
    D, run = g2.distances(src, return_stats=True)
    assert run["strategy"] == "cells"
    assert_allclose(D, _ref(g2, indices=src), rtol=RTOL, atol=0)


def test_hub_cover_covers_every_crossing_edge(graphs):
    for g in graphs.values():
        indptr, indices, _ = g.search_cache.csr()
        n = len(indptr) - 1
        u = np.repeat(np.arange(n), np.diff(indptr))
        for m in (1, 3, 16, 64, n + 5):
            hub = A.hub_cover(indptr, indices, m)
            cross = (u // m) != (indices // m)
            assert np.all(hub[u[cross]] | hub[indices[cross]])
            if m > n:
                assert not hub.any()
            # exits: exactly the hubs a non-hub of the cell points to
            eptr, enodes = A.cell_exits(indptr, indices, hub, m)
            c = (n - 1) // m // 2
            sel = (u // m == c) & ~hub[u] & hub[indices]
            assert_array_equal(enodes[eptr[c]:eptr[c + 1]], np.unique(indices[sel]))


def test_empty_and_tiny_graphs():
    W = sp.csr_array((np.array([1.0, 0.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    g = gg.GeodesicGraph.from_scipy(W, np.zeros((3, 2)))
    assert_allclose(_cells(g, 4)[0], _ref(g), rtol=RTOL, atol=0)
    assert_allclose(_cells(g, 1)[0], _ref(g), rtol=RTOL, atol=0)


def test_strategy_dijkstra_and_bad_options(graphs):
    g = graphs["2d"]
    D, run = g.distances(strategy="dijkstra", return_stats=True)
    assert run == {"strategy": "dijkstra"}
    assert_allclose(D, _ref(g), rtol=RTOL, atol=0)
    # the cells strategy gives the same numbers (not bitwise: other sums of the same paths)
    assert_allclose(_cells(g, 32)[0], D, rtol=RTOL, atol=0)
    for bad in ({"strategy": "hubs"}, {"cell_size": 0}, {"cell_size": 2.5}):
        with pytest.raises(gg.exceptions.InvalidInputError, match=next(iter(bad))):
            g.distances(**bad)
