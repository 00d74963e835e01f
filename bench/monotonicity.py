"""Direction-aware interpolation on Shepp-Logan-like phantoms with a growing tumour.

Reproduces the monotonicity table of Blanchard & Allassonniere (2025): phantoms
(numpy ellipses, 64 x 64) with a tumour whose radius grows with ``size`` in [0, 1],
1000 training and 500 held-out images, encoded; a KNN graph (k = 10) on the training
codes; for held-out pairs (size < 0.2 -> size > 0.8) the graph geodesic between the
two held-out codes (attached to the graph, ``shortest_path_between``) and the
monotonicity (gg.monotonicity, fraction of non-decreasing steps) of the tumour size
along it: the ground-truth size of each visited training image and of the two
endpoints. The same pairs are used for every row.

The generator. Heads are registered (same pose, as after the usual preprocessing);
the nuisance is in the tumour's position (horizontal shift), its contrast (uniform
in [0, 1]: faint tumours are barely visible, so around them the order of the
process is mixed) and the ventricles' shape, plus pixel noise.

Encoders and rows.
- PCA (``--dim`` components): Euclidean and Euclidean Randers (omega learned by
  graphgeo.learn.fit_randers on the training codes and sizes). The PCA decoder is
  linear with orthonormal components, so its pullback metric is the identity and the
  pullback rows would repeat the Euclidean ones: they are run in the VAE latent.
- A small torch VAE (``--vae-dim`` latent dimensions, MLP 4096-256-latent, Gaussian
  decoder): Euclidean and Euclidean Randers on the encoder means again, then
  Riemannian (VAE) = gg.VAECometric from the encoder means and variances,
  Finsler (VAE) = that base + a learned omega, Riemannian (pullback) =
  gg.PullbackCometric from the decoder's Jacobians at the training means (the
  paper's interpolated pullback cometric, Gaussian weights), Finsler (pullback) =
  that base + a learned omega. Bandwidths tau: half the median Mahalanobis distance
  to the 10th neighbour; lbd: 1e-2 times the median diagonal of the M_i.

``--figure PATH`` writes one figure with the forward (small -> large) and backward
(large -> small) geodesics of one held-out pair under the Euclidean Randers metric
(PCA latent): the training images each visits and the tumour size along both.

    python bench/monotonicity.py [--pairs 100] [--seed 0] [--no-vae] [--figure monotonicity.png]

Measured (defaults, seed 0, 2-core machine shared with other jobs, 5.5 min of
which the VAE training is most; forward monotonicity on 100 held-out pairs, std,
backward = the large -> small geodesic read from small to large):

    PCA latent (dim 32)      paper   ours  (std)  backward
    Euclidean Randers         0.84  0.886  0.106     0.565
    Euclidean                 0.66  0.730  0.135     0.730     Randers - Euclidean +0.157
    VAE latent (dim 16)
    Euclidean Randers         0.84  0.815  0.114     0.575
    Euclidean                 0.66  0.697  0.119     0.697
    Riemannian (VAE)          0.56  0.671  0.117     0.671
    Finsler (VAE)             0.48  0.758  0.112     0.593
    Riemannian (pullback)     0.58  0.657  0.119     0.657
    Finsler (pullback)        0.50  0.722  0.124     0.628

Unlike the paper, the Finsler rows beat their Riemannian bases here: on this data the
learned 1-form helps with every base metric.
Mechanism (what the learned omega does): with the paper's
losses alone (fit_randers' default smooth=0), phi_i separates each point's earlier
neighbours from its later ones, so omega varies from point to point and is far from
exact; forward edges get cheaper and backward edges dearer individually, which an
exact 1-form (a constant omega, say) cannot do: it only adds f(b) - f(a) to every
path. With a strong neighbour coupling of phi (smooth=10) omega becomes almost
constant on this data and the geodesics return to the Euclidean ones.
"""

import argparse
import time

import numpy as np

import graphgeo as gg
from graphgeo.learn import fit_randers
from graphgeo.monotone import monotonicity

PAPER = {"Euclidean Randers": 0.84, "Euclidean": 0.66, "Riemannian (VAE)": 0.56,
         "Finsler (VAE)": 0.48, "Riemannian (pullback)": 0.58, "Finsler (pullback)": 0.50}
ROWS = ["Euclidean Randers", "Euclidean", "Riemannian (VAE)", "Finsler (VAE)",
        "Riemannian (pullback)", "Finsler (pullback)"]


def _ellipse(X, Y, cx, cy, a, b, angle):
    c, s = np.cos(angle), np.sin(angle)
    u = (X - cx) * c + (Y - cy) * s
    v = -(X - cx) * s + (Y - cy) * c
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def phantoms(n, res=64, seed=0, shift=0.04, ventricles=0.2, noise=0.02):
    """(n, res*res) images in [-1, 1]^2 and their tumour sizes in [0, 1].

    Head and brain: fixed ellipses (registered images). Nuisance: the tumour's
    horizontal position (N(0, shift)), its contrast (U(0, 1) times 0.5), the
    ventricles' size (a common factor U(1 - ventricles, 1 + ventricles)), and
    Gaussian pixel noise of standard deviation ``noise``.
    """
    rng = np.random.default_rng(seed)
    g = np.linspace(-1, 1, res)
    X, Y = np.meshgrid(g, g)
    head = 1.0 * _ellipse(X, Y, 0, 0, 0.69, 0.92, 0) - 0.8 * _ellipse(X, Y, 0, -0.018, 0.62, 0.87, 0)
    size = rng.uniform(0, 1, n)
    imgs = np.empty((n, res * res))
    for i in range(n):
        v = rng.uniform(1 - ventricles, 1 + ventricles)
        contrast = rng.uniform(0, 1)
        tx = rng.normal(0, shift)
        img = head - 0.2 * _ellipse(X, Y, 0.22, 0, 0.11 * v, 0.31 * v, -0.31)
        img -= 0.2 * _ellipse(X, Y, -0.22, 0, 0.16 * v, 0.41 * v, 0.31)
        r = 0.04 + 0.22 * size[i]
        img += 0.5 * contrast * _ellipse(X, Y, 0.05 + tx, 0.45, r, 0.8 * r, 0)
        imgs[i] = img.ravel() + rng.normal(0, noise, res * res)
    return imgs, size


# ------------------------------------------------------------------------------ encoders
def pca(Xtr, Xte, dim):
    mean = Xtr.mean(0)
    _, sv, Vt = np.linalg.svd(Xtr - mean, full_matrices=False)
    W = Vt[:dim]
    explained = float(np.sum(sv[:dim] ** 2) / np.sum(sv ** 2))
    return (Xtr - mean) @ W.T, (Xte - mean) @ W.T, explained


def train_vae(Xtr, dim, seed=0, epochs=60, hidden=256, sigma_x=0.1, batch=100):
    """A small MLP VAE (float64); returns (encode, decoder) with encode(X) -> (mu, var)."""
    import torch

    torch.manual_seed(seed)
    D = Xtr.shape[1]
    enc = torch.nn.Sequential(torch.nn.Linear(D, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, 2 * dim)).double()
    dec = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, D)).double()
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    X = torch.as_tensor(Xtr, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=gen).split(batch):
            x = X[idx]
            h = enc(x)
            mu, logvar = h[:, :dim], h[:, dim:]
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen, dtype=mu.dtype)
            rec = ((dec(z) - x) ** 2).sum(1) / (2 * sigma_x ** 2)
            kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)
            loss = (rec + kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p in [*enc.parameters(), *dec.parameters()]:
        p.requires_grad_(False)

    def encode(Xa):
        with torch.no_grad():
            h = enc(torch.as_tensor(Xa, dtype=torch.float64))
        return h[:, :dim].numpy().copy(), h[:, dim:].exp().numpy().copy()

    return encode, dec


def _tau_lbd(Z, M, k=10):
    """tau = half the median Mahalanobis (M_i) distance to the k-th neighbour; lbd from M."""
    from scipy.spatial import cKDTree

    _, nb = cKDTree(Z).query(Z, k + 1)
    diff = Z[nb[:, -1]] - Z
    if M.ndim == 2:
        q = np.einsum("ni,ni->n", diff * M, diff)
        diag = M
    else:
        q = np.einsum("ni,nij,nj->n", diff, M, diff)
        diag = np.diagonal(M, axis1=1, axis2=2)
    return 0.5 * float(np.median(np.sqrt(q))), 1e-2 * float(np.median(diag))


# ------------------------------------------------------------------------------ evaluation
def geodesic_sizes(g, z0, z1, s0, s1, train_size):
    p = g.shortest_path_between(z0, z1)
    return np.r_[s0, train_size[p.nodes], s1], p


def evaluate(metric, Ztr, Zte, str_, ste, pairs, k):
    # 8-point Gauss-Legendre: the same paths as the default adaptive quadrature here
    # (0.886 both for the PCA Randers row), whose 1e-7 accuracy spends ~10x longer on
    # the fine structure of the learned field between the points
    g = gg.GeodesicGraph.build(Ztr, metric, k=k, quadrature=8)
    fwd, bwd = [], []
    for a, b in pairs:
        fwd.append(monotonicity(geodesic_sizes(g, Zte[a], Zte[b], ste[a], ste[b], str_)[0]))
        bwd.append(monotonicity(geodesic_sizes(g, Zte[b], Zte[a], ste[b], ste[a], str_)[0][::-1]))
    return np.mean(fwd), np.std(fwd), np.mean(bwd), g


def table(title, rows):
    print(f"\n{title}")
    print(f"{'metric':<24}{'paper':>7}{'ours':>8}{'(std)':>8}{'backward*':>11}{'time s':>8}")
    for name in ROWS:
        if name in rows:
            m, sd, b, t = rows[name]
            print(f"{name:<24}{PAPER[name]:>7.2f}{m:>8.3f}{sd:>8.3f}{b:>11.3f}{t:>8.1f}")
        else:
            print(f"{name:<24}{PAPER[name]:>7.2f}{'(see the other latent)':>27}")


def run_rows(metrics, Ztr, Zte, str_, ste, pairs, k):
    rows, graphs = {}, {}
    for name, make in metrics.items():
        t0 = time.perf_counter()
        m, sd, b, g = evaluate(make(), Ztr, Zte, str_, ste, pairs, k)
        rows[name] = (m, sd, b, time.perf_counter() - t0)
        graphs[name] = g
    return rows, graphs


def figure(path, g, Xtr, Xte, str_, ste, Zte, a, b, res=64):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s_f, p_f = geodesic_sizes(g, Zte[a], Zte[b], ste[a], ste[b], str_)
    s_b, p_b = geodesic_sizes(g, Zte[b], Zte[a], ste[b], ste[a], str_)
    imgs_f = [Xte[a], *Xtr[p_f.nodes], Xte[b]]
    imgs_b = [Xte[b], *Xtr[p_b.nodes], Xte[a]]
    ncol = max(len(imgs_f), len(imgs_b))
    fig = plt.figure(figsize=(1.3 * ncol, 6.2))
    grid = fig.add_gridspec(3, ncol, height_ratios=[1, 1, 1.6])
    for r, (imgs, sizes, label) in enumerate([(imgs_f, s_f, "forward"), (imgs_b, s_b, "backward")]):
        for c in range(ncol):
            ax = fig.add_subplot(grid[r, c])
            ax.axis("off")
            if c < len(imgs):
                ax.imshow(imgs[c].reshape(res, res), cmap="gray", vmin=-0.3, vmax=1.2)
                ax.set_title(f"{sizes[c]:.2f}", fontsize=8)
        fig.text(0.005, 0.84 - 0.27 * r, label, rotation=90, fontsize=9)
    ax = fig.add_subplot(grid[2, :])
    ax.plot(np.linspace(0, 1, len(s_f)), s_f, "o-", label=f"forward small->large "
            f"(monotonicity {monotonicity(s_f):.2f})")
    ax.plot(np.linspace(1, 0, len(s_b)), s_b, "s--", label=f"backward large->small, read reversed "
            f"(monotonicity {monotonicity(s_b[::-1]):.2f})")
    ax.set_xlabel("position along the path (small end = 0)")
    ax.set_ylabel("tumour size")
    ax.legend(fontsize=8)
    fig.suptitle("Directed geodesics under the learned Randers metric (titles: tumour size)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--dim", type=int, default=32, help="PCA components")
    ap.add_argument("--vae-dim", type=int, default=16, help="VAE latent dimension")
    ap.add_argument("--vae-epochs", type=int, default=60)
    ap.add_argument("--no-vae", action="store_true", help="PCA rows only")
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figure", default=None, help="write the two-direction figure here")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    X, size = phantoms(args.n_train + args.n_test, seed=args.seed)
    Xtr, Xte = X[:args.n_train], X[args.n_train:]
    str_, ste = size[:args.n_train], size[args.n_train:]
    rng = np.random.default_rng(args.seed + 1)
    small, large = np.flatnonzero(ste < 0.2), np.flatnonzero(ste > 0.8)
    pairs = np.c_[rng.choice(small, args.pairs), rng.choice(large, args.pairs)]
    print(f"{len(X)} phantoms ({time.perf_counter() - t0:.1f} s); {args.pairs} held-out pairs "
          f"small (< 0.2) -> large (> 0.8)")

    # ---------------------------------------------------------------- PCA latent
    Ztr, Zte, explained = pca(Xtr, Xte, args.dim)
    fit = fit_randers(Ztr, str_, k=16, seed=args.seed)
    print(f"PCA({args.dim}): explained variance {explained:.3f}; fit_randers mean accuracy "
          f"{fit.accuracy.mean():.3f}, mean rho {fit.rho.mean():.3f}")
    rows, graphs = run_rows({"Euclidean Randers": fit.metric,
                             "Euclidean": lambda: gg.Euclidean(args.dim)},
                            Ztr, Zte, str_, ste, pairs, args.k)
    table(f"PCA latent (dim {args.dim}): monotonicity of tumour size along geodesics", rows)
    gap = rows["Euclidean Randers"][0] - rows["Euclidean"][0]
    print(f"Randers - Euclidean: {gap:+.3f}")
    if args.figure:
        fwd = [monotonicity(geodesic_sizes(graphs["Euclidean Randers"], Zte[a], Zte[b], ste[a],
                                           ste[b], str_)[0]) for a, b in pairs]
        a, b = pairs[int(np.argsort(fwd)[len(fwd) // 2])]          # a typical (median) pair
        figure(args.figure, graphs["Euclidean Randers"], Xtr, Xte, str_, ste, Zte, a, b)
        print(f"figure written to {args.figure}")

    if args.no_vae:
        return rows, None

    # ---------------------------------------------------------------- VAE latent
    t0 = time.perf_counter()
    encode, dec = train_vae(Xtr, args.vae_dim, seed=args.seed, epochs=args.vae_epochs)
    (Mtr, Vtr), (Mte, _) = encode(Xtr), encode(Xte)
    print(f"\nVAE (latent {args.vae_dim}, {args.vae_epochs} epochs): {time.perf_counter() - t0:.1f} s")
    tau_v, lbd_v = _tau_lbd(Mtr, 1.0 / Vtr)
    vae = gg.VAECometric(Mtr, Vtr, tau=tau_v, lbd=lbd_v)
    probe = gg.PullbackCometric(dec, Mtr, tau=1.0, lbd=1.0, squared=True)
    tau_p, lbd_p = _tau_lbd(Mtr, probe.M)
    pull = gg.PullbackCometric(dec, Mtr, tau=tau_p, lbd=lbd_p, squared=True)
    fits = {name: fit_randers(Mtr, str_, k=16, base=base, seed=args.seed)
            for name, base in [("e", None), ("v", vae), ("p", pull)]}
    rows_v, _ = run_rows({
        "Euclidean Randers": fits["e"].metric,
        "Euclidean": lambda: gg.Euclidean(args.vae_dim),
        "Riemannian (VAE)": lambda: vae,
        "Finsler (VAE)": fits["v"].metric,
        "Riemannian (pullback)": lambda: pull,
        "Finsler (pullback)": fits["p"].metric,
    }, Mtr, Mte, str_, ste, pairs, args.k)
    table(f"VAE latent (dim {args.vae_dim}, tau/lbd: VAE {tau_v:.3g}/{lbd_v:.3g}, pullback "
          f"{tau_p:.3g}/{lbd_p:.3g})", rows_v)
    print("* backward: the large -> small geodesic, read from small to large (allowed to differ)")
    return rows, rows_v


if __name__ == "__main__":
    main()
