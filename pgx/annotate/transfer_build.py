"""Read an annotation source (VCF or TSV) once into the columnar arrays of its cache.

:func:`read_source` returns a :class:`SourceTable`: the source's records in file order (contigs
numbered in order of appearance, ``rec_key = contig << 32 | POS``, 1-based POS), its split
alleles (one entry per ALT: ``ent_hi``/``ent_lo`` keys from
:func:`pgx.annotate.transfer_numba_fns.encode_alleles`, ``ent_rec`` the record, ``ent_alt``
the 0-based ALT index), and the value cells of the transferred columns (layout in
:mod:`pgx.annotate.transfer_build_numba_fns`). Entries are not sorted here
(:mod:`pgx.annotate.source_cache` sorts them). Python runs per chunk of text (a few MiB),
never per record, except to name a chromosome where it changes.

The source must be sorted: each chromosome in one block, POS non-decreasing within it (what
``bcftools sort`` writes); anything else is an :class:`InputError` naming the line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgx.errors import InputError

CHUNK_BYTES = 4 << 20


@dataclass
class Column:
    """One source column to encode: ``key`` is ``ID``, ``INFO/TAG`` or a TSV column name."""

    key: str
    numeric: bool = False


@dataclass
class SourceTable:
    contigs: list[str]
    rec_key: np.ndarray  # int64 [R]
    ent_hi: np.ndarray  # int64 [E]
    ent_lo: np.ndarray  # int64 [E]
    ent_rec: np.ndarray  # int64 [E]
    ent_alt: np.ndarray  # int32 [E]
    present: np.ndarray  # uint8 [R * C]
    text: np.ndarray  # uint8
    toff: np.ndarray  # int64 [R * C + 1]
    vb: np.ndarray  # int64
    vboff: np.ndarray  # int64 [R * C + 1]
    num: np.ndarray  # float64, aligned with vb
    lines: int = 0  # source lines read (records)


@dataclass
class _Order:
    """Contig numbering in order of appearance and the sortedness check across chunks."""

    path: str
    fix: str
    ids: dict = field(default_factory=dict)
    names: list = field(default_factory=list)
    last_contig: int = -1
    last_pos: int = 0
    last_block: int = -1

    def check(self, contig: np.ndarray, pos: np.ndarray, first_line: int) -> None:
        """``contig``: per-row *file-order* ids (already assigned); raises on disorder."""
        if not len(pos):
            return
        prev_c = np.concatenate([[self.last_contig], contig[:-1]])
        prev_p = np.concatenate([[self.last_pos], pos[:-1]])
        bad = np.flatnonzero((contig == prev_c) & (pos < prev_p))
        if len(bad):
            i = int(bad[0])
            name = self.names[int(contig[i])]
            raise InputError(f"{self.path}:{first_line + i}: {name}:{int(pos[i])} comes after "
                             f"{name}:{int(prev_p[i])}; the source must be sorted by position: "
                             f"{self.fix}")
        self.last_contig = int(contig[-1])
        self.last_pos = int(pos[-1])

    def assign(self, name: str, row: int, first_line: int) -> int:
        """The file-order id of contig ``name`` starting a block at ``row``."""
        cid = self.ids.get(name)
        if cid is None:
            cid = self.ids[name] = len(self.names)
            self.names.append(name)
        elif cid != self.last_block:
            raise InputError(f"{self.path}:{first_line + row}: chromosome {name} appears again "
                             f"after {self.names[self.last_block]}; the source must keep each "
                             f"chromosome in one block: {self.fix}")
        self.last_block = cid
        return cid


class _Parts:
    """Per-chunk arrays, concatenated (offsets shifted) at the end."""

    def __init__(self):
        self.items = []

    def add(self, **arrays):
        self.items.append(arrays)

    def table(self, contigs: list[str], n_cols: int, lines: int) -> SourceTable:
        def cat(name, dtype):
            parts = [it[name] for it in self.items]
            return np.concatenate(parts).astype(dtype, copy=False) if parts else \
                np.zeros(0, dtype)

        text_base = vb_base = rec_base = 0
        toff, vboff, vb, ent_rec = [], [], [], []
        for it in self.items:
            toff.append(it["toff"][:-1] + text_base)
            vboff.append(it["vboff"][:-1] + vb_base)
            vb.append(it["vb"] + text_base)
            ent_rec.append(it["ent_rec"] + rec_base)
            text_base += int(it["toff"][-1])
            vb_base += int(it["vboff"][-1])
            rec_base += len(it["rec_key"])
        toff.append(np.array([text_base], np.int64))
        vboff.append(np.array([vb_base], np.int64))
        return SourceTable(
            contigs=contigs, rec_key=cat("rec_key", np.int64), ent_hi=cat("ent_hi", np.int64),
            ent_lo=cat("ent_lo", np.int64),
            ent_rec=np.concatenate(ent_rec).astype(np.int64) if ent_rec else np.zeros(0, np.int64),
            ent_alt=cat("ent_alt", np.int32), present=cat("present", np.uint8),
            text=cat("text", np.uint8), toff=np.concatenate(toff),
            vb=np.concatenate(vb).astype(np.int64) if vb else np.zeros(0, np.int64),
            vboff=np.concatenate(vboff), num=cat("num", np.float64), lines=lines)


def _alleles(buf, ref_s, ref_e, alt_s, alt_e, pos, contig):
    """Entries of a chunk: (hi, lo, rec, alt) with rec relative to the chunk."""
    from pgx.annotate.transfer_numba_fns import encode_alleles

    aoff, hi, lo = encode_alleles(buf, ref_s, ref_e, alt_s, alt_e, pos, contig)
    counts = np.diff(aoff)
    rec = np.repeat(np.arange(len(pos), dtype=np.int64), counts)
    alt = (np.arange(len(rec), dtype=np.int64) - np.repeat(aoff[:-1], counts)).astype(np.int32)
    return hi, lo, rec, alt


def _check_numbers(bad: int, n_cols: int, columns: list[Column], first_line: int, path,
                   what: str, cs, ce, buf) -> None:
    if bad < 0:
        return
    r, c = divmod(int(bad), n_cols)
    text = bytes(buf[cs[r, c]:ce[r, c]]).decode("utf-8", "replace")[:60]
    raise InputError(f"{path}:{first_line + r}: {what} {columns[c].key} {text!r} is not a "
                     f"number; fix the source, or declare the field type: String")


def read_vcf(path, columns: list[Column], *, threads: int = 1, alleles: bool = True
             ) -> SourceTable:
    """Encode a VCF / VCF.gz source (see the module docstring)."""
    from pgx.annotate import transfer_build_numba_fns as K
    from pgx.io.variant_chunk import FieldRequest
    from pgx.io.vcf_reader import ColumnarVcf, _encode_names

    vcf = ColumnarVcf(path)
    if vcf.is_bcf:
        raise InputError(f"{path}: BCF sources are not supported; convert it once: "
                         f"bcftools view -Oz -o {path}.vcf.gz {path}")
    info_keys = [c.key[5:] for c in columns if c.key != "ID"]
    keys, key_off = _encode_names(info_keys)
    mode = np.array([K.MODE_ID if c.key == "ID" else K.MODE_VCF for c in columns], np.int8)
    split = np.array([c.key != "ID" for c in columns], bool)
    numeric = np.array([c.numeric for c in columns], bool)
    info_col = [i for i, c in enumerate(columns) if c.key != "ID"]
    id_col = [i for i, c in enumerate(columns) if c.key == "ID"]

    def job(chunk):
        cs0 = chunk.col_start
        V = chunk.n_records
        cs = np.empty((V, len(columns)), np.int64)
        ce = np.empty((V, len(columns)), np.int64)
        if info_col:
            s, e = K.vcf_info_spans(chunk.buffer, chunk.line_end, cs0, keys, key_off)
            cs[:, info_col] = s
            ce[:, info_col] = e
        for c in id_col:
            cs[:, c] = cs0[:, 2]
            ce[:, c] = cs0[:, 3] - 1
        cells = K.encode_cells(chunk.buffer, cs, ce, mode, split, numeric)
        ents = None
        if alleles:
            ents = _alleles(chunk.buffer, np.ascontiguousarray(cs0[:, 3]), cs0[:, 4] - 1,
                            np.ascontiguousarray(cs0[:, 4]), cs0[:, 5] - 1, chunk.pos,
                            chunk.chrom.astype(np.int64))
        return cells, ents, cs, ce

    order = _Order(str(path), f"bcftools sort -Oz -o sorted.vcf.gz {path}")
    parts = _Parts()
    lines = 0
    for chunk, (cells, ents, cs, ce) in vcf.map_chunks(job, FieldRequest(gt=False),
                                                       threads=threads,
                                                       chunk_bytes=CHUNK_BYTES):
        present, text, toff, vb, vboff, num, bad = cells
        _check_numbers(bad, len(columns), columns, chunk.first_line, path, "value of",
                       cs, ce, chunk.buffer)
        # chunk contig ids -> file-order ids, checking each chromosome is one block
        chrom = chunk.chrom
        starts = np.flatnonzero(np.concatenate([[True], chrom[1:] != chrom[:-1]])) \
            if len(chrom) else np.zeros(0, np.int64)
        local = {}
        for i in starts:
            cid = int(chrom[i])
            name = chunk.contigs[cid]
            if i == 0 and order.last_block >= 0 and order.names[order.last_block] == name:
                local[cid] = order.last_block
                continue
            local[cid] = order.assign(name, int(i), chunk.first_line)
        remap = np.full(len(chunk.contigs), -1, np.int64)
        for k, v in local.items():
            remap[k] = v
        contig = remap[chrom]
        order.check(contig, chunk.pos, chunk.first_line)
        rec_key = (contig << 32) | chunk.pos
        item = dict(rec_key=rec_key, present=present, text=text, toff=toff, vb=vb,
                    vboff=vboff, num=num)
        if ents is not None:
            hi, lo, rec, alt = ents
            hi = np.where(hi >= 0, (remap[hi >> 32] << 32) | (hi & 0xFFFFFFFF), -1)
            item.update(ent_hi=hi, ent_lo=lo, ent_rec=rec, ent_alt=alt)
        else:
            z = np.zeros(0, np.int64)
            item.update(ent_hi=z, ent_lo=z, ent_rec=z, ent_alt=z.astype(np.int32))
        parts.add(**item)
        lines += chunk.n_records
    return parts.table(order.names, len(columns), lines)


def tsv_header(path, column_names=None) -> tuple[list[str], int]:
    """(column names, header lines to skip) of a TSV source: ``column_names`` if given (then
    every leading ``#`` line is skipped), else its first line (a leading ``#`` dropped)."""
    from pgx.io.bgzf import iter_text_chunks

    gen = iter_text_chunks(path, threads=0, chunk_bytes=1 << 16)
    try:
        data = next(gen, b"")
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc}); check the file") from None
    finally:
        gen.close()
    lines = bytes(data).split(b"\n")
    if column_names:
        skip = 0
        while skip < len(lines) and lines[skip].startswith(b"#"):
            skip += 1
        return list(column_names), skip
    if not data:
        raise InputError(f"{path}: empty file; a TSV source needs a header line naming its "
                         f"columns (or set column_names)")
    first = lines[0].rstrip(b"\r").decode("utf-8", "replace")
    return first.lstrip("#").split("\t"), 1


def read_tsv(path, columns: list[Column], names: list[str], skip: int, where: dict,
             *, alleles: bool = True) -> SourceTable:
    """Encode a TSV source: ``names`` its columns, ``skip`` header lines, ``where`` the
    column numbers of ``chrom``, ``pos`` and (``alleles``) ``ref``/``alt``."""
    from pgx.annotate import transfer_build_numba_fns as K
    from pgx.io.bgzf import iter_text_chunks
    from pgx.io.vcf_reader import line_bounds

    n = len(names)
    value_cols = [names.index(c.key) for c in columns]
    mode = np.full(len(columns), K.MODE_TSV, np.int8)
    split = np.ones(len(columns), bool)
    numeric = np.array([c.numeric for c in columns], bool)
    fix = f"sort -k1,1 -k2,2n (keeping the header first), then bgzip"
    order = _Order(str(path), fix)
    parts = _Parts()
    line = 1
    for data in iter_text_chunks(path, threads=0, chunk_bytes=CHUNK_BYTES):
        buf = np.frombuffer(data, np.uint8)
        ls, le = line_bounds(buf)
        if skip:
            k = min(skip, len(ls))
            ls, le, skip, line = ls[k:], le[k:], skip - k, line + k
        if not len(ls):
            continue
        cs, ce, bad_row, count = K.split_tsv(buf, ls, le, n)
        if bad_row >= 0:
            raise InputError(f"{path}:{line + bad_row}: {count} tab-separated columns, "
                             f"expected {n} ({', '.join(names)}); fix the line")
        cc, pc = where["chrom"], where["pos"]
        pos, bad = K.parse_positions(buf, np.ascontiguousarray(cs[:, pc]),
                                     np.ascontiguousarray(ce[:, pc]))
        if bad >= 0:
            text = bytes(buf[cs[bad, pc]:ce[bad, pc]]).decode("utf-8", "replace")[:40]
            raise InputError(f"{path}:{line + bad}: {names[pc]} {text!r} is not a position "
                             f"(a 1-based integer); fix the line")
        s_c, e_c = np.ascontiguousarray(cs[:, cc]), np.ascontiguousarray(ce[:, cc])
        changes = K.name_changes(buf, s_c, e_c)
        starts = np.flatnonzero(changes)
        ids = np.empty(len(starts), np.int64)
        for k, i in enumerate(starts):
            name = bytes(buf[s_c[i]:e_c[i]]).decode("utf-8", "replace")
            if k == 0 and order.last_block >= 0 and order.names[order.last_block] == name:
                ids[k] = order.last_block
            else:
                ids[k] = order.assign(name, int(i), line)
        contig = ids[np.cumsum(changes) - 1]
        order.check(contig, pos, line)
        vcs = np.ascontiguousarray(cs[:, value_cols])
        vce = np.ascontiguousarray(ce[:, value_cols])
        present, text, toff, vb, vboff, num, bad = K.encode_cells(buf, vcs, vce, mode, split,
                                                                  numeric)
        _check_numbers(bad, len(columns), columns, line, path, "column", vcs, vce, buf)
        item = dict(rec_key=(contig << 32) | pos, present=present, text=text, toff=toff,
                    vb=vb, vboff=vboff, num=num)
        if alleles:
            rc, ac = where["ref"], where["alt"]
            hi, lo, rec, alt = _alleles(buf, np.ascontiguousarray(cs[:, rc]),
                                        np.ascontiguousarray(ce[:, rc]),
                                        np.ascontiguousarray(cs[:, ac]),
                                        np.ascontiguousarray(ce[:, ac]), pos, contig)
            item.update(ent_hi=hi, ent_lo=lo, ent_rec=rec, ent_alt=alt)
        else:
            z = np.zeros(0, np.int64)
            item.update(ent_hi=z, ent_lo=z, ent_rec=z, ent_alt=z.astype(np.int32))
        parts.add(**item)
        line += len(ls)
    return parts.table(order.names, len(columns), line - 1)
