"""The one gate for optional dependencies.

Heavy packages (torch, matplotlib, dask/distributed, cupy) are imported only when a
feature needs them, through :func:`require`, so ``import graphgeo`` stays light and a
missing package surfaces as :class:`~graphgeo.exceptions.MissingDependencyError`
(a GraphGeoError and an ImportError) that names the feature and the pip extra to
install, never as a bare ``ModuleNotFoundError`` from deep inside a call.
"""

import importlib

from .exceptions import MissingDependencyError

__all__ = ["require", "EXTRAS"]

#: top-level module -> the graphgeo extra that installs it
EXTRAS = {
    "torch": "torch",
    "matplotlib": "plot",
    "dask": "dask",
    "distributed": "dask",
    "cupy": "cupy",
    "numba.cuda": "cuda",
}


def require(module, feature):
    """Import ``module`` (e.g. "torch", "matplotlib.pyplot") for ``feature`` or raise.

    Raises
    ------
    MissingDependencyError
        When the module (or one of its own dependencies) cannot be imported; the message
        names ``feature``, the missing package and ``pip install graphgeo[<extra>]``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(module, EXTRAS.get(top))
        how = (f"pip install 'graphgeo[{extra}]'" if extra is not None
               else f"pip install {top}")
        raise MissingDependencyError(
            f"{feature} needs the optional package {top!r}, which could not be imported "
            f"({exc}); install it with {how}."
        ) from exc

