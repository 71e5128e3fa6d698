"""Columnar VCF reader: text chunks -> numba tokenizer -> :class:`VariantChunk` arrays.

``ColumnarVcf(path).iter_chunks(FieldRequest(...))`` yields the records of a VCF, VCF.gz (BGZF
or plain gzip) or BCF in file order as :class:`~pgx.io.variant_chunk.VariantChunk` blocks
(semantics in :mod:`pgx.io.variant_chunk`; the reference implementation the tests compare
against is ``tests/vcf_reference.py``).

Cost model (text VCF). Python runs per *chunk* (``chunk_bytes``, default 8 MiB of text), never
per record:

1. :func:`pgx.io.bgzf.iter_text_chunks` decompresses BGZF blocks (libdeflate/zlib, GIL
   released, on the worker pool) and cuts the text at line boundaries;
   :meth:`ColumnarVcf.text_bodies` can run this ahead on a background thread (``prefetch``).
2. Each chunk is one job on a ``ThreadPoolExecutor(threads)`` (:meth:`ColumnarVcf.map_chunks`):
   :func:`line_bounds` (numpy, one SIMD pass), then the numba kernel
   :func:`tokenize_records` (``nogil``; one pass over every byte of every record; INFO keys
   that are not requested and FORMAT subfields past the last requested key are skipped at
   scan speed), then naming the few rows where CHROM changes (under a lock) and
   forward-filling the rest, then the caller's ``fn(chunk)`` (``pgx filter`` evaluates,
   selects and compresses there). A second tokeniser pass happens only when a vector or a
   ploidy is longer than the arrays allocated for it (widths start at the header's fixed
   ``Number`` and ploidy 2); a FILTER name not declared in the header sends the chunk back
   to the calling thread, which appends the name to ``header.filters`` (as htslib does) and
   re-tokenises (chunks already yielded keep their narrower ``filters`` matrix).
3. The calling thread takes finished jobs in file order, sets ``first_line`` /
   ``first_record`` and yields. At most ``threads + 1`` jobs are queued or running, so
   memory is ~``(threads + 3) * chunk_bytes`` of text (plus the prefetch depth) and their
   arrays (``8 * V * S * W`` bytes per FORMAT tag, ``V * S * P`` for GT).

Throughput is roughly linear in the text size: ~0.3 GB/s of text per thread for the kernels
on this 2-core machine. The kernels are imported on first use (``_kernels``); with the
ahead-of-time build (``make``; see :mod:`pgx._numba`) that takes ~1 ms, without it numba's
import and first dispatch add a fixed ~0.35 s per process, which callers overlap with
decompression.

BCF (slower path): records are read with cyvcf2 and ``str(record)`` (htslib formats the VCF
line) is batched into text chunks for the same tokenizer: this is one Python call per record
(~5-10x slower than text VCF). BCF chunks keep no text (``buffer`` empty, ``line_start`` /
``line_end`` / ``col_start`` None, ``first_line`` 0) and errors name "record N".

Malformed input raises :class:`InputError` ``"{path}:{line}: <what is wrong>; <fix>"``.
Every record must be on its own line: blank lines and ``#`` lines after the header are errors
(so that ``chunk.line_number(i) == first_line + i``).
"""
from __future__ import annotations

import gzip
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgx.errors import InputError
from pgx.io.bgzf import iter_text_chunks
from pgx.io.variant_chunk import (
    GT_END, FieldDef, FieldRequest, NumericField, VariantChunk)
from pgx.io.vcf_header import VcfHeader, parse_header


#: How much decompressed text :meth:`ColumnarVcf.text_bodies` may read ahead with ``prefetch``.
PREFETCH_BYTES = 64 << 20


def _kernels():
    """The numba kernels, imported on first use (compiled ahead of time: ~1 ms; JIT: numba's
    import and first dispatch, ~0.35 s, which callers overlap with decompression)."""
    from pgx.io import vcf_numba_fns

    return vcf_numba_fns


def _encode_names(names) -> tuple[np.ndarray, np.ndarray]:
    raw = [n.encode() for n in names]
    off = np.zeros(len(raw) + 1, np.int64)
    off[1:] = np.cumsum([len(r) for r in raw]) if raw else []
    return np.frombuffer(b"".join(raw), np.uint8).copy(), off


def _fixed_width(fd: FieldDef) -> int:
    return max(1, int(fd.number)) if fd.number.isdigit() else 1


@dataclass
class _Spec:
    """Header/request arrays handed to the kernel (a snapshot: FILTERs may grow)."""

    n_samples: int
    filt_names: np.ndarray
    filt_off: np.ndarray
    n_filters: int
    info_defs: list
    info_keys: np.ndarray
    info_off: np.ndarray
    info_flag: np.ndarray
    fmt_defs: list
    fmt_keys: np.ndarray
    fmt_off: np.ndarray
    fmt_flag: np.ndarray
    want_gt: bool

    @classmethod
    def build(cls, header: VcfHeader, request: FieldRequest) -> _Spec:
        info_defs = [header.info.get(t) or FieldDef(t, ".", "Float") for t in request.info]
        fmt_defs = [header.format.get(t) or FieldDef(t, ".", "Float") for t in request.format]
        fn, fo = _encode_names(header.filters)
        ik, io = _encode_names(request.info)
        fk, fko = _encode_names(request.format)
        return cls(len(header.samples), fn, fo, len(header.filters), info_defs, ik, io,
                   np.array([d.type == "Flag" for d in info_defs], bool),
                   fmt_defs, fk, fko, np.array([d.type == "Flag" for d in fmt_defs], bool),
                   bool(request.gt))


@dataclass
class _Raw:
    """Kernel output for one chunk (before naming contigs)."""

    buf: np.ndarray
    line_start: np.ndarray
    line_end: np.ndarray
    status: int
    err: np.ndarray
    arrays: dict
    need: np.ndarray
    n_filters: int


def line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(line_start, line_end) int64 offsets of the lines of ``buf`` (uint8): ``line_end``
    excludes the ``\\n`` and a ``\\r`` before it; a last line without ``\\n`` counts."""
    nl = np.flatnonzero(buf == 10)
    n = buf.shape[0]
    ends = nl if n == 0 or buf[n - 1] == 10 else np.append(nl, n)
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = nl[:len(ends) - 1] + 1
        crlf = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        ends = ends - crlf
    return starts, ends


def tokenize_buffer(buf: np.ndarray, spec: _Spec) -> _Raw:
    """Run the kernels on the record lines of ``buf`` (uint8); re-run with wider arrays when a
    vector or ploidy does not fit."""
    K = _kernels()
    ls, le = line_bounds(buf)
    V = ls.shape[0]
    S = spec.n_samples
    NI, NF = len(spec.info_defs), len(spec.fmt_defs)
    wi = max([_fixed_width(d) for d in spec.info_defs], default=1)
    wf = max([_fixed_width(d) for d in spec.fmt_defs], default=1)
    ploidy = 2 if spec.want_gt else 0
    while True:
        a = dict(
            chrom=np.empty(V, np.int32), pos=np.empty(V, np.int64),
            rlen=np.empty(V, np.int32), qual=np.empty(V, np.float32),
            n_allele=np.empty(V, np.int16), variant_type=np.empty(V, np.uint8),
            filters=np.zeros((V, spec.n_filters), bool),
            info_vals=np.full((NI, V, wi), np.nan), info_len=np.zeros((NI, V), np.int32),
            fmt_vals=np.full((NF, V, S, wf), np.nan),
            fmt_len=np.zeros((NF, V, S), np.int32),
            gt=np.full((V, S, ploidy) if spec.want_gt else (0, 0, 0), GT_END, np.int8),
            phased=np.zeros((V, S) if spec.want_gt else (0, 0), bool),
            has_gt=np.zeros(V if spec.want_gt else 0, bool),
            col_start=np.full((V, 10), -1, np.int64),
        )
        for t in range(NI):
            if spec.info_flag[t]:
                a["info_vals"][t] = 0.0
        for t in range(NF):
            if spec.fmt_flag[t]:
                a["fmt_vals"][t] = 0.0
        need = np.zeros(NI + NF + 1, np.int64)
        err = np.full(K.N_ERR, -1, np.int64)
        status = K.tokenize_records(
            buf, ls, le, S, spec.filt_names, spec.filt_off, spec.info_keys, spec.info_off,
            spec.info_flag, spec.fmt_keys, spec.fmt_off, spec.fmt_flag, spec.want_gt,
            a["chrom"], a["pos"], a["rlen"], a["qual"], a["n_allele"], a["variant_type"],
            a["filters"], a["info_vals"], a["info_len"], a["fmt_vals"], a["fmt_len"],
            a["gt"], a["phased"], a["has_gt"], a["col_start"], need, err)
        if status != K.NEED_RESIZE:
            return _Raw(buf, ls, le, int(status), err, a, need, spec.n_filters)
        wi = max(wi, int(need[:NI].max(initial=0)))
        wf = max(wf, int(need[NI:NI + NF].max(initial=0)))
        if spec.want_gt:
            ploidy = max(ploidy, int(need[NI + NF]))


class ColumnarVcf:
    """A VCF / VCF.gz / BCF file read as columnar :class:`VariantChunk` blocks."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file; check the path")
        self.is_bcf = self._sniff_bcf()
        if self.is_bcf:
            import cyvcf2
            try:
                v = cyvcf2.VCF(str(self.path))
            except Exception as exc:  # noqa: BLE001 - htslib's error text is all we have
                raise InputError(f"{self.path}: cannot read the BCF ({exc}); "
                                 f"check the file with `bcftools view -h`") from None
            raw = v.raw_header
            v.close()
            self.header = parse_header(raw, str(self.path))
            self.header_line_count = 0
        else:
            self.header, self.header_line_count = self._read_text_header()

    def _sniff_bcf(self) -> bool:
        with open(self.path, "rb") as fh:
            head = fh.read(2)
        try:
            if head == b"\x1f\x8b":
                with gzip.open(self.path, "rb") as fh:
                    return fh.read(3) == b"BCF"
            with open(self.path, "rb") as fh:
                return fh.read(3) == b"BCF"
        except (OSError, EOFError):
            return False

    def _read_text_header(self) -> tuple[VcfHeader, int]:
        parts: list[bytes] = []
        n_lines = 0
        found = False
        gen = iter_text_chunks(self.path, threads=0, chunk_bytes=1 << 20)
        try:
            for data in gen:
                pos = 0
                while pos < len(data) and data[pos:pos + 1] == b"#":
                    nl = data.find(b"\n", pos)
                    end = len(data) if nl < 0 else nl + 1
                    n_lines += 1
                    if data.startswith(b"#CHROM", pos):
                        found = True
                    parts.append(data[pos:end])
                    pos = end
                    if found:
                        break
                if found or pos < len(data):
                    break
        finally:
            gen.close()
        text = b"".join(parts).decode("utf-8", errors="replace").replace("\r\n", "\n")
        return parse_header(text, str(self.path)), n_lines

    # ------------------------------------------------------------------ iteration
    def iter_chunks(self, request: FieldRequest = FieldRequest(), *, threads: int = 1,
                    chunk_bytes: int = 8 << 20, start_voffset: int = 0
                    ) -> Iterator[VariantChunk]:
        """Yield the records as :class:`VariantChunk` blocks, in file order.

        ``threads``: tokeniser threads (and BGZF decompression threads). ``chunk_bytes``:
        text per chunk. ``start_voffset``: BGZF virtual offset of a record to start at (from
        a tabix/CSI index); then ``first_line`` is 0 (unknown) and ``first_record`` counts
        from that record.
        """
        for chunk, _ in self.map_chunks(None, request, threads=threads,
                                        chunk_bytes=chunk_bytes, start_voffset=start_voffset):
            yield chunk

    def text_bodies(self, *, threads: int = 1, chunk_bytes: int = 8 << 20,
                    start_voffset: int = 0, executor: ThreadPoolExecutor | None = None,
                    prefetch: bool = False):
        """The record text (header skipped) as chunks of ~``chunk_bytes`` ending in a newline.

        With ``prefetch`` a background thread starts decompressing now, at most
        ``PREFETCH_BYTES`` (or ``threads + 2`` chunks) ahead, so that work overlaps whatever
        the caller does next, e.g. compiling the expressions (or, without the ahead-of-time
        kernels, importing numba: ~0.35 s that holds the GIL; decompression does not); pass
        the result to :meth:`map_chunks` (``texts=``) and close it (``.close()``) if it is not
        consumed to the end.
        """
        if self.is_bcf:
            if start_voffset:
                raise ValueError("start_voffset is for bgzipped text VCF")
            texts = self._bcf_texts(chunk_bytes)
        else:
            texts = self._text_bodies(threads, chunk_bytes, start_voffset, executor)
        depth = max(threads + 2, PREFETCH_BYTES // max(chunk_bytes, 1))
        return _Prefetch(texts, depth) if prefetch else texts

    def map_chunks(self, fn: Callable[[VariantChunk], object] | None,
                   request: FieldRequest = FieldRequest(), *, threads: int = 1,
                   chunk_bytes: int = 8 << 20, start_voffset: int = 0,
                   executor: ThreadPoolExecutor | None = None, texts=None
                   ) -> Iterator[tuple[VariantChunk, object]]:
        """Yield ``(chunk, fn(chunk))`` for every chunk, in file order.

        Tokenising a chunk and ``fn`` on it run as one job on ``threads`` worker threads
        (``executor`` if given, else a pool of its own), at most ``threads + 1`` jobs in
        flight; ``fn`` must therefore be thread-safe, and it sees ``first_line == 0`` and
        ``first_record == 0`` (they are set on the yielded chunk, once earlier chunks are
        counted). ``fn=None`` yields ``(chunk, None)``. ``texts``: record text from
        :meth:`text_bodies` (e.g. already prefetching); by default it is read here.
        Malformed records raise :class:`InputError` naming the file line, in file order.
        """
        threads = max(1, int(threads))
        if texts is None:
            texts = self.text_bodies(threads=threads, chunk_bytes=chunk_bytes,
                                     start_voffset=start_voffset, executor=executor)
        known_lines = not self.is_bcf and start_voffset == 0
        state = dict(contigs=list(self.header.contigs), n_filters=-1, spec=None,
                     lock=threading.Lock())
        state["ids"] = {c: i for i, c in enumerate(state["contigs"])}

        def spec() -> _Spec:
            if state["n_filters"] != len(self.header.filters):
                state["spec"] = _Spec.build(self.header, request)
                state["n_filters"] = len(self.header.filters)
            return state["spec"]

        def job(buf: np.ndarray, sp: _Spec):
            raw = tokenize_buffer(buf, sp)
            if raw.status < 0:  # malformed, or a FILTER not in the header: handled in order
                return raw, None, None
            chunk = self._finish(raw, request, state, sp)
            return raw, chunk, (fn(chunk) if fn is not None else None)

        line = self.header_line_count + 1
        record = 0
        pool = executor or ThreadPoolExecutor(threads, thread_name_prefix="pgx-vcf")
        pending: deque = deque()
        try:
            texts_it = iter(texts)
            exhausted = False
            while True:
                while not exhausted and len(pending) < threads + 1:
                    try:
                        data = next(texts_it)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.append(pool.submit(job, np.frombuffer(data, np.uint8), spec()))
                if not pending:
                    break
                raw, chunk, result = pending.popleft().result()
                if chunk is None:
                    raw = self._add_filters(raw, spec)
                    if raw.status < 0:
                        raise self._error(raw, request, line if known_lines else 0, record)
                    chunk = self._finish(raw, request, state, state["spec"])
                    result = fn(chunk) if fn is not None else None
                chunk.first_line = line if known_lines else 0
                chunk.first_record = record
                line += chunk.n_records
                record += chunk.n_records
                yield chunk, result
        finally:
            for f in pending:
                f.cancel()
            if executor is None:
                pool.shutdown(wait=True)
            close = getattr(texts, "close", None)
            if close is not None:
                close()

    def _add_filters(self, raw: _Raw, spec: Callable[[], _Spec]) -> _Raw:
        """Re-tokenise while the chunk names FILTERs missing from the header, adding each
        to ``header.filters`` (as htslib does)."""
        K = _kernels()
        while raw.status == K.ERR_UNKNOWN_FILTER:
            name = bytes(raw.buf[raw.err[3]:raw.err[4]]).decode("utf-8", "replace")
            if name not in self.header.filters:  # else added meanwhile: a stale snapshot
                self.header.filters.append(name)
            raw = tokenize_buffer(raw.buf, spec())
        return raw

    def _text_bodies(self, threads: int, chunk_bytes: int, start_voffset: int,
                     executor: ThreadPoolExecutor | None = None):
        """Text chunks holding only record lines (the header is skipped)."""
        in_header = True
        gen = iter_text_chunks(self.path, threads=threads, start_voffset=start_voffset,
                               chunk_bytes=chunk_bytes, executor=executor)
        try:
            for data in gen:
                if in_header:
                    pos = 0
                    while pos < len(data) and data[pos:pos + 1] == b"#":
                        chrom_line = data.startswith(b"#CHROM", pos)
                        nl = data.find(b"\n", pos)
                        pos = len(data) if nl < 0 else nl + 1
                        if chrom_line:
                            in_header = False
                            break
                    if pos < len(data):
                        in_header = False
                    if pos:
                        data = memoryview(data)[pos:]
                if len(data):
                    yield data
        finally:
            gen.close()

    def _bcf_texts(self, chunk_bytes: int):
        import cyvcf2
        v = cyvcf2.VCF(str(self.path))
        try:
            parts: list[str] = []
            size = 0
            for rec in v:
                s = str(rec)
                parts.append(s)
                size += len(s)
                if size >= chunk_bytes:
                    yield "".join(parts).encode()
                    parts, size = [], 0
            if parts:
                yield "".join(parts).encode()
        finally:
            v.close()

    # ------------------------------------------------------------------ results
    def _finish(self, raw: _Raw, request: FieldRequest, state: dict, spec: _Spec
                ) -> VariantChunk:
        """The chunk's arrays as a :class:`VariantChunk` (``first_line``/``first_record``
        left 0 for the caller); contigs not seen before get the next ids (thread-safe)."""
        a = raw.arrays
        V = raw.line_start.shape[0]
        chrom = a["chrom"]
        new = np.flatnonzero(chrom == -1)
        cs = a["col_start"]
        contigs, ids = state["contigs"], state["ids"]
        new_ids = np.empty(len(new), np.int32)
        with state["lock"]:
            for k, i in enumerate(new):
                name = bytes(raw.buf[cs[i, 0]:cs[i, 1] - 1]).decode("utf-8", "replace")
                cid = ids.get(name)
                if cid is None:
                    cid = ids[name] = len(contigs)
                    contigs.append(name)
                new_ids[k] = cid
            contigs = list(contigs)
        if V:
            chrom = new_ids[np.cumsum(chrom == -1) - 1]
        filters = a["filters"]
        nf = len(self.header.filters)
        if filters.shape[1] < nf:
            filters = np.concatenate(
                [filters, np.zeros((V, nf - filters.shape[1]), bool)], axis=1)
        chunk = VariantChunk(
            header=self.header, contigs=contigs, chrom=chrom.astype(np.int32, copy=False),
            pos=a["pos"], rlen=a["rlen"], qual=a["qual"], n_allele=a["n_allele"],
            variant_type=a["variant_type"], filters=filters)
        NI = len(request.info)
        for t, tag in enumerate(request.info):
            fd = spec.info_defs[t]
            w = max(_fixed_width(fd), int(raw.need[t]))
            chunk.info[tag] = NumericField(
                fd, np.ascontiguousarray(a["info_vals"][t, :, :w]), a["info_len"][t])
        for t, tag in enumerate(request.format):
            fd = spec.fmt_defs[t]
            w = max(_fixed_width(fd), int(raw.need[NI + t]))
            chunk.fmt[tag] = NumericField(
                fd, np.ascontiguousarray(a["fmt_vals"][t, :, :, :w]), a["fmt_len"][t])
        if request.gt:
            p = max(1, int(raw.need[-1]))
            chunk.gt = np.ascontiguousarray(a["gt"][:, :, :p])
            chunk.phased = a["phased"]
            chunk.has_gt = a["has_gt"]
        if not self.is_bcf:
            chunk.buffer = raw.buf
            chunk.line_start = raw.line_start
            chunk.line_end = raw.line_end
            chunk.col_start = cs
        return chunk

    def _error(self, raw: _Raw, request: FieldRequest, first_line: int,
               first_record: int) -> InputError:
        K = _kernels()
        code, rec, col, ts, te, tag, sample = (int(x) for x in raw.err)
        if self.is_bcf:
            where = f"{self.path}: record {first_record + rec + 1}"
        elif first_line:
            where = f"{self.path}:{first_line + rec}"
        else:
            where = f"{self.path}: record {first_record + rec + 1} of the region"
        tok = bytes(raw.buf[ts:te]).decode("utf-8", "replace") if ts >= 0 else ""
        short = tok if len(tok) <= 60 else tok[:57] + "..."
        samples = self.header.samples
        sname = repr(samples[sample]) if 0 <= sample < len(samples) else "?"
        S = len(samples)
        if code == K.ERR_COLUMNS:
            if te == ts:
                return InputError(f"{where}: empty line; remove blank lines from the VCF body")
            want = f"{9 + S} (8 fixed + FORMAT + {S} samples)" if S else "8 (or 9 with FORMAT)"
            return InputError(f"{where}: {tag} tab-separated columns, expected {want}; "
                              f"fix the line (spaces instead of tabs? truncated file?)")
        if code == K.ERR_POS:
            return InputError(f"{where}: POS {short!r} is not an integer; fix the POS column")
        if code == K.ERR_QUAL:
            return InputError(f"{where}: QUAL {short!r} is not a number; "
                              f"write a number or '.'")
        if code == K.ERR_INFO_NUMBER:
            return InputError(f"{where}: INFO/{request.info[tag]}: {short!r} is "
                              f"not a number; fix the value or write '.' for missing")
        if code == K.ERR_FORMAT_NUMBER:
            return InputError(f"{where}: FORMAT/{request.format[tag]} of sample "
                              f"{sname}: {short!r} is not a number; fix the value or write "
                              f"'.' for missing")
        gtxt = tok.split(":", 1)[0]
        if code == K.ERR_GT:
            name = samples[sample] if 0 <= sample < len(samples) else "?"
            return InputError(f"{where}: sample {name} has genotype {gtxt!r}, which is not a "
                              f"valid GT (e.g. 0/1, 1|0, ./.); write alleles as numbers or '.' "
                              f"separated by '/' or '|'")
        if code == K.ERR_GT_TOO_BIG:
            return InputError(f"{where}: sample {sname}: GT {gtxt!r} has an allele index "
                              f"larger than 127; split multi-allelic records "
                              f"(bcftools norm -m-)")
        if code == K.ERR_GT_ALLELE:
            n_alt = self._n_alt(raw, rec)
            name = samples[sample] if 0 <= sample < len(samples) else "?"
            return InputError(f"{where}: sample {name} has GT allele {tag} ({gtxt!r}) but the "
                              f"record has {n_alt} ALT allele(s); fix the GT or the ALT column")
        return InputError(f"{where}: malformed record (code {code}); fix the line")

    def _n_alt(self, raw: _Raw, rec: int) -> int:
        cs = raw.arrays["col_start"]
        alt = bytes(raw.buf[cs[rec, 4]:cs[rec, 5] - 1])
        return 0 if alt == b"." else alt.count(b",") + 1



class _Prefetch:
    """Iterate ``gen`` on a background thread, at most ``depth`` items ahead.

    Exceptions from ``gen`` are re-raised by ``__next__`` in order; :meth:`close` (also on
    garbage collection of an unfinished iteration by the consumer's ``finally``) stops the
    thread and closes ``gen`` on it.
    """

    _END = object()

    def __init__(self, gen, depth: int):
        self._q: queue.Queue = queue.Queue(max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(gen,), daemon=True,
                                        name="pgx-vcf-prefetch")
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, gen) -> None:
        try:
            for item in gen:
                if not self._put((item, None)):
                    break
            else:
                self._put((self._END, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put((self._END, exc))
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()

    def __iter__(self):
        return self

    def __next__(self):
        item, exc = self._q.get()
        if item is self._END:
            self._q.put((self._END, exc))  # later calls see the end too
            if exc is not None:
                raise exc
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._q.get_nowait()
            except queue.Empty:
                break
        self._thread.join()
