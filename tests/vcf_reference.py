"""A slow, obviously-correct reference VCF parser producing :class:`VariantChunk` arrays.

One Python loop per line (``str.split``); the tests compare the numba tokenizer against it.
Semantics (the same as ``pgx.io.vcf_numba_fns`` / ``pgx.io.vcf_reader``):

* ``contigs``: the header's contigs, then undeclared CHROM names in order of appearance.
* ``rlen`` = ``len(REF)``; ``qual`` float32 (NaN for ``.``); ``n_allele`` = 1 + number of ALTs
  (ALT ``.`` counts 0); ``variant_type`` = OR over ALTs of htslib's ``bcf_set_variant_type``.
* ``filters`` bool [V, len(header.filters)]; an undeclared FILTER name is appended to
  ``header.filters`` (htslib adds it to its header dictionary with a warning).
* Requested INFO/FORMAT tags (numeric or Flag): values float64 [V, W] / [V, S, W] with
  ``W = max(1, Number if it is an integer, the longest vector in the chunk)``; ``.`` and an
  empty element are NaN but count in ``length``; an absent tag (or a FORMAT subfield dropped
  at the end of a sample) has length 0. An INFO key of a numeric tag without ``=value`` is one
  missing value (length 1). Flag: 1.0 (length 1) when present, 0.0 (length 0) when absent.
  A tag that the header does not define is decoded as ``Number=.``, ``Type=Float``.
* GT: int8 [V, S, P], P = max(1, largest ploidy in the chunk); ``.`` -> -1, slots past the
  ploidy -> -2; rows whose FORMAT has no GT are all -2 (``has_gt`` False, ``phased`` False).
  ``phased`` is True when every separator is ``|`` (so haploid calls are phased).
* ``line_start``/``line_end``/``col_start`` index the UTF-8 encoding of ``text``.

Malformed input raises :class:`InputError` ``"<text>:LINE: what; fix"``.
"""
from __future__ import annotations

import gzip
import math
import re
from pathlib import Path

import numpy as np

from pgx.errors import InputError
from pgx.io.variant_chunk import (
    GT_END, GT_MISSING, VT_BND, VT_INDEL, VT_MNP, VT_OTHER, VT_OVERLAP, VT_REF, VT_SNP,
    FieldDef, FieldRequest, NumericField, VariantChunk)
from pgx.io.vcf_header import VcfHeader, parse_header

_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)\Z", re.IGNORECASE)
_INT = re.compile(r"[+-]?\d+\Z")


def variant_type(ref: str, alt: str) -> int:
    """htslib's class of one ALT allele against REF (``bcf_set_variant_type``, htslib >= 1.16)."""
    up = str.upper
    if alt == "*":
        return VT_OVERLAP
    if len(ref) == 1 and len(alt) == 1:
        if alt == "." or ref == alt or alt == "X":
            return VT_REF
        return VT_SNP
    if alt.startswith("<"):
        if alt.startswith("<X>") or alt.startswith("<*>") or alt == "<NON_REF>":
            return VT_REF
        return VT_OTHER
    # common prefix (case-insensitive)
    k = 0
    while k < len(ref) and k < len(alt) and up(ref[k]) == up(alt[k]):
        k += 1
    if k == len(ref) and k < len(alt):
        return VT_BND if alt[k] in "[]" else VT_INDEL
    if k < len(ref) and k == len(alt):
        return VT_INDEL
    if k == len(ref) and k == len(alt):
        return VT_REF
    # both have a remaining suffix: r = ref[k:], a = alt[k:]; trim a common suffix but keep
    # at least one character of each
    re_, ae = len(ref) - 1, len(alt) - 1
    while re_ > k and ae > k and up(ref[re_]) == up(alt[ae]):
        re_ -= 1
        ae -= 1
    if ae == k:
        if re_ == k:
            return VT_SNP
        return VT_INDEL if up(ref[re_]) == up(alt[ae]) else VT_OTHER
    if re_ == k:
        return VT_INDEL if up(ref[re_]) == up(alt[ae]) else VT_OTHER
    return VT_MNP if (re_ - k) == (ae - k) else VT_OTHER


def _number(text: str, where: str, what: str) -> float:
    if text in (".", ""):
        return math.nan
    if not _NUMBER.match(text):
        raise InputError(f"{where}: {what}: {text!r} is not a number; "
                         f"fix the value or write '.' for missing")
    return float(text)


def _width(fd: FieldDef, longest: int) -> int:
    fixed = int(fd.number) if fd.number.isdigit() else 1
    return max(1, fixed, longest)


def _field_def(header_defs: dict, tag: str) -> FieldDef:
    return header_defs.get(tag) or FieldDef(tag, ".", "Float")


def parse_vcf_text(text: str, header: VcfHeader, request: FieldRequest,
                   first_line: int = 0, path: str = "<text>") -> VariantChunk:
    """Parse record lines ``text`` (no header lines) into a :class:`VariantChunk`.

    ``first_line`` is the 1-based file line of the first record (used in error messages and
    stored in the chunk).
    """
    raw = text.encode()
    n_samples = len(header.samples)
    contigs = list(header.contigs)
    contig_id = {c: i for i, c in enumerate(contigs)}
    info_defs = {t: _field_def(header.info, t) for t in request.info}
    fmt_defs = {t: _field_def(header.format, t) for t in request.format}

    # split into lines keeping byte offsets
    lines = []  # (start, end_without_crlf)
    off = 0
    while off < len(raw):
        nl = raw.find(b"\n", off)
        stop = len(raw) if nl < 0 else nl
        end = stop - 1 if stop > off and raw[stop - 1:stop] == b"\r" else stop
        lines.append((off, end))
        off = stop + 1

    recs = []
    for i, (ls, le) in enumerate(lines):
        lineno = first_line + i if first_line else i + 1
        where = f"{path}:{lineno}"
        line = raw[ls:le].decode()
        cols = line.split("\t")
        ok = len(cols) == 9 + n_samples if n_samples else len(cols) in (8, 9)
        if not ok:
            want = 9 + n_samples if n_samples else 8
            raise InputError(f"{where}: {len(cols)} tab-separated columns, expected {want} "
                             f"(8 fixed + FORMAT + {n_samples} samples); fix the line")
        # column offsets in bytes
        col_start = [-1] * 10
        p = ls
        for c, col in enumerate(cols[:10]):
            col_start[c] = p
            p += len(col.encode()) + 1
        chrom, pos_s, _id, ref, alt, qual_s, filt, info = cols[:8]
        if not _INT.match(pos_s):
            raise InputError(f"{where}: POS {pos_s!r} is not an integer; fix the POS column")
        pos = int(pos_s)
        if qual_s == ".":
            qual = math.nan
        elif _NUMBER.match(qual_s):
            qual = float(qual_s)
        else:
            raise InputError(f"{where}: QUAL {qual_s!r} is not a number; "
                             f"write a number or '.'")
        if chrom not in contig_id:
            contig_id[chrom] = len(contigs)
            contigs.append(chrom)
        alts = [] if alt == "." else alt.split(",")
        vt = 0
        for a in alts:
            vt |= variant_type(ref, a)
        fl = []
        if filt != ".":
            for f in filt.split(";"):
                if f not in header.filters:
                    header.filters.append(f)
                fl.append(header.filters.index(f))
        # INFO
        info_vals = {}
        if info != ".":
            for kv in info.split(";"):
                key, eq, val = kv.partition("=")
                if key not in info_defs or key in info_vals:
                    continue
                fd = info_defs[key]
                if fd.type == "Flag":
                    info_vals[key] = [1.0]
                elif not eq:
                    info_vals[key] = [math.nan]
                else:
                    info_vals[key] = [_number(v, where, f"INFO/{key}") for v in val.split(",")]
        # FORMAT / samples
        fmt_vals = {t: [None] * n_samples for t in request.format}
        gts = None
        phased = None
        has_gt = False
        if len(cols) > 8:
            keys = cols[8].split(":")
            has_gt = keys[0] == "GT"
            samples = cols[9:]
            if has_gt and request.gt:
                gts, phased = [], []
                for s in samples:
                    g = s.split(":")[0]
                    parts = re.split(r"([/|])", g)
                    alleles = parts[0::2]
                    seps = parts[1::2]
                    out = []
                    for a in alleles:
                        if a == ".":
                            out.append(GT_MISSING)
                        elif a.isdigit() and a.isascii():
                            v = int(a)
                            if v > 127:
                                raise InputError(f"{where}: GT {g!r}: allele index {v} is "
                                                 f"larger than 127; split multi-allelic "
                                                 f"records (bcftools norm -m-)")
                            if v >= 1 + len(alts):
                                raise InputError(f"{where}: GT {g!r}: allele {v} but the "
                                                 f"record has {len(alts)} ALT allele(s); "
                                                 f"fix the GT or the ALT column")
                            out.append(v)
                        else:
                            raise InputError(f"{where}: bad GT {g!r}; write alleles as "
                                             f"numbers or '.' separated by '/' or '|'")
                    gts.append(out)
                    phased.append(all(x == "|" for x in seps))
            for t in request.format:
                if t not in keys:
                    continue
                k = keys.index(t)
                for j, s in enumerate(samples):
                    sub = s.split(":")
                    if k >= len(sub):
                        continue
                    if fmt_defs[t].type == "Flag":
                        fmt_vals[t][j] = [1.0]
                    else:
                        fmt_vals[t][j] = [_number(v, where, f"FORMAT/{t}")
                                          for v in sub[k].split(",")]
        recs.append(dict(chrom=contig_id[chrom], pos=pos, rlen=len(ref), qual=qual,
                         n_allele=1 + len(alts), vt=vt, fl=fl, info=info_vals, fmt=fmt_vals,
                         gt=gts, phased=phased, has_gt=has_gt, ls=ls, le=le,
                         col_start=col_start))

    V = len(recs)
    chunk = VariantChunk(
        header=header, contigs=contigs,
        chrom=np.array([r["chrom"] for r in recs], np.int32).reshape(V),
        pos=np.array([r["pos"] for r in recs], np.int64).reshape(V),
        rlen=np.array([r["rlen"] for r in recs], np.int32).reshape(V),
        qual=np.array([r["qual"] for r in recs], np.float32).reshape(V),
        n_allele=np.array([r["n_allele"] for r in recs], np.int16).reshape(V),
        variant_type=np.array([r["vt"] for r in recs], np.uint8).reshape(V),
        filters=np.zeros((V, len(header.filters)), bool),
        first_line=first_line, first_record=0,
        buffer=np.frombuffer(raw, np.uint8).copy(),
        line_start=np.array([r["ls"] for r in recs], np.int64).reshape(V),
        line_end=np.array([r["le"] for r in recs], np.int64).reshape(V),
        col_start=np.array([r["col_start"] for r in recs], np.int64).reshape(V, 10),
    )
    for i, r in enumerate(recs):
        chunk.filters[i, r["fl"]] = True
    for t, fd in info_defs.items():
        longest = max([len(r["info"].get(t, ())) for r in recs], default=0)
        w = _width(fd, longest)
        vals = np.full((V, w), np.nan)
        length = np.zeros(V, np.int32)
        if fd.type == "Flag":
            vals[:] = 0.0
        for i, r in enumerate(recs):
            v = r["info"].get(t)
            if v is not None:
                vals[i, :len(v)] = v
                length[i] = len(v)
        chunk.info[t] = NumericField(fd, vals, length)
    for t, fd in fmt_defs.items():
        longest = max([len(v) for r in recs for v in r["fmt"][t] if v is not None], default=0)
        w = _width(fd, longest)
        vals = np.full((V, n_samples, w), np.nan)
        length = np.zeros((V, n_samples), np.int32)
        if fd.type == "Flag":
            vals[:] = 0.0
        for i, r in enumerate(recs):
            for j, v in enumerate(r["fmt"][t]):
                if v is not None:
                    vals[i, j, :len(v)] = v
                    length[i, j] = len(v)
        chunk.fmt[t] = NumericField(fd, vals, length)
    if request.gt:
        ploidy = max([len(g) for r in recs if r["gt"] for g in r["gt"]], default=0)
        P = max(1, ploidy)
        gt = np.full((V, n_samples, P), GT_END, np.int8)
        phased = np.zeros((V, n_samples), bool)
        has_gt = np.zeros(V, bool)
        for i, r in enumerate(recs):
            has_gt[i] = r["has_gt"]
            if r["gt"] is None:
                continue
            for j, g in enumerate(r["gt"]):
                gt[i, j, :len(g)] = g
                phased[i, j] = r["phased"][j]
        chunk.gt, chunk.phased, chunk.has_gt = gt, phased, has_gt
    return chunk


def split_header(text: str) -> tuple[str, str, int]:
    """(header text, body text, 1-based line number of the first body line)."""
    lines = text.split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith("#"):
        n += 1
    return "\n".join(lines[:n]) + "\n", "\n".join(lines[n:]), n + 1


def read_vcf_reference(path, request: FieldRequest = FieldRequest()) -> VariantChunk:
    """The whole (small) VCF or VCF.gz file ``path`` as one :class:`VariantChunk`."""
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        text = fh.read().decode()
    head, body, first = split_header(text)
    header = parse_header(head, str(path))
    if body.endswith("\n"):
        body = body[:-1]
    chunk = parse_vcf_text(body, header, request, first_line=first, path=str(path))
    return chunk
