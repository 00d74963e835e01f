"""Integrals of a Randers cost along straight segments.

For a segment z(t) = a + t (b - a), t in [0, 1], with delta = b - a::

    R = int_0^1 sqrt(delta^T G(z(t)) delta) dt       (symmetric part)
    A = int_0^1 <omega(z(t)), delta> dt               (1-form part, antisymmetric)

so that the directed costs are w(a -> b) = R + A and w(b -> a) = R - A from one
pass over the undirected segment.

A metric family is a *leaf* ``leaf(z, v, om, use_om, params, work)`` returning
``(v^T G(z) v, om^T G(z)^{-1} om)``; a 1-form is a leaf ``oleaf(z, params, out)``
writing omega(z) into ``out``. Drivers take the leaves as arguments (numba
specialises them per family) so the quadrature loops exist once.
"""

import math

import numpy as np
from numba import njit, prange

# ---------------------------------------------------------------------------
# metric leaves
# ---------------------------------------------------------------------------


@njit(cache=True, fastmath=False)
def identity_leaf(z, v, om, use_om, params, work):
    """G = I."""
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    o = 0.0
    if use_om:
        for i in range(om.shape[0]):
            o += om[i] * om[i]
    return s, o


@njit(cache=True)
def constant_leaf(z, v, om, use_om, params, work):
    """G = A constant; params = (A, A^{-1})."""
    G = params[0]
    Ginv = params[1]
    d = v.shape[0]
    s = 0.0
    o = 0.0
    for i in range(d):
        gi = 0.0
        for j in range(d):
            gi += G[i, j] * v[j]
        s += v[i] * gi
    if use_om:
        for i in range(d):
            gi = 0.0
            for j in range(d):
                gi += Ginv[i, j] * om[j]
            o += om[i] * gi
    return s, o


@njit(cache=True)
def _centroid_weight(z, k, centroids, wkind, wdiag, wfull, inv_scale, qcut):
    """exp(-q_k(z) * inv_scale), or 0 when q_k * inv_scale > qcut[k] (negligible).

    q_k is |z - c_k|^2 (wkind 0), a diagonal Mahalanobis form (1) or a full one (2).
    """
    d = z.shape[0]
    q = 0.0
    if wkind == 0:
        for i in range(d):
            t = z[i] - centroids[k, i]
            q += t * t
    elif wkind == 1:
        for i in range(d):
            t = z[i] - centroids[k, i]
            q += wdiag[k, i] * t * t
    else:
        for i in range(d):
            ti = z[i] - centroids[k, i]
            acc = 0.0
            for j in range(d):
                acc += wfull[k, i, j] * (z[j] - centroids[k, j])
            q += ti * acc
    q *= inv_scale
    if q > qcut[k]:
        return 0.0
    return math.exp(-q)


@njit(cache=True)
def cometric_full_leaf(z, v, om, use_om, params, work):
    """G^{-1}(z) = sum_k w_k(z) M_k + lbd I with full M_k; v^T G v by Cholesky solve.

    params = (centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut);
    work needs d*d + d entries.
    """
    centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut = params
    d = z.shape[0]
    K = centroids.shape[0]
    C = work[: d * d].reshape((d, d))
    y = work[d * d : d * d + d]
    for i in range(d):
        for j in range(i + 1):
            C[i, j] = 0.0
        C[i, i] = lbd
    for k in range(K):
        w = _centroid_weight(z, k, centroids, wkind, wdiag, wfull, inv_scale, qcut)
        if w == 0.0:
            continue
        for i in range(d):
            for j in range(i + 1):
                C[i, j] += w * M[k, i, j]
    o = 0.0
    if use_om:
        for i in range(d):
            acc = C[i, i] * om[i]
            for j in range(i):
                acc += 2.0 * C[i, j] * om[j]
            o += om[i] * acc
    # in-place Cholesky of the lower triangle: C = L L^T
    for j in range(d):
        s = C[j, j]
        for p in range(j):
            s -= C[j, p] * C[j, p]
        if s <= 0.0:
            return np.nan, o
        s = math.sqrt(s)
        C[j, j] = s
        for i in range(j + 1, d):
            t = C[i, j]
            for p in range(j):
                t -= C[i, p] * C[j, p]
            C[i, j] = t / s
    # v^T G v = |L^{-1} v|^2
    s2 = 0.0
    for i in range(d):
        t = v[i]
        for p in range(i):
            t -= C[i, p] * y[p]
        t /= C[i, i]
        y[i] = t
        s2 += t * t
    return s2, o


@njit(cache=True)
def cometric_diag_leaf(z, v, om, use_om, params, work):
    """G^{-1}(z) = sum_k w_k(z) diag(m_k) + lbd I: O(K d) per evaluation.

    params = (centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut), M of shape (K, d);
    work needs d entries.
    """
    centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut = params
    d = z.shape[0]
    K = centroids.shape[0]
    g = work[:d]
    for i in range(d):
        g[i] = lbd
    for k in range(K):
        w = _centroid_weight(z, k, centroids, wkind, wdiag, wfull, inv_scale, qcut)
        if w == 0.0:
            continue
        for i in range(d):
            g[i] += w * M[k, i]
    s = 0.0
    o = 0.0
    for i in range(d):
        s += v[i] * v[i] / g[i]
    if use_om:
        for i in range(d):
            o += om[i] * om[i] * g[i]
    return s, o


# ---------------------------------------------------------------------------
# 1-forms: one evaluator, dispatched on an integer kind so that every driver
# has a fixed signature (cacheable across processes)
# ---------------------------------------------------------------------------

#: 1-form kinds understood by the drivers
OMEGA_NONE, OMEGA_CONSTANT, OMEGA_RBF = 0, 1, 2


@njit(cache=True)
def omega_at(z, okind, oparams, out):
    """Write omega(z) into out.

    oparams = (w, centers, W, inv_scale, qcut): a constant 1-form w (okind 1) or
    the RBF expansion sum_k exp(-|z - c_k|^2 inv_scale) W_k (okind 2), terms with
    |z - c_k|^2 inv_scale > qcut skipped.
    """
    w, centers, W, inv_scale, qcut = oparams
    d = z.shape[0]
    if okind == OMEGA_CONSTANT:
        for i in range(d):
            out[i] = w[i]
        return
    for i in range(d):
        out[i] = 0.0
    if okind != OMEGA_RBF:
        return
    for k in range(centers.shape[0]):
        q = 0.0
        for i in range(d):
            t = z[i] - centers[k, i]
            q += t * t
        q *= inv_scale
        if q > qcut:
            continue
        e = math.exp(-q)
        for i in range(d):
            out[i] += e * W[k, i]


def omega_params(d, w=None, centers=None, W=None, inv_scale=0.0, qcut=0.0):
    """The fixed-type oparams tuple (unused slots filled with empty arrays)."""
    empty = np.zeros((0, d))
    return (np.zeros(d) if w is None else w,
            empty if centers is None else centers,
            empty if W is None else W,
            float(inv_scale), float(qcut))


# ---------------------------------------------------------------------------
# drivers
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _segment(a, b, tq, wq, leaf, params, okind, oparams, max_norm, work):
    """(R, A, largest |omega|_{G^{-1}} met) for one segment a -> b."""
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
    for q in range(tq.shape[0]):
        t = tq[q]
        for i in range(d):
            z[i] = a[i] + t * dv[i]
        if use_om:
            omega_at(z, okind, oparams, om)
        s2, o2 = leaf(z, dv, om, use_om, params, work)
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


# One parallel driver per metric family. Each integrates segments
# a_pts[ia[e]] -> b_pts[ib[e]] and writes R[e], A[e] and worst[e] (the largest
# |omega|_{G^{-1}} met on the segment before rescaling; 0 without a 1-form).
# max_norm > 0 rescales omega pointwise to that norm where it is exceeded.


@njit(cache=True, parallel=True)
def costs_identity(a_pts, b_pts, ia, ib, tq, wq, params, okind, oparams, max_norm, R, A, worst):
    for e in prange(ia.shape[0]):
        r, a, w = _segment(a_pts[ia[e]], b_pts[ib[e]], tq, wq, identity_leaf, params, okind,
                           oparams, max_norm, np.empty(1))
        R[e] = r
        A[e] = a
        worst[e] = w


@njit(cache=True, parallel=True)
def costs_constant(a_pts, b_pts, ia, ib, tq, wq, params, okind, oparams, max_norm, R, A, worst):
    for e in prange(ia.shape[0]):
        r, a, w = _segment(a_pts[ia[e]], b_pts[ib[e]], tq, wq, constant_leaf, params, okind,
                           oparams, max_norm, np.empty(1))
        R[e] = r
        A[e] = a
        worst[e] = w


@njit(cache=True, parallel=True)
def costs_cometric_full(a_pts, b_pts, ia, ib, tq, wq, params, okind, oparams, max_norm, R, A,
                        worst):
    d = a_pts.shape[1]
    for e in prange(ia.shape[0]):
        r, a, w = _segment(a_pts[ia[e]], b_pts[ib[e]], tq, wq, cometric_full_leaf, params,
                           okind, oparams, max_norm, np.empty(d * d + d))
        R[e] = r
        A[e] = a
        worst[e] = w


@njit(cache=True, parallel=True)
def costs_cometric_diag(a_pts, b_pts, ia, ib, tq, wq, params, okind, oparams, max_norm, R, A,
                        worst):
    d = a_pts.shape[1]
    for e in prange(ia.shape[0]):
        r, a, w = _segment(a_pts[ia[e]], b_pts[ib[e]], tq, wq, cometric_diag_leaf, params,
                           okind, oparams, max_norm, np.empty(d))
        R[e] = r
        A[e] = a
        worst[e] = w
