"""k-medoids kernels: FasterPAM, PAM BUILD, alternating (Park-Jun) and graph medoid updates.

Matrix kernels take ``C``, a square cost matrix in *medoid-major* layout:
``C[j, o]`` is the cost of assigning point o to medoid j, so that evaluating a
candidate medoid j reads one contiguous row. Any float dtype (float32 or
float64); losses accumulate in float64. The diagonal must be zero (point j
costs nothing to itself), as the kmedoids package assumes.

FasterPAM follows Schubert & Rousseeuw (2021), "Fast and eager k-medoids
clustering", Information Systems 101, 101804: eager swaps, the O(k) removal
loss, the same processing order and tie-breaking as the reference Rust
implementation (package ``kmedoids``), so both reach the same medoids from the
same initial medoids.

Graph kernels run the search core of :mod:`.dijkstra` on a CSR graph (non-negative
weights); a candidate's cost (the sum of its distances to the members of a
cluster) stops as soon as a lower bound exceeds the best cost found so far.
"""

import math

import numpy as np
from numba import njit, prange

from .dijkstra import dijkstra_only, everywhere, no_target, reset, search, workspace

INF = np.inf


# ---------------------------------------------------------------------------
# matrix kernels
# ---------------------------------------------------------------------------


@njit(cache=True)
def initial_assignment(C, med, near_i, near_d, seco_i, seco_d):
    """Nearest and second-nearest medoid of every point; returns the loss."""
    n = C.shape[1]
    k = med.shape[0]
    loss = 0.0
    for o in range(n):
        ni = 0
        nd = np.float64(C[med[0], o])
        si = -1
        sd = INF
        for m in range(1, k):
            d = np.float64(C[med[m], o])
            if d < nd or o == med[m]:
                si = ni
                sd = nd
                ni = m
                nd = d
            elif si == -1 or d < sd:
                si = m
                sd = d
        near_i[o] = ni
        near_d[o] = nd
        seco_i[o] = si
        seco_d[o] = sd
        loss += nd
    return loss


@njit(cache=True)
def _removal_loss(near_i, near_d, seco_d, out):
    for m in range(out.shape[0]):
        out[m] = 0.0
    for o in range(near_i.shape[0]):
        out[near_i[o]] += seco_d[o] - near_d[o]


@njit(cache=True)
def _best_swap(C, j, removal, ploss, near_i, near_d, seco_d):
    """(change in loss, medoid slot) of the best swap bringing point j in."""
    for m in range(ploss.shape[0]):  # (loops: slice assignment costs seconds to compile)
        ploss[m] = removal[m]
    acc = 0.0
    row = C[j]
    for o in range(row.shape[0]):
        d = np.float64(row[o])
        if d < near_d[o]:
            acc += d - near_d[o]
            ploss[near_i[o]] += near_d[o] - seco_d[o]
        elif d < seco_d[o]:
            ploss[near_i[o]] += d - seco_d[o]
    b = 0
    best = ploss[0]
    for m in range(1, ploss.shape[0]):
        if ploss[m] < best:
            best = ploss[m]
            b = m
    return best + acc, b


@njit(cache=True)
def _second_nearest(C, med, nearest, b, o, d_b):
    si = b
    sd = d_b
    for m in range(med.shape[0]):
        if m == nearest or m == b:
            continue
        d = np.float64(C[med[m], o])
        if d < sd:
            sd = d
            si = m
    return si, sd


@njit(cache=True)
def _do_swap(C, med, b, j, near_i, near_d, seco_i, seco_d):
    """Replace medoid slot b by point j; update the assignment; return the new loss."""
    med[b] = j
    row = C[j]
    loss = 0.0
    for o in range(row.shape[0]):
        if o == j:
            if near_i[o] != b:
                seco_i[o] = near_i[o]
                seco_d[o] = near_d[o]
            near_i[o] = b
            near_d[o] = 0.0
            continue
        d = np.float64(row[o])
        if near_i[o] == b:
            if d < seco_d[o]:
                near_d[o] = d
            else:
                near_i[o] = seco_i[o]
                near_d[o] = seco_d[o]
                seco_i[o], seco_d[o] = _second_nearest(C, med, near_i[o], b, o, d)
        else:
            if d < near_d[o]:
                seco_i[o] = near_i[o]
                seco_d[o] = near_d[o]
                near_i[o] = b
                near_d[o] = d
            elif d < seco_d[o]:
                seco_i[o] = b
                seco_d[o] = d
            elif seco_i[o] == b:
                seco_i[o], seco_d[o] = _second_nearest(C, med, near_i[o], b, o, d)
        loss += near_d[o]
    return loss


@njit(cache=True)
def _single_medoid(C):
    """k = 1: the point with the smallest total cost; returns (medoid, loss)."""
    best = INF
    bj = 0
    for j in range(C.shape[0]):
        s = 0.0
        row = C[j]
        for o in range(row.shape[0]):
            s += row[o]
        if s < best:
            best = s
            bj = j
    return bj, best


@njit(cache=True)
def fasterpam(C, med, max_iter):
    """FasterPAM from the initial medoids ``med`` (modified in place).

    Returns (labels (index into med), loss, n_iter, n_swaps). Points are visited
    in the order 0..n-1; a pass stops at the last point that gave a swap.
    """
    n = C.shape[1]
    k = med.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    if k == 1:
        j, loss = _single_medoid(C)
        swapped = 1 if j != med[0] else 0
        med[0] = j
        return labels, loss, 1, swapped
    near_i = np.empty(n, dtype=np.int64)
    near_d = np.empty(n)
    seco_i = np.empty(n, dtype=np.int64)
    seco_d = np.empty(n)
    loss = initial_assignment(C, med, near_i, near_d, seco_i, seco_d)
    removal = np.empty(k)
    ploss = np.empty(k)
    _removal_loss(near_i, near_d, seco_d, removal)
    lastswap = n
    n_swaps = 0
    it = 0
    while it < max_iter:
        it += 1
        before = n_swaps
        lastloss = loss
        for j in range(n):
            if j == lastswap:
                break
            if j == med[near_i[j]]:
                continue  # already a medoid
            change, b = _best_swap(C, j, removal, ploss, near_i, near_d, seco_d)
            if change >= 0.0:
                continue
            n_swaps += 1
            lastswap = j
            loss = _do_swap(C, med, b, j, near_i, near_d, seco_i, seco_d)
            _removal_loss(near_i, near_d, seco_d, removal)
        if n_swaps == before or loss >= lastloss:
            break
    for o in range(n):
        labels[o] = near_i[o]
    return labels, loss, it, n_swaps


@njit(cache=True, parallel=True)
def build(C, k):
    """PAM BUILD: greedy medoids, each minimising the loss given the previous ones."""
    n = C.shape[1]
    med = np.empty(k, dtype=np.int64)
    near = np.full(n, INF)
    gain = np.empty(C.shape[0])
    chosen = np.zeros(C.shape[0], dtype=np.bool_)
    for m in range(k):
        for j in prange(C.shape[0]):
            if chosen[j]:
                gain[j] = INF
                continue
            s = 0.0
            row = C[j]
            for o in range(n):
                d = np.float64(row[o])
                s += d if d < near[o] else near[o]
            gain[j] = s
        bj = 0
        best = INF
        for j in range(C.shape[0]):
            if gain[j] < best:
                best = gain[j]
                bj = j
        med[m] = bj
        chosen[bj] = True
        row = C[bj]
        for o in range(n):
            d = np.float64(row[o])
            if d < near[o]:
                near[o] = d
    return med


@njit(cache=True)
def assign(C, med):
    """(labels, cost of each point to its medoid); a medoid is assigned to itself."""
    n = C.shape[1]
    k = med.shape[0]
    labels = np.empty(n, dtype=np.int64)
    cost = np.empty(n)
    for o in range(n):
        bi = 0
        bd = np.float64(C[med[0], o])
        for m in range(1, k):
            d = np.float64(C[med[m], o])
            if d < bd or o == med[m]:
                bd = d
                bi = m
        labels[o] = bi
        cost[o] = bd
    return labels, cost


@njit(cache=True)
def _members(labels, k):
    """CSR-like grouping: (ptr (k + 1,), members sorted by cluster)."""
    n = labels.shape[0]
    ptr = np.zeros(k + 1, dtype=np.int64)
    for o in range(n):
        ptr[labels[o] + 1] += 1
    for m in range(k):
        ptr[m + 1] += ptr[m]
    fill = np.empty(k, dtype=np.int64)
    for m in range(k):
        fill[m] = ptr[m]
    members = np.empty(n, dtype=np.int64)
    for o in range(n):
        c = labels[o]
        members[fill[c]] = o
        fill[c] += 1
    return ptr, members


@njit(cache=True, parallel=True)
def alternate(C, med, max_iter):
    """Alternating k-medoids (Park & Jun 2009): assign, then the best medoid of each cluster.

    ``med`` is updated in place. Returns (labels, loss, n_iter).
    """
    n = C.shape[1]
    k = med.shape[0]
    within = np.empty(n)
    it = 0
    labels, cost = assign(C, med)
    while it < max_iter:
        it += 1
        ptr, members = _members(labels, k)
        for p in prange(n):
            j = members[p]
            c = labels[j]
            s = 0.0
            row = C[j]
            for q in range(ptr[c], ptr[c + 1]):
                s += row[members[q]]
            within[j] = s
        changed = False
        for c in range(k):
            best = within[med[c]]
            bj = med[c]
            for q in range(ptr[c], ptr[c + 1]):
                j = members[q]
                if within[j] < best:
                    best = within[j]
                    bj = j
            if bj != med[c]:
                med[c] = bj
                changed = True
        if not changed:
            break
        labels, cost = assign(C, med)
    return labels, cost.sum(), it


@njit(cache=True, parallel=True)
def pair_blocks(D, out, mean):
    """out = D.T (mean False) or (D + D.T) / 2 (mean True), in 64 x 64 block pairs.

    Each pair (i, j), (j, i) is read before either is written, so ``out`` may be ``D``
    itself (in place). Both C-contiguous.
    """
    n = D.shape[0]
    bs = 64
    nb = (n + bs - 1) // bs
    for bi in prange(nb):
        i0 = bi * bs
        i1 = min(i0 + bs, n)
        for bj in range(bi, nb):
            j0 = bj * bs
            j1 = min(j0 + bs, n)
            for i in range(i0, i1):
                for j in range(max(j0, i), j1):
                    a = D[i, j]
                    b = D[j, i]
                    if mean:
                        m = 0.5 * (a + b)
                        out[i, j] = m
                        out[j, i] = m
                    else:
                        out[i, j] = b
                        out[j, i] = a


@njit(cache=True, parallel=True)
def scan(D):
    """One blocked pass over a square matrix: (non-finite count, minimum, exactly symmetric)."""
    n = D.shape[0]
    bs = 64
    nb = (n + bs - 1) // bs
    bad = np.zeros(nb, dtype=np.int64)
    low = np.full(nb, INF)
    asym = np.zeros(nb, dtype=np.bool_)
    for bi in prange(nb):
        i0 = bi * bs
        i1 = min(i0 + bs, n)
        nbad = 0
        lo = INF
        sym = True
        for bj in range(bi, nb):
            j0 = bj * bs
            j1 = min(j0 + bs, n)
            for i in range(i0, i1):
                for j in range(max(j0, i), j1):
                    a = np.float64(D[i, j])
                    b = np.float64(D[j, i])
                    if not (math.isfinite(a) and math.isfinite(b)):
                        nbad += 1
                    lo = min(lo, a, b)
                    if a != b:
                        sym = False
        bad[bi] = nbad
        low[bi] = lo
        asym[bi] = not sym
    return bad.sum(), low.min(), not asym.any()


# ---------------------------------------------------------------------------
# graph kernels (no N x N matrix)
# ---------------------------------------------------------------------------


@njit(cache=True)
def _cluster_sum(csr, source, labels, c, size, bound, restrict, dist, work, seeds):
    """Sum of distances source -> members of cluster c (labels == c, ``size`` of them).

    restrict: paths may not leave the cluster (only its members are expanded), else
    the whole graph is searched. Stops when all members are settled, or returns inf as
    soon as the lower bound (settled sum + remaining members * current distance)
    reaches ``bound``; inf also when a member is unreachable. dist is reset on exit.
    """
    seeds[0] = source
    nt, _, total, left = search(csr, seeds, np.zeros(1), INF, dist, work, (False, True),
                                (labels, c, size, bound), dijkstra_only(),
                                (labels, c if restrict else -1))
    reset(work[6], nt, dist)
    return total if left == 0 else INF


@njit(cache=True, parallel=True)
def graph_medoid_update(fwd, bwd, mode, labels, sizes, cand_ptr, cand, cur_cost, restrict):
    """Best medoid of each cluster among its candidates.

    The first candidate of each cluster is its current medoid, whose exact cost
    ``cur_cost[c]`` (the sum of its members' assignment costs) is known. Cost of
    candidate j for cluster c (members M_c):
      mode 0: sum_o d(j -> o) on the first graph fwd
      mode 1: sum_o d(j -> o) on the second graph bwd (the transpose: d(o -> j) on the first)
      mode 2: the mean of both sums
    With ``restrict`` the distances are those inside the cluster's induced subgraph,
    upper bounds of the true ones, so a candidate that beats cur_cost with them is
    a true improvement. Clusters are processed in parallel. Returns (best candidate
    per cluster, its cost as evaluated; cur_cost where the medoid stays).
    """
    k = sizes.shape[0]
    n = fwd[0].shape[0] - 1
    best_node = np.empty(k, dtype=np.int64)
    best_cost = np.empty(k)
    for c in prange(k):
        best_node[c] = cand[cand_ptr[c]]
        best_cost[c] = cur_cost[c]
        if sizes[c] == 0:
            continue
        dist = np.full(n, INF)
        work = workspace(n)
        seeds = np.empty(1, dtype=np.int64)
        bnode = cand[cand_ptr[c]]
        bcost = cur_cost[c]
        for q in range(cand_ptr[c] + 1, cand_ptr[c + 1]):
            j = cand[q]
            if mode == 0:
                s = _cluster_sum(fwd, j, labels, c, sizes[c], bcost, restrict, dist, work, seeds)
            elif mode == 1:
                s = _cluster_sum(bwd, j, labels, c, sizes[c], bcost, restrict, dist, work, seeds)
            else:
                s1 = _cluster_sum(fwd, j, labels, c, sizes[c], 2.0 * bcost, restrict, dist, work,
                                  seeds)
                s = INF
                if s1 < INF:
                    s2 = _cluster_sum(bwd, j, labels, c, sizes[c], 2.0 * bcost - s1, restrict,
                                      dist, work, seeds)
                    s = 0.5 * (s1 + s2)
            if s < bcost:
                bcost = s
                bnode = j
        best_node[c] = bnode
        best_cost[c] = bcost
    return best_node, best_cost


@njit(cache=True, parallel=True)
def symmetric_assign(fwd_csr, bwd_csr, med, batch):
    """Nearest medoid by (d(o -> m) + d(m -> o)) / 2: two full searches per medoid.

    ``bwd_csr`` is the transposed graph (searching it from m gives d(o -> m)).
    Medoids are searched ``batch`` at a time in parallel (memory 2 * batch * n
    floats). Returns (labels, cost); label -1 and cost inf where unreachable.
    """
    n = fwd_csr[0].shape[0] - 1
    k = med.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    cost = np.full(n, INF)
    for b0 in range(0, k, batch):
        b1 = min(b0 + batch, k)
        nb = b1 - b0
        fwd = np.full((nb, n), INF)
        bwd = np.full((nb, n), INF)
        for q in prange(2 * nb):
            i = q // 2
            seeds = np.full(1, med[b0 + i], dtype=np.int64)
            csr = fwd_csr if q % 2 == 0 else bwd_csr
            row = fwd[i] if q % 2 == 0 else bwd[i]
            search(csr, seeds, np.zeros(1), INF, row, workspace(n), (False, False),
                   no_target(), dijkstra_only(), everywhere())
        for i in range(nb):
            m = b0 + i
            for o in range(n):
                d = 0.5 * (fwd[i, o] + bwd[i, o])
                if d < cost[o] or o == med[m]:
                    cost[o] = d
                    labels[o] = m
    return labels, cost
