"""Call star alleles for every sample of one or more VCF/BCF files (the ``pgx call`` stage).

Several files may hold different patients, or the same patients split by region/chromosome:
a sample's genotypes are gathered across all files (a position given twice for one sample is an
error). Each file is opened and validated first, so bad input stops the run before any output.

Checks here, on top of the per-file ones in :mod:`pgx.io.vcf`: the same file given twice, contig
names that are not chromosome names, unknown ``--sample`` names, sample names unusable in file
names, the same sample genotyped at one position in two files, and REF alleles that disagree with
GRCh38 (another genome build), per file and over all files.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import numpy as np

from pathlib import Path

from pgx.calling.encode import _to_definition_allele, encode_gene
from pgx.calling.model import GeneCall
from pgx.definitions.model import DefinitionSet
from pgx.errors import InputError, UsageError
from pgx.io.provenance import header_filters
from pgx.io.vcf import SiteRecords, VcfFile, normalise_chrom
from pgx.naming import check_sample_name
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
    all_samples: list[str]  # every sample in the inputs (``samples`` may be a selection)
    filters: list[dict] = field(default_factory=list)  # quality filters named in the headers
    sample_files: dict[str, list[str]] = field(default_factory=dict)  # sample -> its inputs
    annotations: dict[str, object] = field(default_factory=dict)  # input -> novel.Annotation


def _targets(defs: DefinitionSet) -> dict[str, np.ndarray]:
    out: dict[str, set[int]] = {}
    for g in defs.genes.values():
        if not g.vcf_callable:
            continue
        out.setdefault(g.chrom, set()).update(v.position for v in g.variants)
    return {c: np.array(sorted(p), dtype=np.int64) for c, p in out.items()}


def _check_contig_names(vf: VcfFile, names, what: str) -> None:
    names = sorted(n for n in names if n)
    if names and not any(_STANDARD.match(normalise_chrom(c)) for c in names):
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise InputError(f"{vf.path}: {what} ({shown}) are not chromosome names "
                         f"(1-22, X, Y, MT, with or without 'chr'); rename them with "
                         f"`bcftools annotate --rename-chrs`")


def _definition_refs(defs: DefinitionSet) -> dict[tuple[str, int], list[str]]:
    refs: dict[tuple[str, int], list[str]] = {}
    for g in defs.genes.values():
        if g.vcf_callable:
            for v in g.variants:
                refs.setdefault((v.chrom, v.position), []).append(v.ref)
    return refs


def _ref_mismatches(recs: SiteRecords, refs: dict[tuple[str, int], list[str]]) -> tuple[int, int]:
    """(checked, mismatched): records whose REF fits no definition REF at their position."""
    checked = mismatched = 0
    for chrom, pos, ref in zip(recs.chrom, recs.pos, recs.ref):
        def_refs = refs.get((chrom, pos))
        if not def_refs:
            continue
        checked += 1
        if not any(_to_definition_allele(ref, ref, d) == d for d in def_refs):
            mismatched += 1
    return checked, mismatched


def _wrong_build(what: str, mismatched: int, checked: int) -> InputError:
    return InputError(f"{what}: REF alleles disagree with GRCh38 at {mismatched} of {checked} "
                      f"defined positions; the file looks like another genome build "
                      f"(GRCh37/hg19?): lift it over to GRCh38 (e.g. `bcftools +liftover`) or "
                      f"re-call against GRCh38")


def _check_overlaps(files: list[VcfFile], records: list[SiteRecords]) -> None:
    """The same sample genotyped at the same position in two files is a conflict."""
    first: dict[tuple[str, int], int] = {}
    sample_sets = [set(vf.samples) for vf in files]
    for i, recs in enumerate(records):
        for key in dict.fromkeys(zip(recs.chrom, recs.pos)):
            j = first.setdefault(key, i)
            if j == i:
                continue
            both = sample_sets[i] & sample_sets[j]
            if both:
                s = sorted(both)[0]
                raise InputError(
                    f"{files[i].path}: sample {s!r} also has a genotype at {key[0]}:{key[1]} in "
                    f"{files[j].path}; give each sample's position in one file only (split the "
                    f"files by region or merge them with `bcftools concat`/`bcftools merge`)")


@dataclass
class OpenedInputs:
    """VCFs opened and header-checked, with the samples to call (see :func:`open_inputs`)."""

    paths: list[str]
    files: list[VcfFile]
    order: list[str]  # every sample, in file order
    index: dict[str, int]  # sample -> position in ``order``
    wanted: list[str]  # the samples to call


def open_inputs(paths: list[str], samples: list[str] | None = None) -> OpenedInputs:
    """Open and validate every VCF's header and the sample selection (no definitions needed,
    so header problems are reported before anything else is loaded)."""
    seen_paths: dict[Path, str] = {}
    for p in paths:
        key = Path(p).resolve()
        if key in seen_paths:
            raise UsageError(f"{p}: the same VCF is given twice (also as {seen_paths[key]}); "
                             f"pass each file once")
        seen_paths[key] = p
    files = [VcfFile(p) for p in paths]
    order: list[str] = []
    index: dict[str, int] = {}
    origin: dict[str, VcfFile] = {}
    for vf in files:
        _check_contig_names(vf, re.findall(r"^##contig=<ID=([^,>]+)", vf.header, re.M),
                            "contig names in the header")
        for s in vf.samples:
            if s not in index:
                index[s] = len(order)
                order.append(s)
                origin[s] = vf
    if samples:
        samples = list(dict.fromkeys(samples))
        unknown = [s for s in samples if s not in index]
        if unknown:
            raise InputError(f"{', '.join(paths)}: sample(s) {', '.join(map(repr, unknown))} not "
                             f"found; the VCF(s) contain {', '.join(order[:5])}"
                             f"{' ...' if len(order) > 5 else ''}: fix --sample (or leave it out "
                             f"to call every sample)")
    wanted = samples or order
    for s in wanted:
        check_sample_name(s, str(origin[s].path))
    return OpenedInputs(list(paths), files, order, index, list(wanted))


def call_vcfs(paths: list[str], defs: DefinitionSet, samples: list[str] | None = None,
              all_candidates: bool = False, show_progress: bool = False,
              opened: OpenedInputs | None = None) -> CallResult:
    """Call every (or each selected) sample; ``opened`` (from :func:`open_inputs` with the same
    paths and samples) skips opening the files again."""
    if opened is None:
        opened = open_inputs(paths, samples)
    files, order, wanted = opened.files, opened.order, opened.wanted
    targets = _targets(defs)
    refs = _definition_refs(defs)
    records = []
    for vf in files:
        recs = vf.fetch(targets)
        _check_contig_names(vf, vf.record_contigs, "contig names of the records")
        checked, mismatched = _ref_mismatches(recs, refs)
        if checked >= REF_MISMATCH_MIN and mismatched > REF_MISMATCH_FRACTION * checked:
            raise _wrong_build(str(vf.path), mismatched, checked)
        records.append(recs)
    _check_overlaps(files, records)

    from pgx.calling.matcher import match_gene  # numba: imported once the input is known good

    genes = [g for g in defs.genes.values() if g.vcf_callable]
    wanted_index = {s: i for i, s in enumerate(wanted)}  # only selected samples are encoded
    checked = mismatched = 0
    per_gene = []
    for gene in progress(genes, "genes", enabled=show_progress):
        gg = encode_gene(gene, wanted, wanted_index, records)
        checked += gg.ref_checked
        mismatched += gg.ref_mismatches
        per_gene.append(gg)
    if checked >= REF_MISMATCH_MIN and mismatched > REF_MISMATCH_FRACTION * checked:
        raise _wrong_build(", ".join(paths), mismatched, checked)

    calls: dict[str, list[GeneCall]] = {s: [] for s in wanted}
    for gg in per_gene:
        source = f"{defs.source} {defs.version}"
        for c in match_gene(gg, source, all_candidates=all_candidates):
            calls[c.sample].append(c)
    annotations = _add_novel(paths, files, genes, wanted, calls, defs)
    filters = [f for p, vf in zip(paths, files) for f in header_filters(vf.header, str(p))]
    sample_files: dict[str, list[str]] = {s: [] for s in wanted}
    for p, vf in zip(paths, files):
        for s in vf.samples:
            if s in sample_files:
                sample_files[s].append(str(p))
    return CallResult(samples=list(wanted), calls=calls, definitions=defs, inputs=list(paths),
                      all_samples=list(order), filters=filters, sample_files=sample_files,
                      annotations=annotations)


def _add_novel(paths, files, genes, wanted, calls, defs) -> dict:
    """Possible novel alleles from annotated inputs (:mod:`pgx.calling.novel`) into the calls:
    ``novel_variants`` and the ``not_excluded`` groups they open."""
    from pgx.calling.novel import novel_possibilities, scan_novel

    found, annotations = scan_novel([str(p) for p in paths], [vf.header for vf in files],
                                    genes, wanted)
    for (sample, gene), variants in found.items():
        for i, c in enumerate(calls[sample]):
            if c.gene != gene:
                continue
            c = calls[sample][i] = copy.copy(c)  # calls may share lists across samples
            c.novel_variants = variants
            if c.diplotypes:
                c.not_excluded = c.not_excluded + novel_possibilities(defs.genes[gene], c,
                                                                      variants)
    return dict(zip((str(p) for p in paths), annotations))
