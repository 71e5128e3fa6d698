"""Text renderings of recommendations documents: the cohort table ``recommendations.tsv`` and
``pgx lookup``'s per-drug text."""
from __future__ import annotations

import csv
import io

from pgx.guidelines.model import ACTIVITY_SCORE_GENES, NO_RESULT
from pgx.recommend.genes import UNTYPED_STATUSES

TSV_COLUMNS = ("sample", "drug", "source", "guideline", "year", "pmid", "genes", "phenotypes",
               "state", "action", "classification", "recommendation", "phenoconverted")


def phenotype_cell(p: dict) -> str:
    """``GENE=phenotype [score]`` (possible results and phenoconversion noted)."""
    value = p["phenotype"] or "/".join(p["lookup"])
    if p["gene"] in ACTIVITY_SCORE_GENES and p["activity_score"]:
        value = f"{value} [{p['activity_score']}]" if value else p["activity_score"]
    if p["status"] in UNTYPED_STATUSES:
        value = f"{NO_RESULT} ({p['status']})"
    elif not p.get("phenotype_certain", True):
        value += f" (possible: {', '.join(p['possible_phenotypes']) or 'unknown'})"
    if p["phenoconverted"]:
        before = p["genotype_phenotype"] or "/".join(p["genotype_lookup"])
        value += f" (phenoconverted from {before})"
    return f"{p['gene']}={value}"


def recommendations_tsv(docs: list[dict]) -> str:
    """One row per sample x drug x guideline."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(TSV_COLUMNS)
    for doc in docs:
        for e in doc["drugs"]:
            s = e["source"]
            w.writerow([doc["sample"], e["drug"], s["guideline"], s["id"], s["year"] or "",
                        s["pmid"] or "", ";".join(e["genes"]),
                        "; ".join(phenotype_cell(p) for p in e["phenotypes"]),
                        e["state"], e["action"] or "", e["classification"],
                        " ".join(e["recommendation"].split()), str(e["phenoconverted"]).lower()])
    return buf.getvalue()


def _rec_lines(recs: list[dict], indent: str, populations: dict) -> list[str]:
    lines = []
    for r in recs or [{"population": None, "text": "no recommendation", "action": None,
                       "classification": "", "implications": {}, "note": ""}]:
        pop = ""
        if r["population"] and (len(recs) > 1 or populations.get(r["population"])):
            desc = populations.get(r["population"]) or ""
            same = desc.lower() == r["population"].lower()
            pop = f"[{r['population']}{': ' + desc if desc and not same else ''}] "
        act = f"{r['action'].replace('_', ' ')}: " if r.get("action") else ""
        cls = f" ({r['classification']})" if r.get("classification") else ""
        lines.append(f"{indent}{pop}{act}{r['text']}{cls}")
        if r.get("note"):
            lines.append(f"{indent}  note: {r['note']}")
    return lines


def format_lookup(doc: dict, drug: str, entries: list[dict]) -> str:
    """Human-readable text of what each guideline says for this patient and drug."""
    lines = [f"sample {doc['sample']}, drug {drug}"]
    med = doc.get("medications")
    if med:
        lines.append(f"medications: {', '.join(med['given'])}"
                     + (f" (interactions not assessed, not in the phenoconversion table: "
                        f"{', '.join(med['unknown'])})" if med["unknown"] else ""))
    for e in entries:
        s = e["source"]
        lines.append("")
        lines.append(f"{s['guideline']} {s['year'] or ''}: {s['title']}"
                     + (f" (PMID {s['pmid']})" if s["pmid"] else ""))
        lines.append(f"  {s['url']}")
        for p in e["phenotypes"]:
            lines.append("  " + phenotype_cell(p).replace("=", ": ", 1))
            for r in p["phenoconversion_reasons"]:
                lines.append(f"    phenoconversion: {r}")
        lines.append(f"  state: {e['state']}"
                     + (f"; classification: {e['classification']}" if e["classification"] else ""))
        pops = e.get("populations") or {}
        if e["state"] == "matched":
            lines += _rec_lines(e["recommendations"], "  ", pops)
            for r in e["recommendations"][:1]:
                for gene, text in r["implications"].items():
                    lines.append(f"    {gene}: {text}")
        elif e["state"] == "no_recommendation":
            lines.append(f"  {e['recommendation']}")
        else:
            for st in e.get("settle") or []:
                lines.append(f"  may change: {st['text']}")
            for a in e["alternatives"]:
                shown = "; ".join(a["results"][:6]) + (" ..." if len(a["results"]) > 6 else "")
                lead = "as reported" if a["includes_reported"] else "if"
                lines.append(f"  {lead} {shown}:")
                lines += _rec_lines(a["recommendations"], "    ", pops)
        for n in e.get("notes") or []:
            lines.append(f"  note: {n}")
    lines.append("")
    lines.append("Our summary of the guideline; read the guideline before prescribing.")
    return "\n".join(lines) + "\n"
