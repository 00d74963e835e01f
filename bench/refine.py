"""Continuous geodesics: accuracy of each pipeline stage on analytic cases, and throughput.

Usage: python bench/refine.py [--n 5000] [--k 12] [--pairs 100] [--dims 2 3 8]
                              [--batch 1000] [--single 50] [--threads 1] [--seed 0]

Part 1, accuracy. For each case and dimension d, a 12-NN graph over n uniform points and
random off-graph endpoint pairs; gg.geodesics runs the whole pipeline and the table shows
the median (and max) relative error against the closed form of

    graph      the graph path (endpoints attached through the KNN index), Curve.length_graph
    shortcut   any-angle shortcut of that path (same kernels),           Curve.length_shortcut
    spline     cubic spline through the shortcut's vertices, 64 points,  Curve.length_spline
    refined    after batched L-BFGS on the discrete energy,              Curve.length

Cases (all closed forms hold in every dimension):
    zermelo     constant Randers F(v) = sqrt(v^T G v) + <omega, v> of Zermelo navigation with
                a constant wind W (|W| = 0.5): time |delta - T W| = T, straight geodesics
    hyperbolic  upper half-space G = I / y^2 (FieldMetric with torch_fn):
                d = arccosh(1 + |a - b|^2 / (2 a_y b_y)), geodesics are half-circles
    hyp+wind    Randers(hyperbolic, w) with a constant 1-form w (|w| y < 1 on the domain):
                d_H(a, b) + <w, b - a>, direction-aware, same curves

Part 2, throughput on the hyperbolic plane: curves per second for ``--batch`` pairs in one
gg.geodesics call against the same pipeline one pair at a time (gg.geodesic, on the first
``--single`` pairs), and the same for the refinement stage alone (refine on a batch vs one
curve per call). Both peers run in this process with the same torch thread count.
"""

import argparse
import time

import numpy as np

import graphgeo as gg
from graphgeo.curves import geodesic, geodesics
from graphgeo.curves.refine import refine


def hyperbolic(d):
    import torch

    def fn(z):
        return np.eye(z.shape[1])[None] / z[:, -1, None, None] ** 2

    def tfn(z):
        return torch.eye(z.shape[1], dtype=z.dtype, device=z.device)[None] / z[:, -1, None, None] ** 2

    return gg.FieldMetric(fn, d, torch_fn=tfn)


def hyp_dist(a, b):
    return np.arccosh(1 + np.sum((a - b) ** 2, axis=-1) / (2 * a[..., -1] * b[..., -1]))


def zermelo(d):
    W = np.zeros(d)
    W[0], W[1] = 0.4, 0.3  # |W| = 0.5
    lam = 1.0 - W @ W
    G = (lam * np.eye(d) + np.outer(W, W)) / lam**2
    metric = gg.Randers(gg.ConstantMetric(G), -W / lam)

    def exact(a, b):
        D = b - a
        dw = D @ W
        return (np.sqrt(dw**2 + lam * np.sum(D * D, axis=1)) - dw) / lam

    return metric, exact


def half_space(rng, n, d, lo=0.2, hi=2.5, width=2.0):
    P = rng.uniform(0, 1, (n, d))
    P[:, :-1] = width * (2 * P[:, :-1] - 1)
    P[:, -1] = lo + (hi - lo) * P[:, -1]
    return P


def case(name, d, rng, n):
    """(metric, graph points, endpoint sampler, exact length function)."""
    if name == "zermelo":
        metric, exact = zermelo(d)
        P = rng.uniform(-1, 1, (n, d))

        def sample(B):
            return rng.uniform(-0.8, 0.8, (2, B, d))

        return metric, P, sample, exact
    base = hyperbolic(d)
    P = half_space(rng, n, d)

    def sample(B):
        z = half_space(rng, 2 * B, d, lo=0.4, hi=2.0, width=1.5)
        return z[:B], z[B:]

    if name == "hyperbolic":
        return base, P, sample, hyp_dist
    w = np.zeros(d)
    w[0] = 0.3  # |w|_{G^-1} = 0.3 y <= 0.75 on the graph's domain
    return gg.Randers(base, w), P, sample, lambda a, b: hyp_dist(a, b) + (b - a) @ w


def accuracy(args):
    print(f"== accuracy: n = {args.n} uniform points, k = {args.k}, {args.pairs} off-graph pairs, "
          "64-point curves; relative error vs closed form, median (max)")
    head = f"{'case':<12}{'d':>3}{'graph':>19}{'shortcut':>19}{'spline':>19}{'refined':>19}{'s/pair':>9}"
    print(head)
    print("-" * len(head))
    for name in ("zermelo", "hyperbolic", "hyp+wind"):
        for d in args.dims:
            rng = np.random.default_rng(args.seed)
            metric, P, sample, exact = case(name, d, rng, args.n)
            g = gg.GeodesicGraph.build(P, metric, k=args.k, seed=args.seed)
            a, b = sample(args.pairs)
            t0 = time.perf_counter()
            cs = geodesics(metric, a, b, graph=g)
            dt = (time.perf_counter() - t0) / args.pairs
            true = exact(a, b)
            L = np.array([[c.length_graph, c.length_shortcut, c.length_spline, c.length] for c in cs])
            rel = np.abs(L / true[:, None] - 1)
            cells = "".join(f"{np.median(rel[:, j]):>10.2e} ({np.max(rel[:, j]):.1e})" for j in range(4))
            print(f"{name:<12}{d:>3}{cells}{dt:>9.4f}")


def throughput(args):
    rng = np.random.default_rng(args.seed)
    metric, P, sample, exact = case("hyperbolic", 2, rng, args.n)
    g = gg.GeodesicGraph.build(P, metric, k=args.k, seed=args.seed)
    a, b = sample(args.batch)
    geodesics(metric, a[:4], b[:4], graph=g)  # warm-up: numba caches, torch init

    t0 = time.perf_counter()
    cs = geodesics(metric, a, b, graph=g)
    t_batch = time.perf_counter() - t0
    m = min(args.single, args.batch)
    t0 = time.perf_counter()
    one = [geodesic(metric, a[i], b[i], graph=g) for i in range(m)]
    t_one = time.perf_counter() - t0
    agree = max(abs(o.length - c.length) / c.length for o, c in zip(one, cs))

    t = np.linspace(0, 1, 64)
    X = a[:, None] + t[None, :, None] * (b - a)[:, None]
    t0 = time.perf_counter()
    rb = refine(metric, X)
    r_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(m):
        refine(metric, X[i])
    r_one = time.perf_counter() - t0
    rel = np.abs(rb.length / exact(a, b) - 1)

    print(f"\n== throughput: hyperbolic plane, {args.batch} pairs batched, {m} one at a time, "
          f"64 points, torch threads {args.threads}")
    print(f"{'stage':<34}{'batched curves/s':>18}{'one-at-a-time curves/s':>24}{'ratio':>8}")
    print(f"{'gg.geodesics (whole pipeline)':<34}{args.batch / t_batch:>18.1f}{m / t_one:>24.1f}{(args.batch / t_batch) / (m / t_one):>8.1f}")
    print(f"{'refine only (from straight lines)':<34}{args.batch / r_batch:>18.1f}{m / r_one:>24.1f}"
          f"{(args.batch / r_batch) / (m / r_one):>8.1f}")
    print(f"batched vs single pipeline lengths agree to {agree:.1e} (relative); "
          f"refined error median {np.median(rel):.1e}, max {rel.max():.1e}; median iterations "
          f"{int(np.median([c.n_iter for c in cs]))}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 3, 8])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--single", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if not args.skip_accuracy:
        accuracy(args)
    if not args.skip_throughput:
        throughput(args)


if __name__ == "__main__":
    main()
