"""Cells-and-hubs all-pairs (graphgeo.kernels.apsp via distances()) against scipy.sparse.csgraph."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg
from graphgeo import search as S
from graphgeo.kernels import apsp as A

RTOL = 1e-12


@pytest.fixture
def cells(monkeypatch):
    """Set the cells switches for one test: cells(m) forces cell size m (None: automatic)."""

    def set_(m=None, on=True):
        monkeypatch.setattr(S, "CELLS", on)
        monkeypatch.setattr(S, "CELL_SIZE", m)

    return set_


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
def test_all_pairs_match_scipy(graphs, cells, name, m):
    g = graphs[name]
    cells(m)
    D = g.distances()
    run = S.last_cells_run
    assert run is not None and run["m"] == m
    assert_allclose(D, _ref(g), rtol=RTOL, atol=0)
    if name == "clusters":
        assert np.isinf(D).any()


def test_zero_weight_edges_are_exercised(graphs):
    g = graphs["2d"]
    assert (g.weights.data == 0).any()


@pytest.mark.parametrize("m", [16, 64])
def test_limit_is_exact(graphs, cells, m):
    g = graphs["2d"]
    cells(m)
    for limit in (0.0, 0.3, 1.0):
        S.last_cells_run = None
        D = g.distances(limit=limit)
        assert S.last_cells_run is not None
        assert_allclose(D, _ref(g, limit=limit), rtol=RTOL, atol=0)


def test_float32_and_memmap_outputs(graphs, cells, tmp_path):
    g = graphs["2d"]
    n = g.n_nodes
    cells(32)
    ref = _ref(g)
    D32 = g.distances(dtype=np.float32)
    assert D32.dtype == np.float32
    assert_allclose(D32, ref.astype(np.float32), rtol=1e-6, atol=0)
    mm = np.lib.format.open_memmap(tmp_path / "D.npy", mode="w+", dtype=np.float32, shape=(n, n))
    assert g.distances(out=mm) is mm
    assert_allclose(np.load(tmp_path / "D.npy"), ref.astype(np.float32), rtol=1e-6, atol=0)
    mm64 = np.lib.format.open_memmap(tmp_path / "D64.npy", mode="w+", dtype=np.float64, shape=(n, n))
    g.distances(out=mm64)
    assert_allclose(np.load(tmp_path / "D64.npy"), ref, rtol=RTOL, atol=0)
    # a copy-on-write map keeps its rows in memory (never dropped)
    cow = np.memmap(tmp_path / "D64.npy", mode="c", dtype=np.float64, shape=(n, n),
                    offset=mm64.offset)
    cow[:] = -1.0
    g.distances(out=cow)
    assert_allclose(np.asarray(cow), ref, rtol=RTOL, atol=0)


def test_small_hub_budget_groups_cells_and_keeps_results(graphs, cells, monkeypatch):
    g = graphs["2d"]
    n = g.n_nodes
    cells(16)
    exits = np.diff(S._cells(S._layout(g), 16).eptr).max()
    monkeypatch.setattr(S, "_HUB_BYTES", 8 * n * (int(exits) + 10))
    D = g.distances()
    assert S.last_cells_run["groups"] > 1
    assert_allclose(D, _ref(g), rtol=RTOL, atol=0)
    # a budget below one cell's hub rows: plain Dijkstra, same result
    monkeypatch.setattr(S, "_HUB_BYTES", 8 * n * 2)
    S.last_cells_run = None
    D = g.distances()
    assert S.last_cells_run is None
    assert_allclose(D, _ref(g), rtol=RTOL, atol=0)


def test_source_subsets_with_repeats(graphs, cells):
    g = graphs["clusters"]
    n = g.n_nodes
    rng = np.random.default_rng(5)
    cells(8)
    ref = _ref(g)
    for src in (rng.permutation(n)[: n // 2], rng.integers(0, n, n), np.array([3, 3, 7, 3])):
        S.last_cells_run = None
        D = g.distances(src)
        assert S.last_cells_run is not None
        assert_allclose(D, ref[src], rtol=RTOL, atol=0)


def test_paths_that_do_not_apply_use_plain_dijkstra(graphs, cells):
    g = graphs["2d"]
    cells(16)
    ref = _ref(g)
    S.last_cells_run = None
    tg = np.arange(0, g.n_nodes, 3)
    assert_allclose(g.distances(targets=tg), ref[:, tg], rtol=RTOL, atol=0)
    D, P = g.distances(return_predecessors=True)
    assert_allclose(D, ref, rtol=RTOL, atol=0)
    assert S.last_cells_run is None


def test_automatic_decision(monkeypatch):
    monkeypatch.setattr(S, "CELLS", None)
    monkeypatch.setattr(S, "CELL_SIZE", None)
    g2 = _knn(3000, 2, k=10, seed=2)
    lay = S._layout(g2)
    c = S._choose_cells(lay, 3000)
    assert c is not None and c.m in S.CELL_SIZES
    assert c.hub_fraction < 0.4
    # few sources, or a high-dimensional graph (hub fraction near 1): plain Dijkstra
    assert S._choose_cells(lay, 100) is None
    g8 = _knn(3000, 8, k=10, seed=2)
    lay8 = S._layout(g8)
    assert S._choose_cells(lay8, 3000) is None
    assert min(S._cells(lay8, m).hub_fraction for m in S.CELL_SIZES) > 0.5
    # small graphs: plain Dijkstra
    assert S._choose_cells(S._layout(_knn(200, 2)), 200) is None
    # the automatic choice on a 2-D all-pairs call: the cells path, same result as scipy
    S.last_cells_run = None
    src = np.arange(0, 3000, 2)[::-1]
    D = g2.distances(src)
    assert S.last_cells_run is not None
    assert_allclose(D, _ref(g2, indices=src), rtol=RTOL, atol=0)


def test_hub_cover_covers_every_crossing_edge(graphs):
    for g in graphs.values():
        indptr, indices, _ = S._layout(g).csr()
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


def test_empty_and_tiny_graphs(cells):
    cells(4)
    W = sp.csr_array((np.array([1.0, 0.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    g = gg.GeodesicGraph.from_scipy(W, np.zeros((3, 2)))
    assert_allclose(g.distances(), _ref(g), rtol=RTOL, atol=0)
    cells(1)
    assert_allclose(g.distances(), _ref(g), rtol=RTOL, atol=0)
