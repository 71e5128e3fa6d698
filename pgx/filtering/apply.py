"""``pgx filter``: keep records by a bcftools-style expression and mask failing genotypes.

Order of operations (the same as ``bcftools view -i A | bcftools +setGT -- -t q -n . -i B``):
records are kept by ``-i`` (expression true) or ``-e`` (expression false), then in the kept
records every genotype for which ``--set-gt-missing`` is true becomes missing (``./.``, same
ploidy), so the star-allele caller reports the position as unknown instead of reference.

Kept records are copied byte for byte from the input text (only masked GT subfields change);
the output header is the input's plus one ``##pgx_filter={json}`` line (what was applied, by
which pgx version) and one ``##pgx_filterCommand=`` line. ``pgx call`` reads that line back and
records it in every call.

Outputs are written to temporary names beside OUT and renamed at the end: a failed run leaves
nothing behind. Statistics go to a JSON file (schema ``pgx/schemas/filter_stats.schema.json``).
"""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgx import __version__
from pgx.errors import InputError, UsageError
from pgx.io.variant_chunk import FieldRequest, VariantChunk

HEADER_KEY = "pgx_filter"
OUTPUT_TYPES = {"z": "VCF.gz (bgzip)", "v": "plain VCF", "b": "BCF"}
STATS_SCHEMA_VERSION = "1.0"
#: Text per job. 2-4 MiB is where two workers scale best here: bigger chunks allocate bigger
#: arrays per job, and concurrent page faults on fresh allocations serialise the threads.
CHUNK_BYTES = 2 << 20


def output_type_for(path: str, explicit: str | None) -> str:
    """``-O`` if given, else from OUT's extension (.vcf.gz/.vcf.bgz -> z, .bcf -> b, .vcf -> v)."""
    if explicit:
        return explicit
    name = path.lower()
    if name.endswith((".vcf.gz", ".vcf.bgz")):
        return "z"
    if name.endswith(".bcf"):
        return "b"
    if name.endswith(".vcf"):
        return "v"
    raise UsageError(f"-o {path}: cannot tell the output format from the name; end it in "
                     f".vcf.gz, .bcf or .vcf, or pass -O z|b|v")


def _merge_requests(*requests: FieldRequest | None) -> FieldRequest:
    info: list[str] = []
    fmt: list[str] = []
    gt = False
    for r in requests:
        if r is None:
            continue
        info += [t for t in r.info if t not in info]
        fmt += [t for t in r.format if t not in fmt]
        gt = gt or r.gt
    return FieldRequest(info=tuple(info), format=tuple(fmt), gt=gt)


@dataclass
class FilterSettings:
    """What to apply: at most one of include/exclude, and an optional genotype mask."""

    include: str | None = None
    exclude: str | None = None
    set_gt_missing: str | None = None
    preset: str | None = None

    def header_record(self) -> dict:
        return {"version": __version__, "preset": self.preset, "include": self.include,
                "exclude": self.exclude, "set_gt_missing": self.set_gt_missing}


@dataclass
class FilterStats:
    input: str
    output: str
    settings: FilterSettings
    n_samples: int = 0
    records_in: int = 0
    records_out: int = 0
    genotypes_masked: int = 0
    clauses: list[str] = field(default_factory=list)
    clause_failures: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    seconds: float = 0.0
    threads: int = 1

    def as_json(self) -> dict:
        s = self.settings
        return {
            "schema_version": STATS_SCHEMA_VERSION,
            "pgx_version": __version__,
            "input": self.input,
            "output": self.output,
            "preset": s.preset,
            "include": s.include,
            "exclude": s.exclude,
            "set_gt_missing": s.set_gt_missing,
            "samples": self.n_samples,
            "records_in": self.records_in,
            "records_out": self.records_out,
            "records_removed": self.records_in - self.records_out,
            "clauses": [{"clause": c, "records_failing": int(n)}
                        for c, n in zip(self.clauses, self.clause_failures)],
            "genotypes_in": self.records_out * self.n_samples,
            "genotypes_masked": self.genotypes_masked,
            "threads": self.threads,
            "seconds": round(self.seconds, 3),
        }


def _temp_beside(path: Path, suffix: str = "") -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp{suffix}")


def _header_lines(header_lines: list[str], settings: FilterSettings, argv: list[str] | None,
                  source: str | None = None) -> list[str]:
    """The input's header plus what was applied, by which version, to which file (``source``:
    the input path, which reports name as the patient's genotype data)."""
    record = json.dumps({**settings.header_record(), "input": source}, separators=(",", ":"))
    extra = [f"##{HEADER_KEY}={record}"]
    if argv:
        extra.append(f"##{HEADER_KEY}Command={shlex.join(argv)}; Date={time.ctime()}")
    return header_lines[:-1] + extra + header_lines[-1:]


def _process_chunk(chunk: VariantChunk, site_filter, exclude: bool, gt_filter):
    """Evaluate one chunk: (output text as a uint8 array, records kept, genotypes masked,
    clause failures)."""
    from pgx.io.vcf_numba_fns import select_records

    n = chunk.n_records
    if site_filter is not None:
        res = site_filter.evaluate(chunk)
        keep = ~res.site if exclude else res.site
        # a clause "fails" a record when it alone would remove it
        fails = (res.clauses if exclude else ~res.clauses).sum(axis=0).astype(np.int64)
    else:
        keep = np.ones(n, dtype=bool)
        fails = np.zeros(0, dtype=np.int64)
    if gt_filter is not None:
        mask = gt_filter.evaluate(chunk).samples
        if mask is None:  # a site-level expression: every genotype of a true record
            mask = np.repeat(gt_filter.evaluate(chunk).site[:, None], chunk.n_samples, axis=1)
        mask = np.ascontiguousarray(mask & keep[:, None])
    else:
        mask = np.zeros((0, 0), dtype=bool)
    keep = np.ascontiguousarray(keep)
    out, masked = select_records(chunk.buffer, chunk.line_start, chunk.line_end,
                                 chunk.col_start, keep, mask)
    return out, int(keep.sum()), int(masked), fails


class _Output:
    """The output file (temp name until :meth:`commit`) in the requested format."""

    def __init__(self, path: Path, otype: str, level: int):
        from pgx.io.bgzf import BgzfWriter

        self.path, self.otype = path, otype
        # BCF is written as VCF.gz first, then converted by htslib (pysam)
        self.tmp = _temp_beside(path, ".vcf.gz" if otype in "zb" else ".vcf")
        try:
            if otype in "zb":
                self._fh = BgzfWriter(self.tmp, threads=0, level=level)
            else:
                self._fh = open(self.tmp, "wb")
        except OSError as exc:
            raise UsageError(f"-o {path}: cannot write ({exc.strerror or exc}); choose a "
                             f"writable location") from exc
        self.finals: list[tuple[Path, Path]] = []

    @property
    def compressed(self) -> bool:
        return self.otype in "zb"

    def write(self, data) -> None:
        """Text (compressed here if the output is compressed)."""
        self._fh.write(data)

    def write_body(self, data) -> None:
        """A chunk of records from :func:`filter_vcf`'s per-chunk job: BGZF blocks (from
        :func:`pgx.io.bgzf.compress_blocks`) or plain text."""
        if self.compressed:
            self._fh.write_compressed(data)
        else:
            self._fh.write(data)

    def close(self, index: bool) -> None:
        self._fh.close()
        if self.otype == "b":
            import pysam

            bcf_tmp = _temp_beside(self.path, ".bcf")
            with pysam.VariantFile(str(self.tmp)) as vin, \
                    pysam.VariantFile(str(bcf_tmp), "wb", header=vin.header) as vout:
                for rec in vin:
                    vout.write(rec)
            self.tmp.unlink()
            self.tmp = bcf_tmp
        self.finals.append((self.tmp, self.path))
        if index and self.otype in "zb":
            from pgx.io.bgzf import write_index

            write_index(self.tmp, csi=self.otype == "b")
            ext = ".csi" if self.otype == "b" else ".tbi"
            self.finals.append((Path(str(self.tmp) + ext), Path(str(self.path) + ext)))

    def discard(self) -> None:
        try:
            self._fh.close()
        except Exception:  # noqa: BLE001 - best effort clean-up
            pass
        for p in [self.tmp] + [Path(str(self.tmp) + e) for e in (".tbi", ".csi")]:
            p.unlink(missing_ok=True)


def filter_vcf(in_path: str, out_path: str, settings: FilterSettings, *, threads: int = 1,
               output_type: str | None = None, stats_path: str | None = None,
               index: bool = True, level: int = 6, argv: list[str] | None = None,
               progress: bool = False) -> FilterStats:
    """Filter ``in_path`` into ``out_path`` (see the module docstring); return the statistics.

    ``threads``: worker threads; each chunk of ~8 MiB of text is decompressed, tokenised,
    evaluated, selected and (for VCF.gz/BCF) compressed on one of them, and the calling
    thread only writes finished chunks in order. ``level``: compression level on bgzip's
    0-9 scale (6, as bcftools -Oz; mapped to libdeflate as htslib does).

    Raises :class:`UsageError` for bad options or expressions and :class:`InputError` for bad
    input; in both cases no output file is left behind.
    """
    from pgx.io.bgzf import compress_blocks, deflate_level
    from pgx.io.vcf_reader import ColumnarVcf

    start = time.perf_counter()
    if settings.include and settings.exclude:
        raise UsageError("-i and -e cannot be combined (as in bcftools); use one expression, "
                         "e.g. -i 'A && !(B)'")
    if threads < 1:
        raise UsageError(f"--threads {threads}: must be at least 1")
    if not 0 <= level <= 9:
        raise UsageError(f"--compression-level {level}: must be 0-9 (as bgzip -l)")
    out = Path(out_path)
    otype = output_type_for(out_path, output_type)
    if out.resolve() == Path(in_path).resolve():
        raise UsageError(f"-o {out_path}: the output would overwrite the input; choose another "
                         f"file name")
    if not out.parent.is_dir():
        raise UsageError(f"-o {out_path}: the directory {out.parent} does not exist; create it "
                         f"first")
    stats_file = Path(stats_path) if stats_path else Path(str(out) + ".stats.json")

    vcf = ColumnarVcf(in_path)
    header = vcf.header
    pool = ThreadPoolExecutor(threads, thread_name_prefix="pgx-filter")
    # Decompression starts now, on the pool, while the expressions are compiled.
    texts = vcf.text_bodies(threads=threads, executor=pool, prefetch=True,
                            chunk_bytes=CHUNK_BYTES)
    writer = None
    stats_tmp = _temp_beside(stats_file)
    try:
        from pgx.filtering.expression import compile_filter

        expr = settings.include or settings.exclude
        site_filter = compile_filter(expr, header, option="-i" if settings.include else "-e") \
            if expr else None
        gt_filter = compile_filter(settings.set_gt_missing, header, option="--set-gt-missing") \
            if settings.set_gt_missing else None
        if gt_filter is not None and "GT" not in header.format:
            raise InputError(f"{in_path}: --set-gt-missing needs genotypes, but the header has "
                             f"no FORMAT/GT; drop the option or pass the genotyped VCF")
        request = _merge_requests(site_filter.request if site_filter else None,
                                  gt_filter.request if gt_filter else None)
        stats = FilterStats(input=str(in_path), output=str(out_path), settings=settings,
                            n_samples=len(header.samples), threads=threads,
                            clauses=list(site_filter.clauses) if site_filter else [])
        stats.clause_failures = np.zeros(len(stats.clauses), dtype=np.int64)
        writer = _Output(out, otype, deflate_level(level))
        writer.write(("\n".join(_header_lines(header.lines, settings, argv, str(in_path)))
                      + "\n").encode())
        exclude = bool(settings.exclude)
        blevel = deflate_level(level) if writer.compressed else -1

        def job(chunk: VariantChunk):
            data, kept, masked, fails = _process_chunk(chunk, site_filter, exclude, gt_filter)
            if blevel >= 0:
                data = compress_blocks(data, blevel)
            return data, kept, masked, fails

        results = vcf.map_chunks(job, request, threads=threads, executor=pool, texts=texts)
        for chunk, (data, kept, masked, fails) in _progress(results, progress):
            stats.records_in += chunk.n_records
            writer.write_body(data)
            stats.records_out += kept
            stats.genotypes_masked += masked
            if len(fails):
                stats.clause_failures += fails
        writer.close(index)
        stats.seconds = time.perf_counter() - start
        stats_tmp.write_text(json.dumps(stats.as_json(), indent=2) + "\n")
    except BaseException:
        if writer is not None:
            writer.discard()
        stats_tmp.unlink(missing_ok=True)
        raise
    finally:
        texts.close()
        pool.shutdown(wait=True, cancel_futures=True)
    for tmp, final in writer.finals + [(stats_tmp, stats_file)]:
        os.replace(tmp, final)
    return stats


def _progress(results, enabled: bool):
    """``results`` from :meth:`ColumnarVcf.map_chunks`, counted on a progress bar on a tty."""
    if not enabled or not sys.stderr.isatty():
        return results
    from tqdm import tqdm

    bar = tqdm(desc="pgx filter", unit=" records", leave=False)

    def gen():
        try:
            for item in results:
                bar.update(item[0].n_records)
                yield item
        finally:
            bar.close()
    return gen()
