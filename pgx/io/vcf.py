"""Read genotypes at defined positions from VCF, VCF.gz or BCF, with input validation.

Coordinates: positions are 1-based VCF ``POS``. Contigs are normalised to ``chr``-prefixed
names (``10`` -> ``chr10``, ``MT``/``M`` -> ``chrM``) so that ``chr`` and no-``chr`` files
behave the same.

Bgzipped VCF and BCF with a ``.tbi``/``.csi`` index are read by region queries at the defined
positions only, so a whole-genome file is never read in full. Plain-text VCF, and compressed
files without an index up to ``STREAM_LIMIT_BYTES`` (16 MiB; the environment variable
``PGX_STREAM_LIMIT_BYTES`` overrides it, e.g. in tests), are streamed once; a larger compressed
file without an index is an error that says how to index it.

Validation: every problem is an :class:`~pgx.errors.InputError` whose one-line message names the
file, the line (or record) where known, and the fix. A streamed text VCF is checked line by line
(column count, POS, gVCF blocks) before htslib parses it, so a malformed line is reported with
its line number; for indexed files, which are read by region, the record's position is named.
htslib's own stderr logging is switched off (``CYVCF2_HTSLIB_LOG_LEVEL``, when set, wins) so
that an error is exactly one line.

Genotype arrays use ``-1`` for a missing allele (``.``) and ``-2`` for "no such copy" (the
second slot of a haploid call).
"""
from __future__ import annotations

import gzip
import os
import re
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgx.errors import InputError, UsageError
from pgx.io.reference_build import check_contig_lengths, check_header_build
from pgx.io.vcf_header import chrom_line_samples

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
STREAM_LIMIT_BYTES = 16 * 1024 * 1024  # compressed files without index: stream up to this size
STREAM_LIMIT_ENV = "PGX_STREAM_LIMIT_BYTES"  # overrides STREAM_LIMIT_BYTES (bytes, integer)
REGION_GAP = 2_000  # defined positions closer than this (bp) are fetched in one region query
COLUMNAR_REGION_GAP = 20_000  # the same for the columnar reader (reading on is cheap, seeks not)

MISSING = -1
NO_COPY = -2

GVCF_ALTS = ("<NON_REF>", "<*>")
_GT = re.compile(r"^(\.|\d+)([/|](\.|\d+))*$")
_OTHER_COMPRESSION = {  # magic bytes of compressions htslib cannot read as VCF
    b"BZh": "bzip2", b"\xfd7zXZ": "xz", b"\x28\xb5\x2f\xfd": "zstd", b"PK\x03\x04": "zip",
}


def normalise_chrom(chrom: str) -> str:
    c = chrom[3:] if chrom.lower().startswith("chr") else chrom
    if c.upper() in ("M", "MT"):
        return "chrM"
    return "chr" + c


def stream_limit_bytes() -> int:
    """Largest compressed file read without an index (``PGX_STREAM_LIMIT_BYTES`` overrides)."""
    raw = os.environ.get(STREAM_LIMIT_ENV)
    if raw is None or raw == "":
        return STREAM_LIMIT_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise UsageError(f"environment variable {STREAM_LIMIT_ENV}={raw!r} must be a number of "
                         f"bytes (a non-negative integer); unset it to use the default")
    return value


_HTSLIB_QUIET = False


def quiet_htslib() -> None:
    """Switch htslib's stderr logging off (pgx reports errors itself, in one line)."""
    global _HTSLIB_QUIET
    if _HTSLIB_QUIET:
        return
    _HTSLIB_QUIET = True
    if os.environ.get("CYVCF2_HTSLIB_LOG_LEVEL"):
        return  # the user asked for htslib's log (debugging)
    try:
        from cyvcf2.cyvcf2 import set_htslib_log_level
    except ImportError:  # older cyvcf2: keep htslib's default logging
        return
    set_htslib_log_level(0)


@dataclass
class SiteRecords:
    """Records of one VCF at the requested positions (columnar; one row per record)."""

    path: str
    samples: list[str]
    chrom: list[str] = field(default_factory=list)  # normalised contig names
    pos: list[int] = field(default_factory=list)  # 1-based POS
    ref: list[str] = field(default_factory=list)
    alts: list[list[str]] = field(default_factory=list)
    gt: list[np.ndarray] = field(default_factory=list)  # int16 [n_samples, 2]
    phased: list[np.ndarray] = field(default_factory=list)  # bool [n_samples]
    ps: list[np.ndarray | None] = field(default_factory=list)  # int64 [n_samples] or None
    filter_ok: list[bool] = field(default_factory=list)  # FILTER is PASS or '.'
    sample_ok: list[np.ndarray | None] = field(default_factory=list)  # FORMAT/FT is PASS


def _check_compression(path: Path) -> str:
    """Return 'bgzf' or 'plain'; raise for plain gzip, truncation, empty or other compressions."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: file is empty (0 bytes); pass a VCF, bgzipped VCF (.vcf.gz) "
                         f"or BCF file, re-exporting it if it was cut short")
    with open(path, "rb") as fh:
        head = fh.read(18)
        if head[:2] == b"\x1f\x8b":
            if len(head) < 18 or head[12:14] != b"BC":
                raise InputError(f"{path}: gzip but not BGZF-compressed; recompress with "
                                 f"`gunzip -c {path} | bgzip > OUT.vcf.gz` (htslib bgzip) so it "
                                 f"can be indexed and read")
            fh.seek(max(0, size - len(BGZF_EOF)))
            if fh.read() != BGZF_EOF:
                raise InputError(f"{path}: truncated (no BGZF end-of-file block); the file is "
                                 f"incomplete: copy or re-create it")
            return "bgzf"
    for magic, name in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            raise InputError(f"{path}: {name}-compressed, which htslib cannot read; decompress "
                             f"it and recompress with `bgzip` (or pass the plain-text VCF)")
    return "plain"


def _open_text(path: Path, compression: str):
    return gzip.open(path, "rb") if compression == "bgzf" else open(path, "rb")


def _is_bcf(path: Path, compression: str) -> bool:
    try:
        with _open_text(path, compression) as fh:
            return fh.read(3) == b"BCF"
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: corrupt compressed data ({exc}); re-create the file "
                         f"(bgzip, bcftools)") from exc


def _index_for(path: Path) -> Path | None:
    for suffix in (".tbi", ".csi"):
        cand = Path(str(path) + suffix)
        if cand.is_file():
            return cand
    return None


def _read_text_header(path: Path, compression: str) -> tuple[int, list[str]]:
    """Check a text VCF's header; return (number of header lines, sample names)."""
    try:
        with _open_text(path, compression) as fh:
            n = 0
            for raw in fh:
                n += 1
                if n == 1 and not raw.startswith(b"##fileformat=VCF"):
                    raise InputError(f"{path}:1: not a VCF: the first line must start with "
                                     f"##fileformat=VCF; pass a VCF, bgzipped VCF (.vcf.gz) or "
                                     f"BCF file")
                if raw.startswith(b"##"):
                    continue
                if raw.startswith(b"#CHROM"):
                    return n, chrom_line_samples(path, n, raw.decode("utf-8", errors="replace"))
                raise InputError(f"{path}:{n}: expected a '##' header line or the '#CHROM' line "
                                 f"before the data; add the #CHROM line (the header is "
                                 f"incomplete)")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: corrupt compressed data ({exc}); re-create the file "
                         f"(bgzip, bcftools)") from exc
    raise InputError(f"{path}: no '#CHROM' header line (the file ends after {n} header "
                     f"line(s)); the VCF is incomplete: re-export it")


def _header_samples(path: Path, header: str, samples: list[str]) -> None:
    seen = set()
    for s in samples:
        if s in seen:
            raise InputError(f"{path}: duplicate sample name {s!r} in the header; sample names "
                             f"must be unique (rename with `bcftools reheader -s`)")
        seen.add(s)
    if not re.search(r"^##FORMAT=<ID=GT,", header, re.M):
        raise InputError(f"{path}: no FORMAT/GT field in the header; star alleles need "
                         f"genotypes (GT) per sample: pass the genotyped VCF (with a GT column)")


def _diagnose_line(line: str, samples: list[str]) -> str:
    """Why htslib could not parse a (structurally complete) data line."""
    cols = line.rstrip("\r\n").split("\t")
    if len(cols) > 9:
        keys = cols[8].split(":")
        if "GT" not in keys:
            return f"FORMAT is {cols[8]!r}, without GT; every record needs a GT genotype"
        i = keys.index("GT")
        for name, value in zip(samples, cols[9:]):
            parts = value.split(":")
            gt = parts[i] if i < len(parts) else "."
            if not _GT.match(gt):
                return (f"sample {name} has genotype {gt!r}, which is not a valid GT "
                        f"(e.g. 0/1, 1|0, ./.)")
    return "htslib cannot parse this record"


class VcfFile:
    """An opened, validated VCF/BCF. Use :meth:`fetch` to read records at positions."""

    def __init__(self, path: str | os.PathLike):
        import cyvcf2

        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a directory, not a VCF file; pass the VCF, "
                             f"VCF.gz or BCF file itself")
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file; check the path")
        try:
            self.compression = _check_compression(self.path)
        except PermissionError as exc:
            raise InputError(f"{self.path}: cannot be read ({exc.strerror}); fix the file's "
                             f"permissions") from exc
        self.is_bcf = _is_bcf(self.path, self.compression)
        self._header_lines = 0
        text_samples = None
        if not self.is_bcf:
            self._header_lines, text_samples = _read_text_header(self.path, self.compression)
        quiet_htslib()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._vcf = cyvcf2.VCF(str(self.path), gts012=False, strict_gt=False)
        except Exception as exc:  # cyvcf2 raises bare Exceptions
            raise InputError(f"{self.path}: the header cannot be read as VCF/BCF ({exc}); check "
                             f"it with `bcftools view -h {self.path}`") from exc
        self.samples = list(self._vcf.samples)
        if text_samples is not None and text_samples != self.samples:
            raise InputError(f"{self.path}:{self._header_lines}: htslib reads the sample names "
                             f"differently from the #CHROM line; fix the #CHROM line")
        if not self.samples:
            raise InputError(f"{self.path}: no samples in the header; a VCF with genotype "
                             f"(FORMAT/GT and sample) columns is needed")
        self.header = self._vcf.raw_header
        _header_samples(self.path, self.header, self.samples)
        check_contig_lengths(self.path, self.header)
        check_header_build(self.path, self.header)
        self.index = _index_for(self.path) if self.compression == "bgzf" else None
        size = self.path.stat().st_size
        limit = stream_limit_bytes()
        if self.compression == "bgzf" and self.index is None and size > limit:
            how = (f"`bcftools index {self.path}`" if self.is_bcf else
                   f"`bcftools index -t {self.path}` (or `tabix -p vcf {self.path}`)")
            raise InputError(f"{self.path}: no index (.tbi/.csi) next to the file, which is "
                             f"{size:,} bytes (only files up to {limit:,} bytes are read "
                             f"without one); index it with {how}")
        self._has_ps = bool(re.search(r"^##FORMAT=<ID=PS,", self.header, re.M))
        self._has_ft = bool(re.search(r"^##FORMAT=<ID=FT,", self.header, re.M))
        self.contigs = {normalise_chrom(c): c for c in self._vcf.seqnames} if self.index else {}
        # contig names of the records: the index's (indexed files) or those seen when streaming
        self.record_contigs: set[str] = set(self._vcf.seqnames) if self.index else set()

    # ------------------------------------------------------------------ locations and errors
    def _line(self, ordinal: int) -> int:
        """Line number of the ``ordinal``-th data record of a streamed text VCF (checked by
        :meth:`_scan_text`: no blank or comment lines among the records)."""
        return self._header_lines + ordinal

    def _where(self, ordinal: int | None, chrom: str, pos: int) -> str:
        if ordinal is not None and not self.is_bcf:
            return f"{self.path}:{self._line(ordinal)}"
        if ordinal is not None:
            return f"{self.path}: record {ordinal} ({chrom}:{pos})"
        return f"{self.path}: record {chrom}:{pos}"

    def _read_line(self, lineno: int) -> str:
        with _open_text(self.path, self.compression) as fh:
            for n, raw in enumerate(fh, start=1):
                if n == lineno:
                    return raw.decode("utf-8", errors="replace")
        return ""

    def _streamed_error(self, ordinal: int, exc: Exception) -> InputError:
        if self.is_bcf:
            return InputError(f"{self.path}: record {ordinal} cannot be read ({exc}); check it "
                              f"with `bcftools view {self.path}` and re-create the file")
        lineno = self._line(ordinal)
        why = _diagnose_line(self._read_line(lineno), self.samples)
        return InputError(f"{self.path}:{lineno}: {why}; fix or remove the line (check with "
                          f"`bcftools view {self.path}`)")

    def _no_records(self) -> InputError:
        return InputError(f"{self.path}: the VCF has a header but no variant records; pass the "
                          f"VCF with its genotype records (was it filtered or exported empty?)")

    def _gvcf_error(self, where: str, chrom: str, pos) -> InputError:
        return InputError(f"{where}: gVCF reference blocks found ({chrom}:{pos}, ALT <NON_REF> "
                          f"or <*>); genotype the gVCF first (e.g. `bcftools convert "
                          f"--gvcf2vcf` or GATK GenotypeGVCFs)")

    # ------------------------------------------------------------------ reading
    def _scan_text(self) -> None:
        """Check every data line of a streamed text VCF: column count, POS, no blank lines
        among records, no gVCF blocks. Collects the record contig names and counts records."""
        n_tabs = 8 + len(self.samples)
        chroms: set[bytes] = set()
        blank = 0
        path = self.path
        lineno = self._header_lines
        try:
            with _open_text(path, self.compression) as fh:
                for _ in range(self._header_lines):
                    fh.readline()
                for line in fh:
                    lineno += 1
                    if line.count(b"\t") != n_tabs:
                        if not line.strip():
                            blank = blank or lineno
                            continue
                        if line.startswith(b"#"):
                            raise InputError(f"{path}:{lineno}: header line among the data "
                                             f"lines; move it above the #CHROM line or remove it")
                        n_cols = line.count(b"\t") + 1
                        raise InputError(
                            f"{path}:{lineno}: {n_cols} tab-separated column(s), expected "
                            f"{n_tabs + 1} (CHROM to INFO, FORMAT and {len(self.samples)} "
                            f"sample(s)); fix the line (columns are separated by single tabs)")
                    if blank:
                        raise InputError(f"{path}:{blank}: blank line among the data lines; "
                                         f"remove it")
                    chrom, pos, _ = line.split(b"\t", 2)
                    if not pos.isdigit():
                        raise InputError(
                            f"{path}:{lineno}: POS {pos.decode(errors='replace')!r} is not a "
                            f"positive integer; fix the line (1-based position)")
                    if chrom not in chroms:
                        if not chrom or b" " in chrom or chrom.startswith(b"#"):
                            raise InputError(
                                f"{path}:{lineno}: CHROM {chrom.decode(errors='replace')!r} is "
                                f"not a contig name; fix the line")
                        chroms.add(chrom)
                    if b"<" in line:
                        alts = line.split(b"\t", 5)[4].decode(errors="replace").split(",")
                        if any(a in GVCF_ALTS for a in alts):
                            raise self._gvcf_error(f"{path}:{lineno}", chrom.decode(), pos.decode())
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: corrupt compressed data ({exc}); re-create the file "
                             f"(bgzip, bcftools)") from exc
        self.record_contigs = {c.decode(errors="replace") for c in chroms}
        self._n_data_lines = (blank or lineno + 1) - 1 - self._header_lines

    def _first_record(self):
        import cyvcf2

        try:
            vcf = cyvcf2.VCF(str(self.path), gts012=False, strict_gt=False)
            try:
                return next(iter(vcf), None)
            finally:
                vcf.close()
        except Exception as exc:
            raise InputError(f"{self.path}: the first record cannot be read ({exc}); check it "
                             f"with `bcftools view {self.path} | head`") from exc

    def _spans(self, targets: dict[str, np.ndarray], gap: int) -> list[tuple[str, int, int]]:
        """(contig name in the file, first, last 1-based POS) of the defined positions, joining
        positions less than ``gap`` bp apart."""
        spans = []
        for chrom, positions in targets.items():
            name = self.contigs.get(chrom)
            if name is None or len(positions) == 0:
                continue
            pos = np.sort(positions)
            start = prev = int(pos[0])
            for p in pos[1:]:
                if p - prev > gap:
                    spans.append((name, start, prev))
                    start = int(p)
                prev = int(p)
            spans.append((name, start, prev))
        return spans

    def _regions(self, targets: dict[str, np.ndarray]) -> list[str]:
        return [f"{n}:{a}-{b}" for n, a, b in self._spans(targets, REGION_GAP)]

    def fetch(self, targets: dict[str, np.ndarray]) -> SiteRecords:
        """Records whose (normalised chrom, POS) is in ``targets`` (chrom -> 1-based positions).

        Text VCF and VCF.gz are read by the columnar reader (:mod:`pgx.io.vcf_reader`, the
        same numba tokenizer as ``pgx filter``): whole for streamed files, from the index's
        virtual offset of each region for indexed ones. BCF is read with cyvcf2 (htslib)."""
        wanted = {c: set(int(p) for p in ps) for c, ps in targets.items()}
        out = SiteRecords(path=str(self.path), samples=self.samples)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cyvcf2 warns on regions without records
            if self.is_bcf and self.index is not None:
                self._fetch_indexed(targets, wanted, out)
            elif self.is_bcf:
                self._fetch_streamed(wanted, out)
            elif self.index is not None:
                self._fetch_columnar_indexed(targets, wanted, out)
            else:
                self._fetch_columnar_streamed(wanted, out)
        return out

    # ------------------------------------------------------------------ columnar reading
    def _columnar(self):
        from pgx.io.variant_chunk import FieldRequest
        from pgx.io.vcf_reader import ColumnarVcf

        info = ("END",) if re.search(r"^##INFO=<ID=END,", self.header, re.M) else ()
        fmt = ("PS",) if self._has_ps else ()
        return ColumnarVcf(self.path), FieldRequest(info=info, format=fmt, gt=True)

    def _fetch_columnar_streamed(self, wanted: dict[str, set[int]], out: SiteRecords) -> None:
        self._scan_text()  # line-numbered structure checks (small files only)
        if self._n_data_lines == 0:
            raise self._no_records()
        positions = np.fromiter(set().union(*wanted.values()) if wanted else (), np.int64)
        vcf, request = self._columnar()
        seen: dict[tuple, tuple[np.ndarray | None, str]] = {}
        for chunk in vcf.iter_chunks(request, chunk_bytes=4 << 20):
            for i in np.nonzero(np.isin(chunk.pos, positions))[0]:
                chrom = normalise_chrom(chunk.contigs[chunk.chrom[i]])
                if int(chunk.pos[i]) in wanted.get(chrom, ()):
                    self._append_row(out, seen, chunk, int(i), chrom,
                                     f"{self.path}:{chunk.line_number(int(i))}")

    def _fetch_columnar_indexed(self, targets: dict[str, np.ndarray],
                                wanted: dict[str, set[int]], out: SiteRecords) -> None:
        from pgx.io.bgzf import region_start_voffset

        vcf, request = self._columnar()
        try:
            first = next(iter(vcf.iter_chunks(request, chunk_bytes=64 << 10)), None)
        except InputError:  # a bad record near the start: reported if a region holds it
            rec = self._first_record()
            if rec is None:
                raise self._no_records() from None
            if any(a in GVCF_ALTS for a in rec.ALT):
                raise self._gvcf_error(f"{self.path}", rec.CHROM, rec.POS) from None
        else:
            if first is None or first.n_records == 0:
                raise self._no_records()
            self._check_gvcf(first, str(self.path))
        seen: dict[tuple, tuple[np.ndarray | None, str]] = {}
        for name, start, end in self._spans(targets, COLUMNAR_REGION_GAP):
            try:
                voffset = region_start_voffset(self.index, name, start - 1, end)
            except (ValueError, OSError, InputError) as exc:
                raise InputError(f"{self.path}: the index {self.index.name} cannot be read "
                                 f"({exc}); re-create it with `bcftools index -f -t "
                                 f"{self.path}`") from exc
            if voffset is None:
                continue
            try:
                self._read_region(vcf, request, voffset, name, start, end, wanted, out, seen)
            except InputError as exc:  # the tokenizer's: name the record, as htslib reads do
                msg = str(exc)
                m = re.match(re.escape(str(self.path)) + r":(\d+): (.*)$", msg)
                if m:
                    cols = self._read_line(int(m.group(1))).split("\t") + ["?"]
                    raise InputError(f"{self.path}: record {cols[0]}:{cols[1]} (line "
                                     f"{m.group(1)}): {m.group(2)}") from exc
                m = re.match(re.escape(str(self.path)) + r": record (\d+) of the region: (.*)$",
                             msg)
                if m:
                    cols = self._line_after(voffset, int(m.group(1))).split("\t") + ["?"]
                    raise InputError(f"{self.path}: record {cols[0]}:{cols[1]}: "
                                     f"{m.group(2)}") from exc
                raise

    def _line_after(self, voffset: int, n: int) -> str:
        """The ``n``-th (1-based) line from BGZF virtual offset ``voffset`` (error reports)."""
        from pgx.io.bgzf import iter_text_chunks

        for data in iter_text_chunks(self.path, start_voffset=voffset, chunk_bytes=1 << 20):
            lines = data.split(b"\n")
            if n <= len(lines):
                return lines[n - 1].decode("utf-8", errors="replace")
            n -= len(lines) - 1
        return ""

    def _read_region(self, vcf, request, voffset: int, name: str, start: int, end: int,
                     wanted, out: SiteRecords, seen: dict) -> None:
        chunk_bytes = 256 << 10
        for chunk in vcf.iter_chunks(request, start_voffset=voffset, chunk_bytes=chunk_bytes):
            if chunk.n_records == 0:
                continue
            tid = chunk.contigs.index(name) if name in chunk.contigs else -2
            on = chunk.chrom == tid
            self._check_gvcf(chunk, str(self.path), on & (chunk.pos <= end))
            inside = on & (chunk.pos >= start) & (chunk.pos <= end)
            chrom = normalise_chrom(name)
            for i in np.nonzero(inside)[0]:
                pos = int(chunk.pos[i])
                if pos in wanted.get(chrom, ()):
                    self._append_row(out, seen, chunk, int(i), chrom,
                                     f"{self.path}: record {name}:{pos}")
            past = (on & (chunk.pos > end)).any() or (~on[np.argmax(on):]).any() if on.any() \
                else True
            if past:
                return

    def _check_gvcf(self, chunk, where: str, rows: np.ndarray | None = None) -> None:
        """gVCF reference blocks (ALT <NON_REF> or <*>) among ``rows`` of ``chunk``."""
        idx = np.arange(chunk.n_records) if rows is None else np.nonzero(rows)[0]
        for i in idx[:1] if rows is None else idx:
            alts = chunk.column_text(int(i), 4).split(",")
            if any(a in GVCF_ALTS for a in alts):
                raise self._gvcf_error(where, chunk.contigs[chunk.chrom[i]], int(chunk.pos[i]))
        if rows is not None and idx.size:
            # no '<' in the rows' text (in place, no copy): no symbolic ALT, nothing to check
            span = chunk.buffer[chunk.line_start[idx[0]]:chunk.line_end[idx[-1]]]
            if (span == ord("<")).any():
                for i in idx:
                    alts = chunk.column_text(int(i), 4).split(",")
                    if any(a in GVCF_ALTS for a in alts):
                        raise self._gvcf_error(where, chunk.contigs[chunk.chrom[i]],
                                               int(chunk.pos[i]))

    def _append_row(self, out: SiteRecords, seen: dict, chunk, i: int, chrom: str,
                    where: str) -> None:
        """Add record ``i`` of a columnar ``chunk`` (see :meth:`_append` for the checks)."""
        ref = chunk.column_text(i, 3)
        alt_text = chunk.column_text(i, 4)
        alts = [] if alt_text == "." else alt_text.split(",")
        raw_chrom, pos = chunk.contigs[chunk.chrom[i]], int(chunk.pos[i])
        if any(a in GVCF_ALTS for a in alts) or ("END" in chunk.info and
                                                 chunk.info["END"].length[i] > 0):
            raise InputError(f"{where}: gVCF reference blocks found ({raw_chrom}:{pos}); "
                             f"genotype the gVCF first (e.g. `bcftools convert --gvcf2vcf` or "
                             f"GATK GenotypeGVCFs)")
        if not chunk.has_gt[i]:
            raise InputError(f"{where}: FORMAT is {chunk.column_text(i, 8)!r}, without GT; "
                             f"every record at a defined position needs a GT genotype")
        alleles = chunk.gt[i].astype(np.int16)  # [S, P]; -1 missing, -2 no such copy
        n = alleles.shape[0]
        if alleles.shape[1] > 2 and (alleles[:, 2:] >= MISSING).any():
            s = self.samples[int(np.nonzero((alleles[:, 2:] >= MISSING).any(axis=1))[0][0])]
            raise InputError(f"{where}: sample {s} has a genotype with more than 2 alleles; "
                             f"pgx calls diploid (or haploid) genotypes: fix the GT")
        gt = np.full((n, 2), NO_COPY, dtype=np.int16)
        k = min(alleles.shape[1], 2)
        gt[:, :k] = alleles[:, :k]
        key = (chrom, pos, ref, tuple(alts))
        if key in seen:
            before, where_before = seen[key]
            if np.array_equal(before, gt):
                return
            short = where_before[len(str(self.path)) + 1:].strip()
            also = (f" (also at line {short})" if short.isdigit() else
                    f" (also as {short})" if re.match(r"record \d", short) else "")
            raise InputError(f"{where}: the variant {ref}>{','.join(alts)} at {raw_chrom}:{pos} "
                             f"is repeated{also} with other genotypes; keep one of them (e.g. "
                             f"`bcftools norm -d exact`)")
        seen[key] = (gt, where)
        out.chrom.append(chrom)
        out.pos.append(pos)
        out.ref.append(ref)
        out.alts.append(alts)
        out.gt.append(gt)
        out.phased.append(chunk.phased[i].copy())
        ps = None
        if "PS" in chunk.fmt:
            vals = chunk.fmt["PS"].values[i, :, 0]
            ps = np.where(np.isnan(vals), 0, vals).astype(np.int64)
            ps[ps < 0] = 0
        out.ps.append(ps)
        out.filter_ok.append(not chunk.filters[i].any() or bool(chunk.filters[i, 0]))
        ft = None
        if self._has_ft:
            ft = self._sample_ft(chunk, i)
        out.sample_ok.append(ft)

    def _sample_ft(self, chunk, i: int) -> np.ndarray | None:
        """FORMAT/FT per sample is PASS or missing (text of one record; FT is rare)."""
        keys = chunk.column_text(i, 8).split(":")
        if "FT" not in keys:
            return None
        k = keys.index("FT")
        start = int(chunk.col_start[i, 9])
        cols = bytes(chunk.buffer[start:chunk.line_end[i]]).decode(errors="replace").split("\t")
        vals = [(c.split(":") + [""] * (k + 1))[k] for c in cols]
        return np.array([v in ("PASS", ".", "") for v in vals], dtype=bool)

    def _fetch_streamed(self, wanted: dict[str, set[int]], out: SiteRecords) -> None:
        if self.is_bcf:  # BCF declares every contig in its header
            self.record_contigs = set(self._vcf.seqnames)
        else:
            self._scan_text()
        positions = set().union(*wanted.values()) if wanted else set()
        chrom_names: dict[str, str] = {}
        n_records = 0  # ordinal of the record (its line, for text VCF: see _line)
        seen: dict[tuple, tuple[np.ndarray | None, str]] = {}
        try:
            for rec in self._vcf:
                n_records += 1
                pos = rec.POS
                if pos not in positions:  # most records: skip before anything else
                    continue
                raw_chrom = rec.CHROM
                chrom = chrom_names.get(raw_chrom)
                if chrom is None:
                    chrom = chrom_names[raw_chrom] = normalise_chrom(raw_chrom)
                if pos not in wanted.get(chrom, ()):
                    continue
                where = self._where(n_records, raw_chrom, pos)
                if self._duplicate(out, seen, rec, chrom, where):
                    continue
                self._append(out, rec, chrom, where)
        except InputError:
            raise
        except Exception as exc:  # htslib parse errors surface as generic exceptions
            raise self._streamed_error(n_records + 1, exc) from exc
        if (n_records if self.is_bcf else self._n_data_lines) == 0:
            raise self._no_records()

    def _fetch_indexed(self, targets: dict[str, np.ndarray], wanted: dict[str, set[int]],
                       out: SiteRecords) -> None:
        first = self._first_record()
        if first is None:
            raise self._no_records()
        if any(a in GVCF_ALTS for a in first.ALT):
            raise self._gvcf_error(f"{self.path}", first.CHROM, first.POS)
        seen: dict[tuple, tuple[int, str]] = {}
        regions = self._regions(targets)
        try:  # load the index (cyvcf2 loads it lazily, at the first query)
            for _ in self._vcf(regions[0]) if regions else ():
                break
        except Exception as exc:
            raise InputError(f"{self.path}: the index {self.index.name} cannot be read ({exc}); "
                             f"re-create it with `bcftools index -f "
                             f"{'' if self.is_bcf else '-t '}{self.path}`") from exc
        for region in regions:
            records = self._vcf(region)
            last = None
            try:
                for rec in records:
                    raw_chrom, pos = rec.CHROM, rec.POS
                    last = f"{raw_chrom}:{pos}"
                    alts = rec.ALT
                    if any(a in GVCF_ALTS for a in alts):
                        raise self._gvcf_error(str(self.path), raw_chrom, pos)
                    chrom = normalise_chrom(raw_chrom)
                    if pos not in wanted.get(chrom, ()):
                        continue
                    where = self._where(None, raw_chrom, pos)
                    # a record overlapping two region queries comes back twice (identical)
                    if self._duplicate(out, seen, rec, chrom, where):
                        continue
                    self._append(out, rec, chrom, where)
            except InputError:
                raise
            except Exception as exc:
                raise self._region_error(region, last, exc) from exc

    def _region_error(self, region: str, last: str | None, exc: Exception) -> InputError:
        """A record that htslib cannot parse in an indexed file: find and diagnose its line
        (text VCF: read the region's raw lines through the index with pysam)."""
        after = f" after record {last}" if last else ""
        why = f"cannot be read ({exc})"
        where = f"a record in {region}{after}"
        if not self.is_bcf:
            try:
                import pysam

                pysam.set_verbosity(0)
                with pysam.TabixFile(str(self.path)) as tbx:
                    lines = list(tbx.fetch(region))
                past = last is None
                for line in lines:
                    chrom, pos = line.split("\t", 2)[:2]
                    if past:
                        where, why = f"record {chrom}:{pos}", _diagnose_line(line, self.samples)
                        break
                    past = f"{chrom}:{pos}" == last
            except Exception:  # keep the general message
                pass
        return InputError(f"{self.path}: {where}: {why}; check it with `bcftools view "
                          f"{self.path} {region}` and fix the record (then re-index the file)")

    def _duplicate(self, out: SiteRecords, seen: dict, rec, chrom: str, where: str) -> bool:
        """True for a repeat of an earlier record (same position, REF, ALT) with the same
        genotypes (skipped); a repeat with other genotypes is an error."""
        key = (chrom, rec.POS, rec.REF, tuple(rec.ALT))
        gt = rec.genotype.array() if "GT" in rec.FORMAT else None
        if key not in seen:
            seen[key] = (gt, where)
            return False
        before, where_before = seen[key]
        if before is not None and gt is not None and np.array_equal(before, gt):
            return True
        short = where_before[len(str(self.path)) + 1:].strip()
        also = (f" (also at line {short})" if short.isdigit() else
                f" (also as {short})" if re.match(r"record \d", short) else "")
        raise InputError(f"{where}: the variant {rec.REF}>{','.join(rec.ALT)} at "
                         f"{rec.CHROM}:{rec.POS} is repeated{also} with other "
                         f"genotypes; keep one of them (e.g. `bcftools norm -d exact`)")

    def _append(self, out: SiteRecords, rec, chrom: str, where: str) -> None:
        alts = list(rec.ALT)
        if any(a in GVCF_ALTS for a in alts) or rec.INFO.get("END") is not None:
            raise InputError(f"{where}: gVCF reference blocks found ({rec.CHROM}:{rec.POS}); "
                             f"genotype the gVCF first (e.g. `bcftools convert --gvcf2vcf` or "
                             f"GATK GenotypeGVCFs)")
        if "GT" not in rec.FORMAT:
            raise InputError(f"{where}: FORMAT is {':'.join(rec.FORMAT)!r}, without GT; every "
                             f"record at a defined position needs a GT genotype")
        arr = rec.genotype.array()  # int16 [n, ploidy + 1], last column = phased flag
        n = arr.shape[0]
        ploidy = arr.shape[1] - 1
        alleles = arr[:, :ploidy]
        if ploidy > 2 and (alleles[:, 2:] >= MISSING).any():
            s = self.samples[int(np.nonzero((alleles[:, 2:] >= MISSING).any(axis=1))[0][0])]
            raise InputError(f"{where}: sample {s} has a genotype with more than 2 alleles; "
                             f"pgx calls diploid (or haploid) genotypes: fix the GT")
        if alleles.size and alleles.max() > len(alts):
            s = self.samples[int(np.nonzero((alleles > len(alts)).any(axis=1))[0][0])]
            raise InputError(f"{where}: sample {s} has GT allele {int(alleles.max())} but the "
                             f"record has {len(alts)} ALT allele(s); fix the GT or the ALT column")
        gt = np.full((n, 2), NO_COPY, dtype=np.int16)
        gt[:, : min(ploidy, 2)] = alleles[:, : min(ploidy, 2)]
        gt[gt < NO_COPY] = NO_COPY
        out.chrom.append(chrom)
        out.pos.append(rec.POS)
        out.ref.append(rec.REF)
        out.alts.append(alts)
        out.gt.append(gt)
        out.phased.append(arr[:, -1].astype(bool))
        ps = None
        if self._has_ps:
            raw = rec.format("PS")
            if raw is not None:
                ps = np.asarray(raw).reshape(n, -1)[:, 0].astype(np.int64)
                ps[ps < 0] = 0
        out.ps.append(ps)
        out.filter_ok.append(rec.FILTER is None or rec.FILTER in ("PASS", "."))
        ft = None
        if self._has_ft:
            raw = rec.format("FT")
            if raw is not None:
                ft = np.array([str(x) in ("PASS", ".", "") for x in raw], dtype=bool)
        out.sample_ok.append(ft)


def open_vcf(path: str | os.PathLike) -> VcfFile:
    return VcfFile(path)
