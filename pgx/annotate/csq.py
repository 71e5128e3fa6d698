"""Consequence prediction compatible with ``bcftools csq`` (BCSQ), with HGVS names.

Design note
-----------
What is modelled: bcftools csq's rules, re-written (not copied) from its documentation, its
source and its test suite (``../shared/oracle/bcftools-csq``, the oracle of
``tests/test_annotate_csq.py``): the GFF3 reading and CDS phase trimming
(:mod:`pgx.annotate.gff`), the boundary rules for splice donor/acceptor/region, start/stop and
UTR (:mod:`~pgx.annotate.csq_splice`), the coding prediction by translating the changed codons
of the spliced CDS (:mod:`~pgx.annotate.csq_coding`, kernel in
:mod:`~pgx.annotate.csq_numba_fns`), the per-record merging and printing of consequences
(:mod:`~pgx.annotate.csq_record`), the record-level order of checks (CDS, UTR, splice,
transcript; :mod:`~pgx.annotate.csq_rules`) and the haplotype-aware combination of variants in
one codon or a frame (``@POS`` back references, FORMAT/BCSQ bitmask;
:mod:`~pgx.annotate.csq_haplo`). bcftools' quirks are kept where its output depends on them
(e.g. an intron consequence is not reported when another transcript's CDS is hit; a 2 bp
synonymous window check that looks at intronic bases 7-8), since BCSQ strings are compared
with bcftools' byte for byte.

Where the suite (bcftools 1.22 or later: it uses ``-C``) and Debian's bcftools 1.16 differ we
follow the suite:
``missense`` is dropped next to ``stop_gained``, ``NMD_transcript`` is appended for NMD
transcripts, start-codon SNVs print their amino-acid change, a deletion that an identical
downstream sequence replaces at the start codon is ``start_retained``, ``<DEL>`` gives
``feature_truncation`` and ``genetic_code`` (bcftools ``-C``) chooses the codon table.

Not done (yet): the text output (``-O t``); filtering (``-i/-e``: the driver filters records
before calling); ``--force`` (inconsistent CDS phases are an error here); other symbolic
alleles than ``<INS...>`` and ``<DEL>`` (the latter's rule is inferred from the one suite case:
``feature_truncation`` on each overlapping transcript); consequences beyond ``ncsq`` (15) per
haplotype are left out of FORMAT/BCSQ as bcftools does (counted in the result's warnings).
All ``--phase`` modes are there (``r`` is the default, as in bcftools: unphased heterozygous
genotypes are an error). ``compat_116=True`` reproduces Debian's bcftools 1.16 for the
differential tests (no NMD suffix, start-codon SNVs not translated, a substitution judged by
its first changed residue). Where bcftools reads stale or unset memory (a reused translation
buffer, a splice window clipped at the transcript end) the outcome of 1.16 is reproduced;
its use of a recycled record for ``@POS`` back references is not (pgx prints the right POS).

HGVS (:mod:`pgx.annotate.hgvs`) is pgx's own, not bcftools': ``c.``/``n.`` with 3'-shifted
indels and ``p.`` from translating the changed CDS; not yet: ``p.`` for changes spanning an
exon boundary (empty), the ``r.`` level, and predicted-protein parentheses.

API (stable; the ``pgx annotate`` command and ``pgx call`` build on it)
-------------------------------------------------------------------------
``ConsequenceCaller(models, fasta)`` with :class:`~pgx.annotate.gff.TranscriptModels` and a
:class:`~pgx.annotate.fasta.FastaReader`:

* ``consequences(chrom, pos, ref, alts)`` -> one list of :class:`Consequence` per ALT (local
  prediction, bcftools ``csq -l``); ``pos`` is the 1-based VCF POS;
* ``bcsq(chrom, pos, ref, alts)`` -> the INFO/BCSQ string of the record (``""`` if none);
* :func:`format_bcsq` joins consequences into a BCSQ string exactly as bcftools prints it;
* ``records(chrom, pos[], ref[], alts[])`` -> merged per-record results for many records
  (``.bcsq()`` each), the fast path the VCF driver uses; ``to_consequences(result, ...)`` turns
  one into the per-ALT lists of ``consequences``;
* ``haplotype_consequences(chrom, pos[], ref[], alts[], gt, phased, phase="r")`` ->
  :class:`~pgx.annotate.csq_haplo.HaploResult`: haplotype-aware BCSQ of a block of records
  with their genotypes (``.bcsq(i)``, ``.consequences(i)``), and the FORMAT/BCSQ bitmask
  (``.fmt``, bit ``2*k + haplotype`` = item ``k``); a block must hold every record of the
  transcripts it touches (:func:`~pgx.annotate.csq_haplo.block_ends` cuts a contig);
* :func:`pgx.annotate.csq_io.annotate_vcf` / ``annotate_vcfs`` run either mode over VCF
  files read with the columnar reader.

A REF that disagrees with the FASTA is an :class:`~pgx.errors.InputError` (exit 3) by default
(bcftools stops too, but checks only records in a CDS; pgx checks every record that meets a
transcript or its splice region; ``N`` in the FASTA matches any base);
``on_ref_mismatch="skip"`` predicts nothing for such records and lists them in
``caller.skipped`` as ``(chrom, pos, ref, reason)``. Errors name ``where`` (the driver passes
``FILE:LINE``) and the fix.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgx.annotate import csq_bits as B
from pgx.annotate.csq_coding import GeneticCode
from pgx.annotate.csq_record import Entry, RecordCsq
from pgx.annotate.csq_rules import Rules, is_symbolic
from pgx.annotate.csq_tx import PAD, TxContext
from pgx.errors import InputError


@dataclass
class Consequence:
    """One item of BCSQ: ``Consequence|gene|transcript|biotype|strand|aa_change|dna_change``.

    ``types``: SO-style terms as bcftools spells them (``missense``, ``splice_region``, ...,
    plus ``NMD_transcript``); ``transcript`` is empty for intron/non_coding items (bcftools
    merges those across transcripts); ``strand`` ``+``/``-``; ``aa_change`` like ``146M>146T``
    and ``dna_change`` like ``643T>C`` (1-based POS, several joined by ``+`` when combined).
    ``hgvs_c``/``hgvs_p``: HGVS of ``allele`` on ``hgvs_transcript`` (``c.681G>A``,
    ``p.Pro227=``; empty when not applicable). ``upstream``: for a back reference ``@POS``
    (haplotype mode) the POS of the record that carries the combined consequence;
    ``upstream_stop``: a stop codon earlier on the haplotype (printed as a ``*`` prefix).
    ``index``: position in the record's BCSQ (items shared by several ALTs print once).
    """

    types: list[str]
    gene: str = ""
    transcript: str = ""
    biotype: str = ""
    strand: str = ""
    aa_change: str = ""
    dna_change: str = ""
    hgvs_c: str = ""
    hgvs_p: str = ""
    hgvs_transcript: str = ""
    allele: int = 1
    upstream: int | None = None
    upstream_stop: bool = False
    index: int = -1
    text: str = field(default="", repr=False)

    @property
    def bcsq(self) -> str:
        """This item as bcftools prints it."""
        if self.text:
            return self.text
        if self.upstream is not None:
            return f"@{self.upstream}"
        out = ("*" if self.upstream_stop else "") + "&".join(self.types)
        out += f"|{self.gene}|{self.transcript}|{self.biotype}"
        if self.strand:
            out += f"|{self.strand}"
        if self.aa_change or self.dna_change:
            out += f"|{self.aa_change}|{self.dna_change}"
        return out


def format_bcsq(consequences) -> str:
    """The INFO/BCSQ value of a record's consequences (items joined by ``,``; an item shared by
    several ALTs, same ``index``, is printed once; ``""`` when there are none)."""
    seen: set[int] = set()
    items = []
    for c in consequences:
        if c.index >= 0:
            if c.index in seen:
                continue
            seen.add(c.index)
        items.append(c)
    if items and all(c.index >= 0 for c in items):
        items.sort(key=lambda c: c.index)
    return ",".join(c.bcsq for c in items)


def entry_to_consequence(e: Entry, index: int, allele: int) -> Consequence:
    bits = e.print_bits()
    text = e.bcsq()
    if bits & B.PRINTED_UPSTREAM and e.ref_pos is not None:
        return Consequence([], e.gene, "", e.biotype, "+" if e.strand > 0 else "-",
                           allele=allele, upstream=e.ref_pos, index=index, text=text)
    types = B.names(bits)
    if e.nmd and bits & ~(B.INTRON | B.NON_CODING):
        types.append("NMD_transcript")
    aa = dna = ""
    if e.vstr:
        _, aa, dna = e.vstr.split("|", 2)
    return Consequence(types, e.gene, e.transcript if bits & B.PRINT_TRANSCRIPT else "",
                       e.biotype, "+" if e.strand > 0 else "-", aa, dna, allele=allele,
                       upstream_stop=bool(bits & B.UPSTREAM_STOP), index=index, text=text,
                       hgvs_transcript=e.transcript)


class ConsequenceCaller:
    """Consequences of VCF records on the transcripts of ``models`` (see the module docstring).

    ``genetic_code``: 0 (standard code, ATG starts only; bcftools' default) or an NCBI table
    number (1, 2, 3, 4, 5, 11: alternative start codons count as ``start_retained``).
    ``brief``: abbreviate peptides longer than this many residues (bcftools ``-B``; 0 = off).
    ``hgvs``: compute ``hgvs_c``/``hgvs_p``. ``compat_116``: reproduce Debian's bcftools 1.16
    where it differs from the suite (no ``NMD_transcript``, start-codon substitutions not
    translated); for the differential tests.
    """

    def __init__(self, models, fasta, *, genetic_code: int = 0, brief: int = 0,
                 on_ref_mismatch: str = "error", hgvs: bool = True, compat_116: bool = False):
        if on_ref_mismatch not in ("error", "skip"):
            raise ValueError("on_ref_mismatch must be 'error' or 'skip'")
        self.models = models
        self.fasta = fasta
        self.code = GeneticCode(genetic_code)
        self.brief = int(brief)
        self.on_ref_mismatch = on_ref_mismatch
        self.want_hgvs = hgvs
        self.compat_116 = compat_116
        self.skipped: list[tuple[str, int, str, str]] = []
        self.stats: dict[str, int] = {"records": 0, "skipped_ref_mismatch": 0,
                                      "fmt_overflow": 0}
        self._tx: dict[int, TxContext] = {}
        self._contigs: dict = {}
        self._deep_cache: dict = {}
        self.use_kernels = True
        self.rules = Rules(self)
        self._check_contigs()

    def _check_contigs(self) -> None:
        """The models and the FASTA must share contigs (``chr`` naming is unified); a model
        contig missing from the FASTA is an error only when a record needs it."""
        missing = [c for c in self.models.contigs if not self.fasta.has(c)]
        self.missing_contigs = missing
        if missing and len(missing) == len(self.models.contigs):
            raise InputError(
                f"{self.models.path}: contig {missing[0]!r} of the transcript models is not in "
                f"the reference {self.fasta.path} (it has "
                f"{', '.join(list(self.fasta.lengths)[:6])}...), nor is any other; use the "
                f"FASTA of the same assembly as the GFF3")

    # ------------------------------------------------------------------ caches
    def tx(self, t: int) -> TxContext:
        ctx = self._tx.get(t)
        if ctx is None:
            ctx = self._tx[t] = TxContext(self.models, t, self.fasta.fetch)
            ctx.code = self.code
        return ctx

    def translate(self, tx, seq: str, seq_m: int, sbeg: int, rbeg: int, rend: int,
                  fill: bool) -> str:
        """Peptide of the codons ``seq`` touches (kernel
        :func:`~pgx.annotate.csq_numba_fns.translate_window`; see
        :func:`~pgx.annotate.csq_coding.translate` for the arguments)."""
        if not self.use_kernels:
            from pgx.annotate.csq_coding import translate

            return translate(self.code, tx.sref, seq, seq_m, sbeg, rbeg, rend, tx.strand > 0,
                             fill)
        from pgx.annotate.csq_numba_fns import translate_window

        out = translate_window(tx.sref_codes, np.frombuffer(seq.encode("ascii"), np.uint8),
                               seq_m, sbeg, rbeg, rend, tx.strand > 0, bool(fill),
                               self.code.codes, PAD)
        return out.tobytes().decode("ascii")

    def _contig(self, chrom: str):
        """(first transcript, kernel arrays) of ``chrom``'s transcripts, or None."""
        got = self._contigs.get(chrom, False)
        if got is False:
            m = self.models
            cid = m.chrom_id(chrom)
            got = None
            if cid >= 0 and cid in m._chrom_index:
                lo, hi, maxend = m._chrom_index[cid]
                got = (lo, np.ascontiguousarray(m.tr_beg[lo:hi]),
                       np.ascontiguousarray(m.tr_end[lo:hi]), np.ascontiguousarray(maxend),
                       np.ascontiguousarray(m.ex_ptr[lo:hi + 1]))
            self._contigs[chrom] = got
        return got

    def locate(self, chrom: str, beg: np.ndarray, end: np.ndarray):
        """Candidate transcripts ``lo..hi-1`` (global indices) and the class of each record
        (:func:`~pgx.annotate.csq_numba_fns.site_classes`): 0 none, 1 deep intronic, 2 near."""
        got = self._contig(chrom)
        n = len(beg)
        if got is None:
            z = np.zeros(n, np.int64)
            return z, z, np.zeros(n, np.int8)
        off, tb, te, tm, ep = got
        from pgx.annotate.csq_numba_fns import site_classes

        lo, hi, klass = site_classes(np.ascontiguousarray(beg, np.int64),
                                     np.ascontiguousarray(end, np.int64), tb, te, tm, ep,
                                     self.models.ex_beg, self.models.ex_end, 8)
        return lo + off, hi + off, klass

    # ------------------------------------------------------------------ checks
    def check_ref(self, chrom: str, pos: int, ref: str, txs, where: str = "") -> bool:
        """True if REF matches the FASTA at 0-based ``pos`` (``N`` in the FASTA, or bases past
        the contig end, match anything); else raise or record the skip (``on_ref_mismatch``)."""
        seq = None
        for tx in txs:
            if tx.beg - 10 <= pos and pos + len(ref) <= tx.end + 11:
                seq = tx.seq(pos, len(ref))
                break
        if seq is None:
            seq = self.fasta.fetch(chrom, pos, pos + len(ref)).ljust(len(ref), "N")
        if seq == ref or all(a == b or a == "N" for a, b in zip(seq, ref)):
            return True
        reason = (f"REF {ref} at {chrom}:{pos + 1} does not match the reference "
                  f"{self.fasta.path} ({seq})")
        if self.on_ref_mismatch == "error":
            at = f"{where}: " if where else ""
            raise InputError(f"{at}{reason}; the VCF was made against another reference: "
                             f"annotate with the FASTA it was called against, or fix REF with "
                             f"`bcftools norm -c s -f FASTA`")
        self.skipped.append((chrom, pos + 1, ref, reason))
        self.stats["skipped_ref_mismatch"] += 1
        return False

    # ------------------------------------------------------------------ local mode
    def prepare(self, rc: RecordCsq, chrom: str, pos: int, ref: str, alts, end, where: str,
                located=None):
        """Common start of a record: returns (pos0, REF, ALTs, candidates, class) or None when
        there is nothing to predict (no ALT, ``*``, symbolic: handled here, REF mismatch).
        ``located``: ``(lo, hi, class)`` from :meth:`locate` for the record, if known."""
        alts = [a for a in alts if a and a != "."]
        if not alts or not ref:
            return None
        if len(alts) == 1 and (alts[0][:1] == "*" or alts[0][1:2] == "*"):
            return None
        if not self.fasta.has(chrom):
            if self.models.chrom_id(chrom) < 0:
                return None
            raise self.fasta.missing(chrom, where)
        ref = ref.upper()
        alts = [a if a[:1] == "<" else a.upper() for a in alts]
        pos0 = pos - 1
        if alts[0][:1] == "<":
            if alts[0].startswith("<INS") or alts[0].startswith("<DEL"):
                self.rules.symbolic(rc, chrom, pos0, ref[0], alts[0],
                                    end if end is not None else pos + len(ref) - 1)
            return None
        e = pos0 + len(ref)
        if located is None:
            lo, hi, kl = self.locate(chrom, np.array([pos0]), np.array([e]))
            located = (int(lo[0]), int(hi[0]), int(kl[0]))
        lo, hi, klass = located
        if not klass:
            return None
        txs = self.rules.candidates_in(lo, hi, pos0, e)
        if not txs or not self.check_ref(chrom, pos0, ref, txs, where):
            return None
        return pos0, ref, alts, txs, klass

    def records(self, chrom: str, pos, ref, alts, ends=None, where: str = "",
                lines=None) -> list[RecordCsq]:
        """Local consequences of many records of one contig (1-based ``pos``); ``lines``: their
        file lines, for error messages. Records deep in introns (no exon within 8 bases) share
        their entry lists: do not modify the returned objects."""
        beg = np.asarray(pos, np.int64) - 1
        end = beg + np.array([len(r) for r in ref], np.int64)
        lo, hi, kl = self.locate(chrom, beg, end)
        deep = self.deep_records(chrom, beg, end, ref, alts, lo, hi, kl, where, lines)
        lo, hi, kl = lo.tolist(), hi.tolist(), kl.tolist()
        out = []
        for i in range(len(beg)):
            rc = deep[i]
            if rc is None:
                at = f"{where}:{lines[i]}" if lines is not None and lines[i] else where
                rc = self.record(chrom, int(beg[i]) + 1, ref[i], alts[i],
                                 ends[i] if ends is not None else None, at,
                                 (lo[i], hi[i], kl[i]))
            out.append(rc)
        return out

    def deep_records(self, chrom: str, beg, end, ref, alts, lo, hi, kl, where="",
                     lines=None) -> list:
        """The records of class "deep" (:meth:`locate`) done in bulk: each gets intron /
        non_coding entries of the transcripts containing it, shared between records with the
        same transcripts and alleles (REF is checked against the FASTA). Other records: None."""
        out: list = [None] * len(beg)
        idx = np.flatnonzero(kl == 1)
        if not len(idx) or not self.fasta.has(chrom):
            return out
        w0 = int(beg[idx].min())
        window = self.fasta.fetch(chrom, w0, int(end[idx].max()))
        tb, te, coding = self.models.tr_beg, self.models.tr_end, self.models.tr_coding
        cache = self._deep_cache
        for i in idx.tolist():
            r = ref[i].upper()
            al = alts[i]
            if not r or not al or any(a[:1] in ("<", "*", ".", "") for a in al):
                continue  # symbolic, '*', missing: the general path
            b, e = int(beg[i]), int(end[i])
            seq = window[b - w0:e - w0]
            if seq != r and not all(x == y or x == "N" for x, y in zip(seq, r)):
                continue  # the general path reports (or skips) the REF mismatch
            tids = tuple(t for t in range(int(lo[i]), int(hi[i])) if tb[t] < b and e < te[t])
            keep = tuple(k for k, a in enumerate(al, 1) if a.upper() != r)
            key = (tids, keep)
            tmpl = cache.get(key)
            if tmpl is None:
                tmpl = RecordCsq(0)
                for t in sorted(tids, key=lambda t: (tb[t], -te[t], t)):
                    tx = self.tx(t)
                    for k in keep:
                        tmpl.push(Entry(B.INTRON if coding[t] else B.NON_CODING, tx, 0,
                                        origin=k))
                tmpl.freeze(self.compat_116)
                cache[key] = tmpl
            rc = RecordCsq(b + 1)
            rc.entries = tmpl.entries
            rc.text = tmpl.text
            out[i] = rc
        self.stats["records"] += sum(x is not None for x in out)
        return out

    def record(self, chrom: str, pos: int, ref: str, alts, end: int | None = None,
               where: str = "", located=None) -> RecordCsq:
        """Local (per-record) consequences of the record at 1-based ``pos``, merged."""
        self.stats["records"] += 1
        rc = RecordCsq(pos)
        got = self.prepare(rc, chrom, pos, ref, alts, end, where, located)
        if got is None:
            return rc
        pos0, ref, alts, txs, klass = got
        rules = self.rules
        if klass == 1:
            rules.deep(rc, txs, pos0, ref, alts)
            return rc
        hit = rules.local_cds(rc, txs, pos0, ref, alts)
        hit = rules.utr(rc, txs, pos0, ref, alts) or hit
        hit = rules.splice(rc, txs, pos0, ref, alts) or hit
        if not hit:
            rules.tscript(rc, txs, pos0, ref, alts)
        return rc

    def bcsq(self, chrom: str, pos: int, ref: str, alts, end: int | None = None) -> str:
        """INFO/BCSQ of one record, local mode (bcftools ``csq -l``)."""
        return self.record(chrom, pos, ref, alts, end).bcsq(self.compat_116)

    def consequences(self, chrom: str, pos: int, ref: str, alts, end: int | None = None,
                     where: str = "") -> list[list[Consequence]]:
        """Local consequences per ALT (``alts`` in VCF order; ``pos`` 1-based)."""
        rc = self.record(chrom, pos, ref, alts, end, where)
        return self.to_consequences(rc, chrom, pos, ref, alts)

    def to_consequences(self, rc: RecordCsq, chrom: str, pos: int, ref: str,
                        alts) -> list[list[Consequence]]:
        """A record's merged result (from :meth:`record` / :meth:`records`) as one list of
        :class:`Consequence` per ALT, with HGVS when ``hgvs`` is on."""
        out: list[list[Consequence]] = [[] for _ in alts]
        for i, e in enumerate(rc.entries):
            for a in sorted(e.alleles) or [1]:
                if 1 <= a <= len(alts):
                    c = entry_to_consequence(e, i, a)
                    if self.want_hgvs:
                        self._add_hgvs(c, e, chrom, pos, ref.upper(), alts[a - 1].upper())
                    out[a - 1].append(c)
        return out

    def haplotype_consequences(self, chrom: str, pos, ref, alts, gt=None, phased=None, *,
                               phase: str = "r", ends=None, sample_names=None,
                               ncsq: int = 15, where: str = ""):
        """Haplotype-aware consequences of a block of records of one contig with their
        genotypes (see :func:`pgx.annotate.csq_haplo.haplotype_consequences`)."""
        from pgx.annotate.csq_haplo import haplotype_consequences

        return haplotype_consequences(self, chrom, pos, ref, alts, gt, phased, phase=phase,
                                      ends=ends, sample_names=sample_names, ncsq=ncsq,
                                      where=where)

    def _add_hgvs(self, c: Consequence, e: Entry, chrom, pos, ref, alt) -> None:
        if e.t < 0 or is_symbolic(alt) or c.upstream is not None:
            return
        from pgx.annotate.hgvs import hgvs_names

        c.hgvs_c, c.hgvs_p = hgvs_names(self.tx(e.t), pos - 1, ref, alt, self.code)
