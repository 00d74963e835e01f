"""The curve side: from a graph path to a smooth, refined geodesic.

Modules, in the order of the pipeline (each imports only those above it):

    path        Path (a graph shortest path) and Curve (the pipeline's result): plain data
    smoothing   shortcut (any-angle, exact on the path's DAG), spline, resample_polyline
    energy      the discrete Finsler energy in torch, shared by both solvers
    neural      the neural-curve baseline (an MLP t -> z(t) per curve)
    refine      batched L-BFGS on the energy (never lengthens a curve); RefineResult
    pipeline    geodesic / geodesics: graph path -> shortcut -> spline -> refine -> Curve

torch is needed only by energy, neural and refine, and is imported when they run.
The public names are re-exported by ``graphgeo`` (``gg.refine_curves`` is
:func:`graphgeo.curves.refine.refine`).
"""

from .path import Curve, Path
from .pipeline import geodesic, geodesics
from .refine import RefineResult
from .refine import refine as refine_curves
from .smoothing import Shortcut, resample_polyline, shortcut, spline

__all__ = [
    "Path",
    "Curve",
    "geodesic",
    "geodesics",
    "refine_curves",
    "RefineResult",
    "shortcut",
    "Shortcut",
    "spline",
    "resample_polyline",
]
