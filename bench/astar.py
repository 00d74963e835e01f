"""Single-pair shortest paths on a 100k-node 2-D KNN graph: graphgeo A* vs Dijkstra vs scipy.

Usage: python bench/astar.py [--n 100000] [--k 10] [--pairs 50] [--seed 0]

For each graph (Euclidean, and Randers with a small constant omega) and the same
random (source, target) pairs, all in this run:

- graphgeo A*            g.shortest_path(s, t, method="astar")
- graphgeo Dijkstra      g.shortest_path(s, t, method="dijkstra") (stops at the target)
- scipy full             scipy.sparse.csgraph.dijkstra(W, indices=s) (no early exit: the
                         whole single-source tree)
- scipy limit=d(s, t)    the same with limit set to the known answer: an oracle bound,
                         not available to a real query, shown as scipy's best case
                         (min_only only changes how multiple sources combine, it is not an
                         early exit, so it is not timed separately)

Printed: per-query times (median and mean, ms), the ratio scipy/A*, and the
settled-node ratio Dijkstra/A*. Lengths are checked to agree (rtol 1e-12).
"""

import argparse
import time

import numpy as np
from scipy.sparse.csgraph import dijkstra as sp_dijkstra

import graphgeo as gg


def _time(fn, pairs):
    out, times = [], []
    for s, t in pairs:
        t0 = time.perf_counter()
        out.append(fn(int(s), int(t)))
        times.append(time.perf_counter() - t0)
    return out, np.array(times) * 1e3


def run(name, g, pairs):
    W = g.weights
    # warm up (numba compilation is cached on disk, this also loads it)
    g.shortest_path(int(pairs[0, 0]), int(pairs[0, 1]))
    g.shortest_path(int(pairs[0, 0]), int(pairs[0, 1]), method="dijkstra")

    pa, ta = _time(lambda s, t: g.shortest_path(s, t, method="astar"), pairs)
    pd, td = _time(lambda s, t: g.shortest_path(s, t, method="dijkstra"), pairs)
    sf, tf = _time(lambda s, t: sp_dijkstra(W, directed=True, indices=s)[t], pairs)
    la = np.array([p.length for p in pa])
    sl, tl = _time(lambda s, t: sp_dijkstra(W, directed=True, indices=s,
                                            limit=la[_idx[(s, t)]] * (1 + 1e-9))[t], pairs)
    ld = np.array([p.length for p in pd])
    np.testing.assert_allclose(la, ld, rtol=1e-12)
    np.testing.assert_allclose(la, np.array(sf), rtol=1e-12)
    np.testing.assert_allclose(la, np.array(sl), rtol=1e-12)
    na = np.array([p.n_settled for p in pa], dtype=float)
    nd = np.array([p.n_settled for p in pd], dtype=float)

    print(f"\n== {name}: {g.n_nodes} nodes, {g.n_edges} directed edges, "
          f"heuristic scale {g.heuristic_scale:.4f}, {len(pairs)} pairs")
    print(f"{'method':<28}{'median ms':>11}{'mean ms':>10}{'settled (mean)':>16}")
    print(f"{'graphgeo A*':<28}{np.median(ta):>11.3f}{ta.mean():>10.3f}{na.mean():>16.0f}")
    print(f"{'graphgeo Dijkstra (early)':<28}{np.median(td):>11.3f}{td.mean():>10.3f}{nd.mean():>16.0f}")
    print(f"{'scipy dijkstra (full)':<28}{np.median(tf):>11.3f}{tf.mean():>10.3f}{g.n_nodes:>16d}")
    print(f"{'scipy dijkstra limit=d':<28}{np.median(tl):>11.3f}{tl.mean():>10.3f}{'-':>16}")
    print(f"ratio scipy(full)/A*   : {tf.sum() / ta.sum():7.1f}x (mean time)")
    print(f"ratio scipy(limit)/A*  : {tl.sum() / ta.sum():7.1f}x (oracle limit)")
    print(f"ratio graphgeo Dijkstra/A* time    : {td.sum() / ta.sum():7.1f}x")
    print(f"settled-node ratio Dijkstra/A*     : {nd.sum() / na.sum():7.1f}x "
          f"(per-query median {np.median(nd / na):.1f}x)")


_idx = {}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    pts = rng.uniform(0.0, 1.0, size=(args.n, 2))
    pairs = rng.integers(args.n, size=(args.pairs, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    _idx.clear()
    _idx.update({(int(s), int(t)): q for q, (s, t) in enumerate(pairs)})

    t0 = time.perf_counter()
    ge = gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=args.k)
    print(f"build Euclidean graph: {time.perf_counter() - t0:.2f} s")
    run("Euclidean", ge, pairs)

    omega = np.array([0.15, 0.05])
    t0 = time.perf_counter()
    gr = gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(2), omega), k=args.k)
    print(f"\nbuild Randers graph (constant omega {omega.tolist()}): {time.perf_counter() - t0:.2f} s")
    run("Randers, constant omega", gr, pairs)


if __name__ == "__main__":
    main()
