"""Monotonicity of an attribute along a curve, and decoding curves to measure it.

Definition (``method="steps"``, the default)
--------------------------------------------
For values v_0, ..., v_{m-1} along a path,

    monotonicity(v) = #{t : v_{t+1} - v_t >= -tol} / (m - 1),

the fraction of non-decreasing steps (1 for a non-decreasing sequence, 0 for a
strictly decreasing one). A sequence of fewer than two values is monotone (1.0).
``method="kendall"`` is the rank-based variant: the fraction of the m (m - 1) / 2
ordered pairs (s < t) with v_t >= v_s, i.e. (1 + Kendall's tau) / 2 without ties;
it also penalises a path that goes back and forth by small steps.
"""

import numpy as np

from ._validation import as_array, check_choice, check_finite, check_float, check_int, check_points
from .exceptions import InvalidInputError

__all__ = ["monotonicity", "measure_along"]


def monotonicity(values, method="steps", tol=0.0):
    """Fraction in [0, 1] of non-decreasing steps of ``values`` (see the module docstring).

    Parameters
    ----------
    values : (m,) array-like, finite
    method : "steps" (consecutive differences) or "kendall" (all ordered pairs)
    tol : float >= 0, a step counts as non-decreasing when v_{t+1} - v_t >= -tol

    Raises
    ------
    InvalidInputError on a non 1-D input, NaN/Inf, bad method or tol.
    """
    v = as_array(values, "values")
    if v.ndim != 1:
        raise InvalidInputError(
            f"values must be a 1-D sequence of attribute values along a path; received shape {v.shape}."
        )
    v = check_finite(v, "values")
    method = check_choice(method, "method", ("steps", "kendall"))
    tol = check_float(tol, "tol", low=0.0)
    m = len(v)
    if m < 2:
        return 1.0
    if method == "steps":
        return float(np.mean(np.diff(v) >= -tol))
    iu = np.triu_indices(m, 1)
    return float(np.mean(v[iu[1]] - v[iu[0]] >= -tol))


def measure_along(curve, decode, measure=None, n_points=None):
    """Decode the points of a curve and measure an attribute at each of them.

    Parameters
    ----------
    curve : graphgeo Path or Curve, or an (m, d) array of latent points
    decode : callable (m, d) -> decoded samples (images, ...), batched
    measure : callable samples -> (m,) attribute values, or None when ``decode``
        already returns the attribute
    n_points : None (use the curve's points) or int >= 2 (resample the polyline at
        that many points, keeping its vertices when n_points >= m)

    Returns
    -------
    (m,) float64 attribute values along the curve; feed them to :func:`monotonicity`.
    """
    pts = getattr(curve, "points", curve)
    pts = check_points(pts, "curve", min_rows=1)
    if n_points is not None:
        from .curves.smoothing import resample_polyline

        pts = resample_polyline(pts, check_int(n_points, "n_points", low=2))
    if not callable(decode):
        raise InvalidInputError(
            f"decode must be callable (m, d) -> samples; received {type(decode).__name__}."
        )
    out = decode(pts)
    if measure is not None:
        if not callable(measure):
            raise InvalidInputError(
                f"measure must be callable samples -> (m,) values; received {type(measure).__name__}."
            )
        out = measure(out)
    vals = as_array(out, "measured values").reshape(-1)
    if vals.shape[0] != len(pts):
        raise InvalidInputError(
            f"decode/measure must return one value per curve point ({len(pts)}); received "
            f"{vals.shape[0]} values."
        )
    return check_finite(vals, "measured values")
