"""Many-source distances: graphgeo's numba Dijkstra vs scipy.sparse.csgraph, same run.

Usage:  python bench/distances.py [--quick] [--skip-20k]

Prints, for each case, both times and the ratio scipy / graphgeo:
  1. all-pairs on 10-NN Randers graphs (N = 5k and 20k), float64 in memory (the
     "cells and hubs" path of graphgeo.kernels.apsp, chosen automatically; its cell
     size and hub fraction are printed once), and the same call with that path
     switched off (strategy="dijkstra": one Dijkstra per source) in the same run;
  2. the N = 20k all-pairs result as float32 streamed to a memmap, with the
     peak RSS of the process that computes it (a child process, so that the
     figure is not inflated by the rest of the benchmark) and the path it took;
  3. 64-source distances on a 100k-node, k = 15 graph;
  4. 10^5 random pair queries vs a per-source scipy loop;
  5. A* single pair vs scipy's full single-source search on the same pair.
Results are checked equal (rtol 1e-12) before any time is printed.

Last full run (2 cores, load average 4-6 from other jobs; cells and hubs, cell size
256, hub fraction 0.185 at 5k and 0.192 at 20k): all-pairs 5k 3.48x scipy (2.07x one
Dijkstra per source), 20k 6.22x scipy (2.64x); 20k float32 memmap 46.9 s (107 s in the
previous run, one Dijkstra per source), peak RSS 969 MB; 64 sources on 100k 2.08x; 10^5 pair
queries 45x; A* single pair 13x.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.sparse.csgraph import dijkstra

import graphgeo as gg


def randers_graph(n, k, seed=0):
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, 2))
    metric = gg.Randers(gg.Euclidean(2), np.array([0.3, -0.1]))
    return gg.GeodesicGraph.build(pts, metric, k=k)


def best(fn, repeat=1):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def line(name, t_gg, t_ref, ref_name="scipy"):
    print(f"{name:<48} graphgeo {t_gg:9.3f} s   {ref_name} {t_ref:9.3f} s   ratio {t_ref / t_gg:6.2f}x",
          flush=True)


_CHILD = r"""
import sys, time, numpy as np, graphgeo as gg
n, path = int(sys.argv[1]), sys.argv[2]
sys.path.insert(0, sys.argv[3])
from distances import randers_graph
g = randers_graph(n, 10)
g.distances(np.arange(2), dtype=np.float32)  # compile outside the timing
mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, n))
t = time.perf_counter()
run = g.distances(out=mm, return_stats=True)[1]
el = time.perf_counter() - t
# VmHWM: this process's own peak RSS (ru_maxrss would include the parent's peak at fork)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print("cells-m=%d-groups=%d" % (run["cell_size"], run["groups"]) if run["strategy"] == "cells"
      else "plain", el, int(hwm) / 1024)
"""


def memmap_case(n):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "D.npy")
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(n), path,
                               os.path.dirname(os.path.abspath(__file__))],
                              capture_output=True, text=True, check=True)
        used, el, rss = proc.stdout.split()[-3:]
        D = np.load(path, mmap_mode="r")
        row = np.asarray(D[123], dtype=np.float64)
    return float(el), float(rss), row, used


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--skip-20k", action="store_true", help="skip the N=20k all-pairs cases")
    args = ap.parse_args()
    import numba

    print(f"graphgeo {gg.__version__}, numba threads {numba.get_num_threads()}, "
          f"cpus {os.cpu_count()}", flush=True)
    sizes = [1000] if args.quick else ([5000] if args.skip_20k else [5000, 20000])
    randers_graph(1200, 10, seed=9).distances()  # load the compiled cells-and-hubs kernels
    shown = False
    for n in sizes:
        g = randers_graph(n, 10)
        g.distances([0, 1])  # compile
        t_gg, (D, run) = best(lambda: g.distances(return_stats=True))
        if run["strategy"] == "cells" and not shown:
            shown = True
            print(f"  cells and hubs: cell size {run['cell_size']}, hub fraction {run['hub_fraction']:.3f}, "
                  f"{run['kept_per_source']:.1f} of {run['exits_per_source']:.1f} exits kept per "
                  "non-hub source", flush=True)
        # the same call without cells and hubs (one Dijkstra per source), same run
        t_old, D_old = best(lambda: g.distances(strategy="dijkstra"))
        np.testing.assert_allclose(D_old, D, rtol=1e-12)
        del D_old
        t_sp, Dr = best(lambda: dijkstra(g.weights, directed=True))
        np.testing.assert_allclose(D, Dr, rtol=1e-12)
        del D, Dr
        line(f"all-pairs N={n} 10-NN Randers (float64)", t_gg, t_sp)
        line("  cells and hubs vs one Dijkstra per source", t_gg, t_old, "Dijkstra")
    n_mm = 2000 if args.quick else (5000 if args.skip_20k else 20000)
    el, rss, row, used = memmap_case(n_mm)
    g = randers_graph(n_mm, 10)
    np.testing.assert_allclose(row, dijkstra(g.weights, directed=True, indices=123), rtol=1e-6)
    print(f"all-pairs N={n_mm} float32 -> memmap: {el:.2f} s, peak RSS {rss:.0f} MB "
          f"(result {n_mm * n_mm * 4 / 2**20:.0f} MB; {used})", flush=True)

    n_big = 20000 if args.quick else 100_000
    g = randers_graph(n_big, 15, seed=1)
    rng = np.random.default_rng(2)
    src = rng.choice(n_big, 64, replace=False)
    g.distances(src[:2])
    t_gg, D = best(lambda: g.distances(src), 3)
    t_sp, Dr = best(lambda: dijkstra(g.weights, directed=True, indices=src), 3)
    np.testing.assert_allclose(D, Dr, rtol=1e-12)
    line(f"64 sources, N={n_big} 15-NN ({1000 * t_sp / 64:.1f} ms/source scipy)", t_gg, t_sp)

    n_pairs = 10_000 if args.quick else 100_000
    s = rng.integers(0, n_big, n_pairs)
    t = rng.integers(0, n_big, n_pairs)
    g.pair_distances(s[:10], t[:10])
    t_gg, L = best(lambda: g.pair_distances(s, t))
    # scipy has no batched pair query: a per-source loop, timed on a sample and extrapolated
    sample = 200
    uniq = np.unique(s)
    t0 = time.perf_counter()
    for u in uniq[:sample]:
        dijkstra(g.weights, directed=True, indices=u)
    t_sp = (time.perf_counter() - t0) / sample * len(uniq)
    rows = dijkstra(g.weights, directed=True, indices=uniq[:20])
    pick = np.isin(s, uniq[:20])
    np.testing.assert_allclose(L[pick], rows[np.searchsorted(uniq[:20], s[pick]), t[pick]], rtol=1e-12)
    line(f"{n_pairs} pair queries, N={n_big} (scipy extrapolated)", t_gg, t_sp, "scipy loop")

    pairs = [(int(a), int(b)) for a, b in rng.integers(0, n_big, (30, 2))]
    g.shortest_path(*pairs[0])
    t_gg = np.median([best(lambda: g.shortest_path(a, b))[0] for a, b in pairs])
    t_sp = np.median([best(lambda: dijkstra(g.weights, directed=True, indices=a))[0] for a, _ in pairs])
    for a, b in pairs[:5]:
        np.testing.assert_allclose(g.shortest_path(a, b).length,
                                   dijkstra(g.weights, directed=True, indices=a)[b], rtol=1e-12)
    line(f"A* single pair (median of 30), N={n_big}", t_gg, t_sp, "scipy SSSP")


if __name__ == "__main__":
    main()
