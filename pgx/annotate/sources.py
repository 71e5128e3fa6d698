"""Annotation sources: which fields of which VCF/TSV files go onto the query's records.

Two ways to say it, one model (:class:`Source`):

* the workflow config, ``annotate: sources:`` in ``config/config.yaml``, validated by
  ``pgx/schemas/annotation_sources.schema.json`` (:func:`load_sources`)::

      - name: kg
        file: ../shared/data/1kgp-grch38/CYP2C19.vcf.gz
        match: exact            # or position
        fields:
          - {from: ID, to: ID}
          - {from: INFO/AF_EUR, to: KG_AF_EUR}
      - name: clinvar
        file: clinvar.tsv.gz
        format: tsv
        columns: {chrom: CHROM, pos: POS, ref: REF, alt: ALT}
        fields:
          - {from: CLNSIG, type: String, number: "."}

* bcftools annotate's command line, ``-a FILE -c LIST`` (:func:`parse_bcftools`). The subset
  understood: ``ID``; ``INFO/TAG`` or ``TAG``; renames ``INFO/NEW:=OLD``, ``NEW:=OLD``,
  ``NEW:=INFO/OLD`` and ``INFO/NEW:=ID``; for a TSV ``-a``, the list names the file's columns
  in order with ``CHROM``, ``POS``, ``REF``, ``ALT`` and ``-`` (a column to skip): without
  REF/ALT (or with ``-`` in their place) the match is by position. ``--pair-logic``
  ``some``/``exact``/``both``/``snps``/``indels`` -> ``exact``, ``all`` -> ``position``.
  Not supported (a one-line error says so): ``+TAG``/``-TAG``/``=TAG`` modifiers, ``.TAG``,
  ``FORMAT/``, ``FILTER``, ``QUAL``, ``INFO`` (all tags), ``BEG``/``END`` region columns.

Types and Numbers come from the source VCF's header unless a field sets ``type``/``number``
(TSV: from ``-h`` header lines or the field, else ``String`` / ``1``); they are resolved when
the source is opened (:mod:`pgx.annotate.source_cache`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pgx.errors import UsageError

FORMATS = ("vcf", "tsv")
MATCHES = ("exact", "position")
TYPES = ("Integer", "Float", "String", "Flag")
SCHEMA = "annotation_sources.schema.json"
_TSV_SUFFIXES = (".tsv", ".tsv.gz", ".tsv.bgz", ".txt", ".txt.gz", ".tab", ".tab.gz")
_TAG = re.compile(r"^[A-Za-z_][0-9A-Za-z_.]*$")
_HEADER_INFO = re.compile(r"^##INFO=<(.*)>\s*$")
_KEYVAL = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^,]*)')
PAIR_LOGIC = {"some": "exact", "exact": "exact", "both": "exact", "snps": "exact",
              "indels": "exact", "all": "position"}


@dataclass(frozen=True)
class FieldSpec:
    """One field to transfer: ``source`` is ``ID``, ``INFO/TAG`` (VCF) or a column name (TSV);
    ``name`` the query INFO tag written (``ID`` = the ID column). ``type``/``number`` None:
    from the source's header (resolved on open)."""

    source: str
    name: str
    type: str | None = None
    number: str | None = None
    description: str | None = None

    @property
    def is_id(self) -> bool:
        return self.source == "ID"


@dataclass(frozen=True)
class Source:
    """One annotation source (see the module docstring). ``columns``: TSV column names for
    chrom/pos/ref/alt; ``column_names``: the TSV's columns in order when it has no header
    line. ``origin``: where it was defined, for messages."""

    name: str
    file: Path
    format: str
    fields: tuple[FieldSpec, ...]
    match: str = "exact"
    columns: dict = field(default_factory=lambda: dict(_DEFAULT_COLUMNS))
    column_names: tuple[str, ...] | None = None
    origin: str = ""

    def where(self) -> str:
        return self.origin or f"source {self.name!r}"


_DEFAULT_COLUMNS = {"chrom": "CHROM", "pos": "POS", "ref": "REF", "alt": "ALT"}


def guess_format(path: str | Path) -> str:
    return "tsv" if str(path).lower().endswith(_TSV_SUFFIXES) else "vcf"


def _vcf_source_key(text: str, where: str) -> str:
    """``ID`` or ``INFO/TAG`` for a VCF field written ``ID``, ``INFO/TAG`` or ``TAG``."""
    if text == "ID":
        return "ID"
    tag = text[5:] if text.startswith("INFO/") else text
    if "/" in tag or not _TAG.match(tag):
        raise UsageError(f"{where}: {text!r} is not a field pgx can transfer; write ID, "
                         f"INFO/TAG or TAG (FORMAT, FILTER and QUAL are not supported)")
    return f"INFO/{tag}"


def _default_name(key: str) -> str:
    return key[5:] if key.startswith("INFO/") else key


def load_sources(config, base_dir: str | Path | None = None, where: str = "config") -> list[Source]:
    """Sources from the config form: a list of mappings (``annotate: sources:``), or a mapping
    holding it under ``sources``. Validated against the JSON Schema, then checked for
    duplicate names and output tags. Relative paths are taken from ``base_dir`` (the config's
    folder) when given. Raises :class:`UsageError` naming the entry and the fix."""
    from pgx.documents import validator

    if isinstance(config, dict) and "sources" in config:
        config = config["sources"]
    errors = sorted(validator(SCHEMA).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        raise UsageError(f"{where}: annotate.sources{path}: {e.message[:200]}; see "
                         f"pgx/schemas/{SCHEMA}")
    sources = []
    for i, entry in enumerate(config):
        at = f"{where}: annotate.sources[{i}] ({entry['name']})"
        file = Path(entry["file"])
        if base_dir is not None and not file.is_absolute():
            file = Path(base_dir) / file
        fmt = entry.get("format") or guess_format(file)
        specs = []
        for f in entry["fields"]:
            key = _vcf_source_key(f["from"], at) if fmt == "vcf" else f["from"]
            specs.append(FieldSpec(key, f.get("to") or _default_name(key), f.get("type"),
                                   f.get("number"), f.get("description")))
        columns = {**_DEFAULT_COLUMNS, **entry.get("columns", {})}
        names = entry.get("column_names")
        sources.append(check_source(Source(
            entry["name"], file, fmt, tuple(specs), entry.get("match", "exact"), columns,
            tuple(names) if names else None, at)))
    check_sources(sources)
    return sources


def parse_header_lines(lines) -> dict[str, dict]:
    """``{tag: {"Number", "Type", "Description"}}`` from ``##INFO=<...>`` lines (bcftools
    ``-h``/``-H``); other lines are ignored."""
    out = {}
    for line in lines or ():
        m = _HEADER_INFO.match(line.strip())
        if m:
            attrs = {k: v.strip('"') for k, v in _KEYVAL.findall(m.group(1))}
            if "ID" in attrs:
                out[attrs["ID"]] = attrs
    return out


def parse_bcftools(annotations: str | Path, columns: str, *, name: str | None = None,
                   header_lines=None, pair_logic: str | None = None,
                   fmt: str | None = None) -> Source:
    """The source of ``bcftools annotate -a ANNOTATIONS -c COLUMNS [-h/-H header_lines]
    [--pair-logic P]`` (see the module docstring for the subset)."""
    file = Path(annotations)
    fmt = fmt or guess_format(file)
    where = f"-a {annotations} -c {columns}"
    if pair_logic is not None and pair_logic not in PAIR_LOGIC:
        raise UsageError(f"--pair-logic {pair_logic}: must be one of {', '.join(PAIR_LOGIC)}")
    items = [c.strip() for c in columns.split(",")]
    if not columns.strip() or any(not c for c in items):
        raise UsageError(f"{where}: empty column name; write e.g. -c ID,INFO/AF")
    header = parse_header_lines(header_lines)
    specs: list[FieldSpec] = []
    tsv_names: list[str] = []
    cols = dict(_DEFAULT_COLUMNS)
    for k, item in enumerate(items):
        if item[0] in "+-=." and item != "-":
            raise UsageError(f"{where}: {item!r}: the {item[0]!r} modifier is not supported; "
                             f"pgx replaces existing values (bcftools' plain -c TAG)")
        if item in ("INFO", "FORMAT", "FILTER", "QUAL", "BEG", "END", "FROM", "TO") or \
                item.startswith(("FORMAT/", "FMT/")):
            raise UsageError(f"{where}: {item!r} is not supported; list the INFO tags to copy "
                             f"(ID, INFO/TAG, NEW:=OLD)")
        if fmt == "tsv" and item in ("CHROM", "POS", "REF", "ALT", "-"):
            tsv_names.append(item if item != "-" else f"-{k + 1}")
            continue
        new, _, old = item.partition(":=")
        if not old:
            new, old = item, item
        if fmt == "vcf":
            key = _vcf_source_key(old, where)
        else:
            key = _default_name(_vcf_source_key(old, where))
            tsv_names.append(key)
        target = "ID" if new == "ID" else _default_name(_vcf_source_key(new, where))
        if new == "ID" and key != "ID":
            raise UsageError(f"{where}: {item!r}: only ID can be written to the ID column")
        info = header.get(target) or header.get(_default_name(key)) or {}
        specs.append(FieldSpec(key, target, info.get("Type"), info.get("Number"),
                               info.get("Description")))
    if not specs:
        raise UsageError(f"{where}: no field to transfer; add e.g. INFO/AF or ID")
    match = PAIR_LOGIC[pair_logic] if pair_logic else "exact"
    if fmt == "tsv":
        for need in ("CHROM", "POS"):
            if need not in tsv_names:
                raise UsageError(f"{where}: a tab-delimited -a file needs {need} in -c "
                                 f"(e.g. -c CHROM,POS,REF,ALT,TAG)")
        if "REF" not in tsv_names or "ALT" not in tsv_names:
            match = "position"
    src = Source(name or file.name.split(".")[0] or "source", file, fmt, tuple(specs), match,
                 cols, tuple(tsv_names) if fmt == "tsv" else None, where)
    return check_source(src)


def check_source(src: Source) -> Source:
    """Checks that need no file: formats, TSV columns for the match, duplicate outputs."""
    where = src.where()
    if src.format not in FORMATS:
        raise UsageError(f"{where}: format {src.format!r}: must be vcf or tsv")
    if src.match not in MATCHES:
        raise UsageError(f"{where}: match {src.match!r}: must be exact or position")
    seen = set()
    for f in src.fields:
        if f.name in seen:
            raise UsageError(f"{where}: two fields write {f.name}; give each its own `to`")
        seen.add(f.name)
        if f.name == "ID" and not f.is_id:
            raise UsageError(f"{where}: {f.source} -> ID: only the source's ID can be written "
                             f"to the ID column; choose another `to`")
        if f.type is not None and f.type not in TYPES:
            raise UsageError(f"{where}: {f.source}: type {f.type!r} must be one of "
                             f"{', '.join(TYPES)}")
        if f.number is not None and not re.match(r"^(A|R|G|\.|[0-9]+)$", f.number):
            raise UsageError(f"{where}: {f.source}: number {f.number!r} must be A, R, G, . "
                             f"or a count")
    if src.format == "vcf" and src.column_names:
        raise UsageError(f"{where}: column_names is for TSV sources")
    return src


def check_sources(sources: list[Source]) -> None:
    """Source names unique; no INFO tag written by two sources (ID may be: the last source
    with an ID at a record wins, as chained bcftools runs do)."""
    names, outs = {}, {}
    for s in sources:
        if s.name in names:
            raise UsageError(f"{s.where()}: the name {s.name!r} is used twice; names must be "
                             f"unique")
        names[s.name] = s
        for f in s.fields:
            if f.name != "ID" and f.name in outs:
                raise UsageError(f"{s.where()}: INFO/{f.name} is also written by source "
                                 f"{outs[f.name]!r}; give one of them another `to`")
            outs[f.name] = s.name
