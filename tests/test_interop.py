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
    assert isinstance(gg.RHVAEMetric.from_pythae(model), gg.RHVAEMetric)
    z = torch.randn(20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    # pythae's G^{-1}(z)
    w = torch.exp(-torch.norm(model.centroids_tens.unsqueeze(0) - z.unsqueeze(1), dim=-1) ** 2
                  / model.temperature ** 2)
    Ginv = (model.M_tens.unsqueeze(0) * w[..., None, None]).sum(1) + model.lbd * torch.eye(3)
    assert_allclose(metric.cometric_tensor(z.numpy()), Ginv.numpy(), rtol=1e-5)  # pythae keeps T and lbd in float32


def test_from_checkpoint_config_and_state_dict():
    model = _trained()
    ckpt = {"M": model.M_tens, "centroids": model.centroids_tens,
            "model_state_dict": {"temperature": model.temperature.data, "lbd": model.lbd.data}}
    m1 = gg.RHVAEMetric.from_checkpoint(ckpt)
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


def test_torch_tensors_accepted_everywhere():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    g_np = gg.GeodesicGraph.build(x, gg.Euclidean(2), k=6)
    g_t = gg.GeodesicGraph.build(torch.from_numpy(x), gg.Euclidean(2), k=6)
    assert (g_np.weights != g_t.weights).nnz == 0
    src, dst = torch.tensor([0, 1, 2]), torch.tensor([5, 6, 7])
    D = g_t.distances(src, dst)
    assert isinstance(D, np.ndarray)
    assert_allclose(D, g_np.distances([0, 1, 2], [5, 6, 7]), rtol=0)
    assert_allclose(g_t.pair_distances(src, dst), np.diag(D), rtol=0)
    p = g_t.shortest_path(torch.tensor(0).item(), 5)
    q = g_t.shortest_path_between(torch.tensor(x[0]), torch.tensor(x[5]))
    assert_allclose(p.length, q.length, rtol=1e-12)
    assert_allclose(gg.curve_length(gg.Euclidean(2), torch.from_numpy(x[:3])),
                    gg.curve_length(gg.Euclidean(2), x[:3]), rtol=0)
