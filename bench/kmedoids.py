"""k-medoids on a 5000 x 5000 directed geodesic cost matrix: graphgeo vs the kmedoids package.

Usage: python bench/kmedoids.py [--n 5000] [--k 10] [--repeats 3] [--seed 0]

The matrix is D = g.distances() of a Randers graph over the built-in progression latent
(asymmetric: D[a, b] = cost a -> b). Every method minimises the same loss
sum_o min_m D[o, m] (graphgeo's direction="to_medoid" is the kmedoids package's convention
D[point, medoid]). Peers, all measured in this run on the same matrix:

- kmedoids.fasterpam (Rust), its defaults: random init, n_cpu=-1 (all cores for N >= 1000)
- kmedoids.fasterpam from the same initial medoids, n_cpu=1: must reach the same loss
- kmedoids.alternating (Rust) and graphgeo's "alternate", from the same BUILD medoids, on
  the symmetrised S = (D + D^T) / 2: kmedoids.alternating mixes D[o, m] and D[m, o] on an
  asymmetric matrix (its loss is not the loss its medoid update minimises), so it is only
  comparable on a symmetric one, where both give the same medoids

graphgeo times are of GeodesicKMedoids(...).fit(D) end to end (validation, the transposed
copy for "to_medoid", the init, the kernel). Printed: median seconds, loss, and the
ratio graphgeo time / peer time (< 1: graphgeo faster).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

# this file is named like the peer package: drop bench/ from the path so that
# `import kmedoids` finds the package, not this script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import graphgeo as gg  # noqa: E402
from graphgeo.cluster import GeodesicKMedoids  # noqa: E402
from graphgeo.datasets import make_progression  # noqa: E402


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        import kmedoids
    except ImportError:
        sys.exit("this benchmark needs the kmedoids package: pip install kmedoids==0.5.5")

    data = make_progression(n=args.n, seed=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = gg.GeodesicGraph.build(data["points"], data["metric"], k=10, seed=args.seed)
    t0 = time.perf_counter()
    D = g.distances()
    print(f"graphgeo {gg.__version__}, kmedoids {getattr(kmedoids, '__version__', '0.5.5')}, "
          f"{os.cpu_count()} cores; N = {args.n}, k = {args.k}; D = g.distances() in "
          f"{time.perf_counter() - t0:.2f} s, asymmetry max|D - D^T| = {np.max(np.abs(D - D.T)):.3g}")
    k, R = args.k, args.repeats
    rng = np.random.default_rng(args.seed)
    init_rand = rng.choice(args.n, k, replace=False)

    # warm up the compiled kernels (numba caches them on disk; this loads them)
    small = D[:300, :300].copy()
    for m in ("fasterpam", "alternate"):
        GeodesicKMedoids(k, method=m).fit(small)
        GeodesicKMedoids(k, method=m, init=np.arange(k)).fit(small)

    rows = []
    t, r = timed(lambda: kmedoids.fasterpam(D, k, random_state=args.seed), R)
    rows.append(("kmedoids.fasterpam (defaults: random, n_cpu=-1)", t, float(r.loss)))
    t_rs, r = timed(lambda: kmedoids.fasterpam(D, init_rand.copy(), n_cpu=1), R)
    rows.append(("kmedoids.fasterpam (same random init, 1 core)", t_rs, float(r.loss)))
    loss_rs = float(r.loss)
    t_gr, km = timed(lambda: GeodesicKMedoids(k, init=init_rand).fit(D), R)
    rows.append(("graphgeo fasterpam (same random init)", t_gr, km.inertia_))
    assert np.isclose(km.inertia_, loss_rs, rtol=1e-9), (km.inertia_, loss_rs)
    t_gb, kb = timed(lambda: GeodesicKMedoids(k).fit(D), R)
    rows.append(("graphgeo fasterpam (init=BUILD, default)", t_gb, kb.inertia_))
    from graphgeo.kernels import kmedoids as kk

    S = 0.5 * (D + D.T)
    build = kk.build(S, k)  # the BUILD medoids of S, as start for both
    t_ra, r = timed(lambda: kmedoids.alternating(S, build.astype(np.uintp).copy()), R)
    rows.append(("kmedoids.alternating (S, BUILD init)", t_ra, float(r.loss)))
    t_ga, ka = timed(lambda: GeodesicKMedoids(k, method="alternate", init=build).fit(S), R)
    rows.append(("graphgeo alternate (S, BUILD init)", t_ga, ka.inertia_))
    t_gs, ks = timed(lambda: GeodesicKMedoids(k, init=build).fit(S), R)
    rows.append(("graphgeo fasterpam (S, BUILD init)", t_gs, ks.inertia_))

    print(f"\n{'method':<52}{'median s':>10}{'loss':>14}")
    for name, t, loss in rows:
        print(f"{name:<52}{t:>10.3f}{loss:>14.4f}")
    t_rust_default = rows[0][1]
    print("\nratios (graphgeo time / peer time; target <= 1.5 at equal or lower loss):")
    print(f"  fasterpam, same init      : {t_gr / t_rs:.2f}  (loss equal: "
          f"{np.isclose(km.inertia_, loss_rs, rtol=1e-9)})")
    print(f"  fasterpam BUILD vs Rust defaults: {t_gb / t_rust_default:.2f}  (loss "
          f"{kb.inertia_:.4f} vs {rows[0][2]:.4f})")
    print(f"  alternate vs kmedoids.alternating: {t_ga / t_ra:.2f}  (loss {ka.inertia_:.4f} vs "
          f"{rows[4][2]:.4f})")
    print(f"  FasterPAM loss / alternating loss on S (same BUILD start): "
          f"{ks.inertia_ / ka.inertia_:.4f}")


if __name__ == "__main__":
    main()
