"""The discrete Finsler energy of curves in torch, shared by both refinement solvers.

A curve is n points z_0, ..., z_{n-1}. Each segment costs

    c_k = sum_q w_q F(z_k + t_q dz_k, dz_k),      dz_k = z_{k+1} - z_k

(Gauss-Legendre nodes t_q, weights w_q on [0, 1]; F = metric.norm, Randers included) and
the discrete energy is E = (n - 1) sum_k c_k^2. :mod:`graphgeo.curves.refine` (the point
solver) and :mod:`graphgeo.curves.neural` (the MLP baseline) both minimise it; this module
imports neither, so they do not import each other.
"""

from .._optional import require
from .._validation import check_device
from ..costs import gauss_legendre

__all__ = ["segment_costs_torch", "energy_torch", "torch_device", "quadrature_torch"]


def torch_device(device, metric):
    """The torch.device to refine on: ``device`` checked, None meaning the metric's device
    (a torch-backed metric or Randers base may carry one), else the CPU."""
    default = getattr(metric, "device", None) or getattr(getattr(metric, "base", None), "device", None)
    return check_device(device, "device", default=default)


def quadrature_torch(quadrature, dev):
    """Gauss-Legendre nodes and weights on [0, 1] as float64 tensors on ``dev``."""
    torch = require("torch", "curve refinement")
    tq, wq = gauss_legendre(quadrature)
    return (torch.as_tensor(tq, dtype=torch.float64, device=dev),
            torch.as_tensor(wq, dtype=torch.float64, device=dev))


def segment_costs_torch(metric, z, tq, wq):
    """Differentiable segment costs c_k of curves z (B, n, d) -> (B, n-1) (torch).

    Families with a cheaper differentiable cost provide ``_torch_segment_costs(z, tq, wq)``
    (PullbackMetric: chord lengths of decoder outputs, no Jacobian).
    """
    fast = getattr(metric, "_torch_segment_costs", None)
    if fast is not None:
        return fast(z, tq, wq)
    B, n, d = z.shape
    dz = z[:, 1:] - z[:, :-1]
    Q = len(tq)
    zq = z[:, :-1, None, :] + tq[None, None, :, None] * dz[:, :, None, :]
    v = dz[:, :, None, :].expand(B, n - 1, Q, d)
    F = metric.norm(zq.reshape(-1, d), v.reshape(-1, d)).reshape(B, n - 1, Q)
    return F @ wq


def energy_torch(metric, z, tq, wq):
    """Discrete energies (n - 1) sum_k c_k^2 of curves z (B, n, d) -> (B,) (torch)."""
    c = segment_costs_torch(metric, z, tq, wq)
    return (z.shape[1] - 1) * (c * c).sum(dim=1)
