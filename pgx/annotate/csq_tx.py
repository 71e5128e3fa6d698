"""Per-transcript cache for consequence calling: reference sequence, spliced CDS, features.

:class:`TxContext` is built once per transcript (lazily, on the first record that touches it) and
kept by :class:`~pgx.annotate.csq.ConsequenceCaller`:

* ``ref``: the genomic sequence ``[beg - PAD, end + PAD]`` (0-based, closed; ``PAD`` = 10
  bases, ``N`` past the contig ends), read with :meth:`base`/:meth:`seq` by genomic position;
* ``sref``: the spliced CDS in genomic orientation with ``PAD`` bases on each side, laid out as
  bcftools csq does (left: the 10 genomic bases before the first CDS; right: the first 10 bases
  of the last CDS — only read when a changed codon runs past the CDS end);
* ``cds``: rows ``(beg, len, pos)`` after bcftools' phase trimming (0-based; ``pos`` = offset
  in the spliced CDS); ``exons`` and ``utrs`` ``(beg, end[, prime])`` closed intervals.
"""
from __future__ import annotations

import numpy as np

from pgx.annotate.gff import TRIM_3PRIME, TRIM_5PRIME, TranscriptModels

PAD = 10


class TxContext:
    __slots__ = ("t", "models", "chrom", "beg", "end", "strand", "coding", "trim", "id",
                 "gene", "biotype", "nmd", "exons", "cds", "utrs", "ref", "_sref", "cds_total",
                 "_codes", "_protein", "_cdna", "code")

    def __init__(self, models: TranscriptModels, t: int, fetch):
        self.t = t
        self.models = models
        self.chrom = models.contigs[models.tr_chrom[t]]
        self.beg = int(models.tr_beg[t])
        self.end = int(models.tr_end[t])
        self.strand = int(models.tr_strand[t])
        self.coding = bool(models.tr_coding[t])
        self.trim = int(models.tr_trim[t])
        self.id = models.tr_id[t]
        self.gene = models.gene_name[t]
        self.biotype = models.biotype[t]
        self.nmd = self.biotype == "NMD"
        self.exons = [(int(models.ex_beg[i]), int(models.ex_end[i])) for i in models.exon_rows(t)]
        self.cds = [(int(models.cds_beg[i]), int(models.cds_len[i]), int(models.cds_pos[i]))
                    for i in models.cds_rows(t)]
        self.utrs = [(int(models.utr_beg[i]), int(models.utr_end[i]), int(models.utr_prime[i]))
                     for i in models.utr_rows(t)]
        self.cds_total = sum(c[1] for c in self.cds)
        lo = self.beg - PAD
        seq = fetch(self.chrom, max(lo, 0), self.end + PAD + 1)
        left = "N" * (max(lo, 0) - lo)
        need = self.end - self.beg + 1 + 2 * PAD
        self.ref = (left + seq).ljust(need, "N")
        self._sref = None
        self._codes = None
        self._protein = None
        self._cdna = None

    # -- genomic sequence
    def base(self, p: int) -> str:
        i = p - self.beg + PAD
        return self.ref[i] if 0 <= i < len(self.ref) else ""

    def seq(self, p: int, n: int) -> str:
        """``n`` bases from genomic position ``p`` (fewer past the cached window)."""
        if n <= 0:
            return ""
        i = p - self.beg + PAD
        if i < 0:
            return self.ref[0:max(0, i + n)]
        return self.ref[i:i + n]

    @property
    def trim5(self) -> bool:
        return bool(self.trim & TRIM_5PRIME)

    @property
    def trim3(self) -> bool:
        return bool(self.trim & TRIM_3PRIME)

    @property
    def sref(self) -> str:
        """Spliced CDS with bcftools' padding (see the module docstring)."""
        if self._sref is None:
            c0, cl = self.cds[0], self.cds[-1]
            parts = [self.ref[c0[0] - self.beg:c0[0] - self.beg + PAD]]
            for b, n, _ in self.cds:
                parts.append(self.seq(b, n))
            parts.append(self.seq(cl[0], PAD).ljust(PAD, "N"))
            self._sref = "".join(parts)
        return self._sref

    @property
    def sref_codes(self) -> np.ndarray:
        """``sref`` as uint8 ASCII codes (for the translation kernel)."""
        if self._codes is None:
            self._codes = np.frombuffer(self.sref.encode("ascii"), np.uint8).copy()
        return self._codes

    def cds_index(self, p: int) -> int:
        """Row of the CDS containing genomic position ``p``, or -1."""
        for i, (b, n, _) in enumerate(self.cds):
            if b <= p < b + n:
                return i
        return -1
