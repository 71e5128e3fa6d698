"""Numba kernels for star-allele matching (arrays in, arrays out; no I/O, no strings).

Encoding (see ``pgx.calling.encode``): ``codes[s, p, k]`` is the allele code of sample ``s`` at
defined position ``p`` on haplotype slot ``k`` (``-1`` missing: matches anything; ``-3``
undocumented: matches nothing). ``pattern[a, p]`` is a bitmask over allele codes that named
allele ``a`` accepts at ``p``; an allele that does not define ``p`` accepts REF only (bit 0).
``def_ptr/def_pos`` list, CSR-style, the positions each allele defines.

``block[s, p]`` is a phase-block id: at heterozygous positions with the same id, the two
haplotypes of a diplotype must keep one orientation; unphased heterozygous positions have
unique ids.
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit


@numba_jit
def _accepts(mask, code):
    if code == -1:
        return True
    if code < 0:
        return False
    return (mask >> np.uint64(code)) & np.uint64(1) == np.uint64(1)


@numba_jit(aot="(int64[::1], int64[::1], uint64[:, ::1], int8[:, :, ::1])")
def allele_candidates(def_ptr, def_pos, pattern, codes):
    """Alleles that fit at least one haplotype slot at every non-missing position.

    A position the allele does not define must carry REF (code 0) on some slot, so besides its
    own positions only the sample's positions without any REF allele need checking.
    Returns ``cand`` bool [S, A] and ``score`` int32 [S, A] (defined positions not missing).
    """
    n_s, n_p = codes.shape[0], codes.shape[1]
    n_a = def_ptr.shape[0] - 1
    cand = np.zeros((n_s, n_a), dtype=np.bool_)
    score = np.zeros((n_s, n_a), dtype=np.int32)
    for s in range(n_s):
        no_ref = np.empty(n_p, dtype=np.int64)
        n_nr = 0
        for p in range(n_p):
            c0 = codes[s, p, 0]
            c1 = codes[s, p, 1]
            if c0 != 0 and c1 != 0 and not (c0 == -1 and c1 == -1):
                no_ref[n_nr] = p
                n_nr += 1
        for a in range(n_a):
            ok = True
            sc = 0
            for k in range(def_ptr[a], def_ptr[a + 1]):
                p = def_pos[k]
                c0 = codes[s, p, 0]
                c1 = codes[s, p, 1]
                if c0 == -1 and c1 == -1:
                    continue
                m = pattern[a, p]
                if not (_accepts(m, c0) or _accepts(m, c1)):
                    ok = False
                    break
                sc += 1
            if ok:
                for i in range(n_nr):
                    p = no_ref[i]
                    m = pattern[a, p]
                    if not (_accepts(m, codes[s, p, 0]) or _accepts(m, codes[s, p, 1])):
                        ok = False
                        break
            cand[s, a] = ok
            score[s, a] = sc
    return cand, score


@numba_jit
def het_blocks(s, codes, block, hets, blk, ids):
    """Heterozygous positions of sample ``s`` into ``hets`` and each one's phase-block number
    (0..n_b-1) into ``blk`` (``ids`` is scratch); returns ``(n_h, n_b)``."""
    n_p = codes.shape[1]
    n_h = 0
    n_b = 0
    for p in range(n_p):
        c0 = codes[s, p, 0]
        c1 = codes[s, p, 1]
        if c0 == c1:
            continue
        hets[n_h] = p
        j = -1
        for q in range(n_b):
            if ids[q] == block[s, p]:
                j = q
                break
        if j < 0:
            ids[n_b] = block[s, p]
            j = n_b
            n_b += 1
        blk[n_h] = j
        n_h += 1
    return n_h, n_b


@numba_jit
def pair_fits(s, a, b, pattern, codes, hets, blk, n_h, n_b, allowed):
    """Can alleles ``a`` and ``b`` be the two haplotypes of sample ``s``, with one orientation
    per phase block at its heterozygous positions (from :func:`het_blocks`)?"""
    for q in range(n_b):
        allowed[q] = 3
    for i in range(n_h):
        p = hets[i]
        c0 = codes[s, p, 0]
        c1 = codes[s, p, 1]
        fwd = _accepts(pattern[a, p], c0) and _accepts(pattern[b, p], c1)
        rev = _accepts(pattern[a, p], c1) and _accepts(pattern[b, p], c0)
        bits = (1 if fwd else 0) | (2 if rev else 0)
        allowed[blk[i]] &= bits
        if allowed[blk[i]] == 0:
            return False
    return True


@numba_jit
def _sample_pairs(s, cand, score, pattern, codes, block, out_a, out_b, out_score, start, fill):
    """Count (and if ``fill``, write from ``start``) the consistent pairs a <= b of sample s."""
    n_p = codes.shape[1]
    n_a = cand.shape[1]
    hets = np.empty(n_p, dtype=np.int64)
    blk = np.empty(n_p, dtype=np.int64)
    ids = np.empty(n_p, dtype=np.int64)
    n_h, n_b = het_blocks(s, codes, block, hets, blk, ids)
    allowed = np.empty(max(n_b, 1), dtype=np.int8)
    n = 0
    for a in range(n_a):
        if not cand[s, a]:
            continue
        for b in range(a, n_a):
            if not cand[s, b]:
                continue
            if pair_fits(s, a, b, pattern, codes, hets, blk, n_h, n_b, allowed):
                if fill:
                    out_a[start + n] = a
                    out_b[start + n] = b
                    out_score[start + n] = score[s, a] + score[s, b]
                n += 1
    return n


@numba_jit(aot="(boolean[:, ::1], int32[:, ::1], uint64[:, ::1], int8[:, :, ::1], "
                "int64[:, ::1])")
def consistent_pairs(cand, score, pattern, codes, block):
    """All diplotypes (a <= b) consistent with each sample's genotypes, CSR over samples.

    Returns ``ptr`` int64 [S + 1], and per pair ``a``, ``b`` (allele indices) and ``score``.
    """
    n_s = codes.shape[0]
    counts = np.zeros(n_s, dtype=np.int64)
    dummy = np.empty(0, dtype=np.int32)
    for s in range(n_s):
        counts[s] = _sample_pairs(s, cand, score, pattern, codes, block,
                                  dummy, dummy, dummy, 0, False)
    ptr = np.zeros(n_s + 1, dtype=np.int64)
    for s in range(n_s):
        ptr[s + 1] = ptr[s] + counts[s]
    out_a = np.empty(ptr[n_s], dtype=np.int32)
    out_b = np.empty(ptr[n_s], dtype=np.int32)
    out_score = np.empty(ptr[n_s], dtype=np.int32)
    for s in range(n_s):
        _sample_pairs(s, cand, score, pattern, codes, block, out_a, out_b, out_score,
                      ptr[s], True)
    return ptr, out_a, out_b, out_score
