"""Shortest paths and distances on a GeodesicGraph (directed: never symmetrised)."""

import numpy as np
from scipy.sparse.csgraph import dijkstra as _sp_dijkstra

from ._validation import check_choice, check_float, check_node, check_nodes
from .curves import Path
from .exceptions import InvalidInputError, NoPathError
from .kernels import search as _ks

__all__ = ["shortest_path", "distances", "pair_distances"]

# bytes of float64 rows held at once by the blocked many-source searches
_BLOCK_BYTES = 256 << 20


def _csr(g):
    W = g.weights
    return (np.ascontiguousarray(W.indptr, dtype=np.int64),
            np.ascontiguousarray(W.indices, dtype=np.int64),
            np.ascontiguousarray(W.data, dtype=np.float64))


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
    indptr, indices, data = _csr(g)
    hscale = g.heuristic_scale if method == "astar" else 0.0
    dist, pred, settled = _ks.astar(indptr, indices, data, g.points, source, target, hscale)
    if not np.isfinite(dist):
        raise NoPathError(
            f"node {target} cannot be reached from node {source}; the graph is disconnected "
            "(build it with connect='bridge' or a larger k)."
        )
    nodes = _ks.trace_path(pred, source, target)
    return Path(nodes, g.points[nodes], dist, method, settled)


def _block_rows(n_cols):
    return max(1, _BLOCK_BYTES // (8 * max(n_cols, 1)))


def distances(g, sources=None, targets=None, limit=None, dtype=np.float64, out=None,
              verbose=False):
    """Directed geodesic distances D[a, b] = cost sources[a] -> targets[b].

    Parameters
    ----------
    sources, targets : node indices or None (all nodes)
    limit : float, None or np.inf (no limit); distances above it are reported as inf
    dtype : float64 (default) or float32 for the result
    out : optional array or np.memmap of shape (len(sources), len(targets)), filled in
        source blocks so that results larger than memory stream to disk
    verbose : show a progress bar over source blocks

    Returns
    -------
    (n_sources, n_targets) array (``out`` when given); inf where unreachable.
    """
    n = g.n_nodes
    src = np.arange(n) if sources is None else check_nodes(sources, n, "sources")
    tgt = None if targets is None else check_nodes(targets, n, "targets")
    n_t = n if tgt is None else len(tgt)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise InvalidInputError(f"dtype must be float64 or float32; received {dtype!r}.") from None
    if dtype not in (np.float64, np.float32):
        raise InvalidInputError(f"dtype must be float64 or float32; received {dtype}.")
    # limit=np.inf is scipy's default (no limit); any other value must be finite and >= 0
    lim = (np.inf if limit is None or (isinstance(limit, (float, np.floating)) and limit == np.inf)
           else check_float(limit, "limit", low=0.0))
    shape = (len(src), n_t)
    if out is None:
        out = np.empty(shape, dtype=dtype)
    elif tuple(out.shape) != shape or not np.issubdtype(out.dtype, np.floating):
        raise InvalidInputError(
            f"out must be a float array of shape {shape}; received shape {tuple(out.shape)} "
            f"and dtype {out.dtype}."
        )
    step = _block_rows(n)
    blocks = range(0, len(src), step)
    if verbose:
        from ._progress import progress

        blocks = progress(blocks, total=len(blocks), desc="distances")
    for s in blocks:
        rows = _sp_dijkstra(g.weights, directed=True, indices=src[s : s + step], limit=lim)
        out[s : s + step] = rows if tgt is None else rows[:, tgt]
    return out


def pair_distances(g, src, dst):
    """Elementwise directed distances L[i] = cost src[i] -> dst[i] (float64, inf if unreachable).

    Pairs are grouped by source so that each distinct source is searched once.
    """
    n = g.n_nodes
    src = check_nodes(src, n, "src")
    dst = check_nodes(dst, n, "dst")
    if src.shape != dst.shape:
        raise InvalidInputError(
            f"src and dst must have the same length; received {len(src)} and {len(dst)}."
        )
    out = np.empty(len(src))
    uniq, inv = np.unique(src, return_inverse=True)
    step = _block_rows(n)
    for s in range(0, len(uniq), step):
        blk = uniq[s : s + step]
        rows = _sp_dijkstra(g.weights, directed=True, indices=blk)
        sel = (inv >= s) & (inv < s + len(blk))
        out[sel] = rows[inv[sel] - s, dst[sel]]
    return out
