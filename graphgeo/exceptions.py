"""Exceptions and warnings raised by graphgeo.

Every exception derives from :class:`GraphGeoError` and from the builtin error a
caller would naturally catch (``ValueError`` for bad input, ``RuntimeError`` for
search failures), so ``except ValueError`` keeps working in user code.
"""

__all__ = [
    "GraphGeoError",
    "InvalidInputError",
    "MetricError",
    "NotSPDError",
    "RandersConditionError",
    "DisconnectedGraphError",
    "NoPathError",
    "NotFittedError",
    "MissingDependencyError",
    "GraphGeoWarning",
    "DuplicatePointsWarning",
    "DisconnectedGraphWarning",
]


class GraphGeoError(Exception):
    """Base class of every graphgeo exception."""


class InvalidInputError(GraphGeoError, ValueError):
    """An argument has the wrong type, shape, value or contains NaN/Inf."""


class MetricError(GraphGeoError, ValueError):
    """A metric is ill-defined: wrong parameter shapes, dimension mismatch."""


class NotSPDError(MetricError):
    """A metric tensor (or cometric) is not symmetric positive definite."""


class RandersConditionError(MetricError):
    """The Randers condition |omega(z)|_{G^{-1}(z)} < 1 is violated somewhere."""


class DisconnectedGraphError(GraphGeoError, ValueError):
    """The graph has more than one strongly connected component."""


class NoPathError(GraphGeoError, RuntimeError):
    """The target cannot be reached from the source."""


class NotFittedError(GraphGeoError, ValueError, AttributeError):
    """An estimator was used before fit (also ValueError and AttributeError, as in scikit-learn)."""


class MissingDependencyError(GraphGeoError, ImportError):
    """An optional dependency (torch, matplotlib, dask, cupy, ...) is not installed.

    The message names the feature that needs it and the pip extra that installs it.
    """


class GraphGeoWarning(UserWarning):
    """Base class of graphgeo warnings."""


class DuplicatePointsWarning(GraphGeoWarning):
    """Exact duplicate points were found and tied together at zero cost."""


class DisconnectedGraphWarning(GraphGeoWarning):
    """The KNN graph was disconnected and bridging edges were added."""
