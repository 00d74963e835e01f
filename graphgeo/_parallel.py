"""Run a serial ``nogil`` numba kernel over ranges of its work on a pool of threads.

The edge-cost kernels are plain ``@njit(nogil=True, cache=True)`` functions over a range
``[start, stop)`` of their items (nodes, segment ends, segments); this module spreads the
ranges over ``numba.get_num_threads()`` Python threads, which run concurrently because
the kernels release the GIL. Compared with a ``parallel=True`` (parfors) driver around
the same serial kernel, the run time is the same and the first call compiles several
times faster: a parfors driver is a second compilation unit that links and re-optimises
the whole call tree of the kernel, once more for the gufunc it generates.

Scheduling is dynamic: a thread that finishes a range takes the next one, so a thread
slowed down by another process does not hold the others back. The ranges are fixed by
the caller, so results do not depend on the number of threads or on the scheduling.
"""

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

__all__ = ["chunk_bounds", "run_ranges"]


def chunk_bounds(n, nchunks, step=1):
    """Bounds of ``nchunks`` contiguous ranges covering [0, n): chunk c is
    [b[c], b[c + 1]); with ``step`` > 1 the ranges cover whole groups of ``step`` items
    (the last group may be partial). Empty ranges are dropped."""
    groups = -(-n // step)
    nchunks = max(1, min(int(nchunks), groups))
    b = np.minimum(n, step * (np.arange(nchunks + 1) * groups // nchunks))
    return b[np.concatenate(([True], np.diff(b) > 0))]


def run_ranges(kernel, bounds, *args):
    """Call ``kernel(bounds[c], bounds[c + 1], *args)`` for every chunk c, on up to
    ``numba.get_num_threads()`` threads (in the calling thread when one suffices).

    ``kernel`` must be compiled with ``nogil=True`` and write its results to disjoint
    parts of its output arrays. An exception raised by a chunk is raised here, after the
    chunks already running have finished.
    """
    nchunks = len(bounds) - 1
    if nchunks <= 0:
        return
    starts = [int(x) for x in bounds[:-1]]
    stops = [int(x) for x in bounds[1:]]
    nthreads = min(numba.get_num_threads(), nchunks)
    if nthreads <= 1:
        for s, e in zip(starts, stops):
            kernel(s, e, *args)
        return
    with ThreadPoolExecutor(max_workers=nthreads, thread_name_prefix="graphgeo") as pool:
        futures = [pool.submit(kernel, s, e, *args) for s, e in zip(starts, stops)]
    for f in futures:
        f.result()
