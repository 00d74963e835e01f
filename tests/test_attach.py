"""Off-graph points: attachment costs, distances and paths, against an augmented-graph oracle."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError

W_CONST = np.array([0.25, -0.1])


@pytest.fixture(scope="module")
def graph():
    rng = np.random.default_rng(11)
    pts = rng.uniform(size=(800, 2))
    return gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(2), W_CONST), k=8)


def _oracle(g, att, a=None, b=None):
    """Distances on the graph augmented with query a (out-edges only) and query b
    (in-edges only) plus the direct edge a -> b when b lies within a's radius:
    attached points are endpoints, never intermediate stops."""
    n = g.n_nodes
    W = g.weights.tocoo()
    rows, cols, data = [W.row], [W.col], [W.data]
    if a is not None:
        rows.append(np.full(att.nodes.shape[1], n))
        cols.append(att.nodes[a])
        data.append(att.out_cost[a])
    if b is not None:
        rows.append(att.nodes[b])
        cols.append(np.full(att.nodes.shape[1], n + 1))
        data.append(att.in_cost[b])
    if a is not None and b is not None and a != b:
        dv = att.points[b] - att.points[a]
        if np.linalg.norm(dv) <= att.radius[a]:
            rows.append([n])
            cols.append([n + 1])
            data.append([np.linalg.norm(dv) + W_CONST @ dv])
    M = sp.csr_array((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                     shape=(n + 2, n + 2))
    return dijkstra(M, directed=True)


def test_attachment_costs_are_exact(graph):
    z = np.array([[0.5, 0.5], [0.1, 0.9]])
    att = graph.attach(z, k=5)
    dv = graph.points[att.nodes] - z[:, None, :]
    R = np.linalg.norm(dv, axis=2)
    assert_allclose(att.out_cost, R + dv @ W_CONST, rtol=1e-12)
    assert_allclose(att.in_cost, R - dv @ W_CONST, rtol=1e-12)
    assert att.nodes.shape == (2, 5)


def test_distances_match_augmented_oracle(graph):
    rng = np.random.default_rng(3)
    z = np.vstack([rng.uniform(size=(6, 2)), [[0.3, 0.3], [0.3005, 0.3002]]])  # a close pair
    att = graph.attach(z)
    n = graph.n_nodes
    m = len(z)
    nodes = rng.choice(n, 9, replace=False)
    from_pts = np.array([_oracle(graph, att, a=i)[n, nodes] for i in range(m)])
    to_pts = np.array([_oracle(graph, att, b=j)[nodes, n + 1] for j in range(m)]).T
    assert_allclose(graph.distances(att, nodes), from_pts, rtol=1e-12)
    assert_allclose(graph.distances(nodes, att), to_pts, rtol=1e-12)
    D = graph.distances(att, att)
    expected = np.array([[0.0 if i == j else _oracle(graph, att, a=i, b=j)[n, n + 1]
                          for j in range(m)] for i in range(m)])
    assert_allclose(D, expected, rtol=1e-12, atol=1e-15)
    # the close pair is joined directly, not through a node
    assert D[6, 7] == pytest.approx(np.linalg.norm(z[7] - z[6]) + W_CONST @ (z[7] - z[6]), rel=1e-12)


def test_paths_between_points_and_asymmetry(graph):
    z0, z1 = np.array([0.12, 0.2]), np.array([0.85, 0.7])
    fwd = graph.shortest_path_between(z0, z1)
    bwd = graph.shortest_path_between(z1, z0)
    assert_allclose(fwd.points[0], z0)
    assert_allclose(fwd.points[-1], z1)
    assert fwd.on_graph == (False, False) and fwd.source is None
    # constant omega is exact: the cost difference is 2 <w, z1 - z0>, whatever the route
    assert_allclose(fwd.length - bwd.length, 2 * W_CONST @ (z1 - z0), rtol=1e-10)
    # the path's length is the direction-aware length of its polyline
    assert_allclose(gg.curve_length(graph.metric, fwd.points), fwd.length, rtol=1e-12)
    att = graph.attach(np.array([z0, z1]))
    assert_allclose(graph.distances(att, att)[0, 1], fwd.length, rtol=1e-12)
    # mixed endpoints
    p = graph.shortest_path_between(z0, 17)
    assert p.on_graph == (False, True) and p.target == 17
    assert_allclose(p.length, graph.distances(graph.attach(z0), [17])[0, 0], rtol=1e-12)
    q = graph.shortest_path_between(17, z0)
    assert_allclose(q.length, graph.distances([17], graph.attach(z0))[0, 0], rtol=1e-12)


def test_point_on_a_node_costs_nothing(graph):
    att = graph.attach(graph.points[[42]])
    assert att.nodes[0, 0] == 42 and att.out_cost[0, 0] == 0.0
    assert graph.distances(att, [42])[0, 0] == 0.0


def test_bad_input(graph):
    with pytest.raises(InvalidInputError, match="points"):
        graph.attach(np.zeros((2, 3)))
    with pytest.raises(InvalidInputError, match="NaN"):
        graph.attach(np.array([[np.nan, 0.0]]))
    with pytest.raises(InvalidInputError, match="k must be"):
        graph.attach(np.zeros((1, 2)), k=0)
    bare = gg.GeodesicGraph.from_scipy(graph.weights, graph.points)
    with pytest.raises(InvalidInputError, match="no metric"):
        bare.attach(np.zeros((1, 2)))
    other = gg.GeodesicGraph.build(graph.points[:100], graph.metric, k=5)
    with pytest.raises(InvalidInputError, match="another graph"):
        graph.distances(other.attach(np.zeros((1, 2))), [0])
    with pytest.raises(InvalidInputError, match="z1"):
        graph.shortest_path_between(np.zeros(2), 10**6)
