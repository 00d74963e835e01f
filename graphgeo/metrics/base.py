"""The Metric interface shared by every family."""

import numpy as np

from .._backend import namespace
from .._validation import check_points
from ..exceptions import InvalidInputError, MetricError, NotSPDError
from .record import no_form

__all__ = ["Metric"]

# rows of quadrature points evaluated at once by the generic (non-fused) path
_GENERIC_CHUNK = 1 << 15


class Metric:
    """A Riemannian metric G(z) on R^d (Randers metrics add a 1-form, see ``Randers``).

    Subclasses provide ``_metric_tensor(z, xp)`` (batched G(z), numpy or torch)
    and, when they have a compiled kernel, ``_family_params()`` returning
    ``(family id, params)`` (see :mod:`graphgeo.metrics.record`).
    """

    #: G does not depend on z: one quadrature point integrates any segment exactly
    is_constant = False
    #: numerical name used by save/load; None when the metric cannot be saved
    family = None
    #: the dimension was not given: it is fixed by the first points the metric meets
    _infer_dim = False
    #: Randers metrics carry a 1-form omega (``effective_omega``, ``omega_norm``)
    has_one_form = False
    #: pointwise rescaling of omega (Randers); None: a violated Randers condition raises
    max_norm = None

    def __init__(self, dim):
        self.dim = None if dim is None else int(dim)

    def _check_dim(self, d, name="points"):
        """Fix an inferred dimension (``dim=None`` at construction) from the first points
        the metric meets, or check ``d`` against it; InvalidInputError on a mismatch."""
        d = int(d)
        if self.dim is None:
            self.dim = d
        elif d != self.dim:
            how = (" (inferred from the first points it met; pass dim= to fix it upfront)"
                   if self._infer_dim else "")
            raise InvalidInputError(
                f"{name} has dimension {d} but {type(self).__name__} is defined on "
                f"R^{self.dim}{how}. Pass points of dimension {self.dim}, or make a new "
                f"metric for dimension {d}."
            )
        return d

    def _dim_from(self, points, name="points"):
        """``dim``, fixed first from the last axis of ``points`` (array-like) when the metric
        was built without one; entry points call it before checking points against dim."""
        if self.dim is None:
            try:
                shape = np.shape(points)
            except ValueError:  # ragged input: left to the caller's validation
                return None
            if len(shape) >= 1 and shape[-1] > 0:
                self._check_dim(shape[-1], name)
        return self.dim

    # -- evaluation ---------------------------------------------------------
    def metric_tensor(self, z):
        """G(z) for a batch z of shape (n, d) (numpy or torch); returns (n, d, d)."""
        z = self._check_z(z)
        return self._metric_tensor(z, namespace(z))

    def cometric_tensor(self, z):
        """G^{-1}(z), shape (n, d, d)."""
        z = self._check_z(z)
        return self._cometric_tensor(z, namespace(z))

    def _cometric_tensor(self, z, xp):
        return xp.linalg.inv(self._metric_tensor(z, xp))

    def norm(self, z, v):
        """F(z, v) = sqrt(v^T G(z) v) for batches z, v of shape (n, d) (numpy or torch)."""
        z = self._check_z(z)
        v = self._check_z(v, "v")
        if v.shape[0] != z.shape[0]:
            raise InvalidInputError(
                f"v must hold one vector per point of z: z has {z.shape[0]} rows, v has "
                f"{v.shape[0]}; pass z and v as batches of the same length."
            )
        return self._norm(z, v, namespace(z))

    def _norm(self, z, v, xp):
        G = self._metric_tensor(z, xp)
        return xp.sqrt(xp.einsum("ni,nij,nj->n", v, G, v))

    def _check_z(self, z, name="z"):
        if namespace(z) is np:
            if not self._infer_dim:
                return check_points(z, name, dim=self.dim)
            z = check_points(np.reshape(z, (1, -1)) if np.ndim(z) == 1 else z, name)
            self._check_dim(z.shape[1], name)
            return z
        if z.ndim == 1:
            z = z[None, :]
        if z.ndim != 2 or (not self._infer_dim and z.shape[1] != self.dim):
            raise InvalidInputError(
                f"{name} must have shape (n, {self.dim}); received {tuple(z.shape)}."
            )
        if self._infer_dim:
            self._check_dim(z.shape[1], name)
        return z

    def check_domain(self, points, name):
        """Raise InvalidInputError naming ``name`` where checked (numpy) points lie outside
        the metric's domain; R^d (no check) unless a family restricts it."""

    def lower_bound(self):
        """A constant c > 0 with F(z, v) >= c |v| for all z, v, or None when unknown."""
        return None

    # -- compiled kernels ---------------------------------------------------
    def kernel_record(self):
        """The :class:`~graphgeo.metrics.record.KernelRecord` compiled kernels evaluate
        this metric from (plain arrays), or None when it is evaluated generically."""
        fp = self._family_params()
        if fp is None:
            return None
        return no_form(fp[0], fp[1], self.dim)

    def _family_params(self):
        """(family id, params namedtuple) of the fused kernels, or None."""
        return None

    @property
    def fused(self):
        return self._family_params() is not None

    # -- generic path -------------------------------------------------------
    def _segment_integrands(self, z, dv):
        """(sqrt(dv^T G dv), omega . dv, |omega|_{G^{-1}}) at points z along directions dv.

        Generic numpy evaluation in chunks, used by families without a fused kernel
        and as the reference the kernels are tested against.
        """
        G = self._metric_tensor(z, np)
        _check_spd_batch(G, z, type(self).__name__)
        r = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", dv, G, dv), 0.0))
        zero = np.zeros(len(z))
        return r, zero, zero

    # -- persistence ----------------------------------------------------------
    def _state(self):
        """Arrays that rebuild the metric with ``from_state``; None when not serialisable."""
        return None

    def __repr__(self):
        return f"{type(self).__name__}(dim={self.dim})"


def _check_spd_batch(G, z, name):
    finite = np.all(np.isfinite(G), axis=(1, 2))
    if not np.all(finite):
        bad = int(np.argmin(finite))
        raise MetricError(
            f"{name} returned a metric tensor with NaN or Inf entries at z = "
            f"{np.array2string(z[bad], precision=4)}; the metric must be finite everywhere "
            "the graph reaches."
        )
    try:
        np.linalg.cholesky(G)
    except np.linalg.LinAlgError:
        ev = np.linalg.eigvalsh(0.5 * (G + np.swapaxes(G, -1, -2)))[:, 0]
        bad = int(np.argmin(ev))
        raise NotSPDError(
            f"{name} returned a metric tensor that is not positive definite at z = "
            f"{np.array2string(z[bad], precision=4)} (smallest eigenvalue {ev[bad]:.3g}). "
            "A metric must be SPD everywhere the graph reaches; add a small multiple of the identity."
        ) from None


def generic_segment_costs(metric, a, b, tq, wq, max_norm=None):
    """Reference / generic integration of R, A along segments a -> b (numpy, chunked).

    Returns (R, A, worst) like the compiled drivers.
    """
    n, d = a.shape
    Q = len(tq)
    R = np.empty(n)
    A = np.empty(n)
    worst = np.zeros(n)
    step = max(1, _GENERIC_CHUNK // Q)
    for s in range(0, n, step):
        aa = a[s : s + step]
        dv = b[s : s + step] - aa
        m = len(aa)
        z = (aa[:, None, :] + tq[None, :, None] * dv[:, None, :]).reshape(m * Q, d)
        dvq = np.repeat(dv, Q, axis=0)
        r, ad, on = metric._segment_integrands(z, dvq)
        r = r.reshape(m, Q)
        ad = ad.reshape(m, Q)
        on = on.reshape(m, Q)
        if max_norm is not None:
            scale = np.where(on > max_norm, max_norm / np.where(on > 0, on, 1.0), 1.0)
            ad = ad * scale
        R[s : s + m] = r @ wq
        A[s : s + m] = ad @ wq
        worst[s : s + m] = on.max(axis=1)
    return R, A, worst
