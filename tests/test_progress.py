"""Progress bars: tqdm on stderr with verbose=True, nothing by default; the CLI's are on
unless --quiet or TQDM_DISABLE=1; bars are closed when a call raises."""

import os
import subprocess
import sys

import numpy as np
import pytest
from tqdm import tqdm

import graphgeo as gg
from graphgeo.maps import Grid, distance_map, grid_graph, random_walk

# tqdm reads TQDM_* settings when it is imported: a run with TQDM_DISABLE set has no bars
bars_allowed = pytest.mark.skipif(bool(os.environ.get("TQDM_DISABLE")),
                                  reason="TQDM_DISABLE is set in this environment")


def open_bars():
    return len(tqdm._instances)


@pytest.fixture(scope="module")
def points():
    return np.random.default_rng(0).normal(size=(300, 2))


@pytest.fixture(scope="module")
def metric():
    return gg.Randers(gg.Euclidean(2), [0.3, 0.0])


@pytest.fixture(scope="module")
def graph(points, metric):
    return gg.GeodesicGraph.build(points, metric, k=8)


def _bumpy():
    """A 2-D field with curved geodesics (refinement has work to do)."""
    import torch

    def G(z):
        s = 1.0 + 2.0 * np.exp(-np.sum(z * z, axis=1))
        return s[:, None, None] * np.eye(2)

    def G_t(z):
        s = 1.0 + 2.0 * torch.exp(-torch.sum(z * z, dim=1))
        return s[:, None, None] * torch.eye(2, dtype=z.dtype)

    return gg.FieldMetric(G, torch_fn=G_t)


# every documented long call, as a user writes it, with the bar's description
CALLS = {
    "build": (lambda p, m, g, v: gg.GeodesicGraph.build(p, m, k=8, verbose=v), "build: 100%"),
    "distances": (lambda p, m, g, v: g.distances(verbose=v), "distances: 100%"),
    "distances-cells": (lambda p, m, g, v: g.distances(strategy="cells", verbose=v),
                        "distances: 100%"),
    "distances-targets": (lambda p, m, g, v: g.distances(sources=[0, 1, 2], targets=[5, 6],
                                                         verbose=v), "distances: 100%"),
    "pair_distances": (lambda p, m, g, v: g.pair_distances([0, 0, 1, 2] + [3] * 10,
                                                           [5, 6, 7, 8] + list(range(10, 20)),
                                                           verbose=v), "pair distances: 100%"),
    "kmedoids-voronoi": (lambda p, m, g, v: gg.GeodesicKMedoids(
        n_clusters=3, method="voronoi", random_state=0, verbose=v).fit(g), "k-medoids (voronoi):"),
    "kmedoids-fasterpam": (lambda p, m, g, v: gg.GeodesicKMedoids(
        n_clusters=3, verbose=v).fit(g), "k-medoids (fasterpam): 100%"),
    "kmedoids-matrix": (lambda p, m, g, v: gg.GeodesicKMedoids(
        n_clusters=3, method="alternate", verbose=v).fit(g.distances()),
        "k-medoids (alternate): 100%"),
    "distance_map": (lambda p, m, g, v: distance_map(m, Grid([-3, -3], [3, 3], 30), [[0.0, 0.0]],
                                                     verbose=v), "distance map: 100%"),
    "grid_graph": (lambda p, m, g, v: grid_graph(m, Grid([-3, -3], [3, 3], 20), verbose=v),
                   "grid graph: 100%"),
    "random_walk": (lambda p, m, g, v: random_walk(gg.Euclidean(2), [0.0, 0.0], 50, 0.1, seed=0,
                                                   verbose=v), "random walk: 100%"),
    "geodesic": (lambda p, m, g, v: gg.geodesic(_bumpy(), [-1.5, -0.2], [1.5, 0.3], verbose=v),
                 "refine:"),
    "geodesics": (lambda p, m, g, v: gg.geodesics(m, p[:3], p[3:6], graph=g, verbose=v),
                  "graph paths: 100%"),
    "refine_curves": (lambda p, m, g, v: gg.refine_curves(
        _bumpy(), np.linspace([-1.5, -0.2], [1.5, 0.3], 16), verbose=v), "refine:"),
    "refine_curves-neural": (lambda p, m, g, v: gg.refine_curves(
        _bumpy(), np.linspace([-1.5, -0.2], [1.5, 0.3], 16), method="neural", max_iter=20,
        verbose=v), "refine: 100%"),
    "fit_randers": (lambda p, m, g, v: gg.learn.fit_randers(p, p[:, 0], k=8, n_iter=20,
                                                            verbose=v), "fit_randers: 100%"),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_quiet_by_default(name, points, metric, graph, capsys):
    call, _ = CALLS[name]
    if name.startswith(("geodesic", "refine", "fit")):
        pytest.importorskip("torch")
    call(points, metric, graph, False)
    out, err = capsys.readouterr()
    assert err == "" and out == ""


@bars_allowed
@pytest.mark.parametrize("name", list(CALLS))
def test_verbose_shows_a_tqdm_bar(name, points, metric, graph, capsys):
    call, desc = CALLS[name]
    if name.startswith(("geodesic", "refine", "fit")):
        pytest.importorskip("torch")
    call(points, metric, graph, True)
    out, err = capsys.readouterr()
    assert desc in err, err[-2000:]
    assert "|" in err and err.endswith("\n")  # tqdm's bar, closed (leave=True ends the line)
    assert out == ""
    assert open_bars() == 0


def test_the_bar_counts_the_sources(graph, capsys):
    if os.environ.get("TQDM_DISABLE"):
        pytest.skip("TQDM_DISABLE is set in this environment")
    graph.distances(sources=np.arange(120), verbose=True)
    err = capsys.readouterr().err
    assert "120/120" in err and "source/s" in err
    graph.pair_distances(np.arange(40), np.arange(40)[::-1], verbose=True)
    err = capsys.readouterr().err
    assert "40/40" in err and "pair/s" in err


def test_the_defaults_are_quiet():
    import inspect

    from graphgeo import distributed, maps
    from graphgeo.curves import pipeline

    for fn in (gg.GeodesicGraph.build, gg.GeodesicGraph.distances,
               gg.GeodesicGraph.pair_distances, gg.GeodesicKMedoids.__init__, gg.refine_curves,
               pipeline.geodesics, maps.distance_map, maps.grid_graph, maps.random_walk,
               gg.learn.fit_randers, distributed.distances, distributed.pair_distances):
        assert inspect.signature(fn).parameters["verbose"].default is False, fn


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_verbose_must_be_a_bool(value, points, metric, graph):
    with pytest.raises(gg.InvalidInputError, match="verbose must be True or False"):
        gg.GeodesicGraph.build(points, metric, k=8, verbose=value)
    with pytest.raises(gg.InvalidInputError, match="verbose"):
        graph.distances(sources=[0], verbose=value)
    with pytest.raises(gg.InvalidInputError, match="verbose"):
        gg.GeodesicKMedoids(n_clusters=2, verbose=value).fit(graph)
    assert open_bars() == 0


def test_bars_are_closed_when_a_call_raises(points, capsys):
    def not_spd_on_the_right(z):
        G = np.tile(np.eye(2), (len(z), 1, 1))
        G[z[:, 0] > 1.0] *= -1.0
        return G

    # the metric fails in the edge-cost stage, with the build bar open
    with pytest.raises(gg.NotSPDError):
        gg.GeodesicGraph.build(points, gg.FieldMetric(not_spd_on_the_right), k=8, verbose=True)
    assert open_bars() == 0

    calls = []

    def fails_later(z):  # fine for 3 steps of the walk, then not SPD
        calls.append(1)
        return np.tile(np.eye(2) * (1.0 if len(calls) <= 3 else -1.0), (len(z), 1, 1))

    with pytest.raises(gg.NotSPDError, match="step 3"):
        random_walk(gg.FieldMetric(fails_later, dim=2), [0.0, 0.0], 100, 0.1, verbose=True)
    assert open_bars() == 0
    err = capsys.readouterr().err
    if not os.environ.get("TQDM_DISABLE"):
        assert "build:" in err and "random walk:" in err and err.endswith("\n")


# ---------------------------------------------------------------------------- the command
def _cli(args, cwd, **env):
    return subprocess.run([sys.executable, "-m", "graphgeo.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd,
                          env={k: v for k, v in {**os.environ, **env}.items() if v is not None})


def test_cli_bars_on_by_default_off_with_quiet_or_tqdm_disable(points, tmp_path):
    np.save(tmp_path / "p.npy", points)
    r = _cli(["build", "p.npy", "-o", "g.npz", "--omega", "0.2,0"], tmp_path, TQDM_DISABLE=None)
    assert r.returncode == 0, r.stderr
    assert "build: 100%" in r.stderr and "built in" in r.stdout
    r = _cli(["distances", "g.npz", "-o", "D.npy"], tmp_path, TQDM_DISABLE=None)
    assert r.returncode == 0, r.stderr
    assert "distances: 100%" in r.stderr and "300/300" in r.stderr

    r = _cli(["build", "p.npy", "-o", "g.npz", "--quiet"], tmp_path, TQDM_DISABLE=None)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == ""

    r = _cli(["build", "p.npy", "-o", "g.npz"], tmp_path, TQDM_DISABLE="1")
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and "built in" in r.stdout  # the bars go, the summary stays
    r = _cli(["cluster", "g.npz", "--n-clusters", 3, "--method", "voronoi", "-o", "l.npy"],
             tmp_path, TQDM_DISABLE="1")
    assert r.returncode == 0 and r.stderr == "" and "3 clusters" in r.stdout


def test_tqdm_disable_silences_verbose_calls_too(tmp_path):
    code = ("import numpy as np, graphgeo as gg;"
            "x = np.random.default_rng(0).normal(size=(100, 2));"
            "g = gg.GeodesicGraph.build(x, gg.Euclidean(2), k=5, verbose=True);"
            "g.distances(verbose=True); print('done')")
    for env, shown in (("1", False), (None, True)):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=tmp_path, env={k: v for k, v in os.environ.items()
                                              if k != "TQDM_DISABLE"} | (
                               {"TQDM_DISABLE": env} if env else {}))
        assert r.returncode == 0 and r.stdout == "done\n", r.stderr
        assert ("build: 100%" in r.stderr and "distances: 100%" in r.stderr) is shown, r.stderr
