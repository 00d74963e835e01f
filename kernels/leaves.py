"""Metric and 1-form leaves: the integrand of every fused family at one point.

A metric family is identified by an integer id (``FAMILY_*``) and described by a
namedtuple of plain arrays and scalars (``*Params``); the namedtuple's type selects the
leaf, so a driver compiled for one family contains that family's leaf only (one numba
specialisation per family, and ``cache=True`` holds: no function objects are passed).

``metric_sq(params, z, v, om, use_om, work)`` returns ``(v^T G(z) v, om^T G(z)^{-1} om)``
(the second only when use_om); ``work`` is scratch of ``work_size(family, d)`` entries.
A 1-form is an integer kind (``OMEGA_*``) and the fixed-type tuple of ``omega_params``;
``omega_at`` writes omega(z).

Adding a family: a ``*Params`` namedtuple, a leaf, one line in ``_LEAVES``, a
``FAMILY_*`` id (and its work size in ``work_size``).
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit
from numba.core import types
from numba.extending import overload

#: family ids (the record's ``family``)
FAMILY_IDENTITY, FAMILY_CONSTANT, FAMILY_COMETRIC_FULL, FAMILY_COMETRIC_DIAG, FAMILY_CONFORMAL = \
    0, 1, 2, 3, 4

#: G = I; ``unused``: a placeholder array (a family's params are never empty)
IdentityParams = namedtuple("IdentityParams", ["unused"])
#: G = A constant (A and its inverse)
ConstantParams = namedtuple("ConstantParams", ["A", "A_inv"])
#: G^{-1}(z) = sum_k exp(-q_k(z) inv_scale) M_k + lbd I; q_k by wkind (0: |z - c_k|^2,
#: 1: diagonal Mahalanobis wdiag, 2: full wfull); qcut[k]: the weight's skipping cutoff;
#: M (K, d, d) for the full family, (K, d) for the diagonal one
CometricParams = namedtuple("CometricParams", ["centroids", "wkind", "wdiag", "wfull", "M",
                                               "inv_scale", "lbd", "qcut"])
CometricDiagParams = namedtuple("CometricDiagParams", CometricParams._fields)
#: G(z) = c(z) I with c of kind CONFORMAL_* (coefficients in ``coef``)
ConformalParams = namedtuple("ConformalParams", ["kind", "coef"])

#: conformal factors: the hyperbolic half-plane / half-space c = 1 / z_last^2 on
#: z_last > 0 and the Poincare ball c = 4 / (1 - |z|^2)^2 on |z| < 1
CONFORMAL_HALFPLANE, CONFORMAL_POINCARE = 0, 1


def work_size(family, d):
    """float64 scratch entries a leaf of ``family`` needs in dimension d."""
    if family == FAMILY_COMETRIC_FULL:
        return d * d + d
    if family == FAMILY_COMETRIC_DIAG:
        return d
    return 1


# ---------------------------------------------------------------------------
# metric leaves
# ---------------------------------------------------------------------------


@njit(cache=True, fastmath=False)
def identity_leaf(z, v, om, use_om, params, work):
    """G = I."""
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    o = 0.0
    if use_om:
        for i in range(om.shape[0]):
            o += om[i] * om[i]
    return s, o


@njit(cache=True)
def constant_leaf(z, v, om, use_om, params, work):
    """G = A constant; params = (A, A^{-1})."""
    G = params[0]
    Ginv = params[1]
    d = v.shape[0]
    s = 0.0
    o = 0.0
    for i in range(d):
        gi = 0.0
        for j in range(d):
            gi += G[i, j] * v[j]
        s += v[i] * gi
    if use_om:
        for i in range(d):
            gi = 0.0
            for j in range(d):
                gi += Ginv[i, j] * om[j]
            o += om[i] * gi
    return s, o


@njit(cache=True)
def _centroid_weight(z, k, centroids, wkind, wdiag, wfull, inv_scale, qcut):
    """exp(-q_k(z) * inv_scale), or 0 when q_k * inv_scale > qcut[k] (negligible).

    q_k is |z - c_k|^2 (wkind 0), a diagonal Mahalanobis form (1) or a full one (2).
    """
    d = z.shape[0]
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


@njit(cache=True)
def cometric_full_leaf(z, v, om, use_om, params, work):
    """G^{-1}(z) = sum_k w_k(z) M_k + lbd I with full M_k; v^T G v by Cholesky solve.

    params: CometricParams; work needs d*d + d entries.
    """
    centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut = params
    d = z.shape[0]
    K = centroids.shape[0]
    C = work[: d * d].reshape((d, d))
    y = work[d * d : d * d + d]
    for i in range(d):
        for j in range(i + 1):
            C[i, j] = 0.0
        C[i, i] = lbd
    for k in range(K):
        w = _centroid_weight(z, k, centroids, wkind, wdiag, wfull, inv_scale, qcut)
        if w == 0.0:
            continue
        for i in range(d):
            for j in range(i + 1):
                C[i, j] += w * M[k, i, j]
    o = 0.0
    if use_om:
        for i in range(d):
            acc = C[i, i] * om[i]
            for j in range(i):
                acc += 2.0 * C[i, j] * om[j]
            o += om[i] * acc
    # in-place Cholesky of the lower triangle: C = L L^T
    for j in range(d):
        s = C[j, j]
        for p in range(j):
            s -= C[j, p] * C[j, p]
        if s <= 0.0:
            return np.nan, o
        s = math.sqrt(s)
        C[j, j] = s
        for i in range(j + 1, d):
            t = C[i, j]
            for p in range(j):
                t -= C[i, p] * C[j, p]
            C[i, j] = t / s
    # v^T G v = |L^{-1} v|^2
    s2 = 0.0
    for i in range(d):
        t = v[i]
        for p in range(i):
            t -= C[i, p] * y[p]
        t /= C[i, i]
        y[i] = t
        s2 += t * t
    return s2, o


@njit(cache=True)
def cometric_diag_leaf(z, v, om, use_om, params, work):
    """G^{-1}(z) = sum_k w_k(z) diag(m_k) + lbd I: O(K d) per evaluation.

    params: CometricDiagParams (M of shape (K, d)); work needs d entries.
    """
    centroids, wkind, wdiag, wfull, M, inv_scale, lbd, qcut = params
    d = z.shape[0]
    K = centroids.shape[0]
    g = work[:d]
    for i in range(d):
        g[i] = lbd
    for k in range(K):
        w = _centroid_weight(z, k, centroids, wkind, wdiag, wfull, inv_scale, qcut)
        if w == 0.0:
            continue
        for i in range(d):
            g[i] += w * M[k, i]
    s = 0.0
    o = 0.0
    for i in range(d):
        s += v[i] * v[i] / g[i]
    if use_om:
        for i in range(d):
            o += om[i] * om[i] * g[i]
    return s, o


@njit(cache=True)
def conformal_factor(kind, coef, z):
    """c(z) of the conformal metric G = c(z) I; NaN outside the domain."""
    d = z.shape[0]
    if kind == CONFORMAL_HALFPLANE:
        y = z[d - 1]
        if not y > 0.0:
            return np.nan
        return 1.0 / (y * y)
    r2 = 0.0
    for i in range(d):
        r2 += z[i] * z[i]
    u = 1.0 - r2
    if not u > 0.0:
        return np.nan
    return 4.0 / (u * u)


@njit(cache=True)
def conformal_leaf(z, v, om, use_om, params, work):
    """G(z) = c(z) I; params: ConformalParams."""
    c = conformal_factor(params.kind, params.coef, z)
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    o = 0.0
    if use_om:
        for i in range(om.shape[0]):
            o += om[i] * om[i]
        o /= c
    return c * s, o


#: the leaf of each params type (the dispatch table of the fused CPU kernels)
_LEAVES = {
    IdentityParams: identity_leaf,
    ConstantParams: constant_leaf,
    CometricParams: cometric_full_leaf,
    CometricDiagParams: cometric_diag_leaf,
    ConformalParams: conformal_leaf,
}


def metric_sq(params, z, v, om, use_om, work):
    """(v^T G(z) v, om^T G(z)^{-1} om) for the family whose params are given.

    Plain Python dispatch (NUMBA_DISABLE_JIT); compiled code resolves the leaf from the
    params' type at compile time (the overload below)."""
    return _LEAVES[type(params)](z, v, om, use_om, params, work)


@overload(metric_sq, jit_options={"cache": True})
def _metric_sq_overload(params, z, v, om, use_om, work):
    if not isinstance(params, (types.NamedTuple, types.NamedUniTuple)):
        return None
    leaf = _LEAVES.get(params.instance_class)
    if leaf is None:
        return None

    def impl(params, z, v, om, use_om, work):
        return leaf(z, v, om, use_om, params, work)

    return impl


# ---------------------------------------------------------------------------
# 1-forms: one evaluator, dispatched on an integer kind so that every driver
# has a fixed signature (cacheable across processes)
# ---------------------------------------------------------------------------

#: 1-form kinds understood by the drivers
OMEGA_NONE, OMEGA_CONSTANT, OMEGA_RBF = 0, 1, 2


@njit(cache=True, inline="always")
def _rbf_term(z, centers, k, inv_scale, qcut):
    """exp(-|z - c_k|^2 inv_scale), or -1.0 for a term skipped (exponent above qcut)."""
    q = 0.0
    for i in range(z.shape[0]):
        t = z[i] - centers[k, i]
        q += t * t
    q *= inv_scale
    if q > qcut:
        return -1.0
    return math.exp(-q)


@njit(cache=True)
def omega_at(z, okind, oparams, out):
    """Write omega(z) into out.

    oparams = (w, centers, W, inv_scale, qcut): a constant 1-form w (okind 1) or
    the RBF expansion sum_k exp(-|z - c_k|^2 inv_scale) W_k (okind 2), terms with
    |z - c_k|^2 inv_scale > qcut skipped.
    """
    w, centers, W, inv_scale, qcut = oparams
    d = z.shape[0]
    if okind == OMEGA_CONSTANT:
        for i in range(d):
            out[i] = w[i]
        return
    for i in range(d):
        out[i] = 0.0
    if okind != OMEGA_RBF:
        return
    for k in range(centers.shape[0]):
        e = _rbf_term(z, centers, k, inv_scale, qcut)
        if e < 0.0:
            continue
        for i in range(d):
            out[i] += e * W[k, i]


@njit(cache=True)
def omega_jacobian(z, oparams, J):
    """J[i, j] = sum_k e_k(z) (z - c_k)_i W_kj for the RBF 1-form (skipped terms as omega_at)."""
    w, centers, W, inv_scale, qcut = oparams
    d = z.shape[0]
    for i in range(d):
        for j in range(d):
            J[i, j] = 0.0
    for k in range(centers.shape[0]):
        e = _rbf_term(z, centers, k, inv_scale, qcut)
        if e < 0.0:
            continue
        for i in range(d):
            ei = e * (z[i] - centers[k, i])
            for j in range(d):
                J[i, j] += ei * W[k, j]


def omega_params(d, w=None, centers=None, W=None, inv_scale=0.0, qcut=0.0):
    """The fixed-type oparams tuple (unused slots filled with empty arrays)."""
    empty = np.zeros((0, d))
    return (np.zeros(d) if w is None else w,
            empty if centers is None else centers,
            empty if W is None else W,
            float(inv_scale), float(qcut))
