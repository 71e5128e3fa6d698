"""The per-record rules of bcftools csq: CDS, UTR, splice, transcript and symbolic-allele checks.

:class:`Rules` runs them for one record in bcftools' order, staging entries on a
:class:`~pgx.annotate.csq_record.RecordCsq`:

1. CDS (:meth:`Rules.local_cds`, or the haplotype builder of :mod:`pgx.annotate.csq_haplo`):
   coding consequences; any coding CDS overlapping the record counts as a hit;
2. UTR (:meth:`Rules.utr`): 5'/3' UTR of each overlapping UTR feature;
3. exons (:meth:`Rules.splice`): splice donor/acceptor/region of coding transcripts' exons;
4. only when 1-3 found nothing, the transcript span (:meth:`Rules.tscript`): intron (coding
   transcript) or non_coding.

Overlap is tested against the record's REF span plus one base (``[pos, pos + len(REF)]``,
0-based closed) so that an insertion after the last base of a feature still meets it; exons are
indexed 8 bases wider on each side (splice region).

Symbolic alleles: ``<INS...>`` (an insertion after POS) gets feature_elongation with the
feature it falls in (coding_sequence / UTR / splice / intron / non_coding), ``<DEL>`` (with
INFO/END) feature_truncation for each transcript it overlaps; other symbolic alleles, ``*`` and
``<*>`` get nothing.
"""
from __future__ import annotations

from pgx.annotate import csq_bits as B
from pgx.annotate.csq_coding import (
    ROOT_NODE, SSS, aa_text, classify, hap_init, truncate_at_stop)
from pgx.annotate.csq_record import Entry, RecordCsq
from pgx.annotate.csq_splice import INSIDE, OVERLAP, Splice
from pgx.annotate.csq_tx import PAD

N_EXON_PAD = 8


def is_symbolic(alt: str) -> bool:
    return alt[:1] in ("<", "*")


class Rules:
    """Rule runner bound to a caller (transcript cache, genetic code, options)."""

    def __init__(self, caller):
        self.caller = caller
        self.models = caller.models

    # ------------------------------------------------------------------ staging helpers
    def stager(self, rc: RecordCsq, tx, ial: int, sink=None, origin: int | None = None):
        def stage(bits: int) -> None:
            if bits:
                e = Entry(bits, tx, ial, origin=origin)
                i, _ = rc.push(e)
                if sink is not None:
                    sink.append((i, e))
        return stage

    def utr_stager(self, rc: RecordCsq, tx, ial: int, sink=None):
        def stage_utr(a: int, b: int, extra: int) -> int:
            for ub, ue, prime in tx.utrs:
                if ub <= b and ue >= a:
                    bits = (B.UTR5 if prime == 5 else B.UTR3) | extra
                    e = Entry(bits, tx, ial)
                    i, _ = rc.push(e)
                    if sink is not None:
                        sink.append((i, e))
                    return bits
            return 0
        return stage_utr

    # ------------------------------------------------------------------ the record
    def candidates(self, chrom: str, beg: int, end: int) -> list:
        """Transcript contexts whose span (padded for splice regions) meets ``[beg, end]``."""
        ts = self.models.overlapping(chrom, beg, end, pad=N_EXON_PAD)
        return [self.caller.tx(int(t)) for t in ts]

    def candidates_in(self, lo: int, hi: int, beg: int, end: int) -> list:
        """As :meth:`candidates`, from a located range of transcripts ``lo..hi-1``."""
        te = self.models.tr_end
        return [self.caller.tx(t) for t in range(lo, hi) if te[t] + N_EXON_PAD >= beg]

    def deep(self, rc: RecordCsq, txs, pos: int, ref: str, alts, sink=None) -> None:
        """A record deep in introns/transcript bodies (no exon within 8 bases, clear of the
        transcript ends): intron or non_coding for each transcript that contains it."""
        end = pos + len(ref)
        for tx in sorted(txs, key=lambda x: (x.beg, -x.end, x.t)):
            if not (pos > tx.beg and end < tx.end):
                continue
            bits = B.INTRON if tx.coding else B.NON_CODING
            for ial, alt in enumerate(alts, 1):
                if is_symbolic(alt) or alt == ref:
                    continue
                e = Entry(bits, tx, 0, origin=ial)
                i, _ = rc.push(e)
                if sink is not None:
                    sink.append((i, e))

    def utr(self, rc: RecordCsq, txs, pos: int, ref: str, alts, sink=None) -> bool:
        end = pos + len(ref)
        rows = sorted(((ub, -ue, i, prime, tx) for i, tx in enumerate(txs)
                       for ub, ue, prime in tx.utrs if ub <= end and ue >= pos),
                      key=lambda r: r[:3])
        hit = False
        for ub, ue, _, prime, tx in rows:
            ue = -ue
            for ial, alt in enumerate(alts, 1):
                if is_symbolic(alt):
                    continue
                sp = Splice(tx, pos, ref, alt, _noop, _noop0)
                ret = sp.run(ub, ue)
                if ret != INSIDE and ret != OVERLAP:
                    continue
                e = Entry(B.UTR5 if prime == 5 else B.UTR3, tx, ial)
                i, _ = rc.push(e)
                if sink is not None:
                    sink.append((i, e))
                hit = True
        return hit

    def splice(self, rc: RecordCsq, txs, pos: int, ref: str, alts, sink=None) -> bool:
        end = pos + len(ref)
        rows = sorted(((eb - N_EXON_PAD, -(ee + N_EXON_PAD), i, eb, ee, tx)
                       for i, tx in enumerate(txs) if tx.cds for eb, ee in tx.exons
                       if eb - N_EXON_PAD <= end and ee + N_EXON_PAD >= pos),
                      key=lambda r: r[:3])
        hit = False
        if is_symbolic(alts[0]):  # bcftools tests the first ALT for every allele here
            return False
        for _, _, _, eb, ee, tx in rows:
            for ial, alt in enumerate(alts, 1):
                sp = Splice(tx, pos, ref, alt, self.stager(rc, tx, 0, sink, ial), _noop0)
                sp.check_acceptor = sp.check_donor = True
                sp.check_region_beg = tx.beg != eb
                sp.check_region_end = tx.end != ee
                sp.run(eb, ee)
                if sp.csq:
                    hit = True
        return hit

    def tscript(self, rc: RecordCsq, txs, pos: int, ref: str, alts, sink=None,
                extra: int = 0) -> None:
        end = pos + len(ref)
        for tx in sorted((tx for tx in txs if tx.beg <= end and tx.end >= pos),
                         key=lambda x: (x.beg, -x.end, x.t)):
            for ial, alt in enumerate(alts, 1):
                if is_symbolic(alt) and not extra:
                    continue
                stage = self.stager(rc, tx, 0, sink, ial) if extra else _noop
                sp = Splice(tx, pos, ref, alt, stage, _noop0, extra)
                ret = sp.run(tx.beg, tx.end)
                if ret != INSIDE and ret != OVERLAP:
                    continue
                bits = (B.INTRON if tx.coding else B.NON_CODING) | extra
                e = Entry(bits, tx, 0, origin=ial)
                i, _ = rc.push(e)
                if sink is not None:
                    sink.append((i, e))

    # ------------------------------------------------------------------ local coding
    def cds_rows(self, txs, pos: int, ref: str):
        """(beg, end, tx, icds) of coding CDS rows meeting ``[pos, pos + len(REF)]``."""
        end = pos + len(ref)
        return sorted(((b, b + n - 1, i, tx, k) for i, tx in enumerate(txs)
                       if tx.coding for k, (b, n, _) in enumerate(tx.cds)
                       if b <= end and b + n - 1 >= pos),
                      key=lambda r: (r[0], -r[1], r[2], r[4]))

    def local_cds(self, rc: RecordCsq, txs, pos: int, ref: str, alts, sink=None) -> bool:
        """Coding consequences of each allele alone (bcftools ``csq -l``)."""
        hit = False
        for _, _, _, tx, icds in self.cds_rows(txs, pos, ref):
            hit = True
            for ial, alt in enumerate(alts, 1):
                if is_symbolic(alt):
                    continue
                ret, node = hap_init(tx, ROOT_NODE, icds, pos, ref, alt, ial,
                                     self.stager(rc, tx, ial, sink),
                                     self.utr_stager(rc, tx, ial, sink),
                                     self.caller.compat_116)
                if ret != 0:
                    continue
                if node.kind == SSS:
                    e = Entry(node.csq, tx, ial)
                    i, _ = rc.push(e)
                    if sink is not None:
                        sink.append((i, e))
                    continue
                self._local_coding(rc, tx, node, pos, ial, sink)
        return hit

    def _local_coding(self, rc: RecordCsq, tx, node, pos: int, ial: int, sink) -> None:
        code = self.caller.code
        total = tx.cds_total
        fwd = tx.strand > 0
        sref = tx.sref
        seq = node.seq
        alen = len(seq)
        fill = bool(node.dlen % 3 and alen)
        tseq = self.caller.translate(tx, seq, total + node.dlen, node.sbeg, node.sbeg,
                                     node.sbeg + node.rlen, fill)
        tref = self.caller.translate(tx, sref[PAD + node.sbeg:PAD + node.sbeg + node.rlen],
                                     total, node.sbeg, node.sbeg, node.sbeg + node.rlen, fill)
        tref, _ = truncate_at_stop(tref)
        raw = tseq
        tseq, _ = truncate_at_stop(tseq)
        alt_start = None
        if node.csq & B.START_LOST and len(code.starts) > 1:
            alt_start = alt_first_codon(tx, node.sbeg, node.sbeg + node.rlen, seq)
        bits, _ = classify(node.csq, tref, tseq, node.dlen, alt_start, code.starts, raw,
                           self.caller.compat_116)
        if bits & B.COMPOUND:
            brief = self.caller.brief
            if fwd:
                aa_r = aa_s = node.sbeg // 3 + 1
            else:
                aa_r = (total - node.sbeg - node.rlen) // 3 + 1
                aa_s = (total + node.dlen - node.sbeg - alen) // 3 + 1
            text = f"|{aa_r}{aa_text(tref, aa_r, brief)}"
            if not bits & B.SYNONYMOUS:
                text += f">{aa_s}{aa_text(tseq, aa_s, brief)}"
            text += f"|{pos + 1}{node.var}"
            e = Entry(bits & B.COMPOUND, tx, ial, text)
            i, _ = rc.push(e)
            if sink is not None:
                sink.append((i, e))
        if bits & ~B.COMPOUND:
            e = Entry(bits & ~B.COMPOUND, tx, ial)
            i, _ = rc.push(e)
            if sink is not None:
                sink.append((i, e))

    # ------------------------------------------------------------------ symbolic alleles
    def symbolic(self, rc: RecordCsq, chrom: str, pos: int, ref: str, alt: str, end1: int,
                 sink=None) -> None:
        if alt.startswith("<DEL"):
            last = max(end1 - 1, pos)  # INFO/END: 1-based last deleted base
            for tx in self.candidates(chrom, pos + 1, last):
                if tx.beg <= last and tx.end >= pos + 1:
                    e = Entry(B.TRUNCATION, tx, 1)
                    i, _ = rc.push(e)
                    if sink is not None:
                        sink.append((i, e))
            return
        at = pos + 1  # the insertion point after POS
        txs = self.candidates(chrom, at, at)
        hit = False
        for tx in sorted(txs, key=lambda x: (x.beg, -x.end, x.t)):
            for b, n, _ in tx.cds:
                if n > 0 and b <= at <= b + n - 1:
                    bits = (B.CODING_SEQUENCE if tx.coding else B.NON_CODING) | B.ELONGATION
                    rc.push(Entry(bits, tx, 0, origin=1))
                    hit = True
        for tx in sorted(txs, key=lambda x: (x.beg, -x.end, x.t)):
            for ub, ue, prime in tx.utrs:
                if ub <= at <= ue:
                    rc.push(Entry((B.UTR5 if prime == 5 else B.UTR3) | B.ELONGATION, tx, 0,
                                   origin=1))
                    hit = True
        rows = sorted(((eb - N_EXON_PAD, -(ee + N_EXON_PAD), tx.t, eb, ee, tx) for tx in txs
                       if tx.cds for eb, ee in tx.exons
                       if eb - N_EXON_PAD <= at <= ee + N_EXON_PAD), key=lambda r: r[:3])
        for _, _, _, eb, ee, tx in rows:
            sp = Splice(tx, pos, ref, alt, self.stager(rc, tx, 0, sink, 1), _noop0,
                        B.ELONGATION)
            sp.check_acceptor = sp.check_donor = True
            sp.check_region_beg = tx.beg != eb
            sp.check_region_end = tx.end != ee
            sp.run(eb, ee)
            if sp.csq:
                hit = True
        if not hit:
            self.tscript(rc, txs, pos, ref, [alt], sink, extra=B.ELONGATION)


def alt_first_codon(tx, rbeg: int, rend: int, seq: str) -> str:
    """The first codon (coding orientation) of the CDS with ``[rbeg, rend)`` replaced by
    ``seq``."""
    s = tx.sref
    total = tx.cds_total
    if tx.strand > 0:
        return (s[PAD:PAD + rbeg] + seq + s[PAD + rend:PAD + total])[:3]
    tail = (s[PAD:PAD + rbeg] + seq + s[PAD + rend:PAD + total])[-3:]
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}
    return "".join(comp.get(c, "N") for c in reversed(tail))


def _noop(bits: int) -> None:
    return None


def _noop0(a: int, b: int, extra: int) -> int:
    return 0
