"""Integrals of a Randers cost along straight segments: fixed-order quadrature.

For a segment z(t) = a + t (b - a), t in [0, 1], with delta = b - a::

    R = int_0^1 sqrt(delta^T G(z(t)) delta) dt       (symmetric part)
    A = int_0^1 <omega(z(t)), delta> dt               (1-form part, antisymmetric)

so that the directed costs are w(a -> b) = R + A and w(b -> a) = R - A from one
pass over the undirected segment.

One driver serves every fused family: ``costs_fixed`` integrates with a given rule
(Gauss-Legendre nodes tq, weights wq) and ``costs_bisect`` adaptively (Gauss-Legendre
panels, recursive bisection), both calling the family's leaf through
``leaves.metric_sq`` (selected by the type of ``params``: numba compiles one
specialisation per family used). The node-shared adaptive engine of the centroid
cometrics lives in ``adaptive_nodes`` / ``adaptive_edges``.

Arguments: the segments a_pts[ia[e]] -> b_pts[ib[e]]; ``okind, oparams, max_norm`` the
1-form (max_norm > 0 rescales omega
pointwise to that norm where it is exceeded; flat arguments: numba's parallel loops do
not take nested tuples of arrays); outputs R, A, worst, worst[e] the
largest |omega|_{G^{-1}} met on the segment before rescaling (0 without a 1-form).
"""

import math

import numpy as np
from numba import njit, prange

from .leaves import OMEGA_NONE, metric_sq, omega_at


@njit(cache=True, inline="always")
def _segment(a, b, t0, t1, tq, wq, params, okind, oparams, max_norm, work):
    """(R, A, largest |omega|_{G^{-1}} met) over t in [t0, t1] of the segment a -> b; the
    rule (tq, wq) is on [0, 1] (the caller scales the sums by t1 - t0)."""
    d = a.shape[0]
    z = np.empty(d)
    dv = np.empty(d)
    om = np.zeros(d)
    use_om = okind != OMEGA_NONE
    for i in range(d):
        dv[i] = b[i] - a[i]
    R = 0.0
    A = 0.0
    worst = 0.0
    h = t1 - t0
    for q in range(tq.shape[0]):
        t = tq[q] if h == 1.0 else t0 + h * tq[q]
        for i in range(d):
            z[i] = a[i] + t * dv[i]
        if use_om:
            omega_at(z, okind, oparams, om)
        s2, o2 = metric_sq(params, z, dv, om, use_om, work)
        R += wq[q] * math.sqrt(s2)
        if use_om:
            on = math.sqrt(o2)
            if on > worst:
                worst = on
            a1 = 0.0
            for i in range(d):
                a1 += om[i] * dv[i]
            if max_norm > 0.0 and on > max_norm:
                a1 *= max_norm / on
            A += wq[q] * a1
    return R, A, worst


@njit(cache=True, parallel=True)
def costs_fixed(a_pts, b_pts, ia, ib, tq, wq, params, nwork, okind, oparams, max_norm, R, A,
                worst):
    """Integrate every segment with the rule (tq, wq); nwork: the leaf's scratch size."""
    for e in prange(ia.shape[0]):
        r, a, w = _segment(a_pts[ia[e]], b_pts[ib[e]], 0.0, 1.0, tq, wq, params, okind,
                           oparams, max_norm, np.empty(nwork))
        R[e] = r
        A[e] = a
        worst[e] = w


@njit(cache=True)
def _bisect_one(a, b, tq, wq, params, nwork, okind, oparams, max_norm, tol):
    """(R, A, worst, depth) of one segment for ``costs_bisect``."""
    rtol, max_depth = tol
    work = np.empty(nwork)
    R1, A1, wst = _segment(a, b, 0.0, 1.0, tq, wq, params, okind, oparams, max_norm, work)
    st0 = np.empty(max_depth + 2)
    st1 = np.empty(max_depth + 2)
    stR = np.empty(max_depth + 2)
    stA = np.empty(max_depth + 2)
    stD = np.empty(max_depth + 2, dtype=np.int64)
    st0[0] = 0.0
    st1[0] = 1.0
    stR[0] = R1
    stA[0] = A1
    stD[0] = 0
    top = 1
    Rs = 0.0
    As = 0.0
    deepest = 0
    tolR = rtol * abs(R1)
    while top > 0:
        top -= 1
        t0 = st0[top]
        t1 = st1[top]
        dep = stD[top]
        tm = 0.5 * (t0 + t1)
        LR, LA, w1 = _segment(a, b, t0, tm, tq, wq, params, okind, oparams, max_norm, work)
        RR, RA, w2 = _segment(a, b, tm, t1, tq, wq, params, okind, oparams, max_norm, work)
        LR *= tm - t0
        LA *= tm - t0
        RR *= t1 - tm
        RA *= t1 - tm
        wst = max(wst, max(w1, w2))
        I2R = LR + RR
        I2A = LA + RA
        if not I2R == I2R:
            return np.nan, 0.0, wst, dep
        err = max(abs(I2R - stR[top]), abs(I2A - stA[top]))
        if err <= tolR * (t1 - t0) or dep >= max_depth:
            Rs += I2R
            As += I2A
            if dep > deepest:
                deepest = dep
        else:
            st0[top] = tm
            st1[top] = t1
            stR[top] = RR
            stA[top] = RA
            stD[top] = dep + 1
            top += 1
            st0[top] = t0
            st1[top] = tm
            stR[top] = LR
            stA[top] = LA
            stD[top] = dep + 1
            top += 1
    return Rs, As, wst, deepest


@njit(cache=True, parallel=True)
def costs_bisect(a_pts, b_pts, ia, ib, tq, wq, params, nwork, okind, oparams, max_norm, tol,
                 R, A, worst, level):
    """Adaptive integrals: the rule (tq, wq) on [0, 1], then on halves of each panel whose
    two halves differ from it by more than rtol * |R| * (panel length) in R or A
    (tol = (rtol, max_depth)); panels never shorter than 2^-max_depth. level[e] receives
    the depth reached (0: one bisection)."""
    for e in prange(ia.shape[0]):
        r, a, w, dep = _bisect_one(a_pts[ia[e]], b_pts[ib[e]], tq, wq, params, nwork, okind,
                                   oparams, max_norm, tol)
        R[e] = r
        A[e] = a
        worst[e] = w
        level[e] = dep
