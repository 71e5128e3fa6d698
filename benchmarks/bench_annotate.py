#!/usr/bin/env python3
"""Benchmark pgx's annotation transfer against `bcftools annotate -a SRC -c INFO/AF,ID`, same
inputs, same run.

Inputs (synthetic, generated once into benchmarks/.cache/annotate/, deterministic seed):
  * source.vcf.gz  1,000,000 sites-only records (ID rsN, INFO AF (Number=A), AC, DP), SNPs and
                   indels, ~6% multi-allelic (2 ALTs), ~3% positions with two records
  * query.vcf.gz   1,000,000 records x 1 sample (GT:DP), INFO DP; ~70% at source positions
                   (mostly with a source allele), ~5% multi-allelic
Both bgzipped and tabix-indexed (bcftools needs the index of -a; pgx does not).

Timed (median of --repeat runs after a warm-up, whole processes, output VCF.gz at bgzip's
level 6 = htslib's -Oz default, no index written):
  cache build   python -m pgx.annotate.transfer --build-cache-only ...  (once per source
                change; reported separately, not part of the annotate runs)
  bcftools annotate -a SRC -c INFO/AF,ID -Oz -o OUT QUERY            (1 thread)
  bcftools annotate --threads 1 ...                                    (1 extra compression
                                                                         thread)
  python -m pgx.annotate.transfer -a SRC -c INFO/AF,ID --threads 1|2 --no-index -o OUT QUERY
Records/s = query records / wall seconds (process start-up included); peak RSS from GNU time.
The outputs are compared with `bcftools query -f '%CHROM %POS %REF %ALT %ID %AF'` (both
re-read by htslib, so floats are formatted alike): biallelic records must be identical; on
multi-allelic query records the documented differences are counted (bcftools pairs a record
with one source record: alleles it leaves '.', and IDs of several records).

    .venv/bin/python benchmarks/bench_annotate.py [--repeat 3] [--json out.json] [--quick]

--quick uses 1/10 of the records (a smoke run). Needs bcftools, bgzip and tabix on PATH.
"""
from __future__ import annotations

import argparse
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
from measure import GNU_TIME, bench, run_measured  # noqa: E402  (benchmarks/measure.py)

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache" / "annotate"
PY = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv/bin/python").exists() \
    else sys.executable
COLUMNS = "INFO/AF,ID"
N_RECORDS = 1_000_000
SEED = 20261205
BASES = np.array(list("ACGT"))


def _kernel_backend() -> str:
    sys.path.insert(0, str(REPO))
    from pgx import _numba

    if os.environ.get("PGX_KERNELS") == "jit":
        return "numba JIT (PGX_KERNELS=jit)"
    meta = _numba.current_aot_build(_numba.aot_dir())
    if meta is None:
        return "numba JIT (no current ahead-of-time build: run `make kernels`)"
    return f"compiled ahead of time ({_numba.aot_dir()}, numba {meta['numba']})"


def _join(cols) -> list[str]:
    lines = cols[0]
    for c in cols[1:]:
        lines = np.char.add(np.char.add(lines, "\t"), c)
    return lines.tolist()


def _alleles(rng, n):
    """(ref, alt) string arrays: SNPs, insertions, deletions; ~6% with a second ALT."""
    ref = BASES[rng.integers(0, 4, n)]
    alt = BASES[(np.searchsorted(BASES, ref) + rng.integers(1, 4, n)) % 4]
    kind = rng.random(n)
    alt = np.where(kind < 0.06, np.char.add(ref, "T"), alt)
    ref = np.where((kind >= 0.06) & (kind < 0.10), np.char.add(ref, "G"), ref)
    alt2 = np.where(np.char.str_len(ref) > 1, np.char.add(ref, "A"),
                    BASES[(np.searchsorted(BASES, np.char.upper(ref)) + 2) % 4])
    multi = kind >= 0.94
    return ref, alt, alt2, multi


def _write(path: Path, header: list[str], body: list[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    plain = path.with_name(f".{path.stem}.tmp")
    with open(plain, "w") as fh:
        fh.write("\n".join(header) + "\n")
        for i in range(0, len(body), 200_000):
            fh.write("\n".join(body[i:i + 200_000]) + "\n")
    with open(tmp, "wb") as fh:
        subprocess.run(["bgzip", "-c", "-@", "2", str(plain)], check=True, stdout=fh)
    plain.unlink()
    subprocess.run(["tabix", "-f", "-p", "vcf", str(tmp)], check=True)
    os.replace(f"{tmp}.tbi", f"{path}.tbi")
    os.replace(tmp, path)


def generate(src: Path, query: Path, n: int) -> None:
    rng = np.random.default_rng(SEED)
    contig = "##contig=<ID=chr22,length=50818468>"
    # source: n records over n * 0.97 positions (a few positions get a second record)
    n_pos = int(n * 0.97)
    pos = np.sort(rng.choice(np.arange(10_000_000, 50_000_000), int(n_pos * 1.4), replace=False))
    src_pos = np.sort(rng.choice(pos, n_pos, replace=False))
    dup = np.sort(rng.choice(src_pos, n - n_pos, replace=False))
    s_pos = np.sort(np.concatenate([src_pos, dup]))
    ref, alt, alt2, multi = _alleles(rng, n)
    # a second record at a position: the first's REF, another ALT
    same = np.concatenate([[False], s_pos[1:] == s_pos[:-1]])
    ref = np.where(same, np.roll(ref, 1), ref)
    alt = np.where(same, np.where(np.char.str_len(np.roll(ref, 1)) > 1, np.roll(alt2, 1),
                                  BASES[(np.searchsorted(BASES, np.roll(ref, 1)) + 3) % 4]), alt)
    multi &= ~same & ~np.concatenate([same[1:], [False]])
    s_alt = np.where(multi, np.char.add(np.char.add(alt, ","), alt2), alt)
    af1 = np.round(rng.random(n) * 0.5, 5).astype(str)
    af2 = np.round(rng.random(n) * 0.1, 5).astype(str)
    af = np.where(multi, np.char.add(np.char.add(af1, ","), af2), af1)
    ac = rng.integers(1, 5000, n).astype(str)
    ac = np.where(multi, np.char.add(np.char.add(ac, ","), "3"), ac)
    info = np.char.add(np.char.add(np.char.add(np.char.add("AF=", af), ";AC="), ac),
                       np.char.add(";DP=", rng.integers(100, 90000, n).astype(str)))
    ids = np.char.add("rs", np.arange(1, n + 1).astype(str))
    header = ["##fileformat=VCFv4.2", contig,
              '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
              '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">',
              '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    _write(src, header, _join([np.full(n, "chr22"), s_pos.astype(str), ids, ref, s_alt,
                               np.full(n, "."), np.full(n, "PASS"), info]))
    # query: 70% at source positions (first record's REF; its ALT 80%), 30% elsewhere
    first = ~same
    known_pos, known_ref, known_alt = s_pos[first], ref[first], alt[first]
    k = int(n * 0.7)
    pick = np.sort(rng.choice(len(known_pos), k, replace=False))
    novel = np.setdiff1d(pos, src_pos)
    novel = np.sort(rng.choice(novel, n - k, replace=False))
    q_pos = np.concatenate([known_pos[pick], novel])
    order = np.argsort(q_pos, kind="stable")
    q_pos = q_pos[order]
    n_ref, n_alt, n_alt2, n_multi = _alleles(rng, n - k)
    q_ref = np.concatenate([known_ref[pick], n_ref])[order]
    own = rng.random(k) < 0.8
    other = np.where(np.char.str_len(known_ref[pick]) > 1, np.char.add(known_ref[pick], "C"),
                     BASES[(np.searchsorted(BASES, known_ref[pick]) + 1) % 4])
    q_alt = np.concatenate([np.where(own, known_alt[pick], other), n_alt])[order]
    second = np.where(np.char.str_len(q_ref) > 1, np.char.add(q_ref, "A"),
                      BASES[(np.searchsorted(BASES, q_ref) + 2) % 4])
    qm = (rng.random(n) < 0.05) & (q_alt != second)
    q_alt = np.where(qm, np.char.add(np.char.add(q_alt, ","), second), q_alt)
    gt = np.where(qm, "1/2", np.where(rng.random(n) < 0.4, "1/1", "0/1"))
    sample = np.char.add(np.char.add(gt, ":"), rng.integers(5, 80, n).astype(str))
    qinfo = np.char.add("DP=", rng.integers(5, 80, n).astype(str))
    qheader = ["##fileformat=VCFv4.2", contig,
               '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
               '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
               '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPATIENT"]
    _write(query, qheader, _join([np.full(n, "chr22"), q_pos.astype(str), np.full(n, "."),
                                  q_ref, q_alt, np.full(n, "50"), np.full(n, "PASS"), qinfo,
                                  np.full(n, "GT:DP"), sample]))


def values(path: Path) -> list[list[str]]:
    out = subprocess.run(["bcftools", "query", "-f", "%CHROM\t%POS\t%REF\t%ALT\t%ID\t%AF\n",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def compare(pgx_out: Path, bcf_out: Path) -> dict:
    """Equal on biallelic records; on multi-allelic ones, the documented differences only."""
    a, b = values(pgx_out), values(bcf_out)
    if len(a) != len(b):
        raise SystemExit(f"OUTPUTS DIFFER: {len(a)} vs {len(b)} records")
    res = {"records": len(a), "identical": 0, "multi_allelic_more_values": 0,
           "multi_allelic_more_ids": 0, "annotated": 0}
    for x, y in zip(a, b):
        if x[:4] != y[:4]:
            raise SystemExit(f"OUTPUTS DIFFER in record order: {x[:4]} vs {y[:4]}")
        res["annotated"] += x[5] != "."
        if x == y:
            res["identical"] += 1
            continue
        multi = "," in x[3]
        pa, ba = x[5].split(","), y[5].split(",")
        ok = multi and len(pa) == len(ba) and all(q == p or q == "." for p, q in zip(pa, ba))
        ids_ok = x[4] == y[4] or (multi and y[4] in x[4].split(";"))
        if not (ok and ids_ok):
            raise SystemExit(f"OUTPUTS DIFFER: pgx {x} vs bcftools {y}")
        res["multi_allelic_more_values"] += pa != ba
        res["multi_allelic_more_ids"] += x[4] != y[4]
    return res


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
    n = N_RECORDS // 10 if args.quick else N_RECORDS
    tag = "_quick" if args.quick else ""
    src, query = CACHE / f"source{tag}.vcf.gz", CACHE / f"query{tag}.vcf.gz"
    if not (src.exists() and query.exists()):
        print(f"generating {src.name} and {query.name} ({n:,} records each) ...", flush=True)
        generate(src, query, n)
    version = subprocess.run(["bcftools", "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {version}; peak RSS from "
          f"{'GNU time' if GNU_TIME else 'os.wait4 (upper bound)'}")
    print(f"pgx kernels: {_kernel_backend()}")
    print(f"source {src.stat().st_size / 2**20:.0f} MiB, query {query.stat().st_size / 2**20:.0f}"
          f" MiB ({n:,} records each)")
    results = {"records": n, "timings": []}
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmpdir:
        out = Path(tmpdir)
        cache_dir = out / "cache"
        pgx = [PY, "-m", "pgx.annotate.transfer", "-a", str(src), "-c", COLUMNS,
               "--cache-dir", str(cache_dir)]
        wall, rss = run_measured([*pgx, "--build-cache-only", "--rebuild"])
        results["cache_build"] = {"seconds": wall, "peak_rss_mib": rss}
        print(f"-- cache build (once per source version): {wall:.2f} s, peak RSS {rss:.0f} "
              f"MiB; {sum(f.stat().st_size for f in cache_dir.rglob('*')) / 2**20:.0f} MiB "
              f"on disk")
        commands = {
            "bcftools annotate (1 thread)": lambda o: [
                "bcftools", "annotate", "-a", str(src), "-c", COLUMNS, "-Oz", "-o", str(o),
                str(query)],
            "bcftools annotate --threads 1 (2 threads)": lambda o: [
                "bcftools", "annotate", "--threads", "1", "-a", str(src), "-c", COLUMNS, "-Oz",
                "-o", str(o), str(query)],
            "pgx --threads 1": lambda o: [*pgx, "--threads", "1", "--no-index", "-o", str(o),
                                          str(query)],
            "pgx --threads 2": lambda o: [*pgx, "--threads", "2", "--no-index", "-o", str(o),
                                          str(query)],
            "bcftools annotate -Oz1 (1 thread)": lambda o: [
                "bcftools", "annotate", "-a", str(src), "-c", COLUMNS, "-Oz1", "-o", str(o),
                str(query)],
            "pgx --threads 1 -l 1": lambda o: [*pgx, "--threads", "1", "-l", "1", "--no-index",
                                               "-o", str(o), str(query)],
        }
        timings = {}
        for label, make in commands.items():
            target = out / f"{abs(hash(label))}.vcf.gz"
            r = bench(label, lambda k, make=make, target=target: make(target), args.repeat)
            r["records_per_s"] = n / r["median_s"]
            r["output"] = target
            timings[label] = r
            print(f"  {label:42s} {r['median_s']:7.2f} s  {r['records_per_s'] / 1e3:8.1f} k "
                  f"records/s  peak RSS {r['peak_rss_mib']:6.0f} MiB", flush=True)
        for label, r in timings.items():
            if label.startswith("pgx"):
                base = timings["bcftools annotate -Oz1 (1 thread)" if label.endswith("-l 1")
                               else "bcftools annotate (1 thread)"]
                cmp = compare(r["output"], base["output"])
                r["comparison"] = cmp
                r["ratio_vs_bcftools_1_thread"] = base["median_s"] / r["median_s"]
                print(f"  ratio {label} vs {base['label']}: "
                      f"{r['ratio_vs_bcftools_1_thread']:.2f}x; outputs: {cmp['identical']:,} "
                      f"of {cmp['records']:,} records identical, the rest multi-allelic with "
                      f"more values ({cmp['multi_allelic_more_values']:,}) or IDs "
                      f"({cmp['multi_allelic_more_ids']:,}) than bcftools; "
                      f"{cmp['annotated']:,} records with an AF")
        for r in timings.values():
            r.pop("output")
            results["timings"].append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
