"""Numba kernels that encode an annotation source into its cache (:mod:`pgx.annotate.
transfer_build`): arrays in, arrays out, no I/O, no strings.

A source is a table of *cells*, one per (record, column): cell ``i = r * C + c``. Each cell
has a ``present`` flag, its value text ``text[toff[i]:toff[i + 1]]`` (copied out of the
source's lines) and the start offsets of its comma-separated values ``vb[vboff[i]:vboff[i +
1]]`` (into ``text``; value ``j`` ends one byte before value ``j + 1`` starts, the last at
``toff[i + 1]``), with typed values ``num`` (float64, NaN = missing) aligned with ``vb``.
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit
from pgx.io.vcf_numba_fns import _parse_int, parse_number

MODE_VCF = 0  # present when the tag is in the record (a Flag, or any value incl. '.')
MODE_TSV = 1  # present when the cell is not empty and not '.'
MODE_ID = 2  # always present (the text may be '.')

_TAB = 9
_COMMA = 44
_SEMI = 59
_EQ = 61
_DOT = 46


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[:, ::1], "
                "Array(uint8, 1, 'C', readonly=True), int64[::1])")
def vcf_info_spans(buf, line_end, col_start, keys, key_off):
    """``(cs, ce)`` int64 [V, K]: the value span of INFO key ``k`` (``keys[key_off[k]:
    key_off[k + 1]]``) in each record (after ``=``; empty for a Flag), ``-1`` where the record
    lacks the tag; the first copy of a repeated tag counts."""
    V = line_end.shape[0]
    K = key_off.shape[0] - 1
    cs = np.full((V, K), -1, np.int64)
    ce = np.full((V, K), -1, np.int64)
    for r in range(V):
        p = col_start[r, 7]
        ie = col_start[r, 8] - 1 if col_start[r, 8] >= 0 else line_end[r]
        if ie - p == 1 and buf[p] == _DOT:
            continue
        while p < ie:
            q = p
            while q < ie and buf[q] != _SEMI:
                q += 1
            k = p
            while k < q and buf[k] != _EQ:
                k += 1
            for t in range(K):
                ks = key_off[t]
                if k - p == key_off[t + 1] - ks and cs[r, t] < 0:
                    same = True
                    for x in range(k - p):
                        if buf[p + x] != keys[ks + x]:
                            same = False
                            break
                    if same:
                        cs[r, t] = k + 1 if k < q else q
                        ce[r, t] = q
                        break
            p = q + 1
    return cs, ce


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[:, ::1], int64[:, ::1], "
                "int8[::1], boolean[::1], boolean[::1])")
def encode_cells(buf, cs, ce, mode, split, numeric):
    """The cell table of :mod:`this module <pgx.annotate.transfer_build_numba_fns>` from value
    spans ``cs``/``ce`` [V, C] (-1 = absent) of ``buf``: ``mode[c]`` (MODE_*) decides
    presence, ``split[c]`` whether the text is cut at commas (else one value), ``numeric[c]``
    whether values are parsed as numbers. Returns ``(present, text, toff, vb, vboff, num,
    bad)``; ``bad`` is -1, or the cell index of the first value that is not a number."""
    V = cs.shape[0]
    C = cs.shape[1]
    n = V * C
    present = np.zeros(n, np.uint8)
    toff = np.zeros(n + 1, np.int64)
    vboff = np.zeros(n + 1, np.int64)
    for r in range(V):
        for c in range(C):
            i = r * C + c
            s = cs[r, c]
            e = ce[r, c]
            has = s >= 0
            if has and mode[c] == MODE_TSV:
                has = e > s and not (e - s == 1 and buf[s] == _DOT)
            nv = 0
            ln = 0
            if has:
                present[i] = 1
                ln = e - s
                if ln > 0 or mode[c] != MODE_VCF:
                    nv = 1
                if split[c]:
                    for q in range(s, e):
                        if buf[q] == _COMMA:
                            nv += 1
            toff[i + 1] = toff[i] + ln
            vboff[i + 1] = vboff[i] + nv
    text = np.empty(toff[n], np.uint8)
    vb = np.empty(vboff[n], np.int64)
    num = np.full(vboff[n], np.nan)
    bad = -1
    for r in range(V):
        for c in range(C):
            i = r * C + c
            if present[i] == 0:
                continue
            s = cs[r, c]
            e = ce[r, c]
            t0 = toff[i]
            text[t0:t0 + e - s] = buf[s:e]
            j = vboff[i]
            if j == vboff[i + 1]:
                continue
            vb[j] = t0
            vs = s
            for q in range(s, e + 1):
                if q == e or (split[c] and buf[q] == _COMMA):
                    if numeric[c]:
                        ok, v = parse_number(buf, vs, q)
                        if ok:
                            num[j] = v
                        elif bad < 0:
                            bad = i
                    if q < e:
                        j += 1
                        vb[j] = t0 + q + 1 - s
                    vs = q + 1
    return present, text, toff, vb, vboff, num, bad


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[::1], int64)")
def split_tsv(buf, line_start, line_end, n_cols):
    """Column spans ``(cs, ce)`` int64 [V, n_cols] of tab-separated lines, and the index of the
    first line whose column count differs from ``n_cols`` (-1 if none) with its count."""
    V = line_start.shape[0]
    cs = np.full((V, n_cols), -1, np.int64)
    ce = np.full((V, n_cols), -1, np.int64)
    for r in range(V):
        p = line_start[r]
        le = line_end[r]
        c = 0
        while True:
            q = p
            while q < le and buf[q] != _TAB:
                q += 1
            if c < n_cols:
                cs[r, c] = p
                ce[r, c] = q
            c += 1
            if q >= le:
                break
            p = q + 1
        if c != n_cols:
            return cs, ce, r, c
    return cs, ce, -1, 0


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[::1])")
def parse_positions(buf, s, e):
    """Integers ``buf[s[r]:e[r]]`` (int64 [V]) and the first row that is not a positive
    integer (-1 if none)."""
    V = s.shape[0]
    out = np.zeros(V, np.int64)
    for r in range(V):
        ok, v = _parse_int(buf, s[r], e[r])
        if not ok or v < 1:
            return out, r
        out[r] = v
    return out, -1


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[::1])")
def name_changes(buf, s, e):
    """Rows whose text ``buf[s[r]:e[r]]`` differs from the previous row's (row 0 counts):
    a bool [V] mask, so that names are made only where the chromosome changes."""
    V = s.shape[0]
    out = np.zeros(V, np.bool_)
    for r in range(V):
        if r == 0 or e[r] - s[r] != e[r - 1] - s[r - 1]:
            out[r] = True
            continue
        a = s[r]
        b = s[r - 1]
        for q in range(e[r] - a):
            if buf[a + q] != buf[b + q]:
                out[r] = True
                break
    return out
