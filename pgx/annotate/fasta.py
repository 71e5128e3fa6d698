"""Reference FASTA access: plain or bgzipped FASTA with a samtools ``.fai`` (and ``.gzi``).

``FastaReader(path).fetch(chrom, start0, end0)`` returns the uppercase sequence of the 0-based
half-open interval ``[start0, end0)``, clipped to the contig (``fetch`` never pads; callers pad
with ``N`` where they need to). Contig names are matched exactly, then with the ``chr`` prefix
added or removed (``10`` ~ ``chr10``, ``MT`` ~ ``chrM``), as ``bcftools csq`` does by default.

Errors are :class:`~pgx.errors.InputError` with a one-line message naming the file and the fix:
a missing or unreadable index (``samtools faidx FILE``), a gzip-but-not-bgzip file
(``bgzip``), a contig not in the FASTA.
"""
from __future__ import annotations

import os
from pathlib import Path

from pgx.errors import InputError


def contig_aliases(name: str) -> list[str]:
    """``name`` and its spellings with and without ``chr`` (``M``/``MT``/``chrM`` alike)."""
    base = name[3:] if name.lower().startswith("chr") else name
    out = [name, base, "chr" + base]
    if base.upper() in ("M", "MT"):
        out += ["chrM", "MT", "M", "chrMT"]
    seen: list[str] = []
    for n in out:
        if n not in seen:
            seen.append(n)
    return seen


class FastaReader:
    """Random access to a FASTA through its ``.fai`` index (pysam / htslib faidx).

    ``lengths``: {contig: length}. ``resolve(chrom)``: the FASTA's name for a VCF/GFF contig
    or ``None``. ``fetch(chrom, start0, end0)``: uppercase ``str`` of ``[start0, end0)``.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such FASTA file; check the path")
        with open(self.path, "rb") as fh:
            magic = fh.read(18)
        compressed = magic[:2] == b"\x1f\x8b"
        if compressed and not (len(magic) >= 16 and magic[12:14] == b"BC"):
            raise InputError(f"{self.path}: gzip-compressed but not bgzip; recompress it with "
                             f"`zcat {self.path.name} | bgzip > {self.path.stem}.gz` and index it "
                             f"with `samtools faidx`")
        fai = Path(str(self.path) + ".fai")
        if not fai.is_file():
            raise InputError(f"{self.path}: no FASTA index {fai.name}; create it with "
                             f"`samtools faidx {self.path}`")
        if compressed and not Path(str(self.path) + ".gzi").is_file():
            raise InputError(f"{self.path}: bgzipped FASTA without its .gzi index; create both "
                             f"indexes with `samtools faidx {self.path}`")
        self.lengths: dict[str, int] = {}
        with open(fai) as fh:
            for n, line in enumerate(fh, 1):
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 5 or not cols[1].isdigit():
                    raise InputError(f"{fai}:{n}: not a FASTA index line (expected 5 tab-separated "
                                     f"columns); recreate it with `samtools faidx {self.path}`")
                self.lengths[cols[0]] = int(cols[1])
        import pysam

        try:
            self._fa = pysam.FastaFile(str(self.path))
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.path}: cannot open the FASTA ({exc}); recreate the index "
                             f"with `samtools faidx {self.path}`") from None
        self._resolved: dict[str, str | None] = {}

    def resolve(self, chrom: str) -> str | None:
        """The FASTA contig for ``chrom`` (exact, else with/without ``chr``), or None."""
        try:
            return self._resolved[chrom]
        except KeyError:
            hit = next((n for n in contig_aliases(chrom) if n in self.lengths), None)
            self._resolved[chrom] = hit
            return hit

    def has(self, chrom: str) -> bool:
        return self.resolve(chrom) is not None

    def length(self, chrom: str) -> int:
        name = self.resolve(chrom)
        if name is None:
            raise self.missing(chrom)
        return self.lengths[name]

    def missing(self, chrom: str, where: str = "") -> InputError:
        names = ", ".join(list(self.lengths)[:8]) + (" ..." if len(self.lengths) > 8 else "")
        at = f"{where}: " if where else ""
        return InputError(f"{at}contig {chrom!r} is not in the reference {self.path} (it has "
                          f"{names}); use the FASTA the VCF/GFF were made against")

    def fetch(self, chrom: str, start0: int, end0: int) -> str:
        """Uppercase sequence of ``[start0, end0)`` (0-based, half-open), clipped to the contig."""
        name = self.resolve(chrom)
        if name is None:
            raise self.missing(chrom)
        start0 = max(0, int(start0))
        end0 = min(int(end0), self.lengths[name])
        if end0 <= start0:
            return ""
        try:
            return self._fa.fetch(name, start0, end0).upper()
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.path}: cannot read {name}:{start0 + 1}-{end0} ({exc}); "
                             f"recreate the index with `samtools faidx {self.path}`") from None

    def close(self) -> None:
        self._fa.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
