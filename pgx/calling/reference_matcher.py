"""Per-sample star-allele matcher in plain Python (PharmCAT-compatible semantics).

This is the readable reference of the matching rules. It calls the lowest-function genes (DPYD,
RYR1: combination haplotypes ``[a + b]`` on one strand, the DPYD HapB3 split haplotype and the
lowest-function inference for unphased data), and the cases the numba kernels leave to it
(partial genotypes, tie-priority mode). The kernels in ``match_numba_fns`` are tested against it.

Model: a sample's *strands* are every haplotype its genotypes allow (unphased heterozygous
positions branch; ``|`` genotypes without PS keep their order; each PS block branches once).
A named allele matches a strand when it agrees at every observed position (positions it does not
define must be REF, unless ``assume_reference`` is off, when they are "don't care"). Missing
positions are removed from every definition for that sample (never assumed reference); an
allele defined only at missing positions is dropped.

Positions are 1-based GRCh38 VCF POS. Allele values are VCF allele strings; ``"."`` marks the
empty slot of a partial genotype (``1|.``).
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from pgx.calling.encode import IUPAC
from pgx.definitions.model import GeneDefinition

# ---------------------------------------------------------------- allele-name ordering


def _cmp(a, b) -> int:
    if a is None and b is None:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    return (a > b) - (a < b)


_STAR = re.compile(r"(.*)(\d+)(.*)")
_HGVS = re.compile(r"(?:.*:)?[cgnmopr]\.(\d+).*")


def _common_name_cmp(n1: str, n2: str) -> int:
    if n1 == n2:
        return 0
    if n1 in ("Any", "All") or n2 in ("Other", "Unknown"):
        return -1
    if n2 in ("Any", "All") or n1 in ("Other", "Unknown"):
        return 1
    m1, m2 = _STAR.fullmatch(n1), _STAR.fullmatch(n2)
    if m1 and m2:
        r = _cmp(m1.group(1).strip() or None, m2.group(1).strip() or None)
        if r:
            return r
        r = _cmp(int(m1.group(2)), int(m2.group(2)))
        if r:
            return r
        return _cmp(m1.group(3).strip() or None, m2.group(3).strip() or None)
    return _cmp(n1, n2)


def is_combination_name(n: str) -> bool:
    return n.startswith("[") and " + " in n and n.endswith("]")


def name_cmp(n1: str, n2: str) -> int:
    """Natural order of allele names: star numbers numerically, HGVS names by position,
    combinations ``[a + b]`` after single alleles."""
    if n1 == n2:
        return 0
    c1, c2 = is_combination_name(n1), is_combination_name(n2)
    if c1 != c2:
        return 1 if c1 else -1
    if c1:
        h1 = [x.strip() for x in n1[1:-1].split(" + ")]
        h2 = [x.strip() for x in n2[1:-1].split(" + ")]
        r = _cmp(len(h1), len(h2))
        if r:
            return r
        n1, n2 = h1[0], h2[0]
    m1, m2 = _HGVS.fullmatch(n1), _HGVS.fullmatch(n2)
    if m1 and m2:
        p1, p2 = int(m1.group(1)), int(m2.group(1))
        return _cmp(n1, n2) if p1 == p2 else _cmp(p1, p2)
    return _common_name_cmp(n1, n2)


name_key = functools.cmp_to_key(name_cmp)


def is_wobble(a: str | None) -> bool:
    return a is not None and len(a) == 1 and a not in "ACGT" and a in IUPAC


# ---------------------------------------------------------------- inputs


@dataclass
class SampleAllele:
    """One sample's genotype at one observed defined position."""

    pos: int
    a1: str | None  # raw allele of slot 1 (None: missing)
    a2: str | None  # raw allele of slot 2 (None: missing or no second copy)
    c1: str  # computed allele used for matching ("." for missing)
    c2: str | None  # "." for the empty slot of a partial call, None for a haploid call
    phased: bool
    eff_phased: bool  # this record needs no phase decision (homozygous, or '|' without PS)
    ps: int | None  # phase set, when phased
    has_variant: bool  # GT shows anything but REF (missing slots count)

    @property
    def is_hom(self) -> bool:
        return self.c1 == self.c2

    @property
    def call(self) -> str:
        sep = "|" if self.phased else "/"
        out = self.a1 if self.a1 is not None else "."
        if self.a2 is not None:
            return out + sep + self.a2
        return out + sep + "." if self.c2 == "." else out


class NA:
    """A named allele restricted to observed positions (``alleles``: pos -> allele or None)."""

    def __init__(self, name: str, alleles: dict, is_ref: bool, score: int | None = None):
        self.name = name
        self.alleles = alleles
        self.is_ref = is_ref
        self.score = score if score is not None else sum(a is not None for a in alleles.values())
        self.core = sorted(p for p, a in alleles.items() if a is not None)
        self.wobbles = [p for p, a in alleles.items() if is_wobble(a)]


def _na_key(na: NA):
    return (0 if na.is_ref else 1, name_key(na.name))


class GeneView:
    """The parts of a GeneDefinition the matcher needs, indexed by position."""

    def __init__(self, gene: GeneDefinition):
        self.gene = gene
        self.pos = [v.position for v in gene.variants]
        self.var = {v.position: v for v in gene.variants}
        self.haps = [NA(a.name, dict(zip(self.pos, a.alleles)), a.reference)
                     for a in gene.alleles if a.name not in gene.ignored_alleles]
        self.priorities = [(frozenset(k), pick) for k, pick in gene.tie_priorities.items()]

    def haps_without(self, names) -> list[NA]:
        return [h for h in self.haps if h.name not in names]

    def find(self, name: str) -> NA:
        for h in self.haps:
            if h.name == name:
                return h
        raise KeyError(name)


# ---------------------------------------------------------------- per-sample match data


def _strands(sas: list[SampleAllele]) -> set[tuple]:
    """All strands the genotypes allow (see module docstring)."""
    s1_blank = all(s.a1 is None for s in sas)
    s2_blank = all(s.a2 is None for s in sas)
    out: set[tuple] = set()

    def walk(i, haploid, first, sofar, psmap):
        if i == len(sas):
            out.add(tuple(sofar))
            return
        s = sas[i]
        if s.eff_phased or haploid:
            walk(i + 1, haploid, first, sofar + [s.c1 if first else s.c2], psmap)
        elif s.ps is not None:
            if s.ps in psmap:
                walk(i + 1, False, first, sofar + [s.c1 if psmap[s.ps] else s.c2], psmap)
            else:
                walk(i + 1, False, first, sofar + [s.c1], {**psmap, s.ps: True})
                walk(i + 1, False, first, sofar + [s.c2], {**psmap, s.ps: False})
        else:
            walk(i + 1, False, first, sofar + [s.c1], psmap)
            walk(i + 1, False, first, sofar + [s.c2], psmap)

    if not s1_blank:
        walk(0, s2_blank, True, [], {})
    if not s2_blank:
        walk(0, s1_blank, False, [], {})
    return out


MAX_PHASE_BRANCHES = 12  # 2**12 strands; more unphased hets cannot be resolved by enumeration


class TooManyPhaseCombinations(Exception):
    """More independent unphased heterozygous positions than can be enumerated."""


def _phase_branches(sas: list[SampleAllele]) -> int:
    unphased = sum(1 for s in sas if not s.eff_phased and s.ps is None)
    blocks = {s.ps for s in sas if not s.eff_phased and s.ps is not None}
    return unphased + len(blocks)


class MatchData:
    def __init__(self, view: GeneView, sample: dict[int, SampleAllele], haps: list[NA],
                 assume_reference: bool, find_combinations: bool):
        self.view = view
        self.positions = sorted(p for p in view.pos if p in sample)
        self.missing = [p for p in view.pos if p not in sample]
        self.sample = {p: sample[p] for p in self.positions}
        sas = [self.sample[p] for p in self.positions]
        self.n = len(sas)
        self.index = {p: i for i, p in enumerate(self.positions)}
        if not sas:
            self.haps, self.perms = [], set()
            return
        self.is_haploid = all(s.a1 is None for s in sas) or all(s.a2 is None for s in sas)
        phase_sets = defaultdict(set)
        for s in sas:
            if s.phased:
                phase_sets[s.ps if s.ps is not None else None].add(s.pos)
        self.using_phase_sets = bool(phase_sets) and (None not in phase_sets or len(phase_sets) > 1)
        gene = view.gene.gene
        reduced = []
        for h in haps:
            if find_combinations and gene == "UGT1A1" and "+" in h.name:
                continue
            if self.missing:
                nh = NA(h.name, {p: h.alleles[p] for p in self.positions}, h.is_ref)
                if nh.score > 0:
                    reduced.append(nh)
            else:
                reduced.append(h)
        if assume_reference and reduced:
            ref = next(h for h in reduced if h.is_ref)
            filled = []
            for h in reduced:
                if h is ref:
                    filled.append(h)
                    continue
                al = {}
                for p in self.positions:
                    a = h.alleles[p]
                    if a is None:
                        r = ref.alleles[p]
                        a = view.var[p].ref if is_wobble(r) else r
                    al[p] = a
                nh = NA(h.name, al, h.is_ref, score=h.score)
                nh.core, nh.wobbles = h.core, h.wobbles
                filled.append(nh)
            reduced = filled
        self.haps = sorted(reduced, key=_na_key)
        branches = _phase_branches(sas)
        if branches > MAX_PHASE_BRANCHES:
            raise TooManyPhaseCombinations(
                f"{branches} unphased heterozygous positions (or phase blocks) allow 2^{branches} "
                f"haplotype combinations, too many to resolve; phase the VCF (e.g. WhatsHap, "
                f"SHAPEIT) and call again")
        self.perms = _strands(sas)
        self.eff_phased = len(self.perms) <= 2
        self.partial = any("." in s.call for s in sas)

    def allele(self, perm: tuple, pos: int):
        return perm[self.index[pos]]


def _allele_ok(expected, observed) -> bool:
    if expected is None:
        return True
    if observed is None:
        return False
    if is_wobble(expected):
        return observed in IUPAC[expected]
    return expected == observed


class HapMatch:
    def __init__(self, na: NA, name: str | None = None):
        self.na = na
        self.name = name or na.name
        self.seqs: set = set()
        self.components: list[NA] | None = None
        self.partials: dict = {}

    def key(self):
        return (name_key(self.name), len(self.seqs),
                tuple(sorted(";".join(map(str, x)) for x in self.seqs)))


def compare_perms(md: MatchData) -> list[HapMatch]:
    out = []
    for h in md.haps:
        hm = HapMatch(h)
        for perm in md.perms:
            if all(_allele_ok(h.alleles[p], perm[i]) for i, p in enumerate(md.positions)):
                hm.seqs.add(perm)
        if hm.seqs:
            out.append(hm)
    return out


def _wobble_score(md: MatchData, na: NA, seqs) -> int:
    score = na.score
    for p in na.wobbles:
        if p in md.sample and all(md.allele(s, p) == md.view.var[p].ref for s in seqs):
            score -= 1
    return score


def _viable(md: MatchData, s1, s2) -> bool:
    for i, p in enumerate(md.positions):
        if md.sample[p].is_hom != (s1[i] == s2[i]):
            return False
    return True


class Dip:
    def __init__(self, h1: HapMatch, h2: HapMatch | None, score: int | None = None):
        if h2 is not None and h2.key() < h1.key():
            h1, h2 = h2, h1
        self.h1, self.h2 = h1, h2
        self.names = (h1.name,) if h2 is None else (h1.name, h2.name)
        self.name = "/".join(self.names)
        self.score = score if score is not None else h1.na.score + (h2.na.score if h2 else 0)
        self.pairs: list = []


def compute_diplotypes(md: MatchData, matches: list[HapMatch], find_combinations: bool,
                       top_only: bool) -> list[Dip]:
    pairs: list[Dip] = []
    if len(md.perms) == 1:
        seq = next(iter(md.perms))
        if md.is_haploid:  # one copy: every matching allele is a single-allele call
            for m in sorted(matches, key=lambda x: x.key()):
                d = Dip(m, None)
                d.pairs.append((seq, seq))
                pairs.append(d)
        elif len(matches) == 1:
            d = Dip(matches[0], matches[0])
            d.pairs.append((seq, seq))
            pairs.append(d)
        else:
            ms = sorted(matches, key=lambda x: x.key())
            for i in range(len(ms)):
                for j in range(i, len(ms)):
                    d = Dip(ms[i], ms[j])
                    d.pairs.append((seq, seq))
                    pairs.append(d)
    else:
        by_name = defaultdict(list)
        for m in matches:
            by_name[m.name].append(m)
        names = sorted(by_name, key=name_key)
        for i in range(len(names)):
            for j in range(i, len(names)):
                l1, l2 = by_name[names[i]], by_name[names[j]]
                if i == j:
                    if len(l1) == 1:
                        if len(l1[0].seqs) == 1:
                            continue
                    elif find_combinations and l1[0].components is not None and len(l1) == 2:
                        s = sorted(l1, key=lambda x: x.key())
                        l1, l2 = [s[1]], [s[0]]
                for m1 in l1:
                    for m2 in l2:
                        sp = [(a, b) for a in m1.seqs for b in m2.seqs if _viable(md, a, b)]
                        if sp:
                            d = Dip(m1, m2)
                            d.pairs = sp
                            pairs.append(d)
    if not find_combinations:
        for d in pairs:
            best = 0
            for sp in d.pairs:
                if d.h2 is None:
                    sc = _wobble_score(md, d.h1.na, [sp[0]])
                elif d.h1.name == d.h2.name:
                    sc = _wobble_score(md, d.h1.na, [sp[0]]) + _wobble_score(md, d.h2.na, [sp[1]])
                else:
                    def seqs_for(h, sp=sp):
                        return list(h.seqs) if len(h.seqs) == 1 else [s for s in h.seqs if s in sp]
                    sc = (_wobble_score(md, d.h1.na, seqs_for(d.h1))
                          + _wobble_score(md, d.h2.na, seqs_for(d.h2)))
                best = max(best, sc)
            d.score = best
    unique = {}
    for d in pairs:
        k = (d.score, d.h1.name, tuple(sorted(map(str, d.h1.seqs))),
             d.h2.name if d.h2 else None, tuple(sorted(map(str, d.h2.seqs))) if d.h2 else None)
        unique.setdefault(k, d)
    out = sorted(unique.values(),
                 key=lambda d: (-d.score, d.h1.key(), d.h2.key() if d.h2 else ()))
    if top_only and len(out) > 1:
        out = [d for d in out if d.score == out[0].score]
    return out


# ---------------------------------------------------------------- combinations [a + b]


def _partial_name(md: MatchData, pos: int, allele: str) -> str:
    v = md.view.var[pos]
    if allele == ".":
        return f"g.{pos}?"
    return f"g.{pos}{v.ref}>{allele}"


class ComboMatch(HapMatch):
    def __init__(self, md: MatchData, seq, components: list[NA], partials: dict | None):
        comps = sorted(components, key=_na_key)
        parts, count = [], 0
        for na in comps:
            if na.is_ref:
                continue
            if is_combination_name(na.name):
                parts.append(na.name[1:-1])
                count += 2
            else:
                parts.append(na.name)
                count += 1
        partials = dict(partials or {})
        for p in sorted(partials):
            parts.append(partials[p])
            count += 1
        name = " + ".join(parts)
        if count > 1:
            name = "[" + name + "]"
        merged = {}
        for p in md.positions:
            a = None
            for na in comps:
                if a is None:
                    a = na.alleles.get(p)
            merged[p] = a
        na = NA(name, merged, False)
        na.score = sum(a is not None for a in merged.values()) - len(partials)
        super().__init__(na, name)
        self.components = comps
        self.partials = partials
        self.seqs = {seq}


def combination_matches(md: MatchData, find_partials: bool) -> list[HapMatch]:
    out = []
    ref = next(h for h in md.haps if h.is_ref)
    for perm in md.perms:
        observed = {p: perm[i] for i, p in enumerate(md.positions)}
        var_pos = [p for p in md.positions if md.view.var[p].ref != observed[p]]
        covered = [h for h in md.haps if not h.is_ref and h.core and
                   all(observed.get(p) is not None and _allele_ok(h.alleles[p], observed[p])
                       for p in h.core)]
        covered.sort(key=_na_key)

        def partials_for(haps):
            if not find_partials:
                return {}
            left = set(var_pos)
            for h in haps:
                left -= set(h.core)
            return {p: _partial_name(md, p, observed[p]) for p in left}

        if len(covered) <= 1:
            hap = covered[0] if covered else ref
            parts = partials_for(covered)
            if not parts:
                hm = HapMatch(hap)
                hm.seqs.add(perm)
                out.append(hm)
            else:
                out.append(ComboMatch(md, perm, [hap], parts))
        else:
            combos: list[list[NA]] = []
            for a in sorted(covered, key=lambda na: (-len(na.core), na.name)):
                added, overlap_count = False, 0
                for combo in combos:
                    overlaps = False
                    for e in combo:
                        if set(e.core) & set(a.core):
                            overlaps = True
                            if len(e.core) != len(a.core):
                                overlap_count += 1
                                break
                    if not overlaps:
                        combo.append(a)
                        added = True
                if not added and overlap_count == 0:
                    combos.append([a])
            for combo in combos:
                out.append(ComboMatch(md, perm, combo, partials_for(combo)))
    unique = {}
    for m in out:
        unique.setdefault((m.name, tuple(sorted(m.seqs))), m)
    return list(unique.values())


def combination_diplotypes(md: MatchData, find_partials: bool) -> list[Dip]:
    return compute_diplotypes(md, combination_matches(md, find_partials), True, False)


# ---------------------------------------------------------------- standard genes


@dataclass
class MatchResult:
    """What the matcher found for one sample and gene."""

    diplotypes: list[tuple[str, ...]] = field(default_factory=list)  # reported
    candidates: list[tuple[tuple[str, ...], int]] = field(default_factory=list)  # (alleles, score)
    haplotypes: list[str] = field(default_factory=list)  # lowest-function genes, unphased
    inferred: str = ""
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


def call_standard(view: GeneView, sample: dict[int, SampleAllele], top_only: bool) -> MatchResult:
    try:
        return _call_standard(view, sample, top_only)
    except TooManyPhaseCombinations as exc:
        return MatchResult(reason=str(exc))


def _call_standard(view: GeneView, sample: dict[int, SampleAllele], top_only: bool) -> MatchResult:
    md = MatchData(view, sample, view.haps, assume_reference=True, find_combinations=False)
    res = MatchResult()
    if md.n == 0:
        res.reason = "no defined position was observed"
        return res
    if md.partial:
        res.reason = ("partial genotype(s) (one allele missing) at "
                      + ", ".join(str(p) for p in md.positions if "." in md.sample[p].call))
        return res
    priority_mode = not md.eff_phased and bool(view.priorities)
    dips = compute_diplotypes(md, compare_perms(md), False, top_only and not priority_mode)
    res.candidates = [(d.names, d.score) for d in dips]
    if not dips:
        res.reason = "no combination of defined alleles explains the genotypes"
        return res
    if priority_mode and len(dips) > 1:
        names = {d.name for d in dips}
        for tied, pick in view.priorities:
            if tied <= names:
                res.warnings.append(f"unphased ambiguity {' | '.join(sorted(tied, key=name_key))} "
                                    f"resolved to {pick} by the gene's priority table")
                dips = [d for d in dips if d.name == pick][:1]
                break
    res.diplotypes = [d.names for d in dips]
    return res


# ---------------------------------------------------------------- lowest-function genes


class SplitHaplotypeCaller:
    """DPYD HapB3: intronic marker + exonic tag; either may be seen without the other."""

    def __init__(self, view: GeneView, sample: dict[int, SampleAllele], orig: MatchData):
        sh = view.gene.split_haplotype
        self.sh = sh
        self.view = view
        self.orig = orig
        self.exon = sample.get(sh.tag_position)
        self.intron = sample.get(sh.marker_position)
        others = [sa for p, sa in sample.items() if p not in (sh.tag_position, sh.marker_position)]
        self.has_other_variants = any(sa.has_variant for sa in others)
        self.has_variants = any(sa.has_variant for sa in (self.exon, self.intron) if sa)
        self.intron_call: list[str] | None = None
        self.hap_call: list[str] | None = None
        self.num_called = 0

    def _alt(self, pos: int) -> str:
        return self.view.var[pos].alts[0]

    def _call(self, sa: SampleAllele, pos: int) -> list[str]:
        alt = self._alt(pos)
        out = []
        if sa.a1 is None:
            if sa.phased:
                out.append(".")
        else:
            out.append("1" if sa.a1 == alt else "0")
        if sa.a2 is not None:
            out.append("1" if sa.a2 == alt else "0")
        return out

    def call_unphased(self) -> None:
        eff = self.orig.eff_phased
        if not eff and self.orig.using_phase_sets:
            pe = self.exon.ps if self.exon else None
            pi = self.intron.ps if self.intron else None
            eff = pe is not None and pe == pi
        sh = self.sh
        if self.intron is not None:
            ic = self._call(self.intron, sh.marker_position)
            ni = sum(a != "." for a in ic)
            if self.exon is None:
                self.intron_call = ic
            else:
                ec = self._call(self.exon, sh.tag_position)
                ne = sum(a != "." for a in ec)
                if ni == 0:
                    self.hap_call = ec
                elif ni in (1, 2) and ne == 0:
                    self.intron_call = ic
                elif ni in (1, 2) and eff:
                    self._phased(ic, ec, 0)
                    self._phased(ic, ec, 1)
                elif ni == 2 and ne == 2:
                    self.intron_call, self.hap_call = [], []
                    n_i, n_e = ic.count("1"), ec.count("1")
                    if n_i == n_e:
                        self.hap_call += ["1"] * n_i
                    elif n_i > n_e:
                        self.intron_call.append("1")
                        if n_e == 1:
                            self.hap_call.append("1")
                        elif n_i == 2:
                            self.intron_call.append("1")
                    elif n_i == 1:
                        self.hap_call.append("1")
        elif self.exon is not None:
            self.hap_call = self._call(self.exon, sh.tag_position)
        self.num_called = (self.intron_call or []).count("1") + (self.hap_call or []).count("1")

    def _phased(self, ic, ec, k) -> None:
        i = ic[k] if len(ic) > k else "."
        e = ec[k] if len(ec) > k else "."
        self.intron_call = self.intron_call or []
        self.hap_call = self.hap_call or []
        if i == "0":
            pair = ("0", "0")
        elif i == "1":
            pair = ("1", "0") if e == "0" else ("1", ".") if e == "." else ("0", "1")
        else:
            pair = (".", ".")
        self.intron_call.append(pair[0])
        self.hap_call.append(pair[1])

    def hap_names(self) -> list[str]:
        return ([self.sh.allele] * (self.hap_call or []).count("1")
                + [self.sh.marker_allele] * (self.intron_call or []).count("1"))

    def _call_phased(self, md: MatchData, seq, base: HapMatch | None) -> HapMatch:
        sh = self.sh
        ai = md.allele(seq, sh.marker_position) if sh.marker_position in md.sample else None
        has_locus = ai is not None and ai != "."
        has_intron = has_locus and ai != self.view.var[sh.marker_position].ref
        ae = md.allele(seq, sh.tag_position) if sh.tag_position in md.sample else None
        has_exon = ae is not None and ae != "." and ae != self.view.var[sh.tag_position].ref
        if has_intron:
            na = md_find(md, sh.allele if has_exon else sh.marker_allele)
        elif not has_locus and has_exon:
            na = md_find(md, sh.allele)
        else:
            na = next(h for h in md.haps if h.is_ref)
        if base is None:
            return HapMatch(na)
        if na.is_ref:
            return base
        seq0 = next(iter(base.seqs))
        if base.components is not None:
            return ComboMatch(md, seq0, [na] + [md_find(md, c.name) for c in base.components], None)
        if base.na.is_ref:
            return HapMatch(na)
        return ComboMatch(md, seq0, [na, md_find(md, base.name)], None)

    def merge(self, md: MatchData, dips: list[Dip]) -> list[Dip]:
        if not self.has_variants:
            return dips
        return [Dip(self._call_phased(md, next(iter(d.h1.seqs)), d.h1),
                    self._call_phased(md, next(iter(d.h2.seqs)), d.h2)) for d in dips]

    def add_to_reference(self, md: MatchData) -> list[Dip]:
        haps = [self._call_phased(md, seq, None) for seq in md.perms]
        return [Dip(haps[0], haps[1] if len(haps) == 2 else haps[0])]

    def fix_partials(self, md: MatchData, dips: list[Dip]) -> list[Dip]:
        sh = self.sh
        tags = (f"g.{sh.marker_position}", f"g.{sh.tag_position}")
        out = []
        for d in dips:
            hs = []
            for h in (d.h1, d.h2):
                if h.components is not None and h.partials and any(t in h.name for t in tags):
                    parts = {p: n for p, n in h.partials.items()
                             if p not in (sh.tag_position, sh.marker_position)}
                    seq = next(iter(h.seqs))
                    if not parts and len(h.components) == 1 and h.components[0].is_ref:
                        r = HapMatch(h.components[0])
                        r.seqs.add(seq)
                        hs.append(r)
                    else:
                        hs.append(ComboMatch(md, seq, h.components, parts))
                else:
                    hs.append(h)
            out.append(Dip(hs[0], hs[1]))
        return out


def md_find(md: MatchData, name: str) -> NA:
    for h in md.haps:
        if h.name == name:
            return h
    return md.view.find(name)


def call_lowest_function(view: GeneView, sample: dict[int, SampleAllele],
                         activity: dict[str, float], mhs_alleles: set[str]) -> MatchResult:
    """DPYD/RYR1: phased -> every consistent diplotype (combinations allowed); unphased with
    several variants -> the observed haplotypes and the two lowest-function ones as diplotype."""
    try:
        return _call_lowest_function(view, sample, activity, mhs_alleles)
    except TooManyPhaseCombinations as exc:
        return MatchResult(reason=str(exc))


def _call_lowest_function(view: GeneView, sample: dict[int, SampleAllele],
                          activity: dict[str, float], mhs_alleles: set[str]) -> MatchResult:
    res = MatchResult()
    sh = view.gene.split_haplotype
    split_names = {sh.allele, sh.marker_allele} if sh else set()
    orig = MatchData(view, sample, view.haps, True, False)
    if orig.n == 0:
        res.reason = "no defined position was observed"
        return res
    hb = SplitHaplotypeCaller(view, sample, orig) if sh else None
    no_split = bool(hb and hb.has_variants)
    base_haps = view.haps_without(split_names) if no_split else view.haps

    def merger(find_combinations=False):
        return MatchData(view, sample, view.haps, False, find_combinations)

    def done(dips: list[Dip]) -> MatchResult:
        res.diplotypes = [d.names for d in dips]
        res.candidates = [(d.names, d.score) for d in dips]
        return res

    if orig.eff_phased:
        working = MatchData(view, sample, base_haps, True, False) if no_split else orig
        matches = compare_perms(working)
        dips = compute_diplotypes(working, matches, False, False) if matches else []
        if no_split:
            if dips:
                return done(hb.merge(merger(), dips))
            if not hb.has_other_variants:
                return done(hb.add_to_reference(merger()))
        if dips:
            return done(dips)
    if orig.eff_phased or orig.using_phase_sets:
        combo = MatchData(view, sample, base_haps, False, True)
        dips = combination_diplotypes(combo, True)
        if no_split:
            if dips:
                m = merger()
                return done(hb.merge(m, hb.fix_partials(m, dips)))
            if not hb.has_other_variants:
                return done(hb.add_to_reference(merger()))
        if dips:
            return done(dips)
    combo = MatchData(view, sample, view.haps_without(split_names), False, True)
    cdips = combination_diplotypes(combo, False)
    if cdips and (orig.eff_phased or combo.using_phase_sets):
        return done(hb.merge(merger(True), cdips) if no_split else cdips)
    # truly unphased: list the haplotypes seen, then infer the lowest-function pair
    if hb is not None:
        hb.call_unphased()
    homozygous = set()
    for d in cdips:
        count = defaultdict(int)
        for h in (d.h1, d.h2):
            if h is None:
                continue
            partial = bool(h.partials)
            for n in ([c.name for c in h.components] if h.components is not None else [h.name]):
                if not partial or n != "Reference":
                    count[n] += 1
        homozygous |= {n for n, c in count.items() if c > 1}
    if hb is not None and hb.num_called > 0:
        homozygous.discard(next(h.name for h in view.haps if h.is_ref))
    hms = sorted(compare_perms(combo), key=lambda x: x.key())
    n = len(hms) + (hb.num_called if hb else 0)
    if n > 2:
        hms = [h for h in hms if not h.na.is_ref]
    names = []
    for hm in hms:
        names.append(hm.name)
        if hm.name in homozygous:
            names.append(hm.name)
            homozygous.discard(hm.name)
    if hb is not None:
        names += hb.hap_names()
    res.haplotypes = names
    if not names:
        res.reason = "no defined allele matches the genotypes"
        return res
    res.diplotypes = [tuple(lowest_function_pair(names, activity, mhs_alleles))]
    res.inferred = ("lowest-function: unphased variants; the two lowest-function haplotypes of "
                    + " | ".join(names) + " are reported (CPIC recommends assuming trans)")
    return res


def lowest_function_pair(names: list[str], activity: dict[str, float],
                         risk_alleles: set[str]) -> list[str]:
    """Order by activity value (lowest first; DPYD) or risk (susceptibility alleles first;
    RYR1), then by name; keep the first two."""
    if activity:
        key = lambda n: (activity.get(n, 99.0), name_key(n))  # noqa: E731
    else:
        key = lambda n: (0 if n in risk_alleles else 1, name_key(n))  # noqa: E731
    return sorted(names, key=key)[:2]
