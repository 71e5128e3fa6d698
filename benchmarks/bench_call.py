#!/usr/bin/env python3
"""Benchmark `pgx call` on the real 1000 Genomes cohort, against the minimum any tool must do.

Input: ../shared/data/1kgp-grch38/*.vcf.gz, 3,202 samples over 19 PGx gene regions, (a) as they
are (phased) and (b) an unphased copy written once into benchmarks/.cache/unphased/ (every GT
unphased with `bcftools +setGT -- -t a -n u`, '1|0' -> '0/1'; bgzip + tabix index).

For each input, in the same run:
  * `pgx call -q [--definitions DIR] -o OUT <19 files>`: end to end, as a subprocess (Python
    start-up, reading, matching, phenotypes, writing calls.tsv and 3,202 JSON files into a new
    folder each run);
  * the peer: `bcftools query -R <defined positions> -f '[%GT\\t]\\n'` over each of the 19 files
    (one process per file, from one shell, output to a file): extracting exactly the genotypes
    of all samples at the defined positions, the least any caller must read. The same with
    `-T` (stream each file instead of an index jump per position) is timed too: it is faster
    when positions are dense, so the ratio is also given against the faster of the two.
Wall time is the median of --repeat runs after one warm-up run of each command (numba's cache,
the page cache). Peak RSS is the largest resident set of the command or any of its children,
from GNU time's %M where /usr/bin/time exists (os.wait4 otherwise, which on Linux also counts
the RSS of this script at the moment it forks, so it is only an upper bound).

    .venv/bin/python benchmarks/bench_call.py                      # embedded panel
    .venv/bin/python benchmarks/bench_call.py --definitions ../shared/oracle/pharmcat/definitions
    .venv/bin/python benchmarks/bench_call.py --repeat 5 --json results.json

Needs bcftools on PATH. Exits 0 with a message when the input folder is absent.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import GNU_TIME, bench  # noqa: E402  (benchmarks/measure.py)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data" / "1kgp-grch38"
CACHE = Path(__file__).resolve().parent / ".cache"

# For context only (not measured by this script):
PHARMCAT_S_PER_SAMPLE_CORE = 5.7  # PharmCAT's documented ~5.7 s per sample per core
PYPGX_SECONDS, PYPGX_SAMPLES, PYPGX_GENES = 669.0, 88, 15  # PyPGx, measured on this machine

# Run in a child so that this process stays small (see the RSS note above).
_POSITIONS = """
import sys
from pgx import __version__
from pgx.definitions import load_definitions
defs = load_definitions(sys.argv[1] or None)
genes = [g for g in defs.genes.values() if g.vcf_callable]
print(__version__, len(genes))
for c, p in sorted({(g.chrom, v.position) for g in genes for v in g.variants}):
    print(f"{c}\\t{p}")
"""


def unphased_copy(vcfs: list[Path], cache: Path) -> list[Path]:
    """Every GT unphased, written once (kept while newer than its source)."""
    out_dir = cache / "unphased"
    out_dir.mkdir(parents=True, exist_ok=True)
    outs = []
    for src in vcfs:
        dst = out_dir / src.name
        tbi = Path(f"{dst}.tbi")
        if not (dst.exists() and tbi.exists() and dst.stat().st_mtime >= src.stat().st_mtime):
            tmp = out_dir / f".{src.name}"
            subprocess.run(["bcftools", "+setGT", str(src), "-Oz", "-o", str(tmp), "--",
                            "-t", "a", "-n", "u"], check=True, capture_output=True)
            left = subprocess.run(f"bcftools query -f '[%GT\\n]' '{tmp}' | grep -c '|' || true",
                                  shell=True, capture_output=True, text=True).stdout.strip()
            if left != "0":
                raise SystemExit(f"{tmp}: {left} phased genotypes left after +setGT")
            os.replace(tmp, dst)
            subprocess.run(["bcftools", "index", "-t", "-f", str(dst)], check=True)
            print(f"wrote {dst}", flush=True)
        outs.append(dst)
    return outs


def peer(flag: str, regions: Path, out: Path, files: list[str]) -> list[str]:
    return ["bash", "-c",
            'flag=$1; r=$2; o=$3; shift 3; for f in "$@"; do '
            "bcftools query $flag \"$r\" -f '[%GT\\t]\\n' \"$f\" || exit 1; done > \"$o\"",
            "peer", flag, str(regions), str(out), *files]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--definitions", metavar="DIR",
                    help="pass --definitions DIR to pgx call (e.g. PharmCAT's); default: the "
                         "embedded panel")
    ap.add_argument("--repeat", type=int, default=3, metavar="N",
                    help="timed runs per command after one warm-up (default 3; median reported)")
    ap.add_argument("--data", type=Path, default=DATA, help=f"input folder (default {DATA})")
    ap.add_argument("--inputs", default="phased,unphased",
                    help="comma-separated: phased, unphased (default both)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--tmp", type=Path, metavar="DIR",
                    help="where pgx writes its outputs (default: the system temporary folder); "
                         "each run gets a new folder, all removed at the end (~85 MB a run)")
    args = ap.parse_args(argv)

    vcfs = sorted(args.data.glob("*.vcf.gz"))
    if not vcfs:
        print(f"bench_call: no input at {args.data} (../shared absent?); nothing to do")
        return 0
    if not shutil.which("bcftools"):
        raise SystemExit("bench_call: bcftools not found on PATH (Debian: apt-get install "
                         "bcftools)")
    wanted = [s.strip() for s in args.inputs.split(",") if s.strip()]
    if set(wanted) - {"phased", "unphased"}:
        ap.error("--inputs takes phased and/or unphased")
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("# written by bench_call.py: nothing here is tracked\n*\n")
    definitions = str(Path(args.definitions).resolve()) if args.definitions else None
    defs_label = f"--definitions {args.definitions}" if definitions else "embedded panel"

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    listing = subprocess.run([sys.executable, "-c", _POSITIONS, definitions or ""], env=env,
                             check=True, capture_output=True, text=True).stdout.splitlines()
    pgx_version, n_genes = listing[0].split()
    regions = CACHE / ("regions-embedded.tsv" if definitions is None else
                       "regions-definitions.tsv")
    regions.write_text("".join(f"{line}\n" for line in listing[1:]))
    samples = subprocess.run(["bcftools", "query", "-l", str(vcfs[0])], check=True,
                             capture_output=True, text=True).stdout.split()
    inputs = {"phased": vcfs}
    if "unphased" in wanted:
        inputs["unphased"] = unphased_copy(vcfs, CACHE)
    bcftools_version = subprocess.run(["bcftools", "--version"], capture_output=True,
                                      text=True).stdout.splitlines()[0]
    tree = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                          capture_output=True, text=True).stdout.strip() or "unknown"

    print(f"pgx {pgx_version} at {tree} ({defs_label}: {n_genes} VCF-callable genes, "
          f"{len(listing) - 1} defined positions) vs {bcftools_version}")
    print(f"input: {len(samples)} samples x {len(vcfs)} files ({args.data}); "
          f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}; "
          f"median of {args.repeat} runs after a warm-up; RSS from "
          f"{'GNU time' if GNU_TIME else 'os.wait4 (upper bound)'}")
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" ({os.cpu_count()} CPUs; other work on the machine inflates wall times)")

    results = []
    # Every pgx run writes into a new folder, and all are removed only at the end: deleting
    # 3,202 files and creating them again at once makes ext4 skip the recently freed inodes
    # (kernel recently_deleted()), which added ~2.5 s of system time to each run here.
    with tempfile.TemporaryDirectory(prefix="bench_call.", dir=args.tmp) as tmp:
        peer_out = Path(tmp) / "peer.txt"
        for name in wanted:
            files = [str(f) for f in inputs[name]]

            def pgx_cmd(k, name=name, files=files):
                return [sys.executable, "-m", "pgx", "call", "-q",
                        *(["--definitions", definitions] if definitions else []),
                        "-o", str(Path(tmp) / f"{name}-{k}"), *files]

            p = bench("pgx call", pgx_cmd, args.repeat, env=env)
            calls_tsv = Path(tmp) / f"{name}-{args.repeat}" / "calls.tsv"
            p["calls_tsv_rows"] = calls_tsv.read_text().count("\n") - 1
            peers = []
            for flag in ("-R", "-T"):
                cmd = peer(flag, regions, peer_out, files)
                b = bench(f"bcftools query {flag}", lambda k, cmd=cmd: cmd, args.repeat)
                b["records"] = peer_out.read_text().count("\n")
                peers.append(b)
            for r in (p, *peers):
                r.update(input=name, definitions=defs_label, samples=len(samples),
                         samples_per_s=len(samples) / r["median_s"],
                         s_per_sample=r["median_s"] / len(samples))
            results += [p, *peers]
            print(f"\n[{name}] {len(files)} files")
            print(f"  {'command':20s} {'median s':>9s} {'min s':>7s} {'samples/s':>10s} "
                  f"{'ms/sample':>10s} {'peak RSS MiB':>13s}")
            for r in (p, *peers):
                print(f"  {r['label']:20s} {r['median_s']:9.2f} {r['min_s']:7.2f} "
                      f"{r['samples_per_s']:10.0f} {1000 * r['s_per_sample']:10.2f} "
                      f"{r['peak_rss_mib']:13.0f}")
            rq, best = peers[0], min(peers, key=lambda r: r["median_s"])
            print(f"  ratio pgx / bcftools query -R: {p['median_s'] / rq['median_s']:.1f}x wall; "
                  f"pgx / fastest peer ({best['label']}): {p['median_s'] / best['median_s']:.1f}x "
                  f"wall, {p['peak_rss_mib'] / best['peak_rss_mib']:.0f}x memory")
            print(f"  (pgx wrote {p['calls_tsv_rows']} calls.tsv rows; bcftools extracted "
                  f"{rq['records']} records x {len(samples)} genotypes)")

    print("\nload average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    fastest = min(r["s_per_sample"] for r in results if r["label"] == "pgx call")
    pharmcat_total = PHARMCAT_S_PER_SAMPLE_CORE * len(samples) / (os.cpu_count() or 1)
    print("\nfor context (NOT measured by this script):")
    print(f"  PharmCAT: ~{PHARMCAT_S_PER_SAMPLE_CORE} s per sample per core (documented) -> "
          f"~{pharmcat_total / 3600:.1f} h for {len(samples)} samples on {os.cpu_count()} "
          f"cores; pgx here: {1000 * fastest:.2f} ms/sample")
    print(f"  PyPGx: {PYPGX_SECONDS:.0f} s for {PYPGX_SAMPLES} samples x {PYPGX_GENES} genes on "
          f"this machine (~{PYPGX_SECONDS / PYPGX_SAMPLES:.1f} s/sample)")
    if args.json:
        args.json.write_text(json.dumps({"pgx": pgx_version, "tree": tree,
                                         "definitions": defs_label,
                                         "bcftools": bcftools_version, "genes": int(n_genes),
                                         "positions": len(listing) - 1, "results": results},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
