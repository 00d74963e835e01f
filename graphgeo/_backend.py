"""numpy / torch dispatch for metric evaluation (torch imported lazily).

Metric formulas are written once against ``xp`` (numpy or torch: both have
exp, sqrt, einsum, linalg.solve, linalg.cholesky, where, minimum), and
parameters are moved to the caller's dtype and device with :func:`like`.
"""

import numpy as np

from ._optional import require

__all__ = ["namespace", "is_torch", "like", "eye_like", "to_numpy"]


def is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


def namespace(x):
    if is_torch(x):
        torch = require("torch", "evaluation on torch tensors")
        return torch
    return np


def like(a, ref):
    """``a`` (numpy) as an array of ref's kind, dtype and device."""
    if is_torch(ref):
        torch = require("torch", "evaluation on torch tensors")
        if is_torch(a):
            return a.to(dtype=ref.dtype, device=ref.device)
        return torch.as_tensor(np.asarray(a), dtype=ref.dtype, device=ref.device)
    return np.asarray(a, dtype=ref.dtype if np.issubdtype(ref.dtype, np.floating) else np.float64)


def eye_like(d, ref):
    if is_torch(ref):
        torch = require("torch", "evaluation on torch tensors")
        return torch.eye(d, dtype=ref.dtype, device=ref.device)
    return np.eye(d)


def to_numpy(x):
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)
