"""Record blocks and genotypes for haplotype-aware consequences (:mod:`.csq_haplo`).

* :func:`block_ends` / :func:`record_reach` / :func:`block_cuts`: where a contig's records may
  be cut into blocks that no transcript spans (a block holds every record of the transcripts
  it touches, so its haplotypes are complete);
* :func:`effective_alleles`: the allele each haplotype carries at a record after bcftools'
  ``--phase`` rule for unphased heterozygous genotypes.

Genotypes: int8 ``[S, P]`` per record (allele index; -1 missing, -2 no such copy), haplotype
``2*s + j`` is copy ``j`` of sample ``s``; positions are 1-based VCF POS, reaches 0-based.
"""
from __future__ import annotations

import numpy as np

from pgx.errors import InputError


def record_reach(caller, chrom: str, pos, rlen) -> tuple[np.ndarray, np.ndarray]:
    """0-based start of each record and how far it reaches: the furthest end (+8) of the
    transcripts up to its last candidate (a safe upper bound), or its own end."""
    beg = np.asarray(pos, np.int64) - 1
    end = beg + np.asarray(rlen, np.int64)
    lo, hi, kl = caller.locate(chrom, beg, end)
    reach = end.copy()
    got = caller._contig(chrom)
    if got is not None:
        off, _, _, maxend, _ = got
        has = (kl > 0) & (hi > off)
        reach[has] = np.maximum(reach[has], maxend[hi[has] - 1 - off] + 8)
    return beg, reach


def block_cuts(beg: np.ndarray, reach: np.ndarray, before: int) -> tuple[list[int], int]:
    """Indices where a new block starts (a record starting past everything before it reaches;
    ``before``: the reach of the records preceding these, -1 if none) and the final reach."""
    if not len(beg):
        return [], before
    run = np.maximum.accumulate(np.maximum(reach, before))
    prior = np.concatenate([[before], run[:-1]])
    cuts = np.flatnonzero(beg > prior)
    return cuts.tolist(), int(run[-1])


def block_ends(caller, chrom: str, pos, rlen) -> list[int]:
    """End indices (exclusive) of blocks of records (sorted by ``pos``, 1-based) such that no
    transcript overlaps records of two blocks."""
    beg, reach = record_reach(caller, chrom, pos, rlen)
    cuts, _ = block_cuts(beg, reach, -1)
    return [c for c in cuts if c > 0] + [len(beg)]


def effective_alleles(gt: np.ndarray, phased: np.ndarray | None, phase: str, where: str,
                      sample_names=None) -> tuple[np.ndarray, int]:
    """Per haplotype (``2*s + j``) the allele used to build haplotypes at one record: int16
    ``[2*S]`` (0 = none); and the record's ploidy (bcftools' ``ngts``)."""
    S, P = gt.shape
    present = gt != -2
    ngts = int(present.sum(axis=1).max(initial=0)) if S else 0
    if ngts not in (1, 2):
        return np.zeros(2 * S, np.int16), ngts
    g = np.zeros((S, 2), np.int16)
    g[:, :min(P, 2)] = gt[:, :2]
    g[g < 0] = -1  # missing and vector end alike: no allele on that copy
    first_missing = gt[:, 0] == -1
    if ngts == 2 and P >= 2:
        het = (g[:, 1] >= 0) & (g[:, 0] != g[:, 1])
        if phase == "m":
            m = het & (g[:, 0] == 0)
            g[m, 0] = g[m, 1]
        unph = het & ~(phased if phased is not None else np.zeros(S, bool))
        if unph.any():
            if phase == "r":
                s = int(np.flatnonzero(unph)[0])
                name = sample_names[s] if sample_names is not None else f"#{s + 1}"
                raise InputError(f"{where}: unphased heterozygous genotype of sample {name}; "
                                 f"haplotype-aware consequences need phased genotypes (0|1): "
                                 f"phase the VCF, or choose phase 'a' (take as phased), 'm' "
                                 f"(merge), 'R' (non-reference) or 's' (skip)")
            if phase == "s":
                g[unph] = -1
            elif phase == "R":
                a = unph & (g[:, 0] == 0)
                g[a, 0] = g[a, 1]
                b = unph & (g[:, 1] == 0)
                g[b, 1] = g[b, 0]
    g[first_missing] = -1
    out = g.reshape(-1)
    out[out < 0] = 0
    return out, ngts
