"""Continuous geodesics: accuracy of each pipeline stage on analytic cases, and throughput.

Usage: python bench/refine.py [--n 5000] [--k 12] [--pairs 100] [--dims 2 3 8]
                              [--batch 1000] [--single 50] [--threads 1] [--seed 0]
                              [--numpy-field] [--numpy-pairs 200] [--numpy-dims 2 3]
                              [--numpy-repeat 3]

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

Part 3 (``--numpy-field``, alone with --skip-accuracy --skip-throughput), numpy-only fields:
the same analytic cases given as numpy callables without torch_fn, refined with each
gradient mode of graphgeo.curves.fieldgrad (forced with ``gradient=``) against torch_fn in
the same run: ``--numpy-pairs`` curves of 64 points from straight lines (Zermelo: from
perturbed straight lines, since the straight line is its geodesic), relative error of the
refined length vs the closed form (median, max), median L-BFGS iterations, refinement
time (best of ``--numpy-repeat``) and its ratio to torch_fn's, and the largest relative difference between the refined
lengths and torch_fn's (same curves, same solver: only the gradient differs). Cases:
    hyperbolic  FieldMetric(fn) with fn(z) = I / y^2
    hyp+omega   Randers(FieldMetric(fn), omega) with a numpy callable omega = grad phi,
                phi = 0.1 y sin x (exact: geodesics unchanged, L = d_H + phi(b) - phi(a))
    zermelo     Randers(FieldMetric(z -> G_W), -W / lam): the constant Zermelo metric
                hidden behind a field, so the optimiser has to find the straight segment
The "torch" mode uses a fn that dispatches on its input (torch.eye for tensors).
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


def _numpy_case(name, d, rng, B):
    """(fn numpy complex-safe, fn dispatching on torch, torch_fn, omega triple or None,
    initial curves, exact lengths) for one analytic case."""
    import torch

    t = np.linspace(0, 1, 64)
    if name == "zermelo":
        W = np.zeros(d)
        W[0], W[1] = 0.4, 0.3
        lam = 1.0 - W @ W
        G = (lam * np.eye(d) + np.outer(W, W)) / lam**2

        def fn(z):
            return G[None] + 0 * z[:, :1, None]

        def any_fn(z):
            return torch.as_tensor(G, dtype=z.dtype)[None] + 0 * z[:, :1, None] if torch.is_tensor(z) else fn(z)

        def tfn(z):
            return torch.as_tensor(G, dtype=z.dtype)[None] + 0 * z[:, :1, None]

        a, b = rng.uniform(-0.8, 0.8, (2, B, d))
        X = a[:, None] + t[None, :, None] * (b - a)[:, None]
        X[:, 1:-1] += 0.05 * rng.normal(size=X[:, 1:-1].shape)
        D = b - a
        dw = D @ W
        exact = (np.sqrt(dw**2 + lam * np.sum(D * D, axis=1)) - dw) / lam
        const = -W / lam
        def om_t(z):
            return torch.as_tensor(const, dtype=z.dtype) + 0 * z

        omega = (lambda z: const + 0 * z, lambda z: om_t(z) if torch.is_tensor(z) else const + 0 * z, om_t)
        return fn, any_fn, tfn, omega, X, exact

    def fn(z):
        return np.eye(d)[None] / z[:, -1, None, None] ** 2

    def any_fn(z):
        return tfn(z) if torch.is_tensor(z) else fn(z)

    def tfn(z):
        return torch.eye(d, dtype=z.dtype, device=z.device)[None] / z[:, -1, None, None] ** 2

    z = half_space(rng, 2 * B, d, lo=0.4, hi=2.0, width=1.5)
    a, b = z[:B], z[B:]
    X = a[:, None] + t[None, :, None] * (b - a)[:, None]
    exact = hyp_dist(a, b)
    if name == "hyperbolic":
        return fn, any_fn, tfn, None, X, exact

    def phi(z):
        return 0.1 * z[..., -1] * np.sin(z[..., 0])

    def om(z, xp):
        out = 0 * z
        cols = [0.1 * z[:, -1] * xp.cos(z[:, 0])] + [0 * z[:, 0]] * (d - 2) + [0.1 * xp.sin(z[:, 0])]
        return out + xp.stack(cols, 1)

    def om_any(z):
        return om(z, torch if torch.is_tensor(z) else np)

    omega = (lambda z: om(z, np), om_any, lambda z: om(z, torch))
    return fn, any_fn, tfn, omega, X, exact + phi(b) - phi(a)


def numpy_field(args):
    print(f"\n== numpy-only fields: {args.numpy_pairs} curves of 64 points per case, refine() with "
          f"each gradient mode vs torch_fn, torch threads {args.threads}")
    head = (f"{'case':<12}{'d':>3}  {'gradient':<20}{'median err':>12}{'max err':>10}{'iters':>7}"
            f"{'seconds':>9}{'time/torch_fn':>15}{'|dL|/L vs torch_fn':>20}")
    print(head)
    print("-" * len(head))
    modes = ("torch_fn", "torch", "complex-step", "finite-differences")
    for name in ("hyperbolic", "hyp+omega", "zermelo"):
        for d in args.numpy_dims:
            rng = np.random.default_rng(args.seed)
            fn, any_fn, tfn, omega, X, exact = _numpy_case(name, d, rng, args.numpy_pairs)
            base = {"torch_fn": gg.FieldMetric(fn, d, torch_fn=tfn), "torch": gg.FieldMetric(any_fn, d),
                    "complex-step": gg.FieldMetric(fn, d), "finite-differences": gg.FieldMetric(fn, d)}
            t_ref = None
            for mode in modes:
                metric = base[mode]
                if omega is not None:
                    om = {"torch_fn": gg.CallableField(omega[0], d, torch_fn=omega[2]),
                          "torch": omega[1]}.get(mode, omega[0])
                    metric = gg.Randers(metric, om)
                refine(metric, X[:2], gradient=mode)  # warm-up
                dt = np.inf
                for _ in range(args.numpy_repeat):  # best of: the machine is shared
                    t0 = time.perf_counter()
                    res = refine(metric, X, gradient=mode)
                    dt = min(dt, time.perf_counter() - t0)
                assert res.gradient == mode, (res.gradient_parts, mode)
                if mode == "torch_fn":
                    t_ref, L_ref = dt, res.length
                rel = np.abs(res.length / exact - 1)
                print(f"{name:<12}{d:>3}  {mode:<20}{np.median(rel):>12.2e}{rel.max():>10.1e}"
                      f"{int(np.median(res.n_iter)):>7}{dt:>9.3f}{dt / t_ref:>14.2f}x"
                      f"{np.max(np.abs(res.length / L_ref - 1)):>20.1e}")


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
    ap.add_argument("--numpy-field", action="store_true",
                    help="part 3: numpy-only fields, each gradient mode vs torch_fn")
    ap.add_argument("--numpy-pairs", type=int, default=200)
    ap.add_argument("--numpy-dims", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--numpy-repeat", type=int, default=3, help="best-of repeats of each timing")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if not args.skip_accuracy:
        accuracy(args)
    if not args.skip_throughput:
        throughput(args)
    if args.numpy_field:
        numpy_field(args)


if __name__ == "__main__":
    main()
