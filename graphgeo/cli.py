"""The ``graphgeo`` command: build graphs, find paths, compute distances from files.

Exit codes: 0 success, 2 bad input (a one-line message on stderr), 1 unexpected error.
Long steps show tqdm progress bars on stderr, unless --quiet or TQDM_DISABLE=1.
"""

import argparse
import os
import sys
import time

import numpy as np

__all__ = ["main"]


def _demo(args):
    import warnings

    import graphgeo as gg
    from graphgeo.datasets import make_progression
    from graphgeo.exceptions import MissingDependencyError
    from graphgeo.maps import Grid, distance_map

    plt = _pyplot("the figures of 'graphgeo demo'")  # before any work
    say = _say(args)
    clock = time.perf_counter
    t0 = clock()
    data = make_progression(n=args.n, seed=args.seed)
    pts, t, metric, base = data["points"], data["time"], data["metric"], data["base"]
    say(f"graphgeo {gg.__version__} demo: {len(pts)} points of a 2-D progression latent")
    say(f"  metric: {metric!r}")
    t1 = clock()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = gg.GeodesicGraph.build(pts, metric, k=args.k, seed=args.seed, verbose=not args.quiet)
    for w in caught:
        say(f"  note: {w.message}")
    say(f"[{clock() - t1:6.2f} s] built {g}")

    src, dst = int(np.argmin(t)), int(np.argmax(t))
    t1 = clock()
    fwd = g.shortest_path(src, dst, method="astar")
    bwd = g.shortest_path(dst, src, method="astar")
    dij = g.shortest_path(src, dst, method="dijkstra")
    say(f"[{clock() - t1:6.2f} s] graph paths {src} -> {dst}: forward {fwd.length:.4f}, backward "
        f"{bwd.length:.4f} (ratio {bwd.length / fwd.length:.2f}); A* settled {fwd.n_settled} "
        f"nodes, Dijkstra {dij.n_settled}")
    t1 = clock()
    try:
        cf = gg.geodesic(metric, pts[src], pts[dst], graph=g, verbose=not args.quiet)
        cb = gg.geodesic(metric, pts[dst], pts[src], graph=g, verbose=not args.quiet)
        say(f"[{clock() - t1:6.2f} s] refined geodesics: forward {cf.length:.4f} "
            f"({100 * (1 - cf.length / fwd.length):.1f}% shorter than the graph path), "
            f"backward {cb.length:.4f}")
    except MissingDependencyError:
        cf, cb = fwd, bwd
        say("           (install torch to refine the graph paths into smooth geodesics)")
    mono = float(np.mean(np.diff(t[fwd.nodes]) >= 0))
    say(f"           progression time is non-decreasing on {100 * mono:.0f}% of the forward "
        "path's steps")

    t1 = clock()
    D = g.distances(sources=[src])[0]
    say(f"[{clock() - t1:6.2f} s] distances from node {src} to all {g.n_nodes} nodes: median "
        f"{np.median(D):.4f}, max {D.max():.4f}")
    t1 = clock()
    lo, hi = pts.min(axis=0) - 0.3, pts.max(axis=0) + 0.3
    grid = Grid(lo, hi, args.grid)
    dist, _ = distance_map(metric, grid, pts[[src]], verbose=not args.quiet)
    say(f"[{clock() - t1:6.2f} s] distance map on a {args.grid} x {args.grid} grid "
        f"(16-neighbour stencil)")
    t1 = clock()
    km = gg.GeodesicKMedoids(n_clusters=4, method="voronoi", random_state=args.seed,
                             verbose=not args.quiet).fit(g)
    order = np.argsort(t[km.medoid_indices_])
    say(f"[{clock() - t1:6.2f} s] geodesic k-medoids (graph Voronoi, k = 4): inertia "
        f"{km.inertia_:.2f}, medoids at progression times "
        f"{', '.join(f'{x:.2f}' for x in t[km.medoid_indices_][order])}")

    os.makedirs(args.out, exist_ok=True)
    written = _demo_figures(plt, args.out, pts, base, fwd, bwd, cf, cb, dist, grid, pts[[src]], km)
    say(f"figures: {', '.join(written)}")
    say(f"total {clock() - t0:.2f} s")
    return 0


def _cluster(args):
    import graphgeo as gg
    from graphgeo.io import save_npy

    say = _say(args)
    g = gg.GeodesicGraph.load(args.graph)
    t0 = time.perf_counter()
    km = gg.GeodesicKMedoids(n_clusters=args.n_clusters, method=args.method,
                             direction=args.direction, random_state=args.seed,
                             verbose=not args.quiet).fit(g)
    written = save_npy(args.output, km.labels_, "labels")
    sizes = np.bincount(km.labels_, minlength=args.n_clusters)
    say(f"{args.n_clusters} clusters ({args.method}, {args.direction}) in "
        f"{time.perf_counter() - t0:.2f} s: inertia {km.inertia_:.6g}, medoids "
        f"{', '.join(map(str, km.medoid_indices_))}, sizes {', '.join(map(str, sizes))}")
    say(f"labels saved to {written}")
    return 0


def _map(args):
    import graphgeo as gg
    from graphgeo.exceptions import InvalidInputError
    from graphgeo.io import load_indices
    from graphgeo.maps import Grid, distance_map, volume_element
    from graphgeo.plot import plot_distance_map, plot_field

    plt = _pyplot("graphgeo map")  # before any work: a missing matplotlib fails at once
    say = _say(args)
    g = gg.GeodesicGraph.load(args.graph)
    if g.metric is None:
        raise InvalidInputError(f"{args.graph} holds no metric; rebuild it with 'graphgeo build'.")
    if g.dim != 2:
        raise InvalidInputError(f"map draws 2-D latents; the graph has dimension {g.dim}.")
    seeds = load_indices(args.seeds, g.n_nodes, "--seeds")
    pad = 0.1 * np.ptp(g.points, axis=0)
    grid = Grid(g.points.min(axis=0) - pad, g.points.max(axis=0) + pad, args.grid)
    t0 = time.perf_counter()
    dist, nearest = distance_map(g.metric, grid, g.points[seeds], verbose=not args.quiet)
    vol = volume_element(g.metric, grid.points).reshape(grid.shape)
    say(f"{args.grid} x {args.grid} distance map from {len(seeds)} seed(s) in "
        f"{time.perf_counter() - t0:.2f} s")
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    plot_distance_map(dist, grid, seeds=g.points[seeds], nearest=nearest, ax=axes[0],
                      title="directed distance from the seeds")
    plot_field(vol, grid, ax=axes[1], log=True, label="volume element sqrt(det G)",
               title="volume element")
    from graphgeo.io import save_figure

    written = save_figure(fig, args.output, dpi=110)
    plt.close(fig)
    say(f"figure written to {written}")
    return 0


def _demo_figures(plt, out, pts, base, fwd, bwd, cf, cb, dist, grid, seeds, km):
    from graphgeo.io import save_figure
    from graphgeo.plot import plot_clusters, plot_distance_map, plot_geodesics, plot_randers_geodesics

    written = []

    def save(ax_or_fig, name):
        fig = getattr(ax_or_fig, "figure", ax_or_fig)
        written.append(save_figure(fig, os.path.join(out, name), dpi=110))
        plt.close(fig)

    save(plot_geodesics(pts, {"graph path": fwd, "refined geodesic": cf}, metric=base,
                        title="forward geodesic over the log volume element"), "demo.png")
    save(plot_randers_geodesics(cf, cb, points=pts, metric=base,
                                title="Randers geodesics: forward (solid) and backward (dashed)"),
         "randers.png")
    save(plot_distance_map(dist, grid, seeds=seeds, title="directed distance from the source"),
         "distance_map.png")
    save(plot_clusters(pts, km.labels_, km.medoid_indices_, metric=base,
                       title="geodesic k-medoids"), "clusters.png")
    return written


def _pyplot(feature):
    """matplotlib.pyplot on the non-interactive Agg backend (the command only writes files)."""
    from graphgeo._optional import require

    require("matplotlib", feature).use("Agg")
    return require("matplotlib.pyplot", feature)


def _say(args):
    return (lambda *a: None) if args.quiet else print


def _build(args):
    import graphgeo as gg
    from graphgeo.io import load_metric, load_points

    say = _say(args)
    pts = load_points(args.points)
    metric = load_metric(args.metric, pts.shape[1], args.metric_file, args.omega, args.max_norm)
    t0 = time.perf_counter()
    g = gg.GeodesicGraph.build(pts, metric, k=args.k, quadrature=args.quadrature, knn=args.knn,
                               seed=args.seed, connect=args.connect, verbose=not args.quiet)
    g.save(args.output)
    say(f"{g} built in {time.perf_counter() - t0:.2f} s, saved to {args.output}")
    return 0


def _endpoint(text, name):
    from graphgeo.io import parse_vector

    try:
        return int(text)
    except ValueError:
        return parse_vector(text, name)


def _path(args):
    import graphgeo as gg

    say = _say(args)
    g = gg.GeodesicGraph.load(args.graph)
    a, b = _endpoint(args.source, "--source"), _endpoint(args.target, "--target")
    fwd = g.shortest_path_between(a, b, method=args.method)
    out = {"forward_nodes": fwd.nodes, "forward_points": fwd.points,
           "forward_length": np.array(fwd.length)}
    say(f"forward : length {fwd.length:.6g}, {len(fwd.nodes)} nodes")
    if args.both:
        bwd = g.shortest_path_between(b, a, method=args.method)
        out.update(backward_nodes=bwd.nodes, backward_points=bwd.points,
                   backward_length=np.array(bwd.length))
        say(f"backward: length {bwd.length:.6g}, {len(bwd.nodes)} nodes "
            f"(backward / forward = {bwd.length / fwd.length:.4f})")
    if args.output:
        from graphgeo.io import save_npz

        say(f"saved to {save_npz(args.output, 'paths', **out)}")
    return 0


def _distances(args):
    import graphgeo as gg
    from graphgeo.io import atomic_path, load_indices

    say = _say(args)
    g = gg.GeodesicGraph.load(args.graph)
    src = load_indices(args.sources, g.n_nodes, "--sources")
    tgt = load_indices(args.targets, g.n_nodes, "--targets")
    shape = (g.n_nodes if src is None else len(src), g.n_nodes if tgt is None else len(tgt))
    dtype = np.dtype(args.dtype)
    t0 = time.perf_counter()
    with atomic_path(args.output, "distance matrix") as tmp:  # no partial matrix on failure
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        g.distances(src, tgt, limit=args.limit, out=out, verbose=not args.quiet)
        out.flush()
        del out  # unmapped before the rename
    say(f"{shape[0]} x {shape[1]} distances in {time.perf_counter() - t0:.2f} s -> {args.output}")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="graphgeo", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--quiet", action="store_true",
                        help="print nothing but errors: no summary lines, no progress bars "
                        "(TQDM_DISABLE=1 turns off the bars only)")
        sp.add_argument("--seed", type=int, default=0)

    d = sub.add_parser("demo", help="run the built-in demo: build, search, summarise, plot")
    d.add_argument("--out", default="graphgeo-demo", help="output folder for figures")
    d.add_argument("--n", type=int, default=3000, help="number of latent points")
    d.add_argument("--k", type=int, default=10, help="neighbours per point")
    d.add_argument("--grid", type=int, default=150, help="distance-map grid size per axis")
    common(d)
    d.set_defaults(func=_demo)

    b = sub.add_parser("build", help="build a graph from a points file")
    b.add_argument("points", help="points: .npy, .npz (key 'points') or .csv")
    b.add_argument("-o", "--output", required=True, help="graph file to write (.npz)")
    b.add_argument("--metric", default="euclidean", choices=["euclidean", "rhvae", "vae"])
    b.add_argument("--metric-file", help="rhvae: .npz with centroids, M, temperature, lbd; "
                   "vae: .npz with mu, sigma, tau, lbd")
    b.add_argument("--omega", help="Randers 1-form: a constant 'a,b,...', or .npy (d,), or .npz "
                   "(centers/coefficients/bandwidth, or points/values)")
    b.add_argument("--max-norm", type=float, help="rescale omega pointwise to this G^-1 norm")
    b.add_argument("-k", type=int, default=10)
    b.add_argument("--quadrature", type=lambda x: x if x == "adaptive" else int(x),
                   help="'adaptive' (the default) or a number of Gauss-Legendre points")
    b.add_argument("--knn", default="auto", choices=["auto", "exact", "pynndescent"])
    b.add_argument("--connect", default="bridge", choices=["bridge", "raise", "ignore"])
    common(b)
    b.set_defaults(func=_build)

    pa = sub.add_parser("path", help="shortest path between two nodes or coordinates")
    pa.add_argument("graph", help="graph file written by 'graphgeo build'")
    pa.add_argument("--source", required=True, help="node index or coordinates 'x,y,...' (write --source=-1,2 for a leading minus)")
    pa.add_argument("--target", required=True, help="node index or coordinates 'x,y,...' (write --source=-1,2 for a leading minus)")
    pa.add_argument("--method", default="astar", choices=["astar", "dijkstra"])
    pa.add_argument("--both", action="store_true", help="also the reverse direction")
    pa.add_argument("-o", "--output", help="write nodes, points and lengths to this .npz")
    common(pa)
    pa.set_defaults(func=_path)

    di = sub.add_parser("distances", help="directed distances to a .npy file (memory-mapped)")
    di.add_argument("graph")
    di.add_argument("--sources", help="'i,j,k', a range 'a:b' or a .npy of indices (default: all)")
    di.add_argument("--targets", help="as --sources (default: all)")
    di.add_argument("--limit", type=float)
    di.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    di.add_argument("-o", "--output", required=True, help=".npy file to write")
    common(di)
    di.set_defaults(func=_distances)

    cl = sub.add_parser("cluster", help="geodesic k-medoids; labels to a .npy file")
    cl.add_argument("graph")
    cl.add_argument("--n-clusters", type=int, required=True)
    cl.add_argument("--method", default="fasterpam", choices=["fasterpam", "alternate", "voronoi"])
    cl.add_argument("--direction", default="to_medoid",
                    choices=["to_medoid", "from_medoid", "symmetric"])
    cl.add_argument("-o", "--output", required=True, help=".npy file for the labels")
    common(cl)
    cl.set_defaults(func=_cluster)

    mp = sub.add_parser("map", help="grid distance map and volume element of a 2-D graph, to PNG")
    mp.add_argument("graph")
    mp.add_argument("--seeds", default="0", help="seed nodes: 'i,j', a range 'a:b' or a .npy")
    mp.add_argument("--grid", type=int, default=200, help="grid nodes per axis")
    mp.add_argument("-o", "--output", required=True, help="PNG file to write")
    common(mp)
    mp.set_defaults(func=_map)
    return p


def main(argv=None):
    from graphgeo.exceptions import GraphGeoError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GraphGeoError as exc:
        print(f"graphgeo: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # unwritable output, full disk
        print(f"graphgeo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
