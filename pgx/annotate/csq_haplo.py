"""Haplotype-aware consequences (bcftools csq's default mode) and the FORMAT/BCSQ bitmask.

Variants on the same haplotype of a transcript are applied together: for each coding transcript
a tree of haplotypes is grown record by record (a node = one allele applied to one CDS, its
children = the alleles that follow on some haplotype), and when the block ends each distinct
haplotype (a node where some haplotype ends) is cut into independent parts -- consecutive
changes are combined while the reading frame is shifted or while they touch the same codon.
A combined consequence is reported at one record (the first in transcript order) with all the
changes in its ``dna_change`` (``53592GC>G+53595A>T``); the other records get a back reference
``@POS``. A change that overlaps the previous one on its haplotype is skipped for that
haplotype (bcftools warns "Skipping overlapping variants").

Input: records of one contig in position order, ``gt`` int8 ``[V, S, P]`` (allele index; -1
missing, -2 no such copy, as :class:`~pgx.io.variant_chunk.VariantChunk`) and ``phased``
bool ``[V, S]``; without samples (``gt=None``) every record's first ALT is on one haplotype,
as bcftools does for a VCF without samples. Unphased heterozygous genotypes follow ``phase``:
``"r"`` (an error, bcftools' default), ``"a"`` (take them as phased), ``"m"`` (merge: ``0/1``
is treated as ``1|1``), ``"R"`` (``0/1`` as ``1|1``, ``1/2`` as ``1|2``), ``"s"`` (skip the
sample at that record). A record whose largest ploidy is not 1 or 2 adds nothing to the trees.

A block must contain every record that overlaps its transcripts (use :func:`block_ends` to cut
a contig's records into such blocks).

Output (:class:`HaploResult`): per record the merged :class:`~pgx.annotate.csq_record.RecordCsq`
and, with samples, ``fmt`` int32 ``[V, S, nfmt]``: bit ``2*k + h`` (30 bits per integer)
is set when haplotype ``h`` (0/1) of the sample has BCSQ item ``k`` of the record (bcftools'
FORMAT/BCSQ); :func:`translate_bitmask` turns it back into strings (bcftools query's %TBCSQ).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgx.annotate import csq_bits as B
from pgx.annotate.csq_coding import (
    ROOT, SSS, Node, aa_text, classify, hap_init, truncate_at_stop)
from pgx.annotate.csq_record import Entry, RecordCsq
from pgx.annotate.csq_rules import alt_first_codon, is_symbolic
from pgx.annotate.csq_blocks import (  # noqa: F401 - block_ends etc. are part of this API
    block_cuts, block_ends, effective_alleles, record_reach)
from pgx.annotate.csq_tx import PAD

BITS_PER_INT = 30


@dataclass
class HaploResult:
    """``records[i]``: the merged entries of record ``i``; ``fmt``: the FORMAT/BCSQ bitmask
    (None without samples); ``warnings``: counts of skipped overlapping variants, records of
    other ploidy, FORMAT overflows (more than ``ncsq`` items for a haplotype)."""

    records: list[RecordCsq]
    fmt: np.ndarray | None  # int32 [V, S, nfmt]
    warnings: dict
    caller: object = None
    inputs: tuple = ()

    def bcsq(self, i: int) -> str:
        """INFO/BCSQ of record ``i`` (bcftools' spelling, or 1.16's with ``compat_116``)."""
        return self.records[i].bcsq(getattr(self.caller, "compat_116", False))

    def consequences(self, i: int) -> list:
        """Record ``i``'s BCSQ items as :class:`~pgx.annotate.csq.Consequence` (one per item
        and ALT that has it, ``index`` = the item's position; HGVS of that ALT when the caller
        computes HGVS)."""
        from pgx.annotate.csq import entry_to_consequence

        chrom, pos, ref, alts = self.inputs
        out = []
        for k, e in enumerate(self.records[i].entries):
            for a in sorted(e.alleles) or [1]:
                c = entry_to_consequence(e, k, a)
                if self.caller is not None and self.caller.want_hgvs and a <= len(alts[i]):
                    self.caller._add_hgvs(c, e, chrom, int(pos[i]), ref[i].upper(),
                                          alts[i][a - 1].upper())
                out.append(c)
        return out


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


class _Tree:
    """Haplotype tree of one transcript within a block: ``nodes[0]`` is the root, ``cur[h]`` the
    node haplotype ``h`` has reached."""

    __slots__ = ("tx", "nodes", "cur")

    def __init__(self, tx, n_haps: int):
        self.tx = tx
        root = Node(ROOT)
        root.children = {}
        root.nend = n_haps
        self.nodes = [root]
        self.cur = np.zeros(n_haps, np.int32)


def _groups(cur: np.ndarray, al: np.ndarray, alts) -> list:
    """Carrier haplotypes grouped by (current node, allele), in the order bcftools meets them
    (by the first haplotype of each group): ``[(allele, haplotype indices)]``."""
    sym = np.array([True] + [is_symbolic(a) for a in alts])
    idx = np.flatnonzero((al > 0) & (al < len(sym)))
    if not len(idx):
        return []
    a = al[idx].astype(np.int64)
    keep = ~sym[a]
    idx, a = idx[keep], a[keep]
    if not len(idx):
        return []
    keys = cur[idx].astype(np.int64) * len(sym) + a
    uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    perm = np.argsort(inv, kind="stable")
    counts = np.bincount(inv, minlength=len(uniq))
    stops = np.cumsum(counts)
    out = []
    for g in np.argsort(first, kind="stable").tolist():
        out.append((int(a[first[g]]), idx[perm[stops[g] - counts[g]:stops[g]]]))
    return out


class _Block:
    def __init__(self, caller, chrom, pos, ref, alts, gt, phased, phase, ends, sample_names,
                 ncsq, where):
        self.caller = caller
        self.rules = caller.rules
        self.chrom = chrom
        self.pos = [int(p) for p in pos]
        self.ref = [r.upper() for r in ref]
        self.alts = [[a if a[:1] == "<" else a.upper() for a in al if a and a != "."]
                     for al in alts]
        self.gt = gt
        self.phased = phased
        self.phase = phase
        self.ends = ends
        self.names = sample_names
        self.where = where
        V = len(self.pos)
        self.S = gt.shape[1] if gt is not None else 0
        self.n_haps = 2 * self.S if gt is not None else 1
        self.records = [RecordCsq(p) for p in self.pos]
        self.ncsq2 = 2 * ncsq
        self.nfmt = 1 + (self.ncsq2 - 1) // BITS_PER_INT
        self.fmt = np.zeros((V, self.S, self.nfmt), np.int32) if gt is not None else None
        self.trees: dict[int, _Tree] = {}
        self.warnings = {"overlapping": 0, "ploidy": 0, "fmt_overflow": 0}
        self._alleles: dict[int, tuple] = {}

    # ---------------------------------------------------------------- FORMAT bits
    def set_bits(self, i: int, idx: int, ial: int) -> None:
        """csq_stage: samples whose genotype carries ``ial`` get item ``idx`` at record ``i``."""
        if self.fmt is None or not ial:
            return
        g = self.gt[i]
        for j in range(min(g.shape[1], 2)):
            k = 2 * idx + j
            if k >= self.ncsq2:
                self.warnings["fmt_overflow"] += 1
                break
            rows = np.flatnonzero(g[:, j] == ial)
            if len(rows):
                self.fmt[i, rows, k // BITS_PER_INT] |= np.int32(1 << (k % BITS_PER_INT))

    def alleles(self, i: int):
        got = self._alleles.get(i)
        if got is None:
            got = self._alleles[i] = effective_alleles(
                self.gt[i], self.phased[i] if self.phased is not None else None, self.phase,
                f"{self.where}{self.chrom}:{self.pos[i]}", self.names)
        return got

    # ---------------------------------------------------------------- records
    def run(self) -> HaploResult:
        caller = self.caller
        beg = np.asarray(self.pos, np.int64) - 1
        end = beg + np.array([len(r) for r in self.ref], np.int64)
        lo, hi, kl = caller.locate(self.chrom, beg, end)
        deep = caller.deep_records(self.chrom, beg, end, self.ref, self.alts, lo, hi, kl)
        located = list(zip(lo.tolist(), hi.tolist(), kl.tolist()))
        for i in range(len(self.pos)):
            if deep[i] is not None:  # intronic: no coding entries, no FORMAT bits
                self.records[i] = deep[i]
            else:
                self.record(i, located[i])
            p0 = self.pos[i] - 1
            for t in [t for t, tr in self.trees.items() if tr.tx.end <= p0 - 1]:
                self.flush(t)
        for t in sorted(self.trees, key=lambda t: (self.trees[t].tx.end, t)):
            self.flush(t)
        return HaploResult(self.records, self.fmt, self.warnings, self.caller,
                           (self.chrom, self.pos, self.ref, self.alts))

    def record(self, i: int, located) -> None:
        rc = self.records[i]
        got = self.caller.prepare(rc, self.chrom, self.pos[i], self.ref[i], self.alts[i],
                                  self.ends[i] if self.ends is not None else None,
                                  f"{self.where}{self.chrom}:{self.pos[i]}", located)
        if got is None:
            return
        pos0, ref, alts, txs, klass = got
        rules = self.rules
        sink: list = []
        if klass == 1:
            rules.deep(rc, txs, pos0, ref, alts, sink)
        else:
            hit = self.cds(i, txs, sink)
            hit = rules.utr(rc, txs, pos0, ref, alts, sink) or hit
            hit = rules.splice(rc, txs, pos0, ref, alts, sink) or hit
            if not hit:
                rules.tscript(rc, txs, pos0, ref, alts, sink)
        for idx, e in sink:
            self.set_bits(i, idx, e.ial)

    def cds(self, i: int, txs, sink) -> bool:
        rules, rc = self.rules, self.records[i]
        pos0, ref, alts = self.pos[i] - 1, self.ref[i], self.alts[i]
        hit = False
        for _, _, _, tx, icds in rules.cds_rows(txs, pos0, ref):
            hit = True
            tree = self.trees.get(tx.t)
            if tree is None:
                tree = self.trees[tx.t] = _Tree(tx, self.n_haps)
            if self.gt is None:
                groups = [(1, np.zeros(1, np.int64))] if not is_symbolic(alts[0]) else []
            else:
                al, ngts = self.alleles(i)
                if ngts not in (1, 2):
                    self.warnings["ploidy"] += 1
                    continue
                groups = _groups(tree.cur, al, alts)
            nodes = tree.nodes
            for ial, haps in groups:
                pid = int(tree.cur[haps[0]])
                parent = nodes[pid]
                key = (i, ial, icds)
                cid = parent.children.get(key)
                if cid is None:
                    ret, node = hap_init(tx, parent, icds, pos0, ref, alts[ial - 1], ial,
                                         rules.stager(rc, tx, ial, sink),
                                         rules.utr_stager(rc, tx, ial, sink),
                                         self.caller.compat_116)
                    if ret == 1:
                        self.warnings["overlapping"] += 1
                    if ret != 0:
                        continue
                    if node.kind == SSS:
                        e = Entry(node.csq, tx, ial)
                        idx, _ = rc.push(e)
                        sink.append((idx, e))
                        continue
                    node.rec = i
                    node.children = {}
                    cid = len(nodes)
                    nodes.append(node)
                    parent.children[key] = cid
                tree.cur[haps] = cid
                nodes[cid].nend += len(haps)
                parent.nend -= len(haps)
        return hit

    # ---------------------------------------------------------------- haplotypes
    def flush(self, t: int) -> None:
        tree = self.trees.pop(t, None)
        if tree is None or not tree.nodes[0].children:
            return
        tx = tree.tx
        nodes = tree.nodes
        leaves: dict[int, list] = {}
        cache: dict = {}
        path: list[Node] = []
        # depth first over the children in creation order, as bcftools walks its tree
        todo = [(cid, 0) for cid in reversed(list(nodes[0].children.values()))]
        while todo:
            cid, depth = todo.pop()
            del path[depth:]
            node = nodes[cid]
            path.append(node)
            if node.nend > 0:
                leaves[cid] = self._leaf(tx, path, cache)
            todo.extend((c, depth + 1) for c in reversed(list(node.children.values())))
        if self.fmt is None or not leaves:
            return
        order = np.argsort(tree.cur, kind="stable")
        ids = tree.cur[order]
        bounds = (np.flatnonzero(np.diff(ids)) + 1).tolist()
        recs, rows, words, bits = [], [], [], []
        for a, b in zip([0, *bounds], [*bounds, len(ids)]):
            items = leaves.get(int(ids[a]))
            if not items:
                continue
            s, j = np.divmod(order[a:b], 2)
            it = np.array(items, np.int64)  # (record, item index) in push order
            for jj in (0, 1):
                sel = s[j == jj]
                if not len(sel):
                    continue
                k = 2 * it[:, 1] + jj
                over = np.flatnonzero(k >= self.ncsq2)
                n = int(over[0]) if len(over) else len(k)  # bcftools stops at the first
                if len(over):
                    self.warnings["fmt_overflow"] += 1
                if not n:
                    continue
                recs.append(np.repeat(it[:n, 0], len(sel)))
                rows.append(np.tile(sel, n))
                words.append(np.repeat(k[:n] // BITS_PER_INT, len(sel)))
                bits.append(np.repeat((1 << (k[:n] % BITS_PER_INT)).astype(np.int32),
                                      len(sel)))
        if recs:
            from pgx.annotate.csq_numba_fns import or_bits

            or_bits(self.fmt, np.concatenate(recs), np.concatenate(rows).astype(np.int64),
                    np.concatenate(words), np.concatenate(bits))

    def _leaf(self, tx, path: list[Node], cache: dict) -> list:
        """Consequences of one haplotype path; returns [(record, item index)] for FORMAT."""
        caller = self.caller
        total = tx.cds_total
        fwd = tx.strand > 0
        sref = tx.sref
        k = len(path)
        seqs = [n.seq for n in path]
        slen = []
        acc = 0
        for s in seqs:
            acc += len(s)
            slen.append(acc)
        sseq = "".join(seqs)
        hap_sbeg = path[0].sbeg
        soff = [slen[i] - (path[i].rlen + path[i].dlen) for i in range(k)]
        sbeg = [hap_sbeg + soff[i] for i in range(k)]
        m = total + sum(n.dlen for n in path)
        leaf_ial = path[-1].ial
        out: list = []
        state = {"upstream": False}
        order = range(k) if fwd else range(k - 1, -1, -1)
        ibeg, dlen, indel = -1, 0, False
        for i in order:
            n = path[i]
            dlen += n.dlen
            indel = indel or n.dlen != 0
            last = i == k - 1 if fwd else i == 0
            if not last:
                if dlen % 3:
                    if ibeg == -1:
                        ibeg = i
                    continue
                if fwd:
                    icur, inext = sbeg[i], sbeg[i + 1]
                    if n.dlen > 0:
                        icur += n.dlen
                    elif n.dlen < 0:
                        icur += 1
                else:
                    icur, inext = m - 1 - sbeg[i], m - 1 - sbeg[i - 1]
                    if n.dlen > 0:
                        icur += n.dlen - 1
                    elif n.dlen < 0:
                        icur -= n.dlen
                    if path[i - 1].dlen > 0:
                        inext -= path[i - 1].dlen
                if _cdiv(icur, 3) == _cdiv(inext, 3):
                    if ibeg == -1:
                        ibeg = i
                    continue
            if ibeg < 0:
                ibeg = i
            lo, hi = (ibeg, i) if fwd else (i, ibeg)
            fill = dlen % 3 != 0
            rbeg = path[lo].sbeg
            rend = path[hi].sbeg + path[hi].rlen
            if sseq:
                seg = sseq[soff[lo]:slen[hi]]
            else:
                seg, fill = "", False
            key = (tuple((path[x].rec, path[x].ial, path[x].icds) for x in range(lo, hi + 1)),
                   state["upstream"], sbeg[lo] - rbeg, m, leaf_ial)
            got = cache.get(key)
            if got is None:
                tseq = caller.translate(tx, seg, m, sbeg[lo], rbeg, rend, fill)
                tref = caller.translate(tx, sref[PAD + rbeg:PAD + rend], total, rbeg, rbeg,
                                        rend, fill)
                got = cache[key] = self._combine(tx, path, lo, hi, dlen, indel, tref, tseq,
                                                 state["upstream"], sbeg, slen, hap_sbeg, m,
                                                 seg)
            pushes, stop = got
            if stop:
                state["upstream"] = True
            for rec, e in pushes:
                idx, _ = self.records[rec].push(e.copy())
                out.append((rec, idx))
            ibeg, dlen, indel = -1, 0, False
        return out

    def _combine(self, tx, path, lo, hi, dlen, indel, tref, tseq, upstream, sbeg, slen,
                 hap_sbeg, m, seg):
        """The entries one part of a haplotype pushes: [(record, Entry)], found_stop."""
        fwd = tx.strand > 0
        code = self.caller.code
        ref_node = lo if fwd else hi
        bits = 0
        for x in range(lo, hi + 1):
            bits |= path[x].csq & B.COMPOUND
        if dlen == 0 and indel:
            bits |= B.INFRAME_ALTERING
        tref, _ = truncate_at_stop(tref)
        raw = tseq
        tseq, stop = truncate_at_stop(tseq)
        alt_start = None
        if bits & B.START_LOST and len(code.starts) > 1:
            alt_start = alt_first_codon(tx, path[lo].sbeg, path[hi].sbeg + path[hi].rlen, seg)
        bits, rm = classify(bits, tref, tseq, dlen, alt_start, code.starts, raw,
                           self.caller.compat_116)
        if lo != hi and bits & (B.INFRAME_DELETION | B.INFRAME_INSERTION
                                | B.INFRAME_ALTERING) and tseq[-1:] == "*":
            rm |= B.INFRAME_DELETION | B.INFRAME_INSERTION | B.INFRAME_ALTERING
            bits |= B.FRAMESHIFT | B.STOP_GAINED
        if upstream:
            bits |= B.UPSTREAM_STOP
        bits &= ~rm
        total = tx.cds_total
        brief = self.caller.brief
        if fwd:
            aa_r = path[lo].sbeg // 3 + 1
            aa_s = sbeg[lo] // 3 + 1
        else:
            aa_r = _cdiv(total - (path[hi].sbeg + path[hi].rlen), 3) + 1
            aa_s = _cdiv(m - (hap_sbeg + slen[hi]), 3) + 1
        text = f"|{aa_r}{aa_text(tref, aa_r, brief)}"
        if not bits & B.SYNONYMOUS:
            text += f">{aa_s}{aa_text(tseq, aa_s, brief)}"
        text += "|" + "+".join(f"{path[x].pos + 1}{path[x].var}" for x in range(lo, hi + 1))
        ial = path[-1].ial
        main = Entry(bits, tx, ial, text)
        pushes = [(path[ref_node].rec, main)]
        ref_pos = path[ref_node].pos + 1
        for x in range(lo, hi + 1):
            n = path[x]
            if n.csq & ~B.COMPOUND:
                pushes.append((n.rec, Entry(n.csq & ~B.COMPOUND & ~rm, tx, 0, text,
                                            origin=n.ial)))
            if x != ref_node and (bits & B.COMPOUND or not n.csq & ~B.COMPOUND):
                back = Entry(B.PRINTED_UPSTREAM | n.csq, tx, 0, None, ref_pos, origin=n.ial)
                back.ref_rec = path[ref_node].rec
                pushes.append((n.rec, back))
        return pushes, stop


def haplotype_consequences(caller, chrom: str, pos, ref, alts, gt=None, phased=None, *,
                           phase: str = "r", ends=None, sample_names=None, ncsq: int = 15,
                           where: str = "") -> HaploResult:
    """Haplotype-aware BCSQ of a block of records of one contig (see the module docstring).

    ``pos`` 1-based POS (sorted), ``ref``/``alts`` strings, ``ends`` INFO/END per record (for
    ``<DEL>``) or None. ``ncsq``: consequences per haplotype that FORMAT/BCSQ can hold
    (bcftools ``-n``, default 15). ``where``: prefix for error messages (e.g. the VCF path).
    """
    if phase not in ("a", "m", "r", "R", "s"):
        raise ValueError("phase must be one of a, m, r, R, s")
    if where and not where.endswith(": "):
        where = where + ": "
    block = _Block(caller, chrom, pos, ref, alts, gt, phased, phase, ends, sample_names, ncsq,
                   where)
    return block.run()


def translate_bitmask(result: HaploResult, i: int, s: int) -> tuple[str, str]:
    """bcftools query's %TBCSQ for record ``i``, sample ``s``: the BCSQ items of each
    haplotype joined by ``,`` (``.`` for none)."""
    items = [e.bcsq() for e in result.records[i].entries]
    out = []
    for j in range(2):
        got = []
        for k in range(len(items)):
            bit = 2 * k + j
            word = int(result.fmt[i, s, bit // BITS_PER_INT])
            if word >> (bit % BITS_PER_INT) & 1:
                got.append(items[k])
        out.append(",".join(got) if got else ".")
    return out[0], out[1]
