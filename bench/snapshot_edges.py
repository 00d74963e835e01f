"""Snapshot of the edge-cost side, for bitwise comparisons across refactors.

Computes segment costs (adaptive and 8-point Gauss-Legendre) for every fused family
(Euclidean, constant, RHVAE full cometric in d = 2 and d = 8, VAE diagonal cometric,
Randers with a constant, an RBF and a rescaled (max_norm) 1-form), polyline lengths and
grid distance maps, and saves them to an .npz file (not committed), or compares them
with a saved one bit for bit (np.array_equal).

Run: python bench/snapshot_edges.py save /tmp/before.npz
     python bench/snapshot_edges.py compare /tmp/before.npz
"""

import pathlib
import sys

import numpy as np

import graphgeo as gg
from graphgeo import maps

# the workloads of the edge-kernel tests (tests/_segment_workloads.py), one copy
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from _segment_workloads import knn_segments, rhvae  # noqa: E402


def workloads():
    rng = np.random.default_rng(1234)
    out = {}
    X2 = rng.normal(size=(1500, 2))
    X3 = rng.normal(size=(800, 3))
    X6 = rng.normal(size=(800, 6))
    X8 = rng.normal(size=(800, 8))
    A = rng.normal(size=(3, 3))
    A = A @ A.T + 3 * np.eye(3)
    rh2 = rhvae(rng, X2, 60)
    rh8 = rhvae(rng, X8, 40, spacings=2.0)
    vae = gg.VAECometric(X6[:50], rng.uniform(0.2, 1.0, (50, 6)), 0.7, 1e-2)
    rbf2 = gg.RBFField(X2[:30], 0.003 * rng.normal(size=(30, 2)), 0.8)
    big = gg.RBFField(X2[:30], 3.0 * rng.normal(size=(30, 2)), 0.8)
    metrics = {
        "euclidean": (gg.Euclidean(3), X3),
        "constant": (gg.ConstantMetric(A), X3),
        "rhvae2": (rh2, X2),
        "rhvae8": (rh8, X8),
        "vae_diag": (vae, X6),
        "randers_const": (gg.Randers(gg.Euclidean(3), np.array([0.3, -0.2, 0.1])), X3),
        "randers_const_rh2": (gg.Randers(rh2, np.array([0.004, -0.002])), X2),
        "randers_rbf": (gg.Randers(rh2, rbf2), X2),
        "randers_rescaled": (gg.Randers(rh2, big, max_norm=0.8), X2),
        "randers_vae": (gg.Randers(vae, 0.002 * np.ones(6)), X6),
        "randers_rbf_const_base": (gg.Randers(gg.ConstantMetric(np.diag([2.0, 0.5])), rbf2), X2),
    }
    for name, (metric, X) in metrics.items():
        ia, ib = knn_segments(X, 6)
        for q in ("adaptive", 8, 3):
            R, A_ = gg.segment_costs(metric, X, ia, ib, quadrature=q)
            out[f"{name}/{q}/R"] = R
            out[f"{name}/{q}/A"] = A_
        # off-graph points (b_pts given)
        Y = X[:40] + 0.05
        R, A_ = gg.segment_costs(metric, X, np.arange(40), np.arange(40)[::-1], b_pts=Y)
        out[f"{name}/bpts/R"] = R
        out[f"{name}/bpts/A"] = A_
        poly = X[:50]
        out[f"{name}/curve/adaptive"] = np.array(gg.curve_length(metric, poly))
        out[f"{name}/curve/5"] = np.array(gg.curve_length(metric, poly, quadrature=5))
    grid = maps.Grid([-2.0, -2.0], [2.0, 2.0], (41, 41))
    for name in ("rhvae2", "randers_rbf", "randers_rescaled"):
        metric = metrics[name][0]
        for method in ("eikonal", "graph"):
            dist, lab = maps.distance_map(metric, grid, np.array([[0.1, 0.2], [-1.0, 0.5]]),
                                          method=method)
            out[f"map/{name}/{method}/dist"] = dist
            out[f"map/{name}/{method}/label"] = lab
    return out


def main():
    mode, path = sys.argv[1], sys.argv[2]
    out = workloads()
    if mode == "save":
        np.savez(path, **out)
        print(f"saved {len(out)} arrays to {path}")
        return
    ref = np.load(path, allow_pickle=False)
    bad = [k for k in ref.files if k not in out or not np.array_equal(ref[k], out[k], equal_nan=True)]
    missing = [k for k in out if k not in ref.files]
    print(f"{len(ref.files) - len(bad)}/{len(ref.files)} arrays bitwise equal")
    for k in bad:
        diff = np.nanmax(np.abs(np.asarray(ref[k], float) - np.asarray(out[k], float))) if k in out else None
        print(f"  DIFFERENT: {k} (max abs diff {diff})")
    if missing:
        print(f"  new arrays not in the snapshot: {missing}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
