"""Phenoconversion: the genotype-predicted phenotype converted by the patient's current medications.

A strong CYP2D6 inhibitor makes a genotypic CYP2D6 Normal Metabolizer behave as a Poor
Metabolizer; rifampin raises CYP2C19 activity. :func:`convert` takes one gene's genotype
phenotype (and activity score), the patient's medication list, and returns the **expected clinical
phenotype** with the reasons, warnings and every medication it could not classify.

Data
----
``resources/phenoconversion/interactions.yaml``: strong and moderate inhibitors and inducers of
CYP2D6, CYP2C19, CYP2C9 and CYP3A, each an FDA classification (FDA Table 1, "Examples of drugs
that interact with CYP enzymes", the clinical companion of "Drug Development and Drug
Interactions: Table of Substrates, Inhibitors and Inducers"; version and date in the file).
:func:`load_interactions` reads and validates it; every problem is an
:class:`~pgx.errors.InputError` naming the file and the entry.

Rules (and their sources)
-------------------------
* **CYP2D6, by activity score.** Strong inhibitor: the activity score becomes 0 (Poor
  Metabolizer); moderate inhibitor: the activity score is multiplied by 0.5 and then translated
  to a phenotype. This is the CPIC rule (CPIC guideline for CYP2D6, OPRM1, COMT and opioids,
  Crews et al., Clin Pharmacol Ther 2021;110:888-896: "For patients on strong CYP2D6 inhibitors,
  the CYP2D6 activity score is adjusted to 0 ... For patients who are on moderate CYP2D6
  inhibitors, the activity score is multiplied by 0.5 and then converted to the predicted
  phenotype"), as described for clinical use by Cicali et al., Clin Pharmacol Ther
  2021;110:677-687. Weak inhibitors are not applied (the table has none). The converted score is
  translated with the CYP2D6 activity ranges of ``resources/phenotypes/CYP2D6.yaml`` (read
  through :mod:`pgx.definitions.embedded`, not copied here). Halving can give scores CPIC's table
  never lists (0.125, 1.125, 2.375, ...) that fall between two of its ranges; they are placed as
  the CPIC/DPWG consensus bands do (Caudle et al., Clin Transl Sci 2020;13:116-124: Poor = 0,
  Intermediate 0 < x < 1.25, Normal 1.25-2.25, Ultrarapid > 2.25): a score between two ranges
  takes the neighbour that is neither Poor (which is exactly 0, no activity) nor Normal (a closed
  band). CPIC finds no clinically relevant CYP2D6 induction, so the table may not list a CYP2D6
  inducer.
* **CYP2C19 and CYP2C9, by phenotype steps** on the ordered scales

  =======  ==========================================================================
  CYP2C19  Poor < Intermediate < Normal < Rapid < Ultrarapid Metabolizer
  CYP2C9   Poor < Intermediate < Normal Metabolizer (CPIC defines nothing above Normal)
  =======  ==========================================================================

  ("Likely Poor"/"Likely Intermediate Metabolizer" count as Poor/Intermediate.) A strong
  inhibitor gives Poor Metabolizer whatever the genotype; a moderate inhibitor moves one step
  down; an inducer (strong or moderate) moves one step up, capped at the top of the scale, and
  never lifts a Poor Metabolizer (no functional enzyme to induce). **This is pgx's convention,
  not a CPIC rule**: CPIC's 2023 SSRI guideline (Bousman et al., Clin Pharmacol Ther
  2023;114:51-68) states that "consensus approaches for adjusting CYP2D6, CYP2C19, or CYP2B6
  predicted phenotypes in the presence of inhibitors or inducers have not been established". It
  mirrors the CYP2D6 rule (strong = no activity, moderate = partial loss) and is reported as such.
  After a step conversion the activity score (CYP2C9) is not defined and is returned as None.
* **CYP3A4 and CYP3A5: reported, not converted.** No rule converts a CYP3A phenotype; the
  interactions are listed in ``reasons`` with a warning, the phenotype is kept.
* **The strongest interaction wins** (strong over moderate), applied once: two moderate CYP2D6
  inhibitors halve the score once, with a warning that combined inhibition may be greater.
* **Inhibitor and inducer together** (for the same enzyme): both are reported and the genotype
  phenotype is kept, with a warning. Their net effect depends on the drugs, doses and timing
  (induction builds up and wears off over about two weeks, inhibition within days) and cannot be
  read from FDA's strength classes; pgx does not guess a direction.

Medications
-----------
A list of names, or one string separated by ``;`` or ``,`` (a ``samples.tsv`` ``medications``
cell). Matching is case-insensitive and ignores surrounding space, dots, apostrophes and
hyphens ("St. John's Wort" = "st johns wort"); generic names, INN synonyms (rifampicin) and
brand names in the table match. When the whole name does not match, pgx tries, in order: the
name without a trailing dose and without salt/formulation words ("Wellbutrin XL 300 mg",
"paroxetine hydrochloride"), the text outside and inside parentheses ("Paxil (paroxetine)"), and
the components of a combination written with ``/``, ``+`` or `` and `` ("lopinavir/ritonavir").
A name (or component) the table does not know is returned in ``unknown_medications``, never
dropped: the table lists strong and moderate interactions only, so an unknown drug may still be a
weak inhibitor or inducer.

The medications are taken as current: an inhibitor stopped recently (fluoxetine: weeks) or an
inducer stopped within about two weeks may still act; pgx does not model time.
"""
from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from pgx.errors import InputError
from pgx.phenotype.scores import format_score, score_phenotype
from pgx.resources import resource_path

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_TABLE = resource_path("phenoconversion", "interactions.yaml")
CYP2D6_PHENOTYPES = resource_path("phenotypes", "CYP2D6.yaml")

#: FDA enzyme name -> pgx genes it converts.
ENZYME_GENES: dict[str, tuple[str, ...]] = {
    "CYP2D6": ("CYP2D6",),
    "CYP2C19": ("CYP2C19",),
    "CYP2C9": ("CYP2C9",),
    "CYP3A": ("CYP3A4", "CYP3A5"),
}
SUPPORTED_GENES: tuple[str, ...] = tuple(g for gs in ENZYME_GENES.values() for g in gs)
EFFECTS = ("inhibitor", "inducer")
STRENGTHS = ("strong", "moderate")  # strongest first
_RANK = {s: i for i, s in enumerate(reversed(STRENGTHS))}  # moderate 0, strong 1

#: CYP2D6 activity-score multipliers (CPIC opioid guideline 2021).
CYP2D6_MULTIPLIER = {"strong": 0.0, "moderate": 0.5}

PM, IM, NM = "Poor Metabolizer", "Intermediate Metabolizer", "Normal Metabolizer"
RM, UM = "Rapid Metabolizer", "Ultrarapid Metabolizer"
#: Ordered phenotype scales for the step rule (lowest activity first).
STEP_SCALES: dict[str, tuple[str, ...]] = {
    "CYP2C19": (PM, IM, NM, RM, UM),
    "CYP2C9": (PM, IM, NM),
}
_STEP_ALIASES = {"Likely Poor Metabolizer": PM, "Likely Intermediate Metabolizer": IM}

_TOP_KEYS = {"curated", "sources", "entries"}
_SOURCE_KEYS_REQUIRED = {"citation", "version"}
_SOURCE_KEYS = _SOURCE_KEYS_REQUIRED | {"url"}
_ENTRY_KEYS_REQUIRED = {"drug", "enzyme", "effect", "strength", "source"}
_ENTRY_KEYS = _ENTRY_KEYS_REQUIRED | {"synonyms", "note"}


# ============================================================================ table
@dataclass(frozen=True)
class Interaction:
    """One FDA classification: ``drug`` is a ``strength`` ``effect`` of ``enzyme``."""

    drug: str
    enzyme: str
    effect: str
    strength: str
    source: str
    note: str = ""

    def describe(self) -> str:
        """``strong CYP2D6 inhibitor (FDA)``"""
        return f"{self.strength} {self.enzyme} {self.effect} ({self.source})"


@dataclass(frozen=True)
class InteractionTable:
    path: str
    curated: str
    sources: dict[str, dict[str, str]]
    entries: tuple[Interaction, ...]
    names: dict[str, str]  # normalised name or synonym -> drug

    def interactions(self, drug: str) -> list[Interaction]:
        return [e for e in self.entries if e.drug == drug]

    def lookup(self, name: str) -> str | None:
        """The drug a medication name means (exact name, synonym or brand), else None."""
        return self.names.get(normalise_name(name))


def normalise_name(name: str) -> str:
    """Case-, space- and punctuation-insensitive key: "St. John’s Wort" -> "st johns wort"."""
    s = unicodedata.normalize("NFKC", name).lower()
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    s = s.replace(".", "").replace("'", "").replace("-", " ")
    return " ".join(s.split())


def _fail(path: Path, msg: str) -> InputError:
    return InputError(f"{path}: {msg}")


def _entry_fail(path: Path, i: int, raw: Any, msg: str) -> InputError:
    drug = raw.get("drug") if isinstance(raw, dict) else None
    what = f"entry {i}" + (f" ({drug})" if isinstance(drug, str) and drug else "")
    return InputError(f"{path}: {what}: {msg}")


def _parse(path: Path) -> InteractionTable:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(path, "phenoconversion table not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"cannot read the phenoconversion table ({exc})") from None
    try:
        doc = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise _fail(path, f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(doc, dict):
        raise _fail(path, "must be a mapping with keys curated, sources, entries")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise _fail(path, f"unknown keys {sorted(map(str, unknown))} (allowed: {sorted(_TOP_KEYS)})")
    missing = _TOP_KEYS - set(doc)
    if missing:
        raise _fail(path, f"missing keys {sorted(missing)}")

    curated = doc["curated"]
    if isinstance(curated, _dt.date):
        curated = curated.isoformat()
    elif not (isinstance(curated, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", curated)):
        raise _fail(path, f"curated must be a date (YYYY-MM-DD), got {curated!r}")

    sources = doc["sources"]
    if not isinstance(sources, dict) or not sources:
        raise _fail(path, "sources must be a non-empty mapping: key -> {citation, version, url}")
    parsed_sources: dict[str, dict[str, str]] = {}
    for key, src in sources.items():
        if not isinstance(key, str) or not isinstance(src, dict):
            raise _fail(path, f"source {key!r} must be a mapping with citation and version")
        bad = set(src) - _SOURCE_KEYS
        if bad:
            raise _fail(path, f"source {key!r}: unknown keys {sorted(map(str, bad))}")
        for k in sorted(_SOURCE_KEYS_REQUIRED):
            if not isinstance(src.get(k), str) or not src[k].strip():
                raise _fail(path, f"source {key!r}: {k} must be a non-empty string")
        parsed_sources[key] = {k: str(v) for k, v in src.items()}

    raw_entries = doc["entries"]
    if not isinstance(raw_entries, list) or not raw_entries:
        raise _fail(path, "entries must be a non-empty list")
    entries: list[Interaction] = []
    names: dict[str, str] = {}
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(raw_entries, 1):
        if not isinstance(raw, dict):
            raise _entry_fail(path, i, raw, f"must be a mapping, got {raw!r}")
        bad = set(raw) - _ENTRY_KEYS
        if bad:
            raise _entry_fail(path, i, raw, f"unknown keys {sorted(map(str, bad))} "
                                            f"(allowed: {sorted(_ENTRY_KEYS)})")
        missing = _ENTRY_KEYS_REQUIRED - set(raw)
        if missing:
            raise _entry_fail(path, i, raw, f"missing keys {sorted(missing)}")
        drug = raw["drug"]
        if not isinstance(drug, str) or not drug.strip():
            raise _entry_fail(path, i, raw, f"drug must be a non-empty string, got {drug!r}")
        if drug != " ".join(drug.split()) or drug != drug.lower():
            raise _entry_fail(path, i, raw, "drug must be the generic name in lower case, "
                                            "without surrounding or double spaces")
        enzyme, effect, strength, source = raw["enzyme"], raw["effect"], raw["strength"], raw["source"]
        if enzyme not in ENZYME_GENES:
            raise _entry_fail(path, i, raw, f"enzyme must be one of {', '.join(ENZYME_GENES)}, "
                                            f"got {enzyme!r}")
        if effect not in EFFECTS:
            raise _entry_fail(path, i, raw, f"effect must be one of {', '.join(EFFECTS)}, got {effect!r}")
        if strength not in STRENGTHS:
            raise _entry_fail(path, i, raw, f"strength must be one of {', '.join(STRENGTHS)} "
                                            f"(weak interactions are not listed), got {strength!r}")
        if source not in parsed_sources:
            raise _entry_fail(path, i, raw, f"source {source!r} is not a key of sources "
                                            f"({', '.join(parsed_sources)})")
        if enzyme == "CYP2D6" and effect == "inducer":
            raise _entry_fail(path, i, raw, "no CYP2D6 inducer rule: CPIC finds no clinically "
                                            "relevant induction of CYP2D6")
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise _entry_fail(path, i, raw, f"note must be a string, got {note!r}")
        key = (drug, enzyme)
        if key in seen:
            raise _entry_fail(path, i, raw, f"{drug} is listed for {enzyme} twice "
                                            f"(also entry {seen[key]})")
        seen[key] = i
        synonyms = raw.get("synonyms", [])
        if not isinstance(synonyms, list) or not all(isinstance(s, str) and s.strip() for s in synonyms):
            raise _entry_fail(path, i, raw, "synonyms must be a list of non-empty strings")
        for name in [drug, *synonyms]:
            k = normalise_name(name)
            other = names.get(k)
            if other is not None and other != drug:
                raise _entry_fail(path, i, raw, f"name {name!r} already names {other!r}")
            names[k] = drug
        entries.append(Interaction(drug=drug, enzyme=enzyme, effect=effect, strength=strength,
                                   source=source, note=note.strip()))
    return InteractionTable(path=str(path), curated=curated, sources=parsed_sources,
                            entries=tuple(entries), names=names)


@functools.lru_cache(maxsize=None)
def _default_table() -> InteractionTable:
    return _parse(DEFAULT_TABLE)


def load_interactions(path: str | Path | None = None) -> InteractionTable:
    """The validated interaction table (pgx's own by default; cached)."""
    return _default_table() if path is None else _parse(Path(path))


# ============================================================================ medications
_SPLIT = re.compile(r"[;,]")
_COMBINATION = re.compile(r"\s*(?:/|\+|\band\b)\s*")
_PARENS = re.compile(r"\(([^()]*)\)")
_DOSE = re.compile(r"\s+\d.*$")  # from the first word starting with a digit: "300 mg daily"
# salt and formulation words removed from the end of a name that did not match as a whole
_SUFFIX_WORDS = {
    "hydrochloride", "hcl", "dihydrochloride", "hydrobromide", "hbr", "sodium", "potassium",
    "magnesium", "calcium", "sulfate", "sulphate", "gluconate", "maleate", "mesylate", "besylate",
    "citrate", "tartrate", "succinate", "ethylsuccinate", "stearate", "fumarate", "acetate",
    "phosphate", "lactobionate", "estolate", "monohydrate",
    "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap", "caps", "oral", "solution",
    "suspension", "injection", "iv", "po",
    "xl", "xr", "sr", "er", "cr", "cd", "la", "dr", "ir", "odt", "lo", "sprinkle",
    "extended", "delayed", "sustained", "controlled", "immediate", "release",
}


def parse_medications(medications: str | Iterable[str] | None) -> list[str]:
    """Medication names from a list or a ``;``/``,``-separated string; trimmed, empty and
    repeated names (case-insensitive) dropped, order kept. ``None`` and NaN (an empty
    ``samples.tsv`` cell read by pandas) mean no medications."""
    if medications is None or (isinstance(medications, float) and math.isnan(medications)):
        return []
    if isinstance(medications, str):
        items: list[str] = _SPLIT.split(medications)
    elif isinstance(medications, Iterable):
        items = []
        for m in medications:
            if not isinstance(m, str):
                raise TypeError(f"medication names must be strings, got {m!r}")
            items.extend(_SPLIT.split(m))
    else:
        raise TypeError(f"medications must be a string or a list of strings, got {medications!r}")
    out, seen = [], set()
    for m in items:
        m = " ".join(m.split())
        k = normalise_name(m)
        if k and k not in seen:
            seen.add(k)
            out.append(m)
    return out


def _strip_name(name: str) -> str:
    words = _DOSE.sub("", name).split()
    while len(words) > 1 and normalise_name(words[-1]) in _SUFFIX_WORDS:
        words.pop()
    return " ".join(words)


def _lookup(lookup: Callable[[str], str | None], name: str) -> str | None:
    for candidate in (name, _strip_name(name)):
        drug = lookup(candidate)
        if drug is not None:
            return drug
    return None


def match_names(name: str, lookup: Callable[[str], str | None]) -> tuple[list[str], list[str]]:
    """``(drugs, unknown)`` for one medication name: the drugs ``lookup`` (a name -> drug
    function) finds in it and the parts it does not know, trying the whole name, then without
    dose and salt words, then outside/inside parentheses, then a combination's components (the
    order of the module docstring)."""
    drug = _lookup(lookup, name)
    if drug is not None:
        return [drug], []
    inside = [p.strip() for p in _PARENS.findall(name) if p.strip()]
    outside = " ".join(_PARENS.sub(" ", name).split())
    if inside:
        for part in (outside, *inside):
            drug = _lookup(lookup, part)
            if drug is not None:
                return [drug], []
    base = outside or name
    parts = [p for p in _COMBINATION.split(base) if p.strip()]
    if len(parts) > 1:
        drugs, unknown = [], []
        for p in parts:
            d = _lookup(lookup, p)
            if d is None:
                unknown.append(p.strip())
            elif d not in drugs:
                drugs.append(d)
        if drugs:
            return drugs, unknown
    return [], [name]


def match_medication(table: InteractionTable, name: str) -> tuple[list[str], list[str]]:
    """``(drugs, unknown)`` for one medication name: the interaction table's drugs it contains
    (names, synonyms, brands) and the parts of it the table does not know."""
    return match_names(name, table.lookup)


# ============================================================================ conversion
@dataclass
class Conversion:
    """Expected clinical phenotype of one gene under the patient's medications.

    ``phenotype``/``activity_score`` are the converted values (the genotype ones when nothing
    converts them); ``converted`` says whether either changed. ``reasons`` has one line per
    interacting medication of this gene, the applied one first; ``warnings`` what the clinician
    must weigh; ``unknown_medications`` the names (or combination parts) not in the table.
    """

    gene: str
    genotype_phenotype: str
    genotype_activity_score: float | None
    phenotype: str
    activity_score: float | None
    converted: bool = False
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_medications: list[str] = field(default_factory=list)
    interactions: list[tuple[str, Interaction]] = field(default_factory=list)  # (as given, entry)


def fmt_score(x: float | None) -> str:
    """A score for a message: :func:`pgx.phenotype.scores.format_score`, ``n/a`` for none."""
    return format_score(x) or "n/a"


def _parse_scores(score: float | int | str | None) -> list[float] | None:
    """Activity score(s) as given: a number, a calls.tsv string ("1.0", "1.0 OR 1.5"), or none."""
    if score is None or isinstance(score, bool):
        return None
    if isinstance(score, (int, float)):
        return None if math.isnan(score) else [float(score)]
    if isinstance(score, str):
        parts = [p.strip() for p in score.split(" OR ")]
        if not score.strip() or any(p.lower() in ("", "n/a", "na", "nan") for p in parts):
            return None
        try:
            return [float(p) for p in parts]
        except ValueError:
            raise InputError(f"activity score {score!r} is not a number") from None
    raise TypeError(f"activity score must be a number or a string, got {score!r}")


@functools.lru_cache(maxsize=None)
def _cyp2d6_ranges() -> tuple[tuple[float, float, str], ...]:
    from pgx.definitions.embedded import load_phenotype_only

    return tuple(load_phenotype_only(CYP2D6_PHENOTYPES).phenotypes.activity_ranges)


def cyp2d6_phenotype(score: float, ranges: Iterable[tuple[float, float, str]] | None = None) -> str:
    """CYP2D6 phenotype of an activity score, including scores between CPIC's ranges (0.125,
    1.125, 2.375 after halving): such a score takes the neighbouring range that is neither
    Poor (exactly 0) nor Normal (closed band), as in the consensus bands of Caudle et al. 2020."""
    rs = sorted(ranges if ranges is not None else _cyp2d6_ranges())
    label = score_phenotype(rs, score)
    if label is not None:
        return label
    lower = max((r for r in rs if r[1] < score), default=None, key=lambda r: r[1])
    upper = min((r for r in rs if r[0] > score), default=None, key=lambda r: r[0])
    options = [r[2] for r in (lower, upper) if r is not None and r[2] not in (PM, NM)]
    return options[0] if len(options) == 1 else "Indeterminate"


def _label(given: str, ix: Interaction) -> str:
    return given if normalise_name(given) == normalise_name(ix.drug) else f"{given} ({ix.drug})"


def _line(given: str, ix: Interaction, outcome: str = "") -> str:
    note = f" [{ix.note}]" if ix.note else ""
    return f"{_label(given, ix)}: {ix.describe()}{note}" + (f" → {outcome}" if outcome else "")


def convert(gene: str, phenotype: str | None, activity_score: float | str | None,
            medications: str | Iterable[str] | None,
            table: InteractionTable | None = None) -> Conversion:
    """Convert one gene's genotype phenotype by the patient's current medications (rules in the
    module docstring). Pure: the inputs are not changed; the default table is pgx's own."""
    table = table if table is not None else load_interactions()
    phenotype = phenotype or ""
    scores = _parse_scores(activity_score)
    single = scores[0] if scores and len(scores) == 1 else None
    result = Conversion(gene=gene, genotype_phenotype=phenotype, genotype_activity_score=single,
                        phenotype=phenotype, activity_score=single)

    enzymes = [e for e, genes in ENZYME_GENES.items() if gene in genes]
    for med in parse_medications(medications):
        drugs, unknown = match_medication(table, med)
        result.unknown_medications.extend(unknown)
        for drug in drugs:
            for ix in table.interactions(drug):
                if ix.enzyme in enzymes:
                    result.interactions.append((med, ix))
    hits = result.interactions
    if not hits:
        return result

    inhibitors = [h for h in hits if h[1].effect == "inhibitor"]
    inducers = [h for h in hits if h[1].effect == "inducer"]
    if gene not in STEP_SCALES and gene != "CYP2D6":  # CYP3A4, CYP3A5
        result.reasons = [_line(g, ix) for g, ix in hits]
        result.warnings.append(
            f"no validated rule converts a {gene} phenotype: the {hits[0][1].enzyme} "
            f"interactions are reported only; they change CYP3A activity whatever the genotype")
        return result
    if inhibitors and inducers:
        result.reasons = [_line(g, ix) for g, ix in hits]
        result.warnings.append(
            f"{gene} inhibitor ({', '.join(_label(g, ix) for g, ix in inhibitors)}) and inducer "
            f"({', '.join(_label(g, ix) for g, ix in inducers)}) taken together: their net effect "
            f"depends on the drugs, doses and timing and is not predicted; the genotype phenotype "
            f"is kept — assess clinically (e.g. therapeutic drug monitoring)")
        return result

    # the strongest interaction wins (stable: the first listed medication among equals)
    applied = max(hits, key=lambda h: _RANK[h[1].strength])
    others = [h for h in hits if h is not applied]
    if others and not (applied[1].effect == "inhibitor" and applied[1].strength == "strong"):
        result.warnings.append(
            f"several {gene} {applied[1].effect}s: only the strongest ({_label(*applied)}) is "
            f"applied; their combined effect may be greater")
    if gene == "CYP2D6":
        outcome = _convert_cyp2d6(result, applied[1], scores)
    else:
        outcome = _convert_steps(result, applied[1])
    result.reasons.append(_line(*applied, outcome=outcome))
    for g, ix in others:
        result.reasons.append(_line(g, ix) + "; not applied (the strongest interaction is applied once)")
    result.converted = (result.phenotype != result.genotype_phenotype
                        or result.activity_score != result.genotype_activity_score)
    return result


def _convert_cyp2d6(result: Conversion, ix: Interaction, scores: list[float] | None) -> str:
    factor = CYP2D6_MULTIPLIER[ix.strength]
    if factor == 0.0:  # a strong inhibitor leaves no activity whatever the genotype
        new = 0.0
        shown = (f"activity score {fmt_score(scores[0])} × 0 = 0.0" if scores and len(scores) == 1
                 else "activity score 0.0")
    elif scores is None or len(scores) != 1:
        why = "no activity score" if scores is None else "several tied activity scores"
        result.warnings.append(
            f"CYP2D6 {why} ({result.genotype_phenotype or 'no phenotype'}): the moderate-inhibitor "
            f"rule needs one activity score; the phenotype is not converted")
        return "not converted (activity score needed)"
    else:
        new = round(scores[0] * factor, 3)
        shown = f"activity score {fmt_score(scores[0])} × {factor:g} = {fmt_score(new)}"
    result.activity_score = new
    result.phenotype = cyp2d6_phenotype(new)
    return f"{shown}, {result.phenotype}"


def _convert_steps(result: Conversion, ix: Interaction) -> str:
    scale = STEP_SCALES[result.gene]
    current = _STEP_ALIASES.get(result.genotype_phenotype, result.genotype_phenotype)
    rank = scale.index(current) if current in scale else None
    if ix.effect == "inhibitor" and ix.strength == "strong":
        new = scale[0]
    elif rank is None:
        result.warnings.append(
            f"{result.gene} phenotype {result.genotype_phenotype or '(none)'!r} is not on the "
            f"step scale ({' < '.join(scale)}); the {ix.strength} {ix.effect} is not applied")
        return "not converted (phenotype not on the step scale)"
    elif ix.effect == "inhibitor":
        new = scale[max(rank - 1, 0)]
    elif rank == 0:
        return f"{scale[0]} unchanged (no functional enzyme to induce)"
    elif rank == len(scale) - 1:
        return f"{scale[-1]} unchanged ({result.gene} has no phenotype above {scale[-1]})"
    else:
        new = scale[rank + 1]
    result.phenotype = new
    if new != result.genotype_phenotype and result.genotype_activity_score is not None:
        result.activity_score = None
        result.warnings.append(
            f"{result.gene} activity score {fmt_score(result.genotype_activity_score)} is the "
            f"genotype's; no activity score is defined after phenoconversion")
    return new
