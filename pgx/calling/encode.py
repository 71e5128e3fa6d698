"""Encode VCF genotypes at a gene's defined positions into integer arrays for the matcher kernels.

For every defined position ``p`` of a gene, the *allele vocabulary* is ``[REF] + ALTs`` of the
definition (plus concrete bases of IUPAC codes used by named alleles). A sample's genotype at
``p`` becomes two codes (haplotype slots), each an index into that vocabulary, or:

* ``MISSING`` (-1): ``.`` in GT, or a partial call's empty slot; matches anything;
* ``NO_COPY`` (-2): no second copy (haploid chrX/chrM call);
* ``UNDOCUMENTED`` (-3): an allele that no definition knows; matches nothing.

Per-position status (``STATUS_*``) says why a position is unusable: no record (absent), ``./.``,
failed FILTER or FORMAT/FT, or a REF allele that disagrees with the definition.

Phase: ``block[s, p]`` is a phase-block id. Positions in one block keep their slot order when
diplotypes are built; an unphased heterozygous position is a block on its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgx.definitions.model import GeneDefinition
from pgx.errors import InputError
from pgx.io.vcf import MISSING as GT_MISSING
from pgx.io.vcf import NO_COPY as GT_NO_COPY
from pgx.io.vcf import SiteRecords

MISSING = -1
NO_COPY = -2
UNDOCUMENTED = -3

STATUS_OK = 0
STATUS_ABSENT = 1  # no VCF record at the position
STATUS_NOCALL = 2  # ./. (or all slots missing)
STATUS_FILTERED = 3  # FILTER or FORMAT/FT not PASS
STATUS_REF_MISMATCH = 4  # VCF REF disagrees with the definition (wrong build or representation)
STATUS_UNUSABLE = 5  # the genotype selects a symbolic (<DEL>), '*' or N-containing allele
STATUS_CONFLICT = 6  # records at one POS give more ALTs than copies, or clash on a phased slot
STATUS_REASON = {
    STATUS_ABSENT: "no VCF record",
    STATUS_NOCALL: "genotype is missing (./. or ./0)",
    STATUS_FILTERED: "failed FILTER/FT",
    STATUS_REF_MISMATCH: "VCF REF differs from the definition",
    STATUS_UNUSABLE: "symbolic, '*' or N allele",
    STATUS_CONFLICT: "records at the position contradict each other",
}

IUPAC = {
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}


def expand_allele(allele: str) -> tuple[str, ...]:
    """VCF allele strings an allele-definition cell stands for (IUPAC codes expanded)."""
    if len(allele) == 1 and allele in IUPAC:
        return tuple(IUPAC[allele])
    return (allele,)


def allele_vocabulary(gene: GeneDefinition) -> list[list[str]]:
    """Per defined position: REF, the definition's ALTs, then any other concrete allele used."""
    vocab = [[v.ref, *v.alts] for v in gene.variants]
    for na in gene.alleles:
        for i, cell in enumerate(na.alleles):
            if cell is None:
                continue
            for a in expand_allele(cell):
                if a not in vocab[i]:
                    vocab[i].append(a)
    return vocab


@dataclass
class GeneGenotypes:
    """Encoded genotypes of all samples at one gene's defined positions."""

    gene: GeneDefinition
    samples: list[str]
    codes: np.ndarray  # int8 [S, P, 2]
    phased: np.ndarray  # bool [S, P]
    ps: np.ndarray  # int64 [S, P]; 0 = no PS given
    status: np.ndarray  # int8 [S, P]
    undocumented: dict[tuple[int, int], str] = field(default_factory=dict)  # (s, p) -> allele
    ref_mismatches: int = 0
    ref_checked: int = 0


def _to_definition_allele(allele: str, rec_ref: str, def_ref: str) -> str | None:
    """Re-express a VCF allele on the definition's REF span (same POS); None if incompatible."""
    if rec_ref == def_ref:
        return allele
    if def_ref.startswith(rec_ref):  # record REF shorter: extend with the rest of the def REF
        return allele + def_ref[len(rec_ref):]
    if rec_ref.startswith(def_ref):  # record REF longer: the extra tail must be shared
        tail = rec_ref[len(def_ref):]
        if allele.endswith(tail) and len(allele) >= len(tail):
            return allele[: len(allele) - len(tail)]
    return None


def encode_gene(gene: GeneDefinition, samples: list[str], sample_index: dict[str, int],
                records: list[SiteRecords]) -> GeneGenotypes:
    """Encode records from one or more VCFs for ``samples`` (a sample may span several files)."""
    n_s, n_p = len(samples), len(gene.variants)
    vocab = allele_vocabulary(gene)
    lookup = [{a: i for i, a in enumerate(v)} for v in vocab]
    pos_index = {(v.chrom, v.position): i for i, v in enumerate(gene.variants)}
    codes = np.full((n_s, n_p, 2), MISSING, dtype=np.int8)
    phased = np.zeros((n_s, n_p), dtype=bool)
    ps = np.zeros((n_s, n_p), dtype=np.int64)
    status = np.full((n_s, n_p), STATUS_ABSENT, dtype=np.int8)
    source = np.full((n_s, n_p), -1, dtype=np.int32)  # which file filled (s, p)
    out = GeneGenotypes(gene, samples, codes, phased, ps, status)

    for file_no, recs in enumerate(records):
        cols_all = np.array([sample_index.get(s, -1) for s in recs.samples], dtype=np.int64)
        keep = cols_all >= 0  # samples not being called are skipped
        if not keep.any():
            continue
        cols = cols_all[keep]
        for r in range(len(recs.pos)):
            p = pos_index.get((recs.chrom[r], recs.pos[r]))
            if p is None:
                continue
            variant = gene.variants[p]
            clash = (source[cols, p] >= 0) & (source[cols, p] != file_no)
            if clash.any():
                s = samples[int(cols[np.argmax(clash)])]
                raise InputError(f"{recs.path}: sample {s!r} also has a genotype at "
                                 f"{variant.chrom}:{variant.position} in another input file; "
                                 f"give each sample's position once (merge with bcftools)")
            source[cols, p] = file_no
            out.ref_checked += 1
            strings = [recs.ref[r], *recs.alts[r]]
            mapped = [_to_definition_allele(a, recs.ref[r], variant.ref) for a in strings]
            if mapped[0] is None or mapped[0] != variant.ref:
                out.ref_mismatches += 1
                status[cols, p] = np.where(status[cols, p] == STATUS_ABSENT,
                                           STATUS_REF_MISMATCH, status[cols, p])
                continue
            # allele index in this record -> code in the gene vocabulary
            table = np.array([lookup[p].get(a, UNDOCUMENTED) for a in mapped], dtype=np.int16)
            unusable = np.array([_unusable(a) for a in strings], dtype=bool)
            gt = recs.gt[r][keep]
            rec_codes = np.where(gt >= 0, table[np.clip(gt, 0, None)], gt).astype(np.int8)
            rec_codes[gt == GT_MISSING] = MISSING
            rec_codes[gt == GT_NO_COPY] = NO_COPY
            rec_phased = recs.phased[r][keep]
            ok = np.ones(len(cols), dtype=bool) if recs.filter_ok[r] else np.zeros(len(cols), bool)
            if recs.sample_ok[r] is not None:
                ok &= recs.sample_ok[r][keep]
            called = (rec_codes[:, 0] >= 0) | (rec_codes[:, 0] == UNDOCUMENTED) | \
                     (rec_codes[:, 1] >= 0) | (rec_codes[:, 1] == UNDOCUMENTED)
            # a lone REF beside a missing allele ('./0') says nothing on an autosome
            half_ref = ((rec_codes == MISSING).any(axis=1) & (rec_codes == 0).any(axis=1)
                        & (variant.chrom != "chrX"))
            called &= ~half_ref
            bad_allele = (unusable[np.clip(gt, 0, None)] & (gt >= 0)).any(axis=1)
            rec_status = np.where(~ok, STATUS_FILTERED,
                                  np.where(bad_allele, STATUS_UNUSABLE,
                                           np.where(called, STATUS_OK, STATUS_NOCALL))
                                  ).astype(np.int8)
            # several records at one POS (split multi-allelics): any unusable record makes the
            # position unknown; usable ones are combined, contradictions make it unknown too
            cur = status[cols, p]
            first = (cur == STATUS_ABSENT) | (cur == STATUS_REF_MISMATCH)
            both_ok = (cur == STATUS_OK) & (rec_status == STATUS_OK)
            merged, conflict = _merge_same_position(codes[cols, p, :], rec_codes, both_ok,
                                                    phased[cols, p], rec_phased)
            codes[cols, p, :] = np.where(first[:, None], rec_codes, merged)
            status[cols, p] = np.where(
                first, rec_status,
                np.where(cur != STATUS_OK, cur,
                         np.where(rec_status != STATUS_OK, rec_status,
                                  np.where(conflict, STATUS_CONFLICT, STATUS_OK)))).astype(np.int8)
            phased[cols, p] = np.where(first, rec_phased, phased[cols, p] & rec_phased)
            if recs.ps[r] is not None:
                ps[cols, p] = np.where(first, recs.ps[r][keep], ps[cols, p])
            undoc = np.nonzero((rec_codes == UNDOCUMENTED).any(axis=1) & ok)[0]
            for i in undoc:
                k = int(gt[i][rec_codes[i] == UNDOCUMENTED][0])
                out.undocumented[(int(cols[i]), p)] = mapped[k] if mapped[k] else strings[k]
    # positions that are not usable are fully missing
    bad = status != STATUS_OK
    codes[bad] = MISSING
    return out


def _unusable(allele: str) -> bool:
    return allele.startswith("<") or "*" in allele or "N" in allele.upper()


def _merge_same_position(current: np.ndarray, new: np.ndarray, both_ok: np.ndarray,
                         phased_cur: np.ndarray, phased_new: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Combine a sample's genotypes from two records at one POS (split multi-allelics).

    Unphased: the non-REF alleles of both records are the sample's alleles (``0/1`` + ``0/1``
    of a split ``1/2`` is ALT1/ALT2). Phased: slot by slot, a non-REF allele fills a REF slot.
    More non-REF alleles than copies, or two ALTs in one phased slot, is a contradiction.
    Returns ``(merged, conflict)``; rows not in ``both_ok`` are returned unchanged.
    """
    merged = current.copy()
    conflict = np.zeros(len(new), dtype=bool)
    informative = both_ok & ((new != 0) & (new != NO_COPY)).any(axis=1)
    for i in np.nonzero(informative)[0]:
        cur, nw = current[i], new[i]
        copies = 1 if NO_COPY in cur or NO_COPY in nw else 2
        if phased_cur[i] and phased_new[i] and copies == 2:
            out = cur.copy()
            for k in range(2):
                if nw[k] in (0, MISSING):
                    continue
                if out[k] in (0, MISSING):
                    out[k] = nw[k]
                elif out[k] != nw[k]:
                    conflict[i] = True
            merged[i] = out
            continue
        alts = [int(c) for c in (*cur, *nw) if c not in (0, NO_COPY, MISSING)]
        if len(alts) > copies:
            conflict[i] = True
            continue
        fill = alts + [0] * (copies - len(alts))
        merged[i] = fill if copies == 2 else [fill[0], NO_COPY]
    return merged, conflict
