"""Genome-build checks: pgx definitions are GRCh38; GRCh37/hg19 input must stop with a clear error.

Three signals are used: contig lengths declared in the VCF header (``##contig=<ID=..,length=..>``;
any primary-chromosome length other than GRCh38's is an error), the build named by
``##reference``/``##assembly`` lines or contig ``assembly=`` attributes, and, for headers with
neither, REF alleles at defined positions (see ``pgx.calling.caller``).
"""
from __future__ import annotations

import re
from pathlib import Path

from pgx.errors import InputError

# Primary-assembly chromosome lengths (bp) from the NCBI assembly reports.
GRCH38 = {
    "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259,
    "6": 170805979, "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422,
    "11": 135086622, "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189,
    "16": 90338345, "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
    "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
}
GRCH37 = {
    "1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276, "5": 180915260,
    "6": 171115067, "7": 159138663, "8": 146364022, "9": 141213431, "10": 135534747,
    "11": 135006516, "12": 133851895, "13": 115169878, "14": 107349540, "15": 102531392,
    "16": 90354753, "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520,
    "21": 48129895, "22": 51304566, "X": 155270560, "Y": 59373566,
}
_CONTIG = re.compile(r"^##contig=<ID=([^,>]+)(?:,[^>]*?length=(\d+))?", re.M)
_BUILD_LINE = re.compile(r"^##(?:reference|assembly)=(.*)$|^##contig=<[^>]*?assembly=\"?([^,>\"]+)",
                         re.M | re.I)
_OLD_BUILD = re.compile(r"grch37|hg19|hg18|hs37d5|human_g1k_v37|assembly19|ncbi3[67]|"
                        r"(?<![a-z0-9])b3[67](?![a-z0-9])", re.I)
_NEW_BUILD = re.compile(r"grch38|hg38|hs38|assembly38|(?<![a-z0-9])b38(?![a-z0-9])", re.I)
_LIFTOVER = "`bcftools +liftover` or Picard LiftoverVcf"


def check_contig_lengths(path: Path, header: str) -> None:
    """Raise :class:`InputError` when a header contig length is not GRCh38's (GRCh37/hg19 named
    as such). Only the primary chromosomes 1-22, X, Y are compared (chrM differs between
    assemblies' naming conventions, and alt/decoy contigs have no fixed length here)."""
    for name, length in _CONTIG.findall(header):
        if not length:
            continue
        key = name[3:] if name.lower().startswith("chr") else name
        if key not in GRCH38:
            continue
        n = int(length)
        if n == GRCH38[key]:
            continue
        if GRCH37.get(key) == n:
            raise InputError(
                f"{path}: contig {name} has length {n:,}, which is GRCh37/hg19; pgx definitions "
                f"are GRCh38: lift the VCF over to GRCh38 (e.g. {_LIFTOVER}) or re-call against "
                f"GRCh38")
        raise InputError(
            f"{path}: contig {name} has length {n:,}, but GRCh38's chromosome {key} has "
            f"{GRCH38[key]:,} bp, so the file is not on GRCh38; lift it over to GRCh38 (e.g. "
            f"{_LIFTOVER}) or re-call against GRCh38")


def check_header_build(path: Path, header: str) -> None:
    """Raise :class:`InputError` when ``##reference``/``##assembly`` lines or contig
    ``assembly=`` attributes name an older build (GRCh37, hg19, b37, hs37d5, NCBI36/hg18) and
    none names GRCh38 (which catches GRCh37 files whose records miss every defined position).

    Skipped for lifted-over files, which may keep the old ``##reference`` line: when a primary
    chromosome declares GRCh38's length, or the header mentions a liftover."""
    if re.search(r"liftover", header, re.I):
        return
    for name, length in _CONTIG.findall(header):
        key = name[3:] if name.lower().startswith("chr") else name
        if length and GRCH38.get(key) == int(length):
            return
    old = new = None
    for m in _BUILD_LINE.finditer(header):
        value = (m.group(1) or m.group(2) or "").strip()
        if _NEW_BUILD.search(value):
            new = value
        elif _OLD_BUILD.search(value):
            old = old or value
    if old and not new:
        shown = old if len(old) <= 80 else old[:77] + "..."
        raise InputError(
            f"{path}: the header names reference {shown!r}, an older genome build than GRCh38; "
            f"pgx definitions are GRCh38: lift the VCF over to GRCh38 (e.g. {_LIFTOVER}) or "
            f"re-call against GRCh38")
