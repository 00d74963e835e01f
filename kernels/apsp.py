"""All-pairs shortest paths by "cells and hubs" (exact; non-negative weights).

The nodes (in the search layout's Morton order) are cut into consecutive ranges
of m nodes, the cells. The hubs are a vertex cover of the edges whose endpoints
lie in different cells, so a path that leaves the non-hub nodes of a cell C
enters a hub first: a hub of C, or a hub outside C that a non-hub of C points
to (the exits of C). For a non-hub source s of C

    D[s, v] = min( local(s, v), min over exits h of local(s, h) + D[h, v] )

with local(., .) the shortest distance through non-hub nodes of C only (a tiny
Dijkstra inside the cell). The hub rows D[h, :] are full Dijkstra searches; the
non-hub rows are a min-plus product of a few local distances with the hub rows,
a vectorised loop over contiguous float64 rows, instead of one search each.

An exit h of source s is dropped when another kept exit h' (not farther from s)
has local(s, h') + D[h', h] <= local(s, h): every path through h is then matched
through h'. The exits are checked in order of their local distance against the
kept ones only, so ties (zero-cost cycles) keep exactly one of them.
"""

import numpy as np
from numba import njit, prange

from .dijkstra import dijkstra_only, everywhere, no_target, reset, search, workspace
from .heap import pq_pop, pq_update

INF = np.inf


# ---------------------------------------------------------------------------
# the hub cover
# ---------------------------------------------------------------------------


@njit(cache=True)
def hub_cover(indptr, indices, m):
    """A vertex cover of the cell-crossing edges (cells: node // m): greedy by the
    number of uncovered crossing edges (max first), then hubs whose crossing
    neighbours are all hubs are dropped again. Returns a bool mask of the hubs."""
    n = indptr.shape[0] - 1
    deg = np.zeros(n, dtype=np.int64)
    for u in range(n):
        cu = u // m
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            if v // m != cu:
                deg[u] += 1
                deg[v] += 1
    # undirected adjacency of the crossing edges (an edge in both directions appears twice)
    aptr = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        aptr[u + 1] = aptr[u] + deg[u]
    adj = np.empty(aptr[n], dtype=np.int64)
    fill = aptr[:n].copy()
    for u in range(n):
        cu = u // m
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            if v // m != cu:
                adj[fill[u]] = v
                fill[u] += 1
                adj[fill[v]] = u
                fill[v] += 1
    hub = np.zeros(n, dtype=np.bool_)
    left = deg.copy()  # uncovered crossing edges at each node
    # a node is queued at most once at a time (queued again only after it was popped)
    keys = np.empty(n)
    nodes = np.empty(n, dtype=np.int32)
    pos = np.full(n, -1, dtype=np.int32)
    size = 0
    for u in range(n):
        if deg[u] > 0:
            size = pq_update(keys, nodes, pos, size, -float(deg[u]), u)
    while size > 0:
        k, u, size = pq_pop(keys, nodes, pos, size)
        if hub[u] or left[u] == 0:
            continue
        if -k != left[u]:  # stale key: queue again with the current count
            size = pq_update(keys, nodes, pos, size, -float(left[u]), u)
            continue
        hub[u] = True
        for p in range(aptr[u], aptr[u + 1]):
            w = adj[p]
            if not hub[w] and left[w] > 0:
                left[w] -= 1
        left[u] = 0
    # redundant hubs (every crossing neighbour a hub), fewest crossing edges first
    order = np.argsort(deg)
    for i in range(n):
        u = order[i]
        if not hub[u]:
            continue
        red = True
        for p in range(aptr[u], aptr[u + 1]):
            if not hub[adj[p]]:
                red = False
                break
        if red:
            hub[u] = False
    return hub


@njit(cache=True)
def cell_exits(indptr, indices, hub, m):
    """Per cell c: the hubs that a non-hub of the cell points to, sorted (eptr, enodes)."""
    n = indptr.shape[0] - 1
    nc = (n + m - 1) // m
    mark = np.full(n, -1, dtype=np.int64)
    eptr = np.zeros(nc + 1, dtype=np.int64)
    buf = np.empty(0, dtype=np.int64)
    cnt = 0
    for c in range(nc):
        a = c * m
        b = min(n, a + m)
        start = cnt
        for u in range(a, b):
            if hub[u]:
                continue
            for p in range(indptr[u], indptr[u + 1]):
                v = indices[p]
                if hub[v] and mark[v] != c:
                    mark[v] = c
                    if cnt == buf.shape[0]:
                        nb = np.empty(max(16, 2 * cnt), dtype=np.int64)
                        nb[:cnt] = buf[:cnt]
                        buf = nb
                    buf[cnt] = v
                    cnt += 1
        buf[start:cnt] = np.sort(buf[start:cnt])
        eptr[c + 1] = cnt
    return eptr, buf[:cnt].copy()


# ---------------------------------------------------------------------------
# hub rows
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def hub_rows(csr, hubs, slots, limit, store, n_chunks):
    """store[slots[i]] = the full distance row of node hubs[i] (layout order)."""
    n = csr[0].shape[0] - 1
    nh = hubs.shape[0]
    for ch in prange(n_chunks):
        work = workspace(n)
        goal = no_target()
        heur = dijkstra_only()
        region = everywhere()
        seeds = np.empty(1, dtype=np.int64)
        zero = np.zeros(1)
        for i in range(ch, nh, n_chunks):
            dist = store[slots[i]]
            dist[:] = INF
            seeds[0] = hubs[i]
            search(csr, seeds, zero, limit, dist, work, (False, False), goal, heur, region)


@njit(cache=True, parallel=True)
def copy_rows(store, slots, rows, inv, out, n_chunks):
    """out[rows[i], c] = store[slots[i], inv[c]]: layout order to the caller's order."""
    k = slots.shape[0]
    n = inv.shape[0]
    for ch in prange(n_chunks):
        for i in range(ch, k, n_chunks):
            src = store[slots[i]]
            dst = out[rows[i]]
            for c in range(n):
                dst[c] = src[inv[c]]


# ---------------------------------------------------------------------------
# non-hub rows of the cells
# ---------------------------------------------------------------------------


# The min-plus loops take equal-length contiguous slices (a loop from 0, so no index
# wrap-around checks) and fold 4 hub rows per pass over the accumulator: LLVM turns
# them into AVX2 vaddpd/vminpd. The selects keep IEEE semantics (no fastmath; inf
# stays inf). Measured on one core (512 columns, in cache): 0.40 ns per hub row and
# column folding 2 rows per pass, 0.21 ns folding 4; fastmath made neither faster.


@njit(cache=True, inline="always")
def _mp1(acc, r1, l1):
    for c in range(acc.shape[0]):
        x = l1 + r1[c]
        y = acc[c]
        acc[c] = x if x < y else y


@njit(cache=True, inline="always")
def _mp2(acc, r1, r2, l1, l2):
    for c in range(acc.shape[0]):
        x = l1 + r1[c]
        z = l2 + r2[c]
        x = x if x < z else z
        y = acc[c]
        acc[c] = x if x < y else y


@njit(cache=True, inline="always")
def _mp4(acc, r1, r2, r3, r4, l1, l2, l3, l4):
    for c in range(acc.shape[0]):
        x = l1 + r1[c]
        z = l2 + r2[c]
        x = x if x < z else z
        w = l3 + r3[c]
        v = l4 + r4[c]
        w = w if w < v else v
        x = x if x < w else w
        y = acc[c]
        acc[c] = x if x < y else y


@njit(cache=True)
def _cell(csr, cover, c, hub_rows, req, limit, out, blocking, scratch):
    """All requested non-hub rows of cell c (see the module docstring)."""
    hub, m, eptr, enodes, region = cover
    slot, store = hub_rows
    req_row, inv = req
    block, tile = blocking
    dist, work, buf, stats = scratch
    n = csr[0].shape[0] - 1
    a = c * m
    b = min(n, a + m)
    bc = b - a
    e0 = eptr[c]
    ne = eptr[c + 1] - e0
    ns = 0
    for u in range(a, b):
        if not hub[u] and req_row[u] >= 0:
            ns += 1
    if ns == 0:
        return
    src = np.empty(ns, dtype=np.int64)
    ns = 0
    for u in range(a, b):
        if not hub[u] and req_row[u] >= 0:
            src[ns] = u
            ns += 1
    # local searches: the non-hubs of the cell (region c) are expanded, the exits (hubs)
    # are end points; loc[i, :bc] for the cell's nodes, loc[i, bc + j] for exit j
    loc = np.empty((ns, bc + ne))
    goal = (hub, False, 0, INF)
    heur = dijkstra_only()
    seeds = np.empty(1, dtype=np.int64)
    zero = np.zeros(1)
    touched = work[6]
    for i in range(ns):
        seeds[0] = src[i]
        nt = search(csr, seeds, zero, limit, dist, work, (False, True), goal, heur, (region, c))[0]
        for k in range(bc):
            loc[i, k] = dist[a + k]
        for j in range(ne):
            loc[i, bc + j] = dist[enodes[e0 + j]]
        reset(touched, nt, dist)
    # exit-to-exit distances, then the exits each source keeps
    de = np.empty((ne, ne))
    for j in range(ne):
        r = store[slot[enodes[e0 + j]]]
        for k in range(ne):
            de[j, k] = r[enodes[e0 + k]]
    kslot = np.empty((ns, max(ne, 1)), dtype=np.int64)
    kdist = np.empty((ns, max(ne, 1)))
    kcnt = np.zeros(ns, dtype=np.int64)
    kidx = np.empty(max(ne, 1), dtype=np.int64)
    for i in range(ns):
        le = loc[i, bc:]
        order = np.argsort(le)
        nk = 0
        for t in range(ne):
            j = order[t]
            lj = le[j]
            if lj == INF:
                break
            dom = False
            for q in range(nk):
                h = kidx[q]
                if le[h] + de[h, j] <= lj:
                    dom = True
                    break
            if not dom:
                kidx[nk] = j
                kslot[i, nk] = slot[enodes[e0 + j]]
                kdist[i, nk] = lj
                nk += 1
        kcnt[i] = nk
        stats[0] += nk
        stats[1] += ne
    stats[2] += ns
    # min-plus over the kept hub rows, sources in blocks, columns in tiles
    for s0 in range(0, ns, block):
        s1 = min(ns, s0 + block)
        for i in range(s0, s1):
            acc = buf[i - s0]
            acc[:] = INF
            for k in range(bc):
                if not hub[a + k]:
                    acc[a + k] = loc[i, k]
        for c0 in range(0, n, tile):
            c1 = min(n, c0 + tile)
            for i in range(s0, s1):
                acc = buf[i - s0, c0:c1]
                ks = kslot[i]
                kd = kdist[i]
                nk = kcnt[i]
                q = 0
                while q + 3 < nk:
                    _mp4(acc, store[ks[q], c0:c1], store[ks[q + 1], c0:c1],
                         store[ks[q + 2], c0:c1], store[ks[q + 3], c0:c1],
                         kd[q], kd[q + 1], kd[q + 2], kd[q + 3])
                    q += 4
                if q + 1 < nk:
                    _mp2(acc, store[ks[q], c0:c1], store[ks[q + 1], c0:c1], kd[q], kd[q + 1])
                    q += 2
                if q < nk:
                    _mp1(acc, store[ks[q], c0:c1], kd[q])
        for i in range(s0, s1):
            acc = buf[i - s0]
            dst = out[req_row[src[i]]]
            if limit < INF:
                for c in range(n):
                    x = acc[inv[c]]
                    dst[c] = x if x <= limit else INF
            else:
                for c in range(n):
                    dst[c] = acc[inv[c]]


@njit(cache=True, parallel=True)
def cell_rows(csr, cover, cells, hub_rows, req, limit, out, blocking, n_chunks):
    """The requested non-hub rows of the given cells; every exit of these cells must
    have its row in store[slot[h]] (hub_rows = (slot, store)). cover = (hub, m, eptr,
    enodes, region): region[v] is the cell of a non-hub v, -1 for a hub; req =
    (req_row, inv); blocking = (sources per block, columns per tile). Returns (kept
    exits, exits, sources) summed."""
    n = csr[0].shape[0] - 1
    nc = cells.shape[0]
    st = np.zeros((n_chunks, 3), dtype=np.int64)
    for ch in prange(n_chunks):
        dist = np.full(n, INF)
        scratch = (dist, workspace(n), np.empty((blocking[0], n)), np.zeros(3, dtype=np.int64))
        for t in range(ch, nc, n_chunks):
            _cell(csr, cover, cells[t], hub_rows, req, limit, out, blocking, scratch)
        st[ch] = scratch[3]
    return st.sum(axis=0)
