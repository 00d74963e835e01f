"""GeodesicKMedoids against oracles: the kmedoids package (FasterPAM, same start -> same
medoids), exhaustive search on small cases, numpy references, and the rings F1 gain."""

import itertools
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

import graphgeo as gg
from graphgeo import cluster as gc
from graphgeo.cluster import GeodesicKMedoids, NotFittedError
from graphgeo.exceptions import DisconnectedGraphError, GraphGeoError, InvalidInputError

RTOL = 1e-12


def _random_matrix(rng, n, symmetric):
    D = rng.uniform(0.1, 1.0, (n, n))
    if symmetric:
        D = D + D.T
    np.fill_diagonal(D, 0.0)
    return D


def _loss(C_point_medoid, med):
    """Reference loss: sum over points of the cheapest cost to a medoid (C[o, m])."""
    return C_point_medoid[:, med].min(axis=1).sum()


def _macro_f1(y, labels):
    """Macro F1 after matching clusters to classes (Hungarian, scipy)."""
    k = max(y.max(), labels.max()) + 1
    M = np.zeros((k, k))
    np.add.at(M, (labels, y), 1)
    rows, cols = linear_sum_assignment(-M)
    f1 = []
    for a, b in zip(rows, cols):
        tp = M[a, b]
        p, r = tp / max(M[a].sum(), 1), tp / max(M[:, b].sum(), 1)
        f1.append(0.0 if tp == 0 else 2 * p * r / (p + r))
    return 100.0 * np.mean(f1)


@pytest.fixture(scope="module")
def randers_graph():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(160, 2))
    metric = gg.Randers(gg.ConstantMetric([[1.5, 0.3], [0.3, 1.0]]), [0.35, -0.2])
    return gg.GeodesicGraph.build(pts, metric, k=8)


# ---------------------------------------------------------------- FasterPAM
def test_fasterpam_equals_kmedoids_package_on_50_matrices():
    kmedoids = pytest.importorskip("kmedoids")
    rng = np.random.default_rng(0)
    for t in range(50):
        n = int(rng.integers(15, 120))
        k = int(rng.integers(2, 7))
        D = _random_matrix(rng, n, symmetric=t % 2 == 0)  # odd t: asymmetric
        init = rng.choice(n, k, replace=False)
        ref = kmedoids.fasterpam(D, init.copy(), max_iter=100, n_cpu=1)
        # kmedoids reads D[o, m] as the cost of point o to medoid m: our "to_medoid"
        km = GeodesicKMedoids(k, init=init, direction="to_medoid").fit(D)
        assert_array_equal(km.medoid_indices_, ref.medoids.astype(np.int64))
        assert_array_equal(km.labels_, ref.labels.astype(np.int64))
        assert_allclose(km.inertia_, ref.loss, rtol=RTOL)
        assert_allclose(km.inertia_, _loss(D, km.medoid_indices_), rtol=RTOL)


def test_build_equals_kmedoids_package():
    kmedoids = pytest.importorskip("kmedoids")
    from graphgeo.kernels import kmedoids as kk

    rng = np.random.default_rng(1)
    for _ in range(10):
        D = _random_matrix(rng, 60, symmetric=True)
        ref = kmedoids.pam_build(D, 4)
        assert_array_equal(kk.build(D, 4), ref.medoids.astype(np.int64))
        km = GeodesicKMedoids(4).fit(D)  # init="auto": BUILD, then FasterPAM
        assert km.inertia_ <= ref.loss + 1e-12


def test_alternate_equals_kmedoids_alternating_on_symmetric_matrices():
    kmedoids = pytest.importorskip("kmedoids")
    rng = np.random.default_rng(13)
    for _ in range(10):
        D = _random_matrix(rng, 60, symmetric=True)
        init = rng.choice(60, 4, replace=False)
        ref = kmedoids.alternating(D, init.astype(np.uintp))
        km = GeodesicKMedoids(4, method="alternate", init=init).fit(D)
        assert_array_equal(np.sort(km.medoid_indices_), np.sort(ref.medoids.astype(np.int64)))
        assert_allclose(km.inertia_, ref.loss, rtol=RTOL)


def test_fasterpam_small_cases_against_exhaustive_search():
    rng = np.random.default_rng(2)
    reached = 0
    cases = 0
    for n, k in [(8, 2), (9, 3), (10, 2), (10, 3)]:
        for t in range(6):
            D = _random_matrix(rng, n, symmetric=t % 2 == 0)
            best = min(_loss(D, list(c)) for c in itertools.combinations(range(n), k))
            km = GeodesicKMedoids(k).fit(D)
            med = km.medoid_indices_
            assert_allclose(km.inertia_, _loss(D, med), rtol=RTOL)
            assert km.inertia_ >= best - 1e-12
            # FasterPAM stops in a swap-optimal state: no single swap lowers the loss
            for slot, j in itertools.product(range(k), range(n)):
                if j in med:
                    continue
                trial = med.copy()
                trial[slot] = j
                assert _loss(D, trial) >= km.inertia_ - 1e-12
            reached += np.isclose(km.inertia_, best, rtol=1e-12)
            cases += 1
    # BUILD + swaps finds the global optimum in most cases (19 of these 24; uniform random
    # matrices have many near-equal local optima)
    assert reached >= 0.75 * cases


def test_well_separated_blobs_reach_the_exhaustive_optimum():
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(c, 0.3, (4, 2)) for c in ([0, 0], [5, 0], [0, 5])])
    D = cdist(X, X)
    best = min(_loss(D, list(c)) for c in itertools.combinations(range(len(X)), 3))
    for method in ("fasterpam", "alternate"):
        km = GeodesicKMedoids(3, method=method).fit(D)
        assert_allclose(km.inertia_, best, rtol=RTOL)
        assert len(np.unique(km.labels_)) == 3


def test_directions_on_an_asymmetric_matrix():
    rng = np.random.default_rng(5)
    D = _random_matrix(rng, 40, symmetric=False)
    init = np.array([3, 17, 29])
    to = GeodesicKMedoids(3, init=init, direction="to_medoid").fit(D)
    frm = GeodesicKMedoids(3, init=init, direction="from_medoid").fit(D)
    frm_t = GeodesicKMedoids(3, init=init, direction="to_medoid").fit(D.T.copy())
    sym = GeodesicKMedoids(3, init=init, direction="symmetric").fit(D)
    sym_ref = GeodesicKMedoids(3, init=init, direction="to_medoid").fit(0.5 * (D + D.T))
    assert_array_equal(frm.medoid_indices_, frm_t.medoid_indices_)
    assert_allclose(frm.inertia_, _loss(D.T, frm.medoid_indices_), rtol=RTOL)
    assert_allclose(to.inertia_, _loss(D, to.medoid_indices_), rtol=RTOL)
    assert_array_equal(sym.medoid_indices_, sym_ref.medoid_indices_)
    assert_allclose(sym.inertia_, sym_ref.inertia_, rtol=RTOL)
    # a Fortran-ordered matrix (transposed view path) gives the same answer
    for direction, ref in (("to_medoid", to), ("from_medoid", frm), ("symmetric", sym)):
        fo = GeodesicKMedoids(3, init=init, direction=direction).fit(np.asfortranarray(D))
        assert_array_equal(fo.medoid_indices_, ref.medoid_indices_)
        assert_allclose(fo.inertia_, ref.inertia_, rtol=RTOL)
    # a symmetric matrix needs no transposed copy and gives the same answer in every direction
    S = 0.5 * (D + D.T)
    got = {GeodesicKMedoids(3, init=init, direction=d).fit(S).inertia_ for d in
           ("to_medoid", "from_medoid", "symmetric")}
    assert len(got) == 1


def test_float32_matrix_is_kept_and_matches_float64():
    rng = np.random.default_rng(6)
    D32 = _random_matrix(rng, 50, symmetric=False).astype(np.float32)
    # from_medoid with given medoids: only the float32 FasterPAM kernel compiles
    a = GeodesicKMedoids(4, direction="from_medoid", init=[0, 1, 2, 3]).fit(D32)
    b = GeodesicKMedoids(4, direction="from_medoid", init=[0, 1, 2, 3]).fit(D32.astype(np.float64))
    assert_array_equal(a.medoid_indices_, b.medoid_indices_)
    assert_allclose(a.inertia_, b.inertia_, rtol=1e-12)


def _alternate_reference(C, med, max_iter=100):
    """Park & Jun in plain numpy, C[o, m] = cost of point o to medoid m."""
    med = np.array(med)
    for _ in range(max_iter):
        cost = C[:, med]
        lab = np.argmin(cost, axis=1)
        lab[med] = np.arange(len(med))
        new = med.copy()
        for c in range(len(med)):
            mem = np.flatnonzero(lab == c)
            tot = C[np.ix_(mem, mem)].sum(axis=0)  # column j: sum_o C[o, j]
            j = mem[np.argmin(tot)]
            if tot[np.searchsorted(mem, j)] < tot[np.searchsorted(mem, med[c])]:
                new[c] = j
        if np.array_equal(new, med):
            break
        med = new
    return med


def test_alternate_matches_numpy_reference():
    rng = np.random.default_rng(7)
    for t in range(10):
        D = _random_matrix(rng, 70, symmetric=t % 2 == 0)
        init = rng.choice(70, 4, replace=False)
        km = GeodesicKMedoids(4, method="alternate", init=init).fit(D)
        assert_array_equal(km.medoid_indices_, _alternate_reference(D, init))
        assert_allclose(km.inertia_, _loss(D, km.medoid_indices_), rtol=RTOL)


# ------------------------------------------------------------------ graphs
@pytest.mark.parametrize("direction", ["to_medoid", "from_medoid", "symmetric"])
def test_graph_fit_equals_fit_on_its_distance_matrix(randers_graph, direction):
    g = randers_graph
    D = g.distances()
    assert np.max(np.abs(D - D.T)) > 1e-3  # really asymmetric
    for method in ("fasterpam", "alternate"):
        a = GeodesicKMedoids(4, method=method, direction=direction).fit(g)
        b = GeodesicKMedoids(4, method=method, direction=direction).fit(D)
        assert_array_equal(a.medoid_indices_, b.medoid_indices_)
        assert_array_equal(a.labels_, b.labels_)
        assert_allclose(a.inertia_, b.inertia_, rtol=1e-10)
        assert_allclose(a.cluster_centers_, g.points[a.medoid_indices_])
        assert b.cluster_centers_ is None


@pytest.mark.parametrize("direction", ["to_medoid", "from_medoid", "symmetric"])
def test_voronoi_exact_update_equals_alternate(randers_graph, direction):
    g = randers_graph
    init = np.array([5, 50, 100, 150])
    v = GeodesicKMedoids(4, method="voronoi", direction=direction, init=init,
                         n_candidates=None).fit(g)
    a = GeodesicKMedoids(4, method="alternate", direction=direction, init=init).fit(g)
    assert_array_equal(v.medoid_indices_, a.medoid_indices_)
    assert_array_equal(v.labels_, a.labels_)
    assert_allclose(v.inertia_, a.inertia_, rtol=1e-10)


@pytest.mark.parametrize("direction", ["to_medoid", "symmetric"])
def test_voronoi_loss_never_increases(randers_graph, direction):
    # the first t rounds are the same for every max_iter >= t (same random_state)
    losses = [GeodesicKMedoids(6, method="voronoi", direction=direction, random_state=1,
                               n_candidates=4, max_iter=t).fit(randers_graph).inertia_
              for t in range(1, 7)]
    assert np.all(np.diff(losses) <= 1e-9 * losses[0]), losses
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("direction", ["to_medoid", "from_medoid", "symmetric"])
def test_voronoi_assignment_is_the_nearest_medoid(randers_graph, direction):
    g = randers_graph
    D = g.distances()
    C = {"to_medoid": D, "from_medoid": D.T, "symmetric": 0.5 * (D + D.T)}[direction]
    km = GeodesicKMedoids(5, method="voronoi", direction=direction, random_state=0).fit(g)
    cost = C[:, km.medoid_indices_]
    assert_allclose(cost[np.arange(g.n_nodes), km.labels_], cost.min(axis=1), rtol=1e-10)
    assert_allclose(km.inertia_, cost.min(axis=1).sum(), rtol=1e-10)
    # sampled candidates: a local optimum close to FasterPAM's loss
    fp = GeodesicKMedoids(5, direction=direction).fit(D if direction == "to_medoid" else g)
    assert km.inertia_ <= 1.1 * fp.inertia_


def _rings(seed=0, n_in=150, n_out=250, noise=0.08):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, n_in + n_out)
    r = np.r_[np.full(n_in, 1.0), np.full(n_out, 2.0)] + rng.normal(0, noise, n_in + n_out)
    X = np.c_[r * np.cos(theta), r * np.sin(theta)]
    return X, np.r_[np.zeros(n_in, int), np.ones(n_out, int)]


def test_rings_geodesic_kmedoids_raises_f1_by_10_points():
    X, y = _rings(seed=0)
    euclid = GeodesicKMedoids(2).fit(cdist(X, X))
    # density-based metric: G^{-1}(z) = sum_i exp(-|z - x_i|^2 / (2 h^2)) I + lbd I,
    # cheap to travel where the data are dense, expensive across the gap
    h = 0.08
    metric = gg.CentroidCometric(X, np.ones_like(X), scale=2 * h * h, lbd=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gg.exceptions.DisconnectedGraphWarning)
        g = gg.GeodesicGraph.build(X, metric, k=10)
    f1_euclid = _macro_f1(y, euclid.labels_)
    for method in ("fasterpam", "voronoi"):
        km = GeodesicKMedoids(2, method=method, random_state=0).fit(g)
        f1_geo = _macro_f1(y, km.labels_)
        assert f1_geo >= f1_euclid + 10.0, (method, f1_euclid, f1_geo)
    assert f1_euclid < 60.0  # Euclidean k-medoids cuts both rings in half


# ----------------------------------------------------------------- predict
def test_predict_after_matrix_fit():
    rng = np.random.default_rng(8)
    D = _random_matrix(rng, 40, symmetric=False)
    km = GeodesicKMedoids(3).fit(D)
    assert_array_equal(km.predict(D), km.labels_)
    assert_array_equal(km.fit_predict(D), km.labels_)
    with pytest.raises(InvalidInputError, match="X must be an"):
        km.predict(D[:, :10])


@pytest.mark.parametrize("direction", ["to_medoid", "from_medoid", "symmetric"])
def test_predict_new_points_against_a_reference(randers_graph, direction):
    g = randers_graph
    km = GeodesicKMedoids(4, direction=direction).fit(g)
    rng = np.random.default_rng(9)
    Q = rng.normal(size=(25, 2))
    # reference: attach each query to its k nearest nodes, costs from segment_costs and the
    # full distance matrix
    D = g.distances()
    nbr = np.argsort(cdist(Q, g.points), axis=1)[:, : g.k]
    med = km.medoid_indices_
    expect = []
    for q in range(len(Q)):
        R, A = gg.segment_costs(g.metric, Q[[q]], np.zeros(g.k, int), nbr[q], b_pts=g.points)
        go = ((R + A)[:, None] + D[nbr[q]][:, med]).min(axis=0)      # q -> m
        back = (D[med][:, nbr[q]] + (R - A)[None, :]).min(axis=1)    # m -> q
        cost = {"to_medoid": go, "from_medoid": back, "symmetric": 0.5 * (go + back)}[direction]
        expect.append(np.argmin(cost))
    assert_array_equal(km.predict(Q), expect)
    # points on the nodes get the nodes' labels
    assert np.mean(km.predict(g.points) == km.labels_) > 0.97


# --------------------------------------------------------------- conventions
def test_estimator_conventions():
    km = GeodesicKMedoids(3, method="alternate", random_state=np.int64(4))
    params = km.get_params()
    assert params["n_clusters"] == 3 and params["method"] == "alternate"
    D = _random_matrix(np.random.default_rng(10), 30, symmetric=True)
    assert km.fit(D) is km
    assert km.get_params() == params  # parameters untouched by fit
    assert km.labels_.dtype == np.int64 and km.medoid_indices_.dtype == np.int64
    assert isinstance(km.inertia_, float) and km.n_iter_ >= 1
    km.set_params(n_clusters=2)
    assert km.n_clusters == 2
    with pytest.raises(InvalidInputError, match="'k' is not a parameter"):
        km.set_params(k=3)
    sklearn_base = pytest.importorskip("sklearn.base")
    clone = sklearn_base.clone(GeodesicKMedoids(5, direction="symmetric"))
    assert clone.get_params()["direction"] == "symmetric"


def test_bad_input_messages(randers_graph):
    rng = np.random.default_rng(11)
    D = _random_matrix(rng, 20, symmetric=True)
    cases = [
        (GeodesicKMedoids(21), D, "n_clusters"),
        (GeodesicKMedoids(2.5), D, "n_clusters"),
        (GeodesicKMedoids(2, method="pam"), D, "method"),
        (GeodesicKMedoids(2, direction="both"), D, "direction"),
        (GeodesicKMedoids(2, init="kmeans"), D, "init"),
        (GeodesicKMedoids(2, init=[1, 1]), D, "init"),
        (GeodesicKMedoids(2, init=[1, 2, 3]), D, "init"),
        (GeodesicKMedoids(2, init=[1, 99]), D, "init"),
        (GeodesicKMedoids(2, max_iter=0), D, "max_iter"),
        (GeodesicKMedoids(2, n_candidates=0), D, "n_candidates"),
        (GeodesicKMedoids(2, random_state="x"), D, "random_state"),
        (GeodesicKMedoids(2, method="voronoi"), D, "voronoi"),
        (GeodesicKMedoids(2, method="voronoi", init="build"), randers_graph, "build"),
        (GeodesicKMedoids(2), D[:, :5], "square"),
        (GeodesicKMedoids(2), np.where(np.eye(20, dtype=bool), 0.0, np.nan), "NaN"),
        (GeodesicKMedoids(2), D - 0.5 * ~np.eye(20, dtype=bool), ">= 0"),
        (GeodesicKMedoids(2), D + np.eye(20), "diagonal"),
        (GeodesicKMedoids(2), __import__("scipy.sparse").sparse.csr_array(D), "sparse"),
    ]
    for km, X, word in cases:
        with pytest.raises(InvalidInputError, match=word):
            km.fit(X)
    with pytest.raises(NotFittedError, match="fit"):
        GeodesicKMedoids(2).predict(D)
    assert issubclass(NotFittedError, (GraphGeoError, ValueError, AttributeError))


def test_dense_methods_refuse_huge_graphs(randers_graph, monkeypatch):
    monkeypatch.setattr(gc, "MAX_DENSE_BYTES", 1000)
    with pytest.raises(InvalidInputError, match="voronoi"):
        GeodesicKMedoids(2).fit(randers_graph)
    GeodesicKMedoids(2, method="voronoi", random_state=0).fit(randers_graph)  # no matrix


def test_disconnected_graph_is_reported():
    import scipy.sparse as sp

    rng = np.random.default_rng(12)
    blocks = []
    for _ in range(3):  # three strongly connected components, two medoids
        B = sp.random_array((10, 10), density=0.5, rng=rng, format="csr")
        B.data = rng.uniform(0.1, 1.0, B.nnz)
        B = B + sp.diags_array(np.ones(9), offsets=1) + sp.diags_array(np.ones(9), offsets=-1)
        blocks.append(B)
    W = sp.csr_array(sp.block_diag(blocks))
    W.setdiag(0)
    W.eliminate_zeros()
    g = gg.GeodesicGraph.from_scipy(W, rng.normal(size=(30, 2)))
    for method in ("fasterpam", "alternate", "voronoi"):
        for init in ("auto", np.array([0, 15])):
            with pytest.raises(DisconnectedGraphError, match="connect='bridge'"):
                GeodesicKMedoids(2, method=method, init=init, random_state=0).fit(g)
