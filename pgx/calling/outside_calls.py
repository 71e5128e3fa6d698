"""Outside calls: diplotypes from other tools (CYP2D6, HLA-A, HLA-B, ...) merged into results.

File format (PharmCAT's outside-call TSV): tab-separated ``gene, diplotype[, phenotype[,
activity_score]]``; lines starting with ``#`` are comments. An optional header row names the
columns and may add a ``sample`` column, which is required when one file serves several samples.
An outside call replaces a VCF-based call of the same gene (with a warning saying so).
"""
from __future__ import annotations

from pathlib import Path

from pgx.calling.model import OUTSIDE_CALL, Diplotype, GeneCall
from pgx.errors import InputError

COLUMNS = ("gene", "diplotype", "phenotype", "activity_score")
_ALIASES = {"activity score": "activity_score", "activityscore": "activity_score"}


def read_outside_calls(path: str | Path) -> list[dict]:
    """Rows as dicts with keys sample (may be ''), gene, diplotype, phenotype, activity_score."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: outside-calls file not found")
    rows, header, seen = [], None, set()
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if header is None and fields[0].lower() in ("gene", "sample"):
            header = [_ALIASES.get(f.lower(), f.lower()) for f in fields]
            unknown = [h for h in header if h not in COLUMNS + ("sample",)]
            if unknown or "gene" not in header:
                raise InputError(f"{path}:{n}: unknown header column(s) {unknown or ['(no gene)']}; "
                                 f"use sample, gene, diplotype, phenotype, activity_score")
            continue
        cols = header or list(COLUMNS[: len(fields)])
        if len(fields) > len(cols):
            raise InputError(f"{path}:{n}: {len(fields)} columns, expected at most {len(cols)} "
                             f"({', '.join(cols)}); separate columns with tabs")
        row = {"sample": "", "gene": "", "diplotype": "", "phenotype": "", "activity_score": ""}
        row.update(zip(cols, fields))
        if not row["gene"] or not (row["diplotype"] or row["phenotype"]):
            raise InputError(f"{path}:{n}: each line needs a gene and a diplotype or phenotype")
        key = (row["sample"], row["gene"])
        if key in seen:
            raise InputError(f"{path}:{n}: gene {row['gene']} given twice"
                             + (f" for sample {row['sample']}" if row["sample"] else ""))
        seen.add(key)
        rows.append(row)
    return rows


def outside_calls_for(rows: list[dict], path: str, samples: list[str],
                      known_samples: list[str] | None = None) -> dict[str, list[GeneCall]]:
    """GeneCalls per called sample from outside-call rows.

    Rows for samples that are in the input VCFs (``known_samples``) but not being called
    (``--sample``) are skipped, so one cohort file serves per-sample runs; a sample found in no
    input is an error (a typo must not drop a result silently).
    """
    known = set(known_samples or samples)
    per_sample: dict[str, list[GeneCall]] = {s: [] for s in samples}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        targets = [row["sample"]] if row["sample"] else samples
        if not row["sample"] and len(samples) > 1:
            raise InputError(f"{path}: no sample column but {len(samples)} samples are being "
                             f"called; add a 'sample' column or call one sample (--sample)")
        for s in targets:
            if s not in known:
                raise InputError(f"{path}: sample {s!r} is in none of the input VCFs")
            if s not in per_sample:
                continue
            if (s, row["gene"]) in seen:
                raise InputError(f"{path}: gene {row['gene']} given twice for sample {s}")
            seen.add((s, row["gene"]))
            alleles = tuple(a.strip() for a in row["diplotype"].split("/")) if row["diplotype"] else ()
            call = GeneCall(sample=s, gene=row["gene"], status=OUTSIDE_CALL,
                            diplotypes=[Diplotype(alleles)] if alleles else [],
                            phenotype=row["phenotype"], activity_score=row["activity_score"],
                            source=f"outside call ({Path(path).name})",
                            reason="supplied by an outside call, not computed from the VCF")
            per_sample[s].append(call)
    return per_sample
