"""Bad input gets a clear error and loses nothing, through the real ``pgx call`` command line.

Every case writes a real bad file into ``tmp_path`` (VCF text, compressed and indexed with
pysam's htslib, BCF with bcftools), runs ``python -m pgx call`` and asserts:

* the exit status: 3 for bad input, 2 for usage errors;
* stderr is exactly ONE line that names the file (and the line, where the case allows it) and
  says how to fix it (htslib's own logging must not leak through);
* OUTDIR got no new file: it holds a file from an earlier run, which must stay alone (no
  ``calls.tsv``, no JSON, no ``*.tmp`` leftovers).

Positive controls (a small unindexed file is streamed; one sample split by chromosome over two
files is merged) show the checks do not reject good input.
"""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

from pgx.definitions.embedded import load_embedded

REPO = Path(__file__).resolve().parents[1]
BCFTOOLS = shutil.which("bcftools")
needs_bcftools = pytest.mark.skipif(BCFTOOLS is None, reason="bcftools not installed")

# ============================================================================ test data
_PANEL = load_embedded()
_CHROM_ORDER = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY", "chrM"]


def _sites() -> list[tuple[str, int, str, str]]:
    """(chrom, pos, ref, alt) of every defined position of the embedded panel, sorted."""
    sites = {}
    for g in _PANEL.genes.values():
        if g.vcf_callable:
            for v in g.variants:
                sites.setdefault((v.chrom, v.position), (v.ref, v.alts[0] if v.alts else "N"))
    return sorted(((c, p, r, a) for (c, p), (r, a) in sites.items()),
                  key=lambda s: (_CHROM_ORDER.index(s[0]), s[1]))


SITES = _sites()
GT_HEADER = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">'


def header(samples=("S1",), contigs=True, extra=(), gt=True, contig_lines=None) -> list[str]:
    lines = ["##fileformat=VCFv4.2", '##FILTER=<ID=PASS,Description="All filters passed">']
    if contig_lines is not None:
        lines += contig_lines
    elif contigs:
        lines += [f"##contig=<ID={c}>" for c in dict.fromkeys(s[0] for s in SITES)]
    if gt:
        lines.append(GT_HEADER)
    lines += list(extra)
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                            "FORMAT", *samples]))
    return lines


def records(sites=None, gts=("0/0",), fmt="GT", info=".") -> list[str]:
    return ["\t".join([c, str(p), ".", r, a, ".", "PASS", info, fmt, *gts])
            for c, p, r, a in (SITES if sites is None else sites)]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def bgzip(path: Path, index: bool = False) -> Path:
    """Compress with htslib's BGZF (pysam), optionally with a .tbi index."""
    gz = Path(str(path) + ".gz")
    pysam.tabix_compress(str(path), str(gz), force=True)
    if index:
        pysam.tabix_index(str(gz), preset="vcf", force=True)
    return gz


def good_vcf(tmp_path: Path, name: str = "good.vcf", samples=("S1",), sites=None) -> Path:
    return write(tmp_path / name, header(samples) + records(sites, gts=["0/0"] * len(samples)))


# ============================================================================ running pgx
@pytest.fixture
def outdir(tmp_path) -> Path:
    """An OUTDIR that already holds a file from an earlier run."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.txt").write_text("from an earlier run\n")
    return out


def pgx_call(outdir: Path, *args, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("CYVCF2_HTSLIB_LOG_LEVEL", None)
    env.pop("PGX_STREAM_LIMIT_BYTES", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "pgx", "call", "-q", "-o", str(outdir),
                           *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=120)


def assert_rejected(proc, outdir: Path, path, *fix: str, code: int = 3, line: int | None = None):
    """Exit ``code``; stderr one line naming ``path`` (and ``line``) and containing every
    ``fix`` phrase; OUTDIR unchanged (no outputs, no temporaries)."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"stderr must be one line:\n{proc.stderr}"
    msg = lines[0]
    assert msg.startswith("pgx call: error: "), msg
    assert "Traceback" not in proc.stderr
    if path is not None:
        assert Path(path).name in msg, f"message does not name {Path(path).name}: {msg}"
    if line is not None:
        assert f"{Path(path).name}:{line}:" in msg, f"message does not name line {line}: {msg}"
    for phrase in fix:
        assert phrase.lower() in msg.lower(), f"{phrase!r} not in: {msg}"
    assert sorted(p.name for p in outdir.iterdir()) == ["earlier.txt"], \
        f"OUTDIR changed: {sorted(p.name for p in outdir.iterdir())}"
    assert (outdir / "earlier.txt").read_text() == "from an earlier run\n"
    return msg


def assert_called(proc, outdir: Path) -> str:
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    assert not [p for p in outdir.iterdir() if p.name.endswith(".tmp")]
    return (outdir / "calls.tsv").read_text()


# ============================================================================ broken files
def test_truncated_bgzip(tmp_path, outdir):
    gz = bgzip(good_vcf(tmp_path))
    data = gz.read_bytes()
    gz.write_bytes(data[: len(data) // 2])
    assert_rejected(pgx_call(outdir, gz), outdir, gz, "truncated", "re-create")


def test_plain_gzip_is_not_bgzip(tmp_path, outdir):
    vcf = good_vcf(tmp_path)
    gz = tmp_path / "plain.vcf.gz"
    gz.write_bytes(gzip.compress(vcf.read_bytes()))
    assert_rejected(pgx_call(outdir, gz), outdir, gz, "not BGZF", "bgzip")


def test_other_compression(tmp_path, outdir):
    import bz2

    path = tmp_path / "sample.vcf.bz2"
    path.write_bytes(bz2.compress(good_vcf(tmp_path).read_bytes()))
    assert_rejected(pgx_call(outdir, path), outdir, path, "bzip2", "bgzip")


def test_empty_file(tmp_path, outdir):
    path = tmp_path / "empty.vcf"
    path.write_bytes(b"")
    assert_rejected(pgx_call(outdir, path), outdir, path, "empty", "pass a VCF")


def test_text_file_that_is_not_a_vcf(tmp_path, outdir):
    path = tmp_path / "notes.vcf"
    path.write_text("sample\tgene\nS1\tCYP2C19\n")
    assert_rejected(pgx_call(outdir, path), outdir, path, "not a VCF", "##fileformat=VCF",
                    line=1)


def test_missing_file(tmp_path, outdir):
    path = tmp_path / "nowhere.vcf.gz"
    assert_rejected(pgx_call(outdir, path), outdir, path, "no such file", "check the path")


@pytest.mark.parametrize("form", ["vcf", "vcf.gz+tbi"])
def test_header_only_vcf(tmp_path, outdir, form):
    path = write(tmp_path / "header_only.vcf", header())
    if form != "vcf":
        path = bgzip(path, index=True)
    assert_rejected(pgx_call(outdir, path), outdir, path, "no variant records",
                    "with its genotype records")


def test_incomplete_header(tmp_path, outdir):
    lines = header()[:-1] + records()  # the #CHROM line is missing
    path = write(tmp_path / "no_chrom_line.vcf", lines)
    first_data_line = len(lines) - len(SITES) + 1
    assert_rejected(pgx_call(outdir, path), outdir, path, "#CHROM", line=first_data_line)


# ============================================================================ index
def test_missing_index_for_a_large_compressed_file(tmp_path, outdir):
    gz = bgzip(good_vcf(tmp_path))
    limit = gz.stat().st_size - 1  # the file is over the streaming limit
    proc = pgx_call(outdir, gz, env_extra={"PGX_STREAM_LIMIT_BYTES": str(limit)})
    assert_rejected(proc, outdir, gz, "no index", f"bcftools index -t {gz}", "tabix -p vcf")


@needs_bcftools
def test_missing_index_for_a_large_bcf(tmp_path, outdir):
    bcf = tmp_path / "good.bcf"
    subprocess.run([BCFTOOLS, "view", "-Ob", "-o", str(bcf), str(good_vcf(tmp_path))],
                   check=True, capture_output=True)
    proc = pgx_call(outdir, bcf, env_extra={"PGX_STREAM_LIMIT_BYTES": "100"})
    assert_rejected(proc, outdir, bcf, "no index", f"bcftools index {bcf}")


def test_small_compressed_file_without_index_is_streamed(tmp_path, outdir):
    body = records()
    body.insert(5, body[4])  # an identical repeat of a record loses nothing: accepted
    gz = bgzip(write(tmp_path / "good.vcf", header() + body))
    assert not Path(str(gz) + ".tbi").exists()
    tsv = assert_called(pgx_call(outdir, gz), outdir)
    assert "\tCYP2C19\t" in tsv and "\tcalled\t" in tsv


def test_invalid_stream_limit_variable(tmp_path, outdir):
    gz = bgzip(good_vcf(tmp_path))
    proc = pgx_call(outdir, gz, env_extra={"PGX_STREAM_LIMIT_BYTES": "lots"})
    assert_rejected(proc, outdir, None, "PGX_STREAM_LIMIT_BYTES", "integer", code=2)


def test_corrupt_index(tmp_path, outdir):
    gz = bgzip(good_vcf(tmp_path))
    Path(str(gz) + ".tbi").write_bytes(b"not an index" * 20)
    assert_rejected(pgx_call(outdir, gz), outdir, gz, "index", f"bcftools index -f -t {gz}")


# ============================================================================ genotypes
def test_no_gt_in_format_header(tmp_path, outdir):
    dp = '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">'
    path = write(tmp_path / "depth_only.vcf", header(gt=False, extra=[dp]) +
                 records(gts=["31"], fmt="DP"))
    assert_rejected(pgx_call(outdir, path), outdir, path, "no FORMAT/GT", "genotyped VCF")


def test_record_without_gt(tmp_path, outdir):
    dp = '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">'
    head = header(extra=[dp])
    body = records()
    body[5] = records(SITES[5:6], gts=["31"], fmt="DP")[0]
    path = write(tmp_path / "one_without_gt.vcf", head + body)
    assert_rejected(pgx_call(outdir, path), outdir, path, "without GT", "needs a GT",
                    line=len(head) + 6)


def test_genotype_allele_beyond_alts(tmp_path, outdir):
    head, body = header(), records()
    body[2] = records(SITES[2:3], gts=["0/3"])[0]
    path = write(tmp_path / "allele3.vcf", head + body)
    assert_rejected(pgx_call(outdir, path), outdir, path, "GT allele 3", "fix the GT",
                    line=len(head) + 3)


def test_genotype_with_more_than_two_alleles(tmp_path, outdir):
    head, body = header(), records()
    body[8] = records(SITES[8:9], gts=["0/1/1"])[0]
    path = bgzip(write(tmp_path / "triploid.vcf", head + body))
    assert_rejected(pgx_call(outdir, path), outdir, path, "more than 2 alleles", "fix the GT",
                    line=len(head) + 9)


# ============================================================================ genome build
def test_grch37_by_contig_length(tmp_path, outdir):
    contigs = [f"##contig=<ID={c}>" for c in dict.fromkeys(s[0] for s in SITES)]
    contigs = [c.replace("<ID=chr10>", "<ID=chr10,length=135534747>") for c in contigs]
    path = write(tmp_path / "hg19.vcf", header(contig_lines=contigs) + records())
    assert_rejected(pgx_call(outdir, path), outdir, path, "GRCh37", "lift", "GRCh38")


def test_other_build_by_contig_length(tmp_path, outdir):
    contigs = ["##contig=<ID=chr10,length=134758134>"]  # T2T-CHM13 chr10
    path = write(tmp_path / "chm13.vcf", header(contig_lines=contigs) +
                 records([s for s in SITES if s[0] == "chr10"]))
    assert_rejected(pgx_call(outdir, path), outdir, path, "not on GRCh38", "lift")


def test_grch37_by_ref_mismatches_without_contig_lengths(tmp_path, outdir):
    # a GRCh37 file whose records happen to sit at the GRCh38 defined positions: wrong REFs
    other = {"A": "C", "C": "G", "G": "T", "T": "A"}
    wrong = [(c, p, other.get(r[0], "A"), "N" if a == other.get(r[0], "A") else a)
             for c, p, r, a in SITES]
    path = write(tmp_path / "b37_no_lengths.vcf", header() + records(wrong))
    assert_rejected(pgx_call(outdir, path), outdir, path, "REF alleles disagree with GRCh38",
                    "lift it over")


def test_grch37_by_reference_header_line(tmp_path, outdir):
    ref = "##reference=file:///refs/human_g1k_v37.fasta"
    path = write(tmp_path / "b37_reference.vcf", header(extra=[ref]) + records())
    assert_rejected(pgx_call(outdir, path), outdir, path, "older genome build", "lift")


@pytest.mark.parametrize("declared", [True, False])
def test_contigs_that_are_not_chromosome_names(tmp_path, outdir, declared):
    chr10 = [s for s in SITES if s[0] == "chr10"]
    refseq = [("NC_000010.11", p, r, a) for _, p, r, a in chr10]
    contigs = ["##contig=<ID=NC_000010.11>"] if declared else []
    path = write(tmp_path / "refseq.vcf", header(contig_lines=contigs) + records(refseq))
    assert_rejected(pgx_call(outdir, path), outdir, path, "NC_000010.11",
                    "not chromosome names", "bcftools annotate --rename-chrs")


# ============================================================================ samples
def test_duplicate_sample_names(tmp_path, outdir):
    head = header(samples=("S1", "S2", "S1"))
    path = write(tmp_path / "dup_samples.vcf", head + records(gts=["0/0"] * 3))
    assert_rejected(pgx_call(outdir, path), outdir, path, "duplicate sample name 'S1'",
                    "bcftools reheader", line=len(head))


def test_same_sample_at_same_position_in_two_files(tmp_path, outdir):
    chr10 = [s for s in SITES if s[0] == "chr10"]
    a = good_vcf(tmp_path, "part_a.vcf", sites=chr10)
    b = good_vcf(tmp_path, "part_b.vcf", sites=chr10[:3])
    msg = assert_rejected(pgx_call(outdir, a, b), outdir, b, "also has a genotype",
                          "in one file only")
    assert a.name in msg


def test_same_sample_split_by_chromosome_is_merged(tmp_path, outdir):
    a = good_vcf(tmp_path, "chr10.vcf", sites=[s for s in SITES if s[0] == "chr10"])
    b = bgzip(good_vcf(tmp_path, "rest.vcf", sites=[s for s in SITES if s[0] != "chr10"]),
              index=True)
    tsv = assert_called(pgx_call(outdir, a, b), outdir)
    rows = {r.split("\t")[1]: r.split("\t") for r in tsv.splitlines()[1:]}
    assert rows["CYP2C19"][6] == "called" and rows["CYP2C9"][6] == "called"  # chr10 file
    assert rows["DPYD"][6] == "called" and rows["TPMT"][6] == "called"  # the other file
    assert {r[0] for r in rows.values()} == {"S1"}


def test_same_file_given_twice(tmp_path, outdir):
    vcf = good_vcf(tmp_path)
    assert_rejected(pgx_call(outdir, vcf, vcf), outdir, vcf, "given twice", "once", code=2)


def test_unknown_sample(tmp_path, outdir):
    vcf = good_vcf(tmp_path, samples=("NA12878", "NA12891"))
    proc = pgx_call(outdir, "--sample", "NA12892", vcf)
    msg = assert_rejected(proc, outdir, vcf, "'NA12892' not found", "fix --sample")
    assert "NA12878" in msg


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "ctl\x01char"])
def test_sample_name_unusable_in_file_names(tmp_path, outdir, name):
    vcf = good_vcf(tmp_path, "odd_names.vcf", samples=(name,))
    proc = pgx_call(outdir, vcf)
    assert proc.returncode in (2, 3)
    assert_rejected(proc, outdir, vcf, "cannot be used in an output file name",
                    "bcftools reheader", code=proc.returncode)
    assert not (tmp_path / "evil.calls.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd_names.vcf", "out"]


# ============================================================================ gVCF
@pytest.mark.parametrize("form", ["vcf", "vcf.gz+tbi"])
def test_gvcf_reference_blocks(tmp_path, outdir, form):
    extra = ['##INFO=<ID=END,Number=1,Type=Integer,Description="End of the block">',
             '##ALT=<ID=NON_REF,Description="Any other allele">']
    blocks = ["\t".join([c, str(p), ".", r, "<NON_REF>", ".", "PASS", f"END={p + 50}", "GT",
                         "0/0"]) for c, p, r, _ in SITES[::7]]
    head = header(extra=extra)
    path = write(tmp_path / "sample.g.vcf", head + blocks)
    if form != "vcf":
        path = bgzip(path, index=True)
    assert_rejected(pgx_call(outdir, path), outdir, path, "gVCF reference blocks",
                    "bcftools convert --gvcf2vcf",
                    line=len(head) + 1 if form == "vcf" else None)


# ============================================================================ malformed lines
@pytest.mark.parametrize("compressed", [False, True])
def test_wrong_column_count(tmp_path, outdir, compressed):
    head, body = header(), records()
    body[9] = "\t".join(body[9].split("\t")[:7])
    path = write(tmp_path / "short_line.vcf", head + body)
    if compressed:
        path = bgzip(path)
    assert_rejected(pgx_call(outdir, path), outdir, path, "7 tab-separated column(s)",
                    "expected 10", "fix the line", line=len(head) + 10)


def test_non_numeric_pos(tmp_path, outdir):
    head, body = header(), records()
    cols = body[4].split("\t")
    cols[1] = "97O79071"
    body[4] = "\t".join(cols)
    path = write(tmp_path / "bad_pos.vcf", head + body)
    assert_rejected(pgx_call(outdir, path), outdir, path, "POS '97O79071'", "fix the line",
                    line=len(head) + 5)


def test_space_separated_line(tmp_path, outdir):
    head, body = header(), records()
    body[0] = body[0].replace("\t", " ")
    path = write(tmp_path / "spaces.vcf", head + body)
    assert_rejected(pgx_call(outdir, path), outdir, path, "1 tab-separated column(s)",
                    "separated by single tabs", line=len(head) + 1)


def test_blank_line_among_records(tmp_path, outdir):
    head, body = header(), records()
    path = write(tmp_path / "blank.vcf", head + body[:3] + [""] + body[3:])
    assert_rejected(pgx_call(outdir, path), outdir, path, "blank line", "remove it",
                    line=len(head) + 4)


@pytest.mark.parametrize("form", ["vcf", "vcf.gz", "vcf.gz+tbi"])
def test_unparsable_genotype(tmp_path, outdir, form):
    head, body = header(), records()
    chrom, pos = SITES[6][:2]
    body[6] = records(SITES[6:7], gts=["0/x"])[0]
    path = write(tmp_path / "bad_gt.vcf", head + body)
    if form != "vcf":
        path = bgzip(path, index=form.endswith("tbi"))
    msg = assert_rejected(pgx_call(outdir, path), outdir, path, "genotype '0/x'",
                          "not a valid GT", line=len(head) + 7 if "tbi" not in form else None)
    if "tbi" in form:  # read by region: no line number, the record's position instead
        assert f"record {chrom}:{pos}" in msg


def test_repeated_record_with_other_genotypes(tmp_path, outdir):
    head, body = header(), records()
    repeat = records(SITES[3:4], gts=["0/1"])[0]
    path = write(tmp_path / "repeat.vcf", head + body[:4] + [repeat] + body[4:])
    msg = assert_rejected(pgx_call(outdir, path), outdir, path, "repeated", "keep one",
                          line=len(head) + 5)
    assert f"line {len(head) + 4}" in msg


# ============================================================================ other inputs
def test_outside_calls_wrong_column_count(tmp_path, outdir):
    tsv = tmp_path / "outside.tsv"
    tsv.write_text("CYP2D6\t*1/*4\tIntermediate Metabolizer\t1.0\textra\n")
    proc = pgx_call(outdir, "--outside-calls", tsv, good_vcf(tmp_path))
    assert_rejected(proc, outdir, tsv, "5 columns", "tab-separated gene, diplotype", line=1)


def test_outside_calls_duplicate_gene(tmp_path, outdir):
    tsv = tmp_path / "outside.tsv"
    tsv.write_text("CYP2D6\t*1/*4\nHLA-B\t*57:01/*08:01\nCYP2D6\t*1/*1\n")
    proc = pgx_call(outdir, "--outside-calls", tsv, good_vcf(tmp_path))
    assert_rejected(proc, outdir, tsv, "CYP2D6 given twice", "one line per gene", line=3)


def test_outside_calls_missing_file(tmp_path, outdir):
    tsv = tmp_path / "no_such_outside.tsv"
    proc = pgx_call(outdir, "--outside-calls", tsv, good_vcf(tmp_path))
    assert_rejected(proc, outdir, tsv, "not found", "check the path")


def test_definitions_directory_without_definitions(tmp_path, outdir):
    defs = tmp_path / "my_definitions"
    defs.mkdir()
    (defs / "README.txt").write_text("nothing here\n")
    proc = pgx_call(outdir, "--definitions", defs, good_vcf(tmp_path))
    assert_rejected(proc, outdir, defs, "no allele definitions", "_translation.json",
                    "leave it out")


# ============================================================================ usage errors
def test_usage_no_vcf(tmp_path, outdir):
    proc = pgx_call(outdir)
    assert proc.returncode == 2
    assert "VCF" in proc.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in outdir.iterdir()) == ["earlier.txt"]


def test_usage_unknown_option(tmp_path, outdir):
    proc = pgx_call(outdir, "--frobnicate", good_vcf(tmp_path))
    assert proc.returncode == 2
    assert "--frobnicate" in proc.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in outdir.iterdir()) == ["earlier.txt"]


@pytest.mark.parametrize("template", ["../{sample}.json", "sub/{sample}.json", "calls.tsv",
                                      "{sample}.{gene}.json"])
def test_usage_bad_json_name(tmp_path, outdir, template):
    proc = pgx_call(outdir, "--json-name", template, good_vcf(tmp_path))
    assert_rejected(proc, outdir, None, "--json-name", code=2)


def test_usage_output_is_a_file(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("keep me\n")
    proc = pgx_call(target, good_vcf(tmp_path))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "not a directory" in proc.stderr
    assert target.read_text() == "keep me\n"


def test_failed_run_does_not_create_outdir(tmp_path):
    out = tmp_path / "new_out"
    path = write(tmp_path / "header_only.vcf", header())
    proc = pgx_call(out, path)
    assert proc.returncode == 3 and not out.exists()
