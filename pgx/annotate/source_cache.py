"""The columnar cache of an annotation source, built once and reused: :class:`SourceIndex`.

``SourceIndex.open(source)`` resolves the source's fields against its header, then loads the
cache, or builds it when there is none or the source changed. What is stored (one ``.npy``
file per array, memory-mapped on load, so a run touches only the pages its contigs need):

* the source's records in file order: ``rec_key`` = ``contig << 32 | POS`` (POS 1-based as in
  VCF; contigs numbered in order of appearance, names in ``meta.json``), sorted because the
  source must be, and ``rec_nalt``, their number of ALT alleles;
* its alleles, one entry per ALT of every record (multi-allelic records split), keyed by
  contig, normalised POS and REF/ALT (:mod:`pgx.annotate.transfer_numba_fns`), sorted by key
  with ties in file order: ``ent_hi``, ``ent_lo``, ``ent_rec`` (record), ``ent_alt`` (0-based
  ALT index in that record);
* the transferred columns' values as cells (record x column; layout in
  :mod:`pgx.annotate.transfer_build_numba_fns`): presence, the value text bytes exactly as in
  the source (so output values are the source's text, never re-formatted numbers), value
  boundaries and typed float64 values.

Where: ``--cache-dir DIR`` (``cache_dir=``), else ``.pgx-cache/`` beside the source, else (not
writable, e.g. a read-only data folder) ``$XDG_CACHE_HOME/pgx/annotate`` (``~/.cache/...``).
The cache's folder name holds a digest of the source's absolute path, of what is encoded
(columns, their numeric parsing, TSV layout) and of the encoding code itself, so one source
file may have several caches and a pgx whose keys differ never reads an older cache.

Reuse: the cache is used when the source's size and mtime are those recorded; if only the
mtime differs, the file's sha256 decides (the same content is reused and the new mtime
recorded). Otherwise it is rebuilt into a temporary folder and renamed into place, so a
failed or concurrent build never leaves half a cache.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgx import __version__
from pgx.annotate.sources import Source
from pgx.errors import InputError, UsageError

CACHE_FORMAT = 3
ARRAYS = ("rec_key", "rec_nalt", "ent_hi", "ent_lo", "ent_rec", "ent_alt", "present", "text",
          "toff", "vb", "vboff", "num")


@dataclass(frozen=True)
class ResolvedField:
    """A field with its Type/Number settled: ``column`` indexes the source columns encoded;
    ``kind`` is one of ``transfer_pieces_numba_fns.KIND_*``; ``number`` is what the output
    ##INFO line declares."""

    name: str
    source_key: str
    column: int
    kind: int
    type: str
    number: str
    description: str

    @property
    def header_line(self) -> str | None:
        if self.name == "ID":
            return None
        desc = self.description.replace("\\", "\\\\").replace('"', '\\"')
        return (f'##INFO=<ID={self.name},Number={self.number},Type={self.type},'
                f'Description="{desc}">')


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def _encoder_digest() -> str:
    """sha256 of the code that encodes a cache (keys, cells, reading): an edit rebuilds."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("transfer_numba_fns.py", "transfer_build_numba_fns.py", "transfer_build.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pgx" / "annotate"


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _vcf_field(src: Source, spec, header):
    """(column key, type, number, description) of a VCF source field."""
    from pgx.annotate import transfer_pieces_numba_fns as T

    if spec.is_id:
        kind = T.KIND_ID if spec.name == "ID" else T.KIND_SITE
        return "ID", kind, spec.type or "String", spec.number or "1", \
            spec.description or f"ID of the matching record of {src.file.name}"
    tag = spec.source[5:]
    fd = header.info.get(tag)
    if fd is None and not (spec.type and spec.number):
        known = sorted(header.info)
        close = difflib.get_close_matches(tag, known, n=3)
        hint = f" (close: {', '.join(close)})" if close else \
            f" (it defines {', '.join(known[:12])}{', ...' if len(known) > 12 else ''})"
        raise InputError(f"{src.file}: {src.where()}: INFO/{tag} is not defined in the "
                         f"source's header{hint}; fix `from`, or give the field a type and "
                         f"number")
    typ = spec.type or (fd.type if fd.type in ("Integer", "Float", "Flag") else "String")
    number = spec.number or (fd.number if fd is not None else ".")
    desc = spec.description or (fd.description if fd is not None and fd.description else
                                f"INFO/{tag}")
    return spec.source, None, typ, number, f"{desc} (from {src.name}: {src.file.name})"


def resolve_fields(src: Source) -> tuple[list[ResolvedField], list[tuple[str, bool]], dict]:
    """The fields of ``src`` against its header: (fields, columns to encode as (key,
    numeric), TSV layout {names, skip, where} or {}). Raises :class:`InputError` for a field
    or a TSV column the source does not have."""
    from pgx.annotate import transfer_pieces_numba_fns as T

    if not src.file.is_file():
        raise InputError(f"{src.file}: {src.where()}: annotation source not found; check "
                         f"`file`")
    columns: list[str] = []
    numeric: dict[str, bool] = {}
    layout: dict = {}
    fields = []
    if src.format == "vcf":
        from pgx.io.vcf_reader import ColumnarVcf

        header = ColumnarVcf(src.file).header
    else:
        from pgx.annotate.transfer_build import tsv_header

        names, skip = tsv_header(src.file, src.column_names)
        needed = ["chrom", "pos"] + (["ref", "alt"] if src.match == "exact" else [])
        missing = [f"{k}: {src.columns[k]}" for k in needed if src.columns[k] not in names]
        if missing:
            raise InputError(f"{src.file}: {src.where()}: no column named "
                             f"{', '.join(missing)} (the columns are {', '.join(names)}); "
                             f"set `columns` to the file's names, or use match: position "
                             f"without REF/ALT")
        layout = {"names": names, "skip": skip,
                  "where": {k: names.index(src.columns[k]) for k in needed}}
    for spec in src.fields:
        if src.format == "vcf":
            key, kind, typ, number, desc = _vcf_field(src, spec, header)
        else:
            if spec.source not in layout["names"]:
                close = difflib.get_close_matches(spec.source, layout["names"], n=3)
                raise InputError(f"{src.file}: {src.where()}: no column {spec.source!r} "
                                 f"(the columns are {', '.join(layout['names'])}"
                                 f"{'; close: ' + ', '.join(close) if close else ''}); fix "
                                 f"`from`")
            key, kind = spec.source, None
            typ, number = spec.type or "String", spec.number or "1"
            desc = spec.description or f"{spec.source} (from {src.name}: {src.file.name})"
        if typ == "Flag":
            kind, number = T.KIND_FLAG, "0"
        elif kind is None:
            if src.match == "position":
                kind = T.KIND_SITE
                number = "." if number in ("A", "R", "G") else number
            else:
                kind = {"A": T.KIND_A, "R": T.KIND_R}.get(number, T.KIND_SITE)
        if key not in columns:
            columns.append(key)
        numeric[key] = numeric.get(key, False) or typ in ("Integer", "Float")
        fields.append(ResolvedField(spec.name, key, columns.index(key), kind, typ, number,
                                    desc))
    return fields, [(c, numeric[c]) for c in columns], layout


class SourceIndex:
    """An opened source: resolved ``fields``, ``contigs`` and ``contig_ids``, the cache arrays
    as attributes (see the module docstring), ``cache_path`` and ``status`` (``"reused"``,
    ``"reused (same sha256)"``, ``"built"`` or ``"rebuilt (...)"``), ``build_seconds``."""

    def __init__(self, source: Source, fields, columns, cache_path: Path, meta: dict,
                 arrays: dict, status: str):
        self.source = source
        self.fields: list[ResolvedField] = fields
        self.columns = columns
        self.n_cols = len(columns)
        self.cache_path = cache_path
        self.meta = meta
        self.status = status
        self.build_seconds = float(meta.get("build_seconds", 0.0))
        self.contigs: list[str] = list(meta["contigs"])
        self.contig_ids = {c: i for i, c in enumerate(self.contigs)}
        self.column_max = [tuple(x) for x in meta["column_max"]]
        for name in ARRAYS:
            setattr(self, name, arrays[name])

    @property
    def n_records(self) -> int:
        return int(self.rec_key.shape[0])

    @property
    def n_entries(self) -> int:
        return int(self.ent_hi.shape[0])

    def header_lines(self) -> list[str]:
        return [f.header_line for f in self.fields if f.header_line]

    @classmethod
    def open(cls, source: Source, cache_dir: str | Path | None = None, *, threads: int = 1,
             rebuild: bool = False) -> SourceIndex:
        fields, columns, layout = resolve_fields(source)
        path = source.file.resolve()
        what = {"format": CACHE_FORMAT, "code": _encoder_digest(), "path": str(path),
                "kind": source.format,
                "columns": columns, "alleles": source.format == "vcf" or
                source.match == "exact", "layout": layout}
        key = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]
        root = _cache_root(path, cache_dir)
        target = root / f"{path.name}.{key}.pgxcache"
        st = path.stat()
        meta = _read_meta(target)
        status = "built"
        if meta is not None and not rebuild:
            if meta.get("key") == key and meta["size"] == st.st_size:
                if meta["mtime_ns"] == st.st_mtime_ns:
                    return cls(source, fields, columns, target, meta, _load(target), "reused")
                if _file_sha256(path) == meta["sha256"]:
                    meta["mtime_ns"] = st.st_mtime_ns
                    _write_json(target / "meta.json", meta)
                    return cls(source, fields, columns, target, meta, _load(target),
                               "reused (same sha256)")
            status = "rebuilt (the source changed)"
        elif meta is not None:
            status = "rebuilt (asked to)"
        meta, arrays = _build(source, columns, layout, what, key, path, target, threads)
        return cls(source, fields, columns, target, meta, arrays, status)


def _cache_root(path: Path, cache_dir) -> Path:
    if cache_dir is not None:
        root = Path(cache_dir)
        if not _writable_dir(root):
            raise UsageError(f"--cache-dir {cache_dir}: cannot create or write the folder; "
                             f"choose a writable one")
        return root
    beside = path.parent / ".pgx-cache"
    if _writable_dir(beside):
        ignore = beside / ".gitignore"
        if not ignore.exists():  # a source inside a repository: keep the cache out of git
            try:
                ignore.write_text("*\n")
            except OSError:
                pass
        return beside
    root = _user_cache()
    if not _writable_dir(root):
        raise UsageError(f"{path}: no writable place for the annotation cache (beside the "
                         f"source, or {root}); pass --cache-dir")
    return root


def _read_meta(target: Path) -> dict | None:
    try:
        meta = json.loads((target / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("cache_format") != CACHE_FORMAT or \
            any(not (target / f"{a}.npy").is_file() for a in ARRAYS):
        return None
    return meta


def _write_json(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)


def _load(target: Path) -> dict:
    return {a: np.asarray(np.load(target / f"{a}.npy", mmap_mode="r")) for a in ARRAYS}


def _column_max(table, n_cols: int) -> list[list[int]]:
    """Per column: the longest cell text, the longest single value and the most values in a
    cell (what bounds the text a query record can get from it)."""
    R = len(table.rec_key)
    if R == 0 or n_cols == 0:
        return [[0, 0, 0] for _ in range(n_cols)]
    cell_len = np.diff(table.toff).reshape(R, n_cols).max(axis=0)
    counts = np.diff(table.vboff)
    cell_cnt = counts.reshape(R, n_cols).max(axis=0)
    cell = np.repeat(np.arange(R * n_cols), counts)
    last = np.ones(len(cell), bool)
    last[:-1] = cell[1:] != cell[:-1]
    ends = np.where(last, table.toff[cell + 1], np.roll(table.vb, -1) - 1)
    val_len = np.zeros(n_cols, np.int64)
    if len(cell):
        np.maximum.at(val_len, cell % n_cols, ends - table.vb)
    return [[int(a), int(b), int(c)] for a, b, c in zip(cell_len, val_len, cell_cnt)]


def _build(source: Source, columns, layout: dict, what: dict, key: str, path: Path,
           target: Path, threads: int) -> tuple[dict, dict]:
    from pgx.annotate import transfer_build as B

    t0 = time.perf_counter()
    st = path.stat()
    cols = [B.Column(k, num) for k, num in columns]
    if source.format == "vcf":
        table = B.read_vcf(path, cols, threads=threads)
    else:
        table = B.read_tsv(path, cols, layout["names"], layout["skip"], layout["where"],
                           alleles=source.match == "exact")
    order = np.lexsort((table.ent_lo, table.ent_hi))  # stable: file order among equal keys
    arrays = {
        "rec_key": table.rec_key,
        "rec_nalt": np.bincount(table.ent_rec, minlength=len(table.rec_key)).astype(np.int32),
        "ent_hi": table.ent_hi[order], "ent_lo": table.ent_lo[order],
        "ent_rec": table.ent_rec[order], "ent_alt": table.ent_alt[order],
        "present": table.present, "text": table.text, "toff": table.toff, "vb": table.vb,
        "vboff": table.vboff, "num": table.num,
    }
    sha = _file_sha256(path)
    meta = {"cache_format": CACHE_FORMAT, "pgx_version": __version__, "key": key,
            "column_max": _column_max(table, len(columns)),
            "source": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": sha, "encoded": what, "contigs": table.contigs,
            "records": int(len(table.rec_key)), "entries": int(len(order)),
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr))
        meta["build_seconds"] = round(time.perf_counter() - t0, 3)
        _write_json(tmp / "meta.json", meta)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:  # another process renamed its build first: use ours from memory
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta, {k: np.ascontiguousarray(v) for k, v in arrays.items()}
