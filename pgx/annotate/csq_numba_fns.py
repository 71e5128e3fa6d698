"""Numba kernels for consequence calling (arrays in, arrays out; no I/O, no strings).

Driver: :mod:`pgx.annotate.csq` (and :mod:`~pgx.annotate.csq_rules`,
:mod:`~pgx.annotate.csq_haplo`). Coordinates are 0-based; intervals are closed (``beg`` and
``end`` both included) as in :mod:`pgx.annotate.gff`.

* :func:`site_classes`: for records of one contig, the transcripts whose span (padded by
  ``pad``) meets each record and whether the record needs the full rules (it meets an exon
  padded by ``pad`` or a transcript end) or is deep inside the introns / bodies of all of them;
* :func:`translate_window`: the codon translation of bcftools csq's ``cds_translate`` on ASCII
  byte arrays (see :func:`pgx.annotate.csq_coding.translate`, its plain-Python reference);
* :func:`or_bits`: sets FORMAT/BCSQ bits (``numpy.bitwise_or.at`` is the reference).
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit

NONE, DEEP, NEAR = 0, 1, 2


@numba_jit
def _first_ge(a, lo, hi, x):
    """First index in ``a[lo:hi]`` (sorted) with ``a[k] >= x`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba_jit(aot="(int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], "
               "int64[::1], int64[::1], int64)")
def site_classes(beg, end, tr_beg, tr_end, tr_maxend, ex_ptr, ex_beg, ex_end, pad):
    """Classify records ``[beg[i], end[i]]`` against the transcripts of one contig.

    ``tr_*`` are that contig's transcripts sorted by ``tr_beg``, ``tr_maxend`` the running
    maximum of ``tr_end``, exons in CSR form (``ex_ptr`` indexes ``ex_beg``/``ex_end``, sorted
    and disjoint within a transcript). Returns ``lo``/``hi`` int64 [V] (candidate transcripts
    ``lo..hi-1``: padded span overlaps; some may not) and ``klass`` int8 [V]: 0 no candidate,
    1 deep (every candidate either contains the record strictly inside its span with no exon
    within ``pad`` bases, or is clear of it), 2 near (anything else: full rules needed).
    """
    n = beg.shape[0]
    nt = tr_beg.shape[0]
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    klass = np.zeros(n, dtype=np.int8)
    for i in range(n):
        b = beg[i]
        e = end[i]
        # candidates: tr_beg - pad <= e and tr_end + pad >= b
        h = _first_ge(tr_beg, 0, nt, e + pad + 1)
        first = _first_ge(tr_maxend, 0, h, b - pad)
        lo[i] = first
        hi[i] = h
        k = NONE
        for t in range(first, h):
            if tr_end[t] + pad < b:
                continue
            if k == NONE:
                k = DEEP
            if not (b > tr_beg[t] and e < tr_end[t]):
                if e >= tr_beg[t] - pad and b <= tr_end[t] + pad:
                    k = NEAR
                    break
            x0 = ex_ptr[t]
            x1 = ex_ptr[t + 1]
            j = _first_ge(ex_end, x0, x1, b - pad)
            if j < x1 and ex_beg[j] - pad <= e:
                k = NEAR
                break
        klass[i] = k
    return lo, hi, klass


@numba_jit
def _codon(tab, a, b, c):
    x = 0
    for base in (a, b, c):
        if base == 65:
            v = 0
        elif base == 67:
            v = 1
        elif base == 71:
            v = 2
        elif base == 84:
            v = 3
        else:
            return 88  # 'X'
        x = x * 4 + v
    return tab[x]


@numba_jit
def _rcodon(tab, a, b, c):
    """The amino acid of the reverse complement of ``a b c``."""
    return _codon(tab, _comp(c), _comp(b), _comp(a))


@numba_jit
def _comp(x):
    if x == 65:
        return 84
    if x == 67:
        return 71
    if x == 71:
        return 67
    if x == 84:
        return 65
    return 78


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), Array(uint8, 1, 'C', readonly=True), "
               "int64, int64, int64, int64, boolean, boolean, "
               "Array(uint8, 1, 'C', readonly=True), int64)")
def translate_window(sref, seq, seq_m, sbeg, rbeg, rend, fwd, fill, tab, pad):
    """Peptide (ASCII codes, protein order) of the codons ``seq`` touches; the same rules as
    :func:`pgx.annotate.csq_coding.translate` (which documents the arguments); ``tab`` is the
    64-entry codon table (A,C,G,T order), ``pad`` the padding of ``sref``."""
    ns = seq.shape[0]
    out = np.empty(ns // 3 + sref.shape[0] // 3 + 4, dtype=np.uint8)
    n = 0
    if ns == 0:
        out[0] = 63  # '?'
        return out[:1]
    tmp = np.zeros(3, dtype=np.uint8)
    if fwd:
        npad = sbeg % 3
        for k in range(npad):
            tmp[k] = sref[pad + rbeg + k - npad]
        i = npad
        while i < 3 and i - npad < ns:
            tmp[i] = seq[i - npad]
            i += 1
        rest = ns - i + npad
        if i == 3:
            out[n] = _codon(tab, tmp[0], tmp[1], tmp[2])
            n += 1
            c = 3 - npad
            for _ in range(rest // 3):
                out[n] = _codon(tab, seq[c], seq[c + 1], seq[c + 2])
                n += 1
                c += 3
            i = 0
            while c < ns:
                tmp[i] = seq[c]
                i += 1
                c += 1
        r = pad + rend
        if i > 0:
            while i < 3:
                tmp[i] = sref[r] if r < sref.shape[0] else 78
                r += 1
                i += 1
            out[n] = _codon(tab, tmp[0], tmp[1], tmp[2])
            n += 1
        if fill:
            stop = sref.shape[0] - pad
            while r + 3 <= stop:
                out[n] = _codon(tab, sref[r], sref[r + 1], sref[r + 2])
                n += 1
                r += 3
        return out[:n]
    npad = (seq_m - (sbeg + ns)) % 3
    tmp[0] = 78
    tmp[1] = 78
    tmp[2] = 78
    if npad == 2:
        tmp[1] = sref[pad + rend]
        tmp[2] = sref[pad + rend + 1]
        i = 0
    elif npad == 1:
        tmp[2] = sref[pad + rend]
        i = 1
    else:
        i = 2
    e = ns
    while i >= 0 and e > 0:
        e -= 1
        tmp[i] = seq[e]
        i -= 1
    if i == -1:
        out[n] = _rcodon(tab, tmp[0], tmp[1], tmp[2])
        n += 1
        c = e - 3
        while c >= 0:
            out[n] = _rcodon(tab, seq[c], seq[c + 1], seq[c + 2])
            n += 1
            c -= 3
        if c == -2:
            tmp[2] = seq[0]
            i = 1
        elif c == -1:
            tmp[1] = seq[0]
            tmp[2] = seq[1]
            i = 0
        else:
            i = -1
    e = pad + rbeg
    if i >= 0:
        while i >= 0 and e > 0:
            e -= 1
            tmp[i] = sref[e]
            i -= 1
        out[n] = _rcodon(tab, tmp[0], tmp[1], tmp[2])
        n += 1
    if fill:
        c = e - 3
        while c >= pad:
            out[n] = _rcodon(tab, sref[c], sref[c + 1], sref[c + 2])
            n += 1
            c -= 3
    return out[:n]


@numba_jit(aot="(int32[:, :, ::1], int64[::1], int64[::1], int64[::1], int32[::1])")
def or_bits(fmt, rec, row, word, bit):
    """``fmt[rec[k], row[k], word[k]] |= bit[k]`` for every k (the FORMAT/BCSQ bitmask)."""
    for k in range(rec.shape[0]):
        fmt[rec[k], row[k], word[k]] |= bit[k]
