"""The defined positions of every VCF-callable gene, as files a lab can genotype a sample at.

A defined position with no VCF record is *unknown* to ``pgx call``, never reference, so a VCF
that holds only variant sites gives ``partial`` calls. Genotyping a sample explicitly at these
positions (``bcftools mpileup -R positions.vcf.gz | bcftools call -m``, GATK HaplotypeCaller
``-L``/``--alleles``; see ``pgx positions --help``) gives a record, usually ``0/0``, at every
one of them.

What is written (``pgx positions``):

* one record per ``(chrom, POS, REF)`` over the variants of every gene with ``vcf_callable``
  (genes that need outside calls, e.g. CYP2D6 and HLA, are left out and named in the header).
  A position used by two genes is one record: ``GENE`` lists both, ``ALT`` is the union of
  their ALTs (first-seen order). ALTs come from ``Variant.alts`` only: an IUPAC code in a
  named allele's cell (``R`` = A or G) stands for alleles that are already REF or ALT there;
* each gene's ``extra_positions`` too (e.g. CYP2C9's rs12777823, reported for CPIC's warfarin
  dosing), flagged ``POI`` in the VCF: they are part of no allele, so ``pgx call`` does not
  match them, but a lab that genotypes a panel for pharmacogenomics wants them in the same VCF;
* sorted by chromosome (1..22, X, Y, M) and position.

Formats (``write_positions``; ``.gz`` means BGZF with a tabix ``.tbi`` beside it):

* ``vcf``: sites-only VCFv4.2 (``ID`` = rsID, ``INFO`` ``GENE``, ``LABEL``, ``POI``),
  ``##contig`` lines with GRCh38 lengths, a ``##pgx_definitions`` line naming the source;
* ``bed``: ``chrom  POS-1  POS-1+len(REF)  GENE:rsID`` (0-based, half-open; the span of REF,
  so an indel covers the bases it deletes);
* ``tsv``: ``CHROM  POS  REF,ALT``, the targets file ``bcftools call -C alleles -T`` reads
  (it must be bgzipped and indexed, so write it as ``.tsv.gz``). Not recommended for pgx:
  on the simulated reads of ``tests/test_positions.py``, bcftools 1.16 genotyped the
  heterozygous CYP2C9*6 deletion and CYP3A5*7 insertion ``0/0`` that way (see the README).
"""
from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from pgx import __version__
from pgx.definitions.model import DefinitionSet, Variant
from pgx.errors import InputError, UsageError

FORMATS = ("vcf", "bed", "tsv")
_EXTENSIONS = {".vcf": "vcf", ".vcf.gz": "vcf", ".bed": "bed", ".bed.gz": "bed",
               ".tsv": "tsv", ".tsv.gz": "tsv"}
_CHROM_ORDER = {**{str(i): i for i in range(1, 23)}, "X": 23, "Y": 24, "M": 25, "MT": 25}
CHRM_LENGTH = 16569  # GRCh38 chrM (NC_012920.1, the rCRS)
_BASES = re.compile(r"^[ACGTN]+$")


@dataclass(frozen=True)
class Position:
    """One output record: a (chrom, pos, REF) with every gene that defines it."""

    chrom: str
    pos: int  # 1-based VCF POS (an indel's anchor base)
    ref: str
    alts: tuple[str, ...]
    genes: tuple[str, ...]
    rsids: tuple[str, ...]
    labels: tuple[str | None, ...]  # one per gene, aligned with ``genes``
    extra_only: bool  # only in genes' extra_positions: part of no allele definition

    @property
    def start0(self) -> int:
        return self.pos - 1

    @property
    def end0(self) -> int:
        """0-based exclusive end of the REF span."""
        return self.pos - 1 + len(self.ref)

    @property
    def name(self) -> str:
        """``GENE:rsID`` (or ``GENE:chrom:pos``); genes sharing the position joined by ``,``."""
        where = ";".join(self.rsids) if self.rsids else f"{self.chrom}:{self.pos}"
        return f"{','.join(self.genes)}:{where}"


def chrom_key(chrom: str) -> tuple[int, str]:
    """Natural order chr1..chr22, chrX, chrY, chrM; anything else after, by name."""
    bare = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return (_CHROM_ORDER.get(bare.upper(), 100), chrom)


def contig_length(chrom: str) -> int | None:
    """GRCh38 length of a primary chromosome (``chr1`` .. ``chrY``, ``chrM``), else None."""
    from pgx.io.reference_build import GRCH38

    bare = chrom[3:] if chrom.lower().startswith("chr") else chrom
    if bare.upper() in ("M", "MT"):
        return CHRM_LENGTH
    return GRCH38.get(bare.upper())


def defined_positions(defs: DefinitionSet, extra: bool = True) -> list[Position]:
    """Every defined position of every VCF-callable gene (and, with ``extra``, the genes'
    ``extra_positions``), one :class:`Position` per (chrom, POS, REF), sorted."""
    merged: dict[tuple[str, int, str], list[tuple[str, Variant, bool]]] = {}
    for g in defs.genes.values():
        if not g.vcf_callable:
            continue
        sources = [(v, False) for v in g.variants]
        if extra:
            sources += [(v, True) for v in g.extra_positions]
        for v, is_extra in sources:
            if not _BASES.match(v.ref or ""):
                raise InputError(f"{defs.path or defs.source}: {g.gene} position {v.key} has "
                                 f"REF {v.ref!r}, not a VCF allele; fix the definitions")
            entries = merged.setdefault((v.chrom, v.position, v.ref), [])
            if not any(gene == g.gene and w == v for gene, w, _ in entries):
                entries.append((g.gene, v, is_extra))
    out = []
    for (chrom, pos, ref), entries in merged.items():
        alts: list[str] = []
        genes: list[str] = []
        labels: list[str | None] = []
        rsids: list[str] = []
        for gene, v, _ in entries:
            for a in v.alts:  # concrete VCF alleles only; an IUPAC code is never an ALT
                if _BASES.match(a) and a != ref and a not in alts:
                    alts.append(a)
            if gene not in genes:
                genes.append(gene)
                labels.append(v.label)
            if v.rsid and v.rsid not in rsids:
                rsids.append(v.rsid)
        out.append(Position(chrom, pos, ref, tuple(alts), tuple(genes), tuple(rsids),
                            tuple(labels), all(e for _, _, e in entries)))
    out.sort(key=lambda p: (chrom_key(p.chrom), p.pos, p.ref))
    return out


def excluded_genes(defs: DefinitionSet) -> list[str]:
    """Genes left out: they are not called from a VCF (outside calls only)."""
    return [g.gene for g in defs.genes.values() if not g.vcf_callable]


# ---------------------------------------------------------------------------------- formats

def info_value(text: str) -> str:
    """A string as a VCF INFO value: whitespace runs become ``_``; ``%``, ``,``, ``;``, ``=``
    are percent-encoded (``%25 %2C %3B %3D``, as VCF 4.3 specifies)."""
    text = text.replace("%", "%25").replace(",", "%2C").replace(";", "%3B").replace("=", "%3D")
    return re.sub(r"\s+", "_", text.strip())


def vcf_text(positions: list[Position], defs: DefinitionSet) -> str:
    contigs = list(dict.fromkeys(p.chrom for p in positions))
    provenance = {"source": defs.source, "version": defs.version,
                  "genes": sorted({g for p in positions for g in p.genes}),
                  "not_included": excluded_genes(defs), "positions": len(positions)}
    lines = ["##fileformat=VCFv4.2", f"##source=pgx {__version__}", "##reference=GRCh38"]
    for c in contigs:
        n = contig_length(c)
        lines.append(f"##contig=<ID={c},length={n}>" if n else f"##contig=<ID={c}>")
    lines += [
        '##INFO=<ID=GENE,Number=.,Type=String,Description="Gene(s) whose allele definitions '
        'use this position">',
        '##INFO=<ID=LABEL,Number=.,Type=String,Description="HGVS or common name of the '
        'position, one per GENE (. if none); spaces written as _, and % , ; = as %25 %2C %3B '
        '%3D">',
        '##INFO=<ID=POI,Number=0,Type=Flag,Description="Position of interest reported with a '
        'gene (e.g. for a guideline) but part of no allele definition">',
        "##pgx_definitions=" + json.dumps(provenance, separators=(",", ":")),
        "##pgx_positions=Defined positions of the VCF-callable genes (1-based POS; an indel's "
        "POS is its anchor base). Genotype every sample here (pgx positions --help) so that "
        "reference genotypes are recorded instead of absent.",
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]),
    ]
    for p in positions:
        info = ["GENE=" + ",".join(p.genes)]
        if any(p.labels):
            info.append("LABEL=" + ",".join(info_value(x or "") or "." for x in p.labels))
        if p.extra_only:
            info.append("POI")
        lines.append("\t".join([p.chrom, str(p.pos), ";".join(p.rsids) or ".", p.ref,
                                ",".join(p.alts) or ".", ".", ".", ";".join(info)]))
    return "\n".join(lines) + "\n"


def bed_text(positions: list[Position], defs: DefinitionSet) -> str:
    lines = [f"# pgx {__version__} positions: {defs.source} {defs.version}; 0-based half-open "
             f"REF spans; name GENE:rsID"]
    lines += [f"{p.chrom}\t{p.start0}\t{p.end0}\t{p.name}" for p in positions]
    return "\n".join(lines) + "\n"


def tsv_text(positions: list[Position], defs: DefinitionSet) -> str:
    """``CHROM POS REF,ALT`` (no header: the targets file of ``bcftools call -C alleles``)."""
    return "".join(f"{p.chrom}\t{p.pos}\t{','.join((p.ref, *p.alts))}\n" for p in positions)


_WRITERS = {"vcf": vcf_text, "bed": bed_text, "tsv": tsv_text}
_TABIX = {"vcf": {"preset": "vcf"}, "bed": {"preset": "bed"},
          "tsv": {"seq_col": 0, "start_col": 1, "end_col": 1, "meta_char": "#",
                  "zerobased": False}}


def format_for(path: str | Path, explicit: str | None) -> str:
    """The output format: ``explicit`` (checked against a known extension), else OUT's
    extension (.vcf, .vcf.gz, .bed, .bed.gz, .tsv, .tsv.gz); UsageError otherwise."""
    if Path(path).is_dir():
        raise UsageError(f"-o {path}: is a directory; give the output file name, e.g. "
                         f"{Path(path) / 'positions.vcf.gz'}")
    name = Path(path).name.lower()
    known = next((fmt for ext, fmt in _EXTENSIONS.items() if name.endswith(ext)), None)
    if explicit is not None:
        if explicit not in FORMATS:
            raise UsageError(f"--format {explicit}: unknown format; use one of "
                             f"{', '.join(FORMATS)}")
        if known is not None and known != explicit:
            raise UsageError(f"-o {path}: the extension says {known}, but --format is "
                             f"{explicit}; name the file .{explicit} (or .{explicit}.gz), or "
                             f"drop --format")
        return explicit
    if known is None:
        raise UsageError(f"-o {path}: cannot tell the format from the file name; name it "
                         f"positions.vcf.gz, .vcf, .bed or .tsv.gz, or pass --format "
                         f"{'|'.join(FORMATS)}")
    return known


def output_paths(path: str | Path) -> list[Path]:
    """The files ``write_positions`` creates: OUT, and OUT.tbi when OUT ends in ``.gz``."""
    path = Path(path)
    return [path, Path(str(path) + ".tbi")] if path.name.lower().endswith(".gz") else [path]


def write_positions(path: str | Path, fmt: str, positions: list[Position],
                    defs: DefinitionSet) -> list[Path]:
    """Write OUT in ``fmt`` (BGZF + tabix ``.tbi`` when OUT ends in ``.gz``) atomically:
    temporary files beside OUT, renamed into place only when all are complete; a failure
    leaves nothing behind (not even a directory it created). Returns the paths written."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"-o {path}: is a directory; give the output file name, e.g. "
                         f"{path / 'positions.vcf.gz'}")
    text = _WRITERS[fmt](positions, defs)
    compressed = path.name.lower().endswith(".gz")
    finals = output_paths(path)
    created = []
    d = path.parent
    while not d.exists():
        created.append(d)
        d = d.parent
    token = f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    tmp = path.with_name("." + path.name + token + (".gz" if compressed else ""))
    temps = [tmp, Path(str(tmp) + ".tbi")]
    done = False
    try:
        try:
            for c in reversed(created):
                c.mkdir()
            if compressed:
                from pgx.io.bgzf import BgzfWriter

                with BgzfWriter(tmp, threads=0) as fh:
                    fh.write(text.encode())
            else:
                with open(tmp, "x", encoding="utf-8") as fh:
                    fh.write(text)
        except OSError as exc:
            raise UsageError(f"-o {path}: cannot write ({exc.strerror or exc}); choose a "
                             f"writable location") from exc
        if compressed:
            _index(tmp, fmt)
        for src, dst in zip(temps, finals):
            os.replace(src, dst)
        done = True
    finally:
        for t in temps:
            t.unlink(missing_ok=True)
        if not done:
            for c in created:
                if c.is_dir() and not any(c.iterdir()):
                    c.rmdir()
    return finals


def _index(path: Path, fmt: str) -> None:
    if fmt == "vcf":
        from pgx.io.bgzf import write_index

        write_index(path)  # as pgx filter indexes its VCF.gz
        return
    import pysam

    try:
        pysam.tabix_index(str(path), force=True, keep_original=True, **_TABIX[fmt])
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot index ({exc})") from None
