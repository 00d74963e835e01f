"""Metric families: Riemannian G(z) and Randers F(z, v) = |v|_G + <omega(z), v>."""

import numpy as np

from .base import Metric
from .basic import ConstantMetric, DiagonalField, Euclidean, FieldMetric
from .cometric import CentroidCometric, RHVAEMetric, VAECometric
from .conformal import ConformalMetric
from .pullback import ExpectedMetric, PullbackCometric, PullbackMetric, RBFPrecision
from .randers import CallableField, ConstantField, OneForm, Randers, RBFField

__all__ = [
    "Metric",
    "Euclidean",
    "ConstantMetric",
    "DiagonalField",
    "FieldMetric",
    "ConformalMetric",
    "CentroidCometric",
    "RHVAEMetric",
    "VAECometric",
    "Randers",
    "OneForm",
    "ConstantField",
    "RBFField",
    "CallableField",
    "PullbackMetric",
    "ExpectedMetric",
    "RBFPrecision",
    "PullbackCometric",
]

_BASES = {"Euclidean": Euclidean, "ConstantMetric": ConstantMetric,
          "ConformalMetric": ConformalMetric}
_FIELDS = {"ConstantField": lambda s: ConstantField(s["w"]),
           "RBFField": lambda s: RBFField(s["centers"], s["coefficients"], float(s["bandwidth"]),
                                          float(s["max_norm"]) if "max_norm" in s else None)}


def metric_to_arrays(metric, prefix="metric/"):
    """Flatten a metric into named arrays for .npz storage; {} when it holds callables."""
    state = metric._state()
    if state is None:
        return {}
    if isinstance(metric, Randers):
        bs, os_ = state
        out = _base_arrays(metric.base, bs, prefix + "base/")
        out[prefix + "omega/kind"] = np.array(type(metric.omega).__name__)
        out.update({prefix + "omega/" + k: v for k, v in os_.items()})
        out[prefix + "kind"] = np.array("Randers")
        out[prefix + "max_norm"] = np.array(np.nan if metric.max_norm is None else metric.max_norm)
        return out
    return _base_arrays(metric, state, prefix)


def _base_arrays(metric, state, prefix):
    kind = "CentroidCometric" if isinstance(metric, CentroidCometric) else type(metric).__name__
    out = {prefix + k: np.asarray(v) for k, v in state.items()}
    out[prefix + "kind"] = np.array(kind)
    return out


def metric_from_arrays(arrays, prefix="metric/"):
    """Inverse of :func:`metric_to_arrays`; None when nothing was stored."""
    key = prefix + "kind"
    if key not in arrays:
        return None
    kind = str(arrays[key])
    sub = {k[len(prefix):]: arrays[k] for k in arrays if k.startswith(prefix)}
    if kind == "Randers":
        base = metric_from_arrays(arrays, prefix + "base/")
        okind = str(sub["omega/kind"])
        ost = {k[len("omega/"):]: v for k, v in sub.items() if k.startswith("omega/")}
        mn = float(sub["max_norm"])
        return Randers(base, _FIELDS[okind](ost), None if np.isnan(mn) else mn)
    if kind == "CentroidCometric":
        return CentroidCometric.from_state(sub)
    return _BASES[kind].from_state(sub)
