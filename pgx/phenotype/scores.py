"""Activity scores: one spelling and one score -> phenotype rule for every stage.

Spelling (CPIC's, also the guideline lookup value): at least one decimal and at most three, no
trailing zero beyond the first: ``2.0``, ``1.5``, ``0.25``, and ``0.125`` for a score halved by
a moderate CYP2D6 inhibitor; never ``1`` or ``1.50``. ``None`` (no score) is ``""``.

Phenotype of a score: the gene's inclusive ranges ``(lo, hi, phenotype)``
(``PhenotypeRules.activity_ranges``, from the definitions in use and carried in the calls JSON
as ``activity_ranges``).
"""
from __future__ import annotations

from typing import Iterable


def format_score(x: float | None) -> str:
    """An activity score as CPIC writes it: 2.0, 1.5, 0.25, 0.125; "" for None."""
    if x is None:
        return ""
    s = f"{x:.3f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def score_phenotype(ranges: Iterable[tuple[float, float, str]], score: float) -> str | None:
    """The phenotype of an activity score by inclusive ``(lo, hi, phenotype)`` ranges; None
    when no range holds it."""
    for lo, hi, label in ranges:
        if lo <= score <= hi:
            return label
    return None
