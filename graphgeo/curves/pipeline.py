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

from .._validation import (
    as_array,
    check_bool,
    check_choice,
    check_float,
    check_graph,
    check_int,
    check_metric,
    check_points,
    check_quadrature,
    check_vector,
)
from ..exceptions import InvalidInputError
from .fieldgrad import GRADIENTS
from .path import Curve
from .refine import batch_segment_costs, refine as _refine
from .smoothing import _dedupe, _shortcut_batch, _spline, resample_polyline

__all__ = ["Curve", "geodesic", "geodesics"]


def _segment_stats(metric, curves, quadrature):
    """Lengths and discrete energies (n - 1) sum_k c_k^2 of B curves (B, n, d)."""
    c = batch_segment_costs(metric, curves, quadrature)
    return c.sum(axis=1), (curves.shape[1] - 1) * (c * c).sum(axis=1)


def _endpoints(z, name, dim):
    """(n, dim) endpoints from one point (dim,) or a batch (n, dim)."""
    arr = as_array(z, name)
    if arr.ndim == 1:  # dim None: a metric built without one (FieldMetric(fn)) takes z's
        return check_vector(arr, name, arr.shape[0] if dim is None else dim)[None]
    return check_points(arr, name, dim=dim)


def geodesics(metric, z0, z1, graph=None, refine=True, n_points=64, *, method="astar",
              smoothing=0.0, solver="points", max_iter=500, tol=1e-10, device=None,
              quadrature=None, gradient="auto"):
    """Geodesics z0[b] -> z1[b] for a batch of endpoint pairs (refined together).

    Parameters
    ----------
    metric : graphgeo Metric (Randers metrics give direction-aware curves)
    z0, z1 : (B, d) or (d,) endpoints, anywhere (not necessarily graph nodes)
    graph : GeodesicGraph or None. With a graph, each pair is first connected by
        ``graph.shortest_path_between`` (the endpoints attached through the KNN index),
        shortcut and smoothed. None: start from the straight segment (see module notes).
    refine : bool, run the torch refinement. Numpy-only fields (FieldMetric, DiagonalField,
        CallableField without torch_fn) are refined with derivatives of their numpy
        function; ``Curve.gradient`` says how (see ``gradient``)
    n_points : int >= 2, points per returned curve
    method : "astar" or "dijkstra", the graph search
    smoothing : float >= 0, spline smoothing factor (0: interpolating spline)
    solver : "points" (default) or "neural" (MLP baseline, graphgeo.curves.neural)
    max_iter, tol, device : passed to gg.refine_curves (graphgeo.curves.refine.refine)
    quadrature : int or None, quadrature of the reported lengths (None: the graph's, else
        the default)
    gradient : "auto" (default), "torch_fn", "torch", "complex-step" or
        "finite-differences": how refinement differentiates numpy fields (see
        graphgeo.curves.refine.refine)

    Returns
    -------
    list of B Curve objects.

    Raises
    ------
    InvalidInputError for bad endpoints or options; NoPathError when the graph does not
    connect a pair; MetricError / RandersConditionError from the metric;
    MissingDependencyError when refine=True needs torch and it is not installed.
    """
    metric = check_metric(metric)
    d = metric.dim
    A = _endpoints(z0, "z0", d)
    if d is None:  # FieldMetric(fn) without dim: fixed by the first points it meets
        d = metric._check_dim(A.shape[1], "z0")
    Bp = _endpoints(z1, "z1", d)
    if A.shape != Bp.shape:
        raise InvalidInputError(
            f"z0 and z1 must hold the same number of endpoints; received shapes {A.shape} and {Bp.shape}."
        )
    refine = check_bool(refine, "refine")
    n_points = check_int(n_points, "n_points", low=2, remedy="It is the number of points per curve.")
    method = check_choice(method, "method", ("astar", "dijkstra"))
    smoothing = check_float(smoothing, "smoothing", low=0.0)
    solver = check_choice(solver, "solver", ("points", "neural"))
    gradient = check_choice(gradient, "gradient", GRADIENTS)
    if graph is not None:
        graph = check_graph(graph, "graph", dim=d)
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
        paths = [graph.shortest_path_between(A[b], Bp[b], method=method) for b in range(B)]
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
    grad_mode = np.full(B, None, dtype=object)
    moving = np.flatnonzero(np.any(A != Bp, axis=1))
    if refine and len(moving) and n_points > 2:
        res = _refine(metric, init[moving], max_iter=max_iter, tol=tol, device=device,
                      length_quadrature=quadrature, method=solver, gradient=gradient)
        grad_mode[moving] = res.gradient
        out = init.copy()
        out[moving] = res.points
        length, energy = _segment_stats(metric, out, quadrature)
        n_iter[moving] = res.n_iter
        conv[moving] = res.converged
        stage[moving[res.improved]] = "refined"
    return [Curve(out[b], length[b], energy[b], L_graph[b], L_short[b], L_spline[b], L_init[b],
                  n_iter[b], conv[b], paths[b], str(stage[b]), grad_mode[b]) for b in range(B)]


def geodesic(metric, z0, z1, graph=None, refine=True, n_points=64, **options):
    """The geodesic z0 -> z1 (direction-aware under Randers metrics) as a :class:`Curve`.

    Shorthand for ``geodesics(metric, [z0], [z1], graph, refine, n_points, **options)[0]``;
    see :func:`geodesics` for the parameters and the pipeline. ``graph=None`` starts from
    the straight segment (no graph is built): pass a GeodesicGraph over your latent codes
    when the metric comes from data.
    """
    metric = check_metric(metric)
    a = _endpoints(z0, "z0", metric.dim)
    b = _endpoints(z1, "z1", metric.dim)
    if len(a) != 1 or len(b) != 1:
        raise InvalidInputError(
            f"z0 and z1 must each be one point of shape ({metric.dim},); received {len(a)} and "
            f"{len(b)} points. Use gg.geodesics for batches."
        )
    return geodesics(metric, a, b, graph, refine, n_points, **options)[0]
