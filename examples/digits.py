"""Geodesics on real data, offline: scikit-learn's bundled 8x8 digits in a PCA latent.

    python examples/digits.py [--out digits-out] [--dim 8]

1. Encode the 1797 digits with PCA (the decoder is the inverse transform).
2. Give the latent a data-driven Riemannian metric: a centroid cometric
   G^{-1}(z) = sum_k w_k(z) Sigma_k + lbd I with Sigma_k the local covariance of the
   data around k-means centres (the RHVAE / VAE-cometric construction with M_k
   estimated from the data). G is small where the data are dense and along their
   spread, large in the empty space between them, so geodesics stay on the data.
3. Compare geodesic with linear interpolation between digits of two classes: the
   distance of the interpolants to the nearest real digit (in the latent), and
   the decoded images side by side.
4. Compare geodesic with Euclidean k-medoids against the digit labels (adjusted
   Rand index, F1 after Hungarian matching).

Prints a table and writes interpolation.png and a summary of the clusterings.
"""

import argparse
import os
import time

import numpy as np


def encode(dim, seed):
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    X, y = load_digits(return_X_y=True)
    pca = PCA(n_components=dim, random_state=seed).fit(X)
    Z = pca.transform(X)
    scale = Z.std()
    return X, y, Z / scale, lambda z: pca.inverse_transform(z * scale)


def data_metric(Z, n_centres, seed):
    import graphgeo as gg
    from scipy.spatial import cKDTree
    from sklearn.cluster import KMeans

    km = KMeans(n_centres, n_init=4, random_state=seed).fit(Z)
    centres = km.cluster_centers_
    _, nbr = cKDTree(Z).query(centres, k=30)
    d = Z.shape[1]
    cov = np.stack([np.cov(Z[i].T) + 1e-3 * np.eye(d) for i in nbr])
    spacing = np.median(cKDTree(centres).query(centres, k=2)[0][:, 1])
    return gg.CentroidCometric(centres, 50.0 * cov, scale=(0.5 * spacing) ** 2, lbd=1e-3)


def f1_hungarian(y, labels):
    from scipy.optimize import linear_sum_assignment

    classes, clusters = np.unique(y), np.unique(labels)
    C = np.array([[np.sum((y == c) & (labels == k)) for k in clusters] for c in classes])
    r, c = linear_sum_assignment(-C)
    f1 = []
    for i, j in zip(r, c):
        tp = C[i, j]
        prec = tp / max(C[:, j].sum(), 1)
        rec = tp / max(C[i].sum(), 1)
        f1.append(0 if tp == 0 else 2 * prec * rec / (prec + rec))
    return 100 * float(np.mean(f1))


def main(argv=None):
    import graphgeo as gg
    from scipy.spatial import cKDTree
    from sklearn.metrics import adjusted_rand_score

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="digits-out")
    ap.add_argument("--dim", type=int, default=8)
    ap.add_argument("--pairs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-refine", action="store_true", help="graph + spline curves only")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    X, y, Z, decode = encode(args.dim, args.seed)
    metric = data_metric(Z, 150, args.seed)
    g = gg.GeodesicGraph.build(Z, metric, k=12)
    print(f"{len(Z)} digits in a {args.dim}-D PCA latent; {metric!r}; {g}")

    tree = cKDTree(Z)
    pairs = []
    while len(pairs) < args.pairs:
        a, b = rng.choice(len(Z), 2, replace=False)
        if y[a] != y[b]:
            pairs.append((a, b))
    a_idx, b_idx = map(np.array, zip(*pairs))
    curves = gg.geodesics(metric, Z[a_idx], Z[b_idx], graph=g, refine=not args.no_refine,
                          n_points=16)
    t = np.linspace(0, 1, 16)[:, None]
    off_lin, off_geo, len_lin, len_geo = [], [], [], []
    for (a, b), c in zip(pairs, curves):
        line = (1 - t) * Z[a] + t * Z[b]
        off_lin.append(np.median(tree.query(line)[0]))
        off_geo.append(np.median(tree.query(c.points)[0]))
        len_lin.append(gg.curve_length(metric, line))
        len_geo.append(c.length)
    typical = np.median(tree.query(Z, k=2)[0][:, 1])
    print("\ninterpolation between digits of different classes "
          f"(median over {len(pairs)} pairs)")
    print(f"{'':<22}{'linear':>12}{'geodesic':>12}")
    print(f"{'distance to data':<22}{np.median(off_lin) / typical:>12.2f}"
          f"{np.median(off_geo) / typical:>12.2f}   (in units of the typical 1-NN spacing)")
    print(f"{'metric length':<22}{np.median(len_lin):>12.3f}{np.median(len_geo):>12.3f}")

    k = 10
    km_geo = gg.GeodesicKMedoids(k, method="fasterpam", direction="symmetric",
                                 random_state=args.seed).fit(g)
    Deu = np.linalg.norm(Z[:, None] - Z[None], axis=2)
    km_euc = gg.GeodesicKMedoids(k, method="fasterpam", random_state=args.seed).fit(Deu)
    print("\nk-medoids against the digit labels (k = 10)")
    print(f"{'':<22}{'Euclidean':>12}{'geodesic':>12}")
    print(f"{'adjusted Rand':<22}{adjusted_rand_score(y, km_euc.labels_):>12.3f}"
          f"{adjusted_rand_score(y, km_geo.labels_):>12.3f}")
    print(f"{'F1 (Hungarian)':<22}{f1_hungarian(y, km_euc.labels_):>12.1f}"
          f"{f1_hungarian(y, km_geo.labels_):>12.1f}")

    os.makedirs(args.out, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = min(4, len(pairs))
    fig, axes = plt.subplots(2 * rows, 8, figsize=(8, 2.1 * rows))
    for r in range(rows):
        a, b = pairs[r]
        line = (1 - t) * Z[a] + t * Z[b]
        for row, pts, name in ((2 * r, line, "linear"), (2 * r + 1, curves[r].points, "geodesic")):
            imgs = decode(pts[:: 2])
            for j in range(8):
                ax = axes[row, j]
                ax.imshow(imgs[j].reshape(8, 8), cmap="gray_r")
                ax.set_xticks([])
                ax.set_yticks([])
            axes[row, 0].set_ylabel(name, fontsize=7)
    fig.suptitle("linear vs geodesic interpolation (decoded)")
    path = os.path.join(args.out, "interpolation.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"\nfigure: {path}; total {time.perf_counter() - t0:.1f} s")
    return {"off_linear": float(np.median(off_lin) / typical),
            "off_geodesic": float(np.median(off_geo) / typical),
            "ari_euclidean": adjusted_rand_score(y, km_euc.labels_),
            "ari_geodesic": adjusted_rand_score(y, km_geo.labels_)}


if __name__ == "__main__":
    main()
