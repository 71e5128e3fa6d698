"""The columnar array model of VCF records: one :class:`VariantChunk` per block of records.

Every per-record array has the records along axis 0 (``V`` records, ``S`` samples, ``P`` the
largest ploidy in the chunk, ``W`` the largest number of values of a tag in the chunk).

Coordinates: ``pos`` is the 1-based VCF ``POS``; ``rlen`` is the length of REF in bases, so a
record covers the 0-based half-open interval ``[pos - 1, pos - 1 + rlen)``.

Missing values: ``qual`` and numeric INFO/FORMAT values are ``NaN`` where the VCF has ``.``
and past the end of a shorter vector; ``length`` tells the two apart (number of values written
in the record, ``.`` entries included; 0 when the tag is absent). Genotype alleles are ``-1``
(:data:`GT_MISSING`) for ``.`` and ``-2`` (:data:`GT_END`) for "no such copy" (the second slot
of a haploid call). A Flag is ``1.0`` when present and ``0.0`` when absent.

Variant types (``variant_type``) are the OR over the ALT alleles of htslib's classes
(``bcf_get_variant_types``): :data:`VT_REF` (0, no ALT), :data:`VT_SNP`, :data:`VT_MNP`,
:data:`VT_INDEL`, :data:`VT_OTHER` (symbolic), :data:`VT_BND` (breakend),
:data:`VT_OVERLAP` (``*``).

Text VCF chunks keep the records' text (``buffer``, ``line_start``/``line_end`` and the column
offsets ``col_start``) so that filtered records are written byte for byte; chunks read from BCF
have an empty buffer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgx.io.vcf_header import FieldDef, VcfHeader

GT_MISSING = -1
GT_END = -2

VT_REF = 0
VT_SNP = 1
VT_MNP = 2
VT_INDEL = 4
VT_OTHER = 8
VT_BND = 16
VT_OVERLAP = 32

N_FIXED_COLUMNS = 9  # CHROM POS ID REF ALT QUAL FILTER INFO FORMAT; col_start[:, 9] = 1st sample
COL_CHROM, COL_POS, COL_ID, COL_REF, COL_ALT, COL_QUAL, COL_FILTER, COL_INFO, COL_FORMAT = range(9)
COL_SAMPLES = 9


@dataclass(frozen=True)
class FieldRequest:
    """Which INFO and FORMAT tags to decode (numeric or Flag), and whether to decode GT."""

    info: tuple[str, ...] = ()
    format: tuple[str, ...] = ()
    gt: bool = True


@dataclass
class NumericField:
    """Values of one numeric/Flag tag: INFO ``values`` [V, W], FORMAT ``values`` [V, S, W]
    (float64; NaN = missing or past the vector's end) and ``length`` [V] or [V, S] (int32)."""

    definition: FieldDef
    values: np.ndarray
    length: np.ndarray


@dataclass
class VariantChunk:
    """A block of consecutive VCF records as columnar arrays (see the module docstring)."""

    header: VcfHeader
    contigs: list[str]  # names for ``chrom`` ids: the header's contigs, then undeclared ones
    chrom: np.ndarray  # int32 [V], index into ``contigs``
    pos: np.ndarray  # int64 [V], 1-based POS
    rlen: np.ndarray  # int32 [V], length of REF
    qual: np.ndarray  # float32 [V], NaN = '.'
    n_allele: np.ndarray  # int16 [V], REF + ALTs (ALT '.' counts 0)
    variant_type: np.ndarray  # uint8 [V], OR of VT_* over the ALT alleles
    filters: np.ndarray  # bool [V, len(header.filters)]; all False when FILTER is '.'
    info: dict[str, NumericField] = field(default_factory=dict)
    fmt: dict[str, NumericField] = field(default_factory=dict)
    gt: np.ndarray | None = None  # int8 [V, S, P]; -1 missing allele, -2 no such copy
    phased: np.ndarray | None = None  # bool [V, S]; True when every separator is '|'
    has_gt: np.ndarray | None = None  # bool [V]; the record's FORMAT has GT
    first_line: int = 0  # 1-based file line of record 0 (text VCF); 0 when unknown (BCF)
    first_record: int = 0  # 0-based ordinal of record 0 among the file's records
    buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))  # uint8 text
    line_start: np.ndarray | None = None  # int64 [V] offset of the line in ``buffer``
    line_end: np.ndarray | None = None  # int64 [V] end (exclusive, without '\r\n')
    col_start: np.ndarray | None = None  # int64 [V, 10] column offsets; -1 = no such column

    @property
    def n_records(self) -> int:
        return int(self.pos.shape[0])

    @property
    def n_samples(self) -> int:
        return len(self.header.samples)

    def line_number(self, i: int) -> int:
        """1-based line number of record ``i`` in its file (text VCF), 0 if unknown."""
        return self.first_line + i if self.first_line else 0

    def column_text(self, i: int, col: int) -> str:
        """Text of column ``col`` (COL_*) of record ``i``: a slow accessor for a few records."""
        if self.col_start is None:
            raise ValueError("this chunk keeps no record text (read from BCF)")
        start = int(self.col_start[i, col])
        if start < 0:
            return ""
        nxt = [int(x) for x in self.col_start[i, col + 1:] if x >= 0]
        end = (nxt[0] - 1) if nxt else int(self.line_end[i])
        return bytes(self.buffer[start:end]).decode("utf-8", errors="replace")

    def line_text(self, i: int) -> str:
        if self.line_start is None:
            raise ValueError("this chunk keeps no record text (read from BCF)")
        return bytes(self.buffer[self.line_start[i]:self.line_end[i]]).decode(
            "utf-8", errors="replace")
