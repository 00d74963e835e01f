"""The one Dijkstra / A* core: every shortest-path search of graphgeo runs :func:`search`.

Directed CSR graph with non-negative weights; the queue is the indexed 4-ary heap
of :mod:`.heap` (decrease-key, each node queued at most once). The variants are
runtime arguments, grouped in small tuples so that the callers (many-source rows,
pair queries, A*, k-medoids, the cells of the all-pairs scheme) stay short:

    csr     (indptr, indices, data)
    seeds, offsets
            the search starts at seeds[s] with distance offsets[s] (several seeds:
            one search from all of them; label[v] is the seed that reaches v first)
    limit   nodes farther than limit are never reached
    dist    (n,) float64, inf for every node on entry (the caller's row, or a buffer)
    work    (pred, label, hkeys, hnodes, hpos, hv, touched), see :func:`workspace`;
            hpos must be -1 everywhere on entry and is left so
    flags   (track, keep_touched): track writes pred[v] / label[v] for the reached
            nodes; keep_touched lists the reached nodes in touched[:nt], so that a
            search that stops early can be reset in what it visited, not in O(n)
    goal    (tmark, stamp, n_targets, bound): the nodes with tmark[v] == stamp are
            targets; the search stops once n_targets of them are settled
            (n_targets <= 0: run to completion), or as soon as the sum of the settled
            targets' distances plus (targets left) * (distance of the node just
            settled), a lower bound of the final sum, reaches bound (inf: never)
    heur    (points, target, hscale, lm, slack): A* towards target with the estimate
            of :func:`estimate` when target >= 0 and the estimate has a term (hscale > 0
            or lm with columns), else Dijkstra
    region  (rlab, rval): with rval >= 0 only the nodes with rlab[v] == rval are
            expanded; the others are settled but their edges are not followed

It returns (nt, pops, total, left): the number of listed reached nodes, the number
of nodes popped from the queue, the sum of the distances of the settled targets and
the number of targets not settled (0: all of them were).

A popped node is final for Dijkstra (keys only decrease, and a relaxation from a
later node cannot improve it). For A* the estimate must be admissible; a node whose
cost drops after it was popped (an estimate that is, through rounding, not exactly
consistent) is queued again, so the answer is the exact shortest distance either way.
With an estimate, nodes that cannot reach the target (infinite estimate) and nodes
whose estimate puts the target beyond limit are never queued.
"""

import math

import numpy as np
from numba import njit

from .heap import pq_pop, pq_update

INF = np.inf


@njit(cache=True, inline="always")
def estimate(heur, v):
    """Admissible estimate of dist(v -> target): the largest of hscale |z_v - z_t| and the
    landmark bounds d(L, t) - d(L, v), d(v, L) - d(t, L), less slack, at least 0.

    lm[v, :L] = d(L_l, v), lm[v, L:] = d(v, L_l) (L = lm.shape[1] // 2). inf means v
    cannot reach t (a landmark reaches v but not t, or v reaches a landmark that t does
    not); inf - inf (nan) carries no information and is skipped by the comparisons.
    """
    points, t, hscale, lm, slack = heur
    nl = lm.shape[1] // 2
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


@njit(cache=True, inline="always")
def search(csr, seeds, offsets, limit, dist, work, flags, goal, heur, region):
    """One (multi-seed) Dijkstra or A* search; see the module docstring."""
    indptr, indices, data = csr
    pred, label, hkeys, hnodes, hpos, hv, touched = work
    track, keep = flags
    tmark, stamp, n_targets, bound = goal
    rlab, rval = region
    use_h = heur[1] >= 0 and (heur[2] > 0.0 or heur[3].shape[1] > 0)
    nt = 0
    size = 0
    for s in range(seeds.shape[0]):
        v = seeds[s]
        d0 = offsets[s]
        if d0 < dist[v] and d0 <= limit:
            if dist[v] == INF:
                if keep:
                    touched[nt] = v
                    nt += 1
                if use_h:
                    hv[v] = estimate(heur, v)
            dist[v] = d0
            if track:
                pred[v] = -1
                label[v] = s
            f = d0 + hv[v] if use_h else d0
            if f < INF and f <= limit:
                size = pq_update(hkeys, hnodes, hpos, size, f, v)
    left = n_targets
    total = 0.0
    pops = 0
    while size > 0:
        f, u, size = pq_pop(hkeys, hnodes, hpos, size)
        pops += 1
        du = dist[u]
        if left > 0:
            if tmark[u] == stamp:
                total += du
                left -= 1
                if left == 0:
                    break
            if bound < INF and total + left * du >= bound:
                break
        if rval >= 0 and rlab[u] != rval:
            continue
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            nd = du + data[p]
            if nd < dist[v] and nd <= limit:
                if dist[v] == INF:
                    if keep:
                        touched[nt] = v
                        nt += 1
                    if use_h:
                        hv[v] = estimate(heur, v)
                dist[v] = nd
                if track:
                    pred[v] = u
                    label[v] = label[u]
                if use_h:
                    f = nd + hv[v]
                    if f < INF and f <= limit:
                        size = pq_update(hkeys, hnodes, hpos, size, f, v)
                else:
                    size = pq_update(hkeys, hnodes, hpos, size, nd, v)
    for j in range(size):  # early exit: nodes still queued
        hpos[hnodes[j]] = -1
    return nt, pops, total, left


@njit(cache=True, inline="always")
def workspace(n, n_track=1):
    """Buffers of one search over n nodes: (pred, label, hkeys, hnodes, hpos, hv, touched).

    pred and label get n_track entries (n for a search that tracks them, else 1).
    """
    return (np.empty(n_track, dtype=np.int64), np.empty(n_track, dtype=np.int64), np.empty(n),
            np.empty(n, dtype=np.int32), np.full(n, -1, dtype=np.int32), np.empty(n),
            np.empty(n, dtype=np.int32))


@njit(cache=True, inline="always")
def dijkstra_only():
    """The heur argument of a plain Dijkstra search."""
    return (np.empty((0, 0)), -1, 0.0, np.empty((0, 0)), 0.0)


@njit(cache=True, inline="always")
def no_target():
    """The goal argument of a search that runs to completion."""
    return (np.zeros(1, dtype=np.bool_), True, 0, INF)


@njit(cache=True, inline="always")
def everywhere():
    """The region argument of a search that expands every node."""
    return (np.empty(0, dtype=np.int64), -1)


@njit(cache=True, inline="always")
def reset(touched, nt, dist):
    """dist[v] = inf for the nt listed nodes."""
    for t in range(nt):
        dist[touched[t]] = INF


@njit(cache=True)
def trace_path(pred, source, target):
    """Node sequence source -> target from a predecessor array."""
    count = 1
    v = target
    while v != source:
        v = pred[v]
        count += 1
    out = np.empty(count, dtype=np.int64)
    v = target
    for i in range(count - 1, -1, -1):
        out[i] = v
        if i > 0:
            v = pred[v]
    return out
