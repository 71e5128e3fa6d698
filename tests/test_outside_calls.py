"""Outside calls (``pgx call --outside-calls TSV``): PharmCAT's outside-call format merged into
the results, a sample column for multi-sample runs, every row checked against the definitions
in use (unknown genes and alleles, allele counts, HLA allele names, phenotypes), known spellings
normalised, phenotypes computed from the diplotype, and bad files rejected with exit status 3.

All runs go through the command line on real VCF files (``pgx.cli.main`` in-process, plus one
subprocess for the exit status seen by a shell).
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import PGX, REPO, SHARED
from pgx.calling.outside_calls import outside_calls_for, read_outside_calls
from pgx.cli import main
from pgx.definitions.embedded import load_embedded
from pgx.errors import InputError
from pgx.guidelines.model import ALLELE_STATUS_GENES
from pgx.recommend import read_calls

PANEL = load_embedded()
PHARMCAT_EXAMPLE = SHARED / "oracle" / "pharmcat" / "examples" / "pharmcat.example.outsideCall.tsv"
LENGTHS = {"chr10": 133797422, "chrM": 16569}


def write_vcf(path: Path, samples: list[str], genes=("CYP2C19", "MT-RNR1")) -> Path:
    """All defined positions of ``genes``, every sample REF (haploid on chrM)."""
    lines = ["##fileformat=VCFv4.2",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']
    lines += [f"##contig=<ID={c},length={n}>" for c, n in LENGTHS.items()]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                            "FORMAT", *samples]))
    for g in genes:
        for v in PANEL.genes[g].variants:
            gt = "0" if v.chrom == "chrM" else "0/0"
            lines.append("\t".join([v.chrom, str(v.position), v.rsid or ".", v.ref,
                                    ",".join(v.alts), ".", "PASS", ".", "GT",
                                    *[gt] * len(samples)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def pgx_call(tmp_path: Path, vcf: Path, outside: Path, *extra: str):
    """Run ``pgx call``; returns (exit status, calls.tsv rows by (sample, gene), JSON by sample)."""
    out = tmp_path / "out"
    rc = main(["call", "-q", "-o", str(out), "--outside-calls", str(outside), *extra, str(vcf)])
    if rc != 0:
        return rc, None, None
    rows: dict[tuple[str, str], list[dict]] = {}
    for r in csv.DictReader(open(out / "calls.tsv"), delimiter="\t"):
        rows.setdefault((r["sample"], r["gene"]), []).append(r)
    docs = {p.name.split(".calls.json")[0]: json.loads(p.read_text())
            for p in out.glob("*.calls.json")}
    return rc, rows, docs


def gene_doc(doc: dict, gene: str) -> dict:
    return next(g for g in doc["genes"] if g["gene"] == gene)


def one(rows, sample, gene) -> dict:
    assert len(rows[(sample, gene)]) == 1, rows[(sample, gene)]
    return rows[(sample, gene)][0]


# ============================================================================ merging
@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """One sample, PharmCAT's header-less format: computed phenotypes, a replaced VCF call."""
    d = tmp_path_factory.mktemp("single")
    outside = d / "calls.outside.tsv"
    outside.write_text("# lab results\nCYP2D6\t*1/*3\nHLA-B\t*15:02/*57:01\n\n"
                       "CYP2C19\t*1/*2\nHLA-A\t\t*31:01 negative\n")
    rc, rows, docs = pgx_call(d, write_vcf(d / "s.vcf", ["S1"]), outside)
    assert rc == 0
    return rows, docs["S1"]


def test_outside_calls_are_merged(single):
    rows, doc = single
    cyp2d6 = one(rows, "S1", "CYP2D6")
    assert (cyp2d6["diplotype"], cyp2d6["status"]) == ("*1/*3", "outside_call")
    # phenotype and activity score from the panel's CYP2D6 table (as PharmCAT reports them)
    assert (cyp2d6["phenotype"], cyp2d6["activity_score"]) == ("Intermediate Metabolizer", "1.0")
    hla = one(rows, "S1", "HLA-B")
    assert (hla["diplotype"], hla["status"]) == ("*15:02/*57:01", "outside_call")
    # what a clinician reads: the status of each allele the guidelines ask about
    assert hla["phenotype"] == "HLA-B*57:01 positive; HLA-B*58:01 negative; HLA-B*15:02 positive"
    hla_a = one(rows, "S1", "HLA-A")  # a phenotype without a diplotype
    assert (hla_a["diplotype"], hla_a["phenotype"], hla_a["status"]) == \
        ("", "*31:01 negative", "outside_call")
    g = gene_doc(doc, "CYP2D6")
    assert "calls.outside.tsv" in g["source"]
    assert g["diplotypes"] == [{"alleles": ["*1", "*3"], "score": 0}]
    # VCF-based genes are still there, untouched
    assert one(rows, "S1", "MT-RNR1")["status"] == "called"
    assert gene_doc(doc, "MT-RNR1")["source"].startswith("pgx embedded panel")


def test_outside_call_replaces_vcf_call_with_warning(single):
    # the VCF says CYP2C19 *38/*38 (all REF); the lab's outside call says *1/*2
    rows, doc = single
    row = one(rows, "S1", "CYP2C19")  # one row: replaced, not added
    assert (row["diplotype"], row["status"]) == ("*1/*2", "outside_call")
    assert row["phenotype"] == "Intermediate Metabolizer"
    g = gene_doc(doc, "CYP2C19")
    assert "calls.outside.tsv" in g["source"]
    assert any("replaces" in w and "*38/*38" in w for w in g["warnings"]), g["warnings"]
    assert sum(x["gene"] == "CYP2C19" for x in doc["genes"]) == 1


def test_pharmcat_example_file(tmp_path):
    if not PHARMCAT_EXAMPLE.is_file():
        pytest.skip("../shared PharmCAT example absent")
    vcf = write_vcf(tmp_path / "s.vcf", ["S1"])
    rc, rows, docs = pgx_call(tmp_path, vcf, PHARMCAT_EXAMPLE)
    assert rc == 0
    assert {g for (s, g), r in rows.items() if r[0]["status"] == "outside_call"} == \
        {"CYP2D6", "HLA-B", "MT-RNR1"}
    assert one(rows, "S1", "CYP2D6")["phenotype"] == "Intermediate Metabolizer"
    # PharmCAT writes MT-RNR1 1555A>G; the embedded panel names the allele m.1555A>G
    mt = one(rows, "S1", "MT-RNR1")
    assert (mt["diplotype"], mt["phenotype"]) == \
        ("m.1555A>G", "increased risk of aminoglycoside-induced hearing loss")
    assert "outside call allele 1555A>G read as m.1555A>G" in \
        gene_doc(docs["S1"], "MT-RNR1")["warnings"]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Four samples, a header with a sample column (and the phenotype columns)."""
    d = tmp_path_factory.mktemp("cohort")
    outside = d / "cohort.tsv"
    outside.write_text("sample\tgene\tdiplotype\tphenotype\tactivity score\n"
                       "S1\tCYP2D6\t*1/*4\n"
                       "S2\tCYP2D6\t*4/*4\n"
                       "S2\tCYP2C19\t*2/*2\n"
                       "S4\tCYP2D6\t*1/*1\tUltrarapid Metabolizer\t3.0\n")
    rc, rows, docs = pgx_call(d, write_vcf(d / "c.vcf", ["S1", "S2", "S3", "S4"]), outside)
    assert rc == 0
    return rows, docs


def test_sample_column_for_multi_sample_runs(cohort):
    rows, docs = cohort
    assert one(rows, "S1", "CYP2D6")["diplotype"] == "*1/*4"
    assert one(rows, "S1", "CYP2D6")["phenotype"] == "Intermediate Metabolizer"
    assert one(rows, "S2", "CYP2D6")["diplotype"] == "*4/*4"
    assert one(rows, "S2", "CYP2D6")["phenotype"] == "Poor Metabolizer"
    assert one(rows, "S2", "CYP2C19")["status"] == "outside_call"
    assert one(rows, "S1", "CYP2C19")["status"] == "called"  # only S2's call is replaced
    assert ("S3", "CYP2D6") not in rows
    assert gene_doc(docs["S3"], "CYP2C19")["status"] == "called"
    assert "cohort.tsv" in gene_doc(docs["S2"], "CYP2C19")["source"]


def test_contradicting_phenotype_is_replaced_by_the_computed_one(cohort):
    rows, docs = cohort
    row = one(rows, "S4", "CYP2D6")  # the file says Ultrarapid / 3.0 for *1/*1
    assert (row["diplotype"], row["phenotype"], row["activity_score"]) == \
        ("*1/*1", "Normal Metabolizer", "2.0")
    assert gene_doc(docs["S4"], "CYP2D6")["warnings"] == [
        "outside call gives Ultrarapid Metabolizer / activity score 3.0; computed from *1/*1: "
        "Normal Metabolizer / 2.0 — the computed phenotype is used"]
    assert gene_doc(docs["S4"], "CYP2D6")["lookup_keys"] == ["2.0"]


def test_cohort_file_with_sample_selection(tmp_path):
    outside = tmp_path / "cohort.tsv"
    outside.write_text("sample\tgene\tdiplotype\nS1\tCYP2D6\t*1/*4\nS2\tCYP2D6\t*4/*4\n")
    vcf = write_vcf(tmp_path / "c.vcf", ["S1", "S2"])
    rc, rows, _ = pgx_call(tmp_path, vcf, outside, "--sample", "S1")
    assert rc == 0
    assert one(rows, "S1", "CYP2D6")["diplotype"] == "*1/*4"
    assert ("S2", "CYP2D6") not in rows


def test_gene_given_twice_for_a_sample_is_rejected(tmp_path, capsys):
    # line 2 (no sample: every sample called, here S1) and line 3 (S1) both give S1's CYP2D6
    outside = tmp_path / "cohort.tsv"
    outside.write_text("sample\tgene\tdiplotype\n\tCYP2D6\t*1/*4\nS1\tCYP2D6\t*1/*1\n")
    vcf = write_vcf(tmp_path / "c.vcf", ["S1"])
    rc, rows, _ = pgx_call(tmp_path, vcf, outside)
    err = capsys.readouterr().err
    assert rc == 3
    assert err == (f"pgx call: error: {outside}:3: gene CYP2D6 given twice for sample S1 (also "
                   f"line 2); keep one line per gene and sample\n")
    assert not (tmp_path / "out").exists()


# ============================================================================ bad files
BAD_FILES = {
    "unknown column": ("gene\tdiplotype\tcolour\nCYP2D6\t*1/*1\tred\n",
                       r"bad\.tsv:1: unknown header"),
    "too many columns": ("CYP2D6\t*1/*1\tNormal Metabolizer\t2.0\textra\n",
                         r"bad\.tsv:1: 5 columns"),
    "no diplotype or phenotype": ("CYP2D6\n", r"bad\.tsv:1: each line needs a gene"),
    "gene twice": ("# c\nCYP2D6\t*1/*1\nCYP2D6\t*1/*2\n", r"bad\.tsv:3: gene CYP2D6 given twice"),
    "no sample column, two samples": ("CYP2D6\t*1/*1\n", r"bad\.tsv:1: no sample column"),
    "unknown sample": ("sample\tgene\tdiplotype\nNA00001\tCYP2D6\t*1/*1\n",
                       r"bad\.tsv:2: sample 'NA00001' is in none of the input VCFs"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_outside_call_file_is_input_error(tmp_path, case):
    """Exit status 3 (InputError), naming the file and line."""
    text, pattern = BAD_FILES[case]
    outside = tmp_path / "bad.tsv"
    outside.write_text(text)
    with pytest.raises(InputError, match=pattern) as exc:
        outside_calls_for(read_outside_calls(outside), str(outside), ["S1", "S2"])
    assert exc.value.exit_code == 3


@pytest.mark.parametrize("case", ["unknown column", "no sample column, two samples"])
def test_bad_outside_call_file_exits_3(tmp_path, capsys, case):
    text, pattern = BAD_FILES[case]
    outside = tmp_path / "bad.tsv"
    outside.write_text(text)
    vcf = write_vcf(tmp_path / "c.vcf", ["S1", "S2"])
    rc, _, _ = pgx_call(tmp_path, vcf, outside)
    err = capsys.readouterr().err
    assert rc == 3, err
    assert err.startswith("pgx call: error: ") and len(err.strip().splitlines()) == 1
    assert re.search(pattern, err), err
    assert not (tmp_path / "out" / "calls.tsv").exists()  # nothing half-written


def test_missing_outside_call_file_exits_3_from_the_shell(tmp_path, env):
    vcf = write_vcf(tmp_path / "c.vcf", ["S1"])
    proc = subprocess.run(PGX + ["call", "-q", "-o", str(tmp_path / "out"), "--outside-calls",
                                 str(tmp_path / "nope.tsv"), str(vcf)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 3
    assert "nope.tsv" in proc.stderr and "not found" in proc.stderr
    assert not (tmp_path / "out").exists()


# ============================================================================ checked forms
def call_and_recommend(tmp_path: Path, text: str, *extra: str, samples=("S1",)):
    """``pgx call`` with ``text`` as the outside calls, every calls JSON read back through the
    schema that ``pgx recommend`` checks (``pgx.recommend.read_calls``), then ``pgx recommend``
    (exit 0). Returns (calls.tsv rows, calls JSON by sample, recommendations JSON by sample)."""
    outside = tmp_path / "outside.tsv"
    outside.write_text(text)
    vcf = write_vcf(tmp_path / "s.vcf", list(samples))
    rc, rows, docs = pgx_call(tmp_path, vcf, outside, *extra)
    assert rc == 0
    paths = sorted((tmp_path / "out").glob("*.calls.json"))
    assert [read_calls(p)["sample"] for p in paths] == sorted(samples)  # schema-valid
    recs = tmp_path / "recs"
    assert main(["recommend", "-q", "-o", str(recs), *map(str, paths)]) == 0
    return rows, docs, {s: json.loads((recs / f"{s}.recommendations.json").read_text())
                        for s in samples}


def actions(rec: dict, drug: str, source: str = "CPIC") -> list[str]:
    (e,) = [e for e in rec["drugs"] if e["drug"] == drug and e["source"]["guideline"] == source]
    return [r["action"] for r in e["recommendations"]]


HLA_B_5701 = "HLA-B*57:01 positive; HLA-B*58:01 negative; HLA-B*15:02 negative"
# name: (file, {gene: (diplotype, phenotype, activity_score)}, warnings that must be there,
#        {drug: CPIC actions})
ACCEPTED = {
    "no header": ("CYP2D6\t*1/*4\n",
                  {"CYP2D6": ("*1/*4", "Intermediate Metabolizer", "1.0")}, [], {}),
    "header": ("gene\tdiplotype\nCYP2D6\t*4/*4\n",
               {"CYP2D6": ("*4/*4", "Poor Metabolizer", "0.0")}, [], {"codeine": ["avoid"]}),
    # agreeing phenotype and score: case and "1" == "1.0" are no contradiction
    "header with sample column": (
        "sample\tgene\tdiplotype\tphenotype\tactivity score\n"
        "S1\tCYP2D6\t*1/*4\tintermediate metabolizer\t1\n",
        {"CYP2D6": ("*1/*4", "Intermediate Metabolizer", "1.0")}, [], {}),
    "phenotype only": ("CYP2D6\t\tpoor metabolizer\n",
                       {"CYP2D6": ("", "Poor Metabolizer", "")},
                       ["outside call phenotype poor metabolizer read as Poor Metabolizer"],
                       {"codeine": ["avoid"]}),
    "activity score only": ("CYP2D6\t\t\t1.5\n",
                            {"CYP2D6": ("", "Normal Metabolizer", "1.5")}, [], {}),
    "haploid": ("MT-RNR1\tm.1555A>G\nG6PD\tA- 202A_376G\n",
                {"MT-RNR1": ("m.1555A>G", "increased risk of aminoglycoside-induced hearing loss",
                             ""),
                 "G6PD": ("A- 202A_376G", "Deficient", "")}, [], {"amikacin": ["avoid"]}),
    "MT-RNR1 without m.": ("MT-RNR1\t1555A>G\n",
                           {"MT-RNR1": ("m.1555A>G", "increased risk of "
                                        "aminoglycoside-induced hearing loss", "")},
                           ["outside call allele 1555A>G read as m.1555A>G"],
                           {"amikacin": ["avoid"], "gentamicin": ["avoid"]}),
    "HLA with gene prefix and more fields": (
        "HLA-B\tHLA-B*57:01:01/HLA-B*08:01\n",
        {"HLA-B": ("*57:01:01/*08:01", HLA_B_5701, "")},
        ["outside call allele HLA-B*57:01:01 read as *57:01:01",
         "outside call allele HLA-B*08:01 read as *08:01"], {"abacavir": ["avoid"]}),
    "HLA without prefix": (
        "HLA-A\t*31:01/*02:01\nHLA-B\t*58:01/*15:02\n",
        {"HLA-A": ("*31:01/*02:01", "HLA-A*31:01 positive", ""),
         "HLA-B": ("*58:01/*15:02",
                   "HLA-B*57:01 negative; HLA-B*58:01 positive; HLA-B*15:02 positive", "")},
        [], {"allopurinol": ["avoid"], "abacavir": ["standard"]}),
    "HLA phenotype only": ("HLA-A\t\t*31:01 negative\nHLA-B\t\tHLA-B*57:01 positive\n",
                           {"HLA-A": ("", "*31:01 negative", ""),
                            "HLA-B": ("", "HLA-B*57:01 positive", "")}, [], {}),
    "copy number x2": ("CYP2D6\t*1x2/*4\n",
                       {"CYP2D6": ("*1x2/*4", "Normal Metabolizer", "2.0")}, [], {}),
    "copy number x≥3": ("CYP2D6\t*2x≥3/*1\n",
                        {"CYP2D6": ("*2x≥3/*1", "Ultrarapid Metabolizer", "4.0")}, [],
                        {"codeine": ["avoid"]}),
    "copy number x>=3": ("CYP2D6\t*2X>=3/*1\n",
                         {"CYP2D6": ("*2x≥3/*1", "Ultrarapid Metabolizer", "4.0")},
                         ["outside call allele *2X>=3 read as *2x≥3"], {}),
    "copy number xN": ("CYP2D6\t*1xN/*4\n",
                       {"CYP2D6": ("*1xN/*4", "Indeterminate", "")}, [], {}),
    "gene prefix and case": (
        "cyp2c19\tCYP2C19*1/cyp2c19*2\n",
        {"CYP2C19": ("*1/*2", "Intermediate Metabolizer", "")},
        ["outside call gene cyp2c19 read as CYP2C19", "outside call allele CYP2C19*1 read as *1",
         "outside call allele cyp2c19*2 read as *2"], {}),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_accepted_form_round_trips_through_recommend(tmp_path, case):
    text, expected, warnings, drugs = ACCEPTED[case]
    rows, docs, recs = call_and_recommend(tmp_path, text)
    for gene, want in expected.items():
        row = one(rows, "S1", gene)
        assert row["status"] == "outside_call"
        assert (row["diplotype"], row["phenotype"], row["activity_score"]) == want, gene
    found = [w for gene in expected for w in gene_doc(docs["S1"], gene)["warnings"]]
    for w in warnings:
        assert w in found, found
    assert not [w for w in found if "computed phenotype is used" in w]
    for drug, acts in drugs.items():
        assert actions(recs["S1"], drug) == acts, drug


def test_cohort_file_round_trips(tmp_path):
    text = ("sample\tgene\tdiplotype\tphenotype\tactivity_score\n"
            "S1\tCYP2D6\t*1/*4\n"
            "S2\tHLA-B\t*57:01/*08:01\n"
            "S2\tCYP2D6\t\t\t0.0\n")
    rows, _, recs = call_and_recommend(tmp_path, text, samples=("S1", "S2"))
    assert one(rows, "S2", "CYP2D6")["phenotype"] == "Poor Metabolizer"
    assert actions(recs["S2"], "abacavir") == ["avoid"]
    assert actions(recs["S2"], "codeine") == ["avoid"]


def test_demo_outside_calls_round_trip(tmp_path):
    text = (REPO / "resources" / "demo" / "DEMO002.outside_calls.tsv").read_text()
    rows, docs, recs = call_and_recommend(tmp_path, text.replace("DEMO002", "S1"))
    assert one(rows, "S1", "HLA-B")["phenotype"] == \
        "HLA-B*57:01 positive; HLA-B*58:01 positive; HLA-B*15:02 negative"
    assert not gene_doc(docs["S1"], "CYP2D6")["warnings"]  # the demo's phenotype agrees


def test_pharmcat_example_round_trips(tmp_path):
    if not PHARMCAT_EXAMPLE.is_file():
        pytest.skip("../shared PharmCAT example absent")
    rows, _, recs = call_and_recommend(tmp_path, PHARMCAT_EXAMPLE.read_text())
    assert one(rows, "S1", "MT-RNR1")["diplotype"] == "m.1555A>G"
    # CPIC: an MT-RNR1 m.1555A>G carrier avoids aminoglycosides (was "standard" before)
    assert actions(recs["S1"], "amikacin") == ["avoid"]


def test_pharmcat_definitions_round_trip(tmp_path, pharmcat_definitions):
    """With PharmCAT's definitions: their allele names (MT-RNR1 m.1555A>G from the phenotype
    table; SLCO1B1 sub-allele *45.001 reported as *45) and their CYP2D6 phenotype table."""
    text = PHARMCAT_EXAMPLE.read_text() + "SLCO1B1\t*1/*45.001\nTPMT\t*1/*3a\n"
    rows, docs, recs = call_and_recommend(tmp_path, text, "--definitions",
                                          str(pharmcat_definitions))
    assert one(rows, "S1", "CYP2D6")["phenotype"] == "Intermediate Metabolizer"
    assert one(rows, "S1", "CYP2D6")["activity_score"] == "1.0"
    mt = one(rows, "S1", "MT-RNR1")
    assert mt["diplotype"] == "m.1555A>G" and "increased risk" in mt["phenotype"]
    assert "outside call allele 1555A>G read as m.1555A>G" in \
        gene_doc(docs["S1"], "MT-RNR1")["warnings"]
    assert one(rows, "S1", "SLCO1B1")["diplotype"] == "*1/*45"
    assert one(rows, "S1", "TPMT")["diplotype"] == "*1/*3A"
    assert one(rows, "S1", "HLA-B")["phenotype"] == \
        "HLA-B*57:01 positive; HLA-B*58:01 negative; HLA-B*15:02 positive"
    assert actions(recs["S1"], "amikacin") == ["avoid"]


def test_pharmcat_definitions_copy_numbers(tmp_path, pharmcat_definitions):
    rows, _, _ = call_and_recommend(tmp_path, "CYP2D6\t*1x2/*4\n", "--definitions",
                                    str(pharmcat_definitions))
    row = one(rows, "S1", "CYP2D6")
    assert (row["diplotype"], row["phenotype"], row["activity_score"]) == \
        ("*1x2/*4", "Normal Metabolizer", "2.0")


# ============================================================================ contradictions
CONTRADICTIONS = {
    "ultrarapid for *1/*4": (
        "CYP2D6\t*1/*4\tUltrarapid Metabolizer\t3.0\n", ("Intermediate Metabolizer", "1.0"),
        "outside call gives Ultrarapid Metabolizer / activity score 3.0; computed from *1/*4: "
        "Intermediate Metabolizer / 1.0 — the computed phenotype is used"),
    # CPIC: CYP2D6 activity score 1.0 is Intermediate
    "normal with score 1.0": (
        "CYP2D6\t*1/*4\tNormal Metabolizer\t1.0\n", ("Intermediate Metabolizer", "1.0"),
        "outside call gives Normal Metabolizer / activity score 1.0; computed from *1/*4: "
        "Intermediate Metabolizer / 1.0 — the computed phenotype is used"),
    "score only contradicts": (
        "CYP2D6\t*1/*4\t\t2.0\n", ("Intermediate Metabolizer", "1.0"),
        "outside call gives activity score 2.0; computed from *1/*4: "
        "Intermediate Metabolizer / 1.0 — the computed phenotype is used"),
    "HLA status contradicts": (
        "HLA-B\t*57:01/*08:01\t*57:01 negative\n", (HLA_B_5701, ""),
        "outside call gives *57:01 negative; computed from *57:01/*08:01: "
        f"{HLA_B_5701} — the computed phenotype is used"),
    "phenotype without diplotype contradicts its score": (
        "CYP2D6\t\tNormal Metabolizer\t1.0\n", ("Intermediate Metabolizer", "1.0"),
        "outside call gives Normal Metabolizer with activity score 1.0, which is Intermediate "
        "Metabolizer — the phenotype of the score is used"),
}


@pytest.mark.parametrize("case", list(CONTRADICTIONS))
def test_contradicting_phenotype_gives_a_warning(tmp_path, case):
    text, (phenotype, score), warning = CONTRADICTIONS[case]
    rows, docs, _ = call_and_recommend(tmp_path, text)
    gene = text.split("\t")[0]
    row = one(rows, "S1", gene)
    assert (row["phenotype"], row["activity_score"]) == (phenotype, score)
    assert gene_doc(docs["S1"], gene)["warnings"] == [warning]


def test_codeine_follows_the_computed_score(tmp_path):
    # "Normal Metabolizer" for *1/*4 would give codeine's standard dose; CPIC says 1.0
    _, _, recs = call_and_recommend(tmp_path, "CYP2D6\t*1/*4\tNormal Metabolizer\t1.0\n")
    (e,) = [e for e in recs["S1"]["drugs"] if e["drug"] == "codeine"
            and e["source"]["guideline"] == "CPIC"]
    assert e["phenotypes"][0]["lookup"] == ["1.0"]
    assert e["phenotypes"][0]["phenotype"] == "Intermediate Metabolizer"


# ============================================================================ rejected forms
# name: (file, line, message pattern)
REJECTED = {
    "unknown allele": ("CYP2D6\t*999/*1\n", 1,
                       r"CYP2D6 allele '\*999' is not in the definitions in use \(pgx embedded "
                       r"panel [0-9-]+; close matches: \*9\); use an allele name"),
    "unknown allele, no close match": ("# lab\nCYP2C19\t*1/zzz\n", 2,
                                       r"CYP2C19 allele 'zzz' .*known alleles: \*38, \*1, \*2"),
    "unknown copy-number base": ("CYP2D6\t*999x2/*1\n", 1, r"CYP2D6 allele '\*999x2'"),
    "unknown gene": ("# lab results\nFOO1\t*1/*1\n", 2,
                     r"unknown gene 'FOO1' \(known genes: ABCG2, .*HLA-A, HLA-B.*\); use a gene "
                     r"of the definitions in use"),
    "gene close match": ("CYP2D7\t*1/*1\n", 1, r"unknown gene 'CYP2D7' \(close matches: CYP2D6"),
    "three alleles": ("CYP2D6\t*1/*2/*4\n", 1,
                      r"CYP2D6 diplotype '\*1/\*2/\*4' has 3 alleles; a diplotype has two"),
    "one allele, diploid gene": ("CYP2D6\t*4\n", 1,
                                 r"CYP2D6 diplotype '\*4' has one allele, but CYP2D6 is not "
                                 r"haploid .*e\.g\. \*4/\*4 if homozygous"),
    "one HLA allele": ("HLA-B\t*57:01\n", 1, r"HLA-B is not haploid"),
    "empty allele": ("CYP2D6\t*1/\n", 1, r"has an empty allele"),
    "HLA without colon": ("HLA-B\t*5701/*08:01\n", 1,
                          r"HLA-B allele '\*5701' is not an HLA allele name; write it as "
                          r"\*NN:NN"),
    "HLA one field": ("HLA-A\t*31/*02\n", 1, r"HLA-A allele '\*31' is not an HLA allele name"),
    "HLA allele of another gene": ("HLA-A\tHLA-B*57:01/*02:01\n", 1,
                                   r"HLA-A allele 'HLA-B\*57:01' names another gene"),
    "unknown phenotype": ("CYP2D6\t\tSuper Metabolizer\n", 1,
                          r"CYP2D6 phenotype 'Super Metabolizer' is not one of its phenotypes "
                          r"\(known: .*Poor Metabolizer"),
    "unknown HLA status": ("HLA-A\t\t*44:02 positive\n", 1,
                           r"HLA-A phenotype '\*44:02 positive' is not an allele status pgx "
                           r"knows \(known: \*31:01 positive, \*31:01 negative\)"),
    "score not a number": ("CYP2D6\t\t\thigh\n", 1,
                           r"CYP2D6 activity score 'high' is not a number"),
    "score for a gene without scores": ("CYP2C19\t\t\t1.0\n", 1,
                                        r"CYP2C19 has no activity scores"),
    "score in no range": ("CYP2D6\t\t\t0.1\n", 1,
                          r"CYP2D6 activity score 0.1 is in none of its activity ranges"),
    "HLA score": ("HLA-B\t\t\t1.0\n", 1, r"HLA-B has no activity score"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_rejected_form_exits_3(tmp_path, capsys, case):
    text, line, pattern = REJECTED[case]
    outside = tmp_path / "bad.tsv"
    outside.write_text(text)
    vcf = write_vcf(tmp_path / "c.vcf", ["S1"])
    rc, _, _ = pgx_call(tmp_path, vcf, outside)
    err = capsys.readouterr().err
    assert rc == 3, err
    assert err.startswith(f"pgx call: error: {outside}:{line}: ") and err.count("\n") == 1, err
    assert re.search(pattern, err), err
    assert not (tmp_path / "out").exists()  # nothing written


def test_unknown_allele_with_pharmcat_definitions(tmp_path, capsys, pharmcat_definitions):
    outside = tmp_path / "bad.tsv"
    outside.write_text("CYP2D6\t*1/*9999\n")
    rc, _, _ = pgx_call(tmp_path, write_vcf(tmp_path / "c.vcf", ["S1"]), outside,
                        "--definitions", str(pharmcat_definitions))
    err = capsys.readouterr().err
    assert rc == 3 and f"{outside}:1: CYP2D6 allele '*9999' is not in the definitions in use " \
        f"(PharmCAT definitions" in err, err


def test_rejected_form_exits_3_from_the_shell(tmp_path, env):
    outside = tmp_path / "bad.tsv"
    outside.write_text("CYP2D6\t*1/*4\nMT-RNR1\tm.9999A>G\n")
    proc = subprocess.run(PGX + ["call", "-q", "-o", str(tmp_path / "out"), "--outside-calls",
                                 str(outside), str(write_vcf(tmp_path / "c.vcf", ["S1"]))],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 3
    assert proc.stderr.startswith(f"pgx call: error: {outside}:2: MT-RNR1 allele 'm.9999A>G'")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# ============================================================================ HLA resources
def test_hla_alleles_of_interest_match_our_guidelines():
    """resources/phenotypes/hla/<GENE>.yaml lists exactly the alleles (and drugs) that the
    statuses of resources/guidelines ask about."""
    from pgx.guidelines import load_guidelines

    asked: dict[str, dict[str, set[str]]] = {g: {} for g in ALLELE_STATUS_GENES}
    for gl in load_guidelines().guidelines:
        for r in gl.recommendations:
            for gene, value in r.lookup.items():
                if gene in ALLELE_STATUS_GENES and value.endswith(("positive", "negative")):
                    asked[gene].setdefault(value.rsplit(" ", 1)[0], set()).add(r.drug)
    for gene in ALLELE_STATUS_GENES:
        path = REPO / "resources" / "phenotypes" / "hla" / f"{gene}.yaml"
        doc = yaml.safe_load(path.read_text())
        assert doc["gene"] == gene and doc["source"] and doc["curated"]
        listed = {a["allele"]: set(a["drugs"]) for a in doc["alleles"]}
        assert listed == asked[gene], gene


def test_hla_resources_are_not_phenotype_only_genes():
    """The HLA files stay out of the embedded panel (HLA is typed elsewhere, never from a VCF)."""
    assert not ALLELE_STATUS_GENES & set(load_embedded().genes)
