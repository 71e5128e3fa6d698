"""Diplotype -> phenotype, activity score and recommendation lookup key (the phenotype stage).

Rules are data (``PhenotypeRules``): an explicit diplotype table when the definitions ship one,
otherwise the unordered pair of allele functions, or the sum of allele activity values mapped
through the gene's activity ranges. Haploid calls (G6PD males, MT-RNR1) use the allele's own
function. A tie between diplotypes with different phenotypes is reported as all of them.
"""
from __future__ import annotations

import re

from pgx.calling.model import NOT_CALLED, GeneCall
from pgx.definitions.model import GeneDefinition, PhenotypeRules, diplotype_key


def _fmt_score(x: float | None) -> str:
    """Activity scores as CPIC writes them: 2.0, 1.5, 0.25."""
    if x is None:
        return ""
    s = f"{x:.2f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def score_phenotype(rules: PhenotypeRules, score: float) -> str | None:
    """The phenotype of an activity score by the gene's inclusive ranges (None: no range)."""
    for lo, hi, label in rules.activity_ranges:
        if lo <= score <= hi:
            return label
    return None


_COPIES = re.compile(r"^(.+?)x(≥?)(\d+|N)$")


def _copy_number(name: str) -> tuple[str, int | None, bool]:
    """PharmVar/CPIC copy-number notation: ``*1x2`` is two copies of ``*1``; ``*1x≥3`` at
    least three (CPIC scores the lower bound); ``xN`` an unknown number.

    Returns ``(allele, copies or None, at_least)``.
    """
    m = _COPIES.match(name)
    if not m:
        return name, 1, False
    if m.group(3) == "N":
        return m.group(1), None, True
    return m.group(1), int(m.group(3)), bool(m.group(2))


def diplotype_phenotype(gene: GeneDefinition, alleles: tuple[str, ...]) -> tuple[str, float | None]:
    """Phenotype and activity score (None where the gene has no scores) of one diplotype."""
    rules = gene.phenotypes
    key = diplotype_key(*alleles)
    if key in rules.diplotypes:
        return rules.diplotypes[key], rules.diplotype_scores.get(key)
    functions, activities = [], []
    for name in alleles:
        base, copies, _ = _copy_number(name)
        try:
            a = gene.allele(base)
        except KeyError:
            return "Indeterminate", None
        functions.append(a.function)
        if a.activity == 0.0:  # any number of no-function copies adds nothing
            activities.append(0.0)
        elif a.activity is None or copies is None:
            activities.append(None)
        else:
            activities.append(a.activity * copies)
    if rules.method == "activity_score":
        if any(v is None for v in activities):
            return "Indeterminate", None
        score = float(sum(activities))
        return score_phenotype(rules, score) or "Indeterminate", score
    if not rules.function_pairs:
        # no rules at all (e.g. CPIC defines no CYP4F2 phenotype) -> no phenotype; a table that
        # lacks this diplotype -> Indeterminate
        return ("Indeterminate" if rules.diplotypes else ""), None
    if len(functions) == 1:  # haploid call: single-copy rules, else the function itself
        return rules.function_pairs.get((functions[0],), functions[0] or ""), None
    if None in functions:
        return "Indeterminate", None
    return rules.function_pairs.get(tuple(sorted(functions)), "Indeterminate"), None


def assign_phenotype(gene: GeneDefinition, call: GeneCall) -> GeneCall:
    """Fill ``phenotype``, ``activity_score`` and ``lookup_keys`` of a called gene in place."""
    if call.status == NOT_CALLED or not call.diplotypes:
        return call
    phenos, scores = [], []
    for d in call.diplotypes:
        ph, sc = diplotype_phenotype(gene, d.alleles)
        if ph not in phenos:
            phenos.append(ph)
        s = _fmt_score(sc) or "n/a"
        if s not in scores:
            scores.append(s)
    if scores == ["n/a"]:
        scores = []
    call.phenotype = " OR ".join(p for p in phenos if p)
    call.activity_score = " OR ".join(scores)
    if gene.phenotypes.method == "activity_score" and scores:
        # a tied diplotype without a score (unknown activity) makes the lookup indeterminate
        call.lookup_keys = [s for s in scores if s != "n/a"] + ["Indeterminate"] * ("n/a" in scores)
    else:
        call.lookup_keys = [p for p in phenos if p]
    return call


def assign_phenotypes(defs, calls: list[GeneCall]) -> None:
    """Assign phenotypes to many calls; identical diplotype sets are computed once."""
    cache: dict[tuple, tuple] = {}
    for c in calls:
        gene = defs.genes.get(c.gene)
        if gene is None or (c.status == "outside_call" and c.phenotype):
            continue
        key = (c.gene, c.status, tuple(d.alleles for d in c.diplotypes))
        if key not in cache:
            assign_phenotype(gene, c)
            cache[key] = (c.phenotype, c.activity_score, c.lookup_keys)
        c.phenotype, c.activity_score, c.lookup_keys = cache[key]
