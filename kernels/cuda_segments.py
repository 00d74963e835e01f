"""CUDA edge kernels: fixed-order Gauss-Legendre integrals of segments (numba-cuda).

The GPU counterpart of ``segments.costs_fixed``: one thread per segment (grid-stride
loop), the rule (tq, wq) on [0, 1], float64 accumulation, both directed weights from one
pass (R = int sqrt(dv^T G dv), A = int <omega, dv>, the forward cost R + A, the backward
one R - A), omega rescaled pointwise to ``max_norm`` where it exceeds it (max_norm > 0),
and worst[e], the largest |omega|_{G^-1} met on the segment before rescaling (the caller
raises RandersConditionError from it). A non-SPD cometric gives R = NaN, as on the CPU.

The kernels consume the arrays of the same ``KernelRecord`` as the CPU kernels; the
leaves mirror ``leaves.py`` operation for operation (same summation order), so results
agree with the CPU to rounding (fused multiply-adds on the device aside). Every family
gets its own kernel (the leaf is a compile-time constant of the kernel's closure), and
every kernel takes the same flat argument list (``flat_params``): numba-cuda kernels
take arrays and scalars, not namedtuples of arrays.

Per-thread scratch is ``cuda.local.array`` of compile-time size: dimensions up to
``MAX_DIM`` (the full cometric's Cholesky factor is held packed, MAX_DIM (MAX_DIM + 1) / 2
entries). Plain arrays in and out; ``costs_fixed_cuda`` is the launcher.

Imports numba.cuda at import time: import this module only once the device has been
resolved (``graphgeo._device``).
"""

import math
import time

import numpy as np
from numba import cuda

from .leaves import (
    CONFORMAL_HALFPLANE,
    FAMILY_COMETRIC_DIAG,
    FAMILY_COMETRIC_FULL,
    FAMILY_CONFORMAL,
    FAMILY_CONSTANT,
    FAMILY_IDENTITY,
    OMEGA_CONSTANT,
    OMEGA_NONE,
    OMEGA_RBF,
)

__all__ = ["MAX_DIM", "THREADS_PER_BLOCK", "flat_params", "costs_fixed_cuda"]

#: largest dimension the CUDA kernels handle (size of the per-thread local arrays)
MAX_DIM = 64
_TRI = MAX_DIM * (MAX_DIM + 1) // 2
#: threads per block of the launches
THREADS_PER_BLOCK = 128


# ---------------------------------------------------------------------------
# leaves: (v^T G(z) v, om^T G(z)^-1 om) as in leaves.py; p0..p4 arrays, s0, s1 floats,
# i0 an int, by family (see flat_params)
# ---------------------------------------------------------------------------


@cuda.jit(device=True)
def _identity_leaf(z, v, om, use_om, d, p0, p1, p2, p3, p4, s0, s1, i0, C, y):
    s = 0.0
    for i in range(d):
        s += v[i] * v[i]
    o = 0.0
    if use_om:
        for i in range(d):
            o += om[i] * om[i]
    return s, o


@cuda.jit(device=True)
def _constant_leaf(z, v, om, use_om, d, p0, p1, p2, p3, p4, s0, s1, i0, C, y):
    # p0 = A, p1 = A^-1
    s = 0.0
    o = 0.0
    for i in range(d):
        gi = 0.0
        for j in range(d):
            gi += p0[i, j] * v[j]
        s += v[i] * gi
    if use_om:
        for i in range(d):
            gi = 0.0
            for j in range(d):
                gi += p1[i, j] * om[j]
            o += om[i] * gi
    return s, o


@cuda.jit(device=True)
def _centroid_weight(z, d, k, centroids, wkind, wdiag, wfull, inv_scale, qcut):
    q = 0.0
    if wkind == 0:
        for i in range(d):
            t = z[i] - centroids[k, i]
            q += t * t
    elif wkind == 1:
        for i in range(d):
            t = z[i] - centroids[k, i]
            q += wdiag[k, i] * t * t
    else:
        for i in range(d):
            ti = z[i] - centroids[k, i]
            acc = 0.0
            for j in range(d):
                acc += wfull[k, i, j] * (z[j] - centroids[k, j])
            q += ti * acc
    q *= inv_scale
    if q > qcut[k]:
        return 0.0
    return math.exp(-q)


@cuda.jit(device=True)
def _cometric_full_leaf(z, v, om, use_om, d, p0, p1, p2, p3, p4, s0, s1, i0, C, y):
    # p0 centroids, p1 wdiag, p2 wfull, p3 M (K, d, d), p4 qcut, s0 inv_scale, s1 lbd,
    # i0 wkind; C: the packed lower triangle, C[i (i + 1) / 2 + j] = C_ij for j <= i
    for i in range(d):
        r = i * (i + 1) // 2
        for j in range(i + 1):
            C[r + j] = 0.0
        C[r + i] = s1
    for k in range(p0.shape[0]):
        w = _centroid_weight(z, d, k, p0, i0, p1, p2, s0, p4)
        if w == 0.0:
            continue
        for i in range(d):
            r = i * (i + 1) // 2
            for j in range(i + 1):
                C[r + j] += w * p3[k, i, j]
    o = 0.0
    if use_om:
        for i in range(d):
            r = i * (i + 1) // 2
            acc = C[r + i] * om[i]
            for j in range(i):
                acc += 2.0 * C[r + j] * om[j]
            o += om[i] * acc
    # in-place Cholesky of the packed lower triangle: C = L L^T
    for j in range(d):
        rj = j * (j + 1) // 2
        s = C[rj + j]
        for p in range(j):
            s -= C[rj + p] * C[rj + p]
        if s <= 0.0:
            return math.nan, o
        s = math.sqrt(s)
        C[rj + j] = s
        for i in range(j + 1, d):
            ri = i * (i + 1) // 2
            t = C[ri + j]
            for p in range(j):
                t -= C[ri + p] * C[rj + p]
            C[ri + j] = t / s
    # v^T G v = |L^-1 v|^2
    s2 = 0.0
    for i in range(d):
        ri = i * (i + 1) // 2
        t = v[i]
        for p in range(i):
            t -= C[ri + p] * y[p]
        t /= C[ri + i]
        y[i] = t
        s2 += t * t
    return s2, o


@cuda.jit(device=True)
def _cometric_diag_leaf(z, v, om, use_om, d, p0, p1, p2, p3, p4, s0, s1, i0, C, y):
    # as the full leaf with p3 = M (K, d): g (in y) = lbd + sum_k w_k m_k
    for i in range(d):
        y[i] = s1
    for k in range(p0.shape[0]):
        w = _centroid_weight(z, d, k, p0, i0, p1, p2, s0, p4)
        if w == 0.0:
            continue
        for i in range(d):
            y[i] += w * p3[k, i]
    s = 0.0
    o = 0.0
    for i in range(d):
        s += v[i] * v[i] / y[i]
    if use_om:
        for i in range(d):
            o += om[i] * om[i] * y[i]
    return s, o


@cuda.jit(device=True)
def _conformal_leaf(z, v, om, use_om, d, p0, p1, p2, p3, p4, s0, s1, i0, C, y):
    # i0: the conformal kind (p0: its coefficients, unused by the two kinds)
    if i0 == CONFORMAL_HALFPLANE:
        yl = z[d - 1]
        c = 1.0 / (yl * yl) if yl > 0.0 else math.nan
    else:
        r2 = 0.0
        for i in range(d):
            r2 += z[i] * z[i]
        u = 1.0 - r2
        c = 4.0 / (u * u) if u > 0.0 else math.nan
    s = 0.0
    for i in range(d):
        s += v[i] * v[i]
    o = 0.0
    if use_om:
        for i in range(d):
            o += om[i] * om[i]
        o /= c
    return c * s, o


@cuda.jit(device=True)
def _omega_at(z, d, okind, ow, ocenters, oW, oinv, oqcut, out):
    """omega(z) into out, as leaves.omega_at."""
    if okind == OMEGA_CONSTANT:
        for i in range(d):
            out[i] = ow[i]
        return
    for i in range(d):
        out[i] = 0.0
    if okind != OMEGA_RBF:
        return
    for k in range(ocenters.shape[0]):
        q = 0.0
        for i in range(d):
            t = z[i] - ocenters[k, i]
            q += t * t
        q *= oinv
        if q > oqcut:
            continue
        e = math.exp(-q)
        for i in range(d):
            out[i] += e * oW[k, i]


def _make_kernel(leaf):
    """The segments kernel of one family (``leaf`` is a compile-time constant)."""

    def kernel(a_pts, b_pts, ia, ib, tq, wq, p0, p1, p2, p3, p4, s0, s1, i0, okind, ow,
               ocenters, oW, oinv, oqcut, max_norm, R, A, worst):
        z = cuda.local.array(MAX_DIM, np.float64)
        dv = cuda.local.array(MAX_DIM, np.float64)
        om = cuda.local.array(MAX_DIM, np.float64)
        y = cuda.local.array(MAX_DIM, np.float64)
        C = cuda.local.array(_TRI, np.float64)
        d = a_pts.shape[1]
        use_om = okind != OMEGA_NONE
        for i in range(d):
            om[i] = 0.0
        start, stride = cuda.grid(1), cuda.gridsize(1)
        for e in range(start, ia.shape[0], stride):
            a = ia[e]
            b = ib[e]
            for i in range(d):
                dv[i] = b_pts[b, i] - a_pts[a, i]
            r_sum = 0.0
            a_sum = 0.0
            wst = 0.0
            for q in range(tq.shape[0]):
                t = tq[q]
                for i in range(d):
                    z[i] = a_pts[a, i] + t * dv[i]
                if use_om:
                    _omega_at(z, d, okind, ow, ocenters, oW, oinv, oqcut, om)
                s2, o2 = leaf(z, dv, om, use_om, d, p0, p1, p2, p3, p4, s0, s1, i0, C, y)
                r_sum += wq[q] * math.sqrt(s2)
                if use_om:
                    on = math.sqrt(o2)
                    if on > wst:
                        wst = on
                    a1 = 0.0
                    for i in range(d):
                        a1 += om[i] * dv[i]
                    if max_norm > 0.0 and on > max_norm:
                        a1 *= max_norm / on
                    a_sum += wq[q] * a1
            R[e] = r_sum
            A[e] = a_sum
            worst[e] = wst

    return cuda.jit(kernel)


_LEAVES = {
    FAMILY_IDENTITY: _identity_leaf,
    FAMILY_CONSTANT: _constant_leaf,
    FAMILY_COMETRIC_FULL: _cometric_full_leaf,
    FAMILY_COMETRIC_DIAG: _cometric_diag_leaf,
    FAMILY_CONFORMAL: _conformal_leaf,
}
#: family id -> its kernel, built on first use
_KERNELS = {}


def _kernel(family):
    kern = _KERNELS.get(family)
    if kern is None:
        kern = _KERNELS[family] = _make_kernel(_LEAVES[family])
    return kern


def flat_params(family, params, d):
    """The record's params as the kernels' flat (p0, p1, p2, p3, p4, s0, s1, i0).

    identity: nothing; constant: p0 = A, p1 = A^-1; centroid cometrics: p0 centroids,
    p1 wdiag, p2 wfull, p3 M, p4 qcut, s0 inv_scale, s1 lbd, i0 wkind; conformal: p0 coef,
    i0 kind. Unused slots hold a (1, 1) zero array.
    """
    z = np.zeros((1, 1))
    f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
    if family == FAMILY_IDENTITY:
        return z, z, z, z, z, 0.0, 0.0, 0
    if family == FAMILY_CONSTANT:
        return f64(params.A), f64(params.A_inv), z, z, z, 0.0, 0.0, 0
    if family in (FAMILY_COMETRIC_FULL, FAMILY_COMETRIC_DIAG):
        return (f64(params.centroids), f64(params.wdiag), f64(params.wfull), f64(params.M),
                f64(params.qcut), float(params.inv_scale), float(params.lbd), int(params.wkind))
    if family == FAMILY_CONFORMAL:
        coef = np.atleast_2d(f64(params.coef))
        return coef if coef.size else z, z, z, z, z, 0.0, 0.0, int(params.kind)
    raise KeyError(f"no CUDA kernel for family {family}")


def costs_fixed_cuda(a_pts, b_pts, ia, ib, tq, wq, family, params, okind, oparams, max_norm,
                     threads_per_block=THREADS_PER_BLOCK, stats=None):
    """(R, A, worst) on the host for the segments a_pts[ia[e]] -> b_pts[ib[e]].

    Host arrays in (copied to the device here), host arrays out; d <= MAX_DIM (the caller
    checks). ``oparams`` = (w, centers, W, inv_scale, qcut) as in the record. ``stats``: a
    dict that receives ``device_bytes`` (all device arrays of the call), ``used_bytes``
    (the device's used memory while they are alive, context included; None in the
    simulator), ``kernel_s`` (the
    kernel alone, CUDA events) and ``total_s`` (transfers included).
    """
    n = len(ia)
    d = a_pts.shape[1]
    R = np.empty(n)
    A = np.empty(n)
    worst = np.zeros(n)
    if n == 0:
        return R, A, worst
    t0 = time.perf_counter()
    dev = cuda.to_device
    p0, p1, p2, p3, p4, s0, s1, i0 = flat_params(family, params, d)
    w, centers, W, oinv, oqcut = oparams
    centers = np.ascontiguousarray(centers, dtype=np.float64).reshape(-1, d)
    W = np.ascontiguousarray(W, dtype=np.float64).reshape(-1, d)
    if len(centers) == 0:  # a zero-size device array cannot be passed on every driver
        centers = np.zeros((1, d))
        W = np.zeros((1, d))
        okind = OMEGA_NONE if okind == OMEGA_RBF else okind
    args = [dev(np.ascontiguousarray(x, dtype=np.float64)) for x in (a_pts, b_pts)]
    args += [dev(np.ascontiguousarray(x, dtype=np.int64)) for x in (ia, ib)]
    args += [dev(np.ascontiguousarray(x, dtype=np.float64)) for x in (tq, wq)]
    args += [dev(_nonempty(p)) for p in (p0, p1, p2, p3, p4)] + [s0, s1, i0]
    args += [int(okind), dev(np.ascontiguousarray(w, dtype=np.float64)), dev(centers), dev(W),
             float(oinv), float(oqcut), float(max_norm)]
    outs = [cuda.device_array(n, dtype=np.float64) for _ in range(3)]
    blocks = min(-(-n // threads_per_block), 65535)
    kern = _kernel(family)
    start, stop = cuda.event(), cuda.event()
    start.record()
    kern[blocks, threads_per_block](*args, *outs)
    stop.record()
    stop.synchronize()
    if stats is not None:
        stats["kernel_s"] = start.elapsed_time(stop) / 1e3  # milliseconds
        stats["device_bytes"] = sum(int(x.nbytes) for x in args + outs if hasattr(x, "nbytes"))
        free, total = cuda.current_context().get_memory_info()
        # (the simulator reports NaN: None then)
        stats["used_bytes"] = int(total - free) if math.isfinite(total - free) else None
    res = tuple(o.copy_to_host() for o in outs)
    if stats is not None:
        stats["total_s"] = time.perf_counter() - t0
    return res


def _nonempty(x):
    """x, or a zero array of the same rank and one entry per axis when x is empty (a
    zero-size device array is not accepted everywhere; the kernels never read it)."""
    return x if x.size else np.zeros((1,) * x.ndim)
