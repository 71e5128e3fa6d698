"""A patient's genes as guideline lookup values, read from the calls JSON (``pgx call``).

Everything about a gene's phenotype comes from the calls JSON, where ``pgx call`` wrote it
with the definitions it used (:mod:`pgx.phenotype`): the reported lookup keys, the diplotypes
the genotypes do not exclude (``not_excluded``, each group with its lookup keys and
phenotype), and the activity-score ranges. Nothing is re-derived from the embedded panel.

Lookup values of a gene (vocabulary: :mod:`pgx.guidelines.model`)
-----------------------------------------------------------------
* not called (``status: not_called``) or absent from the calls (an outside-call-only gene such
  as CYP2D6 or HLA-B that was not supplied): ``"No Result"`` — the gene is *untyped*;
* HLA-A / HLA-B: the typed diplotype, passed through (the guideline model turns it into the
  status of the allele each guideline is about);
* otherwise the call's ``lookup_keys`` (the phenotype, or the activity score for CYP2C9, CYP2D6
  and DPYD); an outside call without lookup keys uses its activity score or phenotype; a called
  gene with neither is ``"Indeterminate"``.

``possible`` adds, for a typed gene, the lookup keys of every ``not_excluded`` group: what the
result could be with the missing positions genotyped (or the phase known).

Phenoconversion: with medications, each value of CYP2D6, CYP2C19, CYP2C9 (and CYP3A4/5,
reported only) is converted by :func:`pgx.phenotype.phenoconversion.convert`; the states are
built per medication list, so that a drug's own recommendation can leave that drug out (no
self-phenoconversion).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from pgx.guidelines.model import ACTIVITY_SCORE_GENES, ALLELE_STATUS_GENES, INDETERMINATE, NO_RESULT
from pgx.phenotype.scores import format_score, score_phenotype

NOT_TYPED = "not_typed"  # a guideline gene absent from the calls (e.g. no outside call given)
UNTYPED_STATUSES = ("not_called", NOT_TYPED)
_SCORE = re.compile(r"^[0-9]+\.[0-9]{1,3}$")


def is_score(value: str) -> bool:
    return bool(_SCORE.match(value))


def genotype_values(gene: str, entry: dict | None) -> list[str]:
    """The reported lookup alternatives of one gene from its calls-JSON entry (module doc)."""
    if entry is None or entry.get("status") == "not_called":
        return [NO_RESULT]
    if gene in ALLELE_STATUS_GENES:
        alts = [d.strip() for d in (entry.get("diplotype") or "").split(" OR ") if d.strip()]
        return alts or [NO_RESULT]
    keys = [k for k in entry.get("lookup_keys") or [] if k]
    if keys:
        return list(dict.fromkeys(keys))
    score, pheno = entry.get("activity_score") or "", entry.get("phenotype") or ""
    if gene in ACTIVITY_SCORE_GENES and score:
        out = []
        for s in score.split(" OR "):
            try:
                out.append(format_score(float(s)))
            except ValueError:
                out.append(INDETERMINATE)
        return list(dict.fromkeys(out))
    if pheno:
        return list(dict.fromkeys(p.strip() for p in pheno.split(" OR ") if p.strip()))
    return [INDETERMINATE]


def _ranges(entry: dict | None) -> list[tuple[float, float, str]]:
    return [(r["min"], r["max"], r["phenotype"])
            for r in (entry or {}).get("activity_ranges") or []]


def phenotype_of_score(gene: str, score: float, ranges: list[tuple[float, float, str]]) -> str:
    """The phenotype of an activity score by the calls' ranges (CYP2D6: with the consensus
    bands for halved scores, pgx.phenotype.phenoconversion); "" where none applies."""
    if gene == "CYP2D6":
        from pgx.phenotype.phenoconversion import cyp2d6_phenotype

        return cyp2d6_phenotype(score, ranges or None)
    return score_phenotype(ranges, score) or ""


@dataclass
class GeneState:
    """One gene of one patient: reported and possible lookup values, converted by medications."""

    gene: str
    status: str
    diplotype: str = ""
    phenotype: str = ""
    activity_score: str = ""
    genotype_values: list[str] = field(default_factory=list)  # reported (ties: several)
    values: list[str] = field(default_factory=list)  # used for matching (converted if any)
    possible_genotype_values: list[str] = field(default_factory=list)  # + not excluded
    possible_values: list[str] = field(default_factory=list)  # the same, converted
    possible_phenotypes: list[str] = field(default_factory=list)
    phenotype_certain: bool = True
    value_phenotypes: dict[str, str] = field(default_factory=dict)  # lookup value -> phenotype
    converted: dict[str, str] = field(default_factory=dict)  # genotype value -> value used
    not_excluded: list[dict] = field(default_factory=list)
    missing_positions: list[str] = field(default_factory=list)
    ranges: list[tuple[float, float, str]] = field(default_factory=list)
    phenoconverted: bool = False
    converted_phenotype: str | None = None
    converted_activity_score: str | None = None
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str = ""  # why not called

    @property
    def typed(self) -> bool:
        return self.status not in UNTYPED_STATUSES

    def used(self, value: str) -> str:
        """The value matched for a genotype lookup value (converted by medications)."""
        return self.converted.get(value, value)

    @property
    def single_diplotype(self) -> str | None:
        """The one reported diplotype (genotype-specific advice), unless tied or converted."""
        if self.phenoconverted or not self.diplotype or " OR " in self.diplotype:
            return None
        return self.diplotype

    def label(self, value: str) -> str:
        """A lookup value as a clinician reads it: ``Intermediate Metabolizer (activity score
        1.0)``, ``HLA-B*57:01 positive``."""
        if self.gene in ALLELE_STATUS_GENES:
            return f"{self.gene}{value}" if value.startswith("*") else value
        if is_score(value):
            pheno = self.phenotype_of(value)
            return f"{pheno} (activity score {value})" if pheno else f"activity score {value}"
        return value

    def phenotype_of(self, value: str) -> str:
        """The phenotype of a lookup value (a score: from the calls, else the ranges)."""
        if not is_score(value):
            return value
        return self.value_phenotypes.get(value) or phenotype_of_score(
            self.gene, float(value), self.ranges)

    def to_json(self) -> dict:
        return {
            "gene": self.gene, "diplotype": self.diplotype, "phenotype": self.phenotype,
            "activity_score": self.activity_score, "status": self.status,
            "lookup": self.genotype_values,
            "possible_lookup": self.possible_genotype_values,
            "possible_phenotypes": self.possible_phenotypes,
            "phenotype_certain": self.phenotype_certain,
            "phenoconverted": self.phenoconverted,
            "converted_phenotype": self.converted_phenotype,
            "converted_activity_score": self.converted_activity_score,
            "converted_lookup": self.values if self.phenoconverted else None,
            "phenoconversion_reasons": self.reasons,
            "warnings": self.warnings,
            "reason": self.reason,
        }


def _state(gene: str, e: dict | None) -> GeneState:
    vals = genotype_values(gene, e)
    st = GeneState(gene=gene, status=e["status"] if e else NOT_TYPED,
                   diplotype=(e or {}).get("diplotype", ""),
                   phenotype=(e or {}).get("phenotype", ""),
                   activity_score=(e or {}).get("activity_score", ""),
                   genotype_values=vals, values=list(vals),
                   missing_positions=list((e or {}).get("missing_positions") or []),
                   not_excluded=list((e or {}).get("not_excluded") or []),
                   ranges=_ranges(e),
                   reason=(e or {}).get("reason", "") if e else
                   "not in the calls (no outside call supplied for this gene)")
    if not st.typed:
        st.phenotype_certain = False
        return st
    scores = [s.strip() for s in st.activity_score.split(" OR ")]
    phenos = [p.strip() for p in st.phenotype.split(" OR ")]
    for v in vals:  # reported values: the phenotype of a score from the call itself
        if is_score(v) and v in scores and len(phenos) == len(scores):
            st.value_phenotypes.setdefault(v, phenos[scores.index(v)])
    possible = list(vals)
    for g in st.not_excluded:
        for k in g["lookup_keys"]:
            if k not in possible:
                possible.append(k)
            if is_score(k):
                st.value_phenotypes.setdefault(k, g["phenotype"])
    st.possible_genotype_values = possible
    st.possible_values = list(possible)
    st.possible_phenotypes = list(e["possible_phenotypes"])
    st.phenotype_certain = bool(e["phenotype_certain"])
    return st


def _convert_value(st: GeneState, value: str, medications: list[str], table):
    """One lookup value converted by the medications: ``(new value, Conversion)``."""
    from pgx.phenotype.phenoconversion import convert

    if st.gene in ACTIVITY_SCORE_GENES and is_score(value):
        score = float(value)
        conv = convert(st.gene, phenotype_of_score(st.gene, score, st.ranges), score,
                       medications, table)
    else:
        conv = convert(st.gene, value, None, medications, table)
    if not conv.converted:
        return value, conv
    if st.gene in ACTIVITY_SCORE_GENES and conv.activity_score is not None:
        return format_score(conv.activity_score), conv
    return conv.phenotype or INDETERMINATE, conv  # a phenotype: expanded per guideline


def _phenoconvert(st: GeneState, medications: list[str], table) -> None:
    phenos, scores = [], []

    def convert_all(values: list[str], record: bool) -> list[str]:
        out = []
        for v in values:
            if v in (NO_RESULT, INDETERMINATE):
                out.append(v)
                continue
            nv, conv = _convert_value(st, v, medications, table)
            out.append(nv)
            st.converted[v] = nv
            if not record:
                continue
            for r in conv.reasons:
                if r not in st.reasons:
                    st.reasons.append(r)
            for w in conv.warnings:
                if w not in st.warnings:
                    st.warnings.append(w)
            st.phenoconverted |= conv.converted
            phenos.append(conv.phenotype)
            scores.append(format_score(conv.activity_score))
        return list(dict.fromkeys(out))

    values = convert_all(st.genotype_values, True)
    if st.phenoconverted:
        st.values = values
        st.possible_values = convert_all(st.possible_genotype_values, False)
        st.converted_phenotype = " OR ".join(dict.fromkeys(p for p in phenos if p))
        st.converted_activity_score = " OR ".join(dict.fromkeys(s for s in scores if s)) or None


def gene_states(doc: dict, extra_genes: Iterable[str], medications: list[str] | None,
                table=None) -> dict[str, GeneState]:
    """Every gene of the calls (plus ``extra_genes`` the guidelines need, as not typed)."""
    from pgx.phenotype.phenoconversion import SUPPORTED_GENES

    by_gene = {g["gene"]: g for g in doc["genes"]}
    states: dict[str, GeneState] = {}
    for gene in list(by_gene) + sorted(set(extra_genes) - set(by_gene)):
        st = _state(gene, by_gene.get(gene))
        if medications and gene in SUPPORTED_GENES and st.typed:
            _phenoconvert(st, medications, table)
        states[gene] = st
    return states
