"""Neural-curve baseline: each curve is a small MLP t -> z(t) trained on the discrete energy.

As in Chen et al. (2018, "Metrics for deep generative models") and the RHVAE paper
(Chadebec et al.), a curve with fixed endpoints is parametrised as

    z(t) = (1 - t) z0 + t z1 + t (1 - t) |z1 - z0| MLP(t),    t in [0, 1],

(two tanh hidden layers; the output layer starts at zero, so training starts from the
straight segment) and trained with Adam on the same discrete energy as the point
solver, (n - 1) sum_k c_k^2 over n evenly spaced t. All curves of a batch are trained
together: their MLPs are stacked weight tensors evaluated with batched matmuls.

It is a baseline to compare against: :func:`graphgeo.curves.refine.refine` (``gg.refine_curves``) with
method="points" (the default) is faster and more precise. Use it through
``refine(metric, curves, method="neural", hidden=32, lr=1e-2, seed=0)`` or
``gg.geodesic(..., solver="neural")``; the comparison with the input curve (never
return a longer curve) is done by ``refine``.
"""

import numpy as np

from .._backend import to_numpy
from .._optional import require
from .._validation import check_float, check_int, check_seed
from .energy import energy_torch, quadrature_torch, torch_device

__all__ = ["neural_refine"]


def neural_refine(metric, X, max_iter=500, tol=1e-10, quadrature=3, device=None, hidden=32,
                  lr=1e-2, seed=0, patience=50, bar=None):
    """Train one MLP curve per row of X (B, n, d) between X[:, 0] and X[:, -1].

    Returns (points (B, n, d), n_iter (B,), converged (B,)). ``converged``: the energy
    fell by less than max(tol, 1e-7) relatively over the last ``patience`` steps.
    ``bar``: an optional tqdm bar, advanced once per Adam step.
    """
    torch = require("torch", "the neural-curve baseline (refine_curves(method='neural'))")
    hidden = check_int(hidden, "hidden", low=1)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    seed = check_seed(seed)
    patience = check_int(patience, "patience", low=1)
    dev = torch_device(device, metric)
    B, n, d = X.shape
    f64 = dict(dtype=torch.float64, device=dev)
    gen = torch.Generator(device="cpu").manual_seed(seed)

    def init(*shape, fan_in):
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) / np.sqrt(fan_in)

    params = [init(B, 1, hidden, fan_in=1), init(B, 1, hidden, fan_in=1),
              init(B, hidden, hidden, fan_in=hidden), init(B, 1, hidden, fan_in=hidden),
              torch.zeros(B, hidden, d, dtype=torch.float64)]
    params = [p.to(dev).requires_grad_(True) for p in params]
    W1, b1, W2, b2, W3 = params
    z0 = torch.as_tensor(X[:, 0], **f64)
    z1 = torch.as_tensor(X[:, -1], **f64)
    scale = torch.linalg.vector_norm(z1 - z0, dim=1)[:, None, None]
    t = torch.linspace(0.0, 1.0, n, **f64)
    tq, wq = quadrature_torch(quadrature, dev)
    tt = t[None, :, None].expand(B, n, 1)

    def curves():
        h = torch.tanh(tt @ W1 + b1)
        h = torch.tanh(h @ W2 + b2)
        line = z0[:, None] + t[None, :, None] * (z1 - z0)[:, None]
        return line + (t * (1 - t))[None, :, None] * scale * (h @ W3)

    opt = torch.optim.Adam(params, lr=lr)
    hist = []
    thr = max(tol, 1e-7)
    n_iter = 0
    converged = np.zeros(B, dtype=bool)
    for it in range(max_iter):
        opt.zero_grad()
        E = energy_torch(metric, curves(), tq, wq)
        E.sum().backward()
        opt.step()
        n_iter = it + 1
        if bar is not None:
            bar.update()
        hist.append(E.detach())
        if len(hist) > patience:
            old = hist[-patience - 1]
            converged = to_numpy((old - hist[-1]).abs() <= thr * hist[-1].abs()).astype(bool)
            if converged.all():
                break
            hist.pop(0)
    with torch.no_grad():
        out = to_numpy(curves()).astype(np.float64, copy=True)
    out[:, 0], out[:, -1] = X[:, 0], X[:, -1]
    return out, np.full(B, n_iter, dtype=np.int64), converged
