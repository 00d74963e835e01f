"""Shortest paths and distances on a GeodesicGraph (directed: never symmetrised).

Every search runs the one Dijkstra / A* core of graphgeo.kernels.dijkstra through
the drivers of graphgeo.kernels.sssp, on the graph's search layout
(``g.search_cache``, graphgeo.layout), except single-pair A* (shortest_path), which is
the bidirectional search of graphgeo.kernels.bidirectional. All-pairs rows may take the cells-and-hubs
strategy of graphgeo.cells.
"""

import numpy as np

from . import cells as _cells
from ._memmap import release
from ._validation import (check_bool, check_choice, check_endpoints, check_int, check_limit,
                          check_node, check_nodes, check_pairs)
from ._verbose import progress_bar
from .curves import Path
from .exceptions import InvalidInputError, NoPathError
from .kernels import bidirectional as _bidir
from .kernels import dijkstra as _dijkstra
from .kernels import sssp as _sssp
from .layout import N_LANDMARKS, n_chunks

__all__ = ["shortest_path", "shortest_path_between", "distances", "pair_distances", "multi_source"]

# bytes of float64 rows held at once by the blocked many-source searches
_BLOCK_BYTES = 256 << 20
#: pair batches with at least this many A* queries compute the landmarks (once per graph;
#: about 2 * N_LANDMARKS full searches); smaller batches use them only if already there
ALT_MIN_PAIRS = 256
#: the all-pairs strategies of distances()
STRATEGIES = ("auto", "dijkstra", "cells")


def shortest_path(g, source, target, method="astar", landmarks="auto"):
    """Shortest directed path source -> target.

    Parameters
    ----------
    g : GeodesicGraph
    source, target : int node indices
    method : "astar" (default) or "dijkstra"
        "astar": bidirectional A* (a forward search from source on the graph and a
        backward one from target on its transpose, with average potentials; see
        graphgeo.kernels.bidirectional). Its lower bounds: the larger of
        c |z_n - z_t| (c = g.heuristic_scale) and the affine bound
        c' |z_n - z_t| + <b, z_t - z_n> fitted to the edge weights (under a Randers metric
        b follows the 1-form, whose cost telescopes along a path; see
        graphgeo.layout.SearchLayout.geometric_bound), and the landmark (ALT) bounds when
        ``landmarks`` says so. "dijkstra": one forward Dijkstra search that stops at the
        target (no estimate; the reference). Both return the same length (rtol 1e-12).
    landmarks : "auto" (default), True or False
        Landmark bounds for "astar": graphgeo.layout.N_LANDMARKS far-apart nodes and their
        distances to and from every node, computed once per graph (about 2 N_LANDMARKS + 2
        full searches) and kept with the search layout, as pair_distances does for large
        batches. True: use them, computing them now if needed. False: never. "auto":
        use them once computed; compute them when this graph's single-pair queries made
        without them show that the geometric bounds are weak: after ALT_AUTO_QUERIES
        queries settling on average at least ALT_AUTO_FRACTION of the nodes, or once
        they have settled as many nodes as the table costs. Measured on a 100k-node
        10-NN Randers graph in 3-D with an RBF 1-form: 14% of the nodes settled per
        query without landmarks, 1.6% with; with a constant 1-form the affine bound
        alone settles 1.4% and the table is not computed (see ALT_AUTO_FRACTION).

    The first query on a graph also builds its search layout (renumbering, transposed
    CSR, affine fit; about 10 full scipy searches), and the query that triggers the
    landmarks pays for them (about 25-30). After that, measured with bench/astar.py on
    10-NN Randers graphs of 30k and 100k uniform points in 2-D, 3-D and 8-D (constant and
    RBF 1-forms), a query settles 0.2k-2.3k nodes and takes 1/10 to 1/50 of one full
    scipy.sparse.csgraph.dijkstra search.

    Returns
    -------
    Path with nodes, points, length (the sum of the edge weights along ``nodes``) and
    n_settled (nodes popped by the search, both directions for "astar").

    Raises
    ------
    InvalidInputError for bad indices, method or landmarks; NoPathError when target is
    unreachable.
    """
    return _node_path(g, source, target, method, landmarks, np.inf)


#: landmarks="auto" of shortest_path: the landmark table is computed after this many
#: single-pair queries made without it ...
ALT_AUTO_QUERIES = 4
#: ... if they settled on average at least this fraction of the nodes, and in any case once
#: they settled as many nodes as the table costs, (2 N_LANDMARKS + 2) n (ski rental: never
#: more than twice the work of the better choice). Measured, 10-NN graphs, random pairs,
#: settled nodes per query without -> with landmarks: RBF 1-form, 2-D 30k nodes
#: 21% -> 2.3%, 3-D 10k 14% -> 1.0%, 3-D 100k 14% -> 1.6% (the table, ~30 full searches,
#: repays its cost after ~300 queries and makes each ~10x cheaper); constant 1-form, where
#: the affine bound is nearly tight: 2-D 30k 3.5% -> 2.2%, 2-D 100k 3.9% (built: 2-D
#: paths have many hops), 3-D 30k 1.7%, 3-D 100k 1.4% -> 0.7%, 8-D 30k 0.7% (not built:
#: thousands of queries to repay it, until the ski-rental rule says so)
ALT_AUTO_FRACTION = 0.03


def _check_landmarks(landmarks):
    if isinstance(landmarks, (bool, np.bool_)):
        return bool(landmarks)
    if isinstance(landmarks, str) and landmarks == "auto":
        return landmarks
    raise InvalidInputError(
        f"landmarks must be 'auto', True or False; received {landmarks!r}."
    )


def _want_landmarks(lay, landmarks):
    """Whether a single-pair A* query uses the landmark table (see shortest_path)."""
    if landmarks != "auto":
        return landmarks
    if lay.landmarks is not None:
        return True
    n, q, st = lay.n_nodes, lay.pair_queries, lay.pair_settled
    table_cost = (2 * N_LANDMARKS + 2) * n
    return st >= table_cost or (q >= ALT_AUTO_QUERIES and st >= ALT_AUTO_FRACTION * n * q)


def _node_path(g, source, target, method, landmarks, lim):
    """shortest_path with a limit (paths longer than lim are not found)."""
    n = g.n_nodes
    source = check_node(source, n, "source")
    target = check_node(target, n, "target")
    method = check_choice(method, "method", ("astar", "dijkstra"))
    landmarks = _check_landmarks(landmarks)
    if source == target:
        return Path(np.array([source]), g.points[[source]], 0.0, method, 1)
    lay = g.search_cache
    s_new, t_new = int(lay.inv[source]), int(lay.inv[target])
    if method == "dijkstra":
        dist, pred, settled = _sssp.astar(lay.csr(), lay.points, s_new, t_new, 0.0)
        if dist > lim:
            dist = np.inf
        if np.isfinite(dist):
            path = _dijkstra.trace_path(pred, s_new, t_new)
    else:
        use = _want_landmarks(lay, landmarks)
        hscale = g.heuristic_scale
        b, c, slack = lay.geometric_bound(hscale)
        if use:
            lm = lay.get_landmarks()
            table, slack = lm.table, max(slack, lm.slack)
        else:
            table = np.zeros((n, 0))
        pot = (lay.points, b, c, hscale, table, slack)
        # margin: the bounds are consistent up to slack-sized rounding (kernel docstring)
        dist, path, settled = _bidir.pair(lay.csr(), lay.reverse(), s_new, t_new, pot, lim,
                                          4.0 * slack, lay.pair_work())
        if not use:
            lay.pair_queries += 1
            lay.pair_settled += int(settled)
    if not np.isfinite(dist):
        why = (f" within limit {lim:g}." if lim < np.inf else "; the graph is disconnected "
               "(build it with connect='bridge' or a larger k).")
        raise NoPathError(f"node {target} cannot be reached from node {source}{why}")
    nodes = lay.perm[path]
    return Path(nodes, g.points[nodes], dist, method, settled)


def _block_rows(n_cols, itemsize=8):
    return max(1, _BLOCK_BYTES // (itemsize * max(n_cols, 1)))


def distances(g, sources=None, targets=None, limit=None, dtype=np.float64, out=None,
              return_predecessors=False, verbose=False, strategy="auto", cell_size=None,
              return_stats=False):
    """Directed geodesic distances D[a, b] = cost sources[a] -> targets[b].

    A numba many-source Dijkstra (one search per source, sources spread over
    threads); with targets, each search stops once all of them are settled.
    All-target rows for most of the nodes (no targets, no predecessors) use the
    exact "cells and hubs" scheme of graphgeo.cells when its predicted cost is low
    (low-dimensional graphs; see ``strategy``): Dijkstra from the hub nodes only,
    min-plus products for the rest.

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
    verbose : bool, default False; show a progress bar (tqdm, on stderr) counting the
        sources whose rows are done (advancing per block of sources, or per group of
        cells with the cells strategy)
    strategy : "auto" (default), "dijkstra" or "cells"
        How all-target rows of graph-node sources without predecessors are computed:
        "dijkstra", one search per source; "cells", cells and hubs (graphgeo.cells);
        "auto", cells and hubs when its cost model predicts it faster (graphs of at
        least graphgeo.cells.CELLS_MIN_NODES nodes, most nodes as sources, a low hub
        fraction). Calls with targets, off-graph sources or predecessors, and cells
        whose hub rows do not fit the memory budget, always take "dijkstra". The
        results are the same either way (rtol 1e-12; bitwise for a given strategy).
    cell_size : int >= 1 or None
        Nodes per cell for the cells strategy (None: the best of
        graphgeo.cells.CELL_SIZES by the cost model).
    return_stats : also return a dict describing the work: "strategy" ("dijkstra" or
        "cells") and, for cells, cell_size, hub_fraction, groups, hub_rows,
        exits_per_source, kept_per_source, cpu_hub_rows, cpu_cell_rows

    Returns
    -------
    D : (n_sources, n_targets) array (``out`` when given); inf where unreachable.
    P : (n_sources, n_nodes) int64, with return_predecessors.
    stats : dict, with return_stats (last).

    Raises
    ------
    InvalidInputError before any work for bad indices, limit, dtype, out, strategy or
    cell_size.
    """
    from .attach import Attachment, direct_costs

    n = g.n_nodes
    src = np.arange(n) if sources is None else check_endpoints(g, sources, "sources")
    tgt = None if targets is None else check_endpoints(g, targets, "targets")
    n_t = n if tgt is None else len(tgt)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise InvalidInputError(f"dtype must be float64 or float32; received {dtype!r}.") from None
    if dtype not in (np.float64, np.float32):
        raise InvalidInputError(f"dtype must be float64 or float32; received {dtype}.")
    lim = check_limit(limit)
    strategy = check_choice(strategy, "strategy", STRATEGIES)
    verbose = check_bool(verbose, "verbose")
    if cell_size is not None:
        cell_size = check_int(cell_size, "cell_size", low=1,
                              remedy="It is the number of nodes per cell of the cells strategy.")
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

    def result(stats):
        res = (out,) + ((preds,) if return_predecessors else ()) + ((stats,) if return_stats else ())
        return res if len(res) > 1 else out

    if len(src) == 0 or n_t == 0:
        return result({"strategy": "dijkstra"})
    lay = g.search_cache
    csr = lay.csr()
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
    targets_arg = (t_new, tmask, n_distinct)
    width = len(t_nodes)
    per_row = max(width * (tgt.nodes.shape[1] if off_tgt else 1), n if return_predecessors else 0)
    step = _block_rows(per_row)
    if off_src and off_tgt:
        da, db, dc = direct_costs(g, src, tgt)
    with progress_bar(verbose, total=len(src), desc="distances", unit="source") as bar:
        if tgt is None and not off_src and not return_predecessors:
            cells = _cells.choose(lay, len(np.unique(src)) if sources is not None else n,
                                  strategy, cell_size)
            stats = None if cells is None else _cells.run(lay, cells, src, lim, out, bar)
            if stats is not None:
                return result(stats)
        for s in range(0, len(src), step):
            e = min(s + step, len(src))
            if off_src:
                sptr, seeds, offsets = src.seeds(s, e)
            else:
                sptr, seeds, offsets = (np.arange(e - s + 1, dtype=np.int64), src[s:e],
                                        np.zeros(e - s))
            seeds = lay.inv[seeds]
            pv = np.empty((e - s, n), dtype=np.int64) if return_predecessors else preds
            if off_tgt:
                buf = np.empty((e - s, width))
                _sssp.rows(csr, (sptr, seeds, offsets), targets_arg, lim, buf, pv,
                           n_chunks(e - s))
                # through the target's attached nodes: min_j d(src -> node_j) + in_cost[j]
                via = np.min(buf[:, t_pos] + tgt.in_cost[None], axis=2)
                if off_src:
                    sel = (da >= s) & (da < e)
                    np.minimum.at(via, (da[sel] - s, db[sel]), dc[sel])
                via[via > lim] = np.inf
                out[s:e] = via
            else:
                _sssp.rows(csr, (sptr, seeds, offsets), targets_arg, lim, out[s:e], pv,
                           n_chunks(e - s))
            if return_predecessors:
                preds[s:e] = lay.to_original_pred(pv)
            release(out, s, e)
            bar.update(e - s)
    return result({"strategy": "dijkstra"})


#: sources with at most this many targets are answered by one A* search per pair
ASTAR_MAX_TARGETS = 4


def _astar_pairs(g, lay, s_new, t_new, lim, landmarks=None):
    """A* per pair on the layout; returns (distances, settled node counts)."""
    n_pairs = len(s_new)
    hscale = g.heuristic_scale
    if landmarks is None:
        landmarks = lay.landmarks is not None or n_pairs >= ALT_MIN_PAIRS
    if landmarks:
        lm = lay.get_landmarks()
        table, slack = lm.table, lm.slack
    else:
        table, slack = np.zeros((g.n_nodes, 0)), 0.0
    if hscale > 0 and not landmarks:
        # the Euclidean estimate alone: as before, plus the same rounding margin
        span = float(np.linalg.norm(np.ptp(lay.points, axis=0))) if g.n_nodes else 0.0
        slack = 4.0 * g.n_nodes * np.finfo(np.float64).eps * hscale * span
    res = np.empty(n_pairs)
    settled = np.empty(n_pairs, dtype=np.int64)
    one = np.arange(n_pairs + 1, dtype=np.int64)  # one group per pair
    groups = (s_new.astype(np.int64), one, t_new.astype(np.int64), one[:-1])
    _sssp.pairs(lay.csr(), groups, (lay.points, hscale, table, slack), lim, res, settled,
                n_chunks(n_pairs))
    return res, settled


def dijkstra_bounds():
    """The bounds argument of graphgeo.kernels.sssp.pairs that turns A* off (no points,
    no Euclidean term, no landmarks): grouped Dijkstra for every source."""
    return (np.empty((0, 0)), 0.0, np.empty((0, 0)), 0.0)


def pair_distances(g, src, dst, limit=None, verbose=False):
    """Elementwise directed distances L[i] = cost src[i] -> dst[i] (float64, inf if unreachable).

    Pairs are grouped by source. A source with few targets (<= ASTAR_MAX_TARGETS) is
    answered by A* per pair; a source with many targets by one Dijkstra that stops as
    soon as all of them are settled. Both run in parallel over pairs / sources.

    A* uses the Euclidean estimate c |z_n - z_t| and, for batches of at least
    ALT_MIN_PAIRS such pairs (or once computed for this graph), landmark bounds (ALT:
    graphgeo.layout.N_LANDMARKS far-apart nodes, their distances to and from every node, computed once
    per graph and cached with the search layout; about 1 s on 100k nodes). Measured on
    a 100k-node 15-NN Randers graph, 4000 random pairs, one thread: 1.6k settled nodes
    per query instead of 18.9k with the Euclidean estimate alone, 8x less time.

    ``verbose=True`` shows a progress bar (tqdm, on stderr) counting the pairs answered;
    it advances after the A* pairs and after the grouped searches (each one parallel
    kernel call).
    """
    src, dst = check_pairs(src, dst, g.n_nodes)
    lim = check_limit(limit)
    verbose = check_bool(verbose, "verbose")
    out = np.empty(len(src))
    if len(src) == 0:
        return out
    lay = g.search_cache
    uniq, inverse, counts = np.unique(src, return_inverse=True, return_counts=True)
    few = counts[inverse] <= ASTAR_MAX_TARGETS
    with progress_bar(verbose, total=len(src), desc="pair distances", unit="pair") as bar:
        if few.any():
            sel = np.flatnonzero(few)
            out[sel] = _astar_pairs(g, lay, lay.inv[src[sel]], lay.inv[dst[sel]], lim)[0]
            bar.update(len(sel))
        rest = np.flatnonzero(~few)
        if len(rest):
            order = rest[np.argsort(src[rest], kind="stable")]
            usrc, start = np.unique(src[order], return_index=True)
            tptr = np.append(start, len(order)).astype(np.int64)
            groups = (lay.inv[usrc], tptr, lay.inv[dst[order]], order.astype(np.int64))
            _sssp.pairs(lay.csr(), groups, dijkstra_bounds(), lim, out,
                        np.empty(len(usrc), dtype=np.int64), n_chunks(len(usrc)))
            bar.update(len(rest))
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
    lay = g.search_cache
    dist, label, pred = _sssp.multi_source(lay.csr(), lay.inv[seeds], offs, check_limit(limit),
                                           np.zeros(1, dtype=np.bool_), 0)
    return dist[lay.inv], label[lay.inv], lay.to_original_pred(pred)


def _endpoint(g, z, name):
    """A node index, or coordinates attached to the graph: (node or None, Attachment or None)."""
    import numbers

    from .attach import attach

    if isinstance(z, (numbers.Integral, np.integer)) and not isinstance(z, bool):
        return check_node(z, g.n_nodes, name), None
    return None, attach(g, z, k=None)


def shortest_path_between(g, z0, z1, method="astar", limit=None, landmarks="auto"):
    """Shortest directed path between two points that may be off the graph.

    Parameters
    ----------
    z0, z1 : node indices or coordinates (d,); coordinates are attached to the graph
        through their k nearest nodes with the true directed costs (see ``g.attach``)
    method : "astar" or "dijkstra"; when both endpoints are nodes this is
        shortest_path(z0, z1, method, landmarks) (bidirectional A*), otherwise a
        multi-seed Dijkstra with early exit
    limit : float or None; paths longer than it are not searched (NoPathError)
    landmarks : "auto", True or False, as in shortest_path (node endpoints only)

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
        return _node_path(g, s_node, t_node, method, landmarks, check_limit(limit))
    n = g.n_nodes
    if s_att is None:
        seeds, offs = np.array([s_node]), np.zeros(1)
    else:
        seeds, offs = s_att.nodes[0], s_att.out_cost[0]
    t_nodes = np.array([t_node]) if t_att is None else np.unique(t_att.nodes[0])
    lay = g.search_cache
    tmask = np.zeros(n, dtype=np.bool_)
    tmask[lay.inv[t_nodes]] = True
    dist, _, pred = _sssp.multi_source(lay.csr(), lay.inv[seeds], offs, check_limit(limit),
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
