"""The one validator every public entry point goes through.

Each check returns a clean value (float64 C-contiguous arrays, Python ints) or
raises a specific exception whose message names the parameter, what was
expected, what was received and a remedy.
"""

import numbers
import operator

import numpy as np

from .exceptions import InvalidInputError, MetricError, NotSPDError

__all__ = [
    "as_array",
    "check_points",
    "check_int",
    "check_float",
    "check_choice",
    "check_node",
    "check_nodes",
    "check_spd",
    "check_metric",
    "check_bool",
    "check_quadrature",
    "check_limit",
    "check_random_state",
    "check_seed",
    "check_graph",
    "check_polyline",
    "check_curves",
    "check_device",
    "check_endpoints",
    "check_pairs",
]

#: the quadrature option that selects error-controlled node-shared rules
ADAPTIVE = "adaptive"


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}" if not hasattr(x, "shape") else f"{type(x).__name__} of shape {tuple(x.shape)}"


def as_array(x, name, dtype=np.float64):
    """Turn array-likes (lists, numpy, torch tensors, cupy arrays) into numpy."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor, without importing torch
        x = x.detach().cpu().numpy()
    elif hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        x = x.get()
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{name} must be array-like of numbers; received {_describe(x)} ({exc})."
        ) from None
    return np.ascontiguousarray(arr)


def check_finite(arr, name):
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(b) for b in bad)
        raise InvalidInputError(
            f"{name} contains NaN or Inf (first at index {where}: {arr[where]}); "
            "remove or impute those entries before calling graphgeo."
        )
    return arr


def check_points(points, name="points", dim=None, min_rows=1):
    """A finite float64 array of shape (n, d) with n >= min_rows (and d == dim)."""
    arr = as_array(points, name)
    if arr.ndim == 1 and dim is not None and arr.shape[0] == dim:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise InvalidInputError(
            f"{name} must be a 2-D array of shape (n_points, dim); received {_describe(arr)}. "
            "Reshape with points.reshape(len(points), -1)."
        )
    if arr.shape[0] < min_rows:
        raise InvalidInputError(
            f"{name} must hold at least {min_rows} point(s); received {arr.shape[0]}."
        )
    if arr.shape[1] < 1:
        raise InvalidInputError(f"{name} must have at least one coordinate; received shape {arr.shape}.")
    if dim is not None and arr.shape[1] != dim:
        raise InvalidInputError(
            f"{name} has dimension {arr.shape[1]} but the metric is defined on R^{dim}; "
            "encode the points with the same model the metric comes from, or build the metric "
            f"for dimension {arr.shape[1]}."
        )
    return check_finite(arr, name)


def check_vector(x, name, dim):
    arr = as_array(x, name)
    if arr.shape != (dim,):
        raise InvalidInputError(f"{name} must have shape ({dim},); received {_describe(arr)}.")
    return check_finite(arr, name)


def check_int(value, name, low=None, high=None, remedy=""):
    """An integral value with low <= value <= high (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise InvalidInputError(
            f"{name} must be an integer; received {_describe(value)}.{(' ' + remedy) if remedy else ''}"
        )
    value = operator.index(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise InvalidInputError(
            f"{name} must be in [{lo}, {hi}]; received {value}.{(' ' + remedy) if remedy else ''}"
        )
    return value


def check_float(value, name, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise InvalidInputError(f"{name} must be a real number; received {_describe(value)}.")
    value = float(value)
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        # infinite ends are open: the value must be finite
        lb = "(-inf" if low is None else ("(" if low_open else "[") + f"{low}"
        hb = "inf)" if high is None else f"{high}" + (")" if high_open else "]")
        raise InvalidInputError(f"{name} must be a finite number in {lb}, {hb}; received {value}.")
    return value


def check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise InvalidInputError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}; received {value!r}."
        )
    return value


def check_node(i, n, name):
    if isinstance(i, bool) or not isinstance(i, (numbers.Integral, np.integer)):
        raise InvalidInputError(
            f"{name} must be a node index (an integer in [0, {n - 1}]); received {_describe(i)}. "
            "For a point that is not a graph node, pass its coordinates to gg.geodesic instead."
        )
    i = operator.index(i)
    if not -n <= i < n:
        raise InvalidInputError(f"{name} must be a node index in [0, {n - 1}]; received {i}.")
    return i % n


def check_nodes(idx, n, name, allow_none=False):
    """A 1-D int64 array of node indices in [0, n) (negative indices wrap like numpy)."""
    if idx is None:
        if allow_none:
            return None
        raise InvalidInputError(f"{name} must be node indices; received None.")
    if np.isscalar(idx) or (isinstance(idx, np.ndarray) and idx.ndim == 0):
        idx = [idx]
    arr = np.asarray(idx.detach().cpu().numpy() if hasattr(idx, "detach") else idx)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(
            f"{name} must be integer node indices; received dtype {arr.dtype}. "
            "Boolean masks can be turned into indices with np.flatnonzero(mask)."
        )
    arr = arr.astype(np.int64).ravel()
    if arr.min() < -n or arr.max() >= n:
        bad = arr[(arr < -n) | (arr >= n)][0]
        raise InvalidInputError(f"{name} must hold node indices in [0, {n - 1}]; received {int(bad)}.")
    return np.ascontiguousarray(arr % n)


def check_spd(mats, name, tol=0.0):
    """Check a stack of symmetric matrices (..., d, d) is positive definite; return it symmetrised."""
    mats = check_finite(np.asarray(mats, dtype=np.float64), name)
    asym = np.max(np.abs(mats - np.swapaxes(mats, -1, -2)), initial=0.0)
    scale = max(np.max(np.abs(mats), initial=0.0), 1e-300)
    if asym > 1e-8 * scale:
        raise NotSPDError(
            f"{name} must be symmetric; received matrices with asymmetry {asym:.3g} "
            f"(relative {asym / scale:.3g}). Pass (A + A.T) / 2 if the asymmetry is round-off."
        )
    mats = 0.5 * (mats + np.swapaxes(mats, -1, -2))
    eig_min = np.linalg.eigvalsh(mats)[..., 0]
    if np.any(eig_min <= tol):
        flat = np.atleast_1d(eig_min)
        worst = int(np.argmin(flat))
        where = "" if mats.ndim == 2 else f" (matrix {worst})"
        raise NotSPDError(
            f"{name} must be positive definite; smallest eigenvalue {flat[worst]:.3g}{where}. "
            "Add a small multiple of the identity, or check how the matrices were built."
        )
    return np.ascontiguousarray(mats)


def check_metric(metric, name="metric", dim=None, randers=None, fused=None):
    """A graphgeo metric object, optionally of a given dimension / kind.

    ``randers``: True requires a Randers metric, False refuses one (a base metric is
    needed), None accepts both. ``dim``: the dimension the caller's points have.
    ``fused``: True requires a metric with a compiled kernel.

    Raises
    ------
    InvalidInputError
        When ``metric`` is not a graphgeo metric.
    MetricError
        When it is not of the requested kind, or its dimension differs from ``dim``.
    """
    from .metrics import Metric, Randers  # the metrics import this module: imported on use

    if not isinstance(metric, Metric):
        raise InvalidInputError(
            f"{name} must be a graphgeo metric (gg.Euclidean(d), gg.RHVAEMetric(...), "
            f"gg.FieldMetric(fn), gg.Randers(base, omega), ...); received {_describe(metric)}. "
            "Wrap a callable z -> G(z) in gg.FieldMetric(fn)."
        )
    is_randers = isinstance(metric, Randers)
    if randers is True and not is_randers:
        raise MetricError(
            f"{name} must be a Randers metric (gg.Randers(base, omega)); received "
            f"{type(metric).__name__}. Wrap it: gg.Randers({name}, omega)."
        )
    if randers is False and is_randers:
        raise MetricError(
            f"{name} must be a Riemannian base metric, not a Randers metric; received "
            f"{metric!r}. Pass its base ({name}.base) instead."
        )
    if fused is True and not metric.fused:
        raise MetricError(
            f"{name} must have a compiled kernel (Euclidean, ConstantMetric, a centroid "
            f"cometric, ...); received {type(metric).__name__}, which is evaluated generically."
        )
    if dim is not None and metric.dim is not None and metric.dim != dim:
        raise MetricError(
            f"{name} is defined on R^{metric.dim} but the points have dimension {dim}; build "
            "the metric for the points' dimension (or encode the points with the metric's model)."
        )
    return metric


def check_bool(value, name):
    """True or False (numpy bools accepted; 0/1 and other truthy values refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be True or False; received {_describe(value)}.")
    return bool(value)


def check_quadrature(quadrature, name="quadrature"):
    """A quadrature option: None (the default, resolved when segments are integrated, so
    objects that store it keep "the default"), "adaptive", or an int in [1, 64] (that many
    Gauss-Legendre points per segment)."""
    if quadrature is None:
        return None
    if isinstance(quadrature, str):
        if quadrature.strip().lower() == ADAPTIVE:
            return ADAPTIVE
        raise InvalidInputError(
            f"{name} must be 'adaptive' or a number of Gauss-Legendre points in [1, 64]; "
            f"received {quadrature!r}."
        )
    return check_int(quadrature, name, low=1, high=64,
                     remedy="Use 'adaptive' (the default) for error-controlled node-shared "
                            "rules, or a number of Gauss-Legendre points per segment.")


def check_limit(limit, name="limit"):
    """A search radius: None or np.inf (scipy's default) mean no limit, else a float >= 0."""
    if limit is None or (isinstance(limit, (float, np.floating)) and limit == np.inf):
        return np.inf
    return check_float(limit, name, low=0.0)


def check_random_state(random_state, name="random_state"):
    """A numpy Generator from None, an int >= 0, a Generator or a legacy RandomState.

    A Generator is used as given (its state advances, as in scikit-learn); a RandomState
    seeds a new Generator from one draw.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(check_int(random_state, name, low=0))
    raise InvalidInputError(
        f"{name} must be None, an int >= 0, a numpy Generator or RandomState; received "
        f"{_describe(random_state)}. Pass an int for reproducible results."
    )


def check_seed(seed, name="seed"):
    """An int seed >= 0 (for torch generators, which take no numpy Generator)."""
    return check_int(seed, name, low=0, remedy="Pass a non-negative int, e.g. seed=0.")


def check_graph(graph, name="graph", dim=None):
    """A GeodesicGraph (of points in R^dim when given).

    Raises
    ------
    InvalidInputError
        When ``graph`` is not a GeodesicGraph or lives in another dimension.
    """
    from .graph import GeodesicGraph  # the graph imports this module: imported on use

    if not isinstance(graph, GeodesicGraph):
        raise InvalidInputError(
            f"{name} must be a graphgeo.GeodesicGraph; received {_describe(graph)}. Build one "
            "with gg.GeodesicGraph.build(points, metric, k=10), or load a saved one with "
            "gg.GeodesicGraph.load(path)."
        )
    if dim is not None and graph.dim != dim:
        raise InvalidInputError(
            f"{name} lives in R^{graph.dim} but the metric is defined on R^{dim}; build the "
            "graph over points of the metric's latent space."
        )
    return graph


def check_polyline(points, name="points", dim=None, min_rows=1):
    """The (m, d) vertices of one polyline, from an array-like or a Path / Curve (its .points)."""
    from .curves.path import Curve, Path

    if isinstance(points, (Path, Curve)):
        points = points.points
    return check_points(points, name, dim=dim, min_rows=min_rows)


def check_curves(curves, name="curves", dim=None, min_points=2):
    """A batch of polylines with the same number of points, as a (B, n, d) float64 array.

    ``curves``: one (n, d) array, a (B, n, d) array, or a sequence of (n, d) arrays.
    Returns ``(curves, was_single)``, ``was_single`` True for one (n, d) input.
    """
    if isinstance(curves, (list, tuple)) and len(curves) and hasattr(curves[0], "shape") \
            and np.ndim(curves[0]) == 2:
        lens = {np.shape(c)[0] for c in curves}
        if len(lens) > 1:
            raise InvalidInputError(
                f"{name} must all have the same number of points to be processed together; "
                f"received lengths {sorted(lens)[:5]}. Resample them first with "
                "gg.resample_polyline(curve, n_points)."
            )
    arr = as_array(curves, name)
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3:
        raise InvalidInputError(
            f"{name} must have shape (n_points, dim) or (n_curves, n_points, dim); received "
            f"{_describe(arr)}."
        )
    if arr.shape[1] < min_points:
        raise InvalidInputError(
            f"{name} must hold at least {min_points} points per curve; received {arr.shape[1]}."
        )
    if dim is not None and arr.shape[2] != dim:
        raise InvalidInputError(
            f"{name} has dimension {arr.shape[2]} but the metric is defined on R^{dim}; pass "
            "curves in the metric's latent space."
        )
    return np.ascontiguousarray(check_finite(arr, name)), single


def check_device(device, name="device", default=None):
    """A torch.device from None (``default``, else CPU), 'auto', 'cpu', 'cuda[:i]' or a torch.device.

    Raises
    ------
    MissingDependencyError
        When torch is not installed.
    InvalidInputError
        For any other value, or 'cuda' when torch sees no CUDA device.
    """
    from ._optional import require

    torch = require("torch", f"{name}= (torch computation)")
    if device is None:
        return torch.device(default) if default is not None else torch.device("cpu")
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, str) and (device == "cpu" or device.startswith("cuda")):
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise InvalidInputError(
                f"{name} is {device!r} but torch sees no CUDA device; pass {name}='cpu' or 'auto'."
            )
        return torch.device(device)
    raise InvalidInputError(
        f"{name} must be None, 'auto', 'cpu', 'cuda[:i]' or a torch.device; received "
        f"{_describe(device)}."
    )


def check_endpoints(g, x, name):
    """Sources or targets of a search on graph g: node indices (returned as an int64 array)
    or an Attachment of off-graph points made by g.attach (returned as is)."""
    from .attach import Attachment

    if isinstance(x, Attachment):
        if x.graph_id != id(g):
            raise InvalidInputError(
                f"{name} was attached to another graph; attach the points to this graph with "
                "g.attach(points)."
            )
        return x
    return check_nodes(x, g.n_nodes, name)


def check_pairs(src, dst, n):
    """Node index arrays src and dst of equal length (pair queries src[i] -> dst[i])."""
    src = check_nodes(src, n, "src")
    dst = check_nodes(dst, n, "dst")
    if src.shape != dst.shape:
        raise InvalidInputError(
            f"src and dst must have the same length; received {len(src)} and {len(dst)}."
        )
    return src, dst
