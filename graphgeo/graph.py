"""GeodesicGraph: a directed KNN graph whose edge weights are metric costs."""

import os
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from . import search as _search
from .layout import SearchLayout
from ._validation import (as_array, check_choice, check_int, check_metric, check_points,
                          check_quadrature, check_seed)
from .costs import segment_costs
from .exceptions import (
    DisconnectedGraphError,
    DisconnectedGraphWarning,
    DuplicatePointsWarning,
    InvalidInputError,
    RandersConditionError,
)
from .io import atomic_path
from .knn import knn as _knn
from .metrics import Metric, metric_from_arrays, metric_to_arrays

__all__ = ["GeodesicGraph"]

_FORMAT_VERSION = 1
# safety margin on the A* heuristic scale against round-off in the edge weights
_HSCALE_MARGIN = 1.0 - 1e-9


class GeodesicGraph:
    """A directed graph over points whose edge i -> j costs the metric integral along [z_i, z_j].

    Build it with :meth:`build`; ``weights[i, j]`` is the cost i -> j. Under a
    Randers metric ``weights[i, j] != weights[j, i]``: shortest paths are
    direction-aware.

    Attributes
    ----------
    points : (N, d) float64 array
    metric : Metric or None (None for a graph made from a bare scipy matrix)
    weights : scipy.sparse.csr_array (N, N)
    n_nodes, n_edges : int
    heuristic_scale : float
        c = min over edges of weight / Euclidean length: A* uses h(n) = c |z_n - z_t|.
    representative : (N,) int64
        For each node, the first node with the same coordinates (itself when unique).
    """

    def __init__(self, points, weights, metric=None, k=None, quadrature=None,
                 heuristic_scale=None, representative=None):
        self.points = points
        self.metric = metric
        self.weights = weights
        self.k = k
        self.quadrature = quadrature
        self.representative = (np.arange(len(points)) if representative is None
                               else representative)
        if heuristic_scale is None:
            heuristic_scale = _measure_hscale(points, weights)
        self.heuristic_scale = float(heuristic_scale)
        # the graph as the search kernels see it, built on first use: see search_cache
        self._search_cache = None

    @property
    def search_cache(self):
        """The search layout of the graph (graphgeo.layout.SearchLayout): the nodes
        renumbered for locality, int32 CSR arrays, and the landmark table and hub covers
        computed by the searches that need them. Built on first use and kept; rebuilt
        when ``weights`` is replaced (assign a new matrix rather than editing it in place).
        """
        cache = self._search_cache
        if cache is None or cache.weights is not self.weights:
            cache = self._search_cache = SearchLayout(self)
        return cache

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, points, metric, k=10, quadrature=None, knn="auto", seed=None,
              connect="bridge", device="cpu"):
        """Build the directed KNN graph of ``points`` under ``metric``.

        Parameters
        ----------
        points : (N, d) array-like (numpy, torch), finite
        metric : graphgeo Metric on R^d
        k : int, 1 <= k < N
            Neighbours per point; the graph holds the union of the kNN relations
            with both directed edges for every neighbour pair.
        quadrature : int or None
            Gauss-Legendre points per edge (None: the default, see graphgeo.costs).
        knn : "auto", "exact" or "pynndescent"
        seed : int or None, for pynndescent
        connect : "bridge" (warn and add the cheapest bridging edges, the default),
            "raise" (DisconnectedGraphError) or "ignore"
        device : "cpu" (the GPU backend is not part of this release)

        Raises
        ------
        InvalidInputError
            Bad shapes, NaN/Inf, non-integer k or k >= N, N < 2.
        MetricError, NotSPDError, RandersConditionError
            The metric does not match the points or is invalid on them.
        DisconnectedGraphError
            With connect="raise", when the graph has several components.

        Duplicate points are kept (the caller's indices stay valid) and tied to the
        first copy by zero-cost edges both ways, with a DuplicatePointsWarning.
        """
        metric = check_metric(metric)
        pts = check_points(points, "points", dim=metric.dim, min_rows=2)
        metric.check_domain(pts, "points")
        n = len(pts)
        k = check_int(k, "k", low=1, high=n - 1,
                      remedy=f"k counts the neighbours of each point and must be < n_points = {n}.")
        quadrature = check_quadrature(quadrature)
        knn = check_choice(knn, "knn", ("auto", "exact", "pynndescent"))
        connect = check_choice(connect, "connect", ("bridge", "raise", "ignore"))
        check_choice(device, "device", ("cpu", "auto"))
        if seed is not None:
            seed = check_seed(seed)

        # exact duplicates: graph over the unique rows, copies tied at zero cost
        uniq, first, inverse = np.unique(pts, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        rep = first[inverse]
        n_unique = len(uniq)
        if n_unique < 2:
            raise InvalidInputError(
                f"points holds {n} copies of a single point; a graph needs at least 2 distinct points."
            )
        if n_unique < n:
            warnings.warn(
                f"points has {n - n_unique} exact duplicate rows; each is tied to its first copy "
                "by zero-cost edges both ways (its index stays valid).",
                DuplicatePointsWarning, stacklevel=2)
        upts = pts[np.sort(first)]
        order_map = np.sort(first)  # unique position -> original index
        k_eff = min(k, n_unique - 1)
        nbr, _ = _knn(upts, k_eff, method=knn, seed=seed)
        rows = np.repeat(np.arange(n_unique), k_eff)
        ei = order_map[np.minimum(rows, nbr.ravel())]
        ej = order_map[np.maximum(rows, nbr.ravel())]
        ei, ej = _unique_pairs(ei, ej, n)

        R, A = segment_costs(metric, pts, ei, ej, quadrature=quadrature)
        _check_positive(R, A, pts, ei, ej)
        dup = np.flatnonzero(rep != np.arange(n))
        weights = _assemble(n, ei, ej, R, A, dup, rep[dup])

        g = cls(pts, weights, metric=metric, k=k, quadrature=quadrature, representative=rep)
        g._connect(connect)
        return g

    def _connect(self, mode):
        ncomp, labels = connected_components(self.weights, directed=True, connection="strong")
        if ncomp == 1 or mode == "ignore":
            return
        sizes = np.bincount(labels)
        if mode == "raise":
            raise DisconnectedGraphError(
                f"the {self.k}-NN graph has {ncomp} strongly connected components (sizes "
                f"{', '.join(map(str, np.sort(sizes)[::-1][:5]))}{', ...' if ncomp > 5 else ''}); "
                "increase k, or build with connect='bridge' to add the cheapest bridging edges."
            )
        new_i, new_j = _bridges(self.points, self.representative, labels)
        R, A = segment_costs(self.metric, self.points, new_i, new_j, quadrature=self.quadrature)
        _check_positive(R, A, self.points, new_i, new_j)
        extra = _assemble(self.n_nodes, new_i, new_j, R, A, np.zeros(0, np.int64),
                          np.zeros(0, np.int64))
        self.weights = _merge(self.weights, extra)
        self.heuristic_scale = _measure_hscale(self.points, self.weights)
        warnings.warn(
            f"the {self.k}-NN graph had {ncomp} connected components; added {len(new_i)} "
            "bridging edge pair(s) between nearest points of different components "
            "(increase k to avoid long bridges, or pass connect='raise').",
            DisconnectedGraphWarning, stacklevel=3)

    # ------------------------------------------------------------ properties
    @property
    def n_nodes(self):
        return self.weights.shape[0]

    @property
    def n_edges(self):
        """Number of directed edges."""
        return self.weights.nnz

    @property
    def dim(self):
        return self.points.shape[1]

    def __repr__(self):
        m = type(self.metric).__name__ if self.metric is not None else None
        return f"GeodesicGraph(n_nodes={self.n_nodes}, n_edges={self.n_edges}, k={self.k}, metric={m})"

    # ---------------------------------------------------------------- search
    def shortest_path(self, source, target, method="astar"):
        """Direction-aware shortest path source -> target; see graphgeo.search.shortest_path."""
        return _search.shortest_path(self, source, target, method=method)

    def distances(self, sources=None, targets=None, limit=None, dtype=np.float64, out=None,
                  return_predecessors=False, verbose=False, strategy="auto", cell_size=None,
                  return_stats=False):
        """D[a, b] = cost sources[a] -> targets[b]; see graphgeo.search.distances."""
        return _search.distances(self, sources, targets, limit=limit, dtype=dtype, out=out,
                                 return_predecessors=return_predecessors, verbose=verbose,
                                 strategy=strategy, cell_size=cell_size,
                                 return_stats=return_stats)

    def pair_distances(self, src, dst, limit=None):
        """Elementwise costs src[i] -> dst[i]; see graphgeo.search.pair_distances."""
        return _search.pair_distances(self, src, dst, limit=limit)

    def attach(self, points, k=None):
        """Tie off-graph points to the graph through their k nearest nodes; see graphgeo.attach."""
        from .attach import attach

        return attach(self, points, k=k)

    def shortest_path_between(self, z0, z1, method="astar", limit=None):
        """Shortest path between nodes or arbitrary coordinates; see graphgeo.search."""
        return _search.shortest_path_between(self, z0, z1, method=method, limit=limit)

    def multi_source(self, seeds, offsets=None, limit=None):
        """(dist, nearest seed, predecessor) of one search from all seeds; see graphgeo.search."""
        return _search.multi_source(self, seeds, offsets=offsets, limit=limit)

    # ---------------------------------------------------------------- interop
    def to_networkx(self):
        """A networkx.DiGraph with edge attribute 'weight' and node attribute 'pos'."""
        import networkx as nx

        G = nx.DiGraph()
        G.add_nodes_from((i, {"pos": self.points[i]}) for i in range(self.n_nodes))
        coo = self.weights.tocoo()
        G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
        return G

    @classmethod
    def from_networkx(cls, G, points=None, metric=None, weight="weight"):
        """Graph from a networkx (Di)Graph with nodes 0..N-1; points from ``points`` or node 'pos'."""
        import networkx as nx

        n = G.number_of_nodes()
        if set(G.nodes) != set(range(n)):
            raise InvalidInputError(
                "G's nodes must be the integers 0..N-1; relabel with "
                "networkx.convert_node_labels_to_integers(G) first."
            )
        if points is None:
            try:
                points = np.array([G.nodes[i]["pos"] for i in range(n)], dtype=np.float64)
            except KeyError:
                raise InvalidInputError(
                    "points is None and some node has no 'pos' attribute; pass points=(N, d) array."
                ) from None
        # symmetric for an undirected G; explicit zero-cost edges are kept
        W = nx.to_scipy_sparse_array(G, nodelist=range(n), weight=weight, format="csr")
        return cls.from_scipy(W, points, metric=metric)

    @classmethod
    def from_scipy(cls, weights, points, metric=None):
        """Graph from a square sparse matrix of directed costs ([i, j] = cost i -> j) and points."""
        pts = check_points(points, "points", min_rows=2,
                           dim=None if metric is None else metric.dim)
        if not sp.issparse(weights):
            raise InvalidInputError(
                f"weights must be a scipy.sparse matrix or array; received {type(weights).__name__}. "
                "Convert a dense matrix with scipy.sparse.csr_array(W) (zeros become non-edges)."
            )
        W = sp.csr_array(weights, dtype=np.float64, copy=True)  # never share or sort the caller's
        if W.shape != (len(pts), len(pts)):
            raise InvalidInputError(
                f"weights must have shape ({len(pts)}, {len(pts)}) to match points; received {W.shape}."
            )
        W.sum_duplicates()
        W.sort_indices()
        if not np.all(np.isfinite(W.data)) or np.any(W.data < 0):
            raise InvalidInputError(
                "weights must hold finite, non-negative costs; received "
                f"min {W.data.min():.3g}, {np.count_nonzero(~np.isfinite(W.data))} non-finite."
            )
        return cls(pts, W, metric=metric)

    # ------------------------------------------------------------ persistence
    def save(self, path):
        """Write the graph to an .npz file (no pickle); the metric too when it has no callables.

        Parameters
        ----------
        path : str or os.PathLike, or a binary file object
            A path without the ``.npz`` suffix gets it appended (as ``np.savez`` does),
            and ``load`` of the same path finds the file. The file is written
            atomically: to a temporary file in the same folder, flushed to disk, then
            renamed onto the path, so a failed or interrupted save leaves no partial
            file and a graph already saved there intact.

        Returns
        -------
        The path written (str), or None for a file object.

        Raises
        ------
        OSError
            The folder is missing or not writable, the disk is full, ...: the
            system's error class (FileNotFoundError, PermissionError, ...) with the
            path in the message.
        """
        W = self.weights
        arrays = {
            "format_version": np.array(_FORMAT_VERSION),
            "points": self.points,
            "indptr": W.indptr, "indices": W.indices, "data": W.data,
            "heuristic_scale": np.array(self.heuristic_scale),
            "representative": self.representative,
            "k": np.array(-1 if self.k is None else self.k),
            "quadrature": np.array(-1 if self.quadrature is None else self.quadrature),
        }
        if self.metric is not None:
            marr = metric_to_arrays(self.metric)
            if not marr:
                warnings.warn(
                    f"the metric {type(self.metric).__name__} holds callables and is not saved; "
                    "pass metric= to GeodesicGraph.load to restore it.",
                    UserWarning, stacklevel=2)
            arrays.update(marr)
        if not isinstance(path, (str, os.PathLike)):
            np.savez_compressed(path, **arrays)  # a file object: the caller's to manage
            return None
        path = os.fsdecode(path)
        if not path.endswith(".npz"):
            path += ".npz"  # as np.savez does, so that load(path) finds it
        with atomic_path(path, "graph") as tmp:
            np.savez_compressed(tmp, **arrays)
        return path

    @classmethod
    def load(cls, path, metric=None):
        """Read a graph written by :meth:`save` (np.load with allow_pickle=False).

        ``path`` is the one given to save: when no file has that name, ``path + ".npz"``
        (what save wrote) is read. A missing file raises FileNotFoundError naming it.
        """
        if (isinstance(path, (str, os.PathLike)) and not os.path.exists(path)
                and os.path.exists(os.fspath(path) + ".npz")):
            path = os.fspath(path) + ".npz"  # np.savez appended the suffix in save(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except ValueError as exc:
            raise InvalidInputError(
                f"{path} is not a graphgeo graph file, or holds pickled objects, which are refused ({exc})."
            ) from None
        missing = {"format_version", "points", "indptr", "indices", "data"} - set(arrays)
        if missing:
            raise InvalidInputError(f"{path} is not a graphgeo graph file: missing {sorted(missing)}.")
        if int(arrays["format_version"]) > _FORMAT_VERSION:
            raise InvalidInputError(
                f"{path} was written by a newer graphgeo (format {int(arrays['format_version'])}); upgrade."
            )
        pts = check_points(arrays["points"], f"points in {path}", min_rows=2)
        n = len(pts)
        try:  # a damaged file must not reach the compiled search with out-of-range indices
            W = sp.csr_array((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, n))
            W.check_format(full_check=True)
        except ValueError as exc:
            raise InvalidInputError(f"{path} holds a malformed weight matrix ({exc}).") from None
        if not np.all(np.isfinite(W.data)) or np.any(W.data < 0):
            raise InvalidInputError(f"{path} holds non-finite or negative weights.")
        if metric is None:
            metric = metric_from_arrays(arrays)
        elif isinstance(metric, Metric):  # fixes the dim of a FieldMetric(fn) built without one
            metric._check_dim(pts.shape[1], f"points in {path}")
        k = int(arrays["k"])
        qa = arrays["quadrature"]
        q = str(qa) if qa.dtype.kind == "U" else int(qa)  # "adaptive" or a Gauss-Legendre order
        return cls(pts, W, metric=metric, k=None if k < 0 else k, quadrature=None if q == -1 else q,
                   heuristic_scale=float(arrays["heuristic_scale"]),
                   representative=arrays["representative"])


# ---------------------------------------------------------------------- helpers
def _unique_pairs(ei, ej, n):
    key = np.unique(ei.astype(np.int64) * n + ej)
    return key // n, key % n


def _check_positive(R, A, pts, ei, ej):
    """Weights R +- A must be > 0 for distinct points (guaranteed under the Randers condition)."""
    bad = (R + A <= 0) | (R - A <= 0)
    if np.any(bad):
        e = int(np.flatnonzero(bad)[0])
        raise RandersConditionError(
            f"edge {int(ei[e])} <-> {int(ej[e])} got a non-positive directed cost "
            f"(R = {R[e]:.6g}, A = {A[e]:.6g}): omega is too large for the metric between "
            f"quadrature points. Scale omega down, or pass max_norm=0.9 to Randers."
        )


def _assemble(n, ei, ej, R, A, dup, dup_rep):
    """CSR of directed weights: w[i, j] = R + A, w[j, i] = R - A, plus zero-cost duplicate ties."""
    zeros = np.zeros(len(dup))
    rows = np.concatenate([ei, ej, dup, dup_rep])
    cols = np.concatenate([ej, ei, dup_rep, dup])
    data = np.concatenate([R + A, R - A, zeros, zeros])
    W = sp.csr_array((data, (rows, cols)), shape=(n, n))
    W.sort_indices()
    return W


def _merge(W, extra):
    """W with the edges of ``extra`` added (explicit zeros kept: they are edges)."""
    a = W.tocoo()
    b = extra.tocoo()
    M = sp.csr_array((np.concatenate([a.data, b.data]),
                      (np.concatenate([a.row, b.row]), np.concatenate([a.col, b.col]))),
                     shape=W.shape)
    M.sort_indices()
    return M


def _measure_hscale(points, W):
    """min over edges of weight / Euclidean length (edges of zero length ignored)."""
    coo = W.tocoo()
    length = np.linalg.norm(points[coo.row] - points[coo.col], axis=1)
    ok = length > 0
    if not np.any(ok):
        return 0.0
    return max(float(np.min(coo.data[ok] / length[ok])) * _HSCALE_MARGIN, 0.0)


def _bridges(points, rep, labels, n_candidates=16):
    """Borůvka rounds joining every component to its nearest other component until connected.

    Each round proposes, for every component, its shortest (Euclidean) edge to another
    component: first from one kd-tree query of n_candidates neighbours per point,
    then, for components where that candidate is not provably the shortest (some point
    has no outside candidate and its n_candidates-th neighbour is closer than the
    candidate), from a tree over the points outside. The number of components at least halves per round.
    """
    from scipy.sparse.csgraph import connected_components as cc
    from scipy.spatial import cKDTree

    nodes = np.flatnonzero(rep == np.arange(len(rep)))  # one node per distinct point
    pts = points[nodes]
    tree = cKDTree(pts)
    kq = min(n_candidates, len(nodes) - 1)
    dist, nbr = tree.query(pts, k=kq + 1)
    out_i, out_j = [], []
    lab = labels[nodes].copy()
    while True:
        comps, lab = np.unique(lab, return_inverse=True)
        if len(comps) == 1:
            break
        cross = lab[nbr] != lab[:, None]
        best_d = np.full(len(comps), np.inf)
        best_pair = np.zeros((len(comps), 2), dtype=np.int64)
        r, c = np.nonzero(cross)
        if len(r):
            dd = dist[r, c]
            order = np.lexsort((dd, lab[r]))
            first = order[np.r_[True, lab[r][order][1:] != lab[r][order][:-1]]]
            comp = lab[r[first]]
            best_d[comp] = dd[first]
            best_pair[comp] = np.c_[r[first], nbr[r[first], c[first]]]
        # a point with no candidate outside its component has its nearest outside point at
        # >= its kq-th neighbour distance: the candidate is exact unless such a point could
        # beat it (otherwise a dense component next to another one gets a longer bridge)
        reach = np.where(cross.any(axis=1), np.inf, dist[:, -1])
        lower = np.full(len(comps), np.inf)
        np.minimum.at(lower, lab, reach)
        for comp in np.flatnonzero(lower < best_d):
            inside = np.flatnonzero(lab == comp)
            outside = np.flatnonzero(lab != comp)
            d1, j1 = cKDTree(pts[outside]).query(pts[inside], k=1)
            t = int(np.argmin(d1))
            best_pair[comp] = (inside[t], outside[j1[t]])
        pairs = np.unique(np.sort(best_pair, axis=1), axis=0)
        out_i.append(nodes[pairs[:, 0]])
        out_j.append(nodes[pairs[:, 1]])
        m = len(comps)
        J = sp.csr_array((np.ones(len(pairs)), (lab[pairs[:, 0]], lab[pairs[:, 1]])), shape=(m, m))
        _, relabel = cc(J, directed=False)
        lab = relabel[lab]
    return np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)
