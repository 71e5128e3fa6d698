"""Annotation transfer (``pgx.annotate.transfer``) against ``bcftools annotate -a SRC -c ...``
and against a plain-Python reference of the documented rules.

What is checked, on generated sources (multi-allelic records split and unsplit, duplicates,
missing values and absent tags, Flag/Integer/Float/String, Number=A/R/1/./G, IDs) and on the
1000 Genomes INFO of ../shared (skipped without it):

* biallelic query records, one per position: every transferred value and ID is the one
  bcftools writes (same parsed values per record and allele);
* multi-allelic query records and split queries: where bcftools writes a value for an allele
  it is ours too; where they differ it is one of the documented differences (bcftools pairs a
  query record with one source record, so a second allele's value is left out; the Number=1
  value of one allele's record is given to the whole record where the alleles' records
  disagree — we leave those, see ``test_site_value_of_another_allele``); normalisation
  (``ATT>AT`` = ``AT>A``) matches where bcftools does not;
* position matching against bcftools' tab-delimited ``-c CHROM,POS,-,-,...``;
* the cache: reused, re-validated by sha256, rebuilt; kernels against numpy references; bad
  input as one-line errors naming the file, the line and the fix.
"""
from __future__ import annotations

import gzip
import math
import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pysam
import pytest

from pgx.annotate import transfer_numba_fns as K
from pgx.annotate import transfer_pieces_numba_fns as P
from pgx.annotate.source_cache import SourceIndex
from pgx.annotate.sources import load_sources, parse_bcftools
from pgx.annotate.transfer import annotate_vcf, open_sources, transfer
from pgx.errors import InputError, UsageError

BCFTOOLS = shutil.which("bcftools")
needs_bcftools = pytest.mark.skipif(BCFTOOLS is None, reason="bcftools not installed")

SRC_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=10000000>
##contig=<ID=chr2,length=10000000>
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">
##INFO=<ID=RD,Number=R,Type=Integer,Description="Depth per allele">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=NAME,Number=1,Type=String,Description="A name">
##INFO=<ID=CLN,Number=.,Type=String,Description="Significance">
##INFO=<ID=GG,Number=G,Type=Integer,Description="Per genotype">
##INFO=<ID=DB,Number=0,Type=Flag,Description="In the database">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""
QUERY_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=10000000>
##contig=<ID=chr2,length=10000000>
##contig=<ID=chr3,length=10000000>
##INFO=<ID=QID,Number=1,Type=Integer,Description="query record number">
##INFO=<ID=AF,Number=A,Type=Float,Description="Own allele frequency">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Own depth">
##INFO=<ID=DB,Number=0,Type=Flag,Description="Own flag">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""
FIELDS = "ID,INFO/AF,INFO/AC,INFO/RD,INFO/DP,INFO/NAME,INFO/CLN,INFO/GG,INFO/DB"
TAGS = ["AF", "AC", "RD", "DP", "NAME", "CLN", "GG", "DB"]
NUMBER = {"AF": "A", "AC": "A", "RD": "R", "DP": "1", "NAME": "1", "CLN": ".", "GG": "G",
          "DB": "0"}


# ----------------------------------------------------------------------------- generators

def _other(rng, base, avoid=()):
    return rng.choice([b for b in "ACGT" if b != base and b not in avoid])


def _src_info(rng, k: int, serial: int) -> str:
    """INFO for a record with ``k`` ALTs: each tag absent ~10%, values '.' ~5%."""
    def num(x):
        return "." if rng.random() < 0.05 else x
    items = []
    if rng.random() < 0.9:
        items.append("AF=" + ",".join(num(f"{rng.random():.3f}") for _ in range(k)))
    if rng.random() < 0.9:
        items.append("AC=" + ",".join(num(str(rng.randint(0, 99))) for _ in range(k)))
    if rng.random() < 0.9:
        items.append("RD=" + ",".join(num(str(rng.randint(0, 60))) for _ in range(k + 1)))
    if rng.random() < 0.9:
        items.append(f"DP={num(str(rng.randint(1, 500)))}")
    if rng.random() < 0.9:
        items.append(f"NAME=n{serial}")
    if rng.random() < 0.8:
        items.append("CLN=" + ",".join(rng.sample(["Benign", "Pathogenic", "Uncertain"],
                                                  rng.randint(1, 2))))
    if rng.random() < 0.5:
        items.append("GG=" + ",".join(str(rng.randint(0, 9))
                                       for _ in range((k + 1) * (k + 2) // 2)))
    if rng.random() < 0.4:
        items.append("DB")
    rng.shuffle(items)
    return ";".join(items) or "."


def make_source(rng, n_pos: int, *, snp_multi_only=True, contigs=("chr1", "chr2")):
    """Source records ``(chrom, pos, id, ref, [alts], info)`` sorted; several records at a
    position (split alleles, multi-allelic, exact duplicates), SNPs and indels."""
    recs, serial = [], 0
    for chrom in contigs:
        pos = 1000
        for _ in range(n_pos):
            pos += rng.randint(2, 30)
            ref = rng.choice("ACGT")
            for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                kind = rng.random()
                if kind < 0.45:
                    ref_, alts = ref, [_other(rng, ref)]
                elif kind < 0.7:
                    ref_, alts = ref, rng.sample([b for b in "ACGT" if b != ref],
                                                 rng.randint(2, 3))
                elif kind < 0.8 and recs and recs[-1][1] == pos:
                    ref_, alts = recs[-1][3], list(recs[-1][4])  # a duplicate
                elif kind < 0.9:
                    ref_, alts = ref, [ref + rng.choice(["T", "AG", "CCA"])]
                else:
                    ref_, alts = ref + rng.choice(["T", "GC"]), [ref]
                if not snp_multi_only and rng.random() < 0.3:
                    alts = alts + [ref + "T"] if ref_ == ref else alts + [ref_[:1] + "A"]
                serial += 1
                rid = "." if rng.random() < 0.1 else f"rs{serial}"
                recs.append((chrom, pos, rid, ref_, alts, _src_info(rng, len(alts), serial)))
    return recs


def make_query(rng, src, *, multi=False, split=False, n_novel=30):
    """Query records at the source's positions (and novel ones), one per position unless
    ``split``; biallelic unless ``multi``. Alleles mostly from the source's at the position.
    Each record has a unique INFO/QID; some carry their own AF/DP/DB (to be replaced or
    kept)."""
    by_pos: dict = {}
    for chrom, pos, _, ref, alts, _ in src:
        by_pos.setdefault((chrom, pos), []).extend((ref, a) for a in alts)
    sites = list(by_pos)
    for _ in range(n_novel):
        sites.append((rng.choice(["chr1", "chr2", "chr3"]), rng.randint(1000, 20000)))
    out = []
    for site in sorted(set(sites), key=lambda s: (s[0], s[1])):
        pairs = by_pos.get(site) or [(rng.choice("ACGT"), None)]
        ref = pairs[0][0] if pairs[0][1] is not None else pairs[0][0]
        known = sorted({a for r, a in pairs if a is not None and r == ref})
        if rng.random() < 0.03:
            ref = _other(rng, ref[0])  # another REF at the position: nothing matches
        novel = [a for a in ["A", "C", "G", "T", ref + "GG"] if a != ref and a not in known]
        pool = known + novel[:1]
        if not pool:
            pool = [ref + "GG"]
        if multi and len(pool) > 1:
            alts = rng.sample(pool, rng.randint(2, min(3, len(pool))))
            records = [alts]
        elif split:
            alts = rng.sample(pool, min(len(pool), rng.randint(1, 2)))
            records = [[a] for a in alts]
        else:
            records = [[rng.choice(pool)]]
        for alts in records:
            if any(len(a) > 1 for a in alts) and len(ref) > 1:
                continue
            out.append((site[0], site[1], ref, alts))
    lines = []
    for i, (chrom, pos, ref, alts) in enumerate(out):
        info = [f"QID={i}"]
        if rng.random() < 0.2:
            info.append("AF=" + ",".join("0.999" for _ in alts))
        if rng.random() < 0.2:
            info.append("DP=1")
        if rng.random() < 0.2:
            info.append("DB")
        rid = "qid" + str(i) if rng.random() < 0.2 else "."
        lines.append(f"{chrom}\t{pos}\t{rid}\t{ref}\t{','.join(alts)}\t.\t.\t{';'.join(info)}")
    return lines


def vcf_lines(recs):
    return [f"{c}\t{p}\t{i}\t{r}\t{','.join(a)}\t.\t.\t{info}" for c, p, i, r, a, info in recs]


def write_vcf(path: Path, header: str, lines, index=True) -> Path:
    text = header + "".join(line + "\n" for line in lines)
    if str(path).endswith(".gz"):
        plain = path.with_suffix("")
        plain.write_text(text)
        pysam.tabix_compress(str(plain), str(path), force=True)
        plain.unlink()
        if index:
            pysam.tabix_index(str(path), preset="vcf", force=True)
    else:
        path.write_text(text)
    return path


# ----------------------------------------------------------------------------- parsing

def parse_out(path: Path) -> dict:
    """``{QID: (id, {tag: value text or True})}`` of an annotated VCF."""
    out = {}
    with gzip.open(path, "rt") if str(path).endswith(".gz") else open(path) as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            col = line.rstrip("\n").split("\t")
            info = {}
            if col[7] != ".":
                for item in col[7].split(";"):
                    k, eq, v = item.partition("=")
                    info[k] = v if eq else True
            out[int(info["QID"])] = (col[2], info, col)
    return out


def bcftools_annotate(src: Path, query: Path, out: Path, columns: str, *extra) -> dict:
    subprocess.run([BCFTOOLS, "annotate", "--no-version", "-a", str(src), "-c", columns,
                    *extra, "-Oz", "-o", str(out), str(query)], check=True,
                   capture_output=True)
    return parse_out(out)


def pgx_annotate(tmp: Path, src: Path, query: Path, columns: str, name="out", **kw) -> dict:
    out = tmp / f"{name}.vcf.gz"
    source = kw.pop("source", None) or parse_bcftools(src, columns, **kw)
    annotate_vcf(query, out, [source], cache_dir=tmp / "cache")
    return parse_out(out)


# ----------------------------------------------------------------------------- reference

def norm(pos, ref, alt):
    ref, alt = ref.upper(), alt.upper()
    if not (re.fullmatch("[ACGTN]+", ref) and re.fullmatch("[ACGTN]+", alt)):
        return pos, ref, alt
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    k = 0
    while len(ref) - k > 1 and len(alt) - k > 1 and ref[k] == alt[k]:
        k += 1
    return pos + k, ref[k:], alt[k:]


def _info_dict(text):
    d = {}
    if text != ".":
        for item in text.split(";"):
            k, eq, v = item.partition("=")
            d.setdefault(k, v if eq else True)
    return d


def reference_annotate(src, query_lines, tags, *, with_id=True, position=False):
    """The documented rules in plain Python: {QID: (id, info)}."""
    first_pos, by_key, keys_of = {}, {}, []
    for n, (chrom, pos, rid, ref, alts, info) in enumerate(src):
        first_pos.setdefault((chrom, pos), n)
        keys_of.append([(chrom, *norm(pos, ref, a)) for a in alts])
        for k, a in enumerate(alts):
            by_key.setdefault((chrom, *norm(pos, ref, a)), []).append((n, k))
    out = {}
    for line in query_lines:
        chrom, pos, qid_, ref, alt, _, _, info = line.split("\t")
        pos = int(pos)
        qinfo = _info_dict(info)
        alts = alt.split(",")
        rid = qid_
        if position:
            site = first_pos.get((chrom, pos))
            matched = [None] * len(alts)
            recs = [] if site is None else [site]
        else:
            keys = [(chrom, *norm(pos, ref, a)) for a in alts]
            matched = [by_key[k][0] if k in by_key else None for k in keys]
            if all(matched):  # a record with exactly these alleles wins (bcftools' pairing)
                whole = [n for n, k in by_key[keys[0]]
                         if k == 0 and keys_of[n] == keys]
                if whole:
                    matched = [next(m for m in by_key[k] if m[0] == whole[0]) for k in keys]
            recs = sorted({m[0] for m in matched if m})
            site = recs[0] if recs else None
        if site is not None:
            sinfo = {n: _info_dict(src[n][5]) for n in recs}
            if with_id:
                ids = []
                for n in ([site] if position else [m[0] for m in matched if m]):
                    if src[n][2] != "." and src[n][2] not in ids:
                        ids.append(src[n][2])
                if ids:
                    rid = ";".join(ids)
            for tag in tags:
                number = "." if position and NUMBER[tag] in "AR" else NUMBER[tag]
                if number in "AR" and number != ".":
                    vals = []
                    if number == "R":
                        refs = {sinfo[n][tag].split(",")[0] for n in recs if tag in sinfo[n]}
                        vals.append(refs.pop() if len(refs) == 1 else ".")
                    for m in matched:
                        v = "."
                        if m and tag in sinfo[m[0]]:
                            parts = sinfo[m[0]][tag].split(",")
                            j = m[1] + (number == "R")
                            v = parts[j] if j < len(parts) and parts[j] else "."
                        vals.append(v)
                    if any(m and tag in sinfo[m[0]] for m in matched):
                        qinfo[tag] = ",".join(vals)
                    continue
                cells = {(tag in sinfo[n], sinfo[n].get(tag)) for n in recs}
                if len(cells) > 1:
                    continue  # the alleles' records disagree: left as it is
                has, val = cells.pop()
                if NUMBER[tag] == "0":
                    if has:
                        qinfo[tag] = True
                    else:
                        qinfo.pop(tag, None)
                elif has:
                    qinfo[tag] = val or "."
        out[int(qinfo["QID"])] = (rid, qinfo)
    return out


def _parsed(v):
    """A value as compared: numbers parsed (bcftools writes floats back as float32, 0.360 ->
    0.36; we keep the source's text), '.' as None."""
    if v is None or v is True:
        return v
    out = []
    for x in v.split(","):
        try:
            out.append(None if x == "." else float(x))
        except ValueError:
            out.append(x)
    return out


def _close(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return all(x == y or (isinstance(x, float) and isinstance(y, float)
                              and math.isclose(x, y, rel_tol=1e-6)) for x, y in zip(a, b))
    return a == b


def assert_same(got: dict, want: dict, tags=TAGS, with_id=True):
    """Same ID and the same parsed values of ``tags`` at every record (by QID)."""
    assert got.keys() == want.keys()
    for q in want:
        gid, ginfo = got[q][:2]
        wid, winfo = want[q][:2]
        if with_id:
            assert gid == wid, (q, got[q][2], wid)
        for t in tags:
            assert _close(_parsed(ginfo.get(t)), _parsed(winfo.get(t))), \
                (q, t, got[q][2], winfo.get(t))


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture
def generated(tmp_path):
    def make(seed, *, multi=False, split=False, snp_multi_only=True, n_pos=120):
        rng = random.Random(seed)
        src = make_source(rng, n_pos, snp_multi_only=snp_multi_only)
        q = make_query(rng, src, multi=multi, split=split)
        sp = write_vcf(tmp_path / f"src{seed}.vcf.gz", SRC_HEADER, vcf_lines(src))
        qp = write_vcf(tmp_path / f"q{seed}.vcf.gz", QUERY_HEADER, q)
        return src, q, sp, qp
    return make


# ----------------------------------------------------------------------------- bcftools

@needs_bcftools
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_biallelic_query_same_values_as_bcftools(tmp_path, generated, seed):
    """One biallelic query record per position against split, multi-allelic and duplicated
    source records: every ID and value equals bcftools' (and the reference's)."""
    src, q, sp, qp = generated(seed)
    got = pgx_annotate(tmp_path, sp, qp, FIELDS)
    want = bcftools_annotate(sp, qp, tmp_path / "bcf.vcf.gz", FIELDS)
    assert_same(got, want)
    assert_same(got, reference_annotate(src, q, TAGS))
    annotated = sum(1 for q_ in got if got[q_][1].get("NAME", "").startswith("n"))
    assert annotated > 100  # the comparison covers matched records, not only misses


@needs_bcftools
@pytest.mark.parametrize("seed", [4, 5])
def test_multiallelic_query_differs_only_as_documented(tmp_path, generated, seed):
    """Multi-allelic query records: where bcftools gives an allele a value, it is ours; the
    differences are the alleles bcftools leaves out (it pairs the record with one source
    record) and site-level values where the alleles' records disagree."""
    src, q, sp, qp = generated(seed, multi=True)
    got = pgx_annotate(tmp_path, sp, qp, FIELDS)
    assert_same(got, reference_annotate(src, q, TAGS))
    bcf = bcftools_annotate(sp, qp, tmp_path / "bcf.vcf.gz", FIELDS)
    orig = {int(_info_dict(l.split("\t")[7])["QID"]): (l.split("\t")[2],
                                                      _info_dict(l.split("\t")[7])) for l in q}
    agree = filled = conflict = 0
    for qid, (bid, binfo, _) in bcf.items():
        gid, ginfo, _ = got[qid]
        oid, oinfo = orig[qid]
        if bid not in (".", oid):
            assert bid in gid.split(";"), (qid, bid, gid)
        for t in ("AF", "AC"):
            n = len(got[qid][2][4].split(","))
            b = binfo[t].split(",") if t in binfo else ["."] * n
            g = ginfo[t].split(",") if t in ginfo else ["."] * n
            own = oinfo[t].split(",") if t in oinfo else ["."] * n
            for i in range(n):
                if _close(_parsed(b[i]), _parsed(g[i])):
                    agree += b[i] != "."
                else:
                    # bcftools gave the allele no value of the source: it left it out (it
                    # pairs the record with one source record) or kept the query's own
                    # value for it; we replace the tag as a whole ('.' where no match)
                    assert b[i] in (".", own[i]), (qid, t, binfo, ginfo)
                    filled += g[i] != "."
        for t in ("DP", "NAME", "CLN"):
            if binfo.get(t) != ginfo.get(t):
                assert ginfo.get(t) == oinfo.get(t), (qid, t)
                conflict += 1  # the alleles' records disagree: bcftools takes the first
    assert agree > 50 and filled > 5 and conflict > 0


@needs_bcftools
def test_split_query_against_split_source_same_as_bcftools(tmp_path):
    """bcftools pairs records one to one: a split query against the same split source
    (every record twice at most per position) gets identical values."""
    rng = random.Random(11)
    src = []
    for n, pos in enumerate(range(1000, 3000, 7)):
        ref = rng.choice("ACGT")
        for k, alt in enumerate(rng.sample([b for b in "ACGT" if b != ref], 2)):
            src.append(("chr1", pos, f"rs{n}_{k}", ref, [alt], _src_info(rng, 1, n)))
    sp = write_vcf(tmp_path / "src.vcf.gz", SRC_HEADER, vcf_lines(src))
    q = [f"{c}\t{p}\t.\t{r}\t{a[0]}\t.\t.\tQID={i}" for i, (c, p, _, r, a, _) in enumerate(src)]
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, q)
    got = pgx_annotate(tmp_path, sp, qp, FIELDS)
    assert_same(got, bcftools_annotate(sp, qp, tmp_path / "bcf.vcf.gz", FIELDS))


@needs_bcftools
def test_split_query_against_multiallelic_source(tmp_path):
    """Two query records at a position, one multi-allelic source record: bcftools gives its
    values to the first query record only; we give each its own allele's."""
    sp = write_vcf(tmp_path / "src.vcf.gz", SRC_HEADER, [
        "chr1\t100\trs1\tA\tC,G\t.\t.\tAF=0.1,0.2;NAME=x;DB"])
    q = ["chr1\t100\t.\tA\tC\t.\t.\tQID=0", "chr1\t100\t.\tA\tG\t.\t.\tQID=1"]
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, q)
    got = pgx_annotate(tmp_path, sp, qp, "ID,INFO/AF,INFO/NAME,INFO/DB")
    bcf = bcftools_annotate(sp, qp, tmp_path / "b.vcf.gz", "ID,INFO/AF,INFO/NAME,INFO/DB")
    assert got[0][1]["AF"] == bcf[0][1]["AF"] == "0.1"
    assert got[1][1]["AF"] == "0.2" and got[1][0] == "rs1" and got[1][1]["DB"] is True
    assert "AF" not in bcf[1][1] and bcf[1][0] == "."


@needs_bcftools
def test_duplicate_source_records_rule(tmp_path):
    """Several source records with the allele: one with exactly the query's ALTs (in the same
    order) wins, else the first in the file; the same choice as bcftools' pairing."""
    recs = [("100", "C,T", "a1"), ("100", "T,A", "a2"),   # neither exact: the first
            ("200", "T,A", "b1"), ("200", "T", "b2"),     # b2 is exactly A>T
            ("300", "C,T,A", "c1"), ("300", "T,A", "c2"),
            ("400", "T", "d1"), ("400", "T", "d2"),       # identical duplicates: the first
            ("500", "T", "e1"), ("500", "T,C", "e2"),     # query T,C: e2
            ("600", "C,T", "f1"), ("600", "T,C", "f2")]   # query T,C: f2 (same order)
    sp = write_vcf(tmp_path / "src.vcf.gz", SRC_HEADER, [
        f"chr1\t{p}\t.\tG\t{a}\t.\t.\tNAME={n}" for p, a, n in recs])
    q = [f"chr1\t{p}\t.\tG\t{a}\t.\t.\tQID={i}" for i, (p, a) in enumerate(
        [("100", "T"), ("200", "T"), ("300", "T"), ("400", "T"), ("500", "T,C"),
         ("600", "T,C")])]
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, q)
    got = pgx_annotate(tmp_path, sp, qp, "INFO/NAME")
    bcf = bcftools_annotate(sp, qp, tmp_path / "b.vcf.gz", "INFO/NAME")
    names = [got[i][1]["NAME"] for i in range(6)]
    assert names == ["a1", "b2", "c1", "d1", "e2", "f2"]
    assert names == [bcf[i][1]["NAME"] for i in range(6)]


@needs_bcftools
def test_site_value_of_another_allele(tmp_path):
    """The case where bcftools gives an allele another allele's value and we do not: a
    multi-allelic query record whose ALTs are two split source records (ClinVar style).
    bcftools copies the first record's Number=./1 values (CLN=Benign, NAME) to the whole
    record, so allele G reads "Benign" although G's record says "Pathogenic"; we leave
    site-level tags where the alleles' records disagree, give per-allele tags (Number=A)
    each allele's own value, and with ``number: A`` declared give CLN per allele too."""
    sp = write_vcf(tmp_path / "src.vcf.gz", SRC_HEADER, [
        "chr1\t100\trs1\tA\tC\t.\t.\tAF=0.1;CLN=Benign;NAME=c",
        "chr1\t100\trs2\tA\tG\t.\t.\tAF=0.2;CLN=Pathogenic;NAME=g"])
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, ["chr1\t100\t.\tA\tC,G\t.\t.\tQID=0"])
    cols = "ID,INFO/AF,INFO/CLN,INFO/NAME"
    bcf = bcftools_annotate(sp, qp, tmp_path / "b.vcf.gz", cols)[0]
    assert bcf[1]["CLN"] == "Benign" and bcf[1]["AF"] == "0.1,." and bcf[0] == "rs1"
    got = pgx_annotate(tmp_path, sp, qp, cols)[0]
    assert "CLN" not in got[1] and "NAME" not in got[1]
    assert got[1]["AF"] == "0.1,0.2" and got[0] == "rs1;rs2"
    source = load_sources([{"name": "clinvar", "file": str(sp), "fields": [
        {"from": "INFO/CLN", "number": "A"}, {"from": "INFO/AF"}]}])[0]
    per_allele = pgx_annotate(tmp_path, sp, qp, "", name="o2", source=source)[0]
    assert per_allele[1]["CLN"] == "Benign,Pathogenic"


@needs_bcftools
def test_normalised_alleles_match(tmp_path):
    """Alleles written with extra shared bases (``ATT>AT``, ``ACGT>AGGT``) match their trimmed
    form; bcftools does not match them. Without a reference nothing is left-aligned."""
    sp = write_vcf(tmp_path / "src.vcf.gz", SRC_HEADER, [
        "chr1\t100\trs1\tAT\tA\t.\t.\tAF=0.1",
        "chr1\t200\trs2\tACGT\tAGGT\t.\t.\tAF=0.2",
        "chr1\t300\trs3\tATT\tA,ATTT\t.\t.\tAF=0.3,0.4",
        "chr1\t400\trs4\tCA\tC\t.\t.\tAF=0.5"])
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, [
        "chr1\t100\t.\tATT\tAT\t.\t.\tQID=0", "chr1\t201\t.\tC\tG\t.\t.\tQID=1",
        "chr1\t300\t.\tA\tAT\t.\t.\tQID=2", "chr1\t401\t.\tAA\tA\t.\t.\tQID=3"])
    got = pgx_annotate(tmp_path, sp, qp, "ID,INFO/AF")
    assert [got[i][1].get("AF") for i in range(4)] == ["0.1", "0.2", "0.4", None]
    bcf = bcftools_annotate(sp, qp, tmp_path / "b.vcf.gz", "ID,INFO/AF")
    assert all("AF" not in bcf[i][1] for i in range(4))


@needs_bcftools
def test_position_match_same_as_bcftools_tab(tmp_path):
    """``match: position`` equals bcftools with a tab-delimited ``-c CHROM,POS,-,-,...``:
    the first row at the position, whatever the alleles."""
    rng = random.Random(7)
    rows, q = [], []
    for i, pos in enumerate(range(100, 4000, 13)):
        for k in range(rng.choice([1, 1, 2])):  # duplicates: the first row wins
            rows.append(f"chr1\t{pos}\t{rng.choice('ACGT')}\t{rng.choice('ACGT')}\t"
                        f"{rng.random():.4f}\tv{i}_{k}")
        if rng.random() < 0.8:
            q.append(f"chr1\t{pos + (rng.random() < 0.1)}\t.\tA\t{rng.choice(['C', 'G,T'])}"
                     f"\t.\t.\tQID={len(q)}")
    tsv = tmp_path / "ann.tsv"
    tsv.write_text("".join(r + "\n" for r in rows))
    pysam.tabix_compress(str(tsv), str(tsv) + ".gz", force=True)
    pysam.tabix_index(str(tsv) + ".gz", seq_col=0, start_col=1, end_col=1, force=True)
    hdr = ['##INFO=<ID=SCORE,Number=1,Type=Float,Description="score">',
           '##INFO=<ID=LABEL,Number=1,Type=String,Description="label">']
    (tmp_path / "hdr.txt").write_text("\n".join(hdr) + "\n")
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, q)
    cols = "CHROM,POS,-,-,SCORE,LABEL"
    got = pgx_annotate(tmp_path, Path(str(tsv) + ".gz"), qp, cols, header_lines=hdr)
    bcf = bcftools_annotate(Path(str(tsv) + ".gz"), qp, tmp_path / "b.vcf.gz", cols, "-h",
                            str(tmp_path / "hdr.txt"))
    assert_same(got, bcf, tags=["SCORE", "LABEL"], with_id=False)
    assert sum("LABEL" in v[1] for v in got.values()) > 150


@needs_bcftools
def test_tsv_exact_same_as_bcftools(tmp_path):
    """A TSV with REF/ALT (multi-allelic rows, Number=A from the header lines) equals bcftools'
    ``-c CHROM,POS,REF,ALT,...``; '.' keeps the query's own value in both."""
    rng = random.Random(3)
    rows, q = [], []
    for i, pos in enumerate(range(100, 5000, 11)):
        ref = rng.choice("ACGT")
        alts = rng.sample([b for b in "ACGT" if b != ref], rng.choice([1, 1, 2]))
        vals = ",".join(f"{rng.random():.3f}" for _ in alts)
        rows.append(f"chr1\t{pos}\t{ref}\t{','.join(alts)}\t{vals}\t"
                    f"{'.' if rng.random() < 0.1 else 'L%d' % i}")
        alt = rng.choice(alts + [_other(rng, ref, alts) if len(alts) < 3 else alts[0]])
        own = ";AF=0.9" if rng.random() < 0.3 else ""
        q.append(f"chr1\t{pos}\t.\t{ref}\t{alt}\t.\t.\tQID={i}{own}")
    tsv = tmp_path / "ann.tsv"
    tsv.write_text("#CHROM\tPOS\tREF\tALT\tAF\tLABEL\n" + "".join(r + "\n" for r in rows))
    gz = Path(str(tsv) + ".gz")
    pysam.tabix_compress(str(tsv), str(gz), force=True)
    pysam.tabix_index(str(gz), seq_col=0, start_col=1, end_col=1, force=True)
    hdr = ['##INFO=<ID=AF,Number=A,Type=Float,Description="af">',
           '##INFO=<ID=LABEL,Number=1,Type=String,Description="label">']
    (tmp_path / "hdr.txt").write_text("\n".join(hdr) + "\n")
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, q)
    cols = "CHROM,POS,REF,ALT,AF,LABEL"
    bcf = bcftools_annotate(gz, qp, tmp_path / "b.vcf.gz", cols, "-h", str(tmp_path / "hdr.txt"))
    got = pgx_annotate(tmp_path, gz, qp, cols, header_lines=hdr)
    assert_same(got, bcf, tags=["AF", "LABEL"], with_id=False)
    # the same source from the config form (header names, number from the field)
    source = load_sources([{"name": "t", "file": str(gz), "format": "tsv", "fields": [
        {"from": "AF", "type": "Float", "number": "A"}, {"from": "LABEL"}]}])[0]
    assert_same(pgx_annotate(tmp_path, gz, qp, "", name="o2", source=source), bcf,
                tags=["AF", "LABEL"], with_id=False)


def _kgp_file(shared):
    path = shared / "data" / "1kgp-grch38" / "CYP2C19.vcf.gz"
    if not path.is_file():
        pytest.skip("1000 Genomes CYP2C19 VCF absent from ../shared")
    return path


@needs_bcftools
@pytest.mark.slow
def test_1kgp_population_afs(tmp_path, shared):
    """The 1000 Genomes INFO (split multi-allelic records, Number=A AFs per population) onto a
    sites-only copy without INFO: identical to bcftools for the split copy; on the same sites
    joined into multi-allelic records (bcftools norm -m+), every allele gets the value it has
    in the split copy (bcftools fills one allele per record)."""
    src = _kgp_file(shared)
    cols = "ID,INFO/AF,INFO/AF_EUR,INFO/AF_AFR,INFO/AC,INFO/AN,INFO/VariantType"
    tags = ["AF", "AF_EUR", "AF_AFR", "AC", "AN", "VariantType"]
    sites = tmp_path / "sites.vcf.gz"
    subprocess.run(f"{BCFTOOLS} view -G {src} | {BCFTOOLS} annotate -x ID,INFO | awk -v OFS='\\t'"
                   f" '/^#/ {{print; next}} {{$8=\"QID=\" NR; print}}' | "
                   f"sed 's/^#CHROM/##INFO=<ID=QID,Number=1,Type=Integer,Description=\"q\">\\n"
                   f"#CHROM/' | bgzip -c > {sites} && tabix -p vcf {sites}", shell=True,
                   check=True)
    got = pgx_annotate(tmp_path, src, sites, cols)
    bcf = bcftools_annotate(src, sites, tmp_path / "b.vcf.gz", cols)
    assert_same(got, bcf, tags=tags)
    assert sum(1 for v in got.values() if "AF_EUR" in v[1]) == len(got)
    joined = tmp_path / "joined.vcf.gz"
    subprocess.run([BCFTOOLS, "norm", "-m+", "-Oz", "-o", str(joined), str(sites)], check=True,
                   capture_output=True)
    subprocess.run(["tabix", "-p", "vcf", str(joined)], check=True)
    multi = pgx_annotate(tmp_path, src, joined, cols, name="multi")
    per_allele = {}
    for qid, (_, info, col) in got.items():
        per_allele[(col[0], *norm(int(col[1]), col[3], col[4]))] = info
    n_multi = 0
    for _, info, col in multi.values():
        alts = col[4].split(",")
        n_multi += len(alts) > 1
        for i, a in enumerate(alts):
            single = per_allele[(col[0], *norm(int(col[1]), col[3], a))]  # -m+ pads REF
            for t in ("AF", "AF_EUR", "AC"):
                assert info[t].split(",")[i] == single[t]
    assert n_multi > 20


# ----------------------------------------------------------------------------- reference

@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_reference_rules_random(tmp_path, generated, seed):
    """pgx equals the plain-Python statement of the rules on random inputs: multi-allelic
    records on both sides, indels of several REF lengths, split queries, novel alleles."""
    src, q, sp, qp = generated(seed, multi=seed % 2 == 0, split=seed % 2 == 1,
                               snp_multi_only=False)
    assert_same(pgx_annotate(tmp_path, sp, qp, FIELDS), reference_annotate(src, q, TAGS))


def test_position_mode_reference(tmp_path, generated):
    src, q, sp, qp = generated(31, multi=True)
    source = load_sources([{"name": "p", "file": str(sp), "match": "position", "fields": [
        {"from": "ID"}] + [{"from": f"INFO/{t}"} for t in TAGS]}])[0]
    got = pgx_annotate(tmp_path, sp, qp, "", source=source)
    assert_same(got, reference_annotate(src, q, TAGS, position=True))


def test_transfer_api_typed_values(tmp_path, generated):
    """:func:`transfer` on a chunk: pieces, states and typed values per field."""
    from pgx.io.variant_chunk import FieldRequest
    from pgx.io.vcf_reader import ColumnarVcf

    src, q, sp, qp = generated(41, multi=True)
    sources = [parse_bcftools(sp, "ID,INFO/AF,INFO/DP"),
               parse_bcftools(sp, "INFO/SRC2_AC:=AC,INFO/NAME2:=NAME", name="second")]
    indexes = open_sources(sources, tmp_path / "cache")
    want = reference_annotate(src, q, ["AF", "DP", "AC", "NAME"])
    chunk = next(ColumnarVcf(qp).iter_chunks(FieldRequest(gt=False)))
    res = transfer(chunk, indexes)
    names = [f.name for f in res.fields]
    assert names == ["ID", "AF", "DP", "SRC2_AC", "NAME2"]
    checked = 0
    for r in range(chunk.n_records):
        qid = int(chunk.line_text(r).split("QID=")[1].split(";")[0])
        wid, winfo = want[qid]
        for f, tag in ((1, "AF"), (2, "DP"), (3, "AC")):
            text = res.text(r, f)
            if text is None:
                continue
            assert text.split("=", 1)[1] == winfo[tag]
            vals = [float(x) if x != "." else np.nan for x in winfo[tag].split(",")]
            np.testing.assert_array_equal(res.values(r, f), vals)
            checked += 1
        if res.state[r, 0] == 1:
            assert res.text(r, 0) == wid
    assert checked > 100


# ----------------------------------------------------------------------------- cache

def test_cache_reused_revalidated_rebuilt(tmp_path, generated):
    src, q, sp, qp = generated(51)
    source = parse_bcftools(sp, "ID,INFO/AF")
    ix = SourceIndex.open(source, tmp_path / "c")
    assert ix.status == "built" and (ix.cache_path / "meta.json").is_file()
    assert SourceIndex.open(source, tmp_path / "c").status == "reused"
    st = sp.stat()
    os.utime(sp, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # touched, same bytes
    assert SourceIndex.open(source, tmp_path / "c").status == "reused (same sha256)"
    assert SourceIndex.open(source, tmp_path / "c").status == "reused"
    lines = vcf_lines(src)
    lines[0] = lines[0].replace("\t.\t.\t", "\t.\t.\tAF=0.123;", 1) if "AF=" not in lines[0] \
        else re.sub(r"AF=[^;]*", "AF=0.123", lines[0])
    time.sleep(0.01)
    write_vcf(sp, SRC_HEADER, lines)
    ix2 = SourceIndex.open(source, tmp_path / "c")
    assert ix2.status.startswith("rebuilt")
    other = SourceIndex.open(parse_bcftools(sp, "INFO/DP"), tmp_path / "c")
    assert other.cache_path != ix2.cache_path and other.status == "built"
    assert len(list((tmp_path / "c").iterdir())) == 2  # no temp folders left


def test_cache_beside_source_and_fallback(tmp_path, generated, monkeypatch):
    src, q, sp, qp = generated(52)
    ix = SourceIndex.open(parse_bcftools(sp, "INFO/AF"))
    assert ix.cache_path.parent == sp.parent / ".pgx-cache"
    assert (sp.parent / ".pgx-cache" / ".gitignore").read_text() == "*\n"
    # beside a read-only source (e.g. ../shared): the user cache
    from pgx.annotate import source_cache

    real = source_cache._writable_dir
    monkeypatch.setattr(source_cache, "_writable_dir",
                        lambda p: p.name != ".pgx-cache" and real(p))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    ix = SourceIndex.open(parse_bcftools(sp, "INFO/AF"))
    assert ix.cache_path.parent == tmp_path / "xdg" / "pgx" / "annotate"


def test_threads_give_identical_output(tmp_path, generated):
    src, q, sp, qp = generated(53, multi=True, n_pos=400)
    source = parse_bcftools(sp, FIELDS)
    outs = []
    for t in (1, 2):
        out = tmp_path / f"t{t}.vcf.gz"
        annotate_vcf(qp, out, [source], threads=t, cache_dir=tmp_path / "c")
        outs.append(subprocess.run(["bgzip", "-dc", str(out)], capture_output=True).stdout
                    if shutil.which("bgzip") else gzip.open(out).read())
        assert Path(str(out) + ".tbi").is_file()
    assert outs[0] == outs[1]


def test_unmatched_records_byte_for_byte(tmp_path):
    lines = ["chr1\t100\tq0\tA\tC\t50\tPASS\tQID=0;DP=5\tGT\t0/1",
             "chr2\t100\t.\tA\tC\t.\t.\t.\tGT\t1/1"]
    header = QUERY_HEADER.replace("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
                                  '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
                                  "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS")
    qp = write_vcf(tmp_path / "q.vcf.gz", header, lines)
    sp = write_vcf(tmp_path / "s.vcf.gz", SRC_HEADER, ["chr2\t100\trs9\tA\tC\t.\t.\tAF=0.5;DB"])
    out = tmp_path / "o.vcf.gz"
    annotate_vcf(qp, out, [parse_bcftools(sp, "ID,INFO/AF,INFO/DB")], cache_dir=tmp_path / "c")
    body = [l for l in gzip.open(out, "rt").read().splitlines() if not l.startswith("#")]
    assert body[0] == lines[0]
    assert body[1] == "chr2\t100\trs9\tA\tC\t.\t.\tAF=0.5;DB\tGT\t1/1"
    head = [l for l in gzip.open(out, "rt").read().splitlines() if l.startswith("##INFO=<ID=AF")]
    assert head == ['##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency '
                    '(from s: s.vcf.gz)">']


# ----------------------------------------------------------------------------- kernels

def _py_key(ref: str, alt: str):
    """Plain reference of :func:`allele_key`'s exact (packed) branch, None when hashed."""
    pos, r, a = norm(0, ref, alt)
    if len(r) + len(a) > 26 or not re.fullmatch("[ACGT]+", r + a):
        return pos, None
    bits = 0
    for c in r + a:
        bits = (bits << 2) | "ACGT".index(c)
    return pos, (len(r) << 57) | (len(a) << 52) | bits


def test_encode_alleles_against_reference():
    rng = random.Random(5)
    refs, alts, want = [], [], []
    for _ in range(3000):
        ref = "".join(rng.choice("ACGTacgtN") for _ in range(rng.randint(1, 8)))
        alt_list = ["".join(rng.choice("ACGT") for _ in range(rng.randint(1, 15)))
                    for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.05:
            alt_list = [rng.choice(["<DEL>", "*", "."])]
        refs.append(ref)
        alts.append(",".join(alt_list))
        want.append([] if alt_list == ["."] else [_py_key(ref, a) for a in alt_list])
    text = "".join(f"{r}\t{a}\n" for r, a in zip(refs, alts)).encode()
    buf = np.frombuffer(text, np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate([[0], nl[:-1] + 1])
    tabs = np.flatnonzero(buf == 9)
    pos = np.arange(len(refs), dtype=np.int64) * 100 + 1
    contig = np.where(np.arange(len(refs)) % 7 == 0, -1, 2).astype(np.int64)
    aoff, hi, lo = K.encode_alleles(buf, starts, tabs, tabs + 1, nl, pos, contig)
    for r in range(len(refs)):
        got = list(zip(hi[aoff[r]:aoff[r + 1]], lo[aoff[r]:aoff[r + 1]]))
        assert len(got) == len(want[r])
        for (h, l), (shift, key) in zip(got, want[r]):
            assert h == (-1 if contig[r] < 0 else (2 << 32) | (pos[r] + shift))
            if key is None:
                assert l < 0
            else:
                assert l == key
    # hashed keys: equal alleles (up to case and trimming) give equal keys, others differ
    h1 = K.allele_key(np.frombuffer(b"ACGTNACGTNA\tAN", np.uint8), 0, 11, 12, 14)
    h2 = K.allele_key(np.frombuffer(b"acgtnacgtna\tan", np.uint8), 0, 11, 12, 14)
    h3 = K.allele_key(np.frombuffer(b"ACGTNACGTNA\tAG", np.uint8), 0, 11, 12, 14)
    assert h1 == h2 and h1[1] < 0 and h1[1] != h3[1]


def test_join_exact_against_numpy():
    rng = np.random.default_rng(8)
    m = 20000
    s_hi = np.sort(rng.integers(0, 500, m)).astype(np.int64)
    s_lo = rng.integers(-50, 50, m).astype(np.int64)
    order = np.lexsort((s_lo, s_hi))
    s_hi, s_lo = s_hi[order], s_lo[order]
    q_hi = np.sort(rng.integers(-1, 520, 30000)).astype(np.int64)
    q_lo = rng.integers(-50, 50, 30000).astype(np.int64)
    swap = rng.random(len(q_hi)) < 0.05  # a few keys out of order
    q_hi[swap] = rng.integers(0, 500, swap.sum())
    got = K.join_exact(q_hi, q_lo, np.arange(600, dtype=np.int64), s_hi, s_lo)
    # numpy reference: lower bound over a combined key
    s_key = s_hi * 1000 + (s_lo + 500)
    q_key = q_hi * 1000 + (q_lo + 500)
    lb = np.searchsorted(s_key, q_key, "left")
    hit = (lb < m) & (s_key[np.minimum(lb, m - 1)] == q_key) & (q_hi >= 0)
    np.testing.assert_array_equal(got, np.where(hit, lb, -1))
    assert hit.sum() > 1000
    keys = np.sort(rng.integers(0, 3000, 5000)).astype(np.int64)
    q = rng.integers(0, 3100, 4000).astype(np.int64)
    contig = (np.arange(4000) % 5 == 0).astype(np.int32)  # contig 1: not in the source
    lb = np.searchsorted(keys, q, "left")
    want = np.where((contig == 0) & (lb < len(keys)) &
                    (keys[np.minimum(lb, len(keys) - 1)] == q), lb, -1)
    np.testing.assert_array_equal(
        K.join_position(contig, q, np.array([0, -1], np.int64), keys), want)


def test_splice_against_reference():
    lines = ["c\t1\t.\tA\tC\t.\t.\t.\tGT\t1", "c\t2\tx\tA\tC\t.\t.\tAF=1;DB;DP=3\tGT\t0",
             "c\t3\t.\tA\tC\t.\t.\tDB\tGT\t1", "c\t4\t.\tA\tC\t.\t.\tAF=1;AF=2;Z=1\tGT\t1"]
    buf = np.frombuffer("\n".join(lines).encode() + b"\n", np.uint8)
    from pgx.io.variant_chunk import FieldRequest
    from pgx.io.vcf_reader import _Spec, tokenize_buffer
    from pgx.io.vcf_header import parse_header

    header = parse_header("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\t"
                          "INFO\tFORMAT\tS\n")
    raw = tokenize_buffer(buf, _Spec.build(header, FieldRequest(gt=False)))
    pieces = np.frombuffer(b"rs1AF=0.5DB", np.uint8)
    ps = np.array([[0, 3, 9]] * 4, np.int64)
    pe = np.array([[3, 9, 11]] * 4, np.int64)
    state = np.array([[1, 1, 1], [0, 1, 2], [1, 0, 2], [0, 1, 3]], np.int8)
    kind = np.array([P.KIND_ID, P.KIND_A, P.KIND_FLAG], np.int8)
    names = np.frombuffer(b"IDAFDB", np.uint8)
    noff = np.array([0, 2, 4, 6], np.int64)
    out = P.splice_records(buf, raw.line_start, raw.line_end, raw.arrays["col_start"], pieces,
                           ps, pe, state, kind, names, noff)
    assert raw.status == 0
    assert bytes(out).decode().splitlines() == [
        "c\t1\trs1\tA\tC\t.\t.\tAF=0.5;DB\tGT\t1", "c\t2\tx\tA\tC\t.\t.\tAF=0.5;DP=3\tGT\t0",
        "c\t3\trs1\tA\tC\t.\t.\t.\tGT\t1", "c\t4\t.\tA\tC\t.\t.\tAF=0.5;Z=1\tGT\t1"]


# ----------------------------------------------------------------------------- bad input

def _one_line(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_unsorted_source(tmp_path):
    sp = write_vcf(tmp_path / "u.vcf.gz", SRC_HEADER, [
        "chr1\t200\t.\tA\tC\t.\t.\tAF=0.1", "chr1\t100\t.\tA\tC\t.\t.\tAF=0.2"], index=False)
    with pytest.raises(InputError) as exc:
        SourceIndex.open(parse_bcftools(sp, "INFO/AF"), tmp_path / "c")
    msg = _one_line(exc)
    assert f"{sp}:{SRC_HEADER.count(chr(10)) + 2}:" in msg and "bcftools sort" in msg
    sp2 = write_vcf(tmp_path / "u2.vcf", SRC_HEADER, [
        "chr1\t100\t.\tA\tC\t.\t.\tAF=0.1", "chr2\t100\t.\tA\tC\t.\t.\tAF=0.1",
        "chr1\t300\t.\tA\tC\t.\t.\tAF=0.2"])
    with pytest.raises(InputError) as exc:
        SourceIndex.open(parse_bcftools(sp2, "INFO/AF"), tmp_path / "c")
    assert "chromosome chr1 appears again" in _one_line(exc)
    assert not list((tmp_path / "c").iterdir())


def test_no_output_left_on_bad_input(tmp_path):
    """A malformed query record (line named) or an unsorted source: InputError, and neither
    the output nor its index is left behind."""
    sp = write_vcf(tmp_path / "s.vcf.gz", SRC_HEADER, ["chr1\t100\trs1\tA\tC\t.\t.\tAF=0.1"])
    good = [f"chr1\t{100 + i}\t.\tA\tC\t.\t.\tQID={i}" for i in range(5000)]
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, good + ["chr1\tx\t.\tA\tC\t.\t.\t."],
                   index=False)
    out = tmp_path / "o.vcf.gz"
    with pytest.raises(InputError) as exc:
        annotate_vcf(qp, out, [parse_bcftools(sp, "INFO/AF")], cache_dir=tmp_path / "c")
    assert f"{qp}:{QUERY_HEADER.count(chr(10)) + 5001}:" in _one_line(exc)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("o.vcf", ".o.vcf"))]


def test_empty_source_and_ref_only_query(tmp_path):
    sp = write_vcf(tmp_path / "s.vcf.gz", SRC_HEADER, [])
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, [
        "chr1\t100\t.\tA\t.\t.\t.\tQID=0", "chr1\t101\t.\tA\tC\t.\t.\tQID=1"])
    got = pgx_annotate(tmp_path, sp, qp, "ID,INFO/AF")
    assert got[0][1] == {"QID": "0"} and got[1][1] == {"QID": "1"}
    sp2 = write_vcf(tmp_path / "s2.vcf.gz", SRC_HEADER, ["chr1\t100\trs1\tA\t.\t.\t.\tAF=."])
    got = pgx_annotate(tmp_path, sp2, qp, "ID,INFO/AF", name="o2")
    assert got[0][0] == "." and "AF" not in got[0][1]


def test_source_without_index_is_fine(tmp_path):
    """bcftools needs the -a VCF indexed; the cache is built from a plain read."""
    sp = write_vcf(tmp_path / "s.vcf", SRC_HEADER, ["chr1\t100\trs1\tA\tC\t.\t.\tAF=0.1"])
    qp = write_vcf(tmp_path / "q.vcf.gz", QUERY_HEADER, ["chr1\t100\t.\tA\tC\t.\t.\tQID=0"])
    assert pgx_annotate(tmp_path, sp, qp, "ID,INFO/AF")[0][0] == "rs1"


def test_bad_sources(tmp_path):
    sp = write_vcf(tmp_path / "s.vcf.gz", SRC_HEADER, ["chr1\t100\trs1\tA\tC\t.\t.\tAF=x"])
    with pytest.raises(InputError) as exc:
        SourceIndex.open(parse_bcftools(sp, "INFO/AFF"), tmp_path / "c")
    msg = _one_line(exc)
    assert "INFO/AFF is not defined" in msg and "close: AF" in msg
    with pytest.raises(InputError) as exc:
        SourceIndex.open(parse_bcftools(sp, "INFO/AF"), tmp_path / "c")
    msg = _one_line(exc)
    assert f"{sp}:{SRC_HEADER.count(chr(10)) + 1}:" in msg and "'x' is not a number" in msg
    with pytest.raises(InputError) as exc:
        SourceIndex.open(parse_bcftools(tmp_path / "none.vcf.gz", "INFO/AF"), tmp_path / "c")
    assert "not found" in _one_line(exc)
    tsv = tmp_path / "t.tsv"
    tsv.write_text("chrom\tposition\tAF\nchr1\t100\t0.1\n")
    src = load_sources([{"name": "t", "file": str(tsv), "fields": [{"from": "AF"}]}])[0]
    with pytest.raises(InputError) as exc:
        SourceIndex.open(src, tmp_path / "c")
    msg = _one_line(exc)
    assert "no column named chrom: CHROM, pos: POS" in msg and "chrom, position, AF" in msg
    src = load_sources([{"name": "t", "file": str(tsv), "match": "position",
                         "columns": {"chrom": "chrom", "pos": "position"},
                         "fields": [{"from": "AFX"}]}])[0]
    with pytest.raises(InputError) as exc:
        SourceIndex.open(src, tmp_path / "c")
    assert "no column 'AFX'" in _one_line(exc)
    tsv.write_text("chrom\tposition\tAF\nchr1\t100\t0.1\nchr1\t200\n")
    src = load_sources([{"name": "t", "file": str(tsv), "match": "position",
                         "columns": {"chrom": "chrom", "pos": "position"},
                         "fields": [{"from": "AF"}]}])[0]
    with pytest.raises(InputError) as exc:
        SourceIndex.open(src, tmp_path / "c")
    assert f"{tsv}:3: 2 tab-separated columns, expected 3" in _one_line(exc)


def test_bad_config_and_columns(tmp_path):
    with pytest.raises(UsageError) as exc:
        load_sources([{"name": "x", "file": "a.vcf.gz", "fields": [{"from": "AF", "typo": 1}]}])
    assert "annotate.sources[0].fields[0]" in _one_line(exc)
    with pytest.raises(UsageError) as exc:
        load_sources([{"name": "x", "file": "a.vcf.gz", "fields": [{"from": "AF"}]},
                      {"name": "y", "file": "b.vcf.gz", "fields": [{"from": "AF"}]}])
    assert "INFO/AF is also written by source 'x'" in _one_line(exc)
    for bad in ("+INFO/AF", "FORMAT/GT", "INFO", "ID:=INFO/RS", "QUAL"):
        with pytest.raises(UsageError):
            parse_bcftools("a.vcf.gz", bad)
    src = parse_bcftools("a.vcf.gz", "ID,AF,INFO/NEW:=OLD,X:=INFO/Y,INFO/RS:=ID")
    assert [(f.source, f.name) for f in src.fields] == [
        ("ID", "ID"), ("INFO/AF", "AF"), ("INFO/OLD", "NEW"), ("INFO/Y", "X"), ("ID", "RS")]
    tsv = parse_bcftools("a.tsv.gz", "CHROM,POS,-,-,SCORE")
    assert tsv.match == "position" and tsv.column_names == ("CHROM", "POS", "-3", "-4", "SCORE")
    assert parse_bcftools("a.vcf.gz", "AF", pair_logic="all").match == "position"


def test_schema_validates_config_list():
    import yaml

    doc = yaml.safe_load("""
annotate:
  sources:
    - name: kg
      file: data/kg.vcf.gz
      match: exact
      fields:
        - {from: ID, to: ID}
        - {from: INFO/AF_EUR, to: KG_AF_EUR, type: Float, number: A}
    - name: clinvar
      file: clinvar.tsv.gz
      format: tsv
      columns: {chrom: CHROM, pos: POS, ref: REF, alt: ALT}
      fields:
        - {from: CLNSIG, number: "."}
""")
    sources = load_sources(doc["annotate"], base_dir="/cfg")
    assert [s.name for s in sources] == ["kg", "clinvar"]
    assert sources[0].file == Path("/cfg/data/kg.vcf.gz") and sources[1].format == "tsv"
    assert sources[0].fields[1].name == "KG_AF_EUR" and sources[0].fields[1].number == "A"


# ----------------------------------------------------------------------------- AOT

_RUN = """
import json, sys
from pgx.annotate.transfer import main
from pgx.annotate import transfer_build_numba_fns as B, transfer_numba_fns as K
from pgx.annotate import transfer_pieces_numba_fns as P
code = main(sys.argv[1:])
kernels = [K.encode_vcf_alleles, K.join_exact, K.prefer_whole_records, P.info_pieces,
           P.splice_records, B.vcf_info_spans, B.encode_cells, K.encode_alleles]
print(json.dumps({"code": code, "numba": "numba" in sys.modules,
                  "backends": {k.__name__: k.backend for k in kernels}}))
"""


@pytest.fixture(scope="module")
def aot_build(tmp_path_factory):
    """The checkout's AOT build when current (``make kernels``), else a fresh one."""
    import sysconfig

    from pgx import _numba

    if _numba.current_aot_build(_numba.AOT_DIR):
        return _numba.AOT_DIR
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if (shutil.which("cc") is None and shutil.which("gcc") is None) or not headers.is_file():
        pytest.skip("no C compiler or Python headers: the AOT kernels cannot be built here")
    from pgx._aot_build import build

    out = tmp_path_factory.mktemp("aot")
    build(out)
    return out


@pytest.mark.slow
def test_aot_kernels_same_output_without_numba(tmp_path, generated, aot_build):
    """With the ahead-of-time build the transfer (cache build included) imports no numba and
    writes the same bytes as the JIT."""
    import json
    import sys

    src, q, sp, qp = generated(61, multi=True)
    outs = {}
    for mode, extra in (("aot", {"PGX_AOT_DIR": str(aot_build)}), ("jit", {"PGX_KERNELS": "jit"})):
        env = {k: v for k, v in os.environ.items() if k not in ("PGX_KERNELS", "PGX_AOT_DIR")}
        env.update(extra)
        out = tmp_path / f"{mode}.vcf.gz"
        proc = subprocess.run([sys.executable, "-c", _RUN, "-a", str(sp), "-c", FIELDS,
                               "--cache-dir", str(tmp_path / mode), "--threads", "2", "-o",
                               str(out), str(qp)], capture_output=True, text=True, env=env,
                              cwd=Path(__file__).resolve().parents[1])
        assert proc.returncode == 0, proc.stderr
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        assert res["code"] == 0
        if mode == "aot":
            assert not res["numba"] and set(res["backends"].values()) == {"aot"}, res
        outs[mode] = gzip.open(out).read()
    assert outs["aot"] == outs["jit"]
