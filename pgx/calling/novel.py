"""Possible novel alleles: protein-altering variants that no allele definition in use covers.

A variant inside a VCF-callable pharmacogene's transcript whose consequence (``INFO/BCSQ``,
written by ``pgx annotate`` or ``bcftools csq``) alters the protein, its start or stop, or
splicing, and that is not part of any allele definition in use (its position is not defined,
or the definition does not know its ALT), is listed per sample carrying it in the calls JSON
gene entry as ``novel_variants``: chrom, pos (1-based VCF POS), ref, alt, genotype,
consequence, HGVS c./p. (``INFO/HGVS`` from ``pgx annotate``) and every transferred annotation
(population AF, ClinVar, ...) the record carries. Synonymous, intronic and UTR variants are not
flagged.

Such a variant may change the function of the haplotype carrying it, so the call may be
incomplete: the gene's ``not_excluded`` gains a group (``resolved_by: "novel"``) with the
phenotype of the reported diplotype if that haplotype had no function (the other haplotype if
the phase is unknown; both for a homozygous variant), so the phenotype is no longer certain
and every drug whose advice would change reads *incomplete*.

Where to look: the gene spans recorded by ``pgx annotate`` in the header (``##pgx_annotate=``,
from the transcripts of the GFF3), else the defined positions' span widened by
:data:`FALLBACK_FLANK` (a VCF annotated by another tool). A VCF without ``BCSQ`` in its header
was not annotated: nothing is flagged, and the calls say so (``annotation.consequences``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from pgx.calling.model import GeneCall
from pgx.definitions.model import GeneDefinition
from pgx.phenotype.assign import diplotype_outcome, outcome_lookup

FALLBACK_FLANK = 5000  # bp around the defined positions when the header names no gene span
#: BCSQ consequence types that make a variant a possible novel allele.
FLAGGED = frozenset({
    "missense", "stop_gained", "stop_lost", "start_lost", "frameshift", "inframe_insertion",
    "inframe_deletion", "inframe_altering", "splice_acceptor", "splice_donor",
    "splice_region", "coding_sequence", "feature_elongation", "start_retained",
})
_HEADER = re.compile(r"^##pgx_annotate=(\{.*\})\s*$", re.M)
_DNA = re.compile(r"^(\d+)([ACGTN]*)>([ACGTN]*)$")


@dataclass
class Annotation:
    """What an input's header says about its annotation."""

    consequences: bool  # INFO/BCSQ declared
    tool: str | None  # "pgx annotate", "bcftools csq" or None
    spans: dict[str, tuple[str, int, int]]  # gene -> (chrom, start, end), 1-based inclusive
    fields: list[str]  # transferred INFO fields (pgx annotate's sources)


def header_annotation(header: str) -> Annotation:
    """The annotation an input VCF's header records (``##pgx_annotate``, ``##INFO=<ID=BCSQ``)."""
    has_bcsq = "##INFO=<ID=BCSQ," in header
    m = _HEADER.search(header)
    if m:
        try:
            rec = json.loads(m.group(1))
        except json.JSONDecodeError:
            rec = {}
        spans = {g: (s[0], int(s[1]), int(s[2])) for g, s in (rec.get("genes") or {}).items()}
        return Annotation(bool(rec.get("consequences")) and has_bcsq, "pgx annotate", spans,
                          list(rec.get("fields") or []))
    tool = "bcftools csq" if re.search(r"^##bcftools[_/]csqCommand", header, re.M) else None
    return Annotation(has_bcsq, tool, {}, [])


def _span(gene: GeneDefinition, ann: Annotation) -> tuple[str, int, int] | None:
    if gene.gene in ann.spans:
        return ann.spans[gene.gene]
    if not gene.variants:
        return None
    pos = [v.position for v in gene.variants]
    return gene.chrom, max(1, min(pos) - FALLBACK_FLANK), max(pos) + FALLBACK_FLANK


def _consequences(bcsq: str, gene: str) -> list[tuple[list[str], str, str, str]]:
    """(types, transcript, amino-acid change, DNA change) of one gene's BCSQ entries (entries
    that refer to another record, ``@POS``, are skipped)."""
    out = []
    for entry in bcsq.split(","):
        f = entry.split("|")
        if len(f) < 3 or f[0].startswith("@") or f[1] != gene:
            continue
        types = [t.lstrip("*") for t in f[0].split("&")]
        out.append((types, f[2], f[5] if len(f) > 5 else "", f[6] if len(f) > 6 else ""))
    return out


def _hgvs(hgvs: str | None, transcript: str, alt: str) -> tuple[str, str]:
    """``INFO/HGVS`` entries ``ALT|transcript|c.|p.`` (pgx annotate) for one transcript."""
    for entry in (hgvs or "").split(","):
        f = entry.split("|")
        if len(f) >= 4 and f[0] == alt and f[1] == transcript:
            return f[2], f[3]
    return "", ""


def _allele_matches(dna: str, pos: int, ref: str, alt: str) -> bool:
    m = _DNA.match(dna)
    return bool(m) and int(m.group(1)) == pos and m.group(2) == ref and m.group(3) == alt


def _defined(gene: GeneDefinition) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for v in gene.variants:
        out.setdefault(v.position, set()).update(v.alts)
    return out


def scan_novel(paths: list[str], headers: list[str], genes: list[GeneDefinition],
               samples: list[str]) -> tuple[dict[tuple[str, str], list[dict]], list[Annotation]]:
    """``{(sample, gene): [novel variant, ...]}`` over the inputs, and each input's
    :class:`Annotation`."""
    from cyvcf2 import VCF

    found: dict[tuple[str, str], list[dict]] = {}
    annotations = [header_annotation(h) for h in headers]
    wanted = set(samples)
    for path, ann in zip(paths, annotations):
        if not ann.consequences:
            continue
        vcf = VCF(path, gts012=False, lazy=True, threads=1)
        names = list(vcf.samples)
        cols = np.array([i for i, s in enumerate(names) if s in wanted], dtype=np.int64)
        indexed = True
        for gene in genes:
            span = _span(gene, ann)
            if span is None:
                continue
            chrom, start, end = span
            try:
                records = vcf(f"{chrom}:{start}-{end}") if indexed else iter(VCF(path))
            except Exception:  # no index: a small file streamed whole
                indexed = False
                records = iter(VCF(path))
            defined = _defined(gene)
            for v in records:
                if v.CHROM != chrom or not start <= v.POS <= end:
                    continue
                _record(v, gene, defined, ann, names, cols, found)
        vcf.close()
    return found, annotations


def _record(v, gene: GeneDefinition, defined: dict[int, set[str]], ann: Annotation,
            names: list[str], cols: np.ndarray, found: dict) -> None:
    bcsq = v.INFO.get("BCSQ")
    if not bcsq:
        return
    entries = _consequences(bcsq, gene.gene)
    if not entries:
        return
    hgvs = v.INFO.get("HGVS")
    extra = {}
    for f in ann.fields:
        val = v.INFO.get(f)
        if val is not None:
            extra[f] = val if isinstance(val, (str, int, float)) else list(val)
    gt = None
    for k, alt in enumerate(v.ALT, start=1):
        if alt in defined.get(v.POS, ()):
            continue
        mine = [e for e in entries if _allele_matches(e[3], v.POS, v.REF, alt)] or \
            (entries if len(v.ALT) == 1 else [])
        flagged = [e for e in mine if FLAGGED & set(e[0])]
        if not flagged:
            continue
        if gt is None:
            gt = v.genotype.array()[:, :-1]  # [S, ploidy]
        carriers = cols[(gt[cols] == k).any(axis=1)] if len(cols) else cols
        for s in carriers:
            alleles = [str(a) if a >= 0 else "." for a in gt[s]]
            for types, transcript, aa, dna in flagged:
                c, p = _hgvs(hgvs, transcript, alt)
                found.setdefault((names[s], gene.gene), []).append({
                    "chrom": v.CHROM, "pos": int(v.POS), "ref": v.REF, "alt": alt,
                    "genotype": "/".join(alleles), "consequence": "&".join(types),
                    "transcript": transcript, "amino_acid_change": aa, "dna_change": dna,
                    "hgvs_c": c, "hgvs_p": p, "annotations": extra,
                })


def _no_function_allele(gene: GeneDefinition) -> str | None:
    for a in gene.alleles:
        if a.activity == 0.0 or (a.function or "").lower() == "no function":
            return a.name
    return None


def _homozygous(genotype: str) -> bool:
    parts = genotype.replace("|", "/").split("/")
    return len(set(parts)) == 1 and parts[0] not in ("0", ".")


def novel_possibilities(gene: GeneDefinition, call: GeneCall, variants: list[dict]) -> list[dict]:
    """``not_excluded`` groups of a call with possible novel alleles, one per phenotype: the
    phenotype if the haplotype(s) carrying them had no function (either haplotype when the
    phase is unknown, both for a homozygous variant; Indeterminate where the gene has no
    no-function allele)."""
    nf = _no_function_allele(gene)
    hom = any(_homozygous(v["genotype"]) for v in variants)
    by_pheno: dict[str, list[tuple[str, str, str]]] = {}  # phenotype -> (score, lookup, example)
    for d in call.diplotypes:
        a = d.alleles
        if nf is None:
            options = [(("Indeterminate", ""), f"{'/'.join(a)} + novel")]
        elif len(a) == 1 or hom:
            options = [(diplotype_outcome(gene, tuple(nf for _ in a)),
                        "/".join("novel" for _ in a))]
        else:
            options = [(diplotype_outcome(gene, (nf, a[1])), f"novel/{a[1]}"),
                       (diplotype_outcome(gene, (a[0], nf)), f"{a[0]}/novel")]
        for (pheno, score), example in options:
            by_pheno.setdefault(pheno or "Indeterminate", []).append(
                (score, outcome_lookup(gene, pheno, score), example))
    label = "; ".join(dict.fromkeys(
        f"{v['hgvs_p'] or v['amino_acid_change'] or v['dna_change']} ({v['consequence']})"
        for v in variants))
    return [{
        "phenotype": pheno,
        "activity_scores": sorted({x[0] for x in opts if x[0]}, key=float),
        "lookup_keys": list(dict.fromkeys(x[1] for x in opts if x[1])),
        "count": len(opts),
        "examples": list(dict.fromkeys(x[2] for x in opts))[:3],
        "positions": [],
        "more_positions": 0,
        "resolved_by": "novel",
        "novel": label,
    } for pheno, opts in sorted(by_pheno.items())]
