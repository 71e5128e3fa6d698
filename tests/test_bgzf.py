"""pgx.io.bgzf against the real htslib tools (bgzip, tabix, bcftools); no mocks."""
from __future__ import annotations

import gzip
import random
import shutil
import struct
import subprocess

import pytest

from pgx.errors import InputError
from pgx.io import bgzf


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} not installed")
    return exe


def _text(n_lines: int, seed: int = 0) -> bytes:
    rnd = random.Random(seed)
    out = []
    for i in range(n_lines):
        width = rnd.choice((1, 5, 40, 300, 3000))  # includes lines longer than tiny chunks
        out.append(f"chr{rnd.randint(1, 22)}\t{i}\t" + "".join(rnd.choices("ACGT", k=width)) + "\n")
    return "".join(out).encode()


@pytest.fixture(scope="module")
def text_and_gz(tmp_path_factory):
    _need("bgzip")
    d = tmp_path_factory.mktemp("bgzf")
    text = _text(2000) + b"last line without newline"
    plain = d / "t.txt"
    plain.write_bytes(text)
    subprocess.run(["bgzip", "-k", "-f", str(plain)], check=True)
    return text, plain, d / "t.txt.gz"


@pytest.mark.parametrize("threads", [0, 1, 2])
@pytest.mark.parametrize("chunk_bytes", [1, 7, 100, 4096, 65280, 70000, 200_000, 8 << 20])
def test_read_bgzip_output(text_and_gz, threads, chunk_bytes):
    text, _, gz = text_and_gz
    chunks = list(bgzf.iter_text_chunks(gz, threads=threads, chunk_bytes=chunk_bytes))
    assert b"".join(chunks) == text
    assert all(c for c in chunks)
    assert all(c.endswith(b"\n") for c in chunks[:-1])
    assert chunks[-1].endswith(b"without newline")
    if chunk_bytes >= 4096:  # chunks stay near the requested size
        assert max(len(c) for c in chunks[:-1]) <= 2 * chunk_bytes + 65536 + 3100


@pytest.mark.parametrize("chunk_bytes", [1, 1000, 8 << 20])
def test_read_plain_and_gzip(text_and_gz, tmp_path, chunk_bytes):
    text, plain, _ = text_and_gz
    chunks = list(bgzf.iter_text_chunks(plain, chunk_bytes=chunk_bytes))
    assert b"".join(chunks) == text
    assert all(c.endswith(b"\n") for c in chunks[:-1])
    # ordinary (non-blocked, multi-member) gzip is read too, single-threaded
    gz = tmp_path / "t.gz"
    gz.write_bytes(gzip.compress(text[:5000], 1) + gzip.compress(text[5000:], 1))
    chunks = list(bgzf.iter_text_chunks(gz, chunk_bytes=chunk_bytes))
    assert b"".join(chunks) == text
    assert all(c.endswith(b"\n") for c in chunks[:-1])


def test_empty_files(tmp_path):
    empty = tmp_path / "e.txt"
    empty.write_bytes(b"")
    assert list(bgzf.iter_text_chunks(empty)) == []
    eof_only = tmp_path / "e.gz"
    with bgzf.BgzfWriter(eof_only):
        pass
    assert eof_only.stat().st_size == 28
    assert list(bgzf.iter_text_chunks(eof_only, threads=2)) == []


@pytest.mark.parametrize("threads", [0, 1, 2])
def test_writer_roundtrip_with_bgzip(tmp_path, threads):
    bgzip = _need("bgzip")
    text = _text(3000, seed=threads) + _text(10, seed=9)[:-1]
    rnd = random.Random(threads)
    out = tmp_path / "w.gz"
    with bgzf.BgzfWriter(out, threads=threads) as w:
        pos = 0
        while pos < len(text):  # writes of very different sizes
            n = rnd.choice((1, 10, 1000, 70_000, 2_000_000))
            w.write(text[pos:pos + n])
            pos += n
    raw = out.read_bytes()
    assert raw.endswith(bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000"))
    assert gzip.decompress(raw) == text
    got = subprocess.run([bgzip, "-d", "-c", str(out)], check=True, capture_output=True)
    assert got.stdout == text
    assert b"".join(bgzf.iter_text_chunks(out, threads=threads, chunk_bytes=5000)) == text
    # every block holds at most 65280 bytes, as htslib writes them
    assert "EOF" not in got.stderr.decode()


def test_writer_incompressible_and_levels(tmp_path):
    data = random.Random(1).randbytes(300_000)
    for level in (0, 1, 6, bgzf.MAX_LEVEL):
        out = tmp_path / f"r{level}.gz"
        with bgzf.BgzfWriter(out, level=level, threads=2) as w:
            w.write(data)
        assert gzip.decompress(out.read_bytes()) == data
        assert b"".join(bgzf.iter_text_chunks(out)) == data


def test_writer_exception_leaves_no_eof_block(tmp_path):
    out = tmp_path / "x.gz"
    with pytest.raises(RuntimeError):
        with bgzf.BgzfWriter(out) as w:
            w.write(b"a\n" * 100_000)
            raise RuntimeError
    assert not out.read_bytes().endswith(bytes.fromhex("1b0003000000000000000000"))


def test_truncated_and_corrupt(text_and_gz, tmp_path):
    _, _, gz = text_and_gz
    raw = gz.read_bytes()
    bad = tmp_path / "trunc.gz"
    bad.write_bytes(raw[: len(raw) - 28 - 100])  # cut inside the last data block
    with pytest.raises(InputError, match=r"trunc\.gz: corrupt or truncated BGZF data at "
                                         r"compressed offset \d+; re-create the file with bgzip"):
        b"".join(bgzf.iter_text_chunks(bad, threads=2))
    bad.write_bytes(raw[:-28] + b"garbage that is not a BGZF block" * 3)
    with pytest.raises(InputError, match="corrupt or truncated BGZF"):
        b"".join(bgzf.iter_text_chunks(bad))
    bad.write_bytes(raw[:-28])  # cut at a block boundary: only the EOF block is missing
    with pytest.raises(InputError, match=f"at compressed offset {len(raw) - 28};"):
        b"".join(bgzf.iter_text_chunks(bad, threads=2))
    # a damaged DEFLATE payload inside a block
    broken = bytearray(raw)
    broken[40:60] = b"\xff" * 20
    bad.write_bytes(bytes(broken))
    with pytest.raises(InputError, match="offset 0;"):
        b"".join(bgzf.iter_text_chunks(bad, threads=1))


def test_start_voffset_mid_block(text_and_gz):
    text, _, gz = text_and_gz
    raw = gz.read_bytes()
    # second block: offset = size of the first block
    bsize = struct.unpack_from("<H", raw, 16)[0] + 1
    isize0 = struct.unpack_from("<I", raw, bsize - 4)[0]
    for skip in (0, 1, 1234):
        got = b"".join(bgzf.iter_text_chunks(gz, start_voffset=(bsize << 16) | skip, threads=2))
        assert got == text[isize0 + skip:]
    assert b"".join(bgzf.iter_text_chunks(gz, start_voffset=77)) == text[77:]


# ---------------------------------------------------------------------- index queries

CONTIGS = ["chr1", "chr2", "chr3", "chrX", "chrY"]  # chrY: declared, no records


def _make_vcf(seed: int = 7) -> tuple[bytes, list[tuple[str, int, int]]]:
    rnd = random.Random(seed)
    head = ["##fileformat=VCFv4.2"]
    head += [f"##contig=<ID={c},length=250000000>" for c in CONTIGS]
    head.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    head.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1")
    lines, recs = [], []
    for c in CONTIGS[:4]:
        pos = rnd.randint(1, 300_000)
        for _ in range(rnd.randint(1500, 2500)):
            r = rnd.random()
            pos += (rnd.randint(1, 60) if r < 0.9 else rnd.randint(10_000, 40_000) if r < 0.98
                    else rnd.randint(200_000, 3_000_000))
            reflen = rnd.choice((1, 1, 1, 2, 5, 30)) if rnd.random() > 0.005 else 20_000
            ref = "".join(rnd.choices("ACGT", k=reflen))
            lines.append(f"{c}\t{pos}\t.\t{ref}\tA\t50\tPASS\t.\tGT\t0/1")
            recs.append((c, pos - 1, pos - 1 + reflen))
    text = "\n".join(head + lines) + "\n"
    return text.encode(), recs


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    _need("bgzip")
    _need("tabix")
    _need("bcftools")
    d = tmp_path_factory.mktemp("idx")
    text, recs = _make_vcf()
    out = {}
    for kind in ("tbi", "csi"):
        (d / kind).mkdir()
        gz = d / kind / "v.vcf.gz"
        with bgzf.BgzfWriter(gz, threads=2) as w:  # written by us, indexed by htslib
            w.write(text)
        if kind == "tbi":
            subprocess.run(["tabix", "-p", "vcf", str(gz)], check=True)
        else:
            subprocess.run(["bcftools", "index", str(gz)], check=True)
        out[kind] = gz
    bcf = d / "v.bcf"
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(out["tbi"])], check=True)
    subprocess.run(["bcftools", "index", str(bcf)], check=True)
    out["bcf"] = bcf
    return out, recs


def _regions(recs, n: int, seed: int):
    rnd = random.Random(seed)
    regs = [("chr1", 0, 1), ("chr1", 0, 10), ("chrX", 249_000_000, 250_000_000),
            ("chrY", 0, 250_000_000), ("chrM", 0, 1000), ("chr2", 0, 250_000_000)]
    last = {c: max(e for cc, _, e in recs if cc == c) for c in CONTIGS[:4]}
    first = {c: min(b for cc, b, _ in recs if cc == c) for c in CONTIGS[:4]}
    for c in CONTIGS[:4]:
        regs += [(c, 0, first[c]), (c, 0, first[c] + 1), (c, last[c], last[c] + 100),
                 (c, last[c] - 1, last[c])]
    while len(regs) < n:
        if rnd.random() < 0.75:  # near a record (records are sparse over the contigs)
            c, pos0, _ = rnd.choice(recs)
            beg = max(0, pos0 + rnd.choice((rnd.randint(-100, 20), rnd.randint(-30_000, 100))))
        else:
            c = rnd.choice(CONTIGS[:4])
            beg = rnd.randint(0, last[c] + 50_000)
        regs.append((c, beg, beg + rnd.choice((1, 2, 50, 3000, 40_000, 1_000_000))))
    return regs


def _tabix(gz, c, beg0, end0) -> list[bytes]:
    got = subprocess.run(["tabix", str(gz), f"{c}:{beg0 + 1}-{end0}"], check=True,
                         capture_output=True).stdout
    return got.splitlines()


def _read_region(gz, voffset, c, beg0, end0):
    """Read forward from voffset, keep overlapping lines; also count wasted lines."""
    hits, wasted = [], []
    if voffset is None:
        return hits, wasted
    seen = False
    for chunk in bgzf.iter_text_chunks(gz, start_voffset=voffset, chunk_bytes=16384):
        for line in chunk.splitlines():
            if line.startswith(b"#"):
                continue
            f = line.split(b"\t", 4)
            chrom, pos0 = f[0].decode(), int(f[1]) - 1
            if chrom != c:
                if seen:
                    return hits, wasted
                wasted.append(line)
                continue
            seen = True
            if pos0 >= end0:
                return hits, wasted
            if pos0 + len(f[3]) > beg0:
                hits.append(line)
            elif not hits:
                wasted.append(line)
    return hits, wasted


@pytest.mark.parametrize("kind", ["tbi", "csi"])
def test_region_start_voffset_matches_tabix(indexed, kind):
    files, recs = indexed
    gz = files[kind]
    index = f"{gz}.{kind}"
    assert bgzf.index_contigs(index) == CONTIGS[:4]
    max_wasted = 0
    for c, beg0, end0 in _regions(recs, 120, seed=len(kind) + (kind == "csi")):
        v = bgzf.region_start_voffset(index, c, beg0, end0)
        hits, wasted = _read_region(gz, v, c, beg0, end0)
        expected = _tabix(gz, c, beg0, end0)
        assert hits == expected, (kind, c, beg0, end0, v)
        if c not in CONTIGS[:4]:
            assert v is None
        # the start is near the region: nothing from other contigs, little waste
        assert all(line.startswith(c.encode() + b"\t") for line in wasted)
        max_wasted = max(max_wasted, len(wasted))
    assert max_wasted < 500  # htslib-like: within ~one 16 kb window before the region


def test_region_start_voffset_bcf_by_tid(indexed):
    files, recs = indexed
    bcf = files["bcf"]
    index = f"{bcf}.csi"
    with pytest.raises(ValueError, match="no contig names"):
        bgzf.index_contigs(index)
    data = None
    for c, beg0, end0 in _regions(recs, 60, seed=3):
        tid = CONTIGS.index(c) if c in CONTIGS else len(CONTIGS)
        v = bgzf.region_start_voffset_by_tid(index, tid, beg0, end0)
        expected = [(p, e) for cc, p, e in recs if cc == c and p < end0 and e > beg0]
        got = []
        if v is not None:
            data = b"".join(bgzf.iter_text_chunks(bcf, start_voffset=v, threads=1))
            p = 0
            while p < len(data):
                l_shared, l_indiv = struct.unpack_from("<II", data, p)
                rid, pos0, rlen = struct.unpack_from("<iii", data, p + 8)
                p += 8 + l_shared + l_indiv
                if rid == tid and pos0 < end0 and pos0 + rlen > beg0:
                    got.append((pos0, pos0 + rlen))
                if rid > tid or (rid == tid and pos0 >= end0):
                    break
        assert got == expected, (c, beg0, end0, v)


def test_write_index(tmp_path):
    tabix = _need("tabix")
    _need("bcftools")
    text, recs = _make_vcf(seed=11)
    gz = tmp_path / "w.vcf.gz"
    with bgzf.BgzfWriter(gz) as w:
        w.write(text)
    tbi = bgzf.write_index(gz)
    csi = bgzf.write_index(gz, csi=True)
    assert tbi.name == "w.vcf.gz.tbi" and csi.name == "w.vcf.gz.csi"
    assert bgzf.index_contigs(tbi) == bgzf.index_contigs(csi) == CONTIGS[:4]
    c, beg0, end0 = recs[500][0], recs[500][1], recs[500][1] + 5000
    for index in (tbi, csi):
        hits, _ = _read_region(gz, bgzf.region_start_voffset(index, c, beg0, end0), c, beg0, end0)
        assert hits == _tabix(gz, c, beg0, end0) and hits
    assert subprocess.run([tabix, "-l", str(gz)], capture_output=True, check=True
                          ).stdout.decode().split() == CONTIGS[:4]

    bcf = tmp_path / "w.bcf"
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(gz)], check=True)
    assert bgzf.write_index(bcf) == tmp_path / "w.bcf.csi"
    assert bgzf.region_start_voffset_by_tid(tmp_path / "w.bcf.csi", 0, 0, 10**9) is not None

    plain = tmp_path / "p.vcf"
    plain.write_bytes(text)
    with pytest.raises(InputError, match=r"p\.vcf: not BGZF-compressed.*bgzip"):
        bgzf.write_index(plain)
    lines = text.splitlines(keepends=True)
    body = [ln for ln in lines if not ln.startswith(b"#")]
    unsorted = tmp_path / "u.vcf.gz"
    with bgzf.BgzfWriter(unsorted) as w:
        w.write(b"".join([ln for ln in lines if ln.startswith(b"#")] + body[::-1]))
    with pytest.raises(InputError, match=r"u\.vcf\.gz: cannot index VCF.*sort"):
        bgzf.write_index(unsorted)


def test_bad_index(tmp_path):
    junk = tmp_path / "x.tbi"
    with bgzf.BgzfWriter(junk) as w:
        w.write(b"NOTANINDEX" * 10)
    with pytest.raises(InputError, match="not a valid .tbi/.csi index"):
        bgzf.region_start_voffset(junk, "chr1", 0, 10)
    with pytest.raises(InputError, match="cannot read index"):
        bgzf.index_contigs(tmp_path / "missing.tbi")


def test_missing_file_and_empty_region(indexed, tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        list(bgzf.iter_text_chunks(tmp_path / "nope.vcf.gz"))
    files, _ = indexed
    assert bgzf.region_start_voffset(f"{files['tbi']}.tbi", "chr1", 500, 500) is None
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"a\nb\n")
    with pytest.raises(ValueError, match="start_voffset needs a BGZF file"):
        list(bgzf.iter_text_chunks(plain, start_voffset=5))


def test_compressed_blocks_appended_in_order(tmp_path):
    """compress_blocks + write_compressed (how pgx filter writes chunks compressed on worker
    threads) give one valid BGZF file: buffered text first, then the blocks, then EOF."""
    bgzip = _need("bgzip")
    head, body = b"##header line\n", _text(2500, seed=3)
    out = tmp_path / "c.gz"
    with bgzf.BgzfWriter(out, threads=0) as w:
        w.write(head)
        for part in (body[:70_000], body[70_000:70_001], body[70_001:]):
            w.write_compressed(bgzf.compress_blocks(part, bgzf.deflate_level(6)))
    got = subprocess.run([bgzip, "-d", "-c", str(out)], check=True, capture_output=True)
    assert got.stdout == head + body
    assert b"".join(bgzf.iter_text_chunks(out, threads=2, chunk_bytes=4096)) == head + body
    assert bgzf.compress_blocks(b"", 7) == b""


@pytest.mark.parametrize("level", [1, 4, 6, 7])
def test_levels_on_bgzips_scale(tmp_path, level):
    """Level N writes what bgzip -l N writes (htslib maps its 0-9 onto libdeflate's 1-12),
    so pgx's VCF.gz is the same size as bcftools' -Oz output for the same text (levels 8-9
    differ by a few % between libdeflate versions)."""
    bgzip = _need("bgzip")
    text = _text(4000, seed=level)
    plain = tmp_path / "t.txt"
    plain.write_bytes(text)
    theirs = subprocess.run([bgzip, f"-l{level}", "-c", str(plain)], check=True,
                            capture_output=True).stdout
    ours = tmp_path / "ours.gz"
    with bgzf.BgzfWriter(ours, level=bgzf.deflate_level(level)) as w:
        w.write(text)
    assert abs(len(ours.read_bytes()) - len(theirs)) <= 0.005 * len(theirs)
    with pytest.raises(ValueError):
        bgzf.deflate_level(10)
