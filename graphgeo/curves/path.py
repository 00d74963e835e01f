"""Paths on a graph and their geometry."""

import numpy as np

__all__ = ["Path"]


class Path:
    """A shortest path on a GeodesicGraph.

    Attributes
    ----------
    nodes : (m,) int64 node indices, source first
    points : (m, d) coordinates of those nodes
    length : float, the directed cost source -> target (sum of edge weights)
    method : "astar" or "dijkstra"
    n_settled : int, nodes settled by the search (A* settles far fewer than Dijkstra)
    on_graph : (bool, bool), whether the path starts / ends at a graph node; an
        off-graph endpoint is points[0] / points[-1] and is not in ``nodes``
    """

    __slots__ = ("nodes", "points", "length", "method", "n_settled", "on_graph")

    def __init__(self, nodes, points, length, method, n_settled, on_graph=(True, True)):
        self.nodes = nodes
        self.points = points
        self.length = float(length)
        self.method = method
        self.n_settled = int(n_settled)
        self.on_graph = tuple(bool(x) for x in on_graph)

    @property
    def source(self):
        """The source node, or None when the path starts off the graph."""
        return int(self.nodes[0]) if self.on_graph[0] else None

    @property
    def target(self):
        """The target node, or None when the path ends off the graph."""
        return int(self.nodes[-1]) if self.on_graph[1] else None

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        a = self.source if self.on_graph[0] else "point"
        b = self.target if self.on_graph[1] else "point"
        return (f"Path({a} -> {b}, {len(self.nodes)} nodes, "
                f"length={self.length:.6g}, method={self.method!r})")
