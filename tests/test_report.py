"""pgx report: HTML/JSON/TSV per patient, escaping, schema, summary, 'not tested', browser."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO

PGX = [sys.executable, "-m", "pgx"]
DEMO = REPO / "resources" / "demo"
SAMPLES = [f"DEMO00{i}" for i in range(1, 7)]
CHROMIUM = Path("/usr/bin/chromium")


def pgx(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*PGX, *map(str, args)], capture_output=True, text=True, cwd=REPO,
                          env=env)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("report")
    r = pgx("call", "-q", "--outside-calls", DEMO / "DEMO002.outside_calls.tsv",
            "-o", base / "OUT", *sorted(DEMO.glob("DEMO00*.vcf.gz")))
    assert r.returncode == 0, r.stderr
    for s in SAMPLES:
        meds = ["--medications", "paroxetine"] if s == "DEMO002" else []
        r = pgx("recommend", "-q", *meds, "-o", base / "REC", base / "OUT" / f"{s}.calls.json")
        assert r.returncode == 0, r.stderr
        r = pgx("report", "-q", "-o", base / "RPT", base / "OUT" / f"{s}.calls.json",
                base / "REC" / f"{s}.recommendations.json")
        assert r.returncode == 0, r.stderr
    return base


def load(reports: Path, sample: str) -> dict:
    return json.loads((reports / "RPT" / f"{sample}.report.json").read_text())


def html(reports: Path, sample: str) -> str:
    return (reports / "RPT" / f"{sample}.report.html").read_text()


def section(text: str, ident: str) -> str:
    m = re.search(rf'<section id="{ident}".*?</section>', text, re.S)
    assert m, ident
    return m.group(0)


def test_json_validates_and_has_contract_fields(reports):
    schema = json.loads((REPO / "pgx" / "schemas" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for s in SAMPLES:
        doc = load(reports, s)
        jsonschema.validate(doc, schema)
        assert doc["sample"] == s
        assert doc["genes"] and doc["drugs"]
        for g in doc["genes"]:
            assert {"gene", "diplotype", "phenotype", "activity_score", "status"} <= set(g)
        for d in doc["drugs"]:
            assert {"drug", "genes", "phenotypes", "recommendation", "classification",
                    "source", "phenoconverted"} <= set(d)
            assert isinstance(d["phenoconverted"], bool)


def test_tsv_one_row_per_gene_and_drug(reports):
    for s in SAMPLES:
        doc = load(reports, s)
        with open(reports / "RPT" / f"{s}.report.tsv", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        assert len(rows) == sum(len(d["genes"]) for d in doc["drugs"])
        assert {r["sample"] for r in rows} == {s}
    rows = list(csv.DictReader(open(reports / "RPT" / "DEMO002.report.tsv"), delimiter="\t"))
    codeine = [r for r in rows if r["drug"] == "codeine" and r["source"] == "CPIC"]
    assert len(codeine) == 1 and codeine[0]["gene"] == "CYP2D6"
    assert codeine[0]["phenoconverted"] == "true" and codeine[0]["category"] == "avoid"


def test_summary_lists_codeine_after_paroxetine_phenoconversion(reports):
    doc = load(reports, "DEMO002")
    assert "codeine" in doc["summary"]["avoid"]
    cyp2d6 = next(g for g in doc["genes"] if g["gene"] == "CYP2D6")
    assert cyp2d6["outside_call"] and cyp2d6["phenoconverted"]
    assert cyp2d6["converted_phenotype"] == "Poor Metabolizer"
    text = html(reports, "DEMO002")
    key = section(text, "key-results")
    assert "codeine" in key and "phenoconverted" in key
    # the key results come first, then the genotype table, then the drugs
    assert text.index('id="key-results"') < text.index('id="genotypes"') < text.index('id="drugs"')
    genotypes = section(text, "genotypes")
    assert "outside call" in genotypes and "paroxetine" in genotypes
    # DEMO001 has no CYP2D6 result at all: codeine is not assessable, never 'standard'
    doc1 = load(reports, "DEMO001")
    assert "codeine" in doc1["summary"]["incomplete"]
    assert "codeine" not in doc1["summary"]["standard"]


def test_without_paroxetine_codeine_is_not_avoid(reports, tmp_path):
    r = pgx("recommend", "-q", "-o", tmp_path, reports / "OUT" / "DEMO002.calls.json")
    assert r.returncode == 0, r.stderr
    r = pgx("report", "-q", "-o", tmp_path, reports / "OUT" / "DEMO002.calls.json",
            tmp_path / "DEMO002.recommendations.json")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "DEMO002.report.json").read_text())
    cpic = next(d for d in doc["drugs"] if d["drug"] == "codeine"
                and d["source"]["guideline"] == "CPIC")
    assert cpic["category"] != "avoid"  # CPIC: activity score 1.0 = label dosing
    with_paroxetine = next(d for d in load(reports, "DEMO002")["drugs"]
                           if d["drug"] == "codeine" and d["source"]["guideline"] == "CPIC")
    assert with_paroxetine["category"] == "avoid" and with_paroxetine["phenoconverted"]
    assert not any(d["phenoconverted"] for d in doc["drugs"])


def test_not_tested_section(reports):
    text = section(html(reports, "DEMO005"), "tested")
    for pos in ("chr10:94762706", "chr10:94762760", "chr10:94780653", "chr10:94781999",
                "chr8:18400344"):
        assert pos in text
    assert "NAT2" in text and "required position(s) missing" in text
    assert "CYP2D6" in text and "structural variants" in text and "not detected" in text
    doc = load(reports, "DEMO005")
    uncalled = {u["gene"] for u in doc["tested"]["uncalled"]}
    assert "NAT2" in uncalled
    t2 = section(html(reports, "DEMO002"), "tested")
    assert "Outside calls" in t2 and "HLA-B" in t2 and "supplied by an outside call" in t2


def test_sections_in_order_and_accessible(reports):
    text = html(reports, "DEMO003")
    order = ["key-results", "genotypes", "drugs", "tested", "patient", "definitions",
             "disclaimer"]
    idx = [text.index(f'<section id="{s}"') for s in order]
    assert idx == sorted(idx)
    assert '<html lang="en">' in text and "@media print" in text
    assert '<th scope="col">' in text and '<th scope="row">' in text
    levels = [int(h) for h in re.findall(r"<h([1-6])", text)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:]))
    assert "guideline" in section(text, "definitions").lower() and "pgx 0" in text


def _resource_urls(text: str) -> list[str]:
    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for k, v in attrs:
                if k in ("src", "href") and tag in ("link", "script", "img", "iframe",
                                                     "source", "object", "embed"):
                    found.append(v or "")
                if k == "src":
                    found.append(v or "")

    P().feed(text)
    return found


def test_html_is_self_contained(reports):
    for s in SAMPLES:
        text = html(reports, s)
        assert not [u for u in _resource_urls(text) if re.match(r"(?i)\s*(https?:)?//", u)]
        assert "<script" not in text.lower() and "@import" not in text and "url(" not in text


def _fake_docs(reports: Path, sample: str, med: str):
    calls = json.loads((reports / "OUT" / "DEMO002.calls.json").read_text())
    recs = json.loads((reports / "REC" / "DEMO002.recommendations.json").read_text())
    calls["sample"] = recs["sample"] = sample
    recs["medications"]["given"] = [med]
    recs["medications"]["unknown"] = [med]
    recs["drugs"][0]["recommendation"] = "<img src=x onerror=alert(1)>"
    return calls, recs


def test_html_escapes_input_strings(reports, tmp_path):
    evil = "<script>alert(1)</script>"
    calls, recs = _fake_docs(reports, "P&Q<b>", evil)
    (tmp_path / "c.json").write_text(json.dumps(calls))
    (tmp_path / "r.json").write_text(json.dumps(recs))
    r = pgx("report", "-q", "-o", tmp_path / "o", tmp_path / "c.json", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "o" / "P&Q<b>.report.html").read_text()
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "P&amp;Q&lt;b&gt;" in text


@pytest.mark.parametrize("bad", ["../evil", "a/b", "x\x07y", "..", ".hidden"])
def test_bad_sample_ids_rejected_before_paths(reports, tmp_path, bad):
    calls, recs = _fake_docs(reports, bad, "x")
    (tmp_path / "c.json").write_text(json.dumps(calls))
    (tmp_path / "r.json").write_text(json.dumps(recs))
    r = pgx("report", "-q", "-o", tmp_path / "o", tmp_path / "c.json", tmp_path / "r.json")
    assert r.returncode == 3, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() and not (tmp_path / "evil.report.html").exists()


def test_mismatched_samples_exit_3(reports, tmp_path):
    r = pgx("report", "-o", tmp_path, reports / "OUT" / "DEMO001.calls.json",
            reports / "REC" / "DEMO002.recommendations.json")
    assert r.returncode == 3 and "does not match" in r.stderr


def test_pdf_without_chromium_exits_3(reports, tmp_path, env):
    env["PATH"] = str(tmp_path / "nothing")
    r = subprocess.run([sys.executable, "-m", "pgx", "report", "--pdf", "-o", tmp_path / "o",
                        reports / "OUT" / "DEMO002.calls.json",
                        reports / "REC" / "DEMO002.recommendations.json"],
                       capture_output=True, text=True, cwd=REPO, env=env)
    assert r.returncode == 3
    assert len(r.stderr.strip().splitlines()) == 1 and "apt-get install chromium" in r.stderr
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ a real browser
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent")


def _chromium(tmp: Path, *args, timeout=90) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


NET = re.compile(r"(?i)\b(?:https?|wss?)://([^/\s\"':)]+)")
BROWSER_SERVICES = ("google.com", "googleapis.com", "gvt1.com")


@needs_chromium
@pytest.mark.parametrize("sample", SAMPLES)
def test_browser_renders_report(reports, tmp_path, sample):
    page = (reports / "RPT" / f"{sample}.report.html").resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<section id="key-results"' in dom.stdout and "Not tested or incomplete" in dom.stdout
    assert f"<title>Pharmacogenomic report: {sample}</title>" in dom.stdout
    shot = tmp_path / f"{sample}.png"
    r = _chromium(tmp_path, "--hide-scrollbars", "--window-size=1280,1800",
                  f"--screenshot={shot}", page)
    assert r.returncode == 0 and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # verbose log: no URL other than Chromium's own background services (update checks,
    # clock, account probe: not the page) appears, so the page requested nothing remote
    hosts = {m.group(1).lower() for m in NET.finditer(dom.stderr + r.stderr)}
    page_hosts = {h for h in hosts if not h.endswith(BROWSER_SERVICES)}
    assert not page_hosts, page_hosts

@needs_chromium
def test_pdf_output(reports, tmp_path):
    r = pgx("report", "-q", "--pdf", "-o", tmp_path, reports / "OUT" / "DEMO002.calls.json",
            reports / "REC" / "DEMO002.recommendations.json")
    assert r.returncode == 0, r.stderr
    pdf = tmp_path / "DEMO002.report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


_MEASURE = """<script>
const box = document.getElementById("key-results").getBoundingClientRect();
document.title = "MEASURE " + JSON.stringify({top: box.top + window.scrollY,
  bottom: box.bottom + window.scrollY, width: document.documentElement.clientWidth});
</script>"""


@needs_chromium
@pytest.mark.parametrize("sample", SAMPLES)
def test_key_results_in_the_first_900_px(reports, tmp_path, sample):
    """The key-results box ends within the first 900 px of a 1280 px-wide page (a copy of the
    report with a measuring script appended; the report itself has no scripts)."""
    page = tmp_path / "measure.html"
    page.write_text(html(reports, sample).replace("</body>", _MEASURE + "</body>"))
    r = _chromium(tmp_path, "--hide-scrollbars", "--window-size=1280,900", "--dump-dom",
                  page.resolve().as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"<title>MEASURE (\{.*?\})</title>", r.stdout)
    assert m, r.stdout[:500]
    box = json.loads(m.group(1))
    assert box["width"] == 1280 and box["top"] < box["bottom"] <= 900, box


def test_demo005_incomplete_drugs_name_the_poor_metabolizer_possibility(reports):
    doc = load(reports, "DEMO005")
    for drug in ("voriconazole", "citalopram"):
        cpic = next(d for d in doc["drugs"] if d["drug"] == drug
                    and d["source"]["guideline"] == "CPIC")
        assert cpic["state"] == "incomplete" and cpic["category"] == "incomplete", drug
        assert drug in doc["summary"]["incomplete"] or drug in doc["summary"]["avoid"]
        assert "CYP2C19*3" in cpic["may_change"]
        poor = [a for a in cpic["alternatives"]
                if any("Poor Metabolizer" in r for r in a["results"])]
        assert poor and not poor[0]["includes_reported"], drug
        row = re.search(rf'<th scope="row"[^>]*>{drug}.*?</tr>', section(html(reports, "DEMO005"),
                                                                        "drugs"), re.S)
        assert row and "Incomplete" in row.group(0) and "Poor Metabolizer" in row.group(0)
    key = section(html(reports, "DEMO005"), "key-results")
    assert "CYP2C19" in key and "Poor Metabolizer not excluded" in key
    assert "voriconazole" in key and "citalopram" in key
