"""Directed costs of straight segments under a metric: the bridge to the edge kernels.

``segment_costs`` integrates R = int sqrt(dv^T G dv) and A = int <omega, dv> along
segments; directed costs are R + A (forward) and R - A (backward). Two kinds of
quadrature:

* ``quadrature="adaptive"`` (the default): node-shared nested rules with a
  per-segment error estimate, accurate to ``rtol`` relative to R. Everything the
  rules need at the segment ends (the metric, its Cholesky factor, its derivative
  tensor, omega) is computed once per distinct endpoint and shared by all the
  segments that meet there; interior points t = j/8 get their centroid weights
  as products of per-node roots (no exponential per centroid and point); the
  order grows per segment (levels of 1, 3 and 7 interior points, then bisection)
  until two nested rules agree. See ``graphgeo.kernels.adaptive``. Families whose
  parameters do not have the centroid cometric layout (conformal metrics) are integrated
  adaptively by recursive bisection with 8-point Gauss-Legendre panels
  (``graphgeo.kernels.segments.costs_bisect``), to the same rtol.
* an integer n: n-point Gauss-Legendre on every segment (fixed cost, no estimate).

Fused numba kernels serve the metrics with a kernel record
(``metric.kernel_record()``, plain arrays; dispatch on ``record.family`` below); other
metrics go through batched numpy evaluation (chunked), with the same nested rules in
adaptive mode. bench/edge_weights.py measures both modes against a numpy reference.

``device="cuda"`` runs the fixed-order rule of the fused families in the numba-cuda
kernels (``graphgeo.kernels.cuda_segments``; same record, same results to ~1e-10); the
adaptive mode stays on the CPU (``graphgeo._device`` says what each device takes).
"""

import numba
import numpy as np

from ._device import resolve_device
from ._validation import (check_float, check_int, check_metric, check_nodes, check_points,
                          check_quadrature)
from .exceptions import InvalidInputError, NotSPDError
from .kernels import adaptive as _ad
from .kernels import adaptive_edges as _ae
from .kernels import adaptive_nodes as _an
from .kernels import segments as _seg
from .kernels.leaves import OMEGA_RBF, work_size
from .metrics.base import _GENERIC_CHUNK, generic_segment_costs
from .metrics.randers import raise_randers
from .metrics.record import (FAMILY_COMETRIC_DIAG, FAMILY_COMETRIC_FULL, FAMILY_CONSTANT,
                             FAMILY_IDENTITY)

__all__ = ["gauss_legendre", "segment_costs", "curve_length", "DEFAULT_QUADRATURE", "ADAPTIVE",
           "ADAPTIVE_RTOL"]

#: the adaptive mode (error-controlled, node-shared nested rules)
ADAPTIVE = "adaptive"
#: quadrature used when none is given: adaptive (faster and more accurate than fixed
#: Gauss-Legendre on the RHVAE benchmark, see bench/edge_weights.py); an int n selects
#: n-point Gauss-Legendre
DEFAULT_QUADRATURE = ADAPTIVE
#: default relative accuracy of the adaptive mode (estimated error <= rtol * R per segment)
ADAPTIVE_RTOL = 1e-7
#: Hermite rules (node derivative tensors, d + 1 weighted sums per node) up to this dimension;
#: above it the node tensors cost more than the interior points they save
HERMITE_MAX_DIM = 12
#: float64 entries of per-node data (roots table, derivative tensors, inverses) held at once by
#: the adaptive kernels; larger graphs are processed in groups of consecutive segments
NODE_MEMORY_BUDGET = 1 << 25


def gauss_legendre(n):
    """Nodes and weights of the n-point Gauss-Legendre rule on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def check_rtol(rtol):
    if rtol is None:
        return ADAPTIVE_RTOL
    return check_float(rtol, "rtol", low=1e-14, high=1e-1)


def segment_costs(metric, a_pts, ia, ib, b_pts=None, quadrature=None, rtol=None, device="cpu"):
    """Integrate metric costs along segments a_pts[ia] -> b_pts[ib].

    Parameters
    ----------
    metric : graphgeo metric
    a_pts, b_pts : (n, d) arrays; b_pts defaults to a_pts (then ia, ib index the same
        points, as graph edges do, and every point's data is computed once)
    ia, ib : integer index arrays of equal length
    quadrature : "adaptive", an int number of Gauss-Legendre points, or None for
        DEFAULT_QUADRATURE ("adaptive")
    rtol : adaptive mode only: per-segment error target relative to R (default
        ADAPTIVE_RTOL)
    device : "cpu" (default), "cuda" or "auto" (see graphgeo._device: the CUDA kernels
        take fused families with an integer quadrature; "auto" uses them when a real GPU
        is visible and falls back to the CPU otherwise)

    Returns (R, A): the forward cost is R + A, the backward one R - A. Raises
    InvalidInputError for points of the wrong dimension, NaN/Inf coordinates or
    indices out of range, RandersConditionError where omega violates the Randers
    condition at a quadrature point (unless the metric rescales omega), NotSPDError
    where the metric is not positive definite.
    """
    check_metric(metric)
    quadrature = check_quadrature(quadrature)
    rtol = check_rtol(rtol)
    if b_pts is a_pts:
        b_pts = None
    a_pts = check_points(a_pts, "a_pts", dim=metric.dim)
    metric.check_domain(a_pts, "a_pts")
    if b_pts is not None:
        b_pts = check_points(b_pts, "b_pts", dim=metric.dim)
        metric.check_domain(b_pts, "b_pts")
    ia = check_nodes(ia, len(a_pts), "ia")
    ib = check_nodes(ib, len(a_pts if b_pts is None else b_pts), "ib")
    if len(ia) != len(ib):
        raise InvalidInputError(
            f"ia and ib must have the same length (one segment per pair); received {len(ia)} "
            f"and {len(ib)} indices."
        )
    if resolve_device(device, metric.kernel_record(), quadrature, metric.is_constant,
                      metric.dim) == "cuda":
        return _fixed(metric, a_pts, ia, ib, b_pts, quadrature or ADAPTIVE, cuda=True)
    if quadrature is None:
        quadrature = DEFAULT_QUADRATURE
    if quadrature == ADAPTIVE and not metric.is_constant:
        R, A, _, _ = _adaptive(metric, a_pts, ia, ib, b_pts, rtol)
        return R, A
    return _fixed(metric, a_pts, ia, ib, b_pts, quadrature)


def _fixed(metric, a_pts, ia, ib, b_pts, quadrature, cuda=False):
    b_pts = a_pts if b_pts is None else b_pts
    n = len(ia)
    if metric.is_constant or quadrature == ADAPTIVE:
        tq, wq = np.array([0.5]), np.array([1.0])
    else:
        tq, wq = gauss_legendre(quadrature)
    R = np.empty(n)
    A = np.empty(n)
    worst = np.zeros(n)
    if n == 0:
        return R, A
    max_norm = metric.max_norm
    rec = metric.kernel_record()
    if cuda:
        from .kernels.cuda_segments import costs_fixed_cuda

        R, A, worst = costs_fixed_cuda(a_pts, b_pts, ia, ib, tq, wq, rec.family, rec.params,
                                       *rec.form)
        _check_finite(R, a_pts, ia, b_pts, ib)
    elif rec is not None:
        _seg.costs_fixed(a_pts, b_pts, np.ascontiguousarray(ia, dtype=np.int64),
                         np.ascontiguousarray(ib, dtype=np.int64), tq, wq, rec.params,
                         work_size(rec.family, metric.dim), *rec.form, R, A, worst)
        _check_finite(R, a_pts, ia, b_pts, ib)
    else:
        R, A, worst = generic_segment_costs(metric, a_pts[ia], b_pts[ib], tq, wq, max_norm)
    if max_norm is None and worst.max(initial=0.0) >= 1.0:
        _raise_worst(metric, worst, a_pts[ia], b_pts[ib], ia, ib, tq)
    return R, A


def _check_finite(R, a_pts, ia, b_pts, ib):
    """NotSPDError naming the first segment a_pts[ia[e]] -> b_pts[ib[e]] whose cost is not
    finite (the endpoints are only gathered then)."""
    if not np.all(np.isfinite(R)):
        bad = int(np.flatnonzero(~np.isfinite(R))[0])
        raise NotSPDError(
            f"the metric is not positive definite on the segment from "
            f"{np.array2string(a_pts[ia[bad]], precision=4)} to "
            f"{np.array2string(b_pts[ib[bad]], precision=4)}; check the metric parameters."
        )


def _raise_worst(metric, worst, a, b, ia, ib, tq=None):
    """RandersConditionError for the segment with the largest |omega|_{G^{-1}} met; the
    point named is the worst of the quadrature nodes tq (a 17-point grid when None)."""
    e = int(np.argmax(worst))
    dv = b[e] - a[e]
    ts = np.linspace(0.0, 1.0, 17) if tq is None else tq
    zq = a[e][None] + ts[:, None] * dv[None]
    nq = np.asarray(metric.omega_norm(zq))
    q = int(np.argmax(nq))
    raise_randers(worst[e], zq[q], f" (on the segment {int(ia[e])} -> {int(ib[e])})")


def _adaptive(metric, a_pts, ia, ib, b_pts, rtol):
    """Adaptive integration; returns (R, A, worst, level) with level[e] in 0..4
    (0: zero-length segment, 1..3: accepted nested level, 4: bisection fallback)."""
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    n = len(ia)
    max_norm = metric.max_norm
    # distinct endpoints become nodes; segments refer to them
    if b_pts is None or b_pts is a_pts:
        nodes, inv = _compact(np.concatenate([ia, ib]), len(a_pts))
        P = a_pts[nodes]
        ea, eb = inv[:n], inv[n:]
    else:
        ua, inva = _compact(ia, len(a_pts))
        ub, invb = _compact(ib, len(b_pts))
        P = np.concatenate([a_pts[ua], b_pts[ub]])
        ea, eb = inva, invb + len(ua)
    if n == 0:
        return np.empty(0), np.empty(0), np.zeros(0), np.zeros(0, dtype=np.int8)
    rec = metric.kernel_record()
    if rec is None:
        P = np.ascontiguousarray(P, dtype=np.float64)
        R, A, worst, level = _generic_adaptive(metric, P, ea, eb, rtol, max_norm)
    elif rec.family not in _ADAPTIVE_PACK:
        P = np.ascontiguousarray(P, dtype=np.float64)
        R, A, worst, level = _bisect_adaptive(rec, P, ea, eb, rtol)
        _check_finite(R, P, ea, P, eb)
    else:
        # memory locality: number the nodes along the graph (reverse Cuthill-McKee) and
        # visit the segments by their first node, so that the per-node rows a segment
        # reads were mostly touched by its predecessors
        perm, order = _locality_order(len(P), ea, eb)
        rank = np.empty_like(perm)
        rank[perm] = np.arange(len(perm))
        ea_o = np.ascontiguousarray(rank[ea[order]], dtype=np.int64)
        eb_o = np.ascontiguousarray(rank[eb[order]], dtype=np.int64)
        out = _fused_adaptive(rec, np.ascontiguousarray(P[perm], dtype=np.float64), ea_o, eb_o,
                              rtol)
        R, A, worst, level = (np.empty_like(x) for x in out)
        for dst, src in zip((R, A, worst, level), out):
            dst[order] = src
        _check_finite(R, P, ea, P, eb)
    if max_norm is None and worst.max(initial=0.0) >= 1.0:
        _raise_worst(metric, worst, P[ea], P[eb], ia, ib)
    return R, A, worst, level


def _bisect_adaptive(rec, P, ea, eb, rtol):
    """Adaptive integration of a family without node-shared data: 8-point Gauss-Legendre
    on the segment, then on halves of each panel until the halves agree with it to rtol
    (``costs_bisect``); level 4 (0 for zero-length segments)."""
    n = len(ea)
    R = np.empty(n)
    A = np.empty(n)
    worst = np.zeros(n)
    depth = np.zeros(n, dtype=np.int64)
    tq, wq = gauss_legendre(8)
    with numba.parallel_chunksize(1):
        _seg.costs_bisect(P, P, np.ascontiguousarray(ea, dtype=np.int64),
                          np.ascontiguousarray(eb, dtype=np.int64), tq, wq, rec.params,
                          work_size(rec.family, P.shape[1]), *rec.form,
                          (float(rtol), _ad.ADAPTIVE_MAX_DEPTH), R, A, worst, depth)
    level = np.where(np.any(P[ea] != P[eb], axis=1), 4, 0).astype(np.int8)
    return R, A, worst, level


def _pack_cometric(params, d):
    """The packed cometric ``cd`` of a centroid cometric (see ``_ADAPTIVE_PACK``)."""
    centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut = params
    diag = M.ndim == 2
    tri_i, tri_j = np.tril_indices(d)
    if diag:
        m = d
        rows = np.ascontiguousarray(M.T)
        c0 = np.full(d, float(lbd))
    else:
        m = len(tri_i)
        rows = np.ascontiguousarray(M[:, tri_i, tri_j].T)
        c0 = np.where(tri_i == tri_j, float(lbd), 0.0)
    npad = -(-m // _ad.WSUM_ROWS) * _ad.WSUM_ROWS
    MtT = np.zeros((npad, centroids.shape[0]))
    MtT[:m] = rows
    C0p = np.zeros(npad)
    C0p[:m] = c0
    return (np.ascontiguousarray(centroids.T, dtype=np.float64), int(wkind),
            np.ascontiguousarray(wdiag.T, dtype=np.float64),
            np.ascontiguousarray(wfull, dtype=np.float64), MtT, C0p, diag,
            float(inv_scale), np.ascontiguousarray(qcut, dtype=np.float64))


def _pack_constant(Ainv, d):
    """A constant cometric as a centroid cometric without centroids (K = 0)."""
    tri_i, tri_j = np.tril_indices(d)
    ntri = len(tri_i)
    npad = -(-ntri // _ad.WSUM_ROWS) * _ad.WSUM_ROWS
    C0p = np.zeros(npad)
    C0p[:ntri] = Ainv[tri_i, tri_j]
    return (np.zeros((d, 0)), 0, np.zeros((d, 1)), np.zeros((1, d, d)), np.zeros((npad, 0)),
            C0p, False, 0.0, np.zeros(0))


#: the families the node-shared adaptive engine integrates, and how each record's params
#: become its packed cometric ``cd = (cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale,
#: qcut)``: C(z) = C0p + sum_k exp(-q_k(z) inv_scale) M_k, cT (d, K) and wdT (d, K) the
#: centroids and diagonal weight precisions transposed, MtT[j, k] the packed lower
#: triangle (or the diagonal) of M_k, zero rows up to a multiple of WSUM_ROWS
_ADAPTIVE_PACK = {
    FAMILY_IDENTITY: lambda p, d: _pack_constant(np.eye(d), d),
    FAMILY_CONSTANT: lambda p, d: _pack_constant(p.A_inv, d),
    FAMILY_COMETRIC_FULL: _pack_cometric,
    FAMILY_COMETRIC_DIAG: _pack_cometric,
}


def _locality_order(n_nodes, ea, eb):
    """(node permutation, segment order) that keep a segment's endpoints close in memory."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    if n_nodes < 2048:
        return np.arange(n_nodes), np.arange(len(ea))
    adj = coo_array((np.ones(len(ea), dtype=np.int8), (ea, eb)), shape=(n_nodes, n_nodes)).tocsr()
    perm = reverse_cuthill_mckee(adj, symmetric_mode=False).astype(np.int64)
    rank = np.empty_like(perm)
    rank[perm] = np.arange(n_nodes)
    order = _stable_order(np.minimum(rank[ea], rank[eb]), n_nodes)
    return perm, order


def _compact(idx, n):
    """(np.unique(idx), the inverse) for indices in [0, n), by a mask instead of a sort
    (O(len(idx) + n); ~10x faster than np.unique on graph-sized arrays)."""
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    nodes = np.flatnonzero(mask)
    lut = np.empty(n, dtype=np.int64)
    lut[nodes] = np.arange(len(nodes), dtype=np.int64)
    return nodes, lut[idx]


def _stable_order(keys, n):
    """np.argsort(keys, kind="stable") for integer keys in [0, n): least-significant-digit
    radix passes on 16-bit digits (numpy radix-sorts 16-bit integers), O(len(keys)) per
    pass instead of a comparison sort."""
    keys = np.asarray(keys, dtype=np.int64)
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while n > 1 and (n - 1) >> shift:
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


def _fused_adaptive(rec, P, ea, eb, rtol):
    """The fused adaptive kernels on nodes P and segments (ea, eb), in groups of
    consecutive segments whose node data fit NODE_MEMORY_BUDGET."""
    n_nodes, d = P.shape
    n = len(ea)
    data = _ADAPTIVE_PACK[rec.family](rec.params, d)
    K = data[0].shape[1]
    npad = data[4].shape[0]
    diag = data[6]
    form = rec.form
    hermite = d <= HERMITE_MAX_DIM
    rbf = hermite and rec.omega_kind == OMEGA_RBF
    per_node = (K + (d * npad if hermite and K > 0 else 0) + (0 if diag else d * d) + npad
                + 2 * d + 1 + (d * d if rbf else 0))
    max_nodes = max(256, NODE_MEMORY_BUDGET // per_node)
    # the segments' end data (adaptive_ends: 9 float64-sized entries per segment) take at
    # most a quarter of the budget
    max_segments = max(1024, NODE_MEMORY_BUDGET // 36)
    R = np.empty(n)
    A = np.empty(n)
    worst = np.zeros(n)
    level = np.zeros(n, dtype=np.int8)
    if n_nodes <= max_nodes and n <= max_segments:
        groups = [(0, n, P, ea, eb)]
    else:
        # consecutive segments (in locality order) share most of their nodes
        groups = []
        step = max(1, min(int(n * max_nodes / n_nodes * 0.7), max_segments))
        for s in range(0, n, step):
            nodes, inv = _compact(np.concatenate([ea[s:s + step], eb[s:s + step]]), n_nodes)
            m = min(step, n - s)
            groups.append((s, s + m, P[nodes], inv[:m], inv[m:]))
    # node buffers sized for the largest group, reused by every group (page faults once)
    inv_scale = data[7]
    nb = max(len(g[2]) for g in groups)
    use_table = K > 0
    bufs = (np.empty((nb if use_table else 0, K)), np.empty((nb, npad)),
            np.empty((0 if diag else nb, d, d)), np.empty((nb if hermite and K > 0 else 0, d, npad)),
            np.zeros((nb, d)), np.zeros(nb), np.empty((nb if rbf else 0, d, d)))
    ne_max = max(g[1] - g[0] for g in groups)
    ebufs = (np.empty((ne_max, 2)), np.empty((ne_max, 2)), np.empty((ne_max, 2)),
             np.empty((ne_max, 2)), np.empty((ne_max, 2), dtype=np.bool_))
    tq, wq = gauss_legendre(8)
    nthreads = numba.get_num_threads()
    rules = (hermite, float(rtol), _ad.RULES_HERMITE, _ad.RULES_VALUES, _ad._LEVEL_NEW, tq, wq,
             _ad.ADAPTIVE_MAX_DEPTH)
    for s, e, Pg, eag, ebg in groups:
        m = len(Pg)
        nodes = tuple(b[:m] if len(b) else b for b in bufs)
        table, Ln, onn = nodes[0], nodes[1], nodes[5]
        Pg = np.ascontiguousarray(Pg)
        # dynamic scheduling of the kernels' chunks (parallel_chunksize(1)): threads that
        # finish early take the next chunk instead of waiting for a thread that another
        # process slowed down (the default static split loses ~15% on a loaded machine)
        with numba.parallel_chunksize(1):
            _an.adaptive_nodes(Pg, data, use_table, hermite, *form[:2], nodes)
        bad = ~np.isfinite(Ln[:, 0])
        if bad.any():
            z = Pg[int(np.flatnonzero(bad)[0])]
            raise NotSPDError(
                f"the metric is not positive definite at {np.array2string(z, precision=4)}; "
                "check the metric parameters."
            )
        eag = np.ascontiguousarray(eag, dtype=np.int64)
        ebg = np.ascontiguousarray(ebg, dtype=np.int64)
        ne = e - s
        ends = tuple(x[:ne] for x in ebufs)
        # the segments' endpoint data, node by node (segment ends grouped by node)
        order = _stable_order(np.concatenate([eag, ebg]), m)
        with numba.parallel_chunksize(1):
            _an.adaptive_ends(order, Pg, eag, ebg, nodes, (diag, hermite, hermite and K > 0),
                              inv_scale, *form, ends)
        nchunks = int(min(ne, 64 * nthreads))
        with numba.parallel_chunksize(1):
            _ae.adaptive_edges(Pg, (eag, ebg), data, table, use_table, onn, ends, *form,
                               rules, nchunks, (R[s:e], A[s:e], worst[s:e], level[s:e]))
    return R, A, worst, level


def _integrands(metric, z, dv, max_norm):
    """(f, g, |omega|) at points z along directions dv, in chunks (generic numpy path)."""
    m = len(z)
    f = np.empty(m)
    g = np.empty(m)
    on = np.empty(m)
    for s in range(0, m, _GENERIC_CHUNK):
        r, ad, o = metric._segment_integrands(z[s:s + _GENERIC_CHUNK], dv[s:s + _GENERIC_CHUNK])
        if max_norm is not None:
            ad = ad * np.where(o > max_norm, max_norm / np.where(o > 0, o, 1.0), 1.0)
        f[s:s + _GENERIC_CHUNK] = r
        g[s:s + _GENERIC_CHUNK] = ad
        on[s:s + _GENERIC_CHUNK] = o
    return f, g, on


def _generic_adaptive(metric, P, ea, eb, rtol, max_norm):
    """The adaptive rules for metrics without a fused kernel (numpy, values only).

    Same nested levels as the kernels (Newton-Cotes on t = j/8), then composite
    8-point Gauss-Legendre on 2, 4, ..., 64 panels for the segments no level
    accepts. Also the numpy reference of the kernels' value-only mode.
    """
    n = len(ea)
    a = P[ea]
    dv = P[eb] - a
    F = np.zeros((n, 9))
    G = np.zeros((n, 9))
    worst = np.zeros(n)
    R = np.empty(n)
    A = np.empty(n)
    level = np.zeros(n, dtype=np.int8)

    def evaluate(idx, ts):
        m = len(idx)
        z = (a[idx][:, None, :] + np.asarray(ts)[None, :, None] * dv[idx][:, None, :])
        dvq = np.repeat(dv[idx], len(ts), axis=0)
        f, g, on = _integrands(metric, z.reshape(-1, P.shape[1]), dvq, max_norm)
        np.maximum.at(worst, idx, on.reshape(m, len(ts)).max(axis=1))
        return f.reshape(m, -1), g.reshape(m, -1)

    rules = _ad.RULES_VALUES[:, :9]
    idx = np.arange(n)
    F[:, [0, 8]], G[:, [0, 8]] = evaluate(idx, [0.0, 1.0])
    Rp, Ap = F @ rules[0], G @ rules[0]
    for lv in (1, 2, 3):
        if len(idx) == 0:
            break
        new = _ad._LEVEL_NEW[lv - 1]
        new = new[new >= 0]
        F[np.ix_(idx, new)], G[np.ix_(idx, new)] = evaluate(idx, new / 8.0)
        Rl, Al = F[idx] @ rules[lv], G[idx] @ rules[lv]
        err = np.maximum(np.abs(Rl - Rp), np.abs(Al - Ap))
        # no acceptance at level 1: Simpson against the trapezoid is too easily fooled
        ok = (err <= rtol * Rl) & (lv > 1)
        R[idx[ok]], A[idx[ok]], level[idx[ok]] = Rl[ok], Al[ok], lv
        idx, Rp, Ap = idx[~ok], Rl[~ok], Al[~ok]
    tq, wq = gauss_legendre(8)
    panels = 2
    while len(idx):
        edges = np.arange(panels + 1) / panels
        ts = (edges[:-1, None] + tq[None, :] / panels).ravel()
        f, g = evaluate(idx, ts)
        wts = np.tile(wq, panels) / panels
        Rl, Al = f @ wts, g @ wts
        err = np.maximum(np.abs(Rl - Rp), np.abs(Al - Ap))
        ok = (err <= rtol * Rl) | (panels >= 64) | ~np.isfinite(Rl)
        R[idx[ok]], A[idx[ok]], level[idx[ok]] = Rl[ok], Al[ok], 4
        idx, Rp, Ap = idx[~ok], Rl[~ok], Al[~ok]
        panels *= 2
    zero = ~np.any(dv != 0, axis=1)
    R[zero], A[zero], level[zero] = 0.0, 0.0, 0
    return R, A, worst, level


def curve_length(metric, points, quadrature=None, device="cpu"):
    """Direction-aware length of the polyline points[0] -> points[1] -> ... -> points[-1].

    Each segment is integrated with the same quadrature as the graph's edges, so
    a graph path's length equals curve_length of its points. ``device`` as in
    ``segment_costs``.
    """
    check_metric(metric)
    pts = check_points(points, "points", dim=metric.dim, min_rows=1)
    metric.check_domain(pts, "points")
    if len(pts) < 2:
        return 0.0
    idx = np.arange(len(pts) - 1)
    R, A = segment_costs(metric, pts, idx, idx + 1, quadrature=quadrature, device=device)
    return float(np.sum(R + A))
