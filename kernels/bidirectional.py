"""Bidirectional A* for one source -> target pair of a directed graph (single-pair queries).

Two searches: forward from s on the graph, backward from t on its transpose, both
A* with the *average* potential of Ikeda et al. / Goldberg & Harrelson (ALT):

    p(v) = (pi_t(v) - pi_s(v)) / 2,    forward key df(v) + p(v),  backward key dr(v) - p(v)

where pi_t(v) <= d(v -> t) and pi_s(v) <= d(s -> v) are the lower bounds of
:func:`bounds` (a geometric bound and landmark bounds). Every label improvement of a
node reached by both searches proposes the path df(v) + dr(v); the best is mu. The
searches stop when

    top_f + top_r >= mu + margin                    (or either queue is empty)

Exactness. With exact potentials each edge has a non-negative reduced cost and the
classic argument gives mu = d(s -> t) at the stop with margin 0. In floating point the
bounds are consistent only up to the rounding of the landmark table (a few ulps of a
path length, bounded by the table's slack) and the reduced costs may be slightly
negative. Both searches therefore re-open a node whose label drops after it was
popped (so each is an A* with an admissible estimate, exact on its own), and the
stop test carries ``margin``: let y be the last node of a shortest path P whose prefix
s..y has exact forward labels and y' the first whose suffix y'..t has exact backward
labels. If y' is not after y on P, y' has both labels exact and mu = d(s, t) already.
Otherwise y and y' are queued with their exact labels, so

    top_f + top_r <= d(s, y) + p(y) + d(y', t) - p(y') <= d(s, t) + (p(y) - p(y') - d(y, y')),

and p(y) - p(y') - d(y, y') <= E, the inconsistency of the bounds over any path
(not per edge: landmark differences telescope), which the caller bounds by margin.
So while mu > d(s, t) the test fails and the search goes on. An empty queue means the
whole of P is labelled exactly from that side (mu = d(s, t) too).

Nodes with pi_t = inf (they cannot reach t) are never queued forward, nodes with
pi_s = inf (s cannot reach them) never backward; with a finite limit, nodes whose
bound puts the target beyond it are not queued either.

The returned length is the sum of the edge weights along the returned node sequence,
in path order (the path realises it exactly).
"""

import math

import numpy as np
from numba import njit

from .heap import pq_pop, pq_update

INF = np.inf


@njit(cache=True, inline="always")
def bounds(pot, s, t, v):
    """(pi_t, pi_s): lower bounds of d(v -> t) and d(s -> v), inf where unreachable.

    pot = (points, b, c, hscale, lm, slack). The geometric bound of d(u -> w) is the
    larger of hscale |z_w - z_u| and c |z_w - z_u| + <b, z_w - z_u> (valid when every
    edge u -> w costs at least both; b has shape (d,), or (0,) for none); lm[v, :L] =
    d(L_l -> v), lm[v, L:] = d(v -> L_l) give the landmark bounds (triangle
    inequality; inf - inf carries no information and is skipped). Both bounds lose
    slack and are at least 0.
    """
    points, b, c, hscale, lm, slack = pot
    ht = 0.0
    hs = 0.0
    if hscale > 0.0 or c > 0.0:
        st = 0.0
        ss = 0.0
        bt = 0.0
        bs = 0.0
        affine = b.shape[0] > 0
        for k in range(points.shape[1]):
            x = points[v, k]
            yt = points[t, k] - x
            ys = x - points[s, k]
            st += yt * yt
            ss += ys * ys
            if affine:
                bt += b[k] * yt
                bs += b[k] * ys
        nt = math.sqrt(st)
        ns = math.sqrt(ss)
        ht = hscale * nt
        hs = hscale * ns
        if affine:
            x = c * nt + bt
            if x > ht:
                ht = x
            x = c * ns + bs
            if x > hs:
                hs = x
    nl = lm.shape[1] // 2
    for m in range(nl):
        fv = lm[v, m]
        rv = lm[v, nl + m]
        x = lm[t, m] - fv        # d(L, t) - d(L, v) <= d(v, t)
        if x > ht:
            ht = x
        x = rv - lm[t, nl + m]   # d(v, L) - d(t, L) <= d(v, t)
        if x > ht:
            ht = x
        x = fv - lm[s, m]        # d(L, v) - d(L, s) <= d(s, v)
        if x > hs:
            hs = x
        x = lm[s, nl + m] - rv   # d(s, L) - d(v, L) <= d(s, v)
        if x > hs:
            hs = x
    if ht < INF:
        ht = max(ht - slack, 0.0)
    if hs < INF:
        hs = max(hs - slack, 0.0)
    return ht, hs


@njit(cache=True)
def workspace(n):
    """Buffers of :func:`pair` over n nodes, clean (the state every call leaves them in):

    (df, dr, pt, ps, seen, predf, predr, fkeys, fnodes, fpos, rkeys, rnodes, rpos, touched)
    """
    # zeros rather than empty: the pages are touched here, once, not by the first queries
    return (np.full(n, INF), np.full(n, INF), np.zeros(n), np.zeros(n),
            np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.int32),
            np.zeros(n, dtype=np.int32), np.zeros(n), np.zeros(n, dtype=np.int32),
            np.full(n, -1, dtype=np.int32), np.zeros(n), np.zeros(n, dtype=np.int32),
            np.full(n, -1, dtype=np.int32), np.zeros(n, dtype=np.int32))


@njit(cache=True, inline="always")
def _see(pot, s, t, v, pt, ps, seen, touched, nt):
    """Compute the bounds of v when first reached; return the new touched count."""
    if not seen[v]:
        seen[v] = True
        pt[v], ps[v] = bounds(pot, s, t, v)
        touched[nt] = v
        nt += 1
    return nt


@njit(cache=True, inline="always")
def _weight(csr, u, v):
    """Weight of edge u -> v (the smallest, should the row hold v twice)."""
    indptr, indices, data = csr
    w = INF
    for p in range(indptr[u], indptr[u + 1]):
        if indices[p] == v and data[p] < w:
            w = data[p]
    return w


@njit(cache=True)
def pair(fcsr, rcsr, s, t, pot, limit, margin, work):
    """Shortest path s -> t (s != t) by bidirectional A*; see the module docstring.

    fcsr, rcsr: CSR arrays (indptr, indices, data) of the graph and of its transpose.
    pot: the bounds record of :func:`bounds`. limit: paths longer than it are not
    searched (inf: none). margin >= the inconsistency of the bounds (0 for exact,
    consistent bounds). work: :func:`workspace` (n), left clean on return.

    Returns (length, nodes s..t int64, nodes popped by both searches); length inf and
    an empty path when t cannot be reached within limit.
    """
    df, dr, pt, ps, seen, predf, predr, fk, fn, fp, rk, rn, rp, touched = work
    nt = 0
    sf = 0
    sr = 0
    nt = _see(pot, s, t, s, pt, ps, seen, touched, nt)
    nt = _see(pot, s, t, t, pt, ps, seen, touched, nt)
    df[s] = 0.0
    dr[t] = 0.0
    predf[s] = -1
    predr[t] = -1
    if pt[s] < INF and pt[s] <= limit:
        sf = pq_update(fk, fn, fp, sf, 0.5 * (pt[s] - ps[s]), s)
    if ps[t] < INF and ps[t] <= limit:
        sr = pq_update(rk, rn, rp, sr, 0.5 * (pt[t] - ps[t]), t)
    mu = INF
    meet = -1
    pops = 0
    while sf > 0 and sr > 0:
        if fk[0] + rk[0] >= mu + margin:
            break
        if sf <= sr:  # expand the smaller frontier
            _, u, sf = pq_pop(fk, fn, fp, sf)
            pops += 1
            du = df[u]
            indptr, indices, data = fcsr
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = du + data[e]
                if nd < df[v]:
                    nt = _see(pot, s, t, v, pt, ps, seen, touched, nt)
                    if pt[v] == INF or nd + pt[v] > limit:  # pt = inf: v cannot reach t
                        continue
                    df[v] = nd
                    predf[v] = u
                    if dr[v] < INF and nd + dr[v] < mu:
                        mu = nd + dr[v]
                        meet = v
                    sf = pq_update(fk, fn, fp, sf, nd + 0.5 * (pt[v] - ps[v]), v)
        else:
            _, u, sr = pq_pop(rk, rn, rp, sr)
            pops += 1
            du = dr[u]
            indptr, indices, data = rcsr
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = du + data[e]
                if nd < dr[v]:
                    nt = _see(pot, s, t, v, pt, ps, seen, touched, nt)
                    if ps[v] == INF or nd + ps[v] > limit:  # ps = inf: s cannot reach v
                        continue
                    dr[v] = nd
                    predr[v] = u
                    if df[v] < INF and nd + df[v] < mu:
                        mu = nd + df[v]
                        meet = v
                    sr = pq_update(rk, rn, rp, sr, nd + 0.5 * (ps[v] - pt[v]), v)
    # the path s .. meet .. t
    path = np.empty(0, dtype=np.int64)
    length = INF
    if meet >= 0:
        nf = 0
        v = meet
        while v != -1:
            nf += 1
            v = predf[v]
        nr = 0
        v = predr[meet]
        while v != -1:
            nr += 1
            v = predr[v]
        path = np.empty(nf + nr, dtype=np.int64)
        v = meet
        for i in range(nf - 1, -1, -1):
            path[i] = v
            v = predf[v]
        v = predr[meet]
        for i in range(nf, nf + nr):
            path[i] = v
            v = predr[v]
        length = 0.0
        for i in range(nf + nr - 1):
            length += _weight(fcsr, path[i], path[i + 1])
        if length > limit:
            length = INF
            path = np.empty(0, dtype=np.int64)
    # leave the buffers clean
    for j in range(sf):
        fp[fn[j]] = -1
    for j in range(sr):
        rp[rn[j]] = -1
    for j in range(nt):
        v = touched[j]
        df[v] = INF
        dr[v] = INF
        seen[v] = False
    return length, path, pops
