"""The numba VCF tokenizer (pgx.io.vcf_numba_fns via pgx.io.vcf_reader) against the pure-Python
reference parser (tests/vcf_reference.py) and against bcftools on the 1000 Genomes extracts."""
from __future__ import annotations

import copy
import gzip
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vcf_reference import parse_vcf_text, read_vcf_reference  # noqa: E402

from pgx.errors import InputError  # noqa: E402
from pgx.io import vcf_numba_fns as K  # noqa: E402
from pgx.io.variant_chunk import FieldRequest  # noqa: E402
from pgx.io.vcf_reader import ColumnarVcf  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
KGP = SHARED / "data" / "1kgp-grch38"
BCFTOOLS = shutil.which("bcftools")

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=q10,Description="low">
##FILTER=<ID=s50,Description="few">
##contig=<ID=chr1,length=1000000>
##contig=<ID=chr2,length=1000000>
##INFO=<ID=DP,Number=1,Type=Integer,Description="d">
##INFO=<ID=AF,Number=A,Type=Float,Description="a">
##INFO=<ID=AD,Number=R,Type=Integer,Description="r">
##INFO=<ID=GL,Number=G,Type=Float,Description="g">
##INFO=<ID=XS,Number=.,Type=Float,Description="v">
##INFO=<ID=FL,Number=0,Type=Flag,Description="f">
##INFO=<ID=ST,Number=1,Type=String,Description="s">
##FORMAT=<ID=GT,Number=1,Type=String,Description="g">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="q">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="r">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="p">
##FORMAT=<ID=XX,Number=1,Type=String,Description="x">
"""
SAMPLES = ["s1", "s2", "s3", "s4"]
REQUEST = FieldRequest(info=("DP", "AF", "AD", "GL", "XS", "FL", "NODEF"),
                       format=("DP", "GQ", "AD", "PL"), gt=True)
ALLELES = [("A", "G"), ("A", "."), ("AC", "A"), ("A", "AT"), ("AC", "GT"), ("ACG", "TCA"),
           ("A", "<DEL>"), ("A", "*"), ("A", "G,T"), ("A", "AG]chr2:100]"), ("A", "G]chr2:9]"),
           ("ACGT", "A,AC,ACGTT"), ("a", "A"), ("AT", "<NON_REF>"), ("C", "<*>"),
           ("CT", "CT"), ("ATG", "AC"), ("C", "X"), ("G", "<X>"), ("TTAG", "TTCG"),
           ("A", ",".join("CGT" * 5)), ("GA", "gT"), ("ACGTACGT", "ACG")]
CONTIGS = ["chr1", "chr2", "chrUn_" + "x" * 300, "HLA-A*01:01:01:01"]


NUMS = [".", "0", "12", "-3", "0.25", "1e-3", "2.5E2", "7", ".5", "nan", "1."]
INTS = [".", "0", "12", "-3", "7"]


def _num(rnd: random.Random, ints: bool = False) -> str:
    return rnd.choice(INTS if ints else NUMS)


def _vec(rnd: random.Random, n: int, ints: bool = False) -> str:
    return ",".join(_num(rnd, ints) for _ in range(max(n, 1)))


def _gt(rnd: random.Random, n_allele: int) -> str:
    ploidy = rnd.choice([1, 2, 2, 2, 3])
    alleles = [rnd.choice([".", str(rnd.randrange(n_allele))]) for _ in range(ploidy)]
    sep = rnd.choice(["/", "|"])
    if ploidy == 3 and rnd.random() < 0.5:
        return alleles[0] + "|" + alleles[1] + "/" + alleles[2]
    return sep.join(alleles) if rnd.random() > 0.05 else "."


def make_vcf(n: int, seed: int, crlf: bool = False, ints: bool = False) -> str:
    rnd = random.Random(seed)
    lines = HEADER.splitlines() + [
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES)]
    pos = 1
    chrom = CONTIGS[0]
    for _ in range(n):
        if rnd.random() < 0.05:
            chrom = rnd.choice(CONTIGS)
        pos += rnd.randint(0, 30)
        ref, alt = rnd.choice(ALLELES)
        n_alt = 0 if alt == "." else alt.count(",") + 1
        n_al = n_alt + 1
        info = []
        if rnd.random() < 0.8:
            info.append(f"DP={rnd.randint(0, 999)}")
        if rnd.random() < 0.6:
            info.append(f"AF={_vec(rnd, n_alt)}")
        if rnd.random() < 0.3:
            info.append(f"AD={_vec(rnd, n_al)}")
        if rnd.random() < 0.3:
            info.append(f"GL={_vec(rnd, n_al * (n_al + 1) // 2)}")
        if rnd.random() < 0.3:
            info.append(f"XS={_vec(rnd, rnd.randint(1, 6))}")
        if rnd.random() < 0.3:
            info.append("FL")
        if rnd.random() < 0.3:
            info.append("ST=a,b=c")
        if rnd.random() < 0.05:
            info.append("DP")
        rnd.shuffle(info)
        fmt = rnd.choice([["GT", "DP", "AD"], ["GT"], ["DP", "GQ"], ["GT", "GQ", "DP", "PL"],
                          ["GT", "XX", "AD", "DP"]])
        samples = []
        for _s in SAMPLES:
            vals = []
            for key in fmt:
                if key == "GT":
                    vals.append(_gt(rnd, n_al))
                elif key in ("AD",):
                    vals.append(_vec(rnd, n_al, ints))
                elif key == "PL":
                    vals.append(_vec(rnd, rnd.choice([1, 3, 6]), ints))
                elif key == "XX":
                    vals.append("str,ing")
                else:
                    vals.append(_num(rnd, ints))
            if rnd.random() < 0.2:  # trailing fields dropped
                vals = vals[:rnd.randint(1, len(vals))]
            samples.append(":".join(vals))
        lines.append("\t".join([
            chrom, str(pos), rnd.choice([".", "rs1"]), ref, alt,
            rnd.choice([".", "50", "1e3", "3.25", "0"]),
            rnd.choice([".", "PASS", "q10", "q10;s50"]),
            ";".join(info) or ".", ":".join(fmt)] + samples))
    eol = "\r\n" if crlf else "\n"
    return eol.join(lines) + eol


def _write(tmp_path: Path, text: str, kind: str) -> Path:
    if kind == "plain":
        p = tmp_path / "t.vcf"
        p.write_text(text, newline="")
    elif kind == "gzip":
        p = tmp_path / "t.vcf.gz"
        with gzip.open(p, "wb") as fh:
            fh.write(text.encode())
    else:
        from pgx.io.bgzf import BgzfWriter
        p = tmp_path / "t.bgz.vcf.gz"
        with BgzfWriter(p) as w:
            w.write(text.encode())
    return p


def _row_filters(chunk, i) -> set:
    return {chunk.header.filters[k] for k in np.flatnonzero(chunk.filters[i])}


def assert_chunk_matches_reference(chunk, header0, request):
    """Compare one tokenised chunk with the reference parser run on the chunk's own text."""
    if chunk.n_records == 0:
        return
    text = bytes(chunk.buffer[chunk.line_start[0]:]).decode()
    if text.endswith("\n"):
        text = text[:-1]
    ref = parse_vcf_text(text, copy.deepcopy(header0), request, first_line=chunk.first_line)
    assert chunk.n_records == ref.n_records
    assert [chunk.contigs[c] for c in chunk.chrom] == [ref.contigs[c] for c in ref.chrom]
    for name in ("pos", "rlen", "qual", "n_allele", "variant_type", "gt", "phased", "has_gt"):
        a, b = getattr(chunk, name), getattr(ref, name)
        if a is None or b is None:
            assert a is None and b is None, name
            continue
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    for i in range(chunk.n_records):
        assert _row_filters(chunk, i) == _row_filters(ref, i)
        assert chunk.line_text(i) == ref.line_text(i)
    np.testing.assert_array_equal(chunk.col_start - chunk.line_start[:, None] * (
        chunk.col_start >= 0), ref.col_start - ref.line_start[:, None] * (ref.col_start >= 0))
    for kind in ("info", "fmt"):
        for tag, f in getattr(ref, kind).items():
            g = getattr(chunk, kind)[tag]
            assert g.values.shape == f.values.shape, (kind, tag)
            np.testing.assert_array_equal(g.values, f.values, err_msg=f"{kind}/{tag}")
            np.testing.assert_array_equal(g.length, f.length, err_msg=f"{kind}/{tag} length")
            assert g.length.dtype == np.int32 and g.values.dtype == np.float64


@pytest.mark.parametrize("kind,crlf,chunk_bytes,threads", [
    ("plain", False, 8 << 20, 1),
    ("plain", True, 300, 2),
    ("gzip", False, 1000, 1),
    ("bgzf", True, 8 << 20, 2),
    ("bgzf", False, 2500, 2),
])
def test_tokenizer_matches_reference(tmp_path, kind, crlf, chunk_bytes, threads):
    text = make_vcf(400, seed=hash((kind, crlf, chunk_bytes)) & 0xFFFF, crlf=crlf)
    path = _write(tmp_path, text, kind)
    vcf = ColumnarVcf(path)
    header0 = copy.deepcopy(vcf.header)
    chunks = list(vcf.iter_chunks(REQUEST, threads=threads, chunk_bytes=chunk_bytes))
    if chunk_bytes < 5000:
        assert len(chunks) > 5
    line = vcf.header_line_count + 1
    n = 0
    for c in chunks:
        assert c.first_line == line and c.first_record == n
        line += c.n_records
        n += c.n_records
        assert_chunk_matches_reference(c, header0, REQUEST)
    whole = read_vcf_reference(path, REQUEST)
    assert n == whole.n_records == 400
    pos = np.concatenate([c.pos for c in chunks])
    np.testing.assert_array_equal(pos, whole.pos)
    names = [c.contigs[i] for c in chunks for i in c.chrom]
    assert names == [whole.contigs[i] for i in whole.chrom]
    assert chunks[-1].contigs[:2] == ["chr1", "chr2"]


def test_no_gt_request_and_sites_only(tmp_path):
    text = make_vcf(50, seed=3)
    lines = text.splitlines()
    sites = "\n".join(["\t".join(line.split("\t")[:8]) if not line.startswith("##") else line
                       for line in lines]) + "\n"
    path = _write(tmp_path, sites, "plain")
    vcf = ColumnarVcf(path)
    req = FieldRequest(info=("DP", "AF"), format=("DP",), gt=False)
    (chunk,) = list(vcf.iter_chunks(req))
    assert chunk.gt is None and chunk.fmt["DP"].values.shape == (50, 0, 1)
    assert (chunk.col_start[:, 8] == -1).all()
    assert_chunk_matches_reference(chunk, copy.deepcopy(vcf.header), req)


def test_variant_type_kernel_matches_reference():
    from vcf_reference import variant_type
    cases = [(r, a) for r, alts in ALLELES for a in alts.split(",")] + [
        ("A", "A[chr1:5["), ("T", "]13:123456]T"), ("AAA", "AAA"), ("ACGT", "ACTT"),
        ("AC", "ACC"), ("ACC", "AC"), ("ATTC", "AGGCT"), ("A", "<INV>"), ("AG", "*")]
    for ref, alt in cases:
        raw = np.frombuffer((ref + alt).encode(), np.uint8)
        got = K.variant_type_one(raw, 0, len(ref), len(ref), len(ref) + len(alt))
        assert got == variant_type(ref, alt), (ref, alt)


@pytest.mark.skipif(BCFTOOLS is None, reason="bcftools absent")
def test_variant_type_matches_bcftools(tmp_path):
    names = {0: "REF", 1: "SNP", 2: "MNP", 4: "INDEL", 8: "OTHER", 16: "BND", 32: "OVERLAP"}
    text = make_vcf(300, seed=11)
    path = _write(tmp_path, text, "plain")
    (chunk,) = list(ColumnarVcf(path).iter_chunks(FieldRequest(gt=False)))
    out = subprocess.run([BCFTOOLS, "query", "-f", "%TYPE\n", str(path)], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    for i, line in enumerate(out):
        want = set(line.split(",")) - {"REF"} or {"REF"}
        vt = int(chunk.variant_type[i])
        got = {names[b] for b in names if b and vt & b} or {"REF"}
        assert got == want, (chunk.line_text(i)[:80], got, want)


GOOD = make_vcf(40, seed=5)
BAD_CASES = {
    "missing sample": lambda cols: cols[:-1],
    "extra column": lambda cols: cols + ["x"],
    "spaces": lambda cols: [" ".join(cols)],
    "POS": lambda cols: cols[:1] + ["12a"] + cols[2:],
    "QUAL": lambda cols: cols[:5] + ["abc"] + cols[6:],
    "INFO number": lambda cols: cols[:7] + ["DP=x1"] + cols[8:],
    "FORMAT number": lambda cols: cols[:8] + ["GT:DP"] + ["0/1:1.2.3"] * len(SAMPLES),
    "bad GT": lambda cols: cols[:8] + ["GT:DP"] + ["0/1:3", "0/x:3", "0/0:1", "1/1:2"],
    "GT allele": lambda cols: cols[:3] + ["A", "G"] + cols[5:8] + ["GT"] + ["0/2"] * 4,
    "GT > 127": lambda cols: cols[:3] + ["A", "G"] + cols[5:8] + ["GT"] + ["0/200"] * 4,
    "empty GT": lambda cols: cols[:8] + ["GT:DP"] + [":3"] * 4,
    "empty line": lambda cols: [""],
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
@pytest.mark.parametrize("chunk_bytes", [8 << 20, 700])
def test_malformed_line_number(tmp_path, case, chunk_bytes):
    lines = GOOD.splitlines()
    first = next(i for i, l in enumerate(lines) if not l.startswith("#"))
    k = first + 30
    lines[k] = "\t".join(BAD_CASES[case](lines[k].split("\t")))
    path = _write(tmp_path, "\n".join(lines) + "\n", "plain")
    with pytest.raises(InputError) as exc:
        for _ in ColumnarVcf(path).iter_chunks(REQUEST, chunk_bytes=chunk_bytes, threads=2):
            pass
    msg = str(exc.value)
    assert msg.startswith(f"{path}:{k + 1}: "), msg
    assert "\n" not in msg and "; " in msg
    with pytest.raises(InputError) as exc2:
        read_vcf_reference(path, REQUEST)
    assert f":{k + 1}: " in str(exc2.value)


def test_undeclared_filter_is_added(tmp_path):
    lines = GOOD.splitlines()
    first = next(i for i, l in enumerate(lines) if not l.startswith("#"))
    cols = lines[first + 20].split("\t")
    cols[6] = "LowQual;q10"
    lines[first + 20] = "\t".join(cols)
    path = _write(tmp_path, "\n".join(lines) + "\n", "plain")
    vcf = ColumnarVcf(path)
    chunks = list(vcf.iter_chunks(REQUEST, chunk_bytes=500, threads=2))
    assert vcf.header.filters[-1] == "LowQual"
    row = sum(c.n_records for c in chunks)  # noqa: F841
    hits = [(c, i) for c in chunks for i in range(c.n_records)
            if c.line_number(i) == first + 21]
    (c, i), = hits
    assert _row_filters(c, i) == {"LowQual", "q10"}


def _select_via_kernel(chunk, keep, mask):
    return K.select_records_counts(chunk.buffer, chunk.line_start, chunk.line_end,
                                   chunk.col_start, keep, mask)


@pytest.mark.skipif(BCFTOOLS is None, reason="bcftools absent")
def test_select_records_masks_like_bcftools_setgt(tmp_path):
    text = make_vcf(120, seed=9, ints=True)
    decl = "".join(f"##contig=<ID={c}>\n" for c in CONTIGS[2:])
    text = text.replace("#CHROM", decl + "#CHROM", 1)  # htslib wants declared contigs
    path = _write(tmp_path, text, "plain")
    (chunk,) = list(ColumnarVcf(path).iter_chunks(FieldRequest(format=("GQ",))))
    gq = chunk.fmt["GQ"].values[:, :, 0]
    mask = (gq < 20) & chunk.has_gt[:, None]
    keep = np.ones(chunk.n_records, bool)
    out, n_gt, n_al = _select_via_kernel(chunk, keep, mask)
    res = subprocess.run([BCFTOOLS, "+setGT", str(path), "--", "-t", "q", "-n", ".",
                          "-i", "FMT/GQ<20"], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"bcftools +setGT unavailable: {res.stderr.strip()[:200]}")
    want = [line for line in res.stdout.splitlines() if not line.startswith("#")]
    got = bytes(out).decode().splitlines()
    assert len(got) == len(want)
    for g, w in zip(got, want):
        gs, ws = g.split("\t"), w.split("\t")
        # bcftools re-formats numbers (1e3 -> 1000, .5 -> 0.5): compare the other columns
        # but QUAL/INFO, and the GT subfields of the samples
        assert gs[:5] + gs[6:7] + gs[8:9] == ws[:5] + ws[6:7] + ws[8:9]
        assert [s.split(":")[0] for s in gs[9:]] == [s.split(":")[0] for s in ws[9:]], g
    filled = [line for line in res.stderr.splitlines() if line.startswith("Filled")]
    if filled:
        assert filled[0] == f"Filled {n_al} alleles"
    # keep/no-mask: byte-for-byte copy of the kept lines
    keep2 = np.arange(chunk.n_records) % 3 == 0
    out2, n2 = K.select_records(chunk.buffer, chunk.line_start, chunk.line_end,
                                chunk.col_start, keep2, np.zeros((0, 0), bool))
    assert n2 == 0
    assert bytes(out2).decode() == "".join(
        chunk.line_text(i) + "\n" for i in np.flatnonzero(keep2))


@pytest.mark.skipif(not KGP.is_dir() or BCFTOOLS is None, reason="1kGP extracts absent")
@pytest.mark.parametrize("gene", ["VKORC1", "G6PD"])
def test_1kgp_gt_and_info_match_bcftools(gene):
    path = KGP / f"{gene}.vcf.gz"
    req = FieldRequest(info=("AC", "AN"), format=("DP",), gt=True)
    chunks = list(ColumnarVcf(path).iter_chunks(req, threads=2, chunk_bytes=1 << 20))
    gt = np.concatenate([c.gt[:, :, :2] if c.gt.shape[2] >= 2 else np.concatenate(
        [c.gt, np.full(c.gt.shape, -2, np.int8)], axis=2) for c in chunks])
    phased = np.concatenate([c.phased for c in chunks])
    dp_len = np.concatenate([c.fmt["DP"].length for c in chunks])
    an = np.concatenate([c.info["AN"].values[:, 0] for c in chunks])
    out = subprocess.run([BCFTOOLS, "query", "-f", "%INFO/AN\t[%GT\t]\n", str(path)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == gt.shape[0]
    S = gt.shape[1]
    cols = np.array([line.split("\t") for line in out])
    np.testing.assert_array_equal(an, cols[:, 0].astype(float))
    gts = cols[:, 1:1 + S]
    uniq, inv = np.unique(gts, return_inverse=True)
    table = np.full((len(uniq), 2), -2, np.int8)
    tphase = np.zeros(len(uniq), bool)
    for k, g in enumerate(uniq):
        parts = g.replace("|", "/").split("/")
        table[k, :len(parts)] = [-1 if a == "." else int(a) for a in parts]
        tphase[k] = "/" not in g
    np.testing.assert_array_equal(gt, table[inv.reshape(gts.shape)])
    np.testing.assert_array_equal(phased, tphase[inv.reshape(gts.shape)])
    assert (dp_len == 0).all()  # no FORMAT/DP in these files: absent everywhere


@pytest.mark.parametrize("text", [b"", b"\n", b"a\tb\n", b"a\r\nb\n\nc", b"x\r\n\r\n", b"\r"])
def test_line_bounds_match_splitlines(text):
    from pgx.io.vcf_reader import line_bounds

    buf = np.frombuffer(text, np.uint8)
    ls, le = line_bounds(buf)
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    expect = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
    assert [text[s:e] for s, e in zip(ls, le)] == expect
    assert ls.dtype == le.dtype == np.int64


def test_map_chunks_runs_fn_on_workers_in_file_order(tmp_path):
    """map_chunks: fn(chunk) runs on the worker threads, results come back in file order with
    the chunks' line numbers set, and an error deep in the file still names its line."""
    import threading

    text = make_vcf(400, seed=5)
    path = _write(tmp_path, text, "bgzf")
    vcf = ColumnarVcf(path)
    seen_threads = set()

    def fn(chunk):
        seen_threads.add(threading.current_thread().name)
        return chunk.n_records, float(np.nansum(chunk.qual))

    got = list(vcf.map_chunks(fn, REQUEST, threads=2, chunk_bytes=2000))
    assert len(got) > 4
    assert "MainThread" not in seen_threads
    ref = list(ColumnarVcf(path).iter_chunks(REQUEST, threads=1, chunk_bytes=2000))
    assert [c.first_line for c, _ in got] == [c.first_line for c in ref]
    assert [c.first_record for c, _ in got] == [c.first_record for c in ref]
    assert [r for _, r in got] == [(c.n_records, float(np.nansum(c.qual))) for c in ref]

    lines = text.splitlines()
    k = len(lines) - 3
    lines[k] = lines[k].replace("\t", " ", 1)
    (tmp_path / "bad").mkdir()
    bad = _write(tmp_path / "bad", "\n".join(lines) + "\n", "bgzf")
    v2 = ColumnarVcf(bad)
    with pytest.raises(InputError, match=rf":{k + 1}: "):
        for _ in v2.map_chunks(fn, REQUEST, threads=2, chunk_bytes=2000,
                               texts=v2.text_bodies(threads=2, chunk_bytes=2000, prefetch=True)):
            pass


def test_prefetch_passes_errors_and_stops_early(tmp_path):
    from pgx.io.vcf_reader import _Prefetch

    def gen():
        yield b"a"
        yield b"b"
        raise InputError("x.vcf:3: broken; fix it")

    p = _Prefetch(gen(), 1)
    assert next(p) == b"a" and next(p) == b"b"
    with pytest.raises(InputError, match="broken"):
        next(p)
    with pytest.raises(InputError):  # and again: the error is not lost
        next(p)

    closed = []

    def endless():
        try:
            while True:
                yield b"z"
        finally:
            closed.append(True)

    p = _Prefetch(endless(), 2)
    assert next(p) == b"z"
    p.close()
    assert closed == [True] and not p._thread.is_alive()
