"""Reader for pgx's embedded default panel: ``resources/definitions/<GENE>.yaml``.

The YAML files are authored by hand from public CPIC/PharmVar allele definition and function
tables (see ``resources/README.md`` for the format and the selection policy). This module turns
them into the in-memory model of :mod:`pgx.definitions.model` and validates them strictly: every
problem is reported as a :class:`DefinitionError` naming the file and, where relevant, the allele.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import re
from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


def _yaml_load(text):
    return yaml.load(text, Loader=_LOADER)

from pgx.definitions.model import (
    DefinitionSet,
    GeneDefinition,
    NamedAllele,
    PhenotypeRules,
    Variant,
)
from pgx.definitions.policy import gene_policy
from pgx.errors import InputError
from pgx.resources import resource_path

SOURCE_NAME = "pgx embedded panel"
PHENOTYPE_METHODS = ("function_pair", "activity_score", "haplotype")

_TOP_KEYS_REQUIRED = {
    "gene",
    "chromosome",
    "genome_build",
    "source",
    "source_version",
    "curated",
    "phenotype_method",
    "variants",
    "alleles",
}
_TOP_KEYS_OPTIONAL = {
    "lowest_function",
    "undocumented_as_reference",
    "required_positions",
    "ignored_alleles",
    "tie_priorities",
    "extra_positions",
    "phenotypes",
    "activity_phenotypes",
}
_VARIANT_KEYS = {"id", "position", "ref", "alt", "label"}
_ALLELE_KEYS = {"name", "reference", "function", "activity", "definition"}
IUPAC_CODES = {"R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
               "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG"}
_VCF_ALLELE = re.compile(r"^[ACGTN]+$")
_RSID = re.compile(r"^rs[0-9]+$")
_POS_ID = re.compile(r"^(chr[0-9A-Za-z]+):([0-9]+)$")


class DefinitionError(InputError, ValueError):
    """A definition file is malformed or inconsistent (the message names the file and allele)."""


def default_definitions_dir() -> Path:
    """Directory holding the embedded ``<GENE>.yaml`` files (``<repo>/resources/definitions``).

    Every lookup of the embedded panel's location goes through this function, so an installed
    copy (package data) only needs to change it here.
    """
    return resource_path("definitions")


def load_embedded(directory: str | Path | None = None) -> DefinitionSet:
    """Load and validate every ``*.yaml`` gene file in ``directory`` (default: the embedded panel)."""
    d = Path(directory) if directory is not None else default_definitions_dir()
    if not d.is_dir():
        raise DefinitionError(f"{d}: definitions directory not found")
    files = sorted(d.glob("*.yaml"))
    if not files:
        raise DefinitionError(f"{d}: no *.yaml definition files")
    genes: dict[str, GeneDefinition] = {}
    curated: list[str] = []
    for f in files:
        gd, cur = load_gene_file(f)
        if gd.gene in genes:
            raise DefinitionError(f"{f}: gene {gd.gene} defined twice")
        genes[gd.gene] = gd
        curated.append(cur)
    if directory is None:  # the embedded panel also carries phenotype-only genes
        for f in sorted(resource_path("phenotypes").glob("*.yaml")):
            gd = load_phenotype_only(f)
            genes.setdefault(gd.gene, gd)
    return DefinitionSet(source=SOURCE_NAME, version=max(curated), path=str(d), genes=genes)


def load_phenotype_only(path: str | Path) -> GeneDefinition:
    """A gene known only by allele functions (``resources/phenotypes``): it is never called from
    a VCF; its phenotypes serve outside calls (e.g. CYP2D6 from a CNV-aware caller)."""
    path = Path(path)
    where = str(path)
    doc = _yaml_load(path.read_text()) or {}
    try:
        gene, method = doc["gene"], doc["phenotype_method"]
        alleles = [NamedAllele(name=str(a["name"]), alleles=[], function=a.get("function"),
                               activity=_parse_activity(where, a.get("activity")))
                   for a in doc["alleles"]]
    except (KeyError, TypeError) as exc:
        raise _fail(where, f"phenotype-only gene file needs gene, phenotype_method, alleles ({exc})")
    policy = gene_policy(gene)
    policy["vcf_callable"] = False
    return GeneDefinition(
        gene=gene, chrom="", build="GRCh38", variants=[], alleles=alleles,
        source=f"{doc.get('source', 'pgx')} (phenotypes only: outside calls)",
        version=str(doc.get("source_version", doc.get("curated", ""))),
        phenotypes=_parse_phenotypes(where, doc, method, alleles), **policy)


# --------------------------------------------------------------------------------------------
def _fail(where: str, msg: str) -> DefinitionError:
    return DefinitionError(f"{where}: {msg}")


def _as_bool(where: str, key: str, v: Any, default: bool) -> bool:
    if v is None:
        return default
    if not isinstance(v, bool):
        raise _fail(where, f"{key} must be true or false, got {v!r}")
    return v


def _parse_variant(where: str, raw: Any, chrom: str, kind: str = "variant") -> Variant:
    if not isinstance(raw, dict):
        raise _fail(where, f"{kind} entry must be a mapping, got {raw!r}")
    unknown = set(raw) - _VARIANT_KEYS
    if unknown:
        raise _fail(where, f"{kind} {raw.get('id')!r}: unknown keys {sorted(unknown)}")
    vid = raw.get("id")
    if not isinstance(vid, str) or not vid:
        raise _fail(where, f"{kind} without an id: {raw!r}")
    w = f"{where}: {kind} {vid!r}"
    pos = raw.get("position")
    if not isinstance(pos, int) or isinstance(pos, bool) or pos < 1:
        raise DefinitionError(f"{w}: position must be a positive integer (1-based VCF POS), got {pos!r}")
    ref = raw.get("ref")
    if not isinstance(ref, str) or not _VCF_ALLELE.match(ref):
        raise DefinitionError(f"{w}: ref must be a VCF allele string (ACGTN), got {ref!r}")
    alts = raw.get("alt")
    if isinstance(alts, str):
        alts = [alts]
    if not isinstance(alts, list) or not alts:
        raise DefinitionError(f"{w}: alt must be a non-empty list of VCF allele strings")
    for a in alts:
        if not isinstance(a, str) or not _VCF_ALLELE.match(a):
            raise DefinitionError(f"{w}: ALT {a!r} is not a VCF allele string (ACGTN)")
        if a == ref:
            raise DefinitionError(f"{w}: ALT {a!r} equals REF")
    if len(set(alts)) != len(alts):
        raise DefinitionError(f"{w}: duplicate ALT alleles {alts}")
    m = _POS_ID.match(vid)
    if m:
        if m.group(1) != chrom or int(m.group(2)) != pos:
            raise DefinitionError(f"{w}: id does not match {chrom}:{pos}")
        rsid = None
    elif _RSID.match(vid):
        rsid = vid
    else:
        raise DefinitionError(f"{w}: id must be an rsID (rs123) or '<chrom>:<pos>'")
    label = raw.get("label")
    if label is not None and not isinstance(label, str):
        raise DefinitionError(f"{w}: label must be a string")
    return Variant(chrom=chrom, position=pos, ref=ref, alts=tuple(alts), rsid=rsid, label=label)


def _allowed_base(base: str, v: Variant) -> bool:
    """REF, an ALT, or (SNVs only) a CPIC IUPAC code standing for two or more of REF/ALTs.

    CPIC tables use IUPAC codes where an allele's sub-alleles differ at a position (CYP2C19*2
    "R" at c.449G>A). The code is kept, as in CPIC's table, because it counts towards the
    allele's specificity score; the matcher expands it (``pgx.calling.encode.expand_allele``).
    """
    if base == v.ref or base in v.alts:
        return True
    bases = IUPAC_CODES.get(base)
    if bases is None or len(v.ref) != 1:
        return False
    known = {v.ref, *v.alts}
    return set(bases) <= known


def _parse_activity(w: str, v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DefinitionError(f"{w}: activity must be a number or null, got {v!r}")
    return float(v)


def load_gene_file(path: str | Path) -> tuple[GeneDefinition, str]:
    """Parse and validate one gene file; returns the gene and its curation date (ISO string)."""
    path = Path(path)
    where = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = _yaml_load(fh)
    except yaml.YAMLError as e:
        raise _fail(where, f"invalid YAML: {e}") from e
    if not isinstance(doc, dict):
        raise _fail(where, "top level must be a mapping")
    missing = _TOP_KEYS_REQUIRED - set(doc)
    if missing:
        raise _fail(where, f"missing keys {sorted(missing)}")
    unknown = set(doc) - _TOP_KEYS_REQUIRED - _TOP_KEYS_OPTIONAL
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")

    gene = doc["gene"]
    if not isinstance(gene, str) or gene != path.stem:
        raise _fail(where, f"gene {gene!r} does not match the file name {path.stem!r}")
    chrom = doc["chromosome"]
    if not isinstance(chrom, str) or not chrom.startswith("chr"):
        raise _fail(where, f"chromosome must be chr-prefixed (chr10, chrX, chrM), got {chrom!r}")
    build = doc["genome_build"]
    if build != "GRCh38":
        raise _fail(where, f"genome_build must be GRCh38, got {build!r}")
    for k in ("source", "source_version"):
        if not isinstance(doc[k], str) or not doc[k].strip():
            raise _fail(where, f"{k} must be a non-empty string")
    cur = doc["curated"]
    if isinstance(cur, _dt.datetime):
        cur = cur.date()
    if isinstance(cur, _dt.date):
        curated = cur.isoformat()
    elif isinstance(cur, str):
        try:
            curated = _dt.date.fromisoformat(cur).isoformat()
        except ValueError as e:
            raise _fail(where, f"curated must be a date (YYYY-MM-DD), got {cur!r}") from e
    else:
        raise _fail(where, f"curated must be a date (YYYY-MM-DD), got {cur!r}")
    method = doc["phenotype_method"]
    if method not in PHENOTYPE_METHODS:
        raise _fail(where, f"phenotype_method must be one of {PHENOTYPE_METHODS}, got {method!r}")

    # ---- variants ----
    raw_vars = doc["variants"]
    if not isinstance(raw_vars, list) or not raw_vars:
        raise _fail(where, "variants must be a non-empty list")
    variants: list[Variant] = []
    ids: dict[str, int] = {}
    for i, rv in enumerate(raw_vars):
        v = _parse_variant(where, rv, chrom)
        vid = rv["id"]
        if vid in ids:
            raise _fail(where, f"duplicate variant id {vid!r}")
        if variants:
            prev = variants[-1]
            if v.position == prev.position:
                raise _fail(where, f"variant {vid!r}: duplicated position {v.position} "
                                   f"(merge the ALTs into one entry)")
            if v.position < prev.position:
                raise _fail(where, f"variant {vid!r}: positions unsorted ({v.position} after "
                                   f"{prev.position}); list variants in position order")
        ids[vid] = i
        variants.append(v)
    n = len(variants)

    # ---- alleles ----
    raw_alleles = doc["alleles"]
    if not isinstance(raw_alleles, list) or not raw_alleles:
        raise _fail(where, "alleles must be a non-empty list")
    alleles: list[NamedAllele] = []
    names: set[str] = set()
    patterns: dict[tuple, str] = {}
    for ra in raw_alleles:
        if not isinstance(ra, dict):
            raise _fail(where, f"allele entry must be a mapping, got {ra!r}")
        name = ra.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(where, f"allele without a name: {ra!r}")
        w = f"{where}: allele {name!r}"
        unknown = set(ra) - _ALLELE_KEYS
        if unknown:
            raise DefinitionError(f"{w}: unknown keys {sorted(unknown)}")
        if name in names:
            raise DefinitionError(f"{w}: duplicate allele name")
        names.add(name)
        is_ref = _as_bool(w, "reference", ra.get("reference"), False)
        func = ra.get("function")
        if func is not None and (not isinstance(func, str) or not func.strip()):
            raise DefinitionError(f"{w}: function must be a non-empty string or null")
        activity = _parse_activity(w, ra.get("activity"))
        definition = ra.get("definition")
        if is_ref:
            if definition:
                raise DefinitionError(f"{w}: the reference allele's definition is implied "
                                      f"(REF at every position); remove 'definition'")
            pattern = [v.ref for v in variants]
        else:
            if not isinstance(definition, dict) or not definition:
                raise DefinitionError(f"{w}: non-reference allele needs a non-empty definition")
            pattern = [None] * n
            for vid, base in definition.items():
                if vid not in ids:
                    raise DefinitionError(f"{w}: unknown variant id {vid!r} in definition")
                v = variants[ids[vid]]
                if not isinstance(base, str) or not _allowed_base(base, v):
                    raise DefinitionError(
                        f"{w}: allele {base!r} at {vid} is neither REF {v.ref!r} nor an ALT "
                        f"{list(v.alts)} of that variant (nor an IUPAC code over them)")
                pattern[ids[vid]] = base
        key = tuple(pattern)
        if key in patterns:
            raise DefinitionError(f"{w}: identical definition to allele {patterns[key]!r}")
        patterns[key] = name
        alleles.append(NamedAllele(name=name, alleles=list(pattern), reference=is_ref,
                                   function=func, activity=activity))
    refs = [a.name for a in alleles if a.reference]
    if len(refs) != 1:
        raise _fail(where, f"exactly one allele must have reference: true, found {len(refs)} {refs}")

    # ---- phenotype rules ----
    rules = _parse_phenotypes(where, doc, method, alleles)

    # ---- calling policy ----
    positions = {v.position for v in variants}

    def _pos_list(key: str) -> tuple[int, ...]:
        vals = doc.get(key) or []
        if not isinstance(vals, list):
            raise _fail(where, f"{key} must be a list of positions")
        for p in vals:
            if not isinstance(p, int) or p not in positions:
                raise _fail(where, f"{key}: {p!r} is not the position of a panel variant")
        return tuple(vals)

    required = _pos_list("required_positions")
    ignored_alleles = doc.get("ignored_alleles") or []
    if not isinstance(ignored_alleles, list):
        raise _fail(where, "ignored_alleles must be a list of allele names")
    for a in ignored_alleles:
        if a not in names:
            raise _fail(where, f"ignored_alleles: unknown allele {a!r}")

    ties: dict[frozenset[str], str] = {}
    for t in doc.get("tie_priorities") or []:
        if not isinstance(t, dict) or set(t) != {"tied", "pick"}:
            raise _fail(where, f"tie_priorities entries need exactly 'tied' and 'pick': {t!r}")
        tied, pick = t["tied"], t["pick"]
        if not isinstance(tied, list) or len(tied) < 2:
            raise _fail(where, f"tie_priorities: 'tied' must list at least two diplotypes: {t!r}")
        for dip in tied:
            parts = dip.split("/") if isinstance(dip, str) else []
            if len(parts) != 2 or any(p not in names for p in parts):
                raise _fail(where, f"tie_priorities: {dip!r} is not a diplotype of panel alleles")
        if pick not in tied:
            raise _fail(where, f"tie_priorities: pick {pick!r} is not one of {tied}")
        key = frozenset(tied)
        if key in ties:
            raise _fail(where, f"tie_priorities: duplicate entry for {sorted(key)}")
        ties[key] = pick

    extra: list[Variant] = []
    for rv in doc.get("extra_positions") or []:
        ev = _parse_variant(where, rv, chrom, kind="extra position")
        if ev.position in positions:
            raise _fail(where, f"extra position {rv.get('id')!r} is also a matched variant")
        extra.append(ev)

    # calling policy: resources/gene_policies.yaml (shared with --definitions DIR); the two flags
    # may also be set in the gene file, which then wins (a lab's own YAML can override them)
    policy = gene_policy(gene)
    split = policy.get("split_haplotype")
    if split is not None:
        by_name = {a.name: a for a in alleles}
        if (split.allele not in by_name or split.marker_allele not in by_name
                or split.marker_position not in positions or split.tag_position not in positions):
            split = None  # the panel lacks the split haplotype's alleles: nothing to split
    gd = GeneDefinition(
        gene=gene,
        chrom=chrom,
        build=build,
        variants=variants,
        alleles=alleles,
        source=SOURCE_NAME,
        version=curated,
        phenotypes=rules,
        required_positions=required,
        ignored_alleles=tuple(ignored_alleles),
        tie_priorities=ties,
        vcf_callable=policy["vcf_callable"],
        lowest_function=_as_bool(where, "lowest_function", doc.get("lowest_function"),
                                 policy["lowest_function"]),
        undocumented_as_reference=_as_bool(where, "undocumented_as_reference",
                                           doc.get("undocumented_as_reference"),
                                           policy["undocumented_as_reference"]),
        split_haplotype=split,
        extra_positions=extra,
    )
    return gd, curated


def _parse_phenotypes(where: str, doc: dict, method: str, alleles: list[NamedAllele]) -> PhenotypeRules:
    pairs: dict[tuple[str, ...], str] = {}
    for e in doc.get("phenotypes") or []:
        if not isinstance(e, dict) or set(e) != {"functions", "phenotype"}:
            raise _fail(where, f"phenotypes entries need exactly 'functions' and 'phenotype': {e!r}")
        fs, ph = e["functions"], e["phenotype"]
        allowed = (1, 2) if method == "haplotype" else (2,)
        if (not isinstance(fs, list) or len(fs) not in allowed
                or not all(isinstance(x, str) and x for x in fs)):
            raise _fail(where, f"phenotypes: 'functions' must list {' or '.join(map(str, allowed))} "
                               f"function names: {e!r}")
        if not isinstance(ph, str) or not ph:
            raise _fail(where, f"phenotypes: phenotype must be a string: {e!r}")
        key = tuple(sorted(fs))
        if key in pairs:
            raise _fail(where, f"phenotypes: duplicate entry for {list(key)}")
        pairs[key] = ph

    ranges: list[tuple[float, float, str]] = []
    for e in doc.get("activity_phenotypes") or []:
        if not isinstance(e, dict) or set(e) != {"min", "max", "phenotype"}:
            raise _fail(where, f"activity_phenotypes entries need min, max, phenotype: {e!r}")
        lo, hi = _parse_activity(where, e["min"]), _parse_activity(where, e["max"])
        if lo is None or hi is None or lo > hi:
            raise _fail(where, f"activity_phenotypes: bad range {e!r}")
        ranges.append((lo, hi, e["phenotype"]))
    ranges.sort()
    for (lo1, hi1, _), (lo2, _, _) in zip(ranges, ranges[1:]):
        if lo2 <= hi1:
            raise _fail(where, f"activity_phenotypes: overlapping ranges at {lo2}")

    used = sorted({a.function for a in alleles if a.function is not None})
    if method == "activity_score":
        if not ranges:
            raise _fail(where, "phenotype_method activity_score needs activity_phenotypes")
        if pairs:
            raise _fail(where, "phenotype_method activity_score takes activity_phenotypes, not phenotypes")
    else:
        if ranges:
            raise _fail(where, f"activity_phenotypes given but phenotype_method is {method}")
        known = {f for k in pairs for f in k}
        for a in alleles:
            if a.function is not None and a.function not in known:
                raise _fail(where, f"allele {a.name!r}: function {a.function!r} is missing from the "
                                   f"phenotype rules")
        if method == "haplotype":
            for f in used:
                if (f,) not in pairs:
                    raise _fail(where, f"phenotypes: no single-copy entry for function {f!r}")
        if method == "function_pair" or any(len(k) == 2 for k in pairs):
            for f1, f2 in itertools.combinations_with_replacement(used, 2):
                if (f1, f2) not in pairs:
                    raise _fail(where, f"phenotypes: no entry for the function pair [{f1}, {f2}]")
    return PhenotypeRules(
        method=method,
        function_pairs=pairs,
        activity_ranges=ranges,
        source=doc["source"],
        version=doc["source_version"],
    )
