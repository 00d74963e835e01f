"""Maps over a latent box: grid graphs, directed distance maps, metric fields, random walks.

- :class:`Grid`: a regular grid over a 2-D or 3-D box (any dimension for fields).
- :func:`grid_graph`: the grid as a GeodesicGraph, 8 or 16 neighbours in 2-D, 26 in
  3-D, with directed edge costs from the same edge kernels as KNN graphs.
- :func:`distance_map`: directed distances from (or to) one or several seeds and
  the nearest seed of every node (a geodesic Voronoi partition).
- :func:`volume_element`, :func:`magnification_factor`, :func:`anisotropy`,
  :func:`omega_norm`: scalar fields of the metric.
- :func:`random_walk`: Riemannian random walks, steps U L^{-1/2} eps from G = U L U^T
  (Arvanitidis, Hansen & Hauberg, "Latent Space Oddity", ICLR 2018).

Field functions take points (n, d) and return (n,), or take a Grid and return an
array of the grid's shape.
"""

import numpy as np

from ._validation import (as_array, check_choice, check_float, check_int, check_metric, check_points,
                          check_quadrature)
from .costs import segment_costs
from .exceptions import InvalidInputError, MetricError, NotSPDError, RandersConditionError
from .kernels import maps as _km

__all__ = [
    "Grid",
    "grid_graph",
    "distance_map",
    "volume_element",
    "magnification_factor",
    "anisotropy",
    "omega_norm",
    "random_walk",
]

# points evaluated at once by the field functions
_CHUNK = 4096
_STENCILS = {2: (8, 16), 3: (26,)}


class Grid:
    """A regular grid over the box [lo, hi] with ``shape`` nodes per axis.

    Nodes are ordered as ``np.meshgrid(*axes, indexing="ij")`` flattened in C
    order: ``values.reshape(grid.shape)[i, j]`` is the node at (axes[0][i], axes[1][j]).

    Parameters
    ----------
    lo, hi : (d,) lower and upper corners, hi > lo
    shape : int (same on every axis) or d ints, each >= 2

    Attributes
    ----------
    ndim, shape, lo, hi, spacing (d,), axes (list of 1-D arrays), points (N, d), n_points
    """

    def __init__(self, lo, hi, shape):
        lo = np.atleast_1d(as_array(lo, "lo"))
        hi = np.atleast_1d(as_array(hi, "hi"))
        if lo.ndim != 1 or lo.shape != hi.shape:
            raise InvalidInputError(
                f"lo and hi must be (d,) corners of the same length; received shapes "
                f"{lo.shape} and {hi.shape}."
            )
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(hi > lo)):
            raise InvalidInputError(
                f"the box must be finite with hi > lo on every axis; received lo = {lo}, hi = {hi}."
            )
        d = len(lo)
        if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
            shape = (shape,) * d
        try:
            shape = tuple(shape)
        except TypeError:
            raise InvalidInputError(
                f"shape must be an int or {d} ints; received {type(shape).__name__}."
            ) from None
        if len(shape) != d:
            raise InvalidInputError(f"shape must hold {d} ints (one per axis); received {shape}.")
        self.shape = tuple(check_int(s, "shape", low=2, remedy="Each axis needs >= 2 nodes.")
                           for s in shape)
        self.lo, self.hi = lo, hi
        self.ndim = d
        self.axes = [np.linspace(lo[i], hi[i], self.shape[i]) for i in range(d)]
        self.spacing = (hi - lo) / (np.array(self.shape) - 1)

    @property
    def n_points(self):
        return int(np.prod(self.shape))

    @property
    def points(self):
        mesh = np.meshgrid(*self.axes, indexing="ij")
        return np.ascontiguousarray(np.stack([m.ravel() for m in mesh], axis=1))

    def reshape(self, values):
        """Per-node values (N, ...) as an array of shape grid.shape + (...)."""
        values = np.asarray(values)
        return values.reshape(self.shape + values.shape[1:])

    def __repr__(self):
        return f"Grid(lo={self.lo.tolist()}, hi={self.hi.tolist()}, shape={self.shape})"


# ----------------------------------------------------------------------- stencils
def _stencil(dim, stencil):
    """Integer offsets (S, dim) of the stencil, in 2-D sorted by angle."""
    if dim == 2:
        if stencil == 8:
            offs = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]
        else:
            r = range(-2, 3)
            offs = [(i, j) for i in r for j in r
                    if (i, j) != (0, 0) and np.gcd(abs(i), abs(j)) == 1]
        offs = sorted(offs, key=lambda o: np.arctan2(o[1], o[0]))
    else:
        r = range(-1, 2)
        offs = [(i, j, k) for i in r for j in r for k in r if (i, j, k) != (0, 0, 0)]
    return np.array(offs, dtype=np.int64)


def _pairs(offsets):
    """For each direction, the adjacent directions used by the pair updates (ptr, idx)."""
    S, dim = offsets.shape
    if dim == 2:
        nbrs = [[(s - 1) % S, (s + 1) % S] for s in range(S)]
    else:
        nbrs = []
        for s in range(S):
            a = offsets[s]
            row = []
            for t in range(S):
                b = offsets[t]
                if t == s or np.max(np.abs(a - b)) != 1:
                    continue
                if np.any((a == b) & (np.abs(a) == 1)):  # on a common face of the 3x3x3 cube
                    row.append(t)
            nbrs.append(row)
    ptr = np.zeros(S + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in nbrs])
    return ptr, np.array([t for r in nbrs for t in r], dtype=np.int64)


def _check_grid_metric(metric, grid, stencil):
    check_metric(metric)
    if not isinstance(grid, Grid):
        raise InvalidInputError(
            f"grid must be a graphgeo.maps.Grid(lo, hi, shape); received {type(grid).__name__}."
        )
    if grid.ndim not in _STENCILS:
        raise InvalidInputError(
            f"grid graphs and distance maps are for 2-D or 3-D boxes; received a {grid.ndim}-D grid."
        )
    if metric.dim is None:  # FieldMetric(fn) built without dim: the grid's
        metric._check_dim(grid.ndim, "grid")
    if metric.dim != grid.ndim:
        raise MetricError(
            f"the metric is defined on R^{metric.dim} but the grid is {grid.ndim}-D; they must match."
        )
    allowed = _STENCILS[grid.ndim]
    if stencil is None:
        return allowed[-1]
    if isinstance(stencil, bool) or stencil not in allowed:
        raise InvalidInputError(
            f"stencil must be one of {', '.join(map(str, allowed))} for a {grid.ndim}-D grid; "
            f"received {stencil!r}."
        )
    return int(stencil)


def _edge_costs(metric, grid, offsets, quadrature):
    """wgt (N, S): cost of the edge u -> u + offsets[s] (inf outside the grid).

    One segment integral per undirected edge: forward R + A, backward R - A.
    """
    pts = grid.points
    n = len(pts)
    shape = np.array(grid.shape)
    idx = np.arange(n).reshape(grid.shape)
    S = len(offsets)
    index_of = {tuple(o): s for s, o in enumerate(offsets)}
    wgt = np.full((n, S), np.inf)
    for s, e in enumerate(offsets):
        if tuple(-e) in index_of and index_of[tuple(-e)] < s:
            continue  # the reverse direction handled this pair of directions
        sl_a = tuple(slice(max(0, -c), shape[i] - max(0, c)) for i, c in enumerate(e))
        sl_b = tuple(slice(max(0, c), shape[i] - max(0, -c)) for i, c in enumerate(e))
        ia = idx[sl_a].ravel()
        ib = idx[sl_b].ravel()
        R, A = segment_costs(metric, pts, ia, ib, quadrature=quadrature)
        fwd, bwd = R + A, R - A
        if np.any(fwd <= 0) or np.any(bwd <= 0):
            e_bad = int(np.flatnonzero((fwd <= 0) | (bwd <= 0))[0])
            raise RandersConditionError(
                f"the grid edge {int(ia[e_bad])} <-> {int(ib[e_bad])} got a non-positive directed "
                f"cost (R = {R[e_bad]:.6g}, A = {A[e_bad]:.6g}); scale omega down or pass "
                "max_norm=0.9 to Randers."
            )
        wgt[ia, s] = fwd
        wgt[ib, index_of[tuple(-e)]] = bwd
    return wgt


def grid_graph(metric, grid, stencil=None, quadrature=None):
    """The grid as a directed GeodesicGraph.

    Parameters
    ----------
    metric : graphgeo Metric on R^2 or R^3
    grid : Grid (2-D or 3-D)
    stencil : 8 or 16 (2-D, default 16: the 8 neighbours and the 8 knight moves),
        26 (3-D, the default: the 3 x 3 x 3 cube)
    quadrature : Gauss-Legendre points per edge (None: graphgeo's default)

    Returns
    -------
    GeodesicGraph whose node i is grid.points[i]; weights[i, j] = cost i -> j.
    """
    from scipy import sparse as sp

    from .graph import GeodesicGraph

    stencil = _check_grid_metric(metric, grid, stencil)
    quadrature = check_quadrature(quadrature)
    offsets = _stencil(grid.ndim, stencil)
    wgt = _edge_costs(metric, grid, offsets, quadrature)
    n = grid.n_points
    idx = np.arange(n).reshape(grid.shape)
    rows, cols = np.nonzero(np.isfinite(wgt))
    coords = np.stack(np.unravel_index(rows, grid.shape), axis=1) + offsets[cols]
    targets = idx[tuple(coords.T)]
    W = sp.csr_array((wgt[rows, cols], (rows, targets)), shape=(n, n))
    W.sort_indices()
    return GeodesicGraph(grid.points, W, metric=metric, k=len(offsets), quadrature=quadrature)


# ------------------------------------------------------------------ distance maps
def _seed_init(metric, grid, seeds, radius, backward, quadrature):
    """Exact straight-segment costs between every seed and the nodes within ``radius`` cells."""
    pts = grid.points
    d = grid.ndim
    pos = (seeds - grid.lo) / grid.spacing  # continuous index coordinates
    r = int(np.ceil(radius))
    rng_ = np.arange(-r, r + 2)
    box = np.stack(np.meshgrid(*([rng_] * d), indexing="ij"), axis=-1).reshape(-1, d)
    cand = np.floor(pos)[:, None, :].astype(np.int64) + box[None]  # (m, B, d)
    inside = np.all((cand >= 0) & (cand < np.array(grid.shape)), axis=2)
    close = np.linalg.norm(cand - pos[:, None, :], axis=2) <= radius + 1e-9
    si, bi = np.nonzero(inside & close)
    nodes = np.ravel_multi_index(tuple(cand[si, bi].T), grid.shape)
    R, A = segment_costs(metric, seeds, si, nodes, b_pts=pts, quadrature=quadrature)
    cost = R - A if backward else R + A
    dist = np.full(grid.n_points, np.inf)
    label = np.full(grid.n_points, -1, dtype=np.int64)
    order = np.lexsort((si, cost))  # cheapest first; ties to the lower seed index
    first = np.unique(nodes[order], return_index=True)[1]
    keep = order[first]
    dist[nodes[keep]] = cost[keep]
    label[nodes[keep]] = si[keep]
    return dist, label


def _node_fields(metric, pts, backward):
    G = _chunked(lambda z: np.asarray(metric.metric_tensor(z)), pts)
    if metric.has_one_form:
        om = _chunked(lambda z: np.asarray(metric.effective_omega(z)), pts)
        if backward:
            om = -om
    else:
        om = np.zeros_like(pts)
    return np.ascontiguousarray(G, dtype=np.float64), np.ascontiguousarray(om, dtype=np.float64)


def distance_map(metric, grid, seeds, stencil=None, method="eikonal", direction="from_seeds",
                 quadrature=None, init_radius=5.0):
    """Directed distances between seeds and every node of a grid.

    Parameters
    ----------
    metric : graphgeo Metric (Riemannian or Randers) on R^2 or R^3
    grid : Grid (2-D or 3-D)
    seeds : (m, d) coordinates inside the box (not necessarily grid nodes)
    stencil : as in :func:`grid_graph` (default 16 in 2-D, 26 in 3-D)
    method : "eikonal" (default) or "graph"
        "graph": Dijkstra on the grid graph; its error is the metrication of the
        stencil (Euclidean worst case 2.7 % with 16 neighbours, 8.2 % with 8).
        "eikonal": the same search with semi-Lagrangian updates between adjacent
        stencil directions (graphgeo.kernels.maps); never above the graph values,
        within 1 % of the exact Euclidean distance with 16 neighbours.
    direction : "from_seeds" (default): cost seed -> node; "to_seeds": node -> seed
    quadrature : Gauss-Legendre points per edge
    init_radius : float >= 1, in cells
        Nodes within this many cells of a seed get the cost of the straight
        segment from the seed (resolving the point-source singularity).

    Returns
    -------
    dist : array of grid.shape, the cheapest cost over seeds (inf if unreachable)
    nearest : int64 array of grid.shape, index into seeds of the seed that attains it

    Raises
    ------
    InvalidInputError for seeds outside the box or bad options; MetricError,
    RandersConditionError from the metric.
    """
    stencil = _check_grid_metric(metric, grid, stencil)
    method = check_choice(method, "method", ("eikonal", "graph"))
    direction = check_choice(direction, "direction", ("from_seeds", "to_seeds"))
    quadrature = check_quadrature(quadrature)
    radius = check_float(init_radius, "init_radius", low=1.0, high=64.0)
    seeds = check_points(seeds, "seeds", dim=grid.ndim, min_rows=1)
    tol = 1e-9 * (grid.hi - grid.lo)
    outside = np.any((seeds < grid.lo - tol) | (seeds > grid.hi + tol), axis=1)
    if np.any(outside):
        i = int(np.flatnonzero(outside)[0])
        raise InvalidInputError(
            f"seeds[{i}] = {seeds[i]} lies outside the grid's box [{grid.lo}, {grid.hi}]; "
            "enlarge the box or move the seed inside."
        )
    seeds = np.clip(seeds, grid.lo, grid.hi)
    backward = direction == "to_seeds"
    offsets = _stencil(grid.ndim, stencil)
    wgt = _edge_costs(metric, grid, offsets, quadrature)
    if backward:
        wgt = _reverse_wgt(grid, wgt, offsets)
    dist, label = _seed_init(metric, grid, seeds, radius, backward, quadrature)
    if method == "eikonal":
        G, om = _node_fields(metric, grid.points, backward)
        ptr, idx = _pairs(offsets)
    else:
        G = np.zeros((1, grid.ndim, grid.ndim))
        om = np.zeros((1, grid.ndim))
        ptr, idx = np.zeros(len(offsets) + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _km.fast_march(np.array(grid.shape, dtype=np.int64), grid.spacing, offsets, wgt, ptr, idx,
                   G, om, dist, label, method == "eikonal")
    return grid.reshape(dist), grid.reshape(label)


def _reverse_wgt(grid, wgt, offsets):
    """Costs of the reversed edges: out[u, s] = cost (u + e_s) -> u."""
    n = grid.n_points
    idx = np.arange(n).reshape(grid.shape)
    index_of = {tuple(o): s for s, o in enumerate(offsets)}
    out = np.full(wgt.shape, np.inf)
    shape = np.array(grid.shape)
    for s, e in enumerate(offsets):
        sl_a = tuple(slice(max(0, -c), shape[i] - max(0, c)) for i, c in enumerate(e))
        sl_b = tuple(slice(max(0, c), shape[i] - max(0, -c)) for i, c in enumerate(e))
        ia = idx[sl_a].ravel()
        ib = idx[sl_b].ravel()  # ib = ia + e
        out[ia, s] = wgt[ib, index_of[tuple(-e)]]
    return out


# -------------------------------------------------------------------------- fields
def _chunked(fn, pts):
    outs = [fn(pts[s : s + _CHUNK]) for s in range(0, len(pts), _CHUNK)]
    return np.concatenate(outs, axis=0)


def _field_points(metric, points):
    check_metric(metric)
    if isinstance(points, Grid):
        if metric.dim is None:  # FieldMetric(fn) built without dim: the grid's
            metric._check_dim(points.ndim, "grid")
        if points.ndim != metric.dim:
            raise MetricError(
                f"the metric is defined on R^{metric.dim} but the grid is {points.ndim}-D."
            )
        return points.points, points.shape
    return check_points(points, "points", dim=metric.dim), None


def _shaped(values, shape):
    return values if shape is None else values.reshape(shape)


def _metric_tensors(metric, pts):
    G = _chunked(lambda z: np.asarray(metric.metric_tensor(z), dtype=np.float64), pts)
    if not np.all(np.isfinite(G)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(G), axis=(1, 2)))[0])
        raise MetricError(f"the metric tensor is NaN or Inf at {pts[bad]}.")
    return G


def _eigenvalues(metric, pts):
    G = _metric_tensors(metric, pts)
    ev = np.linalg.eigvalsh(0.5 * (G + np.swapaxes(G, 1, 2)))
    if np.any(ev[:, 0] <= 0):
        bad = int(np.argmin(ev[:, 0]))
        raise NotSPDError(
            f"the metric tensor is not positive definite at {pts[bad]} (smallest eigenvalue "
            f"{ev[bad, 0]:.3g}); check the metric's parameters."
        )
    return ev


def volume_element(metric, points):
    """sqrt(det G(z)), the Riemannian volume element (Randers: of its Riemannian part).

    Computed from the eigenvalues as exp(sum(log l) / 2), so tiny or huge
    determinants in high dimension neither underflow nor overflow in the product.
    """
    pts, shape = _field_points(metric, points)
    ev = _eigenvalues(metric, pts)
    return _shaped(np.exp(0.5 * np.sum(np.log(ev), axis=1)), shape)


def magnification_factor(metric, points, direction=None):
    """Magnification of the latent space by the metric.

    direction None: sqrt(det G(z)), the area (volume) magnification of Bishop,
    Svensen & Williams (1997) and Latent Space Oddity, i.e. the volume element.
    direction (d,) or (n, d): the length magnification F(z, v) / |v| along v
    (direction-aware for a Randers metric: F(z, -v) != F(z, v)).
    """
    if direction is None:
        return volume_element(metric, points)
    pts, shape = _field_points(metric, points)
    v = as_array(direction, "direction")
    if v.ndim == 1:
        v = np.broadcast_to(v, pts.shape)
    if v.shape != pts.shape:
        raise InvalidInputError(
            f"direction must have shape ({metric.dim},) or {pts.shape}; received {v.shape}."
        )
    nv = np.linalg.norm(v, axis=1)
    if np.any(nv == 0) or not np.all(np.isfinite(nv)):
        raise InvalidInputError("direction must be finite and non-zero everywhere.")
    v = np.ascontiguousarray(v)
    F = np.concatenate([np.asarray(metric.norm(pts[s : s + _CHUNK], v[s : s + _CHUNK]))
                        for s in range(0, len(pts), _CHUNK)])
    return _shaped(F / nv, shape)


def anisotropy(metric, points):
    """(l_max - l_min) / (l_max + l_min) with l the eigenvalues of G(z); in [0, 1), 0 isotropic."""
    pts, shape = _field_points(metric, points)
    ev = _eigenvalues(metric, pts)
    return _shaped((ev[:, -1] - ev[:, 0]) / (ev[:, -1] + ev[:, 0]), shape)


def omega_norm(metric, points, effective=True):
    """|omega(z)|_{G^{-1}(z)}, the Randers 1-form's norm (< 1 where the metric is valid).

    effective True: of the omega the costs use (after a max_norm rescaling);
    False: of omega as given. Zero for a Riemannian metric.
    """
    pts, shape = _field_points(metric, points)
    if not metric.has_one_form:
        return _shaped(np.zeros(len(pts)), shape)
    if not effective:
        out = _chunked(lambda z: np.asarray(metric.omega_norm(z)), pts)
        return _shaped(out, shape)

    def fn(z):
        om = np.asarray(metric.effective_omega(z))
        C = np.asarray(metric.cometric_tensor(z))
        return np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", om, C, om), 0.0))

    return _shaped(_chunked(fn, pts), shape)


# --------------------------------------------------------------------- random walks
def random_walk(metric, start, n_steps, step_size, seed=None):
    """Riemannian random walks: z_{t+1} = z_t + step_size * U L^{-1/2} eps, eps ~ N(0, I).

    G(z_t) = U diag(L) U^T, so each step has covariance step_size^2 G(z_t)^{-1}:
    walks move fast where the metric is small (on the data) and slowly where it is
    large. Under a Randers metric only its Riemannian part G drives the walk.

    Parameters
    ----------
    metric : graphgeo Metric
    start : (d,) one walk, or (m, d) m walks
    n_steps : int >= 1
    step_size : float > 0
    seed : None, int or numpy Generator

    Returns
    -------
    (n_steps + 1, d) for one start point, (m, n_steps + 1, d) for m; row 0 is the start.
    """
    check_metric(metric)
    single = np.ndim(start) == 1
    z = check_points(start, "start", dim=metric._dim_from(start, "start"))
    n_steps = check_int(n_steps, "n_steps", low=1)
    step = check_float(step_size, "step_size", low=0.0, low_open=True)
    if seed is not None and not isinstance(seed, np.random.Generator):
        seed = check_int(seed, "seed", low=0)
    rng = np.random.default_rng(seed)
    out = np.empty((len(z), n_steps + 1, metric.dim))
    out[:, 0] = z
    for t in range(n_steps):
        G = _metric_tensors(metric, z)
        L, U = np.linalg.eigh(0.5 * (G + np.swapaxes(G, 1, 2)))
        if np.any(L[:, 0] <= 0):
            bad = int(np.argmin(L[:, 0]))
            raise NotSPDError(
                f"the metric tensor is not positive definite at {z[bad]} (smallest eigenvalue "
                f"{L[bad, 0]:.3g}) on step {t} of the walk."
            )
        eps = rng.standard_normal(z.shape)
        z = z + step * np.einsum("nij,nj->ni", U, eps / np.sqrt(L))
        out[:, t + 1] = z
    return out[0] if single else out
