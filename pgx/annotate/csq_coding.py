"""Coding-sequence consequences: applying an allele to a CDS and translating the changed codons.

:func:`hap_init` applies one allele to one CDS row of a transcript (after the splice checks of
:mod:`pgx.annotate.csq_splice`) and returns a :class:`Node`: either a coding node (``kind ==
CDS``: the alternative bases ``seq`` that replace ``rlen`` reference bases at spliced-CDS
offset ``sbeg``, genomic ``rbeg``) or a start/stop/splice node (``SSS``: bits only, no
sequence). In haplotype mode ``seq`` is prefixed with the reference bases since the previous
node of the haplotype (``parent``), as bcftools builds its haplotype tree.

:func:`translate` translates the codons a change touches (see its docstring; the numba kernel
:func:`pgx.annotate.csq_numba_fns.translate_window` does the same on byte arrays) and
:func:`classify` turns reference/alternative peptides into consequence bits and the BCSQ
``|aa|dna`` text.

Offsets: genomic positions are 0-based; ``sbeg``/``rend`` index the spliced CDS (0 = first CDS
base in genomic orientation); amino-acid numbers in BCSQ are 1-based from the protein's start.
"""
from __future__ import annotations

import numpy as np

from pgx.annotate import csq_bits as B
from pgx.annotate.csq_splice import OUTSIDE, OVERLAP, VAR_REF, Splice
from pgx.annotate.csq_tx import PAD

ROOT, CDS, SSS = 1, 0, 2
BASES = "ACGT"
#: NCBI translation tables by number (0 is bcftools' default: the standard code, ATG starts
#: only); value: (amino acids in TCAG^3 order as NCBI lists them, start codons)
_NCBI = {
    1: ("FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG", ("TTG", "CTG", "ATG")),
    2: ("FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG",
        ("ATT", "ATC", "ATA", "ATG", "GTG")),
    3: ("FFLLSSSSYY**CCWWTTTTPPPPHHQQRRRRIIMMTTTTNNKKSSRRVVVVAAAADDEEGGGG", ("ATA", "ATG", "GTG")),
    4: ("FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        ("TTA", "TTG", "CTG", "ATT", "ATC", "ATA", "ATG", "GTG")),
    5: ("FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSSSSVVVVAAAADDEEGGGG",
        ("TTG", "ATT", "ATC", "ATA", "ATG", "GTG")),
    11: ("FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
         ("TTG", "CTG", "ATT", "ATC", "ATA", "ATG", "GTG")),
}


class GeneticCode:
    """Codon table: ``aa[codon]`` for the 64 codons; ``starts``: initiation codons."""

    def __init__(self, table: int = 0):
        if table not in (0, *_NCBI):
            raise ValueError(f"genetic code {table} is not supported; use one of 0, "
                             f"{', '.join(map(str, _NCBI))}")
        aa, starts = _NCBI[1 if table == 0 else table]
        self.table = table
        self.starts = frozenset(("ATG",) if table == 0 else starts)
        ncbi = "TCAG"
        self.aa = {a + b + c: aa[16 * i + 4 * j + k]
                   for i, a in enumerate(ncbi) for j, b in enumerate(ncbi)
                   for k, c in enumerate(ncbi)}
        # kernel table: index 16*a+4*b+c with A=0 C=1 G=2 T=3
        self.codes = np.frombuffer("".join(
            self.aa[a + b + c] for a in BASES for b in BASES for c in BASES).encode(),
            np.uint8).copy()

    def fwd(self, codon) -> str:
        return self.aa.get("".join(codon), "X")

    def rev(self, codon) -> str:
        return self.aa.get("".join(_COMP.get(x, "N") for x in reversed(codon)), "X")


_COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}


def translate(code: GeneticCode, sref: str, seq: str, seq_m: int, sbeg: int, rbeg: int,
              rend: int, fwd: bool, fill: bool) -> str:
    """Peptide (protein order) of the codons that ``seq`` touches.

    ``seq`` replaces the spliced-CDS range ``[rbeg, rend)`` of ``sref`` (padded by ``PAD``);
    ``sbeg`` is its offset in the alternative CDS (whose length is ``seq_m``), which sets the
    frame. The first/last codons are completed with reference bases before ``rbeg`` / from
    ``rend`` on; with ``fill`` (frameshift) translation runs on to the end of the CDS (forward)
    or its start (reverse strand). An empty ``seq`` gives ``"?"``.
    """
    if not seq:
        return "?"
    out = []
    if fwd:
        npad = sbeg % 3
        tmp = [sref[PAD + rbeg + k - npad] for k in range(npad)]
        i = npad
        while i < 3 and i - npad < len(seq):
            tmp.append(seq[i - npad])
            i += 1
        rest = len(seq) - i + npad
        if i == 3:
            out.append(code.fwd(tmp))
            c = 3 - npad
            for _ in range(rest // 3):
                out.append(code.fwd(seq[c:c + 3]))
                c += 3
            tmp = list(seq[c:])
            i = len(tmp)
        r = PAD + rend
        if i > 0:
            while i < 3:
                tmp.append(sref[r] if r < len(sref) else "N")
                r += 1
                i += 1
            out.append(code.fwd(tmp))
        if fill:
            end = len(sref) - PAD
            while r + 3 <= end:
                out.append(code.fwd(sref[r:r + 3]))
                r += 3
        return "".join(out)
    npad = (seq_m - (sbeg + len(seq))) % 3
    tmp = ["N", "N", "N"]
    if npad == 2:
        tmp[1] = sref[PAD + rend]
        tmp[2] = sref[PAD + rend + 1]
        i = 0
    elif npad == 1:
        tmp[2] = sref[PAD + rend]
        i = 1
    else:
        i = 2
    e = len(seq)
    while i >= 0 and e > 0:
        e -= 1
        tmp[i] = seq[e]
        i -= 1
    if i == -1:
        out.append(code.rev(tmp))
        c = e - 3
        while c >= 0:
            out.append(code.rev(seq[c:c + 3]))
            c -= 3
        if c == -2:
            tmp[2] = seq[0]
            i = 1
        elif c == -1:
            tmp[1] = seq[0]
            tmp[2] = seq[1]
            i = 0
        else:
            i = -1
    e = PAD + rbeg
    if i >= 0:
        while i >= 0 and e > 0:
            e -= 1
            tmp[i] = sref[e]
            i -= 1
        out.append(code.rev(tmp))
    if fill:
        c = e - 3
        while c >= PAD:
            out.append(code.rev(sref[c:c + 3]))
            c -= 3
    return "".join(out)


class Node:
    """An allele applied to a CDS (see the module docstring)."""

    __slots__ = ("kind", "seq", "sbeg", "rbeg", "rlen", "dlen", "var", "icds", "csq", "pos",
                 "ial", "rec", "children", "nend", "prev")

    def __init__(self, kind: int = ROOT):
        self.kind = kind
        self.seq = ""
        self.sbeg = self.rbeg = self.rlen = self.dlen = 0
        self.var = ""
        self.icds = -1
        self.csq = 0
        self.pos = 0
        self.ial = 0
        self.rec = -1
        self.children = None
        self.nend = 0
        self.prev = None


ROOT_NODE = Node(ROOT)


def hap_init(tx, parent: Node, icds: int, pos: int, ref: str, alt: str, ial: int, stage,
             stage_utr, compat_116: bool = False) -> tuple[int, Node | None]:
    """Apply allele ``alt`` of the record at 0-based ``pos`` to CDS row ``icds`` of ``tx``.

    Returns ``(0, node)``; ``(1, None)`` when it overlaps ``parent``'s change (haplotype mode:
    skipped); ``(2, None)`` when there is nothing to predict (REF-only, intronic). The splice
    checks stage their own bits through ``stage``/``stage_utr``. ``compat_116``: as bcftools
    1.16, a substitution in the start codon is not translated (bare ``start_lost``).
    """
    cbeg, clen, cpos = tx.cds[icds]
    ncds = len(tx.cds)
    fwd = tx.strand > 0
    sp = Splice(tx, pos, ref, alt, stage, stage_utr)
    sp.check_acceptor = sp.check_donor = sp.set_refalt = sp.check_utr = True
    if not tx.trim5:
        sp.check_start = icds == (0 if fwd else ncds - 1)
    if not tx.trim3:
        sp.check_stop = icds == (ncds - 1 if fwd else 0)
    if sp.check_start:  # no start checks in a CDS that does not start with Met
        codon = tx.seq(cbeg, 3) if fwd else tx.seq(cbeg + clen - 3, 3)
        aa = tx_code(tx).fwd(codon) if fwd else tx_code(tx).rev(codon)
        if aa != "M":
            sp.check_start = False
    sp.check_region_beg = icds != 0
    sp.check_region_end = icds != ncds - 1
    ret = sp.run(cbeg, cbeg + clen - 1)
    if ret == VAR_REF:
        return 2, None
    dlen = len(alt) - len(ref)
    if ret in (OUTSIDE, OVERLAP) or (sp.csq == B.START_LOST and (dlen != 0 or compat_116)):
        if not sp.csq:
            return 2, None
        node = Node(SSS)
        node.rbeg = pos
        node.var = f"{ref}>{alt}"
        node.csq = sp.csq
        node.icds = icds
        node.pos = pos
        node.ial = ial
        return 0, node
    csq = sp.csq & ~B.SYNONYMOUS
    kref_len, kalt, ref_beg = len(sp.kref), sp.kalt, sp.ref_beg
    dbeg = 0
    if ref_beg < cbeg:  # the record starts before the exon but the change fits inside
        dbeg = cbeg - ref_beg
        kref_len -= dbeg
        ref_beg = cbeg
    parts = []
    if parent.kind == CDS:
        i = parent.icds
        if i != icds:  # the rest of the parent's exon, then any exons in between
            b, n, _ = tx.cds[i]
            rest = n - parent.rbeg - parent.rlen + b
            if rest > 0:
                parts.append(tx.seq(parent.rbeg + parent.rlen, rest))
            for j in range(i + 1, icds):
                parts.append(tx.seq(tx.cds[j][0], tx.cds[j][1]))
            parts.append(tx.seq(cbeg, ref_beg - cbeg))
        else:
            gap = ref_beg - parent.rbeg - parent.rlen
            if gap < 0:
                return 1, None
            parts.append(tx.seq(parent.rbeg + parent.rlen, gap))
    parts.append(kalt[dbeg:])
    node = Node(CDS)
    node.seq = "".join(parts)
    node.sbeg = cpos + (ref_beg - cbeg)
    node.rbeg = ref_beg
    node.rlen = kref_len
    node.dlen = dlen
    node.var = f"{ref}>{alt}"
    node.icds = icds
    node.csq = csq
    node.pos = pos
    node.ial = ial
    node.prev = parent
    if node.rbeg + node.rlen > cbeg + clen:  # the change runs past the CDS: not modelled
        node.kind = SSS
        if not node.csq:
            node.csq = B.CODING_SEQUENCE
    return 0, node


def tx_code(tx) -> GeneticCode:
    return tx.code


def truncate_at_stop(pep: str) -> tuple[str, bool]:
    k = pep.find("*")
    return (pep, False) if k < 0 else (pep[:k + 1], True)


def classify(csq: int, tref: str, tseq: str, dlen: int, alt_start: str | None,
             starts: frozenset, tseq_raw: str = "", compat_116: bool = False
             ) -> tuple[int, int]:
    """Consequence bits from the reference and alternative peptides (already cut after their
    first stop); returns ``(bits, bits_to_remove)`` (the second for combined consequences).

    ``alt_start``: the first alternative codon when the change touches the start codon (an
    alternative initiation codon of the genetic code keeps the start: ``start_retained``).
    ``tseq_raw``: the alternative peptide before the cut. Where a substitution's peptide stops
    early, bcftools compares the reference residues past the stop with what its buffer still
    holds there: nothing right after the stop, then the uncut residues; this is reproduced
    (it decides e.g. whether a later reference stop counts as ``stop_lost``).
    ``compat_116``: bcftools 1.16 judges a substitution by its first changed residue only.
    """
    rm = 0
    if csq & B.STOP_LOST:
        if tref[-1:] == "*" and tseq[-1:] == "*":
            rm |= B.STOP_LOST
            csq = (csq & ~B.STOP_LOST) | B.STOP_RETAINED
        elif tref[-1:] != "*":
            if tseq[-1:] == "*":
                rm |= B.STOP_GAINED
                csq = (csq & ~B.STOP_GAINED) | B.STOP_RETAINED
            else:
                csq |= B.INCOMPLETE_CDS
    if csq & B.START_LOST:
        if tref[:1] != "M":
            rm |= B.START_LOST
            csq &= ~B.START_LOST
        elif alt_start is not None and alt_start in starts and tseq[:1] != "M":
            rm |= B.START_LOST
            csq = (csq & ~B.START_LOST) | B.START_RETAINED
    if dlen:
        if dlen % 3:
            csq |= B.FRAMESHIFT
        elif dlen < 0:
            csq |= B.INFRAME_DELETION
        else:
            csq |= B.INFRAME_INSERTION
        if tref[-1:] != "*" and tseq[-1:] == "*":
            csq |= B.STOP_GAINED
    else:
        changed = False
        n = len(tseq)
        for j, a in enumerate(tref):
            if j < n:
                b = tseq[j]
            else:
                b = tseq_raw[j] if n < j < len(tseq_raw) else ""
            if a == b:
                continue
            changed = True
            if a == "*":
                csq |= B.STOP_LOST
            elif b == "*":
                csq |= B.STOP_GAINED
            else:
                csq |= B.MISSENSE
            if compat_116:
                break
        if not changed:
            csq |= B.SYNONYMOUS
    return csq, rm


def aa_text(pep: str, beg: int, brief: int) -> str:
    """A peptide as BCSQ prints it, abbreviated to ``brief`` residues (bcftools ``-B``)."""
    if not brief or len(pep) - brief < 3:
        return pep
    n = len(pep) - (1 if pep.endswith("*") else 0)
    return f"{pep[:min(n, brief)]}..{beg + n}"
