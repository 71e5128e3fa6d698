"""How one variant allele meets one feature interval: splice sites, start/stop codons, overlap.

This is the rule set behind bcftools csq's splice/UTR/exon/transcript checks, written for one
allele against one closed, 0-based interval ``[ex_beg, ex_end]`` (a CDS, UTR, exon or whole
transcript). :meth:`Splice.run` trims the alleles (right first, then left), decides which side
of the interval the change lies on and sets bits:

* ``SPLICE_DONOR`` / ``SPLICE_ACCEPTOR``: the change reaches the 2 intronic bases next to the
  interval (donor at the 3' side of an exon in transcript orientation, acceptor at the 5'
  side), ``SPLICE_REGION``: 3-8 intronic bases or the 3 (2 for insertions) exonic bases at an
  internal exon boundary; ``START_LOST`` / ``STOP_LOST`` when the first/last coding exon's
  terminal codon is touched (confirmed or dropped later by translation);
* with ``set_refalt`` (coding checks) the 8 intronic bases next to the boundary are rebuilt on
  the alternative haplotype and an indel that leaves them unchanged adds ``SYNONYMOUS`` (a
  shifted, equivalent indel), and the trimmed alleles ``kref``/``kalt`` are prepared for the
  coding sequence.

Returns :data:`VAR_REF` (not a change), :data:`OUTSIDE` (done, no coding prediction),
:data:`INSIDE` (coding prediction needed) or :data:`OVERLAP` (crosses the boundary; bits set,
no coding prediction). Side effects go through ``stage``/``stage_utr`` callbacks of the
caller, which record a consequence for the record (``stage_utr`` looks up the transcript's UTR
next to the boundary and returns the staged bits, 0 when there is none).
"""
from __future__ import annotations

from pgx.annotate import csq_bits as B

VAR_REF, OUTSIDE, INSIDE, OVERLAP = 0, 1, 2, 3
N_DONOR = 2  # intronic bases of a splice donor/acceptor site
N_REGION_INTRON = 8


class Splice:
    """One allele against one interval; the attributes mirror the quantities of the rules."""

    __slots__ = ("tx", "pos", "ref", "alt", "rlen", "alen", "tbeg", "tend", "ref_beg",
                 "ref_end", "csq", "kref", "kalt", "check_acceptor", "check_donor",
                 "check_start", "check_stop", "check_region_beg", "check_region_end",
                 "check_utr", "set_refalt", "stage", "stage_utr", "_rbuf", "_abuf")

    def __init__(self, tx, pos: int, ref: str, alt: str, stage, stage_utr, csq: int = 0):
        self.tx = tx
        self.pos = pos  # 0-based position of REF's first base
        self.ref = ref
        self.alt = alt
        self.rlen = len(ref)
        self.alen = len(alt)
        self.csq = csq
        self.kref = ""
        self.kalt = ""
        self.tbeg = self.tend = 0
        self.ref_beg = self.ref_end = 0
        self.check_acceptor = self.check_donor = self.check_start = self.check_stop = False
        self.check_region_beg = self.check_region_end = False
        self.check_utr = self.set_refalt = False
        self.stage = stage
        self.stage_utr = stage_utr
        self._rbuf = bytearray()  # the window buffers as bcftools reuses them (see _same)
        self._abuf = bytearray()

    # ------------------------------------------------------------------ haplotype window
    def build_hap(self, beg: int, length: int) -> None:
        """``kref``/``kalt``: ``length`` bases from genomic position ``beg`` on the reference
        and on the alternative haplotype (clipped at the transcript end)."""
        tx, pos, vrlen, valen = self.tx, self.pos, self.rlen, self.alen
        rlen = alen = length
        kref = ""
        if beg < pos:
            kref = tx.seq(beg, pos - beg)
            roff = 0
        else:
            roff = beg - pos
        if roff < vrlen and len(kref) < rlen:
            n = min(vrlen - roff, rlen - len(kref))
            kref += self.ref[roff:roff + n]
        end = pos + vrlen
        if len(kref) < rlen:
            over = end + rlen - len(kref) - 1 - tx.end
            if over > 0:
                rlen -= over
            if len(kref) < rlen:
                kref += tx.seq(end, rlen - len(kref))
        kalt = ""
        if beg < pos:
            kalt = tx.seq(beg, pos - beg)
            aoff = 0
        else:
            aoff = beg - pos
        if aoff < valen and len(kalt) < alen:
            n = min(valen - aoff, alen - len(kalt))
            kalt += self.alt[aoff:aoff + n]
            aoff -= n
        aoff = 0 if aoff < 0 else aoff - 1
        if len(kalt) < alen:
            over = end + alen + aoff - len(kalt) - 1 - tx.end
            if over > 0:
                alen -= over
            if alen > 0 and alen > len(kalt):
                kalt += tx.seq(end + aoff, alen - len(kalt))
        self.kref, self.kalt = kref, kalt
        for buf, text in ((self._rbuf, kref), (self._abuf, kalt)):
            if text:
                data = text.encode() + b"\0"
                if len(buf) < len(data):
                    buf.extend(bytes(len(data) - len(buf)))
                buf[:len(data)] = data

    def _same(self, a: int, b: int) -> bool:
        """Do the haplotype windows agree on ``[a, b)`` (C ``strncmp`` from offset ``a``)?

        bcftools compares its reused string buffers, also past the end of a window clipped
        at the transcript end: what an earlier, longer window left there counts (fresh memory
        reads as zeros), and a window never written is not compared at all."""
        r, x = self._rbuf, self._abuf
        if not r or not x:
            return False
        for i in range(a, b):
            p = r[i] if i < len(r) else 0
            q = x[i] if i < len(x) else 0
            if p != q:
                return False
            if not p:
                return True
        return True

    # ------------------------------------------------------------------ entry point
    def run(self, ex_beg: int, ex_end: int) -> int:
        ref, alt = self.ref, self.alt
        r1, a1 = self.rlen - 1, self.alen - 1
        i = 0
        while i <= r1 and i <= a1 and ref[r1 - i] == alt[a1 - i]:
            i += 1
        self.tend = i
        r1 -= i
        a1 -= i
        i = 0
        while i <= r1 and i <= a1 and ref[i] == alt[i]:
            i += 1
        self.tbeg = i
        if self.rlen == self.alen:
            return self._mnp(ex_beg, ex_end)
        if self.rlen < self.alen:
            return self._ins(ex_beg, ex_end)
        return self._del(ex_beg, ex_end)

    def _finish(self, ret: int) -> int:
        if self.csq:
            self.stage(self.csq)
        return ret

    def _boundary_bits(self, before: bool, rb_lt: int, re_gt_region: int, donor_side: bool,
                       syn: tuple | None) -> None:
        """Region/donor/acceptor bits next to the interval; ``before``: on its low side."""
        fwd = self.tx.strand > 0
        if rb_lt:
            self.csq |= B.SPLICE_REGION
            if syn is not None and self._same(0, N_REGION_INTRON):
                self.csq |= B.SYNONYMOUS
        if re_gt_region:
            if self.check_donor and (fwd != before):
                self.csq |= B.SPLICE_DONOR
            if self.check_acceptor and (fwd == before):
                self.csq |= B.SPLICE_ACCEPTOR
            if syn is not None and self._same(*syn):
                self.csq |= B.SYNONYMOUS

    def _inner_bits(self, near_beg: bool, near_end: bool) -> None:
        fwd = self.tx.strand > 0
        if near_beg:
            if self.check_region_beg:
                self.csq |= B.SPLICE_REGION
            if fwd and self.check_start:
                self.csq |= B.START_LOST
            if not fwd and self.check_stop:
                self.csq |= B.STOP_LOST
        if near_end:
            if self.check_region_end:
                self.csq |= B.SPLICE_REGION
            if not fwd and self.check_start:
                self.csq |= B.START_LOST
            if fwd and self.check_stop:
                self.csq |= B.STOP_LOST

    # ------------------------------------------------------------------ substitutions
    def _mnp(self, ex_beg: int, ex_end: int) -> int:
        if self.tbeg + self.tend == self.rlen:
            return VAR_REF
        self.ref_beg = rb = self.pos + self.tbeg
        self.ref_end = re = self.pos + self.rlen - self.tend - 1
        if rb < ex_beg:
            if self.check_region_beg:
                staged = self.check_utr and self.stage_utr(rb, ex_beg - 1, self.csq)
                if not staged:
                    self._boundary_bits(True, re >= ex_beg - N_REGION_INTRON
                                        and rb < ex_beg - N_DONOR, re >= ex_beg - N_DONOR,
                                        True, None)
            if re >= ex_beg:
                self.ref_beg = rb = ex_beg
        if ex_end < re:
            if self.check_region_end:
                staged = self.check_utr and self.stage_utr(ex_end + 1, re, self.csq)
                if not staged:
                    self._boundary_bits(False, rb <= ex_end + N_REGION_INTRON
                                        and re > ex_end + N_DONOR, rb <= ex_end + N_DONOR,
                                        True, None)
            if rb <= ex_end:
                self.ref_end = re = ex_end
        if re < ex_beg or rb > ex_end:
            return self._finish(OUTSIDE)
        self._inner_bits(rb < ex_beg + 3, re > ex_end - 3)
        if self.set_refalt:
            self.rlen -= self.tbeg + self.tend
            self.kref = self.ref[self.tbeg:self.tbeg + self.rlen]
            self.kalt = self.alt[self.tbeg:self.tbeg + self.rlen]
        return self._finish(INSIDE)

    # ------------------------------------------------------------------ insertions
    def _ins(self, ex_beg: int, ex_end: int) -> int:
        if self.tbeg or self.ref[0] != self.alt[0]:
            self.ref_beg = self.pos + self.tbeg - 1
            self.ref_end = self.pos + self.rlen - self.tend
        else:
            if self.tend:
                self.tend -= 1
            self.ref_beg = self.pos
            self.ref_end = self.pos + self.rlen - self.tend
        rb, re = self.ref_beg, self.ref_end
        if rb >= ex_end:  # beyond the interval
            if self.check_utr and self.stage_utr(rb + 1, rb + 1, self.csq):
                return OUTSIDE
            if not self.check_region_end:
                return OUTSIDE
            syn = None
            if self.set_refalt:
                self.build_hap(ex_end + 1, N_REGION_INTRON)
                syn = (0, N_DONOR)
            self._boundary_bits(False, rb < ex_end + N_REGION_INTRON and re > ex_end + N_DONOR,
                                rb < ex_end + N_DONOR, True, syn)
            return self._finish(OUTSIDE)
        if re < ex_beg or (re == ex_beg and not self.check_region_beg):  # before it
            if self.check_utr and self.stage_utr(re - 1, re - 1, self.csq):
                return OUTSIDE
            if not self.check_region_beg:
                return OUTSIDE
            syn = None
            if self.set_refalt:
                self.build_hap(ex_beg - N_REGION_INTRON, N_REGION_INTRON)
                syn = (N_REGION_INTRON - N_DONOR, N_REGION_INTRON)
            self._boundary_bits(True, re > ex_beg - N_REGION_INTRON and rb < ex_beg - N_DONOR,
                                re > ex_beg - N_DONOR, True, syn)
            return self._finish(OUTSIDE)
        self._inner_bits(rb <= ex_beg + 2, re > ex_end - 2)
        if self.set_refalt:
            if rb < self.pos:  # trimmed too much from the right
                self.tbeg += 1
                if self.tbeg + self.tend == self.rlen:
                    self.tend -= 1
                self.ref_beg = rb = self.pos
            if re == ex_beg:
                self.tend -= 1
            self.build_hap(rb, self.alen - self.tend - self.tbeg + 1)
            self.rlen -= self.tbeg + self.tend - 1
            if len(self.kref) > self.rlen:
                self.kref = self.kref[:max(self.rlen, 0)]
        return self._finish(INSIDE)

    # ------------------------------------------------------------------ deletions
    def _start_retained(self, ex_beg: int, ex_end: int) -> bool:
        """A deletion at the start codon that the next (reverse: previous) bases replace."""
        tx, pos = self.tx, self.pos
        rl, al = len(self.ref), len(self.alt)
        if tx.strand < 0 and pos + rl + 2 <= ex_end:
            return False
        if tx.strand > 0 and pos >= ex_beg + 3:
            return False
        ndel = rl - al
        deleted = self.ref[al:]
        if tx.strand < 0:
            ref_end = pos + rl - 1
            if ref_end + ndel > tx.end + 10:
                return False
            return tx.seq(ref_end + 1, len(deleted)) == deleted
        block = pos + rl - 2 * ndel
        if block < 0 or 10 + block < ex_beg:
            return False
        return tx.seq(block, len(deleted)) == deleted

    def _del(self, ex_beg: int, ex_end: int) -> int:
        if self.check_start and self._start_retained(ex_beg, ex_end):
            self.csq |= B.START_RETAINED
            return OVERLAP
        self.ref_beg = rb = self.pos + self.tbeg - 1  # the base before the deleted ones
        self.ref_end = re = self.pos + self.rlen - self.tend - 1  # the last deleted base
        if rb + 1 < ex_beg:
            if self.check_region_beg:
                staged = self.check_utr and self.stage_utr(rb, ex_beg - 1, self.csq)
                if not staged:
                    syn = None
                    if self.set_refalt:
                        self.build_hap(ex_beg - N_REGION_INTRON, N_REGION_INTRON)
                        syn = (N_REGION_INTRON - N_DONOR, N_REGION_INTRON)
                    self._boundary_bits(True, re >= ex_beg - N_REGION_INTRON
                                        and rb < ex_beg - N_DONOR, re >= ex_beg - N_DONOR,
                                        True, syn)
            if re >= ex_beg:
                self.tbeg = rb - self.pos + 1
                self.ref_beg = rb = ex_beg - 1
                if self.tbeg + self.tend == self.alen:
                    if not self.tend:
                        self.csq |= B.CODING_SEQUENCE
                        return OVERLAP
                    self.tend -= 1
        if ex_end < re:
            if self.check_region_end:
                staged = self.check_utr and self.stage_utr(ex_end + 1, re, self.csq)
                if not staged:
                    syn = None
                    if self.set_refalt:
                        self.build_hap(ex_end + 1, N_REGION_INTRON)
                        syn = (N_REGION_INTRON - N_DONOR, N_REGION_INTRON)
                    self._boundary_bits(False, rb < ex_end + N_REGION_INTRON
                                        and re > ex_end + N_DONOR, rb < ex_end + N_DONOR,
                                        True, syn)
            if rb < ex_end:
                self.tend = self.rlen - (re - self.pos + 1)
                self.ref_end = re = ex_end
        if re < ex_beg or rb >= ex_end:
            return self._finish(OUTSIDE)
        self._inner_bits(rb < ex_beg + 2, re > ex_end - 3)
        if self.set_refalt:
            if self.tbeg > 0:
                self.tbeg -= 1
            if self.rlen > self.tbeg + self.tend and self.alen > self.tbeg + self.tend:
                self.rlen -= self.tbeg + self.tend
                self.alen -= self.tbeg + self.tend
            self.kref = self.ref[self.tbeg:self.tbeg + self.rlen]
            self.kalt = self.alt[self.tbeg:self.tbeg + self.alen]
            if (rb + 1 < ex_beg <= re) or (rb + 1 < ex_end <= re):
                self.csq |= B.FRAMESHIFT if (re - rb) % 3 else B.INFRAME_DELETION
                return OVERLAP
        return self._finish(INSIDE)
