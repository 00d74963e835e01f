"""Many-source distances fanned out over a Dask cluster.

The graph's CSR arrays are shipped once to every worker (``client.scatter(...,
broadcast=True)``: keys private to the call, because content-hashed keys are
shared with an earlier call on the same graph, whose release can race with this call's
scatter and lose the data under its tasks); each task runs the numba many-source kernel on a block of
sources; the client gathers blocks as they complete and writes them into the
result (an array or an ``np.memmap`` for results larger than memory). Tasks are
pure functions of their inputs, so a worker that dies mid-job only delays the
answer: the scheduler reruns its tasks elsewhere (``retries`` covers errors
raised inside a task), and the result equals the single-machine one exactly.

dask.distributed is imported lazily; install it with ``pip install graphgeo[dask]``.
"""

import numpy as np

from ._optional import require
from ._validation import check_endpoints, check_int, check_limit, check_pairs
from .search import dijkstra_bounds
from .exceptions import InvalidInputError
from .kernels import sssp as _sssp

__all__ = ["distances", "pair_distances"]


def _rows_task(csr, sptr, seeds, offsets, targets, limit, dtype):
    """Rows of distances on the renumbered CSR (seeds and targets already renumbered)."""
    csr = tuple(csr)  # (the scattered arrays arrive as a list)
    n = len(csr[0]) - 1
    out = np.empty((len(sptr) - 1, len(targets)), dtype=dtype)
    tmask = np.zeros(n, dtype=np.bool_)
    tmask[targets] = True
    _sssp.rows(csr, (sptr, seeds, offsets), (targets, tmask, int(tmask.sum())), limit, out,
               np.empty((0, 0), np.int64), 1)
    return out


def _pairs_task(csr, usrc, tptr, tnodes, tpos, limit):
    out = np.empty(len(tnodes))
    _sssp.pairs(tuple(csr), (usrc, tptr, tnodes, np.arange(len(tnodes), dtype=np.int64)),
                dijkstra_bounds(), limit, out, np.empty(len(usrc), dtype=np.int64), 1)
    return tpos, out


def _client(client):
    Client = require("distributed", "graphgeo.distributed").Client
    if not isinstance(client, Client):
        raise InvalidInputError(
            f"client must be a dask.distributed.Client; received {type(client).__name__}."
        )
    return client


def _completed(futures):
    """(future, result) as the tasks finish; a cancelled task (dask hands its
    CancelledError over as the result) raises instead of being written as data."""
    as_completed = require("distributed", "graphgeo.distributed").as_completed

    for fut, res in as_completed(futures, with_results=True):
        if isinstance(res, BaseException):
            raise RuntimeError(
                f"a distance task was cancelled on the cluster ({type(res).__name__}: {res}); "
                "no partial result is returned. Rerun the call; if it recurs, check the "
                "workers' logs."
            ) from res
        yield fut, res


def distances(g, client, sources=None, targets=None, limit=None, dtype=np.float64, out=None,
              block_size=256, retries=3):
    """Like ``g.distances`` (same arguments and result), computed on a Dask cluster.

    Parameters
    ----------
    client : dask.distributed.Client
    sources : node indices, None (all) or an Attachment of off-graph points
    targets : node indices or None (all nodes)
    block_size : sources per task
    retries : reruns of a task that raised (a lost worker's tasks are rerun anyway)
    """
    from .attach import Attachment

    client = _client(client)
    n = g.n_nodes
    src = np.arange(n) if sources is None else check_endpoints(g, sources, "sources")
    tgt = np.arange(n) if targets is None else check_endpoints(g, targets, "targets")
    if isinstance(tgt, Attachment):
        raise InvalidInputError(
            "targets must be node indices for the distributed search; compute distances to "
            "off-graph targets with g.distances on one machine."
        )
    block_size = check_int(block_size, "block_size", low=1)
    retries = check_int(retries, "retries", low=0)
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32):
        raise InvalidInputError(f"dtype must be float64 or float32; received {dtype}.")
    lim = check_limit(limit)
    shape = (len(src), len(tgt))
    if out is None:
        out = np.empty(shape, dtype=dtype)
    elif tuple(out.shape) != shape or out.dtype not in (np.float64, np.float32):
        raise InvalidInputError(
            f"out must be a float64 or float32 array of shape {shape}; received shape "
            f"{tuple(out.shape)} and dtype {out.dtype}."
        )
    if len(src) == 0:
        return out
    lay = g.search_cache  # the renumbered graph the kernels run on
    csr = client.scatter(lay.csr(), broadcast=True, hash=False)
    tgt_new = lay.inv[tgt]
    futures = {}
    for s in range(0, len(src), block_size):
        e = min(s + block_size, len(src))
        if isinstance(src, Attachment):
            sptr, seeds, offsets = src.seeds(s, e)
        else:
            sptr, seeds, offsets = np.arange(e - s + 1, dtype=np.int64), src[s:e], np.zeros(e - s)
        fut = client.submit(_rows_task, csr, sptr, lay.inv[seeds], offsets, tgt_new, lim, dtype,
                            retries=retries, pure=False)
        futures[fut.key] = (fut, s, e)
    for fut, block in _completed([f for f, _, _ in futures.values()]):
        _, s, e = futures[fut.key]
        out[s:e] = block
    if isinstance(out, np.memmap):
        out.flush()
    return out


def pair_distances(g, client, src, dst, limit=None, block_size=1024, retries=3):
    """Like ``g.pair_distances``, with blocks of distinct sources as Dask tasks."""
    client = _client(client)
    src, dst = check_pairs(src, dst, g.n_nodes)
    block_size = check_int(block_size, "block_size", low=1)
    retries = check_int(retries, "retries", low=0)
    lim = check_limit(limit)
    out = np.empty(len(src))
    if len(src) == 0:
        return out
    order = np.argsort(src, kind="stable")
    usrc, start = np.unique(src[order], return_index=True)
    bounds = np.append(start, len(src))
    lay = g.search_cache
    csr = client.scatter(lay.csr(), broadcast=True, hash=False)
    futures = []
    for b in range(0, len(usrc), block_size):
        e = min(b + block_size, len(usrc))
        lo, hi = bounds[b], bounds[e]
        tptr = (bounds[b : e + 1] - lo).astype(np.int64)
        futures.append(client.submit(_pairs_task, csr, lay.inv[usrc[b:e]], tptr,
                                     lay.inv[dst[order[lo:hi]]], order[lo:hi], lim,
                                     retries=retries, pure=False))
    for _, (pos, vals) in _completed(futures):
        out[pos] = vals
    return out
