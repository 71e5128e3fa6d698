"""GFF3 transcript models in the Ensembl layout that ``bcftools csq`` reads, as columnar arrays.

Layout (as in Ensembl's GFF3 and ``../shared/data/grch38-pgx/pgx_mane_grch38.gff3``):

* gene lines: ``ID=gene:ENSG...`` (or column 3 ``gene``, or no ``Parent``), ``Name=`` is the
  gene name printed in BCSQ (the gene ID when absent);
* transcript lines: ``ID=transcript:ENST...;Parent=gene:ENSG...;biotype=...`` (any column 3,
  e.g. ``mRNA``/``transcript``); the biotype decides coding or not, and an unknown biotype
  (``TEC``, ``aberrant_processed_transcript`` ...) drops the transcript and its features, as
  bcftools does (counted in ``ignored_biotypes``);
* ``exon``, ``CDS`` (with phase 0/1/2), ``five_prime_UTR``, ``three_prime_UTR`` lines with
  ``Parent=transcript:ENST...``.

Coordinates: every ``*_beg``/``*_end`` array is **0-based and closed** (``beg`` = GFF start - 1,
``end`` = GFF end - 1), which is how the consequence rules are written. Transcripts are stored
sorted by (contig, beg, end); per-transcript features are in CSR form (``ex_ptr``,
``cds_ptr``, ``utr_ptr``; ``[ptr[t], ptr[t+1])`` are transcript ``t``'s rows, sorted by
``beg``).

CDS as bcftools uses them (:meth:`TranscriptModels.cds_rows`): the phase of the first coding
base is trimmed away (``TRIM_5PRIME``; the first CDS shrinks by its phase, from the 3' end on the
reverse strand), the phases must then agree with the spliced length (``phase == (3 - len % 3)
% 3``; else an error naming the transcript), and a CDS whose length is not a multiple of 3 is
trimmed at its 3' end (``TRIM_3PRIME``). ``cds_pos`` is the offset of each CDS in the spliced
coding sequence (genomic orientation).

Strictness: every malformed line is an :class:`~pgx.errors.InputError`
``"FILE:LINE: what; fix"``: fewer than 9 columns, bad coordinates, strand not ``+``/``-``, a
CDS without phase, a feature whose ``Parent`` is never defined, a transcript whose gene is
never defined, duplicate transcript IDs, features overlapping within a transcript, a feature
outside its transcript, a child on the other strand than its transcript, inconsistent CDS
phases.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgx.errors import InputError

TRIM_5PRIME = 1
TRIM_3PRIME = 2
N_SPLICE_REGION_INTRON = 8  # exons are indexed padded by this (splice_region reaches 8 bp in)

# Transcript biotypes bcftools recognises: (prefix of the GFF value, printed name, coding).
# Matching is by prefix in this order, as bcftools does ("IG_V_gene" -> IG_V).
_BIOTYPES = (
    ("protein_coding", "protein_coding", True), ("pseudogene", "pseudogene", False),
    ("processed_transcript", "processed_transcript", False),
    ("processed_pseudogene", "processed_pseudogene", False),
    ("polymorphic_pseudogene", "polymorphic_pseudogene", True),
    ("artifact", "artifact", False), ("antisense", "antisense", False),
    ("ambiguous_orf", "ambiguous_orf", False),
    ("IG_pseudogene", "IG_pseudogene", False), ("IG_C_pseudogene", "IG_C_pseudogene", False),
    ("IG_J_pseudogene", "IG_J_pseudogene", False), ("IG_V_pseudogene", "IG_V_pseudogene", False),
    ("IG_C", "IG_C", True), ("IG_D", "IG_D", True), ("IG_J", "IG_J", True), ("IG_V", "IG_V", True),
    ("IG_LV", "IG_LV", True),
    ("TR_V_pseudogene", "TR_V_pseudogene", False), ("TR_J_pseudogene", "TR_J_pseudogene", False),
    ("TR_C", "TR_C", True), ("TR_D", "TR_D", True), ("TR_J", "TR_J", True), ("TR_V", "TR_V", True),
    ("Mt_tRNA_pseudogene", "MT_tRNA_pseudogene", False),
    ("~mt_trna", "MT_tRNA", False), ("~mt_rrna", "MT_rRNA", False),
    ("~mrna", "protein_coding", True),
    ("lincRNA", "lincRNA", False), ("lncRNA", "lncRNA", False),
    ("macro_lncRNA", "macro_lncRNA", False),
    ("misc_RNA_pseudogene", "misc_RNA_pseudogene", False),
    ("miRNA_pseudogene", "miRNA_pseudogene", False), ("miRNA", "miRNA", False),
    ("misc_RNA", "misc_RNA", False),
    ("rRNA", "rRNA", False), ("ribozyme", "ribozyme", False),
    ("retained_intron", "retained_intron", False), ("retrotransposed", "retrotransposed", False),
    ("snRNA", "snRNA", False), ("sRNA", "sRNA", False), ("scRNA", "scRNA", False),
    ("scaRNA", "scaRNA", False), ("snoRNA", "snoRNA", False),
    ("sense_intronic", "sense_intronic", False), ("sense_overlapping", "sense_overlapping", False),
    ("tRNA_pseudogene", "Trna_pseudogene", False),
    ("transcribed_processed_pseudogene", "transcribed_processed_pseudogene", False),
    ("transcribed_unprocessed_pseudogene", "transcribed_unprocessed_pseudogene", False),
    ("transcribed_unitary_pseudogene", "transcribed_unitary_pseudogene", False),
    ("translated_unprocessed_pseudogene", "translated_unprocessed_pseudogene", False),
    ("translated_processed_pseudogene", "translated_processed_pseudogene", False),
    ("nonsense_mediated_decay", "NMD", True), ("non_stop_decay", "non_stop_decay", True),
    ("NMD", "NMD", True), ("known_ncrna", "known_ncRNA", False),
    ("unitary_pseudogene", "unitary_pseudogene", False),
    ("unprocessed_pseudogene", "unprocessed_pseudogene", False),
    ("LRG_gene", "LRG_gene", False),
    ("~3prime_overlapping_ncrna", "3_prime_overlapping_ncRNA", False),
    ("~3_prime_overlapping_ncrna", "3_prime_overlapping_ncRNA", False),
    ("disrupted_domain", "disrupted_domain", False), ("vaultRNA", "vaultRNA", False),
    ("bidirectional_promoter_lncRNA", "bidirectional_promoter_lncRNA", False),
)
_FEATURES = {"exon": "exon", "CDS": "cds", "five_prime_UTR": "utr5", "three_prime_UTR": "utr3"}


def parse_biotype(value: str | None) -> tuple[str, bool] | None:
    """(printed biotype, coding) for a GFF biotype value, or None when bcftools ignores it.
    A ``~`` prefix in the table marks a case-insensitive match."""
    if not value:
        return None
    low = value.lower()
    for prefix, name, coding in _BIOTYPES:
        if prefix[0] == "~":
            if low.startswith(prefix[1:]):
                return name, coding
        elif value.startswith(prefix):
            return name, coding
    return None


@dataclass
class TranscriptModels:
    """Transcript models as arrays (see the module docstring for conventions)."""

    path: str
    contigs: list[str]
    tr_id: list[str]
    gene_id: list[str]
    gene_name: list[str]
    biotype: list[str]
    tr_chrom: np.ndarray  # int32 [T] index into contigs
    tr_beg: np.ndarray  # int64 [T] 0-based first base
    tr_end: np.ndarray  # int64 [T] 0-based last base
    tr_strand: np.ndarray  # int8 [T] +1 / -1
    tr_coding: np.ndarray  # bool [T] coding biotype
    tr_trim: np.ndarray  # uint8 [T] TRIM_5PRIME | TRIM_3PRIME
    ex_ptr: np.ndarray
    ex_beg: np.ndarray
    ex_end: np.ndarray
    cds_ptr: np.ndarray
    cds_beg: np.ndarray  # after phase trimming
    cds_len: np.ndarray  # after trimming (may be 0 for a CDS trimmed away)
    cds_pos: np.ndarray  # offset in the spliced CDS
    cds_phase: np.ndarray  # as written in the GFF
    utr_ptr: np.ndarray
    utr_beg: np.ndarray
    utr_end: np.ndarray
    utr_prime: np.ndarray  # int8: 5 or 3
    ignored_biotypes: dict[str, int] = field(default_factory=dict)
    _by_chrom: dict = field(default_factory=dict, repr=False)

    @property
    def n_transcripts(self) -> int:
        return len(self.tr_id)

    def chrom_id(self, chrom: str) -> int:
        """Index of ``chrom`` in ``contigs`` (exact, then with/without ``chr``), or -1."""
        from pgx.annotate.fasta import contig_aliases

        for name in contig_aliases(chrom):
            if name in self._by_chrom:
                return self._by_chrom[name][0]
        return -1

    def overlapping(self, chrom: str | int, beg: int, end: int, pad: int = 0) -> np.ndarray:
        """Transcripts whose closed span ``[tr_beg - pad, tr_end + pad]`` overlaps the closed
        interval ``[beg, end]`` (0-based), in stored order."""
        cid = chrom if isinstance(chrom, (int, np.integer)) else self.chrom_id(chrom)
        if cid < 0:
            return np.zeros(0, np.int64)
        lo, hi, maxend = self._chrom_index[cid]
        # transcripts lo..hi-1 are this contig's, sorted by beg; maxend is the running max end
        stop = lo + int(np.searchsorted(self.tr_beg[lo:hi], end + pad, side="right"))
        first = lo + int(np.searchsorted(maxend, beg - pad, side="left"))
        if first >= stop:
            return np.zeros(0, np.int64)
        idx = np.arange(first, stop)
        return idx[self.tr_end[first:stop] + pad >= beg]

    def cds_rows(self, t: int) -> range:
        return range(int(self.cds_ptr[t]), int(self.cds_ptr[t + 1]))

    def exon_rows(self, t: int) -> range:
        return range(int(self.ex_ptr[t]), int(self.ex_ptr[t + 1]))

    def utr_rows(self, t: int) -> range:
        return range(int(self.utr_ptr[t]), int(self.utr_ptr[t + 1]))

    def cds_length(self, t: int) -> int:
        return int(self.cds_len[self.cds_ptr[t]:self.cds_ptr[t + 1]].sum())

    def find(self, transcript_id: str) -> int:
        """Index of a transcript by ID (with or without a version suffix), or -1."""
        if not hasattr(self, "_ids"):
            self._ids = {}
            for i, tid in enumerate(self.tr_id):
                self._ids[tid] = i
                self._ids.setdefault(tid.split(".")[0], i)
        return self._ids.get(transcript_id, self._ids.get(transcript_id.split(".")[0], -1))

    def _index(self) -> None:
        self._chrom_index = {}
        self._by_chrom = {}
        for cid, name in enumerate(self.contigs):
            rows = np.flatnonzero(self.tr_chrom == cid)
            if not len(rows):
                continue
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            self._chrom_index[cid] = (lo, hi, np.maximum.accumulate(self.tr_end[lo:hi]))
            self._by_chrom[name] = (cid,)


# ----------------------------------------------------------------------------- parsing
@dataclass
class _Tr:
    id: str
    gene: str
    chrom: str
    beg: int
    end: int
    strand: int
    biotype: str
    coding: bool
    line: int
    ex: list = field(default_factory=list)  # (beg, end, line)
    cds: list = field(default_factory=list)  # (beg, end, phase, line)
    utr: list = field(default_factory=list)  # (beg, end, prime, line)


def _attrs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.strip().split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out.setdefault(k.strip(), v.strip())
    return out


def _strip_prefix(value: str, prefix: str) -> str:
    return value[len(prefix):] if value.startswith(prefix) else value


def _open(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_gff(path: str | os.PathLike) -> TranscriptModels:
    """Parse an Ensembl-layout GFF3 (plain or gzipped) into :class:`TranscriptModels`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such GFF3 file; check the path")
    genes: dict[str, tuple[str, int]] = {}  # gene id -> (name, line)
    trs: dict[str, _Tr] = {}
    ignored: dict[str, int] = {}
    ignored_ids: set[str] = set()
    pending: list[tuple[str, str, int, int, int, str | None, int, str]] = []
    where = str(path)
    try:
        fh = _open(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc}); check the file") from None
    with fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not line or line[0] == "#":
                if line.startswith("##FASTA"):
                    break
                continue
            cols = line.split("\t")
            if len(cols) < 9:
                raise InputError(f"{where}:{n}: {len(cols)} tab-separated columns, GFF3 needs 9; "
                                 f"fix the line (columns must be separated by tabs)")
            ftype = cols[2]
            if ftype == "biological_region":
                continue
            try:
                beg, end = int(cols[3]) - 1, int(cols[4]) - 1
            except ValueError:
                raise InputError(f"{where}:{n}: start/end {cols[3]!r}/{cols[4]!r} are not "
                                 f"integers; fix columns 4-5") from None
            at = _attrs(cols[8])
            fid = at.get("ID")
            parent = at.get("Parent")
            is_gene = ftype == "gene" or (fid or "").startswith("gene:") or not parent
            feature = _FEATURES.get(ftype)
            if end < beg or (beg < 0 and not is_gene):
                # gene spans are not used (cut-out test regions have genes starting before 1)
                raise InputError(f"{where}:{n}: start {cols[3]} > end {cols[4]} (or < 1); GFF3 "
                                 f"coordinates are 1-based with start <= end")
            if feature is not None and parent:
                strand = {"+": 1, "-": -1}.get(cols[6])
                if strand is None:
                    raise InputError(f"{where}:{n}: {ftype} with strand {cols[6]!r}; a transcript "
                                     f"feature needs strand + or -")
                phase = None
                if feature == "cds":
                    if cols[7] not in ("0", "1", "2"):
                        raise InputError(f"{where}:{n}: CDS without phase (column 8 is "
                                         f"{cols[7]!r}); give its phase 0, 1 or 2 (bases to skip "
                                         f"to the first full codon)")
                    phase = int(cols[7])
                for p in parent.split(","):
                    pending.append((feature, _strip_prefix(p, "transcript:"), beg, end, strand,
                                    phase, n, cols[0]))
                continue
            if is_gene:
                if fid is None:
                    continue  # e.g. a chromosome/region line without ID
                gid = _strip_prefix(fid, "gene:")
                if gid in genes:
                    raise InputError(f"{where}:{n}: gene ID {gid} defined twice (first at line "
                                     f"{genes[gid][1]}); gene IDs must be unique")
                genes[gid] = (at.get("Name") or gid, n)
                continue
            # a transcript line
            bt = parse_biotype(at.get("biotype") or at.get("gene_biotype")) or parse_biotype(ftype)
            if fid is None:
                raise InputError(f"{where}:{n}: transcript line without ID=; give it "
                                 f"ID=transcript:<id>")
            tid = _strip_prefix(fid, "transcript:")
            if bt is None:
                key = at.get("biotype") or ftype
                ignored[key] = ignored.get(key, 0) + 1
                ignored_ids.add(tid)
                continue
            if tid in trs:
                raise InputError(f"{where}:{n}: transcript ID {tid} defined twice (first at line "
                                 f"{trs[tid].line}); transcript IDs must be unique")
            strand = {"+": 1, "-": -1}.get(cols[6])
            if strand is None:
                raise InputError(f"{where}:{n}: transcript {tid} with strand {cols[6]!r}; give "
                                 f"strand + or -")
            trs[tid] = _Tr(tid, _strip_prefix(parent, "gene:"), cols[0], beg, end, strand,
                           bt[0], bt[1], n)
    for tr in trs.values():
        if tr.gene not in genes:
            raise InputError(f"{where}:{tr.line}: transcript {tr.id} has Parent=gene:{tr.gene}, "
                             f"which no line of the file defines; add the gene line or fix the "
                             f"Parent")
    for feature, tid, beg, end, strand, phase, n, chrom in pending:
        tr = trs.get(tid)
        if tr is None:
            if tid in ignored_ids:
                continue
            raise InputError(f"{where}:{n}: {feature.upper() if feature == 'cds' else feature} "
                             f"has Parent=transcript:{tid}, which no line of the file defines; "
                             f"add the transcript line or fix the Parent")
        if chrom != tr.chrom:
            raise InputError(f"{where}:{n}: feature on {chrom} but its transcript {tid} (line "
                             f"{tr.line}) is on {tr.chrom}; fix column 1")
        if strand != tr.strand:
            raise InputError(f"{where}:{n}: feature on strand {'+' if strand > 0 else '-'} but "
                             f"its transcript {tid} (line {tr.line}) is on the other strand; fix "
                             f"column 7")
        if beg < tr.beg or end > tr.end:
            raise InputError(f"{where}:{n}: feature {beg + 1}-{end + 1} lies outside its "
                             f"transcript {tid} ({tr.beg + 1}-{tr.end + 1}, line {tr.line}); fix "
                             f"the coordinates")
        if feature == "exon":
            tr.ex.append((beg, end, n))
        elif feature == "cds":
            tr.cds.append((beg, end, phase, n))
        else:
            tr.utr.append((beg, end, 5 if feature == "utr5" else 3, n))
    return _build(path, genes, trs, ignored)


def _check_disjoint(where: str, tr: _Tr, rows: list, what: str) -> None:
    rows.sort()
    for a, b in zip(rows, rows[1:]):
        if b[0] <= a[1]:
            raise InputError(f"{where}:{b[-1]}: {what} {b[0] + 1}-{b[1] + 1} overlaps {what} "
                             f"{a[0] + 1}-{a[1] + 1} (line {a[-1]}) of transcript {tr.id}; "
                             f"features of one transcript must not overlap")


def _trim_cds(where: str, tr: _Tr) -> tuple[list[list[int]], int]:
    """bcftools' CDS preparation: [[beg, len, phase_as_read, line], ...] sorted, and trim bits."""
    cds = [[b, e - b + 1, p, n] for b, e, p, n in sorted(tr.cds)]
    phases = [c[2] for c in cds]
    trim = 0
    if tr.strand > 0:
        first = cds[0]
        if first[2] > first[1]:
            raise InputError(f"{where}:{first[3]}: CDS {first[0] + 1}-{first[0] + first[1]} of "
                             f"transcript {tr.id} is shorter than its phase {first[2]}; fix the "
                             f"phase column")
        if first[2]:
            trim |= TRIM_5PRIME
            first[0] += first[2]
            first[1] -= first[2]
        phases[0] = 0
        order = range(len(cds))
    else:
        # the 5' end is the last CDS: trim its phase from the high end (bcftools carries a
        # phase longer than the CDS over to the next ones, zeroing them)
        i = len(cds) - 1
        phase = cds[i][2]
        if phase:
            trim |= TRIM_5PRIME
        while i >= 0 and phase > cds[i][1]:
            phase -= cds[i][1]
            cds[i][1] = 0
            phases[i] = 0
            i -= 1
        if i >= 0:
            cds[i][1] -= cds[i][2]
            phases[i] = 0
        order = range(len(cds) - 1, -1, -1)
    total = 0
    for i in order:
        expected = (3 - phases[i]) % 3
        if expected != total % 3:
            c = cds[i]
            raise InputError(f"{where}:{c[3]}: CDS {c[0] + 1} of transcript {tr.id} has phase "
                             f"{c[2]} but the coding bases before it leave {total % 3} of a codon "
                             f"(phase should be {(3 - total % 3) % 3}); fix the phase column")
        total += cds[i][1]
    rem = total % 3
    if rem:
        trim |= TRIM_3PRIME
        rows = reversed(cds) if tr.strand > 0 else iter(cds)
        for c in rows:
            if not rem:
                break
            d = min(c[1], rem)
            c[1] -= d
            if tr.strand < 0:
                c[0] += d
            rem -= d
    return cds, trim


def _build(path: Path, genes: dict, trs: dict, ignored: dict) -> TranscriptModels:
    where = str(path)
    contigs: list[str] = []
    cidx: dict[str, int] = {}
    for tr in trs.values():
        if tr.chrom not in cidx:
            cidx[tr.chrom] = len(contigs)
            contigs.append(tr.chrom)
    order = sorted(trs.values(), key=lambda t: (cidx[t.chrom], t.beg, t.end, t.line))
    T = len(order)
    ex_ptr, cds_ptr, utr_ptr = [0], [0], [0]
    ex_b, ex_e, cb, cl, cp, cph, ub, ue, up = [], [], [], [], [], [], [], [], []
    trim = np.zeros(T, np.uint8)
    for t, tr in enumerate(order):
        _check_disjoint(where, tr, tr.ex, "exon")
        _check_disjoint(where, tr, [(b, e, n) for b, e, _, n in tr.cds], "CDS")
        _check_disjoint(where, tr, [(b, e, n) for b, e, _, n in tr.utr], "UTR")
        for b, e, _ in sorted(tr.ex):
            ex_b.append(b)
            ex_e.append(e)
        ex_ptr.append(len(ex_b))
        if tr.cds:
            rows, trim[t] = _trim_cds(where, tr)
            pos = 0
            for b, length, phase, _ in rows:
                cb.append(b)
                cl.append(length)
                cp.append(pos)
                cph.append(phase)
                pos += length
        cds_ptr.append(len(cb))
        for b, e, prime, _ in sorted(tr.utr):
            ub.append(b)
            ue.append(e)
            up.append(prime)
        utr_ptr.append(len(ub))
    i64 = lambda x: np.asarray(x, np.int64)  # noqa: E731
    models = TranscriptModels(
        path=where, contigs=contigs, tr_id=[t.id for t in order],
        gene_id=[t.gene for t in order], gene_name=[genes[t.gene][0] for t in order],
        biotype=[t.biotype for t in order],
        tr_chrom=np.array([cidx[t.chrom] for t in order], np.int32),
        tr_beg=i64([t.beg for t in order]), tr_end=i64([t.end for t in order]),
        tr_strand=np.array([t.strand for t in order], np.int8),
        tr_coding=np.array([t.coding for t in order], bool), tr_trim=trim,
        ex_ptr=i64(ex_ptr), ex_beg=i64(ex_b), ex_end=i64(ex_e),
        cds_ptr=i64(cds_ptr), cds_beg=i64(cb), cds_len=i64(cl), cds_pos=i64(cp),
        cds_phase=np.array(cph, np.int8), utr_ptr=i64(utr_ptr), utr_beg=i64(ub),
        utr_end=i64(ue), utr_prime=np.array(up, np.int8), ignored_biotypes=ignored)
    if T == 0:
        raise InputError(f"{where}: no usable transcripts (need ID=transcript:...;Parent=gene:..."
                         f";biotype=... lines); is this an Ensembl-layout GFF3?")
    models._index()
    return models
