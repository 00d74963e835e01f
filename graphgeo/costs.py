"""Directed costs of straight segments under a metric: the bridge to the edge kernels.

``segment_costs`` integrates R = int sqrt(dv^T G dv) and A = int <omega, dv> along
segments with Gauss-Legendre quadrature, in a fused numba kernel when the metric
family has one and through batched numpy evaluation otherwise. Directed costs
are R + A (forward) and R - A (backward).
"""

import numpy as np

from ._validation import check_int, check_points
from .exceptions import InvalidInputError
from .kernels import segments as _seg
from .metrics import Metric, Randers
from .metrics.base import generic_segment_costs
from .metrics.randers import raise_randers

__all__ = ["gauss_legendre", "segment_costs", "curve_length", "DEFAULT_QUADRATURE"]

#: Gauss-Legendre order used when none is given (see bench/edge_weights.py)
DEFAULT_QUADRATURE = 5


def gauss_legendre(n):
    """Nodes and weights of the n-point Gauss-Legendre rule on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def check_quadrature(quadrature):
    if quadrature is None:
        return DEFAULT_QUADRATURE
    return check_int(quadrature, "quadrature", low=1, high=64,
                     remedy="It is the number of Gauss-Legendre points per segment (default 5).")


def segment_costs(metric, a_pts, ia, ib, b_pts=None, quadrature=None):
    """Integrate metric costs along segments a_pts[ia] -> b_pts[ib].

    Returns (R, A): the forward cost is R + A, the backward one R - A. Raises
    RandersConditionError where omega violates the Randers condition at a
    quadrature point (unless the metric rescales omega).
    """
    if not isinstance(metric, Metric):
        raise InvalidInputError(
            f"metric must be a graphgeo metric (gg.Euclidean(d), gg.RHVAEMetric(...), ...); "
            f"received {type(metric).__name__}."
        )
    b_pts = a_pts if b_pts is None else b_pts
    n = len(ia)
    quadrature = check_quadrature(quadrature)
    if metric.is_constant:
        tq, wq = np.array([0.5]), np.array([1.0])
    else:
        tq, wq = gauss_legendre(quadrature)
    R = np.empty(n)
    A = np.empty(n)
    worst = np.zeros(n)
    if n == 0:
        return R, A
    randers = isinstance(metric, Randers)
    max_norm = metric.max_norm if randers else None
    kern = metric._kernel()
    if kern is not None:
        driver, params = kern
        if randers:
            okind, oparams = metric._omega_kernel()
        else:
            okind, oparams = _seg.OMEGA_NONE, _seg.omega_params(metric.dim)
        driver(a_pts, b_pts, np.ascontiguousarray(ia, dtype=np.int64),
               np.ascontiguousarray(ib, dtype=np.int64), tq, wq, params, okind, oparams,
               -1.0 if max_norm is None else max_norm, R, A, worst)
        if not np.all(np.isfinite(R)):
            bad = int(np.flatnonzero(~np.isfinite(R))[0])
            from .exceptions import NotSPDError
            raise NotSPDError(
                f"the metric is not positive definite on the segment from "
                f"{np.array2string(a_pts[ia[bad]], precision=4)} to "
                f"{np.array2string(b_pts[ib[bad]], precision=4)}; check the metric parameters."
            )
    else:
        R, A, worst = generic_segment_costs(metric, a_pts[ia], b_pts[ib], tq, wq, max_norm)
    if randers and max_norm is None and worst.max(initial=0.0) >= 1.0:
        e = int(np.argmax(worst))
        dv = b_pts[ib[e]] - a_pts[ia[e]]
        # locate the worst quadrature point for the message
        zq = a_pts[ia[e]][None] + tq[:, None] * dv[None]
        nq = np.asarray(metric.omega_norm(zq))
        q = int(np.argmax(nq))
        raise_randers(worst[e], zq[q], f" (on the segment {int(ia[e])} -> {int(ib[e])})")
    return R, A


def curve_length(metric, points, quadrature=None):
    """Direction-aware length of the polyline points[0] -> points[1] -> ... -> points[-1].

    Each segment is integrated with the same quadrature as the graph's edges, so
    a graph path's length equals curve_length of its points.
    """
    if not isinstance(metric, Metric):
        raise InvalidInputError(
            f"metric must be a graphgeo metric; received {type(metric).__name__}."
        )
    pts = check_points(points, "points", dim=metric.dim, min_rows=1)
    if len(pts) < 2:
        return 0.0
    idx = np.arange(len(pts) - 1)
    R, A = segment_costs(metric, pts, idx, idx + 1, quadrature=quadrature)
    return float(np.sum(R + A))
