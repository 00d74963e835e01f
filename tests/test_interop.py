"""pythae interop without pythae: a stand-in object with the attributes a trained RHVAE has."""

import types

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg
from graphgeo.exceptions import InvalidInputError
from graphgeo.interop import rhvae_from_checkpoint, rhvae_from_pythae

torch = pytest.importorskip("torch")


def _trained():
    g = torch.Generator().manual_seed(0)
    L = torch.randn(30, 3, 3, generator=g, dtype=torch.float64).tril()
    c = torch.randn(30, 3, generator=g, dtype=torch.float64)
    model = types.SimpleNamespace(M_tens=L @ L.transpose(1, 2), centroids_tens=c,
                                  temperature=torch.nn.Parameter(torch.tensor([0.8]), requires_grad=False),
                                  lbd=torch.nn.Parameter(torch.tensor([0.01]), requires_grad=False))
    return model


def test_from_model_matches_pythae_formula():
    model = _trained()
    metric = rhvae_from_pythae(model)
    z = torch.randn(20, 3, dtype=torch.float64)
    # pythae's G^{-1}(z)
    w = torch.exp(-torch.norm(model.centroids_tens.unsqueeze(0) - z.unsqueeze(1), dim=-1) ** 2
                  / model.temperature ** 2)
    Ginv = (model.M_tens.unsqueeze(0) * w[..., None, None]).sum(1) + model.lbd * torch.eye(3)
    assert_allclose(metric.cometric_tensor(z.numpy()), Ginv.numpy(), rtol=1e-6)  # float32 T, lbd


def test_from_checkpoint_config_and_state_dict():
    model = _trained()
    ckpt = {"M": model.M_tens, "centroids": model.centroids_tens,
            "model_state_dict": {"temperature": model.temperature.data, "lbd": model.lbd.data}}
    m1 = rhvae_from_checkpoint(ckpt)
    m2 = rhvae_from_checkpoint({"M": ckpt["M"], "centroids": ckpt["centroids"]},
                               config={"temperature": 0.8, "regularization": 0.01})
    z = np.random.default_rng(0).normal(size=(10, 3))
    assert_allclose(m1.metric_tensor(z), m2.metric_tensor(z), rtol=1e-6)
    assert isinstance(m1, gg.RHVAEMetric)


def test_bad_inputs():
    with pytest.raises(InvalidInputError, match="M_tens"):
        rhvae_from_pythae(object())
    with pytest.raises(InvalidInputError, match="centroids"):
        rhvae_from_checkpoint({"M": np.eye(2)[None]})
    with pytest.raises(InvalidInputError, match="temperature"):
        rhvae_from_checkpoint({"M": np.eye(2)[None], "centroids": np.zeros((1, 2))})
    with pytest.raises(InvalidInputError, match="dict"):
        rhvae_from_checkpoint([1, 2])
