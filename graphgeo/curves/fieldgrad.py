"""Gradients of numpy-only metric fields, so that refinement works without ``torch_fn``.

Refinement minimises the discrete energy in torch (:mod:`graphgeo.curves.refine`); its
gradient needs dG/dz of the metric field G(z) (and d omega/dz of a callable 1-form)
contracted with the segment vectors. A :class:`~graphgeo.FieldMetric`,
:class:`~graphgeo.DiagonalField` or :class:`~graphgeo.CallableField` built from a numpy
callable ``fn`` alone has no torch evaluation that tracks gradients. For those parts
this module builds a torch evaluation that does, choosing per field, fastest first:

``"torch_fn"``
    the ``torch_fn`` given when the field was built (autograd, exact);
``"torch"``
    ``fn`` itself accepts torch tensors and gradients flow through it (autograd, exact);
``"complex-step"``
    ``fn`` accepts complex input and is analytic there: d fn/dz_k = Im fn(z + i h e_k) / h
    with h = 1e-20 max(1, |z_k|), exact to machine precision (d extra evaluations of fn
    per point);
``"finite-differences"``
    central differences (fn(z + h e_k) - fn(z - h e_k)) / (2 h) with
    h = eps^(1/3) max(1, |z_k|) (rounded so that z +- h is exact), relative error about
    eps^(2/3) ~ 4e-11 (2 d extra evaluations of fn per point).

Built-in families (RHVAEMetric, RBFField, ...) are always differentiated by torch autograd
and reported as ``"torch"``.

The choice is checked, not guessed: "torch" and "complex-step" are accepted only when, at
a few probe points of the curves (segment midpoints), they reproduce fn's values (to 1e-12
relative) and a random vector-Jacobian product agrees with central differences (to 1e-6
relative). A function that passes the probe but is not analytic elsewhere (a branch on
the real part far from the curves) can still fool the complex step: pass
``gradient="finite-differences"`` to refinement to rule it out.

The "complex-step" and "finite-differences" modes wrap fn in a ``torch.autograd.Function``:
its forward calls fn on the (detached) points, its backward evaluates fn once on all the
shifted copies of all the points (in chunks of bounded memory) and returns the
contraction of the differentiated field with the incoming gradient (a vector-Jacobian
product). The L-BFGS solver is unchanged: it sees a differentiable torch metric.
"""

import copy
import warnings

import numpy as np

from .._backend import to_numpy
from .._optional import require
from ..exceptions import InvalidInputError, MetricError
from ..metrics import CallableField, DiagonalField, FieldMetric, Randers

__all__ = ["MODES", "GRADIENTS", "differentiable_metric", "central_difference_vjp",
           "complex_step_vjp", "adapters", "summarise", "probe_points"]

#: gradient modes, fastest (and most exact) first; "finite-differences" is the fallback
MODES = ("torch_fn", "torch", "complex-step", "finite-differences")
#: what refinement accepts as ``gradient=``
GRADIENTS = ("auto",) + MODES

_FEATURE = "curve refinement of a numpy metric field"
# float64 numbers held at once by one chunk of shifted points and their field values
_VJP_BUDGET = 1 << 22
_EPS = np.finfo(np.float64).eps
_FD_SCALE = _EPS ** (1.0 / 3.0)
_CS_SCALE = 1e-20
# probe tolerances: values of fn on torch / complex input vs fn on float64 input, and
# vector-Jacobian products vs central differences
_VALUE_RTOL = 1e-12
_VJP_RTOL = 1e-6
_N_PROBE = 4


# ---------------------------------------------------------------------------- numpy VJPs
def _steps(z, scale):
    return scale * np.maximum(1.0, np.abs(z))


def _eval(fn, Z, tail, dtype=np.float64, name="the field"):
    out = np.asarray(fn(Z))
    if out.shape != (len(Z),) + tail:
        raise InvalidInputError(
            f"{name} must map points of shape (n, {Z.shape[1]}) to shape (n,) + {tail}; for "
            f"n = {len(Z)} it returned shape {out.shape}."
        )
    return out if dtype is None else out.astype(dtype, copy=False)


def _chunk(m, d, T, budget):
    return max(1, min(m, budget // (2 * d * (d + T))))


def _vjp(z, g, tail, h, budget, derivative):
    """sum_t dfn_t/dz_k (z_p) g_pt, chunk by chunk: ``derivative(zc, hc, E)`` returns the
    (d, k, T) derivatives of fn at the chunk's points zc with steps hc, given the shifts
    E[j, p] = hc_pj e_j."""
    m, d = z.shape
    T = int(np.prod(tail, dtype=np.int64))
    G = np.reshape(g, (m, T))
    out = np.empty((m, d))
    step = _chunk(m, d, T, budget)
    eye = np.eye(d)
    for s in range(0, m, step):
        zc, hc = z[s : s + step], h[s : s + step]
        E = eye[:, None, :] * hc[None]  # (d, k, d)
        out[s : s + len(zc)] = np.einsum("jkt,kt->kj", derivative(zc, hc, E), G[s : s + len(zc)])
    return out


def central_difference_vjp(fn, z, g, tail, budget=_VJP_BUDGET):
    """sum_t dfn_t/dz_k (z_p) g_pt for points z (m, d) and cotangents g (m, *tail) -> (m, d).

    Central differences with h_k = eps^(1/3) max(1, |z_k|); fn is called once per chunk
    on all 2 d shifted copies of the chunk's points. Rows where fn is not finite at a
    shifted point are NaN.
    """
    d = z.shape[1]

    def derivative(zc, hc, E):
        k = len(zc)
        Z = np.concatenate([zc[None] + E, zc[None] - E]).reshape(2 * d * k, d)
        F = _eval(fn, Z, tail).reshape(2, d, k, -1)
        return (F[0] - F[1]) / (2.0 * hc.T[:, :, None])

    return _vjp(z, g, tail, (z + _steps(z, _FD_SCALE)) - z, budget, derivative)  # exact steps


def complex_step_vjp(fn, z, g, tail, budget=_VJP_BUDGET):
    """As :func:`central_difference_vjp` with the complex step Im fn(z + i h e_k) / h,
    h = 1e-20 max(1, |z_k|): d evaluations per point, exact to machine precision for
    functions analytic in z."""
    d = z.shape[1]

    def derivative(zc, hc, E):
        k = len(zc)
        F = _eval(fn, (zc[None] + 1j * E).reshape(d * k, d), tail, dtype=None)
        if not np.iscomplexobj(F):
            raise MetricError("the field returned real values for complex input")
        return F.imag.reshape(d, k, -1) / hc.T[:, :, None]

    return _vjp(z, g, tail, _steps(z, _CS_SCALE), budget, derivative)


_VJPS = {"complex-step": complex_step_vjp, "finite-differences": central_difference_vjp}


# ---------------------------------------------------------------------------- torch adapter
_FUNCTION = None


def _function():
    """The torch.autograd.Function of numpy fields (built once, torch imported lazily)."""
    global _FUNCTION
    if _FUNCTION is None:
        torch = require("torch", _FEATURE)
        from torch.autograd.function import once_differentiable

        class NumpyField(torch.autograd.Function):
            @staticmethod
            def forward(ctx, z, field):
                zn = z.detach().cpu().numpy().astype(np.float64, copy=False)
                ctx.zn, ctx.field = zn, field
                with np.errstate(all="ignore"):  # NaN outside the domain: the line search backs off
                    out = _eval(field.fn, zn, field.tail, name=field.name)
                return torch.as_tensor(out, dtype=z.dtype, device=z.device)

            @staticmethod
            @once_differentiable
            def backward(ctx, grad):
                return torch.as_tensor(ctx.field.vjp(ctx.zn, to_numpy(grad)), dtype=grad.dtype,
                                       device=grad.device), None

        _FUNCTION = NumpyField
    return _FUNCTION


class _Differentiated:
    """A numpy field fn with a torch evaluation whose backward is a numpy VJP."""

    def __init__(self, fn, tail, mode, name):
        self.fn, self.tail, self.mode, self.name = fn, tail, mode, name
        #: a point where fn was finite but its derivative was not (set by vjp)
        self.nonfinite_at = None

    def vjp(self, z, g):
        with np.errstate(all="ignore"):
            out = _VJPS[self.mode](self.fn, z, g, self.tail)
        bad = ~np.all(np.isfinite(out), axis=1) & np.all(np.isfinite(np.reshape(g, (len(z), -1))), axis=1)
        if self.nonfinite_at is None and bad.any():
            self.nonfinite_at = z[int(np.argmax(bad))].copy()
        return out

    def __call__(self, z):
        return _function().apply(z, self)


# ---------------------------------------------------------------------------- mode choice
def _close(a, b, rtol, atol=0.0):
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.all(np.isfinite(a)) and np.linalg.norm(a - b) <= rtol * np.linalg.norm(b) + atol)


def _try_torch(fn, probe, tail, ref, cot, ref_vjp, dev):
    torch = require("torch", _FEATURE)
    zt = torch.tensor(probe, dtype=torch.float64, device=dev, requires_grad=True)
    out = fn(zt)
    if not torch.is_tensor(out):
        return f"it returned {type(out).__name__}, not a torch tensor"
    if out.dtype != torch.float64 or tuple(out.shape) != (len(probe),) + tail:
        return f"it returned a {out.dtype} tensor of shape {tuple(out.shape)}"
    if not out.requires_grad:
        return "no gradient flows through it"
    if not _close(to_numpy(out), ref, _VALUE_RTOL):
        return "its values differ from those on numpy input"
    (gz,) = torch.autograd.grad(out, zt, torch.as_tensor(cot, device=dev))
    if not _close(to_numpy(gz), ref_vjp, _VJP_RTOL, _vjp_atol(ref, cot)):
        return "its torch gradient disagrees with central differences"
    return None


def _try_complex(fn, probe, tail, ref, cot, ref_vjp):
    val = np.asarray(fn(probe + 0j))
    if not np.iscomplexobj(val) or val.shape != ref.shape:
        return f"it returned {val.dtype} values of shape {val.shape} for complex input"
    if not _close(val.real, ref, _VALUE_RTOL):
        return "its values differ from those on real input"
    if not _close(complex_step_vjp(fn, probe, cot, tail), ref_vjp, _VJP_RTOL, _vjp_atol(ref, cot)):
        return "its complex-step derivative disagrees with central differences"
    return None


def _vjp_atol(ref, cot):
    """Absolute floor of the VJP comparison: far above the rounding noise of central
    differences (about eps^(2/3) |fn| |cot| per unit of z), far below a wrong derivative."""
    return 1e-8 * np.linalg.norm(cot) * float(np.abs(ref).max())


def _probe(fn, torch_fn, tail, probe, dev, requested, name):
    """The gradient mode of one numpy field: ``requested`` checked, or the first that works."""
    if requested == "torch_fn" or (requested == "auto" and torch_fn is not None):
        if torch_fn is None:
            raise MetricError(f"gradient='torch_fn' but {name} was built without torch_fn.")
        return "torch_fn", torch_fn
    if requested == "finite-differences":
        return requested, _Differentiated(fn, tail, requested, name)
    with np.errstate(all="ignore"):
        ref = _eval(fn, probe, tail, name=name)
    if not np.all(np.isfinite(ref)):
        bad = int(np.argmin(np.all(np.isfinite(ref.reshape(len(probe), -1)), axis=1)))
        raise MetricError(
            f"{name} returned NaN or Inf at z = {np.array2string(probe[bad], precision=4)} (a "
            "point of the curve to refine); the field must be finite along the curves."
        )
    cot = np.random.default_rng(0).normal(size=ref.shape)
    with np.errstate(all="ignore"):
        ref_vjp = central_difference_vjp(fn, probe, cot, tail)
    candidates = ("torch", "complex-step") if requested == "auto" else (requested,)
    for mode in candidates:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                why = (_try_torch(fn, probe, tail, ref, cot, ref_vjp, dev) if mode == "torch"
                       else _try_complex(fn, probe, tail, ref, cot, ref_vjp))
        except Exception as exc:  # noqa: BLE001 - probing an arbitrary user callable
            why = f"it raised {type(exc).__name__}: {str(exc).rstrip('.')}"
        if why is None:
            return mode, (fn if mode == "torch" else _Differentiated(fn, tail, mode, name))
        if requested != "auto":
            on = ("a float64 torch tensor with requires_grad" if mode == "torch"
                  else "complex input")
            raise MetricError(
                f"gradient={requested!r}: {name} cannot be differentiated that way: called on "
                f"{on} at points of the curves, {why}. Use gradient='auto' or "
                "'finite-differences' (or pass torch_fn= when building the field)."
            )
    return "finite-differences", _Differentiated(fn, tail, "finite-differences", name)


def _parts(metric):
    """(label, object) of the metric parts that may hold a numpy callable."""
    if isinstance(metric, Randers):
        return [("base", metric.base), ("omega", metric.omega)]
    return [("metric", metric)]


def _tail(part, d):
    if isinstance(part, FieldMetric):
        return (d, d)
    return (d,)  # DiagonalField, CallableField


def differentiable_metric(metric, probe, gradient="auto", device=None):
    """A copy of ``metric`` whose torch evaluation is differentiable, and the modes used.

    Parameters
    ----------
    metric : graphgeo Metric (the caller's object is not modified)
    probe : (p, d) float64 points where the field is defined (midpoints of the curves)
    gradient : "auto" or one of :data:`MODES` for the numpy fields (see the module notes)
    device : torch.device of the refinement

    Returns
    -------
    (metric', modes) with modes a dict part -> mode; parts are "metric", or "base" and
    "omega" for a Randers metric. Built-in families are reported as "torch".

    Raises
    ------
    MetricError when a requested mode does not work for a field, or a field is not finite
    at the probe points.
    """
    d = metric.dim
    modes, replaced = {}, {}
    for label, part in _parts(metric):
        if not isinstance(part, (FieldMetric, DiagonalField, CallableField)):
            modes[label] = "torch"
            continue
        name = f"{type(part).__name__} fn" if label != "omega" else "omega callable (CallableField)"
        mode, torch_fn = _probe(part.fn, part.torch_fn, _tail(part, d), probe, device, gradient,
                                name)
        modes[label] = mode
        if torch_fn is not part.torch_fn:
            new = copy.copy(part)
            new.torch_fn = torch_fn
            replaced[label] = new
    if not replaced:
        return metric, modes
    if "metric" in replaced:
        return replaced["metric"], modes
    out = copy.copy(metric)
    out.base = replaced.get("base", metric.base)
    out.omega = replaced.get("omega", metric.omega)
    return out, modes


def adapters(metric):
    """The numpy-field adapters inside a metric returned by :func:`differentiable_metric`."""
    return [p.torch_fn for _, p in _parts(metric)
            if isinstance(getattr(p, "torch_fn", None), _Differentiated)]


def summarise(modes):
    """One mode for the whole metric: the least exact of its parts (order of MODES)."""
    if not modes:
        return None
    return max(modes.values(), key=MODES.index)


def probe_points(X, count=_N_PROBE):
    """Up to ``count`` segment midpoints spread over curves X (B, n, d)."""
    mid = (0.5 * (X[:, 1:] + X[:, :-1])).reshape(-1, X.shape[-1])
    idx = np.unique(np.linspace(0, len(mid) - 1, min(count, len(mid))).round().astype(int))
    return np.ascontiguousarray(mid[idx])
