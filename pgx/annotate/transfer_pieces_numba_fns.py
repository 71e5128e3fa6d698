"""Numba kernels that write the transferred values (:mod:`pgx.annotate.transfer_pieces`):
arrays in, arrays out, no I/O, no strings.

:func:`info_pieces` turns the join of one source (:mod:`pgx.annotate.transfer_numba_fns`)
into per-record, per-field text pieces (``NAME=v1,v2``) and typed values; :func:`splice_records`
writes the pieces of every source into the records' ID and INFO columns. Source cells are the
layout of :mod:`pgx.annotate.transfer_build_numba_fns`.
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit

KIND_ID = 0  # the source's ID -> the query's ID column
KIND_SITE = 1  # value text copied whole from the site record (Number 1 . G N; position match)
KIND_FLAG = 2  # Flag: set when the site record has it, removed when it does not
KIND_A = 3  # one value per ALT, each from the record its own allele matched
KIND_R = 4  # REF value from the site record, then one per ALT as KIND_A

STATE_KEEP = 0  # no source value: the query's own tag (or ID) is left as it is
STATE_SET = 1  # the piece replaces the query's tag (or ID)
STATE_REMOVE = 2  # a Flag the site record lacks: removed from the query
STATE_CONFLICT = 3  # the alleles' records disagree on a site-level value: left as STATE_KEEP

_COMMA = 44
_SEMI = 59
_EQ = 61
_DOT = 46
_TAB = 9
_NL = 10


@numba_jit(inline="always")
def _put(out, o, buf, s, e):
    for q in range(e - s):  # a loop: numba's slice assignment costs more for short copies
        out[o + q] = buf[s + q]
    return o + e - s


@numba_jit(inline="always")
def _put1(out, o, c):
    out[o] = c
    return o + 1


@numba_jit(inline="always")
def _cell_eq(present, text, toff, i1, i2):
    """Do source cells ``i1`` and ``i2`` say the same (presence and text)?"""
    if present[i1] != present[i2]:
        return False
    n = toff[i1 + 1] - toff[i1]
    if n != toff[i2 + 1] - toff[i2]:
        return False
    a = toff[i1]
    b = toff[i2]
    for q in range(n):
        if text[a + q] != text[b + q]:
            return False
    return True


@numba_jit(inline="always")
def _is_dot(text, toff, i):
    return toff[i + 1] - toff[i] == 1 and text[toff[i]] == _DOT


@numba_jit(inline="always")
def _value(text, toff, vb, vboff, num, idx, j, out, o, tv, t):
    """Write value ``j`` of source cell ``idx`` (``.`` when ``idx < 0``, out of range or
    empty) and its typed value at ``tv[t]``; returns ``(o, t + 1)``."""
    s = 0
    e = 0
    v = np.nan
    if idx >= 0:
        b0 = vboff[idx]
        cnt = vboff[idx + 1] - b0
        if j < cnt:
            s = vb[b0 + j]
            e = vb[b0 + j + 1] - 1 if j + 1 < cnt else toff[idx + 1]
            v = num[b0 + j]
    if e <= s:
        o = _put1(out, o, _DOT)
    else:
        o = _put(out, o, text, s, e)
    if tv.shape[0] > 0:
        tv[t] = v
    return o, t + 1


@numba_jit(aot="(int64[::1], int64[::1], int64[::1], Array(int64, 1, 'C', readonly=True), "
                "Array(int32, 1, 'C', readonly=True), Array(uint8, 1, 'C', readonly=True), "
                "Array(int64, 1, 'C', readonly=True), Array(uint8, 1, 'C', readonly=True), "
                "Array(int64, 1, 'C', readonly=True), Array(int64, 1, 'C', readonly=True), "
                "Array(float64, 1, 'C', readonly=True), int64, int64[::1], int8[::1], "
                "Array(uint8, 1, 'C', readonly=True), int64[::1], int64, int64)")
def info_pieces(aoff, match, site_in, ent_rec, ent_alt, present, toff, text, vb, vboff, num,
                n_cols, fcol, fkind, names, name_off, out_cap, tv_cap):
    """The text each output field gets at each query record, from one source.

    ``aoff``/``match``: the query's entries per record and their source entry (-1: none).
    ``site_in``: per record the one source record to use (position match), or an empty array:
    then the records the alleles matched are used (exact match). Source cells ``rec * n_cols +
    col``: ``present`` (uint8), value text ``text[toff[i]:toff[i + 1]]``, value starts
    ``vb[vboff[i]:vboff[i + 1]]``, typed values ``num`` aligned with ``vb``. Output field
    ``f`` reads source column ``fcol[f]`` as ``fkind[f]`` (KIND_*), named
    ``names[name_off[f]:name_off[f + 1]]``. ``out_cap``/``tv_cap``: sizes that the text and
    typed values written cannot exceed (:func:`pgx.annotate.transfer.piece_capacity`);
    ``tv_cap == 0``: no typed values are written (``tvoff`` still counts them).

    Per record: KIND_A gives each ALT the value of its own matched record; KIND_R the same
    after the REF value; site-level kinds (KIND_SITE, KIND_FLAG) take the cell of the matched
    records when they all agree on it (text and presence), and STATE_CONFLICT when they do
    not; KIND_ID writes the distinct IDs of the matched records (not ``.``) in ALT order,
    joined by ``;``.

    Returns ``(out, pstart, pend, state, site, tv, tvoff)``: field ``f`` of record ``r`` is
    ``out[pstart[r, f]:pend[r, f]]`` (``NAME=v1,v2``, ``NAME`` for a Flag, the bare ID text
    for KIND_ID) where ``state[r, f] == STATE_SET``; ``site`` [V]: the matched source record
    that comes first in the file (-1: none); typed values, in text order (NaN for ``.`` and
    non-numbers): ``tv[tvoff[r * F + f]:tvoff[r * F + f + 1]]``.
    """
    V = aoff.shape[0] - 1
    F = fcol.shape[0]
    pos_mode = site_in.shape[0] > 0
    site = np.full(V, -1, np.int64)
    for r in range(V):
        if pos_mode:
            site[r] = site_in[r]
        else:
            for j in range(aoff[r], aoff[r + 1]):
                m = match[j]
                if m >= 0 and (site[r] < 0 or ent_rec[m] < site[r]):
                    site[r] = ent_rec[m]
    state = np.zeros((V, F), np.int8)
    pstart = np.zeros((V, F), np.int64)
    pend = np.zeros((V, F), np.int64)
    tvoff = np.zeros(V * F + 1, np.int64)
    out = np.empty(out_cap, np.uint8)
    tv = np.empty(tv_cap, np.float64)
    o = 0
    t = 0
    for r in range(V):
        st = site[r]
        j0 = aoff[r]
        j1 = aoff[r + 1]
        for f in range(F):
            tvoff[r * F + f] = t
            if st < 0:
                continue
            c = fcol[f]
            kind = fkind[f]
            sidx = st * n_cols + c
            s_has = present[sidx] != 0
            p0 = o
            result = STATE_SET
            if kind == KIND_ID:
                n_ids = 0
                for j in range(j0, j1 + 1):
                    if pos_mode:
                        if j > j0:
                            break
                        idx = sidx
                    else:
                        if j == j1:
                            break
                        m = match[j]
                        if m < 0:
                            continue
                        idx = ent_rec[m] * n_cols + c
                    if present[idx] == 0 or _is_dot(text, toff, idx):
                        continue
                    seen = False
                    for j2 in range(j0, j):  # an earlier allele's record, same ID?
                        m2 = match[j2]
                        if m2 >= 0 and _cell_eq(present, text, toff,
                                                ent_rec[m2] * n_cols + c, idx):
                            seen = True
                            break
                    if seen:
                        continue
                    if n_ids:
                        o = _put1(out, o, _SEMI)
                    o = _put(out, o, text, toff[idx], toff[idx + 1])
                    n_ids += 1
                if n_ids == 0:
                    continue
            elif kind == KIND_SITE or kind == KIND_FLAG:
                agree = True
                if not pos_mode:
                    for j in range(j0, j1):
                        m = match[j]
                        if m >= 0 and ent_rec[m] != st and not _cell_eq(
                                present, text, toff, ent_rec[m] * n_cols + c, sidx):
                            agree = False
                            break
                if not agree:
                    state[r, f] = STATE_CONFLICT
                    continue
                if not s_has:
                    if kind == KIND_FLAG:
                        state[r, f] = STATE_REMOVE
                    continue
                o = _put(out, o, names, name_off[f], name_off[f + 1])
                if kind == KIND_SITE:
                    o = _put1(out, o, _EQ)
                    b0 = vboff[sidx]
                    cnt = vboff[sidx + 1] - b0
                    if toff[sidx + 1] <= toff[sidx]:
                        o = _put1(out, o, _DOT)
                    else:
                        o = _put(out, o, text, toff[sidx], toff[sidx + 1])
                    if tv_cap > 0:
                        for k in range(cnt):
                            tv[t + k] = num[b0 + k]
                    t += cnt
            else:  # KIND_A, KIND_R
                any_val = False
                ref_idx = -1  # the REF value's cell: one the records agree on
                ref_ok = True
                for j in range(j0, j1):
                    m = match[j]
                    if m >= 0:
                        idx = ent_rec[m] * n_cols + c
                        if present[idx] != 0:
                            any_val = True
                            if kind == KIND_R:
                                if ref_idx < 0:
                                    ref_idx = idx
                                elif not _same_value(text, toff, vb, vboff, ref_idx, idx,
                                                     0):
                                    ref_ok = False
                if not ref_ok:
                    ref_idx = -1
                if not any_val:
                    continue
                o = _put(out, o, names, name_off[f], name_off[f + 1])
                o = _put1(out, o, _EQ)
                if kind == KIND_R:
                    o, t = _value(text, toff, vb, vboff, num, ref_idx, 0, out, o,
                                  tv, t)
                for j in range(j0, j1):
                    if j > j0 or kind == KIND_R:
                        o = _put1(out, o, _COMMA)
                    m = match[j]
                    idx = -1
                    k = 0
                    if m >= 0:
                        idx = ent_rec[m] * n_cols + c
                        k = ent_alt[m] + (1 if kind == KIND_R else 0)
                        if present[idx] == 0:
                            idx = -1
                    o, t = _value(text, toff, vb, vboff, num, idx, k, out, o, tv, t)
            state[r, f] = result
            pstart[r, f] = p0
            pend[r, f] = o
    tvoff[V * F] = t
    return out[:o], pstart, pend, state, site, tv[:t], tvoff


@numba_jit(inline="always")
def _value_span(text, toff, vb, vboff, idx, j):
    b0 = vboff[idx]
    cnt = vboff[idx + 1] - b0
    if j >= cnt:
        return 0, 0
    s = vb[b0 + j]
    e = vb[b0 + j + 1] - 1 if j + 1 < cnt else toff[idx + 1]
    return s, e


@numba_jit(inline="always")
def _same_value(text, toff, vb, vboff, i1, i2, j):
    s1, e1 = _value_span(text, toff, vb, vboff, i1, j)
    s2, e2 = _value_span(text, toff, vb, vboff, i2, j)
    if e1 - s1 != e2 - s2:
        return False
    for q in range(e1 - s1):
        if text[s1 + q] != text[s2 + q]:
            return False
    return True


@numba_jit(inline="always")
def _name_eq(buf, s, e, names, ns, ne):
    if e - s != ne - ns:
        return False
    for q in range(e - s):
        if buf[s + q] != names[ns + q]:
            return False
    return True


@numba_jit(inline="always")
def _info_hit(buf, p, k, names, name_off, fkind, state, r):
    """The field whose tag ``buf[p:k]`` is (being set or removed at record ``r``), or -1."""
    for f in range(fkind.shape[0]):
        st = state[r, f]
        if fkind[f] != KIND_ID and (st == STATE_SET or st == STATE_REMOVE) and \
                _name_eq(buf, p, k, names, name_off[f], name_off[f + 1]):
            return f
    return -1


@numba_jit(inline="always")
def _mem(out, o, buf, s, e):
    out[o:o + e - s] = buf[s:e]
    return o + e - s


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[::1], int64[:, ::1], "
                "Array(uint8, 1, 'C', readonly=True), int64[:, ::1], int64[:, ::1], "
                "int8[:, ::1], int8[::1], Array(uint8, 1, 'C', readonly=True), int64[::1])")
def splice_records(buf, line_start, line_end, col_start, pieces, pstart, pend, state, fkind,
                   names, name_off):
    """Each record line (+ ``\\n``) with the fields of ``state == STATE_SET`` written in:
    KIND_ID pieces replace the ID column (the last such field set wins); INFO pieces replace
    the record's tag of the same name where it stands (a second copy of the tag is dropped)
    or are appended in field order; STATE_REMOVE drops the tag; STATE_KEEP and
    STATE_CONFLICT leave it. An INFO of ``.`` is replaced; an INFO left empty becomes ``.``.
    The INFO text ends at ``col_start[r, 8] - 1`` (or the line's end without FORMAT); records
    without changes are copied byte for byte. ``pieces``/``pstart``/``pend``/``state``: as
    from :func:`info_pieces` (several sources' fields side by side, offsets into one
    ``pieces`` array)."""
    V = line_start.shape[0]
    F = fkind.shape[0]
    total = 0
    for r in range(V):
        total += line_end[r] - line_start[r] + 1
        for f in range(F):
            if state[r, f] == STATE_SET:
                total += pend[r, f] - pstart[r, f] + 1
    out = np.empty(total, np.uint8)
    done = np.zeros(F, np.bool_)
    o = 0
    for r in range(V):
        ls = line_start[r]
        le = line_end[r]
        touched = False
        id_f = -1
        for f in range(F):
            st = state[r, f]
            if st == STATE_SET or st == STATE_REMOVE:
                if fkind[f] == KIND_ID:
                    id_f = f
                else:
                    touched = True
        if not touched and id_f < 0:
            o = _mem(out, o, buf, ls, le)
            out[o] = _NL
            o += 1
            continue
        c7 = col_start[r, 7]
        if id_f >= 0:  # CHROM POS, the new ID, REF..FILTER
            o = _mem(out, o, buf, ls, col_start[r, 2])
            o = _put(out, o, pieces, pstart[r, id_f], pend[r, id_f])
            out[o] = _TAB
            o += 1
            o = _mem(out, o, buf, col_start[r, 3], c7)
        else:
            o = _mem(out, o, buf, ls, c7)
        ie = col_start[r, 8] - 1 if col_start[r, 8] >= 0 else le
        if not touched:
            o = _mem(out, o, buf, c7, le)
            out[o] = _NL
            o += 1
            continue
        empty = ie - c7 == 1 and buf[c7] == _DOT
        hits = False  # does the record have one of the tags being set or removed?
        if not empty:
            p = c7
            while p < ie and not hits:
                q = p
                while q < ie and buf[q] != _SEMI and buf[q] != _EQ:
                    q += 1
                hits = _info_hit(buf, p, q, names, name_off, fkind, state, r) >= 0
                while q < ie and buf[q] != _SEMI:
                    q += 1
                p = q + 1
        first = True
        if not hits:
            if not empty:
                o = _mem(out, o, buf, c7, ie)
                first = False
            for f in range(F):
                if fkind[f] != KIND_ID and state[r, f] == STATE_SET:
                    if not first:
                        out[o] = _SEMI
                        o += 1
                    o = _put(out, o, pieces, pstart[r, f], pend[r, f])
                    first = False
        else:
            for f in range(F):
                done[f] = False
            p = c7
            while p < ie:
                q = p
                while q < ie and buf[q] != _SEMI:
                    q += 1
                k = p
                while k < q and buf[k] != _EQ:
                    k += 1
                hit = _info_hit(buf, p, k, names, name_off, fkind, state, r)
                if hit < 0:
                    if q > p:
                        if not first:
                            out[o] = _SEMI
                            o += 1
                        o = _mem(out, o, buf, p, q)
                        first = False
                elif state[r, hit] == STATE_SET and not done[hit]:
                    if not first:
                        out[o] = _SEMI
                        o += 1
                    o = _put(out, o, pieces, pstart[r, hit], pend[r, hit])
                    first = False
                    done[hit] = True
                p = q + 1
            for f in range(F):
                if fkind[f] != KIND_ID and state[r, f] == STATE_SET and not done[f]:
                    if not first:
                        out[o] = _SEMI
                        o += 1
                    o = _put(out, o, pieces, pstart[r, f], pend[r, f])
                    first = False
        if first:
            out[o] = _DOT
            o += 1
        o = _mem(out, o, buf, ie, le)
        out[o] = _NL
        o += 1
    return out[:o]
