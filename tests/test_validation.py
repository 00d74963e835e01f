"""The one validator: clean values out, and errors that name the parameter, what was
received and a remedy."""

import numpy as np
import pytest

import graphgeo as gg
from graphgeo import _validation as V
from graphgeo.exceptions import InvalidInputError, MetricError


def test_check_metric_kinds():
    base = gg.Euclidean(2)
    randers = gg.Randers(base, [0.1, 0.0])
    assert V.check_metric(base) is base
    assert V.check_metric(randers, randers=True) is randers
    with pytest.raises(InvalidInputError, match=r"metric must be a graphgeo metric.*received an array "
                                                r"of shape \(2, 2\).*Wrap a callable"):
        V.check_metric(np.eye(2))
    with pytest.raises(MetricError, match=r"base must be a Riemannian base metric.*base\.base"):
        V.check_metric(randers, "base", randers=False)
    with pytest.raises(MetricError, match=r"must be a Randers metric.*gg\.Randers"):
        V.check_metric(base, randers=True)
    with pytest.raises(MetricError, match=r"compiled kernel.*FieldMetric"):
        V.check_metric(gg.FieldMetric(lambda z: np.tile(np.eye(2), (len(z), 1, 1)), 2), fused=True)
    with pytest.raises(MetricError, match=r"R\^2 but the points have dimension 3"):
        V.check_metric(base, dim=3)


def test_check_curves_shapes_and_messages():
    one = np.zeros((5, 2))
    X, single = V.check_curves(one, dim=2)
    assert single and X.shape == (1, 5, 2) and X.dtype == np.float64
    X, single = V.check_curves([one, one + 1], dim=2)
    assert not single and X.shape == (2, 5, 2)
    assert X.flags.c_contiguous
    with pytest.raises(InvalidInputError, match=r"same number of points.*\[3, 5\].*resample_polyline"):
        V.check_curves([one, one[:3]])
    with pytest.raises(InvalidInputError, match=r"curves must have shape \(n_points, dim\).*shape \(5,\)"):
        V.check_curves(np.zeros(5))
    with pytest.raises(InvalidInputError, match="at least 2 points per curve; received 1"):
        V.check_curves(np.zeros((1, 2)))
    with pytest.raises(InvalidInputError, match=r"dimension 3 but the metric is defined on R\^2"):
        V.check_curves(np.zeros((4, 3)), dim=2)
    bad = np.zeros((2, 4, 2))
    bad[1, 2, 0] = np.nan
    with pytest.raises(InvalidInputError, match=r"curves contains NaN or Inf \(first at index \(1, 2, 0\)"):
        V.check_curves(bad)


def test_check_polyline_takes_paths_and_curves_not_graphs():
    pts = np.c_[np.linspace(0, 1, 4), np.zeros(4)]
    path = gg.Path(np.arange(4), pts, 1.0, "astar", 4)
    np.testing.assert_array_equal(V.check_polyline(path, "path"), pts)
    curve = gg.Curve(pts, 1.0, 1.0)
    np.testing.assert_array_equal(V.check_polyline(curve, "path", dim=2), pts)
    g = gg.GeodesicGraph.build(np.random.default_rng(0).normal(size=(20, 2)), gg.Euclidean(2), k=4)
    with pytest.raises(InvalidInputError, match="path must be array-like"):
        V.check_polyline(g, "path")  # a graph has .points but is not a polyline


def test_check_graph():
    g = gg.GeodesicGraph.build(np.random.default_rng(0).normal(size=(20, 2)), gg.Euclidean(2), k=4)
    assert V.check_graph(g, dim=2) is g
    with pytest.raises(InvalidInputError, match=r"graph must be a graphgeo\.GeodesicGraph.*"
                                                r"received str 'g\.npz'\. Build one.*GeodesicGraph\.load"):
        V.check_graph("g.npz")
    with pytest.raises(InvalidInputError, match=r"graph lives in R\^2 but the metric is defined on R\^3"):
        V.check_graph(g, dim=3)


def test_check_quadrature_and_limit():
    assert V.check_quadrature(None) is None
    assert V.check_quadrature(" Adaptive ") == V.ADAPTIVE
    assert V.check_quadrature(np.int64(5)) == 5
    with pytest.raises(InvalidInputError, match=r"quadrature must be 'adaptive'.*received 'gauss'"):
        V.check_quadrature("gauss")
    with pytest.raises(InvalidInputError, match=r"quadrature must be in \[1, 64\]; received 0\. Use"):
        V.check_quadrature(0)
    assert V.check_limit(None) == np.inf and V.check_limit(np.inf) == np.inf
    assert V.check_limit(2) == 2.0
    with pytest.raises(InvalidInputError, match=r"limit must be a finite number in \[0\.0, inf\); received -1"):
        V.check_limit(-1)


def test_check_random_state_and_seed():
    a = V.check_random_state(3).random(4)
    np.testing.assert_array_equal(a, np.random.default_rng(3).random(4))
    gen = np.random.default_rng(1)
    assert V.check_random_state(gen) is gen  # used as given: its state advances
    legacy = V.check_random_state(np.random.RandomState(0))
    assert isinstance(legacy, np.random.Generator)
    assert isinstance(V.check_random_state(None), np.random.Generator)
    for bad in (True, 1.5, "0", -1):
        with pytest.raises(InvalidInputError, match="random_state must be"):
            V.check_random_state(bad)
    assert V.check_seed(np.int32(7)) == 7
    with pytest.raises(InvalidInputError, match=r"seed must be in \[0, inf\]; received -2\. Pass"):
        V.check_seed(-2)


def test_check_bool():
    assert V.check_bool(np.bool_(True), "refine") is True
    with pytest.raises(InvalidInputError, match="refine must be True or False; received int 1"):
        V.check_bool(1, "refine")


def test_check_device():
    torch = pytest.importorskip("torch")
    assert V.check_device(None) == torch.device("cpu")
    assert V.check_device(None, default="cpu") == torch.device("cpu")
    assert V.check_device("cpu") == torch.device("cpu")
    assert V.check_device(torch.device("cpu")) == torch.device("cpu")
    assert V.check_device("auto").type in ("cpu", "cuda")
    with pytest.raises(InvalidInputError, match=r"device must be None, 'auto'.*received str 'gpu'"):
        V.check_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="no CUDA device; pass device='cpu'"):
            V.check_device("cuda")


def test_no_assert_for_input_checks():
    """Input checks must survive python -O: no assert statement in the library."""
    import ast
    from pathlib import Path

    root = Path(gg.__file__).parent
    found = []
    for f in root.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Assert):
                found.append(f"{f.relative_to(root)}:{node.lineno}")
    assert not found, found
