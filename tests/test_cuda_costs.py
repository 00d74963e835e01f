"""The CUDA edge kernels (graphgeo.kernels.cuda_segments) against the CPU kernels.

numba reads NUMBA_ENABLE_CUDASIM when numba.cuda is first imported, so the kernel tests
run in one of two ways:

* in a process where the simulator is on (``NUMBA_ENABLE_CUDASIM=1 python -m pytest
  tests/test_cuda_costs.py``) or where a real GPU is visible: the tests below run in
  process (on the simulator, or on the GPU, then also under the ``gpu`` marker's test);
* otherwise (plain ``python -m pytest``, as in CI): ``test_simulator_subprocess`` runs this
  file again in a subprocess with the simulator on, and fails if any test there fails;
  the in-process kernel tests skip.

Inputs are tiny (the simulator runs each CUDA thread as Python): tens of segments, a few
quadrature points. Agreement with the CPU: rtol 1e-10 (the CUDA leaves mirror the CPU
leaves operation for operation; on hardware, fused multiply-adds may change the last bits).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphgeo as gg
from graphgeo import _device, _optional
from graphgeo.costs import segment_costs
from graphgeo.exceptions import (InvalidInputError, MissingDependencyError, NotSPDError,
                                 RandersConditionError)

SIM = _device.simulator_enabled()
HAVE_NUMBA_CUDA = __import__("importlib").util.find_spec("numba_cuda") is not None
GPU = HAVE_NUMBA_CUDA and not SIM and _device.gpu_visible()
kernels = pytest.mark.skipif(
    not (HAVE_NUMBA_CUDA and (SIM or GPU)),
    reason="needs numba-cuda with its simulator on or a GPU (test_simulator_subprocess runs "
           "these tests in the simulator)")
RTOL = 1e-10


def _rhvae(rng, d, K=3):
    L = rng.normal(size=(K, d, d)) * 0.5
    return gg.RHVAEMetric(rng.normal(size=(K, d)), L @ L.transpose(0, 2, 1) + 0.1 * np.eye(d),
                          temperature=1.2, lbd=0.05)


def _vae(rng, d, K=3):
    return gg.VAECometric(rng.normal(size=(K, d)), rng.uniform(0.3, 1.0, size=(K, d)), tau=0.8,
                          lbd=0.05)


def _constant(rng, d):
    B = rng.normal(size=(d, d))
    return gg.ConstantMetric(B @ B.T + d * np.eye(d))


def _segments(rng, d, n=24, n_pts=14, shift=None):
    P = rng.normal(size=(n_pts, d))
    if shift is not None:
        P = shift(P)
    ia = rng.integers(0, n_pts, size=n)
    ib = (ia + rng.integers(1, n_pts, size=n)) % n_pts
    return P, ia, ib


def _compare(metric, P, ia, ib, quadrature=3, b_pts=None):
    Rc, Ac = segment_costs(metric, P, ia, ib, b_pts=b_pts, quadrature=quadrature)
    Rg, Ag = segment_costs(metric, P, ia, ib, b_pts=b_pts, quadrature=quadrature, device="cuda")
    np.testing.assert_allclose(Rg, Rc, rtol=RTOL, atol=0)
    # A may vanish (antisymmetric part): its tolerance is relative to R
    np.testing.assert_allclose(Ag, Ac, rtol=RTOL, atol=RTOL * np.abs(Rc).max())
    assert np.all(Rc > 0)
    return Rc, Ac


# ---------------------------------------------------------------------------
# every fused family, Riemannian and Randers, against the CPU kernels
# ---------------------------------------------------------------------------

@kernels
@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("family", ["euclidean", "constant", "rhvae", "vae"])
def test_fused_families_match_cpu(family, d):
    rng = np.random.default_rng(10 * d + len(family))
    metric = {"euclidean": lambda: gg.Euclidean(d), "constant": lambda: _constant(rng, d),
              "rhvae": lambda: _rhvae(rng, d), "vae": lambda: _vae(rng, d)}[family]()
    P, ia, ib = _segments(rng, d)
    R, A = _compare(metric, P, ia, ib)
    np.testing.assert_array_equal(A, 0.0)
    if family in ("euclidean", "constant"):  # constant metrics: closed form, any quadrature
        dv = P[ib] - P[ia]
        G = np.eye(d) if family == "euclidean" else metric.A
        np.testing.assert_allclose(R, np.sqrt(np.einsum("ni,ij,nj->n", dv, G, dv)), rtol=1e-12)


@kernels
@pytest.mark.parametrize("kind", ["halfplane", "poincare"])
def test_conformal_matches_cpu(kind):
    rng = np.random.default_rng(3)
    d = 2
    if kind == "halfplane":
        shift = lambda P: np.column_stack([P[:, 0], 0.5 + np.abs(P[:, 1])])  # noqa: E731
    else:
        shift = lambda P: 0.8 * P / (1.0 + np.linalg.norm(P, axis=1, keepdims=True))  # noqa: E731
    P, ia, ib = _segments(rng, d, shift=shift)
    _compare(gg.ConformalMetric(kind, d), P, ia, ib, quadrature=4)


@kernels
@pytest.mark.parametrize("base", ["euclidean", "rhvae", "vae", "poincare"])
def test_randers_constant_and_rbf_match_cpu(base):
    rng = np.random.default_rng(7)
    d = 2
    b = {"euclidean": gg.Euclidean(d), "rhvae": _rhvae(rng, d), "vae": _vae(rng, d),
         "poincare": gg.ConformalMetric("poincare", d)}[base]
    shift = None if base != "poincare" else \
        (lambda P: 0.8 * P / (1.0 + np.linalg.norm(P, axis=1, keepdims=True)))
    P, ia, ib = _segments(rng, d, shift=shift)
    # small enough for the Randers condition on these bases (checked by the CPU path)
    R0, _ = _compare(gg.Randers(b, np.array([0.03, -0.02])), P, ia, ib)
    field = gg.RBFField(rng.normal(size=(4, d)), 0.03 * rng.normal(size=(4, d)), bandwidth=0.7)
    R1, A1 = _compare(gg.Randers(b, field), P, ia, ib)
    np.testing.assert_allclose(R1, R0, rtol=1e-14)  # the 1-form leaves R alone
    assert np.abs(A1).max() > 1e-6  # a 1-form that does something


@kernels
def test_max_norm_rescale_matches_cpu():
    rng = np.random.default_rng(11)
    d = 3
    base = _rhvae(rng, d)
    P, ia, ib = _segments(rng, d, n=20)
    strong = gg.RBFField(rng.normal(size=(3, d)), 30.0 * rng.normal(size=(3, d)), bandwidth=1.0)
    metric = gg.Randers(base, strong, max_norm=0.8)
    R, A = _compare(metric, P, ia, ib)
    assert np.all(R - np.abs(A) > 0)  # both directed weights positive
    # the cap is active: without it the same field breaks the Randers condition
    with pytest.raises(RandersConditionError):
        segment_costs(gg.Randers(base, strong), P, ia, ib, quadrature=3, device="cuda")


@kernels
def test_randers_violation_raises_on_cuda():
    d = 2
    P = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # a constant 1-form of norm >= 1 is refused when the metric is built; an RBF one is
    # only caught on the segments (worst |omega| per segment, from the kernel)
    field = gg.RBFField(np.array([[0.5, 0.0]]), np.array([[3.0, 0.0]]), bandwidth=0.5)
    metric = gg.Randers(gg.Euclidean(d), field)
    with pytest.raises(RandersConditionError, match="0 -> 1"):
        segment_costs(metric, P, np.array([0, 2]), np.array([1, 0]), quadrature=3,
                      device="cuda")


@kernels
def test_not_spd_gives_nan_like_cpu():
    """The metrics refuse non-SPD parameters when built, so the kernels' NaN (from which
    segment_costs raises NotSPDError) is checked on a hand-made record: G^{-1} = M with M
    indefinite and lbd = 0."""
    from graphgeo.kernels import segments as cpu
    from graphgeo.kernels.cuda_segments import costs_fixed_cuda
    from graphgeo.kernels.leaves import (FAMILY_COMETRIC_FULL, OMEGA_NONE, CometricParams,
                                         omega_params, work_size)

    d = 2
    params = CometricParams(np.zeros((1, d)), 0, np.zeros((1, d)), np.zeros((1, d, d)),
                            np.array([[[1.0, 0.0], [0.0, -1.0]]]), 1.0, 0.0, np.array([50.0]))
    P = np.array([[0.0, 0.0], [1.0, 1.0], [0.1, 0.0]])
    ia, ib = np.array([0, 1]), np.array([1, 2])
    tq, wq = gg.costs.gauss_legendre(2)
    form = (OMEGA_NONE, omega_params(d), -1.0)
    R, A, worst = costs_fixed_cuda(P, P, ia, ib, tq, wq, FAMILY_COMETRIC_FULL, params, *form)
    Rc, Ac, wc = np.empty(2), np.empty(2), np.zeros(2)
    cpu.costs_fixed(P, P, ia, ib, tq, wq, params, work_size(FAMILY_COMETRIC_FULL, d), *form,
                    Rc, Ac, wc)
    assert np.all(np.isnan(R)) and np.all(np.isnan(Rc))
    stats = {}
    R2, _, _ = costs_fixed_cuda(P, P, ia, np.array([2, 0]), tq, wq, FAMILY_COMETRIC_FULL,
                                params, *form, stats=stats)
    assert set(stats) == {"kernel_s", "device_bytes", "used_bytes", "total_s"}
    # inputs (points, indices, rule, params, 1-form) and the three outputs
    assert stats["device_bytes"] >= 2 * P.nbytes + 2 * 2 * 8 + 3 * 2 * 8
    with pytest.raises(NotSPDError, match="not positive definite"):
        gg.costs._check_finite(R, P, ia, P, ib)


@kernels
def test_two_point_sets_and_curve_length():
    rng = np.random.default_rng(5)
    d = 2
    metric = gg.Randers(_vae(rng, d), np.array([0.02, 0.01]))
    a = rng.normal(size=(6, d))
    b = rng.normal(size=(9, d))
    ia = rng.integers(0, 6, size=12)
    ib = rng.integers(0, 9, size=12)
    _compare(metric, a, ia, ib, b_pts=b)
    curve = np.cumsum(rng.normal(size=(8, d)) * 0.3, axis=0)
    np.testing.assert_allclose(gg.curve_length(metric, curve, quadrature=3, device="cuda"),
                               gg.curve_length(metric, curve, quadrature=3), rtol=RTOL)


@kernels
def test_build_on_cuda_equals_cpu():
    rng = np.random.default_rng(2)
    d = 2
    metric = gg.Randers(_rhvae(rng, d), np.array([0.03, 0.0]))
    pts = rng.normal(size=(12, d))
    gc = gg.GeodesicGraph.build(pts, metric, k=3, quadrature=3)
    gd = gg.GeodesicGraph.build(pts, metric, k=3, quadrature=3, device="cuda")
    np.testing.assert_array_equal(gd.weights.indptr, gc.weights.indptr)
    np.testing.assert_array_equal(gd.weights.indices, gc.weights.indices)
    np.testing.assert_allclose(gd.weights.data, gc.weights.data, rtol=RTOL)
    assert gd.weights.nnz > 0 and (gd.weights != gd.weights.T).nnz > 0  # directed


@kernels
def test_cuda_refuses_what_it_does_not_compute():
    rng = np.random.default_rng(0)
    metric = _rhvae(rng, 2)
    P, ia, ib = _segments(rng, 2, n=4)
    for q in (None, "adaptive"):
        with pytest.raises(InvalidInputError, match="integer quadrature"):
            segment_costs(metric, P, ia, ib, quadrature=q, device="cuda")
    with pytest.raises(InvalidInputError, match="integer quadrature"):
        gg.GeodesicGraph.build(P, metric, k=3, device="cuda")
    # constant metrics need no quadrature (midpoint, exact) on either device
    _compare(gg.Euclidean(2), P, ia, ib, quadrature=None)
    field = gg.FieldMetric(lambda z: np.broadcast_to(np.eye(2), (len(z), 2, 2)), dim=2)
    with pytest.raises(InvalidInputError, match="no fused kernel"):
        segment_costs(field, P, ia, ib, quadrature=3, device="cuda")
    big = gg.Euclidean(65)
    with pytest.raises(InvalidInputError, match="up to 64"):
        segment_costs(big, rng.normal(size=(3, 65)), [0], [1], quadrature=2, device="cuda")


# ---------------------------------------------------------------------------
# device resolution (no kernels run)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["gpu", "cuda:0", None, 0])
def test_bad_device_value(bad):
    with pytest.raises(InvalidInputError, match="device must be one of 'cpu', 'cuda' or 'auto'"):
        segment_costs(gg.Euclidean(2), np.eye(2), [0], [1], device=bad)
    with pytest.raises(InvalidInputError, match="device"):
        gg.GeodesicGraph.build(np.random.default_rng(0).normal(size=(5, 2)), gg.Euclidean(2),
                               k=2, device=bad)


def test_cuda_without_numba_cuda(monkeypatch):
    def missing(module, feature):
        if module.startswith("numba.cuda"):
            raise MissingDependencyError(
                f"{feature} needs the optional package 'numba_cuda'; install it with "
                f"pip install 'graphgeo[{_optional.EXTRAS['numba.cuda']}]'.")
        return __import__(module)

    monkeypatch.setattr(_device, "require", missing)
    with pytest.raises(MissingDependencyError, match=r"device='cuda'.*graphgeo\[cuda\]"):
        segment_costs(gg.Euclidean(2), np.eye(2), [0], [1], quadrature=2, device="cuda")
    monkeypatch.setattr(_device.importlib.util, "find_spec", lambda name: None)
    assert not _device.gpu_visible()
    np.testing.assert_allclose(
        segment_costs(gg.Euclidean(2), np.eye(2), [0], [1], quadrature=2, device="auto")[0],
        [np.sqrt(2.0)])


def test_auto_never_picks_the_simulator(monkeypatch):
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    assert _device.simulator_enabled() and not _device.gpu_visible()
    rec = gg.Euclidean(2).kernel_record()
    assert _device.resolve_device("auto", rec, 4, False, 2) == "cpu"
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "0")
    assert not _device.simulator_enabled()


def test_auto_falls_back_for_what_cuda_does_not_compute(monkeypatch):
    monkeypatch.setattr(_device, "gpu_visible", lambda: True)
    rec = gg.Euclidean(2).kernel_record()
    # the adaptive default, generic metrics: the CPU, silently
    assert _device.resolve_device("auto", rec, None, False, 2) == "cpu"
    assert _device.resolve_device("auto", rec, "adaptive", False, 2) == "cpu"
    assert _device.resolve_device("auto", None, 4, False, 2) == "cpu"
    assert _device.resolve_device("cpu", rec, 4, False, 2) == "cpu"


def test_cuda_without_a_device(monkeypatch):
    if not HAVE_NUMBA_CUDA:
        pytest.skip("numba-cuda not installed")

    class NoGPU:
        @staticmethod
        def is_available():
            return False

    monkeypatch.setattr(_device, "require", lambda module, feature: NoGPU)
    with pytest.raises(InvalidInputError, match="no usable CUDA device"):
        segment_costs(gg.Euclidean(2), np.eye(2), [0], [1], quadrature=2, device="cuda")
    assert not _device.gpu_visible() or GPU


# ---------------------------------------------------------------------------
# how CI runs the kernel tests, and real hardware
# ---------------------------------------------------------------------------

def test_simulator_subprocess():
    """Run this file with NUMBA_ENABLE_CUDASIM=1 in a fresh interpreter (numba reads the
    variable when numba.cuda is imported), and require every kernel test to pass there."""
    if SIM:
        pytest.skip("this process is the simulator run")
    if not HAVE_NUMBA_CUDA:
        pytest.skip("numba-cuda not installed (pip install -r requirements-dev.txt)")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", __file__]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
    assert " passed" in res.stdout and " failed" not in res.stdout


@pytest.mark.gpu
@pytest.mark.skipif(not GPU, reason="needs a real CUDA device")
def test_gpu_larger_workload_matches_cpu():
    """On hardware: a few thousand segments of an RHVAE Randers metric in d = 8."""
    rng = np.random.default_rng(1)
    d = 8
    metric = gg.Randers(_rhvae(rng, d, K=50), gg.RBFField(rng.normal(size=(20, d)),
                        0.02 * rng.normal(size=(20, d)), bandwidth=1.0))
    P, ia, ib = _segments(rng, d, n=5000, n_pts=1000)
    _compare(metric, P, ia, ib, quadrature=8)
