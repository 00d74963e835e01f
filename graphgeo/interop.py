"""Bridges to other libraries: pythae RHVAE models and checkpoints (pythae never imported).

The parsing lives in the leaf module :mod:`graphgeo._pythae`; this module sits above the
metrics and builds them (metrics never import it).
"""

from ._pythae import rhvae_parameters_from_checkpoint, rhvae_parameters_from_model
from .metrics import RHVAEMetric

__all__ = ["rhvae_from_pythae", "rhvae_from_checkpoint"]


def rhvae_from_pythae(model):
    """An RHVAEMetric from a trained pythae RHVAE model.

    Reads ``model.M_tens`` (K, d, d), ``model.centroids_tens`` (K, d), ``model.temperature``
    and ``model.lbd`` (its regularization), as pythae stores them after training.

    Raises
    ------
    InvalidInputError
        When ``model`` lacks one of those attributes or a scalar is not a single number.
    """
    return RHVAEMetric(*rhvae_parameters_from_model(model))


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

    Raises
    ------
    InvalidInputError
        When ``checkpoint`` is not a dict, lacks "M" or "centroids", or temperature / lbd
        cannot be found.
    """
    return RHVAEMetric(*rhvae_parameters_from_checkpoint(checkpoint, temperature, lbd, config))
