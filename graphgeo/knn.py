"""K-nearest-neighbour search: exact (kd-tree or blocked brute force) or pynndescent.

"auto" picks the exact search unless it would be slow: pynndescent's first call
in a process spends ~20 s compiling, while a kd-tree builds a 100k-point 2-D
10-NN graph in ~0.5 s. Measured on 2 cores (k=10): kd-tree 0.6 s at N=100k,
d=2, but 16 s at d=8 and 73 s at d=10; blocked brute force 12 s at N=20k,
d=16 and 16 s at d=64. So "auto" uses a kd-tree at any N for d <= KDTREE_MAX_DIM,
an exact search (kd-tree up to d=8, else brute force) for N <= EXACT_MAX_N, and
pynndescent beyond.
"""

import numpy as np

from ._validation import check_choice

__all__ = ["knn", "EXACT_MAX_N", "KDTREE_MAX_DIM"]

#: largest N for which "auto" uses the exact search in any dimension
EXACT_MAX_N = 20_000
#: a kd-tree stays fast up to this dimension at any N
KDTREE_MAX_DIM = 6
#: below N = EXACT_MAX_N a kd-tree beats brute force up to this dimension
KDTREE_SMALL_N_MAX_DIM = 8
#: entries of the distance block held at once by the brute-force search (~128 MB)
_BRUTE_BLOCK_ENTRIES = 1 << 24


def knn(points, k, method="auto", seed=None):
    """Indices (N, k) and distances (N, k) of each point's k nearest other points.

    ``points`` must hold distinct rows (graphgeo removes duplicates before this).
    """
    method = check_choice(method, "knn", ("auto", "exact", "pynndescent"))
    n, d = points.shape
    if method == "auto":
        method = "exact" if (n <= EXACT_MAX_N or d <= KDTREE_MAX_DIM) else "pynndescent"
    if method == "pynndescent":
        return _pynndescent(points, k, seed)
    if d <= KDTREE_MAX_DIM or (d <= KDTREE_SMALL_N_MAX_DIM and n <= EXACT_MAX_N):
        return _kdtree(points, k)
    return _brute(points, k)


def _drop_self(idx, dist, k):
    n = idx.shape[0]
    is_self = idx == np.arange(n)[:, None]
    # each row holds itself once (distinct points); drop it, keep the k others in order
    keep = ~is_self
    has_self = is_self.any(axis=1)
    keep[~has_self, -1] = False  # rows where self fell off the end: drop the farthest
    return idx[keep].reshape(n, k), dist[keep].reshape(n, k)


def _kdtree(points, k):
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    dist, idx = tree.query(points, k=k + 1, workers=-1)
    return _drop_self(idx.astype(np.int64), dist, k)


def _brute(points, k):
    n = len(points)
    sq = np.einsum("ij,ij->i", points, points)
    idx = np.empty((n, k + 1), dtype=np.int64)
    dist = np.empty((n, k + 1))
    step = max(1, _BRUTE_BLOCK_ENTRIES // n)
    for s in range(0, n, step):
        blk = points[s : s + step]
        D2 = sq[s : s + step, None] + sq[None, :] - 2.0 * blk @ points.T
        part = np.argpartition(D2, k, axis=1)[:, : k + 1]
        pd = np.take_along_axis(D2, part, axis=1)
        order = np.argsort(pd, axis=1)
        idx[s : s + len(blk)] = np.take_along_axis(part, order, axis=1)
        dist[s : s + len(blk)] = np.sqrt(np.maximum(np.take_along_axis(pd, order, axis=1), 0.0))
    # put self first where round-off reordered it
    return _drop_self(idx, dist, k)


def _pynndescent(points, k, seed):
    from pynndescent import NNDescent

    # recall drops with dimension at a fixed n_neighbors; search wider and keep k
    n_neighbors = min(len(points) - 1, max(k + 1, 30 if points.shape[1] > 8 else 2 * k))
    index = NNDescent(points, n_neighbors=n_neighbors, random_state=seed, n_jobs=-1,
                      low_memory=True, verbose=False)
    idx, dist = index.neighbor_graph
    return _drop_self(idx[:, : k + 1].astype(np.int64), dist[:, : k + 1], k)
