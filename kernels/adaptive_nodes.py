"""Per-node and per-segment-end data of the adaptive quadrature (see kernels/adaptive.py):
``adaptive_nodes`` computes, once per node, the cometric's factor, inverse, derivative
tensors, roots table and omega; ``adaptive_ends`` turns them into each segment's end values
and derivatives, visiting the segment ends node by node."""

import math

import numpy as np
from numba import njit, prange

from .adaptive import WSUM_VECTORS, _canonical, _qforms, _wsum
from .leaves import OMEGA_NONE, OMEGA_RBF, omega_at, omega_jacobian
from .linalg import _FM, _deriv_quad, _exp_neg, _factor, _gnorm, _inverse_packed, _solve_norm, _sym_quad


@njit(cache=True, fastmath=_FM)
def _nodes_range(a_start, a_stop, P, cd, use_table, hermite, okind, oparams, nodes):
    """The nodes a_start <= a < a_stop of ``adaptive_nodes`` (serial), WSUM_VECTORS nodes
    at a time: their (d + 1 or 1) weight vectors each go through one ``_wsum``."""
    cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale, qcut = cd
    table, Ln, Gn, Sn, omn, onn, Jn = nodes
    n, d = P.shape
    K = cT.shape[1]
    npad = MtT.shape[0]
    tens = hermite and K > 0
    nv = d + 1 if tens else 1
    G = WSUM_VECTORS
    U = np.zeros((G * nv, K))
    out = np.empty((G * nv, npad))
    x = np.empty(K)
    r = np.empty(K)
    ibuf = np.empty(K, dtype=np.int64)
    for a0 in range(a_start, a_stop, G):
        na = min(G, a_stop - a0)
        if na < G:
            for v in range(na * nv, G * nv):
                for k in range(K):
                    U[v, k] = 0.0
        for s in range(na):
            a = a0 + s
            z = P[a]
            _qforms(z, cT, wkind, wdT, wfull, inv_scale, x)
            w = U[s * nv]
            for k in range(K):
                w[k] = 0.125 * x[k] if x[k] <= 8.0 * (qcut[k] + 7.0) else 1e3
            _exp_neg(w, r, ibuf)
            for k in range(K):
                r2 = r[k] * r[k]
                r4 = r2 * r2
                w[k] = r4 * r4 if x[k] <= qcut[k] else 0.0
            if use_table:
                for k in range(K):
                    table[a, k] = r[k]
            if tens:
                # rows 1..d: w_k dq_k/dz_i, for the derivative tensors
                for i in range(d):
                    u = U[s * nv + i + 1]
                    if wkind == 0:
                        for k in range(K):
                            u[k] = 2.0 * w[k] * (z[i] - cT[i, k])
                    elif wkind == 1:
                        for k in range(K):
                            u[k] = 2.0 * w[k] * wdT[i, k] * (z[i] - cT[i, k])
                    else:
                        for k in range(K):
                            g = 0.0
                            for j in range(d):
                                g += wfull[k, i, j] * (z[j] - cT[j, k])
                            u[k] = 2.0 * w[k] * g
        _wsum(U, G * nv, MtT, out)
        for s in range(na):
            a = a0 + s
            z = P[a]
            C = out[s * nv]
            for j in range(npad):
                C[j] += C0p[j]
            if tens:
                for i in range(d):
                    for j in range(npad):
                        Sn[a, i, j] = out[s * nv + i + 1, j]
            if not _factor(C, Ln[a], diag, d):
                Ln[a, 0] = np.nan
            elif not diag:
                _inverse_packed(Ln[a], Gn[a], d)
            if okind != OMEGA_NONE:
                om = omn[a]
                omega_at(z, okind, oparams, om)
                onn[a] = math.sqrt(max(_sym_quad(C, om, diag, d), 0.0))
                if hermite and okind == OMEGA_RBF:
                    omega_jacobian(z, oparams, Jn[a])


@njit(cache=True, parallel=True)
def adaptive_nodes(P, cd, use_table, hermite, okind, oparams, nodes):
    """Per-node data of the adaptive rules (see the section comment).

    cd: the packed cometric (kernels/adaptive.py); okind, oparams: the 1-form;
    nodes = (table, Ln, Gn, Sn, omn, onn, Jn), written:
    the factor of C (packed Cholesky, or the diagonal; NaN when not SPD),
    the dense inverse Gn[a] = C^{-1} (full family), the derivative tensors
    Sn[a, i] = sum_k w_k dq_k/dz_i M_k (hermite), the
    roots table (use_table), omega, |omega|_{C} and the omega Jacobian (hermite, RBF).
    """
    n = P.shape[0]
    # chunks of whole groups of WSUM_VECTORS nodes
    ng = -(-n // WSUM_VECTORS)
    nchunks = min(ng, 1024)
    for c in prange(nchunks):
        _nodes_range(min(n, WSUM_VECTORS * (c * ng // nchunks)),
                     min(n, WSUM_VECTORS * ((c + 1) * ng // nchunks)), P, cd, use_table,
                     hermite, okind, oparams, nodes)


@njit(cache=True, fastmath=_FM)
def _ends_range(q_start, q_stop, order, P, ea, eb, nodes, flags, inv_scale, okind, oparams,
                max_norm, ends):
    """The segment ends order[q_start:q_stop] of ``adaptive_ends`` (serial)."""
    _, Ln, Gn, Sn, omn, onn, Jn = nodes
    diag, hermite, tens = flags
    EF, ED, EG, EDG, ER = ends
    d = P.shape[1]
    E = ea.shape[0]
    y = np.empty(d)
    u = np.empty(d)
    v = np.empty(d)
    uu = np.empty(Sn.shape[2] if tens else 1)
    for q in range(q_start, q_stop):
        idx = order[q]
        e = idx if idx < E else idx - E
        ia, ib, _ = _canonical(P, ea[e], eb[e])
        x = ea[e] if idx < E else eb[e]
        c = 0 if x == ia else 1
        h2 = 0.0
        for i in range(d):
            v[i] = P[ib, i] - P[ia, i]
            h2 += v[i] * v[i]
        if h2 == 0.0:
            EF[e, c] = 0.0
            ED[e, c] = 0.0
            EG[e, c] = 0.0
            EDG[e, c] = 0.0
            ER[e, c] = False
            continue
        if diag:
            sq = _solve_norm(Ln[x], v, y, u, True, d, True)
        else:
            sq = _gnorm(Gn, x, v, u, d)
        f = math.sqrt(sq) if sq >= 0.0 else np.nan
        df = 0.0
        if tens:
            df = inv_scale * _deriv_quad(Sn, x, u, v, uu, diag, d) / (2.0 * f)
        EF[e, c] = f
        ED[e, c] = df
        g = 0.0
        dg = 0.0
        resc = False
        if okind != OMEGA_NONE:
            for i in range(d):
                g += omn[x, i] * v[i]
            if max_norm > 0.0 and onn[x] > max_norm:
                g *= max_norm / onn[x]
                resc = True
            if hermite and okind == OMEGA_RBF:
                qv = 0.0
                for i in range(d):
                    for j in range(d):
                        qv += v[i] * Jn[x, i, j] * v[j]
                dg = -2.0 * oparams[3] * qv
        EG[e, c] = g
        EDG[e, c] = dg
        ER[e, c] = resc


@njit(cache=True, parallel=True)
def adaptive_ends(order, P, ea, eb, nodes, flags, inv_scale, okind, oparams, max_norm, ends):
    """Endpoint data of every segment, computed node by node.

    ``order`` lists the segment ends (e for the end at ea[e], E + e for the end at eb[e])
    grouped by node, so each node's factor, inverse and derivative tensors are read once
    for all its segments instead of once per segment (the segment loop meets most of its
    second endpoints cold in cache). Column 0 of each output is the segment's canonical
    start, column 1 its end (``_canonical``), with v = end - start; nodes: the output of
    ``adaptive_nodes``, flags = (diag, hermite, tens: derivative tensors present),
    okind, oparams, max_norm: the 1-form, ends = (EF, ED, EG, EDG, ER) written:
    EF = f = sqrt(v^T G v); ED = f' along v (tens: Hermite data); EG = <omega, v>
    (rescaled where max_norm > 0 requires it, ER then True); EDG = d/dt <omega, v>
    (RBF 1-forms, Hermite rules). Zero-length segments get zeros.
    """
    m = order.shape[0]
    nchunks = min(m, 1024)
    for c in prange(nchunks):
        _ends_range(c * m // nchunks, (c + 1) * m // nchunks, order, P, ea, eb, nodes, flags,
                    inv_scale, okind, oparams, max_norm, ends)

