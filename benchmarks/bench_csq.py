#!/usr/bin/env python3
"""Benchmark pgx's consequence calling against `bcftools csq` on the same inputs, same run.

Inputs: the 19 real 1000 Genomes files of ../shared/data/1kgp-grch38 (3,202 phased samples,
32,469 records) with the GRCh38 pharmacogene FASTA and MANE GFF3 of ../shared/data/grch38-pgx;
and a sites-only copy of them (FORMAT and samples dropped with `bcftools view -G`, written once
into benchmarks/.cache/csq/sites/).

Commands timed (median of --repeat runs after a warm-up; whole processes, start-up included):
  haplotype-aware (bcftools' default; FORMAT/BCSQ bitmask computed for all samples)
    bcftools csq -f FA -g GFF FILE -Ou -o /dev/null        one process per file (bash loop)
    pgx: benchmarks/bench_csq.py --worker h FILE...        one process, all 19 files
  local (bcftools csq -l)
    bcftools csq -l -f FA -g GFF FILE -Ou -o /dev/null
    pgx: --worker l FILE...
  sites-only (no samples: every record's first ALT on one haplotype)
    bcftools csq -f FA -g GFF SITES -Ou -o /dev/null
    pgx: --worker h SITES...
The pgx worker reads the VCFs with the columnar reader (pgx.io.vcf_reader; a background thread
reads ahead), computes BCSQ for every record (pgx.annotate.csq_io.annotate_vcfs) and writes
nothing (or, with --out, one
"CHROM POS BCSQ" line per record). bcftools parses and writes BCF (-Ou to /dev/null), so both
sides decode everything; pgx does not write a VCF. pgx is also timed as one process per file
(as the bcftools loop runs), to show its fixed start-up cost. Records/s = input records / wall
seconds; the ratio is bcftools' time / pgx's time (above 1: pgx is faster). Peak RSS from GNU
time (largest process). The outputs are compared once, so a fast wrong answer cannot pass:
pgx runs with compat_116 (the Debian bcftools 1.16 spelling, see pgx/annotate/csq.py) and every
BCSQ string must equal bcftools'.

    .venv/bin/python benchmarks/bench_csq.py [--repeat 3] [--json out.json] [--files CYP2C9,...]

Needs bcftools on PATH; does nothing when ../shared is absent.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import GNU_TIME, bench  # noqa: E402  (benchmarks/measure.py)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data" / "1kgp-grch38"
REF = SHARED / "data" / "grch38-pgx"
FA = REF / "pgx_grch38.fa.gz"
GFF = REF / "pgx_mane_grch38.gff3"
CACHE = Path(__file__).resolve().parent / ".cache" / "csq"
PY = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv/bin/python").exists() \
    else sys.executable


def worker(mode: str, files: list[str], out: str | None, compat: bool) -> None:
    """Annotate ``files`` (one process); ``mode`` h (haplotype) or l (local)."""
    sys.path.insert(0, str(REPO))
    from pgx.annotate.csq import ConsequenceCaller
    from pgx.annotate.csq_io import annotate_vcfs
    from pgx.annotate.fasta import FastaReader
    from pgx.annotate.gff import read_gff

    caller = ConsequenceCaller(read_gff(GFF), FastaReader(FA), hgvs=False, compat_116=compat)
    fh = open(out, "w") if out else None
    n = 0
    for _, batch, bcsq, _fmt in annotate_vcfs(files, caller, haplotype=mode == "h",
                                              phase="a"):
        n += len(bcsq)
        if fh:
            fh.writelines(f"{batch.chrom}\t{p}\t{b or '.'}\n"
                          for p, b in zip(batch.pos.tolist(), bcsq))
    if fh:
        fh.close()
    print(n, file=sys.stderr)


def _kernels_env() -> dict:
    """Environment whose PGX_AOT_DIR holds a current ahead-of-time build of the kernels (as
    `make kernels` makes; built here into the cache when the checkout's is stale), so that the
    pgx processes start as an installed pgx does."""
    sys.path.insert(0, str(REPO))
    from pgx._numba import aot_dir, current_aot_build

    env = dict(os.environ)
    if current_aot_build(aot_dir()) is not None:
        return env
    d = CACHE / "aot"
    if current_aot_build(d) is None:
        print("kernels: the ahead-of-time build is stale; building one into", d)
        subprocess.run([PY, "-m", "pgx._aot_build", "--out", str(d)], check=True, cwd=REPO)
    env["PGX_AOT_DIR"] = str(d)
    return env


def _sites(files: list[Path]) -> list[Path]:
    d = CACHE / "sites"
    d.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / ".gitignore").write_text("*\n")
    out = []
    for f in files:
        o = d / f.name
        if not o.exists() or o.stat().st_mtime < f.stat().st_mtime:
            subprocess.run(["bcftools", "view", "-G", "-Oz", "-o", str(o), str(f)], check=True)
            subprocess.run(["bcftools", "index", "-t", "-f", str(o)], check=True)
        out.append(o)
    return out


def _bcftools_loop(files, extra: str) -> list[str]:
    loop = "; ".join(f"bcftools csq {extra} -f {FA} -g {GFF} {f} -Ou -o /dev/null 2>/dev/null"
                     for f in files)
    return ["bash", "-c", f"set -e; {loop}"]


def _pgx_loop(files, mode: str) -> list[str]:
    me = Path(__file__).resolve()
    loop = "; ".join(f"{PY} {me} --worker {mode} {f}" for f in files)
    return ["bash", "-c", f"set -e; {loop} 2>/dev/null"]


def _check(files, mode: str) -> int:
    """pgx (compat_116) vs bcftools BCSQ, record by record; returns the number of records."""
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "pgx.txt"
        subprocess.run([PY, str(Path(__file__).resolve()), "--worker", mode, "--compat-116",
                        "--out", str(ours), *map(str, files)], check=True,
                       stderr=subprocess.DEVNULL)
        got = [line.rstrip("\n").split("\t") for line in open(ours)]
        exp = []
        for f in files:
            p = subprocess.Popen(["bcftools", "csq", *(["-l"] if mode == "l" else []), "-f",
                                  str(FA), "-g", str(GFF), str(f)], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            q = subprocess.run(["bcftools", "query", "-f", "%CHROM\t%POS\t%BCSQ\n"],
                               stdin=p.stdout, capture_output=True, text=True, check=True)
            exp += [line.split("\t") for line in q.stdout.splitlines()]
        if len(got) != len(exp):
            raise SystemExit(f"output check ({mode}): {len(got)} records vs {len(exp)}")
        bad = [(g, e) for g, e in zip(got, exp) if g != e]
        if bad:
            raise SystemExit(f"output check ({mode}): {len(bad)} records differ, e.g. {bad[0]}")
        return len(got)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--files", help="comma-separated gene names (default: all 19)")
    ap.add_argument("--worker", choices=("h", "l"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--compat-116", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("inputs", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.inputs, args.out, args.compat_116)
        return
    if not DATA.is_dir() or not FA.exists():
        print("../shared/data is absent: nothing to benchmark")
        return
    files = sorted(DATA.glob("*.vcf.gz"))
    if args.files:
        want = set(args.files.split(","))
        files = [f for f in files if f.name.split(".")[0] in want]
    sites = _sites(files)
    n = 0
    for f in files:
        out = subprocess.run(["bcftools", "index", "-n", str(f)], capture_output=True, text=True)
        n += int(out.stdout.strip() or 0) if out.returncode == 0 else 0
    env = _kernels_env()
    os.environ.update(env)
    t0 = time.time()
    checked = {m: _check(files, m) for m in ("h", "l")}
    checked["sites"] = _check(sites, "h")
    print(f"outputs identical to bcftools {_bcftools_version()} (compat_116): "
          f"{checked} records ({time.time() - t0:.0f} s)")
    me = str(Path(__file__).resolve())
    runs = [
        ("haplotype", "bcftools csq (1 process/file)", lambda k: _bcftools_loop(files, "")),
        ("haplotype", "pgx (1 process)", lambda k: [PY, me, "--worker", "h", *map(str, files)]),
        ("haplotype", "pgx (1 process/file)", lambda k: _pgx_loop(files, "h")),
        ("local", "bcftools csq -l (1 process/file)", lambda k: _bcftools_loop(files, "-l")),
        ("local", "pgx -l (1 process)", lambda k: [PY, me, "--worker", "l", *map(str, files)]),
        ("sites-only", "bcftools csq (1 process/file)", lambda k: _bcftools_loop(sites, "")),
        ("sites-only", "pgx (1 process)", lambda k: [PY, me, "--worker", "h", *map(str, sites)]),
    ]
    print(f"{len(files)} files, {n:,} records, 3,202 samples; {os.cpu_count()} CPUs, "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.2f}; median of "
          f"{args.repeat} (+1 warm-up); RSS {'GNU time' if GNU_TIME else 'wait4 (bound)'}")
    results = []
    peer: dict[str, float] = {}
    for group, label, cmd in runs:
        r = bench(label, cmd, args.repeat, env=env)
        r["group"] = group
        r["records_per_s"] = n / r["median_s"]
        if label.startswith("bcftools"):
            peer[group] = r["median_s"]
        r["ratio_vs_bcftools"] = peer.get(group, float("nan")) / r["median_s"]
        results.append(r)
        print(f"  {group:<11} {label:<34} {r['median_s']:6.2f} s (min {r['min_s']:.2f})  "
              f"{r['records_per_s']:8,.0f} rec/s  x{r['ratio_vs_bcftools']:.2f}  "
              f"RSS {r['peak_rss_mib']:.0f} MiB")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"records": n, "results": results}, indent=1))


def _bcftools_version() -> str:
    out = subprocess.run(["bcftools", "--version"], capture_output=True, text=True)
    return out.stdout.split("\n")[0].split()[-1] if out.returncode == 0 else "?"


if __name__ == "__main__":
    main()
