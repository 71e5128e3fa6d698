"""What was done to a VCF before pgx read it, from its header (filters and their settings).

``pgx filter`` writes ``##pgx_filter={json}``; bcftools writes ``##bcftools_<cmd>Command=...``
for ``view``, ``filter`` and plugins such as ``+setGT``. :func:`header_filters` returns one
entry per such line so that calls and reports can say which quality filter was applied.
"""
from __future__ import annotations

import json
import re

_PGX = re.compile(r"^##pgx_filter=(\{.*\})\s*$", re.M)
_BCFTOOLS = re.compile(r"^##bcftools_(view|filter|plugin)Command=(.*?)(?:; Date=.*)?$", re.M)


def header_filters(header_text: str, path: str) -> list[dict]:
    """Filters recorded in ``header_text`` (the VCF at ``path``), oldest first."""
    found: list[tuple[int, dict]] = []
    for m in _PGX.finditer(header_text):
        try:
            rec = json.loads(m.group(1))
        except json.JSONDecodeError:
            continue
        if not isinstance(rec, dict):
            continue
        entry = {"input": path, "tool": "pgx filter", "version": str(rec.get("version", ""))}
        for key in ("preset", "include", "exclude", "set_gt_missing", "source"):
            entry[key] = rec.get("input" if key == "source" else key)
            entry[key] = entry[key] if isinstance(entry[key], str) else None
        found.append((m.start(), entry))
    for m in _BCFTOOLS.finditer(header_text):
        cmd = m.group(2).strip()
        if m.group(1) == "view" and not re.search(r"(^|\s)(-i|-e|--include|--exclude|-f|"
                                                  r"--apply-filters)\b", cmd):
            continue  # a plain conversion or subset, not a quality filter
        found.append((m.start(), {"input": path, "tool": f"bcftools {m.group(1)}",
                                  "command": cmd}))
    return [e for _, e in sorted(found, key=lambda x: x[0])]


def original_inputs(inputs: list[str], filters: list[dict]) -> list[str]:
    """The files the genotypes came from before any recorded pgx filter: the ``source`` a
    filter recorded for a filtered input, else the input itself."""
    by_input: dict[str, str] = {}
    for f in filters:  # oldest first: the first recorded source of an input is its origin
        if f.get("source"):
            by_input.setdefault(f["input"], f["source"])
    return [by_input.get(p, p) for p in inputs]


def describe_filter(entry: dict) -> str:
    """One line for a report: what the filter kept and what it set missing."""
    if entry.get("tool") != "pgx filter":
        return f"{entry.get('tool', 'filter')}: {entry.get('command', '')}".strip()
    parts = []
    if entry.get("include"):
        parts.append(f"records kept where {entry['include']}")
    if entry.get("exclude"):
        parts.append(f"records dropped where {entry['exclude']}")
    if entry.get("set_gt_missing"):
        parts.append(f"genotypes set missing (unknown) where {entry['set_gt_missing']}")
    name = f"pgx filter{' preset ' + entry['preset'] if entry.get('preset') else ''}"
    return f"{name}: {'; '.join(parts) or 'no expression (records copied)'}"
