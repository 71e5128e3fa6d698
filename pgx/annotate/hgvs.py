"""HGVS names of a variant allele on a transcript: ``c.``/``n.`` and ``p.``.

:func:`hgvs_names` returns ``(c, p)`` for one ALT on one transcript (a
:class:`~pgx.annotate.csq_tx.TxContext`):

* ``c.`` (coding) or ``n.`` (non-coding) positions: exonic bases are numbered in the spliced
  transcript (``c.1`` = A of the ATG; ``c.-21`` before it, ``c.*10`` after the stop codon),
  intronic bases from the nearest exon boundary (``c.1905+1``, ``c.506-1``; the middle base of
  an odd-length intron counts from the upstream exon), bases outside the transcript continue
  the numbering (``c.-250``, ``c.*1200``);
* alleles are trimmed to the changed bases, then insertions and deletions are shifted 3' in
  transcript orientation (HGVS's 3' rule) within the exon or intron they lie in; an insertion
  that repeats the bases before it is a ``dup``. Forms: ``c.681G>A``, ``c.1521_1523del``,
  ``c.76dup``, ``c.25_26insTG``, ``c.10_12delinsAT``; bases are given on the transcript strand;
* ``p.`` (coding transcripts, changes inside the CDS): the reference and alternative proteins
  are translated (the alternative from the changed CDS on into the 3' UTR, so that a lost stop
  gets its extension) and compared, with three-letter codes: ``p.Pro227=``,
  ``p.Ile359Leu``, ``p.Arg139Cys``, ``p.Trp24Ter``, ``p.Phe508del`` (3'-shifted),
  ``p.Lys23_Leu24insArg``, ``p.Gly12dup``, ``p.Arg97ProfsTer23`` (``fsTer?`` when no new stop),
  ``p.Ter110GlnextTer17``, ``p.Met1?`` (start codon changed). Predictions are written without
  parentheses. ``p`` is empty for changes outside the CDS (UTR, intron, splice site) and for
  non-coding transcripts.

Coordinates: ``pos0`` is the 0-based genomic position of REF's first base.
"""
from __future__ import annotations

THREE = {"A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
         "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
         "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
         "X": "Xaa", "U": "Sec"}
_COMP = str.maketrans("ACGTN", "TGCAN")


def revcomp(s: str) -> str:
    return s.translate(_COMP)[::-1]


def aa3(s: str) -> str:
    return "".join(THREE.get(c, "Xaa") for c in s)


class TxMap:
    """Genomic <-> transcript coordinates of one transcript (cached on the TxContext)."""

    def __init__(self, tx):
        self.tx = tx
        fwd = tx.strand > 0
        exons = sorted(tx.exons) if fwd else sorted(tx.exons, reverse=True)
        self.exons = []  # (gb, ge, cdna of the exon's first transcript base, 1-based)
        x = 1
        parts = []
        for gb, ge in exons:
            self.exons.append((gb, ge, x))
            seg = tx.seq(gb, ge - gb + 1)
            parts.append(seg if fwd else revcomp(seg))
            x += ge - gb + 1
        self.length = x - 1
        self.cdna = "".join(parts)
        rows = [(b, n) for b, n, _ in tx.cds if n > 0]
        self.coding = bool(tx.coding and rows)
        if self.coding:
            first = rows[0][0] if fwd else rows[-1][0] + rows[-1][1] - 1
            last = rows[-1][0] + rows[-1][1] - 1 if fwd else rows[0][0]
            self.cds_start = self.cdna_of(first)
            self.cds_end = self.cdna_of(last)
            self.coding = self.cds_start is not None and self.cds_end is not None
        self._protein = None

    def cdna_of(self, g: int) -> int | None:
        """1-based transcript position of exonic genomic base ``g`` (None if not exonic)."""
        fwd = self.tx.strand > 0
        for gb, ge, x in self.exons:
            if gb <= g <= ge:
                return x + (g - gb if fwd else ge - g)
        return None

    def region(self, g: int) -> tuple[int, int]:
        """The closed genomic interval (exon, intron or flank) containing ``g``."""
        ex = sorted((gb, ge) for gb, ge, _ in self.exons)
        for gb, ge in ex:
            if gb <= g <= ge:
                return gb, ge
        prev_end = -10**12
        for gb, ge in ex:
            if g < gb:
                return prev_end + 1, gb - 1
            prev_end = ge
        return prev_end + 1, 10**12

    def _num(self, x: int) -> str:
        if not self.coding:
            if x < 1:
                return f"-{1 - x}"
            if x > self.length:
                return f"*{x - self.length}"
            return str(x)
        if x < self.cds_start:
            return f"-{self.cds_start - x}"
        if x <= self.cds_end:
            return str(x - self.cds_start + 1)
        return f"*{x - self.cds_end}"

    def pos(self, g: int) -> str:
        """HGVS position of genomic base ``g`` (exonic, intronic with offset, or flanking)."""
        x = self.cdna_of(g)
        if x is not None:
            return self._num(x)
        fwd = self.tx.strand > 0
        first, last = self.exons[0], self.exons[-1]
        # before the transcript start / after its end (transcript orientation)
        if (fwd and g < first[0]) or (not fwd and g > first[1]):
            d = first[0] - g if fwd else g - first[1]
            return self._num(1 - d)
        if (fwd and g > last[1]) or (not fwd and g < last[0]):
            d = g - last[1] if fwd else last[0] - g
            return self._num(self.length + d)
        for a, b in zip(self.exons, self.exons[1:]):
            if fwd and a[1] < g < b[0]:
                da, db = g - a[1], b[0] - g
                xa, xb = a[2] + a[1] - a[0], b[2]
                break
            if not fwd and b[1] < g < a[0]:
                da, db = a[0] - g, g - b[1]
                xa, xb = a[2] + a[1] - a[0], b[2]
                break
        else:  # pragma: no cover - exons cover the span
            return "?"
        if da <= db:
            return f"{self._num(xa)}+{da}"
        return f"{self._num(xb)}-{db}"

    @property
    def protein(self) -> str:
        """Reference protein up to and including the first stop."""
        if self._protein is None:
            self._protein = translate(self.cdna[self.cds_start - 1:], self.tx.code)
        return self._protein


def translate(seq: str, code) -> str:
    """Codons of ``seq`` (coding strand) to the first stop, inclusive."""
    out = []
    for i in range(0, len(seq) - 2, 3):
        a = code.aa.get(seq[i:i + 3], "X")
        out.append(a)
        if a == "*":
            break
    return "".join(out)


def _txmap(tx) -> TxMap:
    m = getattr(tx, "_cdna", None)
    if m is None:
        m = TxMap(tx)
        tx._cdna = m
    return m


def _trim(pos0: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Drop the common suffix, then the common prefix (position moves with it)."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    k = 0
    while k < len(ref) and k < len(alt) and ref[k] == alt[k]:
        k += 1
    return pos0 + k, ref[k:], alt[k:]


def _shift(tx, m: TxMap, s: int, ref: str, alt: str) -> tuple[int, str, str]:
    """3'-shift (transcript orientation) a pure insertion or deletion within its region."""
    fwd = tx.strand > 0
    lo, hi = m.region(s if ref else max(s - 1, 0))
    if ref:  # deletion of [s, s + k)
        k = len(ref)
        if fwd:
            while s + k <= hi and tx.base(s) == tx.base(s + k) and tx.base(s):
                s += 1
        else:
            while s - 1 >= lo and tx.base(s - 1) == tx.base(s + k - 1) and tx.base(s - 1):
                s -= 1
        return s, tx.seq(s, k), ""
    ins = alt  # inserted before genomic base s
    if fwd:
        while s <= hi and ins and tx.base(s) == ins[0]:
            ins = ins[1:] + ins[0]
            s += 1
    else:
        while s - 1 >= lo and ins and tx.base(s - 1) == ins[-1]:
            ins = ins[-1] + ins[:-1]
            s -= 1
    return s, "", ins


def _span(m: TxMap, fwd: bool, a: int, b: int) -> str:
    """HGVS range for genomic bases ``a..b`` (closed), in transcript order."""
    if a == b:
        return m.pos(a)
    return f"{m.pos(a)}_{m.pos(b)}" if fwd else f"{m.pos(b)}_{m.pos(a)}"


def hgvs_c(tx, pos0: int, ref: str, alt: str) -> tuple[str, tuple]:
    """The ``c.``/``n.`` name and the normalised change ``(s, ref, alt)`` (genomic)."""
    m = _txmap(tx)
    fwd = tx.strand > 0
    pre = "c." if m.coding else "n."
    s, r, a = _trim(pos0, ref.upper(), alt.upper())
    if not r and not a:
        return "", (s, r, a)
    if not r or not a:
        s, r, a = _shift(tx, m, s, r, a)
    strand = (lambda x: x) if fwd else revcomp
    if r and a:
        if len(r) == 1 and len(a) == 1:
            return f"{pre}{m.pos(s)}{strand(r)}>{strand(a)}", (s, r, a)
        return f"{pre}{_span(m, fwd, s, s + len(r) - 1)}delins{strand(a)}", (s, r, a)
    if r:
        return f"{pre}{_span(m, fwd, s, s + len(r) - 1)}del", (s, r, a)
    k = len(a)
    if fwd and tx.seq(s - k, k) == a:
        return f"{pre}{_span(m, fwd, s - k, s - 1)}dup", (s, r, a)
    if not fwd and tx.seq(s, k) == a:
        return f"{pre}{_span(m, fwd, s, s + k - 1)}dup", (s, r, a)
    flank = f"{m.pos(s - 1)}_{m.pos(s)}" if fwd else f"{m.pos(s)}_{m.pos(s - 1)}"
    return f"{pre}{flank}ins{strand(a)}", (s, r, a)


def hgvs_p(tx, change: tuple, code) -> str:
    """The ``p.`` name of a normalised genomic change (empty outside the CDS)."""
    m = _txmap(tx)
    if not m.coding:
        return ""
    s, r, a = change
    fwd = tx.strand > 0
    # the change in transcript coordinates: [x0, x1) replaced by alt (transcript strand)
    if r:
        xs = [m.cdna_of(g) for g in range(s, s + len(r))]
        if any(x is None for x in xs):
            return ""
        x0, x1 = min(xs), max(xs) + 1
    else:
        xa, xb = m.cdna_of(s - 1), m.cdna_of(s)
        if xa is None or xb is None or abs(xa - xb) != 1:
            return ""
        x0 = x1 = max(xa, xb)
    alt_t = a if fwd else revcomp(a)
    cs, ce = m.cds_start, m.cds_end  # 1-based, inclusive (ce: last base of the stop codon)
    if x1 <= cs or x0 > ce:
        return ""  # UTR
    if x0 < cs:
        return "p.Met1?" if m.protein[:1] == "M" else "p.?"
    cdna = m.cdna
    alt_cdna = cdna[:x0 - 1] + alt_t + cdna[x1 - 1:]
    prot_ref = m.protein
    prot_alt = translate(alt_cdna[cs - 1:], code)
    return _p_name(prot_ref, prot_alt, x0 - cs, len(r) - len(a))


def _p_name(P: str, Q: str, c0: int, dlen: int) -> str:
    """Compare reference protein ``P`` and alternative ``Q`` (both up to their stop)."""
    if P == Q:
        i = c0 // 3
        return f"p.{aa3(P[i])}{i + 1}=" if i < len(P) else "p.="
    i = 0
    while i < len(P) and i < len(Q) and P[i] == Q[i]:
        i += 1
    if i == 0 and P[:1] == "M":
        return "p.Met1?"
    frameshift = dlen % 3 != 0
    if frameshift:
        if i >= len(P):
            return "p.?"
        if i < len(Q) and Q[i] == "*":
            return f"p.{aa3(P[i])}{i + 1}Ter"
        if i >= len(Q):
            return "p.?"
        stop = Q.find("*", i)
        n = f"{stop - i + 1}" if stop >= 0 else "?"
        return f"p.{aa3(P[i])}{i + 1}{aa3(Q[i])}fsTer{n}"
    if i < len(P) and P[i] == "*":  # stop lost: extension
        if i >= len(Q):
            return "p.?"
        stop = Q.find("*", i)
        n = f"{stop - i}" if stop >= 0 else "?"
        return f"p.Ter{i + 1}{aa3(Q[i])}extTer{n}"
    if i < len(Q) and Q[i] == "*":  # nonsense
        return f"p.{aa3(P[i])}{i + 1}Ter"
    # in-frame: trim common suffix, then describe the changed block
    j = 0
    while j < len(P) - i and j < len(Q) - i and P[-1 - j] == Q[-1 - j]:
        j += 1
    dp, dq = P[i:len(P) - j], Q[i:len(Q) - j]
    if len(dp) == 1 and len(dq) == 1:
        return f"p.{aa3(dp)}{i + 1}{aa3(dq)}"
    if dq and not dp:  # insertion between i-1 and i (after 3' shifting in the protein)
        k = len(dq)
        # 3' rule: shift the insertion to the C-terminal end
        while i < len(P) and dq[0] == P[i]:
            dq = dq[1:] + dq[0]
            i += 1
        if i - k >= 0 and P[i - k:i] == dq:
            a, b = i - k, i - 1
            return (f"p.{aa3(P[a])}{a + 1}dup" if a == b
                    else f"p.{aa3(P[a])}{a + 1}_{aa3(P[b])}{b + 1}dup")
        if i == 0 or i >= len(P):
            return "p.?"
        return f"p.{aa3(P[i - 1])}{i}_{aa3(P[i])}{i + 1}ins{aa3(dq)}"
    if dp and not dq:
        k = len(dp)
        while i + k < len(P) and P[i] == P[i + k]:
            i += 1
        a, b = i, i + k - 1
        return (f"p.{aa3(P[a])}{a + 1}del" if a == b
                else f"p.{aa3(P[a])}{a + 1}_{aa3(P[b])}{b + 1}del")
    a, b = i, i + len(dp) - 1
    rng = f"{aa3(P[a])}{a + 1}" if a == b else f"{aa3(P[a])}{a + 1}_{aa3(P[b])}{b + 1}"
    return f"p.{rng}delins{aa3(dq)}"


def hgvs_names(tx, pos0: int, ref: str, alt: str, code) -> tuple[str, str]:
    """``(c_or_n, p)`` of ALT ``alt`` of the record at 0-based ``pos0`` on transcript ``tx``."""
    c, change = hgvs_c(tx, pos0, ref, alt)
    if not c:
        return "", ""
    return c, hgvs_p(tx, change, code)
