"""Geodesic k-medoids on a GeodesicGraph or a precomputed (possibly asymmetric) cost matrix.

Costs are directed. With ``D[a, b]`` the cost a -> b (the convention of
``GeodesicGraph.distances``), the cost of a point x in the cluster of medoid m is

- ``direction="to_medoid"``   : D[x, m], the cost from the point to its medoid;
- ``direction="from_medoid"`` : D[m, x], the cost from the medoid to the point;
- ``direction="symmetric"``   : (D[x, m] + D[m, x]) / 2, half the round trip (the
  geodesic distance itself when the metric is Riemannian).

The loss (``inertia_``) is the sum of these costs over all points; every method
minimises it.
"""


import numpy as np

from . import search as _search
from ._validation import (as_array, check_bool, check_choice, check_int, check_nodes,
                          check_points, check_random_state)
from ._verbose import STAGES, progress_bar
from .exceptions import DisconnectedGraphError, InvalidInputError, NotFittedError
from .kernels import kmedoids as _kk

__all__ = ["GeodesicKMedoids", "NotFittedError"]

#: largest N x N cost matrix (bytes) that fasterpam/alternate compute from a graph
MAX_DENSE_BYTES = 8 << 30
_METHODS = ("fasterpam", "alternate", "voronoi")
_DIRECTIONS = ("to_medoid", "from_medoid", "symmetric")
_INITS = ("auto", "build", "k-medoids++", "random")


class GeodesicKMedoids:
    """k-medoids under directed geodesic costs (scikit-learn estimator conventions).

    Parameters
    ----------
    n_clusters : int >= 1
    method : "fasterpam" (default), "alternate" or "voronoi"
        "fasterpam": FasterPAM swaps (Schubert & Rousseeuw 2021) on the N x N cost
        matrix, in a compiled kernel; the best local optimum of the three.
        "alternate": assign / re-centre iterations (Park & Jun 2009) on the matrix.
        "voronoi": on a GeodesicGraph only, without any N x N matrix: points are
        assigned by one multi-source search from the medoids (two searches per
        medoid for "symmetric"), and each cluster's medoid is replaced by the
        candidate with the smallest cost sum over the cluster, if smaller than the
        current medoid's. Candidates: the medoid's graph neighbours in the cluster,
        the member nearest to the cluster's mean and ``n_candidates`` random
        members, scored by searches inside the cluster's subgraph that stop once
        they can no longer win (distances inside a cluster are upper bounds, so a
        win there is a true improvement: the loss never increases). Memory
        O(N + edges); scales to millions of points.
    direction : "to_medoid" (default), "from_medoid" or "symmetric"
        Which directed cost a point pays to its medoid (see the module docstring).
    init : "auto" (default), "build", "k-medoids++", "random" or an array of
        n_clusters distinct point indices
        "auto" is "build" (PAM BUILD, deterministic, O(k N^2)) for fasterpam and
        alternate, "k-medoids++" for voronoi. "build" needs the N x N matrix and
        is refused with method="voronoi".
    max_iter : int >= 1, default 100
        FasterPAM passes over the points, or assign / update rounds.
    n_candidates : int >= 1 or None, default 32
        voronoi only: random members tried per cluster and round. None tries every
        member, scored with distances on the whole graph: the exact medoid update of
        "alternate" (slow on large graphs).
    random_state : None, int, numpy Generator or RandomState
        For init="random" and "k-medoids++" and the voronoi candidates.
    verbose : bool, default False
        Show progress bars (tqdm, on stderr) in fit: for "voronoi", one step per
        assign / update round (the loss as postfix); for "fasterpam" and "alternate",
        the N x N distances of a graph (per block of sources), then the stages init and
        swap passes / iterations (each one compiled kernel call).

    Attributes
    ----------
    labels_ : (N,) int64, index into medoid_indices_
    medoid_indices_ : (n_clusters,) int64, point (node) indices of the medoids
    cluster_centers_ : (n_clusters, d) medoid coordinates (graph fits) or None
    inertia_ : float, the sum of the points' costs to their medoids
    n_iter_ : int

    Examples
    --------
    >>> km = GeodesicKMedoids(n_clusters=3).fit(g)            # doctest: +SKIP
    >>> km.labels_, km.medoid_indices_, km.inertia_           # doctest: +SKIP
    """

    def __init__(self, n_clusters=8, method="fasterpam", direction="to_medoid", init="auto",
                 max_iter=100, n_candidates=32, random_state=None, verbose=False):
        self.n_clusters = n_clusters
        self.method = method
        self.direction = direction
        self.init = init
        self.max_iter = max_iter
        self.n_candidates = n_candidates
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------- sklearn protocol
    @classmethod
    def _param_names(cls):
        import inspect

        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep=True):
        """The constructor parameters, as scikit-learn's BaseEstimator returns them."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise InvalidInputError(
                    f"{key!r} is not a parameter of GeodesicKMedoids; valid parameters: "
                    f"{', '.join(valid)}."
                )
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"GeodesicKMedoids({args})"

    # ------------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Cluster a GeodesicGraph's nodes, or the points of a square cost matrix.

        Parameters
        ----------
        X : GeodesicGraph, or (N, N) array with X[a, b] = cost a -> b
            (float32 is kept as float32; the diagonal must be zero)
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        InvalidInputError
            Bad parameters, a matrix that is not square, finite, non-negative with
            a zero diagonal, method="voronoi" on a matrix, or a graph too large for
            a dense method.
        DisconnectedGraphError
            Infinite costs on a graph that is not strongly connected (dense methods
            need every pair finite; voronoi needs every point to have a finite cost
            to some medoid).
        """
        from .graph import GeodesicGraph

        graph = X if isinstance(X, GeodesicGraph) else None
        n = graph.n_nodes if graph is not None else _matrix_size(X)
        k = check_int(self.n_clusters, "n_clusters", low=1, high=n,
                      remedy=f"It counts clusters and must be at most the number of points ({n}).")
        method = check_choice(self.method, "method", _METHODS)
        direction = check_choice(self.direction, "direction", _DIRECTIONS)
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        n_cand = None if self.n_candidates is None else check_int(
            self.n_candidates, "n_candidates", low=1,
            remedy="It is the number of random members tried per cluster (None: all of them).")
        rng = check_random_state(self.random_state)
        verbose = check_bool(self.verbose, "verbose")
        init = self._check_init(n, k, method)
        if method == "voronoi" and graph is None:
            raise InvalidInputError(
                "method='voronoi' searches a graph, but X is a cost matrix; pass the "
                "GeodesicGraph itself, or use method='fasterpam' or 'alternate' on a matrix."
            )

        if method == "voronoi":
            med, labels, cost, n_iter = _voronoi(graph, k, direction, init, max_iter, n_cand, rng,
                                                 verbose)
            inertia = float(np.sum(cost))
        else:
            C = (_graph_costs(graph, direction, verbose) if graph is not None
                 else _matrix_costs(X, direction))
            with progress_bar(verbose, total=2, desc=f"k-medoids ({method})", **STAGES) as bar:
                bar.set_postfix_str(f"init ({'given' if not isinstance(init, str) else init})")
                if not isinstance(init, str):
                    med = init.copy()
                elif init == "build":
                    med = _kk.build(C, k)
                else:
                    med = _init_matrix(C, k, init, rng)
                bar.update()
                bar.set_postfix_str("swap passes" if method == "fasterpam" else "iterations")
                if method == "fasterpam":
                    labels, inertia, n_iter, _ = _kk.fasterpam(C, med, max_iter)
                else:
                    labels, inertia, n_iter = _kk.alternate(C, med, max_iter)
                inertia = float(inertia)
                bar.set_postfix_str(f"{int(n_iter)} iterations, loss {inertia:.6g}", refresh=False)
                bar.update()
        self.medoid_indices_ = np.asarray(med, dtype=np.int64)
        self.labels_ = np.asarray(labels, dtype=np.int64)
        self.inertia_ = inertia
        self.n_iter_ = int(n_iter)
        self.cluster_centers_ = graph.points[self.medoid_indices_] if graph is not None else None
        self._fit_direction = direction
        self._n_fit = n
        self._graph = graph
        # what predict() on a graph fit reuses between calls, filled on first use and
        # emptied by every fit: "node" -> (cost, medoid) of one multi-source search from
        # the medoids, "per_medoid" -> the (k, N) costs from and to each medoid
        self._predict_cache = {}
        return self

    def fit_predict(self, X, y=None):
        """fit(X) and return labels_."""
        return self.fit(X).labels_

    def _check_init(self, n, k, method):
        init = self.init
        if isinstance(init, str):
            init = check_choice(init, "init", _INITS)
            if init == "auto":
                init = "k-medoids++" if method == "voronoi" else "build"
            if init == "build" and method == "voronoi":
                raise InvalidInputError(
                    "init='build' needs the N x N cost matrix, which method='voronoi' never "
                    "forms; use init='k-medoids++' (the default for voronoi) or 'random'."
                )
            return init
        med = check_nodes(init, n, "init")
        if len(med) != k or len(np.unique(med)) != k:
            raise InvalidInputError(
                f"init given as indices must hold n_clusters = {k} distinct point indices; "
                f"received {len(med)} indices, {len(np.unique(med))} distinct."
            )
        return med.astype(np.int64)

    # --------------------------------------------------------------- predict
    def predict(self, X):
        """Assign new points to the fitted medoids by the fitted directed cost.

        Parameters
        ----------
        X : after a graph fit, (n, d) coordinates of new points. Each is attached
            to its k nearest graph nodes (k of the graph, Euclidean kNN) by edges
            costed with the graph's metric, both ways; its cost to medoid m is then
            the cheapest path through those edges, in the fitted direction.
            After a matrix fit, an (n, N) array whose entry [q, i] is the cost
            between query q and training point i in the fitted direction
            (q -> i for "to_medoid", i -> q for "from_medoid", their mean for
            "symmetric"), as scikit-learn's precomputed estimators take it.

        Returns
        -------
        (n,) int64 labels, indices into medoid_indices_.
        """
        if not hasattr(self, "medoid_indices_"):
            raise NotFittedError(
                "this GeodesicKMedoids is not fitted yet; call fit(graph or matrix) before predict."
            )
        if self._graph is None:
            Q = as_array(X, "X")
            if Q.ndim != 2 or Q.shape[1] != self._n_fit:
                raise InvalidInputError(
                    f"after a fit on a precomputed matrix, X must be an (n_queries, {self._n_fit}) "
                    f"array of costs to the training points; received shape {Q.shape}."
                )
            if not np.all(np.isfinite(Q[:, self.medoid_indices_])):
                raise InvalidInputError("X holds NaN or Inf in the medoid columns.")
            return np.argmin(Q[:, self.medoid_indices_], axis=1).astype(np.int64)
        return _predict_graph(self, X)


# ---------------------------------------------------------------------- helpers
def _matrix_size(X):
    shape = getattr(X, "shape", None)
    if shape is None:
        X = np.asarray(X)
        shape = X.shape
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise InvalidInputError(
            f"X must be a GeodesicGraph or a square (N, N) cost matrix; received "
            f"{type(X).__name__} of shape {tuple(shape)}."
        )
    return int(shape[0])


def _matrix_costs(X, direction):
    """Validated medoid-major costs C[m, o] from a matrix X[a, b] = cost a -> b."""
    import scipy.sparse as sp

    if sp.issparse(X):
        raise InvalidInputError(
            "X is a sparse matrix; pass the GeodesicGraph (its sparse edge costs are searched) "
            "or a dense matrix of all pairwise costs (X.toarray())."
        )
    if not (isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64)):
        X = as_array(X, "X")
    # a C-contiguous view of X or of X^T (a Fortran-ordered X is read as its transpose)
    flipped = not X.flags.c_contiguous and X.T.flags.c_contiguous
    base = X.T if flipped else np.ascontiguousarray(X)
    n_bad, low, symmetric = _kk.scan(base)  # one pass; all three are transpose-invariant
    if n_bad:
        bad = np.argwhere(~np.isfinite(X))[0]
        raise InvalidInputError(
            f"X holds NaN or Inf (first at {tuple(int(b) for b in bad)}); k-medoids needs a "
            "finite cost between every pair. An infinite graph distance means a disconnected "
            "graph: build it with connect='bridge'."
        )
    if low < 0:
        raise InvalidInputError(f"X must hold costs >= 0; received minimum {low:.4g}.")
    diag = np.diagonal(X)
    if np.any(diag != 0):
        i = int(np.flatnonzero(diag != 0)[0])
        raise InvalidInputError(
            f"X must have a zero diagonal (a point costs nothing to itself); received "
            f"X[{i}, {i}] = {X[i, i]:.4g}. Use np.fill_diagonal(X, 0) on a copy."
        )
    # C[m, o] = cost of point o to medoid m: X for from_medoid, X^T for to_medoid
    if symmetric or (direction == "from_medoid" and not flipped) or (
            direction == "to_medoid" and flipped):
        return base
    out = np.empty(base.shape, dtype=base.dtype)
    _kk.pair_blocks(base, out, direction == "symmetric")
    return out


def _transposed(g):
    """The graph with every edge reversed (searching it from m gives costs to m)."""
    from .graph import GeodesicGraph

    WT = g.weights.T.tocsr()
    WT.sort_indices()
    return GeodesicGraph(g.points, WT, metric=None, heuristic_scale=0.0)


def _check_reached(cost, what):
    """DisconnectedGraphError when some cost is infinite; ``what`` describes it for node {}."""
    if not np.all(np.isfinite(cost)):
        flat = np.flatnonzero(~np.isfinite(np.ravel(cost)))
        raise DisconnectedGraphError(
            f"{what.format(int(flat[0]))}: the graph is not strongly connected "
            f"({len(flat)} infinite costs). Build it with connect='bridge' (the default for "
            "GeodesicGraph.build) or a larger k."
        )


def _graph_costs(g, direction, verbose=False):
    n = g.n_nodes
    if 8 * n * n > MAX_DENSE_BYTES:
        raise InvalidInputError(
            f"method='fasterpam' or 'alternate' on a graph forms the {n} x {n} cost matrix "
            f"({8 * n * n / 2**30:.1f} GiB, above graphgeo.cluster.MAX_DENSE_BYTES = "
            f"{MAX_DENSE_BYTES / 2**30:.0f} GiB); use method='voronoi', which needs O(N) memory."
        )
    if direction == "from_medoid":
        C = g.distances(verbose=verbose)
    elif direction == "to_medoid":
        C = _transposed(g).distances(verbose=verbose)
    else:
        C = g.distances(verbose=verbose)
        _kk.pair_blocks(C, C, True)  # in place
    _check_reached(C, "entry {} of the N x N cost matrix is infinite")
    return C


def _init_matrix(C, k, init, rng):
    n = C.shape[1]
    if init == "random":
        return rng.choice(n, k, replace=False).astype(np.int64)
    return _kmedoids_pp(n, k, lambda idx: np.asarray(C[idx], dtype=np.float64), rng)


def _kmedoids_pp(n, k, rows, rng):
    """Greedy k-medoids++ (as scikit-learn's greedy k-means++).

    Each new medoid is the best, by the resulting loss, of 2 + log(k) candidates
    drawn with probability proportional to the squared cost to the medoids so far.
    ``rows(idx)`` returns the (len(idx), n) costs of all points to candidates idx.
    """
    trials = 2 + int(np.log(k))
    med = np.empty(k, dtype=np.int64)
    med[0] = rng.integers(n)
    near = rows(med[:1])[0].copy()
    _check_reached(near, "node {} has no finite cost to the first k-medoids++ medoid")
    for i in range(1, k):
        cand = _draw(near, rng, med[:i], trials)
        R = np.minimum(near[None, :], rows(cand))
        best = int(np.argmin(R.sum(axis=1)))
        med[i] = cand[best]
        near = R[best]
    return med


def _draw(near, rng, taken, size):
    """``size`` distinct points not in ``taken``, with probability proportional to near^2."""
    p = near * near
    p[taken] = 0.0
    free = np.count_nonzero(p > 0)
    total = p.sum()
    if free < size or not np.isfinite(total):
        # too few points with a positive cost: fill up uniformly among the other points
        rest = np.setdiff1d(np.arange(len(near)), taken)
        pos = np.flatnonzero(p > 0) if np.isfinite(total) else np.zeros(0, np.int64)
        others = np.setdiff1d(rest, pos)
        extra = rng.choice(others, min(size - len(pos), len(others)), replace=False)
        return np.concatenate([pos, extra]).astype(np.int64)[:size]
    return rng.choice(len(near), size, replace=False, p=p / total).astype(np.int64)


# ------------------------------------------------------------------ voronoi
def _multi_source(g, seeds):
    """(dist, index into seeds of the nearest seed) of one directed search from the seeds.

    The one place the multi-source search is called (swap the backend here).
    """
    out = _search.multi_source(g, seeds)
    return out[0], out[1]


def _csr_arrays(W):
    return (np.ascontiguousarray(W.indptr, dtype=np.int64),
            np.ascontiguousarray(W.indices, dtype=np.int64),
            np.ascontiguousarray(W.data, dtype=np.float64))


def _graph_assign(g, gT, med, direction):
    """Labels (index into med) and costs of every node for the given medoids."""
    if direction == "to_medoid":
        cost, labels = _multi_source(gT, med)
    elif direction == "from_medoid":
        cost, labels = _multi_source(g, med)
    else:
        batch = max(1, min(len(med), _batch_threads()))
        labels, cost = _kk.symmetric_assign(_csr_arrays(g.weights), _csr_arrays(gT.weights),
                                            med, batch)
    _check_reached(cost, {"to_medoid": "node {} cannot reach any medoid",
                          "from_medoid": "no medoid reaches node {}",
                          "symmetric": "node {} has no finite round trip to any medoid"}[direction])
    return np.asarray(labels, dtype=np.int64), np.asarray(cost, dtype=np.float64)


def _batch_threads():
    import numba

    return numba.get_num_threads()


def _rows_graph(g, gT, direction):
    """rows(idx): (len(idx), N) costs of every node to the candidate medoids idx."""
    def rows(idx):
        if direction == "to_medoid":
            return gT.distances(sources=idx)
        if direction == "from_medoid":
            return g.distances(sources=idx)
        return 0.5 * (g.distances(sources=idx) + gT.distances(sources=idx))

    return rows


def _init_graph(g, gT, k, init, direction, rng):
    n = g.n_nodes
    if init == "random":
        return rng.choice(n, k, replace=False).astype(np.int64)
    return _kmedoids_pp(n, k, _rows_graph(g, gT, direction), rng)


def _candidates(g, med, labels, n_cand, rng):
    """Candidate medoids per cluster as (ptr, nodes); each list starts with the current medoid."""
    k = len(med)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    W = g.weights
    lists = []
    for c in range(k):
        members = order[bounds[c] : bounds[c + 1]]
        m = int(med[c])
        if n_cand is None or n_cand >= len(members):
            extra = members
        else:
            nbr = W.indices[W.indptr[m] : W.indptr[m + 1]]
            nbr = nbr[labels[nbr] == c]
            pts = g.points[members]
            centre = members[np.argmin(np.sum((pts - pts.mean(axis=0)) ** 2, axis=1))]
            sample = rng.choice(members, n_cand, replace=False)
            extra = np.concatenate([nbr, [centre], sample])
        extra = np.unique(extra)
        lists.append(np.concatenate([[m], extra[extra != m]]).astype(np.int64))
    ptr = np.zeros(k + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    return ptr, np.concatenate(lists), np.diff(bounds).astype(np.int64)


def _voronoi(g, k, direction, init, max_iter, n_cand, rng, verbose=False):
    gT = _transposed(g)
    with progress_bar(verbose, total=max_iter, desc="k-medoids (voronoi)", unit="round") as bar:
        bar.set_postfix_str(f"init ({init if isinstance(init, str) else 'given'})")
        if isinstance(init, str):
            med = _init_graph(g, gT, k, init, direction, rng)
        else:
            med = init.copy()
        mode = {"from_medoid": 0, "to_medoid": 1, "symmetric": 2}[direction]
        W, WT = _csr_arrays(g.weights), _csr_arrays(gT.weights)
        labels, cost = _graph_assign(g, gT, med, direction)
        bar.set_postfix(loss=f"{np.sum(cost):.6g}")
        it = 0
        while it < max_iter:
            it += 1
            ptr, cand, sizes = _candidates(g, med, labels, n_cand, rng)
            cur = np.bincount(labels, weights=cost, minlength=k)
            # sampled candidates are scored inside their cluster (3x faster; a candidate that
            # wins there wins on the whole graph); n_candidates=None scores on the whole graph
            new_med, _ = _kk.graph_medoid_update(W, WT, mode, labels, sizes, ptr, cand, cur,
                                                n_cand is not None)
            if np.array_equal(new_med, med):
                bar.update()
                break
            med = new_med
            labels, cost = _graph_assign(g, gT, med, direction)
            bar.set_postfix(loss=f"{np.sum(cost):.6g}", refresh=False)
            bar.update()
    return med, labels, cost, it


# ------------------------------------------------------------------ predict
def _predict_graph(km, X):
    from .attach import attach

    g = km._graph
    att = attach(g, check_points(X, "X", dim=g.dim, min_rows=1))  # the graph's k nodes each
    Q, nbr, n_att = att.points, att.nodes, att.nodes.shape[1]
    to_node, from_node = att.out_cost, att.in_cost  # query -> node, node -> query
    cache = km._predict_cache
    med = km.medoid_indices_
    direction = km._fit_direction
    if direction in ("to_medoid", "from_medoid"):
        if "node" not in cache:
            searched = _transposed(g) if direction == "to_medoid" else g
            cache["node"] = _multi_source(searched, med)
        node_cost, node_label = cache["node"]
        total = (to_node if direction == "to_medoid" else from_node) + node_cost[nbr]
        best = np.argmin(total, axis=1)
        return np.asarray(node_label, dtype=np.int64)[nbr[np.arange(len(Q)), best]]
    if "per_medoid" not in cache:
        # (k, N) costs medoid -> node and node -> medoid
        cache["per_medoid"] = (g.distances(sources=med), _transposed(g).distances(sources=med))
    d_from, d_to = cache["per_medoid"]
    out = np.empty(len(Q), dtype=np.int64)
    step = max(1, (64 << 20) // (8 * n_att * len(med)))
    for s in range(0, len(Q), step):
        nb = nbr[s : s + step]
        go = np.min(to_node[s : s + step, :, None] + d_to.T[nb], axis=1)       # q -> m
        back = np.min(d_from.T[nb] + from_node[s : s + step, :, None], axis=1)  # m -> q
        out[s : s + step] = np.argmin(0.5 * (go + back), axis=1)
    return out

