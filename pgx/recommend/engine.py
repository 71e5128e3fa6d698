"""Match a patient's calls against the guidelines, per drug and guideline.

Input: one ``<sample>.calls.json`` from ``pgx call`` (schema ``pgx/schemas/calls.schema.json``;
the genes' lookup values: :mod:`pgx.recommend.genes`). Output: one document per sample (schema
``pgx/schemas/recommendations.schema.json``) and the cohort table ``recommendations.tsv``
(:mod:`pgx.recommend.text`).

States of a (drug, guideline) entry
-----------------------------------
* ``matched``: one recommendation set (several populations may be listed), and the same for
  every result the missing data allow (then a note says so);
* ``incomplete``: a gene of the guideline was not typed (a multi-gene guideline with any
  untyped gene is never matched), or the recommendation would differ for a result the
  missing positions (or unknown phase) leave possible. ``settle`` names what would decide it
  (the gene's typing, the positions, phasing); ``alternatives`` lists each distinct
  recommendation with the results that lead to it;
* ``ambiguous``: tied calls give different recommendations (nothing missing would settle it);
* ``gene_not_called``: no gene of the guideline has a result (not assessable);
* ``no_recommendation``: the genes were called but the guideline lists nothing for them.

Ties (several lookup values of one gene) and a phenotype for an activity-score gene (an
outside call without a score, a CYP2C9 phenotype after a step phenoconversion: matched with
every score the guideline lists for that phenotype) are matched alternative by alternative.

Medications: a drug's own recommendation is matched without that drug's phenoconversion (a
note says that the drug itself inhibits or induces the enzyme); every other drug is matched
with it. Genotype-specific advice (``Recommendation.diplotypes``) applies to the reported,
unconverted diplotype only.
"""
from __future__ import annotations

import datetime as dt
import difflib
import itertools
from pathlib import Path

from pgx import __version__
from pgx.documents import read_document
from pgx.errors import InputError
from pgx.guidelines.model import (
    ACTIONS,
    ACTIVITY_SCORE_GENES,
    INDETERMINATE,
    NO_RESULT,
    Guideline,
    GuidelineSet,
    Recommendation,
)
from pgx.naming import check_sample_name
from pgx.recommend.genes import GeneState, gene_states, is_score

SCHEMA_VERSION = "1.1"  # 1.1: incomplete state, settle, grouped alternatives, action, notes
STATES = ("matched", "incomplete", "ambiguous", "gene_not_called", "no_recommendation")
MAX_COMBINATIONS = 4096  # lookup combinations enumerated for the alternatives of one entry
SETTLE_POSITIONS = 6  # missing positions named in one "may change" text (the rest counted)


# ============================================================================ reading calls
def read_calls(path: str | Path) -> dict:
    """A validated ``<sample>.calls.json`` document (``InputError`` naming the file and fix)."""
    fix = "pass a <sample>.calls.json written by this version of `pgx call`"
    doc = read_document(path, "calls.schema.json", "pgx calls JSON", fix)
    check_sample_name(doc["sample"], str(path), fix)
    return doc


def find_calls_file(outdir: str | Path, sample: str) -> Path:
    """``OUTDIR/<sample>.calls.json``, or ``InputError`` listing the samples there."""
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


# ============================================================================ lookup options
def _listed(g: Guideline, gene: str) -> list[str]:
    """The real results a guideline lists for ``gene`` (not No Result / Indeterminate)."""
    vals = {r.lookup.get(gene, "") for r in g.recommendations} - {"", NO_RESULT, INDETERMINATE}
    return sorted(vals, key=lambda v: (not is_score(v), float(v) if is_score(v) else 0, v))


def _guideline_values(g: Guideline, st: GeneState, value: str) -> list[str]:
    """A phenotype given for an activity-score gene: every score this guideline lists for it."""
    if st.gene in ACTIVITY_SCORE_GENES and value not in (NO_RESULT, INDETERMINATE) \
            and not is_score(value):
        hits = [v for v in _listed(g, st.gene) if is_score(v) and st.phenotype_of(v) == value]
        return hits or [value]
    return [value]


def _options(g: Guideline, st: GeneState, possible: bool) -> list[tuple[str, str | None]]:
    """The lookup values of one gene, each with the diplotype to match genotype-specific
    advice with (None: the value's general advice): the reported values, or every possible one
    (an untyped gene: every result the guideline lists). A reported value that another,
    not excluded diplotype shares is possible with both its own and the general advice."""
    if possible and not st.typed:
        return [(v, None) for v in (_listed(g, st.gene) or [NO_RESULT])]
    # the reported diplotype matters only where the guideline has genotype-specific advice
    dip = st.single_diplotype if _specific(g, st.gene) else None
    shared = {k for grp in st.not_excluded for k in grp["lookup_keys"]}
    out: list[tuple[str, str | None]] = []
    for v in (st.possible_values if possible else st.values):
        mine = dip is not None and v in st.values
        for x in _guideline_values(g, st, v):
            opts = [(x, dip)] if mine else []
            if not mine or (possible and v in shared):
                opts.append((x, None))
            out.extend(o for o in opts if o not in out)
    return out


def _rec_key(recs: list[Recommendation]) -> tuple:
    return tuple(sorted((r.population or "", r.text, r.classification or "", r.action)
                        for r in recs))


def _rec_json(r: Recommendation) -> dict:
    return {"population": r.population, "action": r.action, "action_curated": r.action_curated,
            "text": r.text, "note": r.note,
            "diplotypes": {g: list(d) for g, d in r.diplotypes.items()},
            "classification": r.classification or "", "lookup": r.lookup,
            "implications": r.implications, "alternate_drug": r.alternate_drug,
            "dosing": r.dosing}


def worst_action(recs: list[Recommendation] | list[dict]) -> str | None:
    """The most severe action among recommendations (ACTIONS order), None for none."""
    acts = [r.action if isinstance(r, Recommendation) else r["action"] for r in recs]
    return min(acts, key=ACTIONS.index) if acts else None


def _rec_text(recs: list[Recommendation]) -> str:
    if len(recs) == 1 and not recs[0].population or len({r.text for r in recs}) == 1:
        return recs[0].text
    return " | ".join(f"{r.population or 'all'}: {r.text}" for r in recs)


def _specific(g: Guideline, gene: str) -> bool:
    """Does the guideline word any advice for ``gene`` per diplotype?"""
    return any(gene in r.diplotypes for r in g.recommendations)


def _describe(g: Guideline, lookup: dict[str, str], states: dict[str, GeneState],
              dips: dict[str, str]) -> str:
    """``CYP2C19 Poor Metabolizer, CYP2D6 Normal Metabolizer (activity score 1.5)``; a
    reported value matched without its genotype-specific advice reads "(a diplotype other
    than ...)"."""
    parts = []
    for gene, v in lookup.items():
        st = states[gene]
        label = st.label(v)
        other = (_specific(g, gene) and bool(st.single_diplotype) and v in st.values
                 and gene not in dips)
        parts.append((label if label.startswith(gene) else f"{gene} {label}")
                     + (f" (a diplotype other than {st.single_diplotype})" if other else ""))
    return ", ".join(parts)


# ============================================================================ one entry
def _outcomes(drug, g, states, possible: bool):
    """``[(lookup, diplotypes, recommendations)]`` for every combination of the genes'
    options (None when there are more than MAX_COMBINATIONS)."""
    options = [_options(g, states[gene], possible) for gene in g.genes]
    n = 1
    for o in options:
        n *= len(o)
    if n > MAX_COMBINATIONS:
        return None
    out = []
    for combo in itertools.product(*options):
        lookup = {gene: v for gene, (v, _) in zip(g.genes, combo)}
        dips = {gene: d for gene, (_, d) in zip(g.genes, combo) if d}
        out.append((lookup, dips, g.match(drug, lookup, dips)))
    return out


def _alternatives(g: Guideline, outcomes, reported_keys: set, states) -> list[dict]:
    groups: dict[tuple, dict] = {}
    for lk, dips, recs in outcomes:
        k = _rec_key(recs)
        grp = groups.setdefault(k, {"lookup": lk, "lookups": [], "results": [],
                                    "recommendations": [_rec_json(r) for r in recs],
                                    "action": worst_action(recs),
                                    "includes_reported": k in reported_keys})
        grp["lookups"].append(lk)
        grp["results"].append(_describe(g, lk, states, dips))
    return sorted(groups.values(), key=lambda a: (not a["includes_reported"],
                                                  ACTIONS.index(a["action"]) if a["action"]
                                                  else len(ACTIONS)))


def _settle(g: Guideline, states, outcomes, reported_keys: set) -> list[dict]:
    """What would decide an incomplete entry: typing of untyped genes, the missing positions
    (or the phase) of partial genes whose other possible results change the advice."""
    changing: dict[str, set[str]] = {gene: set() for gene in g.genes}
    for lk, dips, recs in outcomes or []:
        if _rec_key(recs) not in reported_keys:
            for gene, v in lk.items():
                if v not in states[gene].values or (_specific(g, gene) and gene not in dips
                                                    and states[gene].single_diplotype):
                    changing[gene].add(v)
    out = []
    for gene in g.genes:
        st = states[gene]
        if not st.typed:
            why = f" ({st.reason})" if st.status == "not_called" and st.reason else ""
            out.append({"gene": gene, "kind": "typing", "positions": [],
                        "order": typing_order(gene),
                        "text": f"{gene} not tested{why}: order {typing_order(gene)}"})
            continue
        positions, phase, more_positions, novel = {}, False, 0, []
        for grp in st.not_excluded:
            if not any(st.used(k) in changing[gene] or k in changing[gene]
                       for k in grp["lookup_keys"]):
                continue
            phase |= grp["resolved_by"] == "phase"
            if grp["resolved_by"] == "novel" and grp.get("novel") not in novel:
                novel.append(grp.get("novel"))
            more_positions = max(more_positions, grp.get("more_positions", 0))
            for p in grp["positions"]:
                cur = positions.setdefault(p["position"], dict(p, alleles=[]))
                cur["alleles"] += [a for a in p["alleles"] if a not in cur["alleles"]]
        if positions:
            parts = []
            for p in list(positions.values())[:SETTLE_POSITIONS]:
                names = ", ".join(_allele_name(gene, a) for a in p["alleles"][:3])
                more = len(p["alleles"]) - 3 + p.get("more_alleles", 0)
                parts.append(f"{names}{f' and {more} more' if more > 0 else ''} "
                             f"({p['rsid'] or p['position']})")
            more_positions += max(0, len(positions) - SETTLE_POSITIONS)
            out.append({"gene": gene, "kind": "positions", "positions": list(positions.values()),
                        "text": "; ".join(parts) + " not tested"
                        + (f" (and {more_positions} more {gene} positions)"
                           if more_positions else "")})
        if novel:
            out.append({"gene": gene, "kind": "novel", "positions": [],
                        "text": f"possible novel {gene} allele: {'; '.join(novel)} is in no "
                                f"allele definition, its effect on function is unknown (the "
                                f"star-allele call may be incomplete)"})
        if phase:
            out.append({"gene": gene, "kind": "phase", "positions": [],
                        "text": f"{gene}: the unphased genotypes also fit another diplotype; "
                                f"phased data (or family testing) would decide"})
    return out


def typing_order(gene: str) -> str:
    """What to order for an untyped gene."""
    if gene.startswith("HLA-"):
        return f"{gene} typing"
    if gene == "CYP2D6":
        return "CYP2D6 genotyping with copy-number analysis"
    return f"{gene} genotyping"


def _allele_name(gene: str, allele: str) -> str:
    return f"{gene}{allele}" if allele.startswith("*") else f"{gene} {allele}"


def match_drug(drug: str, g: Guideline, states: dict[str, GeneState],
               notes: list[str] | None = None) -> dict:
    """One (drug, guideline) entry of the recommendations document."""
    reported = _outcomes(drug, g, states, possible=False) or []
    untyped = [gene for gene in g.genes if not states[gene].typed]
    uncertain = [gene for gene in g.genes  # other diplotypes possible (another value or not)
                 if states[gene].not_excluded
                 or states[gene].possible_values != states[gene].values]
    possible = (_outcomes(drug, g, states, possible=True) if untyped or uncertain
                else reported)
    reported_keys = {_rec_key(recs) for _, _, recs in reported}
    distinct = {_rec_key(recs) for _, _, recs in (possible or reported)}
    recs_used = list({id(r): r for _, _, recs in reported for r in recs}.values())
    notes = list(notes or [])
    alternatives, settle = [], []
    if untyped and len(untyped) == len(g.genes):
        state = "gene_not_called"
    elif untyped or (possible is None and uncertain) or (len(distinct) > 1
                                                          and distinct != reported_keys):
        state = "incomplete"
    elif len(distinct) > 1:
        state = "ambiguous"
    elif not recs_used:
        state = "no_recommendation"
    else:
        state = "matched"
        if uncertain:
            notes.append("The same for every result the missing data leave possible: "
                         + "; ".join(f"{gene} " + ", ".join(states[gene].label(v) for v in
                                                            states[gene].possible_values)
                                     for gene in uncertain) + ".")
    if state in ("incomplete", "ambiguous", "gene_not_called"):
        alternatives = _alternatives(g, possible if possible is not None else reported,
                                     reported_keys, states)
        if state != "ambiguous":
            settle = _settle(g, states, possible, reported_keys)
            if possible is None:
                notes.append(f"Too many possible results to list ({MAX_COMBINATIONS}+).")
    text = _summary(state, g, states, untyped, recs_used, reported, alternatives, settle)
    for r in recs_used:
        if r.note and r.note not in notes:
            notes.append(r.note)
    if g.notes:
        notes.append(g.notes)
    pops = sorted({r.population for r in recs_used if r.population})
    return {
        "drug": drug,
        "genes": list(g.genes),
        "phenotypes": [_phenotype_json(states[gene]) for gene in g.genes],
        "state": state,
        "action": worst_action(recs_used),
        "recommendation": text,
        "classification": " / ".join(dict.fromkeys(r.classification for r in recs_used
                                                   if r.classification)),
        "recommendations": [_rec_json(r) for r in recs_used],
        "alternatives": alternatives,
        "settle": settle,
        "notes": notes,
        "populations": {p: g.populations.get(p, "") for p in pops},
        "not_called_genes": untyped,
        "phenoconverted": any(states[gene].phenoconverted for gene in g.genes),
        "source": {"guideline": g.source, "id": g.id, "title": g.title, "year": g.year,
                   "pmid": g.pmids[0] if g.pmids else None, "pmids": list(g.pmids),
                   "url": g.url, "version": g.version},
    }


def _summary(state, g, states, untyped, recs_used, reported, alternatives, settle) -> str:
    if state == "matched":
        return _rec_text(recs_used)
    if state == "no_recommendation":
        return (f"No recommendation: the {g.source} guideline lists nothing for "
                + " or ".join(_describe(g, lk, states, dips) for lk, dips, _ in reported))
    others = [a for a in alternatives if not a["includes_reported"]]
    then = " || ".join(f"if {' or '.join(a['results'][:4])}"
                       f"{' or ...' if len(a['results']) > 4 else ''}: "
                       + (_rec_text_json(a["recommendations"]) or "no recommendation")
                       for a in others)
    if state == "gene_not_called":
        why = "; ".join(f"{gene}: {states[gene].reason or states[gene].status}" for gene in untyped)
        return (f"Not assessable: {', '.join(untyped)} not tested ({why}); the {g.source} "
                f"guideline needs a result for {' and '.join(g.genes)}"
                + (f". Possible: {then}" if then else ""))
    now = (_rec_text(recs_used) if recs_used else "no recommendation")
    if state == "ambiguous":
        return ("Ambiguous (tied calls give different recommendations): "
                + " || ".join(f"if {' or '.join(a['results'])}: "
                              + (_rec_text_json(a["recommendations"]) or "no recommendation")
                              for a in alternatives))
    head = "Incomplete (may change: " + "; ".join(s["text"] for s in settle) + ")"
    return f"{head}. With the result as reported: {now}" + (f" || {then}" if then else "")


def _rec_text_json(recs: list[dict]) -> str:
    if not recs:
        return ""
    if len({r["text"] for r in recs}) == 1:
        return recs[0]["text"]
    return " | ".join(f"{r['population'] or 'all'}: {r['text']}" for r in recs)


def _phenotype_json(st: GeneState) -> dict:
    return {
        "gene": st.gene, "status": st.status,
        "phenotype": st.converted_phenotype if st.phenoconverted else st.phenotype,
        "genotype_phenotype": st.phenotype,
        "activity_score": (st.converted_activity_score or "") if st.phenoconverted
        else st.activity_score,
        "lookup": st.values, "genotype_lookup": st.genotype_values,
        "possible_lookup": st.possible_values,
        "possible_phenotypes": st.possible_phenotypes,
        "phenotype_certain": st.phenotype_certain,
        "phenoconverted": st.phenoconverted, "phenoconversion_reasons": st.reasons,
    }


# ============================================================================ per sample
def medication_report(medications: list[str], gset: GuidelineSet, table) -> dict | None:
    """The medications as given, the interaction-table drugs among them, those the table does
    not know (interactions not assessed), and the guideline drugs each one names."""
    from pgx.phenotype.phenoconversion import match_medication, match_names, normalise_name

    if not medications:
        return None
    known, unknown = [], []
    names = {normalise_name(d): d for d in gset.drugs}
    covered: dict[str, list[str]] = {}
    for m in medications:
        drugs, unk = match_medication(table, m)
        known.extend(d for d in drugs if d not in known)
        unknown.extend(u for u in unk if u not in unknown)
        covered[m] = match_names(m, lambda n: names.get(normalise_name(n)))[0]
    return {"given": medications, "recognised": known, "unknown": unknown,
            "guideline_drugs": covered,
            "table": {"path": table.path, "curated": table.curated,
                      "sources": {k: v.get("version", "") for k, v in table.sources.items()}}}


def _own_interactions(drug: str, g: Guideline, medications: list[str], table):
    """The medications that are ``drug`` itself, and notes for its interactions with the
    guideline's genes."""
    from pgx.phenotype.phenoconversion import ENZYME_GENES, match_medication

    own = [m for m in medications if drug in match_medication(table, m)[0]]
    notes = []
    if own:
        for ix in table.interactions(drug):
            genes = [x for x in ENZYME_GENES[ix.enzyme] if x in g.genes]
            if genes:
                notes.append(f"{drug} is itself a {ix.describe()}: its own recommendation uses "
                             f"the genotype-predicted {', '.join(genes)} phenotype; the "
                             f"interaction is applied to the patient's other drugs")
    return own, notes


def recommend_sample(doc: dict, gset: GuidelineSet, medications: str | list[str] | None = None,
                     source: str | None = None, drugs: list[str] | None = None,
                     calls_path: str | None = None) -> dict:
    """The recommendations document of one sample (schema: recommendations.schema.json)."""
    from pgx.phenotype.phenoconversion import load_interactions, parse_medications

    meds = parse_medications(medications)
    table = load_interactions() if meds else None
    drug_list = [d.lower() for d in drugs] if drugs else gset.drugs
    pairs = [(d, g) for d in drug_list for g in gset.for_drug(d, source)]
    needed = {gene for _, g in pairs for gene in g.genes}
    cache: dict[tuple[str, ...], dict[str, GeneState]] = {}

    def states_for(use: tuple[str, ...]) -> dict[str, GeneState]:
        if use not in cache:
            cache[use] = gene_states(doc, needed, list(use) or None, table)
        return cache[use]

    med = medication_report(meds, gset, table)
    current = {d for ds in (med or {}).get("guideline_drugs", {}).values() for d in ds}
    entries = []
    for d, g in pairs:
        own, notes = _own_interactions(d, g, meds, table) if meds else ([], [])
        entry = match_drug(d, g, states_for(tuple(m for m in meds if m not in own)), notes)
        entry["current_medication"] = d in current
        entries.append(entry)
    states = states_for(tuple(meds))
    warnings = []
    if med and med["unknown"]:
        warnings.append(f"medication(s) not in the phenoconversion table: "
                        f"{', '.join(med['unknown'])} (interactions not assessed: it lists "
                        f"strong and moderate CYP2D6, CYP2C19, CYP2C9 and CYP3A "
                        f"inhibitors/inducers; no phenoconversion was applied for these)")
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
