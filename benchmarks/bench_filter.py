#!/usr/bin/env python3
"""Benchmark `pgx filter` against `bcftools view -i` (and `+setGT`) on the same inputs, same run.

Inputs (synthetic, generated once into benchmarks/.cache/filter/, deterministic seed):
  * one_sample.vcf.gz      1,000,000 records x 1 sample
  * hundred_samples.vcf.gz   200,000 records x 100 samples
Both: GRCh38 chr22-like positions, SNPs, indels and multi-allelic records, QUAL, INFO DP/AF,
FORMAT GT:GQ:DP (about 5% missing values), bgzipped and tabix-indexed.

Commands timed on each input (median of --repeat runs after a warm-up; output VCF.gz at the
same compression level: bgzip's scale 6, htslib's default for -Oz, which both map to libdeflate
level 7, so the outputs have the same size):
  site filter   EXPR = QUAL>=30 && INFO/DP>=10 && FMT/GQ>=20
    bcftools view -i EXPR -Oz -o OUT IN                         (1 thread)
    bcftools view --threads 1 -i EXPR -Oz -o OUT IN             (1 extra worker: 2 threads)
    pgx filter -q --no-index -i EXPR --threads 1|2 -o OUT IN
  genotype mask  (records kept by QUAL>=30, then GQ<20 || DP<8 set missing)
    bcftools view -i 'QUAL>=30' -Ou IN | bcftools +setGT -Oz -o OUT -- -t q -n . -i GTEXPR
    pgx filter -q --no-index -i 'QUAL>=30' --set-gt-missing GTEXPR --threads 1|2 -o OUT IN
Records/s = input records / wall seconds, end to end (process start-up included). The ratio is
bcftools' time / pgx's time (above 1: pgx is faster); each pgx ratio is also printed with pgx's
fixed cost per run (timed on a 1-record file) subtracted, i.e. the steady-state speed that
larger inputs approach. Peak RSS comes from GNU time. The outputs
are compared (records and genotypes, `bcftools view -H`) so a fast wrong answer cannot pass.

    .venv/bin/python benchmarks/bench_filter.py [--repeat 3] [--json out.json] [--quick]

--quick uses 1/10 of the records (a smoke run). Needs bcftools and bgzip/tabix on PATH.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import GNU_TIME, bench  # noqa: E402  (benchmarks/measure.py)

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache" / "filter"
PGX = [str(REPO / ".venv" / "bin" / "pgx")] if (REPO / ".venv/bin/pgx").exists() else ["pgx"]
SITE_EXPR = "QUAL>=30 && INFO/DP>=10 && FMT/GQ>=20"
GT_EXPR = "FMT/GQ<20 || FMT/DP<8"
INPUTS = {"one_sample": (1_000_000, 1), "hundred_samples": (200_000, 100)}
SEED = 20261122


def _sample_fields(rng: np.random.Generator, n: int, n_alt: np.ndarray) -> np.ndarray:
    """``n`` FORMAT strings GT:GQ:DP for records with ``n_alt`` ALT alleles (~5% missing)."""
    a = rng.integers(0, 2, size=(n, 2)) * rng.integers(1, n_alt[:, None] + 1, size=(n, 2))
    gt = np.char.add(np.char.add(a[:, 0].astype(str), np.where(rng.random(n) < 0.5, "/", "|")),
                     a[:, 1].astype(str))
    gt = np.where(rng.random(n) < 0.03, "./.", gt)
    gq = rng.integers(0, 100, n).astype(str)
    gq = np.where(rng.random(n) < 0.05, ".", gq)
    dp = rng.integers(0, 60, n).astype(str)
    dp = np.where(rng.random(n) < 0.05, ".", dp)
    return np.char.add(np.char.add(np.char.add(np.char.add(gt, ":"), gq), ":"), dp)


def _kernel_backend() -> str:
    """How the pgx under test will run its kernels (see pgx/_numba.py)."""
    sys.path.insert(0, str(REPO))
    from pgx import _numba

    if os.environ.get("PGX_KERNELS") == "jit":
        return "numba JIT (PGX_KERNELS=jit)"
    meta = _numba.current_aot_build(_numba.aot_dir())
    if meta is None:
        return "numba JIT (no current ahead-of-time build: run `make kernels`)"
    return f"compiled ahead of time ({_numba.aot_dir()}, numba {meta['numba']})"


def generate(path: Path, n_records: int, n_samples: int) -> None:
    """Write ``path`` (bgzipped, tabix-indexed) deterministically; a temp name until done."""
    rng = np.random.default_rng(SEED + n_samples)
    bases = np.array(list("ACGT"))
    header = [
        "##fileformat=VCFv4.2",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=LowQual,Description="Low quality">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        "##contig=<ID=chr22,length=50818468>",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
        + "\t".join(f"S{i:03d}" for i in range(n_samples)),
    ]
    tmp = path.with_name(f".{path.name}.tmp")
    plain = path.with_name(f".{path.stem}.tmp")
    block = 100_000
    pos = np.sort(rng.choice(np.arange(10_000_000, 50_000_000), n_records, replace=False))
    with open(plain, "w") as fh:
        fh.write("\n".join(header) + "\n")
        for start in range(0, n_records, block):
            n = min(block, n_records - start)
            ref = bases[rng.integers(0, 4, n)]
            alt = bases[(np.searchsorted(bases, ref) + rng.integers(1, 4, n)) % 4]
            kind = rng.random(n)
            alt = np.where(kind < 0.08, np.char.add(ref, "T"), alt)  # insertion
            ref = np.where((kind >= 0.08) & (kind < 0.12), np.char.add(ref, "G"), ref)  # deletion
            multi = kind >= 0.95
            alt = np.where(multi, np.char.add(np.char.add(alt, ","), np.char.add(ref, "AC")), alt)
            n_alt = np.where(multi, 2, 1)
            qual = np.round(rng.gamma(2.0, 25.0, n), 1).astype(str)
            qual = np.where(rng.random(n) < 0.02, ".", qual)
            filt = np.where(rng.random(n) < 0.1, "LowQual", "PASS")
            af = np.where(multi, "0.1,0.05", "0.25")
            info = np.char.add(np.char.add(np.char.add("DP=", rng.integers(0, 200, n).astype(str)),
                                           ";AF="), af)
            cols = [np.full(n, "chr22"), pos[start:start + n].astype(str), np.full(n, "."),
                    ref, alt, qual, filt, info, np.full(n, "GT:GQ:DP")]
            cols += [_sample_fields(rng, n, n_alt) for _ in range(n_samples)]
            lines = cols[0]
            for c in cols[1:]:
                lines = np.char.add(np.char.add(lines, "\t"), c)
            fh.write("\n".join(lines.tolist()) + "\n")
    with open(tmp, "wb") as fh:
        subprocess.run(["bgzip", "-c", "-@", "2", str(plain)], check=True, stdout=fh)
    plain.unlink()
    subprocess.run(["tabix", "-f", "-p", "vcf", str(tmp)], check=True)
    os.replace(f"{tmp}.tbi", f"{path}.tbi")
    os.replace(tmp, path)


def body_digest(path: Path) -> tuple[int, str]:
    """(records, sha1 of the records' text as bcftools prints them)."""
    proc = subprocess.run(["bcftools", "view", "-H", str(path)], check=True, capture_output=True)
    return proc.stdout.count(b"\n"), hashlib.sha1(proc.stdout).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per command (default 3)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--quick", action="store_true", help="1/10 of the records (smoke run)")
    ap.add_argument("--tmp", metavar="DIR", help="where outputs go (default: a temp folder)")
    args = ap.parse_args(argv)
    for tool in ("bcftools", "bgzip", "tabix"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found on PATH (Debian: apt-get install bcftools tabix)")
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / ".gitignore").write_text("*\n")
    bcftools_version = subprocess.run(["bcftools", "--version"], capture_output=True,
                                      text=True).stdout.splitlines()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {bcftools_version}; "
          f"peak RSS from {'GNU time' if GNU_TIME else 'os.wait4 (upper bound)'}")
    results = []
    kernels = _kernel_backend()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmpdir:
        out = Path(tmpdir)
        # pgx's fixed cost (Python start-up, numpy import, loading the kernels: ~1 ms when
        # compiled ahead of time, ~0.35 s through numba's JIT cache), measured on a 1-record
        # file, is reported so the steady-state speed can be read off too; the ratios above it
        # are end to end.
        tiny = out / "one_record.vcf.gz"
        generate(tiny, 1, 1)
        fixed = bench("pgx filter, 1-record file", lambda k: [
            *PGX, "filter", "-q", "--no-index", "-i", SITE_EXPR, "-o",
            str(out / "one_record.out.vcf.gz"), str(tiny)], args.repeat)["median_s"]
        print(f"pgx kernels: {kernels}")
        print(f"pgx fixed cost per run (Python, numpy, kernel loading; 1-record file): "
              f"{fixed:.2f} s")
        for name, (n_records, n_samples) in INPUTS.items():
            if args.quick:
                n_records //= 10
            src = CACHE / f"{name}{'_quick' if args.quick else ''}.vcf.gz"
            if not src.exists():
                print(f"generating {src} ({n_records:,} records x {n_samples} samples) ...",
                      flush=True)
                generate(src, n_records, n_samples)
            size = src.stat().st_size / 2**20
            print(f"\n== {src.name}: {n_records:,} records x {n_samples} sample(s), "
                  f"{size:.0f} MiB")
            cases = {
                "site filter": {
                    "bcftools view -i (1 thread)": lambda k, o: [
                        "bcftools", "view", "-i", SITE_EXPR, "-Oz", "-o", str(o), str(src)],
                    "bcftools view -i --threads 1 (2 threads)": lambda k, o: [
                        "bcftools", "view", "--threads", "1", "-i", SITE_EXPR, "-Oz", "-o",
                        str(o), str(src)],
                    "pgx filter --threads 1": lambda k, o: [
                        *PGX, "filter", "-q", "--no-index", "-i", SITE_EXPR, "--threads", "1",
                        "-o", str(o), str(src)],
                    "pgx filter --threads 2": lambda k, o: [
                        *PGX, "filter", "-q", "--no-index", "-i", SITE_EXPR, "--threads", "2",
                        "-o", str(o), str(src)],
                },
                "genotype mask": {
                    "bcftools view | +setGT (1 thread each)": lambda k, o: [
                        "bash", "-c", f"bcftools view -i 'QUAL>=30' -Ou '{src}' | bcftools "
                        f"+setGT -Oz -o '{o}' -- -t q -n . -i '{GT_EXPR}' 2>/dev/null"],
                    "pgx filter --threads 1": lambda k, o: [
                        *PGX, "filter", "-q", "--no-index", "-i", "QUAL>=30", "--set-gt-missing",
                        GT_EXPR, "--threads", "1", "-o", str(o), str(src)],
                    "pgx filter --threads 2": lambda k, o: [
                        *PGX, "filter", "-q", "--no-index", "-i", "QUAL>=30", "--set-gt-missing",
                        GT_EXPR, "--threads", "2", "-o", str(o), str(src)],
                },
            }
            for case, commands in cases.items():
                print(f"-- {case}")
                timings = {}
                digests = {}
                for label, make in commands.items():
                    target = out / f"{name}.{abs(hash(label))}.vcf.gz"
                    r = bench(label, lambda k, make=make, target=target: make(k, target),
                              args.repeat)
                    r["records_per_s"] = n_records / r["median_s"]
                    digests[label] = body_digest(target)
                    timings[label] = r
                    print(f"  {label:42s} {r['median_s']:7.2f} s  "
                          f"{r['records_per_s'] / 1e3:8.1f} k records/s  "
                          f"peak RSS {r['peak_rss_mib']:6.0f} MiB  "
                          f"({digests[label][0]:,} records out)", flush=True)
                ref_label = next(iter(commands))
                if len(set(digests.values())) != 1:
                    print(f"  OUTPUTS DIFFER: {digests}")
                    return 1
                print("  outputs identical (records and genotypes)")
                base = timings[ref_label]["median_s"]
                for label, r in timings.items():
                    if label.startswith("pgx"):
                        r["ratio_vs_bcftools_1_thread"] = base / r["median_s"]
                        r["ratio_without_fixed_cost"] = base / max(r["median_s"] - fixed, 1e-9)
                        line = f"  ratio {label} vs {ref_label}: {base / r['median_s']:.2f}x"
                        two = [t for lab, t in timings.items() if "2 threads" in lab]
                        if two and label.endswith("2"):
                            r["ratio_vs_bcftools_2_threads"] = two[0]["median_s"] / r["median_s"]
                            line += (f"; vs bcftools with 2 threads: "
                                     f"{r['ratio_vs_bcftools_2_threads']:.2f}x")
                        line += (f"; without pgx's fixed {fixed:.2f} s: "
                                 f"{r['ratio_without_fixed_cost']:.2f}x")
                        print(line)
                results.append({"input": name, "records": n_records, "samples": n_samples,
                                "case": case, "timings": list(timings.values())})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
