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
    """

    __slots__ = ("nodes", "points", "length", "method", "n_settled")

    def __init__(self, nodes, points, length, method, n_settled):
        self.nodes = nodes
        self.points = points
        self.length = float(length)
        self.method = method
        self.n_settled = int(n_settled)

    @property
    def source(self):
        return int(self.nodes[0])

    @property
    def target(self):
        return int(self.nodes[-1])

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return (f"Path({self.source} -> {self.target}, {len(self.nodes)} nodes, "
                f"length={self.length:.6g}, method={self.method!r})")
