"""Voronoi k-medoids on a large graph without any N x N matrix: time, peak memory, loss.

Usage: python bench/voronoi.py [--n 200000] [--k 10] [--small 5000] [--seed 0]

1. On a --small graph (the built-in progression latent, Randers metric, k = 10
   neighbours), all in this run: GeodesicKMedoids(method="voronoi") against
   method="fasterpam" (which forms the N x N matrix by N searches): time ratio and
   loss ratio (voronoi loss / FasterPAM loss).
2. On an --n graph of the same family: method="voronoi" alone, run in a fresh process
   that loads the saved graph, with that process's resident memory (Linux /proc, sampled
   every 5 ms): before fit (interpreter, numba, the graph), the peak during fit, and the
   peak added by fit, against the 8 N^2 bytes a float64 N x N cost matrix would need.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np

import graphgeo as gg
from graphgeo.cluster import GeodesicKMedoids
from graphgeo.datasets import make_progression


class PeakRSS:
    """Peak resident set size (bytes) of this process while the block runs."""

    def __init__(self, period=0.005):
        self.period = period
        self.page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self):
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.period)

    def __enter__(self):
        self.start = self._rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._rss())

    @property
    def added(self):
        return self.peak - self.start


def graph(n, seed):
    data = make_progression(n=n, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gg.GeodesicGraph.build(data["points"], data["metric"], k=10, seed=seed)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--small", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.child, args.k, args.seed)

    g = graph(args.small, args.seed)
    GeodesicKMedoids(args.k, method="voronoi", random_state=0).fit(graph(300, 1))  # warm-up
    t0 = time.perf_counter()
    fp = GeodesicKMedoids(args.k).fit(g)
    t_fp = time.perf_counter() - t0
    t0 = time.perf_counter()
    vo = GeodesicKMedoids(args.k, method="voronoi", random_state=args.seed).fit(g)
    t_vo = time.perf_counter() - t0
    print(f"graphgeo {gg.__version__}, {os.cpu_count()} cores")
    print(f"\n== {g}, k = {args.k}, direction to_medoid")
    print(f"{'method':<34}{'seconds':>9}{'loss':>14}{'rounds':>8}")
    print(f"{'fasterpam (N x N matrix + BUILD)':<34}{t_fp:>9.2f}{fp.inertia_:>14.4f}{fp.n_iter_:>8}")
    print(f"{'voronoi (no matrix)':<34}{t_vo:>9.2f}{vo.inertia_:>14.4f}{vo.n_iter_:>8}")
    print(f"ratios voronoi / fasterpam: time {t_vo / t_fp:.2f}, loss {vo.inertia_ / fp.inertia_:.4f}")

    t0 = time.perf_counter()
    big = graph(args.n, args.seed)
    t_build = time.perf_counter() - t0
    graph_bytes = big.weights.data.nbytes + big.weights.indices.nbytes + big.weights.indptr.nbytes
    print(f"\n== {big} (built in {t_build:.1f} s; CSR weights {graph_bytes / 2**20:.0f} MiB)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "graph.npz")
        big.save(path)
        del big
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", path,
                              "--k", str(args.k), "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True)
    print(out.stdout.strip())


def child(path, k, seed):
    """Load the graph, fit, print time and memory (run in a fresh process)."""
    g = gg.GeodesicGraph.load(path)
    GeodesicKMedoids(k, method="voronoi", random_state=0).fit(graph(300, 1))  # load kernels
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        km = GeodesicKMedoids(k, method="voronoi", random_state=seed).fit(g)
        t_fit = time.perf_counter() - t0
    n = g.n_nodes
    dense = 8.0 * n * n
    print(f"voronoi k-medoids: {t_fit:.1f} s, {km.n_iter_} rounds, loss {km.inertia_:.2f}, "
          f"cluster sizes {np.sort(np.bincount(km.labels_))[::-1].tolist()}")
    print(f"resident memory: {mem.start / 2**20:.0f} MiB before fit (interpreter, numba, graph), "
          f"peak {mem.peak / 2**20:.0f} MiB during fit, added {mem.added / 2**20:.0f} MiB")
    print(f"a float64 N x N matrix would need {dense / 2**30:.0f} GiB: peak / N^2 matrix = "
          f"{mem.peak / dense:.1e}")


if __name__ == "__main__":
    main()
