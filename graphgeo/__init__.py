"""graphgeo: direction-aware geodesics in the latent spaces of generative models.

Build a directed KNN graph whose edges cost the integral of a Riemannian or
Randers metric, then search it::

    import graphgeo as gg
    metric = gg.Randers(gg.RHVAEMetric(centroids, M, temperature, lbd), omega)
    g = gg.GeodesicGraph.build(points, metric, k=10)
    path = g.shortest_path(0, 42)            # direction-aware
    D = g.distances(sources=[0, 1, 2])
"""

from importlib.metadata import PackageNotFoundError, version

from . import exceptions, learn, maps, monotone, plot
from .cluster import GeodesicKMedoids
from .costs import curve_length, segment_costs
from .curves import (
    Curve,
    Path,
    RefineResult,
    Shortcut,
    geodesic,
    geodesics,
    refine_curves,
    resample_polyline,
    shortcut,
    spline,
)
from .exceptions import (
    DisconnectedGraphError,
    GraphGeoError,
    InvalidInputError,
    MetricError,
    MissingDependencyError,
    NoPathError,
    NotFittedError,
    NotSPDError,
    RandersConditionError,
)
from .graph import GeodesicGraph
from .learn import RandersFit, fit_randers
from .monotone import measure_along, monotonicity
from .metrics import (
    CallableField,
    CentroidCometric,
    ConstantField,
    ConformalMetric,
    ConstantMetric,
    DiagonalField,
    Euclidean,
    ExpectedMetric,
    FieldMetric,
    Metric,
    OneForm,
    PullbackCometric,
    PullbackMetric,
    Randers,
    RBFField,
    RBFPrecision,
    RHVAEMetric,
    VAECometric,
)

try:
    __version__ = version("graphgeo")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "exceptions",
    "learn",
    "maps",
    "monotone",
    "plot",
    "fit_randers",
    "RandersFit",
    "monotonicity",
    "measure_along",
    "GeodesicGraph",
    "GeodesicKMedoids",
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
    "curve_length",
    "segment_costs",
    "Metric",
    "Euclidean",
    "ConstantMetric",
    "ConformalMetric",
    "DiagonalField",
    "FieldMetric",
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
    "GraphGeoError",
    "InvalidInputError",
    "MetricError",
    "NotSPDError",
    "RandersConditionError",
    "DisconnectedGraphError",
    "NoPathError",
    "NotFittedError",
    "MissingDependencyError",
]
