"""Adaptive, node-shared quadrature of the centroid cometrics: the scheme, its rules and the
centroid weights (exponentials, root products, the weighted sums of the M_k).


In a k-nearest-neighbour graph every node ends ~2k segments, so everything the
rules need at t = 0 and t = 1 is computed once per node (``adaptive_nodes``):
the cometric C, its Cholesky factor and inverse, the tensors
S_i = sum_k w_k (dq_k/dz_i) M_k that give the derivative of the integrand along
any direction (Hermite data), omega and its Jacobian, and the eighth roots
r_k = w_k^(1/8) of the centroid weights. Along z(t) = a + t v the Gaussian
weights factor exactly,

    w_k(t) = w_k(a)^(1-t) w_k(b)^t exp(t (1-t) v^T P_k v / scale),

so at the dyadic points t = j/8 a weight is a product of stored roots: no
exponential per centroid and quadrature point. ``adaptive_ends`` turns the node
data into each segment's end values f(0), f(1) and derivatives, visiting the
segment ends node by node (a node's tensors are read once for all its segments;
read per segment, the second endpoint's were mostly cold in cache: ~10% of the
time at d = 8). ``adaptive_edges`` then climbs
nested rules on the points t = j/8,

    level 1: t = 1/2       level 2: + 1/4, 3/4       level 3: + 1/8, 3/8, 5/8, 7/8

with Hermite rules (values plus f'(0), f'(1); exact to degrees 5, 7, 11 over
the level-0 rule of degree 3) when node tensors are available, closed
Newton-Cotes rules (degrees 3, 5, 9 over 1) otherwise. A level is accepted when
it differs from a lower-degree rule by at most rtol * R, for R and for A: from
the level below, except at level 2 of the Hermite rules, compared with Boole's
rule on the same points (degree 5, more accurate than the 1-point level 1);
value rules start at level 2 (Simpson against the trapezoid is easily fooled). The
estimate is the error of the lower rule, so the accepted value is usually far
more accurate than rtol; the estimate is no bound (bench/edge_weights.py
observes errors up to ~2 rtol, on segments accepted at level 1). A segment no
level accepts is integrated by recursive bisection with 8-point Gauss-Legendre
panels (exponential weights).
Evaluation is blocked (``_edges_range``, ``_nodes_range``): the points of several
segments (the nodes: four at a time, their d + 1 weight vectors each) share one pass
over the packed M_k (``_wsum``, ~17 GFMA/s per core at d = 8, about twice the
throughput of one or two points per pass) and their Cholesky solves run four side by
side (``_chol_norm4``); every quantity is still computed per segment with the same
operations wherever it sits in a block, so results do not depend on the grouping.
Centroid weights below the family's rigorous cutoff (qcut) are skipped at the
nodes and in the fallback; the roots are kept down to 8 (qcut + 7), which
bounds every skipped interior weight by exp(-qcut) as long as the t(1 - t)
factor stays below exp(_PSI_MAX / 4) (longer segments use exponentials).

Kernels: ``adaptive_nodes`` and ``adaptive_ends`` (kernels/adaptive_nodes.py), then
``adaptive_edges`` (kernels/adaptive_edges.py). They take the packed cometric
``cd = (cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale, qcut)``: C(z) = C0p +
sum_k exp(-q_k(z) inv_scale) M_k with MtT[j, k] the packed lower triangle (or the
diagonal, diag) of M_k, zero rows up to a multiple of WSUM_ROWS; cT (d, K) and wdT (d, K)
the centroids and diagonal weight precisions transposed; constant metrics have K = 0.
"""


import numpy as np
from numba import njit

from .linalg import _FM, _exp_neg

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

