"""The kernel record: how a metric describes itself to compiled kernels, as plain data.

Kernels never see metric objects; ``Metric.kernel_record()`` returns one frozen
``KernelRecord`` (or None for the families evaluated generically, through numpy or
torch callables), and ``graphgeo.costs`` dispatches on ``record.family``. Every field is
an int, a float or a (named) tuple of numpy arrays and scalars, so any backend can
consume it: the numba CPU kernels pass ``params`` through (the namedtuple's type selects
the family's leaf, see ``graphgeo.kernels.leaves``), a CUDA backend copies the arrays to
the device.
"""

from typing import NamedTuple

from ..kernels.leaves import (
    FAMILY_COMETRIC_DIAG,
    FAMILY_COMETRIC_FULL,
    FAMILY_CONFORMAL,
    FAMILY_CONSTANT,
    FAMILY_IDENTITY,
    OMEGA_CONSTANT,
    OMEGA_NONE,
    OMEGA_RBF,
    omega_params,
)

__all__ = ["KernelRecord", "FAMILY_IDENTITY", "FAMILY_CONSTANT", "FAMILY_COMETRIC_FULL",
           "FAMILY_COMETRIC_DIAG", "FAMILY_CONFORMAL", "OMEGA_NONE", "OMEGA_CONSTANT",
           "OMEGA_RBF", "no_form"]


class KernelRecord(NamedTuple):
    """What a compiled kernel needs to evaluate a metric.

    family : int
        ``FAMILY_*`` id: the leaf (v^T G v and |omega|^2_{G^-1} at a point) and, in
        ``graphgeo.costs``, the quadrature engine (node-shared adaptive rules for the
        centroid cometric layout, Gauss-Legendre bisection for the others).
    params : namedtuple of float64/int64 arrays and scalars
        The family's parameters (``graphgeo.kernels.leaves.*Params``).
    omega_kind : int
        ``OMEGA_NONE`` (Riemannian), ``OMEGA_CONSTANT`` or ``OMEGA_RBF``.
    omega_params : tuple
        ``(w, centers, W, inv_scale, qcut)``, fixed types whatever the kind (unused
        slots are empty arrays).
    max_norm : float
        > 0: omega is rescaled pointwise to |omega|_{G^-1} <= max_norm; -1.0: not
        rescaled (a violation of the Randers condition raises).
    """

    family: int
    params: tuple
    omega_kind: int
    omega_params: tuple
    max_norm: float

    @property
    def form(self):
        """(omega_kind, omega_params, max_norm), the 1-form argument of the kernels."""
        return self.omega_kind, self.omega_params, self.max_norm


def no_form(family, params, dim):
    """The record of a Riemannian metric (no 1-form)."""
    return KernelRecord(int(family), params, OMEGA_NONE, omega_params(dim), -1.0)
