"""HTML and TSV renderings of the report document (see :mod:`pgx.report.model`).

The HTML is self-contained (inline CSS, no scripts, fonts, images or external links to
resources), print-friendly, and every string that comes from an input file is escaped with
:func:`html.escape`.
"""
from __future__ import annotations

import csv
import io
from html import escape
from string import Template

from pgx.report.model import ATTENTION, CATEGORY_LABELS

TSV_COLUMNS = ("sample", "drug", "gene", "diplotype", "phenotype", "genotype_phenotype",
               "activity_score", "status", "phenoconverted", "category", "source", "guideline",
               "year", "pmid", "classification", "recommendation")

CSS = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1a1a1a;background:#fff;margin:0;line-height:1.45;font-size:15px}
main{max-width:68rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;
 border-bottom:2px solid #1f3a5f;padding-bottom:.2rem;color:#1f3a5f}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid #8a8a8a;padding:.3rem .45rem;text-align:left;vertical-align:top}
thead th{background:#e8edf3}
tbody th{font-weight:600}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dl.meta dt{font-weight:600}dl.meta dd{margin:0}
.cat{display:inline-block;padding:0 .35rem;border-radius:3px;font-weight:600;
 border:1px solid currentColor;white-space:nowrap}
.cat-avoid{color:#8b0000;background:#fde8e8}.cat-change_dose{color:#6b3a00;background:#fff1dc}
.cat-caution{color:#5c4400;background:#fff8d6}.cat-review{color:#4a1a73;background:#f1e8fb}
.cat-standard{color:#0f4d1c;background:#e6f4e9}.cat-no_result{color:#333;background:#eee}
.note{color:#333;font-size:.88rem}.flag{font-weight:600;color:#6b3a00}
.outside{font-weight:600;color:#1f3a5f}
ul.compact{columns:3;padding-left:1.2rem}
.disclaimer{border:2px solid #8b0000;padding:.6rem .9rem;background:#fff}
@media (max-width:40rem){ul.compact{columns:1}}
@media print{
 body{font-size:10pt}main{max-width:none;padding:0}
 h2{break-after:avoid}tr,li{break-inside:avoid}thead{display:table-header-group}
 .cat{border:1px solid #000}
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


def _e(x) -> str:
    return escape("" if x is None else str(x), quote=True)


def _cat(c: str) -> str:
    return f'<span class="cat cat-{_e(c)}">{_e(CATEGORY_LABELS[c])}</span>'


def _cite(s: dict) -> str:
    out = f"{_e(s['guideline'])} {_e(s['year'] or '')}".strip()
    if s.get("pmid"):
        out += f", PMID {_e(s['pmid'])}"
    return out


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


def _section(ident: str, title: str, inner: str) -> str:
    return (f'<section id="{ident}" aria-labelledby="{ident}-h">\n'
            f'<h2 id="{ident}-h">{title}</h2>\n{inner}\n</section>\n')


def _patient(doc: dict) -> str:
    meds = doc["medications"]
    if meds:
        m = _e(", ".join(meds["given"]))
        if meds["unknown"]:
            m += (" <span class=\"note\">(not in the phenoconversion table, no phenoconversion "
                  f"applied: {_e(', '.join(meds['unknown']))})</span>")
    else:
        m = "none given (no phenoconversion applied)"
    vcf = ", ".join(doc["inputs"]["calls"].get("vcf") or []) or "—"
    rows = [("Sample ID", _e(doc["sample"])), ("Current medications", m),
            ("Report date", _e(doc["created"][:10])),
            ("Genotype data", _e(vcf)),
            ("Quality filter", _e("; ".join(doc["inputs"]["calls"].get("filters") or [])
                                  or "none recorded in the VCF header (genotypes used as given)")),
            ("Calls made", _e(doc["inputs"]["calls"].get("created") or "—"))]
    return '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _summary(doc: dict) -> str:
    by_drug: dict[str, list[dict]] = {}
    for e in doc["drugs"]:
        by_drug.setdefault(e["drug"], []).append(e)
    s = doc["summary"]
    out = []
    n = sum(len(s[c]) for c in ATTENTION)
    if not n:
        out.append("<p>No drug covered by the guidelines needs a change for this patient's "
                   "results.</p>")
    else:
        out.append(f"<p>{n} drug(s) need attention. Each row gives the most severe guideline "
                   f"result first; details are under <a href=\"#drugs\">Recommendations per "
                   f"drug</a>.</p>")
        rows = []
        for c in ATTENTION:
            for drug in s[c]:
                entries = sorted(by_drug[drug], key=lambda e: ATTENTION.index(e["category"])
                                 if e["category"] in ATTENTION else 9)
                rec = "<br>".join(f"<strong>{_e(e['source']['guideline'])}:</strong> "
                                  f"{_e(e['recommendation'])}"
                                  for e in entries if e["category"] in ATTENTION)
                conv = ('<br><span class="flag">phenoconverted by medication</span>'
                        if any(e["phenoconverted"] for e in entries) else "")
                rows.append(
                    f'<tr><th scope="row">{_e(drug)}</th><td>{_cat(c)}</td>'
                    f"<td>{_phenos(entries[0])}</td><td>{rec}</td>"
                    f"<td>{'; '.join(dict.fromkeys(_cite(e['source']) for e in entries))}"
                    f"{conv}"
                    f"</td></tr>")
        out.append('<table><caption>Drugs that need attention</caption><thead><tr>'
                   '<th scope="col">Drug</th><th scope="col">Action</th>'
                   '<th scope="col">Gene result used</th><th scope="col">Recommendation</th>'
                   '<th scope="col">Guideline</th></tr></thead><tbody>'
                   + "".join(rows) + "</tbody></table>")
    if s["no_result"]:
        out.append("<h3>Not assessable</h3><p>A gene these drugs need has no result (see "
                   "<a href=\"#tested\">What was tested</a>): "
                   + _e(", ".join(s["no_result"])) + ".</p>")
    out.append("<h3>Standard prescribing</h3>")
    if s["standard"]:
        out.append("<p>No genotype-based change for: </p><ul class=\"compact\">"
                   + "".join(f"<li>{_e(d)}</li>" for d in s["standard"]) + "</ul>")
    else:
        out.append("<p>None.</p>")
    return "\n".join(out)


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
        status = _e(g["status"].replace("_", " "))
        if g["outside_call"]:
            status = '<span class="outside">outside call</span>'
        if g["status"] in ("partial", "not_called", "not_typed") and g["reason"]:
            status += f'<br><span class="note">{_e(g["reason"])}</span>'
        rows.append(f'<tr><th scope="row">{_e(g["gene"])}</th><td>{_e(g["diplotype"] or "—")}'
                    f'</td><td>{pheno}</td><td>{_e(g["activity_score"] or "—")}</td>'
                    f"<td>{status}</td></tr>")
    return ('<table><caption>Genotype results (outside calls come from another test, not from '
            'the VCF)</caption><thead><tr><th scope="col">Gene</th><th scope="col">Diplotype'
            '</th><th scope="col">Phenotype</th><th scope="col">Activity score</th>'
            '<th scope="col">Status</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>")


def _drugs(doc: dict) -> str:
    rows = []
    for e in sorted(doc["drugs"], key=lambda e: (e["drug"], e["source"]["guideline"])):
        s = e["source"]
        src = (f"{_e(s['guideline'])} {_e(s['year'] or '')}"
               + (f"<br>PMID {_e(s['pmid'])}" if s["pmid"] else "")
               + f'<br><span class="note">{_e(s.get("version", ""))}</span>')
        rows.append(f'<tr><th scope="row">{_e(e["drug"])}</th><td>{_cat(e["category"])}</td>'
                    f"<td>{_phenos(e)}</td><td>{_e(e['recommendation'])}</td>"
                    f"<td>{_e(e['classification'] or '—')}</td><td>{src}</td></tr>")
    return ('<table><caption>Every drug and guideline</caption><thead><tr>'
            '<th scope="col">Drug</th><th scope="col">Action</th><th scope="col">Gene result '
            'used</th><th scope="col">Recommendation</th><th scope="col">Strength</th>'
            '<th scope="col">Source guideline</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>")


def _tested(doc: dict) -> str:
    t = doc["tested"]
    out = ["<h3>Tested from the VCF</h3>"]
    rows = []
    for g in t["genes"]:
        miss = "<br>".join(_e(m) for m in g["missing_positions"]) or "none"
        rows.append(f'<tr><th scope="row">{_e(g["gene"])}</th>'
                    f'<td>{_e(g["alleles_tested"] if g["alleles_tested"] is not None else "—")}'
                    f'</td><td>{_e(g["positions_tested"] if g["positions_tested"] is not None else "—")}'
                    f'</td><td>{miss}</td></tr>')
    out.append('<table><caption>Alleles and positions tested per gene; missing positions were '
               'absent, ./. or failed a filter and were not assumed reference</caption><thead>'
               '<tr><th scope="col">Gene</th><th scope="col">Alleles tested</th>'
               '<th scope="col">Positions tested</th><th scope="col">Missing positions</th>'
               '</tr></thead><tbody>' + "".join(rows) + "</tbody></table>")
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
                   "checked by pgx:</p><ul>"
                   + "".join(f"<li><strong>{_e(o['gene'])}</strong> {_e(o['diplotype'])}: "
                             f"{_e(o['reason'])}"
                             + "".join(f" ({_e(w)})" for w in o.get("warnings") or [])
                             + "</li>" for o in t["outside_calls"]) + "</ul>")
    else:
        out.append("<p>None supplied.</p>")
    out.append(f"<h3>Not detected</h3><p>{_e(t['structural_variants'])}</p>")
    return "\n".join(out)


def _definitions(doc: dict) -> str:
    d, g = doc.get("definitions") or {}, doc.get("guidelines") or {}
    items = [
        ("Action categories", "Avoid: a guideline recommends another drug. Change the dose: a "
         "guideline changes the dose or titration. Use with caution: a guideline asks for "
         "caution or monitoring. Review: tied genotype calls give different recommendations. "
         "Standard: no genotype-based change. A drug takes its most severe category over all "
         "guidelines."),
        ("Phenoconversion", "a current medication that inhibits or induces the enzyme changes "
         "the phenotype used for the recommendation; the genotype phenotype is shown beside it."),
        ("Status", "called: all defined positions present; partial: some positions missing, "
         "result still consistent; not called: a required position is missing; outside call: "
         "supplied by another test; not typed: not in the data."),
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
        _section("patient", "Patient and sample", _patient(doc)),
        _section("summary", "Summary: drugs that need attention", _summary(doc)),
        _section("genotypes", "Genotype results", _genes(doc)),
        _section("drugs", "Recommendations per drug", _drugs(doc)),
        _section("tested", "What was tested and what was not", _tested(doc)),
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
                p["genotype_phenotype"], p["activity_score"], p["status"],
                str(p["phenoconverted"]).lower(), e["category"], s["guideline"], s["id"],
                s["year"] or "", s["pmid"] or "", e["classification"], e["recommendation"])])
    return buf.getvalue()
