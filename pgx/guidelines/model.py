"""In-memory model of drug-prescribing guidelines (CPIC, DPWG), shared by every guideline reader.

Lookup semantics
----------------
A ``Recommendation`` applies to one drug and one combination of per-gene *lookup values*
(``Recommendation.lookup``, gene symbol -> string). There is exactly one value per gene, and a
recommendation of a multi-gene guideline names **every** gene of its guideline (TCAs: CYP2C19
and CYP2D6; thiopurines: TPMT and NUDT15; phenytoin: CYP2C9 and HLA-B), so a patient's
recommendation is found only when a value is known (or explicitly unknown) for each gene.

The value of a gene is what our calls report as its lookup key (``GeneCall.lookup_keys``):

* the **phenotype** for genes translated by function pairs or haplotypes, spelled exactly as
  the phenotype rules spell it: ``"Poor Metabolizer"``, ``"Decreased Function"``,
  ``"Deficient"``, ``"Malignant Hyperthermia Susceptibility"``, ``"ivacaftor responsive in CF
  patients"``, ``"Favorable response genotype"``, ``"-1639 AG"`` (VKORC1) ...;
* the **activity score** for the activity-score genes (:data:`ACTIVITY_SCORE_GENES`: CYP2C9,
  CYP2D6, DPYD), formatted as CPIC writes it and as ``pgx.phenotype.assign`` formats it:
  ``"0.0"``, ``"0.25"``, ``"1.5"``, ``"2.0"`` (at least one decimal, at most two, no trailing
  zero beyond the first: never ``"1"``, ``"1.50"``);
* the **allele status** for HLA genes (:data:`ALLELE_STATUS_GENES`), which come only as outside
  calls: ``"*57:01 positive"`` / ``"*57:01 negative"`` for the allele the guideline is about
  (a diplotype ``*57:01/*58:01`` is ``"*57:01 positive"`` for abacavir and ``"*58:01
  positive"`` for allopurinol). A patient has one HLA-B diplotype but each guideline asks about
  its own allele, so :meth:`Guideline.match` also accepts the typed diplotype itself
  (``{"HLA-B": "*57:01/*58:01"}``) and converts it with :func:`allele_status` to the status of
  the allele(s) the guideline is about;
* ``"Indeterminate"`` (:data:`INDETERMINATE`) when the gene was called but its phenotype or
  score is unknown (an allele of uncertain function; an activity score of ``n/a``);
* ``"No Result"`` (:data:`NO_RESULT`) when the gene has no call at all (``not_called``, or an
  outside-call-only gene that was not supplied). :meth:`GuidelineSet.match` uses it for every
  guideline gene missing from the caller's lookup.

A drug may carry several recommendations for the same lookup when the guideline distinguishes
clinical **populations** (``"CVI ACS PCI"`` vs ``"NVI"`` for clopidogrel, ``"adults"`` vs
``"pediatrics"``); ``population`` is ``None`` where the source gives none (DPWG).

``classification`` is the strength the guideline gives: CPIC's ``Strong``, ``Moderate``,
``Optional``, ``No recommendation``; ``N/A`` where the source grades none (DPWG recommendations,
and a few CPIC combinations); ``None`` only from an external source that omits it.

``action`` is what the advice asks the prescriber to do, curated from its text (one of
:data:`ACTIONS`): ``avoid`` (choose another drug), ``change_dose`` (dose, titration or a dose
limit differs), ``monitor`` (usual drug and dose, with extra monitoring or caution),
``conditional`` (advice that applies only with a condition, e.g. cystic fibrosis for
ivacaftor), ``standard`` (no genotype-based change), ``no_recommendation`` (the guideline gives
none for this result). ``alternate_drug``/``dosing`` are PharmGKB's flags, kept as facts for the
agreement test; they do not decide a category.

Genotype-specific advice: a recommendation may carry ``diplotypes`` (gene -> diplotypes it is
limited to) where a guideline words one lookup value differently per genotype (DPWG CYP2C9:
activity score 1.0 is ``*2/*2`` "no action" but ``*1/*3`` "half the dose"). For a patient whose
diplotype is listed, those recommendations replace the ones of the same lookup and population
without ``diplotypes``; every other patient gets the latter.
"""
from __future__ import annotations

import datetime as _dt
import itertools
from dataclasses import dataclass, field

SOURCES = ("CPIC", "DPWG")
CLASSIFICATIONS = ("Strong", "Moderate", "Optional", "No recommendation", "N/A")
NO_RESULT = "No Result"
INDETERMINATE = "Indeterminate"
#: Curated action categories of a recommendation (see the module doc), most severe first.
ACTIONS = ("avoid", "change_dose", "monitor", "conditional", "standard", "no_recommendation")
ACTIVITY_SCORE_GENES = frozenset({"CYP2C9", "CYP2D6", "DPYD"})
ALLELE_STATUS_GENES = frozenset({"HLA-A", "HLA-B"})


@dataclass
class Recommendation:
    """One drug's recommendation for one combination of lookup values (one per gene)."""

    drug: str  # lower case, as CPIC/PharmGKB name it: "clopidogrel", "peginterferon alfa-2a"
    lookup: dict[str, str]  # gene -> phenotype, activity score or allele status (see module doc)
    text: str  # what to do, in the reader's wording (ours for our YAML)
    action: str = "standard"  # curated category, one of ACTIONS
    action_curated: bool = True  # False: derived from PharmGKB's flags (no curated action)
    implications: dict[str, str] = field(default_factory=dict)  # gene -> what the value means
    classification: str | None = None  # one of CLASSIFICATIONS
    population: str | None = None  # e.g. "general", "adults", "CVI ACS PCI"; None: not given
    alternate_drug: bool = False  # the recommendation is to consider another drug
    dosing: bool = False  # the recommendation changes the dose
    note: str = ""  # a caveat that qualifies this recommendation only
    diplotypes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # genotype-specific
    guideline_id: str = ""  # Guideline.id it belongs to
    entry: str = ""  # where it was defined, for messages: "recommendations[3]"

    @property
    def key(self) -> tuple:
        """Identity within a guideline set: drug, population, lookup values, diplotypes."""
        return (self.drug, self.population, lookup_key(self.lookup),
                tuple(sorted(self.diplotypes.items())))

    def applies_to(self, diplotypes: dict[str, str] | None) -> bool:
        """Does this genotype-specific recommendation name the patient's diplotype(s)?"""
        if not self.diplotypes:
            return False
        return all(diplotype_form(diplotypes.get(g, "") if diplotypes else "") in
                   {diplotype_form(d) for d in ds} for g, ds in self.diplotypes.items())


def diplotype_form(diplotype: str) -> str:
    """Order-independent spelling of a diplotype: ``*3/*1`` -> ``*1/*3``."""
    return "/".join(sorted(a.strip() for a in diplotype.split("/")))


def allele_status(diplotype: str, allele: str) -> str:
    """HLA lookup value from a typed diplotype: ``("*57:01/*58:01", "*57:01")`` ->
    ``"*57:01 positive"``. Alleles compare on their first two fields (``*57:01:01`` is
    ``*57:01``); a gene prefix (``HLA-B*57:01``) is ignored. An empty diplotype or one joining
    tied calls with ``" OR "`` is not a status: type or resolve it first (``ValueError``)."""
    if not diplotype.strip() or " OR " in diplotype:
        raise ValueError(f"cannot derive an allele status from {diplotype!r}")

    def two_fields(name: str) -> str:
        name = name.strip()
        name = name[name.index("*"):] if "*" in name else "*" + name
        return ":".join(name.split(":")[:2])

    target = two_fields(allele)
    carried = any(two_fields(a) == target for a in diplotype.split("/") if a.strip())
    return f"{target} {'positive' if carried else 'negative'}"


def lookup_key(lookup: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Order-independent, hashable form of a lookup."""
    return tuple(sorted(lookup.items()))


@dataclass
class Guideline:
    """One published guideline (or one PharmGKB annotation of it) for one or more drugs."""

    id: str  # our YAML: "cpic/clopidogrel_CYP2C19"; PharmCAT JSON: PharmGKB id "PA166104948"
    source: str  # "CPIC" | "DPWG"
    title: str  # publication title
    year: int | None  # publication year
    pmids: tuple[int, ...]  # PubMed ids, latest publication first
    url: str
    drugs: list[str]
    genes: list[str]  # the lookup genes: every recommendation has a value for each
    version: str  # guideline version (e.g. "2022 update") or the annotation version
    recommendations: list[Recommendation] = field(default_factory=list)
    other_genes: list[str] = field(default_factory=list)  # discussed, but not lookup keys
    pharmgkb_ids: tuple[str, ...] = ()  # PharmGKB guideline annotation(s), for cross-reference
    authored: _dt.date | None = None  # when our file was written / last checked
    populations: dict[str, str] = field(default_factory=dict)  # population -> description
    notes: str = ""  # caveats that qualify every recommendation of the guideline
    path: str | None = None  # file it was read from

    def for_drug(self, drug: str) -> list[Recommendation]:
        drug = drug.lower()
        return [r for r in self.recommendations if r.drug == drug]

    def complete_lookup(self, lookup: dict[str, str]) -> dict[str, str]:
        """The guideline's genes only; a gene missing from ``lookup`` is ``"No Result"``."""
        return {g: lookup.get(g) or NO_RESULT for g in self.genes}

    def status_alleles(self, gene: str) -> list[str]:
        """The HLA alleles this guideline's lookups ask about (``["*57:01"]`` for abacavir)."""
        return sorted({r.lookup[gene].rsplit(" ", 1)[0] for r in self.recommendations
                       if r.lookup.get(gene, NO_RESULT) != NO_RESULT})

    def candidate_lookups(self, lookup: dict[str, str]) -> list[dict[str, str]]:
        """``complete_lookup``, with an HLA diplotype turned into this guideline's allele
        status (one candidate per allele the guideline asks about)."""
        full = self.complete_lookup(lookup)
        options: list[list[str]] = []
        for g in self.genes:
            v = full[g]
            if g in ALLELE_STATUS_GENES and v != NO_RESULT and not v.endswith(("positive", "negative")):
                options.append([allele_status(v, a) for a in self.status_alleles(g)] or [v])
            else:
                options.append([v])
        out, seen = [], set()
        for combo in itertools.product(*options):
            if combo not in seen:
                seen.add(combo)
                out.append(dict(zip(self.genes, combo)))
        return out

    def match(self, drug: str, lookup: dict[str, str],
              diplotypes: dict[str, str] | None = None) -> list[Recommendation]:
        """The recommendations for ``lookup``; ``diplotypes`` (gene -> the patient's one
        diplotype) selects genotype-specific ones (see the module doc)."""
        keys = {lookup_key(c) for c in self.candidate_lookups(lookup)}
        found = [r for r in self.for_drug(drug) if lookup_key(r.lookup) in keys]
        specific = {(r.population, lookup_key(r.lookup)) for r in found if r.applies_to(diplotypes)}
        return [r for r in found
                if (r.applies_to(diplotypes) if (r.population, lookup_key(r.lookup)) in specific
                    else not r.diplotypes)]


@dataclass
class GuidelineSet:
    """All guidelines loaded from one place (our YAML folder or a PharmCAT JSON folder)."""

    source: str  # "pgx guidelines" or "PharmCAT guideline JSON"
    version: str  # our latest ``authored`` date, or the newest PharmGKB data version
    path: str | None
    guidelines: list[Guideline]

    @property
    def drugs(self) -> list[str]:
        return sorted({d for g in self.guidelines for d in g.drugs})

    def get(self, guideline_id: str) -> Guideline:
        for g in self.guidelines:
            if g.id == guideline_id:
                return g
        raise KeyError(f"unknown guideline {guideline_id!r}")

    def for_drug(self, drug: str, source: str | None = None) -> list[Guideline]:
        """Every guideline covering ``drug`` (optionally only CPIC's or DPWG's)."""
        drug = drug.lower()
        return [g for g in self.guidelines
                if drug in g.drugs and (source is None or g.source == source)]

    def match(self, drug: str, lookup: dict[str, str], source: str | None = None,
              diplotypes: dict[str, str] | None = None) -> list[Recommendation]:
        """Recommendations for ``drug`` given per-gene lookup values (see the module doc).

        ``lookup`` may hold more genes than a guideline needs (a patient's whole panel); genes
        a guideline needs but ``lookup`` lacks are taken as ``"No Result"``. Several results
        come back when a drug has guidelines from several sources, or several populations.
        Each value is one string: for tied calls (``"A OR B"``), match each alternative.
        """
        out: list[Recommendation] = []
        for g in self.for_drug(drug, source):
            out.extend(g.match(drug, lookup, diplotypes))
        return out
