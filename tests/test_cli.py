"""The graphgeo command, run in a subprocess on small files, and every bad-file case."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "graphgeo.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    np.save(d / "p.npy", x)
    np.savez(d / "p.npz", points=x)
    np.savetxt(d / "p.csv", x, delimiter=",", header="z0,z1", comments="")
    np.savez(d / "rh.npz", centroids=x[:20], M=np.tile(np.eye(2), (20, 1, 1)), temperature=0.5,
             lbd=0.1)
    np.savez(d / "vae.npz", mu=x[:20], sigma=np.full((20, 2), 0.3), tau=0.5, lbd=0.1)
    np.save(d / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(d / "nan.npy", np.where(np.arange(600).reshape(300, 2) == 7, np.nan, x))
    np.save(d / "flat.npy", x.ravel())
    np.savez(d / "multi.npz", a=x, b=x)
    np.savez(d / "rh_missing.npz", centroids=x[:20], M=np.tile(np.eye(2), (20, 1, 1)))
    np.save(d / "omega.npy", np.array([0.1, 0.0]))
    (d / "text.csv").write_text("a,b\nx,y\n")
    return d, x


def test_build_path_distances(files):
    d, x = files
    for src in ("p.npy", "p.npz", "p.csv"):
        r = run("build", src, "-o", "g.npz", "--omega", "0.1,0", "--quiet", cwd=d)
        assert r.returncode == 0, r.stderr
        assert r.stdout == ""
    g = gg.GeodesicGraph.load(d / "g.npz")
    assert g.n_nodes == 300 and isinstance(g.metric, gg.Randers)
    r = run("path", "g.npz", "--source", 0, "--target", 5, "--both", "-o", "path.npz", cwd=d)
    assert r.returncode == 0, r.stderr
    assert "forward" in r.stdout and "backward" in r.stdout
    with np.load(d / "path.npz", allow_pickle=False) as f:
        assert_allclose(f["forward_length"], g.shortest_path(0, 5).length, rtol=1e-12)
        assert_allclose(f["backward_length"], g.shortest_path(5, 0).length, rtol=1e-12)
    r = run("path", "g.npz", "--source", "0.1,0.2", "--target=-0.5,0.3", cwd=d)  # "=" for a leading minus
    assert r.returncode == 0, r.stderr
    r = run("distances", "g.npz", "--sources", "0:10", "--targets", "3,4,5", "-o", "D.npy",
            "--dtype", "float64", "--quiet", cwd=d)
    assert r.returncode == 0, r.stderr
    assert_allclose(np.load(d / "D.npy"), g.distances(np.arange(10), [3, 4, 5]), rtol=1e-12)
    r = run("build", "p.npy", "-o", "g_rh.npz", "--metric", "rhvae", "--metric-file", "rh.npz",
            "--omega", "omega.npy", "--quiet", cwd=d)
    assert r.returncode == 0, r.stderr
    assert isinstance(gg.GeodesicGraph.load(d / "g_rh.npz").metric.base, gg.CentroidCometric)
    r = run("build", "p.npy", "-o", "g_vae.npz", "--metric", "vae", "--metric-file", "vae.npz",
            "--quiet", cwd=d)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("args, message", [
    (("build", "missing.npy", "-o", "x.npz"), "does not exist"),
    (("build", "pickled.npy", "-o", "x.npz"), "pickled"),
    (("build", "nan.npy", "-o", "x.npz"), "NaN"),
    (("build", "flat.npy", "-o", "x.npz"), "2-D array"),
    (("build", "multi.npz", "-o", "x.npz"), "named 'points'"),
    (("build", "text.csv", "-o", "x.npz"), "points"),
    (("build", "p.txt", "-o", "x.npz"), "must be .npy, .npz or .csv"),
    (("build", "p.npy", "-o", "x.npz", "-k", "300"), "k must be"),
    (("build", "p.npy", "-o", "x.npz", "--metric", "rhvae"), "--metric-file"),
    (("build", "p.npy", "-o", "x.npz", "--metric", "rhvae", "--metric-file", "rh_missing.npz"),
     "missing key"),
    (("build", "p.npy", "-o", "x.npz", "--omega", "0.1,zz"), "omega must be"),
    (("build", "p.npy", "-o", "x.npz", "--omega", "0.1,0,0"), "omega"),
    (("build", "p.npy", "-o", "x.npz", "--omega", "5,0"), "Randers condition"),
    (("path", "pickled.npy", "--source", "0", "--target", "1"), "pickled"),
    (("path", "p.npz", "--source", "0", "--target", "1"), "not a graphgeo graph file"),
    (("distances", "p.npz", "-o", "D.npy"), "not a graphgeo graph file"),
])
def test_bad_files_one_line_errors(files, args, message):
    d, _ = files
    r = run(*args, cwd=d)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    if "usage:" not in r.stderr:
        # one line, after the progress bar of the step that failed (closed on its own line)
        *bars, last = r.stderr.replace("\r", "\n").strip("\n").split("\n")
        assert last.startswith("graphgeo: error:") and message in last
        assert all(line.startswith("build:") for line in bars if line), r.stderr


def test_bad_files_one_line_errors_quiet(files):
    d, _ = files
    r = run("build", "p.npy", "-o", "x.npz", "--omega", "5,0", "--quiet", cwd=d)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("graphgeo: error:") and r.stderr.count("\n") == 1
    assert "Randers condition" in r.stderr


def test_bad_indices(files):
    d, _ = files
    assert run("build", "p.npy", "-o", "g.npz", "--quiet", cwd=d).returncode == 0
    for args, message in [
        (("path", "g.npz", "--source", "0", "--target", "9999"), "node index"),
        (("distances", "g.npz", "--sources", "a,b", "-o", "D.npy"), "--sources"),
        (("distances", "g.npz", "--sources", "0,400", "-o", "D.npy"), "--sources"),
        (("distances", "g.npz", "--limit", "-1", "-o", "D.npy"), "limit"),
    ]:
        r = run(*args, cwd=d)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_cluster_and_map(files):
    d, _ = files
    assert run("build", "p.npy", "-o", "gc.npz", "--omega", "0.05,0", "--quiet", cwd=d).returncode == 0
    r = run("cluster", "gc.npz", "--n-clusters", 3, "-o", "labels.npy", cwd=d)
    assert r.returncode == 0, r.stderr
    labels = np.load(d / "labels.npy")
    assert labels.shape == (300,) and set(np.unique(labels)) == {0, 1, 2}
    km = gg.GeodesicKMedoids(3, random_state=0).fit(gg.GeodesicGraph.load(d / "gc.npz"))
    np.testing.assert_array_equal(labels, km.labels_)
    r = run("map", "gc.npz", "--seeds", "0,10", "--grid", 40, "-o", "map.png", cwd=d)
    assert r.returncode == 0, r.stderr
    assert (d / "map.png").stat().st_size > 10_000
    for args, message in [(("cluster", "gc.npz", "--n-clusters", 0, "-o", "l.npy"), "n_clusters"),
                          (("map", "gc.npz", "--seeds", "999", "-o", "m.png"), "--seeds")]:
        r = run(*args, cwd=d)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
