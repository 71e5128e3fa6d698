"""Numba kernels of the annotation transfer (:mod:`pgx.annotate.transfer`): arrays in, arrays
out, no I/O, no strings.

**Allele keys.** Every ALT allele of a record becomes one *entry* with a two-part int64 key:
``hi = contig_id << 32 | pos`` and ``lo`` = the alleles. ``pos`` is the 1-based VCF POS after
normalisation; ``contig_id`` a source cache's contig number (-1: a contig the source lacks,
``hi = -1``, never matches). Normalisation (:func:`allele_key`) is what ``bcftools norm`` does to
a split record that is already left-aligned, without a reference: while both alleles are longer
than one base and end in the same base, drop it (``ATT>AT`` -> ``AT>A``), then while both are
longer than one base and start with the same base, drop it and add 1 to ``pos``
(``ACGT>AGGT`` at 800 -> ``C>G`` at 801); bases compare case-insensitively. Nothing is
left-aligned (that needs the reference): the same indel written at two positions of a repeat
does not match. Symbolic alleles, ``*`` and breakends are compared as written (not trimmed).
``lo`` is exact for trimmed alleles of ``ACGT`` only with REF + ALT <= 26 bases (lengths in
bits 57-61 and 52-56, two bits per base below; always >= 0); anything else gets a 63-bit
FNV-1a hash of ``REF/ALT`` (uppercase) stored as a negative number. Two different hashed
alleles at the same position would have to collide in 63 bits to be confused (about 1e-19 per
pair).

**Join.** Source entries are sorted by ``(hi, lo)`` (stable: file order among equal keys); a
query entry matches the *first* equal source entry (:func:`join_exact`), i.e. duplicates
resolve to the first record in the source file, except that a source record with exactly the
query record's ALT alleles (in the same order) is preferred (:func:`prefer_whole_records`;
bcftools' pairing does the same: ``A>T`` takes a split ``A>T`` record over an earlier
``A>C,T``). :func:`join_position` matches a record's un-normalised ``contig << 32 | POS``
against the source's records (sorted, file order) and takes the first record there.
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit

_COMMA = 44
_DOT = 46
_MAX_PACKED = 26
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@numba_jit(inline="always")
def _up(c):
    if c >= 97 and c <= 122:
        return c - 32
    return c


@numba_jit(inline="always")
def _code(c):
    """A C G T (either case) -> 0 1 2 3; N -> 4; anything else -> -1."""
    c = _up(c)
    if c == 65:
        return 0
    if c == 67:
        return 1
    if c == 71:
        return 2
    if c == 84:
        return 3
    if c == 78:
        return 4
    return -1


@numba_jit
def _fnv(h, buf, s, e):
    for q in range(s, e):
        h = (h ^ np.uint64(_up(buf[q]))) * _FNV_PRIME
    return h


@numba_jit
def allele_key(buf, rs, re_, a_s, ae):
    """``(shift, lo)`` for REF ``buf[rs:re_]`` and one ALT ``buf[a_s:ae]`` (see the module
    docstring): ``shift`` is what normalisation adds to POS."""
    plain = re_ > rs and ae > a_s
    if plain:
        for q in range(rs, re_):
            if _code(buf[q]) < 0:
                plain = False
                break
    if plain:
        for q in range(a_s, ae):
            if _code(buf[q]) < 0:
                plain = False
                break
    shift = 0
    if plain:
        rl = re_ - rs
        al = ae - a_s
        while rl > 1 and al > 1 and _up(buf[rs + rl - 1]) == _up(buf[a_s + al - 1]):
            rl -= 1
            al -= 1
        k = 0
        while rl - k > 1 and al - k > 1 and _up(buf[rs + k]) == _up(buf[a_s + k]):
            k += 1
        shift = k
        rs, re_, a_s, ae = rs + k, rs + rl, a_s + k, a_s + al
        if (re_ - rs) + (ae - a_s) <= _MAX_PACKED:
            bits = np.int64(0)
            packed = True
            for q in range(rs, re_):
                c = _code(buf[q])
                if c > 3:
                    packed = False
                    break
                bits = (bits << 2) | c
            if packed:
                for q in range(a_s, ae):
                    c = _code(buf[q])
                    if c > 3:
                        packed = False
                        break
                    bits = (bits << 2) | c
            if packed:
                return shift, (np.int64(re_ - rs) << 57) | (np.int64(ae - a_s) << 52) | bits
    h = _fnv(_FNV_OFFSET, buf, rs, re_)
    h = (h ^ np.uint64(47)) * _FNV_PRIME  # '/'
    h = _fnv(h, buf, a_s, ae)
    return shift, -1 - np.int64(h >> np.uint64(1))


@numba_jit(inline="always")
def _n_alts(buf, s, e):
    """ALT alleles in the ALT column ``buf[s:e]`` (0 for ``.`` or empty)."""
    if e <= s or (e - s == 1 and buf[s] == _DOT):
        return 0
    n = 1
    for q in range(s, e):
        if buf[q] == _COMMA:
            n += 1
    return n


@numba_jit(inline="always")
def _fill_alleles(buf, rs, re_, s, e, contig, pos, hi, lo, j):
    """Write the entries of one record's ALTs ``buf[s:e]`` from ``j``; returns the next."""
    q = s
    while True:
        t = q
        while t < e and buf[t] != _COMMA:
            t += 1
        shift, key = allele_key(buf, rs, re_, q, t)
        hi[j] = -1 if contig < 0 else (np.int64(contig) << 32) | (pos + shift)
        lo[j] = key
        j += 1
        if t >= e:
            return j
        q = t + 1


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[::1], int64[::1], int64[::1], "
                "int64[::1], int64[::1], int64[::1])")
def encode_alleles(buf, ref_s, ref_e, alt_s, alt_e, pos, contig):
    """Entries of every ALT allele of each record (REF ``buf[ref_s[r]:ref_e[r]]``, ALT column
    ``buf[alt_s[r]:alt_e[r]]``, comma-separated; ``.`` or empty = no ALT), keyed against
    ``contig[r]`` (-1: unknown). Returns ``(aoff, hi, lo)``: record ``r``'s entries are
    ``aoff[r]:aoff[r + 1]``, in ALT order."""
    V = pos.shape[0]
    aoff = np.zeros(V + 1, np.int64)
    for r in range(V):
        aoff[r + 1] = aoff[r] + _n_alts(buf, alt_s[r], alt_e[r])
    hi = np.empty(aoff[V], np.int64)
    lo = np.empty(aoff[V], np.int64)
    for r in range(V):
        if aoff[r + 1] > aoff[r]:
            _fill_alleles(buf, ref_s[r], ref_e[r], alt_s[r], alt_e[r], contig[r], pos[r], hi,
                          lo, aoff[r])
    return aoff, hi, lo


@numba_jit(aot="(Array(uint8, 1, 'C', readonly=True), int64[:, ::1], int64[::1], "
                "int32[::1])")
def encode_vcf_alleles(buf, col_start, pos, contig):
    """:func:`encode_alleles` of VCF records (REF and ALT from the column offsets
    ``col_start`` of :class:`pgx.io.variant_chunk.VariantChunk`); ``contig`` int32."""
    V = pos.shape[0]
    aoff = np.zeros(V + 1, np.int64)
    for r in range(V):
        aoff[r + 1] = aoff[r] + _n_alts(buf, col_start[r, 4], col_start[r, 5] - 1)
    hi = np.empty(aoff[V], np.int64)
    lo = np.empty(aoff[V], np.int64)
    for r in range(V):
        if aoff[r + 1] > aoff[r]:
            _fill_alleles(buf, col_start[r, 3], col_start[r, 4] - 1, col_start[r, 4],
                          col_start[r, 5] - 1, contig[r], pos[r], hi, lo, aoff[r])
    return aoff, hi, lo


@numba_jit(inline="always")
def _lt(h1, l1, h2, l2):
    return h1 < h2 or (h1 == h2 and l1 < l2)


@numba_jit(inline="always")
def _lower_bound(s_hi, s_lo, lo_, hi_, h, l):
    while lo_ < hi_:
        mid = (lo_ + hi_) >> 1
        if _lt(s_hi[mid], s_lo[mid], h, l):
            lo_ = mid + 1
        else:
            hi_ = mid
    return lo_


@numba_jit(aot="(int64[::1], int64[::1], int64[::1], Array(int64, 1, 'C', readonly=True), "
                "Array(int64, 1, 'C', readonly=True))")
def join_exact(q_hi, q_lo, remap, s_hi, s_lo):
    """For each query entry, the index of the first source entry with the same key (``s_*``
    sorted by ``(hi, lo)``), else -1; the query's ``hi`` holds *its* contig ids, which
    ``remap`` turns into the source's (-1: the source lacks the contig). Query keys in
    (nearly) sorted order cost O(1) each (galloping from the previous answer); a key below
    the previous one is searched from the start."""
    n = q_hi.shape[0]
    m = s_hi.shape[0]
    out = np.full(n, -1, np.int64)
    lb = 0
    ph = np.int64(-1)
    pl = np.int64(0)
    for i in range(n):
        h = q_hi[i]
        if h < 0:
            continue
        cid = remap[h >> 32]
        if cid < 0:
            continue
        h = (cid << 32) | (h & 0xFFFFFFFF)
        l = q_lo[i]
        if _lt(h, l, ph, pl):
            lb = _lower_bound(s_hi, s_lo, 0, lb, h, l)
        else:
            lo_ = lb
            hi_ = lb
            step = 1
            while hi_ < m and _lt(s_hi[hi_], s_lo[hi_], h, l):
                lo_ = hi_ + 1
                hi_ = lo_ + step
                step <<= 1
            lb = _lower_bound(s_hi, s_lo, lo_, min(hi_, m), h, l)
        ph = h
        pl = l
        if lb < m and s_hi[lb] == h and s_lo[lb] == l:
            out[i] = lb
    return out


@numba_jit(inline="always")
def _run_has(s_hi, s_lo, ent_rec, ent_alt, start, rr, k):
    """The entry of ALT ``k`` of record ``rr`` in the run of equal keys from ``start``, or
    -1."""
    m = s_hi.shape[0]
    e = start
    while e < m and s_hi[e] == s_hi[start] and s_lo[e] == s_lo[start]:
        if ent_rec[e] == rr and ent_alt[e] == k:
            return e
        e += 1
    return -1


@numba_jit(aot="(int64[::1], int64[::1], Array(int64, 1, 'C', readonly=True), "
                "Array(int64, 1, 'C', readonly=True), Array(int64, 1, 'C', readonly=True), "
                "Array(int32, 1, 'C', readonly=True), Array(int32, 1, 'C', readonly=True))")
def prefer_whole_records(aoff, match, s_hi, s_lo, ent_rec, ent_alt, rec_nalt):
    """Where a source record has exactly the query record's ALT alleles, in the same order,
    every allele takes that record (the first such in the file), as bcftools' pairing
    prefers it; ``match`` (from :func:`join_exact`) is updated in place. Elsewhere each
    allele keeps the first record in the file that has it."""
    V = aoff.shape[0] - 1
    m = s_hi.shape[0]
    for r in range(V):
        j0 = aoff[r]
        n = aoff[r + 1] - j0
        if n == 0:
            continue
        full = True
        for j in range(j0, j0 + n):
            if match[j] < 0:
                full = False
                break
        if not full:
            continue
        c = match[j0]
        while c < m and s_hi[c] == s_hi[match[j0]] and s_lo[c] == s_lo[match[j0]]:
            rr = ent_rec[c]
            if rec_nalt[rr] == n and ent_alt[c] == 0:
                ok = True
                for j in range(j0 + 1, j0 + n):
                    if _run_has(s_hi, s_lo, ent_rec, ent_alt, match[j], rr, j - j0) < 0:
                        ok = False
                        break
                if ok:
                    match[j0] = c
                    for j in range(j0 + 1, j0 + n):
                        match[j] = _run_has(s_hi, s_lo, ent_rec, ent_alt, match[j], rr,
                                            j - j0)
                    break
            c += 1
    return match


@numba_jit(aot="(int32[::1], int64[::1], int64[::1], Array(int64, 1, 'C', readonly=True))")
def join_position(contig, pos, remap, s_key):
    """For each query record (its contig id, turned into the source's by ``remap``, and
    POS), the index of the first source record with that ``contig << 32 | POS`` (``s_key``
    non-decreasing), else -1."""
    n = pos.shape[0]
    m = s_key.shape[0]
    out = np.full(n, -1, np.int64)
    for i in range(n):
        cid = remap[contig[i]]
        if cid < 0:
            continue
        k = (cid << 32) | pos[i]
        lo_ = 0
        hi_ = m
        while lo_ < hi_:
            mid = (lo_ + hi_) >> 1
            if s_key[mid] < k:
                lo_ = mid + 1
            else:
                hi_ = mid
        if lo_ < m and s_key[lo_] == k:
            out[i] = lo_
    return out
