"""Diplotypes not excluded by the observed genotypes (calls JSON ``not_excluded``,
``possible_phenotypes``, ``phenotype_certain``; calls.tsv ``possible_phenotypes``).

1. The kernel ``pair_outcomes`` against a brute force (the consistent-pair reference of
   test_kernels.py), on random problems.
2. Patients built from the embedded panel (``patient_vcf`` in conftest.py), one per case of the
   clinical-safety issue: a missing defining position (CYP2C9 *1/*3 without rs1057910, also with
   --all-candidates and PharmCAT's definitions), DPYD with c.1905+1G>A and c.2846A>T absent,
   DEMO005's CYP2C19 (*2/*3 Poor Metabolizer possible), unphased TPMT *1/*3A vs *3B/*3C, and DPYD
   HapB3 inferred from its tag alone.
"""
from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
from hypothesis import given

from conftest import PGX, REPO
from pgx.calling import not_excluded_numba_fns as kernels
from test_kernels import KERNEL_SETTINGS, problems, ref_candidates, ref_pairs

DEMO = REPO / "resources" / "demo"


# ============================================================================ kernel
@KERNEL_SETTINGS
@given(problems())
def test_pair_outcomes_matches_brute_force(prob):
    def_sets, _, _, pattern, codes, block, subset = prob
    rng = np.random.default_rng(len(def_sets) * 7 + codes.shape[0])
    n_s, n_a = codes.shape[0], pattern.shape[0]
    haploid = rng.random(n_s) < 0.3
    codes_h = codes.copy()
    codes_h[haploid, :, 1] = codes_h[haploid, :, 0]  # as the matcher prepares haploid calls
    cand, score = ref_candidates(def_sets, pattern, codes_h)
    cand &= subset
    n_out = 3
    table = rng.integers(0, n_out, size=(n_a, n_a)).astype(np.int32)
    table = np.triu(table) + np.triu(table, 1).T  # symmetric
    table1 = rng.integers(0, n_out, size=n_a).astype(np.int32)
    reported = np.full((n_s, 2, 2), -1, dtype=np.int32)
    expected_pairs = ref_pairs(cand, score, pattern, codes_h, block)
    for s in range(n_s):
        found = sorted((a, b) for a, b, _ in expected_pairs[s])
        if found:  # report one of them: it must not be counted
            reported[s, 0] = found[int(rng.integers(len(found)))][::-1]  # either order
    count, examples, members = kernels.pair_outcomes(cand, pattern, codes_h, block,
                                                     haploid, table, table1, reported,
                                                     n_out, 2)
    for s in range(n_s):
        pairs = {(a, b) for a, b, _ in expected_pairs[s]
                 if (not haploid[s] or a == b)
                 and {a, b} != {int(reported[s, 0, 0]), int(reported[s, 0, 1])}}
        want = np.zeros(n_out, dtype=np.int64)
        mem = np.zeros((n_out, n_a), dtype=bool)
        for a, b in pairs:
            o = table1[a] if haploid[s] else table[a, b]
            want[o] += 1
            mem[o, [a, b]] = True
        assert count[s].tolist() == want.tolist(), s
        assert members[s].tolist() == mem.tolist(), s
        for o in range(n_out):
            ex = [tuple(e) for e in examples[s, o].tolist() if e[0] >= 0]
            assert len(ex) == min(2, want[o]) and set(ex) <= pairs, (s, o)


# ============================================================================ patients
def call(out, *vcfs, extra=()):
    r = subprocess.run([*PGX, "call", "-q", *extra, "-o", str(out), *map(str, vcfs)],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return out


def gene_entry(out, sample, gene):
    doc = json.loads((out / f"{sample}.calls.json").read_text())
    return next(g for g in doc["genes"] if g["gene"] == gene)


def tsv_row(out, sample, gene):
    with open(out / "calls.tsv", newline="") as fh:
        return next(r for r in csv.DictReader(fh, delimiter="\t")
                    if r["sample"] == sample and r["gene"] == gene)


def test_missing_defining_position_keeps_the_allele_possible(patient_vcf, tmp_path):
    """Case 1: a CYP2C9 *1/*3 patient without a record at rs1057910 (chr10:94981296)."""
    vcf = patient_vcf("P1", design={"CYP2C9": ("*1", "*3")}, absent={"CYP2C9": ["rs1057910"]})
    for extra in ((), ("--all-candidates",)):
        out = call(tmp_path / ("o" + "".join(extra)), vcf, extra=extra)
        g = gene_entry(out, "P1", "CYP2C9")
        assert g["status"] == "partial"
        assert "*1/*1" in g["diplotype"].split(" OR ")  # PharmCAT-compatible reported call
        assert g["possible_phenotypes"] == ["Intermediate Metabolizer", "Normal Metabolizer",
                                            "Poor Metabolizer"]
        assert g["phenotype_certain"] is False
        by = {x["phenotype"]: x for x in g["not_excluded"]}
        im = by["Intermediate Metabolizer"]
        assert "*1/*3" in im["examples"] and "1.0" in im["activity_scores"]
        assert "1.0" in im["lookup_keys"]
        pos = [p for p in im["positions"] if p["position"] == "chr10:94981296"]
        assert pos and pos[0]["rsid"] == "rs1057910" and "*3" in pos[0]["alleles"]
        assert im["resolved_by"] == "positions"
        assert "*3/*3" in by["Poor Metabolizer"]["examples"]
        row = tsv_row(out, "P1", "CYP2C9")
        assert row["possible_phenotypes"] == ("Intermediate Metabolizer;Normal Metabolizer;"
                                              "Poor Metabolizer")


def test_missing_defining_position_with_pharmcat_definitions(patient_vcf, tmp_path,
                                                             pharmcat_definitions):
    vcf = patient_vcf("P1", design={"CYP2C9": ("*1", "*3")}, absent={"CYP2C9": ["rs1057910"]})
    out = call(tmp_path / "o", vcf, extra=("--definitions", str(pharmcat_definitions)))
    g = gene_entry(out, "P1", "CYP2C9")
    assert {"Intermediate Metabolizer", "Poor Metabolizer"} <= set(g["possible_phenotypes"])
    im = next(x for x in g["not_excluded"] if x["phenotype"] == "Intermediate Metabolizer")
    assert any(p["position"] == "chr10:94981296" and "*3" in p["alleles"]
               for p in im["positions"])


def test_dpyd_with_two_no_or_decreased_function_positions_absent(patient_vcf, tmp_path):
    """Case 2: c.1905+1G>A (rs3918290) and c.2846A>T (rs67376798) absent, rest reference."""
    vcf = patient_vcf("P2", absent={"DPYD": ["rs3918290", "rs67376798"]})
    g = gene_entry(call(tmp_path / "o", vcf), "P2", "DPYD")
    assert g["diplotype"] == "Reference/Reference" and g["status"] == "partial"
    assert g["possible_phenotypes"] == ["Intermediate Metabolizer", "Normal Metabolizer",
                                        "Poor Metabolizer"]
    keys = {k for x in g["not_excluded"] for k in x["lookup_keys"]}
    assert {"1.0", "1.5", "0.5", "0.0"} <= keys
    shown = {p["position"] for x in g["not_excluded"] for p in x["positions"]}
    assert shown == {"chr1:97450058", "chr1:97082391"}


def test_demo005_cyp2c19_poor_metabolizer_is_possible(tmp_path):
    """Case 3: DEMO005 is reported *1/*2, but *2/*3 (Poor Metabolizer) is not excluded."""
    out = call(tmp_path / "o", DEMO / "DEMO005.vcf.gz")
    g = gene_entry(out, "DEMO005", "CYP2C19")
    assert g["diplotype"] == "*1/*2" and g["phenotype"] == "Intermediate Metabolizer"
    pm = next(x for x in g["not_excluded"] if x["phenotype"] == "Poor Metabolizer")
    assert "*2/*3" in pm["examples"] or pm["count"] > len(pm["examples"])
    assert any("*3" in p["alleles"] and p["rsid"] == "rs4986893" for p in pm["positions"])
    assert g["possible_phenotypes"] == ["Intermediate Metabolizer", "Poor Metabolizer"]
    # every gene without missing data and with one fitting diplotype is certain
    nat2 = gene_entry(out, "DEMO005", "NAT2")
    assert nat2["status"] == "not_called" and nat2["possible_phenotypes"] == []
    assert nat2["phenotype_certain"] is False


def test_unphased_pairs_of_different_function_count(tmp_path):
    """TPMT *1/*3A (Intermediate) and *3B/*3C (Poor) fit DEMO003's unphased genotypes."""
    out = call(tmp_path / "o", DEMO / "DEMO003.vcf.gz", DEMO / "DEMO006.vcf.gz")
    g = gene_entry(out, "DEMO003", "TPMT")
    assert g["diplotype"] == "*1/*3A" and g["status"] == "called"
    pm = next(x for x in g["not_excluded"] if x["phenotype"] == "Poor Metabolizer")
    assert pm["examples"] == ["*3B/*3C"] and pm["positions"] == []
    assert pm["resolved_by"] == "phase"
    assert g["phenotype_certain"] is False
    phased = gene_entry(out, "DEMO006", "TPMT")  # phase decides: nothing else fits
    assert phased["diplotype"] == "*3B/*3C" and phased["not_excluded"] == []
    assert phased["possible_phenotypes"] == ["Poor Metabolizer"] and phased["phenotype_certain"]


def test_complete_reference_patient_is_certain(tmp_path):
    out = call(tmp_path / "o", DEMO / "DEMO001.vcf.gz")
    doc = json.loads((out / "DEMO001.calls.json").read_text())
    for g in doc["genes"]:
        if g["phenotype"]:  # CYP4F2 has no CPIC phenotype
            assert g["not_excluded"] == [] and g["phenotype_certain"], g["gene"]
            assert g["possible_phenotypes"] == [g["phenotype"]]


def test_hapb3_from_its_tag_alone_is_an_inference(patient_vcf, tmp_path):
    """DPYD HapB3 called from c.1236G>A with the intronic c.1129-5923C>G (rs75017182) missing."""
    vcf = patient_vcf("P3", design={"DPYD": ("Reference", "c.1129-5923C>G, c.1236G>A (HapB3)")},
                      absent={"DPYD": ["rs75017182"]})
    g = gene_entry(call(tmp_path / "o", vcf), "P3", "DPYD")
    assert "HapB3" in g["diplotype"] and g["activity_score"] == "1.5"
    assert "inferred from its tag" in g["inferred"] and "rs75017182" in g["inferred"]
    normal = next(x for x in g["not_excluded"] if x["phenotype"] == "Normal Metabolizer")
    assert normal["examples"] == ["Reference/c.1236G>A alone"]
    assert [p["position"] for p in normal["positions"]] == ["chr1:97579893"]
    assert g["possible_phenotypes"] == ["Intermediate Metabolizer", "Normal Metabolizer"]
