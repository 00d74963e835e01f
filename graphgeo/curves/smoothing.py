"""From a graph path to a smooth curve: any-angle shortcutting, spline smoothing, resampling.

shortcut
    Replace runs of path vertices by direct segments wherever the direct segment
    costs less (same kernels and quadrature as the graph edges). The best subset of
    vertices is a shortest path in the DAG "vertex i -> vertex j, i < j" whose edges
    cost the direct segments; it is found exactly (scipy Dijkstra), and because the
    original edges belong to that DAG the result is never longer than the input.
    Long candidate segments are integrated in pieces no longer than the longest
    input edge, so a long chord cannot look cheap through coarse quadrature where
    the metric varies; the returned ``points`` hold those pieces, and
    ``curve_length(metric, points)`` equals the reported length. Under constant
    metrics the result is the straight segment.
spline
    Cubic spline through the vertices with chord-length (or metric-length)
    parametrisation, optional smoothing, resampled to n points; endpoints exact.
resample_polyline
    n points on a polyline that keep every vertex (when n allows), so the polyline
    itself is represented exactly.
"""

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from .._validation import (
    check_choice,
    check_float,
    check_int,
    check_metric,
    check_polyline,
    check_quadrature,
)
from ..costs import segment_costs
from ..exceptions import InvalidInputError

__all__ = ["shortcut", "Shortcut", "spline", "resample_polyline"]

# float64 values per coordinate array of candidate pieces in one kernel call (128 MiB)
_MAX_FLOATS = 1 << 24


class Shortcut:
    """Result of :func:`shortcut`.

    Attributes
    ----------
    index : (m,) int64, positions of the kept vertices in the input polyline (first and last kept)
    vertices : (m, d) their coordinates
    points : (p, d) the shortcut polyline with long segments split into the pieces that
        were integrated; ``curve_length(metric, points) == length``
    length : float, directed cost of the shortcut polyline
    length_before : float, directed cost of the input polyline (same quadrature)
    """

    __slots__ = ("index", "vertices", "points", "length", "length_before")

    def __init__(self, index, vertices, points, length, length_before):
        self.index = index
        self.vertices = vertices
        self.points = points
        self.length = float(length)
        self.length_before = float(length_before)

    def __repr__(self):
        return (f"Shortcut({len(self.index)} of the vertices kept, length {self.length:.6g} "
                f"(was {self.length_before:.6g}))")


def shortcut(metric, path, quadrature=None, max_span=None):
    """Any-angle shortcutting of a path under ``metric``.

    Parameters
    ----------
    metric : graphgeo Metric (directed costs under Randers metrics)
    path : Path (from GeodesicGraph.shortest_path / shortest_path_between) or (m, d) points
    quadrature : int or None, Gauss-Legendre points per segment (None: the graph default)
    max_span : int or None, skip at most this many vertices in one segment (None: no limit
        unless the number of integrated pieces would exceed a few million)

    Returns
    -------
    Shortcut (see its attributes); never longer than the input.

    Raises
    ------
    InvalidInputError for bad input; RandersConditionError if omega is too large on a
    candidate segment.
    """
    metric = check_metric(metric)
    pts = check_polyline(path, "path", dim=metric.dim)
    metric._check_dim(pts.shape[1], "path")  # fixes the dim of a FieldMetric(fn) built without
    quadrature = check_quadrature(quadrature)
    if max_span is not None:
        max_span = check_int(max_span, "max_span", low=1,
                             remedy="It is the largest number of vertices one segment may skip.")
    return _shortcut_batch(metric, [pts], quadrature, max_span)[0]


def _pairs(m, span):
    """Index pairs (i, j), 0 <= i < j < m, j - i <= span."""
    hops = np.arange(1, min(span, m - 1) + 1, dtype=np.int64)
    counts = m - hops  # pairs with each hop length
    k = np.repeat(hops, counts)
    i = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return i, i + k


def _plan(pts, constant, max_span, budget):
    """Candidate pairs (i, j) of one polyline and the pieces each is integrated in.

    The span (vertices one segment may skip) is halved until the pieces fit the budget.
    """
    m = len(pts)
    el = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    h = float(el.max()) if m > 1 else 0.0
    span = max(m - 1, 1) if max_span is None else max_span
    while True:
        i, j = _pairs(m, span)
        if constant or h == 0.0:
            pieces = np.ones(len(i), dtype=np.int64)
        else:
            chord = np.linalg.norm(pts[j] - pts[i], axis=1)
            pieces = np.maximum(np.ceil(chord / h * (1 - 1e-12)), 1).astype(np.int64)
        if span == 1 or int(pieces.sum()) <= budget:
            return i, j, pieces
        span = max(1, span // 2)


def _shortcut_batch(metric, polylines, quadrature, max_span=None):
    """shortcut for a list of (m_b, d) polylines: candidate segments integrated together,
    in groups of at most a budget of pieces per kernel call (bounded memory)."""
    budget = max(1, _MAX_FLOATS // (4 * metric.dim))
    plans = [_plan(pts, metric.is_constant, max_span, budget) for pts in polylines]
    out, group, size = [], [], 0
    for pts, plan in zip(polylines, plans):
        n = int(plan[2].sum())
        if group and size + n > budget:
            out += _shortcut_group(metric, group, quadrature)
            group, size = [], 0
        group.append((pts, plan))
        size += n
    if group:
        out += _shortcut_group(metric, group, quadrature)
    return out


def _shortcut_group(metric, group, quadrature):
    polylines = [pts for pts, _ in group]
    segs = [plan for _, plan in group]
    total = sum(int(plan[2].sum()) for plan in segs)
    # all sub-segments of all candidate pairs: a + s/p (b - a), s = 0..p
    starts, ends, owner = [], [], []
    for pts, (i, j, pieces) in zip(polylines, segs):
        pair_of_piece = np.repeat(np.arange(len(i)), pieces)
        first = np.cumsum(pieces) - pieces
        s = np.arange(len(pair_of_piece)) - first[pair_of_piece]
        p = pieces[pair_of_piece].astype(np.float64)
        a_pt = pts[i[pair_of_piece]]
        dv = pts[j[pair_of_piece]] - a_pt
        starts.append(a_pt + (s / p)[:, None] * dv)
        ends.append(np.where((s + 1 == pieces[pair_of_piece])[:, None], pts[j[pair_of_piece]],
                             a_pt + ((s + 1) / p)[:, None] * dv))
        owner.append(pair_of_piece)
    if total:
        A_pts = np.concatenate(starts)
        B_pts = np.concatenate(ends)
        idx = np.arange(len(A_pts))
        R, A = segment_costs(metric, A_pts, idx, idx, b_pts=B_pts, quadrature=quadrature)
        piece_cost = R + A
    out = []
    off = 0
    for pts, (i, j, pieces), own in zip(polylines, segs, owner):
        m = len(pts)
        npieces = int(pieces.sum())
        if m == 1:
            out.append(Shortcut(np.zeros(1, np.int64), pts.copy(), pts.copy(), 0.0, 0.0))
            continue
        pc = piece_cost[off : off + npieces]
        sa, sb = A_pts[off : off + npieces], B_pts[off : off + npieces]
        off += npieces
        cost = np.bincount(own, weights=pc, minlength=len(i))
        # guard against round-off making a zero-length (duplicate) hop negative
        W = csr_array((np.maximum(cost, 0.0), (i, j)), shape=(m, m))
        dist, pred = dijkstra(W, directed=True, indices=0, return_predecessors=True)
        chain = [m - 1]
        while chain[-1] != 0:
            chain.append(int(pred[chain[-1]]))
        keep = np.array(chain[::-1], dtype=np.int64)
        # the pieces of each kept hop, in order
        pair_id = _pair_index(i, j, keep[:-1], keep[1:], m)
        first = np.cumsum(pieces) - pieces
        cnt = pieces[pair_id]
        rows = np.repeat(first[pair_id] - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
        dense = np.vstack([sa[rows], sb[rows][-1:]])
        before = float(cost[_pair_index(i, j, np.arange(m - 1), np.arange(1, m), m)].sum())
        length = float(pc[rows].sum())
        out.append(Shortcut(keep, pts[keep].copy(), dense, length, before))
    return out


def _dedupe(pts):
    """The polyline without consecutive duplicate vertices (the kept copy has the same coordinates)."""
    return pts[np.r_[True, np.any(np.diff(pts, axis=0) != 0, axis=1)]]


def _pair_index(i, j, ai, aj, m):
    """Positions of pairs (ai, aj) among the enumerated pairs (i, j)."""
    key = i.astype(np.int64) * m + j
    order = np.argsort(key)
    return order[np.searchsorted(key[order], ai.astype(np.int64) * m + aj)]


# ------------------------------------------------------------------------------ resampling
def resample_polyline(points, n_points):
    """n_points on the polyline ``points`` (m, d), keeping every vertex when n_points >= m.

    The extra points are spread over the segments in proportion to their Euclidean
    length (largest remainders), evenly within each segment, so the returned
    polyline is the input polyline itself. With n_points < m the polyline is sampled
    at n_points evenly spaced arc-length positions (endpoints kept).
    """
    pts = check_polyline(points, "points")
    n_points = check_int(n_points, "n_points", low=2)
    m = len(pts)
    if m == 1:
        return np.repeat(pts, n_points, axis=0)
    el = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    total = el.sum()
    if total == 0.0:
        return np.repeat(pts[:1], n_points, axis=0)
    if n_points < m:
        cum = np.concatenate([[0.0], np.cumsum(el)])
        s = np.linspace(0.0, total, n_points)
        k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, m - 2)
        t = np.where(el[k] > 0, (s - cum[k]) / np.where(el[k] > 0, el[k], 1.0), 0.0)
        out = pts[k] + t[:, None] * (pts[k + 1] - pts[k])
        out[0], out[-1] = pts[0], pts[-1]
        return out
    extra = n_points - m
    share = el / total * extra
    cnt = np.floor(share).astype(np.int64)
    rest = extra - int(cnt.sum())
    if rest:
        cnt[np.argsort(-(share - cnt), kind="stable")[:rest]] += 1
    seg = np.repeat(np.arange(m - 1), cnt + 1)  # each segment: its start vertex + cnt interior points
    first = np.cumsum(cnt + 1) - (cnt + 1)
    s = np.arange(len(seg)) - first[seg]
    t = s / (cnt[seg] + 1.0)
    out = np.empty((n_points, pts.shape[1]))
    out[:-1] = pts[seg] + t[:, None] * (pts[seg + 1] - pts[seg])
    out[-1] = pts[-1]
    return out


# ------------------------------------------------------------------------------ spline
def spline(points, n_points=64, smoothing=0.0, parametrization="chord", metric=None,
           quadrature=None):
    """Cubic spline through a path's vertices, resampled to ``n_points``; endpoints exact.

    Parameters
    ----------
    points : Path or (m, d) vertices (consecutive duplicates are dropped)
    n_points : int >= 2, points of the returned curve, evenly spaced in the parameter
    smoothing : float >= 0. 0: interpolating not-a-knot cubic spline
        (scipy.interpolate.CubicSpline). > 0: smoothing spline (scipy splprep with
        s = smoothing * m * mean squared edge length), then shifted by the linear
        blend (1 - t)(z0 - c(0)) + t (z1 - c(1)) so that both endpoints stay exact.
    parametrization : "chord" (cumulative Euclidean edge lengths) or "metric"
        (cumulative directed edge costs under ``metric``; the vertices are then
        spaced by cost, which suits metrics that vary strongly along the path)
    metric : Metric, required for parametrization="metric"
    quadrature : int or None, for the metric parametrisation

    Returns
    -------
    (n_points, d) float64 array.
    """
    parametrization = check_choice(parametrization, "parametrization", ("chord", "metric"))
    if parametrization == "metric" and metric is None:
        raise InvalidInputError(
            "parametrization='metric' needs the metric: pass metric=<graphgeo metric>, or use "
            "parametrization='chord'; received metric=None."
        )
    if metric is not None:
        metric = check_metric(metric)
    pts = check_polyline(points, "points", dim=None if metric is None else metric.dim)
    n_points = check_int(n_points, "n_points", low=2)
    smoothing = check_float(smoothing, "smoothing", low=0.0)
    return _spline(pts, n_points, smoothing, parametrization, metric, check_quadrature(quadrature))


def _spline(pts, n_points, smoothing, parametrization, metric, quadrature):
    from scipy.interpolate import CubicSpline, splev, splprep

    pts = _dedupe(pts)
    m = len(pts)
    if m == 1:
        return np.repeat(pts, n_points, axis=0)
    if parametrization == "metric":
        idx = np.arange(m - 1)
        R, A = segment_costs(metric, pts, idx, idx + 1, quadrature=quadrature)
        steps = np.maximum(R + A, 0.0)
    else:
        steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    if not np.all(steps > 0):  # zero-cost hops: fall back to chord steps there
        chord = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        steps = np.where(steps > 0, steps, chord * (steps[steps > 0].mean() / chord.mean()
                                                    if np.any(steps > 0) else 1.0))
    u = np.concatenate([[0.0], np.cumsum(steps)])
    u /= u[-1]
    t = np.linspace(0.0, 1.0, n_points)
    if m == 2:
        return pts[0] + t[:, None] * (pts[1] - pts[0])
    if smoothing == 0.0:
        out = CubicSpline(u, pts, bc_type="not-a-knot", axis=0)(t)
    else:
        k = min(3, m - 1)
        s = smoothing * m * float(np.mean(np.sum(np.diff(pts, axis=0) ** 2, axis=1)))
        tck, _ = splprep(pts.T, u=u, k=k, s=s)
        out = np.stack(splev(t, tck), axis=1)
    # exact endpoints (a no-op up to round-off for the interpolating spline)
    out += (1 - t)[:, None] * (pts[0] - out[0]) + t[:, None] * (pts[-1] - out[-1])
    out[0], out[-1] = pts[0], pts[-1]
    return out
