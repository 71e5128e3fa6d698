"""Star-allele matching for one gene over all samples (driver around the numba kernels).

Semantics (PharmCAT-compatible):

* A named allele matches a haplotype when every position it defines carries an allele its
  definition accepts, and every other position carries the reference allele. Missing positions
  are *unknown*: they are dropped from every definition for that sample (so they neither confirm
  nor exclude an allele) and they are listed in the result.
* A diplotype ``a/b`` is consistent when the sample's two haplotypes can be assigned to ``a``
  and ``b`` with one orientation per phase block (unphased heterozygous positions are blocks of
  their own).
* Score of a diplotype = number of observed positions its two alleles define; the highest
  score wins and ties are all reported ("more specific alleles win").
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from pgx.calling import match_numba_fns as kernels
from pgx.calling import reference_matcher as ref
from pgx.calling.encode import (
    MISSING,
    NO_COPY,
    STATUS_OK,
    STATUS_REASON,
    UNDOCUMENTED,
    IUPAC,
    GeneGenotypes,
    allele_vocabulary,
    expand_allele,
)
from pgx.calling.model import CALLED, NOT_CALLED, PARTIAL, Diplotype, GeneCall
from pgx.calling.not_excluded import fill_not_excluded
from pgx.definitions.model import GeneDefinition

UNPHASED_PS = np.int64(1) << np.int64(40)  # block id for '|' genotypes without a PS field


@dataclass
class AllelePatterns:
    """A gene's named alleles as bitmask patterns over per-position allele codes."""

    names: list[str]
    pattern: np.ndarray  # uint64 [A, P]
    def_ptr: np.ndarray  # int64 [A + 1]
    def_pos: np.ndarray  # int64 [nnz]
    rank: np.ndarray  # position of each allele in natural name order (pairs are written a <= b)


def build_patterns(gene: GeneDefinition) -> AllelePatterns:
    vocab = allele_vocabulary(gene)
    if max(len(v) for v in vocab) > 64:
        raise ValueError(f"{gene.gene}: more than 64 alleles at one position")
    alleles = [a for a in gene.alleles if a.name not in gene.ignored_alleles]
    n_a, n_p = len(alleles), len(gene.variants)
    pattern = np.ones((n_a, n_p), dtype=np.uint64)  # undefined position: reference (code 0)
    def_ptr = np.zeros(n_a + 1, dtype=np.int64)
    def_pos = []
    for a, na in enumerate(alleles):
        for p, cell in enumerate(na.alleles):
            if cell is None:
                continue
            mask = 0
            for allele in expand_allele(cell):
                mask |= 1 << vocab[p].index(allele)
            pattern[a, p] = np.uint64(mask)
            def_pos.append(p)
        def_ptr[a + 1] = len(def_pos)
    names = [a.name for a in alleles]
    order = sorted(range(n_a), key=lambda i: ref.name_key(names[i]))
    rank = np.empty(n_a, dtype=np.int64)
    rank[order] = np.arange(n_a)
    return AllelePatterns(names, pattern, def_ptr, np.asarray(def_pos, dtype=np.int64), rank)


def phase_blocks(gg: GeneGenotypes) -> np.ndarray:
    """Phase-block id per (sample, position): PS value, one shared id for '|' without PS,
    or a unique negative id for an unphased position."""
    n_s, n_p = gg.phased.shape
    unphased_ids = -np.arange(1, n_p + 1, dtype=np.int64)[None, :].repeat(n_s, axis=0)
    ps = np.where(gg.ps > 0, gg.ps, UNPHASED_PS)
    return np.where(gg.phased, ps, unphased_ids)


def variant_label(gene: GeneDefinition, p: int) -> str:
    v = gene.variants[p]
    return f"{v.chrom}:{v.position}" + (f" ({v.rsid})" if v.rsid else "")


def prepare_codes(gg: GeneGenotypes) -> tuple[np.ndarray, np.ndarray, list[list[str]],
                                               list[list[str]]]:
    """Resolve haploid calls and undocumented alleles.

    Returns ``(codes, haploid, blockers, notes)``: ``blockers[s]`` lists reasons that stop
    sample ``s`` being called for this gene, ``notes[s]`` warnings for its result.
    """
    gene = gg.gene
    codes = gg.codes.copy()
    n_s = codes.shape[0]
    blockers: list[list[str]] = [[] for _ in range(n_s)]
    notes: list[list[str]] = [[] for _ in range(n_s)]
    no_copy = codes[:, :, 1] == NO_COPY
    called = codes[:, :, 0] != MISSING
    haploid = (no_copy & called).any(axis=1)
    codes[:, :, 1] = np.where(no_copy, codes[:, :, 0], codes[:, :, 1])
    if haploid.any() and not gene.haploid_ok:
        for s in np.nonzero(haploid)[0]:
            blockers[s].append(f"haploid genotypes on {gene.chrom}, where two copies are expected")
    for (s, p), allele in sorted(gg.undocumented.items()):
        label = variant_label(gene, p)
        if gene.undocumented_as_reference:
            codes[s, p][codes[s, p] == UNDOCUMENTED] = 0
            notes[s].append(f"undocumented allele {allele} at {label} was read as reference "
                            f"(policy for {gene.gene})")
        else:
            blockers[s].append(f"undocumented allele {allele} at {label}: no defined allele "
                               f"explains it")
    return codes, haploid, blockers, notes


def _effectively_phased(codes: np.ndarray, phased: np.ndarray, ps: np.ndarray) -> np.ndarray:
    """Per sample: do the genotypes allow at most two strands (no phase decision needed)?"""
    het = (codes[:, :, 0] != codes[:, :, 1]) & ~((codes[:, :, 0] == MISSING) & (codes[:, :, 1] == MISSING))
    unphased_branches = (het & ~phased).sum(axis=1)
    glued = (het & phased & (ps == 0)).any(axis=1)
    ps_branches = np.zeros(codes.shape[0], dtype=np.int64)
    for s in np.nonzero((het & phased & (ps > 0)).any(axis=1))[0]:
        ps_branches[s] = len(np.unique(ps[s][het[s] & phased[s] & (ps[s] > 0)]))
    k = unphased_branches + ps_branches
    return (k == 0) | ((k == 1) & ~glued)


def _wobble_may_reorder(gene: GeneDefinition, ptr, pa, pb, pscore) -> np.ndarray:
    """Samples where IUPAC-coded positions satisfied only by REF (a one-point score penalty
    each, see reference_matcher) could change which diplotypes score highest."""
    penalty = np.array([sum(len(c) == 1 and c in IUPAC for c in a.alleles if c)
                        for a in gene.alleles if a.name not in gene.ignored_alleles])
    out = np.zeros(len(ptr) - 1, dtype=bool)
    if not penalty.any():
        return out
    for s in range(len(out)):
        lo, hi = ptr[s], ptr[s + 1]
        if hi - lo < 2:
            continue
        sc, pen = pscore[lo:hi], penalty[pa[lo:hi]] + penalty[pb[lo:hi]]
        top = sc.max()
        is_top = sc == top
        worst = pen[is_top].max()  # penalties only lower scores: the top set can change only
        if worst == 0:  # if a top pair loses points and ties or falls below another pair
            continue
        out[s] = bool(is_top.sum() > 1 or (sc[~is_top] >= top - worst).any())
    return out


def sample_alleles(gg: GeneGenotypes, vocab: list[list[str]], s: int) -> dict[int, ref.SampleAllele]:
    """One sample's observed genotypes as reference-matcher records, keyed by position."""
    gene = gg.gene
    out = {}
    for p in np.nonzero(gg.status[s] == STATUS_OK)[0]:
        c = gg.codes[s, p]
        pos = gene.variants[p].position

        def raw(code, p=p):
            if code >= 0:
                return vocab[p][code]
            if code == UNDOCUMENTED:
                return gg.undocumented.get((s, int(p)), "?")
            return None

        a1 = raw(int(c[0]))
        a2 = None if c[1] == NO_COPY else raw(int(c[1]))
        ref_allele = vocab[p][0]

        def computed(code, allele):
            if code == UNDOCUMENTED and gene.undocumented_as_reference:
                return ref_allele
            return allele if allele is not None else "."

        c1 = computed(int(c[0]), a1)
        c2 = None if c[1] == NO_COPY else computed(int(c[1]), a2)
        called = {int(x) for x in c if x >= 0 or x == UNDOCUMENTED}
        phased = bool(gg.phased[s, p]) or c[1] == NO_COPY
        ps = int(gg.ps[s, p]) if phased and gg.ps[s, p] > 0 else None
        eff = len(called) <= 1 if (not phased or ps is not None) else True
        has_variant = any(int(x) != 0 for x in c if x != NO_COPY)
        out[pos] = ref.SampleAllele(pos, a1, a2, c1, c2, phased, eff, ps, has_variant)
    return out


def _from_reference(call: GeneCall, res: ref.MatchResult) -> None:
    call.diplotypes = [Diplotype(d, next((sc for n, sc in res.candidates if n == d), 0))
                       for d in res.diplotypes]
    call.candidates = [Diplotype(n, sc) for n, sc in res.candidates]
    call.haplotypes = res.haplotypes
    call.inferred = res.inferred
    call.warnings.extend(res.warnings)
    if res.reason and not call.diplotypes:
        call.reason = res.reason


def _pattern_keys(gg: GeneGenotypes, codes: np.ndarray, haploid: np.ndarray,
                  blockers: list[list[str]]) -> list[bytes]:
    """A key per sample such that samples with equal keys get the same call (cohorts repeat
    genotype patterns: each distinct pattern is matched once). Phase-set ids are renumbered
    per sample, since only their equality matters."""
    ps = gg.ps
    if (ps > 0).any():
        ps = ps.copy()
        for s in np.nonzero((ps > 0).any(axis=1))[0]:
            ps[s] = np.unique(ps[s], return_inverse=True)[1]
    rows = np.concatenate([codes.reshape(len(codes), -1).view(np.uint8),
                           gg.phased.view(np.uint8), gg.status.view(np.uint8),
                           ps.astype(np.int64).view(np.uint8), haploid.view(np.uint8)[:, None]],
                          axis=1)
    keys = [r.tobytes() for r in rows]
    has_undocumented = {s for s, _ in gg.undocumented}
    for s in range(len(keys)):
        if blockers[s] or s in has_undocumented:
            keys[s] += f"\0{s}".encode()  # sample-specific detail: never shared
    return keys


def match_gene(gg: GeneGenotypes, source: str, all_candidates: bool = False) -> list[GeneCall]:
    """Call ``gg.gene`` for every sample in ``gg``."""
    codes, haploid, blockers, notes = prepare_codes(gg)
    keys = _pattern_keys(gg, codes, haploid, blockers)
    first: dict[bytes, int] = {}
    for s, k in enumerate(keys):
        first.setdefault(k, s)
    reps = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    rep_calls = _match_samples(gg, reps, codes[reps], haploid[reps], blockers, notes, source,
                               all_candidates)
    by_key = dict(zip(first, rep_calls))
    calls = []
    for s, sample in enumerate(gg.samples):
        c = by_key[keys[s]]
        calls.append(c if c.sample == sample else copy.copy(c))
        calls[-1].sample = sample
    return calls


def _match_samples(gg: GeneGenotypes, rows: np.ndarray, codes: np.ndarray, haploid: np.ndarray,
                   blockers: list[list[str]], notes: list[list[str]], source: str,
                   all_candidates: bool) -> list[GeneCall]:
    """Calls for samples ``rows`` of ``gg`` (``codes``/``haploid`` already restricted to them)."""
    gene = gg.gene
    pats = build_patterns(gene)
    vocab = allele_vocabulary(gene)
    status, phased, ps = gg.status[rows], gg.phased[rows], gg.ps[rows]
    block = phase_blocks(gg)[rows]
    cand, score = kernels.allele_candidates(pats.def_ptr, pats.def_pos, pats.pattern, codes)
    cand &= score > 0  # an allele defined only at missing positions cannot be matched
    ptr, pa, pb, pscore = kernels.consistent_pairs(cand, score, pats.pattern, codes, block)

    # samples the kernels leave to the reference matcher
    ok = status == STATUS_OK
    raw = gg.codes[rows]
    partial = ok & ((codes[:, :, 0] == MISSING) | (codes[:, :, 1] == MISSING))
    needs_ref = partial.any(axis=1)
    n_pairs = np.diff(ptr)
    eff_phased = _effectively_phased(codes, phased, ps)
    if gene.lowest_function:
        # exact diplotypes of effectively phased data are the kernels' pairs; everything else
        # (unphased, phase sets, cis combinations, split-haplotype variants) needs the reference
        needs_ref |= ~eff_phased | (n_pairs == 0)
        sh = gene.split_haplotype
        if sh is not None:
            cols = [i for i, v in enumerate(gene.variants)
                    if v.position in (sh.tag_position, sh.marker_position)]
            needs_ref |= (ok[:, cols] & (raw[:, cols, :] != 0).any(axis=2)).any(axis=1)
    if gene.tie_priorities:
        needs_ref |= ~eff_phased & (n_pairs > 1)
    if not all_candidates:
        needs_ref |= _wobble_may_reorder(gene, ptr, pa, pb, pscore)
    view = ref.GeneView(gene) if needs_ref.any() else None
    activity = {a.name: a.activity for a in gene.alleles if a.activity is not None}
    risk = {a.name for a in gene.alleles if a.function and "malignant" in a.function.lower()}

    required = {i for i, v in enumerate(gene.variants) if v.position in gene.required_positions}
    labels = [variant_label(gene, p) for p in range(len(gene.variants))]
    calls = []
    for i, s in enumerate(rows):
        status_row = status[i]
        missing = np.nonzero(status_row != STATUS_OK)[0]
        call = GeneCall(sample=gg.samples[s], gene=gene.gene, status=NOT_CALLED, source=source)
        call.missing_positions = [labels[p] for p in missing]
        call.warnings.extend(notes[s])
        reasons = list(blockers[s])
        if len(missing) == len(gene.variants):
            reasons.append(f"none of the {len(gene.variants)} defined positions is in the VCF")
        missing_required = [labels[p] for p in missing if p in required]
        if missing_required:
            reasons.append("required position(s) missing: " + ", ".join(missing_required))
        if reasons:
            call.reason = "; ".join(reasons)
            calls.append(call)
            continue
        if needs_ref[i]:
            observed = sample_alleles(gg, vocab, int(s))
            if gene.lowest_function:
                res = ref.call_lowest_function(view, observed, activity, risk)
            else:
                res = ref.call_standard(view, observed, top_only=not all_candidates)
            _from_reference(call, res)
        else:
            lo, hi = ptr[i], ptr[i + 1]
            pairs = [Diplotype(_names(pats, int(pa[k]), int(pb[k]), haploid[i]), int(pscore[k]))
                     for k in range(lo, hi) if not haploid[i] or pa[k] == pb[k]]
            pairs.sort(key=lambda d: -d.score)
            call.candidates = pairs
            top = [d for d in pairs if d.score == pairs[0].score] if pairs else []
            call.diplotypes = pairs if all_candidates or gene.lowest_function else top
            if not pairs:
                call.reason = "no combination of defined alleles explains the genotypes"
        _rename_sub_alleles(gene, call)
        if call.diplotypes:
            call.status = PARTIAL if len(missing) else CALLED
            if len(missing):
                why = sorted({STATUS_REASON[int(status_row[p])] for p in missing})
                call.reason = (f"{len(missing)} of {len(gene.variants)} defined positions missing "
                               f"({', '.join(why)}); they were not assumed reference")
                _note_split_haplotype(gene, call, status_row)
        calls.append(call)
    fill_not_excluded(gene, pats, codes, status, block, haploid, calls)
    return calls


def _note_split_haplotype(gene: GeneDefinition, call: GeneCall, status_row: np.ndarray) -> None:
    """A split haplotype (DPYD HapB3) named from its tag while the marker was not observed is
    an inference: say so (its not-excluded alternatives include the tag alone)."""
    sh = gene.split_haplotype
    if sh is None or not any(sh.allele in d.alleles for d in call.diplotypes):
        return
    p_marker = next(i for i, v in enumerate(gene.variants) if v.position == sh.marker_position)
    if status_row[p_marker] == STATUS_OK:
        return
    tag = next(v for v in gene.variants if v.position == sh.tag_position)
    marker = gene.variants[p_marker]

    def short(v):
        return (v.label or v.key).split(" (")[0]

    note = (f"{sh.allele} was inferred from its tag {short(tag)} alone: the causal "
            f"{short(marker)} ({variant_label(gene, p_marker)}) was not observed, and without "
            f"it the tag is a normal-function haplotype")
    call.inferred = "; ".join(x for x in (call.inferred, note) if x)


def _rename_sub_alleles(gene: GeneDefinition, call: GeneCall) -> None:
    """Report sub-alleles under their published name (SLCO1B1 *45.001 -> *45)."""
    if not gene.allele_aliases:
        return
    seen, out = set(), []
    for d in call.diplotypes:
        d.alleles = tuple(gene.allele_aliases.get(a, a) for a in d.alleles)
        if d.alleles not in seen:
            seen.add(d.alleles)
            out.append(d)
    call.diplotypes = out


def _names(pats: AllelePatterns, a: int, b: int, haploid: bool) -> tuple[str, ...]:
    if haploid and a == b:
        return (pats.names[a],)
    if pats.rank[b] < pats.rank[a]:
        a, b = b, a
    return (pats.names[a], pats.names[b])
