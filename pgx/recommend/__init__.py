"""Drug recommendations: a patient's calls (``<sample>.calls.json``) matched against the
guidelines (:mod:`pgx.guidelines`), optionally after phenoconversion by current medications
(:mod:`pgx.phenotype.phenoconversion`). See :mod:`pgx.recommend.engine`."""
from __future__ import annotations

from pgx.recommend.engine import STATES, find_calls_file, read_calls, recommend_sample
from pgx.recommend.text import format_lookup, recommendations_tsv

__all__ = ["STATES", "find_calls_file", "format_lookup", "read_calls", "recommend_sample",
           "recommendations_tsv"]
