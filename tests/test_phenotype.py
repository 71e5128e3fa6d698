"""Phenotype assignment (pgx.phenotype.assign) from the embedded panel.

Representative diplotypes of each gene get CPIC's phenotype and activity score; ties between
diplotypes with different phenotypes are reported as ``A OR B``; and, where ../shared holds
PharmCAT's phenotype tables, the embedded panel gives the same phenotype and score as PharmCAT's
tables for every diplotype of panel alleles that those tables list.
"""
from __future__ import annotations

import glob
import json
import re
from pathlib import Path

import pytest

from pgx.calling.caller import call_vcfs
from pgx.calling.model import CALLED, NOT_CALLED, PARTIAL, Diplotype, GeneCall
from pgx.definitions.embedded import load_embedded
from pgx.phenotype.assign import assign_phenotype, assign_phenotypes

PANEL = load_embedded()
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PHENOTYPES = SHARED / "oracle" / "pharmcat" / "phenotypes"


def allele_named(gene: str, prefix: str) -> str:
    """The panel's name for an allele (G6PD names list every synonym: match the first one)."""
    names = [a.name for a in PANEL.genes[gene].alleles]
    if prefix in names:
        return prefix
    names = [n for n in names if n.startswith(prefix)]
    assert len(names) == 1, (gene, prefix, names)
    return names[0]


def pheno(gene: str, diplotype: str) -> tuple[str, str]:
    """(phenotype, activity score as written in calls.tsv) of a called diplotype."""
    g = PANEL.genes[gene]
    alleles = tuple(allele_named(gene, a) if gene == "G6PD" else a for a in diplotype.split("/"))
    call = GeneCall(sample="S", gene=gene, status=CALLED, diplotypes=[Diplotype(alleles)])
    assign_phenotype(g, call)
    return call.phenotype, call.activity_score


# ============================================================================ representative
CASES = [
    # CYP2C19 (function pairs)
    ("CYP2C19", "*1/*1", "Normal Metabolizer", ""),
    ("CYP2C19", "*38/*38", "Normal Metabolizer", ""),
    ("CYP2C19", "*1/*2", "Intermediate Metabolizer", ""),
    ("CYP2C19", "*2/*2", "Poor Metabolizer", ""),
    ("CYP2C19", "*2/*3", "Poor Metabolizer", ""),
    ("CYP2C19", "*1/*17", "Rapid Metabolizer", ""),
    ("CYP2C19", "*17/*17", "Ultrarapid Metabolizer", ""),
    ("CYP2C19", "*2/*17", "Intermediate Metabolizer", ""),
    ("CYP2C19", "*1/*9", "Likely Intermediate Metabolizer", ""),
    ("CYP2C19", "*2/*9", "Likely Poor Metabolizer", ""),
    ("CYP2C19", "*1/*12", "Indeterminate", ""),  # uncertain function
    # CYP2C9 (activity score)
    ("CYP2C9", "*1/*1", "Normal Metabolizer", "2.0"),
    ("CYP2C9", "*1/*2", "Intermediate Metabolizer", "1.5"),
    ("CYP2C9", "*1/*3", "Intermediate Metabolizer", "1.0"),
    ("CYP2C9", "*2/*2", "Intermediate Metabolizer", "1.0"),
    ("CYP2C9", "*2/*3", "Poor Metabolizer", "0.5"),
    ("CYP2C9", "*3/*3", "Poor Metabolizer", "0.0"),
    ("CYP2C9", "*1/*27", "Indeterminate", ""),  # no activity value
    # DPYD (activity score)
    ("DPYD", "Reference/Reference", "Normal Metabolizer", "2.0"),
    ("DPYD", "Reference/c.1905+1G>A (*2A)", "Intermediate Metabolizer", "1.0"),
    ("DPYD", "Reference/c.1129-5923C>G, c.1236G>A (HapB3)", "Intermediate Metabolizer", "1.5"),
    ("DPYD", "c.2846A>T/c.2846A>T", "Intermediate Metabolizer", "1.0"),
    ("DPYD", "c.1905+1G>A (*2A)/c.2846A>T", "Poor Metabolizer", "0.5"),
    ("DPYD", "c.1905+1G>A (*2A)/c.1905+1G>A (*2A)", "Poor Metabolizer", "0.0"),
    ("DPYD", "Reference/c.85T>C (*9A)", "Normal Metabolizer", "2.0"),
    # TPMT, NUDT15
    ("TPMT", "*1/*1", "Normal Metabolizer", ""),
    ("TPMT", "*1/*3A", "Intermediate Metabolizer", ""),
    ("TPMT", "*3A/*3C", "Poor Metabolizer", ""),
    ("TPMT", "*3A/*8", "Possible Intermediate Metabolizer", ""),
    ("TPMT", "*1/*8", "Indeterminate", ""),
    ("NUDT15", "*1/*1", "Normal Metabolizer", ""),
    ("NUDT15", "*1/*3", "Intermediate Metabolizer", ""),
    ("NUDT15", "*3/*3", "Poor Metabolizer", ""),
    ("NUDT15", "*3/*5", "Possible Intermediate Metabolizer", ""),
    # G6PD: one allele for a hemizygous male, two for a female
    ("G6PD", "Mediterranean", "Deficient", ""),
    ("G6PD", "A- 202A", "Deficient", ""),
    ("G6PD", "B (reference)", "Normal", ""),
    ("G6PD", "A", "Normal", ""),
    ("G6PD", "Gond", "Indeterminate", ""),
    ("G6PD", "B (reference)/Mediterranean", "Variable", ""),
    ("G6PD", "Mediterranean/Mediterranean", "Deficient", ""),
    ("G6PD", "B (reference)/A", "Normal", ""),
    # SLCO1B1, UGT1A1, MT-RNR1
    ("SLCO1B1", "*1/*1", "Normal Function", ""),
    ("SLCO1B1", "*1/*5", "Decreased Function", ""),
    ("SLCO1B1", "*5/*5", "Poor Function", ""),
    ("SLCO1B1", "*5/*15", "Poor Function", ""),
    ("SLCO1B1", "*1/*14", "Normal Function", ""),
    ("SLCO1B1", "*14/*14", "Increased Function", ""),
    ("UGT1A1", "*1/*28", "Intermediate Metabolizer", ""),
    ("UGT1A1", "*28/*28", "Poor Metabolizer", ""),
    ("MT-RNR1", "m.1555A>G", "increased risk of aminoglycoside-induced hearing loss", ""),
    ("MT-RNR1", "Reference", "normal risk of aminoglycoside-induced hearing loss", ""),
]


@pytest.mark.parametrize("gene, diplotype, phenotype, score", CASES,
                         ids=[f"{g}:{d}" for g, d, _, _ in CASES])
def test_representative_phenotypes(gene, diplotype, phenotype, score):
    assert pheno(gene, diplotype) == (phenotype, score)


def test_cyp2d6_outside_call_phenotypes():
    """CYP2D6 is phenotyped for outside calls; copy numbers multiply activity (CPIC)."""
    for dip, want in [("*1/*1", ("Normal Metabolizer", "2.0")),
                      ("*1/*4", ("Intermediate Metabolizer", "1.0")),
                      ("*4/*4", ("Poor Metabolizer", "0.0")),
                      ("*1/*10", ("Normal Metabolizer", "1.25")),
                      ("*10/*10", ("Intermediate Metabolizer", "0.5")),
                      ("*1/*1x2", ("Ultrarapid Metabolizer", "3.0")),
                      ("*1x2/*4", ("Normal Metabolizer", "2.0")),
                      ("*1/*999", ("Indeterminate", ""))]:
        assert pheno("CYP2D6", dip) == want, dip


# ============================================================================ ties, statuses
def _call(gene, diplotypes, status=CALLED):
    return GeneCall(sample="S", gene=gene, status=status,
                    diplotypes=[Diplotype(tuple(d.split("/"))) for d in diplotypes])


def test_tie_with_different_phenotypes_is_reported_as_or():
    c = assign_phenotype(PANEL.genes["CYP2C19"], _call("CYP2C19", ["*1/*2", "*1/*17"], PARTIAL))
    assert c.phenotype == "Intermediate Metabolizer OR Rapid Metabolizer"
    assert c.lookup_keys == ["Intermediate Metabolizer", "Rapid Metabolizer"]


def test_tie_with_one_phenotype_is_reported_once():
    c = assign_phenotype(PANEL.genes["CYP2C19"], _call("CYP2C19", ["*1/*2", "*1/*35"]))
    assert c.phenotype == "Intermediate Metabolizer"
    c = assign_phenotype(PANEL.genes["CYP2C9"], _call("CYP2C9", ["*1/*2", "*1/*3"]))
    assert (c.phenotype, c.activity_score) == ("Intermediate Metabolizer", "1.5 OR 1.0")
    assert c.lookup_keys == ["1.5", "1.0"]  # activity genes look recommendations up by score


def test_not_called_gets_no_phenotype():
    c = assign_phenotype(PANEL.genes["CYP2C19"], _call("CYP2C19", [], NOT_CALLED))
    assert (c.phenotype, c.activity_score, c.lookup_keys) == ("", "", [])


def test_tie_through_a_vcf(tmp_path):
    """UGT1A1 *80 (rs887829) heterozygous with the *28 TA-repeat site absent (often uncalled in
    short-read VCFs): *1/*80 (Indeterminate) cannot be told from *1/*80+*28 (Intermediate)."""
    gene = PANEL.genes["UGT1A1"]
    lines = ["##fileformat=VCFv4.2",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "##contig=<ID=chr2,length=242193529>",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS"]
    for v in gene.variants:
        if v.rsid == "rs3064744":
            continue
        gt = "0/1" if v.rsid == "rs887829" else "0/0"
        lines.append(f"chr2\t{v.position}\t{v.rsid}\t{v.ref}\t{','.join(v.alts)}\t.\tPASS\t.\t"
                     f"GT\t{gt}")
    (tmp_path / "t.vcf").write_text("\n".join(lines) + "\n")
    result = call_vcfs([str(tmp_path / "t.vcf")], PANEL)
    assign_phenotypes(PANEL, result.calls["S"])
    call = next(c for c in result.calls["S"] if c.gene == "UGT1A1")
    assert call.status == PARTIAL
    assert {"*1/*80", "*1/*80+*28"} <= set(call.diplotype.split(" OR "))
    phenotypes = call.phenotype.split(" OR ")
    assert len(phenotypes) == len(set(phenotypes))  # each phenotype once
    assert {"Indeterminate", "Intermediate Metabolizer"} <= set(phenotypes)


# ============================================================================ PharmCAT tables
def _pharmcat_table(gene: str) -> list[dict]:
    stem = gene.replace("-", "_")
    path = PHENOTYPES / f"{stem}.json"
    if not path.is_file():
        found = sorted(glob.glob(str(PHENOTYPES / "_older_fallback" / f"{stem}.cpic.*.json")))
        if not found:
            return []
        path = Path(found[-1])
    return json.loads(path.read_text()).get("diplotypes") or []


def _norm_score(s: str | None) -> str:
    return "" if s in ("", None, "n/a") else str(float(s))


PANEL_GENES = sorted(PANEL.genes)


@pytest.mark.parametrize("gene", PANEL_GENES)
def test_phenotypes_agree_with_pharmcat_tables(gene):
    if not PHENOTYPES.is_dir():
        pytest.skip("../shared PharmCAT phenotype tables absent")
    table = _pharmcat_table(gene)
    if not table:
        pytest.skip(f"PharmCAT ships no diplotype table for {gene}")
    g = PANEL.genes[gene]
    names = {a.name for a in g.alleles}
    checked, wrong = 0, []
    for row in table:
        alleles = tuple(row["diplotype"].split("/"))
        if "≥" in row["diplotype"]:
            continue  # CYP2D6 'x≥3' copy numbers: see test_cyp2d6_at_least_three_copies
        if not all(re.sub(r"x\d+$", "", a) in names for a in alleles):
            continue  # an allele outside the embedded panel
        want = (row.get("phenotype") or row.get("generesult"),
                _norm_score(row.get("activityScore")))
        call = GeneCall(sample="S", gene=gene, status=CALLED, diplotypes=[Diplotype(alleles)])
        assign_phenotype(g, call)
        got = (call.phenotype, _norm_score(call.activity_score))
        checked += 1
        if got != want:
            wrong.append((row["diplotype"], got, want))
    assert checked > 0
    assert not wrong, f"{len(wrong)} of {checked} differ, e.g. {wrong[:5]}"


@pytest.fixture(scope="module")
def pharmcat_panel(pharmcat_definitions):
    from pgx.definitions.pharmcat import load_pharmcat

    return load_pharmcat(pharmcat_definitions)


def test_representative_phenotypes_with_pharmcat_definitions(pharmcat_panel):
    """``--definitions`` PharmCAT: the same diplotypes get the same phenotypes and scores."""
    checked = 0
    for gene, diplotype, phenotype, score in CASES:
        g = pharmcat_panel.genes.get(gene)
        if g is None:
            continue  # MT-RNR1: PharmCAT ships no translation file
        alleles = tuple(allele_named(gene, a) if gene == "G6PD" else a
                        for a in diplotype.split("/"))
        call = GeneCall(sample="S", gene=gene, status=CALLED, diplotypes=[Diplotype(alleles)])
        assign_phenotype(g, call)
        assert (call.phenotype, call.activity_score) == (phenotype, score), (gene, diplotype)
        checked += 1
    assert checked >= len(CASES) - 2


def test_cyp2d6_at_least_three_copies():
    # CPIC's CYP2D6 diplotype table: *1/*4x≥3 = Intermediate Metabolizer (1.0, *4 has no
    # function); *1/*1x≥3 = Ultrarapid Metabolizer (≥ 4.0)
    assert pheno("CYP2D6", "*1/*4x≥3")[0] == "Intermediate Metabolizer"
    assert pheno("CYP2D6", "*1/*1x≥3")[0] == "Ultrarapid Metabolizer"
