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
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pgx import __version__
from pgx.calling.model import GeneCall
from pgx.definitions.model import DefinitionSet
from pgx.phenotype.assign import score_ranges

TSV_COLUMNS = ("sample", "gene", "diplotype", "phenotype", "activity_score",
               "missing_positions", "status", "reason", "possible_phenotypes")
SCHEMA_VERSION = "1.1"  # 1.1: not_excluded, possible_phenotypes, phenotype_certain


def _call_key(c: GeneCall) -> tuple:
    """Calls copied across samples (see matcher) share their lists: identical content."""
    return (c.gene, c.status, c.reason, c.phenotype, c.activity_score, id(c.diplotypes),
            id(c.candidates), id(c.missing_positions), id(c.warnings), id(c.not_excluded),
            id(c.novel_variants),
            tuple(c.possible_phenotypes), c.inferred, c.source)


def calls_tsv(calls: list[GeneCall]) -> str:
    """One row per sample and gene; possible phenotypes and missing positions (``chrom:pos``)
    joined by ``;``; the reason column also carries the call's warnings (the JSON keeps them
    apart)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(TSV_COLUMNS)
    rows: dict[tuple, str] = {}
    for c in calls:
        key = _call_key(c)
        if key not in rows:
            tail = io.StringIO()
            reason = "; ".join([c.reason] * bool(c.reason) + c.warnings)
            csv.writer(tail, delimiter="\t", lineterminator="\n").writerow(
                [c.gene, c.diplotype, c.phenotype, c.activity_score,
                 ";".join(m.split(" ")[0] for m in c.missing_positions), c.status, reason,
                 ";".join(c.possible_phenotypes)])
            rows[key] = tail.getvalue()
        w.writerow([c.sample])
        buf.seek(buf.tell() - 1)  # replace the newline after the sample with a tab
        buf.write("\t" + rows[key])
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
        "not_excluded": c.not_excluded,
        "novel_variants": c.novel_variants,
        "possible_phenotypes": c.possible_phenotypes,
        "phenotype_certain": c.phenotype_certain,
        "activity_ranges": activity_ranges(g),
        "missing_positions": c.missing_positions,
        "positions_tested": len(g.variants) if g else 0,
        "alleles_tested": len(g.alleles) if g else 0,
        "haplotypes": c.haplotypes,
        "inferred": c.inferred,
        "reason": c.reason,
        "warnings": c.warnings,
        "source": c.source,
    }


def activity_ranges(g) -> list[dict]:
    """The gene's activity score -> phenotype ranges (inclusive), for activity-score genes
    (:func:`pgx.phenotype.assign.score_ranges`)."""
    if g is None or g.phenotypes.method != "activity_score":
        return []
    return [{"min": lo, "max": hi, "phenotype": label} for lo, hi, label in score_ranges(g)]


def annotation_summary(annotations: list) -> dict:
    """What a sample's inputs say about annotation (:class:`pgx.calling.novel.Annotation`):
    were consequences predicted, by which tool, which annotations were transferred."""
    anns = [a for a in annotations if a is not None]
    return {"consequences": any(a.consequences for a in anns),
            "tools": sorted({a.tool for a in anns if a.tool}),
            "fields": sorted({f for a in anns for f in a.fields})}


def sample_json(sample: str, calls: list[GeneCall], defs: DefinitionSet, inputs: list[str],
                cache: dict | None = None, filters: list[dict] | None = None,
                annotation: dict | None = None) -> str:
    """The per-sample JSON document as text (gene entries serialised once per distinct call)."""
    cache = {} if cache is None else cache
    head = {
        "schema_version": SCHEMA_VERSION,
        "sample": sample,
        "pipeline": {"name": "pgx", "version": __version__},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs,
        "input_filters": filters or [],
        "annotation": annotation or {"consequences": False, "tools": [], "fields": []},
        "definitions": {"source": defs.source, "version": defs.version, "path": defs.path},
    }
    genes = []
    for c in calls:
        key = _call_key(c)
        if key not in cache:
            cache[key] = json.dumps(gene_json(c, defs), separators=(",", ":"))
        genes.append(cache[key])
    return json.dumps(head, separators=(",", ":"))[:-1] + ',"genes":[' + ",".join(genes) + "]}\n"


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


def write_atomically(files: dict[Path, str], threads: int = 4) -> None:
    """Write all files to temporaries first, then rename each into place (no half-written
    outputs; a failure leaves no temporaries and removes directories it created). File
    creation is I/O-bound, so a few threads write in parallel."""
    created = [d for d in sorted({p.parent for p in files}) if not d.exists()]
    for d in created:
        d.mkdir(parents=True, exist_ok=True)
    token = f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    temps = [(path.with_name("." + path.name + token), path) for path in files]

    def write(item):
        tmp, path = item
        with open(tmp, "x") as fh:
            fh.write(files[path])

    done = False
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(write, temps))
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda item: os.replace(*item), temps))
        done = True
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if not done:
            for d in reversed(created):
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()


def output_files(outdir: Path, samples: list[str], calls: dict[str, list[GeneCall]],
                 defs: DefinitionSet, inputs: list[str], json_name: str,
                 filters: list[dict] | None = None,
                 sample_files: dict[str, list[str]] | None = None,
                 annotations: dict | None = None) -> dict[Path, str]:
    """Every output file as text; each sample's JSON names only the inputs that hold the
    sample (``sample_files``) and their filters."""
    all_calls = [c for s in samples for c in calls[s]]
    files = {outdir / "calls.tsv": calls_tsv(all_calls),
             outdir / "tested.json": json.dumps(tested_json(defs), indent=1) + "\n"}
    cache: dict = {}
    for s in samples:
        mine = (sample_files or {}).get(s, inputs)
        files[outdir / json_name.format(sample=s)] = sample_json(
            s, calls[s], defs, mine, cache, [f for f in filters or [] if f["input"] in mine],
            annotation_summary([(annotations or {}).get(p) for p in mine]))
    return files
