"""GeodesicGraph: construction, duplicates, connectivity, bad input, persistence and interop."""

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import connected_components
from scipy.sparse.csgraph import dijkstra as sp_dijkstra
from scipy.spatial import cKDTree

import graphgeo as gg
from graphgeo.costs import segment_costs
from graphgeo.exceptions import (
    DisconnectedGraphError,
    DisconnectedGraphWarning,
    DuplicatePointsWarning,
    InvalidInputError,
)

RTOL = 1e-12


# ------------------------------------------------------------------ helpers
def knn_union_edges(points, k):
    """Directed edge set {(i, j), (j, i) : j among the k nearest neighbours of i} via cKDTree."""
    _, idx = cKDTree(points).query(points, k=k + 1)
    rows = np.repeat(np.arange(len(points)), k)
    cols = idx[:, 1:].ravel()
    return {(int(a), int(b)) for a, b in zip(rows, cols)} | {(int(b), int(a)) for a, b in zip(rows, cols)}


def edge_set(W):
    coo = W.tocoo()
    return set(zip(coo.row.tolist(), coo.col.tolist()))


def quiet_build(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gg.exceptions.GraphGeoWarning)
        return gg.GeodesicGraph.build(*args, **kwargs)


def rhvae_metric(rng, d=2, K=6):
    c = rng.normal(size=(K, d))
    L = np.tril(rng.normal(size=(K, d, d)) * 0.3)
    L[:, np.arange(d), np.arange(d)] = np.abs(L[:, np.arange(d), np.arange(d)]) + 0.5
    return gg.RHVAEMetric.from_cholesky(c, L, temperature=1.2, lbd=0.05)


@pytest.fixture(scope="module")
def pts2():
    return np.random.default_rng(0).normal(size=(600, 2))


@pytest.fixture(scope="module")
def euclid(pts2):
    return gg.GeodesicGraph.build(pts2, gg.Euclidean(2), k=7, connect="raise")


@pytest.fixture(scope="module")
def randers_rbf(pts2):
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(8, 2))
    field = gg.RBFField(centers, rng.normal(size=(8, 2)) * 0.1, bandwidth=0.8)
    metric = gg.Randers(gg.Euclidean(2), field)
    return gg.GeodesicGraph.build(pts2, metric, k=7, connect="raise")


# ------------------------------------------------------------------ build
def test_weights_are_directed_csr(euclid, pts2):
    W = euclid.weights
    assert isinstance(W, sp.csr_array)
    assert W.shape == (600, 600) and W.dtype == np.float64
    assert W.has_sorted_indices
    assert euclid.n_nodes == 600 and euclid.n_edges == W.nnz
    assert np.all(np.isfinite(W.data)) and np.all(W.data > 0)
    assert W.diagonal().max() == 0 and not np.any(W.tocoo().row == W.tocoo().col)  # no self loops
    assert_array_equal(euclid.points, pts2)
    assert euclid.k == 7 and euclid.dim == 2
    assert "n_nodes=600" in repr(euclid) and "Euclidean" in repr(euclid)


def test_edges_are_union_of_knn_relations(euclid, pts2):
    assert edge_set(euclid.weights) == knn_union_edges(pts2, 7)


def test_euclidean_weights_are_lengths(euclid, pts2):
    coo = euclid.weights.tocoo()
    length = np.linalg.norm(pts2[coo.row] - pts2[coo.col], axis=1)
    assert_allclose(coo.data, length, rtol=RTOL, atol=0)
    # [i, j] = cost i -> j, both directions for every kNN pair
    _, idx = cKDTree(pts2).query(pts2, k=8)
    for i in (0, 17, 599):
        for j in idx[i, 1:]:
            assert_allclose(euclid.weights[i, j], np.linalg.norm(pts2[j] - pts2[i]), rtol=RTOL)
            assert_allclose(euclid.weights[j, i], euclid.weights[i, j], rtol=0, atol=0)
    # A* scale is the exact Euclidean bound (up to its safety margin)
    assert_allclose(euclid.heuristic_scale, 1.0, rtol=1e-8)


def test_randers_weights_directed(randers_rbf, pts2):
    W = randers_rbf.weights
    assert edge_set(W) == knn_union_edges(pts2, 7)
    asym = W - W.T
    assert abs(asym).max() > 1e-3  # direction-aware
    # forward + backward = 2 R = twice the Euclidean length for a Euclidean base
    coo = W.tocoo()
    back = np.asarray(W[coo.col, coo.row]).ravel()
    length = np.linalg.norm(pts2[coo.row] - pts2[coo.col], axis=1)
    assert_allclose(coo.data + back, 2 * length, rtol=1e-12)
    # and forward - backward = 2 A, with A from segment_costs
    R, A = segment_costs(randers_rbf.metric, pts2, coo.row, coo.col)
    assert_allclose(coo.data, R + A, rtol=1e-12)
    assert_allclose(back, R - A, rtol=1e-12)


def test_constant_randers_weights_closed_form(pts2):
    w = np.array([0.3, -0.4])
    g = gg.GeodesicGraph.build(pts2, gg.Randers(gg.Euclidean(2), w), k=5, connect="ignore")
    coo = g.weights.tocoo()
    delta = pts2[coo.col] - pts2[coo.row]
    assert_allclose(coo.data, np.linalg.norm(delta, axis=1) + delta @ w, rtol=1e-12, atol=1e-14)


def test_knn_auto_equals_exact(pts2, euclid):
    g = gg.GeodesicGraph.build(pts2, gg.Euclidean(2), k=7, knn="exact")
    assert edge_set(g.weights) == edge_set(euclid.weights)
    assert_allclose(g.weights.toarray(), euclid.weights.toarray(), rtol=0, atol=0)


def test_knn_exact_high_dim_brute_force():
    """d > 10: the blocked brute-force path must agree with a kd-tree."""
    pts = np.random.default_rng(3).normal(size=(300, 12))
    g = gg.GeodesicGraph.build(pts, gg.Euclidean(12), k=6, knn="exact", connect="ignore")
    assert edge_set(g.weights) == knn_union_edges(pts, 6)


def test_build_from_torch_and_lists(pts2, euclid):
    torch = pytest.importorskip("torch")
    g = gg.GeodesicGraph.build(torch.tensor(pts2), gg.Euclidean(2), k=7)
    assert_allclose(g.weights.toarray(), euclid.weights.toarray(), rtol=0, atol=0)
    g2 = gg.GeodesicGraph.build(pts2[:50].tolist(), gg.Euclidean(2), k=3, connect="ignore")
    assert g2.n_nodes == 50


@pytest.mark.slow
def test_knn_exact_vs_pynndescent():
    pytest.importorskip("pynndescent")
    pts = np.random.default_rng(4).normal(size=(400, 3))
    ge = gg.GeodesicGraph.build(pts, gg.Euclidean(3), k=5, knn="exact", connect="ignore")
    gp = gg.GeodesicGraph.build(pts, gg.Euclidean(3), k=5, knn="pynndescent", seed=0,
                                connect="ignore")
    ee, ep = edge_set(ge.weights), edge_set(gp.weights)
    recall = len(ee & ep) / len(ee)
    assert recall > 0.99
    common = sorted(ee & ep)
    r, c = np.array(common).T
    assert_allclose(np.asarray(gp.weights[r, c]).ravel(), np.asarray(ge.weights[r, c]).ravel(),
                    rtol=RTOL)


# ------------------------------------------------------------- duplicates
def test_duplicates_tied_at_zero_cost():
    rng = np.random.default_rng(5)
    base = rng.normal(size=(200, 2))
    pts = np.vstack([base, base[[3, 3, 50]], base[:1]])  # 200, 201 -> 3; 202 -> 50; 203 -> 0
    metric = gg.Randers(gg.Euclidean(2), np.array([0.2, 0.1]))
    with pytest.warns(DuplicatePointsWarning, match="4 exact duplicate rows"):
        g = gg.GeodesicGraph.build(pts, metric, k=6)
    W = g.weights
    assert g.n_nodes == 204
    assert not np.any(np.isnan(W.data)) and np.all(np.isfinite(W.data))
    assert_array_equal(g.representative[[200, 201, 202, 203, 3, 7]], [3, 3, 50, 0, 3, 7])
    struct = edge_set(W)
    for dup, rep in [(200, 3), (201, 3), (202, 50), (203, 0)]:
        assert (dup, rep) in struct and (rep, dup) in struct  # explicit zero-cost edges
        assert W[dup, rep] == 0.0 and W[rep, dup] == 0.0
    D = g.distances([3, 200, 201, 50, 202], [3, 200, 201, 50, 202])
    assert_allclose(D[:3, :3], 0.0, rtol=0, atol=0)
    assert_allclose(D[3:, 3:], 0.0, rtol=0, atol=0)
    assert_allclose(D[:3, 3:], D[0, 3], rtol=0, atol=1e-15)  # same cost from any copy
    assert D[0, 3] != D[3, 0]  # still direction-aware
    # a copy reaches everything its original reaches, at the same cost
    ref = sp_dijkstra(W, directed=True, indices=[3, 200])
    assert_allclose(ref[0], ref[1], rtol=0, atol=1e-15)
    assert np.all(np.isfinite(ref))
    p = g.shortest_path(200, 201)
    assert p.length == 0.0


def test_all_duplicates_refused():
    with pytest.raises(InvalidInputError, match="single point"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gg.GeodesicGraph.build(np.ones((5, 2)), gg.Euclidean(2), k=2)


# ------------------------------------------------------------ connectivity
@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(6)
    return np.vstack([rng.normal(size=(60, 2)) * 0.2 + c for c in ([0, 0], [10, 0], [0, 10])])


def test_disconnected_default_bridges(clusters):
    with pytest.warns(DisconnectedGraphWarning, match="3 connected components"):
        g = gg.GeodesicGraph.build(clusters, gg.Euclidean(2), k=4)
    ncomp, _ = connected_components(g.weights, directed=True, connection="strong")
    assert ncomp == 1
    D = g.distances([0], [70, 130])
    assert np.all(np.isfinite(D)) and np.all(D > 9)
    # the bridges are extra edges on top of the kNN union, with Euclidean costs
    extra = edge_set(g.weights) - knn_union_edges(clusters, 4)
    assert 4 <= len(extra) <= 6  # two bridge pairs (three clusters), maybe a third
    for i, j in extra:
        assert_allclose(g.weights[i, j], np.linalg.norm(clusters[i] - clusters[j]), rtol=RTOL)
    assert_allclose(g.heuristic_scale, 1.0, rtol=1e-8)


def test_disconnected_raise(clusters):
    with pytest.raises(DisconnectedGraphError, match=r"4-NN graph has 3 .*increase k"):
        gg.GeodesicGraph.build(clusters, gg.Euclidean(2), k=4, connect="raise")
    assert issubclass(DisconnectedGraphError, ValueError)


def test_disconnected_ignore(clusters):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = gg.GeodesicGraph.build(clusters, gg.Euclidean(2), k=4, connect="ignore")
    assert connected_components(g.weights, directed=True, connection="strong")[0] == 3
    assert np.isinf(g.distances([0], [70])[0, 0])
    with pytest.raises(gg.NoPathError):
        g.shortest_path(0, 70)


# ------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def good():
    return np.random.default_rng(8).normal(size=(30, 2))


@pytest.mark.parametrize("value, where", [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")])
def test_nonfinite_points(good, value, where):
    bad = good.copy()
    bad[4, 1] = value
    with pytest.raises(InvalidInputError, match=rf"points contains NaN or Inf \(first at index \(4, 1\)"):
        gg.GeodesicGraph.build(bad, gg.Euclidean(2), k=3)
    assert np.isfinite(good).all()  # the caller's array is untouched


@pytest.mark.parametrize("shape", [(30,), (30, 2, 1), (2, 3, 5)])
def test_points_wrong_ndim(shape):
    with pytest.raises(InvalidInputError, match="points must be a 2-D array"):
        gg.GeodesicGraph.build(np.ones(shape), gg.Euclidean(2), k=3)


def test_points_dim_mismatch(good):
    with pytest.raises(InvalidInputError, match=r"points has dimension 2 but the metric is defined on R\^3"):
        gg.GeodesicGraph.build(good, gg.Euclidean(3), k=3)


@pytest.mark.parametrize("k, msg", [
    (30, r"k must be in \[1, 29\]; received 30"),
    (31, r"k must be in \[1, 29\]"),
    (0, r"k must be in \[1, 29\]; received 0"),
    (-2, r"k must be in"),
    (2.5, "k must be an integer; received float"),
    (3.0, "k must be an integer"),
    (True, "k must be an integer; received bool"),
    ("5", "k must be an integer"),
    (None, "k must be an integer"),
])
def test_bad_k(good, k, msg):
    with pytest.raises(InvalidInputError, match=msg):
        gg.GeodesicGraph.build(good, gg.Euclidean(2), k=k)


def test_numpy_int_k(good):
    g = gg.GeodesicGraph.build(good, gg.Euclidean(2), k=np.int64(29))
    assert g.k == 29 and g.n_edges == 30 * 29  # complete graph


@pytest.mark.parametrize("pts", [np.zeros((1, 2)), np.zeros((0, 2)), np.zeros(2)])
def test_too_few_points(pts):
    with pytest.raises(InvalidInputError, match=r"points must hold at least 2 point"):
        gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=1)


@pytest.mark.parametrize("metric", [None, "euclidean", np.eye(2), lambda z: z])
def test_non_metric(good, metric):
    with pytest.raises(InvalidInputError, match="metric must be a graphgeo metric"):
        gg.GeodesicGraph.build(good, metric, k=3)


@pytest.mark.parametrize("kw, name", [
    ({"knn": "faiss"}, "knn"), ({"knn": None}, "knn"), ({"knn": "EXACT"}, "knn"),
    ({"connect": "yes"}, "connect"), ({"connect": True}, "connect"),
    ({"device": "tpu"}, "device"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
    ({"quadrature": 0}, "quadrature"),
])
def test_bad_options(good, kw, name):
    with pytest.raises(InvalidInputError, match=rf"^{name} must be"):
        gg.GeodesicGraph.build(good, gg.Euclidean(2), k=3, **kw)


def test_string_points():
    with pytest.raises(InvalidInputError, match="points must be array-like of numbers"):
        gg.GeodesicGraph.build([["a", "b"], ["c", "d"]], gg.Euclidean(2), k=1)


# ---------------------------------------------------------- save / load
def _assert_same_graph(g, h):
    assert isinstance(h.weights, sp.csr_array)
    assert_array_equal(h.points, g.points)
    assert_array_equal(h.weights.indptr, g.weights.indptr)
    assert_array_equal(h.weights.indices, g.weights.indices)
    assert_allclose(h.weights.data, g.weights.data, rtol=0, atol=0)
    assert_array_equal(h.representative, g.representative)
    assert h.heuristic_scale == g.heuristic_scale
    assert h.k == g.k and h.quadrature == g.quadrature


def _assert_same_metric_costs(m1, m2, pts):
    rng = np.random.default_rng(0)
    ia, ib = rng.integers(len(pts), size=(2, 200))
    ia, ib = ia[ia != ib], ib[ia != ib]
    R1, A1 = segment_costs(m1, pts, ia, ib)
    R2, A2 = segment_costs(m2, pts, ia, ib)
    assert_allclose(R2, R1, rtol=RTOL)
    assert_allclose(A2, A1, rtol=RTOL, atol=1e-15)


def test_save_load_euclidean(euclid, tmp_path):
    path = tmp_path / "g.npz"
    euclid.save(path)
    h = gg.GeodesicGraph.load(path)
    _assert_same_graph(euclid, h)
    assert isinstance(h.metric, gg.Euclidean) and h.metric.dim == 2
    assert_allclose(h.shortest_path(0, 100).length, euclid.shortest_path(0, 100).length, rtol=0)


def test_save_load_rhvae(tmp_path):
    rng = np.random.default_rng(9)
    metric = rhvae_metric(rng)
    pts = rng.normal(size=(150, 2))
    g = quiet_build(pts, metric, k=6, quadrature=7)
    g.save(tmp_path / "rh.npz")
    h = gg.GeodesicGraph.load(tmp_path / "rh.npz")
    _assert_same_graph(g, h)
    assert h.quadrature == 7
    assert isinstance(h.metric, gg.CentroidCometric)
    _assert_same_metric_costs(metric, h.metric, pts)


def test_save_load_randers_rbf(randers_rbf, tmp_path):
    randers_rbf.save(tmp_path / "r.npz")
    h = gg.GeodesicGraph.load(tmp_path / "r.npz")
    _assert_same_graph(randers_rbf, h)
    assert isinstance(h.metric, gg.Randers) and isinstance(h.metric.omega, gg.RBFField)
    assert_array_equal(h.metric.omega.centers, randers_rbf.metric.omega.centers)
    _assert_same_metric_costs(randers_rbf.metric, h.metric, randers_rbf.points)
    # a graph rebuilt from the loaded metric has the same weights
    again = gg.GeodesicGraph.build(h.points, h.metric, k=7)
    assert_allclose(again.weights.toarray(), randers_rbf.weights.toarray(), rtol=1e-14, atol=0)


def test_save_load_duplicates_and_scipy_graph(tmp_path):
    pts = np.random.default_rng(10).normal(size=(40, 2))
    pts = np.vstack([pts, pts[:2]])
    with pytest.warns(DuplicatePointsWarning):
        g = gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=4)
    g.save(tmp_path / "d.npz")
    h = gg.GeodesicGraph.load(tmp_path / "d.npz")
    _assert_same_graph(g, h)
    assert h.distances([40], [0])[0, 0] == 0.0  # explicit zero edges survive
    # a metric-less graph round-trips too
    s = gg.GeodesicGraph.from_scipy(g.weights, pts)
    s.save(tmp_path / "s.npz")
    t = gg.GeodesicGraph.load(tmp_path / "s.npz")
    assert t.metric is None and t.k is None
    assert_allclose(t.weights.toarray(), g.weights.toarray(), rtol=0, atol=0)


def test_save_callable_metric_warns(tmp_path, good):
    metric = gg.Randers(gg.Euclidean(2), lambda z: 0.1 * np.tanh(z))
    g = gg.GeodesicGraph.build(good, metric, k=5, connect="ignore")
    with pytest.warns(UserWarning, match="holds callables and is not saved"):
        g.save(tmp_path / "c.npz")
    assert gg.GeodesicGraph.load(tmp_path / "c.npz").metric is None
    h = gg.GeodesicGraph.load(tmp_path / "c.npz", metric=metric)
    assert h.metric is metric
    assert_allclose(h.weights.toarray(), g.weights.toarray(), rtol=0, atol=0)


def test_load_refuses_pickle(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, format_version=np.array(1), points=np.array([{"x": 1}], dtype=object))
    with pytest.raises(InvalidInputError, match="pickled objects, which are refused"):
        gg.GeodesicGraph.load(path)


def test_load_refuses_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with pytest.raises(InvalidInputError, match="not a graphgeo graph file: missing"):
        gg.GeodesicGraph.load(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("not a numpy file")
    with pytest.raises(InvalidInputError, match="not a graphgeo graph file"):
        gg.GeodesicGraph.load(tmp_path / "text.npz")


# ---------------------------------------------------------------- interop
def test_networkx_round_trip(randers_rbf):
    G = randers_rbf.to_networkx()
    assert isinstance(G, nx.DiGraph)
    assert G.number_of_nodes() == randers_rbf.n_nodes
    assert G.number_of_edges() == randers_rbf.n_edges
    i, j = map(int, np.argwhere(randers_rbf.weights.toarray() > 0)[0])
    assert_allclose(G[i][j]["weight"], randers_rbf.weights[i, j], rtol=0)
    assert_array_equal(G.nodes[5]["pos"], randers_rbf.points[5])
    h = gg.GeodesicGraph.from_networkx(G, metric=randers_rbf.metric)
    assert_array_equal(h.points, randers_rbf.points)
    assert_allclose(h.weights.toarray(), randers_rbf.weights.toarray(), rtol=0, atol=0)
    assert edge_set(h.weights) == edge_set(randers_rbf.weights)
    assert_allclose(h.heuristic_scale, randers_rbf.heuristic_scale, rtol=1e-15)
    # networkx agrees on a directed distance
    assert_allclose(nx.shortest_path_length(G, 0, 300, weight="weight"),
                    randers_rbf.shortest_path(0, 300).length, rtol=RTOL)


def test_networkx_keeps_zero_cost_edges():
    pts = np.random.default_rng(12).normal(size=(30, 2))
    pts = np.vstack([pts, pts[:1]])
    with pytest.warns(DuplicatePointsWarning):
        g = gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=4, connect="ignore")
    for G in (g.to_networkx(), g.to_networkx().to_undirected()):
        h = gg.GeodesicGraph.from_networkx(G)
        assert edge_set(h.weights) == edge_set(g.weights)
        assert h.distances([30], [0])[0, 0] == 0.0


def test_from_networkx_undirected_and_points():
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 2.0)])
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    g = gg.GeodesicGraph.from_networkx(G, points=pts)
    assert_allclose(g.weights.toarray(), [[0, 1, 0], [1, 0, 2], [0, 2, 0]], rtol=0)
    assert_allclose(g.shortest_path(2, 0).length, 3.0, rtol=RTOL)


def test_from_networkx_bad_input():
    G = nx.DiGraph()
    G.add_weighted_edges_from([("a", "b", 1.0)])
    with pytest.raises(InvalidInputError, match="nodes must be the integers 0..N-1"):
        gg.GeodesicGraph.from_networkx(G, points=np.zeros((2, 2)))
    H = nx.DiGraph()
    H.add_weighted_edges_from([(0, 1, 1.0)])
    with pytest.raises(InvalidInputError, match="no 'pos' attribute; pass points="):
        gg.GeodesicGraph.from_networkx(H)


def test_from_scipy_round_trip_and_copy(euclid):
    W = euclid.weights.copy()
    g = gg.GeodesicGraph.from_scipy(W, euclid.points, metric=euclid.metric)
    assert_allclose(g.weights.toarray(), euclid.weights.toarray(), rtol=0, atol=0)
    assert not np.shares_memory(g.weights.data, W.data)
    # unsorted, duplicated COO input: summed and sorted without touching the caller's matrix
    coo = sp.coo_array((np.array([1.0, 2.0, 0.5]), (np.array([1, 0, 1]), np.array([0, 1, 0]))),
                       shape=(2, 2))
    h = gg.GeodesicGraph.from_scipy(coo, np.array([[0.0, 0.0], [1.0, 0.0]]))
    assert_allclose(h.weights.toarray(), [[0, 2], [1.5, 0]], rtol=0)
    assert coo.nnz == 3
    # a csr matrix with unsorted indices stays unsorted for the caller
    U = sp.csr_array((np.array([3.0, 1.0]), np.array([2, 1]), np.array([0, 2, 2, 2])), shape=(3, 3))
    gg.GeodesicGraph.from_scipy(U, np.zeros((3, 1)) + np.arange(3)[:, None])
    assert_array_equal(U.indices, [2, 1])
    assert_array_equal(U.data, [3.0, 1.0])


@pytest.mark.parametrize("W, msg", [
    (sp.csr_array(np.ones((3, 4))), r"weights must have shape \(3, 3\).*\(3, 4\)"),
    (sp.csr_array(np.ones((4, 4))), r"weights must have shape \(3, 3\)"),
    (sp.csr_array(np.array([[0, -1.0, 0], [1, 0, 0], [0, 1, 0]])), "non-negative costs; received min -1"),
    (sp.csr_array(np.array([[0, np.nan, 0], [1, 0, 0], [0, 1, 0]])), "1 non-finite"),
    (sp.csr_array(np.array([[0, np.inf, 0], [1, 0, 0], [0, 1, 0]])), "finite, non-negative"),
    (np.ones((3, 3)), "weights must be a scipy.sparse matrix or array; received ndarray"),
])
def test_from_scipy_validation(W, msg):
    with pytest.raises(InvalidInputError, match=msg):
        gg.GeodesicGraph.from_scipy(W, np.arange(6.0).reshape(3, 2))


def test_from_scipy_bad_points():
    W = sp.csr_array(np.ones((3, 3)))
    with pytest.raises(InvalidInputError, match="points contains NaN"):
        gg.GeodesicGraph.from_scipy(W, np.array([[0.0], [np.nan], [1.0]]))
    with pytest.raises(InvalidInputError, match="points has dimension 1 but the metric"):
        gg.GeodesicGraph.from_scipy(W, np.zeros((3, 1)), metric=gg.Euclidean(2))


def test_save_load_without_suffix_and_file_object(euclid, tmp_path):
    base = str(tmp_path / "plain")
    euclid.save(base)  # numpy appends .npz
    _assert_same_graph(euclid, gg.GeodesicGraph.load(base))
    with open(tmp_path / "fh.npz", "wb") as fh:
        euclid.save(fh)
    with open(tmp_path / "fh.npz", "rb") as fh:
        _assert_same_graph(euclid, gg.GeodesicGraph.load(fh))


@pytest.mark.parametrize("field, value, msg", [
    ("indices", 10**6, "malformed weight matrix"),
    ("indices", -1, "malformed weight matrix"),
    ("data", -1.0, "non-finite or negative weights"),
    ("data", np.nan, "non-finite or negative weights"),
])
def test_load_refuses_damaged_files(euclid, tmp_path, field, value, msg):
    euclid.save(tmp_path / "ok.npz")
    with np.load(tmp_path / "ok.npz") as f:
        arrays = {k: f[k].copy() for k in f.files}
    arrays[field] = arrays[field].astype(np.float64 if field == "data" else np.int64)
    arrays[field][3] = value
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InvalidInputError, match=msg):
        gg.GeodesicGraph.load(tmp_path / "bad.npz")


def _component_mst_length(points, labels):
    """Reference: total length of the MST over components with nearest-pair distances."""
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import cdist

    comps = np.unique(labels)
    m = len(comps)
    C = np.zeros((m, m))
    for a in range(m):
        for b in range(a + 1, m):
            C[a, b] = cdist(points[labels == comps[a]], points[labels == comps[b]]).min()
    return minimum_spanning_tree(C).sum()


@pytest.mark.parametrize("seed", [32, 110, 115, 136, 7, 8])
def test_bridges_are_nearest_pairs(seed):
    """Mixed-density clusters: the bridges form the exact Euclidean MST between components
    (dense blobs next to each other defeat a fixed-size neighbour candidate search)."""
    from graphgeo.graph import _bridges
    from graphgeo.knn import knn

    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(rng.integers(2, 8)):
        m, s = rng.integers(2, 200), 10 ** rng.uniform(-3, 0)
        parts.append(rng.normal(size=(m, 2)) * s + rng.uniform(-5, 5, size=2))
    pts = np.vstack(parts)
    n, k = len(pts), 4
    nbr, _ = knn(pts, k)
    A = sp.csr_array((np.ones(n * k), (np.repeat(np.arange(n), k), nbr.ravel())), shape=(n, n))
    ncomp, labels = connected_components(A + A.T, directed=False)
    if ncomp == 1:
        pytest.skip("connected draw")
    bi, bj = _bridges(pts, np.arange(n), labels)
    assert len(bi) == ncomp - 1
    assert_allclose(np.linalg.norm(pts[bi] - pts[bj], axis=1).sum(),
                    _component_mst_length(pts, labels), rtol=1e-12)
    # and through build: bridged, strongly connected
    with pytest.warns(DisconnectedGraphWarning):
        g = gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=k)
    assert connected_components(g.weights, directed=True, connection="strong")[0] == 1


def test_save_load_keeps_explicit_quadrature(tmp_path):
    pts = np.random.default_rng(0).normal(size=(60, 2))
    metric = gg.Randers(gg.Euclidean(2), np.array([0.1, 0.0]))
    for q in ("adaptive", 3, None):
        g = gg.GeodesicGraph.build(pts, metric, k=5, quadrature=q)
        g.save(tmp_path / "g.npz")
        h = gg.GeodesicGraph.load(tmp_path / "g.npz")
        assert h.quadrature == g.quadrature
        assert (h.weights != g.weights).nnz == 0
