"""The geodesic pipeline for arbitrary endpoints: graph path, shortcut, spline, refinement.

    z0, z1 ──► graph.shortest_path_between (A*, endpoints attached through the KNN index)
           ──► shortcut (any-angle, same kernels)          never longer than the graph path
           ──► spline through the kept vertices, n points  (and the shortcut polyline itself,
           ──► the shorter of the two                        resampled keeping its vertices)
           ──► refine (batched L-BFGS on the Finsler energy, never lengthens)
           ──► Curve

Every reported length is :func:`graphgeo.curve_length` of the stage's polyline (the
quadrature of the graph's edges), so stages compare directly.

Without a graph (``graph=None``) the initial curve is the straight segment z0 -> z1
and only refinement runs: the result is a local minimiser near the straight line,
which is the geodesic for constant and mildly varying metrics. For metrics learned
from data (RHVAE, VAE and pullback cometrics, Randers fields) the shortest curve
can leave the straight line's basin: build a graph over the latent codes and pass it.
"""

import numpy as np

from ._validation import as_array, check_choice, check_float, check_int, check_points, check_vector
from .costs import check_quadrature
from .exceptions import InvalidInputError
from .metrics import Metric
from .refine import batch_segment_costs, refine as _refine
from .smoothing import _shortcut_batch, _spline, resample_polyline

__all__ = ["Curve", "geodesic", "geodesics"]


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
    """

    __slots__ = ("points", "length", "energy", "length_graph", "length_shortcut",
                 "length_spline", "length_init", "n_iter", "converged", "path", "stage")

    def __init__(self, points, length, energy, length_graph=np.nan, length_shortcut=np.nan,
                 length_spline=np.nan, length_init=np.nan, n_iter=0, converged=False, path=None,
                 stage="refined"):
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


def _check_graph(graph, metric):
    from .graph import GeodesicGraph

    if not isinstance(graph, GeodesicGraph):
        raise InvalidInputError(
            "graph must be a graphgeo.GeodesicGraph (gg.GeodesicGraph.build(points, metric, k=10)) "
            f"or None; received {type(graph).__name__}."
        )
    if graph.dim != metric.dim:
        raise InvalidInputError(
            f"graph lives in R^{graph.dim} but the metric is defined on R^{metric.dim}; build the "
            "graph over points of the metric's latent space."
        )
    return graph


def _segment_stats(metric, curves, quadrature):
    """Lengths and discrete energies (n - 1) sum_k c_k^2 of B curves (B, n, d)."""
    c = batch_segment_costs(metric, curves, quadrature)
    return c.sum(axis=1), (curves.shape[1] - 1) * (c * c).sum(axis=1)


def _dedupe(pts):
    return pts[np.r_[True, np.any(np.diff(pts, axis=0) != 0, axis=1)]]


def _endpoints(z, name, dim):
    """(n, dim) endpoints from one point (dim,) or a batch (n, dim)."""
    arr = as_array(z, name)
    if arr.ndim == 1:  # dim None: a metric built without one (FieldMetric(fn)) takes z's
        return check_vector(arr, name, arr.shape[0] if dim is None else dim)[None]
    return check_points(arr, name, dim=dim)


def _graph_path(graph, a, b, method):
    return graph.shortest_path_between(a, b, method=method)


def geodesics(metric, z0, z1, graph=None, refine=True, n_points=64, *, method="astar",
              smoothing=0.0, solver="points", max_iter=500, tol=1e-10, device=None,
              quadrature=None):
    """Geodesics z0[b] -> z1[b] for a batch of endpoint pairs (refined together).

    Parameters
    ----------
    metric : graphgeo Metric (Randers metrics give direction-aware curves)
    z0, z1 : (B, d) or (d,) endpoints, anywhere (not necessarily graph nodes)
    graph : GeodesicGraph or None. With a graph, each pair is first connected by
        ``graph.shortest_path_between`` (the endpoints attached through the KNN index),
        shortcut and smoothed. None: start from the straight segment (see module notes).
    refine : bool, run the torch refinement (needs a metric with torch evaluation)
    n_points : int >= 2, points per returned curve
    method : "astar" or "dijkstra", the graph search
    smoothing : float >= 0, spline smoothing factor (0: interpolating spline)
    solver : "points" (default) or "neural" (MLP baseline, graphgeo.neural_curve)
    max_iter, tol, device : passed to graphgeo.refine.refine
    quadrature : int or None, quadrature of the reported lengths (None: the graph's, else
        the default)

    Returns
    -------
    list of B Curve objects.

    Raises
    ------
    InvalidInputError for bad endpoints or options; NoPathError when the graph does not
    connect a pair; MetricError / RandersConditionError from the metric.
    """
    if not isinstance(metric, Metric):
        raise InvalidInputError(
            "metric must be a graphgeo metric such as gg.Euclidean(d) or gg.Randers(...); "
            f"received {type(metric).__name__}."
        )
    d = metric.dim
    A = _endpoints(z0, "z0", d)
    if d is None:  # FieldMetric(fn) without dim: fixed by the first points it meets
        d = metric._check_dim(A.shape[1], "z0")
    Bp = _endpoints(z1, "z1", d)
    if A.shape != Bp.shape:
        raise InvalidInputError(
            f"z0 and z1 must hold the same number of endpoints; received shapes {A.shape} and {Bp.shape}."
        )
    if not isinstance(refine, (bool, np.bool_)):
        raise InvalidInputError(f"refine must be True or False; received {refine!r}.")
    n_points = check_int(n_points, "n_points", low=2, remedy="It is the number of points per curve.")
    method = check_choice(method, "method", ("astar", "dijkstra"))
    smoothing = check_float(smoothing, "smoothing", low=0.0)
    solver = check_choice(solver, "solver", ("points", "neural"))
    if graph is not None:
        graph = _check_graph(graph, metric)
        if quadrature is None:
            quadrature = graph.quadrature
    quadrature = check_quadrature(quadrature)
    B = len(A)
    t = np.linspace(0.0, 1.0, n_points)
    nan = np.full(B, np.nan)
    paths = [None] * B
    if graph is None:
        init = A[:, None, :] + t[None, :, None] * (Bp - A)[:, None, :]
        L_graph = L_short = L_spline = nan
        L_init, E_init = _segment_stats(metric, init, quadrature)
        stage = np.full(B, "straight", dtype=object)
    else:
        paths = [_graph_path(graph, A[b], Bp[b], method) for b in range(B)]
        L_graph = np.array([p.length for p in paths])
        cuts = _shortcut_batch(metric, [p.points for p in paths], quadrature)
        L_short = np.array([c.length for c in cuts])
        spl = np.stack([_spline(c.vertices, n_points, smoothing, "chord", metric, quadrature)
                        for c in cuts])
        poly = np.stack([resample_polyline(_dedupe(c.points), n_points) for c in cuts])
        L2, E2 = _segment_stats(metric, np.concatenate([spl, poly]), quadrature)
        L_spline = L2[:B]
        use_spline = L_spline <= L2[B:]
        init = np.where(use_spline[:, None, None], spl, poly)
        L_init = np.where(use_spline, L_spline, L2[B:])
        E_init = np.where(use_spline, E2[:B], E2[B:])
        stage = np.where(use_spline, "spline", "shortcut").astype(object)
    out, length, energy = init, L_init, E_init
    n_iter = np.zeros(B, dtype=np.int64)
    conv = np.zeros(B, dtype=bool)
    moving = np.flatnonzero(np.any(A != Bp, axis=1))
    if refine and len(moving) and n_points > 2:
        res = _refine(metric, init[moving], max_iter=max_iter, tol=tol, device=device,
                      length_quadrature=quadrature, method=solver)
        out = init.copy()
        out[moving] = res.points
        length, energy = _segment_stats(metric, out, quadrature)
        n_iter[moving] = res.n_iter
        conv[moving] = res.converged
        stage[moving[res.improved]] = "refined"
    return [Curve(out[b], length[b], energy[b], L_graph[b], L_short[b], L_spline[b], L_init[b],
                  n_iter[b], conv[b], paths[b], str(stage[b])) for b in range(B)]


def geodesic(metric, z0, z1, graph=None, refine=True, n_points=64, **options):
    """The geodesic z0 -> z1 (direction-aware under Randers metrics) as a :class:`Curve`.

    Shorthand for ``geodesics(metric, [z0], [z1], graph, refine, n_points, **options)[0]``;
    see :func:`geodesics` for the parameters and the pipeline. ``graph=None`` starts from
    the straight segment (no graph is built): pass a GeodesicGraph over your latent codes
    when the metric comes from data.
    """
    if not isinstance(metric, Metric):
        raise InvalidInputError(
            f"metric must be a graphgeo metric; received {type(metric).__name__}."
        )
    a = _endpoints(z0, "z0", metric.dim)
    b = _endpoints(z1, "z1", metric.dim)
    if len(a) != 1 or len(b) != 1:
        raise InvalidInputError(
            f"z0 and z1 must each be one point of shape ({metric.dim},); received {len(a)} and "
            f"{len(b)} points. Use gg.geodesics for batches."
        )
    return geodesics(metric, a, b, graph, refine, n_points, **options)[0]
