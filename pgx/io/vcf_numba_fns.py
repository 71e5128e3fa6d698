"""Numba kernels of the columnar VCF reader: arrays in, arrays out (no I/O, no strings).

The driver (:mod:`pgx.io.vcf_reader`) allocates every output array and calls
:func:`tokenize_records` once per text chunk; the kernel never raises: it returns a status
(``OK``, ``NEED_RESIZE`` when a vector or a ploidy did not fit, or a negative ``ERR_*``) and
fills ``err`` with ``[code, record, column, token_start, token_end, tag_or_allele, sample]``.

Semantics are those of ``tests/vcf_reference.py`` (and of :mod:`pgx.io.variant_chunk`).
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit

OK = 0
NEED_RESIZE = 1
ERR_COLUMNS = -1
ERR_POS = -2
ERR_QUAL = -3
ERR_INFO_NUMBER = -4
ERR_FORMAT_NUMBER = -5
ERR_GT = -6
ERR_GT_TOO_BIG = -7
ERR_GT_ALLELE = -8
ERR_UNKNOWN_FILTER = -9

N_ERR = 7  # err array length

TAB = 9
NL = 10
CR = 13
COLON = 58
SEMI = 59
COMMA = 44
DOT = 46
EQ = 61
SLASH = 47
PIPE = 124

_POW10 = np.array([10.0 ** k for k in range(23)])

# variant classes (pgx.io.variant_chunk.VT_*)
_VT_REF, _VT_SNP, _VT_MNP, _VT_INDEL, _VT_OTHER, _VT_BND, _VT_OVERLAP = 0, 1, 2, 4, 8, 16, 32


@numba_jit
def _upper(c):
    if c >= 97 and c <= 122:
        return c - 32
    return c


@numba_jit
def variant_type_one(buf, rs, rend, a_s, aend):
    """htslib's ``bcf_set_variant_type`` class of ALT ``buf[a_s:aend]`` against REF
    ``buf[rs:rend]``."""
    rl = rend - rs
    al = aend - a_s
    if al == 1 and buf[a_s] == 42:  # '*'
        return _VT_OVERLAP
    if rl == 1 and al == 1:
        a = buf[a_s]
        if a == DOT or a == buf[rs] or a == 88:  # 'X'
            return _VT_REF
        return _VT_SNP
    if al >= 1 and buf[a_s] == 60:  # '<'
        if al >= 3 and (buf[a_s + 1] == 88 or buf[a_s + 1] == 42) and buf[a_s + 2] == 62:
            return _VT_REF
        if al == 9:
            ok = True
            tmpl = (78, 79, 78, 95, 82, 69, 70, 62)  # NON_REF>
            for q in range(8):
                if buf[a_s + 1 + q] != tmpl[q]:
                    ok = False
            if ok:
                return _VT_REF
        return _VT_OTHER
    k = 0
    while k < rl and k < al and _upper(buf[rs + k]) == _upper(buf[a_s + k]):
        k += 1
    if k == rl and k < al:
        c = buf[a_s + k]
        if c == 91 or c == 93:  # '[' ']'
            return _VT_BND
        return _VT_INDEL
    if k < rl and k == al:
        return _VT_INDEL
    if k == rl and k == al:
        return _VT_REF
    re_ = rl - 1
    ae = al - 1
    while re_ > k and ae > k and _upper(buf[rs + re_]) == _upper(buf[a_s + ae]):
        re_ -= 1
        ae -= 1
    if ae == k:
        if re_ == k:
            return _VT_SNP
        if _upper(buf[rs + re_]) == _upper(buf[a_s + ae]):
            return _VT_INDEL
        return _VT_OTHER
    if re_ == k:
        if _upper(buf[rs + re_]) == _upper(buf[a_s + ae]):
            return _VT_INDEL
        return _VT_OTHER
    if re_ - k == ae - k:
        return _VT_MNP
    return _VT_OTHER


@numba_jit
def _lower_eq(buf, s, e, word):
    if e - s != len(word):
        return False
    for q in range(e - s):
        c = buf[s + q]
        if c >= 65 and c <= 90:
            c += 32
        if c != word[q]:
            return False
    return True


@numba_jit
def parse_number(buf, s, e):
    """(ok, value) for the token ``buf[s:e]``: '' and '.' are NaN; otherwise a decimal
    ``[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`` or nan/inf/infinity."""
    if e == s:
        return True, np.nan
    if e - s == 1 and buf[s] == DOT:
        return True, np.nan
    if e - s <= 15:  # fast path: a short unsigned integer (most FORMAT/INFO values)
        iv = 0
        q = s
        while q < e:
            c = buf[q]
            if c < 48 or c > 57:
                break
            iv = iv * 10 + (c - 48)
            q += 1
        if q == e:
            return True, float(iv)
    i = s
    neg = False
    c = buf[i]
    if c == 43 or c == 45:
        neg = c == 45
        i += 1
        if i == e:
            return False, 0.0
    c = buf[i]
    if c == 110 or c == 78 or c == 105 or c == 73:  # n N i I
        if _lower_eq(buf, i, e, (110, 97, 110)):
            return True, np.nan
        if _lower_eq(buf, i, e, (105, 110, 102)) or _lower_eq(
                buf, i, e, (105, 110, 102, 105, 110, 105, 116, 121)):
            return True, -np.inf if neg else np.inf
        return False, 0.0
    mant = np.int64(0)
    exp10 = 0
    digits = False
    while i < e:
        c = buf[i]
        if c < 48 or c > 57:
            break
        digits = True
        if mant < 100000000000000000:
            mant = mant * 10 + (c - 48)
        else:
            exp10 += 1
        i += 1
    if i < e and buf[i] == DOT:
        i += 1
        while i < e:
            c = buf[i]
            if c < 48 or c > 57:
                break
            digits = True
            if mant < 100000000000000000:
                mant = mant * 10 + (c - 48)
                exp10 -= 1
            i += 1
    if not digits:
        return False, 0.0
    if i < e and (buf[i] == 101 or buf[i] == 69):
        i += 1
        eneg = False
        if i < e and (buf[i] == 43 or buf[i] == 45):
            eneg = buf[i] == 45
            i += 1
        ed = False
        ex = 0
        while i < e:
            c = buf[i]
            if c < 48 or c > 57:
                break
            ed = True
            if ex < 100000:
                ex = ex * 10 + (c - 48)
            i += 1
        if not ed:
            return False, 0.0
        exp10 += -ex if eneg else ex
    if i != e:
        return False, 0.0
    if mant == 0:
        v = 0.0
    elif mant < 9007199254740992 and exp10 >= -22 and exp10 <= 22:
        if exp10 >= 0:
            v = float(mant) * _POW10[exp10]
        else:
            v = float(mant) / _POW10[-exp10]
    elif exp10 > 308:
        v = np.inf
    elif exp10 < -340:
        v = 0.0
    elif exp10 >= 0:
        v = float(mant) * 10.0 ** exp10
    elif exp10 >= -300:
        v = float(mant) / 10.0 ** (-exp10)
    else:
        v = (float(mant) / 1e40) / 10.0 ** (-exp10 - 40)
    return True, -v if neg else v


@numba_jit
def _parse_int(buf, s, e):
    i = s
    neg = False
    if i < e and (buf[i] == 43 or buf[i] == 45):
        neg = buf[i] == 45
        i += 1
    if i == e:
        return False, 0
    v = np.int64(0)
    while i < e:
        c = buf[i]
        if c < 48 or c > 57:
            return False, 0
        v = v * 10 + (c - 48)
        i += 1
    return True, -v if neg else v


@numba_jit
def _bytes_eq(buf, s, e, keys, ks, ke):
    if e - s != ke - ks:
        return False
    for q in range(e - s):
        if buf[s + q] != keys[ks + q]:
            return False
    return True


@numba_jit
def _set_err(err, code, rec, col, ts, te, tag, sample):
    err[0] = code
    err[1] = rec
    err[2] = col
    err[3] = ts
    err[4] = te
    err[5] = tag
    err[6] = sample
    return code


@numba_jit
def _count_columns(buf, ls, le):
    n = 1
    for i in range(ls, le):
        if buf[i] == TAB:
            n += 1
    return n


@numba_jit
def _scan_to(buf, p, le, c1):
    while p < le and buf[p] != c1:
        p += 1
    return p


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[::1], int64, "
                "uint8[::1], int64[::1], uint8[::1], int64[::1], boolean[::1], "
                "uint8[::1], int64[::1], boolean[::1], boolean, "
                "int32[::1], int64[::1], int32[::1], float32[::1], int16[::1], uint8[::1], "
                "boolean[:, ::1], float64[:, :, ::1], int32[:, ::1], float64[:, :, :, ::1], "
                "int32[:, :, ::1], int8[:, :, ::1], boolean[:, ::1], boolean[::1], "
                "int64[:, ::1], int64[::1], int64[::1])")
def tokenize_records(buf, line_start, line_end, n_samples,
                     filt_names, filt_off, info_keys, info_off, info_flag,
                     fmt_keys, fmt_off, fmt_flag, want_gt,
                     chrom, pos, rlen, qual, n_allele, vtype, filters,
                     info_vals, info_len, fmt_vals, fmt_len,
                     gt, phased, has_gt, col_start, need, err):
    """Tokenise records ``[line_start[r], line_end[r])`` of ``buf`` into the output arrays.

    Inputs: header FILTER names / requested INFO keys / requested FORMAT keys as concatenated
    bytes + offsets (``*_off`` has one more entry than names), ``info_flag``/``fmt_flag`` bool
    per requested tag (Type=Flag), ``want_gt``.
    Outputs (pre-allocated by the caller): ``chrom`` int32 [V] (-1 where CHROM differs from the
    previous record's, -2 where equal; the caller names and forward-fills), ``pos``, ``rlen``,
    ``qual``, ``n_allele``, ``vtype``, ``filters`` [V, F], ``info_vals`` [NI, V, WI] (pre-filled
    NaN, Flags 0), ``info_len`` [NI, V] (zeros), ``fmt_vals`` [NF, V, S, WF], ``fmt_len``
    [NF, V, S], ``gt`` [V, S, P] (pre-filled -2), ``phased`` [V, S], ``has_gt`` [V],
    ``col_start`` [V, 10] (pre-filled -1), ``need`` [NI + NF + 1] int64 (zeros; receives the
    longest vector per tag and the largest ploidy), ``err`` int64 [N_ERR].
    Returns OK, NEED_RESIZE (some vector/ploidy exceeded WI/WF/P: re-run with bigger arrays)
    or an ERR_* code (processing stops at the first malformed record).
    """
    V = line_start.shape[0]
    NI = info_off.shape[0] - 1
    NF = fmt_off.shape[0] - 1
    NFILT = filt_off.shape[0] - 1
    WI = info_vals.shape[2]
    WF = fmt_vals.shape[3]
    P = gt.shape[2]
    kmap = np.full(64, -1, np.int64)
    tagpos = np.full(max(NF, 1), -1, np.int64)
    prev_cs = -1
    prev_ce = -1
    resize = False
    for r in range(V):
        ls = line_start[r]
        le = line_end[r]
        p = ls
        # ---- CHROM
        cs = p
        p = _scan_to(buf, p, le, TAB)
        if p >= le:
            return _set_err(err, ERR_COLUMNS, r, 0, ls, le, _count_columns(buf, ls, le), -1)
        col_start[r, 0] = cs
        same = False
        if prev_cs >= 0 and p - cs == prev_ce - prev_cs:
            same = True
            for q in range(p - cs):
                if buf[cs + q] != buf[prev_cs + q]:
                    same = False
                    break
        chrom[r] = -2 if same else -1
        prev_cs = cs
        prev_ce = p
        # ---- POS
        p += 1
        cs = p
        p = _scan_to(buf, p, le, TAB)
        if p >= le:
            return _set_err(err, ERR_COLUMNS, r, 1, ls, le, _count_columns(buf, ls, le), -1)
        col_start[r, 1] = cs
        ok, v = _parse_int(buf, cs, p)
        if not ok:
            return _set_err(err, ERR_POS, r, 1, cs, p, -1, -1)
        pos[r] = v
        # ---- ID
        p += 1
        col_start[r, 2] = p
        p = _scan_to(buf, p, le, TAB)
        if p >= le:
            return _set_err(err, ERR_COLUMNS, r, 2, ls, le, _count_columns(buf, ls, le), -1)
        # ---- REF
        p += 1
        rs = p
        col_start[r, 3] = p
        p = _scan_to(buf, p, le, TAB)
        if p >= le:
            return _set_err(err, ERR_COLUMNS, r, 3, ls, le, _count_columns(buf, ls, le), -1)
        rend = p
        rlen[r] = rend - rs
        # ---- ALT
        p += 1
        col_start[r, 4] = p
        a_s = p
        p = _scan_to(buf, p, le, TAB)
        if p >= le:
            return _set_err(err, ERR_COLUMNS, r, 4, ls, le, _count_columns(buf, ls, le), -1)
        aend = p
        if aend - a_s == 1 and buf[a_s] == DOT:
            n_allele[r] = 1
            vtype[r] = 0
        else:
            na = 1
            vt = 0
            s = a_s
            for q in range(a_s, aend + 1):
                if q == aend or buf[q] == COMMA:
                    vt |= variant_type_one(buf, rs, rend, s, q)
                    na += 1
                    s = q + 1
            n_allele[r] = na
            vtype[r] = vt
        n_al = np.int64(n_allele[r])
        # ---- QUAL
        p += 1
        cs = p
        col_start[r, 5] = p
        p = _scan_to(buf, p, le, TAB)
        if p >= le:
            return _set_err(err, ERR_COLUMNS, r, 5, ls, le, _count_columns(buf, ls, le), -1)
        if p - cs == 1 and buf[cs] == DOT:
            qual[r] = np.nan
        else:
            ok, fv = parse_number(buf, cs, p)
            if not ok or p == cs:
                return _set_err(err, ERR_QUAL, r, 5, cs, p, -1, -1)
            qual[r] = fv
        # ---- FILTER
        p += 1
        cs = p
        col_start[r, 6] = p
        p = _scan_to(buf, p, le, TAB)
        if p >= le:
            return _set_err(err, ERR_COLUMNS, r, 6, ls, le, _count_columns(buf, ls, le), -1)
        if not (p - cs == 1 and buf[cs] == DOT):
            s = cs
            for q in range(cs, p + 1):
                if q == p or buf[q] == SEMI:
                    found = -1
                    for f in range(NFILT):
                        if _bytes_eq(buf, s, q, filt_names, filt_off[f], filt_off[f + 1]):
                            found = f
                            break
                    if found < 0:
                        return _set_err(err, ERR_UNKNOWN_FILTER, r, 6, s, q, -1, -1)
                    filters[r, found] = True
                    s = q + 1
        # ---- INFO
        p += 1
        cs = p
        col_start[r, 7] = p
        if NI > 0 and not (p + 1 <= le and buf[p] == DOT and (p + 1 == le or buf[p + 1] == TAB)):
            n_found = 0
            while True:
                ks = p
                while p < le:
                    c = buf[p]
                    if c == EQ or c == SEMI or c == TAB:
                        break
                    p += 1
                ke = p
                t = -1
                for tt in range(NI):
                    if _bytes_eq(buf, ks, ke, info_keys, info_off[tt], info_off[tt + 1]):
                        t = tt
                        break
                if t >= 0 and info_len[t, r] == 0:
                    n_found += 1
                    if info_flag[t]:
                        info_vals[t, r, 0] = 1.0
                        info_len[t, r] = 1
                        while p < le and buf[p] != SEMI and buf[p] != TAB:
                            p += 1
                    elif p >= le or buf[p] != EQ:
                        info_len[t, r] = 1
                        if need[t] < 1:
                            need[t] = 1
                    else:
                        p += 1
                        k = 0
                        while True:
                            s = p
                            while p < le:
                                c = buf[p]
                                if c == COMMA or c == SEMI or c == TAB:
                                    break
                                p += 1
                            ok, fv = parse_number(buf, s, p)
                            if not ok:
                                return _set_err(err, ERR_INFO_NUMBER, r, 7, s, p, t, -1)
                            if k < WI:
                                info_vals[t, r, k] = fv
                            k += 1
                            if p < le and buf[p] == COMMA:
                                p += 1
                                continue
                            break
                        info_len[t, r] = k
                        if k > need[t]:
                            need[t] = k
                            if k > WI:
                                resize = True
                else:
                    while p < le and buf[p] != SEMI and buf[p] != TAB:
                        p += 1
                if p < le and buf[p] == SEMI:
                    p += 1
                    if n_found == NI:
                        p = _scan_to(buf, p, le, TAB)
                        break
                    continue
                break
        else:
            p = _scan_to(buf, p, le, TAB)
        # ---- FORMAT
        if p >= le:
            if n_samples > 0:
                return _set_err(err, ERR_COLUMNS, r, 8, ls, le, _count_columns(buf, ls, le), -1)
            continue
        p += 1
        cs = p
        col_start[r, 8] = p
        nk = 0
        hg = False
        for tt in range(NF):
            tagpos[tt] = -1
        maxk = -1
        s = p
        while True:
            while p < le and buf[p] != COLON and buf[p] != TAB:
                p += 1
            if nk == 0 and p - s == 2 and buf[s] == 71 and buf[s + 1] == 84:  # GT
                hg = True
            for tt in range(NF):
                if tagpos[tt] < 0 and _bytes_eq(buf, s, p, fmt_keys, fmt_off[tt],
                                                fmt_off[tt + 1]):
                    tagpos[tt] = nk
                    if nk > maxk:
                        maxk = nk
                    break
            nk += 1
            if p < le and buf[p] == COLON:
                p += 1
                s = p
                continue
            break
        if want_gt:
            has_gt[r] = hg
            if hg and maxk < 0:
                maxk = 0
        if maxk >= kmap.shape[0]:
            kmap = np.full(maxk + 1, -1, np.int64)
        for q in range(maxk + 1):
            kmap[q] = -1
        for tt in range(NF):
            if tagpos[tt] >= 0:
                kmap[tagpos[tt]] = tt
        do_gt = want_gt and hg
        # ---- samples
        for j in range(n_samples):
            if p >= le:
                return _set_err(err, ERR_COLUMNS, r, 9, ls, le, _count_columns(buf, ls, le), -1)
            p += 1
            if j == 0:
                col_start[r, 9] = p
            k = 0
            if do_gt:
                gs = p
                a = 0
                ph = True
                while True:
                    c = buf[p] if p < le else TAB
                    if c == DOT:
                        av = -1
                        p += 1
                    elif c >= 48 and c <= 57:
                        av = 0
                        while p < le:
                            c = buf[p]
                            if c < 48 or c > 57:
                                break
                            av = av * 10 + (c - 48)
                            if av > 127:
                                return _set_err(err, ERR_GT_TOO_BIG, r, 9,
                                                gs, _scan_to(buf, gs, le, TAB), av, j)
                            p += 1
                    else:
                        return _set_err(err, ERR_GT, r, 9, gs, _scan_to(buf, gs, le, TAB),
                                        -1, j)
                    if a < P:
                        gt[r, j, a] = av
                    a += 1
                    if av >= n_al:
                        return _set_err(err, ERR_GT_ALLELE, r, 9, gs,
                                        _scan_to(buf, gs, le, TAB), av, j)
                    c = buf[p] if p < le else TAB
                    if c == SLASH:
                        ph = False
                        p += 1
                    elif c == PIPE:
                        p += 1
                    elif c == COLON or c == TAB:
                        break
                    else:
                        return _set_err(err, ERR_GT, r, 9, gs, _scan_to(buf, gs, le, TAB),
                                        -1, j)
                phased[r, j] = ph
                if a > need[NI + NF]:
                    need[NI + NF] = a
                    if a > P:
                        resize = True
                if k >= maxk or p >= le or buf[p] == TAB:
                    p = _scan_to(buf, p, le, TAB)
                    continue
                p += 1
                k = 1
            if maxk < 0:
                p = _scan_to(buf, p, le, TAB)
                continue
            while True:
                t = kmap[k] if k <= maxk else -1
                if t >= 0:
                    if fmt_flag[t]:
                        fmt_vals[t, r, j, 0] = 1.0
                        fmt_len[t, r, j] = 1
                        while p < le and buf[p] != COLON and buf[p] != TAB:
                            p += 1
                    else:
                        m = 0
                        while True:
                            s = p
                            while p < le:
                                c = buf[p]
                                if c == COMMA or c == COLON or c == TAB:
                                    break
                                p += 1
                            ok, fv = parse_number(buf, s, p)
                            if not ok:
                                return _set_err(err, ERR_FORMAT_NUMBER, r, 9, s, p, t, j)
                            if m < WF:
                                fmt_vals[t, r, j, m] = fv
                            m += 1
                            if p < le and buf[p] == COMMA:
                                p += 1
                                continue
                            break
                        fmt_len[t, r, j] = m
                        if m > need[NI + t]:
                            need[NI + t] = m
                            if m > WF:
                                resize = True
                else:
                    while p < le and buf[p] != COLON and buf[p] != TAB:
                        p += 1
                if p < le and buf[p] == COLON:
                    if k >= maxk:
                        p = _scan_to(buf, p, le, TAB)
                        break
                    p += 1
                    k += 1
                    continue
                break
        if p < le:
            return _set_err(err, ERR_COLUMNS, r, 9, ls, le, _count_columns(buf, ls, le), -1)
    return NEED_RESIZE if resize else OK


@numba_jit
def select_records_counts(buf, line_start, line_end, col_start, keep, mask):
    """:func:`select_records` that also returns the number of alleles whose (BCF) value
    changed, as ``bcftools +setGT`` counts them ("Filled N alleles"): every non-missing
    allele, plus a missing allele written after ``|`` (``1|.`` -> 2, ``./1`` -> 1,
    ``.|.`` -> 1, ``./.`` -> 0)."""
    V = line_start.shape[0]
    total = 0
    for r in range(V):
        if keep[r]:
            total += line_end[r] - line_start[r] + 1
    out = np.empty(total, np.uint8)
    o = 0
    n_gt = 0
    n_al = 0
    do_mask = mask.shape[0] > 0
    for r in range(V):
        if not keep[r]:
            continue
        ls = line_start[r]
        le = line_end[r]
        row_mask = False
        if do_mask:
            for j in range(mask.shape[1]):
                if mask[r, j]:
                    row_mask = True
                    break
        fs = col_start[r, 8]
        if row_mask and fs >= 0 and col_start[r, 9] >= 0 and fs + 2 <= le and \
                buf[fs] == 71 and buf[fs + 1] == 84 and \
                (fs + 2 == le or buf[fs + 2] == COLON or buf[fs + 2] == TAB):
            s0 = col_start[r, 9]
            out[o:o + s0 - ls] = buf[ls:s0]
            o += s0 - ls
            p = s0
            j = 0
            while True:
                # p = start of sample j
                if j < mask.shape[1] and mask[r, j]:
                    g = p
                    while g < le and buf[g] != COLON and buf[g] != TAB:
                        g += 1
                    ploidy = 1
                    called = False
                    changed = 0  # alleles whose BCF encoding changes (not '.' after '/')
                    after_pipe = False
                    for q in range(p, g):
                        c = buf[q]
                        if c == SLASH or c == PIPE:
                            ploidy += 1
                            after_pipe = c == PIPE
                        elif c == DOT:
                            if after_pipe:
                                changed += 1
                            after_pipe = False
                        else:
                            if q == p or buf[q - 1] == SLASH or buf[q - 1] == PIPE:
                                changed += 1
                            called = True
                            after_pipe = False
                    n_al += changed
                    if called:
                        n_gt += 1
                    out[o] = DOT
                    o += 1
                    for q in range(ploidy - 1):
                        out[o] = SLASH
                        out[o + 1] = DOT
                        o += 2
                    p = g
                while p < le and buf[p] != TAB:
                    out[o] = buf[p]
                    o += 1
                    p += 1
                if p >= le:
                    break
                out[o] = TAB
                o += 1
                p += 1
                j += 1
        else:
            out[o:o + le - ls] = buf[ls:le]
            o += le - ls
        out[o] = NL
        o += 1
    return out[:o], n_gt, n_al


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[::1], int64[:, ::1], "
                "boolean[::1], boolean[:, ::1])")
def select_records(buf, line_start, line_end, col_start, keep, mask):
    """Copy the kept records' lines (each + ``\\n``) byte for byte into a new uint8 array,
    except that the GT (first FORMAT key, only when FORMAT starts with GT) of each sample with
    ``mask[r, j]`` is written as missing with the same ploidy and unphased (``0|1`` -> ``./.``,
    ``1/1/1`` -> ``././.``, ``1`` -> ``.``, ``.|.`` -> ``./.``), as
    ``bcftools +setGT -- -t q -n .`` does. ``mask`` of shape (0, 0) masks nothing.
    Returns ``(out, n_genotypes_masked)``: genotypes that had at least one non-missing allele.
    """
    out, n_gt, n_al = select_records_counts(buf, line_start, line_end, col_start, keep, mask)
    return out, n_gt
