"""Bridges to other libraries: pythae RHVAE models and checkpoints (pythae never imported)."""

import numpy as np

from ._backend import to_numpy
from .exceptions import InvalidInputError

__all__ = ["rhvae_from_pythae", "rhvae_from_checkpoint"]


def _scalar(x, name):
    arr = np.asarray(to_numpy(x), dtype=np.float64).ravel()
    if arr.size != 1:
        raise InvalidInputError(f"{name} must be a single number; received shape {arr.shape}.")
    return float(arr[0])


def rhvae_from_pythae(model):
    """An RHVAEMetric from a trained pythae RHVAE model.

    Reads ``model.M_tens`` (K, d, d), ``model.centroids_tens`` (K, d), ``model.temperature``
    and ``model.lbd`` (its regularization), as pythae stores them after training.
    """
    from .metrics import RHVAEMetric

    missing = [a for a in ("M_tens", "centroids_tens", "temperature", "lbd") if not hasattr(model, a)]
    if missing:
        raise InvalidInputError(
            f"model must be a trained pythae RHVAE; it has no attribute(s) {', '.join(missing)} "
            f"(received {type(model).__name__})."
        )
    return RHVAEMetric(to_numpy(model.centroids_tens), to_numpy(model.M_tens),
                       _scalar(model.temperature, "model.temperature"),
                       _scalar(model.lbd, "model.lbd"))


def rhvae_from_checkpoint(checkpoint, temperature=None, lbd=None, config=None):
    """An RHVAEMetric from a pythae checkpoint dict (the content of its ``model.pt``).

    Parameters
    ----------
    checkpoint : dict with keys "M" (K, d, d) and "centroids" (K, d); temperature and
        lbd are taken, in order, from the arguments, from ``config`` (a dict or object with
        ``temperature`` and ``regularization``, as pythae's RHVAEConfig / model_config.json),
        or from ``checkpoint["model_state_dict"]`` ("temperature", "lbd").

    Load the file yourself with ``torch.load(path, weights_only=True)``: graphgeo never
    unpickles.
    """
    from .metrics import RHVAEMetric

    if not isinstance(checkpoint, dict):
        raise InvalidInputError(
            f"checkpoint must be the dict saved by pythae (model.pt); received {type(checkpoint).__name__}."
        )
    missing = [k for k in ("M", "centroids") if k not in checkpoint]
    if missing:
        raise InvalidInputError(
            f"checkpoint is missing key(s) {', '.join(missing)}; a pythae RHVAE checkpoint holds "
            f"'M' and 'centroids' (found {', '.join(map(str, checkpoint)) or 'nothing'})."
        )
    state = checkpoint.get("model_state_dict", {}) or {}

    def pick(explicit, config_key, state_key, name):
        if explicit is not None:
            return float(explicit)
        if config is not None:
            val = config.get(config_key) if isinstance(config, dict) else getattr(config, config_key, None)
            if val is not None:
                return float(val)
        if state_key in state:
            return _scalar(state[state_key], f"model_state_dict['{state_key}']")
        raise InvalidInputError(
            f"{name} is not in the checkpoint; pass {name}= or config= (pythae's model_config)."
        )

    T = pick(temperature, "temperature", "temperature", "temperature")
    reg = pick(lbd, "regularization", "lbd", "lbd")
    return RHVAEMetric(to_numpy(checkpoint["centroids"]), to_numpy(checkpoint["M"]), T, reg)
