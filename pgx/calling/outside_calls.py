"""Outside calls: diplotypes from other tools (CYP2D6, HLA-A, HLA-B, ...) merged into results.

File format (PharmCAT's outside-call TSV): tab-separated ``gene, diplotype[, phenotype[,
activity_score]]``; lines starting with ``#`` are comments. An optional header row names the
columns and may add a ``sample`` column, which is required when one file serves several samples.
An outside call replaces a VCF-based call of the same gene (with a warning saying so).

Every row is checked against the definitions in use (:func:`check_outside_call`): the gene must
be one of theirs (or HLA-A/HLA-B), each allele one of the gene's alleles (copy numbers ``*1x2``,
``*2x≥3``, ``*1xN`` count as their base allele; sub-allele aliases count), a diplotype has two
alleles (one only for a haploid chrX/chrM gene), an HLA allele has the ``*NN:NN`` form, and a
phenotype given without a diplotype is one the gene knows. A known allele spelled otherwise
(``cyp2d6*4``, ``1555A>G`` for ``m.1555A>G``, ``HLA-B*57:01``) is read as the definitions spell it,
with a warning on the call. Anything else stops the run (``InputError``, exit 3) naming the file
and line. Phenotypes are computed later, by :func:`pgx.phenotype.assign.assign_phenotypes`, like
those of every other call (a supplied phenotype that contradicts the diplotype is overridden,
with a warning).
"""
from __future__ import annotations

import difflib
import math
import re
from pathlib import Path

from pgx.calling.model import OUTSIDE_CALL, Diplotype, GeneCall
from pgx.errors import InputError
from pgx.guidelines.model import ALLELE_STATUS_GENES

COLUMNS = ("gene", "diplotype", "phenotype", "activity_score")
_ALIASES = {"activity score": "activity_score", "activityscore": "activity_score"}
HLA_GENES = tuple(sorted(ALLELE_STATUS_GENES))  # typed elsewhere; no allele table (format-checked)
_HLA_ALLELE = re.compile(r"^\*\d{2,3}(:\d{2,4}){1,3}[A-Z]?$")
_COPIES = re.compile(r"^(.+?)[xX](≥|>=)?(\d+|[nN])$")


def read_outside_calls(path: str | Path) -> list[dict]:
    """Rows as dicts with keys sample (may be ''), gene, diplotype, phenotype, activity_score
    and line (the row's 1-based line number in the file, for messages)."""
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
        row["line"] = n
        if not row["gene"] or not (row["diplotype"] or row["phenotype"] or row["activity_score"]):
            raise InputError(f"{path}:{n}: each line needs a gene and a diplotype, "
                             f"phenotype or activity score")
        key = (row["sample"], row["gene"])
        if key in seen:
            raise InputError(f"{path}:{n}: gene {row['gene']} given twice"
                             + (f" for sample {row['sample']}" if row["sample"] else ""))
        seen.add(key)
        rows.append(row)
    return rows


# ============================================================================ checking
def _where(path, row: dict) -> str:
    return f"{path}:{row['line']}" if row.get("line") else str(path)


def _hint(value: str, known: list[str], what: str, limit: int = 12) -> str:
    """``close matches: ...`` (difflib), else the list of what is known."""
    close = difflib.get_close_matches(value, known, n=5, cutoff=0.6)
    if not close:  # case and punctuation differences
        folded = {k.lower(): k for k in known}
        close = [folded[c] for c in difflib.get_close_matches(value.lower(), list(folded),
                                                              n=5, cutoff=0.6)]
    if close:
        return "close matches: " + ", ".join(close)
    shown = ", ".join(known[:limit])
    if len(known) > limit:
        shown += f", ... ({len(known)} in all)"
    return f"known {what}: {shown}" if known else f"no {what} known"


def _check_gene(name: str, where: str, defs) -> tuple[str, list[str]]:
    """The gene as the definitions spell it (case and '_' for '-' forgiven, with a warning)."""
    known = list(defs.genes) + [g for g in HLA_GENES if g not in defs.genes]
    if name in known:
        return name, []
    folded = {g.upper().replace("_", "-"): g for g in known}
    g = folded.get(name.upper().replace("_", "-"))
    if g is not None:
        return g, [f"outside call gene {name} read as {g}"]
    raise InputError(f"{where}: unknown gene {name!r} ({_hint(name, sorted(known), 'genes', 40)});"
                     f" use a gene of the definitions in use ({defs.source}) or HLA-A/HLA-B")


def _fold(gene: str, name: str, mito: bool) -> str:
    """Case-insensitive form of an allele name, without a gene prefix (``CYP2D6*4`` -> ``*4``)
    and, for mitochondrial genes, without the ``m.`` prefix."""
    s = name.strip().lower()
    g = gene.lower()
    if s.startswith(g) and len(s) > len(g):
        rest = s[len(g):]
        if rest[0] == "*":
            s = rest
        elif rest[0] in " :_":
            s = rest.lstrip(" :_")
    if mito and s.startswith("m."):
        s = s[2:]
    return s


_INDEXES: dict[int, tuple] = {}


def _allele_index(gd) -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    """``(exact, folded, names)`` of a gene: spelling -> the name the definitions use.

    Names are the gene's alleles, the alleles of its phenotype table (PharmCAT's CYP2D6 table
    names copy-number forms and hybrids) and sub-allele aliases (mapped to the reported name).
    """
    cached = _INDEXES.get(id(gd))
    if cached is not None and cached[0] is gd:
        return cached[1]
    names = [a.name for a in gd.alleles]
    names += [a for key in gd.phenotypes.diplotypes for a in key]
    names = list(dict.fromkeys(names))
    exact = {n: n for n in names}
    exact.update(gd.allele_aliases)  # a sub-allele is reported by its allele's name
    mito = gd.chrom == "chrM" or gd.gene == "MT-RNR1"
    folded: dict[str, str] = {}
    for spelling, name in exact.items():
        folded.setdefault(_fold(gd.gene, spelling, mito), name)
    _INDEXES[id(gd)] = (gd, (exact, folded, tuple(names)))
    return exact, folded, tuple(names)


def _known_allele(gd, name: str) -> str | None:
    exact, folded, _ = _allele_index(gd)
    if name in exact:
        return exact[name]
    return folded.get(_fold(gd.gene, name, gd.chrom == "chrM" or gd.gene == "MT-RNR1"))


def _check_allele(gd, name: str, where: str, defs) -> str:
    """The allele as the definitions spell it; a copy-number form keeps its suffix."""
    found = _known_allele(gd, name)
    if found is None:
        m = _COPIES.match(name)
        if m:
            base = _known_allele(gd, m.group(1))
            if base is not None:
                n = m.group(3).upper()
                found = f"{base}x{'≥' if m.group(2) else ''}{n}"
    if found is None:
        _, _, names = _allele_index(gd)
        known = [n for n in names if not _COPIES.match(n)] or list(names)
        raise InputError(f"{where}: {gd.gene} allele {name!r} is not in the definitions in use "
                         f"({defs.source} {defs.version}; {_hint(name, known, 'alleles')}); use "
                         f"an allele name of those definitions (copy numbers as *1x2, *2x≥3)")
    return found


def _check_hla_allele(gene: str, name: str, where: str) -> str:
    """``*57:01`` form; a gene prefix (``HLA-B*57:01``, ``B*57:01``) is dropped."""
    s = name.strip()
    if "*" in s and not s.startswith("*"):
        prefix, rest = s.split("*", 1)
        if prefix.upper() not in (gene, gene.removeprefix("HLA-")):
            raise InputError(f"{where}: {gene} allele {name!r} names another gene ({prefix}); "
                             f"put it on a line of its own gene, or write {gene}*NN:NN")
        s = "*" + rest
    elif s[:1].isdigit():
        s = "*" + s
    if not _HLA_ALLELE.match(s):
        raise InputError(f"{where}: {gene} allele {name!r} is not an HLA allele name; write it "
                         f"as *NN:NN (two or more colon-separated fields, e.g. *57:01, "
                         f"*57:01:01 or {gene}*57:01)")
    return s


def _haploid(gd) -> bool:
    """One allele is a full call: chrX/chrM genes (or a phenotype table of single alleles, as
    PharmCAT's phenotype-only MT-RNR1)."""
    if gd is None:
        return False
    return gd.haploid_ok or gd.phenotypes.method == "haplotype" or \
        any(len(k) == 1 for k in gd.phenotypes.diplotypes)


def _parse_score(text: str, where: str, gene: str) -> float | None:
    if not text:
        return None
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < 0:
        raise InputError(f"{where}: {gene} activity score {text!r} is not a number; write it as "
                         f"CPIC does (e.g. 1.0, 1.5) or leave the column empty")
    return x


def check_outside_call(row: dict, path, defs) -> dict:
    """One outside-call row checked against ``defs`` (a :class:`DefinitionSet`).

    Returns ``{"gene", "alleles" (tuple, the definitions' spelling), "phenotype",
    "activity_score", "warnings"}``; raises :class:`InputError` naming the file and line.
    """
    from pgx.phenotype.assign import check_outside_phenotype

    where = _where(path, row)
    gene, warnings = _check_gene(row["gene"], where, defs)
    gd = defs.genes.get(gene)
    dip = row["diplotype"].strip()
    alleles: tuple[str, ...] = ()
    if dip:
        raw = [a.strip() for a in dip.split("/")]
        example = "*1/*4" if gene not in HLA_GENES else "*57:01/*08:01"
        if any(not a for a in raw):
            raise InputError(f"{where}: {gene} diplotype {dip!r} has an empty allele; write two "
                             f"alleles separated by '/' (e.g. {example})")
        if len(raw) > 2:
            raise InputError(f"{where}: {gene} diplotype {dip!r} has {len(raw)} alleles; a "
                             f"diplotype has two, separated by '/' (e.g. {example}), or one "
                             f"for a haploid gene (chrX, chrM)")
        if len(raw) == 1 and not _haploid(gd):
            raise InputError(f"{where}: {gene} diplotype {dip!r} has one allele, but {gene} is "
                             f"not haploid (only chrX/chrM genes may give one); give both "
                             f"alleles, e.g. {raw[0]}/{raw[0]} if homozygous")
        if gene in HLA_GENES:
            alleles = tuple(_check_hla_allele(gene, a, where) for a in raw)
        elif gd is not None and gd.alleles:
            alleles = tuple(_check_allele(gd, a, where, defs) for a in raw)
        else:
            alleles = tuple(raw)
        for a, b in zip(raw, alleles):
            if a != b:
                warnings.append(f"outside call allele {a} read as {b}")
    score = _parse_score(row["activity_score"].strip(), where, gene)
    problem = check_outside_phenotype(gene, gd, row["phenotype"].strip(), score, bool(alleles))
    if problem:
        raise InputError(f"{where}: {problem}")
    return {"gene": gene, "alleles": alleles, "phenotype": row["phenotype"].strip(),
            "activity_score": row["activity_score"].strip(), "warnings": warnings}


# ============================================================================ merging
def outside_calls_for(rows: list[dict], path: str, samples: list[str],
                      known_samples: list[str] | None = None,
                      defs=None) -> dict[str, list[GeneCall]]:
    """GeneCalls per called sample from outside-call rows (checked against ``defs`` when given:
    :func:`check_outside_call`).

    Rows for samples that are in the input VCFs (``known_samples``) but not being called
    (``--sample``) are skipped, so one cohort file serves per-sample runs; a sample found in no
    input is an error (a typo must not drop a result silently).
    """
    known = set(known_samples or samples)
    per_sample: dict[str, list[GeneCall]] = {s: [] for s in samples}
    seen: dict[tuple[str, str], int | None] = {}
    for row in rows:
        where = _where(path, row)
        checked = check_outside_call(row, path, defs) if defs is not None else {
            "gene": row["gene"], "phenotype": row["phenotype"], "warnings": [],
            "activity_score": row["activity_score"],
            "alleles": tuple(a.strip() for a in row["diplotype"].split("/"))
            if row["diplotype"] else ()}
        gene = checked["gene"]
        targets = [row["sample"]] if row["sample"] else samples
        if not row["sample"] and len(samples) > 1:
            raise InputError(f"{where}: no sample column but {len(samples)} samples are being "
                             f"called; add a 'sample' column or call one sample (--sample)")
        for s in targets:
            if s not in known:
                raise InputError(f"{where}: sample {s!r} is in none of the input VCFs "
                                 f"({_hint(s, sorted(known), 'samples')}); check the sample "
                                 f"column")
            if s not in per_sample:
                continue
            if (s, gene) in seen:
                first = seen[(s, gene)]
                raise InputError(f"{where}: gene {gene} given twice for sample {s}"
                                 + (f" (also line {first})" if first else "")
                                 + "; keep one line per gene and sample")
            seen[(s, gene)] = row.get("line")
            alleles = checked["alleles"]
            call = GeneCall(sample=s, gene=gene, status=OUTSIDE_CALL,
                            diplotypes=[Diplotype(alleles)] if alleles else [],
                            phenotype=checked["phenotype"],
                            activity_score=checked["activity_score"],
                            warnings=list(checked["warnings"]),
                            source=f"outside call ({Path(path).name})",
                            reason="supplied by an outside call, not computed from the VCF")
            per_sample[s].append(call)
    return per_sample


def merge_outside_calls(calls: dict[str, list[GeneCall]], rows: list[dict], path: str,
                        samples: list[str], all_samples: list[str] | None,
                        defs) -> dict[str, list[GeneCall]]:
    """Replace VCF-based calls (``calls``: sample -> GeneCalls, changed in place and returned)
    by the outside calls of the same gene, with a warning on the outside call, and add the
    others. Rows are checked against ``defs`` first; phenotypes are assigned afterwards by
    :func:`pgx.phenotype.assign.assign_phenotypes`."""
    extra = outside_calls_for(rows, path, samples, all_samples, defs)
    for s, outside in extra.items():
        by_gene = {c.gene: c for c in outside}
        merged = []
        for c in calls.get(s, []):
            if c.gene in by_gene:
                by_gene[c.gene].warnings.append(
                    f"outside call replaces the VCF-based call ({c.diplotype or c.status})")
                continue
            merged.append(c)
        calls[s] = merged + outside
    return calls
