"""Euclidean, constant, diagonal-field and generic field metrics."""

import numpy as np

from .._backend import eye_like, is_torch, like, to_numpy
from .._validation import as_array, check_int, check_spd
from ..exceptions import InvalidInputError, MetricError, NotSPDError
from ..kernels import leaves as _lv
from .base import Metric

__all__ = ["Euclidean", "ConstantMetric", "DiagonalField", "FieldMetric"]


class Euclidean(Metric):
    """G(z) = I on R^d."""

    is_constant = True
    family = "euclidean"

    def __init__(self, dim):
        super().__init__(check_int(dim, "dim", low=1))

    def _metric_tensor(self, z, xp):
        return xp.zeros_like(z)[:, :, None] + eye_like(self.dim, z)[None]

    def _cometric_tensor(self, z, xp):
        return self._metric_tensor(z, xp)

    def _norm(self, z, v, xp):
        return xp.sqrt(xp.einsum("ni,ni->n", v, v))

    def lower_bound(self):
        return 1.0

    def _family_params(self):
        return _lv.FAMILY_IDENTITY, _lv.IdentityParams(np.zeros(1))

    def _segment_integrands(self, z, dv):
        zero = np.zeros(len(z))
        return np.sqrt(np.einsum("ni,ni->n", dv, dv)), zero, zero

    def _state(self):
        return {"dim": np.array(self.dim)}

    @classmethod
    def from_state(cls, s):
        return cls(int(s["dim"]))


class ConstantMetric(Metric):
    """G(z) = A for a constant symmetric positive definite matrix A."""

    is_constant = True
    family = "constant"

    def __init__(self, A):
        A = as_array(A, "A")
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise MetricError(f"A must be a square (d, d) matrix; received shape {A.shape}.")
        self.A = check_spd(A, "A")
        self.A_inv = np.linalg.inv(self.A)
        super().__init__(A.shape[0])

    def _metric_tensor(self, z, xp):
        return xp.zeros_like(z)[:, :1, None] + like(self.A, z)[None]

    def _cometric_tensor(self, z, xp):
        return xp.zeros_like(z)[:, :1, None] + like(self.A_inv, z)[None]

    def _norm(self, z, v, xp):
        return xp.sqrt(xp.einsum("ni,ij,nj->n", v, like(self.A, z), v))

    def lower_bound(self):
        return float(np.sqrt(np.linalg.eigvalsh(self.A)[0]))

    def _family_params(self):
        return _lv.FAMILY_CONSTANT, _lv.ConstantParams(self.A, self.A_inv)

    def _state(self):
        return {"A": self.A}

    @classmethod
    def from_state(cls, s):
        return cls(s["A"])


class _CallableMixin:
    """Evaluate a user callable on numpy (fn) or torch (torch_fn, else fn on numpy)."""

    def _init_dim(self, dim):
        """dim=None: the dimension is inferred from the first points the metric meets."""
        if dim is None:
            self._infer_dim = True
            return None
        return check_int(dim, "dim", low=1)

    def _call(self, fn, torch_fn, z, n_tail, name):
        # every evaluation (also the cost integrands, which bypass _check_z) checks, or fixes,
        # the dimension of the points fn is called on
        self._check_dim(z.shape[1], "points")
        out_tail = (self.dim,) * n_tail
        if is_torch(z):
            if torch_fn is not None:
                out = torch_fn(z)
            else:
                out = like(np.asarray(fn(to_numpy(z).astype(np.float64))), z)
        else:
            out = np.asarray(fn(z), dtype=np.float64)
        shape = (z.shape[0],) + out_tail
        if tuple(out.shape) != shape:
            raise InvalidInputError(
                f"{name} must map points of shape (n, {self.dim}) to shape {shape}; "
                f"for n = {z.shape[0]} it returned shape {tuple(out.shape)}."
            )
        return out


class DiagonalField(Metric, _CallableMixin):
    """G(z) = diag(g(z)) with ``fn(z) -> (n, d)`` positive entries; O(d) per evaluation.

    ``dim`` (optional) is the dimension d; when None it is inferred from the first
    points the metric meets, and later points of another dimension raise
    InvalidInputError. ``torch_fn`` (optional) evaluates the same field on torch
    tensors, for refinement; without it torch inputs go through ``fn`` on numpy.
    """

    family = None

    def __init__(self, fn, dim=None, torch_fn=None):
        if not callable(fn):
            raise MetricError(f"fn must be callable z -> (n, d) diagonal entries; received {type(fn).__name__}.")
        super().__init__(self._init_dim(dim))
        self.fn = fn
        self.torch_fn = torch_fn

    def diagonal(self, z):
        g = self._call(self.fn, self.torch_fn, z, 1, "DiagonalField fn")
        return g

    def _metric_tensor(self, z, xp):
        g = self.diagonal(z)
        return g[:, :, None] * eye_like(self.dim, z)[None]

    def _norm(self, z, v, xp):
        return xp.sqrt(xp.einsum("ni,ni,ni->n", v, self.diagonal(z), v))

    def _segment_integrands(self, z, dv):
        g = self.diagonal(z)
        if not np.all(np.isfinite(g)):
            bad = int(np.argmin(np.all(np.isfinite(g), axis=1)))
            raise MetricError(
                f"DiagonalField fn returned NaN or Inf at z = {np.array2string(z[bad], precision=4)}; "
                "every diagonal entry must be finite and > 0."
            )
        if not np.all(g > 0):
            bad = int(np.argmin(np.min(g, axis=1)))
            raise NotSPDError(
                f"DiagonalField fn returned a non-positive entry {np.min(g[bad]):.3g} at z = "
                f"{np.array2string(z[bad], precision=4)}; every diagonal entry must be > 0."
            )
        zero = np.zeros(len(z))
        return np.sqrt(np.einsum("ni,ni,ni->n", dv, g, dv)), zero, zero


class FieldMetric(Metric, _CallableMixin):
    """Any batched metric field ``fn(z) -> G`` of shape (n, d, d), SPD everywhere.

    Evaluated in chunks through numpy (or ``torch_fn`` on torch tensors). ``dim``
    (optional) is the dimension d; when None it is inferred from the first points
    the metric meets (the graph's points, a curve, ``metric_tensor(z)``, a constant
    Randers omega), and later points of another dimension raise InvalidInputError.
    """

    def __init__(self, fn, dim=None, torch_fn=None):
        if not callable(fn):
            raise MetricError(f"fn must be callable z -> (n, d, d) metric tensors; received {type(fn).__name__}.")
        super().__init__(self._init_dim(dim))
        self.fn = fn
        self.torch_fn = torch_fn

    def _metric_tensor(self, z, xp):
        return self._call(self.fn, self.torch_fn, z, 2, "FieldMetric fn")
