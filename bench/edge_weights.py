"""Edge-weight throughput: graphgeo's edge kernel against a vectorised numpy reference.

Workload (a trained RHVAE's metric over its encoded data, built synthetically):

* points: N = 20,000 latent codes from a Gaussian mixture in R^d (8 components,
  means ~ N(0, 2^2 I), isotropic standard deviations uniform in [0.3, 0.7]),
  d = 2 and d = 8;
* RHVAE metric G^{-1}(z) = sum_k M_k exp(-|z - c_k|^2 / T^2) + lbd I with
  K = 500 centroids c_k, a random subset of the points (pythae keeps the training
  codes as centroids); M_k = L_k L_k^T with L_k lower triangular, diagonal
  exp(N(0, 0.5^2)), off-diagonal N(0, 0.3^2); lbd = 1e-3; temperature T a few
  centroid spacings (spacing = median nearest-neighbour distance between
  centroids): T = 5 spacings in d = 2, 3 in d = 8 (with 3 spacings in d = 2 the
  8-point Gauss-Legendre reference itself is off by ~3e-4 on the long edges of the
  mixture tails, so "agrees with GL-8 to 1e-6" would say nothing there);
* edges: the unique undirected pairs i < j of the union of the k = 10
  nearest-neighbour relations (scipy cKDTree), each integrated once.

The reference integrates R = int_0^1 sqrt(dv^T G(a + t dv) dv) dt with n-point
Gauss-Legendre in numpy, vectorised over chunks of quadrature points: squared
distances by one GEMM, np.exp, the weighted sum of the M_k by one GEMM
W (n_q x K) @ M.reshape(K, d*d), np.linalg.solve on the batch. It is run at 8
points (the accuracy reference) and at the smallest order n whose result stays
within 1e-6 (max relative difference) of GL-8, found in the same run.

graphgeo is timed through the public API, ``gg.segment_costs(metric, points, i, j,
quadrature=...)``, in adaptive mode (the default; --fixed adds the fixed 5-point
Gauss-Legendre kernel, the previous default). numba compiles before timing; the
reference and graphgeo runs are interleaved (the machine may be shared): each round
times the reference once and graphgeo three times in a row, and every figure is the
best over 3 rounds (the median of graphgeo's runs is printed too). Three runs in a row,
because on this 2-vCPU machine the first ~0.5-1 s of a 2-thread kernel that follows the
mostly single-threaded numpy reference (or an idle pause) often runs 20-40% slower than
the same call repeated (measured: 1.11, 0.95, 0.95, 0.72, 0.67 s for five calls right
after the reference; 0.70-0.73 s back to back); a 7-10 s reference run averages that
out, a 0.7 s kernel run does not.
Run: python bench/edge_weights.py [--quick] [--fixed] [--dims 2 8]
"""

import argparse
import os
import time

import numpy as np
from scipy.spatial import cKDTree

import graphgeo as gg
from graphgeo.costs import _adaptive, gauss_legendre

TARGET = 1e-6


def make_workload(d, n_points=20_000, n_centroids=500, n_components=8, spacings=None, lbd=1e-3,
                  seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 2.0, (n_components, d))
    stds = rng.uniform(0.3, 0.7, n_components)
    lab = rng.integers(0, n_components, n_points)
    X = means[lab] + stds[lab, None] * rng.normal(size=(n_points, d))
    C = X[rng.choice(n_points, n_centroids, replace=False)]
    dist, _ = cKDTree(C).query(C, k=2)
    spacing = float(np.median(dist[:, 1]))
    if spacings is None:
        spacings = 5.0 if d <= 2 else 3.0
    T = spacings * spacing
    L = np.tril(rng.normal(0.0, 0.3, (n_centroids, d, d)), -1)
    L[:, np.arange(d), np.arange(d)] = np.exp(0.5 * rng.normal(size=(n_centroids, d)))
    M = L @ np.swapaxes(L, 1, 2)
    return X, C, M, T, lbd, spacing


def knn_edges(X, k=10):
    _, nn = cKDTree(X).query(X, k=k + 1)
    i = np.repeat(np.arange(len(X), dtype=np.int64), k)
    j = nn[:, 1:].ravel().astype(np.int64)
    a, b = np.minimum(i, j), np.maximum(i, j)
    key = np.unique(a * len(X) + b)
    return key // len(X), key % len(X)


def reference(X, ia, ib, C, M, T, lbd, n, chunk_points=4096):
    """Vectorised numpy n-point Gauss-Legendre integral of sqrt(dv^T G dv)."""
    tq, wq = gauss_legendre(n)
    K, d = C.shape
    Mf = M.reshape(K, d * d)
    Cm2 = -2.0 * C.T
    cc = np.sum(C * C, axis=1)
    eye = np.eye(d)
    R = np.empty(len(ia))
    step = max(1, chunk_points // n)
    for s in range(0, len(ia), step):
        a = X[ia[s:s + step]]
        v = X[ib[s:s + step]] - a
        m = len(a)
        z = (a[:, None, :] + tq[None, :, None] * v[:, None, :]).reshape(m * n, d)
        Q = z @ Cm2
        Q += cc
        Q += np.sum(z * z, axis=1)[:, None]
        Q *= -1.0 / (T * T)
        np.exp(Q, out=Q)
        G_inv = (Q @ Mf).reshape(m * n, d, d)
        G_inv += lbd * eye
        vq = np.repeat(v, n, axis=0)
        y = np.linalg.solve(G_inv, vq[:, :, None])[:, :, 0]
        f = np.sqrt(np.einsum("ni,ni->n", vq, y))
        R[s:s + m] = f.reshape(m, n) @ wq
    return R


def best_of(fn, repeat=3):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def maxrel(x, ref):
    return float(np.max(np.abs(x - ref) / np.abs(ref)))


def run(d, args):
    X, C, M, T, lbd, spacing = make_workload(d, n_points=args.n, n_centroids=args.centroids)
    ia, ib = knn_edges(X, args.k)
    E = len(ia)
    metric = gg.RHVAEMetric(C, M, T, lbd)
    h = np.linalg.norm(X[ib] - X[ia], axis=1) / T
    print(f"\n== d = {d}: N = {len(X)}, K = {len(C)}, T = {T:.4g} ({T / spacing:.1f} centroid "
          f"spacings), lbd = {lbd:g}, k = {args.k}: {E} edges, |edge|/T median {np.median(h):.2f}, "
          f"max {h.max():.2f}")

    # accuracy: GL-8 (and its own convergence against GL-16), then the smallest order
    # within TARGET of GL-8
    R8 = reference(X, ia, ib, C, M, T, lbd, 8)
    R16 = reference(X, ia, ib, C, M, T, lbd, 16)
    n_min = 8
    scan = []
    for n in range(1, 8):
        err = maxrel(reference(X, ia, ib, C, M, T, lbd, n), R8)
        scan.append(f"GL-{n} {err:.0e}")
        if err <= TARGET:
            n_min = n
            break
    print(f"reference accuracy: GL-8 vs GL-16 max rel diff {maxrel(R8, R16):.1e}; vs GL-8: "
          + ", ".join(scan) + f" -> smallest order within {TARGET:g}: GL-{n_min}")

    # timings, interleaved so that the reference and the kernel see the same machine load
    gg.segment_costs(metric, X, ia[:100], ib[:100])  # compile (cached on disk) before timing
    t_ref8 = t_refm = np.inf
    runs = []

    def graphgeo_runs():
        out = None
        for _ in range(3):
            t = time.perf_counter()
            out = gg.segment_costs(metric, X, ia, ib)
            runs.append(time.perf_counter() - t)
        return out

    for _ in range(args.repeat):
        t_ref8 = min(t_ref8, best_of(lambda: reference(X, ia, ib, C, M, T, lbd, 8), 1)[0])
        R, A = graphgeo_runs()
        if n_min < 8:
            t_refm = min(t_refm, best_of(lambda: reference(X, ia, ib, C, M, T, lbd, n_min), 1)[0])
            graphgeo_runs()
    t_ad = min(runs)
    if n_min == 8:
        t_refm = t_ref8
    print(f"reference GL-8: {t_ref8:8.3f} s  {E / t_ref8:12,.0f} edges/s")
    if n_min < 8:
        print(f"reference GL-{n_min}: {t_refm:8.3f} s  {E / t_refm:12,.0f} edges/s")
    _, _, _, lev = _adaptive(metric, X, ia, ib, None, gg.costs.ADAPTIVE_RTOL)
    frac = np.bincount(lev, minlength=5)[1:] / E
    print(f"graphgeo adaptive: {t_ad:8.3f} s  {E / t_ad:12,.0f} edges/s   max rel err vs GL-8 "
          f"{maxrel(R, R8):.1e}, vs GL-16 {maxrel(R, R16):.1e}")
    print(f"    graphgeo runs: median {np.median(runs):.3f} s of {len(runs)} (ratio at the median: "
          f"{t_ref8 / np.median(runs):.1f}x vs GL-8)")
    print(f"    accepted at 1 / 3 / 7 interior points / bisection: "
          + " / ".join(f"{100 * f:.2f}%" for f in frac))
    r8, rm = t_ref8 / t_ad, t_refm / t_ad
    if args.fixed:
        # graphgeo, fixed 5-point Gauss-Legendre (the previous default), one run
        gg.segment_costs(metric, X, ia[:100], ib[:100], quadrature=5)
        t_gl, (Rg, _) = best_of(lambda: gg.segment_costs(metric, X, ia, ib, quadrature=5), 1)
        print(f"graphgeo GL-5 (fixed, 1 run): {t_gl:8.3f} s  {E / t_gl:12,.0f} edges/s   max rel "
              f"err vs GL-8 {maxrel(Rg, R8):.1e}")
    print(f"speed-up of adaptive: {r8:5.1f}x vs reference GL-8, {rm:5.1f}x vs reference GL-{n_min}")
    return r8, rm, maxrel(R, R8)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--centroids", type=int, default=500)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--dims", type=int, nargs="+", default=[2, 8])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="N = 4000, one repetition")
    p.add_argument("--fixed", action="store_true",
                   help="also time graphgeo's fixed 5-point Gauss-Legendre kernel (one run)")
    args = p.parse_args()
    if args.quick:
        args.n, args.repeat = 4000, 1
    import numba

    print(f"graphgeo {gg.__version__}, numpy {np.__version__}, numba {numba.__version__}, "
          f"{os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}, load average "
          f"{os.getloadavg()[0]:.2f} (other processes slow the 2-thread kernel most)")
    rows = [(d,) + run(d, args) for d in args.dims]
    print(f"\nsummary (best of {args.repeat} rounds; load average now {os.getloadavg()[0]:.2f}):")
    for d, r8, rm, err in rows:
        flags = (f"accuracy {'ok' if err <= TARGET else 'MISSED'}, >= 10x vs GL-8 "
                 f"{'yes' if r8 >= 10 else 'NO'}, >= 10x vs minimal order {'yes' if rm >= 10 else 'NO'}")
        print(f"  d = {d}: {r8:5.1f}x vs GL-8, {rm:5.1f}x vs minimal-order GL, max rel err "
              f"{err:.1e}  [{flags}]")


if __name__ == "__main__":
    main()
