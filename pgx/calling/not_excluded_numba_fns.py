"""Numba kernel for the diplotypes that the observed genotypes do not exclude (arrays in, arrays
out; no I/O, no strings). Driver: :mod:`pgx.calling.not_excluded`.

Encoding as in :mod:`pgx.calling.match_numba_fns`: ``codes[s, p, k]`` allele codes (``-1``
missing matches anything, so a missing position may carry any defined allele), ``pattern[a, p]``
bitmasks, ``block[s, p]`` phase-block ids. ``cand[s, a]``: allele ``a`` fits sample ``s`` at
every observed position (``allele_candidates``, *including* alleles defined only at missing
positions).

Every consistent pair ``a <= b`` (only ``a == b`` for a haploid sample) that is not one of the
sample's reported pairs is counted under its *outcome* ``table[a, b]`` (``table1[a]`` when
haploid): an index into the distinct (phenotype, activity score) results of the gene's pairs.
"""
from __future__ import annotations

import numpy as np

from pgx._numba import numba_jit
from pgx.calling.match_numba_fns import het_blocks, pair_fits


@numba_jit(aot="(boolean[:, ::1], uint64[:, ::1], int8[:, :, ::1], int64[:, ::1], boolean[::1], "
                "int32[:, ::1], int32[::1], int32[:, :, ::1], int64, int64)")
def pair_outcomes(cand, pattern, codes, block, haploid, table, table1, reported, n_out, n_ex):
    """Per sample and outcome: how many unreported consistent pairs give it, the first
    ``n_ex`` of them and which alleles take part.

    ``reported`` int32 [S, R, 2]: pairs already reported for the sample (``-1`` pads).
    Returns ``count`` int64 [S, O], ``examples`` int32 [S, O, n_ex, 2] (``-1`` pads) and
    ``members`` bool [S, O, A].
    """
    n_s, n_p = codes.shape[0], codes.shape[1]
    n_a = cand.shape[1]
    n_r = reported.shape[1]
    count = np.zeros((n_s, n_out), dtype=np.int64)
    examples = np.full((n_s, n_out, n_ex, 2), -1, dtype=np.int32)
    members = np.zeros((n_s, n_out, n_a), dtype=np.bool_)
    hets = np.empty(n_p, dtype=np.int64)
    blk = np.empty(n_p, dtype=np.int64)
    ids = np.empty(n_p, dtype=np.int64)
    allowed = np.empty(max(n_p, 1), dtype=np.int8)
    for s in range(n_s):
        n_h, n_b = het_blocks(s, codes, block, hets, blk, ids)
        for a in range(n_a):
            if not cand[s, a]:
                continue
            for b in range(a, n_a):
                if not cand[s, b] or (haploid[s] and a != b):
                    continue
                seen = False
                for r in range(n_r):
                    ra = reported[s, r, 0]
                    rb = reported[s, r, 1]
                    if (ra == a and rb == b) or (ra == b and rb == a):
                        seen = True
                        break
                if seen or not pair_fits(s, a, b, pattern, codes, hets, blk, n_h, n_b, allowed):
                    continue
                o = table1[a] if haploid[s] else table[a, b]
                k = count[s, o]
                if k < n_ex:
                    examples[s, o, k, 0] = a
                    examples[s, o, k, 1] = b
                count[s, o] = k + 1
                members[s, o, a] = True
                members[s, o, b] = True
    return count, examples, members
