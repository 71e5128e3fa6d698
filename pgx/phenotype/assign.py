"""Diplotype -> phenotype, activity score and recommendation lookup key (the phenotype stage).

Rules are data (``PhenotypeRules``): an explicit diplotype table when the definitions ship one,
otherwise the unordered pair of allele functions, or the sum of allele activity values mapped
through the gene's activity ranges. Haploid calls (G6PD males, MT-RNR1) use the allele's own
function. A tie between diplotypes with different phenotypes is reported as all of them.
"""
from __future__ import annotations

import re

import numpy as np

from pgx.calling.model import NOT_CALLED, GeneCall
from pgx.definitions.model import GeneDefinition, diplotype_key
from pgx.phenotype.scores import format_score, score_phenotype


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
        return score_phenotype(rules.activity_ranges, score) or "Indeterminate", score
    if not rules.function_pairs:
        # no rules at all (e.g. CPIC defines no CYP4F2 phenotype) -> no phenotype; a table that
        # lacks this diplotype -> Indeterminate
        return ("Indeterminate" if rules.diplotypes else ""), None
    if len(functions) == 1:  # haploid call: single-copy rules, else the function itself
        return rules.function_pairs.get((functions[0],), functions[0] or ""), None
    if None in functions:
        return "Indeterminate", None
    return rules.function_pairs.get(tuple(sorted(functions)), "Indeterminate"), None


def diplotype_outcome(gene: GeneDefinition, alleles: tuple[str, ...]) -> tuple[str, str]:
    """``(phenotype, activity score as written or "")`` of one diplotype, as calls report it."""
    phenotype, score = diplotype_phenotype(gene, alleles)
    return phenotype, format_score(score)


def outcome_lookup(gene: GeneDefinition, phenotype: str, score: str) -> str:
    """The guideline lookup value of one diplotype's outcome: its activity score for an
    activity-score gene ("Indeterminate" without one), else its phenotype ("" for none)."""
    if gene.phenotypes.method == "activity_score":
        return score or "Indeterminate"
    return phenotype


def outcome_table(gene: GeneDefinition, names: list[str]
                  ) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Every pair of ``names`` (allele names as reported) mapped to its outcome.

    Returns ``(outcomes, pair, single)``: the distinct ``(phenotype, score)`` results,
    ``pair`` int32 [A, A] (symmetric) and ``single`` int32 [A] (a haploid call), indices into
    ``outcomes``. Pairs whose alleles share function and activity share a result unless the
    gene's explicit diplotype table names them, so the table costs far fewer than A^2 rule
    evaluations.
    """
    explicit = gene.phenotypes.diplotypes
    by_name = {a.name: a for a in gene.alleles}
    klass = [(by_name[n].function, by_name[n].activity) if n in by_name else ("?", n)
             for n in names]
    outcomes: list[tuple[str, str]] = []
    index: dict[tuple[str, str], int] = {}
    memo: dict[tuple, int] = {}

    def number(result: tuple[str, str]) -> int:
        if result not in index:
            index[result] = len(outcomes)
            outcomes.append(result)
        return index[result]

    n = len(names)
    pair = np.empty((n, n), dtype=np.int32)
    single = np.empty(n, dtype=np.int32)
    explicit_scores = gene.phenotypes.diplotype_scores
    for i in range(n):
        single[i] = number(diplotype_outcome(gene, (names[i],)))
        for j in range(i, n):
            a, b = names[i], names[j]
            key = (a, b) if a <= b else (b, a)  # diplotype_key of a pair
            if key in explicit:  # what diplotype_phenotype returns for a listed diplotype
                o = number((explicit[key], format_score(explicit_scores.get(key))))
            else:
                ck = ((klass[i], klass[j]) if repr(klass[i]) <= repr(klass[j])
                      else (klass[j], klass[i]))
                o = memo.get(ck)
                if o is None:
                    o = memo[ck] = number(diplotype_outcome(gene, (names[i], names[j])))
            pair[i, j] = pair[j, i] = o
    return outcomes, pair, single


def assign_phenotype(gene: GeneDefinition, call: GeneCall) -> GeneCall:
    """Fill ``phenotype``, ``activity_score`` and ``lookup_keys`` of a called gene in place."""
    if call.status == NOT_CALLED or not call.diplotypes:
        return call
    phenos, scores = [], []
    for d in call.diplotypes:
        ph, sc = diplotype_phenotype(gene, d.alleles)
        if ph not in phenos:
            phenos.append(ph)
        s = format_score(sc) or "n/a"
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
        if c.status == "outside_call":  # computed like any call, checked against what it gave
            assign_outside_call(defs, c)
            continue
        gene = defs.genes.get(c.gene)
        if gene is None:
            continue
        key = (c.gene, c.status, tuple(d.alleles for d in c.diplotypes))
        if key not in cache:
            assign_phenotype(gene, c)
            cache[key] = (c.phenotype, c.activity_score, c.lookup_keys)
        c.phenotype, c.activity_score, c.lookup_keys = cache[key]
    done: dict[tuple, tuple] = {}  # calls copied across samples share their not_excluded
    for c in calls:
        key = (c.status, c.phenotype, id(c.not_excluded))
        if key not in done:
            set_possible_phenotypes(c)
            done[key] = (c.possible_phenotypes, c.phenotype_certain)
        c.possible_phenotypes, c.phenotype_certain = done[key]


def set_possible_phenotypes(call: GeneCall) -> None:
    """``possible_phenotypes``: the sorted distinct phenotypes of the reported diplotypes (ties
    included) and of ``not_excluded``; ``phenotype_certain``: exactly one of them. A gene
    without a call has none (and is not certain)."""
    reported = [p.strip() for p in call.phenotype.split(" OR ")] if call.phenotype else []
    others = [g["phenotype"] for g in call.not_excluded]
    call.possible_phenotypes = sorted({p for p in reported + others if p})
    call.phenotype_certain = (call.status != NOT_CALLED and len(call.possible_phenotypes) == 1)


# ============================================================================ outside calls
# Outside calls (pgx call --outside-calls) are checked against the definitions by
# pgx.calling.outside_calls; their phenotypes are computed here, like those of every call.
_HLA_STATUS = re.compile(
    r"^(?:HLA-[A-Z0-9]+|[A-Z]{1,4}(?=\*))?(\*?\d{2,3}(?::\d{2,4})+[A-Z]?)\s+(positive|negative)$",
    re.IGNORECASE)
_HLA_RESOURCES: dict[str, tuple[str, ...]] = {}


def allele_status_alleles(gene: str) -> tuple[str, ...]:
    """The HLA alleles of clinical interest (``resources/phenotypes/hla/<GENE>.yaml``), e.g.
    ``("*57:01", "*58:01", "*15:02")`` for HLA-B; ``()`` for a gene without that file."""
    if gene not in _HLA_RESOURCES:
        import yaml

        from pgx.errors import InputError
        from pgx.resources import resource_path

        path = resource_path("phenotypes", "hla", f"{gene}.yaml")
        alleles: tuple[str, ...] = ()
        if path.is_file():
            try:
                doc = yaml.safe_load(path.read_text()) or {}
                alleles = tuple(str(a["allele"]) for a in doc["alleles"])
            except (yaml.YAMLError, KeyError, TypeError) as exc:
                raise InputError(f"{path}: needs gene and alleles: [{{allele: '*57:01', "
                                 f"drugs: [...]}}, ...] ({exc})") from exc
        _HLA_RESOURCES[gene] = alleles
    return _HLA_RESOURCES[gene]


def hla_interpretation(gene: str, alleles: tuple[str, ...]) -> str:
    """Carrier status of each allele of clinical interest, as a clinician reads it:
    ``HLA-B*57:01 positive; HLA-B*58:01 positive; HLA-B*15:02 negative``."""
    from pgx.guidelines.model import allele_status

    dip = "/".join(alleles)
    return "; ".join(f"{gene}{allele_status(dip, a)}" for a in allele_status_alleles(gene))


def _hla_statuses(text: str) -> list[tuple[str, str]] | None:
    """``[("*57:01", "positive"), ...]`` from ``HLA-B*57:01 positive; *58:01 negative``
    (None where a part is not an allele status)."""
    out = []
    for part in text.split(";"):
        m = _HLA_STATUS.match(part.strip())
        if not m:
            return None
        allele = m.group(1) if m.group(1).startswith("*") else "*" + m.group(1)
        out.append((":".join(allele.split(":")[:2]), m.group(2).lower()))
    return out


def phenotype_vocabulary(gene: str, gd: GeneDefinition | None) -> list[str]:
    """The phenotypes a gene's rules can give (an HLA gene: allele statuses); ``[]``: none
    known, anything goes."""
    from pgx.guidelines.model import ALLELE_STATUS_GENES

    if gene in ALLELE_STATUS_GENES:
        return [f"{a} {s}" for a in allele_status_alleles(gene) for s in ("positive", "negative")]
    if gd is None:
        return []
    r = gd.phenotypes
    vocab = [*r.function_pairs.values(), *r.diplotypes.values(),
             *(label for _, _, label in r.activity_ranges)]
    if vocab:
        vocab.append("Indeterminate")
    return sorted(set(vocab), key=str.lower)


def score_ranges(gd: GeneDefinition) -> list[tuple[float, float, str]]:
    """The gene's activity score -> phenotype ranges (inclusive): its own, else one point
    range per score to which its diplotype table gives a single phenotype (PharmCAT's
    phenotype tables have no ranges)."""
    r = gd.phenotypes
    if r.activity_ranges:
        return list(r.activity_ranges)
    by_score: dict[float, set[str]] = {}
    for k, v in r.diplotype_scores.items():
        if k in r.diplotypes:
            by_score.setdefault(v, set()).add(r.diplotypes[k])
    return [(v, v, next(iter(p))) for v, p in sorted(by_score.items()) if len(p) == 1]


def _score_phenotype(gd: GeneDefinition, score: float) -> str | None:
    """The phenotype of an activity score (:func:`score_ranges`)."""
    return score_phenotype(score_ranges(gd), score)


def check_outside_phenotype(gene: str, gd: GeneDefinition | None, phenotype: str,
                            score: float | None, has_diplotype: bool) -> str | None:
    """Why an outside call's phenotype or activity score cannot be used (None: it can).

    With a diplotype, the phenotype is computed (a contradiction is a warning, not an error);
    without one, the phenotype must be in the gene's vocabulary and a score must be one the
    gene's activity ranges place.
    """
    if has_diplotype:
        return None
    vocab = phenotype_vocabulary(gene, gd)
    from pgx.guidelines.model import ALLELE_STATUS_GENES

    if gene in ALLELE_STATUS_GENES:
        if score is not None:
            return f"{gene} has no activity score; leave the activity_score column empty"
        statuses = _hla_statuses(phenotype) if phenotype else []
        known = {v.lower() for v in vocab}
        if vocab and (statuses is None or any(f"{a} {s}" not in known for a, s in statuses)):
            return (f"{gene} phenotype {phenotype!r} is not an allele status pgx knows (known: "
                    f"{', '.join(vocab)}); give the typed diplotype (two alleles, "
                    f"*NN:NN/*NN:NN) or one of those")
        return None
    if gd is None:
        return None
    rules = gd.phenotypes
    if score is not None:
        if rules.method != "activity_score":
            return (f"{gene} has no activity scores; leave the activity_score column empty"
                    + (f" (its phenotypes: {', '.join(vocab)})" if vocab else ""))
        if rules.activity_ranges and score_phenotype(rules.activity_ranges, score) is None:
            ranges = ", ".join(f"{format_score(lo)}-{format_score(hi)} {label}"
                               for lo, hi, label in rules.activity_ranges)
            return (f"{gene} activity score {format_score(score)} is in none of its activity "
                    f"ranges ({ranges}); check the score")
    if phenotype and vocab and phenotype.lower() not in {v.lower() for v in vocab}:
        return (f"{gene} phenotype {phenotype!r} is not one of its phenotypes (known: "
                f"{', '.join(vocab)}); use one of those, or give the diplotype")
    return None


def _same_score(given: str, computed: str) -> bool:
    try:
        return abs(float(given) - float(computed)) < 1e-9
    except ValueError:
        return False


def assign_outside_call(defs, call: GeneCall) -> GeneCall:
    """Phenotype, activity score and lookup keys of an outside call, in place.

    With a diplotype: computed by the gene's rules like any call (an HLA gene: the carrier
    status of each allele of clinical interest); a phenotype or activity score the outside
    call gave that contradicts it is replaced, with a warning naming both. Without one: the
    given phenotype is kept (spelled as the rules spell it); an activity score gives the
    phenotype of its range. Rows were checked by ``pgx.calling.outside_calls``.
    """
    from pgx.guidelines.model import ALLELE_STATUS_GENES, allele_status

    gd = defs.genes.get(call.gene)
    given_ph, given_sc = call.phenotype.strip(), call.activity_score.strip()
    dip = call.diplotypes[0].alleles if call.diplotypes else ()
    if call.gene in ALLELE_STATUS_GENES:
        call.lookup_keys = []  # pgx recommend matches HLA by the diplotype (allele_status)
        if dip and allele_status_alleles(call.gene):
            call.phenotype = hla_interpretation(call.gene, dip)
            call.activity_score = ""
            statuses = _hla_statuses(given_ph) if given_ph else []
            agrees = statuses is not None and all(
                allele_status("/".join(dip), a) == f"{a} {s}" for a, s in statuses)
            if not agrees or given_sc:
                _contradiction(call, given_ph, given_sc, "/".join(dip))
        return call
    if gd is None:
        return call
    rules = gd.phenotypes
    if dip:
        if not (rules.function_pairs or rules.activity_ranges or rules.diplotypes):
            # no phenotype rules (CPIC defines no CYP4F2 phenotype): keep what was given
            call.lookup_keys = [given_ph] if given_ph else []
            return call
        assign_phenotype(gd, call)
        if (given_ph and given_ph.lower() != call.phenotype.lower()) or \
                (given_sc and not _same_score(given_sc, call.activity_score)):
            _contradiction(call, given_ph, given_sc, "/".join(dip))
        return call
    spelled = {v.lower(): v for v in phenotype_vocabulary(call.gene, gd)}
    phenotype = spelled.get(given_ph.lower(), given_ph)
    if phenotype != given_ph:
        call.warnings.append(f"outside call phenotype {given_ph} read as {phenotype}")
    if given_sc:
        score = float(given_sc)
        call.activity_score = format_score(score)
        of_score = _score_phenotype(gd, score)
        if phenotype and of_score and phenotype.lower() != of_score.lower():
            call.warnings.append(f"outside call gives {phenotype} with activity score "
                                 f"{call.activity_score}, which is {of_score} — the phenotype "
                                 f"of the score is used")
        call.phenotype = of_score or phenotype
        call.lookup_keys = [call.activity_score]
    else:
        call.phenotype = phenotype
        call.lookup_keys = [phenotype] if phenotype else []
    return call


def _contradiction(call: GeneCall, given_ph: str, given_sc: str, dip: str) -> None:
    given = " / ".join(([given_ph] if given_ph else [])
                       + ([f"activity score {given_sc}"] if given_sc else []))
    computed = call.phenotype or "no phenotype"
    if call.activity_score:
        computed += f" / {call.activity_score}"
    elif given_sc:
        computed += " / no activity score"
    call.warnings.append(f"outside call gives {given}; computed from {dip}: {computed} — the "
                         f"computed phenotype is used")
