"""The ``graphgeo`` command."""

import argparse
import os
import sys
import time

import numpy as np

__all__ = ["main"]


def _demo(args):
    import graphgeo as gg
    from graphgeo.datasets import make_progression

    say = (lambda *a: None) if args.quiet else print
    t0 = time.perf_counter()
    data = make_progression(n=args.n, seed=args.seed)
    pts, t, metric = data["points"], data["time"], data["metric"]
    say(f"graphgeo {gg.__version__} demo: {len(pts)} points of a 2-D progression latent, "
        f"{metric!r}")
    t1 = time.perf_counter()
    g = gg.GeodesicGraph.build(pts, metric, k=args.k, seed=args.seed)
    t2 = time.perf_counter()
    say(f"built {g} in {t2 - t1:.2f} s (edge kernels, kNN, connectivity)")
    src, dst = int(np.argmin(t)), int(np.argmax(t))
    fwd = g.shortest_path(src, dst, method="astar")
    bwd = g.shortest_path(dst, src, method="astar")
    dij = g.shortest_path(src, dst, method="dijkstra")
    t3 = time.perf_counter()
    say(f"forward  path {src} -> {dst}: length {fwd.length:.4f}, {len(fwd)} nodes, "
        f"A* settled {fwd.n_settled} nodes vs Dijkstra {dij.n_settled}")
    say(f"backward path {dst} -> {src}: length {bwd.length:.4f}, {len(bwd)} nodes "
        f"(direction-aware: backward / forward = {bwd.length / fwd.length:.3f})")
    D = g.distances(sources=[src])[0]
    t4 = time.perf_counter()
    order = np.argsort(D)
    mono = float(np.mean(np.diff(t[fwd.nodes]) >= 0))
    say(f"distances from node {src} to all {g.n_nodes} nodes in {t4 - t3:.2f} s; "
        f"median {np.median(D):.4f}, max {D[order[-1]]:.4f}")
    say(f"progression time along the forward path is non-decreasing on {100 * mono:.0f}% of steps")
    os.makedirs(args.out, exist_ok=True)
    fig_path = os.path.join(args.out, "demo.png")
    _plot_demo(fig_path, pts, D, fwd, bwd, data["base"])
    say(f"figure written to {fig_path}; total {time.perf_counter() - t0:.2f} s")
    return 0


def _plot_demo(path, pts, D, fwd, bwd, base):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lo, hi = pts.min(axis=0) - 0.5, pts.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 160), np.linspace(lo[1], hi[1], 120))
    grid = np.c_[gx.ravel(), gy.ravel()]
    vol = 0.5 * np.log(np.linalg.det(base.metric_tensor(grid))).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    im = ax.pcolormesh(gx, gy, vol, cmap="Greys", shading="auto", alpha=0.6)
    fig.colorbar(im, ax=ax, label="log volume element  log sqrt(det G)")
    sc = ax.scatter(pts[:, 0], pts[:, 1], c=D, s=4, cmap="viridis")
    fig.colorbar(sc, ax=ax, label="directed distance from the source")
    ax.plot(fwd.points[:, 0], fwd.points[:, 1], "-", c="tab:red", lw=2,
            label=f"forward  (length {fwd.length:.3f})")
    ax.plot(bwd.points[:, 0], bwd.points[:, 1], "--", c="tab:orange", lw=2,
            label=f"backward (length {bwd.length:.3f})")
    ax.set_aspect("equal")
    ax.legend(loc="lower center")
    ax.set_title("graphgeo: Randers geodesics on a KNN graph (RHVAE-style metric)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def build_parser():
    p = argparse.ArgumentParser(prog="graphgeo", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the built-in demo: build, search, summarise, plot")
    d.add_argument("--out", default="graphgeo-demo", help="output folder for figures")
    d.add_argument("--n", type=int, default=3000, help="number of latent points")
    d.add_argument("--k", type=int, default=10, help="neighbours per point")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=_demo)
    return p


def main(argv=None):
    from graphgeo.exceptions import GraphGeoError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GraphGeoError as exc:
        print(f"graphgeo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
