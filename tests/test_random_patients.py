"""Random patients through the whole chain: ``pgx call`` -> ``recommend`` -> ``lookup`` ->
``report``, on VCFs built from the embedded panel with random diplotypes, absent and ``./.``
positions, phase and medications (a fixed seed, so failures reproduce).

Checked for every patient: every stage exits 0, every document passes its schema, and the
clinical-safety invariants hold: a gene with missing positions or other possible diplotypes is
never certain unless every possibility has one phenotype; every drug filed as standard (or no
genotype-based recommendation) is matched with every gene typed; every unsettled drug says what
may change it.
"""
from __future__ import annotations

import json
import random
import subprocess

import pytest

from conftest import PGX, REPO
from pgx.documents import validator
from pgx.definitions import load_definitions

N_PATIENTS = 12
MEDICATIONS = ["paroxetine", "fluconazole", "rifampin", "voriconazole", "omeprazole",
               "bupropion", "clopidogrel; fluoxetine", "St. John's Wort", "aspirin"]


def run(*args) -> str:
    r = subprocess.run([*PGX, *map(str, args)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, (args[:3], r.stderr)
    return r.stdout


def _design(rng: random.Random, defs) -> dict:
    design, absent, nocall = {}, {}, {}
    sex = rng.choice("FM")
    for gene in defs.genes.values():
        if not gene.vcf_callable or rng.random() < 0.5:
            continue
        names = [a.name for a in gene.alleles if a.name not in gene.ignored_alleles]
        one = gene.chrom == "chrM" or (gene.chrom == "chrX" and sex == "M")
        design[gene.gene] = (rng.choice(names),) if one else (rng.choice(names),
                                                              rng.choice(names))
        ids = [v.rsid or v.key for v in gene.variants]
        if rng.random() < 0.4:
            absent[gene.gene] = rng.sample(ids, min(len(ids), rng.randint(1, 3)))
        if rng.random() < 0.2:
            left = [i for i in ids if i not in absent.get(gene.gene, [])]
            if left:
                nocall[gene.gene] = rng.sample(left, 1)
    return {"design": design, "absent": absent, "nocall": nocall, "sex": sex,
            "phased": rng.random() < 0.3}


@pytest.fixture(scope="module")
def patients(tmp_path_factory):
    from conftest import _make_demo

    md = _make_demo()
    defs = load_definitions()
    rng = random.Random(20261204)
    base = tmp_path_factory.mktemp("random")
    vcfs, meds = [], {}
    for i in range(N_PATIENTS):
        sample = f"R{i:02d}"
        d = _design(rng, defs)
        path = base / f"{sample}.vcf.gz"
        try:
            md.write_vcf_gz(md.vcf_text(md.Patient(sample, **d), defs), path)
        except SystemExit:  # an allele the demo writer cannot spell (e.g. IUPAC-only cell)
            continue
        vcfs.append(path)
        meds[sample] = rng.choice(MEDICATIONS) if rng.random() < 0.6 else None
    run("call", "-q", "-o", base / "calls", *vcfs)
    for sample, med in meds.items():
        calls = base / "calls" / f"{sample}.calls.json"
        run("recommend", "-q", *(["--medications", med] if med else []), "-o", base / "rec",
            calls)
        run("report", "-q", "-o", base / "rpt", calls,
            base / "rec" / f"{sample}.recommendations.json")
    return base, meds


def test_every_document_passes_its_schema(patients):
    base, meds = patients
    assert len(meds) >= N_PATIENTS - 2
    for sample in meds:
        for path, schema in ((base / "calls" / f"{sample}.calls.json", "calls.schema.json"),
                             (base / "rec" / f"{sample}.recommendations.json",
                              "recommendations.schema.json"),
                             (base / "rpt" / f"{sample}.report.json", "report.schema.json")):
            errors = list(validator(schema).iter_errors(json.loads(path.read_text())))
            assert not errors, (path.name, errors[0].message)


def test_unknowns_stay_visible(patients):
    base, meds = patients
    for sample in meds:
        calls = json.loads((base / "calls" / f"{sample}.calls.json").read_text())
        for g in calls["genes"]:
            phenos = {x["phenotype"] for x in g["not_excluded"] if x["phenotype"]} | (
                {p for p in g["phenotype"].split(" OR ") if p})
            assert g["possible_phenotypes"] == sorted(phenos), (sample, g["gene"])
            assert g["phenotype_certain"] == (g["status"] != "not_called"
                                              and len(phenos) == 1), (sample, g["gene"])
        report = json.loads((base / "rpt" / f"{sample}.report.json").read_text())
        for e in report["drugs"]:
            if e["category"] in ("standard", "no_recommendation"):
                assert e["state"] in ("matched", "no_recommendation"), (sample, e["drug"])
                assert all(p["status"] not in ("not_called", "not_typed")
                           for p in e["phenotypes"]), (sample, e["drug"])
            if e["state"] in ("incomplete", "ambiguous", "gene_not_called"):
                assert e["category"] == "incomplete" and e["may_change"], (sample, e["drug"])


def test_lookup_answers_for_every_patient(patients):
    base, meds = patients
    for sample, med in meds.items():
        for drug in ("clopidogrel", "fluorouracil", "azathioprine"):
            out = run("lookup", "--calls", base / "calls", "--sample", sample, "--drug", drug,
                      *(["--medications", med] if med else []))
            assert "state: " in out and drug in out
