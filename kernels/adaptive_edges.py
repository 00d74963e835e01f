"""The adaptive integrals of the segments (see kernels/adaptive.py for the scheme):
``adaptive_edges`` climbs the nested levels segment by segment, EDGE_BLOCK segments at a
time, from the node and end data of kernels/adaptive_nodes.py, then falls back to
recursive bisection (``_bisect``).

Scratch shared by the helpers of one serial range (``sc``): (z, xb, ib_, om, Z4, V4, wk,
fo, go, ono): a point, the exponent and integer buffers of the weights, omega, four points
and directions with the Cholesky work arrays ``wk`` of ``_chol_norm4`` and their results.
"""

import math

import numpy as np
from numba import njit, prange

from .adaptive import (_PSI_MAX, WSUM_VECTORS, _canonical, _exp_weights, _qform_dir,
                       _table_weights, _wsum)
from .leaves import OMEGA_NONE, omega_at
from .linalg import _FM, _chol_norm4, _ipow, _sym_quad


@njit(cache=True, fastmath=_FM)
def _finish4(Cb, r0, cd, form, sc):
    """(f, g, |omega|) into fo, go, ono at the four points Z4[l] with directions V4[l], from
    the weighted sums in rows r0..r0+3 of Cb (C0p not yet added; added here):
    f = sqrt(v^T G v) (NaN where C is not SPD), g = <omega, v> (rescaled where
    max_norm > 0 requires it). sc: the scratch of ``_scratch``, wk the work arrays
    (CT, VT, LT, RD, YT, s2) of ``_chol_norm4``."""
    C0p = cd[5]
    diag = cd[6]
    okind, oparams, max_norm = form
    _, _, _, om, Z4, V4, wk, fo, go, ono = sc
    d = Z4.shape[1]
    CT, VT, LT, RD, YT, s2 = wk
    npad = Cb.shape[1]
    for l in range(4):
        C = Cb[r0 + l]
        for j in range(npad):
            C[j] += C0p[j]
        g = 0.0
        on = 0.0
        if okind != OMEGA_NONE:
            omega_at(Z4[l], okind, oparams, om)
            on = math.sqrt(max(_sym_quad(C, om, diag, d), 0.0))
            for i in range(d):
                g += om[i] * V4[l, i]
            if max_norm > 0.0 and on > max_norm:
                g *= max_norm / on
        go[l] = g
        ono[l] = on
    if diag:
        for l in range(4):
            s = 0.0
            for i in range(d):
                c = Cb[r0 + l, i]
                if not c > 0.0:
                    s = np.nan
                s += V4[l, i] * (V4[l, i] / c)
            fo[l] = math.sqrt(s)
        return
    for j in range(d * (d + 1) // 2):
        for l in range(4):
            CT[j, l] = Cb[r0 + l, j]
    for i in range(d):
        for l in range(4):
            VT[i, l] = V4[l, i]
    _chol_norm4(CT, VT, LT, RD, YT, s2, d)
    for l in range(4):
        fo[l] = math.sqrt(s2[l])


@njit(cache=True, fastmath=_FM)
def _point_weights(j, tab, table, ia, ib, eta, bk, P, v, cd, W, r, sc):
    """Centroid weights at t = j/8 on the segment P[ia] + t v into W[r]: products of the
    node roots table[ia], table[ib] (tab) or exponentials."""
    cT, wkind, wdT, wfull, _, _, _, inv_scale, qcut = cd
    z, xb, ib_ = sc[0], sc[1], sc[2]
    if tab:
        e64 = j * (8 - j)
        if wkind == 0:
            _table_weights(table, ia, ib, j, math.exp(e64 / 64.0 * eta), W, r)
        else:
            _table_weights(table, ia, ib, j, 1.0, W, r)
            for k in range(W.shape[1]):
                W[r, k] *= _ipow(bk[k], e64)
    else:
        t = j / 8.0
        for i in range(P.shape[1]):
            z[i] = P[ia, i] + t * v[i]
        _exp_weights(z, cT, wkind, wdT, wfull, inv_scale, qcut, W[r], xb, ib_)


@njit(cache=True, fastmath=_FM)
def _gl_panel(pa, v, t0, t1, tq, wq, W, Cb, cd, form, sc):
    """Gauss-Legendre integrals of f and g over t in [t0, t1] (exp weights); (R, A, worst).

    The points go through ``_wsum`` and ``_finish4`` four at a time (W, Cb: buffers of
    WSUM_VECTORS = 4 rows)."""
    cT, wkind, wdT, wfull, MtT, _, _, inv_scale, qcut = cd
    _, xb, ib_, _, Z4, V4, _, fo, go, ono = sc
    d = pa.shape[0]
    K = W.shape[1]
    nq = tq.shape[0]
    Rp = 0.0
    Ap = 0.0
    worst = 0.0
    for q0 in range(0, nq, 4):
        nb = min(4, nq - q0)
        for p in range(4):
            t = t0 + (t1 - t0) * tq[min(q0 + p, nq - 1)]
            for i in range(d):
                Z4[p, i] = pa[i] + t * v[i]
                V4[p, i] = v[i]
            if p < nb:
                _exp_weights(Z4[p], cT, wkind, wdT, wfull, inv_scale, qcut, W[p], xb, ib_)
            else:
                for k in range(K):
                    W[p, k] = 0.0
        _wsum(W, 4, MtT, Cb)
        _finish4(Cb, 0, cd, form, sc)
        for p in range(nb):
            if ono[p] > worst:
                worst = ono[p]
            Rp += wq[q0 + p] * fo[p]
            Ap += wq[q0 + p] * go[p]
    return Rp * (t1 - t0), Ap * (t1 - t0), worst


@njit(cache=True, fastmath=_FM)
def _block_points(Wb, nr, Cb, rows, s_v, P, s_ia, cd, form, sc, blk):
    """(f, g, |omega|) into fb, gb, onb for the points of rows r < nr: row r holds the
    weights (in Wb[r]) of the point t = r_t[r] of the segment in slot r_s[r]
    (P[s_ia[slot]] + t s_v[slot]), rows = (r_s, r_t). Rows are padded with zeros to whole
    blocks of four. blk = (fb, gb, onb)."""
    MtT = cd[4]
    r_s, r_t = rows
    fb, gb, onb = blk
    _, _, _, _, Z4, V4, _, fo, go, ono = sc
    d = P.shape[1]
    K = Wb.shape[1]
    nrow = -(-nr // 4) * 4
    for r in range(nr, nrow):
        for k in range(K):
            Wb[r, k] = 0.0
    _wsum(Wb, nrow, MtT, Cb)
    for r0 in range(0, nrow, 4):
        for l in range(4):
            r = r0 + l
            if r < nr:
                s = r_s[r]
                t = r_t[r]
                a = s_ia[s]
                for i in range(d):
                    Z4[l, i] = P[a, i] + t * s_v[s, i]
                    V4[l, i] = s_v[s, i]
            else:
                for i in range(d):
                    Z4[l, i] = 0.0
                    V4[l, i] = 0.0
        _finish4(Cb, r0, cd, form, sc)
        for l in range(4):
            fb[r0 + l] = fo[l]
            gb[r0 + l] = go[l]
            onb[r0 + l] = ono[l]


@njit(cache=True, fastmath=_FM)
def _rule_value(lv, sF, sG, s, hermite, herm_a, rules_h, rules_v, df0, df1, dg0, dg1):
    """(R, A) of the level-lv rules on the values sF[s], sG[s] (and end derivatives)."""
    Rl = 0.0
    Al = 0.0
    for j in range(9):
        ch = rules_h[lv, j] if hermite else rules_v[lv, j]
        cg = rules_h[lv, j] if herm_a else rules_v[lv, j]
        if ch != 0.0:
            Rl += ch * sF[s, j]
        if cg != 0.0:
            Al += cg * sG[s, j]
    if hermite:
        Rl += rules_h[lv, 9] * (df0 - df1)
    if herm_a:
        Al += rules_h[lv, 9] * (dg0 - dg1)
    return Rl, Al


@njit(cache=True, fastmath=_FM)
def _bisect(pa, v, Rl, Al, wst, tq, wq, max_depth, rtol, Wx, Cx, cd, form, sc, stack):
    """The fallback of a segment no level accepts: recursive bisection with Gauss-Legendre
    panels (exponential weights), each compared with the level below; (R, A, worst)."""
    st0, st1, stR, stA, stD = stack
    tol = rtol * abs(Rl)
    Rs = 0.0
    As = 0.0
    st0[0] = 0.0
    st1[0] = 1.0
    stR[0] = Rl
    stA[0] = Al
    stD[0] = 0
    top = 1
    while top > 0:
        top -= 1
        t0 = st0[top]
        t1 = st1[top]
        I1R = stR[top]
        I1A = stA[top]
        dep = stD[top]
        tm = 0.5 * (t0 + t1)
        LR, LA, w1 = _gl_panel(pa, v, t0, tm, tq, wq, Wx, Cx, cd, form, sc)
        RR, RA, w2 = _gl_panel(pa, v, tm, t1, tq, wq, Wx, Cx, cd, form, sc)
        wst = max(wst, max(w1, w2))
        I2R = LR + RR
        I2A = LA + RA
        if not I2R == I2R:
            Rs = np.nan
            break
        err = max(abs(I2R - I1R), abs(I2A - I1A))
        if err <= tol * (t1 - t0) or dep >= max_depth:
            Rs += I2R
            As += I2A
        else:
            st0[top] = tm
            st1[top] = t1
            stR[top] = RR
            stA[top] = RA
            stD[top] = dep + 1
            top += 1
            st0[top] = t0
            st1[top] = tm
            stR[top] = LR
            stA[top] = LA
            stD[top] = dep + 1
            top += 1
    return Rs, As, wst


#: segments integrated together by ``_edges_range``: their level-1 points (t = 1/2) form
#: one ``_wsum`` block, the level-2 points (t = 1/4, 3/4) of those level 1 does not accept
#: at most two
EDGE_BLOCK = 4


@njit(cache=True, fastmath=_FM)
def _edges_range(e_start, e_stop, P, seg, cd, table, use_table, onn, ends, okind, oparams,
                 max_norm, rules, out):
    """The segments e_start <= e < e_stop of ``adaptive_edges`` (serial).

    EDGE_BLOCK segments at a time: (a) per segment, the endpoint data and the weights of
    its level-1 point; (b) the level-1 points of the block together (``_block_points``:
    one ``_wsum``, Cholesky solves four at a time), level-1 acceptance, and the weights of
    the level-2 points of the segments it does not accept; (c) those level-2 points
    together; (d) per segment, level-2 acceptance, then level 3 (its four points as one
    block) and the bisection fallback on demand. The rules, estimates and accepted
    values are those of the section comment, segment by segment; the blocks only share
    the loads of the packed M_k and overlap the factorisations.
    """
    ea, eb = seg
    cT, wkind, wdT, wfull, MtT, C0p, diag, inv_scale, qcut = cd
    EF, ED, EG, EDG, ER = ends
    form = (okind, oparams, max_norm)
    hermite, rtol, rules_h, rules_v, level_new, tq, wq, max_depth = rules
    R, A, worst, level = out
    d = P.shape[1]
    K = cT.shape[1]
    npad = MtT.shape[0]
    NB = EDGE_BLOCK
    GV = WSUM_VECTORS
    nrow_max = -(-2 * NB // GV) * GV
    Wb = np.zeros((nrow_max, K))
    Cb = np.empty((nrow_max, npad))
    # level 3 and the bisection fallback (on demand, per segment)
    Wx = np.zeros((GV, K))
    Cx = np.empty((GV, npad))
    xb = np.empty(K)
    ib_ = np.empty(K, dtype=np.int64)
    z = np.empty(d)
    om = np.zeros(d)
    # _finish4: points, directions, work arrays, results (per row of Cb)
    Z4 = np.zeros((4, d))
    V4 = np.zeros((4, d))
    wk = (np.empty((npad, 4)), np.empty((d, 4)), np.empty((npad, 4)), np.empty((d, 4)),
          np.empty((d, 4)), np.empty(4))
    fo = np.empty(4)
    go = np.empty(4)
    ono = np.empty(4)
    fb = np.empty(nrow_max)
    gb = np.empty(nrow_max)
    onb = np.empty(nrow_max)
    # per-segment state of a block
    s_ia = np.empty(NB, dtype=np.int64)
    s_ib = np.empty(NB, dtype=np.int64)
    s_e = np.empty(NB, dtype=np.int64)
    s_sgn = np.empty(NB)
    s_v = np.empty((NB, d))
    s_F = np.empty((NB, 9))
    s_G = np.empty((NB, 9))
    s_df = np.empty((NB, 2))
    s_dg = np.empty((NB, 2))
    s_herma = np.empty(NB, dtype=np.bool_)
    s_tab = np.empty(NB, dtype=np.bool_)
    s_eta = np.empty(NB)
    s_bk = np.empty((NB if wkind != 0 else 0, K))
    bk0 = np.empty(0)
    s_wst = np.empty(NB)
    s_R = np.empty(NB)
    s_A = np.empty(NB)
    s_lev = np.empty(NB, dtype=np.int64)
    s_done = np.empty(NB, dtype=np.bool_)
    s_bad = np.empty(NB, dtype=np.bool_)
    # rows of a block: their segment (slot) and t
    r_s = np.zeros(nrow_max, dtype=np.int64)
    r_t = np.zeros(nrow_max)
    rows = (r_s, r_t)
    blk = (fb, gb, onb)
    sc = (z, xb, ib_, om, Z4, V4, wk, fo, go, ono)
    stack = (np.empty(4 * max_depth + 8), np.empty(4 * max_depth + 8),
             np.empty(4 * max_depth + 8), np.empty(4 * max_depth + 8),
             np.empty(4 * max_depth + 8, dtype=np.int64))
    for e0 in range(e_start, e_stop, NB):
        nblk = min(NB, e_stop - e0)
        # (a) endpoint data, level-1/2 weights
        nact = 0
        for s in range(nblk):
            e = e0 + s
            ia, ib, sgn = _canonical(P, ea[e], eb[e])
            v = s_v[nact]
            h2 = 0.0
            for i in range(d):
                v[i] = P[ib, i] - P[ia, i]
                h2 += v[i] * v[i]
            wst = 0.0
            if okind != OMEGA_NONE:
                wst = max(onn[ia], onn[ib])
            if h2 == 0.0:
                R[e] = 0.0
                A[e] = 0.0
                worst[e] = wst
                level[e] = 0
                continue
            # endpoint values and derivatives (Hermite data), from ``adaptive_ends``
            f0 = EF[e, 0]
            f1 = EF[e, 1]
            df0 = ED[e, 0]
            df1 = ED[e, 1]
            if not (f0 == f0 and f1 == f1):
                R[e] = np.nan
                A[e] = 0.0
                worst[e] = wst
                level[e] = 0
                continue
            s_F[nact, 0] = f0
            s_F[nact, 8] = f1
            s_G[nact, 0] = EG[e, 0]
            s_G[nact, 8] = EG[e, 1]
            # Hermite rules for A unless omega was rescaled at an end
            herm_a = hermite and not (ER[e, 0] or ER[e, 1])
            dg0 = EDG[e, 0] if herm_a else 0.0
            dg1 = EDG[e, 1] if herm_a else 0.0
            # roots products need bounded t(1-t) factors
            tab = use_table and K > 0
            eta = 0.0
            bk = s_bk[nact] if wkind != 0 else bk0
            if tab:
                if wkind == 0:
                    eta = h2 * inv_scale
                    tab = eta <= _PSI_MAX
                else:
                    for k in range(K):
                        psi = _qform_dir(k, v, wkind, wdT, wfull) * inv_scale
                        if psi > _PSI_MAX:
                            tab = False
                            break
                        bk[k] = math.exp(psi / 64.0)
            s_ia[nact] = ia
            s_ib[nact] = ib
            s_e[nact] = e
            s_sgn[nact] = sgn
            s_df[nact, 0] = df0
            s_df[nact, 1] = df1
            s_dg[nact, 0] = dg0
            s_dg[nact, 1] = dg1
            s_herma[nact] = herm_a
            s_tab[nact] = tab
            s_eta[nact] = eta
            s_wst[nact] = wst
            _point_weights(4, tab, table, ia, ib, eta, bk, P, v, cd, Wb, nact, sc)
            r_s[nact] = nact
            r_t[nact] = 0.5
            nact += 1
        if nact == 0:
            continue
        # (b) level 1 (t = 1/2) of the block
        _block_points(Wb, nact, Cb, rows, s_v, P, s_ia, cd, form, sc, blk)
        n2 = 0
        for s in range(nact):
            df0 = s_df[s, 0]
            df1 = s_df[s, 1]
            dg0 = s_dg[s, 0]
            dg1 = s_dg[s, 1]
            herm_a = s_herma[s]
            Rprev, Aprev = _rule_value(0, s_F, s_G, s, hermite, herm_a, rules_h, rules_v, df0,
                                       df1, dg0, dg1)
            s_done[s] = False
            s_lev[s] = 0
            f = fb[s]
            s_F[s, 4] = f
            s_G[s, 4] = gb[s]
            s_wst[s] = max(s_wst[s], onb[s])
            if not f == f:
                s_bad[s] = True
                continue
            s_bad[s] = False
            Rl, Al = _rule_value(1, s_F, s_G, s, hermite, herm_a, rules_h, rules_v, df0, df1, dg0,
                                  dg1)
            s_lev[s] = 1
            err = max(abs(Rl - Rprev), abs(Al - Aprev))
            # level 1 only with Hermite rules: trapezoid against Simpson is too easily fooled
            if err <= rtol * Rl and hermite and (herm_a or okind == OMEGA_NONE):
                s_done[s] = True
            else:
                # level 2 needed: the weights of t = 1/4 and 3/4 into the next two rows
                for p in range(2):
                    j = level_new[1, p]
                    _point_weights(j, s_tab[s], table, s_ia[s], s_ib[s], s_eta[s],
                                   s_bk[s] if wkind != 0 else bk0, P, s_v[s], cd, Wb,
                                   2 * n2 + p, sc)
                    r_s[2 * n2 + p] = s
                    r_t[2 * n2 + p] = j / 8.0
                n2 += 1
            s_R[s] = Rl
            s_A[s] = Al
        # (c) level 2 (t = 1/4, 3/4) of the segments level 1 does not accept
        if n2 > 0:
            _block_points(Wb, 2 * n2, Cb, rows, s_v, P, s_ia, cd, form, sc, blk)
        # (d) per segment: level-2 acceptance, then level 3 and the bisection fallback
        r2 = 0
        for s in range(nact):
            e = s_e[s]
            wst = s_wst[s]
            if s_bad[s]:
                R[e] = np.nan
                A[e] = 0.0
                worst[e] = wst
                level[e] = s_lev[s]
                continue
            Rl = s_R[s]
            Al = s_A[s]
            lev = s_lev[s]
            done = s_done[s]
            bad = False
            ia = s_ia[s]
            ib = s_ib[s]
            pa = P[ia]
            v = s_v[s]
            if not done:
                df0 = s_df[s, 0]
                df1 = s_df[s, 1]
                dg0 = s_dg[s, 0]
                dg1 = s_dg[s, 1]
                herm_a = s_herma[s]
                tab = s_tab[s]
                eta = s_eta[s]
                bk = s_bk[s] if wkind != 0 else bk0
                Rprev = Rl
                Aprev = Al
                for lv in range(2, 4):
                    nnew = 2 if lv == 2 else 4
                    if lv == 3:
                        # level 3 on demand: its four points in one block
                        for p in range(4):
                            _point_weights(level_new[2, p], tab, table, ia, ib, eta, bk, P, v,
                                           cd, Wx, p, sc)
                            t = level_new[2, p] / 8.0
                            for i in range(d):
                                Z4[p, i] = pa[i] + t * v[i]
                                V4[p, i] = v[i]
                        _wsum(Wx, GV, MtT, Cx)
                        _finish4(Cx, 0, cd, form, sc)
                    for p in range(nnew):
                        j = level_new[lv - 1, p]
                        if lv == 3:
                            f = fo[p]
                            g = go[p]
                            on = ono[p]
                        else:
                            f = fb[2 * r2 + p]
                            g = gb[2 * r2 + p]
                            on = onb[2 * r2 + p]
                        if not f == f:
                            bad = True
                        s_F[s, j] = f
                        s_G[s, j] = g
                        if on > wst:
                            wst = on
                    if lv == 2:
                        r2 += 1
                    if bad:
                        break
                    Rl, Al = _rule_value(lv, s_F, s_G, s, hermite, herm_a, rules_h, rules_v, df0,
                                         df1, dg0, dg1)
                    lev = lv
                    if lv == 2:
                        # a Hermite level-2 value is compared with the better degree-5 rule on
                        # its points, Boole's (values only), rather than with the 1-point
                        # Hermite rule
                        if hermite:
                            Rprev = (rules_v[2, 0] * s_F[s, 0] + rules_v[2, 2] * s_F[s, 2]
                                     + rules_v[2, 4] * s_F[s, 4] + rules_v[2, 6] * s_F[s, 6]
                                     + rules_v[2, 8] * s_F[s, 8])
                        if herm_a:
                            Aprev = (rules_v[2, 0] * s_G[s, 0] + rules_v[2, 2] * s_G[s, 2]
                                     + rules_v[2, 4] * s_G[s, 4] + rules_v[2, 6] * s_G[s, 6]
                                     + rules_v[2, 8] * s_G[s, 8])
                    err = max(abs(Rl - Rprev), abs(Al - Aprev))
                    if err <= rtol * Rl:
                        done = True
                        break
                    Rprev = Rl
                    Aprev = Al
                if bad:
                    R[e] = np.nan
                    A[e] = 0.0
                    worst[e] = wst
                    level[e] = lev
                    continue
            if not done:
                Rl, Al, wst = _bisect(pa, v, Rl, Al, wst, tq, wq, max_depth, rtol, Wx, Cx, cd,
                                      form, sc, stack)
                lev = 4
            R[e] = Rl
            A[e] = s_sgn[s] * Al
            worst[e] = wst
            level[e] = lev


@njit(cache=True, parallel=True)
def adaptive_edges(P, seg, cd, table, use_table, onn, ends, okind, oparams, max_norm, rules,
                   nchunks, out):
    """Adaptive integrals of R and A over the segments P[ea[e]] -> P[eb[e]].

    seg = (ea, eb); cd: the packed cometric (kernels/adaptive.py); table, onn: the roots
    table and |omega| of ``adaptive_nodes``; ends: the endpoint data of ``adaptive_ends``;
    okind, oparams, max_norm: the 1-form; rules = (hermite, rtol, RULES_HERMITE, RULES_VALUES,
    level_new, tq, wq, max_depth), tq, wq the Gauss-Legendre panel rule of the fallback;
    out = (R, A, worst, level). level[e] receives the accepted level
    (1..3) or 4 for the bisection fallback. Each segment is integrated in a
    canonical orientation (lexicographic order of its endpoints), so a -> b and
    b -> a give bitwise the same R and opposite A. The segments are split into
    ``nchunks`` contiguous ranges run in parallel.
    """
    n = seg[0].shape[0]
    for c in prange(nchunks):
        _edges_range(c * n // nchunks, (c + 1) * n // nchunks, P, seg, cd, table, use_table, onn,
                     ends, okind, oparams, max_norm, rules, out)

