"""The demo patients (resources/demo): known diplotypes, valid outputs, files up to date, and the
Snakemake workflow end to end on them.

resources/demo/expected.tsv lists, for every demo sample and gene, the diplotype the demo VCFs
were built to carry (from the embedded panel's allele definitions, by make_demo.py) and the
status `pgx call` must report.
"""
from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo"
SAMPLES = [f"DEMO00{i}" for i in range(1, 7)]
OUTSIDE = DEMO / "DEMO002.outside_calls.tsv"
SCHEMA = REPO / "pgx" / "schemas" / "calls.schema.json"
BIN = Path(sys.executable).parent


def _env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e["PATH"] = str(BIN) + os.pathsep + e.get("PATH", "")
    return e


def _read_tsv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _diplotypes(text: str) -> set[tuple[str, ...]]:
    """'*2/*1 OR *3/*1' -> {('*1', '*2'), ('*1', '*3')}: ties as a set, allele order ignored."""
    if not text:
        return set()
    return {tuple(sorted(d.split("/"))) for d in text.split(" OR ")}


def _callable_genes() -> list[str]:
    from pgx.definitions import load_definitions

    return [g.gene for g in load_definitions().genes.values() if g.vcf_callable]


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    return _read_tsv(DEMO / "expected.tsv")


@pytest.fixture(scope="module")
def called(tmp_path_factory) -> Path:
    """`pgx call` on all six demo VCFs at once (with DEMO002's outside calls)."""
    out = tmp_path_factory.mktemp("demo_call")
    vcfs = [str(DEMO / f"{s}.vcf.gz") for s in SAMPLES]
    proc = subprocess.run([sys.executable, "-m", "pgx", "call", "--quiet", "--outside-calls",
                           str(OUTSIDE), "-o", str(out), *vcfs],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


# ------------------------------------------------------------------ (a) known diplotypes


def test_expected_covers_every_sample_and_gene(expected):
    genes = _callable_genes()
    for s in SAMPLES:
        rows = [r["gene"] for r in expected if r["sample"] == s]
        assert set(genes) <= set(rows), f"{s}: expected.tsv lacks {set(genes) - set(rows)}"


def test_calls_match_expected(called, expected):
    rows = {(r["sample"], r["gene"]): r for r in _read_tsv(called / "calls.tsv")}
    assert len(rows) == len(expected), "calls.tsv and expected.tsv differ in (sample, gene) rows"
    wrong = []
    for e in expected:
        got = rows.get((e["sample"], e["gene"]))
        if got is None:
            wrong.append(f"{e['sample']} {e['gene']}: no row in calls.tsv")
        elif (_diplotypes(got["diplotype"]) != _diplotypes(e["diplotype"])
              or got["status"] != e["status"]):
            wrong.append(f"{e['sample']} {e['gene']}: expected {e['diplotype']!r} "
                         f"({e['status']}), got {got['diplotype']!r} ({got['status']}: "
                         f"{got['reason']})")
    assert not wrong, "\n".join(wrong)


def test_demo_features_visible(called):
    """What the demo is meant to show a user, row by row."""
    rows = {(r["sample"], r["gene"]): r for r in _read_tsv(called / "calls.tsv")}
    cyp2d6 = rows[("DEMO002", "CYP2D6")]
    assert cyp2d6["status"] == "outside_call"
    assert (cyp2d6["diplotype"], cyp2d6["phenotype"], cyp2d6["activity_score"]) == \
        ("*1/*4", "Intermediate Metabolizer", "1.0")
    assert rows[("DEMO002", "HLA-B")]["status"] == "outside_call"
    partial = rows[("DEMO005", "CYP2C19")]
    assert partial["status"] == "partial"
    assert len(partial["missing_positions"].split(";")) == 4  # 2 absent, 1 ./., 1 filtered
    assert "not assumed reference" in partial["reason"]
    nat2 = rows[("DEMO005", "NAT2")]
    assert nat2["status"] == "not_called" and nat2["diplotype"] == ""
    assert "chr8:18400344" in nat2["missing_positions"]
    assert rows[("DEMO003", "DPYD")]["activity_score"] == "1.0"
    assert rows[("DEMO004", "G6PD")]["phenotype"] == "Deficient"
    assert rows[("DEMO006", "MT-RNR1")]["phenotype"].lower().startswith("increased risk")
    # the same two TPMT variants, unphased (DEMO003) and phased in trans (DEMO006)
    assert rows[("DEMO003", "TPMT")]["diplotype"] == "*1/*3A"
    assert rows[("DEMO006", "TPMT")]["diplotype"] == "*3B/*3C"


def test_sample_sheet_lists_the_demo():
    sheet = {r["sample"]: r for r in _read_tsv(REPO / "config" / "samples.tsv")}
    for s in SAMPLES:
        assert sheet[s]["vcf"] == f"resources/demo/{s}.vcf.gz"
        assert (REPO / sheet[s]["vcf"]).is_file()
        assert (REPO / (sheet[s]["vcf"] + ".tbi")).is_file()
    assert sheet["DEMO002"]["outside_calls"] == "resources/demo/DEMO002.outside_calls.tsv"


# ------------------------------------------------------------------ (b) JSON schema


def test_json_valid(called):
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    for s in SAMPLES:
        doc = json.loads((called / f"{s}.calls.json").read_text())
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(doc)]
        assert not errors, f"{s}.calls.json:\n" + "\n".join(errors[:10])
        assert doc["sample"] == s
    assert (called / "tested.json").is_file()


# ------------------------------------------------------------------ (c) demo files up to date


def test_demo_files_up_to_date(tmp_path):
    """make_demo.py reproduces the committed demo from the current panel. If this fails after a
    panel change, run `python resources/demo/make_demo.py` and commit resources/demo/."""
    proc = subprocess.run([sys.executable, str(DEMO / "make_demo.py"), "--outdir", str(tmp_path)],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DEMO.iterdir()
                       if p.name.startswith("DEMO") or p.name == "expected.tsv")
    assert made == committed, "resources/demo has missing or stale demo files"
    stale = []
    for name in made:
        if name.endswith(".tbi"):
            continue
        if name.endswith(".gz"):
            new, old = (gzip.decompress((d / name).read_bytes()) for d in (tmp_path, DEMO))
        else:
            new, old = (tmp_path / name).read_bytes(), (DEMO / name).read_bytes()
        if new != old:
            stale.append(name)
    assert not stale, (f"resources/demo is out of date ({', '.join(stale)}); run "
                       f"`python resources/demo/make_demo.py` and commit the result")


# ------------------------------------------------------------------ (d) Snakemake end to end


@pytest.mark.slow
def test_snakemake_demo(tmp_path, called, expected):
    snakemake = BIN / "snakemake"
    if not snakemake.exists():
        pytest.skip("snakemake is not installed in this environment")
    shutil.copy(REPO / "Snakefile", tmp_path)
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "resources").symlink_to(REPO / "resources")

    def run(*targets):
        proc = subprocess.run([str(snakemake), "--cores", "2", *targets], cwd=tmp_path,
                              capture_output=True, text=True, env=_env(), timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    run("results/DEMO003/calls.json")  # one target: only that sample is called
    assert (tmp_path / "results/DEMO003/calls.json").is_file()
    assert (tmp_path / "results/DEMO003/calls.tsv").is_file()
    assert not (tmp_path / "results/DEMO001").exists()
    assert not (tmp_path / "results/cohort").exists()

    run()  # the default target: every sample and the cohort table
    cohort = tmp_path / "results/cohort/calls.tsv"
    rows = _read_tsv(cohort)
    n_outside = sum(1 for e in expected if e["status"] == "outside_call")
    assert len(rows) == len(SAMPLES) * len(_callable_genes()) + n_outside
    assert [r["sample"] for r in rows[:1]] == ["DEMO001"]
    for s in SAMPLES:
        assert (tmp_path / f"results/{s}/calls.json").is_file()
        assert (tmp_path / f"logs/call/{s}.log").is_file()
    assert (tmp_path / "logs/merge_calls.log").is_file()
    # the workflow filters first (config: wgs_default): the demo's one low-quality genotype
    # (DEMO005, NAT2 chr8:18400593, GQ 12) becomes a missing position; otherwise the workflow
    # gives the same calls as one `pgx call` over the unfiltered files
    stats = json.loads((tmp_path / "results/filtered/wgs_default/DEMO005.vcf.gz.stats.json")
                       .read_text())
    assert (stats["genotypes_masked"], stats["records_removed"]) == (1, 0)
    flow = {(r["sample"], r["gene"]): r for r in rows}
    direct = {(r["sample"], r["gene"]): r for r in _read_tsv(called / "calls.tsv")}
    nat2, nat2_direct = flow.pop(("DEMO005", "NAT2")), direct.pop(("DEMO005", "NAT2"))
    assert nat2["missing_positions"].split(";") == sorted(
        nat2_direct["missing_positions"].split(";") + ["chr8:18400593"],
        key=lambda m: int(m.split(":")[1]))
    assert nat2["status"] == nat2_direct["status"] == "not_called"
    assert flow == direct
    doc = json.loads((tmp_path / "results/DEMO005/calls.json").read_text())
    assert [f["preset"] for f in doc["input_filters"]] == ["wgs_default"]
    report = (tmp_path / "results/DEMO005/report/DEMO005.report.html").read_text()
    assert "pgx filter preset wgs_default" in report
