"""The numba matching kernels against plain-Python references.

1. ``allele_candidates`` and ``consistent_pairs`` (pgx.calling.match_numba_fns) on random small
   definitions and random genotypes, against a brute force written here from the documented
   semantics: a pair (a, b) is consistent iff some assignment of the two haplotype slots, one
   orientation per phase block, lets each allele accept its slot's code at every position
   (undefined position = REF only; code -1 = wildcard; -3 = matches nothing).
2. ``pgx.calling.matcher.match_gene`` (the kernel path) against the pure-Python
   ``pgx.calling.reference_matcher.call_standard`` on random genotypes of real genes of the
   embedded panel: unphased, phased, phase sets, missing positions; top-candidate and
   all-candidates modes. The reference matcher's input is built here from allele strings, not
   from the matcher's own encoding helpers.
"""
from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgx.calling import match_numba_fns as kernels
from pgx.calling import reference_matcher as ref
from pgx.calling.encode import (
    MISSING,
    NO_COPY,
    STATUS_ABSENT,
    STATUS_FILTERED,
    STATUS_NOCALL,
    STATUS_OK,
    UNDOCUMENTED,
    GeneGenotypes,
    allele_vocabulary,
    expand_allele,
)
from pgx.calling.matcher import match_gene
from pgx.definitions.embedded import load_embedded

KERNEL_SETTINGS = settings(max_examples=80, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.too_slow])


# ============================================================================ references
def _acc(mask: int, code: int) -> bool:
    if code == MISSING:
        return True
    if code < 0:
        return False
    return bool((mask >> code) & 1)


def ref_candidates(def_sets, pattern, codes):
    """cand[s, a]: at every position some slot is accepted; score: defined, observed positions."""
    n_s, n_p = codes.shape[:2]
    n_a = pattern.shape[0]
    cand = np.zeros((n_s, n_a), dtype=bool)
    score = np.zeros((n_s, n_a), dtype=np.int32)
    for s in range(n_s):
        for a in range(n_a):
            cand[s, a] = all(_acc(int(pattern[a, p]), int(codes[s, p, 0]))
                             or _acc(int(pattern[a, p]), int(codes[s, p, 1]))
                             for p in range(n_p))
            score[s, a] = sum(1 for p in def_sets[a]
                              if not (codes[s, p, 0] == MISSING and codes[s, p, 1] == MISSING))
    return cand, score


def ref_pairs(cand, score, pattern, codes, block):
    """Per sample, the set of (a, b, score) with a <= b both candidates and a slot assignment
    (one orientation per phase block) under which each allele accepts its slot everywhere."""
    n_s, n_p = codes.shape[:2]
    n_a = pattern.shape[0]
    out = []
    for s in range(n_s):
        ids = sorted({int(block[s, p]) for p in range(n_p)})
        found = set()
        for a in range(n_a):
            for b in range(a, n_a):
                if not (cand[s, a] and cand[s, b]):
                    continue
                for flips in itertools.product((0, 1), repeat=len(ids)):
                    orient = dict(zip(ids, flips))
                    ok = True
                    for p in range(n_p):
                        o = orient[int(block[s, p])]
                        ca, cb = int(codes[s, p, o]), int(codes[s, p, 1 - o])
                        if not (_acc(int(pattern[a, p]), ca) and _acc(int(pattern[b, p]), cb)):
                            ok = False
                            break
                    if ok:
                        found.add((a, b, int(score[s, a] + score[s, b])))
                        break
        out.append(found)
    return out


# ============================================================================ random problems
@st.composite
def problems(draw):
    """A random gene (vocabulary sizes, allele patterns) and random genotypes of a few samples."""
    n_p = draw(st.integers(1, 6))
    n_a = draw(st.integers(1, 6))
    n_s = draw(st.integers(1, 6))
    vocab = [draw(st.integers(2, 4)) for _ in range(n_p)]
    pattern = np.ones((n_a, n_p), dtype=np.uint64)  # undefined: REF only
    def_sets = []
    for a in range(n_a):
        defined = sorted(draw(st.sets(st.integers(0, n_p - 1), max_size=n_p)))
        for p in defined:
            # one allele, or (IUPAC-like) a set of several
            mask = draw(st.integers(1, (1 << vocab[p]) - 1))
            pattern[a, p] = np.uint64(mask)
        def_sets.append(defined)
    codes = np.empty((n_s, n_p, 2), dtype=np.int8)
    block = np.empty((n_s, n_p), dtype=np.int64)
    for s in range(n_s):
        for p in range(n_p):
            kind = draw(st.sampled_from(["unphased", "ps", "ps", "glued"]))
            if kind == "unphased":
                block[s, p] = -(p + 1)
            elif kind == "glued":
                block[s, p] = 1 << 40
            else:
                block[s, p] = draw(st.integers(1, 2))
        if draw(st.booleans()):  # any codes at all
            for p in range(n_p):
                for k in range(2):
                    codes[s, p, k] = draw(st.sampled_from(
                        [0, 0, 0, MISSING, UNDOCUMENTED] + list(range(1, vocab[p]))))
        else:  # two haplotypes carrying alleles a0 and a1, then a few changes
            pair = (draw(st.integers(0, n_a - 1)), draw(st.integers(0, n_a - 1)))
            for p in range(n_p):
                for k in range(2):
                    mask = int(pattern[pair[k], p])
                    codes[s, p, k] = draw(st.sampled_from(
                        [c for c in range(vocab[p]) if mask >> c & 1]))
            for b in set(block[s].tolist()):  # one random orientation per phase block
                if draw(st.booleans()):
                    codes[s, block[s] == b] = codes[s, block[s] == b][:, ::-1]
            for _ in range(draw(st.integers(0, 2))):
                p = draw(st.integers(0, n_p - 1))
                change = draw(st.sampled_from(["swap", "missing", "undocumented", "other"]))
                if change == "swap":  # breaks the orientation inside a block
                    codes[s, p] = codes[s, p][::-1].copy()
                elif change == "missing":
                    codes[s, p] = MISSING
                elif change == "undocumented":
                    codes[s, p, draw(st.integers(0, 1))] = UNDOCUMENTED
                else:
                    codes[s, p, draw(st.integers(0, 1))] = draw(st.integers(0, vocab[p] - 1))
    def_ptr = np.zeros(n_a + 1, dtype=np.int64)
    def_ptr[1:] = np.cumsum([len(d) for d in def_sets])
    def_pos = np.array([p for d in def_sets for p in d], dtype=np.int64)
    # consistent_pairs may be given a subset of the candidates (the matcher drops alleles
    # defined only at missing positions)
    subset = np.array([[draw(st.sampled_from([True, True, True, False])) for _ in range(n_a)]
                       for _ in range(n_s)])
    return def_sets, def_ptr, def_pos, pattern, codes, block, subset


@KERNEL_SETTINGS
@given(problems())
def test_allele_candidates_matches_brute_force(prob):
    def_sets, def_ptr, def_pos, pattern, codes, _, _ = prob
    cand, score = kernels.allele_candidates(def_ptr, def_pos, pattern, codes)
    rc, rs = ref_candidates(def_sets, pattern, codes)
    assert cand.tolist() == rc.tolist()
    # the score (defined, observed positions) is part of the contract for candidates only
    assert score[cand].tolist() == rs[cand].tolist()


@KERNEL_SETTINGS
@given(problems())
def test_consistent_pairs_matches_brute_force(prob):
    def_sets, def_ptr, def_pos, pattern, codes, block, subset = prob
    rc, rs = ref_candidates(def_sets, pattern, codes)
    # the kernel's contract: cand is (a subset of) the alleles allele_candidates accepts
    cand = rc & subset
    ptr, pa, pb, psc = kernels.consistent_pairs(cand, rs, pattern, codes, block)
    expected = ref_pairs(cand, rs, pattern, codes, block)
    assert ptr[0] == 0 and len(ptr) == codes.shape[0] + 1
    for s in range(codes.shape[0]):
        got = [(int(pa[k]), int(pb[k]), int(psc[k])) for k in range(ptr[s], ptr[s + 1])]
        assert len(got) == len(set(got)), "duplicate pairs"
        assert all(a <= b for a, b, _ in got)
        assert set(got) == expected[s], f"sample {s}"


def test_kernel_examples_by_hand():
    """Two positions, REF/ALT each; *1 = REF, *2 = ALT at p0, *3 = ALT at p1."""
    pattern = np.array([[1, 1], [2, 1], [1, 2]], dtype=np.uint64)
    def_ptr = np.array([0, 0, 1, 2], dtype=np.int64)
    def_pos = np.array([0, 1], dtype=np.int64)
    # s0: 0/1, 0/1 unphased   s1: 0|1, 0|1 (cis)   s2: 0|1, 1|0 (trans)   s3: 1/1 at p0, -3 at p1
    codes = np.array([[[0, 1], [0, 1]], [[0, 1], [0, 1]], [[0, 1], [1, 0]],
                      [[1, 1], [UNDOCUMENTED, 0]]], dtype=np.int8)
    block = np.array([[-1, -2], [7, 7], [7, 7], [-1, -2]], dtype=np.int64)
    cand, score = kernels.allele_candidates(def_ptr, def_pos, pattern, codes)
    assert cand[0].tolist() == [True, True, True]
    assert cand[3].tolist() == [False, True, False]
    ptr, pa, pb, _ = kernels.consistent_pairs(cand, score, pattern, codes, block)
    pairs = [{(int(pa[k]), int(pb[k])) for k in range(ptr[s], ptr[s + 1])} for s in range(4)]
    assert pairs[0] == {(1, 2)}  # unphased: *2/*3 (cis would need a combined allele)
    assert pairs[1] == set()  # both ALTs on one strand: no single allele explains it
    assert pairs[2] == {(1, 2)}
    assert pairs[3] == set()  # -3 matches nothing; the REF slot cannot host *2 twice


# ============================================================================ real genes
GENES = ["CYP2C19", "CYP2C9", "TPMT", "UGT1A1", "SLCO1B1", "NUDT15"]
N_SAMPLES = 120


@pytest.fixture(scope="module")
def panel():
    return load_embedded()


def _strand(gene, name: str, rng: random.Random) -> list[str]:
    """A concrete haplotype carrying named allele ``name`` (IUPAC cells resolved at random)."""
    na = gene.allele(name)
    out = []
    for v, cell in zip(gene.variants, na.alleles):
        out.append(v.ref if cell is None else rng.choice(expand_allele(cell)))
    return out


def _random_sample(gene, rng: random.Random, vocab):
    """Genotype of one sample: (allele1, allele2) strings per position, phase, PS, status."""
    names = [a.name for a in gene.alleles]
    h1, h2 = _strand(gene, rng.choice(names), rng), _strand(gene, rng.choice(names), rng)
    n_p = len(gene.variants)
    if rng.random() < 0.3:  # a variant no single allele explains on its own
        p = rng.randrange(n_p)
        (h1 if rng.random() < 0.5 else h2)[p] = rng.choice(vocab[p])
    mode = rng.choice(["unphased", "phased", "phase_sets", "mixed"])
    phased = np.zeros(n_p, dtype=bool)
    ps = np.zeros(n_p, dtype=np.int64)
    for p in range(n_p):
        if mode == "unphased" and rng.random() < 0.5:  # slot order means nothing unphased
            h1[p], h2[p] = h2[p], h1[p]
        if mode == "phased":
            phased[p] = True
        elif mode == "phase_sets":
            phased[p] = True
            ps[p] = rng.choice([100, 200])
        elif mode == "mixed":
            kind = rng.choice(["unphased", "glued", "ps"])
            phased[p] = kind != "unphased"
            ps[p] = rng.choice([100, 200]) if kind == "ps" else 0
    if mode == "phase_sets" and rng.random() < 0.5:  # random orientation of PS block 200
        for p in range(n_p):
            if ps[p] == 200:
                h1[p], h2[p] = h2[p], h1[p]
    status = np.full(n_p, STATUS_OK, dtype=np.int8)
    if rng.random() < 0.4:
        for p in rng.sample(range(n_p), rng.randint(1, max(1, n_p // 3))):
            status[p] = rng.choice([STATUS_ABSENT, STATUS_NOCALL, STATUS_FILTERED])
    return h1, h2, phased, ps, status


def _encode(gene, samples):
    vocab = allele_vocabulary(gene)
    n_s, n_p = len(samples), len(gene.variants)
    codes = np.full((n_s, n_p, 2), MISSING, dtype=np.int8)
    phased = np.zeros((n_s, n_p), dtype=bool)
    ps = np.zeros((n_s, n_p), dtype=np.int64)
    status = np.zeros((n_s, n_p), dtype=np.int8)
    for s, (h1, h2, ph, pss, st_) in enumerate(samples):
        for p in range(n_p):
            if st_[p] == STATUS_OK:
                codes[s, p] = (vocab[p].index(h1[p]), vocab[p].index(h2[p]))
        phased[s], status[s] = ph & (st_ == STATUS_OK), st_
        ps[s] = np.where(st_ == STATUS_OK, pss, 0)
    return GeneGenotypes(gene, [f"S{i}" for i in range(n_s)], codes, phased, ps, status)


def _reference_input(gene, sample) -> dict[int, ref.SampleAllele]:
    """The reference matcher's per-position records, from the allele strings."""
    h1, h2, phased, ps, status = sample
    out = {}
    for p, v in enumerate(gene.variants):
        if status[p] != STATUS_OK:
            continue
        a1, a2 = h1[p], h2[p]
        ph = bool(phased[p])
        pset = int(ps[p]) if ph and ps[p] > 0 else None
        eff = (a1 == a2) or (ph and pset is None)
        out[v.position] = ref.SampleAllele(v.position, a1, a2, a1, a2, ph, eff, pset,
                                           a1 != v.ref or a2 != v.ref)
    return out


@pytest.mark.parametrize("all_candidates", [False, True], ids=["top", "all"])
@pytest.mark.parametrize("gene_name", GENES)
def test_match_gene_agrees_with_reference_matcher(panel, gene_name, all_candidates):
    gene = panel.genes[gene_name]
    rng = random.Random(f"{gene_name}-{all_candidates}")
    vocab = allele_vocabulary(gene)
    samples = [_random_sample(gene, rng, vocab) for _ in range(N_SAMPLES)]
    calls = match_gene(_encode(gene, samples), "test", all_candidates=all_candidates)
    view = ref.GeneView(gene)
    n_called = 0
    for call, sample in zip(calls, samples):
        res = ref.call_standard(view, _reference_input(gene, sample), top_only=not all_candidates)
        got = sorted(d.alleles for d in call.diplotypes)
        want = sorted(res.diplotypes)
        assert got == want, (f"{call.sample}: kernel path {got} != reference {want}; "
                             f"genotype {sample[0]} / {sample[1]}, phased {sample[2].tolist()}, "
                             f"PS {sample[3].tolist()}, status {sample[4].tolist()}")
        n_called += bool(got)
    assert n_called > N_SAMPLES // 4  # the random genotypes are mostly callable


# ============================================================================ haploid genes
def _haploid_input(gene, h, status) -> dict[int, ref.SampleAllele]:
    return {v.position: ref.SampleAllele(v.position, h[p], None, h[p], None, True, True, None,
                                         h[p] != v.ref)
            for p, v in enumerate(gene.variants) if status[p] == STATUS_OK}


def _hemizygous_samples(gene, n, rng):
    names = [a.name for a in gene.alleles]
    out = []
    for _ in range(n):
        h = _strand(gene, rng.choice(names), rng)
        status = np.full(len(h), STATUS_OK, dtype=np.int8)
        if rng.random() < 0.6:  # missing positions make several alleles fit one strand
            for p in rng.sample(range(len(h)), rng.randint(1, max(1, len(h) // 4))):
                status[p] = STATUS_ABSENT
        out.append((h, status))
    return out


def _encode_haploid(gene, samples):
    gg = _encode(gene, [(h, h, np.zeros(len(h), bool), np.zeros(len(h), np.int64), st)
                        for h, st in samples])
    gg.codes[:, :, 1] = np.where(gg.status == STATUS_OK, NO_COPY, gg.codes[:, :, 1])
    return gg


@pytest.mark.parametrize("gene_name", ["G6PD", "MT-RNR1"])
def test_match_gene_haploid_agrees_with_reference_matcher(panel, gene_name):
    """Hemizygous calls are single alleles; the names equal the reference matcher's."""
    gene = panel.genes[gene_name]
    samples = _hemizygous_samples(gene, 80, random.Random(gene_name))
    for all_candidates in (False, True):
        calls = match_gene(_encode_haploid(gene, samples), "test", all_candidates=all_candidates)
        view = ref.GeneView(gene)
        for call, (h, status) in zip(calls, samples):
            res = ref.call_standard(view, _haploid_input(gene, h, status),
                                    top_only=not all_candidates)
            assert all(len(d.alleles) == 1 for d in call.diplotypes), call.diplotype
            got = sorted(d.alleles for d in call.diplotypes)
            # the reference writes a haploid tie as pairs: compare its same-allele entries
            want = sorted({(d[0],) for d in res.diplotypes if len(set(d)) == 1})
            assert got == want, (call.sample, got, res.diplotypes)
            assert call.status in ("called", "partial")


def test_reference_matcher_haploid_tie_is_single_alleles(panel):
    gene = panel.genes["G6PD"]
    # a male carrying c.202G>A (rs1050828) with c.376A>G (rs1050829) unobserved: A- 202A_376G
    # and Asahi both explain the one strand
    h = [v.ref for v in gene.variants]
    status = np.full(len(h), STATUS_OK, dtype=np.int8)
    for p, v in enumerate(gene.variants):
        if v.rsid == "rs1050828":
            h[p] = "T"
        if v.rsid == "rs1050829":
            status[p] = STATUS_ABSENT
    call = match_gene(_encode_haploid(gene, [(h, status)]), "test")[0]
    assert sorted(d.alleles for d in call.diplotypes) == [("A- 202A_376G",), ("Asahi",)]
    res = ref.call_standard(ref.GeneView(gene), _haploid_input(gene, h, status), top_only=True)
    assert sorted(res.diplotypes) == [("A- 202A_376G",), ("Asahi",)]
