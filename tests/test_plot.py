"""Plot functions, headless (Agg): they return figures holding the expected artists."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection, QuadMesh  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import graphgeo as gg  # noqa: E402
from graphgeo import maps, plot  # noqa: E402
from graphgeo.cluster import GeodesicKMedoids  # noqa: E402
from graphgeo.exceptions import InvalidInputError  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(200, 2))
    base = gg.RHVAEMetric(pts[:20], np.tile(np.eye(2), (20, 1, 1)), temperature=0.6, lbd=0.05)
    metric = gg.Randers(base, [0.05, 0.0], max_norm=0.8)
    g = gg.GeodesicGraph.build(pts, metric, k=8)
    return pts, base, metric, g


def _lines(ax):
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]


def test_plot_geodesics_has_heatmap_scatter_and_curves(scene):
    pts, base, metric, g = scene
    p = g.shortest_path(0, 1)
    smooth = p.points + 0.01
    fig = plot.plot_geodesics(pts, {"graph path": p, "smoothed": smooth, "refined": smooth * 0.99},
                              metric=base)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert sum(isinstance(c, QuadMesh) for c in ax.collections) == 1
    assert sum(isinstance(c, PathCollection) for c in ax.collections) == 1
    assert len(_lines(ax)) == 3
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("graph path (length") for t in texts)
    assert "smoothed" in texts and "refined" in texts
    assert len(fig.axes) == 2  # the colorbar
    np.testing.assert_allclose(_lines(ax)[0].get_xydata(), p.points)
    fig.canvas.draw()


def test_plot_distance_map(scene):
    grid = maps.Grid([-2.0, -2.0], [2.0, 2.0], 41)
    seeds = np.array([[-1.0, 0.0], [1.0, 0.5]])
    dist, nearest = maps.distance_map(scene[2], grid, seeds)
    fig = plot.plot_distance_map(dist, grid, seeds=seeds, nearest=nearest)
    ax = fig.axes[0]
    assert sum(isinstance(c, QuadMesh) for c in ax.collections) == 1
    scat = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scat) == 1
    np.testing.assert_allclose(scat[0].get_offsets(), seeds)
    # iso-distance contours (white) and the region boundary (red)
    assert len(ax.collections) >= 4
    fig.canvas.draw()
    with pytest.raises(InvalidInputError, match="grid's shape"):
        plot.plot_distance_map(dist[:-1], grid)


def test_plot_clusters_marks_medoids(scene):
    pts, base, metric, g = scene
    km = GeodesicKMedoids(3).fit(g)
    fig, ax = plt.subplots()
    out = plot.plot_clusters(pts, km.labels_, km.medoid_indices_, ax=ax, metric=base)
    assert out is fig
    scat = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scat) == 2
    np.testing.assert_allclose(scat[1].get_offsets(), pts[km.medoid_indices_])
    assert len(scat[0].get_offsets()) == len(pts)
    fig.canvas.draw()


def test_plot_randers_geodesics_both_directions(scene):
    pts, base, metric, g = scene
    fwd, bwd = g.shortest_path(3, 150), g.shortest_path(150, 3)
    fig = plot.plot_randers_geodesics(fwd, bwd, points=pts, metric=base)
    ax = fig.axes[0]
    lines = _lines(ax)
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_xydata(), fwd.points)
    np.testing.assert_allclose(lines[1].get_xydata(), bwd.points)
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 2
    assert f"{bwd.length / fwd.length:.3f}" in ax.get_title()
    fig.canvas.draw()


def test_plot_field(scene):
    grid = maps.Grid([-2.0, -2.0], [2.0, 2.0], 30)
    fig = plot.plot_field(maps.volume_element(scene[1], grid), grid, log=True,
                          label="volume element")
    assert sum(isinstance(c, QuadMesh) for c in fig.axes[0].collections) == 1
    assert "log10 volume element" in fig.axes[1].get_ylabel()


def test_bad_input():
    with pytest.raises(InvalidInputError, match="2-D"):
        plot.plot_geodesics(np.zeros((5, 3)))
    with pytest.raises(InvalidInputError, match="labels"):
        plot.plot_clusters(np.zeros((5, 2)), np.zeros(4, int))
    with pytest.raises(InvalidInputError, match="2-D"):
        plot.plot_distance_map(np.zeros((3, 3, 3)), maps.Grid([0, 0, 0], [1, 1, 1], 3))
    with pytest.raises(InvalidInputError, match="values > 0"):
        plot.plot_field(np.zeros((3, 3)), maps.Grid([0, 0], [1, 1], 3), log=True)


def test_matplotlib_is_imported_lazily():
    code = ("import sys, graphgeo, graphgeo.plot, graphgeo.maps, graphgeo.cluster; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
