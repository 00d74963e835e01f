"""Off-graph points: tie query points to a built graph without rebuilding it.

A query point q is attached to its k nearest graph nodes (Euclidean search on
the graph's points) with the true directed costs of the segments both ways:
out_cost[j] = cost q -> nodes[j], in_cost[j] = cost nodes[j] -> q (the same
kernels and quadrature as the graph's edges). Searches then start from q's
nodes with initial distances out_cost, and end at q through in_cost.
"""

import numpy as np

from ._validation import check_int, check_points
from .costs import segment_costs
from .exceptions import InvalidInputError

__all__ = ["Attachment", "attach"]


class Attachment:
    """Query points attached to a graph.

    Attributes
    ----------
    points : (m, d) the query points
    nodes : (m, k) int64, their nearest graph nodes
    out_cost : (m, k) cost point -> node
    in_cost : (m, k) cost node -> point
    radius : (m,) Euclidean distance to the farthest attached node
    """

    __slots__ = ("points", "nodes", "out_cost", "in_cost", "radius", "graph_id")

    def __init__(self, points, nodes, out_cost, in_cost, radius, graph_id):
        self.points = points
        self.nodes = nodes
        self.out_cost = out_cost
        self.in_cost = in_cost
        self.radius = radius
        self.graph_id = graph_id

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        return f"Attachment({len(self.points)} points, k={self.nodes.shape[1]})"

    def seeds(self, start=0, stop=None):
        """(sptr, seeds, offsets) of sources [start, stop) for the many-source kernel."""
        nodes = self.nodes[start:stop]
        m, k = nodes.shape
        return (np.arange(0, m * k + 1, k, dtype=np.int64), nodes.ravel().copy(),
                self.out_cost[start:stop].ravel().copy())


def _tree(g):
    tree = getattr(g, "_query_tree", None)
    if tree is None:
        from scipy.spatial import cKDTree

        tree = cKDTree(g.points)
        g._query_tree = tree
    return tree


def attach(g, points, k=None):
    """Attach off-graph ``points`` (m, d) to graph ``g`` through their k nearest nodes.

    k defaults to the graph's k. Raises InvalidInputError when the graph has no
    metric (a graph made from a bare matrix) or the points do not match it.
    """
    if g.metric is None:
        raise InvalidInputError(
            "the graph has no metric (it was made from a bare weight matrix), so costs to "
            "off-graph points cannot be computed; pass metric= when creating or loading it."
        )
    pts = check_points(points, "points", dim=g.dim, min_rows=1)
    n = g.n_nodes
    k = check_int(g.k or 10 if k is None else k, "k", low=1, high=n)
    dist, nbr = _tree(g).query(pts, k=k)
    dist = dist.reshape(len(pts), k)
    nbr = nbr.reshape(len(pts), k).astype(np.int64)
    m = len(pts)
    ia = np.repeat(np.arange(m), k)
    R, A = segment_costs(g.metric, pts, ia, nbr.ravel(), b_pts=g.points, quadrature=g.quadrature)
    return Attachment(pts, nbr, (R + A).reshape(m, k), (R - A).reshape(m, k), dist.max(axis=1),
                      id(g))


def direct_costs(g, src, dst):
    """Costs of direct segments between attached points that are each other's neighbours.

    Returns (a, b, cost) for pairs with |src_a - dst_b| <= src.radius[a]: a query
    point closer to another than to its k-th node reaches it directly, as graph
    neighbours do.
    """
    from scipy.spatial import cKDTree

    tree = cKDTree(dst.points)
    lists = tree.query_ball_point(src.points, r=src.radius)
    counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    if counts.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    a = np.repeat(np.arange(len(src)), counts)
    b = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists if len(x)])
    R, A = segment_costs(g.metric, src.points, a, b, b_pts=dst.points, quadrature=g.quadrature)
    return a, b, R + A
