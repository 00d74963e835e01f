"""The results of the curve pipeline: a graph Path and a smoothed, refined Curve."""

import numpy as np

__all__ = ["Path", "Curve"]


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


class Curve:
    """A smoothed and refined geodesic from ``points[0]`` to ``points[-1]``.

    Attributes
    ----------
    points : (n, d) float64, the curve (endpoints exactly z0 and z1)
    length : float, directed length of the polyline ``points`` (graphgeo.curve_length)
    energy : float, discrete energy (n - 1) * sum_k c_k^2 of the segment costs c_k
        (equal to length^2 at constant speed)
    length_graph : float, cost of the graph path (nan without a graph)
    length_shortcut : float, cost of the shortcut polyline (nan without a graph)
    length_spline : float, length of the spline through the shortcut vertices (nan without a graph)
    length_init : float, length of the curve refinement started from
    n_iter : int, refinement iterations (0 when not refined)
    converged : bool, refinement met its stopping test (False when not refined)
    path : graphgeo.Path or None, the graph path
    stage : "refined", "spline", "shortcut" or "straight": where ``points`` come from
    gradient : str or None, how refinement differentiated the metric: "torch_fn", "torch",
        "complex-step" or "finite-differences" (see graphgeo.curves.refine.RefineResult);
        None when the curve was not refined by gradient steps
    """

    __slots__ = ("points", "length", "energy", "length_graph", "length_shortcut",
                 "length_spline", "length_init", "n_iter", "converged", "path", "stage",
                 "gradient")

    def __init__(self, points, length, energy, length_graph=np.nan, length_shortcut=np.nan,
                 length_spline=np.nan, length_init=np.nan, n_iter=0, converged=False, path=None,
                 stage="refined", gradient=None):
        self.points = points
        self.length = float(length)
        self.energy = float(energy)
        self.length_graph = float(length_graph)
        self.length_shortcut = float(length_shortcut)
        self.length_spline = float(length_spline)
        self.length_init = float(length_init)
        self.n_iter = int(n_iter)
        self.converged = bool(converged)
        self.path = path
        self.stage = stage
        self.gradient = gradient

    @property
    def source(self):
        return self.points[0]

    @property
    def target(self):
        return self.points[-1]

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        g = "" if np.isnan(self.length_graph) else f", graph {self.length_graph:.6g}"
        return (f"Curve({len(self.points)} points, length={self.length:.6g}{g}, stage={self.stage!r}, "
                f"n_iter={self.n_iter})")
