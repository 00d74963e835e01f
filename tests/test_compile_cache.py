"""Cold start: what a first call compiles, and that numba's cache makes a second process
compile nothing of graphgeo's.

The workload (a small version of ``graphgeo demo``: a Randers RHVAE graph, A* and Dijkstra
paths, distances, pair queries, graph k-medoids, a grid distance map) runs twice in fresh
processes sharing an empty NUMBA_CACHE_DIR; numba's event API reports every compilation
(``numba:compile`` is emitted for compilations only, not for loads from the cache).
"""

import json
import os
import subprocess
import sys

import pytest

WORKLOAD = r"""
import collections, json, warnings
import numpy as np
import numba.core.event as ev

compiled = collections.Counter()


class Recorder(ev.Listener):
    def on_start(self, event):
        f = event.data["dispatcher"].py_func
        if f.__module__.startswith("graphgeo"):
            compiled[f"{f.__module__}.{f.__qualname__}"] += 1

    def on_end(self, event):
        pass


ev.register("numba:compile", Recorder())

import graphgeo as gg
from graphgeo.datasets import make_progression
from graphgeo.maps import Grid, distance_map

data = make_progression(n=300, seed=0)
pts, t, metric = data["points"], data["time"], data["metric"]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    g = gg.GeodesicGraph.build(pts, metric, k=8, seed=0)
a, b = int(np.argmin(t)), int(np.argmax(t))
g.shortest_path(a, b, method="astar")
g.shortest_path(b, a, method="dijkstra")
g.distances(sources=[a])
g.pair_distances([a, b], [b, a])
gg.GeodesicKMedoids(n_clusters=3, method="voronoi", random_state=0).fit(g)
distance_map(metric, Grid(pts.min(axis=0), pts.max(axis=0), 20), pts[[a]])
print(json.dumps(compiled))
"""


def _run(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run([sys.executable, "-c", WORKLOAD], capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="nothing is compiled")
def test_second_process_compiles_nothing_and_first_compiles_each_kernel_once(tmp_path):
    first = _run(tmp_path)
    # the workload compiles the edge kernels and the search core ...
    assert "graphgeo.kernels.adaptive_edges.adaptive_edges" in first
    assert "graphgeo.kernels.dijkstra.search_any" in first
    # ... each for one argument signature: no literal-typed or dtype variants (a literal 0
    # passed to a helper, int32 vs int64 indices, bool vs int64 marks compile it twice)
    # (literal-4 specialisations kept on purpose for bitwise results: kernels/adaptive_edges.py)
    kept = ("adaptive._wsum", "adaptive._table_weights", "adaptive_edges._point_weights")
    assert all(first.get(f"graphgeo.kernels.{name}", 0) <= 2 for name in kept)
    twice = {name: n for name, n in first.items() if n > 1 and not name.endswith(kept)}
    assert not twice, f"compiled more than once: {twice}"
    # every kernel is cached (cache=True, no dynamically built functions): a second process
    # loads all of them
    second = _run(tmp_path)
    assert second == {}, f"compiled again despite the cache: {second}"
