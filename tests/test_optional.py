"""The optional-import gate: a missing torch / matplotlib surfaces as MissingDependencyError
naming the pip extra, from every feature that needs it, and the core keeps working.

``monkeypatch.setitem(sys.modules, name, None)`` makes ``import name`` raise ImportError
for the duration of one test, as if the package were not installed.
"""

import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import graphgeo as gg
from graphgeo import _optional
from graphgeo.exceptions import GraphGeoError, MissingDependencyError

ROOT = Path(__file__).resolve().parents[1]


def _hide(monkeypatch, *modules):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _metric():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(10, 2))
    return gg.RHVAEMetric(c, np.tile(np.eye(2), (10, 1, 1)), temperature=0.8, lbd=0.1)


def test_require_names_feature_package_and_extra(monkeypatch):
    _hide(monkeypatch, "torch")
    with pytest.raises(MissingDependencyError) as info:
        _optional.require("torch", "a feature")
    msg = str(info.value)
    assert "a feature" in msg and "'torch'" in msg and "pip install 'graphgeo[torch]'" in msg
    assert isinstance(info.value, ImportError) and isinstance(info.value, GraphGeoError)
    # a submodule maps to its package's extra; an unknown package gets a plain pip hint
    _hide(monkeypatch, "matplotlib.pyplot")
    with pytest.raises(MissingDependencyError, match=r"graphgeo\[plot\]"):
        _optional.require("matplotlib.pyplot", "plotting")
    with pytest.raises(MissingDependencyError, match="pip install not_a_graphgeo_dependency"):
        _optional.require("not_a_graphgeo_dependency", "nothing")


def test_extras_match_pyproject():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for module, extra in _optional.EXTRAS.items():
        assert extra in extras, f"{module} -> graphgeo[{extra}] but pyproject has no such extra"
        wanted = module.split(".")[0]
        if wanted == "numba":  # numba.cuda is provided by the numba-cuda package
            wanted = "numba_cuda"
        packages = " ".join(extras[extra]).replace("-", "_").lower()
        assert wanted.replace("-", "_") in packages, (extra, extras[extra])


def test_refinement_without_torch(monkeypatch):
    metric = _metric()
    curve = np.linspace([-1.0, 0.0], [1.0, 0.5], 8)
    _hide(monkeypatch, "torch")
    for call in (lambda: gg.refine_curves(metric, curve),
                 lambda: gg.geodesic(metric, curve[0], curve[-1]),
                 lambda: gg.refine_curves(metric, curve, method="neural")):
        with pytest.raises(MissingDependencyError, match=r"pip install 'graphgeo\[torch\]'"):
            call()
    # the core does not need torch: lengths, straight-line metrics and unrefined geodesics
    assert gg.curve_length(metric, curve) > 0
    res = gg.refine_curves(gg.Euclidean(2), curve)
    np.testing.assert_allclose(res.points[0], np.linspace(curve[0], curve[-1], 8), atol=1e-12)
    c = gg.geodesic(metric, curve[0], curve[-1], refine=False, n_points=8)
    assert c.stage == "straight" and c.n_iter == 0


def test_pullback_metric_without_torch(monkeypatch):
    torch = pytest.importorskip("torch")
    decoder = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh()).double()
    metric = gg.PullbackMetric(decoder, 2)
    z = np.zeros((3, 2))
    v = np.ones((3, 2))
    assert np.all(metric.norm(z, v) > 0)
    _hide(monkeypatch, "torch")
    with pytest.raises(MissingDependencyError, match=r"PullbackMetric.*graphgeo\[torch\]"):
        metric.norm(z, v)
    with pytest.raises(MissingDependencyError, match=r"graphgeo\[torch\]"):
        gg.curve_length(metric, np.linspace([0.0, 0.0], [1.0, 1.0], 4))


def test_fit_randers_without_torch(monkeypatch):
    z = np.random.default_rng(0).normal(size=(40, 2))
    _hide(monkeypatch, "torch")
    with pytest.raises(MissingDependencyError, match=r"fit_randers.*graphgeo\[torch\]"):
        gg.fit_randers(z, z[:, 0], k=5)


def test_plot_without_matplotlib(monkeypatch):
    from graphgeo.maps import Grid

    grid = Grid([0.0, 0.0], [1.0, 1.0], 5)
    _hide(monkeypatch, "matplotlib", "matplotlib.pyplot")
    with pytest.raises(MissingDependencyError, match=r"graphgeo\.plot.*graphgeo\[plot\]"):
        gg.plot.plot_field(np.ones(grid.shape), grid)
    with pytest.raises(MissingDependencyError, match=r"graphgeo\[plot\]"):
        gg.plot.plot_clusters(np.zeros((4, 2)), np.zeros(4, dtype=int))


def test_cli_map_without_matplotlib(monkeypatch, tmp_path, capsys):
    from graphgeo.cli import main

    pts = np.random.default_rng(0).normal(size=(60, 2))
    gg.GeodesicGraph.build(pts, gg.Euclidean(2), k=6).save(tmp_path / "g.npz")
    _hide(monkeypatch, "matplotlib", "matplotlib.pyplot")
    rc = main(["map", str(tmp_path / "g.npz"), "--grid", "10", "-o", str(tmp_path / "m.png"),
               "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2  # a one-line error, not a traceback
    assert "graphgeo map" in err and "pip install 'graphgeo[plot]'" in err
    assert not (tmp_path / "m.png").exists()
