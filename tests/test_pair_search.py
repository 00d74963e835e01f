"""Single-pair queries: the bidirectional A* of shortest_path (graphgeo.kernels.bidirectional)
against scipy, with and without landmarks, the affine Randers bound, and the lazy landmark
trigger of landmarks="auto"."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg
from graphgeo import search as gs
from graphgeo.exceptions import InvalidInputError, NoPathError
from graphgeo.kernels import bidirectional as B
from graphgeo.metrics.randers import RBFField

# lengths are sums of at most a few hundred float64 weights of order 1
RTOL = 1e-12


def _random_graph(rng, n, density, zero_frac):
    """Random directed graph: weights unrelated to the points, some exact zeros, and sparse
    enough that some pairs are unreachable."""
    W = sp.random_array((n, n), density=density, rng=rng, format="csr")
    W.data = rng.uniform(0.05, 2.0, W.nnz)
    W.data[rng.random(W.nnz) < zero_frac] = 0.0
    W.setdiag(0)  # no self loops (an explicit zero stays an edge)
    W = sp.csr_array((W.data, W.indices, W.indptr), shape=(n, n))
    W.sort_indices()
    return gg.GeodesicGraph.from_scipy(W, rng.normal(size=(n, 2)))


def _check_path(g, p, s, t, ref):
    """p goes s -> t along graph edges and its length is both scipy's and its own weight sum."""
    assert p.nodes[0] == s and p.nodes[-1] == t
    W = g.weights.tocsr()
    total = 0.0
    for u, v in zip(p.nodes[:-1], p.nodes[1:]):
        row = slice(W.indptr[u], W.indptr[u + 1])
        hit = np.flatnonzero(W.indices[row] == v)
        assert len(hit) == 1, f"{u} -> {v} is not an edge"
        total += W.data[row][hit[0]]
    assert_allclose(p.length, ref, rtol=RTOL, atol=1e-14)
    assert p.length == total  # the path realises the reported length exactly


@pytest.fixture(scope="module")
def graphs():
    rng = np.random.default_rng(21)
    return [_random_graph(rng, n, dens, zf) for n, dens, zf in
            [(60, 0.05, 0.3), (200, 0.012, 0.2), (300, 0.03, 0.0), (120, 0.02, 0.5)]]


@pytest.mark.parametrize("landmarks", [False, True, "auto"])
def test_shortest_path_matches_scipy_on_random_graphs(graphs, landmarks):
    rng = np.random.default_rng(4)
    n_inf = n_ok = 0
    for g in graphs:
        n = g.n_nodes
        ref = dijkstra(g.weights, directed=True)
        for s, t in rng.integers(0, n, size=(150, 2)):
            s, t = int(s), int(t)
            if np.isinf(ref[s, t]):
                n_inf += 1
                with pytest.raises(NoPathError, match=f"node {t} cannot be reached from node {s}"):
                    g.shortest_path(s, t, landmarks=landmarks)
                continue
            n_ok += 1
            _check_path(g, g.shortest_path(s, t, landmarks=landmarks), s, t, ref[s, t])
        if landmarks is True:
            assert g.search_cache.landmarks is not None
    assert n_inf > 20 and n_ok > 200, "both reachable and unreachable pairs must be covered"


def test_kernel_limit_and_clean_workspace(graphs):
    """The kernel against scipy with limits; every call leaves its buffers clean."""
    rng = np.random.default_rng(9)
    for g in graphs:
        lay = g.search_cache
        n = lay.n_nodes
        lm = lay.get_landmarks()
        b, c, slack = lay.geometric_bound(g.heuristic_scale)
        pot = (lay.points, b, c, g.heuristic_scale, lm.table, max(slack, lm.slack))
        work = B.workspace(n)
        W = sp.csr_array((lay.data, lay.indices, lay.indptr), shape=(n, n))  # renumbered
        for limit in (np.inf, 1.0, 0.0):
            ref = dijkstra(W, directed=True, limit=limit)
            for s, t in rng.integers(0, n, size=(60, 2)):
                if s == t:
                    continue
                length, path, pops = B.pair(lay.csr(), lay.reverse(), int(s), int(t), pot, limit,
                                            4 * pot[-1], work)
                assert_allclose(length, ref[s, t], rtol=RTOL, atol=0)
                if np.isfinite(length):
                    assert path[0] == s and path[-1] == t and pops >= 1
                else:
                    assert len(path) == 0
                df, dr, _, _, seen, _, _, _, _, fpos, _, _, rpos, _ = work
                assert np.isinf(df).all() and np.isinf(dr).all() and not seen.any()
                assert (fpos == -1).all() and (rpos == -1).all()


def test_inconsistent_landmark_table_stays_exact(graphs):
    """Table entries off by up to 1e-13 relative (worse than the rounding of a real table):
    the estimates lose consistency, the margin of the stop test keeps the answer exact."""
    rng = np.random.default_rng(13)
    for g in graphs:
        lay = g.search_cache
        n = lay.n_nodes
        lm = lay.get_landmarks()
        table = lm.table * (1.0 + rng.uniform(-1e-13, 1e-13, lm.table.shape))
        big = float(np.max(lm.table[np.isfinite(lm.table)]))
        slack = 4e-13 * big
        pot = (lay.points, np.zeros(0), 0.0, 0.0, table, slack)
        W = sp.csr_array((lay.data, lay.indices, lay.indptr), shape=(n, n))
        ref = dijkstra(W, directed=True)
        work = B.workspace(n)
        for s, t in rng.integers(0, n, size=(200, 2)):
            if s != t:
                length = B.pair(lay.csr(), lay.reverse(), int(s), int(t), pot, np.inf,
                                4 * slack, work)[0]
                assert_allclose(length, ref[s, t], rtol=RTOL, atol=0)


def _rbf_randers_graph(n, dim, seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(size=(n, dim))
    field = RBFField(rng.uniform(size=(20, dim)), rng.normal(size=(20, dim)) * 0.25, 0.3,
                     max_norm=0.6)
    return gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(dim), field), k=10, seed=seed), rng


def test_affine_bound_follows_a_constant_one_form():
    rng = np.random.default_rng(2)
    omega = np.array([0.3, -0.1, 0.2])
    g = gg.GeodesicGraph.build(rng.uniform(size=(2000, 3)), gg.Randers(gg.Euclidean(3), omega),
                               k=8)
    lay = g.search_cache
    b, c, slack = lay.geometric_bound(g.heuristic_scale)
    assert_allclose(b, omega, atol=1e-9)
    assert_allclose(c, 1.0, rtol=1e-8)
    assert g.heuristic_scale < 0.7  # the plain scale misses the 1-form: about 1 - |omega|
    # consistent on every edge: w >= c |dz| + <b, dz>
    W = g.weights.tocoo()
    dz = g.points[W.col] - g.points[W.row]
    assert np.all(W.data >= c * np.linalg.norm(dz, axis=1) + dz @ b)
    assert 0 < slack < 1e-8
    # and it settles far fewer nodes than the Euclidean bound alone would
    s, t = rng.integers(0, 2000, size=(2, 40))
    ref = dijkstra(g.weights, directed=True, indices=s)[np.arange(40), t]
    got = [g.shortest_path(int(a), int(z), landmarks=False) for a, z in zip(s, t)]
    assert_allclose([p.length for p in got], ref, rtol=RTOL, atol=0)
    plain = [g.shortest_path(int(a), int(z), method="dijkstra").n_settled for a, z in zip(s, t)]
    assert sum(p.n_settled for p in got) * 5 < sum(plain)


def test_landmarks_auto_trigger_and_fewer_settled_nodes():
    """An RBF 1-form defeats the geometric bounds: after ALT_AUTO_QUERIES queries the table
    is built, and the same queries then settle far fewer nodes, with the same lengths."""
    g, rng = _rbf_randers_graph(6000, 3, 5)
    lay = g.search_cache
    pairs = rng.integers(0, g.n_nodes, size=(30, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    ref = dijkstra(g.weights, directed=True, indices=pairs[:, 0])[np.arange(len(pairs)),
                                                                    pairs[:, 1]]
    before = []
    for q, (s, t) in enumerate(pairs[:gs.ALT_AUTO_QUERIES]):
        assert lay.landmarks is None, f"the table must not be built before query {q}"
        before.append(g.shortest_path(int(s), int(t)))
    # weak bound: the first queries settle more than ALT_AUTO_FRACTION of the nodes
    assert np.mean([p.n_settled for p in before]) >= gs.ALT_AUTO_FRACTION * g.n_nodes
    after = [g.shortest_path(int(s), int(t)) for s, t in pairs]
    assert lay.landmarks is not None and lay.pair_queries == gs.ALT_AUTO_QUERIES
    plain = [g.shortest_path(int(s), int(t), landmarks=False) for s, t in pairs]
    assert_allclose([p.length for p in after], ref, rtol=RTOL, atol=0)
    assert_allclose([p.length for p in plain], ref, rtol=RTOL, atol=0)
    n_alt = sum(p.n_settled for p in after)
    n_plain = sum(p.n_settled for p in plain)
    assert n_alt * 3 < n_plain, (n_alt, n_plain)


def test_landmarks_auto_skips_the_table_when_queries_are_cheap():
    """A constant 1-form: the affine bound is nearly tight, the table is not worth building."""
    rng = np.random.default_rng(8)
    n = 10000
    g = gg.GeodesicGraph.build(rng.uniform(size=(n, 3)),
                               gg.Randers(gg.Euclidean(3), np.array([0.3, 0.0, -0.2])), k=10)
    for s, t in rng.integers(0, n, size=(10, 2)):
        if s != t:
            g.shortest_path(int(s), int(t))
    lay = g.search_cache
    assert lay.landmarks is None
    assert lay.pair_queries >= gs.ALT_AUTO_QUERIES
    assert lay.pair_settled < gs.ALT_AUTO_FRACTION * n * lay.pair_queries


def test_shortest_path_between_nodes_limit_and_landmarks():
    g, rng = _rbf_randers_graph(800, 2, 3)
    s, t = 5, 700
    d = dijkstra(g.weights, directed=True, indices=s)[t]
    for landmarks in (False, True):
        p = g.shortest_path_between(s, t, limit=d * 1.001, landmarks=landmarks)
        assert_allclose(p.length, d, rtol=RTOL, atol=0)
        assert_array_equal(p.nodes, g.shortest_path(s, t, landmarks=landmarks).nodes)
        with pytest.raises(NoPathError, match="within limit"):
            g.shortest_path_between(s, t, limit=d * 0.999, landmarks=landmarks)
    with pytest.raises(NoPathError, match="within limit"):
        g.shortest_path_between(s, t, limit=d * 0.999, method="dijkstra")


@pytest.mark.parametrize("bad", ["yes", 1, None, "AUTO"])
def test_bad_landmarks_argument(bad):
    g, _ = _rbf_randers_graph(100, 2, 0)
    with pytest.raises(InvalidInputError, match="landmarks must be 'auto', True or False"):
        g.shortest_path(0, 5, landmarks=bad)


def test_auto_rule_fraction_and_ski_rental():
    """The two branches of landmarks="auto", on the layout's counters."""
    g, _ = _rbf_randers_graph(500, 2, 1)
    lay = g.search_cache
    n = lay.n_nodes
    q = gs.ALT_AUTO_QUERIES
    frac = gs.ALT_AUTO_FRACTION
    assert gs._want_landmarks(lay, True) and not gs._want_landmarks(lay, False)
    lay.pair_queries, lay.pair_settled = q - 1, int(n * q)  # too few queries yet
    assert not gs._want_landmarks(lay, "auto")
    lay.pair_queries, lay.pair_settled = q, int(np.ceil(frac * n * q))  # weak bounds
    assert gs._want_landmarks(lay, "auto")
    lay.pair_queries, lay.pair_settled = 10**6, (2 * gs.N_LANDMARKS + 2) * n - 1  # cheap ones
    assert not gs._want_landmarks(lay, "auto")
    lay.pair_settled += 1  # ... until they add up to the cost of the table
    assert gs._want_landmarks(lay, "auto")
    lay.pair_queries, lay.pair_settled = 0, 0
    lay.get_landmarks()  # once there, always used
    assert gs._want_landmarks(lay, "auto")
