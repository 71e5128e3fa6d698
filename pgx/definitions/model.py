"""In-memory model of star-allele definitions, shared by every definition reader.

Coordinates: ``Variant.position`` is the 1-based VCF ``POS`` on GRCh38 (for an indel, the
position of the anchor base, exactly as it appears in a normalised VCF). Alleles are VCF allele
strings (``"A"``, ``"CGGT"``); a single-letter IUPAC code (``"R"`` = A or G) may stand for
several SNV alleles, as in CPIC's tables.

A ``NamedAllele`` lists one allele string (or ``None``) per variant of its gene, aligned by index
with ``GeneDefinition.variants``. ``None`` means the position is not part of that allele's
definition (it matches anything). The reference allele (``reference=True``) has the REF base at
every position.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    """One defined position of a gene (1-based GRCh38 VCF POS)."""

    chrom: str  # "chr10"; always chr-prefixed, "chrM" for mitochondria
    position: int  # 1-based VCF POS
    ref: str  # VCF REF allele
    alts: tuple[str, ...]  # VCF ALT alleles known to definitions
    rsid: str | None = None
    label: str | None = None  # HGVS or common name, for reports

    @property
    def key(self) -> str:
        return f"{self.chrom}:{self.position}"


@dataclass
class NamedAllele:
    """A star allele (or named variant haplotype) as a pattern over its gene's variants."""

    name: str
    alleles: list[str | None]  # aligned with GeneDefinition.variants; None = not defined
    reference: bool = False
    function: str | None = None  # e.g. "No function"
    activity: float | None = None  # activity value, where the gene uses activity scores

    @property
    def score(self) -> int:
        """Number of defined positions: more specific alleles score higher."""
        return sum(a is not None for a in self.alleles)


@dataclass
class PhenotypeRules:
    """Diplotype -> phenotype for one gene.

    ``method`` is one of:
      * ``"function_pair"``: phenotype from the unordered pair of allele functions
        (``function_pairs`` keys are sorted 2-tuples of function strings);
      * ``"activity_score"``: sum of the two alleles' activity values, mapped through
        ``activity_ranges`` (inclusive ``lo <= score <= hi``);
      * ``"haplotype"``: single-copy genes (MT-RNR1, hemizygous G6PD): the allele's function
        is the phenotype, and a pair uses ``function_pairs``.
    ``diplotypes`` (optional) is an explicit table ``diplotype_key(a, b) -> phenotype`` that
    overrides the rules (PharmCAT's phenotype files ship one); ``diplotype_scores`` holds the
    matching activity scores. A haploid call is keyed by a 1-tuple.
    """

    method: str = "function_pair"
    function_pairs: dict[tuple[str, str], str] = field(default_factory=dict)
    activity_ranges: list[tuple[float, float, str]] = field(default_factory=list)
    diplotypes: dict[tuple[str, ...], str] = field(default_factory=dict)
    diplotype_scores: dict[tuple[str, ...], float] = field(default_factory=dict)
    source: str | None = None
    version: str | None = None


def diplotype_key(*alleles: str) -> tuple[str, ...]:
    """Order-independent key for a diplotype (or a 1-tuple for a haploid call)."""
    return tuple(sorted(alleles))


@dataclass
class GeneDefinition:
    gene: str
    chrom: str
    build: str  # "GRCh38"
    variants: list[Variant]
    alleles: list[NamedAllele]
    source: str  # e.g. "CPIC/PharmVar via PharmCAT" or "pgx embedded panel"
    version: str  # data version or curation date
    phenotypes: PhenotypeRules = field(default_factory=PhenotypeRules)
    # --- gene-level calling policy (data, not code) ---
    required_positions: tuple[int, ...] = ()  # missing any of these -> not_called
    ignored_alleles: tuple[str, ...] = ()  # never called
    # unphased tie priorities: frozenset of tied diplotypes -> the one to report
    tie_priorities: dict[frozenset[str], str] = field(default_factory=dict)
    vcf_callable: bool = True  # False: only outside calls (CYP2D6, HLA)
    lowest_function: bool = False  # DPYD, RYR1: unphased multi-variant -> lowest-function pair
    undocumented_as_reference: bool = False  # an unknown ALT is read as REF (with a warning)
    extra_positions: list[Variant] = field(default_factory=list)  # reported, not matched
    split_haplotype: object | None = None  # pgx.definitions.policy.SplitHaplotype (DPYD HapB3)
    allele_aliases: dict[str, str] = field(default_factory=dict)  # sub-allele -> reported name

    @property
    def haploid_ok(self) -> bool:
        """chrX/chrM genes accept a single-copy genotype (hemizygous males, mtDNA)."""
        return self.chrom in ("chrX", "chrY", "chrM")

    @property
    def reference_allele(self) -> NamedAllele:
        for a in self.alleles:
            if a.reference:
                return a
        raise ValueError(f"{self.gene}: no reference allele in definitions")

    def allele(self, name: str) -> NamedAllele:
        for a in self.alleles:
            if a.name == name:
                return a
        raise KeyError(f"{self.gene}: unknown allele {name!r}")


@dataclass
class DefinitionSet:
    """All genes loaded from one source (embedded panel or an official table directory)."""

    source: str
    version: str
    path: str | None
    genes: dict[str, GeneDefinition]
