"""Numba kernels of the filter-expression engine (see ``program.py``).

Numeric operands are ``vals`` float64 [V', S', W] + ``n`` int32 [V', S'] (values used per
record/sample; 0 = absent); ``V' = 1`` or ``S' = 1`` broadcast (constants, site values in a
per-sample context). A NaN element is a missing value; an operand whose used elements are all
missing (or ``n == 0``) is *entirely missing*. All values are float32-representable (bcftools
reads Float tags and QUAL as float): every arithmetic result is rounded to float32.
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit

OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE = 0, 1, 2, 3, 4, 5
OP_ADD, OP_SUB, OP_MUL, OP_DIV = 0, 1, 2, 3


@numba_jit(inline="always")
def _compare(op, x, y):
    """``x OP y`` for two present (non-NaN) values; OP is one of OP_EQ ... OP_GE."""
    if op == OP_EQ:
        return x == y
    if op == OP_NE:
        return x != y
    if op == OP_LT:
        return x < y
    if op == OP_LE:
        return x <= y
    if op == OP_GT:
        return x > y
    return x >= y

GT_HET, GT_HOM, GT_REF, GT_ALT, GT_MIS, GT_HAP = 1, 2, 4, 8, 16, 32


@numba_jit
def _all_missing(vals, n, v, s):
    k = n[v, s]
    for i in range(k):
        if not np.isnan(vals[v, s, i]):
            return False
    return True


@numba_jit(aot="(float64[:, :, ::1], int32[:, ::1], float64[:, :, ::1], int32[:, ::1], int32, "
                "int64, int64)")
def cmp_num(av, an, bv, bn, op, V, S):
    """bcftools comparison: any pair of used values passes (an absent value is one missing
    element); a pair of two missing elements passes only ==, a pair with one missing element
    passes only !=."""
    out = np.zeros((V, S), np.bool_)
    a_v1 = an.shape[0] == 1
    a_s1 = an.shape[1] == 1
    b_v1 = bn.shape[0] == 1
    b_s1 = bn.shape[1] == 1
    for v in range(V):
        va = 0 if a_v1 else v
        vb = 0 if b_v1 else v
        for s in range(S):
            sa = 0 if a_s1 else s
            sb = 0 if b_s1 else s
            res = False
            for i in range(max(an[va, sa], 1)):
                x = av[va, sa, i] if an[va, sa] > 0 else np.nan
                for j in range(max(bn[vb, sb], 1)):
                    y = bv[vb, sb, j] if bn[vb, sb] > 0 else np.nan
                    if np.isnan(x) and np.isnan(y):
                        res = op == OP_EQ
                    elif np.isnan(x) or np.isnan(y):
                        res = op == OP_NE
                    else:
                        res = _compare(op, x, y)
                    if res:
                        break
                if res:
                    break
            out[v, s] = res
    return out


@numba_jit(inline="always")
def _arith1(op, x, y):
    """``x OP y`` for two present values, rounded to float32; x/0 is +-inf (0/0 NaN)."""
    if op == OP_ADD:
        r = x + y
    elif op == OP_SUB:
        r = x - y
    elif op == OP_MUL:
        r = x * y
    elif y == 0.0:
        if x > 0:
            r = np.inf
        elif x < 0:
            r = -np.inf
        else:
            r = np.nan  # 0/0: bcftools gets a NaN that is not "missing"
    else:
        r = x / y
    return np.float64(np.float32(r))


@numba_jit(aot="(float64[:, :, ::1], int32[:, ::1], float64[:, :, ::1], int32[:, ::1], int32, "
                "int64, int64, boolean)")
def arith(av, an, bv, bn, op, V, S, site_quirk=False):
    """Element-wise arithmetic (one operand has one value per record/sample); an entirely
    missing operand makes the result entirely missing (n = 0).

    ``site_quirk`` (both operands site-level, bcftools 1.16): a scalar is NOT broadcast over a
    vector of n > 1 values. Vector OP scalar: element i > 0 is ``a[i] OP 0``. Scalar OP
    vector: ``[a OP b[0], 0, 0, ...]``, entirely missing when ``a OP b[0]`` is missing."""
    W = max(av.shape[2], bv.shape[2])
    rv = np.full((V, S, W), np.nan)
    rn = np.zeros((V, S), np.int32)
    a_v1 = an.shape[0] == 1
    a_s1 = an.shape[1] == 1
    b_v1 = bn.shape[0] == 1
    b_s1 = bn.shape[1] == 1
    for v in range(V):
        va = 0 if a_v1 else v
        vb = 0 if b_v1 else v
        for s in range(S):
            sa = 0 if a_s1 else s
            sb = 0 if b_s1 else s
            na = an[va, sa]
            nb = bn[vb, sb]
            if na == 0 or nb == 0:
                continue
            k = max(na, nb)
            ok = False
            if site_quirk and na == 1 and nb > 1:
                x = av[va, sa, 0]
                y = bv[vb, sb, 0]
                if not (np.isnan(x) or np.isnan(y)):
                    rv[v, s, 0] = _arith1(op, x, y)
                    for i in range(1, k):
                        rv[v, s, i] = 0.0
                    rn[v, s] = k
                continue
            for i in range(k):
                x = av[va, sa, 0 if na == 1 else i]
                if site_quirk and nb == 1 and i > 0:
                    y = 0.0
                else:
                    y = bv[vb, sb, 0 if nb == 1 else i]
                if np.isnan(x) or np.isnan(y):
                    continue
                rv[v, s, i] = _arith1(op, x, y)
                ok = True
            if ok:
                rn[v, s] = k
    return rv, rn


@numba_jit(aot="(int8[:, :, ::1], boolean[::1])")
def gt_classes(gt, has_gt):
    """bcftools' genotype classes per sample as GT_* bits: mis = any allele missing; hap =
    haploid and not missing; hom/het only for ploidy >= 2; ref = all alleles 0; alt = no
    missing allele and at least one non-reference allele."""
    V, S, P = gt.shape
    out = np.zeros((V, S), np.uint8)
    for v in range(V):
        if not has_gt[v]:
            continue
        for s in range(S):
            ploidy = 0
            mis = False
            nonref = False
            allsame = True
            first = -3
            for p in range(P):
                a = gt[v, s, p]
                if a == -2:
                    break
                ploidy += 1
                if a == -1:
                    mis = True
                    continue
                if a != 0:
                    nonref = True
                if first == -3:
                    first = a
                elif a != first:
                    allsame = False
            if ploidy == 0:
                continue
            if mis:
                out[v, s] = GT_MIS
                continue
            c = GT_ALT if nonref else GT_REF
            if ploidy == 1:
                c |= GT_HAP
            elif allsame:
                c |= GT_HOM
            else:
                c |= GT_HET
            out[v, s] = c
    return out


@numba_jit(aot="(boolean[:, ::1], boolean[::1], int32)")
def filter_match(filters, mask, op):
    """op 0: FILTER set equals ``mask``; 1: contains all of ``mask``."""
    V, F = filters.shape
    out = np.zeros(V, np.bool_)
    for v in range(V):
        ok = True
        for f in range(F):
            if mask[f]:
                if not filters[v, f]:
                    ok = False
                    break
            elif op == 0 and filters[v, f]:
                ok = False
                break
        out[v] = ok
    return out


@numba_jit(aot="(boolean[:, ::1],)")
def any_samples(m):
    V, S = m.shape
    out = np.zeros(V, np.bool_)
    for v in range(V):
        for s in range(S):
            if m[v, s]:
                out[v] = True
                break
    return out


@numba_jit(aot="(float64[:, :, ::1],)")
def any_value(vals):
    """Per record: any non-NaN value in ``vals`` [V, S, W]."""
    V, S, W = vals.shape
    out = np.zeros(V, np.bool_)
    for v in range(V):
        done = False
        for s in range(S):
            for w in range(W):
                if not np.isnan(vals[v, s, w]):
                    out[v] = True
                    done = True
                    break
            if done:
                break
    return out


@numba_jit(aot="(float64[:, :, ::1], int32[:, ::1], float64, int32)")
def cmp_fmt_const(vals, n, c, op):
    """Fused ``FORMAT/TAG <op> constant`` for a single-value tag (``vals`` [V, S, 1]): the
    per-sample result (a missing value passes only !=) and its any-over-samples in one pass."""
    V, S = n.shape
    out = np.empty((V, S), np.bool_)
    site = np.zeros(V, np.bool_)
    for v in range(V):
        anyv = False
        for s in range(S):
            x = vals[v, s, 0]
            if n[v, s] == 0 or np.isnan(x):
                r = op == OP_NE
            else:
                r = _compare(op, x, c)
            out[v, s] = r
            anyv |= r
        site[v] = anyv
    return out, site
