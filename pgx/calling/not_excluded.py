"""Diplotypes the observed genotypes do not exclude (the calls' ``not_excluded``).

The reported call is PharmCAT's: the best-scoring diplotypes among alleles with at least one
observed defined position. It can hide a different function. A CYP2C9 ``*1/*3`` patient with no
record at rs1057910 is reported ``*1/*1``, since ``*3`` is defined only there; two unphased
heterozygous TPMT variants are reported ``*1/*3A`` although ``*3B/*3C`` fits equally well. Here
every missing position (absent, ``./.``, filtered) may carry any defined allele, alleles defined
only at missing positions included, and every diplotype that stays consistent with the observed
genotypes is enumerated (kernel: :mod:`pgx.calling.not_excluded_numba_fns`) and grouped by
phenotype (:func:`pgx.phenotype.assign.outcome_table`). Each group of a call's ``not_excluded``:

* ``phenotype``, ``activity_scores`` and ``lookup_keys`` (the guideline lookup values);
* ``count`` diplotypes, and up to :data:`N_EXAMPLES` ``examples``;
* ``positions``: the missing positions that would tell the group apart from the reported call,
  each with the alleles of the group or the call that carry a variant there (``chrom:pos``,
  1-based VCF POS, and rsID); at most :data:`N_POSITIONS`, those of the alleles listed first
  in the definitions (the common, low-numbered ones), the rest counted in
  ``more_positions`` (every missing position is in the call's ``missing_positions``);
* ``resolved_by``: ``"positions"`` (genotype them), ``"phase"`` (the genotypes fit both; phased
  data would decide) or ``"definitions"`` (the definitions cannot tell them apart).

DPYD HapB3 is reported from its exonic tag c.1236G>A when the causal intronic c.1129-5923C>G is
not observed; the tag alone (a normal-function haplotype) is then a possibility too, as the
extra allele ``<tag> alone``. Samples with identical genotype patterns are worked out once (the
matcher passes one row per distinct pattern).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgx.calling import not_excluded_numba_fns as kernels
from pgx.calling.encode import STATUS_OK
from pgx.calling.match_numba_fns import allele_candidates
from pgx.calling.model import GeneCall
from pgx.calling.reference_matcher import name_key
from pgx.definitions.model import GeneDefinition
from pgx.phenotype.assign import outcome_lookup, outcome_table

N_EXAMPLES = 3  # example diplotypes per group
N_POSITIONS = 6  # positions listed per group (the rest are counted)
N_POSITION_ALLELES = 6  # allele names listed per position (the rest are counted)


@dataclass
class PossibilityPatterns:
    """The matcher's allele patterns plus the extra possibilities (HapB3's tag alone)."""

    names: list[str]  # as reported (sub-alleles under their published name)
    pattern: np.ndarray  # uint64 [A, P]
    def_ptr: np.ndarray
    def_pos: np.ndarray
    variant_at: np.ndarray  # bool [A, P]: the allele carries a non-REF allele at p
    outcomes: list[tuple[str, str]]  # (phenotype, activity score)
    pair: np.ndarray  # int32 [A, A] outcome index
    single: np.ndarray  # int32 [A]
    by_name: dict[str, list[int]]  # reported name -> pattern rows
    rank: np.ndarray  # int64 [A]: natural order of the names


_CACHE: dict[int, tuple[GeneDefinition, PossibilityPatterns]] = {}


def possibility_patterns(gene: GeneDefinition, pats) -> PossibilityPatterns:
    """The possibility patterns of ``gene`` (built once per process; ``pats`` are the
    matcher's :class:`~pgx.calling.matcher.AllelePatterns` of the same gene)."""
    hit = _CACHE.get(id(gene))
    if hit is None or hit[0] is not gene:
        hit = _CACHE[id(gene)] = (gene, _build(gene, pats))
    return hit[1]


def _build(gene: GeneDefinition, pats) -> PossibilityPatterns:
    alleles = [a for a in gene.alleles if a.name not in gene.ignored_alleles]
    names = [gene.allele_aliases.get(n, n) for n in pats.names]
    for_phenotype = list(names)
    pattern, def_ptr, def_pos = pats.pattern, pats.def_ptr, pats.def_pos
    variant_at = np.array([[c is not None and c != v.ref for c, v in zip(a.alleles, gene.variants)]
                           for a in alleles], dtype=bool).reshape(len(alleles), len(gene.variants))
    sh = gene.split_haplotype
    if sh is not None and sh.allele in pats.names:
        p_tag = next(i for i, v in enumerate(gene.variants) if v.position == sh.tag_position)
        row = pats.names.index(sh.allele)
        extra = np.ones((1, pattern.shape[1]), dtype=np.uint64)  # REF everywhere ...
        extra[0, p_tag] = pattern[row, p_tag]  # ... but the tag's variant
        pattern = np.vstack([pattern, extra])
        def_pos = np.append(def_pos, p_tag)
        def_ptr = np.append(def_ptr, def_ptr[-1] + 1)
        tag = gene.variants[p_tag]
        names.append(f"{(tag.label or tag.rsid or tag.key).split(' (')[0]} alone")
        for_phenotype.append(gene.reference_allele.name)  # the tag SNP alone: normal function
        tag_row = np.zeros((1, variant_at.shape[1]), dtype=bool)
        tag_row[0, p_tag] = True
        variant_at = np.vstack([variant_at, tag_row])
    outcomes, pair, single = outcome_table(gene, for_phenotype)
    by_name: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        by_name.setdefault(n, []).append(i)
    rank = np.empty(len(names), dtype=np.int64)
    rank[sorted(range(len(names)), key=lambda i: name_key(names[i]))] = np.arange(len(names))
    return PossibilityPatterns(names, np.ascontiguousarray(pattern), def_ptr.astype(np.int64),
                               def_pos.astype(np.int64), variant_at, outcomes, pair, single,
                               by_name, rank)


def _reported_pairs(pp: PossibilityPatterns, calls: list[GeneCall]) -> np.ndarray:
    """int32 [S, R, 2]: each call's reported diplotypes as pattern rows (``-1`` pads)."""
    rows = []
    for c in calls:
        pairs = []
        for d in c.diplotypes:
            names = d.alleles if len(d.alleles) == 2 else (d.alleles[0], d.alleles[0])
            for a in pp.by_name.get(names[0], []):
                for b in pp.by_name.get(names[1], []):
                    pairs.append((a, b))
        rows.append(pairs)
    width = max((len(p) for p in rows), default=0) or 1
    out = np.full((len(calls), width, 2), -1, dtype=np.int32)
    for i, pairs in enumerate(rows):
        if pairs:
            out[i, : len(pairs)] = pairs
    return out


def fill_not_excluded(gene: GeneDefinition, pats, codes: np.ndarray, status: np.ndarray,
                      block: np.ndarray, haploid: np.ndarray, calls: list[GeneCall]) -> None:
    """Set ``not_excluded`` of every call that has a diplotype (one call per row of
    ``codes``/``status``/``block``/``haploid``: the matcher's distinct patterns)."""
    todo = [i for i, c in enumerate(calls) if c.diplotypes]
    if not todo:
        return
    pp = possibility_patterns(gene, pats)
    sel = np.asarray(todo, dtype=np.int64)
    codes_s = np.ascontiguousarray(codes[sel])
    cand, _ = allele_candidates(pp.def_ptr, pp.def_pos, pp.pattern, codes_s)
    reported = _reported_pairs(pp, [calls[i] for i in todo])
    count, examples, members = kernels.pair_outcomes(
        cand, pp.pattern, codes_s, np.ascontiguousarray(block[sel]),
        np.ascontiguousarray(haploid[sel]), pp.pair, pp.single, reported, len(pp.outcomes),
        N_EXAMPLES)
    unphased_hets = ((codes_s[:, :, 0] != codes_s[:, :, 1])
                     & (block[sel] < 0)).sum(axis=1)
    for k, i in enumerate(todo):
        hit = np.nonzero(count[k])[0]
        if len(hit):
            missing = np.nonzero(status[i] != STATUS_OK)[0]
            in_call = np.zeros(len(pp.names), dtype=bool)
            in_call[reported[k][reported[k] >= 0]] = True
            calls[i].not_excluded = _groups(gene, pp, hit, count[k], examples[k], members[k],
                                            in_call, missing, int(unphased_hets[k]),
                                            bool(haploid[i]))


def _diplotype_name(pp: PossibilityPatterns, a: int, b: int, haploid: bool) -> str:
    if haploid:
        return pp.names[a]
    return "/".join(sorted((pp.names[a], pp.names[b]), key=name_key))


def _groups(gene: GeneDefinition, pp: PossibilityPatterns, hit, count, examples, members,
            in_call, missing, unphased_hets: int, haploid: bool) -> list[dict]:
    """The groups of one call; a position tells a group apart from the call when an allele
    of either carries a variant there."""
    by_pheno: dict[str, list[int]] = {}
    for o in hit:
        by_pheno.setdefault(pp.outcomes[o][0], []).append(int(o))
    out = []
    for pheno, outs in sorted(by_pheno.items()):
        scores = sorted({pp.outcomes[o][1] for o in outs if pp.outcomes[o][1]}, key=float)
        lookups = list(dict.fromkeys(outcome_lookup(gene, pheno, pp.outcomes[o][1]) for o in outs))
        ex = []
        for o in outs:
            for a, b in examples[o]:
                if a >= 0 and len(ex) < N_EXAMPLES:
                    ex.append(_diplotype_name(pp, int(a), int(b), haploid))
        alleles = in_call.copy()
        for o in outs:
            alleles |= members[o]
        carry = pp.variant_at[:, missing] & alleles[:, None]  # [A, missing]
        informative = np.nonzero(carry.any(axis=0))[0]
        # the positions of the first-defined alleles first (the tables list the common,
        # low-numbered alleles first), then genomic order
        first = np.argmax(carry[:, informative], axis=0)
        informative = informative[np.lexsort((informative, first))]
        positions = []
        for j in sorted(informative[:N_POSITIONS]):
            rows = np.nonzero(carry[:, j])[0]
            names = list(dict.fromkeys(pp.names[a] for a in rows[np.argsort(pp.rank[rows])]))
            v = gene.variants[missing[j]]
            positions.append({"position": v.key, "rsid": v.rsid,
                              "alleles": names[:N_POSITION_ALLELES],
                              "more_alleles": max(0, len(names) - N_POSITION_ALLELES)})
        out.append({
            "phenotype": pheno,
            "activity_scores": scores,
            "lookup_keys": [x for x in lookups if x],
            "count": int(sum(count[o] for o in outs)),
            "examples": ex,
            "positions": positions,
            "more_positions": max(0, len(informative) - N_POSITIONS),
            "resolved_by": "positions" if positions else "phase" if unphased_hets >= 2
            else "definitions",
        })
    return out
