"""The kernel record: what every fused metric hands to kernels is plain data (ints, floats,
numpy arrays, tuples of them), one leaf per family evaluates it, and generic families
have none. Oracle for the leaves: the metrics' numpy evaluation (metric.norm,
omega_norm), 1e-12 relative."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg
from graphgeo.kernels import leaves
from graphgeo.metrics.record import KernelRecord

from _segment_workloads import rhvae


def _plain(x):
    if isinstance(x, tuple):
        return all(_plain(y) for y in x)
    return isinstance(x, (int, float, np.ndarray, np.integer, np.floating)) and (
        not isinstance(x, np.ndarray) or x.dtype in (np.float64, np.int64))


def _metrics(rng):
    X = rng.normal(size=(300, 3))
    A = np.diag([2.0, 1.0, 0.5])
    rh = rhvae(rng, X, 20)
    vae = gg.VAECometric(X[:20], rng.uniform(0.2, 1.0, (20, 3)), 0.7, 1e-2)
    rbf = gg.RBFField(X[:10], 0.01 * rng.normal(size=(10, 3)), 0.8)
    return X, {
        leaves.FAMILY_IDENTITY: gg.Euclidean(3),
        leaves.FAMILY_CONSTANT: gg.ConstantMetric(A),
        leaves.FAMILY_COMETRIC_FULL: rh,
        leaves.FAMILY_COMETRIC_DIAG: gg.Randers(vae, rbf, max_norm=0.5),
        leaves.FAMILY_CONFORMAL: gg.ConformalMetric("poincare", 3),
    }


def test_records_are_plain_data_and_name_their_family(rng):
    _, metrics = _metrics(rng)
    for family, m in metrics.items():
        rec = m.kernel_record()
        assert isinstance(rec, KernelRecord)
        assert rec.family == family
        assert all(_plain(f) for f in rec), rec
        assert rec.omega_kind == (leaves.OMEGA_RBF if m.has_one_form else leaves.OMEGA_NONE)
        assert rec.max_norm == (0.5 if m.has_one_form else -1.0)


def test_generic_families_have_no_record(rng):
    assert gg.FieldMetric(lambda z: np.broadcast_to(np.eye(2), (len(z), 2, 2)), 2).kernel_record() is None
    assert gg.Randers(gg.Euclidean(2), lambda z: 0.1 * z).kernel_record() is None
    assert gg.ConformalMetric(lambda z: np.ones(len(z)), 2).kernel_record() is None


def test_each_leaf_matches_the_numpy_metric(rng):
    X, metrics = _metrics(rng)
    z = 0.3 * X[:20] / np.linalg.norm(X[:20], axis=1, keepdims=True)  # inside the unit ball
    v = rng.normal(size=(20, 3))
    for family, m in metrics.items():
        rec = m.kernel_record()
        work = np.empty(leaves.work_size(family, 3))
        om = np.zeros(3)
        base = m.base if m.has_one_form else m
        for i in range(len(z)):
            if m.has_one_form:
                leaves.omega_at(z[i], rec.omega_kind, rec.omega_params, om)
                assert_allclose(om, m.omega(z[i:i + 1])[0], rtol=1e-12, atol=1e-300)
            s2, o2 = leaves.metric_sq(rec.params, z[i], v[i], om, m.has_one_form, work)
            assert_allclose(np.sqrt(s2), base.norm(z[i:i + 1], v[i:i + 1])[0], rtol=1e-12)
            if m.has_one_form:
                assert_allclose(np.sqrt(o2), m.omega_norm(z[i:i + 1])[0], rtol=1e-12)


def test_an_unknown_params_type_has_no_leaf():
    with pytest.raises(KeyError):
        leaves.metric_sq((np.zeros(1),), np.zeros(2), np.ones(2), np.zeros(2), False, np.empty(1))
