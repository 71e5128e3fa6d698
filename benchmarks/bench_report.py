"""Time rendering one patient's report (build + HTML + TSV + JSON, no PDF).

    .venv/bin/python benchmarks/bench_report.py [CALLS_JSON RECOMMENDATIONS_JSON]

Without arguments it makes DEMO002's inputs (with paroxetine) in a temporary directory.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pgx.recommend import read_calls  # noqa: E402
from pgx.report import build_report, read_recommendations, render_html, render_tsv  # noqa: E402


def main() -> None:
    if len(sys.argv) == 3:
        calls_path, recs_path = Path(sys.argv[1]), Path(sys.argv[2])
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
        demo = REPO / "resources" / "demo"
        pgx = [sys.executable, "-m", "pgx"]
        subprocess.run([*pgx, "call", "-q", "--outside-calls", demo / "DEMO002.outside_calls.tsv",
                        "-o", tmp / "OUT", demo / "DEMO002.vcf.gz"], check=True, cwd=REPO)
        subprocess.run([*pgx, "recommend", "-q", "--medications", "paroxetine", "-o",
                        tmp / "REC", tmp / "OUT" / "DEMO002.calls.json"], check=True, cwd=REPO)
        calls_path = tmp / "OUT" / "DEMO002.calls.json"
        recs_path = tmp / "REC" / "DEMO002.recommendations.json"
    t0 = time.perf_counter()
    calls, recs = read_calls(calls_path), read_recommendations(recs_path)
    t_read = time.perf_counter() - t0
    times = []
    for _ in range(20):
        t = time.perf_counter()
        doc = build_report(calls, recs)
        out = render_html(doc), render_tsv(doc), json.dumps(doc, indent=1)
        times.append(time.perf_counter() - t)
    print(f"{doc['sample']}: {len(doc['drugs'])} drug-guideline entries, {len(doc['genes'])} "
          f"genes; read+validate {t_read * 1000:.1f} ms (first, incl. schema load); render "
          f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
          f"(HTML {len(out[0]) // 1024} KiB)")


if __name__ == "__main__":
    main()
