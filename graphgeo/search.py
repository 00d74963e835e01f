"""Shortest paths and distances on a GeodesicGraph (directed: never symmetrised)."""

import time

import numpy as np
import numba

from ._validation import check_choice, check_float, check_node, check_nodes
from .curves import Path
from .exceptions import InvalidInputError, NoPathError
from .kernels import apsp as _apsp
from .kernels import search as _ks
from .kernels import sssp as _sssp

__all__ = ["shortest_path", "shortest_path_between", "distances", "pair_distances", "multi_source"]

# bytes of float64 rows held at once by the blocked many-source searches
_BLOCK_BYTES = 256 << 20


class _Layout:
    """The graph as the search kernels see it: nodes renumbered along a space-filling
    (Morton) curve so that neighbours sit close in memory, int32 column indices.

    perm[new] = original node, inv[original] = new. Measured on a 20k-node 10-NN
    graph (400 sources, 2 threads): 1.79 s in the caller's node order with int64
    indices, 0.68 s renumbered with int32 indices. Users never see the new numbers.
    """

    __slots__ = ("perm", "inv", "indptr", "indices", "data", "points", "landmarks", "cells")

    def __init__(self, g):
        n = g.n_nodes
        perm = _morton_order(g.points) if n > 1 else np.arange(n)
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        W = g.weights[perm][:, perm].tocsr()
        W.sort_indices()
        self.perm = perm.astype(np.int64)
        self.inv = inv
        self.indptr = np.ascontiguousarray(W.indptr, dtype=np.int64)
        idx_type = np.int32 if n < 2**31 - 1 else np.int64
        self.indices = np.ascontiguousarray(W.indices, dtype=idx_type)
        self.data = np.ascontiguousarray(W.data, dtype=np.float64)
        self.points = np.ascontiguousarray(g.points[perm])
        self.landmarks = None
        self.cells = {}  # cell size m -> _Cells

    def csr(self):
        return self.indptr, self.indices, self.data

    def reverse_csr(self):
        """CSR arrays of the transposed graph (edge v -> u of weight w(u, v)), same numbering."""
        import scipy.sparse as sp

        n = len(self.indptr) - 1
        W = sp.csr_matrix((self.data, self.indices, self.indptr), shape=(n, n))
        T = W.T.tocsr()
        T.sort_indices()
        return (np.ascontiguousarray(T.indptr, dtype=np.int64),
                np.ascontiguousarray(T.indices, dtype=self.indices.dtype),
                np.ascontiguousarray(T.data, dtype=np.float64))

    def to_original_pred(self, pred_new):
        """Predecessor array(s) indexed by original nodes, holding original nodes (-1 kept)."""
        p = pred_new[..., self.inv]
        return np.where(p >= 0, self.perm[np.maximum(p, 0)], -1)


def _morton_order(points):
    """Order of points along a Morton (Z-order) curve of their first 3 principal axes."""
    x = points
    if x.shape[1] > 3:
        sample = x[:: max(1, len(x) // 20000)]
        mean = sample.mean(axis=0)
        _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
        x = (x - mean) @ vt[:3].T
    dims = x.shape[1]
    bits = min(63 // dims, 20)  # 2^20 cells per axis is plenty, and stays exact in float64
    span = np.ptp(x, axis=0)
    q = ((x - x.min(axis=0)) / np.where(span > 0, span, 1.0) * (2**bits - 1)).astype(np.int64)
    code = np.zeros(len(x), dtype=np.int64)
    for b in range(bits):
        for d in range(dims):
            code |= ((q[:, d] >> b) & 1) << (b * dims + d)
    return np.argsort(code, kind="stable")


#: landmarks of the ALT bounds (A* with landmarks, triangle inequality), per graph
N_LANDMARKS = 16
#: pair batches with at least this many A* queries compute the landmarks (once per graph;
#: about 2 * N_LANDMARKS full searches); smaller batches use them only if already there
ALT_MIN_PAIRS = 256


class _Landmarks:
    """Distances from and to a few far-apart nodes (farthest-point selection).

    table[v, :L] = d(L_l -> v), table[v, L:] = d(v -> L_l), renumbered node order,
    inf where unreachable. slack bounds the rounding of a difference of two computed
    path lengths: the estimates subtract it, so they never exceed the true cost.
    """

    __slots__ = ("nodes", "table", "slack")

    def __init__(self, lay, count):
        n = len(lay.indptr) - 1
        count = max(1, min(count, n))
        fwd_csr = lay.csr()
        rev_csr = lay.reverse_csr()
        none = np.zeros(1, dtype=np.bool_)
        fwd = np.empty((count, n))
        rev = np.empty((count, n))
        # the first landmark is the node farthest (round trip) from node 0 of the layout
        d0 = _sssp.multi_source(*fwd_csr, np.zeros(1, np.int64), np.zeros(1), np.inf, none, 0)[0]
        d1 = _sssp.multi_source(*rev_csr, np.zeros(1, np.int64), np.zeros(1), np.inf, none, 0)[0]
        score = d0 + d1
        nodes = []
        for m in range(count):
            # farthest from the chosen ones; an unreached node (inf) first: a new component
            cand = int(np.argmax(score))
            if nodes and score[cand] == 0.0:
                fwd, rev = fwd[:m], rev[:m]
                break
            nodes.append(cand)
            seed = np.array([cand], dtype=np.int64)
            fwd[m] = _sssp.multi_source(*fwd_csr, seed, np.zeros(1), np.inf, none, 0)[0]
            rev[m] = _sssp.multi_source(*rev_csr, seed, np.zeros(1), np.inf, none, 0)[0]
            score = np.minimum(score, fwd[m] + rev[m]) if m else fwd[m] + rev[m]
        self.nodes = np.asarray(nodes, dtype=np.int64)
        self.table = np.ascontiguousarray(np.concatenate([fwd, rev]).T)
        finite = self.table[np.isfinite(self.table)]
        big = float(finite.max()) if finite.size else 0.0
        self.slack = 4.0 * n * np.finfo(np.float64).eps * big


def _landmarks(lay, count=None):
    """The cached landmarks of a layout, computed on first use."""
    if lay.landmarks is None:
        lay.landmarks = _Landmarks(lay, N_LANDMARKS if count is None else count)
    return lay.landmarks


def _layout(g):
    """The cached search layout of g (rebuilt if its weights were replaced)."""
    lay = getattr(g, "_search_layout", None)
    if lay is None or lay[0] is not g.weights:
        lay = (g.weights, _Layout(g))
        g._search_layout = lay
    return lay[1]


def _csr(g):
    """The graph's CSR arrays in the search layout (what the kernels and Dask workers use)."""
    return _layout(g).csr()


def shortest_path(g, source, target, method="astar"):
    """Shortest directed path source -> target.

    Parameters
    ----------
    g : GeodesicGraph
    source, target : int node indices
    method : "astar" (default) or "dijkstra"
        A* uses the consistent heuristic h(n) = c |z_n - z_target| with
        c = g.heuristic_scale (min over edges of weight / Euclidean length), so it
        returns the same length as Dijkstra while settling fewer nodes.

    Returns
    -------
    Path with nodes, points, length, n_settled.

    Raises
    ------
    InvalidInputError for bad indices or method; NoPathError when target is unreachable.
    """
    n = g.n_nodes
    source = check_node(source, n, "source")
    target = check_node(target, n, "target")
    method = check_choice(method, "method", ("astar", "dijkstra"))
    if source == target:
        return Path(np.array([source]), g.points[[source]], 0.0, method, 1)
    lay = _layout(g)
    hscale = g.heuristic_scale if method == "astar" else 0.0
    s_new, t_new = lay.inv[source], lay.inv[target]
    dist, pred, settled = _ks.astar(*lay.csr(), lay.points, s_new, t_new, hscale)
    if not np.isfinite(dist):
        raise NoPathError(
            f"node {target} cannot be reached from node {source}; the graph is disconnected "
            "(build it with connect='bridge' or a larger k)."
        )
    nodes = lay.perm[_ks.trace_path(pred, s_new, t_new)]
    return Path(nodes, g.points[nodes], dist, method, settled)


def _block_rows(n_cols, itemsize=8):
    return max(1, _BLOCK_BYTES // (itemsize * max(n_cols, 1)))


def _n_chunks(n_sources):
    return max(1, min(n_sources, 4 * numba.get_num_threads()))


def _check_limit(limit):
    # None and np.inf (scipy's default) mean no limit; anything else must be >= 0
    if limit is None or (isinstance(limit, (float, np.floating)) and limit == np.inf):
        return np.inf
    return check_float(limit, "limit", low=0.0)


def _release(out, start, stop):
    """Flush rows [start, stop) of a memmap and drop them from this process's memory."""
    _release_runs(out, [(start, stop)])


def _release_rows(out, rows):
    """_release for a set of (scattered) rows: one flush, one madvise per run of rows."""
    if not isinstance(out, np.memmap) or len(rows) == 0:
        return
    r = np.unique(np.asarray(rows, dtype=np.int64))
    cut = np.flatnonzero(np.diff(r) != 1) + 1
    starts = r[np.concatenate([[0], cut])]
    stops = r[np.concatenate([cut - 1, [len(r) - 1]])] + 1
    _release_runs(out, list(zip(starts.tolist(), stops.tolist())))


def _release_runs(out, runs):
    if not isinstance(out, np.memmap):
        return
    out.flush()
    mm = getattr(out, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or getattr(out, "mode", None) == "c":
        return  # (a copy-on-write map would lose what it dropped)
    import mmap

    row = out.strides[0]
    offset = out.offset if hasattr(out, "offset") else 0
    for start, stop in runs:
        # a page shared with a neighbouring row is dropped too: harmless for a shared
        # file mapping (its data stays in the page cache, the page is faulted in again)
        lo = (offset + start * row) // mmap.PAGESIZE * mmap.PAGESIZE
        hi = offset + stop * row
        try:
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
        except (OSError, ValueError, AttributeError):  # pragma: no cover - platform dependent
            return


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

#: None: decide by the cost model; True / False: force the cells path on / off

CELLS = None
#: cell size; None: the candidate of CELL_SIZES with the lowest predicted cost
CELL_SIZE = None
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
#: min-plus blocking: sources per block, columns per tile
CELLS_BLOCK = 8
CELLS_TILE = 512


class _Cells:
    """The hub cover and the exits of the cells of m consecutive layout nodes."""

    __slots__ = ("m", "hub", "eptr", "enodes", "hub_fraction", "exits_mean", "row_cost")

    def __init__(self, lay, m):
        n = len(lay.indptr) - 1
        self.m = m
        self.hub = _apsp.hub_cover(lay.indptr, lay.indices, m)
        self.eptr, self.enodes = _apsp.cell_exits(lay.indptr, lay.indices, self.hub, m)
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


def _cells(lay, m):
    c = lay.cells.get(m)
    if c is None:
        c = lay.cells[m] = _Cells(lay, m)
    return c


def _choose_cells(lay, n_sources):
    """The _Cells to use for n_sources distinct all-target rows, or None (plain Dijkstra)."""
    n = len(lay.indptr) - 1
    if CELLS is False or n == 0:
        return None
    if CELLS is None and (n_sources < CELLS_MIN_SOURCES * n or n < CELLS_MIN_NODES):
        return None
    sizes = CELL_SIZES if CELL_SIZE is None else (max(1, int(CELL_SIZE)),)
    best = min((_cells(lay, m) for m in sizes), key=lambda c: c.cost(n_sources))
    if CELLS is None and best.cost(n_sources) > CELLS_MAX_COST:
        return None
    return best


#: what the last cells-and-hubs run did (cell size, hub fraction, groups, hub rows computed,
#: exits and kept exits per non-hub source); for benchmarks and tests
last_cells_run = None


def _cells_distances(lay, cells, src, lim, out, verbose):
    """distances() of all targets by cells and hubs; False (nothing done) when a cell needs
    more hub rows than _HUB_BYTES holds."""
    n = len(lay.indptr) - 1
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
            return False
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
    indptr, indices, data = lay.csr()
    row_bytes = n * out.dtype.itemsize
    per_batch = max(1, _BLOCK_BYTES // max(row_bytes, 1))
    work = groups
    if verbose:
        from ._progress import progress

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
            _apsp.hub_rows(indptr, indices, data, missing, slot[missing], lim, store,
                           _n_chunks(len(missing)))
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
                _apsp.copy_rows(store, slot[hr], req[hr], inv, out, _n_chunks(len(hr)))
            nb = batch[nh_cells[batch]]
            if len(nb):
                t0 = time.process_time()
                stats += _apsp.cell_rows(indptr, indices, data, hub, m, nb, eptr, enodes, slot, store,
                                req, inv, lim, out, CELLS_BLOCK, CELLS_TILE, _n_chunks(len(nb)))
                t_cell += time.process_time() - t0
            lo, hi = batch[0] * m, min(n, (batch[-1] + 1) * m)
            r = req[lo:hi]
            _release_rows(out, r[r >= 0])
            b0 = b1
    for s in range(0, len(dup), per_batch):
        d = dup[s:s + per_batch]
        out[d] = out[first[d]]
        _release_rows(out, d)
    global last_cells_run
    last_cells_run = {"m": m, "hub_fraction": cells.hub_fraction, "groups": len(groups),
                      "hub_rows": n_hub_rows, "exits_per_source": stats[1] / max(stats[2], 1),
                      "kept_per_source": stats[0] / max(stats[2], 1),
                      "cpu_hub_rows": t_hub, "cpu_cell_rows": t_cell}
    return True


def _resolve(g, x, name):
    """Node indices (int64 array) or an Attachment of off-graph points."""
    from .attach import Attachment

    if isinstance(x, Attachment):
        if x.graph_id != id(g):
            raise InvalidInputError(
                f"{name} was attached to another graph; attach the points to this graph with "
                "g.attach(points)."
            )
        return x
    return check_nodes(x, g.n_nodes, name)


def distances(g, sources=None, targets=None, limit=None, dtype=np.float64, out=None,
              return_predecessors=False, verbose=False):
    """Directed geodesic distances D[a, b] = cost sources[a] -> targets[b].

    A numba many-source Dijkstra (one search per source, sources spread over
    threads); with targets, each search stops once all of them are settled.
    All-target rows for most of the nodes (no targets, no predecessors) use the
    exact "cells and hubs" scheme of graphgeo.kernels.apsp when its predicted cost
    is low (low-dimensional graphs; see CELLS and the constants next to it):
    Dijkstra from the hub nodes only, min-plus products for the rest.

    Parameters
    ----------
    sources, targets : node indices, None (all nodes), or an Attachment of
        off-graph points (``g.attach(points)``): an off-graph source starts at its
        attached nodes with the attachment costs, an off-graph target is reached
        through its attached nodes (or directly from an off-graph source closer to
        it than to its own k-th node)
    limit : float, None or np.inf (no limit); distances above it are reported as inf
    dtype : float64 (default) or float32 for the result (accumulation is float64)
    out : optional array or np.memmap of shape (len(sources), len(targets)), filled in
        source blocks; a memmap's finished blocks are flushed and released, so an
        N x N result larger than memory streams to disk
    return_predecessors : also return P of shape (len(sources), n_nodes), P[a, v] the
        node before v on the shortest path from sources[a] (-1 at the source, the
        attached nodes of an off-graph source, and unreached nodes), as
        scipy.sparse.csgraph does
    verbose : progress bar over source blocks

    Returns
    -------
    D : (n_sources, n_targets) array (``out`` when given); inf where unreachable.
    P : (n_sources, n_nodes) int64, with return_predecessors.

    Raises
    ------
    InvalidInputError before any work for bad indices, limit, dtype or out.
    """
    from .attach import Attachment, direct_costs

    n = g.n_nodes
    src = np.arange(n) if sources is None else _resolve(g, sources, "sources")
    tgt = None if targets is None else _resolve(g, targets, "targets")
    n_t = n if tgt is None else len(tgt)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise InvalidInputError(f"dtype must be float64 or float32; received {dtype!r}.") from None
    if dtype not in (np.float64, np.float32):
        raise InvalidInputError(f"dtype must be float64 or float32; received {dtype}.")
    lim = _check_limit(limit)
    shape = (len(src), n_t)
    if out is None:
        out = np.empty(shape, dtype=dtype)
    elif (tuple(out.shape) != shape or out.dtype not in (np.float64, np.float32)
          or not out.flags.c_contiguous or not out.flags.writeable):
        raise InvalidInputError(
            f"out must be a writeable C-contiguous float64 or float32 array of shape {shape}; "
            f"received shape {tuple(out.shape)} and dtype {out.dtype}."
        )
    preds = np.empty((len(src), n), dtype=np.int64) if return_predecessors else np.empty((0, 0), np.int64)
    if len(src) == 0 or n_t == 0:
        return (out, preds) if return_predecessors else out
    lay = _layout(g)
    indptr, indices, data = lay.csr()
    off_src = isinstance(src, Attachment)
    off_tgt = isinstance(tgt, Attachment)
    if tgt is None:
        t_nodes = np.arange(n)
    elif off_tgt:
        t_nodes, t_pos = np.unique(tgt.nodes, return_inverse=True)
        t_pos = t_pos.reshape(tgt.nodes.shape)
    else:
        t_nodes = tgt
    t_new = lay.inv[t_nodes]  # column c reads the renumbered node of t_nodes[c]
    tmask = np.zeros(n, dtype=np.bool_)
    tmask[t_new] = True
    n_distinct = int(tmask.sum())
    width = len(t_nodes)
    per_row = max(width * (tgt.nodes.shape[1] if off_tgt else 1), n if return_predecessors else 0)
    step = _block_rows(per_row)
    if off_src and off_tgt:
        da, db, dc = direct_costs(g, src, tgt)
    if tgt is None and not off_src and not return_predecessors:
        cells = _choose_cells(lay, len(np.unique(src)) if sources is not None else n)
        if cells is not None and _cells_distances(lay, cells, src, lim, out, verbose):
            return out
    blocks = range(0, len(src), step)
    if verbose:
        from ._progress import progress

        blocks = progress(blocks, total=len(blocks), desc="distances")
    for s in blocks:
        e = min(s + step, len(src))
        if off_src:
            sptr, seeds, offsets = src.seeds(s, e)
        else:
            sptr, seeds, offsets = np.arange(e - s + 1, dtype=np.int64), src[s:e], np.zeros(e - s)
        seeds = lay.inv[seeds]
        pv = np.empty((e - s, n), dtype=np.int64) if return_predecessors else preds
        if off_tgt:
            buf = np.empty((e - s, width))
            _sssp.rows(indptr, indices, data, sptr, seeds, offsets, t_new, n_distinct, tmask,
                       lim, buf, return_predecessors, pv, _n_chunks(e - s))
            # through the target's attached nodes: min_j d(src -> node_j) + in_cost[j]
            via = np.min(buf[:, t_pos] + tgt.in_cost[None], axis=2)
            if off_src:
                sel = (da >= s) & (da < e)
                np.minimum.at(via, (da[sel] - s, db[sel]), dc[sel])
            via[via > lim] = np.inf
            out[s:e] = via
        else:
            _sssp.rows(indptr, indices, data, sptr, seeds, offsets, t_new, n_distinct, tmask,
                       lim, out[s:e], return_predecessors, pv, _n_chunks(e - s))
        if return_predecessors:
            preds[s:e] = lay.to_original_pred(pv)
        _release(out, s, e)
    return (out, preds) if return_predecessors else out


#: sources with at most this many targets are answered by one A* search per pair
ASTAR_MAX_TARGETS = 4


def _astar_pairs(g, lay, s_new, t_new, lim, landmarks=None):
    """A* per pair on the layout; returns (distances, settled node counts)."""
    n_pairs = len(s_new)
    hscale = g.heuristic_scale
    if landmarks is None:
        landmarks = lay.landmarks is not None or n_pairs >= ALT_MIN_PAIRS
    if landmarks:
        lm = _landmarks(lay)
        table, slack = lm.table, lm.slack
    else:
        table, slack = np.zeros((g.n_nodes, 0)), 0.0
    if hscale > 0 and not landmarks:
        # the Euclidean estimate alone: as before, plus the same rounding margin
        span = float(np.linalg.norm(np.ptp(lay.points, axis=0))) if g.n_nodes else 0.0
        slack = 4.0 * g.n_nodes * np.finfo(np.float64).eps * hscale * span
    res = np.empty(n_pairs)
    settled = np.empty(n_pairs, dtype=np.int64)
    _sssp.astar_pairs(*lay.csr(), lay.points, s_new.astype(np.int64), t_new.astype(np.int64),
                      hscale, table, slack, lim, res, settled, _n_chunks(n_pairs))
    return res, settled


def pair_distances(g, src, dst, limit=None):
    """Elementwise directed distances L[i] = cost src[i] -> dst[i] (float64, inf if unreachable).

    Pairs are grouped by source. A source with few targets (<= ASTAR_MAX_TARGETS) is
    answered by A* per pair; a source with many targets by one Dijkstra that stops as
    soon as all of them are settled. Both run in parallel over pairs / sources.

    A* uses the Euclidean estimate c |z_n - z_t| and, for batches of at least
    ALT_MIN_PAIRS such pairs (or once computed for this graph), landmark bounds (ALT:
    N_LANDMARKS far-apart nodes, their distances to and from every node, computed once
    per graph and cached with the search layout; about 1 s on 100k nodes). Measured on
    a 100k-node 15-NN Randers graph, 4000 random pairs, one thread: 1.6k settled nodes
    per query instead of 18.9k with the Euclidean estimate alone, 8x less time.
    """
    n = g.n_nodes
    src = check_nodes(src, n, "src")
    dst = check_nodes(dst, n, "dst")
    if src.shape != dst.shape:
        raise InvalidInputError(
            f"src and dst must have the same length; received {len(src)} and {len(dst)}."
        )
    lim = _check_limit(limit)
    out = np.empty(len(src))
    if len(src) == 0:
        return out
    lay = _layout(g)
    uniq, inverse, counts = np.unique(src, return_inverse=True, return_counts=True)
    few = counts[inverse] <= ASTAR_MAX_TARGETS
    if few.any():
        sel = np.flatnonzero(few)
        out[sel] = _astar_pairs(g, lay, lay.inv[src[sel]], lay.inv[dst[sel]], lim)[0]
    rest = np.flatnonzero(~few)
    if len(rest):
        order = rest[np.argsort(src[rest], kind="stable")]
        usrc, start = np.unique(src[order], return_index=True)
        tptr = np.append(start, len(order)).astype(np.int64)
        _sssp.pairs(*lay.csr(), lay.inv[usrc], tptr, lay.inv[dst[order]],
                    order.astype(np.int64), lim, out, _n_chunks(len(usrc)))
    return out


def multi_source(g, seeds, offsets=None, limit=None):
    """One search from several seeds at once (graph Voronoi partition).

    Parameters
    ----------
    seeds : node indices
    offsets : initial distance of each seed (default 0); a node's distance is
        min over seeds s of offsets[s] + cost(seeds[s] -> node)
    limit : float or None

    Returns
    -------
    dist : (n_nodes,) float64, inf where unreached
    nearest : (n_nodes,) int64 index into ``seeds`` of the seed that reaches the node
        first (-1 where unreached)
    pred : (n_nodes,) int64 predecessor on that shortest path (-1 at seeds / unreached)
    """
    n = g.n_nodes
    seeds = check_nodes(seeds, n, "seeds")
    if len(seeds) == 0:
        raise InvalidInputError("seeds must hold at least one node index; received none.")
    if offsets is None:
        offs = np.zeros(len(seeds))
    else:
        offs = np.asarray(offsets, dtype=np.float64).ravel()
        if offs.shape != seeds.shape or not np.all(np.isfinite(offs)) or np.any(offs < 0):
            raise InvalidInputError(
                f"offsets must hold one finite value >= 0 per seed ({len(seeds)}); received "
                f"shape {offs.shape}, min {offs.min() if offs.size else 'n/a'}."
            )
    lay = _layout(g)
    dist, label, pred = _sssp.multi_source(*lay.csr(), lay.inv[seeds], offs, _check_limit(limit),
                                           np.zeros(1, dtype=np.bool_), 0)
    return dist[lay.inv], label[lay.inv], lay.to_original_pred(pred)


def _endpoint(g, z, name):
    """A node index, or coordinates attached to the graph: (node or None, Attachment or None)."""
    import numbers

    from .attach import attach

    if isinstance(z, (numbers.Integral, np.integer)) and not isinstance(z, bool):
        return check_node(z, g.n_nodes, name), None
    return None, attach(g, z, k=None)


def shortest_path_between(g, z0, z1, method="astar", limit=None):
    """Shortest directed path between two points that may be off the graph.

    Parameters
    ----------
    z0, z1 : node indices or coordinates (d,); coordinates are attached to the graph
        through their k nearest nodes with the true directed costs (see ``g.attach``)
    method : "astar" or "dijkstra"; A* is used when both endpoints are nodes, a
        multi-seed Dijkstra with early exit otherwise

    Returns
    -------
    Path whose ``points`` start at z0 and end at z1 and whose ``nodes`` are the graph
    nodes visited in between; ``length`` is the directed cost z0 -> z1.

    Raises
    ------
    NoPathError when z1 cannot be reached from z0.
    """
    method = check_choice(method, "method", ("astar", "dijkstra"))
    s_node, s_att = _endpoint(g, z0, "z0")
    t_node, t_att = _endpoint(g, z1, "z1")
    if s_att is None and t_att is None:
        return shortest_path(g, s_node, t_node, method=method)
    n = g.n_nodes
    if s_att is None:
        seeds, offs = np.array([s_node]), np.zeros(1)
    else:
        seeds, offs = s_att.nodes[0], s_att.out_cost[0]
    t_nodes = np.array([t_node]) if t_att is None else np.unique(t_att.nodes[0])
    lay = _layout(g)
    tmask = np.zeros(n, dtype=np.bool_)
    tmask[lay.inv[t_nodes]] = True
    dist, _, pred = _sssp.multi_source(*lay.csr(), lay.inv[seeds], offs, _check_limit(limit),
                                       tmask, len(t_nodes))
    dist, pred = dist[lay.inv], lay.to_original_pred(pred)
    if t_att is None:
        best, last = dist[t_node], t_node
    else:
        via = dist[t_att.nodes[0]] + t_att.in_cost[0]
        j = int(np.argmin(via))
        best, last = via[j], int(t_att.nodes[0][j])
    direct = np.inf
    if s_att is not None and t_att is not None:
        from .attach import direct_costs

        _, _, dc = direct_costs(g, s_att, t_att)
        direct = dc.min(initial=np.inf)
    if not np.isfinite(min(best, direct)):
        raise NoPathError(
            "z1 cannot be reached from z0 on this graph; it is disconnected "
            "(build it with connect='bridge' or a larger k)."
        )
    if direct <= best:
        nodes = np.zeros(0, dtype=np.int64)
        best = direct
    else:
        chain = [last]
        while pred[chain[-1]] >= 0:
            chain.append(int(pred[chain[-1]]))
        nodes = np.asarray(chain[::-1], dtype=np.int64)
    parts = []
    if s_att is not None:
        parts.append(s_att.points)
    parts.append(g.points[nodes])
    if t_att is not None:
        parts.append(t_att.points)
    return Path(nodes, np.concatenate(parts), best, "dijkstra", int(np.isfinite(dist).sum()),
                on_graph=(s_att is None, t_att is None))
