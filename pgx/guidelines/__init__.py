"""Drug-prescribing guidelines (CPIC, DPWG): our YAML files (``resources/guidelines``) or
PharmCAT's guideline JSON, read into :mod:`pgx.guidelines.model`.

``load_guidelines()`` returns a :class:`~pgx.guidelines.model.GuidelineSet`;
``GuidelineSet.match(drug, {gene: lookup value})`` finds a patient's recommendations (lookup
semantics: :mod:`pgx.guidelines.model`).
"""
from __future__ import annotations

from pgx.guidelines.loader import GuidelineError, load_guidelines
from pgx.guidelines.model import Guideline, GuidelineSet, Recommendation

__all__ = ["GuidelineError", "Guideline", "GuidelineSet", "Recommendation", "load_guidelines"]
