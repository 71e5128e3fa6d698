"""Reader for PharmCAT's published definition format (``*_translation.json`` formatVersion 2,
``exemptions.json``, and gene phenotype JSON).

Point ``pgx call --definitions DIR`` at a directory holding ``<GENE>_translation.json`` files
(and, optionally, ``exemptions.json``). Phenotype tables are looked up in ``DIR/phenotypes``,
``DIR/../phenotypes`` (PharmCAT's own layout) and their ``_older_fallback`` folder.

Positions are PharmCAT's ``position`` (1-based GRCh38 VCF POS). Allele strings are the VCF
alleles of ``namedAlleles[].alleles``; single-letter IUPAC codes (e.g. ``S``) are kept and
expanded by the matcher.

Gene-level calling policies that PharmCAT keeps in code rather than data (lowest-function genes,
genes where an undocumented ALT is read as reference, haploid chromosomes) come from our own
``resources/gene_policies.yaml`` (see ``pgx.definitions.policy``). PharmCAT applies
``ignoredPositions``/``ignoredAlleles`` when it builds the published files, so they are not
re-applied here (an ignored deletion can share its coordinate with a SNP that stays).
"""
from __future__ import annotations

import json
from pathlib import Path

from pgx.definitions.model import (
    DefinitionSet,
    GeneDefinition,
    NamedAllele,
    PhenotypeRules,
    Variant,
    diplotype_key,
)
from pgx.definitions.policy import gene_policy
from pgx.errors import InputError


def _variant(v: dict) -> Variant:
    return Variant(
        chrom=v["chromosome"],
        position=int(v["position"]),
        ref=v["ref"],
        alts=tuple(v.get("alts") or ()),
        rsid=v.get("rsid"),
        label=v.get("chromosomeHgvsName"),
    )


def _as_float(x) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _phenotype_file(directory: Path, gene: str) -> Path | None:
    stem = gene.replace("-", "_")
    for base in (directory / "phenotypes", directory.parent / "phenotypes"):
        exact = base / f"{stem}.json"
        if exact.is_file():
            return exact
        fallback = sorted((base / "_older_fallback").glob(f"{stem}.cpic.*.json"))
        if fallback:
            return fallback[-1]
    return None


def _read_phenotypes(path: Path | None) -> tuple[PhenotypeRules, dict[str, tuple[str | None, float | None]]]:
    """Return the diplotype table and ``allele -> (function, activity value)``."""
    if path is None:
        return PhenotypeRules(method="table"), {}
    data = json.loads(path.read_text())
    functions: dict[str, tuple[str | None, float | None]] = {}
    for na in data.get("namedAlleles") or []:
        functions[na["name"]] = (na.get("functionValue"), _as_float(na.get("activityValue")))
    for name, fn in (data.get("haplotypes") or {}).items():
        functions.setdefault(name, (fn, _as_float((data.get("activityValues") or {}).get(name))))
    rules = PhenotypeRules(method="table", source=f"PharmCAT phenotypes {path.name}",
                           version=str(data.get("version", "")))
    for d in data.get("diplotypes") or []:
        key = diplotype_key(*d["diplotype"].split("/"))
        rules.diplotypes[key] = d.get("phenotype") or d.get("generesult")
        score = _as_float(d.get("activityScore"))
        if score is not None:
            rules.diplotype_scores[key] = score
    if rules.diplotype_scores:
        rules.method = "activity_score"
    return rules, functions


def read_translation(path: Path, exemptions: dict | None = None) -> GeneDefinition:
    """Read one ``<GENE>_translation.json`` into a :class:`GeneDefinition`."""
    try:
        data = json.loads(path.read_text())
        gene = data["gene"]
        variants = [_variant(v) for v in data["variants"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a PharmCAT translation file ({exc})") from exc
    ex = (exemptions or {}).get(gene, {})
    rules, functions = _read_phenotypes(_phenotype_file(path.parent, gene))
    alleles = []
    for na in data["namedAlleles"]:
        fn, act = functions.get(na["name"], (None, None))
        alleles.append(NamedAllele(name=na["name"], alleles=list(na["alleles"]),
                                   reference=bool(na.get("reference")), function=fn, activity=act))
    policy = gene_policy(gene)
    return GeneDefinition(
        gene=gene,
        chrom=data["chromosome"],
        build=str(data.get("genomeBuild", "GRCh38")).split(".")[0],
        variants=variants,
        alleles=alleles,
        source=f"{data.get('source', 'PharmCAT')} definitions via PharmCAT ({path.name})",
        version=str(data.get("version", "")),
        phenotypes=rules,
        required_positions=tuple(int(p) for p in ex.get("requiredPositions") or []),
        ignored_alleles=tuple(ex.get("ignoredAlleles") or []),
        tie_priorities={frozenset(p["list"]): p["pick"]
                        for p in ex.get("unphasedDiplotypePriorities") or []},
        extra_positions=[_variant(v) for v in ex.get("extraPositions") or []],
        allele_aliases=dict(data.get("suballelesMap") or {}),
        **policy,
    )


def _phenotype_only_genes(directory: Path, known: set[str]) -> list[GeneDefinition]:
    """Genes with a phenotype table but no translation file (PharmCAT: MT-RNR1). They are not
    called from the VCF; their phenotypes serve outside calls."""
    out = []
    for base in (directory / "phenotypes", directory.parent / "phenotypes"):
        for path in sorted(base.glob("*.json")):
            try:
                gene = json.loads(path.read_text()).get("gene")
            except (OSError, ValueError):
                continue
            if not gene or gene in known:
                continue
            known.add(gene)
            rules, functions = _read_phenotypes(path)
            alleles = [NamedAllele(name=n, alleles=[], function=f, activity=a)
                       for n, (f, a) in functions.items()]
            policy = {**gene_policy(gene), "vcf_callable": False}
            out.append(GeneDefinition(
                gene=gene, chrom="", build="GRCh38", variants=[], alleles=alleles,
                source=f"PharmCAT phenotypes {path.name} (phenotypes only: outside calls)",
                version=rules.version or "", phenotypes=rules, **policy))
    return out


def load_pharmcat(directory: str | Path) -> DefinitionSet:
    """Load every ``*_translation.json`` in ``directory``."""
    directory = Path(directory)
    files = sorted(directory.glob("*_translation.json"))
    if not files:
        raise InputError(f"{directory}: no *_translation.json files; point --definitions at "
                         f"PharmCAT's definitions directory")
    exemptions = {}
    ex_path = directory / "exemptions.json"
    if ex_path.is_file():
        exemptions = json.loads(ex_path.read_text())
    genes = {}
    for f in files:
        g = read_translation(f, exemptions)
        genes[g.gene] = g
    for g in _phenotype_only_genes(directory, set(genes)):
        genes[g.gene] = g
    versions = sorted({g.version for g in genes.values() if g.version})
    return DefinitionSet(source="PharmCAT definitions (CPIC/PharmVar via ClinPGx)",
                         version=versions[-1] if versions else "unknown",
                         path=str(directory.resolve()), genes=genes)
