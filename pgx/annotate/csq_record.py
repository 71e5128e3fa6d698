"""The consequences collected for one VCF record, merged and printed as bcftools csq does.

Every rule that finds something *stages* an :class:`Entry` (bits + transcript + allele +
optional ``|aa|dna`` text) on the record; :meth:`RecordCsq.push` merges it into the record's list
with bcftools' rules, so that BCSQ has one item per distinct consequence:

* splice_region is dropped when splice_donor/acceptor is set;
* coding entries (:data:`~pgx.annotate.csq_bits.COMPOUND` bits) merge with an entry of the same
  transcript, gene, biotype, allele and the same ``|aa|dna`` text; a bare start/stop entry
  (staged by a boundary rule) takes over the text and bits of the translated one;
* other entries (UTR, splice, intron, non-coding) merge with any non-coding entry of the same
  biotype and transcript -- introns and non-coding hits are not tied to a transcript, so
  those of several transcripts print once;
* back references (``@POS``, haplotype mode) replace a start/stop entry and are kept once per
  target record.

:meth:`Entry.bcsq` prints one item: ``Consequence|gene|transcript|biotype|strand|aa|dna`` with
empty trailing fields dropped.
"""
from __future__ import annotations

from pgx.annotate import csq_bits as B


class Entry:
    __slots__ = ("bits", "t", "gene_id", "gene", "transcript", "biotype", "strand", "ial",
                 "ref_pos", "ref_rec", "vstr", "alleles", "nmd")

    def __init__(self, bits: int, tx, ial: int = 0, vstr: str | None = None,
                 ref_pos: int | None = None, origin: int | None = None):
        self.bits = bits
        self.t = tx.t if tx is not None else -1
        self.gene_id = tx.models.gene_id[tx.t] if tx is not None else ""
        self.gene = tx.gene if tx is not None else ""
        self.transcript = tx.id if tx is not None else ""
        self.biotype = tx.biotype if tx is not None else ""
        self.nmd = tx.nmd if tx is not None else False
        self.strand = tx.strand if tx is not None else 0
        self.ial = ial
        self.vstr = vstr  # "|aa|dna" or None
        self.ref_pos = ref_pos  # 1-based POS of the record a back reference points to
        self.ref_rec = -1  # and that record's index in its block (records may share a POS)
        # the ALTs (1-based) that produced it; ``ial`` is bcftools' allele of the entry, 0 for
        # rules that do not record one (which then merge across alleles)
        origin = ial if origin is None else origin
        self.alleles = {origin} if origin else set()

    def copy(self) -> Entry:
        e = Entry.__new__(Entry)
        for k in Entry.__slots__:
            setattr(e, k, getattr(self, k))
        e.alleles = set(self.alleles)
        return e

    def print_bits(self) -> int:
        """The bits as printed (start/stop of an incomplete CDS and missense next to a
        start/stop change are not shown)."""
        bits = self.bits
        if bits & B.INCOMPLETE_CDS and bits & ~(B.START_STOP | B.INCOMPLETE_CDS
                                                | B.UPSTREAM_STOP):
            bits &= ~(B.START_STOP | B.INCOMPLETE_CDS)
        if bits & B.START_STOP and bits & B.MISSENSE:
            bits &= ~B.MISSENSE
        return bits

    def bcsq(self, compat_116: bool = False) -> str:
        bits = self.print_bits()
        if bits & B.PRINTED_UPSTREAM and self.ref_pos is not None:
            return f"@{self.ref_pos}"
        terms = B.names(bits)
        if self.nmd and bits & ~(B.INTRON | B.NON_CODING) and not compat_116:
            terms.append("NMD_transcript")
        out = ("*" if bits & B.UPSTREAM_STOP else "") + "&".join(terms)
        out += "|" + self.gene + "|" + (self.transcript if bits & B.PRINT_TRANSCRIPT else "")
        out += "|" + self.biotype
        if B.prints_strand(bits) or self.vstr:
            out += "|+" if self.strand > 0 else "|-"
        if self.vstr:
            out += self.vstr
        return out


class RecordCsq:
    """The merged entries of one record, in staging order."""

    __slots__ = ("entries", "pos", "text")

    def __init__(self, pos: int = 0):
        self.entries: list[Entry] = []
        self.pos = pos
        self.text: tuple | None = None  # (compat_116, BCSQ) of shared, frozen entry lists

    def push(self, new: Entry) -> tuple[int, bool]:
        """Merge ``new``; returns (index of the entry it went to, True if it was new)."""
        lst = self.entries
        if new.bits & B.SPLICE_REGION and new.bits & (B.SPLICE_DONOR | B.SPLICE_ACCEPTOR):
            new.bits &= ~B.SPLICE_REGION
        if new.bits & B.PRINTED_UPSTREAM:
            for i, old in enumerate(lst):
                if new.bits & B.START_STOP and old.bits & B.START_STOP:
                    lst[i] = new
                    return i, False
                if not old.bits & B.PRINTED_UPSTREAM or new.ref_rec != old.ref_rec:
                    continue
                return i, False
        elif new.bits & B.COMPOUND:
            for i, old in enumerate(lst):
                if new.t != old.t and (new.bits | old.bits) & B.PRINT_TRANSCRIPT:
                    continue
                if (new.biotype != old.biotype or new.gene_id != old.gene_id
                        or new.ial != old.ial
                        or (new.bits ^ old.bits) & B.UPSTREAM_STOP):
                    continue
                if new.vstr or old.vstr:
                    if not new.vstr or not old.vstr:
                        if new.bits & B.START_STOP and old.bits & B.START_STOP:
                            old.bits |= new.bits
                            if old.bits & B.STOP_RETAINED:
                                old.bits &= ~(B.STOP_LOST | B.SYNONYMOUS)
                            if old.bits & B.START_RETAINED:
                                old.bits &= ~B.START_LOST
                            if not old.vstr:
                                old.vstr = new.vstr
                            old.alleles |= new.alleles
                            return i, False
                        continue
                    if new.vstr != old.vstr:
                        continue
                old.bits |= new.bits
                old.alleles |= new.alleles
                return i, False
        else:
            for i, old in enumerate(lst):
                if new.t != old.t and (new.bits | old.bits) & B.PRINT_TRANSCRIPT:
                    continue
                if new.biotype != old.biotype:
                    continue
                if not old.bits & B.COMPOUND:
                    old.bits |= new.bits
                    old.alleles |= new.alleles
                    return i, False
                if old.bits == old.bits | new.bits:
                    old.alleles |= new.alleles
                    return i, False
        lst.append(new)
        return len(lst) - 1, True

    def bcsq(self, compat_116: bool = False) -> str:
        """The INFO/BCSQ value ('' when nothing was found)."""
        if self.text is not None and self.text[0] == compat_116:
            return self.text[1]
        return ",".join(e.bcsq(compat_116) for e in self.entries)

    def freeze(self, compat_116: bool) -> None:
        """Remember the BCSQ string (for entry lists shared by many records, never changed)."""
        self.text = (compat_116, ",".join(e.bcsq(compat_116) for e in self.entries))
