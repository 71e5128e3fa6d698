"""Result of calling one gene for one sample."""
from __future__ import annotations

from dataclasses import dataclass, field

CALLED = "called"  # a diplotype, every defined position observed
PARTIAL = "partial"  # a diplotype, but some defined positions were missing (could change it)
NOT_CALLED = "not_called"  # no diplotype; ``reason`` says why
OUTSIDE_CALL = "outside_call"  # supplied by the lab (--outside-calls), not computed here


@dataclass
class Diplotype:
    """Two allele names (one for a haploid call), in definition order, and the match score."""

    alleles: tuple[str, ...]
    score: int = 0

    @property
    def name(self) -> str:
        return "/".join(self.alleles)


@dataclass
class GeneCall:
    sample: str
    gene: str
    status: str
    diplotypes: list[Diplotype] = field(default_factory=list)  # reported (ties all kept)
    candidates: list[Diplotype] = field(default_factory=list)  # every consistent diplotype
    missing_positions: list[str] = field(default_factory=list)  # "chr10:94781859 (rs4244285)"
    positions_used: list[str] = field(default_factory=list)
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    haplotypes: list[str] = field(default_factory=list)  # alleles seen (lowest-function genes)
    inferred: str = ""  # how the diplotype was inferred, e.g. "lowest-function"
    phenotype: str = ""
    activity_score: str = ""
    lookup_keys: list[str] = field(default_factory=list)
    # diplotypes the genotypes do not exclude besides the reported ones, grouped by phenotype
    # (pgx.calling.not_excluded); possible_phenotypes/phenotype_certain: pgx.phenotype.assign
    not_excluded: list[dict] = field(default_factory=list)
    novel_variants: list[dict] = field(default_factory=list)  # pgx.calling.novel
    possible_phenotypes: list[str] = field(default_factory=list)
    phenotype_certain: bool = False
    source: str = ""  # definitions source, or outside-call file

    @property
    def diplotype(self) -> str:
        return " OR ".join(d.name for d in self.diplotypes)
