"""Genome-build checks: pgx definitions are GRCh38; GRCh37/hg19 input must stop with a clear error.

Two signals are used: contig lengths declared in the VCF header (``##contig=<ID=..,length=..>``),
and REF alleles at defined positions (see ``pgx.calling.encode``), for headers without lengths.
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


def check_contig_lengths(path: Path, header: str) -> None:
    """Raise :class:`InputError` when header contig lengths say GRCh37/hg19."""
    for name, length in _CONTIG.findall(header):
        if not length:
            continue
        key = name[3:] if name.lower().startswith("chr") else name
        n = int(length)
        if GRCH37.get(key) == n and GRCH38.get(key) != n:
            raise InputError(
                f"{path}: contig {name} has length {n}, which is GRCh37/hg19; pgx definitions "
                f"are GRCh38 — lift the VCF over to GRCh38 (e.g. `bcftools +liftover` or "
                f"Picard LiftoverVcf) or re-call against GRCh38")
