"""Call star alleles for every sample of one or more VCF/BCF files (the ``pgx call`` stage).

Several files may hold different patients, or the same patients split by region/chromosome:
a sample's genotypes are gathered across all files (a position given twice for one sample is an
error). Each file is opened and validated first, so bad input stops the run before any output.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pgx.calling.encode import encode_gene
from pgx.calling.matcher import match_gene
from pgx.calling.model import GeneCall
from pgx.definitions.model import DefinitionSet
from pgx.errors import InputError
from pgx.io.vcf import VcfFile, normalise_chrom
from pgx.progress import progress

_STANDARD = re.compile(r"^chr([0-9]{1,2}|X|Y|M)$")
REF_MISMATCH_MIN = 5  # landmark check: at least this many checked positions ...
REF_MISMATCH_FRACTION = 0.5  # ... of which more than this fraction disagree -> wrong build


@dataclass
class CallResult:
    samples: list[str]
    calls: dict[str, list[GeneCall]]  # sample -> one GeneCall per gene (definition order)
    definitions: DefinitionSet
    inputs: list[str]


def _targets(defs: DefinitionSet) -> dict[str, np.ndarray]:
    out: dict[str, set[int]] = {}
    for g in defs.genes.values():
        if not g.vcf_callable:
            continue
        out.setdefault(g.chrom, set()).update(v.position for v in g.variants)
    return {c: np.array(sorted(p), dtype=np.int64) for c, p in out.items()}


def _check_contig_names(vf: VcfFile) -> None:
    declared = re.findall(r"^##contig=<ID=([^,>]+)", vf.header, re.M)
    if declared and not any(_STANDARD.match(normalise_chrom(c)) for c in declared):
        shown = ", ".join(declared[:3])
        raise InputError(f"{vf.path}: contig names ({shown}, ...) are not chromosome names "
                         f"(1-22, X, Y, MT, with or without 'chr'); rename them with "
                         f"`bcftools annotate --rename-chrs`")


def call_vcfs(paths: list[str], defs: DefinitionSet, samples: list[str] | None = None,
              all_candidates: bool = False, show_progress: bool = False) -> CallResult:
    files = [VcfFile(p) for p in paths]
    order: list[str] = []
    index: dict[str, int] = {}
    for vf in files:
        _check_contig_names(vf)
        for s in vf.samples:
            if s not in index:
                index[s] = len(order)
                order.append(s)
    if samples:
        unknown = [s for s in samples if s not in index]
        if unknown:
            raise InputError(f"{', '.join(paths)}: sample(s) {', '.join(unknown)} not found; "
                             f"the VCF(s) contain {', '.join(order[:5])}"
                             f"{' ...' if len(order) > 5 else ''}")
    targets = _targets(defs)
    records = [vf.fetch(targets) for vf in files]

    genes = [g for g in defs.genes.values() if g.vcf_callable]
    checked = mismatched = 0
    per_gene = []
    for gene in progress(genes, "genes", enabled=show_progress):
        gg = encode_gene(gene, order, index, records)
        checked += gg.ref_checked
        mismatched += gg.ref_mismatches
        per_gene.append(gg)
    if checked >= REF_MISMATCH_MIN and mismatched > REF_MISMATCH_FRACTION * checked:
        raise InputError(f"{', '.join(paths)}: REF alleles disagree with GRCh38 at {mismatched} of "
                         f"{checked} defined positions; the file looks like another genome build "
                         f"(GRCh37/hg19?) — lift it over to GRCh38")

    wanted = samples or order
    calls: dict[str, list[GeneCall]] = {s: [] for s in wanted}
    for gg in per_gene:
        source = f"{defs.source} {defs.version}"
        gene_calls = match_gene(gg, source, all_candidates=all_candidates)
        for c in gene_calls:
            if c.sample in calls:
                calls[c.sample].append(c)
    return CallResult(samples=list(wanted), calls=calls, definitions=defs, inputs=list(paths))
