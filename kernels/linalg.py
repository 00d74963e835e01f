"""Small dense linear algebra and elementary functions of the adaptive kernels: packed
Cholesky factors, solves and inverses, four factorisations side by side, quadratic forms,
a vectorised exp(-x)."""

import math

import numpy as np
from numba import njit

#: fast-math flags of the vectorised reductions; NaN still propagates
_FM = {"reassoc", "contract", "nsz"}


_LN2_HI = 6.93147180369123816490e-01


_LN2_LO = 1.90821492927058770002e-10


_INV_LN2 = 1.44269504088896338700e00


@njit(cache=True, fastmath=_FM)
def _exp_neg(x, out, ibuf):
    """out[k] = exp(-x[k]) for 0 <= x[k] (0 beyond 708), vectorised (|rel err| < 1e-15).

    Range reduction x = m ln2 - r, |r| <= ln2 / 2, degree-14 Taylor polynomial,
    2^-m assembled from its bits (ibuf viewed as float64).
    """
    n = x.shape[0]
    for k in range(n):
        y = min(x[k], 708.0)
        m = math.floor(y * _INV_LN2 + 0.5)
        r = (m * _LN2_HI - y) + m * _LN2_LO
        p = 1.0 + r * (1.0 + r * (0.5 + r * (1.6666666666666666e-01 + r * (
            4.1666666666666664e-02 + r * (8.3333333333333332e-03 + r * (
                1.3888888888888889e-03 + r * (1.9841269841269841e-04 + r * (
                    2.4801587301587302e-05 + r * (2.7557319223985893e-06 + r * (
                        2.7557319223985888e-07 + r * (2.5052108385441720e-08 + r * (
                            2.0876756987868100e-09 + r * 1.6059043836821613e-10))))))))))))
        out[k] = p
        ibuf[k] = (1023 - np.int64(m)) << 52
    f = ibuf.view(np.float64)
    for k in range(n):
        out[k] = out[k] * f[k] if x[k] <= 708.0 else 0.0


@njit(cache=True, fastmath=_FM)
def _sym_quad(C, x, diag, d):
    """x^T C x for C packed (lower triangle by rows) or diagonal."""
    s = 0.0
    if diag:
        for i in range(d):
            s += C[i] * x[i] * x[i]
        return s
    p = 0
    for i in range(d):
        acc = 0.0
        for j in range(i):
            acc += C[p + j] * x[j]
        s += x[i] * (2.0 * acc + C[p + i] * x[i])
        p += i + 1
    return s


@njit(cache=True, fastmath=_FM)
def _factor(C, L, diag, d):
    """Cholesky factor of packed C into L (diagonal: copy); False when not SPD."""
    if diag:
        for i in range(d):
            if not C[i] > 0.0:
                return False
            L[i] = C[i]
        return True
    pj = 0
    for j in range(d):
        # row j of L
        pi = 0
        for i in range(j):
            t = C[pj + i]
            for p in range(i):
                t -= L[pj + p] * L[pi + p]
            L[pj + i] = t / L[pi + i]
            pi += i + 1
        s = C[pj + j]
        for p in range(j):
            s -= L[pj + p] * L[pj + p]
        if not s > 0.0:
            return False
        L[pj + j] = math.sqrt(s)
        pj += j + 1
    return True


@njit(cache=True, fastmath=_FM)
def _solve_norm(L, v, y, u, diag, d, want_u):
    """v^T C^{-1} v from the factor L; with want_u also u = C^{-1} v."""
    s2 = 0.0
    if diag:
        for i in range(d):
            t = v[i] / L[i]
            u[i] = t
            s2 += v[i] * t
        return s2
    p = 0
    for i in range(d):
        t = v[i]
        for q in range(i):
            t -= L[p + q] * y[q]
        t /= L[p + i]
        y[i] = t
        s2 += t * t
        p += i + 1
    if want_u:
        # u = L^{-T} y
        for i in range(d - 1, -1, -1):
            t = y[i]
            for q in range(i + 1, d):
                t -= L[q * (q + 1) // 2 + i] * u[q]
            u[i] = t / L[i * (i + 1) // 2 + i]
    return s2


@njit(cache=True, fastmath=_FM)
def _inverse_packed(L, G, d):
    """G = C^{-1} (dense) from the packed Cholesky factor L of C."""
    # X = L^{-1} (lower triangular), column by column, stored in G's lower part first
    for j in range(d):
        for i in range(d):
            G[i, j] = 0.0
    for j in range(d):
        for i in range(j, d):
            t = 1.0 if i == j else 0.0
            pi = i * (i + 1) // 2
            for q in range(j, i):
                t -= L[pi + q] * G[q, j]
            G[i, j] = t / L[pi + i]
    # C^{-1} = X^T X, symmetric: compute the upper triangle from X (lower) then mirror
    for i in range(d):
        for j in range(i, d):
            s = 0.0
            for q in range(j, d):
                s += G[q, i] * G[q, j]
            G[j, i] = s  # lower entry (j >= i) holds (X^T X)[i, j]; X[q, i] for q >= j unchanged
    for i in range(d):
        for j in range(i + 1, d):
            G[i, j] = G[j, i]


@njit(cache=True, fastmath=_FM)
def _gnorm(Gn, a, v, u, d):
    """v^T G v and u = G v for the dense symmetric G = Gn[a]."""
    s = 0.0
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += Gn[a, i, j] * v[j]
        u[i] = acc
        s += v[i] * acc
    return s


@njit(cache=True, fastmath=False)
def _chol_norm4(CT, VT, LT, RD, YT, s2, d):
    """s2[l] = v_l^T C_l^{-1} v_l for four packed SPD matrices at once (NaN where one is not
    positive definite): CT[:, l] the packed lower triangle (by rows) of C_l, VT[:, l] = v_l.

    The four Cholesky factorisations run side by side (lanes), so their long chains of
    dependent divisions and square roots overlap instead of running one after another
    (~5x faster per matrix than one at a time). No fast-math: every lane runs the same
    IEEE operations, so a result does not depend on its lane.
    """
    for j in range(d):
        pj = j * (j + 1) // 2
        for i in range(j):
            pi = i * (i + 1) // 2
            t0 = CT[pj + i, 0]
            t1 = CT[pj + i, 1]
            t2 = CT[pj + i, 2]
            t3 = CT[pj + i, 3]
            for p in range(i):
                t0 -= LT[pj + p, 0] * LT[pi + p, 0]
                t1 -= LT[pj + p, 1] * LT[pi + p, 1]
                t2 -= LT[pj + p, 2] * LT[pi + p, 2]
                t3 -= LT[pj + p, 3] * LT[pi + p, 3]
            LT[pj + i, 0] = t0 * RD[i, 0]
            LT[pj + i, 1] = t1 * RD[i, 1]
            LT[pj + i, 2] = t2 * RD[i, 2]
            LT[pj + i, 3] = t3 * RD[i, 3]
        s0 = CT[pj + j, 0]
        s1 = CT[pj + j, 1]
        s2_ = CT[pj + j, 2]
        s3 = CT[pj + j, 3]
        for p in range(j):
            a0 = LT[pj + p, 0]
            a1 = LT[pj + p, 1]
            a2 = LT[pj + p, 2]
            a3 = LT[pj + p, 3]
            s0 -= a0 * a0
            s1 -= a1 * a1
            s2_ -= a2 * a2
            s3 -= a3 * a3
        s0 = math.sqrt(s0) if s0 > 0.0 else np.nan
        s1 = math.sqrt(s1) if s1 > 0.0 else np.nan
        s2_ = math.sqrt(s2_) if s2_ > 0.0 else np.nan
        s3 = math.sqrt(s3) if s3 > 0.0 else np.nan
        LT[pj + j, 0] = s0
        LT[pj + j, 1] = s1
        LT[pj + j, 2] = s2_
        LT[pj + j, 3] = s3
        RD[j, 0] = 1.0 / s0
        RD[j, 1] = 1.0 / s1
        RD[j, 2] = 1.0 / s2_
        RD[j, 3] = 1.0 / s3
    # v^T C^{-1} v = |L^{-1} v|^2
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    for i in range(d):
        pi = i * (i + 1) // 2
        t0 = VT[i, 0]
        t1 = VT[i, 1]
        t2 = VT[i, 2]
        t3 = VT[i, 3]
        for q in range(i):
            t0 -= LT[pi + q, 0] * YT[q, 0]
            t1 -= LT[pi + q, 1] * YT[q, 1]
            t2 -= LT[pi + q, 2] * YT[q, 2]
            t3 -= LT[pi + q, 3] * YT[q, 3]
        t0 *= RD[i, 0]
        t1 *= RD[i, 1]
        t2 *= RD[i, 2]
        t3 *= RD[i, 3]
        YT[i, 0] = t0
        YT[i, 1] = t1
        YT[i, 2] = t2
        YT[i, 3] = t3
        a0 += t0 * t0
        a1 += t1 * t1
        a2 += t2 * t2
        a3 += t3 * t3
    s2[0] = a0
    s2[1] = a1
    s2[2] = a2
    s2[3] = a3


@njit(cache=True, fastmath=_FM)
def _deriv_quad(Sn, a, u, v, uu, diag, d):
    """sum_i v_i u^T S_i u for the packed (or diagonal) tensors S_i = Sn[a, i]."""
    if diag:
        m = d
        for j in range(d):
            uu[j] = u[j] * u[j]
    else:
        m = d * (d + 1) // 2
        p = 0
        for i in range(d):
            ui2 = 2.0 * u[i]
            for j in range(i):
                uu[p + j] = ui2 * u[j]
            uu[p + i] = u[i] * u[i]
            p += i + 1
    acc = 0.0
    for i in range(d):
        s = 0.0
        for p in range(m):
            s += Sn[a, i, p] * uu[p]
        acc += v[i] * s
    return acc


@njit(cache=True, inline="always")
def _ipow(x, n):
    r = 1.0
    for _ in range(n):
        r *= x
    return r

