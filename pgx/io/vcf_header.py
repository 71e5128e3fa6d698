"""Parse a VCF header (the ``##`` lines and the ``#CHROM`` line) into a :class:`VcfHeader`.

The header says which INFO/FORMAT tags exist, their ``Number`` (an integer, ``A`` = one per ALT,
``R`` = one per allele incl. REF, ``G`` = one per genotype, ``.`` = any) and ``Type``
(``Integer``, ``Float``, ``Flag``, ``Character``, ``String``), the declared FILTERs, contigs and
the sample names. The columnar reader and the filter-expression compiler both read it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pgx.errors import InputError

VCF_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_STRUCTURED = re.compile(r"^##(INFO|FORMAT|FILTER|contig)=<(.*)>\s*$")
_KEYVAL = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^,]*)')


@dataclass(frozen=True)
class FieldDef:
    """One ``##INFO`` or ``##FORMAT`` definition."""

    tag: str
    number: str  # "A", "R", "G", "." or a non-negative integer as text
    type: str  # "Integer", "Float", "Flag", "Character" or "String"
    description: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.type in ("Integer", "Float")


@dataclass
class VcfHeader:
    """A VCF header. ``lines`` keeps every header line (without newline), ``#CHROM`` last."""

    lines: list[str]
    samples: list[str]
    info: dict[str, FieldDef] = field(default_factory=dict)
    format: dict[str, FieldDef] = field(default_factory=dict)
    filters: list[str] = field(default_factory=lambda: ["PASS"])  # index 0 is always PASS
    contigs: list[str] = field(default_factory=list)  # declared ##contig IDs, in order
    contig_lengths: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def filter_index(self, name: str) -> int:
        """Index of FILTER ``name`` in :attr:`filters` (``PASS`` is 0), or -1 if undeclared."""
        try:
            return self.filters.index(name)
        except ValueError:
            return -1


def parse_header(text: str, path: str = "<header>") -> VcfHeader:
    """Parse header text (all ``##`` lines and the ``#CHROM`` line).

    Raises :class:`InputError` naming ``path`` and the line for a missing ``##fileformat``,
    a malformed ``#CHROM`` line or a missing ``#CHROM`` line.
    """
    lines = text.rstrip("\n").split("\n")
    if not lines or not lines[0].startswith("##fileformat=VCF"):
        raise InputError(f"{path}:1: not a VCF: the first line must start with ##fileformat=VCF; "
                         f"pass a VCF, bgzipped VCF (.vcf.gz) or BCF file")
    header = VcfHeader(lines=[l.rstrip("\r") for l in lines], samples=[])
    chrom_line = None
    for n, line in enumerate(header.lines, start=1):
        if line.startswith("#CHROM"):
            chrom_line = (n, line)
            break
        m = _STRUCTURED.match(line)
        if not m:
            continue
        kind, body = m.groups()
        attrs = {k: v.strip('"') for k, v in _KEYVAL.findall(body)}
        ident = attrs.get("ID")
        if not ident:
            raise InputError(f"{path}:{n}: ##{kind} line without ID=; fix the header line")
        if kind in ("INFO", "FORMAT"):
            fd = FieldDef(ident, attrs.get("Number", "."), attrs.get("Type", "String"),
                          attrs.get("Description", ""))
            (header.info if kind == "INFO" else header.format)[ident] = fd
        elif kind == "FILTER":
            if ident not in header.filters:
                header.filters.append(ident)
        else:
            header.contigs.append(ident)
            if attrs.get("length", "").isdigit():
                header.contig_lengths[ident] = int(attrs["length"])
    if chrom_line is None:
        raise InputError(f"{path}: no '#CHROM' header line; the VCF is incomplete: re-export it")
    n, line = chrom_line
    header.samples = chrom_line_samples(path, n, line)
    return header


def chrom_line_samples(path, n: int, line: str) -> list[str]:
    """Sample names of the ``#CHROM`` line (line ``n`` of ``path``), checked: the fixed columns,
    FORMAT before samples, no empty or duplicate names."""
    cols = line.rstrip("\r\n").split("\t")
    if tuple(cols[:8]) != VCF_COLUMNS or (len(cols) > 8 and cols[8] != "FORMAT"):
        raise InputError(f"{path}:{n}: the #CHROM line must have the tab-separated columns "
                         f"{' '.join(VCF_COLUMNS)} FORMAT SAMPLE...; fix the header line")
    samples = cols[9:]
    seen: set[str] = set()
    for s in samples:
        if not s.strip():
            raise InputError(f"{path}:{n}: empty sample name in the #CHROM line (stray tab?); "
                             f"fix the header line")
        if s in seen:
            raise InputError(f"{path}:{n}: duplicate sample name {s!r} in the #CHROM line; "
                             f"sample names must be unique (rename with `bcftools reheader -s`)")
        seen.add(s)
    return samples
