"""Single-pair shortest paths on Randers KNN graphs: graphgeo vs scipy, over a sequence of queries.

Usage: python bench/astar.py [--n 30000] [--k 10] [--pairs 50] [--seed 0]
                             [--dims 2 3 8] [--omega const rbf]

For each dimension and 1-form (a constant omega, or an RBF field capped at |omega| 0.6),
uniform points in the unit cube, one fresh graph and one sequence of random (source,
target) pairs, all timed in this run on one thread:

- graphgeo auto       g.shortest_path(s, t): the default, bidirectional A*; the landmark
                      table is built lazily inside the query that triggers it
                      (landmarks="auto"), and that query's time includes it
- graphgeo plain      g.shortest_path(s, t, landmarks=False) (geometric bounds only)
- graphgeo Dijkstra   g.shortest_path(s, t, method="dijkstra") (one-way, stops at t)
- scipy full          scipy.sparse.csgraph.dijkstra(W, directed=True, indices=s), the
                      whole single-source tree (timed on the first 20 pairs)

Printed per graph: the query at which landmarks were built and their cost; the time ratio
scipy/graphgeo after the trigger (median and mean per query), amortised over the whole
sequence (build included) and over the queries before the trigger; mean settled nodes per
query for each variant (deterministic, unlike the times on a shared machine). Lengths are
checked against scipy (rtol 1e-12).
"""

import argparse
import time

import numba
import numpy as np
from scipy.sparse.csgraph import dijkstra as sp_dijkstra

import graphgeo as gg
from graphgeo.metrics.randers import RBFField

N_SCIPY = 20


def _metric(kind, dim, rng):
    if kind == "const":
        omega = np.zeros(dim)
        omega[0], omega[1] = 0.3, -0.1
        return gg.Randers(gg.Euclidean(dim), omega)
    field = RBFField(rng.uniform(size=(20, dim)), rng.normal(size=(20, dim)) * 0.25, 0.3,
                     max_norm=0.6)
    return gg.Randers(gg.Euclidean(dim), field)


def _queries(g, pairs, **kw):
    paths, times = [], []
    for s, t in pairs:
        t0 = time.perf_counter()
        paths.append(g.shortest_path(int(s), int(t), **kw))
        times.append(time.perf_counter() - t0)
    return paths, np.array(times)


def run(n, k, dim, kind, n_pairs, seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(size=(n, dim))
    metric = _metric(kind, dim, rng)
    g = gg.GeodesicGraph.build(pts, metric, k=k, seed=seed)
    pairs = rng.integers(n, size=(n_pairs, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    W = g.weights

    # warm-up on a copy (numba loads its cache; the layout, bounds and buffers of a real
    # first query are part of the timed sequence below)
    h = gg.GeodesicGraph(g.points, g.weights.copy(), heuristic_scale=g.heuristic_scale)
    h.shortest_path(0, 1, landmarks=True)
    h.shortest_path(0, 1, method="dijkstra")

    # the default, from a fresh graph: first query pays the layout, the trigger the table
    built_at, t_build = None, 0.0
    paths, times = [], []
    for q, (s, t) in enumerate(pairs):
        had = g._search_cache is not None and g._search_cache.landmarks is not None
        t0 = time.perf_counter()
        paths.append(g.shortest_path(int(s), int(t)))
        times.append(time.perf_counter() - t0)
        if built_at is None and not had and g.search_cache.landmarks is not None:
            built_at = q
    times = np.array(times)
    if built_at is not None:  # what the table cost inside that query
        lay = g.search_cache
        t0 = time.perf_counter()
        type(lay.landmarks)(lay, len(lay.landmarks.nodes))
        t_build = time.perf_counter() - t0
    plain, t_plain = _queries(g, pairs, landmarks=False)
    dij, t_dij = _queries(g, pairs, method="dijkstra")
    t_sp = []
    ref = []
    for s, t in pairs[:N_SCIPY]:
        t0 = time.perf_counter()
        ref.append(sp_dijkstra(W, directed=True, indices=int(s))[t])
        t_sp.append(time.perf_counter() - t0)
    t_sp = float(np.mean(t_sp))
    m = len(ref)
    for ps in (paths, plain, dij):
        np.testing.assert_allclose([p.length for p in ps[:m]], ref, rtol=1e-12)

    b = built_at if built_at is not None else len(pairs)  # queries before the table
    settled = lambda ps: float(np.mean([p.n_settled for p in ps]))  # noqa: E731
    print(f"\n== {dim}-D, {kind} omega: {g.n_nodes} nodes, {g.n_edges} directed edges, "
          f"{len(pairs)} queries; scipy full SSSP {t_sp * 1e3:.2f} ms")
    if built_at is None:
        print("landmarks: not built (the geometric bounds settle few nodes)")
    else:
        print(f"landmarks: built in query {built_at + 1} ({t_build:.3f} s, "
              f"{t_build / t_sp:.0f} scipy SSSPs)")
    print(f"{'variant':<38}{'ratio scipy/ours':>18}{'settled/query':>15}")

    def row(label, ts, ps=None, stat=np.mean):
        if len(ts):
            st = f"{settled(ps):>15.0f}" if ps else ""
            print(f"{label:<38}{t_sp / stat(ts):>17.1f}x{st}")

    row("auto, query 1 (builds the layout)", times[:1], paths[:1])
    row(f"auto, queries 2-{b} (no landmarks)", times[1:b], paths[1:b])
    if built_at is not None:
        row(f"auto, query {b + 1} (builds the table)", times[b:b + 1], paths[b:b + 1])
        row(f"auto, queries {b + 2}-{len(pairs)} (median)", times[b + 1:], paths[b + 1:],
            np.median)
        row(f"auto, queries {b + 2}-{len(pairs)} (mean)", times[b + 1:])
    row("auto, amortised over all queries", times, paths)
    row("plain (landmarks=False), mean", t_plain, plain)
    row("Dijkstra (one-way, early exit), mean", t_dij, dij)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 3, 8])
    ap.add_argument("--omega", nargs="+", default=["const", "rbf"], choices=["const", "rbf"])
    args = ap.parse_args(argv)
    numba.set_num_threads(1)  # single queries are serial; scipy is too
    for dim in args.dims:
        for kind in args.omega:
            run(args.n, args.k, dim, kind, args.pairs, args.seed)


if __name__ == "__main__":
    main()
