"""Many-source shortest paths on a directed CSR graph (non-negative weights).

One Dijkstra per source, sources spread over threads (prange over chunks of
sources, each chunk with its own buffers, reset through a list of touched
nodes so that an early-exiting search costs what it visits, not O(n)).
Options: a distance limit, early exit once the requested targets are settled,
predecessors, and several seeds with initial offsets (multi-source search that
also labels every node with its nearest seed: the graph Voronoi partition).
"""

import math

import numpy as np
from numba import njit, prange

from .heap import heap_pop, heap_push

INF = np.inf


@njit(cache=True, inline="always")
def _dijkstra(indptr, indices, data, seeds, offsets, limit, dist, pred, label, track,
              hkeys, hnodes, touched, tmark, stamp, n_targets):
    """Run one (multi-seed) search in the given buffers; return the number of touched nodes.

    dist must be inf for every node on entry; the touched nodes are the ones to
    reset afterwards. A popped entry whose key exceeds dist[u] is stale (keys of
    a node only decrease), so no settled flag is needed: relaxing a settled node
    never succeeds. With track, pred/label are written for touched nodes. Stops
    once n_targets nodes with tmark == stamp are settled (n_targets <= 0: run to
    completion).
    """
    nt = 0
    size = 0
    for s in range(seeds.shape[0]):
        v = seeds[s]
        d0 = offsets[s]
        if d0 < dist[v] and d0 <= limit:
            if dist[v] == INF:
                touched[nt] = v
                nt += 1
            dist[v] = d0
            if track:
                pred[v] = -1
                label[v] = s
            size = heap_push(hkeys, hnodes, size, d0, v)
    remaining = n_targets
    while size > 0:
        du, u, size = heap_pop(hkeys, hnodes, size)
        if du > dist[u]:
            continue
        if remaining > 0 and tmark[u] == stamp:
            remaining -= 1
            if remaining == 0:
                break
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            nd = du + data[p]
            if nd < dist[v] and nd <= limit:
                if dist[v] == INF:
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                if track:
                    pred[v] = u
                    label[v] = label[u]
                size = heap_push(hkeys, hnodes, size, nd, v)
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
    cap = indices.shape[0] + seeds.shape[0] + 1
    per = (ns + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        lo = ch * per
        hi = min(ns, lo + per)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        pred = np.empty(n, dtype=np.int64)
        label = np.empty(n, dtype=np.int64)
        hkeys = np.empty(cap)
        hnodes = np.empty(cap, dtype=np.int32)
        touched = np.empty(n, dtype=np.int32)
        for i in range(lo, hi):
            a, b = sptr[i], sptr[i + 1]
            nt = _dijkstra(indptr, indices, data, seeds[a:b], offsets[a:b], limit, dist, pred,
                           label, want_pred, hkeys, hnodes, touched, tmask, True,
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
    cap = indices.shape[0] + 2
    per = (ns + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        lo = ch * per
        hi = min(ns, lo + per)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        pred = np.empty(n, dtype=np.int64)
        label = np.empty(n, dtype=np.int64)
        hkeys = np.empty(cap)
        hnodes = np.empty(cap, dtype=np.int32)
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
                           hkeys, hnodes, touched, tmark, i, cnt)
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
    cap = indices.shape[0] + seeds.shape[0] + 1
    hkeys = np.empty(cap)
    hnodes = np.empty(cap, dtype=np.int32)
    touched = np.empty(n, dtype=np.int32)
    _dijkstra(indptr, indices, data, seeds, offsets, limit, dist, pred, label, True,
              hkeys, hnodes, touched, tmask, True, n_targets)
    return dist, label, pred


@njit(cache=True, parallel=True)
def astar_pairs(indptr, indices, data, points, src, dst, hscale, limit, out, n_chunks):
    """out[i] = distance src[i] -> dst[i] by A* with h(v) = hscale |points[v] - points[dst[i]]|.

    Parallel over pairs, per-chunk buffers reset through the touched list, so a query
    costs what it visits. hscale must make h consistent (<= every edge's weight per
    unit of Euclidean length).
    """
    n = indptr.shape[0] - 1
    d = points.shape[1]
    m = src.shape[0]
    cap = indices.shape[0] + 2
    per = (m + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        lo = ch * per
        hi = min(m, lo + per)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        closed = np.zeros(n, dtype=np.bool_)
        hkeys = np.empty(cap)
        hnodes = np.empty(cap, dtype=np.int32)
        touched = np.empty(n, dtype=np.int32)
        for i in range(lo, hi):
            s = src[i]
            t = dst[i]
            nt = 0
            size = 0
            dist[s] = 0.0
            touched[nt] = s
            nt += 1
            size = heap_push(hkeys, hnodes, size, 0.0, s)
            res = INF
            while size > 0:
                f, u, size = heap_pop(hkeys, hnodes, size)
                if closed[u]:
                    continue
                closed[u] = True
                if u == t:
                    res = dist[u]
                    break
                du = dist[u]
                for p in range(indptr[u], indptr[u + 1]):
                    v = indices[p]
                    if closed[v]:
                        continue
                    nd = du + data[p]
                    if nd < dist[v] and nd <= limit:
                        if dist[v] == INF:
                            touched[nt] = v
                            nt += 1
                        dist[v] = nd
                        h = 0.0
                        for k in range(d):
                            x = points[v, k] - points[t, k]
                            h += x * x
                        size = heap_push(hkeys, hnodes, size, nd + hscale * math.sqrt(h), v)
            out[i] = res
            for j in range(nt):
                v = touched[j]
                dist[v] = INF
                closed[v] = False
