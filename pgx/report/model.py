"""The per-patient report document, built from one calls JSON and its recommendations JSON.

The document (schema ``pgx/schemas/report.schema.json``) is what the HTML, TSV and PDF are
rendered from; it is also written as ``<sample>.report.json``.

Category of a (drug, guideline) entry (:data:`CATEGORIES`, most severe first), from the
recommendation's curated ``action`` and the entry's state:

* a matched entry takes its action: ``avoid``, ``change_dose``, ``monitor``, ``conditional``,
  ``no_recommendation``, ``standard``;
* an entry that is ``incomplete``, ``ambiguous`` or ``gene_not_called`` is ``incomplete`` (may
  change with more data, or not assessable), whatever the result as reported says: its row
  shows that advice with its action and every alternative, so nothing unsettled reads as
  standard;
* ``no_recommendation`` (the guideline lists nothing for the results) is ``no_recommendation``.

A drug's category is the most severe among its guidelines. The key results (first on the page)
are assembled by :mod:`pgx.report.key_results`.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pgx import __version__
from pgx.documents import read_document, validator
from pgx.errors import InputError
from pgx.io.provenance import describe_filter, original_inputs
from pgx.naming import check_sample_name
from pgx.report.key_results import key_results, open_alleles

SCHEMA_VERSION = "1.1"  # 1.1: key_results, incomplete category, curated actions, notes
REPORT_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json"
CATEGORIES = ("avoid", "change_dose", "incomplete", "monitor", "conditional",
              "no_recommendation", "standard")
ATTENTION = ("avoid", "change_dose", "incomplete", "monitor", "conditional")
CATEGORY_LABELS = {
    "avoid": "Avoid / choose an alternative",
    "change_dose": "Change the dose",
    "incomplete": "Incomplete or not assessable: may change with more data",
    "monitor": "Use with caution / monitor",
    "conditional": "Only with a condition",
    "no_recommendation": "No genotype-based recommendation",
    "standard": "Standard prescribing",
}
UNSETTLED = ("incomplete", "ambiguous", "gene_not_called")
_SCORE_DETAIL = re.compile(r" \(activity score [^)]*\)")
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
                         "pass a <sample>.recommendations.json written by this version of "
                         "`pgx recommend`")


def category(entry: dict) -> str:
    """The report category of one (drug, guideline) entry (module doc)."""
    action = entry.get("action")
    if entry["state"] in UNSETTLED:
        return "incomplete"
    if entry["state"] == "no_recommendation" or action is None:
        return "no_recommendation"
    return action


def _source(s: dict) -> dict:
    return {"guideline": s["guideline"], "id": s["id"], "title": s["title"], "year": s["year"],
            "pmid": s["pmid"], "url": s["url"], "version": s["version"]}


def _may_change(e: dict) -> str:
    """``may change: CYP2C19*3 (rs4986893) not tested`` for an unsettled entry, else ""."""
    if e["state"] not in UNSETTLED:
        return ""
    if e["state"] == "ambiguous":
        return "tied genotype calls give different recommendations"
    return "; ".join(s["text"] for s in e.get("settle") or []) or \
        "; ".join(f"{g} not tested" for g in e.get("not_called_genes") or [])


def _alternatives(alternatives: list[dict]) -> list[dict]:
    """The alternatives with their results at phenotype level (activity scores left out), or
    with the scores where one phenotype leads to more than one alternative (DPWG and CPIC
    group CYP2D6 scores differently)."""
    coarse = [[_SCORE_DETAIL.sub("", r) for r in a["results"]] for a in alternatives]
    seen: dict[str, int] = {}
    for c in coarse:
        for x in set(c):
            seen[x] = seen.get(x, 0) + 1
    out = []
    for a, c in zip(alternatives, coarse):
        shown = [x if seen[x] == 1 else r for x, r in zip(c, a["results"])]
        out.append({"results": a["results"], "phenotypes": list(dict.fromkeys(shown)),
                    "action": a["action"],
                    "advice": [{"population": r["population"], "text": r["text"],
                                "action": r["action"]} for r in a["recommendations"]],
                    "includes_reported": a["includes_reported"]})
    return out


def _gene(name: str, c: dict | None, r: dict) -> dict:
    base = c or r
    return {
        "gene": name,
        "diplotype": base.get("diplotype", ""),
        "phenotype": base.get("phenotype", ""),
        "activity_score": base.get("activity_score", ""),
        "status": base.get("status", "not_typed"),
        "outside_call": base.get("status") == "outside_call",
        "possible_phenotypes": list(base.get("possible_phenotypes") or []),
        "phenotype_certain": bool(base.get("phenotype_certain", False)),
        "open_alleles": open_alleles(c) if c else [],
        "novel_variants": list((c or {}).get("novel_variants") or []),
        "inferred": (c or {}).get("inferred", ""),
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
    }


def _drug(e: dict, called: dict, rec_genes: dict) -> dict:
    return {
        "drug": e["drug"],
        "genes": list(e["genes"]),
        "phenotypes": [{"gene": p["gene"], "status": p["status"],
                        "diplotype": (called.get(p["gene"]) or rec_genes.get(p["gene"])
                                      or {}).get("diplotype", ""),
                        "phenotype": p.get("phenotype") or "",
                        "genotype_phenotype": p.get("genotype_phenotype") or "",
                        "activity_score": p.get("activity_score") or "",
                        "possible_phenotypes": list(p.get("possible_phenotypes") or []),
                        "phenotype_certain": bool(p.get("phenotype_certain", False)),
                        "phenoconverted": bool(p.get("phenoconverted")),
                        "phenoconversion_reasons": list(p.get("phenoconversion_reasons") or [])}
                       for p in e["phenotypes"]],
        "state": e["state"],
        "action": e["action"],
        "action_curated": all(r.get("action_curated", True) for r in e["recommendations"]),
        "category": category(e),
        "recommendation": e["recommendation"],
        "advice": [{"population": r["population"], "text": r["text"], "action": r["action"],
                    "classification": r["classification"], "note": r.get("note", "")}
                   for r in e["recommendations"]],
        "classification": e["classification"],
        "may_change": _may_change(e),
        "settle": [{"gene": x["gene"], "kind": x["kind"], "text": x["text"],
                    "order": x.get("order", "")} for x in e.get("settle") or []],
        "alternatives": _alternatives(e.get("alternatives") or []),
        "notes": list(e.get("notes") or []),
        "populations": dict(e.get("populations") or {}),
        "current_medication": bool(e.get("current_medication")),
        "source": _source(e["source"]),
        "phenoconverted": bool(e["phenoconverted"]),
    }


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
    genes = [_gene(name, called.get(name), rec_genes.get(name) or {})
             for name in list(called) + [g for g in rec_genes if g not in called]]
    drugs = [_drug(e, called, rec_genes) for e in recs["drugs"]]
    worst: dict[str, str] = {}
    for d in drugs:
        cur = worst.get(d["drug"])
        if cur is None or CATEGORIES.index(d["category"]) < CATEGORIES.index(cur):
            worst[d["drug"]] = d["category"]
    summary = {cat: sorted(d for d, c in worst.items() if c == cat) for cat in CATEGORIES}
    uncalled = [{"gene": g["gene"], "status": g["status"], "reason": g["reason"] or g["status"]}
                for g in genes if g["status"] in ("not_called", "not_typed")]
    tested = [{"gene": g["gene"], "positions_tested": g["positions_tested"],
               "alleles_tested": g["alleles_tested"], "missing_positions": g["missing_positions"],
               "open_alleles": g["open_alleles"], "status": g["status"]}
              for g in genes if g["gene"] in called and g["status"] != "outside_call"]
    outside = [{"gene": g["gene"], "diplotype": g["diplotype"], "phenotype": g["phenotype"],
                "activity_score": g["activity_score"], "reason": g["reason"],
                "warnings": g["warnings"]}
               for g in genes if g["outside_call"]]
    meds = recs.get("medications")
    filters = list(calls.get("input_filters") or [])
    vcfs = list(calls.get("inputs") or [])
    return {
        "schema_version": SCHEMA_VERSION,
        "sample": sample,
        "created": now.isoformat(timespec="seconds"),
        "pipeline": {"name": "pgx", "version": __version__},
        "inputs": {
            "calls": {"path": calls_path, "created": calls.get("created"),
                      "pipeline_version": calls["pipeline"]["version"],
                      "vcf": vcfs, "original_vcf": original_inputs(vcfs, filters),
                      "filters": [describe_filter(f) for f in filters]},
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
            "unknown": list(meds["unknown"]),
            "guideline_drugs": dict(meds.get("guideline_drugs") or {})},
        "annotation": dict(calls.get("annotation") or {"consequences": False, "tools": [],
                                                       "fields": []}),
        "key_results": key_results(genes, drugs, meds, CATEGORIES),
        "summary": summary,
        "genes": genes,
        "drugs": drugs,
        "tested": {"genes": tested, "uncalled": uncalled, "outside_calls": outside,
                   "structural_variants": SV_STATEMENT},
        "warnings": list(recs.get("warnings") or []),
        "disclaimer": DISCLAIMER,
    }
