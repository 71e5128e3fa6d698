"""Possible novel alleles: protein-altering variants of a pharmacogene that no definition covers.

The patient is DEMO003, which carries a CYP2C9 missense change (GRCh38 chr10:94942300 A>T, MANE
transcript ENST00000260682 p.Glu147Val: in no definition, embedded or PharmCAT's), plus two
extra records: a synonymous change (94942298 A>G, p.Gln146=) and an intronic one, annotated
with Debian's
``bcftools csq`` and the reference data in ``../shared/data/grch38-pgx/`` (skips without
either). ``pgx call`` lists the missense under CYP2C9 (``novel_variants``), opens the phenotype
of a no-function haplotype (``not_excluded``, ``resolved_by: novel``), CYP2C9 drugs become
incomplete, and the report flags the gene. The other two are not flagged.
"""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess

import pytest

from conftest import PGX, REPO

DEMO = REPO / "resources" / "demo"
EXTRA = [("chr10", 94942298, "A", "G", "0/1"),  # synonymous
         ("chr10", 94942500, "G", "A", "0/1")]  # intronic (between CDS 3 and 4)

needs_bcftools = pytest.mark.skipif(shutil.which("bcftools") is None, reason="no bcftools")


def run(*args, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([*map(str, args)], capture_output=True, text=True, cwd=REPO, **kw)
    assert r.returncode == 0, (args[:4], r.stderr)
    return r


@pytest.fixture(scope="module")
def annotated(tmp_path_factory, shared):
    ref = shared / "data" / "grch38-pgx"
    if not (ref / "pgx_mane_grch38.gff3").is_file() or shutil.which("bcftools") is None:
        pytest.skip("needs ../shared/data/grch38-pgx and bcftools")
    tmp = tmp_path_factory.mktemp("novel")
    lines = gzip.open(DEMO / "DEMO003.vcf.gz", "rt").read().splitlines()
    body = [ln for ln in lines if not ln.startswith("#")]
    body += [f"{c}\t{p}\t.\t{r}\t{a}\t60\tPASS\tDP=35\tGT:GQ:DP\t{g}:99:35"
             for c, p, r, a, g in EXTRA]
    raw = tmp / "raw.vcf"
    raw.write_text("\n".join([ln for ln in lines if ln.startswith("#")] + body) + "\n")
    run("bcftools", "sort", "-Oz", "-o", tmp / "sorted.vcf.gz", raw)
    out = tmp / "DEMO003.csq.vcf.gz"
    run("bcftools", "csq", "--phase", "m", "-f", ref / "pgx_grch38.fa.gz", "-g",
        ref / "pgx_mane_grch38.gff3", "-Oz", "-o", out, tmp / "sorted.vcf.gz")
    run("bcftools", "index", "-t", out)
    run(*PGX, "call", "-q", "-o", tmp / "calls", out)
    calls = tmp / "calls" / "DEMO003.calls.json"
    run(*PGX, "recommend", "-q", "-o", tmp / "rec", calls)
    run(*PGX, "report", "-q", "-o", tmp / "rpt", calls, tmp / "rec" / "DEMO003.recommendations.json")
    return tmp


def gene(doc: dict, name: str) -> dict:
    return next(g for g in doc["genes"] if g["gene"] == name)


def test_missense_outside_the_definitions_is_flagged(annotated):
    doc = json.loads((annotated / "calls" / "DEMO003.calls.json").read_text())
    assert doc["annotation"]["consequences"] and doc["annotation"]["tools"] == ["bcftools csq"]
    g = gene(doc, "CYP2C9")
    assert g["diplotype"] == "*1/*1" and g["status"] == "called"
    (v,) = g["novel_variants"]  # the synonymous and intronic changes are not flagged
    assert (v["pos"], v["ref"], v["alt"], v["genotype"]) == (94942300, "A", "T", "0/1")
    assert v["consequence"] == "missense" and v["amino_acid_change"] == "147E>147V"
    assert v["transcript"] == "ENST00000260682"
    novel = [x for x in g["not_excluded"] if x["resolved_by"] == "novel"]
    assert novel and novel[0]["phenotype"] == "Intermediate Metabolizer"
    assert novel[0]["lookup_keys"] == ["1.0"] and "147E>147V" in novel[0]["novel"]
    assert g["possible_phenotypes"] == ["Intermediate Metabolizer", "Normal Metabolizer"]
    assert not g["phenotype_certain"]
    # the other genes are untouched
    assert gene(doc, "DPYD")["novel_variants"] == [] and gene(doc, "TPMT")["novel_variants"] == []


def test_cyp2c9_drugs_are_incomplete_and_the_report_flags_the_gene(annotated):
    rec = json.loads((annotated / "rec" / "DEMO003.recommendations.json").read_text())
    (cel,) = [e for e in rec["drugs"] if e["drug"] == "celecoxib"]
    assert cel["state"] == "incomplete"
    assert [s["kind"] for s in cel["settle"]] == ["novel"]
    assert "possible novel CYP2C9 allele" in cel["settle"][0]["text"]
    html = (annotated / "rpt" / "DEMO003.report.html").read_text()
    genotypes = html[html.index('id="genotypes"'):html.index('id="drugs"')]
    assert "possible novel allele: the star-allele call may be incomplete" in genotypes
    assert "147E&gt;147V" in genotypes
    key = html[html.index('id="key-results"'):html.index('id="genotypes"')]
    assert "CYP2C9" in key and "possible novel allele" in key
    assert "Consequence prediction was run" in html


def test_unannotated_input_says_consequences_were_not_predicted(tmp_path):
    run(*PGX, "call", "-q", "-o", tmp_path / "calls", DEMO / "DEMO003.vcf.gz")
    calls = tmp_path / "calls" / "DEMO003.calls.json"
    doc = json.loads(calls.read_text())
    assert doc["annotation"] == {"consequences": False, "tools": [], "fields": []}
    assert all(g["novel_variants"] == [] for g in doc["genes"])
    run(*PGX, "recommend", "-q", "-o", tmp_path / "rec", calls)
    run(*PGX, "report", "-q", "-o", tmp_path / "rpt", calls,
        tmp_path / "rec" / "DEMO003.recommendations.json")
    html = (tmp_path / "rpt" / "DEMO003.report.html").read_text()
    assert "Consequence prediction was not run on this VCF" in html


@needs_bcftools
def test_known_alleles_at_defined_positions_are_not_novel(annotated):
    """DEMO003's c.1905+1G>A (a splice donor variant, DPYD *2A) is defined: not flagged."""
    doc = json.loads((annotated / "calls" / "DEMO003.calls.json").read_text())
    assert gene(doc, "DPYD")["diplotype"] == "Reference/c.1905+1G>A (*2A)"
    assert gene(doc, "DPYD")["novel_variants"] == []
