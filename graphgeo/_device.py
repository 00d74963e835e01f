"""Where the edge-cost kernels run: the one resolver of ``device="cpu" | "cuda" | "auto"``.

* ``"cpu"``: the numba CPU kernels (every quadrature, every metric).
* ``"cuda"``: the numba-cuda kernels (``graphgeo.kernels.cuda_segments``) for the fused
  families (a metric with a kernel record) with fixed-order Gauss-Legendre
  (``quadrature=<int>``; constant metrics need no quadrature). The adaptive quadrature,
  the CPU default, is CPU-only in this release: ``device="cuda"`` with
  ``quadrature=None`` or ``"adaptive"`` raises InvalidInputError asking for an integer
  quadrature, rather than silently integrating differently from the CPU default.
  Needs the ``cuda`` extra (MissingDependencyError otherwise) and a CUDA device
  (InvalidInputError otherwise). Under numba-cuda's simulator (NUMBA_ENABLE_CUDASIM=1,
  set before numba.cuda is imported) "cuda" runs the kernels on the CPU, thread by
  thread: this is how the tests exercise them without a GPU.
* ``"auto"``: "cuda" when a real CUDA device is visible (numba-cuda importable,
  ``numba.cuda.is_available()``, and the simulator NOT enabled: auto never picks the
  slow simulator) and the computation has a CUDA kernel (fused family, integer
  quadrature or constant metric, d <= MAX_DIM); the CPU otherwise, silently.
"""

import importlib.util
import os

from ._optional import require
from ._validation import check_compute_device
from .exceptions import InvalidInputError

__all__ = ["simulator_enabled", "gpu_visible", "resolve_device"]


def simulator_enabled():
    """True when numba-cuda's simulator is requested (NUMBA_ENABLE_CUDASIM, read by numba
    at the import of numba.cuda)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0").strip() not in ("", "0")


def gpu_visible():
    """True when numba-cuda is installed, a real CUDA device answers and the simulator is
    off."""
    if simulator_enabled() or importlib.util.find_spec("numba_cuda") is None:
        return False
    try:
        cuda = require("numba.cuda", "device='auto'")
    except ImportError:
        return False
    return bool(cuda.is_available())


def _cuda_obstacle(record, quadrature, is_constant, dim):
    """Why the CUDA kernels cannot do this computation (None when they can)."""
    if record is None:
        return ("the metric has no fused kernel (it is evaluated through numpy/torch "
                "callables), and only fused families have CUDA kernels; pass device='cpu'.")
    if not is_constant and (quadrature is None or isinstance(quadrature, str)):
        shown = "None (the default, 'adaptive')" if quadrature is None else repr(quadrature)
        return (f"the CUDA kernels integrate with fixed-order Gauss-Legendre only; received "
                f"quadrature={shown}, whose error-controlled rules run on the CPU only. Pass "
                "an integer quadrature (e.g. quadrature=8 Gauss-Legendre points per segment) "
                "or device='cpu'.")
    return None


def resolve_device(device, record=None, quadrature=None, is_constant=False, dim=0,
                   name="device"):
    """'cpu' or 'cuda': where the edge costs of this computation run.

    Raises
    ------
    InvalidInputError
        device not in ('cpu', 'cuda', 'auto'); device='cuda' without a CUDA device, for a
        metric without a fused kernel, with the adaptive quadrature, or above the kernels'
        largest dimension.
    MissingDependencyError
        device='cuda' without numba-cuda (``pip install 'graphgeo[cuda]'``).
    """
    device = check_compute_device(device, name)
    if device == "cpu":
        return "cpu"
    if device == "auto":
        if _cuda_obstacle(record, quadrature, is_constant, dim) is not None or not gpu_visible():
            return "cpu"
        from .kernels.cuda_segments import MAX_DIM

        return "cuda" if dim <= MAX_DIM else "cpu"
    cuda = require("numba.cuda", f"{name}='cuda'")
    if not cuda.is_available():
        raise InvalidInputError(
            f"{name} is 'cuda' but numba-cuda finds no usable CUDA device or driver; pass "
            f"{name}='cpu' or 'auto' (or set NUMBA_ENABLE_CUDASIM=1 before importing numba "
            "to run the kernels in numba-cuda's simulator, slowly, for testing)."
        )
    why = _cuda_obstacle(record, quadrature, is_constant, dim)
    if why is not None:
        raise InvalidInputError(f"{name}='cuda': {why}")
    from .kernels.cuda_segments import MAX_DIM

    if dim > MAX_DIM:
        raise InvalidInputError(
            f"{name}='cuda': the CUDA kernels handle dimensions up to {MAX_DIM}; received "
            f"points of dimension {dim}. Pass {name}='cpu'."
        )
    return "cuda"
