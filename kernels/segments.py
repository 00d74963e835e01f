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


# ---------------------------------------------------------------------------
# adaptive, node-shared quadrature
#
# In a k-nearest-neighbour graph every node ends ~2k segments, so everything the
# rules need at t = 0 and t = 1 is computed once per node (``adaptive_nodes``):
# the cometric C, its Cholesky factor and inverse, the tensors
# S_i = sum_k w_k (dq_k/dz_i) M_k that give the derivative of the integrand along
# any direction (Hermite data), omega and its Jacobian, and the eighth roots
# r_k = w_k^(1/8) of the centroid weights. Along z(t) = a + t v the Gaussian
# weights factor exactly,
#
#     w_k(t) = w_k(a)^(1-t) w_k(b)^t exp(t (1-t) v^T P_k v / scale),
#
# so at the dyadic points t = j/8 a weight is a product of stored roots: no
# exponential per centroid and quadrature point. ``adaptive_ends`` turns the node
# data into each segment's end values f(0), f(1) and derivatives, visiting the
# segment ends node by node (a node's tensors are read once for all its segments;
# read per segment, the second endpoint's were mostly cold in cache: ~10% of the
# time at d = 8). ``adaptive_edges`` then climbs
# nested rules on the points t = j/8,
#
#     level 1: t = 1/2       level 2: + 1/4, 3/4       level 3: + 1/8, 3/8, 5/8, 7/8
#
# with Hermite rules (values plus f'(0), f'(1); exact to degrees 5, 7, 11 over
# the level-0 rule of degree 3) when node tensors are available, closed
# Newton-Cotes rules (degrees 3, 5, 9 over 1) otherwise. A level is accepted when
# it differs from a lower-degree rule by at most rtol * R, for R and for A: from
# the level below, except at level 2 of the Hermite rules, compared with Boole's
# rule on the same points (degree 5, more accurate than the 1-point level 1);
# value rules start at level 2 (Simpson against the trapezoid is easily fooled). The
# estimate is the error of the lower rule, so the accepted value is usually far
# more accurate than rtol; the estimate is no bound (bench/edge_weights.py
# observes errors up to ~2 rtol, on segments accepted at level 1). A segment no
# level accepts is integrated by recursive bisection with 8-point Gauss-Legendre
# panels (exponential weights).
# Evaluation is blocked (``_edges_range``, ``_nodes_range``): the points of several
# segments (the nodes: four at a time, their d + 1 weight vectors each) share one pass
# over the packed M_k (``_wsum``, ~17 GFMA/s per core at d = 8, about twice the
# throughput of one or two points per pass) and their Cholesky solves run four side by
# side (``_chol_norm4``); every quantity is still computed per segment with the same
# operations wherever it sits in a block, so results do not depend on the grouping.
# Centroid weights below the family's rigorous cutoff (qcut) are skipped at the
# nodes and in the fallback; the roots are kept down to 8 (qcut + 7), which
# bounds every skipped interior weight by exp(-qcut) as long as the t(1 - t)
# factor stays below exp(_PSI_MAX / 4) (longer segments use exponentials).
# ---------------------------------------------------------------------------

#: points (in eighths) of the nested levels 0..3
ADAPTIVE_LEVELS = ((0, 8), (0, 4, 8), (0, 2, 4, 6, 8), tuple(range(9)))
#: rule weights per level on [0, 1]: columns 0..8 multiply f(j/8), column 9 multiplies
#: f'(0) - f'(1). Hermite rules (values and end derivatives): corrected trapezoid, the
#: quintic Hermite-Simpson rule and their 5- and 9-point extensions, exact to degrees 3, 5,
#: 7 and 11; value rules: closed Newton-Cotes, exact to degrees 1, 3, 5 and 9 (exact
#: rational weights, checked in tests/test_edge_kernels_adaptive.py).
RULES_HERMITE = np.array([
    [1 / 2, 0, 0, 0, 0, 0, 0, 0, 1 / 2, 1 / 12],
    [7 / 30, 0, 0, 0, 8 / 15, 0, 0, 0, 7 / 30, 1 / 60],
    [31 / 270, 0, 256 / 945, 0, 8 / 35, 0, 256 / 945, 0, 31 / 270, 1 / 252],
    [120331 / 2182950, 155648 / 1091475, 15616 / 155925, 8192 / 51975, 2776 / 31185,
     8192 / 51975, 15616 / 155925, 155648 / 1091475, 120331 / 2182950, 37 / 41580],
])
RULES_VALUES = np.array([
    [1 / 2, 0, 0, 0, 0, 0, 0, 0, 1 / 2, 0],
    [1 / 6, 0, 0, 0, 2 / 3, 0, 0, 0, 1 / 6, 0],
    [7 / 90, 0, 16 / 45, 0, 2 / 15, 0, 16 / 45, 0, 7 / 90, 0],
    [989 / 28350, 2944 / 14175, -464 / 14175, 5248 / 14175, -454 / 2835, 5248 / 14175,
     -464 / 14175, 2944 / 14175, 989 / 28350, 0],
])
#: new points of each level
_LEVEL_NEW = np.array([[4, -1, -1, -1], [2, 6, -1, -1], [1, 3, 5, 7]], dtype=np.int64)
#: panels of the bisection fallback never get shorter than 2^-MAX_DEPTH
ADAPTIVE_MAX_DEPTH = 10
#: largest t(1-t)-factor exponent for which roots products are used (else exp weights)
_PSI_MAX = 64.0

_FM = {"reassoc", "contract", "nsz"}  # vectorised reductions; NaN still propagates


#: weight vectors and packed rows of one register block of the weighted sums (``_wsum``);
#: fixed (the kernels, ``_finish4`` and ``_chol_norm4`` are written for 4 and 3)
WSUM_VECTORS, WSUM_ROWS = 4, 3


@njit(cache=True, fastmath=_FM)
def _wsum(W, n, MtT, out):
    """out[p, j] = sum_k W[p, k] MtT[j, k] for p < n and every row j of MtT.

    The weighted sums of the cometric: the hot loop of the adaptive kernels. n must be
    a multiple of WSUM_VECTORS (callers pad with zero rows) and MtT have a multiple of
    WSUM_ROWS rows. Register blocks of 4 weight vectors by 3 rows of MtT, the k loop
    vectorised: 12 accumulators, 7 loads per 12 fused multiply-adds, and each MtT row
    block stays in L1 while all n vectors pass over it (twice the throughput of blocks
    of 1 or 2 vectors, close to the machine's peak). Every output is computed by the same
    instruction sequence wherever its vector sits, so results do not depend on how
    segments or nodes are grouped.
    """
    K = W.shape[1]
    for jb in range(0, MtT.shape[0], 3):
        for p in range(0, n, 4):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            b0 = 0.0
            b1 = 0.0
            b2 = 0.0
            c0 = 0.0
            c1 = 0.0
            c2 = 0.0
            e0 = 0.0
            e1 = 0.0
            e2 = 0.0
            for k in range(K):
                x0 = W[p, k]
                x1 = W[p + 1, k]
                x2 = W[p + 2, k]
                x3 = W[p + 3, k]
                m0 = MtT[jb, k]
                m1 = MtT[jb + 1, k]
                m2 = MtT[jb + 2, k]
                a0 += x0 * m0
                a1 += x0 * m1
                a2 += x0 * m2
                b0 += x1 * m0
                b1 += x1 * m1
                b2 += x1 * m2
                c0 += x2 * m0
                c1 += x2 * m1
                c2 += x2 * m2
                e0 += x3 * m0
                e1 += x3 * m1
                e2 += x3 * m2
            out[p, jb] = a0
            out[p, jb + 1] = a1
            out[p, jb + 2] = a2
            out[p + 1, jb] = b0
            out[p + 1, jb + 1] = b1
            out[p + 1, jb + 2] = b2
            out[p + 2, jb] = c0
            out[p + 2, jb + 1] = c1
            out[p + 2, jb + 2] = c2
            out[p + 3, jb] = e0
            out[p + 3, jb + 1] = e1
            out[p + 3, jb + 2] = e2


@njit(cache=True, fastmath=_FM)
def _table_weights(table, ia, ib, j, fac, W, r):
    """W[r, k] = ra_k^(8-j) rb_k^j fac with ra = table[ia], rb = table[ib] (the weight at
    t = j/8 up to the t(1-t) factor). Rows are indexed, not sliced: no array views (each
    costs two atomic reference-count updates) in the hot loops."""
    K = W.shape[1]
    if j == 4:
        for k in range(K):
            p = table[ia, k] * table[ib, k]
            p = p * p
            W[r, k] = p * p * fac
    elif j == 2:
        for k in range(K):
            a = table[ia, k]
            x = a * a * a * table[ib, k]
            W[r, k] = x * x * fac
    elif j == 6:
        for k in range(K):
            b = table[ib, k]
            x = table[ia, k] * b * b * b
            W[r, k] = x * x * fac
    elif j == 1:
        for k in range(K):
            a = table[ia, k]
            x = a * a
            W[r, k] = x * x * x * a * table[ib, k] * fac
    elif j == 7:
        for k in range(K):
            b = table[ib, k]
            x = b * b
            W[r, k] = x * x * x * b * table[ia, k] * fac
    elif j == 3:
        for k in range(K):
            a = table[ia, k]
            x = a * table[ib, k]
            W[r, k] = x * x * x * a * a * fac
    else:  # j == 5
        for k in range(K):
            b = table[ib, k]
            x = table[ia, k] * b
            W[r, k] = x * x * x * b * b * fac


@njit(cache=True, inline="always")
def _qform_dir(k, v, wkind, wdT, wfull):
    """v^T P_k v (P_k = I for wkind 0)."""
    d = v.shape[0]
    q = 0.0
    if wkind == 0:
        for i in range(d):
            q += v[i] * v[i]
    elif wkind == 1:
        for i in range(d):
            q += wdT[i, k] * v[i] * v[i]
    else:
        for i in range(d):
            acc = 0.0
            for j in range(d):
                acc += wfull[k, i, j] * v[j]
            q += v[i] * acc
    return q


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00


@njit(cache=True, fastmath=_FM)
def _exp_neg(x, out, ibuf):
    """out[k] = exp(-x[k]) for 0 <= x[k] (0 beyond 708), vectorised (|rel err| < 1e-15).

    Range reduction x = m ln2 - r, |r| <= ln2 / 2, degree-14 Taylor polynomial,
    2^-m assembled from its bits (ibuf viewed as float64).
    """
    n = x.shape[0]
    for k in range(n):
        y = min(x[k], 708.0)
        m = math.floor(y * _INV_LN2 + 0.5)
        r = (m * _LN2_HI - y) + m * _LN2_LO
        p = 1.0 + r * (1.0 + r * (0.5 + r * (1.6666666666666666e-01 + r * (
            4.1666666666666664e-02 + r * (8.3333333333333332e-03 + r * (
                1.3888888888888889e-03 + r * (1.9841269841269841e-04 + r * (
                    2.4801587301587302e-05 + r * (2.7557319223985893e-06 + r * (
                        2.7557319223985888e-07 + r * (2.5052108385441720e-08 + r * (
                            2.0876756987868100e-09 + r * 1.6059043836821613e-10))))))))))))
        out[k] = p
        ibuf[k] = (1023 - np.int64(m)) << 52
    f = ibuf.view(np.float64)
    for k in range(n):
        out[k] = out[k] * f[k] if x[k] <= 708.0 else 0.0


@njit(cache=True, fastmath=_FM)
def _qforms(z, cT, wkind, wdT, wfull, inv_scale, x):
    """x[k] = q_k(z) * inv_scale for every centroid; cT (d, K) and wdT (d, K) are the
    centroids and diagonal precisions transposed, so the loops run along k."""
    d, K = cT.shape
    for k in range(K):
        x[k] = 0.0
    if wkind == 0:
        for i in range(d):
            zi = z[i]
            for k in range(K):
                t = zi - cT[i, k]
                x[k] += t * t
    elif wkind == 1:
        for i in range(d):
            zi = z[i]
            for k in range(K):
                t = zi - cT[i, k]
                x[k] += wdT[i, k] * t * t
    else:
        for k in range(K):
            q = 0.0
            for i in range(d):
                ti = z[i] - cT[i, k]
                acc = 0.0
                for j in range(d):
                    acc += wfull[k, i, j] * (z[j] - cT[j, k])
                q += ti * acc
            x[k] = q
    for k in range(K):
        x[k] *= inv_scale


@njit(cache=True, fastmath=_FM)
def _exp_weights(z, cT, wkind, wdT, wfull, inv_scale, qcut, w, x, ibuf):
    """w[k] = exp(-q_k(z) inv_scale), 0 where that exceeds qcut[k] (negligible)."""
    _qforms(z, cT, wkind, wdT, wfull, inv_scale, x)
    for k in range(x.shape[0]):
        if x[k] > qcut[k]:
            x[k] = 1e3
    _exp_neg(x, w, ibuf)


@njit(cache=True, fastmath=_FM)
def _sym_quad(C, x, diag, d):
    """x^T C x for C packed (lower triangle by rows) or diagonal."""
    s = 0.0
    if diag:
        for i in range(d):
            s += C[i] * x[i] * x[i]
        return s
    p = 0
    for i in range(d):
        acc = 0.0
        for j in range(i):
            acc += C[p + j] * x[j]
        s += x[i] * (2.0 * acc + C[p + i] * x[i])
        p += i + 1
    return s


@njit(cache=True, fastmath=_FM)
def _factor(C, L, diag, d):
    """Cholesky factor of packed C into L (diagonal: copy); False when not SPD."""
    if diag:
        for i in range(d):
            if not C[i] > 0.0:
                return False
            L[i] = C[i]
        return True
    pj = 0
    for j in range(d):
        # row j of L
        pi = 0
        for i in range(j):
            t = C[pj + i]
            for p in range(i):
                t -= L[pj + p] * L[pi + p]
            L[pj + i] = t / L[pi + i]
            pi += i + 1
        s = C[pj + j]
        for p in range(j):
            s -= L[pj + p] * L[pj + p]
        if not s > 0.0:
            return False
        L[pj + j] = math.sqrt(s)
        pj += j + 1
    return True


@njit(cache=True, fastmath=_FM)
def _solve_norm(L, v, y, u, diag, d, want_u):
    """v^T C^{-1} v from the factor L; with want_u also u = C^{-1} v."""
    s2 = 0.0
    if diag:
        for i in range(d):
            t = v[i] / L[i]
            u[i] = t
            s2 += v[i] * t
        return s2
    p = 0
    for i in range(d):
        t = v[i]
        for q in range(i):
            t -= L[p + q] * y[q]
        t /= L[p + i]
        y[i] = t
        s2 += t * t
        p += i + 1
    if want_u:
        # u = L^{-T} y
        for i in range(d - 1, -1, -1):
            t = y[i]
            for q in range(i + 1, d):
                t -= L[q * (q + 1) // 2 + i] * u[q]
            u[i] = t / L[i * (i + 1) // 2 + i]
    return s2


@njit(cache=True, fastmath=_FM)
def _inverse_packed(L, G, d):
    """G = C^{-1} (dense) from the packed Cholesky factor L of C."""
    # X = L^{-1} (lower triangular), column by column, stored in G's lower part first
    for j in range(d):
        for i in range(d):
            G[i, j] = 0.0
    for j in range(d):
        for i in range(j, d):
            t = 1.0 if i == j else 0.0
            pi = i * (i + 1) // 2
            for q in range(j, i):
                t -= L[pi + q] * G[q, j]
            G[i, j] = t / L[pi + i]
    # C^{-1} = X^T X, symmetric: compute the upper triangle from X (lower) then mirror
    for i in range(d):
        for j in range(i, d):
            s = 0.0
            for q in range(j, d):
                s += G[q, i] * G[q, j]
            G[j, i] = s  # lower entry (j >= i) holds (X^T X)[i, j]; X[q, i] for q >= j unchanged
    for i in range(d):
        for j in range(i + 1, d):
            G[i, j] = G[j, i]


@njit(cache=True, fastmath=_FM)
def _gnorm(Gn, a, v, u, d):
    """v^T G v and u = G v for the dense symmetric G = Gn[a]."""
    s = 0.0
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += Gn[a, i, j] * v[j]
        u[i] = acc
        s += v[i] * acc
    return s


@njit(cache=True)
def _omega_jacobian(z, oparams, J):
    """J[i, j] = sum_k e_k(z) (z - c_k)_i W_kj for the RBF 1-form (skipped terms as omega_at)."""
    w, centers, W, inv_scale, qcut = oparams
    d = z.shape[0]
    for i in range(d):
        for j in range(d):
            J[i, j] = 0.0
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
            ei = e * (z[i] - centers[k, i])
            for j in range(d):
                J[i, j] += ei * W[k, j]


@njit(cache=True, fastmath=_FM)
def _nodes_range(a_start, a_stop, P, cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale,
                 qcut, use_table, hermite, okind, oparams, table, Ln, Gn, Sn, omn, onn, Jn):
    """The nodes a_start <= a < a_stop of ``adaptive_nodes`` (serial), WSUM_VECTORS nodes
    at a time: their (d + 1 or 1) weight vectors each go through one ``_wsum``."""
    n, d = P.shape
    K = cT.shape[1]
    npad = MtT.shape[0]
    tens = hermite and K > 0
    nv = d + 1 if tens else 1
    G = WSUM_VECTORS
    U = np.zeros((G * nv, K))
    out = np.empty((G * nv, npad))
    x = np.empty(K)
    r = np.empty(K)
    ibuf = np.empty(K, dtype=np.int64)
    for a0 in range(a_start, a_stop, G):
        na = min(G, a_stop - a0)
        if na < G:
            for v in range(na * nv, G * nv):
                for k in range(K):
                    U[v, k] = 0.0
        for s in range(na):
            a = a0 + s
            z = P[a]
            _qforms(z, cT, wkind, wdT, wfull, inv_scale, x)
            w = U[s * nv]
            for k in range(K):
                w[k] = 0.125 * x[k] if x[k] <= 8.0 * (qcut[k] + 7.0) else 1e3
            _exp_neg(w, r, ibuf)
            for k in range(K):
                r2 = r[k] * r[k]
                r4 = r2 * r2
                w[k] = r4 * r4 if x[k] <= qcut[k] else 0.0
            if use_table:
                for k in range(K):
                    table[a, k] = r[k]
            if tens:
                # rows 1..d: w_k dq_k/dz_i, for the derivative tensors
                for i in range(d):
                    u = U[s * nv + i + 1]
                    if wkind == 0:
                        for k in range(K):
                            u[k] = 2.0 * w[k] * (z[i] - cT[i, k])
                    elif wkind == 1:
                        for k in range(K):
                            u[k] = 2.0 * w[k] * wdT[i, k] * (z[i] - cT[i, k])
                    else:
                        for k in range(K):
                            g = 0.0
                            for j in range(d):
                                g += wfull[k, i, j] * (z[j] - cT[j, k])
                            u[k] = 2.0 * w[k] * g
        _wsum(U, G * nv, MtT, out)
        for s in range(na):
            a = a0 + s
            z = P[a]
            C = out[s * nv]
            for j in range(npad):
                C[j] += C0p[j]
            if tens:
                for i in range(d):
                    for j in range(npad):
                        Sn[a, i, j] = out[s * nv + i + 1, j]
            if not _factor(C, Ln[a], diag, d):
                Ln[a, 0] = np.nan
            elif not diag:
                _inverse_packed(Ln[a], Gn[a], d)
            if okind != OMEGA_NONE:
                om = omn[a]
                omega_at(z, okind, oparams, om)
                onn[a] = math.sqrt(max(_sym_quad(C, om, diag, d), 0.0))
                if hermite and okind == OMEGA_RBF:
                    _omega_jacobian(z, oparams, Jn[a])


@njit(cache=True, parallel=True)
def adaptive_nodes(P, cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale, qcut,
                   use_table, hermite, okind, oparams, table, Ln, Gn, Sn, omn, onn, Jn):
    """Per-node data of the adaptive rules (see the section comment).

    Writes the factor of C (packed Cholesky, or the diagonal; NaN when not SPD),
    the dense inverse Gn[a] = C^{-1} (full family), the derivative tensors
    Sn[a, i] = sum_k w_k dq_k/dz_i M_k (hermite), the
    roots table (use_table), omega, |omega|_{C} and the omega Jacobian (hermite, RBF).
    """
    n = P.shape[0]
    # chunks of whole groups of WSUM_VECTORS nodes
    ng = -(-n // WSUM_VECTORS)
    nchunks = min(ng, 1024)
    for c in prange(nchunks):
        _nodes_range(min(n, WSUM_VECTORS * (c * ng // nchunks)),
                     min(n, WSUM_VECTORS * ((c + 1) * ng // nchunks)), P, cT, wkind, wdT, wfull,
                     MtT, C0p, diag, inv_scale, qcut, use_table, hermite, okind, oparams, table,
                     Ln, Gn, Sn, omn, onn, Jn)


@njit(cache=True, fastmath=False)
def _chol_norm4(CT, VT, LT, RD, YT, s2, d):
    """s2[l] = v_l^T C_l^{-1} v_l for four packed SPD matrices at once (NaN where one is not
    positive definite): CT[:, l] the packed lower triangle (by rows) of C_l, VT[:, l] = v_l.

    The four Cholesky factorisations run side by side (lanes), so their long chains of
    dependent divisions and square roots overlap instead of running one after another
    (~5x faster per matrix than one at a time). No fast-math: every lane runs the same
    IEEE operations, so a result does not depend on its lane.
    """
    for j in range(d):
        pj = j * (j + 1) // 2
        for i in range(j):
            pi = i * (i + 1) // 2
            t0 = CT[pj + i, 0]
            t1 = CT[pj + i, 1]
            t2 = CT[pj + i, 2]
            t3 = CT[pj + i, 3]
            for p in range(i):
                t0 -= LT[pj + p, 0] * LT[pi + p, 0]
                t1 -= LT[pj + p, 1] * LT[pi + p, 1]
                t2 -= LT[pj + p, 2] * LT[pi + p, 2]
                t3 -= LT[pj + p, 3] * LT[pi + p, 3]
            LT[pj + i, 0] = t0 * RD[i, 0]
            LT[pj + i, 1] = t1 * RD[i, 1]
            LT[pj + i, 2] = t2 * RD[i, 2]
            LT[pj + i, 3] = t3 * RD[i, 3]
        s0 = CT[pj + j, 0]
        s1 = CT[pj + j, 1]
        s2_ = CT[pj + j, 2]
        s3 = CT[pj + j, 3]
        for p in range(j):
            a0 = LT[pj + p, 0]
            a1 = LT[pj + p, 1]
            a2 = LT[pj + p, 2]
            a3 = LT[pj + p, 3]
            s0 -= a0 * a0
            s1 -= a1 * a1
            s2_ -= a2 * a2
            s3 -= a3 * a3
        s0 = math.sqrt(s0) if s0 > 0.0 else np.nan
        s1 = math.sqrt(s1) if s1 > 0.0 else np.nan
        s2_ = math.sqrt(s2_) if s2_ > 0.0 else np.nan
        s3 = math.sqrt(s3) if s3 > 0.0 else np.nan
        LT[pj + j, 0] = s0
        LT[pj + j, 1] = s1
        LT[pj + j, 2] = s2_
        LT[pj + j, 3] = s3
        RD[j, 0] = 1.0 / s0
        RD[j, 1] = 1.0 / s1
        RD[j, 2] = 1.0 / s2_
        RD[j, 3] = 1.0 / s3
    # v^T C^{-1} v = |L^{-1} v|^2
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    for i in range(d):
        pi = i * (i + 1) // 2
        t0 = VT[i, 0]
        t1 = VT[i, 1]
        t2 = VT[i, 2]
        t3 = VT[i, 3]
        for q in range(i):
            t0 -= LT[pi + q, 0] * YT[q, 0]
            t1 -= LT[pi + q, 1] * YT[q, 1]
            t2 -= LT[pi + q, 2] * YT[q, 2]
            t3 -= LT[pi + q, 3] * YT[q, 3]
        t0 *= RD[i, 0]
        t1 *= RD[i, 1]
        t2 *= RD[i, 2]
        t3 *= RD[i, 3]
        YT[i, 0] = t0
        YT[i, 1] = t1
        YT[i, 2] = t2
        YT[i, 3] = t3
        a0 += t0 * t0
        a1 += t1 * t1
        a2 += t2 * t2
        a3 += t3 * t3
    s2[0] = a0
    s2[1] = a1
    s2[2] = a2
    s2[3] = a3


@njit(cache=True, fastmath=_FM)
def _finish4(Cb, r0, Z4, V4, C0p, diag, d, okind, oparams, om, max_norm, wk, fo, go, ono):
    """(f, g, |omega|) into fo, go, ono at the four points Z4[l] with directions V4[l], from
    the weighted sums in rows r0..r0+3 of Cb (C0p not yet added; added here):
    f = sqrt(v^T G v) (NaN where C is not SPD), g = <omega, v> (rescaled where
    max_norm > 0 requires it). wk: the work arrays (CT, VT, LT, RD, YT, s2)."""
    CT, VT, LT, RD, YT, s2 = wk
    npad = Cb.shape[1]
    for l in range(4):
        C = Cb[r0 + l]
        for j in range(npad):
            C[j] += C0p[j]
        g = 0.0
        on = 0.0
        if okind != OMEGA_NONE:
            omega_at(Z4[l], okind, oparams, om)
            on = math.sqrt(max(_sym_quad(C, om, diag, d), 0.0))
            for i in range(d):
                g += om[i] * V4[l, i]
            if max_norm > 0.0 and on > max_norm:
                g *= max_norm / on
        go[l] = g
        ono[l] = on
    if diag:
        for l in range(4):
            s = 0.0
            for i in range(d):
                c = Cb[r0 + l, i]
                if not c > 0.0:
                    s = np.nan
                s += V4[l, i] * (V4[l, i] / c)
            fo[l] = math.sqrt(s)
        return
    for j in range(d * (d + 1) // 2):
        for l in range(4):
            CT[j, l] = Cb[r0 + l, j]
    for i in range(d):
        for l in range(4):
            VT[i, l] = V4[l, i]
    _chol_norm4(CT, VT, LT, RD, YT, s2, d)
    for l in range(4):
        fo[l] = math.sqrt(s2[l])


@njit(cache=True, fastmath=_FM)
def _point_weights(j, tab, wkind, table, ia, ib, eta, bk, P, v, z, cT, wdT, wfull, inv_scale,
                   qcut, W, r, xb, ib_):
    """Centroid weights at t = j/8 on the segment P[ia] + t v into W[r]: products of the
    node roots table[ia], table[ib] (tab) or exponentials."""
    if tab:
        e64 = j * (8 - j)
        if wkind == 0:
            _table_weights(table, ia, ib, j, math.exp(e64 / 64.0 * eta), W, r)
        else:
            _table_weights(table, ia, ib, j, 1.0, W, r)
            for k in range(W.shape[1]):
                W[r, k] *= _ipow(bk[k], e64)
    else:
        t = j / 8.0
        for i in range(P.shape[1]):
            z[i] = P[ia, i] + t * v[i]
        _exp_weights(z, cT, wkind, wdT, wfull, inv_scale, qcut, W[r], xb, ib_)


@njit(cache=True, fastmath=_FM)
def _gl_panel(pa, v, t0, t1, tq, wq, W, Cb, Z4, V4, xb, ib_, cT, wkind, wdT, wfull, inv_scale,
              qcut, MtT, C0p, diag, okind, oparams, om, max_norm, wk, fo, go, ono):
    """Gauss-Legendre integrals of f and g over t in [t0, t1] (exp weights); (R, A, worst).

    The points go through ``_wsum`` and ``_finish4`` four at a time (W, Cb: buffers of
    WSUM_VECTORS = 4 rows)."""
    d = pa.shape[0]
    K = W.shape[1]
    nq = tq.shape[0]
    Rp = 0.0
    Ap = 0.0
    worst = 0.0
    for q0 in range(0, nq, 4):
        nb = min(4, nq - q0)
        for p in range(4):
            t = t0 + (t1 - t0) * tq[min(q0 + p, nq - 1)]
            for i in range(d):
                Z4[p, i] = pa[i] + t * v[i]
                V4[p, i] = v[i]
            if p < nb:
                _exp_weights(Z4[p], cT, wkind, wdT, wfull, inv_scale, qcut, W[p], xb, ib_)
            else:
                for k in range(K):
                    W[p, k] = 0.0
        _wsum(W, 4, MtT, Cb)
        _finish4(Cb, 0, Z4, V4, C0p, diag, d, okind, oparams, om, max_norm, wk, fo, go, ono)
        for p in range(nb):
            if ono[p] > worst:
                worst = ono[p]
            Rp += wq[q0 + p] * fo[p]
            Ap += wq[q0 + p] * go[p]
    return Rp * (t1 - t0), Ap * (t1 - t0), worst


@njit(cache=True, fastmath=_FM)
def _deriv_quad(Sn, a, u, v, uu, diag, d):
    """sum_i v_i u^T S_i u for the packed (or diagonal) tensors S_i = Sn[a, i]."""
    if diag:
        m = d
        for j in range(d):
            uu[j] = u[j] * u[j]
    else:
        m = d * (d + 1) // 2
        p = 0
        for i in range(d):
            ui2 = 2.0 * u[i]
            for j in range(i):
                uu[p + j] = ui2 * u[j]
            uu[p + i] = u[i] * u[i]
            p += i + 1
    acc = 0.0
    for i in range(d):
        s = 0.0
        for p in range(m):
            s += Sn[a, i, p] * uu[p]
        acc += v[i] * s
    return acc


@njit(cache=True, inline="always")
def _ipow(x, n):
    r = 1.0
    for _ in range(n):
        r *= x
    return r


@njit(cache=True, fastmath=_FM)
def _block_points(Wb, nr, MtT, Cb, r_s, r_t, s_v, P, s_ia, Z4, V4, C0p, diag, d, okind,
                  oparams, om, max_norm, wk, fo, go, ono, fb, gb, onb):
    """(f, g, |omega|) into fb, gb, onb for the points of rows r < nr: row r holds the
    weights (in Wb[r]) of the point t = r_t[r] of the segment in slot r_s[r]
    (P[s_ia[slot]] + t s_v[slot]). Rows are padded with zeros to whole blocks of four."""
    K = Wb.shape[1]
    nrow = -(-nr // 4) * 4
    for r in range(nr, nrow):
        for k in range(K):
            Wb[r, k] = 0.0
    _wsum(Wb, nrow, MtT, Cb)
    for r0 in range(0, nrow, 4):
        for l in range(4):
            r = r0 + l
            if r < nr:
                s = r_s[r]
                t = r_t[r]
                a = s_ia[s]
                for i in range(d):
                    Z4[l, i] = P[a, i] + t * s_v[s, i]
                    V4[l, i] = s_v[s, i]
            else:
                for i in range(d):
                    Z4[l, i] = 0.0
                    V4[l, i] = 0.0
        _finish4(Cb, r0, Z4, V4, C0p, diag, d, okind, oparams, om, max_norm, wk, fo, go, ono)
        for l in range(4):
            fb[r0 + l] = fo[l]
            gb[r0 + l] = go[l]
            onb[r0 + l] = ono[l]


@njit(cache=True, fastmath=_FM)
def _rule_value(lv, sF, sG, s, hermite, herm_a, rules_h, rules_v, df0, df1, dg0, dg1):
    """(R, A) of the level-lv rules on the values sF[s], sG[s] (and end derivatives)."""
    Rl = 0.0
    Al = 0.0
    for j in range(9):
        ch = rules_h[lv, j] if hermite else rules_v[lv, j]
        cg = rules_h[lv, j] if herm_a else rules_v[lv, j]
        if ch != 0.0:
            Rl += ch * sF[s, j]
        if cg != 0.0:
            Al += cg * sG[s, j]
    if hermite:
        Rl += rules_h[lv, 9] * (df0 - df1)
    if herm_a:
        Al += rules_h[lv, 9] * (dg0 - dg1)
    return Rl, Al


@njit(cache=True, inline="always")
def _canonical(P, ia, ib):
    """(start, end) of the segment between nodes ia and ib in its canonical orientation
    (lexicographic order of the endpoints) and the sign that orientation gives A."""
    for i in range(P.shape[1]):
        if P[ib, i] != P[ia, i]:
            if P[ib, i] < P[ia, i]:
                return ib, ia, -1.0
            break
    return ia, ib, 1.0


@njit(cache=True, fastmath=_FM)
def _ends_range(q_start, q_stop, order, P, ea, eb, Ln, Gn, Sn, diag, hermite, tens, inv_scale,
                okind, oparams, omn, onn, Jn, max_norm, EF, ED, EG, EDG, ER):
    """The segment ends order[q_start:q_stop] of ``adaptive_ends`` (serial)."""
    d = P.shape[1]
    E = ea.shape[0]
    y = np.empty(d)
    u = np.empty(d)
    v = np.empty(d)
    uu = np.empty(Sn.shape[2] if tens else 1)
    for q in range(q_start, q_stop):
        idx = order[q]
        e = idx if idx < E else idx - E
        ia, ib, _ = _canonical(P, ea[e], eb[e])
        x = ea[e] if idx < E else eb[e]
        c = 0 if x == ia else 1
        h2 = 0.0
        for i in range(d):
            v[i] = P[ib, i] - P[ia, i]
            h2 += v[i] * v[i]
        if h2 == 0.0:
            EF[e, c] = 0.0
            ED[e, c] = 0.0
            EG[e, c] = 0.0
            EDG[e, c] = 0.0
            ER[e, c] = False
            continue
        if diag:
            sq = _solve_norm(Ln[x], v, y, u, True, d, True)
        else:
            sq = _gnorm(Gn, x, v, u, d)
        f = math.sqrt(sq) if sq >= 0.0 else np.nan
        df = 0.0
        if tens:
            df = inv_scale * _deriv_quad(Sn, x, u, v, uu, diag, d) / (2.0 * f)
        EF[e, c] = f
        ED[e, c] = df
        g = 0.0
        dg = 0.0
        resc = False
        if okind != OMEGA_NONE:
            for i in range(d):
                g += omn[x, i] * v[i]
            if max_norm > 0.0 and onn[x] > max_norm:
                g *= max_norm / onn[x]
                resc = True
            if hermite and okind == OMEGA_RBF:
                qv = 0.0
                for i in range(d):
                    for j in range(d):
                        qv += v[i] * Jn[x, i, j] * v[j]
                dg = -2.0 * oparams[3] * qv
        EG[e, c] = g
        EDG[e, c] = dg
        ER[e, c] = resc


@njit(cache=True, parallel=True)
def adaptive_ends(order, P, ea, eb, Ln, Gn, Sn, diag, hermite, tens, inv_scale, okind, oparams,
                  omn, onn, Jn, max_norm, EF, ED, EG, EDG, ER):
    """Endpoint data of every segment, computed node by node.

    ``order`` lists the segment ends (e for the end at ea[e], E + e for the end at eb[e])
    grouped by node, so each node's factor, inverse and derivative tensors are read once
    for all its segments instead of once per segment (the segment loop meets most of its
    second endpoints cold in cache). Column 0 of each output is the segment's canonical
    start, column 1 its end (``_canonical``), with v = end - start:
    EF = f = sqrt(v^T G v); ED = f' along v (tens: Hermite data); EG = <omega, v>
    (rescaled where max_norm > 0 requires it, ER then True); EDG = d/dt <omega, v>
    (RBF 1-forms, Hermite rules). Zero-length segments get zeros.
    """
    m = order.shape[0]
    nchunks = min(m, 1024)
    for c in prange(nchunks):
        _ends_range(c * m // nchunks, (c + 1) * m // nchunks, order, P, ea, eb, Ln, Gn, Sn,
                    diag, hermite, tens, inv_scale, okind, oparams, omn, onn, Jn, max_norm, EF,
                    ED, EG, EDG, ER)


#: segments integrated together by ``_edges_range``: their level-1 points (t = 1/2) form
#: one ``_wsum`` block, the level-2 points (t = 1/4, 3/4) of those level 1 does not accept
#: at most two
EDGE_BLOCK = 4


@njit(cache=True, fastmath=_FM)
def _edges_range(e_start, e_stop, P, ea, eb, cT, wkind, wdT, wfull, MtT, C0p, diag,
                 inv_scale, qcut, table, use_table, EF, ED, EG, EDG, ER, hermite, okind, oparams,
                 onn, max_norm, rtol, rules_h, rules_v, level_new, tq, wq, max_depth,
                 R, A, worst, level):
    """The segments e_start <= e < e_stop of ``adaptive_edges`` (serial).

    EDGE_BLOCK segments at a time: (a) per segment, the endpoint data and the weights of
    its level-1 point; (b) the level-1 points of the block together (``_block_points``:
    one ``_wsum``, Cholesky solves four at a time), level-1 acceptance, and the weights of
    the level-2 points of the segments it does not accept; (c) those level-2 points
    together; (d) per segment, level-2 acceptance, then level 3 (its four points as one
    block) and the bisection fallback on demand. The rules, estimates and accepted
    values are those of the section comment, segment by segment; the blocks only share
    the loads of the packed M_k and overlap the factorisations.
    """
    d = P.shape[1]
    K = cT.shape[1]
    npad = MtT.shape[0]
    NB = EDGE_BLOCK
    GV = WSUM_VECTORS
    nrow_max = -(-2 * NB // GV) * GV
    Wb = np.zeros((nrow_max, K))
    Cb = np.empty((nrow_max, npad))
    # level 3 and the bisection fallback (on demand, per segment)
    Wx = np.zeros((GV, K))
    Cx = np.empty((GV, npad))
    xb = np.empty(K)
    ib_ = np.empty(K, dtype=np.int64)
    z = np.empty(d)
    om = np.zeros(d)
    # _finish4: points, directions, work arrays, results (per row of Cb)
    Z4 = np.zeros((4, d))
    V4 = np.zeros((4, d))
    wk = (np.empty((npad, 4)), np.empty((d, 4)), np.empty((npad, 4)), np.empty((d, 4)),
          np.empty((d, 4)), np.empty(4))
    fo = np.empty(4)
    go = np.empty(4)
    ono = np.empty(4)
    fb = np.empty(nrow_max)
    gb = np.empty(nrow_max)
    onb = np.empty(nrow_max)
    # per-segment state of a block
    s_ia = np.empty(NB, dtype=np.int64)
    s_ib = np.empty(NB, dtype=np.int64)
    s_e = np.empty(NB, dtype=np.int64)
    s_sgn = np.empty(NB)
    s_v = np.empty((NB, d))
    s_F = np.empty((NB, 9))
    s_G = np.empty((NB, 9))
    s_df = np.empty((NB, 2))
    s_dg = np.empty((NB, 2))
    s_herma = np.empty(NB, dtype=np.bool_)
    s_tab = np.empty(NB, dtype=np.bool_)
    s_eta = np.empty(NB)
    s_bk = np.empty((NB if wkind != 0 else 0, K))
    bk0 = np.empty(0)
    s_wst = np.empty(NB)
    s_R = np.empty(NB)
    s_A = np.empty(NB)
    s_lev = np.empty(NB, dtype=np.int64)
    s_done = np.empty(NB, dtype=np.bool_)
    s_bad = np.empty(NB, dtype=np.bool_)
    # rows of a block: their segment (slot) and t
    r_s = np.zeros(nrow_max, dtype=np.int64)
    r_t = np.zeros(nrow_max)
    st0 = np.empty(4 * max_depth + 8)
    st1 = np.empty(4 * max_depth + 8)
    stR = np.empty(4 * max_depth + 8)
    stA = np.empty(4 * max_depth + 8)
    stD = np.empty(4 * max_depth + 8, dtype=np.int64)
    for e0 in range(e_start, e_stop, NB):
        nblk = min(NB, e_stop - e0)
        # (a) endpoint data, level-1/2 weights
        nact = 0
        for s in range(nblk):
            e = e0 + s
            ia, ib, sgn = _canonical(P, ea[e], eb[e])
            v = s_v[nact]
            h2 = 0.0
            for i in range(d):
                v[i] = P[ib, i] - P[ia, i]
                h2 += v[i] * v[i]
            wst = 0.0
            if okind != OMEGA_NONE:
                wst = max(onn[ia], onn[ib])
            if h2 == 0.0:
                R[e] = 0.0
                A[e] = 0.0
                worst[e] = wst
                level[e] = 0
                continue
            # endpoint values and derivatives (Hermite data), from ``adaptive_ends``
            f0 = EF[e, 0]
            f1 = EF[e, 1]
            df0 = ED[e, 0]
            df1 = ED[e, 1]
            if not (f0 == f0 and f1 == f1):
                R[e] = np.nan
                A[e] = 0.0
                worst[e] = wst
                level[e] = 0
                continue
            s_F[nact, 0] = f0
            s_F[nact, 8] = f1
            s_G[nact, 0] = EG[e, 0]
            s_G[nact, 8] = EG[e, 1]
            # Hermite rules for A unless omega was rescaled at an end
            herm_a = hermite and not (ER[e, 0] or ER[e, 1])
            dg0 = EDG[e, 0] if herm_a else 0.0
            dg1 = EDG[e, 1] if herm_a else 0.0
            # roots products need bounded t(1-t) factors
            tab = use_table and K > 0
            eta = 0.0
            bk = s_bk[nact] if wkind != 0 else bk0
            if tab:
                if wkind == 0:
                    eta = h2 * inv_scale
                    tab = eta <= _PSI_MAX
                else:
                    for k in range(K):
                        psi = _qform_dir(k, v, wkind, wdT, wfull) * inv_scale
                        if psi > _PSI_MAX:
                            tab = False
                            break
                        bk[k] = math.exp(psi / 64.0)
            s_ia[nact] = ia
            s_ib[nact] = ib
            s_e[nact] = e
            s_sgn[nact] = sgn
            s_df[nact, 0] = df0
            s_df[nact, 1] = df1
            s_dg[nact, 0] = dg0
            s_dg[nact, 1] = dg1
            s_herma[nact] = herm_a
            s_tab[nact] = tab
            s_eta[nact] = eta
            s_wst[nact] = wst
            _point_weights(4, tab, wkind, table, ia, ib, eta, bk, P, v, z, cT, wdT, wfull,
                           inv_scale, qcut, Wb, nact, xb, ib_)
            r_s[nact] = nact
            r_t[nact] = 0.5
            nact += 1
        if nact == 0:
            continue
        # (b) level 1 (t = 1/2) of the block
        _block_points(Wb, nact, MtT, Cb, r_s, r_t, s_v, P, s_ia, Z4, V4, C0p, diag, d, okind,
                      oparams, om, max_norm, wk, fo, go, ono, fb, gb, onb)
        n2 = 0
        for s in range(nact):
            df0 = s_df[s, 0]
            df1 = s_df[s, 1]
            dg0 = s_dg[s, 0]
            dg1 = s_dg[s, 1]
            herm_a = s_herma[s]
            Rprev, Aprev = _rule_value(0, s_F, s_G, s, hermite, herm_a, rules_h, rules_v, df0,
                                       df1, dg0, dg1)
            s_done[s] = False
            s_lev[s] = 0
            f = fb[s]
            s_F[s, 4] = f
            s_G[s, 4] = gb[s]
            s_wst[s] = max(s_wst[s], onb[s])
            if not f == f:
                s_bad[s] = True
                continue
            s_bad[s] = False
            Rl, Al = _rule_value(1, s_F, s_G, s, hermite, herm_a, rules_h, rules_v, df0, df1, dg0,
                                  dg1)
            s_lev[s] = 1
            err = max(abs(Rl - Rprev), abs(Al - Aprev))
            # level 1 only with Hermite rules: trapezoid against Simpson is too easily fooled
            if err <= rtol * Rl and hermite and (herm_a or okind == OMEGA_NONE):
                s_done[s] = True
            else:
                # level 2 needed: the weights of t = 1/4 and 3/4 into the next two rows
                for p in range(2):
                    j = level_new[1, p]
                    _point_weights(j, s_tab[s], wkind, table, s_ia[s], s_ib[s], s_eta[s],
                                   s_bk[s] if wkind != 0 else bk0, P, s_v[s], z, cT, wdT,
                                   wfull, inv_scale, qcut, Wb, 2 * n2 + p, xb, ib_)
                    r_s[2 * n2 + p] = s
                    r_t[2 * n2 + p] = j / 8.0
                n2 += 1
            s_R[s] = Rl
            s_A[s] = Al
        # (c) level 2 (t = 1/4, 3/4) of the segments level 1 does not accept
        if n2 > 0:
            _block_points(Wb, 2 * n2, MtT, Cb, r_s, r_t, s_v, P, s_ia, Z4, V4, C0p, diag, d,
                          okind, oparams, om, max_norm, wk, fo, go, ono, fb, gb, onb)
        # (d) per segment: level-2 acceptance, then level 3 and the bisection fallback
        r2 = 0
        for s in range(nact):
            e = s_e[s]
            wst = s_wst[s]
            if s_bad[s]:
                R[e] = np.nan
                A[e] = 0.0
                worst[e] = wst
                level[e] = s_lev[s]
                continue
            Rl = s_R[s]
            Al = s_A[s]
            lev = s_lev[s]
            done = s_done[s]
            bad = False
            ia = s_ia[s]
            ib = s_ib[s]
            pa = P[ia]
            v = s_v[s]
            if not done:
                df0 = s_df[s, 0]
                df1 = s_df[s, 1]
                dg0 = s_dg[s, 0]
                dg1 = s_dg[s, 1]
                herm_a = s_herma[s]
                tab = s_tab[s]
                eta = s_eta[s]
                bk = s_bk[s] if wkind != 0 else bk0
                Rprev = Rl
                Aprev = Al
                for lv in range(2, 4):
                    nnew = 2 if lv == 2 else 4
                    if lv == 3:
                        # level 3 on demand: its four points in one block
                        for p in range(4):
                            _point_weights(level_new[2, p], tab, wkind, table, ia, ib, eta,
                                           bk, P, v, z, cT, wdT, wfull, inv_scale, qcut, Wx,
                                           p, xb, ib_)
                            t = level_new[2, p] / 8.0
                            for i in range(d):
                                Z4[p, i] = pa[i] + t * v[i]
                                V4[p, i] = v[i]
                        _wsum(Wx, GV, MtT, Cx)
                        _finish4(Cx, 0, Z4, V4, C0p, diag, d, okind, oparams, om, max_norm,
                                 wk, fo, go, ono)
                    for p in range(nnew):
                        j = level_new[lv - 1, p]
                        if lv == 3:
                            f = fo[p]
                            g = go[p]
                            on = ono[p]
                        else:
                            f = fb[2 * r2 + p]
                            g = gb[2 * r2 + p]
                            on = onb[2 * r2 + p]
                        if not f == f:
                            bad = True
                        s_F[s, j] = f
                        s_G[s, j] = g
                        if on > wst:
                            wst = on
                    if lv == 2:
                        r2 += 1
                    if bad:
                        break
                    Rl, Al = _rule_value(lv, s_F, s_G, s, hermite, herm_a, rules_h, rules_v, df0,
                                         df1, dg0, dg1)
                    lev = lv
                    if lv == 2:
                        # a Hermite level-2 value is compared with the better degree-5 rule on
                        # its points, Boole's (values only), rather than with the 1-point
                        # Hermite rule
                        if hermite:
                            Rprev = (rules_v[2, 0] * s_F[s, 0] + rules_v[2, 2] * s_F[s, 2]
                                     + rules_v[2, 4] * s_F[s, 4] + rules_v[2, 6] * s_F[s, 6]
                                     + rules_v[2, 8] * s_F[s, 8])
                        if herm_a:
                            Aprev = (rules_v[2, 0] * s_G[s, 0] + rules_v[2, 2] * s_G[s, 2]
                                     + rules_v[2, 4] * s_G[s, 4] + rules_v[2, 6] * s_G[s, 6]
                                     + rules_v[2, 8] * s_G[s, 8])
                    err = max(abs(Rl - Rprev), abs(Al - Aprev))
                    if err <= rtol * Rl:
                        done = True
                        break
                    Rprev = Rl
                    Aprev = Al
                if bad:
                    R[e] = np.nan
                    A[e] = 0.0
                    worst[e] = wst
                    level[e] = lev
                    continue
            if not done:
                # recursive bisection with Gauss-Legendre panels, compared with the level below
                tol = rtol * abs(Rl)
                Rs = 0.0
                As = 0.0
                st0[0] = 0.0
                st1[0] = 1.0
                stR[0] = Rl
                stA[0] = Al
                stD[0] = 0
                top = 1
                while top > 0:
                    top -= 1
                    t0 = st0[top]
                    t1 = st1[top]
                    I1R = stR[top]
                    I1A = stA[top]
                    dep = stD[top]
                    tm = 0.5 * (t0 + t1)
                    LR, LA, w1 = _gl_panel(pa, v, t0, tm, tq, wq, Wx, Cx, Z4, V4, xb, ib_,
                                           cT, wkind, wdT, wfull, inv_scale, qcut, MtT, C0p,
                                           diag, okind, oparams, om, max_norm, wk, fo, go, ono)
                    RR, RA, w2 = _gl_panel(pa, v, tm, t1, tq, wq, Wx, Cx, Z4, V4, xb, ib_,
                                           cT, wkind, wdT, wfull, inv_scale, qcut, MtT, C0p,
                                           diag, okind, oparams, om, max_norm, wk, fo, go, ono)
                    wst = max(wst, max(w1, w2))
                    I2R = LR + RR
                    I2A = LA + RA
                    if not I2R == I2R:
                        Rs = np.nan
                        break
                    err = max(abs(I2R - I1R), abs(I2A - I1A))
                    if err <= tol * (t1 - t0) or dep >= max_depth:
                        Rs += I2R
                        As += I2A
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
                Rl = Rs
                Al = As
                lev = 4
            R[e] = Rl
            A[e] = s_sgn[s] * Al
            worst[e] = wst
            level[e] = lev


@njit(cache=True, parallel=True)
def adaptive_edges(P, ea, eb, cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale, qcut,
                   table, use_table, EF, ED, EG, EDG, ER, hermite, okind, oparams, onn, max_norm,
                   rtol, rules_h, rules_v, level_new, tq, wq, max_depth, nchunks,
                   R, A, worst, level):
    """Adaptive integrals of R and A over the segments P[ea[e]] -> P[eb[e]].

    Uses the roots table and |omega| of ``adaptive_nodes`` and the endpoint data of
    ``adaptive_ends``. level[e] receives the accepted level
    (1..3) or 4 for the bisection fallback. Each segment is integrated in a
    canonical orientation (lexicographic order of its endpoints), so a -> b and
    b -> a give bitwise the same R and opposite A. The segments are split into
    ``nchunks`` contiguous ranges run in parallel.
    """
    n = ea.shape[0]
    for c in prange(nchunks):
        _edges_range(c * n // nchunks, (c + 1) * n // nchunks, P, ea, eb, cT, wkind, wdT,
                     wfull, MtT, C0p, diag, inv_scale, qcut, table, use_table, EF, ED, EG, EDG,
                     ER, hermite, okind, oparams, onn, max_norm, rtol, rules_h, rules_v,
                     level_new, tq, wq, max_depth, R, A, worst, level)


def adaptive_data(driver, params, d):
    """Arrays of the adaptive kernels for a fused metric family.

    Returns (cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale, qcut), cT (d, K) and
    wdT (d, K) the centroids and diagonal weight precisions transposed: the
    cometric is C(z) = C0p + sum_k exp(-q_k(z) inv_scale) M_k with MtT[j, k] the
    packed lower triangle (or the diagonal) of M_k, zero rows appended up to a multiple
    of WSUM_ROWS (``_wsum``'s register blocks); constant metrics have K = 0.
    """
    ntri = d * (d + 1) // 2
    tri_i, tri_j = np.tril_indices(d)
    if driver is costs_cometric_full or driver is costs_cometric_diag:
        centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut = params
        diag = driver is costs_cometric_diag
        K = centroids.shape[0]
        if diag:
            m = d
            rows = np.ascontiguousarray(M.T)
            c0 = np.full(d, float(lbd))
        else:
            m = ntri
            rows = np.ascontiguousarray(M[:, tri_i, tri_j].T)
            c0 = np.where(tri_i == tri_j, float(lbd), 0.0)
        npad = -(-m // WSUM_ROWS) * WSUM_ROWS
        MtT = np.zeros((npad, K))
        MtT[:m] = rows
        C0p = np.zeros(npad)
        C0p[:m] = c0
        return (np.ascontiguousarray(centroids.T, dtype=np.float64), int(wkind),
                np.ascontiguousarray(wdiag.T, dtype=np.float64),
                np.ascontiguousarray(wfull, dtype=np.float64), MtT, C0p, diag,
                float(inv_scale), np.ascontiguousarray(qcut, dtype=np.float64))
    if driver is costs_constant:
        Ainv = params[1]
    elif driver is costs_identity:
        Ainv = np.eye(d)
    else:
        raise ValueError("no adaptive kernel for this driver")
    npad = -(-ntri // WSUM_ROWS) * WSUM_ROWS
    C0p = np.zeros(npad)
    C0p[:ntri] = Ainv[tri_i, tri_j]
    return (np.zeros((d, 0)), 0, np.zeros((d, 1)), np.zeros((1, d, d)), np.zeros((npad, 0)),
            C0p, False, 0.0, np.zeros(0))
