"""Clinical safety end to end: a result that was not fully tested never reads as "standard".

One test per case of the clinical-safety issue, each on a patient VCF built here from the
embedded panel (``patient_vcf`` in conftest.py) or on a demo patient, through the real CLI
(``pgx call`` -> ``pgx recommend`` -> ``pgx report``, and ``pgx lookup``):

1. a missing defining position (CYP2C9 *1/*3 without rs1057910): celecoxib is incomplete;
2. DPYD with c.1905+1G>A and c.2846A>T absent: fluoropyrimidines incomplete, not label dosing;
3. DEMO005's CYP2C19: the Poor Metabolizer possibility reaches lookup and report;
4. an untyped gene of a multi-gene guideline (phenytoin without HLA-B) is never matched, and
   untyped drugs are not filed under a no-change heading;
5. a medication does not phenoconvert its own recommendation (voriconazole, paroxetine);
7. report categories follow the curated actions (flucloxacillin, ivacaftor, RYR1, DPYD 1.0,
   siponimod *1/*3);
8. guideline notes and population labels are shown; only the patient's genotype's text;
9. the report names the patient's original VCF, not the filtered intermediate file;
10. the CPIC 2024 CYP2D6/metoprolol guideline.
(Case 6, outside calls, is tests/test_outside_calls.py.)
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import PGX, REPO

DEMO = REPO / "resources" / "demo"


def run(*args) -> subprocess.CompletedProcess:
    r = subprocess.run([*PGX, *map(str, args)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return r


def pipeline(tmp: Path, vcf: Path, sample: str, meds: str | None = None,
             outside: Path | None = None) -> tuple[dict, dict, str]:
    """calls JSON, recommendations JSON, report JSON + HTML of one patient."""
    run("call", "-q", *(["--outside-calls", outside] if outside else []), "-o", tmp / "calls",
        vcf)
    calls = tmp / "calls" / f"{sample}.calls.json"
    run("recommend", "-q", *(["--medications", meds] if meds else []), "-o", tmp / "rec", calls)
    recs = tmp / "rec" / f"{sample}.recommendations.json"
    run("report", "-q", "-o", tmp / "rpt", calls, recs)
    report = json.loads((tmp / "rpt" / f"{sample}.report.json").read_text())
    html = (tmp / "rpt" / f"{sample}.report.html").read_text()
    return json.loads(recs.read_text()), report, html


def entries(doc: dict, drug: str, source: str | None = None) -> list[dict]:
    out = [e for e in doc["drugs"] if e["drug"] == drug
           and (source is None or e["source"]["guideline"] == source)]
    assert out, drug
    return out


def drug_category(report: dict, drug: str) -> str:
    return next(c for c, ds in report["summary"].items() if drug in ds)


# ---------------------------------------------------------------- 1
def test_missing_defining_position_makes_celecoxib_incomplete(patient_vcf, tmp_path):
    vcf = patient_vcf("P1", design={"CYP2C9": ("*1", "*3")}, absent={"CYP2C9": ["rs1057910"]})
    recs, report, html = pipeline(tmp_path, vcf, "P1")
    (e,) = entries(recs, "celecoxib", "CPIC")
    assert e["state"] == "incomplete"
    assert any(s["gene"] == "CYP2C9" and "rs1057910" in s["text"] and "*3" in s["text"]
               for s in e["settle"])
    results = {r for a in e["alternatives"] for r in a["results"]}
    assert any("Intermediate Metabolizer (activity score 1.0)" in r for r in results)
    assert any("Poor Metabolizer" in r for r in results)
    assert drug_category(report, "celecoxib") == "incomplete"
    assert "celecoxib" not in report["summary"]["standard"]
    gene = next(g for g in report["key_results"]["incomplete"] if g["gene"] == "CYP2C9")
    assert "celecoxib" in gene["drugs"] and "rs1057910" in gene["settle"]


# ---------------------------------------------------------------- 2
def test_dpyd_absent_no_function_positions_are_not_label_dosing(patient_vcf, tmp_path):
    vcf = patient_vcf("P2", absent={"DPYD": ["rs3918290", "rs67376798"]})
    recs, report, html = pipeline(tmp_path, vcf, "P2")
    for drug in ("fluorouracil", "capecitabine"):
        for e in entries(recs, drug):
            assert e["state"] == "incomplete", (drug, e["source"]["guideline"])
            assert {"change_dose", "avoid"} & {a["action"] for a in e["alternatives"]}
        assert drug_category(report, drug) == "incomplete"
    key = report["key_results"]["incomplete"]
    dpyd = next(g for g in key if g["gene"] == "DPYD")
    assert "Poor Metabolizer" in dpyd["what"] and "fluorouracil" in dpyd["drugs"]
    genes = {g["gene"]: g for g in report["genes"]}
    assert genes["DPYD"]["status"] == "partial"
    assert {o["position"] for o in genes["DPYD"]["open_alleles"]} == {"chr1:97450058",
                                                                       "chr1:97082391"}


# ---------------------------------------------------------------- 3
def test_demo005_poor_metabolizer_reaches_lookup(tmp_path):
    run("call", "-q", "-o", tmp_path / "calls", DEMO / "DEMO005.vcf.gz")
    for drug in ("voriconazole", "citalopram", "clopidogrel"):
        out = run("lookup", "--calls", tmp_path / "calls", "--sample", "DEMO005",
                  "--drug", drug).stdout
        assert "state: incomplete" in out and "if CYP2C19 Poor Metabolizer" in out, drug
        assert "may change: " in out and "CYP2C19*3" in out


# ---------------------------------------------------------------- 4
def test_untyped_gene_of_a_multi_gene_guideline_is_never_matched(tmp_path):
    recs, report, html = pipeline(tmp_path, DEMO / "DEMO001.vcf.gz", "DEMO001")
    (e,) = entries(recs, "phenytoin", "CPIC")
    assert e["state"] == "incomplete" and e["not_called_genes"] == ["HLA-B"]
    assert any(s["gene"] == "HLA-B" and s["kind"] == "typing" for s in e["settle"])
    assert {a["action"] for a in e["alternatives"]} >= {"avoid"}  # if *15:02 positive
    for drug in ("phenytoin", "allopurinol", "carbamazepine", "amitriptyline", "nortriptyline",
                 "codeine"):
        cat = drug_category(report, drug)
        assert cat == "incomplete", (drug, cat)
    hla = next(g for g in report["key_results"]["incomplete"] if g["gene"] == "HLA-B")
    assert "HLA-B typing" in hla["settle"] and "abacavir" in hla["drugs"]


# ---------------------------------------------------------------- 5
def test_voriconazole_does_not_phenoconvert_its_own_recommendation(patient_vcf, tmp_path):
    vcf = patient_vcf("P5", design={"CYP2C19": ("*1", "*17")})  # Rapid Metabolizer
    recs, report, html = pipeline(tmp_path, vcf, "P5", meds="voriconazole")
    (vori,) = entries(recs, "voriconazole", "CPIC")
    (p,) = vori["phenotypes"]
    assert p["phenotype"] == "Rapid Metabolizer" and not p["phenoconverted"]
    assert vori["action"] == "avoid"  # CPIC: choose an antifungal not dependent on CYP2C19
    assert any("voriconazole is itself a moderate CYP2C19 inhibitor" in n for n in vori["notes"])
    # it still converts CYP2C19 for every other drug
    (clop,) = [e for e in entries(recs, "clopidogrel", "CPIC")]
    assert clop["phenoconverted"] and clop["phenotypes"][0]["phenotype"] == "Normal Metabolizer"
    assert vori["current_medication"] and not clop["current_medication"]
    med = report["key_results"]["medications"][0]
    assert med["given"] == "voriconazole" and med["drugs"][0]["drug"] == "voriconazole"
    assert med["drugs"][0]["category"] == "avoid"


def test_paroxetine_keeps_the_genotype_phenotype_for_paroxetine(tmp_path):
    recs, report, html = pipeline(tmp_path, DEMO / "DEMO002.vcf.gz", "DEMO002", "paroxetine",
                                  DEMO / "DEMO002.outside_calls.tsv")
    for e in entries(recs, "paroxetine"):
        (p,) = e["phenotypes"]
        assert not p["phenoconverted"] and p["lookup"] == ["1.0"], e["source"]["guideline"]
        assert any("paroxetine is itself a strong CYP2D6 inhibitor" in n for n in e["notes"])
    (codeine,) = entries(recs, "codeine", "CPIC")
    assert codeine["phenoconverted"] and codeine["phenotypes"][0]["lookup"] == ["0.0"]


def test_a_medication_outside_the_interaction_table_is_not_assessed(tmp_path):
    recs, report, html = pipeline(tmp_path, DEMO / "DEMO001.vcf.gz", "DEMO001",
                                  "clopidogrel; grapefruit pie")
    meds = {m["given"]: m for m in report["key_results"]["medications"]}
    assert meds["grapefruit pie"]["interactions_assessed"] is False
    assert meds["grapefruit pie"]["drugs"] == []
    assert [d["drug"] for d in meds["clopidogrel"]["drugs"]] == ["clopidogrel"]
    key = html[html.index('id="key-results"'):html.index('id="genotypes"')]
    assert "interactions not assessed" in key and "no pharmacogenomic guideline covers" in key


# ---------------------------------------------------------------- 7
OUTSIDE_HLA = "gene\tdiplotype\nHLA-B\t*57:01/*44:02\n"


def test_report_categories_follow_the_curated_actions(tmp_path):
    outside = tmp_path / "hla.tsv"
    outside.write_text(OUTSIDE_HLA)
    recs, report, html = pipeline(tmp_path, DEMO / "DEMO003.vcf.gz", "DEMO003", outside=outside)
    flucl = entries(report, "flucloxacillin", "DPWG")[0]
    assert flucl["category"] == "monitor" and flucl["state"] == "matched"
    assert {e["category"] for e in entries(report, "ivacaftor")} == {"conditional"}
    for drug in ("sevoflurane", "succinylcholine"):  # RYR1/CACNA1S Uncertain Susceptibility
        assert drug_category(report, drug) == "monitor", drug
    for drug in ("fluorouracil", "capecitabine"):  # DPYD activity score 1.0: 50% dose
        (cpic,) = entries(report, drug, "CPIC")
        assert cpic["category"] == "change_dose", drug
    hla = next(g for g in report["genes"] if g["gene"] == "HLA-B")
    assert "HLA-B*57:01 positive" in hla["phenotype"]


def test_siponimod_shows_only_the_patients_genotype_text(patient_vcf, tmp_path):
    vcf = patient_vcf("P7", design={"CYP2C9": ("*1", "*3")})
    recs, report, html = pipeline(tmp_path, vcf, "P7")
    (e,) = entries(report, "siponimod", "DPWG")
    assert e["category"] == "change_dose"
    text = " ".join(a["text"] for a in e["advice"])
    assert "half" in text and "*2/*2" not in text
    vcf2 = patient_vcf("P8", design={"CYP2C9": ("*2", "*2")})  # the same activity score, 1.0
    recs2, report2, _ = pipeline(tmp_path / "p8", vcf2, "P8")
    (e2,) = entries(report2, "siponimod", "DPWG")
    assert e2["category"] == "standard" and e2["phenotypes"][0]["activity_score"] == "1.0"


# ---------------------------------------------------------------- 8
def test_notes_and_population_labels_are_shown(patient_vcf, tmp_path):
    vcf = patient_vcf("P9", design={"TPMT": ("*1", "*3C"), "NUDT15": ("*1", "*3"),
                                    "CYP3A5": ("*1", "*3")}, phased=True)
    recs, report, html = pipeline(tmp_path, vcf, "P9")
    (aza,) = entries(report, "azathioprine", "CPIC")
    assert aza["state"] == "matched"
    assert any("Intermediate for both NUDT15 and TPMT" in n for n in aza["notes"])
    (tac,) = entries(report, "tacrolimus", "CPIC")
    assert any("liver transplantation" in n for n in tac["notes"])
    (warf,) = entries(report, "warfarin", "CPIC")
    assert "non-African ancestry" in warf["populations"]
    assert any("African" in n for n in warf["notes"])
    drugs = html[html.index('id="drugs"'):html.index('id="tested"')]
    assert "Intermediate for both NUDT15 and TPMT" in drugs and "non-African ancestry" in drugs
    out = run("lookup", "--calls", tmp_path / "calls", "--sample", "P9", "--drug",
              "warfarin").stdout
    assert "non-African ancestry" in out and "note:" in out


# ---------------------------------------------------------------- 9
def test_report_names_the_original_vcf(tmp_path):
    demo = DEMO / "DEMO005.vcf.gz"
    filtered = tmp_path / "filtered" / "DEMO005.vcf.gz"
    filtered.parent.mkdir()
    run("filter", "-q", "--preset", "wgs_default", "-o", filtered, demo)
    recs, report, html = pipeline(tmp_path, filtered, "DEMO005")
    assert report["inputs"]["calls"]["original_vcf"] == [str(demo)]
    header = html[:html.index('id="key-results"')]
    assert f"genotype data: {demo}" in header and str(filtered) not in header


# ---------------------------------------------------------------- 10
def test_cpic_metoprolol_guideline(patient_vcf, tmp_path):
    run("call", "-q", "--outside-calls", DEMO / "DEMO002.outside_calls.tsv", "-o",
        tmp_path / "calls", DEMO / "DEMO002.vcf.gz")
    out = run("lookup", "--calls", tmp_path / "calls", "--sample", "DEMO002", "--drug",
              "metoprolol", "--source", "CPIC").stdout
    assert "CPIC 2024" in out and "PMID 38951961" in out and "state: matched" in out


@pytest.mark.parametrize("sample", ["DEMO001", "DEMO003", "DEMO005"])
def test_nothing_unsettled_reads_as_standard(tmp_path, sample):
    """Every drug filed under standard (or no change) is matched, with every gene typed and
    its recommendation the same for every possible result."""
    recs, report, html = pipeline(tmp_path, DEMO / f"{sample}.vcf.gz", sample)
    for drug in report["summary"]["standard"]:
        for e in entries(report, drug):
            assert e["state"] == "matched", (drug, e["state"])
            assert all(p["status"] not in ("not_called", "not_typed") for p in e["phenotypes"])


def test_genotype_specific_advice_with_another_possible_diplotype(patient_vcf, tmp_path):
    """A *2/*2 patient (siponimod: no action) whose missing data leave *1/*3 (the same activity
    score 1.0, half the dose) possible: incomplete, with the general advice as the alternative."""
    vcf = patient_vcf("P10", design={"CYP2C9": ("*2", "*2")})
    run("call", "-q", "-o", tmp_path / "calls", vcf)
    path = tmp_path / "calls" / "P10.calls.json"
    doc = json.loads(path.read_text())
    g = next(x for x in doc["genes"] if x["gene"] == "CYP2C9")
    assert g["diplotype"] == "*2/*2" and g["lookup_keys"] == ["1.0"]
    g["status"], g["phenotype_certain"] = "partial", True  # as if rs1057910 were missing
    g["not_excluded"] = [{"phenotype": "Intermediate Metabolizer", "activity_scores": ["1.0"],
                          "lookup_keys": ["1.0"], "count": 1, "examples": ["*1/*3"],
                          "positions": [{"position": "chr10:94981296", "rsid": "rs1057910",
                                         "alleles": ["*3"], "more_alleles": 0}],
                          "more_positions": 0, "resolved_by": "positions"}]
    path.write_text(json.dumps(doc))
    run("recommend", "-q", "--drugs", "siponimod", "-o", tmp_path / "rec", path)
    rec = json.loads((tmp_path / "rec" / "P10.recommendations.json").read_text())
    (e,) = entries(rec, "siponimod", "DPWG")
    assert e["state"] == "incomplete" and e["action"] == "standard"
    other = [a for a in e["alternatives"] if not a["includes_reported"]]
    assert other and other[0]["action"] == "change_dose"
    assert "a diplotype other than *2/*2" in other[0]["results"][0]
    assert any("*3" in s["text"] and "rs1057910" in s["text"] for s in e["settle"])


def test_phenoconversion_with_pharmcat_definitions(tmp_path, pharmcat_definitions):
    """The phenotype of an activity score comes from the definitions the calls were made with
    (PharmCAT's phenotype tables have no ranges: the calls carry one point range per score)."""
    run("call", "-q", "--definitions", pharmcat_definitions, "-o", tmp_path / "calls",
        DEMO / "DEMO002.vcf.gz")
    path = tmp_path / "calls" / "DEMO002.calls.json"
    g = next(x for x in json.loads(path.read_text())["genes"] if x["gene"] == "CYP2C9")
    assert {"min": 1.0, "max": 1.0, "phenotype": "Intermediate Metabolizer"} in g["activity_ranges"]
    r = subprocess.run([*PGX, "recommend", "-q", "--medications", "fluconazole", "--drugs",
                        "celecoxib", "-o", tmp_path / "rec", path], capture_output=True,
                       text=True, cwd=REPO)
    assert r.returncode == 0 and "not on the step scale" not in r.stderr, r.stderr
    rec = json.loads((tmp_path / "rec" / "DEMO002.recommendations.json").read_text())
    cyp2c9 = next(x for x in rec["genes"] if x["gene"] == "CYP2C9")
    assert cyp2c9["phenoconverted"] and cyp2c9["converted_phenotype"] == "Poor Metabolizer"
