"""Edge costs on one GPU vs the CPU kernels on the same machine's cores (issue 14).

Run on a machine with an NVIDIA GPU and the cuda extra (``pip install 'graphgeo[cuda]'``):

    python bench/gpu.py [--n 1000000] [--dims 2 16] [--quadrature 8]

Without a usable GPU (or with NUMBA_ENABLE_CUDASIM set: the simulator measures nothing)
it exits with a message and status 2. Designed to finish in under 5 minutes on one H200
with 16 cores; every figure is printed as soon as it is measured.

Workload per dimension d (as bench/edge_weights.py, at N = 10^6):

* points: N latent codes from a Gaussian mixture in R^d (8 components, means ~ N(0, 2^2 I),
  isotropic standard deviations uniform in [0.3, 0.7]);
* RHVAE metric with K = 500 centroids (a random subset of the points), M_k = L_k L_k^T
  (L_k lower triangular, diagonal exp(N(0, 0.5^2)), off-diagonal N(0, 0.3^2)),
  lbd = 1e-3, T = 5 centroid spacings in d = 2, 3 in d >= 8; wrapped in a Randers metric
  with an RBF 1-form (64 centers, capped by max_norm = 0.9), so the 1-form path is timed;
* edges: the unique pairs i < j of the k = 10 nearest-neighbour relations
  (graphgeo.knn.knn: kd-tree at d = 2, pynndescent at d = 16; timed apart).

Timed: the CUDA kernel through the public call (``segment_costs(..., device="cuda")``,
host -> device copies included, best of 3) and the kernel alone (CUDA events), against the
numba CPU kernel with the same n-point Gauss-Legendre rule on all the machine's cores
(``device="cpu"``, one run after a warm-up; when a first 2% slice predicts more than
--cpu-seconds, the CPU is timed on a prefix of the segments sized to that budget and its
time for all segments extrapolated linearly, which the output says). Agreement: the largest
relative difference of R and of A (relative to R) between the devices on the segments both
computed. Peak GPU memory: the device arrays of the call and the device's used memory
(context included) while they are alive.

Not measured here (later steps of issue 14): GPU refinement, the adaptive quadrature.
"""

import argparse
import os
import sys
import time

import numpy as np

import graphgeo as gg
from graphgeo import _device
from graphgeo.costs import gauss_legendre, segment_costs
from graphgeo.knn import knn


def _refuse(msg):
    print(f"bench/gpu.py: {msg}", file=sys.stderr)
    sys.exit(2)


def _workload(n, d, k, seed):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=2.0, size=(8, d))
    sd = rng.uniform(0.3, 0.7, size=8)
    lab = rng.integers(0, 8, size=n)
    pts = means[lab] + sd[lab, None] * rng.normal(size=(n, d))
    K = min(500, n)
    cent = pts[rng.choice(n, K, replace=False)]
    L = np.tril(rng.normal(scale=0.3, size=(K, d, d)), -1)
    idx = np.arange(d)
    L[:, idx, idx] = np.exp(rng.normal(scale=0.5, size=(K, d)))
    M = L @ L.transpose(0, 2, 1)
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(cent).query(cent, k=2)
    T = (5.0 if d < 8 else 3.0) * float(np.median(dist[:, 1]))
    base = gg.RHVAEMetric(cent, M, T, 1e-3)
    rc = pts[rng.choice(n, min(64, n), replace=False)]
    field = gg.RBFField(rc, 0.05 * rng.normal(size=rc.shape), bandwidth=T)
    metric = gg.Randers(base, field, max_norm=0.9)
    t0 = time.perf_counter()
    nbr, _ = knn(pts, k, seed=seed)
    t_knn = time.perf_counter() - t0
    rows = np.repeat(np.arange(n), k)
    lo = np.minimum(rows, nbr.ravel())
    hi = np.maximum(rows, nbr.ravel())
    key = np.unique(lo.astype(np.int64) * n + hi)
    return pts, metric, key // n, key % n, t_knn


def _rel(x, ref, scale):
    return float(np.max(np.abs(x - ref) / scale)) if len(x) else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 16])
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--quadrature", type=int, default=8)
    ap.add_argument("--cpu-seconds", type=float, default=45.0,
                    help="CPU time budget per dimension before extrapolating")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    if _device.simulator_enabled():
        _refuse("NUMBA_ENABLE_CUDASIM is set: the simulator measures nothing; unset it.")
    try:
        from numba import cuda
    except ImportError as exc:
        _refuse(f"numba-cuda is not installed ({exc}); pip install 'graphgeo[cuda]'.")
    if not _device.gpu_visible():
        _refuse("no usable CUDA device (numba.cuda.is_available() is False); nothing to measure.")
    import numba

    from graphgeo.kernels.cuda_segments import costs_fixed_cuda

    gpu = cuda.get_current_device()
    name = getattr(gpu, "name", "unknown")
    name = name.decode() if isinstance(name, bytes) else name
    print(f"GPU: {name}; CPU: {os.cpu_count()} logical cores, numba threads "
          f"{numba.get_num_threads()}; quadrature: {args.quadrature}-point Gauss-Legendre; "
          f"N = {args.n}, k = {args.k}, RHVAE K = 500 + RBF 1-form", flush=True)
    q = args.quadrature
    tq, wq = gauss_legendre(q)
    for d in args.dims:
        t0 = time.perf_counter()
        pts, metric, ei, ej, t_knn = _workload(args.n, d, args.k, args.seed)
        m = len(ei)
        print(f"\nd = {d}: {m} segments (workload {time.perf_counter() - t0:.1f} s, of which "
              f"kNN {t_knn:.1f} s)", flush=True)
        # compile both sides on a few segments
        t0 = time.perf_counter()
        segment_costs(metric, pts, ei[:64], ej[:64], quadrature=q, device="cuda")
        t_jit = time.perf_counter() - t0
        segment_costs(metric, pts, ei[:64], ej[:64], quadrature=q, device="cpu")
        # GPU: public call (copies included), best of 3; kernel alone from CUDA events
        best, kern, stats = np.inf, np.inf, {}
        for _ in range(3):
            t0 = time.perf_counter()
            Rg, Ag = segment_costs(metric, pts, ei, ej, quadrature=q, device="cuda")
            best = min(best, time.perf_counter() - t0)
        rec = metric.kernel_record()
        costs_fixed_cuda(pts, pts, ei, ej, tq, wq, rec.family, rec.params, *rec.form,
                         stats=stats)
        kern = stats["kernel_s"]
        used = stats["used_bytes"]
        used = "unknown" if used is None else f"{used / 2**20:.0f} MiB"
        print(f"  GPU: {best:.3f} s per call ({m / best / 1e6:.2f} M segments/s), kernel "
              f"alone {kern:.3f} s, first-call compile {t_jit:.1f} s; device arrays "
              f"{stats['device_bytes'] / 2**20:.0f} MiB, device memory in use {used} "
              "(context included)", flush=True)
        # CPU: same rule, all cores; extrapolate from a prefix when it would be too slow
        probe = max(1, m // 50)
        t0 = time.perf_counter()
        segment_costs(metric, pts, ei[:probe], ej[:probe], quadrature=q, device="cpu")
        t_probe = time.perf_counter() - t0
        take = m if t_probe * m / probe <= args.cpu_seconds else \
            max(probe, int(probe * args.cpu_seconds / max(t_probe, 1e-9)))
        t0 = time.perf_counter()
        Rc, Ac = segment_costs(metric, pts, ei[:take], ej[:take], quadrature=q, device="cpu")
        t_cpu = (time.perf_counter() - t0) * m / take
        how = "measured" if take == m else f"extrapolated from {take} segments"
        print(f"  CPU: {t_cpu:.3f} s for all segments ({how}; {m / t_cpu / 1e6:.2f} M "
              f"segments/s)", flush=True)
        print(f"  speed-up GPU (public call) vs CPU: {t_cpu / best:.1f}x; kernel alone: "
              f"{t_cpu / kern:.1f}x", flush=True)
        print(f"  agreement on {take} segments: max rel. diff R {_rel(Rg[:take], Rc, Rc):.2e}, "
              f"A (relative to R) {_rel(Ag[:take], Ac, Rc):.2e}", flush=True)


if __name__ == "__main__":
    main()
