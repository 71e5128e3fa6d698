"""The transferred values as text pieces and typed values, and their splicing into records.

:func:`source_pieces` runs ``transfer_pieces_numba_fns.info_pieces`` for one opened source
on one chunk's join; :class:`TransferResult` holds every source's fields side by
side (what :func:`pgx.annotate.transfer.transfer` returns), and :func:`splice` writes them into
the chunk's record text. The rules (which record gives which value) are in
:mod:`pgx.annotate.transfer`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgx.annotate.source_cache import ResolvedField, SourceIndex
from pgx.io.variant_chunk import VariantChunk


def _kernels():
    from pgx.annotate import transfer_pieces_numba_fns

    return transfer_pieces_numba_fns


@dataclass
class OutputField:
    name: str
    source: str  # the source's name
    field: ResolvedField


@dataclass
class TransferResult:
    """What :func:`transfer` gives for one chunk of ``V`` records and ``F`` output fields
    (every source's fields, in source order).

    ``state[r, f]``: 0 leave the record's own tag (or ID), 1 set it to the piece, 2 remove it
    (a Flag the site record lacks). ``pieces[pstart[r, f]:pend[r, f]]`` is the INFO text
    (``NAME=value``, ``NAME`` for a Flag, the bare ID for the ID field). ``values(r, f)``:
    the typed values written (float64, NaN for ``.`` and strings), from ``tv``/``tvoff``.
    ``sites[s]``: per record, the source record of source ``s`` used (-1: no match)."""

    fields: list[OutputField]
    kind: np.ndarray  # int8 [F]
    names: np.ndarray  # uint8, names[name_off[f]:name_off[f + 1]]
    name_off: np.ndarray
    pieces: np.ndarray
    pstart: np.ndarray
    pend: np.ndarray
    state: np.ndarray
    tv: np.ndarray
    tvoff: np.ndarray
    sites: list[np.ndarray] = field(default_factory=list)

    def text(self, r: int, f: int) -> str | None:
        """The piece of record ``r``, field ``f`` (None unless set): a slow accessor."""
        if self.state[r, f] != 1:
            return None
        return bytes(self.pieces[self.pstart[r, f]:self.pend[r, f]]).decode()

    def values(self, r: int, f: int) -> np.ndarray:
        F = len(self.fields)
        return self.tv[self.tvoff[r * F + f]:self.tvoff[r * F + f + 1]]


def _names(fields: list[OutputField]) -> tuple[np.ndarray, np.ndarray]:
    raw = [f.name.encode() for f in fields]
    off = np.zeros(len(raw) + 1, np.int64)
    off[1:] = np.cumsum([len(r) for r in raw])
    return np.frombuffer(b"".join(raw), np.uint8).copy(), off


def output_fields(indexes: list[SourceIndex]) -> list[OutputField]:
    return [OutputField(f.name, ix.source.name, f) for ix in indexes for f in ix.fields]


def piece_capacity(ix: SourceIndex, n_records: int, n_alleles: int) -> tuple[int, int]:
    """Upper bounds of the text and typed values that ``info_pieces`` can write for
    ``n_records`` query records with ``n_alleles`` ALTs in all, from the longest cell, value
    and value count of each source column (recorded in the cache)."""
    K = _kernels()
    V, A = n_records, n_alleles
    text = values = 0
    for f in ix.fields:
        maxlen, maxval, maxcnt = ix.column_max[f.column]
        name = len(f.name.encode())
        if f.kind == K.KIND_A:
            text += V * (name + 1) + A * (max(maxval, 1) + 1)
            values += A
        elif f.kind == K.KIND_R:
            text += V * (name + 1) + (A + V) * (max(maxval, 1) + 1)
            values += A + V
        elif f.kind == K.KIND_SITE:
            text += V * (name + 1 + max(maxlen, 1))
            values += V * maxcnt
        elif f.kind == K.KIND_FLAG:
            text += V * name
        else:
            text += (A + V) * (maxlen + 1)
    return text, values


def source_pieces(ix: SourceIndex, aoff, match, site_in, n_records: int, typed: bool):
    """``info_pieces`` of one source: ``(out, pstart, pend, state, site, tv, tvoff)``."""
    P = _kernels()
    names, name_off = _names([OutputField(f.name, ix.source.name, f) for f in ix.fields])
    fcol = np.array([f.column for f in ix.fields], np.int64)
    fkind = np.array([f.kind for f in ix.fields], np.int8)
    cap_text, cap_values = piece_capacity(ix, n_records, len(match))
    return P.info_pieces(aoff, match, site_in, ix.ent_rec, ix.ent_alt, ix.present, ix.toff,
                         ix.text, ix.vb, ix.vboff, ix.num, ix.n_cols, fcol, fkind, names,
                         name_off, cap_text, cap_values if typed else 0)


def combine(indexes: list[SourceIndex], parts: list, n_records: int, typed: bool
            ) -> TransferResult:
    """One :class:`TransferResult` from each source's :func:`source_pieces` (in order)."""
    fields = output_fields(indexes)
    names, name_off = _names(fields)
    V = n_records
    sites = [p[4] for p in parts]
    if len(parts) == 1:
        pieces, pstart, pend, state, _, tv, tvoff = parts[0]
    elif parts:
        base = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
        pieces = np.concatenate([p[0] for p in parts])
        pstart = np.ascontiguousarray(np.hstack([p[1] + b for p, b in zip(parts, base)]))
        pend = np.ascontiguousarray(np.hstack([p[2] + b for p, b in zip(parts, base)]))
        state = np.ascontiguousarray(np.hstack([p[3] for p in parts]))
        typed_parts = [(p[5], p[6], len(ix.fields)) for p, ix in zip(parts, indexes)]
        tv, tvoff = _merge_typed(typed_parts, V) if typed else (np.zeros(0), None)
        if tvoff is None:
            tvoff = np.zeros(V * len(fields) + 1, np.int64)
    else:
        pieces = np.zeros(0, np.uint8)
        pstart = pend = np.zeros((V, 0), np.int64)
        state = np.zeros((V, 0), np.int8)
        tv, tvoff = np.zeros(0), np.zeros(1, np.int64)
    return TransferResult(fields, np.array([f.field.kind for f in fields], np.int8), names,
                          name_off, pieces, pstart, pend, state, tv, tvoff, sites)


def splice(chunk: VariantChunk, res: TransferResult) -> np.ndarray:
    """The chunk's record lines (each + newline) with ``res`` written into ID and INFO."""
    return _kernels().splice_records(chunk.buffer, chunk.line_start, chunk.line_end,
                                     chunk.col_start, res.pieces, res.pstart, res.pend,
                                     res.state, res.kind, res.names, res.name_off)


def _merge_typed(parts, V: int):
    """Interleave each source's typed values ``(tv, tvoff, F)`` record by record into one
    ``[V * F_total]`` layout (as the fields of :class:`TransferResult`)."""
    counts = np.hstack([np.diff(tvoff).reshape(V, F) for _, tvoff, F in parts])
    Ft = counts.shape[1]
    tvoff = np.zeros(counts.size + 1, np.int64)
    np.cumsum(counts.ravel(), out=tvoff[1:])
    merged = np.empty(int(tvoff[-1]))
    col0 = 0
    for tv, own_off, F in parts:
        cell = np.repeat(np.arange(V * F), np.diff(own_off))
        r, f = np.divmod(cell, F)
        merged[tvoff[r * Ft + col0 + f] + np.arange(len(cell)) - own_off[cell]] = tv[:len(cell)]
        col0 += F
    return merged, tvoff
