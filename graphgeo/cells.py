"""The "cells and hubs" all-pairs strategy of ``distances`` (kernels in graphgeo.kernels.apsp).

All-target rows of graph-node sources, without predecessors (a limit is applied
exactly): Dijkstra from the hub nodes only, min-plus products for the other rows.
``g.distances(strategy="auto")`` uses it when the cost model below predicts it
cheaper than one Dijkstra per source; ``strategy="cells"`` forces it where it
applies, ``cell_size`` fixes the cell size; ``return_stats=True`` returns what it did.
"""

import time

import numpy as np

from ._memmap import release_rows
from .kernels import apsp as _apsp
from .layout import n_chunks

__all__ = ["Cells", "cover", "choose", "run", "CELL_SIZES"]

# ---------------------------------------------------------------------------
# Cells and hubs (kernels/apsp.py): all-target rows of graph-node sources, without
# predecessors (a limit is applied exactly). Measured on 10-NN Randers graphs of random
# 2-D points (CPU time, same process, rtol 1e-12 against one Dijkstra per source):
#
#   N     m    hub fraction  exits  kept  hub rows  other rows  total  one Dijkstra each
#   5k    64   0.34          44     21    0.99 s    0.18 s      1.43   3.7 s
#   5k    128  0.26          66     28    0.77 s    0.29 s      1.11   3.7 s
#   5k    256  0.19          94     37    0.44 s    0.35 s      0.82   3.1 s
#   5k    512  0.13          127    50    0.36 s    0.72 s      1.38   3.1 s
#   20k   256  0.19          98     39    15.8 s    8.9 s       28.1   ~98 s
#   20k   512  0.14          141    54    12.8 s    11.1 s      26.5   ~98 s
#
# (exits: hubs a non-hub source's cell points to; kept: those left per source after
# the dominance test.) The cost model below (CELLS_EXIT_COST, the m / n local search)
# fits these and 3-D / 4-D / 8-D graphs within ~15%: on 5k-node 8-D 10-NN graphs the hub
# fraction is 0.64-0.77 at these cell sizes, predicted 0.83 of the Dijkstra time,
# measured 0.83-1.0, so CELLS_MAX_COST = 0.7 falls back to Dijkstra there; on 4-D
# (predicted 0.71, measured 0.55-0.8) it is borderline and falls back too.
# ---------------------------------------------------------------------------

#: the cell sizes the automatic choice tries (the one with the lowest predicted cost wins)
CELL_SIZES = (64, 128, 256, 512)
#: used only on graphs of at least CELLS_MIN_NODES nodes, when the distinct sources are
#: at least CELLS_MIN_SOURCES of the nodes ...
CELLS_MIN_NODES = 1000
CELLS_MIN_SOURCES = 0.5
#: ... and the predicted time is at most this fraction of one Dijkstra per source
CELLS_MAX_COST = 0.7
#: predicted cost of a non-hub row relative to a Dijkstra row, per exit of its cell
CELLS_EXIT_COST = 0.0015
#: bytes of float64 hub rows held at once (cells are processed in groups whose hub rows fit)
_HUB_BYTES = 512 << 20
#: bytes of output rows between two memmap page releases
_BLOCK_BYTES = 256 << 20
#: min-plus blocking: sources per block, columns per tile
CELLS_BLOCK = 8
CELLS_TILE = 512


class Cells:
    """The hub cover and the exits of the cells of m consecutive layout nodes.

    hub : (n,) bool; eptr, enodes : the exits of each cell (CSR-like); region : (n,)
    int64, the cell of each non-hub node and -1 for a hub (the nodes a cell's local
    searches expand).
    """

    __slots__ = ("m", "hub", "eptr", "enodes", "region", "hub_fraction", "exits_mean",
                 "row_cost")

    def __init__(self, lay, m):
        n = lay.n_nodes
        self.m = m
        self.hub = _apsp.hub_cover(lay.indptr, lay.indices, m)
        self.eptr, self.enodes = _apsp.cell_exits(lay.indptr, lay.indices, self.hub, m)
        self.region = np.where(self.hub, -1, np.arange(n) // m).astype(np.int64)
        nh = int(self.hub.sum())
        self.hub_fraction = nh / max(n, 1)
        ne = np.diff(self.eptr).astype(np.float64)
        cnt = np.bincount(np.arange(n) // m, weights=~self.hub, minlength=len(ne))
        self.exits_mean = float((ne * cnt).sum() / max(cnt.sum(), 1))  # per non-hub source
        # the time of a non-hub row relative to a Dijkstra row: a local search over its
        # cell (~ m / n of a full search) and the min-plus product (CELLS_EXIT_COST of a
        # full search per exit of the cell)
        self.row_cost = CELLS_EXIT_COST * self.exits_mean + min(m, n) / max(n, 1)

    def cost(self, n_sources):
        """Predicted time for n_sources rows relative to one Dijkstra per source (all
        hub rows are computed; the sources are about evenly hubs and non-hubs)."""
        n = len(self.hub)
        f = self.hub_fraction
        return (f * n + n_sources * (1 - f) * self.row_cost) / max(n_sources, 1)


def cover(lay, m):
    """The Cells of cell size m of a layout (computed once, kept in lay.cells)."""
    c = lay.cells.get(m)
    if c is None:
        c = lay.cells[m] = Cells(lay, m)
    return c


def choose(lay, n_sources, strategy="auto", cell_size=None):
    """The Cells to use for n_sources distinct all-target rows, or None (plain Dijkstra).

    strategy "auto": the cost model decides; "cells": always (the best cell size);
    "dijkstra": never. cell_size None tries CELL_SIZES, an int fixes it.
    """
    n = lay.n_nodes
    if strategy == "dijkstra" or n == 0:
        return None
    auto = strategy == "auto"
    if auto and (n_sources < CELLS_MIN_SOURCES * n or n < CELLS_MIN_NODES):
        return None
    sizes = CELL_SIZES if cell_size is None else (cell_size,)
    best = min((cover(lay, m) for m in sizes), key=lambda c: c.cost(n_sources))
    if auto and best.cost(n_sources) > CELLS_MAX_COST:
        return None
    return best


def run(lay, cells, src, lim, out, verbose):
    """distances() of all targets by cells and hubs into out; returns what it did (a dict:
    strategy "cells", cell_size, hub_fraction, groups, hub_rows computed, exits_per_source and
    kept_per_source of the non-hub sources, cpu_hub_rows and cpu_cell_rows seconds), or
    None (nothing done) when a cell needs more hub rows than _HUB_BYTES holds."""
    n = lay.n_nodes
    m, hub, eptr, enodes = cells.m, cells.hub, cells.eptr, cells.enodes
    nc = len(eptr) - 1
    s_new = lay.inv[src]
    k = len(src)
    req = np.full(n, -1, dtype=np.int64)
    req[s_new[::-1]] = np.arange(k)[::-1]  # output row of each requested node: its first one
    first = req[s_new]
    dup = np.flatnonzero(first != np.arange(k))
    cell_of = np.arange(n) // m
    want = req >= 0
    nh_cells = np.zeros(nc, dtype=np.bool_)
    nh_cells[cell_of[want & ~hub]] = True
    hub_req = np.flatnonzero(want & hub)
    hub_req_ptr = np.searchsorted(cell_of[hub_req], np.arange(nc + 1))
    cap = max(1, _HUB_BYTES // (8 * n))
    # groups of consecutive cells whose hub rows fit in cap rows
    groups = []
    mark = np.full(n, -1, dtype=np.int64)
    cur, cur_need, count = [], [], 0
    for c in range(nc):
        parts = [hub_req[hub_req_ptr[c]:hub_req_ptr[c + 1]]]
        if nh_cells[c]:
            parts.append(enodes[eptr[c]:eptr[c + 1]])
        need = np.unique(np.concatenate(parts))
        if len(need) == 0 and not nh_cells[c]:
            continue
        if len(need) > cap:
            return None
        gid = len(groups)
        new = need[mark[need] != gid]
        if count + len(new) > cap:
            groups.append((cur, np.concatenate(cur_need)))
            cur, cur_need, count = [], [], 0
            gid += 1
            new = need
        mark[new] = gid
        cur.append(c)
        cur_need.append(new)
        count += len(new)
    if cur:
        groups.append((cur, np.concatenate(cur_need)))
    store = np.empty((min(cap, max(len(nd) for _, nd in groups)), n))
    slot = np.full(n, -1, dtype=np.int64)
    free = list(range(len(store) - 1, -1, -1))
    inv = lay.inv
    csr = lay.csr()
    cov = (hub, m, eptr, enodes, cells.region)
    row_bytes = n * out.dtype.itemsize
    per_batch = max(1, _BLOCK_BYTES // max(row_bytes, 1))
    work = groups
    if verbose:
        
        work = progress(groups, total=len(groups), desc="distances")
    stats = np.zeros(3, dtype=np.int64)
    n_hub_rows = 0
    t_hub = t_cell = 0.0
    for cell_list, need in work:
        held = np.flatnonzero(slot >= 0)
        inneed = np.zeros(n, dtype=np.bool_)
        inneed[need] = True
        for h in held[~inneed[held]]:
            free.append(int(slot[h]))
            slot[h] = -1
        missing = need[slot[need] < 0]
        for h in missing:
            slot[h] = free.pop()
        if len(missing):
            n_hub_rows += len(missing)
            t0 = time.process_time()
            _apsp.hub_rows(csr, missing, slot[missing], lim, store, n_chunks(len(missing)))
            t_hub += time.process_time() - t0
        cl = np.asarray(cell_list, dtype=np.int64)
        # batches of cells whose output rows fit _BLOCK_BYTES (memmap release granularity)
        b0 = 0
        while b0 < len(cl):
            rows_in, b1 = 0, b0
            while b1 < len(cl) and (b1 == b0 or rows_in + m <= per_batch):
                rows_in += min(m, n - cl[b1] * m)
                b1 += 1
            batch = cl[b0:b1]
            hr = np.concatenate([hub_req[hub_req_ptr[c]:hub_req_ptr[c + 1]] for c in batch])
            if len(hr):
                _apsp.copy_rows(store, slot[hr], req[hr], inv, out, n_chunks(len(hr)))
            nb = batch[nh_cells[batch]]
            if len(nb):
                t0 = time.process_time()
                stats += _apsp.cell_rows(csr, cov, nb, (slot, store), (req, inv), lim, out,
                                         (CELLS_BLOCK, CELLS_TILE), n_chunks(len(nb)))
                t_cell += time.process_time() - t0
            lo, hi = batch[0] * m, min(n, (batch[-1] + 1) * m)
            r = req[lo:hi]
            release_rows(out, r[r >= 0])
            b0 = b1
    for s in range(0, len(dup), per_batch):
        d = dup[s:s + per_batch]
        out[d] = out[first[d]]
        release_rows(out, d)
    return {"strategy": "cells", "cell_size": m, "hub_fraction": cells.hub_fraction,
            "groups": len(groups), "hub_rows": n_hub_rows,
            "exits_per_source": stats[1] / max(stats[2], 1),
            "kept_per_source": stats[0] / max(stats[2], 1),
            "cpu_hub_rows": t_hub, "cpu_cell_rows": t_cell}


