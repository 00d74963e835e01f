"""Conformal metrics G(z) = c(z) I: lengths are Euclidean lengths weighted by sqrt(c).

Built-in factors (closed form, fused kernels):

* ``"halfplane"``: the hyperbolic upper half-plane / half-space, c(z) = 1 / z_d^2 on
  {z_d > 0} (curvature -1); d((x1, y1), (x2, y2)) = arccosh(1 + |z2 - z1|^2 / (2 y1 y2)).
* ``"poincare"``: the Poincare ball, c(z) = 4 / (1 - |z|^2)^2 on {|z| < 1} (curvature -1);
  the distance from the origin to radius r is 2 artanh(r).

Both domains are convex, so a segment between two points of the domain stays in it.
Neither factor has a positive lower bound (c -> 0 as z_d -> inf, and c >= 4 in the ball
but the half-plane has none): ``lower_bound`` returns 4^(1/2) = 2 for the ball, None for the
half-plane. A callable ``kind`` c(z) -> (n,) positive is evaluated generically (numpy; torch
through ``torch_fn`` when given).
"""

import numpy as np

from .._backend import eye_like, is_torch, like, namespace, to_numpy
from .._validation import check_int
from ..exceptions import InvalidInputError, MetricError, NotSPDError
from ..kernels import leaves as _lv
from .base import Metric

__all__ = ["ConformalMetric"]

_KINDS = {"halfplane": _lv.CONFORMAL_HALFPLANE, "poincare": _lv.CONFORMAL_POINCARE}


class ConformalMetric(Metric):
    """G(z) = c(z) I.

    Parameters
    ----------
    kind : "halfplane", "poincare" or a callable c(z) -> (n,) positive values
    dim : int >= 1 (>= 2 for "halfplane" is not required: dim 1 is the half-line)
    torch_fn : optional torch version of a callable kind (refinement)

    Raises
    ------
    MetricError
        For an unknown kind.
    InvalidInputError
        When points are outside the domain (z_d <= 0 for "halfplane", |z| >= 1 for
        "poincare"); the message names the parameter that holds them.
    """

    family = "conformal"

    def __init__(self, kind, dim, torch_fn=None):
        super().__init__(check_int(dim, "dim", low=1))
        if callable(kind):
            self.kind = kind
            self._kind_id = None
        elif isinstance(kind, str) and kind.strip().lower() in _KINDS:
            self.kind = kind.strip().lower()
            self._kind_id = _KINDS[self.kind]
        else:
            raise MetricError(
                f"kind must be one of {sorted(_KINDS)} or a callable z -> c(z) of shape (n,); "
                f"received {kind!r}."
            )
        self.torch_fn = torch_fn

    # -- evaluation ---------------------------------------------------------
    def factor(self, z):
        """c(z), shape (n,) (numpy or torch)."""
        z = self._check_z(z)
        return self._factor(z, namespace(z))

    def _factor(self, z, xp):
        if self.kind == "halfplane":
            return 1.0 / (z[:, -1] * z[:, -1])
        if self.kind == "poincare":
            u = 1.0 - xp.sum(z * z, axis=1) if xp is np else 1.0 - (z * z).sum(dim=1)
            return 4.0 / (u * u)
        if is_torch(z):
            if self.torch_fn is not None:
                c = self.torch_fn(z)
            else:
                c = like(np.asarray(self.kind(to_numpy(z).astype(np.float64)), dtype=np.float64), z)
        else:
            c = np.asarray(self.kind(z), dtype=np.float64)
        if tuple(c.shape) != (z.shape[0],):
            raise InvalidInputError(
                f"the conformal factor kind must map points of shape (n, {self.dim}) to shape "
                f"(n,); for n = {z.shape[0]} it returned shape {tuple(c.shape)}."
            )
        return c

    def _metric_tensor(self, z, xp):
        return self._factor(z, xp)[:, None, None] * eye_like(self.dim, z)[None]

    def _cometric_tensor(self, z, xp):
        return (1.0 / self._factor(z, xp))[:, None, None] * eye_like(self.dim, z)[None]

    def _norm(self, z, v, xp):
        return xp.sqrt(self._factor(z, xp) * xp.einsum("ni,ni->n", v, v))

    def _check_z(self, z, name="z"):
        z = super()._check_z(z, name)
        if namespace(z) is np and name == "z":
            self.check_domain(z, name)
        return z

    def check_domain(self, points, name):
        if self.kind == "halfplane":
            bad = ~(points[:, -1] > 0.0)
            what = f"the last coordinate must be > 0 (upper half-{'plane' if self.dim == 2 else 'space'})"
        elif self.kind == "poincare":
            bad = ~(np.einsum("ni,ni->n", points, points) < 1.0)
            what = "every point must have norm < 1 (open unit ball)"
        else:
            return
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                f"{name} has {int(bad.sum())} point(s) outside the domain of the {self.kind} "
                f"metric: {what}; {name}[{i}] = {np.array2string(points[i], precision=4)}. "
                "Map the points into the domain (or drop them) before building the graph."
            )

    def lower_bound(self):
        # the ball: c = 4 / (1 - |z|^2)^2 >= 4; the half-plane has no positive bound
        return 2.0 if self.kind == "poincare" else None

    # -- kernels ------------------------------------------------------------
    def _family_params(self):
        if self._kind_id is None:
            return None
        return _lv.FAMILY_CONFORMAL, _lv.ConformalParams(self._kind_id, np.zeros(1))

    def _segment_integrands(self, z, dv):
        c = self._factor(z, np)
        if not np.all(np.isfinite(c)) or not np.all(c > 0):
            ok = np.isfinite(c) & (c > 0)
            bad = int(np.argmin(ok))
            raise NotSPDError(
                f"the conformal factor is not finite and positive at z = "
                f"{np.array2string(z[bad], precision=4)} (c = {c[bad]:.3g}); c(z) must be > 0 "
                "everywhere the graph reaches."
            )
        zero = np.zeros(len(z))
        return np.sqrt(c * np.einsum("ni,ni->n", dv, dv)), zero, zero

    # -- persistence --------------------------------------------------------
    def _state(self):
        if self._kind_id is None:
            return None
        return {"conformal_kind": np.array(self.kind), "dim": np.array(self.dim)}

    @classmethod
    def from_state(cls, s):
        return cls(str(s["conformal_kind"]), int(s["dim"]))

    def __repr__(self):
        kind = self.kind if isinstance(self.kind, str) else "callable"
        return f"ConformalMetric(kind={kind!r}, dim={self.dim})"
