"""The ``pgx`` command line: help, version, a good run's outputs, --json-name, merge-calls.

Runs the real CLI (``python -m pgx``) on small VCFs written here, and on PharmCAT's example VCF
from ../shared when it is present.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pgx import __version__
from pgx.definitions.embedded import load_embedded

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PHARMCAT_EXAMPLE = SHARED / "oracle" / "pharmcat" / "examples" / "pharmcat.example.vcf"
TSV_HEADER = ["sample", "gene", "diplotype", "phenotype", "activity_score",
              "missing_positions", "status", "reason", "possible_phenotypes"]


def pgx(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("CYVCF2_HTSLIB_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "pgx", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def write_vcf(path: Path, samples: list[str]) -> Path:
    """Every defined position of the embedded panel, all samples 0/0, and no ##contig lines
    (htslib warns about undeclared contigs: pgx must keep stderr clean)."""
    panel = load_embedded()
    order = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY", "chrM"]
    sites = {}
    for g in panel.genes.values():
        if g.vcf_callable:
            for v in g.variants:
                sites.setdefault((v.chrom, v.position), (v.ref, v.alts[0] if v.alts else "N"))
    lines = ["##fileformat=VCFv4.2",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                        *samples])]
    for (c, p), (r, a) in sorted(sites.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        lines.append("\t".join([c, str(p), ".", r, a, ".", "PASS", ".", "GT",
                                *["0/0"] * len(samples)]))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def cohort_run(tmp_path_factory):
    """One good quiet run over a two-sample VCF."""
    tmp = tmp_path_factory.mktemp("cli")
    vcf = write_vcf(tmp / "two.vcf", ["P1", "P2"])
    out = tmp / "out"
    proc = pgx("call", "-q", "-o", out, vcf)
    return proc, out


# ============================================================================ help and version
def test_top_level_help():
    proc = pgx("--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for word in ("call", "merge-calls", "Exit status", "2 usage error", "3 bad input"):
        assert word in text, word


def test_call_help_explains_outputs_and_missing_rule():
    proc = pgx("call", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for word in ("calls.tsv", "<sample>.calls.json", "tested.json", "missing_positions",
                 "UNKNOWN, never assumed reference", "partial", "not_called", "--json-name",
                 "--sample", "--outside-calls", "--definitions", "exit status 3", "index"):
        assert word in text, word


def test_version():
    proc = pgx("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"pgx {__version__}"


def test_no_command_is_a_usage_error():
    proc = pgx()
    assert proc.returncode == 2 and "usage" in proc.stderr


# ============================================================================ pgx call
def test_good_run_exits_0_with_clean_stderr(cohort_run):
    proc, out = cohort_run
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # -q, and htslib's warnings (undeclared contigs) are silenced
    assert sorted(p.name for p in out.iterdir()) == ["P1.calls.json", "P2.calls.json",
                                                     "calls.tsv", "tested.json"]


def test_calls_tsv_header_and_rows(cohort_run):
    _, out = cohort_run
    lines = (out / "calls.tsv").read_text().splitlines()
    assert lines[0].split("\t") == TSV_HEADER
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == len(TSV_HEADER) for r in rows)
    n_genes = sum(g.vcf_callable for g in load_embedded().genes.values())
    assert len(rows) == 2 * n_genes
    assert {r[0] for r in rows} == {"P1", "P2"}
    cyp2c9 = next(r for r in rows if r[:2] == ["P1", "CYP2C9"])
    assert cyp2c9[2] == "*1/*1" and cyp2c9[6] == "called"


def test_json_name_with_one_sample(tmp_path):
    if PHARMCAT_EXAMPLE.is_file():
        vcf, sample = PHARMCAT_EXAMPLE, "Sample_1"
    else:
        vcf, sample = write_vcf(tmp_path / "one.vcf", ["X"]), "X"
    out = tmp_path / "out"
    proc = pgx("call", "--json-name", "calls.json", "--sample", sample, "-o", out, vcf)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("pgx call: 1 sample(s)")
    assert sorted(p.name for p in out.iterdir()) == ["calls.json", "calls.tsv", "tested.json"]
    doc = json.loads((out / "calls.json").read_text())
    assert doc["sample"] == sample
    assert {g["gene"] for g in doc["genes"]} >= {"CYP2C19", "CYP2C9", "DPYD"}


def test_json_name_without_sample_placeholder_needs_one_sample(tmp_path):
    vcf = write_vcf(tmp_path / "two.vcf", ["P1", "P2"])
    proc = pgx("call", "--json-name", "calls.json", "-o", tmp_path / "out", vcf)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--sample" in proc.stderr
    assert not (tmp_path / "out").exists()


# ============================================================================ merge-calls
def split_by_sample(calls_tsv: Path, tmp: Path) -> list[Path]:
    head, *rows = calls_tsv.read_text().splitlines()
    parts = []
    for s in ("P1", "P2"):
        p = tmp / s / "calls.tsv"
        p.parent.mkdir()
        p.write_text("\n".join([head] + [r for r in rows if r.split("\t")[0] == s]) + "\n")
        parts.append(p)
    return parts


def test_merge_calls_concatenates_with_one_header(cohort_run, tmp_path):
    _, out = cohort_run
    parts = split_by_sample(out / "calls.tsv", tmp_path)
    merged = tmp_path / "cohort" / "calls.tsv"
    proc = pgx("merge-calls", "-o", merged, *parts)
    assert proc.returncode == 0, proc.stderr
    text = merged.read_text()
    assert text == (out / "calls.tsv").read_text()  # split by sample and merged back
    assert text.count("sample\tgene\t") == 1


def test_merge_calls_rejects_a_non_calls_tsv(cohort_run, tmp_path):
    _, out = cohort_run
    other = tmp_path / "other.tsv"
    other.write_text("gene\tdiplotype\nCYP2D6\t*1/*4\n")
    merged = tmp_path / "merged.tsv"
    proc = pgx("merge-calls", "-o", merged, out / "calls.tsv", other)
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "other.tsv:1: not a pgx calls.tsv" in lines[0]
    assert not merged.exists() and not list(tmp_path.glob("*.tmp"))


def test_merge_calls_rejects_a_sample_twice(cohort_run, tmp_path):
    _, out = cohort_run
    merged = tmp_path / "merged.tsv"
    proc = pgx("merge-calls", "-o", merged, out / "calls.tsv", out / "calls.tsv")
    assert proc.returncode == 3
    assert len(proc.stderr.strip().splitlines()) == 1 and "already in" in proc.stderr
    assert not merged.exists()


def test_merge_calls_missing_file(tmp_path):
    proc = pgx("merge-calls", "-o", tmp_path / "m.tsv", tmp_path / "none.tsv")
    assert proc.returncode == 3 and "none.tsv: no such file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
