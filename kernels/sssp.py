"""Many-source shortest paths, pair queries and single-pair A* on a directed CSR graph.

Thin drivers around the one search core of :mod:`.dijkstra`: one search per source,
sources spread over threads (prange over chunks of sources, each chunk with its own
buffers, reset through a list of touched nodes so that an early-exiting search costs
what it visits, not O(n)). Options: a distance limit, early exit once the requested
targets are settled, predecessors, and several seeds with initial offsets
(multi-source search that also labels every node with its nearest seed: the graph
Voronoi partition). Pair queries may use A* with landmark (ALT) bounds.
"""

import numpy as np
from numba import njit, prange

from .dijkstra import dijkstra_only, everywhere, reset, search, workspace

INF = np.inf


@njit(cache=True)
def _span(ch, count, n_chunks):
    """The range [lo, hi) of items of chunk ch when count items are cut into n_chunks."""
    per = (count + n_chunks - 1) // n_chunks
    lo = ch * per
    return lo, min(count, lo + per)


@njit(cache=True, parallel=True)
def rows(csr, sources, targets, limit, out, pred_out, n_chunks):
    """out[i, c] = distance from source i to targets[c] (all nodes when targets is empty).

    sources = (sptr, seeds, offsets): source i is the set of seeds[sptr[i]:sptr[i+1]]
    with initial distances offsets[...] (a graph node: one seed at offset 0; an
    off-graph point: its attachment nodes at the attachment costs). targets =
    (tnodes, tmask, n_distinct): tmask[v] is True for the target nodes (n_distinct of
    them) and enables the early exit. pred_out (ns, n) receives the full predecessor
    row of each source (-1 at seeds and unreached nodes), or is (0, 0) for none.
    """
    indptr = csr[0]
    sptr, seeds, offsets = sources
    tnodes, tmask, n_distinct = targets
    n = indptr.shape[0] - 1
    ns = sptr.shape[0] - 1
    want_pred = pred_out.shape[0] > 0
    all_nodes = tnodes.shape[0] == 0
    for ch in prange(n_chunks):
        lo, hi = _span(ch, ns, n_chunks)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        work = workspace(n, n)
        touched = work[6]
        heur = dijkstra_only()
        region = everywhere()
        for i in range(lo, hi):
            a, b = sptr[i], sptr[i + 1]
            if all_nodes and not want_pred:
                # the whole row: no touched list, one sequential copy and refill
                search(csr, seeds[a:b], offsets[a:b], limit, dist, work, (False, False),
                       (tmask, True, 0, INF), heur, region)
                for v in range(n):
                    out[i, v] = dist[v]
                    dist[v] = INF
                continue
            nt = search(csr, seeds[a:b], offsets[a:b], limit, dist, work, (want_pred, True),
                        (tmask, True, 0 if all_nodes else n_distinct, INF), heur, region)[0]
            if all_nodes:
                for v in range(n):
                    out[i, v] = dist[v]
            else:
                for c in range(tnodes.shape[0]):
                    out[i, c] = dist[tnodes[c]]
            if want_pred:
                pred = work[0]
                for v in range(n):
                    pred_out[i, v] = -1
                for t in range(nt):
                    v = touched[t]
                    pred_out[i, v] = pred[v]
            reset(touched, nt, dist)


@njit(cache=True, parallel=True)
def pairs(csr, groups, bounds, limit, out, settled, n_chunks):
    """Pair queries grouped by source: out[tpos[j]] = dist(usrc[i] -> tnodes[j]) for j in
    tptr[i]:tptr[i+1], groups = (usrc, tptr, tnodes, tpos); one search per source, which
    stops once its own targets are settled; settled[i] = the nodes it popped.

    bounds = (points, hscale, lm, slack): a source with a single target is searched by
    A* with the estimate of :func:`.dijkstra.estimate` when hscale > 0 or lm has
    columns (lm is (n, 2 L) landmark distances, or (n, 0)); pass hscale 0 and an (n, 0)
    lm for Dijkstra everywhere. Parallel over sources, per-chunk buffers reset through
    the touched list, so a query costs what it visits.
    """
    usrc, tptr, tnodes, tpos = groups
    points, hscale, lm, slack = bounds
    n = csr[0].shape[0] - 1
    ns = usrc.shape[0]
    for ch in prange(n_chunks):
        lo, hi = _span(ch, ns, n_chunks)
        if lo >= hi:
            continue
        dist = np.full(n, INF)
        work = workspace(n)
        region = everywhere()
        tmark = np.full(n, -1, dtype=np.int64)
        seeds = np.empty(1, dtype=np.int64)
        zero = np.zeros(1)
        for i in range(lo, hi):
            a, b = tptr[i], tptr[i + 1]
            cnt = 0
            for j in range(a, b):
                v = tnodes[j]
                if tmark[v] != i:
                    tmark[v] = i
                    cnt += 1
            seeds[0] = usrc[i]
            target = tnodes[a] if b - a == 1 else -1  # A* needs one target
            nt, pops, _, _ = search(csr, seeds, zero, limit, dist, work, (False, True),
                                    (tmark, i, cnt, INF), (points, target, hscale, lm, slack),
                                    region)
            for j in range(a, b):
                out[tpos[j]] = dist[tnodes[j]]
            settled[i] = pops
            reset(work[6], nt, dist)


@njit(cache=True)
def multi_source(csr, seeds, offsets, limit, tmask, n_targets):
    """One search from several seeds with initial distances offsets.

    Stops once the n_targets nodes with tmask True are settled (n_targets 0: all).
    Returns (dist, nearest seed index into seeds (-1 unreached), predecessor (-1)).
    """
    n = csr[0].shape[0] - 1
    dist = np.full(n, INF)
    work = workspace(n, n)
    pred, label = work[0], work[1]
    pred[:] = -1
    label[:] = -1
    search(csr, seeds, offsets, limit, dist, work, (True, False), (tmask, True, n_targets, INF),
           dijkstra_only(), everywhere())
    return dist, label, pred


@njit(cache=True)
def astar(csr, points, source, target, hscale):
    """Shortest path source -> target with the estimate hscale * |points[n] - points[target]|.

    hscale = 0 gives Dijkstra with early exit at the target. The estimate is
    consistent when every edge weight is >= hscale * its Euclidean length.
    Returns (distance, predecessors (-1 where unset), number of settled nodes);
    distance is inf when the target is unreachable.
    """
    n = csr[0].shape[0] - 1
    dist = np.full(n, INF)
    work = workspace(n, n)
    work[0][:] = -1
    tmark = np.zeros(n, dtype=np.bool_)
    tmark[target] = True
    seeds = np.full(1, source, dtype=np.int64)
    _, pops, total, left = search(csr, seeds, np.zeros(1), INF, dist, work, (True, False),
                                  (tmark, True, 1, INF),
                                  (points, target, hscale, np.empty((0, 0)), 0.0), everywhere())
    return (total if left == 0 else INF), work[0], pops
