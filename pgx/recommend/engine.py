"""Match a patient's calls against the guidelines, per drug and guideline.

Input: one ``<sample>.calls.json`` from ``pgx call`` (schema ``pgx/schemas/calls.schema.json``).
Output: one document per sample (schema ``pgx/schemas/recommendations.schema.json``) and the
cohort table ``recommendations.tsv`` (one row per sample x drug x guideline).

Lookup value of a gene (see :mod:`pgx.guidelines.model` for the vocabulary)
---------------------------------------------------------------------------
* not called (``status: not_called``) or absent from the calls (an outside-call-only gene such
  as CYP2D6 or HLA-B that was not supplied): ``"No Result"``;
* HLA-A / HLA-B: the typed diplotype, passed through (the guideline model turns it into the
  status of the allele each guideline is about);
* otherwise the call's ``lookup_keys`` (the phenotype, or the activity score for CYP2C9, CYP2D6
  and DPYD: the lowest-function rules of DPYD/RYR1 are already applied by ``pgx call``); an
  outside call without ``lookup_keys`` uses its activity score (activity genes) or its
  phenotype; a called gene with neither is ``"Indeterminate"``.

Ties (``*1/*2 OR *1/*3``: several lookup values) are matched alternative by alternative; when
the alternatives give different recommendations the drug's state is ``ambiguous`` and every
alternative is reported. An activity-score gene known only by its phenotype (an outside call
without a score, or a CYP2C9 phenotype after a step phenoconversion) is matched with every score
the guideline lists for that phenotype, the same way.

Phenoconversion (``medications``): each lookup alternative of CYP2D6, CYP2C19, CYP2C9 (and
CYP3A4/5, reported only) is converted with :func:`pgx.phenotype.phenoconversion.convert`; the
genotype phenotype and the converted one are both kept, with the reasons, and every drug whose
lookup used a converted value is flagged ``phenoconverted``.

States of a (drug, guideline) entry: ``matched`` (one recommendation set; several populations
may be listed), ``ambiguous`` (tied calls or phenotype expansion disagree), ``gene_not_called``
(a gene the guideline needs has no result and the guideline has nothing for that), and
``no_recommendation`` (the genes were called but the guideline lists nothing for the values).
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from pgx import __version__
from pgx.errors import InputError
from pgx.guidelines.model import (
    ACTIVITY_SCORE_GENES,
    ALLELE_STATUS_GENES,
    INDETERMINATE,
    NO_RESULT,
    Guideline,
    GuidelineSet,
    Recommendation,
)
from pgx.documents import read_document
from pgx.naming import check_sample_name
from pgx.phenotype.assign import score_phenotype as phenotype_for_score

SCHEMA_VERSION = "1.0"
STATES = ("matched", "no_recommendation", "gene_not_called", "ambiguous")
TSV_COLUMNS = ("sample", "drug", "source", "guideline", "year", "pmid", "genes", "phenotypes",
               "state", "classification", "recommendation", "phenoconverted")
NOT_TYPED = "not_typed"  # a guideline gene absent from the calls (e.g. no outside call given)

_SCORE = re.compile(r"^[0-9]+\.[0-9]{1,3}$")


# ============================================================================ reading calls
def read_calls(path: str | Path) -> dict:
    """A validated ``<sample>.calls.json`` document (``InputError`` naming the file and fix)."""
    fix = "pass a <sample>.calls.json written by `pgx call`"
    doc = read_document(path, "calls.schema.json", "pgx calls JSON", fix)
    check_sample_name(doc["sample"], str(path), fix)
    return doc


def find_calls_file(outdir: str | Path, sample: str) -> Path:
    """``OUTDIR/<sample>.calls.json``, or ``InputError`` listing the samples there."""
    import difflib

    d = Path(outdir)
    if not d.is_dir():
        raise InputError(f"{d}: --calls must be the output directory of `pgx call` "
                         f"(with <sample>.calls.json files)")
    p = d / f"{sample}.calls.json"
    if p.is_file():
        return p
    known = sorted(f.name[: -len(".calls.json")] for f in d.glob("*.calls.json"))
    close = difflib.get_close_matches(sample, known, n=5, cutoff=0.5)
    hint = (f"close matches: {', '.join(close)}" if close else
            f"samples there: {', '.join(known[:20])}" + (" ..." if len(known) > 20 else "")
            if known else "no <sample>.calls.json files there")
    raise InputError(f"{d}: no calls for sample {sample!r} ({hint})")


# ============================================================================ lookup values
def _fmt_score(x: float) -> str:
    from pgx.guidelines.loader import format_score

    return format_score(x)


@functools.lru_cache(maxsize=None)
def _panel_rules(gene: str):
    """The embedded panel's phenotype rules of ``gene`` (None if the panel lacks it)."""
    from pgx.definitions import load_definitions

    g = load_definitions().genes.get(gene)
    return g.phenotypes if g is not None else None


def score_phenotype(gene: str, score: float) -> str | None:
    """The phenotype of an activity score (CYP2D6: CPIC consensus bands; others: our ranges)."""
    if gene == "CYP2D6":
        from pgx.phenotype.phenoconversion import cyp2d6_phenotype

        return cyp2d6_phenotype(score)
    rules = _panel_rules(gene)
    return phenotype_for_score(rules, score) if rules is not None else None


def _is_score(value: str) -> bool:
    return bool(_SCORE.match(value))


def genotype_values(gene: str, entry: dict | None) -> list[str]:
    """The lookup alternatives of one gene from its calls-JSON entry (module doc)."""
    if entry is None or entry.get("status") == "not_called":
        return [NO_RESULT]
    if gene in ALLELE_STATUS_GENES:
        alts = [d.strip() for d in (entry.get("diplotype") or "").split(" OR ") if d.strip()]
        return alts or [NO_RESULT]
    keys = [k for k in entry.get("lookup_keys") or [] if k]
    if keys:
        return list(dict.fromkeys(keys))
    score, pheno = entry.get("activity_score") or "", entry.get("phenotype") or ""
    if gene in ACTIVITY_SCORE_GENES and score:
        out = []
        for s in score.split(" OR "):
            try:
                out.append(_fmt_score(float(s)))
            except ValueError:
                out.append(INDETERMINATE)
        return list(dict.fromkeys(out))
    if pheno:
        return list(dict.fromkeys(p.strip() for p in pheno.split(" OR ") if p.strip()))
    return [INDETERMINATE]


@dataclass
class GeneState:
    """One gene of one patient: its genotype lookup values and, with medications, converted ones."""

    gene: str
    status: str
    diplotype: str = ""
    phenotype: str = ""
    activity_score: str = ""
    genotype_values: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # used for matching (converted if any)
    phenoconverted: bool = False
    converted_phenotype: str | None = None
    converted_activity_score: str | None = None
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str = ""  # why not called

    def to_json(self) -> dict:
        return {
            "gene": self.gene, "diplotype": self.diplotype, "phenotype": self.phenotype,
            "activity_score": self.activity_score, "status": self.status,
            "lookup": self.genotype_values,
            "phenoconverted": self.phenoconverted,
            "converted_phenotype": self.converted_phenotype,
            "converted_activity_score": self.converted_activity_score,
            "converted_lookup": self.values if self.phenoconverted else None,
            "phenoconversion_reasons": self.reasons,
            "warnings": self.warnings,
            "reason": self.reason,
        }


def _convert_value(gene: str, value: str, medications: list[str], table) -> tuple[str, object]:
    """One lookup alternative converted by the medications: ``(new value, Conversion)``."""
    from pgx.phenotype.phenoconversion import convert

    if gene in ACTIVITY_SCORE_GENES and _is_score(value):
        score = float(value)
        conv = convert(gene, score_phenotype(gene, score) or "", score, medications, table)
    else:
        conv = convert(gene, value, None, medications, table)
    if not conv.converted:
        return value, conv
    if gene in ACTIVITY_SCORE_GENES and conv.activity_score is not None:
        s = conv.activity_score
        text = _fmt_score(s)
        if abs(float(text) - s) < 1e-9:  # a score as CPIC writes it: match it directly
            return text, conv
    return conv.phenotype or INDETERMINATE, conv  # a phenotype: expanded per guideline


def gene_states(doc: dict, extra_genes: Iterable[str], medications: list[str] | None,
                table=None) -> dict[str, GeneState]:
    """Every gene of the calls (plus ``extra_genes`` the guidelines need, as not typed)."""
    from pgx.phenotype.phenoconversion import SUPPORTED_GENES

    by_gene = {g["gene"]: g for g in doc["genes"]}
    states: dict[str, GeneState] = {}
    for gene in list(by_gene) + sorted(set(extra_genes) - set(by_gene)):
        e = by_gene.get(gene)
        vals = genotype_values(gene, e)
        st = GeneState(gene=gene, status=e["status"] if e else NOT_TYPED,
                       diplotype=(e or {}).get("diplotype", ""),
                       phenotype=(e or {}).get("phenotype", ""),
                       activity_score=(e or {}).get("activity_score", ""),
                       genotype_values=vals, values=list(vals),
                       reason=(e or {}).get("reason", "") if e else
                       "not in the calls (no outside call supplied for this gene)")
        if medications and gene in SUPPORTED_GENES:
            new_vals, phenos, scores = [], [], []
            for v in vals:
                if v in (NO_RESULT, INDETERMINATE):
                    new_vals.append(v)
                    continue
                nv, conv = _convert_value(gene, v, medications, table)
                new_vals.append(nv)
                for r in conv.reasons:
                    if r not in st.reasons:
                        st.reasons.append(r)
                for w in conv.warnings:
                    if w not in st.warnings:
                        st.warnings.append(w)
                if conv.converted:
                    st.phenoconverted = True
                phenos.append(conv.phenotype)
                scores.append("" if conv.activity_score is None else _fmt_score(conv.activity_score)
                              if abs(float(_fmt_score(conv.activity_score)) - conv.activity_score) < 1e-9
                              else f"{conv.activity_score:g}")
            if st.phenoconverted:
                st.values = list(dict.fromkeys(new_vals))
                st.converted_phenotype = " OR ".join(dict.fromkeys(p for p in phenos if p))
                st.converted_activity_score = " OR ".join(dict.fromkeys(s for s in scores if s)) or None
        states[gene] = st
    return states


# ============================================================================ matching
def _guideline_values(g: Guideline, gene: str, value: str) -> list[str]:
    """A phenotype given for an activity-score gene: every score this guideline lists for it."""
    if gene in ACTIVITY_SCORE_GENES and value not in (NO_RESULT, INDETERMINATE) \
            and not _is_score(value):
        listed = sorted({r.lookup.get(gene, "") for r in g.recommendations}
                        - {"", NO_RESULT, INDETERMINATE}, key=float)
        hits = [v for v in listed if score_phenotype(gene, float(v)) == value]
        return hits or [value]
    return [value]


def _rec_json(r: Recommendation) -> dict:
    return {"population": r.population, "action": r.action, "action_curated": r.action_curated,
            "text": r.text, "note": r.note, "diplotypes": {g: list(d) for g, d in r.diplotypes.items()},
            "classification": r.classification or "", "lookup": r.lookup,
            "implications": r.implications, "alternate_drug": r.alternate_drug,
            "dosing": r.dosing}


def _describe_lookup(lookup: dict[str, str]) -> str:
    return ", ".join(f"{g} {v}" for g, v in lookup.items())


def _rec_text(recs: list[Recommendation]) -> str:
    if len(recs) == 1 and not recs[0].population or len({r.text for r in recs}) == 1:
        return recs[0].text
    return " | ".join(f"{r.population or 'all'}: {r.text}" for r in recs)


def _classification(recs: list[Recommendation]) -> str:
    return " / ".join(dict.fromkeys(r.classification or "" for r in recs if r.classification))


def match_drug(drug: str, g: Guideline, states: dict[str, GeneState]) -> dict:
    """One (drug, guideline) entry of the recommendations document."""
    options = []
    for gene in g.genes:
        st = states[gene]
        vals: list[str] = []
        for v in st.values:
            vals.extend(x for x in _guideline_values(g, gene, v) if x not in vals)
        options.append(vals)
    outcomes: list[tuple[dict[str, str], list[Recommendation]]] = []
    for combo in itertools.product(*options):
        lookup = dict(zip(g.genes, combo))
        outcomes.append((lookup, g.match(drug, lookup)))
    distinct = {tuple((r.population, r.text, r.classification) for r in recs)
                for _, recs in outcomes}
    not_called = [gene for gene in g.genes if states[gene].values == [NO_RESULT]]
    converted = any(states[gene].phenoconverted for gene in g.genes)
    phenotypes = []
    for gene in g.genes:
        st = states[gene]
        phenotypes.append({
            "gene": gene, "status": st.status,
            "phenotype": st.converted_phenotype if st.phenoconverted else st.phenotype,
            "genotype_phenotype": st.phenotype,
            "activity_score": (st.converted_activity_score or "") if st.phenoconverted
            else st.activity_score,
            "lookup": st.values, "genotype_lookup": st.genotype_values,
            "phenoconverted": st.phenoconverted, "phenoconversion_reasons": st.reasons,
        })
    recs_all = [r for _, recs in outcomes for r in recs]
    alternatives = []
    if all(not recs for _, recs in outcomes):
        recs_used: list[Recommendation] = []
        if not_called:
            state = "gene_not_called"
            why = "; ".join(f"{gene}: {states[gene].reason or states[gene].status}"
                            for gene in not_called)
            text = (f"No recommendation: {', '.join(not_called)} not called ({why}); the "
                    f"{g.source} guideline needs a result for {' and '.join(g.genes)}")
        else:
            state = "no_recommendation"
            text = (f"No recommendation: the {g.source} guideline lists nothing for "
                    + " or ".join(_describe_lookup(c) for lk, _ in outcomes
                                  for c in g.candidate_lookups(lk)))
    elif len(distinct) > 1:
        state = "ambiguous"
        recs_used = list({id(r): r for r in recs_all}.values())
        parts = []
        for lk, recs in outcomes:
            alternatives.append({"lookup": lk, "recommendations": [_rec_json(r) for r in recs]})
            parts.append(f"if {_describe_lookup(lk)}: "
                         + (_rec_text(recs) if recs else "no recommendation"))
        text = ("Ambiguous (tied calls or phenotype without score give different "
                "recommendations): " + " || ".join(parts))
    else:
        state = "matched"
        recs_used = outcomes[0][1]
        text = _rec_text(recs_used)
    return {
        "drug": drug,
        "genes": list(g.genes),
        "phenotypes": phenotypes,
        "state": state,
        "recommendation": text,
        "classification": _classification(recs_used),
        "recommendations": [_rec_json(r) for r in recs_used],
        "alternatives": alternatives,
        "not_called_genes": not_called,
        "phenoconverted": converted,
        "source": {"guideline": g.source, "id": g.id, "title": g.title, "year": g.year,
                   "pmid": g.pmids[0] if g.pmids else None, "pmids": list(g.pmids),
                   "url": g.url, "version": g.version},
    }


# ============================================================================ per sample
def medication_report(medications: str | list[str] | None, table=None) -> dict | None:
    """The medications as given, those the interaction table knows and those it does not."""
    from pgx.phenotype.phenoconversion import load_interactions, match_medication, parse_medications

    meds = parse_medications(medications)
    if not meds:
        return None
    table = table if table is not None else load_interactions()
    known, unknown = [], []
    for m in meds:
        drugs, unk = match_medication(table, m)
        known.extend(d for d in drugs if d not in known)
        unknown.extend(u for u in unk if u not in unknown)
    return {"given": meds, "recognised": known, "unknown": unknown,
            "table": {"path": table.path, "curated": table.curated,
                      "sources": {k: v.get("version", "") for k, v in table.sources.items()}}}


def recommend_sample(doc: dict, gset: GuidelineSet, medications: str | list[str] | None = None,
                     source: str | None = None, drugs: list[str] | None = None,
                     calls_path: str | None = None) -> dict:
    """The recommendations document of one sample (schema: recommendations.schema.json)."""
    from pgx.phenotype.phenoconversion import parse_medications

    meds = parse_medications(medications)
    drug_list = [d.lower() for d in drugs] if drugs else gset.drugs
    pairs = [(d, g) for d in drug_list for g in gset.for_drug(d, source)]
    needed = {gene for _, g in pairs for gene in g.genes}
    states = gene_states(doc, needed, meds or None)
    med = medication_report(meds)
    entries = [match_drug(d, g, states) for d, g in pairs]
    warnings = []
    if med and med["unknown"]:
        warnings.append(f"medication(s) not in the phenoconversion table: "
                        f"{', '.join(med['unknown'])} (it lists strong and moderate CYP2D6, "
                        f"CYP2C19, CYP2C9 and CYP3A inhibitors/inducers; no phenoconversion "
                        f"was applied for these)")
    for st in states.values():
        warnings.extend(f"{st.gene}: {w}" for w in st.warnings)
    return {
        "schema_version": SCHEMA_VERSION,
        "sample": doc["sample"],
        "pipeline": {"name": "pgx", "version": __version__},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "calls": {"path": calls_path, "pipeline_version": doc["pipeline"]["version"],
                  "created": doc.get("created")},
        "definitions": doc["definitions"],
        "guidelines": {"source": gset.source, "version": gset.version, "path": gset.path,
                       "filter": source or "all",
                       "versions": sorted({f"{g.source} {g.id}: {g.version}"
                                           for _, g in pairs})},
        "medications": med,
        "genes": [st.to_json() for st in states.values()],
        "drugs": entries,
        "warnings": warnings,
    }


def _phenotype_cell(p: dict) -> str:
    value = p["phenotype"] or "/".join(p["lookup"])
    if p["gene"] in ACTIVITY_SCORE_GENES and p["activity_score"]:
        value = f"{value} [{p['activity_score']}]" if value else p["activity_score"]
    if p["status"] in ("not_called", NOT_TYPED):
        value = f"{NO_RESULT} ({p['status']})"
    if p["phenoconverted"]:
        value += f" (phenoconverted from {p['genotype_phenotype'] or '/'.join(p['genotype_lookup'])})"
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
                        "; ".join(_phenotype_cell(p) for p in e["phenotypes"]),
                        e["state"], e["classification"],
                        " ".join(e["recommendation"].split()), str(e["phenoconverted"]).lower()])
    return buf.getvalue()


def format_lookup(doc: dict, drug: str, entries: list[dict]) -> str:
    """Human-readable text of what each guideline says for this patient and drug."""
    lines = [f"sample {doc['sample']}, drug {drug}"]
    med = doc.get("medications")
    if med:
        lines.append(f"medications: {', '.join(med['given'])}"
                     + (f" (not in the phenoconversion table: {', '.join(med['unknown'])})"
                        if med["unknown"] else ""))
    for e in entries:
        s = e["source"]
        lines.append("")
        lines.append(f"{s['guideline']} {s['year'] or ''}: {s['title']}"
                     + (f" (PMID {s['pmid']})" if s["pmid"] else ""))
        lines.append(f"  {s['url']}")
        for p in e["phenotypes"]:
            lines.append("  " + _phenotype_cell(p).replace("=", ": ", 1))
            for r in p["phenoconversion_reasons"]:
                lines.append(f"    phenoconversion: {r}")
        lines.append(f"  state: {e['state']}"
                     + (f"; classification: {e['classification']}" if e["classification"] else ""))
        if e["state"] == "matched":
            for r in e["recommendations"]:
                pop = f"[{r['population']}] " if r["population"] and len(e["recommendations"]) > 1 else ""
                lines.append(f"  {pop}{r['text']}"
                             + (f" ({r['classification']})" if len(e["recommendations"]) > 1 else ""))
                for gene, text in r["implications"].items():
                    lines.append(f"    {gene}: {text}")
        elif e["state"] == "ambiguous":
            for a in e["alternatives"]:
                lines.append(f"  if {_describe_lookup(a['lookup'])}:")
                for r in a["recommendations"] or [{"population": None, "text": "no recommendation",
                                                   "classification": ""}]:
                    pop = f"[{r['population']}] " if r["population"] else ""
                    lines.append(f"    {pop}{r['text']}")
        else:
            lines.append(f"  {e['recommendation']}")
    lines.append("")
    lines.append("Our summary of the guideline; read the guideline before prescribing.")
    return "\n".join(lines) + "\n"
