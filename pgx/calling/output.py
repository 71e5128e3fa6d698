"""Write ``calls.tsv`` and one ``<sample>.calls.json`` per sample (schema: calls.schema.json).

Files are written to temporary names in the output directory and renamed only when every file
has been written, so a failed run leaves no half-written outputs.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
from pathlib import Path

from pgx import __version__
from pgx.calling.model import GeneCall
from pgx.definitions.model import DefinitionSet

TSV_COLUMNS = ("sample", "gene", "diplotype", "phenotype", "activity_score",
               "missing_positions", "status", "reason")
SCHEMA_VERSION = "1.0"


def tsv_row(c: GeneCall) -> list[str]:
    return [c.sample, c.gene, c.diplotype, c.phenotype, c.activity_score,
            ";".join(m.split(" ")[0] for m in c.missing_positions), c.status, c.reason]


def calls_tsv(calls: list[GeneCall]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(TSV_COLUMNS)
    for c in calls:
        w.writerow(tsv_row(c))
    return buf.getvalue()


def gene_json(c: GeneCall, defs: DefinitionSet) -> dict:
    g = defs.genes.get(c.gene)
    return {
        "gene": c.gene,
        "status": c.status,
        "diplotype": c.diplotype,
        "diplotypes": [{"alleles": list(d.alleles), "score": d.score} for d in c.diplotypes],
        "candidates": [{"alleles": list(d.alleles), "score": d.score} for d in c.candidates],
        "phenotype": c.phenotype,
        "activity_score": c.activity_score,
        "lookup_keys": c.lookup_keys,
        "missing_positions": c.missing_positions,
        "positions_tested": len(g.variants) if g else 0,
        "alleles_tested": len(g.alleles) if g else 0,
        "haplotypes": c.haplotypes,
        "inferred": c.inferred,
        "reason": c.reason,
        "warnings": c.warnings,
        "source": c.source,
    }


def sample_json(sample: str, calls: list[GeneCall], defs: DefinitionSet, inputs: list[str]) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "sample": sample,
        "pipeline": {"name": "pgx", "version": __version__},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs,
        "definitions": {"source": defs.source, "version": defs.version, "path": defs.path},
        "genes": [gene_json(c, defs) for c in calls],
    }


def tested_json(defs: DefinitionSet) -> dict:
    """Exactly which alleles and positions were tested, per gene (1-based GRCh38 POS)."""
    return {
        "definitions": {"source": defs.source, "version": defs.version, "path": defs.path},
        "genes": [{
            "gene": g.gene, "chromosome": g.chrom, "source": g.source, "version": g.version,
            "called_from_vcf": g.vcf_callable,
            "alleles": [a.name for a in g.alleles if a.name not in g.ignored_alleles],
            "positions": [{"position": v.position, "rsid": v.rsid, "ref": v.ref,
                           "alts": list(v.alts), "label": v.label} for v in g.variants],
        } for g in defs.genes.values()],
    }


def write_atomically(files: dict[Path, str]) -> None:
    """Write all files to temporaries first, then rename each into place."""
    temps = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def output_files(outdir: Path, samples: list[str], calls: dict[str, list[GeneCall]],
                 defs: DefinitionSet, inputs: list[str], json_name: str) -> dict[Path, str]:
    all_calls = [c for s in samples for c in calls[s]]
    files = {outdir / "calls.tsv": calls_tsv(all_calls),
             outdir / "tested.json": json.dumps(tested_json(defs), indent=1) + "\n"}
    for s in samples:
        doc = sample_json(s, calls[s], defs, inputs)
        files[outdir / json_name.format(sample=s)] = json.dumps(doc, indent=1) + "\n"
    return files
