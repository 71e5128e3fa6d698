"""Outside calls (``pgx call --outside-calls TSV``): PharmCAT's outside-call format merged into
the results, a sample column for multi-sample runs, and bad files rejected with exit status 3.

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

from conftest import PGX, SHARED
from pgx.calling.outside_calls import outside_calls_for, read_outside_calls
from pgx.cli import main
from pgx.definitions.embedded import load_embedded
from pgx.errors import InputError

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


def test_given_phenotype_and_activity_score_are_kept(cohort):
    rows, _ = cohort
    row = one(rows, "S4", "CYP2D6")  # the lab's own phenotype, not recomputed from *1/*1
    assert (row["diplotype"], row["phenotype"], row["activity_score"]) == \
        ("*1/*1", "Ultrarapid Metabolizer", "3.0")


def test_cohort_file_with_sample_selection(tmp_path):
    outside = tmp_path / "cohort.tsv"
    outside.write_text("sample\tgene\tdiplotype\nS1\tCYP2D6\t*1/*4\nS2\tCYP2D6\t*4/*4\n")
    vcf = write_vcf(tmp_path / "c.vcf", ["S1", "S2"])
    rc, rows, _ = pgx_call(tmp_path, vcf, outside, "--sample", "S1")
    assert rc == 0
    assert one(rows, "S1", "CYP2D6")["diplotype"] == "*1/*4"
    assert ("S2", "CYP2D6") not in rows


def test_gene_given_twice_for_a_sample_is_rejected(tmp_path):
    outside = tmp_path / "cohort.tsv"
    outside.write_text("sample\tgene\tdiplotype\n\tCYP2D6\t*1/*4\nS1\tCYP2D6\t*1/*1\n")
    vcf = write_vcf(tmp_path / "c.vcf", ["S1"])
    rc, rows, _ = pgx_call(tmp_path, vcf, outside)
    assert rc == 3 or len(rows[("S1", "CYP2D6")]) == 1


# ============================================================================ bad files
BAD_FILES = {
    "unknown column": ("gene\tdiplotype\tcolour\nCYP2D6\t*1/*1\tred\n",
                       r"bad\.tsv:1: unknown header"),
    "too many columns": ("CYP2D6\t*1/*1\tNormal Metabolizer\t2.0\textra\n",
                         r"bad\.tsv:1: 5 columns"),
    "no diplotype or phenotype": ("CYP2D6\n", r"bad\.tsv:1: each line needs a gene"),
    "gene twice": ("# c\nCYP2D6\t*1/*1\nCYP2D6\t*1/*2\n", r"bad\.tsv:3: gene CYP2D6 given twice"),
    "no sample column, two samples": ("CYP2D6\t*1/*1\n", r"bad\.tsv: no sample column"),
    "unknown sample": ("sample\tgene\tdiplotype\nNA00001\tCYP2D6\t*1/*1\n",
                       r"bad\.tsv: .*'NA00001'"),
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
