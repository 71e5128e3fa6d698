"""HTML and TSV renderings of the report document (see :mod:`pgx.report.model`).

The HTML is self-contained (inline CSS, no scripts, fonts, images or external links to
resources), print-friendly, and every string that comes from an input file is escaped with
:func:`html.escape`. Order on the page: a one-line patient header, the key results (current
medications, actionable results, what was not tested or is incomplete), the genotype table,
every drug grouped by category (most severe first), what was tested, definitions, disclaimer.
"""
from __future__ import annotations

import csv
import io
from html import escape
from string import Template

from pgx.report.model import CATEGORIES, CATEGORY_LABELS, UNSETTLED

TSV_COLUMNS = ("sample", "drug", "gene", "diplotype", "phenotype", "genotype_phenotype",
               "activity_score", "possible_phenotypes", "status", "phenoconverted", "state",
               "category", "may_change", "source", "guideline", "year", "pmid",
               "classification", "recommendation")

CSS = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1a1a1a;background:#fff;margin:0;line-height:1.4;font-size:15px}
main{max-width:68rem;margin:0 auto;padding:1rem 1.5rem}
h1{font-size:1.45rem;margin:.1rem 0 .3rem}h2{font-size:1.2rem;margin:1.6rem 0 .5rem;
 border-bottom:2px solid #1f3a5f;padding-bottom:.2rem;color:#1f3a5f}
h3{font-size:1rem;margin:.9rem 0 .3rem}
p.patient{margin:0 0 .6rem;color:#333}
table{border-collapse:collapse;width:100%;margin:.3rem 0 .8rem;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid #8a8a8a;padding:.25rem .4rem;text-align:left;vertical-align:top}
thead th{background:#e8edf3}
tbody th{font-weight:600}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dl.meta dt{font-weight:600}dl.meta dd{margin:0}
.key{border:3px solid #1f3a5f;border-radius:6px;padding:.3rem .9rem .5rem;margin:.4rem 0 1rem}
.key h2{margin:.3rem 0 .4rem;border:0}
.key ul{margin:.2rem 0 .4rem;padding-left:1.2rem}.key li{margin:.15rem 0}
.cat{display:inline-block;padding:0 .35rem;border-radius:3px;font-weight:600;
 border:1px solid currentColor;white-space:nowrap;font-size:.85rem}
.cat-avoid{color:#8b0000;background:#fde8e8}.cat-change_dose{color:#6b3a00;background:#fff1dc}
.cat-incomplete{color:#4a1a73;background:#f1e8fb}.cat-monitor{color:#5c4400;background:#fff8d6}
.cat-conditional{color:#134b5f;background:#e3f2f7}.cat-no_recommendation{color:#333;background:#eee}
.cat-standard{color:#0f4d1c;background:#e6f4e9}
.note{color:#333;font-size:.86rem}.flag{font-weight:600;color:#6b3a00}
.warn{font-weight:600;color:#4a1a73}
.outside{font-weight:600;color:#1f3a5f}
ul.compact{columns:3;padding-left:1.2rem}
.disclaimer{border:2px solid #8b0000;padding:.6rem .9rem;background:#fff}
@media (max-width:40rem){ul.compact{columns:1}}
@media print{
 body{font-size:10pt}main{max-width:none;padding:0}
 h2{break-after:avoid}tr,li{break-inside:avoid}thead{display:table-header-group}
 .cat{border:1px solid #000}.key{break-inside:avoid}
 @page{size:A4;margin:14mm 12mm}
}
"""

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Pharmacogenomic report: $sample</title>
<style>$css</style>
</head>
<body>
<main>
<h1>Pharmacogenomic report</h1>
$body
</main>
</body>
</html>
""")


KEY_LIST = 8  # drugs named per line of the key results (the rest are counted)
BADGES = {"avoid": "Avoid", "change_dose": "Change the dose", "incomplete": "Incomplete",
          "monitor": "Monitor", "conditional": "Only with a condition",
          "no_recommendation": "No genotype-based advice", "standard": "Standard"}
UNSETTLED_LABELS = {"incomplete": "Incomplete: may change",
                    "ambiguous": "Ambiguous: tied calls disagree",
                    "gene_not_called": "Not assessable"}


def _e(x) -> str:
    return escape("" if x is None else str(x), quote=True)


def _cat(c: str) -> str:
    """A category badge (its short name; the headings carry the long one)."""
    return f'<span class="cat cat-{_e(c)}">{_e(BADGES[c])}</span>'


def _cite(s: dict) -> str:
    out = f"{_e(s['guideline'])} {_e(s['year'] or '')}".strip()
    if s.get("pmid"):
        out += f", PMID {_e(s['pmid'])}"
    return out


def _section(ident: str, title: str, inner: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<section id="{ident}"{c} aria-labelledby="{ident}-h">\n'
            f'<h2 id="{ident}-h">{title}</h2>\n{inner}\n</section>\n')


def _genotype_data(doc: dict) -> str:
    c = doc["inputs"]["calls"]
    original = c.get("original_vcf") or c.get("vcf") or []
    return ", ".join(original) or "—"


# ---------------------------------------------------------------- header and key results
def _header(doc: dict) -> str:
    meds = doc["medications"]
    m = _e(", ".join(meds["given"])) if meds else "none given"
    return (f'<p class="patient"><strong>Sample {_e(doc["sample"])}</strong> · report '
            f'{_e(doc["created"][:10])} · genotype data: {_e(_genotype_data(doc))} · current '
            f'medications: {m} · definitions {_e(doc["definitions"].get("source"))} '
            f'{_e(doc["definitions"].get("version"))} · pgx {_e(doc["pipeline"]["version"])}</p>')


def _medications(k: dict, doc: dict) -> str:
    if not doc["medications"]:
        return ("<p>No current medications were given: each drug below is assessed on the "
                "genotype alone (no phenoconversion).</p>")
    items = []
    for m in k["medications"]:
        parts = []
        for d in m["drugs"]:
            advice = " ".join(f"<em>{_e(a['source'])}:</em> {_e(a['text'])}"
                              for a in d["advice"][:2])
            change = next((a["may_change"] for a in d["advice"] if a["may_change"]), "")
            parts.append(f"{_cat(d['category'])} {advice}"
                         + (f' <span class="warn">May change: {_e(change)}.</span>'
                            if change else ""))
        if not m["drugs"]:
            parts.append("no pharmacogenomic guideline covers this drug")
        if m["interactions"]:
            parts.append('<span class="flag">' + _e("; ".join(m["interactions"])) + "</span>")
        elif not m["interactions_assessed"]:
            parts.append('<span class="note">interactions not assessed (not in the '
                         'phenoconversion table)</span>')
        items.append(f"<li><strong>{_e(m['given'])}</strong>: " + " ".join(parts) + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _actionable(k: dict) -> str:
    if not k["actionable"]:
        return "<p>None: no result asks to avoid a drug, change a dose or monitor.</p>"
    items = []
    for a in k["actionable"]:
        groups: dict[str, list[str]] = {}
        for d in a["drugs"]:
            groups.setdefault(d["category"], []).append(
                d["drug"] + (" (incomplete)" if d["incomplete"] else ""))
        drugs = "; ".join(f"{_e(CATEGORY_LABELS[c].split(' /')[0].lower())}: "
                          f"{_e(', '.join(ds[:KEY_LIST]))}"
                          + (f" and {len(ds) - KEY_LIST} more" if len(ds) > KEY_LIST else "")
                          for c, ds in groups.items())
        pheno = _e(a["phenotype"] or "—") + (" (phenoconverted)" if a["phenoconverted"] else "")
        uncertain = ("" if a["phenotype_certain"] else
                     ' <span class="warn">(incomplete: see below)</span>')
        items.append(f"<li><strong>{_e(a['gene'])}</strong> {_e(a['diplotype'])}: {pheno}"
                     f"{uncertain} — {drugs}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _incomplete(k: dict) -> str:
    if not k["incomplete"]:
        return ("<p>None: every gene the guidelines need was tested and its phenotype is "
                "certain.</p>")
    items = []
    for g in k["incomplete"]:
        ds = g["drugs"]
        drugs = (f' <span class="note">May change: {_e(", ".join(ds[:KEY_LIST]))}'
                 f'{f" and {len(ds) - KEY_LIST} more" if len(ds) > KEY_LIST else ""}.</span>'
                 if ds else "")
        items.append(f"<li><strong>{_e(g['gene'])}</strong> {_e(g['what'])}: "
                     f"{_e(g['settle'])}.{drugs}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _key_results(doc: dict) -> str:
    k = doc["key_results"]
    return ("<h3>Current medications</h3>" + _medications(k, doc)
            + "<h3>Actionable results</h3>" + _actionable(k)
            + "<h3>Not tested or incomplete</h3>" + _incomplete(k))


# ---------------------------------------------------------------- genotypes and drugs
def _novel(v: dict) -> str:
    """``c.440A>T p.Glu147Val (missense, chr10:94942300 A>T, 0/1, AF 0.0001)``"""
    name = " ".join(x for x in (v.get("hgvs_c"), v.get("hgvs_p")) if x) or \
        v.get("amino_acid_change") or v.get("dna_change") or ""
    extra = "".join(f", {k} {val}" for k, val in (v.get("annotations") or {}).items())
    return (f"{name} ({v['consequence']}, {v['chrom']}:{v['pos']} {v['ref']}>{v['alt']}, "
            f"genotype {v['genotype']}{extra})")


def _genes(doc: dict) -> str:
    rows = []
    for g in doc["genes"]:
        pheno = _e(g["phenotype"] or "—")
        if g["phenoconverted"]:
            pheno += (f'<br><span class="flag">phenoconverted to '
                      f'{_e(g["converted_phenotype"] or "—")}'
                      + (f' (activity score {_e(g["converted_activity_score"])})'
                         if g["converted_activity_score"] else "")
                      + "</span>: " + _e("; ".join(g["phenoconversion_reasons"])))
        others = [p for p in g["possible_phenotypes"] if p not in g["phenotype"].split(" OR ")]
        if others:
            pheno += f'<br><span class="warn">not excluded: {_e(", ".join(others))}</span>'
        status = _e(g["status"].replace("_", " "))
        if g["outside_call"]:
            status = '<span class="outside">outside call</span>'
        if g["status"] in ("partial", "not_called", "not_typed") and g["reason"]:
            status += f'<br><span class="note">{_e(g["reason"])}</span>'
        if g["inferred"]:
            status += f'<br><span class="note">{_e(g["inferred"])}</span>'
        if g["novel_variants"]:
            status += ('<br><span class="warn">possible novel allele: the star-allele call may '
                       'be incomplete</span><br><span class="note">'
                       + _e("; ".join(dict.fromkeys(_novel(v) for v in g["novel_variants"])))
                       + "</span>")
        rows.append(f'<tr><th scope="row">{_e(g["gene"])}</th><td>{_e(g["diplotype"] or "—")}'
                    f'</td><td>{pheno}</td><td>{_e(g["activity_score"] or "—")}</td>'
                    f"<td>{status}</td></tr>")
    return ('<table><caption>Genotype results (outside calls come from another test, not from '
            'the VCF)</caption><thead><tr><th scope="col">Gene</th><th scope="col">Diplotype'
            '</th><th scope="col">Phenotype</th><th scope="col">Activity score</th>'
            '<th scope="col">Status</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>")


def _phenos(e: dict) -> str:
    parts = []
    for p in e["phenotypes"]:
        v = p["phenotype"] or ("No result" if p["status"] in ("not_called", "not_typed")
                               else p.get("diplotype") or "—")
        if p["activity_score"]:
            v += f" (activity score {p['activity_score']})"
        t = f"{_e(p['gene'])}: {_e(v)}"
        if p["phenoconverted"]:
            t += (f' <span class="flag">phenoconverted from '
                  f'{_e(p["genotype_phenotype"] or "—")}</span>')
        parts.append(t)
    return "<br>".join(parts)


def _advice(e: dict) -> str:
    out = []
    if e["state"] in UNSETTLED:
        out.append(f'<span class="warn">{_e(UNSETTLED_LABELS[e["state"]])}'
                   f'{" — " + _e(e["may_change"]) if e["may_change"] else ""}.</span>')
        if e["advice"]:
            out.append("As reported:")
    if e["advice"]:
        reported = e["action"] if e["state"] in UNSETTLED and e["action"] else None
        out.append((_cat(reported) + " " if reported else "")
                   + _advice_lines(e["advice"], e["populations"]))
    if e["state"] == "no_recommendation" or (not e["advice"] and e["state"] not in UNSETTLED):
        out.append(_e(e["recommendation"]))
    for alt in e["alternatives"]:
        if alt["includes_reported"]:
            continue
        shown = "; ".join(alt["phenotypes"][:4]) + (" …" if len(alt["phenotypes"]) > 4 else "")
        cat = _cat(alt["action"]) + " " if alt["action"] else ""
        out.append(f"If {_e(shown)}: {cat}" + (_advice_lines(alt["advice"], e["populations"])
                                                 or "no recommendation"))
    for n in e["notes"]:
        out.append(f'<span class="note">Note: {_e(n)}</span>')
    if not e["action_curated"]:
        out.append('<span class="note">Category from PharmGKB\'s flags (not curated).</span>')
    return "<br>".join(out)


def _advice_lines(advice: list[dict], populations: dict) -> str:
    """Each recommendation's text, with its population (and what it means) when there are
    several or the population is described."""
    parts = []
    for a in advice:
        pop = a["population"]
        desc = populations.get(pop) if pop else ""
        label = (f"<em>{_e(pop)}{': ' + _e(desc) if desc and desc.lower() != pop.lower() else ''}"
                 f"</em>: " if pop and (len(advice) > 1 or desc) else "")
        parts.append(f"{label}{_e(a['text'])}")
    return "<br>".join(parts)


def _drugs(doc: dict) -> str:
    order = {c: i for i, c in enumerate(CATEGORIES)}
    worst = {}
    for e in doc["drugs"]:
        c = worst.get(e["drug"])
        if c is None or order[e["category"]] < order[c]:
            worst[e["drug"]] = e["category"]
    out = []
    for cat in CATEGORIES:
        names = sorted((d for d, c in worst.items() if c == cat),
                       key=lambda d: (not any(e["current_medication"] for e in doc["drugs"]
                                              if e["drug"] == d), d))
        if not names:
            continue
        rows = []
        for drug in names:
            entries = sorted((e for e in doc["drugs"] if e["drug"] == drug),
                             key=lambda e: (order[e["category"]], e["source"]["guideline"]))
            for i, e in enumerate(entries):
                s = e["source"]
                src = (f"{_e(s['guideline'])} {_e(s['year'] or '')}"
                       + (f"<br>PMID {_e(s['pmid'])}" if s["pmid"] else ""))
                head = (f'<th scope="row" rowspan="{len(entries)}">{_e(drug)}'
                        + ('<br><span class="flag">current medication</span>'
                           if e["current_medication"] else "") + "</th>") if i == 0 else ""
                rows.append(f"<tr>{head}<td>{_cat(e['category'])}</td><td>{_phenos(e)}</td>"
                            f"<td>{_advice(e)}</td><td>{_e(e['classification'] or '—')}</td>"
                            f"<td>{src}</td></tr>")
        out.append(f'<h3 id="cat-{cat}">{_e(CATEGORY_LABELS[cat])} ({len(names)})</h3>'
                   '<table><thead><tr><th scope="col">Drug</th><th scope="col">Category</th>'
                   '<th scope="col">Gene result used</th><th scope="col">Recommendation</th>'
                   '<th scope="col">Strength</th><th scope="col">Guideline</th></tr></thead>'
                   "<tbody>" + "".join(rows) + "</tbody></table>")
    return "\n".join(out)


# ---------------------------------------------------------------- tested, definitions
def _open(o: dict) -> str:
    where = _e(o["position"]) + (f" ({_e(o['rsid'])})" if o["rsid"] else "")
    if not o["listed"]:
        return f"{where}: alleles it leaves open not listed"
    if not o["alleles"]:
        return f"{where}: no allele left open"
    names = ", ".join(o["alleles"]) + (f" and {o['more']} more" if o["more"] else "")
    return f"{where}: {_e(names)} not tested ({_e(', '.join(o['phenotypes']))} possible)"


def _tested(doc: dict) -> str:
    t = doc["tested"]
    out = ["<h3>Tested from the VCF</h3>"]
    rows = []
    for g in t["genes"]:
        miss = "<br>".join(_open(o) for o in g["open_alleles"]) or "none"
        rows.append(f'<tr><th scope="row">{_e(g["gene"])}</th>'
                    f'<td>{_e(g["alleles_tested"] if g["alleles_tested"] is not None else "—")}'
                    f'</td><td>{_e(g["positions_tested"] if g["positions_tested"] is not None else "—")}'
                    f'</td><td>{miss}</td></tr>')
    out.append('<table><caption>Alleles and positions tested per gene; missing positions were '
               'absent, ./. or failed a filter and were not assumed reference. To genotype '
               'them explicitly, list every defined position with <code>pgx positions</code> '
               'and call the sample there.</caption><thead>'
               '<tr><th scope="col">Gene</th><th scope="col">Alleles tested</th>'
               '<th scope="col">Positions tested</th><th scope="col">Missing positions (alleles '
               'they leave open)</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")
    out.append("<h3>Genes without a result</h3>")
    if t["uncalled"]:
        out.append("<ul>" + "".join(f"<li><strong>{_e(u['gene'])}</strong> "
                                    f"({_e(u['status'].replace('_', ' '))}): {_e(u['reason'])}"
                                    f"</li>" for u in t["uncalled"]) + "</ul>")
    else:
        out.append("<p>None: every gene of the panel has a result.</p>")
    out.append("<h3>Outside calls</h3>")
    if t["outside_calls"]:
        out.append("<p>These results were supplied by another test and were not computed or "
                   "checked by pgx against the sample's data:</p><ul>"
                   + "".join(f"<li><strong>{_e(o['gene'])}</strong> {_e(o['diplotype'])}"
                             + (f" ({_e(o['phenotype'])})" if o["phenotype"] else "")
                             + f": {_e(o['reason'])}"
                             + "".join(f" ({_e(w)})" for w in o.get("warnings") or [])
                             + "</li>" for o in t["outside_calls"]) + "</ul>")
    else:
        out.append("<p>None supplied.</p>")
    ann = doc.get("annotation") or {}
    if ann.get("consequences"):
        by = ", ".join(ann.get("tools") or []) or "consequences in the VCF"
        out.append(f"<h3>Variants outside the allele definitions</h3><p>Consequence prediction "
                   f"was run ({_e(by)}): protein-altering, start/stop and splice variants of the "
                   f"pharmacogenes that no allele definition covers are listed under their gene "
                   f"as possible novel alleles.</p>")
    else:
        out.append("<h3>Variants outside the allele definitions</h3><p>Consequence prediction "
                   "was not run on this VCF: variants outside the defined positions were not "
                   "assessed (a novel allele would go unnoticed). Run <code>pgx annotate "
                   "--gff GFF3 --fasta FASTA</code> before <code>pgx call</code>.</p>")
    out.append(f"<h3>Not detected</h3><p>{_e(t['structural_variants'])}</p>")
    return "\n".join(out)


def _details(doc: dict) -> str:
    meds = doc["medications"]
    if meds:
        m = _e(", ".join(meds["given"]))
        if meds["unknown"]:
            m += (" <span class=\"note\">(interactions not assessed for: "
                  f"{_e(', '.join(meds['unknown']))}; not in the phenoconversion table)</span>")
    else:
        m = "none given (no phenoconversion applied)"
    c = doc["inputs"]["calls"]
    rows = [("Sample ID", _e(doc["sample"])), ("Current medications", m),
            ("Report date", _e(doc["created"][:10])),
            ("Genotype data", _e(_genotype_data(doc))),
            ("Read by pgx call", _e(", ".join(c.get("vcf") or []) or "—")),
            ("Quality filter", _e("; ".join(c.get("filters") or [])
                                  or "none recorded in the VCF header (genotypes used as given)")),
            ("Calls made", _e(c.get("created") or "—"))]
    return '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _definitions(doc: dict) -> str:
    d, g = doc.get("definitions") or {}, doc.get("guidelines") or {}
    items = [
        ("Categories", "Avoid: choose another drug. Change the dose: the dose, titration or a "
         "dose limit differs. Incomplete or not assessable: a gene the guideline needs was not "
         "tested, or a result the missing data leave possible would change the advice (a "
         "severe result as reported keeps its own category and is marked incomplete). Monitor: "
         "usual drug and dose with extra caution or monitoring. Only with a condition: advice "
         "that applies only with a condition (e.g. cystic fibrosis). No genotype-based "
         "recommendation: the guideline gives none for this result. Standard: no "
         "genotype-based change. A drug takes its most severe category over all guidelines."),
        ("Phenoconversion", "a current medication that inhibits or induces the enzyme changes "
         "the phenotype used for the recommendation; the genotype phenotype is shown beside it. "
         "A drug's own recommendation uses the genotype phenotype."),
        ("Status", "called: all defined positions present; partial: some positions missing "
         "(the alleles they leave open are listed); not called: a required position is "
         "missing; outside call: supplied by another test; not typed: not in the data."),
        ("Strength", "CPIC classification (Strong, Moderate, Optional, No recommendation); "
         "DPWG entries are N/A."),
        ("Allele definitions", f"{d.get('source', '')} {d.get('version', '')}"),
        ("Guidelines", f"{g.get('source', '')} {g.get('version', '')}"),
        ("Pipeline", f"pgx {doc['pipeline']['version']}"),
        ("Report created", doc["created"]),
    ]
    out = ['<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
           + "</dl>"]
    if g.get("versions"):
        out.append("<h3>Guideline versions used</h3><ul class=\"compact\">"
                   + "".join(f"<li>{_e(v)}</li>" for v in g["versions"]) + "</ul>")
    if doc.get("warnings"):
        out.append("<h3>Warnings</h3><ul>" + "".join(f"<li>{_e(w)}</li>"
                                                    for w in doc["warnings"]) + "</ul>")
    return "\n".join(out)


def render_html(doc: dict) -> str:
    """The self-contained HTML report of one patient."""
    body = "".join([
        _header(doc),
        _section("key-results", "Key results", _key_results(doc), cls="key"),
        _section("genotypes", "Genotype results", _genes(doc)),
        _section("drugs", "Recommendations per drug", _drugs(doc)),
        _section("tested", "What was tested and what was not", _tested(doc)),
        _section("patient", "Patient and sample", _details(doc)),
        _section("definitions", "Definitions and versions", _definitions(doc)),
        _section("disclaimer", "Disclaimer",
                 f'<p class="disclaimer">{_e(doc["disclaimer"])}</p>'),
    ])
    return PAGE.substitute(sample=_e(doc["sample"]), css=CSS, body=body)


def render_tsv(doc: dict) -> str:
    """One row per gene x drug x guideline."""
    genes = {g["gene"]: g for g in doc["genes"]}
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(TSV_COLUMNS)
    clean = lambda x: " ".join(str("" if x is None else x).split())  # noqa: E731
    for e in doc["drugs"]:
        s = e["source"]
        for p in e["phenotypes"]:
            g = genes.get(p["gene"], {})
            w.writerow([clean(v) for v in (
                doc["sample"], e["drug"], p["gene"], g.get("diplotype", ""), p["phenotype"],
                p["genotype_phenotype"], p["activity_score"], ";".join(p["possible_phenotypes"]),
                p["status"], str(p["phenoconverted"]).lower(), e["state"], e["category"],
                e["may_change"], s["guideline"], s["id"], s["year"] or "", s["pmid"] or "",
                e["classification"], e["recommendation"])])
    return buf.getvalue()
