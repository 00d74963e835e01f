"""Reading pythae RHVAE models and checkpoints into plain arrays (pythae never imported).

A leaf module: it imports no metric, so both :mod:`graphgeo.interop` (the public bridge,
which builds the metric) and the metric family itself can use it without an import cycle.
"""

import numpy as np

from ._backend import to_numpy
from .exceptions import InvalidInputError

__all__ = ["rhvae_parameters_from_model", "rhvae_parameters_from_checkpoint"]


def _scalar(x, name):
    arr = np.asarray(to_numpy(x), dtype=np.float64).ravel()
    if arr.size != 1:
        raise InvalidInputError(f"{name} must be a single number; received shape {arr.shape}.")
    return float(arr[0])


def rhvae_parameters_from_model(model):
    """(centroids (K, d), M (K, d, d), temperature, lbd) of a trained pythae RHVAE model.

    Reads ``model.centroids_tens``, ``model.M_tens``, ``model.temperature`` and
    ``model.lbd`` (its regularization), as pythae stores them after training.
    """
    missing = [a for a in ("M_tens", "centroids_tens", "temperature", "lbd") if not hasattr(model, a)]
    if missing:
        raise InvalidInputError(
            f"model must be a trained pythae RHVAE; it has no attribute(s) {', '.join(missing)} "
            f"(received {type(model).__name__})."
        )
    return (to_numpy(model.centroids_tens), to_numpy(model.M_tens),
            _scalar(model.temperature, "model.temperature"), _scalar(model.lbd, "model.lbd"))


def rhvae_parameters_from_checkpoint(checkpoint, temperature=None, lbd=None, config=None):
    """(centroids, M, temperature, lbd) from a pythae checkpoint dict (its ``model.pt``).

    ``checkpoint`` holds "M" (K, d, d) and "centroids" (K, d); temperature and lbd are
    taken, in order, from the arguments, from ``config`` (a dict or object with
    ``temperature`` and ``regularization``, as pythae's RHVAEConfig / model_config.json),
    or from ``checkpoint["model_state_dict"]`` ("temperature", "lbd").
    """
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
    return to_numpy(checkpoint["centroids"]), to_numpy(checkpoint["M"]), T, reg
