"""``pgx filter`` through its command line, as a lab would run it, against real bcftools.

Covers: kept records and masked genotypes equal to ``bcftools view -i/-e`` and ``bcftools
+setGT -- -t q -n . -i``; the stats JSON (schema, counts); output formats (VCF.gz + .tbi, BCF +
.csi, plain VCF) read back by bcftools; presets from config/config.yaml; the header record that
``pgx call`` copies into its calls; bad input (exit 3, one line naming file:line and the fix, no
output left behind) and bad expressions (exit 2, the column).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

from pgx.documents import validator

REPO = Path(__file__).resolve().parents[1]
PGX = [sys.executable, "-m", "pgx"]
BCFTOOLS = shutil.which("bcftools")
needs_bcftools = pytest.mark.skipif(BCFTOOLS is None, reason="bcftools not installed")

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=LowQual,Description="Low quality">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr2,length=242193529>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC
"""
RECORDS = [  # id, chrom, pos, ref, alt, qual, filter, info, A, B, C
    ("r1", "chr1", 100, "A", "G", "50", "PASS", "DP=30;AF=0.5", "0/1:40:20", "0/0:10:5", "1/1:99:30"),
    ("r2", "chr1", 200, "C", "T,A", "12.5", "LowQual", "DP=8;AF=0.1,0.2", "1/2:15:9", "./.:.:.", "0|1:30:12"),
    ("r3", "chr1", 300, "GT", "G", ".", "PASS", "DP=50;AF=.", "0/0:50:40", "0/1:19:7", "1:60:30"),
    ("r4", "chr1", 400, "T", "C", "99", ".", "AF=0.3", "0|0:.:25", "1|0:70:.", "0/1:21:8"),
    ("r5", "chr2", 150, "A", "AT", "35", "PASS", "DP=12;AF=0.4", "0/1:25:10", "1/1:5:3", "0/0:80:45"),
    ("r6", "chr2", 250, "G", "A", "29.9", "PASS", "DP=100;AF=0.9", "1/1:99:60", "0/1:99:60", "./.:.:."),
]


def vcf_text(records=RECORDS) -> str:
    lines = [f"{c}\t{p}\t{i}\t{r}\t{a}\t{q}\t{f}\t{info}\tGT:GQ:DP\t{s1}\t{s2}\t{s3}"
             for i, c, p, r, a, q, f, info, s1, s2, s3 in records]
    return HEADER + "\n".join(lines) + "\n"


def write_vcf_gz(path: Path, text: str) -> Path:
    plain = path.with_suffix("")  # x.vcf
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    plain.unlink()
    return path


@pytest.fixture
def small_vcf(tmp_path) -> Path:
    return write_vcf_gz(tmp_path / "in.vcf.gz", vcf_text())


def run_pgx(*args, cwd=None):
    return subprocess.run([*PGX, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def bcftools(*args) -> str:
    return subprocess.run([BCFTOOLS, *map(str, args)], capture_output=True, text=True,
                          check=True).stdout


def records_and_gts(path: Path) -> list[str]:
    return bcftools("query", "-f", "%ID[\t%GT]\n", path).splitlines()


# ============================================================================ vs bcftools
SITE_EXPRESSIONS = [
    ("-i", "QUAL>=30"),
    ("-e", "QUAL<30"),
    ("-i", 'FILTER="PASS"'),
    ("-i", "INFO/DP>=10 && FMT/GQ>=20"),
    ("-e", "FMT/DP<8"),
    ("-i", 'GT="het"'),
    ("-i", 'TYPE="snp" && N_ALT==1'),
]


@needs_bcftools
@pytest.mark.parametrize("option,expr", SITE_EXPRESSIONS)
def test_site_filter_matches_bcftools_view(small_vcf, tmp_path, option, expr):
    out = tmp_path / "out.vcf.gz"
    proc = run_pgx("filter", "-q", option, expr, "-o", out, small_vcf)
    assert proc.returncode == 0, proc.stderr
    expected = tmp_path / "bcftools.vcf.gz"
    bcftools("view", option, expr, "-Oz", "-o", expected, small_vcf)
    assert records_and_gts(out) == records_and_gts(expected)


@needs_bcftools
@pytest.mark.parametrize("expr", ["FMT/GQ<20 || FMT/DP<8", "FMT/GQ<20", 'GT="het" && FMT/DP<10'])
def test_genotype_mask_matches_setgt(small_vcf, tmp_path, expr):
    out = tmp_path / "out.vcf.gz"
    proc = run_pgx("filter", "-q", "--set-gt-missing", expr, "-o", out, small_vcf)
    assert proc.returncode == 0, proc.stderr
    expected = tmp_path / "setgt.vcf.gz"
    bcftools("+setGT", small_vcf, "-Oz", "-o", expected, "--", "-t", "q", "-n", ".", "-i", expr)
    assert records_and_gts(out) == records_and_gts(expected)
    # the other FORMAT values are untouched
    assert bcftools("query", "-f", "[%GQ:%DP ]\n", out) == \
        bcftools("query", "-f", "[%GQ:%DP ]\n", small_vcf)


# ============================================================================ outputs, stats
def test_stats_json(small_vcf, tmp_path):
    out = tmp_path / "out.vcf.gz"
    proc = run_pgx("filter", "-q", "-i", "QUAL>=30 && INFO/DP>=10", "--set-gt-missing",
                   "FMT/GQ<20", "-o", out, small_vcf)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads((tmp_path / "out.vcf.gz.stats.json").read_text())
    assert not list(validator("filter_stats.schema.json").iter_errors(stats))
    # kept: r1 (50, DP 30), r5 (35, DP 12); r4 has no DP, r3 no QUAL, r2/r6 QUAL < 30
    assert (stats["records_in"], stats["records_out"], stats["records_removed"]) == (6, 2, 4)
    assert stats["clauses"] == [{"clause": "QUAL>=30", "records_failing": 3},
                                {"clause": "INFO/DP>=10", "records_failing": 2}]
    # GQ<20 among kept records: r1 B (0/0:10) and r5 B (1/1:5)
    assert stats["genotypes_masked"] == 2
    assert stats["genotypes_in"] == 2 * 3
    with pysam.VariantFile(str(out)) as vf:
        assert [(r.id, [s["GT"] for s in r.samples.values()]) for r in vf] == [
            ("r1", [(0, 1), (None, None), (1, 1)]), ("r5", [(0, 1), (None, None), (0, 0)])]


@needs_bcftools
@pytest.mark.parametrize("name,otype,index", [("out.vcf.gz", "z", ".tbi"),
                                              ("out.bcf", "b", ".csi"), ("out.vcf", "v", None)])
def test_output_formats_read_by_bcftools(small_vcf, tmp_path, name, otype, index):
    out = tmp_path / name
    proc = run_pgx("filter", "-q", "-e", "QUAL<30", "-o", out, small_vcf)
    assert proc.returncode == 0, proc.stderr
    assert records_and_gts(out) == [r for r in records_and_gts(small_vcf)
                                    if r.split("\t")[0] in ("r1", "r3", "r4", "r5")]
    if index:
        assert Path(str(out) + index).is_file()
        region = bcftools("view", "-H", "-r", "chr2", out).splitlines()
        assert [line.split("\t")[2] for line in region] == ["r5"]
    header = bcftools("view", "-h", out)
    assert '##pgx_filter={"version"' in header and '"exclude":"QUAL<30"' in header
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_threads_give_the_same_output(small_vcf, tmp_path):
    outs = []
    for t in (1, 2):
        out = tmp_path / f"t{t}.vcf"
        proc = run_pgx("filter", "-q", "--threads", t, "-i", "FMT/GQ>=20", "--set-gt-missing",
                       "FMT/DP<10", "-o", out, small_vcf)
        assert proc.returncode == 0, proc.stderr
        outs.append([line for line in out.read_text().splitlines()
                     if not line.startswith("##pgx_filterCommand")])
    assert outs[0] == outs[1]


def test_preset_from_config(small_vcf, tmp_path):
    out = tmp_path / "out.vcf.gz"
    proc = run_pgx("filter", "-q", "--preset", "wgs_default", "-o", out, small_vcf, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(Path(str(out) + ".stats.json").read_text())
    assert stats["preset"] == "wgs_default"
    assert stats["exclude"] == "QUAL<20" and stats["set_gt_missing"] == "FMT/GQ<20 || FMT/DP<8"
    proc = run_pgx("filter", "--preset", "nope", "-o", tmp_path / "x.vcf.gz", small_vcf, cwd=REPO)
    assert proc.returncode == 2 and "known: array_default, wgs_default" in proc.stderr


# ============================================================================ calls record it
def test_calls_record_the_filter_and_masked_positions_are_missing(tmp_path):
    demo = REPO / "resources" / "demo" / "DEMO005.vcf.gz"
    filtered = tmp_path / "DEMO005.filtered.vcf.gz"
    proc = run_pgx("filter", "-q", "--preset", "wgs_default", "-o", filtered, demo, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(Path(str(filtered) + ".stats.json").read_text())
    assert stats["genotypes_masked"] == 1  # the demo's one low-quality genotype (GQ 12, DP 5)
    outdir = tmp_path / "calls"
    proc = run_pgx("call", "-q", "-o", outdir, filtered)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((outdir / "DEMO005.calls.json").read_text())
    assert doc["input_filters"] == [{
        "input": str(filtered), "tool": "pgx filter", "version": doc["pipeline"]["version"],
        "preset": "wgs_default", "include": None, "exclude": "QUAL<20",
        "set_gt_missing": "FMT/GQ<20 || FMT/DP<8", "source": str(demo)}]
    nat2 = next(g for g in doc["genes"] if g["gene"] == "NAT2")
    assert any(m.startswith("chr8:18400593") for m in nat2["missing_positions"])
    # unfiltered, the same position is read as the genotype it has (0/0)
    proc = run_pgx("call", "-q", "-o", tmp_path / "raw", demo)
    raw = json.loads((tmp_path / "raw" / "DEMO005.calls.json").read_text())
    nat2_raw = next(g for g in raw["genes"] if g["gene"] == "NAT2")
    assert not any(m.startswith("chr8:18400593") for m in nat2_raw["missing_positions"])
    assert raw["input_filters"] == []


# ============================================================================ bad input
def _assert_clean_failure(proc, tmp_path, code, *fragments):
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(("out", "."))]
    assert not leftovers, leftovers


@pytest.mark.parametrize("bad_line,why", [
    ("chr2\t300\tr7\tA\tG\t50\tPASS\tDP=3\tGT:GQ:DP\t0/1:30:9\t0/0:30:9", "column"),
    ("chr2\t300\tr7\tA\tG\thigh\tPASS\tDP=3\tGT:GQ:DP\t0/1:30:9\t0/0:30:9\t0/0:30:9", "QUAL"),
    ("chr2\tx300\tr7\tA\tG\t50\tPASS\tDP=3\tGT:GQ:DP\t0/1:30:9\t0/0:30:9\t0/0:30:9", "POS"),
])
def test_malformed_line_names_file_and_line(tmp_path, bad_line, why):
    text = vcf_text() + bad_line + "\n"
    src = tmp_path / "in.vcf"
    src.write_text(text)
    line_no = text.count("\n")
    proc = run_pgx("filter", "-i", "QUAL>=30", "-o", tmp_path / "out.vcf.gz", src)
    _assert_clean_failure(proc, tmp_path, 3, f"{src}:{line_no}:", why)


@pytest.mark.parametrize("expr,column,what", [
    ("INFO/XX>3", 1, "XX"),
    ("QUAL>=3O", 8, ""),
    ("FMT/GQ>=20 && (QUAL>", 21, "ends too early"),
])
def test_bad_expression_points_at_column(small_vcf, tmp_path, expr, column, what):
    proc = run_pgx("filter", "-i", expr, "-o", tmp_path / "out.vcf.gz", small_vcf)
    _assert_clean_failure(proc, tmp_path, 2, f"column {column}", what)


def test_include_and_exclude_together_is_a_usage_error(small_vcf, tmp_path):
    proc = run_pgx("filter", "-i", "QUAL>1", "-e", "QUAL<1", "-o", tmp_path / "out.vcf.gz",
                   small_vcf)
    _assert_clean_failure(proc, tmp_path, 2, "-i and -e")


def test_missing_input_and_unknown_output_type(tmp_path, small_vcf):
    proc = run_pgx("filter", "-i", "QUAL>1", "-o", tmp_path / "out.vcf.gz", tmp_path / "no.vcf")
    _assert_clean_failure(proc, tmp_path, 3, "no such file")
    proc = run_pgx("filter", "-i", "QUAL>1", "-o", tmp_path / "out.txt", small_vcf)
    _assert_clean_failure(proc, tmp_path, 2, "-O z|b|v")


# ============================================================================ real data
@needs_bcftools
@pytest.mark.slow
def test_1000_genomes_files_filter_like_bcftools(shared, tmp_path):
    """All 19 files of 3,202 samples: the same records and genotypes as bcftools."""
    files = sorted((shared / "data" / "1kgp-grch38").glob("*.vcf.gz"))
    if not files:
        pytest.skip("no 1000 Genomes files in ../shared/data/1kgp-grch38")
    site = 'INFO/AF>=0.01 && TYPE="snp" && FILTER="PASS"'
    mask = 'GT="het" & INFO/AF<0.05'
    kept = 0
    for src in files:
        out = tmp_path / f"pgx.{src.name}"
        proc = run_pgx("filter", "-q", "--threads", 2, "-i", site, "--set-gt-missing", mask,
                       "-o", out, src)
        assert proc.returncode == 0, proc.stderr
        ref = tmp_path / f"bcftools.{src.name}"
        subprocess.run(f"{BCFTOOLS} view -i '{site}' -Ou {src} | {BCFTOOLS} +setGT -Oz "
                       f"-o {ref} -- -t q -n . -i '{mask}'", shell=True, check=True,
                       capture_output=True)
        ours = bcftools("view", "-H", out)
        theirs = bcftools("view", "-H", ref)
        assert ours.count("\n") == theirs.count("\n") > 0, src.name
        assert ours == theirs, src.name
        kept += ours.count("\n")
    assert kept > 1000


def test_compression_level_option(small_vcf, tmp_path):
    """-l takes bgzip's 0-9 scale: -l 0 stores (bigger), -l 9 compresses hardest, both are read
    by bcftools with the same records; -l 10 is a usage error that leaves nothing behind."""
    sizes = {}
    for level in (0, 9):
        out = tmp_path / f"l{level}.vcf.gz"
        proc = run_pgx("filter", "-q", "-l", level, "-i", "QUAL>=0", "-o", out, small_vcf)
        assert proc.returncode == 0, proc.stderr
        sizes[level] = out.stat().st_size
        assert records_and_gts(out) == records_and_gts(tmp_path / "l0.vcf.gz")
    assert sizes[0] > 1.5 * sizes[9]
    proc = run_pgx("filter", "-l", 10, "-i", "QUAL>=0", "-o", tmp_path / "x.vcf.gz", small_vcf)
    assert proc.returncode == 2 and "--compression-level 10" in proc.stderr
    assert not (tmp_path / "x.vcf.gz").exists()
