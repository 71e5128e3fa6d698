"""Read genotypes at defined positions from VCF, VCF.gz or BCF, with input validation.

Coordinates: positions are 1-based VCF ``POS``. Contigs are normalised to ``chr``-prefixed
names (``10`` -> ``chr10``, ``MT``/``M`` -> ``chrM``) so that ``chr`` and no-``chr`` files
behave the same.

Bgzipped VCF and BCF with a ``.tbi``/``.csi`` index are read by region queries at the defined
positions only, so a whole-genome file is never read in full. Plain-text VCF, and small
compressed files without an index, are streamed once.

Genotype arrays use ``-1`` for a missing allele (``.``) and ``-2`` for "no such copy" (the
second slot of a haploid call).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgx.errors import InputError
from pgx.io.reference_build import check_contig_lengths

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
STREAM_LIMIT_BYTES = 16 * 1024 * 1024  # compressed files without index: stream up to this size
REGION_GAP = 2_000  # defined positions closer than this (bp) are fetched in one region query

MISSING = -1
NO_COPY = -2


def normalise_chrom(chrom: str) -> str:
    c = chrom[3:] if chrom.lower().startswith("chr") else chrom
    if c.upper() in ("M", "MT"):
        return "chrM"
    return "chr" + c


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
    """Return 'bgzf', 'plain'; raise for plain gzip, truncation or empty files."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: file is empty; expected a VCF, VCF.gz or BCF")
    with open(path, "rb") as fh:
        head = fh.read(18)
        if head[:2] == b"\x1f\x8b":
            if len(head) < 18 or head[12:14] != b"BC":
                raise InputError(f"{path}: gzip but not BGZF-compressed; recompress with "
                                 f"`bgzip` (htslib) so it can be indexed and read")
            fh.seek(max(0, size - len(BGZF_EOF)))
            if fh.read() != BGZF_EOF:
                raise InputError(f"{path}: truncated (no BGZF end-of-file block); the file is "
                                 f"incomplete, copy or re-create it")
            return "bgzf"
    return "plain"


def _index_for(path: Path) -> Path | None:
    for suffix in (".tbi", ".csi"):
        cand = Path(str(path) + suffix)
        if cand.is_file():
            return cand
    return None


def _header_samples(path: Path, header: str, samples: list[str]) -> None:
    seen = set()
    for s in samples:
        if s in seen:
            raise InputError(f"{path}: duplicate sample name {s!r} in the header; sample names "
                             f"must be unique (rename with `bcftools reheader -s`)")
        seen.add(s)
    if not re.search(r"^##FORMAT=<ID=GT,", header, re.M):
        raise InputError(f"{path}: no FORMAT/GT field in the header; star alleles need "
                         f"genotypes (GT) per sample")


class VcfFile:
    """An opened, validated VCF/BCF. Use :meth:`fetch` to read records at positions."""

    def __init__(self, path: str | os.PathLike):
        import cyvcf2

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        self.compression = _check_compression(self.path)
        if self.compression == "plain":
            self._check_plain_text()
        try:
            self._vcf = cyvcf2.VCF(str(self.path), gts012=False, strict_gt=False)
        except (OSError, Exception) as exc:  # cyvcf2 raises bare Exceptions
            raise InputError(f"{self.path}: cannot be read as VCF/BCF ({exc})") from exc
        self.samples = list(self._vcf.samples)
        if not self.samples:
            raise InputError(f"{self.path}: no samples in the header; a VCF with genotype "
                             f"columns is needed")
        self.header = self._vcf.raw_header
        _header_samples(self.path, self.header, self.samples)
        check_contig_lengths(self.path, self.header)
        self.index = _index_for(self.path) if self.compression == "bgzf" else None
        self._has_ps = bool(re.search(r"^##FORMAT=<ID=PS,", self.header, re.M))
        self._has_ft = bool(re.search(r"^##FORMAT=<ID=FT,", self.header, re.M))
        self.contigs = {normalise_chrom(c): c for c in self._vcf.seqnames} if self.index else {}

    def _check_plain_text(self) -> None:
        with open(self.path, "rb") as fh:
            first = fh.readline(200)
        if not first.startswith(b"##fileformat=VCF") and not first.startswith(b"BCF"):
            raise InputError(f"{self.path}:1: not a VCF (first line must be ##fileformat=VCF...)")

    def _regions(self, targets: dict[str, np.ndarray]) -> list[str]:
        regions = []
        for chrom, positions in targets.items():
            name = self.contigs.get(chrom)
            if name is None or len(positions) == 0:
                continue
            pos = np.sort(positions)
            start = prev = int(pos[0])
            for p in pos[1:]:
                if p - prev > REGION_GAP:
                    regions.append(f"{name}:{start}-{prev}")
                    start = int(p)
                prev = int(p)
            regions.append(f"{name}:{start}-{prev}")
        return regions

    def fetch(self, targets: dict[str, np.ndarray]) -> SiteRecords:
        """Records whose (normalised chrom, POS) is in ``targets`` (chrom -> 1-based positions)."""
        wanted = {c: set(int(p) for p in ps) for c, ps in targets.items()}
        out = SiteRecords(path=str(self.path), samples=self.samples)
        if self.index is not None:
            iterators = (self._vcf(r) for r in self._regions(targets))
        else:
            if self.compression == "bgzf" and self.path.stat().st_size > STREAM_LIMIT_BYTES:
                raise InputError(f"{self.path}: no index (.tbi/.csi) next to the file; index it "
                                 f"with `bcftools index -t {self.path}` (or `tabix -p vcf`)")
            iterators = (self._vcf,)
        n_records = 0
        seen = set()
        try:
            for it in iterators:
                for rec in it:
                    n_records += 1
                    chrom = normalise_chrom(rec.CHROM)
                    pos = rec.POS
                    if pos not in wanted.get(chrom, ()):
                        continue
                    key = (chrom, pos, rec.REF, tuple(rec.ALT))
                    if key in seen:  # overlapping region queries
                        continue
                    seen.add(key)
                    self._append(out, rec, chrom)
        except InputError:
            raise
        except Exception as exc:  # htslib parse errors surface as generic exceptions
            raise InputError(f"{self.path}: malformed record near record {n_records + 1} "
                             f"({exc}); validate with `bcftools view {self.path}`") from exc
        if self.index is None and n_records == 0:
            raise InputError(f"{self.path}: the VCF has no variant records")
        return out

    def _append(self, out: SiteRecords, rec, chrom: str) -> None:
        alts = list(rec.ALT)
        if any(a in ("<NON_REF>", "<*>") for a in alts) or rec.INFO.get("END") is not None:
            raise InputError(f"{self.path}: gVCF reference blocks found ({rec.CHROM}:{rec.POS}); "
                             f"genotype the gVCF first (e.g. `bcftools convert --gvcf2vcf` or "
                             f"GATK GenotypeGVCFs)")
        arr = rec.genotype.array()  # int16 [n, ploidy + 1], last column = phased flag
        n = arr.shape[0]
        gt = np.full((n, 2), NO_COPY, dtype=np.int16)
        ploidy = arr.shape[1] - 1
        gt[:, : min(ploidy, 2)] = arr[:, : min(ploidy, 2)]
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

