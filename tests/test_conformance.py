"""Conformance: PharmCAT's own star-allele test cases (../shared/oracle/conformance).

`pgx call` runs once in top-candidate mode (the default) and once with --all-candidates; each
case is scored in the mode its `top_only` column names (PharmCAT's tests use its `-ma` flag the
same way). The scorer is the conformance suite's own score.py. Per-gene concordance is printed.
"""
from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from conftest import PGX

EXCLUDED: dict[str, str] = {}  # case_id -> reason (none today)


def _run(args, env):
    proc = subprocess.run(PGX + args, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def _merged_calls(tmp_path, cases_file, vcfs, definitions, env):
    cases = {r["case_id"]: r for r in csv.DictReader(open(cases_file), delimiter="\t")}
    top, allc = tmp_path / "top", tmp_path / "all"
    _run(["call", "-q", "--definitions", str(definitions), "-o", str(top), *vcfs], env)
    _run(["call", "-q", "--all-candidates", "--definitions", str(definitions), "-o", str(allc),
          *vcfs], env)
    rows = []
    for mode, path in (("true", top / "calls.tsv"), ("false", allc / "calls.tsv")):
        for r in csv.DictReader(open(path), delimiter="\t"):
            c = cases.get(r["sample"])
            if c and c["gene"] == r["gene"] and c["top_only"].lower() == mode:
                rows.append(r)
    out = tmp_path / "merged.tsv"
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t")
        w.writeheader()
        w.writerows(rows)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("cases_name", ["cases_open.tsv", "cases_supplementary.tsv"])
def test_conformance_is_complete(shared, pharmcat_definitions, tmp_path, env, cases_name):
    conf = shared / "oracle" / "conformance"
    cases_file = conf / cases_name
    case_ids = [r["case_id"] for r in csv.DictReader(open(cases_file), delimiter="\t")]
    vcfs = sorted({str(conf / "vcf" / f"{c}.vcf") for c in case_ids if c not in EXCLUDED})
    merged = _merged_calls(tmp_path, cases_file, vcfs, pharmcat_definitions, env)
    report = subprocess.run([sys.executable, str(conf / "score.py"), str(cases_file), str(merged)],
                            capture_output=True, text=True, check=True).stdout
    print(f"\n{cases_name}\n{report}")
    for cid, why in EXCLUDED.items():
        print(f"excluded {cid}: {why}")
    overall = next(line for line in report.splitlines() if line.startswith("OVERALL"))
    passed, total = map(int, overall.split()[1:3])
    assert passed == total == len(case_ids) - len(EXCLUDED), report
