"""Bulk BGZF reading/writing and tabix/CSI index look-ups, for the numba VCF tokenizer.

Python work here is per BGZF block (<= 64 KiB) or per chunk (MiB), never per VCF record.
Sizes are in bytes. A *virtual offset* is ``compressed_block_offset << 16 | offset_in_block``
where ``compressed_block_offset`` is the byte offset of a BGZF block in the file and
``offset_in_block`` the byte offset inside that block's uncompressed data (as in htslib).

Raw DEFLATE uses libdeflate (PyPI ``deflate``) when importable, else stdlib ``zlib``; both
release the GIL, so the thread pools below really run in parallel. Block CRC32s are *not*
checked when reading (speed); corruption still shows up as a DEFLATE or size error.
"""
from __future__ import annotations

import functools
import os
import struct
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from pgx.errors import InputError

try:  # libdeflate: ~2-3x faster than zlib for both directions
    import deflate as _deflate

    def _inflate(data, size: int):
        try:
            return _deflate.deflate_decompress(data, size)
        except _deflate.DeflateError as exc:
            raise zlib.error(str(exc)) from None

    def _deflate_raw(data, level: int):
        return _deflate.deflate_compress(data, level)

    _crc32 = _deflate.crc32
    MAX_LEVEL = 12
except ImportError:  # pragma: no cover - exercised only without the optional wheel
    _deflate = None

    def _inflate(data, size: int):
        return zlib.decompress(data, -15, max(size, 1))

    def _deflate_raw(data, level: int):
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()

    _crc32 = zlib.crc32
    MAX_LEVEL = 9

__all__ = [
    "BLOCK_DATA_SIZE",
    "BgzfWriter",
    "MAX_LEVEL",
    "compress_blocks",
    "deflate_level",
    "index_contigs",
    "is_bgzf",
    "iter_text_chunks",
    "region_start_voffset",
    "region_start_voffset_by_tid",
    "write_index",
]

#: Uncompressed bytes per BGZF block written (htslib's BGZF_BLOCK_SIZE is 0xff00).
BLOCK_DATA_SIZE = 0xFF00
_MAX_BLOCK = 1 << 16
_HEADER = struct.Struct("<4sI2sH2sHH")  # magic+flags, mtime, xfl+os, xlen, "BC", slen, bsize
_HEADER_SIZE = 18
_FOOTER_SIZE = 8
_BGZF_MAGIC = b"\x1f\x8b\x08\x04"
_ISIZE = struct.Struct("<I")
_EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_READ_SIZE = 8 << 20  # compressed bytes per read() call

# htslib (built with libdeflate, as Debian's is) maps the zlib-scale level that bgzip -l,
# bcftools -O z<N> and samtools take onto libdeflate's 1-12 scale; this table reproduces it
# (measured with Debian's htslib 1.16: bgzip -l N and libdeflate level _HTSLIB_TO_LIBDEFLATE[N]
# write blocks of identical size for N = 1..7; 8 and 9 come within a few % and vary with the
# libdeflate version). htslib's default, 6, is libdeflate 7.
_HTSLIB_TO_LIBDEFLATE = (0, 1, 2, 3, 5, 6, 7, 8, 10, 11)


def deflate_level(level: int) -> int:
    """The DEFLATE level this module's compressor uses for the zlib-scale ``level`` (0-9)
    that bgzip/bcftools take, so that output sizes match htslib's. With the zlib fallback
    the level is used as is."""
    if not 0 <= level <= 9:
        raise ValueError(f"compression level {level}: must be 0-9 (as bgzip -l)")
    return _HTSLIB_TO_LIBDEFLATE[level] if _deflate is not None else level


def _corrupt(path, offset: int) -> InputError:
    return InputError(
        f"{path}: corrupt or truncated BGZF data at compressed offset {offset}; "
        "re-create the file with bgzip"
    )


def _file_kind(path) -> str:
    """'bgzf', 'gzip' (plain, not blocked) or 'plain' from the first bytes of the file."""
    with open(path, "rb") as fh:
        head = fh.read(_HEADER_SIZE)
    if head[:2] != b"\x1f\x8b":
        return "plain"
    if len(head) == _HEADER_SIZE and head[:4] == _BGZF_MAGIC:
        _, _, _, xlen, bc, slen, _ = _HEADER.unpack(head)
        if xlen == 6 and bc == b"BC" and slen == 2:
            return "bgzf"
    return "gzip"


def is_bgzf(path) -> bool:
    """True if ``path`` starts with a BGZF block header (i.e. was written by bgzip/htslib)."""
    return _file_kind(path) == "bgzf"


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------

def _iter_blocks(path, fh, start: int):
    """Yield ``(compressed_offset, deflate_payload_memoryview, isize)`` for each block.

    Reads ``_READ_SIZE`` compressed bytes at a time (``readinto`` a fresh buffer, so the
    yielded views stay valid); raises InputError on bad magic or a truncated block.
    """
    fh.seek(start)
    buf = memoryview(b"")
    pos = 0
    base = start  # file offset of buf[0]
    eof = False
    unpack_header = _HEADER.unpack_from
    while True:
        if len(buf) - pos < _MAX_BLOCK and not eof:
            left = len(buf) - pos
            new = bytearray(left + _READ_SIZE)
            new[:left] = buf[pos:]
            with memoryview(new) as mv:
                n = fh.readinto(mv[left:])
            eof = n < _READ_SIZE
            if n < _READ_SIZE:
                del new[left + n:]
            base += pos
            buf, pos = memoryview(new).toreadonly(), 0
        avail = len(buf) - pos
        if avail == 0:
            return
        if avail < _HEADER_SIZE + _FOOTER_SIZE:
            raise _corrupt(path, base + pos)
        magic, _mtime, _xo, xlen, bc, slen, bsize = unpack_header(buf, pos)
        if magic != _BGZF_MAGIC or xlen != 6 or bc != b"BC" or slen != 2:
            raise _corrupt(path, base + pos)
        size = bsize + 1
        if size > avail or size < _HEADER_SIZE + _FOOTER_SIZE:
            raise _corrupt(path, base + pos)
        (isize,) = _ISIZE.unpack_from(buf, pos + size - 4)
        if isize > _MAX_BLOCK:
            raise _corrupt(path, base + pos)
        yield base + pos, buf[pos + _HEADER_SIZE: pos + size - _FOOTER_SIZE], isize
        pos += size


def _inflate_group(path, blocks, skip: int) -> list:
    """Decompress a list of ``(coffset, payload, isize)`` into a list of non-empty parts;
    the first ``skip`` bytes are dropped."""
    parts = []
    for coffset, payload, isize in blocks:
        if isize == 0:
            continue
        try:
            data = _inflate(payload, isize)
        except (zlib.error, ValueError):
            raise _corrupt(path, coffset) from None
        if len(data) != isize:
            raise _corrupt(path, coffset)
        if skip:
            data, skip = data[skip:], 0  # skip <= isize of the first block (checked)
            if not data:
                continue
        parts.append(data)
    return parts


def _iter_bgzf_groups(path, threads: int, start_voffset: int, group_bytes: int,
                      executor: ThreadPoolExecutor | None = None) -> Iterator[list]:
    """Decompressed data in file order, as lists of parts totalling >= ``group_bytes``
    (except the last list)."""
    coffset, skip = start_voffset >> 16, start_voffset & 0xFFFF
    max_inflight = max(2 * threads, 1)
    own_pool = executor is None and threads > 0
    pool = ThreadPoolExecutor(threads, thread_name_prefix="bgzf-read") if own_pool \
        else executor
    pending: deque[Future] = deque()
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if coffset > size or (coffset == size and skip):
                raise _corrupt(path, coffset)
            group: list = []
            group_size = 0
            first = True
            block = None
            for block in _iter_blocks(path, fh, coffset):
                if first:
                    if skip > block[2]:
                        raise _corrupt(path, block[0])
                    first = False
                group.append(block)
                group_size += block[2]
                if group_size - skip >= group_bytes:
                    if pool is None:
                        yield _inflate_group(path, group, skip)
                    else:
                        pending.append(pool.submit(_inflate_group, path, group, skip))
                    skip = 0
                    group, group_size = [], 0
                    while len(pending) >= max_inflight:
                        yield pending.popleft().result()
            if first and skip:
                raise _corrupt(path, coffset)
            if block is not None and block[2] != 0:
                # htslib writers end every file with an empty EOF block; without it the file
                # was most likely cut at a block boundary.
                raise _corrupt(path, size)
            if group:
                if pool is None:
                    yield _inflate_group(path, group, skip)
                else:
                    pending.append(pool.submit(_inflate_group, path, group, skip))
            while pending:
                yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()
        if own_pool:
            pool.shutdown(wait=True, cancel_futures=True)


def _iter_gzip_groups(path, group_bytes: int) -> Iterator[list]:
    """Plain (non-blocked, possibly multi-member) gzip: single-threaded streaming zlib."""
    with open(path, "rb") as fh:
        d = zlib.decompressobj(wbits=31)
        in_member = False
        while raw := fh.read(_READ_SIZE):
            while raw:
                in_member = True
                try:
                    out = d.decompress(raw)
                except zlib.error:
                    raise InputError(f"{path}: corrupt gzip data; re-create the file "
                                     "with bgzip") from None
                if out:
                    yield [out]
                if d.eof:
                    raw, in_member = d.unused_data, False
                    d = zlib.decompressobj(wbits=31)
                else:
                    raw = b""
        if in_member:
            raise InputError(f"{path}: truncated gzip data; re-create the file with bgzip")


def _iter_plain_groups(path, group_bytes: int) -> Iterator[list]:
    with open(path, "rb") as fh:
        while True:
            data = fh.read(max(group_bytes, 1 << 16))
            if not data:
                return
            yield [data]


def iter_text_chunks(
    path, *, threads: int = 1, start_voffset: int = 0, chunk_bytes: int = 8 << 20,
    executor: ThreadPoolExecutor | None = None,
) -> Iterator[bytes]:
    """Yield the decompressed bytes of ``path`` in chunks that end at a line boundary.

    ``path`` may be BGZF (bgzip/htslib output), plain gzip (decompressed single-threaded) or
    uncompressed; the kind is detected from the magic bytes. Each chunk is about
    ``chunk_bytes`` bytes (at most ~``2 * chunk_bytes`` + one line + 64 KiB) and ends with
    ``b"\\n"``, except that the last chunk holds whatever follows the last newline. The
    concatenation of all chunks is exactly the file's text from ``start_voffset`` on.

    ``threads``: worker threads for BGZF decompression (0 = decompress in the calling
    thread); at most ``2 * threads`` groups of ~``chunk_bytes`` are in flight, so memory is
    bounded. ``executor``: decompress on this pool (shared with other work) instead of
    starting ``threads`` threads; ``threads`` still bounds the groups in flight.
    ``start_voffset``: BGZF virtual offset to start at (e.g. from
    :func:`region_start_voffset`); must be 0 for non-BGZF files.

    Raises InputError for bad BGZF magic, a truncated block, undecodable DEFLATE data or a
    missing final EOF block (file cut at a block boundary); this is raised when reached, so
    earlier chunks may already have been yielded. Block CRC32s are not checked. Closing
    the generator early stops the workers.
    """
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes must be >= 1")
    if threads < 0:
        raise ValueError("threads must be >= 0")
    try:
        kind = _file_kind(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the path") from None
    if kind == "bgzf":
        groups = _iter_bgzf_groups(path, threads, start_voffset, chunk_bytes, executor)
    else:
        if start_voffset:
            raise ValueError(f"{path}: start_voffset needs a BGZF file, this is {kind}")
        if kind == "gzip":
            groups = _iter_gzip_groups(path, chunk_bytes)
        else:
            groups = _iter_plain_groups(path, chunk_bytes)
    yield from _line_chunks(groups, chunk_bytes)


def _line_chunks(groups: Iterator[list], chunk_bytes: int) -> Iterator[bytes]:
    """Re-cut a stream of groups (lists of non-empty byte parts) into chunks of
    ~chunk_bytes ending in b"\\n"; each output byte is copied once (one join per chunk)."""
    carry: list = []  # pieces of the unfinished last line (no newline in them)
    carry_len = 0
    try:
        for parts in groups:
            total = sum(map(len, parts))
            if not total:
                continue
            if carry_len + total >= 2 * chunk_bytes:
                # Small chunk_bytes: cut the (<= ~64 KiB + chunk_bytes) group into several.
                data = parts[0] if len(parts) == 1 else b"".join(parts)
                end = data.rfind(b"\n") + 1
                pos = 0
                while end and carry_len + end - pos >= 2 * chunk_bytes:
                    nl = data.find(b"\n", max(pos, pos + chunk_bytes - carry_len - 1), end)
                    if nl < 0 or nl + 1 >= end:
                        break
                    carry.append(memoryview(data)[pos: nl + 1])
                    yield b"".join(carry)
                    carry, carry_len = [], 0
                    pos = nl + 1
                parts = [data[pos:]] if pos < len(data) else []
            # Find the last newline, searching parts from the end.
            for k in range(len(parts) - 1, -1, -1):
                nl = parts[k].rfind(b"\n")  # parts are bytes/bytearray here
                if nl >= 0:
                    break
            else:
                carry.extend(parts)
                carry_len += sum(map(len, parts))
                continue
            last = memoryview(parts[k])
            carry.extend(parts[:k])
            carry.append(last[: nl + 1])
            yield b"".join(carry)
            carry = [last[nl + 1:]] if nl + 1 < len(last) else []
            carry.extend(parts[k + 1:])
            carry_len = sum(map(len, carry))
        if carry:
            yield b"".join(carry)
    finally:
        close = getattr(groups, "close", None)
        if close is not None:
            close()


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

def _bgzf_block(data, level: int) -> bytes:
    """One complete BGZF block (header, raw DEFLATE, CRC32, ISIZE) for <= 65280 bytes."""
    cdata = _deflate_raw(data, level) if level > 0 else b""
    if level <= 0 or len(cdata) > _MAX_BLOCK - _HEADER_SIZE - _FOOTER_SIZE:
        n = len(data)  # a single final stored DEFLATE block always fits
        cdata = b"\x01" + struct.pack("<HH", n, n ^ 0xFFFF) + bytes(data)
    bsize = _HEADER_SIZE + len(cdata) + _FOOTER_SIZE - 1
    header = _HEADER.pack(_BGZF_MAGIC, 0, b"\x00\xff", 6, b"BC", 2, bsize)
    return b"".join((header, cdata, struct.pack("<II", _crc32(data) & 0xFFFFFFFF, len(data))))


def _compress_group(blocks: list[bytes], level: int) -> bytes:
    return b"".join([_bgzf_block(b, level) for b in blocks])


def compress_blocks(data, level: int) -> bytes:
    """``data`` (bytes-like) as consecutive complete BGZF blocks of up to 65280 bytes each,
    without the EOF block; ``level`` is on the DEFLATE library's scale (see
    :func:`deflate_level`). Runs without the GIL for most of its time (libdeflate/zlib), so
    callers compress independent pieces on threads and write them in order with
    :meth:`BgzfWriter.write_compressed`."""
    mv = memoryview(data)
    try:
        return b"".join([_bgzf_block(mv[i: i + BLOCK_DATA_SIZE], level)
                         for i in range(0, len(mv), BLOCK_DATA_SIZE)])
    finally:
        mv.release()


class BgzfWriter:
    """Write a BGZF file (readable by bgzip -d, bcftools, tabix) with threaded compression.

    ``BgzfWriter(path, threads=1, level=6)``: ``threads`` compression threads (0 = compress
    in the calling thread), ``level`` DEFLATE level (libdeflate 1-12, zlib 1-9; 0 = store;
    6 is htslib's default, e.g. ``bcftools -Oz``). :meth:`write` buffers bytes and
    compresses full 65280-byte blocks; output is written in order with at most
    ``2 * threads`` groups of up to 16 blocks pending. :meth:`close` flushes the partial
    last block and writes the 28-byte BGZF EOF block. If the ``with`` body raises, the file
    is closed *without* the EOF block (so readers can tell it is incomplete).
    """

    _GROUP_BLOCKS = 16

    def __init__(self, path, *, threads: int = 1, level: int = 6):
        if not 0 <= level <= MAX_LEVEL:
            raise ValueError(f"level must be 0..{MAX_LEVEL}")
        if threads < 0:
            raise ValueError("threads must be >= 0")
        self.path = path
        self.level = level
        self._fh = open(path, "wb")
        self._buf = bytearray()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="bgzf-write") if threads else None
        self._pending: deque[Future] = deque()
        self._max_inflight = max(2 * threads, 1)
        self._closed = False

    def write(self, data) -> int:
        """Buffer ``data`` (bytes-like); compress and write whole blocks. Returns len(data)."""
        if self._closed:
            raise ValueError("write to closed BgzfWriter")
        self._buf += data
        group_bytes = BLOCK_DATA_SIZE * self._GROUP_BLOCKS
        if len(self._buf) >= group_bytes:
            n = len(self._buf) // group_bytes * group_bytes
            mv = memoryview(self._buf)
            try:
                for g in range(0, n, group_bytes):
                    blocks = [bytes(mv[i: i + BLOCK_DATA_SIZE])
                              for i in range(g, g + group_bytes, BLOCK_DATA_SIZE)]
                    self._submit(blocks)
            finally:
                mv.release()
            del self._buf[:n]
        return len(data)

    def _submit(self, blocks: list[bytes]) -> None:
        if self._pool is None:
            self._fh.write(_compress_group(blocks, self.level))
            return
        self._pending.append(self._pool.submit(_compress_group, blocks, self.level))
        while len(self._pending) >= self._max_inflight:
            self._fh.write(self._pending.popleft().result())

    def write_compressed(self, blocks: bytes) -> None:
        """Append complete BGZF blocks (from :func:`compress_blocks`) after everything written
        so far; buffered text is first compressed and written, ending its block early."""
        if self._closed:
            raise ValueError("write to closed BgzfWriter")
        if self._buf or self._pending:
            self.flush()
        self._fh.write(blocks)

    def flush(self) -> None:
        """Compress everything buffered (ending the current block early) and write it."""
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            blocks = [data[i: i + BLOCK_DATA_SIZE] for i in range(0, len(data), BLOCK_DATA_SIZE)]
            for g in range(0, len(blocks), self._GROUP_BLOCKS):
                self._submit(blocks[g: g + self._GROUP_BLOCKS])
        while self._pending:
            self._fh.write(self._pending.popleft().result())
        self._fh.flush()

    def close(self) -> None:
        """Flush, write the BGZF EOF block and close the file (idempotent)."""
        if self._closed:
            return
        try:
            self.flush()
            self._fh.write(_EOF_BLOCK)
        finally:
            self._abort()

    def _abort(self) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._fh.close()

    def __enter__(self) -> BgzfWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif not self._closed:
            self._abort()


# --------------------------------------------------------------------------------------
# Index reading (.tbi / .csi)
# --------------------------------------------------------------------------------------

class _Index:
    """Parsed .tbi/.csi: per reference, {bin: (loffset, chunk_pos, n_chunk)} into ``data``."""

    __slots__ = ("data", "kind", "min_shift", "depth", "names", "refs", "linear")

    def __init__(self, data, kind, min_shift, depth, names, refs, linear):
        self.data = data
        self.kind = kind
        self.min_shift = min_shift
        self.depth = depth
        self.names = names  # list[str] or None (BCF CSI)
        self.refs = refs  # list[dict[int, tuple[int, int, int]]]
        self.linear = linear  # TBI: list of tuples of ioff; CSI: None

    def chunks(self, tid: int, bin_: int):
        loff, p, n = self.refs[tid][bin_]
        v = struct.unpack_from(f"<{2 * n}Q", self.data, p)
        return [(v[2 * i], v[2 * i + 1]) for i in range(n)]


def _parse_names(raw: bytes) -> list[str]:
    names = raw.split(b"\0")
    if names and names[-1] == b"":
        names.pop()
    return [n.decode() for n in names]


def _read_index(path) -> _Index:
    try:
        data = b"".join(p for g in _iter_bgzf_groups(path, 0, 0, 1 << 30) for p in g)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot read index ({exc.strerror}); re-create it with "
                         "`pgx` or `tabix -p vcf` / `bcftools index`") from None
    bad = InputError(f"{path}: not a valid .tbi/.csi index; re-create it with "
                     "`tabix -p vcf` or `bcftools index`")
    try:
        magic = data[:4]
        refs = []
        if magic == b"TBI\x01":
            n_ref, _fmt, _cs, _cb, _ce, _meta, _skip, l_nm = struct.unpack_from("<8i", data, 4)
            p = 36
            names = _parse_names(data[p: p + l_nm])
            p += l_nm
            min_shift, depth = 14, 5
            linear = []
            for _ in range(n_ref):
                (n_bin,) = struct.unpack_from("<i", data, p)
                p += 4
                bins = {}
                for _ in range(n_bin):
                    b, n_chunk = struct.unpack_from("<Ii", data, p)
                    bins[b] = (0, p + 8, n_chunk)
                    p += 8 + 16 * n_chunk
                (n_intv,) = struct.unpack_from("<i", data, p)
                p += 4
                linear.append(struct.unpack_from(f"<{n_intv}Q", data, p))
                p += 8 * n_intv
                refs.append(bins)
            kind = "tbi"
        elif magic == b"CSI\x01":
            min_shift, depth, l_aux = struct.unpack_from("<3i", data, 4)
            p = 16
            aux = data[p: p + l_aux]
            p += l_aux
            names = None
            if l_aux >= 28:
                l_nm = struct.unpack_from("<i", aux, 24)[0]
                if 28 + l_nm <= l_aux:
                    names = _parse_names(aux[28: 28 + l_nm])
            (n_ref,) = struct.unpack_from("<i", data, p)
            p += 4
            for _ in range(n_ref):
                (n_bin,) = struct.unpack_from("<i", data, p)
                p += 4
                bins = {}
                for _ in range(n_bin):
                    b, loff, n_chunk = struct.unpack_from("<IQi", data, p)
                    bins[b] = (loff, p + 16, n_chunk)
                    p += 16 + 16 * n_chunk
                refs.append(bins)
            linear = None
            kind = "csi"
        else:
            raise bad
    except struct.error:
        raise bad from None
    if names is not None and len(names) != len(refs):
        raise bad
    return _Index(data, kind, min_shift, depth, names, refs, linear)


@functools.lru_cache(maxsize=32)
def _cached_index(path: str, mtime_ns: int, size: int) -> _Index:
    return _read_index(path)


def _load_index(index_path) -> _Index:
    path = os.fspath(index_path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read index ({exc.strerror}); create it with "
                         "`tabix -p vcf` or `bcftools index`") from None
    return _cached_index(path, st.st_mtime_ns, st.st_size)


def _bin_first(level: int) -> int:
    return ((1 << (3 * level)) - 1) // 7


def _reg2bins(beg: int, end: int, min_shift: int, depth: int) -> Iterator[int]:
    """Bins (all levels) overlapping 0-based half-open [beg, end); as htslib's reg2bins."""
    end -= 1
    s = min_shift + depth * 3
    t = 0
    for level in range(depth + 1):
        b = t + (beg >> s)
        e = t + (end >> s)
        yield from range(b, e + 1)
        s -= 3
        t += 1 << (3 * level)


def _start_voffset(idx: _Index, tid: int, beg: int, end: int) -> int | None:
    if tid < 0 or tid >= len(idx.refs):
        return None
    bins = idx.refs[tid]
    if not bins:
        return None
    beg = max(beg, 0)
    end = min(end, 1 << (idx.min_shift + 3 * idx.depth))
    if end <= beg:  # empty region (or beyond the indexable range)
        return None
    meta_bin = _bin_first(idx.depth + 1) + 1  # htslib's pseudo-bin with per-ref counts
    # Lower bound on the offset of any record overlapping beg (htslib hts_itr_query).
    if idx.kind == "tbi":
        lin = idx.linear[tid]
        min_off = lin[min(beg >> 14, len(lin) - 1)] if lin else 0
    else:
        b = _bin_first(idx.depth) + (beg >> idx.min_shift)
        while True:
            if b in bins:
                break
            if b == 0:
                break
            first = ((b - 1) >> 3 << 3) + 1  # first child of the parent
            b = b - 1 if b > first else (b - 1) >> 3
        min_off = bins[b][0] if b in bins else 0
    best = None
    for b in _reg2bins(beg, end, idx.min_shift, idx.depth):
        if b not in bins or b == meta_bin:
            continue
        for u, v in idx.chunks(tid, b):
            if v > min_off:
                start = u if u > min_off else min_off
                if best is None or start < best:
                    best = start
    return best


def region_start_voffset(index_path, contig: str, beg0: int, end0: int) -> int | None:
    """Virtual offset to read forward from to see every record overlapping [beg0, end0).

    ``index_path`` is a .tbi or a .csi whose aux data holds the tabix header (tabix /
    ``bcftools index`` of a .vcf.gz). Coordinates are 0-based, half-open. Reading forward
    from the result also yields earlier records (filter them) and later ones (stop at a
    record on another contig or starting at/after ``end0``). Returns None when no record
    can overlap: contig not in the index, no indexed chunk reaches the region, or
    ``end0 <= beg0``.
    Raises ValueError for a BCF .csi (no names): use :func:`region_start_voffset_by_tid`.
    """
    idx = _load_index(index_path)
    if idx.names is None:
        raise ValueError(f"{index_path}: index has no contig names (BCF .csi); "
                         "use region_start_voffset_by_tid with the header's contig order")
    try:
        tid = idx.names.index(contig)
    except ValueError:
        return None
    return _start_voffset(idx, tid, beg0, end0)


def region_start_voffset_by_tid(index_path, tid: int, beg0: int, end0: int) -> int | None:
    """As :func:`region_start_voffset`, with the contig given as its index number ``tid``
    (for BCF: the position of the contig among the header's ##contig lines, i.e. the BCF
    CHROM id; for tbi/csi-with-names: the position in :func:`index_contigs`)."""
    return _start_voffset(_load_index(index_path), tid, beg0, end0)


def index_contigs(index_path) -> list[str]:
    """Contig names, in index (tid) order, of a .tbi or a tabix-style .csi.

    Raises ValueError for a BCF .csi, which stores no names.
    """
    idx = _load_index(index_path)
    if idx.names is None:
        raise ValueError(f"{index_path}: index has no contig names (BCF .csi)")
    return list(idx.names)


# --------------------------------------------------------------------------------------
# Index writing
# --------------------------------------------------------------------------------------

def write_index(path, *, csi: bool = False) -> Path:
    """Index a bgzipped VCF (.tbi, or .csi if ``csi``) or a BCF (always .csi).

    VCF: ``pysam.tabix_index(preset="vcf")``. BCF: pysam's bundled bcftools
    (``pysam.bcftools.index``, i.e. ``bcftools index -c``). Returns the index path.
    Raises InputError naming the file and the fix (not BGZF, unsorted, unreadable).
    """
    import pysam
    import pysam.bcftools

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if _file_kind(path) != "bgzf":
        raise InputError(f"{path}: not BGZF-compressed, so it cannot be indexed; compress it "
                         "with `bgzip` (VCF) or `bcftools view -Ob` (BCF)")
    # Peek at the first uncompressed bytes: BCF starts with b"BCF\2".
    groups = _iter_bgzf_groups(path, 0, 0, 1)
    try:
        first = b"".join(next(groups, []))
    finally:
        groups.close()
    is_bcf = first[:3] == b"BCF"
    if is_bcf:
        out = Path(str(path) + ".csi")
        try:
            pysam.bcftools.index("-f", "-c", "-o", str(out), str(path), catch_stdout=False)
        except (pysam.utils.SamtoolsError, OSError) as exc:
            raise InputError(f"{path}: cannot index BCF ({str(exc).strip()}); make sure it "
                             "is sorted (`bcftools sort`) and not truncated") from None
        if not out.exists():
            raise InputError(f"{path}: bcftools index wrote no index; make sure the BCF is "
                             "sorted (`bcftools sort`) and not truncated")
        return out
    out = Path(str(path) + (".csi" if csi else ".tbi"))
    try:
        pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True, csi=csi)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot index VCF ({exc}); make sure it is sorted "
                         "(`bcftools sort -Oz`) and bgzip-compressed") from None
    if not out.exists():
        raise InputError(f"{path}: tabix wrote no index; make sure the VCF is sorted and "
                         "bgzip-compressed")
    return out
