"""Read drug-prescribing guidelines: our YAML files or PharmCAT's guideline JSON.

* ``load_guidelines()`` / ``load_guidelines("embedded")``: our own guideline files,
  ``resources/guidelines/{cpic,dpwg}/*.yaml`` (format: ``resources/guidelines/README.md``).
  Their recommendation text is our own wording; lookup values, classifications and populations
  are the guidelines' facts.
* ``load_guidelines(DIR)`` where ``DIR`` holds ``*.json`` files with ``guideline`` and
  ``recommendations`` (PharmCAT's PharmGKB guideline annotations): read at run time into the
  same model. Their recommendation text (HTML, tags stripped) stays in memory; it is never
  written into this repository.
* ``load_guidelines(DIR)`` where ``DIR`` holds ``*.yaml`` files: a folder in our format
  (e.g. a lab's edited copy).

Validation is strict: every problem is an :class:`GuidelineError` (an ``InputError``, exit 3)
naming the file and the entry.
"""
from __future__ import annotations

import datetime as _dt
import html
import itertools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from pgx.errors import InputError
from pgx.guidelines.model import (
    ACTIONS,
    ACTIVITY_SCORE_GENES,
    ALLELE_STATUS_GENES,
    CLASSIFICATIONS,
    INDETERMINATE,
    NO_RESULT,
    SOURCES,
    Guideline,
    GuidelineSet,
    Recommendation,
    diplotype_form,
    lookup_key,
)
from pgx.phenotype.scores import format_score
from pgx.resources import resource_path

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SOURCE_NAME = "pgx guidelines"
PHARMCAT_SOURCE_NAME = "PharmCAT guideline JSON"

_TOP_REQUIRED = {"source", "title", "year", "pmid", "url", "version", "authored", "drugs",
                 "genes", "recommendations"}
_TOP_OPTIONAL = {"pharmgkb_id", "population", "populations", "implications", "value_sets",
                 "other_genes", "notes"}
_ENTRY_REQUIRED = {"lookup", "classification", "action", "text"}
_ENTRY_OPTIONAL = {"drugs", "population", "implications", "alternate_drug", "dosing", "note",
                   "diplotypes"}
_IMPLICATION_KEYS = {"values", "text"}

_SCORE = re.compile(r"^[0-9]+\.[0-9]{1,2}$")
_ALLELE_STATUS = re.compile(r"^\*[0-9]{2,3}:[0-9]{2,3} (positive|negative)$")
_STEM = re.compile(r"^[a-z0-9][a-z0-9-]*(_[A-Za-z0-9-]+)+$")


class GuidelineError(InputError, ValueError):
    """A guideline file is malformed or inconsistent (the message names the file and entry)."""


def _fail(where: str, msg: str) -> GuidelineError:
    return GuidelineError(f"{where}: {msg}")


def default_guidelines_dir() -> Path:
    """Our guideline files (``<repo>/resources/guidelines``)."""
    return resource_path("guidelines")


def known_genes() -> frozenset[str]:
    """Genes a guideline may name: the embedded panel's genes (``resources/definitions``),
    the phenotype-only genes (``resources/phenotypes``: CYP2D6) and the HLA genes, which come
    only as outside calls."""
    names = {p.stem for p in resource_path("definitions").glob("*.yaml")}
    names |= {p.stem for p in resource_path("phenotypes").glob("*.yaml")}
    return frozenset(names | ALLELE_STATUS_GENES)


def check_lookup_value(gene: str, value: Any) -> str | None:
    """Why ``value`` cannot be a lookup value of ``gene`` (format only), or None if it can."""
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        return f"{gene}: lookup value must be a non-empty string without outer spaces: {value!r}"
    if value == NO_RESULT:
        return None
    if gene in ACTIVITY_SCORE_GENES:
        if value == INDETERMINATE:
            return None
        if not _SCORE.match(value) or format_score(float(value)) != value:
            return (f"{gene} uses activity scores: write the score as CPIC does "
                    f"(e.g. \"1.5\", \"2.0\", \"0.25\"), or \"Indeterminate\"/\"No Result\"; got {value!r}")
        return None
    if gene in ALLELE_STATUS_GENES:
        if not _ALLELE_STATUS.match(value):
            return (f"{gene} uses allele status: write e.g. \"*57:01 positive\" or "
                    f"\"*57:01 negative\", or \"No Result\"; got {value!r}")
        return None
    if value.lower() == "n/a":
        return f"{gene}: 'n/a' is not a lookup value; use \"Indeterminate\""
    return None


# --------------------------------------------------------------------------------------------
# entry point


def load_guidelines(spec: str | Path | None = None,
                    genes: frozenset[str] | None = None) -> GuidelineSet:
    """``None``/``"embedded"``: our guidelines (``resources/guidelines``); a directory of
    PharmCAT guideline ``*.json``: PharmCAT's (PharmGKB's) annotations; a directory of
    ``*.yaml``: guidelines in our format. ``genes``: the gene symbols allowed (default
    :func:`known_genes`)."""
    genes = known_genes() if genes is None else genes
    if spec is None or str(spec) == "embedded":
        return _load_yaml_dir(default_guidelines_dir(), genes)
    path = Path(spec)
    if not path.is_dir():
        raise GuidelineError(f"{path}: guidelines must be a directory (our YAML guideline "
                             f"folder, or PharmCAT's folder of guideline *.json)")
    if any(path.glob("*.json")):
        return load_pharmcat_guidelines(path, genes)
    if any(path.rglob("*.yaml")):
        return _load_yaml_dir(path, genes)
    raise GuidelineError(f"{path}: no guideline *.yaml or *.json files found")


# --------------------------------------------------------------------------------------------
# our YAML


def _load_yaml_dir(directory: Path, genes: frozenset[str]) -> GuidelineSet:
    files = sorted(p for p in directory.rglob("*.yaml") if p.is_file())
    if not files:
        raise GuidelineError(f"{directory}: no guideline *.yaml files")
    guidelines = [load_guideline_file(f, directory, genes) for f in files]
    seen: dict[tuple, str] = {}
    for g in guidelines:  # one guideline per source, drug and gene set
        for drug in g.drugs:
            k = (g.source, drug, tuple(sorted(g.genes)))
            if k in seen:
                raise _fail(g.path or g.id, f"{g.source} {drug} with {'+'.join(k[2])} is also in "
                                           f"{seen[k]}: one file per guideline")
            seen[k] = g.path or g.id
    version = max((g.authored for g in guidelines if g.authored), default=None)
    return GuidelineSet(source=SOURCE_NAME, version=version.isoformat() if version else "",
                        path=str(directory), guidelines=guidelines)


def _as_date(where: str, value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, f"authored must be a date (YYYY-MM-DD): {value!r}") from None


def _str_list(where: str, key: str, value: Any, lower: bool = False) -> list[str]:
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, list):
        value = _flatten(value)
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v.strip() for v in value)):
        raise _fail(where, f"{key} must be a non-empty list of strings: {value!r}")
    if len(set(value)) != len(value):
        raise _fail(where, f"{key} lists a name twice: {value!r}")
    if lower and any(v != v.lower() for v in value):
        raise _fail(where, f"{key}: drug names are lower case (as CPIC/PharmGKB write them): "
                           f"{value!r}")
    return list(value)


def load_guideline_file(path: Path, root: Path | None = None,
                        genes: frozenset[str] | None = None) -> Guideline:
    """Parse and validate one guideline YAML file."""
    genes = known_genes() if genes is None else genes
    where = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(where, f"cannot read: {e}") from None
    except yaml.YAMLError as e:
        raise _fail(where, f"not valid YAML: {e}".replace("\n", " ")) from None
    if not isinstance(doc, dict):
        raise _fail(where, "a guideline file is a YAML mapping (source:, title:, ...)")
    _check_keys(where, doc, _TOP_REQUIRED, _TOP_OPTIONAL)

    source = doc["source"]
    if source not in SOURCES:
        raise _fail(where, f"source must be one of {list(SOURCES)}: {source!r}")
    rel = path.relative_to(root) if root is not None and path.is_relative_to(root) else Path(path.name)
    if len(rel.parts) > 1 and rel.parts[0].upper() in SOURCES and rel.parts[0] != source.lower():
        raise _fail(where, f"a {source} guideline belongs in {source.lower()}/, not {rel.parts[0]}/")
    gid = rel.with_suffix("").as_posix()

    for key in ("title", "url", "version"):
        if not isinstance(doc[key], (str, int, float)) or not str(doc[key]).strip():
            raise _fail(where, f"{key} must be a non-empty string")
    if not str(doc["url"]).startswith(("https://", "http://")):
        raise _fail(where, f"url must be an http(s) address: {doc['url']!r}")
    year = doc["year"]
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        raise _fail(where, f"year must be a publication year: {year!r}")
    pmids = doc["pmid"] if isinstance(doc["pmid"], list) else [doc["pmid"]]
    if not pmids or not all(isinstance(p, int) and p > 0 for p in pmids):
        raise _fail(where, f"pmid must be a PubMed id (an integer) or a list of them: {doc['pmid']!r}")
    authored = _as_date(where, doc["authored"])

    drugs = _str_list(where, "drugs", doc["drugs"], lower=True)
    ggenes = _str_list(where, "genes", doc["genes"])
    other = _str_list(where, "other_genes", doc["other_genes"]) if doc.get("other_genes") else []
    for g in ggenes + other:
        if g not in genes:
            raise _fail(where, f"unknown gene {g!r} (known: {', '.join(sorted(genes))})")
    if set(ggenes) & set(other):
        raise _fail(where, f"a gene is in both genes and other_genes: {sorted(set(ggenes) & set(other))}")
    if not _STEM.match(path.stem) or not path.stem.endswith("_" + "_".join(ggenes)):
        raise _fail(where, f"file name must be <drug-or-group>_{'_'.join(ggenes)}.yaml "
                           f"(lower-case drug part, then the genes in the order of genes:)")

    populations = doc.get("populations") or {}
    if not isinstance(populations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in populations.items()):
        raise _fail(where, "populations must map a population label to its description")
    default_pop = doc.get("population")
    if default_pop is not None and not isinstance(default_pop, str):
        raise _fail(where, f"population must be a string: {default_pop!r}")
    pharmgkb_ids = doc.get("pharmgkb_id") or []
    pharmgkb_ids = pharmgkb_ids if isinstance(pharmgkb_ids, list) else [pharmgkb_ids]
    for pid in pharmgkb_ids:
        if not re.match(r"^PA[0-9]+$", str(pid)):
            raise _fail(where, f"pharmgkb_id must look like PA166104948 (or be a list of such): {pid!r}")

    table = _parse_implications(where, doc.get("implications"), ggenes)

    entries = doc["recommendations"]
    if not isinstance(entries, list) or not entries:
        raise _fail(where, "recommendations must be a non-empty list")
    recs: list[Recommendation] = []
    first_seen: dict[tuple, str] = {}
    for i, e in enumerate(entries):
        ew = f"{where}: recommendations[{i}]"
        for r in _parse_entry(ew, e, drugs, ggenes, default_pop, table, gid, f"recommendations[{i}]"):
            if populations and r.population not in populations:
                raise GuidelineError(f"{ew}: population {r.population!r} is not described under "
                                     f"populations: ({', '.join(map(repr, populations))})")
            k = r.key
            if k in first_seen:
                look = ", ".join(f"{g}={v!r}" for g, v in k[2])
                raise GuidelineError(f"{ew}: duplicate lookup {r.drug} / population {r.population!r} "
                                     f"/ {look} (already given by {first_seen[k]})")
            first_seen[k] = f"recommendations[{i}]"
            recs.append(r)
    for d in drugs:
        if not any(r.drug == d for r in recs):
            raise _fail(where, f"drug {d!r} has no recommendation")
    _check_genotype_specific(where, recs)

    return Guideline(
        id=gid, source=source, title=str(doc["title"]).strip(), year=year,
        pmids=tuple(pmids), url=str(doc["url"]), drugs=drugs, genes=ggenes,
        version=str(doc["version"]), recommendations=recs, other_genes=other,
        pharmgkb_ids=tuple(map(str, pharmgkb_ids)), authored=authored,
        populations=dict(populations), notes=_notes(where, doc.get("notes")), path=str(path))


def _notes(where: str, raw: Any) -> str:
    """The file's ``notes:``: caveats shown with every recommendation of the guideline."""
    if raw is None:
        return ""
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(where, f"notes must be text (caveats for every recommendation): {raw!r}")
    return " ".join(raw.split())


def _flatten(value: Any) -> list:
    """A lookup value or list of values; nested lists (YAML anchors of value lists) are joined."""
    if not isinstance(value, list):
        return [value]
    out = []
    for v in value:
        out.extend(_flatten(v) if isinstance(v, list) else [v])
    return out


def _parse_implications(where: str, raw: Any, genes: list[str]) -> dict[str, dict[str, str]]:
    """``implications: {GENE: [{values: [...], text: ...}, ...]}`` -> gene -> value -> text."""
    table: dict[str, dict[str, str]] = {}
    if raw is None:
        return table
    if not isinstance(raw, dict):
        raise _fail(where, "implications must map each gene to a list of {values, text}")
    for gene, items in raw.items():
        if gene not in genes:
            raise _fail(where, f"implications: {gene!r} is not one of the guideline's genes {genes}")
        if not isinstance(items, list):
            raise _fail(where, f"implications: {gene}: a list of {{values: [...], text: ...}}")
        table[gene] = {}
        for j, it in enumerate(items):
            iw = f"{where}: implications.{gene}[{j}]"
            if not isinstance(it, dict) or set(it) != _IMPLICATION_KEYS:
                raise GuidelineError(f"{iw}: needs exactly 'values' and 'text'")
            if not isinstance(it["text"], str) or not it["text"].strip():
                raise GuidelineError(f"{iw}: text must be a non-empty string")
            values = _flatten(it["values"])
            for v in values:
                bad = check_lookup_value(gene, v)
                if bad:
                    raise GuidelineError(f"{iw}: {bad}")
                if v in table[gene]:
                    raise GuidelineError(f"{iw}: {gene} {v!r} already has an implication")
                table[gene][v] = " ".join(it["text"].split())
    return table


def _check_keys(where: str, mapping: dict, required: set[str], optional: set[str]) -> None:
    unknown = set(mapping) - required - optional
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)} (allowed: "
                           f"{sorted(required | optional)})")
    missing = required - set(mapping)
    if missing:
        raise _fail(where, f"missing key(s) {sorted(missing)}")


def _parse_entry(where: str, e: Any, drugs: list[str], genes: list[str], default_pop: str | None,
                 table: dict[str, dict[str, str]], gid: str, label: str) -> list[Recommendation]:
    if not isinstance(e, dict):
        raise _fail(where, "an entry is a mapping with lookup, classification, action, text")
    _check_keys(where, e, _ENTRY_REQUIRED, _ENTRY_OPTIONAL)
    cls = e["classification"]
    if cls not in CLASSIFICATIONS:
        raise _fail(where, f"bad classification {cls!r} (one of: {', '.join(CLASSIFICATIONS)})")
    text = e["text"]
    if not isinstance(text, str) or not text.strip():
        raise _fail(where, "text must be a non-empty string (our wording of the advice)")
    text = " ".join(text.split())
    note = e.get("note", "")
    if not isinstance(note, str):
        raise _fail(where, f"note must be a string: {note!r}")
    note = " ".join(note.split())
    edrugs = _str_list(where, "drugs", e["drugs"], lower=True) if "drugs" in e else drugs
    for d in edrugs:
        if d not in drugs:
            raise _fail(where, f"drug {d!r} is not one of the guideline's drugs {drugs}")
    pops = e.get("population", default_pop)
    pops = pops if isinstance(pops, list) else [pops]
    for pop in pops:
        if pop is not None and (not isinstance(pop, str) or not pop.strip()):
            raise _fail(where, f"population must be a non-empty string (or a list): {pop!r}")
    if not pops or len(set(pops)) != len(pops):
        raise _fail(where, f"population list is empty or names a population twice: {pops!r}")
    flags = {}
    for k in ("alternate_drug", "dosing"):
        v = e.get(k, False)
        if not isinstance(v, bool):
            raise _fail(where, f"{k} must be true or false: {v!r}")
        flags[k] = v
    action = e["action"]  # curated from the text; alternate_drug/dosing are PharmGKB's flags
    if action not in ACTIONS:
        raise _fail(where, f"action must be one of {', '.join(ACTIONS)} (what the advice asks "
                           f"for; the wording goes under text:), got {action!r}")
    selectors = _diplotype_selectors(where, e.get("diplotypes"), genes)
    lookup = e["lookup"]
    if not isinstance(lookup, dict) or not lookup:
        raise _fail(where, "lookup must map every gene of the guideline to a value (or a list)")
    for g in lookup:
        if g not in genes:
            raise _fail(where, f"lookup names {g!r}, which is not one of the guideline's genes {genes}")
    if set(lookup) != set(genes):
        raise _fail(where, f"lookup must give a value for every gene {genes}; missing "
                           f"{sorted(set(genes) - set(lookup))} (use \"No Result\" for an untested gene)")
    values: list[list[str]] = []
    for g in genes:
        vs = _flatten(lookup[g])
        if not vs:
            raise _fail(where, f"lookup {g}: empty list")
        for v in vs:
            bad = check_lookup_value(g, v)
            if bad:
                raise _fail(where, bad)
        if len(set(vs)) != len(vs):
            raise _fail(where, f"lookup {g}: a value is listed twice: {vs}")
        values.append(vs)
    override = e.get("implications") or {}
    if not isinstance(override, dict) or not all(
            g in genes and isinstance(t, str) and t.strip() for g, t in override.items()):
        raise _fail(where, f"implications must map guideline genes {genes} to text")
    out = []
    for combo in itertools.product(*values):
        lk = dict(zip(genes, combo))
        imps = {}
        for g, v in lk.items():
            meaning = override.get(g) or table.get(g, {}).get(v)
            if meaning:
                imps[g] = " ".join(meaning.split())
        for d in edrugs:
            for pop in pops:
                out.append(Recommendation(drug=d, lookup=dict(lk), text=text, action=action,
                                          action_curated=True, implications=dict(imps),
                                          classification=cls, population=pop, note=note,
                                          diplotypes=dict(selectors), guideline_id=gid,
                                          entry=label, **flags))
    return out


def _check_genotype_specific(where: str, recs: list[Recommendation]) -> None:
    """Genotype-specific entries (``diplotypes:``) refine a default: for every drug, population
    and lookup that has them there must also be an entry without ``diplotypes:`` (the advice for
    every other genotype with that value), and no diplotype may be claimed by two of them."""
    defaults = {(r.drug, r.population, lookup_key(r.lookup)) for r in recs if not r.diplotypes}
    claimed: dict[tuple, str] = {}
    for r in recs:
        if not r.diplotypes:
            continue
        k = (r.drug, r.population, lookup_key(r.lookup))
        look = ", ".join(f"{g}={v!r}" for g, v in k[2])
        if k not in defaults:
            raise GuidelineError(
                f"{where}: {r.entry}: genotype-specific entry (diplotypes:) for {r.drug} / "
                f"population {r.population!r} / {look} has no default entry: add one without "
                f"diplotypes: for the other genotypes with this value")
        for g, ds in r.diplotypes.items():
            for d in {diplotype_form(x) for x in ds}:
                other = claimed.setdefault(k + (g, d), r.entry)
                if other != r.entry:
                    raise GuidelineError(
                        f"{where}: {r.entry}: {g} {d} is already selected by {other} for "
                        f"{r.drug} / population {r.population!r} / {look}")


def flag_action(alternate_drug: bool, dosing: bool) -> str:
    """The category PharmGKB's flags suggest, for recommendations without a curated action
    (PharmCAT's guideline JSON): the flags are coarse, so such a category is marked as not
    curated wherever it is shown."""
    return "avoid" if alternate_drug else "change_dose" if dosing else "standard"


def _diplotype_selectors(where: str, raw: Any, genes: list[str]) -> dict[str, tuple[str, ...]]:
    """``diplotypes: [*2/*2]`` (single-gene guideline) or ``{GENE: [...]}``."""
    if raw is None:
        return {}
    if isinstance(raw, list):
        if len(genes) != 1:
            raise _fail(where, f"diplotypes: name the gene ({{GENE: [...]}}) in a guideline for "
                               f"{' and '.join(genes)}")
        raw = {genes[0]: raw}
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, "diplotypes must be a list of diplotypes (e.g. ['*2/*2']) or map a "
                           "gene to such a list")
    out = {}
    for g, ds in raw.items():
        if g not in genes:
            raise _fail(where, f"diplotypes: {g!r} is not one of the guideline's genes {genes}")
        if not isinstance(ds, list) or not ds or not all(
                isinstance(d, str) and d.count("/") == 1 and all(p.strip() for p in d.split("/"))
                for d in ds):
            raise _fail(where, f"diplotypes: {g}: a non-empty list of diplotypes such as "
                               f"'*1/*3', got {ds!r}")
        out[g] = tuple(ds)
    return out


# --------------------------------------------------------------------------------------------
# PharmCAT (PharmGKB) guideline JSON


def strip_html(text: str) -> str:
    """Plain text of a PharmGKB HTML snippet: tags dropped, entities decoded, spaces collapsed."""
    text = re.sub(r"<(br|/p|/li|/h[1-6]|/tr)\s*/?>", " ", text, flags=re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def _pharmcat_value(where: str, gene: str, value: Any) -> str:
    """A PharmCAT lookup value as a string; diplotype keys ``{"*1": 1, "*3": 1}`` -> ``*1/*3``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value and all(
            isinstance(n, (int, float)) and n >= 1 and float(n).is_integer() for n in value.values()):
        alleles = [a for a, n in sorted(value.items()) for _ in range(int(n))]
        return "/".join(alleles)
    raise _fail(where, f"{gene}: unreadable lookup value {value!r}")


def load_pharmcat_guidelines(directory: Path, genes: frozenset[str] | None = None) -> GuidelineSet:
    """Every ``*.json`` guideline annotation in ``directory`` (PharmCAT's ``guidelines/``)."""
    genes = known_genes() if genes is None else genes
    files = sorted(directory.glob("*.json"))
    if not files:
        raise GuidelineError(f"{directory}: no guideline *.json files")
    guidelines, versions = [], []
    for f in files:
        g, version = _read_pharmcat_file(f, genes)
        guidelines.append(g)
        if version:
            versions.append(version)
    _curated_actions(guidelines, _load_yaml_dir(default_guidelines_dir(), known_genes()))
    return GuidelineSet(source=PHARMCAT_SOURCE_NAME, version=max(versions, default=""),
                        path=str(directory), guidelines=guidelines)


def _curated_actions(guidelines: list[Guideline], ours: GuidelineSet) -> None:
    """Give PharmGKB's recommendations the curated action of our recommendation for the same
    source, drug, lookup and population (the same guideline cell); the others keep the
    category their flags suggest, marked as not curated."""
    actions: dict[tuple, set[str]] = {}
    for g in ours.guidelines:
        for r in g.recommendations:
            if not r.diplotypes:  # genotype-specific advice is not a whole cell's
                actions.setdefault((g.source, r.drug, r.population, lookup_key(r.lookup)),
                                   set()).add(r.action)
    for g in guidelines:
        for r in g.recommendations:
            found = actions.get((g.source, r.drug, r.population, lookup_key(r.lookup)))
            if found and len(found) == 1:
                r.action, r.action_curated = next(iter(found)), True


def _read_pharmcat_file(path: Path, genes: frozenset[str]) -> tuple[Guideline, str]:
    where = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(where, f"cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise _fail(where, f"not valid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("guideline"), dict) \
            or not isinstance(doc.get("recommendations"), list):
        raise _fail(where, "not a PharmCAT guideline file (needs 'guideline' and 'recommendations')")
    meta = doc["guideline"]
    source = meta.get("source")
    if source not in SOURCES:
        raise _fail(where, f"guideline source must be one of {list(SOURCES)}: {source!r}")
    gid = meta.get("id")
    if not gid:
        raise _fail(where, "guideline has no id")
    drugs = [c["name"].lower() for c in meta.get("relatedChemicals") or []]
    related = [c.get("symbol") for c in meta.get("relatedGenes") or []]
    for g in related:
        if g not in genes:
            raise _fail(where, f"unknown gene {g!r}")
    citations = doc.get("citations") or []
    pmids = []
    for c in citations:
        try:
            pmids.append(int(c["pmid"]))
        except (KeyError, TypeError, ValueError):
            continue
    title = citations[0].get("title", "") if citations else ""
    year = citations[0].get("year") if citations else None
    recs: list[Recommendation] = []
    lookup_genes: list[str] | None = None
    first_seen: dict[tuple, str] = {}
    for i, r in enumerate(doc["recommendations"]):
        ew = f"{where}: recommendations[{i}] ({r.get('id', '?')})"
        raw = r.get("lookupKey")
        if not isinstance(raw, dict) or not raw:
            raise GuidelineError(f"{ew}: no lookupKey")
        lk = {g: _pharmcat_value(ew, g, v) for g, v in raw.items()}
        for g in lk:
            if g not in genes:
                raise GuidelineError(f"{ew}: unknown gene {g!r}")
        if lookup_genes is None:
            lookup_genes = sorted(lk)
        elif sorted(lk) != lookup_genes:
            raise GuidelineError(f"{ew}: lookup genes {sorted(lk)} differ from the file's {lookup_genes}")
        cls = (r.get("classification") or {}).get("term")
        if cls is not None and cls not in CLASSIFICATIONS:
            raise GuidelineError(f"{ew}: bad classification {cls!r}")
        imps = {}
        for line in r.get("implications") or []:
            g, sep, text = str(line).partition(":")
            if sep and g.strip() in lk:
                imps[g.strip()] = text.strip()
        rdrugs = [c["name"].lower() for c in r.get("relatedChemicals") or []] or drugs
        for d in rdrugs:
            if d not in drugs:
                drugs.append(d)
            alternate, dosing = bool(r.get("alternateDrugAvailable")), bool(r.get("dosingInformation"))
            rec = Recommendation(
                drug=d, lookup=lk, text=strip_html((r.get("text") or {}).get("html", "")),
                action=flag_action(alternate, dosing), action_curated=False,
                implications=imps, classification=cls, population=r.get("population"),
                alternate_drug=alternate, dosing=dosing, guideline_id=gid,
                entry=f"recommendations[{i}]")
            if rec.key in first_seen:
                raise GuidelineError(f"{ew}: duplicate lookup {rec.key} (already {first_seen[rec.key]})")
            first_seen[rec.key] = f"recommendations[{i}]"
            recs.append(rec)
    g = Guideline(
        id=gid, source=source, title=title.rstrip("."), year=year if isinstance(year, int) else None,
        pmids=tuple(pmids), url=meta.get("url") or "", drugs=drugs,
        genes=lookup_genes or [g for g in related if g], version=f"PharmGKB annotation v{meta.get('version')}",
        recommendations=recs, pharmgkb_ids=(gid,), path=where)
    return g, str(doc.get("version") or "")
