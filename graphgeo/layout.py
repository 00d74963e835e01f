"""The search layout: a GeodesicGraph as the search kernels see it, with what is derived from it.

``g.search_cache`` (built on first use, rebuilt when ``g.weights`` is replaced) is a
:class:`SearchLayout`: the nodes renumbered along a space-filling (Morton) curve so
that neighbours sit close in memory, the CSR arrays with int32 column indices, the
landmark (ALT) distance table of the A* pair queries, the transposed CSR, affine bound and
buffers of the bidirectional single-pair search, and the hub covers of the
cells-and-hubs all-pairs scheme (:mod:`graphgeo.cells`), each computed when first
asked for. Users never see the new numbers: every search function maps its
arguments in (``inv``) and its results out (``perm``).
"""

import numba
import numpy as np
import scipy.sparse as sp

from .kernels import bidirectional as _bidir
from .kernels import sssp as _sssp

__all__ = ["SearchLayout", "Landmarks", "N_LANDMARKS", "n_chunks"]

#: landmarks of the ALT bounds (A* with landmarks, triangle inequality), per graph
N_LANDMARKS = 16


class SearchLayout:
    """The graph renumbered for the search kernels.

    perm[new] = original node, inv[original] = new. Measured on a 20k-node 10-NN
    graph (400 sources, 2 threads): 1.79 s in the caller's node order with int64
    indices, 0.68 s renumbered with int32 indices.

    Attributes
    ----------
    weights : the ``g.weights`` object it was built from (a replaced matrix invalidates it)
    perm, inv : (n,) int64
    indptr, indices, data : CSR arrays in the new numbering (int64, int32, float64)
    points : (n, d) float64, the points in the new numbering
    landmarks : Landmarks or None (not computed yet); see get_landmarks
    cells : dict cell size -> graphgeo.cells.Cells, filled by graphgeo.cells
    pair_settled, pair_queries : int, nodes settled by, and number of, the single-pair
        queries answered without landmarks (graphgeo.search.shortest_path uses them to
        decide when the landmarks pay off)
    """

    __slots__ = ("weights", "perm", "inv", "indptr", "indices", "data", "points", "landmarks",
                 "cells", "pair_settled", "pair_queries", "_reverse", "_bound", "_pair_work")

    def __init__(self, g):
        n = g.n_nodes
        perm = morton_order(g.points) if n > 1 else np.arange(n)
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        W = g.weights[perm][:, perm].tocsr()
        W.sort_indices()
        self.weights = g.weights
        self.perm = perm.astype(np.int64)
        self.inv = inv
        self.indptr = np.ascontiguousarray(W.indptr, dtype=np.int64)
        idx_type = np.int32 if n < 2**31 - 1 else np.int64
        self.indices = np.ascontiguousarray(W.indices, dtype=idx_type)
        self.data = np.ascontiguousarray(W.data, dtype=np.float64)
        self.points = np.ascontiguousarray(g.points[perm])
        self.landmarks = None
        self.cells = {}
        self.pair_settled = 0
        self.pair_queries = 0
        self._reverse = None
        self._bound = None
        self._pair_work = None

    @property
    def n_nodes(self):
        return len(self.indptr) - 1

    def csr(self):
        """(indptr, indices, data): what the kernels and Dask workers use."""
        return self.indptr, self.indices, self.data

    def reverse_csr(self):
        """CSR arrays of the transposed graph (edge v -> u of weight w(u, v)), same numbering."""
        n = self.n_nodes
        W = sp.csr_matrix((self.data, self.indices, self.indptr), shape=(n, n))
        T = W.T.tocsr()
        T.sort_indices()
        return (np.ascontiguousarray(T.indptr, dtype=np.int64),
                np.ascontiguousarray(T.indices, dtype=self.indices.dtype),
                np.ascontiguousarray(T.data, dtype=np.float64))

    def reverse(self):
        """:meth:`reverse_csr`, computed once and kept (the backward half of the pair searches)."""
        if self._reverse is None:
            self._reverse = self.reverse_csr()
        return self._reverse

    def geometric_bound(self, hscale):
        """(b, c, slack) of the affine bound d(u -> w) >= c |z_w - z_u| + <b, z_w - z_u>.

        Under a Randers metric with a 1-form close to a constant b, an edge costs about
        |z_w - z_u|_G + <b, z_w - z_u>: the 1-form part telescopes along any path, and the
        bound is nearly as tight as the Euclidean one on a Euclidean graph, where
        hscale |z_w - z_u| alone (hscale = min weight / length, about 1 - |b|) misses the
        whole 1-form term. b (d,) is the least-squares fit of w ~ r |dz| + <b, dz> over
        the edges, c the largest value with w >= c |dz| + <b, dz> on every edge (times
        1 - 1e-9), so the bound is consistent by construction. b is empty (no affine
        bound) when c would be <= 0. slack bounds the rounding of a bound over a path
        (it also covers hscale |dz|). Computed once and kept.
        """
        if self._bound is None:
            n, dim = self.points.shape
            P = self.points
            rows = np.repeat(np.arange(n), np.diff(self.indptr))
            dz = P[self.indices] - P[rows]
            length = np.sqrt(np.einsum("ij,ij->i", dz, dz))
            w = self.data
            ok = length > 0
            b, c = np.zeros(0), 0.0
            if np.count_nonzero(ok) > dim + 1:
                fit = np.flatnonzero(ok)[:: max(1, np.count_nonzero(ok) // 200_000)]
                X = np.column_stack([length[fit], dz[fit]])
                coef = np.linalg.lstsq(X, w[fit], rcond=None)[0]
                cand = float(np.min((w[ok] - dz[ok] @ coef[1:]) / length[ok])) * (1.0 - 1e-9)
                if np.all(np.isfinite(coef)) and cand > 0.0:
                    b, c = np.ascontiguousarray(coef[1:]), cand
            span = float(np.linalg.norm(np.ptp(P, axis=0))) if n else 0.0
            scale = max(hscale, c + float(np.linalg.norm(b)) if len(b) else 0.0)
            self._bound = (b, c, 4.0 * n * np.finfo(np.float64).eps * scale * span)
        return self._bound

    def pair_work(self):
        """Buffers of the single-pair search (graphgeo.kernels.bidirectional), allocated once
        and left clean by every search, so that a query costs what it visits, not O(n)."""
        if self._pair_work is None:
            self._pair_work = _bidir.workspace(self.n_nodes)
        return self._pair_work

    def to_original_pred(self, pred_new):
        """Predecessor array(s) indexed by original nodes, holding original nodes (-1 kept)."""
        p = pred_new[..., self.inv]
        return np.where(p >= 0, self.perm[np.maximum(p, 0)], -1)

    def get_landmarks(self, count=None):
        """The landmark table (:class:`Landmarks`, N_LANDMARKS of them unless count says),
        computed on first use and kept in ``landmarks``."""
        if self.landmarks is None:
            self.landmarks = Landmarks(self, N_LANDMARKS if count is None else count)
        return self.landmarks


def morton_order(points):
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


class Landmarks:
    """Distances from and to a few far-apart nodes (farthest-point selection).

    table[v, :L] = d(L_l -> v), table[v, L:] = d(v -> L_l), renumbered node order,
    inf where unreachable. slack bounds the rounding of a difference of two computed
    path lengths: the estimates subtract it, so they never exceed the true cost.
    """

    __slots__ = ("nodes", "table", "slack")

    def __init__(self, lay, count):
        n = lay.n_nodes
        count = max(1, min(count, n))
        fwd_csr = lay.csr()
        rev_csr = lay.reverse_csr()
        none = np.zeros(1, dtype=np.bool_)
        fwd = np.empty((count, n))
        rev = np.empty((count, n))

        def row(csr, node):
            return _sssp.multi_source(csr, np.array([node], np.int64), np.zeros(1), np.inf,
                                      none, 0)[0]

        # the first landmark is the node farthest (round trip) from node 0 of the layout
        score = row(fwd_csr, 0) + row(rev_csr, 0)
        nodes = []
        for m in range(count):
            # farthest from the chosen ones; an unreached node (inf) first: a new component
            cand = int(np.argmax(score))
            if nodes and score[cand] == 0.0:
                fwd, rev = fwd[:m], rev[:m]
                break
            nodes.append(cand)
            fwd[m] = row(fwd_csr, cand)
            rev[m] = row(rev_csr, cand)
            score = np.minimum(score, fwd[m] + rev[m]) if m else fwd[m] + rev[m]
        self.nodes = np.asarray(nodes, dtype=np.int64)
        self.table = np.ascontiguousarray(np.concatenate([fwd, rev]).T)
        finite = self.table[np.isfinite(self.table)]
        big = float(finite.max()) if finite.size else 0.0
        self.slack = 4.0 * n * np.finfo(np.float64).eps * big


def n_chunks(n_sources):
    """Work chunks of the parallel search kernels for n_sources searches (4 per thread)."""
    return max(1, min(n_sources, 4 * numba.get_num_threads()))
