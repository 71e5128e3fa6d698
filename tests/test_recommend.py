"""``pgx recommend`` and ``pgx lookup``: the demo patients' calls matched against the guidelines.

Runs the real CLI: ``pgx call`` on resources/demo (with DEMO002's outside calls) into a temporary
directory, then ``pgx recommend``; asserts what a clinician would notice.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo"
SCHEMA = REPO / "pgx" / "schemas" / "recommendations.schema.json"
SAMPLES = [f"DEMO00{i}" for i in range(1, 7)]


def pgx(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "pgx", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def calls(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("calls")
    r = pgx("call", "-q", "--outside-calls", DEMO / "DEMO002.outside_calls.tsv", "-o", out,
            *sorted(DEMO.glob("DEMO00*.vcf.gz")))
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def recs(calls, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("recs")
    r = pgx("recommend", "-q", "-o", out, *[calls / f"{s}.calls.json" for s in SAMPLES])
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def paroxetine(calls, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("recs_paroxetine")
    r = pgx("recommend", "-q", "--medications", "paroxetine; grapefruit pie", "-o", out,
            calls / "DEMO002.calls.json")
    assert r.returncode == 0, r.stderr
    return out, r


def load(outdir: Path, sample: str) -> dict:
    return json.loads((outdir / f"{sample}.recommendations.json").read_text())


def entry(doc: dict, drug: str, source: str) -> dict:
    hits = [e for e in doc["drugs"] if e["drug"] == drug and e["source"]["guideline"] == source]
    assert len(hits) == 1, (drug, source, [e["source"]["id"] for e in hits])
    return hits[0]


def test_outputs_validate_against_schema(recs, paroxetine):
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    docs = [load(recs, s) for s in SAMPLES] + [load(paroxetine[0], "DEMO002")]
    for doc in docs:
        errors = list(validator.iter_errors(doc))
        assert not errors, (doc["sample"], errors[0].message)
        assert doc["pipeline"]["name"] == "pgx" and doc["pipeline"]["version"]
        assert doc["definitions"]["version"] and doc["guidelines"]["version"]
        for e in doc["drugs"]:
            assert e["source"]["year"] and e["source"]["pmid"] and e["source"]["title"]


def test_tsv_one_row_per_sample_drug_guideline(recs):
    rows = list(csv.DictReader((recs / "recommendations.tsv").open(), delimiter="\t"))
    assert rows
    for s in SAMPLES:
        doc = load(recs, s)
        mine = [r for r in rows if r["sample"] == s]
        assert len(mine) == len(doc["drugs"])
        assert len({(r["drug"], r["guideline"]) for r in mine}) == len(mine)
    assert {r["state"] for r in rows} <= {"matched", "incomplete", "no_recommendation",
                                          "gene_not_called", "ambiguous"}
    # every drug of the guideline set is there for every sample, never silently omitted
    from pgx.guidelines import load_guidelines

    gset = load_guidelines()
    n_pairs = sum(len(gset.for_drug(d)) for d in gset.drugs)
    assert len(rows) == n_pairs * len(SAMPLES)


def test_clopidogrel_cyp2c19_intermediate_alternative_therapy(recs):
    e = entry(load(recs, "DEMO002"), "clopidogrel", "CPIC")
    assert e["state"] == "matched"
    (p,) = e["phenotypes"]
    assert p["gene"] == "CYP2C19" and p["phenotype"] == "Intermediate Metabolizer"
    acs = [r for r in e["recommendations"] if r["population"] == "CVI ACS PCI"]
    assert len(acs) == 1 and acs[0]["alternate_drug"] and acs[0]["classification"] == "Strong"
    assert "prasugrel" in acs[0]["text"] and "ticagrelor" in acs[0]["text"]
    assert e["source"]["year"] == 2022 and e["source"]["pmid"] == 35034351
    # the normal metabolizer gets no alternative
    e1 = entry(load(recs, "DEMO001"), "clopidogrel", "CPIC")
    assert e1["state"] == "matched"
    assert not any(r["alternate_drug"] for r in e1["recommendations"])


@pytest.mark.parametrize("drug", ["fluorouracil", "capecitabine"])
def test_dpyd_activity_1_reduced_dose(recs, drug):
    doc = load(recs, "DEMO003")
    for source in ("CPIC", "DPWG"):
        e = entry(doc, drug, source)
        assert e["state"] == "matched"
        (p,) = e["phenotypes"]
        assert p["gene"] == "DPYD" and p["lookup"] == ["1.0"]
        assert p["phenotype"] == "Intermediate Metabolizer"
        assert all(r["dosing"] for r in e["recommendations"])
        assert "50%" in e["recommendation"] or "Halve" in e["recommendation"]
    assert entry(doc, drug, "CPIC")["classification"] == "Strong"
    # a normal DPYD gets the usual dose
    assert not any(r["dosing"] for r in entry(load(recs, "DEMO001"), drug, "CPIC")["recommendations"])


def test_codeine_from_outside_cyp2d6_call(recs):
    e = entry(load(recs, "DEMO002"), "codeine", "CPIC")
    assert e["state"] == "matched" and not e["phenoconverted"]
    (p,) = e["phenotypes"]
    assert p["status"] == "outside_call" and p["lookup"] == ["1.0"]
    assert p["phenotype"] == "Intermediate Metabolizer"
    assert e["classification"] == "Moderate"
    assert not any(r["alternate_drug"] for r in e["recommendations"])


def test_paroxetine_phenoconverts_cyp2d6_and_changes_codeine(recs, paroxetine):
    out, run = paroxetine
    before = entry(load(recs, "DEMO002"), "codeine", "CPIC")
    doc = load(out, "DEMO002")
    e = entry(doc, "codeine", "CPIC")
    assert e["state"] == "matched" and e["phenoconverted"] is True
    (p,) = e["phenotypes"]
    assert p["phenoconverted"] and p["phenotype"] == "Poor Metabolizer"
    assert p["genotype_phenotype"] == "Intermediate Metabolizer" and p["lookup"] == ["0.0"]
    assert any("paroxetine" in r for r in p["phenoconversion_reasons"])
    assert e["recommendation"] != before["recommendation"]
    assert e["classification"] == "Strong" and all(r["alternate_drug"] for r in e["recommendations"])
    gene = next(g for g in doc["genes"] if g["gene"] == "CYP2D6")
    assert gene["phenotype"] == "Intermediate Metabolizer"
    assert gene["converted_phenotype"] == "Poor Metabolizer" and gene["phenoconverted"]
    # drugs whose genes are not affected are not flagged
    assert not entry(doc, "clopidogrel", "CPIC")["phenoconverted"]
    # unknown medication: reported and warned, not an error
    assert doc["medications"]["unknown"] == ["grapefruit pie"]
    assert "paroxetine" in doc["medications"]["recognised"]
    assert "grapefruit pie" in run.stderr and "warning" in run.stderr
    rows = list(csv.DictReader((out / "recommendations.tsv").open(), delimiter="\t"))
    codeine = [r for r in rows if r["drug"] == "codeine" and r["source"] == "CPIC"]
    assert codeine[0]["phenoconverted"] == "true" and "Poor Metabolizer" in codeine[0]["phenotypes"]


def test_gene_not_called_is_explicit(recs, calls, tmp_path):
    # HLA-B is outside-call only: DEMO001 has none -> abacavir has no recommendation, explicitly
    e = entry(load(recs, "DEMO001"), "abacavir", "CPIC")
    assert e["state"] == "gene_not_called" and e["not_called_genes"] == ["HLA-B"]
    assert "HLA-B" in e["recommendation"] and not e["recommendations"]
    # DEMO005: NAT2 is not_called and reported as such
    doc5 = load(recs, "DEMO005")
    nat2 = next(g for g in doc5["genes"] if g["gene"] == "NAT2")
    assert nat2["status"] == "not_called" and nat2["lookup"] == ["No Result"]
    # MT-RNR1 not called (DEMO006's calls edited) -> aminoglycosides: gene_not_called
    doc = json.loads((calls / "DEMO006.calls.json").read_text())
    for g in doc["genes"]:
        if g["gene"] == "MT-RNR1":
            g.update(status="not_called", diplotype="", diplotypes=[], phenotype="",
                     lookup_keys=[], reason="required position(s) missing: chrM:1555")
    path = tmp_path / "DEMO006.calls.json"
    path.write_text(json.dumps(doc))
    r = pgx("recommend", "-q", "--source", "CPIC", "-o", tmp_path / "out", path)
    assert r.returncode == 0, r.stderr
    out = load(tmp_path / "out", "DEMO006")
    amino = [e for e in out["drugs"] if e["genes"] == ["MT-RNR1"]]
    assert amino and all(e["state"] == "gene_not_called" for e in amino)
    assert all("chrM:1555" in e["recommendation"] for e in amino)
    assert {e["source"]["guideline"] for e in out["drugs"]} == {"CPIC"}
    # and with the call, DEMO006 (m.1555A>G) is told to avoid aminoglycosides
    called = [e for e in load(recs, "DEMO006")["drugs"]
              if e["genes"] == ["MT-RNR1"] and e["source"]["guideline"] == "CPIC"]
    assert called and all(e["state"] == "matched" for e in called)
    assert all(r["alternate_drug"] for e in called for r in e["recommendations"])


def test_tied_calls_with_different_recommendations_are_ambiguous(calls, tmp_path):
    doc = json.loads((calls / "DEMO001.calls.json").read_text())
    for g in doc["genes"]:
        if g["gene"] == "CYP2C19":
            g.update(status="partial", diplotype="*1/*1 OR *2/*2",
                     phenotype="Normal Metabolizer OR Poor Metabolizer",
                     lookup_keys=["Normal Metabolizer", "Poor Metabolizer"])
    path = tmp_path / "DEMO001.calls.json"
    path.write_text(json.dumps(doc))
    r = pgx("recommend", "-q", "--drugs", "clopidogrel", "-o", tmp_path / "out", path)
    assert r.returncode == 0, r.stderr
    out = load(tmp_path / "out", "DEMO001")
    assert {e["drug"] for e in out["drugs"]} == {"clopidogrel"}
    e = entry(out, "clopidogrel", "CPIC")
    assert e["state"] == "ambiguous"
    assert {a["lookup"]["CYP2C19"] for a in e["alternatives"]} == {"Normal Metabolizer",
                                                                    "Poor Metabolizer"}
    assert "Poor Metabolizer" in e["recommendation"]


def test_lookup_prints_each_guideline(calls):
    r = pgx("lookup", "--calls", calls, "--sample", "DEMO002", "--drug", "Codeine",
            "--medications", "paroxetine")
    assert r.returncode == 0, r.stderr
    assert "CPIC 2021" in r.stdout and "DPWG" in r.stdout
    assert "Poor Metabolizer" in r.stdout and "paroxetine" in r.stdout


def test_lookup_drug_outside_default_list(calls, tmp_path):
    # a recommend run restricted to a default list does not limit lookup
    r = pgx("recommend", "-q", "--drugs", "clopidogrel;codeine", "-o", tmp_path, calls / "DEMO002.calls.json")
    assert r.returncode == 0, r.stderr
    assert {e["drug"] for e in load(tmp_path, "DEMO002")["drugs"]} == {"clopidogrel", "codeine"}
    r = pgx("lookup", "--calls", calls, "--sample", "DEMO002", "--drug", "siponimod")
    assert r.returncode == 0, r.stderr
    assert "DPWG" in r.stdout and "CYP2C9" in r.stdout and "1.0" in r.stdout


def one_line_exit_3(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 3, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], r.stderr
    return lines[0]


def test_bad_inputs_exit_3(calls, tmp_path):
    out = tmp_path / "out"
    msg = one_line_exit_3(pgx("recommend", "-o", out, tmp_path / "missing.calls.json"))
    assert "missing.calls.json" in msg and "not found" in msg
    bad = tmp_path / "bad.calls.json"
    bad.write_text("{not json")
    assert "not valid JSON" in one_line_exit_3(pgx("recommend", "-o", out, bad))
    wrong = tmp_path / "wrong.calls.json"
    wrong.write_text(json.dumps({"sample": "X", "genes": []}))
    assert "not a pgx calls JSON" in one_line_exit_3(pgx("recommend", "-o", out, wrong))
    # a good file with a bad one: nothing is written
    one_line_exit_3(pgx("recommend", "-o", out, calls / "DEMO001.calls.json", bad))
    assert not out.exists()
    # the same sample twice
    one_line_exit_3(pgx("recommend", "-o", out, calls / "DEMO001.calls.json",
                        calls / "DEMO001.calls.json"))
    assert "clopidogrel" in one_line_exit_3(pgx("recommend", "--drugs", "clopidogrl", "-o", out,
                                                 calls / "DEMO001.calls.json"))
    # lookup: unknown sample / drug, with close matches
    assert "DEMO002" in one_line_exit_3(pgx("lookup", "--calls", calls, "--sample", "DEMO02",
                                            "--drug", "codeine"))
    assert "codeine" in one_line_exit_3(pgx("lookup", "--calls", calls, "--sample", "DEMO002",
                                            "--drug", "codiene"))
    one_line_exit_3(pgx("lookup", "--calls", tmp_path / "nowhere", "--sample", "DEMO002",
                        "--drug", "codeine"))
