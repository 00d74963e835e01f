"""Grid graphs, distance maps (closed forms), metric fields and random walks."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg
from graphgeo import maps
from graphgeo.exceptions import InvalidInputError, MetricError, RandersConditionError

A = np.array([[2.0, 0.5], [0.5, 1.0]])
W_OMEGA = np.array([0.3, 0.2])  # |omega|_{A^-1} = 0.25


def _randers_closed_form(diff, A, w):
    """F(x - s) for a constant Randers metric: straight lines are geodesics."""
    return np.sqrt(np.einsum("ni,ij,nj->n", diff, A, diff)) + diff @ w


@pytest.fixture(scope="module")
def grid2():
    return maps.Grid([-1.0, -1.0], [1.0, 2.0], (81, 121))


# ------------------------------------------------------------- distance maps
@pytest.mark.parametrize("seed", [[0.013, -0.021], [0.71, 1.93], [-1.0, -1.0]])
def test_euclidean_16_neighbour_map_within_1_percent(grid2, seed):
    s = np.array([seed])
    exact = grid2.reshape(np.linalg.norm(grid2.points - s, axis=1))
    dist, nearest = maps.distance_map(gg.Euclidean(2), grid2, s, stencil=16)
    assert_allclose(dist, exact, rtol=0.01, atol=1e-12)
    assert_array_equal(nearest, 0)
    # plain graph distances: lengths of grid polylines, never below the exact distance, and
    # off by the stencil's metrication error (up to sqrt(1 + (sqrt5 - 2)^2) - 1 = 2.75 %)
    graph, _ = maps.distance_map(gg.Euclidean(2), grid2, s, stencil=16, method="graph")
    assert np.all(graph >= exact * (1 - 1e-12) - 1e-12)
    assert np.all(dist <= graph + 1e-12)  # the eikonal updates only improve on the graph
    ok = exact > 0
    assert np.max(graph[ok] / exact[ok] - 1) > 0.015  # what the updates fix


@pytest.mark.parametrize("direction", ["from_seeds", "to_seeds"])
def test_constant_randers_map_matches_closed_form_within_2_percent(grid2, direction):
    metric = gg.Randers(gg.ConstantMetric(A), W_OMEGA)
    s = np.array([[0.13, 0.42]])
    diff = grid2.points - s
    if direction == "from_seeds":
        exact = _randers_closed_form(diff, A, W_OMEGA)      # cost s -> x
    else:
        exact = _randers_closed_form(-diff, A, W_OMEGA)     # cost x -> s
    dist, _ = maps.distance_map(metric, grid2, s, direction=direction)
    assert_allclose(dist, grid2.reshape(exact), rtol=0.02, atol=1e-12)
    graph, _ = maps.distance_map(metric, grid2, s, direction=direction, method="graph")
    assert np.all(dist <= graph + 1e-12)


def test_several_seeds_give_the_min_and_the_voronoi_labels(grid2):
    seeds = np.array([[-0.5, -0.4], [0.6, 0.2], [0.0, 1.5]])
    metric = gg.Randers(gg.ConstantMetric(A), W_OMEGA)
    exact = np.stack([_randers_closed_form(grid2.points - s, A, W_OMEGA) for s in seeds])
    dist, nearest = maps.distance_map(metric, grid2, seeds)
    assert_allclose(dist.ravel(), exact.min(axis=0), rtol=0.02, atol=1e-12)
    # labels agree with the exact nearest seed except in a thin band along the boundaries
    gap = np.sort(exact, axis=0)
    clear = (gap[1] - gap[0]) > 0.05 * gap[0]
    assert_array_equal(nearest.ravel()[clear], np.argmin(exact, axis=0)[clear])


def test_graph_method_is_dijkstra_on_the_grid_graph():
    grid = maps.Grid([0.0, 0.0], [1.0, 1.5], (11, 16))
    metric = gg.Randers(gg.ConstantMetric(A), W_OMEGA)
    g = maps.grid_graph(metric, grid, stencil=8)
    src = 5 * 16 + 7
    # with init_radius=1 a node seed is tied to its 4 axis neighbours by their exact edge costs
    dist, _ = maps.distance_map(metric, grid, grid.points[[src]], stencil=8, method="graph",
                                init_radius=1.0)
    ref = dijkstra(g.weights, directed=True, indices=src)
    assert_allclose(dist.ravel(), ref, rtol=1e-12)
    back, _ = maps.distance_map(metric, grid, grid.points[[src]], stencil=8, method="graph",
                                init_radius=1.0, direction="to_seeds")
    assert_allclose(back.ravel(), dijkstra(g.weights.T.tocsr(), directed=True, indices=src),
                    rtol=1e-12)


def test_euclidean_3d_26_neighbour_map():
    grid = maps.Grid([-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], 21)
    s = np.array([[0.013, -0.021, 0.03]])
    exact = grid.reshape(np.linalg.norm(grid.points - s, axis=1))
    dist, _ = maps.distance_map(gg.Euclidean(3), grid, s)
    graph, _ = maps.distance_map(gg.Euclidean(3), grid, s, method="graph")
    # 3-D updates use pairs of adjacent directions (no 2-parameter simplex updates): measured
    # worst case 1.9 %, against 9 % for the plain 26-neighbour graph
    assert_allclose(dist, exact, rtol=0.025, atol=1e-12)
    assert np.max(graph / exact - 1) > 0.05
    assert np.all(dist <= graph + 1e-12)


# ------------------------------------------------------------------ grid graphs
def test_grid_graph_edges_and_directed_weights():
    grid = maps.Grid([0.0, 0.0], [1.0, 2.0], (5, 7))
    metric = gg.Randers(gg.ConstantMetric(A), W_OMEGA)
    for stencil in (8, 16):
        g = maps.grid_graph(metric, grid, stencil=stencil)
        nx, ny = grid.shape
        if stencil == 8:
            undirected = (nx - 1) * ny + nx * (ny - 1) + 2 * (nx - 1) * (ny - 1)
        else:
            undirected = ((nx - 1) * ny + nx * (ny - 1) + 2 * (nx - 1) * (ny - 1)
                          + 2 * (nx - 2) * (ny - 1) + 2 * (nx - 1) * (ny - 2))
        assert g.n_edges == 2 * undirected
        coo = g.weights.tocoo()
        diff = grid.points[coo.col] - grid.points[coo.row]
        assert_allclose(coo.data, _randers_closed_form(diff, A, W_OMEGA), rtol=1e-12)
        assert_allclose(g.points, grid.points)


def test_grid_graph_matches_segment_costs_for_a_varying_metric():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(6, 2))
    base = gg.CentroidCometric(c, np.abs(rng.normal(size=(6, 2))) + 0.5, scale=0.5, lbd=0.1)
    metric = gg.Randers(base, gg.RBFField(c, 0.05 * rng.normal(size=(6, 2)), 0.7), max_norm=0.8)
    grid = maps.Grid([-1.0, -1.0], [1.0, 1.0], 9)
    g = maps.grid_graph(metric, grid, stencil=16)
    coo = g.weights.tocoo()
    lo = coo.row < coo.col
    R, A_ = gg.segment_costs(metric, grid.points, coo.row[lo], coo.col[lo])
    assert_allclose(coo.data[lo], R + A_, rtol=1e-12)
    back = g.weights[coo.col[lo], coo.row[lo]]
    assert_allclose(back, R - A_, rtol=1e-12)


def test_3d_grid_graph_has_26_neighbours_inside():
    grid = maps.Grid([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], 4)
    g = maps.grid_graph(gg.Euclidean(3), grid)
    deg = np.diff(g.weights.indptr)
    inner = grid.reshape(np.arange(grid.n_points))[1:-1, 1:-1, 1:-1].ravel()
    assert_array_equal(deg[inner], 26)
    assert deg.min() == 7  # a corner


# ---------------------------------------------------------------------- fields
def test_fields_closed_forms():
    grid = maps.Grid([-1.0, -1.0], [1.0, 1.0], (4, 5))
    const = gg.ConstantMetric(A)
    ev = np.linalg.eigvalsh(A)
    assert_allclose(maps.volume_element(const, grid), np.full(grid.shape, np.sqrt(np.linalg.det(A))),
                    rtol=1e-12)
    assert maps.volume_element(const, grid).shape == grid.shape
    assert_allclose(maps.anisotropy(const, grid.points), (ev[1] - ev[0]) / (ev[1] + ev[0]),
                    rtol=1e-12)
    assert_allclose(maps.anisotropy(gg.Euclidean(2), grid.points), 0.0, atol=1e-15)
    assert_allclose(maps.magnification_factor(const, grid.points),
                    maps.volume_element(const, grid.points), rtol=1e-12)
    randers = gg.Randers(const, W_OMEGA)
    v = np.array([1.0, -2.0])
    expect = (np.sqrt(v @ A @ v) + W_OMEGA @ v) / np.linalg.norm(v)
    assert_allclose(maps.magnification_factor(randers, grid.points, direction=v), expect, rtol=1e-12)
    assert_allclose(maps.magnification_factor(randers, grid.points, direction=-v),
                    (np.sqrt(v @ A @ v) - W_OMEGA @ v) / np.linalg.norm(v), rtol=1e-12)
    assert_allclose(maps.omega_norm(randers, grid.points),
                    np.sqrt(W_OMEGA @ np.linalg.inv(A) @ W_OMEGA), rtol=1e-12)
    assert_allclose(maps.omega_norm(const, grid), 0.0)


def test_fields_of_a_varying_metric_against_numpy():
    rng = np.random.default_rng(1)
    c = rng.normal(size=(5, 2))
    L = rng.normal(size=(5, 2, 2))
    base = gg.RHVAEMetric(c, L @ L.transpose(0, 2, 1) + 0.1 * np.eye(2), temperature=0.8, lbd=0.05)
    z = rng.normal(size=(50, 2))
    G = base.metric_tensor(z)
    ev = np.linalg.eigvalsh(G)
    assert_allclose(maps.volume_element(base, z), np.sqrt(np.linalg.det(G)), rtol=1e-10)
    assert_allclose(maps.anisotropy(base, z), (ev[:, 1] - ev[:, 0]) / (ev[:, 1] + ev[:, 0]),
                    rtol=1e-10)
    # max_norm rescaling: the effective omega's norm is capped
    big = gg.Randers(base, gg.ConstantField([40.0, 0.0]), max_norm=0.5)
    raw = maps.omega_norm(big, z, effective=False)
    eff = maps.omega_norm(big, z)
    assert_allclose(eff, np.minimum(raw, 0.5), rtol=1e-10)


def test_random_walk_covariance_and_seed():
    metric = gg.ConstantMetric(A)
    start = np.zeros((20000, 2))
    walk = maps.random_walk(metric, start, n_steps=1, step_size=0.1, seed=0)
    assert walk.shape == (20000, 2, 2)
    steps = walk[:, 1] - walk[:, 0]
    # steps U L^{-1/2} eps have covariance step^2 G^{-1}; 20000 samples: ~1 % standard error
    assert_allclose(np.cov(steps.T), 0.01 * np.linalg.inv(A), rtol=0.05, atol=2e-4)
    one = maps.random_walk(metric, [0.0, 0.0], n_steps=5, step_size=0.1, seed=3)
    assert one.shape == (6, 2)
    assert_array_equal(one, maps.random_walk(metric, [0.0, 0.0], 5, 0.1, seed=3))
    assert not np.array_equal(one, maps.random_walk(metric, [0.0, 0.0], 5, 0.1, seed=4))


def test_random_walk_is_slow_where_the_metric_is_large():
    # G = diag(1, 100) everywhere: the walk spreads 10x less along y
    metric = gg.DiagonalField(lambda z: np.c_[np.ones(len(z)), np.full(len(z), 100.0)], 2)
    walk = maps.random_walk(metric, np.zeros((4000, 2)), n_steps=3, step_size=0.1, seed=1)
    spread = (walk[:, -1] - walk[:, 0]).std(axis=0)
    assert_allclose(spread[0] / spread[1], 10.0, rtol=0.1)


# --------------------------------------------------------------------- bad input
def test_bad_input_messages(grid2):
    e2 = gg.Euclidean(2)
    with pytest.raises(InvalidInputError, match="hi > lo"):
        maps.Grid([0, 0], [1, 0], 5)
    with pytest.raises(InvalidInputError, match="shape"):
        maps.Grid([0, 0], [1, 1], (5, 1))
    with pytest.raises(InvalidInputError, match="shape"):
        maps.Grid([0, 0], [1, 1], (5, 5, 5))
    with pytest.raises(InvalidInputError, match="stencil"):
        maps.grid_graph(e2, grid2, stencil=26)
    with pytest.raises(InvalidInputError, match="stencil"):
        maps.distance_map(e2, grid2, [[0, 0]], stencil=True)
    with pytest.raises(MetricError, match="R\\^3"):
        maps.grid_graph(gg.Euclidean(3), grid2)
    with pytest.raises(InvalidInputError, match="outside"):
        maps.distance_map(e2, grid2, [[0.0, 5.0]])
    with pytest.raises(InvalidInputError, match="method"):
        maps.distance_map(e2, grid2, [[0.0, 0.0]], method="fmm")
    with pytest.raises(InvalidInputError, match="direction"):
        maps.distance_map(e2, grid2, [[0.0, 0.0]], direction="both")
    with pytest.raises(InvalidInputError, match="init_radius"):
        maps.distance_map(e2, grid2, [[0.0, 0.0]], init_radius=0.5)
    with pytest.raises(InvalidInputError, match="2-D or 3-D"):
        maps.grid_graph(gg.Euclidean(1), maps.Grid([0], [1], 5))
    with pytest.raises(InvalidInputError, match="grid must be"):
        maps.distance_map(e2, np.zeros((3, 2)), [[0.0, 0.0]])
    with pytest.raises(InvalidInputError, match="n_steps"):
        maps.random_walk(e2, [0.0, 0.0], 0, 0.1)
    with pytest.raises(InvalidInputError, match="step_size"):
        maps.random_walk(e2, [0.0, 0.0], 3, -0.1)
    with pytest.raises(InvalidInputError, match="direction"):
        maps.magnification_factor(e2, np.zeros((3, 2)), direction=[0.0, 0.0])
    with pytest.raises(RandersConditionError, match="max_norm"):
        maps.grid_graph(gg.Randers(e2, [1.5, 0.0]), maps.Grid([0, 0], [1, 1], 3))
