"""Randers metrics F(z, v) = sqrt(v^T G(z) v) + <omega(z), v> and their 1-forms.

The Randers condition |omega(z)|_{G^{-1}(z)} < 1 keeps F positive for v != 0.
``Randers`` enforces it wherever it evaluates omega: by default a violation
raises :class:`RandersConditionError`; with ``max_norm`` in (0, 1) omega is
rescaled pointwise,

    omega'(z) = omega(z) * min(1, max_norm / |omega(z)|_{G^{-1}(z)}),

so |omega'|_{G^{-1}} <= max_norm < 1 everywhere (omega is left unchanged where
the condition already holds with that margin). A 1-form may carry its own cap
(``field.max_norm``: the fields learned by :func:`graphgeo.learn.fit_randers` do);
``Randers(base, field)`` then applies it, so a learned field satisfies the
condition everywhere, between its training points too.
"""

import numpy as np

from .._backend import is_torch, like, namespace, to_numpy
from .._validation import as_array, check_finite, check_float, check_metric, check_points
from ..exceptions import InvalidInputError, MetricError, RandersConditionError
from ..kernels import leaves as _lv
from .record import KernelRecord
from .base import Metric

__all__ = ["Randers", "ConstantField", "RBFField", "CallableField"]


class OneForm:
    """A 1-form field omega: R^d -> R^d."""

    dim = None
    #: None, or a cap on |omega|_{G^{-1}} in (0, 1) that Randers(base, field) applies
    #: (the pointwise rescaling of the module notes) when given no max_norm of its own
    max_norm = None

    def __call__(self, z):
        """omega(z) for z of shape (n, d), numpy or torch."""
        return self._eval(z, namespace(z))

    def _form_params(self):
        """(omega kind, omega params) of the fused kernels, or None."""
        return None


class ConstantField(OneForm):
    """omega(z) = w for every z (an exact 1-form: it changes costs, never geodesics)."""

    def __init__(self, w):
        w = check_finite(as_array(w, "omega"), "omega")
        if w.ndim != 1:
            raise InvalidInputError(f"a constant omega must have shape (d,); received shape {w.shape}.")
        self.w = w
        self.dim = w.shape[0]

    def _eval(self, z, xp):
        return xp.zeros_like(z) + like(self.w, z)[None]

    def _form_params(self):
        return _lv.OMEGA_CONSTANT, _lv.omega_params(self.dim, w=self.w)

    def _state(self):
        return {"w": self.w}


class RBFField(OneForm):
    """omega(z) = sum_k exp(-|z - c_k|^2 / (2 bandwidth^2)) W_k (Gaussian RBF expansion).

    Build it from coefficients, or interpolate values at points with :meth:`fit`.
    ``max_norm`` (optional, in (0, 1)) is the cap ``Randers(base, field)`` applies to
    |omega|_{G^{-1}} pointwise when it is given no max_norm itself: a Gaussian RBF
    interpolant can overshoot its values between the points, the cap holds everywhere.
    """

    def __init__(self, centers, coefficients, bandwidth, max_norm=None):
        c = check_points(centers, "centers")
        W = check_finite(as_array(coefficients, "coefficients"), "coefficients")
        if W.shape != c.shape:
            raise InvalidInputError(
                f"coefficients must have the shape of centers {c.shape}; received {W.shape}."
            )
        self.centers = c
        self.coefficients = W
        self.bandwidth = check_float(bandwidth, "bandwidth", low=0.0, low_open=True)
        self.max_norm = None if max_norm is None else check_float(
            max_norm, "max_norm", low=0.0, high=1.0, low_open=True, high_open=True)
        self.dim = c.shape[1]
        # skipped terms add at most sum|W| exp(-qcut) = 1e-17 to |omega|
        total = float(np.abs(W).sum()) + 1e-300
        self._qcut = max(np.log(total / 1e-17), 0.0)

    @classmethod
    def fit(cls, points, values, bandwidth=None, ridge=1e-8, max_norm=None):
        """Interpolate ``values`` (n, d) given at ``points`` (n, d).

        Solves (Phi + ridge * n * I) W = values with Phi_ij = exp(-|p_i - p_j|^2 / (2 h^2)).
        ``bandwidth`` defaults to twice the median nearest-neighbour distance;
        ``max_norm`` is stored on the field (see the class notes).
        """
        from scipy.spatial import cKDTree

        p = check_points(points, "points", min_rows=1)
        v = check_finite(as_array(values, "values"), "values")
        if v.shape != p.shape:
            raise InvalidInputError(f"values must have the shape of points {p.shape}; received {v.shape}.")
        if bandwidth is None:
            if len(p) < 2:
                raise InvalidInputError("bandwidth is needed when fitting from a single point.")
            dist, _ = cKDTree(p).query(p, k=2)
            bandwidth = 2.0 * float(np.median(dist[:, 1]))
            if bandwidth <= 0:
                raise InvalidInputError("points has many duplicates; pass bandwidth explicitly.")
        h = check_float(bandwidth, "bandwidth", low=0.0, low_open=True)
        sq = np.sum(p * p, axis=1)
        D2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * p @ p.T, 0.0)
        Phi = np.exp(-D2 / (2 * h * h))
        Phi[np.diag_indices_from(Phi)] += ridge * len(p)
        W = np.linalg.solve(Phi, v)
        return cls(p, W, h, max_norm=max_norm)

    def _eval(self, z, xp):
        c = like(self.centers, z)
        diff = z[:, None, :] - c[None]
        w = xp.exp(-xp.einsum("nki,nki->nk", diff, diff) / (2 * self.bandwidth**2))
        return w @ like(self.coefficients, z)

    def _form_params(self):
        return _lv.OMEGA_RBF, _lv.omega_params(
            self.dim, centers=self.centers, W=self.coefficients,
            inv_scale=1.0 / (2 * self.bandwidth**2), qcut=self._qcut)

    def _state(self):
        state = {"centers": self.centers, "coefficients": self.coefficients,
                 "bandwidth": np.array(self.bandwidth)}
        if self.max_norm is not None:
            state["max_norm"] = np.array(self.max_norm)
        return state


class CallableField(OneForm):
    """omega given by a callable (n, d) -> (n, d); ``torch_fn`` for torch inputs (optional)."""

    def __init__(self, fn, dim, torch_fn=None):
        if not callable(fn):
            raise InvalidInputError(f"omega must be callable; received {type(fn).__name__}.")
        self.fn = fn
        self.torch_fn = torch_fn
        self.dim = None if dim is None else int(dim)  # None: that of the points it is called on

    def _eval(self, z, xp):
        if is_torch(z):
            out = self.torch_fn(z) if self.torch_fn is not None else like(
                np.asarray(self.fn(to_numpy(z).astype(np.float64))), z)
        else:
            out = np.asarray(self.fn(z), dtype=np.float64)
        if tuple(out.shape) != tuple(z.shape):
            raise InvalidInputError(
                f"omega callable must map shape (n, {z.shape[1]}) to (n, {z.shape[1]}); "
                f"returned shape {tuple(out.shape)} for input {tuple(z.shape)}."
            )
        if not is_torch(out) and not np.all(np.isfinite(out)):
            bad = int(np.argmin(np.all(np.isfinite(out), axis=1)))
            raise MetricError(
                f"omega callable returned NaN or Inf at z = {np.array2string(to_numpy(z)[bad], precision=4)}; "
                "omega must be finite everywhere the graph reaches."
            )
        return out


def as_one_form(omega, dim):
    if isinstance(omega, OneForm):
        field = omega
    elif callable(omega):
        field = CallableField(omega, dim)
    else:
        field = ConstantField(omega)
    if field.dim is not None and dim is not None and field.dim != dim:
        raise MetricError(
            f"omega has dimension {field.dim} but the base metric is on R^{dim}; they must match."
        )
    return field


class Randers(Metric):
    """F(z, v) = sqrt(v^T G(z) v) + <omega(z), v>: an asymmetric (Finsler) metric.

    Parameters
    ----------
    base : Metric
        The Riemannian part G.
    omega : array (d,), OneForm (ConstantField, RBFField, CallableField) or callable
    max_norm : None or float in (0, 1)
        A float: omega is rescaled pointwise so that |omega|_{G^{-1}} <= max_norm.
        None: the field's own ``omega.max_norm`` when it carries one (the fields
        learned by fit_randers do); otherwise a point with |omega|_{G^{-1}} >= 1
        raises RandersConditionError.

    Costs are direction-aware: F(z, -v) = sqrt(v^T G v) - <omega, v>.
    """

    has_one_form = True

    def __init__(self, base, omega, max_norm=None):
        if not isinstance(base, Metric):  # a MetricError here (the metric's own parameter)
            raise MetricError(
                f"base must be a Riemannian graphgeo metric (Euclidean, RHVAEMetric, ...); "
                f"received {type(base).__name__}."
            )
        check_metric(base, "base", randers=False)
        self.base = base
        self.omega = as_one_form(omega, base.dim)
        if base.dim is None and self.omega.dim is not None:
            base._check_dim(self.omega.dim, "omega")  # FieldMetric(fn) without dim: omega's
        if max_norm is None:  # a learned field carries its cap
            max_norm = getattr(self.omega, "max_norm", None)
        self.max_norm = None if max_norm is None else check_float(
            max_norm, "max_norm", low=0.0, high=1.0, low_open=True, high_open=True)
        super().__init__(base.dim)
        self.is_constant = base.is_constant and isinstance(self.omega, ConstantField)

    @property
    def dim(self):
        """The base metric's dimension (None while a FieldMetric(fn) base has met no points)."""
        return self.base.dim

    @dim.setter
    def dim(self, d):  # Metric.__init__, or a dimension inferred from points: the base's
        if d is not None:
            self.base._check_dim(d)

    @property
    def _infer_dim(self):
        return self.base._infer_dim

    def _metric_tensor(self, z, xp):
        return self.base._metric_tensor(z, xp)

    def _cometric_tensor(self, z, xp):
        return self.base._cometric_tensor(z, xp)

    def check_domain(self, points, name):
        self.base.check_domain(points, name)

    def omega_norm(self, z):
        """|omega(z)|_{G^{-1}(z)} before any rescaling, shape (n,)."""
        z = self._check_z(z)
        xp = namespace(z)
        om = self.omega(z)
        C = self.base._cometric_tensor(z, xp)
        return xp.sqrt(xp.einsum("ni,nij,nj->n", om, C, om))

    def effective_omega(self, z):
        """omega after the pointwise rescaling (equal to omega when max_norm is None)."""
        z = self._check_z(z)
        om = self.omega(z)
        if self.max_norm is None:
            return om
        xp = namespace(z)
        C = self.base._cometric_tensor(z, xp)
        n2 = xp.einsum("ni,nij,nj->n", om, C, om)
        # scale = min(1, max_norm / |omega|), written so that no sqrt is taken at |omega| <= max_norm:
        # with torch, sqrt'(0) = inf would turn the gradient at a zero of omega into NaN
        m2 = self.max_norm * self.max_norm
        big = n2 > m2
        scale = self.max_norm / xp.sqrt(xp.where(big, n2, m2 + 0 * n2))
        return om * xp.where(big, scale, 1.0 + 0 * n2)[:, None]

    def _norm(self, z, v, xp):
        om = self.effective_omega(z)
        return self.base._norm(z, v, xp) + xp.einsum("ni,ni->n", om, v)

    def check(self, z):
        """Raise RandersConditionError if |omega|_{G^{-1}} >= 1 at any of the points z (n, d)."""
        if self.max_norm is not None:
            return
        nrm = to_numpy(self.omega_norm(z))
        worst = int(np.argmax(nrm))
        if nrm[worst] >= 1.0:
            raise_randers(nrm[worst], to_numpy(z)[worst])

    def lower_bound(self):
        """(1 - max_norm) c_base when omega is rescaled: F >= (1 - |omega|_{G^-1}) |v|_G."""
        base = self.base.lower_bound()
        if self.max_norm is None or base is None:
            return None
        return (1.0 - self.max_norm) * base

    def _family_params(self):
        if self.omega._form_params() is None:
            return None
        return self.base._family_params()

    def kernel_record(self):
        """The base's record with this 1-form and max_norm; None when either is generic."""
        fp = self._family_params()
        if fp is None:
            return None
        okind, oparams = self.omega._form_params()
        return KernelRecord(int(fp[0]), fp[1], int(okind), oparams,
                            -1.0 if self.max_norm is None else float(self.max_norm))

    def _segment_integrands(self, z, dv):
        r, _, _ = self.base._segment_integrands(z, dv)
        om = self.omega(z)
        C = self.base._cometric_tensor(z, np)
        on = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", om, C, om), 0.0))
        return r, np.einsum("ni,ni->n", om, dv), on

    def _state(self):
        bs = self.base._state()
        os_ = self.omega._state() if hasattr(self.omega, "_state") else None
        if bs is None or os_ is None:
            return None
        return bs, os_

    def __repr__(self):
        return f"Randers({self.base!r}, omega={type(self.omega).__name__}, max_norm={self.max_norm})"


def raise_randers(norm, z, where=""):
    raise RandersConditionError(
        f"omega violates the Randers condition |omega(z)|_(G^-1(z)) < 1: norm {norm:.6g} at "
        f"z = {np.array2string(np.asarray(z), precision=4)}{where}. Scale omega down (for instance "
        f"by 0.9 / {norm:.4g}), or pass max_norm=0.9 to Randers to rescale it pointwise."
    )
