"""Allele-matched annotation transfer: values of VCF/TSV sources onto the query's records.

What ``bcftools annotate -a SRC -c ...`` and vcfanno do, per allele::

    indexes = open_sources(load_sources(config["annotate"]["sources"]))
    result = transfer(chunk, indexes)        # one VariantChunk -> per-record pieces
    annotate_vcf("in.vcf.gz", "out.vcf.gz", sources, threads=2)   # a whole file

**Matching** (coordinates: 1-based VCF POS; contigs by exact name). ``match: exact``: every
ALT of a query record is matched on its own (multi-allelic records split) against the
source's split alleles, on contig, POS, REF and ALT after trimming shared bases (see
:mod:`pgx.annotate.transfer_numba_fns`; nothing is left-aligned). Among source records with
the allele, one with exactly the query record's ALTs in the same order wins (as bcftools'
pairing), else the first in the file. ``match: position``: the record takes the first
source record at the same contig and POS, whatever the alleles, and every value is copied
whole (the ##INFO line then says ``Number=.`` for per-allele tags).

**Values**, per output field and query record, from the source records its ALTs matched:

* ``Number=A``: one value per query ALT, in the query's order, each from the record its own
  allele matched (``.`` for an allele without a match, or whose record lacks the tag);
  ``Number=R``: the REF value (when the records agree on it), then the same per ALT;
* ``Number=1``, ``.``, ``G`` or a count: the matched record's text, whole (a ``G`` vector is
  not re-ordered for the query's genotypes, as bcftools); ``Flag``: set if the record has
  it, removed if not (as bcftools). When a multi-allelic query's ALTs matched *different*
  records that disagree on such a value, it is left out (``STATE_CONFLICT``) rather than
  giving one allele's value to the other: bcftools writes the first record's. Declare the
  field ``number: A`` to get one value per ALT instead;
* ``ID``: the IDs of the matched records (not ``.``), distinct, in ALT order, joined by
  ``;``, replace the query's ID; bcftools writes the first record's only.

A field is written when at least one allele gives it a value; the query's own tag of the
same name is then replaced as a whole, in place (bcftools keeps the query's own values for
ALTs without a match). Records without a value keep theirs untouched. Values are the
source's text, byte for byte (bcftools re-formats floats: ``0.360`` -> ``0.36``).

Python runs per chunk (~2 MiB of text), never per record: numba kernels encode the query's
alleles, join them against the memory-mapped source keys, assemble the pieces and splice
them into the INFO column (``annotate_vcf``), all without the GIL on ``threads`` workers.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgx import __version__
from pgx.annotate.source_cache import SourceIndex
from pgx.annotate.sources import Source, check_sources
from pgx.annotate.transfer_pieces import (
    OutputField, TransferResult, combine, output_fields, source_pieces, splice)
from pgx.errors import UsageError
from pgx.io.variant_chunk import FieldRequest, VariantChunk

__all__ = ["AnnotateStats", "OutputField", "TransferResult", "annotate_vcf", "header_lines",
           "open_sources", "transfer"]

HEADER_KEY = "pgx_annotate"
CHUNK_BYTES = 2 << 20
_EMPTY = np.zeros(0, np.int64)


def _kernels():
    from pgx.annotate import transfer_numba_fns

    return transfer_numba_fns


def open_sources(sources: list[Source], cache_dir=None, *, threads: int = 1,
                 rebuild: bool = False) -> list[SourceIndex]:
    """Open (build or reuse the caches of) ``sources``, in order."""
    check_sources(sources)
    return [SourceIndex.open(s, cache_dir, threads=threads, rebuild=rebuild) for s in sources]


def _query_alleles(chunk: VariantChunk):
    K = _kernels()
    if chunk.col_start is None:
        raise UsageError("annotation transfer needs the records' text (read VCF or VCF.gz, "
                         "not BCF)")
    return K.encode_vcf_alleles(chunk.buffer, chunk.col_start, chunk.pos, chunk.chrom)


def transfer(chunk: VariantChunk, indexes: list[SourceIndex], *, typed: bool = True
             ) -> TransferResult:
    """The pieces each output field gets at each record of ``chunk`` (see the module
    docstring and :class:`TransferResult`); ``typed=False`` skips the typed values.
    Thread-safe; the chunk must keep its text (VCF or VCF.gz, not BCF)."""
    K = _kernels()
    aoff, q_hi, q_lo = _query_alleles(chunk)
    parts = []
    for ix in indexes:
        remap = np.array([ix.contig_ids.get(c, -1) for c in chunk.contigs], np.int64)
        if ix.source.match == "exact":
            match = K.join_exact(q_hi, q_lo, remap, ix.ent_hi, ix.ent_lo)
            K.prefer_whole_records(aoff, match, ix.ent_hi, ix.ent_lo, ix.ent_rec, ix.ent_alt,
                                   ix.rec_nalt)
            site_in = _EMPTY
        else:
            site_in = K.join_position(chunk.chrom, chunk.pos, remap, ix.rec_key)
            match = np.full(len(q_hi), -1, np.int64)
        parts.append(source_pieces(ix, aoff, match, site_in, chunk.n_records, typed))
    return combine(indexes, parts, chunk.n_records, typed)


def header_lines(header_lines_in: list[str], indexes: list[SourceIndex],
                 record: dict | None = None) -> list[str]:
    """The query's header lines with the ##INFO lines of the output fields (an existing
    ##INFO line of the same ID is replaced) and one ``##pgx_annotate={json}`` line."""
    new = {f.name: f.field.header_line for f in output_fields(indexes) if f.field.header_line}
    out = [line for line in header_lines_in[:-1]
           if not (line.startswith("##INFO=<ID=") and
                   line[11:].split(",", 1)[0].split(">", 1)[0] in new)]
    out += list(new.values())
    doc = record or {"version": __version__, "sources": [
        {"name": ix.source.name, "file": str(ix.source.file), "match": ix.source.match,
         "sha256": ix.meta.get("sha256"),
         "fields": [{"from": f.source_key, "to": f.name} for f in ix.fields]}
        for ix in indexes]}
    out.append(f"##{HEADER_KEY}={json.dumps(doc, separators=(',', ':'))}")
    return out + header_lines_in[-1:]


@dataclass
class AnnotateStats:
    input: str
    output: str
    records: int = 0
    annotated: dict = field(default_factory=dict)  # source name -> records matched
    cache: dict = field(default_factory=dict)  # source name -> status, build seconds
    seconds: float = 0.0
    threads: int = 1

    def as_json(self) -> dict:
        return {"pgx_version": __version__, "input": self.input, "output": self.output,
                "records": self.records, "records_matched": self.annotated,
                "caches": self.cache, "threads": self.threads,
                "seconds": round(self.seconds, 3)}


def annotate_vcf(in_path, out_path, sources: list[Source] | list[SourceIndex], *,
                 threads: int = 1, cache_dir=None, level: int = 6, index: bool = True,
                 stats_path: str | None = None) -> AnnotateStats:
    """Annotate ``in_path`` (VCF or VCF.gz) into ``out_path`` (``.vcf.gz``: BGZF + .tbi, or
    ``.vcf``): every record copied byte for byte except its ID and INFO columns where a
    source gives values (:func:`transfer`, then the splice kernel), the ##INFO lines added.
    Written under temporary names and renamed at the end; on any error nothing is left.
    ``sources``: :class:`Source` (opened here, caches built if needed) or opened indexes."""
    from pgx.filtering.apply import _Output, _temp_beside, output_type_for
    from pgx.io.bgzf import compress_blocks, deflate_level
    from pgx.io.vcf_reader import ColumnarVcf

    start = time.perf_counter()
    if threads < 1:
        raise UsageError(f"--threads {threads}: must be at least 1")
    if not 0 <= level <= 9:
        raise UsageError(f"--level {level}: must be 0-9 (as bgzip -l)")
    out = Path(out_path)
    otype = output_type_for(str(out_path), None)
    if otype == "b":
        raise UsageError(f"-o {out_path}: BCF output is not supported here; write .vcf.gz")
    if out.resolve() == Path(in_path).resolve():
        raise UsageError(f"-o {out_path}: the output would overwrite the input; choose another "
                         f"file name")
    vcf = ColumnarVcf(in_path)
    if vcf.is_bcf:
        raise UsageError(f"{in_path}: BCF input is not supported; convert it: bcftools view "
                         f"-Oz -o in.vcf.gz {in_path}")
    pool = ThreadPoolExecutor(threads, thread_name_prefix="pgx-annotate")
    texts = vcf.text_bodies(threads=threads, executor=pool, prefetch=True,
                            chunk_bytes=CHUNK_BYTES)
    writer = None
    stats = AnnotateStats(str(in_path), str(out_path), threads=threads)
    stats_tmp = _temp_beside(Path(stats_path)) if stats_path else None
    try:
        indexes = [s if isinstance(s, SourceIndex) else None for s in sources]
        if any(ix is None for ix in indexes):
            indexes = open_sources(list(sources), cache_dir, threads=threads)
        stats.cache = {ix.source.name: {"status": ix.status, "path": str(ix.cache_path),
                                        "build_seconds": ix.build_seconds}
                       for ix in indexes}
        writer = _Output(out, otype, deflate_level(level))
        writer.write(("\n".join(header_lines(vcf.header.lines, indexes)) + "\n").encode())
        blevel = deflate_level(level) if writer.compressed else -1

        def job(chunk: VariantChunk):
            res = transfer(chunk, indexes, typed=False)
            data = splice(chunk, res)
            if blevel >= 0:
                data = compress_blocks(data, blevel)
            return data, [int((s >= 0).sum()) for s in res.sites]

        matched = np.zeros(len(indexes), np.int64)
        for chunk, (data, n) in vcf.map_chunks(job, FieldRequest(gt=False), threads=threads,
                                               executor=pool, texts=texts):
            writer.write_body(data)
            stats.records += chunk.n_records
            matched += n
        stats.annotated = {ix.source.name: int(m) for ix, m in zip(indexes, matched)}
        writer.close(index)
        stats.seconds = time.perf_counter() - start
        if stats_tmp is not None:
            stats_tmp.write_text(json.dumps(stats.as_json(), indent=2) + "\n")
    except BaseException:
        if writer is not None:
            writer.discard()
        if stats_tmp is not None:
            stats_tmp.unlink(missing_ok=True)
        raise
    finally:
        texts.close()
        pool.shutdown(wait=True, cancel_futures=True)
    finals = list(writer.finals)
    if stats_tmp is not None:
        finals.append((stats_tmp, Path(stats_path)))
    for tmp, final in finals:
        os.replace(tmp, final)
    return stats


def main(argv: list[str] | None = None) -> int:
    """``python -m pgx.annotate.transfer -a SRC -c COLS [-h HDR] [--pair-logic P] -o OUT IN``:
    bcftools annotate's form, for benchmarks and checks until ``pgx annotate`` exists."""
    import argparse
    import sys

    from pgx.annotate.sources import parse_bcftools
    from pgx.errors import PgxError

    ap = argparse.ArgumentParser(prog="python -m pgx.annotate.transfer", add_help=False)
    ap.add_argument("-a", "--annotations", required=True)
    ap.add_argument("-c", "--columns", required=True)
    ap.add_argument("-h", "--header-lines")
    ap.add_argument("--pair-logic")
    ap.add_argument("-o", "--output")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache-dir")
    ap.add_argument("--no-index", action="store_true")
    ap.add_argument("-l", "--level", type=int, default=6, help="bgzip's 0-9 scale (6)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the source's cache")
    ap.add_argument("--build-cache-only", action="store_true")
    ap.add_argument("input", nargs="?")
    args = ap.parse_args(argv)
    try:
        header = Path(args.header_lines).read_text().splitlines() if args.header_lines else None
        source = parse_bcftools(args.annotations, args.columns, header_lines=header,
                                pair_logic=args.pair_logic)
        indexes = open_sources([source], args.cache_dir, threads=args.threads,
                               rebuild=args.rebuild)
        if args.build_cache_only:
            ix = indexes[0]
            print(f"{ix.cache_path}: {ix.status} ({ix.n_records:,} records, "
                  f"{ix.n_entries:,} alleles, {ix.build_seconds:.2f} s)", file=sys.stderr)
            return 0
        if not (args.input and args.output):
            raise UsageError("give the input VCF and -o OUT")
        annotate_vcf(args.input, args.output, indexes, threads=args.threads,
                     index=not args.no_index, level=args.level)
    except PgxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
