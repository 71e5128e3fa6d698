"""The per-patient report document, built from one calls JSON and its recommendations JSON.

The document (schema ``pgx/schemas/report.schema.json``) is what the HTML, TSV and PDF are
rendered from; it is also written as ``<sample>.report.json``.

Attention categories of a (drug, guideline) entry, derived from the recommendations JSON only:

* ``avoid``: a matched recommendation sets ``alternate_drug`` (choose another drug);
* ``change_dose``: a matched recommendation sets ``dosing`` (dose or titration differs);
* ``caution``: a matched recommendation asks for caution or to monitor (its text says
  "caution", or begins with "Monitor");
* ``review``: state ``ambiguous`` (tied calls or a phenotype without a score give different
  recommendations: a clinician must review the alternatives);
* ``standard``: matched with none of the above, or ``no_recommendation`` (the guideline lists
  nothing genotype-specific for these results);
* ``no_result``: ``gene_not_called`` (a gene the guideline needs has no result).

A drug's category is the most severe among its guidelines, in the order above.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pgx import __version__
from pgx.io.provenance import describe_filter
from pgx.documents import read_document, validator
from pgx.errors import InputError
from pgx.naming import check_sample_name

SCHEMA_VERSION = "1.0"
REPORT_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json"
CATEGORIES = ("avoid", "change_dose", "caution", "review", "standard", "no_result")
ATTENTION = ("avoid", "change_dose", "caution", "review")
CATEGORY_LABELS = {
    "avoid": "Avoid / choose an alternative",
    "change_dose": "Change the dose",
    "caution": "Use with caution / monitor",
    "review": "Review: results give different recommendations",
    "standard": "Standard prescribing",
    "no_result": "Not assessable (no result for a needed gene)",
}
SV_STATEMENT = ("Copy-number and structural variants (CYP2D6 gene deletions (*5), duplications "
                "and multiplications (xN), hybrid genes such as CYP2D6-2D7 (*13, *36, *68), and "
                "other structural variants of any gene) are not detected from a VCF by this "
                "pipeline. CYP2D6 and HLA results come only from outside calls where supplied.")
DISCLAIMER = ("This report is produced by software from the supplied genotype data and pgx's "
              "summaries of published CPIC and DPWG guidelines. It is not a diagnosis and does "
              "not replace clinical judgement: confirm important results with an accredited "
              "laboratory, read the cited guideline before prescribing, and consider the "
              "patient's other medications, organ function, age and clinical context. Variants "
              "not tested (see 'What was tested and what was not') may change a phenotype; a "
              "'standard' result does not exclude other reasons for adverse drug reactions.")

def report_validator():
    return validator("report.schema.json")


def read_recommendations(path: str | Path) -> dict:
    """A validated ``<sample>.recommendations.json`` (``InputError`` naming the file and fix)."""
    return read_document(path, "recommendations.schema.json", "pgx recommendations JSON",
                         "pass a <sample>.recommendations.json written by `pgx recommend`")


def _category(entry: dict) -> str:
    state = entry["state"]
    if state == "gene_not_called":
        return "no_result"
    if state == "ambiguous":
        return "review"
    if state != "matched":
        return "standard"
    recs = entry.get("recommendations") or []
    if any(r.get("alternate_drug") for r in recs):
        return "avoid"
    if any(r.get("dosing") for r in recs):
        return "change_dose"
    if any(re.search(r"\bcaution\b", r["text"], re.I)
           or r["text"].lower().lstrip().startswith("monitor") for r in recs):
        return "caution"
    return "standard"


def _source(s: dict) -> dict:
    return {"guideline": s["guideline"], "id": s["id"], "title": s["title"], "year": s["year"],
            "pmid": s["pmid"], "url": s["url"], "version": s["version"]}


def build_report(calls: dict, recs: dict, calls_path: str | None = None,
                 recs_path: str | None = None, now: dt.datetime | None = None) -> dict:
    """The report document of one patient (schema: report.schema.json)."""
    sample = check_sample_name(calls.get("sample"), calls_path or "calls JSON",
                               "rename the sample in the VCF")
    if recs.get("sample") != sample:
        raise InputError(f"{recs_path or 'recommendations JSON'}: sample "
                         f"{recs.get('sample')!r} does not match the calls JSON's sample "
                         f"{sample!r}; pass one patient's two files")
    now = now or dt.datetime.now(dt.timezone.utc)
    called = {g["gene"]: g for g in calls["genes"]}
    rec_genes = {g["gene"]: g for g in recs["genes"]}
    genes = []
    for name in list(called) + [g for g in rec_genes if g not in called]:
        c, r = called.get(name), rec_genes.get(name) or {}
        base = c or r
        genes.append({
            "gene": name,
            "diplotype": base.get("diplotype", ""),
            "phenotype": base.get("phenotype", ""),
            "activity_score": base.get("activity_score", ""),
            "status": base.get("status", "not_typed"),
            "outside_call": base.get("status") == "outside_call",
            "phenoconverted": bool(r.get("phenoconverted")),
            "converted_phenotype": r.get("converted_phenotype"),
            "converted_activity_score": r.get("converted_activity_score"),
            "phenoconversion_reasons": list(r.get("phenoconversion_reasons") or []),
            "missing_positions": list((c or {}).get("missing_positions") or []),
            "positions_tested": (c or {}).get("positions_tested"),
            "alleles_tested": (c or {}).get("alleles_tested"),
            "reason": base.get("reason", ""),
            "source": (c or {}).get("source", ""),
            "warnings": list((c or {}).get("warnings") or []) + list(r.get("warnings") or []),
        })
    drugs = []
    for e in recs["drugs"]:
        drugs.append({
            "drug": e["drug"],
            "genes": list(e["genes"]),
            "phenotypes": [{"gene": p["gene"], "status": p["status"],
                            "diplotype": (called.get(p["gene"]) or rec_genes.get(p["gene"])
                                          or {}).get("diplotype", ""),
                            "phenotype": p.get("phenotype") or "",
                            "genotype_phenotype": p.get("genotype_phenotype") or "",
                            "activity_score": p.get("activity_score") or "",
                            "phenoconverted": bool(p.get("phenoconverted")),
                            "phenoconversion_reasons": list(p.get("phenoconversion_reasons")
                                                            or [])}
                           for p in e["phenotypes"]],
            "state": e["state"],
            "recommendation": e["recommendation"],
            "classification": e["classification"],
            "category": _category(e),
            "source": _source(e["source"]),
            "phenoconverted": bool(e["phenoconverted"]),
        })
    worst: dict[str, str] = {}
    for d in drugs:
        cur = worst.get(d["drug"])
        if cur is None or CATEGORIES.index(d["category"]) < CATEGORIES.index(cur):
            worst[d["drug"]] = d["category"]
    summary = {cat: sorted(d for d, c in worst.items() if c == cat) for cat in CATEGORIES}
    uncalled = [{"gene": g["gene"], "status": g["status"],
                 "reason": g["reason"] or g["status"]}
                for g in genes if g["status"] in ("not_called", "not_typed")]
    tested = [{"gene": g["gene"], "positions_tested": g["positions_tested"],
               "alleles_tested": g["alleles_tested"],
               "missing_positions": g["missing_positions"], "status": g["status"]}
              for g in genes if g["gene"] in called and g["status"] != "outside_call"]
    outside = [{"gene": g["gene"], "diplotype": g["diplotype"], "phenotype": g["phenotype"],
                "activity_score": g["activity_score"], "reason": g["reason"],
                "warnings": g["warnings"]}
               for g in genes if g["outside_call"]]
    meds = recs.get("medications")
    return {
        "schema_version": SCHEMA_VERSION,
        "sample": sample,
        "created": now.isoformat(timespec="seconds"),
        "pipeline": {"name": "pgx", "version": __version__},
        "inputs": {
            "calls": {"path": calls_path, "created": calls.get("created"),
                      "pipeline_version": calls["pipeline"]["version"],
                      "vcf": list(calls.get("inputs") or []),
                      "filters": [describe_filter(f) for f in calls.get("input_filters") or []]},
            "recommendations": {"path": recs_path, "created": recs.get("created"),
                                "pipeline_version": recs["pipeline"]["version"]},
        },
        "definitions": {"source": calls["definitions"]["source"],
                        "version": calls["definitions"]["version"]},
        "guidelines": {"source": recs["guidelines"]["source"],
                       "version": recs["guidelines"]["version"],
                       "filter": recs["guidelines"].get("filter", "all"),
                       "versions": list(recs["guidelines"].get("versions") or [])},
        "medications": None if not meds else {
            "given": list(meds["given"]), "recognised": list(meds["recognised"]),
            "unknown": list(meds["unknown"])},
        "summary": summary,
        "genes": genes,
        "drugs": drugs,
        "tested": {"genes": tested, "uncalled": uncalled, "outside_calls": outside,
                   "structural_variants": SV_STATEMENT},
        "warnings": list(recs.get("warnings") or []),
        "disclaimer": DISCLAIMER,
    }
