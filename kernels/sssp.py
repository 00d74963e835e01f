"""Many-source shortest paths on a directed CSR graph (non-negative weights).

One Dijkstra per source, sources spread over threads (prange over chunks of
sources, each chunk with its own buffers, reset through a list of touched
nodes so that an early-exiting search costs what it visits, not O(n)).
Options: a distance limit, early exit once the requested targets are settled,
predecessors, and several seeds with initial offsets (multi-source search that
also labels every node with its nearest seed: the graph Voronoi partition).

The queue is the indexed 4-ary heap of :mod:`.heap` (decrease-key, each node
queued at most once). Pair queries may use A* with landmark (ALT) bounds.
"""

import math

import numpy as np
from numba import njit, prange

from .heap import pq_pop, pq_update

INF = np.inf


@njit(cache=True, inline="always")
def _dijkstra(indptr, indices, data, seeds, offsets, limit, dist, pred, label, track,
              hkeys, hnodes, hpos, touched, tmark, stamp, n_targets, keep_touched=True):
    """Run one (multi-seed) search in the given buffers; return the number of touched nodes.

    dist must be inf and hpos -1 for every node on entry; the touched nodes are
    the ones to reset afterwards (hpos is left all -1). keep_touched=False (a
    search over all nodes whose caller resets dist in full) skips that list and
    returns 0. A popped node is final
    (keys only decrease, and a relaxation from a later node cannot improve it).
    With track, pred/label are written for touched nodes. Stops once n_targets
    nodes with tmark == stamp are settled (n_targets <= 0: run to completion).
    """
    nt = 0
    size = 0
    for s in range(seeds.shape[0]):
        v = seeds[s]
        d0 = offsets[s]
        if d0 < dist[v] and d0 <= limit:
            if keep_touched and dist[v] == INF:
                touched[nt] = v
                nt += 1
            dist[v] = d0
            if track:
                pred[v] = -1
                label[v] = s
            size = pq_update(hkeys, hnodes, hpos, size, d0, v)
    remaining = n_targets
    while size > 0:
        du, u, size = pq_pop(hkeys, hnodes, hpos, size)
        if remaining > 0 and tmark[u] == stamp:
            remaining -= 1
            if remaining == 0:
                break
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            nd = du + data[p]
            if nd < dist[v] and nd <= limit:
                if keep_touched and dist[v] == INF:
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                if track:
                    pred[v] = u
                    label[v] = label[u]
                size = pq_update(hkeys, hnodes, hpos, size, nd, v)
    for j in range(size):  # early exit: nodes still queued
        hpos[hnodes[j]] = -1
    return nt


@njit(cache=True)
def _reset(touched, nt, dist):
    for t in range(nt):
        dist[touched[t]] = INF


@njit(cache=True, parallel=True)
def rows(indptr, indices, data, sptr, seeds, offsets, targets, n_distinct, tmask, limit, out,
         want_pred, pred_out, n_chunks):
    """out[i, c] = distance from source i to targets[c] (all nodes when targets is empty).

    Source i is the set of seeds[sptr[i]:sptr[i+1]] with initial distances
    offsets[...] (a graph node: one seed at offset 0; an off-graph point: its
    attachment nodes at the attachment costs). tmask[v] is True for the target
    nodes (n_distinct of them) and enables the early exit; with want_pred,
    pred_out[i] receives the full predecessor row of source i (-1 at seeds and
    unreached nodes).
    """
    n = indptr.shape[0] - 1
    ns = sptr.shape[0] - 1
    all_nodes = targets.shape[0] == 0
    per = (ns + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        lo = ch * per
        hi = min(ns, lo + per)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        pred = np.empty(n, dtype=np.int64)
        label = np.empty(n, dtype=np.int64)
        hkeys = np.empty(n)
        hnodes = np.empty(n, dtype=np.int32)
        hpos = np.full(n, -1, dtype=np.int32)
        touched = np.empty(n, dtype=np.int32)
        for i in range(lo, hi):
            a, b = sptr[i], sptr[i + 1]
            if all_nodes and not want_pred:
                # the whole row: no touched list, one sequential copy and refill
                _dijkstra(indptr, indices, data, seeds[a:b], offsets[a:b], limit, dist, pred,
                          label, False, hkeys, hnodes, hpos, touched, tmask, True, 0, False)
                for v in range(n):
                    out[i, v] = dist[v]
                    dist[v] = INF
                continue
            nt = _dijkstra(indptr, indices, data, seeds[a:b], offsets[a:b], limit, dist, pred,
                           label, want_pred, hkeys, hnodes, hpos, touched, tmask, True,
                           0 if all_nodes else n_distinct)
            if all_nodes:
                for v in range(n):
                    out[i, v] = dist[v]
            else:
                for c in range(targets.shape[0]):
                    out[i, c] = dist[targets[c]]
            if want_pred:
                for v in range(n):
                    pred_out[i, v] = -1
                for t in range(nt):
                    v = touched[t]
                    pred_out[i, v] = pred[v]
            _reset(touched, nt, dist)


@njit(cache=True, parallel=True)
def pairs(indptr, indices, data, usrc, tptr, tnodes, tpos, limit, out, n_chunks):
    """Grouped pair queries: for source usrc[i], out[tpos[j]] = dist(usrc[i] -> tnodes[j])
    for j in tptr[i]:tptr[i+1]; each search stops once its own targets are settled."""
    n = indptr.shape[0] - 1
    ns = usrc.shape[0]
    per = (ns + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        lo = ch * per
        hi = min(ns, lo + per)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        pred = np.empty(n, dtype=np.int64)
        label = np.empty(n, dtype=np.int64)
        hkeys = np.empty(n)
        hnodes = np.empty(n, dtype=np.int32)
        hpos = np.full(n, -1, dtype=np.int32)
        touched = np.empty(n, dtype=np.int32)
        tmark = np.full(n, -1, dtype=np.int64)
        seeds = np.empty(1, dtype=np.int64)
        zero = np.zeros(1)
        for i in range(lo, hi):
            cnt = 0
            for j in range(tptr[i], tptr[i + 1]):
                v = tnodes[j]
                if tmark[v] != i:
                    tmark[v] = i
                    cnt += 1
            seeds[0] = usrc[i]
            nt = _dijkstra(indptr, indices, data, seeds, zero, limit, dist, pred, label, False,
                           hkeys, hnodes, hpos, touched, tmark, i, cnt)
            for j in range(tptr[i], tptr[i + 1]):
                out[tpos[j]] = dist[tnodes[j]]
            _reset(touched, nt, dist)


@njit(cache=True)
def multi_source(indptr, indices, data, seeds, offsets, limit, tmask, n_targets):
    """One search from several seeds with initial distances offsets.

    Stops once the n_targets nodes with tmask True are settled (n_targets 0: all).
    Returns (dist, nearest seed index into seeds (-1 unreached), predecessor (-1)).
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, INF)
    pred = np.full(n, -1, dtype=np.int64)
    label = np.full(n, -1, dtype=np.int64)
    hkeys = np.empty(n)
    hnodes = np.empty(n, dtype=np.int32)
    hpos = np.full(n, -1, dtype=np.int32)
    touched = np.empty(n, dtype=np.int32)
    _dijkstra(indptr, indices, data, seeds, offsets, limit, dist, pred, label, True,
              hkeys, hnodes, hpos, touched, tmask, True, n_targets)
    return dist, label, pred


@njit(cache=True, inline="always")
def _lower_bound(points, v, t, hscale, lm, nl, slack):
    """Admissible estimate of dist(v -> t): the largest of hscale |z_v - z_t| and the
    landmark bounds d(L, t) - d(L, v), d(v, L) - d(t, L), less slack, at least 0.

    lm[v, :nl] = d(L_l, v), lm[v, nl:] = d(v, L_l). inf means v cannot reach t (a
    landmark reaches v but not t, or v reaches a landmark that t does not); inf - inf
    (nan) carries no information and is skipped by the comparisons.
    """
    h = 0.0
    if hscale > 0.0:
        s = 0.0
        for k in range(points.shape[1]):
            x = points[v, k] - points[t, k]
            s += x * x
        h = hscale * math.sqrt(s)
    for m in range(nl):
        b = lm[t, m] - lm[v, m]
        if b > h:
            h = b
        b = lm[v, nl + m] - lm[t, nl + m]
        if b > h:
            h = b
    if h == INF:
        return INF
    h -= slack
    return h if h > 0.0 else 0.0


@njit(cache=True, parallel=True)
def astar_pairs(indptr, indices, data, points, src, dst, hscale, lm, slack, limit, out,
                settled, n_chunks):
    """out[i] = distance src[i] -> dst[i] by A*; settled[i] = nodes popped.

    The estimate is :func:`_lower_bound` (Euclidean term when hscale > 0, landmark
    bounds when lm has columns: lm is (n, 2 L), or (n, 0) without landmarks). It
    must be admissible (never above the true remaining cost); a node whose cost
    drops after it was popped (an estimate that is admissible but, through
    rounding, not exactly consistent) is queued again, so the answer is the exact
    shortest distance either way. Nodes that cannot reach the target (infinite
    estimate) and nodes whose estimate puts the target beyond limit are never
    queued. Parallel over pairs, per-chunk buffers reset through the touched list,
    so a query costs what it visits.
    """
    n = indptr.shape[0] - 1
    m = src.shape[0]
    nl = lm.shape[1] // 2
    per = (m + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        lo = ch * per
        hi = min(m, lo + per)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        hv = np.empty(n)
        hkeys = np.empty(n)
        hnodes = np.empty(n, dtype=np.int32)
        hpos = np.full(n, -1, dtype=np.int32)
        touched = np.empty(n, dtype=np.int32)
        for i in range(lo, hi):
            s = src[i]
            t = dst[i]
            res = INF
            pops = 0
            dist[s] = 0.0
            touched[0] = s
            nt = 1
            size = 0
            h0 = _lower_bound(points, s, t, hscale, lm, nl, slack)
            hv[s] = h0
            if h0 < INF and h0 <= limit:
                size = pq_update(hkeys, hnodes, hpos, size, h0, s)
            while size > 0:
                f, u, size = pq_pop(hkeys, hnodes, hpos, size)
                pops += 1
                if u == t:
                    res = dist[u]
                    break
                du = dist[u]
                for p in range(indptr[u], indptr[u + 1]):
                    v = indices[p]
                    nd = du + data[p]
                    if nd < dist[v] and nd <= limit:
                        if dist[v] == INF:
                            touched[nt] = v
                            nt += 1
                            hv[v] = _lower_bound(points, v, t, hscale, lm, nl, slack)
                        dist[v] = nd
                        fv = nd + hv[v]
                        if fv < INF and fv <= limit:
                            size = pq_update(hkeys, hnodes, hpos, size, fv, v)
            out[i] = res
            settled[i] = pops
            for j in range(size):
                hpos[hnodes[j]] = -1
            for j in range(nt):
                dist[touched[j]] = INF
