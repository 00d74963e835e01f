"""Single-pair shortest paths on a CSR graph: A* and Dijkstra (A* with h = 0).

Uses the 4-ary lazy-deletion heap of :mod:`graphgeo.kernels.heap`: stale
entries are skipped when popped, and the heap never holds more than nnz + 1.
"""

import math

import numpy as np
from numba import njit

from .heap import heap_pop, heap_push


@njit(cache=True)
def astar(indptr, indices, data, points, source, target, hscale):
    """Shortest path source -> target with heuristic h(n) = hscale * |points[n] - points[target]|.

    hscale = 0 gives Dijkstra with early exit at the target. The heuristic is
    consistent when every edge weight is >= hscale * its Euclidean length.
    Returns (distance, predecessors (-1 where unset), number of settled nodes);
    distance is inf when the target is unreachable.
    """
    n = indptr.shape[0] - 1
    d = points.shape[1]
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    closed = np.zeros(n, dtype=np.bool_)
    cap = indices.shape[0] + 1
    keys = np.empty(cap)
    nodes = np.empty(cap, dtype=np.int32)
    size = 0
    dist[source] = 0.0
    size = heap_push(keys, nodes, size, 0.0, source)
    settled = 0
    use_h = hscale > 0.0
    while size > 0:
        f, u, size = heap_pop(keys, nodes, size)
        if closed[u]:
            continue
        closed[u] = True
        settled += 1
        if u == target:
            break
        du = dist[u]
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            if closed[v]:
                continue
            nd = du + data[p]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                h = 0.0
                if use_h:
                    s = 0.0
                    for i in range(d):
                        t = points[v, i] - points[target, i]
                        s += t * t
                    h = hscale * math.sqrt(s)
                size = heap_push(keys, nodes, size, nd + h, v)
    return dist[target], pred, settled


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
