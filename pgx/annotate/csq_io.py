"""Consequences for every record of a VCF: a driver over the columnar reader.

:func:`annotate_vcf` reads a VCF/VCF.gz/BCF with :class:`pgx.io.vcf_reader.ColumnarVcf` and
yields, per block of records, a :class:`Batch` (the records' contig, 1-based POS, REF, ALTs,
INFO/END, file line, and with ``haplotype=True`` the genotypes) together with the BCSQ string of
each record and, with samples, the FORMAT/BCSQ bitmask (see :mod:`pgx.annotate.csq_haplo`).

Local mode (``haplotype=False``, bcftools ``csq -l``) does not decode genotypes at all.
Haplotype mode cuts the records into blocks that no transcript spans
(:func:`~pgx.annotate.csq_haplo.block_ends`), carrying the tail of a chunk over to the next
one, so a block holds every record of the transcripts it touches.

This module writes nothing; ``pgx annotate`` (VCF out) and the benchmark build on it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgx.io.variant_chunk import COL_ALT, COL_QUAL, COL_REF, FieldRequest


@dataclass
class Batch:
    chrom: str
    pos: np.ndarray  # int64 1-based
    ref: list
    alts: list
    end: list  # INFO/END or None per record
    line: np.ndarray  # 1-based file line (0 when unknown)
    gt: np.ndarray | None = None  # int8 [V, S, P]
    phased: np.ndarray | None = None  # bool [V, S]

    def __len__(self) -> int:
        return len(self.pos)

    def take(self, lo: int, hi: int) -> Batch:
        return Batch(self.chrom, self.pos[lo:hi], self.ref[lo:hi], self.alts[lo:hi],
                     self.end[lo:hi], self.line[lo:hi],
                     None if self.gt is None else self.gt[lo:hi],
                     None if self.phased is None else self.phased[lo:hi])


def _alleles(chunk) -> tuple[list, list]:
    """REF and ALT strings of every record of a text chunk."""
    buf = chunk.buffer.tobytes()
    cs = chunk.col_start
    r0 = cs[:, COL_REF].tolist()
    a0 = cs[:, COL_ALT].tolist()
    q0 = cs[:, COL_QUAL].tolist()
    ref = [buf[a:b - 1].decode() for a, b in zip(r0, a0)]
    alts = [buf[a:b - 1].decode().split(",") for a, b in zip(a0, q0)]
    return ref, alts


def _batches(path, haplotype: bool, threads: int, chunk_bytes: int = 8 << 20):
    from pgx.io.vcf_reader import ColumnarVcf

    vcf = ColumnarVcf(path)
    want_end = "END" in vcf.header.info
    request = FieldRequest(info=("END",) if want_end else (), gt=haplotype)
    for chunk in vcf.iter_chunks(request, threads=threads, chunk_bytes=chunk_bytes):
        if not chunk.n_records:
            continue
        ref, alts = _alleles(chunk)
        if want_end:
            ev = chunk.info["END"]
            end = [int(v) if n else None for v, n in zip(ev.values[:, 0], ev.length)]
        else:
            end = [None] * chunk.n_records
        lines = (chunk.first_line + np.arange(chunk.n_records) if chunk.first_line
                 else np.zeros(chunk.n_records, np.int64))
        # split at contig changes
        ch = chunk.chrom
        cuts = [0, *(np.flatnonzero(ch[1:] != ch[:-1]) + 1).tolist(), chunk.n_records]
        for lo, hi in zip(cuts, cuts[1:]):
            yield Batch(chunk.contigs[int(ch[lo])], chunk.pos[lo:hi], ref[lo:hi], alts[lo:hi],
                        end[lo:hi], lines[lo:hi],
                        chunk.gt[lo:hi] if haplotype and chunk.gt is not None else None,
                        chunk.phased[lo:hi] if haplotype and chunk.phased is not None
                        else None), vcf


def _join(parts: list[Batch]) -> Batch:
    """One batch of consecutive batches of one contig (genotypes padded to one ploidy)."""
    if len(parts) == 1:
        return parts[0]
    a = parts[0]
    gt = phased = None
    if a.gt is not None:
        P = max(p.gt.shape[2] for p in parts)
        pad = lambda g: g if g.shape[2] == P else np.concatenate(  # noqa: E731
            [g, np.full(g.shape[:2] + (P - g.shape[2],), -2, np.int8)], axis=2)
        gt = np.concatenate([pad(p.gt) for p in parts])
        phased = np.concatenate([p.phased for p in parts])
    return Batch(a.chrom, np.concatenate([p.pos for p in parts]),
                 [r for p in parts for r in p.ref], [x for p in parts for x in p.alts],
                 [e for p in parts for e in p.end], np.concatenate([p.line for p in parts]),
                 gt, phased)


def annotate_vcf(path, caller, *, haplotype: bool = True, phase: str = "a", threads: int = 1,
                 ncsq: int = 15, chunk_bytes: int = 8 << 20):
    """Yield ``(batch, bcsq, fmt)``: BCSQ strings per record (``""`` = none) and the
    FORMAT/BCSQ bitmask ``int32 [V, S, nfmt]`` (haplotype mode with samples, else None).
    ``chunk_bytes``: text per reader chunk (blocks span chunks where transcripts do)."""
    yield from _annotate(_batches(path, haplotype, threads, chunk_bytes), str(path), caller,
                         haplotype, phase, ncsq)


def annotate_vcfs(paths, caller, *, haplotype: bool = True, phase: str = "a",
                  threads: int = 1, ncsq: int = 15, prefetch: int = 256):
    """:func:`annotate_vcf` over several files, yielding ``(path, batch, bcsq, fmt)``; a
    background thread reads ahead (up to ``prefetch`` chunks: decompression and tokenising
    release the GIL) while this one computes consequences."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=prefetch)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for path in paths:
                for item in _batches(path, haplotype, threads):
                    while not stop.is_set():
                        try:
                            q.put(("item", item), timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                q.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            q.put(("error", exc))
        q.put(("eof", done))

    thread = threading.Thread(target=produce, name="pgx-csq-read", daemon=True)
    thread.start()

    def one_file():
        while True:
            kind, item = q.get()
            if kind == "item":
                yield item
            elif kind == "end":
                return
            elif kind == "error":
                raise item
            else:  # pragma: no cover - eof before the file's end
                return

    try:
        for path in paths:
            for batch, bcsq, fmt in _annotate(one_file(), str(path), caller, haplotype, phase,
                                              ncsq):
                yield path, batch, bcsq, fmt
    finally:
        stop.set()
        thread.join(timeout=5)


def _annotate(batches, where: str, caller, haplotype: bool, phase: str, ncsq: int):
    from pgx.annotate.csq_haplo import block_cuts, haplotype_consequences, record_reach

    if not haplotype:
        for batch, _ in batches:
            rcs = caller.records(batch.chrom, batch.pos, batch.ref, batch.alts, batch.end,
                                 where, batch.line.tolist())
            yield batch, [rc.bcsq(caller.compat_116) for rc in rcs], None
        return
    pending: list[Batch] = []  # the open block, possibly spread over several chunks
    reach = -1  # how far the open block's records reach (0-based)
    names = None
    for batch, vcf in batches:
        names = vcf.header.samples
        if pending and pending[0].chrom != batch.chrom:
            yield _run_block(caller, _join(pending), phase, names, ncsq, where,
                             haplotype_consequences)
            pending, reach = [], -1
        beg, rr = record_reach(caller, batch.chrom, batch.pos,
                               np.array([len(r) for r in batch.ref]))
        cuts, reach = block_cuts(beg, rr, reach if pending else -1)
        cuts = [c for c in cuts if c > 0 or pending]
        if cuts:  # one block per chunk: up to the last place where blocks may be cut
            c = cuts[-1]
            block = _join(pending + [batch.take(0, c)]) if pending else batch.take(0, c)
            if len(block):
                yield _run_block(caller, block, phase, names, ncsq, where,
                                 haplotype_consequences)
            pending = [batch.take(c, len(batch))]
        else:
            pending.append(batch)
    if pending:
        yield _run_block(caller, _join(pending), phase, names, ncsq, where,
                         haplotype_consequences)


def _run_block(caller, b: Batch, phase, names, ncsq, where, fn):
    gt = b.gt if b.gt is not None and b.gt.shape[1] else None
    res = fn(caller, b.chrom, b.pos, b.ref, b.alts, gt, b.phased if gt is not None else None,
             phase=phase, ends=b.end, sample_names=names, ncsq=ncsq, where=where)
    return b, [r.bcsq(caller.compat_116) for r in res.records], res.fmt
